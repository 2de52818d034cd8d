package speaker

import (
	"fmt"
	"strings"
)

// Code names a kind of speaker error. The values are stable kebab-case words, fit for logs and
// health reports.
type Code string

// Error codes.
const (
	CodeNoDevice      Code = "no-device"      // ALSA knows no such PCM, or no sound card is there
	CodeBusy          Code = "device-busy"    // another program holds the sound card
	CodePlayerMissing Code = "player-missing" // aplay (alsa-utils) is not installed
	CodePlayer        Code = "player-failed"  // aplay failed otherwise, or could not be started
	CodeInterrupted   Code = "interrupted"    // a newer sound, or Close, cut this one short
	CodeInvalid       Code = "invalid"        // a sample rate outside MinRate..MaxRate
)

// Error is every error the package returns. errors.Is(err, ErrNoDevice) and the like match on
// Code alone.
type Error struct {
	Code   Code
	Device string // the ALSA PCM name, empty when the error is about none
	Detail string // what went wrong, for people (aplay's own message when it gave one)
}

// Error formats as `speaker: "default": no-device: audio open error: No such file or directory`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("speaker: ")
	if e.Device != "" {
		fmt.Fprintf(&b, "%q: ", e.Device)
	}
	b.WriteString(string(e.Code))
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	return b.String()
}

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is; never returned themselves.
var (
	ErrNoDevice      = &Error{Code: CodeNoDevice}
	ErrBusy          = &Error{Code: CodeBusy}
	ErrPlayerMissing = &Error{Code: CodePlayerMissing}
	ErrPlayer        = &Error{Code: CodePlayer}
	ErrInterrupted   = &Error{Code: CodeInterrupted}
	ErrInvalid       = &Error{Code: CodeInvalid}
)

// classify names the failure from what aplay wrote to stderr: ALSA's messages are stable across
// versions ("Unknown PCM", "cannot find card", strerror's ENOENT and EBUSY texts).
func classify(device, stderr string, err error) *Error {
	msg := strings.TrimSpace(stderr)
	last := msg
	if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
		last = msg[i+1:]
	}
	if len(last) > 200 {
		last = last[:200]
	}
	code := CodePlayer
	switch {
	case strings.Contains(msg, "Device or resource busy"):
		code = CodeBusy
	case strings.Contains(msg, "Unknown PCM"), strings.Contains(msg, "cannot find card"),
		strings.Contains(msg, "audio open error: No such file or directory"),
		strings.Contains(msg, "audio open error: No such device"):
		code = CodeNoDevice
	}
	if last == "" && err != nil {
		last = err.Error()
	}
	return &Error{Code: code, Device: device, Detail: last}
}
