#!/usr/bin/env bash
# many_names.sh TL -- work that must stay linear in the number of names: 200000
# lets in one scope, 100000 functions, parse_json of a 100000-key object, a GGUF
# with 100000 metadata keys written by save_gguf and converted by tl quantize.
# Each used to be quadratic (minutes at these sizes); each must finish well inside
# the 120 s given here (it takes well under a second).  This guards the
# complexity, not a speed figure (those live in bench/).
set -u
tl=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
fail=0
check() { # check NAME WANT GOT
  if [[ $3 == *"$2"* ]]; then echo "$1: ok"; else printf '%s: expected *%s*, got\n%s\n' "$1" "$2" "$3"; fail=1; fi
}
{ echo 'main {'; for ((i = 0; i < 200000; i++)); do echo "    let v$i = $i"; done
  echo '    print(v199999 + v0)'; echo '}'; } >lets.tl
check "200000 lets" "199999" "$(timeout 120 "$tl" run lets.tl 2>&1)"
{ for ((i = 0; i < 100000; i++)); do echo "fn f$i(x) { x + $i }"; done
  echo 'main { print(f99999(1), f0(1)) }'; } >fns.tl
check "100000 functions" "100000 1" "$(timeout 120 "$tl" run fns.tl 2>&1)"
{ printf '{'; for ((i = 0; i < 100000; i++)); do printf '"k%d": %d, ' "$i" "$i"; done; printf '"end": 1}'; } >obj.json
cat >json.tl <<'TL'
main {
    let o = parse_json(read_file("obj.json"))
    print(o.len(), o.k99999, o.get("end"))
}
TL
check "parse_json of 100001 keys" "100001 99999 1" "$(timeout 120 "$tl" run json.tl 2>&1)"
models=${TL_TEST_MODELS:-../shared/models}
if [[ -f $models/stories260K.gguf ]]; then
  cat >keys.tl <<'TL'
main {
    let m = load_model(args()[0])
    let meta = []
    for i in range(100000) {
        push(meta, ["x.key" + str(i), i])
    }
    let ts = []
    for nm in tensor_names(m) {
        push(ts, [nm, get_tensor(m, nm)])
    }
    save_gguf("keys.gguf", ts, meta)
    print(model_meta(load_model("keys.gguf"), "x.key99999"))
}
TL
  check "save_gguf of 100000 keys" "99999" "$(timeout 120 "$tl" run keys.tl -- "$models/stories260K.gguf" 2>&1)"
  check "tl quantize of 100000 keys" "37 tensors converted" "$(timeout 120 "$tl" quantize keys.gguf q8.gguf q8_0 2>&1)"
else
  echo "save_gguf / quantize of 100000 keys: skipped ($models/stories260K.gguf not found)"
fi
exit $fail
