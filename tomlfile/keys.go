package tomlfile

import (
	"encoding"
	"fmt"
	"reflect"
	"strings"
	"time"
)

var (
	unmarshalType = reflect.TypeFor[encoding.TextUnmarshaler]()
	durationType  = reflect.TypeFor[time.Duration]()
)

// isText reports whether t is read from a quoted text by its own UnmarshalText.
func isText(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && reflect.PointerTo(t).Implements(unmarshalType)
}

// isDuration reports whether t is a text type around a time.Duration (struct{ time.Duration }).
func isDuration(t reflect.Type) bool {
	if !isText(t) {
		return false
	}
	f, ok := t.FieldByName("Duration")
	return ok && f.Anonymous && f.Type == durationType
}

// isTable reports whether a field of type t is written as a table: a struct that does not read
// itself from a text.
func isTable(t reflect.Type) bool { return t.Kind() == reflect.Struct && !isText(t) }

// isTableList reports whether a field of type t is written as an array of tables.
func isTableList(t reflect.Type) bool { return t.Kind() == reflect.Slice && isTable(t.Elem()) }

func join(key, name string) string {
	if key == "" {
		return name
	}
	return key + "." + name
}

// fieldByTag finds the field whose toml tag is name; fields tagged "-" are not in the file.
func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	if name == "-" || name == "" {
		return reflect.StructField{}, false
	}
	for i := range t.NumField() {
		if f := t.Field(i); f.Tag.Get("toml") == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// tags are the keys of the struct type t's fields, in their order.
func tags(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("toml"); tag != "" && tag != "-" {
			out = append(out, tag)
		}
	}
	return out
}

// Keys lists the dotted keys of the struct type t, in the order of its fields; an array of
// tables is listed as its first table ("queue.category[0].letter"). Fields tagged "-" or not
// tagged are left out.
func Keys(t reflect.Type) []string { return keys(t, "") }

func keys(t reflect.Type, prefix string) []string {
	var out []string
	for _, tag := range tags(t) {
		f, _ := fieldByTag(t, tag)
		name := prefix + tag
		switch {
		case isTable(f.Type):
			out = append(out, keys(f.Type, name+".")...)
		case isTableList(f.Type):
			out = append(out, keys(f.Type.Elem(), name+"[0].")...)
		default:
			out = append(out, name)
		}
	}
	return out
}

// Lookup finds the field at a dotted key in v, a struct; indexes are ignored, and inside an
// array of tables it looks at a zero table ("window[2].id" is the id of Window{}). false when
// there is no such field.
func Lookup(v reflect.Value, key string) (reflect.Value, bool) {
	for part := range strings.SplitSeq(stripIndexes(key), ".") {
		if v.Kind() == reflect.Slice && isTable(v.Type().Elem()) {
			v = reflect.New(v.Type().Elem()).Elem()
		}
		if v.Kind() != reflect.Struct {
			return reflect.Value{}, false
		}
		f, ok := fieldByTag(v.Type(), part)
		if !ok {
			return reflect.Value{}, false
		}
		v = v.FieldByIndex(f.Index)
	}
	return v, true
}

// typeAt is the type of the field at a dotted key (indexes ignored) below the struct type t,
// with an array of tables standing for its tables; nil when there is none.
func typeAt(t reflect.Type, key string) reflect.Type {
	for part := range strings.SplitSeq(stripIndexes(key), ".") {
		if isTableList(t) {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
		f, ok := fieldByTag(t, part)
		if !ok {
			return nil
		}
		t = f.Type
	}
	return t
}

// stripIndexes turns "window[2].categories[1]" into "window.categories".
func stripIndexes(key string) string {
	var b strings.Builder
	depth := 0
	for _, r := range key {
		switch {
		case r == '[':
			depth++
		case r == ']':
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ShortDuration writes d the way a file does, without zero units: "1m" for 1m0s, "24h" for
// 24h0m0s, "1h30m", "800ms".
func ShortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// DurationError is a text time.ParseDuration refuses, for a duration type's UnmarshalText; the
// reader puts the key before it. Like are the examples it gives: `"60s" or "5m"`.
type DurationError struct{ Text, Like string }

func (e *DurationError) Error() string {
	return fmt.Sprintf("%q is not a duration (write it like %s)", e.Text, e.Like)
}

// ParseDuration sets *d from text, a Go duration ("90s", "1h30m"), for a duration type's
// UnmarshalText; a text that is none leaves *d alone and gives a *DurationError with like.
func ParseDuration(d *time.Duration, text []byte, like string) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return &DurationError{Text: string(text), Like: like}
	}
	*d = v
	return nil
}
