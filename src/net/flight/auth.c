/* auth.c — who is calling: configured tokens accepted as "authorization: Bearer <token>",
 * and the Flight Handshake that trades "Basic base64(user:token)" for a fresh random session
 * token. A principal is the index of the configured token; tickets and statements belong to
 * it. With no tokens configured (loopback or allow_unauthenticated) everyone is principal -1.
 * Session tokens are bounded (oldest dropped); comparisons take constant time. */
#include "flight_int.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#define MAX_SESSIONS 4096

void fl_random_hex(char *out, size_t nhex)
{
    unsigned char raw[64];
    size_t nraw = (nhex + 1) / 2;
    /* getrandom: one system call per ticket, where /dev/urandom took three */
    ssize_t got = getrandom(raw, nraw, 0);
    if (got != (ssize_t)nraw)
        abort(); /* no randomness means forgeable tickets: never continue */
    for (size_t i = 0; i < nhex; i++)
        out[i] = "0123456789abcdef"[(raw[i / 2] >> (i % 2 ? 0 : 4)) & 15];
    out[nhex] = '\0';
}

static int same(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    unsigned char d = (unsigned char)(an != bn);
    for (size_t i = 0; i < an && i < bn; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

static int config_token(const rhei_flight *f, const char *t, size_t n)
{
    int who = -1;
    for (size_t i = 0; i < f->opts.ntokens; i++)
        if (same(t, n, f->opts.tokens[i]))
            who = (int)i;
    return who;
}

static int session_owner(rhei_flight *f, const char *t, size_t n)
{
    int who = -1;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->nsessions; i++)
        if (same(t, n, f->sessions[i]))
            who = f->session_owner[i];
    pthread_mutex_unlock(&f->lock);
    return who;
}

static int session_new(rhei_flight *f, int owner, char *out)
{
    int rc = 0;
    fl_random_hex(out, FL_HANDLE_LEN);
    pthread_mutex_lock(&f->lock);
    if (f->nsessions == MAX_SESSIONS) { /* drop the oldest */
        memmove(f->sessions, f->sessions + 1, (MAX_SESSIONS - 1) * sizeof *f->sessions);
        memmove(f->session_owner, f->session_owner + 1, (MAX_SESSIONS - 1) * sizeof(int));
        f->nsessions--;
    }
    if (f->nsessions == f->sessioncap) {
        size_t cap = f->sessioncap ? f->sessioncap * 2 : 16;
        void *a = realloc(f->sessions, cap * sizeof *f->sessions);
        if (a)
            f->sessions = a;
        void *b = a ? realloc(f->session_owner, cap * sizeof(int)) : NULL;
        if (b)
            f->session_owner = b, f->sessioncap = cap;
        else
            rc = -1;
    }
    if (rc == 0) {
        memcpy(f->sessions[f->nsessions], out, FL_HANDLE_LEN + 1);
        f->session_owner[f->nsessions++] = owner;
    }
    pthread_mutex_unlock(&f->lock);
    return rc;
}

void fl_sessions_free(rhei_flight *f)
{
    free(f->sessions);
    free(f->session_owner);
    f->sessions = NULL;
    f->session_owner = NULL;
}

static int b64val(char ch)
{
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+' || ch == '-') return 62;
    if (ch == '/' || ch == '_') return 63;
    return -1;
}

/* Decodes base64 into out (cap bytes); returns the length or -1. */
static long b64decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && s[i] != '='; i++) {
        int v = b64val(s[i]);
        if (v < 0)
            return -1;
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return -1;
            out[o++] = (char)(acc >> bits & 0xff);
        }
    }
    return (long)o;
}

int fl_authenticate(fl_call *c, int handshake, char *msg)
{
    rhei_flight *f = c->f;
    size_t n;
    const char *h = fl_header(c, "authorization", &n);
    if (f->opts.ntokens == 0) {
        c->owner = -1;
        return FL_OK;
    }
    if (h && n > 7 && strncasecmp(h, "Bearer ", 7) == 0) {
        int who = config_token(f, h + 7, n - 7);
        if (who < 0)
            who = session_owner(f, h + 7, n - 7);
        if (who >= 0) {
            c->owner = who;
            return FL_OK;
        }
        snprintf(msg, FL_ERR_MAX, "invalid bearer token");
        return FL_UNAUTHENTICATED;
    }
    if (handshake && h && n > 6 && strncasecmp(h, "Basic ", 6) == 0) {
        char dec[1024];
        long dn = b64decode(h + 6, n - 6, dec, sizeof dec - 1);
        char *colon = dn > 0 ? memchr(dec, ':', (size_t)dn) : NULL;
        int who = colon ? config_token(f, colon + 1, (size_t)(dec + dn - colon - 1)) : -1;
        if (who < 0) {
            snprintf(msg, FL_ERR_MAX, "invalid username or password");
            return FL_UNAUTHENTICATED;
        }
        if (session_new(f, who, c->bearer + 7)) {
            snprintf(msg, FL_ERR_MAX, "out of memory");
            return FL_RESOURCE;
        }
        memcpy(c->bearer, "Bearer ", 7);
        c->out_md[0].key = grpc_slice_from_static_string("authorization");
        c->out_md[0].value = grpc_slice_from_static_string(c->bearer);
        c->nout_md = 1;
        c->owner = who;
        return FL_OK;
    }
    snprintf(msg, FL_ERR_MAX, "authentication required: send 'authorization: Bearer <token>' "
             "or do a Handshake with Basic credentials");
    return FL_UNAUTHENTICATED;
}
