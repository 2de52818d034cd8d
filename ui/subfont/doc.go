// Package subfont cuts a TrueType font down to the glyphs of a chosen set of runes, in memory.
//
// The kiosk's theme font (Droid Sans Fallback, ~49,000 glyphs, 4 MB) costs over 50 MB of heap
// once go-text has parsed it, although a citizen service hall shows a few thousand distinct
// characters. [Subset] keeps the glyphs of the runes a keep function accepts (and the
// components of composite glyphs), renumbers them compactly and writes a new, valid TrueType
// font: head, hhea, maxp, OS/2, hmtx, cmap, loca, glyf, name and post (3.0, no glyph names),
// plus the hinting tables fpgm, prep and cvt and the gasp table verbatim when present. Layout
// tables (GSUB, GPOS, GDEF, kern), vertical metrics and everything else are dropped: Fyne
// shapes Chinese without them. A rune the subset lacks is not lost: Fyne falls back to the
// system fonts for it.
//
// [Kiosk] and [GB2312Hanzi] describe the runes worth keeping for the kiosk; [Runes] and [Any]
// add the characters of the catalog and translations.
//
// Only TrueType outlines (glyf) are handled: a collection (.ttc), a CFF font (.otf with
// "OTTO") or a WOFF file is refused with [ErrNotTrueType]. Every failure is an [*Error] with a
// [Code]. The package uses the standard library and golang.org/x/text only, and never panics on
// malformed input: sizes are checked before each read and allocations are bounded by the input.
package subfont
