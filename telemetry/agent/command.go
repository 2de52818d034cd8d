package agent

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"citizenhome/kiosk"
	"citizenhome/kiosk/queue"
	"citizenhome/telemetry/wire"
)

// Commands are handled one at a time, in the order the broker delivers them, by commandLoop.
// Each gets exactly one reply, and its delivery is acknowledged to the broker only once the
// reply is recorded and published: a kiosk that dies meanwhile gets the command again, and a
// command it had already recorded is answered from the audit table instead of run twice.

type inbound struct {
	payload  []byte
	ack      func()
	received time.Time
}

// refusal is a command not executed, with the reply's code.
type refusal struct {
	code string
	msg  string
}

func (r *refusal) Error() string { return r.code + ": " + r.msg }

func refuse(code, format string, args ...any) error {
	return &refusal{code: code, msg: fmt.Sprintf(format, args...)}
}

// runner runs a prepared command; after, when not nil, writes in the audit transaction.
type runner func(ctx context.Context) (result any, after func(tx *sql.Tx) error, err error)

// A command acts on the kiosk through the staff handle of its sender (kiosk.Remote), as staff on
// site do through theirs: one method per action, whoever asks. Its audit row is finish's.
type handler struct {
	// waits: the command disturbs a citizen, so it waits for a transaction to end.
	waits   bool
	prepare func(a *Agent, h *kiosk.StaffHandle, cmd wire.Command, args map[string]json.RawMessage) (runner, error)
}

var handlers = map[string]handler{
	wire.CmdReset:         {waits: true, prepare: prepReset},
	wire.CmdLock:          {waits: true, prepare: prepLock},
	wire.CmdUnlock:        {prepare: prepUnlock},
	wire.CmdReprint:       {waits: true, prepare: prepReprint},
	wire.CmdReloadCatalog: {prepare: prepReload},
	wire.CmdRebirth:       {prepare: prepRebirth},
	wire.CmdSelftest:      {waits: true, prepare: prepSelftest},
	wire.CmdSetConfig:     {prepare: prepSetConfig},
}

func (a *Agent) commandLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case in := <-a.cmds:
			a.handle(ctx, in)
		}
	}
}

func (a *Agent) handle(ctx context.Context, in inbound) {
	reply := a.process(ctx, in)
	c := a.current()
	if c == nil {
		return // not acknowledged: the broker delivers it again, and the audit answers
	}
	if err := c.acked(ctx, c.publish(a.id.Topic(wire.KindReply), false, reply), 10*time.Second); err != nil {
		a.log.Warn("command reply not acknowledged; it is answered again when the command comes back", "err", err)
		return
	}
	in.ack()
}

// process decides and records a command's one reply.
func (a *Agent) process(ctx context.Context, in inbound) []byte {
	cmd, err := wire.ParseCommand(in.payload)
	if err != nil {
		var ce *wire.CommandError
		if !errors.As(err, &ce) {
			ce = &wire.CommandError{Code: wire.RefuseMalformed, Msg: err.Error()}
		}
		if ce.ID != "" {
			if r, ok := a.storedReply(ctx, ce.ID); ok {
				return r
			}
		}
		cmd = wire.Command{ID: ce.ID}
		return a.finish(ctx, cmd, in.received, false, &refusal{code: ce.Code, msg: ce.Msg}, nil, nil)
	}
	if r, ok := a.storedReply(ctx, cmd.ID); ok {
		a.log.Info("command repeated: answering with its first reply", "id", cmd.ID, "name", cmd.Name)
		return r
	}
	// A kiosk given the hall's key runs only what the hall signed for it; the expiry's bound
	// holds for every command, so that a captured command cannot be replayed for long.
	var ce *wire.CommandError
	if len(a.o.CommandKey) > 0 {
		if err := wire.VerifyCommand(a.o.CommandKey, a.id, cmd); errors.As(err, &ce) {
			a.log.Warn("command refused: not signed by the hall", "id", cmd.ID, "name", cmd.Name, "code", ce.Code)
			return a.finish(ctx, cmd, in.received, false, &refusal{code: ce.Code, msg: ce.Msg}, nil, nil)
		}
	}
	if err := wire.CheckExpiry(cmd, a.stamp(a.now())); errors.As(err, &ce) {
		return a.finish(ctx, cmd, in.received, false, &refusal{code: ce.Code, msg: ce.Msg}, nil, nil)
	}
	h, ok := handlers[cmd.Name]
	if !ok {
		return a.finish(ctx, cmd, in.received, false, refuse(wire.RefuseUnknown, "no command %q (known: %s)", cmd.Name, strings.Join(slices.Sorted(maps.Keys(handlers)), ", ")), nil, nil)
	}
	args := map[string]json.RawMessage{}
	if len(cmd.Args) > 0 {
		_ = json.Unmarshal(cmd.Args, &args) // ParseCommand checked it is an object
	}
	force := false
	if f, ok := args["force"]; ok {
		if err := json.Unmarshal(f, &force); err != nil {
			return a.finish(ctx, cmd, in.received, false, refuse(wire.RefuseBadArgs, "args.force must be true or false"), nil, nil)
		}
		delete(args, "force")
	}
	run, err := h.prepare(a, a.k.Staff(kiosk.Remote(cmd.By)), cmd, args)
	if err != nil {
		return a.finish(ctx, cmd, in.received, false, err, nil, nil)
	}
	if h.waits && !force && !a.waitIdle(ctx) {
		return a.finish(ctx, cmd, in.received, false, refuse(wire.RefuseBusy, "a citizen's transaction did not end within %s; try again, or send it with args.force", a.o.MaxDefer), nil, nil)
	}
	a.log.Info("executing command", "id", cmd.ID, "name", cmd.Name, "by", cmd.By)
	result, after, err := run(ctx)
	var rf *refusal
	executed := err == nil || !errors.As(err, &rf)
	return a.finish(ctx, cmd, in.received, executed, err, result, after)
}

// waitIdle waits, at most MaxDefer, until no citizen's transaction is in progress.
func (a *Agent) waitIdle(ctx context.Context) bool {
	deadline := time.Now().Add(a.o.MaxDefer)
	for a.k.Sessions().InTransaction() {
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return true
}

// storedReply is the reply a command id already got, if any.
func (a *Agent) storedReply(ctx context.Context, id string) ([]byte, bool) {
	var r string
	err := a.st.DB().QueryRowContext(ctx, `SELECT reply FROM command_audit WHERE id = ?`, id).Scan(&r)
	if err != nil {
		if !errors.Is(err, sql.ErrNoRows) {
			a.log.Error("audit not readable", "err", err)
		}
		return nil, false
	}
	return []byte(r), true
}

// commandDone is the data of a command.done event.
type commandDone struct {
	Command string `json:"command"` // the command id
	Name    string `json:"name"`
	By      string `json:"by"`
	OK      bool   `json:"ok"`
	Error   string `json:"error,omitempty"`
}

// finish builds the reply and writes the audit row (with the command.done event and after, for
// an executed command) in one transaction. A command without an id cannot be recorded; it is
// answered all the same.
func (a *Agent) finish(ctx context.Context, cmd wire.Command, received time.Time, executed bool, err error, result any, after func(tx *sql.Tx) error) []byte {
	rep := wire.Reply{ID: cmd.ID, OK: err == nil, TS: a.stamp(a.now())}
	if err != nil {
		rep.Error = err.Error()
		rep.Code = wire.RefuseFailed
		var rf *refusal
		if errors.As(err, &rf) {
			rep.Code, rep.Error = rf.code, rf.msg
		}
	}
	if result != nil {
		if b, merr := json.Marshal(result); merr == nil {
			rep.Result = b
		}
	}
	b, _ := json.Marshal(rep)
	if cmd.ID == "" {
		return b
	}
	args := "{}"
	if len(cmd.Args) > 0 {
		args = string(cmd.Args)
	}
	row := kiosk.AuditEntry{ID: cmd.ID, Name: cmd.Name, By: cmd.By, Args: args, Received: received, At: a.now(),
		Executed: executed, OK: rep.OK, Error: rep.Error, Reply: string(b)}
	werr := a.st.Tx(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
		if err := kiosk.RecordAudit(tx, row); err != nil {
			return err
		}
		if !executed {
			return nil
		}
		if err := a.out.RecordEvent(tx, wire.EventCommandDone, commandDone{Command: cmd.ID, Name: cmd.Name, By: cmd.By, OK: rep.OK, Error: rep.Error}); err != nil {
			return err
		}
		if after != nil {
			return after(tx)
		}
		return nil
	})
	if werr != nil {
		a.log.Error("command not written to the audit table", "id", cmd.ID, "name", cmd.Name, "err", werr)
	}
	return b
}

// onlyArgs refuses arguments outside known.
func onlyArgs(args map[string]json.RawMessage, known ...string) error {
	for k := range args {
		if !slices.Contains(known, k) {
			return refuse(wire.RefuseBadArgs, "unknown argument %q", k)
		}
	}
	return nil
}

func stringArg(args map[string]json.RawMessage, key string, required bool, maxRunes int) (string, error) {
	raw, ok := args[key]
	if !ok {
		if required {
			return "", refuse(wire.RefuseBadArgs, "args.%s is required", key)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", refuse(wire.RefuseBadArgs, "args.%s must be a string", key)
	}
	if utf8.RuneCountInString(s) > maxRunes || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", refuse(wire.RefuseBadArgs, "args.%s must be at most %d characters, without control characters", key, maxRunes)
	}
	return s, nil
}

func (a *Agent) deviceStates() map[string]string {
	out := map[string]string{}
	for n, d := range a.k.Devices() {
		out[n] = string(d.State)
	}
	return out
}

func prepReset(a *Agent, h *kiosk.StaffHandle, cmd wire.Command, args map[string]json.RawMessage) (runner, error) {
	if err := onlyArgs(args); err != nil {
		return nil, err
	}
	return func(ctx context.Context) (any, func(*sql.Tx) error, error) {
		h.Reset(ctx)
		// Re-check the devices: the printer is asked at once rather than at its next poll.
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		h.PaperReplaced(pctx)
		cancel()
		after := func(tx *sql.Tx) error {
			return a.out.RecordEvent(tx, wire.EventKioskReset, map[string]string{"command": cmd.ID, "by": cmd.By})
		}
		return map[string]any{"devices": a.deviceStates()}, after, nil
	}, nil
}

func prepLock(a *Agent, h *kiosk.StaffHandle, cmd wire.Command, args map[string]json.RawMessage) (runner, error) {
	if err := onlyArgs(args, "message"); err != nil {
		return nil, err
	}
	msg, err := stringArg(args, "message", false, 200)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) (any, func(*sql.Tx) error, error) {
		return map[string]string{"message": h.Lock(ctx, msg)}, nil, nil
	}, nil
}

func prepUnlock(a *Agent, h *kiosk.StaffHandle, cmd wire.Command, args map[string]json.RawMessage) (runner, error) {
	if err := onlyArgs(args); err != nil {
		return nil, err
	}
	return func(ctx context.Context) (any, func(*sql.Tx) error, error) {
		h.Unlock(ctx)
		return nil, nil, nil
	}, nil
}

func prepReprint(a *Agent, h *kiosk.StaffHandle, cmd wire.Command, args map[string]json.RawMessage) (runner, error) {
	if err := onlyArgs(args, "ticket"); err != nil {
		return nil, err
	}
	code, err := stringArg(args, "ticket", true, 8)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) (any, func(*sql.Tx) error, error) {
		if code == kiosk.LastTicket {
			// The hall names the ticket: "" is no ticket code (not the staff screen's last one).
			return nil, nil, refuse(wire.RefuseBadArgs, "args.ticket %q is not a ticket code like A012", code)
		}
		t, err := h.Reprint(ctx, code)
		switch {
		case t.ID != 0 && err != nil: // found, and its printing failed
			return map[string]string{"ticket": t.Code}, nil, err
		case t.ID != 0:
			return map[string]string{"ticket": t.Code}, nil, nil
		case errors.Is(err, queue.ErrNotFound):
			return nil, nil, refuse(wire.RefuseNotFound, "no ticket %s today", strings.ToUpper(strings.TrimSpace(code)))
		case errors.Is(err, queue.ErrInvalid):
			return nil, nil, refuse(wire.RefuseBadArgs, "args.ticket %q is not a ticket code like A012", code)
		}
		return nil, nil, err
	}, nil
}

func prepReload(a *Agent, h *kiosk.StaffHandle, cmd wire.Command, args map[string]json.RawMessage) (runner, error) {
	if err := onlyArgs(args); err != nil {
		return nil, err
	}
	return func(ctx context.Context) (any, func(*sql.Tx) error, error) {
		if err := h.ReloadCatalog(ctx); err != nil {
			return nil, nil, err
		}
		c := a.k.Catalog()
		return map[string]any{"version": c.Version(), "matters": len(c.All())}, nil, nil
	}, nil
}

func prepRebirth(a *Agent, _ *kiosk.StaffHandle, cmd wire.Command, args map[string]json.RawMessage) (runner, error) {
	if err := onlyArgs(args); err != nil {
		return nil, err
	}
	return func(context.Context) (any, func(*sql.Tx) error, error) {
		a.Rebirth()
		return nil, nil, nil
	}, nil
}

func prepSelftest(a *Agent, h *kiosk.StaffHandle, cmd wire.Command, args map[string]json.RawMessage) (runner, error) {
	if err := onlyArgs(args); err != nil {
		return nil, err
	}
	return func(ctx context.Context) (any, func(*sql.Tx) error, error) {
		st, err := h.SelfTest(ctx)
		res := map[string]any{"printer": string(st), "devices": a.deviceStates()}
		return res, nil, err
	}, nil
}

// RemoteSettings are the configuration keys the hall may change with set-config, each with its
// check-and-apply. Any other key is refused. Values are strings, as in the configuration file.
// Check is the value's own rule; a value may also have to fit the kiosk's other settings (an
// idle timeout above the configured idle warning), which set-config checks, for every key,
// before it applies any: a refused set-config changes nothing.
var RemoteSettings = map[string]struct {
	Check func(string) error
	fits  func(a *Agent, v string) error // nil: Check is enough
	apply func(ctx context.Context, h *kiosk.StaffHandle, v string) error
}{
	"kiosk.idle_timeout": {
		Check: func(v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < kiosk.MinIdleTimeout || d > kiosk.MaxIdleTimeout {
				return fmt.Errorf("%q must be a duration between %s and %s", v, kiosk.MinIdleTimeout, kiosk.MaxIdleTimeout)
			}
			return nil
		},
		fits: func(a *Agent, v string) error {
			d, _ := time.ParseDuration(v)
			if _, warn := a.k.Sessions().Timeout(); d <= warn {
				return fmt.Errorf("%q must be above the idle warning (%s)", v, warn)
			}
			return nil
		},
		apply: func(ctx context.Context, h *kiosk.StaffHandle, v string) error {
			d, _ := time.ParseDuration(v)
			return h.SetIdleTimeout(ctx, d)
		},
	},
	"hall.locked_message": {
		Check: func(v string) error {
			if utf8.RuneCountInString(v) > 200 || strings.IndexFunc(v, unicode.IsControl) >= 0 {
				return errors.New("must be at most 200 characters, without control characters")
			}
			return nil
		},
		apply: func(ctx context.Context, h *kiosk.StaffHandle, v string) error {
			h.SetLockedMessage(ctx, v)
			return nil
		},
	},
}

func prepSetConfig(a *Agent, h *kiosk.StaffHandle, cmd wire.Command, args map[string]json.RawMessage) (runner, error) {
	if len(args) == 0 {
		return nil, refuse(wire.RefuseBadArgs, "args must name at least one setting, like {\"kiosk.idle_timeout\": \"90s\"}")
	}
	vals := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(args)) {
		s, ok := RemoteSettings[k]
		if !ok {
			return nil, refuse(wire.RefuseBadArgs, "%q cannot be changed remotely (allowed: %s)", k, strings.Join(slices.Sorted(maps.Keys(RemoteSettings)), ", "))
		}
		var v string
		if err := json.Unmarshal(args[k], &v); err != nil {
			return nil, refuse(wire.RefuseBadArgs, "%s: the value must be a string", k)
		}
		if err := s.Check(v); err != nil {
			return nil, refuse(wire.RefuseBadArgs, "%s: %v", k, err)
		}
		if s.fits != nil {
			if err := s.fits(a, v); err != nil {
				return nil, refuse(wire.RefuseBadArgs, "%s: %v", k, err)
			}
		}
		vals[k] = v
	}
	return func(ctx context.Context) (any, func(*sql.Tx) error, error) {
		for _, k := range slices.Sorted(maps.Keys(vals)) {
			if err := RemoteSettings[k].apply(ctx, h, vals[k]); err != nil {
				return nil, nil, refuse(wire.RefuseBadArgs, "%s: %v", k, err)
			}
		}
		after := func(tx *sql.Tx) error {
			for k, v := range vals {
				if _, err := tx.Exec(`INSERT INTO remote_setting (key, value, set_by, set_at) VALUES (?, ?, ?, ?)
					ON CONFLICT (key) DO UPDATE SET value = excluded.value, set_by = excluded.set_by, set_at = excluded.set_at`,
					k, v, cmd.By, a.now().UnixNano()); err != nil {
					return err
				}
			}
			return nil
		}
		return vals, after, nil
	}, nil
}

// applyStoredSettings applies the settings the hall changed remotely before this start. One
// that no longer passes its check (the rules changed) is skipped with a warning.
func (a *Agent) applyStoredSettings(ctx context.Context) error {
	rows, err := a.st.DB().QueryContext(ctx, `SELECT key, value, set_by FROM remote_setting ORDER BY key`)
	if err != nil {
		return fmt.Errorf("telemetry: remote settings: %w", err)
	}
	defer rows.Close()
	type kv struct{ k, v, by string }
	var all []kv
	for rows.Next() {
		var x kv
		if err := rows.Scan(&x.k, &x.v, &x.by); err != nil {
			return fmt.Errorf("telemetry: remote settings: %w", err)
		}
		all = append(all, x)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("telemetry: remote settings: %w", err)
	}
	rows.Close()
	for _, x := range all {
		s, ok := RemoteSettings[x.k]
		if !ok || s.Check(x.v) != nil {
			a.log.Warn("remote setting no longer allowed; ignored", "key", x.k)
			continue
		}
		// As the hall user who set it.
		if err := s.apply(ctx, a.k.Staff(kiosk.Remote(x.by)), x.v); err != nil {
			a.log.Warn("remote setting not applied", "key", x.k, "err", err)
		}
	}
	return nil
}
