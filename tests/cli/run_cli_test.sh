#!/usr/bin/env bash
# tests/cli/run_cli_test.sh TL -- the command line: `tl run --help` / `tl test --help`
# list every option, misspelt options and commands get a suggestion, -v/--version,
# -m sets TL_MODEL, -t the thread count, words after the file go to the script.
set -uo pipefail
tl=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
expect() { # name expected actual
  if [ "$2" != "$3" ]; then
    printf 'FAIL %s\n  expected: %s\n  actual:   %s\n' "$1" "$2" "$3"
    fail=1
  fi
}
help=$("$tl" run --help)
for opt in "-m, --model PATH" "-t, --threads N" "-s, --seed S" "--test" "--bench" "--time" \
           "--max-steps N" "--huge-pages" "-v, --verbose" "-d, --debug" "-h, --help"; do
  case $help in *"$opt"*) ;; *) echo "FAIL: tl run --help lacks '$opt'"; fail=1 ;; esac
done
expect "test --help = run --help" "$(echo "$help" | tail -n +4)" "$("$tl" test --help | tail -n +4)"
expect "unknown option" "tl run: unknown option --thread (did you mean --threads?)" \
  "$("$tl" run --thread 2 x.tl 2>&1 | head -n1)"
expect "single-dash long option" "tl test: unknown option -seed (did you mean --seed?)" \
  "$("$tl" test -seed 2 x.tl 2>&1 | head -n1)"
"$tl" run --bogus-thing x.tl >/dev/null 2>&1
expect "usage error status" 2 $?
expect "unknown command" "tl: unknown command 'rnu' (did you mean 'tl run'?)" "$("$tl" rnu x.tl 2>&1)"
v=$("$tl" --version)
expect "-v" "$v" "$("$tl" -v)"
case $v in "tl "[0-9]*) ;; *) echo "FAIL: version '$v'"; fail=1 ;; esac
cat >"$tmp/s.tl" <<'TL'
main { print(env("TL_MODEL", "none"), threads(), args()) }
TL
expect "-m -t, script words" 'm.gguf 1 ["-p", "hi", "-n", "3"]' \
  "$("$tl" run -m m.gguf -t 1 "$tmp/s.tl" -p hi -n 3)"
expect "--threads=N" 'none 2 []' "$(env -u TL_MODEL "$tl" run --threads=2 "$tmp/s.tl")"
expect "needs a value" "tl run: --threads needs a value (--threads N)" "$("$tl" run -t 2>&1)"
printf 'main { print("out")\n eprint("err", 1) }\n' >"$tmp/e.tl"
expect "eprint to stderr" "out|err 1" "$("$tl" run "$tmp/e.tl" 2>"$tmp/err")|$(cat "$tmp/err")"
# the examples' "model not found" goes to stderr, exit 1
out=$("$tl" run -m "$tmp/none.gguf" "$(dirname "$0")/../../examples/generate.tl" -n 1 2>"$tmp/err")
expect "model not found: status" "1" "$?"
expect "model not found: stdout" "" "$out"
case $(cat "$tmp/err") in "Model not found: $tmp/none.gguf"*) ;; *) echo "FAIL: $(cat "$tmp/err")"; fail=1 ;; esac
# every command names an unknown option and suggests the right one; tl help CMD is CMD --help
expect "gguf typo" "tl gguf: unknown option --tensor (did you mean --tensors?)" \
  "$("$tl" gguf --tensor x.gguf 2>&1 | head -1)"
expect "quantize typo" "tl quantize: unknown option --pur (did you mean --pure?)" \
  "$("$tl" quantize --pur a b q4_0 2>&1 | head -1)"
expect "tokenize typo" "tl tokenize: unknown option --no-boss (did you mean --no-bos?)" \
  "$("$tl" tokenize m.gguf --no-boss hi 2>&1 | head -1)"
expect "list typo" "tl list: unknown option --verfy (did you mean --verify?)" \
  "$("$tl" list --verfy 2>&1 | head -1)"
expect "pull prefix" "tl pull: unknown option --sha (did you mean --sha256?)" \
  "$("$tl" pull --sha x 2>&1 | head -1)"
expect "repl typo" "tl repl: unknown option --no-histroy (did you mean --no-history?)" \
  "$("$tl" repl --no-histroy 2>&1 </dev/null | head -1)"
expect "help run" "$("$tl" run --help)" "$("$tl" help run)"
expect "gguf --help to stdout" "usage: tl gguf [--all] [--meta | --tensors] FILE" "$("$tl" gguf --help 2>/dev/null | head -1)"
# the examples' options come from parse_args: --help lists them, a typo is exit 2 with a hint
gen="$(dirname "$0")/../../examples/generate.tl"
out=$("$tl" run "$gen" --help)
expect "generate --help: status" "0" "$?"
case $out in *"-n, --n-predict N"*"--top-k K"*"-h, --help"*) ;; *) echo "FAIL: generate --help: $out"; fail=1 ;; esac
"$tl" run "$gen" --tmep 0.5 >/dev/null 2>"$tmp/err"
expect "generate --tmep: status" "2" "$?"
expect "generate --tmep: message" "$gen: unknown option --tmep (did you mean --temp?)" "$(head -1 "$tmp/err")"
# tl tokenize: a directory given as the text file or the model is an error, not empty text
vocab=${TL_TEST_MODELS:-$(dirname "$0")/../../../shared/models}/ggml-vocab-llama-spm.gguf
if [ -e "$vocab" ]; then
  expect "tokenize --file DIR" "tl tokenize: $tmp: Is a directory|1" \
    "$("$tl" tokenize "$vocab" --file "$tmp" 2>&1 >/dev/null)|$?"
fi
expect "tokenize DIR" "tl tokenize: $tmp: cannot read: Is a directory|1" \
  "$("$tl" tokenize "$tmp" hi 2>&1 >/dev/null)|$?"
exit $fail
