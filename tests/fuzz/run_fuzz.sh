#!/usr/bin/env bash
# tests/fuzz/run_fuzz.sh -- build the libFuzzer targets and fuzz them.
#
#   tests/fuzz/run_fuzz.sh build                 configure + build build-fuzz/ (clang)
#   tests/fuzz/run_fuzz.sh run NAME SECONDS      fuzz one target (parse, gguf, tokenize,
#                                                tokenizer_json, eval, npy, json, csv, ...)
#                                                for SECONDS
#   tests/fuzz/run_fuzz.sh all SECONDS           each target in turn, SECONDS each
#   tests/fuzz/run_fuzz.sh replay NAME FILE...   rerun inputs (e.g. a crash-* file)
#
# One job at a time (-jobs=1 -workers=1) under nice.  New coverage goes to
# $FUZZ_WORK/NAME/corpus (default FUZZ_WORK: build-fuzz/work), never to the committed
# seed corpus tests/fuzz/corpus/NAME, which is read as a second corpus directory.
# Logs go to $FUZZ_WORK/NAME/logs/, crashes to $FUZZ_WORK/NAME/artifacts/; a fixed one
# is committed to tests/fuzz/regressions/NAME/
# and from then on runs under ctest (test fuzz/NAME, via fuzz_replay_NAME).
# Each run appends "date target seconds execs result" to $FUZZ_WORK/log.tsv.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${FUZZ_BUILD:-$root/build-fuzz}
work=${FUZZ_WORK:-$build/work}
export TL_TEST_MODELS=${TL_TEST_MODELS:-$(cd "$root/.." && pwd)/shared/models}
# leaks are findings; a huge malloc returns NULL (the code must handle it) instead of aborting
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

do_build() {
  CC=clang cmake -S "$root" -B "$build" -DTL_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j2 --target fuzz_parse fuzz_gguf fuzz_tokenize fuzz_tokenizer_json fuzz_eval \
    fuzz_npy fuzz_json fuzz_csv fuzz_model fuzz_quantize fuzz_cli fuzz_repl
}

max_len() {
  case $1 in
    gguf|tokenizer_json|model|quantize) echo 65536 ;;
    *) echo 4096 ;;
  esac
}

do_run() {
  local name=$1 secs=$2
  local exe=$build/tests/fuzz/fuzz_$name
  [[ -x $exe ]] || { echo "no $exe: run '$0 build' first" >&2; exit 2; }
  local dir=$work/$name
  mkdir -p "$dir/corpus" "$dir/artifacts" "$dir/logs"
  local log
  log=$dir/logs/fuzz-$(date -u +%Y%m%dT%H%M%S).log
  local seeds=() d
  for d in "$here/corpus/$name" "$here/regressions/$name"; do [[ -d $d ]] && seeds+=("$d"); done
  local before after rc=0
  before=$(find "$dir/artifacts" -type f | wc -l)
  # -jobs=1 runs the fuzzer in a child process that writes fuzz-0.log in the cwd
  # write_csv and the file-writing targets fsync every input: a tmpfs keeps them fast
  [[ -z ${TMPDIR:-} && -d /dev/shm && -w /dev/shm ]] && export TMPDIR=/dev/shm
  (cd "$dir" && rm -f fuzz-0.log &&
    nice -n 19 "$exe" "$dir/corpus" "${seeds[@]}" \
      -jobs=1 -workers=1 -max_total_time="$secs" -max_len="$(max_len "$name")" \
      -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=20 -print_final_stats=1 \
      -artifact_prefix="$dir/artifacts/" >"$log" 2>&1) || rc=$?
  [[ -f $dir/fuzz-0.log ]] && cat "$dir/fuzz-0.log" >>"$log" && rm -f "$dir/fuzz-0.log"
  after=$(find "$dir/artifacts" -type f | wc -l)
  local execs
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  local result=ok
  if [[ $after != "$before" || $rc != 0 ]]; then
    result="FINDING (exit $rc, $((after - before)) new artifacts, see $log)"
    rc=1
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$name" "$secs" "${execs:-?}" "$result" \
    | tee -a "$work/log.tsv"
  return $rc
}

case ${1:-} in
  build) do_build ;;
  run) do_run "$2" "$3" ;;
  all)
    for n in parse gguf tokenize tokenizer_json eval npy json csv model quantize cli repl; do do_run "$n" "$2" || true; done ;;
  replay)
    name=$2; shift 2
    "$build/tests/fuzz/fuzz_$name" "$@" ;;
  *) sed -n '2,16p' "$0"; exit 2 ;;
esac
