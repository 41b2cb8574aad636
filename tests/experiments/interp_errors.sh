#!/usr/bin/env bash
# interp_errors.sh TL -- a hook returning the wrong shape or a non-tensor, a hook or cache
# pattern matching no point, and a bad Where stop the run with exit status 1 and a message
# naming the pattern, the point and the shapes
# (the scripts are in tests/interp_errors/; their stderr holds absolute stdlib paths,
# so this checks the message text rather than a golden .err file).
set -u
tl=$1
here=$(cd "$(dirname "$0")" && pwd)
models=${TL_TEST_MODELS:-$here/../../../shared/models}
[[ -e $models/stories260K.gguf ]] || { echo "SKIPPED: $models/stories260K.gguf not found (set TL_TEST_MODELS)"; exit 77; }
export TL_MODEL=$models/stories260K.gguf
fail=0
check() { # script expected-text
  local err code
  err=$("$tl" run "$here/../interp_errors/$1.tl" 2>&1 >/dev/null)
  code=$?
  [[ $code == 1 ]] || { echo "$1: exit status $code, expected 1"; fail=1; }
  grep -qF "$2" <<<"$err" || { echo "$1: no '$2' in:"; echo "$err"; fail=1; }
  grep -q "at main (" <<<"$err" || { echo "$1: no call stack"; fail=1; }
}
check hook_bad_shape "hook blk.*.mlp_out at blk.0.mlp_out returned shape [1, 64], the activation has [3, 64]"
check hook_bad_value "hook final_norm at final_norm returned a string (a tensor or nothing expected)"
check hook_unknown_point "hook pattern 'blk.0.resid_psot' matches no hook point of this model (5 layers"
check cache_unknown_layer "cache pattern 'blk.5.*' matches no hook point of this model (5 layers, blk.0 .. blk.4"
check where_bad_pos "Where { pos: -2, index: 0 } at blk.0.z: -1 selects all, otherwise 0 or more"
check continuation_bad_id "detokenize: token id 99999 out of range (vocab 512)"
[[ $fail == 0 ]] && echo ok
exit $fail
