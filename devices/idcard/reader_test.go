package idcard_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"citizenhome/devices/idcard"
	"citizenhome/devices/idcard/samsim"
)

// rig connects a Reader to a Sim over net.Pipe.
func rig(t *testing.T, o idcard.Options) (*idcard.Reader, *samsim.Sim) {
	t.Helper()
	sim := samsim.New()
	sim.SetReadDelay(0, 0)
	a, b := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Serve(ctx, b) }()
	r := idcard.NewReader(idcard.ConnPort(a), o)
	t.Cleanup(func() {
		cancel()
		r.Close()
		b.Close()
		<-done
	})
	return r, sim
}

func sample(t *testing.T, key string) (samsim.Person, *idcard.Identity) {
	t.Helper()
	p, err := samsim.Sample(key)
	if err != nil {
		t.Fatal(err)
	}
	id, err := p.Identity()
	if err != nil {
		t.Fatal(err)
	}
	return p, id
}

func TestReaderReadsEveryLayout(t *testing.T) {
	r, sim := rig(t, idcard.Options{})
	ctx := context.Background()
	if err := r.SAMStatus(ctx); err != nil {
		t.Fatal(err)
	}
	if id, err := r.SAMID(ctx); err != nil || len(id) != 16 {
		t.Fatalf("SAM ID: %x %v", id, err)
	}
	for _, key := range []string{"elder", "adult", "foreigner", "hmt"} {
		p, want := sample(t, key)
		if err := sim.PlacePerson(p); err != nil {
			t.Fatal(err)
		}
		got, err := r.Read(ctx)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if !sameIdentity(*got, *want) {
			t.Errorf("%s:\n got %s\nwant %s", key, dump(*got), dump(*want))
		}
		if len(got.Photo) != samsim.PhotoSize {
			t.Errorf("%s: photo %d bytes", key, len(got.Photo))
		}
	}
	_, elder := sample(t, "elder")
	if elder.Age(time.Date(2026, 11, 27, 0, 0, 0, 0, time.Local)) != 70 {
		t.Error("the elder sample is not 70")
	}
}

func TestReaderNoCard(t *testing.T) {
	r, sim := rig(t, idcard.Options{})
	ctx := context.Background()
	_, err := r.Read(ctx)
	var ce *idcard.CommandError
	if !errors.Is(err, idcard.ErrNoCard) || !errors.As(err, &ce) || ce.Cmd != idcard.CmdFind {
		t.Fatalf("got %v, want ErrNoCard from find", err)
	}
	if sim.Count(idcard.CmdSelect) != 0 {
		t.Error("selected without a card")
	}
	if err := r.Select(ctx); !errors.Is(err, idcard.ErrSelectFailed) {
		t.Errorf("select: %v", err)
	}
	if _, err := r.Do(ctx, idcard.CmdRead); !errors.Is(err, idcard.ErrReadFailed) {
		t.Errorf("read: %v", err)
	}
	if _, err := r.Do(ctx, idcard.CmdReadAddress); !errors.Is(err, idcard.ErrNoItem) {
		t.Errorf("address: %v", err)
	}
	if _, err := r.Do(ctx, idcard.Command(0x7777)); !errors.Is(err, idcard.ErrBadCommand) {
		t.Errorf("unknown command: %v", err)
	}
}

// Every SW3 reaches the caller as its own error, from whichever command it answers.
func TestReaderStatusFaults(t *testing.T) {
	r, sim := rig(t, idcard.Options{})
	p, _ := sample(t, "adult")
	if err := sim.PlacePerson(p); err != nil {
		t.Fatal(err)
	}
	statuses := []idcard.Status{
		idcard.ErrNoItem, idcard.ErrNoCard, idcard.ErrSelectFailed, idcard.ErrReadFailed,
		idcard.ErrUnknownCardType, idcard.ErrCommandChecksum, idcard.ErrCommandLength, idcard.ErrBadCommand,
		idcard.ErrUnauthorized, idcard.ErrUnknown, idcard.ErrCardAuth, idcard.ErrSAMAuth, idcard.ErrVerify,
		idcard.ErrFingerprint, idcard.ErrInfoLength, idcard.ErrRandom, idcard.ErrSelfTest, idcard.ErrSAMNotAuthorized,
	}
	cmds := []idcard.Command{idcard.CmdFind, idcard.CmdSelect, idcard.CmdRead}
	for i, st := range statuses {
		cmd := cmds[i%len(cmds)]
		sim.Inject(samsim.Fault{Kind: samsim.FaultStatus, Cmd: cmd, Status: st})
		_, err := r.Read(context.Background())
		var ce *idcard.CommandError
		var got idcard.Status
		if !errors.Is(err, st) || !errors.As(err, &ce) || ce.Cmd != cmd || !errors.As(err, &got) || got != st {
			t.Errorf("%v on %v: got %v", st, cmd, err)
		}
	}
	if _, err := r.Read(context.Background()); err != nil {
		t.Fatalf("after the faults: %v", err)
	}
}

func TestReaderLineFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault samsim.Fault
		want  error // nil: the read succeeds anyway
	}{
		{"checksum", samsim.Fault{Kind: samsim.FaultChecksum, Cmd: idcard.CmdRead}, idcard.ErrChecksum},
		{"checksum on find", samsim.Fault{Kind: samsim.FaultChecksum, Cmd: idcard.CmdFind}, idcard.ErrChecksum},
		{"garbage", samsim.Fault{Kind: samsim.FaultGarbage, Cmd: idcard.CmdRead}, nil},
		{"garbage everywhere", samsim.Fault{Kind: samsim.FaultGarbage, Times: -1}, nil},
		{"garbage with a bad frame", samsim.Fault{Kind: samsim.FaultGarbage, Cmd: idcard.CmdSelect,
			Garbage: []byte{0xAA, 0xAA, 0xAA, 0x96, 0x69, 0xFF, 0xFF, 0x01}}, idcard.ErrBadLength},
		{"silence", samsim.Fault{Kind: samsim.FaultSilence, Cmd: idcard.CmdRead}, idcard.ErrTimeout},
		{"truncated", samsim.Fault{Kind: samsim.FaultTruncate, Cmd: idcard.CmdRead}, idcard.ErrShortFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, sim := rig(t, idcard.Options{Timeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond})
			p, want := sample(t, "hmt")
			if err := sim.PlacePerson(p); err != nil {
				t.Fatal(err)
			}
			sim.Inject(tt.fault)
			got, err := r.Read(context.Background())
			if tt.want == nil {
				if err != nil || !sameIdentity(*got, *want) {
					t.Fatalf("got %v", err)
				}
			} else if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if tt.name == "truncated" && !errors.Is(err, idcard.ErrTimeout) {
				t.Errorf("truncated frame should also say timeout: %v", err)
			}
			// The line is in step again for the next command.
			sim.ClearFaults()
			if got, err := r.Read(context.Background()); err != nil || !sameIdentity(*got, *want) {
				t.Fatalf("next read: %v", err)
			}
		})
	}
}

func TestReaderBadCard(t *testing.T) {
	r, sim := rig(t, idcard.Options{})
	_, id := sample(t, "adult")
	id.Number = "410203199105200137" // wrong check digit
	if err := sim.Place(id); err != nil {
		t.Fatal(err)
	}
	got, err := r.Read(context.Background())
	if !errors.Is(err, idcard.ErrCheckDigit) || got != nil {
		t.Fatalf("got %v %v, want ErrCheckDigit and no identity", got, err)
	}
}

func TestReaderCancel(t *testing.T) {
	r, sim := rig(t, idcard.Options{ReadTimeout: time.Hour})
	p, _ := sample(t, "elder")
	if err := sim.PlacePerson(p); err != nil {
		t.Fatal(err)
	}
	sim.Inject(samsim.Fault{Kind: samsim.FaultSilence, Cmd: idcard.CmdRead})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := r.Read(ctx); errc <- err }()
	waitFor(t, func() bool { return sim.Count(idcard.CmdRead) == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if _, err := r.Read(context.Background()); err != nil {
		t.Fatalf("after cancel: %v", err)
	}
}

// A card taken away while the SAM reads it fails the read, as on a real reader.
func TestReaderCardRemovedMidRead(t *testing.T) {
	r, sim := rig(t, idcard.Options{ReadTimeout: time.Minute})
	sim.SetReadDelay(time.Hour, time.Hour)
	p, _ := sample(t, "elder")
	if err := sim.PlacePerson(p); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { _, err := r.Read(context.Background()); errc <- err }()
	waitFor(t, func() bool { return sim.Count(idcard.CmdRead) == 1 })
	sim.Remove()
	if err := <-errc; !errors.Is(err, idcard.ErrReadFailed) {
		t.Fatalf("got %v", err)
	}
}

func TestReadUID(t *testing.T) {
	p, _ := sample(t, "elder")
	card, err := samsim.NewIDCardFor(p)
	if err != nil {
		t.Fatal(err)
	}
	uid, err := idcard.ReadUID(card)
	if err != nil || len(uid) != 8 || uid[0] != 0x5A || uid[7] != 0x78 {
		t.Fatalf("uid %X %v", uid, err)
	}
	if atr := card.ATR(); len(atr) == 0 || atr[0] != 0x3B {
		t.Errorf("ATR % X", atr)
	}
	// Wrong length UID from a strange card.
	if _, err := idcard.ReadUID(samsim.NewIDCard([]byte{1, 2, 3, 4})); err == nil {
		t.Error("4-byte UID accepted")
	} else {
		var swe *idcard.StatusWordError
		if !errors.As(err, &swe) || swe.SW != 0x6C04 {
			t.Errorf("short UID card: %v", err)
		}
	}
	card.Leave()
	if _, err := idcard.ReadUID(card); !errors.Is(err, idcard.ErrNoResponse) {
		t.Errorf("leaving: %v", err)
	}
	if _, err := idcard.ReadUID(card); !errors.Is(err, samsim.ErrRemoved) {
		t.Errorf("gone: %v", err)
	}
}

type fixedCard []byte

func (c fixedCard) Transmit([]byte) ([]byte, error) { return c, nil }

func TestReadUIDResponses(t *testing.T) {
	tests := []struct {
		resp []byte
		sw   uint16
		want error
	}{
		{[]byte{0x6D, 0x00}, 0x6D00, nil},
		{[]byte{0x90}, 0, idcard.ErrNoResponse},
		{[]byte{1, 2, 3, 0x90, 0x00}, 0, idcard.ErrBadLength},
	}
	for _, tt := range tests {
		_, err := idcard.ReadUID(fixedCard(tt.resp))
		var swe *idcard.StatusWordError
		switch {
		case tt.want != nil && !errors.Is(err, tt.want):
			t.Errorf("% X: got %v, want %v", tt.resp, err, tt.want)
		case tt.want == nil && (!errors.As(err, &swe) || swe.SW != tt.sw):
			t.Errorf("% X: got %v, want SW %04X", tt.resp, err, tt.sw)
		}
	}
}

// waitFor polls cond until it holds or a deadline passes: no fixed sleeps.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}
