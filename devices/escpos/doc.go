// Package escpos is the language of ESC/POS thermal printers of the kind sold in China
// (58 mm and 80 mm, GB18030 text, serial line): what to print and what the printer answers,
// with no I/O, so that a program can compose tickets without linking a serial library.
//
// It has two parts:
//
//   - a document model ([Doc] of [Text], [Rule], [QR], [Barcode], [Feed], [Cut] blocks)
//     and [Encode], which turns a Doc into the exact ESC/POS bytes for a [Paper] width,
//     wrapping mixed Chinese/ASCII text by print columns ([EncodeJob] adds what a driver needs
//     to finish a command cut off part way);
//   - [ParseStatus], which decodes DLE EOT 1..4 real-time status replies into a [Status]
//     and a one-word [State].
//
// Errors are *[Error] values with a [Code]; match them with errors.Is(err, ErrPaperOut). The
// driver reports its failures with the same type.
//
// Beside this package: driver/ is the printer driver (a Printer over a serial line or any
// byte port: status checks around every job, chunked writes under deadlines, reopen after an
// unplug); emulator/ is a printer model that speaks the same protocol, for tests and demos
// without hardware; escpostest/ holds what their tests share.
package escpos
