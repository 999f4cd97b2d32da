/* dashboard.c — the live ncurses dashboard of `rh dashboard` and of `rh serve` in a terminal:
 * rows per table on each side, sync lag, events/s and cycle latency sparklines built from
 * successive rhei_sync_status_get samples (kept across resizes: the ring does not depend on
 * the width), last error, followed sidecar tables. Invariant: the terminal is restored
 * (endwin) on every way out — `q`, SIGINT/SIGTERM/SIGHUP (blocked, polled in the loop),
 * and exit() through an atexit hook. */
#include "rh.h"
#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RING 240 /* samples kept for the sparklines; the screen shows the newest that fit */
#define SIDECAR_MAX 1024 /* followed tables shown (a screen shows far fewer) */

typedef struct dash_table {
    char name[RH_NAME_MAX];
    int64_t oltp, olap; /* -1: that side could not answer */
    int64_t pending;    /* change events not yet applied by the syncing engine, -1 unknown */
} dash_table;

typedef struct dash {
    rh_session *s;
    const rh_opts *remote; /* a running service's samples (local.c) instead of s->db */
    const char *title;
    long refresh_ms;
    int utf8;
    rhei_sync_status st;
    int64_t route[3];     /* oltp, olap, fallbacks: net of the counts rh runs itself */
    char failed[640];     /* the first failed table's line, "" when none */
    rhei_sidecar_table_status *sc; /* followed tables of a sidecar source */
    size_t nsc;
    double eps[RING], cycle_us[RING]; /* events per second and cycle latency, a ring */
    size_t nsamples;
    int64_t prev_events;
    double prev_ms;
    dash_table *tables;
    size_t ntables;
    double next_count_ms; /* counts cost a scan per table: spaced by how long they take */
    char count_err[128];
    char service[64];     /* remote: "pid 4242 (serve)" */
    int64_t interval_ms;  /* remote: the service's sync period */
    int lost;             /* remote: the service stopped answering; last sample shown */
} dash;

static int curses_on;

void (*rh_dashboard_hook)(void *ud);
void *rh_dashboard_hook_ud;

static void restore_terminal(void)
{
    if (curses_on && !isendwin())
        endwin();
    curses_on = 0;
}

static void push(double *ring, size_t n, double v) { ring[n % RING] = v; }

/* --- gathering a sample from an engine (this process', or the service's for a client) ---- */

static void count_tables(dash *d, double now)
{
    char (*names)[RH_NAME_MAX] = NULL;
    size_t n = 0;
    if (now < d->next_count_ms)
        return;
    int rc = rh_list_tables(d->s, &names, &n);
    d->count_err[0] = '\0';
    if (rc != RHEI_OK) {
        snprintf(d->count_err, sizeof d->count_err, "%s", rhei_errmsg(d->s->db));
        d->next_count_ms = now + 1000;
        return;
    }
    dash_table *t = calloc(n ? n : 1, sizeof *t);
    for (size_t i = 0; t && i < n; i++) {
        snprintf(t[i].name, sizeof t[i].name, "%s", names[i]);
        t[i].oltp = rh_count_rows(d->s, names[i], RHEI_SIDE_OLTP);
        t[i].olap = d->s->guest ? -1 : rh_count_rows(d->s, names[i], RHEI_SIDE_OLAP);
        if (rhei_table_pending(d->s->db, names[i], &t[i].pending) != RHEI_OK)
            t[i].pending = -1;
    }
    free(names);
    if (t) {
        free(d->tables);
        d->tables = t;
        d->ntables = n;
    }
    double cost = rh_now_ms() - now;
    d->next_count_ms = now + (cost * 4 > d->refresh_ms ? cost * 4 : d->refresh_ms);
}

static void gather_sync(dash *d)
{
    rhei_route_stats rs = {0};
    rhei_table_status ts;
    rhei_sync_status_get(d->s->db, &d->st);
    rhei_route_stats_get(d->s->db, &rs); /* this process' queries: other processes have theirs */
    /* the counts rh runs itself (this view, status) are not the routing anyone asked about */
    d->route[0] = rs.oltp - d->s->own[RHEI_SIDE_OLTP];
    d->route[1] = rs.olap - d->s->own[RHEI_SIDE_OLAP];
    d->route[2] = rs.fallbacks;
    d->failed[0] = '\0';
    if (d->st.failed_tables &&
        rhei_table_status_get(d->s->db, d->st.failed_table, &ts) == RHEI_OK)
        snprintf(d->failed, sizeof d->failed, "%d table(s); '%s' since change %lld: %s",
                 d->st.failed_tables, d->st.failed_table, (long long)ts.failed_after, ts.cause);
}

static void gather_sidecar(dash *d)
{
    size_t n = 0;
    d->nsc = 0;
    if (rhei_sidecar_table_count(d->s->db, &n) != RHEI_OK || n == 0)
        return;
    n = n > SIDECAR_MAX ? SIDECAR_MAX : n;
    rhei_sidecar_table_status *sc = realloc(d->sc, n * sizeof *sc);
    if (!sc)
        return;
    d->sc = sc;
    for (size_t i = 0; i < n; i++)
        if (rhei_sidecar_status_get(d->s->db, i, &d->sc[d->nsc]) == RHEI_OK)
            d->nsc++;
}

/* --- a service's sample, as text between processes --------------------------------------- */

/* A field of the sample: tabs and line breaks would split it, so they become blanks. */
static void field(FILE *out, const char *v)
{
    fputc('\t', out);
    for (; *v; v++)
        fputc(*v == '\t' || *v == '\n' || *v == '\r' ? ' ' : *v, out);
}

int rh_dashboard_sample(rh_session *s, FILE *out, int counts)
{
    dash d = {.s = s};
    const rhei_sync_status *st = &d.st;
    if (counts)
        count_tables(&d, rh_now_ms());
    gather_sync(&d);
    gather_sidecar(&d);
    fprintf(out, "owner\t%ld\t%lld", (long)getpid(), (long long)s->sync_interval_ms);
    field(out, s->oltp_path);
    field(out, s->olap_path);
    fprintf(out, "\nsync\t%d\t%lld\t%.3f\t%lld\t%lld\t%lld\t%lld\t%lld\t%d", st->running,
            (long long)st->lag_events, st->lag_ms, (long long)st->applied_position,
            (long long)st->head_position, (long long)st->cycles, (long long)st->events_total,
            (long long)st->last_cycle_us, st->last_error_code);
    fputs("\nerror", out);
    field(out, st->last_error_code ? st->last_error : "");
    fputs("\nfailed", out);
    field(out, d.failed);
    fprintf(out, "\nroute\t%lld\t%lld\t%lld\n", (long long)d.route[0], (long long)d.route[1],
            (long long)d.route[2]);
    for (size_t i = 0; counts && i < d.ntables; i++) {
        fputs("table", out);
        field(out, d.tables[i].name);
        fprintf(out, "\t%lld\t%lld\t%lld\n", (long long)d.tables[i].oltp,
                (long long)d.tables[i].olap, (long long)d.tables[i].pending);
    }
    if (counts && d.count_err[0]) {
        fputs("count_err", out);
        field(out, d.count_err);
        fputc('\n', out);
    }
    for (size_t i = 0; i < d.nsc; i++) {
        fputs("sidecar", out);
        field(out, d.sc[i].name);
        fprintf(out, "\t%lld\t%lld\t%d\t%d", (long long)d.sc[i].watermark_us,
                (long long)d.sc[i].rows_applied, d.sc[i].stopped, d.sc[i].last_error_code);
        field(out, d.sc[i].last_error);
        fputc('\n', out);
    }
    free(d.tables);
    free(d.sc);
    fflush(out);
    return ferror(out) ? RH_EXIT_ERR : RH_EXIT_OK;
}

#define FIELDS_MAX 12

/* Splits line (modified) at tabs into f; returns the field count. */
static int split(char *line, char **f)
{
    int n = 0;
    for (char *p = line; n < FIELDS_MAX; p++) {
        f[n++] = p;
        if (!(p = strchr(p, '\t')))
            break;
        *p = '\0';
    }
    return n;
}

static int64_t num(const char *s) { return strtoll(s, NULL, 10); }

static void parse_line(dash *d, char **f, int n, size_t *nt, size_t *nsc)
{
    rhei_sync_status *st = &d->st;
    if (!strcmp(f[0], "owner") && n == 5) {
        snprintf(d->service, sizeof d->service, "pid %s (serve)", f[1]);
        d->interval_ms = num(f[2]);
        snprintf(d->s->oltp_path, sizeof d->s->oltp_path, "%s", f[3]);
        snprintf(d->s->olap_path, sizeof d->s->olap_path, "%s", f[4]);
    } else if (!strcmp(f[0], "sync") && n == 10) {
        st->running = (int)num(f[1]), st->lag_events = num(f[2]), st->lag_ms = atof(f[3]);
        st->applied_position = num(f[4]), st->head_position = num(f[5]);
        st->cycles = num(f[6]), st->events_total = num(f[7]), st->last_cycle_us = num(f[8]);
        st->last_error_code = (int)num(f[9]);
    } else if (!strcmp(f[0], "error") && n == 2) {
        snprintf(st->last_error, sizeof st->last_error, "%s", f[1]);
    } else if (!strcmp(f[0], "failed") && n == 2) {
        snprintf(d->failed, sizeof d->failed, "%s", f[1]);
    } else if (!strcmp(f[0], "route") && n == 4) {
        d->route[0] = num(f[1]), d->route[1] = num(f[2]), d->route[2] = num(f[3]);
    } else if (!strcmp(f[0], "table") && n == 5 && *nt < d->ntables) {
        dash_table *t = &d->tables[(*nt)++];
        snprintf(t->name, sizeof t->name, "%s", f[1]);
        t->oltp = num(f[2]), t->olap = num(f[3]), t->pending = num(f[4]);
    } else if (!strcmp(f[0], "count_err") && n == 2) {
        snprintf(d->count_err, sizeof d->count_err, "%s", f[1]);
    } else if (!strcmp(f[0], "sidecar") && n == 7 && *nsc < d->nsc) {
        rhei_sidecar_table_status *c = &d->sc[(*nsc)++];
        snprintf(c->name, sizeof c->name, "%s", f[1]);
        c->watermark_us = num(f[2]), c->rows_applied = num(f[3]);
        c->stopped = (int)num(f[4]), c->last_error_code = (int)num(f[5]);
        snprintf(c->last_error, sizeof c->last_error, "%s", f[6]);
    }
}

static size_t count_lines(const char *text, const char *prefix)
{
    size_t n = 0, k = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        n += !strncmp(p, prefix, k);
    return n;
}

/* Replaces the sample's parts with text's (the service's rh_dashboard_sample). */
static void parse_sample(dash *d, char *text, int counts)
{
    size_t nt = 0, nsc = 0, want_t = count_lines(text, "table\t");
    size_t want_sc = count_lines(text, "sidecar\t");
    want_sc = want_sc > SIDECAR_MAX ? SIDECAR_MAX : want_sc;
    dash_table *t = counts ? calloc(want_t ? want_t : 1, sizeof *t) : NULL;
    rhei_sidecar_table_status *sc = calloc(want_sc ? want_sc : 1, sizeof *sc);
    if ((counts && !t) || !sc) {
        free(t), free(sc);
        return;
    }
    if (counts) {
        free(d->tables);
        d->tables = t, d->ntables = want_t;
        d->count_err[0] = '\0';
    }
    free(d->sc);
    d->sc = sc, d->nsc = want_sc;
    d->failed[0] = '\0';
    d->st.last_error[0] = '\0';
    for (char *line = text, *next; line && *line; line = next) {
        char *f[FIELDS_MAX];
        if ((next = strchr(line, '\n')))
            *next++ = '\0';
        int n = split(line, f);
        parse_line(d, f, n, &nt, &nsc);
    }
    if (counts)
        d->ntables = nt;
    d->nsc = nsc;
}

static void remote_sample(dash *d, double now)
{
    char *text = NULL;
    size_t len = 0;
    int counts = now >= d->next_count_ms;
    if (rh_local_sample(d->remote, counts, &text, &len) != RH_EXIT_OK) {
        d->lost = 1;
        free(text);
        return;
    }
    d->lost = 0;
    parse_sample(d, text, counts);
    free(text);
    if (counts) {
        double cost = rh_now_ms() - now;
        d->next_count_ms = now + (cost * 4 > d->refresh_ms ? cost * 4 : d->refresh_ms);
    }
}

static void sample(dash *d)
{
    double now = rh_now_ms();
    if (d->remote) {
        remote_sample(d, now);
    } else {
        count_tables(d, now);
        gather_sync(d);
        gather_sidecar(d);
    }
    if (d->prev_ms > 0) {
        double dt = (now - d->prev_ms) / 1000.0;
        double ev = (double)(d->st.events_total - d->prev_events);
        push(d->eps, d->nsamples, dt > 0 && ev > 0 ? ev / dt : 0);
        push(d->cycle_us, d->nsamples, (double)d->st.last_cycle_us);
        d->nsamples++;
    }
    d->prev_events = d->st.events_total;
    d->prev_ms = now;
}

static void line(int y, const char *fmt, ...) RH_PRINTF(2, 3);

/* One screen line, cut at the right edge. */
static void line(int y, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    if (y >= LINES)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    move(y, 0);
    clrtoeol();
    addnstr(buf, COLS > 1 ? COLS - 1 : 1);
}

/* Draws the newest `width` samples of ring scaled to their maximum; returns that maximum. */
static double sparkline(const dash *d, int y, int x, const double *ring, int width)
{
    static const char *const blocks[] = {"\u2581", "\u2582", "\u2583", "\u2584", "\u2585",
                                         "\u2586", "\u2587", "\u2588"};
    static const char ascii[] = "_.-:=+*#";
    size_t n = d->nsamples < (size_t)width ? d->nsamples : (size_t)width;
    double max = 0;
    for (size_t i = 0; i < n; i++) {
        double v = ring[(d->nsamples - n + i) % RING];
        max = v > max ? v : max;
    }
    move(y, x);
    for (size_t i = 0; i < n; i++) {
        double v = ring[(d->nsamples - n + i) % RING];
        int level = max > 0 ? (int)(v / max * 7.0 + 0.5) : 0;
        if (v > 0 && level == 0)
            level = 1; /* any activity shows */
        if (d->utf8)
            addstr(blocks[level]);
        else
            addch((chtype)(unsigned char)ascii[level]);
    }
    return max;
}

static double newest(const dash *d, const double *ring)
{
    return d->nsamples ? ring[(d->nsamples - 1) % RING] : 0;
}

static void draw_sync(const dash *d, int *y)
{
    const rhei_sync_status *st = &d->st;
    if (d->s->guest) {
        line((*y)++, "sync       owned by %s: this view shows SQLite row counts only",
             d->s->owner);
        line((*y)++, "head       %lld", (long long)st->head_position);
        return;
    }
    if (d->remote)
        line((*y)++, "sync       owned by %s, every %lld ms, %s%s", d->service,
             (long long)d->interval_ms, st->running ? "running" : "stopped",
             d->lost ? "   SERVICE NOT ANSWERING (last sample shown)" : "");
    else
        line((*y)++, "sync       this process, every %lld ms, %s",
             (long long)d->s->sync_interval_ms, st->running ? "running" : "stopped");
    line((*y)++, "lag        %lld events  %.1f ms      applied %lld / head %lld",
         (long long)st->lag_events, st->lag_ms, (long long)st->applied_position,
         (long long)st->head_position);
    line((*y)++, "cycles     %lld      events applied %lld", (long long)st->cycles,
         (long long)st->events_total);
    int width = COLS - 44 > 8 ? (COLS - 44 < 120 ? COLS - 44 : 120) : 8;
    line(*y, "events/s   ");
    double max = sparkline(d, (*y)++, 11, d->eps, width);
    printw("  now %.0f  peak %.0f", newest(d, d->eps), max);
    line(*y, "cycle us   ");
    max = sparkline(d, (*y)++, 11, d->cycle_us, width);
    printw("  now %.0f  peak %.0f", newest(d, d->cycle_us), max);
    line((*y)++, "last error %s", st->last_error_code ? st->last_error : "none");
    if (d->failed[0])
        line((*y)++, "FAILED     %s", d->failed);
}

/* One table row: the name, then as many of the numeric columns as fit the terminal, whole
 * columns dropped from the right (PENDING first) rather than cut in the middle. */
static void table_row(int y, int w, int ncols, const char *name, char cells[4][24])
{
    static const int widths[4] = {12, 12, 9, 9};
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%-*.*s", w, w, name);
    for (int c = 0; c < ncols && n > 0 && (size_t)n < sizeof buf; c++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, " %*s", widths[c], cells[c]);
    line(y, "%s", buf);
}

static void draw_tables(const dash *d, int *y)
{
    int w = 24;
    for (size_t i = 0; i < d->ntables; i++)
        w = (int)strlen(d->tables[i].name) > w ? (int)strlen(d->tables[i].name) : w;
    w = w > 64 ? 64 : w;
    /* columns that fit: name (at least 12 wide), then 13 + 13 + 10 + 10 */
    int room = COLS - 1, ncols = 0;
    static const int need[4] = {13, 13, 10, 10};
    if (w > room - need[0])
        w = room - need[0] > 12 ? room - need[0] : 12;
    for (int c = 0, used = w; c < 4 && used + need[c] <= room; c++)
        used += need[c], ncols++;
    char head[4][24] = {"OLTP ROWS", "OLAP ROWS", "DELTA", "PENDING"};
    table_row((*y)++, w, ncols, "TABLE", head);
    for (size_t i = 0; i < d->ntables && *y < LINES - 2; i++) {
        const dash_table *t = &d->tables[i];
        char cells[4][24] = {"-", "-", "-", "-"};
        if (t->oltp >= 0)
            snprintf(cells[0], sizeof cells[0], "%lld", (long long)t->oltp);
        if (t->olap >= 0)
            snprintf(cells[1], sizeof cells[1], "%lld", (long long)t->olap);
        if (t->oltp >= 0 && t->olap >= 0)
            snprintf(cells[2], sizeof cells[2], "%lld", (long long)(t->oltp - t->olap));
        if (t->pending >= 0)
            snprintf(cells[3], sizeof cells[3], "%lld", (long long)t->pending);
        table_row((*y)++, w, ncols, t->name, cells);
    }
    if (!d->ntables)
        line((*y)++, "(no registered tables)");
    if (d->count_err[0])
        line((*y)++, "cannot count rows: %s", d->count_err);
}

/* Sidecar mode: each followed table's watermark and how far it is behind now. */
static void draw_sidecar(const dash *d, int *y)
{
    if (d->nsc == 0)
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    line((*y)++, "%s", "");
    line((*y)++, "%-24s %-23s %10s %10s  %s", "SIDECAR TABLE", "WATERMARK (UTC)", "LAG S",
         "ROWS", "STATE");
    for (size_t i = 0; i < d->nsc && *y < LINES - 2; i++) {
        const rhei_sidecar_table_status *st = &d->sc[i];
        char mark[32] = "-";
        if (st->watermark_us > 0) {
            time_t secs = (time_t)(st->watermark_us / 1000000);
            struct tm tm;
            strftime(mark, sizeof mark, "%Y-%m-%d %H:%M:%S", gmtime_r(&secs, &tm));
        }
        double lag = st->watermark_us > 0 ? (double)(now_us - st->watermark_us) / 1e6 : 0;
        line((*y)++, "%-24.24s %-23s %10.1f %10lld  %s", st->name, mark, lag,
             (long long)st->rows_applied,
             st->stopped ? "stopped" : st->last_error_code ? st->last_error : "ok");
    }
}

static void draw(const dash *d)
{
    char clock[32];
    time_t t = time(NULL);
    struct tm tm;
    int y = 0;
    strftime(clock, sizeof clock, "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
    attron(A_BOLD);
    line(y++, "rh %s  %s   %s", d->title, d->s->oltp_path, clock);
    attroff(A_BOLD);
    line(y++, "olap       %s%s", d->s->olap_path, d->s->guest ? " (private copy)" : "");
    draw_sync(d, &y);
    line(y++, "routing    oltp %lld   olap %lld   fallbacks %lld", (long long)d->route[0],
         (long long)d->route[1], (long long)d->route[2]);
    line(y++, "%s", "");
    draw_tables(d, &y);
    draw_sidecar(d, &y);
    while (y < LINES - 1)
        line(y++, "%s", "");
    line(LINES - 1, "q quit   refresh %ld ms", d->refresh_ms);
    refresh();
}

static int utf8_locale(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

/* The loop: sample, draw, wait up to refresh_ms for a key; the blocked signals in `sigs`
 * are polled so none can leave the terminal in curses mode. */
int rh_dashboard_loop(rh_session *s, const rh_opts *remote, const char *title, long refresh_ms,
                      const sigset_t *sigs)
{
    dash d = {.s = s, .remote = remote, .title = title, .refresh_ms = refresh_ms};
    struct timespec zero = {0, 0};
    setlocale(LC_ALL, "");
    d.utf8 = utf8_locale();
    if (!initscr()) {
        rh_err("cannot start the terminal interface (TERM=%s)", getenv("TERM"));
        return RH_EXIT_ERR;
    }
    curses_on = 1;
    atexit(restore_terminal);
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    curs_set(0);
    timeout((int)refresh_ms);
    int resized = 0;
    for (;;) {
        if (sigtimedwait(sigs, NULL, &zero) > 0)
            break;
        /* a resize redraws from the same samples: no extra (too short) sample, no reset */
        if (!resized)
            sample(&d);
        resized = 0;
        draw(&d);
        int ch = getch();
        if (ch == 'q' || ch == 'Q')
            break;
        if (rh_dashboard_hook) /* rh serve: clients of its local socket */
            rh_dashboard_hook(rh_dashboard_hook_ud);
        if (ch == KEY_RESIZE) {
            clear();
            resized = 1;
        }
    }
    restore_terminal();
    free(d.tables);
    free(d.sc);
    return RH_EXIT_OK;
}

/* Blocks the stop signals on this thread before the engine starts its threads, so they
 * inherit the mask and the signals wait for sigtimedwait in the loop. */
void rh_block_stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    sigprocmask(SIG_BLOCK, set, NULL);
}

int rh_cmd_dashboard(const rh_opts *o)
{
    rh_session s;
    sigset_t sigs;
    if (o->nargs) {
        rh_err("dashboard takes no arguments");
        return RH_EXIT_USAGE;
    }
    if (!isatty(STDOUT_FILENO)) {
        rh_err("dashboard needs a terminal; use `rh serve --headless` for log lines");
        return RH_EXIT_USAGE;
    }
    rh_block_stop_signals(&sigs);
    int fd = rh_local_open(o);
    if (fd >= 0) { /* a running service owns the database: show what it sees, live */
        close(fd);
        memset(&s, 0, sizeof s);
        s.lock_fd = -1;
        return rh_dashboard_loop(&s, o, "dashboard", o->refresh_ms, &sigs);
    }
    int code = rh_session_open(&s, o, "dashboard", RH_SYNC_BACKGROUND);
    if (code != RH_EXIT_OK)
        return code;
    code = rh_dashboard_loop(&s, NULL, "dashboard", o->refresh_ms, &sigs);
    int c2 = rh_session_close(&s);
    return code ? code : c2;
}
