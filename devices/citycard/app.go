package citycard

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// App is the purse application that answered selection: "1001" for the file id, or the AID
// in upper-case hex. The strings are those of the local API.
type App string

// The purse applications Select tries, in this order.
const (
	// AppFile1001 is file 10 01: Shenzhen Tong, Beijing and many city cards.
	AppFile1001 App = "1001"
	// AppMOHURD is the 住建部 city interconnection purse (互联互通).
	AppMOHURD App = "A00000000386980701"
	// AppTUnion is the 交通联合 (JT/T 978) purse.
	AppTUnion App = "A000000632010105"
)

// Apps lists the purse applications in the order Select tries them.
var Apps = []App{AppFile1001, AppMOHURD, AppTUnion}

// Name gives a short description: "file 1001", "MOHURD", "T-Union", or the AID.
func (a App) Name() string {
	switch a {
	case AppFile1001:
		return "file 1001"
	case AppMOHURD:
		return "MOHURD"
	case AppTUnion:
		return "T-Union"
	}
	return string(a)
}

// SelectAPDU gives the SELECT command for the application: by file id for AppFile1001, by
// name (AID) otherwise. An App that is not hex gives an error.
func (a App) SelectAPDU() ([]byte, error) {
	if a == AppFile1001 {
		return []byte{0x00, 0xA4, 0x00, 0x00, 0x02, 0x10, 0x01}, nil
	}
	aid, err := hex.DecodeString(string(a))
	if err != nil || len(aid) < 5 || len(aid) > 16 {
		return nil, fmt.Errorf("citycard: app %q is not an AID", string(a))
	}
	return selectByName(aid), nil
}

func selectByName(name []byte) []byte {
	apdu := append([]byte{0x00, 0xA4, 0x04, 0x00, byte(len(name))}, name...)
	return append(apdu, 0x00)
}

// PSEName is the payment system environment's DF name.
const PSEName = "1PAY.SYS.DDF01"

var (
	selectPSE = selectByName([]byte(PSEName))
	selectMF  = []byte{0x00, 0xA4, 0x00, 0x00, 0x02, 0x3F, 0x00}
)

// SelectPSEAPDU and SelectMFAPDU are the selections Select makes before the purse.
func SelectPSEAPDU() []byte { return append([]byte(nil), selectPSE...) }

// SelectMFAPDU selects the master file 3F 00, Select's fallback when the PSE is missing.
func SelectMFAPDU() []byte { return append([]byte(nil), selectMF...) }

// selectApp runs the selection: the PSE (or, failing that, the MF), then each purse in Apps
// order until one answers 90 00. A status word only moves on to the next step; a Card error or
// a card that left the field ends it at once.
func selectApp(c Card) (App, error) {
	if _, err := Exchange(c, selectPSE); err != nil {
		if !isSW(err) {
			return "", err
		}
		if _, err := Exchange(c, selectMF); err != nil && !isSW(err) {
			return "", err
		}
	}
	var errs []error
	for _, app := range Apps {
		apdu, _ := app.SelectAPDU()
		_, err := Exchange(c, apdu)
		if err == nil {
			return app, nil
		}
		if !isSW(err) {
			return "", err
		}
		errs = append(errs, fmt.Errorf("%s: %w", app.Name(), err))
	}
	return "", fmt.Errorf("%w: %w", ErrNoApplication, appErrors(errs))
}

// appErrors joins the answers of the purses tried, on one line (errors.Join uses newlines).
type appErrors []error

func (e appErrors) Error() string {
	s := ""
	for i, err := range e {
		if i > 0 {
			s += "; "
		}
		s += strings.ReplaceAll(err.Error(), "citycard: ", "")
	}
	return s
}

func (e appErrors) Unwrap() []error { return e }

func isSW(err error) bool {
	var sw SW
	return errors.As(err, &sw)
}
