package ui

import (
	"errors"
	"slices"
	"testing"

	"citizenhome/kiosk"
)

func helpRaised(f *fixture) bool {
	return slices.ContainsFunc(f.k.Alerts(), func(a kiosk.Alert) bool { return a.Code == kiosk.AlertHelpRequested })
}

// The 呼叫工作人员 tile raises the call for staff and says that someone is coming; the screens
// that tell a citizen something went wrong offer it too; staff mode on the kiosk ends it.
func TestCallStaff(t *testing.T) {
	f := newFixture(t, thursday)
	if helpRaised(f) {
		t.Fatal("a call raised before any tap")
	}
	f.tapExact(t, "呼叫工作人员")
	if !helpRaised(f) {
		t.Fatal("the tile raised no alert")
	}
	for _, s := range []string{"已呼叫工作人员", "工作人员马上就来，请在本机旁稍候。", "首页"} {
		if !f.shows(s) {
			t.Errorf("the help screen does not show %q: %q", s, f.texts())
		}
	}
	first, _ := f.k.HelpPending()
	f.tap(t, "首页")

	// A citizen stuck on an error screen calls from there; the call already raised stays one.
	f.k.CardUnreadable(kiosk.CardID, errors.New("read failed"))
	if !f.shows("读卡失败") {
		t.Fatalf("not the unreadable card screen: %q", f.texts())
	}
	f.tapExact(t, "呼叫工作人员")
	if !f.shows("已呼叫工作人员") {
		t.Fatalf("the error screen's button did not say staff were called: %q", f.texts())
	}
	n := 0
	for _, a := range f.k.Alerts() {
		if a.Code == kiosk.AlertHelpRequested {
			n++
			if !a.Since.Equal(first) {
				t.Errorf("a second tap made a new call: since %v, first %v", a.Since, first)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d help alerts after two taps", n)
	}

	f.staffByPIN(t)
	if helpRaised(f) {
		t.Error("staff mode did not end the call")
	}
}

func TestCallStaffEnglish(t *testing.T) {
	f := newFixture(t, thursday)
	f.tapExact(t, "English")
	f.tapExact(t, "Call staff")
	if !helpRaised(f) || !f.shows("Staff have been called") || !f.shows("A member of staff is on the way. Please wait by this kiosk.") {
		t.Fatalf("english help screen: %q", f.texts())
	}
}
