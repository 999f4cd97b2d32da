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

/* Copies at most size-1 bytes and NUL-terminates (truncating quietly); returns dst. */
char *rhei__strlcpy(char *dst, const char *src, size_t size);

/* Test hook: the n-th allocation from now, in any thread, fails (0 disables). */
void rhei__mem_fail_after(long n);
#endif
