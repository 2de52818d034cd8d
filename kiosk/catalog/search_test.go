package catalog

import (
	"slices"
	"strings"
	"testing"
)

func ids(ms []*Matter) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func TestSearch(t *testing.T) {
	c := Demo()
	cases := []struct {
		name, query string
		want        []string // exact result, in order
	}{
		// Name prefix first (rank 0), then substring (rank 1), each in catalog order.
		{"zh prefix before substring", "居民身份证", []string{"zh-001", "zh-002", "zh-003"}},
		{"zh substring", "护照", []string{"crj-001", "crj-004"}},
		{"zh exact", "异地就医备案", []string{"yb-002"}},
		{"en substring", "passport", []string{"crj-001", "crj-004"}},
		{"en any case", "PASSPORT", []string{"crj-001", "crj-004"}},
		{"en prefix", "transfer of basic", []string{"yb-006"}},
		{"initials prefix before substring", "jmsf", []string{"zh-001", "zh-002", "zh-003"}},
		{"initials upper case", "JMSFZHL", []string{"zh-001"}},
		{"initials full-width", "ＪＭＳＦＺＨＬ", []string{"zh-001"}},
		{"initials shared by two names", "CXJMJBYLBX", []string{"sb-002", "yb-001"}},
		{"initials substring", "BDCDJ", []string{"bdc-003"}},
		{"id", "bdc-004", []string{"bdc-004"}},
		{"spaces trimmed", "  异地就医  ", []string{"yb-002"}},
		{"no match", "火星移民", nil},
		{"empty", "", nil},
		{"blank", "   ", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(c.Search(tc.query)); !slices.Equal(got, tc.want) {
				t.Errorf("Search(%q) = %v, want %v", tc.query, got, tc.want)
			}
		})
	}
}

func TestSearchRanksPrefixFirst(t *testing.T) {
	f := baseFile()
	m := *f.Matters[1]
	m.ID, m.Name, m.Initials = "bb-002", Text{"申领进度查询", "Application progress"}, "SLJDCX"
	f.Matters = append(f.Matters, &m)
	c, err := Parse(encode(t, f))
	if err != nil {
		t.Fatal(err)
	}
	// bb-001 社会保障卡申领 (SHBZKSL) comes first in the file but only contains the query;
	// bb-002 starts with it and must come first.
	for _, q := range []string{"SL", "申领"} {
		if got := ids(c.Search(q)); !slices.Equal(got, []string{"bb-002", "bb-001"}) {
			t.Errorf("Search(%q) = %v", q, got)
		}
	}
}

func BenchmarkSearch(b *testing.B) {
	c := Demo()
	for b.Loop() {
		c.Search("登记")
	}
}

// A section's name finds its matters, after the matters whose own name matches; one letter
// (a pinyin initial being typed) does not reach the sections.
func TestSearchBySectionName(t *testing.T) {
	c := Demo()
	got := c.Search("社保")
	if len(got) != len(c.Matters("sb")) {
		t.Fatalf("社保 finds %d matters, the section has %d", len(got), len(c.Matters("sb")))
	}
	for _, m := range got {
		if m.Section != "sb" {
			t.Errorf("社保 finds %s of %s", m.ID, m.Section)
		}
	}
	// "insurance" is in matter names and in two sections' English names: the named matters first.
	got = c.Search("medical insurance")
	if len(got) == 0 || got[0].ID != "yb-001" {
		t.Fatalf("medical insurance: %v", ids(got))
	}
	if containsSectionOnly(c, "S") {
		t.Errorf("one letter reaches the section names")
	}
}

// containsSectionOnly reports whether q finds a matter only by its section's name.
func containsSectionOnly(c *Catalog, q string) bool {
	lq := strings.ToLower(q)
	for _, m := range c.Search(q) {
		if !strings.Contains(strings.ToLower(m.Name.Zh), lq) && !strings.Contains(strings.ToLower(m.Name.En), lq) &&
			!strings.Contains(m.Initials, strings.ToUpper(q)) && m.ID != lq {
			return true
		}
	}
	return false
}
