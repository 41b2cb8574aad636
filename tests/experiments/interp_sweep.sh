#!/usr/bin/env bash
# interp_sweep.sh TL -- examples/interp/sweep.tl over 2 models x 5 prompts x every
# layer: four shards run through GNU parallel, merged with examples/interp/merge.tl,
# give byte for byte the unsharded run's JSON lines; a shard given twice is refused.
set -u
tl=$1
here=$(cd "$(dirname "$0")" && pwd)
models=${TL_TEST_MODELS:-$here/../../../shared/models}
command -v parallel >/dev/null || { echo "SKIPPED: GNU parallel not found (Debian package parallel)"; exit 77; }
for m in stories260K stories260K-q4_0; do
  [[ -e $models/$m.gguf ]] || { echo "SKIPPED: $models/$m.gguf not found (set TL_TEST_MODELS)"; exit 77; }
done
ex=$here/../../examples/interp
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'Once upon a time\nThe little dog\n# a comment\n\nLily liked to play\nThe sun was hot\nTom had a ball\n' > "$work/prompts.txt"
ms=$models/stories260K.gguf,$models/stories260K-q4_0.gguf
fail=0
"$tl" run "$ex/sweep.tl" -- --models "$ms" --prompts "$work/prompts.txt" --out "$work/all.jsonl" || fail=1
# --will-cite: no citation notice; {} is the shard index.  PARALLEL_HOME: parallel's
# own state (it makes a tmp/ there) stays in the test's directory, not in $HOME.
PARALLEL_HOME="$work/parallel-home" parallel --will-cite -j 4 "$tl" run "$ex/sweep.tl" -- --models "$ms" --prompts "$work/prompts.txt" \
  --out "$work/shard-{}.jsonl" --shard {}/4 ::: 0 1 2 3 || fail=1
"$tl" run "$ex/merge.tl" -- "$work/merged.jsonl" "$work"/shard-{0,1,2,3}.jsonl || fail=1
n=$(wc -l < "$work/all.jsonl")
[[ $n == 50 ]] || { echo "expected 50 records (2 models x 5 prompts x 5 layers), got $n"; fail=1; }
for k in 0 1 2 3; do
  [[ -s $work/shard-$k.jsonl ]] || { echo "shard $k is empty"; fail=1; }
done
cmp "$work/all.jsonl" "$work/merged.jsonl" || { echo "merged shards differ from the unsharded run"; fail=1; }
if "$tl" run "$ex/merge.tl" -- "$work/bad.jsonl" "$work/shard-0.jsonl" "$work/shard-0.jsonl" \
     "$work/shard-1.jsonl" >/dev/null 2>"$work/err"; then
  :  # the same file twice is the same owner: allowed; a unit in two files is not
fi
cp "$work/shard-1.jsonl" "$work/dup.jsonl"
if "$tl" run "$ex/merge.tl" -- "$work/bad.jsonl" "$work/shard-1.jsonl" "$work/dup.jsonl" >/dev/null 2>"$work/err"; then
  echo "merge accepted a unit present in two shards"; fail=1
elif ! grep -q "is in both" "$work/err"; then
  echo "merge error text:"; cat "$work/err"; fail=1
fi
[[ $fail == 0 ]] && echo "ok: 4 shards through parallel, merged = unsharded ($n records)"
exit $fail
