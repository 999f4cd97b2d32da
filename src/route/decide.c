/* decide.c — the side decisions made around a classification: a hint, the caller's open
 * transaction, and whether SQLite answers an auto-routed read OLAP failed. The engine asks;
 * route decides and names the reason, so no reason text is made outside src/route. */
#include "route.h"
#include <string.h>

void rhei__route_decide(const rhei_route_info *auto_ri, rhei_side hint, int in_txn,
                        rhei_route_info *out)
{
    if (hint == RHEI_SIDE_AUTO) {
        *out = *auto_ri;
        if (in_txn) { /* OLAP has none of the open transaction's writes; SQLite's writer does */
            out->side = RHEI_SIDE_OLTP;
            rhei__route_set_reason(out, RHEI_ROUTE_IN_TRANSACTION);
        }
        return;
    }
    memset(out, 0, sizeof *out);
    out->side = hint;
    rhei__route_set_reason(out, RHEI_ROUTE_HINT);
}

int rhei__route_fallback(rhei_route_info *ri, rhei_side hint, int rc)
{
    if (ri->side != RHEI_SIDE_OLAP || hint != RHEI_SIDE_AUTO ||
        ri->code == RHEI_ROUTE_OLAP_ONLY_TABLE || ri->code == RHEI_ROUTE_DUCKDB_DIALECT)
        return 0; /* a hint is obeyed; SQLite has no OLAP-only table, compiles no DuckDB text */
    if (rc == RHEI_RANGE && ri->code == RHEI_ROUTE_OLAP_FUNCTION)
        return 0; /* rhei_as_of's refusal past what is known is the answer: no history in SQLite */
    if (rc != RHEI_SQL && rc != RHEI_NOTFOUND && rc != RHEI_RANGE && rc != RHEI_TYPE)
        return 0;
    ri->side = RHEI_SIDE_OLTP;
    rhei__route_set_reason(ri, rc == RHEI_RANGE || rc == RHEI_TYPE ? RHEI_ROUTE_FALLBACK_VALUES
                                                                   : RHEI_ROUTE_FALLBACK_DIALECT);
    return 1;
}

void rhei__route_over_budget(rhei_route_info *ri)
{
    ri->side = RHEI_SIDE_OLAP;
    rhei__route_set_reason(ri, RHEI_ROUTE_INDEX_TOO_WIDE);
}
