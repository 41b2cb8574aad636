#!/usr/bin/env bash
# cli_options.sh TL -- the experiment-facing parts of `tl run`: script arguments
# after `--` (and after the file), env() defaults, --time reports on stderr,
# progress() drawing only when asked (TL_PROGRESS=1) or on a terminal, --seed
# reproducibility of random builtins, a write refused for permissions, and a
# script read from standard input (`tl run -`, `tl run /dev/stdin`).
set -u
tl=$1
here=$(cd "$(dirname "$0")" && pwd)
script=$here/cli_script.tl
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

# a script on standard input: "-" and /dev/stdin (a pipe: no real path)
out=$(printf 'main { print(40 + 2) }\n' | "$tl" run - 2>&1)
expect "run - (stdin)" "42" "$out"
out=$(printf 'main { print(6 * 7) }\n' | "$tl" run /dev/stdin 2>&1)
expect "run /dev/stdin (a pipe)" "42" "$out"
out=$(printf 'main {\n  print(1 +)\n}\n' | "$tl" run - 2>&1)
case $out in "-:2:"*) echo "stdin error position: ok" ;; *) echo "stdin error position: got $out"; fail=1 ;; esac

out=$(TL_CLI_TEST_SET=yes "$tl" run "$script" -- alpha "two words" --flag 2>"$work/err")
expect "args after --" '3 ["alpha", "two words", "--flag"]
fallback yes
1249975000' "$out"
expect "quiet progress when stderr is a file" "" "$(cat "$work/err")"

out=$("$tl" run "$script" 2>/dev/null | head -n1)
expect "no args" '0 []' "$out"

out=$("$tl" run "$script" x y 2>/dev/null | head -n1)
expect "words after the file" '2 ["x", "y"]' "$out"

# --time: one line per top-level statement of main plus the total, on stderr only
"$tl" run --time "$script" -- a >"$work/out" 2>"$work/err"
expect "--time keeps stdout clean" '1 ["a"]
fallback unused
1249975000' "$(cat "$work/out")"
lines=$(grep -c '^time: ' "$work/err")
expect "--time line count (6 statements + total)" 7 "$lines"
if ! grep -Eq '^time: .*cli_script.tl:11  let total = work\(50000\) +[0-9]+\.[0-9]{3} ms$' "$work/err" ||
   ! grep -Eq '^time: total .*cli_script.tl [0-9]+\.[0-9]{3} ms$' "$work/err"; then
  echo "--time format:"; cat "$work/err"; fail=1
else
  echo "--time format: ok"
fi

# progress draws when forced; the last call ends the line
TL_PROGRESS=1 "$tl" run "$script" >/dev/null 2>"$work/err"
if grep -q $'\r''steps \[#*-*\] 4/4 100% [0-9.]*s' "$work/err" && [[ $(tail -c1 "$work/err") == "" ]]; then
  echo "forced progress: ok"
else
  echo "forced progress:"; od -c "$work/err" | head; fail=1
fi

# --seed: the same seed gives the same random values, another seed others
cat > "$work/rand.tl" <<'TL'
main {
    let l = as_tensor([1.0, 2.0, 3.0, 0.5, 2.5])
    let draws = []
    for i in range(12) { push(draws, temperature_sample(l, 1.5)) }
    for i in range(6) { push(draws, top_p_sample(l, 0.9, 1.0)) }
    for i in range(6) { push(draws, top_k_sample(l, 3, 1.0)) }
    print(rand([4]), randn([3]), draws)
}
TL
if "$tl" run "$work/rand.tl" >/dev/null 2>&1; then
  r1=$("$tl" run --seed 42 "$work/rand.tl")
  r2=$("$tl" run --seed 42 --threads 2 "$work/rand.tl")
  r3=$("$tl" run --seed 43 "$work/rand.tl")
  r4=$(TL_SEED=42 "$tl" run "$work/rand.tl")
  expect "same seed, same values" "$r1" "$r2"
  expect "TL_SEED in the environment acts like --seed" "$r1" "$r4"
  if [[ $r1 == "$r3" ]]; then echo "different seeds gave the same values: $r1"; fail=1; fi
else
  echo "seed: rand() is not a builtin yet; covered by unit/test_cli_seed"
fi

# permissions: a directory the user may not write (as root, run as nobody)
mkdir -p "$work/ro" && chmod 555 "$work/ro" && chmod 755 "$work"
echo 'main { write_file(args()[0], "x") }' > "$work/w.tl"
chmod 644 "$work/w.tl"
runner=()
if [[ $(id -u) == 0 ]]; then
  if command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null &&
     setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$tl"; then
    runner=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  else
    echo "permissions: skipped (cannot drop root to run $tl)"; exit $fail
  fi
fi
err=$("${runner[@]}" "$tl" run "$work/w.tl" -- "$work/ro/x.json" 2>&1 >/dev/null | head -n1)
expect "unwritable directory" "$work/w.tl:1:8: error: write_file: cannot open '$work/ro/x.json': Permission denied" "$err"
exit $fail
