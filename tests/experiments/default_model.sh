#!/usr/bin/env bash
# default_model.sh TL -- default_model() and the built-in tiny llama: with no TL_MODEL and no
# TinyLlama under $HOME, the examples unpack the model compiled into tl (once, into the
# cache), say so in one line on stderr, and run on it (decode_token.tl's greedy token);
# TL_MODEL still wins.
set -u
tl=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$(dirname "$here")")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
expect() { # expect NAME WANT GOT
  if [[ $2 != "$3" ]]; then
    printf '%s: expected\n%s\ngot\n%s\n' "$1" "$2" "$3"; fail=1
  else
    echo "$1: ok"
  fi
}
export TL_PATH=$root/stdlib
out=$(cd "$work" && env -u TL_MODEL -u XDG_CACHE_HOME HOME="$work" "$tl" run "$root/examples/tests/decode_token.tl" 2>"$work/err")
expect "the greedy token" "   Predicted token: 283 \".\"" "$(grep 'Predicted token' <<<"$out")"
expect "one line on stderr" "tl: no TinyLlama and TL_MODEL unset: using the built-in tiny llama (docs/learning.md)" "$(cat "$work/err")"
if cmp -s "$work/.cache/tl/tiny_llama_q8_0.gguf" "$root/models/tiny_llama_q8_0.gguf"; then
  echo "unpacked file: ok"
else
  echo "unpacked file differs from models/tiny_llama_q8_0.gguf"; fail=1
fi
before=$(stat -c %Y.%i "$work/.cache/tl/tiny_llama_q8_0.gguf")
echo 'main { println(default_model()) }' >"$work/p.tl"
(cd "$work" && env -u TL_MODEL -u XDG_CACHE_HOME HOME="$work" "$tl" run p.tl >/dev/null 2>&1)
expect "not rewritten" "$before" "$(stat -c %Y.%i "$work/.cache/tl/tiny_llama_q8_0.gguf")"
# a cache left by an older tl (another model of the same size) is replaced
head -c "$(stat -c %s "$work/.cache/tl/tiny_llama_q8_0.gguf")" /dev/zero >"$work/.cache/tl/tiny_llama_q8_0.gguf"
(cd "$work" && env -u TL_MODEL -u XDG_CACHE_HOME HOME="$work" "$tl" run p.tl >/dev/null 2>&1)
if cmp -s "$work/.cache/tl/tiny_llama_q8_0.gguf" "$root/models/tiny_llama_q8_0.gguf"; then
  echo "stale cache replaced: ok"
else
  echo "a stale cache of the same size was kept"; fail=1
fi
# TinyLlama is found in ~/.llm/models (older pulls) and in the XDG cache (tl pull), the cache first
mkdir -p "$work/.llm/models" "$work/xdg/tl/models"
touch "$work/.llm/models/tinyllama-1.1b-chat-q4_0.gguf"
expect "TinyLlama in ~/.llm/models" "~/.llm/models/tinyllama-1.1b-chat-q4_0.gguf" \
  "$(cd "$work" && env -u TL_MODEL -u XDG_CACHE_HOME HOME="$work" "$tl" run p.tl 2>&1)"
touch "$work/xdg/tl/models/tinyllama-1.1b-chat-q4_0.gguf"
expect "TinyLlama in the XDG cache" "$work/xdg/tl/models/tinyllama-1.1b-chat-q4_0.gguf" \
  "$(cd "$work" && env -u TL_MODEL HOME="$work" XDG_CACHE_HOME="$work/xdg" "$tl" run p.tl 2>&1)"
expect "TL_MODEL wins" "/some/model.gguf" "$(cd "$work" && HOME="$work" TL_MODEL=/some/model.gguf "$tl" run p.tl 2>&1)"
exit $fail
