package ui

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"citizenhome/devices/escpos"
	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/civic"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/kiosktest"
	"citizenhome/kiosk/payment"
	"citizenhome/kiosk/store"
)

var (
	printerOK       = kiosktest.Ready
	printerPaperOut = escpos.Status{Have: 0x0F, Raw: [4]byte{0x1A, 0x32, 0x12, 0x7E}, PaperEnd: true}
)

type fixture struct {
	ui    *UI
	k     *kiosk.Kiosk
	st    *store.Store
	win   fyne.Window
	clock *kiosktest.Clock
	p     *kiosktest.Printer
	hall  *kiosk.HallServices // withHall
	pay   *kiosk.Payments     // withPayments
}

// staffByPIN logs staff in with the fixture's PIN, as the PIN pad does, and gives their handle.
func (f *fixture) staffByPIN(t *testing.T) *kiosk.StaffHandle {
	t.Helper()
	h, err := f.k.StaffLogin().PIN("246810")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// hallCmd is the staff handle of a hall command, for a test that acts as the hall would (a lock
// from the control room).
func (f *fixture) hallCmd() *kiosk.StaffHandle { return f.k.Staff(kiosk.Remote("test-ops")) }

func newFixture(t *testing.T, at time.Time) *fixture {
	t.Helper()
	return newFixtureOpts(t, at, fixtureOptions{})
}

func newFixtureWith(t *testing.T, at time.Time, th *Theme) *fixture {
	t.Helper()
	return newFixtureOpts(t, at, fixtureOptions{theme: th})
}

type fixtureOptions struct {
	theme *Theme
	edit  func(*config.Config)
	maint Maintenance
	voice Voice
}

func newFixtureOpts(t *testing.T, at time.Time, o fixtureOptions) *fixture {
	t.Helper()
	test.NewTempApp(t)
	cfg := config.Default()
	cfg.Kiosk.Store = filepath.Join(t.TempDir(), "k.db")
	cfg.Staff.PINHash = testPINHash
	if o.edit != nil {
		o.edit(&cfg)
	}
	st, err := store.Open(cfg.Kiosk.Store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &catalog.Holder{}
	h.Replace(catalog.Demo())
	c := kiosktest.NewClock(at)
	p := kiosktest.NewPrinter(printerOK)
	k, err := kiosk.New(context.Background(), kiosk.Options{Config: cfg, Store: st, Catalog: h, Printer: p, Now: c.Now, Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	w := test.NewWindow(nil)
	w.Resize(fyne.NewSize(1080, 1920))
	t.Cleanup(w.Close)
	// As cmd/kiosk wires a kiosk without hall services and payments; withHall and withPayments
	// hand them in.
	u, err := New(w, k, Options{Sync: true, Theme: o.theme, Maintenance: o.maint,
		Staff: k.StaffLogin(), Hall: kiosk.NoHall{}, Payments: kiosk.NoPayments{}, Voice: o.voice})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{ui: u, k: k, st: st, win: w, clock: c, p: p}
}

// testPINHash is the hash of the staff PIN 246810 (hashed once: PBKDF2 is slow on purpose).
var testPINHash = func() string {
	h, err := config.HashPIN("246810")
	if err != nil {
		panic(err)
	}
	return h
}()

var thursday = time.Date(2026, 11, 26, 10, 0, 0, 0, mustZone("Asia/Shanghai"))

func mustZone(n string) *time.Location {
	l, err := time.LoadLocation(n)
	if err != nil {
		panic(err)
	}
	return l
}

// visit calls fn for every visible object on screen, depth first, the window's content then
// its overlays (popups), or the overlays first when overlaysFirst; fn returning false ends the
// walk.
func (f *fixture) visit(overlaysFirst bool, fn func(o fyne.CanvasObject) bool) {
	done := false
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if done || o == nil || !o.Visible() {
			return
		}
		if !fn(o) {
			done = true
			return
		}
		switch w := o.(type) {
		case *fyne.Container:
			for _, c := range w.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(w).Objects() {
				walk(c)
			}
		}
	}
	overlays := func() {
		for _, o := range f.win.Canvas().Overlays().List() {
			walk(o)
		}
	}
	if overlaysFirst {
		overlays()
	}
	walk(f.win.Canvas().Content())
	if !overlaysFirst {
		overlays()
	}
}

// texts lists every text on screen: labels, buttons, canvas texts, in popups too.
func (f *fixture) texts() []string {
	var out []string
	f.visit(false, func(o fyne.CanvasObject) bool {
		switch w := o.(type) {
		case *widget.Label:
			out = append(out, w.Text)
		case *widget.Button:
			out = append(out, w.Text)
		case *Button:
			out = append(out, w.Text)
		case *Tile:
			out = append(out, w.Text)
			if w.Note != "" {
				out = append(out, w.Note)
			}
		case *canvas.Text:
			out = append(out, w.Text)
		}
		return true
	})
	return out
}

func (f *fixture) shows(s string) bool {
	for _, t := range f.texts() {
		if strings.Contains(t, s) {
			return true
		}
	}
	return false
}

// button finds an enabled button whose text contains s.
func (f *fixture) button(t *testing.T, s string) fyne.Tappable {
	t.Helper()
	return f.find(t, s, false)
}

// enabled reports whether an enabled button whose text is exactly s is on screen.
func (f *fixture) enabled(s string) bool { return f.lookup(s, true) != nil }

// tapExact taps the enabled button whose text is exactly s.
func (f *fixture) tapExact(t *testing.T, s string) {
	t.Helper()
	test.Tap(f.find(t, s, true))
}

// typeKeys taps the keypad's keys for each character of s in turn.
func (f *fixture) typeKeys(t *testing.T, s string) {
	t.Helper()
	for _, k := range s {
		f.tapExact(t, string(k))
	}
}

// takeFirstTicket goes 取号 → the first section offered → its first matter → 确认取号, and
// returns that section's offer.
func (f *fixture) takeFirstTicket(t *testing.T) kiosk.SectionOffer {
	t.Helper()
	f.tap(t, "取号")
	sec := f.k.Offer().Sections[0]
	f.tap(t, sec.Section.Name.Zh)
	f.tap(t, sec.Matters[0].Name.Zh)
	f.tap(t, "确认取号")
	return sec
}

func (f *fixture) find(t *testing.T, s string, exact bool) fyne.Tappable {
	t.Helper()
	b := f.lookup(s, exact)
	if b == nil {
		t.Fatalf("no enabled button %q on screen; texts: %q", s, f.texts())
	}
	return b
}

func (f *fixture) lookup(s string, exact bool) fyne.Tappable {
	var found fyne.Tappable
	match := func(text string) bool { return text == s || !exact && strings.Contains(text, s) }
	f.visit(true, func(o fyne.CanvasObject) bool {
		if b, ok := o.(*widget.Button); ok && match(b.Text) && !b.Disabled() {
			found = b
		}
		if b, ok := o.(*Button); ok && match(b.Text) && !b.Disabled() {
			found = b
		}
		if b, ok := o.(*Tile); ok && match(b.Text) && !b.Disabled() {
			found = b
		}
		return found == nil
	})
	return found
}

// styledButton is the kiosk-styled button (not a tile) whose text is exactly s, enabled or not;
// nil when there is none.
func (f *fixture) styledButton(s string) *Button {
	var found *Button
	f.visit(true, func(o fyne.CanvasObject) bool {
		if b, ok := o.(*Button); ok && b.Text == s {
			found = b
		}
		return found == nil
	})
	return found
}

func (f *fixture) tap(t *testing.T, s string) {
	t.Helper()
	test.Tap(f.button(t, s))
}

func TestHomeScreen(t *testing.T) {
	f := newFixture(t, thursday)
	for _, s := range []string{"您好，请选择要办理的业务", "取号", "一卡通", "开封", "演示"} {
		if s == "开封" {
			continue // the default hall name is generic
		}
		if !f.shows(s) {
			t.Errorf("home does not show %q; texts %q", s, f.texts())
		}
	}
	if !f.shows("2026-11-26 10:00") {
		t.Errorf("clock not shown: %q", f.texts())
	}
}

func TestTakeTicketFlow(t *testing.T) {
	f := newFixture(t, thursday)
	f.tap(t, "取号")
	if !f.shows("请选择办事区域") {
		t.Fatalf("sections not shown: %q", f.texts())
	}
	sec := f.k.Offer().Sections[0]
	f.tap(t, sec.Section.Name.Zh)
	m := sec.Matters[0]
	f.tap(t, m.Name.Zh)
	if !f.shows("请确认取号") || !f.shows("前面等候 0 人") {
		t.Fatalf("confirm screen: %q", f.texts())
	}
	f.tap(t, "确认取号")
	code := m.Queue + "001"
	if !f.shows("取号成功") || !f.shows(code) || !f.shows("请取走号票") {
		t.Fatalf("done screen: %q", f.texts())
	}
	if f.p.Printed() != 1 {
		t.Errorf("%d print jobs", f.p.Printed())
	}
	f.tap(t, "完成")
	if !f.shows("您好，请选择要办理的业务") {
		t.Errorf("not back home: %q", f.texts())
	}
	if _, ok := f.k.Sessions().Active(); ok {
		t.Error("session still active after 完成")
	}
}

func TestClosedScreenSaysWhenOpen(t *testing.T) {
	f := newFixture(t, time.Date(2026, 11, 26, 19, 0, 0, 0, thursday.Location()))
	f.tap(t, "取号")
	if !f.shows("现在不在服务时间") || !f.shows("今天的服务已经结束") || !f.shows("2026-11-27 08:30") {
		t.Errorf("closed screen: %q", f.texts())
	}
}

func TestPrinterOutOfPaperScreen(t *testing.T) {
	f := newFixture(t, thursday)
	f.p.Set(printerPaperOut, nil, nil)
	f.takeFirstTicket(t)
	if !f.shows("暂时无法办理") || !f.shows("缺纸") || !f.shows("其他自助机") {
		t.Errorf("paper-out screen: %q", f.texts())
	}
}

func TestIdleWarningThenHomeAndWipe(t *testing.T) {
	f := newFixture(t, thursday)
	f.k.SetPerson(&kiosk.Person{Name: "张三丰", Number: "410102195001011234", Birth: time.Date(1950, 1, 1, 0, 0, 0, 0, thursday.Location())})
	f.ui.showHome()
	if !f.shows("您好，张*丰") {
		t.Fatalf("masked greeting missing: %q", f.texts())
	}
	for _, s := range f.texts() {
		if strings.Contains(s, "张三丰") || strings.Contains(s, "410102195001011234") {
			t.Fatalf("unmasked personal data on screen: %q", s)
		}
	}
	f.tap(t, "取号")
	f.clock.Add(51 * time.Second)
	f.k.Sessions().Tick()
	if !f.ui.idleShown() || !f.shows("您还在吗") {
		t.Fatalf("no idle warning: %q", f.texts())
	}
	f.tap(t, "继续办理")
	if f.ui.idleShown() {
		t.Fatal("warning stays after 继续办理")
	}
	f.clock.Add(61 * time.Second)
	f.k.Sessions().Tick()
	if f.k.Person() != nil {
		t.Error("person kept after idle end")
	}
	if !f.shows("您好，请选择要办理的业务") || f.shows("张*丰") {
		t.Errorf("after idle end: %q", f.texts())
	}
}

func TestLanguageSwitch(t *testing.T) {
	f := newFixture(t, thursday)
	f.tap(t, "English")
	if !f.shows("Take a ticket") || !f.shows("Welcome") {
		t.Fatalf("English home: %q", f.texts())
	}
	f.tap(t, "Take a ticket")
	if !f.shows("Choose a hall section") {
		t.Fatalf("English sections: %q", f.texts())
	}
	f.tap(t, "中文")
	if !f.shows("请选择办事区域") {
		t.Errorf("back to Chinese on the same screen: %q", f.texts())
	}
}

func TestLockedScreen(t *testing.T) {
	f := newFixture(t, thursday)
	f.hallCmd().Lock(context.Background(), "设备维护中")
	if !f.shows("暂停服务") || !f.shows("设备维护中") {
		t.Fatalf("locked: %q", f.texts())
	}
	f.hallCmd().Unlock(context.Background())
	if !f.shows("取号") {
		t.Errorf("unlocked: %q", f.texts())
	}
}

func TestTranslationsComplete(t *testing.T) {
	tx, err := loadTexts()
	if err != nil {
		t.Fatal(err)
	}
	for k := range tx["zh"] {
		if _, ok := tx["en"][k]; !ok {
			t.Errorf("en lacks %q", k)
		}
	}
	for k := range tx["en"] {
		if _, ok := tx["zh"][k]; !ok {
			t.Errorf("zh lacks %q", k)
		}
	}
}

func TestGuideSearchByInitialsAndDetail(t *testing.T) {
	f := newFixture(t, thursday)
	f.tap(t, "办事指南")
	// Every matter is listed by section before anything is typed.
	if !f.shows("综合窗口") || !f.shows(f.k.Catalog().All()[0].Name.Zh) {
		t.Fatalf("guide start: %q", f.texts())
	}
	var target *catalog.Matter
	for _, m := range f.k.Catalog().All() {
		if strings.HasPrefix(m.Initials, "JMSFZ") {
			target = m
			break
		}
	}
	if target == nil {
		t.Fatal("demo catalog has no 居民身份证 matter")
	}
	for _, k := range "JMSFZ" {
		f.tap(t, string(k))
	}
	if !f.shows("已输入：JMSFZ") || !f.shows(target.Name.Zh) {
		t.Fatalf("after typing JMSFZ: %q", f.texts())
	}
	f.tap(t, "⌫")
	if !f.shows("已输入：JMSF") {
		t.Errorf("backspace: %q", f.texts())
	}
	f.tap(t, target.Name.Zh)
	// The legal basis is folded (issue 16): its text shows once opened; the handling is shown
	// as the time it takes (办结时间), not as its type.
	f.tap(t, "设定依据")
	for _, want := range []string{"设定依据", "办理条件", "申请材料", "办理流程", "法定期限", "办结时间", "收费标准",
		target.Basis[0].Zh, target.Steps[0].Zh, target.Department.Zh, target.HandlingTime().Zh} {
		if !f.shows(want) {
			t.Errorf("detail lacks %q", want)
		}
	}
	f.tap(t, "取号办理此事项")
	if !f.shows("请确认取号") || !f.shows(target.Name.Zh) {
		t.Fatalf("take from guide: %q", f.texts())
	}
}

func TestGuideTopicAndNothingFound(t *testing.T) {
	f := newFixture(t, thursday)
	f.tap(t, "办事指南")
	f.tapExact(t, "护照")
	if !f.shows("已输入：护照") || !f.shows("护照") {
		t.Fatalf("topic: %q", f.texts())
	}
	f.tap(t, "清空")
	for _, k := range "QQQ" {
		f.tap(t, string(k))
	}
	if !f.shows("没有找到相关事项") {
		t.Errorf("nothing found: %q", f.texts())
	}
}

func TestPrinterDownShowsTicketUnavailable(t *testing.T) {
	f := newFixture(t, thursday)
	f.k.SetDevice(kiosk.DevicePrinter, kiosk.StatePaperOut, "")
	if !f.shows("暂不可用：出票机缺纸") {
		t.Fatalf("home with paper out: %q", f.texts())
	}
	if f.enabled("取号") {
		t.Fatal("the ticket button is still offered")
	}
	f.k.SetDevice(kiosk.DevicePrinter, kiosk.StateOK, "")
	f.tap(t, "取号")
	if !f.shows("请选择办事区域") {
		t.Errorf("after the printer recovered: %q", f.texts())
	}
}

func TestStaffModeByHiddenGestureAndPIN(t *testing.T) {
	f := newFixture(t, thursday)
	quit := false
	f.ui.quit = func() { quit = true }
	for i := 0; i < StaffTaps-1; i++ {
		test.Tap(f.ui.hall)
	}
	if f.shows("工作人员登录") {
		t.Fatal("staff login after 4 taps")
	}
	test.Tap(f.ui.hall)
	if !f.shows("工作人员登录") {
		t.Fatalf("no staff login after 5 taps: %q", f.texts())
	}
	f.typeKeys(t, "1111")
	if !f.shows("●●●●") {
		t.Errorf("PIN not masked: %q", f.texts())
	}
	f.tapExact(t, "确认")
	if !f.shows("密码错误，还可尝试 4 次") {
		t.Fatalf("wrong PIN: %q", f.texts())
	}
	f.typeKeys(t, "246810")
	f.tapExact(t, "确认")
	if !f.shows("工作人员模式") || !f.shows("出票机") || !f.shows("正常") || !f.shows("已发 0") {
		t.Fatalf("staff screen: %q", f.texts())
	}
	f.tap(t, "打印测试页")
	if !f.shows("测试页已打印") || f.p.Printed() != 1 {
		t.Errorf("self test: %q (%d jobs)", f.texts(), f.p.Printed())
	}
	f.staffConfirm(t, "暂停服务")
	if locked, _ := f.k.Locked(); !locked || !f.shows("已暂停服务") {
		t.Errorf("lock from staff mode: %v %q", locked, f.texts())
	}
	f.tap(t, "恢复服务")
	if locked, _ := f.k.Locked(); locked {
		t.Error("unlock from staff mode")
	}
	f.tap(t, "补打上一张号票")
	if !f.shows("操作失败") {
		t.Errorf("reprint with no ticket today must fail visibly: %q", f.texts())
	}
	f.staffConfirm(t, "退出程序")
	if !quit {
		t.Error("quit not called")
	}
}

func TestStaffGestureNeedsQuickTaps(t *testing.T) {
	f := newFixture(t, thursday)
	for i := 0; i < StaffTaps; i++ {
		test.Tap(f.ui.hall)
		f.clock.Add(time.Second) // 5 taps over 5 s: too slow
	}
	if f.shows("工作人员登录") {
		t.Fatal("slow taps opened staff login")
	}
}

// Every key screen lays out in portrait 1080x1920 and in landscape 1920x1080, in Chinese and
// in English, in standard and in elder mode's large text, with the default hall name and with a
// long one: what it needs fits, the header's toggles stay touch targets, and the hall's name is
// given the height it needs (wrapped, when it has to be).
func TestScreensFitPortraitAndLandscape(t *testing.T) {
	font, err := LoadFont(pinnedFont)
	if err != nil {
		t.Fatal(err)
	}
	type variant struct {
		lang  string
		large bool
		long  bool // a long hall name
	}
	var variants []variant
	for _, lang := range Languages {
		for _, large := range []bool{false, true} {
			for _, long := range []bool{false, true} {
				variants = append(variants, variant{lang, large, long})
			}
		}
	}
	for _, v := range variants {
		th := NewTheme(font)
		f := newFixtureOpts(t, thursday, fixtureOptions{theme: th, edit: func(c *config.Config) {
			if v.long {
				c.Hall.Name, c.Hall.NameEn = "开封市龙亭区市民之家政务服务中心", "Longting District Citizen Service Center of Kaifeng"
			}
		}})
		withHall(t, f)
		withPayments(t, f, nil)
		if v.large {
			f.ui.setLarge(true)
		}
		if v.lang != f.ui.Lang() {
			f.ui.setLanguage(v.lang)
		}
		toggles := []string{f.ui.t("nav.lang"), f.ui.t("nav.large")}
		if v.large {
			toggles[1] = f.ui.t("nav.normal")
		}
		screens := keyScreens(t, f)
		for name, show := range screens {
			for _, size := range []fyne.Size{fyne.NewSize(1080, 1920), fyne.NewSize(1920, 1080)} {
				f.win.Resize(size)
				show()
				min := f.win.Content().MinSize()
				if min.Width > size.Width || min.Height > size.Height {
					t.Errorf("%+v %s needs %.0fx%.0f, screen %.0fx%.0f", v, name, min.Width, min.Height, size.Width, size.Height)
				}
				for _, label := range toggles {
					b := f.styledButton(label)
					ok := b != nil
					if !ok {
						t.Fatalf("%+v %s: no toggle %q in the header", v, name, label)
					}
					if s := b.Size(); s.Width < TouchTarget || s.Height < TouchTarget {
						t.Errorf("%+v %s: toggle %q is %.0fx%.0f", v, name, label, s.Width, s.Height)
					}
				}
				hall := f.ui.hall
				if need, got := hall.MinSize().Height, hall.Size().Height; need > got {
					t.Errorf("%+v %s %.0fx%.0f: the hall's name needs %.0f px high, has %.0fx%.0f", v, name, size.Width, size.Height, need, hall.Size().Width, got)
				}
			}
		}
	}
}

// The default hall name stays on one line in every mode on a portrait screen: elder mode's
// large English is where it used to push the header past the screen's width.
func TestHeaderOneLineWithDefaultName(t *testing.T) {
	font, err := LoadFont(pinnedFont)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureWith(t, thursday, NewTheme(font))
	for _, lang := range Languages {
		for _, large := range []bool{false, true} {
			f.ui.setLarge(large)
			f.ui.setLanguage(lang)
			f.ui.showHome()
			line := widget.NewLabelWithStyle(f.ui.hall.Text, fyne.TextAlignLeading, f.ui.hall.TextStyle).MinSize()
			if got := f.ui.hall.MinSize(); got.Height != line.Height || f.ui.hall.Size().Width < line.Width {
				t.Errorf("%s large=%v: %q wraps: %v at %v, one line is %v", lang, large, f.ui.hall.Text, got, f.ui.hall.Size(), line)
			}
			if min := f.win.Content().MinSize(); min.Width > 1080 {
				t.Errorf("%s large=%v: %.0f px wide", lang, large, min.Width)
			}
		}
	}
}

func TestCityCardScreenWaitsForTap(t *testing.T) {
	f := newFixture(t, thursday)
	f.tap(t, "一卡通")
	if !f.shows("请将市民卡放在读卡区") {
		t.Fatalf("city card prompt: %q", f.texts())
	}
	f.k.SetCityCard(&kiosk.CityCard{CardNo: "3104000012345678", BalanceFen: 12345,
		Records: []kiosk.CardRecord{{Time: thursday, Type: "purchase", AmountFen: 200}}})
	if !f.shows("3104********5678") || !f.shows("¥123.45") || !f.shows("¥2.00") {
		t.Fatalf("city card: %q", f.texts())
	}
	for _, s := range f.texts() {
		if strings.Contains(s, "3104000012345678") {
			t.Fatal("full card number on screen")
		}
	}
}

func TestUnreadableCardSaysWhatToDo(t *testing.T) {
	f := newFixture(t, thursday)
	f.k.CardUnreadable(kiosk.CardID, errors.New("read failed"))
	if !f.shows("读卡失败") || !f.shows("综合窗口") {
		t.Fatalf("unreadable card: %q", f.texts())
	}
}

// keyScreens shows each key screen of the kiosk by name, with sample data where a screen needs
// some (a fee, a paid payment, a ticket, a complaint). f needs withHall and withPayments.
func keyScreens(t *testing.T, f *fixture) map[string]func() {
	fee := f.k.Catalog().Matter("crj-004") // the longest name with a fee
	paid := payment.Entry{ID: 1, Day: "2026-11-26", Matter: fee.ID, AmountFen: fee.Fee.AmountFen, CardMasked: cardMasked,
		BalanceBeforeFen: cardBalance, TxTime: "20261126100000", Status: payment.StatusPaid}
	payScreen := func(show func()) func() {
		return func() { f.ui.flow.pay = payForm{matter: fee, back: f.ui.pay.showChoose}; show() }
	}
	return map[string]func(){
		"pay-choose": f.ui.pay.showChoose,
		"pay-confirm": func() {
			f.k.SetCityCard(&kiosk.CityCard{CardNo: cardNo, BalanceFen: cardBalance})
			f.ui.pay.showConfirm(fee, f.ui.pay.showChoose)
		},
		"pay-tap": payScreen(func() { f.ui.pay.tap(f.ui.t("pay.no_card")) }),
		"pay-done": payScreen(func() {
			f.ui.pay.showPaid(paid, fee, -1, false, f.ui.t("pay.recovered"), []payment.Entry{paid})
		}),
		"pay-already": payScreen(func() { f.ui.pay.already(kiosk.Paid{Payment: paid}) }),
		"pay-torn":    payScreen(func() { f.ui.pay.torn(f.ui.t("pay.still_checking")) }),
		"pay-balance": payScreen(func() { f.ui.pay.balance(fee, 1050) }),
		"pay-pending": payScreen(func() {
			f.ui.pay.retry(f.ui.t("pay.pending_title"), f.ui.msg(payment.MsgPending)+"\n"+f.ui.t("pay.pending_help"))
		}),
		"home":     f.ui.showHome,
		"help":     f.ui.showHelpCalled,
		"error":    func() { f.ui.message(f.ui.t("error.title"), f.ui.t("error.other"), f.ui.showHome) },
		"sections": f.ui.showSections,
		"guide":    f.ui.showGuide,
		"guide-detail": func() {
			f.ui.showGuideDetail(fee, f.ui.showGuide)
			f.tap(t, f.ui.t("guide.basis_show"))
		},
		"staff": func() { f.ui.staff.enter(f.staffByPIN(t)) },
		"login": f.ui.staff.showLogin,
		// A wrong PIN said, over a staff card's pad: the pad's tallest state but a lockout's.
		"login-refused": func() { f.ui.staff.pinPad("04A1B2C3", "", f.ui.tf("staff.wrong", map[string]any{"N": 4})) },
		"citycard":      f.ui.showCityCard,
		"checkin":       f.ui.showCheckIn,
		"progress":      f.ui.showProgress,
		"results": func() {
			f.k.SetPerson(person("王小明", idWang))
			f.ui.lookup("")
		},
		"rating-ticket": func() {
			f.ui.showRating()
			f.ui.flow.rating.code = "A01"
			f.ui.ratingTicket()
		},
		"rating": func() {
			f.ui.showRating()
			f.ui.flow.rating.ticket = civic.Ratable{TicketID: 1, Ticket: "A001"}
			f.ui.flow.rating.levels[civic.Overall] = civic.VeryDissatisfied
			f.ui.rating()
		},
		"complaint": func() {
			f.ui.showComplaint()
			f.ui.flow.complaint.category = civic.CategoryConduct
			f.ui.flow.complaint.text = strings.Repeat("窗口无人或工作人员离岗；", 12)
			f.ui.complaintText()
		},
		"phone": func() {
			f.ui.flow.complaint.phone = "13800138000"
			f.ui.complaintPhone()
		},
		"complaint-done": func() {
			f.ui.complained(kiosk.Complained{Submitted: civic.Submitted{Number: "TS20261126K7Q2M9",
				Category: civic.CategoryAttitude, At: thursday}}, nil)
		},
	}
}
