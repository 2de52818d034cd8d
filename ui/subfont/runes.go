package subfont

import (
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// hanziLo and hanziHi bound the GB 2312 hanzi, which all lie in CJK Unified Ideographs.
const hanziLo, hanziHi = 0x4E00, 0x9FFF

// gb2312 is a bitset over hanziLo..hanziHi, built on first use by decoding rows 16–87 of
// GB 2312 (EUC-CN bytes 0xB0A1–0xF7FE) rather than from a data file.
var gb2312 = sync.OnceValue(func() []uint64 {
	set := make([]uint64, (hanziHi-hanziLo+64)/64)
	dec := simplifiedchinese.GBK.NewDecoder()
	for row := 16; row <= 87; row++ {
		for cell := 1; cell <= 94; cell++ {
			if row == 55 && cell > 89 {
				break // the last row of level 1 stops at 89; GBK puts private-use code points there
			}
			b, err := dec.Bytes([]byte{byte(0xA0 + row), byte(0xA0 + cell)})
			r, n := utf8.DecodeRune(b)
			if err != nil || n != len(b) || r < hanziLo || r > hanziHi || !unicode.Is(unicode.Han, r) {
				continue
			}
			set[(r-hanziLo)/64] |= 1 << ((r - hanziLo) % 64)
		}
	}
	return set
})

// GB2312Hanzi reports whether r is one of the 6,763 hanzi of GB 2312 (levels 1 and 2, rows
// 16–87), the characters every simplified-Chinese font must have. GB 2312's symbols, kana,
// Greek and Cyrillic (rows 1–9) are not included. The table is decoded once, on first call
// (well under a millisecond), and is safe for concurrent use.
func GB2312Hanzi(r rune) bool {
	if r < hanziLo || r > hanziHi {
		return false
	}
	i := r - hanziLo
	return gb2312()[i/64]&(1<<(i%64)) != 0
}

// Runes returns a keep function accepting exactly the runes of texts. It copies what it needs:
// later changes to the strings' sources do not matter. With no texts it accepts nothing.
func Runes(texts ...string) func(rune) bool {
	set := map[rune]struct{}{}
	for _, t := range texts {
		for _, r := range t {
			set[r] = struct{}{}
		}
	}
	return func(r rune) bool {
		_, ok := set[r]
		return ok
	}
}

// Any returns a keep function accepting a rune when any of keeps does (none: nothing).
// Nil functions are ignored.
func Any(keeps ...func(rune) bool) func(rune) bool {
	return func(r rune) bool {
		for _, k := range keeps {
			if k != nil && k(r) {
				return true
			}
		}
		return false
	}
}

// kioskRanges are the blocks a kiosk screen or ticket may show besides hanzi: Latin with
// Latin-1 (×, ÷, ·, ¥, °), general punctuation (“”‘’—…‰※), letterlike symbols and number
// forms (℃, №, Ⅰ–Ⅻ), arrows, enclosed numbers (①), box drawing and geometric shapes (■○▲),
// CJK symbols and punctuation (、。「」【】〇), full-width forms (，：（）￥) and U+FFFD, which
// Fyne draws for a rune no font has.
var kioskRanges = [][2]rune{
	{0x0020, 0x007E}, {0x00A0, 0x00FF}, {0x2000, 0x206F}, {0x2100, 0x218F}, {0x2190, 0x21FF},
	{0x2460, 0x24FF}, {0x2500, 0x25FF}, {0x3000, 0x303F}, {0xFF00, 0xFFEF}, {0xFFFD, 0xFFFD},
}

// Kiosk returns the keep function for the kiosk's theme font: the blocks of kioskRanges, the
// hanzi of GB 2312 ([GB2312Hanzi]), and every rune of texts, which should be the catalog, the
// translations and any other text known at start. A rarer character met later (a name with
// 𠮷 or 龘) is still drawn: Fyne takes it from a system font.
func Kiosk(texts ...string) func(rune) bool {
	inTexts := Runes(texts...)
	return func(r rune) bool {
		for _, rg := range kioskRanges {
			if r >= rg[0] && r <= rg[1] {
				return true
			}
		}
		return GB2312Hanzi(r) || inTexts(r)
	}
}
