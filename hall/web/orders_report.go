package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"citizenhome/hall/access"
	"citizenhome/hall/followup"
)

// The month's follow-up figures (the national rules' measures of 差评 handling, and the
// regulations' art. 15 for complaints), per section and overall, over the orders opened in the
// month (so far, for the current one):
//
//   - 差评 orders opened; rectified in time: closed as 已整改 or 复核 by their deadline, and
//     their share of the 差评 orders;
//   - real-name 差评 (the citizen left a phone) and how many were called back (reached 已回访),
//     and that share: the rules' 实名差评回访率;
//   - complaint orders opened; answered in time (答复 by the deadline), and their share.
//
// An order still open and not yet due counts as opened, not (yet) as done in time: the figures
// of the current month grow as its orders close.

// orderFigures are one section's (or, Section "", the hall's) figures.
type orderFigures struct {
	Section                     string
	Ratings, RectifiedInTime    int
	RealName, CalledBack        int
	Complaints, AnsweredInTime  int
	RectifiedPct, CalledBackPct string // "87.5", "—" without a denominator
	AnsweredPct                 string
	Total                       bool
}

func pct(n, d int) string {
	if d == 0 {
		return "—"
	}
	return strconv.FormatFloat(float64(n)*100/float64(d), 'f', 1, 64)
}

// inTime: closed at one of states by the deadline.
func inTime(o followup.Order, states ...followup.State) bool {
	return o.Closed != nil && !o.Closed.After(o.Due) && slices.Contains(states, o.State)
}

func calledBack(o followup.Order) bool {
	for _, st := range o.Steps {
		if st.To == followup.CalledBack {
			return true
		}
	}
	return false
}

// figuresOf counts orders per section (sorted by name, the orders of no section last) and
// overall (the last row, Total).
func figuresOf(orders []followup.Order) []orderFigures {
	by := map[string]*orderFigures{}
	total := &orderFigures{Total: true}
	for _, o := range orders {
		f := by[o.Section]
		if f == nil {
			f = &orderFigures{Section: o.Section}
			by[o.Section] = f
		}
		for _, f := range []*orderFigures{f, total} {
			switch o.Kind {
			case followup.KindRating:
				f.Ratings++
				if inTime(o, followup.Rectified, followup.Reviewed) {
					f.RectifiedInTime++
				}
				if o.HasPhone {
					f.RealName++
					if calledBack(o) {
						f.CalledBack++
					}
				}
			case followup.KindComplaint:
				f.Complaints++
				if inTime(o, followup.Answered) {
					f.AnsweredInTime++
				}
			}
		}
	}
	out := make([]orderFigures, 0, len(by)+1)
	for _, f := range by {
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b orderFigures) int {
		if (a.Section == "") != (b.Section == "") {
			if a.Section == "" {
				return 1
			}
			return -1
		}
		return strings.Compare(a.Section, b.Section)
	})
	out = append(out, *total)
	for i := range out {
		f := &out[i]
		f.RectifiedPct, f.CalledBackPct, f.AnsweredPct = pct(f.RectifiedInTime, f.Ratings), pct(f.CalledBack, f.RealName), pct(f.AnsweredInTime, f.Complaints)
	}
	return out
}

// reportLimit bounds the orders a month's figures read; a month with more is refused rather
// than counted short.
const reportLimit = 100000

// monthOrders reads the orders opened in month=2026-12 ("" this month). ok false: a bad month
// (nothing answered); an error: the store failed (nothing answered).
func (s *Server) monthOrders(r *http.Request) (time.Time, []followup.Order, bool, error) {
	m, ok := parseMonth(r.URL.Query().Get("month"), s.o.Location, s.o.Now())
	if !ok {
		return m, nil, false, nil
	}
	list, err := s.o.Orders.List(r.Context(), followup.Filter{Since: m, Until: m.AddDate(0, 1, 0), Limit: reportLimit})
	if err == nil && len(list) >= reportLimit {
		err = fmt.Errorf("web: more than %d work orders in %s", reportLimit, m.Format("2006-01"))
	}
	return m, list, true, err
}

type ordersReportPage struct {
	consoleBase
	Month, MonthZH, Prev, Next string
	Rows                       []orderFigures
	Error                      string
}

// consoleOrdersReport serves /console/orders/report?month=2026-12.
func (s *Server) consoleOrdersReport(w http.ResponseWriter, r *http.Request, p access.Principal) {
	if s.noOrdersPage(w) {
		return
	}
	d := ordersReportPage{consoleBase: s.base(p, "orders")}
	m, list, ok, err := s.monthOrders(r)
	status := http.StatusOK
	if !ok {
		d.Error = "月份格式为 2026-12 · The month is written 2026-12"
		m, _ = parseMonth("", s.o.Location, s.o.Now())
		status = http.StatusBadRequest
	} else if err != nil {
		s.consoleFailed(w, r, err)
		return
	}
	d.Month, d.MonthZH = m.Format("2006-01"), m.Format("2006 年 1 月")
	d.Prev, d.Next = m.AddDate(0, -1, 0).Format("2006-01"), m.AddDate(0, 1, 0).Format("2006-01")
	if ok && len(list) > 0 {
		d.Rows = figuresOf(list)
	}
	s.pages.render(w, status, "console-orders-report", d)
}

// ordersCSVHeader is the figures' CSV header (docs/hall-api.md): Chinese, the English in brackets.
var ordersCSVHeader = []string{"月份(month)", "科室(section)", "差评工单(rating_orders)", "按期整改(rectified_in_time)",
	"按期整改率_百分比(rectified_in_time_pct)", "实名差评(real_name_ratings)", "已回访(called_back)",
	"实名差评回访率_百分比(callback_pct)", "投诉工单(complaint_orders)", "按期答复(answered_in_time)",
	"按期答复率_百分比(answered_in_time_pct)"}

// ordersCSV is the figures as CSV cells (writeCSV). The overall row's section is "合计"; orders
// of no section are under "未分科室"; a share without a denominator is empty.
func ordersCSV(month string, rows []orderFigures) [][]string {
	out := make([][]string, 0, len(rows))
	share := csvCell
	for _, f := range rows {
		sec := sectionZH(f.Section)
		if f.Total {
			sec = "合计"
		}
		out = append(out, []string{month, sec, strconv.Itoa(f.Ratings), strconv.Itoa(f.RectifiedInTime), share(f.RectifiedPct),
			strconv.Itoa(f.RealName), strconv.Itoa(f.CalledBack), share(f.CalledBackPct),
			strconv.Itoa(f.Complaints), strconv.Itoa(f.AnsweredInTime), share(f.AnsweredPct)})
	}
	return out
}

// consoleOrdersReportCSV serves /console/orders/report.csv?month=2026-12, an attachment; a
// month without orders has the header only.
func (s *Server) consoleOrdersReportCSV(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	if s.noOrders(w) {
		return
	}
	m, list, ok, err := s.monthOrders(r)
	if !ok {
		writeError(w, http.StatusBadRequest, "bad-month", "month is written 2026-12")
		return
	}
	if err != nil {
		s.ordersFailed(w, r, err)
		return
	}
	var rows []orderFigures
	if len(list) > 0 {
		rows = figuresOf(list)
	}
	month := m.Format("2006-01")
	writeCSV(w, "followup-"+month+".csv", ordersCSVHeader, ordersCSV(month, rows))
}
