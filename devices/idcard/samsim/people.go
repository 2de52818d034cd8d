package samsim

import (
	"bytes"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"citizenhome/devices/idcard"
)

// Person is one card in a data file: the printed fields as text, so the file reads like the
// card. Sex and Nation take the Chinese word (女, 汉) or the code; dates are 2006-01-02;
// ValidTo may be "长期".
type Person struct {
	Key         string `json:"key"`
	Note        string `json:"note,omitempty"`
	Type        string `json:"type"` // resident, foreigner, hmt
	Name        string `json:"name"`
	EnglishName string `json:"english_name,omitempty"`
	Sex         string `json:"sex"`
	Nation      string `json:"nation,omitempty"`
	Birth       string `json:"birth"`
	Address     string `json:"address,omitempty"`
	Number      string `json:"number"`
	Authority   string `json:"authority"`
	ValidFrom   string `json:"valid_from"`
	ValidTo     string `json:"valid_to"`
	Nationality string `json:"nationality,omitempty"`
	CardVersion string `json:"card_version,omitempty"`
	PassNumber  string `json:"pass_number,omitempty"`
	IssueCount  int    `json:"issue_count,omitempty"`
	// UID is the card's 8-byte physical UID in hex, for the PC/SC model (IDCard).
	UID string `json:"uid,omitempty"`
}

// String names the sample by its key only: the other fields are (fictional) personal data.
func (p Person) String() string { return "samsim.Person(" + p.Key + ")" }

//go:embed people.json
var samplesJSON []byte

// Samples returns the shipped fictional people, keyed "elder" (resident born 1956-03-08, aged
// 70 from March 2026 to March 2027), "adult" (resident born 1991-05-20, aged 35 until May 2027),
// "foreigner" and "hmt". Every number has a valid check digit.
func Samples() []Person {
	people, err := ParsePeople(samplesJSON)
	if err != nil {
		panic("samsim: shipped people.json is broken: " + err.Error())
	}
	return people
}

// Sample returns the shipped person with that key, or an error naming the keys.
func Sample(key string) (Person, error) {
	for _, p := range Samples() {
		if p.Key == key {
			return p, nil
		}
	}
	return Person{}, fmt.Errorf("samsim: no sample %q (elder, adult, foreigner, hmt)", key)
}

// ParsePeople reads a data file: {"people": [Person, ...]}. Unknown keys are an error, and
// every person must convert to a valid Identity (see Person.Identity).
func ParsePeople(data []byte) ([]Person, error) {
	var f struct {
		Comment string   `json:"_comment"`
		People  []Person `json:"people"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("samsim: people file: %w", err)
	}
	for i, p := range f.People {
		if _, err := p.Identity(); err != nil {
			return nil, fmt.Errorf("samsim: person %d (%s): %w", i, p.Key, err)
		}
	}
	return f.People, nil
}

// Identity converts the person into what a reader decodes, photo included (1024 dummy bytes,
// derived from the number so each person's differs). It checks the fields the way a card
// would be checked: the result encodes to a text block that idcard.DecodeText accepts.
func (p Person) Identity() (*idcard.Identity, error) {
	id, err := p.identity()
	if err != nil {
		return nil, err
	}
	text, err := idcard.EncodeText(id)
	if err != nil {
		return nil, err
	}
	if _, err := idcard.DecodeText(text); err != nil {
		return nil, err
	}
	return id, nil
}

// identity converts without validating, so a test can build a card with a bad check digit.
func (p Person) identity() (*idcard.Identity, error) {
	id := &idcard.Identity{
		Name: p.Name, EnglishName: p.EnglishName, Address: p.Address, Number: p.Number,
		Authority: p.Authority, Nationality: p.Nationality, CardVersion: p.CardVersion,
		PassNumber: p.PassNumber, IssueCount: p.IssueCount,
	}
	switch p.Type {
	case "resident":
		id.Type = idcard.Resident
	case "foreigner":
		id.Type = idcard.Foreigner
	case "hmt":
		id.Type = idcard.HMT
	default:
		return nil, fmt.Errorf("samsim: unknown type %q", p.Type)
	}
	var err error
	if id.Sex, err = idcard.ParseSex(p.Sex); err != nil {
		return nil, err
	}
	if id.Type == idcard.Resident {
		if id.Nation, err = idcard.ParseNation(p.Nation); err != nil {
			return nil, err
		}
	}
	if id.Birth, err = day(p.Birth); err != nil {
		return nil, fmt.Errorf("samsim: birth: %w", err)
	}
	if id.ValidFrom, err = day(p.ValidFrom); err != nil {
		return nil, fmt.Errorf("samsim: valid_from: %w", err)
	}
	if p.ValidTo == idcard.LongTermText {
		id.ValidTo = idcard.Expiry{LongTerm: true}
	} else if id.ValidTo.Date, err = day(p.ValidTo); err != nil {
		return nil, fmt.Errorf("samsim: valid_to: %w", err)
	}
	id.Photo = dummyPhoto(p.Number)
	return id, nil
}

// uid gives the person's UID, or one derived from the number when the file has none.
func (p Person) uid() ([]byte, error) {
	if p.UID == "" {
		h := fnv.New64a()
		h.Write([]byte(p.Number))
		return h.Sum(nil), nil
	}
	b, err := hex.DecodeString(p.UID)
	if err != nil || len(b) != 8 {
		return nil, errors.New("samsim: uid is not 8 bytes of hex")
	}
	return b, nil
}

func day(s string) (time.Time, error) { return time.Parse(time.DateOnly, s) }

// PhotoSize is the size of the photo block a card holds.
const PhotoSize = 1024

func dummyPhoto(seed string) idcard.Photo {
	h := fnv.New32a()
	h.Write([]byte(seed))
	x := h.Sum32() | 1
	b := make([]byte, PhotoSize)
	copy(b, "WLT-SIM")
	for i := 7; i < len(b); i++ {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}
