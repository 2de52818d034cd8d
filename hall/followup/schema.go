package followup

import "citizenhome/hall/ledger"

// Migrations are the work orders' tables; pass them to ledger.Open. Times are Unix nanoseconds.
//
//   - followup_order: one row per order. rating and complaint are unique where set, so an event
//     delivered twice opens one order. (closed, due) finds the open and the overdue orders
//     without a scan; phone is the sealed phone (NULL: none), bound to the row's id.
//   - followup_step: every move of an order in order (seq), deleted with it.
var Migrations = []ledger.Migration{{Name: "followup-1", SQL: `
CREATE TABLE followup_order (
	id INTEGER PRIMARY KEY,
	kind TEXT NOT NULL CHECK (kind IN ('rating', 'complaint')),
	state TEXT NOT NULL,
	section TEXT NOT NULL DEFAULT '',
	win TEXT NOT NULL DEFAULT '',
	staff TEXT NOT NULL DEFAULT '',
	ticket TEXT NOT NULL DEFAULT '',
	day TEXT NOT NULL DEFAULT '',
	rating INTEGER,
	complaint TEXT,
	category TEXT NOT NULL DEFAULT '',
	level INTEGER NOT NULL DEFAULT 0,
	reasons TEXT NOT NULL DEFAULT '[]',
	manager TEXT NOT NULL,
	opened INTEGER NOT NULL,
	due INTEGER NOT NULL,
	closed INTEGER,
	outcome TEXT NOT NULL DEFAULT '',
	phone BLOB,
	CHECK ((kind = 'rating') = (rating IS NOT NULL)),
	CHECK ((kind = 'complaint') = (complaint IS NOT NULL))
);
CREATE UNIQUE INDEX followup_order_rating ON followup_order (rating) WHERE rating IS NOT NULL;
CREATE UNIQUE INDEX followup_order_complaint ON followup_order (complaint) WHERE complaint IS NOT NULL;
CREATE INDEX followup_order_due ON followup_order (closed, due);
CREATE INDEX followup_order_opened ON followup_order (opened);

CREATE TABLE followup_step (
	order_id INTEGER NOT NULL REFERENCES followup_order (id) ON DELETE CASCADE,
	seq INTEGER NOT NULL,
	at INTEGER NOT NULL,
	actor TEXT NOT NULL,
	from_state TEXT NOT NULL,
	to_state TEXT NOT NULL,
	note TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (order_id, seq)
) WITHOUT ROWID;
`}}
