package emulator

import (
	"fmt"
	"strings"
)

// code128Widths are the bar/space widths of the 107 CODE128 symbols (value 0..105, then
// stop), bar first.
var code128Widths = [107]string{
	"212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212", "221213",
	"221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221", "223211", "221132",
	"221231", "213212", "223112", "312131", "311222", "321122", "321221", "312212", "322112", "322211",
	"212123", "212321", "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313",
	"231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121", "313121", "211331",
	"231131", "213113", "213311", "213131", "311123", "311321", "331121", "312113", "312311", "332111",
	"314111", "221411", "431111", "111224", "111422", "121124", "121421", "141122", "141221", "112214",
	"112412", "122114", "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",
	"111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
	"214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311", "113141",
	"114131", "311141", "411131", "211412", "211214", "211232", "2331112",
}

const code128Stop = 106

var codeSwitch = map[byte]int{'A': 101, 'B': 100, 'C': 99}

// code128 decodes the data of GS k 73 (Epson CODE128: "{A"/"{B"/"{C" selects the code set,
// "{{" is a literal '{', "{1".."{4" are FNC1..4, "{S" is SHIFT) into the human-readable
// text and the modules of the symbol, true for a bar. ok is false for data a printer would
// reject: no leading code set, a character outside its set, a dangling '{'.
func code128(data []byte) (text string, modules []bool, ok bool) {
	if len(data) < 2 || data[0] != '{' || data[1] < 'A' || data[1] > 'C' {
		return "", nil, false
	}
	set := data[1]
	vals := []int{103 + int(set-'A')}
	var sb strings.Builder
	for i := 2; i < len(data); i++ {
		c := data[i]
		if c == '{' {
			if i+1 >= len(data) {
				return "", nil, false
			}
			i++
			switch n := data[i]; n {
			case 'A', 'B', 'C':
				if n == set {
					return "", nil, false
				}
				vals = append(vals, codeSwitch[n]) // the same value from either other set
				set = n
			case '{':
				if set != 'B' {
					return "", nil, false
				}
				vals = append(vals, int('{')-32)
				sb.WriteByte('{')
			case '1':
				vals = append(vals, 102)
			case '2':
				vals = append(vals, 97)
			case '3':
				vals = append(vals, 96)
			case '4':
				vals = append(vals, map[byte]int{'A': 101, 'B': 100, 'C': 100}[set])
			case 'S':
				vals = append(vals, 98)
			default:
				return "", nil, false
			}
			continue
		}
		switch set {
		case 'A':
			switch {
			case c < 0x20:
				vals = append(vals, int(c)+64)
			case c < 0x60:
				vals = append(vals, int(c)-32)
			default:
				return "", nil, false
			}
		case 'B':
			if c < 0x20 || c > 0x7F {
				return "", nil, false
			}
			vals = append(vals, int(c)-32)
		case 'C':
			if c > 99 {
				return "", nil, false
			}
			vals = append(vals, int(c))
			fmt.Fprintf(&sb, "%02d", c)
			continue
		}
		sb.WriteByte(c)
	}
	sum := vals[0]
	for k, v := range vals[1:] {
		sum += (k + 1) * v
	}
	vals = append(vals, sum%103, code128Stop)
	for _, v := range vals {
		bar := true
		for _, w := range code128Widths[v] {
			for range int(w - '0') {
				modules = append(modules, bar)
			}
			bar = !bar
		}
	}
	return sb.String(), modules, true
}
