package subfont

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf16"
)

// maxFaces bounds how many faces of a collection are looked at: real collections hold a few
// dozen at most (Noto Sans CJK: 10), and each look reads a name table.
const maxFaces = 256

// faceDir returns the offset of the table directory of the face of collection b whose family
// is family, or of the first face when family is "".
func faceDir(b []byte, family string) (int, error) {
	n := int(u32(b, 8))
	if n == 0 {
		return 0, errorf(CodeCorrupt, "", "a collection of no fonts")
	}
	if n > maxFaces {
		return 0, errorf(CodeUnsupported, "", "a collection of %d fonts, more than %d", n, maxFaces)
	}
	if 12+4*n > len(b) {
		return 0, errorf(CodeTruncated, "", "collection header of %d fonts needs %d bytes, file has %d", n, 12+4*n, len(b))
	}
	want := normFamily(family)
	var seen []string
	for i := range n {
		at := u32(b, 12+4*i)
		if uint64(at) >= uint64(len(b)) {
			return 0, errorf(CodeTruncated, "", "font %d of the collection at %d, past the end of the %d-byte file", i, at, len(b))
		}
		if want == "" {
			return int(at), nil
		}
		tables, _, err := directory(b, int(at))
		if err != nil {
			return 0, err
		}
		names, err := familyNames(tables["name"])
		if err != nil {
			return 0, err
		}
		for _, name := range names {
			if normFamily(name) == want {
				return int(at), nil
			}
		}
		if len(names) > 0 && !slices.Contains(seen, names[0]) {
			seen = append(seen, names[0])
		}
	}
	return 0, &Error{Code: CodeNoFace, Detail: fmt.Sprintf("no face of family %q in the collection; it has %s",
		family, strings.Join(quoteAll(seen), ", "))}
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

func normFamily(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Name ids of a font's family: the typographic family (16) where a family has more than four
// styles, and the legacy family (1).
const (
	nameFamily            = 1
	nameTypographicFamily = 16
)

// familyNames returns the family names of a name table, typographic (16) before legacy (1),
// English (Windows, en-US) first within each; duplicates are left in. Names in encodings other
// than Unicode and Mac Roman are skipped; a missing name table has no names.
func familyNames(name []byte) ([]string, error) {
	if name == nil {
		return nil, nil
	}
	if len(name) < 6 {
		return nil, errorf(CodeTruncated, "name", "%d bytes, the header needs 6", len(name))
	}
	count, strOff := int(u16(name, 2)), int(u16(name, 4))
	if 6+12*count > len(name) {
		return nil, errorf(CodeTruncated, "name", "%d records need %d bytes, the table has %d", count, 6+12*count, len(name))
	}
	type found struct {
		s     string
		order int
	}
	var fs []found
	for i := range count {
		rec := name[6+12*i:]
		pid, eid, lang, id := u16(rec, 0), u16(rec, 2), u16(rec, 4), u16(rec, 6)
		length, off := int(u16(rec, 8)), int(u16(rec, 10))
		if id != nameFamily && id != nameTypographicFamily {
			continue
		}
		if strOff+off+length > len(name) {
			return nil, errorf(CodeTruncated, "name", "name %d at %d+%d past the table end %d", id, strOff+off, length, len(name))
		}
		raw := name[strOff+off : strOff+off+length]
		var s string
		switch {
		case pid == 0 || pid == 3 && (eid == 1 || eid == 10):
			u := make([]uint16, len(raw)/2)
			for k := range u {
				u[k] = u16(raw, 2*k)
			}
			s = string(utf16.Decode(u))
		case pid == 1 && eid == 0:
			r := make([]rune, len(raw)) // Mac Roman: ASCII is what a family name is matched on
			for k, c := range raw {
				r[k] = rune(c)
			}
			s = string(r)
		default:
			continue
		}
		order := 0
		if id == nameFamily {
			order = 2
		}
		if pid != 3 || lang != 0x409 {
			order++
		}
		fs = append(fs, found{s, order})
	}
	slices.SortStableFunc(fs, func(a, b found) int { return a.order - b.order })
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.s
	}
	return out, nil
}

// Face returns one face of a font collection as a font file of its own, every table copied
// (layout and vertical tables too): for a caller that needs the whole face, as when Subset
// fails and the full font must be used. family chooses the face as in [SubsetFace]. A single
// font is returned as a copy, whatever family says.
//
// Errors are [*Error]: [ErrNotTrueType] when font is no font file, [ErrNoFace] when the
// collection has no face of that family, [ErrTruncated] and [ErrCorrupt] for a damaged file.
func Face(font []byte, family string) ([]byte, error) {
	if len(font) < 12 {
		return nil, errorf(CodeNotTrueType, "", "%d bytes is too short for a font", len(font))
	}
	dir := 0
	switch v := string(font[:4]); v {
	case sigTrueType, sigApple, sigCFF:
		if _, _, err := directory(font, 0); err != nil {
			return nil, err
		}
		return slices.Clone(font), nil
	case sigTTC:
		var err error
		if dir, err = faceDir(font, family); err != nil {
			return nil, err
		}
	default:
		return nil, errorf(CodeNotTrueType, "", "unknown signature %q", v)
	}
	tables, sig, err := directory(font, dir)
	if err != nil {
		return nil, err
	}
	list := make([]table, 0, len(tables))
	for tag, data := range tables {
		list = append(list, table{tag, slices.Clone(data)})
	}
	slices.SortFunc(list, func(a, b table) int { return strings.Compare(a.tag, b.tag) })
	return assemble(sig, list), nil
}
