#!/usr/bin/env bash
# bench-idle-rss.sh [DURATION]: starts the kiosk in demo mode on a private Xvfb, leaves it idle
# for DURATION (default 10m, as the issue asks), and prints its resident memory every minute and
# at the end. Needs bin/kiosk (make build; KIOSK=path for another build) and Xvfb.
set -euo pipefail
dur=${1:-10m}
cd "$(dirname "$0")/.."
secs=$(( $(echo "$dur" | sed 's/m$/*60/; s/s$//' ) ))
data=$(mktemp -d)
# -displayfd: Xvfb takes a free display number itself (lock files miss abstract sockets).
Xvfb -displayfd 9 -screen 0 1080x1920x24 -nolisten tcp 9>"$data/display" >/dev/null 2>&1 &
xpid=$!
kpid=
trap 'kill $kpid $xpid 2>/dev/null || true; rm -rf "$data"' EXIT
deadline=$((SECONDS + 20))
until [ -s "$data/display" ] && d=$(tr -dc 0-9 <"$data/display") && [ -S /tmp/.X11-unix/X$d ]; do [ $SECONDS -lt $deadline ] || exit 1; sleep 0.05; done
DISPLAY=:$d "${KIOSK:-bin/kiosk}" -demo -data "$data" >"$data/log" 2>&1 &
kpid=$!
start=$SECONDS
while [ $((SECONDS - start)) -lt "$secs" ]; do
  kill -0 $kpid 2>/dev/null || { echo "kiosk exited"; cat "$data/log"; exit 1; }
  echo "t=$((SECONDS - start))s $(grep -E 'VmRSS|VmHWM' /proc/$kpid/status | tr -s ' \n' ' ')"
  sleep 60 & wait $!
done
echo "final t=$((SECONDS - start))s $(grep -E 'VmRSS|VmHWM' /proc/$kpid/status | tr -s ' \n' ' ')"
