package agent

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"citizenhome/devices/escpos"
	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/store"
	"citizenhome/telemetry/link"
	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/wire"
)

// Kiosk ids of the shared broker used by this package: k01-k19 (other packages use others).
var sharedIDs = struct {
	sync.Mutex
	next int
}{next: 1}

// sharedKiosk returns the shared broker and a kiosk id of this package no other test uses,
// with nothing retained under it.
func sharedKiosk(t *testing.T) (mqtttest.Env, string) {
	t.Helper()
	env := mqtttest.Shared(t)
	sharedIDs.Lock()
	n := sharedIDs.next
	sharedIDs.next++
	sharedIDs.Unlock()
	if n > 19 {
		t.Fatal("this package has used up its shared kiosk ids k01-k19")
	}
	id := "k" + string(rune('0'+n/10)) + string(rune('0'+n%10))
	mqtttest.ClearRetained(t, env, id)
	return env, id
}

func okStatus() escpos.Status { return escpos.Status{Have: 0x0f, Online: true} }

func quietLog() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newKiosk builds a real core over a store at path ("" = a new temporary one), serving at any
// hour; p may be nil (no printer).
func newKiosk(t testing.TB, hall, id, path string, p kiosk.Printer) (*kiosk.Kiosk, *store.Store) {
	t.Helper()
	cfg := config.Default()
	cfg.Hall.ID, cfg.Kiosk.ID = hall, id
	cfg.Hours.Weekday = []string{"00:00-23:59"}
	cfg.Hours.Weekend = []string{"00:00-23:59"}
	if path == "" {
		path = filepath.Join(t.TempDir(), "kiosk.db")
	}
	cfg.Kiosk.Store = path
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var pr kiosk.Printer
	if p != nil {
		pr = p
	}
	k, err := kiosk.New(context.Background(), kiosk.Options{Config: cfg, Store: st,
		Catalog: catalog.NewHolder(catalog.Demo()), Printer: pr, Log: quietLog(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return k, st
}

func newAgent(t testing.TB, k *kiosk.Kiosk, st *store.Store, ls link.Settings, mod func(*Options)) *Agent {
	t.Helper()
	o := Options{Kiosk: k, Store: st, Link: ls, Log: quietLog(), Version: "test", RetryMin: 50 * time.Millisecond, RetryMax: 500 * time.Millisecond}
	if mod != nil {
		mod(&o)
	}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func startAgent(t testing.TB, a *Agent) {
	t.Helper()
	a.Start(context.Background())
	t.Cleanup(func() { _ = a.Close() })
}

// decoded message helpers

func states(ms []mqtttest.Msg, root string) []wire.State {
	var out []wire.State
	for _, m := range ms {
		if m.Topic == root+"/state" && len(m.Payload) > 0 {
			var s wire.State
			if json.Unmarshal(m.Payload, &s) == nil {
				out = append(out, s)
			}
		}
	}
	return out
}

func hasState(ms []mqtttest.Msg, root, state string, boot int64) bool {
	for _, s := range states(ms, root) {
		if s.State == state && (boot == 0 || s.Boot == boot) {
			return true
		}
	}
	return false
}

func lastState(ms []mqtttest.Msg, root string) wire.State {
	ss := states(ms, root)
	if len(ss) == 0 {
		return wire.State{}
	}
	return ss[len(ss)-1]
}

func events(ms []mqtttest.Msg, root string) []wire.Event {
	var out []wire.Event
	for _, m := range ms {
		if m.Topic == root+"/event" {
			var e wire.Event
			if json.Unmarshal(m.Payload, &e) == nil && e.ID != "" {
				out = append(out, e)
			}
		}
	}
	return out
}

func replies(ms []mqtttest.Msg, root string) map[string][]wire.Reply {
	out := map[string][]wire.Reply{}
	for _, m := range ms {
		if m.Topic == root+"/reply" {
			var r wire.Reply
			if json.Unmarshal(m.Payload, &r) == nil {
				out[r.ID] = append(out[r.ID], r)
			}
		}
	}
	return out
}

func statuses(ms []mqtttest.Msg, root string) []wire.Status {
	var out []wire.Status
	for _, m := range ms {
		if m.Topic == root+"/status" && len(m.Payload) > 0 {
			var s wire.Status
			if json.Unmarshal(m.Payload, &s) == nil {
				out = append(out, s)
			}
		}
	}
	return out
}

// staffClient connects the staff account (to send commands).
func staffClient(t testing.TB, env mqtttest.Env) paho.Client {
	t.Helper()
	o, err := env.Staff().Options()
	if err != nil {
		t.Fatal(err)
	}
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("staff connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c
}

func sendCmd(t testing.TB, c paho.Client, root string, cmd any) {
	t.Helper()
	var b []byte
	switch v := cmd.(type) {
	case string:
		b = []byte(v)
	default:
		b, _ = json.Marshal(v)
	}
	if tok := c.Publish(root+"/cmd", 1, false, b); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish cmd: %v", tok.Error())
	}
}

func cmd(id, name string, args any) map[string]any {
	m := map[string]any{"id": id, "name": name, "by": "test-ops", "expires": time.Now().Add(time.Minute).Format(time.RFC3339)}
	if args != nil {
		m["args"] = args
	}
	return m
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// hall is the staff handle of a hall command, for a test that acts as the hall would without
// sending one (it writes no audit row, as the command pipeline would).
func hall(k *kiosk.Kiosk) *kiosk.StaffHandle { return k.Staff(kiosk.Remote("test-ops")) }
