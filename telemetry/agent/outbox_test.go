package agent

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"citizenhome/kiosk/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestOutbox(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	o := NewOutbox(st, func() time.Time { return time.Unix(1764030000, 0) })
	for i, typ := range []string{"a.one", "b.two", "c.three"} {
		if err := o.Add(ctx, typ, map[string]int{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-o.Wake():
	default:
		t.Error("no wake-up after Add")
	}
	// A transaction that rolls back takes its event with it.
	boom := errors.New("boom")
	err := st.Tx(ctx, func(tx *sql.Tx) error {
		if err := o.RecordEvent(tx, "d.rolled-back", nil); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	es, err := o.Pending(ctx, 0, 10)
	if err != nil || len(es) != 3 || es[0].Type != "a.one" || es[2].Type != "c.three" || string(es[1].Data) != `{"i":1}` || es[0].ID == es[1].ID || len(es[0].ID) != 32 {
		t.Fatalf("Pending: %+v %v", es, err)
	}
	if es2, _ := o.Pending(ctx, es[0].Seq, 1); len(es2) != 1 || es2[0].ID != es[1].ID {
		t.Errorf("Pending after the first, limit 1: %+v", es2)
	}
	if err := o.Delete(ctx, es[1].Seq); err != nil {
		t.Fatal(err)
	}
	if n, _ := o.Len(ctx); n != 1 {
		t.Errorf("Len after deleting two: %d", n)
	}
	// A new event after deleting the newest keeps growing seq (AUTOINCREMENT): order holds.
	o.Delete(ctx, es[2].Seq)
	o.Add(ctx, "e.after", nil)
	if es3, _ := o.Pending(ctx, 0, 10); len(es3) != 1 || es3[0].Seq <= es[2].Seq || string(es3[0].Data) != "{}" {
		t.Errorf("after emptying: %+v", es3)
	}
	for _, bad := range []struct {
		typ  string
		data any
	}{
		{"", nil}, {"has space", nil}, {"类型", nil}, {"x", []int{1}}, {"x", "s"}, {"x", 3}, {"x", func() {}},
		{"x", map[string]string{"big": string(make([]byte, MaxEventData))}},
	} {
		if err := o.Add(ctx, bad.typ, bad.data); !errors.Is(err, ErrEvent) {
			t.Errorf("Add(%q, %T) = %v, want ErrEvent", bad.typ, bad.data, err)
		}
	}
}

func TestNextBoot(t *testing.T) {
	st := openStore(t)
	for want := int64(1); want <= 3; want++ {
		if b, err := NextBoot(context.Background(), st); err != nil || b != want {
			t.Fatalf("NextBoot = %d, %v; want %d", b, err, want)
		}
	}
}

type fakeToken struct {
	done chan struct{}
	err  error
}

func (f *fakeToken) Wait() bool                     { <-f.done; return true }
func (f *fakeToken) WaitTimeout(time.Duration) bool { <-f.done; return true }
func (f *fakeToken) Done() <-chan struct{}          { return f.done }
func (f *fakeToken) Error() error                   { return f.err }

// A token is proof of the broker's acknowledgement only if it completed without error in a
// session that was not lost meanwhile.
func TestAckedIsProofOnlyInItsSession(t *testing.T) {
	ctx := context.Background()
	newConn := func() *conn { return &conn{lost: make(chan struct{})} }
	done := func(err error) *fakeToken {
		t := &fakeToken{done: make(chan struct{}), err: err}
		close(t.done)
		return t
	}
	if err := newConn().acked(ctx, done(nil), time.Second); err != nil {
		t.Errorf("completed token in a live session: %v", err)
	}
	if err := newConn().acked(ctx, done(errors.New("x")), time.Second); err == nil {
		t.Error("a failed token counted")
	}
	c := newConn()
	c.fail(errors.New("connection lost"))
	if err := c.acked(ctx, done(nil), time.Second); !errors.Is(err, errLost) {
		t.Errorf("a token completed after the session was lost counted: %v", err)
	}
	c = newConn()
	pending := &fakeToken{done: make(chan struct{})}
	go c.fail(errors.New("connection lost"))
	if err := c.acked(ctx, pending, 5*time.Second); !errors.Is(err, errLost) {
		t.Errorf("a token pending when the session was lost: %v", err)
	}
	if err := newConn().acked(ctx, &fakeToken{done: make(chan struct{})}, 10*time.Millisecond); err == nil {
		t.Error("a token that never completes counted")
	}
}
