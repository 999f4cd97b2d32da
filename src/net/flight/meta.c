/* meta.c — Flight SQL metadata commands. Rhei shows one catalog, "rhei", with one schema,
 * "main": the SQLite database, whose tables are all queryable (registered ones are also in
 * DuckDB, and the router picks). Result schemas equal the spec's exactly, names, types and
 * nullability, because ADBC compares them. Key listings other than primary keys are empty
 * but correctly shaped (Rhei replicates no foreign keys). XdbcTypeInfo lists rhei's own types
 * (the type map of rhei.h). */
#include "abuild.h"
#include "flight_int.h"
#include "sqlinfo.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CATALOG "rhei"
#define SCHEMA "main"

static const char *const commands[] = {"CommandGetCatalogs",     "CommandGetDbSchemas",
                                       "CommandGetTables",       "CommandGetTableTypes",
                                       "CommandGetPrimaryKeys",  "CommandGetExportedKeys",
                                       "CommandGetImportedKeys", "CommandGetCrossReference",
                                       "CommandGetSqlInfo",      "CommandGetXdbcTypeInfo"};

int fl_meta_is_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(name, commands[i]))
            return 1;
    return 0;
}

/* SQL LIKE with % and _ (case-sensitive, as the spec leaves it to the server); NULL matches. */
static int like(const char *pat, const char *s)
{
    if (!pat)
        return 1;
    for (; *pat; pat++, s++) {
        if (*pat == '%') {
            for (const char *t = s;; t++) {
                if (like(pat + 1, t))
                    return 1;
                if (!*t)
                    return 0;
            }
        }
        if (!*s || (*pat != '_' && *pat != *s))
            return 0;
    }
    return *s == '\0';
}

/* --- catalogs, schemas, table types ------------------------------------------------------- */

static int catalogs(int schema_only, struct ArrowSchema *sc, struct ArrowArray *a)
{
    ab_col c;
    ab_init(&c, "u", "catalog_name", 0, 0);
    if (!schema_only)
        ab_cstr(&c, CATALOG);
    int rc = ab_export(&c, 1, c.length, sc, a);
    ab_free(&c);
    return rc;
}

static int db_schemas(const Rhei__Flight__CommandGetDbSchemas *q, int schema_only,
                      struct ArrowSchema *sc, struct ArrowArray *a)
{
    ab_col c[2];
    ab_init(&c[0], "u", "catalog_name", 1, 0);
    ab_init(&c[1], "u", "db_schema_name", 0, 0);
    if (!schema_only && (!q->catalog || !strcmp(q->catalog, CATALOG)) &&
        like(q->db_schema_filter_pattern, SCHEMA)) {
        ab_cstr(&c[0], CATALOG);
        ab_cstr(&c[1], SCHEMA);
    }
    int rc = ab_export(c, 2, c[1].length, sc, a);
    ab_free(&c[0]);
    ab_free(&c[1]);
    return rc;
}

static int table_types(int schema_only, struct ArrowSchema *sc, struct ArrowArray *a)
{
    ab_col c;
    ab_init(&c, "u", "table_type", 0, 0);
    if (!schema_only) {
        ab_cstr(&c, "TABLE");
        ab_cstr(&c, "VIEW");
    }
    int rc = ab_export(&c, 1, c.length, sc, a);
    ab_free(&c);
    return rc;
}

/* --- tables -------------------------------------------------------------------------------- */

/* IPC schema of a table, with ARROW:FLIGHT:SQL:* metadata on each field; heap bytes. */
static int table_schema(fl_call *c, const char *table, uint8_t **out, size_t *out_n, char *msg)
{
    char sql[600], quoted[520];
    size_t q = 0;
    quoted[q++] = '"';
    for (const char *p = table; *p && q < sizeof quoted - 3; p++) {
        if (*p == '"')
            quoted[q++] = '"';
        quoted[q++] = *p;
    }
    quoted[q++] = '"';
    quoted[q] = '\0';
    snprintf(sql, sizeof sql, "SELECT * FROM %s LIMIT 0", quoted);
    rhei_result *r = NULL;
    struct ArrowArrayStream st;
    struct ArrowSchema s;
    if (rhei_query(c->f->db, sql, NULL, 0, &r) != RHEI_OK)
        return snprintf(msg, FL_ERR_MAX, "%s", rhei_errmsg(c->f->db)), FL_INTERNAL;
    const char *decls[512];
    size_t ncol = rhei_result_column_count(r);
    char *declmem[512];
    for (size_t i = 0; i < ncol && i < 512; i++)
        declmem[i] = strdup(rhei_result_column_decl(r, i)), decls[i] = declmem[i];
    if (rhei_result_to_arrow(r, &st) != RHEI_OK || st.get_schema(&st, &s)) {
        for (size_t i = 0; i < ncol && i < 512; i++)
            free(declmem[i]);
        return snprintf(msg, FL_ERR_MAX, "cannot describe table '%s'", table), FL_INTERNAL;
    }
    ab_col md[512];
    for (int64_t i = 0; i < s.n_children && i < 512; i++) {
        const char *kv[] = {"ARROW:FLIGHT:SQL:CATALOG_NAME", CATALOG,
                            "ARROW:FLIGHT:SQL:DB_SCHEMA_NAME", SCHEMA,
                            "ARROW:FLIGHT:SQL:TABLE_NAME", table,
                            "ARROW:FLIGHT:SQL:TYPE_NAME", decls[i] && decls[i][0] ? decls[i] : "ANY",
                            NULL};
        ab_init(&md[i], "n", "", 0, 0);
        ab_metadata(&md[i], kv);
        s.children[i]->metadata = md[i].metadata; /* borrowed for the encoding below */
    }
    int rc = fl_schema_bytes(&s, out, out_n, msg);
    for (int64_t i = 0; i < s.n_children && i < 512; i++) {
        s.children[i]->metadata = NULL;
        ab_free(&md[i]);
    }
    for (size_t i = 0; i < ncol && i < 512; i++)
        free(declmem[i]);
    s.release(&s);
    st.release(&st);
    return rc;
}

static int tables(fl_call *c, const Rhei__Flight__CommandGetTables *q, int schema_only,
                  struct ArrowSchema *sc, struct ArrowArray *a, char *msg)
{
    int with_schema = q->has_include_schema && q->include_schema;
    ab_col col[5];
    ab_init(&col[0], "u", "catalog_name", 1, 0);
    ab_init(&col[1], "u", "db_schema_name", 1, 0);
    ab_init(&col[2], "u", "table_name", 0, 0);
    ab_init(&col[3], "u", "table_type", 0, 0);
    ab_init(&col[4], "z", "table_schema", 0, 0);
    int ncols = with_schema ? 5 : 4, rc = FL_OK;
    rhei_result *r = NULL;
    rhei_query_opts o = {RHEI_SIDE_OLTP, RHEI_EVENTUAL};
    if (!schema_only && (!q->catalog || !strcmp(q->catalog, CATALOG)) &&
        like(q->db_schema_filter_pattern, SCHEMA)) {
        int erc = rhei_query_ex(c->f->db, "SELECT name, upper(type) FROM sqlite_master WHERE "
                                "type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' AND "
                                "name NOT LIKE '\\_rhei\\_%' ESCAPE '\\' ORDER BY name",
                                NULL, 0, &o, &r);
        if (erc != RHEI_OK)
            rc = FL_INTERNAL, snprintf(msg, FL_ERR_MAX, "%s", rhei_errmsg(c->f->db));
    }
    for (size_t i = 0; r && rc == FL_OK && i < rhei_result_row_count(r); i++) {
        const char *name = rhei_result_text(r, i, 0, NULL), *type = rhei_result_text(r, i, 1, NULL);
        int type_ok = q->n_table_types == 0;
        for (size_t k = 0; k < q->n_table_types; k++)
            type_ok |= !strcmp(q->table_types[k], type);
        if (!type_ok || !like(q->table_name_filter_pattern, name))
            continue;
        if (with_schema) {
            uint8_t *b = NULL;
            size_t n = 0;
            if ((rc = table_schema(c, name, &b, &n, msg)) != FL_OK)
                break;
            ab_str(&col[4], b, n);
            free(b);
        }
        ab_cstr(&col[0], CATALOG);
        ab_cstr(&col[1], SCHEMA);
        ab_cstr(&col[2], name);
        ab_cstr(&col[3], type);
    }
    rhei_result_free(r);
    if (rc == FL_OK && ab_export(col, ncols, col[2].length, sc, a))
        rc = FL_RESOURCE, snprintf(msg, FL_ERR_MAX, "out of memory");
    for (int i = 0; i < 5; i++)
        ab_free(&col[i]);
    return rc;
}

/* --- keys ----------------------------------------------------------------------------------- */

static int primary_keys(fl_call *c, const Rhei__Flight__CommandGetPrimaryKeys *q, int schema_only,
                        struct ArrowSchema *sc, struct ArrowArray *a, char *msg)
{
    ab_col col[6];
    ab_init(&col[0], "u", "catalog_name", 1, 0);
    ab_init(&col[1], "u", "db_schema_name", 1, 0);
    ab_init(&col[2], "u", "table_name", 0, 0);
    ab_init(&col[3], "u", "column_name", 0, 0);
    ab_init(&col[4], "u", "key_name", 1, 0);
    ab_init(&col[5], "i", "key_sequence", 0, 0);
    int rc = FL_OK;
    rhei_result *r = NULL;
    if (!schema_only && q->table && (!q->catalog || !strcmp(q->catalog, CATALOG)) &&
        (!q->db_schema || !strcmp(q->db_schema, SCHEMA))) {
        rhei_query_opts o = {RHEI_SIDE_OLTP, RHEI_EVENTUAL};
        rhei_value p = rhei_text(q->table);
        if (rhei_query_ex(c->f->db, "SELECT name, pk FROM pragma_table_info(?1) WHERE pk > 0 "
                          "ORDER BY pk", &p, 1, &o, &r) != RHEI_OK)
            rc = FL_INTERNAL, snprintf(msg, FL_ERR_MAX, "%s", rhei_errmsg(c->f->db));
    }
    for (size_t i = 0; r && rc == FL_OK && i < rhei_result_row_count(r); i++) {
        ab_cstr(&col[0], CATALOG);
        ab_cstr(&col[1], SCHEMA);
        ab_cstr(&col[2], q->table);
        ab_cstr(&col[3], rhei_result_text(r, i, 0, NULL));
        ab_cstr(&col[4], NULL);
        ab_i32(&col[5], (int32_t)rhei_result_int64(r, i, 1));
    }
    rhei_result_free(r);
    if (rc == FL_OK && ab_export(col, 6, col[2].length, sc, a))
        rc = FL_RESOURCE, snprintf(msg, FL_ERR_MAX, "out of memory");
    for (int i = 0; i < 6; i++)
        ab_free(&col[i]);
    return rc;
}

static int foreign_keys(struct ArrowSchema *sc, struct ArrowArray *a)
{
    static const struct { const char *f, *n; int nullable; } spec[13] = {
        {"u", "pk_catalog_name", 1}, {"u", "pk_db_schema_name", 1}, {"u", "pk_table_name", 0},
        {"u", "pk_column_name", 0}, {"u", "fk_catalog_name", 1}, {"u", "fk_db_schema_name", 1},
        {"u", "fk_table_name", 0}, {"u", "fk_column_name", 0}, {"i", "key_sequence", 0},
        {"u", "fk_key_name", 1}, {"u", "pk_key_name", 1}, {"C", "update_rule", 0},
        {"C", "delete_rule", 0}};
    ab_col col[13];
    for (int i = 0; i < 13; i++)
        ab_init(&col[i], spec[i].f, spec[i].n, spec[i].nullable, 0);
    int rc = ab_export(col, 13, 0, sc, a);
    for (int i = 0; i < 13; i++)
        ab_free(&col[i]);
    return rc;
}

/* --- XdbcTypeInfo --------------------------------------------------------------------------- */

/* Rhei's types (rhei.h's type map), ordered by data_type then type_name as the spec asks.
 * Codes are the spec's XdbcDataType / XdbcDatetimeSubcode; sql_data_type is DATETIME (9)
 * for DATE and TIMESTAMP, which carry their subcode. */
static const struct xdbc_type {
    const char *name;
    int32_t data_type, column_size; /* column_size < 0: NULL */
    const char *prefix, *suffix, *params;
    int case_sensitive, searchable, is_unsigned; /* is_unsigned < 0: NULL (not numeric) */
    int fixed;
    int32_t min_scale, max_scale, sql_type, subcode, radix; /* < 0: NULL */
} xdbc_types[] = {
    {"BOOLEAN", -7, 1, NULL, NULL, NULL, 0, 2, -1, 0, -1, -1, -7, -1, -1},
    {"INTEGER", -5, 19, NULL, NULL, NULL, 0, 2, 0, 0, 0, 0, -5, -1, 10},
    {"BLOB", -3, -1, "X'", "'", NULL, 1, 2, -1, 0, -1, -1, -3, -1, -1},
    {"DECIMAL", 3, 38, NULL, NULL, "precision,scale", 0, 2, 0, 1, 0, 38, 3, -1, 10},
    {"REAL", 8, 53, NULL, NULL, NULL, 0, 2, 0, 0, -1, -1, 8, -1, 2},
    {"TEXT", 12, -1, "'", "'", NULL, 1, 3, -1, 0, -1, -1, 12, -1, -1},
    {"DATE", 91, 10, "DATE '", "'", NULL, 0, 2, -1, 0, -1, -1, 9, 1, -1},
    {"TIMESTAMP", 93, 26, "TIMESTAMP '", "'", NULL, 0, 2, -1, 0, 0, 6, 9, 3, -1},
};

/* One row of GetXdbcTypeInfo; cols in the spec's order. */
static void xdbc_row(ab_col *col, const struct xdbc_type *t)
{
    ab_cstr(&col[0], t->name);
    ab_i32(&col[1], t->data_type);
    t->column_size < 0 ? ab_null(&col[2]) : ab_i32(&col[2], t->column_size);
    ab_cstr(&col[3], t->prefix);
    ab_cstr(&col[4], t->suffix);
    if (t->params) { /* "a,b": one list item each */
        char item[32];
        for (const char *p = t->params; *p;) {
            size_t n = strcspn(p, ",");
            snprintf(item, sizeof item, "%.*s", (int)n, p);
            ab_cstr(&col[5].kids[0], item);
            p += n + (p[n] == ',');
        }
        ab_list_end(&col[5]);
    } else {
        ab_null(&col[5]);
    }
    ab_i32(&col[6], 1); /* NULLABILITY_NULLABLE */
    ab_bool(&col[7], t->case_sensitive);
    ab_i32(&col[8], t->searchable);
    t->is_unsigned < 0 ? ab_null(&col[9]) : ab_bool(&col[9], t->is_unsigned);
    ab_bool(&col[10], t->fixed);
    t->is_unsigned < 0 ? ab_null(&col[11]) : ab_bool(&col[11], 0); /* auto_increment */
    ab_cstr(&col[12], NULL);
    t->min_scale < 0 ? ab_null(&col[13]) : ab_i32(&col[13], t->min_scale);
    t->max_scale < 0 ? ab_null(&col[14]) : ab_i32(&col[14], t->max_scale);
    ab_i32(&col[15], t->sql_type);
    t->subcode < 0 ? ab_null(&col[16]) : ab_i32(&col[16], t->subcode);
    t->radix < 0 ? ab_null(&col[17]) : ab_i32(&col[17], t->radix);
    ab_null(&col[18]);
}

static int xdbc_type_info(const Rhei__Flight__CommandGetXdbcTypeInfo *q, int schema_only,
                          struct ArrowSchema *sc, struct ArrowArray *a)
{
    static const struct {
        const char *f, *n;
        int nullable;
    } spec[19] = {
        {"u", "type_name", 0},          {"i", "data_type", 0},        {"i", "column_size", 1},
        {"u", "literal_prefix", 1},     {"u", "literal_suffix", 1},   {"+l", "create_params", 1},
        {"i", "nullable", 0},           {"b", "case_sensitive", 0},   {"i", "searchable", 0},
        {"b", "unsigned_attribute", 1}, {"b", "fixed_prec_scale", 0}, {"b", "auto_increment", 1},
        {"u", "local_type_name", 1},    {"i", "minimum_scale", 1},    {"i", "maximum_scale", 1},
        {"i", "sql_data_type", 0},      {"i", "datetime_subcode", 1}, {"i", "num_prec_radix", 1},
        {"i", "interval_precision", 1}};
    ab_col col[19];
    for (int i = 0; i < 19; i++)
        ab_init(&col[i], spec[i].f, spec[i].n, spec[i].nullable, i == 5);
    ab_init(&col[5].kids[0], "u", "item", 0, 0);
    for (size_t i = 0; !schema_only && i < sizeof xdbc_types / sizeof xdbc_types[0]; i++)
        if (!q || !q->has_data_type || q->data_type == xdbc_types[i].data_type)
            xdbc_row(col, &xdbc_types[i]);
    int rc = ab_export(col, 19, col[0].length, sc, a);
    for (int i = 0; i < 19; i++)
        ab_free(&col[i]);
    return rc;
}

/* --- dispatch ------------------------------------------------------------------------------ */

#define UNPACK(T, fn) T *m = fn##__unpack(NULL, n, v); if (!m) goto bad

static int build(fl_call *c, const char *name, const uint8_t *v, size_t n, int schema_only,
                 struct ArrowSchema *sc, struct ArrowArray *a, char *msg)
{
    int rc = FL_OK;
    memset(sc, 0, sizeof *sc);
    memset(a, 0, sizeof *a);
    if (!strcmp(name, "CommandGetCatalogs")) {
        rc = catalogs(schema_only, sc, a) ? FL_RESOURCE : FL_OK;
    } else if (!strcmp(name, "CommandGetDbSchemas")) {
        UNPACK(Rhei__Flight__CommandGetDbSchemas, rhei__flight__command_get_db_schemas);
        rc = db_schemas(m, schema_only, sc, a) ? FL_RESOURCE : FL_OK;
        rhei__flight__command_get_db_schemas__free_unpacked(m, NULL);
    } else if (!strcmp(name, "CommandGetTables")) {
        UNPACK(Rhei__Flight__CommandGetTables, rhei__flight__command_get_tables);
        rc = tables(c, m, schema_only, sc, a, msg);
        rhei__flight__command_get_tables__free_unpacked(m, NULL);
    } else if (!strcmp(name, "CommandGetTableTypes")) {
        rc = table_types(schema_only, sc, a) ? FL_RESOURCE : FL_OK;
    } else if (!strcmp(name, "CommandGetPrimaryKeys")) {
        UNPACK(Rhei__Flight__CommandGetPrimaryKeys, rhei__flight__command_get_primary_keys);
        rc = primary_keys(c, m, schema_only, sc, a, msg);
        rhei__flight__command_get_primary_keys__free_unpacked(m, NULL);
    } else if (!strcmp(name, "CommandGetSqlInfo")) {
        UNPACK(Rhei__Flight__CommandGetSqlInfo, rhei__flight__command_get_sql_info);
        rc = fl_sqlinfo_build(m->info, m->n_info, !c->f->opts.allow_writes, schema_only, sc, a)
                 ? FL_RESOURCE : FL_OK;
        rhei__flight__command_get_sql_info__free_unpacked(m, NULL);
    } else if (!strcmp(name, "CommandGetXdbcTypeInfo")) {
        UNPACK(Rhei__Flight__CommandGetXdbcTypeInfo, rhei__flight__command_get_xdbc_type_info);
        rc = xdbc_type_info(m, schema_only, sc, a) ? FL_RESOURCE : FL_OK;
        rhei__flight__command_get_xdbc_type_info__free_unpacked(m, NULL);
    } else {
        rc = foreign_keys(sc, a) ? FL_RESOURCE : FL_OK;
    }
    if (rc == FL_RESOURCE && !msg[0])
        snprintf(msg, FL_ERR_MAX, "out of memory");
    return rc;
bad:
    snprintf(msg, FL_ERR_MAX, "malformed %s", name);
    return FL_INVALID;
}

int fl_meta_schema(fl_call *c, const char *name, const uint8_t *v, size_t n, uint8_t **out,
                   size_t *out_len, char *msg)
{
    struct ArrowSchema sc;
    struct ArrowArray a;
    int rc = build(c, name, v, n, 1, &sc, &a, msg);
    if (rc == FL_OK)
        rc = fl_schema_bytes(&sc, out, out_len, msg);
    if (sc.release)
        sc.release(&sc);
    if (a.release)
        a.release(&a);
    return rc;
}

int fl_meta_doget(fl_call *c, const char *name, const uint8_t *v, size_t n, char *msg)
{
    struct ArrowSchema sc;
    struct ArrowArray a;
    int rc = build(c, name, v, n, 0, &sc, &a, msg);
    if (rc == FL_OK)
        rc = fl_stream_arrow(c, &sc, &a, msg);
    if (sc.release)
        sc.release(&sc);
    if (a.release)
        a.release(&a);
    return rc;
}
