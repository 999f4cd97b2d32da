/* abuild.h — a small Arrow array builder for the results the server makes itself (metadata
 * listings, SqlInfo): utf8/binary, int32/int64/uint32/uint8, bool, list<utf8>, map and dense
 * union columns, exported through the C Data Interface (each node owns its buffers and frees
 * them in its release callback). Out of memory is sticky: ab_export then fails. */
#ifndef RHEI_NET_ABUILD_H
#define RHEI_NET_ABUILD_H
#include "rhei.h"
#include <stddef.h>
#include <stdint.h>

typedef struct ab_col {
    const char *format, *name; /* static strings */
    int nullable;
    char *metadata;            /* C Data encoded key/values (owned) or NULL */
    uint8_t *valid;
    size_t valid_cap;
    uint8_t *data;             /* fixed-width values, bool bits, string bytes, union type ids */
    size_t data_len, data_cap;
    int32_t *offs;             /* utf8/binary/list offsets (n+1) or dense union offsets (n) */
    size_t offs_len, offs_cap;
    int64_t length, nulls;
    struct ab_col *kids;
    int nkids;
    int oom;
} ab_col;

void ab_init(ab_col *c, const char *format, const char *name, int nullable, int nkids);
void ab_free(ab_col *c);
void ab_null(ab_col *c);
void ab_str(ab_col *c, const void *s, size_t n);  /* utf8 or binary; s == NULL: null */
void ab_cstr(ab_col *c, const char *s);           /* NULL: null */
void ab_i32(ab_col *c, int32_t v);
void ab_i64(ab_col *c, int64_t v);
void ab_u32(ab_col *c, uint32_t v);
void ab_u8(ab_col *c, uint8_t v);
void ab_bool(ab_col *c, int v);
/* Lists and maps: append the items to kids[0], then close the row. */
void ab_list_end(ab_col *c);
/* Dense union: selects the child for the next row; append the value to kids[type] next. */
void ab_union(ab_col *c, int8_t type);
/* Field metadata from NULL-terminated key, value pairs. */
void ab_metadata(ab_col *c, const char *const *kv);

/* Moves ncols columns of nrows into a struct schema and batch. Returns 0 or -1 (OOM). */
int ab_export(ab_col *cols, int ncols, int64_t nrows, struct ArrowSchema *sc,
              struct ArrowArray *a);
#endif
