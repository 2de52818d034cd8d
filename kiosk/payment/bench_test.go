package payment_test

import (
	"context"
	"testing"
	"time"

	"citizenhome/devices/citycard/cardsim"
	"citizenhome/kiosk/payment"
)

// BenchmarkPayModels is a whole payment over the card and PSAM models in memory (no pcscd),
// with the journal in a real store: the five journal commits (synchronous FULL), the crypto
// of the models and the code. What a payment costs besides the exchanges with the cards.
func BenchmarkPayModels(b *testing.B) {
	e := newEnv(b, func(c *cardsim.Config) { c.BalanceFen = 1 << 31 }, nil)
	ctx := context.Background()
	for b.Loop() {
		e.term.SetCard(e.card)
		e.clk.Add(time.Second)
		conn, _ := e.term.Card(ctx)
		psam, _ := e.term.PSAM(ctx)
		if _, err := e.j.Pay(ctx, conn, psam, payment.Request{Matter: matter, AmountFen: 1, AllowRepeat: true}); err != nil {
			b.Fatal(err)
		}
	}
}
