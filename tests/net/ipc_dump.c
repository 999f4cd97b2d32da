/* ipc_dump.c — writes Arrow IPC stream files from real engine results, for the apache-arrow
 * (node) decoding test (tests/net/ipc.test.mjs): every engine type with NULLs from both sides,
 * sliced into small batches (unaligned bitmaps, rebased offsets), compressed with zstd and
 * lz4, and a 100K-row DuckDB result cut at the default size. Usage: ipc_dump OUTDIR. */
#include "ipc.h"
#include "rhei.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, const char *why)
{
    fprintf(stderr, "ipc_dump: %s: %s\n", what, why);
    exit(1);
}

static void put_msg(FILE *f, const ipc_msg *m)
{
    uint8_t *bytes;
    size_t n;
    if (ipc_encapsulate(m, &bytes, &n))
        die("encapsulate", "out of memory");
    fwrite(bytes, 1, n, f);
    free(bytes);
}

/* One stream file: schema, then batches of at most `target` body bytes. */
static void dump(rhei_db *db, const char *dir, const char *name, const char *sql, rhei_side side,
                 int codec, int64_t target)
{
    char path[1024], err[IPC_ERR_MAX];
    rhei_query_opts o = {side, RHEI_STRONG};
    rhei_result *r;
    struct ArrowArrayStream st;
    struct ArrowSchema sc;
    struct ArrowArray a;
    ipc_msg m;
    if (rhei_query_ex(db, sql, NULL, 0, &o, &r) || rhei_result_to_arrow(r, &st))
        die(sql, rhei_errmsg(db));
    if (st.get_schema(&st, &sc))
        die("get_schema", st.get_last_error(&st));
    snprintf(path, sizeof path, "%s/%s.arrows", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        die(path, "cannot create");
    if (ipc_schema_msg(&sc, &m, err))
        die("schema", err);
    put_msg(f, &m);
    ipc_msg_free(&m);
    while (st.get_next(&st, &a) == 0 && a.release) {
        for (int64_t at = 0; at < a.length;) {
            int64_t n = ipc_rows_fitting(&sc, &a, at, target);
            if (ipc_batch_msg(&sc, &a, at, n, codec, &m, err))
                die("batch", err);
            put_msg(f, &m);
            ipc_msg_free(&m);
            at += n;
        }
        a.release(&a);
    }
    uint32_t eos[2] = {0xFFFFFFFFu, 0};
    fwrite(eos, 1, 8, f);
    fclose(f);
    sc.release(&sc);
    st.release(&st);
}

int main(int argc, char **argv)
{
    char path[1024];
    rhei_db *db;
    if (argc != 2)
        die("usage", "ipc_dump OUTDIR");
    snprintf(path, sizeof path, "%s/t.db", argv[1]);
    if (rhei_open_path(path, &db))
        die("open", rhei_errmsg(NULL));
    const char *ddl = "CREATE TABLE t(id INTEGER PRIMARY KEY, r REAL, s TEXT, b BLOB, ok BOOLEAN,"
                      " d DECIMAL(10,2), day DATE, ts TIMESTAMP)";
    const char *rows[] = {
        "INSERT INTO t VALUES(1, 1.5, 'one', x'0102', 1, '12.50', '2024-01-02',"
        " '2024-01-02 03:04:05.000006')",
        "INSERT INTO t VALUES(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
        "INSERT INTO t VALUES(3, -2.25, 'three ünïcode', x'', 0, '-0.07', '1969-12-31',"
        " '1970-01-01 00:00:00')",
        "INSERT INTO t VALUES(4, 0, '', x'ff', 1, '99999999.99', '2000-02-29',"
        " '2038-01-19 03:14:08')",
        "INSERT INTO t VALUES(5, 1e300, 'five', NULL, NULL, '0.00', NULL, NULL)",
    };
    if (rhei_execute(db, ddl, NULL, 0, NULL))
        die("create", rhei_errmsg(db));
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (rhei_execute(db, rows[i], NULL, 0, NULL))
            die("insert", rhei_errmsg(db));
    if (rhei_register_table(db, "t", NULL, 0, NULL, 0) || rhei_sync_now(db, NULL))
        die("register", rhei_errmsg(db));
    const char *q = "SELECT * FROM t ORDER BY id";
    dump(db, argv[1], "types_oltp", q, RHEI_SIDE_OLTP, IPC_COMP_NONE, 1);
    dump(db, argv[1], "types_olap", q, RHEI_SIDE_OLAP, IPC_COMP_NONE, 1);
    dump(db, argv[1], "types_whole", q, RHEI_SIDE_OLAP, IPC_COMP_NONE, IPC_TARGET_BYTES);
    dump(db, argv[1], "types_zstd", q, RHEI_SIDE_OLAP, IPC_COMP_ZSTD, 40);
    dump(db, argv[1], "types_lz4", q, RHEI_SIDE_OLAP, IPC_COMP_LZ4, 40);
    const char *big = "SELECT range AS i, range * 0.5 AS h, 'row ' || range AS s,"
                      " CASE WHEN range % 7 = 0 THEN NULL ELSE range % 3 = 0 END AS m"
                      " FROM range(100000)";
    dump(db, argv[1], "big", big, RHEI_SIDE_OLAP, IPC_COMP_NONE, IPC_TARGET_BYTES);
    dump(db, argv[1], "big_sliced", big, RHEI_SIDE_OLAP, IPC_COMP_NONE, 100000);
    dump(db, argv[1], "big_zstd", big, RHEI_SIDE_OLAP, IPC_COMP_ZSTD, 100000);
    dump(db, argv[1], "empty", "SELECT * FROM t WHERE id < 0", RHEI_SIDE_OLAP, IPC_COMP_NONE,
         IPC_TARGET_BYTES);
    rhei_close(db);
    return 0;
}
