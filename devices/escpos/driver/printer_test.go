package driver_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/devices/escpos/driver"
	"citizenhome/devices/escpos/emulator"
	"citizenhome/devices/escpos/escpostest"
)

// fast keeps failure paths short; the emulator answers in microseconds.
func fast() driver.Config {
	return driver.Config{
		StatusTimeout: 500 * time.Millisecond,
		// Long enough that a machine busy with other tests (make test runs packages side by
		// side, -race) does not starve the emulator's goroutine past it: a job's last status
		// request once timed out at 500 ms with every byte of the job sent.
		WriteTimeout: 2 * time.Second,
		DrainWindow:  5 * time.Millisecond,
	}
}

type rig struct {
	emu *emulator.Printer
	p   *driver.Printer
}

// serve connects emu to a new net.Pipe and returns the host end.
func serve(t *testing.T, emu *emulator.Printer) net.Conn {
	t.Helper()
	host, dev := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		emu.Serve(dev)
	}()
	t.Cleanup(func() {
		host.Close()
		dev.Close()
		<-done
	})
	return host
}

func newRig(t *testing.T, cfg driver.Config) *rig {
	t.Helper()
	emu := escpostest.NewEmulator(t, cfg.Paper)
	host := serve(t, emu)
	p := driver.New(driver.ConnPort(host), cfg)
	t.Cleanup(func() { p.Close() })
	return &rig{emu: emu, p: p}
}

func asError(t *testing.T, err error) *escpos.Error {
	t.Helper()
	var e *escpos.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *escpos.Error", err, err)
	}
	return e
}

func encodeOrFatal(t *testing.T, d escpos.Doc, cfg driver.Config) []byte {
	t.Helper()
	b, err := escpos.Encode(d, escpos.Options{Paper: cfg.Paper, QRMode: cfg.QRMode})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPrintOK(t *testing.T) {
	cfg := fast()
	r := newRig(t, cfg)
	if err := r.p.Print(context.Background(), escpostest.SampleDoc()); err != nil {
		t.Fatalf("Print: %v", err)
	}
	tickets := waitTickets(t, r.emu, 1)
	if len(tickets) != 1 {
		t.Fatalf("%d tickets, want 1", len(tickets))
	}
	if want := encodeOrFatal(t, escpostest.SampleDoc(), cfg); !bytes.Equal(tickets[0].Raw, want) {
		t.Errorf("printer received %d bytes, want the %d-byte job", len(tickets[0].Raw), len(want))
	}
	if st, at := r.p.LastStatus(); st.State() != escpos.StateOK || at.IsZero() {
		t.Errorf("LastStatus = %v at %v", st, at)
	}
	// Status before and after the job: 8 requests.
	if got := r.emu.Stats().StatusRequests; got != 8 {
		t.Errorf("%d status requests, want 8", got)
	}
}

func TestPrintRefused(t *testing.T) {
	for _, tc := range []struct {
		cond emulator.Condition
		want error
	}{
		{emulator.PaperOut, escpos.ErrPaperOut},
		{emulator.CoverOpen, escpos.ErrCoverOpen},
		{emulator.CutterError, escpos.ErrPrinterError},
		{emulator.Offline, escpos.ErrOffline},
	} {
		t.Run(tc.cond.String(), func(t *testing.T) {
			r := newRig(t, fast())
			r.emu.SetCondition(tc.cond)
			err := r.p.Print(context.Background(), escpostest.SampleDoc())
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			e := asError(t, err)
			if e.Sent != 0 || e.Total == 0 || e.Partial() {
				t.Errorf("Sent %d Total %d, want nothing sent of a known total", e.Sent, e.Total)
			}
			if e.Status == nil {
				t.Error("error carries no Status")
			}
			if tc.cond == emulator.Offline && errors.Is(err, escpos.ErrTimeout) {
				t.Error("a printer that answers 'offline' is not a timeout")
			}
			if n := r.emu.Stats().JobBytes(); n != 0 {
				t.Errorf("printer received %d job bytes, want 0", n)
			}
			st, err := r.p.Status(context.Background())
			if err != nil {
				t.Fatalf("Status: %v", err)
			}
			if st.State().CanPrint() {
				t.Errorf("Status says %v", st)
			}
		})
	}
}

func TestPaperOutBetweenJobs(t *testing.T) {
	r := newRig(t, fast())
	ctx := context.Background()
	if err := r.p.Print(ctx, escpostest.SampleDoc()); err != nil {
		t.Fatalf("first job: %v", err)
	}
	before := r.emu.Stats().JobBytes()
	r.emu.SetCondition(emulator.PaperOut)
	err := r.p.Print(ctx, escpostest.SampleDoc())
	if !errors.Is(err, escpos.ErrPaperOut) {
		t.Fatalf("second job: %v, want ErrPaperOut", err)
	}
	if got := r.emu.Stats().JobBytes(); got != before {
		t.Errorf("second job sent %d bytes", got-before)
	}
	r.emu.SetCondition(emulator.Ready)
	if err := r.p.Print(ctx, escpostest.SampleDoc()); err != nil {
		t.Fatalf("after reloading paper: %v", err)
	}
	if n := len(waitTickets(t, r.emu, 2)); n != 2 {
		t.Errorf("%d tickets, want 2", n)
	}
}

func TestPaperLowPrints(t *testing.T) {
	r := newRig(t, fast())
	r.emu.SetCondition(emulator.PaperLow)
	if err := r.p.Print(context.Background(), escpostest.SampleDoc()); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.p.LastStatus(); st.State() != escpos.StatePaperLow {
		t.Errorf("LastStatus %v, want paper-low", st)
	}
}

func TestPaperOutAfterJob(t *testing.T) {
	// The paper runs out while the ticket prints: the printer took the whole job, and the
	// status read after it reports the problem. The emulator stops reading right after the
	// job, so the condition changes before the driver's second status query is seen.
	r := newRig(t, fast())
	job := encodeOrFatal(t, escpostest.SampleDoc(), fast())
	r.emu.PauseAfter(12 + len(job))
	go func() {
		defer r.emu.Resume()
		deadline := time.Now().Add(5 * time.Second)
		for r.emu.Stats().Received < 12+len(job) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		r.emu.SetCondition(emulator.PaperOut)
	}()
	err := r.p.Print(context.Background(), escpostest.SampleDoc())
	if !errors.Is(err, escpos.ErrPaperOut) {
		t.Fatalf("err = %v, want ErrPaperOut", err)
	}
	if e := asError(t, err); e.Sent != e.Total || e.Status == nil {
		t.Errorf("Sent %d of %d, Status %v: want the whole job sent and the status attached", e.Sent, e.Total, e.Status)
	}
	if tk := waitTickets(t, r.emu, 1); len(tk) != 1 {
		t.Errorf("%d tickets, want 1", len(tk))
	}
}

// waitTickets polls until the emulator has cut n tickets (it renders behind its receive
// buffer, so a ticket can appear shortly after the driver's last status reply).
func waitTickets(t *testing.T, emu *emulator.Printer, n int) []emulator.Ticket {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tk := emu.Tickets()
		if len(tk) >= n || time.Now().After(deadline) {
			return tk
		}
		time.Sleep(time.Millisecond)
	}
}

func TestOfflineNoAnswer(t *testing.T) {
	cfg := fast()
	r := newRig(t, cfg)
	r.emu.SetCondition(emulator.NoAnswer)
	start := time.Now()
	_, err := r.p.Status(context.Background())
	if !errors.Is(err, escpos.ErrOffline) || !errors.Is(err, escpos.ErrTimeout) {
		t.Fatalf("Status err = %v, want offline and timeout", err)
	}
	if el := time.Since(start); el < cfg.StatusTimeout || el > 10*cfg.StatusTimeout {
		t.Errorf("Status took %v, StatusTimeout %v", el, cfg.StatusTimeout)
	}
	err = r.p.Print(context.Background(), escpostest.SampleDoc())
	if !errors.Is(err, escpos.ErrOffline) {
		t.Fatalf("Print err = %v, want ErrOffline", err)
	}
	if e := asError(t, err); e.Sent != 0 {
		t.Errorf("Sent = %d", e.Sent)
	}
	if n := r.emu.Stats().JobBytes(); n != 0 {
		t.Errorf("%d job bytes reached the printer", n)
	}
	// It comes back: no reopen needed, the port is fine.
	r.emu.SetCondition(emulator.Ready)
	if err := r.p.Print(context.Background(), escpostest.SampleDoc()); err != nil {
		t.Fatalf("after power on: %v", err)
	}
}

func TestWriteDeadlinePeerStopsReading(t *testing.T) {
	cfg := fast()
	cfg.ChunkSize = 64
	r := newRig(t, cfg)
	job := encodeOrFatal(t, escpostest.SampleDoc(), cfg)
	r.emu.PauseAfter(150) // 12 bytes of status requests, then 138 of the job
	err := r.p.Print(context.Background(), escpostest.SampleDoc())
	if !errors.Is(err, escpos.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	e := asError(t, err)
	if !e.Partial() || e.Total != len(job) {
		t.Fatalf("Sent %d Total %d, want a partial job of %d", e.Sent, e.Total, len(job))
	}
	if got := r.emu.Stats().JobBytes(); e.Sent != got || got != 138 {
		t.Errorf("Sent %d, printer got %d job bytes, want both 138", e.Sent, got)
	}
	if n := len(r.emu.Tickets()); n != 0 {
		t.Fatalf("%d tickets from a partial job", n)
	}

	// The printer resumes. The next job must print whole: the driver pads out the
	// interrupted command and never resends the first job.
	r.emu.Resume()
	if err := r.p.Print(context.Background(), escpostest.SampleDoc()); err != nil {
		t.Fatalf("next job: %v", err)
	}
	tickets := waitTickets(t, r.emu, 1)
	if len(tickets) != 1 {
		t.Fatalf("%d tickets, want 1", len(tickets))
	}
	raw := tickets[0].Raw
	if !bytes.HasPrefix(raw, job[:138]) || !bytes.HasSuffix(raw, job) {
		t.Fatalf("ticket bytes are not partial job + padding + job")
	}
	pad := raw[138 : len(raw)-len(job)]
	if len(pad) == 0 || bytes.Count(pad, []byte{0}) != len(pad) {
		t.Errorf("padding % X, want some NUL bytes", pad)
	}
}

// noDeadline hides SetWriteDeadline, like a go.bug.st/serial port.
type noDeadline struct{ driver.Port }

func TestWriteTimeoutWithoutPortDeadline(t *testing.T) {
	cfg := fast()
	cfg.ChunkSize = 64
	emu := escpostest.NewEmulator(t, 0)
	host := serve(t, emu)
	p := driver.New(noDeadline{driver.ConnPort(host)}, cfg)
	defer p.Close()

	emu.PauseAfter(150)
	start := time.Now()
	err := p.Print(context.Background(), escpostest.SampleDoc())
	if !errors.Is(err, escpos.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if el := time.Since(start); el > 5*cfg.WriteTimeout {
		t.Errorf("Print took %v with WriteTimeout %v", el, cfg.WriteTimeout)
	}
	e := asError(t, err)
	if got := emu.Stats().JobBytes(); e.Sent > got || e.Sent >= e.Total {
		t.Errorf("Sent %d must be a lower bound of the %d bytes received and below %d", e.Sent, got, e.Total)
	}
	// The stuck write still holds the port.
	if _, err := p.Status(context.Background()); !errors.Is(err, escpos.ErrTimeout) {
		t.Fatalf("Status while a write is stuck: %v, want ErrTimeout", err)
	}
	emu.Resume()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := p.Status(context.Background())
		if err == nil {
			if st.State() != escpos.StateOK {
				t.Fatalf("status %v", st)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Status never recovered: %v", err)
		}
	}
	if err := p.Print(context.Background(), escpostest.SampleDoc()); err != nil {
		t.Fatalf("next job: %v", err)
	}
}

// scripted is a serial-like fake: Read returns (0, nil) when nothing is queued, as a
// serial port or a pty does on a read timeout.
type scripted struct {
	mu       sync.Mutex
	in       []byte
	reply    func(n byte) []byte
	requests int
	readErr  error
	closed   bool
}

func (s *scripted) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.readErr != nil {
		return 0, s.readErr
	}
	if len(s.in) == 0 {
		time.Sleep(time.Millisecond) // a timeout, shortened
		return 0, nil
	}
	n := copy(p, s.in)
	s.in = s.in[n:]
	return n, nil
}

func (s *scripted) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i+3 <= len(p); i += 3 {
		if p[i] != 0x10 || p[i+1] != 0x04 {
			break // a job, not status requests
		}
		s.requests++
		s.in = append(s.in, s.reply(p[i+2])...)
	}
	return len(p), nil
}

func (s *scripted) SetReadTimeout(time.Duration) error { return nil }

func (s *scripted) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}
func (s *scripted) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

func TestStatusDrainsStaleReply(t *testing.T) {
	port := &scripted{in: []byte{0x1A, 0x32}, reply: func(n byte) []byte { return []byte{0x16, 0x12, 0x12, 0x12}[n-1 : n] }}
	p := driver.New(port, fast())
	st, err := p.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.State() != escpos.StateOK || st.Raw != [4]byte{0x16, 0x12, 0x12, 0x12} {
		t.Errorf("status %v: a stale reply was taken for a new one", st)
	}
}

func TestStatusGarbled(t *testing.T) {
	port := &scripted{reply: func(byte) []byte { return []byte{'A'} }}
	p := driver.New(port, fast())
	_, err := p.Status(context.Background())
	if !errors.Is(err, escpos.ErrGarbled) {
		t.Fatalf("err = %v, want ErrGarbled", err)
	}
	if port.requests != 8 {
		t.Errorf("%d requests, want two attempts of 4", port.requests)
	}
}

// fakeClock is the injectable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestReopenAfterDeviceDisappears(t *testing.T) {
	clock := &fakeClock{now: time.Date(2024, 5, 21, 9, 0, 0, 0, time.UTC)}
	var (
		mu      sync.Mutex
		ports   []*scripted
		present = true
	)
	ok := func(n byte) []byte { return []byte{0x16, 0x12, 0x12, 0x12}[n-1 : n] }
	cfg := fast()
	cfg.Now = clock.Now
	cfg.Reopen = func() (driver.Port, error) {
		mu.Lock()
		defer mu.Unlock()
		if !present {
			return nil, syscall.ENOENT
		}
		s := &scripted{reply: ok}
		ports = append(ports, s)
		return s, nil
	}
	p := driver.New(nil, cfg)
	defer p.Close()
	ctx := context.Background()
	if _, err := p.Status(ctx); err != nil {
		t.Fatalf("first status: %v", err)
	}

	// Unplug: the open port fails with EIO, and the device node is gone.
	mu.Lock()
	ports[0].mu.Lock()
	ports[0].readErr = syscall.EIO
	ports[0].mu.Unlock()
	present = false
	mu.Unlock()
	_, err := p.Status(ctx)
	if !errors.Is(err, escpos.ErrOffline) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("status after unplug: %v, want ErrOffline wrapping EIO", err)
	}
	if !ports[0].isClosed() {
		t.Error("broken port not closed")
	}
	clock.Advance(2 * time.Second)
	if err := p.Print(ctx, escpostest.SampleDoc()); !errors.Is(err, escpos.ErrOffline) || !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("print while absent: %v, want ErrOffline wrapping ENOENT", err)
	}

	// Plugged back in: within the backoff nothing is tried, after it the port reopens.
	mu.Lock()
	present = true
	mu.Unlock()
	if _, err := p.Status(ctx); !errors.Is(err, escpos.ErrOffline) {
		t.Fatalf("status inside the backoff: %v, want ErrOffline", err)
	}
	if len(ports) != 1 {
		t.Fatalf("%d opens inside the backoff", len(ports))
	}
	clock.Advance(2 * time.Second)
	if err := p.Print(ctx, escpostest.SampleDoc()); err != nil {
		t.Fatalf("print after replug: %v", err)
	}
	if len(ports) != 2 {
		t.Errorf("%d opens, want 2", len(ports))
	}
	// Reopen ignores the backoff.
	if err := p.Reopen(); err != nil || len(ports) != 3 {
		t.Errorf("Reopen: %v, %d opens", err, len(ports))
	}
}

func TestReopenWithoutDialer(t *testing.T) {
	p := driver.New(&scripted{reply: func(byte) []byte { return []byte{0x12} }}, fast())
	if err := p.Reopen(); !errors.Is(err, escpos.ErrUnsupported) {
		t.Errorf("Reopen: %v, want ErrUnsupported", err)
	}
	if _, err := driver.New(nil, fast()).Status(context.Background()); !errors.Is(err, escpos.ErrOffline) {
		t.Errorf("Status without port: %v, want ErrOffline", err)
	}
}

func TestPipeClosedIsOffline(t *testing.T) {
	emu := escpostest.NewEmulator(t, 0)
	host := serve(t, emu)
	p := driver.New(driver.ConnPort(host), fast())
	host.Close()
	if _, err := p.Status(context.Background()); !errors.Is(err, escpos.ErrOffline) || !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("err = %v, want ErrOffline wrapping io.ErrClosedPipe", err)
	}
}

func TestPrintCanceled(t *testing.T) {
	r := newRig(t, fast())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := r.p.Print(ctx, escpostest.SampleDoc())
	if !errors.Is(err, escpos.ErrCanceled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrCanceled wrapping context.Canceled", err)
	}
	if n := r.emu.Stats().JobBytes(); n != 0 {
		t.Errorf("%d job bytes sent", n)
	}
}

func TestPrintBadDocNoIO(t *testing.T) {
	r := newRig(t, fast())
	err := r.p.Print(context.Background(), escpos.Doc{Blocks: []escpos.Block{escpos.Text{Text: "x", Width: 10}}})
	if !errors.Is(err, escpos.ErrBadDoc) {
		t.Fatalf("err = %v, want ErrBadDoc", err)
	}
	if n := r.emu.Stats().Received; n != 0 {
		t.Errorf("%d bytes reached the printer", n)
	}
}

func TestClosed(t *testing.T) {
	r := newRig(t, fast())
	if err := r.p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := r.p.Print(context.Background(), escpostest.SampleDoc()); !errors.Is(err, escpos.ErrClosed) {
		t.Errorf("Print after Close: %v", err)
	}
	if _, err := r.p.Status(context.Background()); !errors.Is(err, escpos.ErrClosed) {
		t.Errorf("Status after Close: %v", err)
	}
}

func TestConcurrentPrints(t *testing.T) {
	r := newRig(t, fast())
	job := encodeOrFatal(t, escpostest.SampleDoc(), fast())
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() { errs <- r.p.Print(context.Background(), escpostest.SampleDoc()) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	tickets := waitTickets(t, r.emu, 4)
	if len(tickets) != 4 {
		t.Fatalf("%d tickets, want 4", len(tickets))
	}
	for i, tk := range tickets {
		if !bytes.Equal(tk.Raw, job) {
			t.Errorf("ticket %d interleaved with another job", i)
		}
	}
}

func TestErrorStrings(t *testing.T) {
	e := &escpos.Error{Code: escpos.CodePaperOut, Op: "print", Total: 812}
	if got, want := e.Error(), "escpos: print: paper-out (sent 0/812 bytes)"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if got := escpos.Code(99).String(); got != "code(99)" {
		t.Errorf("unknown code prints %q", got)
	}
}

func TestOpenMissingDevice(t *testing.T) {
	for _, path := range []string{"/nonexistent/ttyUSB9", "/dev/null"} {
		p, err := driver.Open(path, driver.SerialConfig{})
		if !errors.Is(err, escpos.ErrOffline) || p != nil {
			t.Errorf("Open(%s) = %v, %v; want nil, ErrOffline", path, p, err)
		}
	}
}

// With StatusFresh, a Status read just before Print stands for the pre-job check: one round
// trip less per ticket; a stale one, or one that forbids printing, does not.
func TestStatusFreshSkipsPreJobQuery(t *testing.T) {
	cfg := fast()
	cfg.StatusFresh = time.Minute
	r := newRig(t, cfg)
	ctx := context.Background()
	if _, err := r.p.Status(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.p.Print(ctx, escpostest.SampleDoc()); err != nil {
		t.Fatal(err)
	}
	waitTickets(t, r.emu, 1)
	if got := r.emu.Stats().StatusRequests; got != 8 {
		t.Errorf("%d status requests, want 8 (Status, then only the check after the job)", got)
	}
	// The after-job status of the first job is fresh and fine: the second job skips too.
	if err := r.p.Print(ctx, escpostest.SampleDoc()); err != nil {
		t.Fatal(err)
	}
	waitTickets(t, r.emu, 2)
	if got := r.emu.Stats().StatusRequests; got != 12 {
		t.Errorf("%d status requests, want 12", got)
	}
	// A status that forbids printing is never trusted: Print asks again and refuses.
	r.emu.SetCondition(emulator.PaperOut)
	if _, err := r.p.Status(ctx); err != nil {
		t.Fatal(err)
	}
	r.emu.SetCondition(emulator.Ready)
	if err := r.p.Print(ctx, escpostest.SampleDoc()); err != nil {
		t.Fatalf("printer fine again, print refused: %v", err)
	}
}

// A printer polled through an outage reads the same fault from one poll to the next: inside the
// backoff the error is the last attempt's, word for word (a poller publishing every change
// would otherwise flap between "backoff" and "cannot open"), and it still names the cause.
func TestReopenBackoffErrorSteady(t *testing.T) {
	clock := &fakeClock{now: time.Date(2024, 5, 21, 9, 0, 0, 0, time.UTC)}
	opens := 0
	var port *scripted
	cfg := fast()
	cfg.Now = clock.Now
	cfg.Reopen = func() (driver.Port, error) {
		opens++
		if opens > 1 {
			return nil, syscall.ENOENT
		}
		port = &scripted{reply: func(n byte) []byte { return []byte{0x16, 0x12, 0x12, 0x12}[n-1 : n] }}
		return port, nil
	}
	p := driver.New(nil, cfg)
	defer p.Close()
	ctx := context.Background()
	if _, err := p.Status(ctx); err != nil {
		t.Fatalf("first status: %v", err)
	}
	port.mu.Lock()
	port.readErr = syscall.EIO
	port.mu.Unlock()
	_, lost := p.Status(ctx)
	if !errors.Is(lost, syscall.EIO) {
		t.Fatalf("status after unplug: %v", lost)
	}
	// The port failed right after an open: inside the backoff, the failure again.
	clock.Advance(100 * time.Millisecond)
	if _, err := p.Status(ctx); err == nil || err.Error() != lost.Error() {
		t.Errorf("inside the backoff after the failure: %v, want %q", err, lost)
	}
	clock.Advance(2 * time.Second)
	_, failed := p.Status(ctx)
	if !errors.Is(failed, escpos.ErrOffline) || !errors.Is(failed, syscall.ENOENT) {
		t.Fatalf("status with the device gone: %v", failed)
	}
	for range 5 {
		clock.Advance(100 * time.Millisecond)
		if _, err := p.Status(ctx); err == nil || err.Error() != failed.Error() || !errors.Is(err, syscall.ENOENT) {
			t.Fatalf("inside the backoff: %v, want %q", err, failed)
		}
	}
	if opens != 2 {
		t.Errorf("%d opens, want 2", opens)
	}
}
