// Package citycard reads city one-cards (市民卡, 城市一卡通): the PBOC 2.0 / JR/T 0025 electronic
// purse that city and transport cards carry, over any card connection that exchanges APDUs
// (a PC/SC card handle satisfies Card).
//
// Read selects the purse application, trying file 1001, the MOHURD (住建部) AID and the T-Union
// (交通联合) AID in turn after the PSE, then reads the public data (SFI 0x15), the balance and
// the transaction log (SFI 0x18). Exchange handles the T=0 status words 61xx and 6Cxx, and
// every other status word comes back as an SW error (errors.Is(err, ErrAppLocked)).
//
// The full card number, and the card serial made of its digits, are personal data: Info,
// Public, State, MAC1Request and Purchase print themselves masked (package mask:
// 3104********1234) with every fmt verb, slog and JSON.
//
// # Purchases
//
// Purchase debits the purse through a PSAM in a second slot (PSAM, same Card interface), in
// steps a kiosk journals between: Init (PSAM terminal id and directory, INITIALIZE FOR
// PURCHASE), Authorize (MAC1 from the PSAM), Debit (DEBIT FOR PURCHASE), Confirm (the PSAM
// checks MAC2). Run runs them with a hook that must write State durably before the next
// command goes out. Every failure is a PurchaseError that says whether the money was taken
// (Outcome) and what to tell the citizen (CitizenMessage, Chinese and English).
//
// Money is never taken twice: each step runs once, DEBIT goes out once per Purchase, and an
// unknown outcome (the card left with DEBIT in flight) is settled only by the card itself on
// its next tap: Session.Recover reads its balance and log, State.Judge decides, and GET
// TRANSACTION PROVE gives back the TAC of a debit whose answer was lost. crypto.go has the
// PBOC purchase cryptography the simulators use (DeriveKey, SessionKey, MAC, PurchaseMAC1,
// PurchaseMAC2, PurchaseTAC).
//
// Package cardsim, beside this one, models a card for tests and demos; package psamsim models
// a PSAM. Their master keys are TEST keys, never usable with real cards.
package citycard
