package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/escpos/emulator"
	"citizenhome/devices/escpos/emulator/ptytest"
	"citizenhome/devices/idcard/samsim"
	samtty "citizenhome/devices/idcard/samsim/ptytest"
	"citizenhome/hall/followup"
	"citizenhome/hall/settings"
	"citizenhome/internal/rig"
	"citizenhome/kiosk"
	"citizenhome/kiosk/civic"
	"citizenhome/kiosk/config"
	"citizenhome/seal"
	"citizenhome/telemetry/agent"
	"citizenhome/telemetry/link"
	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/wire"
)

// Issue 18's end-to-end tests: halld as the real binary on a real Mosquitto, and a kiosk's core
// run in this process as cmd/kiosk wires it (rig.Boot over its configuration, with its printer
// and ID card reader simulated on ptys, and telemetry/agent.Launch with the hall controller
// configured), its hall services called as the screens call them. The kiosk cannot be kioskd:
// kioskd's API has no rating or complaint.

const (
	displayKey  = "e2e-display-key-0123456789" // hallConfig's, which the rating pad uses
	padSection  = "sb"                         // the section of the matter sb-001 (社会保障卡申领, queue B) in the demo catalog
	padMatter   = "sb-001"                     // the matter the kiosk issues tickets for
	sectionMgr  = "wang"                       // the section's manager
	defaultMgr  = "zhao"                       // the hall's own manager (orders of no section, reviews)
	counterName = "wu"                         // the counter token: the staff account of every call
	mgrPassword = "manager-password-1"
)

// followupHall is halld, its Mosquitto and its tokens.
type followupHall struct {
	bin, cfg, addr, dir string
	env                 mqtttest.Env
	m                   *mqtttest.Mosquitto
	proc                *proc
	admin, counter      string   // tokens
	flags               []string // more of halld's flags
}

// newFollowupHall builds halld and writes its configuration (hallConfig's, with the work
// orders' managers, opening hours round the clock, and extra appended), and creates the
// section manager's login and the tokens. It does not start halld.
func newFollowupHall(t *testing.T, hallID string, extra string) *followupHall {
	t.Helper()
	dir := t.TempDir()
	h := &followupHall{dir: dir, bin: filepath.Join(dir, "halld")}
	buildOne(t, h.bin, ".")
	h.env = mqtttest.NewEnv(hallID, "k1")
	h.m = mqtttest.StartMosquitto(t, h.env)
	h.env.URL = h.m.URL
	h.cfg, h.addr = hallConfig(t, dir, h.m.URL, h.env, 10)
	b, err := os.ReadFile(h.cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The managers go into hallConfig's [followup] table, which the first [[category]] ends.
	s := strings.Replace(string(b), "\n[[category]]", fmt.Sprintf(`managers = [%q]

[[followup.section]]
section = %q
managers = [%q]

[[category]]`, defaultMgr, padSection, sectionMgr), 1)
	s += `
[hours]
weekdays = "00:00-24:00"
weekend = "00:00-24:00"
` + extra
	writeFile(t, h.cfg, s)
	if out, err := exec.Command(h.bin, "check-config", h.cfg).CombinedOutput(); err != nil {
		t.Fatalf("halld check-config: %v\n%s", err, out)
	}
	h.admin = h.token(t, "admin", "e2e-admin")
	h.counter = h.token(t, "counter", counterName)
	add := exec.Command(h.bin, "user", "add", sectionMgr, "--role", "counter", "-config", h.cfg)
	add.Stdin = strings.NewReader(mgrPassword + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("halld user add: %v %s", err, out)
	}
	return h
}

func (h *followupHall) token(t *testing.T, role, name string) string {
	t.Helper()
	out, err := exec.Command(h.bin, "token", "create", "--role", role, "--name", name, "-config", h.cfg).Output()
	if err != nil {
		t.Fatalf("halld token create %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// start runs halld and waits until it serves.
func (h *followupHall) start(t *testing.T) {
	t.Helper()
	if h.proc == nil {
		h.proc = startProc(t, "halld", append([]string{h.bin, "-config", h.cfg}, h.flags...)...)
	} else {
		h.proc.start()
	}
	waitUntil(t, 30*time.Second, "halld to serve", h.proc.log, func() bool {
		_, err := hallTickets(h.addr, h.admin)
		return err == nil
	})
}

// do sends a request with a bearer token and returns the status and body.
func (h *followupHall) do(t *testing.T, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+h.addr+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// serve has window 1 call the next ticket, start and finish it, and returns its code.
func (h *followupHall) serve(t *testing.T) string {
	t.Helper()
	st, b := h.do(t, "POST", "/v1/windows/1/next", h.counter, nil)
	if st != 200 {
		t.Fatalf("next: %d %s", st, b)
	}
	var called struct {
		Ticket struct {
			Code string `json:"code"`
		} `json:"ticket"`
	}
	json.Unmarshal(b, &called)
	for _, a := range []string{"start", "done"} {
		if st, b := h.do(t, "POST", "/v1/windows/1/"+a, h.counter, nil); st != 200 {
			t.Fatalf("%s: %d %s", a, st, b)
		}
	}
	return called.Ticket.Code
}

func (h *followupHall) orders(t *testing.T, token, query string) []followup.Order {
	t.Helper()
	var got struct {
		Orders []followup.Order `json:"orders"`
	}
	if err := getJSON(h.addr, token, "/v1/orders"+query, &got); err != nil {
		t.Fatal(err)
	}
	return got.Orders
}

// session is a browser's login: its cookie and the CSRF token of its state-changing requests.
type session struct {
	c    *http.Client
	csrf string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login logs name in with its password, and reads the session's CSRF token from a page the
// account may see (path).
func (h *followupHall) login(t *testing.T, name, password, path string) *session {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm("http://"+h.addr+"/login", url.Values{"name": {name}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %d", name, resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", "http://"+h.addr+path, nil)
	req.Header.Set("Accept", "text/html")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("GET %s as %s: %d, no CSRF token\n%s", path, name, resp.StatusCode, page)
	}
	return &session{c: c, csrf: string(m[1])}
}

// move moves order id to state to with note, as the session's account.
func (h *followupHall) move(t *testing.T, s *session, id int64, to followup.State, note string) followup.Order {
	t.Helper()
	st, body := h.moveStatus(t, s, id, to, note)
	var out struct {
		Order followup.Order `json:"order"`
	}
	if st != 200 || json.Unmarshal(body, &out) != nil {
		t.Fatalf("move order %d to %s: %d %s", id, to, st, body)
	}
	return out.Order
}

// moveStatus asks for the move and returns the answer's status and body.
func (h *followupHall) moveStatus(t *testing.T, s *session, id int64, to followup.State, note string) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"to": string(to), "note": note})
	req, _ := http.NewRequest("POST", fmt.Sprintf("http://%s/v1/orders/%d/moves", h.addr, id), bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", s.csrf)
	resp, err := s.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// coreKiosk is a kiosk's core run in this process as cmd/kiosk runs it, without its screens.
type coreKiosk struct {
	id, store string
	cfg       config.Config
	run       *rig.Running
	tel       *agent.Running
	hall      *kiosk.HallServices
	sam       *samsim.Sim
	log       *logBuf
	stop      func()
}

// startCore writes the kiosk's configuration (as startKiosk's, without kioskd's API), boots the
// core with rig.Boot and starts telemetry with agent.Launch, on mqttURL.
func startCore(t *testing.T, dir, hallID, id, mqttURL string, env mqtttest.Env) *coreKiosk {
	t.Helper()
	kdir := filepath.Join(dir, id)
	os.MkdirAll(kdir, 0o700)
	emu, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	printer := ptytest.Start(t, emu)
	sam := samsim.New()
	idLine := samtty.Start(t, sam)
	creds := filepath.Join(kdir, "mqtt.credentials")
	if err := link.WriteCredentials(creds, env.KioskUser(id), env.KioskPassword); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(kdir, "kiosk.db")
	cfgText := fmt.Sprintf(`[hall]
id = %q
name = "端到端测试大厅"
controller = true

[kiosk]
id = %q
store = %q

[hours]
weekday = ["00:00-23:59"]
weekend = ["00:00-23:59"]

[devices]
printer = %q
printer_baud = 115200
printer_paper = "80mm"
id_reader = %q

[privacy]
key_file = %q

[mqtt]
enabled = true
url = %q
credentials_file = %q
`, hallID, id, store, printer.Path, idLine.Path, filepath.Join(kdir, "hall.key"), mqttURL, creds)
	cfgPath := filepath.Join(kdir, "kiosk.toml")
	writeFile(t, cfgPath, cfgText)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	k := &coreKiosk{id: id, store: store, cfg: cfg, sam: sam, log: &logBuf{}}
	// Debug level: the scan for personal data reads everything the kiosk can log.
	log := slog.New(slog.NewTextHandler(k.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	run, err := rig.Boot(ctx, cfg, rig.BootOptions{Version: "e2e", Log: log})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if run.Hall == nil {
		cancel()
		run.Close()
		t.Fatalf("the kiosk's hall services are off: %v", run.HallOff)
	}
	tel, err := agent.Launch(ctx, cfg, agent.LaunchOptions{Kiosk: run.Kiosk, Store: run.Store, Version: "e2e", Log: log})
	if err != nil || tel == nil {
		cancel()
		run.Close()
		t.Fatalf("telemetry: %v", err)
	}
	k.run, k.tel, k.hall = run, tel, run.Hall
	stopped := false
	k.stop = func() {
		if stopped {
			return
		}
		stopped = true
		tel.Close() // before the store closes, as cmd/kiosk does
		cancel()
		run.Close()
	}
	t.Cleanup(k.stop)
	return k
}

func (k *coreKiosk) outbox(t *testing.T) []agent.Entry {
	t.Helper()
	es, err := k.tel.Agent.Outbox().Pending(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// take issues a ticket for padMatter and checks that it printed, numbered by halld (a leased
// number, from 990 up with hallConfig's lease of 10, would be the kiosk's own).
func (k *coreKiosk) take(t *testing.T) string {
	t.Helper()
	is, err := k.run.Kiosk.TakeTicket(context.Background(), padMatter)
	if err != nil || is.PrintErr != nil {
		t.Fatalf("ticket: %v %v\n%s", err, is.PrintErr, k.log)
	}
	if _, n, ok := wire.ParseTicketCode(is.Ticket.Code); !ok || n >= 990 {
		t.Fatalf("ticket %s: not a number of halld's", is.Ticket.Code)
	}
	return is.Ticket.Code
}

// rate rates ticket code as the rating screen does: the number checked first, then the rating.
func (k *coreKiosk) rate(t *testing.T, code string, r civic.Rating) civic.Rated {
	t.Helper()
	ctx := context.Background()
	rt, err := k.hall.RatableTicket(ctx, code)
	if err != nil {
		t.Fatalf("ratable %s: %v", code, err)
	}
	r.TicketID = rt.TicketID
	got, err := k.hall.Rate(ctx, r)
	if err != nil {
		t.Fatalf("rate %s: %v", code, err)
	}
	return got
}

// untilReady waits for halld to see the kiosk ready and for the kiosk to have halld's numbering.
func untilReady(t *testing.T, h *followupHall, k *coreKiosk) {
	t.Helper()
	untilFleet(t, h.addr, h.admin, k.id+" ready", 60*time.Second, k.log, func(f map[string]fleetKiosk) bool {
		return f[k.id].State == "ready"
	})
	waitUntil(t, 30*time.Second, k.id+" connected to the hall controller", k.log, func() bool {
		ok, _ := k.tel.Agent.Connected()
		return ok
	})
}

func eventsOf(ms []mqtttest.Msg, topic, typ string) []wire.Event {
	var out []wire.Event
	for _, m := range ms {
		var e wire.Event
		if m.Topic == topic && json.Unmarshal(m.Payload, &e) == nil && e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

type statsRow struct {
	Key     string `json:"key"`
	Ratings *struct {
		Count int `json:"count"`
		Bad   int `json:"bad"`
	} `json:"ratings"`
}

func (h *followupHall) stats(t *testing.T, by string) map[string]statsRow {
	t.Helper()
	var s struct {
		Rows []statsRow `json:"rows"`
	}
	if err := getJSON(h.addr, h.admin, "/v1/stats?by="+by, &s); err != nil {
		t.Fatal(err)
	}
	out := map[string]statsRow{}
	for _, r := range s.Rows {
		out[r.Key] = r
	}
	return out
}

// A 差评 given on the kiosk while its link to the broker is cut, for a ticket halld numbered
// and window 1 served, with a good rating of another ticket beside it: halld is killed and
// started again while both wait in the kiosk's outbox; once the link heals, halld records both,
// tied to the window and the staff account that served them, once each, and the 差评 opens one
// work order for the section's manager with a deadline.
func TestBadRatingThroughBrokerOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("a hall through an outage")
	}
	h := newFollowupHall(t, "rate", "")
	h.start(t)
	root := wire.Kiosk{Hall: h.env.Hall, Kiosk: "k1"}
	rec := mqtttest.Record(t, h.env.Staff(), wire.HallFilter(h.env.Hall), mqtttest.RecordOptions{})
	relay := newCutter(t, fmt.Sprintf("127.0.0.1:%d", h.m.Port))
	k := startCore(t, h.dir, h.env.Hall, "k1", "tcp://"+relay.addr(), h.env)
	untilReady(t, h, k)

	bad, good := k.take(t), k.take(t)
	waitUntil(t, 20*time.Second, "halld to list both tickets", h.proc.log, func() bool {
		l, err := hallTickets(h.addr, h.admin)
		return err == nil && l[bad] == "k1" && l[good] == "k1"
	})
	if got := h.serve(t); got != bad {
		t.Fatalf("window 1 served %s, want %s first", got, bad)
	}
	if got := h.serve(t); got != good {
		t.Fatalf("window 1 served %s, want %s", got, good)
	}
	waitUntil(t, 20*time.Second, "the kiosk's outbox to drain before the cut", k.log, func() bool {
		return len(k.outbox(t)) == 0
	})

	relay.setCut(true)
	k.rate(t, bad, civic.Rating{Overall: civic.VeryDissatisfied, Attitude: civic.VeryDissatisfied,
		Reasons: []civic.Reason{civic.ReasonAttitude, civic.ReasonWaitLong}})
	k.rate(t, good, civic.Rating{Overall: civic.VerySatisfied})
	var held []string
	for _, e := range k.outbox(t) {
		if e.Type == wire.EventRating {
			held = append(held, e.ID)
		}
	}
	if len(held) != 2 {
		t.Fatalf("the kiosk's outbox holds %d ratings during the cut, want 2", len(held))
	}
	// halld down and up again while the ratings are held.
	h.proc.kill()
	h.start(t)
	if o := h.orders(t, h.admin, ""); len(o) != 0 {
		t.Fatalf("orders while the kiosk is cut off: %+v", o)
	}
	relay.setCut(false)
	healed := time.Now()

	var order followup.Order
	waitUntil(t, 45*time.Second, "the 差评's work order", h.proc.log, func() bool {
		got := h.orders(t, h.admin, "?kind=rating")
		if len(got) > 0 {
			order = got[0]
		}
		return len(got) > 0
	})
	waitUntil(t, 30*time.Second, "the kiosk's outbox to drain after the cut", k.log, func() bool {
		return len(k.outbox(t)) == 0
	})
	if order.Ticket != bad || order.Window != "1" || order.Staff != counterName || order.Section != padSection ||
		order.Manager != sectionMgr || order.State != followup.PendingCallback || order.Level != 1 || order.Rating == 0 {
		t.Errorf("the work order %+v: want ticket %s, window 1, staff %s, section %s, manager %s, 待回访, level 1",
			order, bad, counterName, padSection, sectionMgr)
	}
	if !order.Due.After(order.Opened.Add(24*time.Hour)) || order.Overdue {
		t.Errorf("the work order opened %s is due %s (overdue %v): want working days ahead", order.Opened, order.Due, order.Overdue)
	}
	if r := strings.Join(order.Reasons, ","); r != "attitude,wait-long" && r != "wait-long,attitude" {
		t.Errorf("the work order's reasons %v", order.Reasons)
	}
	// Once each: one order in all, both ratings counted once, at the window and for the staff.
	// The ticket's rating on the kiosk is refused a second time.
	if all := h.orders(t, h.admin, ""); len(all) != 1 {
		t.Errorf("%d work orders, want 1: %+v", len(all), all)
	}
	for by, key := range map[string]string{"window": "1", "staff": counterName, "section": padSection} {
		r := h.stats(t, by)[key]
		if r.Ratings == nil || r.Ratings.Count != 2 || r.Ratings.Bad != 1 {
			t.Errorf("stats by %s, %s: ratings %+v, want 2 with 1 差评", by, key, r.Ratings)
		}
	}
	if _, err := k.hall.RatableTicket(context.Background(), bad); !errors.Is(err, civic.ErrAlreadyRated) {
		t.Errorf("rating %s again on the kiosk: %v, want already rated", bad, err)
	}
	// On the wire: the two events the outbox held, with no third rating (the same events may
	// go out twice, at least once being the outbox's promise; halld keeps one of each).
	ids := map[string]bool{}
	for _, m := range rec.Messages() {
		for _, e := range eventsOf([]mqtttest.Msg{m}, root.Topic(wire.KindEvent), wire.EventRating) {
			ids[e.ID] = true
			if m.At.Before(healed) {
				t.Errorf("rating event %s reached the broker at %s, before the link healed at %s", e.ID, m.At, healed)
			}
		}
	}
	if len(ids) != 2 || !ids[held[0]] || !ids[held[1]] {
		t.Errorf("rating events on the wire %v, want the two held %v", ids, held)
	}
}

// An order past its deadline raises its alert through halld's notifications: the ledger is
// prepared before halld starts with a 差评's order opened thirty days ago (due long since, with
// the citizen's phone) and another opened now (not due); halld posts the first's "opened" to a
// JSON webhook, and its "ended" once its manager has put it right through the API. The messages
// name the order and its section and hold no phone.
func TestOverdueOrderAlert(t *testing.T) {
	if testing.Short() {
		t.Skip("a hall and a webhook")
	}
	hk := newHook(t)
	h := newFollowupHall(t, "overdue", fmt.Sprintf(`
[notify]
delay_warning = "1s"
outside_hours = true
console_url = "http://console.example"

[[notify.channel]]
kind = "json"
url = %q
`, hk.srv.URL))
	const phone = "13912345678"
	past := time.Now().AddDate(0, 0, -30)
	late, fresh := prepareOrders(t, h.cfg, past, phone)
	h.start(t)

	opened := " " + followup.AlertCode + " opened"
	waitUntil(t, 30*time.Second, "the overdue order's alert", hk, func() bool { return hk.count(opened) > 0 })
	got := h.orders(t, h.admin, "?overdue=1")
	if len(got) != 1 || got[0].ID != late {
		t.Fatalf("overdue orders %+v, want %d alone", got, late)
	}

	s := h.login(t, sectionMgr, mgrPassword, fmt.Sprintf("/console/orders/%d", late))
	h.move(t, s, late, followup.CalledBack, "已回访：群众反映等候过久")
	h.move(t, s, late, followup.Rectifying, "")
	if o := h.move(t, s, late, followup.Rectified, "已调整窗口排班"); o.Closed == nil || !o.Overdue {
		t.Fatalf("the order after its last move: %+v", o)
	}
	ended := " " + followup.AlertCode + " ended"
	waitUntil(t, 30*time.Second, "the alert's end", hk, func() bool { return hk.count(ended) > 0 })

	scan := newScanner(t, personal{phone: phone})
	hk.mu.Lock()
	bodies := append([]string(nil), hk.bodies...)
	hk.mu.Unlock()
	if len(bodies) != 2 {
		t.Errorf("%d webhooks, want 2 (the late order's opening and end; order %d is not due): %s", len(bodies), fresh, hk)
	}
	for _, b := range bodies {
		var m struct {
			Event string `json:"event"`
			Text  string `json:"text"`
			URL   string `json:"url"`
			Alert struct {
				Device string `json:"device"`
			} `json:"alert"`
		}
		if err := json.Unmarshal([]byte(b), &m); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Text, fmt.Sprintf("工单 %d", late)) || !strings.Contains(m.Text, "科室："+padSection) ||
			m.Alert.Device != followup.AlertDevice+padSection || !strings.HasSuffix(m.URL, fmt.Sprintf("/console/orders/%d", late)) {
			t.Errorf("the %s message does not name order %d and section %s: %s", m.Event, late, padSection, b)
		}
		if found := scan.find([]byte(b)); len(found) > 0 {
			t.Errorf("the %s message holds %v: %s", m.Event, found, b)
		}
	}
	// The phone is in the order all the same, for its manager: the scan above could have found it.
	req, _ := http.NewRequest("POST", fmt.Sprintf("http://%s/console/orders/%d/phone", h.addr, late),
		strings.NewReader(url.Values{"csrf": {s.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(page, []byte(phone)) {
		t.Errorf("the manager's phone page (%d) lacks the phone", resp.StatusCode)
	}
}

// prepareOrders opens, in halld's ledger before halld runs, a 差评's order as of past with phone
// and another as of now, with halld's own calendar, managers and sealing secret.
func prepareOrders(t *testing.T, cfgPath string, past time.Time, phone string) (late, fresh int64) {
	t.Helper()
	cfg, err := settings.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	loc, err := cfg.Location()
	if err != nil {
		t.Fatal(err)
	}
	week, err := cfg.Hours.Week(loc)
	if err != nil {
		t.Fatal(err)
	}
	db, err := openLedger(cfg.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	secret, _, err := seal.LoadSecret(cfg.Followup.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	key, err := seal.NewKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	managers := map[string][]string{"": cfg.Followup.Managers}
	for _, s := range cfg.Followup.Sections {
		managers[s.Section] = s.Managers
	}
	for i, at := range []time.Time{past, time.Now()} {
		st, err := followup.Open(db, followup.Options{Hours: week, DeadlineDays: cfg.Followup.DeadlineDays, Managers: managers,
			Seal: key, Now: func() time.Time { return at }, Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		ref := followup.RatingRef{Rating: int64(9001 + i), Level: 1, Reasons: []string{"attitude"}, Ticket: fmt.Sprintf("B%03d", 7+i),
			Day: at.In(loc).Format(time.DateOnly), Section: padSection, Window: "1", Staff: counterName}
		if i == 0 {
			ref.Phone = phone
		}
		o, err := st.OpenRating(context.Background(), ref)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			late = o.ID
			if !o.Due.Before(time.Now()) || !o.HasPhone || o.Manager != sectionMgr {
				t.Fatalf("the late order %+v: want it due before now, with a phone, for %s", o, sectionMgr)
			}
		} else {
			fresh = o.ID
		}
	}
	return late, fresh
}

// personal is a fake citizen's personal data.
type personal struct{ name, idNumber, phone, card, phrase string }

// scanner finds a citizen's personal data in bytes: the name and the phrase as UTF-8 and as
// JSON's \u escapes, the ID number, the phone and the card number as their digits with up to
// three non-digit characters between two (spaces, hyphens, full-width spaces: any spacing).
type scanner struct {
	plain map[string][][]byte
	loose map[string]*regexp.Regexp
}

func newScanner(t *testing.T, p personal) *scanner {
	s := &scanner{plain: map[string][][]byte{}, loose: map[string]*regexp.Regexp{}}
	for what, v := range map[string]string{"name": p.name, "complaint text": p.phrase} {
		if v == "" {
			continue
		}
		var esc strings.Builder
		for _, r := range v {
			fmt.Fprintf(&esc, `\u%04x`, r)
		}
		s.plain[what] = [][]byte{[]byte(v), []byte(esc.String()), []byte(strings.ToUpper(esc.String()))}
	}
	for what, v := range map[string]string{"ID number": p.idNumber, "phone": p.phone, "card number": p.card} {
		if v == "" {
			continue
		}
		var parts []string
		for _, r := range v {
			parts = append(parts, regexp.QuoteMeta(string(r)))
		}
		s.loose[what] = regexp.MustCompile(`(?i)` + strings.Join(parts, `[^0-9]{0,3}`))
	}
	// The scanner must find what it looks for: each item written into a buffer, plainly and
	// spaced out, is found; the buffer without it is clean.
	clean := []byte(`{"phone":"138 1234 5679","name":"某某","text":"无"}`)
	if f := s.find(clean); len(f) > 0 {
		t.Fatalf("the scanner finds %v in %s", f, clean)
	}
	for what, vs := range s.plain {
		if f := s.find(append(append([]byte("x"), vs[0]...), 'y')); len(f) != 1 || f[0] != what {
			t.Fatalf("the scanner does not find the %s: %v", what, f)
		}
	}
	for what, v := range map[string]string{"ID number": p.idNumber, "phone": p.phone, "card number": p.card} {
		if v == "" {
			continue
		}
		spaced := v[:3] + " " + v[3:7] + "-" + v[7:]
		for _, b := range []string{"电话：" + v, "电话：" + spaced, `"` + strings.Join(strings.Split(v, ""), "\u3000") + `"`} {
			if f := s.find([]byte(b)); len(f) != 1 || f[0] != what {
				t.Fatalf("the scanner does not find the %s in %q: %v", what, b, f)
			}
		}
	}
	return s
}

// find returns what it found of the citizen's data in b.
func (s *scanner) find(b []byte) []string {
	var out []string
	for what, vs := range s.plain {
		for _, v := range vs {
			if bytes.Contains(b, v) {
				out = append(out, what)
				break
			}
		}
	}
	for what, re := range s.loose {
		if re.Match(b) {
			out = append(out, what)
		}
	}
	return out
}

// idNumber completes the 17 digits of a resident ID number with their GB 11643 check digit.
func idNumber(first17 string) string {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(first17[i]-'0') * w
	}
	return first17 + string("10X98765432"[sum%11])
}

// One run that handles a fake citizen's personal data through every path that touches it: an
// elder's ID card read for a (priority) ticket, a city card tapped, a complaint filed at the
// kiosk with a phone and a text, a 差评 with a return-call phone on window 1's rating pad, and
// the manager reading the phone. Then none of it may be found, in clear, in halld's or the
// kiosk's log, in any MQTT message of the hall during the run, in halld's exports and API
// answers (for a non-manager), or in the raw bytes of halld's ledger and the kiosk's store.
func TestNoPersonalDataAnywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("a whole hall")
	}
	h := newFollowupHall(t, "pii", "")
	crew := h.token(t, "crew", "crew-e2e")
	h.flags = []string{"-debug"} // the scan reads everything halld can log
	rec := mqtttest.Record(t, h.env.Staff(), "citizenhome/#", mqtttest.RecordOptions{})
	h.start(t)
	k := startCore(t, h.dir, h.env.Hall, "k1", h.m.URL, h.env)
	untilReady(t, h, k)

	citizen := samsim.Person{Key: "e2e", Type: "resident", Name: "欧阳慕青", Sex: "男", Nation: "汉", Birth: "1951-07-14",
		Address: "河南省开封市龙亭区测试路17号", Number: idNumber("41020219510714137"), Authority: "开封市公安局龙亭分局",
		ValidFrom: "2015-01-01", ValidTo: "长期"}
	cardCfg := cardsim.Sample()
	cardCfg.CardNo = "3104998877665544"
	p := personal{name: citizen.Name, idNumber: citizen.Number, phone: "13912345678", card: cardCfg.CardNo,
		phrase: "柜台后面的绿色盆栽挡住了叫号屏"}
	scan := newScanner(t, p)

	// The ID card: a ticket with the elder's green channel.
	if err := k.sam.PlacePerson(citizen); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 15*time.Second, "the ID card read into the session", k.log, func() bool { return k.run.Kiosk.Person() != nil })
	code := k.take(t)
	// The city card, as the card reader's watcher joins it to the session.
	card, err := cardsim.New(cardCfg)
	if err != nil {
		t.Fatal(err)
	}
	info, err := citycard.Read(card)
	if err != nil {
		t.Fatal(err)
	}
	k.run.Kiosk.SetCityCard(rig.CityCardOf(info))
	if c := k.run.Kiosk.CityCard(); c == nil || c.CardNo != cardCfg.CardNo {
		t.Fatalf("the city card in the session: %+v", c)
	}
	// The complaint, in the citizen's name.
	filed, err := k.hall.Complain(context.Background(), civic.Complaint{Category: civic.CategoryFacility,
		Text: "三号窗口：" + p.phrase + "，请挪开。", Phone: "139 1234 5678"})
	if err != nil || filed.PrintErr != nil {
		t.Fatalf("complaint: %v %v", err, filed.PrintErr)
	}
	// The ticket served at window 1, rated there on the pad with the phone.
	waitUntil(t, 20*time.Second, "halld to list the ticket", h.proc.log, func() bool {
		l, err := hallTickets(h.addr, h.admin)
		return err == nil && l[code] == "k1"
	})
	if got := h.serve(t); got != code {
		t.Fatalf("window 1 served %s, want %s", got, code)
	}
	var offer struct {
		Offer bool   `json:"offer"`
		Nonce string `json:"nonce"`
	}
	if st, b := h.do(t, "GET", "/rate/1/offer?key="+displayKey, "", nil); st != 200 || json.Unmarshal(b, &offer) != nil || !offer.Offer {
		t.Fatalf("the pad's offer: %d %s", st, b)
	}
	if st, b := h.do(t, "POST", "/rate/1?key="+displayKey, "", map[string]any{"nonce": offer.Nonce, "overall": 1, "attitude": 1,
		"reasons": []string{"attitude", "other"}, "phone": p.phone}); st != 200 {
		t.Fatalf("the pad's rating: %d %s", st, b)
	}
	var orders []followup.Order
	waitUntil(t, 30*time.Second, "the complaint's and the 差评's orders", h.proc.log, func() bool {
		orders = h.orders(t, crew, "")
		return len(orders) == 2
	})
	var rating followup.Order
	for _, o := range orders {
		if o.Kind == followup.KindRating {
			rating = o
		}
	}
	if !rating.HasPhone || rating.Manager != sectionMgr || rating.Ticket != code {
		t.Fatalf("the 差评's order %+v: want ticket %s with a phone, for %s", rating, code, sectionMgr)
	}
	// Its manager reads the phone: the one place it may appear. It is there, so the scans
	// below look for something that exists.
	s := h.login(t, sectionMgr, mgrPassword, fmt.Sprintf("/console/orders/%d", rating.ID))
	req, _ := http.NewRequest("POST", fmt.Sprintf("http://%s/console/orders/%d/phone", h.addr, rating.ID),
		strings.NewReader(url.Values{"csrf": {s.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if f := scan.find(page); len(f) != 1 || f[0] != "phone" {
		t.Fatalf("the manager's phone page (%d) shows %v, want the phone", resp.StatusCode, f)
	}

	// Every export and API answer, for a non-manager (the crew).
	month := time.Now().Format("2006-01")
	paths := []string{"/console/orders/report.csv?month=" + month, "/console/orders/report?month=" + month,
		"/console/stats.csv", "/console/stats?by=staff", "/console/report.csv", "/console/orders",
		"/v1/orders", "/v1/stats?by=staff", "/v1/tickets", "/v1/fleet", "/v1/alerts", "/v1/kiosks/k1/history"}
	for _, o := range orders {
		paths = append(paths, fmt.Sprintf("/v1/orders/%d", o.ID), fmt.Sprintf("/console/orders/%d", o.ID))
	}
	for _, path := range paths {
		st, b := h.do(t, "GET", path, crew, nil)
		if st != 200 || len(b) == 0 {
			t.Errorf("GET %s as the crew: %d %s", path, st, b)
		}
		if f := scan.find(b); len(f) > 0 {
			t.Errorf("GET %s holds %v", path, f)
		}
	}
	// Every message of the hall on the broker during the run, until the kiosk's status counts
	// the two cards read and the ticket, and halld has acknowledged the complaint.
	kroot := wire.Kiosk{Hall: h.env.Hall, Kiosk: "k1"}
	ms := rec.Wait(t, 20*time.Second, "the kiosk's status after the run, and the complaint", func(ms []mqtttest.Msg) bool {
		var counted bool
		for _, m := range ms {
			var st wire.Status
			if m.Topic == kroot.Topic(wire.KindStatus) && json.Unmarshal(m.Payload, &st) == nil {
				counted = st.Counters.CardReads >= 2 && st.Counters.Tickets >= 1
			}
		}
		return counted && len(eventsOf(ms, kroot.Topic(wire.KindEvent), wire.EventComplaint)) > 0
	})
	for _, m := range ms {
		if f := scan.find(append([]byte(m.Topic+" "), m.Payload...)); len(f) > 0 {
			t.Errorf("MQTT %s holds %v: %s", m.Topic, f, m.Payload)
		}
	}
	// The logs and the files on disk, once both have stopped (the ledgers' write-ahead logs
	// are read too, whatever is left of them).
	k.stop()
	h.proc.stop()
	for what, b := range map[string][]byte{"halld's log": []byte(h.proc.log.String()), "the kiosk's log": []byte(k.log.String())} {
		if len(b) == 0 {
			t.Errorf("%s is empty", what)
		}
		if f := scan.find(b); len(f) > 0 {
			t.Errorf("%s holds %v:\n%s", what, f, b)
		}
	}
	files, _ := filepath.Glob(filepath.Join(h.dir, "halld.db*"))
	kfiles, _ := filepath.Glob(k.store + "*")
	if len(files) == 0 || len(kfiles) == 0 {
		t.Fatalf("no ledger (%v) or store (%v) to read", files, kfiles)
	}
	// Both hold the complaint (its slip's number is no personal data): its text and phone are
	// there, sealed.
	for what, paths := range map[string][]string{"halld's ledger": files, "the kiosk's store": kfiles} {
		holds := false
		for _, f := range paths {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if found := scan.find(b); len(found) > 0 {
				t.Errorf("%s (%d bytes) holds %v", filepath.Base(f), len(b), found)
			}
			holds = holds || bytes.Contains(b, []byte(filed.Number))
		}
		if !holds {
			t.Errorf("%s (%v) does not hold complaint %s", what, paths, filed.Number)
		}
	}
	t.Logf("scanned %d MQTT messages, %d answers, %d files, logs of %d and %d bytes", len(ms), len(paths),
		len(files)+len(kfiles), len(h.proc.log.String()), len(k.log.String()))
}
