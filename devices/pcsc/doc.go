// Package pcsc reaches smart cards through PC/SC readers (pcscd and libpcsclite, via
// github.com/ebfe/scard) the way a kiosk needs it: it watches readers for cards, survives
// pcscd restarts and readers that come and go, and tells an ID card from a city card.
//
//   - Monitor watches readers with SCardGetStatusChange, including the PnP pseudo-reader for
//     readers plugged in or out, and reports Events: service up or down, reader added or
//     removed, card inserted or removed. When pcscd dies it releases the dead contexts, finds
//     pcscd again with back-off, and reports the readers and cards again.
//   - Card is a connection to one card: Transmit sends one APDU (T=0 or T=1); a response
//     shorter than a status word is an error (ErrNoResponse), as vpcd gives for a card that
//     leaves mid-command. Card satisfies idcard.Card and citycard.Card; citycard.Exchange
//     follows 61 xx and 6C xx.
//   - Read tells what a card is (KindIDCard, KindCityCard, KindUnknown) with the ATR and a few
//     probing APDUs, and reads it: the ID card's UID, the city card's purse.
//
// Every failure is an *Error with a Code (errors.Is(err, pcsc.ErrRemoved)); Gone tells the
// failures that mean "the card is not there any more" from a card that answers badly. The
// package knows nothing of what the cards are used for, and never logs: card data only pass
// through (Contents prints itself masked).
//
// Package vpcd, beside this one, puts virtual cards on pcscd's vpcd driver for tests; package
// pcsctest runs tests against a real pcscd.
package pcsc
