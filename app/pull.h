/* app/pull.h -- `tl pull`: downloading GGUF models, and the registry of known ones.
**
** tl_pull() fetches a URL over HTTP(S) with libcurl into DEST.part, resuming
** a .part left by an earlier attempt with an HTTP Range request, hashing
** (SHA-256) as the bytes arrive.  When the transfer ends it checks the size
** against the expected size and the size the server announced, the sha256
** against the expected digest, and that the file is a valid GGUF
** (runtime/gguf.h); only then is DEST.part renamed to DEST.  So DEST either
** does not exist or is complete and verified.  On a network error the .part
** stays (run again to resume); after a checksum mismatch or an invalid GGUF
** it is deleted, since resuming it could never succeed.
**
** The registry (models/registry.tsv, compiled in; TL_REGISTRY=FILE reads
** another) maps names like "tinyllama" to a file name, URL, size and sha256,
** with "-" for values no publisher gave.
**
** Progress goes to opts->log (stderr in the CLI): a redrawn bar with bytes,
** rate and ETA on a terminal, plain lines otherwise.  Errors are tl_status
** values with a message (tl_last_error()).  tl_pull_describe and
** tl_pull_format_bytes live in app/pull_describe.c. */
#ifndef TL_APP_PULL_H
#define TL_APP_PULL_H

#include "runtime/status.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* ---- registry ---------------------------------------------------------------- */

typedef struct tl_pull_entry {
    char *name;    /* what `tl pull NAME` accepts                    */
    char *file;    /* file name under ~/.llm/models                  */
    uint64_t size; /* exact bytes; 0 = unknown                      */
    char *sha256;  /* 64 lowercase hex digits; NULL = unknown        */
    char *url;
    char *source; /* where size and sha256 came from (may be "")   */
} tl_pull_entry;

typedef struct tl_pull_registry {
    tl_pull_entry *items;
    size_t n;
} tl_pull_registry;

/* The registry text compiled in from models/registry.tsv. */
extern const char tl_pull_registry_builtin[];

/* Parses registry text (origin names it in messages: "registry.tsv:7: ..."). */
tl_status tl_pull_registry_parse(const char *text, const char *origin, tl_pull_registry *out);
/* The file named by $TL_REGISTRY if set, else the built-in registry. */
tl_status tl_pull_registry_load(tl_pull_registry *out);
const tl_pull_entry *tl_pull_registry_find(const tl_pull_registry *r, const char *name);
void tl_pull_registry_free(tl_pull_registry *r);

/* ---- download ---------------------------------------------------------------- */

typedef enum tl_pull_progress {
    TL_PULL_PROGRESS_AUTO,  /* a bar if log is a terminal, else lines */
    TL_PULL_PROGRESS_BAR,   /* redrawn in place with \r               */
    TL_PULL_PROGRESS_LINES, /* a line every 10% (or 10 s)             */
    TL_PULL_PROGRESS_NONE,
} tl_pull_progress;

typedef struct tl_pull_opts {
    const char *url;
    const char *dest;   /* final path; DEST.part while downloading       */
    uint64_t size;      /* expected bytes; 0 = unknown                   */
    const char *sha256; /* expected digest (hex, any case); NULL = none  */
    bool force;         /* download again even if DEST exists            */
    int retries;        /* automatic resumes after a dropped connection  */
    int retry_delay_ms; /* wait before each; 0 = 1000                    */
    long stall_seconds; /* give up when no byte arrives for this; 0 = 60 */
    tl_pull_progress progress;
    FILE *log; /* progress and notes; NULL = quiet */
} tl_pull_opts;

/* What happened (for the caller's summary). */
typedef struct tl_pull_result {
    bool already_present;  /* DEST existed (and matched what was expected) */
    bool sha256_checked;   /* a digest was compared                         */
    uint64_t resumed_from; /* bytes of an earlier .part reused             */
    uint64_t bytes;        /* the file's size                              */
    char sha256[65];       /* the file's digest, when it was computed      */
} tl_pull_result;

/* Set this from a signal handler (the CLI's SIGINT) to stop a download: tl_pull
** then fails with TL_ERR_INTERRUPTED and keeps the .part for a later resume. */
extern volatile sig_atomic_t tl_pull_stop;

/* Downloads opts->url to opts->dest as described above.  result may be NULL. */
tl_status tl_pull(const tl_pull_opts *opts, tl_pull_result *result);

/* Prints a GGUF file's architecture, tensor type mix and size (3-4 lines). */
tl_status tl_pull_describe(FILE *out, const char *path);

/* "1.5 GiB", "637.7 MiB", "12 B": for messages. */
void tl_pull_format_bytes(uint64_t n, char *buf, size_t len);

#endif
