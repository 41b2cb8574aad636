#!/usr/bin/env node
// Records Hugging Face tokenizers' answers for a tokenizer.json (run by hand, never by the
// tests).  Needs the npm package @anush008/tokenizers (the Rust tokenizers library's node
// binding) installed somewhere on NODE_PATH, e.g.
//   (cd /tmp/hf && npm install @anush008/tokenizers@0.6.0)
//   NODE_PATH=/tmp/hf/node_modules node record_hf.mjs TOKENIZER.json corpus.txt > NAME.hf.jsonl
// Corpus lines that are not valid UTF-8 are skipped (JS strings cannot carry them).
// One JSON object per kept line: hex, ids (add_special_tokens=false), ids_bos (true),
// decode / decode_skip: decode(ids_bos, skip_special_tokens=false / true) as hex.
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Tokenizer } = require('@anush008/tokenizers');
const [jsonPath, corpusPath] = process.argv.slice(2);
const tok = Tokenizer.fromFile(jsonPath);

function unescape(line) {
  const out = [];
  for (let i = 0; i < line.length; ) {
    if (line[i] === '\\') {
      const c = line[i + 1];
      const simple = { n: 10, t: 9, r: 13, '\\': 92 }[c];
      if (simple !== undefined) { out.push(simple); i += 2; continue; }
      if (c === 'x') { out.push(parseInt(line.slice(i + 2, i + 4), 16)); i += 4; continue; }
      throw new Error(`bad escape in ${line}`);
    }
    const ch = String.fromCodePoint(line.codePointAt(i));
    for (const b of Buffer.from(ch, 'utf8')) out.push(b);
    i += ch.length;
  }
  return Buffer.from(out);
}

const lines = fs.readFileSync(corpusPath, 'utf8').split('\n');
if (lines[lines.length - 1] === '') lines.pop();
const dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
for (const line of lines) {
  const bytes = unescape(line);
  let text;
  try { text = dec.decode(bytes); } catch { continue; }
  const ids = (await tok.encode(text, null, { addSpecialTokens: false })).getIds();
  const idsBos = (await tok.encode(text, null, { addSpecialTokens: true })).getIds();
  const d = await tok.decode(idsBos, false);
  const ds = await tok.decode(idsBos, true);
  process.stdout.write(JSON.stringify({
    hex: bytes.toString('hex'), ids, ids_bos: idsBos,
    decode: Buffer.from(d, 'utf8').toString('hex'), decode_skip: Buffer.from(ds, 'utf8').toString('hex'),
  }) + '\n');
}
