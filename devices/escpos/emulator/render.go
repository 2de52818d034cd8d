package emulator

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"sync"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// Glyph geometry inside a 24-dot cell at magnification 1: the em sizes and the baseline
// from the top. The CJK em is chosen so ideographs fill the cell like a printer's 24x24
// font; the Latin font is Go Mono, whose advance is 0.6 em, so a 20-dot em gives exactly
// the 12-dot Font A cell.
const (
	cjkEmPx    = 21
	monoEmPx   = 20
	baselinePx = 19
	maxGlyphs  = 20000
)

// Font roles in a fontCache.
const (
	fontCJK = iota
	fontMono
	fontMonoBold
	numFonts
)

// fontCache renders and caches glyph masks: Latin from Go Mono (Droid Sans Fallback has no
// Latin glyphs), everything else from the configured CJK font, falling back to the other
// font and then to '?' for missing glyphs. One cache per font path, shared by all
// Printers; faces and masks are guarded by mu. The mask cache grows with the distinct
// (character, size) pairs printed, a few thousand at most for real tickets.
type fontCache struct {
	fonts [numFonts]*opentype.Font

	mu     sync.Mutex
	buf    sfnt.Buffer
	faces  map[faceKey]font.Face
	glyphs map[glyphKey]*image.Alpha
}

type faceKey struct{ font, h int }

type glyphKey struct {
	r          rune
	wide, bold bool
	w, h       int
}

var (
	fontsMu sync.Mutex
	fonts   = map[string]*opentype.Font{}
)

func parseFont(key string, load func() ([]byte, error)) (*opentype.Font, error) {
	fontsMu.Lock()
	defer fontsMu.Unlock()
	if f, ok := fonts[key]; ok {
		return f, nil
	}
	data, err := load()
	if err != nil {
		return nil, fmt.Errorf("emulator: font: %w", err)
	}
	f, err := opentype.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("emulator: font %s: %w", key, err)
	}
	fonts[key] = f
	return f, nil
}

var caches sync.Map // font path -> *fontCache, so Printers share rendered glyphs

func loadFont(path string) (*fontCache, error) {
	if fc, ok := caches.Load(path); ok {
		return fc.(*fontCache), nil
	}
	fc := &fontCache{faces: map[faceKey]font.Face{}, glyphs: map[glyphKey]*image.Alpha{}}
	var err error
	if fc.fonts[fontCJK], err = parseFont(path, func() ([]byte, error) { return os.ReadFile(path) }); err != nil {
		return nil, err
	}
	if fc.fonts[fontMono], err = parseFont("builtin:gomono", func() ([]byte, error) { return gomono.TTF, nil }); err != nil {
		return nil, err
	}
	if fc.fonts[fontMonoBold], err = parseFont("builtin:gomonobold", func() ([]byte, error) { return gomonobold.TTF, nil }); err != nil {
		return nil, err
	}
	actual, _ := caches.LoadOrStore(path, fc)
	return actual.(*fontCache), nil
}

func (fc *fontCache) has(which int, r rune) bool {
	i, err := fc.fonts[which].GlyphIndex(&fc.buf, r)
	return err == nil && i != 0
}

func (fc *fontCache) face(which, h int) (font.Face, error) {
	k := faceKey{which, h}
	if f, ok := fc.faces[k]; ok {
		return f, nil
	}
	em := cjkEmPx
	if which != fontCJK {
		em = monoEmPx
	}
	f, err := opentype.NewFace(fc.fonts[which], &opentype.FaceOptions{Size: float64(em * h), DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, err
	}
	fc.faces[k] = f
	return f, nil
}

// pick chooses the font for g and the rune to draw (r, or '?' when no font has it), and
// whether bold must be simulated by drawing twice.
func (fc *fontCache) pick(g glyph) (which int, r rune, fakeBold bool) {
	mono := fontMono
	if g.bold {
		mono = fontMonoBold
	}
	order := []int{mono, fontCJK}
	if g.wide {
		order = []int{fontCJK, mono}
	}
	for _, f := range order {
		if fc.has(f, g.r) {
			return f, g.r, g.bold && f == fontCJK
		}
	}
	return mono, '?', false
}

// mask returns the coverage of g, exactly g.width() x 24*g.h dots. The glyph is drawn at
// height magnification h, centred in its cell (squeezed if wider than the cell), then
// stretched to width magnification w.
func (fc *fontCache) mask(g glyph) *image.Alpha {
	key := glyphKey{r: g.r, wide: g.wide, bold: g.bold, w: g.w, h: g.h}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if m, ok := fc.glyphs[key]; ok {
		return m
	}
	cellW := narrowW
	if g.wide {
		cellW = wideW
	}
	H := fontH * g.h
	C := cellW * g.h
	out := image.NewAlpha(image.Rect(0, 0, cellW*g.w, H))
	if len(fc.glyphs) >= maxGlyphs {
		clear(fc.glyphs) // garbage input can name any character at any size
	}
	fc.glyphs[key] = out
	which, r, fakeBold := fc.pick(g)
	face, err := fc.face(which, g.h)
	if err != nil {
		return out
	}
	adv, _ := face.GlyphAdvance(r)
	bold := 0
	if fakeBold {
		bold = g.h
	}
	A := adv.Ceil() + bold
	srcW := max(A, C)
	src := image.NewAlpha(image.Rect(0, 0, srcW, H))
	x0 := (srcW - A) / 2
	d := font.Drawer{Dst: src, Src: image.Opaque, Face: face}
	for dx := 0; dx <= bold; dx += max(bold, 1) {
		d.Dot = fixed.P(x0+dx, baselinePx*g.h)
		d.DrawString(string(r))
	}
	xdraw.ApproxBiLinear.Scale(out, out.Bounds(), src, src.Bounds(), xdraw.Src, nil)
	return out
}

// render draws the ticket and encodes it as PNG. It reads only tk and immutable fields.
func (p *Printer) render(tk ticketState) []byte {
	h := tk.y
	for _, it := range tk.items {
		switch {
		case it.img != nil:
			h = max(h, it.y+it.img.Height)
		default:
			for _, g := range it.glyphs {
				h = max(h, it.y+g.lineShift+fontH*g.h)
			}
		}
	}
	h = min(max(h, 1), maxHeight)
	img := image.NewGray(image.Rect(0, 0, p.dots, h))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	for _, it := range tk.items {
		if it.img != nil {
			blit(img, it.img, it.x, it.y)
			continue
		}
		for _, g := range it.glyphs {
			top := it.y + g.lineShift
			m := p.font.mask(g)
			r := m.Bounds().Add(image.Pt(g.x, top))
			xdraw.DrawMask(img, r, image.Black, image.Point{}, m, image.Point{}, xdraw.Over)
			if g.ul {
				ul := image.Rect(g.x, top+fontH*g.h-2, g.x+g.width(), top+fontH*g.h)
				xdraw.Draw(img, ul, image.Black, image.Point{}, xdraw.Src)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil // cannot happen for an in-memory Gray image
	}
	return buf.Bytes()
}

func blit(dst *image.Gray, r *Raster, x0, y0 int) {
	b := dst.Bounds()
	for y := range r.Height {
		if y0+y >= b.Max.Y {
			return
		}
		for x := range r.Width {
			if x0+x < b.Max.X && r.At(x, y) {
				dst.SetGray(x0+x, y0+y, color.Gray{})
			}
		}
	}
}
