/* errmsg.c — rhei_errmsg/rhei_errcode: the last failure per (thread, handle). Each thread
 * keeps its own table of slots keyed by the handle's serial number (never reused), so
 * a failure on one handle never wipes another's message and nothing is shared between
 * threads. Slots of closed handles are dropped when the thread next adds a slot (the
 * table never outgrows the live handles it failed on) and all of them when it exits. */
#include "engine_int.h"
#include "mem.h"
#include <string.h>

typedef struct slot {
    uint64_t serial; /* 0: failures of rhei_open / calls on a NULL handle */
    int code;
    char msg[RHEI__ERRMSG_MAX];
} slot;

typedef struct table {
    slot *s;
    size_t n, cap;
} table;

static _Thread_local table *tl;
static pthread_key_t exit_key; /* frees a thread's table when it exits */
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

/* Serials of the open handles: lets a thread drop slots of closed ones. */
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t *live, next_serial = 1;
static size_t nlive, live_cap;

static void table_free(void *p)
{
    table *t = p;
    if (t) {
        rhei__free(t->s);
        rhei__free(t);
    }
}

static void make_key(void) { pthread_key_create(&exit_key, table_free); }

static int is_live(uint64_t serial) /* live_mu held */
{
    for (size_t i = 0; i < nlive; i++)
        if (live[i] == serial)
            return 1;
    return 0;
}

int rhei__errmsg_register(rhei_db *db)
{
    pthread_mutex_lock(&live_mu);
    int ok = rhei__grow((void **)&live, &live_cap, nlive + 1, sizeof *live) == RHEI_OK;
    if (ok) {
        db->serial = next_serial++;
        live[nlive++] = db->serial;
    }
    pthread_mutex_unlock(&live_mu);
    return ok ? RHEI_OK : RHEI_NOMEM;
}

void rhei__errmsg_unregister(rhei_db *db)
{
    if (!db->serial)
        return;
    pthread_mutex_lock(&live_mu);
    for (size_t i = 0; i < nlive; i++)
        if (live[i] == db->serial) {
            live[i] = live[--nlive];
            break;
        }
    if (!nlive) { /* nothing open: give the registry's memory back */
        rhei__free(live);
        live = NULL;
        live_cap = 0;
    }
    pthread_mutex_unlock(&live_mu);
    for (size_t i = 0; tl && i < tl->n; i++) /* this thread's slot goes at once */
        if (tl->s[i].serial == db->serial) {
            tl->s[i] = tl->s[--tl->n];
            break;
        }
}

static slot *find(uint64_t serial)
{
    for (size_t i = 0; tl && i < tl->n; i++)
        if (tl->s[i].serial == serial)
            return &tl->s[i];
    return NULL;
}

/* This thread's slot for serial, created (dropping slots of closed handles) if missing;
 * NULL when out of memory. */
static slot *slot_for(uint64_t serial)
{
    slot *s = find(serial);
    if (s)
        return s;
    pthread_once(&exit_once, make_key);
    if (!tl) {
        if (!(tl = rhei__calloc(1, sizeof *tl)))
            return NULL;
        pthread_setspecific(exit_key, tl);
    }
    pthread_mutex_lock(&live_mu);
    size_t k = 0;
    for (size_t i = 0; i < tl->n; i++)
        if (tl->s[i].serial == 0 || is_live(tl->s[i].serial))
            tl->s[k++] = tl->s[i];
    tl->n = k;
    pthread_mutex_unlock(&live_mu);
    if (rhei__grow((void **)&tl->s, &tl->cap, tl->n + 1, sizeof *tl->s) != RHEI_OK)
        return NULL;
    s = &tl->s[tl->n++];
    s->serial = serial;
    s->code = RHEI_OK;
    s->msg[0] = '\0';
    return s;
}

int rhei__engine_fail(const rhei_db *db, rhei__err *e)
{
    int code = e->code ? e->code : RHEI_ERROR;
    slot *s = slot_for(db ? db->serial : 0);
    if (s) { /* out of memory for a slot: the code still tells the caller */
        s->code = code;
        memcpy(s->msg, e->msg, sizeof s->msg);
    }
    return code;
}

const char *rhei_errmsg(const rhei_db *db)
{
    slot *s = find(db ? db->serial : 0);
    return s ? s->msg : "";
}

int rhei_errcode(const rhei_db *db)
{
    slot *s = find(db ? db->serial : 0);
    return s ? s->code : RHEI_OK;
}
