package ui

import (
	"encoding/json"
	"io/fs"
	"os"

	"fyne.io/fyne/v2"

	"citizenhome/kiosk/catalog"
	"citizenhome/ui/subfont"
)

// DefaultFace is the face LoadFont takes from a font collection, and the configuration's
// default font face: the simplified-Chinese face of Noto Sans CJK (fonts-noto-cjk).
const DefaultFace = "Noto Sans CJK SC"

// FontFile is a theme font as configured: a font file and, when it is a collection (.ttc), the
// family of its face to use.
type FontFile struct {
	Path string
	// Face is the family name of the collection's face ("Noto Sans CJK SC"; case and
	// surrounding space do not matter); ignored for a single .ttf/.otf, "" takes the first face.
	Face string
}

// ThemeFonts are the theme's fonts: Bold for bold text, Regular for the rest. A nil Bold means
// Regular for both, as for a font of one weight.
type ThemeFonts struct {
	Regular, Bold fyne.Resource
}

// LoadFace reads f whole: a single .ttf/.otf as it is, or the face of a collection extracted
// into a font of its own (Fyne cannot read a collection; extracting a Noto Sans CJK face takes
// about 70 ms). It is for a font that cannot be cut, and for tests: the kiosk cuts its fonts
// (SubsetFontsCached). The error is an *os.PathError, its Err the file system's or a
// *subfont.Error (not a font, no face of that family).
func LoadFace(f FontFile) (fyne.Resource, error) {
	data, err := os.ReadFile(f.Path)
	if err != nil {
		return nil, err
	}
	face, err := subfont.Face(data, f.Face)
	if err != nil {
		return nil, &os.PathError{Op: "load font", Path: f.Path, Err: err}
	}
	return fyne.NewStaticResource("kiosk-font.ttf", face), nil
}

// SubsetFont cuts font down to what the kiosk shows: Latin, punctuation and symbols, the 6,763
// hanzi of GB 2312, every character of the screens' translations and of cat (matter names,
// bases, materials...). Fyne parses the theme font once per text style, and a full CJK font
// costs 17-21 MB of heap each time (Droid Sans Fallback, a Noto Sans CJK face); its subset
// 3-4 MB.
//
// A character outside the subset (a rare one in a name, in a catalog loaded later) is still
// drawn: Fyne then takes it from the system's fonts, the full font included, at the cost of one
// full parse from then on. An error (a font the subsetter cannot read) is for the caller to log
// before it carries on with the full font.
func SubsetFont(font fyne.Resource, cat *catalog.Catalog) (fyne.Resource, error) {
	texts, err := shownTexts(cat)
	if err != nil {
		return nil, err
	}
	data, err := subfont.Subset(font.Content(), subfont.Kiosk(texts...))
	if err != nil {
		return nil, err
	}
	return fyne.NewStaticResource(font.Name(), data), nil
}

// shownTexts is every translation file and the catalog's text, as strings whose runes count.
func shownTexts(cat *catalog.Catalog) ([]string, error) {
	var texts []string
	err := fs.WalkDir(translationFS, "translations", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := translationFS.ReadFile(p)
		texts = append(texts, string(b))
		return err
	})
	if err != nil {
		return nil, err
	}
	if cat != nil {
		// The exported fields of sections and matters hold all their text.
		b, err := json.Marshal(struct {
			S []*catalog.Section
			M []*catalog.Matter
		}{cat.Sections(), cat.All()})
		if err != nil {
			return nil, err
		}
		texts = append(texts, string(b))
	}
	return texts, nil
}
