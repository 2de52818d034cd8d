package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"citizenhome/hall/access"
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
