#!/usr/bin/env bash
# tests/cli/run_list_test.sh TL -- `tl list`: sizes, main weight type, checksum state
# against a registry (TL_REGISTRY), --verify, an invalid file with its reason,
# and the default directories ($XDG_CACHE_HOME/tl/models, ~/.llm/models).
set -uo pipefail
tl=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # name pattern text
  case $3 in *$2*) ;; *) printf 'FAIL %s: no "%s" in\n%s\n' "$1" "$2" "$3"; fail=1 ;; esac
}
models=${TL_TEST_MODELS:-}
src=$models/stories260K-q8_0.gguf
[ -f "$src" ] || { echo "SKIPPED: $src not found (TL_TEST_MODELS)"; exit 77; }
mkdir -p "$tmp/m" "$tmp/home/.llm/models" "$tmp/cache/tl/models"
cp "$src" "$tmp/m/good.gguf"
cp "$src" "$tmp/m/bad.gguf"
printf '<html>\n' >"$tmp/m/page.gguf"
size=$(stat -c %s "$src")
sum=$(sha256sum "$src" | cut -c1-64)
{
  printf 'good\tgood.gguf\t%s\t%s\thttp://127.0.0.1/good.gguf\tmeasured\n' "$size" "$sum"
  printf 'bad\tbad.gguf\t%s\t%s\thttp://127.0.0.1/bad.gguf\tmeasured\n' "$size" "$(echo "$sum" | tr 0-9a-f 1-9a-f0)"
} >"$tmp/reg.tsv"
out=$(TL_REGISTRY=$tmp/reg.tsv "$tl" list "$tmp/m")
check "size known" "good.gguf" "$out"
check "type" "q8_0" "$out"
# the file type, not the biggest tensor's: synthetic-small is q4_0 with a q6_K output.weight
if [ -f "$models/synthetic-small-q4_0.gguf" ]; then
  mkdir -p "$tmp/syn" && cp "$models/synthetic-small-q4_0.gguf" "$tmp/syn/"
  check "file type" "synthetic-small-q4_0.gguf                  12.3 MiB  q4_0" "$("$tl" list "$tmp/syn")"
fi
check "size state" "size ok (--verify checks the sha256)" "$out"
check "invalid file" "an HTML page?" "$out"
out=$(TL_REGISTRY=$tmp/reg.tsv "$tl" list --verify "$tmp/m")
check "verify ok" "$(printf 'good.gguf%*s' 0 '')" "$out"
[ "$(echo "$out" | grep -c 'sha256 ok')" = 1 ] || { echo "FAIL: one 'sha256 ok' expected:"; echo "$out"; fail=1; }
[ "$(echo "$out" | grep 'bad.gguf' | grep -c 'SHA256 MISMATCH')" = 1 ] || { echo "FAIL: bad.gguf mismatch:"; echo "$out"; fail=1; }
cp "$src" "$tmp/home/.llm/models/a.gguf"
cp "$src" "$tmp/cache/tl/models/b.gguf"
out=$(env -u TL_MODELS_DIR HOME="$tmp/home" XDG_CACHE_HOME="$tmp/cache" "$tl" list)
check "xdg dir" "$tmp/cache/tl/models:" "$out"
check "llm dir" "$tmp/home/.llm/models:" "$out"
exit $fail
