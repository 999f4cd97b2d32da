/* repl_meta.c — the REPL's dot commands: .tables, .schema, .route, .sync, .status, .mode,
 * .timer, .hint, .consistency, .help, .quit. Catalog reads go through the engine's routed
 * query API with an OLTP hint (sqlite_master exists only in SQLite). */
#include "repl.h"
#include <stdlib.h>
#include <string.h>

static const char help_text[] =
    ".tables                  tables and views; replicated ones marked\n"
    ".schema [TABLE]          CREATE statements (from sqlite_master)\n"
    ".route SQL               which side would serve SQL, and why\n"
    ".sync                    apply pending changes to OLAP now\n"
    ".status                  sync position, lag, row counts per side\n"
    ".mode table|csv|json     output format\n"
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
    static const char *const modes[] = {"table", "csv", "json"};
    static const char *const onoff[] = {"off", "on"};
    static const char *const hints[] = {"auto", "oltp", "olap"};
    static const char *const cons[] = {"eventual", "strong"};
    int v = 0;
    if (strcmp(cmd, ".mode") == 0) {
        if (!*arg)
            printf("%s\n", rh_format_name(r->o.format));
        else if (pick(r, cmd, arg, modes, 3, &v) == 0)
            r->o.format = (rh_format)v;
    } else if (strcmp(cmd, ".timer") == 0) {
        if (pick(r, cmd, arg, onoff, 2, &v) == 0)
            r->o.timer = v;
    } else if (strcmp(cmd, ".hint") == 0) {
        if (!*arg)
            printf("%s\n", rh_side_name(r->o.hint));
        else if (pick(r, cmd, arg, hints, 3, &v) == 0)
            r->o.hint = (rhei_side)v; /* RHEI_SIDE_AUTO, _OLTP, _OLAP are 0, 1, 2 */
    } else if (pick(r, cmd, arg, cons, 2, &v) == 0) {
        r->o.consistency = v ? RHEI_STRONG : RHEI_EVENTUAL;
    }
}

void rh_repl_meta(rh_repl *r, const char *line)
{
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
             !strcmp(cmd, ".consistency"))
        meta_setting(r, cmd, a);
    else
        rh_err("unknown command '%s': try .help", cmd), fail(r);
    free(a);
    fflush(stdout);
}
