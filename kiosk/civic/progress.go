package civic

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"

	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/queue"
)

// Status is where an application stands (办件状态).
type Status string

// Application statuses. In import files either the code or the Chinese label may be written.
const (
	StatusAccepted   Status = "accepted"   // 受理: accepted, the time limits run
	StatusProcessing Status = "processing" // 办理中
	StatusCorrection Status = "correction" // 补正: the applicant must complete the materials; the time limits stop
	StatusDone       Status = "done"       // 办结
	StatusIssued     Status = "issued"     // 已发证: the licence or certificate is issued
	StatusRejected   Status = "rejected"   // 不予受理: not accepted; no time limit applies
)

var statusLabels = map[Status]catalog.Text{
	StatusAccepted:   {Zh: "受理", En: "Accepted"},
	StatusProcessing: {Zh: "办理中", En: "In progress"},
	StatusCorrection: {Zh: "补正", En: "Materials to complete"},
	StatusDone:       {Zh: "办结", En: "Completed"},
	StatusIssued:     {Zh: "已发证", En: "Certificate issued"},
	StatusRejected:   {Zh: "不予受理", En: "Not accepted"},
}

// Valid reports whether st is one of the six statuses.
func (st Status) Valid() bool { _, ok := statusLabels[st]; return ok }

// Label is the display name (办理中 / In progress); an invalid st yields its raw value.
func (st Status) Label() catalog.Text {
	if t, ok := statusLabels[st]; ok {
		return t
	}
	return catalog.Text{Zh: string(st), En: string(st)}
}

// Finished reports whether the application is closed: 办结, 已发证 or 不予受理.
func (st Status) Finished() bool {
	return st == StatusDone || st == StatusIssued || st == StatusRejected
}

// parseStatus accepts a code or its Chinese label.
func parseStatus(s string) (Status, bool) {
	if st := Status(s); st.Valid() {
		return st, true
	}
	for st, l := range statusLabels {
		if l.Zh == s {
			return st, true
		}
	}
	return "", false
}

// Deadline is one time limit of an application.
type Deadline struct {
	// Date is the last day, YYYY-MM-DD; empty when there is no deadline: the law sets none
	// (None), the application is not (or not yet) accepted, or its matter is not in the catalog.
	Date     string
	Days     int  // the limit as the catalog gives it
	Calendar bool // counted in calendar days (日) rather than working days (工作日)
	None     bool // the law sets no limit (法律未规定)
}

// Application is one application (办件) of a citizen. The first fields come from the Source; the
// others are computed by Service.Progress from the catalog in force and the hall's working days.
// It holds no personal data.
type Application struct {
	ID       string // the platform's application number (办件编号)
	Matter   string // catalog matter id
	Status   Status
	Accepted string    // YYYY-MM-DD; empty when not accepted (补正 before acceptance, 不予受理)
	Finished string    // YYYY-MM-DD; empty while open
	Updated  time.Time // last status change on the platform
	// Bring and BringTo are what the hall asks the applicant to bring in 补正 and where (a
	// window, an address), as the platform words them, in Chinese and optionally English (En
	// empty: none given); either may be zero (the platform gave none). Hall text, no personal
	// data; meaningful only in StatusCorrection.
	Bring, BringTo catalog.Text

	// Computed. MatterName and Handling are zero when the matter is not in the catalog.
	MatterName catalog.Text
	Handling   catalog.Handling
	// Legal is the statutory deadline (法定期限), Promised the hall's (承诺时限), both counted
	// from the day after Accepted: in working days, or in calendar days moved past a closing
	// day when the catalog says so.
	Legal, Promised Deadline
	// Suspended is true in 补正: the limits do not run while the applicant completes the
	// materials, so the application is not overdue meanwhile.
	Suspended bool
	// Overdue: finished after the promised deadline, or not finished and the promised deadline
	// is past. OverdueLegal: the same against the statutory deadline.
	Overdue, OverdueLegal bool
}

// ComplaintState is where a complaint stands.
type ComplaintState string

// Complaint states. In import files either the code or the Chinese label may be written, except
// submitted, which only the kiosk sets.
const (
	ComplaintSubmitted  ComplaintState = "submitted"  // 已提交: at the kiosk, the hall has not answered yet
	ComplaintAccepted   ComplaintState = "accepted"   // 已受理
	ComplaintProcessing ComplaintState = "processing" // 处理中
	ComplaintResolved   ComplaintState = "resolved"   // 已办结
	ComplaintRejected   ComplaintState = "rejected"   // 不予受理
)

var complaintStateLabels = map[ComplaintState]catalog.Text{
	ComplaintSubmitted:  {Zh: "已提交", En: "Submitted"},
	ComplaintAccepted:   {Zh: "已受理", En: "Accepted"},
	ComplaintProcessing: {Zh: "处理中", En: "Being handled"},
	ComplaintResolved:   {Zh: "已办结", En: "Resolved"},
	ComplaintRejected:   {Zh: "不予受理", En: "Not accepted"},
}

// Label is the display name; an unknown state yields its raw value.
func (c ComplaintState) Label() catalog.Text {
	if t, ok := complaintStateLabels[c]; ok {
		return t
	}
	return catalog.Text{Zh: string(c), En: string(c)}
}

func parseComplaintState(s string) (ComplaintState, bool) {
	for st, l := range complaintStateLabels {
		if st != ComplaintSubmitted && (string(st) == s || l.Zh == s) {
			return st, true
		}
	}
	return "", false
}

// ComplaintStatus is a complaint as the progress lookup shows it: no text, no phone.
type ComplaintStatus struct {
	Number string
	// Category and Submitted are those filed at this kiosk; zero for a number filed at another
	// kiosk that the hall's import told about.
	Category  ComplaintCategory
	Submitted time.Time
	State     ComplaintState
	Reply     string    // the hall's answer (反馈), as imported; may be empty
	Updated   time.Time // of State; Submitted until the hall answers
}

// Progress is the answer of a progress lookup.
type Progress struct {
	Applications []Application     // most recently updated first
	Complaints   []ComplaintStatus // newest first
	// Ticket is the queue ticket whose lookup code was given, when it was one.
	Ticket *queue.Ticket
}

// lookupURI is the scheme of the QR codes on tickets, receipts and complaint slips (the same as
// slip.LookupURI; repeated here so the package need not import the printing code).
const lookupURI = "citizenhome:lookup:"

var (
	reComplaintNo = regexp.MustCompile(`^TS[0-9]{8}[0-9A-HJKMNP-TV-Z]{6}$`)
	reLookup      = regexp.MustCompile(`^[0-9A-Z][0-9A-Z_-]{3,39}$`)
)

// ParseCode normalises what a citizen scanned or typed into a lookup: the content of a QR code
// ("citizenhome:lookup:K7Q2M9XAB1", or a ticket's public page "https://hall/t/K7Q2M9XAB1") or
// the code itself, in any case, with spaces around. It
// returns the code and whether it is a complaint number (TS + date + 6 characters). Errors:
// ErrInvalid for anything else (4 to 40 characters of A-Z, 0-9, '-' and '_' are accepted as a
// ticket or receipt code).
func ParseCode(s string) (code string, complaint bool, err error) {
	s = strings.TrimSpace(s)
	if len(s) >= len(lookupURI) && strings.EqualFold(s[:len(lookupURI)], lookupURI) {
		s = s[len(lookupURI):]
	} else if u, ok := publicTicket(s); ok {
		s = u
	}
	s = strings.ToUpper(strings.TrimSpace(s))
	switch {
	case reComplaintNo.MatchString(s):
		return s, true, nil
	case reLookup.MatchString(s):
		return s, false, nil
	}
	return "", false, errf(CodeInvalid, "%q is not a lookup code or complaint number", truncate(s, 48))
}

// publicTicket reads the code out of a ticket's QR code when the hall prints its public page
// there (hall.public_url): "https://host/path/t/K7Q2M9XAB1".
func publicTicket(s string) (string, bool) {
	low := strings.ToLower(s)
	if !strings.HasPrefix(low, "https://") && !strings.HasPrefix(low, "http://") {
		return "", false
	}
	i := strings.LastIndex(s, "/t/")
	if i < 0 || strings.ContainsAny(s[i+3:], "/?#") {
		return "", false
	}
	return s[i+3:], true
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// Progress looks applications and complaints up (办件查询), showing only what belongs to the
// query: with q.Who, the person's applications and the complaints filed in their name; with
// q.Code (scanned or typed, see ParseCode), the applications filed with that ticket or receipt
// code and the ticket itself, or the complaint with that number.
//
// A person with nothing on record gets an empty Progress, except a city card alone that is
// linked to no holder (card_holders) and finds nothing: ErrCardNotLinked, so that the screen can
// say to use the ID card instead of "nothing on record". A code that finds nothing gets
// ErrNotFound; a malformed code ErrInvalid; neither or both of Who and Code ErrInvalid.
func (s *Service) Progress(ctx context.Context, q Query) (Progress, error) {
	hasWho, hasCode := !q.Who.IsZero(), strings.TrimSpace(q.Code) != ""
	if hasWho == hasCode {
		return Progress{}, errf(CodeInvalid, "a lookup is by identity or by code, exactly one")
	}
	var p Progress
	if hasWho {
		apps, err := s.src.Applications(ctx, Query{Who: q.Who})
		if err != nil {
			return Progress{}, err
		}
		p.Applications = s.complete(apps)
		if p.Complaints, err = s.complaintsOf(ctx, q.Who); err != nil {
			return Progress{}, err
		}
		if len(p.Applications) == 0 && len(p.Complaints) == 0 && cardOnly(q.Who) {
			if linked, err := s.CardLinked(ctx, q.Who); err != nil {
				return Progress{}, err
			} else if !linked {
				return Progress{}, errf(CodeCardNotLinked, "the city card is linked to no holder and finds nothing")
			}
		}
		return p, nil
	}
	code, complaint, err := ParseCode(q.Code)
	if err != nil {
		return Progress{}, err
	}
	if complaint {
		c, err := s.complaintStatus(ctx, code)
		if err != nil {
			return Progress{}, err
		}
		p.Complaints = []ComplaintStatus{c}
		return p, nil
	}
	apps, err := s.src.Applications(ctx, Query{Code: code})
	if err != nil {
		return Progress{}, err
	}
	p.Applications = s.complete(apps)
	if s.queue != nil {
		t, err := s.queue.ByLookup(ctx, code)
		switch {
		case err == nil:
			p.Ticket = &t
		case !errors.Is(err, queue.ErrNotFound) && !errors.Is(err, queue.ErrInvalid):
			return Progress{}, err
		}
	}
	if len(p.Applications) == 0 && p.Ticket == nil {
		return Progress{}, errf(CodeNotFound, "nothing found under code %s", code)
	}
	return p, nil
}

// complete fills the computed fields and sorts, most recently updated first.
func (s *Service) complete(apps []Application) []Application {
	c := s.cat.Current()
	today := s.sched.Midnight(s.now())
	loc := s.Location()
	for i := range apps {
		a := &apps[i]
		a.Updated = a.Updated.In(loc)
		var m *catalog.Matter
		if c != nil {
			m = c.Matter(a.Matter)
		}
		if m == nil {
			continue
		}
		a.MatterName, a.Handling = m.Name, m.Handling
		a.Legal = Deadline{Days: m.LegalDays, Calendar: m.LegalCalendarDays, None: m.NoLegalLimit}
		a.Promised = Deadline{Days: m.PromisedDays}
		a.Suspended = a.Status == StatusCorrection
		if a.Accepted == "" || a.Status == StatusRejected {
			continue
		}
		acc, err := time.ParseInLocation(time.DateOnly, a.Accepted, loc)
		if err != nil {
			continue // the import validated it; a foreign Source may not have
		}
		// A 即办件 (0 promised days) is due the day it is accepted.
		a.Promised.Date = s.sched.AddWorkdays(acc, m.PromisedDays).Format(time.DateOnly)
		if !m.NoLegalLimit {
			if m.LegalCalendarDays {
				a.Legal.Date = s.sched.AddDays(acc, m.LegalDays).Format(time.DateOnly)
			} else {
				a.Legal.Date = s.sched.AddWorkdays(acc, m.LegalDays).Format(time.DateOnly)
			}
		}
		a.Overdue = overdue(a, a.Promised.Date, today)
		a.OverdueLegal = overdue(a, a.Legal.Date, today)
	}
	slices.SortStableFunc(apps, func(x, y Application) int { return y.Updated.Compare(x.Updated) })
	return apps
}

// overdue compares the finishing date, or today for an open application, with the last day
// due. Dates are YYYY-MM-DD, which compare as strings.
func overdue(a *Application, due string, today time.Time) bool {
	if due == "" {
		return false
	}
	if a.Finished != "" {
		return a.Finished > due
	}
	if a.Suspended {
		return false
	}
	return today.Format(time.DateOnly) > due
}
