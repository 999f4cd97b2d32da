/* ddl.c — runs one write statement, keeping replication in step with the schema: CREATE
 * TABLE registers the new table; DROP TABLE, ALTER TABLE ADD/DROP COLUMN and renames of a
 * replicated table go to rhei_execute, which handles them for every API user (rhei.h). A
 * guest refuses all of these before running anything: each is a sync cycle, which only the
 * owner may run (see session.c). */
#include "rh.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum ddl_kind { DDL_PLAIN, DDL_CREATE, DDL_DROP, DDL_ADD, DDL_DROPCOL, DDL_RENAME } ddl_kind;

int rh_refuse_as_guest(const rh_session *s, const char *table, const char *verb, int ddl)
{
    rh_err("cannot %s table '%s' for replication: sync of '%s' is owned by %s, and doing it"
           " from a second process could prune changes it has not applied yet; stop it first%s",
           verb, table, s->oltp_path, s->owner, ddl ? ", or pass --no-register" : "");
    return RH_EXIT_ERR;
}

int rh_register_one(rh_session *s, const char *table, int created, const char *keys)
{
    char buf[RH_PATH_MAX];
    const char *pk[RH_KEYS_MAX];
    size_t npk = 0;
    if (s->guest)
        return rh_refuse_as_guest(s, table, "register", created);
    if (keys && rh_split_keys(keys, buf, sizeof buf, pk, &npk) != 0) {
        rh_err("invalid --key '%s': give column names separated by commas", keys);
        return RH_EXIT_USAGE;
    }
    int rc = rhei_register_table(s->db, table, NULL, 0, keys ? pk : NULL, npk);
    if (rc == RHEI_OK)
        return RH_EXIT_OK;
    if (created)
        rh_err("table '%s' was created but not registered for replication: %s (--no-register"
               " keeps a table in SQLite only)", table, rhei_errmsg(s->db));
    else /* the engine's message already says "cannot register table '...'" */
        rh_err("%s", rhei_errmsg(s->db));
    if (!keys && strstr(rhei_errmsg(s->db), "has no primary key"))
        rh_err("name its key columns: rh register --db %s --key COL[,COL...] %s", s->oltp_path,
               table);
    return RH_EXIT_ERR;
}

static int is_replicated(rh_session *s, const char *table)
{
    char (*names)[RH_NAME_MAX] = NULL;
    size_t n = 0;
    int hit = 0;
    if (rh_list_tables(s, &names, &n) != RHEI_OK)
        return 0;
    for (size_t i = 0; i < n && !hit; i++)
        hit = strcasecmp(names[i], table) == 0; /* SQLite names are case-insensitive */
    free(names);
    return hit;
}

static ddl_kind classify(rh_session *s, const char *sql, size_t len, char *table, rh_alter *a)
{
    if (rh_sql_created_table(sql, len, table, RH_NAME_MAX))
        return DDL_CREATE;
    if (rh_sql_dropped_table(sql, len, table, RH_NAME_MAX))
        return is_replicated(s, table) ? DDL_DROP : DDL_PLAIN;
    if (!rh_sql_alter(sql, len, a) || !is_replicated(s, a->table))
        return DDL_PLAIN;
    snprintf(table, RH_NAME_MAX, "%s", a->table);
    return a->kind == RH_ALTER_ADD ? DDL_ADD : a->kind == RH_ALTER_DROP ? DDL_DROPCOL
                                                                        : DDL_RENAME;
}

static int exec_plain(rh_session *s, const char *sql, int64_t *changes)
{
    rh_stmt_kind k = rh_sql_kind(sql, strlen(sql));
    if (k == RH_STMT_ROWS || k == RH_STMT_PRAGMA || k == RH_STMT_ROWS_WRITE)
        return rh_exec_rows(s, sql, changes); /* the rows are printed, as sqlite3 does */
    int rc = rhei_execute(s->db, sql, NULL, 0, changes);
    if (rc != RHEI_OK)
        return rh_db_err(s->db, rc, "statement failed");
    if (k == RH_STMT_DML && s->show_changes) {
        printf("%lld row%s changed\n", (long long)*changes, *changes == 1 ? "" : "s");
        return rh_out_check();
    }
    return RH_EXIT_OK;
}

int rh_run_write_stmt(rh_session *s, const char *sql, size_t len, int no_register,
                      int64_t *changes)
{
    char table[RH_NAME_MAX];
    rh_alter a;
    ddl_kind kind = no_register ? DDL_PLAIN : classify(s, sql, len, table, &a);
    int code;
    *changes = 0;
    if (kind != DDL_PLAIN && s->guest)
        return rh_refuse_as_guest(s, table, kind == DDL_CREATE ? "create" : "change", 1);
    switch (kind) {
    case DDL_CREATE:
        code = exec_plain(s, sql, changes);
        return code ? code : rh_register_one(s, table, 1, NULL);
    case DDL_DROP:
    case DDL_ADD:
    case DDL_DROPCOL:
    case DDL_RENAME:
        /* rhei_execute keeps replication in step itself (unregisters on DROP, turns ADD/DROP
         * COLUMN into a schema change, refuses renames with the reason). */
        return exec_plain(s, sql, changes);
    default:
        return exec_plain(s, sql, changes);
    }
}
