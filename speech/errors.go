package speech

import (
	"fmt"
	"strings"
)

// Code names a kind of speech error. The values are stable kebab-case words, fit for logs and the
// HTTP API's {"error": {"code": ...}} objects.
type Code string

// Error codes.
const (
	CodeNotWAV      Code = "not-wav"      // the bytes do not start with a RIFF/WAVE header
	CodeTruncated   Code = "truncated"    // a chunk or the samples end before their declared size
	CodeCorrupt     Code = "corrupt"      // the header contradicts itself (fmt sizes, block align)
	CodeUnsupported Code = "unsupported"  // a valid WAV this package does not read (float, 24-bit, 6 channels)
	CodeTooLarge    Code = "too-large"    // a clip file over MaxClipBytes
	CodeSilent      Code = "silent"       // a clip with no sound above the silence threshold
	CodeMissingClip Code = "missing-clip" // no folder holds a clip a sentence needs
	CodeUnspeakable Code = "unspeakable"  // a sentence holds a word or character no clip says
	CodeInvalid     Code = "invalid"      // an empty sentence or argument, an unknown language
	CodeNoEngine    Code = "no-engine"    // espeak-ng is not installed
	CodeSynthesis   Code = "synthesis"    // espeak-ng failed or wrote an unusable clip
)

// Error is every error the package (and the packages that compose sentences with it) returns
// about audio, clips and sentences (file system
// failures other than a missing clip are returned wrapped as they come). errors.Is(err,
// ErrTruncated) and the like match on Code alone; errors.As gives the clip and file at fault.
type Error struct {
	Code Code
	// Clip is the clip's name ("zh/qing"), empty when the error is about no one clip.
	Clip string
	// Path is the file at fault, empty when there is none (a clip missing everywhere).
	Path string
	// Detail says what was wrong, for people.
	Detail string
}

// Error formats as "speech: zh/qing (/srv/clips/zh/qing.wav): truncated: data chunk claims ...".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("speech: ")
	where := e.Clip
	if e.Path != "" {
		where = strings.TrimSpace(where + " (" + e.Path + ")")
	}
	if where != "" {
		b.WriteString(where + ": ")
	}
	b.WriteString(string(e.Code))
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Is reports whether target is an *Error with the same Code, so the sentinels below match any
// error of their code whatever its clip, path and detail.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is. They are never returned themselves.
var (
	ErrNotWAV      = &Error{Code: CodeNotWAV}
	ErrTruncated   = &Error{Code: CodeTruncated}
	ErrCorrupt     = &Error{Code: CodeCorrupt}
	ErrUnsupported = &Error{Code: CodeUnsupported}
	ErrTooLarge    = &Error{Code: CodeTooLarge}
	ErrSilent      = &Error{Code: CodeSilent}
	ErrMissingClip = &Error{Code: CodeMissingClip}
	ErrUnspeakable = &Error{Code: CodeUnspeakable}
	ErrInvalid     = &Error{Code: CodeInvalid}
	ErrNoEngine    = &Error{Code: CodeNoEngine}
	ErrSynthesis   = &Error{Code: CodeSynthesis}
)

// Errorf is an *Error of code c with a formatted detail, for the packages composing sentences.
func Errorf(c Code, format string, args ...any) *Error {
	return errf(c, format, args...)
}

func errf(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Detail: fmt.Sprintf(format, args...)}
}

// at fills in the clip and file an error is about, when err is one of ours without them.
func at(err error, clip, path string) error {
	if e, ok := err.(*Error); ok {
		c := *e
		if c.Clip == "" {
			c.Clip = clip
		}
		if c.Path == "" {
			c.Path = path
		}
		return &c
	}
	return err
}
