package civic

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/queue"
	"citizenhome/kiosk/store"
	"citizenhome/telemetry/wire"
)

// Level is one of the five 好差评 levels. The zero value means "not rated".
type Level int

// The five levels of the national 政务服务"好差评" system; 1 and 2 are 差评.
const (
	VeryDissatisfied Level = 1 // 非常不满意
	Dissatisfied     Level = 2 // 不满意
	Fair             Level = 3 // 基本满意
	Satisfied        Level = 4 // 满意
	VerySatisfied    Level = 5 // 非常满意
)

var levelLabels = map[Level]catalog.Text{
	VeryDissatisfied: {Zh: "非常不满意", En: "Very dissatisfied"},
	Dissatisfied:     {Zh: "不满意", En: "Dissatisfied"},
	Fair:             {Zh: "基本满意", En: "Fairly satisfied"},
	Satisfied:        {Zh: "满意", En: "Satisfied"},
	VerySatisfied:    {Zh: "非常满意", En: "Very satisfied"},
}

// Valid reports whether l is 1..5.
func (l Level) Valid() bool { return l >= VeryDissatisfied && l <= VerySatisfied }

// Bad reports whether l is a 差评 (1 or 2), which must give its reasons.
func (l Level) Bad() bool { return l == VeryDissatisfied || l == Dissatisfied }

// Label is the display name; an invalid l yields its number.
func (l Level) Label() catalog.Text {
	if t, ok := levelLabels[l]; ok {
		return t
	}
	n := strconv.Itoa(int(l))
	return catalog.Text{Zh: n, En: n}
}

// Dimension is one of the national rating dimensions.
type Dimension string

// The dimensions, in display order (Dimensions).
const (
	Overall    Dimension = "overall"    // 整体满意度
	Efficiency Dimension = "efficiency" // 服务效率
	Skill      Dimension = "skill"      // 服务水平
	Attitude   Dimension = "attitude"   // 服务态度
)

// Dimensions lists the dimensions in display order. Do not modify it.
var Dimensions = []Dimension{Overall, Efficiency, Skill, Attitude}

var dimensionLabels = map[Dimension]catalog.Text{
	Overall:    {Zh: "整体满意度", En: "Overall satisfaction"},
	Efficiency: {Zh: "服务效率", En: "Efficiency"},
	Skill:      {Zh: "服务水平", En: "Competence"},
	Attitude:   {Zh: "服务态度", En: "Attitude"},
}

// Label is the display name; an unknown d yields its raw value.
func (d Dimension) Label() catalog.Text {
	if t, ok := dimensionLabels[d]; ok {
		return t
	}
	return catalog.Text{Zh: string(d), En: string(d)}
}

// Reason is why a citizen is dissatisfied (差评原因), a fixed code: ratings take no free text,
// which could hold personal data (a complaint does, sealed).
type Reason string

// Reasons, in display order (Reasons).
const (
	ReasonWaitLong    Reason = "wait-long"     // 等候时间长
	ReasonAttitude    Reason = "attitude"      // 服务态度不好
	ReasonNotInformed Reason = "not-informed"  // 未一次性告知
	ReasonManyTrips   Reason = "many-trips"    // 多次跑动
	ReasonMaterials   Reason = "materials"     // 要求材料过多
	ReasonSlow        Reason = "slow"          // 办理时间长
	ReasonGuide       Reason = "unclear-guide" // 办事指南不清楚
	ReasonSystem      Reason = "system"        // 系统或设备故障
	ReasonOther       Reason = "other"         // 其他
)

// Reasons lists the reasons in display order. Do not modify it.
var Reasons = []Reason{ReasonWaitLong, ReasonAttitude, ReasonNotInformed, ReasonManyTrips, ReasonMaterials, ReasonSlow, ReasonGuide, ReasonSystem, ReasonOther}

var reasonLabels = map[Reason]catalog.Text{
	ReasonWaitLong:    {Zh: "等候时间长", En: "Long wait"},
	ReasonAttitude:    {Zh: "服务态度不好", En: "Unfriendly staff"},
	ReasonNotInformed: {Zh: "未一次性告知", En: "Not told everything at once"},
	ReasonManyTrips:   {Zh: "多次跑动", En: "Had to come several times"},
	ReasonMaterials:   {Zh: "要求材料过多", En: "Too many documents asked"},
	ReasonSlow:        {Zh: "办理时间长", En: "Slow handling"},
	ReasonGuide:       {Zh: "办事指南不清楚", En: "Unclear service guide"},
	ReasonSystem:      {Zh: "系统或设备故障", En: "System or equipment failure"},
	ReasonOther:       {Zh: "其他", En: "Other"},
}

// Valid reports whether r is a known reason.
func (r Reason) Valid() bool { _, ok := reasonLabels[r]; return ok }

// Label is the display name; an unknown r yields its raw value.
func (r Reason) Label() catalog.Text {
	if t, ok := reasonLabels[r]; ok {
		return t
	}
	return catalog.Text{Zh: string(r), En: string(r)}
}

// Rating is a citizen's 好差评.
type Rating struct {
	Overall Level // required
	// The other dimensions are optional: 0 means not rated.
	Efficiency, Skill, Attitude Level
	// Reasons are required (at least one) when any level given is 1 or 2, and optional
	// otherwise; no repeats.
	Reasons []Reason
	// TicketID links the rating to a queue ticket (and through it to its section and the window
	// that called it); 0 rates the hall in general. One rating per ticket.
	TicketID int64
}

// Rated is a recorded rating.
type Rated struct {
	ID      int64
	At      time.Time
	Ticket  string // "A012"; empty when not linked
	Section string
	Window  string // the window that called the ticket; empty when not called (yet)
	Matter  string
}

func (r Rating) check() error {
	if !r.Overall.Valid() {
		return errf(CodeInvalid, "the overall level must be 1 to 5, have %d", r.Overall)
	}
	bad := r.Overall.Bad()
	for _, d := range []struct {
		name string
		l    Level
	}{{"efficiency", r.Efficiency}, {"skill", r.Skill}, {"attitude", r.Attitude}} {
		if d.l != 0 && !d.l.Valid() {
			return errf(CodeInvalid, "the %s level must be 1 to 5 or 0 (not rated), have %d", d.name, d.l)
		}
		bad = bad || d.l.Bad()
	}
	seen := map[Reason]bool{}
	for _, re := range r.Reasons {
		if !re.Valid() {
			return errf(CodeInvalid, "unknown reason %q", re)
		}
		if seen[re] {
			return errf(CodeInvalid, "reason %q given twice", re)
		}
		seen[re] = true
	}
	if bad && len(r.Reasons) == 0 {
		return errf(CodeInvalid, "a rating of 不满意 or 非常不满意 needs at least one reason")
	}
	if r.TicketID < 0 {
		return errf(CodeInvalid, "negative ticket id")
	}
	return nil
}

func nullLevel(l Level) any {
	if l == 0 {
		return nil
	}
	return int(l)
}

// Rate records a rating and sends rating.submitted. Errors: ErrInvalid (see Rating; also a
// TicketID when the service has no queue), ErrNotFound for an unknown ticket, ErrAlreadyRated
// when the ticket has a rating.
func (s *Service) Rate(ctx context.Context, r Rating) (Rated, error) {
	if err := r.check(); err != nil {
		return Rated{}, err
	}
	var out Rated
	if r.TicketID != 0 {
		if s.queue == nil {
			return Rated{}, errf(CodeInvalid, "ratings cannot name a ticket: no queue")
		}
		t, err := s.queue.ByID(ctx, r.TicketID)
		if errors.Is(err, queue.ErrNotFound) {
			return Rated{}, errf(CodeNotFound, "no ticket with id %d", r.TicketID)
		}
		if err != nil {
			return Rated{}, err
		}
		out = Rated{Ticket: t.Code, Section: t.Section, Window: t.Window, Matter: t.MatterID}
	}
	reasons := make([]string, len(r.Reasons))
	for i, re := range r.Reasons {
		reasons[i] = string(re)
	}
	var ticketID any
	if r.TicketID != 0 {
		ticketID = r.TicketID
	}
	err := s.st.Tx(ctx, func(tx *sql.Tx) error {
		if r.TicketID != 0 {
			var rated bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM hall_rating WHERE ticket_id = ?)`, r.TicketID).Scan(&rated); err != nil {
				return fmt.Errorf("hall: rating: %w", err)
			}
			if rated {
				return errf(CodeAlreadyRated, "ticket %s is rated already", out.Ticket)
			}
		}
		now := time.Unix(0, s.now().UnixNano()).In(s.Location())
		res, err := tx.ExecContext(ctx, `INSERT INTO hall_rating (at, day, overall, efficiency, skill, attitude,
			reasons, ticket_id, ticket, section, call_window, matter_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			now.UnixNano(), s.day(now), int(r.Overall), nullLevel(r.Efficiency), nullLevel(r.Skill), nullLevel(r.Attitude),
			strings.Join(reasons, ","), ticketID, out.Ticket, out.Section, out.Window, out.Matter)
		if err != nil {
			return fmt.Errorf("hall: rating: %w", err)
		}
		if out.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("hall: rating: %w", err)
		}
		out.At = now
		return s.emit(tx, wire.EventRating, RatingEvent{
			Rating: out.ID, Overall: int(r.Overall), Efficiency: int(r.Efficiency), Skill: int(r.Skill),
			Attitude: int(r.Attitude), Reasons: reasons, Ticket: out.Ticket, Day: s.day(now),
			Section: out.Section, Window: out.Window, Matter: out.Matter, TS: now.Format(time.RFC3339),
		})
	})
	if err != nil {
		return Rated{}, err
	}
	return out, nil
}

// Period is the length of an aggregate.
type Period string

// Periods of the performance reviews (art. 35: 月度考核; daily for the hall's own follow-up).
const (
	Daily   Period = "day"
	Monthly Period = "month"
)

// Aggregate is the ratings of one period, section and window.
type Aggregate struct {
	Period  string // "2026-11-26" (Daily) or "2026-11" (Monthly), local
	Section string // empty: ratings not linked to a ticket, or a ticket without section
	Window  string // empty: not linked, or the ticket was not called
	Count   int
	// Levels counts the overall levels: Levels[5] is the number of 非常满意. Levels[0] is unused.
	Levels [6]int
	// Mean is the mean level of each dimension over the ratings that rated it; 0 when none did.
	Mean map[Dimension]float64
	// Reasons counts the reasons given.
	Reasons map[Reason]int
}

// Bad is the number of 差评 (overall level 1 or 2).
func (a Aggregate) Bad() int { return a.Levels[1] + a.Levels[2] }

// Satisfaction is the share of ratings that are not 差评, 0..1; 0 when Count is 0.
func (a Aggregate) Satisfaction() float64 {
	if a.Count == 0 {
		return 0
	}
	return float64(a.Count-a.Bad()) / float64(a.Count)
}

// Aggregates sums the ratings of the local dates from..to (YYYY-MM-DD, inclusive) by period,
// section and window, ordered by period, section, window: the figures of the hall's daily and
// monthly performance reviews (art. 34-35). With Monthly, from and to still bound the days
// counted, so a month cut by them is partial. Errors: ErrInvalid for a malformed date, to before
// from, or an unknown period.
func Aggregates(ctx context.Context, st *store.Store, p Period, from, to string) ([]Aggregate, error) {
	if p != Daily && p != Monthly {
		return nil, errf(CodeInvalid, "period %q must be day or month", p)
	}
	for _, d := range []string{from, to} {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return nil, errf(CodeInvalid, "%q is not a date YYYY-MM-DD", d)
		}
	}
	if to < from {
		return nil, errf(CodeInvalid, "%s is before %s", to, from)
	}
	rows, err := st.DB().QueryContext(ctx, `SELECT day, section, call_window, overall,
		coalesce(efficiency, 0), coalesce(skill, 0), coalesce(attitude, 0), reasons
		FROM hall_rating WHERE day BETWEEN ? AND ?`, from, to)
	if err != nil {
		return nil, fmt.Errorf("hall: ratings: %w", err)
	}
	defer rows.Close()
	type key struct{ period, section, window string }
	type sums struct {
		agg   Aggregate
		total map[Dimension]int
		n     map[Dimension]int
	}
	groups := map[key]*sums{}
	for rows.Next() {
		var day, section, window, reasons string
		var lv [4]int
		if err := rows.Scan(&day, &section, &window, &lv[0], &lv[1], &lv[2], &lv[3], &reasons); err != nil {
			return nil, fmt.Errorf("hall: ratings: %w", err)
		}
		k := key{day, section, window}
		if p == Monthly {
			k.period = day[:7]
		}
		g := groups[k]
		if g == nil {
			g = &sums{agg: Aggregate{Period: k.period, Section: section, Window: window,
				Mean: map[Dimension]float64{}, Reasons: map[Reason]int{}},
				total: map[Dimension]int{}, n: map[Dimension]int{}}
			groups[k] = g
		}
		g.agg.Count++
		if lv[0] >= 1 && lv[0] <= 5 {
			g.agg.Levels[lv[0]]++
		}
		for i, d := range Dimensions {
			if lv[i] != 0 {
				g.total[d] += lv[i]
				g.n[d]++
			}
		}
		for _, r := range strings.Split(reasons, ",") {
			if r != "" {
				g.agg.Reasons[Reason(r)]++
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("hall: ratings: %w", err)
	}
	out := make([]Aggregate, 0, len(groups))
	for _, g := range groups {
		for _, d := range Dimensions {
			if g.n[d] > 0 {
				g.agg.Mean[d] = float64(g.total[d]) / float64(g.n[d])
			}
		}
		out = append(out, g.agg)
	}
	slices.SortFunc(out, func(a, b Aggregate) int {
		return strings.Compare(a.Period+"\x00"+a.Section+"\x00"+a.Window, b.Period+"\x00"+b.Section+"\x00"+b.Window)
	})
	return out, nil
}

// WriteAggregatesCSV writes aggs as CSV with a header row (period, section, window, count, the
// five level counts, bad, satisfaction, the four dimension means, then one column per reason),
// for kioskctl ratings and the hall's spreadsheets. Means and satisfaction have two decimals.
func WriteAggregatesCSV(w io.Writer, aggs []Aggregate) error {
	cw := csv.NewWriter(w)
	head := []string{"period", "section", "window", "count", "very_dissatisfied", "dissatisfied", "fair",
		"satisfied", "very_satisfied", "bad", "satisfaction"}
	for _, d := range Dimensions {
		head = append(head, "mean_"+string(d))
	}
	for _, r := range Reasons {
		head = append(head, "reason_"+string(r))
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, a := range aggs {
		row := []string{a.Period, a.Section, a.Window, strconv.Itoa(a.Count)}
		for l := 1; l <= 5; l++ {
			row = append(row, strconv.Itoa(a.Levels[l]))
		}
		row = append(row, strconv.Itoa(a.Bad()), strconv.FormatFloat(a.Satisfaction(), 'f', 2, 64))
		for _, d := range Dimensions {
			row = append(row, strconv.FormatFloat(a.Mean[d], 'f', 2, 64))
		}
		for _, r := range Reasons {
			row = append(row, strconv.Itoa(a.Reasons[r]))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Ratable is a ticket a citizen may rate (see Service.RatableTicket).
type Ratable struct {
	TicketID int64
	Ticket   string // "A012"
	Matter   string
	// Window is the window that served the ticket, as the hall controller said; "" when it was
	// not asked or did not answer. Set by the kiosk core, not by RatableTicket.
	Window string
}

// RatableTicket finds the ticket numbered code ("A012", forgiving case and spaces) among today's
// tickets of this kiosk's queue, for a citizen who rates a service by the number on the ticket
// (otherwise anyone could rate anyone's visit days later). It does not check that the ticket was
// served: a kiosk without the hall's records of calls cannot know; Rate names the window when the
// ticket was called. Errors: ErrInvalid for a malformed code or when the service has no queue,
// ErrNotFound when today has no such ticket, ErrAlreadyRated when it has a rating. Rate checks
// again, so two kiosks racing on one ticket still record one rating.
func (s *Service) RatableTicket(ctx context.Context, code string) (Ratable, error) {
	if s.queue == nil {
		return Ratable{}, errf(CodeInvalid, "ratings cannot name a ticket: no queue")
	}
	t, err := s.queue.ByCode(ctx, s.queue.Today(), code)
	switch {
	case errors.Is(err, queue.ErrInvalid):
		return Ratable{}, errf(CodeInvalid, "%q is not a ticket number", code)
	case errors.Is(err, queue.ErrNotFound):
		return Ratable{}, errf(CodeNotFound, "no ticket %q today", code)
	case err != nil:
		return Ratable{}, err
	}
	var rated bool
	if err := s.st.DB().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM hall_rating WHERE ticket_id = ?)`, t.ID).Scan(&rated); err != nil {
		return Ratable{}, fmt.Errorf("hall: rating: %w", err)
	}
	if rated {
		return Ratable{}, errf(CodeAlreadyRated, "ticket %s is rated already", t.Code)
	}
	return Ratable{TicketID: t.ID, Ticket: t.Code, Matter: t.MatterID}, nil
}
