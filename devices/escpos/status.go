package escpos

import (
	"fmt"
	"strings"
)

// Real-time status (DLE EOT n) reply bits. Every reply byte has bits 1 and 4 set and bits
// 0 and 7 clear; anything else is not a status byte (line noise, a late byte of another
// protocol, automatic status back).
const (
	statusFixedSet  = 0x12
	statusFixedMask = 0x93 // bits 0, 1, 4, 7

	st1Offline         = 0x08
	st1WaitingRecovery = 0x20

	st2CoverOpen  = 0x04
	st2FeedButton = 0x08
	st2PaperStop  = 0x20
	st2Error      = 0x40

	st3Cutter          = 0x08
	st3Unrecoverable   = 0x20
	st3AutoRecoverable = 0x40

	st4NearEnd  = 0x0C
	st4PaperEnd = 0x60
)

// Status is the printer state decoded from DLE EOT 1..4 replies. Fields whose reply was not
// read stay false; Have tells which replies were read.
type Status struct {
	// Have has bit n-1 set for each DLE EOT n whose reply was decoded.
	Have uint8
	// Raw holds the reply bytes, Raw[n-1] for DLE EOT n (0 when not read).
	Raw [4]byte

	Online          bool // n=1: bit 3 clear. 0x16 (drawer pin high) is online too.
	WaitingRecovery bool // n=1: waiting for online recovery
	CoverOpen       bool // n=2
	FeedButton      bool // n=2: paper being fed by the feed button (printer offline meanwhile)
	PaperEnd        bool // n=2 "printing stopped: paper end" or n=4 paper end sensor
	Error           bool // n=2: an error occurred (cause in n=3 fields)
	CutterError     bool // n=3
	Unrecoverable   bool // n=3
	AutoRecoverable bool // n=3: e.g. head too hot; clears by itself
	PaperNearEnd    bool // n=4: near-end sensor
}

// ParseStatus decodes replies, where replies[i] is the byte received for DLE EOT i+1.
// Fewer than four replies are accepted (the rest stay unknown). An empty slice, more than
// four bytes, or a byte without the fixed bits (0x12 set, 0x81 clear) is an error with
// CodeGarbled; the Status returned then holds the replies decoded before the bad one.
func ParseStatus(replies []byte) (Status, error) {
	var s Status
	if len(replies) == 0 || len(replies) > 4 {
		return s, &Error{Code: CodeGarbled, Op: "status", Err: fmt.Errorf("%d status replies, want 1..4", len(replies))}
	}
	for i, b := range replies {
		if b&statusFixedMask != statusFixedSet {
			return s, &Error{Code: CodeGarbled, Op: "status", Err: fmt.Errorf("reply 0x%02X to DLE EOT %d lacks the fixed bits", b, i+1)}
		}
		s.Have |= 1 << i
		s.Raw[i] = b
		switch i + 1 {
		case 1:
			s.Online = b&st1Offline == 0
			s.WaitingRecovery = b&st1WaitingRecovery != 0
		case 2:
			s.CoverOpen = b&st2CoverOpen != 0
			s.FeedButton = b&st2FeedButton != 0
			s.PaperEnd = s.PaperEnd || b&st2PaperStop != 0
			s.Error = b&st2Error != 0
		case 3:
			s.CutterError = b&st3Cutter != 0
			s.Unrecoverable = b&st3Unrecoverable != 0
			s.AutoRecoverable = b&st3AutoRecoverable != 0
		case 4:
			// Printers differ in whether they set one or both bits of each sensor pair.
			s.PaperNearEnd = b&st4NearEnd != 0
			s.PaperEnd = s.PaperEnd || b&st4PaperEnd != 0
		}
	}
	return s, nil
}

// State is the one-word summary of a Status, ordered from fine to worst-but-one; see
// Status.State for the precedence.
type State int

// States. StateOK and StatePaperLow can print; the others cannot.
const (
	StateOK State = iota
	StatePaperLow
	StatePaperOut
	StateCoverOpen
	StateError
	StateOffline
)

var stateNames = [...]string{"ok", "paper-low", "paper-out", "cover-open", "error", "offline"}

// String returns "ok", "paper-low", "paper-out", "cover-open", "error" or "offline";
// unknown values print as "state(N)".
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// CanPrint reports whether a job may be sent in this state (ok or paper-low).
func (s State) CanPrint() bool { return s == StateOK || s == StatePaperLow }

// Code returns the error code for a state that cannot print, CodeUnknown otherwise.
func (s State) Code() Code {
	switch s {
	case StatePaperOut:
		return CodePaperOut
	case StateCoverOpen:
		return CodeCoverOpen
	case StateError:
		return CodePrinterError
	case StateOffline:
		return CodeOffline
	}
	return CodeUnknown
}

// State summarises s. Precedence: cover open, paper out, error, offline, paper low, ok —
// the cause is reported rather than its consequence (a printer out of paper also sets the
// offline bit), and an open cover first because the paper sensor reads "end" while the
// cover is up. A Status with Have == 0 (nothing read) is StateOffline.
func (s Status) State() State {
	switch {
	case s.Have == 0:
		return StateOffline
	case s.CoverOpen:
		return StateCoverOpen
	case s.PaperEnd:
		return StatePaperOut
	case s.Error || s.CutterError || s.Unrecoverable || s.AutoRecoverable:
		return StateError
	case !s.Online || s.WaitingRecovery:
		return StateOffline
	case s.PaperNearEnd:
		return StatePaperLow
	}
	return StateOK
}

// String prints the state and the raw replies, e.g. "paper-out [1A 32 12 7E]"; unread
// replies print as "--".
func (s Status) String() string {
	var b strings.Builder
	b.WriteString(s.State().String())
	b.WriteString(" [")
	for i := range 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		if s.Have&(1<<i) == 0 {
			b.WriteString("--")
			continue
		}
		fmt.Fprintf(&b, "%02X", s.Raw[i])
	}
	b.WriteByte(']')
	return b.String()
}
