package escpos_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"citizenhome/devices/escpos"
)

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		cols int
		want []string
	}{
		{"empty is one blank line", "", 32, []string{""}},
		{"fits", "hello world", 32, []string{"hello world"}},
		{"exact width", strings.Repeat("a", 32), 32, []string{strings.Repeat("a", 32)}},
		{"hard split of one long word", strings.Repeat("a", 33), 32, []string{strings.Repeat("a", 32), "a"}},
		{"break at space", "aaa bbb", 5, []string{"aaa", "bbb"}},
		{"space at the break is dropped", "abcde fgh", 5, []string{"abcde", "fgh"}},
		{"continuation drops leading spaces", "abcde   fgh", 5, []string{"abcde", "fgh"}},
		{"paragraph keeps leading spaces", "  indent", 32, []string{"  indent"}},
		{"trailing spaces dropped", "abc   ", 32, []string{"abc"}},
		{"16 Chinese fill 58 mm", "一二三四五六七八九十壹贰叁肆伍陆", 32, []string{"一二三四五六七八九十壹贰叁肆伍陆"}},
		{"17th Chinese wraps", "一二三四五六七八九十壹贰叁肆伍陆柒", 32, []string{"一二三四五六七八九十壹贰叁肆伍陆", "柒"}},
		{"Chinese never split across the edge", strings.Repeat("a", 31) + "中", 32, []string{strings.Repeat("a", 31), "中"}},
		{"English word after Chinese moves whole", "一二三四五六七八九十壹贰叁肆伍 hello", 32, []string{"一二三四五六七八九十壹贰叁肆伍", "hello"}},
		{"closing punctuation not at line start", "一二三四五六七八九十壹贰叁肆伍陆。", 32, []string{"一二三四五六七八九十壹贰叁肆伍", "陆。"}},
		{"mixed no space", "ID号码ABC", 32, []string{"ID号码ABC"}},
		{"word after ideographs moves whole", "证件号码ABCDEF", 10, []string{"证件号码", "ABCDEF"}},
		{"newlines", "a\nb", 32, []string{"a", "b"}},
		{"blank line kept", "a\n\nb", 32, []string{"a", "", "b"}},
		{"control chars print as ?", "a\x1bb\x00c", 32, []string{"a?b?c"}},
		{"tab is a space", "a\tb", 32, []string{"a b"}},
		{"invalid UTF-8", "a\xffb", 32, []string{"a?b"}},
		{"double width on 58 mm", "市民之家 Citizen Service Hall", 16, []string{"市民之家 Citizen", "Service Hall"}},
		{"double width on 80 mm", "市民之家 Citizen Service Hall", 24, []string{"市民之家 Citizen Service", "Hall"}},
		{"quad width breaks between ideographs", "A023 窗口", 8, []string{"A023 窗", "口"}},
		{"URL longer than a line fills then splits", "x https://example.com/very/long/path/that/exceeds", 16,
			[]string{"x https://exampl", "e.com/very/long/", "path/that/exceed", "s"}},
		{"columns below 2 still fit a Chinese character", "中文", 1, []string{"中", "文"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := escpos.Wrap(tc.text, tc.cols)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Wrap(%q, %d)\n got %q\nwant %q", tc.text, tc.cols, got, tc.want)
			}
		})
	}
}

func TestWidth(t *testing.T) {
	for s, want := range map[string]int{"": 0, "abc": 3, "中文": 4, "A023 窗口": 9, "，": 2, "é": 2, "\x1b": 1, "😀": 2} {
		if got := escpos.Width(s); got != want {
			t.Errorf("Width(%q) = %d, want %d", s, got, want)
		}
	}
}

// TestWrapProperties checks random mixed text: no line is wider than allowed, and no
// non-space character is lost, duplicated or reordered.
func TestWrapProperties(t *testing.T) {
	alphabet := []rune("abcdefgXYZ0123 ,.-/  中文市民之家排队号，。！）（")
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		n := rng.IntN(120)
		rs := make([]rune, n)
		for j := range rs {
			rs[j] = alphabet[rng.IntN(len(alphabet))]
		}
		text := string(rs)
		cols := 2 + rng.IntN(47)
		lines := escpos.Wrap(text, cols)
		for _, l := range lines {
			if w := escpos.Width(l); w > cols {
				t.Fatalf("case %d: line %q is %d columns, limit %d (text %q)", i, l, w, cols, text)
			}
		}
		strip := func(s string) string { return strings.ReplaceAll(s, " ", "") }
		if got, want := strip(strings.Join(lines, "")), strip(text); got != want {
			t.Fatalf("case %d: characters changed\n got %q\nwant %q", i, got, want)
		}
	}
}
