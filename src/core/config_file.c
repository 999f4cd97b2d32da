/* config_file.c — rhei_config_load_file: a TOML file applied key by key through
 * rhei_config_set, so a file and the API accept exactly the same keys and values, except
 * that relative paths resolve against the file's folder. Every error names the file position
 * of the offending key; a failed load leaves cfg unchanged. */
#include "buf.h"
#include "config.h"
#include "mem.h"
#include "toml.h"
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define KEY_PATH_MAX 1024 /* longest dotted key path; real keys are a few dozen bytes */

/* Top-level tables a config file may have; only [engine]'s keys lose their prefix. (No
 * [log]: nothing reads log settings from a file; rh serve takes --log FILE.) */
static const char *const allowed[] = {"engine", "sidecar", "flight", "metrics"};

typedef struct loader {
    rhei_config *cfg;    /* receives the values */
    rhei_config *report; /* receives the error message: always the caller's config */
    const char *path;
    rhei__buf key;       /* dotted TOML path of the current value: "engine.sync_mode" */
    const rhei__toml *port; /* the metrics port already set ([engine] metrics_port or
                             * [metrics] port: one setting, given twice is an error) */
    char port_key[24];
} loader;

static int fail_at(loader *L, const rhei__toml *at, const char *fmt, ...) RHEI__PRINTF(3, 4);

/* Sets "path:line:col: reason" on the caller's config; returns RHEI_CONFIG. */
static int fail_at(loader *L, const rhei__toml *at, const char *fmt, ...)
{
    char why[RHEI__ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    rhei__config_set_error(L->report, "%s:%d:%d: %s", L->path, at->line, at->col, why);
    return RHEI_CONFIG;
}

/* Replaces the last path component(s) after mark with ".name" (or "name" at the top). */
static int key_push(loader *L, size_t mark, const char *name, size_t n)
{
    L->key.len = mark;
    if (L->key.p)
        L->key.p[mark] = '\0';
    if (mark)
        rhei__buf_append(&L->key, ".", 1);
    rhei__buf_append(&L->key, name, n);
    return L->key.failed;
}

/* Where a relative path of the file points: its folder, not the reader's working directory
 * (`rh serve --config /etc/rhei/htap.toml` started anywhere finds the same database). Paths
 * are oltp_path, olap_path and a "sqlite:" sidecar source; ":memory:", "file:" URIs and
 * absolute paths stay as written. Returns the text to set: value, or out when rewritten. */
static const char *resolve_path(const loader *L, const char *key, const char *value, char *out,
                                size_t cap)
{
    const char *rel = value, *prefix = "";
    if (strcmp(key, "sidecar.source") == 0) {
        if (strncmp(value, "sqlite:", 7) != 0)
            return value;
        rel = value + 7, prefix = "sqlite:";
    } else if (strcmp(key, "oltp_path") != 0 && strcmp(key, "olap_path") != 0) {
        return value;
    }
    const char *slash = strrchr(L->path, '/');
    if (!*rel || *rel == '/' || !slash || strcmp(rel, ":memory:") == 0 ||
        strncmp(rel, "file:", 5) == 0)
        return value;
    int n = snprintf(out, cap, "%s%.*s/%s", prefix, (int)(slash - L->path), L->path, rel);
    return n > 0 && (size_t)n < cap ? out : value; /* too long: as written, opening fails */
}

static int set_value(loader *L, const rhei__toml *v)
{
    char resolved[4096];
    char num[64], why[RHEI__ERRMSG_MAX];
    const char *text = num;
    const char *full = rhei__buf_str(&L->key);
    const char *key = strncmp(full, "engine.", 7) == 0 ? full + 7 : full;
    /* a path given as a number or a boolean would name a file "5" in the working folder */
    if (v->kind != RHEI__TOML_STRING &&
        (strcmp(key, "oltp_path") == 0 || strcmp(key, "olap_path") == 0))
        return fail_at(L, v, "value of '%s' must be a string (a path in quotes)", full);
    if (strcmp(key, "metrics_port") == 0 || strcmp(key, "metrics.port") == 0) {
        if (L->port)
            return fail_at(L, v,
                           "'%s' sets the metrics port already set by '%s' at line %d:"
                           " give it once",
                           full, L->port_key, L->port->line);
        L->port = v;
        snprintf(L->port_key, sizeof L->port_key, "%s", full);
    }
    switch (v->kind) {
    case RHEI__TOML_STRING:
        if (strlen(v->str) != v->len)
            return fail_at(L, v, "value of '%s' contains a NUL character", full);
        text = resolve_path(L, key, v->str, resolved, sizeof resolved);
        break;
    case RHEI__TOML_INTEGER: snprintf(num, sizeof num, "%" PRId64, v->i); break;
    case RHEI__TOML_FLOAT: snprintf(num, sizeof num, "%.17g", v->f); break;
    default: snprintf(num, sizeof num, "%s", v->i ? "true" : "false"); break;
    }
    int rc = rhei_config_set(L->cfg, key, text);
    if (rc == RHEI_OK || rc == RHEI_NOMEM) {
        if (rc)
            rhei__config_set_error(L->report, "out of memory");
        return rc;
    }
    if (!rhei_config_get(L->cfg, key))
        return fail_at(L, v, "unknown key '%s'", full);
    /* copied first: the message lives in a config that the next call may overwrite */
    snprintf(why, sizeof why, "%s", rhei_config_errmsg(L->cfg));
    return fail_at(L, v, "%s", why);
}

/* Applies v under the current key path: tables recurse with ".key", arrays with ".index"
 * ([[sidecar.tables]] -> "sidecar.tables.0.name"); recursion is bounded by the TOML
 * nesting limit. */
static int apply(loader *L, const rhei__toml *v)
{
    size_t mark = L->key.len;
    int rc = RHEI_OK;
    if (v->kind != RHEI__TOML_TABLE && v->kind != RHEI__TOML_ARRAY)
        return set_value(L, v);
    for (size_t i = 0; rc == RHEI_OK && i < v->count; i++) {
        const rhei__toml *m = v->items[i];
        char idx[24];
        if (v->kind == RHEI__TOML_TABLE && strlen(m->key) != m->key_len)
            return fail_at(L, m, "key '%s' contains a NUL character", m->key);
        if (v->kind == RHEI__TOML_ARRAY)
            snprintf(idx, sizeof idx, "%zu", i);
        const char *name = v->kind == RHEI__TOML_TABLE ? m->key : idx;
        if (key_push(L, mark, name, strlen(name)))
            return L->key.failed == RHEI_NOMEM ? RHEI_NOMEM
                                               : fail_at(L, m, "key path too long at '%s'", name);
        rc = apply(L, m);
    }
    return rc;
}

static int is_allowed(const char *name)
{
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (strcmp(name, allowed[i]) == 0)
            return 1;
    return 0;
}

static int apply_root(loader *L, const rhei__toml *root)
{
    for (size_t i = 0; i < root->count; i++) {
        const rhei__toml *t = root->items[i];
        int rc;
        if (t->kind != RHEI__TOML_TABLE && t->kind != RHEI__TOML_ARRAY)
            return fail_at(L, t, "key '%s' must be inside a table such as [engine]", t->key);
        if (!is_allowed(t->key) || strlen(t->key) != t->key_len)
            return fail_at(L, t,
                           "unknown table '%s' (expected engine, sidecar, flight or "
                           "metrics)",
                           t->key);
        if (t->kind != RHEI__TOML_TABLE)
            return fail_at(L, t, "'%s' must be a table, not an array", t->key);
        rhei__buf_reset(&L->key);
        if ((rc = key_push(L, 0, t->key, t->key_len)) || (rc = apply(L, t)))
            return rc;
    }
    return RHEI_OK;
}

/* Runs the file through cfg; on failure the message is in report. */
static int load(const rhei__toml *root, rhei_config *cfg, rhei_config *report,
                const char *path)
{
    loader L = {cfg, report, path, RHEI__BUF_INIT, NULL, ""};
    L.key.max = KEY_PATH_MAX;
    int rc = apply_root(&L, root);
    rhei__buf_free(&L.key);
    return rc;
}

int rhei_config_load_file(rhei_config *cfg, const char *path)
{
    rhei__toml *root = NULL;
    rhei_config *scratch = NULL;
    rhei__err e;
    int rc;
    if (!cfg)
        return RHEI_MISUSE;
    if (!path) {
        rhei__config_set_error(cfg, "cannot load config: no file path given");
        return RHEI_MISUSE;
    }
    rhei__err_clear(&e);
    rc = rhei__toml_parse_file(path, &root, &e);
    if (rc) {
        rhei__config_set_error(cfg, "%s", e.msg);
        return rc == RHEI_NOMEM ? RHEI_NOMEM : RHEI_CONFIG;
    }
    /* A checking pass on a copy first, so a bad file leaves cfg as it was. */
    rc = rhei__config_copy(cfg, &scratch);
    if (rc)
        rhei__config_set_error(cfg, "cannot load config '%s': %s", path, rhei_errstr(rc));
    if (rc == RHEI_OK)
        rc = load(root, scratch, cfg, path);
    if (rc == RHEI_OK)
        rc = load(root, cfg, cfg, path);
    rhei_config_free(scratch);
    rhei__toml_free(root);
    return rc;
}
