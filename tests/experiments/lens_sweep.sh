#!/usr/bin/env bash
# lens_sweep.sh TL -- examples/experiments/lens_sweep.tl on stories260K (F32
# and Q4_0): one JSON line per (prompt, layer), and for "Once upon a time" the
# top-5 ids, pieces and logits of every layer agree with llama.cpp's own logit
# lens (refs/*.layers.json) to 1e-4.  A rerun gives byte-identical output.
set -u
tl=$1
here=$(cd "$(dirname "$0")" && pwd)
models=${TL_TEST_MODELS:-$here/../../../shared/models}
py=/usr/bin/python3
[[ -x $py ]] || { echo "SKIPPED: $py not found"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ex=$here/../../examples/experiments
printf '# a comment\nOnce upon a time\n\nThe little dog\n' > "$work/prompts.txt"
ran=0 fail=0
for name in stories260K stories260K-q4_0; do
  model=$models/$name.gguf ref=$models/refs/$name.layers.json
  if [[ ! -e $model || ! -e $ref ]]; then echo "$name: not found, skipped"; continue; fi
  ran=1
  "$tl" run "$ex/lens_sweep.tl" -- "$model" "$work/prompts.txt" "$work/a.jsonl" || { fail=1; continue; }
  "$tl" run "$ex/lens_sweep.tl" -- "$model" "$work/prompts.txt" "$work/b.jsonl" >/dev/null || { fail=1; continue; }
  cmp "$work/a.jsonl" "$work/b.jsonl" || { echo "$name: reruns differ"; fail=1; }
  "$py" - "$work/a.jsonl" "$ref" <<'PY' || fail=1
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
ref = json.load(open(sys.argv[2]))
n_layer = ref['n_layer']
assert len(rows) == 2 * (n_layer + 1), len(rows)
assert [r['prompt'] for r in rows] == ['Once upon a time'] * (n_layer + 1) + ['The little dog'] * (n_layer + 1)
assert [r['layer'] for r in rows[:n_layer + 1]] == list(range(-1, n_layer))
once = rows[:n_layer + 1]
assert once[0]['n_tokens'] == len(ref['tokens'])
want = [ref['embedding']] + ref['layers']
worst = 0.0
for r, w in zip(once, want):
    got = [(t['id'], t['logit'], t['piece']) for t in r['top']]
    exp = [(t[0], t[1], t[2]) for t in w['top'][:5]]
    assert len(got) == 5
    assert [g[0] for g in got] == [e[0] for e in exp], (r['layer'], got, exp)
    assert [g[2] for g in got] == [e[2] for e in exp], (r['layer'], got, exp)
    worst = max(worst, max(abs(g[1] - e[1]) for g, e in zip(got, exp)))
assert worst < 1e-4, worst
print('ok: %d rows; top-5 of %d lens rows match llama.cpp, max |logit diff| %.2e' % (len(rows), len(once), worst))
PY
done
((ran)) || { echo "SKIPPED: no stories260K model or refs under $models (set TL_TEST_MODELS)"; exit 77; }
exit $fail
