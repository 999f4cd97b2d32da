/* config.h — the engine configuration behind the opaque rhei_config: parsed, validated
 * fields the engine reads directly. Text forms are kept for rhei_config_get. */
#ifndef RHEI_CORE_CONFIG_H
#define RHEI_CORE_CONFIG_H
#include "err.h"
#include <stdint.h>

enum { RHEI__SYNC_MIRROR = 0, RHEI__SYNC_HISTORY = 1 };

/* batch_size's default, the one place it is written (the key table and the sync use it). */
#define RHEI__BATCH_SIZE_DEFAULT 25000
#define RHEI__STR_(x) #x
#define RHEI__STR(x) RHEI__STR_(x)

#define RHEI__CONFIG_NKEYS 14

struct rhei_config {
    char *oltp_path;
    char *olap_path;
    int sync_mode;            /* RHEI__SYNC_* */
    int64_t sync_interval_ms;
    int64_t batch_size;
    int64_t read_pool_size;
    int synchronous_full;
    int64_t olap_threads;
    char *olap_memory_limit;
    int64_t busy_timeout_ms;
    int64_t oltp_mmap_mb; /* SQLite memory-maps this much of the file; 0 = off */
    int64_t flight_port;
    int64_t metrics_port;
    int olap_external_access; /* DuckDB may read files / the network (off: sandbox) */
    char *text[RHEI__CONFIG_NKEYS]; /* text form of each key, for rhei_config_get */
    struct rhei__config_kv { char *key, *value; } *kv; /* "sidecar.*" keys, validated */
    size_t nkv, kvcap;
    char errmsg[RHEI__ERRMSG_MAX];
};

/* Replaces the config's error message (used by the file loader to add file:line:col). */
void rhei__config_set_error(rhei_config *cfg, const char *fmt, ...) RHEI__PRINTF(2, 3);
/* "sidecar.*" keys: validated set, lookup (NULL if unset), release. */
int rhei__config_set_sidecar(rhei_config *c, const char *key, const char *value);
const char *rhei__config_kv(const rhei_config *c, const char *key);
/* "flight.*" keys ([flight] table): shape checks (config_flight.c); stored like sidecar.*. */
int rhei__config_check_flight(rhei_config *c, const char *key, const char *value);
void rhei__config_kv_free(rhei_config *c);

/* Deep copy for the engine to keep. */
int rhei__config_copy(const rhei_config *src, rhei_config **out);
#endif
