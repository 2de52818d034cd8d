package store

// Migrations is the schema history of the kiosk database, oldest first. Entry i has Version i+1,
// and PRAGMA user_version records the last one applied.
//
// APPEND ONLY. A migration that has shipped is never edited, reordered or removed: kiosks in the
// field have run it already and would never run the new text. To change the schema, add an entry
// at the end with the next Version (ratings, payments and the telemetry outbox are expected to come
// this way), and add its sample rows to seeds in migrate_test.go; the test fails until you do.
//
// Each entry runs in its own IMMEDIATE transaction with foreign keys on, so it must not contain
// statements SQLite refuses inside a transaction (VACUUM, PRAGMA journal_mode, ...). A table rebuild
// that needs foreign keys off is not possible here; prefer adding tables and columns.
var Migrations = []Migration{
	{Version: 1, Name: "queue tickets", SQL: `
-- Last number handed out per local day and category letter. The counter row and the ticket row
-- are written in one transaction, so a number is never given twice nor skipped.
CREATE TABLE queue_counter (
    day      TEXT    NOT NULL,                 -- local date, YYYY-MM-DD
    category TEXT    NOT NULL,                 -- one letter A-Z
    last     INTEGER NOT NULL CHECK (last >= 1),
    PRIMARY KEY (day, category)
) STRICT, WITHOUT ROWID;

CREATE TABLE queue_ticket (
    id              INTEGER PRIMARY KEY,
    day             TEXT    NOT NULL,
    category        TEXT    NOT NULL,
    number          INTEGER NOT NULL CHECK (number >= 1),
    priority        INTEGER NOT NULL DEFAULT 0 CHECK (priority IN (0, 1)),
    priority_reason TEXT    NOT NULL DEFAULT '',
    matter_id       TEXT    NOT NULL DEFAULT '',
    section         TEXT    NOT NULL DEFAULT '',
    issued_at       INTEGER NOT NULL,          -- Unix nanoseconds
    waiting_ahead   INTEGER NOT NULL DEFAULT 0,
    estimated_ms    INTEGER NOT NULL DEFAULT 0, -- as printed on the ticket; 0 = no estimate
    lookup_code     TEXT    NOT NULL UNIQUE,   -- random, printed as a QR code
    print_state     TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (print_state IN ('pending', 'printed', 'reprint')),
    print_error     TEXT    NOT NULL DEFAULT '',
    called_at       INTEGER,                   -- Unix nanoseconds; NULL while waiting
    call_window     TEXT    NOT NULL DEFAULT '',
    UNIQUE (day, category, number),
    FOREIGN KEY (day, category) REFERENCES queue_counter (day, category)
) STRICT;

CREATE INDEX queue_ticket_waiting ON queue_ticket (day, category, priority) WHERE called_at IS NULL;
CREATE INDEX queue_ticket_called ON queue_ticket (day, category, called_at) WHERE called_at IS NOT NULL;
CREATE INDEX queue_ticket_unprinted ON queue_ticket (print_state) WHERE print_state <> 'printed';
`},
	// Next: {Version: 2, Name: "...", SQL: `...`},
}
