package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"testing"
	"time"

	"citizenhome/hall/access"
	"citizenhome/hall/followup"
)

var bodySeeds = []string{
	`{"code":"A012","reason":"appointment"}`, `{"category":"B"}`, `{"reason":"lunch"}`, `{}`, ``, ` `,
	`null`, `[]`, `{"code":1}`, `{"code":"A012"} {}`, `{"code":"A012"`, `{"a":{"b":[1,2,{"c":null}]}}`,
	"{\"reason\":\"\xff\xfe\"}", `{"code":"A\u0000"}`, `{"CODE":"a012","Reason":"x"}`, `{"code":"A012","code":"B001"}`,
}

// Every request body decoder: any bytes give either a decoded value from exactly one JSON
// object, or a 400/413 refusal; never a panic, never a value from something else.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range bodySeeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, b []byte, optional bool) {
		for _, v := range []any{&callBody{}, &transferBody{}, &pauseBody{}} {
			err := decodeBody(bytes.NewReader(b), v, optional)
			trimmed := bytes.TrimSpace(b)
			if err != nil {
				be, ok := err.(*bodyError)
				if !ok || (be.status != 400 && be.status != 413) || be.code == "" || be.msg == "" {
					t.Fatalf("%q: error %#v", b, err)
				}
				continue
			}
			if len(trimmed) == 0 {
				if !optional {
					t.Fatalf("%q: an empty body accepted where one is required", b)
				}
				continue
			}
			if trimmed[0] != '{' || !json.Valid(trimmed) {
				t.Fatalf("%q: accepted something that is not one JSON object", b)
			}
		}
	})
}

// The window routes that take a body, end to end: any body gets a JSON answer with a known
// status, and a refusal has an error code.
func FuzzWindowBodies(f *testing.F) {
	for _, s := range bodySeeds {
		f.Add("call", s)
		f.Add("transfer", s)
		f.Add("pause", s)
	}
	h := newHarness(f) // one server for every input
	tok := h.tokens[access.Counter]
	h.q.add("A012", "LA012XXXXX", false)
	f.Fuzz(func(t *testing.T, action, body string) {
		if action != "call" && action != "transfer" && action != "pause" {
			action = "call"
		}
		req := httptest.NewRequest("POST", "/v1/windows/2/"+action, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
		case 400, 404, 409, 413:
			var m struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || m.Error.Code == "" {
				t.Fatalf("%s %q: %d %q", action, body, rec.Code, rec.Body)
			}
		default:
			t.Fatalf("%s %q: status %d %q", action, body, rec.Code, rec.Body)
		}
		// Whatever was done, put the window back for the next input.
		h.q.mu.Lock()
		for _, tk := range h.q.tickets {
			tk.State, tk.Window, tk.Category = "waiting", "", tk.Code[:1]
		}
		h.q.windows["2"].Serving, h.q.windows["2"].State = "", "open"
		h.q.mu.Unlock()
	})
}

// The public complaint routes, for any number typed or put in the path: the one complaint kept
// is found by its number's forms only; anything else is 400 or 404 (with an error code in JSON,
// the not-found page in HTML), never a 500, and what was typed is never echoed unescaped.
func FuzzPublicComplaint(f *testing.F) {
	for _, s := range []string{testComplaint, "ts 20261207 k7q2m9", "TS2O261207K7Q2M9", "", " ", "A012", "TS", "<script>",
		"TS20261207K7Q2M9/../x", "%", "TS20261207K7Q2M9\x00", "ＴＳ20261207K7Q2M9", "TS20260230K7Q2M9", "?number=x"} {
		f.Add(s)
	}
	h := newOrdersHarness(f, day.Add(3*time.Hour))
	h.complaint(testComplaint, "社保")
	h.srv.public = newLimiter(RateLimit{PerMinute: 1 << 30, Burst: 1 << 30}, time.Now) // the limit is tested apart
	f.Fuzz(func(t *testing.T, s string) {
		want, err := followup.ComplaintNumber(s)
		found := err == nil && want == testComplaint
		get := func(target string) *httptest.ResponseRecorder {
			req := httptest.NewRequest("GET", "/", nil)
			req.URL.Path, req.URL.RawPath, req.RequestURI = "", "", ""
			u, perr := url.Parse(target)
			if perr != nil {
				t.Fatalf("%q: %v", target, perr)
			}
			req.URL = u
			rec := httptest.NewRecorder()
			h.srv.ServeHTTP(rec, req)
			return rec
		}
		seg := url.PathEscape(s)
		if s == "" || path.Clean("/c/"+s) != "/c/"+s {
			return // /c/ is no route of a number; an unclean path ("/", "..") is redirected before routing
		}
		rec := get("/v1/public/complaints/" + seg)
		switch {
		case found && rec.Code == http.StatusOK:
			var m map[string]any
			if json.Unmarshal(rec.Body.Bytes(), &m) != nil || m["number"] != testComplaint {
				t.Fatalf("%q: %s", s, rec.Body)
			}
		case !found && (rec.Code == http.StatusBadRequest || rec.Code == http.StatusNotFound):
			var m struct {
				Error struct{ Code, Message string }
			}
			if json.Unmarshal(rec.Body.Bytes(), &m) != nil || m.Error.Code == "" || m.Error.Message != noComplaint {
				t.Fatalf("%q: %d %s", s, rec.Code, rec.Body)
			}
		default:
			t.Fatalf("%q (found %v): JSON %d %s", s, found, rec.Code, rec.Body)
		}
		rec = get("/c/" + seg)
		if found && rec.Code != http.StatusOK || !found && rec.Code != http.StatusNotFound {
			t.Fatalf("%q (found %v): page %d", s, found, rec.Code)
		}
		rec = get("/c?number=" + url.QueryEscape(s))
		switch rec.Code {
		case http.StatusOK: // nothing typed but spaces: the form
			if strings.TrimSpace(s) != "" {
				t.Fatalf("%q: the empty form", s)
			}
		case http.StatusSeeOther:
			if err != nil || rec.Header().Get("Location") != "/c/"+want {
				t.Fatalf("%q: to %q", s, rec.Header().Get("Location"))
			}
		case http.StatusNotFound:
			if err == nil {
				t.Fatalf("%q is a number, yet not found", s)
			}
		default:
			t.Fatalf("%q: the form %d", s, rec.Code)
		}
		// The not-found page gives the number back in its form's field, escaped.
		if typed := strings.TrimSpace(s); strings.ContainsAny(typed, "<>\"'") && strings.Contains(rec.Body.String(), `value="`+typed) {
			t.Fatalf("%q is echoed unescaped", s)
		}
	})
}
