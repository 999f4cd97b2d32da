/* registry.c — server-side state behind handles: prepared statements (until closed) and
 * tickets (one use, expire after TICKET_TTL_S). A handle is 128 random bits in hex, and an
 * entry answers only to the principal that made it, so a ticket cannot be forged or replayed
 * into another user's statement. Bounded: the oldest entries are dropped past MAX_ENTRIES.
 * A ticket's life: 't' issued, 'r' while its DoGet runs (the entry names the call, so
 * CancelFlightInfo can stop it), 'x' cancelled before DoGet; gone once used or expired. */
#include "flight_int.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ENTRIES 4096
#define TICKET_TTL_S 600
#define CANCEL_WAIT_S 5 /* how long CancelFlightInfo waits for a running DoGet to stop */

typedef struct entry {
    char kind;
    char handle[FL_HANDLE_LEN + 1];
    char prep[FL_HANDLE_LEN + 1]; /* tickets of a prepared statement: its handle */
    int owner;
    char *sql;
    int is_update;
    rhei_query_opts opts;
    time_t made;
    fl_params params;
    fl_call *run; /* 'r': the DoGet call serving the ticket */
} entry;

struct fl_registry {
    pthread_mutex_t mu;
    pthread_cond_t ended; /* a running ticket ('r') was removed */
    entry *e;
    size_t n, cap;
};

fl_registry *fl_registry_new(void)
{
    fl_registry *r = calloc(1, sizeof *r);
    if (r) {
        pthread_mutex_init(&r->mu, NULL);
        pthread_cond_init(&r->ended, NULL);
    }
    return r;
}

static void params_release(fl_params *p)
{
    if (p->batch.release)
        p->batch.release(&p->batch);
    if (p->schema.release)
        p->schema.release(&p->schema);
    memset(p, 0, sizeof *p);
}

static void drop(fl_registry *r, size_t i)
{
    free(r->e[i].sql);
    params_release(&r->e[i].params);
    memmove(&r->e[i], &r->e[i + 1], (r->n - i - 1) * sizeof *r->e);
    r->n--;
}

void fl_registry_free(fl_registry *r)
{
    if (!r)
        return;
    while (r->n)
        drop(r, r->n - 1);
    free(r->e);
    pthread_cond_destroy(&r->ended);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* Drops expired tickets (issued or cancelled) and, past the bound, the oldest entry that is
 * not a running DoGet (those are at most one per worker and end by themselves). */
static void expire(fl_registry *r)
{
    time_t now = time(NULL);
    for (size_t i = r->n; i-- > 0;)
        if ((r->e[i].kind == 't' || r->e[i].kind == 'x') && now - r->e[i].made > TICKET_TTL_S)
            drop(r, i);
    for (size_t i = 0; r->n >= MAX_ENTRIES && i < r->n; i++)
        if (r->e[i].kind != 'r') {
            drop(r, i);
            break;
        }
}

static entry *find(fl_registry *r, char kind, int owner, const char *h, size_t hlen, size_t *at)
{
    if (hlen != FL_HANDLE_LEN)
        return NULL;
    for (size_t i = 0; i < r->n; i++)
        if (r->e[i].kind == kind && r->e[i].owner == owner &&
            memcmp(r->e[i].handle, h, FL_HANDLE_LEN) == 0) {
            if (at)
                *at = i;
            return &r->e[i];
        }
    return NULL;
}

int fl_registry_add(fl_registry *r, char kind, int owner, const char *sql, int is_update,
                    const rhei_query_opts *o, const char *prep, char *handle)
{
    char *copy = strdup(sql ? sql : "");
    if (!copy)
        return FL_RESOURCE;
    pthread_mutex_lock(&r->mu);
    expire(r);
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        entry *e = realloc(r->e, cap * sizeof *e);
        if (!e) {
            pthread_mutex_unlock(&r->mu);
            free(copy);
            return FL_RESOURCE;
        }
        r->e = e;
        r->cap = cap;
    }
    entry *e = &r->e[r->n++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    fl_random_hex(e->handle, FL_HANDLE_LEN);
    if (prep)
        memcpy(e->prep, prep, FL_HANDLE_LEN + 1);
    e->owner = owner;
    e->sql = copy;
    e->is_update = is_update;
    e->opts = *o;
    e->made = time(NULL);
    memcpy(handle, e->handle, FL_HANDLE_LEN + 1);
    pthread_mutex_unlock(&r->mu);
    return FL_OK;
}

int fl_registry_take(fl_registry *r, char kind, int owner, const char *handle, size_t hlen,
                     char **sql, int *is_update, rhei_query_opts *o, char *prep_out)
{
    size_t at;
    int rc = FL_NOT_FOUND;
    *sql = NULL;
    pthread_mutex_lock(&r->mu);
    expire(r);
    entry *e = find(r, kind, owner, handle, hlen, &at);
    if (e && (*sql = strdup(e->sql))) {
        *is_update = e->is_update;
        *o = e->opts;
        if (prep_out)
            memcpy(prep_out, e->prep, FL_HANDLE_LEN + 1);
        if (kind == 't')
            drop(r, at);
        rc = FL_OK;
    } else if (e) {
        rc = FL_RESOURCE;
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

/* A ticket of this owner in any state ('t', 'r', 'x'). */
static entry *find_ticket(fl_registry *r, int owner, const char *h, size_t hlen, size_t *at)
{
    entry *e = find(r, 't', owner, h, hlen, at);
    if (!e)
        e = find(r, 'r', owner, h, hlen, at);
    return e ? e : find(r, 'x', owner, h, hlen, at);
}

int fl_registry_start(fl_registry *r, int owner, const char *handle, size_t hlen, fl_call *c,
                      char **sql, rhei_query_opts *o, char *prep_out)
{
    size_t at;
    int rc = FL_NOT_FOUND;
    *sql = NULL;
    pthread_mutex_lock(&r->mu);
    expire(r);
    entry *e = find_ticket(r, owner, handle, hlen, &at);
    if (e && e->kind == 'x') {
        drop(r, at);
        rc = FL_CANCELLED;
    } else if (e && e->kind == 't' && (*sql = strdup(e->sql))) {
        *o = e->opts;
        memcpy(prep_out, e->prep, FL_HANDLE_LEN + 1);
        e->kind = 'r';
        e->run = c;
        rc = FL_OK;
    } else if (e && e->kind == 't') {
        rc = FL_RESOURCE;
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

void fl_registry_end(fl_registry *r, fl_call *c)
{
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n; i++)
        if (r->e[i].kind == 'r' && r->e[i].run == c) {
            drop(r, i);
            pthread_cond_broadcast(&r->ended);
            break;
        }
    pthread_mutex_unlock(&r->mu);
}

int fl_registry_cancel(fl_registry *r, int owner, const char *handle, size_t hlen)
{
    size_t at;
    int st = FL_CANCEL_NOT_CANCELLABLE;
    pthread_mutex_lock(&r->mu);
    expire(r);
    entry *e = find_ticket(r, owner, handle, hlen, &at);
    if (e && e->kind != 'r') {
        e->kind = 'x';
        e->made = time(NULL);
        st = FL_CANCEL_CANCELLED;
    } else if (e) {
        /* The call ends at once for its client; the token stops the query even while it
         * computes its first batch; the worker sees the flag (or a failed send) and releases
         * the stream. */
        atomic_store(&e->run->cancelled, 1);
        rhei_cancel_fire(e->run->cancel);
        grpc_call_cancel_with_status(e->run->call, GRPC_STATUS_CANCELLED,
                                     "the query was cancelled (CancelFlightInfo)", NULL);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += CANCEL_WAIT_S;
        st = FL_CANCEL_CANCELLING;
        while (find(r, 'r', owner, handle, hlen, NULL)) {
            if (pthread_cond_timedwait(&r->ended, &r->mu, &until) == ETIMEDOUT)
                break;
        }
        if (!find(r, 'r', owner, handle, hlen, NULL))
            st = FL_CANCEL_CANCELLED; /* the stream was released: the query stopped */
    }
    pthread_mutex_unlock(&r->mu);
    return st;
}

int fl_registry_bind(fl_registry *r, int owner, const char *handle, size_t hlen, fl_params *p)
{
    pthread_mutex_lock(&r->mu);
    entry *e = find(r, 'p', owner, handle, hlen, NULL);
    if (e) {
        params_release(&e->params);
        e->params = *p;
        memset(p, 0, sizeof *p);
    }
    pthread_mutex_unlock(&r->mu);
    return e ? FL_OK : FL_NOT_FOUND;
}

int fl_registry_remove(fl_registry *r, int owner, const char *handle, size_t hlen)
{
    size_t at;
    pthread_mutex_lock(&r->mu);
    entry *e = find(r, 'p', owner, handle, hlen, &at);
    if (e)
        drop(r, at);
    pthread_mutex_unlock(&r->mu);
    return e ? FL_OK : FL_NOT_FOUND;
}

static int bit(const void *bits, int64_t i)
{
    return !bits || (((const uint8_t *)bits)[i / 8] >> (i % 8) & 1);
}

/* One cell as a value; text and blob bytes are appended to *mem (offsets fixed up later). */
static int cell(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t row,
                rhei_value *v, char *err)
{
    const char *f = s->format;
    int64_t i = a->offset + row;
    memset(v, 0, sizeof *v);
    if (!strcmp(f, "n") || (a->null_count && !bit(a->buffers[0], i)))
        return v->type = RHEI_TYPE_NULL, 0;
    const void *d = a->buffers[1];
    switch (f[0]) {
    case 'c': *v = rhei_int(((const int8_t *)d)[i]); return 0;
    case 'C': *v = rhei_int(((const uint8_t *)d)[i]); return 0;
    case 's': *v = rhei_int(((const int16_t *)d)[i]); return 0;
    case 'S': *v = rhei_int(((const uint16_t *)d)[i]); return 0;
    case 'i': if (!f[1]) { *v = rhei_int(((const int32_t *)d)[i]); return 0; } break;
    case 'I': *v = rhei_int(((const uint32_t *)d)[i]); return 0;
    case 'l': *v = rhei_int(((const int64_t *)d)[i]); return 0;
    case 'L': *v = rhei_int((int64_t)((const uint64_t *)d)[i]); return 0;
    case 'f': *v = rhei_real(((const float *)d)[i]); return 0;
    case 'g': *v = rhei_real(((const double *)d)[i]); return 0;
    case 'b': *v = rhei_int(bit(d, i)); v->type = RHEI_TYPE_BOOLEAN; return 0;
    case 'u': case 'z': case 'U': case 'Z': {
        int wide = f[0] == 'U' || f[0] == 'Z';
        int64_t lo = wide ? ((const int64_t *)d)[i] : ((const int32_t *)d)[i];
        int64_t hi = wide ? ((const int64_t *)d)[i + 1] : ((const int32_t *)d)[i + 1];
        v->type = f[0] == 'u' || f[0] == 'U' ? RHEI_TYPE_TEXT : RHEI_TYPE_BLOB;
        v->s = (const char *)a->buffers[2] + lo;
        v->n = (size_t)(hi - lo);
        return 0;
    }
    case 't':
        if (!strcmp(f, "tdD")) {
            *v = rhei_int(((const int32_t *)d)[i]);
            v->type = RHEI_TYPE_DATE;
            return 0;
        }
        if (f[1] == 's' && f[3] == ':') {
            int64_t x = ((const int64_t *)d)[i];
            x = f[2] == 's' ? x * 1000000 : f[2] == 'm' ? x * 1000 : f[2] == 'n' ? x / 1000 : x;
            *v = rhei_int(x);
            v->type = RHEI_TYPE_TIMESTAMP;
            return 0;
        }
        break;
    default: break;
    }
    snprintf(err, FL_ERR_MAX, "parameter '%s' has arrow type '%s', which cannot be bound",
             s->name ? s->name : "", f);
    return -1;
}

int fl_registry_params(fl_registry *r, int owner, const char *handle, int64_t row,
                       rhei_value **out, size_t *out_n, int64_t *out_rows, char **out_mem,
                       char *err)
{
    int rc = FL_OK;
    *out = NULL;
    *out_n = 0;
    *out_rows = 0;
    *out_mem = NULL;
    pthread_mutex_lock(&r->mu);
    entry *e = find(r, 'p', owner, handle, strlen(handle), NULL);
    if (!e) {
        rc = FL_NOT_FOUND;
    } else if (e->params.batch.release && row < e->params.batch.length) {
        const struct ArrowArray *b = &e->params.batch;
        size_t n = (size_t)b->n_children, bytes = 0;
        rhei_value *v = calloc(n + 1, sizeof *v);
        rc = v ? FL_OK : FL_RESOURCE;
        for (size_t i = 0; rc == FL_OK && i < n; i++) {
            if (cell(e->params.schema.children[i], b->children[i], row, &v[i], err))
                rc = FL_INVALID;
            else if (v[i].type == RHEI_TYPE_TEXT || v[i].type == RHEI_TYPE_BLOB)
                bytes += v[i].n + 1;
        }
        char *mem = rc == FL_OK ? malloc(bytes + 1) : NULL;
        if (rc == FL_OK && !mem)
            rc = FL_RESOURCE;
        for (size_t i = 0, at = 0; rc == FL_OK && i < n; i++)
            if (v[i].type == RHEI_TYPE_TEXT || v[i].type == RHEI_TYPE_BLOB) {
                memcpy(mem + at, v[i].s, v[i].n);
                mem[at + v[i].n] = '\0';
                v[i].s = mem + at;
                at += v[i].n + 1;
            }
        if (rc == FL_OK) {
            *out = v, *out_n = n, *out_mem = mem;
            *out_rows = b->length;
        } else {
            free(v);
            free(mem);
        }
    } else if (e->params.batch.release) {
        *out_rows = e->params.batch.length;
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}
