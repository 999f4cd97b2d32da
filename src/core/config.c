/* config.c — engine configuration: one table of keys, each with a parser that validates
 * its text form and stores the typed field. Unknown keys and malformed values are errors
 * that name the key. */
#include "config.h"
#include "mem.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*parse_fn)(rhei_config *c, const char *key, const char *v);

typedef struct key_def {
    const char *key;
    const char *def;
    parse_fn parse;
} key_def;

static int bad(rhei_config *c, const char *key, const char *v, const char *why)
{
    rhei__config_set_error(c, "invalid value '%s' for config key '%s': %s", v, key, why);
    return RHEI_CONFIG;
}

static int parse_int(rhei_config *c, const char *key, const char *v, int64_t lo, int64_t hi,
                     int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || errno)
        return bad(c, key, v, "expected an integer");
    if (x < lo || x > hi) {
        rhei__config_set_error(c, "invalid value '%s' for config key '%s': must be in %lld..%lld",
                               v, key, (long long)lo, (long long)hi);
        return RHEI_CONFIG;
    }
    *out = x;
    return RHEI_OK;
}

static int set_str(char **field, const char *v)
{
    char *d = rhei__strdup(v);
    if (!d)
        return RHEI_NOMEM;
    rhei__free(*field);
    *field = d;
    return RHEI_OK;
}

static int p_oltp_path(rhei_config *c, const char *k, const char *v)
{
    if (!*v)
        return bad(c, k, v, "must not be empty");
    return set_str(&c->oltp_path, v);
}

static int p_olap_path(rhei_config *c, const char *k, const char *v)
{
    if (!*v)
        return bad(c, k, v, "use \":memory:\" for an in-memory OLAP side");
    return set_str(&c->olap_path, v);
}

static int p_sync_mode(rhei_config *c, const char *k, const char *v)
{
    if (strcmp(v, "mirror") == 0)
        c->sync_mode = RHEI__SYNC_MIRROR;
    else if (strcmp(v, "history") == 0)
        c->sync_mode = RHEI__SYNC_HISTORY;
    else
        return bad(c, k, v, "expected \"mirror\" or \"history\"");
    return RHEI_OK;
}

static int p_synchronous(rhei_config *c, const char *k, const char *v)
{
    if (strcmp(v, "normal") == 0)
        c->synchronous_full = 0;
    else if (strcmp(v, "full") == 0)
        c->synchronous_full = 1;
    else
        return bad(c, k, v, "expected \"normal\" or \"full\"");
    return RHEI_OK;
}

static int p_external_access(rhei_config *c, const char *k, const char *v)
{
    if (strcmp(v, "true") == 0)
        c->olap_external_access = 1;
    else if (strcmp(v, "false") == 0)
        c->olap_external_access = 0;
    else
        return bad(c, k, v, "expected true or false");
    return RHEI_OK;
}

static int p_memory_limit(rhei_config *c, const char *k, const char *v)
{
    for (const char *p = v; *p; p++)
        if (!(*p >= '0' && *p <= '9') && !strchr("KMGTBkmgtbiI. ", *p))
            return bad(c, k, v, "expected a size such as \"2GB\"");
    return set_str(&c->olap_memory_limit, v);
}

#define INT_KEY(fn, field, lo, hi)                                                          \
    static int fn(rhei_config *c, const char *k, const char *v)                             \
    {                                                                                       \
        return parse_int(c, k, v, lo, hi, &c->field);                                       \
    }
INT_KEY(p_sync_interval, sync_interval_ms, 0, 86400000)
INT_KEY(p_batch_size, batch_size, 1, 100000000)
INT_KEY(p_read_pool, read_pool_size, 1, 256)
INT_KEY(p_olap_threads, olap_threads, 0, 1024)
INT_KEY(p_busy_timeout, busy_timeout_ms, 0, 3600000)
INT_KEY(p_oltp_mmap, oltp_mmap_mb, 0, 1048576)
INT_KEY(p_flight_port, flight_port, 0, 65535)
INT_KEY(p_metrics_port, metrics_port, 0, 65535)

static const key_def keys[RHEI__CONFIG_NKEYS] = {
    {"oltp_path", "", p_oltp_path},
    {"olap_path", ":memory:", p_olap_path},
    {"sync_mode", "mirror", p_sync_mode},
    {"sync_interval_ms", "0", p_sync_interval},
    {"batch_size", RHEI__STR(RHEI__BATCH_SIZE_DEFAULT), p_batch_size},
    {"read_pool_size", "4", p_read_pool},
    {"synchronous", "normal", p_synchronous},
    {"olap_threads", "0", p_olap_threads},
    {"olap_memory_limit", "", p_memory_limit},
    {"busy_timeout_ms", "5000", p_busy_timeout},
    {"oltp_mmap_mb", "1024", p_oltp_mmap},
    {"flight_port", "0", p_flight_port},
    {"metrics_port", "0", p_metrics_port},
    {"olap_external_access", "false", p_external_access},
};

const char *rhei_config_key(size_t i) { return i < RHEI__CONFIG_NKEYS ? keys[i].key : NULL; }

void rhei__config_set_error(rhei_config *cfg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cfg->errmsg, sizeof cfg->errmsg, fmt, ap);
    va_end(ap);
}

/* [metrics] port in a file is the same setting as [engine] metrics_port. */
static const char *alias(const char *key)
{
    return key && strcmp(key, "metrics.port") == 0 ? "metrics_port" : key;
}

int rhei_config_set(rhei_config *cfg, const char *key, const char *value)
{
    if (!cfg || !key || !value)
        return RHEI_MISUSE;
    key = alias(key);
    if (strncmp(key, "sidecar.", 8) == 0 || strncmp(key, "flight.", 7) == 0) {
        int rc = rhei__config_set_sidecar(cfg, key, value);
        if (rc == RHEI_NOMEM)
            rhei__config_set_error(cfg, "out of memory");
        return rc;
    }
    for (size_t i = 0; i < RHEI__CONFIG_NKEYS; i++) {
        if (strcmp(keys[i].key, key) != 0)
            continue;
        int rc = keys[i].parse(cfg, key, value);
        if (rc == RHEI_NOMEM)
            rhei__config_set_error(cfg, "out of memory");
        if (rc)
            return rc;
        rc = set_str(&cfg->text[i], value);
        if (rc == RHEI_NOMEM)
            rhei__config_set_error(cfg, "out of memory");
        return rc;
    }
    rhei__config_set_error(cfg, "unknown config key '%s'", key);
    return RHEI_CONFIG;
}

const char *rhei_config_get(const rhei_config *cfg, const char *key)
{
    key = alias(key);
    for (size_t i = 0; cfg && key && i < RHEI__CONFIG_NKEYS; i++)
        if (strcmp(keys[i].key, key) == 0)
            return cfg->text[i] ? cfg->text[i] : "";
    if (cfg && key && (strncmp(key, "sidecar.", 8) == 0 || strncmp(key, "flight.", 7) == 0)) {
        const char *v = rhei__config_kv(cfg, key);
        return v ? v : ""; /* a valid key not set reads as "" (unknown keys fail to set) */
    }
    return NULL;
}

const char *rhei_config_errmsg(const rhei_config *cfg) { return cfg ? cfg->errmsg : ""; }

void rhei_config_free(rhei_config *cfg)
{
    if (!cfg)
        return;
    rhei__free(cfg->oltp_path);
    rhei__free(cfg->olap_path);
    rhei__free(cfg->olap_memory_limit);
    for (size_t i = 0; i < RHEI__CONFIG_NKEYS; i++)
        rhei__free(cfg->text[i]);
    rhei__config_kv_free(cfg);
    rhei__free(cfg);
}

int rhei_config_new(rhei_config **out)
{
    if (!out)
        return RHEI_MISUSE;
    *out = NULL;
    rhei_config *c = rhei__calloc(1, sizeof *c);
    if (!c)
        return RHEI_NOMEM;
    for (size_t i = 1; i < RHEI__CONFIG_NKEYS; i++) { /* 0, oltp_path, has no default */
        int rc = rhei_config_set(c, keys[i].key, keys[i].def);
        if (rc) {
            rhei_config_free(c);
            return rc;
        }
    }
    *out = c;
    return RHEI_OK;
}

int rhei__config_copy(const rhei_config *src, rhei_config **out)
{
    rhei_config *c = NULL;
    int rc = rhei_config_new(&c);
    for (size_t i = 0; rc == RHEI_OK && i < RHEI__CONFIG_NKEYS; i++)
        if (src->text[i])
            rc = rhei_config_set(c, keys[i].key, src->text[i]);
    for (size_t i = 0; rc == RHEI_OK && i < src->nkv; i++)
        rc = rhei__config_set_sidecar(c, src->kv[i].key, src->kv[i].value);
    if (rc) {
        rhei_config_free(c);
        c = NULL;
    }
    *out = c;
    return rc;
}
