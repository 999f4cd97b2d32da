/* main.c — rh's entry point: parses the command line (options may appear anywhere, before or
 * after the command; `--` ends them), checks each option applies to the command, and
 * dispatches. Exit codes: 0 ok, 1 SQL or runtime error, 2 usage error. */
#include "rh.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One option per line, help texts as printed (kept as written). */
/* clang-format off */
enum {
    O_DB = 1 << 0, O_CONFIG = 1 << 1, O_OLAP = 1 << 2, O_HINT = 1 << 3, O_CONS = 1 << 4,
    O_FORMAT = 1 << 5, O_TIMER = 1 << 6, O_EXPLAIN = 1 << 7, O_NOREG = 1 << 8,
    O_HEADLESS = 1 << 9, O_PIDFILE = 1 << 10, O_LOG = 1 << 11, O_REFRESH = 1 << 12,
    O_CHANGES = 1 << 13, O_KEY = 1 << 14
};
#define O_ENGINE (O_DB | O_CONFIG | O_OLAP)

typedef struct opt_def {
    const char *name;
    unsigned bit;
    int has_arg;
    const char *help; /* for `rh help CMD` */
} opt_def;

static const opt_def opt_defs[] = {
    {"db", O_DB, 1, "--db FILE          the SQLite database (oltp_path)"},
    {"config", O_CONFIG, 1, "--config FILE      TOML config ([engine] keys; paths relative to it)"},
    {"olap", O_OLAP, 1, "--olap FILE        OLAP side: a DuckDB file or :memory: (default FILE.duckdb)"},
    {"hint", O_HINT, 1, "--hint auto|oltp|olap   routing: automatic or forced to a side"},
    {"consistency", O_CONS, 1, "--consistency eventual|strong   strong: OLAP reads wait for earlier commits"},
    {"format", O_FORMAT, 1, "--format F         table|csv|json|line|box|markdown|column"
                            " (table on a terminal, csv elsewhere)"},
    {"timer", O_TIMER, 0, "--timer            show how long each statement took"},
    {"explain", O_EXPLAIN, 0, "--explain          name the side that served each read, and why"},
    {"no-register", O_NOREG, 0, "--no-register      run CREATE/DROP/ALTER as written, tables stay SQLite-only"},
    {"headless", O_HEADLESS, 0, "--headless         log lines instead of the dashboard"},
    {"pidfile", O_PIDFILE, 1, "--pidfile FILE     write the pid once serving; removed on exit"},
    {"log", O_LOG, 1, "--log FILE         append log lines to FILE (reopened on SIGHUP)"},
    {"refresh", O_REFRESH, 1, "--refresh MS       dashboard refresh period (20..60000, default 250)"},
    {"changes", O_CHANGES, 0, "--changes          print \"N rows changed\" after INSERT/UPDATE/DELETE"},
    {"key", O_KEY, 1, "--key COL[,COL...] the key columns, for a table without a declared primary key"},
};
/* clang-format on */

typedef struct cmd_def {
    const char *name;
    int (*run)(const rh_opts *o);
    unsigned allowed;
    const char *synopsis;
} cmd_def;

static const cmd_def cmd_defs[] = {
    {"exec", rh_cmd_exec, O_ENGINE | O_NOREG | O_CHANGES | O_FORMAT,
     "exec --db FILE [--no-register] [--changes] [--format F] \"SQL\"\n"
     "        writes and DDL on SQLite (SQL or stdin); rows of SELECT/PRAGMA/RETURNING"},
    {"query", rh_cmd_query, O_ENGINE | O_HINT | O_CONS | O_FORMAT | O_TIMER | O_EXPLAIN,
     "query --db FILE [--hint auto|oltp|olap] [--consistency eventual|strong]\n"
     "        [--format F] [--timer] [--explain] \"SQL\"   routed read"},
    {"repl", rh_cmd_repl, O_ENGINE | O_HINT | O_CONS | O_FORMAT | O_TIMER | O_NOREG,
     "repl [--db] [FILE] [SQL]             interactive shell (.help inside); also `rh FILE`;\n"
     "        no FILE: a temporary in-memory database; SQL: run it and leave"},
    {"dashboard", rh_cmd_dashboard, O_ENGINE | O_REFRESH,
     "dashboard --db FILE | --config FILE [--refresh MS]   live terminal dashboard"},
    {"serve", rh_cmd_serve, O_ENGINE | O_HEADLESS | O_PIDFILE | O_LOG | O_REFRESH,
     "serve --config FILE [--headless] [--pidfile F] [--log F]   background sync service"},
    {"info", rh_cmd_info, O_ENGINE, "info [--config FILE]                 versions, features"},
    {"route", rh_cmd_route, O_ENGINE, "route [--db FILE] \"SQL\"              side and reason"},
    {"status", rh_cmd_status, O_ENGINE, "status --db FILE                     lag, row counts"},
    {"register", rh_cmd_register, O_ENGINE | O_KEY,
     "register --db FILE [--key COL[,COL...]] TABLE...   replicate existing tables"},
    {"resync", rh_cmd_resync, O_ENGINE,
     "resync --db FILE TABLE...            copy a failed table to OLAP again (fix its rows first)"},
    {"unregister", rh_cmd_unregister, O_ENGINE,
     "unregister --db FILE TABLE...        stop replicating tables (they stay in SQLite)"},
    {"bench", rh_cmd_bench, 0,
     "bench [--quick] [--only NAME] [--json PATH] [--verbose]\n"
     "        benchmark suite, engine vs raw SQLite/DuckDB (rh bench --help)"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: rh COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof cmd_defs / sizeof *cmd_defs; i++)
        fprintf(out, "  rh %s\n", cmd_defs[i].synopsis);
    fprintf(out, "\nevery command: --config FILE (TOML, [engine] keys), --db FILE (oltp_path),\n"
                 "  --olap FILE|:memory: (default FILE.duckdb next to --db)\n"
                 "rh help CMD (or rh CMD --help): its options; rh --version\n"
                 "exit codes: 0 ok, 1 SQL or runtime error, 2 usage error\n");
}

static void cmd_help(FILE *out, const cmd_def *c)
{
    fprintf(out, "usage: rh %s\n\noptions:\n", c->synopsis);
    for (size_t k = 0; k < sizeof opt_defs / sizeof *opt_defs; k++)
        if (c->allowed & opt_defs[k].bit)
            fprintf(out, "  %s\n", opt_defs[k].help);
    if (!c->allowed)
        fprintf(out, "  (the suite's own: rh bench --help)\n");
}

/* Edit distance of two short words (command names): for "did you mean". */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[32];
    if (la >= 31 || lb >= 31)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            best = up + 1 < best ? up + 1 : best;
            best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

static const char *nearest_cmd(const char *name)
{
    const char *best = NULL;
    size_t best_d = 3; /* farther than two edits is not a typo */
    for (size_t i = 0; i < sizeof cmd_defs / sizeof *cmd_defs; i++) {
        size_t d = distance(name, cmd_defs[i].name);
        if (d < best_d)
            best_d = d, best = cmd_defs[i].name;
    }
    return best;
}

static int usage_error(const char *fmt, ...) RH_PRINTF(1, 2);

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("rh: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nrun 'rh --help' for usage\n", stderr);
    return RH_EXIT_USAGE;
}

static int set_value(rh_opts *o, unsigned bit, const char *v)
{
    switch (bit) {
    case O_DB: o->db = v; return 0;
    case O_CONFIG: o->config = v; return 0;
    case O_OLAP: o->olap = v; return 0;
    case O_PIDFILE: o->pidfile = v; return 0;
    case O_LOG: o->log = v; return 0;
    case O_KEY:
        o->key = v;
        return 0;
    case O_FORMAT: o->format_set = 1; return rh_parse_format(v, &o->format);
    case O_HINT:
        o->hint = !strcmp(v, "oltp") ? RHEI_SIDE_OLTP : !strcmp(v, "olap") ? RHEI_SIDE_OLAP
                                                                          : RHEI_SIDE_AUTO;
        return strcmp(v, "oltp") && strcmp(v, "olap") && strcmp(v, "auto") ? -1 : 0;
    case O_CONS:
        o->consistency = !strcmp(v, "strong") ? RHEI_STRONG : RHEI_EVENTUAL;
        return strcmp(v, "strong") && strcmp(v, "eventual") ? -1 : 0;
    case O_REFRESH: {
        char *end = NULL;
        o->refresh_ms = strtol(v, &end, 10);
        return *v && !*end && o->refresh_ms >= 20 && o->refresh_ms <= 60000 ? 0 : -1;
    }
    default: return -1;
    }
}

static void set_flag(rh_opts *o, unsigned bit)
{
    o->timer |= bit == O_TIMER;
    o->explain |= bit == O_EXPLAIN;
    o->no_register |= bit == O_NOREG;
    o->headless |= bit == O_HEADLESS;
    o->changes |= bit == O_CHANGES;
}

/* Parses one "--name[=value]" at argv[*i]; sets *seen. Returns 0 or an exit code. */
static int parse_long(rh_opts *o, int argc, char **argv, int *i, unsigned *seen)
{
    const char *arg = argv[*i] + 2, *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    for (size_t k = 0; k < sizeof opt_defs / sizeof *opt_defs; k++) {
        const opt_def *d = &opt_defs[k];
        if (strlen(d->name) != n || strncmp(d->name, arg, n) != 0)
            continue;
        *seen |= d->bit;
        if (!d->has_arg) {
            if (eq)
                return usage_error("option '--%s' takes no value", d->name);
            set_flag(o, d->bit);
            return 0;
        }
        const char *v = eq ? eq + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
        if (!v)
            return usage_error("option '--%s' needs a value", d->name);
        if (set_value(o, d->bit, v) != 0)
            return usage_error("invalid value '%s' for option '--%s'", v, d->name);
        return 0;
    }
    return usage_error("unknown option '%s'", argv[*i]);
}

/* "--name[=value]" never has a blank in its name: "-- comment\nSELECT 1" is SQL. */
static int looks_like_sql(const char *a)
{
    size_t name = strcspn(a, "=");
    return strcspn(a, " \t\r\n") < name;
}

static int parse(rh_opts *o, int argc, char **argv, unsigned *seen)
{
    int rest = 0, rc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!rest && strcmp(a, "--") == 0) {
            rest = 1;
        } else if (!rest && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            o->help = 1; /* `rh CMD --help`: that command's help, once CMD is known */
        } else if (!rest && (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0)) {
            printf("rh %s (rhei %s)\n", RH_VERSION, rhei_version());
            exit(rh_out_check());
        } else if (!rest && a[0] == '-' && a[1] == '-' && !looks_like_sql(a)) {
            if ((rc = parse_long(o, argc, argv, &i, seen)) != 0)
                return rc;
        } else if (!rest && a[0] == '-' && a[1] && !looks_like_sql(a)) {
            return usage_error("unknown option '%s'", a);
        } else if (!o->cmd) {
            o->cmd = a;
            /* The suite parses its own options (--quick, --only ...): pass them through. */
            rest |= strcmp(a, "bench") == 0;
        } else {
            o->args[o->nargs++] = argv[i];
        }
    }
    return 0;
}

/* A word that is no command but names a database: an existing file, or a path-like word. */
static int looks_like_db(const char *w)
{
    return access(w, F_OK) == 0 || strchr(w, '.') || strchr(w, '/');
}

static const cmd_def *find_cmd(const char *name)
{
    for (size_t i = 0; i < sizeof cmd_defs / sizeof *cmd_defs; i++)
        if (strcmp(cmd_defs[i].name, name) == 0)
            return &cmd_defs[i];
    return NULL;
}

static int check_allowed(const cmd_def *c, unsigned seen)
{
    for (size_t k = 0; k < sizeof opt_defs / sizeof *opt_defs; k++)
        if ((seen & opt_defs[k].bit) && !(c->allowed & opt_defs[k].bit)) {
            fprintf(stderr, "rh: option '--%s' does not apply to 'rh %s'\n", opt_defs[k].name,
                    c->name);
            return RH_EXIT_USAGE;
        }
    return 0;
}

int main(int argc, char **argv)
{
    rh_opts o = {0};
    unsigned seen = 0;
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (!args)
        return RH_EXIT_ERR;
    o.args = args;
    o.refresh_ms = 250;
    int code = parse(&o, argc, argv, &seen);
    if (code == 0 && (o.help || (o.cmd && strcmp(o.cmd, "help") == 0))) {
        /* rh --help, rh help, rh help CMD, rh CMD --help */
        const char *name = o.cmd && strcmp(o.cmd, "help") != 0 ? o.cmd
                           : o.nargs ? o.args[0] : NULL;
        const cmd_def *hc = name ? find_cmd(name) : NULL;
        if (name && !hc) {
            code = usage_error("no help for unknown command '%s'", name);
        } else {
            if (hc)
                cmd_help(stdout, hc);
            else
                usage(stdout);
            free(args);
            return rh_out_check();
        }
    }
    if (code == 0 && !o.cmd && isatty(STDIN_FILENO)) {
        o.cmd = "repl"; /* `rh` alone, as `sqlite3` alone: a shell on an in-memory database */
    } else if (code == 0 && !o.cmd) {
        usage(stderr);
        code = RH_EXIT_USAGE;
    }
    const cmd_def *c = code == 0 ? find_cmd(o.cmd) : NULL;
    if (code == 0 && !c && looks_like_db(o.cmd)) {
        /* `rh shop.db`, as `sqlite3 shop.db`: the shell on that database */
        memmove(o.args + 1, o.args, (size_t)o.nargs * sizeof *o.args);
        o.args[0] = (char *)o.cmd;
        o.nargs++;
        c = find_cmd(o.cmd = "repl");
    }
    if (code == 0 && !c) {
        const char *near = nearest_cmd(o.cmd);
        code = near ? usage_error("unknown command '%s'; did you mean '%s'?", o.cmd, near)
                    : usage_error("unknown command '%s'", o.cmd);
    }
    if (code == 0)
        code = check_allowed(c, seen);
    if (code == 0) {
        if (!o.format_set)
            o.format = isatty(STDOUT_FILENO) ? RH_FMT_TABLE : RH_FMT_CSV;
        code = c->run(&o);
    }
    free(args);
    /* results that did not reach stdout (a full disk, a closed pipe) fail the command,
     * whichever command printed them; reported once even if a statement already did */
    if (rh_out_check() != RH_EXIT_OK && code == RH_EXIT_OK)
        code = RH_EXIT_ERR;
    if (rh_session_guest_open()) {
        /* A guest's engine stays open on purpose (see session.c); leave without running
         * destructors that could touch it. */
        fflush(stderr);
        _exit(code);
    }
    return code;
}
