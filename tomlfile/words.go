package tomlfile

import (
	"cmp"
	"encoding"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// unknownKey words an unknown key, with where it probably belongs: the same name in another
// table (a key put under the wrong [table]), or a known key a typing error away.
func (f *File) unknownKey(t reflect.Type, table, name string, x any) string {
	if _, isTable := x.(map[string]any); !isTable {
		var homes []string
		for _, k := range Keys(f.root) {
			if i := strings.LastIndexByte(k, '.'); i > 0 && k[i+1:] == name {
				homes = append(homes, f.home(k[:i]))
			}
		}
		if len(homes) > 0 {
			where := "the top of the file"
			if table != "" {
				where = f.header(table, true)
			}
			return fmt.Sprintf("unknown key in %s: %s belongs in %s", where, name, strings.Join(slices.Compact(homes), " or "))
		}
	}
	best, bestD := "", 3
	for _, k := range tags(t) {
		if d := editDistance(name, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key (did you mean %s?)", best)
	}
	if table == "" {
		return "unknown key (the tables are " + f.tables() + ")"
	}
	return "unknown key (every key of " + f.header(table, false) + " is in " + f.opts.Reference + ")"
}

// header is how a message writes the table at key: "[http]", or for "window[2]" "[[window]]"
// (Options.ListHeaders) or else "[window[2]]" (withIndex) or "[window]".
func (f *File) header(key string, withIndex bool) string {
	switch {
	case f.opts.ListHeaders && strings.HasSuffix(key, "]"):
		return "[[" + stripIndexes(key) + "]]"
	case withIndex && !f.opts.ListHeaders:
		return "[" + key + "]"
	}
	return "[" + stripIndexes(key) + "]"
}

// home is how a message writes the table of Keys' key "window[0]" or "hall".
func (f *File) home(key string) string {
	if f.opts.ListHeaders && strings.HasSuffix(key, "[0]") {
		return "[[" + strings.ReplaceAll(key, "[0]", "") + "]]"
	}
	return "[" + strings.ReplaceAll(key, "[0]", "") + "]"
}

// tables lists the document's tables, for an unknown key at the top: "[hall], [http] and
// [[window]]".
func (f *File) tables() string {
	var hs []string
	for _, tag := range tags(f.root) {
		field, _ := fieldByTag(f.root, tag)
		switch {
		case isTable(field.Type):
			hs = append(hs, f.header(tag, false))
		case isTableList(field.Type):
			hs = append(hs, f.home(tag+"[0]"))
		}
	}
	if len(hs) < 2 {
		return strings.Join(hs, "")
	}
	return strings.Join(hs[:len(hs)-1], ", ") + " and " + hs[len(hs)-1]
}

// example is how the value at key is written, from Options.Examples or from the default. An
// entry of a list ("http.trusted_proxies[1]") is shown as the list's first entry.
func (f *File) example(key string) string {
	generic := stripIndexes(key)
	if i := strings.LastIndexByte(key, '['); strings.HasSuffix(key, "]") && i > 0 {
		if t := typeAt(f.root, generic); t == nil || !isTableList(t) {
			list := f.example(key[:i])
			first, _, _ := strings.Cut(strings.TrimPrefix(list, "["), ",")
			return strings.TrimSuffix(first, "]")
		}
	}
	if e, ok := f.opts.Examples[generic]; ok {
		return e
	}
	if f.opts.Defaults == nil {
		return ""
	}
	v, ok := Lookup(reflect.ValueOf(f.opts.Defaults), generic)
	if !ok || f.inTableList(generic) {
		// A table of an array has no default of its own: the zero value is no example.
		return ""
	}
	if isDuration(v.Type()) {
		return strconv.Quote(ShortDuration(v.FieldByName("Duration").Interface().(time.Duration)))
	}
	switch x := v.Interface().(type) {
	case encoding.TextMarshaler:
		b, err := x.MarshalText()
		if err != nil || len(b) == 0 {
			return ""
		}
		return strconv.Quote(string(b))
	case string:
		if x == "" {
			return ""
		}
		return strconv.Quote(x)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case []string:
		if len(x) == 0 {
			return ""
		}
		q := make([]string, len(x))
		for i, s := range x {
			q[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	return ""
}

// inTableList reports whether key (without indexes) is inside a table of an array of tables.
func (f *File) inTableList(key string) bool {
	for i, r := range key {
		if r == '.' {
			if t := typeAt(f.root, key[:i]); t != nil && isTableList(t) {
				return true
			}
		}
	}
	return false
}

// mismatch says, in a technician's words, what the key wants and what the file gives, with a hint
// for the usual slips (quotes around a number, a bare date, one value where a list goes).
func (f *File) mismatch(t reflect.Type, x any, key string) string {
	ex := f.example(key)
	like := func(s string) string {
		if ex == "" {
			return s
		}
		return s + " like " + ex
	}
	var want string
	switch {
	case isDuration(t):
		want = "a duration in quotes like " + cmp.Or(f.opts.DurationLike, `"60s", "5m" or "1h30m"`)
	case isText(t), t.Kind() == reflect.String:
		want = like("text in quotes")
	case t.Kind() == reflect.Int:
		want = like("a whole number")
	case t.Kind() == reflect.Float64:
		want = like("a number")
	case t.Kind() == reflect.Bool:
		want = "true or false (without quotes)"
	case t.Kind() == reflect.Struct && strings.HasSuffix(key, "]"):
		want = "a table of keys (" + strings.Join(tags(t), ", ") + ")"
	case t.Kind() == reflect.Struct:
		want = "a table: a [" + stripIndexes(key) + "] header with its keys below it"
	case isTableList(t):
		want = ex
		if want == "" {
			want = "[[" + stripIndexes(key) + "]] tables"
		}
	case t.Kind() == reflect.Slice:
		want = like("a list of texts in quotes")
	}
	msg := fmt.Sprintf("expected %s, got %s", want, describe(x))
	hint := ""
	if f.opts.Hint != nil {
		hint = f.opts.Hint(t, x)
	}
	if hint == "" {
		hint = slipHint(t, x)
	}
	if hint != "" {
		msg += " (" + hint + ")"
	}
	return msg
}

// describe names a decoded TOML value the way a technician reads it.
func describe(x any) string {
	switch v := x.(type) {
	case string:
		if len(v) > 40 {
			v = v[:37] + "..."
		}
		return "the text " + strconv.Quote(v)
	case int64:
		return "the number " + strconv.FormatInt(v, 10)
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return "the number " + strconv.FormatFloat(v, 'f', 1, 64)
		}
		return "the number " + strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return "the value " + strconv.FormatBool(v)
	case []any:
		return fmt.Sprintf("a list of %d", len(v))
	case map[string]any:
		return "a table"
	case toml.LocalDate:
		return "the date " + v.String() + " not in quotes"
	case toml.LocalTime:
		return "the time of day " + v.String() + " not in quotes"
	case toml.LocalDateTime, time.Time:
		return fmt.Sprintf("the date and time %v not in quotes", v)
	}
	return "a value of another kind"
}

func slipHint(t reflect.Type, x any) string {
	switch v := x.(type) {
	case string:
		if t.Kind() == reflect.Int {
			if _, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				return "remove the quotes"
			}
		}
		if t.Kind() == reflect.Float64 {
			if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				return "remove the quotes"
			}
		}
		if t.Kind() == reflect.Bool && (v == "true" || v == "false") {
			return "remove the quotes"
		}
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String {
			return "a list goes in brackets, even with one entry: [" + strconv.Quote(v) + "]"
		}
	case int64, float64:
		if isDuration(t) {
			return fmt.Sprintf("a duration goes in quotes with its unit: \"%vs\", \"%vm\" or \"%vh\"", v, v, v)
		}
		if t.Kind() == reflect.String || isText(t) {
			return "put it in quotes"
		}
		if f, ok := v.(float64); ok && t.Kind() == reflect.Int && f == math.Trunc(f) {
			return "write it without a decimal point"
		}
	case toml.LocalDate:
		return "put it in quotes: \"" + v.String() + "\""
	case toml.LocalTime:
		return "put it in quotes"
	}
	return ""
}

// where names the entry of an array of tables key is in, by the key Options.Entries gives, as the
// file writes it: `letter "C"`, or "category 3 of 6".
func (f *File) where(key string) string {
	for table, field := range f.opts.Entries {
		rest, ok := strings.CutPrefix(key, table+"[")
		if !ok {
			continue
		}
		i, err := strconv.Atoi(rest[:max(strings.IndexByte(rest, ']'), 0)])
		if err != nil {
			return ""
		}
		var list []any
		m := f.doc
		parts := strings.Split(table, ".")
		for _, p := range parts[:len(parts)-1] {
			m, _ = m[p].(map[string]any)
		}
		list, _ = m[parts[len(parts)-1]].([]any)
		if i < 0 || i >= len(list) {
			return ""
		}
		entry, _ := list[i].(map[string]any)
		if s, ok := entry[field].(string); ok && s != "" && len(s) <= cmp.Or(f.opts.EntryMax, 16) {
			return fmt.Sprintf("%s %q", field, s)
		}
		return fmt.Sprintf("%s %d of %d", parts[len(parts)-1], i+1, len(list))
	}
	return ""
}
