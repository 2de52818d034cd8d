package ui

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"citizenhome/devices/idcard"
	"citizenhome/kiosk"
	"citizenhome/kiosk/civic"
	"citizenhome/kiosk/session"
	"citizenhome/telemetry/wire"
)

// withCheckDigit completes 17 digits of an ID number (GB 11643). It panics on anything but 17
// digits: it only makes the package's fixed test numbers.
func withCheckDigit(base17 string) string {
	c, err := idcard.CheckDigit(base17)
	if err != nil || len(base17) != 17 {
		panic(fmt.Sprintf("withCheckDigit(%q): %v", base17, err))
	}
	return base17 + string(c)
}

// The citizens of the hall data, one per check-in outcome. The fixture's clock is Thursday
// 2026-11-26 10:00; the check-in window is 30 minutes before to 15 minutes after the booking.
var (
	idWang    = withCheckDigit("41020419850301001") // booked 10:15 today: checks in
	idEarly   = withCheckDigit("41020419900202002") // booked 11:30 today: too early
	idWrong   = withCheckDigit("41020419751111003") // booked Saturday: wrong day
	idCancel  = withCheckDigit("41020419601231004") // booked 10:10 today, cancelled
	idNobody  = withCheckDigit("41020419880808005") // no booking
	cardLate  = "3104000087654321"                  // booked 09:00 today: too late
	cardZhang = "3104000011112222"                  // no data at all, linked to nobody
	cardWang  = "3104000055556666"                  // Wang's city card, linked to his ID number
)

const hallData = `{"appointments": [
  {"id": "YY1", "id_number": "{{wang}}", "matter": "zh-001", "start": "2026-11-26T10:15:00+08:00"},
  {"id": "YY2", "id_number": "{{early}}", "matter": "sb-001", "start": "2026-11-26T11:30:00+08:00"},
  {"id": "YY3", "city_card": "{{late}}", "matter": "sb-001", "start": "2026-11-26T09:00:00+08:00"},
  {"id": "YY4", "id_number": "{{wrong}}", "matter": "crj-001", "start": "2026-11-28T10:30:00+08:00"},
  {"id": "YY5", "id_number": "{{cancel}}", "matter": "zh-005", "start": "2026-11-26T10:10:00+08:00", "status": "cancelled"}],
 "applications": [
  {"id": "SL202611200017", "id_number": "{{wang}}", "lookup_code": "K7Q2M9XAB1", "matter": "sb-003", "status": "办理中",
   "accepted": "2026-11-20", "updated": "2026-11-24T16:00:00+08:00"},
  {"id": "SL202611100003", "id_number": "{{wang}}", "matter": "sb-006", "status": "办理中",
   "accepted": "2026-11-10", "updated": "2026-11-12T09:00:00+08:00"},
  {"id": "SL202611180009", "id_number": "{{wang}}", "matter": "zh-005", "status": "补正",
   "accepted": "2026-11-18", "updated": "2026-11-25T11:00:00+08:00",
   "bring": "房屋租赁合同原件及复印件", "bring_to": "一楼 A区 1-2号窗口",
   "bring_en": "The tenancy contract, original and a copy"},
  {"id": "SL202611050001", "id_number": "{{wang}}", "matter": "crj-001", "status": "已发证",
   "accepted": "2026-11-05", "finished": "2026-11-12", "updated": "2026-11-12T15:00:00+08:00"}],
 "card_holders": [{"city_card": "{{wangcard}}", "id_number": "{{wang}}"}]}`

// withHall sets the hall services up on f's kiosk, with hallData imported, and redraws home.
func withHall(t *testing.T, f *fixture) *civic.Service {
	t.Helper()
	key, err := civic.NewKey([]byte(strings.Repeat("k", civic.KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	h, err := f.k.UseHall(key, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// As cmd/kiosk hands them in when the rig started them.
	f.hall, f.ui.services = h, h
	svc := h.Service()
	data := strings.NewReplacer("{{wang}}", idWang, "{{early}}", idEarly, "{{late}}", cardLate,
		"{{wrong}}", idWrong, "{{cancel}}", idCancel, "{{wangcard}}", cardWang).Replace(hallData)
	if _, err := svc.Import(context.Background(), strings.NewReader(data), civic.JSON); err != nil {
		t.Fatal(err)
	}
	f.ui.showHome()
	return svc
}

func newHallFixture(t *testing.T) (*fixture, *civic.Service) {
	t.Helper()
	f := newFixture(t, thursday)
	return f, withHall(t, f)
}

func person(name, number string) *kiosk.Person {
	return &kiosk.Person{Name: name, Number: number, Birth: time.Date(1985, 3, 1, 0, 0, 0, 0, thursday.Location())}
}

// noPersonalData fails when a full ID or card number, or a full name, is on screen.
func (f *fixture) noPersonalData(t *testing.T, secrets ...string) {
	t.Helper()
	for _, s := range f.texts() {
		for _, x := range append(secrets, idWang, idEarly, idWrong, idCancel, idNobody, cardLate, cardZhang) {
			if strings.Contains(s, x) {
				t.Fatalf("personal data %q on screen in %q", x, s)
			}
		}
	}
}

// bigTexts lists the canvas texts drawn large (ticket and complaint numbers).
func (f *fixture) bigTexts() []string {
	var out []string
	f.visit(false, func(o fyne.CanvasObject) bool {
		if c, ok := o.(*canvas.Text); ok && c.TextSize >= 60 {
			out = append(out, c.Text)
		}
		return true
	})
	return out
}

func (f *fixture) mustShow(t *testing.T, what ...string) {
	t.Helper()
	for _, s := range what {
		if !f.shows(s) {
			t.Fatalf("%q not on screen; texts %q", s, f.texts())
		}
	}
}

func (f *fixture) mustNotShow(t *testing.T, what ...string) {
	t.Helper()
	for _, s := range what {
		if f.shows(s) {
			t.Fatalf("%q on screen; texts %q", s, f.texts())
		}
	}
}

func TestHallTilesUnavailableWithoutHall(t *testing.T) {
	f := newFixture(t, thursday)
	for _, tile := range []string{"预约签到", "办件查询", "好差评", "投诉建议"} {
		if f.lookup(tile, false) != nil {
			t.Errorf("%s is offered without the hall services", tile)
		}
		if !f.shows(tile + "\n暂不可用：本机未开通此项服务") {
			t.Errorf("%s does not say why it is unavailable: %q", tile, f.texts())
		}
	}
	withHall(t, f)
	for _, tile := range []string{"预约签到", "办件查询", "好差评", "投诉建议"} {
		if !f.enabled(tile) {
			t.Errorf("%s not offered with the hall services: %q", tile, f.texts())
		}
	}
	// A check-in is a ticket: without a printer it is unavailable, with the printer's reason.
	f.k.SetDevice(kiosk.DevicePrinter, kiosk.StatePaperOut, "")
	if f.enabled("预约签到") || !f.shows("预约签到\n暂不可用：出票机缺纸") || !f.enabled("投诉建议") {
		t.Errorf("paper out: %q", f.texts())
	}
}

func TestCheckInByCardTap(t *testing.T) {
	f, _ := newHallFixture(t)
	f.tap(t, "预约签到")
	f.mustShow(t, "请刷预约时使用的身份证或市民卡")
	f.k.SetPerson(person("王小明", idWang))
	f.mustShow(t, "签到成功", "居民身份证换领", "预约时间 10:15", "预约优先号", "请取走号票")
	if got := f.bigTexts(); len(got) != 1 || got[0] != "A001" {
		t.Errorf("number shown large: %q", got)
	}
	if f.p.Printed() != 1 {
		t.Errorf("%d print jobs", f.p.Printed())
	}
	f.noPersonalData(t, "王小明")
	f.tap(t, "完成")
	if _, ok := f.k.Sessions().Active(); ok || !f.shows("您好，请选择要办理的业务") {
		t.Fatalf("after 完成: %q", f.texts())
	}
	// The same citizen again, card first: the answer is the ticket they already have.
	f.k.SetPerson(person("王小明", idWang))
	f.tap(t, "预约签到")
	f.mustShow(t, "您已签到", "已于 10:00 签到", "号码 A001")
	if got := f.bigTexts(); len(got) != 1 || got[0] != "A001" {
		t.Errorf("number shown large: %q", got)
	}
	if f.enabled("取普通号") {
		t.Error("a normal ticket is offered to a citizen who has one")
	}
}

func TestCheckInRefusalsSayWhatToDo(t *testing.T) {
	for _, c := range []struct {
		name   string
		tap    func(*fixture)
		shows  []string
		normal string // what 取普通号 leads to; "" when it is not offered
	}{
		{"too early", func(f *fixture) { f.k.SetPerson(person("李四", idEarly)) },
			[]string{"还未到签到时间", "2026-11-26 11:30", "社会保障卡申领", "请于 11:00 后再来签到"}, ""},
		{"too late", func(f *fixture) { f.k.SetCityCard(&kiosk.CityCard{CardNo: cardLate}) },
			[]string{"已超过签到时间", "今天 09:00", "已于 09:15 截止"}, "请确认取号"},
		{"wrong day", func(f *fixture) { f.k.SetPerson(person("赵六", idWrong)) },
			[]string{"您的预约不在今天", "2026-11-28 10:30", "普通护照签发"}, "请确认取号"},
		{"cancelled", func(f *fixture) { f.k.SetPerson(person("钱七", idCancel)) },
			[]string{"预约已取消", "10:10", "居住证申领"}, "请确认取号"},
		{"no booking", func(f *fixture) { f.k.SetPerson(person("孙八", idNobody)) },
			[]string{"没有找到您的预约", "取普通号办理"}, "请选择办事区域"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, _ := newHallFixture(t)
			f.tap(t, "预约签到")
			c.tap(f)
			f.mustShow(t, c.shows...)
			f.noPersonalData(t)
			if f.p.Printed() != 0 {
				t.Errorf("%d print jobs for a refusal", f.p.Printed())
			}
			if c.normal == "" {
				if f.enabled("取普通号") {
					t.Error("a normal ticket is offered")
				}
				return
			}
			f.tapExact(t, "取普通号")
			f.mustShow(t, c.normal)
			if c.normal == "请确认取号" {
				f.tap(t, "确认取号")
				f.mustShow(t, "取号成功")
				if f.shows("绿色通道") {
					t.Error("the normal ticket is a priority one")
				}
			}
		})
	}
}

func TestCheckInPrinterProblems(t *testing.T) {
	f, _ := newHallFixture(t)
	f.p.Set(printerPaperOut, nil, nil)
	f.k.SetPerson(person("王小明", idWang))
	f.tap(t, "预约签到")
	f.mustShow(t, "暂时无法办理", "出票机暂时无法出票（缺纸）", "其他自助机")
	// The printer answers its status but the job fails: the check-in stands, the number is
	// the citizen's, and the screen says to note it.
	f.p.Set(printerOK, nil, errors.New("jammed"))
	f.k.SetDevice(kiosk.DevicePrinter, kiosk.StateOK, "") // staff replaced the roll
	f.tap(t, "首页")
	f.tap(t, "预约签到")
	f.mustShow(t, "签到成功", "号票打印失败，号码已保留")
	if got := f.bigTexts(); len(got) != 1 || got[0] != "A001" {
		t.Errorf("number: %q", got)
	}
}

func TestProgressByCardListsApplications(t *testing.T) {
	f, svc := newHallFixture(t)
	f.k.SetPerson(person("王小明", idWang))
	// A complaint filed by this citizen, answered by the hall since.
	res, err := f.hall.Complain(context.Background(), civic.Complaint{Category: civic.CategoryEfficiency, Text: "等候时间太长"})
	if err != nil {
		t.Fatal(err)
	}
	upd := `{"complaints": [{"number": "` + res.Number + `", "status": "处理中", "reply": "已转窗口核查", "updated": "2026-11-26T09:59:00+08:00"}]}`
	if _, err := svc.Import(context.Background(), strings.NewReader(upd), civic.JSON); err != nil {
		t.Fatal(err)
	}
	f.tap(t, "办件查询")
	f.tap(t, "查询我的办件")
	f.mustShow(t, "查询结果", "王*明 的办件和投诉",
		"职工基本养老保险关系转移接续", "SL202611200017", "办理中", "2026-11-20", "承诺件",
		"失业保险金申领", "已超过法定期限", "综合窗口咨询",
		"居住证申领", "补正", "办理时限暂停计算", "请携带", "房屋租赁合同原件及复印件", "地点", "一楼 A区 1-2号窗口",
		"普通护照签发", "已发证", "2026-11-12",
		"投诉 "+res.Number, "办事效率", "处理中", "已转窗口核查")
	// Each status is coloured by what it means to the citizen and marked in words and a sign
	// too, never by colour alone.
	f.mustShow(t, "◷ 办理中", "▲ 补正（需要您补交材料）", "✓ 已发证", "◷ 处理中")
	for text, want := range map[string]color.Color{"◷ 办理中": colInfo, "▲ 补正（需要您补交材料）": colWarning,
		"✓ 已发证": colSuccess, "◷ 处理中": colInfo} {
		found := false
		f.visit(false, func(o fyne.CanvasObject) bool {
			if c, ok := o.(*canvas.Text); ok && c.Text == text {
				found = true
				if c.Color != want {
					t.Errorf("%q in %v, want %v", text, c.Color, want)
				}
			}
			return true
		})
		if !found {
			t.Errorf("no flag %q", text)
		}
	}
	// The deadlines: sb-003 promises 30 working days, allows 45 by law.
	f.mustShow(t, "30 个工作日（", "45 个工作日（")
	f.noPersonalData(t, "王小明")
	// Not overdue: the one accepted on 20 November, the suspended one, the finished one.
	overdue := 0
	for _, s := range f.texts() {
		if strings.HasPrefix(s, "已超过") {
			overdue++
		}
	}
	if overdue != 1 {
		t.Errorf("%d overdue flags, want 1: %q", overdue, f.texts())
	}
	// In English too, with the same data.
	f.tap(t, "English")
	f.mustShow(t, "Applications and complaints of 王*明", "In progress", "Past the statutory time limit")
}

func TestProgressWaitsForCardTap(t *testing.T) {
	f, _ := newHallFixture(t)
	f.tap(t, "办件查询")
	f.mustShow(t, "刷身份证或市民卡，即可查询本人的办件和投诉")
	// A card the hall linked to nobody: it finds nothing, and the screen says why and what to do.
	f.k.SetCityCard(&kiosk.CityCard{CardNo: cardZhang})
	f.mustShow(t, "这张市民卡未关联持卡人", "请刷身份证再试，或到综合窗口办理关联", "呼叫工作人员")
	f.noPersonalData(t)
	// 返回 leads back to the lookup, where the ID card tapped then works.
	f.tap(t, "返回")
	f.k.SetPerson(person("王小明", idWang))
	f.tap(t, "查询我的办件")
	f.mustShow(t, "王*明 的办件和投诉", "SL202611200017")
}

// 一卡通 as identity: Wang's city card, linked to his ID number, finds what his ID card finds,
// and checks his booking in.
func TestCityCardOfAKnownHolder(t *testing.T) {
	f, _ := newHallFixture(t)
	f.tap(t, "办件查询")
	f.k.SetCityCard(&kiosk.CityCard{CardNo: cardWang})
	f.mustShow(t, "市民卡 3104********6666 的办件和投诉", "SL202611200017", "SL202611100003", "SL202611180009", "SL202611050001")
	f.noPersonalData(t)
	f.tap(t, "首页")
	f.k.Sessions().End(session.Finished)
	f.tap(t, "预约签到")
	f.k.SetCityCard(&kiosk.CityCard{CardNo: cardWang})
	f.mustShow(t, "签到成功")
	if f.p.Printed() != 1 {
		t.Errorf("%d print jobs for a check-in", f.p.Printed())
	}
}

func TestProgressByCode(t *testing.T) {
	f, _ := newHallFixture(t)
	f.tap(t, "办件查询")
	if f.enabled("查询") {
		t.Fatal("查询 enabled with nothing typed")
	}
	for _, c := range []struct {
		code  string
		shows []string
	}{
		{"K7Q2M9XAB1", []string{"查询结果", "职工基本养老保险关系转移接续", "SL202611200017"}},
		{"AB", []string{"没有查到", "查询码格式不正确"}},
		{"ZZZZ9999", []string{"没有查到", "没有找到这个查询码的记录"}},
	} {
		f.typeKeys(t, c.code)
		f.mustShow(t, "查询码："+c.code)
		f.tapExact(t, "查询")
		f.mustShow(t, c.shows...)
		if c.code == "K7Q2M9XAB1" {
			// A code shows that application only, and no name.
			f.mustNotShow(t, "失业保险金申领", "的办件和投诉")
		}
		f.tap(t, "返回")
		f.mustShow(t, "查询码："+c.code) // back keeps the code, to correct it
		f.tap(t, "清空")
	}
}

func TestProgressFindsComplaintByNumber(t *testing.T) {
	f, _ := newHallFixture(t)
	res, err := f.hall.Complain(context.Background(), civic.Complaint{Category: civic.CategoryFacility, Text: "自助设备故障"})
	if err != nil {
		t.Fatal(err)
	}
	f.k.Sessions().End("finished")
	f.tap(t, "办件查询")
	f.typeKeys(t, res.Number)
	f.tapExact(t, "查询")
	f.mustShow(t, "投诉 "+res.Number, "设施设备", "已提交", "2026-11-26")
}

// chooseLevel taps a level in the row of dimension row (0 overall, 1 efficiency, ...): the
// five level names repeat once per dimension.
func (f *fixture) chooseLevel(t *testing.T, row int, level string) {
	t.Helper()
	var found []*Tile
	f.visit(false, func(o fyne.CanvasObject) bool {
		if b, ok := o.(*Tile); ok && b.Text == level {
			found = append(found, b)
		}
		return true
	})
	if row >= len(found) {
		t.Fatalf("no row %d of %q: %d found", row, level, len(found))
	}
	test.Tap(found[row])
}

type storedRating struct {
	overall         int
	attitude        any
	reasons, ticket string
}

func ratings(t *testing.T, f *fixture) []storedRating {
	t.Helper()
	rows, err := f.st.DB().Query(`SELECT overall, attitude, reasons, ticket FROM hall_rating ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []storedRating
	for rows.Next() {
		var r storedRating
		if err := rows.Scan(&r.overall, &r.attitude, &r.reasons, &r.ticket); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// A service is rated by its ticket's number, typed from 好差评 at any time, not on the screen that
// gives the ticket (the citizen has not been served yet); each ticket once.
func TestRatingLinkedToTicketOncePerTicket(t *testing.T) {
	f, _ := newHallFixture(t)
	sec := f.takeFirstTicket(t)
	code := sec.Matters[0].Queue + "001"
	f.mustShow(t, code)
	f.mustNotShow(t, "评价本次服务", "评价本次办理")
	f.tap(t, "完成")
	f.tap(t, "好差评")
	f.mustShow(t, "请输入号票上的号码（如 A012），评价该次服务；每张号票只能评价一次", "号票号码", "评价大厅整体服务")
	if f.enabled("评价该号票的服务") {
		t.Fatal("rate enabled with no number typed")
	}
	// A number this kiosk did not give today, and one that is no number.
	f.typeKeys(t, sec.Matters[0].Queue+"009")
	f.mustShow(t, "号票 "+sec.Matters[0].Queue+"009")
	f.tapExact(t, "评价该号票的服务")
	f.mustShow(t, "今天本机没有号票 "+sec.Matters[0].Queue+"009")
	f.tap(t, "返回")
	f.tap(t, "清空")
	f.typeKeys(t, "12")
	f.tapExact(t, "评价该号票的服务")
	f.mustShow(t, "「12」不是号票号码")
	f.tap(t, "返回")
	f.tap(t, "清空")
	f.typeKeys(t, code)
	f.tapExact(t, "评价该号票的服务")
	f.mustShow(t, "评价本次办理（号票 "+code+"）", "整体满意度（必选）", "服务效率（选填）",
		"服务水平（选填）", "服务态度（选填）", "非常满意", "基本满意", "非常不满意", "请先选择整体满意度")
	if f.enabled("提交评价") {
		t.Fatal("submit enabled with nothing chosen")
	}
	f.chooseLevel(t, 0, "满意")
	f.chooseLevel(t, 3, "非常满意")
	// The chosen answers carry a ✓ and an outline, not colour alone.
	f.mustShow(t, "✓ 满意", "✓ 非常满意")
	chosen := 0
	f.visit(false, func(o fyne.CanvasObject) bool {
		if tl, ok := o.(*Tile); ok && tl.Chosen {
			chosen++
			if !strings.HasPrefix(tl.Text, "✓ ") || !tl.Primary {
				t.Errorf("chosen tile %q: primary %v", tl.Text, tl.Primary)
			}
		}
		return true
	})
	if chosen != 2 {
		t.Errorf("%d tiles marked chosen, want 2", chosen)
	}
	f.mustNotShow(t, "请选择不满意的原因")
	f.tapExact(t, "提交评价")
	f.mustShow(t, "感谢您的评价", "已评价号票 "+code)
	f.mustNotShow(t, "我们会核实并改进")
	if got := ratings(t, f); len(got) != 1 || got[0].overall != 4 || got[0].attitude != int64(5) || got[0].ticket != code {
		t.Fatalf("stored: %+v", got)
	}
	// Again: one rating per ticket, said plainly before the form, and the way out.
	f.tap(t, "首页")
	f.tap(t, "好差评")
	f.typeKeys(t, code)
	f.tapExact(t, "评价该号票的服务")
	f.mustShow(t, "该号票已评价", "每张号票只能评价一次", code)
	f.tapExact(t, "评价大厅整体服务")
	f.mustShow(t, "整体满意度（必选）")
	f.mustNotShow(t, "评价本次办理")
	f.chooseLevel(t, 0, "非常满意")
	f.tapExact(t, "提交评价")
	f.mustShow(t, "感谢您的评价")
	f.mustNotShow(t, "已评价号票")
	if got := ratings(t, f); len(got) != 2 || got[1].overall != 5 || got[1].ticket != "" {
		t.Fatalf("stored: %+v", got)
	}
}

// hallAnswers stands in for halld's answers (the telemetry agent in the product): whether a
// ticket was served, and where.
type hallAnswers struct {
	served bool
	window string
}

func (h *hallAnswers) Ask(_ context.Context, a wire.Ask) (wire.Answer, error) {
	if a.Served == nil {
		return wire.Answer{ID: a.ID, Error: &wire.GivenError{Code: wire.AnswerNotFound, Message: "no"}}, nil
	}
	if !h.served {
		return wire.Answer{ID: a.ID, Served: &wire.Served{}}, nil
	}
	return wire.Answer{ID: a.ID, Served: &wire.Served{Served: true, Window: h.window, Ended: time.Now()}}, nil
}

// A ticket halld says no window has finished is refused before the form, saying why and what
// can be done instead; once served, the form names the window that served it.
func TestRatingRefusedBeforeService(t *testing.T) {
	f, _ := newHallFixture(t)
	sec := f.takeFirstTicket(t)
	code := sec.Matters[0].Queue + "001"
	f.tap(t, "完成")
	h := &hallAnswers{}
	f.k.SetHallAnswers(h)
	f.tap(t, "好差评")
	f.typeKeys(t, code)
	f.tapExact(t, "评价该号票的服务")
	f.mustShow(t, "该号还未办理完毕", "号票 "+code+" 还没有在窗口办理完毕", "评价大厅整体服务", "投诉", "首页")
	f.mustNotShow(t, "整体满意度（必选）")
	f.tapExact(t, "评价大厅整体服务")
	f.mustShow(t, "整体满意度（必选）")
	f.mustNotShow(t, "评价本次办理")
	f.tap(t, "首页")
	h.served, h.window = true, "3"
	f.tap(t, "好差评")
	f.typeKeys(t, code)
	f.tapExact(t, "评价该号票的服务")
	f.mustShow(t, "评价本次办理（号票 "+code+"，3 号窗口）", "整体满意度（必选）")
	f.chooseLevel(t, 0, "满意")
	f.tapExact(t, "提交评价")
	f.mustShow(t, "感谢您的评价")
	if got := ratings(t, f); len(got) != 1 || got[0].ticket != code {
		t.Fatalf("stored: %+v", got)
	}
}

// A ticket rated elsewhere while the form is open (another kiosk, the same number): the submit
// says so, and the levels chosen are kept for rating the hall in general.
func TestRatingTicketRatedMeanwhile(t *testing.T) {
	f, _ := newHallFixture(t)
	sec := f.takeFirstTicket(t)
	code := sec.Matters[0].Queue + "001"
	f.tap(t, "完成")
	f.tap(t, "好差评")
	f.typeKeys(t, code)
	f.tapExact(t, "评价该号票的服务")
	f.chooseLevel(t, 0, "非常满意")
	id := f.ui.flow.rating.ticket.TicketID
	if _, err := f.hall.Rate(context.Background(), civic.Rating{Overall: civic.Fair, TicketID: id}); err != nil {
		t.Fatal(err)
	}
	f.tapExact(t, "提交评价")
	f.mustShow(t, "该号票已评价", "每张号票只能评价一次，号票 "+code)
	f.tapExact(t, "评价大厅整体服务")
	f.mustShow(t, "✓ 非常满意")
	f.tapExact(t, "提交评价") // the levels chosen are kept
	f.mustShow(t, "感谢您的评价")
	if got := ratings(t, f); len(got) != 2 || got[1].overall != 5 || got[1].ticket != "" {
		t.Fatalf("stored: %+v", got)
	}
}

func TestRatingBadNeedsReasons(t *testing.T) {
	f, _ := newHallFixture(t)
	f.tap(t, "好差评")
	f.tapExact(t, "评价大厅整体服务")
	f.mustNotShow(t, "评价本次办理")
	f.chooseLevel(t, 0, "满意")
	f.chooseLevel(t, 3, "不满意") // a bad attitude rating needs reasons too
	f.mustShow(t, "请选择不满意的原因（至少一项）", "差评请至少选择一项原因", "等候时间长", "服务态度不好", "其他")
	if f.enabled("提交评价") {
		t.Fatal("submit enabled without a reason")
	}
	f.tapExact(t, "服务态度不好")
	f.tapExact(t, "等候时间长")
	f.tapExact(t, "其他")
	// Reasons chosen carry a ✓ and an outline, not colour alone.
	f.mustShow(t, "✓ 服务态度不好", "✓ 等候时间长", "✓ 其他")
	chosen := 0
	f.visit(false, func(o fyne.CanvasObject) bool {
		if tl, ok := o.(*Tile); ok && tl.Chosen {
			chosen++
		}
		return true
	})
	if chosen != 5 { // 满意, 不满意 and three reasons
		t.Errorf("%d tiles marked chosen, want 5", chosen)
	}
	f.tapExact(t, "✓ 其他") // taken back
	f.mustNotShow(t, "✓ 其他")
	f.mustShow(t, "其他")
	f.tapExact(t, "提交评价")
	f.mustShow(t, "感谢您的评价", "我们会核实并改进")
	if got := ratings(t, f); len(got) != 1 || got[0].reasons != "wait-long,attitude" || got[0].attitude != int64(2) {
		t.Fatalf("stored: %+v", got)
	}
	f.tapExact(t, "投诉建议")
	f.mustShow(t, "请选择投诉类别")
}

func TestRatingElderModeAsksOverallOnly(t *testing.T) {
	f, _ := newHallFixture(t)
	f.tap(t, "大字模式")
	f.tap(t, "好差评")
	f.tapExact(t, "评价大厅整体服务")
	f.mustShow(t, "整体满意度（必选）", "非常不满意")
	f.mustNotShow(t, "服务效率", "服务态度（选填）")
	f.chooseLevel(t, 0, "非常不满意")
	f.tapExact(t, "系统或设备故障")
	f.tapExact(t, "提交评价")
	f.mustShow(t, "感谢您的评价")
	if got := ratings(t, f); len(got) != 1 || got[0].overall != 1 || got[0].attitude != nil || got[0].reasons != "system" {
		t.Fatalf("stored: %+v", got)
	}
}

var complaintNo = regexp.MustCompile(`^TS20261126[0-9A-HJKMNP-TV-Z]{6}$`)

func TestComplaintFlow(t *testing.T) {
	f, _ := newHallFixture(t)
	f.k.SetPerson(person("王小明", idWang))
	f.tap(t, "投诉建议")
	f.mustShow(t, "请选择投诉类别", "服务态度", "工作纪律与作风", "设施设备")
	f.tap(t, "工作纪律与作风")
	f.mustShow(t, "投诉类别：工作纪律与作风", "已输入 0 / 500 字", "常见问题")
	if f.enabled("下一步") {
		t.Fatal("下一步 enabled with no text")
	}
	f.tap(t, "窗口无人或工作人员离岗")
	f.tap(t, "等候时间太长")
	f.typeKeys(t, "A3")
	f.mustShow(t, "窗口无人或工作人员离岗；等候时间太长A3", "已输入 20 / 500 字")
	f.tapExact(t, "⌫")
	f.mustShow(t, "窗口无人或工作人员离岗；等候时间太长A", "已输入 19 / 500 字")
	f.tapExact(t, "下一步")
	f.mustShow(t, "联系电话（选填）")
	f.typeKeys(t, "138")
	f.mustShow(t, "电话号码至少 7 位")
	if f.enabled("提交投诉") {
		t.Fatal("submit enabled with a 3-digit phone")
	}
	f.typeKeys(t, "0013800")
	f.mustShow(t, "1380013800")
	f.tapExact(t, "提交投诉")
	f.mustShow(t, "投诉已提交", "您的投诉编号", "投诉类别：工作纪律与作风", "已打印投诉回执", "办件查询")
	got := f.bigTexts()
	if len(got) != 1 || !complaintNo.MatchString(got[0]) {
		t.Fatalf("complaint number shown large: %q", got)
	}
	if f.p.Printed() != 1 {
		t.Errorf("%d slips printed", f.p.Printed())
	}
	f.noPersonalData(t, "1380013800", "王小明", "等候时间太长A")
	if f.ui.flow.complaint != (complaintForm{}) {
		t.Error("the complaint's text and phone are kept after filing")
	}
	// Filed in the citizen's name: their lookup lists it.
	number := got[0]
	f.tap(t, "完成")
	f.k.SetPerson(person("王小明", idWang))
	f.tap(t, "办件查询")
	f.tap(t, "查询我的办件")
	f.mustShow(t, "投诉 "+number, "工作纪律与作风", "已提交")
}

func TestComplaintWithoutPhoneAndSlipNotPrinted(t *testing.T) {
	f, _ := newHallFixture(t)
	f.p.Set(printerPaperOut, nil, nil)
	f.tap(t, "投诉建议")
	f.tap(t, "设施设备")
	f.tap(t, "自助设备故障")
	f.tapExact(t, "下一步")
	f.tapExact(t, "不留电话，直接提交")
	f.mustShow(t, "投诉已提交", "回执打印失败", "请记下上面的投诉编号")
	if got := f.bigTexts(); len(got) != 1 || !complaintNo.MatchString(got[0]) {
		t.Fatalf("complaint number: %q", got)
	}
	if f.p.Printed() != 0 {
		t.Errorf("%d slips printed with no paper", f.p.Printed())
	}
}

func TestComplaintEnglishPhrases(t *testing.T) {
	f, _ := newHallFixture(t)
	f.tap(t, "English")
	f.tap(t, "Complaints")
	f.tap(t, "Staff attitude")
	f.tap(t, "Staff were unfriendly")
	f.tap(t, "The wait was too long")
	f.mustShow(t, "Staff were unfriendly; The wait was too long")
}

// The idle timeout ends the session: what the citizen typed or looked up is gone from the
// screen and from the UI's memory.
func TestIdleTimeoutWipesHallData(t *testing.T) {
	f, _ := newHallFixture(t)
	idle := func() {
		t.Helper()
		f.clock.Add(2 * time.Minute)
		f.k.Sessions().Tick()
		f.mustShow(t, "您好，请选择要办理的业务")
	}
	// A progress lookup.
	f.k.SetPerson(person("王小明", idWang))
	f.tap(t, "办件查询")
	f.tap(t, "查询我的办件")
	f.mustShow(t, "SL202611200017")
	idle()
	f.mustNotShow(t, "SL202611200017", "王*明")
	if f.k.Person() != nil {
		t.Error("the person is kept")
	}
	// A complaint half written, with a phone number.
	f.tap(t, "投诉建议")
	f.tap(t, "服务态度")
	f.tap(t, "工作人员态度不好")
	f.tapExact(t, "下一步")
	f.typeKeys(t, "13900001111")
	f.mustShow(t, "13900001111")
	idle()
	f.mustNotShow(t, "13900001111")
	if !f.ui.flow.empty() {
		t.Errorf("flow kept after the session: %+v", f.ui.flow)
	}
	f.tap(t, "投诉建议")
	f.tap(t, "服务态度")
	f.mustShow(t, "已输入 0 / 500 字")
	// A ticket and a rating being chosen: the next citizen does not rate it.
	f.tap(t, "首页")
	sec := f.takeFirstTicket(t)
	f.tap(t, "完成")
	f.tap(t, "好差评")
	f.typeKeys(t, sec.Matters[0].Queue+"001")
	f.tapExact(t, "评价该号票的服务")
	f.chooseLevel(t, 0, "满意")
	idle()
	f.tap(t, "好差评")
	f.mustNotShow(t, "评价本次办理", "号票 "+sec.Matters[0].Queue+"001")
	f.mustShow(t, "号票号码")
	// The lookup code typed.
	f.tap(t, "首页")
	f.tap(t, "办件查询")
	f.typeKeys(t, "K7Q2")
	idle()
	f.mustNotShow(t, "K7Q2")
}

func TestHallServicesOnLockedKiosk(t *testing.T) {
	f, _ := newHallFixture(t)
	f.tap(t, "投诉建议")
	f.tap(t, "服务态度")
	f.tap(t, "工作人员态度不好")
	f.tapExact(t, "下一步")
	f.hallCmd().Lock(context.Background(), "设备维护中")
	f.mustShow(t, "暂停服务", "设备维护中")
	if !f.ui.flow.empty() {
		t.Error("lock kept the complaint")
	}
}

func (fl flow) empty() bool {
	return fl.ticket == nil && fl.complaint == (complaintForm{}) && fl.rating.levels == nil && fl.rating.reasons == nil && !fl.rating.general &&
		fl.rating.code == "" && fl.rating.ticket == (civic.Ratable{})
}

func TestComplaintElderModePhrasesOnly(t *testing.T) {
	f, _ := newHallFixture(t)
	f.tap(t, "大字模式")
	f.tap(t, "投诉建议")
	f.tap(t, "办事效率")
	f.mustShow(t, "常见问题", "等候时间太长")
	if f.enabled("A") || f.shows("字母和数字") {
		t.Fatal("elder mode shows the letter keypad")
	}
	f.tap(t, "等候时间太长")
	f.tapExact(t, "下一步")
	f.tapExact(t, "不留电话，直接提交")
	f.mustShow(t, "投诉已提交")
}

// In English a 补正 shows the hall's English text; what the hall gave only in Chinese is not
// shown, and the citizen is told to ask instead.
func TestProgressCorrectionInEnglish(t *testing.T) {
	f, _ := newHallFixture(t)
	f.tap(t, "English")
	f.k.SetPerson(person("王小明", idWang))
	f.ui.lookup("")
	f.mustShow(t, "Please bring", "The tenancy contract, original and a copy",
		"Please ask at the hall's general windows what to bring and where.")
	f.mustNotShow(t, "Where", "一楼 A区 1-2号窗口", "房屋租赁合同原件及复印件")
}
