package pcsc_test

import (
	"runtime"
	"slices"
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
	ready   time.Duration // event to ready: connect and read (or the raw replay)
	connect time.Duration
	floor   time.Duration // the raw replay's round trips alone
	sent    [][]byte
	kind    pcsc.Kind
	err     error
}

// BenchmarkTapToReady: a card tapped on a vpcd reader of the real pcscd, to its card object
// (pcsc.Contents) ready, for each kind of card. One op is two taps of the same card: one read
// by this package (pcsc.Monitor.Connect, pcsc.Read) in the Monitor's callback, as the kiosk
// does, and one where the callback replays the same APDUs with plain scard (SCardConnect on a
// context of its own, SCardTransmit each): the floor, measured the same way at the same moment
// after a tap. ns/op is dominated by pcscd's presence polls, reported apart:
//
//	detect-ms       insertion to the Monitor's event. Here every insertion follows the poll that
//	                saw the previous removal, so it is pcscd's whole poll interval; a real tap
//	                lands anywhere in it (0 to that, half on average).
//
// Times are medians over the taps (and over 20 reads per tap for read-µs and hot-floor-µs).
//
//	tap-µs          event to card object ready: Connect + Read
//	connect-µs      SCardConnect, inside tap-µs
//	floor-tap-µs    the raw replay: SCardConnect + the APDUs' round trips
//	floor-µs        the APDUs' raw round trips alone (the floor proper)
//	tap-overhead-%  (tap - floor-tap) / floor-tap
//	read-µs         Read alone on a connected card: median of 20 reads after each tap
//	hot-floor-µs    the same APDUs replayed raw, alternating with those reads: median
//	overhead-%      (read - hot-floor) / hot-floor: what this package adds to the exchanges
//	apdus           commands per read
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
			var detect time.Duration
			// Medians, not means: on a shared machine a few slow exchanges skew a mean.
			var taps, connects, floorTaps, floors, reads, hotFloors []time.Duration
			var apdus, detects int
			results := make(chan tapResult, 1)
			var replay [][]byte // set before a raw tap
			ours := func(e pcsc.Event) tapResult {
				start := time.Now()
				card, err := w.m.Connect(e.Reader)
				if err != nil {
					return tapResult{err: err}
				}
				connected := time.Now()
				rec := &recording{t: card}
				c, err := pcsc.Read(rec, card.ATR())
				done := time.Now()
				card.Close()

				return tapResult{ready: done.Sub(start), connect: connected.Sub(start), sent: rec.sent, kind: c.Kind, err: err}
			}
			plain := func(e pcsc.Event) tapResult {
				start := time.Now()
				rc, err := raw.Connect(e.Reader, scard.ShareShared, scard.ProtocolAny)
				if err != nil {
					return tapResult{err: err}
				}
				var r tapResult
				for _, apdu := range replay {
					t := time.Now()
					if _, err := rc.Transmit(apdu); err != nil {
						return tapResult{err: err}
					}
					r.floor += time.Since(t)
				}

				r.ready = time.Since(start)
				rc.Disconnect(scard.LeaveCard)
				return r
			}
			tapOnce := func(read func(pcsc.Event) tapResult) tapResult {
				w.setHook(func(e pcsc.Event) {
					if e.Kind == pcsc.EventCardInserted && e.Reader == k.reader {
						results <- read(e)
					}
				})
				defer w.setHook(nil)
				// Both taps start from a collected heap: a GC cycle running during one tap
				// and not the other is most of the difference otherwise (2 shared cores).
				runtime.GC()
				from := w.count()
				t0 := time.Now()
				if err := k.slot.Insert(k.model()); err != nil {
					b.Fatal(err)
				}
				e, _ := w.next(from, pcsc.EventCardInserted, k.reader, seen)
				detect += e.Time.Sub(t0)
				detects++
				var r tapResult
				select {
				case r = <-results:
				case <-time.After(seen):
					b.Fatal("no read")
				}
				if r.err != nil {
					b.Fatal(r.err)
				}
				return r
			}
			remove := func() {
				from := w.count()
				if err := k.slot.Remove(); err != nil {
					b.Fatal(err)
				}
				w.next(from, pcsc.EventCardRemoved, k.reader, seen)
			}
			for range b.N {
				r := tapOnce(ours)
				if r.kind != k.want {
					b.Fatalf("tap read a %s", r.kind)
				}
				taps = append(taps, r.ready)
				connects = append(connects, r.connect)
				apdus += len(r.sent)
				replay = r.sent

				// Reads back to back, and the same APDUs raw back to back.
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
					reads = append(reads, time.Since(t))
					var sum time.Duration
					for _, apdu := range replay {
						t := time.Now()
						if _, err := rc.Transmit(apdu); err != nil {
							b.Fatal(err)
						}
						sum += time.Since(t)
					}
					hotFloors = append(hotFloors, sum)
				}
				rc.Disconnect(scard.LeaveCard)
				card.Close()
				remove()

				r = tapOnce(plain)
				floorTaps = append(floorTaps, r.ready)
				floors = append(floors, r.floor)
				remove()
			}
			n := float64(b.N)
			us := func(d time.Duration, count float64) float64 { return float64(d.Nanoseconds()) / 1e3 / count }
			b.ReportMetric(float64(detect.Milliseconds())/float64(detects), "detect-ms")
			tapUS, floorTapUS := us(median(taps), 1), us(median(floorTaps), 1)
			b.ReportMetric(tapUS, "tap-µs")
			b.ReportMetric(us(median(connects), 1), "connect-µs")
			b.ReportMetric(floorTapUS, "floor-tap-µs")
			b.ReportMetric(us(median(floors), 1), "floor-µs")
			b.ReportMetric(100*(tapUS-floorTapUS)/floorTapUS, "tap-overhead-%")
			readUS, hotUS := us(median(reads), 1), us(median(hotFloors), 1)
			b.ReportMetric(readUS, "read-µs")
			b.ReportMetric(hotUS, "hot-floor-µs")
			b.ReportMetric(100*(readUS-hotUS)/hotUS, "overhead-%")
			b.ReportMetric(float64(apdus)/n, "apdus")
		})
	}
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
