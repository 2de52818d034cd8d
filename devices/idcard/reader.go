package idcard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// DefaultBaud is the line speed of most SAM readers.
const DefaultBaud = 115200

// ErrTimeout: the reader did not answer a command in time (unplugged, powered off, or
// mid-reset). A *CommandError names the command.
var ErrTimeout = errors.New("idcard: reader did not answer in time")

// ErrOffline: the reader has no open port: its device could not be opened (missing, busy, no
// permission; the cause is wrapped too), or the next attempt to reopen it is not due yet (see
// Options.Reopen). A *CommandError names the command; nothing was sent.
var ErrOffline = errors.New("idcard: reader offline")

// ErrClosed: the Reader was closed. A *CommandError names the command.
var ErrClosed = errors.New("idcard: reader closed")

// PortError is a failure of the port itself, not of the reader's answer: a read or write that
// fails (EIO when a USB serial adapter is unplugged or a pty's other side closes, a closed
// pipe). It comes wrapped in a *CommandError (and, when it cut a frame short, as the Cause of
// a *FrameError). A Reader with Options.Reopen closes its port after one and opens the device
// again later.
type PortError struct{ Err error }

// Error gives the port's error unchanged: "input/output error".
func (e *PortError) Error() string { return e.Err.Error() }

// Unwrap gives Err.
func (e *PortError) Unwrap() error { return e.Err }

// CommandError is a failed SAM command: Err is a Status (errors.Is(err, ErrNoCard)), a
// *FrameError, ErrTimeout, a context error, the port's error (a *PortError), ErrOffline (with
// the cause) or ErrClosed.
type CommandError struct {
	Cmd Command
	Err error
}

// Error gives "idcard: find: SAM status 0x80: no card (find failed)".
func (e *CommandError) Error() string {
	return "idcard: " + e.Cmd.String() + ": " + strings.TrimPrefix(e.Err.Error(), "idcard: ")
}

// Unwrap gives Err.
func (e *CommandError) Unwrap() error { return e.Err }

// String names the command ("find", "select", ...), or gives its hex code.
func (c Command) String() string {
	switch c {
	case CmdResetSAM:
		return "reset SAM"
	case CmdSAMStatus:
		return "SAM status"
	case CmdSAMID:
		return "SAM ID"
	case CmdFind:
		return "find"
	case CmdSelect:
		return "select"
	case CmdRead:
		return "read"
	case CmdReadAddress:
		return "read address"
	case CmdReadWithPrint:
		return "read with fingerprint"
	}
	return fmt.Sprintf("command %04X", uint16(c))
}

// Options tune a Reader; the zero Options are the defaults.
type Options struct {
	// Timeout bounds a short command (status, find, select): default 1 s.
	Timeout time.Duration
	// ReadTimeout bounds the read command: default 5 s (a real card takes about 1 s).
	ReadTimeout time.Duration
	// Now is the clock for timeouts and for Poll's pace: default time.Now. Timeouts are
	// measured with it too, so a test clock that never moves means no command times out.
	Now func() time.Time
	// After waits between polls: default time.After. A test can hand out ticks itself.
	After func(time.Duration) <-chan time.Time
	// ReadAttempts is how often Poll tries to read a card that fails before reporting
	// EventReadFailed: default 3.
	ReadAttempts int

	// Reopen, if set, opens the reader's port (again); tty.SerialOpener (package idcard/tty)
	// makes one for a device path, and tty.Open sets it. With it, NewReader may be given a nil
	// Port (the first command opens it), and after a *PortError the port is closed and a later
	// command opens a new one, so that a reader unplugged and plugged in again, at the same path
	// or at a udev symlink that now points at another tty, is found again without a restart. A
	// reader that only stops answering (ErrTimeout, bad frames) keeps its port. Without Reopen a
	// failed port keeps failing.
	Reopen func() (Port, error)
	// ReopenMin and ReopenMax pace the attempts to open the port while it cannot be opened or
	// fails again before the reader answered: the first attempt after a port error is made at
	// once, each later one waits ReopenMin, then twice as long, up to ReopenMax (defaults
	// 100 ms and 1 s; ReopenMax below ReopenMin counts as ReopenMin). A command asked before
	// the next attempt is due fails at once with ErrOffline and touches nothing, so a caller
	// that polls (Poll does) finds the reader again within ReopenMax plus its poll interval of
	// its return. The first reply from the reader starts the pace again from ReopenMin. The
	// waits are measured with Now.
	ReopenMin, ReopenMax time.Duration
}

func (o *Options) setDefaults() {
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.ReadAttempts <= 0 {
		o.ReadAttempts = 3
	}
	if o.ReopenMin <= 0 {
		o.ReopenMin = 100 * time.Millisecond
	}
	if o.ReopenMax <= 0 {
		o.ReopenMax = time.Second
	}
	o.ReopenMax = max(o.ReopenMax, o.ReopenMin)
}

// Reader drives a SAM reader over a Port. Its methods are safe for concurrent use; commands
// go to the reader one at a time.
type Reader struct {
	mu    sync.Mutex // one command at a time; guards everything below but port and closed
	src   deadlineReader
	dec   *Decoder
	opt   Options
	dirty bool // a command failed, or the port is new: stale bytes may be in flight

	nextOpen time.Time     // no reopen attempt before this
	backoff  time.Duration // the wait after the next attempt
	openErr  error         // why the last attempt failed

	// pmu guards port and closed apart from mu, so that Close need not wait for a command in
	// flight: closing the port is what ends it.
	pmu    sync.Mutex
	port   Port
	closed bool
}

// NewReader returns a Reader on p. Close closes p if p is an io.Closer. p may be nil when
// o.Reopen is set: the first command opens the port.
func NewReader(p Port, o Options) *Reader {
	o.setDefaults()
	r := &Reader{port: p, opt: o, backoff: o.ReopenMin}
	r.src = deadlineReader{now: o.Now}
	r.dec = NewDecoder(&r.src)
	return r
}

// Close closes the port if it can be closed, at once, also while a command waits for its
// reply (which then fails); later commands fail with ErrClosed and nothing is reopened.
// Close is idempotent.
func (r *Reader) Close() error {
	r.pmu.Lock()
	defer r.pmu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	p := r.port
	r.port = nil
	if c, ok := p.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// ensure gives the port to use, opening it through Reopen when it is closed and an attempt
// is due. Caller holds mu.
func (r *Reader) ensure() (Port, error) {
	r.pmu.Lock()
	p, closed := r.port, r.closed
	r.pmu.Unlock()
	switch {
	case closed:
		return nil, ErrClosed
	case p != nil:
		return p, nil
	case r.opt.Reopen == nil:
		return nil, fmt.Errorf("%w: no port", ErrOffline)
	}
	now := r.opt.Now()
	if now.Before(r.nextOpen) {
		return nil, fmt.Errorf("%w: %w", ErrOffline, r.openErr)
	}
	// Every attempt, failed or not, pushes the next one back: a device that opens and then
	// fails before it ever answers must not be reopened at each command either.
	r.nextOpen = now.Add(r.backoff)
	r.backoff = min(r.backoff*2, r.opt.ReopenMax)
	p, err := r.opt.Reopen()
	if err == nil && p == nil {
		err = errors.New("Reopen returned no port")
	}
	if err != nil {
		r.openErr = err
		return nil, fmt.Errorf("%w: %w", ErrOffline, err)
	}
	r.pmu.Lock()
	defer r.pmu.Unlock()
	if r.closed { // closed while opening
		if c, ok := p.(io.Closer); ok {
			_ = c.Close()
		}
		return nil, ErrClosed
	}
	r.port, r.openErr = p, nil
	// Whatever the device sent before it was opened is not an answer to us.
	r.dirty = true
	r.dec.Reset()
	return p, nil
}

// dropPort closes p after a port error, so that the next command opens the device again. A
// Reader without Reopen keeps its port (there is nothing to open instead). Caller holds mu.
func (r *Reader) dropPort(p Port) {
	if r.opt.Reopen == nil {
		return
	}
	r.pmu.Lock()
	if r.port == p {
		r.port = nil
	}
	r.pmu.Unlock()
	if c, ok := p.(io.Closer); ok {
		_ = c.Close() // the port is already broken; its close error says nothing new
	}
}

// answered notes a well-formed reply: the reader is there, so a later loss of its port is
// retried at once, then from ReopenMin. Caller holds mu.
func (r *Reader) answered() {
	r.backoff, r.nextOpen = r.opt.ReopenMin, time.Time{}
}

// Do sends one command and returns the data of its reply. A reply whose status is not
// StatusOK or StatusFound is an error (a *CommandError wrapping the Status). ctx cancels the
// wait for the reply; after any error the next command first discards what the line still
// holds, so a late reply is not taken for the next one's. With Options.Reopen, a *PortError
// closes the port and a later command reopens it (see Options.Reopen); until then commands
// fail with ErrOffline. After Close every command fails with ErrClosed.
func (r *Reader) Do(ctx context.Context, cmd Command) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := r.ensure()
	if err != nil {
		return nil, &CommandError{Cmd: cmd, Err: err}
	}
	timeout := r.opt.Timeout
	if cmd == CmdRead || cmd == CmdReadWithPrint || cmd == CmdReadAddress {
		timeout = r.opt.ReadTimeout
	}
	data, err := r.do(ctx, p, cmd, timeout)
	var st Status
	var pe *PortError
	switch {
	case err == nil, errors.As(err, &st):
		// A Status is a well-formed answer: the line is in step, and the reader is there.
		r.answered()
	case errors.As(err, &pe):
		r.dirty = true
		r.dropPort(p)
	default:
		r.dirty = true
	}
	if err != nil {
		return data, &CommandError{Cmd: cmd, Err: err}
	}
	return data, nil
}

func (r *Reader) do(ctx context.Context, p Port, cmd Command, timeout time.Duration) ([]byte, error) {
	if r.dirty {
		r.drain(p)
		r.dirty = false
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := p.Write(cmd.Encode()); err != nil {
		return nil, &PortError{Err: err}
	}
	r.src.p = p
	r.src.ctx = ctx
	r.src.deadline = r.opt.Now().Add(timeout)
	body, err := r.dec.Next()
	if err != nil {
		return nil, err
	}
	rep, err := ParseReply(body)
	if err != nil {
		return nil, err
	}
	return rep.Data, rep.Err()
}

// drain discards what the line holds: the rest of a bad frame, a reply that came too late.
func (r *Reader) drain(p Port) {
	r.dec.Reset()
	if rb, ok := p.(interface{ ResetInputBuffer() error }); ok {
		_ = rb.ResetInputBuffer()
	}
	buf := make([]byte, 256)
	for range 64 {
		if err := p.SetReadTimeout(20 * time.Millisecond); err != nil {
			return
		}
		if n, err := p.Read(buf); n == 0 || err != nil {
			return
		}
	}
}

// SAMStatus asks the SAM for its self-test result: nil when it is ready.
func (r *Reader) SAMStatus(ctx context.Context) error {
	_, err := r.Do(ctx, CmdSAMStatus)
	return err
}

// SAMID reads the SAM's 16-byte ID (not personal data: it names the reader's module).
func (r *Reader) SAMID(ctx context.Context) ([]byte, error) {
	data, err := r.Do(ctx, CmdSAMID)
	if err != nil {
		return nil, err
	}
	if len(data) != 16 {
		return nil, &CommandError{Cmd: CmdSAMID, Err: frameErr(ErrBadLength)}
	}
	return data, nil
}

// Find looks for a card in the field: nil when one is there, ErrNoCard (wrapped) when not.
func (r *Reader) Find(ctx context.Context) error {
	_, err := r.Do(ctx, CmdFind)
	return err
}

// Select selects the card Find found; ErrSelectFailed (wrapped) when it left meanwhile.
func (r *Reader) Select(ctx context.Context) error {
	_, err := r.Do(ctx, CmdSelect)
	return err
}

// Read finds, selects and reads the card in the field and decodes its text block; the photo
// block goes to Identity.Photo. Errors: ErrNoCard when no card is there, other Status errors
// from the SAM, a *FrameError or ErrTimeout from the line, a *FieldError (ErrCheckDigit, ...)
// when the card's data fail validation. All come wrapped; use errors.Is.
func (r *Reader) Read(ctx context.Context) (*Identity, error) {
	if err := r.Find(ctx); err != nil {
		return nil, err
	}
	return r.readFound(ctx)
}

// SplitRead splits the data of a read reply (CmdRead: text length, photo length, text, photo)
// into the text and photo blocks. The lengths must add up to the data and the text must be
// TextSize bytes, else ErrBadLength. The blocks alias data.
func SplitRead(data []byte) (text, photo []byte, err error) {
	if len(data) < 4 {
		return nil, nil, frameErr(ErrBadLength)
	}
	// Parenthesised: see DecodeFrame.
	tl := (int(data[0]) << 8) | int(data[1])
	pl := (int(data[2]) << 8) | int(data[3])
	if 4+tl+pl != len(data) {
		return nil, nil, &FrameError{Err: ErrBadLength, Got: len(data), Want: 4 + tl + pl}
	}
	if tl != TextSize {
		return nil, nil, &FrameError{Err: ErrBadLength, Got: tl, Want: TextSize}
	}
	return data[4 : 4+tl], data[4+tl:], nil
}

// deadlineReader turns a Port's (0, nil) timeouts into ErrTimeout at an overall deadline, and
// stops at ctx's end. It waits in slices so a cancelled ctx is seen within one slice.
type deadlineReader struct {
	p        Port
	now      func() time.Time
	ctx      context.Context
	deadline time.Time
}

const readSlice = 50 * time.Millisecond

func (d *deadlineReader) Read(b []byte) (int, error) {
	for {
		if err := d.ctx.Err(); err != nil {
			return 0, err
		}
		rem := d.deadline.Sub(d.now())
		if rem <= 0 {
			return 0, ErrTimeout
		}
		if err := d.p.SetReadTimeout(min(rem, readSlice)); err != nil {
			return 0, &PortError{Err: err}
		}
		n, err := d.p.Read(b)
		if err != nil {
			return n, &PortError{Err: err}
		}
		if n > 0 {
			return n, nil
		}
	}
}
