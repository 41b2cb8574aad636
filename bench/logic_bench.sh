#!/usr/bin/env bash
# bench/logic_bench.sh [TL] -- logic programming: tl against SWI-Prolog with tabling on the same
# facts, same machine, same run (never run by ctest; figures go in docs/performance.md).
#
# Graphs (fixed seeds, written as TSV for tl and as Prolog facts for SWI):
#   random  2,000 nodes / 10,000 distinct edges
#   chain   10,000 nodes (n0 -> n1 -> ... -> n9999)
#   dense   1,000 nodes at 5% density (50,000 distinct edges)
# Programs (same rules in both; SWI tables tc/2 and sg/2):
#   tc  transitive closure, right-recursive, all pairs counted  (chain: tc(n0, X) only,
#       left-recursive -- all pairs of a chain would be 50M answers)
#   sg  same generation: sg(x, y) <- e(p, x), e(p, y);  sg(x, y) <- e(a, x), sg(a, b), e(b, y)
# Each run prints the answer count (both must agree), wall seconds and peak RSS.
# Installs Debian swi-prolog-nox when swipl is missing (needs root or sudo).
# TL_BENCH_TIMEOUT (default 600) caps every run in seconds.
set -u
here=$(cd "$(dirname "$0")" && pwd)
tl=${1:-$here/../build/tl}
limit=${TL_BENCH_TIMEOUT:-600}
if ! command -v swipl >/dev/null; then
  if [[ $(id -u) == 0 ]]; then apt-get install -y -q swi-prolog-nox >/dev/null
  else sudo apt-get install -y -q swi-prolog-nox >/dev/null; fi
fi
command -v swipl >/dev/null || { echo "swipl is not available"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# graph NAME: writes $work/NAME.tsv and $work/NAME.pl (e/2 facts)
python3 - "$work" <<'EOF'
import random, sys
w = sys.argv[1]
def write(name, edges):
    with open(f"{w}/{name}.tsv", "w") as f:
        for a, b in edges: f.write(f"n{a}\tn{b}\n")
    with open(f"{w}/{name}.pl", "w") as f:
        for a, b in edges: f.write(f"e(n{a},n{b}).\n")
def rand(n, m, seed):
    r = random.Random(seed); s = set()
    while len(s) < m: s.add((r.randrange(n), r.randrange(n)))
    return sorted(s)
write("random", rand(2000, 10000, 1))
write("chain", [(i, i + 1) for i in range(9999)])
write("dense", rand(1000, 50000, 2))
EOF

tc_tl='tc(x, y) <- e(x, y)
tc(x, z) <- e(x, y), tc(y, z)'
tcl_tl='tc(x, y) <- e(x, y)
tc(x, z) <- tc(x, y), e(y, z)'
sg_tl='sg(x, y) <- e(p, x), e(p, y)
sg(x, y) <- e(a, x), sg(a, b), e(b, y)'
tc_pl=':- table tc/2.
tc(X, Y) :- e(X, Y).
tc(X, Z) :- e(X, Y), tc(Y, Z).'
tcl_pl=':- table tc/2.
tc(X, Y) :- e(X, Y).
tc(X, Z) :- tc(X, Y), e(Y, Z).'
sg_pl=':- table sg/2.
sg(X, Y) :- e(P, X), e(P, Y).
sg(X, Y) :- e(A, X), sg(A, B), e(B, Y).'

# run LABEL CMD...: prints "count seconds MB" or "timeout"
measure() {
  local out
  out=$( { /usr/bin/time -f "TIME %e %M" timeout "$limit" "$@" ; } 2>&1 )
  local count t
  count=$(grep -v '^TIME' <<<"$out" | grep -Eo '[0-9]+' | tail -1)
  t=$(grep '^TIME' <<<"$out" | tail -1)
  if grep -q "Command exited with non-zero status 124" <<<"$out"; then echo "timeout(${limit}s)"; return; fi
  read -r _ secs kb <<<"$t"
  printf '%s %s %.0f\n' "${count:-?}" "$secs" "$(echo "$kb / 1024" | bc -l)"
}

case_run() { # graph prog rules_tl rules_pl tl_goal pl_goal
  local g=$1 p=$2
  cat > "$work/$g-$p.tl" <<EOF
relation e(x: entity, y: entity)
relation tc(x: entity, y: entity)
relation sg(x: entity, y: entity)
$3
main {
    load_facts("e", "$work/$g.tsv")
    $5
}
EOF
  cat > "$work/$g-$p.pl" <<EOF
:- initialization(main, main).
:- consult('$work/$g.pl').
$4
main :- $6, write(N), nl.
EOF
  local a b
  a=$(measure "$tl" run "$work/$g-$p.tl")
  b=$(measure swipl "$work/$g-$p.pl")
  printf '%-8s %-4s  tl: %-28s swipl: %s\n' "$g" "$p" "$a" "$b"
}

echo "graph    prog  (answers seconds peak-MB)"
case_run random tc "$tc_tl" "$tc_pl" 'print(relation_size("tc"))' 'aggregate_all(count, tc(_, _), N)'
case_run random sg "$sg_tl" "$sg_pl" 'print(relation_size("sg"))' 'aggregate_all(count, sg(_, _), N)'
case_run chain tc "$tcl_tl" "$tcl_pl" 'print(len(tc(n0, X)))' 'aggregate_all(count, tc(n0, _), N)'
case_run chain sg "$sg_tl" "$sg_pl" 'print(relation_size("sg"))' 'aggregate_all(count, sg(_, _), N)'
case_run dense tc "$tc_tl" "$tc_pl" 'print(relation_size("tc"))' 'aggregate_all(count, tc(_, _), N)'
case_run dense sg "$sg_tl" "$sg_pl" 'print(relation_size("sg"))' 'aggregate_all(count, sg(_, _), N)'
