package citycard_test

import (
	"crypto/cipher"
	"crypto/des"
	"encoding/hex"
	"testing"

	"citizenhome/devices/citycard"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The expected values were computed with openssl (enc -des-ede for 2-key 3DES ECB, enc -des-cbc
// with a zero IV over the ISO 9797-1 method 2 padded data for the MAC), independently of this
// package. The keys are the TEST master keys of cardsim and psamsim.
func TestCryptoKnownAnswers(t *testing.T) {
	mpk := [16]byte(unhex(t, "544553542D4D504B2D4E4F545245414C"))
	mtk := [16]byte(unhex(t, "544553542D4D544B2D4E4F545245414C"))
	serial := [8]byte(unhex(t, "0000000012345678"))
	dpk := citycard.DeriveKey(mpk, serial)
	if got := hex.EncodeToString(dpk[:]); got != "34cbb503ea07e61b1d0212bbb4c03993" {
		t.Errorf("DPK %s", got)
	}
	dtk := citycard.DeriveKey(mtk, serial)
	if got := hex.EncodeToString(dtk[:]); got != "868a24e962b18473b5e524f1dc231be6" {
		t.Errorf("DTK %s", got)
	}
	sk := citycard.SessionKey(dpk, [4]byte{0x11, 0x22, 0x33, 0x44}, 0x000D, 0x000003E8)
	if got := hex.EncodeToString(sk[:]); got != "d84208aaf3ab60d8" {
		t.Errorf("session key %s", got)
	}
	// Only the low 16 bits of the terminal serial go into the session key.
	if citycard.SessionKey(dpk, [4]byte{0x11, 0x22, 0x33, 0x44}, 0x000D, 0x7F0003E8) != sk {
		t.Error("session key depends on the high bytes of the terminal serial")
	}
	term := [6]byte(unhex(t, "475000000301"))
	dt := [7]byte(unhex(t, "20261201093015"))
	if got := citycard.PurchaseMAC1(sk, 200, citycard.TxPurchase, term, dt); hex.EncodeToString(got[:]) != "86d8144d" {
		t.Errorf("MAC1 % X", got)
	}
	if got := citycard.PurchaseMAC2(sk, 200); hex.EncodeToString(got[:]) != "244c2793" {
		t.Errorf("MAC2 % X", got)
	}
	if got := citycard.PurchaseTAC(dtk, 200, citycard.TxPurchase, term, 1000, dt); hex.EncodeToString(got[:]) != "6bab8636" {
		t.Errorf("TAC % X", got)
	}
	k := [8]byte(unhex(t, "0123456789ABCDEF"))
	for data, want := range map[string]string{"": "caee534c", "0102030405060708": "f0a11daf"} {
		if got := citycard.MAC(k, unhex(t, data)); hex.EncodeToString(got[:]) != want {
			t.Errorf("MAC(%q) % X, want %s", data, got, want)
		}
	}
}

// MAC is CBC-MAC with a zero IV over the padded data: the same as the standard library's CBC
// encrypter's last block, for every length around the block boundary.
func TestMACIsPaddedCBC(t *testing.T) {
	k := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	block, _ := des.NewCipher(k[:])
	for n := range 25 {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*7 + n)
		}
		padded := append(append([]byte(nil), data...), 0x80)
		for len(padded)%8 != 0 {
			padded = append(padded, 0)
		}
		out := make([]byte, len(padded))
		cipher.NewCBCEncrypter(block, make([]byte, 8)).CryptBlocks(out, padded)
		if got := citycard.MAC(k, data); string(got[:]) != string(out[len(out)-8:len(out)-4]) {
			t.Errorf("%d bytes: % X, want % X", n, got, out[len(out)-8:len(out)-4])
		}
	}
}
