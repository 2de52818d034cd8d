package catalog

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"
	"unicode"
)

// ErrInvalid is matched (errors.Is) by every *Error and by Errors: the catalog file was rejected.
// I/O failures of LoadFile are not ErrInvalid.
var ErrInvalid = errors.New("invalid catalog")

// Error is one problem in a catalog file.
type Error struct {
	// Matter is the id of the matter at fault; empty outside matters and when the matter has no
	// usable id (Index then still locates it).
	Matter string
	// Index is the matter's 0-based position in "matters", or -1 when the problem is not inside a
	// matter (file syntax, version, sections).
	Index int
	// Field is the JSON path of the value at fault, relative to the matter when Index >= 0:
	// "fee.amount_fen", "materials[2].copies"; relative to the file otherwise: "sections[1].order".
	// Empty for problems of the whole file (syntax, trailing data).
	Field  string
	Reason string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("catalog: ")
	switch {
	case e.Matter != "":
		fmt.Fprintf(&b, "matter %s: ", e.Matter)
	case e.Index >= 0:
		fmt.Fprintf(&b, "matters[%d]: ", e.Index)
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Errors is every problem found in one file, in file order (catalog fields, then sections, then
// matters in order; within a matter in the field order of Matter). It is never empty when
// returned as an error. errors.As(err, &e) with e *Error finds the first.
type Errors []*Error

// Error lists the problems one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each *Error to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Is makes errors.Is(err, ErrInvalid) true even for a (never returned) empty list.
func (es Errors) Is(target error) bool { return target == ErrInvalid }

// maxErrors bounds the report so that a garbage file cannot produce a megabyte of errors.
const maxErrors = 100

// Limits that no real guide reaches; they keep absurd values out of the kiosk's layout.
const (
	maxDays   = 365 // a time limit of more than a year is a data error
	maxCopies = 99
)

var (
	sectionIDRe = regexp.MustCompile(`^[a-z][a-z0-9]{1,15}$`)
	matterIDRe  = regexp.MustCompile(`^[a-z][a-z0-9]{1,15}-[0-9]{3}$`)
	initialsRe  = regexp.MustCompile(`^[A-Z]+$`)
	queueRe     = regexp.MustCompile(`^[A-Z]$`)
	// Extensions a kiosk can show or print; a form in any other format is a data error.
	templateExt = map[string]bool{".pdf": true, ".ofd": true, ".png": true, ".jpg": true, ".jpeg": true, ".doc": true, ".docx": true, ".xls": true, ".xlsx": true}
)

// problems collects Errors, stopping at maxErrors.
type problems struct {
	list    Errors
	dropped int
	index   int    // current matter index, -1 outside matters
	matter  string // current matter id
}

func (p *problems) add(field, format string, args ...any) {
	if len(p.list) >= maxErrors {
		p.dropped++
		return
	}
	p.list = append(p.list, &Error{Matter: p.matter, Index: p.index, Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	if p.dropped > 0 {
		p.list = append(p.list, &Error{Index: -1, Reason: fmt.Sprintf("%d more problems not shown", p.dropped)})
	}
	return p.list
}

// text checks a required Text: both languages present, no control characters. A Text missing
// altogether is one problem, not two.
func (p *problems) text(field string, t Text) {
	if strings.TrimSpace(t.Zh) == "" && strings.TrimSpace(t.En) == "" {
		p.add(field, "required")
		return
	}
	p.str(field+".zh", t.Zh)
	p.str(field+".en", t.En)
}

// optText checks an optional Text: zero, or complete.
func (p *problems) optText(field string, t Text) {
	if !t.IsZero() {
		p.text(field, t)
	}
}

func (p *problems) str(field, s string) {
	switch {
	case strings.TrimSpace(s) == "":
		p.add(field, "required")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		p.add(field, "contains control characters")
	case strings.TrimSpace(s) != s:
		p.add(field, "has leading or trailing spaces")
	}
}

func (p *problems) texts(field string, ts []Text) {
	if len(ts) == 0 {
		p.add(field, "at least one entry required")
	}
	for i, t := range ts {
		p.text(fmt.Sprintf("%s[%d]", field, i), t)
	}
}

// validate checks every rule on a structurally sound file and returns Errors or nil.
func validate(f *file) error {
	p := &problems{index: -1}
	p.str("version", f.Version)
	if _, err := time.Parse(time.DateOnly, f.Updated); err != nil {
		p.add("updated", "%q is not a date YYYY-MM-DD", f.Updated)
	}

	if len(f.Sections) == 0 {
		p.add("sections", "at least one section required")
	}
	sections := map[string]int{}
	orders := map[int]int{}
	for i, s := range f.Sections {
		fld := fmt.Sprintf("sections[%d]", i)
		if s == nil {
			p.add(fld, "null instead of a section")
			continue
		}
		// A malformed id is still registered, so that matters using it are not reported too.
		if j, dup := sections[s.ID]; dup {
			p.add(fld+".id", "%q duplicates sections[%d]", s.ID, j)
		} else {
			sections[s.ID] = i
			if !sectionIDRe.MatchString(s.ID) {
				p.add(fld+".id", "%q must be 2-16 lower-case letters or digits, starting with a letter", s.ID)
			}
		}
		p.text(fld+".name", s.Name)
		if s.Order <= 0 {
			p.add(fld+".order", "must be greater than 0, got %d", s.Order)
		} else if j, dup := orders[s.Order]; dup {
			p.add(fld+".order", "%d duplicates sections[%d]", s.Order, j)
		} else {
			orders[s.Order] = i
		}
		if s.Location != nil {
			validateLocation(p, fld+".location", s.Location)
		}
	}

	if len(f.Matters) == 0 {
		p.add("matters", "at least one matter required")
	}
	ids := map[string]int{}
	names := map[string]int{}
	for i, m := range f.Matters {
		p.index, p.matter = i, ""
		if m == nil {
			p.add("", "null instead of a matter")
			continue
		}
		if matterIDRe.MatchString(m.ID) {
			p.matter = m.ID
		}
		validateMatter(p, m, sections, ids, names)
	}
	return p.err()
}

func validateMatter(p *problems, m *Matter, sections map[string]int, ids, names map[string]int) {
	i := p.index
	if !matterIDRe.MatchString(m.ID) {
		p.add("id", "%q must look like sb-001: a lower-case prefix, a dash, three digits", m.ID)
	} else if j, dup := ids[m.ID]; dup {
		p.add("id", "duplicates matters[%d]", j)
	} else {
		ids[m.ID] = i
	}

	p.text("name", m.Name)
	if m.Name.Zh != "" {
		if j, dup := names[m.Name.Zh]; dup {
			p.add("name.zh", "%q duplicates matters[%d]", m.Name.Zh, j)
		} else {
			names[m.Name.Zh] = i
		}
	}
	han := 0
	for _, r := range m.Name.Zh {
		if unicode.Is(unicode.Han, r) {
			han++
		}
	}
	switch {
	case !initialsRe.MatchString(m.Initials):
		p.add("initials", "%q must be capital letters A-Z only", m.Initials)
	case len(m.Initials) != han && strings.TrimSpace(m.Name.Zh) != "":
		p.add("initials", "%q has %d letters but name.zh has %d Chinese characters", m.Initials, len(m.Initials), han)
	}

	p.text("department", m.Department)
	if _, ok := sections[m.Section]; !ok {
		p.add("section", "%q is not a section id", m.Section)
	}
	if !m.Handling.Valid() {
		p.add("handling", "%q is not one of immediate, promised, joint, approval, urgent", m.Handling)
	}
	if !queueRe.MatchString(m.Queue) {
		p.add("queue", "%q must be one capital letter A-Z", m.Queue)
	}

	p.texts("basis", m.Basis)
	for k, b := range m.Basis {
		if b.Zh != "" && !(strings.Contains(b.Zh, "《") && strings.Contains(b.Zh, "》")) {
			p.add(fmt.Sprintf("basis[%d].zh", k), "must name a legal text in 《》")
		}
	}
	p.texts("conditions", m.Conditions)

	if len(m.Materials) == 0 {
		p.add("materials", "at least one entry required")
	}
	for k, mat := range m.Materials {
		fld := fmt.Sprintf("materials[%d]", k)
		p.text(fld+".name", mat.Name)
		if !mat.Kind.Valid() {
			p.add(fld+".kind", "%q is not one of original, copy, original_and_copy", mat.Kind)
		}
		if mat.Copies < 1 || mat.Copies > maxCopies {
			p.add(fld+".copies", "must be 1..%d, got %d", maxCopies, mat.Copies)
		}
		p.optText(fld+".note", mat.Note)
	}
	p.texts("steps", m.Steps)

	validateLimits(p, m)
	validateFee(p, m.Fee)

	for k, t := range m.Templates {
		fld := fmt.Sprintf("templates[%d]", k)
		p.text(fld+".name", t.Name)
		fileName(p, fld+".blank", t.Blank)
		fileName(p, fld+".sample", t.Sample)
		if t.Blank != "" && t.Blank == t.Sample {
			p.add(fld+".sample", "must differ from the blank form")
		}
	}
}

func validateLimits(p *problems, m *Matter) {
	switch {
	case m.LegalDays < 0 || m.LegalDays > maxDays:
		p.add("legal_days", "must be 0..%d, got %d", maxDays, m.LegalDays)
	case m.LegalDays == 0 && !m.NoLegalLimit:
		p.add("legal_days", "0 needs \"no_legal_limit\": true (the law sets no limit)")
	case m.LegalDays > 0 && m.NoLegalLimit:
		p.add("no_legal_limit", "set but legal_days is %d", m.LegalDays)
	}
	if m.NoLegalLimit && m.LegalCalendarDays {
		p.add("legal_calendar_days", "set but the law sets no limit")
	}
	switch {
	case m.PromisedDays < 0 || m.PromisedDays > maxDays:
		p.add("promised_days", "must be 0..%d, got %d", maxDays, m.PromisedDays)
	// A promise of W working days spans at least W natural days, so W <= LegalDays is required
	// under either count; for natural days it is necessary, not sufficient.
	case m.LegalDays > 0 && m.PromisedDays > m.LegalDays:
		p.add("promised_days", "%d exceeds the legal limit of %d", m.PromisedDays, m.LegalDays)
	case m.Handling == Immediate && m.PromisedDays != 0:
		p.add("promised_days", "an immediate (即办件) matter promises 0 (same day), got %d", m.PromisedDays)
	case m.Handling.Valid() && m.Handling != Immediate && m.PromisedDays == 0:
		p.add("promised_days", "0 (same day) is only for immediate (即办件) matters")
	}
}

func validateFee(p *problems, f Fee) {
	if f.Free {
		if f.AmountFen != 0 || !f.Standard.IsZero() {
			p.add("fee", "free but has a standard or an amount")
		}
		return
	}
	if f.AmountFen == 0 && f.Standard.IsZero() {
		p.add("fee", `required: "free": true, or a standard and an amount_fen`)
		return
	}
	if f.AmountFen <= 0 {
		p.add("fee.amount_fen", "a charged matter needs an amount greater than 0 (or \"free\": true), got %d", f.AmountFen)
	}
	p.text("fee.standard", f.Standard)
}

func fileName(p *problems, field, name string) {
	switch {
	case name == "":
		p.add(field, "required")
	case strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") || strings.IndexFunc(name, unicode.IsControl) >= 0:
		p.add(field, "%q must be a bare file name", name)
	case !templateExt[strings.ToLower(path.Ext(name))]:
		p.add(field, "%q: extension must be one of pdf, ofd, png, jpg, doc, docx, xls, xlsx", name)
	}
}
