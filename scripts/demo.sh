#!/usr/bin/env bash
# demo.sh KIOSK-BINARY [HALLD-BINARY]: runs the kiosk in demo mode and, when HALLD-BINARY is given,
# the hall controller beside it (halld demo) on the demo's broker: the broker the kiosk demo runs
# on 127.0.0.1:1883, with the controller's account it writes beside its store. halld prints the
# counter and display URLs with the demo's accounts. Without a display (a server, a CI box) a
# private Xvfb is started so the demo still runs; tickets and screenshots are then only files.
# Everything is marked as demo, and stops when the kiosk's window is closed (or on Ctrl-C).
set -euo pipefail
bin=$1
halld=${2:-}
# Where both keep their data (the kiosk's default: ~/.local/share/citizenhome).
data=${XDG_DATA_HOME:-$HOME/.local/share}/citizenhome
mkdir -p "$data"

# The kiosk's spoken prompts, synthesised once into the demo's data (kiosk -demo reads them there).
if [ ! -s "$data/prompts/zh/card-read.wav" ]; then
  echo "demo: synthesising the kiosk's prompts (espeak-ng) into $data/prompts"
  "$(dirname "$0")/clips.sh" --from "$(dirname "$0")/../kiosk/prompt/clips.tsv" "$data/prompts" >/dev/null ||
    echo "demo: no prompts (is espeak-ng installed? scripts/deps.sh demo): the kiosk will be silent" >&2
fi

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -z "${dfile:-}" ] || rm -f "$dfile"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  command -v Xvfb >/dev/null || { echo "demo: no display and no Xvfb (apt-get install xvfb)" >&2; exit 1; }
  # -displayfd: Xvfb takes a free display number itself (lock files miss abstract sockets).
  dfile=$(mktemp)
  Xvfb -displayfd 9 -screen 0 1080x1920x24 -nolisten tcp 9>"$dfile" >/dev/null 2>&1 &
  pids+=($!)
  deadline=$((SECONDS + 20))
  until [ -s "$dfile" ] && d=$(tr -dc 0-9 <"$dfile") && [ -S "/tmp/.X11-unix/X$d" ]; do
    [ $SECONDS -lt $deadline ] || { echo "demo: Xvfb did not start" >&2; exit 1; }
    sleep 0.05
  done
  export DISPLAY=:$d
  echo "demo: no display here; running on a virtual one ($DISPLAY). Screenshot: xwd -root -display $DISPLAY | convert xwd:- shot.png"
fi

if [ -z "$halld" ]; then
  "$bin" -demo -data "$data" &
  pids+=($!)
  wait $!
  exit $?
fi

# The kiosk demo writes fresh broker accounts at every start: an old controller account file
# would only be refused, so halld waits for the new one.
creds=$data/mqtt-controller.credentials
rm -f "$creds"
"$bin" -demo -data "$data" -demo-halld http://127.0.0.1:8480 &
kiosk=$!
pids+=("$kiosk")

# The announcements' clips, synthesised once into the demo's data (halld demo reads them there).
if [ ! -s "$data/clips/zh/digit-0.wav" ]; then
  echo "demo: synthesising the announcement clips (espeak-ng) into $data/clips"
  "$(dirname "$0")/clips.sh" "$data/clips" >/dev/null ||
    echo "demo: no clips (is espeak-ng installed? scripts/deps.sh demo): the display's calls will be silent" >&2
fi

# halld starts once the kiosk's broker accepts connections and its account file is written.
broker_up() { (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; }
deadline=$((SECONDS + 60))
until [ -s "$creds" ] && broker_up; do
  if ! kill -0 "$kiosk" 2>/dev/null; then
    wait "$kiosk" || exit $?
    exit 0
  fi
  if [ $SECONDS -ge $deadline ]; then
    echo "demo: the kiosk's demo broker did not come up on 127.0.0.1:1883 within 60 s (port taken? ss -ltnp 'sport = :1883')." >&2
    echo "demo: the kiosk runs on without the hall controller." >&2
    wait "$kiosk"
    exit $?
  fi
  sleep 0.1
done

# halld's log goes to a file (the terminal is the kiosk's); what it prints on standard output,
# the demo's URLs and accounts, comes here.
log=$data/halld-demo.log
echo "demo: starting the hall controller (DEMO hall, log in $log)"
"$halld" demo -data "$data" 2>"$log" &
hpid=$!
pids+=("$hpid")

# Until the kiosk's window is closed; if halld stops on its own, the kiosk carries on (its tickets
# then come from its lease, as in a real hall) and the end of halld's log says why.
while kill -0 "$kiosk" 2>/dev/null; do
  if [ -n "$hpid" ] && ! kill -0 "$hpid" 2>/dev/null; then
    wait "$hpid" && st=0 || st=$?
    echo "demo: the hall controller stopped (status $st); the kiosk carries on. The end of $log:" >&2
    tail -n 20 "$log" >&2
    hpid=
  fi
  sleep 0.5
done
wait "$kiosk"
