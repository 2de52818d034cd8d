package catalog

import (
	"errors"
	"strings"
	"testing"
)

func TestLocationLabels(t *testing.T) {
	for _, c := range []struct {
		l      Location
		zh, en string
	}{
		{Location{Floor: 2, Zone: Text{"B区", "zone B"}, Windows: []int{5, 6, 7, 8}}, "二楼 B区 5-8号窗口", "2F, zone B, windows 5-8"},
		{Location{Floor: 1, Windows: []int{3}}, "一楼 3号窗口", "1F, window 3"},
		{Location{Floor: 3, Windows: []int{3, 5, 6, 9}}, "三楼 3、5-6、9号窗口", "3F, windows 3, 5-6, 9"},
		{Location{Floor: 10}, "十楼", "10F"},
		{Location{Floor: 12, Zone: Text{"东区", "east zone"}}, "十二楼 东区", "12F, east zone"},
		{Location{Floor: 21, Windows: []int{1, 2}}, "二十一楼 1-2号窗口", "21F, windows 1-2"},
		{Location{Floor: 30}, "三十楼", "30F"},
		{Location{Floor: -1, Zone: Text{"P区", "zone P"}}, "负一楼 P区", "B1, zone P"},
		{Location{Floor: 0}, "0", "0"}, // not valid: never from a parsed catalog
	} {
		got := c.l.Label()
		if got.Zh != c.zh || got.En != c.en {
			t.Errorf("%+v: got %q / %q, want %q / %q", c.l, got.Zh, got.En, c.zh, c.en)
		}
	}
}

func TestLocationParsed(t *testing.T) {
	f := baseFile()
	f.Sections[1].Location = &Location{Floor: 2, Zone: Text{"B区", "zone B"}, Windows: []int{5, 6, 7, 8}}
	c, err := Parse(encode(t, f))
	if err != nil {
		t.Fatal(err)
	}
	if l := c.Section("bb").Location; l == nil || l.Label().Zh != "二楼 B区 5-8号窗口" {
		t.Fatalf("bb location %+v", l)
	}
	if c.Section("aa").Location != nil {
		t.Fatal("a section without a location got one")
	}
	// The demo catalog gives every section a location.
	for _, s := range Demo().Sections() {
		if s.Location == nil || len(s.Location.Windows) == 0 {
			t.Errorf("demo section %s has no location with windows", s.ID)
		}
	}
}

func TestLocationInvalid(t *testing.T) {
	for _, c := range []struct {
		name  string
		loc   *Location
		raw   string // replaces the location's JSON when set
		field string
		why   string
	}{
		{"floor zero", &Location{Floor: 0, Windows: []int{1}}, "", "sections[1].location.floor", "not 0"},
		{"floor missing", nil, `{"windows": [1]}`, "sections[1].location.floor", "not 0"},
		{"floor too high", &Location{Floor: 100}, "", "sections[1].location.floor", "got 100"},
		{"floor too deep", &Location{Floor: -6}, "", "sections[1].location.floor", "got -6"},
		{"zone one language", &Location{Floor: 1, Zone: Text{Zh: "B区"}}, "", "sections[1].location.zone.en", "required"},
		{"zone spaces", &Location{Floor: 1, Zone: Text{"B区 ", "zone B"}}, "", "sections[1].location.zone.zh", "spaces"},
		{"window zero", &Location{Floor: 1, Windows: []int{0, 1}}, "", "sections[1].location.windows[0]", "1..999"},
		{"window too high", &Location{Floor: 1, Windows: []int{1000}}, "", "sections[1].location.windows[0]", "1..999"},
		{"window twice", &Location{Floor: 1, Windows: []int{5, 5}}, "", "sections[1].location.windows[1]", "ascending"},
		{"windows descending", &Location{Floor: 1, Windows: []int{8, 5}}, "", "sections[1].location.windows[1]", "ascending"},
		{"too many windows", &Location{Floor: 1, Windows: seq(61)}, "", "sections[1].location.windows", "at most 60"},
		{"window as text", nil, `{"floor": 1, "windows": ["5-8"]}`, "sections[1].location.windows[0]", "got a string"},
		{"floor as text", nil, `{"floor": "2F"}`, "sections[1].location.floor", "got a string"},
		{"unknown key", nil, `{"floor": 1, "room": "101"}`, "sections[1].location.room", "unknown"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := baseFile()
			f.Sections[1].Location = c.loc
			if c.raw != "" {
				f.Sections[1].Location = &Location{Floor: 7}
			}
			data := encode(t, f)
			if c.raw != "" {
				s := string(data)
				i := strings.Index(s, `"location": {`)
				j := strings.Index(s[i:], "}")
				s = s[:i] + `"location": ` + c.raw + s[i+j+1:]
				data = []byte(s)
			}
			_, err := Parse(data)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("accepted: %v", err)
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("not Errors: %T", err)
			}
			for _, e := range es {
				if e.Field == c.field && strings.Contains(e.Error(), c.why) {
					return
				}
			}
			t.Fatalf("no error at %s saying %q:\n%v", c.field, c.why, err)
		})
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}
