package kiosk

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"citizenhome/kiosk/civic"
	"citizenhome/kiosk/session"
)

// lockedBuffer is a log destination safe for the goroutines that log.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A city card linked to its holder works at the kiosk as the holder's ID card does: progress and
// check-in find the same records; a card linked to nobody gets civic.ErrCardNotLinked. Nothing of
// either card number reaches the log, at any level.
func TestCityCardAsIdentityAtTheKiosk(t *testing.T) {
	const cardWang, cardNobody = "3104000011112222", "3104000033334444"
	r := newRig(t, nil)
	var logs lockedBuffer
	r.k.log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	key, err := civic.NewKey([]byte(strings.Repeat("k", civic.KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	h, err := r.k.UseHall(key, nil, (&recorded{}).sink)
	if err != nil {
		t.Fatal(err)
	}
	data := `{"appointments": [{"id": "YY1", "id_number": "` + idWang + `", "matter": "zh-001", "start": "2026-11-26T09:10:00+08:00"}],
	 "applications": [{"id": "SL1", "id_number": "` + idWang + `", "matter": "sb-003", "status": "办理中",
	  "accepted": "2026-11-20", "updated": "2026-11-24T16:00:00+08:00"}],
	 "card_holders": [{"city_card": "` + cardWang + `", "id_number": "` + idWang + `"}]}`
	if _, err := h.Service().Import(context.Background(), strings.NewReader(data), civic.JSON); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	r.k.SetPerson(&Person{Number: idWang})
	byID, err := h.Progress(ctx, "")
	if err != nil || len(byID.Applications) != 1 {
		t.Fatalf("by ID card: %+v %v", byID, err)
	}
	r.k.Sessions().End(session.Finished)
	r.k.SetCityCard(&CityCard{CardNo: cardWang})
	byCard, err := h.Progress(ctx, "")
	if err != nil || len(byCard.Applications) != 1 || byCard.Applications[0].ID != byID.Applications[0].ID {
		t.Fatalf("by city card: %+v %v", byCard, err)
	}
	ci, err := h.CheckIn(ctx)
	if err != nil || ci.Appointment.ID != "YY1" || !ci.Issued.Ticket.Priority {
		t.Fatalf("check-in by city card: %+v %v", ci, err)
	}
	r.k.Sessions().End(session.Finished)

	r.k.SetCityCard(&CityCard{CardNo: cardNobody})
	_, perr := h.Progress(ctx, "")
	if !errors.Is(perr, civic.ErrCardNotLinked) {
		t.Errorf("progress by an unlinked card: %v", perr)
	}
	_, cerr := h.CheckIn(ctx)
	if !errors.Is(cerr, civic.ErrCardNotLinked) {
		t.Errorf("check-in by an unlinked card: %v", cerr)
	}
	// The refusals are what a front end logs (kioskd's API logs a refused request with its
	// error), with the session's identity as the core gives it.
	r.k.log.Warn("progress refused", "err", perr, "who", r.k.identity(), "card", r.k.CityCard())
	r.k.log.Warn("check-in refused", "err", cerr)
	out := logs.String()
	if !strings.Contains(out, "card-not-linked") && !strings.Contains(out, "linked to no holder") {
		t.Fatalf("the refusal is not in the log:\n%s", out)
	}
	for _, n := range []string{cardWang, cardNobody, cardWang[4:12], cardNobody[4:12], idWang} {
		if strings.Contains(out, n) {
			t.Errorf("the log holds %q:\n%s", n, out)
		}
	}
}
