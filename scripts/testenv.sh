#!/usr/bin/env bash
# testenv.sh CMD...: starts the real components the tests run against, waits until each answers
# (polling with a deadline, never a fixed sleep), runs CMD with their addresses in the environment,
# and stops them afterwards, whatever CMD's outcome.
#
# Started here:
#   Xvfb     a real X server for the window smoke test   -> CITIZENHOME_TEST_DISPLAY
#   pcscd    a private pcscd with three vpcd virtual readers, "ID card reader", "City card reader"
#            and "PSAM reader" (the payment module's slot, issue 8)
#            -> CITIZENHOME_VPCD_ID_PORT, CITIZENHOME_VPCD_CITY_PORT, CITIZENHOME_VPCD_PSAM_PORT
#               (where virtual cards connect),
#               CITIZENHOME_PCSCD_CONF (its reader.conf.d), CITIZENHOME_PCSCD_CMD (its command line),
#               CITIZENHOME_PCSCD_PIDFILE, CITIZENHOME_PCSCD_CTL (write "start" to restart it after a
#               test killed it), CITIZENHOME_PCSCD_LOG, CITIZENHOME_PCSC_LOCK (tests that use pcscd
#               take this flock, since go test runs packages in parallel); see devices/pcsc/pcsctest.
#   mosquitto a private Mosquitto with the telemetry contract's accounts and ACL (password file,
#            packaging/mosquitto/citizenhome-acl), each kiosk account bound to its client id
#            (citizenhome-acl -b, the dynamic-security plugin), persistence on
#            -> CITIZENHOME_MQTT_URL, CITIZENHOME_MQTT_HALL, CITIZENHOME_MQTT_KIOSKS (kiosk ids with
#               accounts kiosk-HALL-ID, all with CITIZENHOME_MQTT_KIOSK_PASSWORD),
#               CITIZENHOME_MQTT_STAFF_USER/_PASSWORD, CITIZENHOME_MQTT_CONTROLLER_USER/_PASSWORD;
#               see telemetry/mqtttest. Tests that kill a broker start their own.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state=$(mktemp -d /tmp/citizenhome-testenv.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pcscd_cleanup
  rm -rf "$state"
}
pcscd_cleanup() { :; } # redefined once pcscd is started
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

# Xvfb on a display number it finds free itself (-displayfd): a display is also held by its
# abstract socket, which lock files do not show (another root sharing the network, a container).
if command -v Xvfb >/dev/null; then
  Xvfb -displayfd 9 -screen 0 1080x1920x24 -nolisten tcp 9>"$state/xvfb.display" >"$state/xvfb.log" 2>&1 &
  pids+=($!)
  if ! wait_for "Xvfb" 20 test -s "$state/xvfb.display"; then
    cat "$state/xvfb.log" >&2
    exit 1
  fi
  d=$(tr -dc 0-9 <"$state/xvfb.display")
  wait_for "Xvfb :$d" 20 test -S /tmp/.X11-unix/X$d
  export CITIZENHOME_TEST_DISPLAY=:$d
else
  echo "testenv: Xvfb missing (run scripts/deps.sh test); the window smoke test will be skipped" >&2
fi

# pcscd: one per machine (its socket is /run/pcscd/pcscd.comm, whatever the configuration), so a
# machine-wide lock keeps two test runs from fighting over it; the run that does not get it runs
# without pcscd (its pcscd tests skip, or fail under CI=true). A pcscd running without the lock
# (a system one, a leftover) is stopped: the tests need their own readers.
# A supervisor keeps pcscd as its child: tests kill pcscd with SIGKILL, then write "start" to the
# control FIFO to have it started again (same command line, same configuration directory, which
# a test may have edited meanwhile).
vpcd_so=$(dpkg -L vsmartcard-vpcd 2>/dev/null | grep -m1 '/libifdvpcd\.so$' || true)
if ! command -v pcscd >/dev/null || [ -z "$vpcd_so" ] || ! command -v flock >/dev/null; then
  echo "testenv: pcscd or vsmartcard-vpcd missing (run scripts/deps.sh test); PC/SC tests will be skipped" >&2
elif [ "$(id -u)" -ne 0 ] && ! { mkdir -p /run/pcscd 2>/dev/null && [ -w /run/pcscd ]; }; then
  echo "testenv: pcscd needs root (or a writable /run/pcscd); PC/SC tests will be skipped" >&2
elif ! { exec {pcsc_machine_lock}>/tmp/citizenhome-pcscd.lock && flock -n "$pcsc_machine_lock"; }; then
  echo "testenv: another test run is using pcscd; PC/SC tests will be skipped" >&2
else
  # listening PORT: a TCP socket listens on PORT (read from /proc: connecting to a vpcd port
  # would look like a card to it).
  listening() {
    local p
    p=$(printf ':%04X' "$1")
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p="$p" '$2 ~ p"$" && $4 == "0A" {f = 1} END {exit !f}'
  }
  pcscd_alive() { # a pcscd that is not a zombie
    local p
    for p in $(pgrep -x pcscd || true); do
      [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] && return 0
    done
    return 1
  }
  if pcscd_alive; then
    echo "testenv: stopping the pcscd already running (pid $(pgrep -x pcscd | tr '\n' ' '))" >&2
    pkill -x pcscd || true
    wait_for "the old pcscd to stop" 10 bash -c "$(declare -f pcscd_alive); ! pcscd_alive"
  fi
  # Each vpcd entry makes two slots, on PORT and PORT+1: six free ports from 35963 (the ID and
  # city readers keep the first four, as before the PSAM reader came).
  ports_free() {
    local p
    for p in $(seq "$1" $(($1 + 5))); do listening "$p" && return 1; done
    return 0
  }
  id_port=35963
  until ports_free $id_port; do
    id_port=$((id_port + 6))
  done
  city_port=$((id_port + 2))
  psam_port=$((id_port + 4))
  pcsc=$state/pcsc
  mkdir -p "$pcsc/reader.conf.d" "$pcsc/lib"
  # One copy of the driver per entry: entries that share a LIBPATH overwrite each other.
  for r in "id:ID card reader:$id_port" "city:City card reader:$city_port" "psam:PSAM reader:$psam_port"; do
    IFS=: read -r key name port <<<"$r"
    cp "$vpcd_so" "$pcsc/lib/libifdvpcd-$key.so"
    printf 'FRIENDLYNAME "%s"\nDEVICENAME   /dev/null:0x%04X\nLIBPATH      %s\nCHANNELID    0x%04X\n' \
      "$name" "$port" "$pcsc/lib/libifdvpcd-$key.so" "$port" >"$pcsc/reader.conf.d/$key"
  done
  export CITIZENHOME_PCSCD_CONF=$pcsc/reader.conf.d
  export CITIZENHOME_PCSCD_CMD="pcscd --foreground --error -c $CITIZENHOME_PCSCD_CONF"
  export CITIZENHOME_PCSCD_PIDFILE=$pcsc/pcscd.pid
  export CITIZENHOME_PCSCD_CTL=$pcsc/ctl
  export CITIZENHOME_PCSCD_LOG=$pcsc/pcscd.log
  export CITIZENHOME_PCSC_LOCK=$pcsc/tests.lock
  mkfifo "$CITIZENHOME_PCSCD_CTL"
  : >"$CITIZENHOME_PCSC_LOCK"
  (
    set +e
    child=
    trap '[ -n "$child" ] && kill -KILL "$child" 2>/dev/null && wait "$child" 2>/dev/null; exit 0' TERM
    exec {ctl}<>"$CITIZENHOME_PCSCD_CTL" # read-write: opening never blocks, reading never sees EOF
    while :; do
      # A pcscd killed with SIGKILL leaves its socket, and the next one would check the pid file.
      rm -f /run/pcscd/pcscd.comm
      $CITIZENHOME_PCSCD_CMD </dev/null >>"$CITIZENHOME_PCSCD_LOG" 2>&1 {ctl}>&- {pcsc_machine_lock}>&- &
      child=$!
      echo "$child" >"$CITIZENHOME_PCSCD_PIDFILE.new" && mv "$CITIZENHOME_PCSCD_PIDFILE.new" "$CITIZENHOME_PCSCD_PIDFILE"
      wait "$child" 2>/dev/null # no "Killed" notice: tests kill it on purpose
      child=
      word=
      until [ "$word" = start ]; do
        read -r -t 1 word <&"$ctl" || word=
      done
    done
  ) &
  pids+=($!)
  pcscd_cleanup() {
    # The supervisor kills its pcscd on TERM; this is for one it lost track of.
    local p
    p=$(cat "$CITIZENHOME_PCSCD_PIDFILE" 2>/dev/null || true)
    if [ -n "$p" ]; then kill -KILL "$p" 2>/dev/null || true; fi
    rm -f /run/pcscd/pcscd.comm
  }
  if ! wait_for "pcscd's vpcd ports $id_port, $city_port and $psam_port" 20 \
    bash -c "$(declare -f listening); listening $id_port && listening $city_port && listening $psam_port"; then
    cat "$CITIZENHOME_PCSCD_LOG" >&2
    exit 1
  fi
  export CITIZENHOME_VPCD_ID_PORT=$id_port CITIZENHOME_VPCD_CITY_PORT=$city_port CITIZENHOME_VPCD_PSAM_PORT=$psam_port
fi


# mosquitto (telemetry): one for this run, on the first free port from 18830, with the contract's
# ACL and a password file made here. Ready means a real round trip: a kiosk account publishes,
# the staff account receives it.
mosquitto_bin=$(command -v mosquitto || { [ -x /usr/sbin/mosquitto ] && echo /usr/sbin/mosquitto; } || true)
if [ -z "$mosquitto_bin" ] || ! command -v mosquitto_passwd >/dev/null || ! command -v mosquitto_sub >/dev/null; then
  echo "testenv: mosquitto or mosquitto-clients missing (run scripts/deps.sh test); MQTT tests will be skipped" >&2
else
  mqtt_busy() { # PORT: something listens there
    local p
    p=$(printf ':%04X' "$1")
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p="$p" '$2 ~ p"$" && $4 == "0A" {f = 1} END {exit !f}'
  }
  mqtt_port=18830
  while mqtt_busy $mqtt_port; do mqtt_port=$((mqtt_port + 1)); done
  mqtt=$state/mosquitto
  mkdir -p "$mqtt/data"
  mqtt_secret() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
  export CITIZENHOME_MQTT_URL=tcp://127.0.0.1:$mqtt_port
  export CITIZENHOME_MQTT_HALL=test
  export CITIZENHOME_MQTT_KIOSKS="$(seq -f 'k%02g' 1 60 | tr '\n' ' ')"
  export CITIZENHOME_MQTT_KIOSK_PASSWORD=$(mqtt_secret)
  export CITIZENHOME_MQTT_STAFF_USER=ops-test CITIZENHOME_MQTT_STAFF_PASSWORD=$(mqtt_secret)
  export CITIZENHOME_MQTT_CONTROLLER_USER=ctl-test CITIZENHOME_MQTT_CONTROLLER_PASSWORD=$(mqtt_secret)
  {
    echo "$CITIZENHOME_MQTT_STAFF_USER:$CITIZENHOME_MQTT_STAFF_PASSWORD"
    echo "$CITIZENHOME_MQTT_CONTROLLER_USER:$CITIZENHOME_MQTT_CONTROLLER_PASSWORD"
    for k in $CITIZENHOME_MQTT_KIOSKS; do echo "kiosk-$CITIZENHOME_MQTT_HALL-$k:$CITIZENHOME_MQTT_KIOSK_PASSWORD"; done
  } >"$mqtt/passwd"
  chmod 600 "$mqtt/passwd"
  mosquitto_passwd -U "$mqtt/passwd"
  # shellcheck disable=SC2086 # the kiosk ids are words
  "$here/../packaging/mosquitto/citizenhome-acl" -c "$CITIZENHOME_MQTT_CONTROLLER_USER" \
    -s "$CITIZENHOME_MQTT_STAFF_USER" "$CITIZENHOME_MQTT_HALL" $CITIZENHOME_MQTT_KIOSKS >"$mqtt/acl"
  # Each kiosk account bound to its own client id, as packaging/mosquitto/citizenhome.conf does.
  # shellcheck disable=SC2086
  "$here/../packaging/mosquitto/citizenhome-acl" -b "$CITIZENHOME_MQTT_HALL" $CITIZENHOME_MQTT_KIOSKS >"$mqtt/bind.json"
  cat >"$mqtt/mosquitto.conf" <<CONF
user $(id -un)
per_listener_settings false
listener $mqtt_port 127.0.0.1
allow_anonymous false
password_file $mqtt/passwd
acl_file $mqtt/acl
plugin mosquitto_dynamic_security.so
plugin_opt_config_file $mqtt/bind.json
persistence true
persistence_location $mqtt/data/
autosave_interval 1
max_queued_messages 0
max_inflight_messages 0
set_tcp_nodelay true
log_dest file $mqtt/mosquitto.log
log_type error
log_type warning
CONF
  "$mosquitto_bin" -c "$mqtt/mosquitto.conf" >>"$mqtt/mosquitto.out" 2>&1 &
  pids+=($!)
  # A kiosk account under its own client id (nothing runs yet whose session it could end; under
  # another id the binding refuses it, which the loop below would report as not ready).
  mqtt_roundtrip() {
    local k=kiosk-$CITIZENHOME_MQTT_HALL-k01 topic=citizenhome/v1/$CITIZENHOME_MQTT_HALL/k01/status got
    local marker=ready-$RANDOM$RANDOM
    mosquitto_pub -p "$mqtt_port" -h 127.0.0.1 -u "$k" -P "$CITIZENHOME_MQTT_KIOSK_PASSWORD" -i "$k" \
      -q 1 -r -t "$topic" -m "{\"$marker\":1}" || return 1
    got=$(mosquitto_sub -p "$mqtt_port" -h 127.0.0.1 -u "$CITIZENHOME_MQTT_STAFF_USER" -P "$CITIZENHOME_MQTT_STAFF_PASSWORD" \
      -q 1 -t "$topic" -C 1 -W 2 2>/dev/null) || return 1
    mosquitto_pub -p "$mqtt_port" -h 127.0.0.1 -u "$k" -P "$CITIZENHOME_MQTT_KIOSK_PASSWORD" -i "$k" \
      -q 1 -r -t "$topic" -n || return 1
    [[ $got == *"$marker"* ]]
  }
  if ! wait_for "mosquitto on port $mqtt_port" 20 mqtt_roundtrip; then
    cat "$mqtt/mosquitto.log" >&2 || true
    exit 1
  fi
fi

# CMD does not get the pcscd lock's descriptor: a process it leaves behind (a socat of a test
# killed half-way) would otherwise hold the lock, and every later run would skip its PC/SC tests.
if [ -n "${pcsc_machine_lock:-}" ]; then
  "$@" {pcsc_machine_lock}>&-
else
  "$@"
fi
