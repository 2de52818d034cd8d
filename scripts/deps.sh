#!/usr/bin/env bash
# deps.sh: installs the Debian packages that building, testing and the demo need.
# Idempotent: packages already installed are skipped and apt is not touched when nothing is missing.
# Usage: scripts/deps.sh [build|test|demo|arm64]   (default test; build, demo, test: each set
# includes the ones before it; arm64: demo's, and cross-building and running arm64 on this machine)
set -euo pipefail

set_name=${1:-test}

# To compile: cgo for SQLite and PC/SC, Fyne's GLFW driver (X11 + GL headers); the fonts the
# tests draw with: Noto Sans CJK (the kiosk's screen) and Droid Sans Fallback (the printer
# emulator, and older configurations).
build=(gcc pkg-config libc6-dev libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev
  libxinerama-dev libxi-dev libxxf86vm-dev libpcsclite-dev fonts-droid-fallback fonts-noto-cjk)
# To run the kiosk on a screen.
# aplay (alsa-utils) plays the kiosk's voice.
demo=("${build[@]}" libgl1 libglx-mesa0 libgl1-mesa-dri libegl1 espeak-ng alsa-utils)
# To test against real components: pcscd with the vpcd virtual reader, ptys (socat), Mosquitto,
# a real X server for the window smoke test, a screenshot tool, and aplay, whose output ALSA's
# file plugin captures for the voice's tests.
test=("${build[@]}" pcscd pcsc-tools vsmartcard-vpcd socat mosquitto mosquitto-clients xvfb
  x11-apps xdotool imagemagick procps libgl1 libglx-mesa0 libgl1-mesa-dri systemd espeak-ng chromium alsa-utils)

# To cross-build the arm64 packages (make package ARCH=arm64) and run them under qemu-user
# (make test-arm64): Debian's cross compiler and arm64 C library, build's -dev packages for arm64
# (multiarch: same names, :arm64; the cross gcc finds their headers and libraries), Mesa's arm64
# drivers and Xvfb for the arm64 kiosk drawing its screen, socat for the printer's pty. demo's set
# too: espeak-ng makes the (arch-independent) announcement clips.
cross=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static)
build_arm64=()
for p in "${build[@]}"; do
  case $p in gcc | pkg-config | fonts-*) ;; *) build_arm64+=("$p:arm64") ;; esac
done
arm64=("${demo[@]}" "${cross[@]}" "${build_arm64[@]}" libc6:arm64 libgl1:arm64 libglx-mesa0:arm64
  libgl1-mesa-dri:arm64 socat xvfb x11-apps)
# On an arm64 machine nothing is crossed: demo's set builds natively, and the binaries run as they are.
if [ "$(dpkg --print-architecture)" = arm64 ]; then arm64=("${demo[@]}" socat xvfb x11-apps); fi

case "$set_name" in
  build) want=("${build[@]}") ;;
  demo) want=("${demo[@]}") ;;
  test) want=("${test[@]}") ;;
  arm64) want=("${arm64[@]}") ;;
  *) echo "deps.sh: unknown set '$set_name' (build, demo, test or arm64)" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# arm64 packages need dpkg to accept the architecture (once; the update below fetches its lists).
if [ "$set_name" = arm64 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "deps.sh: adding the architecture arm64 (dpkg --add-architecture)"
  $sudo dpkg --add-architecture arm64
fi
$sudo apt-get update -qq
# policy-rc.d keeps package scripts from trying to start services (there may be no init system);
# the test scripts start pcscd and mosquitto themselves.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
