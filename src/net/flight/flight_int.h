/* flight_int.h — what the files of the Flight server share: the server, one call in
 * progress (its worker, its completion queue, its request headers), the statement/ticket
 * registry and the helpers that send and receive gRPC messages. */
#ifndef RHEI_NET_FLIGHT_INT_H
#define RHEI_NET_FLIGHT_INT_H
#include "flight.h"
#include "flight.pb-c.h"
#include "ipc.h"
#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define FL_ERR_MAX 512
#define FL_HANDLE_LEN 32 /* hex characters of a random 128-bit handle */

/* gRPC status codes used (grpc_status_code values). */
enum {
    FL_OK = 0, FL_CANCELLED = 1, FL_UNKNOWN = 2, FL_INVALID = 3, FL_NOT_FOUND = 5,
    FL_EXISTS = 6, FL_PERMISSION = 7, FL_RESOURCE = 8, FL_FAILED_PRECONDITION = 9,
    FL_ABORTED = 10, FL_OUT_OF_RANGE = 11, FL_UNIMPLEMENTED = 12, FL_INTERNAL = 13,
    FL_UNAVAILABLE = 14, FL_UNAUTHENTICATED = 16
};

typedef struct fl_registry fl_registry;

struct rhei_flight {
    rhei_db *db;
    rhei_flight_opts opts;
    grpc_server *server;
    grpc_completion_queue *cq; /* the end of shutdown only (calls come to the slots' queues) */
    int port;
    pthread_t watcher; /* waits on cq */
    struct fl_slot *slots;
    int nslots;
    volatile int stopping;
    fl_registry *reg;
    pthread_mutex_t lock; /* session tokens */
    char (*sessions)[FL_HANDLE_LEN + 1];
    int *session_owner;
    size_t nsessions, sessioncap;
    /* rhei_flight_counters (counters.c), updated with __atomic builtins */
    int64_t calls_total, calls_active, bytes_received, bytes_sent, sends_timed_out;
    intptr_t channelz_id; /* this server in gRPC's channelz, 0 when unknown */
};

/* counters.c: a call's start and end, bytes moved; the channelz id once started */
void fl_count(int64_t *counter, int64_t delta);
void fl_counters_started(rhei_flight *f);

/* The close watch of a slot: none, started (whoever ends it plucks), plucked by the closer. */
enum { FL_WATCH_NONE, FL_WATCH_PENDING, FL_WATCH_CLOSER };
#define FL_WATCH_GRACE_MS 5 /* a client's cancel stops a query after at most this long */

/* One worker and the call it serves. */
typedef struct fl_slot {
    rhei_flight *f;
    int index;
    pthread_t thread;
    pthread_mutex_t mu;        /* guards active and the close watch below */
    int active;                /* a call is being served (rhei_flight_stop waits for none) */
    grpc_completion_queue *cq; /* pluck queue: the slot's requests and calls */
    /* The close watch (transport.c): while a DoGet runs its query, its RECV_CLOSE_ON_SERVER
     * is pending on cq. A second thread, the closer, plucks it once the call has run
     * FL_WATCH_GRACE_MS (and fires close_token if the client cancelled or went away); a call
     * done sooner has its worker pluck it, so a short call waits for no other thread. Guarded
     * by mu; cv (CLOCK_MONOTONIC) wakes the closer (a watch while it sleeps untimed, or quit)
     * and the worker (the closer has plucked). */
    pthread_t closer;
    pthread_cond_t cv;
    int watch;                   /* FL_WATCH_* */
    int closer_idle;             /* the closer waits untimed: a new watch must wake it */
    int quit;                    /* rhei_flight_stop: the closer returns */
    struct timespec watch_since; /* CLOCK_MONOTONIC, when the op was started */
    int close_cancelled;         /* written by gRPC when the op completes */
    rhei_cancel *close_token;    /* borrowed from the call; NULL once it may not be fired */
    char close_tag;              /* its address tags the op */
    grpc_call *call;
    grpc_call_details details;
    grpc_metadata_array md;
} fl_slot;

/* The call being served. */
typedef struct fl_call {
    rhei_flight *f;
    fl_slot *slot;
    grpc_call *call;
    int sent_initial;
    int close_watched;  /* RECV_CLOSE_ON_SERVER started by fl_watch_close: fl_finish omits it */
    int owner;          /* principal: token index, or -1 when unauthenticated */
    int codec;          /* IPC_COMP_* for record batches */
    rhei_query_opts qopts;
    grpc_metadata out_md[2];
    size_t nout_md;
    char bearer[FL_HANDLE_LEN + 8];
    atomic_int cancelled; /* set by CancelFlightInfo (another worker) while this call runs */
    /* The running DoGet's query token (NULL otherwise): set before its ticket is marked
     * running and freed after fl_registry_end, so CancelFlightInfo, which fires it under the
     * registry's lock, never sees a freed one. */
    rhei_cancel *cancel;
} fl_call;

/* --- transport.c ------------------------------------------------------------------------- */
/* Request header value (borrowed until the call ends) or NULL; *len set. */
const char *fl_header(const fl_call *c, const char *key, size_t *len);
/* Receives the next message as a heap copy (*out NULL at end of stream). 0 ok, -1 failed. */
int fl_recv(fl_call *c, uint8_t **out, size_t *out_len);
/* Sends a byte buffer (consumed). 0 ok, -1 when the client is gone or cancelled. */
int fl_send_bb(fl_call *c, grpc_byte_buffer *bb);
/* Sends bytes as one message (copied). */
int fl_send(fl_call *c, const uint8_t *p, size_t n);
/* Ends the call with a status; message may be NULL. */
void fl_finish(fl_call *c, int code, const char *msg);
/* Watches for the client's end while the worker is busy elsewhere (a query computing its
 * first batch): starts the call's RECV_CLOSE_ON_SERVER now; past FL_WATCH_GRACE_MS the
 * slot's closer plucks it and fires token (borrowed until fl_unwatch_token) if the client
 * cancelled or went away before the status was sent. At most once per call. 0 ok, -1 not
 * started (the call is then noticed as before, at the next send). */
int fl_watch_close(fl_call *c, rhei_cancel *token);
/* From now on the watch fires no token: call before freeing it. */
void fl_unwatch_token(fl_call *c);

/* --- auth.c ------------------------------------------------------------------------------- */
/* Authenticates the call from its headers (Bearer session/config token, or Basic for the
 * Handshake); sets c->owner. 0 ok, else a gRPC status code with msg filled. */
int fl_authenticate(fl_call *c, int handshake, char *msg);
void fl_sessions_free(rhei_flight *f);
void fl_random_hex(char *out, size_t nhex);

/* --- registry.c: prepared statements and tickets, owned by a principal ------------------- */
typedef struct fl_params {
    struct ArrowSchema schema;
    struct ArrowArray batch; /* release == NULL when no parameters are bound */
} fl_params;

fl_registry *fl_registry_new(void);
void fl_registry_free(fl_registry *r);
/* Adds an entry; handle gets FL_HANDLE_LEN hex chars + NUL. kind: 'p' prepared, 't' ticket.
 * A ticket may name a prepared statement (prep) whose parameters it copies at redemption. */
int fl_registry_add(fl_registry *r, char kind, int owner, const char *sql, int is_update,
                    const rhei_query_opts *o, const char *prep, char *handle);
/* Looks up an entry of this owner: copies its sql (heap), is_update and opts. A ticket is
 * removed (one use). Returns 0, or FL_NOT_FOUND. */
int fl_registry_take(fl_registry *r, char kind, int owner, const char *handle, size_t hlen,
                     char **sql, int *is_update, rhei_query_opts *o, char *prep_out);
/* Binds parameters to a prepared statement (moves *p in; previous ones released). */
int fl_registry_bind(fl_registry *r, int owner, const char *handle, size_t hlen, fl_params *p);
/* Row `row` of the statement's bound parameters as rhei_values: *out (heap) and *out_mem
 * (heap text/blob bytes) are freed by the caller. *out_rows gets the bound row count (0 when
 * nothing is bound). Returns 0, FL_NOT_FOUND, or FL_INVALID with err for a type it cannot
 * bind. */
int fl_registry_params(fl_registry *r, int owner, const char *handle, int64_t row,
                       rhei_value **out, size_t *out_n, int64_t *out_rows, char **out_mem,
                       char *err);
int fl_registry_remove(fl_registry *r, int owner, const char *handle, size_t hlen);
/* Starts a ticket's DoGet: copies its sql (heap), opts and prepared handle (prep_out gets
 * FL_HANDLE_LEN + 1 bytes, "" if none), and marks it running on c until fl_registry_end.
 * Returns 0, FL_NOT_FOUND (unknown, used, expired, another principal's), or FL_CANCELLED (a
 * CancelFlightInfo came first; the ticket is gone). */
int fl_registry_start(fl_registry *r, int owner, const char *handle, size_t hlen, fl_call *c,
                      char **sql, rhei_query_opts *o, char *prep_out);
/* The DoGet on c is over (its stream released); wakes a waiting canceller. */
void fl_registry_end(fl_registry *r, fl_call *c);
/* CancelFlightInfo of one ticket: one not yet used is refused at DoGet from now on; a
 * running one has its call cancelled, waiting (bounded) until its worker released the
 * stream. Returns an FL_CANCEL_* status (NOT_CANCELLABLE: unknown, finished, expired). */
enum { FL_CANCEL_CANCELLED = 1, FL_CANCEL_CANCELLING = 2, FL_CANCEL_NOT_CANCELLABLE = 3 };
int fl_registry_cancel(fl_registry *r, int owner, const char *handle, size_t hlen);

/* --- sql.c: Flight SQL commands ---------------------------------------------------------- */
void fl_serve_call(fl_call *c, const char *method);
/* Sends a query's stream (schema with the route in its metadata, then its batches cut to
 * bounded messages), reading the next batch only after the last was sent; releases st.
 * Returns 0, or a status. */
int fl_stream_query(fl_call *c, struct ArrowArrayStream *st, const rhei_route_info *ri,
                    char *msg);
/* Sends schema + batches of an Arrow stream made by the server (consumed). */
int fl_stream_arrow(fl_call *c, struct ArrowSchema *sc, struct ArrowArray *batch, char *msg);
/* Encapsulated IPC schema bytes (heap) of a schema. */
int fl_schema_bytes(const struct ArrowSchema *sc, uint8_t **out, size_t *out_len, char *msg);

/* --- put.c: DoPut (updates, parameter binding) ------------------------------------------ */
int fl_do_put(fl_call *c, char *msg);
int fl_status_of(int rhei_rc);
/* FL_OK, or FL_INVALID with msg when a statement of sql is transaction control (BEGIN,
 * COMMIT, END, ROLLBACK, SAVEPOINT, RELEASE), as the engine's router classifies it: refused
 * on every path that writes, since the writer is shared by all clients. */
int fl_refuse_txn_control(fl_call *c, const char *sql, char *msg);

/* --- meta.c: metadata commands ------------------------------------------------------------ */
/* Handles a metadata command packed in any (GetFlightInfo: schema only; DoGet: data). */
int fl_meta_is_command(const char *type_name);
int fl_meta_schema(fl_call *c, const char *type_name, const uint8_t *v, size_t n, uint8_t **out,
                   size_t *out_len, char *msg);
int fl_meta_doget(fl_call *c, const char *type_name, const uint8_t *v, size_t n, char *msg);
#endif
