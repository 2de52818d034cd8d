#!/usr/bin/env bash
# package.sh VERSION: builds the binaries with VERSION stamped in, halld's announcement clips and
# the kiosk's prompts (scripts/clips.sh, espeak-ng) and the five .deb packages into bin/ (nfpm from packaging/go.mod),
# or into the directory PKG_OUT names (package-test.sh builds into its own, so that it never
# overwrites bin/ nor reads one half-written by another run).
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-0.0.0}
case "$version" in [0-9]*) ;; *) version="0.0.0+$version" ;; esac
export VERSION=$version
mkdir -p "${PKG_OUT:-bin}"
# The nfpm files take the binaries from $PKG_BIN.
PKG_BIN=$(cd "${PKG_OUT:-bin}" && pwd)
export PKG_BIN
for b in kiosk kioskd kioskctl halld; do
  go build -tags no_emoji -ldflags "-s -w -X main.version=$version" -o "$PKG_BIN/$b" "./cmd/$b"
done
# halld's announcement clips, synthesised now so that the package ships them
# (/usr/share/citizenhome/clips, voice.cache_dir); made afresh, readable by all.
rm -rf "$PKG_BIN/clips"
scripts/clips.sh "$PKG_BIN/clips"
chmod -R u=rwX,go=rX "$PKG_BIN/clips"
# The kiosk's spoken prompts likewise (/usr/share/citizenhome/prompts, voice.prompts_dir).
rm -rf "$PKG_BIN/prompts"
scripts/clips.sh --from kiosk/prompt/clips.tsv "$PKG_BIN/prompts"
chmod -R u=rwX,go=rX "$PKG_BIN/prompts"
(cd packaging && go build -o "$PKG_BIN/nfpm" github.com/goreleaser/nfpm/v2/cmd/nfpm)
for p in common kioskd kiosk halld display; do
  "$PKG_BIN/nfpm" package --config "packaging/nfpm-$p.yaml" --packager deb --target "$PKG_BIN/" >/dev/null
done
ls "$PKG_BIN"/citizenhome-*_"$version"_*.deb
