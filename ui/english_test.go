package ui

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"

	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/session"
)

// notEnglish is what may not appear in English text: Han characters, and the full-width forms
// and CJK punctuation (（）：，、。) whose ASCII counterparts English uses.
func notEnglish(r rune) bool {
	return unicode.Is(unicode.Han, r) || r >= 0x3000 && r <= 0x303F || r >= 0xFF00 && r <= 0xFFEF
}

// englishLeaks lists the texts on screen with a character that English does not use, except
// those in allowed (what is Chinese by design: the switch back to 中文, a citizen's own name).
func (f *fixture) englishLeaks(allowed ...string) []string {
	var out []string
	for _, s := range f.texts() {
		for _, a := range allowed {
			s = strings.ReplaceAll(s, a, "")
		}
		if strings.IndexFunc(s, notEnglish) >= 0 {
			out = append(out, s)
		}
	}
	return out
}

// In English every screen reachable in tests is English: no Han character, no full-width
// bracket or comma. The catalog has an English name for every hall section and matter (Parse
// requires both languages), so none is allowed to stay Chinese; what is allowed is Chinese by
// design: the 中文 switch, the citizen's own (masked) name and what they typed, and the hall's
// free-text lock message.
func TestEnglishModeHasNoChinese(t *testing.T) {
	f := newFixture(t, thursday)
	withHall(t, f)
	withPayments(t, f, nil)
	f.ui.setLanguage("en")
	allowed := []string{f.ui.t("nav.lang"), person("王小明", idWang).MaskedName(), f.k.Config().Hall.LockedMessage}
	if f.ui.t("nav.lang") != "中文" {
		t.Fatalf("the switch back reads %q", f.ui.t("nav.lang"))
	}
	seen := 0
	check := func(name string) {
		t.Helper()
		if f.ui.Lang() != "en" {
			t.Fatalf("%s: the screen went back to %q", name, f.ui.Lang())
		}
		seen++
		if leaks := f.englishLeaks(allowed...); len(leaks) > 0 {
			t.Errorf("%s in English shows %q", name, leaks)
		}
	}
	// In elder mode's large text too: it lays some screens out differently.
	for _, large := range []bool{true, false} {
		f.ui.setLarge(large)
		for name, show := range keyScreens(t, f) {
			show()
			if name == "complaint" {
				// Its sample text is typed Chinese; an English citizen types English.
				f.ui.flow.complaint.text = "Nobody at window 3"
				f.ui.complaintText()
			}
			check(name)
		}
	}
	c := f.k.Catalog()

	// The guide: every topic, a search, every matter's detail with its basis open.
	f.ui.showGuide()
	check("guide")
	for _, k := range guideTopics {
		f.ui.guide(k.En)
		check("guide topic " + k.En)
		if f.shows(f.ui.t("guide.none")) {
			t.Errorf("topic %q finds nothing in English", k.En)
		}
	}
	for _, m := range c.All() {
		f.ui.showGuideDetail(m, f.ui.showGuide)
		if len(m.Basis) > 0 {
			f.tap(t, f.ui.t("guide.basis_show"))
		}
		check("guide detail " + m.ID)
	}
	f.ui.showGuideDetail(c.Matter("zh-001"), f.ui.showGuide)
	f.tap(t, f.ui.t("guide.print"))
	check("checklist printed")

	// Taking a ticket: sections, each section's matters, confirm, the ticket; a green-channel one.
	for _, so := range f.k.Offer().Sections {
		f.ui.showMatters(so)
		check("matters " + so.Section.ID)
	}
	so := f.k.Offer().Sections[0]
	f.ui.showConfirm(so, so.Matters[0])
	check("confirm")
	f.tap(t, f.ui.t("ticket.confirm"))
	check("ticket done")
	urgent := c.Matter("crj-004")
	if urgent.Handling != catalog.Urgent {
		t.Fatal("crj-004 is no longer the urgent demo matter")
	}
	f.ui.takeFor(urgent, nil)
	check("urgent confirm")
	f.tap(t, f.ui.t("ticket.confirm"))
	check("urgent ticket done")

	// What goes wrong: paper out, a weekend matter, closed, an unreadable card, the idle warning.
	f.p.Set(printerPaperOut, nil, nil)
	f.ui.take(so.Matters[0])
	check("printer error")
	f.ui.showGuideDetail(c.Matter("zh-001"), f.ui.showGuide)
	f.tap(t, f.ui.t("guide.print"))
	check("checklist not printed")
	f.p.Set(printerOK, nil, nil)
	f.ui.ticketError(kiosk.ErrNotOnWeekend)
	check("weekend")
	f.ui.ticketError(errors.New("other"))
	check("other error")
	f.k.CardUnreadable(kiosk.CardID, errors.New("read failed"))
	check("unreadable card")
	f.ui.showIdle(20 * time.Second)
	check("idle warning")
	f.ui.hideIdle()
	f.clock.Set(thursday.Add(12 * time.Hour))
	f.ui.showSections()
	check("closed")
	f.ui.showLocked(f.k.Config().Hall.LockedMessage)
	check("locked")
	if seen < 90 {
		t.Errorf("only %d screens walked", seen)
	}
}

// 急办件 has one English name on the guide, the lists, the confirm and the done screens.
func TestUrgentOneTermEverywhere(t *testing.T) {
	f := newFixtureOpts(t, thursday, fixtureOptions{edit: func(c *config.Config) { c.Devices.PrinterEnglish = true }})
	f.ui.setLanguage("en")
	m := f.k.Catalog().Matter("crj-004")
	const term = "Urgent (green channel)"
	f.ui.showGuideDetail(m, f.ui.showGuide)
	f.mustShow(t, term)
	f.ui.guide("urgent")
	f.mustShow(t, m.Name.En+"  ·  "+term)
	f.ui.takeFor(m, nil)
	f.mustShow(t, term+": you get a priority ticket")
	f.tap(t, f.ui.t("ticket.confirm"))
	f.mustShow(t, term+": you get a priority ticket")
	f.mustNotShow(t, "Green channel", "Urgent:")
	text := printedLines(t, f.p.Doc(0))
	if !strings.Contains(text, "急办件") || !strings.Contains(text, strings.Join(strings.Fields(term), "")) {
		t.Errorf("the ticket does not name it %q: %s", term, text)
	}
}

// foreigner is a foreign resident's card as the ID reader gives it (rig.PersonOf).
func foreigner() *kiosk.Person {
	return &kiosk.Person{Kind: kiosk.KindForeigner, EnglishName: "MUELLER, ANNA MARIA", Number: "DEU410085031204",
		Birth: time.Date(1985, 3, 12, 0, 0, 0, 0, thursday.Location())}
}

// A foreign resident's card switches the screen to English and greets by the English name; the
// next citizen gets the kiosk's language back.
func TestForeignCardGreetsInEnglish(t *testing.T) {
	f := newFixture(t, thursday)
	if f.ui.Lang() != "zh" {
		t.Fatalf("starts in %q", f.ui.Lang())
	}
	f.k.SetPerson(foreigner())
	if f.ui.Lang() != "en" {
		t.Fatalf("a foreigner card left the screen in %q", f.ui.Lang())
	}
	f.mustShow(t, "Hello, Anna M.", "Take a ticket", "中文")
	f.mustNotShow(t, "Hello, *", "MUELLER", "ANNA MARIA")
	if leaks := f.englishLeaks("中文"); len(leaks) > 0 {
		t.Errorf("home for a foreign resident shows %q", leaks)
	}
	// The citizen may still choose Chinese.
	f.tapExact(t, "中文")
	f.mustShow(t, "您好，Anna M.")
	f.k.Sessions().End(session.Idle)
	if f.ui.Lang() != "zh" || f.shows("Anna") {
		t.Errorf("after the session: %q, %q", f.ui.Lang(), f.texts())
	}
	// A resident's card leaves the language alone.
	f.ui.setLanguage("en")
	f.k.SetPerson(person("王小明", idWang))
	if f.ui.Lang() != "en" {
		t.Errorf("a resident card switched the screen to %q", f.ui.Lang())
	}
}

// A card read on a screen waiting for it (progress by card) shows its answer in English.
func TestForeignCardSwitchesWaitingScreen(t *testing.T) {
	f := newFixture(t, thursday)
	withHall(t, f)
	f.tap(t, "办件查询")
	f.k.SetPerson(foreigner())
	if f.ui.Lang() != "en" {
		t.Fatalf("language %q", f.ui.Lang())
	}
	f.mustShow(t, "Anna M.")
	if leaks := f.englishLeaks("中文"); len(leaks) > 0 {
		t.Errorf("progress for a foreign resident shows %q", leaks)
	}
}
