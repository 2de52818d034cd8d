package pcsc_test

import (
	"testing"
	"time"

	"github.com/ebfe/scard"

	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/idcard/samsim"
	"citizenhome/devices/pcsc"
	"citizenhome/devices/pcsc/pcsctest"
	"citizenhome/devices/pcsc/vpcd"
)

// recording passes commands through and keeps them, to replay for the floor.
type recording struct {
	t    pcsc.Transmitter
	sent [][]byte
}

func (r *recording) Transmit(apdu []byte) ([]byte, error) {
	r.sent = append(r.sent, append([]byte(nil), apdu...))
	return r.t.Transmit(apdu)
}

// tapResult is measured inside the Monitor's callback, as the kiosk reads a card.
type tapResult struct {
	ready   time.Duration // event to card object ready: Connect + Read
	connect time.Duration
	sent    [][]byte
	kind    pcsc.Kind
	err     error
}

// BenchmarkTapToReady: a card tapped on a vpcd reader of the real pcscd, to its card object
// (pcsc.Contents) ready, for each kind of card. One op is one whole tap: insert, detection by
// pcscd's presence poll, read, removal, detection; ns/op is therefore dominated by pcscd's
// polls, reported apart:
//
//	detect-ms   insertion to the Monitor's event (pcscd's presence poll, 0-400 ms)
//	poll-ms     pcscd's presence-poll interval (time inserted / ATR requests)
//	tap-µs      event to card object ready (Connect + Read), in the Monitor's callback
//	connect-µs  SCardConnect alone, inside tap-µs
//	read-µs     Read alone on a connected card (repeated reads of the tapped card)
//	floor-µs    the same APDUs' raw round trips, plain scard Transmit, summed
//	overhead-%  (read - floor) / floor: what this package adds to the exchanges
//	tap-overhead-%  (tap - floor) / floor: with the connection to the card
//	apdus       commands per read
func BenchmarkTapToReady(b *testing.B) {
	env := pcsctest.Open(b)
	w := watch(b)
	w.next(0, pcsc.EventReaderAdded, idR, seen)
	w.next(0, pcsc.EventReaderAdded, cityR, seen)
	raw, err := scard.EstablishContext()
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Release()

	kinds := []struct {
		name   string
		slot   *vpcd.Slot
		reader string
		model  func() vpcd.Model
		want   pcsc.Kind
	}{
		{"city-card", env.CitySlot, cityR, func() vpcd.Model { c, _ := cardsim.New(cardsim.Sample()); return c }, pcsc.KindCityCard},
		{"id-card", env.IDSlot, idR, func() vpcd.Model { return samsim.NewIDCard(sampleUID) }, pcsc.KindIDCard},
	}
	const repeats = 20
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			var detect, tap, connect, read, floor, inserted time.Duration
			var reads, floors, apdus, polls int
			results := make(chan tapResult, 1)
			w.setHook(func(e pcsc.Event) {
				if e.Kind != pcsc.EventCardInserted || e.Reader != k.reader {
					return
				}
				start := time.Now()
				card, err := w.m.Connect(e.Reader)
				if err != nil {
					results <- tapResult{err: err}
					return
				}
				connected := time.Now()
				rec := &recording{t: card}
				c, err := pcsc.Read(rec, card.ATR())
				done := time.Now()
				card.Close()
				results <- tapResult{ready: done.Sub(start), connect: connected.Sub(start), sent: rec.sent, kind: c.Kind, err: err}
			})
			defer w.setHook(nil)
			for range b.N {
				from := w.count()
				atrs := k.slot.ATRRequests()
				t0 := time.Now()
				if err := k.slot.Insert(k.model()); err != nil {
					b.Fatal(err)
				}
				e, _ := w.next(from, pcsc.EventCardInserted, k.reader, seen)
				detect += e.Time.Sub(t0)
				var r tapResult
				select {
				case r = <-results:
				case <-time.After(seen):
					b.Fatal("no read")
				}
				if r.err != nil || r.kind != k.want {
					b.Fatalf("tap read: %s %v", r.kind, r.err)
				}
				tap += r.ready
				connect += r.connect
				apdus += len(r.sent)

				// Repeated reads of the card, and the floor: the same commands, raw.
				card, err := w.m.Connect(k.reader)
				if err != nil {
					b.Fatal(err)
				}
				rc, err := raw.Connect(card.Reader(), scard.ShareShared, scard.ProtocolAny)
				if err != nil {
					b.Fatal(err)
				}
				for range repeats {
					t := time.Now()
					if _, err := pcsc.Read(card, card.ATR()); err != nil {
						b.Fatal(err)
					}
					read += time.Since(t)
					reads++
					for _, apdu := range r.sent {
						t := time.Now()
						if _, err := rc.Transmit(apdu); err != nil {
							b.Fatal(err)
						}
						floor += time.Since(t)
					}
					floors++
				}
				rc.Disconnect(scard.LeaveCard)
				card.Close()

				if err := k.slot.Remove(); err != nil {
					b.Fatal(err)
				}
				inserted += time.Since(t0)
				polls += k.slot.ATRRequests() - atrs
				w.next(from, pcsc.EventCardRemoved, k.reader, seen)
			}
			n := float64(b.N)
			us := func(d time.Duration, count float64) float64 { return float64(d.Microseconds()) / count }
			floorUS := us(floor, float64(floors))
			b.ReportMetric(float64(detect.Milliseconds())/n, "detect-ms")
			if polls > 0 {
				b.ReportMetric(float64(inserted.Milliseconds())/float64(polls), "poll-ms")
			}
			b.ReportMetric(us(tap, n), "tap-µs")
			b.ReportMetric(us(connect, n), "connect-µs")
			b.ReportMetric(us(read, float64(reads)), "read-µs")
			b.ReportMetric(floorUS, "floor-µs")
			b.ReportMetric(100*(us(read, float64(reads))-floorUS)/floorUS, "overhead-%")
			b.ReportMetric(100*(us(tap, n)-floorUS)/floorUS, "tap-overhead-%")
			b.ReportMetric(float64(apdus)/n, "apdus")
		})
	}
}
