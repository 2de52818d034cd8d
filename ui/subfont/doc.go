// Package subfont cuts a font down to the glyphs of a chosen set of runes, in memory.
//
// The kiosk's theme fonts (Noto Sans CJK SC Regular and Bold, 65,535 glyphs and 16 MB a face)
// would cost tens of MB of heap each once go-text has parsed them, although a citizen service
// hall shows a few thousand distinct characters. [SubsetFace] keeps the glyphs of the runes a
// keep function accepts (and the components of composite glyphs), renumbers them compactly
// and writes a new, valid font:
//
//   - TrueType (glyf outlines): head, hhea, maxp, OS/2, hmtx, cmap, loca, glyf, name and post
//     (3.0, no glyph names), plus the hinting tables fpgm, prep and cvt and the gasp table;
//   - OpenType with CFF outlines ("OTTO", CID-keyed like Noto Sans CJK, or name-keyed): head,
//     hhea, maxp 0.5, OS/2, hmtx, cmap, name, post 3.0 and a CFF table rebuilt with the kept
//     glyphs' charstrings, charset and FDSelect, the subroutines they call (renumbered: for the
//     kiosk, 6,944 of Noto's 45,206 local ones) and the Font and Private DICTs. A charstring
//     whose calls cannot be followed without computing (an index a subroutine pushed) keeps
//     every subroutine as it is.
//
// A face of a collection (.ttc) is chosen by its family name ([SubsetFace]); [Face] extracts
// one whole. Layout tables (GSUB, GPOS, GDEF, kern), vertical metrics (vhea, vmtx, VORG) and
// everything else are dropped: Fyne shapes Chinese without them. A rune the subset lacks is
// not lost: Fyne falls back to the system fonts for it.
//
// [Kiosk] and [GB2312Hanzi] describe the runes worth keeping for the kiosk; [Runes] and [Any]
// add the characters of the catalog and translations.
//
// CFF2 (variable) fonts and WOFF files are refused. Every failure is an [*Error] with a
// [Code]. The package uses the standard library and golang.org/x/text only, and never panics
// on malformed input: sizes are checked before each read and allocations are bounded by the
// input.
package subfont
