package catalog

import (
	"fmt"
	"strconv"
	"strings"
)

// Location is where in the building a section serves citizens: the floor, optionally a zone, and
// the windows (窗口) that call its tickets. The kiosk shows it when a ticket is taken or an
// appointment checked in ("请到 二楼 B区 5-8号窗口") and prints it on the ticket, so that a citizen
// who has never been to the hall walks straight there.
type Location struct {
	// Floor is the storey: 1 is the ground floor (一楼 / 1F), 2 the next (二楼 / 2F); a basement is
	// negative (-1: 负一楼 / B1). 0 is not a floor and is rejected, so that a forgotten field cannot
	// send citizens to a floor that does not exist. minFloor..maxFloor.
	Floor int `json:"floor"`
	// Zone is the area of the floor as signposted (B区 / zone B); optional, both languages when given.
	Zone Text `json:"zone,omitzero"`
	// Windows are the window numbers, strictly ascending, each 1..maxWindow; optional. Consecutive
	// numbers are shown as a range (5, 6, 7, 8 → 5-8号窗口 / windows 5-8).
	Windows []int `json:"windows,omitzero"`
}

// Bounds of a Location; a hall is not taller, deeper or wider than this.
const (
	minFloor   = -5
	maxFloor   = 99
	maxWindow  = 999
	maxWindows = 60
)

var zhDigits = []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"}

// zhNumber writes 1..99 in Chinese numerals as a floor is named: 二, 十, 十一, 二十, 二十一.
func zhNumber(n int) string {
	switch {
	case n < 10:
		return zhDigits[n]
	case n < 20:
		s := "十"
		if n%10 != 0 {
			s += zhDigits[n%10]
		}
		return s
	default:
		s := zhDigits[n/10] + "十"
		if n%10 != 0 {
			s += zhDigits[n%10]
		}
		return s
	}
}

// FloorLabel names the floor: 二楼 / 2F, 负一楼 / B1. A floor outside the valid range (a
// Location not from a validated catalog) yields its number in both languages.
func (l Location) FloorLabel() Text {
	switch {
	case l.Floor >= 1 && l.Floor <= maxFloor:
		return Text{zhNumber(l.Floor) + "楼", strconv.Itoa(l.Floor) + "F"}
	case l.Floor <= -1 && l.Floor >= minFloor:
		return Text{"负" + zhNumber(-l.Floor) + "楼", "B" + strconv.Itoa(-l.Floor)}
	}
	s := strconv.Itoa(l.Floor)
	return Text{s, s}
}

// windowRuns writes ascending window numbers with consecutive runs as ranges: "3, 5-8" with sep
// ", ". It does not sort: a validated catalog's windows are ascending already.
func windowRuns(ws []int, sep string) string {
	var parts []string
	for i := 0; i < len(ws); {
		j := i
		for j+1 < len(ws) && ws[j+1] == ws[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(ws[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", ws[i], ws[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, sep)
}

// WindowsLabel names the windows: 5-8号窗口 / windows 5-8, 3号窗口 / window 3, 3、5-6号窗口 /
// windows 3, 5-6. Zero Text without windows.
func (l Location) WindowsLabel() Text {
	switch len(l.Windows) {
	case 0:
		return Text{}
	case 1:
		n := strconv.Itoa(l.Windows[0])
		return Text{n + "号窗口", "window " + n}
	}
	return Text{windowRuns(l.Windows, "、") + "号窗口", "windows " + windowRuns(l.Windows, ", ")}
}

// Label is the whole location as one line: 二楼 B区 5-8号窗口 / 2F, zone B, windows 5-8; parts
// not given are left out (二楼 / 2F for a floor alone).
func (l Location) Label() Text {
	zh := []string{l.FloorLabel().Zh}
	en := []string{l.FloorLabel().En}
	if !l.Zone.IsZero() {
		zh, en = append(zh, l.Zone.Zh), append(en, l.Zone.En)
	}
	if w := l.WindowsLabel(); !w.IsZero() {
		zh, en = append(zh, w.Zh), append(en, w.En)
	}
	return Text{strings.Join(zh, " "), strings.Join(en, ", ")}
}

// validateLocation checks a section's location; field is its JSON path ("sections[1].location").
func validateLocation(p *problems, field string, l *Location) {
	if l.Floor == 0 || l.Floor < minFloor || l.Floor > maxFloor {
		p.add(field+".floor", "must be %d..%d and not 0 (1 is the ground floor, -1 the first basement), got %d", minFloor, maxFloor, l.Floor)
	}
	p.optText(field+".zone", l.Zone)
	if len(l.Windows) > maxWindows {
		p.add(field+".windows", "at most %d windows, got %d", maxWindows, len(l.Windows))
		return
	}
	for i, w := range l.Windows {
		fld := fmt.Sprintf("%s.windows[%d]", field, i)
		switch {
		case w < 1 || w > maxWindow:
			p.add(fld, "must be 1..%d, got %d", maxWindow, w)
		case i > 0 && w <= l.Windows[i-1]:
			p.add(fld, "%d must be greater than the window before it (%d): list windows once, ascending", w, l.Windows[i-1])
		}
	}
}
