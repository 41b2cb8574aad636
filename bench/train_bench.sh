#!/bin/sh
# bench/train_bench.sh -- training throughput of the tiny llama: tl against PyTorch on CPU.
#
#   bench/train_bench.sh [STEPS] [THREADS]        (defaults 40, 2)
#
# tl: examples/train/tiny_llama.tl for STEPS steps (one epoch of STEPS batches, no GGUF
# written) on the Moby Dick corpus (examples/train/get_corpus.sh) with the 2048-piece
# vocabulary the script learns (TL_VOCAB=FILE.gguf: that vocabulary instead, and PyTorch's
# output layer gets its size); its own timer covers the learn { } block only.  PyTorch: bench/train_torch.py, the same model and optimizer, timed
# after 3 warm-up steps.  Both with THREADS threads; peak RSS from /usr/bin/time -v.
# Installs Debian's python3-torch (apt-get) when /usr/bin/python3 cannot import torch.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
steps=${1:-40}
threads=${2:-2}
tl=${TL:-$root/build/tl}
vocab=${TL_VOCAB:-}
n_vocab=2048
if [ -n "$vocab" ]; then
  n_vocab=$(echo "main { println(vocab_size(load_tokenizer(\"$vocab\"))) }" | "$tl" run -)
fi
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  apt-get install -y -q python3-torch >/dev/null
fi
corpus=$("$root/examples/train/get_corpus.sh")
echo "tiny llama training, $steps steps, $threads threads; $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$root" rev-parse --short HEAD)"
out=$(mktemp)
vocab_out=$(mktemp)
trap 'rm -f "$out" "$vocab_out"' EXIT
TL_CORPUS=$corpus TL_VOCAB=$vocab TL_VOCAB_OUT=$vocab_out TL_OUT= TL_EPOCHS=1 TL_BATCHES=$steps \
  /usr/bin/time -v "$tl" run --quiet --threads "$threads" "$root/examples/train/tiny_llama.tl" >"$out" 2>&1
echo "tl: $(grep '^trained' "$out")  peak RSS $(awk '/Maximum resident/ {print int($6/1024)}' "$out") MiB"
/usr/bin/time -v /usr/bin/python3 "$here/train_torch.py" "$threads" "$steps" 3 "$n_vocab" >"$out" 2>&1
echo "$(grep '^pytorch' "$out")  peak RSS $(awk '/Maximum resident/ {print int($6/1024)}' "$out") MiB"
