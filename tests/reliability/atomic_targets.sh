#!/usr/bin/env bash
# atomic_targets.sh TL -- what an atomic write (write_file, append_file, write_csv,
# save) does with what is already at the path (lang/atomic_file.h): symlinks are
# written through, FIFOs are written in place and stay FIFOs, a read-only file is
# refused and unchanged, an existing file keeps its mode, nothing but the target
# changes in the directory.  Every node is made in a fresh temporary directory.
set -u
tl=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
fail=0
expect() { # expect NAME WANT GOT
  if [[ $2 != "$3" ]]; then
    printf '%s: expected\n%s\ngot\n%s\n' "$1" "$2" "$3"; fail=1
  else
    echo "$1: ok"
  fi
}
run() { printf '%s\n' "main { $1 }" >s.tl; "$tl" run s.tl 2>&1; }

# a symlink is written through: the link stays, its target changes
echo old >real && ln -s real link
run 'write_file("link", "new\n")' >/dev/null
expect "symlink stays a link" "real" "$(readlink link)"
expect "symlink target written" "new" "$(cat real)"
run 'append_file("link", "more\n")' >/dev/null
expect "append through a symlink" $'new\nmore' "$(cat real)"
run 'save([1.0, 2.0], "link")' >/dev/null
expect "save through a symlink" "real" "$(readlink link)"
run 'write_csv("link", ["a"], [["1"]])' >/dev/null
expect "write_csv through a symlink" $'a\n1' "$(cat real)"
# a chain of links and a relative link into a subdirectory
mkdir sub && echo x >sub/t && ln -s t sub/l1 && ln -s sub/l1 l2
run 'write_file("l2", "chained\n")' >/dev/null
expect "relative symlink chain" "chained|t" "$(cat sub/t)|$(readlink sub/l1)"
# a dangling link creates its target
ln -s made dangling
run 'write_file("dangling", "made\n")' >/dev/null
expect "dangling link creates its target" "made|made" "$(cat made)|$(readlink dangling)"
# a symlink loop is an error
ln -s loop_b loop_a && ln -s loop_a loop_b
out=$(run 'write_file("loop_a", "x")')
case $out in *"cannot write 'loop_a': Too many levels of symbolic links"*) echo "symlink loop: ok" ;;
  *) echo "symlink loop: got $out"; fail=1 ;; esac

# a read-only file is refused and unchanged (also for root)
echo keep >ro && chmod 444 ro
out=$(run 'write_file("ro", "x")')
case $out in *"write_file: cannot write 'ro': Permission denied"*) echo "read-only refused: ok" ;;
  *) echo "read-only refused: got $out"; fail=1 ;; esac
expect "read-only unchanged" "keep|444" "$(cat ro)|$(stat -c %a ro)"
out=$(run 'append_file("ro", "x")')
case $out in *"append_file: cannot write 'ro': Permission denied"*) echo "read-only append refused: ok" ;;
  *) echo "read-only append refused: got $out"; fail=1 ;; esac

# an existing file keeps its mode
echo a >m && chmod 640 m
run 'write_file("m", "b\n")' >/dev/null
expect "mode kept" "640|b" "$(stat -c %a m)|$(cat m)"

# a writable file owned by another user is written in place: its owner stays
# (only root can make one here)
if [[ $(id -u) == 0 ]]; then
  echo a >theirs && chmod 666 theirs && chown 65534 theirs
  run 'write_file("theirs", "mine\n")' >/dev/null
  expect "foreign owner kept" "65534|mine" "$(stat -c %u theirs)|$(cat theirs)"
  run 'append_file("theirs", "more\n")' >/dev/null
  expect "foreign owner append" $'65534|mine\nmore' "$(stat -c %u theirs)|$(cat theirs)"
fi

# a FIFO: nobody reading is an error and the FIFO stays; with a reader the bytes arrive
mkfifo fifo
out=$(run 'write_file("fifo", "x")')
case $out in *"write_file: cannot write 'fifo': no process is reading the FIFO"*) echo "FIFO without reader: ok" ;;
  *) echo "FIFO without reader: got $out"; fail=1 ;; esac
[[ -p fifo ]] && echo "FIFO kept: ok" || { echo "FIFO kept: the FIFO was replaced"; fail=1; }
for fn in write_file append_file; do
  exec 3<>fifo # the shell is the reader (read-write open: no blocking, no race)
  run "$fn(\"fifo\", \"through the fifo\\n\")" >/dev/null
  expect "$fn to a FIFO" "through the fifo" "$(timeout 5 head -n 1 <&3)"
  exec 3<&-
  [[ -p fifo ]] || { echo "$fn replaced the FIFO"; fail=1; }
done

# a socket is refused (python makes one; skip when absent)
if command -v python3 >/dev/null; then
  python3 -c 'import socket; s=socket.socket(socket.AF_UNIX); s.bind("sock")'
  out=$(run 'write_file("sock", "x")')
  case $out in *"cannot write 'sock': it is not a regular file, a character device or a FIFO"*)
    echo "socket refused: ok" ;; *) echo "socket refused: got $out"; fail=1 ;; esac
  [[ -S sock ]] || { echo "the socket was replaced"; fail=1; }
fi

# nothing else is left in the directory (no temporary files)
left=$(ls -A | grep -c '\.tmp-')
expect "no temporary files left" "0" "$left"
exit $fail
