package escpos

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Paper is the paper roll width in millimetres. The zero value means Paper58 wherever an
// Options or Config is read; other values are rejected with ErrBadDoc.
type Paper int

// Paper widths this package knows.
const (
	Paper58 Paper = 58 // 384 dots, 32 Font A columns, 16 Chinese characters a line
	Paper80 Paper = 80 // 576 dots, 48 Font A columns, 24 Chinese characters a line
)

// Dots returns the printable width in dots at 203 dpi (384 or 576), 0 for an unknown Paper.
func (p Paper) Dots() int {
	switch p.orDefault() {
	case Paper58:
		return 384
	case Paper80:
		return 576
	}
	return 0
}

// Columns returns the number of Font A (12x24) columns a line holds at normal size (32 or
// 48), 0 for an unknown Paper. A Chinese character takes two columns.
func (p Paper) Columns() int { return p.Dots() / 12 }

func (p Paper) orDefault() Paper {
	if p == 0 {
		return Paper58
	}
	return p
}

// Align is horizontal alignment. The zero value is AlignLeft.
type Align uint8

// Alignments, as sent with ESC a.
const (
	AlignLeft Align = iota
	AlignCenter
	AlignRight
)

// QRLevel is the QR error correction level. The zero value means QRLevelM.
type QRLevel uint8

// QR error correction levels (recovers about 7, 15, 25, 30 % of the symbol).
const (
	QRLevelL QRLevel = iota + 1
	QRLevelM
	QRLevelQ
	QRLevelH
)

// Block is one element of a Doc: Text, Rule, QR, Barcode, Feed or Cut. The interface is
// closed; Encode rejects other implementations with ErrBadDoc.
type Block interface{ block() }

// Text is a paragraph printed at one size and style. It is wrapped to the paper width (see
// Wrap); "\n" starts a new line, "\t" prints as a space, other control characters and
// invalid UTF-8 print as '?', as do characters GB18030 cannot encode. An empty Text prints
// one blank line.
type Text struct {
	Text string
	// Width and Height are character magnifications 1..8; 0 means 1. The line holds
	// Paper.Columns()/Width columns.
	Width, Height int
	Bold          bool
	Align         Align
}

// Rule is a line of Char ('-' or '='; 0 means '-') across the whole width, printed at
// normal size.
type Rule struct{ Char byte }

// QR is a QR code symbol (model 2) of Data, printed as raw bytes (UTF-8 text stays UTF-8,
// which phone scanners expect). Module is the dot size of one module, 1..16, 0 means 6;
// it is reduced if the symbol would not fit the paper. No quiet zone is added above or
// below; the surrounding lines give enough white on thermal paper, add Feed if not.
type QR struct {
	Data   string
	Module int
	Level  QRLevel
	Align  Align
}

// Barcode is a CODE128 (code set B) barcode. Data must be printable ASCII (0x20..0x7E),
// 1..126 characters. Height is the bar height in dots, 1..255, 0 means 80. Module is the
// narrow bar width in dots, 2..6; 0 picks 3, or 2 when 3 would not fit with quiet zones.
// HRI prints the data as text under the bars.
type Barcode struct {
	Data   string
	Height int
	Module int
	HRI    bool
	Align  Align
}

// Feed advances the paper by Lines blank lines (0..255 per block is sent as one command,
// more as several; negative is ErrBadDoc).
type Feed struct{ Lines int }

// Cut cuts the paper. Feed, 0..255, feeds that many motion units (about dots) to bring the
// last line past the cutter first (GS V 65/66 n); 0 cuts where the paper is.
type Cut struct {
	Partial bool
	Feed    int
}

func (Text) block()    {}
func (Rule) block()    {}
func (QR) block()      {}
func (Barcode) block() {}
func (Feed) block()    {}
func (Cut) block()     {}

// Doc is a ticket: blocks printed top to bottom. A ticket normally ends with Cut. The zero
// Doc is empty and encodes to ESC @ alone.
type Doc struct {
	Blocks []Block
}

// Add appends blocks and returns d, for chaining.
func (d *Doc) Add(blocks ...Block) *Doc {
	d.Blocks = append(d.Blocks, blocks...)
	return d
}

// String describes t without its text, which may hold personal data (a name on a receipt):
// "Text{12 chars 2x2 bold center}".
func (t Text) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Text{%d chars %dx%d", utf8.RuneCountInString(t.Text), max(t.Width, 1), max(t.Height, 1))
	if t.Bold {
		b.WriteString(" bold")
	}
	b.WriteString(" " + t.Align.String() + "}")
	return b.String()
}

// String describes q without its data: "QR{40 bytes}".
func (q QR) String() string { return fmt.Sprintf("QR{%d bytes}", len(q.Data)) }

// String describes b without its data: "Barcode{9 chars}".
func (b Barcode) String() string { return fmt.Sprintf("Barcode{%d chars}", len(b.Data)) }

// String lists the blocks without their content (see Text.String), so a Doc can be logged.
func (d Doc) String() string {
	parts := make([]string, len(d.Blocks))
	for i, b := range d.Blocks {
		parts[i] = fmt.Sprint(b)
	}
	return "Doc[" + strings.Join(parts, " ") + "]"
}

// String returns "left", "center" or "right"; other values print as "align(N)".
func (a Align) String() string {
	switch a {
	case AlignLeft:
		return "left"
	case AlignCenter:
		return "center"
	case AlignRight:
		return "right"
	}
	return fmt.Sprintf("align(%d)", a)
}
