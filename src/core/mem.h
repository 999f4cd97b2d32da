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
 * result's cells and bytes). Past RHEI__BIG_BYTES a block is a mapping of its own, grown with
 * mremap (pages move, nothing is copied) and backed by 2 MiB pages where transparent huge
 * pages are on: through malloc, glibc's moving mmap threshold turned every large result
 * after the first into brk memory that realloc copies, and each 4 KiB page of it into a
 * page fault (a third of a 1M-row result's build time here). Below 8 MiB malloc's reuse of
 * freed memory wins (no fault at all; a mapping per 100K-row column made that result 5x
 * slower). Free with rhei__big_free and the same cap and elem. */
#define RHEI__BIG_BYTES ((size_t)8 << 20)
int rhei__big_grow(void **p, size_t *cap, size_t need, size_t elem);
void rhei__big_free(void *p, size_t cap, size_t elem);

/* Copies at most size-1 bytes and NUL-terminates (truncating quietly); returns dst. */
char *rhei__strlcpy(char *dst, const char *src, size_t size);

/* Test hook: the n-th allocation from now, in any thread, fails (0 disables). */
void rhei__mem_fail_after(long n);
#endif
