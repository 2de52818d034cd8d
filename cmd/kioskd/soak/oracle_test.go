package soak

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"citizenhome/devices/pcsc/pcsctest"
	"citizenhome/kiosk"
)

// The card oracle: what the harness put on which reader and when, against which every answer
// of GET /v1/card is checked.

// source is a reader the harness controls, where card data come from.
type source int

const (
	srcSAM  source = iota // the SAM ID card reader: the identity (id.number)
	srcUID                // the PC/SC ID card reader: the ID card's UID
	srcCity               // the PC/SC city card reader: the city card (city.card_no)
	nSources
)

func (s source) String() string { return [...]string{"sam", "uid", "city"}[s] }

// readerSource maps a reader name of the API to its source.
func readerSource(reader string) (source, bool) {
	switch {
	case reader == kiosk.DeviceIDReader:
		return srcSAM, true
	case strings.HasPrefix(reader, pcsctest.IDReader):
		return srcUID, true
	case strings.HasPrefix(reader, pcsctest.CityReader):
		return srcCity, true
	}
	return 0, false
}

// cardAnswer is the part of a GET /v1/card object the checks read.
type cardAnswer struct {
	Kind   string `json:"kind"`
	Reader string `json:"reader"`
	UID    string `json:"uid"`
	ID     *struct {
		Number string `json:"number"`
	} `json:"id"`
	City *struct {
		CardNo string `json:"card_no"`
	} `json:"city"`
	Since     string          `json:"since"`
	ReadError json.RawMessage `json:"read_error"`
}

// datum is one piece of personal data in an answer, and when kioskd says it read it (zero when
// the answer does not tell: data merged from another reader's view of the same ID card).
type datum struct {
	src   source
	key   string
	since time.Time
}

// data lists the personal data of an answer by source.
func (a cardAnswer) data() ([]datum, error) {
	rs, ok := readerSource(a.Reader)
	if !ok {
		return nil, fmt.Errorf("answer from an unknown reader %q", a.Reader)
	}
	var since time.Time
	if a.Since != "" {
		t, err := time.Parse(time.RFC3339, a.Since)
		if err != nil {
			return nil, fmt.Errorf("since %q: %w", a.Since, err)
		}
		since = t
	}
	own := func(s source) time.Time {
		if s == rs {
			return since
		}
		return time.Time{}
	}
	var out []datum
	if a.ID != nil && a.ID.Number != "" {
		out = append(out, datum{srcSAM, a.ID.Number, own(srcSAM)})
	}
	// A city card's own UID goes with its card number, checked below.
	if a.UID != "" && rs != srcCity {
		out = append(out, datum{srcUID, strings.ToUpper(a.UID), own(srcUID)})
	}
	if a.City != nil {
		if rs != srcCity {
			return nil, fmt.Errorf("city card data from reader %q", a.Reader)
		}
		out = append(out, datum{srcCity, a.City.CardNo, since})
	}
	return out, nil
}

// presence is a time during which a card could be read: on its reader, the reader up. An open
// presence has a zero end.
type presence struct {
	key        string
	start, end time.Time
}

// wipe is a card kioskd had recorded whose presence ended: kioskd must forget it (card.removed on
// the event stream, or GET /v1/card answering no card) within the bound.
type wipe struct {
	src source
	at  time.Time
}

// oracle is safe for concurrent use.
type oracle struct {
	bound time.Duration // card data may outlive their presence this long

	mu      sync.Mutex
	up      [nSources]bool
	card    [nSources]string // the card on the reader now, "" for none
	pres    [nSources][]presence
	open    [nSources]int  // index in pres of the open presence, -1 for none
	board   [nSources]bool // kioskd has a card recorded on the reader (its event stream)
	boardAt [nSources]time.Time
	pending []wipe

	answers, withData int
	wiped             [nSources][]time.Duration
	unverified        int // wipes whose confirmation fell in a gap of the event stream
}

func newOracle(bound time.Duration) *oracle {
	o := &oracle{bound: bound}
	for i := range o.open {
		o.open[i] = -1
	}
	return o
}

// lineUp says the reader of s works from t on; a card on it can be read from t.
func (o *oracle) lineUp(s source, t time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.up[s] = true
	o.begin(s, t)
}

// lineDown says the reader of s stopped at t: what was read from it must go.
func (o *oracle) lineDown(s source, t time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.up[s] = false
	o.end(s, t)
}

// place says card key is on the reader of s from t.
func (o *oracle) place(s source, key string, t time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.end(s, t)
	o.card[s] = key
	o.begin(s, t)
}

// remove says the card on the reader of s left at t.
func (o *oracle) remove(s source, t time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.end(s, t)
	o.card[s] = ""
}

func (o *oracle) begin(s source, t time.Time) {
	if o.up[s] && o.card[s] != "" && o.open[s] < 0 {
		o.pres[s] = append(o.pres[s], presence{key: o.card[s], start: t})
		o.open[s] = len(o.pres[s]) - 1
	}
}

func (o *oracle) end(s source, t time.Time) {
	if i := o.open[s]; i >= 0 {
		o.pres[s][i].end = t
		o.open[s] = -1
		if o.board[s] {
			o.pending = append(o.pending, wipe{src: s, at: t})
		}
	}
}

// event takes a card event of kioskd's stream (card.inserted, card.removed) that arrived at at.
func (o *oracle) event(name, reader string, at time.Time) {
	s, ok := readerSource(reader)
	if !ok {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.boardAt[s] = at
	switch name {
	case "card.inserted":
		o.board[s] = true
		// A fresh read replaces what was read before the presence ended, once the card is
		// readable again.
		if o.open[s] >= 0 {
			o.resolve(func(w wipe) bool { return w.src == s && at.After(o.pres[s][o.open[s]].start) }, at)
		}
	case "card.removed":
		o.board[s] = false
		o.resolve(func(w wipe) bool { return w.src == s }, at)
	}
}

// gap says the event stream was lost for a while: what kioskd recorded is unknown until its
// next events, and the wipes pending cannot be confirmed from the stream.
func (o *oracle) gap() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.unverified += len(o.pending)
	o.pending = nil
	for i := range o.board {
		o.board[i] = false
	}
}

func (o *oracle) resolve(match func(wipe) bool, at time.Time) {
	kept := o.pending[:0]
	for _, w := range o.pending {
		if match(w) && at.After(w.at) {
			o.wiped[w.src] = append(o.wiped[w.src], at.Sub(w.at))
			continue
		}
		kept = append(kept, w)
	}
	o.pending = kept
}

// answer checks an answer of GET /v1/card to a request sent at sent and answered at got: code
// and body. It returns what is wrong with it: personal data of a card that was not readable
// then (not placed, taken away or its reader down more than the bound before the request), or
// read before its present presence began (kept across an outage).
func (o *oracle) answer(sent, got time.Time, code int, body []byte) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.answers++
	switch code {
	case 404:
		// Forgotten by the time the request was handled: at the latest when it was answered.
		o.resolve(func(w wipe) bool { return sent.After(w.at) }, got)
		for i := range o.board {
			if o.boardAt[i].Before(sent) { // not a card read since the request
				o.board[i] = false
			}
		}
		return nil
	case 200:
	default:
		return []string{fmt.Sprintf("GET /v1/card answered %d: %.200s", code, body)}
	}
	var a cardAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return []string{fmt.Sprintf("GET /v1/card: %v", err)}
	}
	ds, err := a.data()
	if err != nil {
		return []string{err.Error()}
	}
	if len(ds) > 0 {
		o.withData++
	}
	var bad []string
	for _, d := range ds {
		if why := o.allowed(d, sent, got); why != "" {
			bad = append(bad, fmt.Sprintf("GET /v1/card at %s answered %s card %s (reader %q, since %q): %s",
				sent.Format("15:04:05.000"), d.src, mask(d.key), a.Reader, a.Since, why))
		}
	}
	return bad
}

// allowed returns "" when d may be in an answer to a request of [sent, got], else why not.
func (o *oracle) allowed(d datum, sent, got time.Time) string {
	var last *presence
	for i := range o.pres[d.src] {
		p := &o.pres[d.src][i]
		if p.key != d.key || p.start.After(got) {
			continue
		}
		if !p.end.IsZero() && p.end.Add(o.bound).Before(sent) {
			last = p
			continue
		}
		// since is kioskd's clock in whole seconds: a read in this presence is stamped no
		// earlier than the second the presence began.
		if !d.since.IsZero() && d.since.Before(p.start.Truncate(time.Second)) {
			last = p
			continue
		}
		return ""
	}
	if last == nil {
		return "that card was never readable on that reader"
	}
	if last.end.IsZero() || !last.end.Add(o.bound).Before(sent) {
		return fmt.Sprintf("read at %s, before the presence that began at %s (kept across an outage)",
			d.since.Format("15:04:05"), last.start.Format("15:04:05.000"))
	}
	return fmt.Sprintf("its presence ended at %s, %v before the request (bound %v)",
		last.end.Format("15:04:05.000"), sent.Sub(last.end).Round(time.Millisecond), o.bound)
}

// overdue returns the wipes not confirmed within the bound by now, and forgets them.
func (o *oracle) overdue(now time.Time) []wipe {
	o.mu.Lock()
	defer o.mu.Unlock()
	var late []wipe
	kept := o.pending[:0]
	for _, w := range o.pending {
		if now.Sub(w.at) > o.bound {
			late = append(late, w)
			continue
		}
		kept = append(kept, w)
	}
	o.pending = kept
	return late
}

// onReader reports whether a card is on the reader of s now (placed, whatever the line).
func (o *oracle) onReader(s source) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.card[s] != ""
}

// current returns the card on the reader of s now, "" for none.
func (o *oracle) current(s source) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.card[s]
}

// counts returns how many answers were checked, and how many carried personal data.
func (o *oracle) counts() (answers, withData, unverified int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.answers, o.withData, o.unverified
}

// wipeTimes returns the times from a card's end of presence to kioskd forgetting it, by source.
func (o *oracle) wipeTimes() [nSources][]time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out [nSources][]time.Duration
	for i := range o.wiped {
		out[i] = append([]time.Duration(nil), o.wiped[i]...)
	}
	return out
}

// mask shows the last four characters of a card number or UID: the test's logs carry no full
// one, fictional as they are.
func mask(s string) string {
	if len(s) <= 4 {
		return "****"
	}
	return strings.Repeat("*", len(s)-4) + s[len(s)-4:]
}
