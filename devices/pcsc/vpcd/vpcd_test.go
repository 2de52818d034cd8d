package vpcd_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/idcard/samsim"
	"citizenhome/devices/pcsc/vpcd"
)

// driver plays the vpcd side: it listens, accepts the card, and asks it things.
type driver struct {
	t     *testing.T
	ln    net.Listener
	conns chan net.Conn
}

func newDriver(t *testing.T) *driver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &driver{t: t, ln: ln, conns: make(chan net.Conn, 4)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d.conns <- c
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return d
}

func (d *driver) accept() net.Conn {
	d.t.Helper()
	select {
	case c := <-d.conns:
		d.t.Cleanup(func() { c.Close() })
		return c
	case <-time.After(5 * time.Second):
		d.t.Fatal("the card did not connect")
	}
	return nil
}

func send(t *testing.T, c net.Conn, payload []byte) {
	t.Helper()
	msg := binary.BigEndian.AppendUint16(nil, uint16(len(payload)))
	// The real driver writes length and payload separately.
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(payload); err != nil {
		t.Fatal(err)
	}
}

// recv reads one message; nil at EOF.
func recv(t *testing.T, c net.Conn) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var hdr [2]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		t.Fatalf("recv: %v", err)
	}
	b := make([]byte, binary.BigEndian.Uint16(hdr[:]))
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("recv: %v", err)
	}
	return b
}

func ask(t *testing.T, c net.Conn, payload []byte) []byte {
	t.Helper()
	send(t, c, payload)
	return recv(t, c)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSlotServesModel(t *testing.T) {
	d := newDriver(t)
	s := vpcd.NewSlot(d.ln.Addr().String())
	card, _ := cardsim.New(cardsim.Sample())
	if err := s.Insert(card); err != nil {
		t.Fatal(err)
	}
	c := d.accept()
	send(t, c, []byte{vpcd.CtrlPowerOn}) // no reply
	send(t, c, []byte{vpcd.CtrlReset})   // no reply
	if atr := ask(t, c, []byte{vpcd.CtrlGetATR}); !bytes.Equal(atr, cardsim.DefaultATR) {
		t.Errorf("ATR % X", atr)
	}
	resp := ask(t, c, citycard.SelectPSEAPDU())
	if len(resp) < 2 || !bytes.Equal(resp[len(resp)-2:], []byte{0x90, 0x00}) {
		t.Errorf("PSE: % X", resp)
	}
	if s.APDUs() != 1 || s.ATRRequests() != 1 || !s.Inserted() || !s.Connected() || s.Dials() != 1 {
		t.Errorf("apdus %d atrs %d inserted %v connected %v dials %d", s.APDUs(), s.ATRRequests(), s.Inserted(), s.Connected(), s.Dials())
	}
	if err := s.Insert(card); !errors.Is(err, vpcd.ErrInserted) {
		t.Errorf("second insert: %v", err)
	}
	if err := s.Remove(); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, c); got != nil {
		t.Errorf("after Remove the line still answers: % X", got)
	}
	if s.Inserted() || s.Err() != nil {
		t.Errorf("removed: inserted %v err %v", s.Inserted(), s.Err())
	}
	if err := s.Remove(); !errors.Is(err, vpcd.ErrNotInserted) {
		t.Errorf("second remove: %v", err)
	}
}

// A model that leaves mid-command: no answer, the line drops, the card is gone for good.
func TestSlotCardLeaves(t *testing.T) {
	for name, leave := range map[string]func() vpcd.Model{
		"empty response": func() vpcd.Model {
			c := samsim.NewIDCard(make([]byte, 8))
			c.Leave()
			return c
		},
		"error": func() vpcd.Model {
			c, _ := cardsim.New(cardsim.Sample())
			c.Leave()
			return c
		},
	} {
		d := newDriver(t)
		s := vpcd.NewSlot(d.ln.Addr().String())
		if err := s.Insert(leave()); err != nil {
			t.Fatal(err)
		}
		c := d.accept()
		if got := ask(t, c, []byte{0x00, 0x36, 0x00, 0x00, 0x08}); got != nil {
			t.Errorf("%s: answered % X", name, got)
		}
		waitFor(t, name+": slot empty", func() bool { return !s.Inserted() })
		if !errors.Is(s.Err(), vpcd.ErrLeft) {
			t.Errorf("%s: err %v", name, s.Err())
		}
		select {
		case <-d.conns:
			t.Errorf("%s: a card that left dialled again", name)
		case <-time.After(20 * time.Millisecond):
		}
		if err := s.Remove(); err != nil {
			t.Errorf("%s: remove after leaving: %v", name, err)
		}
	}
}

// pcscd restarting drops the line: the card is still on the reader and dials again.
func TestSlotSurvivesDriverRestart(t *testing.T) {
	d := newDriver(t)
	s := vpcd.NewSlot(d.ln.Addr().String())
	if err := s.Insert(samsim.NewIDCard([]byte{1, 2, 3, 4, 5, 6, 7, 8})); err != nil {
		t.Fatal(err)
	}
	c := d.accept()
	c.Close()
	c2 := d.accept()
	if atr := ask(t, c2, []byte{vpcd.CtrlGetATR}); !bytes.Equal(atr, samsim.ATR) {
		t.Errorf("ATR after redial: % X", atr)
	}
	if s.Dials() != 2 || !s.Inserted() {
		t.Errorf("dials %d inserted %v", s.Dials(), s.Inserted())
	}
	// A control the protocol does not have: the line is dropped and dialled again.
	send(t, c2, []byte{9})
	c3 := d.accept()
	if got := ask(t, c3, []byte{0x00, 0x36, 0x00, 0x00, 0x08}); !bytes.Equal(got, []byte{1, 2, 3, 4, 5, 6, 7, 8, 0x90, 0x00}) {
		t.Errorf("UID after redial: % X", got)
	}
	// Remove while the driver is away: no more dialling.
	d.ln.Close()
	c3.Close()
	waitFor(t, "disconnected", func() bool { return !s.Connected() })
	if err := s.Remove(); err != nil {
		t.Fatal(err)
	}
}

func TestSlotNothingListening(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	s := vpcd.NewSlot(addr)
	if err := s.Insert(samsim.NewIDCard(make([]byte, 8))); err == nil {
		t.Fatal("inserted with nothing listening")
	}
	if s.Inserted() {
		t.Error("inserted after a failed Insert")
	}
	if err := s.Insert(nil); err == nil {
		t.Error("nil model accepted")
	}
}
