#!/usr/bin/env bash
# run_kquant.sh TL SCRIPT -- the batch identity test (tests/scripts/batch/batch_forward.tl)
# on models whose repacked dot orders depend on a token's place in its call: Q4_K and
# Q2_K versions of synthetic-small-q4_0 made with `tl quantize` in a temp dir, at 1 and
# 2 threads (the two outputs must be identical).  SKIPPED (77) without the model.
set -u
tl=$1 script=$2
models=${TL_TEST_MODELS:-../shared/models}
src=$models/synthetic-small-q4_0.gguf
if [[ ! -e $src ]]; then
  echo "SKIPPED: $src not found (set TL_TEST_MODELS)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for t in q4_k q2_k; do
  "$tl" quantize --pure --allow-requantize --quiet "$src" "$tmp/ss-$t.gguf" "$t" || exit 1
done
cd "$(dirname "$script")" || exit 2
fail=0
for n in 1 2; do
  TL_BATCH_DIR=$tmp TL_BATCH_MODELS="ss-q4_k.gguf ss-q2_k.gguf" \
    "$tl" run --threads "$n" "$(basename "$script")" >"$tmp/out$n" 2>"$tmp/err$n"
  code=$?
  if [[ $code != 0 || -s $tmp/err$n ]]; then
    echo "--threads $n: exit $code"; cat "$tmp/err$n"; fail=1
  fi
done
cat "$tmp/out1"
if [[ $fail == 0 ]] && ! cmp -s "$tmp/out1" "$tmp/out2"; then
  echo "--threads 2 differs from --threads 1:"; diff "$tmp/out1" "$tmp/out2"; fail=1
fi
[[ $(wc -l <"$tmp/out1") == 2 ]] || { echo "expected one line per model"; fail=1; }
exit $fail
