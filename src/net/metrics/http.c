/* http.c — the metrics endpoint's HTTP side on libmicrohttpd (Debian's libmicrohttpd12): one
 * internal polling thread, GET /metrics and GET /healthz, 404 for other paths, 405 for other
 * methods. Request bodies are never read; libmicrohttpd bounds headers (its memory limit)
 * and connections (CONN_MAX). */
#include "metrics_http.h"
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONN_MAX 64           /* scrapers are few; anything beyond is refused */
#define CONN_TIMEOUT_S 10

struct rhei__metrics_server {
    struct MHD_Daemon *d;
    rhei_db *db;
    rhei__metrics_extra x;
    int port;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             char *body, size_t len, int owned)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
    if (!r) {
        if (owned)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_len, void **state)
{
    rhei__metrics_server *s = cls;
    static const char text[] = "text/plain; charset=utf-8";
    (void)version, (void)upload;
    if (!*state) { /* first call: headers only; answer on the second */
        *state = s;
        return MHD_YES;
    }
    if (*upload_len) {
        *upload_len = 0; /* a body is ignored, never buffered */
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, text, "only GET\n", 9, 0);
    if (strcmp(url, "/metrics") == 0) {
        char *body = NULL;
        size_t len = 0;
        if (rhei__metrics_render(s->db, &s->x, &body, &len) != RHEI_OK) {
            char msg[512];
            int n = snprintf(msg, sizeof msg, "cannot read metrics: %s\n", rhei_errmsg(s->db));
            return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, text, msg,
                         n > 0 && (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1, 0);
        }
        return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len, 1);
    }
    if (strcmp(url, "/healthz") == 0) {
        char why[400];
        int ok = rhei__metrics_healthy(s->db, why, sizeof why);
        return reply(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, text, why,
                     strlen(why), 0);
    }
    return reply(c, MHD_HTTP_NOT_FOUND, text, "not found: try /metrics or /healthz\n", 36, 0);
}

/* Why binding sa fails, found by trying it: libmicrohttpd says only that it could not start
 * (and would print its own line on stderr naming port 0, the port it was not given). */
static const char *bind_error(const struct sockaddr_in *sa)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, why = 0;
    if (fd < 0)
        return strerror(errno);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* as libmicrohttpd does */
    if (bind(fd, (const struct sockaddr *)sa, sizeof *sa) != 0 || listen(fd, 1) != 0)
        why = errno;
    close(fd);
    return why ? strerror(why) : "the HTTP server did not start";
}

int rhei__metrics_server_start(rhei_db *db, const rhei__metrics_extra *x, const char *addr,
                               int port,
                               rhei__metrics_server **out, char *err, size_t cap)
{
    struct sockaddr_in sa;
    *out = NULL;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (!db || port < 0 || port > 65535 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        snprintf(err, cap, "invalid metrics address '%s:%d'", addr ? addr : "", port);
        return RHEI_MISUSE;
    }
    rhei__metrics_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, cap, "out of memory");
        return RHEI_NOMEM;
    }
    s->db = db;
    if (x)
        s->x = *x;
    s->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_MAX,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S, MHD_OPTION_END);
    if (!s->d) {
        snprintf(err, cap, "cannot serve metrics on %s:%d: %s", addr, port, bind_error(&sa));
        free(s);
        return RHEI_IO;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : port;
    *out = s;
    return RHEI_OK;
}

int rhei__metrics_server_port(const rhei__metrics_server *s) { return s ? s->port : 0; }

void rhei__metrics_server_stop(rhei__metrics_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->d);
    free(s);
}
