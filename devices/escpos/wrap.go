package escpos

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// cell is one printable character: its GB18030 bytes and its width in print columns
// (1 for a single-byte character, 2 for a double- or four-byte one, which the printer
// prints from its 24x24 Chinese font).
type cell struct {
	r rune
	b []byte
	w int
}

var asciiBytes = func() (t [128][]byte) {
	for i := range t {
		t[i] = []byte{byte(i)}
	}
	return
}()

// cellsOf converts one line of text (no '\n') into cells, replacing what a printer must not
// see: control characters would be taken as commands, invalid UTF-8 and unencodable runes
// would print as garbage.
func cellsOf(s string) []cell {
	cells := make([]cell, 0, len(s))
	enc := simplifiedchinese.GB18030.NewEncoder()
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\t':
			r = ' '
		case r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0) || r == utf8.RuneError:
			r = '?'
		}
		if r < 0x80 {
			cells = append(cells, cell{r: r, b: asciiBytes[r], w: 1})
			continue
		}
		b, err := enc.Bytes(utf8.AppendRune(nil, r))
		if err != nil || len(b) < 2 {
			cells = append(cells, cell{r: '?', b: asciiBytes['?'], w: 1})
			continue
		}
		cells = append(cells, cell{r: r, b: b, w: 2})
	}
	return cells
}

// Width returns the number of print columns s takes at normal size: 1 for each ASCII
// character, 2 for each other character (Chinese, full-width punctuation, anything GB18030
// encodes in more than one byte). Control characters count as the '?' they print as;
// "\n" counts 1 like any other control character, so pass single lines.
func Width(s string) int {
	n := 0
	for _, c := range cellsOf(s) {
		n += c.w
	}
	return n
}

// Wrap breaks text into lines of at most columns print columns (see Width), the way Encode
// does for a Text block. "\n" forces a break. English breaks at spaces when it can; a word
// longer than a line is split; a line may break between any two Chinese characters, but a
// closing Chinese punctuation mark (，。、；：？！ and closing brackets) is not put at the start
// of a line when the character before it can move down with it. Trailing spaces are
// dropped, and leading spaces of lines created by wrapping (not of paragraphs). Characters
// are sanitised as in Text. columns < 2 is treated as 2, so a Chinese character always fits.
func Wrap(text string, columns int) []string {
	var out []string
	for _, line := range wrapCells(text, columns) {
		var b strings.Builder
		for _, c := range line {
			b.WriteRune(c.r)
		}
		out = append(out, b.String())
	}
	return out
}

type tokKind uint8

const (
	tokSpace tokKind = iota
	tokWide
	tokWord
)

type token struct {
	kind  tokKind
	cells []cell
	w     int
}

func tokenize(cells []cell) []token {
	var toks []token
	for i := 0; i < len(cells); {
		c := cells[i]
		switch {
		case c.r == ' ':
			toks = append(toks, token{kind: tokSpace, cells: cells[i : i+1], w: 1})
			i++
		case c.w == 2:
			toks = append(toks, token{kind: tokWide, cells: cells[i : i+1], w: 2})
			i++
		default:
			j := i
			for j < len(cells) && cells[j].w == 1 && cells[j].r != ' ' {
				j++
			}
			toks = append(toks, token{kind: tokWord, cells: cells[i:j], w: j - i})
			i = j
		}
	}
	return toks
}

// closing reports punctuation that must not begin a line (禁则).
func closing(r rune) bool {
	return strings.ContainsRune("，。、；：？！）》」』】〕〉…—～”’·．％", r)
}

func wrapCells(text string, columns int) [][]cell {
	if columns < 2 {
		columns = 2
	}
	var lines [][]cell
	for _, para := range strings.Split(text, "\n") {
		lines = append(lines, wrapParagraph(cellsOf(para), columns)...)
	}
	return lines
}

func wrapParagraph(cells []cell, cols int) [][]cell {
	var (
		lines     [][]cell
		line      []token
		lw        int
		continued bool // the current line was started by wrapping
	)
	flush := func() {
		for len(line) > 0 && line[len(line)-1].kind == tokSpace {
			line = line[:len(line)-1]
		}
		var cs []cell
		for _, t := range line {
			cs = append(cs, t.cells...)
		}
		lines = append(lines, cs)
		line, lw, continued = nil, 0, true
	}
	add := func(t token) {
		line = append(line, t)
		lw += t.w
	}
	for _, t := range tokenize(cells) {
		switch t.kind {
		case tokSpace:
			if lw == 0 && continued {
				continue
			}
			if lw+1 > cols {
				flush() // the space is the break
				continue
			}
			add(t)
		case tokWide:
			if lw+2 <= cols {
				add(t)
				continue
			}
			if closing(t.cells[0].r) && len(line) > 1 {
				if last := line[len(line)-1]; last.kind != tokSpace && last.w+2 <= cols {
					line = line[:len(line)-1]
					lw -= last.w
					flush()
					add(last)
					add(t)
					continue
				}
			}
			flush()
			add(t)
		case tokWord:
			if lw+t.w <= cols {
				add(t)
				continue
			}
			if t.w <= cols {
				flush()
				add(t)
				continue
			}
			// Longer than a whole line: fill the current line, then split.
			for _, c := range t.cells {
				if lw+1 > cols {
					flush()
				}
				add(token{kind: tokWord, cells: []cell{c}, w: 1})
			}
		}
	}
	if len(line) > 0 || !continued {
		flush()
	}
	return lines
}
