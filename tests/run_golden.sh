#!/usr/bin/env bash
# run_golden.sh TL DIR SCRIPT -- runs `TL run SCRIPT` in DIR and compares with
# the expectations beside the script (all optional except one of .out/.err):
#   NAME.out    expected stdout, byte for byte
#   NAME.err    expected stderr, byte for byte (implies a non-zero exit)
#   NAME.code   expected exit status (default 0, or 1 when NAME.err exists)
#   NAME.args   extra arguments, one line, placed before the script name
#   NAME.needs  a line per file under $TL_TEST_MODELS the script needs; when one
#               is missing the test prints SKIPPED and the reason, and exits 77
#   NAME.env    lines VAR=VALUE exported for the run; "$TL_TEST_MODELS" in VALUE is
#               the models folder, and in the script's stdout that folder is shown
#               as $TL_TEST_MODELS again before comparing (so .out files are portable)
# The script runs with cwd = DIR, so messages name it relative to DIR.
set -u
tl=$1 dir=$2 script=$3
base=${script%.tl}
cd "$dir" || exit 2
models=${TL_TEST_MODELS:-../shared/models}
if [[ -f $base.needs ]]; then
  while IFS= read -r need; do
    [[ -z $need ]] && continue
    if [[ ! -e $models/$need ]]; then
      echo "SKIPPED: $models/$need not found (set TL_TEST_MODELS)"
      exit 77
    fi
  done < "$base.needs"
fi
if [[ -f $base.env ]]; then
  while IFS= read -r line; do
    [[ -z $line ]] && continue
    export "${line//'$TL_TEST_MODELS'/$models}"
  done < "$base.env"
fi
args=()
[[ -f $base.args ]] && read -r -a args < "$base.args"
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
"$tl" run "${args[@]}" "$script" >"$out" 2>"$err"
code=$?
if [[ -f $base.env ]]; then
  sed -i "s|$models|\$TL_TEST_MODELS|g" "$out"
fi
want_code=0
[[ -f $base.err ]] && want_code=1
[[ -f $base.code ]] && want_code=$(<"$base.code")
fail=0
if [[ $code != "$want_code" ]]; then
  echo "exit status $code, expected $want_code"; fail=1
fi
if [[ -f $base.out ]] && ! diff -u "$base.out" "$out"; then
  echo "stdout differs (above: expected vs actual)"; fail=1
fi
if [[ -f $base.err ]]; then
  if ! diff -u "$base.err" "$err"; then echo "stderr differs"; fail=1; fi
elif [[ -s $err && $want_code == 0 ]]; then
  echo "unexpected stderr:"; cat "$err"; fail=1
fi
exit $fail
