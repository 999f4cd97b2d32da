/* rh.h — declarations shared by the files of `rh`, Rhei's command-line tool: parsed options,
 * the engine session (sync owner or guest, see session.c), output formats, SQL text helpers
 * and the command entry points. rh uses only the public rhei.h, never engine internals. */
#ifndef RH_H
#define RH_H
#include "rhei.h"
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RH_VERSION "0.1.0"

/* Exit codes of every command. */
#define RH_EXIT_OK 0
#define RH_EXIT_ERR 1   /* SQL or runtime error */
#define RH_EXIT_USAGE 2 /* bad command line */

#define RH_PATH_MAX 4096
#define RH_NAME_MAX 256           /* table names: longer ones are refused, not truncated */
#define RH_SQL_MAX (64u << 20)    /* SQL read from stdin or a REPL statement: 64 MiB */
#define RH_DEFAULT_SYNC_MS 100    /* background sync period when the config says 0 */

#if defined(__GNUC__)
#define RH_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define RH_PRINTF(f, a)
#endif

typedef enum rh_format {
    RH_FMT_TABLE = 0, RH_FMT_CSV = 1, RH_FMT_JSON = 2, /* table: rh's own, with a footer */
    RH_FMT_LINE, RH_FMT_BOX, RH_FMT_MARKDOWN, RH_FMT_COLUMN /* as sqlite3's .mode names them */
} rh_format;

/* The command line, parsed once by main.c. Strings point into argv. */
typedef struct rh_opts {
    const char *cmd;
    const char *db, *config, *olap;
    const char *pidfile, *log;
    const char *key; /* register --key COL[,COL...] */
    rhei_side hint;
    rhei_consistency consistency;
    rh_format format;
    int format_set; /* --format given; otherwise table on a terminal, csv elsewhere */
    int timer, explain, no_register, headless, changes;
    int help; /* --help seen: print the command's help instead of running it */
    long refresh_ms;
    char **args; /* positional arguments after the command */
    int nargs;
} rh_opts;

/* --- session.c: configuration and the engine handle -------------------------------------
 * One rh process per SQLite file owns its sync (takes <db>.rh-lock). Others are guests: they
 * open an in-memory OLAP copy taken at open and never run a sync cycle nor rhei_close,
 * because a second engine's sync would prune change events the owner has not applied. */
typedef struct rh_session {
    rhei_db *db;
    int guest;                     /* another rh process owns sync of this file */
    char owner[160];               /* when guest: "pid 4242 (serve)" */
    int lock_fd;                   /* the flock'ed lock file while we own sync, else -1 */
    int lock_created;              /* this process created the lock file */
    char oltp_path[RH_PATH_MAX];
    char olap_path[RH_PATH_MAX];
    int64_t sync_interval_ms;      /* background sync period running, 0 = none */
    int metrics_port;              /* config metrics_port ([metrics] port); 0 = none */
    /* how statements run as writes print: rows (SELECT/PRAGMA/RETURNING in exec) and, with
     * show_changes, "N rows changed" after INSERT/UPDATE/DELETE */
    rh_format format;
    int headers_off;               /* csv/table/... without the header line (.headers off) */
    int show_changes;
    int serving;                   /* rh serve answering another rh process (local.c) */
    int64_t own[3];                /* count(*) queries rh ran itself (status, dashboard), by
                                    * side: not the routing of anyone's queries */
} rh_session;

/* Which sync a command wants: ON_DEMAND (one-shot commands), BACKGROUND when it owns the
 * file, or OWNER (background, and refuse to run as a guest: `rh serve`). */
typedef enum rh_sync_want {
    RH_SYNC_ON_DEMAND = 0,
    RH_SYNC_BACKGROUND = 1,
    RH_SYNC_OWNER = 2
} rh_sync_want;

/* Builds the config from --config, --db and --olap. Returns an exit code; on failure the
 * message is already printed and *out is NULL. */
int rh_config_build(const rh_opts *o, rhei_config **out);
/* Opens the engine for `role` ("exec", "serve", ...). Returns an exit code. */
int rh_session_open(rh_session *s, const rh_opts *o, const char *role, rh_sync_want want);
/* Closes what open made: rhei_close (final sync) when owner; nothing for a guest (see above).
 * Returns an exit code (RH_EXIT_ERR if the final sync failed). */
int rh_session_close(rh_session *s);
/* True once a guest engine was opened in this process: main leaves through _exit so no
 * destructor runs a sync on its behalf. */
int rh_session_guest_open(void);

/* --- flight_hook.c: the Flight SQL server of `rh serve` -------------------------------------
 * Starts it when the config asks ([engine] flight_port or [flight]); *out stays NULL when it
 * does not. desc gets the log line ("flight sql listening on HOST:PORT ..."). -1 when it
 * cannot start (message printed). Stop drains running streams, accepts NULL. */
int rh_flight_start(const rh_opts *o, rhei_db *db, void **out, char *desc, size_t n);
void rh_flight_stop(void *f);
/* The Flight server's counters for the Prometheus endpoint (f: rh_flight_start's server). */
struct rhei__metrics_flight;
void rh_flight_metrics(void *f, struct rhei__metrics_flight *out);
const char *rh_flight_feature(void);

/* --- util ------------------------------------------------------------------------------ */
void rh_err(const char *fmt, ...) RH_PRINTF(1, 2);
/* Errors printed from now on name this place of a script: "rh: [src ]near line N: ...",
 * followed by the statement (its first 80 characters). line 0 clears it. */
void rh_err_context(const char *src, long line, const char *stmt, size_t len);
/* The line of text[at] counted from first_line (text's first line). */
long rh_line_of(const char *text, size_t at, long first_line);
/* Flushes stdout; RH_EXIT_ERR if that or any earlier write to it failed, after printing
 * "rh: write error: <cause>" (once until rh_out_reset, which also clears the error). Every
 * command that prints results checks it where results are flushed, and main at exit. */
int rh_out_check(void);
void rh_out_reset(void);
/* Prints "rh: <what>: <engine message>" for a failed engine call; returns RH_EXIT_ERR. */
int rh_db_err(rhei_db *db, int rc, const char *what);
double rh_now_ms(void);
const char *rh_side_name(rhei_side s);
/* Reads all of f into a NUL-terminated heap string (at most RH_SQL_MAX bytes). */
char *rh_read_all(FILE *f);
/* 1 if a SIGINT is pending (blocked by the REPL while a statement runs), consuming it. */
int rh_take_sigint(void);
/* Records a SIGINT consumed elsewhere (the query watcher), for rh_sigint_seen. */
void rh_note_sigint(void);
/* 1 if rh_take_sigint consumed a SIGINT since the last call (then cleared). */
int rh_sigint_seen(void);
/* Appends `"name"` (SQL identifier quoting) to dst; 0 if it fit. */
int rh_quote_ident(char *dst, size_t cap, const char *name);

/* --- output.c: result printing ----------------------------------------------------------- */
/* A printable grid. text() gives NULL for SQL NULL and may use g->scratch (valid until the
 * next call); kind() says how a cell is written. */
typedef enum rh_kind { RH_K_TEXT, RH_K_NUMBER, RH_K_BOOL, RH_K_BLOB } rh_kind;
typedef struct rh_grid {
    size_t ncols, nrows;
    const void *src;
    const char *(*name)(struct rh_grid *g, size_t col);
    const char *(*text)(struct rh_grid *g, size_t row, size_t col, size_t *len);
    rh_kind (*kind)(struct rh_grid *g, size_t row, size_t col);
    char scratch[64];
} rh_grid;

typedef struct rh_print_opts {
    rh_format format;
    int timer;      /* show elapsed_ms */
    int explain;    /* show the serving side (table mode always shows it in its footer) */
    double elapsed_ms;
    const char *side;   /* "oltp"/"olap" or NULL */
    const char *reason; /* route reason or NULL */
    int no_headers;     /* .headers off: no header line (table, csv, box, ...) */
} rh_print_opts;

void rh_grid_of_result(rh_grid *g, const rhei_result *r);
void rh_print_grid(FILE *out, rh_grid *g, const rh_print_opts *po);
void rh_print_result(FILE *out, const rhei_result *r, const rh_print_opts *po);
int rh_parse_format(const char *s, rh_format *out);
const char *rh_format_name(rh_format f);

/* --- sqltext.c: just enough SQL lexing for a shell ---------------------------------------- */
/* Calls fn for each statement of text (without its ';'; comment-only pieces skipped). */
typedef int (*rh_stmt_fn)(void *ud, const char *stmt, size_t len);
int rh_sql_each(const char *text, rh_stmt_fn fn, void *ud);
/* 1 when text ends with a complete statement (a ';' outside quotes, comments and trigger
 * bodies), 0 when more input is needed. */
int rh_sql_complete(const char *text);
/* 1 when text holds nothing but whitespace and comments. */
int rh_sql_blank(const char *text);
/* If stmt is CREATE TABLE (not TEMP, not VIRTUAL), copies the table's name into name. */
int rh_sql_created_table(const char *stmt, size_t len, char *name, size_t cap);
/* If stmt is DROP TABLE, copies the table's name into name. */
int rh_sql_dropped_table(const char *stmt, size_t len, char *name, size_t cap);
/* ALTER TABLE: ADD [COLUMN] c decl, DROP [COLUMN] c, or anything else (RENAME ...). */
typedef enum rh_alter_kind { RH_ALTER_ADD = 1, RH_ALTER_DROP, RH_ALTER_OTHER } rh_alter_kind;
typedef struct rh_alter {
    rh_alter_kind kind;
    char table[RH_NAME_MAX];
    char column[RH_NAME_MAX];
    const char *decl; /* ADD: the column's type and constraints, borrowed from stmt */
    size_t decl_len;
} rh_alter;
int rh_sql_alter(const char *stmt, size_t len, rh_alter *out);
/* The first word of stmt, upper-cased, into word; 0 if it does not start with a word. */
int rh_sql_first_word(const char *stmt, size_t len, char *word, size_t cap);
/* 1 if the keyword word (any case) appears as a token of stmt (not in quotes or comments). */
int rh_sql_has_word(const char *stmt, size_t len, const char *word);
/* What a statement is to the shell: UNKNOWN does not start like any SQLite statement (a
 * typo: SQLite refuses it before running anything); ROWS reads; PRAGMA a pragma without '='
 * (prints rows); DML changes rows (INSERT/UPDATE/DELETE/REPLACE); ROWS_WRITE is DML with
 * RETURNING; WRITE anything else (DDL, transactions, PRAGMA x = y...). */
typedef enum rh_stmt_kind {
    RH_STMT_UNKNOWN, RH_STMT_ROWS, RH_STMT_PRAGMA, RH_STMT_DML, RH_STMT_ROWS_WRITE, RH_STMT_WRITE
} rh_stmt_kind;
rh_stmt_kind rh_sql_kind(const char *stmt, size_t len);
/* Calls fn with each table named after FROM/JOIN/INTO/UPDATE (for `rh route` without --db). */
typedef void (*rh_name_fn)(void *ud, const char *name);
void rh_sql_tables(const char *stmt, size_t len, rh_name_fn fn, void *ud);

/* --- dashboard.c ------------------------------------------------------------------------- */
/* Blocks SIGINT, SIGTERM and SIGHUP (call before the engine starts threads); fills set. */
void rh_block_stop_signals(sigset_t *set);
/* Called once per refresh when set (rh serve serves its local socket there). */
extern void (*rh_dashboard_hook)(void *ud);
extern void *rh_dashboard_hook_ud;
/* Runs the ncurses dashboard until `q` or one of the blocked signals in sigs. remote: the
 * options naming a database a running service owns; the view then shows that service's
 * samples (rh_local_sample) and s is only its title's holder. NULL: s's own engine. */
int rh_dashboard_loop(rh_session *s, const rh_opts *remote, const char *title, long refresh_ms,
                      const sigset_t *sigs);
/* The service's side of a remote dashboard: one sample of s (sync status, routing net of
 * rh's own counts, failed table, sidecar tables and, when counts, per-table row counts) as
 * lines of tab-separated fields. Returns an exit code. */
int rh_dashboard_sample(rh_session *s, FILE *out, int counts);

/* --- local.c: a running `rh serve` serves other rh commands on its database -------------- */
typedef struct rh_local_server {
    int fd;         /* the listening socket, -1 when none */
    char path[108]; /* <db>.rh-sock */
} rh_local_server;
/* Client: -1 when no service owns the database (then run locally), else the exit code of
 * the request the service ran for us (exec/query: text is the SQL; status; register: the
 * table names NUL-separated). */
int rh_local_forward(const rh_opts *o, const char *text, size_t len);
/* The REPL's statements, with its live settings; -1 when no service answers. */
int rh_local_statement(const rh_opts *o, int headers_off, int show_changes, const char *sql);
/* The REPL's dot commands the service runs (.tables, .schema, .route, .sync, .status). */
int rh_local_meta(const rh_opts *o, int headers_off, int show_changes, const char *line);
/* .import: the client read FILE; the service imports csv into TABLE. */
int rh_local_import(const rh_opts *o, int show_changes, const char *file, const char *table,
                    const char *csv);
/* One dashboard sample from the service (rh_dashboard_sample's text, a heap string the
 * caller frees, in *out); -1 when no service answers. */
int rh_local_sample(const rh_opts *o, int counts, char **out, size_t *out_len);
/* A connection to the service owning o's database, or -1. */
int rh_local_open(const rh_opts *o);
/* Server: listens on <db>.rh-sock with the database file's mode; -1 when it cannot. */
int rh_local_listen(rh_session *s, rh_local_server *l);
/* Waits up to timeout_ms for clients and serves those waiting, one at a time. */
void rh_local_serve(rh_local_server *l, rh_session *s, int timeout_ms);
void rh_local_close(rh_local_server *l);
/* Called after each request served (not dashboard samples) when set: rh serve's log. */
extern void (*rh_local_log)(void *ud, const char *request, long pid, int code);
extern void *rh_local_log_ud;

/* --- commands ---------------------------------------------------------------------------- */
int rh_cmd_exec(const rh_opts *o);
int rh_cmd_query(const rh_opts *o);
int rh_cmd_register(const rh_opts *o);
int rh_cmd_resync(const rh_opts *o);
int rh_cmd_unregister(const rh_opts *o);
int rh_cmd_info(const rh_opts *o);
int rh_cmd_route(const rh_opts *o);
int rh_cmd_status(const rh_opts *o);
int rh_cmd_repl(const rh_opts *o);
int rh_cmd_dashboard(const rh_opts *o);
int rh_cmd_serve(const rh_opts *o);
/* The benchmark suite; its options are o->args (everything after the command word). */
int rh_cmd_bench(const rh_opts *o);

/* Shared by exec and the REPL: runs a script on SQLite, registers the tables its CREATE
 * TABLE statements made (unless no_register), then syncs when this process owns sync.
 * Prints errors; returns an exit code. */
int rh_run_write(rh_session *s, const char *sql, int no_register, int64_t *out_changes);
/* ddl.c: runs one statement (len bytes, NUL-terminated) on SQLite, registering a created
 * table, unregistering a dropped one and altering columns through the engine. */
int rh_run_write_stmt(rh_session *s, const char *sql, size_t len, int no_register,
                      int64_t *changes);
/* Registers an existing table (created: it was just made by this statement). keys: the
 * key columns ("a,b", --key) of a table without a declared primary key; NULL: its own. */
int rh_register_one(rh_session *s, const char *table, int created, const char *keys);
/* "cannot VERB table 'T' for replication: sync ... is owned by ..." (ddl: the statement
 * could run with --no-register). Returns RH_EXIT_ERR. */
int rh_refuse_as_guest(const rh_session *s, const char *table, const char *verb, int ddl);
/* cmd_tables.c: splits --key's "a, b" into column names (copied into buf, blanks around
 * each trimmed) in out[RH_KEYS_MAX]; -1 for an empty name, too many, or too long. */
#define RH_KEYS_MAX 64
int rh_split_keys(const char *keys, char *buf, size_t cap, const char **out, size_t *out_n);
/* The service's side of register (keys or NULL), resync ('Y') and unregister ('U') of
 * NUL-separated table names; also the local commands' loop. Returns an exit code. */
int rh_table_verb(rh_session *s, char verb, const char *keys, const char *names, size_t len);
/* Runs one statement on SQLite keeping its rows (rhei_execute_query) and prints them in
 * s->format; *changes gets the rows a RETURNING statement changed. Returns an exit code. */
int rh_exec_rows(rh_session *s, const char *sql, int64_t *changes);
/* Runs one read and prints it. Returns an exit code; RHEI_MISUSE from the engine (the
 * statement writes) is returned through *out_rc so the REPL can fall back to a write. */
int rh_run_read(rh_session *s, const char *sql, const rh_opts *o, int *out_rc);
/* The bodies of `rh exec` / `rh query` on an open session (also run by the service for a
 * client), and one REPL statement (read first, a write when the engine refuses it). */
int rh_exec_text(rh_session *s, const char *sql, const rh_opts *o);
int rh_query_text(rh_session *s, const char *sql, const rh_opts *o);
/* An owner applies what other processes committed to SQLite since the last sync (sqlite3,
 * a program using the file) before a command reads, so `rh query` and `rh FILE "SQL"` never
 * answer from a DuckDB file older than the commits before them. A guest cannot and need
 * not (its copy was taken at open). A failing cycle (a failed table) is a warning on
 * stderr: the other tables were applied all the same and the command goes on. */
void rh_catch_up(rh_session *s);
int rh_statement_text(rh_session *s, const char *sql, const rh_opts *o);
/* `rh route --db`'s lines for each statement of sql on s's engine. */
int rh_route_text(rh_session *s, const char *sql);
/* The service's side of a client REPL's dot command (only those rh_local_meta sends) and
 * of its .import (payload: FILE NUL TABLE NUL csv, len bytes). Exit codes. */
int rh_repl_served_meta(rh_session *s, const rh_opts *o, const char *line);
int rh_repl_served_import(rh_session *s, const rh_opts *o, const char *payload, size_t len);
/* `rh status` text, also `.status` in the REPL. */
int rh_print_status(rh_session *s, FILE *out);
/* Registered table names: *out is a heap array of RH_NAME_MAX-byte names. */
int rh_list_tables(rh_session *s, char (**out)[RH_NAME_MAX], size_t *out_n);
/* count(*) of table on one side (hint); -1 when that side cannot answer. */
int64_t rh_count_rows(rh_session *s, const char *table, rhei_side side);
#endif
