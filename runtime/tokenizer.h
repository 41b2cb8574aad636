/* runtime/tokenizer.h -- text <-> token ids for llama-family models.
**
** Owns the vocabulary (token texts, scores, types, special ids), the two
** tokenizing algorithms and detokenizing:
**   - SPM, as llama.cpp runs `tokenizer.ggml.model = "llama"` vocabs
**     (docs/tokenizer.md): dummy-prefix space, spaces -> U+2581,
**     best-score bigram merges, byte fallback <0xNN>, special tokens cut out
**     of the text first;
**   - BPE with byte fallback, as a Hugging Face tokenizer.json of the Llama
**     kind runs it (merge ranks instead of scores; same pre-processing).
** Constructors: tl_tokenizer_new_spm() from plain arrays (no file needed),
** tl_tokenizer_from_json() (tokenizer_json.c) and tl_tokenizer_from_gguf()
** (tokenizer_gguf.c).  A tokenizer is immutable once built and may be shared
** between threads; tl_detok_stream holds the state of incremental decoding.
** Byte strings are (pointer, length): NUL bytes are allowed, invalid UTF-8
** is never rejected. */
#ifndef TL_RUNTIME_TOKENIZER_H
#define TL_RUNTIME_TOKENIZER_H

#include "runtime/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tl_tokenizer tl_tokenizer;

/* GGUF tokenizer.ggml.token_type values. */
typedef enum tl_token_type {
    TL_TOKEN_UNDEFINED = 0,
    TL_TOKEN_NORMAL = 1,
    TL_TOKEN_UNKNOWN = 2,
    TL_TOKEN_CONTROL = 3,
    TL_TOKEN_USER_DEFINED = 4,
    TL_TOKEN_UNUSED = 5,
    TL_TOKEN_BYTE = 6,
} tl_token_type;

/* Token attributes (what the type means for tokenizing and pieces). */
enum {
    TL_TOKEN_ATTR_UNKNOWN = 1 << 0,
    TL_TOKEN_ATTR_UNUSED = 1 << 1,
    TL_TOKEN_ATTR_NORMAL = 1 << 2,
    TL_TOKEN_ATTR_CONTROL = 1 << 3,
    TL_TOKEN_ATTR_USER_DEFINED = 1 << 4,
    TL_TOKEN_ATTR_BYTE = 1 << 5,
    TL_TOKEN_ATTR_LSTRIP = 1 << 7,
    TL_TOKEN_ATTR_RSTRIP = 1 << 8,
};

/* An SPM vocabulary as plain arrays (all borrowed; copied by the constructor). */
typedef struct tl_spm_vocab {
    int32_t n_tokens;
    const char *const *texts;               /* token texts (UTF-8 bytes)                     */
    const size_t *text_lens;                /* byte lengths, or NULL: texts are C strings     */
    const float *scores;                    /* NULL: every score 0                            */
    const int32_t *types;                   /* tl_token_type per token; NULL: every NORMAL    */
    int32_t bos_id, eos_id, unk_id, pad_id; /* -1: none                         */
    bool add_bos, add_eos, add_space_prefix;
    const char *name; /* general.name or NULL; "phi-3"/"phi3" gives RSTRIP specials */
} tl_spm_vocab;

/* A vocab with llama.cpp's defaults: BOS 1, EOS 2, UNK 0, no pad, add_bos and
** add_space_prefix on, add_eos off.  Fill in the arrays. */
tl_spm_vocab tl_spm_vocab_defaults(void);

/* Builds an SPM tokenizer.  Fails on n_tokens <= 0, duplicate texts, a missing
** array, or BOS/EOS/UNK ids out of range (those become -1, as llama.cpp does,
** when they are the defaults; an explicit bad id is an error). */
tl_status tl_tokenizer_new_spm(const tl_spm_vocab *v, tl_tokenizer **out);

/* Loads a Hugging Face tokenizer.json (model.type "BPE" with byte_fallback, the
** Llama kind).  Malformed JSON reports the line and column. */
tl_status tl_tokenizer_from_json(const char *path, tl_tokenizer **out);
/* The same from a JSON text in memory (source names it in messages). */
tl_status tl_tokenizer_from_json_text(const char *text, size_t len, const char *source,
                                      tl_tokenizer **out);

/* Loads the vocab of a GGUF file (metadata only; tensors are not read).
** tokenizer.ggml.model must be "llama"; key types and defaults follow llama.cpp. */
tl_status tl_tokenizer_from_gguf(const char *path, tl_tokenizer **out);
/* The same from an already opened GGUF (e.g. a loaded model's). */
typedef struct tl_gguf tl_gguf;
tl_status tl_tokenizer_from_gguf_file(const tl_gguf *g, tl_tokenizer **out);

/* A GGUF file (recognised by its magic) or else a tokenizer.json. */
tl_status tl_tokenizer_load(const char *path, tl_tokenizer **out);

void tl_tokenizer_free(tl_tokenizer *tok);

/* ---- queries ---------------------------------------------------------------- */
int32_t tl_tokenizer_n_vocab(const tl_tokenizer *tok);
int32_t tl_tokenizer_bos(const tl_tokenizer *tok); /* -1: none */
int32_t tl_tokenizer_eos(const tl_tokenizer *tok);
int32_t tl_tokenizer_unk(const tl_tokenizer *tok);
int32_t tl_tokenizer_pad(const tl_tokenizer *tok);
bool tl_tokenizer_add_bos(const tl_tokenizer *tok);
bool tl_tokenizer_add_eos(const tl_tokenizer *tok);
bool tl_tokenizer_add_space_prefix(const tl_tokenizer *tok);
const char *tl_tokenizer_kind(const tl_tokenizer *tok); /* "spm" or "bpe" */
/* The id whose text is exactly these bytes, or -1. */
int32_t tl_tokenizer_find(const tl_tokenizer *tok, const char *text, size_t len);
/* Raw vocab text of id (borrowed), its type and score; id must be in range. */
const char *tl_tokenizer_text(const tl_tokenizer *tok, int32_t id, size_t *len);
tl_token_type tl_tokenizer_type(const tl_tokenizer *tok, int32_t id);
uint32_t tl_tokenizer_attr(const tl_tokenizer *tok, int32_t id);
float tl_tokenizer_score(const tl_tokenizer *tok, int32_t id);
/* Fails with "token id 40000 out of range (vocab 32000)" unless 0 <= id < n_vocab. */
tl_status tl_tokenizer_check_id(const tl_tokenizer *tok, int64_t id);

/* ---- tokenize ----------------------------------------------------------------- */
/* Token ids of text[0..len).  add_special adds BOS (and EOS) as the vocab asks;
** parse_special lets CONTROL/UNKNOWN texts such as "<s>" in the text become
** their ids (USER_DEFINED texts always do).  *ids is malloc'd, even when
** *n_ids is 0 (free() it); on failure it is NULL. */
tl_status tl_tokenize(const tl_tokenizer *tok, const char *text, size_t len, bool add_special,
                      bool parse_special, int32_t **ids, size_t *n_ids);

/* ---- pieces and detokenize --------------------------------------------------- */
/* The bytes token id stands for (borrowed, valid while tok lives): NORMAL texts
** with U+2581 turned into spaces, BYTE tokens as their one byte, CONTROL/UNKNOWN
** as their text only when special (else ""), USER_DEFINED verbatim, others "". */
tl_status tl_token_piece(const tl_tokenizer *tok, int32_t id, bool special, const char **piece,
                         size_t *len);

/* llama_detokenize: concatenated pieces.  remove_special drops a leading BOS
** (and a trailing EOS when the vocab adds one); unparse_special renders
** CONTROL/UNKNOWN texts.  The first piece loses one leading space when the vocab
** adds a space prefix (not after BOS).  *text is malloc'd and NUL-terminated.
** A tokenizer.json (BPE) tokenizer decodes as Hugging Face does instead: special
** tokens are rendered only with unparse_special (remove_special is ignored) and
** the whole text loses one leading space. */
tl_status tl_detokenize(const tl_tokenizer *tok, const int32_t *ids, size_t n_ids,
                        bool remove_special, bool unparse_special, char **text, size_t *len);

/* ---- streaming decode -------------------------------------------------------- */
/* Feeds ids one at a time and hands out only whole UTF-8 characters: the bytes
** of a character split over byte tokens are held back until it is complete.
** Bytes that can never complete a character (invalid UTF-8) are passed on
** as they are, so the concatenated output equals tl_detokenize() of all ids. */
typedef struct tl_detok_stream {
    const tl_tokenizer *tok;
    bool remove_special, unparse_special;
    bool started;    /* an id has been pushed                    */
    bool strip;      /* the next piece loses one leading space   */
    uint8_t held[8]; /* bytes of an incomplete UTF-8 character   */
    int n_held;
} tl_detok_stream;

void tl_detok_stream_init(tl_detok_stream *s, const tl_tokenizer *tok, bool remove_special,
                          bool unparse_special);
/* Appends the newly printable bytes to out[0..*out_len) (out must have room for
** piece length + 8 bytes; tl_detok_stream_push_alloc does that for you). */
tl_status tl_detok_stream_push(tl_detok_stream *s, int32_t id, char *out, size_t out_cap,
                               size_t *out_len);
/* As push, into a malloc'd NUL-terminated string. */
tl_status tl_detok_stream_push_alloc(tl_detok_stream *s, int32_t id, char **text, size_t *len);
/* The held bytes (an incomplete character at the end of the stream), then resets
** the held state.  out must have room for 8 bytes. */
size_t tl_detok_stream_flush(tl_detok_stream *s, char *out);

#endif
