package history

import "citizenhome/hall/ledger"

// Migrations are the history's tables; pass them to ledger.Open. Times are Unix nanoseconds
// of the hall's clock; a kiosk is its id within the hall (a Store keeps one hall).
//
//   - history_change: the timeline, one row per change of a kiosk's lifecycle state (device
//     "") or of one device's state or detail. (kiosk, device, at, id, state) finds the state
//     in force at a time with one seek per device, and gives a month's states of one device
//     in order without reading the table (the monthly report); (kiosk, at) reads a span of
//     the timeline. The queries by device name their index (INDEXED BY): without statistics
//     SQLite prefers (kiosk, at), and walks a kiosk's whole past to find a device's state.
//   - history_state: the last change of each kiosk and device, what the next state is compared
//     with (and the list of a kiosk's devices without scanning its timeline).
//   - history_alert: one row per fault from its start to its end (NULL while open); at most
//     one open row per kiosk and code.
//   - history_day: each kiosk's counters per hall-local date, from its latest status (ts).
//   - history_command: every command seen and its reply. at orders the lists: the command's
//     arrival, or its reply's for a reply to a command never seen.
var Migrations = []ledger.Migration{{Name: "history-1", SQL: `
CREATE TABLE history_change (
	id INTEGER PRIMARY KEY,
	kiosk TEXT NOT NULL,
	device TEXT NOT NULL,
	at INTEGER NOT NULL,
	state TEXT NOT NULL,
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX history_change_device ON history_change (kiosk, device, at, id, state);
CREATE INDEX history_change_at ON history_change (kiosk, at);

CREATE TABLE history_state (
	kiosk TEXT NOT NULL,
	device TEXT NOT NULL,
	state TEXT NOT NULL,
	detail TEXT NOT NULL,
	at INTEGER NOT NULL,
	PRIMARY KEY (kiosk, device)
) WITHOUT ROWID;

CREATE TABLE history_alert (
	id INTEGER PRIMARY KEY,
	kiosk TEXT NOT NULL,
	code TEXT NOT NULL,
	severity TEXT NOT NULL,
	device TEXT NOT NULL DEFAULT '',
	message TEXT NOT NULL DEFAULT '',
	started INTEGER NOT NULL,
	ended INTEGER,
	CHECK (ended IS NULL OR ended >= started)
);
CREATE UNIQUE INDEX history_alert_open ON history_alert (kiosk, code) WHERE ended IS NULL;
CREATE INDEX history_alert_kiosk ON history_alert (kiosk, started);
CREATE INDEX history_alert_started ON history_alert (started);
CREATE INDEX history_alert_ended ON history_alert (ended);

CREATE TABLE history_day (
	kiosk TEXT NOT NULL,
	date TEXT NOT NULL,
	ts INTEGER NOT NULL,
	tickets INTEGER NOT NULL,
	receipts INTEGER NOT NULL,
	card_reads INTEGER NOT NULL,
	ratings INTEGER NOT NULL,
	errors INTEGER NOT NULL,
	PRIMARY KEY (kiosk, date)
) WITHOUT ROWID;
CREATE INDEX history_day_date ON history_day (date);

CREATE TABLE history_command (
	kiosk TEXT NOT NULL,
	id TEXT NOT NULL,
	name TEXT NOT NULL DEFAULT '',
	args TEXT,
	sender TEXT NOT NULL DEFAULT '',
	sent INTEGER,
	replied INTEGER,
	ok INTEGER NOT NULL DEFAULT 0,
	error TEXT NOT NULL DEFAULT '',
	at INTEGER NOT NULL,
	PRIMARY KEY (kiosk, id)
) WITHOUT ROWID;
CREATE INDEX history_command_kiosk ON history_command (kiosk, at);
CREATE INDEX history_command_at ON history_command (at);
`}}
