#!/usr/bin/env bash
# deep_values.sh TL -- values nested deeper than the C stack allows, and values
# that share parts (lang/value_walk.c, lang/value.c, lang/display.c): with a
# 1 MiB stack, 30000 levels of `a = [a]` compare with an error, print, convert
# and are freed without a crash; 60 levels of `a = [a, a]` (2^60 leaves
# unfolded) compare, print and fail to_json within seconds.
set -u
tl=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
fail=0
check() { # check NAME PATTERN OUTPUT
  case $3 in *"$2"*) echo "$1: ok" ;; *) printf '%s: expected *%s*, got\n%s\n' "$1" "$2" "$3"; fail=1 ;; esac
}
run() { # run NAME BODY: runs main { BODY } with a 1 MiB stack and a 20 s timeout
  printf 'main {\n%s\n}\n' "$2" >"$1.tl"
  (ulimit -s 1024; timeout 20 "$tl" run "$1.tl" 2>&1; echo "exit $?")
}
deep='let a = [1]
let b = [1]
for i in range(30000) {
    a = [a]
    b = [b]
}'
check "deep ==" "error: values nested deeper than 2000 levels cannot be compared" \
  "$(run eq "$deep
print(a == b)")"
check "deep != of a value with itself" "cannot be compared" "$(run ne "$deep
print(a != a)")"
check "deep value freed" "30001"$'\n'"exit 0" "$(run free "$deep
print(len(str(a)) > 100, 30001)")"
check "deep print" "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[...]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"$'\n'"exit 0" \
  "$(run print "$deep
print(a)")"
check "deep to_json" "to_json: nested deeper than 256 levels" "$(run json "$deep
print(to_json(a))")"
check "deep contains" "false"$'\n'"exit 0" "$(run contains "$deep
print(contains([a], b))")"
check "deep push" "exit 0" "$(run push "$deep
let c = [0]
push(c, a)
print(len(c))")"
check "deep struct" "exit 0" "$(run struct_ "$deep
print(1)")"

shared='let a = [1.0, 2.0]
let b = [1.0, 2.0]
for i in range(60) {
    a = [a, a]
    b = [b, b]
}'
check "shared ==" "true"$'\n'"false"$'\n'"exit 0" "$(run seq "$shared
print(a == b)
print(a != b)")"
check "shared print" "exit 0" "$(run sprint "$shared
print(len(str(a)) < 10000000)")"
check "shared to_json" "to_json: the JSON text would be larger than 1000000 bytes" "$(TL_MAX_READ_BYTES=1000000 run sjson "$shared
print(len(to_json(a)))")"
check "shared push" "exit 0" "$(run spush "$shared
let c = [0]
push(c, a)
c[0] = b
print(len(c))")"
check "shared contains" "true"$'\n'"exit 0" "$(run scont "$shared
print(contains([1, a], b))")"
exit $fail
