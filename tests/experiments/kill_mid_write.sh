#!/usr/bin/env bash
# kill_mid_write.sh TL -- an interrupted run never leaves a half-written result.
# Runs kill_writer.tl (which rewrites or appends to a result file forever), waits
# until a write is in flight (its hidden temporary file exists), sends SIGKILL,
# and checks that the result file is absent or holds only complete records.
# The leftover temporary file shows the kill really landed mid-write.
set -u
tl=$1
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
[[ -x $py ]] || { echo "SKIPPED: $py not found"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0

check() { # check FILE MODE: every record complete; append mode: numbered from 0
  "$py" - "$1" "$2" <<'PY'
import re, sys
path, mode = sys.argv[1], sys.argv[2]
data = open(path, 'rb').read()
rec = re.compile(rb'BEGIN (\d+)\n([0-9a-f]+)\nEND (\d+)\n')
pos, want, n = 0, 0, 0
while pos < len(data):
    m = rec.match(data, pos)
    if not m or m.group(1) != m.group(3) or len(m.group(2)) % 16:
        sys.exit('partial or corrupt record at byte %d of %d' % (pos, len(data)))
    if mode == 'append' and int(m.group(1)) != want:
        sys.exit('record %s where %d was expected' % (m.group(1).decode(), want))
    want += 1; n += 1; pos = m.end()
if mode == 'write' and n != 1:
    sys.exit('%d records in a rewritten file' % n)
print('ok: %d complete record(s), %d bytes' % (n, len(data)))
PY
}

trial() { # trial MODE REPS INDEX
  local mode=$1 reps=$2 k=$3 dir=$work/$1-$3
  mkdir -p "$dir"
  "$tl" run "$here/kill_writer.tl" -- "$dir/result.txt" "$mode" "$reps" &
  local pid=$!
  # wait for one complete version, then for the next write to be in flight
  local t=0 tmp=""
  while [[ ! -e $dir/result.txt ]] && ((t < 20000)); do sleep 0.001; ((t++)); done
  for ((t = 0; t < 20000; t++)); do
    tmp=$(compgen -G "$dir/.result.txt.tmp-*" | head -n1)
    [[ -n $tmp ]] && break
    sleep 0.001
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  if [[ -z $tmp ]]; then
    echo "$mode #$k: no write was caught in flight"; fail=1; return
  fi
  if [[ ! -e $dir/result.txt ]]; then
    echo "$mode #$k: the previous complete result disappeared"; fail=1; return
  fi
  local full=$(stat -c %s "$dir/result.txt")
  local left=$(compgen -G "$dir/.result.txt.tmp-*" | head -n1)
  local part=""
  [[ -n $left ]] && part=" (killed with a $(stat -c %s "$left")-byte temporary file in flight)"
  if out=$(check "$dir/result.txt" "$mode"); then
    echo "$mode #$k: $out$part"
  else
    echo "$mode #$k: FAILED: $out ($full bytes)"; fail=1
  fi
}

for k in 1 2 3; do trial write 20 "$k"; done # 16 MiB records
for k in 1 2 3; do trial append 16 "$k"; done # 1 MiB records, file grows
exit $fail
