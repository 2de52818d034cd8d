package ui

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"fyne.io/fyne/v2"

	"citizenhome/kiosk/catalog"
)

// subsetFormat names what the subsetter makes of a font and a set of texts. It is part of the
// cache key: change it whenever ui/subfont or subfont.Kiosk would cut a different font from the
// same input, or a kiosk would keep the font cut by the older code.
const subsetFormat = "citizenhome subset 1"

// FontCacheFile is the name of the cached subset font in SubsetFontCached's directory. One file
// only: a new catalog or font replaces it instead of leaving the old one behind.
const FontCacheFile = "theme-font.cache"

// cacheMagic starts a cache file; then the 32-byte key, the 32-byte SHA-256 of the font, the font.
var cacheMagic = []byte("CHFONT1\n")

// FontCacheReport says what SubsetFontCached found in the cache and did.
type FontCacheReport struct {
	// Hit: the cached font was used, and nothing was cut.
	Hit bool
	// Found is what was there on a miss: "none", "unreadable" (an error other than a missing
	// file), "stale" (another font, glyph set or subsetter) or "corrupt" (truncated, not a
	// cache file, or its checksum does not match).
	Found string
	// SaveErr is why the new subset could not be kept (the font is still good): the next start
	// cuts the font again.
	SaveErr error
}

// SubsetFontCached is SubsetFont with its result kept in dir (created if missing), so that
// later starts with the same font and the same characters to show skip the subsetting. The
// cache is keyed by a SHA-256 over the subsetter's format, the font's bytes and the sorted set
// of characters of the translations and the catalog; a cache of another key (the catalog or
// the font changed) is stale, and a file whose content fails its own SHA-256 is corrupt: either
// is cut again and replaced, never used. The file is replaced by rename, so a start that dies
// while writing leaves the old file or none, and a torn file fails its checksum.
//
// An error is SubsetFont's (no subset could be made); a cache that cannot be read or written
// only costs the subsetting, reported in FontCacheReport.
func SubsetFontCached(font fyne.Resource, cat *catalog.Catalog, dir string) (fyne.Resource, FontCacheReport, error) {
	var rep FontCacheReport
	texts, err := shownTexts(cat)
	if err != nil {
		return nil, rep, err
	}
	key := cacheKey(font.Content(), texts)
	path := filepath.Join(dir, FontCacheFile)
	data, found := readFontCache(path, key)
	if found == "" {
		rep.Hit = true
		return fyne.NewStaticResource(font.Name(), data), rep, nil
	}
	rep.Found = found
	sub, err := subsetTexts(font, texts)
	if err != nil {
		return nil, rep, err
	}
	rep.SaveErr = writeFontCache(dir, path, key, sub.Content())
	return sub, rep, nil
}

// cacheKey hashes the subsetter's format, the font and the set of characters in texts (sorted,
// each once: the same characters in another order cut the same font).
func cacheKey(font []byte, texts []string) [32]byte {
	set := map[rune]struct{}{}
	for _, t := range texts {
		for _, r := range t {
			set[r] = struct{}{}
		}
	}
	runes := make([]rune, 0, len(set))
	for r := range set {
		runes = append(runes, r)
	}
	slices.Sort(runes)
	h := sha256.New()
	h.Write([]byte(subsetFormat))
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(font)))
	h.Write(n[:])
	h.Write(font)
	b := make([]byte, 0, 4*len(runes))
	for _, r := range runes {
		b = binary.BigEndian.AppendUint32(b, uint32(r))
	}
	h.Write(b)
	return [32]byte(h.Sum(nil))
}

// readFontCache returns the cached font for key, or why there is none (FontCacheReport.Found).
func readFontCache(path string, key [32]byte) ([]byte, string) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "none"
	}
	if err != nil {
		return nil, "unreadable"
	}
	head := len(cacheMagic) + 64
	if len(b) < head || !bytes.Equal(b[:len(cacheMagic)], cacheMagic) {
		return nil, "corrupt"
	}
	data := b[head:]
	if sum := sha256.Sum256(data); !bytes.Equal(sum[:], b[len(cacheMagic)+32:head]) {
		return nil, "corrupt"
	}
	if !bytes.Equal(b[len(cacheMagic):len(cacheMagic)+32], key[:]) {
		return nil, "stale"
	}
	return data, ""
}

// writeFontCache replaces path with font under key, through a temporary file in dir.
func writeFontCache(dir, path string, key [32]byte, font []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, FontCacheFile+".*")
	if err != nil {
		return err
	}
	sum := sha256.Sum256(font)
	_, err = f.Write(slices.Concat(cacheMagic, key[:], sum[:], font))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}
