/* schema.c — table descriptors and the declared-type map (documented in rhei.h). */
#include "schema.h"
#include "mem.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int has_word(const char *upper, const char *w) { return strstr(upper, w) != NULL; }

static void parse_precision(const char *decl, int *p, int *s)
{
    const char *open = strchr(decl, '(');
    *p = 18;
    *s = 3;
    if (!open)
        return;
    char *end = NULL;
    long pp = strtol(open + 1, &end, 10);
    if (end == open + 1 || pp < 1 || pp > 38)
        return;
    *p = (int)pp;
    *s = 0;
    while (*end == ' ')
        end++;
    if (*end == ',') {
        long ss = strtol(end + 1, NULL, 10);
        if (ss >= 0 && ss <= pp)
            *s = (int)ss;
    }
}

void rhei__type_from_decl(const char *decl, rhei_type *out_type, int *out_p, int *out_s)
{
    char up[128];
    size_t n = 0;
    for (; decl && decl[n] && n < sizeof up - 1; n++)
        up[n] = (char)toupper((unsigned char)decl[n]);
    up[n] = '\0';
    *out_p = 0;
    *out_s = 0;
    /* Names first, so DECIMAL/BOOLEAN/DATE are not swallowed by affinity. */
    if (has_word(up, "BOOL")) {
        *out_type = RHEI_TYPE_BOOLEAN;
    } else if (has_word(up, "DECIMAL") || has_word(up, "NUMERIC")) {
        *out_type = RHEI_TYPE_DECIMAL;
        parse_precision(up, out_p, out_s);
    } else if (has_word(up, "TIMESTAMP") || has_word(up, "DATETIME")) {
        *out_type = RHEI_TYPE_TIMESTAMP;
    } else if (strcmp(up, "DATE") == 0) {
        *out_type = RHEI_TYPE_DATE;
    } else if (has_word(up, "INT")) { /* SQLite affinity rule 1 */
        *out_type = RHEI_TYPE_INTEGER;
    } else if (has_word(up, "CHAR") || has_word(up, "CLOB") || has_word(up, "TEXT")) {
        *out_type = RHEI_TYPE_TEXT; /* rule 2 */
    } else if (n == 0 || has_word(up, "BLOB")) {
        *out_type = RHEI_TYPE_BLOB; /* rule 3 */
    } else if (has_word(up, "REAL") || has_word(up, "FLOA") || has_word(up, "DOUB")) {
        *out_type = RHEI_TYPE_REAL; /* rule 4 */
    } else {
        *out_type = RHEI_TYPE_DECIMAL; /* rule 5: NUMERIC affinity */
        *out_p = 38;
        *out_s = 10;
    }
}

void rhei__table_free(rhei__table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->ncols; i++) {
        rhei__free(t->cols[i].name);
        rhei__free(t->cols[i].decl);
    }
    rhei__free(t->cols);
    rhei__free(t->pk_idx);
    rhei__free(t->name);
    rhei__free(t);
}

int rhei__table_new(const char *name, int64_t tid, const rhei__colspec *cols, size_t ncols,
                    rhei__table **out, rhei__err *e)
{
    *out = NULL;
    rhei__table *t = rhei__calloc(1, sizeof *t);
    if (!t)
        return rhei__err_nomem(e);
    t->tid = tid;
    t->name = rhei__strdup(name);
    t->cols = rhei__calloc(ncols, sizeof *t->cols);
    t->pk_idx = rhei__calloc(ncols, sizeof *t->pk_idx);
    if (!t->name || !t->cols || !t->pk_idx)
        goto nomem;
    for (size_t i = 0; i < ncols; i++) {
        rhei__colspec *c = &t->cols[i];
        *c = cols[i];
        c->name = rhei__strdup(cols[i].name);
        c->decl = rhei__strdup(cols[i].decl ? cols[i].decl : "");
        t->ncols = i + 1;
        if (!c->name || !c->decl)
            goto nomem;
    }
    for (size_t k = 1; k <= ncols; k++) {
        for (size_t i = 0; i < ncols; i++)
            if (t->cols[i].pk == (int)k)
                t->pk_idx[t->npk++] = i;
        if (t->npk < k)
            break;
    }
    *out = t;
    return RHEI_OK;
nomem:
    rhei__table_free(t);
    return rhei__err_nomem(e);
}

rhei__table *rhei__table_clone(const rhei__table *t)
{
    rhei__table *c = NULL;
    rhei__err e;
    rhei__table_new(t->name, t->tid, t->cols, t->ncols, &c, &e);
    return c;
}

long rhei__table_col(const rhei__table *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcasecmp(t->cols[i].name, name) == 0)
            return (long)i;
    return -1;
}

int rhei__table_same_shape(const rhei__table *a, const rhei__table *b)
{
    if (a->ncols != b->ncols || a->npk != b->npk)
        return 0;
    for (size_t i = 0; i < a->ncols; i++) {
        const rhei__colspec *x = &a->cols[i], *y = &b->cols[i];
        if (strcasecmp(x->name, y->name) != 0 || x->type != y->type || x->pk != y->pk ||
            x->precision != y->precision || x->scale != y->scale)
            return 0;
    }
    return 1;
}
