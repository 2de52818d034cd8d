package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"citizenhome/hall/access"
	"citizenhome/hall/rating"
)

// Ratings is what the counters' rating pads (/rate/{window}) need of the hall's ratings
// (hall/rating's *Store, through RatingPad). Refusals are *Error values with the code and HTTP
// status the pad is answered with; any other error is a 500.
type Ratings interface {
	// Awaiting is the ticket a rating at window's pad would rate now: the window's last
	// finished ticket within its grace, not rated yet. Refusals: no-ticket-to-rate,
	// grace-expired, already-rated.
	Awaiting(ctx context.Context, window string) (PadOffer, error)
	// FromPad records the pad's rating of the ticket offered. Refusals: invalid-rating (400),
	// no-ticket-to-rate, grace-expired, already-rated (409).
	FromPad(ctx context.Context, window string, in PadRating) error
}

// PadOffer is a ticket a pad may rate. Day and Ticket stay in the server: the pad is told
// nothing of the ticket.
type PadOffer struct {
	Day, Ticket string
	Until       time.Time // the end of its grace
}

// PadRating is a pad's rating: levels 1..5 (dimensions 0: not rated), reason codes, the phone
// for a return call ("" none), and the ticket offered.
type PadRating struct {
	Overall, Efficiency, Skill, Attitude int
	Reasons                              []string
	Phone                                string
	Day, Ticket                          string
}

// RatingPad is hall/rating's *Store as the pads' Ratings.
func RatingPad(s *rating.Store) Ratings { return ratingPad{s} }

type ratingPad struct{ s *rating.Store }

func fromRating(err error) error {
	var re *rating.Error
	if !errors.As(err, &re) {
		return err
	}
	status := http.StatusConflict
	if re.Code == rating.CodeInvalid {
		status = http.StatusBadRequest
	}
	return &Error{Code: string(re.Code), Status: status, Msg: strings.TrimPrefix(re.Error(), "rating: ")}
}

func (p ratingPad) Awaiting(ctx context.Context, window string) (PadOffer, error) {
	o, err := p.s.Awaiting(ctx, window)
	if err != nil {
		return PadOffer{}, fromRating(err)
	}
	return PadOffer{Day: o.Day, Ticket: o.Ticket, Until: o.Until}, nil
}

func (p ratingPad) FromPad(ctx context.Context, window string, in PadRating) error {
	_, err := p.s.FromPad(ctx, window, rating.PadRating{Overall: in.Overall, Efficiency: in.Efficiency, Skill: in.Skill,
		Attitude: in.Attitude, Reasons: in.Reasons, Phone: in.Phone, Day: in.Day, Ticket: in.Ticket})
	return fromRating(err)
}

// padNonces are the offers handed to pads: each POST /rate/{window} spends one, so a rating
// captured on its way (the display key is in the URL) cannot be sent again. A pad may ask for an
// offer as often as it likes, so the nonces bound replays, not the key's holders.
type padNonces struct {
	mu     sync.Mutex
	secret [32]byte // offer ids: stable per ticket, meaningless outside this process
	byID   map[string]padNonce
}

type padNonce struct {
	window, day, ticket string
	until               time.Time
}

// maxPadNonces bounds the offers kept: a hall has tens of windows, and each asks again.
const maxPadNonces = 512

func newPadNonces() *padNonces {
	n := &padNonces{byID: map[string]padNonce{}}
	_, _ = rand.Read(n.secret[:])
	return n
}

// issue returns a fresh nonce for o at window and o's offer id: the same for every offer of one
// ticket, so a pad that cleared does not show a ticket again.
func (n *padNonces) issue(window string, o PadOffer, now time.Time) (nonce, id string) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	nonce = hex.EncodeToString(b)
	m := hmac.New(sha256.New, n.secret[:])
	m.Write([]byte(window + "\x00" + o.Day + "\x00" + o.Ticket))
	id = hex.EncodeToString(m.Sum(nil)[:12])
	n.mu.Lock()
	defer n.mu.Unlock()
	for k, v := range n.byID {
		if !now.Before(v.until) {
			delete(n.byID, k)
		}
	}
	if len(n.byID) >= maxPadNonces {
		// Full of live offers (a pad asking in a loop): drop the ones that end soonest.
		keys := make([]string, 0, len(n.byID))
		for k := range n.byID {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int { return n.byID[a].until.Compare(n.byID[b].until) })
		for _, k := range keys[:len(keys)-maxPadNonces/2] {
			delete(n.byID, k)
		}
	}
	n.byID[nonce] = padNonce{window: window, day: o.Day, ticket: o.Ticket, until: o.Until}
	return nonce, id
}

// take spends nonce for window: false when it is unknown, spent, of another window or past.
func (n *padNonces) take(window, nonce string, now time.Time) (padNonce, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	v, ok := n.byID[nonce]
	if !ok || v.window != window {
		return padNonce{}, false
	}
	delete(n.byID, nonce)
	return v, now.Before(v.until)
}

// giveBack returns a nonce spent by a request that failed before the rating was decided (the
// pad may try again).
func (n *padNonces) giveBack(nonce string, v padNonce) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.byID[nonce] = v
}

type rateData struct {
	Hall, Window string
	Reasons      []padReason
}

type padReason struct{ Code, ZH, EN string }

// padReasons are the kiosk's 差评 reasons (kiosk/civic, docs/hall-data.md) in the hall's words.
var padReasons = []padReason{
	{"wait-long", "等候时间长", "Long wait"},
	{"attitude", "服务态度不好", "Unfriendly staff"},
	{"not-informed", "未一次性告知", "Not told everything at once"},
	{"many-trips", "多次跑动", "Had to come several times"},
	{"materials", "要求材料过多", "Too many documents asked"},
	{"slow", "办理时间长", "Slow handling"},
	{"unclear-guide", "办事指南不清楚", "Unclear service guide"},
	{"system", "系统或设备故障", "System or equipment failure"},
	{"other", "其他", "Other"},
}

// padWindow checks {window}: a configured window, else a 404 (a page for a browser).
func (s *Server) padWindow(w http.ResponseWriter, r *http.Request, page bool) (string, bool) {
	id := r.PathValue("window")
	if windowRE.MatchString(id) {
		snap, err := s.o.Queue.Snapshot(r.Context())
		if err != nil {
			s.queueFailed(w, r, err)
			return "", false
		}
		for _, ws := range snap.Windows {
			if ws.Window == id {
				return id, true
			}
		}
	}
	if page {
		s.pages.render(w, http.StatusNotFound, "message", messagePage{Hall: s.o.HallName, Refresh: 60,
			Title: "没有这个窗口", Subtitle: "No such window",
			Text: "请核对地址中的窗口号。", Sub: "Check the window number in the address (/rate/{window})."})
	} else {
		writeError(w, http.StatusNotFound, "unknown-window", "no window "+id)
	}
	return "", false
}

// ratePage serves GET /rate/{window}: the rating pad facing the citizen at the window.
func (s *Server) ratePage(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	id, ok := s.padWindow(w, r, true)
	if !ok {
		return
	}
	s.pages.render(w, http.StatusOK, "rate", rateData{Hall: s.o.HallName, Window: id, Reasons: padReasons})
}

func (s *Server) noRatings(w http.ResponseWriter) bool {
	if s.o.Ratings == nil {
		writeError(w, http.StatusServiceUnavailable, "no-ratings", "halld keeps no ratings (not configured)")
		return true
	}
	return false
}

func (s *Server) ratingFailed(w http.ResponseWriter, err error) {
	var e *Error
	if errors.As(err, &e) && e.Status != 0 {
		writeError(w, e.Status, e.Code, e.Error())
		return
	}
	s.log.Error("ratings failed", "err", err)
	writeError(w, http.StatusInternalServerError, "internal", "the ratings failed; see halld's log")
}

// rateOffer serves GET /rate/{window}/offer: whether the pad should ask for a rating now.
//
//	{"offer": true, "id": "…", "nonce": "…", "until": RFC 3339}  or  {"offer": false, "reason": code}
func (s *Server) rateOffer(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	if s.noRatings(w) {
		return
	}
	id, ok := s.padWindow(w, r, false)
	if !ok {
		return
	}
	o, err := s.o.Ratings.Awaiting(r.Context(), id)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Status == http.StatusConflict {
			writeJSON(w, http.StatusOK, map[string]any{"offer": false, "reason": e.Code})
			return
		}
		s.ratingFailed(w, err)
		return
	}
	nonce, oid := s.pads.issue(id, o, s.o.Now())
	writeJSON(w, http.StatusOK, map[string]any{"offer": true, "id": oid, "nonce": nonce, "until": o.Until.Format(time.RFC3339)})
}

type rateBody struct {
	Nonce      string   `json:"nonce"`
	Overall    int      `json:"overall"`
	Efficiency int      `json:"efficiency"`
	Skill      int      `json:"skill"`
	Attitude   int      `json:"attitude"`
	Reasons    []string `json:"reasons"`
	Phone      string   `json:"phone"`
}

// rateSubmit serves POST /rate/{window}: the pad's rating, with the nonce of its offer.
func (s *Server) rateSubmit(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	if s.noRatings(w) {
		return
	}
	id, ok := s.padWindow(w, r, false)
	if !ok {
		return
	}
	var b rateBody
	if err := decodeBody(r.Body, &b, false); err != nil {
		be := err.(*bodyError)
		writeError(w, be.status, be.code, be.msg)
		return
	}
	v, live := s.pads.take(id, b.Nonce, s.o.Now())
	if !live {
		writeError(w, http.StatusConflict, "bad-nonce", "this rating was sent already, or its offer ended: the pad asks again")
		return
	}
	err := s.o.Ratings.FromPad(r.Context(), id, PadRating{Overall: b.Overall, Efficiency: b.Efficiency, Skill: b.Skill,
		Attitude: b.Attitude, Reasons: b.Reasons, Phone: b.Phone, Day: v.day, Ticket: v.ticket})
	if err != nil {
		var e *Error
		if !errors.As(err, &e) || e.Status == http.StatusBadRequest {
			s.pads.giveBack(b.Nonce, v) // nothing was decided: the pad may send it right
		}
		s.ratingFailed(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}
