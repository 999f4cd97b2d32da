/* repl.h — the REPL's state, shared by repl.c (input, history, Ctrl-C) and repl_meta.c (the
 * dot commands). One REPL per process, on the main thread. */
#ifndef RH_REPL_H
#define RH_REPL_H
#include "rh.h"

typedef struct rh_repl {
    rh_session s;
    rh_opts o;          /* live settings: .mode, .timer, .hint, .consistency change them */
    int interactive;    /* stdin is a terminal: readline, prompts, history */
    char *buf;          /* the statement being typed, across lines (at most RH_SQL_MAX) */
    size_t len, cap;
    int failed;         /* some statement or command failed: exit code 1 */
    int quit;
    /* where input comes from, for "near line N" in errors of scripts (pipe, .read) */
    const char *src;    /* file name of a .read, NULL for stdin */
    long lineno;        /* lines read from src so far */
    long stmt_line;     /* line on which the buffered statement began */
    const char *run_base; /* the text rh_repl_run_sql is splitting */
    int depth;          /* .read nesting */
    /* .output / .once: stdout is redirected to a file; saved_stdout restores it */
    int saved_stdout;   /* -1 when stdout is the original */
    int once;           /* .once: restore after the next statement or command */
    char *tmpdir;       /* the temporary folder of an unnamed (in-memory) database */
    int remote;         /* a running `rh serve` owns the database and runs the statements */
} rh_repl;

/* Runs one line of input: a dot command, or SQL added to the statement being typed. */
void rh_repl_line(rh_repl *r, const char *line);
/* .import FILE TABLE (import.c); sets r->failed on error. */
void rh_repl_import(rh_repl *r, const char *args);
/* Restores stdout after .output/.once. */
void rh_repl_output_reset(rh_repl *r);

/* Runs one dot command line (".mode csv"); sets r->failed on error. */
void rh_repl_meta(rh_repl *r, const char *line);
/* Runs every statement of sql (reads routed, writes on SQLite). */
void rh_repl_run_sql(rh_repl *r, const char *sql);
#endif
