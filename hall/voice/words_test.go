package voice

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"citizenhome/speech"
)

// say renders tokens as "qing A 0 1 2 hao …": clip words without their language, pauses as ",".
func say(toks []token) string {
	var w []string
	for _, t := range toks {
		if t.clip == "" {
			w = append(w, ",")
			continue
		}
		name := t.clip[strings.Index(t.clip, "/")+1:]
		name = strings.TrimPrefix(strings.TrimPrefix(name, "digit-"), "letter-")
		w = append(w, name)
	}
	return strings.Join(w, " ")
}

func TestWordsReadCodesAndWindows(t *testing.T) {
	cases := []struct{ code, window, want string }{
		{"A012", "3", "qing a 0 1 2 hao dao 3 hao chuangkou banli"},
		{"A012", "10", "qing a 0 1 2 hao dao shi hao chuangkou banli"},
		{"A012", "12", "qing a 0 1 2 hao dao shi 2 hao chuangkou banli"},
		{"A012", "20", "qing a 0 1 2 hao dao 2 shi hao chuangkou banli"},
		{"A012", "21", "qing a 0 1 2 hao dao 2 shi 1 hao chuangkou banli"},
		{"A012", "99", "qing a 0 1 2 hao dao 9 shi 9 hao chuangkou banli"},
		{"B999", "100", "qing b 9 9 9 hao dao 1 0 0 hao chuangkou banli"},
		{"B999", "03", "qing b 9 9 9 hao dao 0 3 hao chuangkou banli"},
		{"b999", "0", "qing b 9 9 9 hao dao 0 hao chuangkou banli"},
		{" D007 ", " VIP-2 ", "qing d 0 0 7 hao dao v i p , 2 hao chuangkou banli"},
	}
	for _, c := range cases {
		toks, err := words(c.code, c.window, false)
		if err != nil {
			t.Errorf("%q at %q: %v", c.code, c.window, err)
			continue
		}
		if got := say(toks); got != c.want {
			t.Errorf("%q at %q: %q, want %q", c.code, c.window, got, c.want)
		}
		for _, tk := range toks {
			if tk.clip != "" && !strings.HasPrefix(tk.clip, "zh/") {
				t.Errorf("%q at %q: English clip %s in the Mandarin sentence", c.code, c.window, tk.clip)
			}
		}
	}
}

func TestWordsInEnglish(t *testing.T) {
	toks, err := words("A012", "12", true)
	if err != nil {
		t.Fatal(err)
	}
	want := "qing a 0 1 2 hao dao shi 2 hao chuangkou banli , number a 0 1 2 , please-go-to window 1 2"
	if got := say(toks); got != want {
		t.Fatalf("%q\nwant %q", got, want)
	}
	var pauses []pause
	for _, tk := range toks {
		if tk.clip == "" {
			pauses = append(pauses, tk.pause)
		}
	}
	if !slices.Equal(pauses, []pause{sentence, comma}) {
		t.Fatalf("pauses %v", pauses)
	}
}

func TestWordsRefuse(t *testing.T) {
	for _, c := range []struct {
		code, window string
		want         error
	}{
		{"", "3", speech.ErrInvalid},
		{"A012", "  ", speech.ErrInvalid},
		{"A01#", "3", speech.ErrUnspeakable},
		{"A012", "三", speech.ErrUnspeakable},
		{"Ａ012", "3", speech.ErrUnspeakable}, // full-width A
	} {
		_, err := words(c.code, c.window, true)
		if !errors.Is(err, c.want) {
			t.Errorf("%q at %q: %v, want %v", c.code, c.window, err, c.want)
		}
	}
}

// Every clip a sentence can name exists in the table, and every clip in the table is used.
func TestClipsCoverTheSentences(t *testing.T) {
	all, err := Clips()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, c := range all {
		if names[c.Name] {
			t.Errorf("clip %s twice", c.Name)
		}
		names[c.Name] = true
	}
	if len(all) != 2*(10+26)+6+3 {
		t.Errorf("%d clips", len(all))
	}
	used := map[string]bool{}
	for _, code := range []string{"ABCDEFGHIJKLM0123456789", "NOPQRSTUVWXYZ"} {
		for _, w := range []string{"3", "12", "20"} {
			toks, err := words(code, w, true)
			if err != nil {
				t.Fatal(err)
			}
			for _, tk := range toks {
				if tk.clip != "" {
					if !names[tk.clip] {
						t.Errorf("sentence names %s, which Clips lacks", tk.clip)
					}
					used[tk.clip] = true
				}
			}
		}
	}
	for n := range names {
		if !used[n] {
			t.Errorf("clip %s is never spoken", n)
		}
	}
	if _, err := Clips("fr"); !errors.Is(err, speech.ErrInvalid) {
		t.Errorf("Clips(fr): %v", err)
	}
}

func TestLRUEvictsTheLeastRecent(t *testing.T) {
	c := newLRU(2)
	c.put("a", []byte("1"))
	c.put("b", []byte("2"))
	c.get("a")
	c.put("c", []byte("3")) // evicts b, used least recently
	if _, ok := c.get("b"); ok {
		t.Error("b kept")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok := c.get(k); !ok {
			t.Errorf("%s evicted", k)
		}
	}
	c.put("a", []byte("4"))
	if v, _ := c.get("a"); string(v) != "4" || c.order.Len() != 2 {
		t.Errorf("replace: %q, %d entries", v, c.order.Len())
	}
}
