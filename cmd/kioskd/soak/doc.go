// Package soak holds the soak test of kioskd (soak_test.go), and nothing else.
//
// The test builds the real kioskd and runs it for SOAK_DURATION (default 60s; `make soak` runs
// it for an hour) with every device simulated: the SAM ID card reader on a pty served by
// devices/idcard/samsim, the printer on a pty served by the printer emulator, the PC/SC readers of
// the private pcscd that scripts/testenv.sh starts (city cards and ID card UIDs on vpcd slots),
// and a Mosquitto of its own. Every few seconds a seeded random fault is injected: a reader's or
// the printer's line vanishes and returns at the same path (a symbolic link re-pointed to a new
// pty, as udev does), cards are placed and taken away, pcscd is killed and restarted, the broker
// is killed or stopped and restarted; tickets are taken over the local API all along.
//
// Checked all along: GET /v1/card never answers personal data of a card that is not on a reader,
// or of a reader that is down, later than StaleBound after it left; a device that comes back is
// working again within RecoverBound. Checked at the end: every ticket the API said was printed
// was printed once, nothing was printed that the API does not know, no ticket number twice,
// every ticket event reached the hall over MQTT and the outbox is empty, and kioskd's memory,
// goroutines and open files are flat. The figures (faults, tickets, recovery and wipe times,
// memory) are logged, and written to SOAK_REPORT when it names a file (`make soak`: bin/soak.txt,
// with kioskd's log of the run beside it in soak-kioskd.log); a run that finds something keeps
// kioskd's log in the temporary directory otherwise.
//
// SOAK_SEED replays a run's random choices (the seed is logged); timing still differs.
//
// kioskd has no endpoint that counts its goroutines, so the test builds it with one more file
// (testdata/probe.go, added by `go build -overlay`, never part of the product) that serves the
// goroutine count and heap figures on a unix socket.
package soak
