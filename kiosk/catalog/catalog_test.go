package catalog

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestDemoCatalog(t *testing.T) {
	c, err := Parse(DemoJSON())
	if err != nil {
		t.Fatalf("demo.json invalid:\n%v", err)
	}
	if Demo() != Demo() {
		t.Error("Demo parses more than once")
	}
	if !c.IsDemo() || c.Version() == "" || c.Updated() == "" {
		t.Errorf("demo flag %v, version %q, updated %q", c.IsDemo(), c.Version(), c.Updated())
	}

	wantSections := []string{"综合窗口", "社保", "医保", "出入境", "市场监管", "不动产登记"}
	var got []string
	for _, s := range c.Sections() {
		got = append(got, s.Name.Zh)
	}
	if !slices.Equal(got, wantSections) {
		t.Errorf("sections %v, want %v", got, wantSections)
	}
	if n := len(c.All()); n < 30 {
		t.Errorf("%d matters, want at least 30", n)
	}

	handlings := map[Handling]int{}
	free, charged, weekendAll := 0, 0, 0
	letterOf := map[string]string{}  // section -> queue letter
	sectionOf := map[string]string{} // queue letter -> section
	for _, s := range c.Sections() {
		ms := c.Matters(s.ID)
		if len(ms) < 4 {
			t.Errorf("section %s has %d matters, want at least 4", s.ID, len(ms))
		}
		weekend := 0
		for _, m := range ms {
			handlings[m.Handling]++
			if m.Fee.Free {
				free++
			} else {
				charged++
			}
			if m.Weekend {
				weekend++
			}
			if l, ok := letterOf[s.ID]; ok && l != m.Queue {
				t.Errorf("section %s uses queue letters %s and %s", s.ID, l, m.Queue)
			}
			letterOf[s.ID] = m.Queue
			if other, ok := sectionOf[m.Queue]; ok && other != s.ID {
				t.Errorf("queue letter %s shared by %s and %s", m.Queue, other, s.ID)
			}
			sectionOf[m.Queue] = s.ID
			if !strings.HasPrefix(m.ID, s.ID+"-") {
				t.Errorf("matter %s is in section %s", m.ID, s.ID)
			}
		}
		if weekend == 0 {
			t.Errorf("section %s has no weekend (5+2) matter", s.ID)
		}
		weekendAll += weekend
	}
	if weekendAll == len(c.All()) {
		t.Error("every matter is served on weekends; art. 18 covers only announced ones")
	}
	for _, h := range Handlings {
		if handlings[h] == 0 {
			t.Errorf("no %s matter", h)
		}
	}
	if charged == 0 || free <= charged {
		t.Errorf("%d free and %d charged matters: want both, mostly free", free, charged)
	}
	if cats := c.Categories(); !slices.Equal(cats, []string{"A", "B", "C", "D", "E", "F"}) {
		t.Errorf("categories %v", cats)
	}
}

// TestDemoFees pins the charged amounts to the published national standards.
func TestDemoFees(t *testing.T) {
	want := map[string]int64{
		"zh-001":  2000,  // 居民身份证换领 20元
		"zh-002":  4000,  // 丢失补领 40元
		"zh-003":  1000,  // 临时居民身份证 10元
		"crj-001": 12000, // 普通护照 120元
		"crj-002": 6000,  // 往来港澳通行证 60元
		"crj-003": 1500,  // 一次有效签注 15元
		"crj-004": 12000,
		"bdc-001": 8000, // 住宅类不动产登记费 80元/件
		"bdc-002": 8000,
		"bdc-005": 1000, // 证书工本费 10元/本
		"bdc-006": 8000,
	}
	c := Demo()
	for _, m := range c.All() {
		fen, charged := want[m.ID]
		switch {
		case charged && (m.Fee.Free || m.Fee.AmountFen != fen):
			t.Errorf("%s %s: fee %+v, want %d fen", m.ID, m.Name.Zh, m.Fee, fen)
		case !charged && !m.Fee.Free:
			t.Errorf("%s %s: charged %d fen, want free", m.ID, m.Name.Zh, m.Fee.AmountFen)
		}
	}
}

func TestDemoRoundTrip(t *testing.T) {
	c := Demo()
	data, err := json.Marshal(c.f)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := Parse(data)
	if err != nil {
		t.Fatalf("re-encoded demo rejected: %v", err)
	}
	a, _ := json.Marshal(c2.f)
	if !bytes.Equal(a, data) {
		t.Error("re-encoded demo differs after a second round")
	}
}

func TestQueries(t *testing.T) {
	c, err := Parse(encode(t, baseFile()))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Section("bb"); s == nil || s.Name.En != "Social insurance" {
		t.Errorf("Section(bb) = %+v", s)
	}
	if c.Section("zz") != nil || c.Matter("zz-001") != nil || c.Matters("zz") != nil {
		t.Error("unknown ids must give nil")
	}
	if m := c.Matter("bb-001"); m == nil || m.Initials != "SHBZKSL" {
		t.Errorf("Matter(bb-001) = %+v", m)
	}
	if ms := c.Matters("aa"); len(ms) != 1 || ms[0].ID != "aa-001" {
		t.Errorf("Matters(aa) = %v", ms)
	}

	// Returned slices are the caller's own.
	all := c.All()
	all[0] = nil
	secs := c.Sections()
	secs[0] = nil
	if c.All()[0] == nil || c.Sections()[0] == nil {
		t.Error("modifying a returned slice changed the catalog")
	}

	// Sections come in display order, not file order.
	f := baseFile()
	f.Sections[0].Order, f.Sections[1].Order = 9, 3
	c, err = Parse(encode(t, f))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Sections(); s[0].ID != "bb" || s[1].ID != "aa" {
		t.Errorf("order: %s %s", s[0].ID, s[1].ID)
	}

	var zero Catalog
	if zero.All() != nil || zero.Matter("x") != nil || zero.Categories() != nil || zero.Search("x") != nil {
		t.Error("zero Catalog is not empty")
	}
}

func TestTextIn(t *testing.T) {
	tx := Text{"社保", "Social insurance"}
	cases := map[string]string{"zh": "社保", "en": "Social insurance", "EN": "Social insurance", "en-GB": "Social insurance",
		"en_US": "Social insurance", "": "社保", "fr": "社保", "zh-Hant": "社保", "eng": "社保"}
	for lang, want := range cases {
		if got := tx.In(lang); got != want {
			t.Errorf("In(%q) = %q, want %q", lang, got, want)
		}
	}
	if got := (Text{Zh: "社保"}).In("en"); got != "社保" {
		t.Errorf("missing English must fall back to Chinese, got %q", got)
	}
}

func TestLabels(t *testing.T) {
	want := map[Handling][2]string{
		Immediate: {"即办件", "Immediate"}, Promised: {"承诺件", "Promised"}, Joint: {"联办件", "Joint"},
		Approval: {"报批件", "Approval"}, Urgent: {"急办件", "Urgent (green channel)"},
	}
	if len(Handlings) != len(want) {
		t.Fatalf("%d handling types", len(Handlings))
	}
	for _, h := range Handlings {
		if !h.Valid() || h.Label().Zh != want[h][0] || h.Label().En != want[h][1] {
			t.Errorf("%s: valid %v label %+v", h, h.Valid(), h.Label())
		}
	}
	if Handling("").Valid() || Handling("x").Label().Zh != "x" {
		t.Error("invalid handling")
	}
	if !OriginalAndCopy.Valid() || OriginalAndCopy.Label().Zh != "原件及复印件" || MaterialKind("scan").Valid() {
		t.Error("material kinds")
	}

	fees := []struct {
		f      Fee
		zh, en string
	}{
		{Fee{Free: true}, "免费", "Free"},
		{Fee{AmountFen: 8000}, "80元", "CNY 80.00"},
		{Fee{AmountFen: 1550}, "15.50元", "CNY 15.50"},
		{Fee{AmountFen: 5}, "0.05元", "CNY 0.05"},
	}
	for _, tc := range fees {
		if got := tc.f.Label("zh"); got != tc.zh {
			t.Errorf("%+v zh: %q want %q", tc.f, got, tc.zh)
		}
		if got := tc.f.Label("en"); got != tc.en {
			t.Errorf("%+v en: %q want %q", tc.f, got, tc.en)
		}
	}

	m := &Matter{LegalDays: 60, LegalCalendarDays: true, PromisedDays: 15}
	if m.LegalLabel("zh") != "60日" || m.LegalLabel("en") != "60 days" || m.PromisedLabel("zh") != "15个工作日" {
		t.Errorf("%q %q %q", m.LegalLabel("zh"), m.LegalLabel("en"), m.PromisedLabel("zh"))
	}
	m = &Matter{LegalDays: 30}
	if m.LegalLabel("zh") != "30个工作日" || m.LegalLabel("en") != "30 working days" || m.PromisedLabel("en") != "same day" {
		t.Errorf("%q %q %q", m.LegalLabel("zh"), m.LegalLabel("en"), m.PromisedLabel("en"))
	}
	if (&Matter{NoLegalLimit: true}).LegalLabel("zh") != "法律未规定" {
		t.Error("no legal limit label")
	}
}

// The handling type is shown as the time a citizen waits, from the promised days, with the
// reason for the wait where another body or the green channel decides it.
func TestHandlingTime(t *testing.T) {
	cases := []struct {
		h      Handling
		days   int
		zh, en string
	}{
		{Immediate, 0, "当场办结", "Done on the spot"},
		{Promised, 15, "15个工作日办结", "Done within 15 working days"},
		{Promised, 1, "1个工作日办结", "Done within 1 working day"},
		{Joint, 5, "5个工作日办结（多部门联办）", "Done within 5 working days by several departments together"},
		{Approval, 30, "30个工作日办结（报上级部门审批）", "Done within 30 working days; a higher authority approves"},
		{Urgent, 3, "急办件：3个工作日办结", "Urgent (green channel): done within 3 working days"},
	}
	for _, c := range cases {
		m := &Matter{Handling: c.h, PromisedDays: c.days}
		if got := m.HandlingTime(); got.Zh != c.zh || got.En != c.en {
			t.Errorf("%s %d days: %+v, want %q / %q", c.h, c.days, got, c.zh, c.en)
		}
	}
	// Every matter of the demo catalog reads as a time, never as the jargon of its type.
	for _, m := range Demo().All() {
		ht := m.HandlingTime()
		if !strings.Contains(ht.Zh, "办结") || !strings.Contains(strings.ToLower(ht.En), "done ") {
			t.Errorf("%s: %+v", m.ID, ht)
		}
	}
}
