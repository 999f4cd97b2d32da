/* transport.c — the gRPC C core side of the Flight server: max_calls slots, each with its
 * own worker thread and pluck queue, registered with the server so a slot's request for a
 * new call completes on the queue its worker already waits on (no thread in between: a hop
 * through a dispatcher cost each call a wake-up, ~0.1 ms on a busy machine). A call's sends
 * block only its worker (back-pressure comes from waiting on every SEND_MESSAGE). Methods
 * are dispatched by name: no generated service code. A second thread per slot, the closer,
 * plucks the RECV_CLOSE_ON_SERVER of a DoGet that runs past a few ms, so a client's cancel
 * reaches the query while the worker is inside the engine. Invariants: a slot has at most
 * one outstanding request or call, and its call's close op is plucked before the call is
 * released. The server's own queue only reports the end of shutdown. */
#include "flight_int.h"
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static gpr_timespec forever(void) { return gpr_inf_future(GPR_CLOCK_REALTIME); }

/* Waits for the batch tagged tag on the slot's queue; returns ev.success. */
static int run_batch(fl_call *c, const grpc_op *ops, size_t n)
{
    void *tag = (void *)ops;
    if (grpc_call_start_batch(c->call, ops, n, tag, NULL) != GRPC_CALL_OK)
        return 0;
    grpc_event ev = grpc_completion_queue_pluck(c->slot->cq, tag, forever(), NULL);
    return ev.type == GRPC_OP_COMPLETE && ev.success;
}

/* As run_batch, for a batch that waits on the client (a message or the status held by
 * HTTP/2 flow control while the client reads nothing): past the server's send timeout the
 * call is cancelled, which completes the batch as failed, so the stream stops as for a client
 * gone and the slot serves others. The tag is always plucked before returning. */
static int run_batch_bounded(fl_call *c, const grpc_op *ops, size_t n)
{
    void *tag = (void *)ops;
    int ms =
        c->f->opts.send_timeout_ms > 0 ? c->f->opts.send_timeout_ms : RHEI_FLIGHT_SEND_TIMEOUT_MS;
    if (grpc_call_start_batch(c->call, ops, n, tag, NULL) != GRPC_CALL_OK)
        return 0;
    gpr_timespec until =
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
    grpc_event ev = grpc_completion_queue_pluck(c->slot->cq, tag, until, NULL);
    if (ev.type == GRPC_QUEUE_TIMEOUT) {
        grpc_call_cancel_with_status(c->call, GRPC_STATUS_DEADLINE_EXCEEDED,
                                     "the client read nothing within the server's send timeout",
                                     NULL);
        fl_count(&c->f->sends_timed_out, 1);
        ev = grpc_completion_queue_pluck(c->slot->cq, tag, forever(), NULL);
        return 0;
    }
    return ev.type == GRPC_OP_COMPLETE && ev.success;
}

const char *fl_header(const fl_call *c, const char *key, size_t *len)
{
    const grpc_metadata_array *md = &c->slot->md;
    for (size_t i = 0; i < md->count; i++)
        if (grpc_slice_str_cmp(md->metadata[i].key, key) == 0) {
            *len = GRPC_SLICE_LENGTH(md->metadata[i].value);
            return (const char *)GRPC_SLICE_START_PTR(md->metadata[i].value);
        }
    *len = 0;
    return NULL;
}

/* Initial metadata goes with the first message or the status, whichever comes first. */
static size_t add_initial(fl_call *c, grpc_op *op)
{
    if (c->sent_initial)
        return 0;
    c->sent_initial = 1;
    memset(op, 0, sizeof *op);
    op->op = GRPC_OP_SEND_INITIAL_METADATA;
    op->data.send_initial_metadata.count = c->nout_md;
    op->data.send_initial_metadata.metadata = c->nout_md ? c->out_md : NULL;
    return 1;
}

int fl_recv(fl_call *c, uint8_t **out, size_t *out_len)
{
    grpc_byte_buffer *bb = NULL;
    grpc_op op;
    *out = NULL;
    *out_len = 0;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &bb;
    if (!run_batch(c, &op, 1))
        return -1;
    if (!bb)
        return 0;
    grpc_byte_buffer_reader rd;
    int rc = -1;
    if (grpc_byte_buffer_reader_init(&rd, bb)) {
        grpc_slice s = grpc_byte_buffer_reader_readall(&rd);
        size_t n = GRPC_SLICE_LENGTH(s);
        fl_count(&c->f->bytes_received, (int64_t)n);
        if ((*out = malloc(n + 1))) {
            memcpy(*out, GRPC_SLICE_START_PTR(s), n);
            *out_len = n;
            rc = 0;
        }
        grpc_slice_unref(s);
        grpc_byte_buffer_reader_destroy(&rd);
    }
    grpc_byte_buffer_destroy(bb);
    return rc;
}

int fl_send_bb(fl_call *c, grpc_byte_buffer *bb)
{
    grpc_op ops[2];
    size_t n = add_initial(c, &ops[0]);
    memset(&ops[n], 0, sizeof ops[n]);
    ops[n].op = GRPC_OP_SEND_MESSAGE;
    ops[n].data.send_message.send_message = bb;
    int64_t bytes = (int64_t)grpc_byte_buffer_length(bb);
    int ok = run_batch_bounded(c, ops, n + 1);
    if (ok)
        fl_count(&c->f->bytes_sent, bytes);
    grpc_byte_buffer_destroy(bb);
    return ok ? 0 : -1;
}

int fl_send(fl_call *c, const uint8_t *p, size_t n)
{
    grpc_slice s = grpc_slice_from_copied_buffer((const char *)p, n);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    return fl_send_bb(c, bb);
}

void fl_finish(fl_call *c, int code, const char *msg)
{
    grpc_op ops[3];
    int cancelled = 0;
    size_t n = add_initial(c, &ops[0]);
    grpc_slice details = grpc_slice_from_copied_string(msg ? msg : "");
    memset(&ops[n], 0, 2 * sizeof ops[0]);
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = (grpc_status_code)code;
    ops[n].data.send_status_from_server.status_details = &details;
    ops[n + 1].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n + 1].data.recv_close_on_server.cancelled = &cancelled;
    /* A watched call's close op is already started (one per call) and completes once the
     * status is out; should the status not even start, only a cancel ends the call. */
    size_t nops = c->close_watched ? n + 1 : n + 2;
    /* the status queues behind unsent messages: a client that stopped reading holds it too */
    if (!run_batch_bounded(c, ops, nops) && c->close_watched)
        grpc_call_cancel(c->call, NULL);
    grpc_slice_unref(details);
}

/* --- close watch ---------------------------------------------------------------------------- */

int fl_watch_close(fl_call *c, rhei_cancel *token)
{
    fl_slot *s = c->slot;
    grpc_op op;
    if (c->close_watched)
        return -1;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op.data.recv_close_on_server.cancelled = &s->close_cancelled;
    pthread_mutex_lock(&s->mu);
    s->close_cancelled = 0;
    s->close_token = token;
    if (grpc_call_start_batch(c->call, &op, 1, &s->close_tag, NULL) != GRPC_CALL_OK) {
        s->close_token = NULL;
        pthread_mutex_unlock(&s->mu);
        return -1;
    }
    c->close_watched = 1;
    s->watch = FL_WATCH_PENDING;
    clock_gettime(CLOCK_MONOTONIC, &s->watch_since);
    if (s->closer_idle) /* else it is in a timed wait and will see this watch when it ends */
        pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

void fl_unwatch_token(fl_call *c)
{
    pthread_mutex_lock(&c->slot->mu);
    c->slot->close_token = NULL;
    pthread_mutex_unlock(&c->slot->mu);
}

/* Drains the close op's tag, which must leave the queue before the call is unreferenced (the
 * op completes once the status is out, or the call is cancelled): plucks it here if the
 * closer has not taken it, else waits until the closer has. */
static void end_watch(fl_call *c)
{
    fl_slot *s = c->slot;
    if (!c->close_watched)
        return;
    pthread_mutex_lock(&s->mu);
    s->close_token = NULL;
    int mine = s->watch == FL_WATCH_PENDING;
    if (mine)
        s->watch = FL_WATCH_NONE;
    while (s->watch == FL_WATCH_CLOSER)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    if (mine)
        grpc_completion_queue_pluck(s->cq, &s->close_tag, forever(), NULL);
}

/* The deadline FL_WATCH_GRACE_MS after t. */
static struct timespec grace_end(struct timespec t)
{
    t.tv_nsec += FL_WATCH_GRACE_MS * 1000000L;
    t.tv_sec += t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    return t;
}

static int before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* The slot's second thread: takes the close op of a call that has run past the grace period,
 * so a client that cancels or disconnects while the worker is inside the engine (no send to
 * fail yet) stops the query. A short call ends before that and never waits for this thread
 * (under steady short calls it wakes about once per grace period). The token is fired under
 * mu, which fl_unwatch_token takes before the token is freed. */
static void *closer(void *arg)
{
    fl_slot *s = arg;
    struct timespec now, until;
    pthread_mutex_lock(&s->mu);
    while (!s->quit || s->watch != FL_WATCH_NONE) {
        if (s->watch != FL_WATCH_PENDING) {
            s->closer_idle = 1;
            pthread_cond_wait(&s->cv, &s->mu);
            s->closer_idle = 0;
            continue;
        }
        until = grace_end(s->watch_since);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (before(&now, &until)) {
            pthread_cond_timedwait(&s->cv, &s->mu, &until);
            continue;
        }
        s->watch = FL_WATCH_CLOSER;
        pthread_mutex_unlock(&s->mu);
        grpc_event ev = grpc_completion_queue_pluck(s->cq, &s->close_tag, forever(), NULL);
        pthread_mutex_lock(&s->mu);
        if (ev.type == GRPC_OP_COMPLETE && s->close_cancelled && s->close_token)
            rhei_cancel_fire(s->close_token);
        s->watch = FL_WATCH_NONE;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* --- slots -------------------------------------------------------------------------------- */

static void release_call(fl_slot *s)
{
    if (s->call)
        grpc_call_unref(s->call);
    s->call = NULL;
    grpc_call_details_destroy(&s->details);
    grpc_metadata_array_destroy(&s->md);
}

/* Asks for the next call, to complete on the slot's own queue with tag s. */
static int request(fl_slot *s)
{
    grpc_call_details_init(&s->details);
    grpc_metadata_array_init(&s->md);
    s->call = NULL;
    if (grpc_server_request_call(s->f->server, &s->call, &s->details, &s->md, s->cq, s->cq, s) ==
        GRPC_CALL_OK)
        return 0;
    release_call(s);
    return -1;
}

static void serve_one(fl_slot *s)
{
    char method[128];
    size_t n = GRPC_SLICE_LENGTH(s->details.method);
    fl_call c;
    memset(&c, 0, sizeof c);
    atomic_init(&c.cancelled, 0);
    c.f = s->f;
    c.slot = s;
    c.call = s->call;
    c.owner = -1;
    snprintf(method, sizeof method, "%.*s", (int)(n < sizeof method ? n : sizeof method - 1),
             (const char *)GRPC_SLICE_START_PTR(s->details.method));
    fl_count(&s->f->calls_total, 1);
    fl_count(&s->f->calls_active, 1);
    fl_serve_call(&c, method);
    end_watch(&c);
    fl_count(&s->f->calls_active, -1);
}

/* Serves the calls its requests bring until the server shuts down (a request then fails). */
static void *worker(void *arg)
{
    fl_slot *s = arg;
    while (!s->f->stopping && request(s) == 0) {
        grpc_event ev = grpc_completion_queue_pluck(s->cq, s, forever(), NULL);
        if (ev.type != GRPC_OP_COMPLETE || !ev.success) {
            release_call(s);
            break;
        }
        pthread_mutex_lock(&s->mu);
        s->active = 1;
        pthread_mutex_unlock(&s->mu);
        serve_one(s);
        pthread_mutex_lock(&s->mu);
        s->active = 0;
        pthread_mutex_unlock(&s->mu);
        release_call(s);
    }
    return NULL;
}

/* Waits for the shutdown notification: nothing else completes on the server's queue. */
static void *watcher(void *arg)
{
    rhei_flight *f = arg;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(f->cq, forever(), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN || (ev.type == GRPC_OP_COMPLETE && ev.tag == (void *)f))
            break;
    }
    return NULL;
}

/* --- start / stop --------------------------------------------------------------------------- */

static grpc_server_credentials *credentials(const rhei_flight_opts *o, char *err, size_t errlen)
{
    if (!o->tls_cert[0] && !o->tls_key[0])
        return grpc_insecure_server_credentials_create();
    char *pem[2] = {NULL, NULL};
    const char *paths[2] = {o->tls_cert, o->tls_key};
    for (int i = 0; i < 2; i++) {
        FILE *fp = fopen(paths[i], "rb");
        long len = -1;
        if (fp && fseek(fp, 0, SEEK_END) == 0 && (len = ftell(fp)) >= 0 && len < (1 << 20) &&
            fseek(fp, 0, SEEK_SET) == 0 && (pem[i] = calloc(1, (size_t)len + 1)) &&
            fread(pem[i], 1, (size_t)len, fp) == (size_t)len) {
            fclose(fp);
            continue;
        }
        if (fp)
            fclose(fp);
        snprintf(err, errlen, "cannot read TLS %s '%s'", i ? "key" : "certificate", paths[i]);
        free(pem[0]);
        free(pem[1]);
        return NULL;
    }
    grpc_ssl_pem_key_cert_pair pair = {pem[1], pem[0]};
    grpc_server_credentials *cr = grpc_ssl_server_credentials_create(NULL, &pair, 1, 0, NULL);
    free(pem[0]);
    free(pem[1]);
    if (!cr)
        snprintf(err, errlen, "TLS certificate or key rejected");
    return cr;
}

static int is_loopback(const char *host)
{
    return !strcmp(host, "127.0.0.1") || !strcmp(host, "localhost") || !strcmp(host, "::1") ||
           !strcmp(host, "[::1]") || !strncmp(host, "127.", 4);
}

static void free_server(rhei_flight *f)
{
    if (f->server)
        grpc_server_destroy(f->server);
    if (f->cq) {
        grpc_completion_queue_shutdown(f->cq);
        while (grpc_completion_queue_next(f->cq, forever(), NULL).type != GRPC_QUEUE_SHUTDOWN)
            ;
        grpc_completion_queue_destroy(f->cq);
    }
    for (int i = 0; f->slots && i < f->nslots; i++) {
        fl_slot *s = &f->slots[i];
        if (s->cq) {
            grpc_completion_queue_shutdown(s->cq);
            grpc_completion_queue_destroy(s->cq);
        }
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
    }
    free(f->slots);
    fl_registry_free(f->reg);
    fl_sessions_free(f);
    pthread_mutex_destroy(&f->lock);
    rhei_flight_opts_free(&f->opts);
    free(f);
    grpc_shutdown();
}

static int copy_opts(rhei_flight_opts *dst, const rhei_flight_opts *src)
{
    *dst = *src;
    for (size_t i = 0; i < src->ntokens; i++)
        if (!(dst->tokens[i] = strdup(src->tokens[i]))) {
            dst->ntokens = i;
            return -1;
        }
    return 0;
}

/* The slots' queues, registered with the server (before it starts, as gRPC requires). gRPC
 * logs that it prefers "next" queues there; a pluck queue serves, as its Ruby binding's do. */
static int make_slots(rhei_flight *f)
{
    f->nslots = f->opts.max_calls > 0 ? f->opts.max_calls : 16;
    if (!(f->slots = calloc((size_t)f->nslots, sizeof *f->slots)))
        return -1;
    for (int i = 0; i < f->nslots; i++) {
        fl_slot *s = &f->slots[i];
        s->f = f;
        s->index = i;
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_mutex_init(&s->mu, NULL);
        pthread_cond_init(&s->cv, &ca);
        pthread_condattr_destroy(&ca);
        s->cq = grpc_completion_queue_create_for_pluck(NULL);
        grpc_server_register_completion_queue(f->server, s->cq, NULL);
    }
    return 0;
}

static int start_slots(rhei_flight *f)
{
    for (int i = 0; i < f->nslots; i++)
        if (pthread_create(&f->slots[i].thread, NULL, worker, &f->slots[i]) != 0 ||
            pthread_create(&f->slots[i].closer, NULL, closer, &f->slots[i]) != 0)
            return -1; /* only at start: the caller aborts the process-level start */
    return 0;
}

int rhei_flight_start(rhei_db *db, const rhei_flight_opts *o, rhei_flight **out, char *err,
                      size_t errlen)
{
    char addr[300];
    *out = NULL;
    if (!db || !o)
        return snprintf(err, errlen, "no database or options"), -1;
    const char *host = o->host[0] ? o->host : "127.0.0.1";
    if (!is_loopback(host) && o->ntokens == 0 && !o->allow_unauthenticated) {
        snprintf(err, errlen, "refusing to serve Flight SQL on '%s' without authentication: set "
                 "[flight] tokens (or token_file), or allow_unauthenticated = true", host);
        return -1;
    }
    rhei_flight *f = calloc(1, sizeof *f);
    if (!f || copy_opts(&f->opts, o)) {
        free(f);
        return snprintf(err, errlen, "out of memory"), -1;
    }
    grpc_init();
    pthread_mutex_init(&f->lock, NULL);
    f->db = db;
    f->reg = fl_registry_new();
    grpc_arg args[3] = {
        {GRPC_ARG_INTEGER, GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, {.integer = 64 << 20}},
        {GRPC_ARG_INTEGER, GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, {.integer = 64 << 20}},
        {GRPC_ARG_INTEGER, GRPC_ARG_ALLOW_REUSEPORT, {.integer = 0}},
    };
    grpc_channel_args ca = {3, args};
    f->server = grpc_server_create(&ca, NULL);
    f->cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(f->server, f->cq, NULL);
    if (make_slots(f)) {
        snprintf(err, errlen, "out of memory");
        free_server(f);
        return -1;
    }
    grpc_server_credentials *cr = credentials(o, err, errlen);
    snprintf(addr, sizeof addr, strchr(host, ':') && host[0] != '[' ? "[%s]:%d" : "%s:%d", host,
             o->port);
    if (!f->reg || !cr || (f->port = grpc_server_add_http2_port(f->server, addr, cr)) <= 0) {
        if (f->reg && cr)
            snprintf(err, errlen, "cannot listen on %s (address in use or invalid)", addr);
        else if (!f->reg)
            snprintf(err, errlen, "out of memory");
        if (cr)
            grpc_server_credentials_release(cr);
        free_server(f);
        return -1;
    }
    grpc_server_credentials_release(cr);
    grpc_server_start(f->server);
    fl_counters_started(f);
    if (start_slots(f) || pthread_create(&f->watcher, NULL, watcher, f) != 0) {
        snprintf(err, errlen, "cannot start the Flight server's threads");
        abort(); /* threads half started cannot be joined safely: cannot continue */
    }
    *out = f;
    return 0;
}

int rhei_flight_port(const rhei_flight *f) { return f ? f->port : 0; }

void rhei_flight_stop(rhei_flight *f, int grace_ms)
{
    if (!f)
        return;
    f->stopping = 1;
    grpc_server_shutdown_and_notify(f->server, f->cq, f);
    /* running calls finish (drain) unless they outlast the grace period */
    gpr_timespec until = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                      gpr_time_from_millis(grace_ms, GPR_TIMESPAN));
    int idle = 0;
    while (!idle && gpr_time_cmp(gpr_now(GPR_CLOCK_REALTIME), until) < 0) {
        idle = 1;
        for (int i = 0; i < f->nslots; i++) {
            pthread_mutex_lock(&f->slots[i].mu);
            if (f->slots[i].active)
                idle = 0;
            pthread_mutex_unlock(&f->slots[i].mu);
        }
        if (!idle)
            gpr_sleep_until(gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                         gpr_time_from_millis(10, GPR_TIMESPAN)));
    }
    grpc_server_cancel_all_calls(f->server);
    pthread_join(f->watcher, NULL);
    for (int i = 0; i < f->nslots; i++) { /* their requests failed at shutdown: they return */
        fl_slot *s = &f->slots[i];
        pthread_join(s->thread, NULL);
        pthread_mutex_lock(&s->mu); /* its worker is gone: the closer watches nothing */
        s->quit = 1;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->closer, NULL);
    }
    free_server(f);
}
