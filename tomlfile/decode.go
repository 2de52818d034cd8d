package tomlfile

import (
	"cmp"
	"encoding"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// The file is read in two steps so that one mistake does not hide the next: go-toml reads the
// document into plain maps (that step stops at a syntax error or a key defined twice, which leave
// nothing sound to go on), then decodeTable walks those maps against the struct and notes every
// unknown key and every value of the wrong type, each under its own key and line, before the
// caller validates the values that did decode.

// Options is what the messages of one kind of file say that the struct's tags do not.
type Options struct {
	// Defaults is the configuration an empty file gives (a struct of the decoded type, not a
	// pointer): a key's example is its default unless Examples has one.
	Defaults any
	// Examples are values written the way the file wants them, by key without indexes
	// ("queue.category.letter"), for keys whose default shows nothing useful (an empty text or
	// list), and, for an array of tables, the words that describe it ("[[window]] tables, each
	// with id and categories").
	Examples map[string]string
	// Reference is the documented example file named for an unknown key in a table with no
	// known key near it: "every key of [mqtt] is in Reference".
	Reference string
	// DurationLike are the examples of a duration a message gives: `"45m", "30s" or "800ms"`.
	// Empty: `"60s", "5m" or "1h30m"`.
	DurationLike string
	// Entries name the entry of an array of tables a problem is in (Problem.Where) by one of its
	// keys: {"window": "id"} gives `id "3"`. An entry whose key is missing, not a text, or longer
	// than EntryMax (16 when 0) is named by its place: "window 2 of 5".
	Entries  map[string]string
	EntryMax int
	// ListHeaders words a table in an array of tables the way the file writes its header,
	// [[window]]. False words it as a plain table with its index, [queue.category[0]] (and the
	// array [queue.category]): the kiosk's wording since its first release.
	ListHeaders bool
	// Hint, if set, is asked first for the hint that follows a value of the wrong kind: t is the
	// field's type and x the value as go-toml read it. "" leaves the hint to the package.
	Hint func(t reflect.Type, x any) string
}

// File is a document being read: where its keys stand, and its problems so far.
type File struct {
	// Lines are the document's keys and their lines.
	Lines Lines
	name  string
	doc   map[string]any
	root  reflect.Type
	opts  *Options
	list  []*Problem
}

// Decode reads data over v, a pointer to a struct that holds the defaults: a key of the file
// replaces its default, a list replaces the default list whole, and each table of an array of
// tables starts from zero values. name is the file's name for the problems ("" for none); o may
// be nil.
//
// readable is false when data has a syntax error or defines a key twice: that is then the only
// problem and v is untouched. Otherwise every unknown key, every value of the wrong type and
// every text its type refuses is a problem, and every field the file sets correctly is set in v
// (a field whose value was wrong keeps its default). Decode panics if v is not a pointer to a
// struct: a programming error.
func Decode(name string, data []byte, v any, o *Options) (f *File, readable bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("tomlfile: Decode needs a pointer to a struct, not %T", v))
	}
	if o == nil {
		o = &Options{}
	}
	f = &File{name: name, root: rv.Elem().Type(), opts: o}
	lines, err := KeyLines(data)
	f.Lines = lines
	if err != nil {
		f.list = append(f.list, err.(*Problem))
		return f, false
	}
	if err := toml.Unmarshal(data, &f.doc); err != nil {
		e := &Problem{Msg: err.Error()}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			e.Line, _ = de.Position()
			e.Key = lines.keyAt(e.Line, strings.Join(de.Key(), "."))
			first, _, _ := strings.Cut(de.Error(), "\n")
			e.Msg = strings.TrimPrefix(first, "toml: ")
		}
		f.list = append(f.list, e)
		return f, false
	}
	f.decodeTable(rv.Elem(), f.doc, "")
	return f, true
}

// Add notes the problem of key, unless key or a table above it already has one: a value that
// failed to decode keeps its default, and what validation would say of that default is noise.
// The line is the key's (or, for a key the file does not write, the nearest one above it).
func (f *File) Add(key, format string, args ...any) {
	if f.Has(key) {
		return
	}
	f.list = append(f.list, &Problem{File: f.name, Key: key, Line: f.Lines.Line(key), Msg: fmt.Sprintf(format, args...)})
}

// Has reports whether key, or a table above it, has a problem already.
func (f *File) Has(key string) bool {
	for _, e := range f.list {
		if e.Key == key || strings.HasPrefix(key, e.Key+".") || strings.HasPrefix(key, e.Key+"[") {
			return true
		}
	}
	return false
}

// Problems are the problems noted so far in the order of their lines, those with no line last,
// each with its entry (Options.Entries); nil when there are none.
func (f *File) Problems() []Problem {
	if len(f.list) == 0 {
		return nil
	}
	out := make([]Problem, len(f.list))
	for i, e := range f.list {
		out[i] = *e
		out[i].File = f.name
		out[i].Where = f.where(e.Key)
	}
	slices.SortStableFunc(out, func(a, b Problem) int {
		la, lb := a.Line, b.Line
		if la == 0 {
			la = math.MaxInt
		}
		if lb == 0 {
			lb = math.MaxInt
		}
		return cmp.Or(cmp.Compare(la, lb), cmp.Compare(a.Key, b.Key))
	})
	return out
}

// decodeTable sets the fields of the struct v from m, the table at key (empty for the document).
func (f *File) decodeTable(v reflect.Value, m map[string]any, key string) {
	for _, name := range slices.Sorted(maps.Keys(m)) {
		sub := join(key, name)
		field, ok := fieldByTag(v.Type(), name)
		if !ok {
			f.Add(sub, "%s", f.unknownKey(v.Type(), key, name, m[name]))
			continue
		}
		f.decodeValue(v.FieldByIndex(field.Index), m[name], sub)
	}
}

// decodeValue sets v from the TOML value x found at key, or notes why it cannot.
func (f *File) decodeValue(v reflect.Value, x any, key string) {
	if !f.set(v, x, key) {
		f.Add(key, "%s", f.mismatch(v.Type(), x, key))
	}
}

// set sets v from x; false when x is of another kind than v takes. A text v's type refuses, or
// a field of a kind the walker does not know, is noted here.
func (f *File) set(v reflect.Value, x any, key string) bool {
	t := v.Type()
	switch {
	case isText(t):
		s, ok := x.(string)
		if ok {
			if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
				f.Add(key, "%v", err)
			}
		}
		return ok
	case t.Kind() == reflect.String, t.Kind() == reflect.Bool:
		xv := reflect.ValueOf(x)
		if xv.Kind() != t.Kind() {
			return false
		}
		v.Set(xv.Convert(t))
		return true
	case t.Kind() == reflect.Int:
		n, ok := x.(int64)
		if !ok || n < math.MinInt || n > math.MaxInt {
			return false
		}
		v.SetInt(n)
		return true
	case t.Kind() == reflect.Float64:
		// A share written 1 or 0 is a whole number in TOML; it means the same.
		switch n := x.(type) {
		case float64:
			v.SetFloat(n)
		case int64:
			v.SetFloat(float64(n))
		default:
			return false
		}
		return true
	case t.Kind() == reflect.Struct:
		m, ok := x.(map[string]any)
		if ok {
			f.decodeTable(v, m, key)
		}
		return ok
	case t.Kind() == reflect.Slice:
		list, ok := x.([]any)
		if !ok {
			return false
		}
		// A list in the file replaces the default list whole, and each [[table]] starts from
		// zero values: a table does not inherit the first default table's keys.
		out := reflect.MakeSlice(t, len(list), len(list))
		for i, e := range list {
			f.decodeValue(out.Index(i), e, fmt.Sprintf("%s[%d]", key, i))
		}
		v.Set(out)
		return true
	}
	// Only reached if the struct has a field of a kind this walker does not know: a programming
	// error that a round trip of every field catches.
	f.Add(key, "cannot be set from the file (a field of kind %s)", t.Kind())
	return true
}
