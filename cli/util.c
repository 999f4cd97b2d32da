/* util.c — small helpers every rh command uses: error messages in the house style
 * ("rh: what failed: cause" on stderr), a monotonic clock, bounded reads and identifier
 * quoting. */
#include "rh.h"
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Where the statement running now came from, for errors of scripts ("" when none). */
static char err_where[RH_PATH_MAX + 32];
static char err_stmt[88];

void rh_err_context(const char *src, long line, const char *stmt, size_t len)
{
    err_where[0] = err_stmt[0] = '\0';
    if (line <= 0)
        return;
    snprintf(err_where, sizeof err_where, "%s%snear line %ld: ", src ? src : "",
             src ? " " : "", line);
    size_t n = len < 80 ? len : 77, j = 0;
    for (size_t i = 0; i < n; i++) /* one line: newlines and tabs become blanks */
        err_stmt[j++] = stmt[i] == '\n' || stmt[i] == '\t' || stmt[i] == '\r' ? ' ' : stmt[i];
    snprintf(err_stmt + j, sizeof err_stmt - j, "%s", len > n ? "..." : "");
}

void rh_err(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "rh: %s", err_where);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (err_stmt[0])
        fprintf(stderr, "  in: %s\n", err_stmt);
}

/* stdout's first write error since the last rh_out_reset: reported once (a failed flush
 * empties stdio's buffer, so a later flush succeeds and only ferror remembers it). */
static int out_errno;

int rh_out_check(void)
{
    errno = 0;
    int bad = fflush(stdout) != 0;
    int e = errno;
    if (!bad && !ferror(stdout))
        return RH_EXIT_OK;
    if (!out_errno) {
        out_errno = e ? e : EIO; /* the error flag without a cause: an earlier write's */
        rh_err("write error: %s", strerror(out_errno));
    }
    return RH_EXIT_ERR;
}

void rh_out_reset(void)
{
    clearerr(stdout);
    out_errno = 0;
}

int rh_db_err(rhei_db *db, int rc, const char *what)
{
    const char *msg = rhei_errmsg(db);
    if (!msg || !*msg)
        msg = rhei_errstr(rc);
    rh_err("%s: %s", what, msg);
    return RH_EXIT_ERR;
}

double rh_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

const char *rh_side_name(rhei_side s)
{
    switch (s) {
    case RHEI_SIDE_OLTP: return "oltp";
    case RHEI_SIDE_OLAP: return "olap";
    default: return "auto";
    }
}

char *rh_read_all(FILE *f)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    for (;;) {
        if (len + 1 >= cap) {
            /* bounded: a runaway pipe must not take the host's memory */
            if (cap >= RH_SQL_MAX) {
                rh_err("input is longer than %u bytes", RH_SQL_MAX);
                free(buf);
                return NULL;
            }
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                return NULL;
            }
            buf = p;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    buf[len] = '\0';
    return buf;
}

int rh_quote_ident(char *dst, size_t cap, const char *name)
{
    size_t j = 0;
    if (cap < 3)
        return -1;
    dst[j++] = '"';
    for (const char *p = name; *p; p++) {
        if (j + 3 >= cap)
            return -1;
        if (*p == '"')
            dst[j++] = '"';
        dst[j++] = *p;
    }
    dst[j++] = '"';
    dst[j] = '\0';
    return 0;
}

static int sigint_seen;

int rh_sigint_seen(void)
{
    int seen = sigint_seen;
    sigint_seen = 0;
    return seen;
}

void rh_note_sigint(void) { sigint_seen = 1; }

int rh_take_sigint(void)
{
    sigset_t pending, one;
    struct timespec zero = {0, 0};
    if (sigpending(&pending) != 0 || !sigismember(&pending, SIGINT))
        return 0;
    sigemptyset(&one);
    sigaddset(&one, SIGINT);
    sigtimedwait(&one, NULL, &zero);
    sigint_seen = 1;
    return 1;
}

long rh_line_of(const char *text, size_t at, long first_line)
{
    for (size_t i = 0; i < at; i++)
        first_line += text[i] == '\n';
    return first_line;
}
