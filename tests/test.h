/* test.h — the test harness: TEST(name) registers a case; the executable runs the case
 * named on its command line (ctest runs each case as its own entry) or all of them.
 * Assertions print both values and stop the case with exit status 1. */
#ifndef RHEI_TEST_H
#define RHEI_TEST_H
#include "rhei.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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

/* Temp folders of this process, removed with their contents when it exits (also when a
 * check FAILs: exit runs atexit handlers). Only by the process that made them: a forked
 * child that exits must not remove its parent's files. RHEI_TEST_KEEP=1 keeps them. */
static char rt_dirs[16][256];
static int rt_ndirs;
static pid_t rt_dirs_owner;

/* Removes path and everything under it, as far as it can (no symlink is followed). */
static void rt_rm_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            char sub[1024];
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) < sizeof sub)
                rt_rm_tree(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void rt_rm_dirs(void)
{
    if (getpid() != rt_dirs_owner || getenv("RHEI_TEST_KEEP"))
        return;
    for (int i = 0; i < rt_ndirs; i++)
        rt_rm_tree(rt_dirs[i]);
    rt_ndirs = 0;
}

/* xorshift64: the tests' seeded random source (a seed of 0 stays 0: mix it first). */
static inline uint64_t rt_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Wall-clock time in microseconds since the epoch (what change times are measured in). */
static inline int64_t rt_wall_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* Change times come from SQLite's clock, in whole milliseconds: waits until the clock is
 * past the millisecond after t_us, so a change made next gets a later time than one made at
 * t_us. A clock condition, not a sleep standing in for synchronisation. */
static inline void rt_next_millisecond(int64_t t_us)
{
    while (rt_wall_us() / 1000 <= t_us / 1000 + 1)
        ;
}

/* A fresh directory for one case's files (under $TMPDIR, default /tmp), removed when the
 * process exits; path in out. */
static inline void rt_tmpdir(char *out, size_t n)
{
    const char *tmp = getenv("TMPDIR");
    if ((size_t)snprintf(out, n, "%s/rhei-test-XXXXXX", tmp && *tmp ? tmp : "/tmp") >= n)
        FAIL("TMPDIR '%s' is too long for a test folder", tmp);
    if (!mkdtemp(out))
        FAIL("mkdtemp failed");
    if (rt_dirs_owner != getpid()) { /* first folder of this process (or of a forked child) */
        rt_dirs_owner = getpid();
        rt_ndirs = 0;
        atexit(rt_rm_dirs);
    }
    if (rt_ndirs < (int)(sizeof rt_dirs / sizeof rt_dirs[0]))
        snprintf(rt_dirs[rt_ndirs++], sizeof rt_dirs[0], "%s", out);
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
