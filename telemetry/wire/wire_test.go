package wire

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseTopic(t *testing.T) {
	cases := []struct {
		topic string
		want  Address
		ok    bool
	}{
		{"citizenhome/v1/h1/k01/state", Address{Kiosk: Kiosk{"h1", "k01"}, Kind: KindState}, true},
		{"citizenhome/v1/h1/k01/status", Address{Kiosk: Kiosk{"h1", "k01"}, Kind: KindStatus}, true},
		{"citizenhome/v1/h1/k01/alert/printer-paper-out", Address{Kiosk: Kiosk{"h1", "k01"}, Kind: KindAlert, Code: "printer-paper-out"}, true},
		{"citizenhome/v1/h1/k01/event", Address{Kiosk: Kiosk{"h1", "k01"}, Kind: KindEvent}, true},
		{"citizenhome/v1/h1/k01/reply", Address{Kiosk: Kiosk{"h1", "k01"}, Kind: KindReply}, true},
		{"citizenhome/v1/h1/k01/cmd", Address{Kiosk: Kiosk{"h1", "k01"}, Kind: KindCmd}, true},
		{"citizenhome/v1/h1/controller/state", Address{Kiosk: Kiosk{"h1", "controller"}, Kind: KindState}, true},
		{"citizenhome/v1/h1/controller/status", Address{}, false},
		{"citizenhome/v1/h1/k01/alert", Address{}, false},
		{"citizenhome/v1/h1/k01/alert/Bad", Address{}, false},
		{"citizenhome/v1/h1/k01/alert/a/b", Address{}, false},
		{"citizenhome/v1/h1/k01/state/x", Address{}, false},
		{"citizenhome/v1/H1/k01/state", Address{}, false},
		{"citizenhome/v2/h1/k01/state", Address{}, false},
		{"citizenhome/v1/h1/k01/other", Address{}, false},
		{"citizenhome/v1/h1/-k/state", Address{}, false},
		{"", Address{}, false},
	}
	for _, c := range cases {
		got, err := ParseTopic(c.topic)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseTopic(%q) = %+v, %v", c.topic, got, err)
		}
		if c.ok && !got.Controller() && c.want.Kind != KindAlert {
			if back := got.Kiosk.Topic(got.Kind); back != c.topic {
				t.Errorf("Topic round trip %q -> %q", c.topic, back)
			}
		}
	}
	k := Kiosk{"h1", "k01"}
	if k.ClientID() != "kiosk-h1-k01" || k.Topic(KindAlert, "x") != "citizenhome/v1/h1/k01/alert/x" || ControllerStateTopic("h1") != "citizenhome/v1/h1/controller/state" {
		t.Error("names")
	}
	for _, bad := range []Kiosk{{"h1", "controller"}, {"H", "k"}, {"h", ""}, {"h", strings.Repeat("a", 33)}} {
		if bad.Check() == nil {
			t.Errorf("Check(%+v) accepted", bad)
		}
	}
}

func TestParseCommand(t *testing.T) {
	exp := time.Now().Add(time.Minute).Format(time.RFC3339)
	ok := `{"id":"c1","name":"lock","args":{"message":"维护"},"expires":"` + exp + `","by":"ops"}`
	c, err := ParseCommand([]byte(ok))
	if err != nil || c.ID != "c1" || c.Name != "lock" || c.By != "ops" || string(c.Args) != `{"message":"维护"}` || c.Expires.IsZero() {
		t.Fatalf("ParseCommand(ok) = %+v, %v", c, err)
	}
	if c, err := ParseCommand([]byte(`{"id":"c2","name":"unlock","args":null,"expires":"` + exp + `","by":"o"}`)); err != nil || c.Args != nil {
		t.Errorf("null args: %+v %v", c, err)
	}
	bad := []struct {
		payload, id string
	}{
		{`not json`, ""},
		{`[]`, ""},
		{`null`, ""},
		{`{}`, ""},
		{`{"id":""}`, ""},
		{`{"id":5}`, ""},
		{`{"id":"` + strings.Repeat("x", 129) + `"}`, ""},
		{`{"id":"a\nb","name":"lock"}`, ""},
		{`{"id":"c","expires":"` + exp + `","by":"o"}`, "c"},
		{`{"id":"c","name":"lock","by":"o"}`, "c"},
		{`{"id":"c","name":"lock","expires":"tomorrow","by":"o"}`, "c"},
		{`{"id":"c","name":"lock","expires":"` + exp + `"}`, "c"},
		{`{"id":"c","name":"lock","expires":"` + exp + `","by":"o","args":[1]}`, "c"},
		{`{"id":"c","name":"lock","expires":"` + exp + `","by":"o","args":"x"}`, "c"},
	}
	for _, b := range bad {
		_, err := ParseCommand([]byte(b.payload))
		var ce *CommandError
		if !errors.As(err, &ce) || ce.Code != RefuseMalformed || ce.ID != b.id {
			t.Errorf("ParseCommand(%.60s) = %v (id %q), want malformed with id %q", b.payload, err, ceID(ce), b.id)
		}
		if !errors.Is(err, &CommandError{Code: RefuseMalformed}) {
			t.Errorf("errors.Is malformed failed for %.40s", b.payload)
		}
	}
	if _, err := ParseCommand(make([]byte, MaxPayloadLen+1)); err == nil {
		t.Error("oversized payload accepted")
	}
}

func ceID(ce *CommandError) string {
	if ce == nil {
		return ""
	}
	return ce.ID
}

func TestDecode(t *testing.T) {
	var s Status
	if err := Decode([]byte(" \n{\"boot\":3}"), &s); err != nil || s.Boot != 3 {
		t.Errorf("Decode: %+v %v", s, err)
	}
	for _, bad := range []string{"", "[]", "3", "null", `"x"`} {
		if Decode([]byte(bad), &s) == nil {
			t.Errorf("Decode(%q) accepted", bad)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	f.Add([]byte(`{"id":"c1","name":"lock","args":{"message":"维护"},"expires":"2026-11-26T09:00:00+08:00","by":"ops"}`))
	f.Add([]byte(`{"id":"c","name":"reprint","args":{"ticket":"A012","force":true},"expires":"2026-11-26T09:00:00Z","by":"o"}`))
	f.Add([]byte(`{"id":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCommand(b)
		if err != nil {
			var ce *CommandError
			if !errors.As(err, &ce) || ce.Code != RefuseMalformed {
				t.Fatalf("error %v is not a malformed CommandError", err)
			}
			return
		}
		if c.ID == "" || c.Name == "" || c.By == "" || c.Expires.IsZero() {
			t.Fatalf("accepted an incomplete command %+v", c)
		}
	})
}

func FuzzParseTopic(f *testing.F) {
	f.Add("citizenhome/v1/h1/k01/alert/printer-paper-out")
	f.Add("citizenhome/v1/h1/controller/state")
	f.Add("citizenhome/v1/h1/k01/cmd")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseTopic(s)
		if err != nil {
			return
		}
		if !ValidName(a.Hall) || !ValidName(a.Kiosk.Kiosk) {
			t.Fatalf("accepted bad ids in %q", s)
		}
		want := a.Kiosk.Topic(a.Kind)
		if a.Code != "" {
			want = a.Kiosk.Topic(a.Kind, a.Code)
		}
		if want != s {
			t.Fatalf("%q parsed to %+v, which names %q", s, a, want)
		}
	})
}

// The event types this package declares are the contract's: each Event* constant is listed in
// spec/telemetry.md (but the one for tests), and each type listed there is a constant here.
func TestEventTypesAreTheContracts(t *testing.T) {
	declared := eventConstants(t)
	if len(declared) < 10 || declared["EventTicketIssued"] != EventTicketIssued {
		t.Fatalf("found %d event constants in wire.go (%v): the parsing is broken", len(declared), declared)
	}
	spec := filepath.Join("..", "..", "..", "shared", "spec", "telemetry.md")
	b, err := os.ReadFile(spec)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s: the contracts are not beside the module here", spec)
	}
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)`event` types \\(at least\\):(.*?)\\.\\s").FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s: no list of event types (\"`event` types (at least): ...\")", spec)
	}
	listed := map[string]bool{}
	for _, n := range regexp.MustCompile("`([a-z-]+\\.[a-z-]+)`").FindAllSubmatch(m[1], -1) {
		listed[string(n[1])] = true
	}
	if len(listed) < 10 {
		t.Fatalf("%s lists %d event types: the parsing is broken", spec, len(listed))
	}
	values := map[string]bool{}
	for name, v := range declared {
		values[v] = true
		if !listed[v] && v != EventTelemetryTestEvent {
			t.Errorf("%s = %q is not an event type of the contract", name, v)
		}
	}
	for v := range listed {
		if !values[v] {
			t.Errorf("the contract's event type %q has no Event constant", v)
		}
	}
}

// eventConstants reads the string constants named Event* that wire.go declares, by name.
func eventConstants(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "wire.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !strings.HasPrefix(n.Name, "Event") || !ok || lit.Kind != token.STRING {
					continue
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				out[n.Name] = v
			}
		}
	}
	return out
}
