# citizenhome: `make demo` runs the kiosk on simulated devices; `make test` runs every test.
# Both install what is missing first (Debian packages via scripts/deps.sh; idempotent).

GO      ?= go
BIN     := bin
# The Go build and module caches stay in their per-user defaults (~/.cache/go-build, ~/go/pkg/mod),
# so the next run on the same machine finds them: a cold Fyne build takes minutes, a warm one seconds.
# no_emoji: the kiosk draws no emoji, and Fyne would otherwise bundle a 4 MB colour emoji font
# and parse it for every text style (memory at idle, see docs/benchmarks.md).
export GOFLAGS ?= -buildvcs=false -tags=no_emoji
export CGO_ENABLED := 1

.PHONY: all build demo test test-unit test-arm64 vet bench fuzz clean deps-build deps-test deps-demo deps-package package soak

all: build

deps-build:
	@scripts/deps.sh build
deps-demo:
	@scripts/deps.sh demo
deps-test:
	@scripts/deps.sh test

build: deps-build
	$(GO) build -o $(BIN)/ ./cmd/...

# The kiosk on simulated devices (an ID card and a city card to "tap", a printer that renders
# each ticket to a PNG), and the hall controller beside it on the demo's broker (the counter and
# display URLs with the demo's accounts are printed), with their data in the user's data directory.
demo: deps-demo
	$(GO) build -o $(BIN)/kiosk ./cmd/kiosk
	$(GO) build -o $(BIN)/halld ./cmd/halld
	scripts/demo.sh $(BIN)/kiosk $(BIN)/halld

vet: deps-build
	$(GO) vet ./...

# Every test, race detector on, against the real components the tests need (scripts/testenv.sh
# starts them and waits until each answers).
test: deps-test vet
	scripts/testenv.sh $(GO) test -race -count=1 -timeout 20m ./...
	scripts/package-test.sh

# Unit tests only, no services: quick feedback while editing.
test-unit: deps-build
	$(GO) test -short ./...

# The soak test for SOAK_DURATION (an hour): kioskd on simulated devices under random faults
# (cmd/kioskd/soak); the figures go to bin/soak.txt. make test runs a one-minute pass of it.
# SOAK_SEED=N replays a run's random choices; SOAK_TIMEOUT must exceed SOAK_DURATION.
SOAK_DURATION ?= 1h
SOAK_TIMEOUT ?= 2h
soak: deps-test
	@mkdir -p $(BIN)
	SOAK_DURATION=$(SOAK_DURATION) SOAK_REPORT=$(abspath $(BIN))/soak.txt scripts/testenv.sh \
		$(GO) test -race -count=1 -timeout $(SOAK_TIMEOUT) -run '^TestSoak$$' -v ./cmd/kioskd/soak/

# Benchmarks; figures go to docs/benchmarks.md.
bench: deps-test
	scripts/testenv.sh $(GO) test -run '^$$' -bench . -benchtime 2s -count 1 ./... | tee $(BIN)/bench.txt

# A short pass of every fuzz target (FUZZTIME=30s for longer).
FUZZTIME ?= 10s
fuzz: deps-build
	scripts/fuzz.sh $(FUZZTIME)

# Debian packages in bin/: citizenhome-common, citizenhome-kiosk, citizenhome-kioskd,
# citizenhome-halld (with the announcement clips, made with espeak-ng) and citizenhome-display
# (nfpm, pinned in packaging/go.mod so that it never changes what the kiosk links).
# ARCH=arm64 cross-builds the arm64 ones (信创 machines: Phytium, Kunpeng) on an amd64 machine;
# ARCH="amd64 arm64" both, the clips made once. The binaries go to bin/ARCH/.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null | sed 's/^v//; s/^\([0-9a-f]\{7,\}\)/0.0.0+g\1/' || echo 0.0.0)
ARCH ?= $(shell $(GO) env GOHOSTARCH)
# demo's set has espeak-ng, which makes the clips; arm64's adds the cross compiler and the
# arm64 libraries.
deps-package:
	@scripts/deps.sh $(if $(filter arm64,$(ARCH)),arm64,demo)
package: deps-package
	ARCH="$(ARCH)" scripts/package.sh "$(VERSION)"

# The arm64 packages proven by running them on this machine under qemu-user (scripts/test-arm64.sh):
# built for both architectures and compared, the arm64 daemons and kioskctl run from a
# configuration against devices emulated natively, the arm64 test binaries of the packages that
# need no service. Not part of make test (it takes minutes more); CI runs it when asked.
test-arm64:
	@scripts/deps.sh arm64
	scripts/test-arm64.sh

clean:
	rm -rf $(BIN)
