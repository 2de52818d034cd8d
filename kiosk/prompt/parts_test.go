package prompt

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"citizenhome/kiosk/config"
	"citizenhome/speech"
)

// say renders parts as "your-number-is a 0 1 2 | ahead 5 people-waiting": clip names without
// their language and digit-/letter- prefixes, "|" for a pause longer than between words.
func say(parts []speech.Part) string {
	var w []string
	for i, p := range parts {
		if i > 0 && p.Before > word {
			w = append(w, "|")
		}
		n := p.Clip[strings.Index(p.Clip, "/")+1:]
		w = append(w, strings.TrimPrefix(strings.TrimPrefix(n, "digit-"), "letter-"))
	}
	return strings.Join(w, " ")
}

var readers = Readers{ID: config.PosRight, City: config.PosBelowScreen}

func TestPartsCompose(t *testing.T) {
	cases := []struct {
		lang  string
		lines []Line
		want  string
	}{
		{"zh", []Line{{Prompt: Ticket, Code: "A012", Ahead: 5}}, "your-number-is a 0 1 2 | ahead 5 people-waiting"},
		{"zh", []Line{{Prompt: Ticket, Code: "b007", Ahead: 0}}, "your-number-is b 0 0 7 | nobody-ahead"},
		{"zh", []Line{{Prompt: Ticket, Code: "A012", Ahead: 12}}, "your-number-is a 0 1 2 | ahead shi 2 people-waiting"},
		{"en", []Line{{Prompt: Ticket, Code: "A012", Ahead: 5}}, "your-number-is a 0 1 2 | ahead 5"},
		{"en", []Line{{Prompt: Ticket, Code: "C999", Ahead: 0}}, "your-number-is c 9 9 9 | nobody-ahead"},
		{"zh", []Line{{Prompt: PlaceIDCard}}, "place-id-right"},
		{"en", []Line{{Prompt: PlaceIDCard}, {Prompt: PlaceCityCard}}, "place-id-right | place-city-below-screen"},
		{"zh", []Line{{Prompt: CardRead}, {Prompt: ElderOffer}}, "card-read | elder-offer"},
		{"en", []Line{{Prompt: PaperOut}}, "paper-out"},
	}
	for _, c := range cases {
		parts, err := Parts(c.lang, readers, c.lines...)
		if err != nil {
			t.Errorf("%s %v: %v", c.lang, c.lines, err)
			continue
		}
		if got := say(parts); got != c.want {
			t.Errorf("%s %v: %q, want %q", c.lang, c.lines, got, c.want)
		}
		for _, p := range parts {
			if !strings.HasPrefix(p.Clip, c.lang+"/") {
				t.Errorf("%s %v: clip %s of another language", c.lang, c.lines, p.Clip)
			}
		}
		if parts[0].Before != lead {
			t.Errorf("%s %v: lead-in %v", c.lang, c.lines, parts[0].Before)
		}
	}
}

func TestNumbers(t *testing.T) {
	zh := map[int]string{0: "0", 5: "5", 10: "shi", 12: "shi 2", 20: "2 shi", 21: "2 shi 1", 100: "1 bai", 105: "1 bai 0 5",
		110: "1 bai 1 shi", 230: "2 bai 3 shi", 1000: "1 qian", 1001: "1 qian 0 1", 2030: "2 qian 0 3 shi", 9999: "9 qian 9 bai 9 shi 9",
		10000: "1 0 0 0 0"}
	en := map[int]string{0: "0", 7: "7", 10: "n-10", 19: "n-19", 40: "n-40", 42: "n-40 2", 100: "1 hundred", 305: "3 hundred 5",
		999: "9 hundred n-90 9", 1234: "1 2 3 4"}
	for lang, want := range map[string]map[int]string{"zh": zh, "en": en} {
		for n, w := range want {
			var x words
			x.lang = lang
			x.number(n)
			if got := say(x.parts); got != w {
				t.Errorf("%s %d: %q, want %q", lang, n, got, w)
			}
		}
	}
}

func TestPartsRefuse(t *testing.T) {
	for _, c := range []struct {
		lang string
		r    Readers
		l    Line
		want error
	}{
		{"fr", readers, Line{Prompt: CardRead}, speech.ErrInvalid},
		{"zh", readers, Line{Prompt: "sing"}, speech.ErrInvalid},
		{"zh", readers, Line{Prompt: Ticket, Ahead: 3}, speech.ErrInvalid},
		{"zh", readers, Line{Prompt: Ticket, Code: "A012", Ahead: -1}, speech.ErrInvalid},
		{"zh", readers, Line{Prompt: Ticket, Code: "A0#2"}, speech.ErrUnspeakable},
		{"zh", readers, Line{Prompt: Ticket, Code: "Ａ012"}, speech.ErrUnspeakable},
		{"zh", Readers{ID: "on-the-roof"}, Line{Prompt: PlaceIDCard}, speech.ErrInvalid},
	} {
		if _, err := Parts(c.lang, c.r, c.l); !errors.Is(err, c.want) {
			t.Errorf("%s %+v %+v: %v, want %v", c.lang, c.r, c.l, err, c.want)
		}
	}
	if _, err := Parts("zh", readers); !errors.Is(err, speech.ErrInvalid) {
		t.Errorf("no lines: %v", err)
	}
}

// Every clip a line can name is listed, and every listed clip is said by some line.
func TestClipsCoverThePrompts(t *testing.T) {
	all := Clips()
	names := map[string]bool{}
	for _, c := range all {
		if names[c.Name] {
			t.Errorf("clip %s twice", c.Name)
		}
		names[c.Name] = true
		if want := map[string]string{"zh": speech.VoiceChinese, "en": speech.VoiceEnglish}[c.Lang]; c.Voice != want || c.Text == "" {
			t.Errorf("%s: voice %q, text %q", c.Name, c.Voice, c.Text)
		}
	}
	used := map[string]bool{}
	for _, lang := range []string{"zh", "en"} {
		var lines []Line
		for _, s := range sentences {
			lines = append(lines, Line{Prompt: s})
		}
		for _, p := range config.ReaderPositions {
			parts, err := Parts(lang, Readers{ID: p, City: p}, Line{Prompt: PlaceIDCard}, Line{Prompt: PlaceCityCard})
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range parts {
				used[x.Clip] = true
			}
		}
		for _, code := range []string{"ABCDEFGHIJKLM0123456789", "NOPQRSTUVWXYZ"} {
			for _, n := range []int{0, 1, 10, 100, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 30, 40, 50, 60, 70, 80, 90, 1234} {
				lines = append(lines, Line{Prompt: Ticket, Code: code, Ahead: n})
			}
		}
		parts, err := Parts(lang, readers, lines...)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range parts {
			used[x.Clip] = true
		}
	}
	for n := range used {
		if !names[n] {
			t.Errorf("a prompt names %s, which clips.tsv lacks", n)
		}
	}
	for n := range names {
		if !used[n] {
			t.Errorf("clip %s is never said", n)
		}
	}
}

// espeak-ng 1.51's Mandarin voice switches to English on what it cannot read as pinyin: every
// Mandarin clip must be Mandarin phonemes only.
func TestMandarinClipsStayMandarin(t *testing.T) {
	if _, err := exec.LookPath(speech.Engine); err != nil {
		t.Skip("espeak-ng not installed")
	}
	for _, c := range Clips() {
		if c.Lang != speech.Chinese {
			continue
		}
		out, err := exec.Command(speech.Engine, "-v", c.Voice, "-q", "-x", c.Text).Output()
		if err != nil {
			t.Fatal(err)
		}
		if ph := strings.TrimSpace(string(out)); ph == "" || strings.Contains(ph, "(en)") {
			t.Errorf("%s %q is spoken %q", c.Name, c.Text, ph)
		}
	}
}
