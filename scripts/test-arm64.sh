#!/usr/bin/env bash
# test-arm64.sh: the arm64 packages, proven on this (amd64) machine by running them under
# qemu-user (make test-arm64; scripts/deps.sh arm64 installs what it needs):
#
#  1. package.sh for amd64 and arm64 in one run (the clips made once); each .deb's Architecture, its Depends
#     the same on both, and the machine of every ELF binary inside (x86-64 or AArch64).
#  2. The arm64 binaries taken out of the arm64 .debs run under qemu-aarch64-static, against
#     devices emulated natively (TestForeignBinaries, foreign_test.go): halld with its embedded
#     broker, kioskd answering /healthz and printing a hall-numbered ticket on an ESC/POS printer
#     emulator behind a pty, kioskctl's doctor and fleet view, the kiosk app's -version.
#  3. The arm64 test binaries (go test -c) of the packages that need no service (no broker, no
#     pcscd, no X server: pure Go, SQLite, the serial driver and printer emulator on ptys), run
#     under qemu, each timed.
#
# Figures (times, sizes) go to bin/test-arm64/report.txt, with the ticket the arm64 kioskd printed.
# On an arm64 machine nothing is emulated: the same steps run natively.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "test-arm64: FAIL: $*" >&2; exit 1; }
say() { echo "test-arm64: $*" | tee -a "$report"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
export GOFLAGS=${GOFLAGS:--buildvcs=false -tags=no_emoji}
V=0.0.0+arm64test
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
res=bin/test-arm64
rm -rf "$res"
mkdir -p "$res"
res=$(cd "$res" && pwd)
report=$res/report.txt
: >"$report"

# How an arm64 binary runs here: natively on arm64; elsewhere under qemu-user, called explicitly
# (binfmt_misc may be absent, as in a container). Without -L: the binaries' loader is then the
# multiarch /lib/ld-linux-aarch64.so.1 of libc6:arm64, the same build as the libc.so.6 it loads.
# -L /usr/aarch64-linux-gnu would take the cross toolchain's loader (libc6-arm64-cross, another
# Debian revision) with libc6:arm64's libc.so.6, and the two disagree on glibc's private data:
# every cgo binary then hangs in pthread_create (seen with qemu 7.2 and 10.0).
if [ "$(go env GOHOSTARCH)" = arm64 ]; then
  run=()
else
  command -v qemu-aarch64-static >/dev/null || fail "qemu-aarch64-static missing (scripts/deps.sh arm64)"
  [ -e /lib/ld-linux-aarch64.so.1 ] || fail "/lib/ld-linux-aarch64.so.1 missing (libc6:arm64; scripts/deps.sh arm64)"
  run=(qemu-aarch64-static)
fi
say "runner: ${run[*]:-native}; $(nproc) CPUs; $(qemu-aarch64-static --version 2>/dev/null | head -n 1)"

# ---- 1. The packages of both architectures.
t0=$(now)
PKG_OUT=$work/pkg ARCH="amd64 arm64" scripts/package.sh "$V" >/dev/null
say "package.sh for amd64 and arm64 (the clips made once): $(since "$t0") s"
deb() { ls "$work/pkg/citizenhome-$1_${V}_$2.deb" 2>/dev/null || fail "no citizenhome-$1 package for $2"; }
# elf_machine FILE: the ELF header's e_machine (x86-64 or AArch64), or what else it is.
elf_machine() {
  [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || { echo not-elf; return; }
  case $(od -An -tx1 -j18 -N2 "$1" | tr -d ' ') in
    3e00) echo x86-64 ;;
    b700) echo AArch64 ;;
    *) echo "machine-$(od -An -tx1 -j18 -N2 "$1" | tr -d ' ')" ;;
  esac
}
for a in amd64 arm64; do
  case $a in amd64) m=x86-64 ;; arm64) m=AArch64 ;; esac
  for p in kiosk kioskd halld; do
    f=$(deb "$p" "$a")
    [ "$(dpkg-deb -f "$f" Architecture)" = "$a" ] || fail "$f: Architecture $(dpkg-deb -f "$f" Architecture), want $a"
    x=$work/x/$a/$p
    mkdir -p "$x"
    dpkg-deb -x "$f" "$x"
    n=0
    for b in "$x"/usr/bin/*; do
      got=$(elf_machine "$b")
      [ "$got" = "$m" ] || fail "$f: /usr/bin/$(basename "$b") is $got, want $m"
      n=$((n + 1))
    done
    [ "$n" -ge 1 ] || fail "$f has no binary in /usr/bin"
    say "$(basename "$f"): Architecture $a, $n binaries $m, $(stat -c %s "$f") bytes"
  done
done
for p in kiosk kioskd halld; do
  da=$(dpkg-deb -f "$(deb "$p" amd64)" Depends)
  d6=$(dpkg-deb -f "$(deb "$p" arm64)" Depends)
  [ "$da" = "$d6" ] || fail "citizenhome-$p: Depends differ: amd64 '$da', arm64 '$d6'"
  # The libraries the arm64 binaries link are in the packages Depends names (same names on arm64).
  [ -n "$d6" ] || fail "citizenhome-$p: no Depends"
done
for p in common display; do
  f=$(deb "$p" all)
  [ "$(dpkg-deb -f "$f" Architecture)" = all ] || fail "$f is not Architecture: all"
done
dpkg-deb -f "$(deb kiosk arm64)" Depends | grep -q 'libpcsclite1' || fail "citizenhome-kiosk arm64 does not depend on libpcsclite1"
dpkg-deb -f "$(deb kiosk arm64)" Depends | grep -q 'libgl1' || fail "citizenhome-kiosk arm64 does not depend on libgl1"
# The dynamic libraries each arm64 binary needs are those its package depends on (readelf of the
# cross binutils lists them): a library the Depends forgot would fail only on the real machine.
if command -v aarch64-linux-gnu-readelf >/dev/null; then
  for p in kiosk kioskd halld; do
    for b in "$work/x/arm64/$p"/usr/bin/*; do
      for lib in $(aarch64-linux-gnu-readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        case $lib in
          libc.so.* | libm.so.* | libpthread.so.* | libdl.so.* | librt.so.* | libresolv.so.* | ld-linux-*) continue ;;
          libpcsclite.so.1) want=libpcsclite1 ;;
          libGL.so.1) want=libgl1 ;;
          libX11.so.6) want=libx11-6 ;;
          libXcursor.so.1) want=libxcursor1 ;;
          libXrandr.so.2) want=libxrandr2 ;;
          libXinerama.so.1) want=libxinerama1 ;;
          libXi.so.6) want=libxi6 ;;
          libXxf86vm.so.1) want=libxxf86vm1 ;;
          *) fail "$(basename "$b") (citizenhome-$p) needs $lib, which this check does not know: add its package to Depends and here" ;;
        esac
        dpkg-deb -f "$(deb "$p" arm64)" Depends | tr ',' '\n' | grep -qE "^[[:space:]]*$want([[:space:](]|$)" ||
          fail "$(basename "$b") needs $lib, and citizenhome-$p does not depend on $want"
      done
    done
  done
fi
# The C library: the packages' libc6 dependency covers the newest GLIBC_ symbol version the
# binaries of each architecture use.
for a in amd64 arm64; do
  case $a in amd64) od=objdump ;; arm64) od=aarch64-linux-gnu-objdump ;; esac
  command -v $od >/dev/null || fail "$od missing (scripts/deps.sh arm64)"
  need=$($od -T "$work/x/$a"/*/usr/bin/* | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -Vu | tail -n 1)
  [ -n "$need" ] || fail "$od -T found no GLIBC_ symbol version in the $a binaries"
  for p in kiosk kioskd halld; do
    have=$(dpkg-deb -f "$(deb "$p" "$a")" Depends | tr ',' '\n' | sed -n 's/^[[:space:]]*libc6 (>= \([0-9.]*\))$/\1/p')
    [ -n "$have" ] && dpkg --compare-versions "$have" ge "$need" ||
      fail "citizenhome-$p $a depends on libc6 (>= ${have:-nothing}); its binaries need glibc $need"
  done
  say "$a binaries need glibc >= $need; the packages depend on libc6 (>= $have)"
done
for a in amd64 arm64; do
  say "sizes $a: $(for p in kiosk kioskd halld; do printf '%s %s KiB, ' "$p" $(($(stat -c %s "$(deb "$p" "$a")") / 1024)); done)common $(($(stat -c %s "$(deb common all)") / 1024)) KiB, display $(($(stat -c %s "$(deb display all)") / 1024)) KiB"
done

# ---- 2. The packaged arm64 binaries, run.
bins=$work/bin-arm64
mkdir -p "$bins"
cp "$work/x/arm64/kiosk/usr/bin/kiosk" "$work/x/arm64/kiosk/usr/bin/kioskctl" \
  "$work/x/arm64/kioskd/usr/bin/kioskd" "$work/x/arm64/halld/usr/bin/halld" "$bins/"
t0=$(now)
CITIZENHOME_FOREIGN_BIN=$bins CITIZENHOME_FOREIGN_RUN="${run[*]}" CITIZENHOME_FOREIGN_VERSION=$V \
  CITIZENHOME_FOREIGN_CLIPS=$work/x/arm64/halld/usr/share/citizenhome/clips CITIZENHOME_FOREIGN_OUT=$res \
  go test -count=1 -timeout 20m -run '^TestForeignBinaries$' -v . >"$res/foreign.log" 2>&1 ||
  { tail -n 80 "$res/foreign.log" >&2; fail "the arm64 binaries under qemu (TestForeignBinaries; $res/foreign.log)"; }
grep -q -- '--- PASS: TestForeignBinaries' "$res/foreign.log" || { cat "$res/foreign.log" >&2; fail "TestForeignBinaries did not run"; }
say "arm64 kiosk, kioskd, kioskctl, halld under qemu: ok, $(since "$t0") s"
grep -E '^\s+foreign_test.go:[0-9]+: ' "$res/foreign.log" | sed 's/^\s*foreign_test.go:[0-9]*: /  /' | tee -a "$report"

# ---- 3. The arm64 test binaries of the packages that need no service.
# Each runs in its package's directory (testdata), with the test's usual flags.
pkgs=(mask seal tomlfile sse telemetry/wire kiosk/queue kiosk/catalog kiosk/civic kiosk/store
  kiosk/config hall/line hall/ledger hall/followup hall/rating hall/settings
  devices/escpos devices/escpos/emulator devices/escpos/driver)
tests=$work/tests
mkdir -p "$tests"
t0=$(now)
cross=()
if [ ${#run[@]} -gt 0 ]; then
  cross=(CC=aarch64-linux-gnu-gcc PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig PKG_CONFIG_PATH=)
fi
for p in "${pkgs[@]}"; do
  env GOOS=linux GOARCH=arm64 CGO_ENABLED=1 "${cross[@]}" go test -c -o "$tests/${p//\//-}.test" "./$p" ||
    fail "go test -c ./$p for arm64"
done
say "go test -c of ${#pkgs[@]} packages for arm64: $(since "$t0") s"
total=$(now)
failed=()
for p in "${pkgs[@]}"; do
  tb=$tests/${p//\//-}.test
  [ "$(elf_machine "$tb")" = AArch64 ] || fail "$tb is $(elf_machine "$tb"), not AArch64"
  # Tests that run their own binary again (os.Executable) need the kernel to run an arm64
  # binary: without binfmt_misc for aarch64 (a container) they are skipped, and said so.
  skip=()
  if [ ${#run[@]} -gt 0 ] && ! grep -qsx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64; then
    case $p in kiosk/queue) skip=(-test.skip '^TestCrashSafety$') ;; esac
    [ ${#skip[@]} -eq 0 ] || say "  $p: ${skip[1]} skipped (it re-executes itself; no binfmt_misc for aarch64 here)"
  fi
  t0=$(now)
  # Every package runs; the failures are listed at the end.
  if (cd "$p" && "${run[@]}" "$tb" -test.count=1 -test.timeout=10m "${skip[@]}" >"$res/${p//\//-}.log" 2>&1) &&
    grep -qx PASS "$res/${p//\//-}.log"; then
    say "  $p: PASS, $(since "$t0") s"
  else
    tail -n 20 "$res/${p//\//-}.log" >&2
    say "  $p: FAIL, $(since "$t0") s ($res/${p//\//-}.log)"
    failed+=("$p")
  fi
done
say "arm64 tests of ${#pkgs[@]} packages under qemu: $(since "$total") s"
[ ${#failed[@]} -eq 0 ] || fail "arm64 tests under qemu failed in: ${failed[*]}"
echo "test-arm64: ok (report in $report)"
