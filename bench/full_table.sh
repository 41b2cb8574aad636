#!/bin/sh
# bench/full_table.sh -- the whole performance table of docs/performance.md in one run:
# every TinyLlama-shaped model against llama.cpp, the machine's streaming rate, the
# logit lens and batches.  Meant for a quiet machine (nothing else running).
#
#   bench/full_table.sh MODELS_DIR [ROUNDS]
#
# MODELS_DIR holds tinyllama-syn-{q4_0,q4_k_m,q5_k_m,q6_k,q8_0}.gguf (made with the
# reference harness, docs/reference.md: `make_models.sh DIR --big`, then llama.cpp's
# quantize for the other types); a missing model is skipped and said so.
# ROUNDS (default 2) rounds per model of bench/llama_bench.sh (pp64 tg32, THREADS
# default "2"); then bench_bandwidth (2 threads, 4 KiB and 2 MiB pages), the lens
# (bench_llama --lens) and batches (bench_batch) on the Q4_0 model.
# Prints the raw output of every step, then a markdown summary.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
dir=${1:?usage: bench/full_table.sh MODELS_DIR [ROUNDS]}
rounds=${2:-2}
build=${BUILD:-$root/build}
threads=${THREADS:-2}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "full table: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$root" rev-parse --short HEAD), load $(cut -d' ' -f1-3 /proc/loadavg)"
for m in q4_0 q4_k_m q5_k_m q6_k q8_0; do
  f=$dir/tinyllama-syn-$m.gguf
  if [ ! -f "$f" ]; then
    echo "== $m: SKIPPED (no $f)"
    continue
  fi
  echo "== model $m"
  THREADS=$threads BUILD=$build "$here/llama_bench.sh" "$f" "$rounds" | tee -a "$log" |
    sed "s/^ratio /ratio [$m] /"
  echo "model-done $m" >>"$log"
done
echo "== bandwidth"
bw4=$("$build/bench/bench_bandwidth" 2 | tail -n 1)
bw2=$("$build/bench/bench_bandwidth" 2 --huge | tail -n 1)
echo "$bw4"
echo "$bw2"
q40=$dir/tinyllama-syn-q4_0.gguf
if [ -f "$q40" ]; then
  echo "== lens (Q4_0 model, Q6_K head)"
  "$build/bench/bench_llama" "$q40" --threads 2 --pp 64 --tg 0 --reps 5 --lens | tail -n 4
  echo "== batches (Q4_0 model)"
  "$build/bench/bench_batch" "$q40" --threads 2 | tail -n 6
fi
echo "== summary (medians; ratio = tl default / llama.cpp)"
/usr/bin/python3 - "$log" "$bw2" <<'PY'
import re, sys
model, rows, cur = None, {}, {}
for line in open(sys.argv[1]):
    line = line.rstrip('\n')
    if line.startswith('model /'):
        model = re.search(r'tinyllama-syn-([a-z0-9_]+)\.gguf', line).group(1)
        rows.setdefault(model, {})
    m = re.match(r'^(tl --huge-pages|tl mapped|tl|llama\.cpp)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)', line)
    if m and model:
        rows[model][(m.group(1), int(m.group(2)))] = tuple(float(m.group(i)) for i in range(3, 7))
bw = re.search(r'median ([\d.]+) GB/s', sys.argv[2])
print('| model | thr | tl pp64 | llama.cpp pp64 | **pp ratio** | tl tg32 | tl mapped tg32 | tl --huge-pages tg32 | llama.cpp tg32 | **tg ratio** | tl load s | tl RSS MiB | llama.cpp RSS MiB |')
print('|---|---|---|---|---|---|---|---|---|---|---|---|---|')
for model, r in rows.items():
    for t in sorted({k[1] for k in r}, reverse=True):
        tl, lc = r.get(('tl', t)), r.get(('llama.cpp', t))
        mp, hp = r.get(('tl mapped', t)), r.get(('tl --huge-pages', t))
        if not (tl and lc):
            continue
        print(f'| {model.upper()} | {t} | {tl[0]:.1f} | {lc[0]:.1f} | **{tl[0]/lc[0]:.2f}x** | {tl[1]:.1f} | '
              f'{mp[1] if mp else 0:.1f} | {hp[1] if hp else 0:.1f} | {lc[1]:.1f} | **{tl[1]/lc[1]:.2f}x** | '
              f'{tl[2]:.3f} | {tl[3]:.0f} | {lc[3]:.0f} |')
if bw and 'q4_0' in rows and ('tl', 2) in rows['q4_0']:
    print(f"Q4_0 generation, default, 2 threads: {rows['q4_0'][('tl', 2)][1]:.1f} tok/s; "
          f"bench_bandwidth 2 MiB pages {bw.group(1)} GB/s")
PY
