package tomlfile

import (
	"fmt"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// Lines maps every key written in a document to the line it stands on, so that a value that
// decodes but fails validation is still reported with its line. Keys inside an array of tables
// carry the table's index ("queue.category[1].letter"); the array's own key is on the line of
// its first table. A key the file does not write is absent.
type Lines map[string]int

// KeyLines reads the keys of a TOML document and their lines. A syntax error is returned as a
// *Problem on its line (Key empty), with the keys read before it.
func KeyLines(data []byte) (Lines, error) {
	lines := Lines{}
	p := unstable.Parser{}
	p.Reset(data)
	var table string
	arrays := map[string]int{}
	for p.NextExpression() {
		n := p.Expression()
		switch n.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = joinKey(n.Key())
			line := firstKeyLine(&p, n)
			if n.Kind == unstable.ArrayTable {
				i := arrays[table]
				arrays[table] = i + 1
				if _, ok := lines[table]; !ok {
					lines[table] = line
				}
				table = fmt.Sprintf("%s[%d]", table, i)
			}
			lines[table] = line
		case unstable.KeyValue:
			key := joinKey(n.Key())
			if table != "" {
				key = table + "." + key
			}
			lines[key] = firstKeyLine(&p, n)
		}
	}
	if err := p.Error(); err != nil {
		e := &Problem{Msg: err.Error()}
		if pe, ok := err.(*unstable.ParserError); ok && len(pe.Highlight) > 0 {
			e.Line = p.Shape(p.Range(pe.Highlight)).Start.Line
		}
		return lines, e
	}
	return lines, nil
}

// firstKeyLine is the line of a table header's or key-value's key (the nodes themselves carry no
// range).
func firstKeyLine(p *unstable.Parser, n *unstable.Node) int {
	it := n.Key()
	if it.Next() {
		return p.Shape(it.Node().Raw).Start.Line
	}
	return 0
}

func joinKey(it unstable.Iterator) string {
	var parts []string
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return strings.Join(parts, ".")
}

// Line is the line of key, or of the nearest key above it that the file writes: an element of a
// list ("hours.weekday[2]") is on the line of its key. 0 when none is written.
func (m Lines) Line(key string) int {
	for {
		if l, ok := m[key]; ok {
			return l
		}
		i := strings.LastIndexByte(key, '[')
		j := strings.LastIndexByte(key, '.')
		if i < 0 && j < 0 {
			return 0
		}
		key = key[:max(i, j)]
	}
}

// keyAt completes key, as go-toml names it (relative to its table: "id" for a second hall.id),
// to the full key written on line; key itself when no key on that line ends with it.
func (m Lines) keyAt(line int, key string) string {
	best := key
	for k, l := range m {
		if l == line && (k == key || strings.HasSuffix(k, "."+key)) &&
			(len(k) > len(best) || len(k) == len(best) && k < best) {
			best = k
		}
	}
	return best
}
