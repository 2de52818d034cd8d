package idcard

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Preamble starts every SAM frame, in both directions.
var Preamble = [5]byte{0xAA, 0xAA, 0xAA, 0x96, 0x69}

// Limits of the LEN field (it counts the body and the checksum). The shortest frame is a
// command (CMD PARA CHK); the longest real one, text + photo + fingerprint, is 2314; anything
// beyond MaxLen is taken for line noise.
const (
	MinLen = 3
	MaxLen = 4096
)

const headerSize = len(Preamble) + 2

// Frame errors. A *FrameError wraps one of them.
var (
	// ErrChecksum: the XOR of LEN and body does not match the frame's last byte.
	ErrChecksum = errors.New("idcard: frame checksum mismatch")
	// ErrBadLength: LEN is out of [MinLen, MaxLen], or the body is too short for its kind
	// (a reply without SW1-SW3, a read reply whose block lengths do not add up).
	ErrBadLength = errors.New("idcard: frame length error")
	// ErrShortFrame: the bytes ended (or the line went quiet) before LEN was satisfied.
	ErrShortFrame = errors.New("idcard: short frame")
	// ErrNoPreamble: the bytes hold no AA AA AA 96 69 (within Decoder.MaxSkip for a stream).
	ErrNoPreamble = errors.New("idcard: no frame preamble")
	// ErrReplyHeader: SW1 SW2 of a reply are not 00 00.
	ErrReplyHeader = errors.New("idcard: reply SW1 SW2 not 00 00")
)

// FrameError is a malformed frame. Err is one of the frame errors above; Cause, when set, is
// what cut the frame short (a timeout, io.EOF). errors.Is matches both.
type FrameError struct {
	Err       error
	Got, Want int // checksum or length values, when they help; -1 when not
	Cause     error
}

// Error gives the kind, the values when known, and the cause: "idcard: frame checksum
// mismatch (got 0x21, want 0x22)".
func (e *FrameError) Error() string {
	s := e.Err.Error()
	if e.Got >= 0 {
		s += fmt.Sprintf(" (got 0x%02X, want 0x%02X)", e.Got, e.Want)
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap gives Err and, if set, Cause.
func (e *FrameError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

func frameErr(err error) *FrameError { return &FrameError{Err: err, Got: -1, Want: -1} }

// Command is a SAM command, CMD in the high byte and PARA in the low byte. None of the
// commands a reader needs carries data.
type Command uint16

// The SAM commands. Their encoded frames are checked against the reference in the tests
// (some public code hard-codes wrong checksums).
const (
	CmdResetSAM      Command = 0x10FF // reset the SAM
	CmdSAMStatus     Command = 0x11FF // SAM status (self-test)
	CmdSAMID         Command = 0x12FF // read the 16-byte SAM ID
	CmdFind          Command = 0x2001 // find a card (寻卡)
	CmdSelect        Command = 0x2002 // select the card (选卡)
	CmdRead          Command = 0x3001 // read text + photo
	CmdReadAddress   Command = 0x3003 // read the appended address (新住址)
	CmdReadWithPrint Command = 0x3010 // read text + photo + fingerprint
)

// Encode gives the whole command frame, preamble to checksum.
func (c Command) Encode() []byte {
	f, _ := EncodeFrame([]byte{byte(c >> 8), byte(c)}) // two bytes always fit
	return f
}

// ParseCommand splits a command frame body (as Decoder.Next returns it) into the command and
// any data. A body shorter than CMD PARA is ErrBadLength.
func ParseCommand(body []byte) (Command, []byte, error) {
	if len(body) < 2 {
		return 0, nil, frameErr(ErrBadLength)
	}
	return Command(body[0])<<8 | Command(body[1]), body[2:], nil
}

// EncodeFrame wraps a body (command or reply) into a frame: preamble, LEN, body, XOR checksum.
// A body longer than MaxLen-1 is ErrBadLength.
func EncodeFrame(body []byte) ([]byte, error) {
	n := len(body) + 1
	if n < 2 || n > MaxLen {
		return nil, frameErr(ErrBadLength)
	}
	f := make([]byte, 0, headerSize+n)
	f = append(f, Preamble[:]...)
	f = append(f, byte(n>>8), byte(n))
	f = append(f, body...)
	return append(f, xor(f[len(Preamble):])), nil
}

func xor(b []byte) byte {
	var x byte
	for _, c := range b {
		x ^= c
	}
	return x
}

// DecodeFrame decodes the one frame at the start of b and returns its body and how many bytes
// of b it used; bytes after the frame are left alone. b must start with the preamble
// (ErrNoPreamble otherwise; a Decoder resynchronises, DecodeFrame does not). A b shorter than
// the frame's LEN says is ErrShortFrame; a LEN out of range ErrBadLength; a wrong checksum
// ErrChecksum. The body aliases b.
func DecodeFrame(b []byte) (body []byte, n int, err error) {
	if len(b) < len(Preamble) {
		if bytes.HasPrefix(Preamble[:], b) {
			return nil, 0, frameErr(ErrShortFrame)
		}
		return nil, 0, frameErr(ErrNoPreamble)
	}
	if !bytes.Equal(b[:len(Preamble)], Preamble[:]) {
		return nil, 0, frameErr(ErrNoPreamble)
	}
	if len(b) < headerSize {
		return nil, 0, frameErr(ErrShortFrame)
	}
	// Parenthesised on purpose: a widely copied parser writes b[5] << 8 + b[6], which Go and C
	// both read as b[5] << (8 + b[6]).
	ln := (int(b[5]) << 8) | int(b[6])
	if ln < MinLen || ln > MaxLen {
		return nil, 0, &FrameError{Err: ErrBadLength, Got: ln, Want: -1}
	}
	end := headerSize + ln
	if len(b) < end {
		return nil, 0, &FrameError{Err: ErrShortFrame, Got: len(b), Want: end}
	}
	if got, want := b[end-1], xor(b[len(Preamble):end-1]); got != want {
		return nil, 0, &FrameError{Err: ErrChecksum, Got: int(got), Want: int(want)}
	}
	return b[headerSize : end-1], end, nil
}

// Decoder reads frames from a byte stream, skipping whatever comes before a preamble
// (line noise, the tail of a reply that arrived too late). After a bad frame it goes on
// scanning after that frame's preamble, so one corrupt frame costs one error.
//
// The reader should block until it has bytes or fail; a reader that keeps returning (0, nil)
// gets io.ErrNoProgress after 100 tries.
type Decoder struct {
	r   io.Reader
	buf []byte
	tmp []byte
	// MaxSkip is how many bytes Next skips looking for a preamble before it gives up with
	// ErrNoPreamble; 0 means MaxLen.
	MaxSkip int
	skipped int
}

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: r, tmp: make([]byte, 512)}
}

// Skipped is the number of bytes skipped while looking for preambles, since the Decoder began.
func (d *Decoder) Skipped() int { return d.skipped }

// Reset drops the bytes buffered but not yet decoded.
func (d *Decoder) Reset() { d.buf = d.buf[:0] }

// Buffered is the number of bytes read but not yet decoded.
func (d *Decoder) Buffered() int { return len(d.buf) }

func (d *Decoder) drop(n int) {
	d.buf = append(d.buf[:0], d.buf[n:]...)
}

// Next returns the body of the next frame (a fresh slice). Errors: a *FrameError for a bad
// frame (ErrBadLength, ErrChecksum, ErrNoPreamble; ErrShortFrame with the reader's error as
// Cause when the reader fails mid-frame), or the reader's own error between frames.
func (d *Decoder) Next() ([]byte, error) {
	maxSkip := d.MaxSkip
	if maxSkip <= 0 {
		maxSkip = MaxLen
	}
	skipped := 0
	empty := 0
	for {
		if i := bytes.Index(d.buf, Preamble[:]); i >= 0 {
			if i > 0 {
				skipped += i
				d.skipped += i
				d.drop(i)
			}
			body, n, err := DecodeFrame(d.buf)
			switch {
			case err == nil:
				out := bytes.Clone(body)
				d.drop(n)
				return out, nil
			case errors.Is(err, ErrChecksum):
				d.drop(headerSize + ((int(d.buf[5]) << 8) | int(d.buf[6])))
				return nil, err
			case errors.Is(err, ErrBadLength):
				d.drop(1)
				return nil, err
			}
			// ErrShortFrame: read on.
		} else {
			// Keep the longest tail that may be the start of a preamble.
			keep := 0
			for k := min(len(Preamble)-1, len(d.buf)); k > 0; k-- {
				if bytes.HasPrefix(Preamble[:], d.buf[len(d.buf)-k:]) {
					keep = k
					break
				}
			}
			n := len(d.buf) - keep
			skipped += n
			d.skipped += n
			d.drop(n)
		}
		if skipped > maxSkip {
			return nil, frameErr(ErrNoPreamble)
		}
		n, err := d.r.Read(d.tmp)
		d.buf = append(d.buf, d.tmp[:n]...)
		if err != nil {
			if n > 0 {
				continue // decode what came with the error first; the error comes back next read
			}
			if bytes.HasPrefix(d.buf, Preamble[:min(len(d.buf), len(Preamble))]) && len(d.buf) > 0 {
				fe := frameErr(ErrShortFrame)
				fe.Cause = err
				d.Reset()
				return nil, fe
			}
			return nil, err
		}
		if n == 0 {
			if empty++; empty >= 100 {
				return nil, io.ErrNoProgress
			}
		} else {
			empty = 0
		}
	}
}

// Reply is a SAM reply: SW3 and the data after it.
type Reply struct {
	Status Status
	Data   []byte
}

// ParseReply splits a reply frame body into status and data. A body shorter than SW1 SW2 SW3
// is ErrBadLength; SW1 SW2 other than 00 00 is ErrReplyHeader. A non-OK Status is not an error
// here: see Reply.Err.
func ParseReply(body []byte) (Reply, error) {
	if len(body) < 3 {
		return Reply{}, frameErr(ErrBadLength)
	}
	if body[0] != 0 || body[1] != 0 {
		return Reply{}, frameErr(ErrReplyHeader)
	}
	return Reply{Status: Status(body[2]), Data: body[3:]}, nil
}

// Err gives nil for StatusOK and StatusFound and the Status itself for the others.
func (r Reply) Err() error {
	if r.Status.OK() {
		return nil
	}
	return r.Status
}

// EncodeReply builds a whole reply frame (for simulators and tests).
func EncodeReply(st Status, data []byte) ([]byte, error) {
	return EncodeFrame(append([]byte{0, 0, byte(st)}, data...))
}
