/* mem.c — allocation wrapper with an optional failure injector for out-of-memory tests. */
#define _GNU_SOURCE /* mremap */
#include "mem.h"
#include "rhei.h"
#include <pthread.h>
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

/* Mappings freed by rhei__big_free, kept for the next big block: a fresh mapping costs a page
 * fault per 4 KiB page at first touch, a kept one none (its pages stay mapped and resident).
 * A 100K-row result in fresh memory spent 35% of its build in page faults here, a 1M-row one
 * a third. MADV_FREE on a kept block (so the kernel could take it back) cost 0.3-1 ms per
 * free, more than it saved. Bounded: BIG_KEEP_N blocks and BIG_KEEP_BYTES in all,
 * process-wide, and only while an engine is open (rhei__big_hold/release): the last engine
 * to close empties it, and a result freed after that unmaps its blocks. A block's size is always
 * page_round(cap * elem) of its holder (rhei__big_grow gives cap = size / elem with elem <= 4 KiB),
 * so it comes back here whole. */
#define BIG_KEEP_N 32
#define BIG_KEEP_BYTES ((size_t)128 << 20)
static pthread_mutex_t keep_mu = PTHREAD_MUTEX_INITIALIZER;
static struct kept_block {
    void *p;
    size_t bytes;
} keep[BIG_KEEP_N];
static size_t keep_n, keep_bytes;
static long keep_users;

/* The smallest kept block of at least bytes and at most twice that, or NULL. */
static void *keep_take(size_t bytes, size_t *got)
{
    pthread_mutex_lock(&keep_mu);
    size_t best = keep_n;
    for (size_t i = 0; i < keep_n; i++)
        if (keep[i].bytes >= bytes && keep[i].bytes / 2 <= bytes &&
            (best == keep_n || keep[i].bytes < keep[best].bytes))
            best = i;
    void *p = NULL;
    if (best < keep_n) {
        p = keep[best].p;
        *got = keep[best].bytes;
        keep_bytes -= keep[best].bytes;
        keep[best] = keep[--keep_n];
    }
    pthread_mutex_unlock(&keep_mu);
    return p;
}

/* Keeps mapping p of bytes if there is room, else unmaps it. */
static void keep_put(void *p, size_t bytes)
{
    pthread_mutex_lock(&keep_mu);
    int kept = keep_users > 0 && keep_n < BIG_KEEP_N && keep_bytes + bytes <= BIG_KEEP_BYTES;
    if (kept) {
        keep[keep_n].p = p;
        keep[keep_n++].bytes = bytes;
        keep_bytes += bytes;
    }
    pthread_mutex_unlock(&keep_mu);
    if (!kept)
        munmap(p, bytes);
}

static void trim_locked(void)
{
    while (keep_n) {
        keep_n--;
        munmap(keep[keep_n].p, keep[keep_n].bytes);
    }
    keep_bytes = 0;
}

void rhei__big_trim(void)
{
    pthread_mutex_lock(&keep_mu);
    trim_locked();
    pthread_mutex_unlock(&keep_mu);
}

void rhei__big_hold(void)
{
    pthread_mutex_lock(&keep_mu);
    keep_users++;
    pthread_mutex_unlock(&keep_mu);
}

void rhei__big_release(void)
{
    pthread_mutex_lock(&keep_mu);
    if (--keep_users == 0)
        trim_locked();
    pthread_mutex_unlock(&keep_mu);
}

size_t rhei__big_kept_bytes(void)
{
    pthread_mutex_lock(&keep_mu);
    size_t bytes = keep_bytes;
    pthread_mutex_unlock(&keep_mu);
    return bytes;
}

/* A mapping of at least bytes (a page multiple), *got its size: kept or fresh. */
static void *big_map(size_t bytes, size_t *got)
{
    void *p = keep_take(bytes, got);
    if (p)
        return p;
    p = map_aligned(bytes);
    if (p == MAP_FAILED)
        return NULL;
    madvise(p, bytes, MADV_HUGEPAGE); /* a hint: fails quietly without THP */
    *got = bytes;
    return p;
}

/* The capacity rhei__grow and rhei__big_grow give for need elements of size elem (need >
 * cap): cap doubled (from 8 when 0) until it holds need. -1 when a doubling would pass
 * SIZE_MAX / headroom / elem, so ncap * elem keeps room to spare (a mapping rounds it up). */
static int next_cap(size_t cap, size_t need, size_t elem, size_t headroom, size_t *out)
{
    size_t ncap = cap ? cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / headroom / elem)
            return -1;
        ncap *= 2;
    }
    *out = ncap;
    return 0;
}

/* Moves *p to ncap elements through realloc. */
static int heap_grow(void **p, size_t *cap, size_t ncap, size_t elem)
{
    void *np = rhei__realloc(*p, ncap * elem);
    if (!np)
        return -1;
    *p = np;
    *cap = ncap;
    return 0;
}

int rhei__big_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t ncap;
    if (need <= *cap)
        return 0;
    if (elem > 4096 || next_cap(*cap, need, elem, 4, &ncap)) /* elem: see the kept mappings */
        return -1;
    size_t old = *cap * elem, bytes = ncap * elem;
    if (bytes < RHEI__BIG_BYTES)
        return heap_grow(p, cap, ncap, elem);
    if (should_fail())
        return -1;
    size_t got = 0;
    void *np = keep_take(page_round(bytes), &got);
    if (np || old < RHEI__BIG_BYTES) {
        /* A kept block is copied into (a memcpy is cheaper than faulting the pages mremap
         * would add); a malloc'd block is copied into a fresh mapping. */
        if (!np && !(np = big_map(page_round(bytes), &got)))
            return -1;
        if (old)
            memcpy(np, *p, old);
        if (old >= RHEI__BIG_BYTES)
            keep_put(*p, page_round(old));
        else
            free(*p);
    } else {
        np = mremap(*p, page_round(old), page_round(bytes), MREMAP_MAYMOVE);
        if (np == MAP_FAILED)
            return -1;
        got = page_round(bytes);
        madvise(np, got, MADV_HUGEPAGE);
    }
    *p = np;
    *cap = got / elem; /* page_round(*cap * elem) == got: rhei__big_free unmaps it whole */
    return 0;
}

void rhei__big_free(void *p, size_t cap, size_t elem)
{
    if (p && cap * elem >= RHEI__BIG_BYTES)
        keep_put(p, page_round(cap * elem));
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
    size_t ncap;
    if (need <= *cap)
        return 0;
    if (next_cap(*cap, need, elem, 2, &ncap))
        return -1;
    return heap_grow(p, cap, ncap, elem);
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
