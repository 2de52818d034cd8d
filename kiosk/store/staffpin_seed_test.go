package store

import (
	"database/sql"
	"strings"
	"testing"
)

// The staff PIN lockout migration's seed, registered by name like the others.
func init() {
	for _, m := range Migrations {
		if strings.HasPrefix(m.Name, "staff PIN lockout") {
			seeds[m.Version] = staffPINSeed
		}
	}
}

var staffPINSeed = seed{
	insert: func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO staff_pin_guard (one, fails, locked_until, alert_since)
VALUES (1, 6, 1764130000000000000, 1764129000000000000);`)
		return err
	},
	check: func(t *testing.T, db *sql.DB) {
		var fails int
		var until, since int64
		if err := db.QueryRow(`SELECT fails, locked_until, alert_since FROM staff_pin_guard WHERE one = 1`).Scan(&fails, &until, &since); err != nil ||
			fails != 6 || until != 1764130000000000000 || since != 1764129000000000000 {
			t.Errorf("staff PIN guard: %d %d %d, %v", fails, until, since, err)
		}
		// One row only: the guard is the kiosk's, not per PIN.
		if _, err := db.Exec(`INSERT INTO staff_pin_guard (one, fails, locked_until, alert_since) VALUES (2, 0, 0, 0)`); err == nil {
			t.Error("a second staff PIN guard row was accepted")
		}
	},
}
