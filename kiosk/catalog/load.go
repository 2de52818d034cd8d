package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// MaxFileSize is the largest catalog file LoadFile reads. A real catalog of a few hundred
// matters is well under 1 MiB; anything near this is not a catalog.
const MaxFileSize = 16 << 20

// maxDepth bounds nesting; the schema itself is 5 levels deep.
const maxDepth = 32

// Parse decodes and validates a catalog file.
//
// Decoding is strict where encoding/json is lenient: the data must be valid UTF-8 (a leading
// UTF-8 byte-order mark is skipped, as Windows editors write one) holding exactly one JSON object;
// keys are matched case-sensitively; unknown keys, duplicate keys, values of the wrong JSON type,
// non-integer or out-of-range numbers and data after the object are errors. A file with such
// structural problems reports all of them and is not validated further; a well-formed file is then
// checked against every rule (see Matter) and all broken rules are reported.
//
// The error is Errors (errors.Is(err, ErrInvalid); errors.As to *Error gives the first problem in
// file order). On error the returned catalog is nil.
func Parse(data []byte) (*Catalog, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, Errors{{Index: -1, Reason: "not valid UTF-8"}}
	}
	if errs := checkStructure(data); len(errs) > 0 {
		nameMatters(data, errs)
		return nil, errs
	}
	var f file
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		// checkStructure accepts only what decodes; reaching here is a bug in it, but a bad
		// file must still be an error and never a half-filled catalog.
		return nil, Errors{{Index: -1, Reason: err.Error()}}
	}
	if err := validate(&f); err != nil {
		return nil, err
	}
	return build(f), nil
}

// LoadFile reads and parses the catalog at path. Besides Parse's errors it returns the error of
// os.Open or a read (not ErrInvalid; fs.ErrNotExist for a missing file) and rejects files larger
// than MaxFileSize with ErrInvalid. Every error names the path.
func LoadFile(path string) (*Catalog, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("catalog %s: %w", path, Errors{{Index: -1, Reason: fmt.Sprintf("larger than %d bytes", MaxFileSize)}})
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", path, err)
	}
	return c, nil
}

// frame is one open object or array during the structural walk.
type frame struct {
	typ     reflect.Type // expected Go type of this container; nil inside an unknown field
	obj     bool
	wantKey bool
	key     string          // current key (objects)
	idx     int             // index of the current element (arrays)
	keys    map[string]bool // keys seen (objects)
}

// checkStructure walks the JSON tokens and checks them against the Go types of file: it is what
// makes decoding strict, and it reports every problem with its path rather than only the first.
func checkStructure(data []byte) Errors {
	var errs Errors
	fail := func(path []string, reason string) {
		if len(errs) < maxErrors {
			idx, field := locate(path)
			errs = append(errs, &Error{Index: idx, Field: field, Reason: reason})
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*frame
	top := reflect.TypeOf(file{})
	started, done := false, false

	// path returns the location of the value being read, or of key in the innermost object.
	path := func(key string) []string {
		var p []string
		for i, fr := range stack {
			switch {
			case !fr.obj:
				p = append(p, "["+strconv.Itoa(fr.idx)+"]")
			case key != "" && i == len(stack)-1:
				p = append(p, key) // a new key replaces the previous one
			default:
				p = append(p, fr.key)
			}
		}
		return p
	}
	// expected returns the type wanted for the value being read.
	expected := func() reflect.Type {
		if len(stack) == 0 {
			return top
		}
		fr := stack[len(stack)-1]
		if fr.typ == nil {
			return nil
		}
		if fr.obj {
			return fieldType(fr.typ, fr.key)
		}
		return deref(fr.typ.Elem())
	}
	valueDone := func() {
		if len(stack) == 0 {
			done = true
			return
		}
		fr := stack[len(stack)-1]
		if fr.obj {
			fr.wantKey = true
		} else {
			fr.idx++
		}
	}

	for {
		tok, err := dec.Token()
		if err == io.EOF {
			switch {
			case !started:
				fail(nil, "empty file")
			case len(stack) > 0:
				idx, _ := locate(path("")) // name the matter, not the last key read
				errs = append(errs, &Error{Index: idx, Reason: "unexpected end of file: an object or array is not closed"})
			}
			return errs
		}
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				line, col := position(data, se.Offset)
				fail(nil, fmt.Sprintf("line %d column %d: %s", line, col, se.Error()))
			} else {
				fail(nil, "unexpected end of file: "+err.Error())
			}
			return errs
		}
		if done {
			fail(nil, "data after the catalog object")
			return errs
		}
		started = true

		if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].wantKey {
			fr := stack[n-1]
			if tok == json.Delim('}') {
				stack = stack[:n-1]
				valueDone()
				continue
			}
			key, _ := tok.(string) // the decoder guarantees a string here
			switch {
			case fr.keys[key]:
				fail(path(key), "duplicate key")
			case fr.typ != nil && fieldType(fr.typ, key) == nil:
				fail(path(key), "unknown field")
			}
			fr.keys[key] = true
			fr.key, fr.wantKey = key, false
			continue
		}

		want := expected()
		switch tok {
		case json.Delim('{'), json.Delim('['):
			obj := tok == json.Delim('{')
			if len(stack) >= maxDepth {
				fail(path(""), "nested too deeply")
				return errs
			}
			if want != nil {
				okKind := (obj && want.Kind() == reflect.Struct) || (!obj && want.Kind() == reflect.Slice)
				if !okKind {
					fail(path(""), "expected "+kindName(want)+", got "+map[bool]string{true: "an object", false: "an array"}[obj])
					want = nil // do not check inside a value of the wrong shape
				}
			}
			stack = append(stack, &frame{typ: want, obj: obj, wantKey: obj, keys: map[string]bool{}})
			continue
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
			continue
		}
		if len(stack) == 0 {
			fail(nil, "the file must be one JSON object")
			return errs
		}
		if want != nil {
			if reason := scalarMismatch(want, tok); reason != "" {
				fail(path(""), reason)
			}
		}
		valueDone()
	}
}

// scalarMismatch says why tok cannot be decoded into t, or "" if it can. JSON null is accepted
// anywhere: it leaves the zero value, which validation then judges.
func scalarMismatch(t reflect.Type, tok json.Token) string {
	switch v := tok.(type) {
	case nil:
		return ""
	case string:
		if t.Kind() == reflect.String {
			return ""
		}
		return "expected " + kindName(t) + ", got a string"
	case bool:
		if t.Kind() == reflect.Bool {
			return ""
		}
		return "expected " + kindName(t) + ", got a boolean"
	case json.Number:
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil || reflect.Zero(t).OverflowInt(n) {
				return fmt.Sprintf("%s is not an integer in range", v)
			}
			return ""
		}
		return "expected " + kindName(t) + ", got a number"
	}
	return "unexpected token"
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct:
		return "an object"
	case reflect.Slice:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	default:
		return "an integer"
	}
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// fieldType returns the type of the field of struct t whose JSON name is exactly key, or nil.
func fieldType(t reflect.Type, key string) reflect.Type {
	m, ok := fieldCache.Load(t)
	if !ok {
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.IsExported() && name != "" && name != "-" {
				fields[name] = deref(f.Type)
			}
		}
		m, _ = fieldCache.LoadOrStore(t, fields)
	}
	return m.(map[string]reflect.Type)[key]
}

// locate splits a path into the matter index and the field relative to that matter.
func locate(path []string) (int, string) {
	if len(path) >= 2 && path[0] == "matters" && strings.HasPrefix(path[1], "[") {
		if i, err := strconv.Atoi(strings.Trim(path[1], "[]")); err == nil {
			return i, joinPath(path[2:])
		}
	}
	return -1, joinPath(path)
}

func joinPath(path []string) string {
	var b strings.Builder
	for _, p := range path {
		if b.Len() > 0 && !strings.HasPrefix(p, "[") {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

// nameMatters fills Error.Matter for structural errors from whatever ids can still be read, so
// that a technician sees "matter sb-003" rather than "matters[7]".
func nameMatters(data []byte, errs Errors) {
	var ids struct {
		Matters []struct {
			ID any `json:"id"`
		} `json:"matters"`
	}
	_ = json.Unmarshal(data, &ids) // best effort: fills what it can before any error
	for _, e := range errs {
		if e.Index >= 0 && e.Index < len(ids.Matters) {
			if id, ok := ids.Matters[e.Index].ID.(string); ok && matterIDRe.MatchString(id) {
				e.Matter = id
			}
		}
	}
}

// position converts a byte offset to a 1-based line and column (in bytes).
func position(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}
