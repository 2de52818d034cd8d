#!/usr/bin/env bash
# package.sh VERSION: builds the .deb packages into bin/, or into the directory PKG_OUT names
# (package-test.sh builds into its own, so that it never overwrites bin/ nor reads one
# half-written by another run), for each architecture ARCH names: amd64, arm64, or both
# ("amd64 arm64"); by default this machine's (go env GOHOSTARCH).
#
# Per architecture: kiosk, kioskd, kioskctl and halld with VERSION stamped in, in PKG_OUT/ARCH/,
# and citizenhome-kiosk, -kioskd and -halld_VERSION_ARCH.deb. Once: halld's announcement clips and
# the kiosk's prompts (scripts/clips.sh, espeak-ng; sound, the same on every architecture) in
# PKG_OUT/clips and PKG_OUT/prompts, and citizenhome-common and -display_VERSION_all.deb (no
# binary inside). nfpm is built from packaging/go.mod, for this machine.
#
# An architecture other than this machine's is cross-built: cgo (SQLite, libpcsclite, Fyne's GL
# and X11) with Debian's cross compiler (aarch64-linux-gnu-gcc) against the :arm64 -dev packages
# of the multiarch library directories. scripts/deps.sh arm64 installs them (make package does).
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-0.0.0}
case "$version" in [0-9]*) ;; *) version="0.0.0+$version" ;; esac
export VERSION=$version
host=$(go env GOHOSTARCH)
read -r -a arches <<<"${ARCH:-$host}"
[ ${#arches[@]} -gt 0 ] || arches=("$host")
# Debian's GNU triplet of each architecture: its cross compiler's prefix and its library directory.
triplet() {
  case $1 in
    amd64) echo x86_64-linux-gnu ;;
    arm64) echo aarch64-linux-gnu ;;
    *) return 1 ;;
  esac
}
for a in "${arches[@]}"; do
  triplet "$a" >/dev/null || { echo "package.sh: unknown architecture '$a' (amd64 or arm64)" >&2; exit 2; }
done
out=${PKG_OUT:-bin}
mkdir -p "$out"
out=$(cd "$out" && pwd)
# The nfpm files take the clips and prompts from $PKG_DATA, the binaries from $PKG_BIN, and
# their architecture from $ARCH.
export PKG_DATA=$out

# halld's announcement clips, synthesised now so that the package ships them
# (/usr/share/citizenhome/clips, voice.cache_dir); made afresh, readable by all.
rm -rf "$PKG_DATA/clips"
scripts/clips.sh "$PKG_DATA/clips"
chmod -R u=rwX,go=rX "$PKG_DATA/clips"
# The kiosk's spoken prompts likewise (/usr/share/citizenhome/prompts, voice.prompts_dir).
rm -rf "$PKG_DATA/prompts"
scripts/clips.sh --from kiosk/prompt/clips.tsv "$PKG_DATA/prompts"
chmod -R u=rwX,go=rX "$PKG_DATA/prompts"
(cd packaging && GOOS= GOARCH= CC= go build -o "$out/nfpm" github.com/goreleaser/nfpm/v2/cmd/nfpm)
nfpm() { # nfpm NAME: packages/nfpm-NAME.yaml into $out
  "$out/nfpm" package --config "packaging/nfpm-$1.yaml" --packager deb --target "$out/" >/dev/null
}

for a in "${arches[@]}"; do
  export ARCH=$a PKG_BIN=$out/$a
  mkdir -p "$PKG_BIN"
  env=(GOOS=linux GOARCH="$a" CGO_ENABLED=1)
  if [ "$a" != "$host" ]; then
    t=$(triplet "$a")
    command -v "$t-gcc" >/dev/null ||
      { echo "package.sh: $t-gcc is not installed: cross-building for $a needs scripts/deps.sh $a" >&2; exit 1; }
    # pkg-config must find the target's .pc files only (the host's would hand cgo amd64 libraries).
    env+=(CC="$t-gcc" PKG_CONFIG_LIBDIR="/usr/lib/$t/pkgconfig:/usr/share/pkgconfig" PKG_CONFIG_PATH= PKG_CONFIG_SYSROOT_DIR=)
  fi
  for b in kiosk kioskd kioskctl halld; do
    env "${env[@]}" go build -tags no_emoji -ldflags "-s -w -X main.version=$version" -o "$PKG_BIN/$b" "./cmd/$b"
  done
  for p in kioskd kiosk halld; do nfpm "$p"; done
done
# No binary inside: the same package for every architecture.
for p in common display; do nfpm "$p"; done
ls "$out"/citizenhome-*_"$version"_*.deb
