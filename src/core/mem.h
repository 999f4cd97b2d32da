/* mem.h — the one allocation wrapper. Out of memory is an error code, never an abort;
 * tests can make the n-th allocation fail to walk every error path. */
#ifndef RHEI_CORE_MEM_H
#define RHEI_CORE_MEM_H
#include <stddef.h>

void *rhei__malloc(size_t n);
void *rhei__calloc(size_t count, size_t size);
void *rhei__realloc(void *p, size_t n);
void rhei__free(void *p);
char *rhei__strdup(const char *s);
char *rhei__strndup(const char *s, size_t n);
/* Grows *p (an array of *cap elements of size elem) to hold at least need; 0 or -1. */
int rhei__grow(void **p, size_t *cap, size_t need, size_t elem);

/* Like rhei__grow, for blocks that may grow large and are written front to back once (a
 * result's cells and bytes). Past RHEI__BIG_BYTES a block is a mapping of its own: through
 * malloc, glibc's moving mmap threshold made large results brk memory that realloc copies,
 * or fresh mappings, and each 4 KiB page a page fault at first touch (a third of a 1M-row
 * result's build time here). Freed mappings are kept for the next block (bounded, see
 * mem.c), so a steady stream of results faults nothing; a block grows into a kept mapping
 * (one memcpy) or by mremap (pages move, nothing is copied). Free with rhei__big_free and
 * the same cap and elem; *cap may come back larger than asked. Mappings are kept only while
 * a holder (an open engine) has called rhei__big_hold and not yet rhei__big_release; the
 * last release, or rhei__big_trim, unmaps them. */
#define RHEI__BIG_BYTES ((size_t)1 << 20)
int rhei__big_grow(void **p, size_t *cap, size_t need, size_t elem);
void rhei__big_free(void *p, size_t cap, size_t elem);
void rhei__big_trim(void);
void rhei__big_hold(void);
void rhei__big_release(void);
size_t rhei__big_kept_bytes(void); /* for tests */

/* Copies at most size-1 bytes and NUL-terminates (truncating quietly); returns dst. */
char *rhei__strlcpy(char *dst, const char *src, size_t size);

/* Test hook: the n-th allocation from now, in any thread, fails (0 disables). */
void rhei__mem_fail_after(long n);
#endif
