package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"citizenhome/kiosk/config"
	"citizenhome/kiosk/payment"
)

func TestStaffAuditLog(t *testing.T) {
	hash, err := config.HashPIN("246810")
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, func(c *config.Config) { c.Staff.PINHash = hash; c.Staff.Cards = []string{"04A1B2C3"} })
	ctx := context.Background()
	step := func() { r.clock.Set(r.clock.Now().Add(time.Second)) } // one instant per row: a stable order

	type row struct{ name, by, err string }
	var want []row
	login := r.k.StaffLogin()
	if _, err := login.PIN("111111"); !errors.Is(err, ErrStaffPIN) {
		t.Fatalf("wrong PIN: %v", err)
	}
	want = append(want, row{AuditStaffLoginFailed, "staff-pin", "wrong staff PIN"})
	step()
	byPIN, err := login.PIN("246810")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, row{AuditStaffLogin, "staff-pin", ""})
	step()
	if h, err := login.Card("deadbeef", "246810"); !errors.Is(err, ErrNotStaffCard) || h != nil {
		t.Fatalf("citizen card: %v", err)
	}
	if _, err := login.Card("", "246810"); !errors.Is(err, ErrNotStaffCard) {
		t.Fatalf("no UID: %v", err)
	}
	byCard, err := login.Card("04a1b2c3", "246810")
	if err != nil {
		t.Fatalf("staff card: %v", err)
	}
	want = append(want, row{AuditStaffLogin, "staff-card", ""})
	step()
	byCard.Lock(ctx, "维护中")
	if locked, msg := r.k.Locked(); !locked || msg != "维护中" {
		t.Errorf("StaffLock: %v %q", locked, msg)
	}
	want = append(want, row{AuditStaffLock, "staff-card", ""})
	step()
	byCard.Unlock(ctx)
	if locked, _ := r.k.Locked(); locked {
		t.Error("StaffUnlock left the kiosk locked")
	}
	want = append(want, row{AuditStaffUnlock, "staff-card", ""})
	step()
	r.k.Sessions().Touch()
	byCard.Reset(ctx)
	if _, ok := r.k.Sessions().Active(); ok {
		t.Error("StaffReset left the session")
	}
	want = append(want, row{AuditStaffReset, "staff-card", ""})
	step()
	if _, err := byCard.Reprint(ctx, LastTicket); err == nil {
		t.Fatal("reprint with no ticket today succeeded")
	}
	want = append(want, row{AuditStaffReprint, "staff-card", "?"})
	step()
	if s, err := byPIN.SelfTest(ctx); err != nil || s != StateOK {
		t.Fatalf("self test: %v %v", s, err)
	}
	want = append(want, row{AuditStaffSelfTest, "staff-pin", ""})
	step()
	if s := byPIN.PaperReplaced(ctx); s != StateOK {
		t.Fatalf("paper: %v", s)
	}
	want = append(want, row{AuditStaffPaper, "staff-pin", ""})
	step()
	byPIN.Logout(ctx)
	want = append(want, row{AuditStaffLogout, "staff-pin", ""})
	step()
	byPIN.Quit(ctx)
	want = append(want, row{AuditStaffQuit, "staff-pin", ""})

	got, err := byPIN.AuditLog(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d audit rows, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[len(got)-1-i] // newest first
		if g.Name != w.name || g.By != w.by || !g.Executed || !g.Staff() {
			t.Errorf("row %d: %+v, want %+v", i, g, w)
		}
		switch w.err {
		case "":
			if !g.OK || g.Error != "" {
				t.Errorf("row %d (%s) not ok: %q", i, g.Name, g.Error)
			}
		case "?":
			if g.OK || g.Error == "" {
				t.Errorf("row %d (%s) is ok", i, g.Name)
			}
		default:
			if g.OK || g.Error != w.err {
				t.Errorf("row %d (%s): ok %v error %q, want %q", i, g.Name, g.OK, g.Error, w.err)
			}
		}
		if !strings.HasPrefix(g.ID, "staff-") || len(g.ID) != len("staff-")+16 {
			t.Errorf("row %d id %q", i, g.ID)
		}
		if !json.Valid([]byte(g.Args)) {
			t.Errorf("row %d args %q", i, g.Args)
		}
		if strings.Contains(g.Args, "246810") || strings.Contains(g.Error, "246810") || strings.Contains(g.Args, "111111") {
			t.Errorf("row %d holds a PIN: %+v", i, g)
		}
	}
	if got[len(got)-4].Args != `{"message":"维护中"}` {
		t.Errorf("lock args %q", got[len(got)-4].Args)
	}
	var reply string
	if err := r.k.store.DB().QueryRow(`SELECT reply FROM command_audit WHERE name = ?`, AuditStaffQuit).Scan(&reply); err != nil || reply != "{}" {
		t.Errorf("reply %q %v", reply, err)
	}
	last, err := byCard.AuditLog(ctx, 3)
	if err != nil || len(last) != 3 || last[0].Name != AuditStaffQuit || last[2].Name != AuditStaffPaper {
		t.Errorf("last 3: %+v %v", last, err)
	}
	if none, err := byCard.AuditLog(ctx, 0); err != nil || none != nil {
		t.Errorf("AuditLog(0): %v %v", none, err)
	}
}

func TestStaffLockoutIsAudited(t *testing.T) {
	hash, err := config.HashPIN("246810")
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, func(c *config.Config) { c.Staff.PINHash = hash; c.Staff.Cards = []string{"04A1B2C3"} })
	login := r.k.StaffLogin()
	for range StaffMaxTries {
		login.PIN("000000")
	}
	if _, err := login.PIN("246810"); !errors.Is(err, ErrStaffLockedOut) {
		t.Fatalf("locked out: %v", err)
	}
	// The card does not get around the lockout: with it, the PIN is guessed no faster.
	if _, err := login.Card("04A1B2C3", "246810"); !errors.Is(err, ErrStaffLockedOut) {
		t.Fatalf("staff card during the lockout: %v", err)
	}
	r.clock.Set(r.clock.Now().Add(StaffLockoutFirst))
	byCard, err := login.Card("04A1B2C3", "246810")
	if err != nil {
		t.Fatalf("staff card after the lockout: %v", err)
	}
	rows, err := byCard.AuditLog(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	failed, lockedOut := 0, 0
	for _, e := range rows {
		if e.Name == AuditStaffLoginFailed {
			failed++
			if strings.Contains(e.Error, ErrStaffLockedOut.Error()) {
				lockedOut++
			}
		}
	}
	if failed != StaffMaxTries+2 || lockedOut != 3 || len(rows) != StaffMaxTries+3 {
		t.Errorf("%d rows, %d failed, %d locked out: %+v", len(rows), failed, lockedOut, rows)
	}
}

func TestStaffNoPINIsAudited(t *testing.T) {
	r := newRig(t, nil)
	if _, err := r.k.StaffLogin().PIN("1"); !errors.Is(err, ErrStaffNoPIN) {
		t.Fatal(err)
	}
	rows, err := r.k.Staff(LocalAPI).AuditLog(context.Background(), 20)
	if err != nil || len(rows) != 1 || rows[0].Name != AuditStaffLoginFailed || rows[0].OK {
		t.Errorf("%+v %v", rows, err)
	}
}

// TestStaffReprintReceipt: a receipt the printer failed after the debit is listed for staff,
// reprinted through the printer on their action and then no longer listed; every attempt, an
// unknown payment and a still jammed printer included, is a row of the audit log.
func TestStaffReprintReceipt(t *testing.T) {
	p := newPayRig(t, nil)
	ctx := context.Background()
	step := func() { p.clock.Set(p.clock.Now().Add(time.Second)) }
	p.p.Set(okStatus, nil, errors.New("paper jam"))
	paid, err := p.pay.Pay(ctx, paidMatter)
	if err != nil || paid.PrintErr == nil || paid.Payment.Receipt != payment.ReceiptFailed {
		t.Fatalf("pay with a jammed printer: %v %+v", err, paid)
	}
	txn := paid.Payment.Txn()
	byCard, byPIN := p.k.Staff(onSite(StaffByCard)), p.k.Staff(onSite(StaffByPIN))
	due, err := byCard.ReceiptsUnprinted(ctx)
	if err != nil || len(due) != 1 || due[0].ID != paid.Payment.ID || due[0].CardMasked != "3104********5678" {
		t.Fatalf("receipts unprinted: %+v %v", due, err)
	}

	type row struct {
		ok   bool
		args string
	}
	var want []row
	step()
	if _, err := byCard.ReprintReceipt(ctx, 999); !errors.Is(err, payment.ErrNotFound) {
		t.Fatalf("unknown payment: %v", err)
	}
	want = append(want, row{false, `{"payment":"999"}`})
	step()
	e, err := byCard.ReprintReceipt(ctx, paid.Payment.ID)
	if err == nil || e.Receipt != payment.ReceiptFailed {
		t.Fatalf("reprint on a jammed printer: %v %v", e, err)
	}
	want = append(want, row{false, `{"payment":"1","txn":"` + txn + `"}`})
	if p.p.Printed() != 0 {
		t.Fatalf("%d jobs printed by a jammed printer", p.p.Printed())
	}
	p.p.Set(okStatus, nil, nil)
	step()
	e, err = byPIN.ReprintReceipt(ctx, paid.Payment.ID)
	if err != nil || e.Receipt != payment.ReceiptPrinted || e.ReceiptAt.IsZero() {
		t.Fatalf("reprint: %v %v", e, err)
	}
	want = append(want, row{true, `{"payment":"1","txn":"` + txn + `"}`})
	if p.p.Printed() != 1 || !strings.Contains(docText(p.p.Doc(0)), txn) {
		t.Fatalf("%d jobs; the receipt does not carry %s", p.p.Printed(), txn)
	}
	if due, err := byPIN.ReceiptsUnprinted(ctx); err != nil || len(due) != 0 {
		t.Errorf("still unprinted after the reprint: %+v %v", due, err)
	}

	rows, err := byPIN.AuditLog(ctx, 10)
	if err != nil || len(rows) != len(want) {
		t.Fatalf("audit %+v %v", rows, err)
	}
	for i, w := range want {
		g := rows[len(rows)-1-i]
		if g.Name != AuditStaffReceipt || g.OK != w.ok || g.Args != w.args || (g.Error == "") != w.ok {
			t.Errorf("row %d: %+v, want %+v", i, g, w)
		}
	}
	if rows[0].By != string(StaffByPIN) || rows[1].By != string(StaffByCard) {
		t.Errorf("by %q %q", rows[0].By, rows[1].By)
	}
	if !strings.Contains(rows[2].Error, "no such payment") {
		t.Errorf("unknown payment logged as %q", rows[2].Error)
	}
}

// Only today's payments are listed: the report of a day is the day of the intent.
func TestStaffReceiptsUnprintedToday(t *testing.T) {
	p := newPayRig(t, nil)
	ctx := context.Background()
	p.p.Set(okStatus, nil, errors.New("paper jam"))
	if _, err := p.pay.Pay(ctx, paidMatter); err != nil {
		t.Fatal(err)
	}
	staff := p.k.Staff(onSite(StaffByPIN))
	if due, err := staff.ReceiptsUnprinted(ctx); err != nil || len(due) != 1 {
		t.Fatalf("today: %v %v", due, err)
	}
	p.clock.Set(p.clock.Now().Add(24 * time.Hour))
	if due, err := staff.ReceiptsUnprinted(ctx); err != nil || len(due) != 0 {
		t.Errorf("the next day: %v %v", due, err)
	}
	r := newRig(t, nil)
	staff = r.k.Staff(onSite(StaffByPIN))
	if _, err := staff.ReceiptsUnprinted(ctx); !errors.Is(err, ErrNoPayments) {
		t.Errorf("no payments: %v", err)
	}
	if _, err := staff.ReprintReceipt(ctx, 1); !errors.Is(err, ErrNoPayments) {
		t.Errorf("no payments: %v", err)
	}
	if rows, _ := staff.AuditLog(ctx, 10); len(rows) != 1 || rows[0].OK {
		t.Errorf("audit without payments: %+v", rows)
	}
}

// A reset on site reaches the hall as the remote one does: a kiosk.reset event, in the audit
// row's transaction, naming staff as who did it.
func TestStaffResetIsAnEvent(t *testing.T) {
	r := newRig(t, nil)
	ev := &events{}
	r.k.SetEventRecorder(ev)
	r.k.Staff(onSite(StaffByPIN)).Lock(context.Background(), "")
	r.k.Staff(onSite(StaffByCard)).Reset(context.Background())
	if n := ev.count("kiosk.reset"); n != 1 {
		t.Fatalf("%d kiosk.reset events for one staff reset (events %v)", n, ev.types)
	}
	ev.mu.Lock()
	d, _ := ev.data[len(ev.data)-1].(map[string]string)
	ev.mu.Unlock()
	if d["by"] != "staff-card" || !strings.HasPrefix(d["audit"], "staff-") {
		t.Errorf("kiosk.reset data %v", d)
	}
}
