package kiosk

import "testing"

func TestDegraded(t *testing.T) {
	for _, tc := range []struct {
		name string
		devs map[string]Device
		want bool
	}{
		{"none", nil, false},
		{"all well", map[string]Device{DevicePrinter: {State: StateOK}, DeviceIDReader: {State: StateOK}}, false},
		{"paper low still prints", map[string]Device{DevicePrinter: {State: StatePaperLow}}, false},
		{"absent is not a fault", map[string]Device{DeviceCardReader: {State: StateAbsent}}, false},
		{"paper out", map[string]Device{DevicePrinter: {State: StatePaperOut}, DeviceIDReader: {State: StateOK}}, true},
		{"reader offline", map[string]Device{DeviceIDReader: {State: StateOffline}}, true},
	} {
		if got := Degraded(tc.devs); got != tc.want {
			t.Errorf("%s: Degraded = %v, want %v", tc.name, got, tc.want)
		}
	}
}
