package line

import "citizenhome/hall/ledger"

// Migrations are the line's tables; pass them to ledger.Open. line-2 (stats.go) keeps the
// statistics' past days. Times are Unix nanoseconds.
//
//   - line_number allocates every (day, letter, number) once: kind 'take' (the counter going up)
//     or 'lease' (granted to kiosk going down, or a printed number recorded from a ticket);
//     state 'granted' (a lease number not yet printed) or 'used' (a ticket holds it).
//   - line_counter keeps, per day and letter, the last number taken (up) and granted (down).
//   - line_ticket: one row per ticket; code is the printed code, category where it waits now;
//     queue_at orders the queue (issue time, kept by a transfer, moved by a return).
//   - line_window: a window's pause and current ticket; rows appear on first use.
//   - line_call: every call and recall, ids in order, for displays catching up.
//   - line_audit: every counter action, with its staff and reason.
//   - line_abandoned: takes a kiosk gave up on, so that a late take message gets no number.
var Migrations = []ledger.Migration{{Name: "line-1", SQL: `
CREATE TABLE line_number (
	day TEXT NOT NULL,
	letter TEXT NOT NULL,
	number INTEGER NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('take', 'lease')),
	kiosk TEXT NOT NULL,
	state TEXT NOT NULL CHECK (state IN ('granted', 'used')),
	at INTEGER NOT NULL,
	PRIMARY KEY (day, letter, number)
) WITHOUT ROWID;
CREATE INDEX line_number_grant ON line_number (kiosk, state, day, letter);

CREATE TABLE line_counter (
	day TEXT NOT NULL,
	letter TEXT NOT NULL,
	up INTEGER NOT NULL,
	down INTEGER NOT NULL,
	PRIMARY KEY (day, letter)
) WITHOUT ROWID;

CREATE TABLE line_ticket (
	id INTEGER PRIMARY KEY,
	day TEXT NOT NULL,
	code TEXT NOT NULL,
	letter TEXT NOT NULL,
	number INTEGER NOT NULL,
	category TEXT NOT NULL,
	priority INTEGER NOT NULL,
	reason TEXT NOT NULL,
	matter TEXT NOT NULL,
	section TEXT NOT NULL,
	kiosk TEXT NOT NULL,
	take_id TEXT UNIQUE,
	lease INTEGER NOT NULL,
	conflict INTEGER NOT NULL DEFAULT 0,
	lookup TEXT UNIQUE,
	state TEXT NOT NULL,
	issued_at INTEGER NOT NULL,
	queue_at INTEGER NOT NULL,
	called_at INTEGER,
	win TEXT NOT NULL DEFAULT '',
	recalls INTEGER NOT NULL DEFAULT 0,
	started_at INTEGER,
	ended_at INTEGER,
	served_ns INTEGER
);
CREATE INDEX line_ticket_code ON line_ticket (day, code);
CREATE INDEX line_ticket_queue ON line_ticket (day, state, category, queue_at);

CREATE TABLE line_window (
	id TEXT PRIMARY KEY,
	paused INTEGER NOT NULL DEFAULT 0,
	reason TEXT NOT NULL DEFAULT '',
	staff TEXT NOT NULL DEFAULT '',
	current INTEGER
) WITHOUT ROWID;

CREATE TABLE line_call (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	ticket INTEGER NOT NULL,
	day TEXT NOT NULL,
	code TEXT NOT NULL,
	category TEXT NOT NULL,
	win TEXT NOT NULL,
	at INTEGER NOT NULL,
	recall INTEGER NOT NULL,
	priority INTEGER NOT NULL,
	staff TEXT NOT NULL
);
CREATE INDEX line_call_window ON line_call (win, day, recall, id);
CREATE INDEX line_call_category ON line_call (day, category, recall, id);

CREATE TABLE line_audit (
	id INTEGER PRIMARY KEY,
	at INTEGER NOT NULL,
	day TEXT NOT NULL,
	staff TEXT NOT NULL,
	win TEXT NOT NULL,
	action TEXT NOT NULL,
	code TEXT NOT NULL,
	reason TEXT NOT NULL
);
CREATE INDEX line_audit_day ON line_audit (day, id);

CREATE TABLE line_abandoned (
	take_id TEXT PRIMARY KEY,
	kiosk TEXT NOT NULL,
	at INTEGER NOT NULL
) WITHOUT ROWID;
`}, statsMigration}
