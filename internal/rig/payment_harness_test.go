package rig

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/escpos"
	"citizenhome/devices/pcsc/pcsctest"
	"citizenhome/devices/pcsc/vpcd"
	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/civic"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/payment"
	"citizenhome/kiosk/store"
	"citizenhome/telemetry/wire"
)

// The payment tests through pcscd: a kiosk whose card reader is the "City card reader" and
// whose PSAM is on testenv.sh's third vpcd reader, "PSAM reader"; receipts go to a file (one
// line per receipt, fsync'd: what a crash test can count), events to the real outbox table.

const psamReader = "PSAM reader"

// payMatter is the demo matter paid in these tests: zh-001, 20.00 元, served on weekdays.
const payMatter = "zh-001"

// payBase is the kiosk's clock at a test's start: a Thursday morning, the hall open. The clock
// runs on from it in real time, so that log records and journal times advance.
var payBase = time.Date(2026, 11, 26, 9, 0, 0, 0, citycard.ChinaTime)

// openPSAMSlot returns the PSAM reader's vpcd slot (CITIZENHOME_VPCD_PSAM_PORT), skipping the
// test without it (failing under CI). At the test's end the slot is emptied and pcscd seen to
// know it: a PSAM put in by the next test before pcscd looked would look like this one, never
// removed, and meet pcscd's stale state at its first command.
func openPSAMSlot(t testing.TB, env *pcsctest.Env) *vpcd.Slot {
	t.Helper()
	port, err := strconv.Atoi(os.Getenv("CITIZENHOME_VPCD_PSAM_PORT"))
	if err != nil {
		const how = "run it through scripts/testenv.sh, which starts pcscd with a PSAM reader"
		if os.Getenv("CI") != "" {
			t.Fatal("no PSAM reader in the pcscd test environment under CI; " + how)
		}
		t.Skip("no PSAM reader (CITIZENHOME_VPCD_PSAM_PORT unset); " + how)
	}
	s := vpcd.NewSlot("127.0.0.1:" + strconv.Itoa(port))
	t.Cleanup(func() {
		if s.Remove() == nil {
			env.WaitNoCards(t, psamReader+" 00 00")
		}
	})
	return s
}

// receiptFile is a kiosk.Printer that appends each document's text, one line per document, to
// a file and fsyncs it before returning: a receipt "printed" is one that a crash cannot lose.
type receiptFile struct {
	mu   sync.Mutex
	path string
	// onPrint, when set, runs after a line is written (the crash test kills the process).
	onPrint func()
	// onStart, when set, runs as a document arrives: printing started (the benchmark's mark).
	onStart func()
}

var okPrinterStatus = escpos.Status{Have: 0x0F, Raw: [4]byte{0x16, 0x12, 0x12, 0x12}, Online: true}

func (p *receiptFile) Print(_ context.Context, d escpos.Doc) error {
	if p.onStart != nil {
		p.onStart()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var parts []string
	for _, b := range d.Blocks {
		if t, ok := b.(escpos.Text); ok {
			parts = append(parts, t.Text)
		}
	}
	f, err := os.OpenFile(p.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(parts, "|") + "\n"); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if p.onPrint != nil {
		p.onPrint()
	}
	return nil
}

func (p *receiptFile) Status(context.Context) (escpos.Status, error) { return okPrinterStatus, nil }

// receipts reads the receipt lines printed so far.
func receipts(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// outboxRecorder writes events into the telemetry outbox table, in the business record's
// transaction, as the telemetry agent does.
type outboxRecorder struct{ n int64 }

func (r *outboxRecorder) RecordEvent(tx *sql.Tx, typ string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	r.n++
	_, err = tx.Exec(`INSERT INTO telemetry_outbox (id, ts, type, data) VALUES (?, ?, ?, ?)`,
		fmt.Sprintf("%d-%d-%d", os.Getpid(), time.Now().UnixNano(), r.n), time.Now().UnixNano(), typ, string(b))
	return err
}

// payKiosk is a kiosk core on pcscd with payments: what rig.Boot builds, minus the parts these
// tests do not need, plus the receipt file and the outbox recorder.
type payKiosk struct {
	k        *kiosk.Kiosk
	pay      *kiosk.Payments
	printer  *receiptFile
	devs     *Devices
	st       *store.Store
	receipts string
	cancel   context.CancelFunc
	done     chan struct{}
}

// bootPayKiosk starts the kiosk over dir (store, hall key, receipts), its clock running from
// payBase + offset; tune adjusts the payment journal; printer's onPrint may be set.
func bootPayKiosk(dir string, offset time.Duration, tune func(*payment.Options), onPrint func()) (*payKiosk, error) {
	cfg := config.Default()
	cfg.Kiosk.ID = "k07"
	cfg.Kiosk.Store = filepath.Join(dir, "kiosk.db")
	cfg.Privacy.KeyFile = filepath.Join(dir, "hall.key")
	cfg.Devices.CardReader = pcsctest.CityReader
	cfg.Devices.PSAMReader = psamReader
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("PAY_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	st, err := store.Open(cfg.Kiosk.Store)
	if err != nil {
		return nil, err
	}
	devs, err := Open(cfg, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	if devs.Pay == nil {
		st.Close()
		return nil, fmt.Errorf("no payment terminal for card reader %q and PSAM reader %q", cfg.Devices.CardReader, cfg.Devices.PSAMReader)
	}
	start := time.Now()
	now := func() time.Time { return payBase.Add(offset + time.Since(start)) }
	pr := &receiptFile{path: filepath.Join(dir, "receipts.txt"), onPrint: onPrint}
	ctx, cancel := context.WithCancel(context.Background())
	k, err := kiosk.New(ctx, kiosk.Options{Config: cfg, Store: st, Catalog: catalog.NewHolder(catalog.Demo()), Printer: pr, Now: now, Log: log})
	if err != nil {
		cancel()
		devs.Close()
		st.Close()
		return nil, err
	}
	k.SetEventRecorder(&outboxRecorder{})
	key, err := civic.LoadKey(cfg.Privacy.KeyFile)
	if err != nil {
		cancel()
		devs.Close()
		st.Close()
		return nil, err
	}
	pay, err := devs.usePayments(ctx, k, key, tune)
	if err != nil {
		cancel()
		devs.Close()
		st.Close()
		return nil, err
	}
	p := &payKiosk{k: k, pay: pay, printer: pr, devs: devs, st: st, receipts: pr.path, cancel: cancel, done: make(chan struct{})}
	go func() { devs.Watch(ctx, k); close(p.done) }()
	return p, nil
}

func (p *payKiosk) close() {
	p.cancel()
	<-p.done
	p.devs.Close()
	p.st.Close()
}

// cityCard is a sample card with its own number (last 4 digits tail), so that tests sharing
// a kiosk tell their payments apart, and T=0 when asked.
func cityCard(t testing.TB, tail int, edit func(*cardsim.Config)) *cardsim.Card {
	t.Helper()
	c := cardsim.Sample()
	pc := *c.Purchase
	c.Purchase = &pc
	c.CardNo = fmt.Sprintf("310400001234%04d", tail)
	if edit != nil {
		edit(&c)
	}
	card, err := cardsim.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return card
}

// ledger is what the store says of one card: its entries, the events about it, the receipts.
type ledger struct {
	entries  []payment.Entry
	paid     int
	paidFen  int64
	events   map[string]int // by type
	receipts map[string]int // by txn
}

func readLedger(t testing.TB, db *sql.DB, receiptPath, masked string) ledger {
	t.Helper()
	r, err := payment.DailyReport(context.Background(), db, "2026-11-26", nil)
	if err != nil {
		t.Fatal(err)
	}
	l := ledger{events: map[string]int{}, receipts: map[string]int{}}
	for _, e := range r.Entries {
		if e.CardMasked != masked {
			continue
		}
		l.entries = append(l.entries, e)
		if e.Status == payment.StatusPaid {
			l.paid++
			l.paidFen += e.AmountFen
		}
	}
	rows, err := db.Query(`SELECT type, data FROM telemetry_outbox WHERE type LIKE 'payment.%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ, data string
		rows.Scan(&typ, &data)
		var ev payment.Event
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Card == masked {
			l.events[typ]++
		}
	}
	for _, line := range receipts(t, receiptPath) {
		if !strings.Contains(line, masked) {
			continue
		}
		for _, e := range l.entries {
			if strings.Contains(line, e.Txn()) {
				l.receipts[e.Txn()]++
			}
		}
	}
	return l
}

// unsettled counts the card's entries still open or undecided.
func (l ledger) unsettled() int {
	n := 0
	for _, e := range l.entries {
		if e.Status == payment.StatusOpen || e.Status == payment.StatusUndecided {
			n++
		}
	}
	return n
}

// agree checks what every payment test ends with: the balance on the card is its start less
// the paid entries; every paid entry has exactly one payment event and at least one receipt
// (maxReceipts at most: a crash between printing and journaling it prints it again), with its
// TAC; no receipt for anything not paid; the card carried out no more DEBITs than were paid.
func (l ledger) agree(t testing.TB, card *cardsim.Card, start int64, wantPaid, maxReceipts int) {
	t.Helper()
	if l.paid != wantPaid {
		t.Errorf("paid entries %d, want %d: %v", l.paid, wantPaid, l.entries)
	}
	if l.unsettled() != 0 {
		t.Errorf("entries left unsettled: %v", l.entries)
	}
	if got, want := card.Balance(), start-l.paidFen; got != want {
		t.Errorf("card balance %d, journal says %d", got, want)
	}
	if n := l.events[wire.EventPaymentCompleted] + l.events[wire.EventPaymentRecovered]; n != l.paid {
		t.Errorf("%d payment events %v for %d paid entries", n, l.events, l.paid)
	}
	debits := len(recordsOf(t, card))
	if debits != l.paid {
		t.Errorf("the card's log holds %d purchases at our terminal, the journal %d paid", debits, l.paid)
	}
	printed := 0
	for _, e := range l.entries {
		n := l.receipts[e.Txn()]
		printed += n
		switch {
		case e.Status == payment.StatusPaid && (n < 1 || n > maxReceipts):
			t.Errorf("payment %s: %d receipts", e.Txn(), n)
		case e.Status == payment.StatusPaid && e.Receipt != payment.ReceiptPrinted:
			t.Errorf("payment %s: receipt %s in the journal", e.Txn(), e.Receipt)
		case e.Status != payment.StatusPaid && n != 0:
			t.Errorf("receipt printed for %s, %s", e.Txn(), e.Status)
		}
		if e.Status == payment.StatusPaid && e.TAC == "" {
			t.Errorf("payment %s paid without TAC", e.Txn())
		}
	}
}

// recordsOf lists the card's purchase records written by the test PSAM's terminal.
func recordsOf(t testing.TB, card *cardsim.Card) []citycard.Record {
	t.Helper()
	var out []citycard.Record
	for _, raw := range card.Records() {
		r, err := citycard.ParseRecord(raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Type == citycard.TxPurchase && r.Terminal == "475000000301" {
			out = append(out, r)
		}
	}
	return out
}
