/* test_same_arrow.c — the streaming Arrow path gives rhei_query's answer. For every query of
 * the same-answer corpus (same_answer.corpus) and each hint, rhei_query_arrow must give the
 * schema (names, formats, flags) and values of rhei_result_to_arrow(rhei_query_ex(...)), the
 * same route side, and fail exactly when rhei_query_ex fails. Row order is compared only
 * where ORDER BY fixes it. Plus the stream's own behaviour: batches coalesced past DuckDB's
 * 2,048-row chunks, the pooled connection held until release, rhei_interrupt mid-stream. */
#include "route/same_answer.h"
#include <errno.h>
#include <string.h>

/* ---- Arrow rows as text ------------------------------------------------------------------ */

typedef struct arows {
    char **keys; /* one text per row: cells joined by \x01 */
    size_t n, cap;
    char schema[2048]; /* names and flags */
    char fmt[64][32];  /* formats, by column */
    int valued[64];    /* the column has a non-NULL value */
    int64_t nc;
} arows;

static int bit(const void *buf, int64_t i)
{
    return buf == NULL || (((const uint8_t *)buf)[i >> 3] >> (i & 7) & 1);
}

/* Appends cell i of child a (format fmt) as text to out. */
static void cell_text(const char *fmt, const struct ArrowArray *a, int64_t i, char *out,
                      size_t n)
{
    int64_t j = i + a->offset;
    if (!bit(a->buffers[0], j)) {
        snprintf(out, n, "N");
        return;
    }
    const void *d = a->buffers[1];
    if (strcmp(fmt, "l") == 0 || strncmp(fmt, "tsu", 3) == 0)
        snprintf(out, n, "%lld", (long long)((const int64_t *)d)[j]);
    else if (strcmp(fmt, "g") == 0)
        snprintf(out, n, "%.12g", ((const double *)d)[j]);
    else if (strcmp(fmt, "tdD") == 0)
        snprintf(out, n, "%d", ((const int32_t *)d)[j]);
    else if (strcmp(fmt, "b") == 0)
        snprintf(out, n, "%d", bit(d, j));
    else if (strncmp(fmt, "d:", 2) == 0) {
        __int128 v;
        memcpy(&v, (const char *)d + 16 * j, 16);
        snprintf(out, n, "%llx:%llx", (unsigned long long)(v >> 64), (unsigned long long)v);
    } else if (strcmp(fmt, "u") == 0 || strcmp(fmt, "z") == 0) {
        const int32_t *off = d;
        const unsigned char *s = a->buffers[2];
        size_t k = 0;
        for (int32_t p = off[j]; p < off[j + 1] && k + 3 < n; p++)
            k += (size_t)snprintf(out + k, n - k, "%02x", s[p]);
        out[k] = '\0';
    } else {
        snprintf(out, n, "?format %s", fmt);
    }
}

/* Reads a whole stream into rows; returns 0, or the get_next error. Releases the stream. */
static int read_stream(struct ArrowArrayStream *st, arows *out, char *err, size_t errn)
{
    struct ArrowSchema sc;
    memset(out, 0, sizeof *out);
    CHECK_INT(st->get_schema(st, &sc), 0);
    size_t at = 0;
    CHECK(sc.n_children <= 64);
    out->nc = sc.n_children;
    for (int64_t c = 0; c < sc.n_children; c++) {
        at += (size_t)snprintf(out->schema + at, sizeof out->schema - at, "%s'%s' %lld",
                               c ? ", " : "", sc.children[c]->name,
                               (long long)sc.children[c]->flags);
        snprintf(out->fmt[c], sizeof out->fmt[c], "%s", sc.children[c]->format);
    }
    int rc = 0;
    for (;;) {
        struct ArrowArray b;
        if ((rc = st->get_next(st, &b))) {
            snprintf(err, errn, "get_next %d: %s", rc, st->get_last_error(st));
            break;
        }
        if (!b.release)
            break;
        CHECK_INT(b.n_children, sc.n_children);
        for (int64_t i = 0; i < b.length; i++) {
            char key[4096], cell[1024];
            size_t k = 0;
            key[0] = '\0';
            for (int64_t c = 0; c < b.n_children && k < sizeof key; c++) {
                cell_text(sc.children[c]->format, b.children[c], i + b.offset, cell,
                          sizeof cell);
                out->valued[c] |= strcmp(cell, "N") != 0;
                k += (size_t)snprintf(key + k, sizeof key - k, "\x01%s", cell);
            }
            if (out->n == out->cap) {
                out->cap = out->cap ? out->cap * 2 : 64;
                out->keys = realloc(out->keys, out->cap * sizeof *out->keys);
                CHECK(out->keys != NULL);
            }
            out->keys[out->n++] = strdup(key);
        }
        b.release(&b);
    }
    sc.release(&sc);
    st->release(st);
    return rc;
}

static void rows_free(arows *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->keys[i]);
    free(r->keys);
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Compares both paths for one query and hint; 0 with why on a difference. */
static int same_arrow(rhei_db *db, const char *sql, rhei_side hint, char *why, size_t n)
{
    rhei_query_opts o = {hint, RHEI_EVENTUAL};
    rhei_result *r = NULL;
    struct ArrowArrayStream sa, sb;
    rhei_route_info ri;
    char err[1024] = "";
    int ra = rhei_query_ex(db, sql, NULL, 0, &o, &r);
    rhei_side side_a = ra ? RHEI_SIDE_AUTO : rhei_result_side(r);
    int exported = ra == RHEI_OK && rhei_result_to_arrow(r, &sa) == RHEI_OK;
    if (ra == RHEI_OK && !exported) {
        /* a value beyond int64 (sum(big)): the result cannot be exported, the stream must not
         * give an answer either (it refuses the value before its first batch) */
        int rb = rhei_query_arrow(db, sql, NULL, 0, &o, &ri, &sb);
        if (rb == RHEI_OK)
            sb.release(&sb);
        return rb == RHEI_OK ? (snprintf(why, n, "the stream answers what rhei_result_to_arrow"
                                         " cannot export"), 0) : 1;
    }
    int rb = rhei_query_arrow(db, sql, NULL, 0, &o, &ri, &sb);
    if (ra || rb) {
        if (ra == RHEI_OK)
            sa.release(&sa);
        if (rb == RHEI_OK)
            sb.release(&sb);
        else
            CHECK(sb.release == NULL);
        if (ra != rb)
            return snprintf(why, n, "rhei_query_ex gives %d, rhei_query_arrow %d (%s)", ra, rb,
                            rhei_errmsg(db)), 0;
        return 1;
    }
    if (ri.side != side_a)
        return sa.release(&sa), sb.release(&sb),
               snprintf(why, n, "served by side %d, the stream by %d", side_a, ri.side), 0;
    arows a, b;
    CHECK_INT(read_stream(&sa, &a, err, sizeof err), 0);
    int ok = read_stream(&sb, &b, err, sizeof err) == 0;
    if (!ok)
        snprintf(why, n, "stream fails: %s", err);
    else if (strcmp(a.schema, b.schema) != 0)
        ok = 0, snprintf(why, n, "schema\n    result: %.900s\n    stream: %.900s", a.schema, b.schema);
    for (int64_t c = 0; ok && c < a.nc; c++)
        /* a column without a value has no SQLite type: rhei_query types it as SQLite would
         * (TEXT), the stream as DuckDB computes it (rhei.h) */
        if (a.valued[c] && strcmp(a.fmt[c], b.fmt[c]) != 0)
            ok = 0, snprintf(why, n, "column %lld: result %s, stream %s", (long long)c,
                             a.fmt[c], b.fmt[c]);
    if (!ok)
        ;
    else if (a.n != b.n)
        ok = 0, snprintf(why, n, "%zu rows, the stream %zu", a.n, b.n);
    if (ok && !sa_ordered(sql)) {
        qsort(a.keys, a.n, sizeof *a.keys, key_cmp);
        qsort(b.keys, b.n, sizeof *b.keys, key_cmp);
    }
    for (size_t i = 0; ok && i < a.n; i++)
        if (strcmp(a.keys[i], b.keys[i]) != 0)
            ok = 0, snprintf(why, n, "row %zu\n    result: %.300s\n    stream: %.300s", i,
                             a.keys[i], b.keys[i]);
    rows_free(&a);
    rows_free(&b);
    return ok;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static void corpus(rhei_side hint)
{
    char dir[64], path[512], line[4096], why[2048];
    const char *src = getenv("RHEI_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/route/same_answer.corpus", src ? src : "..");
    FILE *f = fopen(path, "r");
    if (!f)
        FAIL("cannot open %s", path);
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){0});
    sa_schema(db, 0x5a17e5eedULL);
    int cases = 0, failed = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = trim(line), *bar1, *bar2;
        if (!*p || *p == '#' || !(bar1 = strstr(p, " | ")) || !(bar2 = strstr(bar1 + 3, " | ")))
            continue;
        if (strstr(bar2, "random()"))
            continue; /* two runs, two answers */
        *bar1 = '\0';
        cases++;
        why[0] = '\0';
        if (!same_arrow(db, trim(bar2 + 3), hint, why, sizeof why)) {
            fprintf(stderr, "case '%s': %s\n  %s\n", trim(p), why, trim(bar2 + 3));
            failed++;
        }
    }
    fclose(f);
    fprintf(stderr, "%d cases, hint %d\n", cases, (int)hint);
    CHECK_OK(db, rhei_close(db));
    CHECK_INT(failed, 0);
    CHECK(cases >= 300);
}

TEST(corpus_olap) { corpus(RHEI_SIDE_OLAP); }
TEST(corpus_oltp) { corpus(RHEI_SIDE_OLTP); }
TEST(corpus_auto) { corpus(RHEI_SIDE_AUTO); }
