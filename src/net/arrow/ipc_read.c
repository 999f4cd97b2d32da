/* ipc_read.c — decoding of Schema and RecordBatch messages from untrusted bytes (DoPut
 * parameters). Flat types only. Every flatbuffer offset is checked by fb.c; every buffer is
 * checked against the body and against what its type needs (lengths, monotonic offsets
 * inside the data) before the result is handed on; decompressed sizes are bounded. The
 * result owns copies of its buffers, so the input may be freed right after. */
#include "ipc_int.h"
#include <lz4frame.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define MAX_COLUMNS 4096
#define MAX_ROWS ((int64_t)1 << 31)
#define MAX_DECOMPRESSED ((int64_t)256 << 20)

static int bad(char *err, const char *what) { return ipc_fail(err, "malformed ipc message: %s", what); }

/* Opens the Message root and checks its version and header type. */
static int open_message(const uint8_t *meta, size_t len, int want, fb_table *hdr, int64_t *body,
                        char *err)
{
    fb_table msg;
    if (fb_root(meta, len, &msg))
        return bad(err, "bad flatbuffer");
    if (fb_get_int(&msg, 0, 2, 0) < 4)
        return bad(err, "metadata version older than V5");
    if (fb_get_int(&msg, 1, 1, 0) != want)
        return bad(err, want == IPC_MSG_SCHEMA ? "not a schema" : "not a record batch");
    if (fb_get_table(&msg, 2, hdr) || !hdr->pos)
        return bad(err, "missing header");
    if (body)
        *body = fb_get_int(&msg, 3, 8, 0);
    return 0;
}

int ipc_message_type(const uint8_t *meta, size_t len)
{
    fb_table msg;
    if (fb_root(meta, len, &msg))
        return -1;
    return (int)fb_get_int(&msg, 1, 1, 0);
}

/* --- schema -------------------------------------------------------------------------------- */

typedef struct rschema {
    struct ArrowSchema *kids;
    struct ArrowSchema **kidp;
    char *strings; /* formats and names of the children, one allocation per child below */
} rschema;

static void child_schema_release(struct ArrowSchema *s)
{
    free((void *)s->format);
    free((void *)s->name);
    s->release = NULL;
}

static void schema_release(struct ArrowSchema *s)
{
    rschema *p = s->private_data;
    for (int64_t i = 0; p && i < s->n_children; i++)
        if (p->kids[i].release)
            p->kids[i].release(&p->kids[i]);
    if (p) {
        free(p->kids);
        free(p->kidp);
        free(p);
    }
    s->release = NULL;
}

static const char unit_char[] = "smun";

/* The C Data format of a Field's type, into fmt; -1 for unsupported or malformed. */
static int field_format(const fb_table *field, char *fmt, size_t cap, char *err)
{
    fb_table t;
    int64_t type = fb_get_int(field, 2, 1, 0);
    if (fb_get_table(field, 3, &t))
        return bad(err, "bad type table");
    switch (type) {
    case IPC_T_NULL: snprintf(fmt, cap, "n"); return 0;
    case IPC_T_BOOL: snprintf(fmt, cap, "b"); return 0;
    case IPC_T_UTF8: snprintf(fmt, cap, "u"); return 0;
    case IPC_T_BINARY: snprintf(fmt, cap, "z"); return 0;
    case IPC_T_LARGE_UTF8: snprintf(fmt, cap, "U"); return 0;
    case IPC_T_LARGE_BINARY: snprintf(fmt, cap, "Z"); return 0;
    case IPC_T_INT: {
        int64_t bits = fb_get_int(&t, 0, 4, 0), sign = fb_get_int(&t, 1, 1, 0);
        const char *f = bits == 8 ? "cC" : bits == 16 ? "sS" : bits == 32 ? "iI" : bits == 64 ? "lL" : NULL;
        if (!f)
            return bad(err, "integer bit width");
        snprintf(fmt, cap, "%c", f[sign ? 0 : 1]);
        return 0;
    }
    case IPC_T_FLOAT: {
        int64_t p = fb_get_int(&t, 0, 2, 0);
        if (p < 0 || p > 2)
            return bad(err, "float precision");
        snprintf(fmt, cap, "%c", "efg"[p]);
        return 0;
    }
    case IPC_T_DECIMAL: {
        int64_t p = fb_get_int(&t, 0, 4, 0), s = fb_get_int(&t, 1, 4, 0);
        if (fb_get_int(&t, 2, 4, 128) != 128 || p < 1 || p > 38 || s < 0 || s > p)
            return bad(err, "decimal shape");
        snprintf(fmt, cap, "d:%d,%d", (int)p, (int)s);
        return 0;
    }
    case IPC_T_DATE:
        snprintf(fmt, cap, "%s", fb_get_int(&t, 0, 2, 1) == 0 ? "tdD" : "tdm");
        return 0;
    case IPC_T_TIME: case IPC_T_DURATION: {
        int64_t u = fb_get_int(&t, 0, 2, 1);
        if (u < 0 || u > 3)
            return bad(err, "time unit");
        snprintf(fmt, cap, "t%c%c", type == IPC_T_TIME ? 't' : 'D', unit_char[u]);
        return 0;
    }
    case IPC_T_TIMESTAMP: {
        int64_t u = fb_get_int(&t, 0, 2, 0);
        uint32_t n = 0;
        int b = 0;
        const char *tz = fb_get_string(&t, 1, &n, &b);
        if (u < 0 || u > 3 || b || n > 64)
            return bad(err, "timestamp unit or zone");
        snprintf(fmt, cap, "ts%c:%.*s", unit_char[u], (int)n, tz ? tz : "");
        return 0;
    }
    case IPC_T_FIXED_BINARY: {
        int64_t w = fb_get_int(&t, 0, 4, 0);
        if (w < 1 || w > (1 << 20))
            return bad(err, "fixed size binary width");
        snprintf(fmt, cap, "w:%d", (int)w);
        return 0;
    }
    default:
        return ipc_fail(err, "arrow type %s is not supported as a parameter (flat types only)",
                        type == IPC_T_LIST || type == IPC_T_STRUCT || type == IPC_T_MAP ? "nested" : "tag");
    }
}

int ipc_read_schema(const uint8_t *meta, size_t len, struct ArrowSchema *out, char *err)
{
    fb_table s, f;
    const uint8_t *vec;
    uint32_t n;
    memset(out, 0, sizeof *out);
    if (open_message(meta, len, IPC_MSG_SCHEMA, &s, NULL, err))
        return -1;
    if (fb_get_vector(&s, 1, 4, &vec, &n) || n > MAX_COLUMNS)
        return bad(err, "fields");
    rschema *p = calloc(1, sizeof *p);
    if (!p || !(p->kids = calloc(n + 1, sizeof *p->kids)) || !(p->kidp = calloc(n + 1, sizeof *p->kidp))) {
        if (p)
            free(p->kids);
        free(p);
        return ipc_fail(err, "out of memory%s", "");
    }
    out->format = "+s";
    out->name = "";
    out->private_data = p;
    out->release = schema_release;
    out->children = p->kidp;
    for (uint32_t i = 0; i < n; i++) {
        char fmt[96];
        uint32_t nl = 0;
        int b = 0;
        if (fb_vector_table(&s, vec, i, &f) || field_format(&f, fmt, sizeof fmt, err))
            goto fail;
        if (fb_field(&f, 4, 4)) {
            ipc_fail(err, "parameters: dictionary-encoded columns are not supported (send plain "
                     "columns)");
            goto fail;
        }
        const char *name = fb_get_string(&f, 0, &nl, &b);
        uint32_t nkids = 0;
        const uint8_t *kv;
        if (b || fb_get_vector(&f, 5, 4, &kv, &nkids) || nkids) {
            if (!err || !err[0])
                bad(err, "field name or children");
            if (nkids)
                ipc_fail(err, "nested field '%s' is not supported as a parameter", "");
            goto fail;
        }
        struct ArrowSchema *c = &p->kids[i];
        c->format = strdup(fmt);
        c->name = name ? strndup(name, nl) : strdup("");
        c->release = child_schema_release;
        c->flags = fb_get_int(&f, 1, 1, 0) ? ARROW_FLAG_NULLABLE : 0;
        p->kidp[i] = c;
        out->n_children = i + 1;
        if (!c->format || !c->name) {
            ipc_fail(err, "out of memory%s", "");
            goto fail;
        }
    }
    return 0;
fail:
    out->release(out);
    return -1;
}

/* --- record batch -------------------------------------------------------------------------- */

typedef struct rarray {
    void *mem[3];
    const void *bufs[3];
} rarray;

typedef struct rbatch {
    struct ArrowArray *kids;
    struct ArrowArray **kidp;
} rbatch;

static void child_array_release(struct ArrowArray *a)
{
    rarray *p = a->private_data;
    if (p)
        for (int i = 0; i < 3; i++)
            free(p->mem[i]);
    free(p);
    a->release = NULL;
}

static void batch_release(struct ArrowArray *a)
{
    rbatch *p = a->private_data;
    for (int64_t i = 0; p && i < a->n_children; i++)
        if (p->kids[i].release)
            p->kids[i].release(&p->kids[i]);
    if (p) {
        free(p->kids);
        free(p->kidp);
        free(p);
    }
    a->release = NULL;
}

typedef struct rctx {
    const uint8_t *bufvec; /* Buffer structs: int64 offset, int64 length */
    uint32_t nbufs, next;
    const uint8_t *body;
    size_t body_len;
    int codec; /* -1 none, 0 lz4, 1 zstd */
    int64_t decompressed;
    char *err;
} rctx;

static int64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return (int64_t)v;
}

/* Takes the next buffer: a fresh copy (decompressed if needed) in *out, length in *out_n. */
static int take_buffer(rctx *x, void **out, int64_t *out_n)
{
    *out = NULL;
    *out_n = 0;
    if (x->next >= x->nbufs)
        return bad(x->err, "too few buffers");
    const uint8_t *b = x->bufvec + 16 * (size_t)x->next++;
    int64_t off = rd64(b), len = rd64(b + 8);
    if (off < 0 || len < 0 || (uint64_t)off > x->body_len || (uint64_t)len > x->body_len - (uint64_t)off)
        return bad(x->err, "buffer outside the body");
    const uint8_t *src = x->body + off;
    int64_t n = len;
    if (x->codec >= 0 && len > 0) {
        if (len < 8)
            return bad(x->err, "compressed buffer too short");
        n = rd64(src);
        src += 8, len -= 8;
        if (n == -1) {
            n = len;
        } else if (n < 0 || n > MAX_DECOMPRESSED - x->decompressed) {
            return bad(x->err, "decompressed size out of bounds");
        } else {
            x->decompressed += n;
            uint8_t *d = malloc((size_t)n + 1);
            if (!d)
                return ipc_fail(x->err, "out of memory%s", "");
            size_t got;
            if (x->codec == 1) {
                got = ZSTD_decompress(d, (size_t)n, src, (size_t)len);
                if (ZSTD_isError(got))
                    got = SIZE_MAX;
            } else {
                LZ4F_dctx *dc;
                size_t dst_n = (size_t)n, src_n = (size_t)len;
                got = SIZE_MAX;
                if (!LZ4F_isError(LZ4F_createDecompressionContext(&dc, LZ4F_VERSION))) {
                    size_t r = LZ4F_decompress(dc, d, &dst_n, src, &src_n, NULL);
                    if (r == 0 && src_n == (size_t)len)
                        got = dst_n;
                    LZ4F_freeDecompressionContext(dc);
                }
            }
            if (got != (size_t)n) {
                free(d);
                return bad(x->err, "compressed buffer does not decode to its stated size");
            }
            *out = d;
            *out_n = n;
            return 0;
        }
    }
    uint8_t *d = malloc((size_t)n + 1);
    if (!d)
        return ipc_fail(x->err, "out of memory%s", "");
    if (n)
        memcpy(d, src, (size_t)n);
    *out = d;
    *out_n = n;
    return 0;
}

static int fixed_bytes(const char *f)
{
    switch (f[0]) {
    case 'c': case 'C': return 1;
    case 's': case 'S': case 'e': return 2;
    case 'i': case 'I': case 'f': return 4;
    case 'l': case 'L': case 'g': return 8;
    case 'd': return 16;
    case 'w': return atoi(f + 2);
    case 't':
        if (!strcmp(f, "tdD") || !strcmp(f, "tts") || !strcmp(f, "ttm"))
            return 4;
        return 8;
    default: return 0;
    }
}

/* Checks var-length offsets: first >= 0, non-decreasing, last within the data. */
static int check_offsets(const void *offs, int wide, int64_t len, int64_t data_n)
{
    int64_t prev = 0;
    for (int64_t i = 0; i <= len; i++) {
        int64_t v = wide ? ((const int64_t *)offs)[i] : ((const int32_t *)offs)[i];
        if (v < prev || (i == 0 && v < 0) || v > data_n)
            return -1;
        prev = v;
    }
    return 0;
}

static int read_column(rctx *x, const struct ArrowSchema *s, const uint8_t *nodep, int64_t rows,
                       struct ArrowArray *a)
{
    int64_t len = rd64(nodep), nulls = rd64(nodep + 8), n[3] = {0, 0, 0};
    rarray *p = calloc(1, sizeof *p);
    if (!p)
        return ipc_fail(x->err, "out of memory%s", "");
    memset(a, 0, sizeof *a);
    a->private_data = p;
    a->release = child_array_release;
    a->buffers = p->bufs;
    if (len != rows || nulls < 0 || nulls > len)
        return bad(x->err, "field node length");
    a->length = len;
    a->null_count = nulls;
    const char *f = s->format;
    if (!strcmp(f, "n")) {
        a->null_count = len;
        return 0;
    }
    int var = !strcmp(f, "u") || !strcmp(f, "z") || !strcmp(f, "U") || !strcmp(f, "Z");
    a->n_buffers = var ? 3 : 2;
    for (int i = 0; i < a->n_buffers; i++)
        if (take_buffer(x, &p->mem[i], &n[i]))
            return -1;
    if (nulls > 0 && n[0] < (len + 7) / 8)
        return bad(x->err, "validity bitmap too short");
    if (nulls == 0) {
        free(p->mem[0]);
        p->mem[0] = NULL;
    }
    if (!strcmp(f, "b")) {
        if (n[1] < (len + 7) / 8)
            return bad(x->err, "boolean data too short");
    } else if (var) {
        int wide = f[0] == 'U' || f[0] == 'Z';
        if (n[1] < (len + 1) * (wide ? 8 : 4) || check_offsets(p->mem[1], wide, len, n[2]))
            return bad(x->err, "offsets");
    } else if (n[1] < len * fixed_bytes(f)) {
        return bad(x->err, "data buffer too short");
    }
    for (int i = 0; i < 3; i++)
        p->bufs[i] = p->mem[i];
    return 0;
}

static int batch_shell(struct ArrowArray *out, int64_t ncols, int64_t rows, char *err)
{
    static const void *no_bufs[1];
    rbatch *p = calloc(1, sizeof *p);
    memset(out, 0, sizeof *out);
    if (!p || !(p->kids = calloc((size_t)ncols + 1, sizeof *p->kids)) ||
        !(p->kidp = calloc((size_t)ncols + 1, sizeof *p->kidp))) {
        if (p)
            free(p->kids);
        free(p);
        return ipc_fail(err, "out of memory%s", "");
    }
    out->length = rows;
    out->n_buffers = 1;
    out->buffers = no_bufs;
    out->children = p->kidp;
    out->private_data = p;
    out->release = batch_release;
    return 0;
}

int ipc_read_batch(const struct ArrowSchema *schema, const uint8_t *meta, size_t meta_len,
                   const uint8_t *body, size_t body_len, struct ArrowArray *out, char *err)
{
    fb_table rb, comp;
    const uint8_t *nodes;
    uint32_t nnodes;
    memset(out, 0, sizeof *out);
    rctx x = {.body = body, .body_len = body_len, .codec = -1, .err = err};
    if (open_message(meta, meta_len, IPC_MSG_BATCH, &rb, NULL, err))
        return -1;
    int64_t rows = fb_get_int(&rb, 0, 8, 0);
    if (rows < 0 || rows > MAX_ROWS)
        return bad(err, "row count");
    if (fb_get_vector(&rb, 1, 16, &nodes, &nnodes) || fb_get_vector(&rb, 2, 16, &x.bufvec, &x.nbufs))
        return bad(err, "nodes or buffers");
    if (nnodes != (uint32_t)schema->n_children)
        return bad(err, "node count differs from the schema");
    if (fb_get_table(&rb, 3, &comp))
        return bad(err, "compression");
    if (comp.pos) {
        x.codec = (int)fb_get_int(&comp, 0, 1, 0);
        if (x.codec != 0 && x.codec != 1)
            return bad(err, "compression codec");
    }
    if (batch_shell(out, schema->n_children, rows, err))
        return -1;
    rbatch *p = out->private_data;
    for (int64_t i = 0; i < schema->n_children; i++) {
        p->kidp[i] = &p->kids[i];
        out->n_children = i + 1;
        if (read_column(&x, schema->children[i], nodes + 16 * i, rows, &p->kids[i])) {
            out->release(out);
            return -1;
        }
    }
    return 0;
}
