/* fb.h — a minimal FlatBuffers builder (back to front, as the format wants: children are
 * written before the tables that point at them) and the few read helpers the IPC reader
 * needs. Only what Arrow's Message/Schema/RecordBatch tables use: scalars, structs, strings,
 * vectors, tables and unions. Default-valued fields are never written (the caller decides),
 * as Arrow C++ does, because arrow-rs' verifier rejects some explicit defaults. */
#ifndef RHEI_NET_FB_H
#define RHEI_NET_FB_H
#include <stddef.h>
#include <stdint.h>

#define FB_MAX_FIELDS 16

typedef uint32_t fb_ref; /* an object's position, counted from the end of the buffer */

typedef struct fb_builder {
    uint8_t *buf;   /* data lives in buf[cap - size .. cap) */
    size_t cap, size;
    size_t minalign;
    int failed;     /* out of memory: every later call is a no-op, finish returns NULL */
    /* the table being built */
    size_t tstart;
    uint32_t field_off[FB_MAX_FIELDS];
    int nfields;
} fb_builder;

void fb_init(fb_builder *b);
void fb_free(fb_builder *b);

fb_ref fb_string(fb_builder *b, const char *s, size_t n);
/* A vector of n elements of elem bytes each (already little-endian), aligned to align. */
fb_ref fb_vector(fb_builder *b, const void *data, size_t n, size_t elem, size_t align);
/* A vector of offsets to objects (tables or strings). */
fb_ref fb_vector_refs(fb_builder *b, const fb_ref *refs, size_t n);

void fb_table_start(fb_builder *b);
void fb_add_u8(fb_builder *b, int field, uint8_t v);
void fb_add_i16(fb_builder *b, int field, int16_t v);
void fb_add_i32(fb_builder *b, int field, int32_t v);
void fb_add_i64(fb_builder *b, int field, int64_t v);
void fb_add_ref(fb_builder *b, int field, fb_ref r);
fb_ref fb_table_end(fb_builder *b);

/* Writes the root offset; returns the finished bytes (borrowed from b) and their length,
 * which is a multiple of 8. NULL when out of memory. */
const uint8_t *fb_finish(fb_builder *b, fb_ref root, size_t *out_len);

/* --- reading (bounds-checked; every accessor returns 0/NULL on a bad offset) ------------- */
typedef struct fb_table {
    const uint8_t *buf;
    size_t len;
    size_t pos;     /* table start; 0 means absent */
    size_t vt;      /* vtable start */
    size_t vtlen;   /* vtable length in bytes */
} fb_table;

/* Verifies and opens the root table of buf; 0 on success, -1 if malformed. */
int fb_root(const uint8_t *buf, size_t len, fb_table *out);
/* Field's absolute offset within buf, or 0 when absent; the field's bytes
 * [off, off+size) are checked to be inside the buffer and aligned. */
size_t fb_field(const fb_table *t, int field, size_t size);
int64_t fb_get_int(const fb_table *t, int field, size_t size, int64_t def);
/* Child table at an offset field; -1 if malformed, 0 and out->pos == 0 if absent. */
int fb_get_table(const fb_table *t, int field, fb_table *out);
/* Vector field: *out_data and *out_n; -1 if malformed; absent gives n == 0. */
int fb_get_vector(const fb_table *t, int field, size_t elem, const uint8_t **out_data,
                  uint32_t *out_n);
/* i-th table of a vector of tables. */
int fb_vector_table(const fb_table *t, const uint8_t *vec, uint32_t i, fb_table *out);
/* String field; NULL when absent or malformed (*out_bad set for malformed). */
const char *fb_get_string(const fb_table *t, int field, uint32_t *out_len, int *out_bad);
#endif
