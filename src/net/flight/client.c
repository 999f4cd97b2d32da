/* client.c — a minimal Flight SQL client on gRPC's C core: GetFlightInfo(CommandStatementQuery)
 * then DoGet of its one ticket, counting rows and bytes without decoding or copying bodies.
 * For the benchmark (bench/w_flight.c) and tests: it measures the server, not a client
 * library, so it costs what a zero-copy Arrow client would (gRPC's receive, one header copy). */
#include "fb.h"
#include "flight_int.h"
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SVC "/arrow.flight.protocol.FlightService/"

struct rhei_flight_client {
    grpc_channel *ch;
    grpc_completion_queue *cq;
};

int rhei_flight_client_open(const char *target, rhei_flight_client **out)
{
    grpc_init();
    rhei_flight_client *c = calloc(1, sizeof *c);
    *out = NULL;
    if (!c)
        return -1;
    /* A local subchannel pool: each client its own TCP connection, as separate client
     * processes would have (gRPC otherwise shares one connection between channels). */
    grpc_arg args[2] = {
        {GRPC_ARG_INTEGER, GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, {.integer = 64 << 20}},
        {GRPC_ARG_INTEGER, GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, {.integer = 1}}};
    grpc_channel_args ca = {2, args};
    grpc_channel_credentials *cr = grpc_insecure_credentials_create();
    c->ch = grpc_channel_create(target, cr, &ca);
    grpc_channel_credentials_release(cr);
    c->cq = grpc_completion_queue_create_for_pluck(NULL);
    *out = c;
    return 0;
}

void rhei_flight_client_close(rhei_flight_client *c)
{
    if (!c)
        return;
    grpc_channel_destroy(c->ch);
    grpc_completion_queue_shutdown(c->cq);
    grpc_completion_queue_destroy(c->cq);
    free(c);
    grpc_shutdown();
}

static int run(rhei_flight_client *c, grpc_call *call, grpc_op *ops, size_t n)
{
    void *tag = ops;
    if (grpc_call_start_batch(call, ops, n, tag, NULL) != GRPC_CALL_OK)
        return -1;
    grpc_event ev = grpc_completion_queue_pluck(c->cq, tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    return ev.success ? 0 : -1;
}

static uint8_t *read_bb(grpc_byte_buffer *bb, size_t *n)
{
    grpc_byte_buffer_reader rd;
    uint8_t *p = NULL;
    *n = 0;
    if (grpc_byte_buffer_reader_init(&rd, bb)) {
        grpc_slice s = grpc_byte_buffer_reader_readall(&rd);
        *n = GRPC_SLICE_LENGTH(s);
        if ((p = malloc(*n + 1)))
            memcpy(p, GRPC_SLICE_START_PTR(s), *n);
        grpc_slice_unref(s);
        grpc_byte_buffer_reader_destroy(&rd);
    }
    return p;
}

/* One call: sends req, calls on_msg for each answer; 0 or -1 with the status in err. */
static int call(rhei_flight_client *c, const char *method, const uint8_t *req, size_t n,
                const char *compression, int delay_us, int (*on_msg)(void *, grpc_byte_buffer *),
                void *arg, char *err, size_t errlen)
{
    grpc_slice m = grpc_slice_from_copied_string(method);
    grpc_call *cl = grpc_channel_create_call(c->ch, NULL, GRPC_PROPAGATE_DEFAULTS, c->cq, m, NULL,
                                             gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    grpc_slice_unref(m);
    grpc_metadata md = {grpc_slice_from_static_string("x-arrow-compression"),
                        grpc_slice_from_copied_string(compression ? compression : "none"), {{NULL, NULL, NULL, NULL}}};
    grpc_slice body = grpc_slice_from_copied_buffer((const char *)req, n);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&body, 1), *in = NULL;
    grpc_metadata_array init, trail;
    grpc_metadata_array_init(&init);
    grpc_metadata_array_init(&trail);
    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = 1;
    ops[0].data.send_initial_metadata.metadata = &md;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = bb;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &init;
    int rc = run(c, cl, ops, 4);
    while (rc == 0) {
        grpc_op r;
        memset(&r, 0, sizeof r);
        r.op = GRPC_OP_RECV_MESSAGE;
        r.data.recv_message.recv_message = &in;
        if (run(c, cl, &r, 1) || !in)
            break;
        rc = on_msg(arg, in) == 0 ? 0 : -1;
        grpc_byte_buffer_destroy(in);
        in = NULL;
        if (delay_us > 0) {
            struct timespec ts = {delay_us / 1000000, (delay_us % 1000000) * 1000L};
            nanosleep(&ts, NULL);
        }
    }
    grpc_status_code st = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();
    grpc_op s;
    memset(&s, 0, sizeof s);
    s.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    s.data.recv_status_on_client.trailing_metadata = &trail;
    s.data.recv_status_on_client.status = &st;
    s.data.recv_status_on_client.status_details = &details;
    if (rc)
        grpc_call_cancel(cl, NULL);
    run(c, cl, &s, 1);
    if (st != GRPC_STATUS_OK || rc) {
        snprintf(err, errlen, "%s: status %d: %.*s", method, (int)st, (int)GRPC_SLICE_LENGTH(details),
                 (const char *)GRPC_SLICE_START_PTR(details));
        rc = -1;
    }
    grpc_slice_unref(details);
    grpc_slice_unref(body);
    grpc_slice_unref(md.value);
    grpc_byte_buffer_destroy(bb);
    grpc_metadata_array_destroy(&init);
    grpc_metadata_array_destroy(&trail);
    grpc_call_unref(cl);
    return rc;
}

static int keep_info(void *arg, grpc_byte_buffer *bb)
{
    Rhei__Flight__FlightInfo **fi = arg;
    size_t n;
    uint8_t *p = read_bb(bb, &n);
    if (*fi || !p) {
        free(p);
        return -1;
    }
    *fi = rhei__flight__flight_info__unpack(NULL, n, p);
    free(p);
    return *fi ? 0 : -1;
}

static uint64_t varint(const uint8_t **p, const uint8_t *end)
{
    uint64_t v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    return v;
}

/* Counts rows (RecordBatch.length of the header) and bytes of a FlightData whose fields lie
 * in p[0, n) of a message of total bytes: a field past n is only measured (the body is never
 * read or copied, as a client that hands the body to Arrow in place). 1 when a field this
 * needs lies past n. */
static int count_fields(rhei_flight_stats *s, const uint8_t *p, size_t n, size_t total)
{
    const uint8_t *at = p, *end = p + n;
    size_t pos = 0;
    while (pos < total) {
        if (end - at < 20 && (size_t)(end - at) < total - pos)
            return 1; /* the next key and length may run past the copied prefix */
        const uint8_t *f = at;
        uint64_t key = varint(&at, end);
        if ((key & 7) != 2)
            return -1; /* FlightData has only length-delimited fields */
        uint64_t len = varint(&at, end);
        pos += (size_t)(at - f);
        if (len > total - pos)
            return -1;
        if (key >> 3 == 2) {
            fb_table msg, rb;
            if (len > (uint64_t)(end - at))
                return 1;
            if (fb_root(at, (size_t)len, &msg) == 0 && fb_get_int(&msg, 1, 1, 0) == 3 &&
                fb_get_table(&msg, 2, &rb) == 0)
                s->rows += fb_get_int(&rb, 0, 8, 0);
        }
        if (key >> 3 == 1000)
            s->body_bytes += (int64_t)len;
        pos += (size_t)len;
        at = len < (uint64_t)(end - at) ? at + len : end;
    }
    s->messages++;
    s->wire_bytes += (int64_t)total;
    return 0;
}

/* The FlightData's leading bytes are copied out of gRPC's slices (its header), the rest is
 * left where gRPC received it; a header longer than the prefix takes the whole message. */
static int count(void *arg, grpc_byte_buffer *bb)
{
    rhei_flight_stats *s = arg;
    uint8_t head[16384];
    size_t total = grpc_byte_buffer_length(bb), n = 0;
    grpc_byte_buffer_reader rd;
    grpc_slice *sl;
    if (!grpc_byte_buffer_reader_init(&rd, bb))
        return -1;
    while (n < sizeof head && grpc_byte_buffer_reader_peek(&rd, &sl)) {
        size_t k =
            GRPC_SLICE_LENGTH(*sl) < sizeof head - n ? GRPC_SLICE_LENGTH(*sl) : sizeof head - n;
        memcpy(head + n, GRPC_SLICE_START_PTR(*sl), k);
        n += k;
    }
    grpc_byte_buffer_reader_destroy(&rd);
    int rc = count_fields(s, head, n, total);
    if (rc == 1) {
        uint8_t *p = read_bb(bb, &n);
        rc = p ? count_fields(s, p, n, total) : -1;
        free(p);
    }
    return rc;
}

int rhei_flight_client_query(rhei_flight_client *c, const char *sql, const char *compression,
                             int delay_us, rhei_flight_stats *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    Rhei__Flight__CommandStatementQuery q = RHEI__FLIGHT__COMMAND_STATEMENT_QUERY__INIT;
    q.query = (char *)sql;
    size_t qn = rhei__flight__command_statement_query__get_packed_size(&q);
    uint8_t *qb = malloc(qn + 1);
    if (!qb)
        return -1;
    rhei__flight__command_statement_query__pack(&q, qb);
    Rhei__Flight__Any a = RHEI__FLIGHT__ANY__INIT;
    a.type_url = "type.googleapis.com/arrow.flight.protocol.sql.CommandStatementQuery";
    a.has_value = 1, a.value.data = qb, a.value.len = qn;
    size_t an = rhei__flight__any__get_packed_size(&a);
    uint8_t *ab = malloc(an + 1);
    Rhei__Flight__FlightDescriptor d = RHEI__FLIGHT__FLIGHT_DESCRIPTOR__INIT;
    Rhei__Flight__FlightInfo *fi = NULL;
    int rc = -1;
    if (ab) {
        rhei__flight__any__pack(&a, ab);
        d.has_type = 1, d.type = RHEI__FLIGHT__FLIGHT_DESCRIPTOR__DESCRIPTOR_TYPE__CMD;
        d.has_cmd = 1, d.cmd.data = ab, d.cmd.len = an;
        size_t dn = rhei__flight__flight_descriptor__get_packed_size(&d);
        uint8_t *db = malloc(dn + 1);
        if (db) {
            rhei__flight__flight_descriptor__pack(&d, db);
            rc = call(c, SVC "GetFlightInfo", db, dn, compression, 0, keep_info, &fi, err, errlen);
            free(db);
        }
    }
    if (rc == 0 && fi && fi->n_endpoint == 1 && fi->endpoint[0]->ticket) {
        Rhei__Flight__Ticket *t = fi->endpoint[0]->ticket;
        size_t tn = rhei__flight__ticket__get_packed_size(t);
        uint8_t *tb = malloc(tn + 1);
        rc = -1;
        if (tb) {
            rhei__flight__ticket__pack(t, tb);
            rc = call(c, SVC "DoGet", tb, tn, compression, delay_us, count, out, err, errlen);
            free(tb);
        }
    } else if (rc == 0) {
        rc = -1;
        snprintf(err, errlen, "GetFlightInfo: no endpoint");
    }
    if (fi)
        rhei__flight__flight_info__free_unpacked(fi, NULL);
    free(ab);
    free(qb);
    return rc;
}
