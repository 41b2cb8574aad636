#!/usr/bin/python3
"""bench/equations/gen.py -- writes the operands of cases.txt as .npy (seeded) into DIR."""
import os
import sys

import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(1)
for line in open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases.txt")):
    if line.startswith("#") or not line.strip():
        continue
    name, _, _, shapes = [f.strip() for f in line.split("|")]
    for item in shapes.split(";"):
        op, dims = item.split("=")
        a = rng.uniform(-1, 1, size=[int(d) for d in dims.split(",")]).astype(np.float32)
        np.save(os.path.join(out, f"{name}_{op}.npy"), a)
