package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Theme is the kiosk's look: CJK fonts for every style, a real bold weight for bold text (a
// kiosk must never fall back to a font without Chinese), high contrast, and sizes for a touch
// screen read standing up. Large scales every text size for elder mode (适老化).
type Theme struct {
	font, bold fyne.Resource
	Large      bool
}

// LoadFont reads a font file whole: a single .ttf/.otf as it is, or the DefaultFace of a .ttc
// collection extracted into a font of its own (Fyne cannot read a collection). See LoadFace.
func LoadFont(path string) (fyne.Resource, error) {
	return LoadFace(FontFile{Path: path, Face: DefaultFace})
}

// NewTheme returns the theme with font for every style, bold included (nil: Fyne's bundled
// font, which has no Chinese; tests of layout only).
func NewTheme(font fyne.Resource) *Theme { return &Theme{font: font} }

// NewThemeFonts returns the theme with fonts.Regular for plain text and fonts.Bold for bold
// text; a nil Bold draws bold text with Regular, as NewTheme does.
func NewThemeFonts(fonts ThemeFonts) *Theme { return &Theme{font: fonts.Regular, bold: fonts.Bold} }

var (
	colBackground = color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF}
	colText       = color.NRGBA{0x10, 0x10, 0x10, 0xFF}
	colPrimary    = color.NRGBA{0xB0, 0x1E, 0x23, 0xFF} // government red, 7:1 on white
	colButton     = color.NRGBA{0xF1, 0xF1, 0xF1, 0xFF}
	colDisabled   = color.NRGBA{0x75, 0x75, 0x75, 0xFF}
	colWarning    = color.NRGBA{0x9A, 0x4A, 0x00, 0xFF} // dark amber, 6:1 on white: overdue, not an error
	colSuccess    = color.NRGBA{0x1B, 0x6E, 0x20, 0xFF} // dark green, 6:1 on white: done, approved
	colInfo       = color.NRGBA{0x1A, 0x4F, 0x8F, 0xFF} // dark blue, 8:1 on white: in progress
)

// Color implements fyne.Theme: always the light high-contrast palette, whatever the system says.
func (t *Theme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNameBackground:
		return colBackground
	case theme.ColorNameForeground:
		return colText
	case theme.ColorNamePrimary, theme.ColorNameFocus:
		return colPrimary
	case theme.ColorNameButton:
		return colButton
	case theme.ColorNameDisabled, theme.ColorNamePlaceHolder:
		return colDisabled
	case theme.ColorNameForegroundOnPrimary:
		return color.White
	}
	return theme.DefaultTheme().Color(n, theme.VariantLight)
}

// Font implements fyne.Theme: the bold font for a bold style (monospace and italic bold too),
// the regular one for the others.
func (t *Theme) Font(s fyne.TextStyle) fyne.Resource {
	if s.Bold && t.bold != nil {
		return t.bold
	}
	if t.font != nil {
		return t.font
	}
	return theme.DefaultTheme().Font(s)
}

// Icon implements fyne.Theme.
func (t *Theme) Icon(n fyne.ThemeIconName) fyne.Resource { return theme.DefaultTheme().Icon(n) }

// Size implements fyne.Theme. Text is 24 px (36 in elder mode); padding grows so that every
// button is a touch target of at least 80 px.
func (t *Theme) Size(n fyne.ThemeSizeName) float32 {
	k := float32(1)
	if t.Large {
		k = 1.5
	}
	switch n {
	case theme.SizeNameText:
		return 24 * k
	case theme.SizeNameHeadingText:
		return 36 * k
	case theme.SizeNameSubHeadingText:
		return 28 * k
	case theme.SizeNameCaptionText:
		return 18 * k
	case theme.SizeNamePadding:
		return 8
	case theme.SizeNameInnerPadding:
		return 20
	case theme.SizeNameInlineIcon:
		return 32 * k
	case theme.SizeNameScrollBar:
		return 16
	}
	return theme.DefaultTheme().Size(n)
}
