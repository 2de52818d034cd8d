package civic

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"citizenhome/kiosk/catalog"
	"citizenhome/mask"
	"citizenhome/telemetry/wire"
)

// ComplaintCategory is what a complaint is about.
type ComplaintCategory string

// Complaint categories.
const (
	CategoryAttitude   ComplaintCategory = "attitude"   // 服务态度
	CategoryEfficiency ComplaintCategory = "efficiency" // 办事效率
	CategoryConduct    ComplaintCategory = "conduct"    // 工作纪律与作风 (不作为、乱作为, art. 26)
	CategoryProcess    ComplaintCategory = "process"    // 办事流程与材料
	CategoryFacility   ComplaintCategory = "facility"   // 设施设备
	CategoryOther      ComplaintCategory = "other"      // 其他
)

// ComplaintCategories lists the categories in display order. Do not modify it.
var ComplaintCategories = []ComplaintCategory{CategoryAttitude, CategoryEfficiency, CategoryConduct, CategoryProcess, CategoryFacility, CategoryOther}

var categoryLabels = map[ComplaintCategory]catalog.Text{
	CategoryAttitude:   {Zh: "服务态度", En: "Staff attitude"},
	CategoryEfficiency: {Zh: "办事效率", En: "Efficiency"},
	CategoryConduct:    {Zh: "工作纪律与作风", En: "Conduct and discipline"},
	CategoryProcess:    {Zh: "办事流程与材料", En: "Procedure and materials"},
	CategoryFacility:   {Zh: "设施设备", En: "Facilities"},
	CategoryOther:      {Zh: "其他", En: "Other"},
}

// Valid reports whether c is a known category.
func (c ComplaintCategory) Valid() bool { _, ok := categoryLabels[c]; return ok }

// Label is the display name; an unknown c yields its raw value.
func (c ComplaintCategory) Label() catalog.Text {
	if t, ok := categoryLabels[c]; ok {
		return t
	}
	return catalog.Text{Zh: string(c), En: string(c)}
}

// Limits of a complaint.
const (
	MaxComplaintText = 500 // characters (runes)
	maxReply         = 500
	// maxHallReply bounds an answer from the hall controller (hall/followup keeps notes of up to
	// 2000 characters); an import's replies stay within maxReply.
	maxHallReply = 2000
)

// Complaint is what a citizen files (投诉). Text and Phone are personal data: every fmt verb,
// slog and JSON show the category, the length of the text and whether a phone is given, no more.
type Complaint struct {
	Category ComplaintCategory
	Text     string // required, 1 to MaxComplaintText characters; newlines allowed
	// Phone is optional, for the hall to call back: 7 to 15 digits, an optional leading +;
	// spaces and hyphens are dropped.
	Phone string
}

// String shows the category, the length of the text and whether a phone is given.
func (c Complaint) String() string {
	return fmt.Sprintf("complaint{%s, %d characters, phone given: %v}", c.Category, utf8.RuneCountInString(c.Text), c.Phone != "")
}

// Format prints String for every verb.
func (c Complaint) Format(f fmt.State, verb rune) { mask.Format(f, verb, c.String()) }

// LogValue gives slog what String gives, field by field.
func (c Complaint) LogValue() slog.Value { return c.fields().LogValue() }

// MarshalJSON writes what LogValue gives.
func (c Complaint) MarshalJSON() ([]byte, error) { return c.fields().MarshalJSON() }

func (c Complaint) fields() mask.Fields {
	return mask.Fields{}.Add("category", string(c.Category)).Add("text_chars", utf8.RuneCountInString(c.Text)).
		Add("phone_given", c.Phone != "")
}

// Submitted is a filed complaint, as printed on the slip.
type Submitted struct {
	Number   string // TS + local date + 6 random characters: TS20261126K7Q2M9
	Category ComplaintCategory
	At       time.Time
}

func normPhone(p string) (string, error) {
	p = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(p))
	if p == "" {
		return "", nil
	}
	digits := strings.TrimPrefix(p, "+")
	if len(digits) < 7 || len(digits) > 15 || strings.Trim(digits, "0123456789") != "" {
		return "", errf(CodeInvalid, "phone must be 7 to 15 digits")
	}
	return p, nil
}

func checkText(s string, maxRunes int, what string) error {
	if !utf8.ValidString(s) {
		return errf(CodeInvalid, "%s is not valid UTF-8", what)
	}
	if n := utf8.RuneCountInString(s); n > maxRunes {
		return errf(CodeInvalid, "%s has %d characters, at most %d", what, n, maxRunes)
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) >= 0 {
		return errf(CodeInvalid, "%s contains control characters", what)
	}
	return nil
}

// crockford is the alphabet of complaint numbers: no I, L, O, U, so a number read aloud or typed
// survives.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// Submit files a complaint, in the name of who when who is not zero (the person's later progress
// lookups then list it), and sends complaint.submitted. The text and phone are sealed before they
// reach the store. Errors: ErrInvalid for an unknown category, an empty or too long text, control
// characters, a malformed phone.
func (s *Service) Submit(ctx context.Context, c Complaint, who Identity) (Submitted, error) {
	if !c.Category.Valid() {
		return Submitted{}, errf(CodeInvalid, "unknown complaint category %q", c.Category)
	}
	text := strings.TrimSpace(c.Text)
	if text == "" {
		return Submitted{}, errf(CodeInvalid, "the complaint text is empty")
	}
	if err := checkText(text, MaxComplaintText, "the complaint text"); err != nil {
		return Submitted{}, err
	}
	phone, err := normPhone(c.Phone)
	if err != nil {
		return Submitted{}, err
	}
	// A complaint is filed under the holder's ID number when the city card is linked to one, so
	// that their ID card finds it as well as the card.
	id, card, _, err := person(ctx, s.st, s.key, who)
	if err != nil {
		return Submitted{}, err
	}
	personHash := id
	if personHash == nil {
		personHash = card
	}
	var sub Submitted
	err = s.st.Tx(ctx, func(tx *sql.Tx) error {
		now := time.Unix(0, s.now().UnixNano()).In(s.Location())
		number, err := s.newComplaintNumber(ctx, tx, now)
		if err != nil {
			return err
		}
		sealedText, err := s.key.seal(text, "complaint:"+number+":text")
		if err != nil {
			return err
		}
		var sealedPhone []byte
		if phone != "" {
			if sealedPhone, err = s.key.seal(phone, "complaint:"+number+":phone"); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO hall_complaint (number, at, day, category, text, phone, person_hash)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, number, now.UnixNano(), s.day(now), string(c.Category), sealedText, sealedPhone, personHash)
		if err != nil {
			return fmt.Errorf("hall: complaint: %w", err)
		}
		sub = Submitted{Number: number, Category: c.Category, At: now}
		return s.emit(tx, wire.EventComplaint, ComplaintEvent{Number: number, Category: string(c.Category), TS: now.Format(time.RFC3339)})
	})
	if err != nil {
		return Submitted{}, err
	}
	return sub, nil
}

func (s *Service) newComplaintNumber(ctx context.Context, tx *sql.Tx, now time.Time) (string, error) {
	// 30 random bits a day: numbers from several kiosks of one hall practically never meet,
	// and a number cannot be guessed to read another's complaint status.
	for range 5 {
		b := make([]byte, 6)
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("hall: random: %w", err)
		}
		for i := range b {
			b[i] = crockford[b[i]&31]
		}
		n := "TS" + now.Format("20060102") + string(b)
		var taken bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM hall_complaint WHERE number = ?)
			OR EXISTS (SELECT 1 FROM hall_complaint_status WHERE number = ?)`, n, n).Scan(&taken); err != nil {
			return "", fmt.Errorf("hall: complaint number: %w", err)
		}
		if !taken {
			return n, nil
		}
	}
	return "", errors.New("hall: no free complaint number after 5 draws (broken random source?)")
}

// complaintCols selects what scanComplaint reads, over hall_complaint c and
// hall_complaint_status st (either may be missing), with the number taken from number.
func complaintCols(number string) string {
	return `SELECT ` + number + `, coalesce(c.category, ''), coalesce(c.at, 0),
	coalesce(st.status, 'submitted'), coalesce(st.reply, ''), st.reply_sealed, coalesce(st.updated_at, c.at, 0)`
}

func (s *Service) scanComplaint(row interface{ Scan(...any) error }) (ComplaintStatus, error) {
	var c ComplaintStatus
	var cat, state string
	var at, upd int64
	var sealed []byte
	if err := row.Scan(&c.Number, &cat, &at, &state, &c.Reply, &sealed, &upd); err != nil {
		return ComplaintStatus{}, err
	}
	if sealed != nil {
		r, err := s.key.open(sealed, replyLabel(c.Number))
		if err != nil {
			return ComplaintStatus{}, fmt.Errorf("complaint %s: the hall's answer: %w", c.Number, err)
		}
		c.Reply = r
	}
	loc := s.Location()
	c.Category, c.State = ComplaintCategory(cat), ComplaintState(state)
	if at != 0 {
		c.Submitted = time.Unix(0, at).In(loc)
	}
	if upd != 0 {
		c.Updated = time.Unix(0, upd).In(loc)
	}
	return c, nil
}

// complaintStatus finds a complaint filed here or known from an import.
func (s *Service) complaintStatus(ctx context.Context, number string) (ComplaintStatus, error) {
	c, err := s.scanComplaint(s.st.DB().QueryRowContext(ctx, complaintCols("n.number")+`
		FROM (SELECT ? AS number) n
		LEFT JOIN hall_complaint c ON c.number = n.number
		LEFT JOIN hall_complaint_status st ON st.number = n.number
		WHERE c.number IS NOT NULL OR st.number IS NOT NULL`, number))
	if errors.Is(err, sql.ErrNoRows) {
		return ComplaintStatus{}, errf(CodeNotFound, "no complaint %s", number)
	}
	if err != nil {
		return ComplaintStatus{}, fmt.Errorf("hall: complaint %s: %w", number, err)
	}
	return c, nil
}

// complaintsOf lists the complaints filed in who's name, newest first.
func (s *Service) complaintsOf(ctx context.Context, who Identity) ([]ComplaintStatus, error) {
	id, card, _, err := person(ctx, s.st, s.key, who)
	if err != nil {
		return nil, err
	}
	rows, err := s.st.DB().QueryContext(ctx, complaintCols("c.number")+`
		FROM hall_complaint c
		LEFT JOIN hall_complaint_status st ON st.number = c.number
		WHERE c.person_hash IN (?, ?) ORDER BY c.at DESC, c.number`, id, card)
	if err != nil {
		return nil, fmt.Errorf("hall: complaints: %w", err)
	}
	defer rows.Close()
	var out []ComplaintStatus
	for rows.Next() {
		c, err := s.scanComplaint(rows)
		if err != nil {
			return nil, fmt.Errorf("hall: complaints: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ExportedComplaint is one complaint as ExportComplaints writes it, for the hall's complaint
// office. It holds personal data (the text, the phone): it goes to a file the office reads, never
// to telemetry or a log. ExportComplaints writes its fields whole; anything else that prints it
// (every fmt verb, slog, json.Marshal) gets the phone masked and the text's length only.
type ExportedComplaint struct {
	Number    string `json:"number"`
	Submitted string `json:"submitted"` // RFC 3339
	Category  string `json:"category"`
	Text      string `json:"text"`
	Phone     string `json:"phone,omitempty"`
	State     string `json:"state"`
	Reply     string `json:"reply,omitempty"`   // the hall's answer, as last pushed
	Updated   string `json:"updated,omitempty"` // RFC 3339: when the hall last changed the state
	Purged    bool   `json:"purged,omitempty"`  // past the retention period: text and phone are gone
}

// exported is an ExportedComplaint as the export file has it: whole.
type exported ExportedComplaint

// String is "complaint TS20261126K7Q2M9 (processing), 42 characters, phone 138****8000".
func (e ExportedComplaint) String() string {
	return fmt.Sprintf("complaint %s (%s), %d characters, phone %s", e.Number, e.State, utf8.RuneCountInString(e.Text), mask.Phone(e.Phone))
}

// Format prints String for every verb.
func (e ExportedComplaint) Format(f fmt.State, verb rune) { mask.Format(f, verb, e.String()) }

// LogValue gives slog the complaint with the phone masked and the text's length.
func (e ExportedComplaint) LogValue() slog.Value { return e.fields().LogValue() }

// MarshalJSON writes what LogValue gives: the export file is ExportComplaints' alone.
func (e ExportedComplaint) MarshalJSON() ([]byte, error) { return e.fields().MarshalJSON() }

func (e ExportedComplaint) fields() mask.Fields {
	return mask.Fields{}.Add("number", e.Number).Add("submitted", e.Submitted).Add("category", e.Category).
		Add("state", e.State).Add("text_chars", utf8.RuneCountInString(e.Text)).Add("phone", mask.Phone(e.Phone)).
		Add("updated", e.Updated).Add("purged", e.Purged)
}

// ExportComplaints writes the complaints filed at this kiosk at or after since, oldest first, one
// JSON object (ExportedComplaint) a line, with text and phone opened. It returns how many it
// wrote. A sealed field that does not open with the key stops the export with an ErrKey error.
func (s *Service) ExportComplaints(ctx context.Context, w io.Writer, since time.Time) (int, error) {
	rows, err := s.st.DB().QueryContext(ctx, `SELECT c.number, c.at, c.category, c.text, c.phone,
		coalesce(st.status, 'submitted'), coalesce(st.reply, ''), st.reply_sealed, coalesce(st.updated_at, 0), c.purged_at IS NOT NULL
		FROM hall_complaint c LEFT JOIN hall_complaint_status st ON st.number = c.number
		WHERE c.at >= ? ORDER BY c.at, c.number`, since.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("hall: export complaints: %w", err)
	}
	defer rows.Close()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	n := 0
	for rows.Next() {
		var e ExportedComplaint
		var at, upd int64
		var text, phone, reply []byte
		if err := rows.Scan(&e.Number, &at, &e.Category, &text, &phone, &e.State, &e.Reply, &reply, &upd, &e.Purged); err != nil {
			return n, fmt.Errorf("hall: export complaints: %w", err)
		}
		if reply != nil {
			if e.Reply, err = s.key.open(reply, replyLabel(e.Number)); err != nil {
				return n, fmt.Errorf("complaint %s: %w", e.Number, err)
			}
		}
		e.Submitted = time.Unix(0, at).In(s.Location()).Format(time.RFC3339)
		if upd != 0 {
			e.Updated = time.Unix(0, upd).In(s.Location()).Format(time.RFC3339)
		}
		if text != nil {
			if e.Text, err = s.key.open(text, "complaint:"+e.Number+":text"); err != nil {
				return n, fmt.Errorf("complaint %s: %w", e.Number, err)
			}
		}
		if phone != nil {
			if e.Phone, err = s.key.open(phone, "complaint:"+e.Number+":phone"); err != nil {
				return n, fmt.Errorf("complaint %s: %w", e.Number, err)
			}
		}
		if err := enc.Encode(exported(e)); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// HallReply is the hall controller's word on a complaint (its work order): the state, the answer
// once there is one, and when the state was reached.
type HallReply struct {
	Number  string
	State   ComplaintState // not ComplaintSubmitted: that is the kiosk's alone
	Reply   string         // the hall's answer; "" until answered
	Updated time.Time
}

// KeepReply keeps r as the complaint's status when it is at least as new as what the kiosk knows
// (an import's or an earlier reply's), as an import of one complaint would; a number filed at
// another kiosk is kept too, so that a later lookup here finds it without the controller. The
// answer is the hall's text for the citizen; hall/followup refuses one that looks like a phone
// or an ID number, but it still speaks of the citizen's case, so it is stored sealed under the
// hall key like the complaint's text. Errors: ErrInvalid for a malformed number, an unknown state or
// ComplaintSubmitted, a reply over 2000 characters or with control characters other than line
// breaks and tabs, a zero Updated.
func (s *Service) KeepReply(ctx context.Context, r HallReply) error {
	if !reComplaintNo.MatchString(r.Number) {
		return errf(CodeInvalid, "%q is not a complaint number", truncate(r.Number, 48))
	}
	if _, ok := complaintStateLabels[r.State]; !ok || r.State == ComplaintSubmitted {
		return errf(CodeInvalid, "complaint state %q cannot come from the hall", r.State)
	}
	if utf8.RuneCountInString(r.Reply) > maxHallReply || !utf8.ValidString(r.Reply) ||
		strings.ContainsFunc(r.Reply, func(c rune) bool { return unicode.IsControl(c) && c != '\n' && c != '\t' }) {
		return errf(CodeInvalid, "the hall's answer to complaint %s is over %d characters or not text", r.Number, maxHallReply)
	}
	if r.Updated.IsZero() {
		return errf(CodeInvalid, "a complaint's state without its time")
	}
	reply, err := s.key.sealReply(r.Number, r.Reply)
	if err != nil {
		return err
	}
	_, err = s.st.DB().ExecContext(ctx, `INSERT INTO hall_complaint_status (number, status, reply, reply_sealed, updated_at, imported_at)
		VALUES (?, ?, '', ?, ?, ?) ON CONFLICT (number) DO UPDATE SET status = excluded.status,
		reply = '', reply_sealed = excluded.reply_sealed, updated_at = excluded.updated_at, imported_at = excluded.imported_at
		WHERE excluded.updated_at >= hall_complaint_status.updated_at`,
		r.Number, string(r.State), reply, r.Updated.UnixNano(), s.now().UnixNano())
	if err != nil {
		return fmt.Errorf("hall: complaint %s: %w", r.Number, err)
	}
	return nil
}
