package store

import (
	"database/sql"
	"strings"
	"testing"
)

// The 补正 materials migration's seed, registered by name like the others.
func init() {
	for _, m := range Migrations {
		if strings.HasPrefix(m.Name, "hall applications: what a 补正 asks") {
			seeds[m.Version] = correctionSeed
		}
	}
}

var correctionSeed = seed{
	insert: func(tx *sql.Tx) error {
		_, err := tx.Exec(`
INSERT INTO hall_application (id, id_hash, lookup_code, matter_id, status, accepted_on, finished_on, updated_at, imported_at, bring, bring_to, bring_en, bring_to_en)
VALUES ('SL-SEED-BRING', x'0103', NULL, 'zh-005', 'correction', '2026-11-18', NULL, 1764030000000000000, 1764030000000000000,
        '租赁合同原件', '一楼 A区 综合窗口', 'Tenancy contract', '');`)
		return err
	},
	check: func(t *testing.T, db *sql.DB) {
		var bring, to, en string
		if err := db.QueryRow(`SELECT bring, bring_to, bring_en FROM hall_application WHERE id = 'SL-SEED-BRING'`).Scan(&bring, &to, &en); err != nil ||
			bring != "租赁合同原件" || to != "一楼 A区 综合窗口" || en != "Tenancy contract" {
			t.Errorf("补正 application: %q %q, %v", bring, to, err)
		}
		// The rows from before the migration ask for nothing.
		if err := db.QueryRow(`SELECT bring, bring_to FROM hall_application WHERE id = 'SL-SEED-1'`).Scan(&bring, &to); err != nil || bring != "" || to != "" {
			t.Errorf("older application: %q %q, %v", bring, to, err)
		}
	},
}
