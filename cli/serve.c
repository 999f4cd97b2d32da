/* serve.c — `rh serve`: owns the sync of one database and runs it in the background until
 * SIGTERM/SIGINT, then stops gracefully (rhei_close applies what is left) and exits 0. In a
 * terminal it shows the dashboard; headless it writes one log line per event,
 * "<ISO-8601 UTC time> <level> <message> key=value...". SIGHUP reopens the --log file
 * (for logrotate). --pidfile is written once serving and removed on the way out. With
 * metrics_port set it serves Prometheus metrics (src/net/metrics) while it runs. */
#include "metrics_http.h"
#include "rh.h"
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define HEARTBEAT_MS 60000.0 /* an idle service still says it is alive once a minute */
#define RH_METRICS_ADDR "127.0.0.1"

typedef struct logger {
    FILE *f;
    const char *path; /* NULL: stdout */
} logger;

static void logf_(logger *lg, const char *level, const char *fmt, ...) RH_PRINTF(3, 4);

static void logf_(logger *lg, const char *level, const char *fmt, ...)
{
    struct timeval tv;
    struct tm tm;
    char stamp[32];
    va_list ap;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(lg->f, "%s.%03ldZ %s ", stamp, (long)(tv.tv_usec / 1000), level);
    va_start(ap, fmt);
    vfprintf(lg->f, fmt, ap);
    va_end(ap);
    fputc('\n', lg->f);
    fflush(lg->f);
}

static int log_open(logger *lg, const char *path)
{
    lg->path = path;
    lg->f = stdout;
    if (path && !(lg->f = fopen(path, "a"))) {
        rh_err("cannot open log file '%s': %s", path, strerror(errno));
        return -1;
    }
    setvbuf(lg->f, NULL, _IOLBF, 0);
    return 0;
}

/* SIGHUP: the file may have been renamed by logrotate; continue in a fresh one. */
static void log_reopen(logger *lg)
{
    if (!lg->path) {
        logf_(lg, "info", "SIGHUP: logging to stdout, nothing to reopen");
        return;
    }
    FILE *f = fopen(lg->path, "a");
    if (!f) {
        logf_(lg, "error", "cannot reopen log file '%s': %s", lg->path, strerror(errno));
        return;
    }
    fclose(lg->f);
    lg->f = f;
    setvbuf(lg->f, NULL, _IOLBF, 0);
    logf_(lg, "info", "log reopened");
}

static void log_close(logger *lg)
{
    if (lg->f && lg->f != stdout)
        fclose(lg->f);
    lg->f = NULL;
}

/* --- pid file ----------------------------------------------------------------------------- */

static int pidfile_write(const char *path)
{
    char tmp[RH_PATH_MAX + 16];
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (f) {
        int alive = fscanf(f, "%ld", &pid) == 1 && pid > 0 && pid != getpid() &&
                    (kill((pid_t)pid, 0) == 0 || errno == EPERM);
        fclose(f);
        if (alive) {
            rh_err("pid file '%s' names running process %ld", path, pid);
            return -1;
        }
    }
    /* written whole then renamed, so a reader never sees a half-written pid */
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0 ||
        rename(tmp, path) != 0) {
        rh_err("cannot write pid file '%s': %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void pidfile_remove(const char *path)
{
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (!f)
        return;
    int ours = fscanf(f, "%ld", &pid) == 1 && pid == (long)getpid();
    fclose(f);
    if (ours) /* another instance may have taken it over: leave theirs alone */
        unlink(path);
}

/* --- the headless loop -------------------------------------------------------------------- */

/* What the last report saw of one followed table, to log only what changed. */
typedef struct side_seen {
    int64_t rows;
    int err, stopped;
} side_seen;

typedef struct watch {
    int64_t cycles, events;
    int err;
    double last_log_ms;
    side_seen *side; /* owned; one per followed table */
    size_t nside;
} watch;

/* Followed tables of a sidecar source: rows applied, a failing source (dead, refusing, a
 * schema problem) and its recovery each get a line, as the local sync's do. */
static void report_sidecar(logger *lg, rh_session *s, watch *w, double now)
{
    size_t n = 0;
    if (rhei_sidecar_table_count(s->db, &n) != RHEI_OK || n == 0)
        return;
    if (n > w->nside) {
        side_seen *grown = realloc(w->side, n * sizeof *grown);
        if (!grown)
            return; /* logging only: the next report tries again */
        memset(grown + w->nside, 0, (n - w->nside) * sizeof *grown);
        w->side = grown;
        w->nside = n;
    }
    for (size_t i = 0; i < n; i++) {
        rhei_sidecar_table_status t;
        side_seen *seen = &w->side[i];
        if (rhei_sidecar_status_get(s->db, i, &t) != RHEI_OK)
            continue;
        if (t.rows_applied > seen->rows) {
            time_t secs = (time_t)(t.watermark_us / 1000000);
            struct tm tm;
            char wm[32] = "none";
            if (t.watermark_us > 0 && gmtime_r(&secs, &tm))
                strftime(wm, sizeof wm, "%Y-%m-%dT%H:%M:%SZ", &tm);
            logf_(lg, "info", "sidecar table=%s rows=%lld watermark=%s", t.name,
                  (long long)(t.rows_applied - seen->rows), wm);
            w->last_log_ms = now;
        }
        if (t.stopped && !seen->stopped)
            logf_(lg, "error", "sidecar table=%s stopped until restart: %s", t.name, t.last_error);
        else if (t.last_error_code != seen->err && t.last_error_code)
            logf_(lg, "error", "sidecar table=%s failed: %s", t.name, t.last_error);
        else if (t.last_error_code != seen->err)
            logf_(lg, "info", "sidecar table=%s recovered", t.name);
        if (t.stopped != seen->stopped || t.last_error_code != seen->err)
            w->last_log_ms = now;
        seen->rows = t.rows_applied;
        seen->err = t.last_error_code;
        seen->stopped = t.stopped;
    }
}

static void report(logger *lg, rh_session *s, watch *w, double now)
{
    rhei_sync_status st;
    if (rhei_sync_status_get(s->db, &st) != RHEI_OK)
        return;
    if (st.events_total > w->events) {
        logf_(lg, "info", "sync cycle events=%lld lag_ms=%.1f cycles=%lld position=%lld"
              " cycle_us=%lld", (long long)(st.events_total - w->events), st.lag_ms,
              (long long)(st.cycles - w->cycles), (long long)st.applied_position,
              (long long)st.last_cycle_us);
        w->last_log_ms = now;
    }
    if (st.last_error_code != w->err) {
        if (st.last_error_code)
            logf_(lg, "error", "sync failed: %s", st.last_error);
        else
            logf_(lg, "info", "sync recovered");
        w->last_log_ms = now;
    }
    if (now - w->last_log_ms >= HEARTBEAT_MS) {
        logf_(lg, "info", "status lag_events=%lld lag_ms=%.1f position=%lld cycles=%lld",
              (long long)st.lag_events, st.lag_ms, (long long)st.applied_position,
              (long long)st.cycles);
        w->last_log_ms = now;
    }
    w->cycles = st.cycles;
    w->events = st.events_total;
    w->err = st.last_error_code;
    report_sidecar(lg, s, w, now);
}

static int headless(logger *lg, rh_session *s, const sigset_t *sigs, rh_local_server *local)
{
    watch w = {0, 0, RHEI_OK, rh_now_ms(), NULL, 0};
    long ms = s->sync_interval_ms < 20 ? 20 : s->sync_interval_ms > 1000 ? 1000
                                                                        : (long)s->sync_interval_ms;
    struct timespec tick = {ms / 1000, (ms % 1000) * 1000000L}, zero = {0, 0};
    for (;;) {
        /* clients of the local socket are served while waiting; signals stay blocked and
         * are taken right after, so a stop waits at most one tick */
        if (local->fd >= 0)
            rh_local_serve(local, s, (int)ms);
        int sig = sigtimedwait(sigs, NULL, local->fd >= 0 ? &zero : &tick);
        if (sig == SIGHUP) {
            log_reopen(lg);
        } else if (sig == SIGINT || sig == SIGTERM) {
            logf_(lg, "info", "stopping signal=%s", sig == SIGINT ? "INT" : "TERM");
            report(lg, s, &w, rh_now_ms());
            free(w.side);
            return RH_EXIT_OK;
        }
        report(lg, s, &w, rh_now_ms());
    }
}

static rh_session *the_session; /* for the dashboard's hook, which takes one pointer */

static void log_request(void *ud, const char *request, long pid, int code)
{
    logf_(ud, code ? "warn" : "info", "local request=%s pid=%ld exit=%d", request, pid, code);
}

static void serve_local(void *ud) { rh_local_serve(ud, the_session, 0); }

/* The Prometheus endpoint ([metrics] port / metrics_port), on the loopback interface only:
 * metrics name tables and errors, so exposing them further is a proxy's decision. */
static int metrics_start(rh_session *s, void *flight, rhei__metrics_server **out)
{
    char err[256];
    rhei__metrics_extra x = {flight ? rh_flight_metrics : NULL, flight};
    if (rhei__metrics_server_start(s->db, &x, RH_METRICS_ADDR, s->metrics_port, out, err,
                                   sizeof err) == RHEI_OK)
        return RH_EXIT_OK;
    rh_err("%s", err);
    return RH_EXIT_ERR;
}

int rh_cmd_serve(const rh_opts *o)
{
    rh_session s;
    logger lg = {NULL, NULL};
    sigset_t sigs;
    if (o->nargs) {
        rh_err("serve takes no arguments");
        return RH_EXIT_USAGE;
    }
    int quiet = o->headless || o->log || !isatty(STDOUT_FILENO);
    if (quiet && log_open(&lg, o->log) != 0)
        return RH_EXIT_ERR;
    rh_block_stop_signals(&sigs);
    void *flight = NULL;
    char flight_desc[512];
    int code = rh_session_open(&s, o, "serve", RH_SYNC_OWNER);
    if (code == RH_EXIT_OK && rh_flight_start(o, s.db, &flight, flight_desc, sizeof flight_desc))
        code = RH_EXIT_ERR;
    if (code == RH_EXIT_OK && o->pidfile && pidfile_write(o->pidfile) != 0)
        code = RH_EXIT_ERR;
    rhei__metrics_server *metrics = NULL;
    rh_local_server local = {-1, ""};
    int served = 0; /* "serving" was reached: only then is the stop worth a log line */
    if (code == RH_EXIT_OK && s.metrics_port > 0)
        code = metrics_start(&s, flight, &metrics);
    if (code == RH_EXIT_OK) {
        signal(SIGPIPE, SIG_IGN); /* a client's closed pipe fails a write, not the service */
        rh_local_listen(&s, &local); /* without it, other rh commands work as guests */
        rh_dashboard_hook = serve_local;
        rh_dashboard_hook_ud = &local;
        the_session = &s;
    }
    if (code == RH_EXIT_OK && quiet) {
        logf_(&lg, "info", "serving db=%s olap=%s interval_ms=%lld pid=%ld", s.oltp_path,
              s.olap_path, (long long)s.sync_interval_ms, (long)getpid());
        if (flight)
            logf_(&lg, "info", "%s", flight_desc);
        if (metrics)
            logf_(&lg, "info", "metrics url=http://%s:%d/metrics", RH_METRICS_ADDR,
                  rhei__metrics_server_port(metrics));
        if (local.fd >= 0)
            logf_(&lg, "info", "local socket=%s", local.path);
        rh_local_log = log_request;
        rh_local_log_ud = &lg;
        served = 1;
        code = headless(&lg, &s, &sigs, &local);
        rh_local_log = NULL;
    } else if (code == RH_EXIT_OK) {
        if (flight)
            fprintf(stderr, "rh: %s\n", flight_desc);
        served = 1;
        code = rh_dashboard_loop(&s, NULL, "serve", o->refresh_ms, &sigs);
    }
    rh_flight_stop(flight); /* streams drain before the engine closes under them */
    int opened = s.db != NULL;
    rhei__metrics_server_stop(metrics); /* before the engine it reads goes away */
    rh_local_close(&local);
    rh_dashboard_hook = NULL;
    int c2 = rh_session_close(&s);
    if (quiet && served)
        logf_(&lg, c2 ? "error" : "info", "%s", c2 ? "stopped: the final sync failed"
                                                  : "stopped after a final sync");
    if (o->pidfile && opened)
        pidfile_remove(o->pidfile);
    log_close(&lg);
    return code ? code : c2;
}
