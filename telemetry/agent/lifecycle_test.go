package agent

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/kiosk"
	"citizenhome/kiosk/kiosktest"
	"citizenhome/telemetry/link"
	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/wire"
)

// The child process: a kiosk with telemetry that a test can kill with SIGKILL. It is this test
// binary run again with CITIZENHOME_TELEMETRY_CHILD set (see startChild).
const childEnv = "CITIZENHOME_TELEMETRY_CHILD"

type childSpec struct {
	Hall, Kiosk, Store string
	Link               link.Settings
	// Produce events {"n": i} for i in [From, From+Count), one every Every, while connected or
	// not; then keep running.
	From, Count int
	Every       time.Duration
	// Batch writes the Count events at once, 100 per transaction, so the outbox holds a backlog.
	Batch bool
}

func TestHelperChildKiosk(t *testing.T) {
	raw := os.Getenv(childEnv)
	if raw == "" {
		t.Skip("helper process for the kill tests")
	}
	var spec childSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		t.Fatal(err)
	}
	k, st := newKiosk(t, spec.Hall, spec.Kiosk, spec.Store, nil)
	a := newAgent(t, k, st, spec.Link, nil)
	ctx, stop := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 1)
	signalNotify(sig)
	go func() { <-sig; stop() }()
	done := make(chan struct{})
	go func() { defer close(done); _ = a.Run(ctx) }()
	if spec.Batch {
		for i := spec.From; i < spec.From+spec.Count; i += 100 {
			err := st.Tx(ctx, func(tx *sql.Tx) error {
				for j := i; j < min(i+100, spec.From+spec.Count); j++ {
					if err := a.Outbox().RecordEvent(tx, wire.EventTelemetryTestEvent, map[string]int{"n": j}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
			fmt.Printf("produced %d\n", min(i+100, spec.From+spec.Count)-1)
		}
		spec.Count = 0
	}
	for i := spec.From; i < spec.From+spec.Count && ctx.Err() == nil; i++ {
		if err := a.Outbox().Add(ctx, wire.EventTelemetryTestEvent, map[string]int{"n": i}); err != nil {
			t.Error(err)
		}
		fmt.Printf("produced %d\n", i)
		if spec.Every > 0 {
			time.Sleep(spec.Every) // pacing the producer, not synchronisation
		}
	}
	fmt.Println("production done")
	<-done
	fmt.Println("planned shutdown done")
}

type child struct {
	cmd      *exec.Cmd
	produced chan int
	exited   chan struct{}
}

func startChild(t *testing.T, spec childSpec) *child {
	t.Helper()
	b, _ := json.Marshal(spec)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperChildKiosk$", "-test.v=false")
	cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, produced: make(chan int, 100000), exited: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if n, ok := strings.CutPrefix(sc.Text(), "produced "); ok {
				if i, err := strconv.Atoi(n); err == nil {
					c.produced <- i
				}
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() { c.kill() })
	return c
}

func (c *child) kill() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.exited
}

func (c *child) term(t *testing.T) {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("child did not stop after SIGTERM")
	}
}

func TestBirth(t *testing.T) {
	env, id := sharedKiosk(t)
	root := "citizenhome/v1/" + env.Hall + "/" + id
	rec := mqtttest.Record(t, env.Staff(), root+"/#", mqtttest.RecordOptions{})
	k, st := newKiosk(t, env.Hall, id, "", nil)
	a := newAgent(t, k, st, env.Kiosk(id), nil)
	startAgent(t, a)
	ms := rec.Wait(t, 10*time.Second, "state ready", func(ms []mqtttest.Msg) bool { return hasState(ms, root, wire.StateReady, 0) })
	ss := states(ms, root)
	if ss[0].State != wire.StateInit || ss[len(ss)-1].State != wire.StateReady || ss[0].Boot != ss[len(ss)-1].Boot || ss[0].Boot < 1 {
		t.Errorf("birth states: %+v", ss)
	}
	sts := statuses(ms, root)
	if len(sts) == 0 || sts[0].Boot != ss[0].Boot || sts[0].Seq != 1 || sts[0].Version != "test" || sts[0].Devices["printer"].State != "absent" {
		t.Fatalf("birth status: %+v", sts)
	}
	if sts[0].TS.Location().String() == "UTC" && !strings.HasSuffix(sts[0].TS.Format(time.RFC3339), "+08:00") {
		t.Errorf("status time not in the hall's zone: %s", sts[0].TS)
	}
	// The state is retained: a late subscriber sees it.
	late := mqtttest.Record(t, env.Staff(), root+"/state", mqtttest.RecordOptions{})
	late.Wait(t, 5*time.Second, "retained ready", func(ms []mqtttest.Msg) bool {
		return len(ms) > 0 && ms[0].Retained && lastState(ms, root).State == wire.StateReady
	})
}

// A kiosk killed with SIGKILL leaves "lost", retained, with the boot of its birth.
func TestKill9LeavesLost(t *testing.T) {
	env, id := sharedKiosk(t)
	root := "citizenhome/v1/" + env.Hall + "/" + id
	rec := mqtttest.Record(t, env.Staff(), root+"/state", mqtttest.RecordOptions{})
	c := startChild(t, childSpec{Hall: env.Hall, Kiosk: id, Store: filepath.Join(t.TempDir(), "k.db"), Link: env.Kiosk(id)})
	ms := rec.Wait(t, 20*time.Second, "the child's birth", func(ms []mqtttest.Msg) bool { return hasState(ms, root, wire.StateReady, 0) })
	boot := lastState(ms, root).Boot
	c.kill()
	rec.Wait(t, 10*time.Second, "lost", func(ms []mqtttest.Msg) bool { return hasState(ms, root, wire.StateLost, boot) })
	late := mqtttest.Record(t, env.Staff(), root+"/state", mqtttest.RecordOptions{})
	ms = late.Wait(t, 5*time.Second, "retained lost", func(ms []mqtttest.Msg) bool { return len(ms) > 0 })
	if s := lastState(ms, root); !ms[0].Retained || s.State != wire.StateLost || s.Boot != boot {
		t.Errorf("retained state after kill -9: %+v retained=%v, want lost boot %d", s, ms[0].Retained, boot)
	}
}

// A planned shutdown (SIGTERM) publishes "disconnected", and the broker drops the will.
func TestPlannedShutdown(t *testing.T) {
	env, id := sharedKiosk(t)
	root := "citizenhome/v1/" + env.Hall + "/" + id
	rec := mqtttest.Record(t, env.Staff(), root+"/state", mqtttest.RecordOptions{})
	c := startChild(t, childSpec{Hall: env.Hall, Kiosk: id, Store: filepath.Join(t.TempDir(), "k.db"), Link: env.Kiosk(id)})
	ms := rec.Wait(t, 20*time.Second, "the child's birth", func(ms []mqtttest.Msg) bool { return hasState(ms, root, wire.StateReady, 0) })
	boot := lastState(ms, root).Boot
	c.term(t)
	rec.Wait(t, 10*time.Second, "disconnected", func(ms []mqtttest.Msg) bool { return hasState(ms, root, wire.StateDisconnected, boot) })
	// Proof that no will follows: a marker published after the child is gone arrives, and
	// no "lost" came before it.
	mark := mqtttest.Record(t, env.Staff(), root+"/state", mqtttest.RecordOptions{})
	ms = mark.Wait(t, 5*time.Second, "retained state", func(ms []mqtttest.Msg) bool { return len(ms) > 0 })
	if s := lastState(ms, root); s.State != wire.StateDisconnected {
		t.Errorf("retained state after a planned shutdown: %+v", s)
	}
	if hasState(rec.Messages(), root, wire.StateLost, 0) {
		t.Error("a planned shutdown published the will")
	}
}

// Changes are reported at most once a second; the heartbeat reports with no change.
func TestStatusDebounceAndHeartbeat(t *testing.T) {
	env, id := sharedKiosk(t)
	root := "citizenhome/v1/" + env.Hall + "/" + id
	rec := mqtttest.Record(t, env.Staff(), root+"/status", mqtttest.RecordOptions{})
	p := kiosktest.NewPrinter(okStatus())
	k, st := newKiosk(t, env.Hall, id, "", p)
	a := newAgent(t, k, st, env.Kiosk(id), func(o *Options) { o.Heartbeat = 1500 * time.Millisecond })
	startAgent(t, a)
	rec.Wait(t, 10*time.Second, "the birth status", func(ms []mqtttest.Msg) bool { return len(statuses(ms, root)) >= 1 })
	start := time.Now()
	for i := range 40 {
		k.SetDevice(kiosk.DevicePrinter, kiosk.StateOK, fmt.Sprintf("detail %d", i))
		time.Sleep(10 * time.Millisecond) // changes spread over 400 ms
	}
	ms := rec.Wait(t, 5*time.Second, "the last change reported", func(ms []mqtttest.Msg) bool {
		sts := statuses(ms, root)
		return len(sts) > 0 && sts[len(sts)-1].Devices["printer"].Detail == "detail 39"
	})
	// The statuses' own time stamps, taken when each was built to be sent: arrival times at a
	// subscriber bunch up when the machine is loaded, which says nothing of the kiosk's pace.
	var during []time.Time
	for _, s := range statuses(ms, root) {
		if s.TS.After(start) {
			during = append(during, s.TS)
		}
	}
	for i := 1; i < len(during); i++ {
		if gap := during[i].Sub(during[i-1]); gap < 900*time.Millisecond {
			t.Errorf("two statuses %s apart (want at most one a second)", gap)
		}
	}
	if len(during) > 3 {
		t.Errorf("%d statuses for 40 changes in 400 ms", len(during))
	}
	// Heartbeat: with nothing changing, statuses keep coming.
	n := len(statuses(ms, root))
	rec.Wait(t, 5*time.Second, "two heartbeats", func(ms []mqtttest.Msg) bool { return len(statuses(ms, root)) >= n+2 })
	// seq grows by one per message.
	sts := statuses(rec.Messages(), root)
	for i := 1; i < len(sts); i++ {
		if sts[i].Seq <= sts[i-1].Seq {
			t.Errorf("status seq %d after %d", sts[i].Seq, sts[i-1].Seq)
		}
	}
}

// A fault raises a retained alert; recovery clears it with an empty retained payload; the
// state goes degraded and back; device events are sent.
func TestAlertsAndDeviceEvents(t *testing.T) {
	env, id := sharedKiosk(t)
	root := "citizenhome/v1/" + env.Hall + "/" + id
	rec := mqtttest.Record(t, env.Staff(), root+"/#", mqtttest.RecordOptions{})
	p := kiosktest.NewPrinter(okStatus())
	k, st := newKiosk(t, env.Hall, id, "", p)
	a := newAgent(t, k, st, env.Kiosk(id), nil)
	startAgent(t, a)
	rec.Wait(t, 10*time.Second, "ready", func(ms []mqtttest.Msg) bool { return hasState(ms, root, wire.StateReady, 0) })
	k.SetDevice(kiosk.DevicePrinter, kiosk.StatePaperOut, "")
	alertTopic := root + "/alert/printer-paper-out"
	ms := rec.Wait(t, 5*time.Second, "the alert and degraded", func(ms []mqtttest.Msg) bool {
		got := false
		for _, m := range ms {
			if m.Topic == alertTopic && len(m.Payload) > 0 {
				got = true
			}
		}
		return got && lastState(ms, root).State == wire.StateDegraded
	})
	var al wire.Alert
	for _, m := range ms {
		if m.Topic == alertTopic {
			_ = json.Unmarshal(m.Payload, &al)
		}
	}
	if al.Code != "printer-paper-out" || al.Severity != wire.SeverityError || al.Device != "printer" || al.Seq == 0 || !strings.Contains(al.Message, "缺纸") {
		t.Errorf("alert: %+v", al)
	}
	late := mqtttest.Record(t, env.Staff(), root+"/alert/#", mqtttest.RecordOptions{})
	late.Wait(t, 5*time.Second, "the retained alert", func(ms []mqtttest.Msg) bool { return len(ms) == 1 && ms[0].Retained })
	k.SetDevice(kiosk.DevicePrinter, kiosk.StateOK, "")
	rec.Wait(t, 5*time.Second, "the alert cleared and ready", func(ms []mqtttest.Msg) bool {
		cleared := false
		for _, m := range ms {
			if m.Topic == alertTopic && len(m.Payload) == 0 {
				cleared = true
			}
		}
		return cleared && lastState(ms, root).State == wire.StateReady
	})
	ms = rec.Wait(t, 5*time.Second, "device.fault and device.recovered events", func(ms []mqtttest.Msg) bool {
		var f, r bool
		for _, e := range events(ms, root) {
			f = f || e.Type == wire.EventDeviceFault && strings.Contains(string(e.Data), `"paper-out"`)
			r = r || e.Type == wire.EventDeviceRecovered
		}
		return f && r
	})
	// Nothing retained under alert/ any more.
	after := mqtttest.Record(t, env.Staff(), root+"/#", mqtttest.RecordOptions{})
	ms = after.Wait(t, 5*time.Second, "the retained state", func(ms []mqtttest.Msg) bool { return len(states(ms, root)) > 0 })
	for _, m := range ms {
		if strings.Contains(m.Topic, "/alert/") {
			t.Errorf("alert still retained after recovery: %s %s", m.Topic, m.Payload)
		}
	}
}

// An alert left retained by an earlier run (the kiosk died while it was active) is cleared at
// the next birth when the fault is gone.
func TestBirthClearsStaleAlert(t *testing.T) {
	env, id := sharedKiosk(t)
	root := "citizenhome/v1/" + env.Hall + "/" + id
	path := filepath.Join(t.TempDir(), "k.db")
	p := kiosktest.NewPrinter(escpos.Status{Have: 0x0f, Online: true, PaperEnd: true})
	k, st := newKiosk(t, env.Hall, id, path, p)
	a := newAgent(t, k, st, env.Kiosk(id), nil)
	rec := mqtttest.Record(t, env.Staff(), root+"/#", mqtttest.RecordOptions{})
	startAgent(t, a)
	rec.Wait(t, 10*time.Second, "the paper-out alert", func(ms []mqtttest.Msg) bool {
		for _, m := range ms {
			if m.Topic == root+"/alert/printer-paper-out" && len(m.Payload) > 0 {
				return true
			}
		}
		return false
	})
	_ = a.Close()
	st.Close()
	// The paper is replaced while the kiosk is off; the next start must clear the alert.
	p.SetStatus(okStatus(), nil)
	k2, st2 := newKiosk(t, env.Hall, id, path, p)
	a2 := newAgent(t, k2, st2, env.Kiosk(id), nil)
	startAgent(t, a2)
	rec.Wait(t, 10*time.Second, "the stale alert cleared", func(ms []mqtttest.Msg) bool {
		for _, m := range ms {
			if m.Topic == root+"/alert/printer-paper-out" && len(m.Payload) == 0 {
				return true
			}
		}
		return false
	})
}

// The controller going offline then online makes the kiosk publish its birth again.
func TestControllerOnlineRebirth(t *testing.T) {
	env, id := sharedKiosk(t)
	root := "citizenhome/v1/" + env.Hall + "/" + id
	rec := mqtttest.Record(t, env.Staff(), root+"/status", mqtttest.RecordOptions{})
	k, st := newKiosk(t, env.Hall, id, "", nil)
	a := newAgent(t, k, st, env.Kiosk(id), nil)
	startAgent(t, a)
	rec.Wait(t, 10*time.Second, "birth", func(ms []mqtttest.Msg) bool { return len(ms) >= 1 })
	ctl := staffClient(t, mqtttest.Env{URL: env.URL, StaffUser: env.ControllerUser, StaffPassword: env.ControllerPassword})
	pub := func(online bool) {
		b, _ := json.Marshal(wire.ControllerState{Online: online, TS: time.Now()})
		if tok := ctl.Publish(wire.ControllerStateTopic(env.Hall), 1, true, b); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	t.Cleanup(func() {
		ctl.Publish(wire.ControllerStateTopic(env.Hall), 1, true, []byte{}).WaitTimeout(5 * time.Second)
	})
	pub(false)
	n := len(rec.Messages())
	pub(true)
	rec.Wait(t, 5*time.Second, "a rebirth status", func(ms []mqtttest.Msg) bool { return len(ms) > n })
}
