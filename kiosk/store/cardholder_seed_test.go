package store

import (
	"database/sql"
	"strings"
	"testing"
)

// The city card holders migration's seed, registered by name like the others.
func init() {
	for _, m := range Migrations {
		if strings.HasPrefix(m.Name, "city card holders") {
			seeds[m.Version] = cardHolderSeed
		}
	}
}

var cardHolderSeed = seed{
	insert: func(tx *sql.Tx) error {
		_, err := tx.Exec(`
INSERT INTO hall_card_holder (card_hash, id_hash, imported_at) VALUES (x'0a0b', x'0102', 1765069200000000000);
INSERT INTO hall_import (at, format, source, sha256, appointments, applications, complaints, card_holders)
VALUES (1765069200000000000, 'card_holders.csv', 'seed-cards', 'ab', 0, 0, 0, 1);`)
		return err
	},
	check: func(t *testing.T, db *sql.DB) {
		var id []byte
		if err := db.QueryRow(`SELECT id_hash FROM hall_card_holder WHERE card_hash = x'0a0b'`).Scan(&id); err != nil || string(id) != "\x01\x02" {
			t.Errorf("card holders: %x, %v", id, err)
		}
		var n int
		if err := db.QueryRow(`SELECT card_holders FROM hall_import WHERE source = 'seed-cards'`).Scan(&n); err != nil || n != 1 {
			t.Errorf("card holders: import count %d, %v", n, err)
		}
	},
}
