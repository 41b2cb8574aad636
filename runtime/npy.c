/* runtime/npy.c -- .npy writer and reader (see runtime/npy.h for the format). */
#include "runtime/npy.h"

#include "runtime/open_regular.h"
#include "runtime/ops.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

static bool host_little_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

/* ------------------------------------------------------------------ writing */

/* The descriptor without its byte-order character, or NULL when not writable. */
static const char *npy_code(tl_dtype dt) {
    switch (dt) {
    case TL_DTYPE_F32:
        return "f4";
    case TL_DTYPE_F16:
        return "f2";
    case TL_DTYPE_F64:
        return "f8";
    case TL_DTYPE_I8:
        return "i1";
    case TL_DTYPE_I16:
        return "i2";
    case TL_DTYPE_I32:
        return "i4";
    case TL_DTYPE_I64:
        return "i8";
    case TL_DTYPE_BOOL:
        return "b1";
    default:
        return NULL;
    }
}

static tl_status write_all(FILE *f, const void *p, size_t n) {
    if (n && fwrite(p, 1, n, f) != n)
        return tl_fail(TL_ERR_IO, "npy: write failed: %s", strerror(errno ? errno : EIO));
    return TL_OK;
}

tl_status tl_npy_write(FILE *f, const tl_tensor *t) {
    const tl_type_traits *tr = tl_dtype_traits(t->dtype);
    if (!tr) return tl_fail(TL_ERR_TYPE, "npy: invalid tensor type");
    if (tr->quantized)
        return tl_fail(TL_ERR_UNSUPPORTED,
                       "npy: a %s tensor has no NumPy type; dequantize it first (to_f32)",
                       tr->name);
    tl_tensor *data = NULL; /* the contiguous tensor whose bytes we write */
    tl_status st;
    if (t->dtype == TL_DTYPE_BF16)
        st = tl_op_cast(t, TL_DTYPE_F32, &data);
    else if (!npy_code(t->dtype))
        return tl_fail(TL_ERR_UNSUPPORTED, "npy: cannot write a %s tensor", tr->name);
    else if (!tl_tensor_is_contiguous(t))
        st = tl_op_contiguous(t, &data);
    else
        st = (data = tl_tensor_ref((tl_tensor *)t)) ? TL_OK : TL_ERR_INTERNAL;
    if (st != TL_OK) return st;

    const char *code = npy_code(data->dtype);
    char order = code[1] == '1' ? '|' : (host_little_endian() ? '<' : '>');
    char dict[512];
    int n = snprintf(dict, sizeof dict, "{'descr': '%c%s', 'fortran_order': False, 'shape': (",
                     order, code);
    int64_t shape[TL_MAX_DIMS];
    tl_tensor_shape(data, shape);
    for (int d = 0; d < data->n_dims; d++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%s%lld", d ? ", " : "",
                      (long long)shape[d]);
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%s), }", data->n_dims == 1 ? "," : "");
    /* magic(6) + version(2) + u16 length(2) + dict + padding + '\n' = k * 64 */
    size_t total = 10 + (size_t)n + 1;
    size_t padded = (total + 63) / 64 * 64;
    uint8_t head[10 + sizeof dict + 64];
    memcpy(head, npy_magic, 6);
    head[6] = 1;
    head[7] = 0;
    size_t hlen = padded - 10;
    head[8] = (uint8_t)(hlen & 0xff);
    head[9] = (uint8_t)(hlen >> 8);
    memcpy(head + 10, dict, (size_t)n);
    memset(head + 10 + n, ' ', padded - total);
    head[padded - 1] = '\n';

    errno = 0;
    st = write_all(f, head, padded);
    if (st == TL_OK) st = write_all(f, tl_tensor_data(data), tl_tensor_nbytes(data));
    tl_tensor_unref(data);
    return st;
}

/* ------------------------------------------------------------------ header parsing */

typedef struct npy_header {
    char descr[16];
    bool fortran, have_descr, have_fortran, have_shape;
    int n_dims;
    int64_t shape[TL_MAX_DIMS];
} npy_header;

typedef struct cursor {
    const char *p, *end;
} cursor;

static void skip_ws(cursor *c) {
    while (c->p < c->end && isspace((unsigned char)*c->p))
        c->p++;
}

static bool eat(cursor *c, char ch) {
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* A quoted Python string literal without escapes, into buf. */
static bool parse_str(cursor *c, char *buf, size_t cap) {
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return false;
    char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || n + 1 >= cap) return false;
        buf[n++] = *c->p++;
    }
    if (c->p >= c->end) return false;
    c->p++;
    buf[n] = '\0';
    return true;
}

static bool eat_word(cursor *c, const char *w) {
    skip_ws(c);
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0) return false;
    c->p += n;
    return true;
}

static tl_status bad_header(const char *why) {
    return tl_fail(TL_ERR_FORMAT, "npy: malformed header: %s", why);
}

static tl_status parse_shape(cursor *c, npy_header *h) {
    if (!eat(c, '(')) return bad_header("shape is not a tuple");
    h->n_dims = 0;
    for (;;) {
        if (eat(c, ')')) break;
        skip_ws(c);
        if (c->p >= c->end || !isdigit((unsigned char)*c->p))
            return bad_header("shape entries must be non-negative integers");
        int64_t v = 0;
        while (c->p < c->end && isdigit((unsigned char)*c->p)) {
            if (v > (INT64_MAX - 9) / 10) return bad_header("shape entry too large");
            v = v * 10 + (*c->p++ - '0');
        }
        skip_ws(c);
        if (c->p < c->end && *c->p == 'L') c->p++; /* Python 2 longs */
        if (h->n_dims >= TL_MAX_DIMS)
            return tl_fail(TL_ERR_UNSUPPORTED, "npy: more than %d dimensions", TL_MAX_DIMS);
        h->shape[h->n_dims++] = v;
        if (eat(c, ')')) break;
        if (!eat(c, ',')) return bad_header("expected ',' or ')' in shape");
    }
    return TL_OK;
}

static tl_status parse_dict(const char *text, size_t len, npy_header *h) {
    cursor c = {text, text + len};
    if (!eat(&c, '{')) return bad_header("not a dict");
    for (;;) {
        if (eat(&c, '}')) break;
        char key[32];
        if (!parse_str(&c, key, sizeof key)) return bad_header("expected a quoted key");
        if (!eat(&c, ':')) return bad_header("expected ':'");
        if (strcmp(key, "descr") == 0) {
            skip_ws(&c);
            if (c.p < c.end && (*c.p == '[' || *c.p == '{'))
                return tl_fail(TL_ERR_UNSUPPORTED, "npy: structured dtypes are not supported");
            if (!parse_str(&c, h->descr, sizeof h->descr)) return bad_header("bad descr");
            h->have_descr = true;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (eat_word(&c, "True"))
                h->fortran = true;
            else if (eat_word(&c, "False"))
                h->fortran = false;
            else
                return bad_header("fortran_order must be True or False");
            h->have_fortran = true;
        } else if (strcmp(key, "shape") == 0) {
            tl_status st = parse_shape(&c, h);
            if (st != TL_OK) return st;
            h->have_shape = true;
        } else {
            return bad_header("unknown key");
        }
        if (eat(&c, '}')) break;
        if (!eat(&c, ',')) return bad_header("expected ',' or '}'");
    }
    skip_ws(&c);
    if (c.p != c.end) return bad_header("text after the dict");
    if (!h->have_descr || !h->have_fortran || !h->have_shape)
        return bad_header("descr, fortran_order and shape are all required");
    return TL_OK;
}

/* ------------------------------------------------------------------ reading */

typedef struct npy_type {
    tl_dtype dt;      /* the tensor type we produce               */
    size_t size;      /* bytes per element in the file            */
    bool is_unsigned; /* widen from an unsigned source          */
    bool swap;        /* file byte order differs from the host    */
} npy_type;

static tl_status decode_descr(const char *d, npy_type *t) {
    char order = d[0];
    const char *code = d + 1;
    if (order != '<' && order != '>' && order != '|' && order != '=')
        return tl_fail(TL_ERR_UNSUPPORTED, "npy: unsupported dtype '%s'", d);
    static const struct {
        const char *code;
        tl_dtype dt;
        size_t size;
        bool is_unsigned;
    } map[] = {
        {"f4", TL_DTYPE_F32, 4, false}, {"f2", TL_DTYPE_F16, 2, false},
        {"f8", TL_DTYPE_F64, 8, false}, {"i1", TL_DTYPE_I8, 1, false},
        {"i2", TL_DTYPE_I16, 2, false}, {"i4", TL_DTYPE_I32, 4, false},
        {"i8", TL_DTYPE_I64, 8, false}, {"b1", TL_DTYPE_BOOL, 1, false},
        {"u1", TL_DTYPE_I16, 1, true},  {"u2", TL_DTYPE_I32, 2, true},
        {"u4", TL_DTYPE_I64, 4, true},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(code, map[i].code) == 0) {
            t->dt = map[i].dt;
            t->size = map[i].size;
            t->is_unsigned = map[i].is_unsigned;
            bool file_le = order != '>' && !(order == '=' && !host_little_endian());
            t->swap = t->size > 1 && file_le != host_little_endian();
            return TL_OK;
        }
    return tl_fail(TL_ERR_UNSUPPORTED, "npy: unsupported dtype '%s'", d);
}

/* Reads element k of the file (already at its position) into dst as type t->dt. */
static void load_elem(const uint8_t *src, const npy_type *t, uint8_t *dst, size_t dst_size) {
    uint8_t tmp[8];
    for (size_t i = 0; i < t->size; i++)
        tmp[i] = t->swap ? src[t->size - 1 - i] : src[i];
    if (!t->is_unsigned) {
        memcpy(dst, tmp, dst_size);
        return;
    }
    uint64_t v = 0;
    if (t->size == 1)
        v = tmp[0];
    else if (t->size == 2) {
        uint16_t u;
        memcpy(&u, tmp, 2);
        v = u;
    } else {
        uint32_t u;
        memcpy(&u, tmp, 4);
        v = u;
    }
    if (dst_size == 2) {
        int16_t w = (int16_t)v;
        memcpy(dst, &w, 2);
    } else if (dst_size == 4) {
        int32_t w = (int32_t)v;
        memcpy(dst, &w, 4);
    } else {
        int64_t w = (int64_t)v;
        memcpy(dst, &w, 8);
    }
}

tl_status tl_npy_parse(const void *data, size_t len, tl_tensor **out) {
    *out = NULL;
    const uint8_t *b = data;
    if (len < 10 || memcmp(b, npy_magic, 6) != 0)
        return tl_fail(TL_ERR_FORMAT, "npy: not a .npy file (bad magic)");
    unsigned major = b[6];
    size_t hlen, hstart;
    if (major == 1) {
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
        hstart = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12) return tl_fail(TL_ERR_FORMAT, "npy: truncated header");
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
        hstart = 12;
    } else {
        return tl_fail(TL_ERR_UNSUPPORTED, "npy: unknown format version %u.%u", major, b[7]);
    }
    if (hlen > len - hstart) return tl_fail(TL_ERR_FORMAT, "npy: truncated header");
    npy_header h = {0};
    tl_status st = parse_dict((const char *)b + hstart, hlen, &h);
    if (st != TL_OK) return st;
    npy_type t = {0};
    st = decode_descr(h.descr, &t);
    if (st != TL_OK) return st;

    /* The product of the non-zero dims is bounded too: a zero dim must not hide
    ** an overflowing product (the strides are computed from all of them). */
    size_t count = 1, nonzero = 1;
    for (int d = 0; d < h.n_dims; d++) {
        if (h.shape[d] && nonzero > tl_alloc_limit() / 8 / (size_t)h.shape[d])
            return tl_fail(TL_ERR_NOMEM, "npy: array too large");
        if (h.shape[d]) nonzero *= (size_t)h.shape[d];
        count *= (size_t)h.shape[d];
    }
    size_t offs = hstart + hlen;
    if (count * t.size != len - offs)
        return tl_fail(TL_ERR_FORMAT, "npy: expected %zu data bytes, the file has %zu",
                       count * t.size, len - offs);
    tl_tensor *res;
    st = tl_tensor_new_shape(t.dt, h.n_dims, h.shape, &res);
    if (st != TL_OK) return st;
    const uint8_t *src = b + offs;
    uint8_t *dst = tl_tensor_data(res);
    size_t dsize = tl_dtype_traits(t.dt)->size;

    if (!h.fortran || h.n_dims < 2) {
        if (!t.swap && !t.is_unsigned)
            memcpy(dst, src, count * t.size);
        else
            for (size_t k = 0; k < count; k++)
                load_elem(src + k * t.size, &t, dst + k * dsize, dsize);
    } else {
        /* Fortran order: the first axis varies fastest in the file.  Walk the
        ** C-order destination with an index counter and find each source. */
        size_t fstride[TL_MAX_DIMS];
        size_t s = 1;
        for (int d = 0; d < h.n_dims; d++) {
            fstride[d] = s;
            s *= (size_t)h.shape[d];
        }
        int64_t idx[TL_MAX_DIMS] = {0};
        for (size_t k = 0; k < count; k++) {
            size_t fk = 0;
            for (int d = 0; d < h.n_dims; d++)
                fk += (size_t)idx[d] * fstride[d];
            load_elem(src + fk * t.size, &t, dst + k * dsize, dsize);
            for (int d = h.n_dims - 1; d >= 0; d--) {
                if (++idx[d] < h.shape[d]) break;
                idx[d] = 0;
            }
        }
    }
    if (t.dt == TL_DTYPE_BOOL)
        for (size_t k = 0; k < count; k++)
            dst[k] = dst[k] != 0;
    *out = res;
    return TL_OK;
}

tl_status tl_npy_load(const char *path, tl_tensor **out) {
    *out = NULL;
    struct stat sb;
    int fd = tl_open_regular(path, &sb); /* a FIFO is refused, never waited for */
    if (fd < 0 && errno) return tl_fail(TL_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    if (fd < 0 && S_ISDIR(sb.st_mode))
        return tl_fail(TL_ERR_IO, "cannot read '%s': %s", path, strerror(EISDIR));
    if (fd < 0) return tl_fail(TL_ERR_IO, "cannot read '%s': not a regular file", path);
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        int e = errno;
        close(fd);
        return tl_fail(TL_ERR_IO, "cannot open '%s': %s", path, strerror(e));
    }
    size_t len = (size_t)sb.st_size;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        fclose(f);
        return tl_fail(TL_ERR_NOMEM, "cannot read '%s': out of memory", path);
    }
    size_t got = fread(buf, 1, len, f);
    int e = ferror(f) ? errno : 0;
    fclose(f);
    tl_status st;
    if (got != len)
        st = tl_fail(TL_ERR_IO, "cannot read '%s': %s", path, e ? strerror(e) : "short read");
    else {
        st = tl_npy_parse(buf, len, out);
        if (st != TL_OK) tl_error_prefix("'%s'", path);
    }
    free(buf);
    return st;
}
