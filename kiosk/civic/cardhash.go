package civic

// CardHash is the keyed hash (HMAC-SHA256 under the key's identifier key) of a city card number,
// the very value bookings keep in card_hash: other records (the payment journal) can find a card
// again without storing its number. Spaces are ignored; an empty number gives nil.
func (k *Key) CardHash(cardNo string) []byte {
	n := normCard(cardNo)
	if n == "" {
		return nil
	}
	return k.hash(kindCard, n)
}
