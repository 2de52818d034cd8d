package agent

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"citizenhome/kiosk"
	"citizenhome/telemetry/wire"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// report publishes the birth, then keeps state, alerts and status up to date for one session.
// It is the only goroutine that publishes them, so what was published needs no lock.
func (a *Agent) report(ctx context.Context, c *conn) {
	if err := a.birth(ctx, c, true); err != nil {
		c.fail(err)
		return
	}
	close(c.born)
	hb := time.NewTicker(a.o.Heartbeat)
	defer hb.Stop()
	// Every status counts as a heartbeat: the ticker starts again after each, so a heartbeat
	// never follows a change's status closer than the debounce allows.
	status := func() error {
		err := a.publishStatus(ctx, c)
		hb.Reset(a.o.Heartbeat)
		return err
	}
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	armed, dirty := false, false
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.lost:
			return
		case <-a.rebirth:
			if err := a.birth(ctx, c, false); err != nil {
				c.fail(err)
				return
			}
			dirty = false
		case <-a.changed:
			if err := a.sync(ctx, c); err != nil {
				c.fail(err)
				return
			}
			dirty = true
			if wait := StatusEvery - time.Since(c.lastStatus); wait > 0 {
				if !armed {
					debounce.Reset(wait)
					armed = true
				}
				continue
			}
			if err := status(); err != nil {
				c.fail(err)
				return
			}
			dirty = false
		case <-debounce.C:
			armed = false
			if dirty {
				if err := status(); err != nil {
					c.fail(err)
					return
				}
				dirty = false
			}
		case <-hb.C:
			if err := a.sync(ctx, c); err != nil {
				c.fail(err)
				return
			}
			if err := status(); err != nil {
				c.fail(err)
				return
			}
			dirty = false
		}
	}
}

// birth publishes state (init on a new session), status and every alert, then the state now.
// Alerts the broker may still retain from an earlier session and no longer active are cleared.
func (a *Agent) birth(ctx context.Context, c *conn, first bool) error {
	if first {
		c.state, c.stateSince = wire.StateInit, a.now()
		if err := a.publishState(c); err != nil {
			return err
		}
	}
	if err := a.publishStatus(ctx, c); err != nil {
		return err
	}
	active := a.activeAlerts()
	retained, err := retainedAlerts(ctx, a.st)
	if err != nil {
		return err
	}
	for code := range c.alerts {
		retained[code] = true
	}
	for _, code := range slices.Sorted(maps.Keys(active)) {
		if err := a.raise(ctx, c, active[code]); err != nil {
			return err
		}
	}
	for code := range retained {
		if _, ok := active[code]; !ok {
			a.clear(ctx, c, code)
		}
	}
	st := a.lifecycle()
	if st != c.state || !first {
		if st != c.state {
			c.stateSince = a.now()
		}
		c.state = st
		return a.publishState(c)
	}
	return nil
}

// sync publishes the lifecycle state if it changed and raises or clears alerts that changed.
func (a *Agent) sync(ctx context.Context, c *conn) error {
	active := a.activeAlerts()
	for _, code := range slices.Sorted(maps.Keys(active)) {
		if !c.alerts[code] {
			if err := a.raise(ctx, c, active[code]); err != nil {
				return err
			}
		}
	}
	for code := range c.alerts {
		if _, ok := active[code]; !ok {
			a.clear(ctx, c, code)
		}
	}
	if st := a.lifecycle(); st != c.state {
		c.state, c.stateSince = st, a.now()
		return a.publishState(c)
	}
	return nil
}

func (a *Agent) publishState(c *conn) error {
	b, err := jsonMarshal(wire.State{State: c.state, Boot: c.boot, Since: a.stamp(c.stateSince), Version: a.o.Version})
	if err != nil {
		return err
	}
	c.publish(a.id.Topic(wire.KindState), true, b)
	return nil
}

// raise publishes an alert, after recording its code as possibly retained, so that a crash
// right after cannot leave an alert on the broker that the next session does not know to clear.
func (a *Agent) raise(ctx context.Context, c *conn, al wire.Alert) error {
	if err := setRetainedAlert(ctx, a.st, al.Code, true); err != nil {
		return err
	}
	_, err := c.publishSeq(a.id.Topic(wire.KindAlert, al.Code), true, func(seq int64) ([]byte, error) {
		al.Boot, al.Seq = c.boot, seq
		return jsonMarshal(al)
	})
	if err != nil {
		return err
	}
	c.alerts[al.Code] = true
	return nil
}

// clear publishes the empty retained payload that ends an alert, and forgets the code once the
// broker has acknowledged it.
func (a *Agent) clear(ctx context.Context, c *conn, code string) {
	delete(c.alerts, code)
	tok := c.publish(a.id.Topic(wire.KindAlert, code), true, nil)
	go func() {
		if err := c.acked(context.WithoutCancel(ctx), tok, 30*time.Second); err != nil {
			return // still recorded: the next birth clears it again
		}
		if err := setRetainedAlert(context.WithoutCancel(ctx), a.st, code, false); err != nil {
			a.log.Warn("cleared alert not forgotten", "code", code, "err", err)
		}
	}()
}

// Device names and states in alert messages, Chinese first.
var (
	deviceNames = map[string]string{
		kiosk.DevicePrinter: "打印机 printer", kiosk.DeviceIDReader: "身份证阅读器 ID card reader",
		kiosk.DeviceCardReader: "市民卡读卡器 city card reader",
	}
	stateNames = map[kiosk.DeviceState]string{
		kiosk.StatePaperLow: "纸将用尽 paper low", kiosk.StatePaperOut: "缺纸 out of paper",
		kiosk.StateCoverOpen: "机盖打开 cover open", kiosk.StateError: "故障 error",
		kiosk.StateOffline: "无响应 not answering",
	}
)

// kioskMessages are the messages of the kiosk's own alerts (of device "kiosk"), Chinese first.
var kioskMessages = map[string]string{
	kiosk.AlertHelpRequested:   "市民呼叫工作人员 a citizen asks for staff at this kiosk",
	kiosk.AlertStaffPINLockout: "工作人员密码多次输错，已锁定 staff PIN entry locked after repeated wrong PINs (someone may be guessing it)",
}

// activeAlerts are the core's alerts (Kiosk.Alerts: one per device in a fault state, coded
// "{device}-{state}", "printer-paper-out"; paper-low a warning, the rest errors; a citizen's
// call for staff, help-requested, and a locked staff PIN entry, staff-pin-lockout, warnings of
// device "kiosk") as the contract publishes them.
func (a *Agent) activeAlerts() map[string]wire.Alert {
	out := map[string]wire.Alert{}
	for _, al := range a.k.Alerts() {
		if !wire.ValidCode(al.Code) {
			continue
		}
		sev := wire.SeverityError
		if al.Warning {
			sev = wire.SeverityWarning
		}
		dn := deviceNames[al.Device]
		if msg, ok := kioskMessages[al.Code]; ok {
			out[al.Code] = wire.Alert{Severity: sev, Device: al.Device, Code: al.Code, Message: msg, Since: a.stamp(al.Since)}
			continue
		}
		if dn == "" {
			dn = al.Device
		}
		sn := stateNames[al.State]
		if sn == "" {
			sn = string(al.State)
		}
		out[al.Code] = wire.Alert{Severity: sev, Device: al.Device, Code: al.Code, Message: dn + ": " + sn, Since: a.stamp(al.Since)}
	}
	return out
}

// contractDevices are the devices every status names (spec: printer, id-reader, card-reader),
// "absent" when the kiosk has not configured one, so that a reader never has to guess what a
// missing key means.
var contractDevices = []string{kiosk.DevicePrinter, kiosk.DeviceIDReader, kiosk.DeviceCardReader}

// Snapshot builds the status snapshot as it would be published now; the local API's /v1/status
// serves it. Its boot and seq are those of the session up now and the last message it sent
// (both 0 while disconnected); a published status carries its own seq.
func (a *Agent) Snapshot(ctx context.Context) wire.Status {
	now := a.now()
	s := wire.Status{
		TS: a.stamp(now), Version: a.o.Version, State: a.lifecycle(), Session: wire.SessionIdle,
		UptimeS: int64(a.k.Uptime() / time.Second), Devices: map[string]wire.Device{},
		Alerts: slices.Sorted(maps.Keys(a.activeAlerts())),
	}
	if s.Alerts == nil {
		s.Alerts = []string{} // a list, never null, for readers that iterate it
	}
	if c := a.current(); c != nil {
		c.mu.Lock()
		s.Boot, s.Seq = c.boot, c.seq
		c.mu.Unlock()
	}
	if _, ok := a.k.Sessions().Active(); ok {
		s.Session = wire.SessionInUse
	}
	if locked, msg := a.k.Locked(); locked {
		s.LockMessage = msg
	}
	for _, name := range contractDevices {
		s.Devices[name] = wire.Device{State: string(kiosk.StateAbsent), Since: a.stamp(a.k.Started())}
	}
	for name, d := range a.k.Devices() {
		s.Devices[name] = wire.Device{State: string(d.State), Detail: d.Detail, Since: a.stamp(d.Since)}
	}
	if n, err := a.k.TicketCounts(ctx); err == nil {
		s.Counters.Tickets = int64(n.Issued)
	}
	// card_reads and errors come from the store's daily counters plus what is not written yet,
	// so a restart the same day does not set them back to 0.
	day, cardReads, errs := a.counters(ctx)
	s.Counters.CardReads, s.Counters.Errors = cardReads, errs
	// Ratings are counted from their table (a missing table, before the hall migration, is 0):
	// a counter in memory would restart at zero with the process.
	_ = a.st.DB().QueryRowContext(ctx, `SELECT count(*) FROM hall_rating WHERE day = ?`, day).Scan(&s.Counters.Ratings)
	// Receipts are the payments whose receipt was (last) printed since local midnight, from the
	// payment journal for the same reason (no table before the payments migration: 0).
	y, m, d := now.In(a.loc).Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, a.loc)
	_ = a.st.DB().QueryRowContext(ctx, `SELECT count(*) FROM payment WHERE receipt = 'printed' AND receipt_at >= ? AND receipt_at < ?`,
		midnight.UnixNano(), midnight.AddDate(0, 0, 1).UnixNano()).Scan(&s.Counters.Receipts)
	if n, err := a.out.Len(ctx); err == nil {
		s.Outbox = n
	}
	return s
}

func (a *Agent) publishStatus(ctx context.Context, c *conn) error {
	s := a.Snapshot(ctx)
	s.Boot = c.boot
	_, err := c.publishSeq(a.id.Topic(wire.KindStatus), true, func(seq int64) ([]byte, error) {
		s.Seq = seq
		return jsonMarshal(s)
	})
	c.lastStatus = time.Now()
	return err
}
