// Package catalog holds the service catalog (办事指南) of the citizen service hall: the hall's
// sections and, for every matter (事项), what the 开封市民之家管理办法 requires a guide to show —
// legal basis, conditions, procedure, statutory and promised time limits, fee standard and the
// blank and sample forms (art. 22), the handling type (art. 24), 5+2 weekend service (art. 18),
// the approved fee (art. 13) and the hall section it belongs to (art. 40).
//
// A catalog is read from one JSON file, strictly: unknown or duplicate keys, trailing data and any
// rule broken are errors, and every problem is reported at once with the matter id and field at
// fault (see Parse). A *Catalog is immutable once built and safe for concurrent readers; Holder
// swaps whole catalogs atomically so a kiosk can reload the file while citizens browse.
//
// Citizens are not shown the handling type's name (承诺件 is jargon to them) but the time it
// means, from "handling" and "promised_days" alone (Matter.HandlingTime: "15个工作日办结" / "Done
// within 15 working days", 即办件 "当场办结" / "Done on the spot"); the format has no field for it.
// The kiosk prints a matter's "materials" and "steps", with that time and the fee, as the
// 一次性告知单 a citizen takes home (slip.Checklist); both languages of every text are required, so
// an English screen never falls back to Chinese. The guide's one-tap topics search section names
// too (Search): 社保 lists the 社保 section's matters.
//
// A section may say where it serves: "location": {"floor": 2, "zone": {"zh": "B区", "en": "zone
// B"}, "windows": [5, 6, 7, 8]}. floor is required in a location (1 the ground floor, -1 the first
// basement, -5..99, never 0); zone is optional and then bilingual; windows are optional window
// numbers 1..999, strictly ascending, at most 60. The kiosk shows it after a ticket is taken or an
// appointment checked in and prints it on the ticket (Location.Label: "二楼 B区 5-8号窗口" / "2F,
// zone B, windows 5-8"); a section without one gets no directions.
package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// Text is a user-facing string in Chinese and English. Chinese comes first: it is the text of
// record and the fallback whenever English is missing or another language is asked for.
type Text struct {
	Zh string `json:"zh"`
	En string `json:"en"`
}

// In returns the text in lang: En for "en" or any "en-*" tag (case-insensitive) when En is not
// empty, Zh otherwise — for "zh", for an empty or unknown lang, and when En is empty.
func (t Text) In(lang string) string {
	if isEnglish(lang) && t.En != "" {
		return t.En
	}
	return t.Zh
}

func isEnglish(lang string) bool {
	l := strings.ToLower(lang)
	return l == "en" || strings.HasPrefix(l, "en-") || strings.HasPrefix(l, "en_")
}

// IsZero reports whether both languages are empty; optional texts (a material's note) may be zero.
func (t Text) IsZero() bool { return t.Zh == "" && t.En == "" }

// Handling is how a matter is handled, per art. 24 of the 管理办法. The zero value is invalid.
type Handling string

// The five handling types of art. 24. Their JSON spelling is the string value.
const (
	Immediate Handling = "immediate" // 即办件: finished on the spot, promised time 0.
	Promised  Handling = "promised"  // 承诺件: finished within the promised time.
	Joint     Handling = "joint"     // 联办件: several departments review together or in parallel.
	Approval  Handling = "approval"  // 报批件: accepted here, approved by a higher authority; the window follows it up.
	Urgent    Handling = "urgent"    // 急办件: green channel (绿色通道).
)

// Handlings lists the handling types in the order of art. 24. Do not modify it.
var Handlings = []Handling{Immediate, Promised, Joint, Approval, Urgent}

var handlingLabels = map[Handling]Text{
	Immediate: {"即办件", "Immediate"},
	Promised:  {"承诺件", "Promised"},
	Joint:     {"联办件", "Joint"},
	Approval:  {"报批件", "Approval"},
	// One English term for 急办件 on every screen and slip: "Urgent" alone read as a priority
	// ticket, "Green channel" alone as a queue.
	Urgent: {"急办件", "Urgent (green channel)"},
}

// Valid reports whether h is one of the five handling types.
func (h Handling) Valid() bool { _, ok := handlingLabels[h]; return ok }

// Label is the display name (即办件 / Immediate). An invalid h yields its raw value in both languages.
func (h Handling) Label() Text {
	if t, ok := handlingLabels[h]; ok {
		return t
	}
	return Text{string(h), string(h)}
}

// MaterialKind says whether a required material is shown as original, handed in as a copy, or both.
type MaterialKind string

// Material kinds. Their JSON spelling is the string value.
const (
	Original        MaterialKind = "original"          // 原件
	Copy            MaterialKind = "copy"              // 复印件
	OriginalAndCopy MaterialKind = "original_and_copy" // 原件及复印件: original inspected and returned, copy kept
)

var kindLabels = map[MaterialKind]Text{
	Original:        {"原件", "original"},
	Copy:            {"复印件", "copy"},
	OriginalAndCopy: {"原件及复印件", "original and copy"},
}

// Valid reports whether k is a known kind.
func (k MaterialKind) Valid() bool { _, ok := kindLabels[k]; return ok }

// Label is the display name (原件 / original). An invalid k yields its raw value in both languages.
func (k MaterialKind) Label() Text {
	if t, ok := kindLabels[k]; ok {
		return t
	}
	return Text{string(k), string(k)}
}

// Section is one area of the hall (art. 40: 社保, 医保, 出入境, 市场监管, 不动产登记 as sub-halls,
// plus the 综合窗口 general window of art. 27).
type Section struct {
	ID    string `json:"id"`
	Name  Text   `json:"name"`
	Order int    `json:"order"` // display order, ascending; unique and > 0
	// Location is where the section serves, shown after a ticket is taken and printed on it;
	// nil when the catalog does not say (the kiosk then shows and prints no directions).
	Location *Location `json:"location,omitzero"`
}

// Material is one document the applicant brings.
type Material struct {
	Name   Text         `json:"name"`
	Kind   MaterialKind `json:"kind"`
	Copies int          `json:"copies"`        // how many of Kind, 1..99
	Note   Text         `json:"note,omitzero"` // optional; when given, both languages
}

// Fee is either free (Free true, nothing else set) or charged: the approved standard (art. 13)
// as text and the amount in fen (1 元 = 100 fen), > 0.
type Fee struct {
	Free      bool  `json:"free,omitzero"`
	Standard  Text  `json:"standard,omitzero"`
	AmountFen int64 `json:"amount_fen,omitzero"`
}

// Label is the short display form in lang (English for "en*", Chinese otherwise): 免费 / Free,
// or 80元 / CNY 80.00; Chinese shows fen only when the amount is not whole yuan (0.50元).
func (f Fee) Label(lang string) string {
	en := isEnglish(lang)
	if f.Free {
		if en {
			return "Free"
		}
		return "免费"
	}
	y, fen := f.AmountFen/100, f.AmountFen%100
	if en {
		return fmt.Sprintf("CNY %d.%02d", y, fen)
	}
	if fen == 0 {
		return fmt.Sprintf("%d元", y)
	}
	return fmt.Sprintf("%d.%02d元", y, fen)
}

// Template is an application form (申请书格式文本) with a filled-in sample (样本), art. 22. Blank and
// Sample are bare file names, resolved by whoever displays or prints them; they need not exist yet.
type Template struct {
	Name   Text   `json:"name"`
	Blank  string `json:"blank"`
	Sample string `json:"sample"`
}

// Matter is one service matter (事项) and its guide. Treat it as read-only: the same *Matter is
// shared by every reader of a catalog.
type Matter struct {
	ID         string     `json:"id"` // stable, "sb-001"
	Name       Text       `json:"name"`
	Initials   string     `json:"initials"` // pinyin initials of Name.Zh, one capital per Han character: 居民身份证换领 → JMSFZHL
	Department Text       `json:"department"`
	Section    string     `json:"section"` // Section.ID
	Handling   Handling   `json:"handling"`
	Queue      string     `json:"queue"`   // queue category letter A-Z
	Weekend    bool       `json:"weekend"` // served on Saturdays and Sundays too (5+2, art. 18)
	Basis      []Text     `json:"basis"`   // 设定依据: each names a legal text in 《》
	Conditions []Text     `json:"conditions"`
	Materials  []Material `json:"materials"`
	Steps      []Text     `json:"steps"`
	// LegalDays is the statutory time limit (法定时限). It counts working days (工作日) unless
	// LegalCalendarDays is set because the law counts natural days (日), as the 居民身份证法 does.
	// 0 means the law sets no limit and is accepted only together with NoLegalLimit, so that a
	// forgotten field cannot pass as "no limit".
	LegalDays         int  `json:"legal_days"`
	LegalCalendarDays bool `json:"legal_calendar_days,omitzero"`
	NoLegalLimit      bool `json:"no_legal_limit,omitzero"`
	// PromisedDays is the hall's promise (承诺时限) in working days, never above LegalDays; 0 means
	// same day and is used exactly by 即办件.
	PromisedDays int        `json:"promised_days"`
	Fee          Fee        `json:"fee"`
	Templates    []Template `json:"templates,omitzero"`
}

// LegalLabel is the statutory limit for display: 60日 / 60 days, 30个工作日 / 30 working days,
// 无 / none.
func (m *Matter) LegalLabel(lang string) string {
	en := isEnglish(lang)
	switch {
	case m.NoLegalLimit:
		return Text{"法律未规定", "not set by law"}.In(lang)
	case m.LegalCalendarDays && en:
		return fmt.Sprintf("%d days", m.LegalDays)
	case m.LegalCalendarDays:
		return fmt.Sprintf("%d日", m.LegalDays)
	case en:
		return fmt.Sprintf("%d working days", m.LegalDays)
	default:
		return fmt.Sprintf("%d个工作日", m.LegalDays)
	}
}

// HandlingTime says, in words a citizen understands, when the matter is done: 当场办结 / Done on
// the spot for a matter promised the same day (every 即办件), 15个工作日办结 / Done within 15
// working days otherwise (1 working day). It is read from Handling and PromisedDays only: the
// catalog format needs nothing more. A matter several departments handle (联办件) or another
// body approves (报批件) says so after the time, an urgent one (急办件) starts with its label,
// because that is what the citizen waits on; a 承诺件 and a 即办件 need no word beyond the time.
func (m *Matter) HandlingTime() Text {
	var t Text
	switch m.PromisedDays {
	case 0:
		t = Text{"当场办结", "Done on the spot"}
	case 1:
		t = Text{"1个工作日办结", "Done within 1 working day"}
	default:
		t = Text{fmt.Sprintf("%d个工作日办结", m.PromisedDays), fmt.Sprintf("Done within %d working days", m.PromisedDays)}
	}
	switch m.Handling {
	case Joint:
		return Text{t.Zh + "（多部门联办）", t.En + " by several departments together"}
	case Approval:
		return Text{t.Zh + "（报上级部门审批）", t.En + "; a higher authority approves"}
	case Urgent:
		u := Urgent.Label()
		return Text{u.Zh + "：" + t.Zh, u.En + ": " + strings.ToLower(t.En[:1]) + t.En[1:]}
	}
	return t
}

// PromisedLabel is the promised limit for display: 当场办结 / same day for 0.
func (m *Matter) PromisedLabel(lang string) string {
	if m.PromisedDays == 0 {
		return Text{"当场办结", "same day"}.In(lang)
	}
	return Text{fmt.Sprintf("%d个工作日", m.PromisedDays), fmt.Sprintf("%d working days", m.PromisedDays)}.In(lang)
}

// file is the JSON document; field order here is the canonical order of the file and the order
// in which problems are reported.
type file struct {
	Demo     bool       `json:"demo,omitzero"`
	Version  string     `json:"version"`
	Updated  string     `json:"updated"` // YYYY-MM-DD
	Sections []*Section `json:"sections"`
	Matters  []*Matter  `json:"matters"`
}

// Catalog is a validated, immutable catalog. The zero value is an empty catalog; build real ones
// with Parse, LoadFile or Demo. All methods are safe for concurrent use; returned slices are fresh
// copies but the *Section and *Matter they hold are shared and must not be modified.
type Catalog struct {
	f         file
	sections  []*Section // by Order
	sectionBy map[string]*Section
	matterBy  map[string]*Matter
	bySection map[string][]*Matter
}

func build(f file) *Catalog {
	c := &Catalog{
		f:         f,
		sections:  append([]*Section(nil), f.Sections...),
		sectionBy: make(map[string]*Section, len(f.Sections)),
		matterBy:  make(map[string]*Matter, len(f.Matters)),
		bySection: make(map[string][]*Matter, len(f.Sections)),
	}
	sort.SliceStable(c.sections, func(i, j int) bool { return c.sections[i].Order < c.sections[j].Order })
	for _, s := range f.Sections {
		c.sectionBy[s.ID] = s
	}
	for _, m := range f.Matters {
		c.matterBy[m.ID] = m
		c.bySection[m.Section] = append(c.bySection[m.Section], m)
	}
	return c
}

// IsDemo reports whether the file declared itself demo data ("demo": true); a kiosk shows a
// 演示数据 banner for such a catalog.
func (c *Catalog) IsDemo() bool { return c.f.Demo }

// Version is the file's version string, never empty for a parsed catalog.
func (c *Catalog) Version() string { return c.f.Version }

// Updated is the file's date of last change, YYYY-MM-DD.
func (c *Catalog) Updated() string { return c.f.Updated }

// Sections returns the sections in display order.
func (c *Catalog) Sections() []*Section { return append([]*Section(nil), c.sections...) }

// Section returns the section with that id, or nil.
func (c *Catalog) Section(id string) *Section { return c.sectionBy[id] }

// Matters returns the matters of a section in file order; nil for an unknown section or one
// without matters.
func (c *Catalog) Matters(sectionID string) []*Matter {
	return append([]*Matter(nil), c.bySection[sectionID]...)
}

// Matter returns the matter with that id, or nil.
func (c *Catalog) Matter(id string) *Matter { return c.matterBy[id] }

// All returns every matter in file order.
func (c *Catalog) All() []*Matter { return append([]*Matter(nil), c.f.Matters...) }

// Categories returns the queue letters used by at least one matter, sorted, without repeats.
func (c *Catalog) Categories() []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range c.f.Matters {
		if !seen[m.Queue] {
			seen[m.Queue] = true
			out = append(out, m.Queue)
		}
	}
	sort.Strings(out)
	return out
}
