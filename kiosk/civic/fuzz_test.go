package civic

import (
	"encoding/json"
	"errors"
	"testing"

	"citizenhome/kiosk/catalog"
)

var fuzzFormats = []Format{JSON, AppointmentsCSV, ApplicationsCSV, ComplaintsCSV, CardHoldersCSV}

// Import files come from outside: any bytes give a batch of valid records or ImportErrors,
// never a panic.
func FuzzParse(f *testing.F) {
	b, _ := json.Marshal(baseline)
	f.Add(b, uint8(0))
	f.Add([]byte(`{"mode":"replace","appointments":[{"id":"YY1","id":"YY2"}],"complaints":null}`), uint8(0))
	f.Add([]byte("\ufeffid,id_number,matter,start,status\r\nYY1,"+idZhang+",zh-001,2026-11-26 09:30,已预约\r\n"), uint8(1))
	f.Add([]byte("id,lookup_code,matter,status,accepted,finished,updated\nSL1,K7Q2M9XAB1,sb-003,办结,2026-11-20,2026-11-21,2026-11-24 16:00\n"), uint8(2))
	f.Add([]byte("number,status,updated,reply\nTS20261120ABCDEF,已办结,2026-11-22 09:00,\"a\nb\"\n"), uint8(3))
	f.Add([]byte(`{"applications":[{"id":"x","status":7}]}`), uint8(0))
	cat := catalog.Demo()
	now := at("2026-11-26 09:00")
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		format := fuzzFormats[int(kind)%len(fuzzFormats)]
		b, err := parse(data, format, cat, shanghai, now)
		if err != nil {
			var es ImportErrors
			if !errors.As(err, &es) || len(es) == 0 || !errors.Is(err, ErrBadFile) {
				t.Fatalf("error %T %v is not ImportErrors", err, err)
			}
			return
		}
		if b.appointments != nil {
			for _, a := range *b.appointments {
				if a.id == "" || cat.Matter(a.matter) == nil || a.start.IsZero() || (a.idNumber == "" && a.card == "") {
					t.Fatalf("invalid appointment accepted: %+v", a)
				}
			}
		}
		if b.applications != nil {
			for _, a := range *b.applications {
				if a.id == "" || !a.status.Valid() || cat.Matter(a.matter) == nil || a.updated.IsZero() {
					t.Fatalf("invalid application accepted: %+v", a)
				}
			}
		}
		if b.complaints != nil {
			for _, c := range *b.complaints {
				if !reComplaintNo.MatchString(c.number) || c.state == "" || c.state == ComplaintSubmitted {
					t.Fatalf("invalid complaint update accepted: %+v", c)
				}
			}
		}
	})
}

// Codes are scanned or typed: anything gives a normalised code or ErrInvalid.
func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"K7Q2M9XAB1", "citizenhome:lookup:ts20261126k7q2m9", " 2026112609300500 ", "", "中文", "citizenhome:lookup:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, complaint, err := ParseCode(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if !reLookup.MatchString(code) || complaint != reComplaintNo.MatchString(code) {
			t.Fatalf("ParseCode(%q) = %q %v", s, code, complaint)
		}
		if again, c2, err := ParseCode(code); err != nil || again != code || c2 != complaint {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, code, again)
		}
	})
}
