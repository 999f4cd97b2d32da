/* stream.c — sending Arrow data as FlightData messages. The FlightData protobuf is encoded
 * by hand: a small copied head (data_header and the body's tag and length) followed by the
 * IPC body pieces as gRPC slices that reference the record batch in place. A reference count
 * on each message (one per slice) keeps the batch alive until gRPC drops the last slice, not
 * merely until the send completes. Every send is awaited: a failed send means the client is
 * gone or cancelled, and the stream stops there. */
#include "flight_int.h"
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct batch_ref {
    atomic_int refs;
    struct ArrowArray batch;
} batch_ref;

typedef struct msg_ref {
    atomic_int refs;
    ipc_msg m;
    batch_ref *b;
} msg_ref;

static void batch_unref(batch_ref *b)
{
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
        if (b->batch.release)
            b->batch.release(&b->batch);
        free(b);
    }
}

static void msg_unref(void *p)
{
    msg_ref *r = p;
    if (atomic_fetch_sub(&r->refs, 1) == 1) {
        ipc_msg_free(&r->m);
        batch_unref(r->b);
        free(r);
    }
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    do {
        p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

/* FlightData{data_header = meta, data_body = body} as a byte buffer; takes r's reference. */
static grpc_byte_buffer *flight_data(msg_ref *r)
{
    const ipc_msg *m = &r->m;
    size_t nsl = 1 + m->npieces, k = 0;
    grpc_slice *sl = calloc(nsl, sizeof *sl);
    uint8_t *h = malloc(m->meta_len + 24);
    size_t at = 0;
    if (!sl || !h) {
        free(sl);
        free(h);
        msg_unref(r);
        return NULL;
    }
    h[at++] = 0x12; /* field 2, bytes */
    at += put_varint(h + at, m->meta_len);
    memcpy(h + at, m->meta, m->meta_len);
    at += m->meta_len;
    if (m->body_len) {
        h[at++] = 0xC2, h[at++] = 0x3E; /* field 1000, bytes */
        at += put_varint(h + at, m->body_len);
    }
    sl[k++] = grpc_slice_from_copied_buffer((const char *)h, at);
    free(h);
    for (size_t i = 0; i < m->npieces; i++) {
        if (!m->pieces[i].n)
            continue;
        atomic_fetch_add(&r->refs, 1);
        sl[k++] = grpc_slice_new_with_user_data((void *)m->pieces[i].p, m->pieces[i].n,
                                                msg_unref, r);
    }
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(sl, k);
    for (size_t i = 0; i < k; i++)
        grpc_slice_unref(sl[i]);
    free(sl);
    msg_unref(r);
    return bb;
}

static int send_msg(fl_call *c, msg_ref *r, char *msg)
{
    grpc_byte_buffer *bb = flight_data(r);
    if (!bb)
        return snprintf(msg, FL_ERR_MAX, "out of memory"), FL_RESOURCE;
    if (fl_send_bb(c, bb))
        return snprintf(msg, FL_ERR_MAX, "the client cancelled or went away"), FL_CANCELLED;
    return FL_OK;
}

static msg_ref *new_ref(batch_ref *b)
{
    msg_ref *r = calloc(1, sizeof *r);
    if (r) {
        atomic_init(&r->refs, 1);
        r->b = b;
        if (b)
            atomic_fetch_add(&b->refs, 1);
    }
    return r;
}

int fl_schema_bytes(const struct ArrowSchema *sc, uint8_t **out, size_t *out_len, char *msg)
{
    ipc_msg m;
    char err[IPC_ERR_MAX];
    if (ipc_schema_msg(sc, &m, err))
        return snprintf(msg, FL_ERR_MAX, "cannot describe the result: %s", err), FL_INTERNAL;
    int rc = ipc_encapsulate(&m, out, out_len);
    ipc_msg_free(&m);
    return rc ? (snprintf(msg, FL_ERR_MAX, "out of memory"), FL_RESOURCE) : FL_OK;
}

static int send_schema(fl_call *c, const struct ArrowSchema *sc, char *msg)
{
    char err[IPC_ERR_MAX];
    msg_ref *r = new_ref(NULL);
    if (!r)
        return snprintf(msg, FL_ERR_MAX, "out of memory"), FL_RESOURCE;
    if (ipc_schema_msg(sc, &r->m, err)) {
        msg_unref(r);
        return snprintf(msg, FL_ERR_MAX, "cannot describe the result: %s", err), FL_INTERNAL;
    }
    return send_msg(c, r, msg);
}

/* Sends one batch (moved into a reference-counted holder) cut into bounded slices. */
static int send_batch(fl_call *c, const struct ArrowSchema *sc, struct ArrowArray *a, char *msg)
{
    char err[IPC_ERR_MAX];
    batch_ref *b = calloc(1, sizeof *b);
    if (!b) {
        a->release(a);
        return snprintf(msg, FL_ERR_MAX, "out of memory"), FL_RESOURCE;
    }
    atomic_init(&b->refs, 1);
    b->batch = *a;
    a->release = NULL;
    int rc = FL_OK;
    for (int64_t at = 0; rc == FL_OK && at < b->batch.length;) {
        int64_t n = ipc_rows_fitting(sc, &b->batch, at, IPC_TARGET_BYTES);
        msg_ref *r = new_ref(b);
        if (!r) {
            rc = FL_RESOURCE;
            snprintf(msg, FL_ERR_MAX, "out of memory");
        } else if (ipc_batch_msg(sc, &b->batch, at, n, c->codec, &r->m, err)) {
            msg_unref(r);
            rc = FL_INTERNAL;
            snprintf(msg, FL_ERR_MAX, "cannot encode the result: %s", err);
        } else if (c->codec == IPC_COMP_NONE && (int64_t)r->m.body_len > IPC_MAX_MESSAGE) {
            msg_unref(r);
            rc = FL_RESOURCE;
            snprintf(msg, FL_ERR_MAX, "row %lld is larger than one Flight message may be "
                     "(3.5 MiB)", (long long)at);
        } else {
            rc = send_msg(c, r, msg);
        }
        at += n;
    }
    batch_unref(b);
    return rc;
}

int fl_stream_arrow(fl_call *c, struct ArrowSchema *sc, struct ArrowArray *batch, char *msg)
{
    int rc = send_schema(c, sc, msg);
    if (rc == FL_OK && batch && batch->length > 0)
        rc = send_batch(c, sc, batch, msg);
    if (batch && batch->release)
        batch->release(batch);
    return rc;
}

/* Schema metadata naming the side that answered and why: {"rhei.side", "rhei.reason"}. */
static char *side_metadata(rhei_side s, const char *reason)
{
    const char *side = s == RHEI_SIDE_OLTP ? "oltp" : "olap";
    const char *kv[4] = {"rhei.side", side, "rhei.reason", reason ? reason : ""};
    size_t bytes = 4;
    for (int i = 0; i < 4; i++)
        bytes += 4 + strlen(kv[i]);
    char *m = malloc(bytes), *at = m + 4;
    if (!m)
        return NULL;
    int32_t n = 2;
    memcpy(m, &n, 4);
    for (int i = 0; i < 4; i++) {
        int32_t l = (int32_t)strlen(kv[i]);
        memcpy(at, &l, 4);
        memcpy(at + 4, kv[i], (size_t)l);
        at += 4 + l;
    }
    return m;
}

int fl_stream_query(fl_call *c, struct ArrowArrayStream *st, const rhei_route_info *ri,
                    char *msg)
{
    struct ArrowSchema sc;
    struct ArrowArray a;
    char *md = side_metadata(ri->side, ri->reason);
    if (st->get_schema(st, &sc)) {
        snprintf(msg, FL_ERR_MAX, "cannot export the result: %s", st->get_last_error(st));
        st->release(st);
        free(md);
        return FL_INTERNAL;
    }
    const char *own_md = sc.metadata;
    sc.metadata = md; /* borrowed for the schema message only */
    int rc = send_schema(c, &sc, msg);
    sc.metadata = own_md;
    free(md);
    /* One batch at a time: the next is read from the engine only once the last one's every
     * message was sent (each send is awaited), so a slow client holds the query back instead
     * of letting batches pile up here. */
    while (rc == FL_OK) {
        memset(&a, 0, sizeof a);
        int erc = atomic_load(&c->cancelled) ? 0 : st->get_next(st, &a);
        if (atomic_load(&c->cancelled)) {
            if (!erc && a.release)
                a.release(&a);
            rc = FL_CANCELLED;
            snprintf(msg, FL_ERR_MAX, "the query was cancelled (CancelFlightInfo)");
        } else if (erc) {
            snprintf(msg, FL_ERR_MAX, "%s", st->get_last_error(st) ? st->get_last_error(st)
                                                                    : "the query failed");
            rc = erc == EINTR || erc == ECANCELED ? FL_CANCELLED : FL_INTERNAL;
        } else if (!a.release) {
            break;
        } else {
            rc = send_batch(c, &sc, &a, msg);
        }
    }
    sc.release(&sc);
    if (rc == FL_CANCELLED) /* a failed send: interrupt DuckDB at once, before its teardown */
        rhei_cancel_fire(c->cancel);
    st->release(st); /* stops the query if the client went away: DuckDB drops the result */
    return rc;
}
