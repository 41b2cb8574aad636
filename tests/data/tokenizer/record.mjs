#!/usr/bin/env node
// Records llama.cpp's answers for the tokenizer tests (run by hand, never by the tests).
// Uses the reference harness's llama.cpp (docs/reference.md; set up with `oracle setup`) through koffi,
// passing raw bytes so invalid UTF-8 and NUL reach llama_tokenize unchanged.
//
//   node record.mjs VOCAB.gguf corpus.txt > NAME.expected.jsonl
//
// One JSON object per corpus line:
//   hex        the input bytes
//   ids        llama_tokenize(add_special=false, parse_special=false)
//   ids_sp     (false, true)        ids_bos   (true, false)        ids_bos_sp (true, true)
//   detok      llama_detokenize(ids_bos_sp, remove_special=false, unparse_special=false), hex
//   detok_rs   (true, false)        detok_us  (false, true)        detok_plain: detok of ids, (false, false)
// and a last line {"pieces": [[id, hex(special=false), hex(special=true)], ...]} for every id
// (vocabs up to 1024 tokens) or ids 0..299 and every 97th id after.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';

const home = process.env.TL_ORACLE_HOME || path.join(os.homedir(), '.cache', 'tl-oracle');
const { openLlama } = await import(path.join(home, 'llama.mjs'));
const [vocabPath, corpusPath] = process.argv.slice(2);
const L = openLlama();
const lib = L.koffi.load(path.join(L.libDir, fs.readdirSync(L.libDir).find((f) => /^libllama(\.v[\d.]+)?\.so$/.test(f))));
const tokenize = lib.func('int32_t llama_tokenize(void *vocab, const uint8_t *text, int32_t text_len, _Out_ int32_t *tokens, int32_t n_tokens_max, bool add_special, bool parse_special)');
const detokenize = lib.func('int32_t llama_detokenize(void *vocab, const int32_t *tokens, int32_t n_tokens, _Out_ uint8_t *text, int32_t text_len_max, bool remove_special, bool unparse_special)');
const toPiece = lib.func('int32_t llama_token_to_piece(void *vocab, int32_t token, _Out_ uint8_t *buf, int32_t length, int32_t lstrip, bool special)');
const model = L.loadModel(vocabPath, { vocabOnly: true });
const vocab = L.f.llama_model_get_vocab(model);
const nVocab = L.f.llama_vocab_n_tokens(vocab);

function unescape(line) {
  const out = [];
  for (let i = 0; i < line.length; ) {
    if (line[i] === '\\') {
      const c = line[i + 1];
      if (c === 'n') { out.push(10); i += 2; continue; }
      if (c === 't') { out.push(9); i += 2; continue; }
      if (c === 'r') { out.push(13); i += 2; continue; }
      if (c === '\\') { out.push(92); i += 2; continue; }
      if (c === 'x') { out.push(parseInt(line.slice(i + 2, i + 4), 16)); i += 4; continue; }
      throw new Error(`bad escape in ${line}`);
    }
    const cp = line.codePointAt(i);
    const ch = String.fromCodePoint(cp);
    for (const b of Buffer.from(ch, 'utf8')) out.push(b);
    i += ch.length;
  }
  return Buffer.from(out);
}

function tok(bytes, addSpecial, parseSpecial) {
  let cap = bytes.length * 2 + 8;
  let out = new Int32Array(cap);
  let n = tokenize(vocab, bytes, bytes.length, out, cap, addSpecial, parseSpecial);
  if (n < 0) { cap = -n; out = new Int32Array(cap); n = tokenize(vocab, bytes, bytes.length, out, cap, addSpecial, parseSpecial); }
  if (n < 0) throw new Error('llama_tokenize failed');
  return Array.from(out.subarray(0, n));
}

function detok(ids, rs, us) {
  const arr = Int32Array.from(ids);
  let cap = ids.length * 16 + 16;
  let buf = Buffer.alloc(cap);
  let n = detokenize(vocab, arr, arr.length, buf, cap, rs, us);
  if (n < 0) { cap = -n; buf = Buffer.alloc(cap); n = detokenize(vocab, arr, arr.length, buf, cap, rs, us); }
  if (n < 0) throw new Error('llama_detokenize failed');
  return buf.subarray(0, n).toString('hex');
}

function piece(id, special) {
  let buf = Buffer.alloc(64);
  let n = toPiece(vocab, id, buf, buf.length, 0, special);
  if (n < 0) { buf = Buffer.alloc(-n); n = toPiece(vocab, id, buf, buf.length, 0, special); }
  return buf.subarray(0, Math.max(n, 0)).toString('hex');
}

const lines = fs.readFileSync(corpusPath, 'utf8').split('\n');
if (lines[lines.length - 1] === '') lines.pop();
const out = [];
for (const line of lines) {
  const bytes = unescape(line);
  const ids_bos_sp = tok(bytes, true, true);
  const ids = tok(bytes, false, false);
  out.push(JSON.stringify({
    hex: bytes.toString('hex'),
    ids,
    ids_sp: tok(bytes, false, true),
    ids_bos: tok(bytes, true, false),
    ids_bos_sp,
    detok: detok(ids_bos_sp, false, false),
    detok_rs: detok(ids_bos_sp, true, false),
    detok_us: detok(ids_bos_sp, false, true),
    detok_plain: detok(ids, false, false),
  }));
}
const pieceIds = [];
for (let i = 0; i < nVocab; i++) if (nVocab <= 1024 || i < 300 || i % 97 === 0) pieceIds.push(i);
out.push(JSON.stringify({ n_vocab: nVocab, pieces: pieceIds.map((i) => [i, piece(i, false), piece(i, true)]) }));
process.stdout.write(out.join('\n') + '\n');
