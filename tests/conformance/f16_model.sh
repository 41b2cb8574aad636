#!/usr/bin/env bash
# tests/conformance/f16_model.sh TL -- an F16 model against llama.cpp, bit for bit.
# `tl quantize stories260K.gguf OUT f16` must give llama-quantize's file byte for byte
# (SHA-256 below), and the logits of "<s> Once upon a time" through it, as one prompt
# and token by token, must equal llama.cpp's (the SHA-256 of the [5, 512] float32
# logits): F16 weights take llamafile sgemm's order for the prompt's rows and
# ggml_vec_dot_f16 for a single row (docs/llama.md).  Before tl followed those two
# orders its prompt logits differed by 0.0084.
#
# Recorded 2026-12-06 with the reference harness (docs/reference.md) on llama.cpp's AVX2
# ("haswell") CPU build: `oracle quantize stories260K.gguf F f16`, then `oracle logits F
# --prompt "Once upon a time" --threads 1 [--one-by-one] --dump-all L` and `sha256sum`.
set -u
tl=$1
models=${TL_TEST_MODELS:-../shared/models}
src=$models/stories260K.gguf
want_model=4cd29bbe9cb3b735750837816a43c3dd4b473dbd658e8612816f7c4d3926ac21
want_prompt=eb332e64edea57b5aa644c15bea1c8ac71bad615a8974fe89cfd16fb0632f0ad
want_decode=177b4650d9d57d3f9af0dfda2cfb7b64c5b027e9aaeaf11d5e2fd8e82799cbba
if [[ ! -f $src ]]; then
  echo "SKIPPED: $src not found (set TL_TEST_MODELS)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$tl" quantize --quiet "$src" "$tmp/f16.gguf" f16 || { echo "tl quantize failed"; exit 1; }
got_model=$(sha256sum "$tmp/f16.gguf" | cut -d' ' -f1)
if [[ $got_model != "$want_model" ]]; then
  echo "the F16 file differs from llama-quantize's: sha256 $got_model, expected $want_model"
  exit 1
fi
cat >"$tmp/run.tl" <<'TL'
import "llama"
main {
    let lm = llama_load(env("TL_MODEL"))
    let ids = tokenize(lm.tok, "Once upon a time", true)
    save(forward(lm, llama_cache(lm), ids), env("OUT"))
    let c = llama_cache(lm)
    let rows = []
    for i in range(len(ids)) {
        push(rows, forward(lm, c, [ids[i]]))
    }
    save(concat(rows, 0), env("OUT_DECODE"))
}
TL
TL_MODEL=$tmp/f16.gguf OUT=$tmp/prompt.npy OUT_DECODE=$tmp/decode.npy "$tl" run "$tmp/run.tl" ||
  { echo "tl failed"; exit 1; }
fail=0
for part in prompt decode; do
  want=want_$part
  got=$(tail -c $((5 * 512 * 4)) "$tmp/$part.npy" | sha256sum | cut -d' ' -f1)
  if [[ $got != "${!want}" ]]; then
    echo "$part logits differ from llama.cpp's: sha256 $got, expected ${!want}"
    fail=1
  fi
done
[[ $fail == 0 ]] && echo "F16 stories260K: the file and its prompt and decode logits equal llama.cpp's"
exit $fail
