#!/bin/sh
# `tl` with a non-terminal stdin runs it as a script; `tl repl` on a pipe shows values.
# Usage: stdin_script.sh TL_BINARY
set -u
tl="$1"
fail() { echo "FAIL: $*"; exit 1; }
out=$(echo 'print(1 + 2)' | "$tl") || fail "exit status $?"
[ "$out" = "3" ] || fail "echo 'print(1 + 2)' | tl printed '$out'"
# expression values are not shown in a script
out=$(printf 'let x = 4\nx * 2\nprint(x)\n' | "$tl")
[ "$out" = "4" ] || fail "script printed '$out'"
# a whole file with declarations and main
out=$(printf 'fn f(a) { a + 1 }\nmain { print(f(41)) }\n' | "$tl")
[ "$out" = "42" ] || fail "file-like script printed '$out'"
# declarations mixed with statements
out=$(printf 'fn g(a) { a * 3 }\nlet y = g(2)\nprint(y)\n' | "$tl")
[ "$out" = "6" ] || fail "mixed script printed '$out'"
# errors: message on stderr with the line, exit status 1, nothing after runs
err=$(printf 'print(1)\nlet z = nope()\nprint(2)\n' | "$tl" 2>&1 >/dev/null)
status=$(printf 'print(1)\nlet z = nope()\nprint(2)\n' | "$tl" >/dev/null 2>&1; echo $?)
[ "$status" = "1" ] || fail "error exit status $status"
case "$err" in *"<stdin>:2:9: error: unknown function 'nope'"*) ;; *) fail "error text: $err" ;; esac
out=$(printf 'print(1)\nlet z = nope()\nprint(2)\n' | "$tl" 2>/dev/null)
[ "$out" = "1" ] || fail "ran past the error: '$out'"
# exit(n)
status=$(echo 'exit(5)' | "$tl" >/dev/null 2>&1; echo $?)
[ "$status" = "5" ] || fail "exit(5) gave $status"
# tl repl on a pipe: values shown, errors do not stop it
out=$(printf 'let a = [1,\n2]\na\nnope()\na\n' | "$tl" repl 2>/dev/null)
[ "$out" = "$(printf '[1, 2]\n[1, 2]')" ] || fail "tl repl on a pipe printed '$out'"
# Ctrl-C (SIGINT) stops a script with "interrupted" and status 130, as `tl run` does
printf 'let i = 0\nwhile true { i = i + 1 }\n' | "$tl" 2>/tmp/tl_repl_int.$$ &
pid=$!
# a Ctrl-C that lands before the script starts running is dropped (the interpreter
# clears stale interrupts on entry), so press again until it stops (3 presses at most)
n=0
while [ $n -lt 3 ] && kill -0 $pid 2>/dev/null; do
  sleep 1
  kill -INT $pid 2>/dev/null
  n=$((n + 1))
done
wait $pid
status=$?
grep -q "error: interrupted" /tmp/tl_repl_int.$$ || fail "no 'interrupted' message: $(cat /tmp/tl_repl_int.$$)"
rm -f /tmp/tl_repl_int.$$
[ "$status" = "130" ] || fail "interrupted script exit status $status"
# tl repl FILE.tl runs the file first, then reads the inputs
tmp=$(mktemp /tmp/tl_repl_XXXXXX.tl)
printf 'fn from_file(a) { a * 7 }\nmain { let loaded_var = 6 }\n' > "$tmp"
out=$(printf 'from_file(loaded_var)\n' | "$tl" repl "$tmp" 2>&1)
rm -f "$tmp"
[ "$out" = "$(printf 'loaded %s\n42' "$tmp")" ] || fail "tl repl FILE printed '$out'"
# floats: the shortest %g spelling that reads back to the same value; a double that
# is exactly an f32 (a model's eps) gets the f32 spelling
out=$(printf '1.0 / 100000.0\n0.1 + 0.2\n10000.0\n2.5\n1.0 / 3.0\n' | "$tl" repl 2>/dev/null)
[ "$out" = "$(printf '1e-05\n0.30000000000000004\n10000\n2.5\n0.3333333333333333')" ] ||
  fail "floats in tl repl printed '$out'"
# `_` is the last value shown (a statement without a value leaves it)
out=$(printf '6 * 7\n_ + 1\nlet x = 5\n_ * 2\n' | "$tl" repl 2>/dev/null)
[ "$out" = "$(printf '42\n43\n86')" ] || fail "_ in tl repl printed '$out'"
# help(NAME) / :help NAME: the signature, where it is declared, the // comment above it;
# :help WORD without an exact match searches names, signatures and doc comments
tmp=$(mktemp)
printf '// Doubles n.\n// (an example)\nfn twice(n) { n * 2 }\n' >"$tmp"
out=$(printf 'help(twice)\n:help Doubles\n' | "$tl" repl "$tmp" 2>&1)
expected=$(printf 'loaded %s\nfn twice(n)    (%s:3)\nDoubles n.\n(an example)\n  fn twice(n)                              Doubles n.' "$tmp" "$tmp")
rm -f "$tmp"
[ "$out" = "$expected" ] || fail "help printed '$out'"
echo ok
