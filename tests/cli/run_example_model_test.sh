#!/usr/bin/env bash
# tests/cli/run_example_model_test.sh TL SRC -- the example generators take the
# model from their own -m option without first looking for a default one: with
# -m given, no "using the built-in tiny llama" line, and the batch generator's
# greedy text equals the single-sequence generator's, also when the first new
# token starts with a space (it is kept: "Once" then " upon").  HOME and XDG_CACHE_HOME
# point at an empty temporary directory, so no default model could be found.
set -uo pipefail
tl=$1
src=$2
model=${TL_TEST_MODELS:-}/stories260K.gguf
[ -f "$model" ] || { echo "SKIPPED: $model not found (TL_TEST_MODELS)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
run() { env -u TL_MODEL HOME="$tmp" XDG_CACHE_HOME="$tmp" "$tl" run "$@" 2>"$tmp/err"; }
batch=$(run "$src/examples/batch_generate.tl" -m "$model" -n 8 "Once upon a time")
if grep -q "built-in" "$tmp/err"; then
  echo "FAIL: batch_generate.tl -m fell back to the built-in model:"; cat "$tmp/err"; fail=1
fi
single=$(run "$src/examples/generate.tl" -m "$model" -p "Once upon a time" -n 8 --temp 0)
if grep -q "built-in" "$tmp/err"; then
  echo "FAIL: generate.tl -m fell back to the built-in model:"; cat "$tmp/err"; fail=1
fi
[ "$batch" = "[0] $single" ] || { printf 'FAIL: batch %s\n      single %s\n' "$batch" "$single"; fail=1; }
# a prompt whose next token starts with a space (" upon"): both keep it
batch=$(run "$src/examples/batch_generate.tl" -m "$model" -n 3 "Once")
single=$(run "$src/examples/generate.tl" -m "$model" -p "Once" -n 3 --temp 0)
[ "$batch" = "[0] $single" ] || { printf 'FAIL: batch %s\n      single %s\n' "$batch" "$single"; fail=1; }
case $single in "Once upon"*) ;; *) echo "FAIL: the first new token lost its space: $single"; fail=1 ;; esac
[ $fail = 0 ] && echo "ok: -m honoured, batch = single: $single"
exit $fail
