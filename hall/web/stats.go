package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"citizenhome/hall/access"
	"citizenhome/hall/line"
)

// The hall's performance statistics (regulations art. 34-35, the monthly and yearly reviews):
// GET /v1/stats (JSON), /console/stats (a table) and /console/stats.csv (for the provincial
// platform and Excel), all with the same query ?from=&to=&by=, for the crew and the admin
// (access.ReadFleet: "the console: the fleet, its history, alerts and reports"). The format is
// docs/hall-api.md's "Performance statistics".

// StatsQuery asks for the figures of the hall-local days [From, To) (YYYY-MM-DD) grouped By
// section, window, staff, category, day, month or year.
type StatsQuery struct {
	From, To, By string
}

// StatsRow is one group's figures (hall/line's StatsRow): durations are exact percentiles.
type StatsRow struct {
	Key                                            string
	Issued, Priority, Called, Served               int
	NoShows, Transfers, Returns                    int
	WaitMedian, WaitP90, ServiceMedian, ServiceP90 time.Duration
}

// StatsSource is the queue's statistics; LineQueue's queue has them. A Queue without them: the
// statistics' routes answer 503 no-stats. Errors: ErrInvalid for a query the source refuses.
type StatsSource interface {
	Stats(ctx context.Context, q StatsQuery) ([]StatsRow, error)
}

// Satisfaction is the citizens' ratings summed per group (hall/rating's, adapted where halld
// is wired). by is "window", "section", "staff" or "month"; from and to are hall-local
// midnights, [from, to). Options.Satisfaction nil: the ratings' columns show "—" (JSON null).
type Satisfaction interface {
	Satisfaction(ctx context.Context, by string, from, to time.Time) ([]Score, error)
}

// Score is one group's ratings.
type Score struct {
	Key     string
	Ratings int     // ratings given
	Average float64 // their mean overall level, 1 (worst) to 5
	Bad     int     // 差评: ratings at the two lowest levels
	// RectifiedInTime counts the 差评 whose work order reached 已整改 by its deadline.
	RectifiedInTime int
}

// satisfactionGroups are the groupings the ratings are summed by.
var satisfactionGroups = map[string]bool{"window": true, "section": true, "staff": true, "month": true}

// statsGroups are the groupings in the order the console offers them.
var statsGroups = []struct{ By, ZH, EN string }{
	{"window", "窗口", "Window"}, {"section", "区域", "Section"}, {"staff", "工作人员", "Staff"},
	{"category", "业务类别", "Category"}, {"day", "日", "Day"}, {"month", "月", "Month"}, {"year", "年", "Year"},
}

func validStatsGroup(by string) bool {
	for _, g := range statsGroups {
		if g.By == by {
			return true
		}
	}
	return false
}

// Stats gives the line's figures in the server's types.
func (q lineQueue) Stats(ctx context.Context, sq StatsQuery) ([]StatsRow, error) {
	rows, err := q.l.Stats(ctx, line.StatsQuery{From: sq.From, To: sq.To, By: line.Group(sq.By)})
	if err != nil {
		return nil, fromLine(err)
	}
	out := make([]StatsRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, StatsRow{Key: r.Key, Issued: r.Issued, Priority: r.Priority, Called: r.Called, Served: r.Served,
			NoShows: r.NoShows, Transfers: r.Transfers, Returns: r.Returns, WaitMedian: r.WaitMedian, WaitP90: r.WaitP90,
			ServiceMedian: r.ServiceMedian, ServiceP90: r.ServiceP90})
	}
	return out, nil
}

// statsReport is a query's answer: the queue's rows and the ratings beside them.
type statsReport struct {
	Q StatsQuery
	// HasIssued: the grouping is one a ticket is issued to (not window, not staff).
	HasIssued bool
	Rows      []StatsRow
	// Scores by key; nil when there are no ratings for this grouping (none wired, or a grouping
	// they are not summed by, or they failed: logged).
	Scores map[string]Score
}

// statsQuery reads ?from=&to=&by=. Defaults: by window, from the first of this month, to the
// first of the month after from. A message says what is wrong.
func (s *Server) statsQuery(r *http.Request) (StatsQuery, string) {
	v := r.URL.Query()
	q := StatsQuery{From: v.Get("from"), To: v.Get("to"), By: v.Get("by")}
	if q.By == "" {
		q.By = "window"
	}
	if !validStatsGroup(q.By) {
		return q, "by is one of window, section, staff, category, day, month, year"
	}
	if q.From == "" {
		n := s.o.Now().In(s.o.Location)
		q.From = time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	}
	from, err := time.Parse(time.DateOnly, q.From)
	if err != nil {
		return q, "from is a day, 2026-12-01"
	}
	if q.To == "" {
		q.To = from.AddDate(0, 1, 0).Format(time.DateOnly)
	}
	to, err := time.Parse(time.DateOnly, q.To)
	if err != nil {
		return q, "to is a day, 2027-01-01 (not included)"
	}
	if !from.Before(to) {
		return q, "from must be before to (to is not included)"
	}
	if to.Sub(from) > line.MaxStatsDays*24*time.Hour {
		return q, fmt.Sprintf("at most %d days at once", line.MaxStatsDays)
	}
	return q, ""
}

func (s *Server) statsSource() StatsSource {
	src, _ := s.o.Queue.(StatsSource)
	return src
}

// report runs q; the error is the queue's (ErrInvalid) or the ledger's.
func (s *Server) report(ctx context.Context, src StatsSource, q StatsQuery) (statsReport, error) {
	rows, err := src.Stats(ctx, q)
	if err != nil {
		return statsReport{}, err
	}
	rep := statsReport{Q: q, HasIssued: q.By != "window" && q.By != "staff", Rows: rows}
	if s.o.Satisfaction != nil && satisfactionGroups[q.By] {
		from, _ := time.ParseInLocation(time.DateOnly, q.From, s.o.Location)
		to, _ := time.ParseInLocation(time.DateOnly, q.To, s.o.Location)
		scores, err := s.o.Satisfaction.Satisfaction(ctx, q.By, from, to)
		if err != nil {
			// The queue's figures stand without the ratings: say so in the log, show "—".
			s.log.Error("ratings for the statistics failed", "by", q.By, "err", err)
			return rep, nil
		}
		rep.Scores = map[string]Score{}
		for _, sc := range scores {
			rep.Scores[sc.Key] = sc
		}
	}
	return rep, nil
}

// seconds is d in whole seconds (truncated: a percentile of truncated samples is the truncated
// percentile, so the figure stays exact at this unit).
func seconds(d time.Duration) int64 { return int64(d / time.Second) }

func share(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) / float64(whole)
}

// priorityShare is the share of priority tickets among those issued (by window and staff:
// among those first called there).
func (rep statsReport) priorityShare(r StatsRow) (float64, bool) {
	base := r.Issued
	if !rep.HasIssued {
		base = r.Called
	}
	return share(r.Priority, base), base > 0
}

type statsJSON struct {
	From  string         `json:"from"`
	To    string         `json:"to"`
	By    string         `json:"by"`
	Rows  []statsRowJSON `json:"rows"`
	Notes []string       `json:"notes"`
}

type ratingsJSON struct {
	Count           int     `json:"count"`
	Average         float64 `json:"average"`
	Bad             int     `json:"bad"`
	RectifiedInTime int     `json:"bad_rectified_in_time"`
}

type statsRowJSON struct {
	Key                 string       `json:"key"`
	Issued              *int         `json:"issued"`
	Priority            int          `json:"priority"`
	PriorityShare       *float64     `json:"priority_share"`
	Called              int          `json:"called"`
	Served              int          `json:"served"`
	NoShows             int          `json:"no_shows"`
	Transfers           int          `json:"transfers"`
	Returns             int          `json:"returns"`
	WaitMedianS         *int64       `json:"wait_median_s"`
	WaitP90S            *int64       `json:"wait_p90_s"`
	ServiceMedianS      *int64       `json:"service_median_s"`
	ServiceP90S         *int64       `json:"service_p90_s"`
	Ratings             *ratingsJSON `json:"ratings"`
	ApplicationsOverdue *int         `json:"applications_overdue"`
}

func optSeconds(d time.Duration, n int) *int64 {
	if n == 0 {
		return nil
	}
	s := seconds(d)
	return &s
}

// notAvailable explains the figures halld cannot know.
const notAvailable = "applications_overdue: halld holds no application (办件) data; always null"

func (rep statsReport) json() statsJSON {
	out := statsJSON{From: rep.Q.From, To: rep.Q.To, By: rep.Q.By, Rows: []statsRowJSON{}, Notes: []string{notAvailable}}
	if rep.Scores == nil {
		out.Notes = append(out.Notes, "ratings: not available for this grouping or in this halld; null")
	}
	for _, r := range rep.Rows {
		j := statsRowJSON{Key: r.Key, Priority: r.Priority, Called: r.Called, Served: r.Served, NoShows: r.NoShows,
			Transfers: r.Transfers, Returns: r.Returns,
			WaitMedianS: optSeconds(r.WaitMedian, r.Called), WaitP90S: optSeconds(r.WaitP90, r.Called),
			ServiceMedianS: optSeconds(r.ServiceMedian, r.Served), ServiceP90S: optSeconds(r.ServiceP90, r.Served)}
		if rep.HasIssued {
			n := r.Issued
			j.Issued = &n
		}
		if sh, ok := rep.priorityShare(r); ok {
			j.PriorityShare = &sh
		}
		if sc, ok := rep.Scores[r.Key]; ok {
			j.Ratings = &ratingsJSON{Count: sc.Ratings, Average: sc.Average, Bad: sc.Bad, RectifiedInTime: sc.RectifiedInTime}
		}
		out.Rows = append(out.Rows, j)
	}
	return out
}

// statsAPI serves GET /v1/stats?from=&to=&by=: 200 the rows, 400 bad-query, 503 no-stats.
func (s *Server) statsAPI(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	src := s.statsSource()
	if src == nil {
		writeError(w, http.StatusServiceUnavailable, "no-stats", "this halld's queue keeps no statistics")
		return
	}
	q, msg := s.statsQuery(r)
	if msg != "" {
		writeError(w, http.StatusBadRequest, "bad-query", msg)
		return
	}
	rep, err := s.report(r.Context(), src, q)
	if err != nil {
		s.queueFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep.json())
}

// statsCSVHeader is the CSV's header row: fixed, each column its Chinese label with its key in
// brackets, as the availability report's (docs/hall-api.md lists them).
var statsCSVHeader = []string{"起始日(from)", "截止日_不含(to_exclusive)", "分组方式(group_by)", "分组(key)",
	"取号数(issued)", "优先号数(priority)", "优先占比_百分比(priority_share_pct)", "首次叫号数(called)", "办结数(served)",
	"过号数(no_shows)", "转移数(transfers)", "过号重排数(returns)",
	"等候时间中位数_秒(wait_median_s)", "等候时间90分位_秒(wait_p90_s)", "办理时间中位数_秒(service_median_s)", "办理时间90分位_秒(service_p90_s)",
	"评价数(ratings)", "平均评价等级(rating_average)", "差评数(bad_ratings)", "差评按时整改数(bad_rectified_in_time)",
	"办件超期数(applications_overdue)"}

// csv is the report as CSV cells (writeCSV), a figure not known or not applicable empty.
func (rep statsReport) csv() [][]string {
	var out [][]string
	itoa := strconv.Itoa
	opt := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	for _, j := range rep.json().Rows {
		issued, sh := "", ""
		if j.Issued != nil {
			issued = itoa(*j.Issued)
		}
		if j.PriorityShare != nil {
			sh = strconv.FormatFloat(*j.PriorityShare*100, 'f', 1, 64)
		}
		rc, ra, rb, rr := "", "", "", ""
		if j.Ratings != nil {
			rc, ra, rb, rr = itoa(j.Ratings.Count), strconv.FormatFloat(j.Ratings.Average, 'f', 2, 64), itoa(j.Ratings.Bad), itoa(j.Ratings.RectifiedInTime)
		}
		out = append(out, []string{rep.Q.From, rep.Q.To, rep.Q.By, j.Key, issued, itoa(j.Priority), sh, itoa(j.Called), itoa(j.Served),
			itoa(j.NoShows), itoa(j.Transfers), itoa(j.Returns), opt(j.WaitMedianS), opt(j.WaitP90S), opt(j.ServiceMedianS), opt(j.ServiceP90S),
			rc, ra, rb, rr, ""})
	}
	return out
}

// consoleStatsCSV serves /console/stats.csv?from=&to=&by=, an attachment.
func (s *Server) consoleStatsCSV(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	src := s.statsSource()
	if src == nil {
		writeError(w, http.StatusServiceUnavailable, "no-stats", "this halld's queue keeps no statistics")
		return
	}
	q, msg := s.statsQuery(r)
	if msg != "" {
		writeError(w, http.StatusBadRequest, "bad-query", msg)
		return
	}
	rep, err := s.report(r.Context(), src, q)
	if err != nil {
		s.queueFailed(w, r, err)
		return
	}
	writeCSV(w, "hall-stats-"+q.By+"-"+q.From+"-"+q.To+".csv", statsCSVHeader, rep.csv())
}

type statsGroupView struct {
	By, ZH, EN string
	Current    bool
}

type statsRowView struct {
	Key, KeyZH, KeyEN                          string
	Issued, Priority, Share, Called, Served    string
	NoShows, Transfers, Returns                string
	WaitMedian, WaitP90, ServiceMed, Service90 string
	Ratings, Average, Bad, Rectified           string
}

type statsPage struct {
	consoleBase
	From, To, By, Error string
	Groups              []statsGroupView
	Rows                []statsRowView
	HasRatings          bool
	// Shortcuts: the pages of this month, last month and this year.
	ThisMonth, LastMonth, ThisYear string
	CSV                            string // the current query's CSV; "" for a bad query
}

// mmss writes a duration as minutes and seconds, "12:05"; "—" without a sample.
func mmss(d time.Duration, n int) string {
	if n == 0 {
		return "—"
	}
	s := seconds(d)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func (rep statsReport) views() []statsRowView {
	out := make([]statsRowView, 0, len(rep.Rows))
	for _, r := range rep.Rows {
		v := statsRowView{Key: r.Key, KeyZH: r.Key, Issued: "—", Priority: strconv.Itoa(r.Priority), Share: "—",
			Called: strconv.Itoa(r.Called), Served: strconv.Itoa(r.Served), NoShows: strconv.Itoa(r.NoShows),
			Transfers: strconv.Itoa(r.Transfers), Returns: strconv.Itoa(r.Returns),
			WaitMedian: mmss(r.WaitMedian, r.Called), WaitP90: mmss(r.WaitP90, r.Called),
			ServiceMed: mmss(r.ServiceMedian, r.Served), Service90: mmss(r.ServiceP90, r.Served),
			Ratings: "—", Average: "—", Bad: "—", Rectified: "—"}
		switch {
		case rep.Q.By == "window" && r.Key == "":
			v.KeyZH, v.KeyEN = "前台（过号重排）", "No window: returns"
		case rep.Q.By == "window":
			v.KeyZH = r.Key + " 号窗口"
		case rep.Q.By == "section" && r.Key == "":
			v.KeyZH, v.KeyEN = "未分区", "No section"
		}
		if rep.HasIssued {
			v.Issued = strconv.Itoa(r.Issued)
		}
		if sh, ok := rep.priorityShare(r); ok {
			v.Share = strconv.FormatFloat(sh*100, 'f', 1, 64) + " %"
		}
		if sc, ok := rep.Scores[r.Key]; ok {
			v.Ratings, v.Bad, v.Rectified = strconv.Itoa(sc.Ratings), strconv.Itoa(sc.Bad), strconv.Itoa(sc.RectifiedInTime)
			if sc.Ratings > 0 {
				v.Average = strconv.FormatFloat(sc.Average, 'f', 2, 64)
			}
		}
		out = append(out, v)
	}
	return out
}

// statsHref is the path of a query's page (or, with path /console/stats.csv, its CSV). The
// parts are dates and a group word: nothing to escape.
func statsHref(path, from, to, by string) string {
	return path + "?from=" + from + "&to=" + to + "&by=" + by
}

// consoleStats serves /console/stats?from=&to=&by=: the figures as a table, with the
// groupings, this month, last month and this year one click away, and the CSV.
func (s *Server) consoleStats(w http.ResponseWriter, r *http.Request, p access.Principal) {
	src := s.statsSource()
	if src == nil {
		s.pages.render(w, http.StatusServiceUnavailable, "message", messagePage{Hall: s.o.HallName,
			Title: "统计暂不可用", Subtitle: "Statistics are not available",
			Text: "此 halld 的排队系统不保存统计。", Sub: "This halld's queue keeps no statistics.", Link: "/console", LinkText: "设备总览 · Fleet"})
		return
	}
	q, msg := s.statsQuery(r)
	d := statsPage{consoleBase: s.base(p, "stats"), From: q.From, To: q.To, By: q.By}
	n := s.o.Now().In(s.o.Location)
	first := time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, time.UTC)
	d.ThisMonth = statsHref("/console/stats", first.Format(time.DateOnly), first.AddDate(0, 1, 0).Format(time.DateOnly), "window")
	d.LastMonth = statsHref("/console/stats", first.AddDate(0, -1, 0).Format(time.DateOnly), first.Format(time.DateOnly), "window")
	jan := time.Date(n.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	d.ThisYear = statsHref("/console/stats", jan.Format(time.DateOnly), jan.AddDate(1, 0, 0).Format(time.DateOnly), "month")
	for _, g := range statsGroups {
		d.Groups = append(d.Groups, statsGroupView{By: g.By, ZH: g.ZH, EN: g.EN, Current: g.By == q.By})
	}
	if msg != "" {
		d.Error = msg
		s.pages.render(w, http.StatusBadRequest, "console-stats", d)
		return
	}
	d.CSV = statsHref("/console/stats.csv", q.From, q.To, q.By)
	rep, err := s.report(r.Context(), src, q)
	if err != nil {
		status, _, m := statusOf(err)
		if status == http.StatusInternalServerError {
			s.log.Error("statistics failed", "err", err)
			m = "the ledger failed: see halld's log"
		}
		d.Error = m
		s.pages.render(w, status, "console-stats", d)
		return
	}
	d.Rows, d.HasRatings = rep.views(), rep.Scores != nil
	s.pages.render(w, http.StatusOK, "console-stats", d)
}
