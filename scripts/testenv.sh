#!/usr/bin/env bash
# testenv.sh CMD...: starts the real components the tests run against, waits until each answers
# (polling with a deadline, never a fixed sleep), runs CMD with their addresses in the environment,
# and stops them afterwards, whatever CMD's outcome.
#
# Started here:
#   Xvfb     a real X server for the window smoke test   -> CITIZENHOME_TEST_DISPLAY
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state=$(mktemp -d /tmp/citizenhome-testenv.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$state"
}
trap cleanup EXIT

# wait_for DESC SECONDS CMD...: polls CMD every 50 ms until it succeeds or the deadline passes.
wait_for() {
  local desc=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      echo "testenv: $desc not ready after ${secs}s" >&2
      return 1
    fi
    sleep 0.05
  done
}

# Xvfb on the first free display number from 90.
if command -v Xvfb >/dev/null; then
  d=90
  while [ -e /tmp/.X11-unix/X$d ] || [ -e /tmp/.X$d-lock ]; do d=$((d + 1)); done
  Xvfb :$d -screen 0 1080x1920x24 -nolisten tcp >"$state/xvfb.log" 2>&1 &
  pids+=($!)
  wait_for "Xvfb :$d" 20 test -S /tmp/.X11-unix/X$d
  export CITIZENHOME_TEST_DISPLAY=:$d
else
  echo "testenv: Xvfb missing (run scripts/deps.sh test); the window smoke test will be skipped" >&2
fi

"$@"
