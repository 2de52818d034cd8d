package emulator

import (
	"bytes"
	"errors"
	"image/png"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"citizenhome/devices/escpos"
)

func newPrinter(t testing.TB, cfg Config) *Printer {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func write(t testing.TB, p *Printer, chunks ...[]byte) {
	t.Helper()
	for _, c := range chunks {
		if _, err := p.Write(c); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReplies(t *testing.T) {
	for c := Ready; c <= NoAnswer; c++ {
		t.Run(c.String(), func(t *testing.T) {
			p := newPrinter(t, Config{SkipPNG: true})
			p.SetCondition(c)
			write(t, p, []byte{0x10, 0x04, 1, 0x10, 0x04, 2}, []byte{0x10}, []byte{0x04, 3, 0x10, 0x04, 4})
			st := p.Stats()
			if st.StatusRequests != 4 {
				t.Fatalf("%d requests seen, want 4", st.StatusRequests)
			}
			if c == NoAnswer {
				if st.Replies != 0 || len(p.replies) != 0 {
					t.Fatalf("NoAnswer replied")
				}
				return
			}
			var got [4]byte
			n, err := p.Read(got[:])
			if err != nil || n != 4 {
				t.Fatalf("Read = %d, %v", n, err)
			}
			if got != c.Replies() {
				t.Errorf("replies % X, want % X", got, c.Replies())
			}
			if c == Ready && got[0] != 0x16 {
				t.Errorf("Ready should answer 0x16 to n=1 (the online value libraries misread)")
			}
			parsed, err := escpos.ParseStatus(got[:])
			if err != nil {
				t.Fatal(err)
			}
			want := map[Condition]escpos.State{Ready: escpos.StateOK, PaperLow: escpos.StatePaperLow, PaperOut: escpos.StatePaperOut,
				CoverOpen: escpos.StateCoverOpen, CutterError: escpos.StateError, Offline: escpos.StateOffline}[c]
			if parsed.State() != want {
				t.Errorf("driver reads %v, want %v", parsed.State(), want)
			}
			if st.JobBytes() != 0 {
				t.Errorf("JobBytes %d for status polls only", st.JobBytes())
			}
		})
	}
}

func TestStatusRequestInsideRasterIsAnswered(t *testing.T) {
	p := newPrinter(t, Config{SkipPNG: true})
	img := []byte{0x10, 0x04, 0x01, 0xFF} // one row of 4 bytes that happens to contain DLE EOT 1
	write(t, p, []byte{0x1B, '@', 0x1D, 'v', '0', 0, 4, 0, 1, 0}, img, []byte{0x1D, 'V', 0})
	if st := p.Stats(); st.StatusRequests != 1 || st.Replies != 1 {
		t.Errorf("stats %+v: a real printer answers DLE EOT even inside image data", st)
	}
	tk := p.Tickets()
	if len(tk) != 1 || len(tk[0].Rasters) != 1 || !bytes.Equal(tk[0].Rasters[0].Bits, img) {
		t.Fatalf("raster not kept intact: %+v", tk)
	}
	if r := tk[0].Rasters[0]; r.Width != 32 || r.Height != 1 || !r.At(3, 0) || r.At(4, 0) || !r.At(31, 0) || r.At(32, 0) {
		t.Errorf("Raster.At wrong for %+v", r)
	}
}

func TestUnknownCommandsSkipped(t *testing.T) {
	p := newPrinter(t, Config{SkipPNG: true})
	write(t, p, []byte("\x1b@\x1bzAB\n\x1dZCD\n\x1cxEF\n\x01\x7fGH\r\n\x1dV\x00"))
	tk := p.Tickets()
	if len(tk) != 1 {
		t.Fatalf("%d tickets", len(tk))
	}
	if want := []string{"AB", "CD", "EF", "GH"}; !slices.Equal(tk[0].Lines, want) {
		t.Errorf("lines %q, want %q", tk[0].Lines, want)
	}
	if n := p.Stats().Unknown; n != 5 {
		t.Errorf("Unknown = %d, want 5", n)
	}
}

func TestPrinterWrapsAndAligns(t *testing.T) {
	p := newPrinter(t, Config{SkipPNG: true})
	long := strings.Repeat("x", 40)
	gb, err := simplifiedchinese.GB18030.NewEncoder().String("一二三四五六七八九")
	if err != nil {
		t.Fatal(err)
	}
	// ESC a in the middle of a line is ignored; at double width 8 ideographs fill 58 mm.
	write(t, p, []byte("\x1b@"+long+"\n"), []byte("ab\x1ba\x01cd\n\x1c&\x1d!\x11"+gb+"\n\x1dV\x00"))
	tk := p.Tickets()[0]
	want := []string{long[:32], long[32:], "abcd", "一二三四五六七八", "九"}
	if !slices.Equal(tk.Lines, want) {
		t.Errorf("lines %q, want %q", tk.Lines, want)
	}
	p.mu.Lock()
	align := p.m.align
	p.mu.Unlock()
	if align != escpos.AlignLeft {
		t.Errorf("ESC a mid-line changed the alignment to %v", align)
	}
}

func TestChineseMode(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{"off: code page 437", "\xd6\xd0\n", []string{"╓╨"}},
		{"on", "\x1c&\xd6\xd0\n", []string{"中"}},
		{"four-byte", "\x1c&\x95\x34\xb2\x35\n", []string{"𠮷"}},
		{"broken sequence does not eat LF", "\x1c&\x81\nA\n", []string{"?", "A"}},
		{"off again", "\x1c&\xd6\xd0\x1c.\xd6\n", []string{"中╓"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPrinter(t, Config{SkipPNG: true})
			write(t, p, []byte("\x1b@"+tc.in+"\x1dV\x00"))
			if got := p.Tickets()[0].Lines; !slices.Equal(got, tc.want) {
				t.Errorf("lines %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSplitWritesEquivalent: a stream cut at any point gives the same tickets.
func TestSplitWritesEquivalent(t *testing.T) {
	for _, mode := range []escpos.QRMode{escpos.QRNative, escpos.QRRaster} {
		job := sampleJob(t, mode)
		whole := newPrinter(t, Config{})
		write(t, whole, job)
		bytewise := newPrinter(t, Config{})
		for i := range job {
			write(t, bytewise, job[i:i+1])
		}
		a, b := whole.Tickets(), bytewise.Tickets()
		if len(a) != 1 || len(b) != 1 {
			t.Fatalf("tickets %d and %d", len(a), len(b))
		}
		if !slices.Equal(a[0].Lines, b[0].Lines) || !bytes.Equal(a[0].Raw, b[0].Raw) || !bytes.Equal(a[0].PNG, b[0].PNG) {
			t.Errorf("mode %d: byte-by-byte feeding changed the ticket", mode)
		}
		if len(a[0].PNG) == 0 {
			t.Error("no PNG")
		}
	}
}

func sampleJob(t testing.TB, mode escpos.QRMode) []byte {
	var d escpos.Doc
	d.Add(
		escpos.Text{Text: "市民之家 Citizen Hall", Width: 2, Height: 2, Bold: true, Align: escpos.AlignCenter},
		escpos.Rule{},
		escpos.Text{Text: "排队号 A023，前面 12 人。"},
		escpos.QR{Data: "https://hall.example.cn/q?t=A023", Module: 4, Align: escpos.AlignCenter},
		escpos.Barcode{Data: "A{023}", HRI: true, Align: escpos.AlignRight},
		escpos.Cut{Feed: 20},
	)
	job, err := escpos.Encode(d, escpos.Options{QRMode: mode})
	if err != nil {
		t.Fatal(err)
	}
	return job
}

func TestTicketContents(t *testing.T) {
	var got []Ticket
	p := newPrinter(t, Config{OnTicket: func(tk Ticket) { got = append(got, tk) }})
	job := sampleJob(t, escpos.QRNative)
	write(t, p, job)
	if len(got) != 1 {
		t.Fatalf("OnTicket called %d times", len(got))
	}
	tk := got[0]
	if !slices.Equal(tk.QR, []string{"https://hall.example.cn/q?t=A023"}) || !slices.Equal(tk.Barcodes, []string{"A{023}"}) {
		t.Errorf("QR %q barcodes %q", tk.QR, tk.Barcodes)
	}
	if !bytes.Equal(tk.Raw, job) || tk.Partial {
		t.Errorf("raw/partial wrong")
	}
	if s := tk.String(); strings.Contains(s, "市民") || !strings.Contains(s, "4 lines, 1 QR, 1 barcodes") {
		t.Errorf("String() = %q", s)
	}
	if want := []string{"市民之家 Citizen", "Hall", strings.Repeat("-", 32), "排队号 A023，前面 12 人。"}; !slices.Equal(tk.Lines, want) {
		t.Errorf("lines %q, want %q", tk.Lines, want)
	}
}

func TestDroppedWhileNotPrinting(t *testing.T) {
	p := newPrinter(t, Config{SkipPNG: true})
	p.SetCondition(PaperOut)
	write(t, p, []byte("\x1b@A\n\x1dV\x00"))
	if st := p.Stats(); st.Dropped != 1 || st.Tickets != 0 || len(p.Tickets()) != 0 {
		t.Errorf("stats %+v", st)
	}
	p.SetCondition(PaperLow)
	write(t, p, []byte("\x1b@B\n\x1dV\x01"))
	if tk := p.Tickets(); len(tk) != 1 || !slices.Equal(tk[0].Lines, []string{"B"}) || !tk[0].Partial {
		t.Errorf("tickets %+v", tk)
	}
}

func TestKeep(t *testing.T) {
	p := newPrinter(t, Config{SkipPNG: true, Keep: 2})
	for _, s := range []string{"1", "2", "3"} {
		write(t, p, []byte(s+"\n\x1dV\x00"))
	}
	tk := p.Tickets()
	if len(tk) != 2 || tk[0].Lines[0] != "2" || tk[1].Lines[0] != "3" {
		t.Errorf("kept %+v", tk)
	}
}

func TestHugePayloadIsSkippedNotBuffered(t *testing.T) {
	p := newPrinter(t, Config{SkipPNG: true})
	write(t, p, []byte{0x1D, 'v', '0', 0, 0xFF, 0xFF, 0xFF, 0xFF})
	chunk := make([]byte, 64<<10)
	for range 32 {
		write(t, p, chunk)
	}
	p.mu.Lock()
	buffered, discard := len(p.buf), p.discard
	p.mu.Unlock()
	if buffered != 0 || discard != 0xFFFF*0xFFFF-32*len(chunk) {
		t.Errorf("buffered %d, still to discard %d", buffered, discard)
	}
}

func TestServePauseAndReplies(t *testing.T) {
	p := newPrinter(t, Config{SkipPNG: true})
	host, dev := net.Pipe()
	defer host.Close()
	done := make(chan error, 1)
	go func() { done <- p.Serve(dev) }()

	if _, err := host.Write([]byte{0x10, 0x04, 0x01}); err != nil {
		t.Fatal(err)
	}
	host.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [1]byte
	if _, err := host.Read(b[:]); err != nil || b[0] != 0x16 {
		t.Fatalf("reply %#x, %v", b[0], err)
	}

	// Serve is already waiting in a read, which takes the next write whole; the limit
	// applies from the read after.
	p.PauseAfter(3)
	if _, err := host.Write([]byte("ABC")); err != nil {
		t.Fatal(err)
	}
	host.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	n, err := host.Write([]byte("DEF"))
	if n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write while paused: %d, %v; want nothing taken and a deadline", n, err)
	}
	p.Resume()
	host.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := host.Write([]byte("DEF\n\x1dV\x00")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(p.Tickets()) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if tk := p.Tickets(); len(tk) != 1 || !slices.Equal(tk[0].Lines, []string{"ABCDEF"}) {
		t.Fatalf("tickets %+v", tk)
	}
	dev.Close()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

func TestCloseStopsPausedServe(t *testing.T) {
	p, err := New(Config{SkipPNG: true})
	if err != nil {
		t.Fatal(err)
	}
	host, dev := net.Pipe()
	defer host.Close()
	defer dev.Close()
	p.PauseAfter(0)
	done := make(chan error, 1)
	go func() { done <- p.Serve(dev) }()
	p.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after Close")
	}
	if _, err := p.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(Config{FontPath: "/nonexistent/font.ttf"}); err == nil {
		t.Error("missing font accepted")
	}
	if _, err := New(Config{FontPath: "/etc/hostname"}); err == nil {
		t.Error("non-font accepted")
	}
	if _, err := New(Config{Paper: 60, SkipPNG: true}); err == nil {
		t.Error("60 mm paper accepted")
	}
}

func TestCode128(t *testing.T) {
	text, mods, ok := code128([]byte("{BPJJ123C"))
	if !ok || text != "PJJ123C" {
		t.Fatalf("decode: %q %v", text, ok)
	}
	if len(mods) != 11*(7+2)+13 {
		t.Fatalf("%d modules", len(mods))
	}
	bits := func(from, n int) string {
		var sb strings.Builder
		for _, m := range mods[from : from+n] {
			sb.WriteByte("01"[boolInt(m)])
		}
		return sb.String()
	}
	// Start B, then 'P' (value 48), check symbol 55 (computed by hand: 879 mod 103), stop.
	if got := bits(0, 11); got != "11010010000" {
		t.Errorf("start B = %s", got)
	}
	if got := bits(11, 11); got != "11101110110" {
		t.Errorf("'P' = %s", got)
	}
	if got := bits(len(mods)-24, 11); got != "11101000110" {
		t.Errorf("check symbol = %s, want value 55", got)
	}
	if got := bits(len(mods)-13, 13); got != "1100011101011" {
		t.Errorf("stop = %s", got)
	}
	for _, tc := range []struct {
		in   string
		text string
		ok   bool
	}{
		{"{C\x0c\x22", "1234", true},
		{"{BA{{B", "A{B", true},
		{"{BA{C\x01", "A01", true},
		{"{A\x01A", "\x01A", true},
		{"AB", "", false},
		{"{BA{", "", false},
		{"{B\x01", "", false},
		{"{C\x64", "", false},
		{"{BA{Z", "", false},
	} {
		text, _, ok := code128([]byte(tc.in))
		if ok != tc.ok || text != tc.text {
			t.Errorf("code128(%q) = %q, %v; want %q, %v", tc.in, text, ok, tc.text, tc.ok)
		}
	}
	for i, w := range code128Widths {
		sum := 0
		for _, c := range w {
			sum += int(c - '0')
		}
		if want := map[bool]int{true: 13, false: 11}[i == code128Stop]; sum != want {
			t.Errorf("symbol %d is %d modules", i, sum)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestRenderExtremes renders what garbage input can ask for: the largest characters, a
// raster wider than the paper, right-aligned wide images, the longest ticket.
func TestRenderExtremes(t *testing.T) {
	p := newPrinter(t, Config{})
	var job []byte
	job = append(job, "\x1b@\x1c&\x1d!\x77\x1bE\x01\x1b-\x02W\xd6\xd0\x95\x34\xb2\x35\x80\xff\n"...)
	job = append(job, 0x1B, 'a', 2, 0x1D, 'v', '0', 0, 200, 0, 3, 0)
	job = append(job, bytes.Repeat([]byte{0xAA}, 600)...)
	job = append(job, 0x1D, 'w', 6, 0x1D, 'H', 3, 0x1D, 'k', 73, 30, '{', 'B')
	job = append(job, bytes.Repeat([]byte("W"), 28)...)
	job = append(job, 0x1D, '(', 'k', 3, 0, 49, 67, 16, 0x1D, '(', 'k', 3, 0, 49, 69, 51)
	job = append(job, 0x1D, '(', 'k', 203, 0, 49, 80, 48)
	job = append(job, bytes.Repeat([]byte("9"), 200)...)
	job = append(job, 0x1D, '(', 'k', 3, 0, 49, 81, 48)
	for range 20 {
		job = append(job, 0x1B, 'd', 255)
	}
	job = append(job, "tail\n\x1dVA\xff"...)
	write(t, p, job)
	tk := p.Tickets()
	if len(tk) != 1 {
		t.Fatalf("%d tickets", len(tk))
	}
	img, err := png.Decode(bytes.NewReader(tk[0].PNG))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 384 || b.Dy() != maxHeight {
		t.Errorf("image %v, want 384 x %d", b, maxHeight)
	}
	if want := []string{"W中", "𠮷??", "tail"}; !slices.Equal(tk[0].Lines, want) {
		t.Errorf("lines %q, want %q", tk[0].Lines, want)
	}
	if len(tk[0].QR) != 1 || len(tk[0].Barcodes) != 1 || len(tk[0].Rasters) != 1 {
		t.Errorf("QR %d barcodes %d rasters %d", len(tk[0].QR), len(tk[0].Barcodes), len(tk[0].Rasters))
	}
}

// FuzzParse feeds arbitrary bytes: no panic, bounded buffering, and the same result
// whether the stream arrives whole or in two pieces.
func FuzzParse(f *testing.F) {
	f.Add(sampleJob(f, escpos.QRNative), uint16(100))
	f.Add(sampleJob(f, escpos.QRRaster), uint16(7))
	f.Add([]byte("\x1b@\x1c&\xd6\xd0\x81\n\x1dV\x00"), uint16(4))
	f.Add([]byte{0x1D, 'v', '0', 0, 2, 0, 2, 0, 0x10, 0x04, 0x01, 0xFF, 0x1D, 'V', 0x41, 3}, uint16(9))
	f.Add([]byte{0x1D, '(', 'k', 5, 0, 49, 80, 48, 'x', 'y', 0x1D, '(', 'k', 3, 0, 49, 81, 48, 0x1D, 'V', 0}, uint16(12))
	f.Add([]byte{0x1D, 'k', 73, 4, '{', 'B', 'a', 'b', 0x1D, 'k', 4, '1', '2', 0, 0x1b, 'i'}, uint16(5))
	f.Add([]byte{0x1B, 'D', 1, 2, 0, 0x1B, '*', 33, 2, 0, 1, 2, 3, 4, 5, 6, 0x1D, '8', 'L', 1, 0, 0, 0, 9, 0x1b, 'm'}, uint16(3))
	// Rendering is covered by TestRenderExtremes; under coverage instrumentation it would
	// slow the fuzzer to a few inputs a second.
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		a, err := New(Config{SkipPNG: true})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := New(Config{SkipPNG: true})
		defer a.Close()
		defer b.Close()
		a.Write(data)
		k := 0
		if len(data) > 0 {
			k = int(split) % len(data)
		}
		b.Write(data[:k])
		b.Write(data[k:])
		if n := len(a.buf); n > maxBuffered+16 {
			t.Fatalf("%d bytes buffered", n)
		}
		ta, tb := a.Tickets(), b.Tickets()
		sa, sb := a.Stats(), b.Stats()
		if sa != sb || len(ta) != len(tb) {
			t.Fatalf("split at %d changed the outcome: %+v vs %+v", k, sa, sb)
		}
		for i := range ta {
			if !slices.Equal(ta[i].Lines, tb[i].Lines) || !bytes.Equal(ta[i].Raw, tb[i].Raw) ||
				!slices.Equal(ta[i].QR, tb[i].QR) || !slices.Equal(ta[i].Barcodes, tb[i].Barcodes) {
				t.Fatalf("ticket %d differs when split at %d", i, k)
			}
		}
	})
}
