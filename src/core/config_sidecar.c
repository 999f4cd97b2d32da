/* config_sidecar.c — the sidecar's config keys ("sidecar.*"): validated when set, kept as
 * key/value text (the order of arrays is the index in the key), and turned into a
 * structured rhei__sidecar_conf when the engine opens. */
#include "config.h"
#include "mem.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TABLES 1024
#define MAX_PARTS 64

static const char *const int_keys[] = {"poll_interval_ms", "safety_delay_ms", "page_size",
                                       "reconcile_interval_ms"};
static const char *const table_str_keys[] = {"name", "updated_at", "created_at",
                                              "soft_delete", "timestamp_unit"};
static const char *const table_list_keys[] = {"primary_key", "columns"};

static int in(const char *s, size_t n, const char *const *set, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(set[i]) == n && strncmp(set[i], s, n) == 0)
            return 1;
    return 0;
}

/* Reads a decimal index at *p below lim, then expects '.' or the end (want_dot). */
static int index_at(const char **p, long lim, int want_dot, long *out)
{
    char *end = NULL;
    if (**p < '0' || **p > '9')
        return -1;
    errno = 0;
    long v = strtol(*p, &end, 10);
    if (errno || v < 0 || v >= lim || (want_dot ? *end != '.' : *end != '\0'))
        return -1;
    *p = want_dot ? end + 1 : end;
    *out = v;
    return 0;
}

static int bad(rhei_config *c, const char *key, const char *v, const char *why)
{
    rhei__config_set_error(c, "invalid value '%s' for config key '%s': %s", v, key, why);
    return RHEI_CONFIG;
}

/* Validates one "sidecar.*" key and its value. */
static int check(rhei_config *c, const char *key, const char *v)
{
    if (strncmp(key, "flight.", 7) == 0)
        return rhei__config_check_flight(c, key, v);
    const char *k = key + strlen("sidecar.");
    long idx, part;
    if (strcmp(k, "source") == 0) {
        if (strncmp(v, "sqlite:", 7) != 0 && strncmp(v, "postgres:", 9) != 0)
            return bad(c, key, v, "expected \"sqlite:PATH\" or \"postgres:CONNINFO\"");
        return RHEI_OK;
    }
    if (strcmp(k, "local_oltp") == 0) {
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
            return bad(c, key, v, "expected true or false");
        return RHEI_OK;
    }
    if (in(k, strlen(k), int_keys, sizeof int_keys / sizeof *int_keys)) {
        char *end = NULL;
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (!*v || *end || errno || x < 0)
            return bad(c, key, v, "expected a non-negative integer");
        return RHEI_OK;
    }
    if (strncmp(k, "tables.", 7) == 0) {
        const char *p = k + 7;
        if (index_at(&p, MAX_TABLES, 1, &idx) == 0) {
            const char *dot = strchr(p, '.');
            size_t n = dot ? (size_t)(dot - p) : strlen(p);
            if (!dot && in(p, n, table_str_keys, 5))
                return *v ? RHEI_OK : bad(c, key, v, "must not be empty");
            if (in(p, n, table_list_keys, 2)) {
                const char *q = dot ? dot + 1 : NULL;
                if (!q || index_at(&q, MAX_PARTS, 0, &part) == 0)
                    return *v ? RHEI_OK : bad(c, key, v, "must not be empty");
            }
        }
    }
    rhei__config_set_error(c, "unknown config key '%s'", key);
    return RHEI_CONFIG;
}

int rhei__config_set_sidecar(rhei_config *c, const char *key, const char *value)
{
    int rc = check(c, key, value);
    if (rc)
        return rc;
    for (size_t i = 0; i < c->nkv; i++) {
        if (strcmp(c->kv[i].key, key) == 0) {
            char *v = rhei__strdup(value);
            if (!v)
                return RHEI_NOMEM;
            rhei__free(c->kv[i].value);
            c->kv[i].value = v;
            return RHEI_OK;
        }
    }
    if (rhei__grow((void **)&c->kv, &c->kvcap, c->nkv + 1, sizeof *c->kv))
        return RHEI_NOMEM;
    c->kv[c->nkv].key = rhei__strdup(key);
    c->kv[c->nkv].value = rhei__strdup(value);
    if (!c->kv[c->nkv].key || !c->kv[c->nkv].value) {
        rhei__free(c->kv[c->nkv].key);
        rhei__free(c->kv[c->nkv].value);
        return RHEI_NOMEM;
    }
    c->nkv++;
    return RHEI_OK;
}

const char *rhei__config_kv(const rhei_config *c, const char *key)
{
    for (size_t i = 0; i < c->nkv; i++)
        if (strcmp(c->kv[i].key, key) == 0)
            return c->kv[i].value;
    return NULL;
}

void rhei__config_kv_free(rhei_config *c)
{
    for (size_t i = 0; i < c->nkv; i++) {
        rhei__free(c->kv[i].key);
        rhei__free(c->kv[i].value);
    }
    rhei__free(c->kv);
    c->kv = NULL;
    c->nkv = c->kvcap = 0;
}
