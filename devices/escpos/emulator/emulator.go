// Package emulator is a model of an ESC/POS thermal ticket printer for tests and demos.
//
// Bytes written to a [Printer] are parsed as an ESC/POS stream; every cut (GS V) produces a
// [Ticket] with the text lines it printed (decoded to UTF-8), the QR and barcode data, the
// raw bytes of the job and a PNG rendering at the paper's dot width, drawn with a CJK font.
// DLE EOT n status requests are answered from a settable [Condition], on the Read side.
// [Printer.Serve] runs the model over any io.ReadWriter: one end of net.Pipe in-process, or
// a pseudo-terminal to exercise a real serial driver (package ptytest sets one up with
// socat). With Config.Baud it takes bytes at a serial line's pace, so timings seen through a
// pty are those of a real line.
//
// Like real printers, status requests are recognised as soon as they are received, even
// inside the payload of another command (a raster image can contain the bytes 10 04 01);
// a driver must drain such stray replies before polling.
package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"citizenhome/devices/escpos"
)

// DefaultFont is the font used when Config.FontPath is empty (Debian fonts-droid-fallback).
const DefaultFont = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"

// Condition is the state the model reports to DLE EOT and that decides whether it prints.
type Condition int

// Conditions. Ready and PaperLow print; the others drop cut tickets (Stats.Dropped).
const (
	Ready       Condition = iota // online, paper fine: replies 16 12 12 12
	PaperLow                     // near-end sensor: 16 12 12 1E
	PaperOut                     // 1A 32 12 7E, the reference example
	CoverOpen                    // 1E 16 12 12
	CutterError                  // 1A 52 1A 12
	Offline                      // offline with no cause given: 1A 12 12 12
	NoAnswer                     // powered off or cable pulled: no replies at all
)

var conditionNames = [...]string{"ready", "paper-low", "paper-out", "cover-open", "cutter-error", "offline", "no-answer"}

// String returns the kebab-case name of c, "condition(N)" for unknown values.
func (c Condition) String() string {
	if c >= 0 && int(c) < len(conditionNames) {
		return conditionNames[c]
	}
	return fmt.Sprintf("condition(%d)", int(c))
}

// Replies returns the bytes c answers to DLE EOT 1..4 (index n-1). NoAnswer and unknown
// conditions return the Ready bytes, though NoAnswer never sends them.
func (c Condition) Replies() [4]byte {
	switch c {
	case PaperLow:
		return [4]byte{0x16, 0x12, 0x12, 0x1E}
	case PaperOut:
		return [4]byte{0x1A, 0x32, 0x12, 0x7E}
	case CoverOpen:
		return [4]byte{0x1E, 0x16, 0x12, 0x12}
	case CutterError:
		return [4]byte{0x1A, 0x52, 0x1A, 0x12}
	case Offline:
		return [4]byte{0x1A, 0x12, 0x12, 0x12}
	}
	return [4]byte{0x16, 0x12, 0x12, 0x12}
}

func (c Condition) prints() bool { return c == Ready || c == PaperLow }

// Config configures a Printer.
type Config struct {
	Paper escpos.Paper // 0 means 58 mm
	// FontPath is a TrueType/OpenType font with CJK glyphs; "" means DefaultFont.
	FontPath string
	// SkipPNG leaves Ticket.PNG nil (no font is loaded then): for fuzzing and load tests.
	SkipPNG bool
	// OnTicket, if set, is called with each ticket, on the goroutine that wrote the cut,
	// after the Printer's lock is released (it may call the Printer).
	OnTicket func(Ticket)
	// Keep is how many tickets Tickets remembers; 0 means 32.
	Keep int
	// Baud, if above 0, makes Serve behave like a printer on a serial line of that speed
	// (8N1, 10 bits a byte): it takes the host's bytes no faster than the line carries them
	// and sends each reply byte after one byte time. Through a pty the host then sees the
	// timing of a real line: its writes are buffered at once, the printer has them only
	// later. 0: as fast as the stream delivers. Write and Read are never paced.
	Baud int
}

// Ticket is what one cut produced.
type Ticket struct {
	// Lines are the printed text lines in UTF-8, trailing spaces removed, in order. Blank
	// lines and feeds are not included; barcode HRI text is not a line.
	Lines []string
	// QR holds the data of each QR code printed with GS ( k. Raster images are in Rasters.
	QR []string
	// Barcodes holds the decoded data of each barcode printed.
	Barcodes []string
	// Rasters holds each GS v 0 image printed.
	Rasters []Raster
	// Partial is true for a partial cut.
	Partial bool
	// Raw is every byte of the job from the end of the previous cut through this cut,
	// except real-time commands (DLE EOT, DLE ENQ, DLE DC4) outside other commands.
	// Capped at 4 MiB.
	Raw []byte
	// PNG is the rendered ticket, paper width in dots wide, white background. Nil with
	// Config.SkipPNG.
	PNG []byte
}

// String summarises t without its text, which may hold personal data:
// "ticket{5 lines, 1 QR, 1 barcodes, 0 rasters, 812 bytes, full cut}".
func (t Ticket) String() string {
	cut := "full"
	if t.Partial {
		cut = "partial"
	}
	return fmt.Sprintf("ticket{%d lines, %d QR, %d barcodes, %d rasters, %d bytes, %s cut}",
		len(t.Lines), len(t.QR), len(t.Barcodes), len(t.Rasters), len(t.Raw), cut)
}

// Raster is a 1-bit image: Bits holds Height rows of (Width+7)/8 bytes, most significant
// bit leftmost, 1 = black.
type Raster struct {
	Width, Height int
	Bits          []byte
}

// At reports whether the dot at (x, y) is black; false outside the image.
func (r Raster) At(x, y int) bool {
	if x < 0 || y < 0 || x >= r.Width || y >= r.Height {
		return false
	}
	stride := (r.Width + 7) / 8
	return r.Bits[y*stride+x/8]&(0x80>>(x%8)) != 0
}

// Stats counts what the Printer has seen.
type Stats struct {
	Received       int // bytes written to the Printer
	StatusRequests int // DLE EOT 1..4 recognised
	Replies        int // status bytes queued for the host
	Tickets        int // tickets cut and delivered
	Dropped        int // tickets cut while the condition did not allow printing
	Unknown        int // commands not understood (skipped)
}

// JobBytes returns the bytes received that were not status requests: 0 means the host
// sent nothing but DLE EOT polls.
func (s Stats) JobBytes() int { return s.Received - 3*s.StatusRequests }

// ErrClosed is returned by Write and Read after Close.
var ErrClosed = errors.New("emulator: printer closed")

// Printer is the printer model. Write feeds it the host's bytes, Read returns its replies,
// Serve connects both to a stream. Safe for concurrent use.
type Printer struct {
	cfg  Config
	dots int
	font *fontCache

	replies chan byte
	done    chan struct{}

	procMu sync.Mutex // serialises interpretation and rendering; taken before mu

	mu       sync.Mutex
	closed   bool
	cond     Condition
	rt       uint8 // real-time scanner state: 0 idle, 1 after DLE, 2 after DLE EOT
	buf      []byte
	discard  int
	m        modes
	line     []glyph
	tk       ticketState
	tickets  []Ticket
	cut      []cutTicket
	stats    Stats
	paused   bool
	allow    int
	resumeCh chan struct{}
}

// New returns a Ready printer. It fails if the font cannot be loaded (unless SkipPNG) or the
// paper is unknown.
func New(cfg Config) (*Printer, error) {
	if cfg.Paper == 0 {
		cfg.Paper = escpos.Paper58
	}
	dots := cfg.Paper.Dots()
	if dots == 0 {
		return nil, fmt.Errorf("emulator: unknown paper %d mm", int(cfg.Paper))
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 32
	}
	p := &Printer{
		cfg:     cfg,
		dots:    dots,
		replies: make(chan byte, 1024),
		done:    make(chan struct{}),
	}
	if !cfg.SkipPNG {
		path := cfg.FontPath
		if path == "" {
			path = DefaultFont
		}
		fc, err := loadFont(path)
		if err != nil {
			return nil, err
		}
		p.font = fc
	}
	p.reset()
	return p, nil
}

// SetCondition changes what the printer reports from the next status request on.
func (p *Printer) SetCondition(c Condition) {
	p.mu.Lock()
	p.cond = c
	p.mu.Unlock()
}

// Condition returns the current condition.
func (p *Printer) Condition() Condition {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cond
}

// Tickets returns a copy of the most recent tickets (Config.Keep), oldest first.
func (p *Printer) Tickets() []Ticket {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Ticket(nil), p.tickets...)
}

// Stats returns the counters.
func (p *Printer) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// PauseAfter makes Serve stop reading once n more bytes have been read, as a printer with
// a full buffer holding CTS low does; the host's writes then block. n <= 0 pauses at once.
// Status requests are not read either while paused. The limit applies from Serve's next
// read: a read already waiting when PauseAfter is called takes what arrives (with
// net.Pipe, one write) and counts it against n.
func (p *Printer) PauseAfter(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.paused {
		p.paused = true
		p.resumeCh = make(chan struct{})
	}
	p.allow = max(n, 0)
}

// Resume undoes PauseAfter.
func (p *Printer) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paused {
		p.paused = false
		close(p.resumeCh)
	}
}

// Close stops Serve and makes Read and Write fail with ErrClosed. It does not close the
// stream given to Serve. Idempotent.
func (p *Printer) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		close(p.done)
	}
	return nil
}

// Write feeds host bytes to the printer: status requests are answered, then the bytes are
// interpreted. It never fails before Close; bytes it does not understand are skipped.
// Tickets completed by these bytes are delivered before it returns.
func (p *Printer) Write(b []byte) (int, error) {
	if err := p.receive(b); err != nil {
		return 0, err
	}
	p.process(b)
	return len(b), nil
}

// receive is the receive-time half of a printer: counting and real-time status requests.
func (p *Printer) receive(b []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	p.stats.Received += len(b)
	for _, c := range b {
		p.realtime(c)
	}
	return nil
}

// process interprets received bytes and delivers finished tickets. Rendering runs outside
// mu, so status requests are answered while a ticket is drawn.
func (p *Printer) process(b []byte) {
	p.procMu.Lock()
	defer p.procMu.Unlock()
	p.mu.Lock()
	p.buf = append(p.buf, b...)
	p.parse()
	cut := p.cut
	p.cut = nil
	p.mu.Unlock()
	if len(cut) == 0 {
		return
	}
	for i := range cut {
		if p.font != nil {
			cut[i].PNG = p.render(cut[i].state)
		}
	}
	p.mu.Lock()
	for _, c := range cut {
		p.stats.Tickets++
		p.tickets = append(p.tickets, c.Ticket)
	}
	if len(p.tickets) > p.cfg.Keep {
		p.tickets = append([]Ticket(nil), p.tickets[len(p.tickets)-p.cfg.Keep:]...)
	}
	p.mu.Unlock()
	if p.cfg.OnTicket != nil {
		for _, c := range cut {
			p.cfg.OnTicket(c.Ticket)
		}
	}
}

// cutTicket is a ticket waiting to be rendered.
type cutTicket struct {
	Ticket
	state ticketState
}

// Read returns status reply bytes, blocking until at least one is available. Do not call
// it while Serve runs: Serve sends the replies itself.
func (p *Printer) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	select {
	case b[0] = <-p.replies:
	case <-p.done:
		return 0, ErrClosed
	}
	n := 1
	for n < len(b) {
		select {
		case b[n] = <-p.replies:
			n++
		default:
			return n, nil
		}
	}
	return n, nil
}

// Serve reads the host's bytes from rw until it fails or Close is called, and writes the
// status replies to rw from a second goroutine, so a reply never waits for the host to stop
// writing (as with a UART). Like a real printer, it answers status requests as they are
// received, while earlier bytes are still being interpreted (and tickets rendered) by a
// third goroutine behind a small receive buffer; when that buffer is full Serve stops
// reading, which the host sees as flow control. Serve returns once the received bytes are
// interpreted: nil on io.EOF, io.ErrClosedPipe or Close, otherwise the read error. Only
// one Serve should run at a time, and Read must not be used meanwhile. Serve may be called
// again after it returned, on a new stream: the printer keeps its state, including a
// command cut off by the end of the previous stream and a pause (PauseAfter).
func (p *Printer) Serve(rw io.ReadWriter) error {
	return p.ServeContext(context.Background(), rw)
}

// ServeContext is Serve that also returns (nil) when ctx ends, even while paused, when Serve
// does not read: a line that goes away while the printer holds it paused. A Read already
// blocked in rw is not interrupted by ctx; close rw to end it.
func (p *Printer) ServeContext(ctx context.Context, rw io.ReadWriter) error {
	stop := make(chan struct{})
	defer close(stop)
	var in io.Reader = rw
	var out replyLine
	if p.cfg.Baud > 0 {
		in = newPacer(rw, p.cfg.Baud)
		out.bt = byteTime(p.cfg.Baud)
	}
	go func() {
		for {
			select {
			case c := <-p.replies:
				out.send()
				if _, err := rw.Write([]byte{c}); err != nil {
					return
				}
			case <-stop:
				return
			case <-p.done:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	rx := make(chan []byte, rxChunks)
	parsed := make(chan struct{})
	go func() {
		defer close(parsed)
		for b := range rx {
			p.process(b)
		}
	}()
	defer func() {
		close(rx)
		<-parsed
	}()
	buf := make([]byte, 4096)
	for ctx.Err() == nil {
		allow, wait := p.allowance()
		if allow == 0 {
			select {
			case <-wait:
				continue
			case <-p.done:
				return nil
			case <-ctx.Done():
				return nil
			}
		}
		k := len(buf)
		if allow > 0 && allow < k {
			k = allow
		}
		n, err := in.Read(buf[:k])
		if n > 0 {
			p.consumed(n)
			if p.receive(buf[:n]) != nil {
				return nil // closed
			}
			select {
			case rx <- append([]byte(nil), buf[:n]...):
			case <-p.done:
				return nil
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) {
				return nil
			}
			select {
			case <-p.done:
				return nil
			default:
			}
			return err
		}
	}
	return nil
}

// rxChunks is the receive buffer of Serve, in reads of up to 4 KiB.
const rxChunks = 4

// allowance returns how many bytes Serve may read (-1: no limit) and, when paused, the
// channel closed on Resume.
func (p *Printer) allowance() (int, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.paused {
		return -1, nil
	}
	return p.allow, p.resumeCh
}

func (p *Printer) consumed(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paused {
		p.allow = max(p.allow-n, 0)
	}
}

// realtime is the receive-time scanner for DLE EOT n. Caller holds mu.
func (p *Printer) realtime(c byte) {
	switch {
	case p.rt == 2 && c >= 1 && c <= 4:
		p.rt = 0
		p.stats.StatusRequests++
		if p.cond == NoAnswer {
			return
		}
		select {
		case p.replies <- p.cond.Replies()[c-1]:
			p.stats.Replies++
		default: // host not reading: the reply is lost, like an overrun UART FIFO
		}
	case c == 0x10:
		p.rt = 1
	case p.rt == 1 && c == 0x04:
		p.rt = 2
	default:
		p.rt = 0
	}
}
