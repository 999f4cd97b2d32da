/*
 * rhei.h — the whole public C API of Rhei, an embeddable HTAP engine: SQLite serves writes
 * and point reads, DuckDB serves analytics, and change capture keeps DuckDB equal to SQLite.
 * This header is both the contract and the manual; anything not declared here is internal.
 *
 * Conventions (they hold for every function unless its comment says otherwise):
 *  - Every call returns an int result code; RHEI_OK (0) is success.
 *  - rhei_errmsg(db) gives the message of the last failed call this thread made on db
 *    ("what failed: cause"), including the SQLite or DuckDB cause.
 *  - Arguments are borrowed for the duration of the call.
 *  - Returned `const` pointers are borrowed from the object they came from and stay valid
 *    until that object is freed. Returned non-const pointers belong to the caller.
 *  - Constructors set *out to NULL on failure and leave nothing to free. Destructors accept NULL.
 *  - Threads: rhei_db is thread-safe (any thread, concurrently). rhei_config and rhei_result
 *    are owned by one thread at a time. Rhei runs no user callbacks.
 *  - Result codes: every function may return RHEI_MISUSE for a NULL handle, a NULL output or
 *    another invalid argument (never a crash), and RHEI_NOMEM. A function that reads SQLite
 *    may also return RHEI_OLTP, RHEI_BUSY (another process holds the lock past
 *    busy_timeout_ms), RHEI_IO or RHEI_FULL; one that reads or writes DuckDB may return
 *    RHEI_OLAP. Each function's comment names the other codes it returns and when.
 *
 * Growing without breaking (ABI): the shared library is versioned by its soname,
 * librhei.so.RHEI_SOVERSION. Within one soname, functions and result codes are only added,
 * and a struct's size and the offsets of its fields never change: structs Rhei fills in
 * (rhei_route_info, rhei_route_stats, rhei_sync_stats, rhei_sync_status,
 * rhei_sidecar_table_status) end in a `reserved` array, and a later release adds a field by
 * taking it from that space, so a program built against an older rhei.h keeps working with a
 * newer library. Callers neither read nor write `reserved`. Structs the caller fills in
 * (rhei_query_opts, rhei_statement, rhei_column) are never extended in place; a new option
 * comes with a new function. Removing or changing anything else bumps RHEI_SOVERSION.
 */
#ifndef RHEI_H
#define RHEI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define RHEI_API __attribute__((visibility("default")))
#else
#define RHEI_API
#endif

#define RHEI_VERSION "0.1.0"
#define RHEI_VERSION_NUMBER 1000 /* major*1000000 + minor*1000 + patch */
/* The soname's number (librhei.so.0); CMakeLists.txt reads it from here. */
#define RHEI_SOVERSION 0

/* ------------------------------------------------------------------------------------------
 * Result codes. The list is append-only: a code never changes its number.
 * ---------------------------------------------------------------------------------------- */
#define RHEI_ERROR_CODES(X)                                                                  \
    X(RHEI_OK, 0, "ok")                                                                      \
    X(RHEI_ERROR, 1, "error")                                                                \
    X(RHEI_NOMEM, 2, "out of memory")                                                        \
    X(RHEI_MISUSE, 3, "misuse of the api")                                                   \
    X(RHEI_CONFIG, 4, "invalid configuration")                                               \
    X(RHEI_SQL, 5, "sql error")                                                              \
    X(RHEI_NOTFOUND, 6, "not found")                                                         \
    X(RHEI_TYPE, 7, "type mismatch")                                                         \
    X(RHEI_CONSTRAINT, 8, "constraint violation")                                            \
    X(RHEI_OLTP, 9, "oltp (sqlite) error")                                                   \
    X(RHEI_OLAP, 10, "olap (duckdb) error")                                                  \
    X(RHEI_IO, 11, "i/o error")                                                              \
    X(RHEI_FULL, 12, "disk full")                                                            \
    X(RHEI_BUSY, 13, "database busy")                                                        \
    X(RHEI_READONLY, 14, "read-only")                                                        \
    X(RHEI_VERSION_MISMATCH, 15, "incompatible library version")                             \
    X(RHEI_RANGE, 16, "out of range")                                                        \
    X(RHEI_INTERRUPTED, 17, "interrupted")                                                   \
    X(RHEI_EXISTS, 18, "already exists")                                                     \
    X(RHEI_SOURCE, 19, "source database error")                                              \
    X(RHEI_CORRUPT, 20, "inconsistent state")

enum rhei_code {
#define RHEI__CODE_ENUM(name, num, text) name = num,
    RHEI_ERROR_CODES(RHEI__CODE_ENUM)
#undef RHEI__CODE_ENUM
};

/* Static English text for a code ("type mismatch"); never NULL. */
RHEI_API const char *rhei_errstr(int code);

/* ------------------------------------------------------------------------------------------
 * Values: the parameters of statements and the type map.
 *
 * Type map (SQLite declared type -> rhei type -> DuckDB type), applied by register_table:
 *   INT, INTEGER, BIGINT, ...           -> RHEI_TYPE_INTEGER   -> BIGINT
 *   REAL, DOUBLE, FLOAT                 -> RHEI_TYPE_REAL      -> DOUBLE
 *   TEXT, VARCHAR(n), CHAR, CLOB        -> RHEI_TYPE_TEXT      -> VARCHAR
 *   BLOB                                -> RHEI_TYPE_BLOB      -> BLOB
 *   no declared type                    -> refused by register_table and ADD COLUMN (each
 *                                          value keeps its own type in SQLite, DuckDB has
 *                                          one per column): declare one, or name one in cols
 *   BOOLEAN, BOOL                       -> RHEI_TYPE_BOOLEAN   -> BOOLEAN
 *   DECIMAL(p,s), NUMERIC(p,s)          -> RHEI_TYPE_DECIMAL   -> DECIMAL(p,s)  (never DOUBLE)
 *   DATE                                -> RHEI_TYPE_DATE      -> DATE
 *   TIMESTAMP, DATETIME                 -> RHEI_TYPE_TIMESTAMP -> TIMESTAMP
 *   anything else                       -> by SQLite affinity rules (section 3.1 of
 *                                          https://sqlite.org/datatype3.html)
 *
 * What each column accepts. The capture triggers check every write (from any process) and
 * refuse with RHEI_TYPE, naming table, column, type and value, anything the OLAP type cannot
 * hold exactly; what they accept always replicates, exactly:
 *   INTEGER    integers (a TEXT like '42' becomes one by SQLite's affinity).
 *   BOOLEAN    0 or 1.
 *   REAL       numbers.
 *   DECIMAL(p,s)  integers of at most p-s digits; text [+-]digits[.digits] with at most s
 *              decimals and p-s integer digits (no exponent, no blanks); a REAL within
 *              floating-point error of a value of scale s, replicated as that value (rounded
 *              at the scale). "Floating-point error" is 2^-48 of max(|v|, 1): 16 units in
 *              the last place of a double, so arithmetic on DECIMAL columns (SQLite computes
 *              in doubles: -524292.54 + 4 * 1.25 = -524287.54000000004) is accepted, while a
 *              typed value with more decimals than the scale (1.234 in DECIMAL(10,2)) is
 *              refused. Where a double is coarser than the scale (|v| * 2^-48 > 10^-s / 2)
 *              every REAL is within that error and is rounded at the scale. SQLite itself
 *              stores a fractional value of more than 15 significant digits as a REAL
 *              (NUMERIC affinity) and drops the rest before any trigger sees it
 *              (1234567890123456.78 is stored 1234567890123456.75): both sides then hold
 *              that REAL's value. Keep DECIMAL values within 15 significant digits, or store
 *              exact amounts as INTEGER units.
 *   DATE       text YYYY-MM-DD naming a real day.
 *   TIMESTAMP  Unix seconds (integer, or REAL rounded to the microsecond under the same
 *              tolerance) within the years 0000-9999; or text SQLite's julianday() reads:
 *              YYYY-MM-DD, then optionally 'T' or ' ', HH:MM[:SS[.ffffff]] (hour 24 = next
 *              day, at most 6 fraction digits), blanks, and a zone 'Z' or +HH:MM / -HH:MM,
 *              converted to UTC exactly (a text without zone is UTC). SQLite's date functions
 *              stop at 9999-12-31 23:59:59.999, so later instants are refused.
 *   TEXT       any text (numbers become text by SQLite's affinity; a blob is refused: it
 *              would stay a blob in SQLite and be text in DuckDB). Invalid UTF-8 cannot be stored
 * in DuckDB and SQLite's built-in functions cannot detect it: rhei_execute refuses SQL text and
 * TEXT parameters that are not UTF-8; one made inside SQL (CAST(x'ff' AS TEXT)) fails only its
 *              table at sync (see "Failure model" below).
 *   BLOB       blobs (a number or a text is refused: SQLite keeps its kind, DuckDB's BLOB
 *              would not).
 * Key columns also refuse NULL (SQLite allows NULL outside INTEGER PRIMARY KEY; two such
 * rows would be one OLAP key), and TEXT keys take only text, BLOB keys only blobs (SQLite
 * keeps 1, '1' and x'31' apart). rhei_register_table refuses a key column with a collation
 * other than BINARY (NOCASE, RTRIM: SQLite and DuckDB would compare keys differently), a
 * key column without a declared type (name one in `cols`), and a table holding rows the
 * triggers would refuse (fix them first): RHEI_MISUSE or RHEI_TYPE with the reason.
 * ---------------------------------------------------------------------------------------- */
typedef enum rhei_type {
    RHEI_TYPE_NULL = 0,
    RHEI_TYPE_INTEGER = 1,   /* int64 */
    RHEI_TYPE_REAL = 2,      /* double */
    RHEI_TYPE_TEXT = 3,      /* UTF-8, length-counted */
    RHEI_TYPE_BLOB = 4,
    RHEI_TYPE_BOOLEAN = 5,   /* .i is 0 or 1 */
    RHEI_TYPE_DECIMAL = 6,   /* exact, carried as text ("-12.50") */
    RHEI_TYPE_DATE = 7,      /* .i = days since 1970-01-01 */
    RHEI_TYPE_TIMESTAMP = 8  /* .i = microseconds since the Unix epoch, UTC */
} rhei_type;

/* A plain value. For TEXT, BLOB and DECIMAL, .s/.n point to bytes the caller owns. */
typedef struct rhei_value {
    rhei_type type;
    int64_t i;
    double f;
    const char *s;
    size_t n;
} rhei_value;

/* Short-hand constructors for parameters. */
RHEI_API rhei_value rhei_null(void);
RHEI_API rhei_value rhei_int(int64_t v);
RHEI_API rhei_value rhei_real(double v);
RHEI_API rhei_value rhei_text(const char *nul_terminated);
RHEI_API rhei_value rhei_blob(const void *p, size_t n);

/* Static name of a type ("INTEGER"); never NULL. */
RHEI_API const char *rhei_type_name(rhei_type t);

/* ------------------------------------------------------------------------------------------
 * Configuration: key/value pairs with validation. Keys (defaults in brackets):
 *   oltp_path         SQLite file                                       [required]
 *   olap_path         ":memory:" or a DuckDB file (durable, resumes)    [:memory:]
 *   sync_mode         "mirror" or "history" (SCD Type 2)                [mirror]
 *   sync_interval_ms  background sync period; 0 = no background sync    [0]
 *   batch_size        change events handed to OLAP at a time            [25000]
 *   read_pool_size    SQLite reader connections                         [4]
 *   synchronous       "normal" or "full" (SQLite durability)            [normal]
 *   olap_threads      DuckDB worker threads; 0 = DuckDB's default       [0]
 *   olap_memory_limit DuckDB memory limit, e.g. "2GB"; "" = default     [""]
 *   busy_timeout_ms   how long a write waits for another process' lock  [5000]
 *   oltp_mmap_mb      SQLite maps this much of its file into memory (reads without a
 *                     system call per page); 0 = off. An I/O error while reading a mapped
 *                     page is a SIGBUS instead of an error code (SQLite's trade-off)  [1024]
 *   olap_external_access  true lets OLAP queries read local files and URLs   [false]
 *                     (read_parquet, read_csv, ATTACH, COPY ... TO). With false the OLAP
 *                     side is a sandbox: DuckDB sees only its own tables, never installs or
 *                     loads extensions, and its settings are locked (SET fails); either way
 *                     extensions are never downloaded or auto-loaded.
 *   flight_port       `rh serve`'s Flight SQL port on 127.0.0.1; 0 = none [0]
 *   flight.*          the [flight] table of a config file (host, port, tokens.N, token_file,
 *                     tls_cert, tls_key, allow_writes, allow_unauthenticated,
 *                     max_connections, send_timeout_ms, compression): read by the Flight
 *                     SQL server of `rh`,
 *                     not by the engine; shapes are checked here (see README)
 * rhei_config is single-threaded; rhei_open copies what it needs.
 * ---------------------------------------------------------------------------------------- */
typedef struct rhei_config rhei_config;

/* A config with every key at its default. RHEI_MISUSE (out NULL), RHEI_NOMEM. */
RHEI_API int rhei_config_new(rhei_config **out);
RHEI_API void rhei_config_free(rhei_config *cfg);
/* Sets one key from its text form. RHEI_CONFIG names the key and the reason in
 * rhei_config_errmsg(cfg) for unknown keys and malformed values; RHEI_MISUSE for NULL
 * arguments; RHEI_NOMEM. On failure the key keeps its previous value. */
RHEI_API int rhei_config_set(rhei_config *cfg, const char *key, const char *value);
/* Current text form of a key, borrowed until the next set; NULL for an unknown key. */
RHEI_API const char *rhei_config_get(const rhei_config *cfg, const char *key);
RHEI_API const char *rhei_config_errmsg(const rhei_config *cfg);
/* Iterates the known keys: returns the i-th key name or NULL past the end. */
RHEI_API const char *rhei_config_key(size_t i);
/* Loads a TOML config file ([engine] keys as in rhei_config_set; see config/htap.toml).
 * All or nothing: on failure cfg is unchanged. RHEI_CONFIG with "file:line:col: reason" in
 * rhei_config_errmsg for syntax errors, unknown keys and bad values; RHEI_CONFIG with
 * "cannot open '<path>': reason" for an unreadable file; RHEI_NOMEM. */
RHEI_API int rhei_config_load_file(rhei_config *cfg, const char *path);

/* ------------------------------------------------------------------------------------------
 * The engine handle. Thread-safe.
 * ---------------------------------------------------------------------------------------- */
typedef struct rhei_db rhei_db;

/* Opens (creating if needed) the SQLite file and the OLAP side. A durable OLAP resumes from
 * its stored position; an in-memory OLAP is rebuilt from SQLite for every registered table.
 * Starts background sync when sync_interval_ms > 0. On failure *out is NULL and
 * rhei_errmsg(NULL) gives the reason: RHEI_CONFIG (oltp_path missing, a bad sidecar.*
 * section), RHEI_IO (the SQLite or DuckDB file cannot be opened or created), RHEI_CORRUPT
 * (not a database, or rhei's own tables inconsistent), RHEI_BUSY (another process holds the
 * SQLite lock), RHEI_VERSION_MISMATCH (a DuckDB library rhei does not support), RHEI_OLAP,
 * RHEI_OLTP, RHEI_NOMEM. A sidecar source that is down does not fail the open. */
RHEI_API int rhei_open(const rhei_config *cfg, rhei_db **out);
/* Shorthand: default config with oltp_path = path. Codes as rhei_open. */
RHEI_API int rhei_open_path(const char *oltp_path, rhei_db **out);
/* Stops background sync, runs one final sync cycle, closes both sides. Accepts NULL
 * (RHEI_OK). Returns the final cycle's error if any, with its message in rhei_errmsg(NULL),
 * or RHEI_MISUSE when a transaction was still open and was rolled back (see Transactions);
 * the handle is freed regardless and nothing committed is lost (a durable OLAP resumes, an
 * in-memory one is rebuilt on the next open). */
RHEI_API int rhei_close(rhei_db *db);

/* Message of the last failed call this thread made on db (or on rhei_open when db is NULL).
 * Kept per (thread, handle): a failure on another handle, or in another thread, never
 * replaces it. Borrowed until this thread's next call on db; "" if none. */
RHEI_API const char *rhei_errmsg(const rhei_db *db);
/* Code of that same failure (RHEI_OK if none). */
RHEI_API int rhei_errcode(const rhei_db *db);

/* --- writes (always SQLite) -------------------------------------------------------------- */

/* clang-format off */
/* Runs one statement on SQLite with bound parameters (?1.., or ?), any kind: DML, DDL,
 * SELECT (rows discarded), transaction control (see Transactions below). *out_changes (may
 * be NULL) gets the rows an INSERT, UPDATE or DELETE changed (sqlite3_changes(), triggers'
 * rows not counted), 0 for any other statement; a script's is the sum of its statements'.
 * RHEI_SQL (syntax or a SQLite error in the statement), RHEI_NOTFOUND (no such table),
 * RHEI_CONSTRAINT, RHEI_TYPE (a value that does not fit a replicated column's type),
 * RHEI_BUSY, RHEI_MISUSE (parameter count mismatch), RHEI_READONLY in pure sidecar mode.
 * A failed statement changes nothing.
 * DDL on a replicated table keeps replication in step (also inside a script of several
 * statements, which then run one by one and stop at the first failure):
 *   ALTER TABLE t ADD [COLUMN] c ...   the statement runs as the SQLite side of a schema
 *                                      change (as rhei_add_column; the column's type is
 *                                      what SQLite records; existing rows get its DEFAULT
 *                                      in OLAP too)
 *   ALTER TABLE t DROP [COLUMN] c      as rhei_drop_column
 *   DROP TABLE [IF EXISTS] t           unregisters t in the same transaction
 *   ALTER TABLE t RENAME ...           refused (RHEI_MISUSE): rhei does not follow renames;
 *                                      unregister, rename, register again
 * Each is applied to OLAP before the call returns. Inside an open transaction they fail
 * (RHEI_MISUSE: a schema change is its own transaction); rhei_execute_batch refuses them (RHEI_MISUSE).
 * DDL on tables that are not replicated runs as written. The same DDL from another process
 * detaches the table instead (see rhei_table_status_get). */
/* clang-format on */
RHEI_API int rhei_execute(rhei_db *db, const char *sql, const rhei_value *params,
                          size_t nparams, int64_t *out_changes);

typedef struct rhei_statement {
    const char *sql;
    const rhei_value *params;
    size_t nparams;
} rhei_statement;

/* Runs statements in one SQLite transaction: all apply or none. Called by a thread inside
 * its own open transaction (see Transactions), the batch is a SAVEPOINT in it: a failed
 * batch undoes only itself and the transaction stays open. RHEI_MISUSE for a statement with
 * NULL sql or NULL params with nparams > 0 (nothing applied). Other codes as rhei_execute;
 * the message names the failing statement (counted from 1). */
RHEI_API int rhei_execute_batch(rhei_db *db, const rhei_statement *stmts, size_t n,
                                int64_t *out_changes);

/* What one statement run by rhei_execute_info did. */
typedef struct rhei_exec_info {
    int64_t changes;     /* as rhei_execute's out_changes */
    int64_t last_rowid;  /* SQLite's last insert rowid of the writer, read right after the
                            statement while this call still holds the writer */
    int64_t reserved[6]; /* room for later fields; zero */
} rhei_exec_info;

/* rhei_execute, also reporting the statement's last inserted rowid. The writer connection
 * is shared by every thread, so sqlite3_last_insert_rowid read by a later call may already
 * be another thread's; this reads it before the writer is let go. After an INSERT or
 * REPLACE into a rowid table that inserted rows, out->last_rowid is the rowid of the last
 * of them (rows inserted by triggers do not count, as in SQLite). After a statement that
 * inserted nothing it is the writer's previous value (possibly another thread's insert):
 * use it after inserts only, as sqlite3's cursor.lastrowid. out may be NULL; on failure
 * *out is zeroed. Codes, threads and transactions as rhei_execute. */
RHEI_API int rhei_execute_info(rhei_db *db, const char *sql, const rhei_value *params,
                               size_t nparams, rhei_exec_info *out);

/* --- transactions ------------------------------------------------------------------------
 * rhei_execute(db, "BEGIN" | "BEGIN IMMEDIATE" | "SAVEPOINT x", ...) opens a transaction on
 * SQLite's one writer connection, as with sqlite3_exec. Rhei checks after every statement
 * whether the writer is inside a transaction, and then:
 *  - The writer belongs to the thread that opened the transaction until a later call of that
 *    thread ends it (COMMIT, ROLLBACK, END, RELEASE of the outer savepoint, or an error after
 *    which SQLite rolled it back). Writes from other threads wait for that moment; they
 *    never join the open transaction. The owning thread's own calls go straight through.
 *  - Reads by the owning thread see its uncommitted writes: auto-routed reads go to SQLite
 *    (route reason "inside an open transaction") and are served on the writer connection.
 *    A read the caller forces to RHEI_SIDE_OLAP sees committed, applied data only. Reads by
 *    other threads see committed data only, as with separate SQLite connections.
 *  - Nothing the engine does in the background (sync, pruning the change log, the sidecar)
 *    runs a statement inside a user's transaction or ends it; they wait or retry later.
 *  - rhei_register_table, rhei_unregister_table, rhei_add_column, rhei_drop_column and
 *    rhei_initial_sync(_all) commit on both sides: called by the owning thread they fail with
 *    RHEI_MISUSE ("cannot change replication inside an open transaction"); called by other
 *    threads they wait like any write.
 *  - The waits are in-process and unbounded: busy_timeout_ms applies only to locks held by
 *    other processes. A thread that never ends its transaction stalls every other writer
 *    (and pruning) of this rhei_db until it does, or until rhei_close.
 *  - rhei_close with a transaction still open rolls it back, closes as usual and returns
 *    RHEI_MISUSE with "rhei_close: a transaction was still open ...; it was rolled back" in
 *    rhei_errmsg(NULL). No thread may use db during or after rhei_close.
 * Changes are replicated to OLAP only after COMMIT, whole, in one sync cycle.
 * ---------------------------------------------------------------------------------------- */

/* --- reads (routed) ---------------------------------------------------------------------- */

typedef enum rhei_side {
    RHEI_SIDE_AUTO = 0, /* as a hint: let the router decide */
    RHEI_SIDE_OLTP = 1, /* SQLite */
    RHEI_SIDE_OLAP = 2  /* DuckDB */
} rhei_side;

typedef enum rhei_consistency {
    RHEI_EVENTUAL = 0, /* OLAP reads see what the last sync cycle applied */
    RHEI_STRONG = 1    /* OLAP reads first wait until every commit made before the call is
                          applied (read-your-writes) */
} rhei_consistency;

typedef struct rhei_query_opts {
    rhei_side hint;               /* RHEI_SIDE_AUTO: routed */
    rhei_consistency consistency; /* RHEI_EVENTUAL by default */
} rhei_query_opts;

/* Why a side serves a statement: the router's decisions (rhei_explain_route, auto-routed
 * rhei_query) and the engine's own (a hint, an open transaction, a fallback, a point-in-time
 * read). Each code has one fixed text, given by rhei_route_reason_text and in
 * rhei_route_info.reason / rhei_result_reason; the rules behind them: src/route/README.md.
 * Codes and texts are append-only. */
typedef enum rhei_route_reason {
    /* SQLite serves it: the statement is not a read OLAP may run */
    RHEI_ROUTE_EMPTY = 0,           /* "empty": no statement */
    RHEI_ROUTE_WRITE,               /* "write": INSERT, UPDATE, DELETE, ... */
    RHEI_ROUTE_DDL,                 /* "ddl" */
    RHEI_ROUTE_TXN_CONTROL,         /* "transaction control" */
    RHEI_ROUTE_PRAGMA,              /* "pragma" */
    RHEI_ROUTE_MAINTENANCE,         /* "maintenance": VACUUM, ANALYZE, ... */
    RHEI_ROUTE_ATTACH,              /* "attach" */
    RHEI_ROUTE_COMMAND,             /* "command": SET, LOAD, CALL, ... */
    RHEI_ROUTE_UNKNOWN_STATEMENT,   /* "unknown statement" */
    RHEI_ROUTE_MULTIPLE_STATEMENTS, /* "multiple statements" */
    /* SQLite serves a read: OLAP cannot, or would answer differently */
    RHEI_ROUTE_TOO_COMPLEX,         /* "too complex": past an analysis bound */
    RHEI_ROUTE_EXPLAIN_QUERY_PLAN,  /* "explain query plan" */
    RHEI_ROUTE_NOT_REPLICATED,      /* "table not replicated" */
    RHEI_ROUTE_SQLITE_FUNCTION,     /* "sqlite function": json_each, pragma_* in FROM */
    RHEI_ROUTE_NO_TABLE,            /* "no table" */
    RHEI_ROUTE_SQLITE_SYNTAX,       /* "sqlite syntax": [x] or `x` names */
    RHEI_ROUTE_SEM_FUNCTION,        /* "sqlite semantics: function not known to agree" */
    RHEI_ROUTE_SEM_SCALAR_MINMAX,   /* "sqlite semantics: scalar min/max" */
    RHEI_ROUTE_SEM_CAST_INTEGER,    /* "sqlite semantics: CAST to INTEGER truncates" */
    RHEI_ROUTE_SEM_CAST,            /* "sqlite semantics: CAST converts as sqlite does" */
    RHEI_ROUTE_SEM_LIKE,            /* "sqlite semantics: LIKE is ASCII case-insensitive" */
    RHEI_ROUTE_SEM_GLOB,            /* "sqlite semantics: GLOB, REGEXP and MATCH" */
    RHEI_ROUTE_SEM_COLLATE,         /* "sqlite semantics: COLLATE" */
    RHEI_ROUTE_SEM_CONCAT,          /* "sqlite semantics: || formats numbers as sqlite does" */
    RHEI_ROUTE_SEM_MODULO,          /* "sqlite semantics: % converts operands to INTEGER" */
    RHEI_ROUTE_SEM_DIVIDE,          /* "sqlite semantics: / divides as each value's type" */
    RHEI_ROUTE_SEM_TEXT_AS_NUMBER,  /* "sqlite semantics: text used as a number" */
    RHEI_ROUTE_SEM_BLOB_LITERAL,    /* "sqlite semantics: X'..' is a blob only in sqlite" */
    RHEI_ROUTE_SEM_INTEGER_LITERAL, /* "sqlite semantics: integer literal" */
    RHEI_ROUTE_SEM_IS,              /* "sqlite semantics: IS compares any two values" */
    RHEI_ROUTE_SEM_BITWISE,         /* "sqlite semantics: bitwise operator" */
    RHEI_ROUTE_SEM_JSON_ARROW,      /* "sqlite semantics: -> and ->> are sqlite json" */
    /* SQLite serves a read: it is faster there */
    RHEI_ROUTE_POINT_LOOKUP,  /* "point lookup" */
    RHEI_ROUTE_SIMPLE_FILTER, /* "simple filter" */
    RHEI_ROUTE_LIMITED_SCAN,  /* "limited scan" */
    /* DuckDB serves a read */
    RHEI_ROUTE_DUCKDB_DIALECT,   /* "duckdb dialect": SQLite cannot compile it */
    RHEI_ROUTE_OLAP_FUNCTION,    /* "olap function": read_csv(...), rhei_as_of(...) */
    RHEI_ROUTE_OLAP_ONLY_TABLE,  /* "olap-only table (history or sidecar)" */
    RHEI_ROUTE_AGGREGATE,        /* "aggregate" */
    RHEI_ROUTE_GROUP_BY,         /* "group by" */
    RHEI_ROUTE_HAVING,           /* "having" */
    RHEI_ROUTE_WINDOW,           /* "window function" */
    RHEI_ROUTE_DISTINCT,         /* "distinct" */
    RHEI_ROUTE_JOIN,             /* "join" */
    RHEI_ROUTE_SUBQUERY,         /* "subquery" */
    RHEI_ROUTE_CTE,              /* "cte" */
    RHEI_ROUTE_SET_OPERATION,    /* "set operation" */
    RHEI_ROUTE_FULL_SCAN_SORT,   /* "full scan sort" */
    RHEI_ROUTE_FULL_SCAN,        /* "full scan" */
    RHEI_ROUTE_UNINDEXED_FILTER, /* "unindexed filter on a large table" */
    /* decided by the engine around the router */
    RHEI_ROUTE_HINT,             /* "hint": the caller chose the side */
    RHEI_ROUTE_IN_TRANSACTION,   /* "inside an open transaction": SQLite, on the writer */
    RHEI_ROUTE_FALLBACK_DIALECT, /* "olap could not run it (sqlite dialect)" */
    RHEI_ROUTE_FALLBACK_VALUES,  /* "sqlite semantics: overflow or conversion" */
    RHEI_ROUTE_POINT_IN_TIME,    /* "point-in-time": rhei_query_as_of */
    RHEI_ROUTE_EXECUTED,         /* "executed": rhei_execute_query */
    /* cost: SQLite's plan reads no table in full */
    RHEI_ROUTE_INDEX_SERVED,   /* "index serves it": SQLite, within a time budget */
    RHEI_ROUTE_INDEX_TOO_WIDE, /* "index range too wide": over SQLite's budget, DuckDB */
    RHEI_ROUTE_INDEX_DISTINCT, /* "index serves DISTINCT": SQLite steps key to key, budgeted */
    /* a replicated table whose OLAP copy is behind for good: FAILED or DETACHED (see
     * rhei_table_status); SQLite serves its reads until rhei_resync_table or a register */
    RHEI_ROUTE_TABLE_BEHIND, /* "table's olap copy is behind (failed or detached)" */
    RHEI_ROUTE_REASON_COUNT  /* not a reason: the number of codes (grows) */
} rhei_route_reason;

/* The fixed text of a reason code (static, never NULL): "?" for a code out of range. */
RHEI_API const char *rhei_route_reason_text(rhei_route_reason code);

/* Why the router chose a side. reason is a static string (the text of code); table the first
 * table that decided (may be ""). */
typedef struct rhei_route_info {
    rhei_side side;
    const char *reason;
    char table[64];
    int32_t code;        /* a rhei_route_reason; taken from the reserved space */
    int32_t reserved32;  /* padding that stays reserved */
    int64_t reserved[7]; /* room for later fields; see "Growing without breaking" */
} rhei_route_info;

typedef struct rhei_result rhei_result;

/* Runs one statement on SQLite like rhei_execute (writes are captured), and keeps the rows it
 * produces: SELECT, PRAGMA, INSERT/UPDATE/DELETE ... RETURNING. *out (owned by the caller,
 * rhei_result_free) has zero columns for a statement without rows; for RETURNING its row count
 * is the number of rows changed. RHEI_MISUSE for more than one statement in sql; otherwise it
 * checks values and handles DDL on replicated tables as rhei_execute does, and fails like it
 * (*out NULL). */
RHEI_API int rhei_execute_query(rhei_db *db, const char *sql, const rhei_value *params,
                                size_t nparams, rhei_result **out);

/* Routed read-only query. Writes are refused with RHEI_MISUSE (use rhei_execute).
 * Same answer on either side: when the router picks the side (RHEI_SIDE_AUTO), the result has
 * SQLite's column names, declared types (rhei_result_column_decl), column types and values
 * whichever side served it: a column naming a DECIMAL(p,s) / BOOLEAN / DATE / TIMESTAMP
 * column has that type, an expression is typed by its values as SQLite types them, NULL sorts
 * first under ASC and last under DESC, INTEGER / INTEGER truncates, x/0 is NULL. Not
 * guaranteed: row order without ORDER BY, REAL digits past the 15th (and so whether DISTINCT,
 * UNION, GROUP BY or = merge computed values that differ only there: DuckDB computes DECIMAL
 * arithmetic exactly, SQLite in REAL), INTEGER vs REAL cell type of an expression mixing
 * both. Reads DuckDB would answer differently stay on SQLite
 * with a reason starting "sqlite semantics: ". The full contract: src/route/README.md.
 * Codes: RHEI_SQL (the serving side rejects the SQL), RHEI_NOTFOUND (no such table),
 * RHEI_INTERRUPTED (rhei_interrupt), RHEI_OLAP, RHEI_OLTP, RHEI_BUSY; with RHEI_STRONG also the
 * codes of rhei_sync_now. *out gets a result the caller frees with rhei_result_free (NULL on
 * failure). */
RHEI_API int rhei_query(rhei_db *db, const char *sql, const rhei_value *params, size_t nparams,
                        rhei_result **out);
RHEI_API int rhei_query_with_hint(rhei_db *db, const char *sql, rhei_side hint,
                                  rhei_result **out);
RHEI_API int rhei_query_ex(rhei_db *db, const char *sql, const rhei_value *params,
                           size_t nparams, const rhei_query_opts *opts, rhei_result **out);
/* What rhei_query would do with sql, and why, without running it. RHEI_OK or RHEI_MISUSE:
 * an unparsable statement still gets a side and a reason. */
RHEI_API int rhei_explain_route(rhei_db *db, const char *sql, rhei_route_info *out);

/* Queries served since open, per side; fallbacks are auto-routed OLAP queries DuckDB could
 * not run (SQLite dialect) that SQLite answered instead. The route of a query text is kept
 * (up to 512 texts; re-made after 10 s or when a table is registered or the schema changes):
 * cache_hits counts queries routed from it, cache_misses those classified anew (tokens,
 * SQLite's plan). Queries by rhei_query*, hints included. */
typedef struct rhei_route_stats {
    int64_t oltp;
    int64_t olap;
    int64_t fallbacks;
    int64_t cache_hits;
    int64_t cache_misses;
    int64_t reserved[6]; /* room for later fields */
} rhei_route_stats;
/* RHEI_OK or RHEI_MISUSE. */
RHEI_API int rhei_route_stats_get(rhei_db *db, rhei_route_stats *out);

/* Cancels the reads running on db in other threads (Ctrl-C in a shell): they fail with
 * RHEI_INTERRUPTED. Safe from any thread. Writes are not interrupted; a sync cycle reading
 * at that moment rolls back and is retried, losing nothing. */
RHEI_API void rhei_interrupt(rhei_db *db);

/* --- results: columnar, owned by the caller, single-threaded ---------------------------- */

RHEI_API void rhei_result_free(rhei_result *r);
RHEI_API size_t rhei_result_column_count(const rhei_result *r);
RHEI_API size_t rhei_result_row_count(const rhei_result *r);
RHEI_API const char *rhei_result_column_name(const rhei_result *r, size_t col);
RHEI_API rhei_type rhei_result_column_type(const rhei_result *r, size_t col);
/* Declared type text as the serving side reported it, e.g. "DECIMAL(10,2)". */
RHEI_API const char *rhei_result_column_decl(const rhei_result *r, size_t col);
RHEI_API rhei_side rhei_result_side(const rhei_result *r);
/* Route reason of the query that produced r (static string). */
RHEI_API const char *rhei_result_reason(const rhei_result *r);
RHEI_API int rhei_result_is_null(const rhei_result *r, size_t row, size_t col);
/* Typed access. Out-of-range row/col returns 0 / NULL. int64 of a REAL truncates, double of
 * an INTEGER converts; text of any non-NULL cell gives its text form (borrowed from r). */
RHEI_API int64_t rhei_result_int64(const rhei_result *r, size_t row, size_t col);
RHEI_API double rhei_result_double(const rhei_result *r, size_t row, size_t col);
RHEI_API const char *rhei_result_text(const rhei_result *r, size_t row, size_t col,
                                      size_t *out_len);
RHEI_API const void *rhei_result_blob(const rhei_result *r, size_t row, size_t col,
                                      size_t *out_len);
/* The cell as a value; s/n borrowed from r. */
RHEI_API rhei_value rhei_result_value(const rhei_result *r, size_t row, size_t col);

/* Arrow C Data Interface (https://arrow.apache.org/docs/format/CDataInterface.html). */
#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE
#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4
struct ArrowSchema {
    const char *format;
    const char *name;
    const char *metadata;
    int64_t flags;
    int64_t n_children;
    struct ArrowSchema **children;
    struct ArrowSchema *dictionary;
    void (*release)(struct ArrowSchema *);
    void *private_data;
};
struct ArrowArray {
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void **buffers;
    struct ArrowArray **children;
    struct ArrowArray *dictionary;
    void (*release)(struct ArrowArray *);
    void *private_data;
};
#endif
#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE
struct ArrowArrayStream {
    int (*get_schema)(struct ArrowArrayStream *, struct ArrowSchema *out);
    int (*get_next)(struct ArrowArrayStream *, struct ArrowArray *out);
    const char *(*get_last_error)(struct ArrowArrayStream *);
    void (*release)(struct ArrowArrayStream *);
    void *private_data;
};
#endif

/* Moves the result's data into an Arrow stream (one record batch; INTEGER -> int64,
 * REAL -> float64, TEXT -> utf8, BLOB -> binary, BOOLEAN -> bool, DECIMAL -> decimal128(p,s),
 * DATE -> date32, TIMESTAMP -> timestamp[us, UTC]). r is consumed (freed) whether or not this
 * succeeds; the stream owns the data and is released by its release callback. RHEI_MISUSE
 * (NULL), RHEI_NOMEM, RHEI_TYPE (a cell that does not fit its column's Arrow type). */
RHEI_API int rhei_result_to_arrow(rhei_result *r, struct ArrowArrayStream *out);

/* --- reads as Arrow streams (routed) -----------------------------------------------------
 * rhei_query_arrow routes, hints, waits (RHEI_STRONG) and falls back exactly as rhei_query_ex
 * and gives the same answer as rhei_result_to_arrow(rhei_query_ex(...)) for the same text,
 * parameters and options: the same schema (SQLite's column names; the types of the one value
 * model, see rhei_query) and the same values, in the same order where ORDER BY fixes it.
 * A query DuckDB serves is not materialised: it streams from DuckDB's own streaming result,
 * coalesced into batches of about 1 MiB or 128K rows, so memory stays bounded whatever the
 * result's size. Every column's type is settled before the first batch: a column that names
 * a declared column has its declared type, an expression the type DuckDB computes (BOOLEAN
 * as INTEGER, as SQLite computes it), whatever its values. One difference follows: an
 * expression column DuckDB serves with no non-NULL value at all has no SQLite type, so
 * rhei_query types it as SQLite would (TEXT; the SQLite class of DuckDB's type when there is
 * no row) where the stream keeps DuckDB's type; its values (all NULL) are the same. A query
 * SQLite serves is read whole, then streamed as one batch.
 *
 * out gets a stream the caller owns and must release (out->release(out)) before rhei_close;
 * out->release is NULL on failure. out_route (may be NULL) gets the side that serves it and
 * why (table may be ""). The stream's schema is a struct of the result's columns, each
 * nullable; get_next gives batches until one whose release is NULL (an empty result gives
 * none).
 *
 * Threads: the stream is owned by one thread at a time (any thread, not concurrently); db
 * stays thread-safe. A DuckDB stream holds one of the engine's pooled DuckDB read
 * connections (olap read pool) until released, so a thread holding as many unreleased
 * streams as the pool has connections blocks its own next OLAP read.
 *
 * Codes: those of rhei_query_ex. Errors known before the first batch (SQL, binding, a value
 * DuckDB refuses while producing it) are returned here, and an auto-routed read may then be
 * answered by SQLite, as with rhei_query; errors met later end the stream: get_next returns
 * EINTR after rhei_interrupt (which cancels held streams too), ENOMEM, or EIO for others,
 * with the message in get_last_error, and keeps returning it. */
RHEI_API int rhei_query_arrow(rhei_db *db, const char *sql, const rhei_value *params,
                              size_t nparams, const rhei_query_opts *opts,
                              rhei_route_info *out_route, struct ArrowArrayStream *out);

/* The schema rhei_query_arrow would stream for the same text, parameters and options (its
 * get_schema's answer), and the route (out_route, may be NULL), without running a query
 * DuckDB serves: DuckDB prepares and describes it (it runs only when a parameter leaves a
 * column's type open). What it prepared is kept on the pooled connection, so a
 * rhei_query_arrow of the same text that follows before any OLAP write commits does not
 * prepare it again (what a Flight SQL GetFlightInfo, then DoGet, does). A read SQLite serves
 * is run to its first row only: a column without a declared type takes that row's type, as
 * a LIMIT 1 read would give it (later rows can widen it; none gives SQLite's rule for an
 * empty answer). out is the caller's, released with out->release(out); zeroed on failure.
 * Codes: those of rhei_query_arrow, for the errors known without running (SQL, binding); an
 * auto-routed read DuckDB cannot compile is described by SQLite, as rhei_query_arrow would
 * answer it. Thread-safe as rhei_query_arrow. */
RHEI_API int rhei_query_arrow_schema(rhei_db *db, const char *sql, const rhei_value *params,
                                     size_t nparams, const rhei_query_opts *opts,
                                     rhei_route_info *out_route, struct ArrowSchema *out);

/* A cancel token stops one query, and only that one, from any thread: unlike rhei_interrupt,
 * which stops every read of the engine. rhei_cancel_new gives a token (*out NULL on failure:
 * RHEI_MISUSE, RHEI_NOMEM); rhei_cancel_free frees it (NULL is fine) once no query or stream
 * uses it. rhei_cancel_fire may be called from any thread, any number of times (not from a
 * signal handler): the query using the token stops at once, even while DuckDB is still
 * computing its first batch, and any query started with it later fails at once. A fired
 * token stays fired: use a new token per query. One token serves one query (and its stream)
 * at a time.
 * Thread-safe: fire from any thread while the query runs on another. */
typedef struct rhei_cancel rhei_cancel;
RHEI_API int rhei_cancel_new(rhei_cancel **out);
RHEI_API void rhei_cancel_free(rhei_cancel *c);
RHEI_API void rhei_cancel_fire(rhei_cancel *c);

/* rhei_query_arrow with a cancel token (cancel may be NULL: rhei_query_arrow itself). A fire
 * before the stream is returned makes this call return RHEI_INTERRUPTED (also when it came
 * before the call); a fire while the stream is held makes get_next return ECANCELED, "query
 * cancelled", and keep returning it. The stream keeps the token until it is released, so
 * free the token only after out->release(out). Other queries, and the next query on the
 * same pooled connection, are not affected. A read SQLite answers is stopped too (SQLite
 * checks the token every ~1000 steps of its program): it is materialised before it streams,
 * so a fire while it runs gives RHEI_INTERRUPTED. */
RHEI_API int rhei_query_arrow_ex(rhei_db *db, const char *sql, const rhei_value *params,
                                 size_t nparams, const rhei_query_opts *opts, rhei_cancel *cancel,
                                 rhei_route_info *out_route, struct ArrowArrayStream *out);

/* --- replication ------------------------------------------------------------------------- */

/* A column of an explicit schema. decl is a SQLite/DuckDB type text ("INTEGER",
 * "DECIMAL(12,2)", "TIMESTAMP"); see the type map above. */
typedef struct rhei_column {
    const char *name;
    const char *decl;
} rhei_column;

/* Names of replicated tables and columns: at most RHEI_NAME_MAX - 1 bytes of valid UTF-8,
 * no control characters, not starting with "_rhei" in any letter case (rhei's own tables
 * and columns), tables not with "sqlite_". Any other character is fine (quotes, spaces,
 * `;`, unicode): names are always quoted, never spliced into SQL as text. */
#define RHEI_NAME_MAX 128

/* Registers an existing SQLite table for replication: installs capture triggers (which also
 * capture writes made by other processes), creates the OLAP table and copies the current
 * rows. cols == NULL infers the schema from SQLite; pk == NULL uses the table's declared
 * primary key (RHEI_MISUSE if it has none). Registering again with the same schema is a
 * no-op; a different one is RHEI_EXISTS (unless the table is detached, see rhei_table_status:
 * then it is registered anew and copied again). RHEI_NOTFOUND (no such table or column),
 * RHEI_TYPE (an existing row that does not fit its column), RHEI_READONLY in pure sidecar
 * mode; RHEI_MISUSE inside an open transaction.
 * All or nothing: every rule below is checked and the OLAP side tried before anything is
 * written; a registration that still fails to apply is withdrawn, so a failed call leaves no
 * trace on either side. Refused with the reason (RHEI_MISUSE, or RHEI_EXISTS for a clash):
 *  - a table or column name against the name rules above; more than 1996 columns;
 *  - a column listed twice in cols, or a key column twice in pk (names compare
 *    case-insensitively, as in SQLite and DuckDB); a NULL name;
 *  - a decl in cols that is not a type of the grammar at rhei_add_column;
 *  - a name clash in OLAP: history mode keeps "<t>_history" next to a view "<t>", so "t" and
 *    "t_history" are never both replicated (either mode: one SQLite file may feed engines of
 *    both); DuckDB also folds the case of non-ASCII letters ("Ä" = "ä"), and tables the
 *    sidecar follows keep their names. */
RHEI_API int rhei_register_table(rhei_db *db, const char *table, const rhei_column *cols,
                                 size_t ncols, const char *const *pk, size_t npk);
/* Stops replicating a table: removes triggers and the OLAP copy. RHEI_NOTFOUND if it is not
 * registered. */
RHEI_API int rhei_unregister_table(rhei_db *db, const char *table);
/* A snapshot of the registered tables' names, taken at one instant (after re-reading the
 * catalog, so tables registered by other processes are included). It does not change when
 * tables are registered or dropped later; owned by the caller, freed by
 * rhei_table_list_free. Single-threaded like rhei_result. */
typedef struct rhei_table_list rhei_table_list;

/* Takes the snapshot. RHEI_OK; RHEI_MISUSE if db or out is NULL; RHEI_NOMEM; RHEI_OLTP or
 * RHEI_BUSY if the catalog cannot be read. On failure *out is NULL. */
RHEI_API int rhei_tables(rhei_db *db, rhei_table_list **out);
/* Number of names in the snapshot (0 for NULL). */
RHEI_API size_t rhei_table_list_count(const rhei_table_list *l);
/* The i-th name, borrowed from l; NULL when i is past the end or l is NULL. */
RHEI_API const char *rhei_table_list_name(const rhei_table_list *l, size_t i);
/* Frees the snapshot and its names. Accepts NULL. */
RHEI_API void rhei_table_list_free(rhei_table_list *l);

typedef struct rhei_sync_stats {
    int64_t events;   /* change events applied */
    int64_t inserted; /* rows inserted into OLAP (history: versions opened) */
    int64_t updated;  /* rows updated (history: versions closed and reopened) */
    int64_t deleted;  /* rows deleted (history: versions closed) */
    int64_t last_position; /* change-log position applied, 0 if none yet */
    int64_t elapsed_us;
    int64_t reserved[8];    /* room for later fields */
} rhei_sync_stats;

/* Runs sync cycles until everything committed before the call is applied. out may be NULL.
 * RHEI_TYPE (a change OLAP cannot store; the message names table and value), RHEI_OLAP,
 * RHEI_OLTP, RHEI_BUSY, RHEI_CORRUPT (the change log contradicts itself). What was applied
 * before the failing cycle stays applied; the failing cycle is rolled back and retried. */
RHEI_API int rhei_sync_now(rhei_db *db, rhei_sync_stats *out);
/* Starts (or re-times) the background sync thread. RHEI_MISUSE (interval_ms <= 0),
 * RHEI_NOMEM or RHEI_ERROR (the thread cannot be created). */
RHEI_API int rhei_start_sync(rhei_db *db, int64_t interval_ms);
/* Stops it; returns after the running cycle ends. RHEI_OK also when it was not running. */
RHEI_API int rhei_stop_sync(rhei_db *db);
/* Replaces the OLAP copy of one table (or all) with SQLite's current rows, atomically with
 * the sync position. *out_rows (may be NULL) gets the rows copied. RHEI_NOTFOUND (not
 * registered), RHEI_TYPE, RHEI_OLAP, RHEI_OLTP. */
RHEI_API int rhei_initial_sync(rhei_db *db, const char *table, int64_t *out_rows);
RHEI_API int rhei_initial_sync_all(rhei_db *db, int64_t *out_rows);

/* Schema evolution, safe while writes and background sync run: the SQLite ALTER, the new
 * capture triggers and a schema event in the change log commit together, and the OLAP ALTER
 * is applied in log order. RHEI_NOTFOUND (no such table or column), RHEI_EXISTS (add: the
 * column exists), RHEI_MISUSE (drop: a primary-key column; a declared type rhei cannot map),
 * RHEI_READONLY in pure sidecar mode. decl is parsed, never run as written:
 *   type        = word [word [word [word]]] [ "(" digits [ "," digits ] ")" ]
 *                 (identifier characters only: INTEGER, DOUBLE PRECISION, VARCHAR(40),
 *                 DECIMAL(12,2), UNSIGNED BIG INT; "" declares no type, which a
 *                 replicated table refuses: see the type map)
 *   decl        = type { DEFAULT literal | NOT NULL | NULL | COLLATE word }
 *   literal     = a signed number, a 'string' ('' inside), NULL, TRUE or FALSE
 * Anything else is RHEI_MISUSE naming the offending part. Through rhei_execute, an
 * `ALTER TABLE t ADD/DROP COLUMN ...` on a replicated table does the same with the caller's
 * own statement (see rhei_execute). */
RHEI_API int rhei_add_column(rhei_db *db, const char *table, const char *column,
                             const char *decl);
RHEI_API int rhei_drop_column(rhei_db *db, const char *table, const char *column);

typedef struct rhei_sync_status {
    int64_t head_position;    /* last position committed to the change log */
    int64_t applied_position; /* last position applied to OLAP */
    int64_t lag_events;       /* change events committed but not applied */
    double lag_ms;            /* age of the oldest unapplied change, 0 if none */
    int running;              /* background sync active */
    int64_t cycles;           /* cycles run since open */
    int64_t events_total;     /* events applied since open */
    int64_t last_cycle_us;    /* duration of the last cycle */
    int last_error_code;      /* last cycle's error, RHEI_OK if it succeeded */
    char last_error[256];
    int failed_tables;        /* tables no longer replicated (see rhei_table_status_get) */
    char failed_table[256];   /* the first of them, "" if none */
    int64_t reserved[16];     /* room for later fields */
} rhei_sync_status;

/* RHEI_OK or RHEI_MISUSE. The positions are 0 when the change log cannot be read now. */
RHEI_API int rhei_sync_status_get(rhei_db *db, rhei_sync_status *out);

/* Failure model. A change the write check let through but OLAP still cannot take (written
 * by an older build's triggers, a DuckDB limit, invalid UTF-8 in TEXT: SQLite's built-in
 * functions cannot check it) fails only its own table. The cycle that met it is rolled back
 * whole and run again without that table, so every other table keeps replicating and no
 * cycle is ever half-applied. The failed table (state RHEI_TABLE_FAILED):
 *  - keeps its OLAP rows as of the last cycle before the failure, but routed reads naming
 *    it go to SQLite from the moment the cycle fails it (reason RHEI_ROUTE_TABLE_BEHIND; a
 *    RHEI_STRONG read that routed to OLAP before its wait is routed again after it), so
 *    routing never answers with its stale copy; only a read hinted RHEI_SIDE_OLAP sees it;
 *  - has its later changes neither applied nor pruned: the change log keeps every event
 *    after `failed_after` (the log grows until the repair);
 *  - makes rhei_sync_now return the failure's code with a message naming the table, for as
 *    long as it lasts (the other tables are applied all the same); rhei_sync_status_get
 *    counts it, rhei_table_status_get gives its cause. The failure is stored with the OLAP
 *    position, so a durable store that reopens knows it too.
 * Errors of the environment (memory, disk, locks) fail the whole cycle instead, which is
 * retried with backoff and loses nothing.
 *
 * DDL that rhei did not run (another process, the sqlite3 shell, the raw handle) is found at
 * open and at the start of every sync cycle (a schema-cookie check, then the catalog compared
 * with SQLite's schema). A registered table that was dropped, renamed, re-created or rebuilt
 * (its capture triggers are gone), or lost a replicated column, is DETACHED: rhei_open never
 * fails over it, the other tables go on replicating, its changes are no longer applied, its
 * OLAP copy is left as it was (not rebuilt on open), reads naming it go to SQLite, and cause
 * says what was found. It stays listed by rhei_tables (after the replicated tables) until
 * rhei_unregister_table (removes its OLAP copy) or rhei_register_table (registers the table
 * SQLite has now and copies it). A detached table is reported as detached even if it had
 * failed before. */
typedef enum rhei_table_state {
    RHEI_TABLE_REPLICATED = 0,
    RHEI_TABLE_FAILED = 1,  /* its changes can no longer be applied: rhei_resync_table */
    RHEI_TABLE_DETACHED = 2 /* changed by DDL outside rhei: register or unregister it */
} rhei_table_state;

typedef struct rhei_table_status {
    int state;             /* a rhei_table_state */
    int error_code;        /* FAILED: the cause: RHEI_TYPE for a value, RHEI_OLAP for DuckDB,
                            * ...; 0 otherwise */
    int64_t failed_after;  /* FAILED: its changes after this log position are not in OLAP */
    char cause[256];       /* "" when replicated; FAILED: the error; DETACHED: what was found */
    int64_t reserved[8];   /* room for later fields */
} rhei_table_status;

/* Checks SQLite's schema now and fills out for a registered table (detached ones included).
 * RHEI_NOTFOUND if it is not registered. */
RHEI_API int rhei_table_status_get(rhei_db *db, const char *table, rhei_table_status *out);
/* The repair of a failed table (also works on a healthy one): fix the offending rows in
 * SQLite first, then call this. It copies the table's current rows to OLAP again, replacing
 * its OLAP copy atomically with the sync position (history mode: the table's past versions
 * are replaced by its current rows), and ends the failure. RHEI_OK once the table
 * replicates again; if its rows still cannot be copied, the table stays failed and the call
 * returns the cause (code and message naming table, column and value). A detached table is
 * repaired by rhei_register_table instead. */
RHEI_API int rhei_resync_table(rhei_db *db, const char *table);
/* Change events of one table committed to the log but not yet applied by this engine.
 * RHEI_OK (0 for an unknown table), RHEI_OLTP, RHEI_BUSY. */
RHEI_API int rhei_table_pending(rhei_db *db, const char *table, int64_t *out_events);

/* Point-in-time read in history mode: the rows of table as they were at ts_us (microseconds
 * since the epoch, UTC). For a replicated table the call first applies every commit made
 * before it (it may wait for a running sync cycle), so the answer is complete; RHEI_RANGE if
 * ts_us is in the future. For a sidecar-followed table, RHEI_RANGE if ts_us is later than
 * the table's watermark (what the sidecar has applied). RHEI_MISUSE in mirror mode;
 * RHEI_NOTFOUND (no such table). In DuckDB SQL the same is `SELECT * FROM rhei_as_of('t', ts)`. */
RHEI_API int rhei_query_as_of(rhei_db *db, const char *table, int64_t ts_us,
                              rhei_result **out);

/* --- sidecar mode ------------------------------------------------------------------------
 * Configured with "sidecar.*" keys (see config/htap.toml): Rhei follows tables of an external
 * SQLite file or PostgreSQL database by polling their updated_at column, into OLAP (mirror or
 * history). With sidecar.local_oltp = false (the default when a source is set) the engine is
 * a pure sidecar: rhei_execute and rhei_execute_batch fail with RHEI_READONLY. Queries on
 * followed tables are served by OLAP. A background poll runs every sidecar.poll_interval_ms.
 * ---------------------------------------------------------------------------------------- */

typedef struct rhei_sidecar_table_status {
    char name[128];
    int64_t watermark_us;  /* every source change at or before this moment is applied */
    int64_t rows_applied;  /* since open */
    int64_t last_cycle_us;
    int stopped;           /* a schema problem stopped this table until restart */
    int last_error_code;
    char last_error[256];
    int64_t reserved[16];  /* room for later fields */
} rhei_sidecar_table_status;

/* Polls every followed table now, until caught up; *out_rows (may be NULL) gets the rows
 * applied. RHEI_MISUSE when no sidecar is configured; RHEI_SOURCE when the source fails. */
RHEI_API int rhei_sidecar_sync_now(rhei_db *db, int64_t *out_rows);
/* Number of followed tables (0 without a sidecar). RHEI_OK or RHEI_MISUSE. */
RHEI_API int rhei_sidecar_table_count(rhei_db *db, size_t *out_count);
/* Status of the i-th followed table. RHEI_MISUSE when no sidecar is configured, RHEI_RANGE
 * when i is past the end. */
RHEI_API int rhei_sidecar_status_get(rhei_db *db, size_t i, rhei_sidecar_table_status *out);

/* --- metrics ---------------------------------------------------------------------------
 * A snapshot of the engine's counters for monitoring (rh serve's Prometheus endpoint renders
 * it). Counters count since open; durations are in seconds.
 * ---------------------------------------------------------------------------------------- */

#define RHEI_HISTOGRAM_BUCKETS 16
/* Observations by upper bound: bucket[i] counts those in (bound(i-1), bound(i)], not
 * cumulative; observations above the last bound are only in count. */
typedef struct rhei_histogram {
    int64_t count;
    double sum; /* seconds */
    int64_t bucket[RHEI_HISTOGRAM_BUCKETS];
} rhei_histogram;
/* Upper bound of bucket i in seconds (100 us .. 10 s); a huge value for i out of range. */
RHEI_API double rhei_histogram_bound(size_t i);

#define RHEI_METRICS_ROUTES 32
typedef struct rhei_route_count {
    rhei_side side;
    const char *reason; /* static string, as rhei_result_reason */
    int64_t count;
} rhei_route_count;

typedef struct rhei_metrics {
    size_t size;               /* the caller sets sizeof(rhei_metrics): room to grow */
    rhei_sync_status sync;     /* positions, lag, cycles, last error (rhei_sync_status_get) */
    int64_t applied_inserted;  /* change events applied, by kind */
    int64_t applied_updated;
    int64_t applied_deleted;
    int64_t batches;           /* OLAP transactions that applied changes (cycles with events) */
    int64_t cycle_failures;    /* sync cycles that failed (and were retried) */
    int64_t pruned_position;   /* this engine pruned the change log up to here (0: not yet) */
    rhei_histogram cycle_seconds;
    int64_t queries[3];        /* routed queries served, by side: [RHEI_SIDE_OLTP], [.._OLAP] */
    int64_t fallbacks;         /* auto-routed OLAP queries SQLite answered instead */
    rhei_histogram query_seconds[3]; /* query latency by serving side, as queries[] */
    size_t nroutes;            /* distinct (side, reason) pairs below; more are not counted */
    rhei_route_count routes[RHEI_METRICS_ROUTES];
} rhei_metrics;

/* Fills *out (out->size must be sizeof(rhei_metrics), else RHEI_MISUSE). Reads the change
 * log's head and pruned position (a SQLite read); any thread. */
RHEI_API int rhei_metrics_get(rhei_db *db, rhei_metrics *out);

/* --- SQL text (no database needed) -------------------------------------------------------
 * Statement boundaries as SQLite reads them, on the engine's own tokenizer, so shells and
 * front ends need no SQL lexer of their own. Pure functions, any thread. Any byte string is
 * valid input: nothing is read outside [sql, sql + len); unterminated quotes and comments run
 * to the end; NUL is an ordinary byte. Offsets are byte offsets into sql.
 * ---------------------------------------------------------------------------------------- */

typedef enum rhei_sql_token_type {
    RHEI_SQL_EOF = 0, /* no token left (whitespace and comments are skipped) */
    RHEI_SQL_WORD,    /* keyword or bare identifier */
    RHEI_SQL_QIDENT,  /* "x", `x` or [x], quotes included */
    RHEI_SQL_STRING,  /* 'x' or X'00', quotes included */
    RHEI_SQL_NUMBER,
    RHEI_SQL_PARAM,   /* ?, ?N, :name, @name, $name */
    RHEI_SQL_PUNCT,   /* one byte: ( ) , ; . and any other */
    RHEI_SQL_OP       /* several bytes: <= >= <> != || ... */
} rhei_sql_token_type;

/* The token at or after *pos: its span in out_start and out_len (may be NULL); *pos moves past it.
 * At the end returns RHEI_SQL_EOF with *pos = len and *out_len = 0. */
RHEI_API rhei_sql_token_type rhei_sql_token(const char *sql, size_t len, size_t *pos,
                                            size_t *out_start, size_t *out_len);
/* The next statement at or after *pos: out_start and out_len span it from its first token to
 * its last, without the ';' (a ';' inside quotes, comments or a CREATE TRIGGER body does not
 * end it); *pos moves past its ';' (or to len). Returns 1, or 0 when only whitespace,
 * comments and ';' remain (then *pos = len). Loop: while (rhei_sql_statement(...)) ... */
RHEI_API int rhei_sql_statement(const char *sql, size_t len, size_t *pos, size_t *out_start,
                                size_t *out_len);
/* 1 if the NUL-terminated sql ends with a complete statement: its last token is a ';' that
 * ends a statement (the rule of sqlite3_complete); 0 if more input is needed (or sql is NULL). */
RHEI_API int rhei_sql_complete(const char *sql);

/* --- escape hatches ---------------------------------------------------------------------- */

/* The raw handles: sqlite3* (the writer connection) and duckdb_database*. Borrowed for the
 * life of db; the caller must not close them and must not use the sqlite3* while another
 * thread calls rhei_execute. */
RHEI_API void *rhei_oltp_handle(rhei_db *db);
RHEI_API void *rhei_olap_handle(rhei_db *db);

/* Library versions: Rhei's, the linked SQLite's and DuckDB's (static strings). */
RHEI_API const char *rhei_version(void);
RHEI_API const char *rhei_sqlite_version(void);
RHEI_API const char *rhei_duckdb_version(void);

/* Frees memory Rhei returned to the caller (none today beyond the typed destructors). */
RHEI_API void rhei_free(void *p);

#ifdef __cplusplus
}
#endif
#endif /* RHEI_H */
