#!/usr/bin/env bash
# tests/conformance/long_prompt.sh TL -- the logits of a 100-token prompt on
# synthetic-small-q4_0.gguf (head size 64, one KV head for 4 query heads, Q4_0 +
# Q6_K output) against llama.cpp's, bit for bit: the SHA-256 of the [100, 32000]
# float32 logits of every position, once for the prompt as one batch and once
# decoded token by token through the KV cache (llama.cpp's `--one-by-one`; a
# single query sums its attention output in another order than a batch, so the
# two differ, in llama.cpp as in tl).  The prompt is BOS then 1000 + (i * 7919) %
# 30000 for i < 99, so the attention rows run past 12 groups of 8 keys.
#
# The expected hash was recorded from llama.cpp's AVX2 ("haswell") CPU build with
# the reference harness (docs/reference.md): `oracle logits MODEL --tokens IDS
# --threads 2 [--one-by-one] --dump-all F` then `sha256sum F` (2026-12-06).  tl's logits equal it;
# before tl followed llama.cpp's attention and activation arithmetic (docs/llama.md)
# they differed (max |diff| 0.015, at 1 of the 100 positions), which this test catches
# (the 5-token reference prompt's logits also differed, the 61-token ones did not).
set -u
tl=$1
models=${TL_TEST_MODELS:-../shared/models}
model=$models/synthetic-small-q4_0.gguf
want=faa5989d46b13b32f3e29fbb4517162919b433b58a84fdafd25697bc803826ce
want_decode=e62710b366ffe0c0814fc187763b00f465b8bd34e8fbf100c5fd64e0c39760cc
if [[ ! -f $model ]]; then
  echo "SKIPPED: $model not found (set TL_TEST_MODELS)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/long.tl" <<'TL'
import "llama"
main {
    let lm = llama_load(env("TL_MODEL"))
    let ids = [1]
    for i in range(99) {
        push(ids, 1000 + (i * 7919) % 30000)
    }
    save(forward(lm, llama_cache(lm), ids), env("OUT"))
    let c = llama_cache(lm)
    let rows = []
    for i in range(len(ids)) {
        push(rows, forward(lm, c, [ids[i]]))
    }
    save(concat([concat(rows[0:50], 0), concat(rows[50:100], 0)], 0), env("OUT_DECODE"))
}
TL
TL_MODEL=$model OUT=$tmp/logits.npy OUT_DECODE=$tmp/decode.npy "$tl" run "$tmp/long.tl" || { echo "tl failed"; exit 1; }
# the .npy data is the last 100 * 32000 * 4 bytes (little-endian float32, row-major)
got=$(tail -c $((100 * 32000 * 4)) "$tmp/logits.npy" | sha256sum | cut -d' ' -f1)
got_decode=$(tail -c $((100 * 32000 * 4)) "$tmp/decode.npy" | sha256sum | cut -d' ' -f1)
fail=0
if [[ $got != "$want" ]]; then
  echo "prompt logits differ from llama.cpp's: sha256 $got, expected $want"
  fail=1
fi
if [[ $got_decode != "$want_decode" ]]; then
  echo "decoded logits differ from llama.cpp's: sha256 $got_decode, expected $want_decode"
  fail=1
fi
[[ $fail == 0 ]] && echo "100-token prompt and its token-by-token decode: logits equal llama.cpp's bit for bit"
exit $fail
