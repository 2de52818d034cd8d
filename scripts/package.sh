#!/usr/bin/env bash
# package.sh VERSION: builds the binaries with VERSION stamped in and the three .deb packages
# into bin/ (nfpm from packaging/go.mod).
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-0.0.0}
case "$version" in [0-9]*) ;; *) version="0.0.0+$version" ;; esac
export VERSION=$version
mkdir -p bin
for b in kiosk kioskd kioskctl; do
  go build -tags no_emoji -ldflags "-s -w -X main.version=$version" -o "bin/$b" "./cmd/$b"
done
(cd packaging && go build -o ../bin/nfpm github.com/goreleaser/nfpm/v2/cmd/nfpm)
for p in common kioskd kiosk; do
  bin/nfpm package --config "packaging/nfpm-$p.yaml" --packager deb --target bin/ >/dev/null
done
ls bin/*.deb
