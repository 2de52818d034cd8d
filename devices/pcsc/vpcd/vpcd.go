// Package vpcd puts virtual smart cards on pcscd's virtual reader driver (vsmartcard-vpcd), so
// that code written against PC/SC is tested against a real pcscd.
//
// The driver listens on one TCP port per reader slot; a card is a TCP client of that port. Each
// message is a 2-byte big-endian length, then the payload. A 1-byte payload is a control (0
// power off, 1 power on, 2 reset: no reply; 4 get ATR: reply with the ATR); a longer payload is
// a command APDU, answered with the response APDU.
//
// A Slot plays any Model (samsim.IDCard, cardsim.Card, with their injected faults). While a
// card is inserted, the Slot keeps it connected: when pcscd dies and comes back, the card is
// still on the reader, as a real card would be. A model that answers a command with an empty
// response, or with an error, has left the field: the Slot drops the line without answering
// and the card counts as removed.
package vpcd

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Model is the card a Slot plays. Transmit gets each command APDU and returns the response
// APDU; an empty response or an error means the card left the field during the command.
// Calls come from one goroutine at a time.
type Model interface {
	ATR() []byte
	Transmit(apdu []byte) ([]byte, error)
}

// Controls: the 1-byte messages of the vpcd protocol.
const (
	CtrlPowerOff byte = 0
	CtrlPowerOn  byte = 1
	CtrlReset    byte = 2
	CtrlGetATR   byte = 4
)

// MaxMessage is the largest payload the protocol's 2-byte length allows.
const MaxMessage = 0xFFFF

// Redial paces the reconnection of an inserted card whose line pcscd dropped (pcscd restarting).
const (
	RedialMin = 5 * time.Millisecond
	RedialMax = 100 * time.Millisecond
)

// ErrNotInserted: Remove or Wait on a slot with no card.
var ErrNotInserted = errors.New("vpcd: no card inserted")

// ErrInserted: Insert on a slot that already holds a card.
var ErrInserted = errors.New("vpcd: a card is already inserted")

// Slot is one reader slot of the vpcd driver, at a TCP address such as 127.0.0.1:35963.
// Its methods are safe for concurrent use.
type Slot struct {
	addr string

	mu        sync.Mutex
	model     Model
	conn      net.Conn
	stop      chan struct{} // closed by Remove
	done      chan struct{} // closed when the serving goroutine ends
	left      bool          // the model left the field by itself
	connected bool
	dials     int   // successful connections since Insert
	err       error // why serving ended, when not by Remove
	apdus     int
	atrs      int
	changed   chan struct{} // closed and replaced at every state change, for waiters
}

// NewSlot returns the slot at addr ("127.0.0.1:35963"); nothing is dialled until Insert.
func NewSlot(addr string) *Slot { return &Slot{addr: addr, changed: make(chan struct{})} }

// Addr is the slot's TCP address.
func (s *Slot) Addr() string { return s.addr }

// Insert puts the card on the reader: it dials the driver's port (an error if nothing listens)
// and serves the model until Remove, until the model leaves the field, or for ever across
// pcscd restarts (the line is dialled again, RedialMin to RedialMax apart, while pcscd is away).
func (s *Slot) Insert(m Model) error {
	if m == nil {
		return errors.New("vpcd: nil model")
	}
	s.mu.Lock()
	if s.done != nil {
		select {
		case <-s.done:
		default:
			s.mu.Unlock()
			return ErrInserted
		}
	}
	s.mu.Unlock()
	conn, err := dial(context.Background(), s.addr)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done != nil {
		select {
		case <-s.done:
		default:
			conn.Close() // another Insert won the race
			return ErrInserted
		}
	}
	s.model, s.conn = m, conn
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	s.left, s.connected, s.dials, s.err = false, true, 1, nil
	s.notify()
	go s.run(m, conn, s.stop, s.done)
	return nil
}

// Remove takes the card off the reader (closes the line; pcscd sees the card gone at its next
// presence poll, within about 400 ms). Removing a card that left by itself is not an error.
func (s *Slot) Remove() error {
	s.mu.Lock()
	if s.done == nil {
		s.mu.Unlock()
		return ErrNotInserted
	}
	stop, done, conn := s.stop, s.done, s.conn
	select {
	case <-stop:
	default:
		close(stop)
	}
	if conn != nil {
		conn.Close()
	}
	s.mu.Unlock()
	<-done
	s.mu.Lock()
	s.done, s.model = nil, nil
	s.notify()
	s.mu.Unlock()
	return nil
}

// Inserted reports whether a card is on the reader: inserted, not removed, not left.
func (s *Slot) Inserted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Connected reports whether the card's line to the driver is up now (false while pcscd is away).
func (s *Slot) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected
}

// Dials counts the connections made since Insert: 1, plus one per pcscd restart survived.
func (s *Slot) Dials() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dials
}

// APDUs counts the command APDUs the card answered (or left during) since NewSlot.
func (s *Slot) APDUs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apdus
}

// ATRRequests counts the get-ATR controls (pcscd's presence polls) since NewSlot.
func (s *Slot) ATRRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.atrs
}

// Err tells why the card stopped being served other than by Remove: ErrLeft wrapped with the
// model's error when it left the field, a protocol error for a message it could not read.
// nil while the card is served or after Remove.
func (s *Slot) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Changed returns a channel closed at the slot's next state change (connected, disconnected,
// left, removed), to wait on with a deadline instead of sleeping.
func (s *Slot) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

func (s *Slot) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// ErrLeft: the model left the field (an empty response or an error from Transmit).
var ErrLeft = errors.New("vpcd: card left the field")

// ProtocolError is a message from the driver the slot could not make sense of; the line is
// dropped and dialled again.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return "vpcd: protocol: " + e.Msg }

func (s *Slot) run(m Model, conn net.Conn, stop, done chan struct{}) {
	defer close(done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	backoff := RedialMin
	for {
		err := serve(conn, m, s.count)
		conn.Close()
		s.mu.Lock()
		s.connected = false
		s.notify()
		select {
		case <-stop:
			s.mu.Unlock()
			return
		default:
		}
		if errors.Is(err, ErrLeft) {
			s.left, s.err = true, err
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		// The driver dropped the line: pcscd died or restarts. The card stays on the reader.
		for {
			select {
			case <-stop:
				return
			case <-time.After(backoff):
			}
			c, err := dial(ctx, s.addr)
			if err == nil {
				conn = c
				break
			}
			backoff = min(backoff*2, RedialMax)
		}
		backoff = RedialMin
		s.mu.Lock()
		select {
		case <-stop:
			s.mu.Unlock()
			conn.Close()
			return
		default:
		}
		s.conn, s.connected = conn, true
		s.dials++
		s.notify()
		s.mu.Unlock()
	}
}

func (s *Slot) count(ctrl bool) {
	s.mu.Lock()
	if ctrl {
		s.atrs++
	} else {
		s.apdus++
	}
	s.mu.Unlock()
}

// DialTimeout bounds one connection attempt. vpcd listens with a backlog of 0 and accepts a
// card only at its next presence poll: while an earlier connection waits in the queue, a new
// SYN is dropped and retransmitted a second later, so a shorter timeout fails for nothing.
const DialTimeout = 5 * time.Second

func dial(ctx context.Context, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{Timeout: DialTimeout}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("vpcd: %w", err)
	}
	return c, nil
}

// serve answers the driver's messages on conn until the line drops or the model leaves.
func serve(conn net.Conn, m Model, count func(ctrl bool)) error {
	r := &quickAckReader{c: conn}
	var hdr [2]byte
	buf := make([]byte, MaxMessage)
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return err
		}
		n := int(binary.BigEndian.Uint16(hdr[:]))
		if n == 0 {
			return &ProtocolError{Msg: "empty message"}
		}
		msg := buf[:n]
		if _, err := io.ReadFull(r, msg); err != nil {
			return err
		}
		if n == 1 {
			switch msg[0] {
			case CtrlGetATR:
				count(true)
				if err := send(conn, m.ATR()); err != nil {
					return err
				}
			case CtrlPowerOff, CtrlPowerOn, CtrlReset:
				// No reply. The models keep no power-dependent state beyond what a fresh
				// selection resets.
			default:
				return &ProtocolError{Msg: fmt.Sprintf("unknown control %d", msg[0])}
			}
			continue
		}
		count(false)
		resp, err := m.Transmit(append([]byte(nil), msg...))
		if err != nil {
			return fmt.Errorf("%w: %w", ErrLeft, err)
		}
		if len(resp) == 0 {
			// Leaving mid-command: no answer at all, the line drops, as a card taken out of
			// the field does. vpcd hands pcscd an empty response for this command.
			return ErrLeft
		}
		if err := send(conn, resp); err != nil {
			return err
		}
	}
}

// send writes one message in a single write, so that it leaves in one segment.
func send(conn net.Conn, payload []byte) error {
	if len(payload) > MaxMessage {
		return &ProtocolError{Msg: fmt.Sprintf("reply of %d bytes", len(payload))}
	}
	msg := make([]byte, 2+len(payload))
	binary.BigEndian.PutUint16(msg, uint16(len(payload)))
	copy(msg[2:], payload)
	_, err := conn.Write(msg)
	return err
}

// quickAckReader sets TCP_QUICKACK before every read. The driver writes a message's length and
// payload in two writes; with delayed ACKs the second waits for our ACK of the first (Nagle on
// its side), about 40 ms per exchange. Linux clears QUICKACK by itself, hence every read.
type quickAckReader struct{ c net.Conn }

func (q *quickAckReader) Read(b []byte) (int, error) {
	if tc, ok := q.c.(*net.TCPConn); ok {
		if rc, err := tc.SyscallConn(); err == nil {
			_ = rc.Control(func(fd uintptr) {
				_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_QUICKACK, 1)
			})
		}
	}
	return q.c.Read(b)
}
