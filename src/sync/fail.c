/* fail.c — per-table fault isolation. When a table's events cannot be applied (a value no
 * check caught, a DuckDB limit), the cycle is rolled back whole and run again without that
 * table, so the other tables keep replicating and no cycle is ever half-applied. The failed
 * table's events after `from` are neither applied nor pruned (the log keeps them: the
 * pruning floor stays below them); a RESYNC event (rhei_resync_table) copies the table again
 * and ends the failure. The failed set is stored in OLAP with the position it belongs to,
 * so a durable store that resumes knows which of its tables are behind. */
#include "sync_int.h"
#include "mem.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char fails_key[] = "_rhei.failed";

int rhei__sync_blamable(int code)
{
    switch (code) {
    case RHEI_NOMEM:
    case RHEI_IO:
    case RHEI_FULL:
    case RHEI_BUSY:
    case RHEI_READONLY:
    case RHEI_INTERRUPTED:
        return 0;
    default:
        return code != RHEI_OK;
    }
}

rhei__sync_fail *rhei__sync_fail_find(rhei__sync *s, const char *name)
{
    for (size_t i = 0; i < s->nfails; i++)
        if (strcasecmp(s->fails[i].name, name) == 0)
            return &s->fails[i];
    return NULL;
}

void rhei__sync_fail_flags(rhei__sync *s)
{
    for (size_t i = 0; i < s->ntables; i++)
        s->tables[i].failed = s->nfails && rhei__sync_fail_find(s, s->tables[i].name) != NULL;
}

int rhei__sync_fail_add(rhei__sync *s, const char *name, int64_t from, int64_t tried,
                        const rhei__err *cause, rhei__err *e)
{
    pthread_mutex_lock(&s->stat_mu);
    rhei__sync_fail *f = rhei__sync_fail_find(s, name);
    int rc = RHEI_OK;
    if (!f) {
        char *copy = rhei__strdup(name);
        if (!copy || rhei__grow((void **)&s->fails, &s->failcap, s->nfails + 1, sizeof *f)) {
            rhei__free(copy);
            rc = rhei__err_nomem(e);
        } else {
            f = &s->fails[s->nfails++];
            memset(f, 0, sizeof *f);
            f->name = copy;
            f->from = from;
            s->behind_gen++;
        }
    }
    if (f) {
        f->tried = tried > f->tried ? tried : f->tried;
        f->code = cause->code;
        rhei__strlcpy(f->msg, cause->msg, sizeof f->msg);
        s->fails_dirty = 1;
    }
    pthread_mutex_unlock(&s->stat_mu);
    rhei__sync_fail_flags(s);
    return rc;
}

void rhei__sync_fail_remove(rhei__sync *s, const char *name)
{
    pthread_mutex_lock(&s->stat_mu);
    rhei__sync_fail *f = rhei__sync_fail_find(s, name);
    if (f) {
        rhei__free(f->name);
        *f = s->fails[--s->nfails];
        s->fails_dirty = 1;
        s->behind_gen++;
    }
    pthread_mutex_unlock(&s->stat_mu);
    rhei__sync_fail_flags(s);
}

int64_t rhei__sync_floor(rhei__sync *s)
{
    int64_t floor = s->applied;
    for (size_t i = 0; i < s->nfails; i++)
        if (s->fails[i].from < floor)
            floor = s->fails[i].from;
    return floor;
}

void rhei__sync_fails_free(rhei__sync *s)
{
    if (s->nfails)
        s->behind_gen++;
    for (size_t i = 0; i < s->nfails; i++)
        rhei__free(s->fails[i].name);
    rhei__free(s->fails);
    s->fails = NULL;
    s->nfails = s->failcap = 0;
}

/* --- stored form: one line per table, "from tried code hex(name) hex(msg)" (hex keeps any
 * byte of a name or message inside DuckDB's VARCHAR) --------------------------------------- */

static void put_hex(char *out, const char *s)
{
    static const char hx[] = "0123456789abcdef";
    for (; *s; s++) {
        *out++ = hx[(unsigned char)*s >> 4];
        *out++ = hx[(unsigned char)*s & 15];
    }
    *out++ = '-'; /* never empty, so a field is never blank */
    *out = '\0';
}

static int get_hex(const char *in, char *out, size_t size)
{
    size_t o = 0;
    for (; in[0] && in[0] != '-' && in[1]; in += 2) {
        unsigned v;
        if (sscanf(in, "%2x", &v) != 1 || o + 1 >= size)
            return -1;
        out[o++] = (char)v;
    }
    out[o] = '\0';
    return *in == '-' ? 0 : -1;
}

int rhei__sync_fails_store(rhei__sync *s, rhei__err *e)
{
    size_t cap = 2;
    for (size_t i = 0; i < s->nfails; i++)
        cap += 80 + 2 * strlen(s->fails[i].name) + 2 * sizeof s->fails[i].msg;
    char *v = rhei__malloc(cap);
    if (!v)
        return rhei__err_nomem(e);
    size_t o = 0;
    v[0] = '\0';
    for (size_t i = 0; i < s->nfails; i++) {
        const rhei__sync_fail *f = &s->fails[i];
        if (f->cleared)
            continue;
        o += (size_t)snprintf(v + o, cap - o, "%lld %lld %d ", (long long)f->from,
                              (long long)f->tried, f->code);
        put_hex(v + o, f->name);
        o += strlen(v + o);
        v[o++] = ' ';
        put_hex(v + o, f->msg);
        o += strlen(v + o);
        v[o++] = '\n';
        v[o] = '\0';
    }
    int rc = s->vt->set_kv(s->olap, fails_key, v, e);
    rhei__free(v);
    return rc;
}

int rhei__sync_fails_load(rhei__sync *s, rhei__err *e)
{
    size_t size = 1 << 20;
    char *v = rhei__malloc(size), name[1024];
    if (!v)
        return rhei__err_nomem(e);
    rhei__err ignored;
    int rc = s->vt->get_kv(s->olap, fails_key, v, size, &ignored);
    rhei__sync_fails_free(s);
    if (rc) { /* never stored: nothing failed */
        rhei__free(v);
        return RHEI_OK;
    }
    rc = RHEI_OK;
    for (char *line = v, *next; rc == RHEI_OK && *line; line = next) {
        next = strchr(line, '\n');
        next = next ? next + 1 : line + strlen(line);
        long long from, tried;
        int code, off = 0;
        char hn[2100], hm[600];
        rhei__err cause = {0};
        if (sscanf(line, "%lld %lld %d %2099s %599s%n", &from, &tried, &code, hn, hm, &off) < 5 ||
            get_hex(hn, name, sizeof name) || get_hex(hm, cause.msg, sizeof cause.msg)) {
            rc = rhei__err_set(e, RHEI_CORRUPT, "the stored list of failed tables is unreadable");
            break;
        }
        cause.code = code;
        rc = rhei__sync_fail_add(s, name, from, tried, &cause, e);
    }
    s->fails_dirty = 0;
    rhei__free(v);
    return rc;
}

void rhei__sync_table_status(rhei__sync *s, const char *table, rhei_table_status *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->stat_mu);
    const rhei__sync_fail *f = rhei__sync_fail_find(s, table);
    if (f) {
        out->state = RHEI_TABLE_FAILED;
        out->failed_after = f->from;
        out->error_code = f->code;
        rhei__strlcpy(out->cause, f->msg, sizeof out->cause);
    }
    pthread_mutex_unlock(&s->stat_mu);
}

size_t rhei__sync_first_failed(rhei__sync *s, char *name, size_t size, rhei_table_status *out)
{
    pthread_mutex_lock(&s->stat_mu);
    size_t n = s->nfails;
    char first[1024] = "";
    if (n)
        rhei__strlcpy(first, s->fails[0].name, sizeof first);
    pthread_mutex_unlock(&s->stat_mu);
    if (n) {
        rhei__strlcpy(name, first, size);
        rhei__sync_table_status(s, first, out);
    }
    return n;
}
