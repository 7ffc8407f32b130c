/*
 * A MatrixSSL 3.2 client written only against the seed API
 * (matrixsslApi.h, the seed's buffer flow and its Appendix A, MatrixDTLS):
 * it connects, sends a message, waits for the whole echo, sends
 * close_notify and exits 0. One source, built twice: mssl_dtls_client
 * (compiled with USE_DTLS, over UDP) and mssl_tls_client (over TCP).
 *
 *   mssl_dtls_client -p 4433 -k 0102030405060708090a0b0c0d0e0f10 -u id
 *   mssl_dtls_client -p 4433 -A tests/pki/ec-root.crt -n localhost \
 *       -c tests/pki/ec-client-chain.pem -K tests/pki/ec-client.key -m "hi there"
 *   mssl_tls_client -h 127.0.0.1 -p 4433 -A tests/pki/ec-root.crt -n localhost
 *
 * Options:
 *   -h host      server address (default 127.0.0.1)
 *   -p port      server port (required)
 *   -k hex -u id a pre-shared key (hex) and its identity
 *   -A ca.pem    trust this CA; -n name: the name the server's certificate
 *                must carry (matrixSslKeysSetServerName, a petrel extension)
 *   -c chain.pem -K key.pem   a client certificate, for servers that ask
 *   -m message   what to send (default "hello from a MatrixSSL client")
 *   -t ms        DTLS: the first resend timeout (default 1000), doubling up
 *                to 8 times that; the client gives up after 30 s in all
 *   -S suite     the one cipher suite to offer (IANA id in hex; 0: all)
 *   -R           after the echo, rehandshake (matrixSslEncodeRehandshake:
 *                RFC 5746 secure renegotiation), then send the message and
 *                wait for its echo once more
 *
 * The event loop is the seed's: matrixSslNewClientSession, then
 * GetOutdata/SentData until GetOutdata says 0, then wait for the socket
 * with poll; data goes through GetReadbuf/ReceivedData and, for every
 * further record in the buffer, ProcessedData. DTLS adds the
 * application's resend timer: when the server's next flight is late,
 * matrixDtlsGetOutdata is called again (the seed's case 7) and the last
 * flight goes out again. DTLS does not retransmit application data, so
 * the message is sent again when no echo came in the same time.
 * Prints every error with its PS_* code and exits 1.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netdb.h>
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
#define PROGRAM_NAME "mssl_dtls_client"
#else
#define PROTO_NAME   "TLS"
#define PROGRAM_NAME "mssl_tls_client"
#endif

#define GIVE_UP_MS    30000 /* the most the whole exchange may take */
#define MAX_BACKOFF   8     /* the resend timeout grows to 8 times -t */
#define MAX_MESSAGE   16384
#define MAX_PSK       256
#define DEFAULT_MSG   "hello from a MatrixSSL client"
#define DEFAULT_TIMER 1000

typedef struct options {
    const char *host;
    const char *port;
    const char *psk_hex;
    const char *psk_id;
    const char *ca;
    const char *name;
    const char *chain;
    const char *key;
    const char *message;
    int timeout_ms;
    unsigned long suite;
    int rehandshake; /* -R */
} options;

typedef struct client {
    const options *opt;
    int fd;
    ssl_t *ssl;
    size_t msg_len;
    /* What the event handlers learnt; the main loop acts on it. */
    int want_send;    /* ReceivedData/ProcessedData said REQUEST_SEND */
    int complete;     /* the handshake is complete */
    int message_sent; /* the message has been encoded at least once */
    int echo_done;    /* the whole echo came back */
    int close_sent;   /* our own close_notify was encoded */
    int closed;       /* SentData said REQUEST_CLOSE */
    int peer_closed;  /* the server's close_notify came */
    int peer_fatal;   /* the server's fatal alert came */
    int rehandshook;  /* -R: matrixSslEncodeRehandshake was called */
    unsigned char echo[MAX_MESSAGE];
    size_t echoed;
    /* DTLS: the application's resend timer. */
    long timer_at; /* when it fires (monotonic ms), 0: not running */
    int timer_ms;  /* the current timeout */
    int refused_noted;
} client;

/* Prints a failed call with its PS_* code; returns -1. */
static int ps_fail(const char *call, int32 rc)
{
    printf("client: error: %s: %s (%d)\n", call, ps_name(rc), (int)rc);
    return -1;
}

static int sys_fail(const char *call)
{
    printf("client: error: %s: %s\n", call, strerror(errno));
    return -1;
}

/* The certificate validator: prints what petrel saw and lets its verdict
 * stand (returning the incoming alert: 0 goes on, anything else ends the
 * handshake with that alert). */
static int32 cert_validator(ssl_t *ssl, psX509Cert_t *cert, int32 alert)
{
    (void)ssl;
    printf("client: server certificate: subject CN=%s, issuer CN=%s, alert %d\n",
           cn_of(&cert->subject), cn_of(&cert->issuer), (int)alert);
    return alert;
}

/* ======================================================================
 * Sending
 * ====================================================================== */

/* The send loop: GetOutdata, send, SentData, until GetOutdata says 0.
 * DTLS: a datagram goes out whole or is lost; the first call after the
 * loop ended at 0 is the resend (case 7). Returns the number of pieces
 * sent, or -1. */
static int send_pending(client *c)
{
    int pieces = 0;
    for (;;) {
        unsigned char *buf;
#ifdef USE_DTLS
        int32 n = matrixDtlsGetOutdata(c->ssl, &buf);
        if (n < 0)
            return ps_fail("matrixDtlsGetOutdata", n);
#else
        int32 n = matrixSslGetOutdata(c->ssl, &buf);
        if (n < 0)
            return ps_fail("matrixSslGetOutdata", n);
#endif
        if (n == 0)
            return pieces;
#ifdef USE_DTLS
        /* A refused datagram (no server yet) counts as lost: the resend
         * timer deals with it. */
        if (send(c->fd, buf, (size_t)n, 0) < 0 && errno != ECONNREFUSED)
            return sys_fail("send");
        int32 rc = matrixDtlsSentData(c->ssl, (uint32)n);
#else
        ssize_t sent = send(c->fd, buf, (size_t)n, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent <= 0)
            return sys_fail("send");
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
        case MATRIXSSL_HANDSHAKE_COMPLETE: /* only after a resumed handshake */
            c->complete = 1;
            break;
        default:
            return ps_fail("matrixSslSentData", rc);
        }
    }
}

#ifdef USE_DTLS
/* Starts the resend timer if a flight waits for the server's answer
 * (matrixDtlsGetTimeout, a petrel extension, says -1 when none does:
 * MatrixDTLS applications track that themselves), or, after the
 * handshake, while the echo is missing. */
static void arm_timer(client *c)
{
    int waiting = c->complete ? c->message_sent && !c->echo_done && !c->close_sent
                              : matrixDtlsGetTimeout(c->ssl) >= 0;
    c->timer_at = waiting ? now_ms() + c->timer_ms : 0;
}
#endif

/* Encodes the message (in pieces if the write buffer is smaller) and
 * sends it. */
static int send_message(client *c)
{
    const unsigned char *msg = (const unsigned char *)c->opt->message;
    size_t off = 0;
    while (off < c->msg_len) {
        unsigned char *wb;
        int32 cap = matrixSslGetWritebuf(c->ssl, &wb, (uint32)(c->msg_len - off));
        if (cap <= 0)
            return ps_fail("matrixSslGetWritebuf", cap);
        memcpy(wb, msg + off, (size_t)cap);
        int32 enc = matrixSslEncodeWritebuf(c->ssl, (uint32)cap);
        if (enc < 0)
            return ps_fail("matrixSslEncodeWritebuf", enc);
        off += (size_t)cap;
    }
    c->message_sent = 1;
    if (send_pending(c) < 0)
        return -1;
#ifdef USE_DTLS
    arm_timer(c);
#endif
    return 0;
}

/* ======================================================================
 * Receiving
 * ====================================================================== */

static void on_app_data(client *c, const unsigned char *pt, uint32 len)
{
    printf("client: received %u bytes: \"", (unsigned)len);
    print_text(pt, len);
    printf("\"\n");
    if (c->echo_done)
        return; /* a second echo of a message sent again */
    size_t room = c->msg_len - c->echoed;
    size_t take = len < room ? len : room;
    memcpy(c->echo + c->echoed, pt, take);
    c->echoed += take;
    if (c->echoed == c->msg_len)
        c->echo_done = 1;
}

static void on_alert(client *c, const unsigned char *pt)
{
    printf("client: received alert: level %u, description %u%s\n", pt[0], pt[1],
           pt[1] == SSL_ALERT_CLOSE_NOTIFY ? " (close_notify)" : "");
    if (pt[1] == SSL_ALERT_CLOSE_NOTIFY)
        c->peer_closed = 1;
    else if (pt[0] == SSL_ALERT_LEVEL_FATAL)
        c->peer_fatal = 1;
    else if (pt[1] == SSL_ALERT_NO_RENEGOTIATION && c->rehandshook && !c->complete) {
        /* The session goes on with the keys it has. */
        printf("client: the server refused the rehandshake; going on without it\n");
        c->complete = 1;
    }
}

/* Acts on ReceivedData's event and on every further record's
 * (ProcessedData), the seed's multi-record loop. Returns -1 on failure. */
static int handle_events(client *c, int32 rc, unsigned char *pt, uint32 pt_len)
{
    for (;;) {
        switch (rc) {
        case MATRIXSSL_REQUEST_SEND:
            c->want_send = 1;
            return 0;
        case MATRIXSSL_REQUEST_RECV:
        case PS_SUCCESS:
            return 0;
        case MATRIXSSL_HANDSHAKE_COMPLETE:
            c->complete = 1;
            return 0;
        case MATRIXSSL_APP_DATA:
            c->complete = 1; /* implied (the seed's note) */
            on_app_data(c, pt, pt_len);
            break;
        case MATRIXSSL_RECEIVED_ALERT:
            on_alert(c, pt);
            break;
        default:
            return ps_fail("matrixSslReceivedData", rc);
        }
        rc = matrixSslProcessedData(c->ssl, &pt, &pt_len);
    }
}

/* Reads what the socket holds (DTLS: one datagram) into the session's
 * read buffer and processes it. */
static int receive(client *c)
{
    unsigned char *buf;
    int32 cap = matrixSslGetReadbuf(c->ssl, &buf);
    if (cap <= 0)
        return ps_fail("matrixSslGetReadbuf", cap);
    ssize_t got = recv(c->fd, buf, (size_t)cap, 0);
    if (got < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return 0;
#ifdef USE_DTLS
        if (errno == ECONNREFUSED) {
            /* An ICMP error says nothing authenticated: keep trying. */
            if (!c->refused_noted)
                printf("client: note: the server's port refused a datagram (not up yet?)\n");
            c->refused_noted = 1;
            return 0;
        }
#endif
        return sys_fail("recv");
    }
    if (got == 0) {
#ifdef USE_DTLS
        return 0; /* an empty datagram */
#else
        printf("client: error: the server closed the connection without close_notify "
               "(truncation)\n");
        return -1;
#endif
    }
    unsigned char *pt = NULL;
    uint32 pt_len = 0;
    int32 rc = matrixSslReceivedData(c->ssl, (uint32)got, &pt, &pt_len);
    return handle_events(c, rc, pt, pt_len);
}

/* ======================================================================
 * The event loop
 * ====================================================================== */

#ifdef USE_DTLS
/* The timer fired: during the handshake the last flight goes out again
 * (case 7: matrixDtlsGetOutdata after it said 0); after it, the message. */
static int on_timer(client *c)
{
    c->timer_ms *= 2;
    if (c->timer_ms > MAX_BACKOFF * c->opt->timeout_ms)
        c->timer_ms = MAX_BACKOFF * c->opt->timeout_ms;
    if (!c->complete) {
        printf("client: timeout, resending flight\n");
        int n = send_pending(c);
        if (n < 0)
            return -1;
        if (n == 0)
            printf("client: note: no flight waited for an answer; nothing was resent\n");
        arm_timer(c);
        return 0;
    }
    printf("client: no echo yet, sending the message again\n");
    return send_message(c);
}
#endif

/* Runs the exchange; 0 once the echo came back and close_notify went out. */
static int run(client *c)
{
    long give_up_at = now_ms() + GIVE_UP_MS;
    c->timer_ms = c->opt->timeout_ms;
    if (send_pending(c) < 0) /* the ClientHello */
        return -1;
#ifdef USE_DTLS
    arm_timer(c);
#endif
    for (;;) {
        /* Act on what the last events said. */
        if (c->want_send) {
            c->want_send = 0;
            int n = send_pending(c);
            if (n < 0)
                return -1;
#ifdef USE_DTLS
            if (n > 0 && !c->complete) {
                c->timer_ms = c->opt->timeout_ms; /* a new flight */
                arm_timer(c);
            }
#endif
        }
        if (c->closed && !c->close_sent && !c->peer_closed) {
            /* A fatal alert of ours went out; later calls give the error. */
            unsigned char *pt;
            uint32 pt_len;
            return ps_fail("the session ended with a fatal alert",
                           matrixSslProcessedData(c->ssl, &pt, &pt_len));
        }
        if (c->peer_fatal) {
            printf("client: error: the server ended the session with a fatal alert\n");
            return -1;
        }
        if (c->complete && !c->message_sent) {
            printf("client: handshake complete\n");
            c->timer_ms = c->opt->timeout_ms;
            if (send_message(c) < 0)
                return -1;
        }
        if (c->echo_done) {
            if (memcmp(c->echo, c->opt->message, c->msg_len) != 0) {
                printf("client: error: the echo differs from the message\n");
                return -1;
            }
            if (c->opt->rehandshake && !c->rehandshook) {
                /* A new handshake on this session; the message goes again
                 * once it is complete. */
                int32 rc = matrixSslEncodeRehandshake(c->ssl, NULL, NULL, 0, 0);
                if (rc != MATRIXSSL_SUCCESS)
                    return ps_fail("matrixSslEncodeRehandshake", rc);
                printf("client: rehandshake started\n");
                c->rehandshook = 1;
                c->complete = c->message_sent = c->echo_done = 0;
                c->echoed = 0;
                c->timer_ms = c->opt->timeout_ms;
                if (send_pending(c) < 0)
                    return -1;
#ifdef USE_DTLS
                arm_timer(c);
#endif
                continue;
            }
            /* If the server's close_notify came with the echo, petrel's
             * answer to it has gone out already (closed). */
            if (!c->closed) {
                int32 rc = matrixSslEncodeClosureAlert(c->ssl);
                if (rc != MATRIXSSL_SUCCESS)
                    return ps_fail("matrixSslEncodeClosureAlert", rc);
                c->close_sent = 1;
                if (send_pending(c) < 0)
                    return -1;
                if (!c->closed)
                    printf("client: note: SentData did not say MATRIXSSL_REQUEST_CLOSE\n");
            }
            printf("client: sent close_notify\n");
            return 0;
        }
        if (c->peer_closed) {
            printf("client: error: the server closed the session before the echo came\n");
            return -1;
        }

        long now = now_ms();
        if (now >= give_up_at) {
            printf("client: error: gave up after %d s\n", GIVE_UP_MS / 1000);
            return -1;
        }
        long wait = give_up_at - now;
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
            return sys_fail("poll");
        if (ready > 0 && receive(c) < 0)
            return -1;
    }
}

/* ======================================================================
 * Setup
 * ====================================================================== */

static int open_socket(const options *o)
{
    struct addrinfo hints, *res, *ai;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
#ifdef USE_DTLS
    hints.ai_socktype = SOCK_DGRAM;
#else
    hints.ai_socktype = SOCK_STREAM;
#endif
    int rc = getaddrinfo(o->host, o->port, &hints, &res);
    if (rc != 0) {
        printf("client: error: %s:%s: %s\n", o->host, o->port, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        /* UDP: connect() fixes the peer, so recv sees only its datagrams. */
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        printf("client: connect %s:%s: %s\n", o->host, o->port, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static sslKeys_t *load_keys(const options *o)
{
    sslKeys_t *keys = NULL;
    int32 rc = matrixSslNewKeys(&keys);
    if (rc != PS_SUCCESS) {
        ps_fail("matrixSslNewKeys", rc);
        return NULL;
    }
    if (o->psk_hex) {
        unsigned char key[MAX_PSK];
        size_t key_len;
        if (parse_hex(o->psk_hex, key, sizeof(key), &key_len) != 0) {
            printf("client: error: -k wants an even number of hex digits (at most %d bytes)\n",
                   MAX_PSK);
            goto fail;
        }
        rc = matrixSslLoadPsk(keys, key, (uint32)key_len, (unsigned char *)o->psk_id,
                              (uint32)strlen(o->psk_id));
        memset(key, 0, sizeof(key));
        if (rc != PS_SUCCESS) {
            ps_fail("matrixSslLoadPsk", rc);
            goto fail;
        }
    }
    if (o->ca || o->chain) {
        rc = matrixSslLoadRsaKeys(keys, o->chain, o->key, NULL, o->ca);
        if (rc != PS_SUCCESS) {
            ps_fail("matrixSslLoadRsaKeys", rc);
            goto fail;
        }
    }
    if (o->name) {
        rc = matrixSslKeysSetServerName(keys, o->name);
        if (rc != PS_SUCCESS) {
            ps_fail("matrixSslKeysSetServerName", rc);
            goto fail;
        }
    } else if (o->ca) {
        printf("client: note: no -n: the server's certificate may carry any name\n");
    }
    return keys;
fail:
    matrixSslDeleteKeys(keys);
    return NULL;
}

static void usage(void)
{
    printf(
        "usage: %s -p port [-h host] (-k hexkey -u identity | -A ca.pem [-n name])\n"
        "           [-c chain.pem -K key.pem] [-m message] [-t timeout_ms] [-S suite_hex] [-R]\n",
        PROGRAM_NAME);
}

int main(int argc, char **argv)
{
    options o = {"127.0.0.1", NULL, NULL,        NULL,          NULL, NULL,
                 NULL,        NULL, DEFAULT_MSG, DEFAULT_TIMER, 0,    0};
    setvbuf(stdout, NULL, _IOLBF, 0);
    int opt;
    while ((opt = getopt(argc, argv, "h:p:k:u:A:n:c:K:m:t:S:R")) != -1) {
        char *end = NULL;
        switch (opt) {
        case 'h':
            o.host = optarg;
            break;
        case 'p':
            o.port = optarg;
            break;
        case 'k':
            o.psk_hex = optarg;
            break;
        case 'u':
            o.psk_id = optarg;
            break;
        case 'A':
            o.ca = optarg;
            break;
        case 'n':
            o.name = optarg;
            break;
        case 'c':
            o.chain = optarg;
            break;
        case 'K':
            o.key = optarg;
            break;
        case 'm':
            o.message = optarg;
            break;
        case 't':
            o.timeout_ms = (int)strtol(optarg, &end, 10);
            if (*end || o.timeout_ms < 10 || o.timeout_ms > 60000) {
                printf("client: error: -t wants 10..60000 ms\n");
                return 2;
            }
            break;
        case 'R':
            o.rehandshake = 1;
            break;
        case 'S':
            o.suite = strtoul(optarg, &end, 16);
            if (*end || o.suite > 0xFFFF) {
                printf("client: error: -S wants a cipher suite id in hex\n");
                return 2;
            }
            break;
        default:
            usage();
            return 2;
        }
    }
    size_t msg_len = strlen(o.message);
    if (!o.port || optind != argc || (!o.psk_hex && !o.ca) || (!o.psk_hex != !o.psk_id) ||
        (!o.chain != !o.key) || msg_len == 0 || msg_len > MAX_MESSAGE) {
        usage();
        return 2;
    }

    int32 rc = matrixSslOpen();
    if (rc != PS_SUCCESS) {
        ps_fail("matrixSslOpen", rc);
        return 1;
    }
    int status = 1;
    client c;
    memset(&c, 0, sizeof(c));
    c.opt = &o;
    c.msg_len = msg_len;
    c.fd = -1;
    sslKeys_t *keys = load_keys(&o);
    if (!keys)
        goto out;
    c.fd = open_socket(&o);
    if (c.fd < 0)
        goto out;
    printf("client: %s to %s:%s\n", PROTO_NAME, o.host, o.port);
    sslSessionId_t sid;
    matrixSslInitSessionId(&sid);
    /* With USE_DTLS this is matrixDtlsNewClientSession. */
    rc = matrixSslNewClientSession(&c.ssl, keys, &sid, (uint32)o.suite, cert_validator, NULL, NULL);
    if (rc != MATRIXSSL_REQUEST_SEND) {
        ps_fail("matrixSslNewClientSession", rc);
        goto out;
    }
    if (run(&c) == 0) {
        printf("client: done\n");
        status = 0;
    }
out:
    matrixSslDeleteSession(c.ssl);
    matrixSslDeleteKeys(keys);
    if (c.fd >= 0)
        close(c.fd);
    matrixSslClose();
    return status;
}
