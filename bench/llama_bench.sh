#!/bin/sh
# bench/llama_bench.sh -- tl against llama.cpp on one model, alternating runs.
#
#   bench/llama_bench.sh [MODEL.gguf] [ROUNDS]      (or TL_BENCH_MODEL=...)
#
# For each thread count in $THREADS (default "2 1") and each of ROUNDS rounds
# (default 3), runs build/bench/bench_llama (the stdlib forward pass through the
# interpreter) with the weights mapped (default) and read into huge pages
# (--huge-pages), and then, when $ORACLE exists, llama.cpp's bench (`oracle bench`,
# llama-bench through the reference harness of docs/reference.md; repack on, its
# defaults otherwise) with the same pp/tg, and
# prints one line per engine plus the ratio tl / llama.cpp of the medians.
# "tl" is the default (mapped, moved into huge pages in the background:
# runtime/gguf_migrate.c), "tl mapped" runs with TL_HUGE_PAGES=0.
# Knobs: BUILD (build dir, default build), ORACLE (path), PP (64), TG (32),
# REPS (reps per run, 3), THREADS ("2 1").
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
model=${1:-${TL_BENCH_MODEL:-}}
rounds=${2:-3}
build=${BUILD:-$root/build}
oracle=${ORACLE:-$root/../shared/oracle/oracle}
pp=${PP:-64}; tg=${TG:-32}; reps=${REPS:-3}
bin=$build/bench/bench_llama
[ -n "$model" ] && [ -f "$model" ] || { echo "llama_bench: no model at '$model' (make one with the reference harness: make_models.sh DIR --big, docs/reference.md)"; exit 1; }
[ -x "$bin" ] || { echo "llama_bench: build bench_llama first (cmake --build $build --target bench_llama)"; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "model $model, pp$pp tg$tg, $reps reps per run, $rounds rounds; $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$root" rev-parse --short HEAD)"
for t in ${THREADS:-2 1}; do
  for r in $(seq "$rounds"); do
    "$bin" "$model" --threads "$t" --pp "$pp" --tg "$tg" --reps "$reps" --json >>"$out"
    TL_HUGE_PAGES=0 "$bin" "$model" --threads "$t" --pp "$pp" --tg "$tg" --reps "$reps" --json >>"$out"
    "$bin" "$model" --threads "$t" --pp "$pp" --tg "$tg" --reps "$reps" --huge-pages --json >>"$out"
    if [ -x "$oracle" ]; then
      "$oracle" bench "$model" --threads "$t" --pp "$pp" --tg "$tg" --reps "$reps" --json 2>/dev/null |
        tail -n 1 >>"$out" || true
    fi
  done
done
/usr/bin/python3 - "$out" <<'PY'
import json, sys, statistics as st
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')]
def key(r):
    e = r.get('engine', '')
    return (e if e.startswith('tl') else 'llama.cpp', r.get('threads') or r['settings']['threads'])
def fig(r):
    if r.get('engine', '').startswith('tl'):
        return r['pp_tok_s']['median'], r['tg_tok_s']['median'], r['load_s'], r['rss_peak_mib']
    return (r['pp_tok_s']['median'], r['tg_after_pp_tok_s']['median'], r['load_ms'] / 1000,
            r['rss_peak_mib'] - r['rss_node_baseline_mib'])
by = {}
for r in runs: by.setdefault(key(r), []).append(fig(r))
print(f"{'engine':16} {'thr':>3} {'pp tok/s':>10} {'tg tok/s':>10} {'load s':>7} {'RSS MiB':>8}  (medians over rounds; per round pp/tg)")
med = {}
for k in sorted(by, key=lambda k: (-k[1], k[0] == 'llama.cpp', k[0])):
    v = by[k]
    m = tuple(st.median(x[i] for x in v) for i in range(4))
    med[k] = m
    rounds = ' '.join(f"{x[0]:.1f}/{x[1]:.1f}" for x in v)
    print(f"{k[0]:16} {k[1]:>3} {m[0]:>10.2f} {m[1]:>10.2f} {m[2]:>7.3f} {m[3]:>8.1f}  {rounds}")
for t in sorted({k[1] for k in med}, reverse=True):
    for e in ('tl', 'tl mapped', 'tl --huge-pages'):
        a, b = med.get((e, t)), med.get(('llama.cpp', t))
        if a and b:
            print(f"ratio {e}/llama.cpp, {t} thread(s): pp {a[0]/b[0]:.2f}x  tg {a[1]/b[1]:.2f}x  load {a[2]/b[2]:.2f}x  RSS {a[3]/b[3]:.2f}x")
PY
