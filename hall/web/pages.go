package web

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"citizenhome/hall/access"
)

//go:embed pages/*.html
var pageFS embed.FS

// pageCSP is every page's Content-Security-Policy: scripts, styles and media from halld only,
// no inline script, no framing, forms post to halld only.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

type pages struct{ t *template.Template }

// pageFuncs are the SVG charts' arithmetic: v | sub d is v-d, v | add d is v+d, f1 a
// coordinate with one decimal.
var pageFuncs = template.FuncMap{
	"sub": func(d, v float64) float64 { return v - d },
	"add": func(d, v float64) float64 { return v + d },
	"f1":  func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
}

func newPages() *pages {
	return &pages{t: template.Must(template.New("").Funcs(pageFuncs).ParseFS(pageFS, "pages/*.html"))}
}

// render writes the page name with data; a template error (a bug) is a 500 with no page.
func (p *pages) render(w http.ResponseWriter, status int, name string, data any) {
	var b bytes.Buffer
	if err := p.t.ExecuteTemplate(&b, name, data); err != nil {
		http.Error(w, "page failed", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

type loginData struct {
	Hall, Next, Name, Error string
}

type messagePage struct {
	Hall, Title, Subtitle, Text, Sub string
	Refresh                          int // seconds; 0: the page does not reload
	// Link, when not "", is a way on (LinkText names it).
	Link, LinkText string
}

type counterData struct {
	Hall, Account, Role, CSRF string
}

type displayData struct{ Hall string }

// ticketView is what the phone's page shows: the ticket's code and state, nothing of its holder.
type ticketView struct {
	Hall, Code, State, StateZH, StateEN string
	Ahead                               int
	ETAMin                              int
	Window                              string
	Called, Waiting, Over               bool
	Refresh                             int
	Updated                             string
}

// ticketRefresh is how often the phone's page reloads itself.
const ticketRefresh = 15

func ticketPageData(hall string, p Public, now time.Time) ticketView {
	v := ticketView{Hall: hall, Code: p.Code, State: p.State, Ahead: p.Ahead, Window: p.Window,
		ETAMin: int((p.ETA + time.Minute - 1) / time.Minute), Refresh: ticketRefresh,
		Updated: now.Format("15:04:05")}
	switch p.State {
	case "waiting":
		v.StateZH, v.StateEN, v.Waiting = "等候中", "Waiting", true
	case "called":
		v.StateZH, v.StateEN, v.Called = "请到窗口办理", "Please go to the window", true
	case "serving":
		v.StateZH, v.StateEN, v.Called = "正在办理", "Being served", true
	case "done":
		v.StateZH, v.StateEN, v.Over, v.Refresh = "已办结", "Done", true, 0
	case "no-show":
		v.StateZH, v.StateEN, v.Over = "已过号", "Missed: please ask at the window", true
	default:
		v.StateZH, v.StateEN = p.State, p.State
	}
	return v
}

func (s *Server) counterPage(w http.ResponseWriter, r *http.Request, p access.Principal) {
	d := counterData{Hall: s.o.HallName, Account: p.Name, Role: string(p.Role), CSRF: p.CSRF}
	s.pages.render(w, http.StatusOK, "counter", d)
}

func (s *Server) displayPage(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	s.pages.render(w, http.StatusOK, "display", displayData{Hall: s.o.HallName})
}
