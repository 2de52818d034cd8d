package citycard

import (
	"crypto/cipher"
	"crypto/des"
	"encoding/binary"
)

// The purchase cryptography of the PBOC 2.0 / JR/T 0025 electronic purse, as the PSAM and the
// card compute it. The kiosk never holds these keys: the PSAM does. The functions are here so
// that the card and PSAM models (cardsim, psamsim) compute what real ones do, and so that a
// back office holding the TAC master key can check a TAC.
//
// Exactly (every key below is 2-key triple DES, K1 K2 K1, or single DES):
//
//   - Diversification (DeriveKey): the card key is 3DES-ECB(MK, S) || 3DES-ECB(MK, NOT S), where
//     S is the card's 8-byte application serial (the rightmost 8 bytes of the card number
//     field of SFI 0x15) and NOT is the bitwise complement.
//   - Session key (SessionKey): SK = 3DES-ECB(DPK, random(4) || offline serial(2) || the low
//     2 bytes of the terminal transaction serial), 8 bytes, used as a single DES key.
//   - MAC (MAC): ISO/IEC 9797-1 MAC algorithm 1 with single DES: padding method 2 (append 80,
//     then 00 up to a multiple of 8 bytes; a block is always added, even to data already a
//     multiple of 8), CBC with an all-zero IV, the MAC is the leftmost 4 bytes of the last
//     block. Algorithm 3 (the retail MAC) is what PBOC uses with 16-byte keys, for loads and
//     issuer scripts; a purchase only MACs with 8-byte keys, so it is not needed here.
//   - MAC1 = MAC(SK, amount(4) || type(1) || terminal id(6) || date(4) || time(3)), 18 bytes.
//   - MAC2 = MAC(SK, amount(4)).
//   - TAC = MAC(DTK_left XOR DTK_right, amount(4) || type(1) || terminal id(6) || terminal
//     transaction serial(4) || date(4) || time(3)), 22 bytes, where DTK is the card's TAC key
//     (DeriveKey of the TAC master key).
//
// Amounts and serials are big-endian; date and time are BCD YYYYMMDD and hhmmss.

// DeriveKey diversifies a 16-byte master key for one card: 3DES-ECB(master, serial) ||
// 3DES-ECB(master, NOT serial). It gives the card's purchase key (DPK) from the purchase
// master key, and its TAC key (DTK) from the TAC master key.
func DeriveKey(master [16]byte, serial [8]byte) [16]byte {
	c := tdes(master)
	var k [16]byte
	c.Encrypt(k[:8], serial[:])
	var not [8]byte
	for i, b := range serial {
		not[i] = ^b
	}
	c.Encrypt(k[8:], not[:])
	return k
}

// SessionKey gives the purchase session key: 3DES-ECB(dpk, random || offline serial || the low
// 16 bits of the terminal transaction serial). The PSAM computes it for MAC1 and the MAC2
// check, the card for the MAC1 check and MAC2.
func SessionKey(dpk [16]byte, random [4]byte, offlineSerial uint16, terminalSerial uint32) [8]byte {
	var in, sk [8]byte
	copy(in[:4], random[:])
	binary.BigEndian.PutUint16(in[4:], offlineSerial)
	binary.BigEndian.PutUint16(in[6:], uint16(terminalSerial))
	tdes(dpk).Encrypt(sk[:], in[:])
	return sk
}

// MAC is ISO/IEC 9797-1 MAC algorithm 1 with single DES, padding method 2 and an all-zero IV,
// truncated to its leftmost 4 bytes: the MAC of PBOC purchases. data may be empty (one block
// of padding is MACed).
func MAC(key [8]byte, data []byte) [4]byte {
	c, _ := des.NewCipher(key[:]) // cannot fail: the key has the right length
	padded := make([]byte, (len(data)/8+1)*8)
	copy(padded, data)
	padded[len(data)] = 0x80
	var block [8]byte
	for i := 0; i < len(padded); i += 8 {
		for j := range block {
			block[j] ^= padded[i+j]
		}
		c.Encrypt(block[:], block[:])
	}
	return [4]byte(block[:4])
}

// PurchaseMAC1 is MAC1: MAC(sk, amount || type || terminal || date-time), dateTime BCD
// YYYYMMDDhhmmss. The PSAM gives it; the card checks it before debiting.
func PurchaseMAC1(sk [8]byte, amount uint32, typ TxType, terminal [6]byte, dateTime [7]byte) [4]byte {
	b := binary.BigEndian.AppendUint32(nil, amount)
	b = append(b, byte(typ))
	b = append(b, terminal[:]...)
	return MAC(sk, append(b, dateTime[:]...))
}

// PurchaseMAC2 is MAC2: MAC(sk, amount). The card gives it after debiting; the PSAM checks it.
func PurchaseMAC2(sk [8]byte, amount uint32) [4]byte {
	return MAC(sk, binary.BigEndian.AppendUint32(nil, amount))
}

// PurchaseTAC is the transaction authentication code the card gives with a debit:
// MAC(left half of dtk XOR right half, amount || type || terminal || terminal serial ||
// date-time). Only the issuer's clearing (holding the TAC master key) can check it; the kiosk
// stores it with the transaction record.
func PurchaseTAC(dtk [16]byte, amount uint32, typ TxType, terminal [6]byte, terminalSerial uint32, dateTime [7]byte) [4]byte {
	var k [8]byte
	for i := range k {
		k[i] = dtk[i] ^ dtk[i+8]
	}
	b := binary.BigEndian.AppendUint32(nil, amount)
	b = append(b, byte(typ))
	b = append(b, terminal[:]...)
	b = binary.BigEndian.AppendUint32(b, terminalSerial)
	return MAC(k, append(b, dateTime[:]...))
}

// tdes gives the 2-key triple DES cipher K1 K2 K1 of a 16-byte key.
func tdes(key [16]byte) cipher.Block {
	k := make([]byte, 24)
	copy(k, key[:])
	copy(k[16:], key[:8])
	c, _ := des.NewTripleDESCipher(k) // cannot fail: 24 bytes
	return c
}
