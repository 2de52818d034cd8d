// Package citycard reads city one-cards (市民卡, 城市一卡通): the PBOC 2.0 / JR/T 0025 electronic
// purse that city and transport cards carry, over any card connection that exchanges APDUs
// (a PC/SC card handle satisfies Card).
//
// Read selects the purse application, trying file 1001, the MOHURD (住建部) AID and the T-Union
// (交通联合) AID in turn after the PSE, then reads the public data (SFI 0x15), the balance and
// the transaction log (SFI 0x18). Exchange handles the T=0 status words 61xx and 6Cxx, and
// every other status word comes back as an SW error (errors.Is(err, ErrAppLocked)).
//
// The full card number is personal data: Info prints itself masked (3104********1234).
// Debits (INITIALIZE FOR PURCHASE with a PSAM) are not implemented yet; Session is where they
// will go. Package cardsim, beside this one, models a card for tests and demos.
package citycard
