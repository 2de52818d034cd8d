package rating

import "citizenhome/hall/ledger"

// Migrations are the ratings' table; pass them to ledger.Open. Times are Unix nanoseconds.
//
//   - rating: one row per rating received (see the package comment for status). event_id is
//     the kiosk's event id, unique per kiosk (a re-sent event finds its row); NULL from a pad.
//     The partial unique index holds one counted rating per ticket. reasons is the codes joined
//     by commas (codes have none). No column holds personal data.
var Migrations = []ledger.Migration{{Name: "rating-1", SQL: `
CREATE TABLE rating (
	id INTEGER PRIMARY KEY,
	source TEXT NOT NULL CHECK (source IN ('kiosk', 'pad')),
	kiosk TEXT NOT NULL,
	event_id TEXT,
	day TEXT NOT NULL,
	ticket TEXT NOT NULL,
	win TEXT NOT NULL,
	staff TEXT NOT NULL,
	section TEXT NOT NULL,
	overall INTEGER NOT NULL CHECK (overall BETWEEN 1 AND 5),
	efficiency INTEGER NOT NULL CHECK (efficiency BETWEEN 0 AND 5),
	skill INTEGER NOT NULL CHECK (skill BETWEEN 0 AND 5),
	attitude INTEGER NOT NULL CHECK (attitude BETWEEN 0 AND 5),
	reasons TEXT NOT NULL,
	at INTEGER NOT NULL,
	received INTEGER NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('served', 'unattached', 'refused')),
	refusal TEXT NOT NULL DEFAULT '',
	work_order INTEGER NOT NULL DEFAULT 0,
	UNIQUE (kiosk, event_id)
);
CREATE UNIQUE INDEX rating_ticket ON rating (day, ticket) WHERE status = 'served';
CREATE INDEX rating_at ON rating (at);
`}}
