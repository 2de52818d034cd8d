package rig

import (
	"context"
	"errors"
	"strings"

	"citizenhome/devices/citycard"
	"citizenhome/devices/pcsc"
	"citizenhome/kiosk"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/session"
)

// pcscReaders are the PC/SC readers the configuration names, by role.
type pcscReaders struct {
	card, uid, psam string // devices.card_reader, uid_reader, psam_reader; "" when absent
}

func pcscReadersOf(dc config.Devices) pcscReaders {
	return pcscReaders{card: dc.CardReader, uid: dc.UIDReader, psam: dc.PSAMReader}
}

func (r pcscReaders) names() []string {
	var out []string
	for _, n := range []string{r.card, r.uid, r.psam} {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// cards reports whether cards on this listed reader are read: those of the card and UID
// readers; the PSAM's slot holds the kiosk's own module, not a citizen's card.
func (r pcscReaders) cards(reader string) bool {
	return pcsc.MatchReader(r.card, reader) || pcsc.MatchReader(r.uid, reader)
}

// watchPCSC keeps k told about the PC/SC readers until ctx ends: the card-reader device state
// (offline while pcscd is away or a configured reader is missing), and the cards: each card
// placed on the card or UID reader is read (pcsc.Read) and recorded while it stays
// (kiosk.CardInserted); a city card also joins the session, an ID card's UID is kept as an
// opaque handle (staff cards are recognised by it).
func (d *Devices) watchPCSC(ctx context.Context, k *kiosk.Kiosk) {
	up := false
	listed := map[string]bool{}
	report := func() {
		defer d.pcscSeenOnce.Do(func() { close(d.pcscSeen) })
		if !up {
			k.SetDevice(kiosk.DeviceCardReader, kiosk.StateOffline, "pcscd not running")
			return
		}
		var missing []string
		for _, n := range d.pcscReaders.names() {
			found := false
			for r := range listed {
				if pcsc.MatchReader(n, r) {
					found = true
					break
				}
			}
			if !found {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			k.SetDevice(kiosk.DeviceCardReader, kiosk.StateOffline, "reader not connected: "+strings.Join(missing, ", "))
			return
		}
		k.SetDevice(kiosk.DeviceCardReader, kiosk.StateOK, "")
	}
	_ = d.PCSC.Run(ctx, func(e pcsc.Event) {
		switch e.Kind {
		case pcsc.EventServiceUp:
			up = true
			clear(listed)
			for _, r := range e.Readers {
				listed[r] = true
			}
			report()
		case pcsc.EventServiceDown:
			// Every card and reader was reported gone just before; this catches what a
			// reader not reported (never listed) might still have left.
			up = false
			clear(listed)
			d.readerLost(k, "")
			d.psamLost()
			report()
			d.log.Warn("pcscd not reachable; retrying", "err", e.Err)
		case pcsc.EventReaderAdded:
			listed[e.Reader] = true
			report()
		case pcsc.EventReaderRemoved:
			delete(listed, e.Reader)
			if d.pcscReaders.cards(e.Reader) {
				d.readerLost(k, e.Reader)
			}
			if pcsc.MatchReader(d.pcscReaders.psam, e.Reader) {
				d.psamLost()
			}
			report()
		case pcsc.EventCardInserted:
			if d.pcscReaders.cards(e.Reader) {
				d.readCard(k, e)
			}
		case pcsc.EventCardRemoved:
			d.cardLeft(k, e.Reader)
		}
	})
}

// readCard reads the card just placed on a reader and hands it to the core. A card that left
// during the read (or pcscd dying meanwhile) is not a card to show: the read is dropped, and
// the next tap reads again. A card that answers badly is shown as unreadable.
func (d *Devices) readCard(k *kiosk.Kiosk, e pcsc.Event) {
	err := e.Err // a mute card
	var c *pcsc.Contents
	if err == nil {
		var card *pcsc.Card
		card, err = d.PCSC.Connect(e.Reader)
		if err == nil {
			c, err = pcsc.Read(card, card.ATR())
			if err == nil && c.Kind == pcsc.KindCityCard && c.City != nil {
				// A card with a payment in doubt settles it on this tap, on this connection.
				d.tapped(e.Reader, c.City.CardNo, card)
			}
			card.Close()
		}
	}
	if err != nil && pcsc.Gone(err) {
		d.log.Info("card left the reader during the read", "reader", e.Reader, "err", err)
		if errors.Is(err, pcsc.ErrRemoved) || errors.Is(err, pcsc.ErrNoResponse) {
			k.CardUnreadable(kindOf(c), err) // "hold the card still"
		}
		return
	}
	present := kiosk.PresentCard{Kind: kindOf(c), Reader: e.Reader, Err: err}
	if c != nil {
		present.UID, present.City = c.UID, c.City
	}
	k.CardInserted(present)
	switch {
	case err != nil:
		d.log.Info("card could not be read", "reader", e.Reader, "kind", present.Kind, "err", err)
		k.CardUnreadable(present.Kind, err)
	case c.Kind == pcsc.KindCityCard:
		d.cityFrom = e.Reader
		k.SetCityCard(CityCardOf(c.City))
	case c.Kind == pcsc.KindIDCard:
		// Only the UID: the identity needs the SAM reader. A tap is a touch.
		k.Sessions().Touch()
	default:
		k.CardUnreadable(kiosk.CardUnknown, errors.New("not an ID card or a city card"))
	}
}

func kindOf(c *pcsc.Contents) string {
	if c == nil {
		return kiosk.CardUnknown
	}
	switch c.Kind {
	case pcsc.KindIDCard:
		return kiosk.CardID
	case pcsc.KindCityCard:
		return kiosk.CardCity
	}
	return kiosk.CardUnknown
}

// cardLeft forgets the card of reader; with WipeOnRemoval the session ends too (when a card
// was recorded there), so that its personal data do not outlive the card.
func (d *Devices) cardLeft(k *kiosk.Kiosk, reader string) {
	had := false
	for _, c := range k.Cards() {
		if c.Reader == reader {
			had = true
		}
	}
	k.CardRemoved(reader)
	if had && d.WipeOnRemoval {
		k.Sessions().End(session.CardLeft)
	}
}

// readerLost wipes what was read from reader, which stopped answering (its device vanished,
// pcscd went away): the card recorded on it, and the session when a card was recorded there or
// the session holds data read from it (the person for the SAM reader, the city card for the
// PC/SC reader it came from). Unlike a card that leaves, this ends the session in the kiosk too
// (session.ReaderLost): nothing read from a reader that is not answering outlives it. reader ""
// stands for every PC/SC reader (pcscd gone).
func (d *Devices) readerLost(k *kiosk.Kiosk, reader string) {
	had := false
	for _, c := range k.Cards() {
		if c.Reader == reader || reader == "" && c.Reader != kiosk.DeviceIDReader {
			had = true
			k.CardRemoved(c.Reader)
		}
	}
	var holds bool
	switch reader {
	case kiosk.DeviceIDReader:
		holds = k.Person() != nil
	case "":
		holds = d.cityFrom != "" && k.CityCard() != nil
	default:
		holds = d.cityFrom == reader && k.CityCard() != nil
	}
	if had || holds {
		k.Sessions().End(session.ReaderLost)
	}
}

// psamLost drops the PSAM connection kept between payments: it died with its reader or pcscd,
// and the next payment connects anew instead of failing on it first.
func (d *Devices) psamLost() {
	if d.psam != nil {
		d.psam.forget()
	}
}

// CityCardOf keeps what the kiosk shows of a city card for a session.
func CityCardOf(i *citycard.Info) *kiosk.CityCard {
	c := &kiosk.CityCard{CardNo: i.CardNo, Issuer: i.Issuer, BalanceFen: i.BalanceFen, ValidTo: i.ValidTo}
	for _, r := range i.Records {
		c.Records = append(c.Records, kiosk.CardRecord{Time: r.Time, Type: r.Type.String(), AmountFen: r.AmountFen})
	}
	return c
}
