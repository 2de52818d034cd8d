package store

import (
	"database/sql"
	"strings"
	"testing"
)

// The hall numbering migration's seed, registered by name like the hall's and the payments'.
func init() {
	for _, m := range Migrations {
		if strings.HasPrefix(m.Name, "queue: the hall's numbering") {
			seeds[m.Version] = numberingSeed
		}
	}
}

var numberingSeed = seed{
	insert: func(tx *sql.Tx) error {
		_, err := tx.Exec(`
INSERT INTO queue_counter (day, category, last) VALUES ('2026-12-07', 'C', 999);
INSERT INTO queue_ticket (day, category, number, issued_at, lookup_code, source, take_id)
VALUES ('2026-12-07', 'C', 12, 1765069200000000000, 'SEEDGIVEN01', 'given', '0123456789abcdef0123456789abcdef'),
       ('2026-12-07', 'C', 999, 1765069201000000000, 'SEEDLEASE01', 'lease', '');
INSERT INTO queue_lease (day, category, number, granted_at, ticket) VALUES
    ('2026-12-07', 'C', 999, 1765069100000000000, (SELECT id FROM queue_ticket WHERE lookup_code = 'SEEDLEASE01')),
    ('2026-12-07', 'C', 998, 1765069100000000000, NULL);
INSERT INTO queue_abandoned (take_id, at) VALUES ('fedcba9876543210fedcba9876543210', 1765069201000000000);`)
		return err
	},
	check: func(t *testing.T, db *sql.DB) {
		var source, take string
		if err := db.QueryRow(`SELECT source, take_id FROM queue_ticket WHERE lookup_code = 'SEEDGIVEN01'`).Scan(&source, &take); err != nil || source != "given" || take != "0123456789abcdef0123456789abcdef" {
			t.Errorf("numbering: given ticket %q %q, %v", source, take, err)
		}
		var unused, used int
		if err := db.QueryRow(`SELECT coalesce(sum(ticket IS NULL), 0), coalesce(sum(ticket IS NOT NULL), 0) FROM queue_lease WHERE day = '2026-12-07' AND category = 'C'`).Scan(&unused, &used); err != nil || unused != 1 || used != 1 {
			t.Errorf("numbering: lease unused %d used %d, %v", unused, used, err)
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM queue_abandoned`).Scan(&n); err != nil || n != 1 {
			t.Errorf("numbering: abandoned %d, %v", n, err)
		}
		// Tickets of before the numbering are local.
		if err := db.QueryRow(`SELECT source FROM queue_ticket WHERE lookup_code = 'SEEDLOOKUP2'`).Scan(&source); err != nil || source != "local" {
			t.Errorf("numbering: a v1 ticket's source is %q, %v", source, err)
		}
	},
}
