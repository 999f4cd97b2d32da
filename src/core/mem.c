/* mem.c — allocation wrapper with an optional failure injector for out-of-memory tests. */
#include "mem.h"
#include "rhei.h"
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 0 = off; test-only, see rhei__mem_fail_after. Atomic: background threads (sync, applier,
 * pruner) allocate while a test arms it, and exactly one allocation must see it reach 0. */
static atomic_long fail_countdown;

static int should_fail(void)
{
    long n = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    while (n > 0)
        if (atomic_compare_exchange_weak(&fail_countdown, &n, n - 1))
            return n == 1;
    return 0;
}

void rhei__mem_fail_after(long n) { atomic_store(&fail_countdown, n); }

void *rhei__malloc(size_t n) { return should_fail() ? NULL : malloc(n ? n : 1); }

void *rhei__calloc(size_t count, size_t size)
{
    return should_fail() ? NULL : calloc(count ? count : 1, size ? size : 1);
}

void *rhei__realloc(void *p, size_t n) { return should_fail() ? NULL : realloc(p, n ? n : 1); }

void rhei__free(void *p) { free(p); }

void rhei_free(void *p) { free(p); }

char *rhei__strndup(const char *s, size_t n)
{
    char *d = rhei__malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *rhei__strdup(const char *s) { return s ? rhei__strndup(s, strlen(s)) : NULL; }

int rhei__grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem)
            return -1;
        ncap *= 2;
    }
    void *np = rhei__realloc(*p, ncap * elem);
    if (!np)
        return -1;
    *p = np;
    *cap = ncap;
    return 0;
}

char *rhei__strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (size == 0)
        return dst;
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return dst;
}
