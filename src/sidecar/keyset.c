/* keyset.c — which primary keys the OLAP table holds, as 62-bit hashes of normalised key
 * values, so a polled row can be labelled INSERT (key surely absent: DuckDB appends it
 * directly) or UPDATE (present, or unsure: DuckDB replaces it by key). A hash collision can
 * only turn an INSERT into an UPDATE, which is always correct, so the set never needs the
 * keys themselves. A deleted key keeps its slot, marked: two keys sharing a hash must never
 * make a present key look absent. Costs 8 bytes per slot, at most half the slots used. */
#include "sidecar_int.h"
#include "mem.h"
#include "value.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define SLOT_USED 1u
#define SLOT_DELETED 2u
#define HASH_MASK (~(uint64_t)3)

static uint64_t mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    return h ^ (h >> 29);
}

static uint64_t mix_bytes(uint64_t h, const char *s, size_t n)
{
    uint64_t w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        h = mix(h, w);
    }
    w = 0;
    memcpy(&w, s + i, n - i);
    return mix(mix(h, w), n);
}

static __int128 pow10_128(int k)
{
    __int128 v = 1;
    while (k-- > 0)
        v *= 10;
    return v;
}

/* A DECIMAL value as its integer at the column's scale, so "5", "5.0" and 5 are one key. */
static int decimal_of(const rhei__colspec *c, const rhei_value *v, __int128 *out)
{
    char buf[512];
    int scale = c->precision < 1 ? 3 : c->scale;
    switch (v->type) {
    case RHEI_TYPE_INTEGER:
    case RHEI_TYPE_BOOLEAN:
        *out = (__int128)v->i * pow10_128(scale);
        return 0;
    case RHEI_TYPE_REAL:
        if (!isfinite(v->f))
            return -1;
        snprintf(buf, sizeof buf, "%.*f", scale, v->f);
        return rhei__decimal_parse(buf, strlen(buf), scale, out);
    case RHEI_TYPE_DECIMAL:
    case RHEI_TYPE_TEXT:
        return rhei__decimal_parse(v->s, v->n, scale, out);
    default:
        return -1;
    }
}

static uint64_t part_hash(uint64_t h, const rhei__colspec *c, const rhei_value *v)
{
    __int128 d;
    if (v->type == RHEI_TYPE_NULL)
        return mix(h, 0);
    if (c->type == RHEI_TYPE_DECIMAL && decimal_of(c, v, &d) == 0)
        return mix(mix(mix(h, 4), (uint64_t)(unsigned __int128)d),
                   (uint64_t)((unsigned __int128)d >> 64));
    if (c->type == RHEI_TYPE_REAL || v->type == RHEI_TYPE_REAL) {
        double f = v->type == RHEI_TYPE_REAL ? v->f : (double)v->i;
        uint64_t bits;
        f = f == 0 ? 0.0 : f; /* -0.0 and 0.0 are one key */
        memcpy(&bits, &f, sizeof bits);
        return mix(mix(h, 2), bits);
    }
    if (v->type == RHEI_TYPE_TEXT || v->type == RHEI_TYPE_BLOB || v->type == RHEI_TYPE_DECIMAL)
        return mix_bytes(mix(h, 3), v->s ? v->s : "", v->n);
    return mix(mix(h, 1), (uint64_t)v->i);
}

uint64_t rhei__sc_key_hash(const rhei__table *shape, const rhei_value *key)
{
    uint64_t h = 0x243F6A8885A308D3ull;
    for (size_t k = 0; k < shape->npk; k++)
        h = part_hash(h, &shape->cols[shape->pk_idx[k]], &key[k]);
    return (h & HASH_MASK) | SLOT_USED;
}

uint64_t rhei__sc_row_hash(const rhei__table *shape, const rhei_value *row)
{
    uint64_t h = 0x243F6A8885A308D3ull;
    for (size_t k = 0; k < shape->npk; k++)
        h = part_hash(h, &shape->cols[shape->pk_idx[k]], &row[shape->pk_idx[k]]);
    return (h & HASH_MASK) | SLOT_USED;
}

void rhei__keyset_free(rhei__keyset *ks)
{
    rhei__free(ks->slot);
    memset(ks, 0, sizeof *ks);
}

void rhei__keyset_clear(rhei__keyset *ks)
{
    if (ks->slot)
        memset(ks->slot, 0, ks->cap * sizeof *ks->slot);
    ks->n = 0;
}

static uint64_t *find(const rhei__keyset *ks, uint64_t h)
{
    size_t i = (size_t)(h >> 2) & (ks->cap - 1);
    while (ks->slot[i] && (ks->slot[i] & HASH_MASK) != (h & HASH_MASK))
        i = (i + 1) & (ks->cap - 1);
    return &ks->slot[i];
}

static int grow(rhei__keyset *ks)
{
    size_t cap = ks->cap ? ks->cap * 2 : 1024;
    uint64_t *old = ks->slot;
    size_t oldcap = ks->cap;
    if (cap > SIZE_MAX / sizeof *old || !(ks->slot = rhei__calloc(cap, sizeof *old))) {
        ks->slot = old;
        return -1;
    }
    ks->cap = cap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i])
            *find(ks, old[i]) = old[i];
    rhei__free(old);
    return 0;
}

int rhei__keyset_state(const rhei__keyset *ks, uint64_t h)
{
    if (!ks->cap)
        return RHEI__KEY_ABSENT;
    uint64_t s = *find(ks, h);
    return !s ? RHEI__KEY_ABSENT : (s & SLOT_DELETED) ? RHEI__KEY_DELETED : RHEI__KEY_PRESENT;
}

int rhei__keyset_set(rhei__keyset *ks, uint64_t h, int present)
{
    if ((ks->n + 1) * 2 > ks->cap && grow(ks))
        return RHEI_NOMEM;
    uint64_t *s = find(ks, h);
    if (!*s) {
        if (!present)
            return RHEI_OK; /* never known: nothing to remember */
        ks->n++;
    }
    *s = (h & HASH_MASK) | SLOT_USED | (present ? 0 : SLOT_DELETED);
    return RHEI_OK;
}
