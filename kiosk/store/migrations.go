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
	{Version: 2, Name: "telemetry outbox, boot counter, alerts, command audit", SQL: `
-- Events for the hall, written in the transaction of the business record they describe and
-- deleted only once the broker has acknowledged them. seq (AUTOINCREMENT: never reused, even
-- after the newest rows are deleted) is the order they are sent in.
CREATE TABLE telemetry_outbox (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    id   TEXT    NOT NULL UNIQUE,            -- the event id on the wire, stable across re-sends
    ts   INTEGER NOT NULL,                   -- Unix nanoseconds, when it happened
    type TEXT    NOT NULL,
    data TEXT    NOT NULL CHECK (json_valid(data) AND substr(data, 1, 1) = '{')
) STRICT;

-- The MQTT session counter (boot): incremented before every CONNECT, so a will and a birth of
-- the same session carry the same number and a newer session always a larger one.
CREATE TABLE telemetry_boot (
    one  INTEGER PRIMARY KEY CHECK (one = 1),
    boot INTEGER NOT NULL CHECK (boot >= 0)
) STRICT;

-- Alert codes that may be retained on the broker: inserted before an alert is published,
-- deleted once its clearing (an empty retained payload) is acknowledged.
CREATE TABLE telemetry_alert (
    code TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;

-- Every command from the hall with its reply: the audit log, and what a repeated id is
-- answered with. executed = 0 for a refused command.
CREATE TABLE command_audit (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    by_user     TEXT    NOT NULL,
    args        TEXT    NOT NULL DEFAULT '{}',
    received_at INTEGER NOT NULL,            -- Unix nanoseconds
    done_at     INTEGER NOT NULL,
    executed    INTEGER NOT NULL CHECK (executed IN (0, 1)),
    ok          INTEGER NOT NULL CHECK (ok IN (0, 1)),
    error       TEXT    NOT NULL DEFAULT '',
    reply       TEXT    NOT NULL CHECK (json_valid(reply))
) STRICT, WITHOUT ROWID;
CREATE INDEX command_audit_done ON command_audit (done_at);

-- Settings changed remotely (set-config), applied over the configuration file at start.
CREATE TABLE remote_setting (
    key    TEXT    PRIMARY KEY,
    value  TEXT    NOT NULL,
    set_by TEXT    NOT NULL,
    set_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
`},
	{Version: 3, Name: "hall services: appointments, applications, check-ins, ratings, complaints", SQL: `
-- What the hall's platform pushes (kiosk/civic): bookings and applications. A person appears only
-- as an HMAC-SHA256 of the ID or city card number under the hall key (privacy.key_file), so the
-- file reveals no number. Rows older than privacy.retention_days are purged daily.
CREATE TABLE hall_appointment (
    id          TEXT    PRIMARY KEY,               -- the platform's booking number
    id_hash     BLOB,                              -- NULL when booked with a city card only
    card_hash   BLOB,
    matter_id   TEXT    NOT NULL,
    start_at    INTEGER NOT NULL,                  -- booked time, Unix nanoseconds
    cancelled   INTEGER NOT NULL DEFAULT 0 CHECK (cancelled IN (0, 1)),
    imported_at INTEGER NOT NULL,
    CHECK (id_hash IS NOT NULL OR card_hash IS NOT NULL)
) STRICT, WITHOUT ROWID;
CREATE INDEX hall_appointment_id ON hall_appointment (id_hash) WHERE id_hash IS NOT NULL;
CREATE INDEX hall_appointment_card ON hall_appointment (card_hash) WHERE card_hash IS NOT NULL;
CREATE INDEX hall_appointment_start ON hall_appointment (start_at);

-- One check-in per booking, written in the transaction of its priority ticket. No foreign key
-- to hall_appointment: a later import may replace the booking, the check-in stays.
CREATE TABLE hall_checkin (
    appointment_id TEXT    PRIMARY KEY,
    ticket_id      INTEGER NOT NULL,
    ticket         TEXT    NOT NULL,               -- "A012"
    at             INTEGER NOT NULL                -- Unix nanoseconds
) STRICT, WITHOUT ROWID;
CREATE INDEX hall_checkin_at ON hall_checkin (at);

CREATE TABLE hall_application (
    id          TEXT    PRIMARY KEY,               -- the platform's application number (办件编号)
    id_hash     BLOB,
    lookup_code TEXT,                              -- code on the ticket or receipt it was filed with
    matter_id   TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('accepted', 'processing', 'correction', 'done', 'issued', 'rejected')),
    accepted_on TEXT,                              -- YYYY-MM-DD; deadlines count from it
    finished_on TEXT,                              -- YYYY-MM-DD
    updated_at  INTEGER NOT NULL,                  -- last status change on the platform, Unix ns
    imported_at INTEGER NOT NULL,
    CHECK (id_hash IS NOT NULL OR lookup_code IS NOT NULL)
) STRICT, WITHOUT ROWID;
CREATE INDEX hall_application_id ON hall_application (id_hash) WHERE id_hash IS NOT NULL;
CREATE INDEX hall_application_lookup ON hall_application (lookup_code) WHERE lookup_code IS NOT NULL;
CREATE INDEX hall_application_updated ON hall_application (updated_at);

-- 好差评. No personal data: levels, reason codes and the ticket it is about. One per ticket.
CREATE TABLE hall_rating (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,                   -- Unix nanoseconds
    day        TEXT    NOT NULL,                   -- local date, YYYY-MM-DD
    overall    INTEGER NOT NULL CHECK (overall BETWEEN 1 AND 5),
    efficiency INTEGER CHECK (efficiency BETWEEN 1 AND 5), -- NULL: not rated
    skill      INTEGER CHECK (skill BETWEEN 1 AND 5),
    attitude   INTEGER CHECK (attitude BETWEEN 1 AND 5),
    reasons    TEXT    NOT NULL DEFAULT '',        -- reason codes, comma-separated
    ticket_id  INTEGER UNIQUE,                     -- NULL: not about a ticket
    ticket     TEXT    NOT NULL DEFAULT '',
    section    TEXT    NOT NULL DEFAULT '',
    call_window TEXT   NOT NULL DEFAULT '',
    matter_id  TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX hall_rating_day ON hall_rating (day);

-- Complaints (art. 15). Text and phone are AES-GCM sealed under a key derived from the hall
-- key; after the retention period they and the person's hash are cleared (purged_at set) and
-- only number, category and date stay for the statistics.
CREATE TABLE hall_complaint (
    number      TEXT    PRIMARY KEY,
    at          INTEGER NOT NULL,
    day         TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    text        BLOB,
    phone       BLOB,
    person_hash BLOB,
    purged_at   INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX hall_complaint_person ON hall_complaint (person_hash) WHERE person_hash IS NOT NULL;
CREATE INDEX hall_complaint_at ON hall_complaint (at);

-- The hall's handling of a complaint, pushed back by import; also for numbers of other kiosks.
CREATE TABLE hall_complaint_status (
    number      TEXT    PRIMARY KEY,
    status      TEXT    NOT NULL CHECK (status IN ('accepted', 'processing', 'resolved', 'rejected')),
    reply       TEXT    NOT NULL DEFAULT '',
    updated_at  INTEGER NOT NULL,
    imported_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- One row per accepted import file, for the staff screen and kioskctl.
CREATE TABLE hall_import (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    format       TEXT    NOT NULL,
    source       TEXT    NOT NULL DEFAULT '',
    sha256       TEXT    NOT NULL,
    appointments INTEGER NOT NULL,
    applications INTEGER NOT NULL,
    complaints   INTEGER NOT NULL
) STRICT;
`},
	{Version: 4, Name: "payments: city card purchase journal", SQL: `
-- One row per payment attempt with a city card (kiosk/payment), written step by step, each step
-- committed (synchronous FULL) before the next command goes to the card: intent, init (offline
-- serial, balance before), debit-sent (written BEFORE DEBIT goes out), debited (TAC), confirmed
-- (the PSAM accepted MAC2). The card appears only masked and as an HMAC-SHA256 under the hall key;
-- state is the purchase state (citycard.State.MarshalBinary) with the card number and serial
-- blanked, restored from the card itself when it is tapped again.
-- status: open (in progress, or waiting for the card to come back), paid (the money is taken:
-- a record, an event and a receipt), not-charged (closed, nothing taken), undecided (recovery
-- could not tell from the card: flagged to the hall, settled by staff, never guessed).
CREATE TABLE payment (
    id              INTEGER PRIMARY KEY,
    day             TEXT    NOT NULL,                  -- local date of the intent, YYYY-MM-DD
    created_at      INTEGER NOT NULL,                  -- Unix nanoseconds
    updated_at      INTEGER NOT NULL,
    matter_id       TEXT    NOT NULL,
    amount_fen      INTEGER NOT NULL CHECK (amount_fen > 0),
    card_masked     TEXT    NOT NULL,
    card_hash       BLOB    NOT NULL,
    step            TEXT    NOT NULL DEFAULT 'intent'
                    CHECK (step IN ('intent', 'init', 'debit-sent', 'debited', 'confirmed')),
    status          TEXT    NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'paid', 'not-charged', 'undecided')),
    state           BLOB,                              -- NULL before init
    terminal        TEXT    NOT NULL DEFAULT '',       -- PSAM terminal id, hex
    offline_serial  INTEGER,
    balance_before  INTEGER,
    terminal_serial INTEGER,
    tx_time         TEXT    NOT NULL DEFAULT '',       -- the card's wall clock, YYYYMMDDhhmmss
    tac             TEXT    NOT NULL DEFAULT '',       -- hex; set once debited
    mac2_verified   INTEGER NOT NULL DEFAULT 0 CHECK (mac2_verified IN (0, 1)),
    recovered       INTEGER NOT NULL DEFAULT 0 CHECK (recovered IN (0, 1)),
    receipt         TEXT    NOT NULL DEFAULT 'none' CHECK (receipt IN ('none', 'printed', 'failed')),
    receipt_at      INTEGER,
    closed_at       INTEGER,
    reason          TEXT    NOT NULL DEFAULT '',       -- why it ended so; English, no personal data
    -- Money can only have been taken once DEBIT may have gone out.
    CHECK (status <> 'paid' OR step IN ('debit-sent', 'debited', 'confirmed'))
) STRICT;
CREATE INDEX payment_day ON payment (day);
CREATE INDEX payment_card_open ON payment (card_hash) WHERE status IN ('open', 'undecided');
CREATE INDEX payment_unfinished ON payment (status) WHERE status IN ('open', 'undecided') OR (status = 'paid' AND receipt <> 'printed');
`},
	{Version: 5, Name: "telemetry daily counters", SQL: `
-- The status's counters that have no business table to be counted from (card_reads, errors),
-- per local day, so that a restart in the middle of the day does not set them back to 0.
-- Increments are added with an UPSERT; rows older than about 40 days are purged at the day roll.
-- day is compared as text (purge, today's rows), hence the strict YYYY-MM-DD shape.
CREATE TABLE telemetry_counter (
    day  TEXT    NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'), -- local date
    name TEXT    NOT NULL CHECK (name <> ''),              -- the status's counter name: "card_reads"
    n    INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (day, name)
) STRICT, WITHOUT ROWID;
`},
	{Version: 6, Name: "queue: the hall's numbering (given numbers, lease, abandoned takes)", SQL: `
-- Where a ticket's number came from: this kiosk's own counter (local, as before a hall
-- controller), halld's answer to a take (given; take_id names it), or the lease halld granted
-- beforehand (lease). Older rows are local.
ALTER TABLE queue_ticket ADD COLUMN source TEXT NOT NULL DEFAULT 'local'
    CHECK (source IN ('local', 'given', 'lease'));
ALTER TABLE queue_ticket ADD COLUMN take_id TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX queue_ticket_take ON queue_ticket (take_id) WHERE take_id <> '';

-- Numbers halld leased to this kiosk per local day and category, issued without asking halld
-- when it does not answer in time: highest unused first. ticket is set, in the transaction that
-- issues the ticket, once the number is used, and never cleared: a merge of a newer lease only
-- adds numbers.
CREATE TABLE queue_lease (
    day        TEXT    NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    category   TEXT    NOT NULL CHECK (category GLOB '[A-Z]'),
    number     INTEGER NOT NULL CHECK (number BETWEEN 1 AND 9999),
    granted_at INTEGER NOT NULL,                 -- Unix nanoseconds
    ticket     INTEGER REFERENCES queue_ticket (id), -- NULL while unused
    PRIMARY KEY (day, category, number)
) STRICT, WITHOUT ROWID;
CREATE INDEX queue_lease_unused ON queue_lease (day, category, number) WHERE ticket IS NULL;

-- Takes this kiosk gave up on (halld did not answer in time). The next ticket of the hall's
-- numbering names them in its ticket.issued event and deletes them in the same transaction, so
-- halld learns of them exactly when it learns of that ticket, and voids their numbers.
CREATE TABLE queue_abandoned (
    take_id TEXT    PRIMARY KEY CHECK (length(take_id) = 32),
    at      INTEGER NOT NULL                     -- Unix nanoseconds
) STRICT, WITHOUT ROWID;
`},
	{Version: 7, Name: "city card holders: 一卡通 as identity (hall services)", SQL: `
-- Which ID number holds which city card, pushed by the hall (kiosk/civic, card_holders), so that a
-- city card tapped finds its holder's applications, bookings and complaints as the ID card does
-- (art. 10). Both numbers only as HMAC-SHA256 under the hall key, as everywhere else; a link
-- stays until an import removes it (a card reported lost or cancelled, or mode replace).
CREATE TABLE hall_card_holder (
    card_hash   BLOB    PRIMARY KEY,
    id_hash     BLOB    NOT NULL,
    imported_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
ALTER TABLE hall_import ADD COLUMN card_holders INTEGER NOT NULL DEFAULT 0;
`},
	{Version: 8, Name: "hall applications: what a 补正 asks to bring, and where", SQL: `
-- What the hall asks the applicant to bring in 补正 (correction) and where to bring it, as the
-- platform words it, in Chinese and optionally English (kiosk/civic, applications: bring,
-- bring_to, bring_en, bring_to_en): hall text, no personal data. Empty when the platform gives
-- none; older rows have none.
ALTER TABLE hall_application ADD COLUMN bring TEXT NOT NULL DEFAULT '';
ALTER TABLE hall_application ADD COLUMN bring_to TEXT NOT NULL DEFAULT '';
ALTER TABLE hall_application ADD COLUMN bring_en TEXT NOT NULL DEFAULT '';
ALTER TABLE hall_application ADD COLUMN bring_to_en TEXT NOT NULL DEFAULT '';
`},
	{Version: 9, Name: "hall complaint answers sealed", SQL: `
-- The hall's answer to a complaint, sealed like the complaint's text (kiosk/civic: AES-256-GCM
-- under the hall key, bound to "complaint:<number>:reply"): an answer may name the citizen's
-- case. The store does not hold the key, so this only adds the column; kiosk/civic seals the
-- answers older rows hold in clear (reply) into it at its first purge, which runs at start, and
-- blanks reply. New answers are written sealed only; reply stays '' for them.
ALTER TABLE hall_complaint_status ADD COLUMN reply_sealed BLOB;
`},
	{Version: 10, Name: "staff PIN lockout", SQL: `
-- Wrong staff PINs in a row, and the lockout they earned (kiosk, staff.go): kept here so that a
-- restart, or a pulled plug, gives a guesser no fresh tries. One row, written at every PIN
-- checked; none until the first. locked_until and alert_since are Unix nanoseconds, 0 for none;
-- alert_since is when the present run of wrong PINs first locked entry (the alert
-- staff-pin-lockout stands from then until the right PIN).
CREATE TABLE staff_pin_guard (
    one          INTEGER PRIMARY KEY CHECK (one = 1),
    fails        INTEGER NOT NULL CHECK (fails >= 0),
    locked_until INTEGER NOT NULL CHECK (locked_until >= 0),
    alert_since  INTEGER NOT NULL CHECK (alert_since >= 0)
) STRICT;
`},
	// Next: {Version: 11, Name: "...", SQL: `...`},
}
