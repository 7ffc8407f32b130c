/*
 * RFC 5746 secure renegotiation, TLS 1.2 and DTLS 1.2, in memory on the
 * pair's virtual clock: started by the client (ClientHello) and by the
 * server (HelloRequest); application data in both directions while it
 * runs; new keys afterwards (new master secret, DTLS epoch 2, 3, ...);
 * several in a row; under datagram loss; refused by a peer whose
 * configuration does not accept it (no_renegotiation, keys unchanged);
 * refused locally when the peer did not signal RFC 5746; given up when
 * the request is never answered (DTLS); and a forged
 * renegotiation_info ending the connection with handshake_failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <petrel/cert.h>
#include <petrel/petrel.h>

#include "conn/conn_types.h"
#include "tests/support/pair.h"

#ifndef PETREL_SOURCE_DIR
#error "PETREL_SOURCE_DIR must be defined"
#endif
#define PKI(name) PETREL_SOURCE_DIR "/tests/pki/" name

typedef struct side {
    petrel_conn *conn;
    int completes; /* PETREL_HANDSHAKE_COMPLETE events */
    int alerts;
    int alert_level, alert_desc;
    int error;
    uint8_t app[4096];
    size_t app_len;
} side;

typedef struct net {
    pair p; /* configs and the virtual clock */
    bool stream;
    side s[2];           /* 0 client, 1 server */
    unsigned drop_every; /* DTLS: drop every n-th datagram (0: none) */
    unsigned sent;
} net;

static void handle(side *to, int rc, const uint8_t *d, size_t n)
{
    for (;;) {
        if (rc < 0) {
            if (!to->error)
                to->error = rc;
            return;
        }
        if (rc == PETREL_HANDSHAKE_COMPLETE) {
            to->completes++;
        } else if (rc == PETREL_APP_DATA) {
            assert_true(to->app_len + n <= sizeof(to->app));
            memcpy(to->app + to->app_len, d, n);
            to->app_len += n;
        } else if (rc == PETREL_RECEIVED_ALERT) {
            to->alerts++;
            assert_true(petrel_last_alert(to->conn, &to->alert_level, &to->alert_desc));
        } else {
            return; /* REQUEST_SEND / REQUEST_RECV: the loop sends */
        }
        rc = petrel_processed(to->conn, &d, &n);
    }
}

/* Moves everything waiting from one side to the other; true if anything
 * moved. */
static bool move(net *nt, int from)
{
    side *a = &nt->s[from], *b = &nt->s[1 - from];
    bool moved = false;
    const uint8_t *out;
    int n;
    while ((n = petrel_get_outdata(a->conn, &out)) > 0) {
        uint8_t copy[20000];
        assert_true((size_t)n <= sizeof(copy));
        memcpy(copy, out, (size_t)n);
        assert_true(petrel_sent(a->conn, (size_t)n) >= 0);
        moved = true;
        nt->sent++;
        if (!nt->stream && nt->drop_every && nt->sent % nt->drop_every == 0)
            continue;
        uint8_t *buf;
        int cap = petrel_get_readbuf(b->conn, &buf);
        assert_true(cap >= n);
        memcpy(buf, copy, (size_t)n);
        const uint8_t *d = NULL;
        size_t len = 0;
        int rc = petrel_received(b->conn, (size_t)n, &d, &len);
        handle(b, rc, d, len);
    }
    return moved;
}

/* Runs until nothing moves and no timer is armed (or a bound). */
static void run(net *nt)
{
    for (int i = 0; i < 10000; i++) {
        bool moved = move(nt, 0);
        moved = move(nt, 1) || moved;
        if (moved)
            continue;
        int64_t next = -1;
        for (int k = 0; k < 2; k++) {
            int64_t t = petrel_next_timeout(nt->s[k].conn);
            if (t >= 0 && (next < 0 || t < next))
                next = t;
        }
        if (next < 0)
            return;
        nt->p.now += (uint64_t)next;
        for (int k = 0; k < 2; k++) {
            if (petrel_next_timeout(nt->s[k].conn) == 0) {
                int rc = petrel_handle_timeout(nt->s[k].conn);
                if (rc < 0 && !nt->s[k].error)
                    nt->s[k].error = rc;
            }
        }
    }
    fail_msg("the exchange did not settle");
}

static void net_init(net *nt, bool stream, bool certs, uint64_t seed)
{
    memset(nt, 0, sizeof(*nt));
    nt->stream = stream;
    pair_init(&nt->p, seed);
    if (certs) {
        assert_int_equal(
            petrel_config_load_cert_chain_file(nt->p.server_cfg, PKI("ec-server-chain.pem")), 0);
        assert_int_equal(petrel_config_load_key_file(nt->p.server_cfg, PKI("ec-server.key"), NULL),
                         0);
        assert_int_equal(petrel_config_load_ca_file(nt->p.client_cfg, PKI("ec-root.crt")), 0);
        assert_int_equal(petrel_config_set_server_name(nt->p.client_cfg, "localhost"), 0);
        static const uint16_t cert_suite[] = {0xC02B};
        assert_int_equal(petrel_config_set_suites(nt->p.client_cfg, cert_suite, 1), 0);
    }
}

static void net_start(net *nt)
{
    petrel_mode mode = nt->stream ? PETREL_STREAM : PETREL_DATAGRAM;
    static const uint8_t peer[] = {127, 0, 0, 1, 0x13, 0x88};
    nt->s[0].conn = petrel_conn_new(nt->p.client_cfg, PETREL_CLIENT, mode, NULL, 0);
    nt->s[1].conn = petrel_conn_new(nt->p.server_cfg, PETREL_SERVER, mode, peer, sizeof(peer));
    assert_non_null(nt->s[0].conn);
    assert_non_null(nt->s[1].conn);
    assert_int_equal(petrel_connect(nt->s[0].conn), PETREL_REQUEST_SEND);
    run(nt);
    assert_int_equal(nt->s[0].error, 0);
    assert_int_equal(nt->s[1].error, 0);
    assert_int_equal(nt->s[0].completes, 1);
    assert_int_equal(nt->s[1].completes, 1);
}

static void net_free(net *nt)
{
    petrel_conn_free(nt->s[0].conn);
    petrel_conn_free(nt->s[1].conn);
    nt->p.client = NULL;
    nt->p.server = NULL;
    pair_free(&nt->p);
}

static void send_app(net *nt, int from, const char *text)
{
    assert_true(petrel_encode_to_outdata(nt->s[from].conn, (const uint8_t *)text, strlen(text)) >=
                0);
}

/* Both sides renegotiate once, started by `starter` (0 client, 1 server),
 * with application data crossing it; checks the new keys. */
static void renegotiate_once(net *nt, int starter, int round)
{
    uint8_t before[2][48], after[2][48];
    for (int k = 0; k < 2; k++)
        assert_int_equal(petrel_export_master_secret(nt->s[k].conn, before[k]), 0);
    size_t app0 = nt->s[0].app_len, app1 = nt->s[1].app_len;

    assert_false(petrel_renegotiating(nt->s[starter].conn));
    assert_int_equal(petrel_renegotiate(nt->s[starter].conn), PETREL_REQUEST_SEND);
    assert_true(petrel_renegotiating(nt->s[starter].conn));
    assert_int_equal(petrel_renegotiate(nt->s[starter].conn), PETREL_ERR_STATE); /* one at a time */
    /* Data queued by both sides while the new handshake starts. */
    send_app(nt, 0, "c");
    send_app(nt, 1, "s");
    run(nt);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(nt->s[k].error, 0);
        assert_int_equal(nt->s[k].completes, 2 + round);
        assert_false(petrel_renegotiating(nt->s[k].conn));
        assert_int_equal(petrel_export_master_secret(nt->s[k].conn, after[k]), 0);
        assert_memory_not_equal(before[k], after[k], 48);
    }
    assert_memory_equal(after[0], after[1], 48);
    assert_int_equal(nt->s[0].app_len, app0 + 1);
    assert_int_equal(nt->s[1].app_len, app1 + 1);
    /* And afterwards, under the new keys. */
    send_app(nt, 0, "after");
    run(nt);
    assert_int_equal(nt->s[1].app_len, app1 + 6);
    assert_memory_equal(nt->s[1].app + app1 + 1, "after", 5);
    if (!nt->stream) {
        assert_int_equal(nt->s[0].conn->dtls.write_epoch, 2 + round);
        assert_int_equal(nt->s[1].conn->dtls.read_epoch, 2 + round);
    }
}

static void both_directions(bool stream, bool certs)
{
    net nt;
    net_init(&nt, stream, certs, 1);
    assert_int_equal(petrel_config_set_renegotiation(nt.p.server_cfg, true), 0);
    assert_int_equal(petrel_config_set_renegotiation(nt.p.client_cfg, true), 0);
    net_start(&nt);
    renegotiate_once(&nt, 0, 0); /* the client asks */
    renegotiate_once(&nt, 1, 1); /* the server asks: HelloRequest */
    renegotiate_once(&nt, 0, 2);
    if (certs)
        assert_int_equal(petrel_cipher_suite(nt.s[0].conn), 0xC02B);
    net_free(&nt);
}

static void test_dtls_psk(void **state)
{
    (void)state;
    both_directions(false, false);
}

static void test_dtls_certificates(void **state)
{
    (void)state;
    both_directions(false, true);
}

static void test_tls_psk(void **state)
{
    (void)state;
    both_directions(true, false);
}

static void test_tls_certificates(void **state)
{
    (void)state;
    both_directions(true, true);
}

/* Every fifth datagram lost: the renegotiation's flights are resent. */
static void test_dtls_under_loss(void **state)
{
    (void)state;
    net nt;
    net_init(&nt, false, true, 2);
    assert_int_equal(petrel_config_set_renegotiation(nt.p.server_cfg, true), 0);
    assert_int_equal(petrel_config_set_renegotiation(nt.p.client_cfg, true), 0);
    net_start(&nt);
    nt.drop_every = 5;
    assert_int_equal(petrel_renegotiate(nt.s[0].conn), PETREL_REQUEST_SEND);
    run(&nt);
    assert_int_equal(nt.s[0].error, 0);
    assert_int_equal(nt.s[1].error, 0);
    assert_int_equal(nt.s[0].completes, 2);
    assert_int_equal(nt.s[1].completes, 2);
    net_free(&nt);
}

/* The peer's configuration refuses: a no_renegotiation warning, and the
 * connection goes on with its keys; the refusing side can still start
 * one itself. */
static void refused_by_peer(bool stream, int starter)
{
    net nt;
    net_init(&nt, stream, false, 3);
    net_start(&nt);
    uint8_t before[48], after[48];
    assert_int_equal(petrel_export_master_secret(nt.s[0].conn, before), 0);
    assert_int_equal(petrel_renegotiate(nt.s[starter].conn), PETREL_REQUEST_SEND);
    run(&nt);
    side *st = &nt.s[starter];
    assert_int_equal(st->error, 0);
    assert_int_equal(nt.s[1 - starter].error, 0);
    assert_int_equal(st->alerts, 1);
    assert_int_equal(st->alert_level, 1);
    assert_int_equal(st->alert_desc, 100);
    assert_false(petrel_renegotiating(st->conn));
    assert_int_equal(petrel_export_master_secret(nt.s[0].conn, after), 0);
    assert_memory_equal(before, after, 48);
    send_app(&nt, starter, "still");
    send_app(&nt, 1 - starter, "here");
    run(&nt);
    assert_int_equal(nt.s[1 - starter].app_len, 5);
    assert_int_equal(st->app_len, 4);
    assert_int_equal(st->completes, 1);
    net_free(&nt);
}

static void test_refused_by_server(void **state)
{
    (void)state;
    refused_by_peer(false, 0);
    refused_by_peer(true, 0);
}

static void test_refused_by_client(void **state)
{
    (void)state;
    refused_by_peer(false, 1);
    refused_by_peer(true, 1);
}

/* DTLS: the renegotiation ClientHello carries the first handshake's
 * cookie (OpenSSL 3.0 servers that do cookie exchange cannot complete a
 * renegotiation without it), and a petrel server takes it either way. */
static void test_dtls_renegotiation_hello_keeps_cookie(void **state)
{
    (void)state;
    net nt;
    net_init(&nt, false, false, 6);
    assert_int_equal(petrel_config_set_renegotiation(nt.p.server_cfg, true), 0);
    net_start(&nt);
    const hs_ctx *hs = &nt.s[0].conn->hs;
    assert_true(hs->cookie_len > 0);
    uint8_t cookie[HS_COOKIE_MAX];
    size_t cookie_len = hs->cookie_len;
    memcpy(cookie, hs->cookie, cookie_len);
    assert_int_equal(petrel_renegotiate(nt.s[0].conn), PETREL_REQUEST_SEND);
    /* The hello is encrypted: look at the cookie the core wrote. */
    assert_int_equal(hs->cookie_len, cookie_len);
    assert_memory_equal(hs->cookie, cookie, cookie_len);
    run(&nt);
    assert_int_equal(nt.s[0].completes, 2);
    assert_int_equal(nt.s[1].completes, 2);
    net_free(&nt);
}

/* DTLS: a client may ignore a HelloRequest (RFC 5246 §7.4.1.1); a peer
 * may not answer a ClientHello. When the retransmissions of the request
 * are spent, the renegotiation is given up and the connection goes on. */
static void unanswered(int starter)
{
    net nt;
    net_init(&nt, false, false, 7);
    net_start(&nt);
    assert_int_equal(petrel_renegotiate(nt.s[starter].conn), PETREL_REQUEST_SEND);
    nt.drop_every = 1; /* nothing gets through */
    run(&nt);
    assert_int_equal(nt.s[starter].error, 0);
    assert_false(petrel_renegotiating(nt.s[starter].conn));
    nt.drop_every = 0;
    send_app(&nt, starter, "on");
    run(&nt);
    assert_int_equal(nt.s[1 - starter].app_len, 2);
    assert_int_equal(petrel_renegotiate(nt.s[starter].conn), PETREL_REQUEST_SEND);
    net_free(&nt);
}

static void test_dtls_unanswered_request(void **state)
{
    (void)state;
    unanswered(1); /* the HelloRequest */
    unanswered(0); /* the ClientHello */
}

static void test_states_and_arguments(void **state)
{
    (void)state;
    assert_int_equal(petrel_renegotiate(NULL), PETREL_ERR_ARG);
    assert_int_equal(petrel_config_set_renegotiation(NULL, true), PETREL_ERR_ARG);
    assert_false(petrel_renegotiating(NULL));
    net nt;
    net_init(&nt, false, false, 4);
    nt.s[0].conn = petrel_conn_new(nt.p.client_cfg, PETREL_CLIENT, PETREL_DATAGRAM, NULL, 0);
    assert_int_equal(petrel_renegotiate(nt.s[0].conn), PETREL_ERR_STATE); /* no handshake yet */
    petrel_conn_free(nt.s[0].conn);
    net_start(&nt);

    /* A peer without RFC 5746 (forced here): refused locally, nothing
     * sent, the connection unharmed. */
    nt.s[0].conn->hs.secure_renegotiation = false;
    assert_int_equal(petrel_renegotiate(nt.s[0].conn), PETREL_ERR_UNSUPPORTED);
    const uint8_t *out;
    assert_int_equal(petrel_get_outdata(nt.s[0].conn, &out), 0);
    assert_int_equal(petrel_conn_error(nt.s[0].conn), 0);

    /* After close_notify. */
    assert_int_equal(petrel_close_notify(nt.s[1].conn), PETREL_REQUEST_SEND);
    assert_int_equal(petrel_renegotiate(nt.s[1].conn), PETREL_ERR_STATE);
    net_free(&nt);
}

/* A forged renegotiation_info (the client's idea of the last Finished is
 * not the server's): the server ends the connection. */
static void forged_binding(bool stream)
{
    net nt;
    net_init(&nt, stream, false, 5);
    assert_int_equal(petrel_config_set_renegotiation(nt.p.server_cfg, true), 0);
    net_start(&nt);
    nt.s[0].conn->hs.client_verify_data[0] ^= 1;
    assert_int_equal(petrel_renegotiate(nt.s[0].conn), PETREL_REQUEST_SEND);
    run(&nt);
    assert_int_equal(nt.s[1].error, PETREL_ERR_HANDSHAKE_FAILURE);
    assert_int_equal(nt.s[0].error, PETREL_ERR_PEER_ALERT);
    int level = 0, desc = 0;
    assert_true(petrel_last_alert(nt.s[0].conn, &level, &desc));
    assert_int_equal(level, 2);
    assert_int_equal(desc, 40); /* handshake_failure */
    net_free(&nt);
}

static void test_forged_renegotiation_info(void **state)
{
    (void)state;
    forged_binding(false);
    forged_binding(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dtls_psk),
        cmocka_unit_test(test_dtls_certificates),
        cmocka_unit_test(test_tls_psk),
        cmocka_unit_test(test_tls_certificates),
        cmocka_unit_test(test_dtls_under_loss),
        cmocka_unit_test(test_refused_by_server),
        cmocka_unit_test(test_refused_by_client),
        cmocka_unit_test(test_dtls_renegotiation_hello_keeps_cookie),
        cmocka_unit_test(test_dtls_unanswered_request),
        cmocka_unit_test(test_states_and_arguments),
        cmocka_unit_test(test_forged_renegotiation_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
