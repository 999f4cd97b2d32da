/* cmd_tables.c — `rh register` (replicate existing tables, --key naming the key columns of a
 * table without a declared primary key), `rh resync` (rebuild a failed table's OLAP copy from
 * SQLite) and `rh unregister` (stop replicating). Each changes replication, which only the
 * sync owner may do: a running `rh serve` does it for the client (local.c), a guest refuses
 * before touching anything. Tables are handled in order; the first failure stops the rest. */
#include "rh.h"
#include <stdlib.h>
#include <string.h>

int rh_split_keys(const char *keys, char *buf, size_t cap, const char **out, size_t *out_n)
{
    size_t n = 0, len = strlen(keys);
    *out_n = 0;
    if (len >= cap)
        return -1;
    memcpy(buf, keys, len + 1);
    for (char *p = buf;;) {
        char *end = strchr(p, ',');
        if (end)
            *end = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        size_t k = strlen(p);
        while (k && (p[k - 1] == ' ' || p[k - 1] == '\t'))
            p[--k] = '\0';
        if (!k || n == RH_KEYS_MAX)
            return -1;
        out[n++] = p;
        if (!end)
            break;
        p = end + 1;
    }
    *out_n = n;
    return 0;
}

static int resync_one(rh_session *s, const char *table)
{
    if (s->guest)
        return rh_refuse_as_guest(s, table, "resync", 0);
    if (rhei_resync_table(s->db, table) != RHEI_OK) {
        rh_err("%s", rhei_errmsg(s->db)); /* "cannot resync table '...'" and the cause */
        return RH_EXIT_ERR;
    }
    return RH_EXIT_OK;
}

static int unregister_one(rh_session *s, const char *table)
{
    if (s->guest)
        return rh_refuse_as_guest(s, table, "unregister", 0);
    int rc = rhei_unregister_table(s->db, table);
    if (rc == RHEI_NOTFOUND) {
        rh_err("cannot unregister table '%s': it is not replicated", table);
        return RH_EXIT_ERR;
    }
    if (rc != RHEI_OK)
        return rh_db_err(s->db, rc, "cannot unregister table");
    return RH_EXIT_OK;
}

int rh_table_verb(rh_session *s, char verb, const char *keys, const char *names, size_t len)
{
    int code = RH_EXIT_OK;
    for (size_t at = 0; at < len && code == RH_EXIT_OK; at += strlen(names + at) + 1) {
        const char *t = names + at;
        if (!*t)
            code = RH_EXIT_USAGE;
        else if (verb == 'Y')
            code = resync_one(s, t);
        else if (verb == 'U')
            code = unregister_one(s, t);
        else
            code = rh_register_one(s, t, 0, keys);
    }
    return code;
}

/* Runs verb on the tables named by o->args: through a running service, else here. The
 * payload for the service is the table names NUL-separated, after --key's value for a
 * keyed register. */
static int table_cmd(const rh_opts *o, char verb, const char *usage)
{
    rh_session s;
    char buf[RH_PATH_MAX];
    const char *pk[RH_KEYS_MAX];
    size_t npk = 0, len = 0, at = 0;
    const char *keys = verb == 'G' ? o->key : NULL;
    if (o->nargs < 1) {
        rh_err("%s needs table names: %s", o->cmd, usage);
        return RH_EXIT_USAGE;
    }
    if (keys && rh_split_keys(keys, buf, sizeof buf, pk, &npk) != 0) {
        rh_err("invalid --key '%s': give column names separated by commas", keys);
        return RH_EXIT_USAGE;
    }
    if (keys)
        len = strlen(keys) + 1;
    for (int i = 0; i < o->nargs; i++)
        len += strlen(o->args[i]) + 1;
    char *payload = malloc(len);
    if (!payload) {
        rh_err("out of memory");
        return RH_EXIT_ERR;
    }
    if (keys)
        at += (size_t)sprintf(payload, "%s", keys) + 1;
    for (int i = 0; i < o->nargs; i++)
        at += (size_t)sprintf(payload + at, "%s", o->args[i]) + 1;
    int code = rh_local_forward(o, payload, len);
    if (code < 0) {
        code = rh_session_open(&s, o, o->cmd, RH_SYNC_ON_DEMAND);
        if (code == RH_EXIT_OK) {
            code = rh_table_verb(&s, verb, keys, keys ? payload + strlen(keys) + 1 : payload,
                                 keys ? len - strlen(keys) - 1 : len);
            int c2 = rh_session_close(&s);
            code = code ? code : c2;
        }
    }
    free(payload);
    return code;
}

int rh_cmd_register(const rh_opts *o)
{
    return table_cmd(o, 'G', "rh register --db FILE [--key COL[,COL...]] TABLE...");
}

int rh_cmd_resync(const rh_opts *o) { return table_cmd(o, 'Y', "rh resync --db FILE TABLE..."); }

int rh_cmd_unregister(const rh_opts *o)
{
    return table_cmd(o, 'U', "rh unregister --db FILE TABLE...");
}
