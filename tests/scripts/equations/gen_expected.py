#!/usr/bin/python3
"""tests/scripts/equations/gen_expected.py -- writes the NumPy-checked equation goldens.

For every case below it writes eq_NAME.tl (the equation, run by ctest through
run_golden.sh), eq_NAME.out (the expected stdout: the result's shape and `true`
for "equal to NumPy within tl's tensor `≈`": |x - y| <= 1e-5 * max(1, |x|, |y|)),
and data/eq_NAME.npy (NumPy's result, float32).  The inputs are data/in_*.npy,
drawn once from a seeded generator.  ctest itself needs no Python: it compares
with the recorded files.  Run it again only to add cases:

    cd tests/scripts/equations && /usr/bin/python3 gen_expected.py
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
rng = np.random.default_rng(16)


def r(*shape):
    return rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


INPUTS = {
    "A": r(3, 4),
    "B": r(4, 5),
    "C": r(3, 4),
    "C2": r(5, 2),
    "M": r(4, 4),
    "x": r(4),
    "y": r(4),
    "z": r(4),
    "v": r(3),
    "pos": rng.uniform(0.5, 2.0, size=(4,)).astype(np.float32),
    "P": r(2, 3, 4),
    "Q": r(2, 4, 5),
    "x2": r(2, 4),
    "y2": r(2, 4),
    "W": r(4, 4),
    "T": r(3, 4, 5),
    "U": r(4, 5, 2),
    "Qm": r(3, 4),
    "Km": r(5, 4),
    "Vm": r(5, 6),
    "w3": r(3),
    "x8": r(8),
    "Im": r(5, 6),
    "Kr": r(2, 3),
    "Qh": r(3, 4, 5),
    "Kh": r(6, 2, 5),
    "Vh": r(6, 2, 5),
    "P3": r(4, 3, 6),
    "Adj": (rng.uniform(0, 1, size=(5, 5)) > 0.5).astype(np.float32),
    "Hf": r(5, 3),
    "Wg": r(3, 4),
    "D3": r(2, 3, 3),
    "b1": r(4),
    "W1": r(4, 4),
    "W2": r(3, 4),
    "b2": r(3),
}


def np_softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def shifted(a, axis, c, extent):
    """out[.., j, ..] = a[.., j + c, ..] for j < extent, 0 outside a."""
    out = np.zeros(a.shape[:axis] + (extent,) + a.shape[axis + 1:], dtype=np.float64)
    for j in range(extent):
        if 0 <= j + c < a.shape[axis]:
            idx = [slice(None)] * a.ndim
            idx[axis] = j
            src = [slice(None)] * a.ndim
            src[axis] = j + c
            out[tuple(idx)] = a[tuple(src)]
    return out


def conv1d():
    x, w = INPUTS["x8"].astype(np.float64), INPUTS["w3"].astype(np.float64)
    return np.array([sum(x[i + k] * w[k] for k in range(3) if i + k < 8) for i in range(8)])


def conv2d():
    im, k = INPUTS["Im"].astype(np.float64), INPUTS["Kr"].astype(np.float64)
    out = np.zeros((5, 6))
    for i in range(5):
        for j in range(6):
            for a in range(2):
                for b in range(3):
                    if i + a < 5 and j + b < 6:
                        out[i, j] += im[i + a, j + b] * k[a, b]
    return out


def gqa_expand(k, g):
    return np.repeat(k, g, axis=1)


def sig(a):
    return 1.0 / (1.0 + np.exp(-a))


E = np.einsum
I = {k: v.astype(np.float64) for k, v in INPUTS.items()}

# name: (description, tl lines, expected)
CASES = [
    ("matmul", "matrix product", ["Y[i, k] = A[i, j] B[j, k]"], lambda: E("ij,jk->ik", I["A"], I["B"])),
    ("matmul_star", "matrix product written with *", ["Y[i, k] = A[i, j] * B[j, k]"], lambda: E("ij,jk->ik", I["A"], I["B"])),
    ("matvec", "matrix-vector", ["Y[i] = A[i, j] x[j]"], lambda: E("ij,j->i", I["A"], I["x"])),
    ("vecmat", "vector-matrix", ["Y[k] = x[j] B[j, k]"], lambda: E("j,jk->k", I["x"], I["B"])),
    ("dot", "inner product (explicit extent 1)", ["Y[k:1] = x[i] y[i]"], lambda: E("i,i->", I["x"], I["y"]).reshape(1)),
    ("outer", "outer product", ["Y[i, j] = x[i] y[j]"], lambda: E("i,j->ij", I["x"], I["y"])),
    ("hadamard", "Hadamard product", ["Y[i, j] = A[i, j] C[i, j]"], lambda: E("ij,ij->ij", I["A"], I["C"])),
    ("trace", "trace", ["Y[k:1] = M[i, i]"], lambda: E("ii->", I["M"]).reshape(1)),
    ("diag", "diagonal", ["Y[i] = M[i, i]"], lambda: E("ii->i", I["M"])),
    ("transpose", "transpose", ["Y[j, i] = A[i, j]"], lambda: E("ij->ji", I["A"])),
    ("rowsum", "row sums", ["Y[i] = A[i, j]"], lambda: E("ij->i", I["A"])),
    ("colsum", "column sums", ["Y[j] = A[i, j]"], lambda: E("ij->j", I["A"])),
    ("total", "sum of all elements", ["Y[k:1] = A[i, j]"], lambda: E("ij->", I["A"]).reshape(1)),
    ("bmm", "batched matrix product", ["Y[b, i, k] = P[b, i, j] Q[b, j, k]"], lambda: E("bij,bjk->bik", I["P"], I["Q"])),
    ("bmm_bcast", "batched times shared", ["Y[b, i, k] = P[b, i, j] B[j, k]"], lambda: E("bij,jk->bik", I["P"], I["B"])),
    ("chain3", "chain of three", ["Y[i, l] = A[i, j] B[j, k] C2[k, l]"], lambda: E("ij,jk,kl->il", I["A"], I["B"], I["C2"])),
    ("bilinear", "bilinear form per batch", ["Y[b] = x2[b, i] W[i, j] y2[b, j]"], lambda: E("bi,ij,bj->b", I["x2"], I["W"], I["y2"])),
    ("tensordot", "two summed indices", ["Y[i, l] = T[i, j, k] U[j, k, l]"], lambda: E("ijk,jkl->il", I["T"], I["U"])),
    ("hadamard3", "three-way elementwise", ["Y[i] = x[i] y[i] z[i]"], lambda: E("i,i,i->i", I["x"], I["y"], I["z"])),
    ("kept_bcast", "kept index broadcast", ["Y[i, j] = A[i, j] v[i]"], lambda: E("ij,i->ij", I["A"], I["v"])),
    ("rownorm2", "repeated factor, kept row", ["Y[i] = A[i, j] A[i, j]"], lambda: E("ij,ij->i", I["A"], I["A"])),
    ("batch_vec", "batch kept, inner summed", ["Y[b, i] = P[b, i, j] x2[b, j]"], lambda: E("bij,bj->bi", I["P"], I["x2"])),
    ("affine", "sum of terms", ["Y[i] = A[i, j] x[j] + v[i]"], lambda: E("ij,j->i", I["A"], I["x"]) + I["v"]),
    ("sum_bcast", "terms broadcast over the left side", ["Y[i, j] = x[i] + y[j]"], lambda: I["x"][:, None] + I["y"][None, :]),
    ("difference", "difference", ["Y[i, j] = A[i, j] - C[i, j]"], lambda: I["A"] - I["C"]),
    ("scalar_int", "integer factor", ["Y[i] = 2 x[i]"], lambda: 2 * I["x"]),
    ("scalar_float", "float factor on a product", ["Y[i, k] = 0.5 A[i, j] B[j, k]"], lambda: 0.5 * E("ij,jk->ik", I["A"], I["B"])),
    ("scalar_var", "variable factor", ["let s = 3.0", "Y[i] = s * x[i]"], lambda: 3 * I["x"]),
    ("const_add", "constant term", ["Y[i] = x[i] + 1"], lambda: I["x"] + 1),
    ("div_scalar", "division by a number", ["Y[i] = x[i] / 4"], lambda: I["x"] / 4),
    ("div_elem", "elementwise division", ["Y[i] = x[i] / pos[i]"], lambda: I["x"] / I["pos"]),
    ("div_sqrt", "scaled product", ["Y[p, q] = Qm[p, d] Km[q, d] / sqrt(4.0)"], lambda: E("pd,qd->pq", I["Qm"], I["Km"]) / 2.0),
    ("neg", "negation", ["Y[i] = -x[i]"], lambda: -I["x"]),
    ("relu", "relu layer", ["Y[i] = relu(A[i, j] x[j] + v[i])"], lambda: np.maximum(E("ij,j->i", I["A"], I["x"]) + I["v"], 0)),
    ("sigmoid", "sigmoid", ["Y[i] = sigmoid(A[i, j] x[j])"], lambda: sig(E("ij,j->i", I["A"], I["x"]))),
    ("sigmoid_t", "sigmoid with temperature", ["Y[i] = sigmoid(A[i, j] x[j], 0.5)"], lambda: sig(E("ij,j->i", I["A"], I["x"]) / 0.5)),
    ("step", "Heaviside step", ["Y[i, j] = step(A[i, j])"], lambda: (I["A"] > 0).astype(np.float64)),
    ("step_join", "step of a join (a Boolean rule)", ["Y[i, k] = step(A[i, j] B[j, k])"], lambda: (E("ij,jk->ik", I["A"], I["B"]) > 0).astype(np.float64)),
    ("exp", "exp", ["Y[i] = exp(x[i])"], lambda: np.exp(I["x"])),
    ("tanh", "tanh", ["Y[i, j] = tanh(A[i, j])"], lambda: np.tanh(I["A"])),
    ("log", "log", ["Y[i] = log(pos[i])"], lambda: np.log(I["pos"])),
    ("sqrt", "sqrt", ["Y[i] = sqrt(pos[i])"], lambda: np.sqrt(I["pos"])),
    ("silu", "silu", ["Y[i] = silu(x[i])"], lambda: I["x"] * sig(I["x"])),
    ("abs", "abs of a product", ["Y[i] = abs(A[i, j] x[j])"], lambda: np.abs(E("ij,j->i", I["A"], I["x"]))),
    ("softmax_rows", "softmax over the last index", ["Y[i, j.] = softmax(A[i, j])"], lambda: np_softmax(I["A"], 1)),
    ("softmax_cols", "softmax over the first index", ["Y[i., j] = softmax(A[i, j])"], lambda: np_softmax(I["A"], 0)),
    ("softmax_scores", "softmax of scores", ["Y[p, q.] = softmax(Qm[p, d] Km[q, d])"], lambda: np_softmax(E("pd,qd->pq", I["Qm"], I["Km"]), 1)),
    ("lnorm", "layer norm over the marked index", ["Y[i, j.] = lnorm(A[i, j])"], lambda: (I["A"] - I["A"].mean(1, keepdims=True)) / np.sqrt(I["A"].var(1, keepdims=True) + 1e-5)),
    ("max", "max projection", ["Y[i] max= A[i, j]"], lambda: I["A"].max(1)),
    ("min", "min projection", ["Y[j] min= A[i, j]"], lambda: I["A"].min(0)),
    ("avg", "mean projection", ["Y[i] avg= A[i, j]"], lambda: I["A"].mean(1)),
    ("max_join", "max over a join", ["Y[i] max= A[i, j] x[j]"], lambda: (I["A"] * I["x"][None, :]).max(1)),
    ("plus_eq", "+= accumulates", ["Y[i] = v[i]", "Y[i] += A[i, j] x[j]"], lambda: I["v"] + E("ij,j->i", I["A"], I["x"])),
    ("same_lhs", "same left side twice: summed", ["Y[i] = A[i, j] x[j]", "Y[i] = v[i]"], lambda: E("ij,j->i", I["A"], I["x"]) + I["v"]),
    ("shift_plus", "index arithmetic, zero past the end", ["Y[i] = x8[i + 1]"], lambda: shifted(I["x8"], 0, 1, 8)),
    ("shift_minus", "index arithmetic, zero before the start", ["Y[i] = x8[i - 2]"], lambda: shifted(I["x8"], 0, -2, 8)),
    ("conv1d", "1-d convolution by index arithmetic", ["Y[i] = x8[i + k] w3[k]"], conv1d),
    ("conv2d", "2-d convolution by index arithmetic", ["Y[i, j] = Im[i + a, j + b] Kr[a, b]"], conv2d),
    ("slice", "slice takes the left index at its position", ["Y[i, j] = A[i, 1:3]"], lambda: I["A"][:, 1:3]),
    ("slice_pad", "slice past the end reads 0", ["Y[i, j] = A[i, 2:6]"], lambda: shifted(I["A"], 1, 2, 4)),
    ("select_int", "a fixed position", ["Y[j] = A[1, j]"], lambda: I["A"][1]),
    ("select_var", "a variable position", ["let r = 2", "Y[j] = A[r, j]"], lambda: I["A"][2]),
    ("gqa_scores", "grouped heads h / g", ["let g = 2", "Y[h, s, t] = Qh[s, h, d] Kh[t, h / g, d]"], lambda: E("shd,thd->hst", I["Qh"], gqa_expand(I["Kh"], 2))),
    ("gqa_values", "grouped values h / g", ["let g = 2", "Y[s, h, d] = P3[h, s, t] Vh[t, h / g, d]"], lambda: E("hst,thd->shd", I["P3"], gqa_expand(I["Vh"], 2))),
    ("gqa_expand", "grouped read alone (expanded)", ["let g = 2", "Y[t, h, d] = Kh[t, h / g, d]"], lambda: gqa_expand(I["Kh"], 2)),
    ("extent_bcast", "left-only index with an extent", ["Y[i, j:3] = x[i]"], lambda: np.repeat(I["x"][:, None], 3, 1)),
    ("attention", "single-head attention", ["S[p, q.] = softmax(Qm[p, d] Km[q, d] / sqrt(4.0))", "Y[p, e] = S[p, q] Vm[q, e]"], lambda: E("pq,qe->pe", np_softmax(E("pd,qd->pq", I["Qm"], I["Km"]) / 2, 1), I["Vm"])),
    ("mlp2", "two-layer MLP", ["H[j] = relu(W1[j, i] x[i] + b1[j])", "Y[k] = sigmoid(W2[k, j] H[j] + b2[k])"], lambda: sig(E("kj,j->k", I["W2"], np.maximum(E("ji,i->j", I["W1"], I["x"]) + I["b1"], 0)) + I["b2"])),
    ("gnn", "GNN message passing over an adjacency tensor", ["Y[n, f] = relu(Adj[n, m] Hf[m, g] Wg[g, f])"], lambda: np.maximum(E("nm,mg,gf->nf", I["Adj"], I["Hf"], I["Wg"]), 0)),
    ("chain4", "four factors", ["Y[i] = A[i, j] W[j, k] M[k, l] y[l]"], lambda: E("ij,jk,kl,l->i", I["A"], I["W"], I["M"], I["y"])),
    ("fn_factor", "function of a factor inside a join", ["Y[i] = relu(A[i, j]) x[j]"], lambda: E("ij,j->i", np.maximum(I["A"], 0), I["x"])),
    ("sum_factor", "sum inside a join", ["Y[i] = (A[i, j] + C[i, j]) x[j]"], lambda: E("ij,j->i", I["A"] + I["C"], I["x"])),
    ("user_fn", "a user function on the result", ["Y[i] = sq(A[i, j] x[j])"], lambda: E("ij,j->i", I["A"], I["x"]) ** 2),
    ("diag_vec", "diagonal times a vector", ["Y[i] = M[i, i] x[i]"], lambda: E("ii,i->i", I["M"], I["x"])),
    ("batch_diag", "batched diagonal", ["Y[b, i] = D3[b, i, i]"], lambda: E("bii->bi", I["D3"])),
    ("permute3", "axis permutation", ["Y[k, i, j] = T[i, j, k]"], lambda: E("ijk->kij", I["T"])),
    ("sum_middle", "sum over the middle axis", ["Y[i, k] = T[i, j, k]"], lambda: E("ijk->ik", I["T"])),
    ("f16_input", "f16 operands", ["let Ah = to_f16(A)", "let Bh = to_f16(B)", "Y[i, k] = Ah[i, j] Bh[j, k]"], lambda: E("ij,jk->ik", I["A"].astype(np.float16).astype(np.float64), I["B"].astype(np.float16).astype(np.float64))),
    ("in_function", "an equation inside a function", ["Y = mm(A, B)"], lambda: E("ij,jk->ik", I["A"], I["B"])),
]

PRELUDE = {
    "user_fn": "fn sq(t) {\n    t * t\n}\n\n",
    "in_function": "fn mm(P, R) {\n    Z[i, k] = P[i, j] R[j, k]\n    Z\n}\n\n",
}


def used_inputs(lines):
    import re
    names = set()
    for line in lines:
        names.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", line))
    return sorted(n for n in names if n in INPUTS)


def main():
    os.makedirs(DATA, exist_ok=True)
    for name, arr in INPUTS.items():
        np.save(os.path.join(DATA, f"in_{name}.npy"), arr)
    for name, desc, lines, fn in CASES:
        want = np.asarray(fn(), dtype=np.float64).astype(np.float32)
        np.save(os.path.join(DATA, f"eq_{name}.npy"), want)
        body = [f"    let {n} = load(\"equations/data/in_{n}.npy\")" for n in used_inputs(lines)]
        body += [f"    {line}" for line in lines]
        body += [f"    let want = load(\"equations/data/eq_{name}.npy\")",
                 "    print(shape(Y))",
                 "    print(Y ≈ want)"]
        text = (f"// {desc}: checked against NumPy (generated by gen_expected.py)\n"
                + PRELUDE.get(name, "") + "main {\n" + "\n".join(body) + "\n}\n")
        with open(os.path.join(HERE, f"eq_{name}.tl"), "w") as f:
            f.write(text)
        with open(os.path.join(HERE, f"eq_{name}.out"), "w") as f:
            f.write("[" + ", ".join(str(d) for d in want.shape) + "]\ntrue\n")
    print(f"{len(CASES)} cases")


if __name__ == "__main__":
    main()
