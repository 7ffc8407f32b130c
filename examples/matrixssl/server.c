/*
 * A MatrixSSL 3.2 echo server written only against the seed API
 * (matrixsslApi.h, the seed's buffer flow and its Appendix A, MatrixDTLS):
 * it serves clients one at a time, echoes every application record back
 * and answers the client's close_notify with its own. One source, built
 * twice: mssl_dtls_server (compiled with USE_DTLS, over UDP) and
 * mssl_tls_server (over TCP).
 *
 *   mssl_dtls_server -p 0 -P port.txt -k 0102030405060708090a0b0c0d0e0f10 -u id
 *   mssl_dtls_server -p 4433 -c tests/pki/ec-server-chain.pem -K tests/pki/ec-server.key \
 *       -A tests/pki/ec-root.crt -V -N 3
 *   mssl_tls_server -p 4433 -c tests/pki/ec-server-chain.pem -K tests/pki/ec-server.key
 *
 * Options:
 *   -p port      the port to listen on (0, the default: a free one); the
 *                port is printed as "server: listening on port N"
 *   -P file      also write the port to this file
 *   -h address   the address to listen on (default 127.0.0.1)
 *   -k hex -u id a pre-shared key (hex) and the identity it belongs to
 *   -c chain.pem -K key.pem   the server's certificate chain and key
 *   -A ca.pem    CAs to trust for client certificates; -V asks every
 *                client for a certificate (and requires one)
 *   -N count     serve this many connections, then exit (default 1)
 *   -t ms        DTLS: the first resend timeout (default 1000), doubling up
 *                to 8 times that
 *   -i ms        give a connection up after this long without a byte from
 *                the client (default 30000); a new client is awaited for
 *                up to twice that
 * Exit status 0 when every connection ended with the client's close_notify.
 *
 * The event loop is the seed's: the session is created first, bytes from
 * the socket go into its read buffer (GetReadbuf, ReceivedData, and
 * ProcessedData for every further record), and whatever it encodes goes
 * out through GetOutdata/SentData until GetOutdata says 0. DTLS: one
 * client at a time. The socket stays unconnected until a client's
 * datagram gets an answer (the session answers a ClientHello without a
 * cookie with a HelloVerifyRequest itself); then it is connect()ed to that
 * client, so that datagrams from others are not read into its session,
 * and disconnected when the session ends. While the server's flight waits
 * for the client's answer, an application timer resends it (the seed's
 * case 7: matrixDtlsGetOutdata again after it said 0).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "matrixsslApi.h"

#include "example_util.h"

#ifdef USE_DTLS
#define PROTO_NAME   "DTLS"
#define PROGRAM_NAME "mssl_dtls_server"
#else
#define PROTO_NAME   "TLS"
#define PROGRAM_NAME "mssl_tls_server"
#endif

#define MAX_BACKOFF   8 /* the resend timeout grows to 8 times -t */
#define MAX_PSK       256
#define DEFAULT_TIMER 1000
#define DEFAULT_IDLE  30000
#define PORT_TEXT_LEN 8 /* "65535" and its NUL */

typedef struct options {
    const char *host;
    const char *port;
    const char *port_file;
    const char *psk_hex;
    const char *psk_id;
    const char *chain;
    const char *key;
    const char *ca;
    int verify;
    long count;
    int timeout_ms;
    int idle_ms;
} options;

/* One client's session. */
typedef struct connection {
    const options *opt;
    long number;
    int fd;
    ssl_t *ssl;
    int connected;   /* DTLS: the socket is connect()ed to this client */
    int want_send;   /* ReceivedData/ProcessedData said REQUEST_SEND */
    int complete;    /* the handshake is complete */
    int closed;      /* SentData said REQUEST_CLOSE */
    int peer_closed; /* the client's close_notify came */
    int peer_fatal;  /* the client's fatal alert came */
    int peer_gone;   /* TLS: the client closed its end of the connection */
    int heard;       /* something came from the client */
    size_t echoed;
    long timer_at; /* DTLS resend timer: when it fires, 0: not running */
    int timer_ms;
} connection;

/* Prints a failed call with its PS_* code; returns -1. */
static int ps_fail(const connection *c, const char *call, int32 rc)
{
    printf("server: connection %ld: error: %s: %s (%d)\n", c->number, call, ps_name(rc), (int)rc);
    return -1;
}

static int sys_fail(const connection *c, const char *call)
{
    printf("server: connection %ld: error: %s: %s\n", c->number, call, strerror(errno));
    return -1;
}

/* The client-certificate callback (given to matrixSslNewServerSession
 * with -V): prints what petrel saw and lets its verdict stand. */
static int32 client_cert_cb(ssl_t *ssl, psX509Cert_t *cert, int32 alert)
{
    (void)ssl;
    printf("server: client certificate: subject CN=%s, issuer CN=%s, alert %d\n",
           cn_of(&cert->subject), cn_of(&cert->issuer), (int)alert);
    return alert;
}

/* ======================================================================
 * Sending
 * ====================================================================== */

/* The send loop: GetOutdata, send, SentData until GetOutdata says 0.
 * DTLS: a datagram goes out whole or is lost, and the first call after
 * the loop ended at 0 is the resend (case 7). Returns the pieces sent or
 * -1. */
static int send_pending(connection *c)
{
    int pieces = 0;
    for (;;) {
        unsigned char *buf;
#ifdef USE_DTLS
        int32 n = matrixDtlsGetOutdata(c->ssl, &buf);
        if (n < 0)
            return ps_fail(c, "matrixDtlsGetOutdata", n);
#else
        int32 n = matrixSslGetOutdata(c->ssl, &buf);
        if (n < 0)
            return ps_fail(c, "matrixSslGetOutdata", n);
#endif
        if (n == 0)
            return pieces;
#ifdef USE_DTLS
        if (send(c->fd, buf, (size_t)n, 0) < 0 && errno != ECONNREFUSED)
            return sys_fail(c, "send");
        int32 rc = matrixDtlsSentData(c->ssl, (uint32)n);
#else
        ssize_t sent = send(c->fd, buf, (size_t)n, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent <= 0)
            return sys_fail(c, "send");
        int32 rc = matrixSslSentData(c->ssl, (uint32)sent);
#endif
        pieces++;
        switch (rc) {
        case MATRIXSSL_REQUEST_SEND:
        case MATRIXSSL_SUCCESS:
            break;
        case MATRIXSSL_REQUEST_CLOSE:
            c->closed = 1;
            break;
        case MATRIXSSL_HANDSHAKE_COMPLETE: /* our last flight (Finished) went out */
            if (!c->complete)
                printf("server: connection %ld: handshake complete\n", c->number);
            c->complete = 1;
            break;
        default:
            return ps_fail(c, "matrixSslSentData", rc);
        }
    }
}

#ifdef USE_DTLS
/* Runs the resend timer while a flight of ours waits for the client's
 * answer: matrixDtlsGetTimeout (a petrel extension) is -1 when none does
 * (after a HelloVerifyRequest, which is not resent, and after the last
 * flight, which is resent only when the client repeats its own). */
static void arm_timer(connection *c)
{
    c->timer_at = !c->complete && matrixDtlsGetTimeout(c->ssl) >= 0 ? now_ms() + c->timer_ms : 0;
}
#endif

/* ======================================================================
 * Receiving
 * ====================================================================== */

static int on_app_data(connection *c, unsigned char *pt, uint32 len)
{
    printf("server: connection %ld: received %u bytes: \"", c->number, (unsigned)len);
    print_text(pt, len);
    printf("\"\n");
    /* The echo: one record back for each record received. */
    int32 rc = matrixSslEncodeToOutdata(c->ssl, pt, len);
    if (rc < 0)
        return ps_fail(c, "matrixSslEncodeToOutdata", rc);
    c->echoed += len;
    c->want_send = 1;
    return 0;
}

static void on_alert(connection *c, const unsigned char *pt)
{
    printf("server: connection %ld: received alert: level %u, description %u%s\n", c->number, pt[0],
           pt[1], pt[1] == SSL_ALERT_CLOSE_NOTIFY ? " (close_notify)" : "");
    if (pt[1] == SSL_ALERT_CLOSE_NOTIFY)
        c->peer_closed = 1;
    else if (pt[0] == SSL_ALERT_LEVEL_FATAL)
        c->peer_fatal = 1;
}

/* ReceivedData's event, then every further record's (ProcessedData): the
 * seed's multi-record loop. */
static int handle_events(connection *c, int32 rc, unsigned char *pt, uint32 pt_len)
{
    for (;;) {
        switch (rc) {
        case MATRIXSSL_REQUEST_SEND:
            c->want_send = 1;
            return 0;
        case MATRIXSSL_REQUEST_RECV:
        case PS_SUCCESS:
            return 0;
        case MATRIXSSL_HANDSHAKE_COMPLETE: /* a resumed handshake */
            if (!c->complete)
                printf("server: connection %ld: handshake complete\n", c->number);
            c->complete = 1;
            return 0;
        case MATRIXSSL_APP_DATA:
            if (on_app_data(c, pt, pt_len) < 0)
                return -1;
            break;
        case MATRIXSSL_RECEIVED_ALERT:
            on_alert(c, pt);
            break;
        default:
            return ps_fail(c, "matrixSslReceivedData", rc);
        }
        rc = matrixSslProcessedData(c->ssl, &pt, &pt_len);
    }
}

/* Reads what the socket holds (DTLS: one datagram) into the session's
 * read buffer and processes it. */
static int receive(connection *c)
{
    unsigned char *buf;
    int32 cap = matrixSslGetReadbuf(c->ssl, &buf);
    if (cap <= 0)
        return ps_fail(c, "matrixSslGetReadbuf", cap);
    struct sockaddr_storage from;
    socklen_t from_len = sizeof(from);
    ssize_t got = recvfrom(c->fd, buf, (size_t)cap, 0, (struct sockaddr *)&from, &from_len);
    if (got < 0) {
        /* DTLS: an ICMP error left over from an earlier client, or a
         * client gone: nothing authenticated, keep waiting. */
        if (errno == EINTR || errno == EAGAIN || errno == ECONNREFUSED)
            return 0;
        return sys_fail(c, "recv");
    }
    if (got == 0) {
#ifdef USE_DTLS
        return 0; /* an empty datagram */
#else
        c->peer_gone = 1;
        return 0;
#endif
    }
    unsigned char *pt = NULL;
    uint32 pt_len = 0;
    int32 rc = matrixSslReceivedData(c->ssl, (uint32)got, &pt, &pt_len);
    if (handle_events(c, rc, pt, pt_len) < 0)
        return -1;
#ifdef USE_DTLS
    /* The first datagram the session answers fixes the client. */
    if (!c->connected && c->want_send) {
        char host[INET6_ADDRSTRLEN], port[PORT_TEXT_LEN];
        if (connect(c->fd, (struct sockaddr *)&from, from_len) < 0)
            return sys_fail(c, "connect");
        c->connected = 1;
        if (getnameinfo((struct sockaddr *)&from, from_len, host, sizeof(host), port, sizeof(port),
                        NI_NUMERICHOST | NI_NUMERICSERV) == 0)
            printf("server: connection %ld: client %s:%s\n", c->number, host, port);
    }
#endif
    return 0;
}

/* ======================================================================
 * One connection
 * ====================================================================== */

#ifdef USE_DTLS
static int on_timer(connection *c)
{
    c->timer_ms *= 2;
    if (c->timer_ms > MAX_BACKOFF * c->opt->timeout_ms)
        c->timer_ms = MAX_BACKOFF * c->opt->timeout_ms;
    printf("server: connection %ld: timeout, resending flight\n", c->number);
    int n = send_pending(c); /* the first GetOutdata is the resend */
    if (n < 0)
        return -1;
    if (n == 0)
        printf("server: connection %ld: note: no flight waited for an answer; nothing was "
               "resent\n",
               c->number);
    arm_timer(c);
    return 0;
}
#endif

/* Runs one session to its end; 0 when the client closed it cleanly. */
static int serve(connection *c)
{
    long idle_at = now_ms() + 2L * c->opt->idle_ms; /* waiting for a client */
    c->timer_ms = c->opt->timeout_ms;
    for (;;) {
        if (c->want_send) {
            c->want_send = 0;
            int was_complete = c->complete;
            int n = send_pending(c);
            if (n < 0)
                return -1;
#ifdef USE_DTLS
            if (n > 0 && !was_complete) {
                c->timer_ms = c->opt->timeout_ms; /* a new flight */
                arm_timer(c);
            }
#else
            (void)was_complete;
#endif
        }
        if (c->peer_fatal) {
            printf("server: connection %ld: error: the client ended the session with a fatal "
                   "alert\n",
                   c->number);
            return -1;
        }
        if (c->peer_closed && !c->closed) {
            /* petrel answers close_notify itself (REQUEST_SEND above); a
             * MatrixSSL 3.2 server encodes the answer here. */
            int32 rc = matrixSslEncodeClosureAlert(c->ssl);
            if (rc != MATRIXSSL_SUCCESS)
                return ps_fail(c, "matrixSslEncodeClosureAlert", rc);
            if (send_pending(c) < 0)
                return -1;
        }
        if (c->peer_closed) {
            printf("server: connection %ld closed cleanly, echoed %zu bytes\n", c->number,
                   c->echoed);
            return 0;
        }
        if (c->closed) {
            /* A fatal alert of ours went out; later calls give the error. */
            unsigned char *pt;
            uint32 pt_len;
            return ps_fail(c, "the session ended with a fatal alert",
                           matrixSslProcessedData(c->ssl, &pt, &pt_len));
        }
        if (c->peer_gone) {
            printf("server: connection %ld: error: the client closed the connection without "
                   "close_notify (truncation)\n",
                   c->number);
            return -1;
        }

        long now = now_ms();
        if (now >= idle_at && !c->heard) {
            printf("server: connection %ld: error: no client came in %d ms\n", c->number,
                   2 * c->opt->idle_ms);
            return -1;
        }
        if (now >= idle_at) {
            printf("server: connection %ld: error: nothing from the client for %d ms\n", c->number,
                   c->opt->idle_ms);
            return -1;
        }
        long wait = idle_at - now;
#ifdef USE_DTLS
        if (c->timer_at) {
            if (c->timer_at <= now) {
                if (on_timer(c) < 0)
                    return -1;
                continue;
            }
            if (c->timer_at - now < wait)
                wait = c->timer_at - now;
        }
#endif
        struct pollfd pfd = {c->fd, POLLIN, 0};
        int ready = poll(&pfd, 1, (int)wait);
        if (ready < 0 && errno != EINTR)
            return sys_fail(c, "poll");
        if (ready > 0) {
            if (receive(c) < 0)
                return -1;
            c->heard = 1;
            idle_at = now_ms() + c->opt->idle_ms;
        }
    }
}

/* The socket clients come to, and the address it is bound to. */
typedef struct listener {
    int fd;
    struct sockaddr_storage addr;
    socklen_t addr_len;
} listener;

#ifdef USE_DTLS
/* Back to datagrams from anyone. Linux gives up a port the kernel picked
 * (bind to port 0) when a UDP socket is disconnected; the port is then
 * bound again explicitly, and an explicitly bound port is kept from then
 * on. */
static int udp_disconnect(const listener *l)
{
    struct sockaddr unspec;
    memset(&unspec, 0, sizeof(unspec));
    unspec.sa_family = AF_UNSPEC;
    if (connect(l->fd, &unspec, sizeof(unspec)) < 0)
        return -1;
    struct sockaddr_storage now;
    socklen_t len = sizeof(now);
    if (getsockname(l->fd, (struct sockaddr *)&now, &len) < 0)
        return -1;
    in_port_t port = now.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&now)->sin6_port
                                               : ((struct sockaddr_in *)&now)->sin_port;
    if (port == 0 && bind(l->fd, (const struct sockaddr *)&l->addr, l->addr_len) < 0)
        return -1;
    return 0;
}
#endif

/* Waits for the next client and serves it. listen_fd: the TCP listening
 * socket, or the UDP socket itself. */
static int serve_one(const options *o, sslKeys_t *keys, const listener *l, long number)
{
    connection c;
    memset(&c, 0, sizeof(c));
    c.opt = o;
    c.number = number;
#ifdef USE_DTLS
    c.fd = l->fd;
#else
    struct pollfd pfd = {l->fd, POLLIN, 0};
    int ready = poll(&pfd, 1, 2 * o->idle_ms);
    if (ready <= 0) {
        printf("server: connection %ld: error: no client came in %d ms\n", number, 2 * o->idle_ms);
        return -1;
    }
    c.fd = accept(l->fd, NULL, NULL);
    if (c.fd < 0)
        return sys_fail(&c, "accept");
    printf("server: connection %ld: client connected\n", number);
#endif
    /* With USE_DTLS this is matrixDtlsNewServerSession. */
    int32 rc = matrixSslNewServerSession(&c.ssl, keys, o->verify ? client_cert_cb : NULL);
    int result;
    if (rc != PS_SUCCESS)
        result = ps_fail(&c, "matrixSslNewServerSession", rc);
    else
        result = serve(&c);
    matrixSslDeleteSession(c.ssl);
#ifdef USE_DTLS
    if (c.connected && udp_disconnect(l) < 0)
        return sys_fail(&c, "disconnecting the socket");
#else
    close(c.fd);
#endif
    return result;
}

/* ======================================================================
 * Setup
 * ====================================================================== */

static sslKeys_t *load_keys(const options *o)
{
    sslKeys_t *keys = NULL;
    int32 rc = matrixSslNewKeys(&keys);
    if (rc != PS_SUCCESS) {
        printf("server: error: matrixSslNewKeys: %s (%d)\n", ps_name(rc), (int)rc);
        return NULL;
    }
    if (o->psk_hex) {
        unsigned char key[MAX_PSK];
        size_t key_len;
        if (parse_hex(o->psk_hex, key, sizeof(key), &key_len) != 0) {
            printf("server: error: -k wants an even number of hex digits (at most %d bytes)\n",
                   MAX_PSK);
            goto fail;
        }
        rc = matrixSslLoadPsk(keys, key, (uint32)key_len, (unsigned char *)o->psk_id,
                              (uint32)strlen(o->psk_id));
        memset(key, 0, sizeof(key));
        if (rc != PS_SUCCESS) {
            printf("server: error: matrixSslLoadPsk: %s (%d)\n", ps_name(rc), (int)rc);
            goto fail;
        }
    }
    if (o->chain || o->ca) {
        rc = matrixSslLoadRsaKeys(keys, o->chain, o->key, NULL, o->ca);
        if (rc != PS_SUCCESS) {
            printf("server: error: matrixSslLoadRsaKeys: %s (%d)\n", ps_name(rc), (int)rc);
            goto fail;
        }
    }
    return keys;
fail:
    matrixSslDeleteKeys(keys);
    return NULL;
}

/* Binds the listening socket; prints (and writes) the port it got. */
static int open_socket(const options *o, listener *l)
{
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
#ifdef USE_DTLS
    hints.ai_socktype = SOCK_DGRAM;
#else
    hints.ai_socktype = SOCK_STREAM;
#endif
    int rc = getaddrinfo(o->host, o->port, &hints, &res);
    if (rc != 0) {
        printf("server: error: %s:%s: %s\n", o->host, o->port, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (fd < 0) {
        printf("server: error: socket: %s\n", strerror(errno));
        freeaddrinfo(res);
        return -1;
    }
#ifndef USE_DTLS
    int on = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
#endif
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0) {
        printf("server: error: bind %s:%s: %s\n", o->host, o->port, strerror(errno));
        freeaddrinfo(res);
        close(fd);
        return -1;
    }
    freeaddrinfo(res);
#ifndef USE_DTLS
    if (listen(fd, 8) < 0) {
        printf("server: error: listen: %s\n", strerror(errno));
        close(fd);
        return -1;
    }
#endif
    l->fd = fd;
    l->addr_len = sizeof(l->addr);
    char port[PORT_TEXT_LEN];
    if (getsockname(fd, (struct sockaddr *)&l->addr, &l->addr_len) < 0 ||
        getnameinfo((struct sockaddr *)&l->addr, l->addr_len, NULL, 0, port, sizeof(port),
                    NI_NUMERICSERV) != 0) {
        printf("server: error: cannot tell the bound port\n");
        close(fd);
        return -1;
    }
#ifdef USE_DTLS
    /* Pin the port now (see udp_disconnect), not after the first client. */
    if (udp_disconnect(l) < 0) {
        printf("server: error: cannot keep port %s: %s\n", port, strerror(errno));
        close(fd);
        return -1;
    }
#endif
    if (o->port_file) {
        /* Written whole, then renamed: a reader never sees half of it. */
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp", o->port_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%s\n", port) < 0 || fclose(f) != 0 ||
            rename(tmp, o->port_file) != 0) {
            printf("server: error: cannot write %s: %s\n", o->port_file, strerror(errno));
            close(fd);
            return -1;
        }
    }
    printf("server: listening on port %s (%s)\n", port, PROTO_NAME);
    return fd;
}

static void usage(void)
{
    printf("usage: %s [-p port] [-P portfile] [-h address] [-k hexkey -u identity]\n"
           "           [-c chain.pem -K key.pem] [-A ca.pem [-V]] [-N count] [-t timeout_ms]\n"
           "           [-i idle_ms]\n",
           PROGRAM_NAME);
}

static int parse_int(const char *s, long min, long max, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    options o = {"127.0.0.1", "0",  NULL, NULL, NULL,          NULL,
                 NULL,        NULL, 0,    1,    DEFAULT_TIMER, DEFAULT_IDLE};
    setvbuf(stdout, NULL, _IOLBF, 0);
    int opt;
    long v;
    while ((opt = getopt(argc, argv, "p:P:h:k:u:c:K:A:VN:t:i:")) != -1) {
        switch (opt) {
        case 'p':
            o.port = optarg;
            break;
        case 'P':
            o.port_file = optarg;
            break;
        case 'h':
            o.host = optarg;
            break;
        case 'k':
            o.psk_hex = optarg;
            break;
        case 'u':
            o.psk_id = optarg;
            break;
        case 'c':
            o.chain = optarg;
            break;
        case 'K':
            o.key = optarg;
            break;
        case 'A':
            o.ca = optarg;
            break;
        case 'V':
            o.verify = 1;
            break;
        case 'N':
            if (parse_int(optarg, 1, 1000000, &o.count) < 0) {
                printf("server: error: -N wants a count of 1 or more\n");
                return 2;
            }
            break;
        case 't':
            if (parse_int(optarg, 10, 60000, &v) < 0) {
                printf("server: error: -t wants 10..60000 ms\n");
                return 2;
            }
            o.timeout_ms = (int)v;
            break;
        case 'i':
            if (parse_int(optarg, 100, 600000, &v) < 0) {
                printf("server: error: -i wants 100..600000 ms\n");
                return 2;
            }
            o.idle_ms = (int)v;
            break;
        default:
            usage();
            return 2;
        }
    }
    if (optind != argc || (!o.psk_hex && !o.chain) || (!o.psk_hex != !o.psk_id) ||
        (!o.chain != !o.key)) {
        usage();
        return 2;
    }
    if (o.verify && !o.ca)
        printf("server: note: -V without -A: no CA can vouch for a client certificate\n");

    int32 rc = matrixSslOpen();
    if (rc != PS_SUCCESS) {
        printf("server: error: matrixSslOpen: %s (%d)\n", ps_name(rc), (int)rc);
        return 1;
    }
    int fd = -1;
    long failed = 0;
    listener l;
    sslKeys_t *keys = load_keys(&o);
    if (keys)
        fd = open_socket(&o, &l);
    if (fd < 0) {
        failed = 1;
    } else {
        for (long n = 1; n <= o.count; n++) {
            if (serve_one(&o, keys, &l, n) < 0)
                failed++;
        }
        close(fd);
    }
    matrixSslDeleteKeys(keys);
    matrixSslClose();
    if (failed) {
        if (fd >= 0)
            printf("server: %ld of %ld connections failed\n", failed, o.count);
        return 1;
    }
    printf("server: done\n");
    return 0;
}
