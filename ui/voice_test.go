package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"citizenhome/devices/speaker"
	"citizenhome/devices/speaker/speakertest"
	"citizenhome/kiosk"
	"citizenhome/kiosk/prompt"
	"citizenhome/speech"
	"citizenhome/speech/speechtest"
)

// heard is a Voice that notes what the screens ask of it: the decision of when to speak is the
// screens' (what is said, and how it sounds, kiosk/prompt's tests check on a real speaker).
type heard struct {
	mu    sync.Mutex
	said  []string // "zh ticket A001 0", "en card-read"
	taps  int
	level prompt.Level
}

func (h *heard) Say(lang string, lines ...prompt.Line) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var w []string
	for _, l := range lines {
		s := string(l.Prompt)
		if l.Prompt == prompt.Ticket {
			s += fmt.Sprintf(" %s %d", l.Code, l.Ahead)
		}
		w = append(w, s)
	}
	h.said = append(h.said, lang+" "+strings.Join(w, " + "))
}

func (h *heard) Tap()                          { h.mu.Lock(); h.taps++; h.mu.Unlock() }
func (h *heard) Level() prompt.Level           { h.mu.Lock(); defer h.mu.Unlock(); return h.level }
func (h *heard) SetLevel(l prompt.Level) error { h.mu.Lock(); h.level = l; h.mu.Unlock(); return nil }
func (h *heard) last() string                  { h.mu.Lock(); defer h.mu.Unlock(); return h.said[len(h.said)-1] }
func (h *heard) all() []string                 { h.mu.Lock(); defer h.mu.Unlock(); return slices.Clone(h.said) }
func (h *heard) tapCount() int                 { h.mu.Lock(); defer h.mu.Unlock(); return h.taps }
func (h *heard) reset()                        { h.mu.Lock(); h.said, h.taps = nil, 0; h.mu.Unlock() }
func (h *heard) expect(t *testing.T, want string) {
	t.Helper()
	if len(h.all()) == 0 || h.last() != want {
		t.Fatalf("said %q, want %q last", h.all(), want)
	}
}

func TestVoiceAtTheKeySteps(t *testing.T) {
	v := &heard{}
	f := newFixtureOpts(t, thursday, fixtureOptions{voice: v})
	f.tap(t, "取号")
	if v.tapCount() != 1 {
		t.Fatalf("%d clicks for a tap on a tile", v.tapCount())
	}
	sec := f.k.Offer().Sections[0]
	f.tap(t, sec.Section.Name.Zh)
	f.tap(t, sec.Matters[0].Name.Zh)
	f.tap(t, "确认取号")
	if v.tapCount() != 4 {
		t.Errorf("%d clicks for four taps (tiles and a button)", v.tapCount())
	}
	code := sec.Matters[0].Queue + "001"
	v.expect(t, "zh ticket "+code+" 0")
	f.tap(t, "完成")

	// English on screen: English prompts; the second ticket has one waiting before it.
	f.tap(t, "English")
	f.tap(t, "Take a ticket")
	f.tap(t, sec.Section.Name.En)
	f.tap(t, sec.Matters[0].Name.En)
	f.tapExact(t, "Take ticket")
	v.expect(t, "en ticket "+sec.Matters[0].Queue+"002 1")
	f.tap(t, "Done")

	// Scrolling is no tap: no click.
	before := v.tapCount()
	f.ui.scroll(widget.NewLabel("a guide")).OnScrolled(fyne.Position{})
	if v.tapCount() != before {
		t.Error("a scroll clicked")
	}
}

func TestVoiceSaysWhereTheCardGoesAndWhatCameOfIt(t *testing.T) {
	v := &heard{}
	f := newFixtureOpts(t, thursday, fixtureOptions{voice: v})
	f.tap(t, "一卡通")
	v.expect(t, "zh place-city")
	f.k.SetCityCard(&kiosk.CityCard{CardNo: "3104000012345678", BalanceFen: 100})
	v.expect(t, "zh card-read")
	f.k.CardUnreadable(kiosk.CardID, errors.New("read failed"))
	v.expect(t, "zh card-unreadable")

	// An elder's card: read, then the offer of large text, said together.
	f.ui.showHome()
	v.reset()
	f.k.SetPerson(born(1950, 1, 1))
	if !f.ui.dialogShown() {
		t.Fatal("no elder offer")
	}
	v.expect(t, "zh card-read + elder-offer")
}

func TestVoiceSaysEachError(t *testing.T) {
	v := &heard{}
	f := newFixtureOpts(t, thursday, fixtureOptions{voice: v})
	f.p.Set(printerPaperOut, nil, nil)
	f.takeFirstTicket(t)
	v.expect(t, "zh paper-out")
	f.p.Set(printerOK, errors.New("serial line down"), nil)
	f.ui.ticketError(&kiosk.PrinterError{State: kiosk.StateError})
	v.expect(t, "zh printer-fault")
	f.ui.ticketError(kiosk.ErrNoNumber)
	v.expect(t, "zh no-number")
	f.ui.hallError(context.DeadlineExceeded, nil)
	v.expect(t, "zh hall-unreachable")
	f.ui.ticketError(errors.New("disk full"))
	v.expect(t, "zh failed")

	closed := newFixtureOpts(t, time.Date(2026, 11, 26, 19, 0, 0, 0, thursday.Location()), fixtureOptions{voice: v})
	closed.tap(t, "取号")
	v.expect(t, "zh closed")
}

// Staff mode's volume and mute go through the staff handle (audited) to the voice, at once.
func TestStaffSetsTheVolume(t *testing.T) {
	v := &heard{level: prompt.Level{Volume: 70}}
	f := newFixtureOpts(t, thursday, fixtureOptions{voice: v})
	f.k.UseVoice(v)
	f.ui.staff.enter(f.staffByPIN(t))
	f.mustShow(t, "语音播报", "音量 70")
	f.tap(t, "音量 +")
	if v.Level() != (prompt.Level{Volume: 80}) {
		t.Fatalf("after 音量 +: %+v", v.Level())
	}
	f.mustShow(t, "音量 80")
	f.tap(t, "音量 −")
	f.tap(t, "音量 −")
	f.tapExact(t, "静音")
	if v.Level() != (prompt.Level{Volume: 60, Muted: true}) {
		t.Fatalf("after −, −, 静音: %+v", v.Level())
	}
	f.mustShow(t, "已静音", "取消静音")
	rows, err := f.staffByPIN(t).AuditLog(context.Background(), 20)
	if err != nil {
		t.Fatal(err)
	}
	var set []string
	for _, r := range rows {
		if r.Name == kiosk.AuditStaffSetConfig {
			var a map[string]string
			json.Unmarshal([]byte(r.Args), &a)
			set = append(set, a["voice.volume"]+"/"+a["voice.mute"])
		}
	}
	slices.Sort(set) // one instant on the test's clock: no order
	if want := []string{"60/false", "60/true", "70/false", "80/false"}; !slices.Equal(set, want) {
		t.Errorf("audited %q, want %q", set, want)
	}
}

// Without a voice the staff screen has no voice controls, and nothing breaks.
func TestSilentKiosk(t *testing.T) {
	f := newFixture(t, thursday)
	f.ui.staff.enter(f.staffByPIN(t))
	if f.shows("语音播报") {
		t.Error("voice controls on a silent kiosk")
	}
	f.ui.showHome()
	f.takeFirstTicket(t)
}

// End to end: the screen's language decides the prompt's, and what ALSA is given is the prompt,
// spoken: the ticket taken on an English screen is English speech of its length.
func TestTicketSpokenInTheScreensLanguage(t *testing.T) {
	c := speakertest.New(t)
	clips := speechtest.Synthesize(t, prompt.Clips())
	p, err := prompt.Load(prompt.Options{Dirs: []string{clips}})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := speaker.Open(speaker.Options{Device: c.Device(), Volume: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	f := newFixtureOpts(t, thursday, fixtureOptions{voice: prompt.NewVoice(p, speakertest.Started{Speaker: sp}, "", nil)})
	f.tap(t, "English")
	sec := f.k.Offer().Sections[0]
	f.tap(t, "Take a ticket")
	f.tap(t, sec.Section.Name.En)
	f.tap(t, sec.Matters[0].Name.En)
	f.tapExact(t, "Take ticket")
	want, err := p.Render("en", prompt.Line{Prompt: prompt.Ticket, Code: sec.Matters[0].Queue + "001", Ahead: 0})
	if err != nil {
		t.Fatal(err)
	}
	// Four clicks, then the prompt: the last sound ALSA is given.
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := c.Sounds()
		if n := len(got); n > 0 && len(got[n-1].Samples()) >= len(want) {
			s := got[n-1].Samples()
			if !slices.Equal(s[:len(want)], want) {
				t.Fatal("ALSA was not given the English ticket prompt")
			}
			speechtest.Speech(t, speech.Encode(s, speech.Rate), 2*time.Second, 6*time.Second)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sounds, none the prompt", len(got))
		}
		time.Sleep(5 * time.Millisecond)
	}
}
