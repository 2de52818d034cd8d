package catalog

import "sync/atomic"

// Holder holds the catalog a running kiosk serves and swaps it atomically, so the screens can
// keep reading while the hall pushes a new file (the reload-catalog command). The zero value
// holds no catalog. Safe for concurrent use.
type Holder struct {
	p atomic.Pointer[Catalog]
}

// NewHolder returns a Holder serving c (nil: none yet).
func NewHolder(c *Catalog) *Holder {
	h := &Holder{}
	if c != nil {
		h.p.Store(c)
	}
	return h
}

// Current returns the catalog being served, nil if none was ever set. A caller that reads
// several things should call Current once and use that catalog, so that a concurrent reload
// cannot mix two versions on one screen.
func (h *Holder) Current() *Catalog { return h.p.Load() }

// Replace serves c from now on. A nil c is ignored: a kiosk never goes from a catalog to none.
func (h *Holder) Replace(c *Catalog) {
	if c != nil {
		h.p.Store(c)
	}
}

// ReloadFile loads the file at path and, only if it is entirely valid, serves it. On any error
// (the same as LoadFile's) the catalog served before stays in place, untouched.
func (h *Holder) ReloadFile(path string) error {
	c, err := LoadFile(path)
	if err != nil {
		return err
	}
	h.p.Store(c)
	return nil
}
