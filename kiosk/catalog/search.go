package catalog

import (
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// Search returns the matters whose Chinese or English name contains query, whose pinyin
// initials contain it (the kiosk's letter keypad: "JMSF" finds 居民身份证换领), whose id equals
// it, or whose section's name contains a query of two characters or more (社保 finds the
// matters of the 社保 section, after any whose own name matches). Matching ignores case and surrounding spaces, and folds full-width letters and digits
// (ＪＭＳＦ, as a Chinese IME types them) to ASCII. Matches that start with the query — by name,
// by initials — or equal the id come first; within each group the catalog's order is kept.
// An empty or all-space query, or one that matches nothing, returns nil.
func (c *Catalog) Search(query string) []*Matter {
	q := strings.ToLower(strings.TrimSpace(width.Fold.String(query)))
	if q == "" {
		return nil
	}
	upper := strings.ToUpper(q)
	type hit struct {
		m    *Matter
		rank int
	}
	var hits []hit
	for _, m := range c.f.Matters {
		zh := strings.ToLower(m.Name.Zh)
		en := strings.ToLower(m.Name.En)
		rank := -1
		switch {
		case m.ID == q, strings.HasPrefix(zh, q), strings.HasPrefix(en, q), strings.HasPrefix(m.Initials, upper):
			rank = 0
		case strings.Contains(zh, q), strings.Contains(en, q), strings.Contains(m.Initials, upper):
			rank = 1
		case utf8.RuneCountInString(q) >= 2 && c.sectionNamed(m.Section, q):
			rank = 2
		}
		if rank >= 0 {
			hits = append(hits, hit{m, rank})
		}
	}
	if len(hits) == 0 {
		return nil
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].rank < hits[j].rank })
	out := make([]*Matter, len(hits))
	for i, h := range hits {
		out[i] = h.m
	}
	return out
}

// sectionNamed reports whether the section id's name contains q (lower case) in either language.
func (c *Catalog) sectionNamed(id, q string) bool {
	s := c.sectionBy[id]
	return s != nil && (strings.Contains(strings.ToLower(s.Name.Zh), q) || strings.Contains(strings.ToLower(s.Name.En), q))
}
