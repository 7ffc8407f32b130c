/*
 * The TCP adapters: the engine in PETREL_STREAM mode over stream sockets.
 * See petrel/tcp.h. Every socket here is non-blocking; the blocking calls
 * of the client are poll loops bounded by their deadline.
 */
#define _GNU_SOURCE /* accept4 */
#include <petrel/tcp.h>

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "conn/conn_internal.h"
#include "transport/net.h"

#define TCP_CONNECT_MS      10000 /* petrel_tcp_client_new's bound on connect */
#define TCP_CLOSE_WAIT_MS   10000 /* petrel_tcp_client_close's bound on the flush */
#define TCP_MAX_PLAINTEXT   16384 /* one TLS record's plaintext, RFC 5246 §6.2.1 */
#define TCP_SEND_CHUNK      65536 /* plaintext handed to the engine per call */
#define TCP_RECORD_OVERHEAD 64    /* more than any suite adds to a record */
#define TCP_EVENTS          64    /* epoll events taken per wait */
#define TCP_ACCEPTS_PER_RUN 64
/* Bytes read from one session per run_once, so that a fast peer cannot
 * starve the others (epoll is level-triggered: the rest comes next time). */
#define TCP_READ_BUDGET (256 * 1024)
/* A session whose outdata exceeds this is not read until the peer takes
 * some: a peer that sends without reading cannot make us queue its echo
 * without bound (the engine refuses beyond PETREL_STREAM_OUT_MAX). */
#define TCP_HIGH_WATER (256 * 1024)
/* How long a session that sent close_notify waits for the answer, and how
 * long a finished one may take to drain its last bytes without progress. */
#define TCP_LINGER_MS 5000

/* ======================================================================
 * Shared helpers
 * ====================================================================== */

static void set_nodelay(int fd)
{
    int one = 1;
    /* Records leave whole: Nagle would only delay the last segment. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Bytes the engine has queued for the peer. */
static size_t outdata_pending(petrel_conn *conn)
{
    const uint8_t *buf;
    int n = petrel_get_outdata(conn, &buf);
    return n > 0 ? (size_t)n : 0;
}

/* Sends what the socket takes now. Returns 0 when nothing is left, 1 when
 * some is (the socket is full), or PETREL_ERR_IO with *err set to errno.
 * *progress is set when at least one byte left. */
PETREL_MUST_CHECK static int flush_now(petrel_conn *conn, int fd, bool *progress, int *err)
{
    const uint8_t *buf;
    int n;
    while ((n = petrel_get_outdata(conn, &buf)) > 0) {
        ssize_t k = send(fd, buf, (size_t)n, MSG_NOSIGNAL);
        if (k > 0) {
            (void)petrel_sent(conn, (size_t)k);
            if (progress)
                *progress = true;
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && net_would_block(errno))
            return 1;
        if (err)
            *err = k < 0 ? errno : EPIPE;
        return PETREL_ERR_IO;
    }
    return n < 0 ? n : 0;
}

/* A last attempt to send what is queued (an alert, close_notify) before
 * the socket closes: what the socket does not take is lost. */
static void flush_last(petrel_conn *conn, int fd)
{
    if (flush_now(conn, fd, NULL, NULL) != 0)
        return;
}

/* ======================================================================
 * Client
 * ====================================================================== */

struct petrel_tcp_client {
    const petrel_platform *platform;
    petrel_conn *conn;
    int fd;
    int error;       /* sticky: reading failed for good (engine, socket, truncation) */
    int write_error; /* sticky: the socket refused our bytes */
    bool started;    /* petrel_connect was called */
    /* The engine handed out an event and expects petrel_processed before
     * any new input: more records may wait in its buffer. */
    bool in_records;
    bool peer_closed;  /* close_notify arrived */
    bool shut_pending; /* close: shut the write side once outdata is out */
    size_t plain_off;  /* the record being handed out: [plain_off, plain_len) */
    size_t plain_len;
    uint8_t plain[TCP_MAX_PLAINTEXT];
};

petrel_tcp_client *petrel_tcp_client_new(const petrel_config *cfg, const char *host,
                                         const char *port, int *error)
{
    petrel_tcp_client *c = net_object_new(cfg, port, sizeof(*c), error);
    if (!c)
        return NULL;
    c->platform = conn_config_platform(cfg);
    c->fd = -1;
    c->conn = petrel_conn_new(cfg, PETREL_CLIENT, PETREL_STREAM, NULL, 0);
    int rc = c->conn ? net_connect(c->platform, PETREL_LOG_INFO, host, port, SOCK_STREAM,
                                   TCP_CONNECT_MS, &c->fd)
                     : PETREL_ERR_NOMEM;
    if (rc < 0) {
        petrel_tcp_client_free(c);
        return net_fail(error, rc);
    }
    set_nodelay(c->fd);
    if (error)
        *error = 0;
    return c;
}

void petrel_tcp_client_free(petrel_tcp_client *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    petrel_conn_free(c->conn);
    petrel_wipe(c->plain, sizeof(c->plain));
    platform_free(c->platform, c);
}

petrel_conn *petrel_tcp_client_conn(petrel_tcp_client *c)
{
    return c ? c->conn : NULL;
}

int petrel_tcp_client_fd(const petrel_tcp_client *c)
{
    return c ? c->fd : PETREL_ERR_ARG;
}

/* Takes one status from petrel_received / petrel_processed. */
static void client_on_status(petrel_tcp_client *c, int rc, const uint8_t *data, size_t len)
{
    c->in_records =
        rc == PETREL_APP_DATA || rc == PETREL_HANDSHAKE_COMPLETE || rc == PETREL_RECEIVED_ALERT;
    if (rc < 0) {
        c->error = rc;
    } else if (rc == PETREL_APP_DATA) {
        if (len > sizeof(c->plain)) {
            c->error = PETREL_ERR_INTERNAL;
            c->in_records = false;
            return;
        }
        if (len)
            memcpy(c->plain, data, len);
        c->plain_off = 0;
        c->plain_len = len;
    } else if (rc == PETREL_RECEIVED_ALERT && petrel_peer_closed(c->conn)) {
        c->peer_closed = true;
    }
}

/* Steps through the engine's events until one leaves plaintext to hand
 * out or the records held are used up. */
static void client_process(petrel_tcp_client *c)
{
    while (c->in_records && c->plain_off == c->plain_len && !c->error) {
        const uint8_t *data = NULL;
        size_t len = 0;
        int rc = petrel_processed(c->conn, &data, &len);
        client_on_status(c, rc, data, len);
    }
}

/* Sends what the socket takes now (see flush_now); once the queue is
 * empty after petrel_tcp_client_close, shuts the write side. */
PETREL_MUST_CHECK static int client_flush_now(petrel_tcp_client *c)
{
    if (c->write_error)
        return c->write_error;
    int err = 0;
    int rc = flush_now(c->conn, c->fd, NULL, &err);
    if (rc < 0) {
        platform_log(c->platform, PETREL_LOG_INFO, "tcp: send: %s", strerror(err));
        c->write_error = rc;
        return rc;
    }
    if (rc == 0 && c->shut_pending) {
        c->shut_pending = false;
        (void)shutdown(c->fd, SHUT_WR);
    }
    return rc;
}

/* The stream ended (recv returned 0, or the peer reset it). */
static void client_stream_ended(petrel_tcp_client *c)
{
    int rc = petrel_received_eof(c->conn);
    if (rc == 0)
        c->peer_closed = true;
    else
        c->error = rc;
}

/* One non-blocking read into the engine. Returns true when it made
 * progress (bytes, end of stream or an error to report), false when the
 * socket had nothing. MUST NOT be called while in_records. */
static bool client_read(petrel_tcp_client *c)
{
    for (;;) {
        uint8_t *buf;
        int cap = petrel_get_readbuf(c->conn, &buf);
        if (cap <= 0) {
            c->error = cap < 0 ? cap : PETREL_ERR_INTERNAL;
            return true;
        }
        ssize_t n = recv(c->fd, buf, (size_t)cap, 0);
        if (n > 0) {
            const uint8_t *data = NULL;
            size_t len = 0;
            int rc = petrel_received(c->conn, (size_t)n, &data, &len);
            client_on_status(c, rc, data, len);
            return true;
        }
        if (n == 0 || errno == ECONNRESET) {
            client_stream_ended(c);
            return true;
        }
        if (errno == EINTR)
            continue;
        if (net_would_block(errno))
            return false;
        platform_log(c->platform, PETREL_LOG_INFO, "tcp: recv: %s", strerror(errno));
        c->error = PETREL_ERR_IO;
        return true;
    }
}

/* A write failed: the reason may wait in the receive buffer (the peer's
 * fatal alert, or its end of stream), which says more than "socket
 * error". */
static int client_write_failed(petrel_tcp_client *c, int rc)
{
    if (!c->error && !c->in_records)
        (void)client_read(c);
    return c->error ? c->error : rc;
}

/* Waits up to left ms (-1: no limit) for events on the socket. */
PETREL_MUST_CHECK static int client_poll(petrel_tcp_client *c, short events, int left)
{
    struct pollfd pfd = {c->fd, events, 0};
    if (poll(&pfd, 1, left) < 0 && errno != EINTR) {
        platform_log(c->platform, PETREL_LOG_ERROR, "tcp: poll: %s", strerror(errno));
        return PETREL_ERR_IO;
    }
    return 0;
}

static int timed_out(int timeout_ms)
{
    return timeout_ms == 0 ? PETREL_ERR_WOULD_BLOCK : PETREL_ERR_TIMEOUT;
}

int petrel_tcp_client_handshake(petrel_tcp_client *c, int timeout_ms)
{
    if (!c)
        return PETREL_ERR_ARG;
    if (!c->started) {
        int rc = petrel_connect(c->conn);
        if (rc < 0)
            return rc;
        c->started = true;
    }
    uint64_t deadline = net_deadline_after(c->platform, timeout_ms);
    for (;;) {
        client_process(c);
        int flushed = client_flush_now(c);
        if (c->error)
            return c->error;
        if (flushed < 0)
            return client_write_failed(c, flushed);
        bool complete = petrel_handshake_complete(c->conn);
        if (complete && flushed == 0)
            return 0;
        if (!complete && c->peer_closed)
            return PETREL_ERR_CLOSED;
        if (!complete && !c->in_records && client_read(c))
            continue;
        int left = net_deadline_left(c->platform, deadline);
        if (left == 0)
            return timed_out(timeout_ms);
        PETREL_TRY(client_poll(c, (short)(POLLIN | (flushed ? POLLOUT : 0)), left));
    }
}

/* Whether len more bytes of plaintext fit in the engine's output queue. */
static bool client_room_for(petrel_tcp_client *c, size_t len)
{
    size_t overhead = (len / TCP_MAX_PLAINTEXT + 1) * TCP_RECORD_OVERHEAD;
    return outdata_pending(c->conn) + len + overhead <= PETREL_STREAM_OUT_MAX;
}

int petrel_tcp_client_send(petrel_tcp_client *c, const uint8_t *data, size_t len, int timeout_ms)
{
    if (!c || (!data && len) || len > INT_MAX)
        return PETREL_ERR_ARG;
    if (c->write_error)
        return c->write_error;
    uint64_t deadline = net_deadline_after(c->platform, timeout_ms);
    size_t done = 0;
    for (;;) {
        bool limited = false;
        while (done < len) {
            size_t chunk = len - done < TCP_SEND_CHUNK ? len - done : TCP_SEND_CHUNK;
            if (!client_room_for(c, chunk))
                break;
            int rc = petrel_encode_to_outdata(c->conn, data + done, chunk);
            if (rc == PETREL_ERR_LIMIT) {
                limited = true; /* our estimate of the room was short: wait */
                break;
            }
            if (rc < 0)
                return done ? (int)done : rc;
            done += chunk;
        }
        int flushed = client_flush_now(c);
        if (flushed < 0)
            return client_write_failed(c, flushed);
        if (limited && flushed == 0)
            return done ? (int)done : PETREL_ERR_LIMIT; /* even an empty queue has no room */
        /* Everything taken: the rest of the queue goes out with later
         * calls when the socket is full now. */
        if (done == len && (flushed == 0 || timeout_ms == 0))
            return (int)len;
        int left = net_deadline_left(c->platform, deadline);
        if (left == 0)
            return done ? (int)done : timed_out(timeout_ms);
        PETREL_TRY(client_poll(c, POLLOUT, left));
    }
}

int petrel_tcp_client_flush(petrel_tcp_client *c, int timeout_ms)
{
    if (!c)
        return PETREL_ERR_ARG;
    uint64_t deadline = net_deadline_after(c->platform, timeout_ms);
    for (;;) {
        int flushed = client_flush_now(c);
        if (flushed < 0)
            return client_write_failed(c, flushed);
        if (flushed == 0)
            return 0;
        int left = net_deadline_left(c->platform, deadline);
        if (left == 0)
            return timed_out(timeout_ms);
        PETREL_TRY(client_poll(c, POLLOUT, left));
    }
}

int petrel_tcp_client_recv(petrel_tcp_client *c, uint8_t *buf, size_t cap, int timeout_ms)
{
    if (!c || !buf || cap == 0)
        return PETREL_ERR_ARG;
    if (cap > INT_MAX)
        cap = INT_MAX;
    uint64_t deadline = net_deadline_after(c->platform, timeout_ms);
    for (;;) {
        client_process(c);
        if (c->plain_off < c->plain_len) {
            size_t n = c->plain_len - c->plain_off;
            if (n > cap)
                n = cap;
            memcpy(buf, c->plain + c->plain_off, n);
            c->plain_off += n;
            if (c->plain_off == c->plain_len)
                c->plain_off = c->plain_len = 0;
            return (int)n;
        }
        /* Answers (our close_notify after the peer's) and bytes an earlier
         * non-blocking send left behind go out while we wait; a refused
         * write does not stop reading. */
        int flushed = client_flush_now(c);
        if (c->error)
            return c->error;
        if (c->peer_closed)
            return 0;
        if (!c->in_records && client_read(c))
            continue;
        int left = net_deadline_left(c->platform, deadline);
        if (left == 0)
            return timed_out(timeout_ms);
        PETREL_TRY(client_poll(c, (short)(POLLIN | (flushed > 0 ? POLLOUT : 0)), left));
    }
}

int petrel_tcp_client_close(petrel_tcp_client *c)
{
    if (!c)
        return PETREL_ERR_ARG;
    /* A failed connection gets no close_notify: its error says how it
     * ended. */
    int rc = c->error ? c->error : petrel_close_notify(c->conn);
    /* PETREL_ERR_STATE: close_notify went already (answering the peer's,
     * or an earlier close). */
    if (rc < 0 && rc != PETREL_ERR_STATE) {
        (void)shutdown(c->fd, SHUT_WR);
        return rc;
    }
    c->shut_pending = true;
    rc = petrel_tcp_client_flush(c, TCP_CLOSE_WAIT_MS);
    /* The peer closed first and is gone before our answer reached it:
     * the connection still ended cleanly. */
    if (rc < 0 && rc != PETREL_ERR_TIMEOUT && c->peer_closed && !c->error)
        return 0;
    return rc;
}

/* ======================================================================
 * Server
 * ====================================================================== */

typedef enum session_state {
    SESSION_OPEN,     /* handshake under way, or established */
    SESSION_CLOSING,  /* we sent close_notify; waiting for the answer */
    SESSION_DRAINING, /* finished cleanly; sending the last queued bytes */
    SESSION_DEAD,     /* finished; freed by the next reap */
} session_state;

struct petrel_tcp_session {
    petrel_tcp_server *srv;
    petrel_conn *conn;
    int fd;
    uint32_t events; /* registered with epoll */
    session_state state;
    int end_reason; /* for on_closed, once DRAINING or DEAD */
    bool established;
    bool peer_closed; /* its close_notify arrived */
    bool read_eof;    /* recv returned 0: stop asking epoll for input */
    uint64_t created;
    uint64_t last_activity; /* events from the peer, or bytes it took */
    uint64_t state_since;   /* when CLOSING began */
    char name[NET_ADDR_NAME_MAX];
    void *user;
    petrel_tcp_session *prev, *next;
};

struct petrel_tcp_server {
    const petrel_config *cfg;
    const petrel_platform *platform;
    petrel_tcp_server_options opt;
    petrel_tcp_server_handlers handlers;
    void *ref;
    int listen_fd;
    int epoll_fd;
    int port;
    size_t count;
    petrel_tcp_session *all;
    /* The session run_once is serving now: sends from its handlers leave
     * the epoll interest to the end of the service. */
    petrel_tcp_session *serving;
    uint8_t discard[16384]; /* input read from a draining session */
};

petrel_tcp_server *petrel_tcp_server_new(const petrel_config *cfg, const char *host,
                                         const char *port, const petrel_tcp_server_options *options,
                                         const petrel_tcp_server_handlers *handlers, void *ref,
                                         int *error)
{
    petrel_tcp_server *srv = net_object_new(cfg, port, sizeof(*srv), error);
    if (!srv)
        return NULL;
    const petrel_platform *p = conn_config_platform(cfg);
    srv->cfg = cfg;
    srv->platform = p;
    srv->ref = ref;
    srv->listen_fd = -1;
    srv->epoll_fd = -1;
    srv->opt = (petrel_tcp_server_options){1024, 300000, 30000};
    if (options) {
        if (options->max_sessions)
            srv->opt.max_sessions = options->max_sessions;
        if (options->idle_timeout_ms)
            srv->opt.idle_timeout_ms = options->idle_timeout_ms;
        if (options->handshake_timeout_ms)
            srv->opt.handshake_timeout_ms = options->handshake_timeout_ms;
    }
    if (handlers)
        srv->handlers = *handlers;
    int rc = net_bind(p, PETREL_LOG_ERROR, host, port, SOCK_STREAM, &srv->listen_fd);
    if (rc == 0) {
        srv->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
        if (srv->epoll_fd < 0 || epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, srv->listen_fd, &ev) < 0) {
            platform_log(p, PETREL_LOG_ERROR, "tcp: epoll: %s", strerror(errno));
            rc = PETREL_ERR_IO;
        }
    }
    if (rc < 0) {
        petrel_tcp_server_free(srv);
        return net_fail(error, rc);
    }
    srv->port = net_local_port(srv->listen_fd);
    if (error)
        *error = 0;
    return srv;
}

/* Ends a session: the first reason counts. A clean end (0) first sends
 * what is queued (our close_notify among it); anything else stops at once
 * after one attempt to send what is queued (a fatal alert). Nothing is
 * freed here: handlers may still be on the stack. */
static void session_end(petrel_tcp_session *s, int reason)
{
    if (s->state >= SESSION_DRAINING)
        return;
    s->end_reason = reason;
    int flushed = flush_now(s->conn, s->fd, NULL, NULL);
    s->state = reason == 0 && flushed > 0 ? SESSION_DRAINING : SESSION_DEAD;
    s->last_activity = platform_now_ms(s->srv->platform);
    if (reason < 0)
        platform_log(s->srv->platform, PETREL_LOG_INFO, "tcp: %s: session ended: %s", s->name,
                     petrel_strerror(reason));
}

/* The peer's stream ended (end of file, or a reset). */
static void session_stream_ended(petrel_tcp_session *s)
{
    s->read_eof = true;
    int rc = petrel_received_eof(s->conn);
    /* We asked to close: the peer closing TCP is its answer. */
    session_end(s, s->state == SESSION_CLOSING ? 0 : rc);
}

/* Registers with epoll what the session waits for now. */
static void session_update_interest(petrel_tcp_session *s)
{
    if (s->state == SESSION_DEAD)
        return;
    size_t pending = outdata_pending(s->conn);
    bool want_in = !s->read_eof && (s->state == SESSION_DRAINING || pending < TCP_HIGH_WATER);
    uint32_t events = (want_in ? EPOLLIN : 0u) | (pending ? EPOLLOUT : 0u);
    if (events == s->events)
        return;
    struct epoll_event ev = {.events = events, .data.ptr = s};
    if (epoll_ctl(s->srv->epoll_fd, EPOLL_CTL_MOD, s->fd, &ev) < 0) {
        platform_log(s->srv->platform, PETREL_LOG_ERROR, "tcp: %s: epoll: %s", s->name,
                     strerror(errno));
        session_end(s, PETREL_ERR_IO);
        return;
    }
    s->events = events;
}

/* Acts on the statuses of petrel_received and the petrel_processed calls
 * that follow it, calling the handlers. */
static void session_events(petrel_tcp_session *s, int rc, const uint8_t *data, size_t len)
{
    petrel_tcp_server *srv = s->srv;
    while (rc >= 0 && s->state < SESSION_DRAINING) {
        if (rc == PETREL_HANDSHAKE_COMPLETE) {
            s->established = true;
            s->last_activity = platform_now_ms(srv->platform);
            if (srv->handlers.on_established)
                srv->handlers.on_established(srv->ref, s);
        } else if (rc == PETREL_APP_DATA) {
            s->last_activity = platform_now_ms(srv->platform);
            if (len && srv->handlers.on_data)
                srv->handlers.on_data(srv->ref, s, data, len);
        } else if (rc == PETREL_RECEIVED_ALERT) {
            s->last_activity = platform_now_ms(srv->platform);
            if (petrel_peer_closed(s->conn))
                s->peer_closed = true;
        } else {
            break;
        }
        data = NULL;
        len = 0;
        rc = petrel_processed(s->conn, &data, &len);
    }
    if (rc < 0)
        session_end(s, rc);
    else if (s->peer_closed)
        session_end(s, 0); /* the engine queued our close_notify */
}

/* Reads what the peer sent, within the budget. */
static void session_read(petrel_tcp_session *s)
{
    size_t budget = TCP_READ_BUDGET;
    while (budget && !s->read_eof && s->state != SESSION_DEAD) {
        ssize_t n;
        if (s->state == SESSION_DRAINING) {
            /* Nothing more is expected; reading keeps close() from
             * resetting the stream before our last bytes arrive. */
            n = recv(s->fd, s->srv->discard, sizeof(s->srv->discard), 0);
            if (n == 0)
                s->read_eof = true;
        } else {
            if (outdata_pending(s->conn) >= TCP_HIGH_WATER)
                return;
            uint8_t *buf;
            int cap = petrel_get_readbuf(s->conn, &buf);
            if (cap <= 0) {
                session_end(s, cap < 0 ? cap : PETREL_ERR_INTERNAL);
                return;
            }
            n = recv(s->fd, buf, (size_t)cap, 0);
            if (n > 0) {
                const uint8_t *data = NULL;
                size_t len = 0;
                int rc = petrel_received(s->conn, (size_t)n, &data, &len);
                session_events(s, rc, data, len);
            } else if (n == 0 || errno == ECONNRESET) {
                session_stream_ended(s);
                return;
            }
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (net_would_block(errno))
                return;
            if (s->state == SESSION_DRAINING) {
                s->read_eof = true;
            } else {
                platform_log(s->srv->platform, PETREL_LOG_INFO, "tcp: %s: recv: %s", s->name,
                             strerror(errno));
                session_end(s, PETREL_ERR_IO);
            }
            return;
        }
        budget -= (size_t)n < budget ? (size_t)n : budget;
    }
}

/* Sends what the socket takes; a draining session dies once empty. */
static void session_write(petrel_tcp_session *s)
{
    if (s->state == SESSION_DEAD)
        return;
    bool progress = false;
    int err = 0;
    int rc = flush_now(s->conn, s->fd, &progress, &err);
    if (progress)
        s->last_activity = platform_now_ms(s->srv->platform);
    if (rc < 0) {
        if (s->state == SESSION_DRAINING) {
            s->state = SESSION_DEAD; /* keeps its reason */
        } else if (err == EPIPE || err == ECONNRESET) {
            session_stream_ended(s);
        } else {
            platform_log(s->srv->platform, PETREL_LOG_INFO, "tcp: %s: send: %s", s->name,
                         strerror(err));
            session_end(s, PETREL_ERR_IO);
        }
        return;
    }
    if (rc == 0 && s->state == SESSION_DRAINING) {
        s->state = SESSION_DEAD;
        return;
    }
    session_update_interest(s);
}

static void session_service(petrel_tcp_server *srv, petrel_tcp_session *s, uint32_t events)
{
    if (s->state == SESSION_DEAD)
        return;
    srv->serving = s;
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        session_read(s);
    srv->serving = NULL;
    session_write(s);
}

static void session_new(petrel_tcp_server *srv, int fd, const struct sockaddr_storage *sa)
{
    uint8_t key[NET_ADDR_KEY_MAX];
    size_t key_len = net_addr_key(sa, key);
    petrel_tcp_session *s = platform_calloc(srv->platform, 1, sizeof(*s));
    if (s)
        s->conn = petrel_conn_new(srv->cfg, PETREL_SERVER, PETREL_STREAM, key, key_len);
    if (!s || !s->conn) {
        platform_log(srv->platform, PETREL_LOG_ERROR, "tcp: no memory for a new session");
        if (s)
            platform_free(srv->platform, s);
        close(fd);
        return;
    }
    s->srv = srv;
    s->fd = fd;
    s->events = EPOLLIN;
    s->created = s->last_activity = platform_now_ms(srv->platform);
    net_addr_format(sa, s->name, sizeof(s->name));
    struct epoll_event ev = {.events = s->events, .data.ptr = s};
    if (epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        platform_log(srv->platform, PETREL_LOG_ERROR, "tcp: epoll: %s", strerror(errno));
        petrel_conn_free(s->conn);
        platform_free(srv->platform, s);
        close(fd);
        return;
    }
    set_nodelay(fd);
    s->next = srv->all;
    if (srv->all)
        srv->all->prev = s;
    srv->all = s;
    srv->count++;
}

static void accept_pending(petrel_tcp_server *srv)
{
    for (int i = 0; i < TCP_ACCEPTS_PER_RUN; i++) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof(sa);
        int fd =
            accept4(srv->listen_fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                continue;
            if (!net_would_block(errno))
                platform_log(srv->platform, PETREL_LOG_WARNING, "tcp: accept: %s", strerror(errno));
            return;
        }
        if (srv->count >= srv->opt.max_sessions) {
            char name[NET_ADDR_NAME_MAX];
            net_addr_format(&sa, name, sizeof(name));
            platform_log(srv->platform, PETREL_LOG_INFO, "tcp: %s: refused, %zu sessions already",
                         name, srv->count);
            close(fd);
            continue;
        }
        session_new(srv, fd, &sa);
    }
}

/* Calls on_closed and frees the session. */
static void session_free(petrel_tcp_server *srv, petrel_tcp_session *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        srv->all = s->next;
    if (s->next)
        s->next->prev = s->prev;
    srv->count--;
    s->state = SESSION_DEAD;
    (void)epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, s->fd, NULL);
    if (srv->handlers.on_closed)
        srv->handlers.on_closed(srv->ref, s, s->end_reason);
    close(s->fd);
    petrel_conn_free(s->conn);
    platform_free(srv->platform, s);
}

static void reap(petrel_tcp_server *srv)
{
    for (petrel_tcp_session *s = srv->all, *following; s; s = following) {
        following = s->next;
        if (s->state == SESSION_DEAD)
            session_free(srv, s);
    }
}

/* A polite end for a session we give up on: close_notify when it can
 * still be sent. */
static void session_expire(petrel_tcp_session *s, int reason)
{
    if (s->established && s->state == SESSION_OPEN && petrel_close_notify(s->conn) >= 0)
        flush_last(s->conn, s->fd);
    session_end(s, reason);
}

/* Expires sessions past their time; returns the wait until the next
 * expiry (-1: none). */
static int expire_sessions(petrel_tcp_server *srv)
{
    uint64_t now = platform_now_ms(srv->platform);
    uint64_t linger =
        srv->opt.idle_timeout_ms < TCP_LINGER_MS ? srv->opt.idle_timeout_ms : TCP_LINGER_MS;
    int64_t next = -1;
    for (petrel_tcp_session *s = srv->all; s; s = s->next) {
        uint64_t since, limit;
        switch (s->state) {
        case SESSION_OPEN:
            since = s->established ? s->last_activity : s->created;
            limit = s->established ? srv->opt.idle_timeout_ms : srv->opt.handshake_timeout_ms;
            break;
        case SESSION_CLOSING:
            /* The peer gets the linger time to answer once it has taken
             * what we queued: a slow reader of a large last response is
             * making progress, not stalling. */
            since = s->last_activity > s->state_since ? s->last_activity : s->state_since;
            limit = linger;
            break;
        case SESSION_DRAINING:
            since = s->last_activity;
            limit = linger;
            break;
        default:
            continue;
        }
        if (now - since >= limit) {
            if (s->state == SESSION_DRAINING)
                s->state = SESSION_DEAD; /* keeps its reason */
            else
                session_expire(s, PETREL_ERR_TIMEOUT);
            continue;
        }
        int64_t left = (int64_t)(since + limit - now);
        if (next < 0 || left < next)
            next = left;
    }
    return next > INT_MAX ? INT_MAX : (int)next;
}

int petrel_tcp_server_run_once(petrel_tcp_server *srv, int max_wait_ms)
{
    if (!srv)
        return PETREL_ERR_ARG;
    int expiry = expire_sessions(srv);
    reap(srv);
    int wait = (int)net_shorter_wait(expiry, max_wait_ms);
    struct epoll_event events[TCP_EVENTS];
    int n = epoll_wait(srv->epoll_fd, events, TCP_EVENTS, wait);
    if (n < 0) {
        if (errno != EINTR) {
            platform_log(srv->platform, PETREL_LOG_ERROR, "tcp: epoll_wait: %s", strerror(errno));
            return PETREL_ERR_IO;
        }
        n = 0;
    }
    /* Sessions are only freed by reap, after every event is handled, so
     * each pointer in events stays valid. */
    for (int i = 0; i < n; i++) {
        if (events[i].data.ptr == NULL)
            accept_pending(srv);
        else
            session_service(srv, events[i].data.ptr, events[i].events);
    }
    (void)expire_sessions(srv);
    reap(srv);
    return 0;
}

void petrel_tcp_server_free(petrel_tcp_server *srv)
{
    if (!srv)
        return;
    for (petrel_tcp_session *s = srv->all; s; s = s->next) {
        if (s->state == SESSION_OPEN && s->established && petrel_close_notify(s->conn) >= 0)
            flush_last(s->conn, s->fd);
        if (s->state < SESSION_DRAINING)
            s->end_reason = PETREL_ERR_CLOSED;
        s->state = SESSION_DEAD;
    }
    reap(srv);
    if (srv->epoll_fd >= 0)
        close(srv->epoll_fd);
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    platform_free(srv->platform, srv);
}

int petrel_tcp_server_port(const petrel_tcp_server *srv)
{
    return srv ? srv->port : PETREL_ERR_ARG;
}

int petrel_tcp_server_fd(const petrel_tcp_server *srv)
{
    return srv ? srv->epoll_fd : PETREL_ERR_ARG;
}

size_t petrel_tcp_server_session_count(const petrel_tcp_server *srv)
{
    return srv ? srv->count : 0;
}

int petrel_tcp_session_send(petrel_tcp_session *s, const uint8_t *data, size_t len)
{
    if (!s || (!data && len))
        return PETREL_ERR_ARG;
    if (s->state >= SESSION_DRAINING)
        return PETREL_ERR_CLOSED;
    PETREL_TRY(petrel_encode_to_outdata(s->conn, data, len));
    if (s->srv->serving != s)
        session_update_interest(s);
    return 0;
}

int petrel_tcp_session_close(petrel_tcp_session *s)
{
    if (!s)
        return PETREL_ERR_ARG;
    if (s->state == SESSION_CLOSING)
        return 0;
    if (s->state != SESSION_OPEN)
        return PETREL_ERR_CLOSED;
    int rc = petrel_close_notify(s->conn);
    if (rc < 0) {
        session_end(s, rc);
        return rc;
    }
    s->state = SESSION_CLOSING;
    s->state_since = platform_now_ms(s->srv->platform);
    if (s->srv->serving != s)
        session_update_interest(s);
    return 0;
}

const char *petrel_tcp_session_peer(const petrel_tcp_session *s)
{
    return s ? s->name : "";
}

petrel_conn *petrel_tcp_session_conn(petrel_tcp_session *s)
{
    return s ? s->conn : NULL;
}

void petrel_tcp_session_set_user(petrel_tcp_session *s, void *user)
{
    if (s)
        s->user = user;
}

void *petrel_tcp_session_user(const petrel_tcp_session *s)
{
    return s ? s->user : NULL;
}
