#define _GNU_SOURCE /* memmem */
/*
 * petrel client [--dtls | --tls] --connect HOST:PORT --psk-identity ID --psk HEX
 *               [--send TEXT] [--expect TEXT] [--no-echo] [--timeout MS] [--resend MS]
 *               [--suites LIST] [--mtu N] [--timer MS] [-v]
 *
 * Runs a DTLS (default) or, with --tls, a TLS handshake, prints what
 * happened, sends TEXT, and waits until the echo of TEXT (or the --expect
 * text) comes back.
 *
 * DTLS: application data is not retransmitted, so while waiting for the
 * echo the client sends TEXT again every --resend MS (default 1000; 0:
 * never), as a CoAP client would.
 *
 * TLS (TCP retransmits, so there is no --resend): --send-file sends a
 * file, --recv-file writes what arrives to a file, --recv-bytes N waits for
 * N bytes, --wait-close waits for the server's close_notify. Sending and
 * receiving run at once, so a server that echoes while it reads never
 * stalls. The client ends with close_notify and waits briefly for the
 * server's. TCP closed by the server without close_notify is reported as
 * PETREL_ERR_TRUNCATION.
 *
 * Exits 0 on success; on failure prints one line with the reason and
 * exits 1 (2 for usage).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <petrel/tcp.h>
#include <petrel/udp.h>

#include "tools/tool.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: petrel client [--dtls | --tls] --connect HOST:PORT\n"
            "                     [--psk-identity ID --psk HEX]\n"
            "                     [--ca FILE] [--capath DIR] [--verify none|optional|require]\n"
            "                     [--servername NAME] [--cert FILE --key FILE [--pass PW]]\n"
            "                     [--rpk [--peer-key FILE]...]\n"
            "                     [--send TEXT] [--expect TEXT] [--no-echo] [--timeout MS]\n"
            "                     [--suites LIST] [-v]\n"
            "  DTLS only:         [--resend MS] [--mtu N] [--timer MS] [--max-timer MS]\n"
            "                     [--lossy-link RTT_HINT_MS]\n"
            "  TLS only:          [--send-file FILE] [--recv-file FILE] [--recv-bytes N]\n"
            "                     [--wait-close]\n"
            "--dtls (the default) is DTLS 1.2 over UDP, --tls is TLS 1.2 over TCP.\n"
            "The server's certificate is checked against --ca/--capath and the name\n"
            "--servername gives (default: the HOST of --connect); --verify none skips it.\n"
            "--send TEXT sends TEXT and waits for its echo, or for --expect TEXT\n"
            "(--no-echo: waits for nothing); --timeout MS bounds the whole run (30000).\n"
            "TLS: --send-file sends FILE's bytes; --recv-file writes the data that\n"
            "arrives to FILE instead of printing it; --recv-bytes N waits until N bytes\n"
            "have arrived; --wait-close (implied by --recv-file without --recv-bytes or\n"
            "--expect) reads until the server closes. A server that ends TCP without\n"
            "close_notify is an error (PETREL_ERR_TRUNCATION).\n");
}

/* What the client was asked to do, beyond the shared options. */
typedef struct client_args {
    const char *send;
    const char *expect;
    long timeout_ms;
    long resend_ms;
    /* TLS only. */
    const char *send_file;
    const char *recv_file;
    long long recv_bytes; /* -1: not asked */
    bool wait_close;
} client_args;

static const char *peer_description(petrel_conn *conn)
{
    petrel_cert_type type = petrel_peer_certificate_type(conn);
    if (type == PETREL_CERT_TYPE_RAW_PUBLIC_KEY)
        return petrel_peer_anonymous(conn) ? "raw public key not verified"
                                           : "raw public key verified";
    if (type == PETREL_CERT_TYPE_X509)
        return petrel_peer_anonymous(conn) ? "certificate not verified" : "certificate verified";
    return "PSK";
}

static void print_summary(petrel_conn *conn, uint64_t elapsed_ms)
{
    if (petrel_conn_mode(conn) == PETREL_STREAM) {
        printf("handshake complete: %s, %s, %llu ms, server: %s\n", petrel_cipher_suite_name(conn),
               tool_protocol_name(conn), (unsigned long long)elapsed_ms, peer_description(conn));
        return;
    }
    petrel_conn_stats st;
    petrel_get_stats(conn, &st);
    printf("handshake complete: %s, %s, %llu ms, %llu datagrams sent, %llu "
           "retransmissions, rtt %u ms, server: %s\n",
           petrel_cipher_suite_name(conn), tool_protocol_name(conn), (unsigned long long)elapsed_ms,
           (unsigned long long)st.datagrams_sent, (unsigned long long)st.retransmissions, st.rtt_ms,
           peer_description(conn));
}

/* The handshake failed: one line, naming the server's alert if it sent one. */
static int handshake_failed(petrel_conn *conn, int rc)
{
    int level, description;
    char what[96] = "handshake failed";
    if (petrel_last_alert(conn, &level, &description))
        snprintf(what, sizeof(what), "handshake failed, the server sent alert %d (%s)", description,
                 petrel_alert_name(description));
    return tool_fail("client", what, rc);
}

static int run_dtls(const client_args *a, petrel_config *cfg, const char *host, const char *port)
{
    const char *send = a->send, *expect = a->expect;
    long timeout_ms = a->timeout_ms, resend_ms = a->resend_ms;
    int err = 0;
    petrel_udp_client *c = petrel_udp_client_new(cfg, host, port, &err);
    if (!c)
        return tool_fail("client", "cannot open the socket", err);
    petrel_platform clock = petrel_platform_default();
    uint64_t start = clock.clock_ms(NULL);
    int rc = petrel_udp_client_handshake(c, (int)timeout_ms);
    if (rc < 0) {
        int status = handshake_failed(petrel_udp_client_conn(c), rc);
        petrel_udp_client_free(c);
        return status;
    }
    print_summary(petrel_udp_client_conn(c), clock.clock_ms(NULL) - start);
    fflush(stdout);

    if (send) {
        rc = petrel_udp_client_send(c, (const uint8_t *)send, strlen(send));
        if (rc < 0) {
            petrel_udp_client_free(c);
            return tool_fail("client", "send failed", rc);
        }
        printf("sent: %s\n", send);
        fflush(stdout);
    }
    int status = 0;
    if (expect) {
        /* Records may also carry other data first: wait until one holds
         * the expected text, resending ours when a reply is overdue. */
        char buf[4096];
        uint64_t last_send = clock.clock_ms(NULL);
        for (;;) {
            uint64_t now = clock.clock_ms(NULL);
            long spent = (long)(now - start);
            if (spent >= timeout_ms) {
                status = tool_fail("client", "no reply within the timeout", PETREL_ERR_TIMEOUT);
                break;
            }
            long wait = timeout_ms - spent;
            if (send && resend_ms > 0) {
                long until_resend = resend_ms - (long)(now - last_send);
                if (until_resend <= 0) {
                    rc = petrel_udp_client_send(c, (const uint8_t *)send, strlen(send));
                    if (rc < 0) {
                        status = tool_fail("client", "send failed", rc);
                        break;
                    }
                    last_send = now;
                    until_resend = resend_ms;
                }
                if (until_resend < wait)
                    wait = until_resend;
            }
            rc = petrel_udp_client_recv(c, (uint8_t *)buf, sizeof(buf) - 1, (int)wait);
            if (rc == PETREL_ERR_TIMEOUT)
                continue;
            if (rc <= 0) {
                status = tool_fail(
                    "client", rc == 0 ? "server closed the connection before replying" : "no reply",
                    rc);
                break;
            }
            buf[rc] = '\0';
            printf("received: %s\n", buf);
            fflush(stdout);
            if (strstr(buf, expect))
                break;
        }
    }
    (void)petrel_udp_client_close(c);
    petrel_udp_client_free(c);
    return status;
}

/* ---- TLS ---- */

/* How long the client waits for the server's close_notify after its own. */
#define CLIENT_CLOSE_WAIT_MS 1000
/* Bytes handed to the engine at a time from --send-file. */
#define CLIENT_SEND_CHUNK 16384

/* The TLS run's progress. */
typedef struct tls_run {
    petrel_tcp_client *c;
    const client_args *a;
    uint64_t start;
    /* Sending: --send TEXT or --send-file. */
    FILE *source;
    bool text_sent;
    bool source_done; /* everything handed to the engine */
    bool pending;     /* the engine holds bytes the socket has not taken */
    unsigned long long sent;
    /* Receiving. */
    FILE *sink;
    unsigned long long received;
    bool expect_seen;
    bool peer_closed;
    /* The last bytes received, so --expect matches across reads. */
    char *window;
    size_t window_len;
} tls_run;

static uint64_t now_ms(void)
{
    petrel_platform clock = petrel_platform_default();
    return clock.clock_ms(NULL);
}

/* Hands the engine more of what is to be sent, while the socket keeps up. */
static int tls_feed(tls_run *r)
{
    uint8_t chunk[CLIENT_SEND_CHUNK];
    while (!r->source_done && !r->pending) {
        const uint8_t *data = chunk;
        size_t n = 0;
        if (r->source) {
            n = fread(chunk, 1, sizeof(chunk), r->source);
            if (n == 0) {
                if (ferror(r->source)) {
                    tool_fail("client", "cannot read --send-file", 0);
                    return -1;
                }
                r->source_done = true;
                break;
            }
        } else if (r->a->send && !r->text_sent) {
            data = (const uint8_t *)r->a->send;
            n = strlen(r->a->send);
            r->text_sent = true;
        } else {
            r->source_done = true;
            break;
        }
        int rc = petrel_tcp_client_send(r->c, data, n, 0);
        if (rc < 0 && rc != PETREL_ERR_WOULD_BLOCK) {
            tool_fail("client", "send failed", rc);
            return -1;
        }
        r->sent += n;
        if (!r->source && r->a->send) {
            printf("sent: %s\n", r->a->send);
            fflush(stdout);
        }
        rc = petrel_tcp_client_flush(r->c, 0);
        if (rc < 0 && rc != PETREL_ERR_WOULD_BLOCK) {
            tool_fail("client", "send failed", rc);
            return -1;
        }
        r->pending = rc == PETREL_ERR_WOULD_BLOCK;
    }
    return 0;
}

/* Looks for --expect in the bytes received so far (the last expect_len - 1
 * bytes of earlier reads are kept in the window). */
static void tls_match(tls_run *r, const uint8_t *data, size_t len)
{
    const char *expect = r->a->expect;
    if (!expect || r->expect_seen)
        return;
    size_t keep = strlen(expect) - 1;
    size_t total = r->window_len + len;
    char *joined = malloc(total ? total : 1);
    if (!joined)
        return;
    memcpy(joined, r->window, r->window_len);
    memcpy(joined + r->window_len, data, len);
    if (memmem(joined, total, expect, strlen(expect)))
        r->expect_seen = true;
    size_t tail = total < keep ? total : keep;
    memcpy(r->window, joined + total - tail, tail);
    r->window_len = tail;
    free(joined);
}

/* Takes every piece of application data the engine has now. Returns 0, or
 * -1 after printing why the run failed. */
static int tls_drain(tls_run *r)
{
    uint8_t buf[16384 + 1];
    for (;;) {
        int rc = petrel_tcp_client_recv(r->c, buf, sizeof(buf) - 1, 0);
        if (rc == PETREL_ERR_WOULD_BLOCK || rc == PETREL_ERR_TIMEOUT)
            return 0;
        if (rc == 0) {
            r->peer_closed = true;
            printf("closed by the server: close_notify\n");
            fflush(stdout);
            return 0;
        }
        if (rc == PETREL_ERR_TRUNCATION) {
            char what[96];
            snprintf(what, sizeof(what), "the server ended TCP after %llu bytes", r->received);
            tool_fail("client", what, rc);
            return -1;
        }
        if (rc < 0) {
            int level, description;
            char what[96] = "receive failed";
            if (petrel_last_alert(petrel_tcp_client_conn(r->c), &level, &description))
                snprintf(what, sizeof(what), "receive failed, the server sent alert %d (%s)",
                         description, petrel_alert_name(description));
            tool_fail("client", what, rc);
            return -1;
        }
        r->received += (unsigned long long)rc;
        if (r->sink) {
            if (fwrite(buf, 1, (size_t)rc, r->sink) != (size_t)rc) {
                tool_fail("client", "cannot write --recv-file", 0);
                return -1;
            }
        } else {
            buf[rc] = '\0';
            printf("received: %s\n", (const char *)buf);
            fflush(stdout);
        }
        tls_match(r, buf, (size_t)rc);
    }
}

/* True once everything asked for has happened. */
static bool tls_done(const tls_run *r)
{
    const client_args *a = r->a;
    if (!r->source_done || r->pending)
        return false;
    if (a->expect && !r->expect_seen)
        return false;
    if (a->recv_bytes >= 0 && r->received < (unsigned long long)a->recv_bytes)
        return false;
    return !a->wait_close || r->peer_closed;
}

/* Why the run cannot finish once the server has closed, or NULL. */
static const char *tls_unfinished(const tls_run *r, char *buf, size_t cap)
{
    const client_args *a = r->a;
    if (!r->source_done || r->pending) {
        snprintf(buf, cap, "server closed the connection after %llu bytes were sent", r->sent);
        return buf;
    }
    if (a->expect && !r->expect_seen)
        return "server closed the connection before replying";
    if (a->recv_bytes >= 0 && r->received < (unsigned long long)a->recv_bytes) {
        snprintf(buf, cap, "server closed the connection after %llu of %lld bytes", r->received,
                 a->recv_bytes);
        return buf;
    }
    return NULL;
}

/* Sends close_notify (answering the server's, if it came first) and, when
 * the server has not closed yet, waits a little for its close_notify. The
 * data asked for has all arrived, so a missing answer is only reported. */
static void tls_close(tls_run *r)
{
    int rc = petrel_tcp_client_close(r->c);
    if (r->peer_closed || rc < 0)
        return;
    uint64_t until = now_ms() + CLIENT_CLOSE_WAIT_MS;
    uint8_t buf[4096];
    for (;;) {
        uint64_t now = now_ms();
        if (now >= until) {
            printf("closed: close_notify sent, no answer within %d ms\n", CLIENT_CLOSE_WAIT_MS);
            break;
        }
        rc = petrel_tcp_client_recv(r->c, buf, sizeof(buf), (int)(until - now));
        if (rc > 0)
            continue; /* data the server sent before it saw ours */
        if (rc == 0)
            printf("closed: close_notify sent, the server answered with close_notify\n");
        else if (rc == PETREL_ERR_TRUNCATION)
            printf("closed: close_notify sent, the server closed TCP without answering\n");
        else if (rc == PETREL_ERR_TIMEOUT)
            continue;
        else
            printf("closed: close_notify sent, then: %s (%s)\n", petrel_strerror(rc),
                   petrel_error_name(rc));
        break;
    }
    fflush(stdout);
}

static int tls_exchange(tls_run *r)
{
    const client_args *a = r->a;
    int fd = petrel_tcp_client_fd(r->c);
    for (;;) {
        /* After the server's close_notify nothing more may be sent (RFC
         * 5246 §7.2.1) and nothing more comes. */
        if (!r->peer_closed && (tls_feed(r) < 0 || tls_drain(r) < 0))
            return 1;
        if (tls_done(r))
            return 0;
        if (r->peer_closed) {
            char why[128];
            const char *unfinished = tls_unfinished(r, why, sizeof(why));
            return tool_fail("client", unfinished ? unfinished : "server closed the connection", 0);
        }
        long spent = (long)(now_ms() - r->start);
        if (spent >= a->timeout_ms) {
            char what[128];
            snprintf(what, sizeof(what),
                     "not done within the timeout (%llu bytes sent, %llu received%s)", r->sent,
                     r->received, a->expect && !r->expect_seen ? ", no reply" : "");
            return tool_fail("client", what, PETREL_ERR_TIMEOUT);
        }
        long wait = a->timeout_ms - spent;
        struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
        if (r->pending)
            p.events |= POLLOUT;
        if (poll(&p, 1, (int)(wait < 1000 ? wait : 1000)) < 0 && errno != EINTR)
            return tool_fail("client", "poll failed", PETREL_ERR_IO);
        if (r->pending) {
            int rc = petrel_tcp_client_flush(r->c, 0);
            if (rc < 0 && rc != PETREL_ERR_WOULD_BLOCK)
                return tool_fail("client", "send failed", rc);
            r->pending = rc == PETREL_ERR_WOULD_BLOCK;
        }
    }
}

static int run_tls(const client_args *a, petrel_config *cfg, const char *host, const char *port)
{
    tls_run r;
    memset(&r, 0, sizeof(r));
    r.a = a;
    if (a->send_file && !(r.source = fopen(a->send_file, "rb"))) {
        fprintf(stderr, "petrel client: cannot open --send-file '%s': %s\n", a->send_file,
                strerror(errno));
        return 1;
    }
    if (a->recv_file && !(r.sink = fopen(a->recv_file, "wb"))) {
        fprintf(stderr, "petrel client: cannot create --recv-file '%s': %s\n", a->recv_file,
                strerror(errno));
        if (r.source)
            fclose(r.source);
        return 1;
    }
    r.window = a->expect ? malloc(strlen(a->expect)) : NULL;
    int status = 1, err = 0;
    r.start = now_ms();
    r.c = petrel_tcp_client_new(cfg, host, port, &err);
    if (!r.c) {
        status = tool_fail("client", "cannot connect", err);
    } else if ((err = petrel_tcp_client_handshake(r.c, (int)a->timeout_ms)) < 0) {
        status = handshake_failed(petrel_tcp_client_conn(r.c), err);
    } else {
        print_summary(petrel_tcp_client_conn(r.c), now_ms() - r.start);
        fflush(stdout);
        uint64_t t0 = now_ms();
        status = tls_exchange(&r);
        if (status == 0 && (a->send_file || a->recv_file))
            printf("transfer: %llu bytes sent, %llu bytes received, %llu ms\n", r.sent, r.received,
                   (unsigned long long)(now_ms() - t0));
        if (status == 0)
            tls_close(&r);
        else if (petrel_conn_error(petrel_tcp_client_conn(r.c)) == 0 && !r.peer_closed)
            (void)petrel_tcp_client_close(r.c); /* given up (a timeout): still a clean end */
    }
    if (r.sink && fclose(r.sink) != 0 && status == 0)
        status = tool_fail("client", "cannot write --recv-file", 0);
    if (r.source)
        fclose(r.source);
    free(r.window);
    petrel_tcp_client_free(r.c);
    return status;
}

/* A non-negative number, or -1 (after a message) when text is not one. */
static long long parse_count(const char *opt, const char *text)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end || end == text || v < 0) {
        fprintf(stderr, "petrel client: %s: '%s' is not a count\n", opt, text);
        return -1;
    }
    return v;
}

int tool_client(int argc, char **argv)
{
    tool_tls_options o;
    tool_tls_options_init(&o);
    client_args a = {NULL, NULL, 30000, 1000, NULL, NULL, -1, false};
    char *connect = NULL;
    const char *tls_only = NULL, *resend = NULL;
    int echo = 1;
    for (int i = 0; i < argc; i++) {
        int rc = tool_parse_tls_option("client", argc, argv, &i, &o);
        if (rc < 0)
            return 2;
        if (rc > 0)
            continue;
        const char *opt = argv[i];
        if (strcmp(opt, "--connect") == 0 && i + 1 < argc) {
            connect = argv[++i];
        } else if (strcmp(opt, "--send") == 0 && i + 1 < argc) {
            a.send = argv[++i];
        } else if (strcmp(opt, "--expect") == 0 && i + 1 < argc) {
            a.expect = argv[++i];
        } else if (strcmp(opt, "--no-echo") == 0) {
            echo = 0;
        } else if (strcmp(opt, "--resend") == 0 && i + 1 < argc) {
            resend = opt;
            a.resend_ms = strtol(argv[++i], NULL, 10);
        } else if (strcmp(opt, "--timeout") == 0 && i + 1 < argc) {
            a.timeout_ms = strtol(argv[++i], NULL, 10);
        } else if (strcmp(opt, "--send-file") == 0 && i + 1 < argc) {
            tls_only = tls_only ? tls_only : opt;
            a.send_file = argv[++i];
        } else if (strcmp(opt, "--recv-file") == 0 && i + 1 < argc) {
            tls_only = tls_only ? tls_only : opt;
            a.recv_file = argv[++i];
        } else if (strcmp(opt, "--recv-bytes") == 0 && i + 1 < argc) {
            tls_only = tls_only ? tls_only : opt;
            if ((a.recv_bytes = parse_count(opt, argv[++i])) < 0)
                return 2;
        } else if (strcmp(opt, "--wait-close") == 0) {
            tls_only = tls_only ? tls_only : opt;
            a.wait_close = true;
        } else if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
            usage();
            return 0;
        } else {
            fprintf(stderr, "petrel client: unknown option '%s'\n", opt);
            usage();
            return 2;
        }
    }
    char *host, *port;
    if (!connect || tool_split_hostport(connect, &host, &port) < 0) {
        fprintf(stderr, "petrel client: --connect HOST:PORT is required\n");
        usage();
        return 2;
    }
    if (tool_check_transport("client", &o) < 0) {
        usage();
        return 2;
    }
    if (o.tls && resend) {
        fprintf(stderr, "petrel client: --resend is a DTLS option: TCP retransmits by itself\n");
        usage();
        return 2;
    }
    if (!o.tls && tls_only) {
        fprintf(stderr, "petrel client: %s needs --tls\n", tls_only);
        usage();
        return 2;
    }
    if (a.send && a.send_file) {
        fprintf(stderr, "petrel client: --send and --send-file exclude each other\n");
        usage();
        return 2;
    }
    if (a.expect && !a.expect[0]) {
        fprintf(stderr, "petrel client: --expect needs a non-empty text\n");
        return 2;
    }
    if (a.send && echo && !a.expect)
        a.expect = a.send;
    /* Receiving into a file with no other end in sight: until the server
     * closes. */
    if (a.recv_file && a.recv_bytes < 0 && !a.expect)
        a.wait_close = true;

    /* Check the certificate against the host connected to, unless told
     * otherwise (as curl does). */
    if (!o.servername && (o.ca || o.capath))
        o.servername = host;
    petrel_config *cfg = tool_make_config("client", &o);
    if (!cfg)
        return 1;
    int status = o.tls ? run_tls(&a, cfg, host, port) : run_dtls(&a, cfg, host, port);
    petrel_config_free(cfg);
    return status;
}
