#!/usr/bin/env bash
# bench/equations/equations_bench.sh [THREADS] [ROUNDS] -- tl's tensor equations against
# numpy.einsum(..., optimize=True) on the 10 cases of cases.txt, same operands, same
# thread count (OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS for NumPy).
# Needs /usr/bin/python3 with NumPy (Debian python3-numpy); builds nothing: set TL to
# the tl binary (default build/tl).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tl=${TL:-$here/../../build/tl}
threads=${1:-2}
rounds=${2:-5}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
/usr/bin/python3 "$here/gen.py" "$dir"
export OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads
/usr/bin/python3 "$here/numpy_bench.py" "$dir" "$rounds" > "$dir/np.txt"
"$tl" run --threads "$threads" "$here/equations_bench.tl" -- "$dir" "$rounds" > "$dir/tl.txt"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)   threads: $threads   rounds: $rounds"
printf '%-10s %10s %10s %8s\n' case "tl ms" "numpy ms" "tl/np"
join "$dir/tl.txt" "$dir/np.txt" | awk '{ printf "%-10s %10.3f %10.3f %8.2f\n", $1, $2, $3, $2 / $3 }'
