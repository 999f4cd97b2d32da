/* arrow_node.h — owning private_data for exported Arrow C Data Interface structs, shared by
 * rhei_result_to_arrow (core/arrow.c) and the DuckDB Arrow stream (olap/duckdb_stream.c).
 * Every ArrowSchema and ArrowArray, children included, owns its node and can be released on
 * its own (after a consumer moved it out of its parent); a parent releases only the children
 * still unreleased. */
#ifndef RHEI_CORE_ARROW_NODE_H
#define RHEI_CORE_ARROW_NODE_H
#include "rhei.h"
#include <stddef.h>
#include <stdint.h>

/* *a becomes an empty array of `length` rows with n_buffers (<= 3) NULL buffers and nkids
 * zeroed children (a->children[i] points at each; release skips one never built). On
 * RHEI_NOMEM *a is released. */
int rhei__arrow_array_init(struct ArrowArray *a, int64_t length, int64_t n_buffers, size_t nkids);
/* Buffer i of a becomes mem, which a now owns (freed on release); mem may be NULL. */
void rhei__arrow_array_own(struct ArrowArray *a, int i, void *mem);
/* A zeroed buffer i of `bytes` owned by a; never NULL when it succeeds, even for 0 bytes
 * (some consumers read offsets[0] of an empty array). NULL: out of memory. */
void *rhei__arrow_array_buffer(struct ArrowArray *a, int i, size_t bytes);

/* *s becomes a schema node with copies of format and name and nkids zeroed children, as
 * rhei__arrow_array_init. On RHEI_NOMEM *s is released. */
int rhei__arrow_schema_init(struct ArrowSchema *s, const char *format, const char *name,
                            size_t nkids);
#endif
