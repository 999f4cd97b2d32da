/* sql.c — the Flight SQL commands: dispatch by gRPC method name, then by the type of the
 * Any packed in the descriptor or ticket. Queries are prepared at GetFlightInfo (their
 * schema comes from rhei_query_arrow_schema on the side the router picks, so nothing runs
 * in full) and executed once at DoGet, with the call's hint and consistency.
 * Statements and tickets live in the registry under the caller's principal. */
#include "flight_int.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SVC "/arrow.flight.protocol.FlightService/"
#define TYPE_PREFIX "type.googleapis.com/arrow.flight.protocol.sql."

/* --- Any ---------------------------------------------------------------------------------- */

/* Unpacks an Any; *name gets the Flight SQL message name (borrowed from *any). */
static Rhei__Flight__Any *any_unpack(const uint8_t *p, size_t n, const char **name)
{
    Rhei__Flight__Any *a = rhei__flight__any__unpack(NULL, n, p);
    *name = "";
    if (a && a->type_url && strncmp(a->type_url, TYPE_PREFIX, strlen(TYPE_PREFIX)) == 0)
        *name = a->type_url + strlen(TYPE_PREFIX);
    return a;
}

/* Packs msg into an Any of the given Flight SQL type; heap bytes in *out. */
static int any_pack(const ProtobufCMessage *msg, const char *name, uint8_t **out, size_t *n)
{
    char url[160];
    snprintf(url, sizeof url, TYPE_PREFIX "%s", name);
    size_t vn = protobuf_c_message_get_packed_size(msg);
    uint8_t *v = malloc(vn + 1);
    if (!v)
        return -1;
    protobuf_c_message_pack(msg, v);
    Rhei__Flight__Any a = RHEI__FLIGHT__ANY__INIT;
    a.type_url = url;
    a.has_value = 1;
    a.value.data = v;
    a.value.len = vn;
    *n = rhei__flight__any__get_packed_size(&a);
    *out = malloc(*n + 1);
    if (*out)
        rhei__flight__any__pack(&a, *out);
    free(v);
    return *out ? 0 : -1;
}

static int send_packed(fl_call *c, const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *p = malloc(n + 1);
    if (!p)
        return -1;
    protobuf_c_message_pack(m, p);
    int rc = fl_send(c, p, n);
    free(p);
    return rc;
}

/* --- engine errors and call options ------------------------------------------------------- */

int fl_status_of(int rc)
{
    switch (rc) {
    case RHEI_SQL: case RHEI_MISUSE: case RHEI_TYPE: case RHEI_CONFIG: return FL_INVALID;
    case RHEI_NOTFOUND: return FL_NOT_FOUND;
    case RHEI_CONSTRAINT: case RHEI_EXISTS: return FL_FAILED_PRECONDITION;
    case RHEI_READONLY: return FL_PERMISSION;
    case RHEI_INTERRUPTED: return FL_CANCELLED;
    case RHEI_BUSY: return FL_UNAVAILABLE;
    case RHEI_RANGE: return FL_OUT_OF_RANGE;
    case RHEI_NOMEM: case RHEI_FULL: return FL_RESOURCE;
    default: return FL_INTERNAL;
    }
}

static int engine_error(fl_call *c, int rc, char *msg)
{
    snprintf(msg, FL_ERR_MAX, "%s", rhei_errmsg(c->f->db));
    if (!msg[0])
        snprintf(msg, FL_ERR_MAX, "%s", rhei_errstr(rc));
    return fl_status_of(rc);
}

static int header_is(const fl_call *c, const char *key, const char *value)
{
    size_t n;
    const char *h = fl_header(c, key, &n);
    return h && n == strlen(value) && strncasecmp(h, value, n) == 0;
}

/* Hint, consistency and compression from request headers. */
static int call_options(fl_call *c, char *msg)
{
    size_t n;
    c->qopts.hint = RHEI_SIDE_AUTO;
    c->qopts.consistency = RHEI_EVENTUAL;
    if (header_is(c, "x-rhei-hint", "oltp"))
        c->qopts.hint = RHEI_SIDE_OLTP;
    else if (header_is(c, "x-rhei-hint", "olap"))
        c->qopts.hint = RHEI_SIDE_OLAP;
    else if (fl_header(c, "x-rhei-hint", &n) && !header_is(c, "x-rhei-hint", "auto"))
        return snprintf(msg, FL_ERR_MAX, "x-rhei-hint must be oltp, olap or auto"), FL_INVALID;
    if (header_is(c, "x-rhei-consistency", "strong"))
        c->qopts.consistency = RHEI_STRONG;
    else if (fl_header(c, "x-rhei-consistency", &n) && !header_is(c, "x-rhei-consistency", "eventual"))
        return snprintf(msg, FL_ERR_MAX, "x-rhei-consistency must be strong or eventual"), FL_INVALID;
    const char *def = c->f->opts.compression;
    c->codec = !strcmp(def, "zstd") ? IPC_COMP_ZSTD : !strcmp(def, "lz4") ? IPC_COMP_LZ4 : IPC_COMP_NONE;
    if (header_is(c, "x-arrow-compression", "zstd"))
        c->codec = IPC_COMP_ZSTD;
    else if (header_is(c, "x-arrow-compression", "lz4"))
        c->codec = IPC_COMP_LZ4;
    else if (header_is(c, "x-arrow-compression", "none"))
        c->codec = IPC_COMP_NONE;
    else if (fl_header(c, "x-arrow-compression", &n))
        return snprintf(msg, FL_ERR_MAX, "x-arrow-compression must be zstd, lz4 or none"), FL_INVALID;
    return FL_OK;
}

/* --- statements --------------------------------------------------------------------------- */

/* A statement that returns rows (SELECT and friends) rather than an update. */
static int is_query(const char *sql)
{
    static const char *const kw[] = {"select", "with", "values", "from", "table", "show",
                                     "describe", "explain", "summarize", "pragma", "("};
    while (isspace((unsigned char)*sql))
        sql++;
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++) {
        size_t n = strlen(kw[i]);
        if (strncasecmp(sql, kw[i], n) == 0 && (n == 1 || !isalnum((unsigned char)sql[n])))
            return 1;
    }
    return 0;
}

/* --- parameters ----------------------------------------------------------------------- */

#define MAX_PARAMS 32766      /* SQLite's default SQLITE_MAX_VARIABLE_NUMBER */
#define MAX_NAMED_PARAMS 1000 /* bounds the search of a name among those seen */

typedef struct param_name {
    size_t start, len, index; /* span of ":name" in the text; its 1-based index */
} param_name;

/* The parameters of sql numbered as SQLite numbers them: '?' takes the next index, '?N'
 * index N, a name (:a, @a, $a) the next index at its first use and the same one after; quotes
 * and comments are skipped by the engine's tokenizer. *out_n gets the count (the largest
 * index), *out_named (heap, the caller frees; may be NULL) each name's span and index.
 * Returns 0, or -1 past MAX_PARAMS / MAX_NAMED_PARAMS or out of memory (*out_n then 0). */
static int scan_params(const char *sql, size_t *out_n, param_name **out_named, size_t *out_nnamed)
{
    size_t len = strlen(sql), pos = 0, start, n, max = 0, nnamed = 0;
    param_name *named = NULL;
    *out_n = 0;
    *out_named = NULL;
    *out_nnamed = 0;
    for (rhei_sql_token_type t; (t = rhei_sql_token(sql, len, &pos, &start, &n)) != RHEI_SQL_EOF;) {
        if (t != RHEI_SQL_PARAM)
            continue;
        size_t idx = 0, k = 0;
        if (sql[start] == '?') {
            idx = n == 1 ? max + 1 : (size_t)strtoul(sql + start + 1, NULL, 10);
        } else {
            while (k < nnamed &&
                   !(named[k].len == n && !memcmp(sql + named[k].start, sql + start, n)))
                k++;
            if (k < nnamed) {
                idx = named[k].index;
            } else if (nnamed == MAX_NAMED_PARAMS ||
                       (!named && !(named = calloc(MAX_NAMED_PARAMS, sizeof *named)))) {
                idx = MAX_PARAMS + 1;
            } else {
                idx = max + 1;
                named[nnamed++] = (param_name){start, n, idx};
            }
        }
        if (idx == 0 || idx > MAX_PARAMS) {
            free(named);
            return -1;
        }
        max = idx > max ? idx : max;
    }
    *out_n = max;
    *out_named = named;
    *out_nnamed = nnamed;
    return 0;
}

static void release_borrowed(struct ArrowSchema *s) { s->release = NULL; }

/* CreatePreparedStatement's parameter_schema: one field per parameter, named as SQLite names
 * it (":id", else "parameter_N" as in Arrow's own SQLite example server), of type NA
 * (nullable). SQLite knows no parameter type before a value is bound, and NA is the wildcard
 * ADBC uses and Flight SQL's documentation suggests for an untyped parameter; the server takes
 * whatever types the bound batch carries. *out NULL when the statement has no parameters (or
 * more than the bounds of scan_params). */
static int param_schema(const char *sql, uint8_t **out, size_t *out_len, char *msg)
{
    size_t np, nnamed;
    param_name *named;
    *out = NULL;
    *out_len = 0;
    if (scan_params(sql, &np, &named, &nnamed) || np == 0)
        return FL_OK;
    struct ArrowSchema top, *kids = calloc(np, sizeof *kids), **kidp = calloc(np, sizeof *kidp);
    char **names = calloc(np, sizeof *names);
    int rc = kids && kidp && names ? FL_OK : FL_RESOURCE;
    for (size_t i = 0; rc == FL_OK && i < nnamed; i++)
        if (!names[named[i].index - 1] &&
            !(names[named[i].index - 1] = strndup(sql + named[i].start, named[i].len)))
            rc = FL_RESOURCE;
    for (size_t i = 0; rc == FL_OK && i < np; i++) {
        if (!names[i] && (names[i] = malloc(32)))
            snprintf(names[i], 32, "parameter_%zu", i + 1);
        if (!names[i])
            rc = FL_RESOURCE;
        kids[i] = (struct ArrowSchema){.format = "n",
                                       .name = names[i],
                                       .flags = ARROW_FLAG_NULLABLE,
                                       .release = release_borrowed};
        kidp[i] = &kids[i];
    }
    if (rc == FL_OK) {
        top = (struct ArrowSchema){.format = "+s",
                                   .name = "",
                                   .n_children = (int64_t)np,
                                   .children = kidp,
                                   .release = release_borrowed};
        rc = fl_schema_bytes(&top, out, out_len, msg);
    } else {
        snprintf(msg, FL_ERR_MAX, "out of memory");
    }
    for (size_t i = 0; names && i < np; i++)
        free(names[i]);
    free(names);
    free(kidp);
    free(kids);
    free(named);
    return rc;
}

/* Schema of a query's result without running it: rhei_query_arrow_schema, the same call
 * DoGet's rhei_query_arrow describes its stream with, so the two agree type for type.
 * DuckDB only prepares the statement and keeps it prepared for the DoGet that follows;
 * SQLite reads its first row (an expression column is typed by its value). Parameters are
 * bound as NULL. Encapsulated IPC bytes in *out (empty for statements that may not run here:
 * SHOW, PRAGMA, ...). */
static int probe_schema(fl_call *c, const char *sql, uint8_t **out, size_t *out_len, char *msg)
{
    *out = NULL;
    *out_len = 0;
    const char *p = sql;
    while (isspace((unsigned char)*p))
        p++;
    if (!strncasecmp(p, "show", 4) || !strncasecmp(p, "describe", 8) ||
        !strncasecmp(p, "explain", 7) || !strncasecmp(p, "summarize", 9) ||
        !strncasecmp(p, "pragma", 6))
        return FL_OK;
    size_t np, nnamed;
    param_name *named;
    scan_params(sql, &np, &named, &nnamed); /* past its bounds: 0, the engine then says so */
    free(named);
    rhei_value *nulls = calloc(np + 1, sizeof *nulls);
    if (!nulls)
        return snprintf(msg, FL_ERR_MAX, "out of memory"), FL_RESOURCE;
    rhei_query_opts o = {c->qopts.hint, RHEI_EVENTUAL};
    struct ArrowSchema sc;
    rhei_result *r = NULL;
    int rc = rhei_query_arrow_schema(c->f->db, sql, nulls, np, &o, NULL, &sc);
    free(nulls);
    if (rc != RHEI_OK) /* the statement itself is wrong: report it as the engine words it */
        return rhei_query_ex(c->f->db, sql, NULL, 0, &c->qopts, &r) == RHEI_OK
                   ? (rhei_result_free(r), FL_OK) : engine_error(c, rc, msg);
    rc = fl_schema_bytes(&sc, out, out_len, msg);
    sc.release(&sc);
    return rc;
}

/* What GetFlightInfo's family answers: FlightInfo, SchemaResult (GetSchema), or a PollInfo
 * (PollFlightInfo). */
enum { INFO_FLIGHT, INFO_SCHEMA, INFO_POLL };

/* Sends fi, or for PollFlightInfo a PollInfo holding it, complete: no descriptor to poll
 * again, progress 1 (GetFlightInfo only prepares; the query runs at DoGet). */
static int send_info(fl_call *c, int mode, Rhei__Flight__FlightInfo *fi)
{
    if (mode != INFO_POLL)
        return send_packed(c, &fi->base) ? FL_CANCELLED : FL_OK;
    Rhei__Flight__PollInfo pi = RHEI__FLIGHT__POLL_INFO__INIT;
    pi.info = fi;
    pi.has_progress = 1, pi.progress = 1.0;
    return send_packed(c, &pi.base) ? FL_CANCELLED : FL_OK;
}

/* FlightInfo for a statement: its schema, one endpoint whose ticket is a fresh handle. */
static int statement_info(fl_call *c, const char *sql, const char *prep, const uint8_t *desc,
                          size_t desc_n, int mode, char *msg)
{
    uint8_t *schema = NULL, *ticket = NULL;
    size_t schema_n = 0, ticket_n = 0;
    char handle[FL_HANDLE_LEN + 1];
    int rc = probe_schema(c, sql, &schema, &schema_n, msg);
    if (rc == FL_OK && mode == INFO_SCHEMA) {
        Rhei__Flight__SchemaResult sr = RHEI__FLIGHT__SCHEMA_RESULT__INIT;
        sr.has_schema = 1, sr.schema.data = schema, sr.schema.len = schema_n;
        rc = send_packed(c, &sr.base) ? FL_CANCELLED : FL_OK;
        free(schema);
        return rc;
    }
    if (rc == FL_OK)
        rc = fl_registry_add(c->f->reg, 't', c->owner, sql, 0, &c->qopts, prep, handle);
    Rhei__Flight__TicketStatementQuery tq = RHEI__FLIGHT__TICKET_STATEMENT_QUERY__INIT;
    tq.has_statement_handle = 1;
    tq.statement_handle.data = (uint8_t *)handle;
    tq.statement_handle.len = FL_HANDLE_LEN;
    if (rc == FL_OK && any_pack(&tq.base, "TicketStatementQuery", &ticket, &ticket_n))
        rc = FL_RESOURCE;
    if (rc == FL_OK) {
        Rhei__Flight__Ticket t = RHEI__FLIGHT__TICKET__INIT;
        t.has_ticket = 1, t.ticket.data = ticket, t.ticket.len = ticket_n;
        Rhei__Flight__FlightEndpoint ep = RHEI__FLIGHT__FLIGHT_ENDPOINT__INIT, *eps[1] = {&ep};
        ep.ticket = &t;
        Rhei__Flight__FlightDescriptor *d = rhei__flight__flight_descriptor__unpack(NULL, desc_n, desc);
        Rhei__Flight__FlightInfo fi = RHEI__FLIGHT__FLIGHT_INFO__INIT;
        fi.has_schema = 1, fi.schema.data = schema, fi.schema.len = schema_n;
        fi.flight_descriptor = d;
        fi.n_endpoint = 1, fi.endpoint = eps;
        fi.has_total_records = 1, fi.total_records = -1;
        fi.has_total_bytes = 1, fi.total_bytes = -1;
        rc = send_info(c, mode, &fi);
        if (d)
            rhei__flight__flight_descriptor__free_unpacked(d, NULL);
    }
    if (rc == FL_RESOURCE)
        snprintf(msg, FL_ERR_MAX, "out of memory");
    free(schema);
    free(ticket);
    return rc;
}

/* Metadata commands: their schema is fixed; the ticket is the command itself. */
static int meta_info(fl_call *c, const char *name, const uint8_t *cmd, size_t cmd_n,
                     const Rhei__Flight__Any *a, const uint8_t *desc, size_t desc_n, int mode,
                     char *msg)
{
    uint8_t *schema = NULL;
    size_t schema_n = 0;
    int rc = fl_meta_schema(c, name, a->value.data, a->value.len, &schema, &schema_n, msg);
    if (rc != FL_OK)
        return rc;
    if (mode == INFO_SCHEMA) {
        Rhei__Flight__SchemaResult sr = RHEI__FLIGHT__SCHEMA_RESULT__INIT;
        sr.has_schema = 1, sr.schema.data = schema, sr.schema.len = schema_n;
        rc = send_packed(c, &sr.base) ? FL_CANCELLED : FL_OK;
        free(schema);
        return rc;
    }
    Rhei__Flight__Ticket t = RHEI__FLIGHT__TICKET__INIT;
    t.has_ticket = 1, t.ticket.data = (uint8_t *)cmd, t.ticket.len = cmd_n;
    Rhei__Flight__FlightEndpoint ep = RHEI__FLIGHT__FLIGHT_ENDPOINT__INIT, *eps[1] = {&ep};
    ep.ticket = &t;
    Rhei__Flight__FlightDescriptor *d = rhei__flight__flight_descriptor__unpack(NULL, desc_n, desc);
    Rhei__Flight__FlightInfo fi = RHEI__FLIGHT__FLIGHT_INFO__INIT;
    fi.has_schema = 1, fi.schema.data = schema, fi.schema.len = schema_n;
    fi.flight_descriptor = d;
    fi.n_endpoint = 1, fi.endpoint = eps;
    fi.has_total_records = 1, fi.total_records = -1;
    fi.has_total_bytes = 1, fi.total_bytes = -1;
    rc = send_info(c, mode, &fi);
    if (d)
        rhei__flight__flight_descriptor__free_unpacked(d, NULL);
    free(schema);
    return rc;
}

/* GetFlightInfo, GetSchema and PollFlightInfo: a FlightDescriptor with a command. */
static int get_info(fl_call *c, int mode, char *msg)
{
    uint8_t *req;
    size_t n;
    const char *name;
    if (fl_recv(c, &req, &n) || !req)
        return snprintf(msg, FL_ERR_MAX, "no request"), FL_INVALID;
    Rhei__Flight__FlightDescriptor *d = rhei__flight__flight_descriptor__unpack(NULL, n, req);
    int rc = FL_INVALID;
    Rhei__Flight__Any *a = d && d->has_cmd ? any_unpack(d->cmd.data, d->cmd.len, &name) : NULL;
    if (!a) {
        snprintf(msg, FL_ERR_MAX, "the descriptor must be a command (a packed Flight SQL message)");
    } else if (!strcmp(name, "CommandStatementQuery")) {
        Rhei__Flight__CommandStatementQuery *q =
            rhei__flight__command_statement_query__unpack(NULL, a->value.len, a->value.data);
        if (q && q->query)
            rc = statement_info(c, q->query, NULL, req, n, mode, msg);
        else
            snprintf(msg, FL_ERR_MAX, "CommandStatementQuery without a query");
        if (q)
            rhei__flight__command_statement_query__free_unpacked(q, NULL);
    } else if (!strcmp(name, "CommandPreparedStatementQuery")) {
        Rhei__Flight__CommandPreparedStatementQuery *q =
            rhei__flight__command_prepared_statement_query__unpack(NULL, a->value.len, a->value.data);
        char *sql = NULL, prep[FL_HANDLE_LEN + 1];
        int upd;
        rhei_query_opts o;
        rc = q ? fl_registry_take(c->f->reg, 'p', c->owner,
                                  (const char *)q->prepared_statement_handle.data,
                                  q->prepared_statement_handle.len, &sql, &upd, &o, NULL)
               : FL_INVALID;
        if (rc == FL_OK) {
            memcpy(prep, q->prepared_statement_handle.data, FL_HANDLE_LEN);
            prep[FL_HANDLE_LEN] = '\0';
            rc = statement_info(c, sql, prep, req, n, mode, msg);
        } else {
            snprintf(msg, FL_ERR_MAX, "unknown prepared statement handle");
        }
        free(sql);
        if (q)
            rhei__flight__command_prepared_statement_query__free_unpacked(q, NULL);
    } else if (fl_meta_is_command(name)) {
        rc = meta_info(c, name, d->cmd.data, d->cmd.len, a, req, n, mode, msg);
    } else {
        rc = FL_UNIMPLEMENTED;
        snprintf(msg, FL_ERR_MAX, "command '%s' is not supported", name[0] ? name : a->type_url);
    }
    if (a)
        rhei__flight__any__free_unpacked(a, NULL);
    if (d)
        rhei__flight__flight_descriptor__free_unpacked(d, NULL);
    free(req);
    return rc;
}

/* Runs a ticket's statement once and streams it; the ticket is marked running meanwhile, so
 * CancelFlightInfo can find this call and stop it. */
static int run_ticket(fl_call *c, const uint8_t *h, size_t hn, char *msg)
{
    char *sql = NULL, prep[FL_HANDLE_LEN + 1];
    rhei_query_opts o;
    if (rhei_cancel_new(&c->cancel) != RHEI_OK)
        return snprintf(msg, FL_ERR_MAX, "out of memory"), FL_RESOURCE;
    int rc = fl_registry_start(c->f->reg, c->owner, (const char *)h, hn, c, &sql, &o, prep);
    if (rc != FL_OK) {
        rhei_cancel_free(c->cancel);
        c->cancel = NULL;
    }
    if (rc == FL_CANCELLED)
        return snprintf(msg, FL_ERR_MAX, "the query was cancelled (CancelFlightInfo)"), rc;
    if (rc != FL_OK)
        return snprintf(msg, FL_ERR_MAX, "unknown or already used ticket"), rc;
    rhei_value *params = NULL;
    size_t np = 0;
    int64_t rows = 0;
    char *mem = NULL;
    if (prep[0])
        rc = fl_registry_params(c->f->reg, c->owner, prep, 0, &params, &np, &rows, &mem, msg);
    if (rc == FL_NOT_FOUND)
        snprintf(msg, FL_ERR_MAX, "the prepared statement was closed");
    if (rc == FL_OK && rows > 1) /* refused at binding already: never run row 0 alone */
        rc = FL_INVALID,
        snprintf(msg, FL_ERR_MAX, "a query takes one row of parameters, not %lld", (long long)rows);
    if (rc == FL_OK) {
        struct ArrowArrayStream st;
        rhei_route_info ri;
        /* a client that cancels or disconnects while the first batch is computed (before any
         * send can fail) fires the token too */
        fl_watch_close(c, c->cancel);
        int erc = rhei_query_arrow_ex(c->f->db, sql, params, np, &o, c->cancel, &ri, &st);
        rc = erc == RHEI_OK ? fl_stream_query(c, &st, &ri, msg) : engine_error(c, erc, msg);
        if (erc == RHEI_INTERRUPTED && atomic_load(&c->cancelled))
            snprintf(msg, FL_ERR_MAX, "the query was cancelled (CancelFlightInfo)");
    }
    fl_registry_end(c->f->reg, c); /* after the stream's release: the query has stopped */
    fl_unwatch_token(c);
    rhei_cancel_free(c->cancel); /* no canceller can reach it once the ticket is gone */
    c->cancel = NULL;
    free(params);
    free(mem);
    free(sql);
    return rc;
}

static int do_get(fl_call *c, char *msg)
{
    uint8_t *req;
    size_t n;
    const char *name;
    if (fl_recv(c, &req, &n) || !req)
        return snprintf(msg, FL_ERR_MAX, "no ticket"), FL_INVALID;
    Rhei__Flight__Ticket *t = rhei__flight__ticket__unpack(NULL, n, req);
    Rhei__Flight__Any *a = t && t->has_ticket ? any_unpack(t->ticket.data, t->ticket.len, &name) : NULL;
    int rc = FL_INVALID;
    if (!a) {
        snprintf(msg, FL_ERR_MAX, "malformed ticket");
    } else if (!strcmp(name, "TicketStatementQuery")) {
        Rhei__Flight__TicketStatementQuery *q =
            rhei__flight__ticket_statement_query__unpack(NULL, a->value.len, a->value.data);
        rc = q ? run_ticket(c, q->statement_handle.data, q->statement_handle.len, msg) : FL_INVALID;
        if (q)
            rhei__flight__ticket_statement_query__free_unpacked(q, NULL);
        else
            snprintf(msg, FL_ERR_MAX, "malformed ticket");
    } else if (fl_meta_is_command(name)) {
        rc = fl_meta_doget(c, name, a->value.data, a->value.len, msg);
    } else {
        snprintf(msg, FL_ERR_MAX, "unknown ticket type '%s'", a->type_url ? a->type_url : "");
    }
    if (a)
        rhei__flight__any__free_unpacked(a, NULL);
    if (t)
        rhei__flight__ticket__free_unpacked(t, NULL);
    free(req);
    return rc;
}

/* --- actions ------------------------------------------------------------------------------ */

static int create_prepared(fl_call *c, const uint8_t *body, size_t n, char *msg)
{
    const char *name;
    Rhei__Flight__Any *a = any_unpack(body, n, &name);
    Rhei__Flight__ActionCreatePreparedStatementRequest *q =
        a && !strcmp(name, "ActionCreatePreparedStatementRequest")
            ? rhei__flight__action_create_prepared_statement_request__unpack(NULL, a->value.len, a->value.data)
            : NULL;
    uint8_t *schema = NULL, *packed = NULL, *pschema = NULL;
    size_t schema_n = 0, packed_n = 0, pschema_n = 0;
    char handle[FL_HANDLE_LEN + 1];
    int rc = FL_INVALID;
    if (!q || !q->query) {
        snprintf(msg, FL_ERR_MAX, "CreatePreparedStatement needs an ActionCreatePreparedStatementRequest with a query");
        goto done;
    }
    int upd = !is_query(q->query);
    rc = upd ? fl_refuse_txn_control(c, q->query, msg)
             : probe_schema(c, q->query, &schema, &schema_n, msg);
    if (rc == FL_OK)
        rc = param_schema(q->query, &pschema, &pschema_n, msg);
    if (rc == FL_OK)
        rc = fl_registry_add(c->f->reg, 'p', c->owner, q->query, upd, &c->qopts, NULL, handle);
    if (rc != FL_OK)
        goto done;
    Rhei__Flight__ActionCreatePreparedStatementResult res =
        RHEI__FLIGHT__ACTION_CREATE_PREPARED_STATEMENT_RESULT__INIT;
    res.has_prepared_statement_handle = 1;
    res.prepared_statement_handle.data = (uint8_t *)handle;
    res.prepared_statement_handle.len = FL_HANDLE_LEN;
    res.has_dataset_schema = schema_n > 0;
    res.dataset_schema.data = schema, res.dataset_schema.len = schema_n;
    res.has_parameter_schema = pschema_n > 0;
    res.parameter_schema.data = pschema, res.parameter_schema.len = pschema_n;
    res.has_is_update = 1, res.is_update = upd;
    if (any_pack(&res.base, "ActionCreatePreparedStatementResult", &packed, &packed_n)) {
        rc = FL_RESOURCE;
        snprintf(msg, FL_ERR_MAX, "out of memory");
        goto done;
    }
    Rhei__Flight__Result r = RHEI__FLIGHT__RESULT__INIT;
    r.has_body = 1, r.body.data = packed, r.body.len = packed_n;
    rc = send_packed(c, &r.base) ? FL_CANCELLED : FL_OK;
done:
    free(schema);
    free(pschema);
    free(packed);
    if (q)
        rhei__flight__action_create_prepared_statement_request__free_unpacked(q, NULL);
    if (a)
        rhei__flight__any__free_unpacked(a, NULL);
    return rc;
}

static int close_prepared(fl_call *c, const uint8_t *body, size_t n, char *msg)
{
    const char *name;
    Rhei__Flight__Any *a = any_unpack(body, n, &name);
    Rhei__Flight__ActionClosePreparedStatementRequest *q =
        a && !strcmp(name, "ActionClosePreparedStatementRequest")
            ? rhei__flight__action_close_prepared_statement_request__unpack(NULL, a->value.len, a->value.data)
            : NULL;
    int rc = FL_INVALID;
    if (q)
        rc = fl_registry_remove(c->f->reg, c->owner, (const char *)q->prepared_statement_handle.data,
                                q->prepared_statement_handle.len);
    if (rc != FL_OK)
        snprintf(msg, FL_ERR_MAX, "unknown prepared statement handle");
    if (q)
        rhei__flight__action_close_prepared_statement_request__free_unpacked(q, NULL);
    if (a)
        rhei__flight__any__free_unpacked(a, NULL);
    return rc;
}

/* Cancels the statements behind a FlightInfo's tickets (metadata tickets run nothing that
 * can be stopped): an FL_CANCEL_* status. */
static int cancel_info(fl_call *c, const Rhei__Flight__FlightInfo *fi)
{
    int st = FL_CANCEL_NOT_CANCELLABLE;
    for (size_t i = 0; i < fi->n_endpoint; i++) {
        const Rhei__Flight__Ticket *t = fi->endpoint[i]->ticket;
        const char *name;
        Rhei__Flight__Any *a =
            t && t->has_ticket ? any_unpack(t->ticket.data, t->ticket.len, &name) : NULL;
        Rhei__Flight__TicketStatementQuery *q =
            a && !strcmp(name, "TicketStatementQuery")
                ? rhei__flight__ticket_statement_query__unpack(NULL, a->value.len, a->value.data)
                : NULL;
        if (q && q->has_statement_handle) {
            int s = fl_registry_cancel(c->f->reg, c->owner, (const char *)q->statement_handle.data,
                                       q->statement_handle.len);
            if (s == FL_CANCEL_CANCELLING ||
                (s == FL_CANCEL_CANCELLED && st != FL_CANCEL_CANCELLING))
                st = s;
        }
        if (q)
            rhei__flight__ticket_statement_query__free_unpacked(q, NULL);
        if (a)
            rhei__flight__any__free_unpacked(a, NULL);
    }
    return st;
}

/* CancelFlightInfo (Flight): body and result are bare CancelFlightInfoRequest/Result.
 * CancelQuery (Flight SQL, older): the same, Any-packed, the FlightInfo as bytes. */
static int cancel(fl_call *c, int flight_sql, const uint8_t *body, size_t n, char *msg)
{
    const char *name = "";
    Rhei__Flight__Any *a = flight_sql ? any_unpack(body, n, &name) : NULL;
    Rhei__Flight__ActionCancelQueryRequest *cq =
        a && !strcmp(name, "ActionCancelQueryRequest")
            ? rhei__flight__action_cancel_query_request__unpack(NULL, a->value.len, a->value.data)
            : NULL;
    Rhei__Flight__CancelFlightInfoRequest *fq =
        flight_sql ? NULL : rhei__flight__cancel_flight_info_request__unpack(NULL, n, body);
    Rhei__Flight__FlightInfo *fi =
        cq && cq->has_info ? rhei__flight__flight_info__unpack(NULL, cq->info.len, cq->info.data)
                           : NULL;
    const Rhei__Flight__FlightInfo *info = flight_sql ? fi : fq ? fq->info : NULL;
    uint8_t *packed = NULL;
    size_t packed_n = 0;
    int rc = FL_OK;
    if (!info) {
        rc = FL_INVALID;
        snprintf(msg, FL_ERR_MAX, "%s needs the FlightInfo to cancel",
                 flight_sql ? "CancelQuery" : "CancelFlightInfo");
    } else if (flight_sql) {
        Rhei__Flight__ActionCancelQueryResult r = RHEI__FLIGHT__ACTION_CANCEL_QUERY_RESULT__INIT;
        r.has_result = 1;
        r.result = (Rhei__Flight__ActionCancelQueryResult__CancelResult)cancel_info(c, info);
        if (any_pack(&r.base, "ActionCancelQueryResult", &packed, &packed_n))
            rc = FL_RESOURCE;
    } else {
        Rhei__Flight__CancelFlightInfoResult r = RHEI__FLIGHT__CANCEL_FLIGHT_INFO_RESULT__INIT;
        r.has_status = 1;
        r.status = (Rhei__Flight__CancelStatus)cancel_info(c, info);
        packed_n = rhei__flight__cancel_flight_info_result__get_packed_size(&r);
        if ((packed = malloc(packed_n + 1)))
            rhei__flight__cancel_flight_info_result__pack(&r, packed);
        else
            rc = FL_RESOURCE;
    }
    if (rc == FL_RESOURCE)
        snprintf(msg, FL_ERR_MAX, "out of memory");
    if (rc == FL_OK) {
        Rhei__Flight__Result res = RHEI__FLIGHT__RESULT__INIT;
        res.has_body = 1, res.body.data = packed, res.body.len = packed_n;
        rc = send_packed(c, &res.base) ? FL_CANCELLED : FL_OK;
    }
    free(packed);
    if (fi)
        rhei__flight__flight_info__free_unpacked(fi, NULL);
    if (fq)
        rhei__flight__cancel_flight_info_request__free_unpacked(fq, NULL);
    if (cq)
        rhei__flight__action_cancel_query_request__free_unpacked(cq, NULL);
    if (a)
        rhei__flight__any__free_unpacked(a, NULL);
    return rc;
}

static int do_action(fl_call *c, char *msg)
{
    uint8_t *req;
    size_t n;
    if (fl_recv(c, &req, &n) || !req)
        return snprintf(msg, FL_ERR_MAX, "no action"), FL_INVALID;
    Rhei__Flight__Action *a = rhei__flight__action__unpack(NULL, n, req);
    int rc;
    if (!a || !a->type)
        rc = FL_INVALID, snprintf(msg, FL_ERR_MAX, "malformed action");
    else if (!strcmp(a->type, "CreatePreparedStatement"))
        rc = create_prepared(c, a->body.data, a->body.len, msg);
    else if (!strcmp(a->type, "ClosePreparedStatement"))
        rc = close_prepared(c, a->body.data, a->body.len, msg);
    else if (!strcmp(a->type, "CancelFlightInfo"))
        rc = cancel(c, 0, a->body.data, a->body.len, msg);
    else if (!strcmp(a->type, "CancelQuery"))
        rc = cancel(c, 1, a->body.data, a->body.len, msg);
    else
        rc = FL_UNIMPLEMENTED, snprintf(msg, FL_ERR_MAX, "action '%s' is not supported", a->type);
    if (a)
        rhei__flight__action__free_unpacked(a, NULL);
    free(req);
    return rc;
}

static int list_actions(fl_call *c, char *msg)
{
    static const char *const acts[][2] = {
        {"CreatePreparedStatement",
         "Creates a reusable prepared statement resource on the server."},
        {"ClosePreparedStatement", "Closes a reusable prepared statement resource on the server."},
        {"CancelFlightInfo", "Explicitly cancel a running FlightInfo."},
        {"CancelQuery", "Cancels a query (Flight SQL; superseded by CancelFlightInfo)."}};
    uint8_t *req;
    size_t n;
    if (fl_recv(c, &req, &n))
        return snprintf(msg, FL_ERR_MAX, "no request"), FL_INVALID;
    free(req);
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        Rhei__Flight__ActionType t = RHEI__FLIGHT__ACTION_TYPE__INIT;
        t.type = (char *)acts[i][0];
        t.description = (char *)acts[i][1];
        if (send_packed(c, &t.base))
            return snprintf(msg, FL_ERR_MAX, "the client went away"), FL_CANCELLED;
    }
    return FL_OK;
}

/* Handshake: authentication happened on the headers; answer with the token (if any). */
static int handshake(fl_call *c, char *msg)
{
    uint8_t *req;
    size_t n;
    if (fl_recv(c, &req, &n))
        return snprintf(msg, FL_ERR_MAX, "no handshake request"), FL_INVALID;
    free(req);
    Rhei__Flight__HandshakeResponse r = RHEI__FLIGHT__HANDSHAKE_RESPONSE__INIT;
    if (c->bearer[0]) {
        r.has_payload = 1;
        r.payload.data = (uint8_t *)c->bearer + 7;
        r.payload.len = strlen(c->bearer + 7);
    }
    return send_packed(c, &r.base) ? (snprintf(msg, FL_ERR_MAX, "client went away"), FL_CANCELLED) : FL_OK;
}

void fl_serve_call(fl_call *c, const char *method)
{
    char msg[FL_ERR_MAX] = "";
    if (strncmp(method, SVC, strlen(SVC)) != 0) {
        fl_finish(c, FL_UNIMPLEMENTED, "unknown service");
        return;
    }
    const char *m = method + strlen(SVC);
    int hs = !strcmp(m, "Handshake");
    int rc = fl_authenticate(c, hs, msg);
    if (rc == FL_OK)
        rc = call_options(c, msg);
    if (rc != FL_OK)
        ;
    else if (hs)
        rc = handshake(c, msg);
    else if (!strcmp(m, "GetFlightInfo"))
        rc = get_info(c, INFO_FLIGHT, msg);
    else if (!strcmp(m, "GetSchema"))
        rc = get_info(c, INFO_SCHEMA, msg);
    else if (!strcmp(m, "PollFlightInfo"))
        rc = get_info(c, INFO_POLL, msg);
    else if (!strcmp(m, "DoGet"))
        rc = do_get(c, msg);
    else if (!strcmp(m, "DoAction"))
        rc = do_action(c, msg);
    else if (!strcmp(m, "ListActions"))
        rc = list_actions(c, msg);
    else if (!strcmp(m, "DoPut"))
        rc = fl_do_put(c, msg);
    else
        rc = FL_UNIMPLEMENTED, snprintf(msg, FL_ERR_MAX, "method '%s' is not supported", m);
    fl_finish(c, rc, rc == FL_OK ? NULL : msg);
}
