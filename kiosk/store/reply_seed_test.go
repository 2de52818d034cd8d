package store

import (
	"database/sql"
	"strings"
	"testing"
)

// The sealed complaint answers migration's seed, registered by name like the others.
func init() {
	for _, m := range Migrations {
		if strings.HasPrefix(m.Name, "hall complaint answers sealed") {
			seeds[m.Version] = replySeed
		}
	}
}

var replySeed = seed{
	insert: func(tx *sql.Tx) error {
		_, err := tx.Exec(`
INSERT INTO hall_complaint_status (number, status, reply, reply_sealed, updated_at, imported_at)
VALUES ('TS20261201SEALED', 'resolved', '', x'00112233', 1764030000000000000, 1764030000000000000);`)
		return err
	},
	check: func(t *testing.T, db *sql.DB) {
		var reply string
		var sealed []byte
		if err := db.QueryRow(`SELECT reply, reply_sealed FROM hall_complaint_status WHERE number = 'TS20261201SEALED'`).Scan(&reply, &sealed); err != nil ||
			reply != "" || string(sealed) != "\x00\x11\x22\x33" {
			t.Errorf("sealed answer: %q %x, %v", reply, sealed, err)
		}
		// A row from before the migration has no sealed answer: kiosk/civic seals a clear one
		// later, with the hall key the store does not have.
		var none bool
		if err := db.QueryRow(`SELECT reply_sealed IS NULL FROM hall_complaint_status WHERE number = 'TS20261126ABCDEF'`).Scan(&none); err != nil || !none {
			t.Errorf("older answer: sealed column not NULL, %v", err)
		}
	},
}
