/* put.c — DoPut: statement updates (CommandStatementUpdate, CommandPreparedStatementUpdate)
 * through rhei_execute_batch, so every row of a parameter batch commits together or not at
 * all and is captured and replicated like any write; and parameter binding for prepared
 * queries (CommandPreparedStatementQuery). Writes are refused unless [flight] allow_writes;
 * transaction control is refused on every write path (fl_refuse_txn_control). Parameter
 * batches are untrusted IPC and go through the verifying reader. */
#include "flight_int.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TYPE_PREFIX "type.googleapis.com/arrow.flight.protocol.sql."
#define MAX_PARAM_ROWS 100000

typedef struct put_in {
    Rhei__Flight__FlightData *first;
    const char *name;
    Rhei__Flight__Any *cmd;
} put_in;

static int fail(char *msg, int code, const char *text)
{
    snprintf(msg, FL_ERR_MAX, "%s", text);
    return code;
}

/* Reads the parameter stream (the first message's header may already be the schema): the
 * schema and the first record batch, draining any further messages. */
static int read_params(fl_call *c, Rhei__Flight__FlightData *first, fl_params *p, char *msg)
{
    char err[IPC_ERR_MAX];
    int have_schema = 0, rc = FL_OK;
    memset(p, 0, sizeof *p);
    Rhei__Flight__FlightData *d = first;
    for (;;) {
        if (d && d->has_data_header && d->data_header.len) {
            int t = ipc_message_type(d->data_header.data, d->data_header.len);
            if (t == 1 && !have_schema) {
                if (ipc_read_schema(d->data_header.data, d->data_header.len, &p->schema, err))
                    rc = FL_INVALID, snprintf(msg, FL_ERR_MAX, "parameters: %s", err);
                have_schema = rc == FL_OK;
            } else if (t == 3 && have_schema && !p->batch.release && rc == FL_OK) {
                if (ipc_read_batch(&p->schema, d->data_header.data, d->data_header.len,
                                   d->data_body.data, d->data_body.len, &p->batch, err))
                    rc = FL_INVALID, snprintf(msg, FL_ERR_MAX, "parameters: %s", err);
                else if (p->batch.length > MAX_PARAM_ROWS)
                    rc = FL_INVALID, snprintf(msg, FL_ERR_MAX, "more than %d parameter rows", MAX_PARAM_ROWS);
            } else if (t == 2 && rc == FL_OK) {
                rc = FL_INVALID, snprintf(msg, FL_ERR_MAX, "parameters: dictionary-encoded "
                                          "columns are not supported (send plain columns)");
            } else if (t != 1 && t != 3 && rc == FL_OK) {
                rc = FL_INVALID, snprintf(msg, FL_ERR_MAX, "parameters: unexpected IPC message");
            }
        }
        if (d != first)
            rhei__flight__flight_data__free_unpacked(d, NULL);
        uint8_t *raw;
        size_t n;
        if (fl_recv(c, &raw, &n))
            return fail(msg, FL_CANCELLED, "the client went away");
        if (!raw)
            break;
        d = rhei__flight__flight_data__unpack(NULL, n, raw);
        free(raw);
        if (!d && rc == FL_OK)
            rc = fail(msg, FL_INVALID, "malformed FlightData");
    }
    return rc;
}

static int drain(fl_call *c)
{
    for (;;) {
        uint8_t *raw;
        size_t n;
        if (fl_recv(c, &raw, &n))
            return -1;
        if (!raw)
            return 0;
        free(raw);
    }
}

static int send_put_result(fl_call *c, const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *p = malloc(n + 1);
    if (!p)
        return -1;
    protobuf_c_message_pack(m, p);
    Rhei__Flight__PutResult r = RHEI__FLIGHT__PUT_RESULT__INIT;
    r.has_app_metadata = 1, r.app_metadata.data = p, r.app_metadata.len = n;
    size_t rn = rhei__flight__put_result__get_packed_size(&r);
    uint8_t *rp = malloc(rn + 1);
    int rc = -1;
    if (rp) {
        rhei__flight__put_result__pack(&r, rp);
        rc = fl_send(c, rp, rn);
    }
    free(rp);
    free(p);
    return rc;
}

static int send_count(fl_call *c, int64_t changes, char *msg)
{
    Rhei__Flight__DoPutUpdateResult u = RHEI__FLIGHT__DO_PUT_UPDATE_RESULT__INIT;
    u.has_record_count = 1, u.record_count = changes;
    return send_put_result(c, &u.base) ? fail(msg, FL_CANCELLED, "the client went away") : FL_OK;
}

static int engine_fail(fl_call *c, int rc, char *msg)
{
    snprintf(msg, FL_ERR_MAX, "%s", rhei_errmsg(c->f->db));
    return fl_status_of(rc);
}

/* Flight SQL calls share the engine's one SQLite writer and have no session to tie a
 * transaction to: a BEGIN from one client would hold every other client's acknowledged
 * writes in its transaction, for anyone's ROLLBACK (or shutdown) to discard. Each statement
 * of a script is classified on its own, since the router names only a script's first write. */
int fl_refuse_txn_control(fl_call *c, const char *sql, char *msg)
{
    size_t len = strlen(sql), pos = 0, start, n;
    int rc = FL_OK;
    for (int i = 1; rc == FL_OK && rhei_sql_statement(sql, len, &pos, &start, &n); i++) {
        rhei_route_info ri;
        char *one = strndup(sql + start, n);
        if (!one)
            return fail(msg, FL_RESOURCE, "out of memory");
        if (rhei_explain_route(c->f->db, one, &ri) == RHEI_OK && ri.code == RHEI_ROUTE_TXN_CONTROL)
            rc = FL_INVALID, snprintf(msg, FL_ERR_MAX,
                                      "cannot run '%.60s' (statement %d): "
                                      "transaction control is not supported over Flight SQL "
                                      "(each update commits on its own)",
                                      one, i);
        free(one);
    }
    return rc;
}

static int statement_update(fl_call *c, const put_in *in, char *msg)
{
    Rhei__Flight__CommandStatementUpdate *q =
        rhei__flight__command_statement_update__unpack(NULL, in->cmd->value.len, in->cmd->value.data);
    int rc;
    int64_t changes = 0;
    if (!q || !q->query) {
        rc = fail(msg, FL_INVALID, "CommandStatementUpdate without a query");
    } else if ((rc = fl_refuse_txn_control(c, q->query, msg)) != FL_OK) {
        ;
    } else if (drain(c)) {
        rc = fail(msg, FL_CANCELLED, "the client went away");
    } else {
        int erc = rhei_execute(c->f->db, q->query, NULL, 0, &changes);
        rc = erc == RHEI_OK ? send_count(c, changes, msg) : engine_fail(c, erc, msg);
    }
    if (q)
        rhei__flight__command_statement_update__free_unpacked(q, NULL);
    return rc;
}

/* Executes a prepared update once per bound parameter row, all in one transaction. */
static int run_prepared_update(fl_call *c, const char *h, const char *sql, char *msg)
{
    int64_t rows = 0, changes = 0;
    rhei_value *v = NULL;
    size_t nv = 0;
    char *mem = NULL;
    int rc = fl_registry_params(c->f->reg, c->owner, h, 0, &v, &nv, &rows, &mem, msg);
    if (rc != FL_OK)
        return rc;
    size_t nst = rows > 0 ? (size_t)rows : 1;
    rhei_statement *st = calloc(nst, sizeof *st);
    rhei_value **vals = calloc(nst, sizeof *vals);
    char **mems = calloc(nst, sizeof *mems);
    if (!st || !vals || !mems)
        rc = fail(msg, FL_RESOURCE, "out of memory");
    for (size_t i = 0; rc == FL_OK && i < nst; i++) {
        if (i == 0)
            vals[0] = v, mems[0] = mem, v = NULL, mem = NULL;
        else
            rc = fl_registry_params(c->f->reg, c->owner, h, (int64_t)i, &vals[i], &nv, &rows,
                                    &mems[i], msg);
        st[i].sql = sql;
        st[i].params = vals[i];
        st[i].nparams = rows > 0 ? nv : 0;
    }
    if (rc == FL_OK) {
        int erc = rhei_execute_batch(c->f->db, st, nst, &changes);
        rc = erc == RHEI_OK ? send_count(c, changes, msg) : engine_fail(c, erc, msg);
    }
    for (size_t i = 0; vals && mems && i < nst; i++)
        free(vals[i]), free(mems[i]);
    free(v);
    free(mem);
    free(st);
    free(vals);
    free(mems);
    return rc;
}

/* CommandPreparedStatementQuery (bind) or CommandPreparedStatementUpdate (bind and run). */
static int prepared(fl_call *c, const put_in *in, int update, char *msg)
{
    Rhei__Flight__CommandPreparedStatementQuery *q =
        rhei__flight__command_prepared_statement_query__unpack(NULL, in->cmd->value.len,
                                                               in->cmd->value.data);
    char h[FL_HANDLE_LEN + 1], *sql = NULL;
    int upd = 0, rc;
    rhei_query_opts o;
    fl_params p;
    memset(&p, 0, sizeof p);
    if (!q || q->prepared_statement_handle.len != FL_HANDLE_LEN) {
        rc = fail(msg, FL_INVALID, "unknown prepared statement handle");
        goto done;
    }
    memcpy(h, q->prepared_statement_handle.data, FL_HANDLE_LEN);
    h[FL_HANDLE_LEN] = '\0';
    rc = fl_registry_take(c->f->reg, 'p', c->owner, h, FL_HANDLE_LEN, &sql, &upd, &o, NULL);
    if (rc != FL_OK) {
        fail(msg, rc, "unknown prepared statement handle");
        goto done;
    }
    if (update && (rc = fl_refuse_txn_control(c, sql, msg)) != FL_OK)
        goto done;
    if ((rc = read_params(c, in->first, &p, msg)) != FL_OK)
        goto done;
    /* a query's DoGet runs once, with one row: more rows would be ignored without a word */
    if (!update && p.batch.release && p.batch.length > 1) {
        rc = FL_INVALID;
        snprintf(msg, FL_ERR_MAX,
                 "a query takes one row of parameters, not %lld (run it once "
                 "per row; updates take several)",
                 (long long)p.batch.length);
        goto done;
    }
    if (p.schema.release && (rc = fl_registry_bind(c->f->reg, c->owner, h, FL_HANDLE_LEN, &p)) != FL_OK) {
        fail(msg, rc, "the prepared statement was closed");
        goto done;
    }
    if (update) {
        rc = run_prepared_update(c, h, sql, msg);
    } else {
        Rhei__Flight__DoPutPreparedStatementResult r = RHEI__FLIGHT__DO_PUT_PREPARED_STATEMENT_RESULT__INIT;
        r.has_prepared_statement_handle = 1;
        r.prepared_statement_handle.data = (uint8_t *)h;
        r.prepared_statement_handle.len = FL_HANDLE_LEN;
        rc = send_put_result(c, &r.base) ? fail(msg, FL_CANCELLED, "the client went away") : FL_OK;
    }
done:
    if (p.batch.release)
        p.batch.release(&p.batch);
    if (p.schema.release)
        p.schema.release(&p.schema);
    free(sql);
    if (q)
        rhei__flight__command_prepared_statement_query__free_unpacked(q, NULL);
    return rc;
}

int fl_do_put(fl_call *c, char *msg)
{
    uint8_t *raw;
    size_t n;
    put_in in = {NULL, "", NULL};
    int rc;
    if (fl_recv(c, &raw, &n) || !raw)
        return fail(msg, FL_INVALID, "DoPut without a message");
    in.first = rhei__flight__flight_data__unpack(NULL, n, raw);
    free(raw);
    if (in.first && in.first->flight_descriptor && in.first->flight_descriptor->has_cmd)
        in.cmd = rhei__flight__any__unpack(NULL, in.first->flight_descriptor->cmd.len,
                                           in.first->flight_descriptor->cmd.data);
    if (in.cmd && in.cmd->type_url && !strncmp(in.cmd->type_url, TYPE_PREFIX, strlen(TYPE_PREFIX)))
        in.name = in.cmd->type_url + strlen(TYPE_PREFIX);
    int write = !strcmp(in.name, "CommandStatementUpdate") ||
                !strcmp(in.name, "CommandPreparedStatementUpdate");
    if (!in.cmd)
        rc = fail(msg, FL_INVALID, "DoPut needs a descriptor with a Flight SQL command");
    else if (write && !c->f->opts.allow_writes)
        rc = fail(msg, FL_PERMISSION, "writes are disabled on this server ([flight] allow_writes = true enables them)");
    else if (!strcmp(in.name, "CommandStatementUpdate"))
        rc = statement_update(c, &in, msg);
    else if (!strcmp(in.name, "CommandPreparedStatementUpdate"))
        rc = prepared(c, &in, 1, msg);
    else if (!strcmp(in.name, "CommandPreparedStatementQuery"))
        rc = prepared(c, &in, 0, msg);
    else
        rc = FL_UNIMPLEMENTED, snprintf(msg, FL_ERR_MAX, "DoPut of '%s' is not supported", in.name);
    if (in.cmd)
        rhei__flight__any__free_unpacked(in.cmd, NULL);
    if (in.first)
        rhei__flight__flight_data__free_unpacked(in.first, NULL);
    return rc;
}
