package catalog

import (
	_ "embed"
	"sync"
)

// demoJSON is a realistic but invented catalog for demonstrations and tests; it is marked
// "demo": true so a kiosk can say so on screen.
//
//go:embed demo.json
var demoJSON []byte

var demo = sync.OnceValues(func() (*Catalog, error) { return Parse(demoJSON) })

// Demo returns the embedded demo catalog (IsDemo true): six sections of the hall and 36
// matters with real legal bases and fee standards. The catalog is parsed once and shared.
// It panics only if the embedded file is invalid, which the package's tests rule out.
func Demo() *Catalog {
	c, err := demo()
	if err != nil {
		panic("catalog: embedded demo.json is invalid: " + err.Error())
	}
	return c
}

// DemoJSON returns a copy of the embedded demo file, to write out as a starting point for a
// hall's own catalog.
func DemoJSON() []byte { return append([]byte(nil), demoJSON...) }
