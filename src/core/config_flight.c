/* config_flight.c — validation of the "[flight]" config keys ("flight.<key>"), stored with
 * the other table keys and read by the Flight SQL server (src/net/flight) through
 * rhei_config_get. Only the shape is checked here; the server checks the rest at start. */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int bad(rhei_config *c, const char *key, const char *v, const char *why)
{
    rhei__config_set_error(c, "invalid value '%s' for config key '%s': %s", v, key, why);
    return RHEI_CONFIG;
}

static int int_in(const char *v, long long lo, long long hi)
{
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    return *v && !*end && !errno && x >= lo && x <= hi;
}

int rhei__config_check_flight(rhei_config *c, const char *key, const char *v)
{
    const char *k = key + strlen("flight.");
    if (!strcmp(k, "host") || !strcmp(k, "token_file") || !strcmp(k, "tls_cert") ||
        !strcmp(k, "tls_key"))
        return strlen(v) < 1000 ? RHEI_OK : bad(c, key, v, "too long");
    if (!strcmp(k, "port"))
        return int_in(v, 0, 65535) ? RHEI_OK : bad(c, key, v, "expected a port 0-65535");
    if (!strcmp(k, "max_connections"))
        return int_in(v, 1, 1024) ? RHEI_OK : bad(c, key, v, "expected 1-1024");
    if (!strcmp(k, "send_timeout_ms"))
        return int_in(v, 1, 3600000) ? RHEI_OK : bad(c, key, v, "expected 1-3600000");
    if (!strcmp(k, "allow_writes") || !strcmp(k, "allow_unauthenticated"))
        return !strcmp(v, "true") || !strcmp(v, "false") ? RHEI_OK
                                                          : bad(c, key, v, "expected true or false");
    if (!strcmp(k, "compression"))
        return !strcmp(v, "none") || !strcmp(v, "zstd") || !strcmp(v, "lz4")
                   ? RHEI_OK : bad(c, key, v, "expected \"none\", \"zstd\" or \"lz4\"");
    if (!strncmp(k, "tokens.", 7) && int_in(k + 7, 0, 63))
        return *v && strlen(v) < 256 ? RHEI_OK : bad(c, key, v, "a token must be 1-255 bytes");
    rhei__config_set_error(c, "unknown config key '%s'", key);
    return RHEI_CONFIG;
}
