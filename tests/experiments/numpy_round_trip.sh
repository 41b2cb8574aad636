#!/usr/bin/env bash
# numpy_round_trip.sh TL -- .npy written by tl reads in NumPy and back, losslessly.
# NumPy (Debian python3-numpy, /usr/bin/python3) writes arrays of every dtype tl
# knows, plus Fortran-order, big-endian, unsigned, 0-d and empty ones; tl loads
# them, prints them as JSON and saves them again; NumPy then checks the saved
# files byte for byte in value, dtype (after tl's documented widenings) and shape.
set -u
tl=$1
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
if ! "$py" -c 'import numpy' 2>/dev/null; then
  echo "SKIPPED: $py with numpy (Debian python3-numpy) is not installed"; exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in" "$work/out"

"$py" - "$work" <<'PY' || exit 1
import sys, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(12)
arrays = {
    'f32': rng.standard_normal((3, 4)).astype(np.float32),
    'f16': rng.standard_normal((2, 3, 2)).astype(np.float16),
    'f64': np.array([0.1, -1e300, 5e-324, 1.0]),
    'i8': np.array([-128, 0, 127], dtype=np.int8),
    'i16': np.array([[-32768, 1], [2, 32767]], dtype=np.int16),
    'i32': np.arange(-6, 6, dtype=np.int32).reshape(3, 2, 2),
    'i64': np.array([-2**63, 2**63 - 1, 0], dtype=np.int64),
    'bool': np.array([[True, False, True]]),
    'scalar': np.array(2.5, dtype=np.float32),
    'empty': np.zeros((0, 3), dtype=np.float32),
    'fortran': np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)),
    'bigendian': np.array([1.5, -2.0, 3.25], dtype='>f4'),
    'u8': np.array([0, 200, 255], dtype=np.uint8),
    'u16': np.array([0, 65535], dtype=np.uint16),
    'u32': np.array([4000000000], dtype=np.uint32),
    'special': np.array([np.inf, -np.inf, -0.0, 1e-45], dtype=np.float32),
}
with open(d + '/names.txt', 'w') as f:
    for name, a in arrays.items():
        np.save('%s/in/%s.npy' % (d, name), a)
        f.write(name + '\n')
PY

if ! "$tl" run "$here/npy_tl_side.tl" -- "$work" > "$work/tl.out"; then
  echo "tl failed"; exit 1
fi
cat "$work/tl.out"

"$py" - "$work" <<'PY'
import sys, json, numpy as np
d = sys.argv[1]
widen = {'uint8': 'int16', 'uint16': 'int32', 'uint32': 'int64'}
bad = 0
names = open(d + '/names.txt').read().split()
printed = dict(line.split(' ', 1) for line in open(d + '/tl.out').read().splitlines())
for name in names:
    a = np.load('%s/in/%s.npy' % (d, name))
    b = np.load('%s/out/%s.npy' % (d, name))
    want_dtype = np.dtype(widen.get(a.dtype.name, a.dtype.name))
    ok = (b.dtype == want_dtype and b.shape == a.shape and b.flags.c_contiguous
          and np.array_equal(a.astype(want_dtype), b, equal_nan=False))
    # the bits must match too (signed zeros, subnormals)
    ok = ok and a.astype(want_dtype).astype(want_dtype.newbyteorder('<')).tobytes() == b.tobytes()
    # tl's JSON of the tensor has the same values (infinities become null)
    if ok and name != 'special':
        ok = np.array_equal(np.array(json.loads(printed[name]), dtype=want_dtype).reshape(a.shape), b)
    print('%-10s %-9s %-12s -> %-7s %s' % (name, a.dtype, a.shape, b.dtype, 'ok' if ok else 'MISMATCH'))
    bad += not ok
m = np.load(d + '/out/made_in_tl.npy')
want = np.array([[0.1, -2.5, 1e-30], [3.4028234e38, 0.0, -0.0]], dtype=np.float32)
made_ok = m.dtype == np.float32 and m.shape == (2, 3) and m.tobytes() == want.tobytes()
print('made_in_tl float32 (2, 3) %s' % ('ok' if made_ok else 'MISMATCH'))
sys.exit(1 if bad or not made_ok else 0)
PY
