#!/bin/sh
# bench/hooks_overhead.sh -- does the stdlib's forward() pay for hook points nobody
# asked for?  Runs bench/hooks_overhead.tl (N one-token forward() calls) with the
# stdlib of BASE (default 133995a, the last commit before the hook points) and with
# this tree's stdlib, alternating, REPS times each, and prints the medians and their
# ratio (docs/interp.md "Cost of the hook points").
#
#   bench/hooks_overhead.sh [MODEL.gguf] [N] [REPS]
#   COUNT=callgrind bench/hooks_overhead.sh [MODEL.gguf] [N]
#       counts instructions instead (valgrind --tool=callgrind, --threads 1 so no pool
#       spinning is counted, one run each: exact and
#       immune to a busy machine; the whole process, model load included)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
models=${TL_TEST_MODELS:-$root/../shared/models}
model=${1:-${TL_BENCH_MODEL:-$models/stories260K.gguf}}
n=${2:-200}
reps=${3:-7}
base=${BASE:-133995a}
tl=${TL:-$root/build/tl}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/old" "$work/new"
for f in llama sampling chat; do git -C "$root" show "$base:stdlib/$f.tl" >"$work/old/$f.tl"; done
cp "$root"/stdlib/*.tl "$work/new/"
cp "$here/hooks_overhead.tl" "$work/old/"
cp "$here/hooks_overhead.tl" "$work/new/"
if [ "${COUNT:-}" = callgrind ]; then
  for v in old new; do
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$tl" run --threads 1 "$work/$v/hooks_overhead.tl" -- \
      "$model" "$n" 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p' >"$work/$v.ir"
  done
  o=$(cat "$work/old.ir") w=$(cat "$work/new.ir")
  echo "model $(basename "$model"), $n decode steps, instructions (callgrind, whole process):"
  echo "  before hook points: $o"
  echo "  with hook points:   $w"
  /usr/bin/python3 -c "import sys; print(f'  ratio with/before:  {int(sys.argv[2]) / int(sys.argv[1]):.4f}')" "$o" "$w"
  exit 0
fi
: >"$work/old.txt"
: >"$work/new.txt"
i=0
while [ "$i" -lt "$reps" ]; do
  "$tl" run "$work/old/hooks_overhead.tl" -- "$model" "$n" >>"$work/old.txt"
  "$tl" run "$work/new/hooks_overhead.tl" -- "$model" "$n" >>"$work/new.txt"
  i=$((i + 1))
done
/usr/bin/python3 - "$work/old.txt" "$work/new.txt" "$model" "$n" <<'PY'
import statistics, sys
old = [float(x) for x in open(sys.argv[1])]
new = [float(x) for x in open(sys.argv[2])]
mo, mn = statistics.median(old), statistics.median(new)
n = int(sys.argv[4])
print(f"model {sys.argv[3].split('/')[-1]}, {n} decode steps, {len(old)} runs each (median, min-max)")
print(f"  before hook points: {1000 * mo / n:.3f} ms/token ({1000 * min(old) / n:.3f}-{1000 * max(old) / n:.3f})")
print(f"  with hook points:   {1000 * mn / n:.3f} ms/token ({1000 * min(new) / n:.3f}-{1000 * max(new) / n:.3f})")
print(f"  ratio with/before:  {mn / mo:.4f}")
PY
