#!/usr/bin/env bash
# run_determinism.sh TL SCRIPT [MODEL...] -- runs `TL run --seed 5 --threads N SCRIPT`
# for N = 1, 1, 2, 3 and 0 (0 = all cores), then at 2 threads with the AVX-512
# kernels off (TL_NO_AVX512=1), with only the scalar kernels (TL_NO_AVX2=1) and
# with the model read into huge pages (TL_HUGE_PAGES=1) and moved there in the
# background while the script runs (TL_HUGE_PAGES=background), plain mapped (=0),
# from the script's directory, and fails unless every run exits 0 with
# byte-identical, non-empty stdout and empty stderr.
# Each MODEL is a file under $TL_TEST_MODELS the script needs; when one is
# missing the test prints SKIPPED and exits 77.  TL_TEST_WRAPPER, when set, is
# put before TL (e.g. valgrind).
set -u
tl=$1 script=$2
shift 2
models=${TL_TEST_MODELS:-../shared/models}
for need in "$@"; do
  if [[ ! -e $models/$need ]]; then
    echo "SKIPPED: $models/$need not found (set TL_TEST_MODELS)"
    exit 77
  fi
done
cd "$(dirname "$script")" || exit 2
name=$(basename "$script")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 i=0
for run in 1 1 2 3 0 2:TL_NO_AVX512=1 2:TL_NO_AVX2=1 2:TL_HUGE_PAGES=1 2:TL_HUGE_PAGES=background 2:TL_HUGE_PAGES=0; do
  i=$((i + 1))
  threads=${run%%:*} kernels=
  [[ $run == *:* ]] && kernels=${run#*:}
  # shellcheck disable=SC2086
  env $kernels ${TL_TEST_WRAPPER:-} "$tl" run --seed 5 --threads "$threads" "$name" >"$tmp/out$i" 2>"$tmp/err$i"
  code=$?
  if [[ $code != 0 || -s $tmp/err$i ]]; then
    echo "run $i (--threads $threads $kernels): exit $code"; cat "$tmp/err$i"; fail=1
  fi
  if [[ ! -s $tmp/out$i ]]; then
    echo "run $i (--threads $threads $kernels): no output"; fail=1
  elif [[ $i -gt 1 ]] && ! cmp -s "$tmp/out1" "$tmp/out$i"; then
    echo "run $i (--threads $threads $kernels) differs from run 1 (--threads 1):"
    diff "$tmp/out1" "$tmp/out$i" | head -20; fail=1
  fi
done
[[ $fail == 0 ]] && echo "$name: $(wc -l <"$tmp/out1") lines identical across $i runs (threads 1 1 2 3 all; AVX2 only; scalar only; huge pages at load, in the background, none)"
exit $fail
