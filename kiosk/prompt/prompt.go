// Package prompt is what the kiosk says: spoken prompts at the key steps (where to place a card,
// a card read, the ticket taken with its number and how many wait, each error, the offer of
// large text), in Mandarin or English. Each prompt is a whole sentence synthesised as one clip,
// for natural prosody; ticket codes and counts are joined from digit, letter and number clips.
//
// The clips are listed in clips.tsv (name, espeak-ng voice, text), which scripts/clips.sh --from
// synthesises when the kiosk package is built (/usr/share/citizenhome/prompts); a hall may
// replace any with its own recording of the same name in its own folder (voice.clips_dir,
// /etc/citizenhome/prompts), as it does halld's (package speech does the loading).
//
// Synthesised when the package is built rather than when a prompt is said: espeak-ng would take
// some 30 ms a sentence on the kiosk, not much, but every prompt is then a file a hall can listen
// to and replace with a recording in a real voice (espeak-ng's Mandarin is plainly a machine's),
// the kiosk needs neither espeak-ng nor its data at run time, and it speaks as halld's calling
// display does, from the same clip machinery (package speech).
//
// The screens decide when to speak (package ui); Voice speaks through a speaker.
package prompt

import (
	_ "embed"
	"strconv"
	"strings"
	"time"

	"citizenhome/kiosk/config"
	"citizenhome/speech"
)

//go:embed clips.tsv
var clipsTSV string

// Prompt names what is said.
type Prompt string

// The prompts. A card placement names the reader's position on the kiosk's front (the
// configured devices.id_reader_position or card_reader_position).
const (
	PlaceIDCard     Prompt = "place-id"         // 请将身份证放在屏幕右侧的读卡区
	PlaceCityCard   Prompt = "place-city"       // 请将市民卡放在……的读卡区
	CardRead        Prompt = "card-read"        // 读卡成功
	CardUnreadable  Prompt = "card-unreadable"  // 读卡失败，请重新放卡
	Ticket          Prompt = "ticket"           // 您的号码是 A 0 1 2，前面还有 5 人等候 (Line.Code, Line.Ahead)
	PaperOut        Prompt = "paper-out"        // 出票机缺纸，请到其他自助机取号
	PrinterFault    Prompt = "printer-fault"    // 出票机暂时无法出票，请到综合窗口咨询
	HallUnreachable Prompt = "hall-unreachable" // 暂时无法连接大厅系统，请稍后再试
	NoNumber        Prompt = "no-number"        // 暂时无法取号，请到综合窗口咨询
	Failed          Prompt = "failed"           // 系统暂时出现问题，请到综合窗口办理
	Closed          Prompt = "closed"           // 现在不在办理时间
	ElderOffer      Prompt = "elder-offer"      // 您可以使用大字模式
)

// sentences are the prompts said by one clip of the same name ("zh/card-read").
var sentences = []Prompt{CardRead, CardUnreadable, PaperOut, PrinterFault, HallUnreachable, NoNumber, Failed, Closed, ElderOffer}

// Line is one prompt with what it says of the moment.
type Line struct {
	Prompt Prompt
	Code   string // Ticket: the ticket's code ("A012"), read character by character
	Ahead  int    // Ticket: how many wait before it
}

// Pauses.
const (
	lead     = 100 * time.Millisecond // before the first clip: amplifiers swallow the first instant
	word     = 60 * time.Millisecond  // between the characters of a code, the words of a number
	phrase   = 200 * time.Millisecond // between the parts of a sentence (number, "waiting")
	sentence = 350 * time.Millisecond // between two lines said together
	tail     = 150 * time.Millisecond
)

// Clips lists every clip of the prompts, both languages, in clips.tsv's order.
func Clips() []speech.Clip {
	var out []speech.Clip
	for l := range strings.Lines(clipsTSV) {
		l = strings.TrimRight(l, "\n")
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, "\t")
		// clips.tsv is the package's own, checked by its tests: a malformed line is a build's bug.
		if len(f) != 3 {
			panic("prompt: clips.tsv: malformed line " + strconv.Quote(l))
		}
		out = append(out, speech.Clip{Name: f[0], Lang: f[0][:strings.IndexByte(f[0], '/')], Voice: f[1], Text: f[2]})
	}
	return out
}

// Readers are where the card readers sit on the kiosk's front: config.ReaderPositions.
type Readers struct {
	ID   string // devices.id_reader_position
	City string // devices.card_reader_position
}

// ReadersOf are the configured reader positions.
func ReadersOf(c config.Config) Readers {
	return Readers{ID: c.Devices.IDReaderPosition, City: c.Devices.CardReaderPosition}
}

// Parts are the clips that say lines in lang (speech.Chinese or speech.English), one after the
// other, with their pauses. A language other than zh and en, an unknown prompt, an empty ticket
// code, a negative count or a reader position that is not one of config.ReaderPositions is
// CodeInvalid; a code character without a clip (only ASCII letters and digits have one) is
// CodeUnspeakable.
func Parts(lang string, r Readers, lines ...Line) ([]speech.Part, error) {
	if lang != speech.Chinese && lang != speech.English {
		return nil, speech.Errorf(speech.CodeInvalid, "unknown language %q (zh or en)", lang)
	}
	if len(lines) == 0 {
		return nil, speech.Errorf(speech.CodeInvalid, "nothing to say")
	}
	var w words
	w.lang, w.gap = lang, lead
	for i, l := range lines {
		if i > 0 {
			w.pause(sentence)
		}
		if err := w.line(l, r); err != nil {
			return nil, err
		}
	}
	return w.parts, nil
}

// words builds a list of parts: each clip after the longest pause asked for since the last.
type words struct {
	lang  string
	parts []speech.Part
	gap   time.Duration
}

func (w *words) say(name string) {
	w.parts = append(w.parts, speech.Part{Clip: w.lang + "/" + name, Before: w.gap})
	w.gap = word
}

func (w *words) pause(d time.Duration) { w.gap = max(w.gap, d) }

func (w *words) line(l Line, r Readers) error {
	switch l.Prompt {
	case PlaceIDCard, PlaceCityCard:
		pos := r.ID
		if l.Prompt == PlaceCityCard {
			pos = r.City
		}
		if !validPosition(pos) {
			return speech.Errorf(speech.CodeInvalid, "reader position %q (one of %s)", pos, strings.Join(config.ReaderPositions, ", "))
		}
		w.say(string(l.Prompt) + "-" + pos)
	case Ticket:
		return w.ticket(l)
	default:
		for _, s := range sentences {
			if s == l.Prompt {
				w.say(string(s))
				return nil
			}
		}
		return speech.Errorf(speech.CodeInvalid, "unknown prompt %q", l.Prompt)
	}
	return nil
}

func validPosition(p string) bool {
	for _, v := range config.ReaderPositions {
		if v == p {
			return true
		}
	}
	return false
}

// ticket: 您的号码是 A 0 1 2，前面还有 5 人等候 (前面没有人等候 when nobody waits); "Your number
// is A 0 1 2. Waiting before you: 5." ("Nobody is waiting before you.").
func (w *words) ticket(l Line) error {
	code := strings.TrimSpace(l.Code)
	if code == "" || l.Ahead < 0 {
		return speech.Errorf(speech.CodeInvalid, "a ticket needs its code and a count of 0 or more")
	}
	w.say("your-number-is")
	for _, c := range code {
		switch {
		case c >= '0' && c <= '9':
			w.say("digit-" + string(c))
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
			w.say("letter-" + strings.ToLower(string(c)))
		default:
			return speech.Errorf(speech.CodeUnspeakable, "ticket code %q: no clip says %q", code, c)
		}
	}
	w.pause(phrase)
	switch {
	case l.Ahead == 0:
		w.say("nobody-ahead")
	case w.lang == speech.Chinese:
		w.say("ahead")
		w.pause(word)
		w.number(l.Ahead)
		w.say("people-waiting")
	default:
		w.say("ahead")
		w.pause(word)
		w.number(l.Ahead)
	}
	return nil
}

// number says n (0 or more) as a number: Mandarin up to 9999 (5 五, 12 十二, 105 一百零五,
// 2030 二千零三十), English up to 999 (twelve, one hundred five); larger ones digit by digit.
func (w *words) number(n int) {
	if w.lang == speech.Chinese && n <= 9999 {
		for _, c := range zhNumber(n) {
			w.say(c)
		}
		return
	}
	if w.lang == speech.English && n <= 999 {
		for _, c := range enNumber(n) {
			w.say(c)
		}
		return
	}
	for _, c := range strconv.Itoa(n) {
		w.say("digit-" + string(c))
	}
}

// zhNumber is how Mandarin reads 0..9999, as clip names: 十 alone for 10..19 at the head of a
// number, 零 once for any run of zeros inside it.
func zhNumber(n int) []string {
	if n == 0 {
		return []string{"digit-0"}
	}
	units := []string{"qian", "bai", "shi", ""}
	digits := []int{n / 1000, n / 100 % 10, n / 10 % 10, n % 10}
	var out []string
	zero := false
	for i, d := range digits {
		if d == 0 {
			zero = len(out) > 0
			continue
		}
		if zero {
			out = append(out, "digit-0")
			zero = false
		}
		if !(d == 1 && i == 2 && len(out) == 0) { // 十二, not 一十二
			out = append(out, "digit-"+strconv.Itoa(d))
		}
		if units[i] != "" {
			out = append(out, units[i])
		}
	}
	return out
}

// enNumber is how English reads 0..999, as clip names: "one hundred five", "forty-two".
func enNumber(n int) []string {
	var out []string
	if n >= 100 {
		out = append(out, "digit-"+strconv.Itoa(n/100), "hundred")
		n %= 100
		if n == 0 {
			return out
		}
	}
	switch {
	case n < 10:
		out = append(out, "digit-"+strconv.Itoa(n))
	case n < 20:
		out = append(out, "n-"+strconv.Itoa(n))
	default:
		out = append(out, "n-"+strconv.Itoa(n/10*10))
		if n%10 != 0 {
			out = append(out, "digit-"+strconv.Itoa(n%10))
		}
	}
	return out
}

// Options configure Load.
type Options struct {
	// Dirs are the clip folders, the hall's own recordings first, then the synthesised clips;
	// empty strings and folders that do not exist are skipped (speech.Load).
	Dirs []string
	// Readers are the reader positions the placement prompts name.
	Readers Readers
}

// Prompts renders prompts from a loaded set of clips. It is safe for concurrent use.
type Prompts struct {
	set     *speech.Set
	readers Readers
}

// Load checks every clip of the prompts in o.Dirs and notes where each is (speech.Index: a broken
// clip file fails the load with a *speech.Error naming it; missing clips do not, Missing lists
// them and Render fails on the first it needs). The samples are read when a prompt is said, not
// kept: the prompts are minutes of sound, and the kiosk idles most of the day.
func Load(o Options) (*Prompts, error) {
	set, err := speech.Index(o.Dirs, Clips())
	if err != nil {
		return nil, err
	}
	return &Prompts{set: set, readers: o.Readers}, nil
}

// Missing lists the clips no folder holds, in clips.tsv's order; nil when all are there.
func (p *Prompts) Missing() []string { return p.set.Missing() }

// Render says lines in lang as 16-bit mono samples at speech.Rate, with a short lead-in and tail
// of silence. Errors are Parts', and CodeMissingClip naming a clip no folder holds.
func (p *Prompts) Render(lang string, lines ...Line) ([]int16, error) {
	parts, err := Parts(lang, p.readers, lines...)
	if err != nil {
		return nil, err
	}
	return p.set.Join(parts, tail)
}
