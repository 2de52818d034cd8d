package ui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"citizenhome/kiosk"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/payment"
)

// maintRec records what the UI told telemetry.
type maintRec struct {
	mu    sync.Mutex
	calls []bool
}

func (m *maintRec) SetMaintenance(on bool) {
	m.mu.Lock()
	m.calls = append(m.calls, on)
	m.mu.Unlock()
}

func (m *maintRec) list() []bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.calls)
}

var staffUID = []byte{0x04, 0xA1, 0xB2, 0xC3}

func newStaffFixture(t *testing.T) (*fixture, *maintRec) {
	t.Helper()
	m := &maintRec{}
	f := newFixtureOpts(t, thursday, fixtureOptions{maint: m, edit: func(c *config.Config) { c.Staff.Cards = []string{"04A1B2C3"} }})
	return f, m
}

// tapCard places a card that is neither an ID card nor a city card on the UID reader, as the
// rig reports it: inserted (with its UID), then unreadable as a citizen's card.
func (f *fixture) tapCard(uid []byte) {
	f.k.CardInserted(kiosk.PresentCard{Kind: kiosk.CardUnknown, Reader: "UID reader", UID: uid})
	f.k.CardUnreadable(kiosk.CardUnknown, errors.New("not an ID card or a city card"))
}

// auditNames lists the audit rows as "name by", sorted.
func auditNames(t *testing.T, f *fixture) []string {
	t.Helper()
	rows, err := f.k.Staff(kiosk.LocalAPI).AuditLog(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r.Name+" "+r.By)
	}
	// The fixture's clock stands still: rows of one instant come in any order.
	slices.Sort(out)
	return out
}

// A staff card's UID, which anyone can copy to a blank card, does not open staff mode: it opens
// the PIN pad, and only the staff PIN lets its holder in.
func TestStaffCardAloneDoesNotEnterStaffMode(t *testing.T) {
	f, m := newStaffFixture(t)
	f.tapCard(staffUID)
	if f.ui.staff.on || len(m.list()) != 0 {
		t.Fatal("a staff card's UID alone opened staff mode")
	}
	f.mustShow(t, "工作人员卡已识别", "请输入工作人员密码：仅凭工作人员卡不能进入")
	f.mustNotShow(t, "工作人员模式")
	f.typeKeys(t, "135790")
	f.tapExact(t, "确认")
	if f.ui.staff.on {
		t.Fatal("a staff card with a wrong PIN opened staff mode")
	}
	f.mustShow(t, "工作人员卡已识别", "密码错误，还可尝试 4 次")
	// Taken off and tapped again, the card opens the pad again; the wrong PIN still counts.
	f.tapCard(staffUID)
	f.typeKeys(t, "246810")
	f.tapExact(t, "确认")
	f.mustShow(t, "工作人员模式", "已登录：工作人员卡")
	want := []string{"staff-login staff-card", "staff-login-failed staff-card"}
	if got := auditNames(t, f); !slices.Equal(got, want) {
		t.Errorf("audit %q, want %q", got, want)
	}
}

func TestStaffCardOnHomeEntersStaffMode(t *testing.T) {
	f, m := newStaffFixture(t)
	f.staffCard(t)
	f.mustShow(t, "工作人员模式", "已登录：工作人员卡", "操作记录（最近 20 条）", "登录  工作人员卡  成功")
	f.mustNotShow(t, "读卡失败")
	if !f.ui.staff.on || !slices.Equal(m.list(), []bool{true}) {
		t.Fatalf("staff mode %v, maintenance %v", f.ui.staff.on, m.list())
	}
	f.staffConfirm(t, "暂停服务")
	if locked, _ := f.k.Locked(); !locked || !f.ui.staff.on {
		t.Fatalf("lock by card: locked %v, staff %v", locked, f.ui.staff.on)
	}
	f.mustShow(t, "已暂停服务", "暂停服务  工作人员卡  成功")
	f.tap(t, "退出工作人员模式")
	// Back to the citizens' side, which is locked.
	f.mustShow(t, "暂停服务")
	if f.ui.staff.on || !slices.Equal(m.list(), []bool{true, false}) {
		t.Fatalf("after leaving: staff %v, maintenance %v", f.ui.staff.on, m.list())
	}
	// The staff card (and PIN) opens staff mode on the locked screen too: that is where it is needed.
	f.staffCard(t)
	f.mustShow(t, "工作人员模式")
	f.tap(t, "恢复服务")
	f.tap(t, "首页")
	want := []string{"staff-login staff-card", "staff-lock staff-card", "staff-logout staff-card",
		"staff-login staff-card", "staff-unlock staff-card", "staff-logout staff-card"}
	slices.Sort(want)
	if got := auditNames(t, f); !slices.Equal(got, want) {
		t.Errorf("audit %q, want %q", got, want)
	}
	if !slices.Equal(m.list(), []bool{true, false, true, false}) {
		t.Errorf("maintenance %v", m.list())
	}
}

func TestOtherCardsDoNotEnterStaffMode(t *testing.T) {
	f, m := newStaffFixture(t)
	f.tapCard([]byte{0xDE, 0xAD, 0xBE, 0xEF})
	f.mustShow(t, "读卡失败")
	if f.ui.staff.on || len(m.list()) != 0 {
		t.Fatal("a citizen's card opened staff mode")
	}
	// A staff card in the middle of a citizen's business does not take the screen from them.
	f.tap(t, "首页")
	f.tap(t, "办事指南")
	f.k.CardInserted(kiosk.PresentCard{Kind: kiosk.CardUnknown, Reader: "UID reader", UID: staffUID})
	if f.ui.staff.on {
		t.Fatal("staff card over a citizen's screen")
	}
	if got := auditNames(t, f); len(got) != 0 {
		t.Errorf("audit %q", got)
	}
}

func TestStaffActionsAuditedAndShown(t *testing.T) {
	f, m := newStaffFixture(t)
	for i := 0; i < StaffTaps; i++ {
		test.Tap(f.ui.hall)
	}
	f.typeKeys(t, "111111")
	f.tapExact(t, "确认")
	// A staff card tapped on the PIN pad would ask for the PIN too; here staff type on.
	f.typeKeys(t, "246810")
	f.tapExact(t, "确认")
	f.mustShow(t, "已登录：工作人员密码", "登录失败  工作人员密码  失败：wrong staff PIN", "登录  工作人员密码  成功",
		"最近设备异常", "无")
	f.tap(t, "打印测试页")
	f.tap(t, "已换纸")
	f.tap(t, "补打上一张号票")
	f.staffConfirm(t, "暂停服务")
	f.tap(t, "恢复服务")
	f.staffConfirm(t, "重置")
	f.mustShow(t, "已重置", "重置  工作人员密码  成功", "补打号票  工作人员密码  失败：")
	// A device problem while staff are there shows at once.
	f.k.SetDevice(kiosk.DevicePrinter, kiosk.StatePaperOut, "sensor")
	f.mustShow(t, "出票机  缺纸（sensor）")
	quit := false
	f.ui.quit = func() { quit = true }
	f.staffConfirm(t, "退出程序")
	if !quit {
		t.Fatal("quit not called")
	}
	want := []string{"staff-login-failed staff-pin", "staff-login staff-pin", "staff-selftest staff-pin",
		"staff-paper-replaced staff-pin", "staff-reprint staff-pin", "staff-lock staff-pin", "staff-unlock staff-pin",
		"staff-reset staff-pin", "staff-quit staff-pin"}
	slices.Sort(want)
	if got := auditNames(t, f); !slices.Equal(got, want) {
		t.Errorf("audit %q, want %q", got, want)
	}
	if !slices.Equal(m.list(), []bool{true, false}) {
		t.Errorf("maintenance %v", m.list())
	}
}

func TestStaffModeEndsAtIdleTimeout(t *testing.T) {
	f, m := newStaffFixture(t)
	f.staffCard(t)
	f.mustShow(t, "工作人员模式")
	f.staffConfirm(t, "重置") // ends the session the tap started; staff stay
	f.mustShow(t, "工作人员模式")
	// Longer than a citizen's timeout: staff stay.
	f.clock.Add(2 * time.Minute)
	f.k.Sessions().Tick()
	f.mustShow(t, "工作人员模式")
	if !f.ui.staff.on {
		t.Fatal("staff mode ended at a citizen's idle timeout")
	}
	// staff.idle_timeout (300s by default) from the last touch.
	f.clock.Add(3 * time.Minute)
	f.k.Sessions().Tick()
	f.mustShow(t, "您好，请选择要办理的业务")
	if f.ui.staff.on || !slices.Equal(m.list(), []bool{true, false}) {
		t.Fatalf("staff %v, maintenance %v", f.ui.staff.on, m.list())
	}
	want := []string{"staff-login staff-card", "staff-logout staff-card", "staff-reset staff-card"}
	if got := auditNames(t, f); !slices.Equal(got, want) {
		t.Errorf("audit %q, want %q", got, want)
	}
}

// After StaffMaxTries wrong PINs the pad says PIN entry is closed, with the time left counting
// down; a staff card does not get around it; once it ends, the pad warns that the next wrong PIN
// closes it again.
func TestStaffLockoutShownWithTimeLeft(t *testing.T) {
	f, _ := newStaffFixture(t)
	f.ui.staff.showLogin()
	for i := 0; i < kiosk.StaffMaxTries; i++ {
		f.typeKeys(t, "999999")
		f.tapExact(t, "确认")
	}
	f.mustShow(t, "错误次数过多，密码输入已锁定：30 秒后（10:00:30）可再试")
	f.clock.Add(10 * time.Second)
	f.ui.Tick()
	f.mustShow(t, "错误次数过多，密码输入已锁定：20 秒后（10:00:30）可再试")
	// The card and the right PIN: still closed.
	f.staffCardPIN(t, "246810")
	if f.ui.staff.on {
		t.Fatal("staff card and PIN opened staff mode during the lockout")
	}
	f.mustShow(t, "工作人员卡已识别", "20 秒后（10:00:30）可再试")
	f.clock.Add(20 * time.Second)
	f.ui.Tick()
	f.mustShow(t, "密码再输错一次即锁定，锁定时间加倍")
	f.mustNotShow(t, "可再试")
	f.typeKeys(t, "999999")
	f.tapExact(t, "确认")
	f.mustShow(t, "1 分 00 秒后（10:01:30）可再试")
	f.ui.setLanguage("en")
	f.mustShow(t, "PIN entry is closed for 1 min 00 s more (until 10:01:30)")
	f.clock.Add(15 * time.Second)
	f.ui.Tick() // counts down on the screen drawn in the new language
	f.mustShow(t, "PIN entry is closed for 45 s more (until 10:01:30)")
	f.ui.setLanguage("zh")
	f.clock.Add(45 * time.Second)
	f.staffCardPIN(t, "246810")
	f.mustShow(t, "工作人员模式", "已登录：工作人员卡")
}

// staffCard lets staff in as a staff member does: the staff card, then the staff PIN.
func (f *fixture) staffCard(t *testing.T) {
	t.Helper()
	f.staffCardPIN(t, "246810")
	f.mustShow(t, "工作人员模式", "已登录：工作人员卡")
}

// staffCardPIN taps the staff card and types pin on the PIN pad it opens.
func (f *fixture) staffCardPIN(t *testing.T, pin string) {
	t.Helper()
	f.tapCard(staffUID)
	f.mustShow(t, "工作人员卡已识别", "请输入工作人员密码")
	f.typeKeys(t, pin)
	f.tapExact(t, "确认")
}

// staffConfirm taps the staff action named action and confirms it in the dialog that names it.
func (f *fixture) staffConfirm(t *testing.T, action string) {
	t.Helper()
	f.tap(t, action)
	if !f.ui.dialogShown() {
		t.Fatalf("%s runs without asking; texts %q", action, f.texts())
	}
	f.mustShow(t, "确认"+action+"？")
	f.tapExact(t, "确认")
	if f.ui.dialogShown() {
		t.Fatalf("the dialog of %s stays after 确认", action)
	}
}

// textIndex is where the first text containing s comes on screen, in reading order; -1 if none.
func (f *fixture) textIndex(s string) int {
	return slices.IndexFunc(f.texts(), func(x string) bool { return strings.Contains(x, s) })
}

// A receipt the printer failed after the debit: the citizen is told staff reprint it; staff log
// in, see it first, reprint it (a jammed printer fails visibly and keeps it listed), and the
// list empties, the audit log naming the payment.
func TestStaffReprintsFailedReceipt(t *testing.T) {
	f, _ := newStaffFixture(t)
	k := withPayments(t, f, nil)
	payFromGuide(t, f)
	f.p.Set(printerOK, nil, errors.New("paper jam"))
	k.tapCity(t, f)
	const txn = "20261126000001"
	f.mustShow(t, "回执未能打印", txn, "工作人员补打回执")
	f.tap(t, "完成")

	f.staffCard(t)
	line := "10:00  居民身份证换领  ¥20.00\n卡号 " + cardMasked + "  流水号 " + txn
	f.mustShow(t, "工作人员模式", "今日待补打回执", line)
	f.noPersonalData(t, cardNo)
	if r, d := f.textIndex("今日待补打回执"), f.textIndex("打印测试页"); r < 0 || r > d {
		t.Errorf("the failed receipt is not shown first (%d, actions at %d): %q", r, d, f.texts())
	}
	f.tapExact(t, "补打回执") // the printer is still jammed
	f.mustShow(t, "操作失败", line, "补打回执  工作人员卡  失败：")
	if f.p.Printed() != 0 {
		t.Fatalf("%d jobs out of a jammed printer", f.p.Printed())
	}
	f.p.Set(printerOK, nil, nil)
	f.tapExact(t, "补打回执")
	f.mustShow(t, "已补打回执 "+txn, "补打回执  工作人员卡  成功  "+txn, "今日待补打回执")
	f.mustNotShow(t, line)
	if f.lookup("补打回执", true) != nil {
		t.Error("a reprint button is left")
	}
	if f.p.Printed() != 1 {
		t.Errorf("%d print jobs, want the receipt", f.p.Printed())
	}
	// With nothing due the section moves below the actions.
	if r, d := f.textIndex("今日待补打回执"), f.textIndex("打印测试页"); r < d {
		t.Errorf("an empty receipt list still comes first (%d, actions at %d)", r, d)
	}
	if e, err := f.pay.Entry(context.Background(), 1); err != nil || e.Receipt != payment.ReceiptPrinted {
		t.Errorf("journal after the reprint: %v %v", e, err)
	}
	want := []string{"staff-login staff-card", "staff-reprint-receipt staff-card", "staff-reprint-receipt staff-card"}
	if got := auditNames(t, f); !slices.Equal(got, want) {
		t.Errorf("audit %q, want %q", got, want)
	}
	f.ui.setLanguage("en")
	f.mustShow(t, "Receipts to reprint today", "receipt reprint  staff card  done  "+txn)
}

// Without payments on the kiosk the staff screen has no receipt section.
func TestStaffNoReceiptSectionWithoutPayments(t *testing.T) {
	f, _ := newStaffFixture(t)
	f.staffCard(t)
	f.mustShow(t, "工作人员模式")
	f.mustNotShow(t, "今日待补打回执")
}

// auditRow is the newest audit row named name.
func auditRow(t *testing.T, f *fixture, name string) kiosk.AuditEntry {
	t.Helper()
	rows, err := f.k.Staff(kiosk.LocalAPI).AuditLog(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no %s in the audit log", name)
	return kiosk.AuditEntry{}
}

// Lock, reset and quit each ask first, naming the action: 取消 does nothing (and writes nothing
// to the audit log), 确认 acts.
func TestStaffConfirmationsCancelDoesNothing(t *testing.T) {
	f, m := newStaffFixture(t)
	quit := false
	f.ui.quit = func() { quit = true }
	f.staffCard(t)
	f.mustShow(t, "工作人员模式")
	sid, _ := f.k.Sessions().Active()
	for _, tc := range []struct{ action, says string }{
		{"暂停服务", "自助机将暂停服务"},
		{"重置", "正在办理的市民信息将被清除"},
		{"退出程序", "程序将退出"},
	} {
		f.tap(t, tc.action)
		if !f.ui.dialogShown() {
			t.Fatalf("%s did not ask", tc.action)
		}
		f.mustShow(t, "确认"+tc.action+"？", tc.says, "取消")
		// The dialog's buttons are large.
		if s := f.button(t, "取消").(*Button).Size(); s.Height < DialogButton {
			t.Errorf("取消 is %v high", s.Height)
		}
		f.tapExact(t, "取消")
		if f.ui.dialogShown() {
			t.Fatalf("%s: the dialog stays after 取消", tc.action)
		}
	}
	if locked, _ := f.k.Locked(); locked || quit || !f.ui.staff.on {
		t.Fatalf("取消 acted: locked %v, quit %v, staff %v", locked, quit, f.ui.staff.on)
	}
	if id, _ := f.k.Sessions().Active(); id != sid {
		t.Error("取消 of 重置 ended the session")
	}
	if got := auditNames(t, f); !slices.Equal(got, []string{"staff-login staff-card"}) {
		t.Errorf("audit after cancelling: %q", got)
	}
	f.staffConfirm(t, "重置")
	if id, _ := f.k.Sessions().Active(); id == sid {
		t.Error("重置 confirmed kept the session")
	}
	f.staffConfirm(t, "暂停服务")
	if locked, _ := f.k.Locked(); !locked {
		t.Error("暂停服务 confirmed did not lock")
	}
	f.staffConfirm(t, "退出程序")
	if !quit {
		t.Error("退出程序 confirmed did not quit")
	}
	want := []string{"staff-lock staff-card", "staff-login staff-card", "staff-quit staff-card", "staff-reset staff-card"}
	if got := auditNames(t, f); !slices.Equal(got, want) {
		t.Errorf("audit %q, want %q", got, want)
	}
	if !slices.Equal(m.list(), []bool{true, false}) {
		t.Errorf("maintenance %v", m.list())
	}
}

// A lock message typed on site is what the locked screen shows, and what the audit log records.
func TestStaffLockMessageTyped(t *testing.T) {
	f, _ := newStaffFixture(t)
	f.staffCard(t)
	const msg = "出票机换纸，请稍候"
	test.Type(f.entry(t), msg)
	f.tap(t, "暂停服务")
	f.mustShow(t, "确认暂停服务？", msg)
	f.tapExact(t, "确认")
	if locked, shown := f.k.Locked(); !locked || shown != msg {
		t.Fatalf("locked %v with %q, want %q", locked, shown, msg)
	}
	if r := auditRow(t, f, kiosk.AuditStaffLock); !strings.Contains(r.Args, msg) || r.By != string(kiosk.StaffByCard) {
		t.Errorf("audit row %+v", r)
	}
	f.tap(t, "退出工作人员模式")
	f.mustShow(t, "暂停服务", msg)

	// Without a message typed, the hall's default is shown.
	f.staffCard(t)
	f.tap(t, "恢复服务")
	f.staffConfirm(t, "暂停服务")
	if _, shown := f.k.Locked(); shown != f.k.Config().Hall.LockedMessage {
		t.Errorf("lock without a message shows %q", shown)
	}
}

// typeCode types a ticket code on the staff screen's keypad and taps 补打此号.
func (f *fixture) reprintCode(t *testing.T, code string) {
	t.Helper()
	f.typeKeys(t, code)
	f.mustShow(t, code)
	f.tapExact(t, "补打此号")
}

func TestStaffReprintByNumber(t *testing.T) {
	f, _ := newStaffFixture(t)
	f.takeFirstTicket(t)
	first := f.ui.flow.ticket.Code
	f.tap(t, "完成")
	f.takeFirstTicket(t)
	f.tap(t, "完成")
	printed := f.p.Printed()

	f.staffCard(t)
	if f.enabled("补打此号") {
		t.Error("补打此号 enabled with no number typed")
	}
	// An earlier ticket than the last one.
	f.reprintCode(t, first)
	f.mustShow(t, "已补打 "+first, "补打号票  工作人员卡  成功")
	if f.p.Printed() != printed+1 {
		t.Fatalf("%d print jobs, want %d", f.p.Printed(), printed+1)
	}
	if r := auditRow(t, f, kiosk.AuditStaffReprint); !strings.Contains(r.Args, first) || !r.OK {
		t.Errorf("audit row %+v", r)
	}
	// A number not issued today.
	f.reprintCode(t, "A99")
	f.mustShow(t, "今天没有发出 A99 号票", "补打号票  工作人员卡  失败：")
	// The number stays to correct: 清空 clears it. Not a ticket number at all (no letter):
	f.tapExact(t, "清空")
	f.reprintCode(t, "012")
	f.mustShow(t, "号码格式不对：012")
	// ⌫ and 清空 edit the number.
	f.tapExact(t, "清空")
	f.typeKeys(t, "B7")
	f.tapExact(t, "⌫")
	f.mustShow(t, "B")
	f.mustNotShow(t, "B7")
	f.tapExact(t, "清空")
	if f.enabled("补打此号") {
		t.Error("补打此号 enabled after 清空")
	}
	if f.p.Printed() != printed+1 {
		t.Errorf("refused reprints printed: %d jobs", f.p.Printed())
	}

	// The next day, yesterday's ticket is no longer today's.
	f.tap(t, "退出工作人员模式")
	f.clock.Add(24 * time.Hour)
	f.staffCard(t)
	f.reprintCode(t, first)
	f.mustShow(t, "今天没有发出 "+first+" 号票")
	if f.p.Printed() != printed+1 {
		t.Errorf("yesterday's ticket printed: %d jobs", f.p.Printed())
	}
	f.ui.setLanguage("en")
	f.mustShow(t, "Reprint a ticket of today by its number", "Reprint this number")
}

// With staff.card_required the hidden gesture's PIN pad lets nobody in by the PIN alone, and says
// what is missing; the staff card and the PIN do.
func TestStaffCardRequiredRefusesPINAlone(t *testing.T) {
	f := newFixtureOpts(t, thursday, fixtureOptions{edit: func(c *config.Config) {
		c.Staff.Cards, c.Staff.CardRequired = []string{"04A1B2C3"}, true
	}})
	for i := 0; i < StaffTaps; i++ {
		test.Tap(f.ui.hall)
	}
	f.typeKeys(t, "246810")
	f.tapExact(t, "确认")
	if f.ui.staff.on {
		t.Fatal("the PIN alone opened staff mode where a card is required")
	}
	f.mustShow(t, "请先刷工作人员卡，再输入密码")
	f.staffCard(t)
}
