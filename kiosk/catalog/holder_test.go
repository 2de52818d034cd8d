package catalog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

func writeCatalog(t *testing.T, path, version string) {
	t.Helper()
	f := baseFile()
	f.Version = version
	if err := os.WriteFile(path, encode(t, f), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestHolderReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "catalog.json")

	var h Holder
	if h.Current() != nil {
		t.Fatal("zero Holder must hold nothing")
	}
	h.Replace(nil)
	if h.Current() != nil {
		t.Fatal("Replace(nil) stored something")
	}

	writeCatalog(t, path, "v1")
	if err := h.ReloadFile(path); err != nil {
		t.Fatal(err)
	}
	v1 := h.Current()
	if v1 == nil || v1.Version() != "v1" {
		t.Fatalf("after good reload: %v", v1)
	}

	// A bad file is rejected whole: the very same catalog stays.
	if err := os.WriteFile(path, []byte(`{"version": "v2", "updated": "2025-01-01", "sections": [], "matters": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := h.ReloadFile(path); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad file: %v", err)
	}
	if h.Current() != v1 {
		t.Fatal("bad file replaced the catalog")
	}
	if err := h.ReloadFile(filepath.Join(dir, "missing.json")); err == nil || h.Current() != v1 {
		t.Fatalf("missing file: %v, current %v", err, h.Current().Version())
	}

	writeCatalog(t, path, "v3")
	if err := h.ReloadFile(path); err != nil {
		t.Fatal(err)
	}
	if h.Current().Version() != "v3" {
		t.Fatalf("after second good reload: %s", h.Current().Version())
	}

	h.Replace(nil)
	if h.Current() == nil {
		t.Fatal("Replace(nil) removed the catalog")
	}
	d := Demo()
	h.Replace(d)
	if NewHolder(d).Current() != d || h.Current() != d {
		t.Fatal("Replace/NewHolder")
	}
}

// TestHolderConcurrentReaders reloads good and bad files while readers browse; run with -race.
// Every reader must always see a whole, valid catalog of a version that was good.
func TestHolderConcurrentReaders(t *testing.T) {
	dir := t.TempDir()
	const versions = 20
	var good []string
	for i := range versions {
		p := filepath.Join(dir, fmt.Sprintf("good%d.json", i))
		writeCatalog(t, p, fmt.Sprintf("v%d", i))
		good = append(good, p)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"version": "evil"`), 0o644); err != nil {
		t.Fatal(err)
	}
	valid := map[string]bool{}
	for i := range versions {
		valid[fmt.Sprintf("v%d", i)] = true
	}

	h := NewHolder(nil)
	if err := h.ReloadFile(good[0]); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var reads atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c := h.Current()
				if c == nil || !valid[c.Version()] {
					errs <- fmt.Errorf("reader saw %v", c)
					return
				}
				if m := c.Matter("aa-001"); m == nil || len(c.Search("JMSF")) != 1 || len(c.Matters("bb")) != 1 {
					errs <- fmt.Errorf("reader saw an incomplete catalog %s", c.Version())
					return
				}
				reads.Add(1)
			}
		}()
	}
	for i := 1; i < versions; i++ {
		if err := h.ReloadFile(good[i]); err != nil {
			t.Error(err)
		}
		if err := h.ReloadFile(bad); err == nil {
			t.Error("bad file accepted")
		}
		if got := h.Current().Version(); got != fmt.Sprintf("v%d", i) {
			t.Errorf("after reloading v%d and a bad file, serving %s", i, got)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if reads.Load() == 0 {
		t.Error("readers never ran")
	}
}
