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
	"citizenhome/ui/subfont"
)

// subsetFormat names what the subsetter makes of a font and a set of texts. It is part of the
// cache key: change it whenever ui/subfont or subfont.Kiosk would cut a different font from the
// same input, or a kiosk would keep the font cut by the older code.
const subsetFormat = "citizenhome subset 2" // 2: CFF outlines and collections, regular and bold

// FontCacheFile is the name of the cached subset fonts in SubsetFontsCached's directory. One file
// only: a new catalog or font replaces it instead of leaving the old one behind.
const FontCacheFile = "theme-font.cache"

// cacheMagic starts a cache file; then the 32-byte key, the 32-byte SHA-256 of the rest, and the
// rest: the regular font's length (4 bytes, big-endian), the regular font and the bold one
// (empty when bold text uses the regular font).
var cacheMagic = []byte("CHFONT2\n")

// FontCacheReport says what SubsetFontsCached found in the cache and did.
type FontCacheReport struct {
	// Hit: the cached fonts were used, and nothing was cut.
	Hit bool
	// Found is what was there on a miss: "none", "unreadable" (an error other than a missing
	// file), "stale" (another font file, face, glyph set or subsetter) or "corrupt"
	// (truncated, not a cache file, or its checksum does not match).
	Found string
	// SaveErr is why the new subsets could not be kept (the fonts are still good): the next
	// start cuts them again.
	SaveErr error
}

// SubsetFontsCached cuts the regular and the bold theme font to what the screens and cat show
// (as SubsetFont does), and keeps the pair in dir (created if missing) so that later starts
// with the same fonts and the same characters skip the cutting and do not even read the font
// files (a Noto Sans CJK collection is 20 MB). A bold FontFile with no path, or the regular one
// again, gives no bold font: bold text then uses the regular font, as with a font of one weight.
//
// The cache is keyed by a SHA-256 over the subsetter's format, each font file's path, face,
// size and modification time (a package upgrade changes them; hashing the files' 40 MB would
// cost tens of ms at every start) and the sorted set of characters of the translations and
// the catalog. A cache of another key is stale, and a file whose content fails its own SHA-256
// is corrupt: either is cut again and replaced, never used. The file is replaced by rename, so
// a start that dies while writing leaves the old file or none, and a torn file fails its
// checksum.
//
// An error is the font files' (missing, unreadable: an *os.PathError) or the subsetter's (an
// *os.PathError wrapping a *subfont.Error): no subset could be made, and the caller may use
// the fonts whole (LoadFace). A cache that cannot be read or written only costs the
// subsetting, reported in FontCacheReport.
func SubsetFontsCached(regular, bold FontFile, cat *catalog.Catalog, dir string) (ThemeFonts, FontCacheReport, error) {
	var rep FontCacheReport
	texts, err := shownTexts(cat)
	if err != nil {
		return ThemeFonts{}, rep, err
	}
	files := []FontFile{regular}
	if bold.Path != "" && bold != regular {
		files = append(files, bold)
	}
	ids := make([]fs.FileInfo, len(files))
	for i, f := range files {
		if ids[i], err = os.Stat(f.Path); err != nil {
			return ThemeFonts{}, rep, err
		}
	}
	key := cacheKey(files, ids, texts)
	path := filepath.Join(dir, FontCacheFile)
	fonts, found := readFontCache(path, key)
	if found == "" && (len(fonts) == 2) == (len(files) == 2) {
		rep.Hit = true
		return themeFonts(fonts), rep, nil
	}
	if found == "" {
		found = "corrupt" // the key says one font, the file holds two, or the reverse
	}
	rep.Found = found
	keep := subfont.Kiosk(texts...)
	cut := make([][]byte, len(files))
	errs := make([]error, len(files))
	done := make(chan struct{})
	go func() { // the bold font beside the regular one: the first start waits for both
		defer close(done)
		if len(files) == 2 {
			cut[1], errs[1] = cutFont(files[1], keep)
		}
	}()
	cut[0], errs[0] = cutFont(files[0], keep)
	<-done
	if err := errors.Join(errs...); err != nil {
		return ThemeFonts{}, rep, err
	}
	rep.SaveErr = writeFontCache(dir, path, key, cut)
	return themeFonts(cut), rep, nil
}

// cutFont reads f and cuts its face to keep's runes.
func cutFont(f FontFile, keep func(rune) bool) ([]byte, error) {
	data, err := os.ReadFile(f.Path)
	if err != nil {
		return nil, err
	}
	sub, err := subfont.SubsetFace(data, f.Face, keep)
	if err != nil {
		return nil, &os.PathError{Op: "cut font", Path: f.Path, Err: err}
	}
	return sub, nil
}

func themeFonts(fonts [][]byte) ThemeFonts {
	tf := ThemeFonts{Regular: fyne.NewStaticResource("kiosk-font.otf", fonts[0])}
	if len(fonts) == 2 {
		tf.Bold = fyne.NewStaticResource("kiosk-font-bold.otf", fonts[1])
	}
	return tf
}

// cacheKey hashes the subsetter's format, each font file's identity (path, face, size and
// modification time) and the set of characters in texts (sorted, each once: the same
// characters in another order cut the same fonts).
func cacheKey(files []FontFile, ids []fs.FileInfo, texts []string) [32]byte {
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
	field := func(b []byte) { // length-prefixed, so that no two lists of fields hash alike
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(b))))
		h.Write(b)
	}
	for i, f := range files {
		field([]byte(f.Path))
		field([]byte(f.Face))
		field(binary.BigEndian.AppendUint64(nil, uint64(ids[i].Size())))
		field(binary.BigEndian.AppendUint64(nil, uint64(ids[i].ModTime().UnixNano())))
	}
	b := make([]byte, 0, 4*len(runes))
	for _, r := range runes {
		b = binary.BigEndian.AppendUint32(b, uint32(r))
	}
	field(b)
	return [32]byte(h.Sum(nil))
}

// readFontCache returns the cached fonts for key (one or two), or why there are none
// (FontCacheReport.Found).
func readFontCache(path string, key [32]byte) ([][]byte, string) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "none"
	}
	if err != nil {
		return nil, "unreadable"
	}
	head := len(cacheMagic) + 64
	if len(b) < head+4 || !bytes.Equal(b[:len(cacheMagic)], cacheMagic) {
		return nil, "corrupt"
	}
	data := b[head:]
	if sum := sha256.Sum256(data); !bytes.Equal(sum[:], b[len(cacheMagic)+32:head]) {
		return nil, "corrupt"
	}
	if !bytes.Equal(b[len(cacheMagic):len(cacheMagic)+32], key[:]) {
		return nil, "stale"
	}
	n := uint64(binary.BigEndian.Uint32(data))
	if n == 0 || 4+n > uint64(len(data)) {
		return nil, "corrupt"
	}
	fonts := [][]byte{data[4 : 4+n]}
	if bold := data[4+n:]; len(bold) > 0 {
		fonts = append(fonts, bold)
	}
	return fonts, ""
}

// writeFontCache replaces path with fonts (regular, and bold if any) under key, through a
// temporary file in dir.
func writeFontCache(dir, path string, key [32]byte, fonts [][]byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, FontCacheFile+".*")
	if err != nil {
		return err
	}
	data := binary.BigEndian.AppendUint32(nil, uint32(len(fonts[0])))
	for _, font := range fonts {
		data = append(data, font...)
	}
	sum := sha256.Sum256(data)
	_, err = f.Write(slices.Concat(cacheMagic, key[:], sum[:], data))
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
