/* test.h — the test harness: TEST(name) registers a case; the executable runs the case
 * named on its command line (ctest runs each case as its own entry) or all of them.
 * Assertions print both values and stop the case with exit status 1. */
#ifndef RHEI_TEST_H
#define RHEI_TEST_H
#include "rhei.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void (*rt_fn)(void);
static struct { const char *cname; rt_fn cfn; } rt_cases[256];
static int rt_ncases;

#define TEST(name)                                                                          \
    static void name(void);                                                                 \
    __attribute__((constructor)) static void rt_reg_##name(void)                           \
    {                                                                                       \
        rt_cases[rt_ncases].cname = #name;                                                   \
        rt_cases[rt_ncases++].cfn = name;                                                    \
    }                                                                                       \
    static void name(void)

#define FAIL(...)                                                                           \
    do {                                                                                    \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                     \
        fprintf(stderr, __VA_ARGS__);                                                       \
        fprintf(stderr, "\n");                                                              \
        exit(1);                                                                            \
    } while (0)

#define CHECK(cond)                                                                         \
    do {                                                                                    \
        if (!(cond))                                                                        \
            FAIL("check failed: %s", #cond);                                                \
    } while (0)

#define CHECK_INT(a, b)                                                                     \
    do {                                                                                    \
        long long rt_a = (long long)(a), rt_b = (long long)(b);                             \
        if (rt_a != rt_b)                                                                   \
            FAIL("%s == %s: got %lld, want %lld", #a, #b, rt_a, rt_b);                      \
    } while (0)

#define CHECK_STR(a, b)                                                                     \
    do {                                                                                    \
        const char *rt_a = (a), *rt_b = (b);                                                \
        if (!rt_a || !rt_b || strcmp(rt_a, rt_b) != 0)                                      \
            FAIL("%s == %s: got \"%s\", want \"%s\"", #a, #b, rt_a ? rt_a : "(null)",       \
                 rt_b ? rt_b : "(null)");                                                   \
    } while (0)

/* rc must be RHEI_OK; on failure prints the engine's message. */
#define CHECK_OK(db, call)                                                                  \
    do {                                                                                    \
        int rt_rc = (call);                                                                 \
        if (rt_rc != RHEI_OK)                                                               \
            FAIL("%s: rc=%d (%s): %s", #call, rt_rc, rhei_errstr(rt_rc), rhei_errmsg(db));  \
    } while (0)

#define CHECK_RC(db, call, want)                                                            \
    do {                                                                                    \
        int rt_rc = (call);                                                                 \
        if (rt_rc != (want))                                                                \
            FAIL("%s: rc=%d (%s), want %d: %s", #call, rt_rc, rhei_errstr(rt_rc), (want),   \
                 rhei_errmsg(db));                                                          \
    } while (0)

/* Ends the case as skipped (ctest shows it as skipped, never as passed). */
#define SKIP(...)                                                                           \
    do {                                                                                    \
        fprintf(stderr, "skipped: ");                                                       \
        fprintf(stderr, __VA_ARGS__);                                                       \
        fprintf(stderr, "\n");                                                              \
        exit(77);                                                                           \
    } while (0)

/* A fresh directory for one case's files, removed by the OS's tmp cleaning; path in out. */
static inline void rt_tmpdir(char *out, size_t n)
{
    snprintf(out, n, "/tmp/rhei-test-XXXXXX");
    if (!mkdtemp(out))
        FAIL("mkdtemp failed");
}

int main(int argc, char **argv)
{
    int ran = 0;
    for (int i = 0; i < rt_ncases; i++) {
        if (argc > 1 && strcmp(argv[1], rt_cases[i].cname) != 0)
            continue;
        rt_cases[i].cfn();
        ran++;
    }
    if (ran == 0) {
        fprintf(stderr, "no test case named '%s'\n", argc > 1 ? argv[1] : "");
        return 1;
    }
    return 0;
}
#endif
