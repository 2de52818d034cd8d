#!/usr/bin/env bash
# demo.sh KIOSK-BINARY: runs the kiosk in demo mode. Without a display (a server, a CI box) it
# starts a private Xvfb so the demo still runs; tickets and screenshots are then only files.
set -euo pipefail
bin=$1
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  command -v Xvfb >/dev/null || { echo "demo: no display and no Xvfb (apt-get install xvfb)" >&2; exit 1; }
  # -displayfd: Xvfb takes a free display number itself (lock files miss abstract sockets).
  dfile=$(mktemp)
  Xvfb -displayfd 9 -screen 0 1080x1920x24 -nolisten tcp 9>"$dfile" >/dev/null 2>&1 &
  xpid=$!
  trap 'kill $xpid 2>/dev/null || true; rm -f "$dfile"' EXIT
  deadline=$((SECONDS + 20))
  until [ -s "$dfile" ] && d=$(tr -dc 0-9 <"$dfile") && [ -S /tmp/.X11-unix/X$d ]; do
    [ $SECONDS -lt $deadline ] || { echo "demo: Xvfb did not start" >&2; exit 1; }
    sleep 0.05
  done
  export DISPLAY=:$d
  echo "demo: no display here; running on a virtual one ($DISPLAY). Screenshot: xwd -root -display $DISPLAY | convert xwd:- shot.png"
fi
exec "$bin" -demo
