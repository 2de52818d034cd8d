package localapi

import (
	"net/http"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/devices/idcard"
	"citizenhome/kiosk"
)

// CardSource is what GET /v1/card needs of the core: the cards on the readers now, newest first;
// none (the endpoint answers 404 no-card) is nil or empty.
type CardSource interface {
	Cards() []kiosk.PresentCard
}

// cardBody is the card object of local-api.md. Optional fields beyond the contract:
// "since", "read_error", and the foreigner and HMT card fields of "id".
type cardBody struct {
	Kind      string     `json:"kind"`
	Reader    string     `json:"reader"`
	UID       string     `json:"uid,omitempty"`
	ID        *idBody    `json:"id,omitempty"`
	City      *cityBody  `json:"city,omitempty"`
	Since     string     `json:"since,omitempty"`
	ReadError *errorBody `json:"read_error,omitempty"`
}

type idBody struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	Sex         string `json:"sex"`
	Nation      string `json:"nation,omitempty"`
	Birth       string `json:"birth"`
	Address     string `json:"address,omitempty"`
	Number      string `json:"number"`
	Authority   string `json:"authority"`
	ValidFrom   string `json:"valid_from"`
	ValidTo     string `json:"valid_to"`
	EnglishName string `json:"english_name,omitempty"`
	Nationality string `json:"nationality,omitempty"`
	PassNumber  string `json:"pass_number,omitempty"`
	IssueCount  int    `json:"issue_count,omitempty"`
}

type cityBody struct {
	CardNo     string       `json:"card_no"`
	Issuer     string       `json:"issuer"`
	App        string       `json:"app"`
	BalanceFen int64        `json:"balance_fen"`
	ValidFrom  string       `json:"valid_from,omitempty"`
	ValidTo    string       `json:"valid_to,omitempty"`
	Records    []recordBody `json:"records"`
}

type recordBody struct {
	Serial    uint16 `json:"serial"`
	AmountFen int64  `json:"amount_fen"`
	Type      string `json:"type"`
	Terminal  string `json:"terminal"`
	Time      string `json:"time"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// card serves GET /v1/card: the newest card on the readers, with its full data, to the
// authenticated local caller; 404 no-card when there is none. An ID card seen both by its
// UID (a PC/SC reader) and through the SAM reader is one card: the object has both. Nothing is
// logged and nothing cached (Cache-Control: no-store).
func (s *Server) card(w http.ResponseWriter, _ *http.Request) {
	cards := s.core.Cards()
	w.Header().Set("Cache-Control", "no-store")
	if len(cards) == 0 {
		writeError(w, http.StatusNotFound, "no-card", "no card on the readers")
		return
	}
	writeJSON(w, http.StatusOK, cardObject(cards))
}

// cardObject builds the object of cards[0], completed from the other ID card views.
func cardObject(cards []kiosk.PresentCard) cardBody {
	c := cards[0]
	if c.Kind == kiosk.CardID {
		for _, o := range cards[1:] {
			if o.Kind != kiosk.CardID {
				continue
			}
			if c.UID == nil && o.UID != nil {
				c.UID = o.UID
			}
			if c.ID == nil && o.ID != nil {
				c.ID = o.ID
			}
		}
	}
	b := cardBody{Kind: c.Kind, Reader: c.Reader, UID: c.UIDHex()}
	if !c.Since.IsZero() {
		b.Since = c.Since.Format(time.RFC3339)
	}
	if c.ID != nil {
		b.ID = identityBody(c.ID)
	}
	if c.City != nil {
		b.City = cityCardBody(c.City)
	}
	if c.Err != nil {
		b.ReadError = &errorBody{Code: "read-failed", Message: c.Err.Error()}
	}
	return b
}

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

func identityBody(id *idcard.Identity) *idBody {
	return &idBody{
		Type: id.Type.String(), Name: id.Name, Sex: id.Sex.String(), Nation: id.Nation.String(),
		Birth: date(id.Birth), Address: id.Address, Number: id.Number, Authority: id.Authority,
		ValidFrom: date(id.ValidFrom), ValidTo: id.ValidTo.String(),
		EnglishName: id.EnglishName, Nationality: id.Nationality,
		PassNumber: id.PassNumber, IssueCount: id.IssueCount,
	}
}

func cityCardBody(i *citycard.Info) *cityBody {
	b := &cityBody{
		CardNo: i.CardNo, Issuer: i.Issuer, App: string(i.App), BalanceFen: i.BalanceFen,
		ValidFrom: date(i.ValidFrom), ValidTo: date(i.ValidTo), Records: []recordBody{},
	}
	for _, r := range i.Records {
		b.Records = append(b.Records, recordBody{
			Serial: r.Serial, AmountFen: r.AmountFen, Type: r.Type.String(), Terminal: r.Terminal,
			Time: r.Time.Format(time.RFC3339),
		})
	}
	return b
}
