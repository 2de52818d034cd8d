package escpos_test

import (
	"errors"
	"testing"

	"citizenhome/devices/escpos"
)

func TestParseStatus(t *testing.T) {
	for _, tc := range []struct {
		name    string
		replies []byte
		state   escpos.State
		check   func(s escpos.Status) bool
	}{
		{"all fine 0x12", []byte{0x12, 0x12, 0x12, 0x12}, escpos.StateOK, func(s escpos.Status) bool { return s.Online }},
		{"0x16 on n=1 is online (drawer pin), not an error", []byte{0x16, 0x12, 0x12, 0x12}, escpos.StateOK, func(s escpos.Status) bool { return s.Online && !s.Error }},
		{"reference out-of-paper example", []byte{0x1A, 0x32, 0x12, 0x7E}, escpos.StatePaperOut,
			func(s escpos.Status) bool { return !s.Online && s.PaperEnd && s.PaperNearEnd && !s.CoverOpen }},
		{"paper end from n=4 alone", []byte{0x16, 0x12, 0x12, 0x72}, escpos.StatePaperOut, func(s escpos.Status) bool { return s.PaperEnd }},
		{"paper end from n=2 alone", []byte{0x1A, 0x32}, escpos.StatePaperOut, func(s escpos.Status) bool { return s.PaperEnd }},
		{"near end both bits", []byte{0x16, 0x12, 0x12, 0x1E}, escpos.StatePaperLow, func(s escpos.Status) bool { return s.PaperNearEnd && !s.PaperEnd }},
		{"near end one bit", []byte{0x16, 0x12, 0x12, 0x16}, escpos.StatePaperLow, func(s escpos.Status) bool { return s.PaperNearEnd }},
		{"cover open: 0x16 on n=2 means cover", []byte{0x1E, 0x16, 0x12, 0x12}, escpos.StateCoverOpen, func(s escpos.Status) bool { return s.CoverOpen && !s.Online }},
		{"cover open wins over paper end", []byte{0x1E, 0x36, 0x12, 0x7E}, escpos.StateCoverOpen, func(s escpos.Status) bool { return s.CoverOpen && s.PaperEnd }},
		{"cutter error", []byte{0x1A, 0x52, 0x1A, 0x12}, escpos.StateError, func(s escpos.Status) bool { return s.Error && s.CutterError }},
		{"unrecoverable", []byte{0x1A, 0x52, 0x32, 0x12}, escpos.StateError, func(s escpos.Status) bool { return s.Unrecoverable }},
		{"head too hot", []byte{0x1A, 0x52, 0x52, 0x12}, escpos.StateError, func(s escpos.Status) bool { return s.AutoRecoverable }},
		{"offline without cause", []byte{0x1A, 0x12, 0x12, 0x12}, escpos.StateOffline, func(s escpos.Status) bool { return !s.Online }},
		{"waiting for recovery", []byte{0x32, 0x12, 0x12, 0x12}, escpos.StateOffline, func(s escpos.Status) bool { return s.WaitingRecovery && s.Online }},
		{"feed button", []byte{0x1A, 0x1A, 0x12, 0x12}, escpos.StateOffline, func(s escpos.Status) bool { return s.FeedButton }},
		{"only n=1 read", []byte{0x16}, escpos.StateOK, func(s escpos.Status) bool { return s.Have == 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := escpos.ParseStatus(tc.replies)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.State(); got != tc.state {
				t.Errorf("State() = %v, want %v (%v)", got, tc.state, s)
			}
			if !tc.check(s) {
				t.Errorf("fields wrong: %+v", s)
			}
			for i, b := range tc.replies {
				if s.Raw[i] != b || s.Have&(1<<i) == 0 {
					t.Errorf("reply %d not recorded: %+v", i+1, s)
				}
			}
		})
	}
}

func TestParseStatusGarbled(t *testing.T) {
	for _, replies := range [][]byte{
		nil,
		{0x12, 0x12, 0x12, 0x12, 0x12},
		{0x00},       // fixed 1 bits missing
		{0x10},       // bit 1 missing
		{0x02},       // bit 4 missing
		{0xFF},       // fixed 0 bits set
		{0x92},       // bit 7 set
		{0x13},       // bit 0 set
		{0x16, 0x41}, // second reply is an ASCII 'A'
	} {
		s, err := escpos.ParseStatus(replies)
		if !errors.Is(err, escpos.ErrGarbled) {
			t.Errorf("ParseStatus(% X) err = %v, want ErrGarbled", replies, err)
		}
		if len(replies) == 2 && s.Have != 1 {
			t.Errorf("replies before the garbled one should be kept: %+v", s)
		}
	}
}

func TestStatusString(t *testing.T) {
	s, _ := escpos.ParseStatus([]byte{0x1A, 0x32})
	if got, want := s.String(), "paper-out [1A 32 -- --]"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := (escpos.Status{}).State(); got != escpos.StateOffline {
		t.Errorf("empty Status is %v, want offline", got)
	}
}

func TestStateCodes(t *testing.T) {
	for st, want := range map[escpos.State]error{
		escpos.StatePaperOut:  escpos.ErrPaperOut,
		escpos.StateCoverOpen: escpos.ErrCoverOpen,
		escpos.StateError:     escpos.ErrPrinterError,
		escpos.StateOffline:   escpos.ErrOffline,
	} {
		if st.CanPrint() {
			t.Errorf("%v can print", st)
		}
		if err := (&escpos.Error{Code: st.Code()}); !errors.Is(err, want) {
			t.Errorf("%v code %v does not match %v", st, st.Code(), want)
		}
	}
	for _, st := range []escpos.State{escpos.StateOK, escpos.StatePaperLow} {
		if !st.CanPrint() || st.Code() != escpos.CodeUnknown {
			t.Errorf("%v: CanPrint %v Code %v", st, st.CanPrint(), st.Code())
		}
	}
}

// FuzzParseStatus: no panic, garbled exactly when a byte lacks the fixed bits, and the
// summary agrees with the bits.
func FuzzParseStatus(f *testing.F) {
	for _, seed := range [][]byte{{0x12}, {0x16, 0x12, 0x12, 0x12}, {0x1A, 0x32, 0x12, 0x7E}, {0x1E, 0x16}, {0xFF}, {}, {0x12, 0x12, 0x12, 0x12, 0x12}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, replies []byte) {
		s, err := escpos.ParseStatus(replies)
		valid := len(replies) >= 1 && len(replies) <= 4
		for _, b := range replies {
			valid = valid && b&0x93 == 0x12
		}
		if valid != (err == nil) {
			t.Fatalf("ParseStatus(% X) err = %v, valid = %v", replies, err, valid)
		}
		if err != nil {
			if !errors.Is(err, escpos.ErrGarbled) {
				t.Fatalf("error %v is not ErrGarbled", err)
			}
			return
		}
		st := s.State()
		if st.CanPrint() && (s.PaperEnd || s.CoverOpen || !s.Online) {
			t.Fatalf("%v can print although %+v", st, s)
		}
		if len(replies) >= 2 && replies[1]&0x20 != 0 && st == escpos.StateOK {
			t.Fatalf("paper stop bit set but state ok: % X", replies)
		}
		if st == escpos.StateOK && s.PaperNearEnd {
			t.Fatalf("near end not reported: % X", replies)
		}
	})
}
