#!/usr/bin/python3
"""Writes a Hugging Face tokenizer.json of the Llama kind for the SPM vocab of a GGUF file
(test data for the tokenizer.json loader; run by hand).

The layout is the one Llama/TinyLlama tokenizer.json files have: BPE model with byte_fallback and
fuse_unk, normalizer Sequence[Prepend("▁"), Replace(" " -> "▁")], no pre-tokenizer, a
TemplateProcessing post-processor that puts <s> first, and the decoder chain Replace/ByteFallback/
Fuse/Strip.  Merges are derived from the vocab the way Hugging Face's converter does it: every
split of a token into two tokens is a merge; merges are ranked by the merged token's score
(highest first), ties by the ids of the two halves.  CONTROL/UNKNOWN tokens become special
added tokens.  Needs the GGUF reader gguf_lib.py (numpy) of the llama.cpp reference
harness (docs/reference.md): pass the harness's folder with --oracle.

usage: gguf_to_tokenizer_json.py VOCAB.gguf OUT.json [--oracle ORACLE_DIR]"""
import json
import sys

args = sys.argv[1:]
oracle = "../shared/oracle"
if "--oracle" in args:
    i = args.index("--oracle")
    oracle = args[i + 1]
    del args[i:i + 2]
sys.path.insert(0, oracle)
import gguf_lib  # noqa: E402

g = gguf_lib.GGUFFile(args[0])
tokens = g.kv["tokenizer.ggml.tokens"][1]
scores = [float(x) for x in g.kv["tokenizer.ggml.scores"][1]]
types = [int(x) for x in g.kv["tokenizer.ggml.token_type"][1]]
vocab = {t: i for i, t in enumerate(tokens)}

merges = []
for i, piece in enumerate(tokens):
    if types[i] != 1:  # only NORMAL tokens are merge results
        continue
    local = []
    for k in range(1, len(piece)):
        left, right = piece[:k], piece[k:]
        if left in vocab and right in vocab:
            local.append((vocab[left], vocab[right], scores[i]))
    local.sort(key=lambda m: (m[0], m[1]))
    merges.extend(local)
merges.sort(key=lambda m: -m[2])  # stable: ties keep the order above

added = []
for i, t in enumerate(tokens):
    if types[i] in (2, 3):
        added.append({"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True})
bos = tokens[int(g.kv.get("tokenizer.ggml.bos_token_id", 1))]
doc = {
    "version": "1.0",
    "truncation": None,
    "padding": None,
    "added_tokens": added,
    "normalizer": {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "\u2581"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
    "pre_tokenizer": None,
    "post_processor": {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": bos, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {bos: {"id": bos, "ids": [vocab[bos]], "tokens": [bos]}}},
    "decoder": {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
        {"type": "ByteFallback"}, {"type": "Fuse"},
        {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
    "model": {"type": "BPE", "dropout": None, "unk_token": tokens[int(g.kv.get("tokenizer.ggml.unknown_token_id", 0))],
              "continuing_subword_prefix": None, "end_of_word_suffix": None, "fuse_unk": True,
              "byte_fallback": True, "vocab": vocab,
              "merges": [tokens[a] + " " + tokens[b] for a, b, _ in merges]},
}
with open(args[1], "w", encoding="utf-8") as f:
    json.dump(doc, f, ensure_ascii=False, indent=1)
    f.write("\n")
print(f"{len(tokens)} tokens, {len(merges)} merges -> {args[1]}", file=sys.stderr)
