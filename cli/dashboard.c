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

typedef struct dash_table {
    char name[RH_NAME_MAX];
    int64_t oltp, olap; /* -1: that side could not answer */
    int64_t pending;    /* change events not yet applied by this process' engine, -1 unknown */
} dash_table;

typedef struct dash {
    rh_session *s;
    const char *title;
    long refresh_ms;
    int utf8;
    rhei_sync_status st;
    double eps[RING], cycle_us[RING]; /* events per second and cycle latency, a ring */
    size_t nsamples;
    int64_t prev_events;
    double prev_ms;
    dash_table *tables;
    size_t ntables;
    double next_count_ms; /* counts cost a scan per table: spaced by how long they take */
    char count_err[128];
    int64_t own[3];       /* count(*) queries this view ran, by side: not the user's routing */
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
        d->own[RHEI_SIDE_OLTP] += t[i].oltp >= 0;
        d->own[RHEI_SIDE_OLAP] += t[i].olap >= 0;
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

static void sample(dash *d)
{
    double now = rh_now_ms();
    rhei_sync_status_get(d->s->db, &d->st);
    if (d->prev_ms > 0) {
        double dt = (now - d->prev_ms) / 1000.0;
        double ev = (double)(d->st.events_total - d->prev_events);
        push(d->eps, d->nsamples, dt > 0 ? ev / dt : 0);
        push(d->cycle_us, d->nsamples, (double)d->st.last_cycle_us);
        d->nsamples++;
    }
    d->prev_events = d->st.events_total;
    d->prev_ms = now;
    count_tables(d, now);
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
    line((*y)++, "sync       this process, every %lld ms, %s", (long long)d->s->sync_interval_ms,
         st->running ? "running" : "stopped");
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
    rhei_table_status ts;
    if (st->failed_tables && rhei_table_status_get(d->s->db, st->failed_table, &ts) == RHEI_OK)
        line((*y)++, "FAILED     %d table(s); '%s' since change %lld: %s", st->failed_tables,
             st->failed_table, (long long)ts.failed_after, ts.cause);
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
    size_t n = 0;
    if (rhei_sidecar_table_count(d->s->db, &n) != RHEI_OK || n == 0)
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    line((*y)++, "%s", "");
    line((*y)++, "%-24s %-23s %10s %10s  %s", "SIDECAR TABLE", "WATERMARK (UTC)", "LAG S",
         "ROWS", "STATE");
    for (size_t i = 0; i < n && *y < LINES - 2; i++) {
        rhei_sidecar_table_status st;
        char mark[32] = "-";
        if (rhei_sidecar_status_get(d->s->db, i, &st) != RHEI_OK)
            continue;
        if (st.watermark_us > 0) {
            time_t secs = (time_t)(st.watermark_us / 1000000);
            struct tm tm;
            strftime(mark, sizeof mark, "%Y-%m-%d %H:%M:%S", gmtime_r(&secs, &tm));
        }
        double lag = st.watermark_us > 0 ? (double)(now_us - st.watermark_us) / 1e6 : 0;
        line((*y)++, "%-24.24s %-23s %10.1f %10lld  %s", st.name, mark, lag,
             (long long)st.rows_applied,
             st.stopped ? "stopped" : st.last_error_code ? st.last_error : "ok");
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
    rhei_route_stats rs = {0};
    rhei_route_stats_get(d->s->db, &rs); /* this process' queries: other processes have theirs */
    /* the counts this view runs itself are not the routing anyone asked about */
    line(y++, "routing    oltp %lld   olap %lld   fallbacks %lld",
         (long long)(rs.oltp - d->own[RHEI_SIDE_OLTP]),
         (long long)(rs.olap - d->own[RHEI_SIDE_OLAP]), (long long)rs.fallbacks);
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
int rh_dashboard_loop(rh_session *s, const char *title, long refresh_ms, const sigset_t *sigs)
{
    dash d = {.s = s, .title = title, .refresh_ms = refresh_ms};
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
    int code = rh_session_open(&s, o, "dashboard", RH_SYNC_BACKGROUND);
    if (code != RH_EXIT_OK)
        return code;
    code = rh_dashboard_loop(&s, "dashboard", o->refresh_ms, &sigs);
    int c2 = rh_session_close(&s);
    return code ? code : c2;
}
