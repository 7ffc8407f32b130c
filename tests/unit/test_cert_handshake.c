/*
 * Whole DTLS 1.2 certificate handshakes in-process (issue 6): every ECDHE
 * suite and group, ECDSA and RSA servers, a three-certificate RSA chain at
 * small PMTUs, client authentication (required, optional, missing), each
 * bad chain failing with its alert on both sides, the validation callback
 * and what it sees, raw public keys, and the clock hook deciding validity.
 * The test PKI is tests/pki (make_pki.sh).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handshake/messages.h"
#include "tests/support/pair.h"

#define PKI(name)    PETREL_SOURCE_DIR "/tests/pki/" name
#define RUN_LIMIT_MS 600000

static const uint16_t ecdsa_suites[] = {0xC0AE, 0xC0AC, 0xC02B, 0xC02C, 0xCCA9};
static const uint16_t rsa_suites[] = {0xC02F, 0xC030, 0xCCA8};

/* The certificate suites only, so the pair's PSK plays no part. */
static void use_cert_suites(pair *p)
{
    static const uint16_t all[] = {0xC0AE, 0xC0AC, 0xC02B, 0xC02C, 0xCCA9, 0xC02F, 0xC030, 0xCCA8};
    assert_int_equal(petrel_config_set_suites(p->client_cfg, all, 8), 0);
    assert_int_equal(petrel_config_set_suites(p->server_cfg, all, 8), 0);
}

static void server_creds(pair *p, const char *chain, const char *key)
{
    assert_int_equal(petrel_config_load_cert_chain_file(p->server_cfg, chain), 0);
    assert_int_equal(petrel_config_load_key_file(p->server_cfg, key, NULL), 0);
}

static void client_trusts(pair *p, const char *ca)
{
    assert_int_equal(petrel_config_load_ca_file(p->client_cfg, ca), 0);
}

/* An ECDSA server the client verifies against ca-all.pem. */
static void ec_pair(pair *p, uint64_t seed)
{
    pair_init(p, seed);
    use_cert_suites(p);
    server_creds(p, PKI("ec-server-chain.pem"), PKI("ec-server.key"));
    client_trusts(p, PKI("ca-all.pem"));
}

static void assert_working(pair *p)
{
    assert_true(petrel_handshake_complete(p->client));
    assert_true(petrel_handshake_complete(p->server));
    assert_true(pair_keys_match(p));
    assert_int_equal(petrel_cipher_suite(p->client), petrel_cipher_suite(p->server));
    static const uint8_t ping[] = "ping over a certificate suite";
    static const uint8_t pong[] = "pong";
    assert_int_equal(pair_send_app(p, true, ping, sizeof(ping), 10000), 0);
    assert_int_equal(pair_send_app(p, false, pong, sizeof(pong), 10000), 0);
}

/* Runs the handshake, expecting the client to fail with client_error and
 * the server to receive the alert that error calls for. */
static void expect_client_failure(pair *p, int client_error)
{
    assert_int_equal(pair_start(p), 0);
    int rc = pair_run(p, RUN_LIMIT_MS);
    assert_int_equal(rc, client_error);
    assert_int_equal(p->client_error, client_error);
    pair_settle(p, 10000);
    int level = 0, description = 0;
    assert_true(petrel_last_alert(p->server, &level, &description));
    assert_int_equal(level, 2);
    assert_int_equal(description, petrel_error_alert(client_error));
    assert_false(petrel_handshake_complete(p->server));
}

/* ---- suites, groups, chains ---- */

static void ecdsa_server_every_suite(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(ecdsa_suites) / sizeof(ecdsa_suites[0]); i++) {
        pair p;
        ec_pair(&p, 100 + i);
        assert_int_equal(petrel_config_set_suites(p.client_cfg, &ecdsa_suites[i], 1), 0);
        assert_int_equal(pair_start(&p), 0);
        assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
        assert_int_equal(petrel_cipher_suite(p.client), ecdsa_suites[i]);
        assert_working(&p);
        assert_false(petrel_peer_anonymous(p.client));
        /* The server asked for no certificate: its client is anonymous. */
        assert_true(petrel_peer_anonymous(p.server));
        /* The server sent its chain: leaf and intermediate. */
        const uint8_t *der;
        size_t len;
        assert_int_equal(petrel_peer_certificate(p.client, 1, &der, &len), 0);
        assert_int_equal(petrel_peer_certificate(p.client, 2, &der, &len), PETREL_ERR_ARG);
        pair_free(&p);
    }
}

static void default_suites_pick_ccm8_with_certificates(void **state)
{
    (void)state;
    pair p;
    pair_init(&p, 7);
    /* Defaults, and no PSK on the client side at all: a fresh config. */
    petrel_config_free(p.client_cfg);
    p.client_cfg = petrel_config_new(&p.platform);
    server_creds(&p, PKI("ec-server-chain.pem"), PKI("ec-server.key"));
    client_trusts(&p, PKI("ca-all.pem"));
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    assert_string_equal(petrel_cipher_suite_name(p.client), "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8");
    assert_working(&p);
    pair_free(&p);
}

static void every_group(void **state)
{
    (void)state;
    static const uint16_t groups[] = {0x001d, 0x0017, 0x0018};
    for (size_t i = 0; i < 3; i++) {
        pair p;
        ec_pair(&p, 200 + i);
        /* A server that supports only this group forces it. */
        petrel_config_free(p.server_cfg);
        p.server_cfg = petrel_config_new(&p.platform);
        use_cert_suites(&p);
        server_creds(&p, PKI("ec-server-chain.pem"), PKI("ec-server.key"));
        assert_int_equal(petrel_config_set_groups(p.server_cfg, &groups[i], 1), 0);
        assert_int_equal(pair_start(&p), 0);
        assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
        assert_working(&p);
        pair_free(&p);
    }
}

static void p384_server(void **state)
{
    (void)state;
    pair p;
    pair_init(&p, 9);
    use_cert_suites(&p);
    server_creds(&p, PKI("ec-server-p384-chain.pem"), PKI("ec-server-p384.key"));
    client_trusts(&p, PKI("ca-all.pem"));
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    assert_working(&p);
    pair_free(&p);
}

/* The three-certificate RSA chain, for every RSA suite, at the default
 * PMTU and at 576 and 200, where the flight spans many datagrams. */
static void rsa_three_cert_chain_every_pmtu(void **state)
{
    (void)state;
    static const size_t pmtus[] = {1232, 576, 200};
    for (size_t m = 0; m < 3; m++) {
        for (size_t i = 0; i < sizeof(rsa_suites) / sizeof(rsa_suites[0]); i++) {
            pair p;
            pair_init(&p, 300 + 10 * m + i);
            use_cert_suites(&p);
            server_creds(&p, PKI("rsa-server-chain.pem"), PKI("rsa-server.key"));
            client_trusts(&p, PKI("rsa-root.crt"));
            assert_int_equal(petrel_config_set_pmtu(p.client_cfg, pmtus[m]), 0);
            assert_int_equal(petrel_config_set_pmtu(p.server_cfg, pmtus[m]), 0);
            assert_int_equal(petrel_config_set_suites(p.client_cfg, &rsa_suites[i], 1), 0);
            assert_int_equal(pair_start(&p), 0);
            assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
            assert_int_equal(petrel_cipher_suite(p.client), rsa_suites[i]);
            assert_working(&p);
            const uint8_t *der;
            size_t len;
            assert_int_equal(petrel_peer_certificate(p.client, 2, &der, &len), 0);
            petrel_conn_stats stats;
            petrel_get_stats(p.server, &stats);
            if (pmtus[m] == 200)
                assert_true(stats.datagrams_sent > 20);
            pair_free(&p);
        }
    }
}

/* An RSA-only server and a client offering only ECDSA suites: no suite. */
static void key_type_decides_the_suites(void **state)
{
    (void)state;
    pair p;
    pair_init(&p, 11);
    use_cert_suites(&p);
    server_creds(&p, PKI("rsa-server-chain.pem"), PKI("rsa-server.key"));
    client_trusts(&p, PKI("rsa-root.crt"));
    assert_int_equal(petrel_config_set_suites(p.client_cfg, ecdsa_suites, 5), 0);
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), PETREL_ERR_HANDSHAKE_FAILURE);
    pair_free(&p);
}

/* A client with neither a PSK nor CAs has nothing to offer. */
/* PSK peers are authenticated by the key, never anonymous. */
static void psk_peers_are_not_anonymous(void **state)
{
    (void)state;
    pair p;
    pair_init(&p, 13);
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    assert_false(petrel_peer_anonymous(p.client));
    assert_false(petrel_peer_anonymous(p.server));
    const uint8_t *der;
    size_t len;
    assert_int_equal(petrel_peer_certificate(p.client, 0, &der, &len), PETREL_ERR_ARG);
    pair_free(&p);
}

/* petrel_psk_identity: nothing before the handshake; afterwards the
 * identity the client sent, on both sides (the server learnt it from
 * ClientKeyExchange, through the table or the lookup callback). A
 * certificate suite has none. */
static int psk_lookup_any(void *ref, const uint8_t *identity, size_t identity_len, uint8_t *psk,
                          size_t psk_cap)
{
    (void)ref;
    (void)identity;
    (void)identity_len;
    if (psk_cap < 16)
        return 0;
    memset(psk, 0x42, 16);
    return 16;
}

static void psk_identity_is_reported(void **state)
{
    (void)state;
    const uint8_t *identity = (const uint8_t *)"stale";
    pair p;
    pair_init(&p, 14);
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(petrel_psk_identity(p.server, &identity), 0);
    assert_null(identity);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    assert_int_equal(petrel_psk_identity(p.client, &identity), 6);
    assert_memory_equal(identity, "client", 6);
    assert_int_equal(petrel_psk_identity(p.server, &identity), 6);
    assert_memory_equal(identity, "client", 6);
    assert_int_equal(petrel_psk_identity(p.server, NULL), 6);
    assert_int_equal(petrel_psk_identity(NULL, &identity), 0);
    pair_free(&p);

    /* Through the server's lookup callback, with a long identity. */
    static const char long_id[] = "device-0123456789abcdef.sensors.example";
    static const uint8_t key[16] = {0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
                                    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42};
    pair_init(&p, 15);
    petrel_config_free(p.client_cfg);
    petrel_config_free(p.server_cfg);
    p.client_cfg = petrel_config_new(&p.platform);
    p.server_cfg = petrel_config_new(&p.platform);
    assert_int_equal(petrel_config_set_psk(p.client_cfg, (const uint8_t *)long_id,
                                           sizeof(long_id) - 1, key, sizeof(key)),
                     0);
    assert_int_equal(petrel_config_set_psk_lookup(p.server_cfg, psk_lookup_any, NULL), 0);
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    assert_int_equal(petrel_psk_identity(p.server, &identity), sizeof(long_id) - 1);
    assert_memory_equal(identity, long_id, sizeof(long_id) - 1);
    pair_free(&p);

    pair_init(&p, 16);
    use_cert_suites(&p);
    server_creds(&p, PKI("ec-server-chain.pem"), PKI("ec-server.key"));
    client_trusts(&p, PKI("ec-root.crt"));
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    assert_int_equal(petrel_psk_identity(p.client, &identity), 0);
    assert_null(identity);
    assert_int_equal(petrel_psk_identity(p.server, &identity), 0);
    pair_free(&p);
}

static void client_without_credentials(void **state)
{
    (void)state;
    pair p;
    pair_init(&p, 12);
    petrel_config_free(p.client_cfg);
    p.client_cfg = petrel_config_new(&p.platform);
    assert_int_equal(pair_start(&p), PETREL_ERR_NO_CREDENTIALS);
    pair_free(&p);
}

/* ---- verification failures, each with its alert ---- */

typedef struct bad_chain {
    const char *chain;
    const char *key;
    int error;
} bad_chain;

static void bad_chains_fail_with_their_alert(void **state)
{
    (void)state;
    static const bad_chain cases[] = {
        {PKI("expired-chain.pem"), PKI("expired.key"), PETREL_ERR_CERT_EXPIRED},
        {PKI("notyet-chain.pem"), PKI("notyet.key"), PETREL_ERR_CERT_EXPIRED},
        {PKI("wronghost-chain.pem"), PKI("wronghost.key"), PETREL_ERR_CERT_NAME_MISMATCH},
        {PKI("unknown-chain.pem"), PKI("unknown-server.key"), PETREL_ERR_UNKNOWN_CA},
        {PKI("selfsigned.crt"), PKI("selfsigned.key"), PETREL_ERR_UNKNOWN_CA},
        {PKI("notca-chain.pem"), PKI("notca-leaf.key"), PETREL_ERR_BAD_CERTIFICATE},
        {PKI("pathlen-chain.pem"), PKI("pathlen-leaf.key"), PETREL_ERR_BAD_CERTIFICATE},
        {PKI("badsig-chain.pem"), PKI("ec-server.key"), PETREL_ERR_BAD_CERTIFICATE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pair p;
        pair_init(&p, 400 + i);
        use_cert_suites(&p);
        server_creds(&p, cases[i].chain, cases[i].key);
        client_trusts(&p, PKI("ca-all.pem"));
        assert_int_equal(petrel_config_set_server_name(p.client_cfg, "localhost"), 0);
        expect_client_failure(&p, cases[i].error);
        pair_free(&p);
    }
}

/* Five intermediates: fine at the default depth, unknown_ca at 3. */
static void too_deep_chain(void **state)
{
    (void)state;
    for (int limited = 0; limited < 2; limited++) {
        pair p;
        pair_init(&p, 420 + limited);
        use_cert_suites(&p);
        server_creds(&p, PKI("deep-chain.pem"), PKI("deep-leaf.key"));
        client_trusts(&p, PKI("ec-root.crt"));
        if (limited) {
            assert_int_equal(petrel_config_set_verify(p.client_cfg, PETREL_VERIFY_REQUIRE, 3), 0);
            expect_client_failure(&p, PETREL_ERR_UNKNOWN_CA);
        } else {
            assert_int_equal(pair_start(&p), 0);
            assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
        }
        pair_free(&p);
    }
}

/* The server name: SAN DNS, SAN IP, and a name the certificate lacks. */
static void server_name_checks(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int error;
    } cases[] = {
        {"localhost", 0},
        {"server.petrel.test", 0},
        {"127.0.0.1", 0},
        {"::1", 0},
        {"127.0.0.2", PETREL_ERR_CERT_NAME_MISMATCH},
        {"other.petrel.test", PETREL_ERR_CERT_NAME_MISMATCH},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pair p;
        ec_pair(&p, 430 + i);
        assert_int_equal(pair_start(&p) == 0 ? 0 : -1, 0);
        /* The connection exists now but has sent its hello: too late. */
        assert_int_equal(petrel_conn_set_server_name(p.client, cases[i].name), PETREL_ERR_STATE);
        pair_free(&p);

        ec_pair(&p, 430 + i);
        p.client = petrel_conn_new(p.client_cfg, PETREL_CLIENT, PETREL_DATAGRAM, NULL, 0);
        assert_int_equal(petrel_conn_set_server_name(p.client, cases[i].name), 0);
        static const uint8_t peer[] = {127, 0, 0, 1, 0x13, 0x88};
        p.server = petrel_conn_new(p.server_cfg, PETREL_SERVER, PETREL_DATAGRAM, peer, 6);
        assert_int_equal(petrel_connect(p.client), PETREL_REQUEST_SEND);
        assert_int_equal(pair_run(&p, RUN_LIMIT_MS), cases[i].error);
        pair_free(&p);
    }
}

/* No SAN: the subject CN is used. */
static void cn_only_certificate(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int error;
    } cases[] = {{"localhost", 0}, {"other", PETREL_ERR_CERT_NAME_MISMATCH}};
    for (size_t i = 0; i < 2; i++) {
        pair p;
        pair_init(&p, 440 + i);
        use_cert_suites(&p);
        server_creds(&p, PKI("cn-only-chain.pem"), PKI("cn-only.key"));
        client_trusts(&p, PKI("ca-all.pem"));
        assert_int_equal(petrel_config_set_server_name(p.client_cfg, cases[i].name), 0);
        assert_int_equal(pair_start(&p), 0);
        assert_int_equal(pair_run(&p, RUN_LIMIT_MS), cases[i].error);
        pair_free(&p);
    }
}

/* The clock hook decides validity: in 2019 the good chain is not yet
 * valid, in 2200 it has expired. */
static void validity_follows_the_time_hook(void **state)
{
    (void)state;
    static const int64_t times[] = {1546300800 /* 2019 */, 7258118400 /* 2200 */};
    for (size_t i = 0; i < 2; i++) {
        pair p;
        ec_pair(&p, 450 + i);
        p.wall_time = times[i];
        expect_client_failure(&p, PETREL_ERR_CERT_EXPIRED);
        pair_free(&p);
    }
}

/* verify none: no CA needed; the peer is anonymous. */
static void verify_none_client(void **state)
{
    (void)state;
    pair p;
    pair_init(&p, 460);
    use_cert_suites(&p);
    server_creds(&p, PKI("selfsigned.crt"), PKI("selfsigned.key"));
    assert_int_equal(petrel_config_set_verify(p.client_cfg, PETREL_VERIFY_NONE, 0), 0);
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    assert_working(&p);
    assert_true(petrel_peer_anonymous(p.client));
    pair_free(&p);
}

/* ---- client authentication ---- */

static void client_cert_pair(pair *p, uint64_t seed, petrel_verify_mode mode, bool client_has_cert)
{
    ec_pair(p, seed);
    assert_int_equal(petrel_config_load_ca_file(p->server_cfg, PKI("ca-all.pem")), 0);
    assert_int_equal(petrel_config_set_verify(p->server_cfg, mode, 0), 0);
    if (client_has_cert) {
        assert_int_equal(
            petrel_config_load_cert_chain_file(p->client_cfg, PKI("rsa-client-chain.pem")), 0);
        assert_int_equal(petrel_config_load_key_file(p->client_cfg, PKI("rsa-client.key"), NULL),
                         0);
    }
}

static void client_auth_required_and_given(void **state)
{
    (void)state;
    for (int pmtu_small = 0; pmtu_small < 2; pmtu_small++) {
        pair p;
        client_cert_pair(&p, 500 + pmtu_small, PETREL_VERIFY_REQUIRE, true);
        if (pmtu_small) {
            assert_int_equal(petrel_config_set_pmtu(p.client_cfg, 200), 0);
            assert_int_equal(petrel_config_set_pmtu(p.server_cfg, 200), 0);
        }
        assert_int_equal(pair_start(&p), 0);
        assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
        assert_working(&p);
        assert_false(petrel_peer_anonymous(p.server));
        const uint8_t *der;
        size_t len;
        assert_int_equal(petrel_peer_certificate(p.server, 2, &der, &len), 0);
        pair_free(&p);
    }
}

/* Captures the server's CertificateRequest body (sent whole: the test
 * uses a large PMTU) from the plaintext epoch-0 records. */
typedef struct captured {
    uint8_t body[4096];
    size_t len;
} captured;

static bool capture_certificate_request(void *ref, int direction, size_t index, uint8_t *dgram,
                                        size_t *len)
{
    (void)index;
    captured *c = ref;
    size_t at = 0;
    while (direction == PAIR_TO_CLIENT && at + 13 + 12 <= *len) {
        const uint8_t *rec = dgram + at;
        size_t rec_len = (size_t)rec[11] << 8 | rec[12];
        const uint8_t *hs = rec + 13;
        if (rec[0] == 22 && rec[3] == 0 && rec[4] == 0 && hs[0] == HS_CERTIFICATE_REQUEST) {
            size_t body_len = (size_t)hs[9] << 16 | (size_t)hs[10] << 8 | hs[11];
            if (body_len <= sizeof(c->body) && 12 + body_len <= rec_len) {
                memcpy(c->body, hs + 12, body_len);
                c->len = body_len;
            }
        }
        at += 13 + rec_len;
    }
    return true;
}

/* The CertificateRequest names the key types, petrel's signature schemes
 * and the subjects of the server's CAs (RFC 5246 §7.4.4). */
static void certificate_request_names_the_cas(void **state)
{
    (void)state;
    pair p;
    captured cr = {.len = 0};
    client_cert_pair(&p, 505, PETREL_VERIFY_REQUIRE, true);
    assert_int_equal(petrel_config_set_pmtu(p.server_cfg, 8000), 0);
    p.filter = capture_certificate_request;
    p.filter_ref = &cr;
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    assert_true(cr.len > 0);
    cursor_reader r = cursor_reader_init(cr.body, cr.len);
    hs_certificate_request m;
    assert_int_equal(hs_certificate_request_read(&r, &m), 0);
    assert_non_null(memchr(m.cert_types, HS_CLIENT_CERT_ECDSA_SIGN, m.cert_types_len));
    assert_non_null(memchr(m.cert_types, HS_CLIENT_CERT_RSA_SIGN, m.cert_types_len));
    assert_true(hs_u16_list_contains(&m.sig_schemes, 0x0403));
    assert_true(hs_u16_list_contains(&m.sig_schemes, 0x0804));
    assert_false(hs_u16_list_contains(&m.sig_schemes, 0x0201)); /* no SHA-1 */
    /* ca-all.pem: the EC root and the RSA root. */
    assert_int_equal(m.authority_count, 2);
    static const char ec_root_cn[] = "petrel test EC root";
    bool found = false;
    for (size_t i = 0; i + sizeof(ec_root_cn) - 1 <= m.authorities_len; i++)
        found = found || memcmp(m.authorities + i, ec_root_cn, sizeof(ec_root_cn) - 1) == 0;
    assert_true(found);
    pair_free(&p);
}

static void client_auth_required_but_missing(void **state)
{
    (void)state;
    pair p;
    client_cert_pair(&p, 510, PETREL_VERIFY_REQUIRE, false);
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), PETREL_ERR_NO_CERTIFICATE);
    assert_int_equal(p.server_error, PETREL_ERR_NO_CERTIFICATE);
    pair_settle(&p, 10000);
    int level, description;
    assert_true(petrel_last_alert(p.client, &level, &description));
    assert_int_equal(description, 40); /* handshake_failure */
    pair_free(&p);
}

static void client_auth_optional_and_missing(void **state)
{
    (void)state;
    pair p;
    client_cert_pair(&p, 520, PETREL_VERIFY_OPTIONAL, false);
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    assert_working(&p);
    assert_true(petrel_peer_anonymous(p.server));
    assert_false(petrel_peer_anonymous(p.client));
    pair_free(&p);
}

/* A client certificate from a CA the server does not trust. */
static void client_auth_unknown_ca(void **state)
{
    (void)state;
    pair p;
    ec_pair(&p, 530);
    assert_int_equal(petrel_config_load_ca_file(p.server_cfg, PKI("ec-root.crt")), 0);
    assert_int_equal(petrel_config_set_verify(p.server_cfg, PETREL_VERIFY_OPTIONAL, 0), 0);
    assert_int_equal(petrel_config_load_cert_chain_file(p.client_cfg, PKI("rsa-client-chain.pem")),
                     0);
    assert_int_equal(petrel_config_load_key_file(p.client_cfg, PKI("rsa-client.key"), NULL), 0);
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), PETREL_ERR_UNKNOWN_CA);
    assert_int_equal(p.server_error, PETREL_ERR_UNKNOWN_CA);
    pair_free(&p);
}

/* ---- the callback ---- */

typedef struct seen {
    int calls;
    int alert;
    size_t count;
    int verdict;
    char leaf_cn[64];
    char issuer_cn[64];
    size_t san_count;
    petrel_san_type san0_type;
    char san0[64];
    petrel_cert_auth status[4];
    bool leaf_is_ca;
    bool int_is_ca;
    int int_path_len;
    char key_algorithm[16];
    unsigned key_bits;
    char sig_alg[64];
    int version;
    int64_t not_after;
    bool raw;
    size_t der_len;
} seen;

static const char *dn_get(const petrel_dn *dn, const char *type)
{
    for (size_t i = 0; i < dn->count; i++) {
        if (strcmp(dn->attrs[i].type, type) == 0)
            return dn->attrs[i].value;
    }
    return "";
}

static int record_chain(void *ref, petrel_conn *conn, const petrel_cert_info *chain, size_t count,
                        int alert)
{
    seen *s = ref;
    assert_non_null(conn);
    s->calls++;
    s->alert = alert;
    s->count = count;
    s->raw = chain[0].is_raw_public_key;
    s->der_len = chain[0].der_len;
    snprintf(s->key_algorithm, sizeof(s->key_algorithm), "%s", chain[0].key_algorithm);
    s->key_bits = chain[0].key_bits;
    for (size_t i = 0; i < count && i < 4; i++)
        s->status[i] = chain[i].auth_status;
    if (!s->raw) {
        snprintf(s->leaf_cn, sizeof(s->leaf_cn), "%s", dn_get(&chain[0].subject, "CN"));
        snprintf(s->issuer_cn, sizeof(s->issuer_cn), "%s", dn_get(&chain[0].issuer, "CN"));
        s->san_count = chain[0].san_count;
        if (chain[0].san_count) {
            s->san0_type = chain[0].san[0].type;
            snprintf(s->san0, sizeof(s->san0), "%s", chain[0].san[0].value);
        }
        s->leaf_is_ca = chain[0].is_ca;
        s->version = chain[0].version;
        s->not_after = chain[0].not_after;
        snprintf(s->sig_alg, sizeof(s->sig_alg), "%s", chain[0].signature_algorithm);
        if (count > 1) {
            s->int_is_ca = chain[1].is_ca;
            s->int_path_len = chain[1].path_len;
        }
    }
    return s->verdict;
}

static void callback_sees_the_chain(void **state)
{
    (void)state;
    pair p;
    seen s = {0};
    ec_pair(&p, 600);
    assert_int_equal(petrel_config_set_cert_callback(p.client_cfg, record_chain, &s), 0);
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.alert, 0);
    assert_int_equal(s.count, 2);
    assert_string_equal(s.leaf_cn, "localhost");
    assert_string_equal(s.issuer_cn, "petrel test EC intermediate");
    assert_int_equal(s.san_count, 4);
    assert_int_equal(s.san0_type, PETREL_SAN_DNS);
    assert_string_equal(s.san0, "localhost");
    assert_false(s.leaf_is_ca);
    assert_true(s.int_is_ca);
    assert_int_equal(s.int_path_len, 0);
    assert_string_equal(s.key_algorithm, "EC");
    assert_int_equal(s.key_bits, 256);
    assert_string_equal(s.sig_alg, "ecdsa-with-SHA256");
    assert_int_equal(s.version, 3);
    assert_true(s.not_after > 4800000000); /* 2122 and later */
    assert_int_equal(s.status[0], PETREL_CERT_AUTH_PASS);
    assert_int_equal(s.status[1], PETREL_CERT_AUTH_PASS);
    assert_false(petrel_peer_anonymous(p.client));
    pair_free(&p);
}

/* The callback sees the failure and may overrule it, refuse with its own
 * alert, or let the peer in as anonymous. */
static void callback_has_the_last_word(void **state)
{
    (void)state;
    static const struct {
        int verdict;
        int client_error;
        bool anonymous;
    } cases[] = {
        {0, 0, false},
        {PETREL_CERT_ALLOW_ANON, 0, true},
        {44 /* certificate_revoked */, PETREL_ERR_CERT_REJECTED, false},
        {-1, PETREL_ERR_INTERNAL, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pair p;
        seen s = {.verdict = cases[i].verdict};
        pair_init(&p, 610 + i);
        use_cert_suites(&p);
        server_creds(&p, PKI("unknown-chain.pem"), PKI("unknown-server.key"));
        client_trusts(&p, PKI("ca-all.pem"));
        assert_int_equal(petrel_config_set_cert_callback(p.client_cfg, record_chain, &s), 0);
        assert_int_equal(pair_start(&p), 0);
        int rc = pair_run(&p, RUN_LIMIT_MS);
        assert_int_equal(s.calls, 1);
        assert_int_equal(s.alert, 48); /* unknown_ca, what petrel found */
        assert_int_equal(s.status[0], PETREL_CERT_AUTH_FAIL_DN);
        assert_int_equal(rc, cases[i].client_error);
        if (rc == 0) {
            assert_working(&p);
            assert_int_equal(petrel_peer_anonymous(p.client), cases[i].anonymous);
        } else {
            pair_settle(&p, 10000);
            int level, description;
            assert_true(petrel_last_alert(p.server, &level, &description));
            assert_int_equal(description, cases[i].verdict > 0 ? cases[i].verdict : 80);
        }
        pair_free(&p);
    }
}

/* ---- raw public keys ---- */

static void rpk_pair(pair *p, uint64_t seed, bool pin_server, bool pin_client)
{
    pair_init(p, seed);
    use_cert_suites(p);
    assert_int_equal(petrel_config_set_raw_public_keys(p->client_cfg, true), 0);
    assert_int_equal(petrel_config_set_raw_public_keys(p->server_cfg, true), 0);
    assert_int_equal(petrel_config_load_key_file(p->server_cfg, PKI("rpk-server.key"), NULL), 0);
    assert_int_equal(petrel_config_load_key_file(p->client_cfg, PKI("rpk-client.key"), NULL), 0);
    assert_int_equal(
        petrel_config_add_pinned_key_file(p->client_cfg, pin_server ? PKI("rpk-server.pub.pem")
                                                                    : PKI("ec-server.pub.pem")),
        0);
    assert_int_equal(
        petrel_config_add_pinned_key_file(p->server_cfg, pin_client ? PKI("rpk-client.pub.der")
                                                                    : PKI("ec-client.pub.der")),
        0);
    assert_int_equal(petrel_config_set_verify(p->server_cfg, PETREL_VERIFY_REQUIRE, 0), 0);
}

static void raw_public_keys_both_ways(void **state)
{
    (void)state;
    pair p;
    seen s = {0};
    rpk_pair(&p, 700, true, true);
    assert_int_equal(petrel_config_set_cert_callback(p.server_cfg, record_chain, &s), 0);
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    assert_working(&p);
    assert_int_equal(s.calls, 1);
    assert_true(s.raw);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.status[0], PETREL_CERT_AUTH_PASS);
    assert_string_equal(s.key_algorithm, "EC");
    const uint8_t *der;
    size_t len;
    assert_int_equal(petrel_peer_certificate(p.client, 0, &der, &len), 0);
    assert_int_equal(len, 91); /* a P-256 SubjectPublicKeyInfo */
    assert_false(petrel_peer_anonymous(p.client));
    assert_false(petrel_peer_anonymous(p.server));
    pair_free(&p);
}

static void raw_public_key_not_pinned(void **state)
{
    (void)state;
    pair p;
    rpk_pair(&p, 710, false, true);
    expect_client_failure(&p, PETREL_ERR_RPK_NOT_PINNED);
    pair_free(&p);

    rpk_pair(&p, 711, true, false);
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), PETREL_ERR_RPK_NOT_PINNED);
    assert_int_equal(p.server_error, PETREL_ERR_RPK_NOT_PINNED);
    pair_free(&p);
}

/* ---- loss ---- */

/* The certificate flight under 30 % loss both ways at PMTU 576, over many
 * seeds: every handshake completes (the lossy matrix in tests/lossy runs
 * this at scale). */
static bool drop_30(void *ref, int direction, size_t index, uint8_t *dgram, size_t *len)
{
    (void)direction;
    (void)index;
    (void)dgram;
    (void)len;
    uint64_t *x = ref;
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return (*x >> 33) % 100 >= 30;
}

static void rsa_chain_under_loss(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        pair p;
        uint64_t x = seed;
        pair_init(&p, 800 + seed);
        use_cert_suites(&p);
        server_creds(&p, PKI("rsa-server-chain.pem"), PKI("rsa-server.key"));
        client_trusts(&p, PKI("rsa-root.crt"));
        assert_int_equal(petrel_config_set_pmtu(p.client_cfg, 576), 0);
        assert_int_equal(petrel_config_set_pmtu(p.server_cfg, 576), 0);
        assert_int_equal(petrel_config_set_timers(p.client_cfg, 0, 0, 20, 0), 0);
        assert_int_equal(petrel_config_set_timers(p.server_cfg, 0, 0, 20, 0), 0);
        p.filter = drop_30;
        p.filter_ref = &x;
        assert_int_equal(pair_start(&p), 0);
        assert_int_equal(pair_run(&p, 3600000), 0);
        assert_true(pair_keys_match(&p));
        pair_free(&p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ecdsa_server_every_suite),
        cmocka_unit_test(default_suites_pick_ccm8_with_certificates),
        cmocka_unit_test(every_group),
        cmocka_unit_test(p384_server),
        cmocka_unit_test(rsa_three_cert_chain_every_pmtu),
        cmocka_unit_test(key_type_decides_the_suites),
        cmocka_unit_test(psk_peers_are_not_anonymous),
        cmocka_unit_test(psk_identity_is_reported),
        cmocka_unit_test(client_without_credentials),
        cmocka_unit_test(bad_chains_fail_with_their_alert),
        cmocka_unit_test(too_deep_chain),
        cmocka_unit_test(server_name_checks),
        cmocka_unit_test(cn_only_certificate),
        cmocka_unit_test(validity_follows_the_time_hook),
        cmocka_unit_test(verify_none_client),
        cmocka_unit_test(client_auth_required_and_given),
        cmocka_unit_test(certificate_request_names_the_cas),
        cmocka_unit_test(client_auth_required_but_missing),
        cmocka_unit_test(client_auth_optional_and_missing),
        cmocka_unit_test(client_auth_unknown_ca),
        cmocka_unit_test(callback_sees_the_chain),
        cmocka_unit_test(callback_has_the_last_word),
        cmocka_unit_test(raw_public_keys_both_ways),
        cmocka_unit_test(raw_public_key_not_pinned),
        cmocka_unit_test(rsa_chain_under_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
