/* flight_hook.c — `rh serve`'s Arrow Flight SQL server: started when the config sets
 * `[engine] flight_port` or a `[flight]` table, stopped (streams drained) before the engine
 * closes. Kept apart from serve.c so rh builds without gRPC: then a config asking for Flight
 * is refused with a message saying so, and `rh info` reports it. */
#include "rh.h"
#include "metrics_http.h"
#include <stdio.h>
#include <string.h>
#ifdef RH_HAVE_FLIGHT
#include "flight.h"
#endif

#define DRAIN_MS 10000 /* SIGTERM: running streams get this long to finish */

const char *rh_flight_feature(void)
{
#ifdef RH_HAVE_FLIGHT
    return "flight-sql (built in)";
#else
    return "flight-sql (not built: needs gRPC, protobuf-c, zstd, lz4)";
#endif
}

int rh_flight_start(const rh_opts *o, rhei_db *db, void **out, char *desc, size_t n)
{
    rhei_config *cfg = NULL;
    *out = NULL;
    desc[0] = '\0';
    if (rh_config_build(o, &cfg) != RH_EXIT_OK)
        return -1;
#ifdef RH_HAVE_FLIGHT
    rhei_flight_opts fo;
    char err[512];
    int enabled = 0, rc = rhei_flight_opts_from_config(cfg, &fo, &enabled, err, sizeof err);
    rhei_config_free(cfg);
    if (rc != 0 || !enabled) {
        if (rc)
            rh_err("cannot start the Flight SQL server: %s", err);
        return rc;
    }
    rhei_flight *f = NULL;
    rc = rhei_flight_start(db, &fo, &f, err, sizeof err);
    if (rc != 0) {
        rh_err("cannot start the Flight SQL server: %s", err);
    } else {
        snprintf(desc, n, "flight sql listening on %s:%d auth=%s tls=%s writes=%s", fo.host,
                 rhei_flight_port(f), fo.ntokens ? "token" : "none", fo.tls_cert[0] ? "on" : "off",
                 fo.allow_writes ? "on" : "off");
        *out = f;
    }
    rhei_flight_opts_free(&fo);
    return rc;
#else
    (void)db;
    const char *port = rhei_config_get(cfg, "flight_port");
    int wanted = (port && strcmp(port, "0") != 0) || rhei_config_get(cfg, "flight.port")[0] ||
                 rhei_config_get(cfg, "flight.host")[0];
    rhei_config_free(cfg);
    if (wanted)
        rh_err("cannot start the Flight SQL server: rh was built without it (%s)",
               rh_flight_feature());
    return wanted ? -1 : 0;
#endif
}

void rh_flight_stop(void *f)
{
#ifdef RH_HAVE_FLIGHT
    rhei_flight_stop(f, DRAIN_MS);
#else
    (void)f;
#endif
}

void rh_flight_metrics(void *f, rhei__metrics_flight *out)
{
    memset(out, 0, sizeof *out);
#ifdef RH_HAVE_FLIGHT
    rhei_flight_counters c;
    rhei_flight_counters_get(f, &c);
    out->calls_total = c.calls_total, out->calls_active = c.calls_active;
    out->bytes_received = c.bytes_received, out->bytes_sent = c.bytes_sent;
    out->connections = c.connections;
#else
    (void)f;
    out->connections = -1;
#endif
}
