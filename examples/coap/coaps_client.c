/*
 * coaps-client: one CoAP request over DTLS, where libcoap does the CoAP
 * (block-wise transfers, observe, retransmissions) and petrel's engine
 * does the DTLS, in one poll loop.
 *
 * libcoap (the "notls" build) talks plain CoAP to a local "bridge" socket
 * on 127.0.0.1; the bridge hands each datagram to the petrel connection,
 * which encrypts it onto its own UDP socket to the real server, and the
 * decrypted answers go back to libcoap through the bridge. petrel is used
 * through its sans-I/O engine (petrel_conn, PETREL_DATAGRAM): this program
 * owns every socket and the poll loop, and runs petrel's retransmission
 * timer (petrel_next_timeout / petrel_handle_timeout) next to libcoap's.
 * docs/coaps.md explains the design.
 *
 * Exit status: 0 on a 2.xx response, 1 on any other response or failure
 * (with a one-line reason), 2 on bad usage.
 */
#define _POSIX_C_SOURCE 200809L
#include "coaps_common.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct client_options {
    coap_pdu_code_t method;
    const char *method_name;
    const char *payload;
    const char *psk_key;
    const char *psk_identity;
    const char *cert_file;
    const char *key_file;
    const char *ca_file;
    const char *rpk_file;
    const char *pins[8];
    size_t pin_count;
    bool no_peer_check;
    int observe_s; /* -s: observe for this long; 0: a plain request */
    int wait_s;    /* -B: give up after this long */
    const char *output_file;
    int verbosity;
    const char *uri;
    coaps_transmission transmission;
} client_options;

typedef struct client {
    const client_options *opt;
    petrel_config *cfg;
    petrel_conn *conn;
    int dtls_fd;   /* connected to the server */
    int bridge_fd; /* connected to libcoap's session socket */
    int last_socket_error;
    coap_context_t *coap;
    coap_session_t *session;
    coap_uri_t uri;
    char host[256];
    char port[8];
    uint8_t token[8];
    size_t token_len;
    bool request_sent;
    /* observe */
    unsigned notifications;
    uint64_t observe_until;
    bool cancel_sent;
    /* outcome */
    bool done;
    int status;
    uint8_t buf[COAPS_MAX_DATAGRAM];
} client;

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

/* Ends the run with status 1 and a one-line reason (the first one wins). */
static void client_fail(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void client_fail(client *c, const char *fmt, ...)
{
    if (c->done)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    coaps_fail("failed: %s", line);
    c->done = true;
    c->status = 1;
}

/* ======================================================================
 * petrel's side: the DTLS connection, driven by hand
 * ====================================================================== */

/* Sends every datagram petrel has queued. One the socket refuses counts as
 * lost: DTLS retransmits handshake flights, CoAP retransmits messages. */
static void dtls_flush(client *c)
{
    const uint8_t *buf;
    int n;
    while ((n = petrel_get_outdata(c->conn, &buf)) > 0) {
        if (send(c->dtls_fd, buf, (size_t)n, 0) < 0)
            c->last_socket_error = errno;
        (void)petrel_sent(c->conn, (size_t)n);
    }
}

static void send_request(client *c);

/* Names the failure as precisely as petrel and the network allow. */
static void dtls_failed(client *c, int rc)
{
    int level, description;
    if (petrel_last_alert(c->conn, &level, &description) && level == 2)
        client_fail(c, "DTLS: the server sent a fatal %s alert (%s)",
                    petrel_alert_name(description), petrel_strerror(rc));
    else if (rc == PETREL_ERR_HANDSHAKE_TIMEOUT && c->last_socket_error == ECONNREFUSED)
        client_fail(c, "DTLS: no server on %s port %s (ICMP port unreachable)", c->host, c->port);
    else
        client_fail(c, "DTLS: %s (%s)", petrel_strerror(rc), petrel_error_name(rc));
}

/* One datagram from the server: each record's plaintext goes to libcoap. */
static void dtls_receive(client *c, size_t n)
{
    const uint8_t *data;
    size_t len;
    int rc = petrel_received(c->conn, n, &data, &len);
    while (rc >= 0 && !c->done) {
        if (rc == PETREL_HANDSHAKE_COMPLETE) {
            coaps_log(COAPS_LOG_NOTICE, "DTLS handshake complete: %s",
                      petrel_cipher_suite_name(c->conn));
            send_request(c);
        } else if (rc == PETREL_APP_DATA) {
            if (send(c->bridge_fd, data, len, 0) < 0)
                coaps_log(COAPS_LOG_DEBUG, "bridge send: %s", strerror(errno));
        } else if (rc == PETREL_RECEIVED_ALERT) {
            int level, description;
            if (petrel_last_alert(c->conn, &level, &description) && description == 0)
                client_fail(c, "the server closed the DTLS session (close_notify)");
        } else {
            break;
        }
        rc = petrel_processed(c->conn, &data, &len);
    }
    dtls_flush(c);
    if (rc < 0)
        dtls_failed(c, rc);
}

static void dtls_readable(client *c)
{
    for (int i = 0; i < 64 && !c->done; i++) {
        uint8_t *buf;
        int cap = petrel_get_readbuf(c->conn, &buf);
        if (cap < 0)
            return;
        ssize_t n = recv(c->dtls_fd, buf, (size_t)cap, 0);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                c->last_socket_error = errno;
            return;
        }
        dtls_receive(c, (size_t)n);
    }
}

/* libcoap sent a CoAP message to the bridge: encrypt it as one record. */
static void bridge_readable(client *c)
{
    for (;;) {
        ssize_t n = recv(c->bridge_fd, c->buf, sizeof(c->buf), 0);
        if (n < 0)
            return;
        if (!petrel_handshake_complete(c->conn))
            continue; /* cannot happen: the request waits for the handshake */
        int rc = petrel_encode_to_outdata(c->conn, c->buf, (size_t)n);
        if (rc < 0) {
            coaps_log(COAPS_LOG_WARNING, "%zd-byte CoAP message not sent: %s", n,
                      petrel_strerror(rc));
            if (petrel_conn_error(c->conn))
                dtls_failed(c, rc);
        }
        dtls_flush(c);
    }
}

static int dtls_open(client *c)
{
    struct addrinfo hints, *res, *ai;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    int gai = getaddrinfo(c->host, c->port, &hints, &res);
    if (gai != 0) {
        coaps_fail("failed: cannot resolve %s: %s", c->host, gai_strerror(gai));
        return -1;
    }
    c->dtls_fd = -1;
    for (ai = res; ai && c->dtls_fd < 0; ai = ai->ai_next) {
        c->dtls_fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->dtls_fd >= 0 && connect(c->dtls_fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            close(c->dtls_fd);
            c->dtls_fd = -1;
        }
    }
    freeaddrinfo(res);
    if (c->dtls_fd < 0) {
        coaps_fail("failed: cannot open a UDP socket to %s port %s: %s", c->host, c->port,
                   strerror(errno));
        return -1;
    }
    return 0;
}

/* ======================================================================
 * libcoap's side: the request and its responses
 * ====================================================================== */

static client *client_of(coap_session_t *session)
{
    return coap_get_app_data(coap_session_get_context(session));
}

/* Adds the Uri-Path or Uri-Query options of one URI part. */
static void add_uri_options(coap_optlist_t **options, uint16_t number, const coap_str_const_t *part)
{
    uint8_t buf[1024];
    size_t buflen = sizeof(buf);
    int count = number == COAP_OPTION_URI_PATH
                    ? coap_split_path(part->s, part->length, buf, &buflen)
                    : coap_split_query(part->s, part->length, buf, &buflen);
    const uint8_t *opt = buf;
    for (int i = 0; i < count; i++) {
        coap_insert_optlist(options,
                            coap_new_optlist(number, coap_opt_length(opt), coap_opt_value(opt)));
        opt += coap_opt_size(opt);
    }
}

static void send_request(client *c)
{
    const client_options *o = c->opt;
    /* libcoap sizes blocks from the session MTU: a CoAP message must fit
     * one DTLS record. */
    int max = petrel_max_payload(c->conn);
    coap_session_set_mtu(c->session,
                         max > 0 && max < COAPS_COAP_MTU ? (unsigned)max : COAPS_COAP_MTU);
    coap_pdu_t *pdu = coap_new_pdu(COAP_MESSAGE_CON, o->method, c->session);
    if (!pdu) {
        client_fail(c, "libcoap: cannot create the request");
        return;
    }
    coap_session_new_token(c->session, &c->token_len, c->token);
    coap_add_token(pdu, c->token_len, c->token);
    coap_optlist_t *options = NULL;
    uint8_t value[4];
    if (o->observe_s > 0)
        coap_insert_optlist(&options, coap_new_optlist(COAP_OPTION_OBSERVE,
                                                       coap_encode_var_safe(value, sizeof(value),
                                                                            COAP_OBSERVE_ESTABLISH),
                                                       value));
    if (c->uri.path.length)
        add_uri_options(&options, COAP_OPTION_URI_PATH, &c->uri.path);
    if (c->uri.query.length)
        add_uri_options(&options, COAP_OPTION_URI_QUERY, &c->uri.query);
    if (o->payload)
        coap_insert_optlist(
            &options,
            coap_new_optlist(COAP_OPTION_CONTENT_FORMAT,
                             coap_encode_var_safe(value, sizeof(value), COAP_MEDIATYPE_TEXT_PLAIN),
                             value));
    int ok = coap_add_optlist_pdu(pdu, &options);
    coap_delete_optlist(options);
    /* A payload larger than one message goes out as Block1, by libcoap. */
    if (ok && o->payload)
        ok = coap_add_data_large_request(c->session, pdu, strlen(o->payload),
                                         (const uint8_t *)o->payload, NULL, NULL);
    if (!ok) {
        coap_delete_pdu(pdu);
        client_fail(c, "libcoap: cannot build the request");
        return;
    }
    if (coap_send(c->session, pdu) == COAP_INVALID_MID) {
        client_fail(c, "libcoap: cannot send the request");
        return;
    }
    c->request_sent = true;
}

static bool printable(const uint8_t *data, size_t len)
{
    if (len > 1024)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!isprint(data[i]) && data[i] != '\n' && data[i] != '\r' && data[i] != '\t')
            return false;
    }
    return true;
}

static void describe(char *out, size_t cap, coap_pdu_code_t code)
{
    const char *phrase = coap_response_phrase((unsigned char)code);
    snprintf(out, cap, "%d.%02d%s%s", COAP_RESPONSE_CLASS(code), code & 0x1f, phrase ? " " : "",
             phrase ? phrase : "");
}

static int write_output(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t written = len ? fwrite(data, 1, len, f) : 0;
    return fclose(f) == 0 && written == len ? 0 : -1;
}

static coap_response_t on_response(coap_session_t *session, const coap_pdu_t *sent,
                                   const coap_pdu_t *received, const coap_mid_t mid)
{
    (void)sent;
    (void)mid;
    client *c = client_of(session);
    coap_bin_const_t token = coap_pdu_get_token(received);
    if (token.length != c->token_len || memcmp(token.s, c->token, c->token_len) != 0)
        return COAP_RESPONSE_FAIL; /* not ours: libcoap answers with a reset */
    if (c->done)
        return COAP_RESPONSE_OK;
    coap_pdu_code_t code = coap_pdu_get_code(received);
    char what[64];
    describe(what, sizeof(what), code);
    size_t len = 0, offset = 0, total = 0;
    const uint8_t *data = NULL;
    (void)coap_get_data_large(received, &len, &data, &offset, &total);
    bool success = COAP_RESPONSE_CLASS(code) == 2;
    coap_opt_iterator_t it;
    bool notification = coap_check_option(received, COAP_OPTION_OBSERVE, &it) != NULL;

    if (c->opt->observe_s > 0 && !c->cancel_sent) {
        if (!success) {
            client_fail(c, "observe %s: %s", c->opt->uri, what);
            return COAP_RESPONSE_OK;
        }
        c->notifications++;
        /* The observation lasts -s seconds from the server's first answer,
         * however long the registration took to get through. */
        if (c->notifications == 1)
            c->observe_until = coaps_now_ms() + (uint64_t)c->opt->observe_s * 1000u;
        printf("notification %u: %s, %zu bytes%s%.*s\n", c->notifications, what, len,
               printable(data, len) ? ": " : "", printable(data, len) ? (int)len : 0,
               (const char *)data);
        fflush(stdout);
        if (!notification)
            client_fail(c, "observe %s: the server does not offer observation", c->opt->uri);
        return COAP_RESPONSE_OK;
    }
    if (c->cancel_sent) {
        /* The answer to the cancelling GET (RFC 7641 §3.6). */
        printf("observe: %u notifications, cancelled: %s\n", c->notifications, what);
        c->done = true;
        c->status = c->notifications > 0 ? 0 : 1;
        return COAP_RESPONSE_OK;
    }
    /* COAP_BLOCK_SINGLE_BODY hands over the whole body. libcoap 4.3.1's
     * client can hand over a single block instead when a server changes
     * its answer mid-transfer (a block without the ETag the others had):
     * never report that as the response. */
    if (offset != 0 || (total != 0 && total != len)) {
        client_fail(c, "%s %s: incomplete block-wise body (%zu bytes at offset %zu of %zu)",
                    c->opt->method_name, c->opt->uri, len, offset, total);
        return COAP_RESPONSE_OK;
    }
    printf("response: %s, %zu bytes, fnv1a64 %016" PRIx64 "\n", what, len,
           coaps_fnv1a64(data, len));
    if (len && !c->opt->output_file && printable(data, len))
        printf("%.*s%s", (int)len, (const char *)data, data[len - 1] == '\n' ? "" : "\n");
    fflush(stdout);
    if (c->opt->output_file && write_output(c->opt->output_file, data, len) < 0) {
        client_fail(c, "-o %s: %s", c->opt->output_file, strerror(errno));
        return COAP_RESPONSE_OK;
    }
    if (!success)
        client_fail(c, "%s %s: %s", c->opt->method_name, c->opt->uri, what);
    c->done = true;
    return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *session, const coap_pdu_t *sent,
                    const coap_nack_reason_t reason, const coap_mid_t mid)
{
    (void)sent;
    (void)mid;
    client *c = client_of(session);
    if (reason == COAP_NACK_TOO_MANY_RETRIES)
        client_fail(c, "CoAP: no answer to a confirmable message after libcoap's retries");
    else if (reason == COAP_NACK_RST)
        client_fail(c, "CoAP: the server reset the exchange");
    else
        client_fail(c, "CoAP: message not delivered (libcoap reason %d)", (int)reason);
}

/* Ends an observation: libcoap sends a GET with Observe: 1 and the same
 * token; its answer ends the run. */
static void observe_cancel(client *c)
{
    coap_binary_t token = {c->token_len, c->token};
    c->cancel_sent = true;
    if (!coap_cancel_observe(c->session, &token, COAP_MESSAGE_CON)) {
        printf("observe: %u notifications\n", c->notifications);
        c->done = true;
        c->status = c->notifications > 0 ? 0 : 1;
    }
}

static int coap_open(client *c)
{
    uint16_t port;
    c->bridge_fd = coaps_bridge_socket(NULL, &port);
    if (c->bridge_fd < 0) {
        coaps_fail("failed: bridge socket: %s", strerror(errno));
        return -1;
    }
    c->coap = coap_new_context(NULL);
    if (!c->coap) {
        coaps_fail("failed: libcoap: no context");
        return -1;
    }
    coap_set_app_data(c->coap, c);
    coap_context_set_block_mode(c->coap, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    coap_register_response_handler(c->coap, on_response);
    coap_register_nack_handler(c->coap, on_nack);
    coap_address_t bridge;
    coaps_loopback_address(&bridge, port);
    c->session = coap_new_client_session(c->coap, NULL, &bridge, COAP_PROTO_UDP);
    if (!c->session) {
        coaps_fail("failed: libcoap: no session");
        return -1;
    }
    coap_session_set_no_observe_cancel(c->session);
    coaps_apply_transmission(c->session, &c->opt->transmission);
    /* The bridge talks to libcoap's socket only. */
    const coap_address_t *local = coap_session_get_addr_local(c->session);
    if (!local || coap_address_get_port(local) == 0 ||
        connect(c->bridge_fd, &local->addr.sa, local->size) < 0) {
        coaps_fail("failed: cannot connect the bridge to libcoap's socket");
        return -1;
    }
    return 0;
}

/* ======================================================================
 * The loop
 * ====================================================================== */

static void run(client *c)
{
    uint64_t deadline = coaps_now_ms() + (uint64_t)c->opt->wait_s * 1000u;
    int coap_fd = coap_context_get_coap_fd(c->coap);
    int rc = petrel_connect(c->conn);
    if (rc < 0) {
        dtls_failed(c, rc);
        return;
    }
    dtls_flush(c);
    while (!c->done) {
        if (stop_signal) {
            client_fail(c, "interrupted by signal %d", (int)stop_signal);
            break;
        }
        uint64_t now = coaps_now_ms();
        if (now >= deadline) {
            client_fail(c, "%s after %d s (-B)%s",
                        !petrel_handshake_complete(c->conn) ? "no DTLS handshake"
                                                            : "no CoAP response",
                        c->opt->wait_s,
                        c->last_socket_error == ECONNREFUSED
                            ? ": ICMP port unreachable, is the server running?"
                            : "");
            break;
        }
        if (c->observe_until && !c->cancel_sent && now >= c->observe_until) {
            observe_cancel(c);
            continue;
        }
        int64_t wait = (int64_t)(deadline - now);
        int64_t dtls_wait = petrel_next_timeout(c->conn);
        if (dtls_wait >= 0 && dtls_wait < wait)
            wait = dtls_wait;
        coap_tick_t ticks;
        coap_ticks(&ticks);
        unsigned coap_wait = coap_io_prepare_epoll(c->coap, ticks); /* 0: no timer */
        if (coap_wait > 0 && coap_wait < wait)
            wait = coap_wait;
        if (c->observe_until && !c->cancel_sent && (int64_t)(c->observe_until - now) < wait)
            wait = (int64_t)(c->observe_until - now);
        struct pollfd pfds[3] = {
            {c->dtls_fd, POLLIN, 0},
            {c->bridge_fd, POLLIN, 0},
            {coap_fd, POLLIN, 0},
        };
        if (poll(pfds, coap_fd >= 0 ? 3 : 2, (int)wait) < 0 && errno != EINTR) {
            client_fail(c, "poll: %s", strerror(errno));
            break;
        }
        if (pfds[0].revents)
            dtls_readable(c);
        if (!c->done && petrel_next_timeout(c->conn) == 0) {
            rc = petrel_handle_timeout(c->conn);
            dtls_flush(c);
            if (rc < 0)
                dtls_failed(c, rc);
        }
        if (!c->done && coap_io_process(c->coap, COAP_IO_NO_WAIT) < 0)
            client_fail(c, "libcoap: coap_io_process failed");
        if (!c->done)
            bridge_readable(c);
    }
    /* Say goodbye: close_notify, unless the connection has failed. */
    if (petrel_handshake_complete(c->conn) && petrel_conn_error(c->conn) == 0 &&
        !petrel_peer_closed(c->conn) && petrel_close_notify(c->conn) >= 0)
        dtls_flush(c);
}

/* ======================================================================
 * Options
 * ====================================================================== */

static void usage(FILE *to)
{
    fprintf(to, "usage: coaps-client [-m get|put|post] [-e PAYLOAD] [-o FILE] [-s SECONDS]\n"
                "                    [-B SECONDS] [-v LEVEL]\n"
                "                    [-k KEY -u IDENTITY]\n"
                "                    [--cert CERTFILE [--key KEYFILE]] [--ca CAFILE] [-n]\n"
                "                    [-M RPKFILE [--pin PUBKEYFILE]...]\n"
                "                    coaps://HOST[:PORT]/PATH[?QUERY]\n"
                "  -m METHOD   get (default), put or post\n"
                "  -e PAYLOAD  request payload (block-wise when it does not fit one message)\n"
                "  -o FILE     write the response body to FILE\n"
                "  -s SECONDS  observe the resource (RFC 7641) for SECONDS from its first\n"
                "              answer, printing each notification, then cancel\n"
                "  -B SECONDS  give up after SECONDS (default 90)\n"
                "  -k KEY      pre-shared key, the string's bytes (as coap-client -k)\n"
                "  -u ID       PSK identity\n"
                "  --cert, -c  client certificate chain (PEM, leaf first)\n"
                "  --key, -j   its private key (default: the --cert file)\n"
                "  --ca, -C    CAs the server's certificate must chain to; its name\n"
                "              (subjectAltName) must match HOST\n"
                "  -n          do not check the server's certificate or key\n"
                "  -M RPKFILE  raw public key mode (RFC 7250) with this private key;\n"
                "              --pin names the server key to accept (else give -n)\n"
                "  -v LEVEL    verbosity 0..7 (default 4: warnings; 5: the DTLS suite)\n"
                "  --ack-timeout MS    CoAP ACK_TIMEOUT: the first retransmission of a\n"
                "                      request after MS (then doubling; default 2000)\n"
                "  --max-retransmit N  CoAP MAX_RETRANSMIT (default 4)\n"
                "  --lossy-link RTT    petrel's lossy-link DTLS retransmission profile for a\n"
                "                      round trip of about RTT ms (0: 100), instead of RFC\n"
                "                      6347's 1 s doubling timer\n");
}

static int parse_method(client_options *o, const char *name)
{
    static const struct {
        const char *name;
        coap_pdu_code_t code;
    } methods[] = {
        {"get", COAP_REQUEST_CODE_GET},
        {"put", COAP_REQUEST_CODE_PUT},
        {"post", COAP_REQUEST_CODE_POST},
    };
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (strcmp(name, methods[i].name) == 0) {
            o->method = methods[i].code;
            o->method_name = methods[i].name;
            return 0;
        }
    }
    coaps_fail("-m takes get, put or post, not '%s'", name);
    return -1;
}

static int parse_options(int argc, char **argv, client_options *o)
{
    static const struct option longs[] = {
        {"cert", required_argument, NULL, 'c'},
        {"key", required_argument, NULL, 'j'},
        {"ca", required_argument, NULL, 'C'},
        {"pin", required_argument, NULL, 'K'},
        {"help", no_argument, NULL, 'H'},
        COAPS_TRANSMISSION_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    *o = (client_options){.method = COAP_REQUEST_CODE_GET,
                          .method_name = "get",
                          .wait_s = 90,
                          .verbosity = COAPS_LOG_WARNING,
                          .transmission = COAPS_TRANSMISSION_DEFAULT};
    int c;
    while ((c = getopt_long(argc, argv, "m:e:o:s:B:k:u:c:j:C:M:nv:", longs, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (parse_method(o, optarg) < 0)
                return -1;
            break;
        case 'e':
            o->payload = optarg;
            break;
        case 'o':
            o->output_file = optarg;
            break;
        case 's':
            o->observe_s = atoi(optarg);
            break;
        case 'B':
            o->wait_s = atoi(optarg);
            break;
        case 'k':
            o->psk_key = optarg;
            break;
        case 'u':
            o->psk_identity = optarg;
            break;
        case 'c':
            o->cert_file = optarg;
            break;
        case 'j':
            o->key_file = optarg;
            break;
        case 'C':
            o->ca_file = optarg;
            break;
        case 'M':
            o->rpk_file = optarg;
            break;
        case 'n':
            o->no_peer_check = true;
            break;
        case 'v':
            o->verbosity = atoi(optarg);
            break;
        case 'K':
            if (o->pin_count == sizeof(o->pins) / sizeof(o->pins[0])) {
                coaps_fail("at most 8 --pin files");
                return -1;
            }
            o->pins[o->pin_count++] = optarg;
            break;
        case 'T':
        case 'R':
        case 'L':
            if (coaps_parse_transmission(&o->transmission, c, optarg) < 0)
                return -1;
            break;
        case 'H':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind + 1 != argc) {
        usage(stderr);
        return -1;
    }
    o->uri = argv[optind];
    if (o->wait_s <= 0 || o->observe_s < 0) {
        coaps_fail("-B takes a positive number of seconds, -s a non-negative one");
        return -1;
    }
    if ((o->psk_key != NULL) != (o->psk_identity != NULL)) {
        coaps_fail("-k KEY and -u IDENTITY go together");
        return -1;
    }
    if (o->psk_key && (strlen(o->psk_key) == 0 || strlen(o->psk_key) > 256 ||
                       strlen(o->psk_identity) == 0 || strlen(o->psk_identity) > 128)) {
        coaps_fail("-k takes 1 to 256 bytes, -u 1 to 128");
        return -1;
    }
    if (o->cert_file && o->rpk_file) {
        coaps_fail("--cert and -M exclude each other");
        return -1;
    }
    if (o->key_file && !o->cert_file) {
        coaps_fail("--key needs --cert");
        return -1;
    }
    bool checks_server = o->ca_file || o->pin_count || o->no_peer_check;
    if (!o->psk_key && !checks_server) {
        coaps_fail("credentials needed: -k KEY -u IDENTITY, or --ca CAFILE (or -M with --pin), "
                   "or -n to skip checking the server");
        return -1;
    }
    return 0;
}

static int configure_petrel(client *c)
{
    const client_options *o = c->opt;
    int rc = 0;
    const char *what = "";
    if (o->psk_key) {
        what = "-k/-u";
        rc =
            petrel_config_set_psk(c->cfg, (const uint8_t *)o->psk_identity, strlen(o->psk_identity),
                                  (const uint8_t *)o->psk_key, strlen(o->psk_key));
    }
    if (rc == 0 && o->cert_file) {
        what = "--cert/--key";
        rc = petrel_config_load_credentials_file(c->cfg, o->cert_file,
                                                 o->key_file ? o->key_file : o->cert_file, NULL);
    }
    if (rc == 0 && o->ca_file) {
        what = "--ca";
        rc = petrel_config_load_ca_file(c->cfg, o->ca_file);
    }
    if (rc == 0 && o->rpk_file) {
        what = "-M";
        rc = petrel_config_load_key_file(c->cfg, o->rpk_file, NULL);
        if (rc == 0)
            rc = petrel_config_set_raw_public_keys(c->cfg, true);
    }
    for (size_t i = 0; rc == 0 && i < o->pin_count; i++) {
        what = "--pin";
        rc = petrel_config_add_pinned_key_file(c->cfg, o->pins[i]);
    }
    if (rc == 0 && o->no_peer_check) {
        what = "-n";
        rc = petrel_config_set_verify(c->cfg, PETREL_VERIFY_NONE, 0);
    }
    if (rc == 0 && o->ca_file && !o->no_peer_check) {
        what = "host name";
        rc = petrel_config_set_server_name(c->cfg, c->host);
    }
    if (rc == 0) {
        what = "--lossy-link";
        rc = coaps_apply_lossy_link(c->cfg, &o->transmission);
    }
    if (rc < 0)
        coaps_fail("%s: %s (%s)", what, petrel_strerror(rc), petrel_error_name(rc));
    return rc;
}

static int parse_uri(client *c)
{
    const char *uri = c->opt->uri;
    if (coap_split_uri((const uint8_t *)uri, strlen(uri), &c->uri) < 0 ||
        c->uri.scheme != COAP_URI_SCHEME_COAPS) {
        coaps_fail("not a coaps:// URI: %s", uri);
        return -1;
    }
    if (c->uri.host.length == 0 || c->uri.host.length >= sizeof(c->host)) {
        coaps_fail("no usable host in %s", uri);
        return -1;
    }
    memcpy(c->host, c->uri.host.s, c->uri.host.length);
    c->host[c->uri.host.length] = '\0';
    snprintf(c->port, sizeof(c->port), "%u", c->uri.port ? c->uri.port : 5684u);
    return 0;
}

int main(int argc, char **argv)
{
    static client c; /* large buffers: not on the stack */
    client_options o;
    petrel_platform platform = coaps_log_setup("coaps-client", COAPS_LOG_WARNING);
    if (parse_options(argc, argv, &o) < 0)
        return 2;
    platform = coaps_log_setup("coaps-client", o.verbosity);
    c.opt = &o;
    c.dtls_fd = c.bridge_fd = -1;

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    coap_startup();
    int status = 2;
    if (parse_uri(&c) < 0)
        goto out;
    status = 1;
    c.cfg = petrel_config_new(&platform);
    if (!c.cfg) {
        coaps_fail("failed: out of memory");
        goto out;
    }
    if (configure_petrel(&c) < 0)
        goto out;
    c.conn = petrel_conn_new(c.cfg, PETREL_CLIENT, PETREL_DATAGRAM, NULL, 0);
    if (!c.conn) {
        coaps_fail("failed: out of memory");
        goto out;
    }
    if (dtls_open(&c) < 0 || coap_open(&c) < 0)
        goto out;
    run(&c);
    status = c.status;
out:
    if (c.session)
        coap_session_release(c.session);
    if (c.coap)
        coap_free_context(c.coap);
    coap_cleanup();
    if (c.bridge_fd >= 0)
        close(c.bridge_fd);
    if (c.dtls_fd >= 0)
        close(c.dtls_fd);
    petrel_conn_free(c.conn);
    petrel_config_free(c.cfg);
    return status;
}
