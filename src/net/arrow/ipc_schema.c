/* ipc_schema.c — Arrow C Data format strings to IPC Schema messages (Field/Type tables),
 * and the message envelope shared with ipc_write.c. Only non-default fields are written,
 * as Arrow C++ does: arrow-rs verifies encapsulated schemas at an offset where an explicit
 * 8-byte default would be misaligned. */
#include "ipc_int.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ipc_fail(char *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err)
        vsnprintf(err, IPC_ERR_MAX, fmt, ap);
    va_end(ap);
    return -1;
}

/* Parses "d:p,s[,bw]" into precision, scale and bit width. */
static int parse_decimal(const char *f, int *p, int *s, int *bw)
{
    *bw = 128;
    int n = sscanf(f + 2, "%d,%d,%d", p, s, bw);
    return n >= 2 ? 0 : -1;
}

static int time_unit(char c)
{
    switch (c) {
    case 's': return 0;
    case 'm': return 1;
    case 'u': return 2;
    case 'n': return 3;
    default: return -1;
    }
}

/* Builds the Type table of format f; sets *type_id (Type union tag). */
static int build_type(fb_builder *b, const struct ArrowSchema *s, uint8_t *type_id, fb_ref *out,
                      char *err)
{
    const char *f = s->format;
    int bits = 0, sign = 1, fp = -1;
    switch (f[0]) {
    case 'c': bits = 8; break;
    case 'C': bits = 8, sign = 0; break;
    case 's': bits = 16; break;
    case 'S': bits = 16, sign = 0; break;
    case 'i': bits = 32; break;
    case 'I': bits = 32, sign = 0; break;
    case 'l': bits = 64; break;
    case 'L': bits = 64, sign = 0; break;
    case 'e': fp = 0; break;
    case 'f': fp = 1; break;
    case 'g': fp = 2; break;
    default: break;
    }
    if (f[1] == '\0' && bits) {
        fb_table_start(b);
        fb_add_i32(b, 0, bits);
        if (sign)
            fb_add_u8(b, 1, 1);
        *type_id = IPC_T_INT;
    } else if (f[1] == '\0' && fp >= 0) {
        fb_table_start(b);
        if (fp)
            fb_add_i16(b, 0, (int16_t)fp);
        *type_id = IPC_T_FLOAT;
    } else if (strcmp(f, "n") == 0 || strcmp(f, "b") == 0 || strcmp(f, "z") == 0 ||
               strcmp(f, "u") == 0 || strcmp(f, "Z") == 0 || strcmp(f, "U") == 0 ||
               strcmp(f, "+l") == 0 || strcmp(f, "+L") == 0 || strcmp(f, "+s") == 0) {
        static const struct { const char *f; uint8_t t; } empty[] = {
            {"n", IPC_T_NULL}, {"b", IPC_T_BOOL}, {"z", IPC_T_BINARY}, {"u", IPC_T_UTF8},
            {"Z", IPC_T_LARGE_BINARY}, {"U", IPC_T_LARGE_UTF8}, {"+l", IPC_T_LIST},
            {"+L", IPC_T_LARGE_LIST}, {"+s", IPC_T_STRUCT}};
        for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++)
            if (strcmp(f, empty[i].f) == 0)
                *type_id = empty[i].t;
        fb_table_start(b);
    } else if (f[0] == 'd' && f[1] == ':') {
        int p, sc, bw;
        if (parse_decimal(f, &p, &sc, &bw))
            return ipc_fail(err, "bad decimal format '%s'", f);
        fb_table_start(b);
        fb_add_i32(b, 0, p);
        if (sc)
            fb_add_i32(b, 1, sc);
        if (bw != 128)
            fb_add_i32(b, 2, bw);
        *type_id = IPC_T_DECIMAL;
    } else if (f[0] == 'w' && f[1] == ':') {
        fb_table_start(b);
        fb_add_i32(b, 0, atoi(f + 2));
        *type_id = IPC_T_FIXED_BINARY;
    } else if (f[0] == '+' && f[1] == 'w' && f[2] == ':') {
        fb_table_start(b);
        fb_add_i32(b, 0, atoi(f + 3));
        *type_id = IPC_T_FIXED_LIST;
    } else if (strcmp(f, "+m") == 0) {
        fb_table_start(b);
        if (s->flags & ARROW_FLAG_MAP_KEYS_SORTED)
            fb_add_u8(b, 0, 1);
        *type_id = IPC_T_MAP;
    } else if (f[0] == '+' && f[1] == 'u' && (f[2] == 'd' || f[2] == 's') && f[3] == ':') {
        int32_t ids[128];
        size_t n = 0;
        for (const char *p = f + 4; *p && n < 128;) {
            ids[n++] = (int32_t)strtol(p, (char **)&p, 10);
            if (*p == ',')
                p++;
        }
        fb_ref v = fb_vector(b, ids, n, 4, 4);
        fb_table_start(b);
        if (f[2] == 'd')
            fb_add_i16(b, 0, 1);
        fb_add_ref(b, 1, v);
        *type_id = IPC_T_UNION;
    } else if (f[0] == 't' && f[1] == 'd' && (f[2] == 'D' || f[2] == 'm') && !f[3]) {
        fb_table_start(b);
        if (f[2] == 'D')
            fb_add_i16(b, 0, 0); /* DAY: the default is MILLISECOND, so DAY is written */
        *type_id = IPC_T_DATE;
    } else if (f[0] == 't' && f[1] == 't' && time_unit(f[2]) >= 0 && !f[3]) {
        int u = time_unit(f[2]);
        fb_table_start(b);
        if (u != 1)
            fb_add_i16(b, 0, (int16_t)u);
        if (u >= 2)
            fb_add_i32(b, 1, 64);
        *type_id = IPC_T_TIME;
    } else if (f[0] == 't' && f[1] == 's' && time_unit(f[2]) >= 0 && f[3] == ':') {
        fb_ref tz = 0;
        if (f[4])
            tz = fb_string(b, f + 4, strlen(f + 4));
        fb_table_start(b);
        if (time_unit(f[2]))
            fb_add_i16(b, 0, (int16_t)time_unit(f[2]));
        if (tz)
            fb_add_ref(b, 1, tz);
        *type_id = IPC_T_TIMESTAMP;
    } else if (f[0] == 't' && f[1] == 'D' && time_unit(f[2]) >= 0 && !f[3]) {
        fb_table_start(b);
        if (time_unit(f[2]) != 1)
            fb_add_i16(b, 0, (int16_t)time_unit(f[2]));
        *type_id = IPC_T_DURATION;
    } else if (f[0] == 't' && f[1] == 'i' && (f[2] == 'M' || f[2] == 'D' || f[2] == 'n') && !f[3]) {
        fb_table_start(b);
        int u = f[2] == 'M' ? 0 : f[2] == 'D' ? 1 : 2;
        if (u)
            fb_add_i16(b, 0, (int16_t)u);
        *type_id = IPC_T_INTERVAL;
    } else {
        return ipc_fail(err, "arrow type '%s' is not supported by the ipc writer", f);
    }
    *out = fb_table_end(b);
    return 0;
}

/* The C Data metadata encoding (int32 count, then int32-prefixed key and value) as a
 * KeyValue vector; 0 when there is none. */
static int build_metadata(fb_builder *b, const char *md, fb_ref *out, char *err)
{
    *out = 0;
    if (!md)
        return 0;
    int32_t n;
    memcpy(&n, md, 4);
    if (n <= 0 || n > 4096)
        return n == 0 ? 0 : ipc_fail(err, "bad field metadata%s", "");
    fb_ref *kv = calloc((size_t)n, sizeof *kv);
    if (!kv)
        return ipc_fail(err, "out of memory%s", "");
    const char *p = md + 4;
    for (int32_t i = 0; i < n; i++) {
        int32_t kl, vl;
        memcpy(&kl, p, 4);
        const char *k = p + 4;
        memcpy(&vl, k + kl, 4);
        const char *v = k + kl + 4;
        p = v + vl;
        fb_ref ks = fb_string(b, k, (size_t)kl), vs = fb_string(b, v, (size_t)vl);
        fb_table_start(b);
        fb_add_ref(b, 0, ks);
        fb_add_ref(b, 1, vs);
        kv[i] = fb_table_end(b);
    }
    *out = fb_vector_refs(b, kv, (size_t)n);
    free(kv);
    return 0;
}

static int build_field(fb_builder *b, const struct ArrowSchema *s, int depth, fb_ref *out,
                       char *err)
{
    if (depth > IPC_MAX_DEPTH)
        return ipc_fail(err, "type nesting deeper than %s levels", "64");
    if (!s || !s->format)
        return ipc_fail(err, "schema without a format%s", "");
    if (s->dictionary)
        return ipc_fail(err, "dictionary-encoded column '%s' is not supported", s->name);
    fb_ref kids = 0, md = 0, type = 0, name = 0;
    fb_ref *refs = NULL;
    if (s->n_children > 0) {
        refs = calloc((size_t)s->n_children, sizeof *refs);
        if (!refs)
            return ipc_fail(err, "out of memory%s", "");
        for (int64_t i = 0; i < s->n_children; i++)
            if (build_field(b, s->children[i], depth + 1, &refs[i], err)) {
                free(refs);
                return -1;
            }
    }
    kids = fb_vector_refs(b, refs, (size_t)(s->n_children > 0 ? s->n_children : 0));
    free(refs);
    uint8_t type_id = 0;
    if (build_type(b, s, &type_id, &type, err) || build_metadata(b, s->metadata, &md, err))
        return -1;
    if (s->name && s->name[0])
        name = fb_string(b, s->name, strlen(s->name));
    fb_table_start(b);
    if (name)
        fb_add_ref(b, 0, name);
    if (s->flags & ARROW_FLAG_NULLABLE)
        fb_add_u8(b, 1, 1);
    fb_add_u8(b, 2, type_id);
    fb_add_ref(b, 3, type);
    fb_add_ref(b, 5, kids);
    if (md)
        fb_add_ref(b, 6, md);
    *out = fb_table_end(b);
    return 0;
}

int ipc_finish_message(fb_builder *b, uint8_t header_type, fb_ref header, int64_t body_len,
                       ipc_msg *out, char *err)
{
    fb_table_start(b);
    fb_add_i16(b, 0, 4); /* MetadataVersion V5 */
    fb_add_u8(b, 1, header_type);
    fb_add_ref(b, 2, header);
    if (body_len)
        fb_add_i64(b, 3, body_len);
    fb_ref msg = fb_table_end(b);
    size_t n = 0;
    const uint8_t *bytes = fb_finish(b, msg, &n);
    if (!bytes || !(out->meta = malloc(n)))
        return ipc_fail(err, "out of memory%s", "");
    memcpy(out->meta, bytes, n);
    out->meta_len = n;
    return 0;
}

int ipc_schema_msg(const struct ArrowSchema *schema, ipc_msg *out, char *err)
{
    memset(out, 0, sizeof *out);
    if (!schema || !schema->format || strcmp(schema->format, "+s") != 0)
        return ipc_fail(err, "a record batch schema must be a struct%s", "");
    fb_builder b;
    fb_init(&b);
    int rc = -1;
    fb_ref *refs = calloc((size_t)schema->n_children + 1, sizeof *refs);
    if (!refs) {
        ipc_fail(err, "out of memory%s", "");
        goto done;
    }
    for (int64_t i = 0; i < schema->n_children; i++)
        if (build_field(&b, schema->children[i], 1, &refs[i], err))
            goto done;
    fb_ref fields = fb_vector_refs(&b, refs, (size_t)schema->n_children), md = 0;
    if (build_metadata(&b, schema->metadata, &md, err))
        goto done;
    fb_table_start(&b);
    fb_add_ref(&b, 1, fields);
    if (md)
        fb_add_ref(&b, 2, md);
    fb_ref s = fb_table_end(&b);
    rc = ipc_finish_message(&b, IPC_MSG_SCHEMA, s, 0, out, err);
done:
    free(refs);
    fb_free(&b);
    return rc;
}

int ipc_encapsulate(const ipc_msg *m, uint8_t **out, size_t *out_len)
{
    size_t n = 8 + m->meta_len + m->body_len;
    uint8_t *p = malloc(n);
    *out = NULL;
    if (!p)
        return -1;
    uint32_t cont = 0xFFFFFFFFu, len = (uint32_t)m->meta_len;
    memcpy(p, &cont, 4);
    memcpy(p + 4, &len, 4);
    memcpy(p + 8, m->meta, m->meta_len);
    size_t at = 8 + m->meta_len;
    for (size_t i = 0; i < m->npieces; i++) {
        if (m->pieces[i].n)
            memcpy(p + at, m->pieces[i].p, m->pieces[i].n);
        at += m->pieces[i].n;
    }
    *out = p;
    *out_len = n;
    return 0;
}

void ipc_msg_free(ipc_msg *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nowned; i++)
        free(m->owned[i]);
    free(m->owned);
    free(m->pieces);
    free(m->meta);
    memset(m, 0, sizeof *m);
}
