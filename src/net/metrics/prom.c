/* prom.c — rhei_metrics (and per-table state read through rhei.h) rendered in the Prometheus
 * text exposition format 0.0.4: one HELP and TYPE line per family, base units (seconds),
 * counters ending in _total, histograms as cumulative _bucket{le} with _sum and _count.
 * The text grows in a buffer bounded by TEXT_MAX: a scrape never takes unbounded memory. */
#include "metrics_http.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TEXT_MAX (8u << 20)

typedef struct text {
    char *p;
    size_t len, cap;
    int failed; /* out of memory or over TEXT_MAX: the render fails as a whole */
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    for (int tries = 0; !t->failed && tries < 2; tries++) {
        va_start(ap, fmt);
        int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if (t->p && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap : 4096;
        while (cap <= t->len + (size_t)n)
            cap *= 2;
        char *p = cap <= TEXT_MAX ? realloc(t->p, cap) : NULL;
        if (!p) {
            t->failed = 1;
            return;
        }
        t->p = p, t->cap = cap;
    }
}

/* A label value: backslash, double quote and newline escaped, as the format requires. */
static void put_label(text *t, const char *v)
{
    for (; *v && !t->failed; v++)
        if (*v == '\\' || *v == '"')
            put(t, "\\%c", *v);
        else if (*v == '\n')
            put(t, "\\n");
        else
            put(t, "%c", *v);
}

static void family(text *t, const char *name, const char *type, const char *help)
{
    put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(text *t, const char *name, const char *type, const char *help, double v)
{
    family(t, name, type, help);
    put(t, "%s %.17g\n", name, v);
}

/* One histogram's series; labels is "" or `side="oltp",` (with the trailing comma). */
static void histogram(text *t, const char *name, const char *labels, const rhei_histogram *h)
{
    int64_t cum = 0;
    for (size_t i = 0; i < RHEI_HISTOGRAM_BUCKETS; i++) {
        cum += h->bucket[i];
        put(t, "%s_bucket{%sle=\"%g\"} %lld\n", name, labels, rhei_histogram_bound(i),
            (long long)cum);
    }
    put(t, "%s_bucket{%sle=\"+Inf\"} %lld\n", name, labels, (long long)h->count);
    size_t n = strlen(labels);
    if (n) /* `side="oltp",` -> {side="oltp"} */
        put(t, "%s_sum{%.*s} %.17g\n%s_count{%.*s} %lld\n", name, (int)n - 1, labels, h->sum,
            name, (int)n - 1, labels, (long long)h->count);
    else
        put(t, "%s_sum %.17g\n%s_count %lld\n", name, h->sum, name, (long long)h->count);
}

static void sync_part(text *t, const rhei_metrics *m)
{
    const rhei_sync_status *s = &m->sync;
    one(t, "rhei_sync_lag_events", "gauge", "Change events committed to SQLite, not yet applied to OLAP.",
        (double)s->lag_events);
    one(t, "rhei_sync_lag_seconds", "gauge", "Age of the oldest change not yet applied to OLAP.",
        s->lag_ms / 1000.0);
    one(t, "rhei_sync_head_position", "gauge", "Last position committed to the change log.",
        (double)s->head_position);
    one(t, "rhei_sync_applied_position", "gauge", "Last change-log position applied to OLAP.",
        (double)s->applied_position);
    one(t, "rhei_sync_pruned_position", "gauge",
        "Change-log position this process pruned up to (0 before its first prune).",
        (double)m->pruned_position);
    one(t, "rhei_sync_running", "gauge", "1 while background sync runs.", s->running ? 1 : 0);
    one(t, "rhei_sync_failing", "gauge", "1 when the last sync cycle failed.",
        s->last_error_code ? 1 : 0);
    one(t, "rhei_sync_cycles_total", "counter", "Sync cycles run.", (double)s->cycles);
    one(t, "rhei_sync_cycle_failures_total", "counter", "Sync cycles that failed (retried).",
        (double)m->cycle_failures);
    one(t, "rhei_sync_batches_total", "counter", "OLAP transactions that applied changes.",
        (double)m->batches);
    family(t, "rhei_sync_events_applied_total", "counter", "Change events applied to OLAP, by kind.");
    put(t, "rhei_sync_events_applied_total{kind=\"insert\"} %lld\n", (long long)m->applied_inserted);
    put(t, "rhei_sync_events_applied_total{kind=\"update\"} %lld\n", (long long)m->applied_updated);
    put(t, "rhei_sync_events_applied_total{kind=\"delete\"} %lld\n", (long long)m->applied_deleted);
    family(t, "rhei_sync_cycle_duration_seconds", "histogram", "Duration of sync cycles.");
    histogram(t, "rhei_sync_cycle_duration_seconds", "", &m->cycle_seconds);
}

static const char *side_name(rhei_side s) { return s == RHEI_SIDE_OLAP ? "olap" : "oltp"; }

static void query_part(text *t, const rhei_metrics *m)
{
    family(t, "rhei_queries_total", "counter", "Routed queries served, by side and route reason.");
    for (size_t i = 0; i < m->nroutes; i++) {
        put(t, "rhei_queries_total{side=\"%s\",reason=\"", side_name(m->routes[i].side));
        put_label(t, m->routes[i].reason);
        put(t, "\"} %lld\n", (long long)m->routes[i].count);
    }
    one(t, "rhei_query_fallbacks_total", "counter",
        "Auto-routed OLAP queries DuckDB could not run that SQLite answered.", (double)m->fallbacks);
    family(t, "rhei_query_duration_seconds", "histogram", "Latency of routed queries, by serving side.");
    histogram(t, "rhei_query_duration_seconds", "side=\"oltp\",", &m->query_seconds[RHEI_SIDE_OLTP]);
    histogram(t, "rhei_query_duration_seconds", "side=\"olap\",", &m->query_seconds[RHEI_SIDE_OLAP]);
}

static void table_label(text *t, const char *family_name, const char *name)
{
    put(t, "%s{table=\"", family_name);
    put_label(t, name);
    put(t, "\"");
}

/* Per registered table: pending events, and its replication state as one series per state
 * (1 for the current one, the Prometheus way to expose an enum), with the cause of a failed
 * or detached table in an info series and the log position a failure started after. */
static int table_part(text *t, rhei_db *db)
{
    static const char *const states[] = {"replicated", "failed", "detached"};
    rhei_table_list *l = NULL;
    int rc = rhei_tables(db, &l);
    if (rc != RHEI_OK)
        return rc;
    size_t n = rhei_table_list_count(l);
    rhei_table_status *ts = calloc(n ? n : 1, sizeof *ts);
    if (!ts) {
        rhei_table_list_free(l);
        return RHEI_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        if (rhei_table_status_get(db, rhei_table_list_name(l, i), &ts[i]) != RHEI_OK)
            ts[i].state = -1; /* dropped since the list was taken */
    family(t, "rhei_table_pending_events", "gauge",
           "Change events of a replicated table committed but not yet applied.");
    for (size_t i = 0; i < n; i++) {
        int64_t pending = 0;
        const char *name = rhei_table_list_name(l, i);
        if (ts[i].state < 0 || rhei_table_pending(db, name, &pending) != RHEI_OK)
            continue;
        table_label(t, "rhei_table_pending_events", name);
        put(t, "} %lld\n", (long long)pending);
    }
    family(t, "rhei_table_state", "gauge",
           "Replication state of a registered table: 1 for the state it is in.");
    for (size_t i = 0; i < n; i++)
        for (int s = 0; s < 3 && ts[i].state >= 0; s++) {
            table_label(t, "rhei_table_state", rhei_table_list_name(l, i));
            put(t, ",state=\"%s\"} %d\n", states[s], ts[i].state == s);
        }
    family(t, "rhei_table_failure_info", "gauge",
           "A failed or detached table, with its cause (fix the rows and resync, or register).");
    for (size_t i = 0; i < n; i++) {
        if (ts[i].state != RHEI_TABLE_FAILED && ts[i].state != RHEI_TABLE_DETACHED)
            continue;
        table_label(t, "rhei_table_failure_info", rhei_table_list_name(l, i));
        put(t, ",state=\"%s\",cause=\"", states[ts[i].state]);
        put_label(t, ts[i].cause);
        put(t, "\"} 1\n");
    }
    family(t, "rhei_table_failed_after_position", "gauge",
           "Log position after which a failed table's changes are not in OLAP.");
    for (size_t i = 0; i < n; i++) {
        if (ts[i].state != RHEI_TABLE_FAILED)
            continue;
        table_label(t, "rhei_table_failed_after_position", rhei_table_list_name(l, i));
        put(t, "} %lld\n", (long long)ts[i].failed_after);
    }
    free(ts);
    rhei_table_list_free(l);
    return RHEI_OK;
}

static void sidecar_part(text *t, rhei_db *db)
{
    size_t n = 0;
    struct timespec now;
    if (rhei_sidecar_table_count(db, &n) != RHEI_OK || n == 0)
        return;
    clock_gettime(CLOCK_REALTIME, &now);
    double now_s = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
    static const char *const fam[][3] = {
        {"rhei_sidecar_watermark_lag_seconds", "gauge",
         "How far a followed table's watermark is behind now."},
        {"rhei_sidecar_watermark_timestamp_seconds", "gauge",
         "Source time up to which every change of a followed table is applied (Unix time)."},
        {"rhei_sidecar_rows_applied_total", "counter", "Rows applied from the source."},
        {"rhei_sidecar_table_stopped", "gauge", "1 when a schema problem stopped the table."},
        {"rhei_sidecar_table_failing", "gauge", "1 when the table's last poll failed."}};
    for (size_t f = 0; f < 5; f++) {
        family(t, fam[f][0], fam[f][1], fam[f][2]);
        for (size_t i = 0; i < n; i++) {
            rhei_sidecar_table_status st;
            if (rhei_sidecar_status_get(db, i, &st) != RHEI_OK)
                continue;
            double v = f == 0 ? (st.watermark_us > 0 ? now_s - (double)st.watermark_us / 1e6 : 0)
                     : f == 1 ? (double)st.watermark_us / 1e6
                     : f == 2 ? (double)st.rows_applied
                     : f == 3 ? (st.stopped != 0) : (st.last_error_code != 0);
            put(t, "%s{table=\"", fam[f][0]);
            put_label(t, st.name);
            put(t, "\"} %.17g\n", v);
        }
    }
}

static void flight_part(text *t, const rhei__metrics_extra *x)
{
    rhei__metrics_flight f;
    if (!x || !x->flight)
        return;
    memset(&f, 0, sizeof f);
    x->flight(x->ud, &f);
    one(t, "rhei_flight_calls_total", "counter", "Flight SQL calls (RPCs) accepted.",
        (double)f.calls_total);
    one(t, "rhei_flight_calls_in_flight", "gauge", "Flight SQL calls being served.",
        (double)f.calls_active);
    one(t, "rhei_flight_received_bytes_total", "counter",
        "Bytes of gRPC messages received by the Flight SQL server.", (double)f.bytes_received);
    one(t, "rhei_flight_sent_bytes_total", "counter",
        "Bytes of gRPC messages sent by the Flight SQL server.", (double)f.bytes_sent);
    if (f.connections >= 0)
        one(t, "rhei_flight_connections", "gauge",
            "Client connections the Flight SQL server holds open.", (double)f.connections);
}

int rhei__metrics_render(rhei_db *db, const rhei__metrics_extra *x, char **out, size_t *out_len)
{
    rhei_metrics m;
    text t = {0};
    *out = NULL;
    *out_len = 0;
    memset(&m, 0, sizeof m);
    m.size = sizeof m;
    int rc = rhei_metrics_get(db, &m);
    if (rc != RHEI_OK)
        return rc;
    sync_part(&t, &m);
    query_part(&t, &m);
    if ((rc = table_part(&t, db)) != RHEI_OK) {
        free(t.p);
        return rc;
    }
    sidecar_part(&t, db);
    flight_part(&t, x);
    if (t.failed || !t.p) {
        free(t.p);
        return RHEI_NOMEM;
    }
    *out = t.p;
    *out_len = t.len;
    return RHEI_OK;
}

int rhei__metrics_healthy(rhei_db *db, char *why, size_t cap)
{
    rhei_sync_status s;
    if (rhei_sync_status_get(db, &s) != RHEI_OK) {
        snprintf(why, cap, "cannot read the sync status: %s\n", rhei_errmsg(db));
        return 0;
    }
    if (s.last_error_code != RHEI_OK) {
        snprintf(why, cap, "sync failing: %s\n", s.last_error);
        return 0;
    }
    if (s.failed_tables > 0) {
        snprintf(why, cap, "%lld table(s) not replicated, first '%s'\n", (long long)s.failed_tables,
                 s.failed_table);
        return 0;
    }
    /* a sidecar's polls are its sync: a source it cannot read is as unhealthy */
    size_t n = 0;
    for (size_t i = 0; rhei_sidecar_table_count(db, &n) == RHEI_OK && i < n; i++) {
        rhei_sidecar_table_status t;
        if (rhei_sidecar_status_get(db, i, &t) == RHEI_OK && (t.last_error_code || t.stopped)) {
            snprintf(why, cap, "sidecar table '%s' %s: %s\n", t.name,
                     t.stopped ? "stopped" : "failing", t.last_error);
            return 0;
        }
    }
    snprintf(why, cap, "ok lag_events=%lld lag_ms=%.1f\n", (long long)s.lag_events, s.lag_ms);
    return 1;
}
