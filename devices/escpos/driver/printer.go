package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"citizenhome/devices/escpos"
)

// Config configures a Printer. Zero fields take the defaults named below.
type Config struct {
	Paper  escpos.Paper  // 0 means Paper58
	QRMode escpos.QRMode // how QR blocks are sent

	// StatusTimeout bounds the wait for each status reply byte, counted from when the line
	// is expected to have carried the request (see Baud). Default 500 ms.
	StatusTimeout time.Duration
	// WriteTimeout bounds each chunk write. Default 2 s, enough for a 256-byte chunk at
	// 9600 baud with the printer pausing for flow control; raise it for larger chunks.
	WriteTimeout time.Duration
	// ChunkSize is the largest single Write of a job. Default 256 bytes.
	ChunkSize int
	// DrainWindow is how long input must stay quiet before a status request is sent when
	// stray bytes may still be on their way: after the port was opened, after a reply came
	// late, garbled or not at all, and after a job whose bytes contain a status request
	// (printers answer DLE EOT even inside image data; the wait then starts when the line
	// has carried the job). Otherwise pending input is only flushed, which keeps the status
	// checks around a job to a few round trips. Default 20 ms.
	DrainWindow time.Duration

	// Baud is the line speed in bits per second (8N1: 10 bits a byte). A serial port takes a
	// job into its buffer at once and the printer has it only bytes*10/Baud later, so replies
	// are awaited StatusTimeout after the line is expected to be free, not after the write
	// returned. 0 means the port's own speed when it reports one (ports from Open and
	// SerialOpener do), else writes are taken to arrive at once (net.Pipe, TCP).
	Baud int

	// Reopen, if set, opens the port again after it failed (device unplugged and back).
	// Open sets it; with New, set it for a transport that can be redialled. Without it a
	// failed port keeps failing with ErrOffline.
	Reopen func() (Port, error)
	// ReopenInterval is the least time between two automatic reopen attempts. Default 1 s.
	ReopenInterval time.Duration

	// StatusFresh, when above 0, lets Print skip its pre-job status query if a status that
	// allows printing was read less than StatusFresh ago and the line has been quiet since (no
	// failed, partial or garbled exchange). Off by default; a few hundred milliseconds suits a
	// caller that always asks Status right before Print. The check after the job is never
	// skipped.
	StatusFresh time.Duration

	// Now is the clock for the reopen backoff and status time stamps; default time.Now.
	// I/O timeouts always run on the real clock, because the port's timeouts do.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.StatusTimeout <= 0 {
		c.StatusTimeout = 500 * time.Millisecond
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 2 * time.Second
	}
	if c.ChunkSize <= 0 {
		c.ChunkSize = 256
	}
	if c.DrainWindow <= 0 {
		c.DrainWindow = 20 * time.Millisecond
	}
	if c.ReopenInterval <= 0 {
		c.ReopenInterval = time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// readSlice caps one blocking Read so a cancelled context is noticed quickly.
const readSlice = 50 * time.Millisecond

// Printer drives one ESC/POS printer over a Port. Its methods are safe for concurrent use;
// they run one at a time.
//
// Failure handling: a read or write error other than a timeout means the port is gone
// (unplugged USB serial adapter, closed pipe). The operation fails with ErrOffline; if
// Config.Reopen is set the port is closed and the next Status or Print reopens it (at most
// once per ReopenInterval), so a device that disappears and returns is picked up without a
// restart. Reopen forces this immediately. A call between two attempts touches nothing and
// fails at once with the last attempt's error (or the port failure's), word for word, so a
// caller that polls through an outage sees one fault, not one per poll.
//
// A write that times out is never retried. If the port has no write deadline the write
// keeps running in the background; later operations wait for it and fail with ErrTimeout
// while it is stuck (typically: the printer holds CTS low). After a partial job the next
// job is preceded by enough NUL bytes to finish any command the printer was in the middle
// of (NUL is ignored between commands), so its ESC @ is not swallowed as image data; the
// same padding follows a job that was written whole but never confirmed by a status reply
// (the device vanished while its buffer still held part of it).
type Printer struct {
	cfg Config

	mu       sync.Mutex
	port     Port
	closed   bool
	pending  chan writeResult // a timed-out write still running on port
	lastOpen time.Time
	// openErr is the last failed open's error as dial returned it, lostErr the port failure
	// that closed the port: what a call inside the reopen backoff reports, so that the same
	// outage reads the same from one call to the next.
	openErr, lostErr error
	last             escpos.Status
	lastAt           time.Time
	resync           int

	baud     int       // effective line speed, 0 if unknown
	lineFree time.Time // when the line will have carried everything written (baud known)
	suspect  bool      // stray input may still arrive: drain for DrainWindow
}

type writeResult struct {
	n   int
	err error
}

// New returns a Printer on port. port may be nil if cfg.Reopen is set: the port is then
// opened by the first Status or Print.
func New(port Port, cfg Config) *Printer {
	p := &Printer{cfg: cfg.withDefaults()}
	p.attach(port)
	return p
}

// attach makes port the current port. Whatever the device sent before is unknown, so the
// first status query drains fully. Caller holds mu (or owns p).
func (p *Printer) attach(port Port) {
	p.port, p.suspect, p.lineFree = port, true, time.Time{}
	p.baud = p.cfg.Baud
	if b, ok := port.(interface{ Baud() int }); ok && p.baud <= 0 {
		p.baud = b.Baud()
	}
}

// LastStatus returns the status read by the most recent successful status query (Status,
// or the checks around Print) and when it was read. Zero before the first query.
// Paper-low is reported only here and by Status: Print does not fail on it.
func (p *Printer) LastStatus() (escpos.Status, time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last, p.lastAt
}

// Status queries DLE EOT 1..4 and returns the decoded status. Input is drained first (see
// Config.DrainWindow); the four requests go out in one write and exactly four replies are
// read, in order, one per request. Errors: ErrOffline (a reply missing StatusTimeout after
// the line is free — the error also matches ErrTimeout — or the port failed), ErrGarbled (two
// attempts gave bytes that are not status replies), ErrTimeout (a previous write is still
// blocked), ErrCanceled, ErrClosed. A printer that answers but is out of paper is not an
// error here: check Status.State.
func (p *Printer) Status(ctx context.Context) (escpos.Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.ensure("status"); err != nil {
		return escpos.Status{}, err
	}
	return p.queryStatus(ctx)
}

// Print encodes d and prints it as one job: status check, the job in chunks of ChunkSize
// under WriteTimeout each, status check again. It refuses to start (nothing written, Sent
// 0) when the printer is out of paper, open, in error, offline or not answering, and
// returns the matching error (ErrPaperOut, ErrCoverOpen, ErrPrinterError, ErrOffline).
// Paper-low prints. Once the first byte is written the job is completed regardless of ctx,
// because a half-sent command would leave the printer waiting for its payload. A job that
// fails part way is reported with Sent/Total and never retried; see escpos.Error. A bad
// document fails with ErrBadDoc before any I/O.
func (p *Printer) Print(ctx context.Context, d escpos.Doc) error {
	enc, err := escpos.EncodeJob(d, escpos.Options{Paper: p.cfg.Paper, QRMode: p.cfg.QRMode})
	if err != nil {
		return err
	}
	job := enc.Bytes
	total := len(job)

	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.ensure("print"); err != nil {
		return jobErr(err, 0, total)
	}
	// A caller that has just asked (a kiosk does, before it commits a ticket number) need not
	// pay for a second round trip: a fresh status that allows printing, with nothing unexplained
	// on the line since, stands for the pre-job check.
	fresh := p.cfg.StatusFresh > 0 && !p.suspect && p.resync == 0 &&
		p.cfg.Now().Sub(p.lastAt) < p.cfg.StatusFresh && p.last.State().CanPrint()
	if !fresh {
		st, err := p.queryStatus(ctx)
		if err != nil {
			return jobErr(err, 0, total)
		}
		if s := st.State(); !s.CanPrint() {
			return &escpos.Error{Code: s.Code(), Op: "print", Status: &st, Total: total}
		}
	}
	if err := ctx.Err(); err != nil {
		return &escpos.Error{Code: escpos.CodeCanceled, Op: "print", Total: total, Err: err}
	}
	if p.resync > 0 {
		// NUL padding for a job cut off earlier; ignored by a printer between commands.
		pad := make([]byte, p.cfg.ChunkSize)
		for p.resync > 0 {
			n, err := p.write(pad[:min(p.resync, len(pad))])
			p.resync -= n
			if err != nil {
				p.suspect = true
				return jobErr(err, 0, total)
			}
		}
	}
	for sent := 0; sent < total; {
		end := min(sent+p.cfg.ChunkSize, total)
		n, err := p.write(job[sent:end])
		if err != nil {
			hi := sent + n
			if p.pending != nil {
				hi = end // the stuck write may still deliver the rest of its chunk
			}
			p.resync = enc.Resync(sent+n, hi)
			p.suspect = true
			return jobErr(err, sent+n, total)
		}
		sent = end
	}
	if statusRequests(job) > 0 {
		p.suspect = true // the printer answers them; those replies must not pass for ours
	}
	// The job is out; its outcome must be known even if the caller gave up meanwhile.
	st, err := p.queryStatus(context.WithoutCancel(ctx))
	if err != nil {
		// No reply: the job sits in the port's buffer or was lost with the device, perhaps
		// part way through a command. Pad it out before the next job, whatever the printer
		// still has of it (the replies, had they come, would have followed the job).
		p.resync = max(p.resync, enc.Resync(0, total))
		return jobErr(err, total, total)
	}
	if s := st.State(); !s.CanPrint() {
		return &escpos.Error{Code: s.Code(), Op: "print", Status: &st, Sent: total, Total: total}
	}
	return nil
}

// Reopen closes the port and opens it again with Config.Reopen now, ignoring the backoff.
// A write still blocked on the old port is abandoned. Without Config.Reopen it returns an
// error with CodeUnsupported.
func (p *Printer) Reopen() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return &escpos.Error{Code: escpos.CodeClosed, Op: "open"}
	}
	if p.cfg.Reopen == nil {
		return &escpos.Error{Code: escpos.CodeUnsupported, Op: "open", Err: errors.New("no Reopen function configured")}
	}
	p.dropPort()
	return p.dial()
}

// Close closes the port (if it has a Close method). Later calls fail with ErrClosed.
// Close is idempotent.
func (p *Printer) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	var err error
	if c, ok := p.port.(io.Closer); ok {
		err = c.Close()
	}
	p.port, p.pending = nil, nil
	return err
}

// jobErr restates an error of a step of Print as a print error with job progress.
func jobErr(err error, sent, total int) error {
	var e *escpos.Error
	if !errors.As(err, &e) {
		return &escpos.Error{Code: escpos.CodeUnknown, Op: "print", Sent: sent, Total: total, Err: err}
	}
	return &escpos.Error{Code: e.Code, Op: "print", Status: e.Status, Sent: sent, Total: total, Err: e.Err}
}

// ensure makes the port usable: not closed, no write stuck, open. Caller holds mu.
func (p *Printer) ensure(op string) error {
	if p.closed {
		return &escpos.Error{Code: escpos.CodeClosed, Op: op}
	}
	if p.pending != nil {
		select {
		case r := <-p.pending:
			p.pending = nil
			p.noteSent(r.n, time.Now())
			if r.err != nil && !isTimeout(r.err) {
				p.fail(r.err)
			}
		case <-time.After(p.cfg.StatusTimeout):
			return &escpos.Error{Code: escpos.CodeTimeout, Op: op, Err: errors.New("an earlier write is still blocked")}
		}
	}
	if p.port != nil {
		return nil
	}
	if p.cfg.Reopen == nil {
		return &escpos.Error{Code: escpos.CodeOffline, Op: op, Err: errors.New("no port")}
	}
	if !p.lastOpen.IsZero() && p.cfg.Now().Sub(p.lastOpen) < p.cfg.ReopenInterval {
		// Nothing is tried: the error is the last attempt's (or the port failure's), word
		// for word, so that a caller polling through an outage sees one unchanging fault.
		switch {
		case p.openErr != nil:
			return p.openErr
		case p.lostErr != nil:
			return &escpos.Error{Code: escpos.CodeOffline, Op: op, Err: p.lostErr}
		}
		return &escpos.Error{Code: escpos.CodeOffline, Op: op, Err: errors.New("reopen backoff")}
	}
	return p.dial()
}

func (p *Printer) dial() error {
	p.lastOpen = p.cfg.Now()
	port, err := p.cfg.Reopen()
	if err == nil && port == nil {
		err = errors.New("Reopen returned a nil port")
	}
	if err != nil {
		if e := (*escpos.Error)(nil); !errors.As(err, &e) {
			err = &escpos.Error{Code: escpos.CodeOffline, Op: "open", Err: err}
		}
		p.openErr = err
		return err
	}
	p.attach(port)
	p.openErr, p.lostErr = nil, nil
	return nil
}

// fail handles a port error that is not a timeout: the device is gone. With a Reopen
// function the port is closed so the next operation opens a fresh one.
func (p *Printer) fail(err error) {
	if p.cfg.Reopen != nil {
		p.dropPort()
		p.lostErr = err
	}
}

func (p *Printer) dropPort() {
	if c, ok := p.port.(io.Closer); ok {
		_ = c.Close() // the port is already broken; its close error says nothing new
	}
	p.port, p.pending = nil, nil
}

// write writes b under WriteTimeout. Caller holds mu and has called ensure.
func (p *Printer) write(b []byte) (int, error) {
	port := p.port
	if port == nil {
		return 0, &escpos.Error{Code: escpos.CodeOffline, Op: "write", Err: errors.New("no port")}
	}
	wait := p.cfg.WriteTimeout
	if wd, ok := port.(writeDeadliner); ok && wd.SetWriteDeadline(time.Now().Add(p.cfg.WriteTimeout)) == nil {
		// Let the port's own deadline fire first: it reports the exact byte count.
		wait += 250 * time.Millisecond
	}
	ch := make(chan writeResult, 1)
	start := time.Now()
	go func() {
		n, err := port.Write(b)
		ch <- writeResult{n, err}
	}()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case r := <-ch:
		p.noteSent(r.n, start)
		switch {
		case r.err != nil && isTimeout(r.err):
			return r.n, &escpos.Error{Code: escpos.CodeTimeout, Op: "write", Err: r.err}
		case r.err != nil:
			p.fail(r.err)
			return r.n, &escpos.Error{Code: escpos.CodeOffline, Op: "write", Err: r.err}
		case r.n < len(b):
			return r.n, &escpos.Error{Code: escpos.CodeOffline, Op: "write", Err: io.ErrShortWrite}
		}
		return r.n, nil
	case <-t.C:
		p.pending = ch
		return 0, &escpos.Error{Code: escpos.CodeTimeout, Op: "write", Err: fmt.Errorf("write of %d bytes blocked for %v", len(b), p.cfg.WriteTimeout)}
	}
}

// noteSent advances the estimate of when the line has carried what was written: n bytes
// handed to the port at time at follow whatever it still had to send.
func (p *Printer) noteSent(n int, at time.Time) {
	if p.baud <= 0 || n <= 0 {
		return
	}
	if p.lineFree.Before(at) {
		p.lineFree = at
	}
	p.lineFree = p.lineFree.Add(time.Duration(n) * time.Duration(int64(10*time.Second)/int64(p.baud)))
}

// statusRequests counts the DLE EOT n (n = 1..4) sequences in job, wherever they are: a
// printer's receiver answers them even inside image data. (Matches cannot overlap, since n is
// never DLE, so counting the three-byte pattern is what a printer's scanner does.)
func statusRequests(job []byte) int {
	count := 0
	for i := 0; i+2 < len(job); i++ {
		if job[i] == 0x10 && job[i+1] == 0x04 && job[i+2] >= 1 && job[i+2] <= 4 {
			count++
			i += 2
		}
	}
	return count
}

// queryStatus reads DLE EOT 1..4, retrying once on a garbled reply.
func (p *Printer) queryStatus(ctx context.Context) (escpos.Status, error) {
	var err error
	for range 2 {
		var st escpos.Status
		st, err = p.queryOnce(ctx)
		if err == nil {
			p.last, p.lastAt = st, p.cfg.Now()
			p.suspect = false // four requests, four replies, in time: nothing is outstanding
			return st, nil
		}
		p.suspect = true
		if !errors.Is(err, escpos.ErrGarbled) {
			return escpos.Status{}, err
		}
	}
	return escpos.Status{}, err
}

// statusRequests4 asks DLE EOT 1, 2, 3 and 4 in one write. The printer answers each as it
// receives it, in order, so the replies still match the requests one to one; sending them
// together costs one round trip instead of four (on a USB serial adapter a round trip can
// take its latency timer, 1-16 ms).
var statusRequests4 = []byte{0x10, 0x04, 1, 0x10, 0x04, 2, 0x10, 0x04, 3, 0x10, 0x04, 4}

func (p *Printer) queryOnce(ctx context.Context) (escpos.Status, error) {
	if err := p.drain(ctx); err != nil {
		return escpos.Status{}, err
	}
	if err := ctx.Err(); err != nil {
		return escpos.Status{}, &escpos.Error{Code: escpos.CodeCanceled, Op: "status", Err: err}
	}
	if _, err := p.write(statusRequests4); err != nil {
		return escpos.Status{}, asOffline(err)
	}
	replies := make([]byte, 0, 4)
	for n := byte(1); n <= 4; n++ {
		b, err := p.readByte(ctx, n)
		if err != nil {
			return escpos.Status{}, err
		}
		replies = append(replies, b)
	}
	return escpos.ParseStatus(replies)
}

// asOffline turns a timeout during a status query into "offline", keeping the timeout
// reachable with errors.Is.
func asOffline(err error) error {
	if errors.Is(err, escpos.ErrTimeout) {
		return &escpos.Error{Code: escpos.CodeOffline, Op: "status", Err: err}
	}
	return err
}

func (p *Printer) readByte(ctx context.Context, n byte) (byte, error) {
	// The printer sees the request only after the line has carried everything before it.
	deadline := time.Now()
	if p.lineFree.After(deadline) {
		deadline = p.lineFree
	}
	deadline = deadline.Add(p.cfg.StatusTimeout)
	var buf [1]byte
	for {
		if err := ctx.Err(); err != nil {
			return 0, &escpos.Error{Code: escpos.CodeCanceled, Op: "status", Err: err}
		}
		left := time.Until(deadline)
		if left <= 0 {
			return 0, asOffline(&escpos.Error{Code: escpos.CodeTimeout, Op: "status", Err: fmt.Errorf("no reply to DLE EOT %d within %v of the line being free", n, p.cfg.StatusTimeout)})
		}
		if err := p.port.SetReadTimeout(min(left, readSlice)); err != nil {
			p.fail(err)
			return 0, &escpos.Error{Code: escpos.CodeOffline, Op: "status", Err: err}
		}
		k, err := p.port.Read(buf[:])
		if k == 1 {
			return buf[0], nil
		}
		if err != nil && !isTimeout(err) {
			p.fail(err)
			return 0, &escpos.Error{Code: escpos.CodeOffline, Op: "status", Err: err}
		}
	}
}

// cleanDrain is the quiet time asked of the input when no stray byte is expected: enough to
// take what already arrived from a port that cannot flush its input.
const cleanDrain = time.Millisecond

// drain discards input until it has been quiet for DrainWindow, so a reply that arrived
// late (or a status request hidden in image data, which printers answer too) is not taken
// for the answer to the next request. When nothing can be outstanding (see suspect) the
// input is only flushed: by the port when it can (a serial port), else by reading for
// cleanDrain.
func (p *Printer) drain(ctx context.Context) error {
	window := cleanDrain
	if p.suspect {
		window = p.cfg.DrainWindow
		// Stray replies come when the printer receives their requests: after the line has
		// carried the job. Waiting costs nothing, as our reply would come after them too.
		if wait := time.Until(p.lineFree); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return &escpos.Error{Code: escpos.CodeCanceled, Op: "status", Err: ctx.Err()}
			}
		}
	}
	if r, ok := p.port.(interface{ ResetInputBuffer() error }); ok {
		if r.ResetInputBuffer() == nil && !p.suspect {
			return nil // flushed, and nothing more is on its way
		}
	}
	if err := p.port.SetReadTimeout(window); err != nil {
		p.fail(err)
		return &escpos.Error{Code: escpos.CodeOffline, Op: "status", Err: err}
	}
	var buf [64]byte
	for range 64 { // bounded: a port that never stops talking is left to the garbled check
		n, err := p.port.Read(buf[:])
		if err != nil && !isTimeout(err) {
			p.fail(err)
			return &escpos.Error{Code: escpos.CodeOffline, Op: "status", Err: err}
		}
		if n == 0 {
			return nil
		}
	}
	return nil
}
