// Package samsim simulates a SAM ID-card reader and an ID card, for tests and demos.
//
// Sim answers the SAM serial protocol over any io.ReadWriter: an in-process net.Pipe in tests,
// a pty for a driver that opens a device path. Cards are placed and removed through its API,
// and faults (wrong status, bad checksum, line noise, silence) can be injected per command.
// IDCard models the same card on a contactless PC/SC reader, which only gives its UID.
//
// The shipped people (Samples) are fictional, with valid check digits.
package samsim

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"citizenhome/devices/idcard"
)

// FaultKind is what an injected fault does to a reply.
type FaultKind uint8

const (
	// FaultStatus answers with Fault.Status (and no data) instead of the real reply.
	FaultStatus FaultKind = iota + 1
	// FaultChecksum sends the real reply with its checksum byte flipped.
	FaultChecksum
	// FaultGarbage sends Fault.Garbage (or some line noise with a false preamble start)
	// before the real reply.
	FaultGarbage
	// FaultSilence sends nothing at all.
	FaultSilence
	// FaultTruncate sends the first half of the real reply, then nothing.
	FaultTruncate
)

// Fault is a misbehaviour injected into the replies to matching commands.
type Fault struct {
	Kind    FaultKind
	Cmd     idcard.Command // the command it hits; 0 hits any
	Status  idcard.Status  // FaultStatus
	Garbage []byte         // FaultGarbage; nil means DefaultGarbage
	// Times is how many matching commands it hits: 0 means once, a negative value always.
	Times int
}

// DefaultGarbage is the noise FaultGarbage sends when the fault names none: stray bytes,
// a preamble cut short, and a lone AA right before the real preamble.
var DefaultGarbage = []byte{0x00, 0xFF, 0x13, 0xAA, 0xAA, 0x96, 0x69, 0x55, 0xAA, 0xAA, 0xAA, 0x96, 0x00, 0xAA}

// Sim is a SAM reader with zero or one card in its field. Its methods are safe for concurrent
// use, also while Serve runs.
type Sim struct {
	mu       sync.Mutex
	text     []byte // the card's text block, nil when no card
	photo    []byte
	found    bool // Find succeeded in this presence
	selected bool
	halted   bool
	gen      int           // bumped by every Place and Remove (bump)
	changed  chan struct{} // closed and replaced by bump: wakes a pending read
	halt     bool          // HaltAfterRead
	faults   []Fault
	counts   map[idcard.Command]int
	delayMin time.Duration
	delayMax time.Duration
	samID    []byte
}

// New returns a Sim with no card, and the read delay of a real reader (0.6 to 1 s, uniformly
// spread); tests call SetReadDelay(0, 0).
func New() *Sim {
	return &Sim{
		counts:   map[idcard.Command]int{},
		changed:  make(chan struct{}),
		delayMin: 600 * time.Millisecond,
		delayMax: time.Second,
		samID:    []byte{0x05, 0x01, 0x20, 0x26, 0x11, 0x27, 0x00, 0x00, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0x00, 0x01},
	}
}

// SetReadDelay sets how long the read command takes, uniformly between min and max (max below
// min counts as min). A card removed during the delay makes the read fail, as on a real reader.
func (s *Sim) SetReadDelay(min, max time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delayMin, s.delayMax = min, max
}

// SetHaltAfterRead makes the card stop answering Find once it was read, until it is placed
// again: how some SAM firmware behaves. Default off (the card keeps answering).
func (s *Sim) SetHaltAfterRead(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.halt = on
}

// Place puts a card in the field, replacing any card there. The identity is encoded with
// idcard.EncodeText but not validated, so a test can place a card with a bad check digit;
// a nil Photo becomes PhotoSize dummy bytes.
func (s *Sim) Place(id *idcard.Identity) error {
	text, err := idcard.EncodeText(id)
	if err != nil {
		return err
	}
	photo := []byte(id.Photo)
	if photo == nil {
		photo = dummyPhoto(id.Number)
	}
	s.PlaceBlocks(text, photo)
	return nil
}

// PlacePerson places a person from a data file (see Place).
func (s *Sim) PlacePerson(p Person) error {
	id, err := p.identity()
	if err != nil {
		return err
	}
	return s.Place(id)
}

// PlaceBlocks puts a card with these raw text and photo blocks in the field, for tests of
// malformed cards. The text should be idcard.TextSize bytes; the sim does not check.
func (s *Sim) PlaceBlocks(text, photo []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.text = append([]byte{}, text...)
	s.photo = append([]byte{}, photo...)
	s.found, s.selected, s.halted = false, false, false
	s.bump()
}

// Remove takes the card out of the field; without a card it does nothing.
func (s *Sim) Remove() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.text, s.photo = nil, nil
	s.found, s.selected, s.halted = false, false, false
	s.bump()
}

func (s *Sim) bump() {
	s.gen++
	close(s.changed)
	s.changed = make(chan struct{})
}

// Present tells whether a card is in the field.
func (s *Sim) Present() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.text != nil
}

// Inject adds a fault; faults are tried in the order injected, one per reply.
func (s *Sim) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// ClearFaults removes every fault not yet used up.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Count is how many well-formed frames of cmd the sim received; Count(0) counts all commands.
func (s *Sim) Count(cmd idcard.Command) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cmd == 0 {
		n := 0
		for _, c := range s.counts {
			n += c
		}
		return n
	}
	return s.counts[cmd]
}

type frame struct {
	body []byte
	err  error
}

// Serve answers commands read from rw until ctx ends or rw fails, and returns why. A
// goroutine keeps reading rw while a reply is being prepared, as a UART would, so a driver
// writing its next command never blocks on the sim. To stop Serve promptly, cancel ctx and
// close rw (a blocked Read is only ended by closing it).
func (s *Sim) Serve(ctx context.Context, rw io.ReadWriter) error {
	frames := make(chan frame, 16)
	done := make(chan struct{})
	defer close(done)
	go func() {
		dec := idcard.NewDecoder(rw)
		for {
			body, err := dec.Next()
			var fe *idcard.FrameError
			if err != nil && !errors.As(err, &fe) {
				select {
				case frames <- frame{err: err}:
				case <-done:
				}
				return
			}
			select {
			case frames <- frame{body: body, err: err}:
			case <-done:
				return
			}
		}
	}()
	for {
		var f frame
		select {
		case <-ctx.Done():
			return ctx.Err()
		case f = <-frames:
		}
		var out []byte
		switch {
		case f.err == nil:
			out = s.answer(ctx, f.body)
		case errors.Is(f.err, idcard.ErrChecksum):
			out, _ = idcard.EncodeReply(idcard.ErrCommandChecksum, nil)
		case errors.Is(f.err, idcard.ErrBadLength):
			out, _ = idcard.EncodeReply(idcard.ErrCommandLength, nil)
		case errors.Is(f.err, idcard.ErrNoPreamble):
			continue // noise on the line: a SAM says nothing
		default:
			return f.err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if len(out) > 0 {
			if _, err := rw.Write(out); err != nil {
				return err
			}
		}
	}
}

// answer builds the reply frame bytes to one command body, faults applied.
func (s *Sim) answer(ctx context.Context, body []byte) []byte {
	cmd, _, err := idcard.ParseCommand(body)
	if err != nil {
		out, _ := idcard.EncodeReply(idcard.ErrCommandLength, nil)
		return out
	}
	s.mu.Lock()
	s.counts[cmd]++
	fault, faulted := s.takeFault(cmd)
	s.mu.Unlock()

	if faulted {
		switch fault.Kind {
		case FaultSilence:
			return nil
		case FaultStatus:
			out, _ := idcard.EncodeReply(fault.Status, nil)
			return out
		}
	}
	st, data := s.execute(ctx, cmd)
	out, _ := idcard.EncodeReply(st, data)
	if faulted {
		switch fault.Kind {
		case FaultChecksum:
			out[len(out)-1] ^= 0x5A
		case FaultGarbage:
			g := fault.Garbage
			if g == nil {
				g = DefaultGarbage
			}
			out = append(append([]byte(nil), g...), out...)
		case FaultTruncate:
			out = out[:len(out)/2]
		}
	}
	return out
}

// takeFault finds the first fault for cmd and uses it up once. s.mu is held.
func (s *Sim) takeFault(cmd idcard.Command) (Fault, bool) {
	for i, f := range s.faults {
		if f.Cmd != 0 && f.Cmd != cmd {
			continue
		}
		switch {
		case f.Times < 0:
		case f.Times <= 1:
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		default:
			s.faults[i].Times--
		}
		return f, true
	}
	return Fault{}, false
}

// execute runs a command against the card state: the protocol of a well-behaved reader.
func (s *Sim) execute(ctx context.Context, cmd idcard.Command) (idcard.Status, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch cmd {
	case idcard.CmdSAMStatus:
		return idcard.StatusOK, nil
	case idcard.CmdSAMID:
		return idcard.StatusOK, append([]byte(nil), s.samID...)
	case idcard.CmdResetSAM:
		s.found, s.selected = false, false
		return idcard.StatusOK, nil
	case idcard.CmdFind:
		if s.text == nil || s.halted {
			return idcard.ErrNoCard, nil
		}
		s.found = true
		return idcard.StatusFound, make([]byte, 4)
	case idcard.CmdSelect:
		if s.text == nil || !s.found {
			return idcard.ErrSelectFailed, nil
		}
		s.selected = true
		return idcard.StatusOK, make([]byte, 8)
	case idcard.CmdRead, idcard.CmdReadWithPrint:
		if s.text == nil || !s.selected {
			return idcard.ErrReadFailed, nil
		}
		gen := s.gen
		if !s.wait(ctx) || s.gen != gen {
			return idcard.ErrReadFailed, nil // removed or replaced mid-read
		}
		if s.halt {
			s.halted, s.found, s.selected = true, false, false
		}
		data := []byte{byte(len(s.text) >> 8), byte(len(s.text)), byte(len(s.photo) >> 8), byte(len(s.photo))}
		if cmd == idcard.CmdReadWithPrint {
			data = append(data, 0, 0) // no fingerprint on the card
		}
		data = append(data, s.text...)
		return idcard.StatusOK, append(data, s.photo...)
	case idcard.CmdReadAddress:
		return idcard.ErrNoItem, nil
	}
	return idcard.ErrBadCommand, nil
}

// wait sleeps the read delay with s.mu released; false when ctx ended meanwhile.
func (s *Sim) wait(ctx context.Context) bool {
	d := s.delayMin
	if s.delayMax > s.delayMin {
		d += rand.N(s.delayMax - s.delayMin)
	}
	if d <= 0 {
		return true
	}
	changed := s.changed
	s.mu.Unlock()
	defer s.mu.Lock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-changed:
		return true // the caller sees the new generation
	case <-ctx.Done():
		return false
	}
}
