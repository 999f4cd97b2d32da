/* fuzz_route.c — fuzz target for the router (src/route): any byte string must classify without
 * crashing or reading outside its bytes, answer deterministically, and never route a write to
 * OLAP. Not built by default. Run from the repository root:
 *
 * libFuzzer (clang):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc/route -Isrc/core \
 *       src/route/*.c src/core/buf.c src/core/mem.c src/core/err.c tests/route/fuzz_route.c \
 *       -o /tmp/fuzz_route
 *   /tmp/fuzz_route -max_total_time=60 -max_len=4096
 *
 * Standalone (any C compiler; CI runs it for a bounded time):
 *   gcc -std=gnu11 -g -O1 -fsanitize=address,undefined -DRHEI_FUZZ_STANDALONE -Iinclude \
 *       -Isrc/route -Isrc/core src/route/*.c src/core/buf.c src/core/mem.c src/core/err.c \
 *       tests/route/fuzz_route.c -o /tmp/fuzz_route
 *   /tmp/fuzz_route -t 60 [-s seed] [file...]   (files: run each once; else random inputs)
 */
#include "rhei.h"
#include "route.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const known_reasons[] = {"empty",
                                            "write",
                                            "ddl",
                                            "transaction control",
                                            "pragma",
                                            "maintenance",
                                            "attach",
                                            "command",
                                            "unknown statement",
                                            "multiple statements",
                                            "too complex",
                                            "explain query plan",
                                            "table not replicated",
                                            "sqlite function",
                                            "no table",
                                            "sqlite syntax",
                                            "point lookup",
                                            "simple filter",
                                            "limited scan",
                                            "olap function",
                                            "aggregate",
                                            "group by",
                                            "having",
                                            "window function",
                                            "distinct",
                                            "join",
                                            "subquery",
                                            "cte",
                                            "set operation",
                                            "full scan sort",
                                            "full scan",
                                            "duckdb dialect",
                                            "unindexed filter on a large table",
                                            "index serves it",
                                            "index serves DISTINCT",
                                            "sqlite semantics: % converts operands to INTEGER",
                                            "sqlite semantics: -> and ->> are sqlite json",
                                            "sqlite semantics: / divides as each value's type",
                                            "sqlite semantics: CAST converts as sqlite does",
                                            "sqlite semantics: CAST to INTEGER truncates",
                                            "sqlite semantics: COLLATE",
                                            "sqlite semantics: GLOB, REGEXP and MATCH",
                                            "sqlite semantics: IS compares any two values",
                                            "sqlite semantics: LIKE is ASCII case-insensitive",
                                            "sqlite semantics: X'..' is a blob only in sqlite",
                                            "sqlite semantics: bitwise operator",
                                            "sqlite semantics: function not known to agree",
                                            "sqlite semantics: integer literal",
                                            "sqlite semantics: scalar min/max",
                                            "sqlite semantics: text used as a number",
                                            "sqlite semantics: || formats numbers as sqlite does"};

/* The engine's other answers, varied by the input so both branches of each get explored. */
static int fuzz_compiles(void *ud) { return ud == NULL; }
static int fuzz_plan(void *ud, rhei__route_plan *out)
{
    out->scan_rows = ud == NULL ? 0 : 1000000;
    out->sorts = ud != NULL;
    out->distinct_indexed = 1;
    return 0;
}

/* Replicated unless the name starts with 's', so both answers get explored. */
static int fuzz_replicated(void *ud, const char *table, size_t len)
{
    (void)ud;
    if (table[len] != '\0' || len >= RHEI__ROUTE_MAX_NAME)
        abort();
    return len == 0 || (table[0] != 's' && table[0] != 'S');
}

static void fuzz_fail(const char *what, const uint8_t *data, size_t size)
{
    fprintf(stderr, "fuzz_route: %s on input of %zu bytes: %.*s\n", what, size,
            (int)(size > 300 ? 300 : size), (const char *)data);
    FILE *f = fopen("fuzz_route.fail", "wb"); /* replay: fuzz_route fuzz_route.fail */
    if (f) {
        fwrite(data, 1, size, f);
        fclose(f);
    }
    abort();
}

static void check_info(const rhei_route_info *info, int is_write, const uint8_t *data,
                       size_t size)
{
    size_t k, tlen;
    if (info->side != RHEI_SIDE_OLTP && info->side != RHEI_SIDE_OLAP)
        fuzz_fail("side out of range", data, size);
    for (k = 0; k < sizeof known_reasons / sizeof known_reasons[0]; k++)
        if (info->reason && strcmp(info->reason, known_reasons[k]) == 0)
            break;
    if (k == sizeof known_reasons / sizeof known_reasons[0])
        fuzz_fail("unknown reason", data, size);
    if (memchr(info->table, '\0', sizeof info->table) == NULL)
        fuzz_fail("table not terminated", data, size);
    if (is_write && info->side == RHEI_SIDE_OLAP)
        fuzz_fail("write routed to OLAP", data, size);
    tlen = strlen(info->table);
    if (strcmp(info->reason, "table not replicated") == 0 && tlen < sizeof info->table - 4 &&
        fuzz_replicated(NULL, info->table, tlen))
        fuzz_fail("replicated table reported as not replicated", data, size);
}

/* A column named like d* has NUMERIC affinity; checks the name it is given is in bounds. */
static int fuzz_numeric(void *ud, const char *name, size_t len)
{
    (void)ud;
    return len > 0 && (name[0] == 'd' || name[len - 1] == 'd');
}

static int fuzz_text(void *ud, const char *name, size_t len)
{
    (void)ud;
    return len > 0 && (name[0] == 's' || name[0] == '"');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *sql = (const char *)data;
    rhei__route_ctx ctx = {fuzz_replicated, size % 2 ? (void *)data : NULL,
                           fuzz_compiles,   fuzz_plan,
                           fuzz_numeric,    fuzz_text};
    rhei_route_info a, b;
    int w = rhei__route_is_write_n(sql, size);
    char *copy;
    rhei__route_classify_n(sql, size, &ctx, &a);
    check_info(&a, w, data, size);
    rhei__route_classify_n(sql, size, &ctx, &b);
    if (a.side != b.side || a.reason != b.reason || strcmp(a.table, b.table) != 0 ||
        w != rhei__route_is_write_n(sql, size))
        fuzz_fail("not deterministic", data, size);
    /* the NUL-terminated entry points read up to the first NUL only */
    copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    w = rhei__route_is_write(copy);
    rhei__route_classify(copy, &ctx, &a);
    check_info(&a, w, data, size);
    /* the DuckDB text: any input rewrites without reading past its NUL, into a text with no
     * LIKE left to rewrite (comments between LIKE and its pattern are dropped: only
     * whitespace and comments can be there) */
    char *olap = NULL, *again = NULL;
    if (rhei__route_olap_text(copy, &olap) != RHEI_OK)
        fuzz_fail("rewrite failed", data, size);
    if (olap && (rhei__route_olap_text(olap, &again) != RHEI_OK || again))
        fuzz_fail("rewrite left a LIKE to rewrite", data, size);
    free(again);
    free(olap);
    free(copy);
    return 0;
}

#ifdef RHEI_FUZZ_STANDALONE
#include <time.h>

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static const char *const seeds[] = {
    "SELECT * FROM t WHERE id = ?",
    "SELECT count(*) FROM orders GROUP BY region HAVING count(*) > 1",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r) SELECT * FROM r JOIN s",
    "INSERT OR REPLACE INTO main.\"t x\" VALUES (1, 'a''b', x'00', $$q$$)",
    "SELECT a, rank() OVER (PARTITION BY b ORDER BY c) FROM t, u WHERE a IS NOT DISTINCT FROM b",
    "EXPLAIN QUERY PLAN SELECT * FROM read_csv('f') WHERE x IN (SELECT y FROM [z])",
    "/* c */ -- d\n DELETE FROM t; BEGIN; COMMIT",
    "SELECT max(a, b), min(c) FROM `t` LIMIT 5 OFFSET :o",
    "TABLE t; VALUES (1), (2); PRAGMA x",
    "SELECT E'a\\'b', $tag$ ) ( $tag$, @p, ?12 FROM json_each(?)",
    "SELECT count(*) FROM t WHERE s NOT LIKE 'a!%_''b' ESCAPE '!' AND 100.0 * x / (1 + y) > 2",
};
static const char *const frags[] = {
    "SELECT ", "FROM ",     " t",         " s",      "WHERE ",    "id",       " = ",
    "?",       "(",         ")",          ",",       ";",         "'",        "\"",
    "`",       "[",         "]",          "--",      "/*",        "*/",       "$$",
    "$a$",     "E'",        "\\",         "WITH ",   "AS ",       "JOIN ",    "count(",
    "max(",    "GROUP BY ", "OVER ",      "INSERT ", "INTO ",     "UNION ",   "DISTINCT ",
    "IS ",     "NOT ",      ".",          "main.",   "\xff",      "\xc3\xa9", "1e",
    "0x",      ":a",        "@",          "LIMIT ",  "ORDER BY ", "EXPLAIN ", "QUERY PLAN ",
    "TABLE ",  "read_csv(", "RECURSIVE ", "UPDATE ", "REPLACE ",  " LIKE ",   " ESCAPE ",
    "'%'",     "'_'",       "'a%'",       "1.5 * ",  " / "};
#define NSEEDS (sizeof seeds / sizeof seeds[0])
#define NFRAGS (sizeof frags / sizeof frags[0])
#define GEN_MAX 1024

/* One input: random bytes, random fragments, or a mutated seed statement. */
static size_t generate(char *buf)
{
    size_t len = 0, want = (size_t)(rng() % GEN_MAX);
    int mode = (int)(rng() % 3);
    if (mode == 2) {
        const char *s = seeds[rng() % NSEEDS];
        len = strlen(s);
        memcpy(buf, s, len);
        for (int m = (int)(rng() % 8); m >= 0 && len > 0; m--) {
            size_t at = (size_t)(rng() % len);
            switch (rng() % 4) {
            case 0: buf[at] = (char)rng(); break;          /* flip a byte */
            case 1: len = at; break;                      /* truncate */
            case 2: memmove(buf + at, buf + at + 1, len - at - 1); len--; break;
            default: {                                    /* insert a fragment */
                const char *f = frags[rng() % NFRAGS];
                size_t fl = strlen(f);
                if (len + fl <= GEN_MAX) {
                    memmove(buf + at + fl, buf + at, len - at);
                    memcpy(buf + at, f, fl);
                    len += fl;
                }
            }
            }
        }
        return len;
    }
    while (len < want) {
        if (mode == 0) {
            buf[len++] = (char)rng();
        } else {
            const char *f = frags[rng() % NFRAGS];
            for (size_t j = 0; f[j] && len < want; j++)
                buf[len++] = f[j];
        }
    }
    return len;
}

/* Each input in its own exact-size heap block, so ASan sees any read past its end. */
static void run_one(const char *src, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (!p)
        abort();
    memcpy(p, src, len);
    LLVMFuzzerTestOneInput(p, len);
    free(p);
}

static int run_file(const char *path)
{
    static char buf[1 << 20];
    FILE *f = fopen(path, "rb");
    size_t n;
    if (!f) {
        fprintf(stderr, "fuzz_route: cannot open '%s'\n", path);
        return 1;
    }
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    run_one(buf, n);
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double seconds = 10, start;
    unsigned long long seed = (unsigned long long)time(NULL), iters = 0;
    int i = 1, rc = 0;
    char buf[GEN_MAX + 64];
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: %s [-t seconds] [-s seed] [file...]\n", argv[0]);
            return 2;
        }
    }
    if (i < argc) {
        for (; i < argc; i++)
            rc |= run_file(argv[i]);
        return rc;
    }
    rng_state = seed ? seed : 1;
    fprintf(stderr, "fuzz_route: seed %llu, %.0f s\n", seed, seconds);
    for (start = now(); now() - start < seconds;) {
        for (int k = 0; k < 1000; k++, iters++) {
            size_t len = generate(buf);
            run_one(buf, len);
        }
    }
    fprintf(stderr, "fuzz_route: %llu inputs, no failure\n", iters);
    return 0;
}
#endif
