// Package idcard reads Chinese second-generation resident ID cards and the residence cards that
// share their format (foreigner permanent residence card, Hong Kong / Macau / Taiwan residence
// permit).
//
// Two ways in:
//
//   - A SAM reader (the 公安部 security module, GA 467 family) on a serial line speaks a framed
//     binary protocol: [EncodeCommand], [Decoder], [Reply] and the [Status] errors implement it,
//     and [Reader] drives a reader over any [Port] (a go.bug.st/serial port, a pty, a net.Conn).
//     Package tty, below this one, opens the serial line, so that this package links no serial
//     library. Only the SAM can decrypt the card, so this is the only way to the holder's
//     [Identity].
//   - A contactless PC/SC reader reaches the card without a SAM and can only read its physical
//     UID: [ReadUID] over any [Card], an opaque handle for "the same card again".
//
// The package knows nothing of what the identity is used for. It never logs: [Identity] prints
// itself masked (张*三, 410***********1234) and its photo prints as a length, and no error
// message carries a field's value.
//
// Package samsim, beside this one, simulates a SAM reader and an ID card for tests and demos.
package idcard
