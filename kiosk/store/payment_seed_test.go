package store

import (
	"database/sql"
	"strings"
	"testing"
)

// The payment journal migration's seed, registered by name like the hall's, so that its version
// number can move when migrations of other features are appended at the same time.
func init() {
	for _, m := range Migrations {
		if strings.HasPrefix(m.Name, "payments") {
			seeds[m.Version] = paymentSeed
		}
	}
}

var paymentSeed = seed{
	insert: func(tx *sql.Tx) error {
		_, err := tx.Exec(`
INSERT INTO payment (id, day, created_at, updated_at, matter_id, amount_fen, card_masked, card_hash, step, status,
    state, terminal, offline_serial, balance_before, terminal_serial, tx_time, tac, mac2_verified, recovered,
    receipt, receipt_at, closed_at, reason)
VALUES (1, '2026-11-26', 1764120000000000000, 1764120001000000000, 'bdc-002', 2500, '3104********5678', x'0102',
        'confirmed', 'paid', x'43435001', '475000000301', 13, 12345, 1001, '20261126093005', '1A2B3C4D', 1, 0,
        'printed', 1764120002000000000, 1764120002000000000, ''),
       (2, '2026-11-26', 1764120100000000000, 1764120100000000000, 'bdc-002', 2500, '3104********5678', x'0102',
        'debit-sent', 'undecided', x'43435001', '475000000301', 14, 9845, 1002, '20261126093140', '', 0, 0,
        'none', NULL, NULL, 'the card was used elsewhere');`)
		return err
	},
	check: func(t *testing.T, db *sql.DB) {
		var status, tac, receipt string
		var amount int64
		err := db.QueryRow(`SELECT status, tac, receipt, amount_fen FROM payment WHERE id = 1`).Scan(&status, &tac, &receipt, &amount)
		if err != nil || status != "paid" || tac != "1A2B3C4D" || receipt != "printed" || amount != 2500 {
			t.Errorf("v4 payment 1: %q %q %q %d, %v", status, tac, receipt, amount, err)
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM payment WHERE status IN ('open', 'undecided') AND card_hash = x'0102'`).Scan(&n); err != nil || n != 1 {
			t.Errorf("v4 open payments of the card: %d, %v", n, err)
		}
	},
}

// TestPaymentJournalConstraints: the schema itself refuses what would make the journal lie: a
// payment marked paid before DEBIT could have gone out, a step or status outside the lists, an
// amount of zero.
func TestPaymentJournalConstraints(t *testing.T) {
	s, err := Open(t.TempDir() + "/kiosk.db")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	insert := `INSERT INTO payment (day, created_at, updated_at, matter_id, amount_fen, card_masked, card_hash, step, status)
		VALUES ('2026-11-26', 1, 1, 'm', ?, '****', x'01', ?, ?)`
	for _, c := range []struct {
		amount       int64
		step, status string
		ok           bool
	}{
		{100, "intent", "open", true},
		{100, "debit-sent", "paid", true},
		{100, "confirmed", "paid", true},
		{100, "init", "not-charged", true},
		{100, "init", "paid", false},
		{100, "intent", "paid", false},
		{0, "intent", "open", false},
		{100, "sent", "open", false},
		{100, "intent", "refunded", false},
	} {
		_, err := s.DB().Exec(insert, c.amount, c.step, c.status)
		if (err == nil) != c.ok {
			t.Errorf("amount %d step %s status %s: err = %v, want ok %v", c.amount, c.step, c.status, err, c.ok)
		}
	}
}
