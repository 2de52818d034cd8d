package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"citizenhome/hall/access"
	"citizenhome/hall/fleet"
	"citizenhome/hall/history"
	"citizenhome/hall/notify"
	"citizenhome/telemetry/wire"
)

// The crew's console: /console (the fleet's tiles, live), /console/kiosks/{kiosk} (a kiosk's
// timeline, counters, commands), /console/alerts (the alert log), /console/report (the monthly
// availability, and its CSV). Every page works without JavaScript; the fleet page's script only
// swaps in the tiles the server renders for the stream.

// consoleBase is every console page's header.
type consoleBase struct {
	Hall, Account, Role, CSRF string
	Nav                       string // the current section: fleet, alerts, report, stats
	Now                       string
	// Failing names the notification channels whose last delivery failed: every console page
	// says so, since the crew's group chats then miss the alerts.
	Failing []string
}

// Channels is the health of the alert notifications' channels (*notify.Notifier).
type Channels interface {
	Health() []notify.Health
}

func (s *Server) base(p access.Principal, nav string) consoleBase {
	b := consoleBase{Hall: s.o.HallName, Account: p.Name, Role: string(p.Role), CSRF: p.CSRF, Nav: nav,
		Now: s.o.Now().In(s.o.Location).Format("2006-01-02 15:04")}
	if s.o.Channels != nil {
		for _, h := range s.o.Channels.Health() {
			if h.LastError != "" {
				b.Failing = append(b.Failing, h.Channel)
			}
		}
	}
	return b
}

// channelRow is one notification channel on the alert log.
type channelRow struct {
	Name, Kind, KindZH    string
	LastSent, LastErrorAt string
	LastError             string
	Pending, Failed       int
	Failing               bool
}

var channelKinds = map[notify.Kind]string{notify.WeCom: "企业微信", notify.DingTalk: "钉钉", notify.JSON: "JSON"}

func (s *Server) channelRows() []channelRow {
	if s.o.Channels == nil {
		return nil
	}
	at := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(s.o.Location).Format("01-02 15:04:05")
	}
	var rows []channelRow
	for _, h := range s.o.Channels.Health() {
		rows = append(rows, channelRow{Name: h.Channel, Kind: string(h.Kind), KindZH: channelKinds[h.Kind],
			LastSent: at(h.LastSent), LastErrorAt: at(h.LastErrorAt), LastError: h.LastError,
			Pending: h.Pending, Failed: h.Failed, Failing: h.LastError != ""})
	}
	return rows
}

// tileView is one kiosk's tile.
type tileView struct {
	Kiosk, State, StateZH string
	Level                 string // green, amber, red, blue, gray: the tile's colour
	LevelZH               string
	Devices               []deviceView
	Alerts                []alertView
	LastSeen, LastSeenISO string
	LockMessage           string
	Tickets               int64
	HasCounters           bool
	// Stale: the kiosk is lost or disconnected, and its devices are as it last reported them.
	Stale bool
}

type deviceView struct {
	Name, NameZH, State, StateZH, Class, Detail string
}

type alertView struct {
	Code, Label, Severity, SeverityZH, Since string
}

// badDevice is a device state that stops the kiosk's use of the device.
func badDevice(state string) bool {
	switch state {
	case "paper-out", "cover-open", "error", "offline":
		return true
	}
	return false
}

// tileLevel is a kiosk's colour: red when it is lost or disconnected, has an error alert or a
// device that does not work; amber when degraded or warned; blue locked or in maintenance;
// gray starting or unknown; green ready.
func tileLevel(k fleet.Kiosk) string {
	if k.State == wire.StateLost || k.State == wire.StateDisconnected {
		return "red"
	}
	warned := false
	for _, a := range k.Alerts {
		if a.Severity == wire.SeverityError {
			return "red"
		}
		warned = true
	}
	if k.Status != nil {
		for name, d := range k.Status.Devices {
			if _, ok := k.Alerts[name+"-"+d.State]; ok {
				continue // its alert's severity said it (a speaker offline is a warning)
			}
			if badDevice(d.State) {
				return "red"
			}
			if d.State == "paper-low" {
				warned = true
			}
		}
	}
	switch {
	case k.State == wire.StateDegraded || warned:
		return "amber"
	case k.State == wire.StateLocked || k.State == wire.StateMaintenance:
		return "blue"
	case k.State == wire.StateReady:
		return "green"
	}
	return "gray"
}

var levelNames = map[string]string{"red": "需处理", "amber": "需留意", "blue": "暂停", "gray": "未知", "green": "正常"}

func (s *Server) tileOf(k fleet.Kiosk) tileView {
	t := tileView{Kiosk: k.ID.Kiosk, State: k.State, StateZH: stateZH(k.State), Level: tileLevel(k)}
	t.LevelZH = levelNames[t.Level]
	t.Stale = k.State == wire.StateLost || k.State == wire.StateDisconnected
	if t.State == "" {
		t.StateZH = "未知"
	}
	if !k.LastSeen.IsZero() {
		t.LastSeen = k.LastSeen.In(s.o.Location).Format("01-02 15:04:05")
		t.LastSeenISO = k.LastSeen.Format(time.RFC3339)
	}
	if st := k.Status; st != nil {
		names := make([]string, 0, len(st.Devices))
		for n := range st.Devices {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			d := st.Devices[n]
			cls := "dev-ok"
			a, alerted := k.Alerts[n+"-"+d.State]
			switch {
			case alerted && a.Severity == wire.SeverityWarning:
				cls = "dev-warn"
			case badDevice(d.State):
				cls = "dev-bad"
			case d.State == "paper-low":
				cls = "dev-warn"
			case d.State == "absent":
				cls = "dev-none"
			}
			t.Devices = append(t.Devices, deviceView{Name: n, NameZH: deviceZH(n), State: d.State, StateZH: stateZH(d.State), Class: cls, Detail: d.Detail})
		}
		t.Tickets, t.HasCounters = st.Counters.Tickets, true
		if k.State == wire.StateLocked {
			t.LockMessage = st.LockMessage
		}
	}
	for _, code := range k.ActiveAlerts() {
		a := k.Alerts[code]
		since := ""
		if !a.Since.IsZero() {
			since = a.Since.In(s.o.Location).Format("15:04")
		}
		t.Alerts = append(t.Alerts, alertView{Code: code, Label: alertZH(code), Severity: a.Severity, SeverityZH: severityZH(a.Severity), Since: since})
	}
	return t
}

func (s *Server) tiles() []tileView {
	var out []tileView
	for _, k := range s.o.Fleet.Kiosks() {
		if s.o.FleetHall != "" && k.ID.Hall != s.o.FleetHall {
			continue
		}
		out = append(out, s.tileOf(k))
	}
	return out
}

// tilesHTML renders the tiles as the fleet page shows them (its stream sends the same).
func (s *Server) tilesHTML() []byte {
	var b bytes.Buffer
	if err := s.pages.t.ExecuteTemplate(&b, "console-tiles", s.tiles()); err != nil {
		s.log.Error("rendering the tiles failed", "err", err)
		return nil
	}
	return b.Bytes()
}

// What a console page may lack, for consoleUnavailable.
const (
	lacksFleet   = "fleet"
	lacksHistory = "history"
)

// consoleUnavailable renders the page a console route shows when halld has no fleet (or no
// history, for the pages that need it).
func (s *Server) consoleUnavailable(w http.ResponseWriter, lacks string) {
	zh, en := "设备网络（MQTT）", "a fleet (an MQTT broker)"
	if lacks == lacksHistory {
		zh, en = "设备历史记录", "the fleet's history"
	}
	s.pages.render(w, http.StatusServiceUnavailable, "message", messagePage{Hall: s.o.HallName,
		Title: "控制台暂不可用", Subtitle: "The console is not available",
		Text: "halld 未配置" + zh + "。", Sub: "halld is configured without " + en + ".", Link: "/console", LinkText: "设备总览 · Fleet"})
}

type fleetPage struct {
	consoleBase
	Tiles              []tileView
	Red, Amber, Kiosks int
}

func (s *Server) consolePage(w http.ResponseWriter, r *http.Request, p access.Principal) {
	if s.o.Fleet == nil {
		s.consoleUnavailable(w, lacksFleet)
		return
	}
	d := fleetPage{consoleBase: s.base(p, "fleet"), Tiles: s.tiles()}
	for _, t := range d.Tiles {
		d.Kiosks++
		switch t.Level {
		case "red":
			d.Red++
		case "amber":
			d.Amber++
		}
	}
	s.pages.render(w, http.StatusOK, "console", d)
}

type commandView struct {
	ID, Sent, Name, Label, Args, By, Outcome, Class, Error string
}

type buttonView struct {
	Name, ZH, EN, Class string
}

type kioskPage struct {
	consoleBase
	Tile       tileView
	Known      bool // in the fleet view now
	Range      string
	From, To   string
	HistoryOff bool
	Timeline   timeline
	Bars       barChart
	Commands   []commandView
	Alerts     []alertRow
	Buttons    []buttonView
	MayCommand bool
}

func (s *Server) commandViews(cs []history.Command) []commandView {
	out := make([]commandView, 0, len(cs))
	for _, c := range cs {
		v := commandView{ID: c.ID, Sent: c.Sent.In(s.o.Location).Format("01-02 15:04:05"), Name: c.Name, By: c.By}
		if l, ok := commandLabels[c.Name]; ok {
			v.Label = l.ZH
		} else {
			v.Label = c.Name
		}
		if len(c.Args) > 0 && string(c.Args) != "null" && string(c.Args) != "{}" {
			v.Args = string(c.Args)
		}
		switch {
		case c.Replied == nil:
			v.Outcome, v.Class = "无应答 No reply", "out-none"
		case c.OK:
			v.Outcome, v.Class = "成功 OK", "out-ok"
		default:
			v.Outcome, v.Class, v.Error = "被拒绝 Refused", "out-bad", c.Error
		}
		out = append(out, v)
	}
	return out
}

// consoleKiosk serves /console/kiosks/{kiosk}?range=day|week: the kiosk's tile, its timeline
// over the last day or week, its counters of the last 14 days, its recent alerts and commands,
// and the command buttons.
func (s *Server) consoleKiosk(w http.ResponseWriter, r *http.Request, p access.Principal) {
	if s.o.Fleet == nil {
		s.consoleUnavailable(w, lacksFleet)
		return
	}
	name := r.PathValue("kiosk")
	k, known := s.findKiosk(name)
	if !wire.ValidName(name) || (!known && s.o.History == nil) {
		s.notFoundPage(w, "找不到这台自助机", "No such kiosk")
		return
	}
	d := kioskPage{consoleBase: s.base(p, "fleet"), Known: known, Range: "day", MayCommand: p.May(access.Command) && known}
	if known {
		d.Tile = s.tileOf(k)
	} else {
		d.Tile = tileView{Kiosk: name, StateZH: "未连接", Level: "gray", LevelZH: levelNames["gray"]}
	}
	for _, n := range consoleCommandOrder {
		l := commandLabels[n]
		cls := ""
		if n == wire.CmdLock {
			cls = "warn"
		}
		d.Buttons = append(d.Buttons, buttonView{Name: n, ZH: l.ZH, EN: l.EN, Class: cls})
	}
	now := s.o.Now()
	span := 24 * time.Hour
	if r.URL.Query().Get("range") == "week" {
		d.Range, span = "week", 7*24*time.Hour
	}
	from := now.Add(-span)
	d.From, d.To = from.In(s.o.Location).Format("01-02 15:04"), now.In(s.o.Location).Format("01-02 15:04")
	if s.o.History == nil {
		d.HistoryOff = true
		s.pages.render(w, http.StatusOK, "console-kiosk", d)
		return
	}
	ctx := r.Context()
	changes, err := s.o.History.Timeline(ctx, name, from, now)
	if err != nil {
		s.consoleFailed(w, r, err)
		return
	}
	if !known && len(changes) == 0 {
		s.notFoundPage(w, "找不到这台自助机", "No such kiosk")
		return
	}
	alerts, err := s.o.History.Alerts(ctx, history.AlertFilter{Kiosk: name, Since: from, Limit: 200})
	if err != nil {
		s.consoleFailed(w, r, err)
		return
	}
	d.Timeline = buildTimeline(changes, alerts, from, now, now, s.o.Location)
	for i, a := range alerts {
		if i == 20 {
			break
		}
		d.Alerts = append(d.Alerts, s.alertRowOf(a, now))
	}
	today := now.In(s.o.Location)
	var dates []string
	for i := 13; i >= 0; i-- {
		dates = append(dates, today.AddDate(0, 0, -i).Format(time.DateOnly))
	}
	days, err := s.o.History.Days(ctx, name, dates[0], dates[len(dates)-1])
	if err != nil {
		s.consoleFailed(w, r, err)
		return
	}
	d.Bars = buildBars(days, dates)
	cmds, err := s.o.History.Commands(ctx, name, 30)
	if err != nil {
		s.consoleFailed(w, r, err)
		return
	}
	d.Commands = s.commandViews(cmds)
	s.pages.render(w, http.StatusOK, "console-kiosk", d)
}

func (s *Server) consoleFailed(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	s.log.Error("console page failed", "route", routeOf(s.mux, r), "err", err)
	s.pages.render(w, http.StatusInternalServerError, "message", messagePage{Hall: s.o.HallName, Refresh: 30,
		Title: "暂时无法读取记录", Subtitle: "The history could not be read", Text: "页面将自动重试。", Sub: "This page retries by itself."})
}

func (s *Server) notFoundPage(w http.ResponseWriter, zh, en string) {
	s.pages.render(w, http.StatusNotFound, "message", messagePage{Hall: s.o.HallName, Title: zh, Subtitle: en,
		Text: "请从设备总览选择。", Sub: "Choose one on the fleet page.", Link: "/console", LinkText: "设备总览 · Fleet"})
}

// confirmPage is a command's confirmation step (and, with Result, the kiosk's reply after).
type confirmPage struct {
	consoleBase
	Kiosk, Name, ZH, EN, Explain string
	Message, Ticket              string
	Force                        bool
	Error                        string
	WantsMessage, WantsTicket    bool
	MayForce                     bool
	Result                       *resultView
}

type resultView struct {
	ID, Title, EN, Class, Error, Code, Detail string
}

func (s *Server) confirmData(p access.Principal, kiosk, name string) (confirmPage, bool) {
	l, ok := commandLabels[name]
	if _, known := consoleCommands[name]; !ok || !known {
		return confirmPage{}, false
	}
	d := confirmPage{consoleBase: s.base(p, "fleet"), Kiosk: kiosk, Name: name, ZH: l.ZH, EN: l.EN, Explain: l.Explain,
		WantsMessage: slices.Contains(consoleCommands[name], "message"), WantsTicket: name == wire.CmdReprint,
		MayForce: slices.Contains(consoleCommands[name], "force")}
	return d, true
}

// consoleConfirm serves GET /console/kiosks/{kiosk}/confirm?name=lock: the confirmation step.
func (s *Server) consoleConfirm(w http.ResponseWriter, r *http.Request, p access.Principal) {
	if s.o.Fleet == nil {
		s.consoleUnavailable(w, lacksFleet)
		return
	}
	k, ok := s.kioskOf(r)
	if !ok {
		s.notFoundPage(w, "找不到这台自助机", "No such kiosk")
		return
	}
	d, ok := s.confirmData(p, k.ID.Kiosk, r.URL.Query().Get("name"))
	if !ok {
		s.notFoundPage(w, "没有这个指令", "No such command")
		return
	}
	s.pages.render(w, http.StatusOK, "console-confirm", d)
}

// consoleCommand serves POST /console/kiosks/{kiosk}/commands (a form: csrf, name, message,
// ticket, force): sends the command and shows the kiosk's reply; a refused form shows the
// confirmation again with what is wrong (400).
func (s *Server) consoleCommand(w http.ResponseWriter, r *http.Request, p access.Principal) {
	if s.o.Fleet == nil {
		s.consoleUnavailable(w, lacksFleet)
		return
	}
	k, ok := s.kioskOf(r)
	if !ok {
		s.notFoundPage(w, "找不到这台自助机", "No such kiosk")
		return
	}
	name := r.PostFormValue("name")
	d, ok := s.confirmData(p, k.ID.Kiosk, name)
	if !ok {
		s.notFoundPage(w, "没有这个指令", "No such command")
		return
	}
	d.Message, d.Ticket, d.Force = r.PostFormValue("message"), r.PostFormValue("ticket"), r.PostFormValue("force") != ""
	form := map[string]any{}
	if d.WantsMessage && strings.TrimSpace(d.Message) != "" {
		form["message"] = d.Message
	}
	if d.WantsTicket {
		form["ticket"] = d.Ticket
	}
	if d.MayForce && d.Force {
		form["force"] = true
	}
	raw, _ := json.Marshal(form)
	args, err := checkCommand(name, raw)
	if err != nil {
		d.Error = map[string]string{
			"reprint": "请填写号票号码，如 A012。 Enter the ticket's code, like A012.",
			"lock":    "说明最多 200 字，不能含控制字符。 The message is at most 200 characters.",
		}[name]
		if d.Error == "" {
			d.Error = err.Error()
		}
		s.pages.render(w, http.StatusBadRequest, "console-confirm", d)
		return
	}
	res := s.sendCommand(r, p, k, name, args)
	v := &resultView{ID: res.ID}
	switch {
	case !res.Sent:
		v.Title, v.EN, v.Class = "发送失败", "Could not be sent: the broker did not take it", "out-bad"
	case !res.Replied:
		v.Title, v.EN, v.Class = "无应答", fmt.Sprintf("No reply within %s", commandWait), "out-none"
	case res.Reply.OK:
		v.Title, v.EN, v.Class = "已执行", "Done: the kiosk replied OK", "out-ok"
		if len(res.Reply.Result) > 0 {
			v.Detail = string(res.Reply.Result)
		}
	default:
		v.Title, v.EN, v.Class, v.Error, v.Code = "被拒绝", "Refused by the kiosk", "out-bad", res.Reply.Error, res.Reply.Code
	}
	d.Result = v
	s.pages.render(w, http.StatusOK, "console-confirm", d)
}

// alertRow is one line of the alert log.
type alertRow struct {
	Kiosk, Code, Label, Severity, SeverityZH, Started, Ended, Duration string
	Open                                                               bool
}

func (s *Server) alertRowOf(a history.Alert, now time.Time) alertRow {
	row := alertRow{Kiosk: a.Kiosk, Code: a.Code, Label: alertZH(a.Code), Severity: a.Severity, SeverityZH: severityZH(a.Severity),
		Started: a.Started.In(s.o.Location).Format("2006-01-02 15:04:05")}
	end := now
	if a.Ended != nil {
		end = *a.Ended
		row.Ended = a.Ended.In(s.o.Location).Format("2006-01-02 15:04:05")
	} else {
		row.Open = true
	}
	row.Duration = durationZH(end.Sub(a.Started))
	return row
}

// durationZH is a duration as the crew reads it: 2 天 3 小时, 3 小时 5 分, 12 分, 40 秒.
func durationZH(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d 秒", max(0, int(d/time.Second)))
	case d < time.Hour:
		return fmt.Sprintf("%d 分", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d 小时 %d 分", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%d 天 %d 小时", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

type alertsPage struct {
	consoleBase
	Kiosks                              []string
	Kiosk, Code, Severity, Since, Until string
	Open                                bool
	Rows                                []alertRow
	Error                               string
	Limit                               int
	Full                                bool // as many rows as the limit: there may be more
	Channels                            []channelRow
}

// consoleAlerts serves /console/alerts: the alert log with the filters of GET /v1/alerts.
func (s *Server) consoleAlerts(w http.ResponseWriter, r *http.Request, p access.Principal) {
	if s.o.History == nil {
		s.consoleUnavailable(w, lacksHistory)
		return
	}
	q := r.URL.Query()
	d := alertsPage{consoleBase: s.base(p, "alerts"), Channels: s.channelRows(), Kiosk: q.Get("kiosk"), Code: q.Get("code"), Severity: q.Get("severity"),
		Since: q.Get("since"), Until: q.Get("until"), Open: q.Get("open") != "" && q.Get("open") != "0" && q.Get("open") != "false"}
	if s.o.Fleet != nil {
		for _, k := range s.o.Fleet.Kiosks() {
			if s.o.FleetHall == "" || k.ID.Hall == s.o.FleetHall {
				d.Kiosks = append(d.Kiosks, k.ID.Kiosk)
			}
		}
	}
	f, err := parseAlertQuery(q, s.o.Location)
	if err != nil {
		d.Error = "筛选条件有误：" + err.(*queryError).msg
		s.pages.render(w, http.StatusBadRequest, "console-alerts", d)
		return
	}
	as, err := s.o.History.Alerts(r.Context(), f)
	if err != nil {
		s.consoleFailed(w, r, err)
		return
	}
	now := s.o.Now()
	for _, a := range as {
		d.Rows = append(d.Rows, s.alertRowOf(a, now))
		if a.Kiosk != "" && !slices.Contains(d.Kiosks, a.Kiosk) {
			d.Kiosks = append(d.Kiosks, a.Kiosk)
		}
	}
	slices.Sort(d.Kiosks)
	d.Limit, d.Full = f.Limit, len(as) >= f.Limit
	s.pages.render(w, http.StatusOK, "console-alerts", d)
}

// reportRow is one kiosk's month.
type reportRow struct {
	Kiosk                 string
	OpenHours, ReadyHours string
	Share                 string // "98.5"
	Low                   bool   // under 95 %
	NoPaperMin            int64
	Tickets, Errors       int64
}

type reportPage struct {
	consoleBase
	Month, MonthZH, Prev, Next string
	Rows                       []reportRow
	Error                      string
}

// parseMonth reads month=2026-12 (in loc); "" is the month of now. ok false otherwise.
func parseMonth(v string, loc *time.Location, now time.Time) (time.Time, bool) {
	if v == "" {
		n := now.In(loc)
		return time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, loc), true
	}
	t, err := time.ParseInLocation("2006-01", v, loc)
	if err != nil || t.Year() < 2000 || t.Year() > 2999 {
		return time.Time{}, false
	}
	return t, true
}

func hoursOf(d time.Duration) string { return fmt.Sprintf("%.1f", d.Hours()) }

func reportRows(av []history.Availability) []reportRow {
	out := make([]reportRow, 0, len(av))
	for _, a := range av {
		row := reportRow{Kiosk: a.Kiosk, OpenHours: hoursOf(a.Open), ReadyHours: hoursOf(a.Ready),
			NoPaperMin: int64(a.NoPaper / time.Minute), Tickets: a.Tickets, Errors: a.Errors, Share: "—"}
		if a.Open > 0 {
			row.Share = fmt.Sprintf("%.1f", a.Share()*100)
			row.Low = a.Share() < 0.95
		}
		out = append(out, row)
	}
	return out
}

func (s *Server) month(w http.ResponseWriter, r *http.Request) (time.Time, []history.Availability, bool) {
	m, ok := parseMonth(r.URL.Query().Get("month"), s.o.Location, s.o.Now())
	if !ok {
		return m, nil, false
	}
	av, err := s.o.History.Month(r.Context(), m)
	if err != nil {
		s.consoleFailed(w, r, err)
		return m, nil, true
	}
	if av == nil {
		av = []history.Availability{}
	}
	return m, av, true
}

// consoleReport serves /console/report?month=2026-12: each kiosk's month against the opening
// hours.
func (s *Server) consoleReport(w http.ResponseWriter, r *http.Request, p access.Principal) {
	if s.o.History == nil {
		s.consoleUnavailable(w, lacksHistory)
		return
	}
	d := reportPage{consoleBase: s.base(p, "report")}
	m, av, ok := s.month(w, r)
	if !ok {
		d.Error = "月份格式为 2026-12 · The month is written 2026-12"
		m, _ = parseMonth("", s.o.Location, s.o.Now())
		d.Month, d.MonthZH = m.Format("2006-01"), m.Format("2006 年 1 月")
		d.Prev, d.Next = m.AddDate(0, -1, 0).Format("2006-01"), m.AddDate(0, 1, 0).Format("2006-01")
		s.pages.render(w, http.StatusBadRequest, "console-report", d)
		return
	}
	if av == nil {
		return // answered
	}
	d.Month, d.MonthZH = m.Format("2006-01"), m.Format("2006 年 1 月")
	d.Prev, d.Next = m.AddDate(0, -1, 0).Format("2006-01"), m.AddDate(0, 1, 0).Format("2006-01")
	d.Rows = reportRows(av)
	s.pages.render(w, http.StatusOK, "console-report", d)
}

// csvHeader is the report's CSV header: Chinese, with the English in brackets.
var csvHeader = []string{"月份(month)", "自助机(kiosk)", "开放时长_小时(open_hours)", "就绪时长_小时(ready_hours)",
	"可用率_百分比(ready_share_pct)", "缺纸_分钟(no_paper_min)", "取号数(tickets)", "错误数(errors)"}

// reportCSV is the month's rows as CSV cells (writeCSV).
func reportCSV(month string, rows []reportRow) [][]string {
	out := make([][]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, []string{month, r.Kiosk, r.OpenHours, r.ReadyHours, csvCell(r.Share), fmt.Sprint(r.NoPaperMin), fmt.Sprint(r.Tickets), fmt.Sprint(r.Errors)})
	}
	return out
}

// consoleReportCSV serves /console/report.csv?month=2026-12, an attachment.
func (s *Server) consoleReportCSV(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	if s.noHistory(w) {
		return
	}
	m, av, ok := s.month(w, r)
	if !ok {
		writeError(w, http.StatusBadRequest, "bad-month", "month is written 2026-12")
		return
	}
	if av == nil {
		return
	}
	month := m.Format("2006-01")
	writeCSV(w, "kiosk-availability-"+month+".csv", csvHeader, reportCSV(month, reportRows(av)))
}
