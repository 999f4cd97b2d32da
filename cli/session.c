/* session.c — turns the command line into a rhei_config and an open engine. Invariant: at
 * most one rh process per SQLite file runs sync cycles (the "owner", holding an flock on
 * <db>.rh-lock); the others are guests with a private in-memory OLAP copy that never syncs,
 * because rhei prunes the change log below its own applied position and a second syncing
 * engine would delete events the owner has not applied yet (see cli/README.md). */
#include "rh.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static int guest_opened;

int rh_session_guest_open(void) { return guest_opened; }

static int cfg_set(rhei_config *cfg, const char *key, const char *value)
{
    int rc = rhei_config_set(cfg, key, value);
    if (rc != RHEI_OK)
        rh_err("%s", rhei_config_errmsg(cfg));
    return rc;
}

int rh_config_build(const rh_opts *o, rhei_config **out)
{
    rhei_config *cfg = NULL;
    int code = RH_EXIT_ERR;
    char olap[RH_PATH_MAX];
    *out = NULL;
    if (rhei_config_new(&cfg) != RHEI_OK) {
        rh_err("cannot create a config: out of memory");
        return RH_EXIT_ERR;
    }
    if (o->config && rhei_config_load_file(cfg, o->config) != RHEI_OK) {
        rh_err("cannot load config: %s", rhei_config_errmsg(cfg));
        goto fail;
    }
    if (o->db && cfg_set(cfg, "oltp_path", o->db) != RHEI_OK)
        goto fail;
    const char *oltp = rhei_config_get(cfg, "oltp_path");
    if (!oltp || !*oltp) {
        rh_err("no database: give --db FILE, or --config FILE that sets oltp_path");
        code = RH_EXIT_USAGE;
        goto fail;
    }
    /* Without a config file the OLAP side is durable and sits next to the SQLite file, so
     * separate rh invocations share it; a config file's olap_path is taken as written. */
    if (o->olap) {
        if (cfg_set(cfg, "olap_path", o->olap) != RHEI_OK)
            goto fail;
    } else if (!o->config) {
        if ((size_t)snprintf(olap, sizeof olap, "%s.duckdb", oltp) >= sizeof olap) {
            rh_err("database path '%s' is too long", oltp);
            goto fail;
        }
        if (cfg_set(cfg, "olap_path", olap) != RHEI_OK)
            goto fail;
    }
    *out = cfg;
    return RH_EXIT_OK;
fail:
    rhei_config_free(cfg);
    return code;
}

/* Becomes the sync owner of the file, or a guest when another rh process is. A lock file
 * that cannot be created (read-only folder) leaves us owner, as an embedding program is. */
static void take_lock(rh_session *s, const char *role)
{
    char path[RH_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s.rh-lock", s->oltp_path);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    s->lock_created = fd >= 0;
    if (fd < 0)
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
        /* never unlinked: removing a lock file races with a process about to lock it */
        if (ftruncate(fd, 0) == 0)
            dprintf(fd, "pid %ld (%s)\n", (long)getpid(), role);
        s->lock_fd = fd;
        return;
    }
    if (errno == EWOULDBLOCK) {
        ssize_t n = pread(fd, s->owner, sizeof s->owner - 1, 0);
        s->owner[n > 0 ? n : 0] = '\0';
        s->owner[strcspn(s->owner, "\n")] = '\0';
        if (!s->owner[0])
            snprintf(s->owner, sizeof s->owner, "another rh process");
        s->guest = 1;
    }
    close(fd);
}

static int set_sync(rh_session *s, rhei_config *cfg, rh_sync_want want)
{
    char num[32];
    long long ms = 0;
    if (!s->guest && want != RH_SYNC_ON_DEMAND) {
        ms = strtoll(rhei_config_get(cfg, "sync_interval_ms"), NULL, 10);
        if (ms <= 0)
            ms = RH_DEFAULT_SYNC_MS;
    }
    snprintf(num, sizeof num, "%lld", ms);
    s->sync_interval_ms = ms;
    if (cfg_set(cfg, "sync_interval_ms", num) != RHEI_OK)
        return -1;
    /* a guest keeps a private copy: it must not open (and lock) the owner's DuckDB file */
    if (s->guest && cfg_set(cfg, "olap_path", ":memory:") != RHEI_OK)
        return -1;
    snprintf(s->olap_path, sizeof s->olap_path, "%s", rhei_config_get(cfg, "olap_path"));
    return 0;
}

static void unlink_lock(const rh_session *s)
{
    char path[RH_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s.rh-lock", s->oltp_path);
    unlink(path);
}

/* Commands that only read (query, status, ...) must not create a database: a typo in --db
 * is an error, not an empty file, a DuckDB file and a lock file. (A config file's database
 * may be created by any command: a pure sidecar starts from none.) */
static int must_exist(const char *role)
{
    static const char *const readers[] = {"query",      "status",    "register", "resync",
                                          "unregister", "dashboard", "route"};
    for (size_t i = 0; i < sizeof readers / sizeof *readers; i++)
        if (strcmp(role, readers[i]) == 0)
            return 1;
    return 0;
}

static int is_file_path(const char *path)
{
    return *path && strcmp(path, ":memory:") != 0 && strncmp(path, "file:", 5) != 0;
}

int rh_session_open(rh_session *s, const rh_opts *o, const char *role, rh_sync_want want)
{
    rhei_config *cfg = NULL;
    memset(s, 0, sizeof *s);
    s->lock_fd = -1;
    int code = rh_config_build(o, &cfg);
    if (code != RH_EXIT_OK)
        return code;
    snprintf(s->oltp_path, sizeof s->oltp_path, "%s", rhei_config_get(cfg, "oltp_path"));
    if (o->db && must_exist(role) && is_file_path(s->oltp_path) &&
        access(s->oltp_path, F_OK) != 0) {
        rh_err("cannot open database '%s': %s", s->oltp_path, strerror(errno));
        rhei_config_free(cfg);
        return RH_EXIT_ERR;
    }
    if (is_file_path(s->oltp_path))
        take_lock(s, role);
    code = RH_EXIT_ERR;
    if (s->guest && want == RH_SYNC_OWNER) {
        rh_err("cannot %s '%s': its sync is already owned by %s", role, s->oltp_path, s->owner);
        goto fail;
    }
    if (set_sync(s, cfg, want) != 0)
        goto fail;
    int rc = rhei_open(cfg, &s->db);
    if (rc != RHEI_OK) {
        rh_db_err(NULL, rc, "cannot open database");
        goto fail;
    }
    if (s->guest)
        guest_opened = 1;
    s->metrics_port = atoi(rhei_config_get(cfg, "metrics_port"));
    rhei_config_free(cfg);
    return RH_EXIT_OK;
fail:
    rhei_config_free(cfg);
    if (s->lock_fd >= 0) {
        /* A database that did not open leaves no lock file behind. Unlinked while still
         * locked: a process that opened it meanwhile fails to open the database too. */
        if (s->lock_created)
            unlink_lock(s);
        close(s->lock_fd);
    }
    s->lock_fd = -1;
    return code;
}

int rh_session_close(rh_session *s)
{
    int code = RH_EXIT_OK;
    if (!s->db)
        return code;
    if (s->guest) {
        /* Deliberately left open: rhei_close runs a final sync, which a guest must not. */
        s->db = NULL;
        return code;
    }
    int rc = rhei_close(s->db);
    s->db = NULL;
    if (rc != RHEI_OK)
        code = rh_db_err(NULL, rc, "final sync on close failed");
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    s->lock_fd = -1;
    return code;
}
