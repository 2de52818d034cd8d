package driver_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/devices/escpos/driver"
	"citizenhome/devices/escpos/emulator"
	"citizenhome/devices/escpos/emulator/ptytest"
	"citizenhome/devices/escpos/escpostest"
)

// These tests run the real serial driver (driver.Open, go.bug.st/serial) against the
// emulator on the other end of a socat pty pair. Waits poll with generous deadlines: the
// machine running them may be loaded.

type ptyRig struct {
	line *ptytest.Line
	emu  *emulator.Printer
	p    *driver.Printer
	cfg  driver.Config
}

// ptyConfig has generous timeouts (the tests must not flake under load) and a short reopen
// backoff, so a returning device is picked up quickly.
func ptyConfig() driver.Config {
	return driver.Config{
		Paper:          escpos.Paper80,
		StatusTimeout:  2 * time.Second,
		WriteTimeout:   10 * time.Second,
		ReopenInterval: 20 * time.Millisecond,
	}
}

// newPTYRig serves an emulator pacing at baud (0: unpaced) and opens the driver at baud.
func newPTYRig(t testing.TB, baud int, cfg driver.Config) *ptyRig {
	t.Helper()
	emu, err := emulator.New(emulator.Config{Paper: cfg.Paper, SkipPNG: true, Baud: baud, Keep: 64})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	line := ptytest.Start(t, emu)
	lineBaud := baud
	if lineBaud == 0 {
		lineBaud = 115200 // a pty carries bytes at once whatever it is set to
	}
	p, err := driver.Open(line.Path, driver.SerialConfig{Baud: lineBaud, Printer: cfg})
	if err != nil {
		t.Fatalf("Open(%s): %v", line.Path, err)
	}
	t.Cleanup(func() { p.Close() })
	return &ptyRig{line: line, emu: emu, p: p, cfg: cfg}
}

// eventually polls cond every millisecond until it holds or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func lastTicket(t testing.TB, emu *emulator.Printer, n int) emulator.Ticket {
	t.Helper()
	eventually(t, "the printer to cut", func() bool { return len(emu.Tickets()) >= n })
	tk := emu.Tickets()
	if len(tk) != n {
		t.Fatalf("%d tickets cut, want %d", len(tk), n)
	}
	return tk[n-1]
}

func TestPTYPrint(t *testing.T) {
	r := newPTYRig(t, 0, ptyConfig())
	if err := r.p.Print(context.Background(), escpostest.SampleDoc()); err != nil {
		t.Fatalf("Print: %v", err)
	}
	tk := lastTicket(t, r.emu, 1)
	if want := encodeOrFatal(t, escpostest.SampleDoc(), r.cfg); !bytes.Equal(tk.Raw, want) {
		t.Errorf("printer received %d bytes, want the %d-byte job", len(tk.Raw), len(want))
	}
	if !slices.Contains(tk.Lines, "A023") || len(tk.QR) != 1 || len(tk.Barcodes) != 1 {
		t.Errorf("ticket %v: lines %q", tk, tk.Lines)
	}
	if st, _ := r.p.LastStatus(); st.State() != escpos.StateOK {
		t.Errorf("last status %v", st)
	}
}

func TestPTYPaperOutBetweenJobs(t *testing.T) {
	r := newPTYRig(t, 0, ptyConfig())
	ctx := context.Background()
	if err := r.p.Print(ctx, escpostest.SampleDoc()); err != nil {
		t.Fatalf("first job: %v", err)
	}
	lastTicket(t, r.emu, 1)
	before := r.emu.Stats().JobBytes()

	r.emu.SetCondition(emulator.PaperOut)
	err := r.p.Print(ctx, escpostest.SampleDoc())
	e := asError(t, err)
	if !errors.Is(err, escpos.ErrPaperOut) || e.Sent != 0 || e.Total == 0 {
		t.Fatalf("second job: %v (sent %d/%d), want paper-out with nothing sent", err, e.Sent, e.Total)
	}
	if e.Status == nil || e.Status.State() != escpos.StatePaperOut {
		t.Errorf("error status %v", e.Status)
	}
	if got := r.emu.Stats().JobBytes(); got != before {
		t.Errorf("the printer received %d job bytes after the refusal", got-before)
	}
	st, err := r.p.Status(ctx)
	if err != nil || st.State() != escpos.StatePaperOut {
		t.Errorf("Status = %v, %v; want paper-out", st, err)
	}

	// A new roll: the next job prints, once.
	r.emu.SetCondition(emulator.Ready)
	if err := r.p.Print(ctx, escpostest.SampleDoc()); err != nil {
		t.Fatalf("after a new roll: %v", err)
	}
	lastTicket(t, r.emu, 2)
}

func TestPTYCoverOpen(t *testing.T) {
	r := newPTYRig(t, 0, ptyConfig())
	ctx := context.Background()
	r.emu.SetCondition(emulator.CoverOpen)
	st, err := r.p.Status(ctx)
	if err != nil || st.State() != escpos.StateCoverOpen {
		t.Fatalf("Status = %v, %v; want cover-open", st, err)
	}
	err = r.p.Print(ctx, escpostest.SampleDoc())
	if e := asError(t, err); !errors.Is(err, escpos.ErrCoverOpen) || e.Sent != 0 {
		t.Fatalf("Print = %v, want cover-open with nothing sent", err)
	}
	if got := r.emu.Stats().JobBytes(); got != 0 {
		t.Errorf("%d job bytes reached the printer", got)
	}
	r.emu.SetCondition(emulator.Ready)
	if err := r.p.Print(ctx, escpostest.SampleDoc()); err != nil {
		t.Fatalf("cover closed: %v", err)
	}
	lastTicket(t, r.emu, 1)
}

// bigDoc is a job far larger than what the pty pair and socat buffer (about 40 KB), so the
// driver is still writing it whenever the line goes away.
func bigDoc() escpos.Doc {
	var d escpos.Doc
	for i := range 4000 {
		d.Add(escpos.Text{Text: strings.Repeat("x", 30) + " 行 " + string(rune('0'+i%10))})
	}
	d.Add(escpos.Cut{})
	return d
}

// waitOnline polls Status until the driver has reopened the returned device.
func waitOnline(t testing.TB, p *driver.Printer) {
	t.Helper()
	eventually(t, "the printer to answer again", func() bool {
		st, err := p.Status(context.Background())
		return err == nil && st.State() == escpos.StateOK
	})
}

// checkResumed prints job2 after a failed job and checks it arrives once, whole, after the
// NUL padding that completes whatever command the failed job was cut off in.
func checkResumed(t *testing.T, r *ptyRig, tickets int) {
	t.Helper()
	doc := escpostest.SampleDoc()
	job := encodeOrFatal(t, doc, r.cfg)
	if err := r.p.Print(context.Background(), doc); err != nil {
		t.Fatalf("job after the device returned: %v", err)
	}
	tk := lastTicket(t, r.emu, tickets)
	if !bytes.HasSuffix(tk.Raw, job) {
		t.Fatalf("the last ticket does not end with the new job (%d bytes)", len(tk.Raw))
	}
	pre := tk.Raw[:len(tk.Raw)-len(job)]
	pad := len(pre) - len(bytes.TrimRight(pre, "\x00"))
	if pad < 4 {
		t.Errorf("the new job was preceded by %d NUL bytes, want the padding (>= 4)", pad)
	}
	if n := bytes.Count(tk.Raw, job); n != 1 {
		t.Errorf("the new job arrived %d times", n)
	}
}

func TestPTYVanishWhileWriting(t *testing.T) {
	r := newPTYRig(t, 0, ptyConfig())
	done := make(chan error, 1)
	go func() { done <- r.p.Print(context.Background(), bigDoc()) }()
	// The job is flowing; then the printer stops taking bytes (buffer full, CTS low) and the
	// adapter is pulled while the driver is still writing.
	eventually(t, "the job to start", func() bool { return r.emu.Stats().JobBytes() > 1000 })
	r.emu.PauseAfter(0)
	r.line.Vanish()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Print did not return after the device vanished")
	}
	e := asError(t, err)
	if !errors.Is(err, escpos.ErrOffline) || !e.Partial() {
		t.Fatalf("Print = %v; want offline, partial", err)
	}
	got := r.emu.Stats().JobBytes()
	if got > e.Sent {
		t.Errorf("the printer received %d job bytes, more than the %d reported sent", got, e.Sent)
	}
	if r.emu.Stats().Tickets != 0 {
		t.Error("a ticket was cut from a partial job")
	}
	t.Logf("vanished mid-job: %v; printer had %d bytes", err, got)

	r.emu.Resume()
	r.line.Return()
	waitOnline(t, r.p)
	checkResumed(t, r, 1)
}

func TestPTYVanishBeforeConfirmed(t *testing.T) {
	// At 9600 baud the whole ticket sits in the port's buffer long before the printer has
	// it; the adapter is pulled while it crosses the line.
	r := newPTYRig(t, 9600, ptyConfig())
	done := make(chan error, 1)
	go func() { done <- r.p.Print(context.Background(), escpostest.SampleDoc()) }()
	eventually(t, "the job to start", func() bool { return r.emu.Stats().JobBytes() > 50 })
	// Hold the rest in the line's buffers (however slowly this test runs), then pull the plug.
	r.emu.PauseAfter(0)
	r.line.Vanish()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Print did not return after the device vanished")
	}
	e := asError(t, err)
	if !errors.Is(err, escpos.ErrOffline) || e.Sent != e.Total || e.Total == 0 {
		t.Fatalf("Print = %v; want offline with the whole job written but unconfirmed", err)
	}
	if r.emu.Stats().Tickets != 0 {
		t.Error("the ticket was cut although the line went away in the middle")
	}
	r.emu.Resume()
	r.line.Return()
	waitOnline(t, r.p)
	checkResumed(t, r, 1)
}

func TestPTYSlowBaud(t *testing.T) {
	// The job takes longer to cross a 9600 baud line than StatusTimeout: the driver must
	// wait for the line, not report the printer offline.
	cfg := ptyConfig()
	cfg.StatusTimeout = 300 * time.Millisecond
	r := newPTYRig(t, 9600, cfg)
	var doc escpos.Doc // two tickets' worth, one cut: about a second at 9600 baud
	first := escpostest.SampleDoc().Blocks
	doc.Add(first[:len(first)-1]...)
	doc.Add(escpostest.SampleDoc().Blocks...)
	job := encodeOrFatal(t, doc, cfg)
	floor := time.Duration(len(job)) * 10 * time.Second / 9600
	if floor < 2*cfg.StatusTimeout {
		t.Fatalf("job of %d bytes too short for the test", len(job))
	}
	start := time.Now()
	if err := r.p.Print(context.Background(), doc); err != nil {
		t.Fatalf("Print at 9600 baud: %v", err)
	}
	took := time.Since(start)
	if tk := lastTicket(t, r.emu, 1); !bytes.Equal(tk.Raw, job) {
		t.Errorf("received %d bytes, want %d", len(tk.Raw), len(job))
	}
	// The emulator paces like a line: a job cannot arrive faster than the line carries it.
	if took < floor*9/10 {
		t.Errorf("%d bytes at 9600 baud in %v, faster than the line (%v)", len(job), took, floor)
	}
	t.Logf("%d bytes at 9600 baud: %v (floor %v, ratio %.3f)", len(job), took, floor, float64(took)/float64(floor))
}

func TestPTYStatusPolledWhileIdle(t *testing.T) {
	cfg := ptyConfig()
	cfg.StatusTimeout = 200 * time.Millisecond
	r := newPTYRig(t, 0, cfg)
	// A poller like the kiosk's, faster.
	ctx, cancel := context.WithCancel(context.Background())
	seen := make(chan escpos.State, 64)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for ctx.Err() == nil {
			st, err := r.p.Status(ctx)
			s := st.State()
			if err != nil {
				s = escpos.StateOffline
			}
			select {
			case seen <- s:
			default:
			}
			time.Sleep(10 * time.Millisecond) // the poll period
		}
	}()
	defer func() { cancel(); <-stopped }()
	for _, tc := range []struct {
		cond emulator.Condition
		want escpos.State
	}{
		{emulator.Ready, escpos.StateOK},
		{emulator.PaperLow, escpos.StatePaperLow},
		{emulator.PaperOut, escpos.StatePaperOut},
		{emulator.CoverOpen, escpos.StateCoverOpen},
		{emulator.CutterError, escpos.StateError},
		{emulator.NoAnswer, escpos.StateOffline},
		{emulator.Ready, escpos.StateOK},
	} {
		r.emu.SetCondition(tc.cond)
		deadline := time.After(15 * time.Second)
	wait:
		for {
			select {
			case s := <-seen:
				if s == tc.want {
					break wait
				}
			case <-deadline:
				t.Fatalf("condition %v: the poller never saw %v", tc.cond, tc.want)
			}
		}
	}
}
