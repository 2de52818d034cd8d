package kiosk

import (
	"context"
	"strings"

	"citizenhome/kiosk/civic"
	"citizenhome/kiosk/slip"
)

// Progress looks applications and complaints up (办件查询). With code "" it shows those of the
// session's citizen, identified by the ID card or city card tapped (civic.ErrNoIdentity when none
// was); otherwise those under code, scanned from the QR code of a ticket, a receipt or a
// complaint slip, or typed (see civic.ParseCode). Only the citizen's own records are shown.
//
// Errors: ErrLocked, civic.ErrInvalid for a malformed code, civic.ErrNotFound for a
// code that finds nothing, and the Source's errors (civic.ErrSource: try again later). Lookups
// work outside opening hours.
func (h *HallServices) Progress(ctx context.Context, code string) (civic.Progress, error) {
	k := h.k
	svc, err := k.hallService()
	if err != nil {
		return civic.Progress{}, err
	}
	if locked, _ := k.Locked(); locked {
		return civic.Progress{}, ErrLocked
	}
	k.sessions.Touch()
	if strings.TrimSpace(code) != "" {
		if number, complaint, err := civic.ParseCode(code); err == nil && complaint {
			k.complaintNews(ctx, svc, number)
		}
		return svc.Progress(ctx, civic.Query{Code: code})
	}
	who := k.identity()
	if who.IsZero() {
		return civic.Progress{}, civic.ErrNoIdentity
	}
	return svc.Progress(ctx, civic.Query{Who: who})
}

// Rate records a 好差评 (see civic.Rating: reasons are required for 不满意 and 非常不满意; one
// rating per ticket). It works outside opening hours. Errors: ErrLocked, and those of
// civic.Service.Rate (ErrInvalid, ErrNotFound, ErrAlreadyRated).
func (h *HallServices) Rate(ctx context.Context, r civic.Rating) (civic.Rated, error) {
	k := h.k
	svc, err := k.hallService()
	if err != nil {
		return civic.Rated{}, err
	}
	if locked, _ := k.Locked(); locked {
		return civic.Rated{}, ErrLocked
	}
	k.sessions.Touch()
	return svc.Rate(ctx, r)
}

// RatableTicket checks that the ticket numbered code ("A012") was taken today at this kiosk's
// queue, is not rated yet and, when the hall runs a controller, was served: halld is asked (up
// to AskDeadline) which window finished it, named in Ratable.Window. A controller that does not
// answer refuses nothing: it judges the rating again when it arrives. It works outside opening
// hours. Errors: ErrLocked, civic.ErrNotServed when halld says no window has finished the ticket,
// and those of civic.Service.RatableTicket (ErrInvalid for a malformed number, ErrNotFound,
// ErrAlreadyRated).
func (h *HallServices) RatableTicket(ctx context.Context, code string) (civic.Ratable, error) {
	k := h.k
	svc, err := k.hallService()
	if err != nil {
		return civic.Ratable{}, err
	}
	if locked, _ := k.Locked(); locked {
		return civic.Ratable{}, ErrLocked
	}
	k.sessions.Touch()
	r, err := svc.RatableTicket(ctx, code)
	if err != nil {
		return civic.Ratable{}, err
	}
	if r.Window, err = k.servedAt(ctx, r.Ticket); err != nil {
		return civic.Ratable{}, err
	}
	return r, nil
}

// Complained is a filed complaint and its slip.
type Complained struct {
	civic.Submitted
	// PrintErr is nil when the slip was printed. Otherwise the complaint is filed all the same
	// and the screen shows the number for the citizen to note.
	PrintErr error
}

// Complain files a complaint (art. 15), in the name of the session's citizen when a card was
// tapped (their progress lookups then list it), and prints a slip with its number. The complaint
// is stored before printing starts; a printer that cannot print only sets PrintErr. It works
// outside opening hours. Errors: ErrLocked, civic.ErrInvalid (see civic.Complaint).
func (h *HallServices) Complain(ctx context.Context, c civic.Complaint) (Complained, error) {
	k := h.k
	svc, err := k.hallService()
	if err != nil {
		return Complained{}, err
	}
	if locked, _ := k.Locked(); locked {
		return Complained{}, ErrLocked
	}
	k.sessions.Touch()
	done := k.sessions.Begin()
	defer done()
	sub, err := svc.Submit(ctx, c, k.identity())
	if err != nil {
		return Complained{}, err
	}
	out := Complained{Submitted: sub}
	if err := k.printerReady(ctx); err != nil {
		out.PrintErr = err
		return out, nil
	}
	doc := slip.Complaint{
		Hall: k.cfg.Hall.Name, HallEn: k.cfg.Hall.NameEn, KioskID: k.cfg.Kiosk.ID, Number: sub.Number,
		Category: sub.Category.Label(), Time: sub.At, English: k.cfg.Devices.PrinterEnglish, Demo: k.demo,
		Loc: k.sched.Location(),
	}
	if pe := k.printDoc(ctx, doc.Doc()); pe != nil {
		out.PrintErr = pe
		k.log.Warn("complaint slip not printed", "complaint", sub.Number, "err", pe)
	}
	return out, nil
}
