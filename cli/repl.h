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
} rh_repl;

/* Runs one dot command line (".mode csv"); sets r->failed on error. */
void rh_repl_meta(rh_repl *r, const char *line);
/* Runs every statement of sql (reads routed, writes on SQLite). */
void rh_repl_run_sql(rh_repl *r, const char *sql);
#endif
