#!/usr/bin/env bash
# tinyllama_check.sh MODEL.gguf [REFS_PREFIX] [TOL]
#
# The agreement check on the TinyLlama-shaped synthetic model (22 layers, 637 MB,
# too big for CI): prompt "<s> Once upon a time", logits of every position within
# TOL (default 0: bit for bit, docs/llama.md) of llama.cpp's, the same top-1
# everywhere, top-10 overlap >= 9 (when TOL > 1e-4), and token-by-token decoding
# within 1e-4 of the prefill.
#
# Build the model bit-exactly first with the reference harness (docs/reference.md):
#   make_models.sh DIR --big
# then, from the repo root after building into build/:
#   tests/conformance/tinyllama_check.sh DIR/tinyllama-syn-q4_0.gguf
#   tests/conformance/tinyllama_check.sh DIR/tinyllama-syn-q4_0-pure.gguf
# REFS_PREFIX defaults to $TL_TEST_MODELS/refs/<model file name without .gguf>.
# It then runs examples/tests/debug_layer_outputs.tl (stdlib, sizes from metadata)
# and examples/tinyllama_original_style.tl (hard-coded TinyLlama sizes) on the model
# and checks that their logit-lens summaries name the same tokens.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
model=${1:?usage: tinyllama_check.sh MODEL.gguf [REFS_PREFIX] [TOL]}
models=${TL_TEST_MODELS:-$root/../shared/models}
name=$(basename "$model" .gguf)
refs=${2:-$models/refs/$name}
tol=${3:-0}
bin=${TL_BUILD:-$root/build}/tests/test_llama_refs
[[ -x $bin ]] || { echo "build first: cmake --build build ($bin missing)" >&2; exit 2; }
[[ -f $model ]] || { echo "model not found: $model (make it with the reference harness: make_models.sh DIR --big, docs/reference.md)" >&2; exit 2; }
[[ -f $refs.once.all.f32 ]] || { echo "refs not found: $refs.once.all.f32" >&2; exit 2; }
"$bin" "$model" "$refs" "$tol"
tl=${TL_BUILD:-$root/build}/tl
export TL_MODEL=$model TL_PATH=$root/stdlib
a=$("$tl" run "$root/examples/tests/debug_layer_outputs.tl" | grep '^  Layer' | awk '{print $2, $4}')
b=$("$tl" run "$root/examples/tinyllama_original_style.tl" | grep '^  Layer' | awk '{print $2, $4}')
echo "logit lens (layer: token), stdlib vs original style:"
paste <(echo "$a") <(echo "$b")
if [[ "$a" != "$b" ]]; then
  echo "FAILED: the two scripts disagree" >&2
  exit 1
fi
echo "same tokens"
