#!/usr/bin/python3
"""Records llama.cpp's dequantization of every tensor of the test models (docs/reference.md) as
FNV-1a 64-bit hashes of the f32 bytes (ggml 0.23.0's own to_float, via ctypes on the
reference harness's libggml-base.so; its folder is the default path below), for
tests/unit/test_quant_models.c.  Not part of the build:
  /usr/bin/python3 tests/data/quant/record_models.py "$TL_TEST_MODELS" > tests/data/quant/models.txt
Output lines: model tensor type_id n_elements fnv64_hex"""
import ctypes, os, sys
import numpy as np
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../../../shared/oracle'))
import gguf_lib as G

home = os.environ.get('TL_ORACLE_HOME', os.path.expanduser('~/.cache/tl-oracle'))
lib = ctypes.CDLL(os.path.join(home, 'node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-base.so'))
class Traits(ctypes.Structure):
    _fields_ = [('type_name', ctypes.c_char_p), ('blck_size', ctypes.c_int64), ('blck_size_interleave', ctypes.c_int64),
                ('type_size', ctypes.c_size_t), ('is_quantized', ctypes.c_bool), ('to_float', ctypes.c_void_p),
                ('from_float_ref', ctypes.c_void_p)]
lib.ggml_get_type_traits.restype = ctypes.POINTER(Traits)
TO_FLOAT = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)

def fnv64(b):
    h = 0xcbf29ce484222325
    a = np.frombuffer(b, dtype=np.uint8)
    # FNV-1a, byte by byte (vectorized in chunks would change nothing; models are small)
    for x in a.tobytes():
        h ^= x
        h = (h * 0x100000001b3) & 0xffffffffffffffff
    return h

models_dir = sys.argv[1]
for m in sorted(os.listdir(models_dir)):
    if not m.endswith('.gguf') or 'vocab' in m:
        continue
    g = G.GGUFFile(os.path.join(models_dir, m))
    for t in g.tensors:
        n = int(np.prod(t['ne']))
        raw = g.tensor_bytes(t['name'])
        if t['type'] == 0:
            out = raw
        else:
            tr = lib.ggml_get_type_traits(t['type']).contents
            src = ctypes.create_string_buffer(raw, len(raw))
            dst = (ctypes.c_float * n)()
            TO_FLOAT(tr.to_float)(src, dst, n)
            out = bytes(dst)
        print(m, t['name'], t['type'], n, '%016x' % fnv64(out))
