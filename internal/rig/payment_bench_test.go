package rig

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ebfe/scard"

	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/pcsc/pcsctest"
)

// BenchmarkPCSCDPay is a payment through the real pcscd, the card and the PSAM models on vpcd
// readers, the journal in a real store (synchronous FULL): from Kiosk.Pay with the card on the
// reader (the citizen confirms on the payment screen) to the receipt's printing started, beside
// the floor measured in the same run: the very APDUs the payment exchanged (card and PSAM,
// every GET RESPONSE) replayed with plain SCardTransmit on connections held open.
//
//	pay-ms          Pay called -> receipt printing started, median
//	floor-ms        the same APDUs' raw round trips, median
//	overhead-ms     pay - floor: the journal's five commits, the PC/SC connect of the card,
//	                the crypto and the code
//	card-apdus      APDUs to the card per payment (GET RESPONSE counted)
//	psam-apdus      APDUs to the PSAM per payment
func BenchmarkPCSCDPay(b *testing.B) {
	e := openPayEnv(b)
	pk, err := bootPayKiosk(b.TempDir(), 0, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer pk.close()
	var started atomic.Int64
	pk.printer.onStart = func() { started.Store(time.Now().UnixNano()) }
	card := cityCard(b, 1, func(c *cardsim.Config) { c.BalanceFen = 1 << 31 })
	tap(b, e, pk.k, card)

	raw, err := scard.EstablishContext()
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Release()
	rc, err := raw.Connect(pcsctest.CityReaderSlot, scard.ShareShared, scard.ProtocolAny)
	if err != nil {
		b.Fatal(err)
	}
	defer rc.Disconnect(scard.LeaveCard)
	rp, err := raw.Connect(psamReader+" 00 00", scard.ShareShared, scard.ProtocolAny)
	if err != nil {
		b.Fatal(err)
	}
	defer rp.Disconnect(scard.LeaveCard)

	var pays, floors []time.Duration
	var cardAPDUs, psamAPDUs int
	ctx := context.Background()
	for b.Loop() {
		c0, p0 := len(card.Log()), len(e.psam.Log())
		t0 := time.Now()
		paid, err := pk.pay.PayAgain(ctx, payMatter)
		if err != nil || paid.PrintErr != nil {
			b.Fatalf("pay: %v %v", err, paid.PrintErr)
		}
		pays = append(pays, time.Duration(started.Load()-t0.UnixNano()))
		cardLog, psamLog := card.Log()[c0:], e.psam.Log()[p0:]
		cardAPDUs, psamAPDUs = len(cardLog), len(psamLog)
		var floor time.Duration
		for _, x := range []struct {
			h    *scard.Card
			apdu [][]byte
		}{{rc, cardLog}, {rp, psamLog}} {
			for _, a := range x.apdu {
				t := time.Now()
				if _, err := x.h.Transmit(a); err != nil {
					b.Fatalf("raw replay: %v", err)
				}
				floor += time.Since(t)
			}
		}
		floors = append(floors, floor)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	pay, floor := median(pays), median(floors)
	b.ReportMetric(ms(pay), "pay-ms")
	b.ReportMetric(ms(floor), "floor-ms")
	b.ReportMetric(ms(pay-floor), "overhead-ms")
	b.ReportMetric(float64(cardAPDUs), "card-apdus")
	b.ReportMetric(float64(psamAPDUs), "psam-apdus")
	b.ReportMetric(0, "ns/op")
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
