package civic

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"citizenhome/kiosk/catalog"
)

// Format is the kind of an import file.
type Format string

// Import formats. A JSON file may hold every kind of record; a CSV file holds one kind.
const (
	JSON            Format = "json"
	AppointmentsCSV Format = "appointments.csv"
	ApplicationsCSV Format = "applications.csv"
	ComplaintsCSV   Format = "complaints.csv"
	// CardHoldersCSV links city cards to their holders' ID numbers (一卡通 as identity).
	CardHoldersCSV Format = "card_holders.csv"
)

// Valid reports whether f is one of the five formats.
func (f Format) Valid() bool {
	return f == JSON || f == AppointmentsCSV || f == ApplicationsCSV || f == ComplaintsCSV || f == CardHoldersCSV
}

// FormatFor tells the format from a file name: *.json is JSON; a CSV file's name must start
// with the kind it holds (appointments-2026-11-26.csv, applications.csv, complaints_1.csv), in
// any case. Errors: ErrInvalid for any other name.
func FormatFor(name string) (Format, error) {
	base := strings.ToLower(filepath.Base(name))
	switch {
	case strings.HasSuffix(base, ".json"):
		return JSON, nil
	case !strings.HasSuffix(base, ".csv"):
	case strings.HasPrefix(base, "appointments"):
		return AppointmentsCSV, nil
	case strings.HasPrefix(base, "applications"):
		return ApplicationsCSV, nil
	case strings.HasPrefix(base, "complaints"):
		return ComplaintsCSV, nil
	case strings.HasPrefix(base, "card_holders"), strings.HasPrefix(base, "card-holders"):
		return CardHoldersCSV, nil
	}
	return "", errf(CodeInvalid, "cannot tell the format of %q: name it *.json, appointments*.csv, applications*.csv, complaints*.csv or card_holders*.csv", filepath.Base(name))
}

// MaxImportSize is the largest import file accepted; a day's bookings and a year's applications
// of a city hall are well under it.
const MaxImportSize = 32 << 20

// The records of a file as written, every field a string so that a number where text is due is
// a type error, not a silent conversion. The json tags are also the CSV column names.
type rawAppointment struct {
	ID       string `json:"id"`
	IDNumber string `json:"id_number"`
	CityCard string `json:"city_card"`
	Matter   string `json:"matter"`
	Start    string `json:"start"`
	Status   string `json:"status"`
}

type rawApplication struct {
	ID         string `json:"id"`
	IDNumber   string `json:"id_number"`
	LookupCode string `json:"lookup_code"`
	Matter     string `json:"matter"`
	Status     string `json:"status"`
	Accepted   string `json:"accepted"`
	Finished   string `json:"finished"`
	Updated    string `json:"updated"`
	Bring      string `json:"bring"`
	BringTo    string `json:"bring_to"`
	BringEn    string `json:"bring_en"`
	BringToEn  string `json:"bring_to_en"`
}

type rawComplaint struct {
	Number  string `json:"number"`
	Status  string `json:"status"`
	Reply   string `json:"reply"`
	Updated string `json:"updated"`
}

// rawCardHolder links a city card to its holder. Status "lost" (挂失) or "cancelled" (注销)
// removes the link; "" or "active" (正常) sets it.
type rawCardHolder struct {
	CityCard string `json:"city_card"`
	IDNumber string `json:"id_number"`
	Status   string `json:"status"`
}

func (r *rawCardHolder) columns() map[string]*string {
	return map[string]*string{"city_card": &r.CityCard, "id_number": &r.IDNumber, "status": &r.Status}
}

func (r *rawAppointment) columns() map[string]*string {
	return map[string]*string{"id": &r.ID, "id_number": &r.IDNumber, "city_card": &r.CityCard,
		"matter": &r.Matter, "start": &r.Start, "status": &r.Status}
}

func (r *rawApplication) columns() map[string]*string {
	return map[string]*string{"id": &r.ID, "id_number": &r.IDNumber, "lookup_code": &r.LookupCode,
		"matter": &r.Matter, "status": &r.Status, "accepted": &r.Accepted, "finished": &r.Finished, "updated": &r.Updated,
		"bring": &r.Bring, "bring_to": &r.BringTo, "bring_en": &r.BringEn, "bring_to_en": &r.BringToEn}
}

func (r *rawComplaint) columns() map[string]*string {
	return map[string]*string{"number": &r.Number, "status": &r.Status, "reply": &r.Reply, "updated": &r.Updated}
}

// The validated records.
type appointment struct {
	id, idNumber, card, matter string
	start                      time.Time
	cancelled                  bool
}

type application struct {
	id, idNumber, lookup, matter string
	status                       Status
	accepted, finished           string
	updated                      time.Time
	bring, bringTo               catalog.Text
}

// cardHolder is a validated link; idNumber is "" when the link is to be removed.
type cardHolder struct {
	card, idNumber string
}

type complaintUpdate struct {
	number  string
	state   ComplaintState
	reply   string
	updated time.Time
}

// batch is a validated file. A nil list means the file does not hold that kind (replace then
// leaves it alone); an empty one that it holds none.
type batch struct {
	source       string
	replace      bool
	appointments *[]appointment
	applications *[]application
	complaints   *[]complaintUpdate
	cardHolders  *[]cardHolder
}

// validator collects every problem of a file.
type validator struct {
	errs  ImportErrors
	more  int // problems beyond maxImportErrors
	cat   *catalog.Catalog
	loc   *time.Location
	now   time.Time
	seen  map[string]string // kind + "\x00" + id -> record where first seen
	lines []int             // byte offset of each line start, for JSON positions
}

func (v *validator) add(record, id, field, format string, args ...any) {
	if len(v.errs) >= maxImportErrors {
		v.more++
		return
	}
	v.errs = append(v.errs, &ImportError{Record: record, ID: id, Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	if v.more > 0 {
		v.errs = append(v.errs, &ImportError{Reason: fmt.Sprintf("and %d more problems", v.more)})
	}
	return v.errs
}

var (
	reRecordID = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._:/-]{0,63}$`)
	reCard     = regexp.MustCompile(`^[0-9A-Z]{8,24}$`)
	reOldFRP   = regexp.MustCompile(`^[A-Z]{3}[0-9]{12}$`) // 外国人永久居留证, 2004 format
)

// checkIDNumber accepts an 18-character resident ID (also the Hong Kong, Macao and Taiwan
// residence permits and the 2023 foreigners' permanent residence card, which share its check
// digit, GB 11643) or a 15-character foreigners' permanent residence card of 2004.
func checkIDNumber(n string) string {
	if reOldFRP.MatchString(n) {
		return ""
	}
	if len(n) != 18 {
		return "must be 18 characters (or a 15-character permanent residence card)"
	}
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		if n[i] < '0' || n[i] > '9' {
			return "the first 17 characters must be digits"
		}
		sum += int(n[i]-'0') * weights[i]
	}
	if want := "10X98765432"[sum%11]; n[17] != want {
		return "check digit does not match (a typing error?)"
	}
	return ""
}

// text checks a free field: no control characters (newlines only where allowed), within max
// characters.
func (v *validator) text(rec, id, field, s string, max int, newlines bool) bool {
	if n := utf8.RuneCountInString(s); n > max {
		v.add(rec, id, field, "%d characters, at most %d", n, max)
		return false
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && !(newlines && r == '\n') }) >= 0 {
		v.add(rec, id, field, "contains control characters")
		return false
	}
	return true
}

// recordID checks an id or number and that it is not repeated in the file.
func (v *validator) recordID(kind, rec, field, id string) bool {
	if id == "" {
		v.add(rec, "", field, "missing")
		return false
	}
	if !reRecordID.MatchString(id) {
		v.add(rec, "", field, "%q must be 1 to 64 letters, digits and . _ : / - (starting with a letter or digit)", truncate(id, 80))
		return false
	}
	k := kind + "\x00" + id
	if first, dup := v.seen[k]; dup {
		v.add(rec, id, field, "repeated (first in %s)", first)
		return false
	}
	v.seen[k] = rec
	return true
}

func (v *validator) idNumber(rec, id, s string) (string, bool) {
	n := normID(s)
	if n == "" {
		return "", true
	}
	if why := checkIDNumber(n); why != "" {
		// Never echo the value: it is personal data and the error may be logged.
		v.add(rec, id, "id_number", "%s", why)
		return "", false
	}
	return n, true
}

func (v *validator) matter(rec, id, s string) bool {
	if s == "" {
		v.add(rec, id, "matter", "missing")
		return false
	}
	if !v.text(rec, id, "matter", s, 64, false) {
		return false
	}
	if v.cat != nil && v.cat.Matter(s) == nil {
		v.add(rec, id, "matter", "%q is not a matter of the catalog in force (version %s)", truncate(s, 64), v.cat.Version())
		return false
	}
	return true
}

// instant parses an RFC 3339 time, or "YYYY-MM-DD HH:MM[:SS]" in the hall's zone, as
// spreadsheets write it.
func (v *validator) instant(rec, id, field, s string, required bool) (time.Time, bool) {
	if s == "" {
		if required {
			v.add(rec, id, field, "missing")
		}
		return time.Time{}, !required
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, v.loc); err == nil {
			return t, true
		}
	}
	v.add(rec, id, field, "%q is not a time like 2026-11-26T09:30:00+08:00 or 2026-11-26 09:30", truncate(s, 64))
	return time.Time{}, false
}

func (v *validator) date(rec, id, field, s string) bool {
	if s == "" {
		return true
	}
	if t, err := time.Parse(time.DateOnly, s); err != nil || t.Format(time.DateOnly) != s {
		v.add(rec, id, field, "%q is not a date like 2026-11-26", truncate(s, 64))
		return false
	}
	return true
}

func (v *validator) appointment(rec string, r rawAppointment) (appointment, bool) {
	ok := v.recordID("appointment", rec, "id", r.ID)
	id := ""
	if ok {
		id = r.ID
	}
	a := appointment{id: r.ID, matter: r.Matter}
	var good bool
	a.idNumber, good = v.idNumber(rec, id, r.IDNumber)
	ok = ok && good
	if c := normCard(r.CityCard); c != "" {
		if !reCard.MatchString(c) {
			v.add(rec, id, "city_card", "must be 8 to 24 letters and digits")
			ok = false
		}
		a.card = c
	}
	if normID(r.IDNumber) == "" && a.card == "" {
		v.add(rec, id, "id_number", "an appointment needs id_number or city_card")
		ok = false
	}
	ok = v.matter(rec, id, r.Matter) && ok
	a.start, good = v.instant(rec, id, "start", r.Start, true)
	ok = ok && good
	switch r.Status {
	case "", "booked", "已预约":
	case "cancelled", "已取消":
		a.cancelled = true
	default:
		v.add(rec, id, "status", "%q must be booked (已预约) or cancelled (已取消)", truncate(r.Status, 64))
		ok = false
	}
	return a, ok
}

// cardHolder checks a link of a city card to its holder. The card number is the record's key:
// it is checked for repeats but never echoed in a problem (personal data; problems are logged
// and shown), nor is the ID number.
func (v *validator) cardHolder(rec string, r rawCardHolder) (cardHolder, bool) {
	c := cardHolder{card: normCard(r.CityCard)}
	ok := true
	switch {
	case c.card == "":
		v.add(rec, "", "city_card", "missing")
		ok = false
	case !reCard.MatchString(c.card):
		v.add(rec, "", "city_card", "must be 8 to 24 letters and digits")
		ok = false
	default:
		k := "card\x00" + c.card
		if first, dup := v.seen[k]; dup {
			v.add(rec, "", "city_card", "the same card again (first in %s)", first)
			ok = false
		}
		v.seen[k] = rec
	}
	active := true
	switch strings.TrimSpace(r.Status) {
	case "", "active", "正常":
	case "lost", "挂失", "cancelled", "注销":
		active = false
	default:
		v.add(rec, "", "status", "%q must be active (正常), lost (挂失) or cancelled (注销)", truncate(r.Status, 64))
		ok = false
	}
	n, good := v.idNumber(rec, "", r.IDNumber)
	ok = ok && good
	switch {
	case active && good && n == "":
		v.add(rec, "", "id_number", "missing: an active card needs its holder's ID number")
		ok = false
	case active:
		c.idNumber = n
	}
	return c, ok
}

// The longest texts of a 补正 (an application's bring and bring_to), in characters: a list of
// materials, and a window or an address.
const (
	maxBring   = 300
	maxBringTo = 100
)

// future bounds an updated time: a clock far ahead on the platform must not pin a record
// against later updates or retention.
const future = 24 * time.Hour

func (v *validator) application(rec string, r rawApplication) (application, bool) {
	ok := v.recordID("application", rec, "id", r.ID)
	id := ""
	if ok {
		id = r.ID
	}
	a := application{id: r.ID, matter: r.Matter, accepted: r.Accepted, finished: r.Finished,
		bring: catalog.Text{Zh: r.Bring, En: r.BringEn}, bringTo: catalog.Text{Zh: r.BringTo, En: r.BringToEn}}
	ok = v.text(rec, id, "bring", r.Bring, maxBring, true) && ok
	ok = v.text(rec, id, "bring_to", r.BringTo, maxBringTo, false) && ok
	ok = v.text(rec, id, "bring_en", r.BringEn, maxBring, true) && ok
	ok = v.text(rec, id, "bring_to_en", r.BringToEn, maxBringTo, false) && ok
	if (r.BringEn != "" && r.Bring == "") || (r.BringToEn != "" && r.BringTo == "") {
		v.add(rec, id, "bring", "an English text without its Chinese one")
		ok = false
	}
	var good bool
	a.idNumber, good = v.idNumber(rec, id, r.IDNumber)
	ok = ok && good
	if r.LookupCode != "" {
		code, complaint, err := ParseCode(r.LookupCode)
		if err != nil || complaint {
			v.add(rec, id, "lookup_code", "must be 4 to 40 letters, digits, - and _, and not a complaint number")
			ok = false
		}
		a.lookup = code
	}
	if normID(r.IDNumber) == "" && r.LookupCode == "" {
		v.add(rec, id, "id_number", "an application needs id_number or lookup_code")
		ok = false
	}
	ok = v.matter(rec, id, r.Matter) && ok
	st, valid := parseStatus(r.Status)
	switch {
	case r.Status == "":
		v.add(rec, id, "status", "missing")
		ok = false
	case !valid:
		v.add(rec, id, "status", "%q must be one of 受理 办理中 补正 办结 已发证 不予受理 (or accepted processing correction done issued rejected)", truncate(r.Status, 64))
		ok = false
	}
	a.status = st
	ok = v.date(rec, id, "accepted", r.Accepted) && ok
	ok = v.date(rec, id, "finished", r.Finished) && ok
	if valid {
		if r.Accepted == "" && st != StatusCorrection && st != StatusRejected {
			v.add(rec, id, "accepted", "missing: an application in %s has been accepted", st.Label().Zh)
			ok = false
		}
		if st.Finished() && r.Finished == "" {
			v.add(rec, id, "finished", "missing: an application in %s is finished", st.Label().Zh)
			ok = false
		}
		if !st.Finished() && r.Finished != "" {
			v.add(rec, id, "finished", "given, but an application in %s is not finished", st.Label().Zh)
			ok = false
		}
	}
	if r.Accepted != "" && r.Finished != "" && r.Finished < r.Accepted {
		v.add(rec, id, "finished", "%s is before accepted %s", r.Finished, r.Accepted)
		ok = false
	}
	a.updated, good = v.instant(rec, id, "updated", r.Updated, true)
	if good && a.updated.After(v.now.Add(future)) {
		v.add(rec, id, "updated", "%s is in the future", r.Updated)
		good = false
	}
	return a, ok && good
}

func (v *validator) complaint(rec string, r rawComplaint) (complaintUpdate, bool) {
	n := strings.ToUpper(strings.TrimSpace(r.Number))
	c := complaintUpdate{number: n, reply: r.Reply}
	ok := true
	if !reComplaintNo.MatchString(n) {
		v.add(rec, "", "number", "%q is not a complaint number like TS20261126K7Q2M9", truncate(r.Number, 64))
		ok = false
	} else if !v.recordID("complaint", rec, "number", n) {
		ok = false
	}
	id := ""
	if ok {
		id = n
	}
	st, valid := parseComplaintState(r.Status)
	switch {
	case r.Status == "":
		v.add(rec, id, "status", "missing")
		ok = false
	case !valid:
		v.add(rec, id, "status", "%q must be one of 已受理 处理中 已办结 不予受理 (or accepted processing resolved rejected)", truncate(r.Status, 64))
		ok = false
	}
	c.state = st
	ok = v.text(rec, id, "reply", r.Reply, maxReply, true) && ok
	var good bool
	c.updated, good = v.instant(rec, id, "updated", r.Updated, true)
	if good && c.updated.After(v.now.Add(future)) {
		v.add(rec, id, "updated", "%s is in the future", r.Updated)
		good = false
	}
	return c, ok && good
}

// parse decodes and validates a whole file; on any problem the batch is nil and the error is
// ImportErrors.
func parse(data []byte, f Format, cat *catalog.Catalog, loc *time.Location, now time.Time) (*batch, error) {
	v := &validator{cat: cat, loc: loc, now: now, seen: map[string]string{}}
	if len(data) > MaxImportSize {
		v.add("", "", "", "larger than %d bytes", MaxImportSize)
		return nil, v.err()
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		v.add("", "", "", "not valid UTF-8 (save the file as UTF-8)")
		return nil, v.err()
	}
	var b *batch
	switch f {
	case JSON:
		b = v.parseJSON(data)
	case AppointmentsCSV, ApplicationsCSV, ComplaintsCSV, CardHoldersCSV:
		b = v.parseCSV(data, f)
	default:
		return nil, errf(CodeInvalid, "unknown import format %q", f)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return b, nil
}

// top is the JSON file's outer object.
type top struct {
	Generated    string             `json:"generated"`
	Source       string             `json:"source"`
	Mode         string             `json:"mode"`
	Appointments *[]json.RawMessage `json:"appointments"`
	Applications *[]json.RawMessage `json:"applications"`
	Complaints   *[]json.RawMessage `json:"complaints"`
	CardHolders  *[]json.RawMessage `json:"card_holders"`
}

func (v *validator) parseJSON(data []byte) *batch {
	v.lines = lineStarts(data)
	v.duplicateKeys(data)
	var t top
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		v.jsonError("", "", err)
		return nil
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		v.add("", "", "", "data after the JSON object")
	}
	b := &batch{source: t.Source}
	switch t.Mode {
	case "", "merge":
	case "replace":
		b.replace = true
	default:
		v.add("", "", "mode", "%q must be merge or replace", truncate(t.Mode, 64))
	}
	v.text("", "", "source", t.Source, 64, false)
	if t.Generated != "" {
		if _, err := time.Parse(time.RFC3339, t.Generated); err != nil {
			v.add("", "", "generated", "%q is not an RFC 3339 time", truncate(t.Generated, 64))
		}
	}
	if t.Appointments != nil {
		b.appointments = decodeList(v, "appointments", *t.Appointments, v.appointment)
	}
	if t.Applications != nil {
		b.applications = decodeList(v, "applications", *t.Applications, v.application)
	}
	if t.Complaints != nil {
		b.complaints = decodeList(v, "complaints", *t.Complaints, v.complaint)
	}
	if t.CardHolders != nil {
		b.cardHolders = decodeList(v, "card_holders", *t.CardHolders, v.cardHolder)
	}
	return b
}

// decodeList decodes and checks each record of one JSON list (kind[i]), keeping the valid ones;
// the problems go to v.
func decodeList[R, T any](v *validator, kind string, raws []json.RawMessage, check func(rec string, r R) (T, bool)) *[]T {
	list := make([]T, 0, len(raws))
	for i, raw := range raws {
		rec := fmt.Sprintf("%s[%d]", kind, i)
		var r R
		if decodeRecord(v, rec, raw, &r) {
			if x, ok := check(rec, r); ok {
				list = append(list, x)
			}
		}
	}
	return &list
}

func decodeRecord(v *validator, rec string, raw json.RawMessage, into any) bool {
	if len(raw) == 0 || raw[0] != '{' {
		v.add(rec, "", "", "must be a JSON object")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		v.jsonError(rec, "", err)
		return false
	}
	return true
}

// jsonError turns a decoding error into a problem naming the field.
func (v *validator) jsonError(rec, id string, err error) {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		v.add(rec, id, "", "JSON syntax error at line %d: %v", v.lineOf(se.Offset), se)
	case errors.As(err, &te):
		field := te.Field
		// te.Value may carry the value itself ("number 410204198001010035"): only its kind is
		// said.
		kind, _, _ := strings.Cut(te.Value, " ")
		if field == "" {
			v.add(rec, id, "", "must be a JSON object, not %s", kind)
			return
		}
		if i := strings.LastIndexByte(field, '.'); i >= 0 && rec != "" {
			field = field[i+1:]
		}
		v.add(rec, id, field, "must be %s, not %s", jsonKind(te.Type.Kind().String()), kind)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		v.add(rec, id, "", "the JSON ends too early")
	default:
		msg := err.Error()
		if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			v.add(rec, id, fieldName(strings.Trim(f, `"`)), "unknown field")
			return
		}
		// The decoder's other errors name no value; none is quoted in case one would.
		v.add(rec, id, "", "not a valid import file (%s)", firstWords(strings.TrimPrefix(msg, "json: "), 4))
	}
}

// reFieldName is what a column or field name of an import file looks like (they have no digits).
var reFieldName = regexp.MustCompile(`^[a-z_]{1,32}$`)

// fieldName gives name as a problem may show it: as it is when it looks like a column or field
// name, else only that it does not. A CSV file without its header line has a record where the
// column names should be, and an ID number or a reply must not come back in the problem (which
// is logged and shown) as an "unknown column".
func fieldName(name string) string {
	if reFieldName.MatchString(name) {
		return name
	}
	return "(not a column name)"
}

// firstWords keeps the first n words of a message that is not ours.
func firstWords(msg string, n int) string {
	w := strings.Fields(msg)
	return strings.Join(w[:min(n, len(w))], " ")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "struct":
		return "an object"
	}
	return goKind
}

func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

func (v *validator) lineOf(offset int64) int {
	n := 0
	for n < len(v.lines) && int64(v.lines[n]) <= offset {
		n++
	}
	return max(n, 1)
}

// duplicateKeys reports an object key given twice, which encoding/json would silently resolve
// to the last value. It stops quietly at a syntax error: the decoder reports that one.
func (v *validator) duplicateKeys(data []byte) {
	type frame struct {
		obj       bool
		keys      map[string]bool
		expectKey bool
		key       string
		idx       int
		path      string
	}
	var stack []*frame
	done := func() {
		if len(stack) == 0 {
			return
		}
		f := stack[len(stack)-1]
		if f.obj {
			f.expectKey = true
		} else {
			f.idx++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				path := ""
				if len(stack) > 0 {
					p := stack[len(stack)-1]
					if p.obj {
						path = p.path
						if path != "" {
							path += "."
						}
						path += fieldName(p.key)
					} else {
						path = fmt.Sprintf("%s[%d]", p.path, p.idx)
					}
				}
				stack = append(stack, &frame{obj: t == '{', keys: map[string]bool{}, expectKey: true, path: path})
			default:
				stack = stack[:len(stack)-1]
				done()
			}
		case string:
			if len(stack) == 0 {
				continue // a bare top-level string: the decoder rejects it
			}
			if f := stack[len(stack)-1]; f.obj && f.expectKey {
				if f.keys[t] {
					v.add(f.path, "", fieldName(t), "duplicate key")
				}
				f.keys[t] = true
				f.key, f.expectKey = t, false
				continue
			}
			done()
		default:
			done()
		}
	}
}

// csvColumns are the columns of each CSV format; required ones must be in the header.
var csvColumns = map[Format]struct{ all, required []string }{
	AppointmentsCSV: {[]string{"id", "id_number", "city_card", "matter", "start", "status"}, []string{"id", "matter", "start"}},
	ApplicationsCSV: {[]string{"id", "id_number", "lookup_code", "matter", "status", "accepted", "finished", "updated", "bring", "bring_to", "bring_en", "bring_to_en"}, []string{"id", "matter", "status", "updated"}},
	ComplaintsCSV:   {[]string{"number", "status", "reply", "updated"}, []string{"number", "status", "updated"}},
	CardHoldersCSV:  {[]string{"city_card", "id_number", "status"}, []string{"city_card", "id_number"}},
}

func (v *validator) parseCSV(data []byte, f Format) *batch {
	cols := csvColumns[f]
	r := csv.NewReader(bytes.NewReader(data))
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		v.add("", "", "", "empty file: the first line must name the columns")
		return nil
	}
	if err != nil {
		v.add("line 1", "", "", "%v", csvReason(err))
		return nil
	}
	index := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		switch {
		case !slices.Contains(cols.all, h) && !reFieldName.MatchString(h):
			// Most likely a record where the header should be: the cell is not echoed.
			v.add("line 1", "", fmt.Sprintf("column %d", i+1), "not a column name: the first line must name the columns (%s)", strings.Join(cols.all, ", "))
		case !slices.Contains(cols.all, h):
			v.add("line 1", "", h, "unknown column (the columns are %s)", strings.Join(cols.all, ", "))
		case index[h] > 0:
			v.add("line 1", "", h, "column repeated")
		default:
			index[h] = i + 1 // 0 = absent
		}
	}
	for _, req := range cols.required {
		if index[req] == 0 {
			v.add("line 1", "", req, "column missing")
		}
	}
	if f == AppointmentsCSV && index["id_number"] == 0 && index["city_card"] == 0 {
		v.add("line 1", "", "id_number", "column missing (id_number or city_card is needed)")
	}
	if len(v.errs) > 0 {
		return nil
	}
	b := &batch{}
	var (
		appts []appointment
		apps  []application
		comps []complaintUpdate
		cards []cardHolder
	)
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				v.add("", "", "", "%v", err)
				break
			}
			if errors.Is(pe.Err, csv.ErrFieldCount) {
				v.add("line "+strconv.Itoa(pe.StartLine), "", "", "%d fields, the header has %d", len(row), len(header))
				continue
			}
			v.add("line "+strconv.Itoa(pe.StartLine), "", "", "%v", csvReason(err))
			break // after a quoting error the rest of the file cannot be trusted
		}
		line, _ := r.FieldPos(0) // the row has at least one field: it matched the header
		rec := "line " + strconv.Itoa(line)
		set := func(m map[string]*string) {
			for name, p := range m {
				if i := index[name]; i > 0 {
					*p = strings.TrimSpace(row[i-1])
				}
			}
		}
		switch f {
		case AppointmentsCSV:
			var ra rawAppointment
			set(ra.columns())
			if a, ok := v.appointment(rec, ra); ok {
				appts = append(appts, a)
			}
		case ApplicationsCSV:
			var ra rawApplication
			set(ra.columns())
			if a, ok := v.application(rec, ra); ok {
				apps = append(apps, a)
			}
		case ComplaintsCSV:
			var rc rawComplaint
			set(rc.columns())
			// A reply keeps its inner spacing; only the ends are trimmed above.
			if c, ok := v.complaint(rec, rc); ok {
				comps = append(comps, c)
			}
		case CardHoldersCSV:
			var rc rawCardHolder
			set(rc.columns())
			if c, ok := v.cardHolder(rec, rc); ok {
				cards = append(cards, c)
			}
		}
	}
	switch f {
	case AppointmentsCSV:
		b.appointments = &appts
	case ApplicationsCSV:
		b.applications = &apps
	case ComplaintsCSV:
		b.complaints = &comps
	case CardHoldersCSV:
		b.cardHolders = &cards
	}
	return b
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return "CSV: " + pe.Err.Error()
	}
	return err.Error()
}
