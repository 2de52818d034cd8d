package kiosk

import (
	"context"

	"citizenhome/kiosk/queue"
)

// TicketCounts returns today's ticket figures for the staff screen.
func (k *Kiosk) TicketCounts(ctx context.Context) (queue.Counts, error) {
	return k.queue.CountToday(ctx)
}

// ReprintLast prints today's last ticket again (staff: the citizen lost it, or it jammed).
func (k *Kiosk) ReprintLast(ctx context.Context) (queue.Ticket, error) {
	t, err := k.queue.Last(ctx)
	if err != nil {
		return t, err
	}
	return k.Reprint(ctx, t.ID)
}

// PaperReplaced asks the printer for its state again after staff replaced the roll or closed the
// cover, so that tickets are offered again at once instead of at the next poll.
func (k *Kiosk) PaperReplaced(ctx context.Context) DeviceState {
	if k.printer == nil {
		return StateAbsent
	}
	ds, _ := k.checkPrinter(ctx)
	return ds
}
