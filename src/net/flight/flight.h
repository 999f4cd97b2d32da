/* flight.h — the Arrow Flight SQL server: the one entry point `rh serve` uses. It runs on
 * its own threads (a bounded pool of call workers, one awaiting shutdown) over a rhei_db the
 * caller keeps open until rhei_flight_stop returns. Uses only rhei.h. */
#ifndef RHEI_NET_FLIGHT_H
#define RHEI_NET_FLIGHT_H
#include "rhei.h"
#include <stddef.h>
#include <stdint.h>

#define RHEI_FLIGHT_MAX_TOKENS 64
/* How long one message may wait for a client that does not read (HTTP/2 flow control holds
 * the send) before its call is cancelled, freeing the worker slot it held: without a bound,
 * max_connections stalled DoGet readers blocked every other call for good. 30 s leaves a slow
 * but live consumer (a JDBC result set being scrolled) ample time per message. */
#define RHEI_FLIGHT_SEND_TIMEOUT_MS 30000

typedef struct rhei_flight_opts {
    char host[256];             /* bind address; default 127.0.0.1 */
    int port;                   /* 0 = any free port (the bound one is reported) */
    char *tokens[RHEI_FLIGHT_MAX_TOKENS]; /* accepted bearer tokens / Basic passwords */
    size_t ntokens;
    int allow_unauthenticated;  /* explicit opt-out of tokens on a non-loopback address */
    int allow_writes;           /* DoPut updates through rhei_execute */
    int max_calls;              /* concurrent calls served (worker pool size) */
    char tls_cert[1024], tls_key[1024];
    char compression[8];        /* default body compression: "none", "zstd" or "lz4" */
    int send_timeout_ms;        /* per message; <= 0: RHEI_FLIGHT_SEND_TIMEOUT_MS */
} rhei_flight_opts;

typedef struct rhei_flight rhei_flight;

/* Fills o from a config: [engine] flight_port, and the [flight] table ("flight.host",
 * "flight.port", "flight.tokens.N", "flight.token_file", "flight.tls_cert", "flight.tls_key",
 * "flight.allow_writes", "flight.allow_unauthenticated", "flight.max_connections",
 * "flight.compression", "flight.send_timeout_ms" once the config accepts that key); the
 * environment variable RHEI_FLIGHT_SEND_TIMEOUT_MS (milliseconds > 0) overrides the send
 * timeout (tests use a short one). *out_enabled is 0 when neither is set. Returns 0 or -1
 * with err. */
int rhei_flight_opts_from_config(const rhei_config *cfg, rhei_flight_opts *o, int *out_enabled,
                                 char *err, size_t errlen);
void rhei_flight_opts_free(rhei_flight_opts *o);

/* Starts serving db. Refuses (-1, reason in err) a non-loopback address without tokens
 * unless allow_unauthenticated. *out owns the server; its bound port is rhei_flight_port. */
int rhei_flight_start(rhei_db *db, const rhei_flight_opts *o, rhei_flight **out, char *err,
                      size_t errlen);
int rhei_flight_port(const rhei_flight *f);
/* Stops accepting, lets running streams finish (up to grace_ms, then cancels them), joins
 * every thread and frees the server. Accepts NULL. */
void rhei_flight_stop(rhei_flight *f, int grace_ms);

/* Counters of a running server for monitoring (rh serve's /metrics). calls: RPCs accepted and
 * being served; bytes: gRPC message payloads received and sent (before HTTP/2 framing);
 * connections: client connections the server holds open (gRPC's channelz; -1 when channelz
 * cannot say); sends_timed_out: calls cancelled because the client read nothing within the
 * send timeout. Thread-safe while the server runs; f NULL gives zeros. */
typedef struct rhei_flight_counters {
    int64_t calls_total, calls_active, bytes_received, bytes_sent, connections;
    int64_t sends_timed_out;
} rhei_flight_counters;
void rhei_flight_counters_get(rhei_flight *f, rhei_flight_counters *out);

/* --- a minimal client (client.c), for benchmarks and tests --------------------------------- */
typedef struct rhei_flight_client rhei_flight_client;
typedef struct rhei_flight_stats {
    int64_t rows, messages, body_bytes, wire_bytes;
} rhei_flight_stats;
/* target: "127.0.0.1:PORT". Plaintext. */
int rhei_flight_client_open(const char *target, rhei_flight_client **out);
void rhei_flight_client_close(rhei_flight_client *c);
/* GetFlightInfo(CommandStatementQuery) + DoGet, counting rows and bytes. compression: NULL,
 * "zstd" or "lz4" (request header). delay_us: pause after each message (a slow reader).
 * 0, or -1 with the gRPC status in err. Thread-safe on distinct clients. */
int rhei_flight_client_query(rhei_flight_client *c, const char *sql, const char *compression,
                             int delay_us, rhei_flight_stats *out, char *err, size_t errlen);
#endif
