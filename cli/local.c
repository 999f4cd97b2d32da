/* local.c — a running `rh serve` is reachable: it listens on a UNIX socket next to the
 * database (<db>.rh-sock, with the database file's permissions), and `rh exec`, `rh query`,
 * `rh status`, `rh register`, `rh resync`, `rh unregister`, `rh route`, the REPL's
 * statements and catalog dot commands,
 * and the dashboard's samples on that database are served by it instead of a private
 * in-memory copy. The client passes its stdout and stderr descriptors (SCM_RIGHTS), so the
 * owner prints straight to them with rh's own printers.
 *
 * Protocol, one request per connection, both directions framed:
 *   frame   = "RH1" type:u8 length:u32be payload[length]      (length <= LOCAL_FRAME_MAX)
 *   request = type 'X' exec | 'Q' query | 'S' status | 'G' register | 'P' repl statement |
 *             'R' route | 'M' repl dot command | 'I' .import | 'T' dashboard sample |
 *             'K' register --key | 'Y' resync | 'U' unregister,
 *             payload = options[16] text   (text: SQL; a dot command line; 'G', 'Y', 'U':
 *             table names NUL-separated; 'K': the key columns "a,b" NUL then table names
 *             NUL-separated; 'I': FILE NUL TABLE NUL csv-text)
 *             sent with exactly two descriptors (stdout, stderr) attached ('T' writes its
 *             sample, lines of tab-separated fields, to the first: the client's memfd)
 *   reply   = type 'D', payload = exit code:u32be
 * Input is untrusted: a bad magic, type, length, option or descriptor count closes the
 * connection without running anything; reads time out (LOCAL_TIMEOUT_S). The owner serves
 * one request at a time on its main thread. */
#define _GNU_SOURCE /* accept4, memfd_create */
#include "rh.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define LOCAL_FRAME_MAX (RH_SQL_MAX + 64u)
#define LOCAL_TIMEOUT_S 10 /* a client that stalls mid-request is dropped after this */
#define OPT_LEN 16

enum { OPT_FORMAT, OPT_HINT, OPT_CONS, OPT_TIMER, OPT_EXPLAIN, OPT_NOREG, OPT_HEADERS_OFF,
       OPT_CHANGES, OPT_COUNTS };
#define TYPES "XQSGPRMITKYU"
#define SAMPLE_MAX (16u << 20) /* a dashboard sample larger than this is refused */

static int sock_path(const char *db, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    int n = snprintf(sa->sun_path, sizeof sa->sun_path, "%s.rh-sock", db);
    return n > 0 && (size_t)n < sizeof sa->sun_path ? 0 : -1; /* too long: no socket */
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w, n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n)
{
    char *c = p;
    while (n) {
        ssize_t r = recv(fd, c, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c += r, n -= (size_t)r;
    }
    return 0;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* --- client ---------------------------------------------------------------------------- */

/* Connects to the owner of db's socket; -1 when none serves it (then rh works locally). */
static int local_connect(const char *db)
{
    struct sockaddr_un sa;
    if (sock_path(db, &sa) != 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends one request with fds (the client's stdout and stderr) attached, waits for the exit
 * code. quiet: no message when the service goes away (the dashboard is on screen). */
static int request(int fd, char type, const unsigned char *opts, const char *text, size_t len,
                   const int fds[2], int quiet)
{
    unsigned char head[8] = {'R', 'H', '1', (unsigned char)type};
    size_t total = OPT_LEN + len;
    if (total > LOCAL_FRAME_MAX) {
        rh_err("request is longer than %u bytes", LOCAL_FRAME_MAX);
        return RH_EXIT_ERR;
    }
    put_u32(head + 4, (uint32_t)total);
    char ctl[CMSG_SPACE(2 * sizeof(int))];
    struct iovec iov = {head, sizeof head};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
                        .msg_controllen = sizeof ctl};
    memset(ctl, 0, sizeof ctl);
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
    memcpy(CMSG_DATA(cm), fds, 2 * sizeof(int));
    fflush(stdout);
    fflush(stderr);
    unsigned char reply[12];
    if (sendmsg(fd, &mh, MSG_NOSIGNAL) != (ssize_t)sizeof head || write_all(fd, opts, OPT_LEN) ||
        write_all(fd, text, len) || read_all(fd, reply, sizeof reply) ||
        memcmp(reply, "RH1D", 4) != 0 || get_u32(reply + 4) != 4) {
        if (!quiet)
            rh_err("the service owning this database closed the connection");
        return RH_EXIT_ERR;
    }
    uint32_t code = get_u32(reply + 8);
    return code <= RH_EXIT_USAGE ? (int)code : RH_EXIT_ERR;
}

static void pack_opts(unsigned char *opts, const rh_opts *o)
{
    memset(opts, 0, OPT_LEN);
    opts[OPT_FORMAT] = (unsigned char)o->format;
    opts[OPT_HINT] = (unsigned char)o->hint;
    opts[OPT_CONS] = (unsigned char)o->consistency;
    opts[OPT_TIMER] = (unsigned char)!!o->timer;
    opts[OPT_EXPLAIN] = (unsigned char)!!o->explain;
    opts[OPT_NOREG] = (unsigned char)!!o->no_register;
    opts[OPT_CHANGES] = (unsigned char)!!o->changes;
}

int rh_local_open(const rh_opts *o)
{
    rhei_config *cfg = NULL;
    int fd = -1;
    if (o->db)
        return local_connect(o->db);
    /* quietly: a config that does not load is reported by the local open that follows */
    if (!o->config || rhei_config_new(&cfg) != RHEI_OK)
        return -1;
    if (rhei_config_load_file(cfg, o->config) == RHEI_OK)
        fd = local_connect(rhei_config_get(cfg, "oltp_path"));
    rhei_config_free(cfg);
    return fd;
}

static const int std_fds[2] = {STDOUT_FILENO, STDERR_FILENO};

int rh_local_forward(const rh_opts *o, const char *text, size_t len)
{
    char type = !strcmp(o->cmd, "exec")         ? 'X'
                : !strcmp(o->cmd, "query")      ? 'Q'
                : !strcmp(o->cmd, "status")     ? 'S'
                : !strcmp(o->cmd, "register")   ? (o->key ? 'K' : 'G')
                : !strcmp(o->cmd, "resync")     ? 'Y'
                : !strcmp(o->cmd, "unregister") ? 'U'
                : !strcmp(o->cmd, "route")      ? 'R'
                                                : 0;
    if (!type)
        return -1;
    int fd = rh_local_open(o);
    if (fd < 0)
        return -1;
    unsigned char opts[OPT_LEN];
    pack_opts(opts, o);
    int code = request(fd, type, opts, text, len, std_fds, 0);
    close(fd);
    return code;
}

/* The REPL's requests carry its live settings. */
static int repl_request(const rh_opts *o, int headers_off, int show_changes, char type,
                        const char *text, size_t len)
{
    int fd = rh_local_open(o);
    if (fd < 0)
        return -1;
    unsigned char opts[OPT_LEN];
    pack_opts(opts, o);
    opts[OPT_HEADERS_OFF] = (unsigned char)!!headers_off;
    opts[OPT_CHANGES] = (unsigned char)!!show_changes;
    int code = request(fd, type, opts, text, len, std_fds, 0);
    close(fd);
    return code;
}

int rh_local_statement(const rh_opts *o, int headers_off, int show_changes, const char *sql)
{
    return repl_request(o, headers_off, show_changes, 'P', sql, strlen(sql));
}

int rh_local_meta(const rh_opts *o, int headers_off, int show_changes, const char *line)
{
    return repl_request(o, headers_off, show_changes, 'M', line, strlen(line));
}

int rh_local_import(const rh_opts *o, int show_changes, const char *file, const char *table,
                    const char *csv)
{
    size_t nf = strlen(file) + 1, nt = strlen(table) + 1, nc = strlen(csv);
    char *p = malloc(nf + nt + nc + 1);
    if (!p) {
        rh_err("out of memory");
        return RH_EXIT_ERR;
    }
    memcpy(p, file, nf);
    memcpy(p + nf, table, nt);
    memcpy(p + nf + nt, csv, nc + 1);
    int code = repl_request(o, 0, show_changes, 'I', p, nf + nt + nc);
    free(p);
    return code;
}

int rh_local_sample(const rh_opts *o, int counts, char **out, size_t *out_len)
{
    unsigned char opts[OPT_LEN];
    char *buf = NULL;
    *out = NULL;
    *out_len = 0;
    int fd = rh_local_open(o);
    if (fd < 0)
        return -1;
    /* the service writes the sample into a memory file: no size limit of a pipe to block on */
    int mfd = memfd_create("rh-sample", MFD_CLOEXEC);
    pack_opts(opts, o);
    opts[OPT_COUNTS] = (unsigned char)!!counts;
    int fds[2] = {mfd, mfd};
    int code = mfd < 0 ? -1 : request(fd, 'T', opts, "", 0, fds, 1);
    close(fd);
    off_t size = code == RH_EXIT_OK ? lseek(mfd, 0, SEEK_END) : -1;
    if (size >= 0 && (size_t)size <= SAMPLE_MAX && (buf = malloc((size_t)size + 1)) &&
        pread(mfd, buf, (size_t)size, 0) == size) {
        buf[size] = '\0';
        *out = buf, *out_len = (size_t)size;
    } else {
        free(buf);
        code = -1;
    }
    if (mfd >= 0)
        close(mfd);
    return code;
}

/* --- server (rh serve) ------------------------------------------------------------------ */

int rh_local_listen(rh_session *s, rh_local_server *l)
{
    struct sockaddr_un sa;
    struct stat st;
    l->fd = -1;
    l->path[0] = '\0';
    if (sock_path(s->oltp_path, &sa) != 0 || stat(s->oltp_path, &st) != 0)
        return -1; /* a path too long for a socket: the service runs, unreachable locally */
    /* we own the database's lock, so a socket file left here is a dead owner's */
    unlink(sa.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    mode_t old = umask(0177); /* nobody may connect before the mode below is set */
    int ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    umask(old);
    /* the database file's permissions: who may write it may ask its owner to */
    ok = ok && chmod(sa.sun_path, st.st_mode & 0666) == 0 && listen(fd, 16) == 0;
    if (!ok) {
        rh_err("cannot listen on '%s': %s", sa.sun_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(sa.sun_path);
        return -1;
    }
    l->fd = fd;
    snprintf(l->path, sizeof l->path, "%s", sa.sun_path);
    return 0;
}

void rh_local_close(rh_local_server *l)
{
    if (l->fd < 0)
        return;
    close(l->fd);
    unlink(l->path);
    l->fd = -1;
}

/* Reads one request: the header with two descriptors, then the payload. 0 or -1. */
static int read_request(int c, char *type, unsigned char *opts, char **text, size_t *len,
                        int fds[2])
{
    unsigned char head[8];
    char ctl[CMSG_SPACE(2 * sizeof(int))];
    struct iovec iov = {head, sizeof head};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
                        .msg_controllen = sizeof ctl};
    ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
    for (struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int got[2] = {-1, -1};
        memcpy(got, CMSG_DATA(cm), (k < 2 ? k : 2) * sizeof(int));
        if (k == 2 && fds[0] < 0) {
            fds[0] = got[0], fds[1] = got[1];
        } else { /* unexpected descriptors are closed, never used */
            for (size_t i = 0; i < k && i < 2; i++)
                close(got[i]);
        }
    }
    if (n <= 0 || (mh.msg_flags & MSG_CTRUNC) || fds[0] < 0 ||
        read_all(c, head + n, sizeof head - (size_t)n) != 0 || memcmp(head, "RH1", 3) != 0 ||
        !strchr(TYPES, head[3]) || !head[3])
        return -1;
    uint32_t total = get_u32(head + 4);
    if (total < OPT_LEN || total > LOCAL_FRAME_MAX)
        return -1;
    *type = (char)head[3];
    *len = total - OPT_LEN;
    if (read_all(c, opts, OPT_LEN) != 0 || !(*text = malloc(*len + 1)))
        return -1;
    if (read_all(c, *text, *len) != 0)
        return -1;
    (*text)[*len] = '\0';
    int valid = opts[OPT_FORMAT] <= RH_FMT_COLUMN && opts[OPT_HINT] <= RHEI_SIDE_OLAP &&
                opts[OPT_CONS] <= RHEI_STRONG;
    for (int i = OPT_TIMER; i <= OPT_COUNTS; i++)
        valid &= opts[i] <= 1;
    for (int i = OPT_COUNTS + 1; i < OPT_LEN; i++)
        valid &= opts[i] == 0;
    /* text is SQL or a dot command (no NUL inside) except for the table names of register,
     * resync and unregister and .import's file, table and CSV, NUL-separated */
    return valid && (strchr("GKYUI", *type) || strlen(*text) == *len) ? 0 : -1;
}

/* 'K': the key columns, then the table names (a payload without a NUL names no table) */
static int run_keyed(rh_session *s, const char *text, size_t len)
{
    size_t k = strlen(text);
    if (k + 1 >= len)
        return RH_EXIT_USAGE;
    return rh_table_verb(s, 'G', text, text + k + 1, len - k - 1);
}

/* Runs a request with stdout and stderr pointed at the client's. */
static int run_request(rh_session *s, char type, const unsigned char *opts, const char *text,
                       size_t len)
{
    rh_opts o;
    memset(&o, 0, sizeof o);
    o.cmd = type == 'X' ? "exec" : type == 'Q' ? "query" : "repl";
    o.format = (rh_format)opts[OPT_FORMAT];
    o.hint = (rhei_side)opts[OPT_HINT];
    o.consistency = opts[OPT_CONS] ? RHEI_STRONG : RHEI_EVENTUAL;
    o.timer = opts[OPT_TIMER], o.explain = opts[OPT_EXPLAIN];
    o.no_register = opts[OPT_NOREG], o.changes = opts[OPT_CHANGES];
    rh_session saved = *s;
    s->serving = 1;
    s->format = o.format;
    s->headers_off = opts[OPT_HEADERS_OFF];
    s->show_changes = o.changes;
    int code;
    switch (type) {
    case 'X': code = rh_exec_text(s, text, &o); break;
    case 'Q': code = rh_query_text(s, text, &o); break;
    case 'S': code = rh_print_status(s, stdout); break;
    case 'G':
    case 'Y':
    case 'U':
        code = rh_table_verb(s, type, NULL, text, len);
        break;
    case 'K':
        code = run_keyed(s, text, len);
        break;
    case 'R': code = rh_route_text(s, text); break;
    case 'M': code = rh_repl_served_meta(s, &o, text); break;
    case 'I': code = rh_repl_served_import(s, &o, text, len); break;
    case 'T': code = rh_dashboard_sample(s, stdout, opts[OPT_COUNTS]); break;
    default: code = rh_statement_text(s, text, &o); break;
    }
    s->format = saved.format, s->headers_off = saved.headers_off;
    s->show_changes = saved.show_changes;
    s->serving = 0;
    return code;
}

void (*rh_local_log)(void *ud, const char *request, long pid, int code);
void *rh_local_log_ud;

static const char *type_name(char type)
{
    static const char types[] = TYPES;
    static const char *const names[] = {"exec",      "query",    "status",      "register",
                                        "statement", "route",    "dot-command", "import",
                                        "sample",    "register", "resync",      "unregister"};
    const char *at = strchr(types, type);
    return at && type ? names[at - types] : "?";
}

static void serve_one(rh_local_server *l, rh_session *s, int c)
{
    struct timeval tv = {LOCAL_TIMEOUT_S, 0};
    unsigned char opts[OPT_LEN], reply[12] = {'R', 'H', '1', 'D', 0, 0, 0, 4};
    char type = 0, *text = NULL;
    size_t len = 0;
    int fds[2] = {-1, -1};
    (void)l;
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (read_request(c, &type, opts, &text, &len, fds) == 0) {
        fflush(stdout);
        fflush(stderr);
        int out = dup(STDOUT_FILENO), err = dup(STDERR_FILENO);
        int code = RH_EXIT_ERR;
        if (out >= 0 && err >= 0 && dup2(fds[0], STDOUT_FILENO) >= 0 &&
            dup2(fds[1], STDERR_FILENO) >= 0) {
            rh_out_reset();
            code = run_request(s, type, opts, text, len);
        }
        /* the client's stdout failing (full disk) fails its request, said on its stderr;
         * the service's own stdout starts clean again */
        if (rh_out_check() != RH_EXIT_OK && code == RH_EXIT_OK)
            code = RH_EXIT_ERR;
        rh_out_reset();
        fflush(stdout);
        fflush(stderr);
        if (out >= 0)
            dup2(out, STDOUT_FILENO), close(out);
        if (err >= 0)
            dup2(err, STDERR_FILENO), close(err);
        put_u32(reply + 8, (uint32_t)code);
        write_all(c, reply, sizeof reply);
        struct ucred cred = {0, 0, 0};
        socklen_t n = sizeof cred;
        getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &n);
        if (rh_local_log && type != 'T') /* a dashboard's samples would drown the log */
            rh_local_log(rh_local_log_ud, type_name(type), (long)cred.pid, code);
    }
    free(text);
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    close(c);
}

void rh_local_serve(rh_local_server *l, rh_session *s, int timeout_ms)
{
    struct pollfd p = {l->fd, POLLIN, 0};
    if (l->fd < 0 || poll(&p, 1, timeout_ms) <= 0)
        return;
    for (int i = 0; i < 16; i++) { /* a few queued clients per call; the loop comes back */
        int c = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            return;
        serve_one(l, s, c);
    }
}
