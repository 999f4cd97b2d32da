/* counters.c — rhei_flight_counters: calls and message bytes counted by the transport
 * (atomics, any thread), and open client connections asked of gRPC's channelz, which lists
 * the sockets each server holds. Channelz speaks JSON; only the ids and socket entries are
 * read, and an answer that does not parse gives -1 rather than a wrong count. */
#include "flight_int.h"
#include <grpc/support/alloc.h>
#include <stdlib.h>
#include <string.h>

void fl_count(int64_t *counter, int64_t delta)
{
    __atomic_fetch_add(counter, delta, __ATOMIC_RELAXED);
}

static int64_t get(const int64_t *counter) { return __atomic_load_n(counter, __ATOMIC_RELAXED); }

/* The largest "serverId" channelz lists: the server just started (rh serve runs one). */
void fl_counters_started(rhei_flight *f)
{
    static const char key[] = "\"serverId\":\"";
    char *json = grpc_channelz_get_servers(0);
    intptr_t best = 0;
    for (const char *p = json; p && (p = strstr(p, key)); p += sizeof key - 1) {
        intptr_t id = (intptr_t)strtoll(p + sizeof key - 1, NULL, 10);
        best = id > best ? id : best;
    }
    if (json)
        gpr_free(json);
    f->channelz_id = best;
}

/* Sockets of the server, counted page by page (channelz pages by socket id). */
static int64_t connections(const rhei_flight *f)
{
    static const char key[] = "\"socketId\":\"";
    int64_t n = 0;
    intptr_t start = 0;
    if (!f->channelz_id)
        return -1;
    for (int page = 0; page < 1000; page++) {
        char *json = grpc_channelz_get_server_sockets(f->channelz_id, start, 100);
        if (!json || !strstr(json, "{")) {
            if (json)
                gpr_free(json);
            return -1;
        }
        for (const char *p = json; (p = strstr(p, key)); p += sizeof key - 1) {
            intptr_t id = (intptr_t)strtoll(p + sizeof key - 1, NULL, 10);
            start = id + 1 > start ? id + 1 : start;
            n++;
        }
        int end = strstr(json, "\"end\":true") != NULL;
        gpr_free(json);
        if (end)
            return n;
    }
    return -1;
}

void rhei_flight_counters_get(rhei_flight *f, rhei_flight_counters *out)
{
    memset(out, 0, sizeof *out);
    if (!f)
        return;
    out->calls_total = get(&f->calls_total);
    out->calls_active = get(&f->calls_active);
    out->bytes_received = get(&f->bytes_received);
    out->bytes_sent = get(&f->bytes_sent);
    out->connections = connections(f);
    out->sends_timed_out = get(&f->sends_timed_out);
}
