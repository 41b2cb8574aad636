#!/bin/sh
# examples/train/check_llama_cpp.sh -- does llama.cpp read a GGUF tl wrote the same way tl does?
#
#   examples/train/check_llama_cpp.sh MODEL.gguf [TOKENS]     (default tokens 1,15043,3186,29889)
#
# Runs tl's llama forward pass (examples/train/logits.tl) and llama.cpp ($ORACLE: the
# reference harness's `oracle logits`, docs/reference.md) on the same token ids, all positions,
# and prints the largest absolute logit difference.  Exit 1 when it exceeds $TOL (1e-4).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$(dirname "$here")")
model=$1
tokens=${2:-1,15043,3186,29889}
oracle=${ORACLE:-$root/../shared/oracle/oracle}
tl=${TL:-$root/build/tl}
tol=${TOL:-1e-4}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
TL_PATH=$root/stdlib "$tl" run "$here/logits.tl" -- "$model" "$tokens" "$tmp/tl.npy"
"$oracle" logits "$model" --tokens "$tokens" --threads 1 --dump-all "$tmp/cpp.f32" >"$tmp/cpp.json"
python3 - "$tmp/tl.npy" "$tmp/cpp.f32" "$tol" <<'PY'
import struct, sys
npy = open(sys.argv[1], 'rb').read()
hlen = struct.unpack('<H', npy[8:10])[0]
a = struct.unpack('<%df' % ((len(npy) - 10 - hlen) // 4), npy[10 + hlen:])
raw = open(sys.argv[2], 'rb').read()
b = struct.unpack('<%df' % (len(raw) // 4), raw)
if len(a) != len(b):
    sys.exit('sizes differ: tl %d, llama.cpp %d' % (len(a), len(b)))
d = max(abs(x - y) for x, y in zip(a, b))
print('max |tl - llama.cpp| over %d logits: %.3g' % (len(a), d))
sys.exit(0 if d <= float(sys.argv[3]) else 1)
PY
