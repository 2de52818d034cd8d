package kiosk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/queue"
	"citizenhome/telemetry/wire"
)

// What the hall's telemetry (telemetry/agent) hooks into: the event outbox written in the same
// transaction as the business record, and the few settings the hall may change remotely.

// EventRecorder writes one event for the hall into the store, inside tx: the transaction that
// commits the business record the event describes, so that the record and its event commit or
// roll back together. data must marshal to a JSON object and hold no personal data. An error
// rolls the whole transaction back (the ticket is then not issued).
type EventRecorder interface {
	RecordEvent(tx *sql.Tx, typ string, data any) error
}

// SetEventRecorder installs the outbox (telemetry does, before the kiosk serves). nil removes
// it: events are then not recorded.
func (k *Kiosk) SetEventRecorder(r EventRecorder) {
	k.mu.Lock()
	k.events = r
	k.mu.Unlock()
}

func (k *Kiosk) recorder() EventRecorder {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.events
}

// TicketEvent is the data of the ticket.issued and ticket.reprinted events: the contract's
// wire.TicketIssued. It holds no personal data. Without a hall controller it carries none of the
// numbering's additions (take, lease, number, lookup, issued_at, abandoned), as before them.
type TicketEvent = wire.TicketIssued

func ticketEvent(t queue.Ticket) TicketEvent {
	e := TicketEvent{
		Ticket: t.Code, Day: t.Day, Category: t.Category, Priority: t.Priority,
		PriorityReason: t.PriorityReason, Matter: t.MatterID, Section: t.Section,
		WaitingAhead: t.WaitingAhead, EstimatedWaitS: int64(t.EstimatedWait / time.Second),
	}
	// A ticket of the hall's numbering tells halld where its number came from, and what halld
	// needs to queue it as printed (the lookup code opens the public ticket page).
	switch t.Source {
	case queue.SourceGiven:
		e.Take = t.TakeID
	case queue.SourceLease:
		e.Lease = true
	default:
		return e
	}
	e.Number, e.Lookup, e.IssuedAt = t.Number, t.LookupCode, t.IssuedAt.Truncate(time.Millisecond)
	return e
}

// recordIssued runs inside the ticket's issuing transaction (queue.IssueWith, IssueGiven,
// IssueLeased). A ticket of the hall's numbering names the takes abandoned since the last one,
// which are forgotten when the transaction commits.
func (k *Kiosk) recordIssued(ctx context.Context, tx *sql.Tx, t queue.Ticket) error {
	r := k.recorder()
	if r == nil {
		return nil
	}
	e := ticketEvent(t)
	if t.Source == queue.SourceGiven || t.Source == queue.SourceLease {
		ab, err := queue.TakeAbandoned(ctx, tx, t.TakeID)
		if err != nil {
			return err
		}
		e.Abandoned = ab
	}
	return r.RecordEvent(tx, wire.EventTicketIssued, e)
}

// recordReprinted records a reprint after it is marked printed. The print is done whatever
// happens here, so a failure is returned for the log, not as the reprint's failure.
func (k *Kiosk) recordReprinted(ctx context.Context, t queue.Ticket) error {
	r := k.recorder()
	if r == nil {
		return nil
	}
	err := k.store.Tx(ctx, func(tx *sql.Tx) error { return r.RecordEvent(tx, wire.EventTicketReprinted, ticketEvent(t)) })
	if err != nil {
		k.log.Error("ticket reprinted but its event not recorded", "ticket", t.Code, "err", err)
	}
	return nil
}

// SetLockedMessage replaces the configured hall.locked_message (the 暂停服务 text shown when the
// kiosk is locked without a message) until the process ends; "" goes back to the configured one.
// The screen shows it at the next lock. The hall sets it with set-config; on site it is audited
// as AuditStaffSetConfig.
func (h *StaffHandle) SetLockedMessage(ctx context.Context, msg string) {
	h.k.mu.Lock()
	h.k.lock.fallback = msg
	h.k.mu.Unlock()
	h.audit(ctx, AuditStaffSetConfig, map[string]string{"hall.locked_message": msg}, nil)
}

// Idle timeout bounds, as the configuration file allows them.
const (
	MinIdleTimeout = 15 * time.Second
	MaxIdleTimeout = 10 * time.Minute
)

// ErrSetting is matched by a setting refused by StaffHandle.SetIdleTimeout.
var ErrSetting = errors.New("setting out of range")

// SetIdleTimeout changes the session idle timeout of ordinary screens (kiosk.idle_timeout) from
// now on (a session in progress gets it at its next touch); reading screens, elder mode and staff
// mode keep theirs, or get this one where it is longer. It must lie in [MinIdleTimeout, MaxIdleTimeout] and above the configured
// idle warning; otherwise nothing changes and the error matches ErrSetting. The hall sets it with
// set-config; on site it is audited as AuditStaffSetConfig.
func (h *StaffHandle) SetIdleTimeout(ctx context.Context, d time.Duration) error {
	sessions := h.k.sessions
	_, warn := sessions.Timeout()
	var err error
	if d < MinIdleTimeout || d > MaxIdleTimeout || d <= warn {
		err = fmt.Errorf("%w: idle timeout %s must be between %s and %s and above the warning (%s)", ErrSetting, d, MinIdleTimeout, MaxIdleTimeout, warn)
	} else {
		sessions.SetTimeout(d, warn)
	}
	h.audit(ctx, AuditStaffSetConfig, map[string]string{"kiosk.idle_timeout": d.String()}, err)
	return err
}

// ErrNoCatalogFile is returned by ReloadCatalog when the kiosk serves the built-in demo catalog.
var ErrNoCatalogFile = errors.New("no catalog file is configured (kiosk.catalog): nothing to reload")

// ReloadCatalog loads kiosk.catalog again and serves it if it is entirely valid and uses only
// queue categories the kiosk numbers tickets for (those configured and those of the catalog it
// started with); otherwise the catalog in force stays, and the error says why (ErrNoCatalogFile
// for the built-in demo catalog). On site it is audited as AuditStaffReload.
func (h *StaffHandle) ReloadCatalog(ctx context.Context) error {
	err := h.k.reloadCatalog()
	h.audit(ctx, AuditStaffReload, nil, err)
	return err
}

func (k *Kiosk) reloadCatalog() error {
	path := k.cfg.Kiosk.Catalog
	if path == "" {
		return ErrNoCatalogFile
	}
	c, err := catalog.LoadFile(path)
	if err != nil {
		return err
	}
	known := k.catalog.Current().Categories()
	for _, cat := range k.cfg.Queue.Categories {
		known = append(known, cat.Letter)
	}
	for _, l := range c.Categories() {
		if !slices.Contains(known, l) {
			return fmt.Errorf("catalog %s uses queue category %s, which this kiosk does not number (restart it to add a category)", path, l)
		}
	}
	k.catalog.Replace(c)
	return nil
}
