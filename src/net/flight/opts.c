/* opts.c — the server's options from a rhei_config: `[engine] flight_port` alone (the
 * original's form: loopback, no token) or a `[flight]` table. Tokens come from
 * flight.tokens.N and/or a token file (one token per line, '#' comments). The send timeout
 * may also come from RHEI_FLIGHT_SEND_TIMEOUT_MS in the environment. */
#include "flight_int.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *get(const rhei_config *cfg, const char *key)
{
    const char *v = rhei_config_get(cfg, key);
    return v && v[0] ? v : NULL;
}

static int add_token(rhei_flight_opts *o, const char *t, size_t n, char *err, size_t errlen)
{
    if (o->ntokens == RHEI_FLIGHT_MAX_TOKENS)
        return snprintf(err, errlen, "more than %d Flight tokens", RHEI_FLIGHT_MAX_TOKENS), -1;
    if (!(o->tokens[o->ntokens] = strndup(t, n)))
        return snprintf(err, errlen, "out of memory"), -1;
    o->ntokens++;
    return 0;
}

static int read_token_file(rhei_flight_opts *o, const char *path, char *err, size_t errlen)
{
    char line[512];
    FILE *f = fopen(path, "r");
    if (!f)
        return snprintf(err, errlen, "cannot open Flight token file '%s'", path), -1;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n");
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++, n--;
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n && p[0] != '#')
            rc = add_token(o, p, n, err, errlen);
    }
    fclose(f);
    return rc;
}

int rhei_flight_opts_from_config(const rhei_config *cfg, rhei_flight_opts *o, int *out_enabled,
                                 char *err, size_t errlen)
{
    char key[64];
    const char *v;
    memset(o, 0, sizeof *o);
    *out_enabled = 0;
    snprintf(o->host, sizeof o->host, "%s", (v = get(cfg, "flight.host")) ? v : "127.0.0.1");
    snprintf(o->compression, sizeof o->compression, "%s",
             (v = get(cfg, "flight.compression")) ? v : "none");
    long engine_port = (v = get(cfg, "flight_port")) ? atol(v) : 0;
    long table_port = (v = get(cfg, "flight.port")) ? atol(v) : -1;
    o->port = (int)(table_port >= 0 ? table_port : engine_port);
    *out_enabled = engine_port > 0 || table_port >= 0 || get(cfg, "flight.host");
    o->allow_writes = (v = get(cfg, "flight.allow_writes")) && !strcmp(v, "true");
    o->allow_unauthenticated = (v = get(cfg, "flight.allow_unauthenticated")) && !strcmp(v, "true");
    o->max_calls = (v = get(cfg, "flight.max_connections")) ? atoi(v) : 16;
    o->send_timeout_ms = (v = get(cfg, "flight.send_timeout_ms")) ? atoi(v) : 0;
    if ((v = getenv("RHEI_FLIGHT_SEND_TIMEOUT_MS")) && atoi(v) > 0)
        o->send_timeout_ms = atoi(v);
    snprintf(o->tls_cert, sizeof o->tls_cert, "%s", (v = get(cfg, "flight.tls_cert")) ? v : "");
    snprintf(o->tls_key, sizeof o->tls_key, "%s", (v = get(cfg, "flight.tls_key")) ? v : "");
    if (!o->tls_cert[0] != !o->tls_key[0])
        return snprintf(err, errlen, "[flight] tls_cert and tls_key must be set together"), -1;
    for (int i = 0; i < RHEI_FLIGHT_MAX_TOKENS; i++) {
        snprintf(key, sizeof key, "flight.tokens.%d", i);
        if ((v = get(cfg, key)) && add_token(o, v, strlen(v), err, errlen))
            return rhei_flight_opts_free(o), -1;
    }
    if ((v = get(cfg, "flight.token_file")) && read_token_file(o, v, err, errlen))
        return rhei_flight_opts_free(o), -1;
    return 0;
}

void rhei_flight_opts_free(rhei_flight_opts *o)
{
    for (size_t i = 0; i < o->ntokens; i++)
        free(o->tokens[i]);
    o->ntokens = 0;
}
