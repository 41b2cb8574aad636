#!/usr/bin/python3
"""bench/equations/numpy_bench.py DIR ROUNDS -- numpy.einsum(optimize=True) on cases.txt.

Prints `name ms` (best of ROUNDS, each round as many calls as fit in ~0.2 s).  The
thread count is whatever OPENBLAS_NUM_THREADS / OMP_NUM_THREADS say (equations_bench.sh
sets them to tl's --threads)."""
import os
import sys
import time

import numpy as np

d, rounds = sys.argv[1], int(sys.argv[2])
for line in open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases.txt")):
    if line.startswith("#") or not line.strip():
        continue
    name, _, spec, shapes = [f.strip() for f in line.split("|")]
    ops = [np.load(os.path.join(d, f"{name}_{item.split('=')[0]}.npy")) for item in shapes.split(";")]
    np.einsum(spec, *ops, optimize=True)
    best = 1e9
    for _ in range(rounds):
        n, t0 = 0, time.perf_counter()
        while True:
            np.einsum(spec, *ops, optimize=True)
            n += 1
            t = time.perf_counter() - t0
            if t > 0.2:
                break
        best = min(best, t / n)
    print(f"{name} {best * 1e3:.3f}")
