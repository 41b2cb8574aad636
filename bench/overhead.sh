#!/bin/sh
# bench/overhead.sh -- the share of generation time spent outside the kernels.
#
#   bench/overhead.sh [MODEL.gguf] [THREADS]       (needs linux perf)
#
# Samples bench_llama (pp 8, tg 64, 1 rep) with `perf record` and sorts every
# sample by the function it hit:
#   interpreter  functions of the tl_lang library (evaluator, values, builtins'
#                argument handling) and libc's allocator / string compares
#                (name lookups); libc's memcpy/memset (mostly the ops' f32
#                copies, per a call-graph profile) count as "other"
#   pool wait    the thread pool's spinning and sleeping (tl_parallel_for,
#                worker_main, futex)
#   kernels      everything else in tl_runtime (matmul, attention, norms, ...)
#   kernel(OS)   the Linux kernel (page faults, scheduling)
# and prints each share of the calling thread's samples, i.e. of wall-clock
# time (the workers, named tl-worker, are left out).  The interpreter share is
# the issue's "interpreter overhead" (target < 2% of generation time).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
model=${1:-${TL_BENCH_MODEL:-/work/models/tinyllama-syn-q4_0.gguf}}
threads=${2:-1}
build=${BUILD:-$root/build}
data=$(mktemp)
trap 'rm -f "$data" "$data.syms"' EXIT
perf record -q -o "$data" "$build/bench/bench_llama" "$model" --threads "$threads" --pp 8 --tg 64 --reps 1 >/dev/null 2>&1
nm --defined-only "$build/lang/libtl_lang.a" 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u >"$data.syms"
# only the calling thread (comm bench_llama; the pool's workers are tl-worker):
# it is busy for the whole run (interpreting, in kernels or waiting for the
# workers), so its shares are shares of wall-clock generation time
perf report -i "$data" --comms bench_llama --percentage relative --no-children --sort dso,sym --percent-limit 0 --stdio 2>/dev/null |
  /usr/bin/python3 -c '
import re, sys
lang = set(open(sys.argv[1]).read().split())
libc_interp = re.compile(r"(malloc|free|calloc|realloc|cfree|_int_|strcmp|strncmp|strlen|memcmp|tcache|unlink)")
wait = re.compile(r"(tl_parallel_for|worker_main|run_chunks|futex|pthread_cond|pthread_mutex|__lll_|sched_yield)")
tot = {"interpreter": 0.0, "pool wait": 0.0, "kernels": 0.0, "kernel(OS)": 0.0, "other": 0.0}
top = {}
for line in sys.stdin:
    m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(\S+)", line)
    if not m: continue
    pct, dso, kind, sym = float(m.group(1)), m.group(2), m.group(3), m.group(4)
    if kind == "k": c = "kernel(OS)"
    elif sym in lang: c = "interpreter"
    elif wait.search(sym): c = "pool wait"
    elif "libc" in dso and libc_interp.search(sym): c = "interpreter"
    elif "bench_llama" in dso: c = "kernels"
    else: c = "other"
    tot[c] += pct
    if c == "interpreter": top[sym] = top.get(sym, 0) + pct
for k, v in tot.items(): print(f"{k:12} {v:6.2f}%")
print("top interpreter symbols:", ", ".join(f"{s} {p:.2f}%" for s, p in sorted(top.items(), key=lambda x: -x[1])[:6]))
' "$data.syms"
