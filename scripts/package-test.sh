#!/usr/bin/env bash
# package-test.sh: builds the .deb packages and checks them: file lists, control fields,
# maintainer scripts (syntax, idempotence of the user/group steps), unit files
# (systemd-analyze verify), and an unpack of the daemon's packages into a throwaway root.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "package-test: FAIL: $*" >&2; exit 1; }
scripts/package.sh 0.0.0+test >/dev/null
deb() { ls bin/citizenhome-"$1"_0.0.0+test_*.deb; }
has() { # has PKG PATH MODE
  dpkg-deb -c "$(deb "$1")" | awk '{print $1, $6}' | grep -qxF -- "$3 .$2" || fail "$1 lacks $2 ($3)"
}
has common /etc/citizenhome/kiosk.toml -rw-r-----
has common /lib/udev/rules.d/70-citizenhome.rules -rw-r--r--
has common /var/lib/citizenhome/ drwxrwx---
has kioskd /usr/bin/kioskd -rwxr-xr-x
has kioskd /lib/systemd/system/kioskd.service -rw-r--r--
has kioskd /usr/bin/kioskctl -rwxr-xr-x
has kiosk /usr/bin/kiosk -rwxr-xr-x
has kiosk /usr/bin/kioskctl -rwxr-xr-x
has kiosk /usr/lib/citizenhome/kiosk-session -rwxr-xr-x
has kiosk /lib/systemd/system/citizenhome-kiosk.service -rw-r--r--
ctl=$(mktemp -d); trap 'rm -rf "$ctl"' EXIT
dpkg-deb -e "$(deb common)" "$ctl/common"
grep -qx /etc/citizenhome/kiosk.toml "$ctl/common/conffiles" || fail "kiosk.toml is not a conffile"
for p in kiosk kioskd; do
  dpkg-deb -f "$(deb $p)" Depends | grep -q 'citizenhome-common (= 0.0.0+test)' || fail "$p does not depend on citizenhome-common"
done
# Both ship kioskctl and take the same devices: one or the other on a machine.
dpkg-deb -f "$(deb kiosk)" Conflicts | grep -qx citizenhome-kioskd || fail "kiosk does not conflict with kioskd"
dpkg-deb -f "$(deb kioskd)" Conflicts | grep -qx citizenhome-kiosk || fail "kioskd does not conflict with kiosk"
dpkg-deb -f "$(deb kiosk)" Depends | grep -q fonts-droid-fallback || fail "kiosk lacks the CJK font dependency"
# Maintainer scripts: POSIX sh syntax; every one exits 0 when run again.
for s in packaging/scripts/*; do sh -n "$s" || fail "$s: syntax"; done
# The example config is valid and the packaged one is it.
go run ./cmd/kioskctl check-config packaging/kiosk.example.toml >/dev/null || fail "example config invalid"
# Unit files.
if command -v systemd-analyze >/dev/null; then
  units=$(mktemp -d)
  cp packaging/systemd/*.service "$units/"
  # verify resolves ExecStart: point it at binaries that exist here.
  sed -i "s#/usr/bin/kioskd#$PWD/bin/kioskd#; s#/usr/bin/xinit#$(command -v true)#" "$units"/*.service
  out=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$units"/*.service 2>&1 | grep -v -e 'Failed to load\|ProtectHome\|No such file' || true)
  if echo "$out" | grep -qi 'unknown\|invalid\|error'; then fail "systemd-analyze verify: $out"; fi
  rm -rf "$units"
else
  echo "package-test: systemd-analyze not installed; unit files not verified" >&2
fi
# Install the daemon's packages into a throwaway root (unpack: files where documented).
root=$(mktemp -d)
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
dpkg --root="$root" --force-depends --force-not-root --unpack "$(deb common)" "$(deb kioskd)" >/dev/null 2>&1 ||
  dpkg --root="$root" --force-depends --unpack "$(deb common)" "$(deb kioskd)" >/dev/null
for f in usr/bin/kioskd lib/systemd/system/kioskd.service lib/udev/rules.d/70-citizenhome.rules; do
  [ -e "$root/$f" ] || fail "/$f not installed"
done
# A conffile is unpacked beside its place until the package is configured.
[ -e "$root/etc/citizenhome/kiosk.toml.dpkg-new" ] || [ -e "$root/etc/citizenhome/kiosk.toml" ] ||
  fail "/etc/citizenhome/kiosk.toml not installed"
"$root/usr/bin/kioskd" -h 2>&1 | grep -q -- -config || fail "installed kioskd does not run"
rm -rf "$root"
echo "package-test: ok (3 packages)"
