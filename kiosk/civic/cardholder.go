package civic

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"citizenhome/kiosk/store"
)

// 一卡通 as identity (art. 10): the hall pushes which ID number holds which city card
// (card_holders in an import file), kept as the keyed hashes of both numbers. A city card tapped
// alone then stands for its holder wherever the ID card works: their applications, bookings made
// with the ID number, and complaints filed with either card.

// person is who's hashes for a lookup: the ID number's, else the one the city card is linked to;
// and the card's own. linked reports whether a city card given without an ID number has a
// holder (false when an ID number was given or no card was).
func person(ctx context.Context, st *store.Store, key *Key, who Identity) (id, card []byte, linked bool, err error) {
	id, card = key.hashes(who)
	if id != nil || card == nil {
		return id, card, false, nil
	}
	err = st.DB().QueryRowContext(ctx, `SELECT id_hash FROM hall_card_holder WHERE card_hash = ?`, card).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, card, false, nil
	case err != nil:
		// The query names no number; the error carries none either.
		return nil, nil, false, fmt.Errorf("hall: card holder: %w", err)
	}
	return id, card, true, nil
}

// cardOnly reports whether who is a city card without an ID number: the case where a card
// linked to no holder explains an empty answer.
func cardOnly(who Identity) bool { return normID(who.IDNumber) == "" && normCard(who.CityCard) != "" }

// CardLinked reports whether who's city card is linked to a holder (always false for an Identity
// without a card). Errors: database errors only.
func (s *Service) CardLinked(ctx context.Context, who Identity) (bool, error) {
	if normCard(who.CityCard) == "" {
		return false, nil
	}
	_, _, linked, err := person(ctx, s.st, s.key, Identity{CityCard: who.CityCard})
	return linked, err
}
