package catalog

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzParse: Parse never panics; every rejection is a non-empty ErrInvalid with no catalog; and
// everything accepted is valid, re-encodes, and is accepted again unchanged.
func FuzzParse(f *testing.F) {
	f.Add(DemoJSON())
	base, _ := json.Marshal(baseFile())
	f.Add(base)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"version":"x","version":"y"}`))
	f.Add([]byte(`{"matters":[{"id":"sb-001","fee":{"amount_fen":1e99}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			if c != nil {
				t.Fatal("catalog returned with an error")
			}
			if !errors.Is(err, ErrInvalid) || err.Error() == "" {
				t.Fatalf("rejection is not a proper ErrInvalid: %#v", err)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("no *Error in %v", err)
			}
			return
		}
		if c == nil {
			t.Fatal("nil catalog without an error")
		}
		if err := validate(&c.f); err != nil {
			t.Fatalf("accepted an invalid catalog: %v", err)
		}
		for _, m := range c.All() {
			if c.Section(m.Section) == nil || c.Matter(m.ID) != m {
				t.Fatalf("index broken for %s", m.ID)
			}
		}
		again, err := json.Marshal(c.f)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := Parse(again)
		if err != nil {
			t.Fatalf("re-encoded catalog rejected: %v", err)
		}
		if len(c2.All()) != len(c.All()) || c2.Version() != c.Version() {
			t.Fatal("round trip changed the catalog")
		}
	})
}
