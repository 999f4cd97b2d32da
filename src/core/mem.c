/* mem.c — allocation wrapper with an optional failure injector for out-of-memory tests. */
#define _GNU_SOURCE /* mremap */
#include "mem.h"
#include "rhei.h"
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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

static size_t page_round(size_t n) { return (n + 4095) & ~(size_t)4095; }

/* n bytes (a page multiple) starting at a 2 MiB boundary, so huge pages can back all of it:
 * a mapping 2 MiB larger, its unaligned ends given back. */
static void *map_aligned(size_t n)
{
    const size_t huge = (size_t)2 << 20;
    char *p = mmap(NULL, n + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return MAP_FAILED;
    size_t head = (huge - ((uintptr_t)p & (huge - 1))) & (huge - 1);
    if (head)
        munmap(p, head);
    munmap(p + head + n, huge - head);
    return p + head;
}

int rhei__big_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 4 / elem)
            return -1;
        ncap *= 2;
    }
    size_t old = *cap * elem, bytes = ncap * elem;
    if (bytes < RHEI__BIG_BYTES)
        return rhei__grow(p, cap, need, elem);
    if (should_fail())
        return -1;
    void *np;
    if (old >= RHEI__BIG_BYTES) {
        np = mremap(*p, page_round(old), page_round(bytes), MREMAP_MAYMOVE);
    } else {
        np = map_aligned(page_round(bytes));
        if (np != MAP_FAILED && old) {
            memcpy(np, *p, old);
            free(*p);
        }
    }
    if (np == MAP_FAILED)
        return -1;
    madvise(np, page_round(bytes), MADV_HUGEPAGE); /* a hint: fails quietly without THP */
    *p = np;
    *cap = ncap;
    return 0;
}

void rhei__big_free(void *p, size_t cap, size_t elem)
{
    if (p && cap * elem >= RHEI__BIG_BYTES)
        munmap(p, page_round(cap * elem));
    else
        free(p);
}

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
