#!/usr/bin/env bash
# tests/cli/run_pull_local_test.sh TL -- `tl pull` of a local file (a path, or
# file://): copied with the same checks as a download (GGUF structure, --sha256),
# nothing left behind when a check fails.
set -uo pipefail
tl=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
src=${TL_TEST_MODELS:-}/stories260K-q8_0.gguf
[ -f "$src" ] || { echo "SKIPPED: $src not found (TL_TEST_MODELS)"; exit 77; }
cp "$src" "$tmp/m.gguf"
"$tl" pull "$tmp/m.gguf" --to "$tmp/a/" --quiet || { echo "FAIL: pull PATH"; fail=1; }
cmp -s "$src" "$tmp/a/m.gguf" || { echo "FAIL: pull PATH copy differs"; fail=1; }
"$tl" pull "file://$tmp/m.gguf" --to "$tmp/b/x.gguf" --quiet || { echo "FAIL: pull file://"; fail=1; }
cmp -s "$src" "$tmp/b/x.gguf" || { echo "FAIL: pull file:// copy differs"; fail=1; }
sum=$(sha256sum "$src" | cut -c1-64)
"$tl" pull "$tmp/m.gguf" --to "$tmp/c/" --sha256 "$sum" --quiet || { echo "FAIL: right sha256"; fail=1; }
bad=$(echo "$sum" | tr 0-9a-f 1-9a-f0)
if "$tl" pull "$tmp/m.gguf" --to "$tmp/d/" --sha256 "$bad" --quiet 2>"$tmp/err"; then
  echo "FAIL: a wrong sha256 was accepted"; fail=1
fi
[ -e "$tmp/d/m.gguf" ] || [ -e "$tmp/d/m.gguf.part" ] && { echo "FAIL: left a file after a mismatch"; fail=1; }
printf '<!DOCTYPE html>\n<html>\n' >"$tmp/page.gguf"
if "$tl" pull "$tmp/page.gguf" --to "$tmp/e/" --quiet 2>"$tmp/err"; then
  echo "FAIL: an HTML page was accepted"; fail=1
fi
grep -q 'an HTML page?' "$tmp/err" || { echo "FAIL: no hint: $(cat "$tmp/err")"; fail=1; }
[ -e "$tmp/e/page.gguf" ] && { echo "FAIL: installed an invalid file"; fail=1; }
exit $fail
