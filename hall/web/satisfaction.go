package web

import (
	"context"
	"fmt"
	"time"

	"citizenhome/hall/followup"
	"citizenhome/hall/rating"
)

// Scores is what the statistics need of hall/rating's *Store.
type Scores interface {
	Satisfaction(ctx context.Context, by string, from, to time.Time) ([]rating.Score, error)
}

var _ Scores = (*rating.Store)(nil)

// HallSatisfaction is the statistics' ratings: hall/rating's scores, with the 差评 whose work
// order (hall/followup) was put right by its deadline counted in the same groups: the order's
// window, section or staff as the rating's, its opening month as the rating's month (an order
// opens when its rating arrives). orders nil: none counted.
func HallSatisfaction(r Scores, orders Orders, loc *time.Location) Satisfaction {
	if loc == nil {
		loc = time.Local
	}
	return hallSatisfaction{r, orders, loc}
}

type hallSatisfaction struct {
	r      Scores
	orders Orders
	loc    *time.Location
}

func (h hallSatisfaction) Satisfaction(ctx context.Context, by string, from, to time.Time) ([]Score, error) {
	scores, err := h.r.Satisfaction(ctx, by, from, to)
	if err != nil {
		return nil, err
	}
	fixed := map[string]int{}
	if h.orders != nil {
		os, err := h.orders.List(ctx, followup.Filter{Kind: string(followup.KindRating), Since: from, Until: to, Limit: reportLimit})
		if err == nil && len(os) >= reportLimit {
			err = fmt.Errorf("web: more than %d 差评 work orders from %s", reportLimit, from.Format(time.DateOnly))
		}
		if err != nil {
			return nil, err
		}
		for _, o := range os {
			if !inTime(o, followup.Rectified, followup.Reviewed) {
				continue
			}
			switch by {
			case "window":
				fixed[o.Window]++
			case "section":
				fixed[o.Section]++
			case "staff":
				fixed[o.Staff]++
			case "month":
				fixed[o.Opened.In(h.loc).Format("2006-01")]++
			}
		}
	}
	out := make([]Score, 0, len(scores))
	for _, s := range scores {
		out = append(out, Score{Key: s.Key, Ratings: s.Count, Average: s.Mean, Bad: s.Bad, RectifiedInTime: fixed[s.Key]})
	}
	return out, nil
}
