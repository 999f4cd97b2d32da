/* test_faults.c — bad environments: a full disk under SQLite and under DuckDB, a corrupt
 * SQLite file, an unwritable OLAP path. Each gives a clear error and loses nothing. */
#include "helpers.h"
#include <sys/mount.h>

static char mounted[64];

/* A failed check exits at once: the mount must not outlive the test (nor block removing its
 * folder, which runs after this handler). */
static void unmount_at_exit(void) { umount2(mounted, MNT_DETACH); }

/* A 2 MiB tmpfs, so "disk full" is real; skipped (not passed) where mounting is not allowed. */
static void small_disk(char *dir, size_t n)
{
    rt_tmpdir(dir, n);
    if (mount("tmpfs", dir, "tmpfs", 0, "size=2m") != 0)
        SKIP("cannot mount a small tmpfs here (needs root)");
    snprintf(mounted, sizeof mounted, "%s", dir);
    atexit(unmount_at_exit);
}

TEST(full_disk_under_sqlite)
{
    char dir[64];
    small_disk(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){0});
    th_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, pad BLOB)");
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    int rc = RHEI_OK, i = 0;
    for (; rc == RHEI_OK && i < 100000; i++) {
        rhei_value p = rhei_int(i);
        rc = rhei_execute(db, "INSERT INTO t VALUES (?, randomblob(8000))", &p, 1, NULL);
        if (i % 50 == 0 && rc == RHEI_OK)
            rc = rhei_sync_now(db, NULL);
    }
    CHECK_INT(rc, RHEI_FULL);
    CHECK(strstr(rhei_errmsg(db), "full"));
    /* What was committed is still there and still replicates. */
    CHECK_OK(db, rhei_sync_now(db, NULL));
    th_same(db, "SELECT id FROM t ORDER BY id");
    CHECK(th_scalar(db, "SELECT count(*) FROM t", RHEI_SIDE_OLAP) > 0);
    CHECK_OK(db, rhei_close(db));
    CHECK_INT(umount(dir), 0);
}

TEST(full_disk_under_duckdb)
{
    char dir[64], olap[128], cfgpath[128];
    rt_tmpdir(cfgpath, sizeof cfgpath);
    small_disk(dir, sizeof dir);
    snprintf(olap, sizeof olap, "%s/olap.duckdb", dir);
    rhei_config *cfg = NULL;
    rhei_db *db = NULL;
    CHECK_INT(rhei_config_new(&cfg), RHEI_OK);
    snprintf(cfgpath + strlen(cfgpath), sizeof cfgpath - strlen(cfgpath), "/oltp.db");
    CHECK_INT(rhei_config_set(cfg, "oltp_path", cfgpath), RHEI_OK); /* SQLite on a big disk */
    CHECK_INT(rhei_config_set(cfg, "olap_path", olap), RHEI_OK);
    /* 30-event batches: most writes happen on the sync's applier thread, so the failure
     * surfaces from there too */
    CHECK_INT(rhei_config_set(cfg, "batch_size", "30"), RHEI_OK);
    CHECK_OK(NULL, rhei_open(cfg, &db));
    th_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, pad TEXT)");
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    int rc = RHEI_OK;
    for (int round = 0; rc == RHEI_OK && round < 200; round++) {
        char sql[256];
        snprintf(sql, sizeof sql, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1"
                 " FROM n WHERE i < 100) INSERT INTO t SELECT i + %d, hex(randomblob(2000))"
                 " FROM n", round * 100);
        rc = rhei_execute(db, sql, NULL, 0, NULL);
        CHECK_INT(rc, RHEI_OK);
        rc = rhei_sync_now(db, NULL);
    }
    CHECK(rc != RHEI_OK);
    rhei_sync_status st;
    CHECK_OK(db, rhei_sync_status_get(db, &st));
    CHECK(st.lag_events > 0); /* the failed cycle did not move the position */
    CHECK(st.last_error[0] != '\0');
    rhei_close(db); /* final sync fails too: reported, handle freed */
    /* With the store moved to a big disk, everything replicates: nothing was lost. */
    CHECK_INT(umount(dir), 0);
    CHECK_INT(rhei_config_set(cfg, "olap_path", ":memory:"), RHEI_OK);
    CHECK_OK(NULL, rhei_open(cfg, &db));
    th_same(db, "SELECT id, pad FROM t ORDER BY id");
    CHECK_OK(db, rhei_close(db));
    rhei_config_free(cfg);
}

TEST(corrupt_sqlite_file)
{
    char dir[64], path[128];
    rt_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/oltp.db", dir);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    for (int i = 0; i < 8192; i++)
        fputc((i * 131) & 0xff, f);
    fclose(f);
    rhei_db *db = NULL;
    int rc = rhei_open_path(path, &db);
    CHECK(rc == RHEI_CORRUPT);
    CHECK(db == NULL);
    CHECK(strstr(rhei_errmsg(NULL), path));
}

TEST(unwritable_olap_path)
{
    char dir[64], path[128];
    rt_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/oltp.db", dir);
    rhei_config *cfg = NULL;
    rhei_db *db = NULL;
    CHECK_INT(rhei_config_new(&cfg), RHEI_OK);
    CHECK_INT(rhei_config_set(cfg, "oltp_path", path), RHEI_OK);
    CHECK_INT(rhei_config_set(cfg, "olap_path", "/nonexistent/dir/olap.duckdb"), RHEI_OK);
    int rc = rhei_open(cfg, &db);
    CHECK(rc != RHEI_OK);
    CHECK(db == NULL);
    CHECK(strstr(rhei_errmsg(NULL), "/nonexistent/dir/olap.duckdb"));
    rhei_config_free(cfg);
}
