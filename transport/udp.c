/*
 * The UDP adapters: the one place (with transport/) where petrel touches
 * sockets. See petrel/udp.h.
 */
#define _POSIX_C_SOURCE 200809L
#include <petrel/udp.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "conn/conn_internal.h"
#include "transport/net.h"

#define UDP_MAX_DATAGRAM 65536
#define UDP_BUCKETS      256
#define UDP_BATCH        64 /* datagrams read per run_once before timers run */

/* ======================================================================
 * Datagrams
 * ====================================================================== */

/* Where a datagram came from, or goes to. */
typedef struct udp_addr {
    struct sockaddr_storage sa;
    socklen_t len;
} udp_addr;

/* Sends every datagram the connection has queued. A datagram the socket
 * refuses (full buffer, unreachable peer) counts as lost: DTLS recovers. */
static void flush(petrel_conn *conn, int fd, const udp_addr *to)
{
    const uint8_t *buf;
    int n;
    while ((n = petrel_get_outdata(conn, &buf)) > 0) {
        if (to)
            (void)sendto(fd, buf, (size_t)n, 0, (const struct sockaddr *)&to->sa, to->len);
        else
            (void)send(fd, buf, (size_t)n, 0);
        (void)petrel_sent(conn, (size_t)n);
    }
}

/* ======================================================================
 * Client
 * ====================================================================== */

struct petrel_udp_client {
    const petrel_platform *platform;
    petrel_conn *conn;
    int fd;
    /* Application data that arrived while waiting for something else. */
    uint8_t pending[UDP_MAX_DATAGRAM];
    size_t pending_len;
    bool have_pending;
    bool peer_closed;
};

petrel_udp_client *petrel_udp_client_new(const petrel_config *cfg, const char *host,
                                         const char *port, int *error)
{
    petrel_udp_client *c = net_object_new(cfg, port, sizeof(*c), error);
    if (!c)
        return NULL;
    c->platform = conn_config_platform(cfg);
    c->fd = -1;
    c->conn = petrel_conn_new(cfg, PETREL_CLIENT, PETREL_DATAGRAM, NULL, 0);
    int rc = c->conn ? net_connect(c->platform, PETREL_LOG_NONE, host, port, SOCK_DGRAM, 0, &c->fd)
                     : PETREL_ERR_NOMEM;
    if (rc < 0) {
        petrel_udp_client_free(c);
        return net_fail(error, rc);
    }
    return c;
}

void petrel_udp_client_free(petrel_udp_client *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    petrel_conn_free(c->conn);
    platform_free(c->platform, c);
}

petrel_conn *petrel_udp_client_conn(petrel_udp_client *c)
{
    return c ? c->conn : NULL;
}

/* Feeds one datagram to the engine and acts on every status. */
static int client_feed(petrel_udp_client *c, size_t n)
{
    const uint8_t *data;
    size_t len;
    int rc = petrel_received(c->conn, n, &data, &len);
    for (;;) {
        if (rc < 0)
            break;
        if (rc == PETREL_APP_DATA && !c->have_pending) {
            memcpy(c->pending, data, len);
            c->pending_len = len;
            c->have_pending = true;
        } else if (rc == PETREL_RECEIVED_ALERT) {
            int description;
            if (petrel_last_alert(c->conn, NULL, &description) && description == 0)
                c->peer_closed = true;
        } else if (rc != PETREL_HANDSHAKE_COMPLETE && rc != PETREL_APP_DATA) {
            break;
        }
        rc = petrel_processed(c->conn, &data, &len);
    }
    flush(c->conn, c->fd, NULL);
    return rc < 0 ? rc : 0;
}

/* One wait: up to wait_ms (or the engine's timer) for a datagram. */
static int client_step(petrel_udp_client *c, int wait_ms)
{
    struct pollfd pfd = {c->fd, POLLIN, 0};
    int wait = (int)net_shorter_wait(petrel_next_timeout(c->conn), wait_ms);
    int ready = poll(&pfd, 1, wait);
    if (ready < 0)
        return errno == EINTR ? 0 : PETREL_ERR_IO;
    if (ready > 0) {
        uint8_t *buf;
        int cap = petrel_get_readbuf(c->conn, &buf);
        ssize_t n = recv(c->fd, buf, (size_t)cap, 0);
        if (n > 0)
            PETREL_TRY(client_feed(c, (size_t)n));
        else if (n < 0 && !net_would_block(errno) && errno != ECONNREFUSED)
            return PETREL_ERR_IO;
    }
    if (petrel_next_timeout(c->conn) == 0) {
        PETREL_TRY(petrel_handle_timeout(c->conn));
        flush(c->conn, c->fd, NULL);
    }
    return 0;
}

int petrel_udp_client_handshake(petrel_udp_client *c, int timeout_ms)
{
    if (!c)
        return PETREL_ERR_ARG;
    uint64_t deadline = net_deadline_after(c->platform, timeout_ms);
    PETREL_TRY(petrel_connect(c->conn));
    flush(c->conn, c->fd, NULL);
    while (!petrel_handshake_complete(c->conn)) {
        int left = net_deadline_left(c->platform, deadline);
        if (left == 0)
            return PETREL_ERR_TIMEOUT;
        PETREL_TRY(client_step(c, left));
    }
    return 0;
}

int petrel_udp_client_send(petrel_udp_client *c, const uint8_t *data, size_t len)
{
    if (!c)
        return PETREL_ERR_ARG;
    PETREL_TRY(petrel_encode_to_outdata(c->conn, data, len));
    flush(c->conn, c->fd, NULL);
    return 0;
}

int petrel_udp_client_recv(petrel_udp_client *c, uint8_t *buf, size_t cap, int timeout_ms)
{
    if (!c || (!buf && cap))
        return PETREL_ERR_ARG;
    uint64_t deadline = net_deadline_after(c->platform, timeout_ms);
    while (!c->have_pending && !c->peer_closed) {
        int left = net_deadline_left(c->platform, deadline);
        if (left == 0)
            return PETREL_ERR_TIMEOUT;
        PETREL_TRY(client_step(c, left));
    }
    if (!c->have_pending)
        return 0;
    size_t n = c->pending_len < cap ? c->pending_len : cap;
    memcpy(buf, c->pending, n);
    c->have_pending = false;
    return (int)n;
}

int petrel_udp_client_close(petrel_udp_client *c)
{
    if (!c)
        return PETREL_ERR_ARG;
    PETREL_TRY(petrel_close_notify(c->conn));
    flush(c->conn, c->fd, NULL);
    return 0;
}

/* ======================================================================
 * Server
 * ====================================================================== */

struct petrel_udp_session {
    petrel_udp_server *srv;
    petrel_conn *conn;
    udp_addr addr;
    uint8_t key[NET_ADDR_KEY_MAX];
    size_t key_len;
    char name[NET_ADDR_NAME_MAX];
    uint64_t created;
    uint64_t last_rx;
    bool established;
    bool closing;
    void *user;
    petrel_udp_session *next_in_bucket;
    petrel_udp_session *prev, *next; /* all sessions */
};

struct petrel_udp_server {
    petrel_config *cfg;
    const petrel_platform *platform;
    petrel_udp_server_options opt;
    petrel_udp_server_handlers handlers;
    void *ref;
    int fd;
    int port;
    size_t count;
    size_t half_open; /* sessions not yet established */
    uint64_t next_rotation;
    petrel_udp_session *buckets[UDP_BUCKETS];
    petrel_udp_session *all;
    uint8_t buf[UDP_MAX_DATAGRAM];
};

static unsigned bucket_of(const uint8_t *key, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ key[i]) * 16777619u;
    return h % UDP_BUCKETS;
}

static petrel_udp_session *session_find(petrel_udp_server *srv, const uint8_t *key, size_t len)
{
    for (petrel_udp_session *s = srv->buckets[bucket_of(key, len)]; s; s = s->next_in_bucket) {
        if (s->key_len == len && memcmp(s->key, key, len) == 0)
            return s;
    }
    return NULL;
}

static void session_free(petrel_udp_server *srv, petrel_udp_session *s, int reason)
{
    if (srv->handlers.on_closed)
        srv->handlers.on_closed(srv->ref, s, reason);
    petrel_udp_session **link = &srv->buckets[bucket_of(s->key, s->key_len)];
    while (*link != s)
        link = &(*link)->next_in_bucket;
    *link = s->next_in_bucket;
    if (s->prev)
        s->prev->next = s->next;
    else
        srv->all = s->next;
    if (s->next)
        s->next->prev = s->prev;
    srv->count--;
    if (!s->established)
        srv->half_open--;
    petrel_conn_free(s->conn);
    platform_free(srv->platform, s);
}

static petrel_udp_session *session_new(petrel_udp_server *srv, const udp_addr *addr,
                                       const uint8_t *key, size_t key_len)
{
    petrel_udp_session *s = platform_calloc(srv->platform, 1, sizeof(*s));
    if (!s)
        return NULL;
    s->conn = petrel_conn_new(srv->cfg, PETREL_SERVER, PETREL_DATAGRAM, key, key_len);
    if (!s->conn) {
        platform_free(srv->platform, s);
        return NULL;
    }
    s->srv = srv;
    s->addr = *addr;
    memcpy(s->key, key, key_len);
    s->key_len = key_len;
    net_addr_format(&addr->sa, s->name, sizeof(s->name));
    s->created = s->last_rx = platform_now_ms(srv->platform);
    unsigned b = bucket_of(key, key_len);
    s->next_in_bucket = srv->buckets[b];
    srv->buckets[b] = s;
    s->next = srv->all;
    if (srv->all)
        srv->all->prev = s;
    srv->all = s;
    srv->count++;
    srv->half_open++;
    return s;
}

petrel_udp_server *petrel_udp_server_new(petrel_config *cfg, const char *host, const char *port,
                                         const petrel_udp_server_options *options,
                                         const petrel_udp_server_handlers *handlers, void *ref,
                                         int *error)
{
    petrel_udp_server *srv = net_object_new(cfg, port, sizeof(*srv), error);
    if (!srv)
        return NULL;
    const petrel_platform *p = conn_config_platform(cfg);
    srv->cfg = cfg;
    srv->platform = p;
    srv->ref = ref;
    srv->fd = -1;
    srv->opt = (petrel_udp_server_options){1024, 256, 300000, 60000, 60000};
    if (options) {
        if (options->max_sessions)
            srv->opt.max_sessions = options->max_sessions;
        if (options->max_half_open)
            srv->opt.max_half_open = options->max_half_open;
        if (options->idle_timeout_ms)
            srv->opt.idle_timeout_ms = options->idle_timeout_ms;
        if (options->handshake_timeout_ms)
            srv->opt.handshake_timeout_ms = options->handshake_timeout_ms;
        if (options->cookie_rotation_ms)
            srv->opt.cookie_rotation_ms = options->cookie_rotation_ms;
    }
    if (handlers)
        srv->handlers = *handlers;
    int rc = net_bind(p, PETREL_LOG_NONE, host, port, SOCK_DGRAM, &srv->fd);
    if (rc < 0) {
        petrel_udp_server_free(srv);
        return net_fail(error, rc);
    }
    srv->port = net_local_port(srv->fd);
    srv->next_rotation = platform_now_ms(p) + srv->opt.cookie_rotation_ms;
    return srv;
}

void petrel_udp_server_free(petrel_udp_server *srv)
{
    if (!srv)
        return;
    while (srv->all)
        session_free(srv, srv->all, PETREL_ERR_CLOSED);
    if (srv->fd >= 0)
        close(srv->fd);
    platform_free(srv->platform, srv);
}

int petrel_udp_server_port(const petrel_udp_server *srv)
{
    return srv ? srv->port : PETREL_ERR_ARG;
}

int petrel_udp_server_fd(const petrel_udp_server *srv)
{
    return srv ? srv->fd : PETREL_ERR_ARG;
}

size_t petrel_udp_server_session_count(const petrel_udp_server *srv)
{
    return srv ? srv->count : 0;
}

size_t petrel_udp_server_half_open_count(const petrel_udp_server *srv)
{
    return srv ? srv->half_open : 0;
}

/* Feeds one datagram to a session. Returns a negative error when the
 * session has ended (after on_closed). */
static int session_feed(petrel_udp_server *srv, petrel_udp_session *s, const uint8_t *dgram,
                        size_t n)
{
    uint8_t *buf;
    const uint8_t *data;
    size_t len;
    int cap = petrel_get_readbuf(s->conn, &buf);
    if (cap < 0 || n > (size_t)cap)
        return 0; /* larger than any valid DTLS datagram: drop it */
    memcpy(buf, dgram, n);
    petrel_conn_stats before, after;
    petrel_get_stats(s->conn, &before);
    int rc = petrel_received(s->conn, n, &data, &len);
    while (rc >= 0) {
        if (rc == PETREL_HANDSHAKE_COMPLETE) {
            s->established = true;
            srv->half_open--;
            if (srv->handlers.on_established)
                srv->handlers.on_established(srv->ref, s);
        } else if (rc == PETREL_APP_DATA) {
            if (srv->handlers.on_data)
                srv->handlers.on_data(srv->ref, s, data, len);
        } else if (rc == PETREL_RECEIVED_ALERT) {
            int description;
            if (petrel_last_alert(s->conn, NULL, &description) && description == 0)
                s->closing = true;
        } else {
            break;
        }
        rc = petrel_processed(s->conn, &data, &len);
    }
    flush(s->conn, srv->fd, &s->addr);
    /* Only records that authenticated keep a session alive: a spoofer who
     * knows the address cannot hold an idle session open with junk. */
    petrel_get_stats(s->conn, &after);
    if (after.records_accepted > before.records_accepted)
        s->last_rx = platform_now_ms(srv->platform);
    if (rc < 0 || s->closing) {
        session_free(srv, s, rc < 0 ? rc : 0);
        return rc < 0 ? rc : PETREL_ERR_CLOSED;
    }
    return 0;
}

/* A datagram from an address without a session: the cookie gate. */
static void on_unknown_peer(petrel_udp_server *srv, const udp_addr *from, const uint8_t *key,
                            size_t key_len, size_t n)
{
    uint8_t reply[256];
    size_t reply_len;
    int rc = petrel_server_check_hello(srv->cfg, key, key_len, srv->buf, n, reply, sizeof(reply),
                                       &reply_len);
    if (rc == 0) {
        (void)sendto(srv->fd, reply, reply_len, 0, (const struct sockaddr *)&from->sa, from->len);
        return;
    }
    if (rc != 1 || srv->count >= srv->opt.max_sessions || srv->half_open >= srv->opt.max_half_open)
        return;
    petrel_udp_session *s = session_new(srv, from, key, key_len);
    if (s)
        (void)session_feed(srv, s, srv->buf, n);
}

static void read_datagrams(petrel_udp_server *srv)
{
    for (int i = 0; i < UDP_BATCH; i++) {
        udp_addr from;
        from.len = sizeof(from.sa);
        ssize_t n = recvfrom(srv->fd, srv->buf, sizeof(srv->buf), 0, (struct sockaddr *)&from.sa,
                             &from.len);
        if (n < 0)
            return; /* EAGAIN, or an ICMP error from an earlier send */
        uint8_t key[NET_ADDR_KEY_MAX];
        size_t key_len = net_addr_key(&from.sa, key);
        petrel_udp_session *s = session_find(srv, key, key_len);
        if (s)
            (void)session_feed(srv, s, srv->buf, (size_t)n);
        else
            on_unknown_peer(srv, &from, key, key_len, (size_t)n);
    }
}

/* Fires due timers and expires sessions; returns the wait until the next
 * timer (-1: none). */
static int service_timers(petrel_udp_server *srv)
{
    uint64_t now = platform_now_ms(srv->platform);
    int64_t next = -1;
    if (now >= srv->next_rotation) {
        (void)petrel_config_rotate_cookie_secret(srv->cfg);
        srv->next_rotation = now + srv->opt.cookie_rotation_ms;
    }
    for (petrel_udp_session *s = srv->all, *following; s; s = following) {
        following = s->next;
        if (s->closing) {
            session_free(srv, s, 0);
            continue;
        }
        uint64_t limit = s->established ? srv->opt.idle_timeout_ms : srv->opt.handshake_timeout_ms;
        uint64_t since = s->established ? s->last_rx : s->created;
        if (now - since >= limit) {
            session_free(srv, s, PETREL_ERR_TIMEOUT);
            continue;
        }
        if (petrel_next_timeout(s->conn) == 0) {
            int rc = petrel_handle_timeout(s->conn);
            flush(s->conn, srv->fd, &s->addr);
            if (rc < 0) {
                session_free(srv, s, rc);
                continue;
            }
        }
        int64_t t = petrel_next_timeout(s->conn);
        if (t >= 0 && (next < 0 || t < next))
            next = t;
        int64_t expiry = (int64_t)(since + limit - now);
        if (next < 0 || expiry < next)
            next = expiry;
    }
    int64_t rotation = (int64_t)(srv->next_rotation - now);
    if (next < 0 || rotation < next)
        next = rotation;
    return next > 1000000 ? 1000000 : (int)next;
}

int petrel_udp_server_next_timeout(const petrel_udp_server *srv)
{
    if (!srv)
        return PETREL_ERR_ARG;
    uint64_t now = platform_now_ms(srv->platform);
    uint64_t next = srv->next_rotation > now ? srv->next_rotation - now : 0;
    for (const petrel_udp_session *s = srv->all; s && next > 0; s = s->next) {
        if (s->closing)
            return 0;
        uint64_t limit = s->established ? srv->opt.idle_timeout_ms : srv->opt.handshake_timeout_ms;
        uint64_t since = s->established ? s->last_rx : s->created;
        uint64_t expiry = now - since >= limit ? 0 : since + limit - now;
        if (expiry < next)
            next = expiry;
        int64_t t = petrel_next_timeout(s->conn);
        if (t >= 0 && (uint64_t)t < next)
            next = (uint64_t)t;
    }
    return next > 1000000 ? 1000000 : (int)next;
}

int petrel_udp_server_run_once(petrel_udp_server *srv, int max_wait_ms)
{
    if (!srv)
        return PETREL_ERR_ARG;
    int wait = (int)net_shorter_wait(service_timers(srv), max_wait_ms);
    struct pollfd pfd = {srv->fd, POLLIN, 0};
    int ready = poll(&pfd, 1, wait);
    if (ready < 0)
        return errno == EINTR ? 0 : PETREL_ERR_IO;
    if (ready > 0)
        read_datagrams(srv);
    (void)service_timers(srv);
    return 0;
}

int petrel_udp_session_send(petrel_udp_session *s, const uint8_t *data, size_t len)
{
    if (!s)
        return PETREL_ERR_ARG;
    PETREL_TRY(petrel_encode_to_outdata(s->conn, data, len));
    flush(s->conn, s->srv->fd, &s->addr);
    return 0;
}

int petrel_udp_session_close(petrel_udp_session *s)
{
    if (!s)
        return PETREL_ERR_ARG;
    PETREL_TRY(petrel_close_notify(s->conn));
    flush(s->conn, s->srv->fd, &s->addr);
    s->closing = true;
    return 0;
}

const char *petrel_udp_session_peer(const petrel_udp_session *s)
{
    return s ? s->name : "";
}

petrel_conn *petrel_udp_session_conn(petrel_udp_session *s)
{
    return s ? s->conn : NULL;
}

void petrel_udp_session_set_user(petrel_udp_session *s, void *user)
{
    if (s)
        s->user = user;
}

void *petrel_udp_session_user(const petrel_udp_session *s)
{
    return s ? s->user : NULL;
}
