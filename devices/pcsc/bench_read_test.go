package pcsc

import (
	"testing"

	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/idcard/samsim"
)

// BenchmarkReadModel is Read's own cost, over the card models in memory (no pcscd): what the
// package adds to each tap besides the exchanges.
func BenchmarkReadModel(b *testing.B) {
	city, _ := cardsim.New(cardsim.Sample())
	id := samsim.NewIDCard(make([]byte, 8))
	for _, tc := range []struct {
		name string
		card Transmitter
		atr  []byte
	}{{"city-card", city, cardsim.DefaultATR}, {"id-card", id, samsim.ATR}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Read(tc.card, tc.atr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
