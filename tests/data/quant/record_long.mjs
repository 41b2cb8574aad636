#!/usr/bin/env node
// Records llama.cpp's (ggml 0.23.0, AVX2 "haswell" CPU build) dot products over rows of
// 2048 elements (8 K-quant super-blocks, 64 blocks of 32) for tests/unit/test_quant_ref.c:
// a float summed across blocks (e.g. Q5_K's mins) rounds differently when its
// multiply-add is fused, which one-block rows (record.mjs) cannot show.
// Not part of the build: run by hand, like record.mjs:
//   TL_ORACLE_HOME=~/.cache/tl-oracle node tests/data/quant/record_long.mjs tests/data/quant
// Writes long/T.bin (LROWS weight rows), long/act_A.bin (LY activation rows as the CPU
// backend quantizes them) and long/T.dot.f32 ([LROWS][LY] vec_dot results).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const home = process.env.TL_ORACLE_HOME || path.join(process.env.HOME, '.cache/tl-oracle');
const require = createRequire(path.join(home, 'package.json'));
const koffi = require('koffi');
const libDir = path.join(home, 'node_modules/@node-llama-cpp/linux-x64/bins/linux-x64');
const base = koffi.load(path.join(libDir, 'libggml-base.so'));
const cpu = koffi.load(path.join(libDir, 'libggml-cpu-haswell.so'));
const outDir = path.join(process.argv[2] || '.', 'long');
fs.mkdirSync(outDir, { recursive: true });

const LROWS = 16, NL = 2048, LY = 2;
const quantize_chunk = base.func('size_t ggml_quantize_chunk(int type, const float *src, _Out_ uint8_t *dst, int64_t start, int64_t nrows, int64_t n_per_row, const float *imatrix)');
const type_size = base.func('size_t ggml_type_size(int type)');
const blck_size = base.func('int64_t ggml_blck_size(int type)');
const cpu_init = cpu.func('void ggml_cpu_init(void)');
const traits_cpu = cpu.func('void *ggml_get_type_traits_cpu(int type)');
const TraitsCpu = koffi.struct('tl_traits_cpu_l', { from_float: 'void *', vec_dot: 'void *', vec_dot_type: 'int', nrows: 'int64_t' });
const FromFloat = koffi.proto('void tl_from_float_l(const float *x, uint8_t *y, int64_t k)');
const VecDot = koffi.proto('void tl_vec_dot_l(int n, float *s, size_t bs, const uint8_t *x, size_t bx, const uint8_t *y, size_t by, int nrc)');
cpu_init();

let seed = 424242;
const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return ((seed >>> 8) + 0.5) / 16777216; };
const gauss = () => Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd());
// weight rows: gaussians with a scale that changes from block to block (mins and scales vary)
const X = new Float32Array(LROWS * NL);
for (let r = 0; r < LROWS; r++)
  for (let i = 0; i < NL; i++) X[r * NL + i] = gauss() * (0.5 + ((i >> 5) % 7)) + (r % 2 ? 0.3 : 0);
const Y = new Float32Array(LY * NL);
for (let i = 0; i < LY * NL; i++) Y[i] = gauss() * (i < NL ? 1 : 3);
const w = (name, data) => fs.writeFileSync(path.join(outDir, name), Buffer.from(data.buffer, data.byteOffset, data.byteLength));


const TYPES = { f16: 1, q4_0: 2, q4_1: 3, q5_0: 6, q5_1: 7, q8_0: 8, q2_K: 10, q3_K: 11, q4_K: 12, q5_K: 13, q6_K: 14 };
const ACT = { 1: 'f16', 8: 'q8_0', 9: 'q8_1', 15: 'q8_K' };
const rowBytes = (t) => Number(type_size(t)) * NL / Number(blck_size(t));
for (const [t, name] of Object.entries(ACT)) {
  const tr = koffi.decode(traits_cpu(Number(t)), TraitsCpu);
  const rb = rowBytes(Number(t));
  const out = new Uint8Array(LY * rb);
  for (let j = 0; j < LY; j++) {
    const dst = new Uint8Array(rb);
    koffi.call(tr.from_float, FromFloat, Y.subarray(j * NL, (j + 1) * NL), dst, NL);
    out.set(dst, j * rb);
  }
  w(`act_${name}.bin`, out);
}
for (const [name, t] of Object.entries(TYPES)) {
  const rb = rowBytes(t);
  const q = new Uint8Array(LROWS * rb);
  if (Number(quantize_chunk(t, X, q, 0, LROWS, NL, null)) !== q.length) throw new Error(name);
  w(`${name}.bin`, q);
  const tr = koffi.decode(traits_cpu(t), TraitsCpu);
  const at = tr.vec_dot_type, arb = rowBytes(at);
  const act = fs.readFileSync(path.join(outDir, `act_${ACT[at]}.bin`));
  const dots = new Float32Array(LROWS * LY);
  for (let r = 0; r < LROWS; r++) for (let j = 0; j < LY; j++) {
    const s = new Float32Array(1);
    koffi.call(tr.vec_dot, VecDot, NL, s, 0, q.subarray(r * rb, (r + 1) * rb), 0,
               new Uint8Array(act.buffer, act.byteOffset + j * arb, arb), 0, 1);
    dots[r * LY + j] = s[0];
  }
  w(`${name}.dot.f32`, dots);
}
console.log('ok', LROWS, 'rows of', NL);
