package voice

import (
	"strconv"
	"strings"

	"citizenhome/speech"
)

// Languages.
const (
	Chinese = speech.Chinese // Mandarin, always spoken
	English = speech.English // optional, after the Mandarin sentence
)

var (
	zhDigits = []string{"ling2", "yi1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3"}
	enDigits = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	// The words of the sentences, by clip name.
	zhWords = [][2]string{{"qing", "qing3"}, {"hao", "hao4"}, {"dao", "dao4"}, {"chuangkou", "chuang1kou3"}, {"banli", "ban4li3"}, {"shi", "shi2"}}
	enWords = [][2]string{{"number", "Number"}, {"please-go-to", "please go to"}, {"window", "window"}}
)

// Clips lists the clips of the languages (both when none is given), in a stable order; each is
// one word: see the package's comment for the names. An unknown language is CodeInvalid.
func Clips(langs ...string) ([]speech.Clip, error) {
	if len(langs) == 0 {
		langs = []string{Chinese, English}
	}
	var out []speech.Clip
	for _, l := range langs {
		var v string
		var digits []string
		var words [][2]string
		switch l {
		case Chinese:
			v, digits, words = speech.VoiceChinese, zhDigits, zhWords
		case English:
			v, digits, words = speech.VoiceEnglish, enDigits, enWords
		default:
			return nil, speech.Errorf(speech.CodeInvalid, "unknown language %q (zh or en)", l)
		}
		for d, text := range digits {
			out = append(out, speech.Clip{Name: l + "/digit-" + strconv.Itoa(d), Lang: l, Voice: v, Text: text})
		}
		for c := 'a'; c <= 'z'; c++ {
			out = append(out, speech.Clip{Name: l + "/letter-" + string(c), Lang: l, Voice: v, Text: strings.ToUpper(string(c))})
		}
		for _, w := range words {
			out = append(out, speech.Clip{Name: l + "/" + w[0], Lang: l, Voice: v, Text: w[1]})
		}
	}
	return out, nil
}

// A pause between two clips of a sentence.
type pause int

const (
	word     pause = 60  // ms between words: the digits of a code run together as one number
	comma    pause = 200 // ms where the English sentence has its comma
	sentence pause = 250 // ms between the Mandarin and the English sentence
)

// token is a clip name, or a pause longer than the one between words.
type token struct {
	clip  string
	pause pause
}

func clip(name string) token { return token{clip: name} }

// spell appends the clips that say s one character at a time; separators (space, '-', '_', '.')
// become a comma's pause.
func spell(out []token, lang, what, s string) ([]token, error) {
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			out = append(out, clip(lang+"/digit-"+string(r)))
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			out = append(out, clip(lang+"/letter-"+strings.ToLower(string(r))))
		case r == ' ' || r == '-' || r == '_' || r == '.':
			out = append(out, token{pause: comma})
		default:
			return nil, speech.Errorf(speech.CodeUnspeakable, "%s %q: no clip says %q", what, s, r)
		}
	}
	return out, nil
}

// zhNumber appends how Mandarin reads the window numbers 1..99 (3 三, 10 十, 12 十二, 20 二十,
// 21 二十一); ok is false for every other string, "03" and "100" included, which are spelled.
func zhNumber(out []token, s string) ([]token, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 99 || strconv.Itoa(n) != s {
		return out, false
	}
	d := func(i int) token { return clip(Chinese + "/digit-" + strconv.Itoa(i)) }
	tens, ones := n/10, n%10
	if tens > 1 {
		out = append(out, d(tens))
	}
	if tens > 0 {
		out = append(out, clip(Chinese+"/shi"))
	}
	if ones > 0 {
		out = append(out, d(ones))
	}
	return out, true
}

// words is the announcement of ticket code at window as clips and pauses: "请 A 零 一 二 号 到
// 三 号 窗口 办理", then, when english, "Number A zero one two, please go to window three". Ticket
// codes are read character by character; window numbers 1..99 as Mandarin numbers, other window
// ids (and every window in English) character by character. Surrounding spaces are ignored; an
// empty code or window is CodeInvalid, a character without a clip CodeUnspeakable.
func words(code, window string, english bool) ([]token, error) {
	code, window = strings.TrimSpace(code), strings.TrimSpace(window)
	if code == "" || window == "" {
		return nil, speech.Errorf(speech.CodeInvalid, "empty ticket code or window")
	}
	zh := func(w string) token { return clip(Chinese + "/" + w) }
	out := []token{zh("qing")}
	out, err := spell(out, Chinese, "ticket code", code)
	if err != nil {
		return nil, err
	}
	out = append(out, zh("hao"), zh("dao"))
	var ok bool
	if out, ok = zhNumber(out, window); !ok {
		if out, err = spell(out, Chinese, "window", window); err != nil {
			return nil, err
		}
	}
	out = append(out, zh("hao"), zh("chuangkou"), zh("banli"))
	if !english {
		return out, nil
	}
	en := func(w string) token { return clip(English + "/" + w) }
	out = append(out, token{pause: sentence}, en("number"))
	if out, err = spell(out, English, "ticket code", code); err != nil {
		return nil, err
	}
	out = append(out, token{pause: comma}, en("please-go-to"), en("window"))
	return spell(out, English, "window", window)
}
