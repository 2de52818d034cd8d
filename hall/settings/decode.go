package settings

import (
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

// The file is decoded in two steps so that one mistake does not hide the next: go-toml reads the
// document into plain maps (that step stops at a syntax error or a key defined twice, which leave
// nothing sound to go on), then decodeTable walks those maps against Config and notes every
// unknown key and every value of the wrong type under its own key and line, before the values
// that did decode are validated. (kiosk/config reads kiosk.toml the same way; the hall may not
// import the kiosk, so the walk is written again here for halld's types.)

// problems collects the errors of one file. A key that already has an error gets no second one
// (for it or anything inside it): a value that failed to decode keeps its default, and what
// validation would say of that default is noise.
type problems struct {
	lines lineMap
	list  []*Error
}

func (p *problems) add(key, format string, args ...any) {
	for _, e := range p.list {
		if e.Key == key || strings.HasPrefix(key, e.Key+".") || strings.HasPrefix(key, e.Key+"[") {
			return
		}
	}
	p.list = append(p.list, &Error{Key: key, Line: p.lines.line(key), Msg: fmt.Sprintf(format, args...)})
}

// has reports whether key (or a table above it) has a problem already.
func (p *problems) has(key string) bool {
	for _, e := range p.list {
		if e.Key == key || strings.HasPrefix(key, e.Key+".") || strings.HasPrefix(key, e.Key+"[") {
			return true
		}
	}
	return false
}

var durationType = reflect.TypeFor[Duration]()

// decodeTable sets the fields of the struct v from m, the table at key (empty for the document).
func (p *problems) decodeTable(v reflect.Value, m map[string]any, key string) {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		sub := join(key, name)
		f, ok := fieldByTag(v.Type(), name)
		if !ok {
			p.add(sub, "%s", unknownKey(v.Type(), key, name, m[name]))
			continue
		}
		p.decodeValue(v.FieldByIndex(f.Index), m[name], sub)
	}
}

func join(key, name string) string {
	if key == "" {
		return name
	}
	return key + "." + name
}

// fieldByTag finds the field whose toml tag is name; fields tagged "-" are not in the file.
func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	if name == "-" {
		return reflect.StructField{}, false
	}
	for i := range t.NumField() {
		if f := t.Field(i); f.Tag.Get("toml") == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// decodeValue sets v from the TOML value x found at key, or notes why it cannot.
func (p *problems) decodeValue(v reflect.Value, x any, key string) {
	t := v.Type()
	switch {
	case t == durationType:
		s, ok := x.(string)
		if !ok {
			p.add(key, "%s", mismatch(t, x, key))
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			p.add(key, "%v", err)
		}
	case t.Kind() == reflect.String:
		s, ok := x.(string)
		if !ok {
			p.add(key, "%s", mismatch(t, x, key))
			return
		}
		v.SetString(s)
	case t.Kind() == reflect.Int:
		n, ok := x.(int64)
		if !ok || n < math.MinInt || n > math.MaxInt {
			p.add(key, "%s", mismatch(t, x, key))
			return
		}
		v.SetInt(n)
	case t.Kind() == reflect.Float64:
		// A share written 1 or 0 is a whole number in TOML; it means the same.
		switch n := x.(type) {
		case float64:
			v.SetFloat(n)
		case int64:
			v.SetFloat(float64(n))
		default:
			p.add(key, "%s", mismatch(t, x, key))
		}
	case t.Kind() == reflect.Bool:
		b, ok := x.(bool)
		if !ok {
			p.add(key, "%s", mismatch(t, x, key))
			return
		}
		v.SetBool(b)
	case t.Kind() == reflect.Struct:
		m, ok := x.(map[string]any)
		if !ok {
			p.add(key, "%s", mismatch(t, x, key))
			return
		}
		p.decodeTable(v, m, key)
	case t.Kind() == reflect.Slice:
		list, ok := x.([]any)
		if !ok {
			p.add(key, "%s", mismatch(t, x, key))
			return
		}
		// A list in the file replaces the default list whole, and each [[table]] starts from
		// zero values: a window does not inherit the first default window's categories.
		out := reflect.MakeSlice(t, len(list), len(list))
		for i, e := range list {
			p.decodeValue(out.Index(i), e, fmt.Sprintf("%s[%d]", key, i))
		}
		v.Set(out)
	default:
		// Only reached if Config gains a field of a kind this walker does not know: a
		// programming error that TestEveryFieldDecodes catches.
		p.add(key, "cannot be set from the file (a field of kind %s)", t.Kind())
	}
}

// tables names the file's tables, for an unknown key at the top.
const tables = "[hall], [store], [http], [mqtt], [voice], [rules], [[category]] and [[window]]"

// unknownKey words an unknown key, with where it probably belongs: the same name in another
// table (a key put under the wrong [table]), or a known key a typing error away.
func unknownKey(t reflect.Type, table, name string, x any) string {
	if _, isTable := x.(map[string]any); !isTable {
		var homes []string
		for _, k := range allKeys(reflect.TypeFor[Config](), "") {
			if i := strings.LastIndexByte(k, '.'); i > 0 && k[i+1:] == name {
				home := strings.ReplaceAll(k[:i], "[0]", "")
				if strings.HasSuffix(k[:i], "[0]") {
					home = "[" + home + "]"
				}
				homes = append(homes, "["+home+"]")
			}
		}
		if len(homes) > 0 {
			where := "the top of the file"
			if table != "" {
				where = header(table)
			}
			return fmt.Sprintf("unknown key in %s: %s belongs in %s", where, name, strings.Join(slices.Compact(homes), " or "))
		}
	}
	best, bestD := "", 3
	for i := range t.NumField() {
		if k := t.Field(i).Tag.Get("toml"); k != "" && k != "-" {
			if d := editDistance(name, k); d < bestD {
				best, bestD = k, d
			}
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key (did you mean %s?)", best)
	}
	if table == "" {
		return "unknown key (the tables are " + tables + ")"
	}
	return "unknown key (every key of " + header(table) + " is in /usr/share/doc/citizenhome-halld/halld.example.toml)"
}

// header is how the file writes the table at key: "[http]", or "[[window]]" for "window[2]".
func header(key string) string {
	if strings.HasSuffix(key, "]") {
		return "[[" + stripIndexes(key) + "]]"
	}
	return "[" + stripIndexes(key) + "]"
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

// allKeys lists the dotted keys of a struct type; arrays of tables appear as their first element.
func allKeys(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("toml")
		if tag == "-" || tag == "" {
			continue
		}
		name := prefix + tag
		switch {
		case f.Type.Kind() == reflect.Struct && f.Type != durationType:
			out = append(out, allKeys(f.Type, name+".")...)
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			out = append(out, allKeys(f.Type.Elem(), name+"[0].")...)
		default:
			out = append(out, name)
		}
	}
	return out
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

// examples are written the way the file wants them, for keys whose default shows nothing useful
// (an empty text or list) or is a list of tables.
var examples = map[string]string{
	"hall.public_url":       `"https://hall.example.gov.cn"`,
	"http.display_key":      `"` + exampleDisplayKey + `"`,
	"http.trusted_proxies":  `["10.0.0.1"]`,
	"mqtt.ca_file":          `"/etc/citizenhome/hall-ca.pem"`,
	"mqtt.cert_file":        `"/etc/citizenhome/halld.pem"`,
	"mqtt.key_file":         `"/etc/citizenhome/halld.key"`,
	"mqtt.client_id":        `"controller-kf-smzj"`,
	"category":              "[[category]] tables, each with letter, name, name_en and avg_service",
	"window":                "[[window]] tables, each with id and categories",
	"category.letter":       `"A"`,
	"category.name":         `"综合窗口"`,
	"category.name_en":      `"General window"`,
	"category.avg_service":  `"6m"`,
	"window.id":             `"3"`,
	"window.categories":     `["A", "B"]`,
	"rules.priority_share":  "0.5",
	"hall.name_en":          `"Citizen Service Hall"`,
	"voice.clips_dir":       `"/etc/citizenhome/clips"`,
	"mqtt.credentials_file": `"/etc/citizenhome/halld-mqtt.credentials"`,
}

// example is how the value at key is written, from examples or from Default. An entry of a
// list ("http.trusted_proxies[1]") is shown as the list's first entry.
func example(key string) string {
	generic := stripIndexes(key)
	if strings.HasSuffix(key, "]") && !isTableList(generic) {
		list := example(key[:strings.LastIndexByte(key, '[')])
		first, _, _ := strings.Cut(strings.TrimPrefix(list, "["), ",")
		return strings.TrimSuffix(first, "]")
	}
	if e, ok := examples[generic]; ok {
		return e
	}
	v, ok := lookup(reflect.ValueOf(Default()), generic)
	if !ok {
		return ""
	}
	switch x := v.Interface().(type) {
	case Duration:
		return strconv.Quote(shortDuration(x.Duration))
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
	}
	return ""
}

// isTableList reports whether key (without indexes) is an array of tables: "category", "window".
func isTableList(key string) bool {
	f, ok := fieldByTag(reflect.TypeFor[Config](), key)
	return ok && f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct
}

func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// lookup finds the field at a dotted key (without indexes) in v, a Config; inside an array of
// tables it looks at the element type's zero value.
func lookup(v reflect.Value, key string) (reflect.Value, bool) {
	for part := range strings.SplitSeq(key, ".") {
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct {
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

// mismatch says, in a technician's words, what the key wants and what the file gives, with a hint
// for the usual slips (quotes around a number, a bare date, one value where a list goes).
func mismatch(t reflect.Type, x any, key string) string {
	ex := example(key)
	like := func(s string) string {
		if ex == "" {
			return s
		}
		return s + " like " + ex
	}
	var want string
	switch {
	case t == durationType:
		want = `a duration in quotes like "45m", "30s" or "800ms"`
	case t.Kind() == reflect.String:
		want = like("text in quotes")
	case t.Kind() == reflect.Int:
		want = like("a whole number")
	case t.Kind() == reflect.Float64:
		want = like("a number")
	case t.Kind() == reflect.Bool:
		want = "true or false (without quotes)"
	case t.Kind() == reflect.Struct && strings.HasSuffix(key, "]"):
		want = "a table of keys (" + fieldList(t) + ")"
	case t.Kind() == reflect.Struct:
		want = "a table: a [" + stripIndexes(key) + "] header with its keys below it"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		want = ex
	case t.Kind() == reflect.Slice:
		want = like("a list of texts in quotes")
	}
	msg := fmt.Sprintf("expected %s, got %s", want, describe(x))
	if hint := slipHint(t, x); hint != "" {
		msg += " (" + hint + ")"
	}
	return msg
}

func fieldList(t reflect.Type) string {
	var names []string
	for i := range t.NumField() {
		names = append(names, t.Field(i).Tag.Get("toml"))
	}
	return strings.Join(names, ", ")
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
		if t == durationType {
			return fmt.Sprintf("a duration goes in quotes with its unit: \"%vs\", \"%vm\" or \"%vh\"", v, v, v)
		}
		if t.Kind() == reflect.String {
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
