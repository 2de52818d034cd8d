// Package civic is the kiosk's side of the hall's services (art. 11, 15, 22, 24, 34-35 of the
// 开封市民之家管理办法): appointment check-in, the progress of applications (办件查询), the
// 好差评 ratings and complaints.
//
// What comes from the hall's platform, bookings and applications, is read through Source. The
// one implementation today, Local, reads the kiosk's own SQLite store, fed by import files
// (Import; kioskctl push); an HTTP adapter to the provincial platform can implement Source later
// without the kiosk noticing. What the kiosk itself records (check-ins, ratings, complaints) is
// kept in the store by Service, in the same transaction as the event that tells the hall
// (EventSink) and, for a check-in, as the priority ticket it gives.
//
// # Personal data
//
// A person is never stored in clear: ID and city card numbers are kept only as HMAC-SHA256 under
// a key derived from the hall key (Key: the systemd credential hall.key, or privacy.key_file),
// and a lookup hashes the number read from the card the same way. A database file without the
// key reveals no number; with the key, ID numbers (little entropy) are found by trying them all,
// which is why the key belongs in a credential sealed to the machine, not beside the file.
// Complaint texts, phone numbers and the hall's answers are sealed with AES-256-GCM under another
// derived key. Events carry no personal
// data (see the event types). Personal data older than privacy.retention_days is purged daily
// (Service.Purge, Service.PurgeEvery).
//
// # Import files
//
// An import file is JSON (Format JSON) or CSV (one kind of record per file: AppointmentsCSV,
// ApplicationsCSV, ComplaintsCSV, CardHoldersCSV), UTF-8, at most MaxImportSize bytes. It is validated whole,
// like the catalog: a file with any problem is rejected whole with every problem listed
// (ImportErrors, naming the record and the field), and the data imported before stays as it was.
// The schema, with examples, is in docs/hall-data.md; in short, the JSON file is
//
//	{
//	  "generated": "2026-11-27T07:00:00+08:00",   // optional, RFC 3339
//	  "source": "henan-zwfw",                      // optional, up to 64 characters
//	  "mode": "merge",                             // or "replace"; optional, default merge
//	  "appointments": [{"id": "YY202611260001", "id_number": "41020419800101018X",
//	      "city_card": "", "matter": "zh-001", "start": "2026-11-27T09:30:00+08:00",
//	      "status": "booked"}],
//	  "applications": [{"id": "SL202611200017", "id_number": "...", "lookup_code": "K7Q2M9XAB1",
//	      "matter": "sb-003", "status": "办理中", "accepted": "2026-11-20", "finished": "",
//	      "updated": "2026-11-24T16:02:00+08:00"}],
//	  "complaints": [{"number": "TS20261126K7Q2M9", "status": "处理中",
//	      "reply": "已转人社局窗口核查", "updated": "2026-11-26T16:00:00+08:00"}]
//	}
//
// and a CSV file has a header row naming the same fields as columns, in any order. Records are
// keyed by id (number for complaints): merge updates or adds them, and an application or a
// complaint status older (by updated) than the one stored is skipped; replace first deletes every
// record of the kinds the file holds. Records already older than the retention period are
// skipped.
package civic

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/hours"
	"citizenhome/kiosk/queue"
	"citizenhome/kiosk/store"
	"citizenhome/mask"
)

// DefaultRetentionDays is the retention period when Options.RetentionDays is 0, as the
// configuration's privacy.retention_days defaults to.
const DefaultRetentionDays = 180

// Identity is who a lookup or a check-in is for: the ID number read from the ID card, or the
// number of a city card (市民卡), or both. It is personal data: every fmt verb, slog and JSON
// show it masked (package mask), and nothing in the package stores or logs it in clear.
type Identity struct {
	IDNumber string
	CityCard string
}

// IsZero reports whether neither number is given.
func (i Identity) IsZero() bool {
	return strings.TrimSpace(i.IDNumber) == "" && strings.TrimSpace(i.CityCard) == ""
}

// String is masked (package mask): "id 410***********123X, card 3104********1234", "nobody"
// when neither is given.
func (i Identity) String() string {
	var parts []string
	if i.IDNumber != "" {
		parts = append(parts, "id "+mask.ID(normID(i.IDNumber)))
	}
	if i.CityCard != "" {
		parts = append(parts, "card "+mask.Card(normCard(i.CityCard)))
	}
	if len(parts) == 0 {
		return "nobody"
	}
	return strings.Join(parts, ", ")
}

// Format prints String for every verb, so %#v or %+v cannot print the numbers.
func (i Identity) Format(f fmt.State, verb rune) { mask.Format(f, verb, i.String()) }

// LogValue gives slog the numbers masked.
func (i Identity) LogValue() slog.Value { return i.fields().LogValue() }

// MarshalJSON writes what LogValue gives.
func (i Identity) MarshalJSON() ([]byte, error) { return i.fields().MarshalJSON() }

func (i Identity) fields() mask.Fields {
	return mask.Fields{}.Add("id_number", mask.ID(normID(i.IDNumber))).Add("city_card", mask.Card(normCard(i.CityCard)))
}

// normID is the form an ID number is hashed in: no spaces, a final x in capitals.
func normID(s string) string { return strings.ToUpper(strings.Join(strings.Fields(s), "")) }

// normCard is the form a city card number is hashed in: no spaces, capitals.
func normCard(s string) string { return strings.ToUpper(strings.Join(strings.Fields(s), "")) }

// Query selects applications: those of a person (Who), or those filed with a code printed on a
// ticket or a receipt (Code, already normalised by ParseCode). Exactly one is set.
type Query struct {
	Who  Identity
	Code string
}

// Source is where bookings and applications come from: the hall's platform. Implementations
// must be safe for concurrent use and return only the records of the person or code asked for.
type Source interface {
	// Appointments returns the bookings of who whose booked time lies in [from, to], cancelled
	// ones included, in any order; nil when there are none. An error that is not the caller's
	// fault should match ErrSource, so the screen can say "try again later".
	Appointments(ctx context.Context, who Identity, from, to time.Time) ([]Appointment, error)
	// Applications returns the applications matching q, with their platform fields filled (the
	// Service adds the computed ones); nil when there are none.
	Applications(ctx context.Context, q Query) ([]Application, error)
}

// Options are what New needs.
type Options struct {
	Store    *store.Store    // required
	Key      *Key            // required
	Catalog  *catalog.Holder // required: the matters of bookings and applications
	Schedule *hours.Schedule // required: the hall's zone and working days
	// Source gives bookings and applications; nil means NewLocal over Store.
	Source Source
	// Queue resolves the tickets ratings and lookups refer to; nil means ratings cannot name a
	// ticket and a ticket's lookup code finds only applications.
	Queue *queue.Queue
	// Sink receives the events, inside the transaction of the record; nil sends none.
	Sink EventSink
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Early and Late bound the check-in window around a booked time (appointments.early and
	// appointments.late). Negative values are taken as 0.
	Early, Late time.Duration
	// RetentionDays is how long personal data is kept; 0 means DefaultRetentionDays.
	RetentionDays int
}

// Service is the hall services of one kiosk. It is safe for concurrent use.
type Service struct {
	st          *store.Store
	key         *Key
	cat         *catalog.Holder
	sched       *hours.Schedule
	src         Source
	queue       *queue.Queue
	sink        EventSink
	now         func() time.Time
	early, late time.Duration
	retention   int
}

// New builds the service. It fails (ErrInvalid) when a required option is missing or
// RetentionDays is negative.
func New(o Options) (*Service, error) {
	switch {
	case o.Store == nil:
		return nil, errNilStore
	case o.Key == nil:
		return nil, errf(CodeKey, "no hall key")
	case o.Catalog == nil:
		return nil, errf(CodeInvalid, "no catalog")
	case o.Schedule == nil:
		return nil, errf(CodeInvalid, "no opening-hours schedule")
	case o.RetentionDays < 0:
		return nil, errf(CodeInvalid, "negative retention period")
	}
	s := &Service{
		st: o.Store, key: o.Key, cat: o.Catalog, sched: o.Schedule, src: o.Source, queue: o.Queue,
		sink: o.Sink, now: o.Now, early: max(o.Early, 0), late: max(o.Late, 0), retention: o.RetentionDays,
	}
	if s.src == nil {
		s.src = NewLocal(o.Store, o.Key)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.retention == 0 {
		s.retention = DefaultRetentionDays
	}
	return s, nil
}

// Location is the hall's time zone.
func (s *Service) Location() *time.Location { return s.sched.Location() }

// RetentionDays is the retention period in force.
func (s *Service) RetentionDays() int { return s.retention }

func (s *Service) day(t time.Time) string { return t.In(s.sched.Location()).Format(time.DateOnly) }

func (s *Service) emit(tx *sql.Tx, typ string, data any) error {
	if s.sink == nil {
		return nil
	}
	if err := s.sink(tx, typ, data); err != nil {
		return fmt.Errorf("hall: event %s: %w", typ, err)
	}
	return nil
}
