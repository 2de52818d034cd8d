// Package escpos prints tickets on ESC/POS thermal printers of the kind sold in China
// (58 mm and 80 mm, GB18030 text, serial line).
//
// It has three parts:
//
//   - a document model ([Doc] of [Text], [Rule], [QR], [Barcode], [Feed], [Cut] blocks)
//     and [Encode], which turns a Doc into the exact ESC/POS bytes for a [Paper] width,
//     wrapping mixed Chinese/ASCII text by print columns;
//   - [ParseStatus], which decodes DLE EOT 1..4 real-time status replies into a [Status]
//     and a one-word [State];
//   - [Printer], a driver over a small [Port] (io.ReadWriter plus SetReadTimeout) that checks
//     status before and after every job, writes in chunks under deadlines, never resends a
//     partial job, and reopens a serial device that disappeared and came back ([Open]).
//
// Errors are *[Error] values with a [Code]; match them with errors.Is(err, ErrPaperOut).
//
// The emulator subpackage is a printer model that speaks the same protocol, for tests and
// demos without hardware.
package escpos
