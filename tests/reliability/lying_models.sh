#!/usr/bin/env bash
# lying_models.sh TL -- GGUF files whose metadata or tensor names lie
# (runtime/model_check.c).  Each file is made from stories260K.gguf with tl's own
# GGUF writer (save_gguf): the model's tensors and metadata with one key changed
# or one tensor renamed or replaced.  llama_load must refuse each with a message
# naming the key (or tensor) and both values; m.blk must not allocate per bogus
# layer.  Skipped (77) without $TL_TEST_MODELS/stories260K.gguf.
set -u
tl=$1
src=${TL_TEST_MODELS:-../shared/models}/stories260K.gguf
if [[ ! -f $src ]]; then
  echo "SKIPPED: $src not found (set TL_TEST_MODELS)"
  exit 77
fi
src=$(cd "$(dirname "$src")" && pwd)/$(basename "$src")
here=$(cd "$(dirname "$0")" && pwd)
export TL_PATH=${TL_PATH:-$here/../../stdlib}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
fail=0
n=0
# case NAME SAVE_ARGS USE EXPECTED: writes NAME.gguf with save_gguf("NAME.gguf", SAVE_ARGS),
# then runs USE (with the path in p) and expects EXPECTED in the output
case_() {
  local name=$1 save=$2 use=$3 want=$4
  n=$((n + 1))
  cat >"$name.tl" <<TL
import "llama"
fn renamed(m, from: string, to: string) {
    let out = []
    for nm in tensor_names(m) {
        if nm == from {
            push(out, [to, get_tensor(m, nm)])
        } else {
            push(out, [nm, get_tensor(m, nm)])
        }
    }
    out
}
fn replaced(m, name: string, t) {
    let out = []
    for nm in tensor_names(m) {
        if nm == name {
            push(out, [nm, t])
        } else {
            push(out, [nm, get_tensor(m, nm)])
        }
    }
    out
}
main {
    let m = load_model("$src")
    save_gguf("$name.gguf", $save)
    let p = "$name.gguf"
    $use
}
TL
  local out
  out=$(timeout 60 "$tl" run "$name.tl" 2>&1)
  if [[ $out == *"$want"* ]]; then
    echo "$name: ok"
  else
    printf '%s: expected *%s*, got\n%s\n' "$name" "$want" "$out"; fail=1
  fi
}
case_ unchanged 'm' 'let lm = llama_load(p)
    print("loaded", lm.cfg.n_layer)' "loaded 5"
case_ block_count 'm, [["llama.block_count", 7]]' 'llama_load(p)' \
  "llama.block_count is 7 but the file has tensors for 5 layers (blk.0 .. blk.4)"
case_ blk_huge 'renamed(m, "blk.4.ffn_norm.weight", "blk.50000000.ffn_norm.weight"), m' \
  'print(len(load_model(p).blk))' \
  "tensor 'blk.50000000.ffn_norm.weight' names layer 50000000.ffn_norm.weight, but the file holds only 48 tensors"
case_ blk_huge_load 'renamed(m, "blk.4.ffn_norm.weight", "blk.50000000.ffn_norm.weight"), m' \
  'llama_load(p)' "names layer 50000000"
case_ blk_int64_max 'renamed(m, "blk.0.attn_q.weight", "blk.9223372036854775807.attn_q.weight"), m' \
  'print(len(load_model(p).blk))' "names layer 9223372036854775807"
case_ blk_past_u64 'renamed(m, "blk.0.attn_q.weight", "blk.99999999999999999999999.attn_q.weight"), m' \
  'print(len(load_model(p).blk))' "names layer > 2^64"
case_ blk_missing_layer 'renamed(m, "blk.4.ffn_norm.weight", "blk.5.ffn_norm.weight"), m' \
  'llama_load(p)' "llama.block_count is 5 but the file has tensors for 6 layers"
case_ output_rows 'replaced(m, "output.weight", slice(get_tensor(m, "output.weight"), 0, 100)), m' \
  'llama_load(p)' \
  "tensor 'output.weight' has 100 rows but the vocabulary size (llama.vocab_size or tokenizer.ggml.tokens) is 512"
case_ vocab_size 'm, [["llama.vocab_size", 100]]' 'llama_load(p)' \
  "tensor 'token_embd.weight' has 512 rows but the vocabulary size (llama.vocab_size or tokenizer.ggml.tokens) is 100"
case_ head_count 'm, [["llama.attention.head_count", 5]]' 'llama_load(p)' \
  "llama.embedding_length 64 is not a multiple of llama.attention.head_count 5"
case_ head_count_kv 'm, [["llama.attention.head_count_kv", 3]]' 'llama_load(p)' \
  "head_count 8 is not a multiple of head_count_kv 3"
case_ head_count_kv_shape 'm, [["llama.attention.head_count_kv", 2]]' 'llama_load(p)' \
  "tensor 'blk.0.attn_k.weight' has 32 rows but llama.attention.head_count_kv x head size is 16"
case_ rope_dims_odd 'm, [["llama.rope.dimension_count", 7]]' 'llama_load(p)' \
  "llama.rope.dimension_count is 7; it must be even and in 2 .. the head size 8"
case_ rope_dims_big 'm, [["llama.rope.dimension_count", 16]]' 'llama_load(p)' \
  "llama.rope.dimension_count is 16"
case_ ff_length 'm, [["llama.feed_forward_length", 100]]' 'llama_load(p)' \
  "tensor 'blk.0.ffn_gate.weight' has 172 rows but llama.feed_forward_length is 100"
case_ eps_nan 'm, [["llama.attention.layer_norm_rms_epsilon", 0.0 / 0.0]]' 'llama_load(p)' \
  "llama.attention.layer_norm_rms_epsilon is NaN; it must be a positive finite number"
case_ eps_inf 'm, [["llama.attention.layer_norm_rms_epsilon", 1.0 / 0.0]]' 'llama_load(p)' \
  "llama.attention.layer_norm_rms_epsilon is inf"
case_ eps_negative 'm, [["llama.attention.layer_norm_rms_epsilon", -0.00001]]' 'llama_load(p)' \
  "llama.attention.layer_norm_rms_epsilon is -1e-05"
case_ rope_base_nan 'm, [["llama.rope.freq_base", 0.0 / 0.0]]' 'llama_load(p)' \
  "llama.rope.freq_base is NaN; it must be a positive finite number"
case_ rope_base_negative 'm, [["llama.rope.freq_base", -10000.0]]' 'llama_load(p)' \
  "llama.rope.freq_base is -10000"
# tl gguf shows hostile key and tensor names without their control bytes
case_ control_names 'renamed(m, "output.weight", "out[2Jput"), [["general.architecture", "llama"], ["evil]0;t", 1]]' \
  'print(1)' "1"
if "$tl" gguf control_names.gguf | grep -q $'[\x01-\x08\x0b-\x1f]'; then
  echo "tl gguf: control bytes reached the terminal"; fail=1
else
  check_gguf=$("$tl" gguf control_names.gguf)
  [[ $check_gguf == *"out?[2Jput"* && $check_gguf == *"evil?]0;t?"* ]] && echo "tl gguf escapes names: ok" ||
    { echo "tl gguf escapes names: got $check_gguf"; fail=1; }
fi
echo "$n cases"
exit $fail
