package ui

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"citizenhome/kiosk"
	"citizenhome/kiosk/civic"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/session"
)

// pinnedFont and pinnedBold are the fonts the reference images are drawn with, their
// DefaultFace (Noto Sans CJK SC). Fyne falls back to system fonts silently, so the images pin
// them: the CJK fonts the kiosk ships with (fonts-noto-cjk).
const (
	pinnedFont = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
	pinnedBold = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
)

// TestReferenceImages renders the key screens with Fyne's software painter and the pinned font,
// portrait 1080x1920, and compares them pixel for pixel with testdata/screens/. After a wanted
// change, CITIZENHOME_UPDATE_SCREENS=1 go test -run ReferenceImages ./ui/ rewrites them (look at
// them before committing: they are also the README's screenshots).
func TestReferenceImages(t *testing.T) {
	update := os.Getenv("CITIZENHOME_UPDATE_SCREENS") != ""
	referenceScreens(t, func(name string, f *fixture) {
		t.Helper()
		img := f.win.Canvas().Capture()
		if update {
			writePNG(t, filepath.Join("testdata", "screens", name+".png"), img)
			return
		}
		test.AssertImageMatches(t, filepath.Join("screens", name+".png"), img)
	})
}

// referenceScreens drives one kiosk, drawn with the pinned font at 1080x1920, through the
// reference screens in turn and calls at with each screen's name while it is shown. Every test
// of the rendered screens (the images here, contrast and touch targets in contrast_test.go) walks
// this one list, so a screen added here is checked by all of them. at may move the fake clock
// on by a few seconds (the countdown's check): the screens after it do not depend on the second.
func referenceScreens(t *testing.T, at func(name string, f *fixture)) {
	t.Helper()
	f := newFixtureOpts(t, thursday, fixtureOptions{theme: NewThemeFonts(pinnedFonts(t)),
		edit: func(c *config.Config) { c.Staff.Cards = []string{"04A1B2C3"} }})
	withHall(t, f)
	kit := withPayments(t, f, nil)
	shot := func(name string) { t.Helper(); at(name, f) }
	shot("home")
	f.tapExact(t, "呼叫工作人员")
	shot("help")
	f.tap(t, "首页")
	f.staffByPIN(t) // staff came: the call ends, so the next screens are drawn without it
	f.tap(t, "办事指南")
	for _, k := range "SFZ" {
		f.tap(t, string(k))
	}
	shot("guide")
	f.tap(t, "居民身份证换领")
	shot("guide-detail")
	f.tap(t, "取号办理此事项")
	shot("confirm")
	f.tap(t, "确认取号")
	shot("ticket-done")
	f.tap(t, "完成")
	// The sections, each saying how many wait for it: the ticket just taken, and nobody.
	f.tap(t, "取号")
	shot("sections")
	f.tap(t, "首页")
	f.tap(t, "大字模式")
	shot("elder-home")
	f.tap(t, "取号")
	shot("elder-sections")
	f.tap(t, "首页")
	f.tap(t, "标准字体")
	for i := 0; i < StaffTaps; i++ {
		test.Tap(f.ui.hall)
	}
	f.typeKeys(t, "246810")
	f.tapExact(t, "确认")
	shot("staff")
	f.tap(t, "重置")
	shot("staff-confirm")
	f.tapExact(t, "取消")
	f.typeKeys(t, "A001")
	shot("staff-reprint")
	f.tapExact(t, "补打此号")
	f.tap(t, "退出工作人员模式")
	f.hallCmd().Lock(context.Background(), "设备维护中，请到其他自助机办理")
	shot("locked")
	// A staff card on the locked screen opens the PIN pad (never staff mode by itself); wrong
	// PINs close PIN entry, the pad saying for how long.
	f.tapCard(staffUID)
	shot("staff-card-pin")
	for range kiosk.StaffMaxTries {
		f.typeKeys(t, "999999")
		f.tapExact(t, "确认")
	}
	shot("staff-lockout")
	f.tap(t, "首页")
	f.hallCmd().Unlock(context.Background())

	// The idle warning, counting down: 15 s left.
	f.tap(t, "办事指南")
	for left, _ := f.k.Sessions().Left(); left > 15*time.Second; left, _ = f.k.Sessions().Left() {
		f.tick(time.Second)
		f.k.Sessions().Tick()
	}
	shot("idle-warning")
	f.tap(t, "继续")
	f.tap(t, "首页")
	f.k.Sessions().End(session.Finished)
	// An ID card showing 65 or more: elder mode is offered.
	f.k.SetPerson(&kiosk.Person{Name: "张三丰", Number: "x", Birth: time.Date(1950, 5, 1, 0, 0, 0, 0, thursday.Location())})
	shot("elder-offer")
	f.tapExact(t, "不用了")
	f.k.Sessions().End(session.Finished)

	// A card asked for: the kiosk drawn with an arrow at each reader (the default positions).
	f.tap(t, "预约签到")
	shot("checkin-card")
	f.tap(t, "首页")
	f.k.Sessions().End(session.Finished)

	// The hall services.
	f.k.SetPerson(person("王小明", idWang))
	f.tap(t, "预约签到")
	shot("checkin-done")
	f.tap(t, "完成")
	f.k.SetPerson(person("王小明", idWang))
	f.tap(t, "办件查询")
	f.tap(t, "查询我的办件")
	shot("progress")
	f.tap(t, "首页")
	f.tap(t, "好差评")
	f.typeKeys(t, "A01")
	shot("rating-ticket")
	// The ticket taken above, which halld says no window has finished yet.
	var letter string
	var number int
	if err := f.st.DB().QueryRow(`SELECT category, number FROM queue_ticket ORDER BY id LIMIT 1`).Scan(&letter, &number); err != nil {
		t.Fatal(err)
	}
	taken := fmt.Sprintf("%s%03d", letter, number)
	f.k.SetHallAnswers(&hallAnswers{})
	f.tap(t, "清空")
	f.typeKeys(t, taken)
	f.tapExact(t, "评价该号票的服务")
	shot("rating-not-served")
	f.k.SetHallAnswers(nil)
	f.tapExact(t, "评价大厅整体服务")
	f.chooseLevel(t, 0, "不满意")
	f.chooseLevel(t, 1, "基本满意")
	f.tapExact(t, "等候时间长")
	shot("rating")
	// A complaint's number is random: the screen is drawn for a fixed one.
	f.ui.complained(kiosk.Complained{Submitted: civic.Submitted{Number: "TS20261126K7Q2M9",
		Category: civic.CategoryAttitude, At: thursday}}, nil)
	shot("complaint-done")

	// One-card payment (一卡通缴费) from the guide: confirm, then done after the tap.
	f.tap(t, "完成")
	f.ui.showGuideDetail(f.k.Catalog().Matter(payMatter), f.ui.showGuide)
	f.tapExact(t, "缴费 ¥20.00")
	shot("pay-confirm")
	f.tapExact(t, "确认缴费 ¥20.00")
	kit.tapCity(t, f)
	shot("pay-done")

	// The guide in English, last: a language switch moves the header's clock on later screens.
	f.tap(t, "完成")
	f.ui.showGuideDetail(f.k.Catalog().Matter("zh-001"), f.ui.showGuide)
	f.tapExact(t, "English")
	shot("guide-detail-en")
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := png.Encode(out, img); err != nil {
		t.Fatal(err)
	}
}
