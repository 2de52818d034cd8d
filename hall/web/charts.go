package web

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"citizenhome/hall/history"
)

// The console's charts are drawn here as geometry for the SVG templates (console-kiosk.html):
// no script draws them, so they show without JavaScript and in a printed page.

// axis maps the times from..to onto x0..x0+w.
type axis struct {
	from, to time.Time
	x0, w    float64
}

// x is t's position, clamped to the axis.
func (a axis) x(t time.Time) float64 {
	if !t.After(a.from) {
		return a.x0
	}
	if !t.Before(a.to) {
		return a.x0 + a.w
	}
	return a.x0 + a.w*float64(t.Sub(a.from))/float64(a.to.Sub(a.from))
}

// span is one bar of a timeline row: a state from X for W, or an alert.
type span struct {
	X, W  float64
	Class string // the CSS class of its colour: st-ready, st-warn, st-bad, st-off, st-locked, st-none
	Title string // the tooltip: what and when
}

// timelineRow is one row: the kiosk's state, a device, or the alerts.
type timelineRow struct {
	Label string
	Y     float64
	Spans []span
}

type tick struct {
	X     float64
	Label string
}

// timeline is the kiosk page's chart.
type timeline struct {
	Width, Height float64
	Left, Right   float64 // the plot's edges
	Rows          []timelineRow
	Ticks         []tick
	NowX          float64 // the now line; 0: now is not in the range
	RowH          float64
}

const (
	tlWidth  = 1200.0
	tlLeft   = 150.0
	tlRight  = 1180.0
	tlRowH   = 30.0
	tlRowGap = 12.0
	tlTop    = 10.0
)

// stateClass is the colour of a lifecycle or device state.
func stateClass(state string) string {
	switch state {
	case "ready", "ok":
		return "st-ready"
	case "degraded", "paper-low", "init":
		return "st-warn"
	case "locked", "maintenance":
		return "st-locked"
	case "lost", "disconnected", "paper-out", "cover-open", "error", "offline":
		return "st-bad"
	case "absent", "":
		return "st-none"
	}
	return "st-warn"
}

// buildTimeline lays out the changes (the states in force at from first, as History.Timeline
// gives them) and the alerts over from..to; a span still going at now ends at now (or at to).
// Rows: the lifecycle state, each device in name order, then the alerts.
func buildTimeline(changes []history.Change, alerts []history.Alert, from, to, now time.Time, loc *time.Location) timeline {
	ax := axis{from: from, to: to, x0: tlLeft, w: tlRight - tlLeft}
	end := to
	if now.Before(to) {
		end = now
	}
	byRow := map[string][]history.Change{}
	var devices []string
	for _, c := range changes {
		if c.Device != "" && byRow[c.Device] == nil {
			devices = append(devices, c.Device)
		}
		byRow[c.Device] = append(byRow[c.Device], c)
	}
	slices.Sort(devices)
	tl := timeline{Width: tlWidth, Left: tlLeft, Right: tlRight, RowH: tlRowH}
	y := tlTop
	addRow := func(label string, spans []span) {
		tl.Rows = append(tl.Rows, timelineRow{Label: label, Y: y, Spans: spans})
		y += tlRowH + tlRowGap
	}
	for _, row := range append([]string{""}, devices...) {
		label := "状态 State"
		if row != "" {
			label = deviceZH(row)
		}
		addRow(label, stateSpans(byRow[row], ax, end, loc))
	}
	var as []span
	// Warnings first: an error drawn over the warning it overlaps (paper-low, then paper-out)
	// stays in sight.
	alerts = slices.Clone(alerts)
	slices.SortStableFunc(alerts, func(a, b history.Alert) int {
		if (a.Severity == "error") != (b.Severity == "error") {
			if a.Severity == "error" {
				return 1
			}
			return -1
		}
		return a.Started.Compare(b.Started)
	})
	for _, a := range alerts {
		e := end
		if a.Ended != nil && a.Ended.Before(end) {
			e = *a.Ended
		}
		if !e.After(from) || !a.Started.Before(to) {
			continue
		}
		x0, x1 := ax.x(a.Started), ax.x(e)
		cls := "st-warn"
		if a.Severity == "error" {
			cls = "st-bad"
		}
		as = append(as, span{X: x0, W: max(x1-x0, 2), Class: cls,
			Title: fmt.Sprintf("%s %s – %s", a.Code, a.Started.In(loc).Format("01-02 15:04"), endLabel(a.Ended, loc))})
	}
	addRow("告警 Alerts", as)
	tl.Height = y + 24
	tl.Ticks = ticks(ax, loc)
	if now.After(from) && now.Before(to) {
		tl.NowX = ax.x(now)
	}
	return tl
}

func endLabel(t *time.Time, loc *time.Location) string {
	if t == nil {
		return "未结束 open"
	}
	return t.In(loc).Format("01-02 15:04")
}

// stateSpans turns one row's changes (oldest first) into spans: each lasts until the next
// change, the last until end.
func stateSpans(cs []history.Change, ax axis, end time.Time, loc *time.Location) []span {
	var out []span
	for i, c := range cs {
		stop := end
		if i+1 < len(cs) {
			stop = cs[i+1].At
		}
		if stop.After(end) {
			stop = end
		}
		if !stop.After(c.At) || !stop.After(ax.from) || !c.At.Before(ax.to) {
			continue
		}
		x0, x1 := ax.x(c.At), ax.x(stop)
		title := fmt.Sprintf("%s %s – %s", stateZH(c.State), c.At.In(loc).Format("01-02 15:04"), stop.In(loc).Format("01-02 15:04"))
		if c.Detail != "" {
			title += " (" + c.Detail + ")"
		}
		out = append(out, span{X: x0, W: max(x1-x0, 1), Class: stateClass(c.State), Title: title})
	}
	return out
}

// ticks are the axis's labels: every 3 hours for a day, every day for longer.
func ticks(ax axis, loc *time.Location) []tick {
	span := ax.to.Sub(ax.from)
	step, layout := 3*time.Hour, "15:04"
	if span > 36*time.Hour {
		step, layout = 24*time.Hour, "01-02"
	}
	f := ax.from.In(loc)
	t := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, loc)
	var out []tick
	for ; !t.After(ax.to); t = t.Add(step) {
		if t.Before(ax.from) {
			continue
		}
		out = append(out, tick{X: ax.x(t), Label: t.In(loc).Format(layout)})
	}
	return out
}

// barChart is the counters per day: one group of bars a day, one bar a counter.
type barChart struct {
	Width, Height float64
	Top, Bottom   float64 // the plot's y edges (Bottom is the baseline)
	Left, Right   float64
	Max           int64 // the scale's top value
	Groups        []barGroup
	Series        []barSeries
	Grid          []tick // y positions (X holds y) with their value labels
}

type barGroup struct {
	X     float64 // the label's centre
	Label string
	Bars  []bar
}

type bar struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

type barSeries struct {
	Class, Label string
	X            float64 // the legend's x
}

const (
	bcWidth  = 1200.0
	bcLeft   = 60.0
	bcRight  = 1180.0
	bcTop    = 40.0
	bcBottom = 250.0
)

// niceMax rounds n up to 1, 2, 3, 4, 5, 6 or 8 times a power of ten (at least 5): the scale's
// top, with quarters that read well, and the highest bar at least half the plot high.
func niceMax(n int64) int64 {
	if n <= 5 {
		return 5
	}
	p := int64(math.Pow(10, math.Floor(math.Log10(float64(n)))))
	for _, m := range []int64{1, 2, 3, 4, 5, 6, 8, 10} {
		if m*p >= n {
			return m * p
		}
	}
	return 10 * p
}

// buildBars lays out one group per date of dates (oldest first) from the days the history has
// (a date without a row has zeros).
func buildBars(days []history.Day, dates []string) barChart {
	by := map[string]history.Day{}
	var top int64
	for _, d := range days {
		by[d.Date] = d
		top = max(top, d.Tickets, d.Receipts, d.CardReads, d.Ratings, d.Errors)
	}
	bc := barChart{Width: bcWidth, Height: bcBottom + 30, Top: bcTop, Bottom: bcBottom, Left: bcLeft, Right: bcRight, Max: niceMax(top)}
	names := []struct{ class, label string }{
		{"c-tickets", "取号 Tickets"}, {"c-receipts", "回执 Receipts"}, {"c-cards", "读卡 Card reads"},
		{"c-ratings", "评价 Ratings"}, {"c-errors", "错误 Errors"},
	}
	for i, n := range names {
		bc.Series = append(bc.Series, barSeries{Class: n.class, Label: n.label, X: bcLeft + float64(i)*190})
	}
	if len(dates) == 0 {
		return bc
	}
	groupW := (bcRight - bcLeft) / float64(len(dates))
	barW := groupW * 0.8 / float64(len(names))
	h := bcBottom - bcTop
	for i, date := range dates {
		d := by[date]
		vals := []int64{d.Tickets, d.Receipts, d.CardReads, d.Ratings, d.Errors}
		g := barGroup{X: bcLeft + groupW*(float64(i)+0.5), Label: date[5:]}
		for j, v := range vals {
			bh := h * float64(v) / float64(bc.Max)
			g.Bars = append(g.Bars, bar{X: bcLeft + groupW*float64(i) + groupW*0.1 + barW*float64(j), Y: bcBottom - bh,
				W: barW, H: bh, Class: names[j].class, Title: fmt.Sprintf("%s %s: %d", date, names[j].label, v)})
		}
		bc.Groups = append(bc.Groups, g)
	}
	for f := range 5 {
		v := float64(bc.Max) * float64(f) / 4
		bc.Grid = append(bc.Grid, tick{X: bcBottom - h*float64(f)/4, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return bc
}
