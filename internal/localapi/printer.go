package localapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"citizenhome/kiosk"
)

// SelfTester is what POST /v1/printer/selftest needs (*kiosk.StaffHandle has it): see
// WithSelfTest; without one the endpoint answers 501 not-supported.
type SelfTester interface {
	// SelfTest prints the printer self-test page and returns the printer's state, or a
	// *kiosk.PrinterError when the printer cannot print.
	SelfTest(ctx context.Context) (kiosk.DeviceState, error)
}

// selftest serves POST /v1/printer/selftest: 200 {"state": "ok"} once the page is printed;
// 503 with code printer-<state> (printer-paper-out, printer-absent, ...) when the printer cannot
// print or the page failed. A request body is not needed; one is read and ignored (up to
// MaxBody, 413 beyond), so clients may send {}.
func (s *Server) selftest(w http.ResponseWriter, r *http.Request) {
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "too-large", fmt.Sprintf("request bodies are limited to %d bytes", MaxBody))
			return
		}
		writeError(w, http.StatusBadRequest, "bad-request", "reading the body: "+err.Error())
		return
	}
	if s.selfTest == nil {
		writeError(w, http.StatusNotImplemented, "not-supported", "this daemon cannot print a self-test page")
		return
	}
	state, err := s.selfTest.SelfTest(r.Context())
	var pe *kiosk.PrinterError
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]string{"state": string(state)})
	case errors.As(err, &pe):
		writeError(w, http.StatusServiceUnavailable, "printer-"+string(pe.State), err.Error())
	default:
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
	}
}
