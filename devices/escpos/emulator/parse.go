package emulator

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"

	"citizenhome/devices/escpos"
)

// Limits that keep a hostile or garbled stream from exhausting memory.
const (
	maxBuffered  = 1 << 20  // largest payload held to be interpreted; larger ones are skipped
	maxRaw       = 4 << 20  // Ticket.Raw cap
	maxHeight    = 20000    // dots of paper rendered per ticket (2.5 m)
	maxLines     = 10000    // Ticket.Lines cap
	maxItems     = 20000    // drawn items per ticket
	maxTabScan   = 34       // ESC D n1..n32 NUL
	maxBarcodeA  = 255      // GS k m=0..6 data, NUL-terminated
	defaultSpace = 30       // line spacing after ESC @, dots
	fontH        = 24       // Font A / Chinese font height, dots
	narrowW      = 12       // Font A width
	wideW        = 24       // Chinese character width
	defaultBarH  = 162      // GS h after ESC @
	defaultBarW  = 3        // GS w after ESC @
	defaultQRMod = 3        // GS ( k module size after power on
	qrLevelM     = byte(49) // GS ( k error level after power on
)

// modes are the print settings ESC @ resets.
type modes struct {
	chinese     bool
	w, h        int
	bold        bool
	underline   bool
	align       escpos.Align
	spacing     int
	barH, barW  int
	hri         byte
	qrModule    int
	qrLevel     byte
	qrData      []byte
	qrHaveStore bool
}

type glyph struct {
	r         rune
	wide      bool
	w, h      int
	bold, ul  bool
	x         int // left edge in dots, set when the line is printed
	lineShift int // dots from the line top to the glyph top
}

func (g glyph) width() int {
	if g.wide {
		return wideW * g.w
	}
	return narrowW * g.w
}

// item is something drawn on the ticket.
type item struct {
	y      int
	glyphs []glyph // a text line, or
	img    *Raster // an image at x
	x      int
}

// ticketState accumulates one ticket until the cut.
type ticketState struct {
	y        int
	items    []item
	lines    []string
	qr       []string
	barcodes []string
	rasters  []Raster
	raw      []byte
}

func (p *Printer) reset() {
	qr := p.m
	p.m = modes{w: 1, h: 1, spacing: defaultSpace, barH: defaultBarH, barW: defaultBarW,
		qrModule: defaultQRMod, qrLevel: qrLevelM}
	// QR settings and stored data survive ESC @ on the printers we model.
	if qr.qrModule != 0 {
		p.m.qrModule, p.m.qrLevel, p.m.qrData, p.m.qrHaveStore = qr.qrModule, qr.qrLevel, qr.qrData, qr.qrHaveStore
	}
	p.line = nil
}

// parse interprets as much of p.buf as forms whole commands. Caller holds mu.
func (p *Printer) parse() {
	for {
		if p.discard > 0 {
			k := min(p.discard, len(p.buf))
			p.addRaw(p.buf[:k])
			p.buf = p.buf[k:]
			p.discard -= k
			if p.discard > 0 {
				break
			}
		}
		if len(p.buf) == 0 {
			break
		}
		n, skip := p.measure(p.buf)
		if n == 0 {
			break
		}
		cmd := p.buf[:n]
		if !realtimeCmd(cmd) {
			p.addRaw(cmd)
		}
		if skip > 0 {
			p.discard = skip
		} else {
			p.exec(cmd)
		}
		p.buf = p.buf[n:]
	}
	if len(p.buf) == 0 {
		p.buf = nil // let a large consumed buffer go
	}
}

func realtimeCmd(cmd []byte) bool {
	return len(cmd) >= 2 && cmd[0] == 0x10 && (cmd[1] == 0x04 || cmd[1] == 0x05 || cmd[1] == 0x14)
}

func (p *Printer) addRaw(b []byte) {
	if room := maxRaw - len(p.tk.raw); room > 0 {
		p.tk.raw = append(p.tk.raw, b[:min(room, len(b))]...)
	}
}

// need returns n if b holds n bytes, else 0 (need more).
func need(b []byte, n int) int {
	if len(b) < n {
		return 0
	}
	return n
}

// payload measures a command of hdr header bytes followed by size payload bytes.
func payload(b []byte, hdr, size int) (n, skip int) {
	if size > maxBuffered {
		return hdr, size
	}
	return need(b, hdr+size), 0
}

// measure returns the length of the command at the start of b (0: incomplete) and, for a
// payload too large to hold, skip: then only the header (n bytes) is consumed and skip
// more bytes are discarded.
func (p *Printer) measure(b []byte) (n, skip int) {
	c := b[0]
	switch c {
	case 0x1B: // ESC
		if len(b) < 2 {
			return 0, 0
		}
		switch b[1] {
		case '@', '2', 'i', 'm', 'S', 'L', 0x0C:
			return 2, 0
		case '!', 'E', 'G', '-', 'a', 'd', 'J', 'e', '3', 'M', 't', 'R', 'V', '{', 'r', 'U', '=', ' ', 'T', '%', '?', 'K':
			return need(b, 3), 0
		case '$', '\\':
			return need(b, 4), 0
		case 'c':
			return need(b, 4), 0
		case 'p':
			return need(b, 5), 0
		case 'W':
			return need(b, 10), 0
		case 'D':
			end := bytes.IndexByte(b[2:min(len(b), 2+maxTabScan)], 0)
			if end >= 0 {
				return 2 + end + 1, 0
			}
			if len(b) >= 2+maxTabScan {
				return 2 + maxTabScan, 0
			}
			return 0, 0
		case '*':
			if len(b) < 5 {
				return 0, 0
			}
			k := int(b[3]) | int(b[4])<<8
			switch b[2] {
			case 0, 1:
				return payload(b, 5, k)
			case 32, 33:
				return payload(b, 5, 3*k)
			}
			return 5, 0
		}
		return 2, 0
	case 0x1C: // FS
		if len(b) < 2 {
			return 0, 0
		}
		switch b[1] {
		case '&', '.':
			return 2, 0
		case '!', '-', 'W', 'C':
			return need(b, 3), 0
		case 'S', 'p':
			return need(b, 4), 0
		case '2':
			return need(b, 76), 0
		}
		return 2, 0
	case 0x1D: // GS
		if len(b) < 2 {
			return 0, 0
		}
		switch b[1] {
		case '!', 'B', 'h', 'w', 'H', 'f', 'a', 'r', 'I', 'b', '/':
			return need(b, 3), 0
		case 'L', 'W', 'P', '$', '\\':
			return need(b, 4), 0
		case 'V':
			if len(b) < 3 {
				return 0, 0
			}
			switch b[2] {
			case 65, 66, 97, 98, 103, 104:
				return need(b, 4), 0
			}
			return 3, 0
		case 'k':
			if len(b) < 3 {
				return 0, 0
			}
			m := b[2]
			if m <= 6 { // format A: NUL-terminated
				end := bytes.IndexByte(b[3:min(len(b), 3+maxBarcodeA+1)], 0)
				if end >= 0 {
					return 3 + end + 1, 0
				}
				if len(b) >= 3+maxBarcodeA+1 {
					return 3 + maxBarcodeA + 1, 0
				}
				return 0, 0
			}
			if len(b) < 4 {
				return 0, 0
			}
			return payload(b, 4, int(b[3]))
		case '(':
			if len(b) < 5 {
				return 0, 0
			}
			return payload(b, 5, int(b[3])|int(b[4])<<8)
		case 'v':
			if len(b) < 3 {
				return 0, 0
			}
			if b[2] != '0' {
				return 2, 0
			}
			if len(b) < 8 {
				return 0, 0
			}
			x := int(b[4]) | int(b[5])<<8
			y := int(b[6]) | int(b[7])<<8
			return payload(b, 8, x*y)
		case '8':
			if len(b) < 3 {
				return 0, 0
			}
			if b[2] != 'L' {
				return 2, 0
			}
			if len(b) < 7 {
				return 0, 0
			}
			size := int(b[3]) | int(b[4])<<8 | int(b[5])<<16 | int(b[6])<<24
			return payload(b, 7, size)
		case '*':
			if len(b) < 4 {
				return 0, 0
			}
			return payload(b, 4, int(b[2])*int(b[3])*8)
		}
		return 2, 0
	case 0x10: // DLE
		if len(b) < 2 {
			return 0, 0
		}
		switch b[1] {
		case 0x04, 0x05:
			return need(b, 3), 0
		case 0x14:
			return need(b, 5), 0
		}
		return 1, 0
	}
	if c < 0x80 || !p.m.chinese {
		return 1, 0
	}
	// GB18030 in Chinese mode: 2 bytes, or 4 when the second is a digit. A bad sequence
	// consumes only its first byte, so a following command is not swallowed.
	if c == 0x80 || c == 0xFF {
		return 1, 0
	}
	if len(b) < 2 {
		return 0, 0
	}
	switch c2 := b[1]; {
	case c2 >= 0x30 && c2 <= 0x39:
		if len(b) < 4 {
			return 0, 0
		}
		if b[2] >= 0x81 && b[2] <= 0xFE && b[3] >= 0x30 && b[3] <= 0x39 {
			return 4, 0
		}
		return 1, 0
	case c2 >= 0x40 && c2 <= 0xFE && c2 != 0x7F:
		return 2, 0
	}
	return 1, 0
}

// exec performs one whole command. Caller holds mu.
func (p *Printer) exec(cmd []byte) {
	switch cmd[0] {
	case 0x1B:
		p.execESC(cmd)
	case 0x1C:
		p.execFS(cmd)
	case 0x1D:
		p.execGS(cmd)
	case 0x10:
		if len(cmd) == 1 {
			p.stats.Unknown++
		}
	case '\n':
		p.printLine()
	case '\t':
		p.addGlyph(' ', false)
	case '\r', 0x00:
	default:
		switch {
		case cmd[0] < 0x20 || cmd[0] == 0x7F:
			p.stats.Unknown++
		case len(cmd) == 1 && cmd[0] < 0x80:
			p.addGlyph(rune(cmd[0]), false)
		case len(cmd) == 1 && !p.m.chinese:
			p.addGlyph(charmap.CodePage437.DecodeByte(cmd[0]), false)
		case len(cmd) == 1:
			p.addGlyph('?', false) // broken double-byte sequence
		default:
			r := '?'
			if s, err := simplifiedchinese.GB18030.NewDecoder().Bytes(cmd); err == nil {
				if d, _ := utf8.DecodeRune(s); d != utf8.RuneError {
					r = d
				}
			}
			p.addGlyph(r, true)
		}
	}
}

func (p *Printer) execESC(cmd []byte) {
	n := byte(0)
	if len(cmd) > 2 {
		n = cmd[2]
	}
	switch cmd[1] {
	case '@':
		p.reset()
	case '!':
		p.m.bold = n&0x08 != 0
		p.m.h = 1 + int(n>>4&1)
		p.m.w = 1 + int(n>>5&1)
		p.m.underline = n&0x80 != 0
	case 'E', 'G':
		p.m.bold = n&1 != 0
	case '-':
		p.m.underline = n&3 != 0 // 0..2 or '0'..'2'
	case 'a':
		if len(p.line) == 0 { // only at the beginning of a line, as on real printers
			switch n {
			case 0, '0':
				p.m.align = escpos.AlignLeft
			case 1, '1':
				p.m.align = escpos.AlignCenter
			case 2, '2':
				p.m.align = escpos.AlignRight
			}
		}
	case 'd':
		p.flushLine()
		p.feed(int(n) * p.m.spacing)
	case 'J':
		p.flushLine()
		p.feed(int(n))
	case '2':
		p.m.spacing = defaultSpace
	case '3':
		p.m.spacing = int(n)
	case 'i':
		p.cutPaper(false, 0)
	case 'm':
		p.cutPaper(true, 0)
	case 'e', 'M', 't', 'R', 'V', '{', 'r', 'U', '=', ' ', 'T', '%', '?', 'K', '$', '\\', 'c', 'p', 'W', 'D', 'S', 'L', 0x0C:
		// Understood and irrelevant to the ticket model (fonts, code pages, drawer kick,
		// positions, page mode).
	case '*':
		p.flushLine() // bit-image columns are not modelled; the payload was consumed
	default:
		p.stats.Unknown++
	}
}

func (p *Printer) execFS(cmd []byte) {
	switch cmd[1] {
	case '&':
		p.m.chinese = true
	case '.':
		p.m.chinese = false
	case '!', '-', 'W', 'C', 'S', 'p', '2':
	default:
		p.stats.Unknown++
	}
}

func (p *Printer) execGS(cmd []byte) {
	n := byte(0)
	if len(cmd) > 2 {
		n = cmd[2]
	}
	switch cmd[1] {
	case '!':
		p.m.w = 1 + int(n>>4&7)
		p.m.h = 1 + int(n&7)
	case 'h':
		if n > 0 {
			p.m.barH = int(n)
		}
	case 'w':
		if n >= 1 && n <= 6 {
			p.m.barW = int(n)
		}
	case 'H':
		p.m.hri = n & 3 // 0..3 or '0'..'3'
	case 'V':
		feed := 0
		if len(cmd) > 3 && (n == 65 || n == 66) {
			feed = int(cmd[3])
		}
		p.cutPaper(n == 1 || n == '1' || n == 66 || n == 98 || n == 104, feed)
	case 'k':
		p.barcode(cmd)
	case '(':
		if cmd[2] == 'k' {
			p.qrFunction(cmd[5:])
		}
	case 'v':
		if len(cmd) >= 8 {
			p.raster(cmd)
		}
	case 'B', 'f', 'a', 'r', 'I', 'b', '/', 'L', 'W', 'P', '$', '\\', '8', '*':
	default:
		p.stats.Unknown++
	}
}

// addGlyph puts a character in the line buffer, printing the line first when the character
// would not fit (the printer's own wrapping).
func (p *Printer) addGlyph(r rune, wide bool) {
	g := glyph{r: r, wide: wide, w: p.m.w, h: p.m.h, bold: p.m.bold, ul: p.m.underline}
	used := 0
	for _, l := range p.line {
		used += l.width()
	}
	if used > 0 && used+g.width() > p.dots {
		p.printLine()
	}
	p.line = append(p.line, g)
}

// printLine prints the line buffer and feeds one line (LF).
func (p *Printer) printLine() {
	if len(p.line) == 0 {
		p.feed(p.m.spacing)
		return
	}
	tall := p.flushLine()
	p.feed(max(p.m.spacing, tall+max(p.m.spacing-fontH, 0)))
}

// flushLine draws the line buffer at the current position without feeding and returns the
// height of its tallest character (0 if it was empty).
func (p *Printer) flushLine() int {
	if len(p.line) == 0 {
		return 0
	}
	width, tall := 0, 0
	for _, g := range p.line {
		width += g.width()
		tall = max(tall, fontH*g.h)
	}
	x := p.alignX(width)
	var sb strings.Builder
	for i := range p.line {
		g := &p.line[i]
		g.x = x
		g.lineShift = tall - fontH*g.h // characters of a line share the baseline
		x += g.width()
		sb.WriteRune(g.r)
	}
	if len(p.tk.lines) < maxLines {
		if s := strings.TrimRight(sb.String(), " "); s != "" {
			p.tk.lines = append(p.tk.lines, s)
		}
	}
	p.draw(item{y: p.tk.y, glyphs: p.line})
	p.line = nil
	return tall
}

func (p *Printer) alignX(width int) int {
	switch p.m.align {
	case escpos.AlignCenter:
		return max((p.dots-width)/2, 0)
	case escpos.AlignRight:
		return max(p.dots-width, 0)
	}
	return 0
}

func (p *Printer) feed(dots int) {
	p.tk.y = min(p.tk.y+dots, maxHeight)
}

func (p *Printer) draw(it item) {
	if len(p.tk.items) < maxItems && it.y < maxHeight {
		p.tk.items = append(p.tk.items, it)
	}
}

// drawImage prints an image at the current alignment and feeds past it.
func (p *Printer) drawImage(r *Raster) {
	p.flushLine()
	p.draw(item{y: p.tk.y, img: r, x: p.alignX(r.Width)})
	p.feed(r.Height)
}

func (p *Printer) raster(cmd []byte) {
	wBytes := int(cmd[4]) | int(cmd[5])<<8
	h := int(cmd[6]) | int(cmd[7])<<8
	if wBytes == 0 || h == 0 {
		return
	}
	r := Raster{Width: wBytes * 8, Height: h, Bits: append([]byte(nil), cmd[8:]...)}
	p.tk.rasters = append(p.tk.rasters, r)
	p.drawImage(&r)
}

// qrFunction handles GS ( k with cn = 49 (QR); f is cn fn params.
func (p *Printer) qrFunction(f []byte) {
	if len(f) < 2 || f[0] != 49 {
		return
	}
	arg := f[2:]
	switch f[1] {
	case 65: // model
	case 67:
		if len(arg) > 0 && arg[0] >= 1 && arg[0] <= 16 {
			p.m.qrModule = int(arg[0])
		}
	case 69:
		if len(arg) > 0 && arg[0] >= 48 && arg[0] <= 51 {
			p.m.qrLevel = arg[0]
		}
	case 80:
		if len(arg) > 0 {
			p.m.qrData = append([]byte(nil), arg[1:]...)
			p.m.qrHaveStore = true
		}
	case 81:
		if !p.m.qrHaveStore || len(p.m.qrData) == 0 {
			return
		}
		level := escpos.QRLevel(p.m.qrLevel-48) + escpos.QRLevelL
		m, err := escpos.QRMatrix(string(p.m.qrData), level)
		if err != nil {
			return // a printer prints nothing for data it cannot encode
		}
		p.tk.qr = append(p.tk.qr, string(p.m.qrData))
		p.drawImage(matrixRaster(m, p.m.qrModule))
	}
}

func matrixRaster(m [][]bool, mod int) *Raster {
	n := len(m) * mod
	stride := (n + 7) / 8
	r := &Raster{Width: n, Height: n, Bits: make([]byte, stride*n)}
	for y := range n {
		for x := range n {
			if m[y/mod][x/mod] {
				r.Bits[y*stride+x/8] |= 0x80 >> (x % 8)
			}
		}
	}
	return r
}

func (p *Printer) barcode(cmd []byte) {
	m := cmd[2]
	var data []byte
	if m <= 6 {
		data = bytes.TrimRight(cmd[3:], "\x00")
	} else {
		data = cmd[4:]
	}
	if m != 73 {
		// Other symbologies are recorded but not drawn.
		p.tk.barcodes = append(p.tk.barcodes, string(data))
		return
	}
	text, modules, ok := code128(data)
	if !ok {
		return
	}
	p.tk.barcodes = append(p.tk.barcodes, text)
	w := len(modules) * p.m.barW
	r := &Raster{Width: w, Height: p.m.barH}
	stride := (w + 7) / 8
	r.Bits = make([]byte, stride*r.Height)
	for y := range r.Height {
		for x := range w {
			if modules[x/p.m.barW] {
				r.Bits[y*stride+x/8] |= 0x80 >> (x % 8)
			}
		}
	}
	if p.m.hri == 1 || p.m.hri == 3 {
		p.hriLine(text, w)
	}
	p.drawImage(r)
	if p.m.hri == 2 || p.m.hri == 3 {
		p.hriLine(text, w)
	}
}

// hriLine prints barcode text centred under (or over) bars of width w, in Font A at normal
// size; it is not a ticket Line.
func (p *Printer) hriLine(text string, w int) {
	x := p.alignX(w) + max((w-narrowW*len(text))/2, 0)
	var gs []glyph
	for _, r := range text {
		gs = append(gs, glyph{r: r, w: 1, h: 1, x: x})
		x += narrowW
	}
	p.draw(item{y: p.tk.y + 2, glyphs: gs})
	p.feed(fontH + 4)
}

// cut finishes the ticket.
func (p *Printer) cutPaper(partial bool, feed int) {
	p.flushLine()
	p.feed(feed)
	tk := p.tk
	p.tk = ticketState{}
	if !p.cond.prints() {
		p.stats.Dropped++
		return
	}
	p.cut = append(p.cut, cutTicket{Ticket: Ticket{
		Lines:    tk.lines,
		QR:       tk.qr,
		Barcodes: tk.barcodes,
		Rasters:  tk.rasters,
		Partial:  partial,
		Raw:      tk.raw,
	}, state: tk})
}
