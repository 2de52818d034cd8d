package ui

import (
	"context"
	"testing"
	"time"

	"citizenhome/kiosk"
	"citizenhome/kiosk/session"
)

// born is an ID card's holder born on the day given.
func born(y int, m time.Month, d int) *kiosk.Person {
	return &kiosk.Person{Name: "张三丰", Number: "x", Birth: time.Date(y, m, d, 0, 0, 0, 0, thursday.Location())}
}

func TestElderModeOfferedToAnElderCard(t *testing.T) {
	f := newFixture(t, thursday)
	f.k.SetPerson(born(1961, 11, 26)) // 65 today (queue.elder_age)
	if !f.ui.dialogShown() {
		t.Fatalf("no elder offer for a 65-year-old: %q", f.texts())
	}
	f.mustShow(t, "是否使用大字模式？", "使用大字模式", "不用了")
	f.tapExact(t, "使用大字模式")
	if f.ui.dialogShown() || !f.ui.theme.Large || !f.k.Sessions().Elder() {
		t.Fatalf("after yes: dialog %v, large %v, session elder %v", f.ui.dialogShown(), f.ui.theme.Large, f.k.Sessions().Elder())
	}
	f.mustShow(t, "标准字体")
	// Elder mode's time: 180 s.
	if left, _ := f.k.Sessions().Left(); left != 180*time.Second {
		t.Errorf("elder mode: %s left, want 180s", left)
	}
}

func TestElderModeNotOfferedToAYoungerCardNorTwice(t *testing.T) {
	f := newFixture(t, thursday)
	f.k.SetPerson(born(1961, 11, 27)) // 65 tomorrow
	if f.ui.dialogShown() {
		t.Fatalf("elder offer for a 64-year-old: %q", f.texts())
	}
	f.mustNotShow(t, "是否使用大字模式？")
	f.hallCmd().Reset(context.Background())

	f.k.SetPerson(born(1950, 1, 1))
	f.mustShow(t, "是否使用大字模式？")
	f.tapExact(t, "不用了")
	if f.ui.dialogShown() || f.ui.theme.Large || f.k.Sessions().Elder() {
		t.Fatal("no is not no")
	}
	// The same citizen's card read again in the session: asked once is enough.
	f.k.SetPerson(born(1950, 1, 1))
	if f.ui.dialogShown() {
		t.Fatal("offered twice in a session")
	}
}

// The next citizen starts in the default language and standard text, whatever the last one
// chose, whether the session ended by the idle timeout, by 完成 or by the hall.
func TestElderModeAndLanguageResetAtSessionEnd(t *testing.T) {
	f := newFixture(t, thursday)
	choose := func() {
		t.Helper()
		f.tap(t, "English")
		f.tap(t, "Large text")
		if f.ui.Lang() != "en" || !f.ui.theme.Large || !f.k.Sessions().Elder() {
			t.Fatalf("lang %s, large %v", f.ui.Lang(), f.ui.theme.Large)
		}
	}
	check := func(how string) {
		t.Helper()
		if f.ui.Lang() != "zh" || f.ui.theme.Large || f.k.Sessions().Elder() {
			t.Errorf("after %s: lang %s, large %v, session elder %v", how, f.ui.Lang(), f.ui.theme.Large, f.k.Sessions().Elder())
		}
		f.mustShow(t, "您好，请选择要办理的业务", "大字模式", "English")
	}
	choose()
	f.secondsToWarning(t)
	for i := 0; i < 20; i++ {
		f.tick(time.Second)
		f.k.Sessions().Tick()
	}
	check("the idle timeout")
	choose()
	f.hallCmd().Reset(context.Background())
	check("a reset by the hall")
	choose()
	f.k.Sessions().End(session.Finished)
	check("the end of the session")
}
