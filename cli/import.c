/* import.c — the REPL's `.import FILE TABLE`: a CSV file (RFC 4180, header line first) into a
 * table, all rows in one SQLite transaction (rhei_execute_batch: all or nothing) so capture
 * replicates them like any write. A missing table is created from the header (types inferred
 * from the values, the first column as primary key) and registered the way CREATE TABLE
 * through rh is. An empty unquoted field is NULL, "" an empty string, as rh's CSV output. */
#include "repl.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT_COLS_MAX 1000 /* SQLite's default column limit is 2000; keep statements small */

typedef struct csv {
    char *p, *end; /* the unread text; fields are unescaped in place and NUL-terminated */
    long line;
} csv;

/* Reads one field; *quoted says whether it was quoted. Returns the field, sets *last when it
 * ended its record. NULL on a malformed quote. */
static char *csv_field(csv *c, int *quoted, int *last)
{
    char *start = c->p, *w = c->p;
    *quoted = c->p < c->end && *c->p == '"';
    if (*quoted) {
        c->p++;
        for (;;) {
            if (c->p >= c->end)
                return NULL; /* unterminated quote */
            if (*c->p == '"' && c->p + 1 < c->end && c->p[1] == '"') {
                *w++ = '"', c->p += 2;
            } else if (*c->p == '"') {
                c->p++;
                break;
            } else {
                c->line += *c->p == '\n';
                *w++ = *c->p++;
            }
        }
        if (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
            return NULL; /* text after a closing quote */
    } else {
        while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
            *w++ = *c->p++;
    }
    *last = c->p >= c->end || *c->p != ',';
    if (c->p < c->end && *c->p == '\r')
        c->p++;
    if (c->p < c->end) {
        c->line += *c->p == '\n';
        c->p++;
    }
    *w = '\0';
    return start;
}

/* One record into vals (at most cap); returns the field count, -1 when malformed. */
static int csv_record(csv *c, rhei_value *vals, int cap)
{
    int n = 0, quoted, last = 0;
    while (!last) {
        char *f = csv_field(c, &quoted, &last);
        if (!f || n >= cap)
            return -1;
        vals[n++] = !quoted && !*f ? rhei_null() : rhei_text(f);
    }
    return n;
}

typedef struct import {
    rh_repl *r;
    const char *table;
    rhei_value *names; /* header */
    int ncols;
    rhei_value *vals;  /* nrows * ncols */
    size_t nrows;
} import;

/* INTEGER, REAL or TEXT: the narrowest type every non-NULL value of column c fits. */
static const char *infer_type(const import *im, int c)
{
    int integer = 1, real = 1;
    for (size_t i = 0; i < im->nrows && (integer || real); i++) {
        const rhei_value *v = &im->vals[i * (size_t)im->ncols + (size_t)c];
        char *end = NULL;
        if (v->type == RHEI_TYPE_NULL)
            continue;
        errno = 0;
        (void)strtoll(v->s, &end, 10);
        integer &= *v->s && !*end && errno == 0;
        (void)strtod(v->s, &end);
        real &= *v->s && !*end;
    }
    return integer ? "INTEGER" : real ? "REAL" : "TEXT";
}

static int create_table(import *im)
{
    size_t cap = 64 + (size_t)im->ncols * (2 * RH_NAME_MAX + 32), len;
    char *sql = malloc(cap), q[2 * RH_NAME_MAX + 4];
    int64_t changes = 0;
    if (!sql || rh_quote_ident(q, sizeof q, im->table) != 0) {
        free(sql);
        rh_err("cannot import into '%s': name too long or out of memory", im->table);
        return RH_EXIT_ERR;
    }
    len = (size_t)snprintf(sql, cap, "CREATE TABLE %s (", q);
    for (int c = 0; c < im->ncols; c++) {
        if (rh_quote_ident(q, sizeof q, im->names[c].s) != 0) {
            free(sql);
            rh_err("cannot import: column name '%.40s...' is too long", im->names[c].s);
            return RH_EXIT_ERR;
        }
        len += (size_t)snprintf(sql + len, cap - len, "%s%s %s%s", c ? ", " : "", q,
                                infer_type(im, c), c ? "" : " PRIMARY KEY");
    }
    snprintf(sql + len, cap - len, ")");
    int code = rh_run_write_stmt(&im->r->s, sql, strlen(sql), im->r->o.no_register, &changes);
    free(sql);
    return code;
}

static int table_exists(rh_repl *r, const char *table, int *out)
{
    rhei_value p = rhei_text(table);
    rhei_query_opts q = {RHEI_SIDE_OLTP, RHEI_EVENTUAL};
    rhei_result *res = NULL;
    int rc = rhei_query_ex(r->s.db,
                           "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND"
                           " name = ?1 COLLATE NOCASE", &p, 1, &q, &res);
    if (rc != RHEI_OK)
        return rh_db_err(r->s.db, rc, "cannot import");
    *out = rhei_result_int64(res, 0, 0) > 0;
    rhei_result_free(res);
    return RH_EXIT_OK;
}

static int insert_rows(import *im)
{
    size_t cap = 64 + (size_t)im->ncols * (2 * RH_NAME_MAX + 16), len;
    char *sql = malloc(cap), q[2 * RH_NAME_MAX + 4];
    rhei_statement *st = calloc(im->nrows ? im->nrows : 1, sizeof *st);
    int code = RH_EXIT_ERR;
    if (!sql || !st || rh_quote_ident(q, sizeof q, im->table) != 0)
        goto done;
    len = (size_t)snprintf(sql, cap, "INSERT INTO %s (", q);
    for (int c = 0; c < im->ncols; c++) {
        if (rh_quote_ident(q, sizeof q, im->names[c].s) != 0)
            goto done;
        len += (size_t)snprintf(sql + len, cap - len, "%s%s", c ? ", " : "", q);
    }
    len += (size_t)snprintf(sql + len, cap - len, ") VALUES (");
    for (int c = 0; c < im->ncols; c++)
        len += (size_t)snprintf(sql + len, cap - len, "%s?%d", c ? ", " : "", c + 1);
    snprintf(sql + len, cap - len, ")");
    for (size_t i = 0; i < im->nrows; i++)
        st[i] = (rhei_statement){sql, &im->vals[i * (size_t)im->ncols], (size_t)im->ncols};
    int64_t changes = 0;
    int rc = rhei_execute_batch(im->r->s.db, st, im->nrows, &changes);
    if (rc != RHEI_OK) {
        code = rh_db_err(im->r->s.db, rc, "cannot import");
        goto done;
    }
    code = RH_EXIT_OK;
    if (!im->r->s.guest && (rc = rhei_sync_now(im->r->s.db, NULL)) != RHEI_OK)
        code = rh_db_err(im->r->s.db, rc, "sync after the import failed");
    if (im->r->s.show_changes)
        printf("%lld rows imported into %s\n", (long long)changes, im->table);
done:
    if (code != RH_EXIT_OK && (!sql || !st))
        rh_err("cannot import: out of memory");
    free(st);
    free(sql);
    return code;
}

/* Parses every record after the header into im->vals; prints what is wrong and where. */
static int read_rows(import *im, csv *c, const char *file)
{
    size_t cap = 0;
    while (c->p < c->end) {
        long line = c->line;
        if (*c->p == '\n' || *c->p == '\r') { /* blank line */
            c->line += *c->p == '\n';
            c->p++;
            continue;
        }
        if (im->nrows == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            rhei_value *v = realloc(im->vals, ncap * (size_t)im->ncols * sizeof *v);
            if (!v) {
                rh_err("cannot import '%s': out of memory", file);
                return RH_EXIT_ERR;
            }
            im->vals = v, cap = ncap;
        }
        int n = csv_record(c, &im->vals[im->nrows * (size_t)im->ncols], im->ncols);
        if (n != im->ncols) {
            rh_err("cannot import '%s': line %ld: %s; nothing was imported", file, line,
                   n < 0 ? "malformed quoting or too many fields" : "too few fields");
            return RH_EXIT_ERR;
        }
        im->nrows++;
    }
    return RH_EXIT_OK;
}

static int import_text(rh_repl *r, char *text, const char *file, const char *table)
{
    rhei_value head[IMPORT_COLS_MAX];
    csv c = {text, text + strlen(text), 1};
    import im = {r, table, head, 0, NULL, 0};
    int exists = 0, code;
    im.ncols = csv_record(&c, head, IMPORT_COLS_MAX);
    if (im.ncols <= 0 || head[0].type == RHEI_TYPE_NULL) {
        rh_err("cannot import '%s': the first line must name the columns", file);
        return RH_EXIT_ERR;
    }
    code = read_rows(&im, &c, file);
    if (code == RH_EXIT_OK)
        code = table_exists(r, table, &exists);
    if (code == RH_EXIT_OK && !exists)
        code = create_table(&im);
    if (code == RH_EXIT_OK)
        code = insert_rows(&im);
    free(im.vals);
    return code;
}

void rh_repl_import(rh_repl *r, const char *args)
{
    char file[RH_PATH_MAX], table[RH_NAME_MAX];
    int n = 0;
    if (sscanf(args, "%4095s %255s %n", file, table, &n) != 2 || args[n]) {
        rh_err(".import needs a file and a table: .import FILE TABLE");
        r->failed = 1;
        return;
    }
    FILE *f = fopen(file, "r");
    char *text = f ? rh_read_all(f) : NULL;
    if (!f)
        rh_err("cannot import '%s': %s", file, strerror(errno));
    if (f)
        fclose(f);
    int code = text ? -1 : RH_EXIT_ERR;
    if (text && r->remote) /* the serving owner imports (and registers) for us */
        code = rh_local_import(&r->o, r->s.show_changes, file, table, text);
    if (code < 0)
        code = import_text(r, text, file, table);
    if (code != RH_EXIT_OK)
        r->failed = 1;
    free(text);
}

int rh_repl_served_import(rh_session *s, const rh_opts *o, const char *payload, size_t len)
{
    const char *file = payload, *table = memchr(payload, '\0', len);
    const char *data = table ? memchr(table + 1, '\0', len - (size_t)(table + 1 - payload)) : NULL;
    if (!data || !table[1] || strlen(table + 1) >= RH_NAME_MAX) {
        rh_err(".import needs a file and a table: .import FILE TABLE");
        return RH_EXIT_USAGE;
    }
    /* the CSV must be one string: its parser ends at the NUL */
    char *text = strndup(data + 1, len - (size_t)(data + 1 - payload));
    if (!text) {
        rh_err("out of memory");
        return RH_EXIT_ERR;
    }
    rh_repl r = {.s = *s, .o = *o, .saved_stdout = -1};
    int code = import_text(&r, text, file, table + 1);
    free(text);
    return code;
}
