#!/usr/bin/env node
// Records llama.cpp's (ggml 0.23.0, AVX2 "haswell" CPU build) quantizers, dequantizers,
// activation quantizers and dot products on fixed inputs, for tests/unit/test_quant_ref.c;
// and in long/ dot products over rows of 2048 (8 K-quant super-blocks, 64 blocks of 32):
// a float kept across blocks (e.g. Q5_K's mins) rounds differently when llama.cpp's
// compiler fused its multiply-add, which one-block rows cannot show.
// Not part of the build: run by hand when the reference data must be regenerated:
//   TL_ORACLE_HOME=~/.cache/tl-oracle node tests/data/quant/record.mjs tests/data/quant
// (needs the reference harness's `oracle setup` once, which installs koffi + the llama.cpp
// binaries; docs/reference.md).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const home = process.env.TL_ORACLE_HOME || path.join(process.env.HOME, '.cache/tl-oracle');
const require = createRequire(path.join(home, 'package.json'));
const koffi = require('koffi');
const libDir = path.join(home, 'node_modules/@node-llama-cpp/linux-x64/bins/linux-x64');
const base = koffi.load(path.join(libDir, 'libggml-base.so'));
const cpu = koffi.load(path.join(libDir, 'libggml-cpu-haswell.so'));
const outDir = process.argv[2] || '.';

const ROWS = 16, NX = 256, YROWS = 4;
const quantize_chunk = base.func('size_t ggml_quantize_chunk(int type, const float *src, _Out_ uint8_t *dst, int64_t start, int64_t nrows, int64_t n_per_row, const float *imatrix)');
const type_size = base.func('size_t ggml_type_size(int type)');
const blck_size = base.func('int64_t ggml_blck_size(int type)');
const q8K_ref = base.func('void quantize_row_q8_K_ref(const float *x, _Out_ uint8_t *y, int64_t k)');
const cpu_init = cpu.func('void ggml_cpu_init(void)');
const traits_cpu = cpu.func('void *ggml_get_type_traits_cpu(int type)');
const base_traits = base.func('void *ggml_get_type_traits(int type)');
const TraitsCpu = koffi.struct('tl_traits_cpu', { from_float: 'void *', vec_dot: 'void *', vec_dot_type: 'int', nrows: 'int64_t' });
// struct ggml_type_traits { const char *type_name; int64_t blck_size; int64_t blck_size_interleave;
//   size_t type_size; bool is_quantized; to_float; from_float_ref; }
const TraitsBase = koffi.struct('tl_traits_base', { type_name: 'const char *', blck_size: 'int64_t', blck_size_interleave: 'int64_t', type_size: 'size_t', is_quantized: 'bool', to_float: 'void *', from_float_ref: 'void *' });
const FromFloat = koffi.proto('void tl_from_float(const float *x, uint8_t *y, int64_t k)');
const ToFloat = koffi.proto('void tl_to_float(const uint8_t *x, float *y, int64_t k)');
const VecDot = koffi.proto('void tl_vec_dot(int n, float *s, size_t bs, const uint8_t *x, size_t bx, const uint8_t *y, size_t by, int nrc)');
cpu_init();

// deterministic inputs
let seed = 12345;
const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return ((seed >>> 8) + 0.5) / 16777216; };
const gauss = () => Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd());
const ri = (a, b) => a + Math.floor(rnd() * (b - a + 1));
function row(kind, n) {
  const r = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    switch (kind) {
      case 0: r[i] = gauss(); break;
      case 1: r[i] = gauss() * 0.02; break;
      case 2: r[i] = gauss() * 100; break;
      case 3: r[i] = ri(-8, 7) * 0.25; break;                       // grid: .5 ties
      case 4: r[i] = i < n / 2 ? 0 : gauss(); break;                 // zero blocks
      case 5: r[i] = 0.1 + 1.9 * rnd(); break;                       // all positive
      case 6: r[i] = gauss() * 1e-30; break;                         // fp16 scale underflow
      case 7: r[i] = 0; break;                                       // all zero
      case 8: r[i] = i % 32 === 0 ? 127 : ri(-100, 99) + 0.5; break; // Q8 rounding ties
      case 9: r[i] = (rnd() * 2 - 1) * 60000; break;                 // near fp16 max
      case 10: r[i] = -1 + 2 * i / (n - 1); break;                   // ramp
      case 11: r[i] = i % 2 ? -1 : 1; break;                         // ties in |max|
      case 12: r[i] = gauss() * (i % 32 === 7 ? 50 : 1); break;      // outliers
      case 13: r[i] = rnd() * 2 - 1; break;
      case 14: r[i] = -rnd() * 3; break;                             // negative only
      case 15: r[i] = rnd() < 0.3 ? 0 : gauss() * 1e-3; break;       // sparse, small
    }
  }
  return r;
}
const X = new Float32Array(ROWS * NX);
for (let k = 0; k < ROWS; k++) X.set(row(k, NX), k * NX);
const Y = new Float32Array(YROWS * NX);
[0, 8, 4, 12].forEach((k, j) => { const r = row(k, NX); if (j === 3) for (let i = 0; i < NX; i++) r[i] *= 5; Y.set(r, j * NX); });
const w = (name, data) => fs.writeFileSync(path.join(outDir, name), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
w('x.f32', X); w('y.f32', Y);

const TYPES = { f16: 1, q4_0: 2, q4_1: 3, q5_0: 6, q5_1: 7, q8_0: 8, q2_K: 10, q3_K: 11, q4_K: 12, q5_K: 13, q6_K: 14 };
const ACT = { 1: 'f16', 8: 'q8_0', 9: 'q8_1', 15: 'q8_K' };
const rowBytes = (t) => Number(type_size(t)) * NX / Number(blck_size(t));
// activation rows, quantized by the CPU backend's from_float (AVX2 paths) and by the _ref code
for (const [t, name] of Object.entries(ACT)) {
  const tr = koffi.decode(traits_cpu(Number(t)), TraitsCpu);
  const rb = rowBytes(Number(t));
  const out = new Uint8Array(YROWS * rb);
  for (let j = 0; j < YROWS; j++) {
    const dst = new Uint8Array(rb);
    koffi.call(tr.from_float, FromFloat, Y.subarray(j * NX, (j + 1) * NX), dst, NX);
    out.set(dst, j * rb);
  }
  w(`act_${name}.bin`, out);
}
{ const rb = rowBytes(15); const out = new Uint8Array(YROWS * rb);
  for (let j = 0; j < YROWS; j++) { const dst = new Uint8Array(rb); q8K_ref(Y.subarray(j * NX, (j + 1) * NX), dst, NX); out.set(dst, j * rb); }
  w('ref_q8_K.bin', out); }
const summary = {};
for (const [name, t] of Object.entries(TYPES)) {
  const rb = rowBytes(t);
  const q = new Uint8Array(ROWS * rb);
  const wrote = Number(quantize_chunk(t, X, q, 0, ROWS, NX, null));
  if (wrote !== q.length) throw new Error(`${name}: wrote ${wrote}`);
  w(`${name}.bin`, q);
  const bt = koffi.decode(base_traits(t), TraitsBase);
  const deq = new Float32Array(ROWS * NX);
  for (let r = 0; r < ROWS; r++) {
    const out = new Float32Array(NX);
    koffi.call(bt.to_float, ToFloat, q.subarray(r * rb, (r + 1) * rb), out, NX);
    deq.set(out, r * NX);
  }
  w(`${name}.deq.f32`, deq);
  const tr = koffi.decode(traits_cpu(t), TraitsCpu);
  const at = tr.vec_dot_type, arb = rowBytes(at);
  const act = fs.readFileSync(path.join(outDir, `act_${ACT[at]}.bin`));
  const dots = new Float32Array(ROWS * YROWS);
  for (let r = 0; r < ROWS; r++) for (let j = 0; j < YROWS; j++) {
    const s = new Float32Array(1);
    koffi.call(tr.vec_dot, VecDot, NX, s, 0, q.subarray(r * rb, (r + 1) * rb), 0,
               new Uint8Array(act.buffer, act.byteOffset + j * arb, arb), 0, 1);
    dots[r * YROWS + j] = s[0];
  }
  w(`${name}.dot.f32`, dots);
  summary[name] = { type: t, row_bytes: rb, vec_dot_type: ACT[at] };
}
fs.writeFileSync(path.join(outDir, 'manifest.json'), JSON.stringify({ ggml: 'ggml 0.23.0 (llama.cpp v0.4.0, node-llama-cpp 3.21.1), libggml-cpu-haswell.so', rows: ROWS, n_per_row: NX, act_rows: YROWS, types: summary }, null, 1) + '\n');
console.log('ok', Object.keys(summary).join(' '));

// ---- long/: LROWS weight rows of NL (long/T.bin), LY activation rows as the CPU backend
// quantizes them (long/act_A.bin), vec_dot results [LROWS][LY] (long/T.dot.f32)
{
  const LROWS = 16, NL = 2048, LY = 2, dir = path.join(outDir, 'long');
  fs.mkdirSync(dir, { recursive: true });
  seed = 424242;
  const XL = new Float32Array(LROWS * NL); // block-to-block varying scales (mins, scales vary)
  for (let r = 0; r < LROWS; r++)
    for (let i = 0; i < NL; i++) XL[r * NL + i] = gauss() * (0.5 + ((i >> 5) % 7)) + (r % 2 ? 0.3 : 0);
  const YL = new Float32Array(LY * NL);
  for (let i = 0; i < LY * NL; i++) YL[i] = gauss() * (i < NL ? 1 : 3);
  const wl = (name, data) => fs.writeFileSync(path.join(dir, name), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  const rowBytesL = (t) => Number(type_size(t)) * NL / Number(blck_size(t));
  for (const [t, name] of Object.entries(ACT)) {
    const tr = koffi.decode(traits_cpu(Number(t)), TraitsCpu);
    const rb = rowBytesL(Number(t)), out = new Uint8Array(LY * rb);
    for (let j = 0; j < LY; j++) {
      const dst = new Uint8Array(rb);
      koffi.call(tr.from_float, FromFloat, YL.subarray(j * NL, (j + 1) * NL), dst, NL);
      out.set(dst, j * rb);
    }
    wl(`act_${name}.bin`, out);
  }
  for (const [name, t] of Object.entries(TYPES)) {
    const rb = rowBytesL(t), q = new Uint8Array(LROWS * rb);
    if (Number(quantize_chunk(t, XL, q, 0, LROWS, NL, null)) !== q.length) throw new Error(name);
    wl(`${name}.bin`, q);
    const tr = koffi.decode(traits_cpu(t), TraitsCpu);
    const at = tr.vec_dot_type, arb = rowBytesL(at);
    const act = fs.readFileSync(path.join(dir, `act_${ACT[at]}.bin`));
    const dots = new Float32Array(LROWS * LY);
    for (let r = 0; r < LROWS; r++) for (let j = 0; j < LY; j++) {
      const s = new Float32Array(1);
      koffi.call(tr.vec_dot, VecDot, NL, s, 0, q.subarray(r * rb, (r + 1) * rb), 0,
                 new Uint8Array(act.buffer, act.byteOffset + j * arb, arb), 0, 1);
      dots[r * LY + j] = s[0];
    }
    wl(`${name}.dot.f32`, dots);
  }
  console.log('ok long/', LROWS, 'rows of', NL);
}
