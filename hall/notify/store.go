package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"citizenhome/hall/history"
	"citizenhome/hall/ledger"
)

// Migrations are the package's tables in the ledger (cmd/halld opens them with the others).
//
// One row per (alert, phase, channel): its state, how many attempts it took, when the next is
// due, and the alert as it was when the row was made, so that a message can still be written
// after the history has pruned the alert.
var Migrations = []ledger.Migration{{Name: "notify-1", SQL: `
CREATE TABLE notify_delivery (
	alert_id   INTEGER NOT NULL,
	phase      TEXT NOT NULL CHECK (phase IN ('opened', 'ended')),
	channel    TEXT NOT NULL,
	state      TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
	target     TEXT NOT NULL,              -- the channel's URL and secret's fingerprint
	alert      TEXT NOT NULL,              -- history.Alert as JSON
	attempts   INTEGER NOT NULL DEFAULT 0,
	next_at    INTEGER NOT NULL,           -- unix ns: not before
	last_error TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (alert_id, phase, channel)
);
CREATE INDEX notify_delivery_due ON notify_delivery (channel, state, next_at);
`}}

// Phases and states as stored.
const (
	opened       = "opened"
	endedPhase   = "ended"
	pendingState = "pending"
	sent         = "sent"
	failed       = "failed"
)

type row struct {
	alert    history.Alert
	phase    string
	channel  string
	target   string
	attempts int
}

type key struct {
	id      int64
	channel string
}

type trackedAlert struct {
	alert  history.Alert
	target string
}

// tracked returns the (alert, channel) pairs with an "opened" row and no "ended" row yet.
func (n *Notifier) tracked(ctx context.Context) (map[key]trackedAlert, error) {
	rows, err := n.db.SQL().QueryContext(ctx, `SELECT d.alert_id, d.channel, d.alert, d.target FROM notify_delivery d
		WHERE d.phase = 'opened' AND NOT EXISTS (SELECT 1 FROM notify_delivery e
			WHERE e.alert_id = d.alert_id AND e.channel = d.channel AND e.phase = 'ended')`)
	if err != nil {
		return nil, ledgerErr("reading the notified alerts", err)
	}
	defer rows.Close()
	out := map[key]trackedAlert{}
	for rows.Next() {
		var k key
		var js, target string
		if err := rows.Scan(&k.id, &k.channel, &js, &target); err != nil {
			return nil, ledgerErr("reading the notified alerts", err)
		}
		var a history.Alert
		if err := json.Unmarshal([]byte(js), &a); err != nil {
			return nil, ledgerErr("reading the notified alerts", err)
		}
		out[k] = trackedAlert{alert: a, target: target}
	}
	return out, ledgerErr("reading the notified alerts", rows.Err())
}

// insert adds rows, due now, in one transaction; a row that exists stays as it is.
func (n *Notifier) insert(ctx context.Context, rs []row, now time.Time) error {
	if len(rs) == 0 {
		return nil
	}
	err := n.db.Tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO notify_delivery
			(alert_id, phase, channel, state, target, alert, next_at, created_at, updated_at)
			VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, r := range rs {
			js, err := json.Marshal(r.alert)
			if err != nil {
				return err
			}
			t := now.UnixNano()
			if _, err := st.ExecContext(ctx, r.alert.ID, r.phase, r.channel, r.target, string(js), t, t, t); err != nil {
				return err
			}
		}
		return nil
	})
	return ledgerErr("recording due messages", err)
}

// dueRows returns the channel's pending rows due at now, oldest first; an alert's opening
// before its end.
func (n *Notifier) dueRows(ctx context.Context, ch string, now time.Time) ([]row, error) {
	rows, err := n.db.SQL().QueryContext(ctx, `SELECT alert_id, phase, alert, attempts, target FROM notify_delivery
		WHERE channel = ? AND state = 'pending' AND next_at <= ?
		ORDER BY next_at, alert_id, phase = 'ended' LIMIT 50`, ch, now.UnixNano())
	if err != nil {
		return nil, ledgerErr("reading due messages", err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		r := row{channel: ch}
		var id int64
		var js string
		if err := rows.Scan(&id, &r.phase, &js, &r.attempts, &r.target); err != nil {
			return nil, ledgerErr("reading due messages", err)
		}
		if err := json.Unmarshal([]byte(js), &r.alert); err != nil {
			return nil, ledgerErr("reading due messages", err)
		}
		r.alert.ID = id
		out = append(out, r)
	}
	return out, ledgerErr("reading due messages", rows.Err())
}

// openedState returns the state of the alert's "opened" row on ch and when it is next due.
func (n *Notifier) openedState(ctx context.Context, id int64, ch string) (string, time.Time, error) {
	var st string
	var next int64
	err := n.db.SQL().QueryRowContext(ctx, `SELECT state, next_at FROM notify_delivery WHERE alert_id = ? AND phase = 'opened' AND channel = ?`, id, ch).Scan(&st, &next)
	if err == sql.ErrNoRows {
		// Cannot happen (an ended row is made for an opened one only); treat as delivered
		// rather than hold the end for ever.
		return sent, time.Time{}, nil
	}
	return st, time.Unix(0, next), ledgerErr("reading an opening's state", err)
}

func (n *Notifier) finish(ctx context.Context, c channel, r row, state, msg string, now time.Time) {
	_, err := n.db.SQL().ExecContext(ctx, `UPDATE notify_delivery SET state = ?, attempts = attempts + 1, last_error = ?, updated_at = ?
		WHERE alert_id = ? AND phase = ? AND channel = ?`, state, msg, now.UnixNano(), r.alert.ID, r.phase, r.channel)
	if err != nil {
		n.o.Log.Error("notify: recording a delivery", "channel", c.Name, "alert", r.alert.ID, "phase", r.phase, "state", state, "err", err)
		n.failed(c, ledgerErr("recording a delivery", err), now)
	}
}

func (n *Notifier) retry(ctx context.Context, c channel, r row, msg string, now, next time.Time) {
	_, err := n.db.SQL().ExecContext(ctx, `UPDATE notify_delivery SET attempts = attempts + 1, last_error = ?, next_at = ?, updated_at = ?
		WHERE alert_id = ? AND phase = ? AND channel = ?`, msg, next.UnixNano(), now.UnixNano(), r.alert.ID, r.phase, r.channel)
	if err != nil {
		n.o.Log.Error("notify: recording a retry", "channel", c.Name, "alert", r.alert.ID, "err", err)
	}
}

func (n *Notifier) setNext(ctx context.Context, r row, next time.Time) {
	n.db.SQL().ExecContext(ctx, `UPDATE notify_delivery SET next_at = ? WHERE alert_id = ? AND phase = ? AND channel = ?`,
		next.UnixNano(), r.alert.ID, r.phase, r.channel)
}

// prune deletes the rows of alerts whose end was delivered (or refused) more than keep ago.
// An alert still open keeps its rows whatever their age: deleting them would notify it again.
func (n *Notifier) prune(ctx context.Context, now time.Time) error {
	_, err := n.db.SQL().ExecContext(ctx, `DELETE FROM notify_delivery WHERE EXISTS (SELECT 1 FROM notify_delivery e
		WHERE e.alert_id = notify_delivery.alert_id AND e.channel = notify_delivery.channel
		AND e.phase = 'ended' AND e.state IN ('sent', 'failed') AND e.updated_at < ?)`, now.Add(-keep).UnixNano())
	return ledgerErr("pruning", err)
}

// resetChanged makes the failed rows of each channel whose URL or secret changed pending
// again: the refusal was likely the old key's.
func (n *Notifier) resetChanged(ctx context.Context) error {
	now := n.o.Now().UnixNano()
	for _, c := range n.chans {
		_, err := n.db.SQL().ExecContext(ctx, `UPDATE notify_delivery SET state = 'pending', attempts = 0, next_at = ?, target = ?, updated_at = ?
			WHERE channel = ? AND state = 'failed' AND target <> ?`, now, c.target, now, c.Name, c.target)
		if err != nil {
			return ledgerErr("retrying a changed channel's refused messages", err)
		}
	}
	return nil
}
