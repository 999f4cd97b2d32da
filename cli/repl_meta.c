/* repl_meta.c — the REPL's dot commands: .tables, .schema, .route, .sync, .status, .mode,
 * .headers, .changes, .timer, .hint, .consistency, .output, .once, .read, .import (import.c),
 * .help, .quit. Catalog reads go through the engine's routed
 * query API with an OLTP hint (sqlite_master exists only in SQLite). When a running service
 * owns the database, the commands that read or sync its engine run there (local.c); the
 * settings, files and .read stay in the client. */
#include "repl.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char help_text[] =
    ".tables                  tables and views; replicated ones marked\n"
    ".schema [TABLE]          CREATE statements (from sqlite_master)\n"
    ".route SQL               which side would serve SQL, and why\n"
    ".sync                    apply pending changes to OLAP now\n"
    ".status                  sync position, lag, row counts per side\n"
    ".mode MODE               output format: table csv json line box markdown column\n"
    ".headers on|off          header line in table, csv, box, markdown, column\n"
    ".changes on|off          \"N rows changed\" after INSERT/UPDATE/DELETE\n"
    ".output [FILE]           write results to FILE (none: back to the terminal)\n"
    ".once FILE               write the next result to FILE\n"
    ".read FILE               run the statements and commands of FILE\n"
    ".import FILE TABLE       load CSV (header line first) into TABLE, replicated\n"
    ".timer on|off            show how long each statement took\n"
    ".hint auto|oltp|olap     routing: automatic or forced to a side\n"
    ".consistency eventual|strong   strong: OLAP reads wait for earlier commits\n"
    ".help                    this text\n"
    ".quit                    leave (also .exit or Ctrl-D)\n"
    "SQL ends with ';' and may span lines. Reads are routed; writes and DDL run on SQLite\n"
    "and CREATE TABLE registers the table for replication. Ctrl-C clears the line.\n";

static int fail(rh_repl *r)
{
    r->failed = 1;
    return RH_EXIT_ERR;
}

static int is_replicated(char (*names)[RH_NAME_MAX], size_t n, const char *t)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], t) == 0)
            return 1;
    return 0;
}

static void meta_tables(rh_repl *r)
{
    static const char sql[] =
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
        " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_rhei\\_%' ESCAPE '\\'"
        " ORDER BY name";
    char (*names)[RH_NAME_MAX] = NULL;
    size_t n = 0;
    rhei_result *res = NULL;
    int rc = rh_list_tables(&r->s, &names, &n);
    if (rc == RHEI_OK)
        rc = rhei_query_with_hint(r->s.db, sql, RHEI_SIDE_OLTP, &res);
    if (rc != RHEI_OK) {
        rh_db_err(r->s.db, rc, "cannot list tables");
        fail(r);
    }
    for (size_t i = 0; res && i < rhei_result_row_count(res); i++) {
        const char *t = rhei_result_text(res, i, 0, NULL);
        printf("%-24s %s\n", t, is_replicated(names, n, t) ? "replicated" : "sqlite only");
    }
    rhei_result_free(res);
    free(names);
}

static void meta_schema(rh_repl *r, const char *table)
{
    static const char sql[] =
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL"
        " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_rhei\\_%' ESCAPE '\\'"
        " AND (?1 IS NULL OR tbl_name = ?1) ORDER BY tbl_name, type DESC, name";
    rhei_value p = *table ? rhei_text(table) : rhei_null();
    rhei_query_opts q = {RHEI_SIDE_OLTP, RHEI_EVENTUAL};
    rhei_result *res = NULL;
    int rc = rhei_query_ex(r->s.db, sql, &p, 1, &q, &res);
    if (rc != RHEI_OK) {
        rh_db_err(r->s.db, rc, "cannot read the schema");
        fail(r);
        return;
    }
    for (size_t i = 0; i < rhei_result_row_count(res); i++)
        printf("%s;\n", rhei_result_text(res, i, 0, NULL));
    rhei_result_free(res);
}

static void meta_route(rh_repl *r, const char *sql)
{
    rhei_route_info info;
    if (!*sql) {
        rh_err(".route needs SQL: .route SELECT ...");
        fail(r);
        return;
    }
    int rc = rhei_explain_route(r->s.db, sql, &info);
    if (rc != RHEI_OK) {
        rh_db_err(r->s.db, rc, "cannot route statement");
        fail(r);
        return;
    }
    printf("%s: %s", rh_side_name(info.side), info.reason);
    if (info.table[0])
        printf(" (table %s)", info.table);
    printf("\n");
}

static void meta_sync(rh_repl *r)
{
    rhei_sync_stats st;
    if (r->s.guest) {
        printf("sync is owned by %s; this session does not sync\n", r->s.owner);
        return;
    }
    int rc = rhei_sync_now(r->s.db, &st);
    if (rc != RHEI_OK) {
        rh_db_err(r->s.db, rc, "sync failed");
        fail(r);
        return;
    }
    printf("synced %lld events (%lld inserted, %lld updated, %lld deleted) to position %lld"
           " in %.1f ms\n", (long long)st.events, (long long)st.inserted,
           (long long)st.updated, (long long)st.deleted, (long long)st.last_position,
           (double)st.elapsed_us / 1000.0);
}

/* Parses "on"/"off" and the like: words[i] sets *out to i. */
static int pick(rh_repl *r, const char *cmd, const char *arg, const char *const *words,
                int nwords, int *out)
{
    for (int i = 0; i < nwords; i++)
        if (strcmp(arg, words[i]) == 0) {
            *out = i;
            return 0;
        }
    fprintf(stderr, "rh: %s expects", cmd);
    for (int i = 0; i < nwords; i++)
        fprintf(stderr, "%s%s", i ? " | " : " ", words[i]);
    fprintf(stderr, "; got '%s'\n", arg);
    return fail(r);
}

static void meta_setting(rh_repl *r, const char *cmd, const char *arg)
{
    static const char *const modes[] = {"table", "csv", "json", "line", "box", "markdown",
                                        "column"};
    static const char *const onoff[] = {"off", "on"};
    static const char *const hints[] = {"auto", "oltp", "olap"};
    static const char *const cons[] = {"eventual", "strong"};
    int v = 0;
    if (strcmp(cmd, ".mode") == 0) {
        if (!*arg)
            printf("%s\n", rh_format_name(r->o.format));
        else if (pick(r, cmd, arg, modes, 7, &v) == 0)
            r->o.format = (rh_format)v; /* in rh_format's order */
    } else if (strcmp(cmd, ".timer") == 0) {
        if (pick(r, cmd, arg, onoff, 2, &v) == 0)
            r->o.timer = v;
    } else if (strcmp(cmd, ".headers") == 0) {
        if (pick(r, cmd, arg, onoff, 2, &v) == 0)
            r->s.headers_off = !v;
    } else if (strcmp(cmd, ".changes") == 0) {
        if (pick(r, cmd, arg, onoff, 2, &v) == 0)
            r->s.show_changes = v;
    } else if (strcmp(cmd, ".hint") == 0) {
        if (!*arg)
            printf("%s\n", rh_side_name(r->o.hint));
        else if (pick(r, cmd, arg, hints, 3, &v) == 0)
            r->o.hint = (rhei_side)v; /* RHEI_SIDE_AUTO, _OLTP, _OLAP are 0, 1, 2 */
    } else if (pick(r, cmd, arg, cons, 2, &v) == 0) {
        r->o.consistency = v ? RHEI_STRONG : RHEI_EVENTUAL;
    }
}

/* --- .output, .once, .read ------------------------------------------------------------- */

void rh_repl_output_reset(rh_repl *r)
{
    r->once = 0;
    if (r->saved_stdout < 0)
        return;
    /* a file that could not take the output fails the REPL's exit code; the terminal
     * starts clean */
    if (rh_out_check() != RH_EXIT_OK)
        fail(r);
    rh_out_reset();
    dup2(r->saved_stdout, STDOUT_FILENO);
    close(r->saved_stdout);
    r->saved_stdout = -1;
}

/* Points stdout (the descriptor: every printer follows) at FILE; none: the terminal again. */
static void meta_output(rh_repl *r, const char *cmd, const char *file)
{
    rh_repl_output_reset(r);
    if (!*file) {
        if (strcmp(cmd, ".once") == 0)
            rh_err(".once needs a file: .once FILE"), fail(r);
        return;
    }
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rh_err("cannot write '%s': %s", file, strerror(errno));
        fail(r);
        return;
    }
    if (rh_out_check() != RH_EXIT_OK) /* what was printed before goes where it was headed */
        fail(r);
    r->saved_stdout = dup(STDOUT_FILENO);
    if (r->saved_stdout < 0 || dup2(fd, STDOUT_FILENO) < 0) {
        rh_err("cannot redirect output to '%s': %s", file, strerror(errno));
        if (r->saved_stdout >= 0)
            close(r->saved_stdout);
        r->saved_stdout = -1;
        fail(r);
    }
    close(fd);
    r->once = strcmp(cmd, ".once") == 0;
}

#define READ_DEPTH_MAX 16 /* a file that reads itself stops here instead of looping */

static void meta_read(rh_repl *r, const char *file)
{
    if (!*file) {
        rh_err(".read needs a file: .read FILE");
        fail(r);
        return;
    }
    if (r->depth >= READ_DEPTH_MAX) {
        rh_err("cannot read '%s': .read nested more than %d deep", file, READ_DEPTH_MAX);
        fail(r);
        return;
    }
    FILE *f = fopen(file, "r");
    if (!f) {
        rh_err("cannot read '%s': %s", file, strerror(errno));
        fail(r);
        return;
    }
    const char *src = r->src;
    long lineno = r->lineno;
    char *line = NULL, *name = strdup(file);
    size_t cap = 0;
    ssize_t n;
    r->src = name ? name : file;
    r->lineno = 0;
    r->depth++;
    while (!r->quit && (n = getline(&line, &cap, f)) >= 0) {
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        rh_repl_line(r, line);
    }
    if (!r->quit && r->len && !rh_sql_blank(r->buf)) { /* a last statement without ';' */
        r->len = 0;
        rh_repl_run_sql(r, r->buf);
    }
    r->len = 0;
    r->depth--;
    r->src = src;
    r->lineno = lineno;
    free(line);
    free(name);
    fclose(f);
}

/* The dot commands a serving owner runs for a client: they read the engine's state (which
 * tables are replicated, routing, sync) that a guest's copy does not have. Nothing here
 * opens files or changes settings, so the service never acts on the client's paths. */
static int served_by_owner(const char *cmd)
{
    static const char *const served[] = {".tables", ".schema", ".route", ".sync", ".status"};
    for (size_t i = 0; i < sizeof served / sizeof *served; i++)
        if (!strcmp(cmd, served[i]))
            return 1;
    return 0;
}

static void command_word(const char *line, char *cmd, size_t cap)
{
    size_t n = strcspn(line, " \t;");
    snprintf(cmd, cap, "%.*s", (int)(n < cap ? n : cap - 1), line);
}

int rh_repl_served_meta(rh_session *s, const rh_opts *o, const char *line)
{
    char cmd[32];
    command_word(line, cmd, sizeof cmd);
    if (!served_by_owner(cmd)) {
        rh_err("the service does not run '%s' for other processes", cmd);
        return RH_EXIT_USAGE;
    }
    rh_repl r = {.s = *s, .o = *o, .saved_stdout = -1};
    rh_repl_meta(&r, line);
    memcpy(s->own, r.s.own, sizeof s->own);
    return r.failed ? RH_EXIT_ERR : RH_EXIT_OK;
}

void rh_repl_meta(rh_repl *r, const char *line)
{
    char word[32];
    command_word(line, word, sizeof word);
    if (r->remote && served_by_owner(word)) {
        int code = rh_local_meta(&r->o, r->s.headers_off, r->s.show_changes, line);
        if (code >= 0) { /* else the service went away: this process answers */
            r->failed |= code != RH_EXIT_OK;
            return;
        }
    }
    char cmd[32];
    size_t n = strcspn(line, " \t");
    const char *arg = line + n;
    arg += strspn(arg, " \t");
    snprintf(cmd, sizeof cmd, "%.*s", (int)(n < sizeof cmd ? n : sizeof cmd - 1), line);
    char *a = strdup(arg);
    if (!a)
        return;
    for (size_t len = strlen(a); len && strchr(" \t\r\n;", a[len - 1]); len--)
        a[len - 1] = '\0'; /* ".tables;" and trailing blanks are forgiven */
    if (!strcmp(cmd, ".quit") || !strcmp(cmd, ".exit"))
        r->quit = 1;
    else if (!strcmp(cmd, ".help"))
        fputs(help_text, stdout);
    else if (!strcmp(cmd, ".tables"))
        meta_tables(r);
    else if (!strcmp(cmd, ".schema"))
        meta_schema(r, a);
    else if (!strcmp(cmd, ".route"))
        meta_route(r, a);
    else if (!strcmp(cmd, ".sync"))
        meta_sync(r);
    else if (!strcmp(cmd, ".status"))
        r->failed |= rh_print_status(&r->s, stdout) != RH_EXIT_OK;
    else if (!strcmp(cmd, ".mode") || !strcmp(cmd, ".timer") || !strcmp(cmd, ".hint") ||
             !strcmp(cmd, ".consistency") || !strcmp(cmd, ".headers") ||
             !strcmp(cmd, ".changes"))
        meta_setting(r, cmd, a);
    else if (!strcmp(cmd, ".output") || !strcmp(cmd, ".once"))
        meta_output(r, cmd, a);
    else if (!strcmp(cmd, ".read"))
        meta_read(r, a);
    else if (!strcmp(cmd, ".import"))
        rh_repl_import(r, a);
    else
        rh_err("unknown command '%s': try .help", cmd), fail(r);
    free(a);
    if (rh_out_check() != RH_EXIT_OK)
        fail(r);
}
