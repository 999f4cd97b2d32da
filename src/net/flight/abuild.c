/* abuild.c — the array builder declared in abuild.h. Buffers grow geometrically; exported
 * nodes take the column's buffers with them, so a built column is used once. */
#include "abuild.h"
#include <stdlib.h>
#include <string.h>

static void *grow(ab_col *c, void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap || c->oom)
        return c->oom ? p : p;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *q = realloc(p, n * elem);
    if (!q) {
        c->oom = 1;
        return p;
    }
    memset((char *)q + *cap * elem, 0, (n - *cap) * elem);
    *cap = n;
    return q;
}

void ab_init(ab_col *c, const char *format, const char *name, int nullable, int nkids)
{
    memset(c, 0, sizeof *c);
    c->format = format;
    c->name = name;
    c->nullable = nullable;
    c->nkids = nkids;
    if (nkids && !(c->kids = calloc((size_t)nkids, sizeof *c->kids)))
        c->oom = 1;
    if (!strcmp(format, "u") || !strcmp(format, "z") || !strcmp(format, "+l") ||
        !strcmp(format, "+m")) {
        c->offs = grow(c, c->offs, &c->offs_cap, 1, 4);
        if (!c->oom)
            c->offs_len = 1;
    }
}

void ab_free(ab_col *c)
{
    for (int i = 0; c->kids && i < c->nkids; i++)
        ab_free(&c->kids[i]);
    free(c->kids);
    free(c->valid);
    free(c->data);
    free(c->offs);
    free(c->metadata);
    memset(c, 0, sizeof *c);
}

/* Marks the next row valid (1) or null (0) and counts it. */
static void row(ab_col *c, int valid)
{
    c->valid = grow(c, c->valid, &c->valid_cap, (size_t)(c->length / 8 + 1), 1);
    if (c->oom)
        return;
    if (valid)
        c->valid[c->length / 8] |= (uint8_t)(1u << (c->length % 8));
    else
        c->nulls++;
    c->length++;
}

static void put(ab_col *c, const void *p, size_t n)
{
    c->data = grow(c, c->data, &c->data_cap, c->data_len + n, 1);
    if (c->oom)
        return;
    memcpy(c->data + c->data_len, p, n);
    c->data_len += n;
}

static void put_off(ab_col *c, int32_t v)
{
    c->offs = grow(c, c->offs, &c->offs_cap, c->offs_len + 1, 4);
    if (!c->oom)
        c->offs[c->offs_len++] = v;
}

void ab_null(ab_col *c)
{
    const char *f = c->format;
    int64_t zero = 0;
    if (!strcmp(f, "u") || !strcmp(f, "z"))
        put_off(c, (int32_t)c->data_len);
    else if (!strcmp(f, "+l") || !strcmp(f, "+m"))
        put_off(c, (int32_t)c->kids[0].length);
    else if (!strcmp(f, "b"))
        c->data = grow(c, c->data, &c->data_cap, (size_t)(c->length / 8 + 1), 1);
    else
        put(c, &zero, !strcmp(f, "i") ? 4 : !strcmp(f, "l") ? 8 : !strcmp(f, "I") ? 4 : 1);
    row(c, 0);
}

void ab_str(ab_col *c, const void *s, size_t n)
{
    if (!s) {
        ab_null(c);
        return;
    }
    put(c, s, n);
    put_off(c, (int32_t)c->data_len);
    row(c, 1);
}

void ab_cstr(ab_col *c, const char *s) { ab_str(c, s, s ? strlen(s) : 0); }
void ab_i32(ab_col *c, int32_t v) { put(c, &v, 4), row(c, 1); }
void ab_i64(ab_col *c, int64_t v) { put(c, &v, 8), row(c, 1); }
void ab_u32(ab_col *c, uint32_t v) { put(c, &v, 4), row(c, 1); }
void ab_u8(ab_col *c, uint8_t v) { put(c, &v, 1), row(c, 1); }

void ab_bool(ab_col *c, int v)
{
    c->data = grow(c, c->data, &c->data_cap, (size_t)(c->length / 8 + 1), 1);
    if (!c->oom && v)
        c->data[c->length / 8] |= (uint8_t)(1u << (c->length % 8));
    row(c, 1);
}

void ab_list_end(ab_col *c)
{
    put_off(c, (int32_t)c->kids[0].length);
    row(c, 1);
}

void ab_union(ab_col *c, int8_t type)
{
    put(c, &type, 1);
    put_off(c, (int32_t)c->kids[type].length);
    c->length++;
}

void ab_metadata(ab_col *c, const char *const *kv)
{
    int32_t n = 0;
    size_t bytes = 4;
    for (const char *const *p = kv; p[0]; p += 2, n++)
        bytes += 8 + strlen(p[0]) + strlen(p[1]);
    char *m = malloc(bytes), *at = m + 4;
    if (!m) {
        c->oom = 1;
        return;
    }
    memcpy(m, &n, 4);
    for (const char *const *p = kv; p[0]; p++) {
        int32_t l = (int32_t)strlen(p[0]);
        memcpy(at, &l, 4);
        memcpy(at + 4, p[0], (size_t)l);
        at += 4 + l;
    }
    free(c->metadata);
    c->metadata = m;
}

/* --- export ----------------------------------------------------------------------------- */

typedef struct node {
    void *mem[3];
    const void *bufs[3];
    struct ArrowArray *kids, **kidp;
    struct ArrowSchema *skids, **skidp;
    char *metadata;
} node;

static void node_free(node *n)
{
    for (int i = 0; i < 3; i++)
        free(n->mem[i]);
    free(n->kids);
    free(n->kidp);
    free(n->skids);
    free(n->skidp);
    free(n->metadata);
    free(n);
}

static void array_release(struct ArrowArray *a)
{
    node *n = a->private_data;
    for (int64_t i = 0; i < a->n_children; i++)
        if (a->children[i]->release)
            a->children[i]->release(a->children[i]);
    node_free(n);
    a->release = NULL;
}

static void schema_release(struct ArrowSchema *s)
{
    node *n = s->private_data;
    for (int64_t i = 0; i < s->n_children; i++)
        if (s->children[i]->release)
            s->children[i]->release(s->children[i]);
    node_free(n);
    s->release = NULL;
}

static int export_col(ab_col *c, struct ArrowSchema *s, struct ArrowArray *a);

/* Children of a node: allocated arrays of structs plus pointer arrays. */
static int export_kids(ab_col *kids, int nkids, node *an, node *sn, struct ArrowSchema *s,
                       struct ArrowArray *a)
{
    if (!nkids)
        return 0;
    an->kids = calloc((size_t)nkids, sizeof *an->kids);
    an->kidp = calloc((size_t)nkids, sizeof *an->kidp);
    sn->skids = calloc((size_t)nkids, sizeof *sn->skids);
    sn->skidp = calloc((size_t)nkids, sizeof *sn->skidp);
    if (!an->kids || !an->kidp || !sn->skids || !sn->skidp)
        return -1;
    a->children = an->kidp;
    s->children = sn->skidp;
    for (int i = 0; i < nkids; i++) {
        an->kidp[i] = &an->kids[i];
        sn->skidp[i] = &sn->skids[i];
        if (export_col(&kids[i], &sn->skids[i], &an->kids[i]))
            return -1;
        a->n_children = s->n_children = i + 1;
    }
    return 0;
}

static int export_col(ab_col *c, struct ArrowSchema *s, struct ArrowArray *a)
{
    node *an = calloc(1, sizeof *an), *sn = calloc(1, sizeof *sn);
    memset(s, 0, sizeof *s);
    memset(a, 0, sizeof *a);
    if (!an || !sn) {
        free(an);
        free(sn);
        return -1;
    }
    s->format = c->format;
    s->name = c->name;
    s->flags = c->nullable ? ARROW_FLAG_NULLABLE : 0;
    s->metadata = sn->metadata = c->metadata;
    s->private_data = sn;
    s->release = schema_release;
    a->private_data = an;
    a->release = array_release;
    a->buffers = an->bufs;
    a->length = c->length;
    a->null_count = c->nulls;
    int is_union = c->format[0] == '+' && c->format[1] == 'u';
    /* C Data buffers: unions [type ids, offsets]; others [validity, offsets|data, data] */
    an->mem[0] = is_union ? c->data : c->valid;
    an->mem[1] = is_union ? (void *)c->offs : (c->offs ? (void *)c->offs : c->data);
    an->mem[2] = is_union ? NULL : (c->offs ? c->data : NULL);
    if (is_union) {
        free(c->valid);
        a->n_buffers = 2;
    } else {
        a->n_buffers = !strcmp(c->format, "u") || !strcmp(c->format, "z") ? 3
                       : c->format[0] == '+' && c->format[1] != 'l' && c->format[1] != 'm' ? 1 : 2;
        if (a->n_buffers == 1)
            free(an->mem[1]), an->mem[1] = NULL;
    }
    for (int i = 0; i < 3; i++)
        an->bufs[i] = an->mem[i];
    c->valid = c->data = NULL;
    c->offs = NULL;
    c->metadata = NULL;
    return export_kids(c->kids, c->nkids, an, sn, s, a);
}

int ab_export(ab_col *cols, int ncols, int64_t nrows, struct ArrowSchema *sc,
              struct ArrowArray *a)
{
    int oom = 0;
    for (int i = 0; i < ncols; i++)
        oom |= cols[i].oom;
    ab_col top;
    memset(&top, 0, sizeof top);
    top.format = "+s";
    top.name = "";
    top.length = nrows;
    top.kids = cols;
    top.nkids = ncols;
    if (oom || export_col(&top, sc, a)) {
        if (sc->release)
            sc->release(sc);
        if (a->release)
            a->release(a);
        return -1;
    }
    return 0;
}
