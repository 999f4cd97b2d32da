/* cmd_info.c — the read-only inspection commands: `rh info` (versions, features, effective
 * config), `rh route` (side and reason of a statement, without running it) and `rh status`
 * (sync position, lag and per-table row counts on each side). */
#include "rh.h"
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curses.h>
#include <readline/readline.h>

int rh_list_tables(rh_session *s, char (**out)[RH_NAME_MAX], size_t *out_n)
{
    rhei_table_list *l = NULL;
    *out = NULL;
    *out_n = 0;
    int rc = rhei_tables(s->db, &l);
    if (rc != RHEI_OK)
        return rc;
    size_t n = rhei_table_list_count(l);
    char (*names)[RH_NAME_MAX] = calloc(n ? n : 1, sizeof *names);
    if (!names) {
        rhei_table_list_free(l);
        return RHEI_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        snprintf(names[i], sizeof names[i], "%s", rhei_table_list_name(l, i));
    rhei_table_list_free(l);
    *out = names;
    *out_n = n;
    return RHEI_OK;
}

int64_t rh_count_rows(rh_session *s, const char *table, rhei_side side)
{
    char sql[RH_NAME_MAX * 2 + 32], q[RH_NAME_MAX * 2 + 4];
    rhei_result *r = NULL;
    if (rh_quote_ident(q, sizeof q, table) != 0)
        return -1;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", q);
    if (rhei_query_with_hint(s->db, sql, side, &r) != RHEI_OK)
        return -1;
    int64_t n = rhei_result_int64(r, 0, 0);
    rhei_result_free(r);
    s->own[side]++; /* kept out of the routing the dashboard and status report */
    return n;
}

static void print_features(void)
{
    printf("features     readline %s (shell history, multi-line), %s (dashboard),"
           " formats table/csv/json, service mode, %s\n", rl_library_version, curses_version(),
           rh_flight_feature());
}

int rh_cmd_info(const rh_opts *o)
{
    printf("rh           %s\n", RH_VERSION);
    printf("rhei         %s (rh built against rhei.h %s)\n", rhei_version(), RHEI_VERSION);
    printf("sqlite       %s\n", rhei_sqlite_version());
    printf("duckdb       %s\n", rhei_duckdb_version());
    print_features();
    if (!o->db && !o->config && !o->olap)
        return RH_EXIT_OK;
    rhei_config *cfg = NULL;
    int code = rh_config_build(o, &cfg);
    if (code != RH_EXIT_OK)
        return code;
    for (size_t i = 0; rhei_config_key(i); i++)
        printf("config       %s = %s\n", rhei_config_key(i),
               rhei_config_get(cfg, rhei_config_key(i)));
    rhei_config_free(cfg);
    return RH_EXIT_OK;
}

/* --- route ------------------------------------------------------------------------------ */

typedef struct route_ctx {
    rhei_db *db;
    int code;
} route_ctx;

static int route_stmt(void *ud, const char *stmt, size_t len)
{
    route_ctx *c = ud;
    rhei_route_info info;
    char *sql = strndup(stmt, len);
    int rc = sql ? rhei_explain_route(c->db, sql, &info) : RHEI_NOMEM;
    free(sql);
    if (rc != RHEI_OK)
        return c->code = rh_db_err(c->db, rc, "cannot route statement");
    printf("%s: %s", rh_side_name(info.side), info.reason);
    if (info.table[0])
        printf(" (table %s)", info.table);
    printf("\n");
    return 0;
}

/* Without --db no table is known: a scratch engine with a stub table (and replication) for
 * each name the statement mentions answers "what if these tables were replicated". */
static void add_stub(void *ud, const char *name)
{
    char q[RH_NAME_MAX * 2 + 4], sql[RH_NAME_MAX * 2 + 96];
    rhei_db *db = ud;
    if (rh_quote_ident(q, sizeof q, name) != 0)
        return;
    snprintf(sql, sizeof sql, "CREATE TABLE IF NOT EXISTS %s (rh_stub INTEGER PRIMARY KEY)", q);
    if (rhei_execute(db, sql, NULL, 0, NULL) == RHEI_OK)
        rhei_register_table(db, name, NULL, 0, NULL, 0); /* a failure only routes it to oltp */
}

static int stub_each(void *ud, const char *stmt, size_t len)
{
    rh_sql_tables(stmt, len, add_stub, ud);
    return 0;
}

static void remove_scratch(const char *dir)
{
    static const char *const files[] = {"route.db", "route.db-wal", "route.db-shm",
                                        "route.db-journal"};
    char path[RH_PATH_MAX + 32];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static int route_scratch(const char *sql, route_ctx *c)
{
    const char *tmp = getenv("TMPDIR");
    char dir[RH_PATH_MAX], path[RH_PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/rh-route-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        rh_err("cannot create a scratch folder under '%s'", tmp && *tmp ? tmp : "/tmp");
        return RH_EXIT_ERR;
    }
    snprintf(path, sizeof path, "%s/route.db", dir);
    int rc = rhei_open_path(path, &c->db);
    if (rc != RHEI_OK) {
        remove_scratch(dir);
        return rh_db_err(NULL, rc, "cannot open a scratch engine");
    }
    rh_sql_each(sql, stub_each, c->db);
    rh_sql_each(sql, route_stmt, c);
    rhei_close(c->db);
    remove_scratch(dir);
    return c->code;
}

int rh_route_text(rh_session *s, const char *sql)
{
    route_ctx c = {s->db, RH_EXIT_OK};
    rh_sql_each(sql, route_stmt, &c);
    int oc = rh_out_check();
    return c.code ? c.code : oc;
}

int rh_cmd_route(const rh_opts *o)
{
    route_ctx c = {NULL, RH_EXIT_OK};
    if (o->nargs != 1) {
        rh_err("route takes one SQL argument: rh route [--db FILE] \"SQL\"");
        return RH_EXIT_USAGE;
    }
    if (!o->db && !o->config) {
        fprintf(stderr, "rh: no --db: every table the statement names is taken as replicated\n");
        return route_scratch(o->args[0], &c);
    }
    /* a running service knows the tables registered since a guest's copy was taken */
    int code = rh_local_forward(o, o->args[0], strlen(o->args[0]));
    if (code >= 0)
        return code;
    rh_session s;
    code = rh_session_open(&s, o, "route", RH_SYNC_ON_DEMAND);
    if (code != RH_EXIT_OK)
        return code;
    int c1 = rh_route_text(&s, o->args[0]);
    code = rh_session_close(&s);
    return c1 ? c1 : code;
}

/* --- status ------------------------------------------------------------------------------ */

static void print_sync(rh_session *s, FILE *out, const rhei_sync_status *st)
{
    if (s->guest) {
        fprintf(out, "sync         owned by %s; its position and lag are not visible from"
                     " another process\n", s->owner);
        fprintf(out, "head         %lld\n", (long long)st->head_position);
        return;
    }
    if (s->serving)
        fprintf(out, "sync         owned by pid %ld (serve), background every %lld ms\n",
                (long)getpid(), (long long)s->sync_interval_ms);
    else if (s->sync_interval_ms > 0)
        fprintf(out, "sync         this process, background every %lld ms\n",
                (long long)s->sync_interval_ms);
    else
        fprintf(out, "sync         this process, on demand\n");
    fprintf(out, "head         %lld\n", (long long)st->head_position);
    fprintf(out, "applied      %lld\n", (long long)st->applied_position);
    fprintf(out, "lag          %lld events, %.1f ms\n", (long long)st->lag_events, st->lag_ms);
    fprintf(out, "cycles       %lld since open, %lld events, last cycle %lld us\n",
            (long long)st->cycles, (long long)st->events_total, (long long)st->last_cycle_us);
    fprintf(out, "last error   %s\n", st->last_error_code ? st->last_error : "none");
    rhei_table_status ts;
    if (st->failed_tables && rhei_table_status_get(s->db, st->failed_table, &ts) == RHEI_OK)
        fprintf(out,
                "failed       %d table(s) not replicated; '%s' since change %lld: %s"
                " (fix its rows, then: rh resync --db %s %s)\n",
                st->failed_tables, st->failed_table, (long long)ts.failed_after, ts.cause,
                s->oltp_path, st->failed_table);
}

static void print_counts(rh_session *s, FILE *out, char (*names)[RH_NAME_MAX], size_t n)
{
    int w = 12;
    for (size_t i = 0; i < n; i++)
        w = (int)strlen(names[i]) > w ? (int)strlen(names[i]) : w;
    fprintf(out, "%-*s %12s %12s\n", w, "table", "oltp_rows", "olap_rows");
    for (size_t i = 0; i < n; i++) {
        char a[32] = "-", b[32] = "-";
        int64_t oltp = rh_count_rows(s, names[i], RHEI_SIDE_OLTP);
        int64_t olap = s->guest ? -1 : rh_count_rows(s, names[i], RHEI_SIDE_OLAP);
        if (oltp >= 0)
            snprintf(a, sizeof a, "%lld", (long long)oltp);
        if (olap >= 0)
            snprintf(b, sizeof b, "%lld", (long long)olap);
        fprintf(out, "%-*s %12s %12s\n", w, names[i], a, b);
    }
}

/* Followed tables of a sidecar source: watermark (source time fully applied) and errors. */
static void print_sidecar(rh_session *s, FILE *out)
{
    size_t n = 0;
    if (rhei_sidecar_table_count(s->db, &n) != RHEI_OK || n == 0)
        return;
    fprintf(out, "sidecar      %zu followed tables\n", n);
    fprintf(out, "%-20s %-28s %12s  %s\n", "table", "watermark (utc)", "rows", "last error");
    for (size_t i = 0; i < n; i++) {
        rhei_sidecar_table_status st;
        if (rhei_sidecar_status_get(s->db, i, &st) != RHEI_OK)
            continue;
        char when[40] = "-";
        if (st.watermark_us > 0) {
            time_t secs = (time_t)(st.watermark_us / 1000000);
            struct tm tm;
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", gmtime_r(&secs, &tm));
        }
        fprintf(out, "%-20s %-28s %12lld  %s%s\n", st.name, when, (long long)st.rows_applied,
                st.stopped ? "stopped: " : "", st.last_error_code ? st.last_error : "none");
    }
}

int rh_print_status(rh_session *s, FILE *out)
{
    rhei_sync_status st;
    char (*names)[RH_NAME_MAX] = NULL;
    size_t n = 0;
    int rc = rhei_sync_status_get(s->db, &st);
    if (rc != RHEI_OK)
        return rh_db_err(s->db, rc, "cannot read sync status");
    fprintf(out, "database     %s\n", s->oltp_path);
    fprintf(out, "olap         %s%s\n", s->olap_path, s->guest ? " (private copy)" : "");
    print_sync(s, out, &st);
    if ((rc = rh_list_tables(s, &names, &n)) != RHEI_OK)
        return rh_db_err(s->db, rc, "cannot list registered tables");
    fprintf(out, "tables       %zu registered\n", n);
    if (n)
        print_counts(s, out, names, n);
    free(names);
    print_sidecar(s, out);
    if (out == stdout)
        return rh_out_check();
    return fflush(out) == 0 && !ferror(out) ? RH_EXIT_OK : RH_EXIT_ERR;
}

int rh_cmd_status(const rh_opts *o)
{
    rh_session s;
    if (o->nargs) {
        rh_err("status takes no arguments");
        return RH_EXIT_USAGE;
    }
    int code = rh_local_forward(o, "", 0); /* the owning service's own lag and positions */
    if (code >= 0)
        return code;
    code = rh_session_open(&s, o, "status", RH_SYNC_ON_DEMAND);
    if (code != RH_EXIT_OK)
        return code;
    code = rh_print_status(&s, stdout);
    int c2 = rh_session_close(&s);
    return code ? code : c2;
}
