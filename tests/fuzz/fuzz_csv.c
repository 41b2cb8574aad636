/* tests/fuzz/fuzz_csv.c -- libFuzzer target: write_csv round trip (lang/builtins/io.c).
**
** The input is cut into cells: 0x1F ends a cell, 0x1E ends a row; the first row
** is the header (at least one column), every later row is padded or cut to the
** header's width.  A cell starting with 0x01 is an int and one starting with
** 0x02 a float (the next 8 bytes, little-endian); any other cell is a string of
** arbitrary bytes.  The script `write_csv(csv_path, csv_header, csv_rows)` writes a temporary file,
** which is read back with an RFC 4180 reader: every cell must come back
** exactly (ints and floats as the decimal that reads back as the same number). */
#include "lang/eval.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static char path[96];

static void cleanup(void) {
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    /* $TMPDIR (run_fuzz.sh points it at a tmpfs: every write_csv fsyncs), else /tmp */
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%.40s/fuzz_csv.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) abort();
    snprintf(path, sizeof path, "%s/out.csv", dir);
    atexit(cleanup);
    return 0;
}

static tl_value cell(const uint8_t *p, size_t n) {
    if (n >= 1 && (p[0] == 1 || p[0] == 2)) {
        uint64_t bits = 0;
        for (size_t i = 1; i < 9; i++)
            bits = bits << 8 | (i < n ? p[i] : 0);
        if (p[0] == 1) return tl_value_int((int64_t)bits);
        double d;
        memcpy(&d, &bits, sizeof d);
        return tl_value_float(d);
    }
    tl_value v = {0};
    if (tl_value_string((const char *)p, n, &v) != TL_OK) abort();
    return v;
}

/* The RFC 4180 reader: returns the next cell of text[*pos..], sets *eol at a row end. */
static char *read_cell(const char *text, size_t len, size_t *pos, size_t *out_len, bool *eol) {
    char *buf = malloc(len + 1);
    size_t n = 0, i = *pos;
    if (!buf) abort();
    if (i < len && text[i] == '"') {
        for (i++;; i++) {
            if (i >= len) abort(); /* unterminated quote */
            if (text[i] == '"') {
                if (i + 1 < len && text[i + 1] == '"') {
                    buf[n++] = '"';
                    i++;
                } else {
                    i++;
                    break;
                }
            } else {
                buf[n++] = text[i];
            }
        }
    } else {
        while (i < len && text[i] != ',' && text[i] != '\n')
            buf[n++] = text[i++];
    }
    if (i >= len) abort(); /* every row ends with "\n" */
    *eol = text[i] == '\n';
    if (text[i] != ',' && text[i] != '\n') abort();
    *pos = i + 1;
    *out_len = n;
    return buf;
}

static void check_cell(const tl_value *want, const char *got, size_t n) {
    if (want->kind == TL_VAL_STRING) {
        if (n != want->as.str->len || memcmp(got, want->as.str->data, n) != 0) abort();
        return;
    }
    char tmp[64];
    if (n == 0 || n >= sizeof tmp) abort();
    memcpy(tmp, got, n);
    tmp[n] = 0;
    char *end;
    if (want->kind == TL_VAL_INT) {
        if (strtoll(tmp, &end, 10) != want->as.i || *end) abort();
    } else {
        double d = strtod(tmp, &end);
        if (*end || (isnan(want->as.f) ? !isnan(d) : d != want->as.f)) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096) return 0;
    tl_value rows = {0}, header = {0};
    if (tl_value_array(4, &rows) != TL_OK) abort();
    tl_value row = {0};
    if (tl_value_array(4, &row) != TL_OK) abort();
    size_t start = 0, width = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && data[i] != 0x1f && data[i] != 0x1e) continue;
        if (tl_array_push(row.as.arr, cell(data + start, i - start)) != TL_OK) abort();
        start = i + 1;
        if (i < size && data[i] == 0x1f) continue;
        /* end of a row */
        if (header.kind == TL_VAL_VOID) {
            width = row.as.arr->len;
            for (size_t k = 0; k < width; k++) /* header cells must be strings */
                if (row.as.arr->items[k].kind != TL_VAL_STRING) {
                    tl_value_release(&row.as.arr->items[k]);
                    if (tl_value_string("h", 1, &row.as.arr->items[k]) != TL_OK) abort();
                }
            header = row;
        } else {
            while (row.as.arr->len < width)
                if (tl_array_push(row.as.arr, tl_value_int(0)) != TL_OK) abort();
            while (row.as.arr->len > width)
                tl_value_release(&row.as.arr->items[--row.as.arr->len]);
            if (tl_array_push(rows.as.arr, row) != TL_OK) abort();
        }
        row = (tl_value){0};
        if (tl_value_array(4, &row) != TL_OK) abort();
    }
    tl_value_release(&row);

    tl_interp *I = tl_interp_new();
    if (!I) abort();
    tl_value p = {0};
    if (tl_value_cstring(path, &p) != TL_OK) abort();
    if (tl_interp_set_global(I, "csv_path", &p) != TL_OK ||
        tl_interp_set_global(I, "csv_header", &header) != TL_OK ||
        tl_interp_set_global(I, "csv_rows", &rows) != TL_OK)
        abort();
    static const char prog[] = "main { write_csv(csv_path, csv_header, csv_rows) }\n";
    tl_value result = {0};
    if (tl_interp_eval_string(I, prog, sizeof prog - 1, "fuzz.tl", &result) != TL_OK) {
        fprintf(stderr, "fuzz_csv: %s\n", tl_interp_error(I));
        abort();
    }
    tl_value_release(&result);
    tl_interp_free(I);

    FILE *f = fopen(path, "rb");
    if (!f) abort();
    char *text = malloc(1 << 20);
    if (!text) abort();
    size_t len = fread(text, 1, 1 << 20, f);
    fclose(f);
    size_t pos = 0;
    size_t n_rows = 1 + rows.as.arr->len;
    for (size_t r = 0; r < n_rows; r++) {
        const tl_array *want = r == 0 ? header.as.arr : rows.as.arr->items[r - 1].as.arr;
        for (size_t k = 0; k < want->len; k++) {
            size_t n;
            bool eol;
            char *got = read_cell(text, len, &pos, &n, &eol);
            if (eol != (k + 1 == want->len)) abort();
            check_cell(&want->items[k], got, n);
            free(got);
        }
    }
    if (pos != len) abort();
    free(text);
    tl_value_release(&p);
    tl_value_release(&header);
    tl_value_release(&rows);
    return 0;
}
