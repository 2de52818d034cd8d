package catalog

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// baseFile returns a fresh, valid catalog: two sections, a charged 承诺件 with a form and a free
// 即办件 with no statutory limit. Every validation case breaks exactly one rule of it.
func baseFile() *file {
	return &file{
		Version: "t-1",
		Updated: "2025-01-02",
		Sections: []*Section{
			{ID: "aa", Name: Text{"综合窗口", "General window"}, Order: 1},
			{ID: "bb", Name: Text{"社保", "Social insurance"}, Order: 2},
		},
		Matters: []*Matter{
			{
				ID:         "aa-001",
				Name:       Text{"居民身份证换领", "ID card renewal"},
				Initials:   "JMSFZHL",
				Department: Text{"开封市公安局", "Kaifeng PSB"},
				Section:    "aa",
				Handling:   Promised,
				Queue:      "A",
				Weekend:    true,
				Basis:      []Text{{"《中华人民共和国居民身份证法》", "Resident Identity Card Law"}},
				Conditions: []Text{{"有效期满", "Card expired"}},
				Materials: []Material{
					{Name: Text{"居民户口簿", "Hukou booklet"}, Kind: Original, Copies: 1},
					{Name: Text{"原居民身份证", "Old card"}, Kind: OriginalAndCopy, Copies: 1, Note: Text{"交回", "Surrendered"}},
				},
				Steps:             []Text{{"取号", "Take a ticket"}, {"领证", "Collect"}},
				LegalDays:         60,
				LegalCalendarDays: true,
				PromisedDays:      15,
				Fee:               Fee{Standard: Text{"每证20元", "CNY 20 per card"}, AmountFen: 2000},
				Templates:         []Template{{Name: Text{"申领登记表", "Application form"}, Blank: "form.pdf", Sample: "form-sample.pdf"}},
			},
			{
				ID:           "bb-001",
				Name:         Text{"社会保障卡申领", "Social security card"},
				Initials:     "SHBZKSL",
				Department:   Text{"开封市人社局", "Kaifeng HRSS"},
				Section:      "bb",
				Handling:     Immediate,
				Queue:        "B",
				Basis:        []Text{{"《中华人民共和国社会保险法》", "Social Insurance Law"}},
				Conditions:   []Text{{"已参保", "Insured"}},
				Materials:    []Material{{Name: Text{"居民身份证", "ID card"}, Kind: Original, Copies: 1}},
				Steps:        []Text{{"制卡", "Card made"}},
				NoLegalLimit: true,
				Fee:          Fee{Free: true},
			},
		},
	}
}

func encode(t testing.TB, f *file) []byte {
	t.Helper()
	data, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestBaseFileIsValid(t *testing.T) {
	c, err := Parse(encode(t, baseFile()))
	if err != nil {
		t.Fatalf("base file rejected: %v", err)
	}
	if len(c.All()) != 2 || c.IsDemo() {
		t.Fatalf("got %d matters, demo %v", len(c.All()), c.IsDemo())
	}
}

// TestValidationRules breaks one rule per case and expects exactly that one problem back.
func TestValidationRules(t *testing.T) {
	m0 := func(f *file) *Matter { return f.Matters[0] }
	m1 := func(f *file) *Matter { return f.Matters[1] }
	cases := []struct {
		name   string
		mutate func(f *file)
		index  int    // -1: outside matters
		matter string // expected Error.Matter
		field  string
	}{
		{"version required", func(f *file) { f.Version = "" }, -1, "", "version"},
		{"updated not a date", func(f *file) { f.Updated = "2025-13-01" }, -1, "", "updated"},
		{"section null", func(f *file) { f.Sections[1] = nil; f.Matters = f.Matters[:1] }, -1, "", "sections[1]"},
		{"section id pattern", func(f *file) { f.Sections[1].ID = "B"; m1(f).Section = "B" }, -1, "", "sections[1].id"},
		{"section id duplicate", func(f *file) { f.Sections[1].ID = "aa"; m1(f).Section = "aa" }, -1, "", "sections[1].id"},
		{"section name zh", func(f *file) { f.Sections[0].Name.Zh = "" }, -1, "", "sections[0].name.zh"},
		{"section name en", func(f *file) { f.Sections[0].Name.En = " " }, -1, "", "sections[0].name.en"},
		{"section order positive", func(f *file) { f.Sections[1].Order = 0 }, -1, "", "sections[1].order"},
		{"section order duplicate", func(f *file) { f.Sections[1].Order = 1 }, -1, "", "sections[1].order"},
		{"matters required", func(f *file) { f.Matters = nil }, -1, "", "matters"},
		{"matter null", func(f *file) { f.Matters[1] = nil }, 1, "", ""},
		{"id pattern", func(f *file) { m0(f).ID = "AA-1" }, 0, "", "id"},
		{"id duplicate", func(f *file) { m1(f).ID = "aa-001" }, 1, "aa-001", "id"},
		{"name zh required", func(f *file) { m0(f).Name.Zh = "" }, 0, "aa-001", "name.zh"},
		{"name en required", func(f *file) { m0(f).Name.En = "" }, 0, "aa-001", "name.en"},
		{"text trailing space", func(f *file) { m0(f).Name.En = "ID card renewal " }, 0, "aa-001", "name.en"},
		{"text control character", func(f *file) { m0(f).Name.En = "ID\tcard" }, 0, "aa-001", "name.en"},
		{"name zh duplicate", func(f *file) { m1(f).Name.Zh = "居民身份证换领"; m1(f).Initials = "JMSFZHL" }, 1, "bb-001", "name.zh"},
		{"initials letters only", func(f *file) { m0(f).Initials = "jmsfzhl" }, 0, "aa-001", "initials"},
		{"initials one per Han character", func(f *file) { m0(f).Initials = "JMSFZ" }, 0, "aa-001", "initials"},
		{"initials skip non-Han", func(f *file) { m0(f).Name.Zh = "5+2居民身份证换领"; m0(f).Initials = "JMSFZHLX" }, 0, "aa-001", "initials"},
		{"department required", func(f *file) { m0(f).Department = Text{} }, 0, "aa-001", "department"},
		{"department en required", func(f *file) { m0(f).Department.En = "" }, 0, "aa-001", "department.en"},
		{"section known", func(f *file) { m0(f).Section = "zz" }, 0, "aa-001", "section"},
		{"handling known", func(f *file) { m0(f).Handling = "fast" }, 0, "aa-001", "handling"},
		{"queue one letter", func(f *file) { m0(f).Queue = "AB" }, 0, "aa-001", "queue"},
		{"queue capital", func(f *file) { m0(f).Queue = "a" }, 0, "aa-001", "queue"},
		{"basis required", func(f *file) { m0(f).Basis = nil }, 0, "aa-001", "basis"},
		{"basis names a legal text", func(f *file) { m0(f).Basis[0].Zh = "居民身份证法" }, 0, "aa-001", "basis[0].zh"},
		{"basis en required", func(f *file) { m0(f).Basis[0].En = "" }, 0, "aa-001", "basis[0].en"},
		{"conditions required", func(f *file) { m0(f).Conditions = []Text{} }, 0, "aa-001", "conditions"},
		{"condition text", func(f *file) { m0(f).Conditions[0].Zh = "" }, 0, "aa-001", "conditions[0].zh"},
		{"materials required", func(f *file) { m0(f).Materials = nil }, 0, "aa-001", "materials"},
		{"material name", func(f *file) { m0(f).Materials[1].Name.En = "" }, 0, "aa-001", "materials[1].name.en"},
		{"material kind", func(f *file) { m0(f).Materials[0].Kind = "scan" }, 0, "aa-001", "materials[0].kind"},
		{"material copies at least 1", func(f *file) { m0(f).Materials[0].Copies = 0 }, 0, "aa-001", "materials[0].copies"},
		{"material copies at most 99", func(f *file) { m0(f).Materials[0].Copies = 100 }, 0, "aa-001", "materials[0].copies"},
		{"material note complete", func(f *file) { m0(f).Materials[1].Note.En = "" }, 0, "aa-001", "materials[1].note.en"},
		{"steps required", func(f *file) { m0(f).Steps = nil }, 0, "aa-001", "steps"},
		{"step text", func(f *file) { m0(f).Steps[1].En = "" }, 0, "aa-001", "steps[1].en"},
		{"legal days not negative", func(f *file) { m0(f).LegalDays = -1 }, 0, "aa-001", "legal_days"},
		{"legal days at most 365", func(f *file) { m0(f).LegalDays = 366 }, 0, "aa-001", "legal_days"},
		{"legal days 0 needs no_legal_limit", func(f *file) { m1(f).NoLegalLimit = false }, 1, "bb-001", "legal_days"},
		{"no_legal_limit contradicts legal days", func(f *file) { m0(f).NoLegalLimit = true; m0(f).LegalCalendarDays = false }, 0, "aa-001", "no_legal_limit"},
		{"calendar days without a limit", func(f *file) { m1(f).LegalCalendarDays = true }, 1, "bb-001", "legal_calendar_days"},
		{"promised not negative", func(f *file) { m0(f).PromisedDays = -3 }, 0, "aa-001", "promised_days"},
		{"promised within legal", func(f *file) { m0(f).PromisedDays = 61 }, 0, "aa-001", "promised_days"},
		{"immediate promises 0", func(f *file) { m1(f).PromisedDays = 1 }, 1, "bb-001", "promised_days"},
		{"0 only for immediate", func(f *file) { m0(f).PromisedDays = 0 }, 0, "aa-001", "promised_days"},
		{"fee free is only free", func(f *file) { m1(f).Fee.AmountFen = 100 }, 1, "bb-001", "fee"},
		{"fee required", func(f *file) { m1(f).Fee = Fee{} }, 1, "bb-001", "fee"},
		{"fee amount positive", func(f *file) { m0(f).Fee.AmountFen = -2000 }, 0, "aa-001", "fee.amount_fen"},
		{"fee standard required", func(f *file) { m0(f).Fee.Standard.Zh = "" }, 0, "aa-001", "fee.standard.zh"},
		{"template name", func(f *file) { m0(f).Templates[0].Name.Zh = "" }, 0, "aa-001", "templates[0].name.zh"},
		{"template blank required", func(f *file) { m0(f).Templates[0].Blank = "" }, 0, "aa-001", "templates[0].blank"},
		{"template blank bare name", func(f *file) { m0(f).Templates[0].Blank = "../etc/form.pdf" }, 0, "aa-001", "templates[0].blank"},
		{"template sample extension", func(f *file) { m0(f).Templates[0].Sample = "form.exe" }, 0, "aa-001", "templates[0].sample"},
		{"template sample differs", func(f *file) { m0(f).Templates[0].Sample = "form.pdf" }, 0, "aa-001", "templates[0].sample"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := baseFile()
			tc.mutate(f)
			c, err := Parse(encode(t, f))
			if err == nil {
				t.Fatal("accepted")
			}
			if c != nil {
				t.Error("returned a catalog with an error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) false for %v", err)
			}
			var es Errors
			if !errors.As(err, &es) || len(es) != 1 {
				t.Fatalf("want exactly one problem, got:\n%v", err)
			}
			e := es[0]
			if e.Index != tc.index || e.Matter != tc.matter || e.Field != tc.field {
				t.Errorf("got index %d matter %q field %q (%v); want %d %q %q", e.Index, e.Matter, e.Field, e, tc.index, tc.matter, tc.field)
			}
			if e.Reason == "" {
				t.Error("empty reason")
			}
		})
	}
}

// TestStructure covers the strictness that encoding/json alone does not give.
func TestStructure(t *testing.T) {
	good := string(encode(t, baseFile()))
	cases := []struct {
		name   string
		data   string
		index  int
		matter string
		field  string
		reason string // substring
	}{
		{"empty", "", -1, "", "", "empty"},
		{"only spaces", " \n\t ", -1, "", "", "empty"},
		{"not an object", `[1,2]`, -1, "", "", "expected an object"},
		{"null document", `null`, -1, "", "", "one JSON object"},
		{"number document", `42`, -1, "", "", "one JSON object"},
		{"invalid utf-8", "{\"version\":\"\xff\"}", -1, "", "", "UTF-8"},
		{"syntax error has a line", "{\n\"version\": \"x\",\n\"updated\" \"2025-01-01\"}", -1, "", "", "line 3"},
		{"truncated", `{"version": "x"`, -1, "", "", "unexpected end"},
		{"truncated in a matter", `{"matters": [{"id": "aa-001"`, 0, "", "", "unexpected end"},
		{"trailing data", good + ` {}`, -1, "", "", "after the catalog"},
		{"unknown top-level key", strings.Replace(good, `"version"`, `"versoin"`, 1), -1, "", "versoin", "unknown field"},
		{"keys are case-sensitive", strings.Replace(good, `"version"`, `"Version"`, 1), -1, "", "Version", "unknown field"},
		{"duplicate key", strings.Replace(good, `"version": "t-1"`, `"version": "t-1", "version": "t-2"`, 1), -1, "", "version", "duplicate key"},
		{"unknown key in a matter names it", strings.Replace(good, `"amount_fen"`, `"amount"`, 1), 0, "aa-001", "fee.amount", "unknown field"},
		{"duplicate key in a matter", strings.Replace(good, `"queue": "B"`, `"queue": "B", "queue": "C"`, 1), 1, "bb-001", "queue", "duplicate key"},
		{"string for an integer", strings.Replace(good, `"amount_fen": 2000`, `"amount_fen": "2000"`, 1), 0, "aa-001", "fee.amount_fen", "expected an integer"},
		{"fraction for an integer", strings.Replace(good, `"copies": 1`, `"copies": 1.5`, 1), 0, "aa-001", "materials[0].copies", "not an integer"},
		{"integer overflow", strings.Replace(good, `"legal_days": 60`, `"legal_days": 99999999999999999999`, 1), 0, "aa-001", "legal_days", "not an integer"},
		{"number for a string", strings.Replace(good, `"queue": "A"`, `"queue": 1`, 1), 0, "aa-001", "queue", "expected a string"},
		{"string for a list", patch(t, good, func(m0 map[string]any) { m0["steps"] = "take a ticket" }), 0, "aa-001", "steps", "expected an array, got a string"},
		{"object for a boolean", patch(t, good, func(m0 map[string]any) { m0["weekend"] = map[string]any{} }), 0, "aa-001", "weekend", "expected true or false, got an object"},
		{"list for an object", patch(t, good, func(m0 map[string]any) { m0["fee"] = []any{1} }), 0, "aa-001", "fee", "expected an object, got an array"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.data))
			if err == nil || c != nil {
				t.Fatalf("accepted: %v", err)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("not ErrInvalid: %v", err)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("no *Error in %v", err)
			}
			if e.Index != tc.index || e.Matter != tc.matter || e.Field != tc.field || !strings.Contains(e.Reason, tc.reason) {
				t.Errorf("got index %d matter %q field %q reason %q; want %d %q %q ~%q", e.Index, e.Matter, e.Field, e.Reason, tc.index, tc.matter, tc.field, tc.reason)
			}
		})
	}
}

// patch edits the first matter of a JSON catalog as generic data, for shapes no Go value has.
func patch(t *testing.T, doc string, edit func(m0 map[string]any)) string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatal(err)
	}
	edit(v["matters"].([]any)[0].(map[string]any))
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestInitialsSkipNonHan(t *testing.T) {
	f := baseFile()
	f.Matters[0].Name.Zh = "“5+2”居民身份证换领（A）"
	if _, err := Parse(encode(t, f)); err != nil {
		t.Fatalf("non-Han characters counted: %v", err)
	}
}

func TestTooDeep(t *testing.T) {
	deep := `{"matters": [{"x":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}]}`
	_, err := Parse([]byte(deep))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "nested too deeply") {
		t.Fatalf("got %v", err)
	}
}

func TestByteOrderMarkAccepted(t *testing.T) {
	if _, err := Parse(append([]byte("\xef\xbb\xbf"), encode(t, baseFile())...)); err != nil {
		t.Fatal(err)
	}
}

func TestAllProblemsInFileOrder(t *testing.T) {
	f := baseFile()
	f.Matters[1].Queue = "b"       // matter 1
	f.Matters[0].Fee.AmountFen = 0 // matter 0, later field
	f.Matters[0].Name.En = ""      // matter 0, earlier field
	f.Sections[0].Order = -1       // sections
	f.Updated = "yesterday"        // catalog
	_, err := Parse(encode(t, f))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("not Errors: %v", err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Matter+":"+e.Field)
	}
	want := []string{":updated", ":sections[0].order", "aa-001:name.en", "aa-001:fee.amount_fen", "bb-001:queue"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
	var first *Error
	if !errors.As(err, &first) || first.Field != "updated" {
		t.Errorf("errors.As found %v, want the first problem", first)
	}
	if n := strings.Count(err.Error(), "\n"); n != len(want)-1 {
		t.Errorf("Error() has %d lines, want one per problem:\n%v", n+1, err)
	}
}

func TestStructuralProblemsAllReported(t *testing.T) {
	good := string(encode(t, baseFile()))
	bad := strings.Replace(good, `"queue": "A"`, `"queue": "A", "colour": "red"`, 1)
	bad = strings.Replace(bad, `"queue": "B"`, `"queue": 2`, 1)
	_, err := Parse([]byte(bad))
	var es Errors
	if !errors.As(err, &es) || len(es) != 2 {
		t.Fatalf("want 2 problems, got %v", err)
	}
	if es[0].Matter != "aa-001" || es[0].Field != "colour" || es[1].Matter != "bb-001" || es[1].Field != "queue" {
		t.Errorf("got %v", err)
	}
}

func TestTooManyProblemsAreCapped(t *testing.T) {
	f := baseFile()
	for i := 0; i < 300; i++ {
		m := *f.Matters[1]
		m.ID = "" // each copy is broken several ways
		f.Matters = append(f.Matters, &m)
	}
	_, err := Parse(encode(t, f))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatal(err)
	}
	if len(es) != maxErrors+1 || !strings.Contains(es[maxErrors].Reason, "more problems") {
		t.Fatalf("got %d problems, last %v", len(es), es[len(es)-1])
	}
}

func TestErrorMessage(t *testing.T) {
	cases := []struct {
		e    *Error
		want string
	}{
		{&Error{Matter: "sb-001", Index: 3, Field: "fee.amount_fen", Reason: "must be > 0"}, "catalog: matter sb-001: fee.amount_fen: must be > 0"},
		{&Error{Index: 3, Field: "id", Reason: "required"}, "catalog: matters[3]: id: required"},
		{&Error{Index: -1, Field: "sections[0].order", Reason: "bad"}, "catalog: sections[0].order: bad"},
		{&Error{Index: -1, Reason: "empty file"}, "catalog: empty file"},
	}
	for _, tc := range cases {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("got %q want %q", got, tc.want)
		}
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, encode(t, baseFile()), 0o644); err != nil {
		t.Fatal(err)
	}
	if c, err := LoadFile(good); err != nil || c == nil {
		t.Fatalf("LoadFile: %v", err)
	}

	_, err := LoadFile(filepath.Join(dir, "missing.json"))
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrInvalid) {
		t.Errorf("missing file: %v", err)
	}

	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"version": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadFile(bad)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad file: %v", err)
	}

	huge := filepath.Join(dir, "huge.json")
	if err := os.WriteFile(huge, make([]byte, MaxFileSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(huge); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("huge file: %v", err)
	}
}
