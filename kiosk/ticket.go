package kiosk

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/hours"
	"citizenhome/kiosk/queue"
	"citizenhome/kiosk/slip"
)

// Offer is what a citizen can take a ticket for at this moment.
type Offer struct {
	Hours hours.Status
	// Sections lists the sections with at least one matter offered now, in catalog order. It is
	// empty when the hall is closed. At weekends (5+2) only weekend-service matters are in it.
	Sections []SectionOffer
}

// SectionOffer is one hall section and its matters offered now.
type SectionOffer struct {
	Section *catalog.Section
	Matters []*catalog.Matter
}

// Offer returns what can be taken now.
func (k *Kiosk) Offer() Offer {
	st := k.sched.Status(k.now())
	o := Offer{Hours: st}
	if !st.Open {
		return o
	}
	c := k.catalog.Current()
	for _, s := range c.Sections() {
		so := SectionOffer{Section: s}
		for _, m := range c.Matters(s.ID) {
			if !st.Weekend || m.Weekend {
				so.Matters = append(so.Matters, m)
			}
		}
		if len(so.Matters) > 0 {
			o.Sections = append(o.Sections, so)
		}
	}
	return o
}

// Issued is a ticket taken by a citizen.
type Issued struct {
	Ticket queue.Ticket
	Matter *catalog.Matter
	// PrintErr is nil when the ticket was printed. Otherwise the number is still the citizen's
	// (it is committed and counted in the queue) and the ticket is marked for reprint: the screen
	// shows the number and asks the citizen to note it or see staff.
	PrintErr error
}

// TakeTicket issues a queue ticket for a matter and prints it. The number is committed before
// printing starts and is never issued again that day, whatever happens next.
//
// It refuses, issuing nothing, when the kiosk is locked (ErrLocked), the hall is closed
// (*ClosedError), the matter is unknown (ErrUnknownMatter) or not served at weekends on a weekend
// (ErrNotOnWeekend), or the printer is known not to be able to print (*PrinterError). A printing
// failure after the number was committed is not an error: see Issued.PrintErr.
//
// The ticket is a green-channel (priority) ticket when the matter is handled as urgent (急办件),
// its category is configured as a priority category, or the session's ID card shows an age of
// at least queue.elder_age.
//
// With hall.controller the number is halld's (asked with a deadline of hall.take_deadline) or,
// when halld cannot be asked or does not answer in time, the highest unused number of this
// kiosk's lease. Refusals then also include a *NumberError (errors.Is ErrNoNumber): halld said
// no, or no leased number of the category is left.
func (k *Kiosk) TakeTicket(ctx context.Context, matterID string) (Issued, error) {
	st, err := k.serving()
	if err != nil {
		return Issued{}, err
	}
	m := k.catalog.Current().Matter(matterID)
	if m == nil {
		return Issued{}, fmt.Errorf("%w: %q", ErrUnknownMatter, matterID)
	}
	if st.Weekend && !m.Weekend {
		return Issued{}, ErrNotOnWeekend
	}
	req := queue.Request{Category: m.Queue, MatterID: m.ID, Section: m.Section}
	req.Priority, req.PriorityReason = k.priorityFor(m, m.Queue)
	return k.issue(ctx, req, m)
}

// TakeTicketInCategory issues a ticket for a queue category without a matter (kioskd's API, a
// staff member issuing for a citizen). priority asks for a green-channel ticket; it is also
// given by the same rules as TakeTicket. Errors as TakeTicket, and ErrUnknownCategory for a letter
// the catalog does not use (at weekends: no weekend matter uses).
func (k *Kiosk) TakeTicketInCategory(ctx context.Context, category string, priority bool) (Issued, error) {
	st, err := k.serving()
	if err != nil {
		return Issued{}, err
	}
	found := false
	for _, m := range k.catalog.Current().All() {
		if m.Queue == category && (!st.Weekend || m.Weekend) {
			found = true
			break
		}
	}
	if !found {
		return Issued{}, fmt.Errorf("%w: %q", ErrUnknownCategory, category)
	}
	req := queue.Request{Category: category}
	req.Priority, req.PriorityReason = k.priority(category)
	if priority && !req.Priority {
		req.Priority, req.PriorityReason = true, queue.ReasonStaff
	}
	return k.issue(ctx, req, nil)
}

// serving refuses when the kiosk is locked or the hall closed.
func (k *Kiosk) serving() (hours.Status, error) {
	if locked, _ := k.Locked(); locked {
		return hours.Status{}, ErrLocked
	}
	st := k.sched.Status(k.now())
	if !st.Open {
		return st, &ClosedError{Status: st}
	}
	return st, nil
}

// issue commits the number, then prints; m may be nil (a ticket for a category).
func (k *Kiosk) issue(ctx context.Context, req queue.Request, m *catalog.Matter) (Issued, error) {
	return k.issueWith(ctx, req, m, nil)
}

// issueWith is issue with also, when not nil, run in the number's transaction after the ticket's
// event (a check-in's record): the ticket and also's writes commit together or not at all.
func (k *Kiosk) issueWith(ctx context.Context, req queue.Request, m *catalog.Matter, also func(*sql.Tx, queue.Ticket) error) (Issued, error) {
	if err := k.printerReady(ctx); err != nil {
		return Issued{}, err
	}
	done := k.sessions.Begin()
	defer done()
	record := func(tx *sql.Tx, t queue.Ticket) error {
		if err := k.recordIssued(ctx, tx, t); err != nil {
			return err
		}
		if also != nil {
			return also(tx, t)
		}
		return nil
	}
	var t queue.Ticket
	var err error
	if k.cfg.Hall.Controller {
		t, err = k.issueHall(ctx, req, record)
	} else {
		t, err = k.queue.IssueWith(ctx, req, record)
	}
	if err != nil {
		return Issued{}, err
	}
	k.emit(Event{Kind: EventTicket, Ticket: t.Code})
	is := Issued{Ticket: t, Matter: m}
	if perr := k.print(ctx, k.ticketSlip(t, m)); perr != nil {
		is.PrintErr = perr
		// The ticket is issued and may even be on paper (a job can fail after the cut): the
		// caller learns of the print error, never of the bookkeeping. A ticket left Pending is
		// turned into a reprint by Recover at the next start.
		if err := k.queue.MarkReprint(context.WithoutCancel(ctx), t.ID, reprintReason(perr)); err != nil {
			k.log.Error("ticket not printed and not marked for reprint", "ticket", t.Code, "print_err", perr, "err", err)
			return is, nil
		}
		k.log.Warn("ticket not printed, marked for reprint", "ticket", t.Code, "err", perr)
		return is, nil
	}
	if err := k.queue.MarkPrinted(context.WithoutCancel(ctx), t.ID); err != nil {
		// Printed but not recorded: on restart it shows as a reprint candidate, which staff
		// can check; the citizen has the ticket in hand.
		k.log.Error("ticket printed but not recorded as printed", "ticket", t.Code, "err", err)
	}
	return is, nil
}

// reprint prints an issued ticket again (StaffHandle.Reprint) and records it.
func (k *Kiosk) reprint(ctx context.Context, id int64) (queue.Ticket, error) {
	t, err := k.queue.ByID(ctx, id)
	if err != nil {
		return queue.Ticket{}, err
	}
	if err := k.printerReady(ctx); err != nil {
		return t, err
	}
	m := k.catalog.Current().Matter(t.MatterID)
	if err := k.print(ctx, k.ticketSlip(t, m)); err != nil {
		_ = k.queue.MarkReprint(context.WithoutCancel(ctx), t.ID, reprintReason(err))
		return t, err
	}
	if err := k.queue.MarkPrinted(context.WithoutCancel(ctx), t.ID); err != nil {
		return t, err
	}
	return t, k.recordReprinted(context.WithoutCancel(ctx), t)
}

func (k *Kiosk) ticketSlip(t queue.Ticket, m *catalog.Matter) slip.Ticket {
	c := k.catalog.Current()
	d := slip.Ticket{
		Hall: k.cfg.Hall.Name, HallEn: k.cfg.Hall.NameEn, Ticket: t, English: k.cfg.Devices.PrinterEnglish,
		Demo: k.demo, Loc: k.sched.Location(), PublicURL: k.cfg.Hall.PublicURL,
	}
	if m != nil {
		d.Matter = m.Name
		if s := c.Section(m.Section); s != nil {
			d.Section = s.Name
			if s.Location != nil {
				d.Where = s.Location.Label()
			}
		}
	}
	return d
}

// printerReady checks the printer before a job, so that a citizen is not given a number the
// kiosk already knows it cannot print.
func (k *Kiosk) printerReady(ctx context.Context) error {
	if k.printer == nil {
		return &PrinterError{State: StateAbsent}
	}
	_, err := k.checkPrinter(ctx)
	return err
}

func (k *Kiosk) print(ctx context.Context, t slip.Ticket) error {
	if pe := k.printDoc(ctx, t.Doc()); pe != nil {
		return pe
	}
	return nil
}

func errDetail(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TicketCounts returns today's ticket figures (the staff screen, the status's counters).
func (k *Kiosk) TicketCounts(ctx context.Context) (queue.Counts, error) {
	return k.queue.CountToday(ctx)
}

// Estimate is what a citizen is told before taking a ticket.
type Estimate struct {
	Ahead    int           // tickets waiting ahead in the queue the ticket would join
	Wait     time.Duration // estimated wait
	Priority bool          // the ticket would be a green-channel ticket
}

// Estimate tells how many wait and for how long in the queue a ticket for matterID would join:
// from halld's queue figures while they are fresh (hall.controller; FreshFigures), otherwise
// from this kiosk's own tickets.
func (k *Kiosk) Estimate(ctx context.Context, matterID string) (Estimate, error) {
	m := k.catalog.Current().Matter(matterID)
	if m == nil {
		return Estimate{}, fmt.Errorf("%w: %q", ErrUnknownMatter, matterID)
	}
	prio, _ := k.priorityFor(m, m.Queue)
	if c, ok := k.hallFigures(m.Queue); ok {
		ahead, wait := hallAhead(c, prio)
		return Estimate{Ahead: ahead, Wait: wait, Priority: prio}, nil
	}
	normal, urgent, err := k.queue.Waiting(ctx, m.Queue)
	if err != nil {
		return Estimate{}, err
	}
	// Green-channel tickets are called before the others: a priority ticket waits only for
	// them, a normal one for everybody.
	ahead := urgent
	if !prio {
		ahead += normal
	}
	wait, err := k.queue.Estimate(ctx, m.Queue, ahead)
	return Estimate{Ahead: ahead, Wait: wait, Priority: prio}, err
}

// priorityFor is priority for a ticket for matter m (nil: none): a matter the catalog handles
// as urgent (急办件) is served through the green channel.
func (k *Kiosk) priorityFor(m *catalog.Matter, category string) (bool, string) {
	if urgent(m) {
		return true, queue.ReasonUrgent
	}
	return k.priority(category)
}

// priority decides whether a ticket in category is a green-channel ticket, and why.
func (k *Kiosk) priority(category string) (bool, string) {
	if slices.Contains(k.cfg.Queue.PriorityCategories, category) {
		return true, queue.ReasonCategory
	}
	if p := k.Person(); p != nil && p.Age(k.now()) >= k.cfg.Queue.ElderAge {
		return true, queue.ReasonElder
	}
	return false, ""
}

// reprintReason is a print error as the queue keeps it (queue.MarkReprint: one line of at most
// 128 bytes): a driver's error names the device path and its cause, which can be longer.
func reprintReason(err error) string {
	const limit = 128
	s := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, err.Error())
	if len(s) <= limit {
		return s
	}
	cut := limit - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
