package ui

import (
	"encoding/json"
	"io/fs"

	"fyne.io/fyne/v2"

	"citizenhome/kiosk/catalog"
	"citizenhome/ui/subfont"
)

// SubsetFont cuts font down to what the kiosk shows: Latin, punctuation and symbols, the 6,763
// hanzi of GB 2312, every character of the screens' translations and of cat (matter names,
// bases, materials...). Fyne parses the theme font once per text style, and a full CJK font
// costs about 17 MB of heap each time; the subset costs about 4 MB.
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
	return subsetTexts(font, texts)
}

// subsetTexts cuts font to the kiosk's characters and those of texts.
func subsetTexts(font fyne.Resource, texts []string) (fyne.Resource, error) {
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
