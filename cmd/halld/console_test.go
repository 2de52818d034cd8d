package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"citizenhome/devices/escpos/emulator"
	"citizenhome/hall/web/webtest"
	"citizenhome/telemetry/mqtttest"
)

// hook is a local webhook receiver in the plain JSON format: it counts each (kiosk, alert
// code, event) it is sent.
type hook struct {
	srv    *httptest.Server
	mu     sync.Mutex
	counts map[string]int
	bodies []string
}

func newHook(t *testing.T) *hook {
	h := &hook{counts: map[string]int{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m struct {
			Event string `json:"event"`
			Alert struct {
				Kiosk string `json:"kiosk"`
				Code  string `json:"code"`
			} `json:"alert"`
		}
		if err := json.Unmarshal(b, &m); err != nil || m.Event == "" || m.Alert.Code == "" {
			http.Error(w, "not a notification", http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.counts[m.Alert.Kiosk+" "+m.Alert.Code+" "+m.Event]++
		h.bodies = append(h.bodies, string(b))
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) count(key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.counts[key]
}

func (h *hook) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return fmt.Sprintf("%v", h.counts)
}

// fleetKiosk is /v1/fleet's kiosk as the hall API spec writes it.
type fleetKiosk struct {
	Kiosk    string    `json:"kiosk"`
	State    string    `json:"state"`
	LastSeen time.Time `json:"last_seen"`
	Devices  map[string]struct {
		State string    `json:"state"`
		Since time.Time `json:"since"`
	} `json:"devices"`
	Alerts []struct {
		Code  string    `json:"code"`
		Since time.Time `json:"since"`
	} `json:"alerts"`
}

func (k fleetKiosk) hasAlert(code string) bool {
	for _, a := range k.Alerts {
		if a.Code == code {
			return true
		}
	}
	return false
}

func getJSON(addr, token, path string, v any) error {
	req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %d %s", path, resp.StatusCode, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func fleetOf(addr, token string) (map[string]fleetKiosk, error) {
	var f struct {
		Kiosks []fleetKiosk `json:"kiosks"`
	}
	if err := getJSON(addr, token, "/v1/fleet", &f); err != nil {
		return nil, err
	}
	out := map[string]fleetKiosk{}
	for _, k := range f.Kiosks {
		out[k.Kiosk] = k
	}
	return out, nil
}

// untilFleet polls /v1/fleet every 20 ms until cond holds and returns when it first did.
func untilFleet(t *testing.T, addr, token, what string, limit time.Duration, log fmt.Stringer, cond func(map[string]fleetKiosk) bool) time.Time {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last map[string]fleetKiosk
	for {
		f, err := fleetOf(addr, token)
		if err == nil {
			last = f
			if cond(f) {
				return time.Now()
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s (last fleet %+v, err %v)\n%s", what, limit, last, err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type histAlert struct {
	Kiosk   string     `json:"kiosk"`
	Code    string     `json:"code"`
	Started time.Time  `json:"started"`
	Ended   *time.Time `json:"ended"`
}

// The crew's console under faults, all real processes: Mosquitto, halld and three kioskd with
// their printers and ID card readers on ptys. k1 runs out of paper, k2's ID card reader is
// unplugged and k3 is killed with SIGKILL: each shows in /v1/fleet within 2 s, in the history
// with its start and end, and reaches a webhook once when it opens and once when it ends, and
// not again when halld is killed and started again.
func TestConsoleUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("the console under faults takes about a minute")
	}
	dir := t.TempDir()
	halldBin, kioskdBin := buildBinaries(t, dir)
	env := mqtttest.NewEnv("crew", "k1", "k2", "k3")
	m := mqtttest.StartMosquitto(t, env)
	hk := newHook(t)
	cfgPath, httpAddr := hallConfig(t, dir, m.URL, env, 10)
	appendFile(t, cfgPath, fmt.Sprintf(`
[hours]
weekdays = "00:00-24:00"
weekend = "00:00-24:00"

[notify]
delay_lost = "1s"
delay_error = "1s"
console_url = "http://%s"

[[notify.channel]]
kind = "json"
url = %q
`, httpAddr, hk.srv.URL))
	out, err := exec.Command(halldBin, "token", "create", "--role", "crew", "--name", "crew-e2e", "-config", cfgPath).Output()
	if err != nil {
		t.Fatalf("halld token create: %v", err)
	}
	token := strings.TrimSpace(string(out))
	hall := startProc(t, "halld", halldBin, "-config", cfgPath)
	kiosks := map[string]*kioskProc{}
	for _, id := range []string{"k1", "k2", "k3"} {
		kiosks[id] = startKiosk(t, kioskdBin, dir, id, env.Hall, m.URL, env)
	}
	untilFleet(t, httpAddr, token, "three kiosks ready with their devices", 60*time.Second, hall.log, func(f map[string]fleetKiosk) bool {
		for _, id := range []string{"k1", "k2", "k3"} {
			k := f[id]
			if k.State != "ready" || k.Devices["printer"].State != "ok" || k.Devices["id-reader"].State != "ok" || len(k.Alerts) > 0 {
				return false
			}
		}
		return true
	})

	// k1: out of paper, found by the next ticket's print.
	kiosks["k1"].printer.Emulator().SetCondition(emulator.PaperOut)
	if _, printed, _, _ := kiosks["k1"].take("A"); printed {
		t.Fatal("k1 printed a ticket with no paper")
	}
	paperOut := time.Now()
	seen := untilFleet(t, httpAddr, token, "k1 out of paper", 2*time.Second, hall.log, func(f map[string]fleetKiosk) bool {
		return f["k1"].Devices["printer"].State == "paper-out" && f["k1"].hasAlert("printer-paper-out")
	})
	t.Logf("k1 paper out in /v1/fleet %s after the failed print", seen.Sub(paperOut).Round(time.Millisecond))

	// k2: its ID card reader unplugged.
	kiosks["k2"].idLine.Vanish()
	unplugged := time.Now()
	seen = untilFleet(t, httpAddr, token, "k2's ID card reader offline", 2*time.Second, hall.log, func(f map[string]fleetKiosk) bool {
		return f["k2"].Devices["id-reader"].State == "offline" && f["k2"].hasAlert("id-reader-offline")
	})
	t.Logf("k2 reader offline in /v1/fleet %s after the unplug", seen.Sub(unplugged).Round(time.Millisecond))

	// k3: killed.
	kiosks["k3"].kill()
	killed := time.Now()
	seen = untilFleet(t, httpAddr, token, "k3 lost", 2*time.Second, hall.log, func(f map[string]fleetKiosk) bool {
		return f["k3"].State == "lost"
	})
	t.Logf("k3 lost in /v1/fleet %s after kill -9", seen.Sub(killed).Round(time.Millisecond))

	opened := []string{"k1 printer-paper-out opened", "k2 id-reader-offline opened", "k3 kiosk-lost opened"}
	waitUntil(t, 20*time.Second, "a webhook for each fault", hk, func() bool {
		for _, k := range opened {
			if hk.count(k) == 0 {
				return false
			}
		}
		return true
	})

	// Every fault ends.
	kiosks["k1"].printer.Emulator().SetCondition(emulator.Ready)
	kiosks["k2"].idLine.Return()
	kiosks["k3"].start()
	mended := time.Now()
	untilFleet(t, httpAddr, token, "every kiosk ready again", 30*time.Second, hall.log, func(f map[string]fleetKiosk) bool {
		for _, id := range []string{"k1", "k2", "k3"} {
			k := f[id]
			if k.State != "ready" || k.Devices["printer"].State != "ok" || k.Devices["id-reader"].State != "ok" || len(k.Alerts) > 0 {
				return false
			}
		}
		return true
	})
	ended := []string{"k1 printer-paper-out ended", "k2 id-reader-offline ended", "k3 kiosk-lost ended"}
	waitUntil(t, 20*time.Second, "a webhook for each end", hk, func() bool {
		for _, k := range ended {
			if hk.count(k) == 0 {
				return false
			}
		}
		return true
	})

	// The history has each fault with its start and end.
	for _, c := range []struct {
		kiosk, code string
		from        time.Time
	}{{"k1", "printer-paper-out", paperOut}, {"k2", "id-reader-offline", unplugged}, {"k3", "kiosk-lost", killed}} {
		var got struct {
			Alerts []histAlert `json:"alerts"`
		}
		if err := getJSON(httpAddr, token, "/v1/alerts?kiosk="+c.kiosk, &got); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, a := range got.Alerts {
			if a.Code != c.code {
				continue
			}
			n++
			// The kiosk dates a device fault when it found it; the will is dated by halld.
			if a.Started.Before(c.from.Add(-10*time.Second)) || a.Started.After(c.from.Add(5*time.Second)) {
				t.Errorf("%s %s started %s, the fault was made at %s", c.kiosk, c.code, a.Started, c.from)
			}
			if a.Ended == nil || a.Ended.Before(a.Started) || a.Ended.After(time.Now()) || a.Ended.Before(mended.Add(-time.Second)) {
				t.Errorf("%s %s ended %v (mended at %s)", c.kiosk, c.code, a.Ended, mended)
			}
		}
		if n != 1 {
			t.Errorf("%s: %d alerts %s in the history, want 1: %+v", c.kiosk, n, c.code, got.Alerts)
		}
	}
	var hist struct {
		Changes []struct {
			Device string    `json:"device"`
			State  string    `json:"state"`
			At     time.Time `json:"at"`
		} `json:"changes"`
	}
	if err := getJSON(httpAddr, token, "/v1/kiosks/k1/history?since="+paperOut.Add(-time.Minute).Format(time.RFC3339), &hist); err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, c := range hist.Changes {
		if c.Device == "printer" {
			states = append(states, c.State)
		}
	}
	if !strings.Contains(strings.Join(states, " "), "paper-out ok") {
		t.Errorf("k1's printer history %v: want paper-out then ok", states)
	}

	// halld killed and started again sends nothing twice.
	hall.kill()
	hall.start()
	untilFleet(t, httpAddr, token, "halld back with its fleet", 30*time.Second, hall.log, func(f map[string]fleetKiosk) bool {
		return len(f) == 3
	})
	// Give a resend every chance it would have: past the notify delay and a retry or two.
	quiet := time.Now().Add(4 * time.Second)
	for time.Now().Before(quiet) {
		for _, k := range append(opened, ended...) {
			if n := hk.count(k); n != 1 {
				t.Fatalf("webhook %q sent %d times, want once\n%s", k, n, hk)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := len(hk.bodies); got != 6 {
		t.Errorf("%d webhooks in all, want 6: %s", got, hk)
	}
}

func appendFile(t testing.TB, path, s string) {
	t.Helper()
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(old)+s)
}

// The console in a real headless Chromium against the real thing: halld, Mosquitto and a
// kioskd with its printer on a pty. The crew logs in; the kiosk's tile turns red when its
// printer runs out; a lock sent from the kiosk's page, through its confirmation, reaches the
// kiosk (its state becomes locked) and the reply is shown; the audit names the crew member.
func TestConsoleInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("a whole hall and a browser")
	}
	webtest.NeedBrowser(t)
	dir := t.TempDir()
	halldBin, kioskdBin := buildBinaries(t, dir)
	env := mqtttest.NewEnv("crewweb", "k1")
	m := mqtttest.StartMosquitto(t, env)
	cfgPath, httpAddr := hallConfig(t, dir, m.URL, env, 10)
	add := exec.Command(halldBin, "user", "add", "li", "--role", "crew", "-config", cfgPath)
	add.Stdin = strings.NewReader("crew-password-1\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("halld user add: %v %s", err, out)
	}
	out, err := exec.Command(halldBin, "token", "create", "--role", "crew", "--name", "checks", "-config", cfgPath).Output()
	if err != nil {
		t.Fatalf("halld token create: %v", err)
	}
	token := strings.TrimSpace(string(out))
	hall := startProc(t, "halld", halldBin, "-config", cfgPath)
	k1 := startKiosk(t, kioskdBin, dir, "k1", env.Hall, m.URL, env)
	untilFleet(t, httpAddr, token, "k1 ready", 60*time.Second, hall.log, func(f map[string]fleetKiosk) bool {
		return f["k1"].State == "ready" && f["k1"].Devices["printer"].State == "ok"
	})

	ctx := webtest.Browser(t, webtest.Options{Width: 1280, Height: 800})
	base := "http://" + httpAddr
	webtest.Do(t, ctx, 20*time.Second, chromedp.Navigate(base+"/console"))
	webtest.WaitTrue(t, ctx, 10*time.Second, `location.pathname === "/login"`)
	webtest.Do(t, ctx, 10*time.Second, chromedp.SendKeys("#name", "li"), chromedp.SendKeys("#password", "crew-password-1"),
		chromedp.Click(`button[type=submit]`))
	tile := `document.querySelector("#tiles .tile[data-kiosk=k1]")`
	webtest.WaitTrue(t, ctx, 10*time.Second, `location.pathname === "/console" && `+tile+` !== null && `+tile+`.dataset.level === "green"`)
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.getElementById("live").dataset.state === "on"`)

	// Out of paper, found by the next ticket: the tile turns red, live.
	k1.printer.Emulator().SetCondition(emulator.PaperOut)
	if _, printed, _, _ := k1.take("A"); printed {
		t.Fatal("k1 printed with no paper")
	}
	took := webtest.WaitTrue(t, ctx, 5*time.Second, tile+`.classList.contains("level-red")`)
	t.Logf("k1's tile red %s after the failed print", took.Round(time.Millisecond))
	// The alert may come a status ahead of the device's state: both show, live.
	webtest.WaitTrue(t, ctx, 5*time.Second, tile+`.querySelector("li[data-device=printer] b").textContent === "缺纸"`)

	// Lock it from its page, through the confirmation.
	webtest.Do(t, ctx, 10*time.Second, chromedp.Click(`#tiles .tile[data-kiosk=k1]`))
	webtest.WaitTrue(t, ctx, 10*time.Second, `location.pathname === "/console/kiosks/k1" && document.querySelector("svg.timeline") !== null`)
	webtest.Do(t, ctx, 5*time.Second, chromedp.Click(`.cmd-buttons a[data-command=lock]`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.getElementById("confirm") !== null`)
	var st struct {
		State string `json:"state"`
	}
	if err := k1.get("/v1/status", &st); err != nil || st.State == "locked" {
		t.Fatalf("k1 before the confirmation: %q %v", st.State, err)
	}
	webtest.Do(t, ctx, 5*time.Second, chromedp.SendKeys("#message", "更换打印纸，请到 3 号窗口"), chromedp.Click("#confirm"))
	webtest.WaitTrue(t, ctx, 20*time.Second, `document.getElementById("result") !== null`)
	if !webtest.Eval[bool](t, ctx, `document.getElementById("result").dataset.outcome === "out-ok"`) {
		t.Errorf("the reply shown: %q", webtest.Eval[string](t, ctx, `document.getElementById("result").textContent`))
	}
	waitUntil(t, 10*time.Second, "k1 locked", k1.log, func() bool {
		return k1.get("/v1/status", &st) == nil && st.State == "locked"
	})
	untilFleet(t, httpAddr, token, "k1 locked in /v1/fleet", 5*time.Second, hall.log, func(f map[string]fleetKiosk) bool {
		return f["k1"].State == "locked"
	})
	// The history keeps the command with its sender and the kiosk's reply.
	var hist struct {
		Commands []struct {
			Name string `json:"name"`
			By   string `json:"by"`
			OK   bool   `json:"ok"`
		} `json:"commands"`
	}
	waitUntil(t, 10*time.Second, "the lock in k1's history", hall.log, func() bool {
		if getJSON(httpAddr, token, "/v1/kiosks/k1/history", &hist) != nil {
			return false
		}
		for _, c := range hist.Commands {
			if c.Name == "lock" && c.By == "li" && c.OK {
				return true
			}
		}
		return false
	})
	// The audit names who did it.
	au, err := exec.Command(halldBin, "audit", "-config", cfgPath).Output()
	if err != nil || !strings.Contains(string(au), "li\t") || !strings.Contains(string(au), "kiosk-command") {
		t.Errorf("halld audit: %v\n%s", err, au)
	}
}
