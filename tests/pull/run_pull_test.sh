#!/usr/bin/env bash
# tests/pull/run_pull_test.sh CASE TL MAKE_GGUF -- one `tl pull` test against a local
# HTTP/1.1 server (server.py) started here on 127.0.0.1.  No other address is contacted:
# proxies are switched off and every URL is http://127.0.0.1:PORT/...
# TL_TEST_WRAPPER (e.g. "valgrind --leak-check=full --error-exitcode=9") wraps each tl run.
set -u
CASE=$1
TL=$2
MAKE_GGUF=$3
HERE=$(cd "$(dirname "$0")" && pwd)

unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY TL_REGISTRY
export no_proxy='*' NO_PROXY='*'

T=$(mktemp -d "${TMPDIR:-/tmp}/tl-pull-test.XXXXXX")
export HOME=$T/home
unset XDG_CACHE_HOME
mkdir -p "$HOME" "$T/srv" "$T/out"
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

fail() {
    echo "FAIL [$CASE]: $*"
    echo "--- stdout"; cat "$T/stdout" 2>/dev/null
    echo "--- stderr"; cat "$T/stderr" 2>/dev/null
    echo "--- server log"; cat "$T/server.log" 2>/dev/null
    exit 1
}

# the served files: a small GGUF made here, and a file that is not GGUF
"$MAKE_GGUF" "$T/srv/model.gguf" || fail "make_gguf failed"
head -c 300000 /dev/urandom > "$T/srv/junk.bin"
SIZE=$(stat -c %s "$T/srv/model.gguf")
SHA=$(sha256sum "$T/srv/model.gguf" | cut -d' ' -f1)

: > "$T/server.log"
python3 "$HERE/server.py" "$T/srv" "$T/port" "$T/server.log" &
SERVER_PID=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || fail "the test server did not start"
PORT=$(cat "$T/port")
BASE="http://127.0.0.1:$PORT"
OUT=$T/out/m.gguf

# pull ARGS...: runs tl pull, stdout/stderr to files, sets RC
pull() {
    ${TL_TEST_WRAPPER:-} "$TL" pull "$@" > "$T/stdout" 2> "$T/stderr"
    RC=$?
    if [ "$RC" = 9 ] && [ -n "${TL_TEST_WRAPPER:-}" ]; then fail "the wrapper reported errors"; fi
}
expect_rc() { [ "$RC" = "$1" ] || fail "exit status $RC, expected $1"; }
expect_out() { grep -q -- "$1" "$T/stdout" || fail "stdout lacks '$1'"; }
expect_err() { grep -q -- "$1" "$T/stderr" || fail "stderr lacks '$1'"; }
expect_log() { grep -q -- "$1" "$T/server.log" || fail "server log lacks '$1'"; }
same_as_served() { cmp -s "$1" "$T/srv/model.gguf" || fail "$1 differs from the served file"; }
absent() { [ ! -e "$1" ] || fail "$1 exists"; }

case $CASE in
full)
    pull "$BASE/files/model.gguf" --to "$OUT" --sha256 "$SHA" --size "$SIZE"
    expect_rc 0
    same_as_served "$OUT"
    absent "$OUT.part"
    expect_out "size and sha256 verified"
    expect_out "architecture: llama"
    expect_out "tensors: 2: 1 f32 (1.0 MiB), 1 q8_0"
    expect_out "export TL_MODEL=$OUT"
    expect_err "downloading $BASE/files/model.gguf"
    expect_err "(100%)" # plain progress lines when stderr is not a terminal
    # again: already there, verified, no second request
    n=$(wc -l < "$T/server.log")
    pull "$BASE/files/model.gguf" --to "$OUT" --sha256 "$SHA"
    expect_rc 0
    expect_out "already here (sha256 verified)"
    [ "$(wc -l < "$T/server.log")" = "$n" ] || fail "a present, verified file was downloaded again"
    # a directory as --to keeps the URL's file name; the bar can be forced
    mkdir -p "$T/out/dir"
    pull "$BASE/redirect/model.gguf" --to "$T/out/dir" --progress bar
    expect_rc 0
    same_as_served "$T/out/dir/model.gguf"
    expect_out "not verified: no expected sha256"
    expect_out "$SHA"
    grep -q "ETA" "$T/stderr" && grep -q $'\r' "$T/stderr" || fail "no progress bar"
    ;;
registry)
    # a registry name, installed under $XDG_CACHE_HOME/tl/models (default
    # ~/.cache/tl/models); a file already in ~/.llm/models is checked and kept there
    printf '# test registry\ntest-model\ttest-model.gguf\t%s\t%s\t%s\tmeasured by the test\n' \
        "$SIZE" "$SHA" "$BASE/files/model.gguf" > "$T/reg.tsv"
    printf 'nosize\tnosize.gguf\t-\t-\t%s\n' "$BASE/files/model.gguf" >> "$T/reg.tsv"
    export TL_REGISTRY=$T/reg.tsv
    pull --list
    expect_rc 0
    expect_out "test-model"
    pull test-model
    expect_rc 0
    same_as_served "$HOME/.cache/tl/models/test-model.gguf"
    expect_out "size and sha256 verified"
    pull test-model
    expect_rc 0
    expect_out "already here (sha256 verified)"
    pull nosize
    expect_rc 0
    expect_err "warning: no published sha256"
    same_as_served "$HOME/.cache/tl/models/nosize.gguf"
    pull no-such-model
    expect_rc 1
    expect_err "no model named 'no-such-model'"
    # the file present but different from the registry's
    echo garbage > "$HOME/.cache/tl/models/test-model.gguf"
    pull test-model
    expect_rc 1
    expect_err "already exists but is"
    pull test-model --force
    expect_rc 0
    same_as_served "$HOME/.cache/tl/models/test-model.gguf"
    # $XDG_CACHE_HOME when set
    XDG_CACHE_HOME=$T/xdg pull test-model
    expect_rc 0
    same_as_served "$T/xdg/tl/models/test-model.gguf"
    # a model already in ~/.llm/models (where older versions put them) stays there
    mkdir -p "$HOME/.llm/models"
    cp "$T/xdg/tl/models/test-model.gguf" "$HOME/.llm/models/test-model.gguf"
    XDG_CACHE_HOME=$T/xdg2 pull test-model
    expect_rc 0
    expect_out "already here (sha256 verified)"
    [ ! -e "$T/xdg2/tl/models/test-model.gguf" ] || fail "downloaded again beside ~/.llm/models"
    # a malformed registry is an error that names the line
    printf 'bad\tline\n' > "$T/reg.tsv"
    pull test-model
    expect_rc 1
    expect_err "reg.tsv:1: expected 6 tab-separated columns"
    ;;
resume)
    # a .part left by an earlier attempt: only the rest is asked for
    head -c 700000 "$T/srv/model.gguf" > "$OUT.part"
    pull "$BASE/files/model.gguf" --to "$OUT" --sha256 "$SHA"
    expect_rc 0
    expect_err "resuming $OUT.part"
    expect_log "range=bytes=700000-"
    same_as_served "$OUT"
    absent "$OUT.part"
    # a server that ignores Range: start again from the beginning
    rm -f "$OUT"
    head -c 500000 "$T/srv/model.gguf" > "$OUT.part"
    pull "$BASE/norange/model.gguf" --to "$OUT" --sha256 "$SHA"
    expect_rc 0
    expect_err "does not support resuming"
    same_as_served "$OUT"
    # a complete .part: nothing left to ask for (416), verified and installed
    rm -f "$OUT"
    cp "$T/srv/model.gguf" "$OUT.part"
    pull "$BASE/files/model.gguf" --to "$OUT" --sha256 "$SHA"
    expect_rc 0
    same_as_served "$OUT"
    ;;
stop)
    # the server closes the connection mid-transfer; no retries: the .part stays
    pull "$BASE/stop/model.gguf" --to "$OUT" --sha256 "$SHA" --retries 0
    expect_rc 1
    expect_err "closed the connection before the end"
    expect_err "kept in $OUT.part"
    absent "$OUT"
    got=$(stat -c %s "$OUT.part")
    [ "$got" -gt 0 ] && [ "$got" -lt "$SIZE" ] || fail ".part has $got bytes"
    # the same command against a working server resumes from there
    pull "$BASE/files/model.gguf" --to "$OUT" --sha256 "$SHA"
    expect_rc 0
    expect_log "range=bytes=$got-"
    same_as_served "$OUT"
    absent "$OUT.part"
    # with retries, one command resumes by itself
    rm -f "$OUT"
    pull "$BASE/stoponce/model.gguf" --to "$T/out/m2.gguf" --sha256 "$SHA" --retries 2
    expect_rc 0
    expect_err "transfer interrupted"
    same_as_served "$T/out/m2.gguf"
    ;;
checksum)
    bad=$(printf '%s' "$SHA" | tr '0-9a-f' '1-9a-f0')
    pull "$BASE/files/model.gguf" --to "$OUT" --sha256 "$bad"
    expect_rc 1
    expect_err "checksum mismatch"
    expect_err "$SHA"
    absent "$OUT"
    absent "$OUT.part"
    # a wrong size is refused as soon as the server announces the real one
    pull "$BASE/files/model.gguf" --to "$OUT" --size $((SIZE + 1))
    expect_rc 1
    expect_err "the server's file is $SIZE bytes, expected $((SIZE + 1))"
    absent "$OUT"
    absent "$OUT.part"
    # a corrupted .part is caught by the checksum, not installed
    { head -c 100000 "$T/srv/model.gguf"; head -c 100000 /dev/zero; } > "$OUT.part"
    pull "$BASE/files/model.gguf" --to "$OUT" --sha256 "$SHA"
    expect_rc 1
    expect_err "checksum mismatch"
    absent "$OUT"
    absent "$OUT.part"
    ;;
notfound)
    pull "$BASE/files/missing.gguf" --to "$OUT"
    expect_rc 1
    expect_err "HTTP 404 (not found)"
    absent "$OUT"
    absent "$OUT.part"
    ;;
notgguf)
    pull "$BASE/files/junk.bin" --to "$OUT"
    expect_rc 1
    expect_err "not a valid GGUF file"
    absent "$OUT"
    absent "$OUT.part"
    ;;
noconnect)
    # a port nothing listens on: stop our server and reuse its port
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
    pull "$BASE/files/model.gguf" --to "$OUT"
    expect_rc 1
    expect_err "no network, or the server is down"
    absent "$OUT"
    absent "$OUT.part"
    ;;
writefail)
    # a write error mid-download (a file size limit stands in for a full disk): the
    # message names the file and the OS error, the .part stays, nothing is installed
    (trap '' XFSZ; ulimit -f 1000; pull "$BASE/files/model.gguf" --to "$OUT" --sha256 "$SHA"; exit $RC)
    RC=$?
    expect_rc 1
    expect_err "writing $OUT.part: File too large"
    absent "$OUT"
    [ -s "$OUT.part" ] || fail "no .part kept"
    pull "$BASE/files/model.gguf" --to "$OUT" --sha256 "$SHA"
    expect_rc 0
    same_as_served "$OUT"
    ;;
interrupt)
    # SIGINT mid-download: a clean stop (exit 130), the .part kept, nothing installed
    "$TL" pull "$BASE/slow/model.gguf" --to "$OUT" --sha256 "$SHA" > "$T/stdout" 2> "$T/stderr" &
    pid=$!
    for _ in $(seq 100); do [ -s "$OUT.part" ] && break; sleep 0.05; done
    [ -s "$OUT.part" ] || fail "the download did not start"
    kill -INT "$pid"
    wait "$pid"
    RC=$?
    expect_rc 130
    expect_err "interrupted at"
    expect_err "kept in $OUT.part"
    absent "$OUT"
    got=$(stat -c %s "$OUT.part")
    [ "$got" -lt "$SIZE" ] || fail ".part is complete"
    pull "$BASE/files/model.gguf" --to "$OUT" --sha256 "$SHA"
    expect_rc 0
    expect_log "range=bytes=$got-"
    same_as_served "$OUT"
    ;;
usage)
    pull
    expect_rc 2
    expect_err "give a model name or a URL"
    pull "$BASE/files/model.gguf" --bogus
    expect_rc 2
    expect_err "unknown option --bogus"
    pull "$BASE/" 
    expect_rc 1
    expect_err "cannot tell a file name"
    pull "$BASE/files/model.gguf" --to "$OUT" --sha256 abc
    expect_rc 1
    expect_err "is not 64 hex digits"
    ;;
*)
    echo "unknown case $CASE"
    exit 2
    ;;
esac
echo "PASS [$CASE]"
