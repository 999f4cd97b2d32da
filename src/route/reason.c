/* reason.c — the route reasons' fixed texts, one table indexed by rhei_route_reason (rhei.h):
 * every side decision, the router's and the engine's, names its reason by code, and the text
 * shown to users (rh, metrics, Flight metadata, tests) comes only from here. */
#include "route.h"

static const char *const texts[RHEI_ROUTE_REASON_COUNT] = {
    [RHEI_ROUTE_EMPTY] = "empty",
    [RHEI_ROUTE_WRITE] = "write",
    [RHEI_ROUTE_DDL] = "ddl",
    [RHEI_ROUTE_TXN_CONTROL] = "transaction control",
    [RHEI_ROUTE_PRAGMA] = "pragma",
    [RHEI_ROUTE_MAINTENANCE] = "maintenance",
    [RHEI_ROUTE_ATTACH] = "attach",
    [RHEI_ROUTE_COMMAND] = "command",
    [RHEI_ROUTE_UNKNOWN_STATEMENT] = "unknown statement",
    [RHEI_ROUTE_MULTIPLE_STATEMENTS] = "multiple statements",
    [RHEI_ROUTE_TOO_COMPLEX] = "too complex",
    [RHEI_ROUTE_EXPLAIN_QUERY_PLAN] = "explain query plan",
    [RHEI_ROUTE_NOT_REPLICATED] = "table not replicated",
    [RHEI_ROUTE_SQLITE_FUNCTION] = "sqlite function",
    [RHEI_ROUTE_NO_TABLE] = "no table",
    [RHEI_ROUTE_SQLITE_SYNTAX] = "sqlite syntax",
    [RHEI_ROUTE_SEM_FUNCTION] = "sqlite semantics: function not known to agree",
    [RHEI_ROUTE_SEM_SCALAR_MINMAX] = "sqlite semantics: scalar min/max",
    [RHEI_ROUTE_SEM_CAST_INTEGER] = "sqlite semantics: CAST to INTEGER truncates",
    [RHEI_ROUTE_SEM_CAST] = "sqlite semantics: CAST converts as sqlite does",
    [RHEI_ROUTE_SEM_LIKE] = "sqlite semantics: LIKE is ASCII case-insensitive",
    [RHEI_ROUTE_SEM_GLOB] = "sqlite semantics: GLOB, REGEXP and MATCH",
    [RHEI_ROUTE_SEM_COLLATE] = "sqlite semantics: COLLATE",
    [RHEI_ROUTE_SEM_CONCAT] = "sqlite semantics: || formats numbers as sqlite does",
    [RHEI_ROUTE_SEM_MODULO] = "sqlite semantics: % converts operands to INTEGER",
    [RHEI_ROUTE_SEM_DIVIDE] = "sqlite semantics: / divides as each value's type",
    [RHEI_ROUTE_SEM_TEXT_AS_NUMBER] = "sqlite semantics: text used as a number",
    [RHEI_ROUTE_SEM_BLOB_LITERAL] = "sqlite semantics: X'..' is a blob only in sqlite",
    [RHEI_ROUTE_SEM_INTEGER_LITERAL] = "sqlite semantics: integer literal",
    [RHEI_ROUTE_SEM_IS] = "sqlite semantics: IS compares any two values",
    [RHEI_ROUTE_SEM_BITWISE] = "sqlite semantics: bitwise operator",
    [RHEI_ROUTE_SEM_JSON_ARROW] = "sqlite semantics: -> and ->> are sqlite json",
    [RHEI_ROUTE_POINT_LOOKUP] = "point lookup",
    [RHEI_ROUTE_SIMPLE_FILTER] = "simple filter",
    [RHEI_ROUTE_LIMITED_SCAN] = "limited scan",
    [RHEI_ROUTE_DUCKDB_DIALECT] = "duckdb dialect",
    [RHEI_ROUTE_OLAP_FUNCTION] = "olap function",
    [RHEI_ROUTE_OLAP_ONLY_TABLE] = "olap-only table (history or sidecar)",
    [RHEI_ROUTE_AGGREGATE] = "aggregate",
    [RHEI_ROUTE_GROUP_BY] = "group by",
    [RHEI_ROUTE_HAVING] = "having",
    [RHEI_ROUTE_WINDOW] = "window function",
    [RHEI_ROUTE_DISTINCT] = "distinct",
    [RHEI_ROUTE_JOIN] = "join",
    [RHEI_ROUTE_SUBQUERY] = "subquery",
    [RHEI_ROUTE_CTE] = "cte",
    [RHEI_ROUTE_SET_OPERATION] = "set operation",
    [RHEI_ROUTE_FULL_SCAN_SORT] = "full scan sort",
    [RHEI_ROUTE_FULL_SCAN] = "full scan",
    [RHEI_ROUTE_UNINDEXED_FILTER] = "unindexed filter on a large table",
    [RHEI_ROUTE_HINT] = "hint",
    [RHEI_ROUTE_IN_TRANSACTION] = "inside an open transaction",
    [RHEI_ROUTE_FALLBACK_DIALECT] = "olap could not run it (sqlite dialect)",
    [RHEI_ROUTE_FALLBACK_VALUES] = "sqlite semantics: overflow or conversion",
    [RHEI_ROUTE_POINT_IN_TIME] = "point-in-time",
    [RHEI_ROUTE_EXECUTED] = "executed",
    [RHEI_ROUTE_INDEX_SERVED] = "index serves it",
    [RHEI_ROUTE_INDEX_TOO_WIDE] = "index range too wide",
    [RHEI_ROUTE_INDEX_DISTINCT] = "index serves DISTINCT",
    [RHEI_ROUTE_TABLE_BEHIND] = "table's olap copy is behind (failed or detached)",
};

const char *rhei_route_reason_text(rhei_route_reason code)
{
    if ((unsigned)code >= RHEI_ROUTE_REASON_COUNT || !texts[code])
        return "?";
    return texts[code];
}

void rhei__route_set_reason(rhei_route_info *out, rhei_route_reason code)
{
    out->code = (int32_t)code;
    out->reason = rhei_route_reason_text(code);
}
