package store

import (
	"database/sql"
	"strings"
	"testing"
)

// The hall services migration's seed, registered by name so that its version number can move
// when migrations of other features are appended at the same time.
func init() {
	for _, m := range Migrations {
		if strings.HasPrefix(m.Name, "hall services") {
			seeds[m.Version] = hallSeed
		}
	}
}

var hallSeed = seed{
	insert: func(tx *sql.Tx) error {
		_, err := tx.Exec(`
INSERT INTO hall_appointment (id, id_hash, card_hash, matter_id, start_at, cancelled, imported_at)
VALUES ('YY-SEED-1', x'0102', NULL, 'zh-001', 1764120600000000000, 0, 1764030000000000000);
INSERT INTO hall_checkin (appointment_id, ticket_id, ticket, at) VALUES ('YY-SEED-1', 1, 'A001', 1764120000000000000);
INSERT INTO hall_application (id, id_hash, lookup_code, matter_id, status, accepted_on, finished_on, updated_at, imported_at)
VALUES ('SL-SEED-1', x'0102', 'SEEDLOOKUP1', 'sb-003', 'processing', '2026-11-20', NULL, 1764030000000000000, 1764030000000000000);
INSERT INTO hall_rating (at, day, overall, efficiency, skill, attitude, reasons, ticket_id, ticket, section, call_window, matter_id)
VALUES (1764120000000000000, '2026-11-26', 2, 1, NULL, 3, 'wait-long', 1, 'A001', 'zh', '3', 'zh-001');
INSERT INTO hall_complaint (number, at, day, category, text, phone, person_hash, purged_at)
VALUES ('TS20261126ABCDEF', 1764120000000000000, '2026-11-26', 'attitude', x'00', NULL, NULL, NULL);
INSERT INTO hall_complaint_status (number, status, reply, updated_at, imported_at)
VALUES ('TS20261126ABCDEF', 'processing', '', 1764120000000000000, 1764120000000000000);
INSERT INTO hall_import (at, format, source, sha256, appointments, applications, complaints)
VALUES (1764030000000000000, 'json', 'seed', 'ab', 1, 1, 1);`)
		return err
	},
	check: func(t *testing.T, db *sql.DB) {
		var matter, ticket, status, category string
		if err := db.QueryRow(`SELECT matter_id FROM hall_appointment WHERE id = 'YY-SEED-1'`).Scan(&matter); err != nil || matter != "zh-001" {
			t.Errorf("hall appointment: %q, %v", matter, err)
		}
		if err := db.QueryRow(`SELECT ticket FROM hall_checkin WHERE appointment_id = 'YY-SEED-1'`).Scan(&ticket); err != nil || ticket != "A001" {
			t.Errorf("hall check-in: %q, %v", ticket, err)
		}
		if err := db.QueryRow(`SELECT status FROM hall_application WHERE id = 'SL-SEED-1'`).Scan(&status); err != nil || status != "processing" {
			t.Errorf("hall application: %q, %v", status, err)
		}
		var overall int
		if err := db.QueryRow(`SELECT overall FROM hall_rating WHERE ticket_id = 1`).Scan(&overall); err != nil || overall != 2 {
			t.Errorf("hall rating: %d, %v", overall, err)
		}
		if err := db.QueryRow(`SELECT category FROM hall_complaint WHERE number = 'TS20261126ABCDEF'`).Scan(&category); err != nil || category != "attitude" {
			t.Errorf("hall complaint: %q, %v", category, err)
		}
		if err := db.QueryRow(`SELECT status FROM hall_complaint_status WHERE number = 'TS20261126ABCDEF'`).Scan(&status); err != nil || status != "processing" {
			t.Errorf("hall complaint status: %q, %v", status, err)
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM hall_import`).Scan(&n); err != nil || n < 1 {
			t.Errorf("hall import log: %d, %v", n, err)
		}
	},
}
