/* fuzz_toml.c — fuzz target for the TOML reader: any input must parse or fail with a
 * positioned message, never crash, leak or exceed the tree limits.
 *
 * libFuzzer (clang):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc/core \
 *     tests/core/fuzz_toml.c src/core/toml.c src/core/mem.c src/core/buf.c src/core/err.c \
 *     -o fuzz_toml && ./fuzz_toml -max_total_time=60 -max_len=8192
 * Standalone (any C compiler; random and mutated inputs seeded from valid configs):
 *   gcc -std=gnu11 -g -O1 -fsanitize=address,undefined -DRHEI_FUZZ_STANDALONE -Iinclude \
 *     -Isrc/core tests/core/fuzz_toml.c src/core/toml.c src/core/mem.c src/core/buf.c \
 *     src/core/err.c -o fuzz_toml && ./fuzz_toml 60 [seed]
 */
#include "toml.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks the invariants a successful parse promises; aborts (the fuzzer's crash signal)
 * on a violation. Recursion is bounded by the depth it checks. */
static void walk(const rhei__toml *t, int depth)
{
    if (t->depth != depth || depth > RHEI__TOML_MAX_DEPTH || t->count > RHEI__TOML_MAX_ITEMS)
        abort();
    if (t->line < 1 || t->col < 1)
        abort();
    if (t->kind == RHEI__TOML_STRING && (!t->str || t->str[t->len] != '\0' ||
                                         t->len > RHEI__TOML_MAX_STRING))
        abort();
    for (size_t i = 0; i < t->count; i++) {
        const rhei__toml *c = t->items[i];
        if (t->kind == RHEI__TOML_TABLE) {
            if (!c->key || (strlen(c->key) == c->key_len && rhei__toml_get(t, c->key) == NULL))
                abort();
        } else if (c->key) {
            abort();
        }
        walk(c, depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rhei__err e;
    rhei__toml *t = NULL;
    int rc = rhei__toml_parse((const char *)data, size, "fuzz.toml", &t, &e);
    if (rc == RHEI_OK) {
        walk(t, 0);
        const char *s;
        rhei__toml_string(t, "engine.sync_mode", &s);
        rhei__toml_find(t, "sidecar.tables.0.name");
        rhei__toml_free(t);
    } else if (t != NULL || rc != RHEI_CONFIG || strncmp(e.msg, "fuzz.toml:", 10) != 0) {
        abort();
    }
    return 0;
}

#ifdef RHEI_FUZZ_STANDALONE
#include <time.h>

static const char *seeds[] = {
    "# Rhei\n[engine]\noltp_path = \"app.db\"\nolap_path = ':memory:'\nsync_mode = \"history\"\n"
    "sync_interval_ms = 1_000\nbatch_size = +100000\nread_pool_size = 4\nsynchronous = 'full'\n"
    "olap_threads = 0\nolap_memory_limit = \"2GB\"\nbusy_timeout_ms = 5000\n",
    "[sidecar]\nsource = \"postgresql://u@h/db\"\npoll = 1.5e3\n[[sidecar.tables]]\n"
    "name = 'orders'\nkeys = [\"id\", 'sku',]\n[sidecar.tables.opts]\nx = 0x1F\n"
    "[[sidecar.tables]]\nname = \"c\\u00e9\\n\\t\\\"q\\\\\"\n",
    "a.b.c = 1\na.b.d = [1, [2, [3, {x = 'y', z.w = true}]], -inf, nan]\n\"q k\" = 0o17\n"
    "[a.b.e]\nf = 0b1010 # c\n[x.y]\n[x]\nz = false\n",
    "arr = [\n  1, # one\n  2,\n  # gap\n  3.25e-2,\n]\nempty = {}\n"
    "t = { a = 1, b = { c = [] } }\n",
};

static const char *tokens[] = {
    "[", "]", "[[", "]]", "{", "}", "=", ",", ".", "\"", "'", "\"\"\"", "\\", "\\u", "\\U",
    "\\uD800", "\\u00e9", "#", "\n", "\r\n", "\r", "\t", " ", "_", "0x", "0o", "0b", "1e",
    "+", "-", "inf", "nan", "true", "false", "1979-05-27", "07:32:00", "9223372036854775808",
    "\xc3\xa9", "\xff", "\xed\xa0\x80", "\0", "a.b", "[a]", "[[a]]", "a = 1\n", "a.b = 2\n",
    "[a.b]\n", "x = {y = 1}\n", "[x.y]\n",
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static size_t below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

typedef struct sbuf {
    uint8_t *p;
    size_t n, cap;
} sbuf;

static void put(sbuf *b, size_t at, const void *s, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memmove(b->p + at + n, b->p + at, b->n - at);
    memcpy(b->p + at, s, n);
    b->n += n;
}

static void mutate_once(sbuf *b)
{
    size_t at = below(b->n + 1), len;
    const char *tok;
    switch (below(7)) {
    case 0: /* flip a byte */
        if (b->n)
            b->p[below(b->n)] ^= (uint8_t)(1u << below(8));
        break;
    case 1: /* random byte */
        if (b->n)
            b->p[below(b->n)] = (uint8_t)rnd();
        break;
    case 2: /* delete a range */
        len = below(16);
        if (at + len <= b->n) {
            memmove(b->p + at, b->p + at + len, b->n - at - len);
            b->n -= len;
        }
        break;
    case 3: /* duplicate a range */
        if (b->n) {
            size_t from = below(b->n);
            len = 1 + below(b->n - from < 32 ? b->n - from : 32);
            uint8_t tmp[32];
            memcpy(tmp, b->p + from, len);
            put(b, at, tmp, len);
        }
        break;
    case 4: /* splice a piece of another seed */
        tok = seeds[below(sizeof seeds / sizeof seeds[0])];
        len = strlen(tok);
        {
            size_t from = below(len);
            put(b, at, tok + from, below(len - from) + 1);
        }
        break;
    default: /* a TOML token ("\0" inserts a NUL byte) */
        tok = tokens[below(sizeof tokens / sizeof tokens[0])];
        put(b, at, tok, tok[0] ? strlen(tok) : 1);
        break;
    }
}

/* Rarely: an input near or past a limit (depth, string length, table width, file size). */
static void make_big(sbuf *b)
{
    static const char *units[] = {"[", "{a=", "a.", "x", "k = 1\n", "1,", "#"};
    const char *u = units[below(sizeof units / sizeof units[0])];
    size_t times = below(4) == 0 ? (RHEI__TOML_MAX_BYTES / strlen(u)) + below(64) : below(70000);
    b->n = 0;
    put(b, 0, "a = ", 4);
    for (size_t i = 0; i < times; i++)
        put(b, b->n, u, strlen(u));
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 10;
    rng_state = argc > 2 ? strtoull(argv[2], NULL, 10) : (uint64_t)time(NULL);
    uint64_t seed = rng_state ? rng_state : 1, runs = 0;
    rng_state = seed;
    sbuf b = {NULL, 0, 0};
    time_t start = time(NULL);
    printf("fuzz_toml: %.0f s, seed %llu\n", seconds, (unsigned long long)seed);
    while (difftime(time(NULL), start) < seconds) {
        for (int k = 0; k < 256; k++, runs++) {
            size_t r = below(1000);
            b.n = 0;
            if (r == 0) {
                make_big(&b);
            } else if (r < 50) { /* pure noise */
                size_t n = below(256);
                for (size_t i = 0; i < n; i++) {
                    uint8_t c = (uint8_t)rnd();
                    put(&b, b.n, &c, 1);
                }
            } else {
                const char *s = seeds[below(sizeof seeds / sizeof seeds[0])];
                put(&b, 0, s, strlen(s));
                for (size_t m = 1 + below(8); m > 0; m--)
                    mutate_once(&b);
            }
            LLVMFuzzerTestOneInput(b.p, b.n);
        }
    }
    free(b.p);
    printf("fuzz_toml: %llu inputs, no failures\n", (unsigned long long)runs);
    return 0;
}
#endif
