package citycard

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"citizenhome/mask"
)

// MaxRecords is how many log records a purse keeps, and how many Read asks for.
const MaxRecords = 10

// Commands Session sends, as the reference gives them.
var (
	readPublicAPDU = []byte{0x00, 0xB0, 0x95, 0x00, PublicSize} // READ BINARY SFI 0x15
	balanceAPDU    = []byte{0x80, 0x5C, 0x00, 0x02, 0x04}       // GET BALANCE, purse
)

// readRecordAPDU reads record n of SFI 0x18 (P2 = 0x18<<3 | 4: record number in P1).
func readRecordAPDU(n int) []byte { return []byte{0x00, 0xB2, byte(n), 0xC4, RecordSize} }

// Session is a conversation with one card presence. It is not safe for concurrent use (a card
// answers one command at a time anyway). Its purchase commands (InitPurchase, DebitPurchase,
// Prove, Recover) are in purse.go and recover.go; Purchase drives them with a PSAM.
type Session struct {
	card Card
	app  App
	// Location is the zone of the log records' times; nil means ChinaTime.
	Location *time.Location
}

// NewSession starts a session on a card; nothing is sent until a method is called.
func NewSession(card Card) *Session { return &Session{card: card} }

// App is the purse application Select found; "" before a successful Select.
func (s *Session) App() App { return s.app }

// Select selects the payment system environment (1PAY.SYS.DDF01; the master file when the card
// has no PSE), then the purse: file 1001, the MOHURD AID, the T-Union AID, the first that
// answers 90 00. None answering is ErrNoApplication, which also wraps each purse's status word
// (errors.Is(err, ErrAppLocked)). A card that leaves mid-way is ErrNoResponse.
func (s *Session) Select() (App, error) {
	app, err := selectApp(s.card)
	if err != nil {
		return "", err
	}
	s.app = app
	return app, nil
}

// Public reads the public data (SFI 0x15) of the selected purse; see ParsePublic.
func (s *Session) Public() (Public, error) {
	data, err := Exchange(s.card, readPublicAPDU)
	if err != nil {
		return Public{}, err
	}
	return ParsePublic(data)
}

// Balance reads the purse balance in fen. A balance is 4 bytes, unsigned; other lengths are
// ErrMalformed.
func (s *Session) Balance() (int64, error) {
	data, err := Exchange(s.card, balanceAPDU)
	if err != nil {
		return 0, err
	}
	if len(data) != 4 {
		return 0, fmt.Errorf("%w: balance has %d bytes, want 4", ErrMalformed, len(data))
	}
	return int64(be32(data)), nil
}

// Records reads up to limit log records (SFI 0x18), newest first. The log ends early at an
// all-zero record or a 6A 83 answer, which are not errors. On any other error Records returns
// the records read so far with it.
func (s *Session) Records(limit int) ([]Record, error) {
	var recs []Record
	for n := 1; n <= limit; n++ {
		data, err := Exchange(s.card, readRecordAPDU(n))
		if errors.Is(err, ErrRecordNotFound) {
			break
		}
		if err != nil {
			return recs, err
		}
		r, err := ParseRecord(data, s.Location)
		if err != nil {
			return recs, fmt.Errorf("record %d: %w", n, err)
		}
		if r.IsZero() {
			break
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// Read selects the purse and reads its public data, balance and last MaxRecords transactions.
// Once the public data are in, a later failure returns the Info read so far with the error,
// so nothing the card gave is lost; before that, Info is nil.
func (s *Session) Read() (*Info, error) {
	app, err := s.Select()
	if err != nil {
		return nil, err
	}
	pub, err := s.Public()
	if err != nil {
		return nil, err
	}
	info := &Info{
		CardNo: pub.CardNo, Issuer: pub.Issuer, App: app, AppType: pub.AppType, Version: pub.Version,
		ValidFrom: pub.ValidFrom, ValidTo: pub.ValidTo,
	}
	if info.BalanceFen, err = s.Balance(); err != nil {
		return info, err
	}
	info.Records, err = s.Records(MaxRecords)
	return info, err
}

// Read reads a city card with a new Session; see Session.Read.
func Read(card Card) (*Info, error) { return NewSession(card).Read() }

// Info is what a kiosk reads from a city card. CardNo is personal data: Info prints itself
// masked with every fmt verb, slog and JSON; code that must show the number reads the field.
type Info struct {
	CardNo     string
	Issuer     string // issuer id, hex
	App        App
	AppType    AppType
	Version    byte
	BalanceFen int64
	ValidFrom  time.Time // date only, midnight UTC; zero if the card gives none
	ValidTo    time.Time
	Records    []Record // newest first
}

// MaskedCardNo gives the card number masked (package mask): 3104********1234, all starred for
// a number of 8 digits or fewer.
func (i Info) MaskedCardNo() string { return mask.Card(i.CardNo) }

// String gives "citycard 3104********1234 (MOHURD)".
func (i Info) String() string { return "citycard " + i.MaskedCardNo() + " (" + i.App.Name() + ")" }

// Format prints String for every verb, so %+v or %#v cannot leak the card number.
func (i Info) Format(f fmt.State, verb rune) { mask.Format(f, verb, i.String()) }

// LogValue gives slog the masked number and the application only.
func (i Info) LogValue() slog.Value { return i.fields().LogValue() }

// MarshalJSON writes the masked number and the application only: JSON is a common way into
// logs. Code that must send the full data (the local API) maps the fields itself.
func (i Info) MarshalJSON() ([]byte, error) { return i.fields().MarshalJSON() }

func (i Info) fields() mask.Fields {
	return mask.Fields{}.Add("card_no", i.MaskedCardNo()).Add("app", string(i.App))
}
