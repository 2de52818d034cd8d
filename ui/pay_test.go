package ui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/citycard/psamsim"
	"citizenhome/kiosk"
	"citizenhome/kiosk/civic"
	"citizenhome/kiosk/payment"
	"citizenhome/kiosk/payment/paymenttest"
	"citizenhome/kiosk/session"
)

// The sample city card (cardsim.Sample): its number, and its balance, 123.45 元.
const (
	cardNo      = "3104000012345678"
	cardMasked  = "3104********5678"
	cardBalance = 12345
)

// payKit is one-card payments set up on a fixture's core over the in-memory card and PSAM
// models (the core tests' fakes). onDebit, when set, runs once on the test goroutine just before
// the card gets DEBIT (the journal has written debit-sent): the moment the money is in flight.
type payKit struct {
	card *cardsim.Card
	psam *psamsim.PSAM
	term *paymenttest.Terminal

	mu      sync.Mutex
	onDebit func()
}

// Card implements payment.Terminal: the Fake's card, watched for DEBIT.
func (k *payKit) Card(ctx context.Context) (payment.Conn, error) {
	c, err := k.term.Card(ctx)
	if err != nil {
		return nil, err
	}
	return watchedConn{Conn: c, k: k}, nil
}

// PSAM implements payment.Terminal.
func (k *payKit) PSAM(ctx context.Context) (payment.Conn, error) { return k.term.PSAM(ctx) }

type watchedConn struct {
	payment.Conn
	k *payKit
}

func (c watchedConn) Transmit(apdu []byte) ([]byte, error) {
	if cardsim.Classify(apdu) == cardsim.CmdDebit {
		c.k.mu.Lock()
		f := c.k.onDebit
		c.k.onDebit = nil
		c.k.mu.Unlock()
		if f != nil {
			f()
		}
	}
	return c.Conn.Transmit(apdu)
}

// withPayments sets payments up on f's core with the sample card (edit changes it first) on
// the reader and the sample PSAM, and redraws home.
func withPayments(t *testing.T, f *fixture, edit func(*cardsim.Config)) *payKit {
	t.Helper()
	cfg := cardsim.Sample()
	if edit != nil {
		edit(&cfg)
	}
	card, err := cardsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	psam, err := psamsim.New(psamsim.Sample())
	if err != nil {
		t.Fatal(err)
	}
	key, err := civic.NewKey([]byte(strings.Repeat("p", civic.KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	k := &payKit{card: card, psam: psam, term: paymenttest.NewTerminal(card, psam)}
	pay, err := f.k.UsePayments(context.Background(), key, k, nil)
	if err != nil {
		t.Fatal(err)
	}
	// As cmd/kiosk hands them in when the rig started them.
	f.pay, f.ui.pay.svc = pay, pay
	f.ui.showHome()
	return k
}

// tapCity taps the card as the rig does: back on the reader, its unsettled payments settled on
// the tap (kiosk.CardTapped), then read into the session.
func (k *payKit) tapCity(t *testing.T, f *fixture) {
	t.Helper()
	k.term.SetCard(k.card)
	if _, err := f.pay.CardTapped(context.Background(), cardNo, k.card); err != nil {
		t.Fatalf("tap: %v", err)
	}
	info, err := citycard.Read(k.card)
	if err != nil {
		t.Fatal(err)
	}
	f.k.SetCityCard(&kiosk.CityCard{CardNo: info.CardNo, BalanceFen: info.BalanceFen})
}

// payMatter is the demo matter paid in these tests: 居民身份证换领, 20.00 元.
const (
	payMatter   = "zh-001"
	payMatterZh = "居民身份证换领"
	payFee      = 2000
)

// payFixture is a fixture on a Thursday with payments set up (withPayments; edit may be nil).
func payFixture(t *testing.T, edit func(*cardsim.Config)) (*fixture, *payKit) {
	t.Helper()
	f := newFixture(t, thursday)
	return f, withPayments(t, f, edit)
}

// payFromGuide goes home → 办事指南 → the matter's detail → 缴费 ¥20.00 → 确认缴费 ¥20.00,
// which pays at once when the session's card is on the reader and asks for a tap otherwise.
func payFromGuide(t *testing.T, f *fixture) {
	t.Helper()
	f.ui.showHome()
	f.tap(t, "办事指南")
	f.tap(t, payMatterZh)
	f.tapExact(t, "缴费 ¥20.00")
	f.mustShow(t, "请确认缴费", "¥20.00", payMatterZh)
	f.tapExact(t, "确认缴费 ¥20.00")
}

func TestPayFromGuideTapThenDone(t *testing.T) {
	f, k := payFixture(t, nil)
	payFromGuide(t, f)
	// No card read in this session yet: the tap is asked for, nothing is taken before it.
	f.mustShow(t, "请将市民卡放在读卡区", "缴费完成前请勿移开卡片")
	if k.card.Count(cardsim.CmdInitPurchase) != 0 {
		t.Fatal("the purchase started before the tap")
	}
	k.tapCity(t, f)
	f.mustShow(t, "缴费成功", "¥20.00", cardMasked, "¥103.45", "回执已打印")
	f.mustNotShow(t, "回执未能打印")
	f.noPersonalData(t, cardNo)
	if got := k.card.Balance(); got != cardBalance-payFee {
		t.Errorf("balance %d", got)
	}
	if f.p.Printed() != 1 {
		t.Errorf("%d print jobs, want the receipt", f.p.Printed())
	}
	f.tap(t, "完成")
	f.mustShow(t, "您好，请选择要办理的业务")
	if f.k.CityCard() != nil || f.ui.flow.pay.matter != nil {
		t.Error("the card or the payment outlived the session")
	}
	f.mustNotShow(t, cardMasked, "缴费成功")
}

// A matter without a fee has no pay button; one with a fee says how much.
func TestGuideDetailPayButtonOnlyWithFee(t *testing.T) {
	f, _ := payFixture(t, nil)
	var free string
	for _, m := range f.k.Catalog().All() {
		if m.Fee.Free {
			free = m.Name.Zh
			break
		}
	}
	f.tap(t, "办事指南")
	f.tapExact(t, "清空")
	f.tap(t, free)
	f.mustShow(t, "取号办理此事项")
	f.mustNotShow(t, "缴费 ¥")
	f.ui.showGuide()
	f.tap(t, payMatterZh)
	if !f.enabled("缴费 ¥20.00") {
		t.Fatalf("no pay button: %q", f.texts())
	}
}

func TestPayFromCityCardScreenWithCardRead(t *testing.T) {
	f, k := payFixture(t, nil)
	k.tapCity(t, f) // the card read first: the one-card screen shows it
	f.tap(t, "一卡通")
	f.mustShow(t, cardMasked, "¥123.45")
	f.tap(t, "一卡通缴费")
	// Every matter with a fee, and none without.
	for _, m := range f.k.Catalog().All() {
		if m.Fee.Free {
			f.mustNotShow(t, m.Name.Zh+"  ·")
		} else {
			f.mustShow(t, m.Name.Zh+"  ·  "+yuan(m.Fee.AmountFen))
		}
	}
	f.tap(t, "普通护照签发  ·  ¥120.00")
	f.mustShow(t, "请确认缴费", "¥120.00", cardMasked, "¥123.45")
	f.tapExact(t, "确认缴费 ¥120.00")
	// The card was read in this session and is still on the reader: paid at once.
	f.mustShow(t, "缴费成功", "¥120.00", "¥3.45", "回执已打印")
	// The one-card screen is up to date with it.
	f.ui.showCityCard()
	f.mustShow(t, "¥3.45", "¥120.00")
}

func TestPayInsufficientBalanceShowsBalance(t *testing.T) {
	f, k := payFixture(t, func(c *cardsim.Config) { c.BalanceFen = 1050 })
	payFromGuide(t, f)
	k.tapCity(t, f)
	f.mustShow(t, "卡内余额不足", "未扣款", "请充值", "¥10.50", "¥20.00")
	if k.card.Balance() != 1050 || f.p.Printed() != 0 {
		t.Errorf("balance %d, %d prints", k.card.Balance(), f.p.Printed())
	}
	f.tap(t, "完成")
	f.mustShow(t, "您好，请选择要办理的业务")
}

func TestPayLockedCard(t *testing.T) {
	f, k := payFixture(t, func(c *cardsim.Config) { c.Locked = true })
	payFromGuide(t, f)
	// A locked card reads no public data: the rig would say unreadable; the tap prompt's own
	// button pays with the card on the reader.
	f.tapExact(t, "卡片已放好，开始缴费")
	f.mustShow(t, "此卡暂不能缴费", "此卡已锁定", "市民卡服务网点")
	if k.card.Balance() != cardBalance || f.p.Printed() != 0 {
		t.Error("charged or printed")
	}
}

func TestPayNoCardOnReaderAsksForIt(t *testing.T) {
	f, k := payFixture(t, nil)
	payFromGuide(t, f)
	k.term.SetCard(nil)
	f.tapExact(t, "卡片已放好，开始缴费")
	f.mustShow(t, "请将市民卡放在读卡区", "未检测到市民卡")
	k.tapCity(t, f)
	f.mustShow(t, "缴费成功")
}

// The card taken away before DEBIT went out: nothing taken; putting it back pays.
func TestPayCardLeftBeforeDebit(t *testing.T) {
	f, k := payFixture(t, nil)
	payFromGuide(t, f)
	k.card.Inject(cardsim.Fault{On: cardsim.CmdInitPurchase, Leave: true})
	k.tapCity(t, f)
	f.mustShow(t, "缴费未成功", "卡片已移开，未扣款", "请将市民卡放在读卡区", "重新缴费")
	if k.card.Balance() != cardBalance {
		t.Fatal("charged")
	}
	k.tapCity(t, f)
	f.mustShow(t, "缴费成功", "¥103.45")
	if k.card.Balance() != cardBalance-payFee || k.card.Count(cardsim.CmdDebit) != 1 {
		t.Errorf("balance %d, %d DEBITs", k.card.Balance(), k.card.Count(cardsim.CmdDebit))
	}
}

// The card pulled during DEBIT, which it carried out: the kiosk cannot know until the card
// comes back; then it finishes the payment (receipt) and never charges twice.
func TestPayCardPulledMidDebitTakenThenBack(t *testing.T) {
	f, k := payFixture(t, nil)
	payFromGuide(t, f)
	k.card.Inject(cardsim.Fault{On: cardsim.CmdDebit, Leave: true, After: true})
	k.tapCity(t, f)
	f.mustShow(t, "请把卡片放回读卡区", "正在确认是否已扣款", "不会重复扣款")
	f.mustNotShow(t, "首页") // Back, Home: none; the card is what settles it
	if f.p.Printed() != 0 {
		t.Fatal("a receipt before the outcome is known")
	}
	k.tapCity(t, f)
	f.mustShow(t, "缴费成功", "¥20.00", "已确认扣款", "回执已打印", "¥103.45")
	if k.card.Balance() != cardBalance-payFee || k.card.Count(cardsim.CmdDebit) != 1 || f.p.Printed() != 1 {
		t.Errorf("balance %d, %d DEBITs, %d receipts", k.card.Balance(), k.card.Count(cardsim.CmdDebit), f.p.Printed())
	}
}

// The card pulled during DEBIT, which it never got: cancelled on its return; paying again
// takes the fee once.
func TestPayCardPulledMidDebitNotTaken(t *testing.T) {
	f, k := payFixture(t, nil)
	payFromGuide(t, f)
	k.card.Inject(cardsim.Fault{On: cardsim.CmdDebit, Leave: true})
	k.tapCity(t, f)
	f.mustShow(t, "请把卡片放回读卡区")
	k.tapCity(t, f)
	f.mustShow(t, "未扣款", "已取消")
	if k.card.Balance() != cardBalance || f.p.Printed() != 0 {
		t.Fatalf("balance %d, %d receipts", k.card.Balance(), f.p.Printed())
	}
	f.tapExact(t, "重新缴费")
	f.mustShow(t, "缴费成功")
	if k.card.Balance() != cardBalance-payFee {
		t.Errorf("balance %d", k.card.Balance())
	}
}

// The debit in flight: no idle end however long, no staff screen, no way off the paying
// screen; and a session wiped meanwhile (the card pulled with removal ending it) still gets the
// outcome shown.
func TestPayingHoldsTheScreenAndTheSession(t *testing.T) {
	f, k := payFixture(t, nil)
	payFromGuide(t, f)
	ran := false
	k.onDebit = func() {
		ran = true
		f.mustShow(t, "正在缴费", "缴费完成前请勿移开卡片")
		f.mustNotShow(t, "首页", "返回")
		f.clock.Add(10 * time.Minute)
		f.k.Sessions().Tick()
		if _, ok := f.k.Sessions().Active(); !ok || f.ui.idleShown() {
			t.Error("the idle timeout cut the debit")
		}
		for range StaffTaps {
			test.Tap(f.ui.hall)
		}
		f.k.CardUnreadable(kiosk.CardCity, errors.New("read during the debit"))
		f.mustShow(t, "正在缴费")
		f.mustNotShow(t, "工作人员登录", "读卡失败")
	}
	k.tapCity(t, f)
	if !ran {
		t.Fatal("no DEBIT")
	}
	f.mustShow(t, "缴费成功")
	// Now idle works again.
	f.clock.Add(10 * time.Minute)
	f.k.Sessions().Tick()
	f.mustShow(t, "您好，请选择要办理的业务")
	f.mustNotShow(t, cardMasked)

	// The card leaves during DEBIT (carried out) and removal ends the session.
	payFromGuide(t, f)
	k.card.Inject(cardsim.Fault{On: cardsim.CmdDebit, Leave: true, After: true})
	k.onDebit = func() { f.k.Sessions().End(session.CardLeft) }
	k.tapCity(t, f)
	f.mustShow(t, "请把卡片放回读卡区")
	k.tapCity(t, f)
	f.mustShow(t, "缴费成功", "已确认扣款")
	if k.card.Balance() != cardBalance-2*payFee {
		t.Errorf("balance %d", k.card.Balance())
	}
}

// The same fee again within minutes: nothing taken until the citizen confirms a second payment.
func TestPayAlreadyPaidThenPayAgain(t *testing.T) {
	f, k := payFixture(t, nil)
	payFromGuide(t, f)
	k.tapCity(t, f)
	f.mustShow(t, "缴费成功")
	f.tap(t, "完成")

	payFromGuide(t, f)
	k.tapCity(t, f)
	f.mustShow(t, "此事项已缴费", "未重复扣款", "还要再缴一次吗", "上次缴费：¥20.00，10:00")
	if k.card.Balance() != cardBalance-payFee || f.p.Printed() != 1 {
		t.Fatalf("balance %d, %d receipts", k.card.Balance(), f.p.Printed())
	}
	f.tapExact(t, "再次缴费 ¥20.00")
	f.mustShow(t, "缴费成功", "¥83.45")
	if k.card.Balance() != cardBalance-2*payFee || f.p.Printed() != 2 {
		t.Errorf("balance %d, %d receipts", k.card.Balance(), f.p.Printed())
	}
	f.tap(t, "完成")

	payFromGuide(t, f)
	k.tapCity(t, f)
	f.tapExact(t, "不用了")
	f.mustShow(t, "您好，请选择要办理的业务")
	if k.card.Balance() != cardBalance-2*payFee {
		t.Errorf("balance %d", k.card.Balance())
	}
}

// An earlier payment that the card cannot settle (used elsewhere since it was torn): refused,
// nothing taken, the citizen told to tap again or ask staff; the payments pause for staff.
func TestPayPendingEarlierPayment(t *testing.T) {
	f, k := payFixture(t, nil)
	payFromGuide(t, f)
	k.card.Inject(cardsim.Fault{On: cardsim.CmdDebit, Leave: true})
	k.tapCity(t, f)
	f.mustShow(t, "请把卡片放回读卡区")
	f.k.Sessions().End(session.Idle) // the citizen walked away
	// A bus ride elsewhere before the card comes back.
	k.card.Reinsert()
	other, err := psamsim.New(func() psamsim.Config { c := psamsim.Sample(); c.Terminal = "475000009999"; return c }())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := citycard.NewPurchase(citycard.NewSession(k.card), citycard.NewPSAM(other), 200).Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	payFromGuide(t, f)
	f.tapExact(t, "卡片已放好，开始缴费")
	f.mustShow(t, "有一笔缴费尚待确认", "未扣款", "重新放到读卡区", "联系工作人员")
	if k.card.Balance() != cardBalance-200 || f.p.Printed() != 0 {
		t.Errorf("balance %d, %d receipts", k.card.Balance(), f.p.Printed())
	}
	// The undecided payment pauses payments on this kiosk (the payment device in error).
	f.tap(t, "完成")
	f.tap(t, "一卡通")
	f.mustShow(t, "一卡通缴费\n一卡通缴费暂停")
	if f.enabled("一卡通缴费") {
		t.Error("payments still offered")
	}
}

func TestPayReceiptNotPrinted(t *testing.T) {
	f, k := payFixture(t, nil)
	payFromGuide(t, f)
	f.p.Set(printerOK, nil, errors.New("paper jam"))
	k.tapCity(t, f)
	uns, _ := journal(t, f).ReceiptsDue(context.Background())
	if len(uns) != 0 {
		t.Fatalf("receipt left undone: %v", uns)
	}
	f.mustShow(t, "缴费成功", "回执未能打印", "20261126000001", "工作人员补打回执", "不会重复扣款")
	f.mustNotShow(t, "回执已打印")
}

// Without payments set up (no PSAM), the pay buttons are shown disabled with the reason, and
// the flow cannot be entered; likewise with the printer out of paper.
func TestPayUnavailable(t *testing.T) {
	f := newFixture(t, thursday)
	f.tap(t, "办事指南")
	f.tap(t, payMatterZh)
	f.mustShow(t, "缴费 ¥20.00\n本机未开通一卡通缴费")
	if f.enabled("缴费 ¥20.00") {
		t.Fatal("pay offered without payments")
	}
	f.ui.showCityCard()
	f.mustShow(t, "一卡通缴费\n本机未开通一卡通缴费")
	if f.enabled("一卡通缴费") {
		t.Fatal("pay offered without payments")
	}
	f.ui.pay.showConfirm(f.k.Catalog().Matter(payMatter), nil)
	f.mustShow(t, "本机未开通一卡通缴费")
	f.mustNotShow(t, "确认缴费")
	f.ui.pay.showChoose()
	f.mustNotShow(t, payMatterZh)

	k := withPayments(t, f, nil)
	f.k.SetDevice(kiosk.DevicePrinter, kiosk.StatePaperOut, "")
	f.ui.showCityCard()
	f.mustShow(t, "一卡通缴费\n出票机缺纸，无法打印回执")
	if f.enabled("一卡通缴费") {
		t.Fatal("pay offered with the printer out of paper")
	}
	f.k.SetDevice(kiosk.DevicePrinter, kiosk.StateOK, "")
	f.ui.showCityCard()
	f.tap(t, "一卡通缴费")
	f.mustShow(t, payMatterZh)
	if k.card.Count(cardsim.CmdInitPurchase) != 0 {
		t.Error("a purchase started")
	}
}

func TestPayInEnglishAndElderMode(t *testing.T) {
	f, k := payFixture(t, nil)
	f.tap(t, "大字模式")
	f.tap(t, "English")
	f.tap(t, "City card")
	f.tap(t, "Pay by city card")
	f.tap(t, "Renewal of resident identity card  ·  ¥20.00")
	f.mustShow(t, "Confirm your payment", "Amount due", "¥20.00")
	f.tapExact(t, "Pay ¥20.00 now")
	f.mustShow(t, "Place your city card on the reader")
	k.tapCity(t, f)
	f.mustShow(t, "Payment done", "Balance now", "¥103.45", cardMasked, "Your receipt is printed")
	f.mustNotShow(t, "缴费")
	if !f.ui.theme.Large {
		t.Error("elder mode lost")
	}
	f.tap(t, "Done")
	f.mustShow(t, "您好，请选择要办理的业务")
}

// Every device name the core reports, and every state, has its text in both languages: the
// staff screen shows u.t("device."+name), and a key missing would show the key itself.
func TestDeviceNamesTranslated(t *testing.T) {
	f, _ := payFixture(t, nil)
	f.k.SetDevice(kiosk.DeviceIDReader, kiosk.StateOK, "")
	f.k.SetDevice(kiosk.DeviceCardReader, kiosk.StateOK, "")
	names := map[string]bool{kiosk.DevicePrinter: true, kiosk.DeviceIDReader: true, kiosk.DeviceCardReader: true, kiosk.DevicePayment: true}
	for n := range f.k.Devices() {
		names[n] = true
	}
	if !names[kiosk.DevicePayment] || len(f.k.Devices()) < 4 {
		t.Fatalf("devices reported: %v", f.k.Devices())
	}
	states := []kiosk.DeviceState{kiosk.StateOK, kiosk.StatePaperLow, kiosk.StatePaperOut, kiosk.StateCoverOpen,
		kiosk.StateError, kiosk.StateOffline, kiosk.StateAbsent}
	for _, lang := range Languages {
		for n := range names {
			if !f.ui.text.has(lang, "device."+n) {
				t.Errorf("%s lacks device.%s", lang, n)
			}
		}
		for _, s := range states {
			if !f.ui.text.has(lang, "device."+string(s)) {
				t.Errorf("%s lacks device.%s", lang, s)
			}
		}
	}
	f.ui.staff.enter(f.staffByPIN(t))
	f.mustShow(t, "支付")
	f.mustNotShow(t, "device.")
	f.ui.setLanguage("en")
	f.mustShow(t, "Payments")
	f.mustNotShow(t, "device.")
}

// Every key the screens look up by a literal has its text in both languages (a missing one
// would show the key itself on screen).
func TestTranslationKeysInCodeExist(t *testing.T) {
	tx, err := loadTexts()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`\bu\.tf?\("([^"]+)"[,)]`)
	n := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			n++
			for _, lang := range Languages {
				if !tx.has(lang, m[1]) {
					t.Errorf("%s: %s lacks %q", name, lang, m[1])
				}
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d keys found: the pattern no longer matches the code", n)
	}
}

// journal reads the kiosk's payment journal through one of its own over the store (it hashes no
// card: it only reads).
func journal(t *testing.T, f *fixture) *payment.Journal {
	t.Helper()
	j, err := payment.New(payment.Options{Store: f.st, Hash: func(string) []byte { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	return j
}
