/* metrics_http.h — Rhei's Prometheus endpoint: renders a rhei_db's metrics in the Prometheus
 * text format (prom.c) and serves them over HTTP with libmicrohttpd (http.c): GET /metrics
 * and GET /healthz. Uses only rhei.h; linked into rh (`rh serve`), not into librhei. */
#ifndef RHEI_NET_METRICS_HTTP_H
#define RHEI_NET_METRICS_HTTP_H
#include "rhei.h"
#include <stddef.h>

/* Counters of the process' Flight SQL server (src/net/flight), handed in by its owner so this
 * module needs only rhei.h. connections -1: unknown (the series is left out). */
typedef struct rhei__metrics_flight {
    int64_t calls_total, calls_active, bytes_received, bytes_sent, connections;
} rhei__metrics_flight;
typedef struct rhei__metrics_extra {
    void (*flight)(void *ud, rhei__metrics_flight *out); /* NULL: no Flight server */
    void *ud;
} rhei__metrics_extra;

/* The exposition text of db's metrics (text format 0.0.4), NUL-terminated, in *out (the
 * caller frees it with free) and its length in *out_len; x (may be NULL) adds the Flight
 * server's. Returns RHEI_OK, RHEI_NOMEM, or the code of a failed engine call (its message in
 * rhei_errmsg(db)). */
int rhei__metrics_render(rhei_db *db, const rhei__metrics_extra *x, char **out, size_t *out_len);

/* 1 when db is healthy for /healthz: the last sync cycle succeeded (the reason is written to
 * why, at most cap bytes, either way). */
int rhei__metrics_healthy(rhei_db *db, char *why, size_t cap);

typedef struct rhei__metrics_server rhei__metrics_server;

/* Serves db's metrics (and x's, copied; may be NULL) on addr:port (addr an IPv4 address such as "127.0.0.1"; port 0 picks a
 * free one, see rhei__metrics_server_port) on libmicrohttpd's own thread. db must outlive the
 * server. On failure *out is NULL and err (cap bytes) says why. */
int rhei__metrics_server_start(rhei_db *db, const rhei__metrics_extra *x, const char *addr,
                               int port,
                               rhei__metrics_server **out, char *err, size_t cap);
int rhei__metrics_server_port(const rhei__metrics_server *s);
/* Stops serving (waits for requests in flight) and frees s. Accepts NULL. */
void rhei__metrics_server_stop(rhei__metrics_server *s);
#endif
