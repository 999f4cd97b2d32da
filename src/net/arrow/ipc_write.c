/* ipc_write.c — RecordBatch messages: a pre-order walk over the columns emitting FieldNodes
 * and body buffers in IPC order, for a row slice of the source batch. Buffers that need no
 * rewrite are referenced in place; shifted bitmaps, rebased offsets and compressed buffers
 * are new allocations owned by the message. */
#include "ipc_int.h"
#include <lz4frame.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

static const uint8_t zeros[8];

typedef struct node { int64_t length, null_count; } node;
typedef struct buffer { int64_t offset, length; } buffer;

typedef struct wctx {
    ipc_msg *m;
    node *nodes;
    size_t nnodes, nodecap;
    buffer *bufs;
    size_t nbufs, bufcap;
    int codec;
    int sizing;       /* only count bytes (ipc_batch_bytes) */
    int64_t bytes;
    char *err;
} wctx;

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

static int oom(wctx *w) { return ipc_fail(w->err, "out of memory%s", ""); }

static int piece(wctx *w, const void *p, size_t n)
{
    ipc_msg *m = w->m;
    if (grow((void **)&m->pieces, &m->piececap, m->npieces + 1, sizeof *m->pieces))
        return oom(w);
    m->pieces[m->npieces++] = (ipc_piece){p, n};
    m->body_len += n;
    return 0;
}

static void *own(wctx *w, size_t n)
{
    ipc_msg *m = w->m;
    void *p = malloc(n ? n : 1);
    if (!p || grow((void **)&m->owned, &m->ownedcap, m->nowned + 1, sizeof *m->owned)) {
        free(p);
        return NULL;
    }
    m->owned[m->nowned++] = p;
    return p;
}

/* Compresses one buffer: int64 uncompressed length then the frame; -1 and the raw bytes
 * when compression does not make it smaller (allowed by the format). */
static int compress_buf(wctx *w, const void *p, size_t n, const void **out, size_t *out_n)
{
    size_t bound = w->codec == IPC_COMP_ZSTD ? ZSTD_compressBound(n)
                                             : LZ4F_compressFrameBound(n, NULL);
    uint8_t *dst = own(w, 8 + (bound > n ? bound : n));
    if (!dst)
        return oom(w);
    size_t c;
    if (w->codec == IPC_COMP_ZSTD) {
        c = ZSTD_compress(dst + 8, bound, p, n, 1);
        if (ZSTD_isError(c))
            c = SIZE_MAX;
    } else {
        c = LZ4F_compressFrame(dst + 8, bound, p, n, NULL);
        if (LZ4F_isError(c))
            c = SIZE_MAX;
    }
    int64_t ulen = (int64_t)n;
    if (c >= n) {
        ulen = -1;
        memcpy(dst + 8, p, n);
        c = n;
    }
    memcpy(dst, &ulen, 8);
    *out = dst;
    *out_n = 8 + c;
    return 0;
}

static int add_buffer(wctx *w, const void *p, size_t n)
{
    if (w->sizing) {
        w->bytes += (int64_t)((n + 7) & ~(size_t)7);
        return 0;
    }
    if (n && w->codec != IPC_COMP_NONE && compress_buf(w, p, n, &p, &n))
        return -1;
    if (grow((void **)&w->bufs, &w->bufcap, w->nbufs + 1, sizeof *w->bufs))
        return oom(w);
    w->bufs[w->nbufs++] = (buffer){(int64_t)w->m->body_len, (int64_t)n};
    if (n && piece(w, p, n))
        return -1;
    size_t pad = (8 - n % 8) % 8;
    return pad ? piece(w, zeros, pad) : 0;
}

static int add_node(wctx *w, int64_t len, int64_t nulls)
{
    if (w->sizing)
        return 0;
    if (grow((void **)&w->nodes, &w->nodecap, w->nnodes + 1, sizeof *w->nodes))
        return oom(w);
    w->nodes[w->nnodes++] = (node){len, nulls};
    return 0;
}

static int64_t count_nulls(const uint8_t *bits, int64_t off, int64_t len)
{
    int64_t set = 0, i = 0;
    for (; i < len && (off + i) % 8; i++)
        set += bits[(off + i) / 8] >> ((off + i) % 8) & 1;
    for (; i + 64 <= len; i += 64) {
        uint64_t x;
        memcpy(&x, bits + (off + i) / 8, 8);
        set += __builtin_popcountll(x);
    }
    for (; i < len; i++)
        set += bits[(off + i) / 8] >> ((off + i) % 8) & 1;
    return len - set;
}

/* A bitmap slice starting at bit 0: in place on a byte boundary, else shifted into a copy. */
static int add_bitmap(wctx *w, const uint8_t *bits, int64_t off, int64_t len)
{
    size_t nbytes = (size_t)((len + 7) / 8);
    if (off % 8 == 0 || w->sizing)
        return add_buffer(w, bits + off / 8, nbytes);
    uint8_t *dst = own(w, nbytes);
    if (!dst)
        return oom(w);
    memset(dst, 0, nbytes);
    for (int64_t i = 0; i < len; i++)
        if (bits[(off + i) / 8] >> ((off + i) % 8) & 1)
            dst[i / 8] |= (uint8_t)(1u << (i % 8));
    return add_buffer(w, dst, nbytes);
}

/* Validity and node; a column without nulls in the slice sends an empty validity buffer. */
static int add_validity(wctx *w, const struct ArrowArray *a, int64_t off, int64_t len)
{
    const uint8_t *bits = a->n_buffers > 0 ? a->buffers[0] : NULL;
    int64_t nulls = 0;
    if (bits && a->null_count != 0 && len > 0)
        nulls = count_nulls(bits, off, len);
    if (add_node(w, len, nulls))
        return -1;
    return nulls ? add_bitmap(w, bits, off, len) : add_buffer(w, NULL, 0);
}

/* Offsets of a slice rebased to start at 0 (in place when they already do). Gives the
 * child/data range [*lo, *hi). */
static int add_offsets(wctx *w, const void *offs, int wide, int64_t off, int64_t len,
                       int64_t *lo, int64_t *hi)
{
    if (!offs) {
        *lo = *hi = 0;
        return add_buffer(w, NULL, 0);
    }
    if (wide) {
        const int64_t *o = (const int64_t *)offs + off;
        *lo = o[0], *hi = o[len];
        if (*lo == 0 || w->sizing)
            return add_buffer(w, o, (size_t)(len + 1) * 8);
        int64_t *d = own(w, (size_t)(len + 1) * 8);
        if (!d)
            return oom(w);
        for (int64_t i = 0; i <= len; i++)
            d[i] = o[i] - *lo;
        return add_buffer(w, d, (size_t)(len + 1) * 8);
    }
    const int32_t *o = (const int32_t *)offs + off;
    *lo = o[0], *hi = o[len];
    if (*lo == 0 || w->sizing)
        return add_buffer(w, o, (size_t)(len + 1) * 4);
    int32_t *d = own(w, (size_t)(len + 1) * 4);
    if (!d)
        return oom(w);
    for (int64_t i = 0; i <= len; i++)
        d[i] = o[i] - (int32_t)*lo;
    return add_buffer(w, d, (size_t)(len + 1) * 4);
}

/* Byte width of a fixed-width format, 0 if not fixed-width. */
static int fixed_width(const char *f)
{
    if (f[1] == '\0')
        switch (f[0]) {
        case 'c': case 'C': return 1;
        case 's': case 'S': case 'e': return 2;
        case 'i': case 'I': case 'f': return 4;
        case 'l': case 'L': case 'g': return 8;
        default: return 0;
        }
    if (f[0] == 'd' && f[1] == ':') {
        const char *c = strchr(f + 2, ',');
        const char *c2 = c ? strchr(c + 1, ',') : NULL;
        return c2 ? atoi(c2 + 1) / 8 : 16;
    }
    if (f[0] == 'w' && f[1] == ':')
        return atoi(f + 2);
    if (f[0] == 't') {
        if (!strcmp(f, "tdD") || !strcmp(f, "tts") || !strcmp(f, "ttm") || !strcmp(f, "tiM"))
            return 4;
        if (!strcmp(f, "tdm") || !strcmp(f, "ttu") || !strcmp(f, "ttn") || !strcmp(f, "tiD") ||
            f[1] == 's' || f[1] == 'D')
            return 8;
        if (!strcmp(f, "tin"))
            return 16;
    }
    return 0;
}

static int walk(wctx *w, const struct ArrowSchema *s, const struct ArrowArray *a, int64_t off,
                int64_t len, int depth);

static int walk_children(wctx *w, const struct ArrowSchema *s, const struct ArrowArray *a,
                         int64_t off, int64_t len, int depth)
{
    if (a->n_children != s->n_children)
        return ipc_fail(w->err, "array and schema of column '%s' disagree", s->name);
    for (int64_t i = 0; i < s->n_children; i++)
        if (walk(w, s->children[i], a->children[i], off, len, depth + 1))
            return -1;
    return 0;
}

static int walk_union(wctx *w, const struct ArrowSchema *s, const struct ArrowArray *a,
                      int64_t off, int64_t len, int depth)
{
    if (add_node(w, len, 0) || add_buffer(w, (const int8_t *)a->buffers[0] + off, (size_t)len))
        return -1;
    if (s->format[2] == 's')
        return walk_children(w, s, a, off, len, depth);
    /* dense: offsets index the children, which are sent whole */
    if (add_buffer(w, (const int32_t *)a->buffers[1] + off, (size_t)len * 4))
        return -1;
    if (a->n_children != s->n_children)
        return ipc_fail(w->err, "array and schema of column '%s' disagree", s->name);
    for (int64_t i = 0; i < s->n_children; i++) {
        const struct ArrowArray *c = a->children[i];
        if (walk(w, s->children[i], c, c->offset, c->length, depth + 1))
            return -1;
    }
    return 0;
}

/* Emits rows [off, off + len) of column a (off already includes a->offset). */
static int walk(wctx *w, const struct ArrowSchema *s, const struct ArrowArray *a, int64_t off,
                int64_t len, int depth)
{
    const char *f = s->format;
    int width;
    int64_t lo, hi;
    if (depth > IPC_MAX_DEPTH)
        return ipc_fail(w->err, "type nesting deeper than %s levels", "64");
    if (strcmp(f, "n") == 0)
        return add_node(w, len, len);
    if (f[0] == '+' && f[1] == 'u')
        return walk_union(w, s, a, off, len, depth);
    if (add_validity(w, a, off, len))
        return -1;
    if (strcmp(f, "b") == 0)
        return add_bitmap(w, a->buffers[1], off, len);
    if ((width = fixed_width(f)) > 0)
        return add_buffer(w, (const uint8_t *)a->buffers[1] + off * width, (size_t)(len * width));
    if (!strcmp(f, "u") || !strcmp(f, "z") || !strcmp(f, "U") || !strcmp(f, "Z")) {
        if (add_offsets(w, a->buffers[1], f[0] == 'U' || f[0] == 'Z', off, len, &lo, &hi))
            return -1;
        const uint8_t *data = a->buffers[2] ? a->buffers[2] : zeros;
        return add_buffer(w, data + lo, (size_t)(hi - lo));
    }
    if (!strcmp(f, "+l") || !strcmp(f, "+L") || !strcmp(f, "+m")) {
        if (add_offsets(w, a->buffers[1], f[1] == 'L', off, len, &lo, &hi))
            return -1;
        const struct ArrowArray *c = a->children[0];
        return walk(w, s->children[0], c, c->offset + lo, hi - lo, depth + 1);
    }
    if (f[0] == '+' && f[1] == 'w') {
        int64_t n = atoi(f + 3);
        const struct ArrowArray *c = a->children[0];
        return walk(w, s->children[0], c, c->offset + off * n, len * n, depth + 1);
    }
    if (!strcmp(f, "+s")) {
        for (int64_t i = 0; i < s->n_children; i++) {
            const struct ArrowArray *c = a->children[i];
            if (walk(w, s->children[i], c, c->offset + off, len, depth + 1))
                return -1;
        }
        return 0;
    }
    return ipc_fail(w->err, "arrow type '%s' is not supported by the ipc writer", f);
}

static int walk_batch(wctx *w, const struct ArrowSchema *schema, const struct ArrowArray *batch,
                      int64_t off, int64_t len)
{
    if (!schema || !batch || !schema->format || strcmp(schema->format, "+s") != 0 ||
        batch->n_children != schema->n_children)
        return ipc_fail(w->err, "a record batch must be a struct array%s", "");
    if (off < 0 || len < 0 || off + len > batch->length)
        return ipc_fail(w->err, "row slice out of range%s", "");
    for (int64_t i = 0; i < schema->n_children; i++) {
        const struct ArrowArray *c = batch->children[i];
        if (walk(w, schema->children[i], c, c->offset + batch->offset + off, len, 1))
            return -1;
    }
    return 0;
}

int64_t ipc_batch_bytes(const struct ArrowSchema *schema, const struct ArrowArray *batch,
                        int64_t off, int64_t len)
{
    ipc_msg m = {0};
    wctx w = {.m = &m, .sizing = 1};
    return walk_batch(&w, schema, batch, off, len) ? -1 : w.bytes;
}

int64_t ipc_rows_fitting(const struct ArrowSchema *schema, const struct ArrowArray *batch,
                         int64_t start, int64_t target)
{
    int64_t n = batch->length - start;
    int64_t bytes = ipc_batch_bytes(schema, batch, start, n);
    if (n <= 1 || bytes <= target)
        return n;
    n = (int64_t)((double)n * (double)target / (double)bytes);
    while (n > 1 && ipc_batch_bytes(schema, batch, start, n) > target)
        n = n * 3 / 4;
    return n < 1 ? 1 : n;
}

static int batch_header(wctx *w, int64_t len, ipc_msg *out)
{
    fb_builder b;
    fb_init(&b);
    fb_ref nodes = fb_vector(&b, w->nodes, w->nnodes, 16, 8);
    fb_ref bufs = fb_vector(&b, w->bufs, w->nbufs, 16, 8);
    fb_ref comp = 0;
    if (w->codec != IPC_COMP_NONE) {
        fb_table_start(&b);
        if (w->codec == IPC_COMP_ZSTD)
            fb_add_u8(&b, 0, 1); /* LZ4_FRAME = 0 is the default */
        comp = fb_table_end(&b);
    }
    fb_table_start(&b);
    if (len)
        fb_add_i64(&b, 0, len);
    fb_add_ref(&b, 1, nodes);
    fb_add_ref(&b, 2, bufs);
    if (comp)
        fb_add_ref(&b, 3, comp);
    fb_ref rb = fb_table_end(&b);
    int rc = ipc_finish_message(&b, IPC_MSG_BATCH, rb, (int64_t)out->body_len, out, w->err);
    fb_free(&b);
    return rc;
}

int ipc_batch_msg(const struct ArrowSchema *schema, const struct ArrowArray *batch, int64_t off,
                  int64_t len, int codec, ipc_msg *out, char *err)
{
    memset(out, 0, sizeof *out);
    wctx w = {.m = out, .codec = codec, .err = err};
    int rc = walk_batch(&w, schema, batch, off, len);
    if (rc == 0)
        rc = batch_header(&w, len, out);
    free(w.nodes);
    free(w.bufs);
    if (rc)
        ipc_msg_free(out);
    return rc;
}
