/* toml.h — a small strict TOML reader for Rhei's config files: text in, one tree out,
 * freed by one call. Every error carries "name:line:col: reason"; input size, nesting,
 * string length and table width are bounded so no file can exhaust memory or stack. */
#ifndef RHEI_CORE_TOML_H
#define RHEI_CORE_TOML_H
#include "err.h"
#include <stddef.h>
#include <stdint.h>

#define RHEI__TOML_MAX_BYTES (1u << 20) /* whole document: configs are small */
#define RHEI__TOML_MAX_DEPTH 32         /* tables, arrays and inline tables, all counted */
#define RHEI__TOML_MAX_STRING 65536     /* one string or key, in bytes after unescaping */
#define RHEI__TOML_MAX_ITEMS 4096       /* keys per table, elements per array */

typedef enum rhei__toml_kind {
    RHEI__TOML_TABLE = 0,
    RHEI__TOML_ARRAY = 1,
    RHEI__TOML_STRING = 2,
    RHEI__TOML_INTEGER = 3,
    RHEI__TOML_FLOAT = 4,
    RHEI__TOML_BOOL = 5
} rhei__toml_kind;

/* One node. The root owns every node; nothing in the tree may be freed on its own.
 * Read-only after parsing: the fields are public for walking, the flags are internal. */
typedef struct rhei__toml rhei__toml;
struct rhei__toml {
    rhei__toml_kind kind;
    char *key;           /* NUL-terminated name in the parent table; NULL for the root and
                            for array elements. Quoted keys may hold NULs: see key_len. */
    size_t key_len;
    int line, col;       /* 1-based position of the key (array elements: of the value;
                            tables from a header: of the header) */
    char *str;           /* STRING: NUL-terminated; may hold NULs ("\u0000"): see len */
    size_t len;
    int64_t i;           /* INTEGER; BOOL (0 or 1) */
    double f;            /* FLOAT */
    rhei__toml **items;  /* TABLE: members in document order; ARRAY: elements */
    size_t count, cap;
    unsigned flags;      /* internal: how a table or array was defined */
    int depth;           /* root 0 */
};

/* Parses len bytes (need not be NUL-terminated). name prefixes every error message
 * ("htap.toml:4:7: ..."). RHEI_CONFIG for syntax errors and exceeded limits, RHEI_NOMEM.
 * On failure *out is NULL and nothing is left to free. */
int rhei__toml_parse(const char *text, size_t len, const char *name, rhei__toml **out,
                     rhei__err *e);
/* Reads and parses a file (at most RHEI__TOML_MAX_BYTES); RHEI_IO if it cannot be read. */
int rhei__toml_parse_file(const char *path, rhei__toml **out, rhei__err *e);
/* Frees the whole tree; accepts NULL. Only for the root returned by a parse. */
void rhei__toml_free(rhei__toml *root);

/* Member of a table by key; NULL if t is not a table or has no such key. */
const rhei__toml *rhei__toml_get(const rhei__toml *t, const char *key);
/* i-th element of an array (or member of a table); NULL past the end. */
const rhei__toml *rhei__toml_at(const rhei__toml *t, size_t i);
/* Follows a dotted path of bare keys and array indexes: "engine.sync_mode",
 * "sidecar.tables.0.name". NULL if any step is missing. */
const rhei__toml *rhei__toml_find(const rhei__toml *root, const char *path);
/* Typed lookups by dotted path: RHEI_OK, RHEI_NOTFOUND, or RHEI_TYPE if the value has
 * another kind. Strings are borrowed from the tree. */
int rhei__toml_string(const rhei__toml *root, const char *path, const char **out);
int rhei__toml_int(const rhei__toml *root, const char *path, int64_t *out);
int rhei__toml_float(const rhei__toml *root, const char *path, double *out);
int rhei__toml_bool(const rhei__toml *root, const char *path, int *out);
/* The member of table t named by k (n bytes; keys may hold NULs), or NULL. */
rhei__toml *rhei__toml_member(const rhei__toml *t, const char *k, size_t n);
/* Static name of a kind for messages ("integer"). */
const char *rhei__toml_kind_name(rhei__toml_kind k);

#endif
