package subfont

import (
	"sync"
	"testing"
)

func TestGB2312Hanzi(t *testing.T) {
	n := 0
	for r := rune(0); r <= 0x10FFFF; r++ {
		if GB2312Hanzi(r) {
			n++
		}
	}
	if n != 6763 {
		t.Errorf("%d hanzi, GB 2312 has 6,763", n)
	}
	cases := []struct {
		r    rune
		want bool
		why  string
	}{
		{'啊', true, "first of level 1 (B0A1)"},
		{'座', true, "last of level 1 (D7F9)"},
		{'亍', true, "first of level 2 (D8A1)"},
		{'齄', true, "last of level 2 (F7FE)"},
		{'张', true, "common surname"},
		{'龘', false, "not in GB 2312"},
		{'麼', false, "traditional, not in GB 2312"},
		{'𠮷', false, "beyond the BMP"},
		{'A', false, "Latin"},
		{'，', false, "full-width comma: a symbol, not a hanzi"},
		{0xE810, false, "private use, where GBK maps D7FA"},
		{-1, false, "invalid rune"},
	}
	for _, c := range cases {
		if got := GB2312Hanzi(c.r); got != c.want {
			t.Errorf("GB2312Hanzi(%U) = %v, want %v (%s)", c.r, got, c.want, c.why)
		}
	}
}

func TestGB2312HanziConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if !GB2312Hanzi('市') {
				t.Error("市 missing")
			}
		})
	}
	wg.Wait()
}

func TestKeepFuncs(t *testing.T) {
	kiosk := Kiosk("龘 Ω")
	cases := []struct {
		name string
		keep func(rune) bool
		in   []rune
		out  []rune
	}{
		{"runes", Runes("市民", "之家"), []rune("市民之家"), []rune("中 ")},
		{"runes of nothing", Runes(), nil, []rune("a中")},
		{"any", Any(nil, Runes("a"), Runes("b")), []rune("ab"), []rune("c")},
		{"any of nothing", Any(), nil, []rune("a")},
		{"kiosk", kiosk,
			[]rune("Aa~ ×·“”—…℃№Ⅻ←①─■　、。「」【】〇，：（）￥\uFFFD市民之家龘Ω"),
			[]rune("\u007F\U0001F600麼𠮷\u0E01")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, r := range c.in {
				if !c.keep(r) {
					t.Errorf("%q (%U) not kept", r, r)
				}
			}
			for _, r := range c.out {
				if c.keep(r) {
					t.Errorf("%q (%U) kept", r, r)
				}
			}
		})
	}
}
