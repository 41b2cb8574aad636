#!/usr/bin/env bash
# term_signals.sh TL -- SIGTERM and SIGHUP in the middle of an atomic write
# (app/term_signals.h): `tl run` and the REPL leave no hidden temporary file
# ".big.tmp-PID-N" behind, the target is either untouched or complete, and the
# exit status is 128 + the signal.  A script appends to a 16 MB file in a loop
# (each append copies the file into a temporary one, so one is nearly always
# being written); the signal is sent as soon as a temporary file is seen.
set -u
tl=$(realpath "$1")
work=$(mktemp -d)
tlpid=
cleanup() { [[ -n $tlpid ]] && kill -KILL "$tlpid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work" || exit 2
fail=0
size=$((16 * 1024 * 1024))
head -c $size /dev/zero >orig
printf 'main { loop { append_file("big", "x\\n") } }\n' >s.tl
printf 'loop { append_file("big", "x\\n") }\n' >repl.in

# case NAME SIGNAL WANT_STATUS COMMAND...
case_() {
  local name=$1 sig=$2 want=$3
  shift 3
  cp orig big
  "$@" >/dev/null 2>&1 &
  tlpid=$!
  local seen=
  for _ in $(seq 400); do # up to 20 s for the first temporary file
    if compgen -G '.big.tmp-*' >/dev/null; then seen=1; break; fi
    kill -0 "$tlpid" 2>/dev/null || break
    sleep 0.05
  done
  if [[ -z $seen ]]; then echo "$name: no temporary file was ever seen"; fail=1; fi
  kill -"$sig" "$tlpid"
  wait "$tlpid"
  local code=$? left
  tlpid=
  left=$(compgen -G '.big.tmp-*')
  local got=$(stat -c %s big) extra
  extra=$((got - size))
  if [[ $code != "$want" ]]; then echo "$name: exit status $code, expected $want"; fail=1
  elif [[ -n $left ]]; then echo "$name: temporary file left behind: $left"; rm -f .big.tmp-*; fail=1
  elif ((extra < 0 || extra % 2)) || ! cmp -s -n $size orig big ||
    [[ $extra -gt 0 && -n $(tail -c $extra big | tr -d 'x\n') ]]; then
    echo "$name: target neither untouched nor complete ($got bytes)"; fail=1
  else
    echo "$name: ok ($((extra / 2)) appends complete)"
  fi
}

case_ "tl run, SIGTERM" TERM 143 "$tl" run s.tl
case_ "tl run, SIGHUP" HUP 129 "$tl" run s.tl
case_ "tl repl (piped), SIGTERM" TERM 143 sh -c 'exec "$0" repl <repl.in' "$tl"
case_ "tl (stdin script), SIGHUP" HUP 129 sh -c 'exec "$0" <repl.in' "$tl"
exit $fail
