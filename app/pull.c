/* app/pull.c -- downloading a model: resume, progress, size + sha256 check,
** GGUF validation, rename into place (see app/pull.h). */
#include "app/pull.h"

#include "app/sha256.h"
#include "runtime/gguf.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef TL_VERSION
#define TL_VERSION "dev"
#endif

volatile sig_atomic_t tl_pull_stop;

/* One download in progress. */
typedef struct dl {
    const tl_pull_opts *o;
    CURL *curl;
    char *part;      /* DEST.part                                              */
    int fd;          /* the .part, opened for appending on the first body byte  */
    uint64_t offset; /* bytes in the .part when the current request started    */
    uint64_t got;    /* bytes in the .part now                                 */
    int64_t total;   /* the full size, from the server or opts (-1: unknown)   */
    /* the current response's headers (reset at each status line) */
    int64_t content_length, range_start, range_total;
    bool started; /* the current response's body has begun */
    bool hashing;
    tl_sha256 sha;
    tl_status err; /* an error found in a callback (message recorded) */
    /* progress */
    tl_pull_progress mode;
    double t0, last_draw, last_line;
    uint64_t bytes0; /* got at t0 */
    int last_decile;
    bool bar_open; /* a bar is drawn without its final newline */
    bool printed;
    uint64_t last_printed; /* got at the last progress output */
} dl;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void format_eta(double s, char *buf, size_t len) {
    if (s < 0 || s > 99 * 3600.0) {
        snprintf(buf, len, "--:--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

/* ---- progress ------------------------------------------------------------------ */

static void progress(dl *d, bool final) {
    FILE *log = d->o->log;
    if (!log || d->mode == TL_PULL_PROGRESS_NONE) return;
    double t = now_s();
    bool known = d->total > 0;
    int decile = known ? (int)(d->got * 10 / (uint64_t)d->total) : 0;
    if (final && d->mode == TL_PULL_PROGRESS_LINES && d->printed && d->got == d->last_printed)
        return; /* the last line already says it */
    if (!final) {
        if (d->mode == TL_PULL_PROGRESS_BAR && t - d->last_draw < 0.1) return;
        if (d->mode == TL_PULL_PROGRESS_LINES && decile <= d->last_decile && t - d->last_line < 10)
            return;
    }
    double dt = t - d->t0;
    double rate = dt > 1e-3 ? (double)(d->got - d->bytes0) / dt : 0;
    char got[32], total[32], rs[32], eta[32];
    tl_pull_format_bytes(d->got, got, sizeof got);
    tl_pull_format_bytes(known ? (uint64_t)d->total : 0, total, sizeof total);
    tl_pull_format_bytes((uint64_t)rate, rs, sizeof rs);
    format_eta(known && rate > 0 ? (double)((uint64_t)d->total - d->got) / rate : -1, eta,
               sizeof eta);
    if (d->mode == TL_PULL_PROGRESS_BAR) {
        char bar[31];
        int fill = known ? (int)(d->got * 30 / (uint64_t)d->total) : 0;
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '-';
        bar[30] = '\0';
        if (known)
            fprintf(log, "\r%5.1f%% [%s] %s / %s  %s/s  ETA %s\033[K",
                    100.0 * (double)d->got / (double)d->total, bar, got, total, rs, eta);
        else
            fprintf(log, "\r  %s  %s/s\033[K", got, rs);
        d->bar_open = !final;
        if (final) fputc('\n', log);
    } else {
        if (known)
            fprintf(log, "  %s of %s (%d%%)  %s/s  ETA %s\n", got, total,
                    (int)(100 * d->got / (uint64_t)d->total), rs, eta);
        else
            fprintf(log, "  %s  %s/s\n", got, rs);
        d->last_decile = decile;
        d->last_line = t;
    }
    d->last_draw = t;
    d->printed = true;
    d->last_printed = d->got;
    fflush(log);
}

/* A note on its own line (ends an open progress bar first). */
static void note(dl *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(dl *d, const char *fmt, ...) {
    FILE *log = d->o->log;
    if (!log) return;
    if (d->bar_open) {
        fputc('\n', log);
        d->bar_open = false;
    }
    va_list ap;
    va_start(ap, fmt);
    vfprintf(log, fmt, ap);
    va_end(ap);
    fputc('\n', log);
    fflush(log);
}

/* ---- files ------------------------------------------------------------------- */

/* Feeds a file's bytes to sha (if not NULL); *size gets its length. */
static tl_status hash_file(const char *path, tl_sha256 *sha, uint64_t *size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return tl_fail(TL_ERR_IO, "%s: %s", path, strerror(errno));
    enum { CHUNK = 1 << 20 };
    char *buf = malloc(CHUNK);
    if (!buf) {
        close(fd);
        return tl_fail(TL_ERR_NOMEM, "out of memory hashing %s", path);
    }
    uint64_t n = 0;
    tl_status st = TL_OK;
    for (;;) {
        if (tl_pull_stop) {
            st = tl_fail(TL_ERR_INTERRUPTED, "interrupted while reading %s", path);
            break;
        }
        ssize_t r = read(fd, buf, CHUNK);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            st = tl_fail(TL_ERR_IO, "reading %s: %s", path, strerror(errno));
            break;
        }
        if (r == 0) break;
        if (sha) tl_sha256_update(sha, buf, (size_t)r);
        n += (uint64_t)r;
    }
    free(buf);
    close(fd);
    *size = n;
    return st;
}

static bool digest_matches(tl_sha256 *sha, const char *expect, char hex[TL_SHA256_HEX]) {
    uint8_t dig[TL_SHA256_BYTES];
    tl_sha256_final(sha, dig);
    tl_sha256_hex(dig, hex);
    return strcasecmp(hex, expect) == 0;
}

/* Validates path as GGUF; the message names what (e.g. "the downloaded file"). */
static tl_status check_gguf(const char *path, const char *what) {
    tl_gguf *g = NULL;
    if (tl_gguf_open_ex(path, TL_GGUF_ANY_TENSOR_TYPE, &g) != TL_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s", tl_last_error());
        return tl_fail(TL_ERR_FORMAT, "%s is not a valid GGUF file: %s", what, why);
    }
    tl_gguf_close(g);
    return TL_OK;
}

/* Makes the directories above path (mkdir -p of its dirname). */
static tl_status make_parent_dirs(const char *path) {
    char *p = strdup(path);
    if (!p) return tl_fail(TL_ERR_NOMEM, "out of memory");
    char *slash = strrchr(p, '/');
    if (slash && slash != p) {
        *slash = '\0';
        for (char *q = p + 1; *q; q++) {
            if (*q != '/') continue;
            *q = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST) break;
            *q = '/';
        }
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            tl_status st = tl_fail(TL_ERR_IO, "cannot create directory %s: %s", p, strerror(errno));
            free(p);
            return st;
        }
    }
    free(p);
    return TL_OK;
}

/* ---- libcurl callbacks --------------------------------------------------------- */

static size_t on_header(char *buf, size_t size, size_t n, void *ud) {
    dl *d = ud;
    size_t len = size * n;
    char line[256];
    size_t k = len < sizeof line - 1 ? len : sizeof line - 1;
    memcpy(line, buf, k);
    line[k] = '\0';
    if (strncmp(line, "HTTP/", 5) == 0) {
        d->content_length = d->range_start = d->range_total = -1;
    } else if (strncasecmp(line, "content-length:", 15) == 0) {
        d->content_length = strtoll(line + 15, NULL, 10);
    } else if (strncasecmp(line, "content-range:", 14) == 0) {
        long long a = -1, b = -1, t = -1;
        const char *p = line + 14;
        while (*p == ' ' || *p == '\t')
            p++;
        if (sscanf(p, "bytes %lld-%lld/%lld", &a, &b, &t) >= 2) {
            d->range_start = a;
            d->range_total = t;
        } else if (sscanf(p, "bytes */%lld", &t) == 1) {
            d->range_total = t;
        }
    }
    return len;
}

static int on_xferinfo(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
    (void)ud;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return tl_pull_stop ? 1 : 0; /* non-zero aborts the transfer */
}

static tl_status open_part(dl *d, bool truncate) {
    if (d->fd >= 0) {
        if (!truncate) return TL_OK;
        close(d->fd);
        d->fd = -1;
    }
    d->fd = open(d->part, O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : O_APPEND), 0644);
    if (d->fd < 0) return tl_fail(TL_ERR_IO, "cannot write %s: %s", d->part, strerror(errno));
    return TL_OK;
}

/* The first body byte of a response: is it the part we asked for? */
static tl_status begin_body(dl *d) {
    long code = 0;
    curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &code);
    int64_t server_total = -1;
    bool restart = false;
    if (code == 0 && strncmp(d->o->url, "file://", 7) == 0) {
        code = 200; /* a local copy: no status; copied whole (never resumed) */
        if (d->offset > 0) d->content_length = -1;
    }
    if (code == 206) {
        if (d->range_start != (int64_t)d->offset)
            return tl_fail(TL_ERR_IO, "%s: the server sent bytes from %lld, asked for %llu",
                           d->o->url, (long long)d->range_start, (unsigned long long)d->offset);
        server_total = d->range_total;
    } else if (code == 200) {
        if (d->offset > 0) {
            note(d, "the server does not support resuming; starting again from the beginning");
            restart = true;
        }
        server_total = d->content_length;
    } else {
        return tl_fail(TL_ERR_IO, "%s: unexpected HTTP status %ld", d->o->url, code);
    }
    if (server_total >= 0 && d->o->size && (uint64_t)server_total != d->o->size)
        return tl_fail(TL_ERR_FORMAT,
                       "%s: the server's file is %lld bytes, expected %llu (the published file or "
                       "the registry entry changed)",
                       d->o->url, (long long)server_total, (unsigned long long)d->o->size);
    if (server_total >= 0) {
        d->total = server_total;
        if (server_total > 0) d->last_decile = (int)(d->got * 10 / (uint64_t)server_total);
    }
    if (restart || d->offset == 0) {
        d->offset = d->got = 0;
        if (d->hashing) tl_sha256_init(&d->sha);
        return open_part(d, true);
    }
    return open_part(d, false);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
    dl *d = ud;
    size_t len = size * n;
    if (tl_pull_stop) return 0;
    if (!d->started) {
        d->started = true;
        if ((d->err = begin_body(d)) != TL_OK) return 0;
    }
    if (d->total >= 0 && d->got + len > (uint64_t)d->total) {
        d->err = tl_fail(TL_ERR_FORMAT, "%s: the server sent more than the %lld bytes it announced",
                         d->o->url, (long long)d->total);
        return 0;
    }
    for (size_t done = 0; done < len;) {
        ssize_t w = write(d->fd, p + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            int e = errno;
            d->err = tl_fail(TL_ERR_IO, "writing %s: %s%s", d->part, strerror(e),
                             e == ENOSPC || e == EDQUOT ? " (the disk is full)" : "");
            return 0;
        }
        done += (size_t)w;
    }
    if (d->hashing) tl_sha256_update(&d->sha, p, len);
    d->got += len;
    progress(d, false);
    return len;
}

/* ---- one download ---------------------------------------------------------------- */

static bool retryable(CURLcode rc) {
    switch (rc) {
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

static const char *curl_hint(CURLcode rc) {
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return " (no network, or the host name is wrong)";
    case CURLE_COULDNT_CONNECT:
        return " (no network, or the server is down)";
    case CURLE_OPERATION_TIMEDOUT:
        return " (the connection stalled)";
    case CURLE_PARTIAL_FILE:
        return " (the server closed the connection before the end of the file)";
    case CURLE_PEER_FAILED_VERIFICATION:
        return " (TLS certificate check failed)";
    default:
        return "";
    }
}

static tl_status setup_curl(dl *d, char *errbuf) {
    const tl_pull_opts *o = d->o;
    CURL *c = d->curl;
    long stall = o->stall_seconds > 0 ? o->stall_seconds : 60;
    if (curl_easy_setopt(c, CURLOPT_URL, o->url) != CURLE_OK)
        return tl_fail(TL_ERR_ARG, "bad URL '%s'", o->url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    /* file:// for a local copy (tl pull file:///path, tl pull ./x.gguf); never via a redirect */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "tl/" TL_VERSION);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, stall);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, d);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, d);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    return TL_OK;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !tl_pull_stop) {
    }
}

/* Why the bytes so far are kept, for error messages. */
static const char *kept_note(dl *d, char *buf, size_t len) {
    if (d->got == 0) return "";
    char b[32];
    tl_pull_format_bytes(d->got, b, sizeof b);
    snprintf(buf, len,
             "; the %s received so far are kept in %s: run the same command again to resume", b,
             d->part);
    return buf;
}

/* Runs requests (with resumes) until the .part holds the whole file. */
static tl_status transfer(dl *d) {
    const tl_pull_opts *o = d->o;
    char errbuf[CURL_ERROR_SIZE];
    tl_status st = setup_curl(d, errbuf);
    if (st) return st;
    int attempts = 1 + (o->retries > 0 ? o->retries : 0);
    bool restarted_after_416 = false;
    char kept[512];
    for (int attempt = 1;; attempt++) {
        if (o->size && d->got == o->size) return TL_OK; /* an earlier .part was complete */
        char range[32];
        snprintf(range, sizeof range, "%llu-", (unsigned long long)d->got);
        curl_easy_setopt(d->curl, CURLOPT_RANGE, d->got ? range : NULL);
        d->offset = d->got;
        d->started = false;
        d->err = TL_OK;
        d->content_length = d->range_start = d->range_total = -1;
        errbuf[0] = '\0';
        CURLcode rc = curl_easy_perform(d->curl);
        if (tl_pull_stop) {
            char b[32];
            tl_pull_format_bytes(d->got, b, sizeof b);
            return tl_fail(TL_ERR_INTERRUPTED, "interrupted at %s%s", b,
                           kept_note(d, kept, sizeof kept));
        }
        if (d->err) {
            /* our callback stopped it: keep its message, add where the bytes are */
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", tl_last_error());
            if (d->err == TL_ERR_FORMAT) return d->err; /* wrong file: do not suggest resuming */
            return tl_fail(d->err, "%s%s", msg, kept_note(d, kept, sizeof kept));
        }
        long code = 0;
        curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &code);
        if (rc == CURLE_OK) {
            if (!d->started) { /* an empty body: a zero-byte file or a finished range */
                d->started = true;
                if ((st = begin_body(d)) != TL_OK) return st;
            }
            return TL_OK;
        }
        if (rc == CURLE_HTTP_RETURNED_ERROR && code == 416 && d->got > 0) {
            /* nothing left past our offset: complete if the server's size says so */
            if (d->range_total >= 0 && (uint64_t)d->range_total == d->got) {
                if (o->size && d->got != o->size) break; /* checked by the caller */
                d->total = d->range_total;
                return TL_OK;
            }
            if (!restarted_after_416) {
                note(d, "%s does not fit the file on the server; downloading again", d->part);
                restarted_after_416 = true;
                d->got = 0;
                if (d->hashing) tl_sha256_init(&d->sha);
                if ((st = open_part(d, true)) != TL_OK) return st;
                attempt--;
                continue;
            }
        }
        if (rc == CURLE_HTTP_RETURNED_ERROR) {
            if (code >= 500 && attempt < attempts) {
                note(d, "HTTP %ld from the server; trying again (%d of %d)", code, attempt + 1,
                     attempts);
                sleep_ms(o->retry_delay_ms > 0 ? o->retry_delay_ms : 1000);
                continue;
            }
            return tl_fail(TL_ERR_IO, "%s: HTTP %ld%s%s", o->url, code,
                           code == 404   ? " (not found)"
                           : code == 401 ? " (authentication required)"
                           : code == 403 ? " (forbidden)"
                                         : "",
                           kept_note(d, kept, sizeof kept));
        }
        if (retryable(rc) && attempt < attempts) {
            char b[32];
            tl_pull_format_bytes(d->got, b, sizeof b);
            note(d, "transfer interrupted at %s: %s%s; resuming (attempt %d of %d)", b,
                 errbuf[0] ? errbuf : curl_easy_strerror(rc), curl_hint(rc), attempt + 1, attempts);
            sleep_ms(o->retry_delay_ms > 0 ? o->retry_delay_ms : 1000);
            continue;
        }
        return tl_fail(TL_ERR_IO, "downloading %s failed: %s%s%s", o->url,
                       errbuf[0] ? errbuf : curl_easy_strerror(rc), curl_hint(rc),
                       kept_note(d, kept, sizeof kept));
    }
    return TL_OK; /* the caller's size check reports the mismatch */
}

/* DEST already exists: accept it if it matches what is expected. */
static tl_status check_existing(const tl_pull_opts *o, uint64_t size, tl_pull_result *r) {
    char a[32], b[32];
    if (o->size && size != o->size) {
        tl_pull_format_bytes(size, a, sizeof a);
        tl_pull_format_bytes(o->size, b, sizeof b);
        return tl_fail(TL_ERR_IO,
                       "%s already exists but is %llu bytes (%s), expected %llu (%s); remove it or "
                       "use --force to download it again",
                       o->dest, (unsigned long long)size, a, (unsigned long long)o->size, b);
    }
    if (o->sha256) {
        if (o->log) fprintf(o->log, "checking the sha256 of %s\n", o->dest);
        tl_sha256 sha;
        tl_sha256_init(&sha);
        uint64_t n;
        tl_status st = hash_file(o->dest, &sha, &n);
        if (st) return st;
        if (!digest_matches(&sha, o->sha256, r->sha256))
            return tl_fail(TL_ERR_IO,
                           "%s already exists but its sha256 is %s, expected %s; remove it or use "
                           "--force to download it again",
                           o->dest, r->sha256, o->sha256);
        r->sha256_checked = true;
    }
    r->already_present = true;
    r->bytes = size;
    return check_gguf(o->dest, o->dest);
}

tl_status tl_pull(const tl_pull_opts *o, tl_pull_result *result) {
    tl_pull_result local;
    tl_pull_result *r = result ? result : &local;
    memset(r, 0, sizeof *r);
    if (!o->url || !o->dest) return tl_fail(TL_ERR_ARG, "tl_pull: url and dest are required");
    if (o->sha256) {
        size_t n = strlen(o->sha256);
        bool ok = n == 64;
        for (size_t i = 0; ok && i < n; i++)
            ok = strchr("0123456789abcdefABCDEF", o->sha256[i]) != NULL;
        if (!ok) return tl_fail(TL_ERR_ARG, "expected sha256 '%s' is not 64 hex digits", o->sha256);
    }
    struct stat sb;
    if (!o->force && stat(o->dest, &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) return tl_fail(TL_ERR_IO, "%s is a directory", o->dest);
        return check_existing(o, (uint64_t)sb.st_size, r);
    }
    tl_status st = make_parent_dirs(o->dest);
    if (st) return st;

    dl d = {.o = o, .fd = -1, .total = o->size ? (int64_t)o->size : -1, .hashing = true};
    d.part = malloc(strlen(o->dest) + 6);
    if (!d.part) return tl_fail(TL_ERR_NOMEM, "out of memory");
    sprintf(d.part, "%s.part", o->dest);
    d.mode = o->progress;
    if (d.mode == TL_PULL_PROGRESS_AUTO)
        d.mode = o->log && isatty(fileno(o->log)) ? TL_PULL_PROGRESS_BAR : TL_PULL_PROGRESS_LINES;
    tl_sha256_init(&d.sha);

    /* an earlier attempt's .part: hash what it holds and continue after it */
    if (stat(d.part, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0) {
        if (o->size && (uint64_t)sb.st_size > o->size) {
            note(&d, "%s is larger than the expected file; starting again", d.part);
            unlink(d.part);
        } else {
            uint64_t n = 0;
            if ((st = hash_file(d.part, &d.sha, &n)) != TL_OK) goto done;
            d.got = r->resumed_from = n;
            char b[32];
            tl_pull_format_bytes(n, b, sizeof b);
            note(&d, "resuming %s from %s", d.part, b);
        }
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        st = tl_fail(TL_ERR_INTERNAL, "libcurl could not be initialised");
        goto done;
    }
    d.curl = curl_easy_init();
    if (!d.curl) {
        curl_global_cleanup();
        st = tl_fail(TL_ERR_NOMEM, "libcurl: cannot create a handle");
        goto done;
    }
    note(&d, "downloading %s\n  to %s", o->url, o->dest);
    d.t0 = d.last_draw = d.last_line = now_s();
    d.bytes0 = d.got;
    d.last_decile = d.total > 0 ? (int)(d.got * 10 / (uint64_t)d.total) : 0;
    st = transfer(&d);
    curl_easy_cleanup(d.curl);
    curl_global_cleanup();
    if (d.fd >= 0) {
        if (st == TL_OK && fsync(d.fd) != 0 && errno != EINVAL)
            st = tl_fail(TL_ERR_IO, "writing %s: %s", d.part, strerror(errno));
        if (close(d.fd) != 0 && st == TL_OK)
            st = tl_fail(TL_ERR_IO, "writing %s: %s", d.part, strerror(errno));
        d.fd = -1;
    }
    if (st) goto done;
    progress(&d, true);

    /* complete: verify, then move into place */
    r->bytes = d.got;
    if ((o->size && d.got != o->size) || (d.total >= 0 && d.got != (uint64_t)d.total)) {
        unlink(d.part);
        st = tl_fail(TL_ERR_FORMAT,
                     "%s: received %llu bytes, expected %lld; the download was "
                     "deleted, run the command again",
                     o->url, (unsigned long long)d.got,
                     o->size ? (long long)o->size : (long long)d.total);
        goto done;
    }
    uint8_t dig[TL_SHA256_BYTES];
    tl_sha256_final(&d.sha, dig);
    tl_sha256_hex(dig, r->sha256);
    if (o->sha256) {
        if (strcasecmp(r->sha256, o->sha256) != 0) {
            unlink(d.part);
            st = tl_fail(TL_ERR_FORMAT,
                         "checksum mismatch for %s: sha256 %s, expected %s; the download was "
                         "deleted (nothing was installed at %s)",
                         o->url, r->sha256, o->sha256, o->dest);
            goto done;
        }
        r->sha256_checked = true;
    }
    if ((st = check_gguf(d.part, "the downloaded file")) != TL_OK) {
        unlink(d.part);
        goto done;
    }
    if (rename(d.part, o->dest) != 0) {
        st = tl_fail(TL_ERR_IO, "cannot rename %s to %s: %s", d.part, o->dest, strerror(errno));
        goto done;
    }
done:
    if (d.bar_open && o->log) fputc('\n', o->log); /* the caller's message starts a line */
    if (d.fd >= 0) close(d.fd);
    free(d.part);
    return st;
}
