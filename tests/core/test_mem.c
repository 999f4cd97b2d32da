/* test_mem.c — the allocation wrapper's growth: rhei__grow and rhei__big_grow give the same
 * capacities (doubling from 8), refuse a size past their headroom, and a big block keeps its
 * bytes when it moves to a mapping of its own; a freed big block is kept for the next. */
#include "test.h"
#include "mem.h"
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

/* Capacity after growing from cap to need through grow (one of the two), checked to hold. */
static size_t grown(int (*grow)(void **, size_t *, size_t, size_t), size_t cap, size_t need)
{
    char *p = cap ? rhei__malloc(cap) : NULL; /* below RHEI__BIG_BYTES: heap memory */
    size_t c = cap, before = cap;
    CHECK(p || !cap);
    CHECK_INT(grow((void **)&p, &c, need, 1), 0);
    CHECK(c >= need);
    if (need <= before)
        CHECK_INT(c, before); /* nothing to do: unchanged */
    p[need - 1] = 'x';
    if (grow == rhei__big_grow)
        rhei__big_free(p, c, 1);
    else
        rhei__free(p);
    return c;
}

TEST(grow_doubles_from_eight)
{
    /* {cap, need, capacity after}: a capacity not a power of two keeps doubling */
    static const size_t want[][3] = {
        {0, 1, 8},      {0, 8, 8},       {0, 9, 16},      {8, 9, 16},
        {16, 100, 128}, {128, 100, 128}, {0, 1000, 1024}, {24, 25, 48},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        size_t got = grown(rhei__grow, want[i][0], want[i][1]);
        if (got != want[i][2])
            FAIL("rhei__grow %zu -> need %zu: cap %zu, want %zu", want[i][0], want[i][1], got,
                 want[i][2]);
        got = grown(rhei__big_grow, want[i][0], want[i][1]);
        if (got != want[i][2])
            FAIL("rhei__big_grow %zu -> need %zu: cap %zu, want %zu", want[i][0], want[i][1], got,
                 want[i][2]);
    }
}

/* Past RHEI__BIG_BYTES the block is a mapping: the bytes written below the threshold stay,
 * and the capacity still doubles. */
TEST(big_grow_keeps_bytes_across_the_threshold)
{
    int64_t *p = NULL;
    size_t cap = 0, n = RHEI__BIG_BYTES / sizeof *p; /* elements at the threshold */
    CHECK_INT(rhei__big_grow((void **)&p, &cap, n / 4, sizeof *p), 0);
    CHECK_INT(cap, n / 4); /* 8 << k: a power of two, as the threshold is */
    for (size_t i = 0; i < cap; i++)
        p[i] = (int64_t)i * 3;
    CHECK_INT(rhei__big_grow((void **)&p, &cap, n + 1, sizeof *p), 0);
    CHECK_INT(cap, n * 2);
    for (size_t i = 0; i < n / 4; i++)
        if (p[i] != (int64_t)i * 3)
            FAIL("element %zu: %lld after the move, want %lld", i, (long long)p[i],
                 (long long)i * 3);
    p[cap - 1] = 7; /* the whole mapping is writable */
    CHECK_INT(rhei__big_grow((void **)&p, &cap, cap * 2 + 1, sizeof *p), 0); /* mremap */
    CHECK_INT(cap, n * 8);
    CHECK_INT(p[n / 4 - 1], (int64_t)(n / 4 - 1) * 3);
    CHECK_INT(p[n * 2 - 1], 7);
    rhei__big_free(p, cap, sizeof *p);
}

/* A size whose doubling would pass the headroom fails before any allocation and leaves the
 * block as it was: SIZE_MAX / 2 for rhei__grow, SIZE_MAX / 4 for rhei__big_grow (its
 * mapping is rounded up and padded). */
TEST(grow_refuses_sizes_past_its_headroom)
{
    char *p = NULL;
    size_t cap = 0;
    CHECK_INT(rhei__grow((void **)&p, &cap, 16, 1), 0);
    char *was = p;
    CHECK_INT(rhei__grow((void **)&p, &cap, SIZE_MAX / 2 + 2, 1), -1);
    CHECK_INT(rhei__grow((void **)&p, &cap, SIZE_MAX / 4 + 2, 4), -1);
    CHECK(p == was);
    CHECK_INT(cap, 16);
    CHECK_INT(rhei__big_grow((void **)&p, &cap, SIZE_MAX / 4 + 2, 1), -1);
    CHECK(p == was);
    CHECK_INT(cap, 16);
    /* Within rhei__grow's headroom but past rhei__big_grow's: big_grow refuses it without
     * asking for memory (the injected failure is still armed after the call). */
    rhei__mem_fail_after(1);
    CHECK_INT(rhei__big_grow((void **)&p, &cap, SIZE_MAX / 8 * 3, 1), -1);
    CHECK(rhei__malloc(1) == NULL); /* the armed failure was left for this call */
    rhei__mem_fail_after(0);
    CHECK(p == was);
    CHECK_INT(cap, 16);
    rhei__free(p);
}

/* 1 if the last page of the block [p, p + bytes) is in memory: a kept mapping's pages were
 * written before, a fresh mapping's are not until touched. */
static int resident(const void *p, size_t bytes)
{
    unsigned char v = 0;
    uintptr_t last = ((uintptr_t)p + bytes - 1) & ~(uintptr_t)4095;
    CHECK_INT(mincore((void *)last, 4096, &v), 0);
    return v & 1;
}

/* A freed big block is kept and handed to the next block of its size: the same mapping comes
 * back (no fresh pages to fault), a block growing into a kept mapping keeps its bytes, and
 * rhei__big_trim gives everything back. */
TEST(big_blocks_are_kept_for_the_next_result)
{
    rhei__big_hold(); /* as an open engine does */
    rhei__big_trim();
    size_t n = RHEI__BIG_BYTES / sizeof(int64_t) * 2, cap = 0, cap2 = 0;
    int64_t *p = NULL, *q = NULL;
    CHECK_INT(rhei__big_grow((void **)&p, &cap, n, sizeof *p), 0);
    memset(p, 1, cap * sizeof *p); /* a result writes its whole block */
    int64_t *first = p;
    rhei__big_free(p, cap, sizeof *p);
    p = NULL;
    cap = 0;
    CHECK_INT(rhei__big_grow((void **)&p, &cap, n, sizeof *p), 0);
    CHECK(p == first);
    CHECK_INT(resident(p, cap * sizeof *p), 1); /* the kept pages, not fresh ones */
    /* A block below the threshold (heap memory) grows into the kept mapping. */
    rhei__big_free(p, cap, sizeof *p);
    CHECK_INT(rhei__big_grow((void **)&q, &cap2, n / 4, sizeof *q), 0);
    CHECK(q != first);
    for (size_t i = 0; i < cap2; i++)
        q[i] = (int64_t)i * 5;
    size_t had = cap2;
    CHECK_INT(rhei__big_grow((void **)&q, &cap2, n, sizeof *q), 0);
    CHECK(q == first); /* grew into the kept block by a copy */
    CHECK_INT(resident(q, cap2 * sizeof *q), 1);
    for (size_t i = 0; i < had; i++)
        if (q[i] != (int64_t)i * 5)
            FAIL("element %zu: %lld after growing into a kept block", i, (long long)q[i]);
    rhei__big_free(q, cap2, sizeof *q);
    rhei__big_release();
    CHECK_INT(rhei__big_kept_bytes(), 0);
}

/* Kept mappings belong to open engines: closing one engine leaves another's, the last close
 * unmaps them, and a result freed with no engine open unmaps its blocks at once. */
TEST(kept_blocks_live_while_an_engine_is_open)
{
    char d1[64], d2[64];
    rt_tmpdir(d1, sizeof d1);
    rt_tmpdir(d2, sizeof d2);
    char p1[128], p2[128];
    snprintf(p1, sizeof p1, "%s/a.db", d1);
    snprintf(p2, sizeof p2, "%s/b.db", d2);
    rhei_db *a = NULL, *b = NULL;
    CHECK_INT(rhei_open_path(p1, &a), RHEI_OK);
    CHECK_INT(rhei_open_path(p2, &b), RHEI_OK);
    size_t n = RHEI__BIG_BYTES / sizeof(int64_t) * 2, cap = 0;
    int64_t *p = NULL;
    CHECK_INT(rhei__big_grow((void **)&p, &cap, n, sizeof *p), 0);
    rhei__big_free(p, cap, sizeof *p);
    size_t kept = rhei__big_kept_bytes();
    CHECK(kept >= n * sizeof *p);
    CHECK_OK(a, rhei_close(a));
    CHECK_INT(rhei__big_kept_bytes(), kept); /* b is still open */
    p = NULL;
    cap = 0;
    CHECK_INT(rhei__big_grow((void **)&p, &cap, n, sizeof *p), 0); /* held past b's close */
    CHECK_OK(b, rhei_close(b));
    CHECK_INT(rhei__big_kept_bytes(), 0);
    rhei__big_free(p, cap, sizeof *p); /* no engine open: unmapped, not kept */
    CHECK_INT(rhei__big_kept_bytes(), 0);
}
