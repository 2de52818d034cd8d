package civic

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode"

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
	// Personal data where a problem could quote it: a file without its header line, a value
	// as a key, an ID number as a JSON number, a bad check digit, a reply too long.
	f.Add([]byte("YY1,"+idZhang+",zh-001,2026-11-26 09:30,已预约\n"), uint8(1))
	f.Add([]byte("TS20261120ABCDEF,已办结,2026-11-22 09:00,已约谈窗口人员并当面致歉\n"), uint8(3))
	f.Add([]byte("3104000012345678,"+idZhang+",正常\n"), uint8(4))
	f.Add([]byte(`{"appointments":[{"`+idZhang+`":"x","id_number":41020419800101003,"city_card":"310400001234567X"}]}`), uint8(0))
	f.Add([]byte(`{"card_holders":[{"city_card":"3104 0000 1234 5678","id_number":"410204198001010039","status":"正常"}]}`), uint8(0))
	f.Add([]byte(`{"complaints":[{"number":"TS20261120ABCDEF","status":"已办结","reply":"`+strings.Repeat("已约谈窗口人员", 80)+`","updated":"2026-11-22 09:00"}]}`), uint8(0))
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
			// Problems are logged and shown: none quotes a value that may be personal data.
			msg := err.Error()
			for _, p := range leakProbes(data, format) {
				if strings.Contains(msg, p) {
					t.Fatalf("a problem quotes personal data %q: %s", p, msg)
				}
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

// personalColumns hold personal data in an import file, or would if the hall's platform put it
// there: no problem may quote their values.
var personalColumns = map[string]bool{"id_number": true, "city_card": true, "name": true, "phone": true, "reply": true, "text": true}

// leakProbes gives distinctive pieces of the values of data's personal columns, and of every
// JSON key and CSV header cell (a file without its header has a record there): each run of 10
// ASCII digits or more, cut to its first 10, and each run of 6 Han characters or more, cut to its
// first 6. A piece also found in a value of another column is left out: that column's value may
// be quoted. The validator's own wording has no such run.
func leakProbes(data []byte, f Format) []string {
	var personal, other []string
	if f == JSON {
		var v any
		dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
		dec.UseNumber()
		if dec.Decode(&v) != nil {
			return nil
		}
		var walk func(v any, isPersonal bool)
		walk = func(v any, isPersonal bool) {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					personal = append(personal, k)
					walk(e, isPersonal || personalColumns[k])
				}
			case []any:
				for _, e := range x {
					walk(e, isPersonal)
				}
			case string, json.Number:
				s := ""
				switch y := x.(type) {
				case string:
					s = y
				case json.Number:
					s = string(y)
				}
				if isPersonal {
					personal = append(personal, s)
				} else {
					other = append(other, s)
				}
			}
		}
		walk(v, false)
	} else {
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
		r.FieldsPerRecord = -1
		var header []string
		for {
			row, err := r.Read()
			if err != nil {
				break
			}
			if header == nil {
				header = row
				personal = append(personal, row...)
				continue
			}
			for i, c := range row {
				if i < len(header) && personalColumns[strings.TrimSpace(header[i])] {
					personal = append(personal, c)
				} else {
					other = append(other, c)
				}
			}
		}
	}
	var probes []string
	for _, s := range personal {
		for _, p := range runs(s) {
			if !slices.ContainsFunc(other, func(o string) bool { return strings.Contains(o, p) }) {
				probes = append(probes, p)
			}
		}
	}
	return probes
}

// runs gives the first 10 digits of each run of 10 or more ASCII digits of s, and the first 6
// characters of each run of 6 or more Han characters.
func runs(s string) []string {
	var out []string
	for _, c := range []struct {
		in  func(rune) bool
		min int
	}{
		{func(r rune) bool { return r >= '0' && r <= '9' }, 10},
		{func(r rune) bool { return unicode.Is(unicode.Han, r) }, 6},
	} {
		rs := []rune(s)
		for i := 0; i < len(rs); {
			j := i
			for j < len(rs) && c.in(rs[j]) {
				j++
			}
			if j-i >= c.min {
				out = append(out, string(rs[i:i+c.min]))
			}
			i = max(j, i+1)
		}
	}
	return out
}
