package civic

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"citizenhome/kiosk/queue"
)

const cardOther = "3104000099999999" // a city card the hall linked to nobody

func appIDs(p Progress) []string {
	var out []string
	for _, a := range p.Applications {
		out = append(out, a.ID)
	}
	return out
}

func complaintNos(p Progress) []string {
	var out []string
	for _, c := range p.Complaints {
		out = append(out, c.Number)
	}
	return out
}

// A city card linked to its holder (card_holders) finds what the holder's ID card finds:
// applications, the booking to check in, complaints; a complaint filed with the card is found by
// the ID card too. A card linked to nobody finds nothing and says why.
func TestCityCardStandsForItsHolder(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	sum := r.importJSON(t, obj{
		"appointments": []obj{{"id": "YY1", "id_number": idLi, "matter": "zh-001", "start": "2026-11-26T09:10:00+08:00"}},
		"applications": []obj{
			{"id": "SL1", "id_number": idLi, "matter": "sb-003", "status": "办理中", "accepted": "2026-11-20", "updated": "2026-11-24T16:00:00+08:00"},
			{"id": "SL2", "id_number": idLi, "matter": "sb-003", "status": "办结", "accepted": "2026-11-10", "finished": "2026-11-18", "updated": "2026-11-18T16:00:00+08:00"},
			{"id": "SL3", "id_number": idZhang, "matter": "sb-003", "status": "办理中", "accepted": "2026-11-20", "updated": "2026-11-24T16:00:00+08:00"},
		},
		"card_holders": []obj{{"city_card": cardLi[:8] + " " + strings.ToLower(cardLi[8:]), "id_number": idLi}},
	})
	if sum.CardHolders != 1 {
		t.Fatalf("summary %+v", sum)
	}
	if li, ok, err := r.svc.LastImport(ctx); err != nil || !ok || li.CardHolders != 1 {
		t.Errorf("last import %+v %v %v", li, ok, err)
	}
	if _, err := r.svc.Submit(ctx, Complaint{Category: CategoryAttitude, Text: "态度不好"}, Identity{IDNumber: idLi}); err != nil {
		t.Fatal(err)
	}
	byCardComplaint, err := r.svc.Submit(ctx, Complaint{Category: CategoryConduct, Text: "窗口无人"}, Identity{CityCard: cardLi})
	if err != nil {
		t.Fatal(err)
	}
	byID, err := r.svc.Progress(ctx, Query{Who: Identity{IDNumber: idLi}})
	if err != nil {
		t.Fatal(err)
	}
	byCard, err := r.svc.Progress(ctx, Query{Who: Identity{CityCard: cardLi}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := appIDs(byCard), appIDs(byID); !slices.Equal(got, want) || len(want) != 2 {
		t.Errorf("applications by card %v, by ID card %v (want SL1 and SL2)", got, want)
	}
	if got, want := complaintNos(byCard), complaintNos(byID); !slices.Equal(got, want) || len(want) != 2 ||
		!slices.Contains(want, byCardComplaint.Number) {
		t.Errorf("complaints by card %v, by ID card %v (want both, %s among them)", got, want, byCardComplaint.Number)
	}
	// Check-in: the booking made with the ID number is due for the card.
	aID, err := r.svc.Due(ctx, Identity{IDNumber: idLi})
	if err != nil {
		t.Fatal(err)
	}
	aCard, err := r.svc.Due(ctx, Identity{CityCard: cardLi})
	if err != nil || aCard.ID != aID.ID || aCard.ID != "YY1" {
		t.Fatalf("due by card %+v %v, by ID %+v", aCard, err, aID)
	}
	if _, err := r.q.IssueWith(ctx, queue.Request{Category: "A", Priority: true, PriorityReason: queue.ReasonAppointment},
		func(tx *sql.Tx, tk queue.Ticket) error { return r.svc.RecordCheckIn(ctx, tx, aCard, tk, "zh") }); err != nil {
		t.Fatal(err)
	}
	// Checked in with the card: the ID card sees it checked in (one check-in per booking).
	if _, err := r.svc.Due(ctx, Identity{IDNumber: idLi}); !errors.Is(err, ErrAlreadyCheckedIn) {
		t.Errorf("due by ID after the card's check-in: %v", err)
	}

	// A card linked to nobody: nothing, and the reason.
	if _, err := r.svc.Progress(ctx, Query{Who: Identity{CityCard: cardOther}}); !errors.Is(err, ErrCardNotLinked) {
		t.Errorf("progress by an unlinked card: %v", err)
	}
	if _, err := r.svc.Due(ctx, Identity{CityCard: cardOther}); !errors.Is(err, ErrCardNotLinked) {
		t.Errorf("check-in by an unlinked card: %v", err)
	}
	if ok, err := r.svc.CardLinked(ctx, Identity{CityCard: cardOther}); ok || err != nil {
		t.Errorf("CardLinked(unlinked) = %v, %v", ok, err)
	}
	// An ID card with nothing on record is still an empty answer, not the card's error.
	if p, err := r.svc.Progress(ctx, Query{Who: Identity{IDNumber: idn("41020419700101003")}}); err != nil || len(p.Applications) != 0 {
		t.Errorf("nobody's ID card: %+v %v", p, err)
	}
	// A card booked with itself (no link) still checks in: the booking names the card.
	r.importJSON(t, obj{"appointments": []obj{{"id": "YY9", "city_card": cardOther, "matter": "zh-001", "start": "2026-11-26T09:20:00+08:00"}}})
	if a, err := r.svc.Due(ctx, Identity{CityCard: cardOther}); err != nil || a.ID != "YY9" {
		t.Errorf("unlinked card's own booking: %+v %v", a, err)
	}

	// The hall reports the card lost: the link goes, the card finds the holder's records no more.
	sum = r.importJSON(t, obj{"card_holders": []obj{{"city_card": cardLi, "status": "挂失"}}})
	if sum.CardHolders != 1 {
		t.Errorf("summary %+v", sum)
	}
	p, err := r.svc.Progress(ctx, Query{Who: Identity{CityCard: cardLi}})
	if len(p.Applications) != 0 {
		t.Errorf("a lost card still finds applications: %v", appIDs(p))
	}
	// The complaint it filed while linked was filed under the holder: the card alone finds none.
	if !errors.Is(err, ErrCardNotLinked) {
		t.Errorf("lost card: %+v %v", p, err)
	}
}

// card_holders in CSV, and mode replace.
func TestCardHoldersCSVAndReplace(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	f, err := FormatFor("Card_Holders-2026-11-26.csv")
	if err != nil || f != CardHoldersCSV {
		t.Fatalf("FormatFor: %v %v", f, err)
	}
	csv := "id_number,city_card\n" + idLi + "," + cardLi + "\n" + idZhang + "," + cardOther + "\n"
	s, err := r.svc.Import(ctx, strings.NewReader(csv), f)
	if err != nil || s.CardHolders != 2 {
		t.Fatalf("csv: %+v %v", s, err)
	}
	for card, want := range map[string]bool{cardLi: true, cardOther: true, "3104000011112222": false} {
		if ok, err := r.svc.CardLinked(ctx, Identity{CityCard: card}); ok != want || err != nil {
			t.Errorf("linked(%s) = %v %v", card[12:], ok, err)
		}
	}
	r.importJSON(t, obj{"mode": "replace", "card_holders": []obj{{"city_card": cardOther, "id_number": idZhang}}})
	if ok, _ := r.svc.CardLinked(ctx, Identity{CityCard: cardLi}); ok {
		t.Error("replace kept a link the file no longer has")
	}
	if ok, _ := r.svc.CardLinked(ctx, Identity{CityCard: cardOther}); !ok {
		t.Error("replace lost a link the file has")
	}
}

// A bad card_holders record rejects the file whole, names the record and the field, and never
// shows the card or ID number (the problems are logged and shown to the operator).
func TestCardHoldersValidated(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	r.importJSON(t, obj{"card_holders": []obj{{"city_card": cardLi, "id_number": idLi}}})
	badID := idLi[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", idLi[17])+1)%11])
	for _, c := range []struct {
		rec   obj
		field string
	}{
		{obj{"city_card": "31-04", "id_number": idLi}, "city_card"},
		{obj{"id_number": idLi}, "city_card"},
		{obj{"city_card": cardOther}, "id_number"},
		{obj{"city_card": cardOther, "id_number": badID}, "id_number"},
		{obj{"city_card": cardOther, "id_number": idLi, "status": "frozen"}, "status"},
		{obj{"city_card": cardOther, "id_number": idLi, "holder": "李四"}, "holder"},
	} {
		b := mustJSON(t, obj{"card_holders": []obj{{"city_card": cardLi, "id_number": idLi}, c.rec}})
		_, err := r.svc.Import(ctx, bytes.NewReader(b), JSON)
		var ie ImportErrors
		if !errors.As(err, &ie) || !errors.Is(err, ErrBadFile) || len(ie) != 1 || ie[0].Field != c.field || ie[0].Record != "card_holders[1]" {
			t.Errorf("%v: %v", c.rec, err)
			continue
		}
		noNumbers(t, err, cardLi, cardOther, idLi, badID)
	}
	// The same card twice.
	b := mustJSON(t, obj{"card_holders": []obj{{"city_card": cardOther, "id_number": idLi}, {"city_card": " " + cardOther, "id_number": idZhang}}})
	_, err := r.svc.Import(ctx, bytes.NewReader(b), JSON)
	if !errors.Is(err, ErrBadFile) || !strings.Contains(err.Error(), "card_holders[0]") {
		t.Errorf("repeated card: %v", err)
	}
	noNumbers(t, err, cardOther)
	// A CSV without the id_number column.
	if _, err := r.svc.Import(ctx, strings.NewReader("city_card\n"+cardOther+"\n"), CardHoldersCSV); !errors.Is(err, ErrBadFile) {
		t.Errorf("csv without id_number: %v", err)
	}
	// Nothing of the rejected files was written: the first link stands, no other.
	if ok, _ := r.svc.CardLinked(ctx, Identity{CityCard: cardOther}); ok {
		t.Error("a rejected file linked a card")
	}
	if ok, _ := r.svc.CardLinked(ctx, Identity{CityCard: cardLi}); !ok {
		t.Error("a rejected file removed a link")
	}
	// Without a hall key a file with card numbers is refused.
	if _, err := Import(ctx, r.st, nil, bytes.NewReader(mustJSON(t, obj{"card_holders": []obj{{"city_card": cardOther, "id_number": idLi}}})), JSON, ImportOptions{}); !errors.Is(err, ErrKey) {
		t.Errorf("no key: %v", err)
	}
}

// The database file holds neither number of a link.
func TestCardHolderNumbersNotInDatabaseFile(t *testing.T) {
	r := newRig(t, nil)
	r.importJSON(t, obj{"card_holders": []obj{{"city_card": cardLi, "id_number": idLi}}})
	if ok, err := r.svc.CardLinked(context.Background(), Identity{CityCard: cardLi}); !ok || err != nil {
		t.Fatalf("linked: %v %v", ok, err)
	}
	if err := r.st.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(r.path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{cardLi, idLi, cardLi[4:], idLi[6:14]} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("the database file holds %q", s)
		}
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// noNumbers fails when err, as text, JSON or in detail, shows any of numbers (or the core of
// one: its digits between the first four and the last four).
func noNumbers(t *testing.T, err error, numbers ...string) {
	t.Helper()
	j, _ := json.Marshal(err)
	for _, out := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), string(j)} {
		for _, n := range numbers {
			if strings.Contains(out, n) || strings.Contains(out, n[4:len(n)-4]) {
				t.Errorf("the import problem shows a number: %s", out)
			}
		}
	}
}
