/* toml_get.c — reading a TOML file into a tree, and lookups in the tree: by key, by index,
 * by dotted path, typed. */
#include "toml.h"
#include "buf.h"
#include "mem.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


const rhei__toml *rhei__toml_get(const rhei__toml *t, const char *key)
{
    if (!t || !key || t->kind != RHEI__TOML_TABLE)
        return NULL;
    return rhei__toml_member(t, key, strlen(key));
}

const rhei__toml *rhei__toml_at(const rhei__toml *t, size_t i)
{
    if (!t || (t->kind != RHEI__TOML_TABLE && t->kind != RHEI__TOML_ARRAY) || i >= t->count)
        return NULL;
    return t->items[i];
}

const rhei__toml *rhei__toml_find(const rhei__toml *root, const char *path)
{
    const rhei__toml *t = root;
    const char *s = path;
    while (t && s && *s) {
        const char *dot = strchr(s, '.');
        size_t n = dot ? (size_t)(dot - s) : strlen(s);
        if (t->kind == RHEI__TOML_TABLE) {
            t = rhei__toml_member(t, s, n);
        } else if (t->kind == RHEI__TOML_ARRAY && n > 0 && n < 10 &&
                   strspn(s, "0123456789") >= n) {
            t = rhei__toml_at(t, (size_t)strtoul(s, NULL, 10));
        } else {
            t = NULL;
        }
        s = dot ? dot + 1 : NULL;
    }
    return path ? t : NULL;
}

static int typed(const rhei__toml *root, const char *path, rhei__toml_kind k,
                 const rhei__toml **out)
{
    *out = rhei__toml_find(root, path);
    if (!*out)
        return RHEI_NOTFOUND;
    return (*out)->kind == k ? RHEI_OK : RHEI_TYPE;
}

int rhei__toml_string(const rhei__toml *root, const char *path, const char **out)
{
    const rhei__toml *t;
    int rc = typed(root, path, RHEI__TOML_STRING, &t);
    if (rc == RHEI_OK)
        *out = t->str;
    return rc;
}

int rhei__toml_int(const rhei__toml *root, const char *path, int64_t *out)
{
    const rhei__toml *t;
    int rc = typed(root, path, RHEI__TOML_INTEGER, &t);
    if (rc == RHEI_OK)
        *out = t->i;
    return rc;
}

int rhei__toml_float(const rhei__toml *root, const char *path, double *out)
{
    const rhei__toml *t;
    int rc = typed(root, path, RHEI__TOML_FLOAT, &t);
    if (rc == RHEI_OK)
        *out = t->f;
    return rc;
}

int rhei__toml_bool(const rhei__toml *root, const char *path, int *out)
{
    const rhei__toml *t;
    int rc = typed(root, path, RHEI__TOML_BOOL, &t);
    if (rc == RHEI_OK)
        *out = (int)t->i;
    return rc;
}

int rhei__toml_parse_file(const char *path, rhei__toml **out, rhei__err *e)
{
    char chunk[16384];
    rhei__buf b = RHEI__BUF_INIT;
    int rc = RHEI_OK;
    size_t got;
    *out = NULL;
    b.max = RHEI__TOML_MAX_BYTES;
    FILE *f = fopen(path, "rb");
    if (!f)
        return rhei__err_set(e, RHEI_IO, "cannot open '%s': %s", path, strerror(errno));
    while (!b.failed && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        rhei__buf_append(&b, chunk, got);
    if (b.failed == RHEI_NOMEM)
        rc = rhei__err_nomem(e);
    else if (b.failed)
        rc = rhei__err_set(e, RHEI_CONFIG, "%s: larger than the %u-byte limit of a config "
                           "file", path, (unsigned)RHEI__TOML_MAX_BYTES);
    else if (ferror(f))
        rc = rhei__err_set(e, RHEI_IO, "cannot read '%s': %s", path, strerror(errno));
    fclose(f);
    if (rc == RHEI_OK)
        rc = rhei__toml_parse(b.p, b.len, path, out, e);
    rhei__buf_free(&b);
    return rc;
}
