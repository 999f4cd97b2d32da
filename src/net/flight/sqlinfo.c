/* sqlinfo.c — the GetSqlInfo table: every code of Flight SQL's SqlInfo enum (server info
 * 0-11 and 100-101, SQL syntax info 500-576), so JDBC's DatabaseMetaData (which reads ~69
 * of them and once failed on a missing one) and ADBC's GetInfo find each. Values describe
 * what clients see through Rhei: SQLite/DuckDB SQL, no Flight SQL transactions. The value
 * column is the spec's dense union. */
#include "flight_int.h"
#include "sqlinfo.h"
#include <string.h>

enum { V_STR = 0, V_BOOL = 1, V_I64 = 2, V_I32 = 3, V_LIST = 4, V_MAP = 5 };

typedef struct info {
    uint32_t code;
    int kind;
    int64_t i;
    const char *s;
} info;

static const char *const keywords[] = {"ABORT", "ANALYZE", "ATTACH", "AUTOINCREMENT",
    "CONFLICT", "DATABASE", "DETACH", "EXCLUSIVE", "EXPLAIN", "GLOB", "IGNORE", "INDEXED",
    "INSTEAD", "ISNULL", "NOTNULL", "OFFSET", "PLAN", "PRAGMA", "QUALIFY", "QUERY", "RAISE",
    "REGEXP", "REINDEX", "RENAME", "REPLACE", "SUMMARIZE", "TEMP", "VACUUM", "VIRTUAL", NULL};
static const char *const numeric_fns[] = {"ABS", "ACOS", "ASIN", "ATAN", "ATAN2", "CEIL",
    "COS", "DEGREES", "EXP", "FLOOR", "LN", "LOG", "LOG10", "MOD", "PI", "POWER", "RADIANS",
    "RANDOM", "ROUND", "SIGN", "SIN", "SQRT", "TAN", "TRUNC", NULL};
static const char *const string_fns[] = {"CONCAT", "INSTR", "LENGTH", "LOWER", "LTRIM",
    "REPLACE", "RTRIM", "SUBSTR", "TRIM", "UPPER", NULL};
static const char *const system_fns[] = {"COALESCE", "IFNULL", "NULLIF", NULL};
static const char *const datetime_fns[] = {"CURRENT_DATE", "CURRENT_TIME",
    "CURRENT_TIMESTAMP", "DATE", "DATETIME", "STRFTIME", "TIME", NULL};

static const info table[] = {
    {0, V_STR, 0, "Rhei"},
    {1, V_STR, 0, RHEI_VERSION},
    {2, V_STR, 0, "1.5.0"}, /* the Arrow columnar format version the IPC writer emits */
    {3, V_BOOL, 1, NULL},   /* read-only: overridden by allow_writes */
    {4, V_BOOL, 1, NULL},   /* SQL */
    {5, V_BOOL, 0, NULL},   /* Substrait */
    {6, V_STR, 0, ""},
    {7, V_STR, 0, ""},
    {8, V_I32, 0, NULL},   /* transactions: NONE */
    {9, V_BOOL, 1, NULL},  /* cancellation: CancelQuery and CancelFlightInfo actions */
    {10, V_BOOL, 0, NULL}, /* bulk ingestion */
    {11, V_BOOL, 0, NULL},
    {100, V_I32, 0, NULL}, /* statement timeout: none */
    {101, V_I32, 0, NULL},
    {500, V_BOOL, 0, NULL},
    {501, V_BOOL, 0, NULL},
    {502, V_BOOL, 1, NULL},
    {503, V_I32, 1, NULL}, /* identifiers: case insensitive */
    {504, V_STR, 0, "\""},
    {505, V_I32, 1, NULL},
    {506, V_BOOL, 1, NULL},
    {507, V_I32, 1, NULL}, /* NULLs sort low (SQLite); DuckDB sorts them last by default */
    {508, V_LIST, 0, (const char *)keywords},
    {509, V_LIST, 0, (const char *)numeric_fns},
    {510, V_LIST, 0, (const char *)string_fns},
    {511, V_LIST, 0, (const char *)system_fns},
    {512, V_LIST, 0, (const char *)datetime_fns},
    {513, V_STR, 0, "\\"},
    {514, V_STR, 0, ""},
    {515, V_BOOL, 1, NULL},
    {516, V_BOOL, 1, NULL},
    {517, V_MAP, 0, NULL}, /* CONVERT: none advertised */
    {518, V_BOOL, 1, NULL},
    {519, V_BOOL, 0, NULL},
    {520, V_BOOL, 1, NULL},
    {521, V_BOOL, 1, NULL},
    {522, V_I32, 3, NULL}, /* GROUP BY: unrelated | beyond select */
    {523, V_BOOL, 1, NULL},
    {524, V_BOOL, 1, NULL},
    {525, V_I32, 1, NULL}, /* grammar: minimum */
    {526, V_I32, 1, NULL}, /* ANSI-92 entry */
    {527, V_BOOL, 0, NULL},
    {528, V_I32, 1, NULL}, /* outer joins: limited */
    {529, V_STR, 0, "schema"},
    {530, V_STR, 0, "procedure"},
    {531, V_STR, 0, "catalog"},
    {532, V_BOOL, 1, NULL},
    {533, V_I32, 0, NULL},
    {534, V_I32, 0, NULL},
    {535, V_I32, 0, NULL},
    {536, V_BOOL, 0, NULL},
    {537, V_BOOL, 0, NULL},
    {538, V_I32, 15, NULL}, /* subqueries: comparisons, EXISTS, IN, quantified */
    {539, V_BOOL, 1, NULL},
    {540, V_I32, 3, NULL}, /* UNION and UNION ALL */
    {541, V_I64, 0, NULL},
    {542, V_I64, 0, NULL},
    {543, V_I64, 0, NULL},
    {544, V_I64, 0, NULL},
    {545, V_I64, 0, NULL},
    {546, V_I64, 0, NULL},
    {547, V_I64, 0, NULL},
    {548, V_I64, 2000, NULL},
    {549, V_I64, 0, NULL},
    {550, V_I64, 0, NULL},
    {551, V_I64, 0, NULL},
    {552, V_I64, 0, NULL},
    {553, V_I64, 0, NULL},
    {554, V_I64, 0, NULL},
    {555, V_I64, 0, NULL},
    {556, V_BOOL, 1, NULL},
    {557, V_I64, 0, NULL},
    {558, V_I64, 0, NULL},
    {559, V_I64, 0, NULL},
    {560, V_I64, 0, NULL},
    {561, V_I64, 0, NULL},
    {562, V_I64, 8, NULL},  /* serializable */
    {563, V_BOOL, 0, NULL}, /* no Flight SQL transactions (each statement commits) */
    {564, V_I32, 0, NULL},
    {565, V_BOOL, 0, NULL},
    {566, V_BOOL, 0, NULL},
    {567, V_I32, 2, NULL}, /* result sets: forward only */
    {568, V_I32, 0, NULL},
    {569, V_I32, 2, NULL},
    {570, V_I32, 0, NULL},
    {571, V_I32, 0, NULL},
    {572, V_BOOL, 1, NULL},
    {573, V_BOOL, 0, NULL},
    {574, V_BOOL, 0, NULL},
    {575, V_BOOL, 0, NULL},
    {576, V_BOOL, 0, NULL},
};

static void value_columns(ab_col *v)
{
    ab_init(v, "+ud:0,1,2,3,4,5", "value", 0, 6);
    ab_init(&v->kids[0], "u", "string_value", 1, 0);
    ab_init(&v->kids[1], "b", "bool_value", 1, 0);
    ab_init(&v->kids[2], "l", "bigint_value", 1, 0);
    ab_init(&v->kids[3], "i", "int32_bitmask", 1, 0);
    ab_init(&v->kids[4], "+l", "string_list", 1, 1);
    ab_init(&v->kids[4].kids[0], "u", "item", 1, 0);
    ab_init(&v->kids[5], "+m", "int32_to_int32_list_map", 1, 1);
    ab_col *entries = &v->kids[5].kids[0];
    ab_init(entries, "+s", "entries", 0, 2);
    ab_init(&entries->kids[0], "i", "key", 0, 0);
    ab_init(&entries->kids[1], "+l", "value", 1, 1);
    ab_init(&entries->kids[1].kids[0], "i", "item", 1, 0);
}

static void add(ab_col *v, const info *e, int read_only)
{
    ab_union(v, (int8_t)e->kind);
    switch (e->kind) {
    case V_STR: ab_cstr(&v->kids[0], e->s); break;
    case V_BOOL: ab_bool(&v->kids[1], e->code == 3 ? read_only : (int)e->i); break;
    case V_I64: ab_i64(&v->kids[2], e->i); break;
    case V_I32: ab_i32(&v->kids[3], (int32_t)e->i); break;
    case V_LIST:
        for (const char *const *w = (const char *const *)(const void *)e->s; *w; w++)
            ab_cstr(&v->kids[4].kids[0], *w);
        ab_list_end(&v->kids[4]);
        break;
    default: ab_list_end(&v->kids[5]); break;
    }
}

int fl_sqlinfo_build(const uint32_t *want, size_t nwant, int read_only, int schema_only,
                     struct ArrowSchema *sc, struct ArrowArray *a)
{
    ab_col cols[2];
    int64_t rows = 0;
    ab_init(&cols[0], "I", "info_name", 0, 0);
    value_columns(&cols[1]);
    for (size_t i = 0; !schema_only && i < sizeof table / sizeof table[0]; i++) {
        int wanted = nwant == 0;
        for (size_t k = 0; k < nwant && !wanted; k++)
            wanted = want[k] == table[i].code;
        if (!wanted)
            continue;
        ab_u32(&cols[0], table[i].code);
        add(&cols[1], &table[i], read_only);
        rows++;
    }
    int rc = ab_export(cols, 2, rows, sc, a);
    ab_free(&cols[0]);
    ab_free(&cols[1]);
    return rc;
}
