#!/usr/bin/env bash
# endless_sources.sh TL -- reads that never end by themselves (lang/read_all.h):
# every whole-file read stops at its size limit with an error naming the limit
# (TL_MAX_READ_BYTES lowers it here), and Ctrl-C stops a read that waits; files
# that must be regular (models, tokenizers, arrays) refuse a FIFO instead of
# waiting for its writer.  The
# endless sources are a generator writing into a FIFO made in a temporary
# directory and a generator piped into `tl run -` (never /dev/zero itself).
set -u
tl=$1
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 2
fail=0
check() { # check NAME PATTERN OUTPUT
  case $3 in *$2*) echo "$1: ok" ;; *) printf '%s: expected *%s*, got\n%s\n' "$1" "$2" "$3"; fail=1 ;; esac
}
endless() { while printf 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\n'; do :; done 2>/dev/null; }
# waits (up to 20 s) until the script has written "ready" (its SIGINT handler is in
# place and read_file comes next), then presses Ctrl-C
wait_ready() {
  for _ in $(seq 200); do grep -q ready out 2>/dev/null && break; sleep 0.1; done
  sleep 0.3
  kill -INT $tlpid
}
export TL_MAX_READ_BYTES=100000
mkfifo fifo

# `endless | tl run -`: the script read stops at the limit
out=$(endless | timeout 20 "$tl" run - 2>&1)
check "endless stdin script" "'<stdin>' is larger than the read limit of 100000 bytes" "$out"

# `tl run FIFO` fed forever
endless >fifo &
pids+=($!)
out=$(timeout 20 "$tl" run fifo 2>&1)
check "endless FIFO script" "'fifo' is larger than the read limit of 100000 bytes" "$out"
kill "${pids[-1]}" 2>/dev/null

# read_file and read_lines of an endless FIFO
for fn in read_file read_lines; do
  endless >fifo &
  pids+=($!)
  printf 'main { print(len(%s("fifo"))) }\n' "$fn" >s.tl
  out=$(timeout 20 "$tl" run s.tl 2>&1)
  check "$fn of an endless FIFO" "$fn: 'fifo' is larger than the read limit of 100000 bytes (set TL_MAX_READ_BYTES to change it)" "$out"
  kill "${pids[-1]}" 2>/dev/null
done

# the REPL's :load of an endless FIFO, and of a directory (it used to say "loaded")
endless >fifo &
pids+=($!)
out=$(printf ':load fifo\nprint(2)\n' | timeout 20 "$tl" repl 2>&1)
check "REPL :load of an endless FIFO" "error: :load: 'fifo' is larger than the read limit of 100000 bytes" "$out"
kill "${pids[-1]}" 2>/dev/null
mkdir adir
out=$(printf ':load adir\n' | timeout 20 "$tl" repl 2>&1)
check "REPL :load of a directory" "error: :load: cannot read 'adir': Is a directory" "$out"

# append_file onto an existing file larger than the limit: refused, no temporary file
head -c 200000 /dev/urandom >big 2>/dev/null || dd if=/dev/urandom of=big bs=1000 count=200 2>/dev/null
printf 'main { append_file("big", "x") }\n' >s.tl
out=$(timeout 20 "$tl" run s.tl 2>&1)
check "append_file over the limit" "append_file: 'big' is larger than the read limit of 100000 bytes" "$out"
[[ $(stat -c %s big) == 200000 ]] || { echo "append_file changed big"; fail=1; }

# append_file onto a FIFO never reads it: it writes to whoever reads (the shell
# holds the FIFO open read-write on fd 3, so there is a reader before tl starts)
exec 3<>fifo
printf 'main { append_file("fifo", "appended\\n") }\n' >s.tl
timeout 20 "$tl" run s.tl
check "append_file onto a FIFO" "appended" "$(timeout 5 head -n 1 <&3)"
exec 3<&-

# a source within the limit is read whole
unset TL_MAX_READ_BYTES
head -c 150000 /dev/zero | tr '\0' 'a' >fine
printf 'main { print(len(read_file("fine")), len(read_lines("fine"))) }\n' >s.tl
check "within the default limit" "150000 1" "$(timeout 20 "$tl" run s.tl 2>&1)"
export TL_MAX_READ_BYTES=100000

# Ctrl-C while read_file waits on a silent FIFO (its writer never writes)
sleep 60 >fifo &
pids+=($!)
printf 'main {\n    write("ready\\n")\n    print(len(read_file("fifo")))\n}\n' >s.tl
"$tl" run s.tl >out 2>&1 &
tlpid=$!
wait_ready
code=0
for _ in $(seq 50); do kill -0 $tlpid 2>/dev/null || break; sleep 0.1; done
if kill -0 $tlpid 2>/dev/null; then
  echo "Ctrl-C during read_file: still running after 5 s"; kill -9 $tlpid; fail=1
else
  wait $tlpid || code=$?
  check "Ctrl-C during read_file (exit $code)" "interrupted" "$(cat out)"
  [[ $code == 130 ]] || { echo "Ctrl-C exit status $code, expected 130"; fail=1; }
fi
kill "${pids[-1]}" 2>/dev/null

# Ctrl-C while read_file waits for a FIFO's writer (nobody has opened it)
"$tl" run s.tl >out 2>&1 &
tlpid=$!
wait_ready
for _ in $(seq 50); do kill -0 $tlpid 2>/dev/null || break; sleep 0.1; done
if kill -0 $tlpid 2>/dev/null; then
  echo "Ctrl-C before a writer: still running after 5 s"; kill -9 $tlpid; fail=1
else
  code=0; wait $tlpid || code=$?
  check "Ctrl-C before a FIFO has a writer (exit $code)" "interrupted" "$(cat out)"
fi

# files that must be regular (mapped or sized first: models, tokenizers, arrays):
# a FIFO nobody writes is refused at once, never waited for (open used to block)
mkfifo idle
for s in 'load_model("idle")' 'load_tokenizer("idle")' 'load("idle")' 'load_f32("idle", [2])'; do
  printf 'main { let x = %s }\n' "$s" >r.tl
  out=$(timeout 10 "$tl" run r.tl 2>&1)
  code=$?
  [[ $code == 1 ]] || { echo "$s on an idle FIFO: exit $code (124: it hung)"; fail=1; }
  check "$s on an idle FIFO" "not a regular file" "$out"
done
out=$(timeout 10 "$tl" gguf idle 2>&1)
check "tl gguf on an idle FIFO (exit $?)" "idle: not a regular file" "$out"
out=$(timeout 10 "$tl" tokenize idle hi 2>&1)
check "tl tokenize on an idle FIFO (exit $?)" "idle: not a regular file" "$out"

left=$(ls -A | grep -c '\.tmp-')
[[ $left == 0 ]] || { echo "$left temporary files left"; fail=1; }
exit $fail
