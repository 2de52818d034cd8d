package idcard

import (
	"bytes"
	"context"
	"errors"
	"time"
)

// DefaultPollInterval paces Poll when it is given no interval: about three finds a second,
// quick enough that a card placed on the reader feels noticed at once.
const DefaultPollInterval = 330 * time.Millisecond

// EventKind says what a poll Event reports.
type EventKind uint8

const (
	// EventArrived: a card came and was read; Identity is set.
	EventArrived EventKind = iota + 1
	// EventReadFailed: a card came but could not be read after Options.ReadAttempts tries
	// (or its data failed validation); Err says why. Reported once per presence.
	EventReadFailed
	// EventRemoved: the card reported before is gone, or can no longer be vouched for: when the
	// reader fails, a card reported present is reported removed first (Err is then the
	// reader's error), and it is read again when the reader answers again.
	EventRemoved
	// EventReaderFailed: the reader stopped answering (timeout, bad frames, port error, a SAM
	// fault, its device gone: ErrOffline while it is reopened); Err says why. Reported once
	// until the reader answers again, after EventRemoved for a card that was present.
	EventReaderFailed
	// EventReaderOK: the reader answers again after EventReaderFailed.
	EventReaderOK
)

// String gives "arrived", "read-failed", "removed", "reader-failed", "reader-ok", or "unknown".
func (k EventKind) String() string {
	switch k {
	case EventArrived:
		return "arrived"
	case EventReadFailed:
		return "read-failed"
	case EventRemoved:
		return "removed"
	case EventReaderFailed:
		return "reader-failed"
	case EventReaderOK:
		return "reader-ok"
	}
	return "unknown"
}

// Event is one change Poll reports.
type Event struct {
	Kind     EventKind
	Identity *Identity // EventArrived only
	Err      error     // EventReadFailed, EventReaderFailed; EventRemoved when the reader failed
}

// Poll looks for a card every interval (DefaultPollInterval if every <= 0) until ctx ends,
// and calls fn, on Poll's goroutine, for each Event. A card is read once per presence: while
// it stays, Poll only sees that Find still succeeds. A card counts as removed after two finds
// in a row see none, so one missed find does not read it again. (A SAM that stops finding a
// card once it was read reports EventRemoved early, but still never reads it twice.)
//
// The pace is steady: each poll starts one interval after the previous one started, and a
// poll that overran (a read takes about a second) is followed by the next one at once, never
// by a burst. While the reader is away its port is reopened at Options.ReopenMin..ReopenMax
// (no faster than the polls), so it is found again within ReopenMax plus one interval of its
// return. Poll returns ctx.Err().
func (r *Reader) Poll(ctx context.Context, every time.Duration, fn func(Event)) error {
	if every <= 0 {
		every = DefaultPollInterval
	}
	p := poller{r: r, fn: fn}
	next := r.opt.Now()
	for {
		p.once(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		next = next.Add(every)
		wait := next.Sub(r.opt.Now())
		if wait < 0 {
			next, wait = r.opt.Now(), 0
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.opt.After(wait):
		}
	}
}

type poller struct {
	r        *Reader
	fn       func(Event)
	present  bool // a card was reported (arrived or read-failed) and has not left
	misses   int  // finds in a row without a card, while present
	attempts int  // failed reads of the card now in the field, not yet reported
	failing  bool // EventReaderFailed was reported
}

func (p *poller) once(ctx context.Context) {
	err := p.r.Find(ctx)
	if ctx.Err() != nil {
		return
	}
	switch {
	case err == nil:
		p.readerOK()
		p.misses = 0
		if p.present {
			return
		}
		id, err := p.r.readFound(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			p.present, p.attempts = true, 0
			p.fn(Event{Kind: EventArrived, Identity: id})
			return
		}
		p.attempts++
		// Bad card data will not improve with another try.
		var fe *FieldError
		if p.attempts >= p.r.opt.ReadAttempts || errors.As(err, &fe) || errors.Is(err, ErrTextSize) || errors.Is(err, ErrCardType) {
			p.present, p.attempts = true, 0
			p.fn(Event{Kind: EventReadFailed, Err: err})
		}
	case errors.Is(err, ErrNoCard):
		p.readerOK()
		p.attempts = 0
		if p.present {
			if p.misses++; p.misses >= 2 {
				p.present, p.misses = false, 0
				p.fn(Event{Kind: EventRemoved})
			}
		}
	default:
		// Whatever was read from a reader that no longer answers cannot be vouched for: the
		// card goes first, and is read again when the reader is back.
		p.misses, p.attempts = 0, 0
		if p.present {
			p.present = false
			p.fn(Event{Kind: EventRemoved, Err: err})
		}
		if !p.failing {
			p.failing = true
			p.fn(Event{Kind: EventReaderFailed, Err: err})
		}
	}
}

func (p *poller) readerOK() {
	if p.failing {
		p.failing = false
		p.fn(Event{Kind: EventReaderOK})
	}
}

// readFound is Read without its Find.
func (r *Reader) readFound(ctx context.Context) (*Identity, error) {
	if err := r.Select(ctx); err != nil {
		return nil, err
	}
	data, err := r.Do(ctx, CmdRead)
	if err != nil {
		return nil, err
	}
	return decodeRead(data)
}

func decodeRead(data []byte) (*Identity, error) {
	text, photo, err := SplitRead(data)
	if err != nil {
		return nil, &CommandError{Cmd: CmdRead, Err: err}
	}
	id, err := DecodeText(text)
	if err != nil {
		return nil, err
	}
	id.Photo = Photo(bytes.Clone(photo))
	return id, nil
}
