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

// The palette. Every text colour is at least 7:1 against the fill it is drawn on (WCAG AAA, what
// elder mode asks for, in standard mode too: one palette, no mode to get wrong), and every
// control's edge at least 3:1 against what surrounds it (theme_test.go computes both).
var (
	colBackground = color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF}
	colText       = color.NRGBA{0x10, 0x10, 0x10, 0xFF}
	colPrimary    = color.NRGBA{0xA5, 0x1C, 0x20, 0xFF} // government red: 7.5:1 with white either way
	colButton     = color.NRGBA{0xF7, 0xF7, 0xF7, 0xFF} // a secondary control's fill, inside colEdge
	colEdge       = color.NRGBA{0x5A, 0x5A, 0x5A, 0xFF} // a secondary control's outline: 7:1 on white
	colDisabled   = color.NRGBA{0x4A, 0x4A, 0x4A, 0xFF} // text of what cannot be used now: 7.4:1 on colOff
	colOff        = color.NRGBA{0xEB, 0xEB, 0xEB, 0xFF} // the fill of what cannot be used now
	colOffEdge    = color.NRGBA{0x76, 0x76, 0x76, 0xFF} // its outline: 4.5:1 on white, lighter than colEdge
	colDanger     = color.NRGBA{0x8C, 0x15, 0x19, 0xFF} // text and outline of a destructive action: 9.4:1 on white
	colDangerFill = color.NRGBA{0xFF, 0xF3, 0xF3, 0xFF}
	colPanel      = color.NRGBA{0xF3, 0xF6, 0xFA, 0xFF} // an information panel (the waiting counts)
	colWarning    = color.NRGBA{0x8A, 0x42, 0x00, 0xFF} // dark amber, 7.3:1 on white: overdue, not an error
	colSuccess    = color.NRGBA{0x1A, 0x5E, 0x1E, 0xFF} // dark green, 7.9:1 on white: done, approved
	colInfo       = color.NRGBA{0x1A, 0x4F, 0x8F, 0xFF} // dark blue, 8.2:1 on white: in progress
	// A hover or keyboard focus darkens a control a little: the kiosk is touched, and an opaque
	// focus colour would leave a tapped button in another colour than its text was chosen for.
	colShade    = color.NRGBA{0x00, 0x00, 0x00, 0x14}
	colBackdrop = color.NRGBA{0x00, 0x00, 0x00, 0x33}
)

// Colour names of the kiosk's own, beyond Fyne's.
const (
	// colorNameInk is dark text whatever the theme around says (a white button on the red
	// header band, whose theme makes text white).
	colorNameInk fyne.ThemeColorName = "citizenhome-ink"
	// colorNameDanger is the text of a destructive action (colDanger).
	colorNameDanger fyne.ThemeColorName = "citizenhome-danger"
)

// Color implements fyne.Theme: always the light high-contrast palette, whatever the system says.
func (t *Theme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNameBackground, theme.ColorNameInputBackground, theme.ColorNameOverlayBackground:
		return colBackground
	case theme.ColorNameForeground, colorNameInk:
		return colText
	case theme.ColorNamePrimary:
		return colPrimary
	case theme.ColorNameFocus, theme.ColorNameHover:
		return colShade
	case theme.ColorNameButton:
		return colButton
	case theme.ColorNameInputBorder:
		return colEdge
	case theme.ColorNameDisabled, theme.ColorNamePlaceHolder:
		return colDisabled
	case theme.ColorNameDisabledButton:
		return colOff
	case theme.ColorNameForegroundOnPrimary:
		return color.White
	case theme.ColorNameShadow:
		// A dialog's backdrop: light, so that the screen behind stays legible; the dialog's
		// outline (colEdge) sets it apart.
		return colBackdrop
	case theme.ColorNameError, colorNameDanger:
		return colDanger
	case theme.ColorNameSuccess:
		return colSuccess
	case theme.ColorNameWarning:
		return colWarning
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

// Text sizes that do not follow elder mode: the header's toggles keep the size the citizen found
// them in, and dialogs are in large text whatever the screen's (they are read by whoever stands
// at the kiosk). Named sizes rather than theme overrides: Fyne parses the theme font anew for
// every override scope and keeps every parse.
const (
	sizeStandardText fyne.ThemeSizeName = "citizenhome-standard-text"
	sizeLargeText    fyne.ThemeSizeName = "citizenhome-large-text"
	sizeLargeHeading fyne.ThemeSizeName = "citizenhome-large-heading"
)

// Size implements fyne.Theme. Text is 24 px (36 in elder mode), a heading 40 px (60): a title
// is told from the text below it by size as well as weight. Padding grows so that every button
// is a touch target of at least 80 px.
func (t *Theme) Size(n fyne.ThemeSizeName) float32 {
	k := float32(1)
	if t.Large {
		k = 1.5
	}
	switch n {
	case sizeStandardText:
		return 24
	case sizeLargeText:
		return 36
	case sizeLargeHeading:
		return 60
	case theme.SizeNameText:
		return 24 * k
	case theme.SizeNameHeadingText:
		return 40 * k
	case theme.SizeNameSubHeadingText:
		return 30 * k
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
	case theme.SizeNameInputBorder:
		return 3 // an entry's edge, as thick as a button's
	case theme.SizeNameInputRadius:
		return 8
	}
	return theme.DefaultTheme().Size(n)
}
