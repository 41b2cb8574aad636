"""tests/python/test_tl.py -- the Python package python/tl (ctypes over libtl.so).

Run by ctest with Debian's /usr/bin/python3 (python3-numpy), TL_LIBRARY pointing at
the built libtl.so and PYTHONPATH at python/.  Exits 77 (skipped) without NumPy."""
import gc
import sys
import unittest

try:
    import numpy as np
except ImportError:
    print("SKIPPED: numpy (Debian python3-numpy) is not installed")
    sys.exit(77)

import tl


class TestValues(unittest.TestCase):
    def setUp(self):
        self.vm = tl.VM(threads=1)

    def test_scalars_and_state(self):
        self.assertEqual(self.vm.eval("main { let x = 6 * 7\n x }"), 42)
        self.assertEqual(self.vm["x"], 42)
        self.assertEqual(self.vm.eval("main { x / 4 + 0.5 }"), 10.5)
        self.assertIs(self.vm.eval("main { x > 3 }"), True)
        self.assertEqual(self.vm.eval('main { "a" + "b" }'), "ab")
        self.assertIsNone(self.vm.eval("fn f(n) { n * 2 }"))
        self.assertEqual(self.vm.call("f", 21), 42)

    def test_arrays_round_trip(self):
        self.vm["a"] = [1, "x", [2.5, True]]
        self.assertEqual(self.vm["a"], [1, "x", [2.5, True]])
        self.assertEqual(self.vm.eval("main { len(a) }"), 3)

    def test_tensor_is_a_view_not_a_copy(self):
        self.vm.eval("main { let t = reshape(arange(6), [2, 3]) }")
        a, b = self.vm["t"], self.vm["t"]
        self.assertEqual(a.dtype, np.float32)
        self.assertEqual(a.shape, (2, 3))
        np.testing.assert_array_equal(a, [[0, 1, 2], [3, 4, 5]])
        self.assertTrue(np.shares_memory(a, b))  # both views of the one tensor
        self.assertFalse(a.flags.writeable)

    def test_view_outlives_the_vm(self):
        vm = tl.VM()
        a = vm.eval("main { full([3], 2.5) }")
        vm.close()
        del vm
        gc.collect()
        np.testing.assert_array_equal(a, [2.5, 2.5, 2.5])

    def test_strided_and_other_dtypes(self):
        t = self.vm.eval("main { transpose(reshape(arange(6), [2, 3])) }")
        np.testing.assert_array_equal(t, [[0, 3], [1, 4], [2, 5]])
        i = self.vm.eval("main { i64::arange(4) }")
        self.assertEqual(i.dtype, np.int64)
        np.testing.assert_array_equal(i, [0, 1, 2, 3])
        h = self.vm.eval("main { f16::ones([2]) }")
        self.assertEqual(h.dtype, np.float16)
        b = self.vm.eval("main { bf16::ones([2]) }")  # no NumPy bf16: a float32 copy
        self.assertEqual(b.dtype, np.float32)
        np.testing.assert_array_equal(b, [1, 1])

    def test_numpy_in(self):
        self.vm["w"] = np.arange(6, dtype=np.float64).reshape(2, 3)
        self.assertEqual(self.vm.eval("main { shape(w) }"), [2, 3])
        self.assertEqual(self.vm.call("sum", self.vm["w"]), 15.0)

    def test_errors(self):
        with self.assertRaises(tl.Error) as cm:
            self.vm.eval("main { 1 / 0 }")
        self.assertIn("<eval>:1:8: error: integer division by zero", str(cm.exception))
        with self.assertRaises(tl.Error):
            tl.VM(precision="fast")

    def test_output_and_settings_per_vm(self):
        out1, out2 = [], []
        a = tl.VM(seed=7, output=out1.append, precision="exact", threads=1)
        b = tl.VM(seed=7, output=out2.append, threads=2)
        a.eval("main { print(rand([3])) }")
        b.eval("main { print(rand([3])) }")
        self.assertEqual(out1, out2)  # same seed, same numbers, each to its own callback
        self.assertEqual(a.eval("main { precision() }"), "exact")
        self.assertEqual(b.eval("main { precision() }"), "llama")
        self.assertEqual((a.eval("main { threads() }"), b.eval("main { threads() }")), (1, 2))


if __name__ == "__main__":
    unittest.main()
