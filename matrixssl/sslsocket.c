/*
 * The MatrixSSL socket layer (sslSocket.h): blocking TLS and DTLS over
 * plain descriptors, pumping the sans-I/O engine the way transport/udp.c
 * does: poll with the engine's timer, petrel_handle_timeout when it fires.
 *
 * Every socket call uses MSG_DONTWAIT and waits in poll(), whatever the
 * descriptor's O_NONBLOCK flag: that is what lets the retransmission timer
 * run inside a blocking call, and SO_RCVTIMEO / SO_SNDTIMEO are honoured
 * by turning them into poll deadlines.
 */
#define _POSIX_C_SOURCE 200809L
#include <matrixssl/sslSocket.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/util.h"
#include "conn/conn_internal.h"
#include "matrixssl/mssl_internal.h"
#include "transport/net.h"

/* Plaintext encrypted per step of a TLS sslWrite, so that a large write
 * never queues more than this beyond what the socket has taken. */
#define SSLSOCK_STREAM_CHUNK (64u * 1024)
/* sslAccept over UDP: room for any datagram while no connection exists. */
#define SSLSOCK_MAX_DATAGRAM 65536
/* Next to the engine's statuses (petrel_status, 0..5): the TCP stream
 * ended after the peer's close_notify. */
#define SSLSOCK_EVENT_EOF 100

struct sslConn {
    mssl_conn_base base; /* the certificate trampoline's ref (with a validator) */
    const petrel_platform *platform;
    petrel_conn *conn;
    SOCKET fd;
    bool datagram;
    int (*validator)(sslCertInfo_t *t);

    /* UDP server: the peer sslAccept took, and whether it connected fd
     * (and fd's own address before that, to restore it). */
    bool connected_by_accept;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    struct sockaddr_storage local;
    socklen_t local_len;
    /* sslAccept over UDP: the ClientHello whose cookie checked out, fed
     * to the engine by the first read. */
    uint8_t *first_dgram;
    size_t first_len;

    /* Plaintext of the last record not yet handed to the application. */
    uint8_t *plain;
    size_t plain_cap, plain_off, plain_len;
    /* The engine has more to report from input already received: call
     * petrel_processed before reading the socket again. */
    bool events_pending;
    bool eof; /* the peer's close_notify came */

    /* The final failure (PS_* code), its status and the petrel error. */
    int error;
    int error_status;
    int petrel_error;
    int status; /* *status for the call being made */

    /* An sslWrite that the socket did not take whole. */
    bool writing;
    int write_len;
    int write_done;
};

static int flush(sslConn_t *c, bool wait, bool keep);

/* ======================================================================
 * Failures
 * ====================================================================== */

/* Records the connection's final failure (the first one wins). */
static int fail(sslConn_t *c, int ps, int status, int err)
{
    if (!c->error) {
        c->error = ps;
        c->error_status = status;
        c->petrel_error = err;
    }
    c->status = c->error_status;
    return c->error;
}

/* A socket call failed with err: "would block" is PS_EAGAIN and leaves
 * the connection usable; anything else ends it. */
static int sock_error(sslConn_t *c, int err)
{
    c->status = err;
    if (net_would_block(err))
        return PS_EAGAIN;
    return fail(c, PS_PLATFORM_FAIL, err, PETREL_ERR_IO);
}

/* The engine failed for good; the alert it queued goes out if the socket
 * takes it now. */
static int engine_fail(sslConn_t *c, int err)
{
    int rc =
        fail(c, mssl_ps_error(err), err == PETREL_ERR_TRUNCATION ? SSLSOCKET_TRUNCATED : 0, err);
    if (c->conn)
        (void)flush(c, false, false);
    c->status = c->error_status;
    return rc;
}

/* ======================================================================
 * Waiting and moving bytes
 * ====================================================================== */

static bool socket_type(SOCKET fd, int *type)
{
    socklen_t len = sizeof(*type);
    return fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_TYPE, type, &len) == 0 &&
           (*type == SOCK_STREAM || *type == SOCK_DGRAM);
}

static bool nonblocking(SOCKET fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags >= 0 && (flags & O_NONBLOCK);
}

/* The deadline (platform clock, ms) that SO_RCVTIMEO or SO_SNDTIMEO sets
 * for a wait starting now; UINT64_MAX (none) when the option is not set,
 * as in transport/net.h. Not net_deadline_after: the option may be longer
 * than an int of milliseconds. */
static uint64_t deadline_for(const sslConn_t *c, int option)
{
    struct timeval tv;
    socklen_t len = sizeof(tv);
    if (getsockopt(c->fd, SOL_SOCKET, option, &tv, &len) < 0 || (tv.tv_sec == 0 && tv.tv_usec == 0))
        return UINT64_MAX;
    int64_t ms = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    return platform_now_ms(c->platform) + (uint64_t)(ms > 0 ? ms : 1);
}

/* The engine's retransmission timer fired: resend. */
static int run_timer(sslConn_t *c)
{
    int rc = petrel_handle_timeout(c->conn);
    if (rc < 0)
        return engine_fail(c, rc);
    rc = flush(c, false, false);
    return rc == PS_EAGAIN ? 0 : rc;
}

/*
 * Waits until fd is ready for `events` or the deadline (UINT64_MAX: none)
 * passes, running the engine's retransmission timer meanwhile. Returns 1
 * when the socket is ready, 0 after the timer ran (the caller looks
 * again), PS_EAGAIN at the deadline, or a failure.
 */
static int wait_socket(sslConn_t *c, short events, uint64_t deadline)
{
    for (;;) {
        int64_t wait = c->conn ? petrel_next_timeout(c->conn) : -1;
        if (wait == 0) {
            int rc = run_timer(c);
            return rc < 0 ? rc : 0;
        }
        int left = net_deadline_left(c->platform, deadline);
        if (left == 0) {
            c->status = EAGAIN;
            return PS_EAGAIN;
        }
        wait = net_shorter_wait(wait, left);
        struct pollfd pfd = {c->fd, events, 0};
        int ready = poll(&pfd, 1, wait < 0 ? -1 : wait > INT_MAX ? INT_MAX : (int)wait);
        if (ready > 0)
            return 1; /* readiness or an error: the next call reports which */
        if (ready < 0 && errno != EINTR)
            return sock_error(c, errno);
    }
}

/* A datagram the socket refused counts as lost: DTLS recovers. */
static int drop_datagram(sslConn_t *c, int len)
{
    int rc = petrel_sent(c->conn, (size_t)len);
    return rc < 0 ? engine_fail(c, rc) : 0;
}

/*
 * Sends what the engine has queued. wait: poll until a stream socket
 * takes everything (bounded by SO_SNDTIMEO). keep: a datagram the socket
 * refuses for now stays queued instead of counting as lost; without it
 * (handshake flights, which the timer resends) it is dropped, unless an
 * unfinished sslWrite has application data queued. Returns 0, PS_EAGAIN
 * (the rest stays queued) or a failure.
 */
static int flush(sslConn_t *c, bool wait, bool keep)
{
    uint64_t deadline = 0; /* 0: not computed yet (at the first wait) */
    for (;;) {
        const uint8_t *buf;
        int n = petrel_get_outdata(c->conn, &buf);
        if (n <= 0)
            return n < 0 ? engine_fail(c, n) : 0;
        ssize_t sent = send(c->fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent > 0) {
            int rc = petrel_sent(c->conn, c->datagram ? (size_t)n : (size_t)sent);
            if (rc < 0)
                return engine_fail(c, rc);
            continue;
        }
        int err = sent == 0 ? EAGAIN : errno;
        if (err == EINTR)
            continue;
        if (net_would_block(err)) {
            if (c->datagram && !keep && !c->writing) {
                PETREL_TRY(drop_datagram(c, n));
                continue;
            }
            if (!wait) {
                c->status = err;
                return PS_EAGAIN;
            }
            if (deadline == 0)
                deadline = deadline_for(c, SO_SNDTIMEO);
            int rc = wait_socket(c, POLLOUT, deadline);
            if (rc < 0)
                return rc;
            continue;
        }
        /* ICMP errors from earlier datagrams and transient shortages: the
         * datagram is lost, as on the wire. */
        if (c->datagram && (err == ECONNREFUSED || err == ENOBUFS || err == EHOSTUNREACH ||
                            err == ENETUNREACH || err == EMSGSIZE)) {
            PETREL_TRY(drop_datagram(c, n));
            continue;
        }
        return sock_error(c, err);
    }
}

/* Socket addresses are public: an early-exit comparison is fine here
 * (secrets compare through the provider's constant-time function). */
static bool public_bytes_equal(const void *a, const void *b, size_t len)
{
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < len; i++) {
        if (x[i] != y[i])
            return false;
    }
    return true;
}

static bool is_inet(const struct sockaddr_storage *sa)
{
    return sa->ss_family == AF_INET || sa->ss_family == AF_INET6;
}

/* IP addresses compare by their keys (family, port, address), other
 * families byte for byte. */
static bool same_address(const struct sockaddr_storage *a, socklen_t alen,
                         const struct sockaddr_storage *b, socklen_t blen)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (is_inet(a)) {
        uint8_t x[NET_ADDR_KEY_MAX], y[NET_ADDR_KEY_MAX];
        size_t n = net_addr_key(a, x);
        return net_addr_key(b, y) == n && public_bytes_equal(x, y, n);
    }
    return alen == blen && public_bytes_equal(a, b, alen);
}

/*
 * Reads the socket once into the engine. Returns the engine's status for
 * the new input; PETREL_SUCCESS when nothing arrived but the timer ran;
 * SSLSOCK_EVENT_EOF when the stream ended after close_notify; PS_EAGAIN
 * when nothing is there (wait false) or the deadline passed; or a failure.
 */
static int read_once(sslConn_t *c, bool wait, uint64_t deadline, const uint8_t **data, size_t *len)
{
    for (;;) {
        uint8_t *buf;
        int cap = petrel_get_readbuf(c->conn, &buf);
        if (cap < 0)
            return engine_fail(c, cap);
        ssize_t got;
        if (c->first_dgram) {
            got = c->first_len <= (size_t)cap ? (ssize_t)c->first_len : 0;
            if (got)
                memcpy(buf, c->first_dgram, c->first_len);
            platform_free(c->platform, c->first_dgram);
            c->first_dgram = NULL;
        } else if (c->datagram) {
            struct sockaddr_storage from;
            socklen_t from_len = sizeof(from);
            got = recvfrom(c->fd, buf, (size_t)cap, MSG_DONTWAIT, (struct sockaddr *)&from,
                           &from_len);
            /* Datagrams queued before sslAccept connected the socket may
             * come from other clients. */
            if (got >= 0 && c->peer_len && !same_address(&from, from_len, &c->peer, c->peer_len))
                continue;
        } else {
            got = recv(c->fd, buf, (size_t)cap, MSG_DONTWAIT);
        }
        if (got < 0) {
            int err = errno;
            if (err == EINTR || (c->datagram && err == ECONNREFUSED))
                continue;
            if (!net_would_block(err))
                return sock_error(c, err);
            if (!wait) {
                if (petrel_next_timeout(c->conn) == 0)
                    PETREL_TRY(run_timer(c));
                c->status = err;
                return PS_EAGAIN;
            }
            int rc = wait_socket(c, POLLIN, deadline);
            if (rc <= 0)
                return rc < 0 ? rc : PETREL_SUCCESS;
            continue;
        }
        if (got == 0 && c->datagram)
            continue;
        if (got == 0) {
            int rc = petrel_received_eof(c->conn);
            return rc < 0 ? engine_fail(c, rc) : SSLSOCK_EVENT_EOF;
        }
        int rc = petrel_received(c->conn, (size_t)got, data, len);
        return rc < 0 ? engine_fail(c, rc) : rc;
    }
}

/* The next thing the engine reports: from input already received, or
 * from one read of the socket. Output it produced is flushed. */
static int next_event(sslConn_t *c, bool wait, uint64_t deadline, const uint8_t **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    int rc;
    if (c->events_pending) {
        rc = petrel_processed(c->conn, data, len);
        if (rc < 0)
            rc = engine_fail(c, rc);
    } else {
        rc = read_once(c, wait, deadline, data, len);
    }
    c->events_pending =
        rc == PETREL_APP_DATA || rc == PETREL_HANDSHAKE_COMPLETE || rc == PETREL_RECEIVED_ALERT;
    if (rc == PETREL_REQUEST_SEND) {
        int sent = flush(c, wait, false);
        if (sent < 0 && sent != PS_EAGAIN)
            return sent;
    }
    return rc;
}

static bool got_close_notify(const sslConn_t *c)
{
    int level, description;
    return petrel_last_alert(c->conn, &level, &description) && description == 0;
}

/* Keeps a record's plaintext for sslRead. */
static int stash_plaintext(sslConn_t *c, const uint8_t *data, size_t len)
{
    if (len > c->plain_cap) {
        uint8_t *bigger = platform_alloc(c->platform, len);
        if (!bigger)
            return fail(c, PS_MEM_FAIL, 0, PETREL_ERR_NOMEM);
        platform_free_secret(c->platform, c->plain, c->plain_cap);
        c->plain = bigger;
        c->plain_cap = len;
    }
    memcpy(c->plain, data, len);
    c->plain_off = 0;
    c->plain_len = len;
    return 0;
}

static int copy_plaintext(sslConn_t *c, char *buf, int len)
{
    size_t n = c->plain_len - c->plain_off;
    if (n > (size_t)len)
        n = (size_t)len;
    memcpy(buf, c->plain + c->plain_off, n);
    c->plain_off += n;
    if (c->plain_off == c->plain_len)
        c->plain_off = c->plain_len = 0;
    return (int)n;
}

/* ======================================================================
 * Connections
 * ====================================================================== */

/* The certificate trampoline's way into sslConnect's validator. The
 * incoming alert is not passed on: the validator's one-argument signature
 * has no room for it, and each certificate's authStatus says the same. */
static int socket_verify(mssl_conn_base *self, const petrel_cert_info *chain, size_t count,
                         int alert)
{
    (void)alert;
    sslConn_t *c = (sslConn_t *)self;
    mssl_certs certs;
    if (mssl_certs_build(&certs, c->platform, chain, count) != PS_SUCCESS)
        return -1; /* internal_error */
    int verdict = c->validator(certs.head);
    mssl_certs_free(&certs);
    return verdict;
}

static void conn_free(sslConn_t *c)
{
    if (c->connected_by_accept) {
        /* Back to an unconnected socket that can accept the next client.
         * Linux releases the port of a socket bound to port 0 when it is
         * disconnected: bind it to its old address again. */
        struct sockaddr unspec;
        memset(&unspec, 0, sizeof(unspec));
        unspec.sa_family = AF_UNSPEC;
        (void)connect(c->fd, &unspec, sizeof(unspec));
        if (socketGetPort(c->fd) <= 0)
            (void)bind(c->fd, (struct sockaddr *)&c->local, c->local_len);
    }
    petrel_conn_free(c->conn);
    platform_free_secret(c->platform, c->plain, c->plain_cap);
    platform_free(c->platform, c->first_dgram);
    platform_free(c->platform, c);
}

/* sslConnect's and sslAccept's first step: checks their arguments,
 * setting *cp to NULL as soon as cp itself checks out, and makes the
 * connection object for fd, without its engine yet. */
static int conn_alloc(sslConn_t **cp, SOCKET fd, sslKeys_t *keys, sslConn_t **out)
{
    if (!cp)
        return PS_ARG_FAIL;
    *cp = NULL;
    int type;
    if (!keys || !socket_type(fd, &type))
        return PS_ARG_FAIL;
    sslConn_t *c = platform_calloc(keys->platform, 1, sizeof(*c));
    if (!c)
        return PS_MEM_FAIL;
    c->platform = keys->platform;
    c->fd = fd;
    c->datagram = type == SOCK_DGRAM;
    *out = c;
    return PS_SUCCESS;
}

static int conn_start(sslConn_t *c, const petrel_config *cfg, petrel_role role,
                      const uint8_t *peer_id, size_t peer_id_len)
{
    c->conn = petrel_conn_new(cfg, role, c->datagram ? PETREL_DATAGRAM : PETREL_STREAM, peer_id,
                              peer_id_len);
    if (!c->conn)
        return fail(c, PS_MEM_FAIL, 0, PETREL_ERR_NOMEM);
    return 0;
}

/* sslConnect's cipherSuite: the one suite this connection offers. The
 * keys' configuration is shared and stays as it is. */
static int offer_only(sslConn_t *c, uint16_t suite)
{
    int rc = petrel_conn_set_suites(c->conn, &suite, 1);
    if (rc < 0) {
        /* petrel's own log line names the suite's weakness. */
        platform_log(c->platform, PETREL_LOG_WARNING, "sslConnect: cipherSuite 0x%04x: %s (%s)",
                     suite, petrel_strerror(rc), petrel_error_name(rc));
        return fail(c, mssl_ps_error(rc), 0, rc);
    }
    return 0;
}

/* sslConnect's certValidator, on this connection only: a connection
 * without one keeps petrel's own verdict, and offers certificate suites
 * only when the keys hold CAs. */
static int install_validator(sslConn_t *c, int (*validator)(sslCertInfo_t *t))
{
    c->validator = validator;
    c->base.verify = socket_verify;
    int rc = petrel_conn_set_cert_callback(c->conn, mssl_cert_trampoline, &c->base);
    return rc < 0 ? fail(c, mssl_ps_error(rc), 0, rc) : 0;
}

/* Runs the handshake to its end, flushing the last flight. SO_RCVTIMEO
 * bounds how long the peer may stay silent (retransmitting to it does not
 * count), so it also bounds a DTLS handshake with a peer that is gone. */
static int run_handshake(sslConn_t *c)
{
    uint64_t deadline = deadline_for(c, SO_RCVTIMEO);
    for (;;) {
        int rc = flush(c, true, false);
        if (rc < 0)
            return rc;
        if (petrel_handshake_complete(c->conn))
            return 0;
        const uint8_t *data;
        size_t len;
        rc = next_event(c, true, deadline, &data, &len);
        if (rc < 0)
            return rc;
        if (rc != PETREL_SUCCESS) /* input arrived (PETREL_SUCCESS: only the timer ran) */
            deadline = deadline_for(c, SO_RCVTIMEO);
        if (rc == PETREL_APP_DATA && len)
            PETREL_TRY(stash_plaintext(c, data, len));
        if ((rc == PETREL_RECEIVED_ALERT && got_close_notify(c)) || rc == SSLSOCK_EVENT_EOF)
            return fail(c, PS_PROTOCOL_FAIL, 0, PETREL_ERR_CLOSED);
    }
}

/* Hands the connection out, or frees it after a failure. */
static int conn_finish(sslConn_t *c, sslConn_t **cp, int rc, const char *who)
{
    if (rc < 0) {
        platform_log(c->platform, PETREL_LOG_INFO, "%s: handshake failed (%d): %s (%s)", who, rc,
                     petrel_strerror(c->petrel_error), petrel_error_name(c->petrel_error));
        conn_free(c);
        return rc;
    }
    *cp = c;
    return PS_SUCCESS;
}

int sslConnect(sslConn_t **cp, SOCKET fd, sslKeys_t *keys, sslSessionId_t *id, short cipherSuite,
               int (*certValidator)(sslCertInfo_t *t))
{
    (void)id; /* no resumption yet */
    sslConn_t *c;
    PETREL_TRY(conn_alloc(cp, fd, keys, &c));
    /* Both settings go on the connection before petrel_connect writes the
     * ClientHello that depends on them. */
    int rc = conn_start(c, keys->cfg, PETREL_CLIENT, NULL, 0);
    if (rc == 0 && cipherSuite)
        rc = offer_only(c, (uint16_t)cipherSuite);
    if (rc == 0 && certValidator)
        rc = install_validator(c, certValidator);
    if (rc == 0) {
        rc = petrel_connect(c->conn);
        if (rc == PETREL_ERR_NO_CREDENTIALS)
            platform_log(c->platform, PETREL_LOG_WARNING,
                         "sslConnect: no suite to offer%s: load a PSK (matrixSslLoadPsk) or CAs "
                         "(matrixSslLoadRsaKeys), or pass a certValidator (%s)",
                         cipherSuite ? " with this cipherSuite" : "", petrel_error_name(rc));
        rc = rc < 0 ? engine_fail(c, rc) : run_handshake(c);
    }
    return conn_finish(c, cp, rc, "sslConnect");
}

/* The bytes that identify a UDP peer for its cookie: for IP, its address
 * key (family, port, address), as the UDP server's; otherwise the start
 * of the address itself. */
static size_t peer_id(const struct sockaddr_storage *sa, socklen_t len, uint8_t id[64])
{
    if (is_inet(sa))
        return net_addr_key(sa, id);
    size_t n = len < 64 ? (size_t)len : 64;
    memcpy(id, sa, n);
    return n;
}

/*
 * DTLS server: the stateless cookie exchange (RFC 6347 §4.2.1) with
 * whoever sends a ClientHello, then a connection with the first client
 * whose cookie checks out, fd connected to it.
 */
static int accept_datagram(sslConn_t *c, const petrel_config *cfg)
{
    struct sockaddr_storage connected;
    socklen_t connected_len = sizeof(connected);
    bool already = getpeername(c->fd, (struct sockaddr *)&connected, &connected_len) == 0;
    uint8_t *dgram = platform_alloc(c->platform, SSLSOCK_MAX_DATAGRAM);
    if (!dgram)
        return fail(c, PS_MEM_FAIL, 0, PETREL_ERR_NOMEM);
    for (;;) {
        struct sockaddr_storage from;
        socklen_t from_len = sizeof(from);
        ssize_t n = recvfrom(c->fd, dgram, SSLSOCK_MAX_DATAGRAM, MSG_DONTWAIT,
                             (struct sockaddr *)&from, &from_len);
        if (n < 0) {
            int err = errno, rc = 0;
            if (net_would_block(err))
                rc = wait_socket(c, POLLIN, deadline_for(c, SO_RCVTIMEO));
            else if (err != EINTR && err != ECONNREFUSED)
                rc = sock_error(c, err);
            if (rc < 0) {
                platform_free(c->platform, dgram);
                return rc;
            }
            continue;
        }
        uint8_t id[64], reply[256];
        size_t id_len = peer_id(&from, from_len, id), reply_len = 0;
        int rc = petrel_server_check_hello(cfg, id, id_len, dgram, (size_t)n, reply, sizeof(reply),
                                           &reply_len);
        if (rc == 0) {
            /* No state kept: a lost HelloVerifyRequest makes the client
             * send its ClientHello again. */
            (void)sendto(c->fd, reply, reply_len, MSG_DONTWAIT | MSG_NOSIGNAL,
                         already ? NULL : (struct sockaddr *)&from, already ? 0 : from_len);
            continue;
        }
        if (rc != 1)
            continue; /* not a ClientHello: drop it */
        rc = conn_start(c, cfg, PETREL_SERVER, id, id_len);
        if (rc == 0 && !already) {
            c->local_len = sizeof(c->local);
            if (getsockname(c->fd, (struct sockaddr *)&c->local, &c->local_len) < 0 ||
                connect(c->fd, (struct sockaddr *)&from, from_len) < 0)
                rc = sock_error(c, errno);
            else
                c->connected_by_accept = true;
        }
        if (rc < 0) {
            platform_free(c->platform, dgram);
            return rc;
        }
        c->peer = from;
        c->peer_len = from_len;
        c->first_dgram = dgram;
        c->first_len = (size_t)n;
        return 0;
    }
}

int sslAccept(sslConn_t **cp, SOCKET fd, sslKeys_t *keys)
{
    sslConn_t *c;
    PETREL_TRY(conn_alloc(cp, fd, keys, &c));
    int rc = c->datagram ? accept_datagram(c, keys->cfg)
                         : conn_start(c, keys->cfg, PETREL_SERVER, NULL, 0);
    if (rc == 0)
        rc = run_handshake(c);
    return conn_finish(c, cp, rc, "sslAccept");
}

void sslFreeConnection(sslConn_t **cp)
{
    if (!cp || !*cp)
        return;
    conn_free(*cp);
    *cp = NULL;
}

/* ======================================================================
 * Reading and writing
 * ====================================================================== */

int sslRead(sslConn_t *cp, char *buf, int len, int *status)
{
    int ignored;
    if (!status)
        status = &ignored;
    *status = 0;
    if (!cp || !buf || len <= 0)
        return PS_ARG_FAIL;
    if (cp->plain_len)
        return copy_plaintext(cp, buf, len);
    if (cp->eof) {
        *status = SSLSOCKET_EOF;
        return 0;
    }
    if (cp->error) {
        *status = cp->error_status;
        return cp->error;
    }
    bool wait = !nonblocking(cp->fd);
    uint64_t deadline = wait ? deadline_for(cp, SO_RCVTIMEO) : UINT64_MAX;
    cp->status = 0;
    /* Output an earlier call left queued (a handshake answer, an alert). */
    int rc = flush(cp, false, false);
    bool handled = false; /* handshake or alert traffic was processed */
    while (rc >= 0 || rc == PS_EAGAIN) {
        if (handled && !cp->events_pending)
            return 0;
        const uint8_t *data;
        size_t n;
        rc = next_event(cp, wait, deadline, &data, &n);
        if (rc == PETREL_APP_DATA && n) {
            rc = stash_plaintext(cp, data, n);
            if (rc < 0)
                break;
            return copy_plaintext(cp, buf, len);
        }
        if (rc == SSLSOCK_EVENT_EOF || (rc == PETREL_RECEIVED_ALERT && got_close_notify(cp))) {
            /* petrel answered with its own close_notify: send it if the
             * socket takes it. */
            cp->eof = true;
            (void)flush(cp, wait, false);
            *status = SSLSOCKET_EOF;
            return 0;
        }
        if (rc == PETREL_HANDSHAKE_COMPLETE || rc == PETREL_RECEIVED_ALERT ||
            rc == PETREL_REQUEST_SEND)
            handled = true;
        if (rc == PS_EAGAIN)
            break;
    }
    *status = cp->status;
    return rc;
}

int sslWrite(sslConn_t *cp, char *buf, int len, int *status)
{
    int ignored;
    if (!status)
        status = &ignored;
    *status = 0;
    if (!cp || !buf || len <= 0 || (cp->writing && len != cp->write_len))
        return PS_ARG_FAIL;
    if (cp->error) {
        *status = cp->error_status;
        return cp->error;
    }
    bool wait = !nonblocking(cp->fd);
    if (!cp->writing) {
        cp->writing = true;
        cp->write_len = len;
        cp->write_done = 0;
    }
    cp->status = 0;
    for (;;) {
        int rc = flush(cp, wait, true);
        if (rc == PS_EAGAIN) {
            *status = cp->status;
            return 0; /* call again with the same buf and len */
        }
        if (rc < 0) {
            cp->writing = false;
            *status = cp->status;
            return rc;
        }
        if (cp->write_done == len) {
            cp->writing = false;
            return len;
        }
        size_t chunk = (size_t)(len - cp->write_done);
        size_t max = cp->datagram ? (size_t)petrel_max_payload(cp->conn) : SSLSOCK_STREAM_CHUNK;
        if (chunk > max)
            chunk = max;
        rc = petrel_encode_to_outdata(cp->conn, (const uint8_t *)buf + cp->write_done, chunk);
        if (rc < 0) {
            cp->writing = false;
            /* After close_notify the connection is closed, not failed. */
            if (petrel_conn_error(cp->conn))
                return engine_fail(cp, rc);
            cp->petrel_error = rc;
            return PS_PROTOCOL_FAIL;
        }
        cp->write_done += (int)chunk;
    }
}

void sslWriteClosureAlert(sslConn_t *cp)
{
    if (!cp || cp->error || petrel_close_notify(cp->conn) < 0)
        return;
    (void)flush(cp, !nonblocking(cp->fd), true);
}

int sslNextTimeout(const sslConn_t *cp)
{
    if (!cp)
        return -1;
    int64_t t = petrel_next_timeout(cp->conn);
    return t > INT_MAX ? INT_MAX : (int)t;
}

int sslGetError(const sslConn_t *cp)
{
    return cp ? cp->petrel_error : 0;
}

struct petrel_conn *sslGetPetrelConn(sslConn_t *cp)
{
    return cp ? cp->conn : NULL;
}

/* ======================================================================
 * Raw socket functions
 * ====================================================================== */

static SOCKET socket_failed(int *err, int e, int fd)
{
    if (fd >= 0)
        close(fd);
    if (err)
        *err = e;
    return INVALID_SOCKET;
}

static SOCKET listen_on(short port, int type, int *err)
{
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return socket_failed(err, errno, -1);
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        (type == SOCK_STREAM && listen(fd, SOMAXCONN) < 0))
        return socket_failed(err, errno, fd);
    if (err)
        *err = 0;
    return fd;
}

SOCKET socketListen(short port, int *err)
{
    return listen_on(port, SOCK_STREAM, err);
}

SOCKET socketListenDgram(short port, int *err)
{
    return listen_on(port, SOCK_DGRAM, err);
}

SOCKET socketAccept(SOCKET listenfd, int *err)
{
    for (;;) {
        int fd = accept(listenfd, NULL, NULL);
        if (fd >= 0) {
            (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
            setSocketNodelay(fd);
            if (err)
                *err = 0;
            return fd;
        }
        if (errno != EINTR)
            return socket_failed(err, errno, -1);
    }
}

static SOCKET connect_to(const char *ip, short port, int type, int *err)
{
    if (!ip)
        return socket_failed(err, EINVAL, -1);
    char service[8];
    snprintf(service, sizeof(service), "%u", (unsigned)(uint16_t)port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = type;
    int gai = getaddrinfo(ip, service, &hints, &res);
    if (gai != 0 || !res)
        return socket_failed(err, gai == EAI_SYSTEM ? errno : EINVAL, -1);
    int last = EINVAL;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            freeaddrinfo(res);
            setSocketNodelay(fd);
            if (err)
                *err = 0;
            return fd;
        }
        last = errno;
        close(fd);
    }
    freeaddrinfo(res);
    return socket_failed(err, last, -1);
}

SOCKET socketConnect(const char *ip, short port, int *err)
{
    return connect_to(ip, port, SOCK_STREAM, err);
}

SOCKET socketConnectDgram(const char *ip, short port, int *err)
{
    return connect_to(ip, port, SOCK_DGRAM, err);
}

int socketGetPort(SOCKET fd)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    if (fd < 0 || getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
        return -1;
    if (sa.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&sa)->sin_port);
    if (sa.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
    return -1;
}

void socketShutdown(SOCKET fd)
{
    int type;
    if (fd < 0)
        return;
    if (socket_type(fd, &type) && type == SOCK_STREAM) {
        setSocketNonblock(fd);
        if (shutdown(fd, SHUT_WR) == 0) {
            char buf[4096];
            while (recv(fd, buf, sizeof(buf), 0) > 0)
                ;
        }
    }
    close(fd);
}

void setSocketBlock(SOCKET fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
}

void setSocketNonblock(SOCKET fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        (void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

void setSocketNodelay(SOCKET fd)
{
    int type, one = 1;
    if (socket_type(fd, &type) && type == SOCK_STREAM)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}
