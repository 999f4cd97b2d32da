/* fb.c — the FlatBuffers builder and bounds-checked reader declared in fb.h. The builder
 * grows a buffer downwards; an fb_ref is a distance from the buffer's end, so it stays valid
 * while the buffer grows. The reader never trusts an offset: every access is range-checked
 * against the buffer (the DoPut input it reads comes from the network). */
#include "fb.h"
#include <stdlib.h>
#include <string.h>

void fb_init(fb_builder *b)
{
    memset(b, 0, sizeof *b);
    b->minalign = 8;
}

void fb_free(fb_builder *b)
{
    free(b->buf);
    memset(b, 0, sizeof *b);
}

static int reserve(fb_builder *b, size_t n)
{
    if (b->failed)
        return -1;
    if (b->cap - b->size >= n)
        return 0;
    size_t cap = b->cap ? b->cap * 2 : 1024;
    while (cap - b->size < n)
        cap *= 2;
    uint8_t *p = malloc(cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    if (b->size)
        memcpy(p + cap - b->size, b->buf + b->cap - b->size, b->size);
    free(b->buf);
    b->buf = p;
    b->cap = cap;
    return 0;
}

static void push(fb_builder *b, const void *p, size_t n)
{
    if (reserve(b, n))
        return;
    b->size += n;
    if (n)
        memcpy(b->buf + b->cap - b->size, p, n);
}

static void push_zeros(fb_builder *b, size_t n)
{
    if (reserve(b, n))
        return;
    b->size += n;
    if (n) /* the buffer may not exist yet: memset(NULL, 0, 0) is undefined */
        memset(b->buf + b->cap - b->size, 0, n);
}

/* Pads so that after writing `extra` more bytes the size is a multiple of align. */
static void prep(fb_builder *b, size_t align, size_t extra)
{
    if (align > b->minalign)
        b->minalign = align;
    size_t pad = (~(b->size + extra) + 1) & (align - 1);
    push_zeros(b, pad);
}

static void push_u32(fb_builder *b, uint32_t v)
{
    uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    push(b, le, 4);
}

static void push_u16(fb_builder *b, uint16_t v)
{
    uint8_t le[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    push(b, le, 2);
}

fb_ref fb_string(fb_builder *b, const char *s, size_t n)
{
    prep(b, 4, n + 1);
    push_zeros(b, 1);
    push(b, s, n);
    push_u32(b, (uint32_t)n);
    return (fb_ref)b->size;
}

fb_ref fb_vector(fb_builder *b, const void *data, size_t n, size_t elem, size_t align)
{
    prep(b, align > 4 ? align : 4, n * elem);
    push(b, data, n * elem);
    push_u32(b, (uint32_t)n);
    return (fb_ref)b->size;
}

fb_ref fb_vector_refs(fb_builder *b, const fb_ref *refs, size_t n)
{
    prep(b, 4, n * 4);
    for (size_t i = n; i-- > 0;)
        push_u32(b, (uint32_t)(b->size + 4 - refs[i]));
    push_u32(b, (uint32_t)n);
    return (fb_ref)b->size;
}

void fb_table_start(fb_builder *b)
{
    b->tstart = b->size;
    b->nfields = 0;
    memset(b->field_off, 0, sizeof b->field_off);
}

static void add_scalar(fb_builder *b, int field, const void *le, size_t n)
{
    if (field < 0 || field >= FB_MAX_FIELDS) {
        b->failed = 1;
        return;
    }
    prep(b, n, 0);
    push(b, le, n);
    b->field_off[field] = (uint32_t)b->size;
    if (field + 1 > b->nfields)
        b->nfields = field + 1;
}

void fb_add_u8(fb_builder *b, int field, uint8_t v) { add_scalar(b, field, &v, 1); }

void fb_add_i16(fb_builder *b, int field, int16_t v)
{
    uint16_t u = (uint16_t)v;
    uint8_t le[2] = {(uint8_t)u, (uint8_t)(u >> 8)};
    add_scalar(b, field, le, 2);
}

void fb_add_i32(fb_builder *b, int field, int32_t v)
{
    uint32_t u = (uint32_t)v;
    uint8_t le[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    add_scalar(b, field, le, 4);
}

void fb_add_i64(fb_builder *b, int field, int64_t v)
{
    uint64_t u = (uint64_t)v;
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(u >> (8 * i));
    add_scalar(b, field, le, 8);
}

void fb_add_ref(fb_builder *b, int field, fb_ref r)
{
    prep(b, 4, 0);
    uint32_t v = (uint32_t)(b->size + 4 - r);
    uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    add_scalar(b, field, le, 4);
}

fb_ref fb_table_end(fb_builder *b)
{
    prep(b, 4, 0);
    push_u32(b, 0); /* soffset to the vtable, patched below */
    size_t loc = b->size;
    for (int i = b->nfields; i-- > 0;)
        push_u16(b, (uint16_t)(b->field_off[i] ? loc - b->field_off[i] : 0));
    push_u16(b, (uint16_t)(loc - b->tstart));
    push_u16(b, (uint16_t)(4 + 2 * b->nfields));
    if (b->failed)
        return 0;
    uint32_t so = (uint32_t)(b->size - loc);
    uint8_t *p = b->buf + b->cap - loc;
    p[0] = (uint8_t)so, p[1] = (uint8_t)(so >> 8), p[2] = (uint8_t)(so >> 16);
    p[3] = (uint8_t)(so >> 24);
    return (fb_ref)loc;
}

const uint8_t *fb_finish(fb_builder *b, fb_ref root, size_t *out_len)
{
    prep(b, b->minalign, 4);
    push_u32(b, (uint32_t)(b->size + 4 - root));
    if (b->failed)
        return NULL;
    *out_len = b->size;
    return b->buf + b->cap - b->size;
}

/* --- reader ------------------------------------------------------------------------------ */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static int open_table(const uint8_t *buf, size_t len, size_t pos, fb_table *out)
{
    memset(out, 0, sizeof *out);
    if (pos % 4 || pos + 4 > len || pos < 4)
        return -1;
    int32_t so = (int32_t)rd32(buf + pos);
    int64_t vt = (int64_t)pos - so;
    if (vt < 0 || vt % 2 || (uint64_t)vt + 4 > len)
        return -1;
    uint16_t vtlen = rd16(buf + vt), objlen = rd16(buf + vt + 2);
    if (vtlen < 4 || vtlen % 2 || (uint64_t)vt + vtlen > len || objlen < 4 || pos + objlen > len)
        return -1;
    out->buf = buf;
    out->len = len;
    out->pos = pos;
    out->vt = (size_t)vt;
    out->vtlen = vtlen;
    return 0;
}

int fb_root(const uint8_t *buf, size_t len, fb_table *out)
{
    memset(out, 0, sizeof *out);
    if (!buf || len < 8)
        return -1;
    return open_table(buf, len, rd32(buf), out);
}

size_t fb_field(const fb_table *t, int field, size_t size)
{
    if (!t->pos || (size_t)(4 + 2 * field + 2) > t->vtlen)
        return 0;
    uint16_t off = rd16(t->buf + t->vt + 4 + 2 * field);
    uint16_t objlen = rd16(t->buf + t->vt + 2);
    if (!off || off + size > objlen)
        return 0;
    return t->pos + off;
}

int64_t fb_get_int(const fb_table *t, int field, size_t size, int64_t def)
{
    size_t at = fb_field(t, field, size);
    if (!at)
        return def;
    const uint8_t *p = t->buf + at;
    switch (size) {
    case 1: return (int8_t)p[0];
    case 2: return (int16_t)rd16(p);
    case 4: return (int32_t)rd32(p);
    default: return (int64_t)((uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32);
    }
}

/* Follows the uoffset at absolute position at; returns the target or 0 if out of range. */
static size_t follow(const fb_table *t, size_t at)
{
    if (at + 4 > t->len)
        return 0;
    uint64_t target = (uint64_t)at + rd32(t->buf + at);
    return target + 4 <= t->len ? (size_t)target : 0;
}

int fb_get_table(const fb_table *t, int field, fb_table *out)
{
    memset(out, 0, sizeof *out);
    size_t at = fb_field(t, field, 4);
    if (!at)
        return 0;
    size_t target = follow(t, at);
    return target ? open_table(t->buf, t->len, target, out) : -1;
}

int fb_get_vector(const fb_table *t, int field, size_t elem, const uint8_t **out_data,
                  uint32_t *out_n)
{
    *out_data = NULL;
    *out_n = 0;
    size_t at = fb_field(t, field, 4);
    if (!at)
        return 0;
    size_t v = follow(t, at);
    if (!v || v % 4)
        return -1;
    uint32_t n = rd32(t->buf + v);
    if ((uint64_t)v + 4 + (uint64_t)n * elem > t->len)
        return -1;
    *out_data = t->buf + v + 4;
    *out_n = n;
    return 0;
}

int fb_vector_table(const fb_table *t, const uint8_t *vec, uint32_t i, fb_table *out)
{
    size_t at = (size_t)(vec - t->buf) + 4 * (size_t)i;
    size_t target = follow(t, at);
    return target ? open_table(t->buf, t->len, target, out) : -1;
}

const char *fb_get_string(const fb_table *t, int field, uint32_t *out_len, int *out_bad)
{
    const uint8_t *d;
    uint32_t n;
    *out_bad = 0;
    *out_len = 0;
    if (fb_get_vector(t, field, 1, &d, &n)) {
        *out_bad = 1;
        return NULL;
    }
    if (!d)
        return NULL;
    if ((size_t)(d - t->buf) + n >= t->len || d[n] != 0) {
        *out_bad = 1;
        return NULL;
    }
    *out_len = n;
    return (const char *)d;
}
