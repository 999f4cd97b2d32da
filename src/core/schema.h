/* schema.h — a replicated table's description (one version of it) and the type map from a
 * SQLite declared type to a Rhei type. Shared by capture, sync and every OLAP backend. */
#ifndef RHEI_CORE_SCHEMA_H
#define RHEI_CORE_SCHEMA_H
#include "err.h"
#include <stddef.h>
#include <stdint.h>

typedef struct rhei__colspec {
    char *name;
    char *decl;      /* declared type text as given ("DECIMAL(12,2)"), may be "" */
    rhei_type type;  /* from the type map */
    int precision;   /* DECIMAL only */
    int scale;       /* DECIMAL only */
    int pk;          /* 1-based position in the primary key, 0 if not part of it */
} rhei__colspec;

typedef struct rhei__table {
    char *name;
    int64_t tid;     /* catalog id of this version; new id on every schema change */
    size_t ncols;
    rhei__colspec *cols;
    size_t npk;
    size_t *pk_idx;  /* column index of each primary-key part, in key order */
} rhei__table;

/* Maps a declared type; unknown names follow SQLite's affinity rules. DECIMAL without
 * precision gets (18,3). Never fails: every text has an affinity. */
void rhei__type_from_decl(const char *decl, rhei_type *out_type, int *out_p, int *out_s);

/* Builds a table (deep copy of names). pk_names may be NULL when cols carry pk positions. */
int rhei__table_new(const char *name, int64_t tid, const rhei__colspec *cols, size_t ncols,
                    rhei__table **out, rhei__err *e);
void rhei__table_free(rhei__table *t);
rhei__table *rhei__table_clone(const rhei__table *t);
/* Index of a column by name (case-insensitive like SQL), or -1. */
long rhei__table_col(const rhei__table *t, const char *name);
/* 1 if both versions have the same columns (names, types) and key. */
int rhei__table_same_shape(const rhei__table *a, const rhei__table *b);
#endif
