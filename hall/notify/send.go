package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"citizenhome/hall/history"
)

// permanent are the robots' errcodes that a retry cannot mend; every other non-zero errcode
// (rate limits such as WeCom's 45009 or DingTalk's 130101, internal errors) is retried.
var permanent = map[Kind]map[int]bool{
	// 93000: invalid webhook URL (a wrong or deleted key); 40008: invalid message type;
	// 40058: invalid parameter (a content the robot will never take).
	WeCom: {93000: true, 40008: true, 40058: true},
	// 300001 and 300005: no such access token; 310000: the security settings refused the
	// message (a wrong signing secret, a missing keyword, an address not allowed); 400013: the
	// group was dissolved.
	DingTalk: {300001: true, 300005: true, 310000: true, 400013: true},
}

// Answer is a robot's answer to a message.
type Answer struct {
	Errcode int    `json:"errcode"`
	Errmsg  string `json:"errmsg"`
}

// maxAnswer bounds how much of an answer is read: a robot's is a few dozen bytes.
const maxAnswer = 64 << 10

// ParseAnswer reads a robot's answer body. It fails for anything that is not a JSON object
// with an integer errcode (an HTML page of a proxy, an empty body): a robot always sends one.
func ParseAnswer(body []byte) (Answer, error) {
	var raw struct {
		Errcode json.RawMessage `json:"errcode"`
		Errmsg  string          `json:"errmsg"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return Answer{}, fmt.Errorf("not a robot's answer: %w", err)
	}
	if raw.Errcode == nil {
		return Answer{}, errors.New("not a robot's answer: no errcode")
	}
	// An integer literal only: not "0" in quotes, 0.5 or 1e3.
	code, err := strconv.Atoi(string(raw.Errcode))
	if err != nil {
		return Answer{}, fmt.Errorf("not a robot's answer: errcode %.20q", raw.Errcode)
	}
	return Answer{Errcode: code, Errmsg: raw.Errmsg}, nil
}

// Sign returns the query parameters of a DingTalk robot's signed request at ms (milliseconds
// since the epoch): timestamp, and sign = the URL-encoded base64 of HMAC-SHA256(secret,
// timestamp + "\n" + secret).
func Sign(secret string, ms int64) (timestamp, sign string) {
	ts := strconv.FormatInt(ms, 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "\n" + secret))
	return ts, url.QueryEscape(base64.StdEncoding.EncodeToString(m.Sum(nil)))
}

// payload returns the body c's receiver takes for the message.
func (n *Notifier) payload(c channel, phase string, a history.Alert, now time.Time) ([]byte, error) {
	m := n.message(phase, a, now)
	switch c.Kind {
	case WeCom:
		if c.Text {
			return json.Marshal(map[string]any{"msgtype": "text", "text": map[string]string{"content": m.text}})
		}
		return json.Marshal(map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": m.markdown}})
	case DingTalk:
		if c.Text {
			return json.Marshal(map[string]any{"msgtype": "text", "text": map[string]string{"content": m.text}})
		}
		return json.Marshal(map[string]any{"msgtype": "markdown", "markdown": map[string]string{"title": m.title, "text": m.markdown}})
	}
	return json.Marshal(jsonMessage{Event: phase, Hall: n.o.Hall, Kiosk: a.Kiosk, Alert: a, Name: m.name,
		DurationS: int64(m.lasted / time.Second), Text: m.text, URL: m.link, SentAt: now.In(n.o.Hours.Location())})
}

// jsonMessage is the plain JSON channel's body (package documentation).
type jsonMessage struct {
	Event     string        `json:"event"`
	Hall      string        `json:"hall"`
	Kiosk     string        `json:"kiosk"`
	Alert     history.Alert `json:"alert"`
	Name      string        `json:"name"`
	DurationS int64         `json:"duration_s"`
	Text      string        `json:"text"`
	URL       string        `json:"url,omitempty"`
	SentAt    time.Time     `json:"sent_at"`
}

// send posts one message to c. Errors: ErrRefused (a 4xx other than 408 and 429, a permanent
// errcode), ErrTemporary (anything else: no answer, a timeout, a 5xx, a retryable errcode, an
// answer that is not a robot's).
func (n *Notifier) send(ctx context.Context, c channel, phase string, a history.Alert, now time.Time) error {
	body, err := n.payload(c, phase, a, now)
	if err != nil {
		return &Error{Code: ErrRefused.Code, Channel: c.Name, Msg: "encoding the message", Err: err}
	}
	target := c.URL
	if c.Kind == DingTalk && c.Secret != "" {
		ts, sig := Sign(c.Secret, now.UnixMilli())
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + "timestamp=" + ts + "&sign=" + sig
	}
	ctx, cancel := context.WithTimeout(ctx, n.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return &Error{Code: ErrRefused.Code, Channel: c.Name, Msg: "building the request", Err: err}
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := n.o.Client.Do(req)
	if err != nil {
		// The URL carries the robot's key: say what failed without it.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &Error{Code: ErrTemporary.Code, Channel: c.Name, Msg: "no answer", Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		code := ErrTemporary.Code
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
			code = ErrRefused.Code
		}
		return &Error{Code: code, Channel: c.Name, Status: resp.StatusCode, Msg: "HTTP " + resp.Status}
	}
	if c.Kind == JSON {
		return nil
	}
	if err != nil {
		return &Error{Code: ErrTemporary.Code, Channel: c.Name, Status: resp.StatusCode, Msg: "reading the answer", Err: err}
	}
	ans, err := ParseAnswer(raw)
	if err != nil {
		return &Error{Code: ErrTemporary.Code, Channel: c.Name, Status: resp.StatusCode, Msg: "the answer", Err: err}
	}
	if ans.Errcode != 0 {
		code := ErrTemporary.Code
		if permanent[c.Kind][ans.Errcode] {
			code = ErrRefused.Code
		}
		return &Error{Code: code, Channel: c.Name, Status: resp.StatusCode, Errcode: ans.Errcode,
			Msg: fmt.Sprintf("errcode %d (%s)", ans.Errcode, trim(ans.Errmsg, 120))}
	}
	return nil
}
