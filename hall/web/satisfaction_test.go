package web

import (
	"context"
	"errors"
	"testing"
	"time"

	"citizenhome/hall/followup"
	"citizenhome/hall/rating"
)

type fixedScores []rating.Score

func (f fixedScores) Satisfaction(context.Context, string, time.Time, time.Time) ([]rating.Score, error) {
	return f, nil
}

// listOrders answers List only; the statistics ask nothing else.
type listOrders []followup.Order

func (l listOrders) List(_ context.Context, f followup.Filter) ([]followup.Order, error) {
	if f.Kind != string(followup.KindRating) {
		return nil, errors.New("asked for other orders than 差评's")
	}
	return l, nil
}
func (listOrders) Get(context.Context, int64) (followup.Order, error) {
	return followup.Order{}, errors.New("no")
}
func (listOrders) Move(context.Context, int64, followup.State, string, string) (followup.Order, error) {
	return followup.Order{}, errors.New("no")
}
func (listOrders) Phone(context.Context, int64, string) (string, error) { return "", errors.New("no") }
func (listOrders) Reply(context.Context, string) (followup.Reply, error) {
	return followup.Reply{}, errors.New("no")
}

// The ratings' scores with the 差评 put right in time counted in the same groups: an order
// closed as rectified or reviewed by its deadline counts; late, open or other states do not.
func TestHallSatisfaction(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	due := time.Date(2026, 12, 14, 17, 0, 0, 0, cst)
	early, late := due.Add(-time.Hour), due.Add(time.Hour)
	opened := time.Date(2026, 12, 7, 10, 0, 0, 0, cst)
	orders := listOrders{
		{Window: "3", State: followup.Rectified, Opened: opened, Due: due, Closed: &early},
		{Window: "3", State: followup.Reviewed, Opened: opened, Due: due, Closed: &early},
		{Window: "3", State: followup.Rectified, Opened: opened, Due: due, Closed: &late},
		{Window: "3", State: followup.Rectifying, Opened: opened, Due: due},
		{Window: "5", State: followup.Rectified, Opened: opened, Due: due, Closed: &early},
	}
	s := HallSatisfaction(fixedScores{{Key: "3", Count: 20, Mean: 4.1, Bad: 4}, {Key: "5", Count: 2, Mean: 2, Bad: 1}}, orders, cst)
	got, err := s.Satisfaction(context.Background(), "window", opened.AddDate(0, 0, -7), opened.AddDate(0, 0, 7))
	if err != nil {
		t.Fatal(err)
	}
	want := []Score{{Key: "3", Ratings: 20, Average: 4.1, Bad: 4, RectifiedInTime: 2}, {Key: "5", Ratings: 2, Average: 2, Bad: 1, RectifiedInTime: 1}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("scores %+v, want %+v", got, want)
	}
	// By month the orders count under their opening month in the hall's zone: all three in time.
	byMonth := HallSatisfaction(fixedScores{{Key: "2026-11", Count: 3}, {Key: "2026-12", Count: 9, Bad: 5}}, orders, cst)
	got, err = byMonth.Satisfaction(context.Background(), "month", opened.AddDate(0, -1, 0), opened.AddDate(0, 0, 7))
	if err != nil || len(got) != 2 || got[0].RectifiedInTime != 0 || got[1].RectifiedInTime != 3 {
		t.Errorf("by month: %+v %v, want 2026-12 with 3 put right in time", got, err)
	}
	none, _ := HallSatisfaction(fixedScores{{Key: "3", Count: 1}}, nil, cst).Satisfaction(context.Background(), "window", opened, due)
	if len(none) != 1 || none[0].RectifiedInTime != 0 {
		t.Errorf("without orders: %+v", none)
	}
}
