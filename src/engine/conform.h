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
/* The type a column DuckDB serves has in the one value model, decided before any value is
 * seen (streams need it so; rhei__conform gives OLAP results the same): *t, *p, *s hold the
 * served type (DECIMAL with its precision and scale) and are rewritten. decl is SQLite's
 * declared type of the column (NULL or "" for an expression). A declared column keeps its
 * declared type when DuckDB's values convert to it exactly (DECIMAL(p,s) from numbers,
 * BOOLEAN or REAL from integers); otherwise, and for expressions, the served type, with
 * BOOLEAN as INTEGER (what SQLite computes). Returns 1 for a declared type, 0 for an
 * expression (whose column rhei__conform types as SQLite does when it holds no value). */
int rhei__conform_olap_type(const char *decl, rhei_type *t, int *p, int *s);
#endif
