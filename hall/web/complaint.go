package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"citizenhome/hall/access"
	"citizenhome/hall/followup"
)

// The public complaint page, the ticket page's sibling (issue 18, art. 15 及时反馈处理结果): GET
// /c/{number} for a citizen's phone or browser, GET /v1/public/complaints/{number} for the same
// in JSON, and GET /c, a form to type the slip's number. They show what followup.Reply gives,
// which is what the slip's holder may read: the category, the state, the dates and the answer;
// never a phone, an account, a section's manager or an internal note. Both lookups share the
// public routes' limit per address (limited), so a number cannot be guessed by trying many.

// complaintStates are a complaint's states as the citizen reads them.
var complaintStates = map[followup.State][2]string{
	followup.Accepted: {"已受理", "Received"},
	followup.Handling: {"处理中", "Being handled"},
	followup.Answered: {"已答复", "Answered"},
}

// complaintCategoryEN is the English of complaintCategoryZH (the kiosk's own labels).
var complaintCategoryEN = map[string]string{"attitude": "Staff attitude", "efficiency": "Efficiency",
	"conduct": "Conduct and discipline", "process": "Procedure and materials", "facility": "Facilities", "other": "Other"}

func complaintStateLabel(s followup.State) (zh, en string) {
	if l, ok := complaintStates[s]; ok {
		return l[0], l[1]
	}
	return string(s), string(s)
}

type zhEN struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// publicComplaintJSON is GET /v1/public/complaints/{number}'s answer.
type publicComplaintJSON struct {
	Number     string     `json:"number"`
	Category   string     `json:"category"`
	State      string     `json:"state"`
	StateLabel zhEN       `json:"state_label"`
	Opened     time.Time  `json:"opened"`
	Due        time.Time  `json:"due"`
	Answered   *time.Time `json:"answered"` // null until answered
	Answer     string     `json:"answer"`   // "" until answered
}

func (s *Server) publicComplaintOut(r followup.Reply) publicComplaintJSON {
	at := func(t time.Time) time.Time { return t.In(s.o.Location).Truncate(time.Second) }
	zh, en := complaintStateLabel(r.State)
	out := publicComplaintJSON{Number: r.Number, Category: r.Category, State: string(r.State), StateLabel: zhEN{zh, en},
		Opened: at(r.Opened), Due: at(r.Due), Answer: r.Answer}
	if !r.Answered.IsZero() {
		a := at(r.Answered)
		out.Answered = &a
	}
	return out
}

// noComplaint is the one message of an unknown and of a malformed number: the answer does not
// tell which, beyond the status.
const noComplaint = "no complaint with that number (not found or malformed)"

// publicComplaint serves GET /v1/public/complaints/{number}: 200 {"number", "category", "state",
// "state_label": {"zh", "en"}, "opened", "due", "answered" (null until answered), "answer" (""
// until then)}; 400 bad-number for what is no complaint number, 404 not-found for an unknown
// one; 429 over the rate limit; 503 no-orders when halld keeps no work orders.
func (s *Server) publicComplaint(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	if s.limited(w, r, false) || s.noOrders(w) {
		return
	}
	rep, err := s.o.Orders.Reply(r.Context(), r.PathValue("number"))
	switch {
	case errors.Is(err, followup.ErrInvalid):
		writeError(w, http.StatusBadRequest, "bad-number", noComplaint)
	case errors.Is(err, followup.ErrNotFound):
		writeError(w, http.StatusNotFound, "not-found", noComplaint)
	case err != nil:
		if r.Context().Err() == nil {
			s.log.Error("public complaint failed", "err", err)
			writeError(w, http.StatusInternalServerError, "internal", "the complaint could not be read")
		}
	default:
		writeJSON(w, http.StatusOK, s.publicComplaintOut(rep))
	}
}

// complaintView is what the public complaint page shows: nothing of the citizen or the staff.
type complaintView struct {
	Hall string
	// Typed is what the form is filled with: the number not found, or nothing.
	Typed string
	// Found: a complaint is shown; NotFound: a number was looked up and is unknown or malformed.
	Found, NotFound         bool
	Number                  string
	Groups                  []string // Number as printed: TS, the date, the code
	CategoryZH, CategoryEN  string
	State, StateZH, StateEN string
	Opened, Due, Answered   string
	Answer                  string
}

// maxTyped bounds what a not-found page echoes into its form.
const maxTyped = 40

func (s *Server) complaintNotFound(w http.ResponseWriter, typed string) {
	typed = strings.TrimSpace(typed)
	if len(typed) > maxTyped {
		typed = ""
	}
	s.pages.render(w, http.StatusNotFound, "complaint", complaintView{Hall: s.o.HallName, NotFound: true, Typed: typed})
}

// complaintPage serves GET /c/{number}: the complaint's state, dates and answer; an unknown or
// malformed number gets the same not-found page (404) with the form to try again; 429 over the
// rate limit; 503 without work orders.
func (s *Server) complaintPage(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	if s.limited(w, r, true) || s.noComplaintsPage(w) {
		return
	}
	rep, err := s.o.Orders.Reply(r.Context(), r.PathValue("number"))
	if errors.Is(err, followup.ErrInvalid) || errors.Is(err, followup.ErrNotFound) {
		s.complaintNotFound(w, r.PathValue("number"))
		return
	}
	if err != nil {
		if r.Context().Err() == nil {
			s.log.Error("public complaint failed", "err", err)
			s.pages.render(w, http.StatusInternalServerError, "message", messagePage{
				Title: "暂时无法查询", Subtitle: "Not available right now", Hall: s.o.HallName, Refresh: 30,
				Text: "请稍后再试，或到大厅咨询台询问。", Sub: "Please try again later, or ask at the hall's information desk."})
		}
		return
	}
	loc := s.o.Location
	v := complaintView{Hall: s.o.HallName, Found: true, Number: rep.Number, State: string(rep.State),
		CategoryZH: complaintCategoryZH[rep.Category], CategoryEN: complaintCategoryEN[rep.Category],
		Opened: rep.Opened.In(loc).Format("2006-01-02 15:04"), Due: rep.Due.In(loc).Format("2006-01-02 15:04"), Answer: rep.Answer}
	if v.CategoryZH == "" {
		v.CategoryZH, v.CategoryEN = rep.Category, ""
	}
	if len(rep.Number) == 16 { // always, from followup; the groups only make it easier to read out
		v.Groups = []string{rep.Number[:2], rep.Number[2:10], rep.Number[10:]}
	} else {
		v.Groups = []string{rep.Number}
	}
	v.StateZH, v.StateEN = complaintStateLabel(rep.State)
	if !rep.Answered.IsZero() {
		v.Answered = rep.Answered.In(loc).Format("2006-01-02 15:04")
	}
	s.pages.render(w, http.StatusOK, "complaint", v)
}

// complaintForm serves GET /c: the form to type a slip's number; with ?number= it sends the
// browser to /c/{number} in the number's normal form (303), or shows the not-found page for
// what is no complaint number (behind the rate limit, as a lookup).
func (s *Server) complaintForm(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	typed := r.URL.Query().Get("number")
	if strings.TrimSpace(typed) == "" {
		s.pages.render(w, http.StatusOK, "complaint", complaintView{Hall: s.o.HallName})
		return
	}
	if n, err := followup.ComplaintNumber(typed); err == nil {
		http.Redirect(w, r, "/c/"+url.PathEscape(n), http.StatusSeeOther)
		return
	}
	if s.limited(w, r, true) {
		return
	}
	s.complaintNotFound(w, typed)
}

func (s *Server) noComplaintsPage(w http.ResponseWriter) bool {
	if s.o.Orders != nil {
		return false
	}
	s.pages.render(w, http.StatusServiceUnavailable, "message", messagePage{Hall: s.o.HallName,
		Title: "暂时无法查询投诉", Subtitle: "Complaints cannot be looked up here",
		Text: "请到大厅咨询台或自助终端查询。", Sub: "Please ask at the hall's information desk, or look it up at a kiosk."})
	return true
}
