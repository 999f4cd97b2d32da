/* conform.h — one value model for query results from either side (see conform.c). */
#ifndef RHEI_ENGINE_CONFORM_H
#define RHEI_ENGINE_CONFORM_H
#include "mem.h"
#include "result.h"

/* Gives r SQLite's column names and declared types from shape (SQLite's description of the
 * same text, borrowed; NULL or of another width: r keeps its own names) and converts its cells
 * to the one value model. An OLAP result without a shape (text only DuckDB compiles) is left
 * as DuckDB typed it. On failure (out of memory, size limit) r is unusable: free it. */
int rhei__conform(rhei_result *r, const rhei_result *shape, rhei__err *e);
#endif
