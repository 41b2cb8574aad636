"""tl -- TensorLogic from Python, through libtl.so (include/tl.h) with ctypes.

    import tl
    vm = tl.VM(threads=1, seed=42)
    vm.eval("main { let x = 6 * 7 }")
    vm["x"]                         # 42
    t = vm.eval("main { arange(6).reshape([2, 3]) }")
    t                               # numpy.ndarray, float32, shape (2, 3): a view, no copy
    vm["w"] = numpy.ones((2, 2), numpy.float32)
    vm.call("sum", vm["w"])         # 4.0

Values come back as Python values: int, float, bool, str, list, None, and
tensors as read-only NumPy arrays that share the tensor's memory (they keep the
tensor alive).  bf16 and block-quantized tensors, which NumPy cannot view, come
back as float32 copies.  Other values (structs, models, functions) come back as
opaque tl.Value handles that can be passed back in.

The library: $TL_LIBRARY, else libtl.so.0 beside an installed package
(PREFIX/lib), else the system's library path.
"""

import ctypes
import ctypes.util
import os

import numpy as np

__all__ = ["VM", "Value", "Error", "library_path"]

TL_TYPE_VOID, TL_TYPE_INT, TL_TYPE_FLOAT, TL_TYPE_BOOL, TL_TYPE_STRING = 0, 1, 2, 3, 4
TL_TYPE_ARRAY, TL_TYPE_TENSOR, TL_TYPE_FUNCTION, TL_TYPE_OTHER = 5, 6, 7, 8
MAX_DIMS = 8

_NUMPY_DTYPES = {
    "f32": np.float32,
    "f16": np.float16,
    "f64": np.float64,
    "i8": np.int8,
    "i16": np.int16,
    "i32": np.int32,
    "i64": np.int64,
    "bool": np.bool_,
}


class Error(Exception):
    """A tl error: the message as tl prints it (position, source line, caret)."""


def library_path():
    """Where libtl.so is looked for first."""
    env = os.environ.get("TL_LIBRARY")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    # PREFIX/lib/python3/dist-packages/tl -> PREFIX/lib
    for up in ("../../..", "../..", ".."):
        cand = os.path.normpath(os.path.join(here, up, "libtl.so.0"))
        if os.path.exists(cand):
            return cand
    return ctypes.util.find_library("tl") or "libtl.so.0"


_lib = None
_OUTPUT = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t)


def _load():
    global _lib
    if _lib is not None:
        return _lib
    lib = ctypes.CDLL(library_path())
    P, I, S = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
    I64, PI64 = ctypes.c_int64, ctypes.POINTER(ctypes.c_int64)
    sig = {
        "tl_vm_new": (P, []),
        "tl_vm_free": (None, [P]),
        "tl_vm_eval_named": (I, [P, ctypes.c_char_p, S, ctypes.c_char_p, P]),
        "tl_vm_eval_file": (I, [P, ctypes.c_char_p]),
        "tl_vm_call": (I, [P, ctypes.c_char_p, I, ctypes.POINTER(P), P]),
        "tl_vm_error": (ctypes.c_char_p, [P]),
        "tl_vm_get": (I, [P, ctypes.c_char_p, P]),
        "tl_vm_set": (I, [P, ctypes.c_char_p, P]),
        "tl_vm_set_threads": (I, [P, I]),
        "tl_vm_set_seed": (None, [P, ctypes.c_uint64]),
        "tl_vm_set_precision": (I, [P, ctypes.c_char_p]),
        "tl_vm_set_output": (None, [P, _OUTPUT, P]),
        "tl_val_new": (P, []),
        "tl_val_free": (None, [P]),
        "tl_val_type": (I, [P]),
        "tl_val_type_name": (ctypes.c_char_p, [P]),
        "tl_val_get_int": (I, [P, PI64]),
        "tl_val_get_float": (I, [P, ctypes.POINTER(ctypes.c_double)]),
        "tl_val_get_bool": (I, [P, ctypes.POINTER(I)]),
        "tl_val_get_string": (I, [P, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(S)]),
        "tl_val_array_len": (I, [P, ctypes.POINTER(S)]),
        "tl_val_array_get": (I, [P, S, P]),
        "tl_val_tensor_info": (I, [P, ctypes.POINTER(I), PI64, ctypes.POINTER(ctypes.c_char_p)]),
        "tl_val_tensor_to_f32": (I, [P, ctypes.POINTER(ctypes.c_float), S, ctypes.POINTER(S)]),
        "tl_val_tensor_data": (
            I,
            [P, ctypes.POINTER(P), ctypes.POINTER(I), PI64, PI64, ctypes.POINTER(ctypes.c_char_p)],
        ),
        "tl_val_copy": (I, [P, P]),
        "tl_val_set_void": (None, [P]),
        "tl_val_set_int": (None, [P, I64]),
        "tl_val_set_float": (None, [P, ctypes.c_double]),
        "tl_val_set_bool": (None, [P, I]),
        "tl_val_set_string": (I, [P, ctypes.c_char_p, S]),
        "tl_val_set_tensor_f32": (I, [P, ctypes.POINTER(ctypes.c_float), I, PI64]),
        "tl_val_set_array": (I, [P]),
        "tl_val_array_push": (I, [P, P]),
    }
    for name, (res, args) in sig.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    _lib = lib
    return lib


class Value:
    """An owned tl_val handle (a value Python cannot represent natively)."""

    def __init__(self, lib=None):
        self._lib = lib or _load()
        self._p = self._lib.tl_val_new()
        if not self._p:
            raise MemoryError("tl_val_new")

    @property
    def type_name(self):
        return self._lib.tl_val_type_name(self._p).decode()

    def __del__(self):
        p, self._p = getattr(self, "_p", None), None
        if p:
            self._lib.tl_val_free(p)

    def __repr__(self):
        return "<tl.Value %s>" % self.type_name


def _tensor_to_numpy(lib, val):
    data, ndim = ctypes.c_void_p(), ctypes.c_int()
    shape, strides = (ctypes.c_int64 * MAX_DIMS)(), (ctypes.c_int64 * MAX_DIMS)()
    dtype = ctypes.c_char_p()
    if lib.tl_val_tensor_data(val._p, ctypes.byref(data), ctypes.byref(ndim), shape, strides,
                              ctypes.byref(dtype)) == 0 and dtype.value.decode() in _NUMPY_DTYPES:
        npdt = np.dtype(_NUMPY_DTYPES[dtype.value.decode()])
        n = ndim.value
        sh = tuple(shape[i] for i in range(n))
        st = tuple(strides[i] for i in range(n))
        if 0 in sh:
            return np.zeros(sh, npdt)
        span = npdt.itemsize + sum((sh[i] - 1) * st[i] for i in range(n))
        buf = (ctypes.c_char * span).from_address(data.value)
        buf._tl_owner = val  # the tensor lives as long as any view of it
        first = np.frombuffer(buf, dtype=npdt, count=1)  # element [0, ..., 0]
        arr = np.lib.stride_tricks.as_strided(first, shape=sh, strides=st, writeable=False)
        return arr
    # bf16 or a block-quantized tensor: a float32 copy
    ndim2 = ctypes.c_int()
    lib.tl_val_tensor_info(val._p, ctypes.byref(ndim2), shape, None)
    sh = tuple(shape[i] for i in range(ndim2.value))
    out = np.empty(sh, np.float32)
    n = ctypes.c_size_t()
    if lib.tl_val_tensor_to_f32(val._p, out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                out.size, ctypes.byref(n)) != 0:
        raise Error("cannot read the tensor")
    return out


def _to_python(lib, val):
    t = lib.tl_val_type(val._p)
    if t == TL_TYPE_VOID:
        return None
    if t == TL_TYPE_INT:
        x = ctypes.c_int64()
        lib.tl_val_get_int(val._p, ctypes.byref(x))
        return x.value
    if t == TL_TYPE_FLOAT:
        x = ctypes.c_double()
        lib.tl_val_get_float(val._p, ctypes.byref(x))
        return x.value
    if t == TL_TYPE_BOOL:
        x = ctypes.c_int()
        lib.tl_val_get_bool(val._p, ctypes.byref(x))
        return bool(x.value)
    if t == TL_TYPE_STRING:
        p, n = ctypes.c_void_p(), ctypes.c_size_t()
        lib.tl_val_get_string(val._p, ctypes.byref(p), ctypes.byref(n))
        return ctypes.string_at(p.value, n.value).decode("utf-8", "replace") if n.value else ""
    if t == TL_TYPE_ARRAY:
        n = ctypes.c_size_t()
        lib.tl_val_array_len(val._p, ctypes.byref(n))
        items = []
        for i in range(n.value):
            item = Value(lib)
            lib.tl_val_array_get(val._p, i, item._p)
            items.append(_to_python(lib, item))
        return items
    if t == TL_TYPE_TENSOR:
        return _tensor_to_numpy(lib, val)
    return val  # functions, structs, models, ...: the handle itself


def _from_python(lib, x):
    if isinstance(x, Value):
        return x
    v = Value(lib)
    if x is None:
        lib.tl_val_set_void(v._p)
    elif isinstance(x, (bool, np.bool_)):
        lib.tl_val_set_bool(v._p, int(bool(x)))
    elif isinstance(x, (int, np.integer)):
        lib.tl_val_set_int(v._p, int(x))
    elif isinstance(x, (float, np.floating)):
        lib.tl_val_set_float(v._p, float(x))
    elif isinstance(x, str):
        b = x.encode()
        lib.tl_val_set_string(v._p, b, len(b))
    elif isinstance(x, np.ndarray):
        a = np.ascontiguousarray(x, dtype=np.float32)
        shape = (ctypes.c_int64 * max(1, a.ndim))(*a.shape)
        if lib.tl_val_set_tensor_f32(v._p, a.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                     a.ndim, shape) != 0:
            raise Error("cannot make a tensor of shape %s" % (a.shape,))
    elif isinstance(x, (list, tuple)):
        lib.tl_val_set_array(v._p)
        for item in x:
            iv = _from_python(lib, item)
            lib.tl_val_array_push(v._p, iv._p)
    else:
        raise TypeError("no tl value for a %s" % type(x).__name__)
    return v


class VM:
    """One interpreter: globals, functions and loaded files persist across eval calls.
    Its own thread count, random seed, precision mode and output (print/write)."""

    def __init__(self, threads=None, seed=None, precision=None, output=None):
        self._lib = _load()
        self._vm = self._lib.tl_vm_new()
        if not self._vm:
            raise MemoryError("tl_vm_new")
        self._out_cb = None
        if threads is not None:
            self._check(self._lib.tl_vm_set_threads(self._vm, int(threads)))
        if seed is not None:
            self._lib.tl_vm_set_seed(self._vm, int(seed))
        if precision is not None:
            self._check(self._lib.tl_vm_set_precision(self._vm, precision.encode()))
        if output is not None:
            self.set_output(output)

    def _check(self, rc):
        if rc != 0:
            raise Error(self._lib.tl_vm_error(self._vm).decode("utf-8", "replace").rstrip("\n"))

    def set_output(self, fn):
        """fn(text) receives what print and write produce (None: stdout)."""
        if fn is None:
            self._out_cb = None
            self._lib.tl_vm_set_output(self._vm, _OUTPUT(), None)
            return

        def cb(_user, data, n):
            fn(ctypes.string_at(data, n).decode("utf-8", "replace"))

        self._out_cb = _OUTPUT(cb)
        self._lib.tl_vm_set_output(self._vm, self._out_cb, None)

    def eval(self, src, name=None):
        """Runs .tl source (declarations and main blocks); returns the value of the
        last expression statement of the last main block."""
        b = src.encode()
        r = Value(self._lib)
        self._check(self._lib.tl_vm_eval_named(self._vm, b, len(b),
                                               name.encode() if name else None, r._p))
        return _to_python(self._lib, r)

    def eval_file(self, path):
        self._check(self._lib.tl_vm_eval_file(self._vm, os.fsencode(path)))

    def call(self, name, *args):
        vals = [_from_python(self._lib, a) for a in args]
        argv = (ctypes.c_void_p * max(1, len(vals)))(*[v._p for v in vals])
        r = Value(self._lib)
        self._check(self._lib.tl_vm_call(self._vm, name.encode(), len(vals), argv, r._p))
        return _to_python(self._lib, r)

    def __getitem__(self, name):
        r = Value(self._lib)
        self._check(self._lib.tl_vm_get(self._vm, name.encode(), r._p))
        return _to_python(self._lib, r)

    def __setitem__(self, name, value):
        v = _from_python(self._lib, value)  # kept alive across the call
        self._check(self._lib.tl_vm_set(self._vm, name.encode(), v._p))

    def close(self):
        vm, self._vm = getattr(self, "_vm", None), None
        if vm:
            self._lib.tl_vm_free(vm)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()
