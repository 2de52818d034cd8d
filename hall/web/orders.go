package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"citizenhome/hall/access"
	"citizenhome/hall/followup"
)

// The work orders of 差评 and complaints (hall/followup) in the console and the API:
// /console/orders (the list), /console/orders/{id} (an order, its steps, its next moves as
// forms, the phone for its manager), /console/orders/report (the month's follow-up figures, and
// its CSV), GET /v1/orders, GET /v1/orders/{id}, POST /v1/orders/{id}/moves.
//
// Who may do what: the crew and admins read every order (ReadFleet); any other account reads
// only the orders assigned to it; a move is made by whom hall/followup allows (the section's
// managers; a review by a default manager other than the appellant), and the citizen's phone
// opens for the assigned manager only. halld never decides these itself: it asks followup.

// Orders is what the server needs of hall/followup's *Store.
type Orders interface {
	// List returns the orders f selects, newest first.
	List(ctx context.Context, f followup.Filter) ([]followup.Order, error)
	// Get returns one order; followup.ErrNotFound when there is none.
	Get(ctx context.Context, id int64) (followup.Order, error)
	// Move moves an order on behalf of an account; followup's typed errors.
	Move(ctx context.Context, id int64, to followup.State, by, note string) (followup.Order, error)
	// Phone returns the citizen's phone to the assigned manager only (followup.ErrForbidden).
	Phone(ctx context.Context, id int64, account string) (string, error)
	// Reply returns what a complaint's slip holder may read of its order (the public complaint
	// page); followup.ErrInvalid for no complaint number, followup.ErrNotFound for an unknown one.
	Reply(ctx context.Context, number string) (followup.Reply, error)
}

var _ Orders = (*followup.Store)(nil)

// orderStates are every state with its Chinese and English names, in the workflows' order.
var orderStates = []struct {
	State  followup.State
	ZH, EN string
}{
	{followup.PendingCallback, "待回访", "Call back"},
	{followup.CalledBack, "已回访", "Called back"},
	{followup.Rectifying, "整改中", "Being put right"},
	{followup.Rectified, "已整改", "Put right"},
	{followup.Appealed, "申诉", "Appealed"},
	{followup.Reviewed, "复核", "Reviewed"},
	{followup.Accepted, "受理", "Accepted"},
	{followup.Handling, "处理", "Being handled"},
	{followup.Answered, "答复", "Answered"},
}

func orderStateZH(s followup.State) (zh, en string) {
	for _, o := range orderStates {
		if o.State == s {
			return o.ZH, o.EN
		}
	}
	return string(s), string(s)
}

var orderKinds = map[followup.Kind][2]string{followup.KindRating: {"差评", "Poor rating"}, followup.KindComplaint: {"投诉", "Complaint"}}

var levelZH = map[int]string{1: "非常不满意", 2: "不满意", 3: "基本满意", 4: "满意", 5: "非常满意"}

var complaintCategoryZH = map[string]string{"attitude": "服务态度", "efficiency": "办事效率", "conduct": "工作纪律与作风",
	"process": "办事流程与材料", "facility": "设施设备", "other": "其他"}

func reasonZH(code string) string {
	for _, r := range padReasons {
		if r.Code == code {
			return r.ZH
		}
	}
	return code
}

// orderStatus maps followup's errors to HTTP: not-found and no-phone 404, transition 409,
// forbidden 403, invalid-request and personal-data 400; anything else is 500 ("internal", to be
// logged).
func orderStatus(err error) (int, string) {
	switch {
	case errors.Is(err, followup.ErrPersonalData):
		return http.StatusBadRequest, string(followup.CodePersonalData)
	case errors.Is(err, followup.ErrNotFound):
		return http.StatusNotFound, string(followup.CodeNotFound)
	case errors.Is(err, followup.ErrNoPhone):
		return http.StatusNotFound, string(followup.CodeNoPhone)
	case errors.Is(err, followup.ErrTransition):
		return http.StatusConflict, string(followup.CodeTransition)
	case errors.Is(err, followup.ErrForbidden):
		return http.StatusForbidden, string(followup.CodeForbidden)
	case errors.Is(err, followup.ErrInvalid):
		return http.StatusBadRequest, string(followup.CodeInvalid)
	}
	return http.StatusInternalServerError, "internal"
}

// orderMessage is what a refusal says: followup's message (which holds no personal data and
// no note), or nothing of an internal error's text.
func orderMessage(err error) string {
	var fe *followup.Error
	if errors.As(err, &fe) {
		return fe.Error()
	}
	return "the work orders could not be read"
}

// ordersFailed answers an API request that followup refused or that failed.
func (s *Server) ordersFailed(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	status, code := orderStatus(err)
	if status == http.StatusInternalServerError {
		s.log.Error("work orders failed", "route", routeOf(s.mux, r), "err", err)
	}
	writeError(w, status, code, orderMessage(err))
}

// noOrders answers the orders' API when halld keeps no work orders.
func (s *Server) noOrders(w http.ResponseWriter) bool {
	if s.o.Orders != nil {
		return false
	}
	writeError(w, http.StatusServiceUnavailable, "no-orders", "halld keeps no work orders")
	return true
}

func (s *Server) noOrdersPage(w http.ResponseWriter) bool {
	if s.o.Orders != nil {
		return false
	}
	s.pages.render(w, http.StatusServiceUnavailable, "message", messagePage{Hall: s.o.HallName,
		Title: "工单暂不可用", Subtitle: "The work orders are not available",
		Text: "halld 未配置工单。", Sub: "halld is configured without work orders.", Link: "/console", LinkText: "设备总览 · Fleet"})
	return true
}

// mayReadOrder: the crew and admins read every order, another account the orders assigned to it.
func mayReadOrder(p access.Principal, o followup.Order) bool {
	return p.May(access.ReadFleet) || (p.Name != "" && o.Manager == p.Name)
}

func truthy(v string) bool { return v == "1" || v == "true" || v == "on" }

// parseOrderQuery reads the orders' filters: kind (rating, complaint), state (followup's),
// section, mine (assigned to p), open, overdue (1, true or on), limit (1 to 1000, default
// followup.DefaultLimit). A *queryError names the first bad one.
func parseOrderQuery(q url.Values, p access.Principal) (followup.Filter, error) {
	f := followup.Filter{Kind: q.Get("kind"), State: q.Get("state"), Section: strings.TrimSpace(q.Get("section")),
		Open: truthy(q.Get("open")), Overdue: truthy(q.Get("overdue")), Limit: followup.DefaultLimit}
	if _, ok := orderKinds[followup.Kind(f.Kind)]; f.Kind != "" && !ok {
		return f, &queryError{"bad-kind", "kind is rating or complaint"}
	}
	if zh, _ := orderStateZH(followup.State(f.State)); f.State != "" && zh == f.State {
		return f, &queryError{"bad-state", "state is one of pending-callback, called-back, rectifying, rectified, appealed, reviewed, accepted, handling, answered"}
	}
	if len(f.Section) > 128 || !utf8.ValidString(f.Section) || strings.ContainsFunc(f.Section, unicode.IsControl) {
		return f, &queryError{"bad-section", "section is at most 128 bytes of text"}
	}
	if truthy(q.Get("mine")) {
		f.Manager = p.Name
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return f, &queryError{"bad-limit", "limit is 1 to 1000"}
		}
		f.Limit = n
	}
	return f, nil
}

// orderOut is an order as the API writes it: times to the second in the hall's zone.
func (s *Server) orderOut(o followup.Order) followup.Order {
	at := func(t time.Time) time.Time { return t.In(s.o.Location).Truncate(time.Second) }
	o.Opened, o.Due = at(o.Opened), at(o.Due)
	if o.Closed != nil {
		c := at(*o.Closed)
		o.Closed = &c
	}
	steps := make([]followup.Step, len(o.Steps))
	for i, st := range o.Steps {
		st.At = at(st.At)
		steps[i] = st
	}
	o.Steps = steps
	if o.Reasons == nil {
		o.Reasons = []string{}
	}
	return o
}

// ordersAPI serves GET /v1/orders (parseOrderQuery's filters): {"orders": [...]}, newest first.
func (s *Server) ordersAPI(w http.ResponseWriter, r *http.Request, p access.Principal) {
	if s.noOrders(w) {
		return
	}
	f, err := parseOrderQuery(r.URL.Query(), p)
	if err != nil {
		qe := err.(*queryError)
		writeError(w, http.StatusBadRequest, qe.code, qe.msg)
		return
	}
	list, err := s.o.Orders.List(r.Context(), f)
	if err != nil {
		s.ordersFailed(w, r, err)
		return
	}
	out := make([]followup.Order, 0, len(list))
	for _, o := range list {
		out = append(out, s.orderOut(o))
	}
	writeJSON(w, http.StatusOK, map[string]any{"orders": out})
}

// orderID reads {id}; ok false when it is no order's id.
func orderID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// orderAPI serves GET /v1/orders/{id}: {"order": {...}}; 404 not-found, 403 forbidden for an
// account that may not read it.
func (s *Server) orderAPI(w http.ResponseWriter, r *http.Request, p access.Principal) {
	if s.noOrders(w) {
		return
	}
	id, ok := orderID(r)
	if !ok {
		writeError(w, http.StatusNotFound, "not-found", "no order "+quote(r.PathValue("id")))
		return
	}
	o, err := s.o.Orders.Get(r.Context(), id)
	if err != nil {
		s.ordersFailed(w, r, err)
		return
	}
	if !mayReadOrder(p, o) {
		writeError(w, http.StatusForbidden, "forbidden", "only the crew, admins and the order's manager read it")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"order": s.orderOut(o)})
}

type moveBody struct {
	To   string `json:"to"`
	Note string `json:"note"`
}

// move makes a move for p and audits it, whatever its outcome (action order-move, target the
// order's id, detail from→to: never the note, which may hold what a citizen said).
func (s *Server) move(r *http.Request, p access.Principal, id int64, to followup.State, note string) (followup.Order, error) {
	from := followup.State("?")
	if o, err := s.o.Orders.Get(r.Context(), id); err == nil {
		from = o.State
	}
	o, err := s.o.Orders.Move(r.Context(), id, to, p.Name, note)
	outcome := access.OutcomeOK
	if err != nil {
		_, outcome = orderStatus(err)
	} else if n := len(o.Steps); n > 0 {
		from = o.Steps[n-1].From // the move's own: another may have moved it since the read above
	}
	s.auditOrder(r, p, "order-move", id, string(from)+"→"+string(to), outcome)
	return o, err
}

// auditOrder keeps what an account did to an order; without an Auditor it is logged only.
func (s *Server) auditOrder(r *http.Request, p access.Principal, action string, id int64, detail, outcome string) {
	e := access.Entry{At: s.o.Now(), Who: p.Name, Role: p.Role, Action: action, Target: strconv.FormatInt(id, 10),
		Detail: detail, Outcome: outcome, Addr: s.clientIP(r)}
	s.log.Info("work order", "action", action, "order", id, "detail", detail, "outcome", outcome)
	s.audit(r, e)
}

// moveAPI serves POST /v1/orders/{id}/moves {"to", "note"}: 200 {"order"}; followup's refusals
// as orderStatus maps them; 400 bad-json.
func (s *Server) moveAPI(w http.ResponseWriter, r *http.Request, p access.Principal) {
	if s.noOrders(w) {
		return
	}
	id, ok := orderID(r)
	if !ok {
		writeError(w, http.StatusNotFound, "not-found", "no order "+quote(r.PathValue("id")))
		return
	}
	var b moveBody
	if err := decodeBody(r.Body, &b, false); err != nil {
		be := err.(*bodyError)
		writeError(w, be.status, be.code, be.msg)
		return
	}
	o, err := s.move(r, p, id, followup.State(b.To), b.Note)
	if err != nil {
		s.ordersFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"order": s.orderOut(o)})
}

// The console's pages.

type orderRow struct {
	ID              int64
	Kind, KindZH    string
	State, StateZH  string
	Section, Where  string
	Opened, Due     string
	Overdue, Closed bool
	Manager         string
	Mine            bool
	Level, Category string
}

func sectionZH(s string) string {
	if s == "" {
		return "未分科室"
	}
	return s
}

func (s *Server) orderRowOf(o followup.Order, p access.Principal) orderRow {
	row := orderRow{ID: o.ID, Kind: string(o.Kind), KindZH: orderKinds[o.Kind][0], State: string(o.State),
		Section: sectionZH(o.Section), Opened: o.Opened.In(s.o.Location).Format("2006-01-02 15:04"),
		Due: o.Due.In(s.o.Location).Format("2006-01-02 15:04"), Overdue: o.Overdue, Closed: o.Closed != nil,
		Manager: o.Manager, Mine: o.Manager == p.Name}
	row.StateZH, _ = orderStateZH(o.State)
	if o.Window != "" {
		row.Where = "窗口 " + o.Window
	}
	if o.Kind == followup.KindRating {
		row.Level = levelZH[o.Level]
	} else if c, ok := complaintCategoryZH[o.Category]; ok {
		row.Category = c
	} else {
		row.Category = o.Category
	}
	return row
}

type ordersPage struct {
	consoleBase
	Kind, State, Section string
	Mine, Open, Overdue  bool
	States               []stateOption
	Rows                 []orderRow
	Error                string
	Limit                int
	Full                 bool
}

type stateOption struct{ Value, ZH string }

func stateOptions() []stateOption {
	out := make([]stateOption, 0, len(orderStates))
	for _, o := range orderStates {
		out = append(out, stateOption{string(o.State), o.ZH})
	}
	return out
}

// consoleOrders serves /console/orders: the orders with the filters of GET /v1/orders as a form.
func (s *Server) consoleOrders(w http.ResponseWriter, r *http.Request, p access.Principal) {
	if s.noOrdersPage(w) {
		return
	}
	q := r.URL.Query()
	d := ordersPage{consoleBase: s.base(p, "orders"), Kind: q.Get("kind"), State: q.Get("state"), Section: q.Get("section"),
		Mine: truthy(q.Get("mine")), Open: truthy(q.Get("open")), Overdue: truthy(q.Get("overdue")), States: stateOptions()}
	f, err := parseOrderQuery(q, p)
	if err != nil {
		d.Error = "筛选条件有误：" + err.(*queryError).msg
		s.pages.render(w, http.StatusBadRequest, "console-orders", d)
		return
	}
	list, err := s.o.Orders.List(r.Context(), f)
	if err != nil {
		s.consoleFailed(w, r, err)
		return
	}
	for _, o := range list {
		d.Rows = append(d.Rows, s.orderRowOf(o, p))
	}
	d.Limit, d.Full = f.Limit, len(list) >= f.Limit
	s.pages.render(w, http.StatusOK, "console-orders", d)
}

type stepView struct {
	At, By, FromZH, ToZH, To, Note string
}

type moveView struct {
	To, ZH, EN string
	NeedsNote  bool
	Review     bool // the outcome is chosen
	Class      string
	// Public: the note is the complaint's answer, shown to the citizen on the kiosk and the
	// public complaint page (no personal data, followup.ErrPersonalData).
	Public bool
	// Note and Refused give a refused move's note back to its form, marked, to be put right
	// rather than typed again.
	Note    string
	Refused bool
}

type orderPage struct {
	consoleBase
	Order   orderRow
	Staff   string
	Ticket  string
	Reasons []string
	Outcome string
	Steps   []stepView
	Moves   []moveView
	// HasPhone: the citizen left one. MayPhone: p is the assigned manager (the button shows).
	// Phone: the number, on the answer to the button's POST only.
	HasPhone, MayPhone bool
	Phone              string
	Error              string
	Status             int
}

func (s *Server) orderPageOf(p access.Principal, o followup.Order) orderPage {
	d := orderPage{consoleBase: s.base(p, "orders"), Order: s.orderRowOf(o, p), Staff: o.Staff, Ticket: o.Ticket,
		HasPhone: o.HasPhone, MayPhone: o.HasPhone && p.Name == o.Manager}
	switch o.Outcome {
	case followup.Upheld:
		d.Outcome = "维持差评 Upheld"
	case followup.Overturned:
		d.Outcome = "撤销差评 Overturned"
	}
	for _, c := range o.Reasons {
		d.Reasons = append(d.Reasons, reasonZH(c))
	}
	for _, st := range o.Steps {
		v := stepView{At: st.At.In(s.o.Location).Format("2006-01-02 15:04"), By: st.By, To: string(st.To), Note: st.Note}
		if st.From == "" {
			v.FromZH, v.By = "开单", "系统"
		} else {
			v.FromZH, _ = orderStateZH(st.From)
		}
		v.ToZH, _ = orderStateZH(st.To)
		d.Steps = append(d.Steps, v)
	}
	for _, to := range followup.Transitions[o.Kind][o.State] {
		if o.State == followup.PendingCallback && to == followup.Rectifying && o.HasPhone {
			continue // a real-name 差评 is called back first
		}
		zh, en := orderStateZH(to)
		m := moveView{To: string(to), ZH: zh, EN: en, NeedsNote: to.NeedsNote(), Review: to == followup.Reviewed, Class: "primary",
			Public: o.Kind == followup.KindComplaint && to == followup.Answered}
		if to == followup.Appealed {
			m.Class = "warn"
		}
		d.Moves = append(d.Moves, m)
	}
	return d
}

// loadOrder reads {id} for a page; it answers (404, 403) and returns ok false when it cannot be
// shown to p.
func (s *Server) loadOrder(w http.ResponseWriter, r *http.Request, p access.Principal) (followup.Order, bool) {
	if s.noOrdersPage(w) {
		return followup.Order{}, false
	}
	id, ok := orderID(r)
	var o followup.Order
	var err error
	if ok {
		o, err = s.o.Orders.Get(r.Context(), id)
	}
	switch {
	case !ok || errors.Is(err, followup.ErrNotFound):
		s.pages.render(w, http.StatusNotFound, "message", messagePage{Hall: s.o.HallName, Title: "找不到这张工单", Subtitle: "No such work order",
			Text: "请从工单列表选择。", Sub: "Choose one in the list.", Link: "/console/orders", LinkText: "工单 · Orders"})
		return o, false
	case err != nil:
		s.consoleFailed(w, r, err)
		return o, false
	case !mayReadOrder(p, o):
		s.pages.render(w, http.StatusForbidden, "message", messagePage{Hall: s.o.HallName, Title: "无权查看这张工单", Subtitle: "You may not see this work order",
			Text: "工单由运维、管理员和负责人查看。", Sub: "The crew, admins and the order's manager see it.", Link: "/", LinkText: "返回我的首页 · My start page"})
		return o, false
	}
	return o, true
}

// consoleOrder serves /console/orders/{id}.
func (s *Server) consoleOrder(w http.ResponseWriter, r *http.Request, p access.Principal) {
	o, ok := s.loadOrder(w, r, p)
	if !ok {
		return
	}
	s.pages.render(w, http.StatusOK, "console-order", s.orderPageOf(p, o))
}

// refusedZH explains a refusal on the order's page.
func refusedZH(err error, o followup.Order) string {
	var fe *followup.Error
	switch {
	case errors.Is(err, followup.ErrPersonalData) && errors.As(err, &fe):
		return fe.Msg // says, in Chinese and English, which kind of number was found (never the digits)
	case errors.Is(err, followup.ErrForbidden):
		return "您不能处理这张工单：由负责人 " + o.Manager + " 或本科室负责人处理，复核由大厅负责人（非申诉人）进行。 You may not act on this order."
	case errors.Is(err, followup.ErrTransition):
		return "工单状态已变化，不能这样流转，请刷新。 The order cannot move so (it may have moved meanwhile)."
	case errors.Is(err, followup.ErrInvalid):
		return "请填写说明（最多 " + strconv.Itoa(followup.MaxNote) + " 字）；复核请选择结论。 A note is required (and a review's outcome)."
	case errors.Is(err, followup.ErrNoPhone):
		return "这张工单没有留电话（或已清除）。 The order has no phone."
	}
	return "操作失败，请稍后再试。 It failed: try again later."
}

// consoleMove serves POST /console/orders/{id}/moves (a form: csrf, to, note, outcome for a
// review): the move, then back to the order (303); a refusal shows the order with why, with
// orderStatus's status.
func (s *Server) consoleMove(w http.ResponseWriter, r *http.Request, p access.Principal) {
	o, ok := s.loadOrder(w, r, p)
	if !ok {
		return
	}
	to, note := followup.State(r.PostFormValue("to")), r.PostFormValue("note")
	if to == followup.Reviewed {
		if oc := r.PostFormValue("outcome"); oc == followup.Upheld || oc == followup.Overturned {
			note = oc + " " + strings.TrimSpace(note)
		}
	}
	moved, err := s.move(r, p, o.ID, to, note)
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/console/orders/%d", moved.ID), http.StatusSeeOther)
		return
	}
	status, _ := orderStatus(err)
	if status == http.StatusInternalServerError {
		s.consoleFailed(w, r, err)
		return
	}
	if cur, gerr := s.o.Orders.Get(r.Context(), o.ID); gerr == nil {
		o = cur
	}
	d := s.orderPageOf(p, o)
	d.Error = refusedZH(err, o)
	if errors.Is(err, followup.ErrInvalid) || errors.Is(err, followup.ErrPersonalData) {
		for i := range d.Moves {
			if d.Moves[i].To == string(to) {
				d.Moves[i].Note, d.Moves[i].Refused = r.PostFormValue("note"), true
			}
		}
	}
	s.pages.render(w, status, "console-order", d)
}

// consolePhone serves POST /console/orders/{id}/phone (a form with csrf): the order's page with
// the citizen's phone, for the assigned manager only (403 and no number for anyone else).
// Every reading and every refusal is audited (action order-phone); the number is never logged.
func (s *Server) consolePhone(w http.ResponseWriter, r *http.Request, p access.Principal) {
	o, ok := s.loadOrder(w, r, p)
	if !ok {
		return
	}
	phone, err := s.o.Orders.Phone(r.Context(), o.ID, p.Name)
	outcome := access.OutcomeOK
	if err != nil {
		_, outcome = orderStatus(err)
	}
	s.auditOrder(r, p, "order-phone", o.ID, "", outcome)
	d := s.orderPageOf(p, o)
	if err != nil {
		status, _ := orderStatus(err)
		if status == http.StatusInternalServerError {
			s.consoleFailed(w, r, err)
			return
		}
		if errors.Is(err, followup.ErrForbidden) {
			d.Error = "只有负责人 " + o.Manager + " 可以查看群众电话。 Only the order's manager sees the phone."
		} else {
			d.Error = refusedZH(err, o)
		}
		s.pages.render(w, status, "console-order", d)
		return
	}
	d.Phone = phone
	s.pages.render(w, http.StatusOK, "console-order", d)
}
