package escpos

import (
	"fmt"

	qrcode "github.com/skip2/go-qrcode"
)

// QRMode chooses how QR blocks are sent. The zero value is QRNative.
type QRMode uint8

const (
	// QRNative sends GS ( k: the printer builds the symbol. Small, but some cheap models
	// print the data as text instead.
	QRNative QRMode = iota
	// QRRaster renders the symbol here and sends it as a GS v 0 raster image, which every
	// ESC/POS printer prints. About 1-3 KB a symbol.
	QRRaster
)

// Options control Encode.
type Options struct {
	Paper  Paper // 0 means Paper58
	QRMode QRMode
}

// Defaults of the optional fields of blocks.
const (
	DefaultQRModule      = 6
	DefaultBarcodeHeight = 80
	defaultBarcodeModule = 3
	minBarcodeModule     = 2
	barcodeQuietModules  = 10 // each side
)

// Encode returns the ESC/POS bytes of d. The output starts with ESC @, is the same for the
// same input (golden-file stable), and sends a mode command only when the mode in effect
// must change. Text is sent in GB18030 after FS & (only if some text needs it). Every
// line of text ends with LF, so QR codes, barcodes and cuts always start at the beginning
// of a line. Invalid documents return an *Error with CodeBadDoc and no bytes.
func Encode(d Doc, o Options) ([]byte, error) {
	e, err := encode(d, o)
	if err != nil {
		return nil, err
	}
	return e.out, nil
}

// Job is a document encoded for one paper, as a driver sends it: Bytes is what Encode returns;
// the job also knows where its commands with a payload lie, so that a driver whose write was cut
// off part way can finish the command the printer was left in (Resync).
type Job struct {
	Bytes []byte
	spans []span
}

// EncodeJob is Encode for a driver: the same bytes, and the command spans Resync needs. Errors
// as Encode.
func EncodeJob(d Doc, o Options) (Job, error) {
	e, err := encode(d, o)
	if err != nil {
		return Job{}, err
	}
	return Job{Bytes: e.out, spans: e.spans}, nil
}

// Resync returns how many NUL bytes finish any command of j that may have been cut off, given
// that between lo and hi of its bytes were delivered: 0 when hi is 0 (nothing was sent), else at
// least 4. A printer ignores NUL between commands, so the padding is harmless where nothing was
// cut.
func (j Job) Resync(lo, hi int) int { return resyncLen(j.spans, lo, hi) }

// span is a multi-byte command with a payload, [start, end) in the job. A printer
// interrupted inside one keeps taking bytes as payload; Job.Resync uses spans to pad it out.
type span struct{ start, end int }

// resyncLen returns how many NUL bytes finish any command that may have been cut off,
// given that between lo and hi bytes of the job were delivered.
func resyncLen(spans []span, lo, hi int) int {
	if hi == 0 {
		return 0
	}
	pad := 4 // longest fixed-size command we send, minus one, plus a GB18030 trail byte
	for _, s := range spans {
		if max(lo, s.start+1) <= min(hi, s.end-1) {
			pad = max(pad, s.end-lo)
		}
	}
	return pad
}

type encoder struct {
	o       Options
	dots    int
	cols    int
	out     []byte
	spans   []span
	chinese bool
	w, h    int
	bold    bool
	align   Align

	qrSet             bool // model and the fields below were sent since ESC @
	qrModule          int
	qrLevel           QRLevel
	bcSet             bool // barcode fields below were sent since ESC @
	bcHeight, bcWidth int
	bcHRI             bool
}

func encode(d Doc, o Options) (*encoder, error) {
	o.Paper = o.Paper.orDefault()
	if o.Paper.Dots() == 0 {
		return nil, badDoc("unknown paper %d mm", int(o.Paper))
	}
	if o.QRMode > QRRaster {
		return nil, badDoc("unknown QR mode %d", o.QRMode)
	}
	e := &encoder{o: o, dots: o.Paper.Dots(), cols: o.Paper.Columns(), w: 1, h: 1}
	e.out = append(e.out, 0x1B, '@')
	for i, b := range d.Blocks {
		var err error
		switch b := deref(b).(type) {
		case Text:
			err = e.text(b)
		case Rule:
			err = e.rule(b)
		case QR:
			err = e.qr(b)
		case Barcode:
			err = e.barcode(b)
		case Feed:
			err = e.feed(b)
		case Cut:
			err = e.cut(b)
		default:
			err = badDoc("unknown block type %T", b)
		}
		if err != nil {
			if ee, ok := err.(*Error); ok {
				ee.Err = fmt.Errorf("block %d: %w", i, ee.Err)
			}
			return nil, err
		}
	}
	return e, nil
}

// deref accepts pointers to blocks too (they satisfy Block through the value methods).
func deref(b Block) Block {
	switch p := b.(type) {
	case *Text:
		if p != nil {
			return *p
		}
	case *Rule:
		if p != nil {
			return *p
		}
	case *QR:
		if p != nil {
			return *p
		}
	case *Barcode:
		if p != nil {
			return *p
		}
	case *Feed:
		if p != nil {
			return *p
		}
	case *Cut:
		if p != nil {
			return *p
		}
	}
	return b
}

func (e *encoder) setAlign(a Align) {
	if a != e.align {
		e.out = append(e.out, 0x1B, 'a', byte(a))
		e.align = a
	}
}

func (e *encoder) setSize(w, h int) {
	if w != e.w || h != e.h {
		e.out = append(e.out, 0x1D, '!', byte((w-1)<<4|(h-1)))
		e.w, e.h = w, h
	}
}

func (e *encoder) setBold(b bool) {
	if b != e.bold {
		v := byte(0)
		if b {
			v = 1
		}
		e.out = append(e.out, 0x1B, 'E', v)
		e.bold = b
	}
}

func magnification(name string, v int) (int, error) {
	if v == 0 {
		return 1, nil
	}
	if v < 1 || v > 8 {
		return 0, badDoc("text %s %d, want 1..8", name, v)
	}
	return v, nil
}

func (e *encoder) text(t Text) error {
	w, err := magnification("width", t.Width)
	if err != nil {
		return err
	}
	h, err := magnification("height", t.Height)
	if err != nil {
		return err
	}
	if t.Align > AlignRight {
		return badDoc("unknown alignment %d", t.Align)
	}
	lines := wrapCells(t.Text, e.cols/w)
	e.setAlign(t.Align)
	e.setSize(w, h)
	e.setBold(t.Bold)
	for _, line := range lines {
		if !e.chinese {
			for _, c := range line {
				if c.w == 2 {
					e.out = append(e.out, 0x1C, '&')
					e.chinese = true
					break
				}
			}
		}
		for _, c := range line {
			e.out = append(e.out, c.b...)
		}
		e.out = append(e.out, '\n')
	}
	return nil
}

func (e *encoder) rule(r Rule) error {
	c := r.Char
	if c == 0 {
		c = '-'
	}
	if c != '-' && c != '=' {
		return badDoc("rule character %q, want '-' or '='", c)
	}
	e.setSize(1, 1)
	for range e.cols {
		e.out = append(e.out, c)
	}
	e.out = append(e.out, '\n')
	return nil
}

var qrLevels = map[QRLevel]qrcode.RecoveryLevel{
	QRLevelL: qrcode.Low, QRLevelM: qrcode.Medium, QRLevelQ: qrcode.High, QRLevelH: qrcode.Highest,
}

// qrSymbol encodes data and returns the module matrix without quiet zone. Exported to the
// emulator through QRMatrix so both sides draw the same symbol.
func qrSymbol(data string, level QRLevel) ([][]bool, error) {
	if level == 0 {
		level = QRLevelM
	}
	l, ok := qrLevels[level]
	if !ok {
		return nil, badDoc("unknown QR level %d", level)
	}
	if data == "" {
		return nil, badDoc("empty QR data")
	}
	q, err := qrcode.New(data, l)
	if err != nil {
		return nil, badDoc("QR: %v", err)
	}
	q.DisableBorder = true
	return q.Bitmap(), nil
}

// QRMatrix returns the modules of the QR symbol (model 2, smallest version, no quiet zone)
// that Encode draws for data at level, m[y][x] true for dark. Level 0 means QRLevelM.
// Empty data or data too long for a QR symbol is an error with CodeBadDoc.
func QRMatrix(data string, level QRLevel) ([][]bool, error) { return qrSymbol(data, level) }

func (e *encoder) qr(q QR) error {
	if q.Align > AlignRight {
		return badDoc("unknown alignment %d", q.Align)
	}
	mod := q.Module
	if mod == 0 {
		mod = DefaultQRModule
	}
	if mod < 1 || mod > 16 {
		return badDoc("QR module %d, want 1..16", q.Module)
	}
	level := q.Level
	if level == 0 {
		level = QRLevelM
	}
	m, err := qrSymbol(q.Data, level)
	if err != nil {
		return err
	}
	n := len(m)
	if n*mod > e.dots {
		mod = e.dots / n
		if mod < 1 {
			return badDoc("QR symbol of %d modules wider than the paper", n)
		}
	}
	e.setAlign(q.Align)
	if e.o.QRMode == QRRaster {
		e.raster(m, mod)
		return nil
	}
	if !e.qrSet {
		e.out = append(e.out, 0x1D, '(', 'k', 4, 0, 0x31, 0x41, 0x32, 0x00)
	}
	if !e.qrSet || e.qrModule != mod {
		e.out = append(e.out, 0x1D, '(', 'k', 3, 0, 0x31, 0x43, byte(mod))
		e.qrModule = mod
	}
	if !e.qrSet || e.qrLevel != level {
		e.out = append(e.out, 0x1D, '(', 'k', 3, 0, 0x31, 0x45, 0x30+byte(level-1))
		e.qrLevel = level
	}
	e.qrSet = true
	l := len(q.Data) + 3
	start := len(e.out)
	e.out = append(e.out, 0x1D, '(', 'k', byte(l), byte(l>>8), 0x31, 0x50, 0x30)
	e.out = append(e.out, q.Data...)
	e.spans = append(e.spans, span{start, len(e.out)})
	e.out = append(e.out, 0x1D, '(', 'k', 3, 0, 0x31, 0x51, 0x30)
	return nil
}

// raster sends matrix m scaled by mod as GS v 0 (normal density), MSB = leftmost dot.
func (e *encoder) raster(m [][]bool, mod int) {
	wDots := len(m[0]) * mod
	wBytes := (wDots + 7) / 8
	hDots := len(m) * mod
	start := len(e.out)
	e.out = append(e.out, 0x1D, 'v', '0', 0, byte(wBytes), byte(wBytes>>8), byte(hDots), byte(hDots>>8))
	row := make([]byte, wBytes)
	for _, mrow := range m {
		clear(row)
		for x := range wDots {
			if mrow[x/mod] {
				row[x/8] |= 0x80 >> (x % 8)
			}
		}
		for range mod {
			e.out = append(e.out, row...)
		}
	}
	e.spans = append(e.spans, span{start, len(e.out)})
}

func (e *encoder) barcode(b Barcode) error {
	if b.Align > AlignRight {
		return badDoc("unknown alignment %d", b.Align)
	}
	n := len(b.Data)
	if n == 0 || n > 126 {
		return badDoc("barcode of %d characters, want 1..126", n)
	}
	escaped := make([]byte, 0, n+2)
	escaped = append(escaped, '{', 'B')
	for i := 0; i < n; i++ {
		c := b.Data[i]
		if c < 0x20 || c > 0x7E {
			return badDoc("barcode character 0x%02X at %d is not in CODE128 set B", c, i)
		}
		if c == '{' { // '{' selects a code set in GS k 73; a literal one is sent twice
			escaped = append(escaped, '{')
		}
		escaped = append(escaped, c)
	}
	if len(escaped) > 255 {
		return badDoc("barcode data too long after escaping '{'")
	}
	height := b.Height
	if height == 0 {
		height = DefaultBarcodeHeight
	}
	if height < 1 || height > 255 {
		return badDoc("barcode height %d, want 1..255", b.Height)
	}
	// start + data + check + stop (13) modules, plus quiet zones.
	modules := 11*(n+2) + 13 + 2*barcodeQuietModules
	width := b.Module
	switch {
	case width == 0:
		width = defaultBarcodeModule
		if modules*width > e.dots {
			width = minBarcodeModule
		}
	case width < minBarcodeModule || width > 6:
		return badDoc("barcode module %d, want 2..6", b.Module)
	}
	if modules*width > e.dots {
		return badDoc("barcode of %d characters is %d dots wide, paper has %d", n, modules*width, e.dots)
	}
	e.setAlign(b.Align)
	if !e.bcSet || e.bcHeight != height {
		e.out = append(e.out, 0x1D, 'h', byte(height))
	}
	if !e.bcSet || e.bcWidth != width {
		e.out = append(e.out, 0x1D, 'w', byte(width))
	}
	if !e.bcSet || e.bcHRI != b.HRI {
		hri := byte(0)
		if b.HRI {
			hri = 2
		}
		e.out = append(e.out, 0x1D, 'H', hri)
	}
	e.bcSet, e.bcHeight, e.bcWidth, e.bcHRI = true, height, width, b.HRI
	start := len(e.out)
	e.out = append(e.out, 0x1D, 'k', 73, byte(len(escaped)))
	e.out = append(e.out, escaped...)
	e.spans = append(e.spans, span{start, len(e.out)})
	return nil
}

func (e *encoder) feed(f Feed) error {
	if f.Lines < 0 {
		return badDoc("feed of %d lines", f.Lines)
	}
	for n := f.Lines; n > 0; n -= 255 {
		e.out = append(e.out, 0x1B, 'd', byte(min(n, 255)))
	}
	return nil
}

func (e *encoder) cut(c Cut) error {
	if c.Feed < 0 || c.Feed > 255 {
		return badDoc("cut feed %d, want 0..255", c.Feed)
	}
	m := byte(0)
	if c.Partial {
		m = 1
	}
	if c.Feed == 0 {
		e.out = append(e.out, 0x1D, 'V', m)
		return nil
	}
	e.out = append(e.out, 0x1D, 'V', 0x41+m, byte(c.Feed))
	return nil
}
