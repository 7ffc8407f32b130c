/*
 * coaps-server: CoAP over DTLS where libcoap does all the CoAP and petrel
 * does the DTLS, in one poll loop.
 *
 * libcoap (the "notls" build: no TLS inside it) listens on a private
 * plain-UDP endpoint on 127.0.0.1. petrel's UDP server listens on the
 * public address. Every DTLS session gets a "bridge": a UDP socket on
 * 127.0.0.1 connected to libcoap's endpoint. Decrypted datagrams go out
 * through the session's bridge, so libcoap sees each DTLS session as its
 * own plain-UDP peer (block-wise and observe state stay per session);
 * whatever libcoap answers arrives on the bridge and goes back encrypted.
 * docs/coaps.md explains the choice and its costs.
 *
 * Resources: /hello (GET), /echo (PUT, POST: returns the payload), /big
 * (GET, 64 KiB, block-wise, RFC 7959), /time (GET, observable, RFC 7641,
 * one notification a second).
 */
#define _POSIX_C_SOURCE 200809L
#include "coaps_common.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <petrel/udp.h>

/* libcoap forgets a plain-UDP peer that has been silent this long (unless
 * it observes something); a bridge whose DTLS session ended waits for
 * that (see bridge_close), so the limit also bounds how long it lingers. */
#define COAP_SESSION_TIMEOUT_S 60
#define NOTIFY_INTERVAL_MS     1000

typedef struct server server;
typedef struct bridge bridge;

/* One DTLS session's plain-UDP identity towards libcoap. */
struct bridge {
    server *srv;
    /* The DTLS session; NULL once it has ended and the bridge drains. */
    petrel_udp_session *session;
    /* libcoap's session for this bridge's address, while libcoap has one. */
    coap_session_t *coap_session;
    int fd;
    uint16_t port;
    bool dead;               /* freed by bridge_sweep, never in a callback */
    uint64_t drain_deadline; /* draining: close by then at the latest */
    bridge *prev, *next;
};

typedef struct server_options {
    const char *address;
    const char *port;
    const char *psk_key;
    const char *psk_identity;
    const char *psk_hint;
    const char *psk_file;
    const char *cert_file;
    const char *key_file;
    const char *ca_file;
    const char *rpk_file;
    const char *pins[8];
    size_t pin_count;
    bool no_peer_check;
    int verbosity;
    const char *port_file;
    coaps_transmission transmission;
} server_options;

struct server {
    petrel_config *cfg;
    petrel_udp_server *udp;
    coap_context_t *coap;
    coap_address_t coap_addr; /* libcoap's private endpoint */
    coap_resource_t *time_resource;
    bridge *bridges;
    size_t bridge_count;
    const char *psk_key;
    coaps_transmission transmission;
    struct pollfd *pfds;
    bridge **pfd_bridges;
    size_t pfd_cap;
    uint64_t big_etag;
    uint8_t big[COAPS_BIG_SIZE];
    uint8_t buf[COAPS_MAX_DATAGRAM];
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

/* ======================================================================
 * Bridges
 * ====================================================================== */

static bridge *bridge_new(server *srv, petrel_udp_session *session)
{
    bridge *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->fd = coaps_bridge_socket(&srv->coap_addr, &b->port);
    if (b->fd < 0) {
        free(b);
        return NULL;
    }
    b->srv = srv;
    b->session = session;
    b->next = srv->bridges;
    if (srv->bridges)
        srv->bridges->prev = b;
    srv->bridges = b;
    srv->bridge_count++;
    return b;
}

/* The DTLS session is gone. libcoap still holds this peer's state (block
 * transfers, observations, message ids) until its session expires; tell
 * it the peer failed (that drops observations and queued messages), and
 * keep the socket bound meanwhile, so that a new DTLS session can never
 * get the same loopback port and inherit the old session's state. */
static void bridge_close(bridge *b)
{
    b->session = NULL;
    if (b->coap_session) {
        coap_session_disconnected(b->coap_session, COAP_NACK_NOT_DELIVERABLE);
        b->drain_deadline = coaps_now_ms() + (COAP_SESSION_TIMEOUT_S + 30) * 1000u;
    } else {
        b->dead = true;
    }
}

/* Frees dead bridges and drained ones past their deadline. Called only
 * between loop steps, so no poll entry or callback holds a freed one. */
static void bridge_sweep(server *srv, bool all)
{
    uint64_t now = coaps_now_ms();
    for (bridge *b = srv->bridges, *next; b; b = next) {
        next = b->next;
        if (!all && !b->dead && !(b->session == NULL && now >= b->drain_deadline))
            continue;
        if (b->coap_session && srv->coap)
            coap_session_set_app_data(b->coap_session, NULL);
        if (b->session)
            petrel_udp_session_set_user(b->session, NULL);
        if (b->prev)
            b->prev->next = b->next;
        else
            srv->bridges = b->next;
        if (b->next)
            b->next->prev = b->prev;
        coaps_log(COAPS_LOG_DEBUG, "bridge 127.0.0.1:%u closed%s", b->port,
                  b->dead ? "" : " (libcoap never forgot its peer)");
        close(b->fd);
        srv->bridge_count--;
        free(b);
    }
}

/* libcoap answered on a bridge: encrypt and send it to the DTLS peer. */
static void bridge_readable(server *srv, bridge *b)
{
    for (;;) {
        ssize_t n = recv(b->fd, srv->buf, sizeof(srv->buf), 0);
        if (n < 0)
            return; /* EAGAIN, or ECONNREFUSED from an earlier send */
        if (!b->session || b->dead)
            continue; /* draining: libcoap talks to a peer that is gone */
        int rc = petrel_udp_session_send(b->session, srv->buf, (size_t)n);
        if (rc < 0)
            coaps_log(COAPS_LOG_WARNING, "%s: %zd-byte CoAP message not sent: %s",
                      petrel_udp_session_peer(b->session), n, petrel_strerror(rc));
    }
}

static bridge *bridge_of(coap_session_t *session)
{
    return session ? coap_session_get_app_data(session) : NULL;
}

/* ======================================================================
 * petrel's side: DTLS sessions
 * ====================================================================== */

static void on_established(void *ref, petrel_udp_session *s)
{
    server *srv = ref;
    petrel_conn *conn = petrel_udp_session_conn(s);
    bridge *b = bridge_new(srv, s);
    if (!b) {
        coaps_log(COAPS_LOG_WARNING, "%s: no bridge socket (%s): closing",
                  petrel_udp_session_peer(s), strerror(errno));
        (void)petrel_udp_session_close(s);
        return;
    }
    petrel_udp_session_set_user(s, b);
    const uint8_t *identity;
    size_t identity_len = petrel_psk_identity(conn, &identity);
    coaps_log(COAPS_LOG_INFO, "%s: DTLS established, %s%s%.*s%s, bridged from 127.0.0.1:%u",
              petrel_udp_session_peer(s), petrel_cipher_suite_name(conn),
              identity_len ? ", PSK identity \"" : "", (int)identity_len,
              identity_len ? (const char *)identity : "", identity_len ? "\"" : "", b->port);
}

static void on_data(void *ref, petrel_udp_session *s, const uint8_t *data, size_t len)
{
    (void)ref;
    bridge *b = petrel_udp_session_user(s);
    if (!b)
        return;
    /* A full socket buffer loses the datagram, as the network would:
     * CoAP retransmits confirmable messages. */
    if (send(b->fd, data, len, 0) < 0)
        coaps_log(COAPS_LOG_DEBUG, "%s: bridge send: %s", petrel_udp_session_peer(s),
                  strerror(errno));
}

static void on_closed(void *ref, petrel_udp_session *s, int reason)
{
    (void)ref;
    bridge *b = petrel_udp_session_user(s);
    coaps_log(COAPS_LOG_INFO, "%s: DTLS session ended: %s", petrel_udp_session_peer(s),
              reason == 0 ? "close_notify" : petrel_strerror(reason));
    if (b)
        bridge_close(b);
}

/* -k without -u: every identity maps to the one key, as coap-server does. */
static int psk_for_any_identity(void *ref, const uint8_t *identity, size_t identity_len,
                                uint8_t *psk, size_t psk_cap)
{
    server *srv = ref;
    size_t len = strlen(srv->psk_key);
    if (len > psk_cap)
        return 0;
    coaps_log(COAPS_LOG_DEBUG, "PSK identity \"%.*s\"", (int)identity_len, (const char *)identity);
    memcpy(psk, srv->psk_key, len);
    return (int)len;
}

/* -M without pins: any client raw public key is accepted (the peer is then
 * known by its key, not trusted through it). */
static int accept_any_raw_key(void *ref, petrel_conn *conn, const petrel_cert_info *chain,
                              size_t count, int alert)
{
    (void)ref;
    (void)conn;
    (void)count;
    if (chain[0].is_raw_public_key) {
        coaps_log(COAPS_LOG_INFO, "client raw public key accepted (%s %u bits)",
                  chain[0].key_algorithm, chain[0].key_bits);
        return 0;
    }
    return alert;
}

/* ======================================================================
 * libcoap's side: resources and session events
 * ====================================================================== */

static server *server_of(coap_session_t *session)
{
    return coap_get_app_data(coap_session_get_context(session));
}

/* Only peers that came through a DTLS session are served: the private
 * endpoint is on loopback, but any local process could send to it. */
static bool refuse_unbridged(coap_session_t *session, coap_pdu_t *response)
{
    if (bridge_of(session))
        return false;
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_UNAUTHORIZED);
    return true;
}

static void add_text(coap_pdu_t *response, const char *text, size_t len)
{
    uint8_t format[4];
    coap_add_option(response, COAP_OPTION_CONTENT_FORMAT,
                    coap_encode_var_safe(format, sizeof(format), COAP_MEDIATYPE_TEXT_PLAIN),
                    format);
    coap_add_data(response, len, (const uint8_t *)text);
}

static void get_hello(coap_resource_t *resource, coap_session_t *session, const coap_pdu_t *request,
                      const coap_string_t *query, coap_pdu_t *response)
{
    (void)resource;
    (void)request;
    (void)query;
    static const char hello[] = "Hello, CoAPs! (libcoap over petrel DTLS)";
    if (refuse_unbridged(session, response))
        return;
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
    add_text(response, hello, sizeof(hello) - 1);
}

static void release_copy(coap_session_t *session, void *copy)
{
    (void)session;
    free(copy);
}

static void put_echo(coap_resource_t *resource, coap_session_t *session, const coap_pdu_t *request,
                     const coap_string_t *query, coap_pdu_t *response)
{
    size_t len = 0, offset, total;
    const uint8_t *data = NULL;
    if (refuse_unbridged(session, response))
        return;
    /* COAP_BLOCK_SINGLE_BODY: a Block1 upload arrives here whole. */
    (void)coap_get_data_large(request, &len, &data, &offset, &total);
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_CHANGED);
    if (len == 0)
        return;
    uint8_t *copy = malloc(len);
    if (!copy) {
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
        return;
    }
    memcpy(copy, data, len);
    /* The body must outlive the request: libcoap may send it in blocks. */
    if (!coap_add_data_large_response(resource, session, request, response, query,
                                      COAP_MEDIATYPE_APPLICATION_OCTET_STREAM, -1, 0, len, copy,
                                      release_copy, copy))
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
}

static void get_big(coap_resource_t *resource, coap_session_t *session, const coap_pdu_t *request,
                    const coap_string_t *query, coap_pdu_t *response)
{
    server *srv = server_of(session);
    if (refuse_unbridged(session, response))
        return;
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
    /* libcoap answers the later Block2 requests from this call's data, as
     * long as it keeps the transfer's state. libcoap 4.3.1 drops that
     * state after a short silence (under loss, a client's retransmission
     * can come later), then calls this handler for the one block and
     * sends it without ETag and Size2; its client then takes that block
     * for the whole body. So both options are set here: on the first
     * block libcoap overwrites them with the same values. */
    uint8_t value[8];
    coap_add_option(response, COAP_OPTION_ETAG,
                    coap_encode_var_safe8(value, sizeof(value), srv->big_etag), value);
    coap_add_option(response, COAP_OPTION_SIZE2,
                    coap_encode_var_safe(value, sizeof(value), sizeof(srv->big)), value);
    if (!coap_add_data_large_response(resource, session, request, response, query,
                                      COAP_MEDIATYPE_TEXT_PLAIN, -1, srv->big_etag,
                                      sizeof(srv->big), srv->big, NULL, NULL))
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
}

static void get_time(coap_resource_t *resource, coap_session_t *session, const coap_pdu_t *request,
                     const coap_string_t *query, coap_pdu_t *response)
{
    (void)resource;
    (void)request;
    (void)query;
    char text[32];
    struct tm tm;
    time_t now = time(NULL);
    if (refuse_unbridged(session, response))
        return;
    size_t len = strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
    add_text(response, text, len);
}

/* Ties libcoap's session for a bridge's address to the bridge, and learns
 * when libcoap has forgotten it (then a draining bridge may close). */
static int on_coap_event(coap_session_t *session, const coap_event_t event)
{
    server *srv = server_of(session);
    if (event == COAP_EVENT_SERVER_SESSION_NEW) {
        const coap_address_t *remote = coap_session_get_addr_remote(session);
        uint16_t port = remote ? coap_address_get_port(remote) : 0;
        for (bridge *b = srv->bridges; b; b = b->next) {
            if (b->port != port || b->dead || !b->session || b->coap_session)
                continue;
            b->coap_session = session;
            coap_session_set_app_data(session, b);
            int max = petrel_max_payload(petrel_udp_session_conn(b->session));
            coap_session_set_mtu(session,
                                 max > 0 && max < COAPS_COAP_MTU ? (unsigned)max : COAPS_COAP_MTU);
            coaps_apply_transmission(session, &srv->transmission);
            return 0;
        }
        coaps_log(COAPS_LOG_WARNING, "plain CoAP from a local peer on port %u: not served", port);
    } else if (event == COAP_EVENT_SERVER_SESSION_DEL) {
        bridge *b = bridge_of(session);
        if (b) {
            b->coap_session = NULL;
            coap_session_set_app_data(session, NULL);
            if (!b->session)
                b->dead = true;
            coaps_log(COAPS_LOG_DEBUG, "libcoap forgot the peer on bridge 127.0.0.1:%u", b->port);
        }
    }
    return 0;
}

static int coap_setup(server *srv)
{
    coaps_loopback_address(&srv->coap_addr, 0);
    srv->coap = coap_new_context(NULL);
    if (!srv->coap)
        return -1;
    coap_set_app_data(srv->coap, srv);
    coap_context_set_block_mode(srv->coap, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    coap_context_set_session_timeout(srv->coap, COAP_SESSION_TIMEOUT_S);
    coap_register_event_handler(srv->coap, on_coap_event);
    coap_endpoint_t *ep = coap_new_endpoint(srv->coap, &srv->coap_addr, COAP_PROTO_UDP);
    if (!ep)
        return -1;
    /* libcoap 4.3.1 publishes the bound address only as text,
     * "127.0.0.1:PORT UDP". */
    const char *text = coap_endpoint_str(ep);
    const char *colon = text ? strrchr(text, ':') : NULL;
    unsigned port = 0;
    if (!colon || sscanf(colon + 1, "%u", &port) != 1 || port == 0 || port > 65535)
        return -1;
    coaps_loopback_address(&srv->coap_addr, (uint16_t)port);

    coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
    coap_register_handler(r, COAP_REQUEST_GET, get_hello);
    coap_add_resource(srv->coap, r);
    r = coap_resource_init(coap_make_str_const("echo"), 0);
    coap_register_handler(r, COAP_REQUEST_PUT, put_echo);
    coap_register_handler(r, COAP_REQUEST_POST, put_echo);
    coap_add_resource(srv->coap, r);
    r = coap_resource_init(coap_make_str_const("big"), 0);
    coap_register_handler(r, COAP_REQUEST_GET, get_big);
    coap_add_resource(srv->coap, r);
    /* Confirmable notifications, as coap-server sends them without -N. */
    r = coap_resource_init(coap_make_str_const("time"), COAP_RESOURCE_FLAGS_NOTIFY_CON);
    coap_register_handler(r, COAP_REQUEST_GET, get_time);
    coap_resource_set_get_observable(r, 1);
    coap_add_resource(srv->coap, r);
    srv->time_resource = r;
    return 0;
}

/* ======================================================================
 * The loop
 * ====================================================================== */

static int pollset_build(server *srv)
{
    size_t need = srv->bridge_count + 2;
    if (need > srv->pfd_cap) {
        size_t cap = need * 2;
        struct pollfd *pfds = realloc(srv->pfds, cap * sizeof(*pfds));
        if (pfds)
            srv->pfds = pfds;
        bridge **owners = realloc(srv->pfd_bridges, cap * sizeof(*owners));
        if (owners)
            srv->pfd_bridges = owners;
        if (!pfds || !owners)
            return -1;
        srv->pfd_cap = cap;
    }
    srv->pfds[0] = (struct pollfd){petrel_udp_server_fd(srv->udp), POLLIN, 0};
    srv->pfds[1] = (struct pollfd){coap_context_get_coap_fd(srv->coap), POLLIN, 0};
    size_t n = 2;
    for (bridge *b = srv->bridges; b; b = b->next) {
        srv->pfd_bridges[n] = b;
        srv->pfds[n++] = (struct pollfd){b->fd, POLLIN, 0};
    }
    return (int)n;
}

static int serve(server *srv)
{
    uint64_t next_notify = coaps_now_ms() + NOTIFY_INTERVAL_MS;
    while (!stop_signal) {
        int nfds = pollset_build(srv);
        if (nfds < 0)
            return -1;
        uint64_t now = coaps_now_ms();
        /* petrel's timers (retransmissions, expiry), libcoap's (CoAP
         * retransmissions, block and observe state), /time's. */
        int wait = petrel_udp_server_next_timeout(srv->udp);
        coap_tick_t ticks;
        coap_ticks(&ticks);
        unsigned coap_wait = coap_io_prepare_epoll(srv->coap, ticks); /* 0: no timer */
        if (coap_wait > 0 && (wait < 0 || coap_wait < (unsigned)wait))
            wait = (int)coap_wait;
        if (next_notify <= now)
            wait = 0;
        else if (next_notify - now < (uint64_t)wait)
            wait = (int)(next_notify - now);
        if (poll(srv->pfds, (nfds_t)nfds, wait) < 0 && errno != EINTR) {
            coaps_fail("poll: %s", strerror(errno));
            return -1;
        }
        /* Each step may feed the next in the same turn: petrel decrypts a
         * request into a bridge, libcoap answers it, the answer waits on
         * the bridge (read in this turn when poll saw it, else the next
         * poll returns at once). */
        int rc = petrel_udp_server_run_once(srv->udp, 0);
        if (rc < 0)
            coaps_log(COAPS_LOG_WARNING, "petrel: %s", petrel_strerror(rc));
        now = coaps_now_ms();
        if (next_notify <= now) {
            coap_resource_notify_observers(srv->time_resource, NULL);
            next_notify += NOTIFY_INTERVAL_MS;
            if (next_notify <= now)
                next_notify = now + NOTIFY_INTERVAL_MS;
        }
        if (coap_io_process(srv->coap, COAP_IO_NO_WAIT) < 0)
            coaps_log(COAPS_LOG_WARNING, "libcoap: coap_io_process failed");
        for (int i = 2; i < nfds; i++) {
            if (srv->pfds[i].revents)
                bridge_readable(srv, srv->pfd_bridges[i]);
        }
        bridge_sweep(srv, false);
    }
    return 0;
}

/* Sends close_notify to every peer, lets petrel free the sessions, then
 * frees libcoap and the bridges. */
static void shutdown_server(server *srv)
{
    if (srv->udp) {
        for (bridge *b = srv->bridges; b; b = b->next) {
            if (b->session)
                (void)petrel_udp_session_close(b->session);
        }
        (void)petrel_udp_server_run_once(srv->udp, 0);
        petrel_udp_server_free(srv->udp);
    }
    if (srv->coap)
        coap_free_context(srv->coap);
    srv->coap = NULL; /* the bridges' coap_session pointers are gone with it */
    bridge_sweep(srv, true);
    petrel_config_free(srv->cfg);
    free(srv->pfds);
    free(srv->pfd_bridges);
}

/* ======================================================================
 * Options
 * ====================================================================== */

static void usage(FILE *to)
{
    fprintf(to,
            "usage: coaps-server [-A ADDRESS] [-p PORT] [-v LEVEL] [--port-file FILE]\n"
            "                    [-k KEY [-u IDENTITY]] [-i KEYSFILE] [-h HINT]\n"
            "                    [-c CERTFILE [-j KEYFILE] [-C CAFILE] [-n]]\n"
            "                    [-M RPKFILE [--pin PUBKEYFILE]... [-n]]\n"
            "  -A ADDRESS   address to listen on (default ::, which takes IPv4 too)\n"
            "  -p PORT      UDP port (default 5684; 0 picks a free one)\n"
            "  -k KEY       pre-shared key, the string's bytes (as coap-server -k)\n"
            "  -u IDENTITY  the only PSK identity to accept (default: any, with KEY)\n"
            "  -i KEYSFILE  PSKs, one per line: hint,identity,key (as coap-server -i)\n"
            "               or identity,key; with -k and no -u, other identities get KEY\n"
            "  -h HINT      PSK identity hint to send (default: none)\n"
            "  -c CERTFILE  certificate chain, PEM, leaf first (may hold the key too)\n"
            "  -j KEYFILE   private key for -c (default: CERTFILE)\n"
            "  -C CAFILE    CAs that client certificates must chain to; asks for one\n"
            "  -M RPKFILE   raw public key mode (RFC 7250) with this private key\n"
            "  --pin FILE   with -M: accept only this client key (SubjectPublicKeyInfo PEM/DER)\n"
            "  -n           do not ask clients for a certificate or key\n"
            "  -v LEVEL     verbosity 0..7 (default 4: warnings; 6: sessions; 7: debug)\n"
            "  --port-file FILE  write the bound UDP port to FILE once listening\n"
            "  --ack-timeout MS  CoAP ACK_TIMEOUT for confirmable notifications\n"
            "                    (default 2000, RFC 7252)\n"
            "  --max-retransmit N  CoAP MAX_RETRANSMIT (default 4)\n"
            "  --lossy-link RTT    petrel's lossy-link DTLS retransmission profile for a\n"
            "                      round trip of about RTT ms (0: 100), instead of RFC\n"
            "                      6347's 1 s doubling timer\n");
}

static int parse_options(int argc, char **argv, server_options *o)
{
    static const struct option longs[] = {
        {"port-file", required_argument, NULL, 'P'},
        {"pin", required_argument, NULL, 'K'},
        COAPS_TRANSMISSION_LONG_OPTIONS,
        {"help", no_argument, NULL, '?'},
        {NULL, 0, NULL, 0},
    };
    *o = (server_options){.address = "::",
                          .port = "5684",
                          .verbosity = COAPS_LOG_WARNING,
                          .transmission = COAPS_TRANSMISSION_DEFAULT};
    int c;
    while ((c = getopt_long(argc, argv, "A:p:k:u:h:i:c:j:C:M:nv:", longs, NULL)) != -1) {
        switch (c) {
        case 'A':
            o->address = optarg;
            break;
        case 'p':
            o->port = optarg;
            break;
        case 'k':
            o->psk_key = optarg;
            break;
        case 'u':
            o->psk_identity = optarg;
            break;
        case 'h':
            o->psk_hint = optarg;
            break;
        case 'i':
            o->psk_file = optarg;
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
        case 'P':
            o->port_file = optarg;
            break;
        case 'T':
        case 'R':
        case 'L':
            if (coaps_parse_transmission(&o->transmission, c, optarg) < 0)
                return -1;
            break;
        case 'K':
            if (o->pin_count == sizeof(o->pins) / sizeof(o->pins[0])) {
                coaps_fail("at most 8 --pin files");
                return -1;
            }
            o->pins[o->pin_count++] = optarg;
            break;
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return -1;
    }
    if (!o->psk_key && !o->psk_file && !o->cert_file && !o->rpk_file) {
        coaps_fail("nothing to authenticate with: give -k KEY, -i KEYSFILE, -c CERTFILE or "
                   "-M RPKFILE");
        return -1;
    }
    if (o->psk_key && (strlen(o->psk_key) == 0 || strlen(o->psk_key) > 256)) {
        coaps_fail("-k takes 1 to 256 bytes");
        return -1;
    }
    if (o->psk_identity && !o->psk_key) {
        coaps_fail("-u needs -k");
        return -1;
    }
    if (o->psk_hint && !o->psk_key && !o->psk_file) {
        coaps_fail("-h needs -k or -i");
        return -1;
    }
    if (o->cert_file && o->rpk_file) {
        coaps_fail("-c and -M exclude each other: one key per server");
        return -1;
    }
    if ((o->key_file || o->ca_file) && !o->cert_file) {
        coaps_fail("-j and -C need -c");
        return -1;
    }
    if (o->pin_count && !o->rpk_file) {
        coaps_fail("--pin needs -M");
        return -1;
    }
    return 0;
}

/* Splits line (its end of line removed) at the commas into at most
 * `cap` fields; returns how many, or cap + 1 when there are more. */
static size_t split_fields(char *line, char **fields, size_t cap)
{
    line[strcspn(line, "\r\n")] = '\0';
    size_t n = 0;
    for (char *at = line;; at++) {
        if (n == cap)
            return cap + 1;
        fields[n++] = at;
        at = strchr(at, ',');
        if (!at)
            return n;
        *at = '\0';
    }
}

/*
 * -i KEYSFILE: one PSK per line, as libcoap's coap-server -i takes them,
 * "hint,identity,key", or just "identity,key"; blank lines and lines
 * starting with '#' are skipped. A three-field line applies when its hint
 * is empty or the one this server sends (-h): the others are for another
 * hint, and are skipped with a warning. Keys are the strings' bytes, as
 * with -k. Every identity goes into petrel's table; -k without -u still
 * answers any other identity.
 */
static int load_psk_file(server *srv, const char *path, const char *hint)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        coaps_fail("-i %s: %s", path, strerror(errno));
        return -1;
    }
    char line[1024];
    int rc = 0, number = 0, loaded = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        number++;
        if (!strchr(line, '\n') && !feof(f)) {
            coaps_fail("-i %s:%d: line longer than %zu bytes", path, number, sizeof(line) - 2);
            rc = -1;
            break;
        }
        if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
            continue;
        char *field[3];
        size_t n = split_fields(line, field, 3);
        if (n < 2 || n > 3) {
            coaps_fail("-i %s:%d: expected hint,identity,key or identity,key", path, number);
            rc = -1;
            break;
        }
        const char *line_hint = n == 3 ? field[0] : "";
        const char *identity = field[n - 2], *key = field[n - 1];
        if (line_hint[0] && (!hint || strcmp(line_hint, hint) != 0)) {
            coaps_log(COAPS_LOG_WARNING, "-i %s:%d: for hint \"%s\", not the one sent: skipped",
                      path, number, line_hint);
            continue;
        }
        size_t identity_len = strlen(identity), key_len = strlen(key);
        if (identity_len == 0 || identity_len > 128 || key_len == 0 || key_len > 256) {
            coaps_fail("-i %s:%d: the identity takes 1 to 128 bytes, the key 1 to 256", path,
                       number);
            rc = -1;
            break;
        }
        rc = petrel_config_set_psk(srv->cfg, (const uint8_t *)identity, identity_len,
                                   (const uint8_t *)key, key_len);
        if (rc < 0)
            coaps_fail("-i %s:%d: %s", path, number, petrel_strerror(rc));
        else
            loaded++;
    }
    if (rc == 0 && ferror(f)) {
        coaps_fail("-i %s: %s", path, strerror(errno));
        rc = -1;
    }
    fclose(f);
    if (rc == 0 && loaded == 0) {
        coaps_fail("-i %s: no PSK in it", path);
        rc = -1;
    }
    if (rc == 0)
        coaps_log(COAPS_LOG_INFO, "-i %s: %d PSK identities", path, loaded);
    return rc < 0 ? -1 : 0;
}

/* Each step names what failed. */
static int configure_petrel(server *srv, const server_options *o)
{
    if (o->psk_file && load_psk_file(srv, o->psk_file, o->psk_hint) < 0)
        return -1;
    int rc = 0;
    const char *what = "";
    if (o->psk_key && o->psk_identity) {
        what = "-k/-u";
        rc = petrel_config_set_psk(srv->cfg, (const uint8_t *)o->psk_identity,
                                   strlen(o->psk_identity), (const uint8_t *)o->psk_key,
                                   strlen(o->psk_key));
    } else if (o->psk_key) {
        what = "-k";
        rc = petrel_config_set_psk_lookup(srv->cfg, psk_for_any_identity, srv);
    }
    if (rc == 0 && o->psk_hint) {
        what = "-h";
        rc =
            petrel_config_set_psk_hint(srv->cfg, (const uint8_t *)o->psk_hint, strlen(o->psk_hint));
    }
    if (rc == 0 && o->cert_file) {
        what = "-c/-j";
        rc = petrel_config_load_credentials_file(srv->cfg, o->cert_file,
                                                 o->key_file ? o->key_file : o->cert_file, NULL);
    }
    if (rc == 0 && o->ca_file) {
        what = "-C";
        rc = petrel_config_load_ca_file(srv->cfg, o->ca_file);
        if (rc == 0)
            rc = petrel_config_set_verify(
                srv->cfg, o->no_peer_check ? PETREL_VERIFY_NONE : PETREL_VERIFY_REQUIRE, 0);
    }
    if (rc == 0 && o->rpk_file) {
        what = "-M";
        rc = petrel_config_load_key_file(srv->cfg, o->rpk_file, NULL);
        if (rc == 0)
            rc = petrel_config_set_raw_public_keys(srv->cfg, true);
        for (size_t i = 0; rc == 0 && i < o->pin_count; i++) {
            what = "--pin";
            rc = petrel_config_add_pinned_key_file(srv->cfg, o->pins[i]);
        }
        if (rc == 0 && o->no_peer_check)
            rc = petrel_config_set_verify(srv->cfg, PETREL_VERIFY_NONE, 0);
        else if (rc == 0 && o->pin_count)
            rc = petrel_config_set_verify(srv->cfg, PETREL_VERIFY_REQUIRE, 0);
        else if (rc == 0) {
            rc = petrel_config_set_verify(srv->cfg, PETREL_VERIFY_OPTIONAL, 0);
            if (rc == 0)
                rc = petrel_config_set_cert_callback(srv->cfg, accept_any_raw_key, srv);
        }
    }
    if (rc == 0) {
        what = "--lossy-link";
        rc = coaps_apply_lossy_link(srv->cfg, &o->transmission);
    }
    if (rc < 0)
        coaps_fail("%s: %s (%s)", what, petrel_strerror(rc), petrel_error_name(rc));
    return rc;
}

/* Every session holds a bridge socket, and an ended one keeps it while
 * libcoap remembers the peer: cap the sessions so that both fit the
 * descriptor limit (half each, less a reserve), within petrel's 1024. */
static size_t session_limit(void)
{
    struct rlimit nofile;
    size_t limit = 1024;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY &&
        (nofile.rlim_cur - 64) / 2 < limit)
        limit = nofile.rlim_cur > 64 + 2 ? (size_t)(nofile.rlim_cur - 64) / 2 : 1;
    return limit;
}

static int write_port_file(const char *path, int port)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

int main(int argc, char **argv)
{
    static server srv; /* large buffers: not on the stack */
    server_options o;
    petrel_platform platform = coaps_log_setup("coaps-server", COAPS_LOG_WARNING);
    if (parse_options(argc, argv, &o) < 0)
        return 2;
    platform = coaps_log_setup("coaps-server", o.verbosity);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    coaps_big_fill(srv.big);
    srv.big_etag = coaps_fnv1a64(srv.big, sizeof(srv.big));
    srv.psk_key = o.psk_key;
    srv.transmission = o.transmission;
    coap_startup();
    int status = 1;
    srv.cfg = petrel_config_new(&platform);
    if (!srv.cfg) {
        coaps_fail("out of memory");
        goto out;
    }
    if (configure_petrel(&srv, &o) < 0)
        goto out;
    if (coap_setup(&srv) < 0) {
        coaps_fail("libcoap: cannot set up the private endpoint on 127.0.0.1");
        goto out;
    }
    petrel_udp_server_handlers handlers = {on_established, on_data, on_closed};
    int err = 0;
    petrel_udp_server_options limits = {.max_sessions = session_limit()};
    srv.udp = petrel_udp_server_new(srv.cfg, o.address, o.port, &limits, &handlers, &srv, &err);
    if (!srv.udp) {
        coaps_fail("cannot listen on %s port %s: %s", o.address, o.port, petrel_strerror(err));
        goto out;
    }
    int port = petrel_udp_server_port(srv.udp);
    printf("coaps-server: listening on %s port %d (libcoap on 127.0.0.1:%u, at most %zu "
           "sessions); /big is %d bytes, fnv1a64 %016" PRIx64 "\n",
           o.address, port, coap_address_get_port(&srv.coap_addr), limits.max_sessions,
           COAPS_BIG_SIZE, srv.big_etag);
    fflush(stdout);
    if (o.port_file && write_port_file(o.port_file, port) < 0) {
        coaps_fail("--port-file %s: %s", o.port_file, strerror(errno));
        goto out;
    }
    status = serve(&srv) < 0 ? 1 : 0;
    if (stop_signal)
        coaps_log(COAPS_LOG_NOTICE, "signal %d: stopping", (int)stop_signal);
out:
    shutdown_server(&srv);
    coap_cleanup();
    return status;
}
