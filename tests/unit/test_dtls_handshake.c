/*
 * Whole DTLS 1.2 PSK handshakes, client and server in-process on a virtual
 * clock: every suite, the cookie exchange, each flight lost once, small
 * PMTUs, wrong keys, no common suite, timeouts, garbage between good
 * datagrams, application data and close_notify.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tests/support/pair.h"

#define RUN_LIMIT_MS 300000

static const uint16_t all_suites[] = {0xC0A8, 0xC0A4, 0x00A8, 0x00A9, 0xCCAB, 0xCCAC};

/* Completes, agrees on keys and suite, and carries data both ways. */
static void assert_working(pair *p)
{
    assert_true(petrel_handshake_complete(p->client));
    assert_true(petrel_handshake_complete(p->server));
    assert_true(pair_keys_match(p));
    assert_int_equal(petrel_cipher_suite(p->client), petrel_cipher_suite(p->server));
    assert_int_equal(petrel_protocol_version(p->client), 0xfefd);
    static const uint8_t ping[] = "ping from the client";
    static const uint8_t pong[] = "pong from the server";
    assert_int_equal(pair_send_app(p, true, ping, sizeof(ping), 10000), 0);
    assert_int_equal(pair_send_app(p, false, pong, sizeof(pong), 10000), 0);
}

static void handshake_with_suite(uint16_t suite)
{
    pair p;
    pair_init(&p, suite);
    assert_int_equal(petrel_config_set_suites(p.client_cfg, &suite, 1), 0);
    assert_int_equal(petrel_config_set_suites(p.server_cfg, &suite, 1), 0);
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    assert_int_equal(petrel_cipher_suite(p.client), suite);
    assert_working(&p);
    /* No loss: client CH, HVR, CH2, server flight, client flight, server
     * flight; both finish within three round trips of 50 ms. */
    assert_true(p.client_complete_at - 1000000 <= 150);
    petrel_conn_stats stats;
    petrel_get_stats(p.client, &stats);
    assert_int_equal(stats.retransmissions, 0);
    assert_int_equal(stats.records_dropped, 0);
    pair_free(&p);
}

static void every_suite_completes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(all_suites) / sizeof(all_suites[0]); i++)
        handshake_with_suite(all_suites[i]);
}

static void default_suites_pick_ccm8(void **state)
{
    (void)state;
    pair p;
    pair_init(&p, 1);
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    assert_int_equal(petrel_cipher_suite(p.client), 0xC0A8);
    assert_string_equal(petrel_cipher_suite_name(p.client), "TLS_PSK_WITH_AES_128_CCM_8");
    assert_working(&p);
    pair_free(&p);
}

/* The server answers the first ClientHello with a HelloVerifyRequest: the
 * client's first two datagrams are ClientHellos and the server's first is
 * the HelloVerifyRequest (handshake type 3 at offset 13). */
static bool record_first_types(void *ref, int direction, size_t index, uint8_t *dgram, size_t *len)
{
    uint8_t *types = ref;
    if (index < 2 && *len > 13)
        types[direction * 2 + index] = dgram[13];
    return true;
}

static void cookie_exchange_happens(void **state)
{
    (void)state;
    pair p;
    uint8_t types[4] = {0};
    pair_init(&p, 2);
    p.filter = record_first_types;
    p.filter_ref = types;
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    assert_int_equal(types[0], 1); /* ClientHello */
    assert_int_equal(types[1], 1); /* ClientHello with cookie */
    assert_int_equal(types[2], 3); /* HelloVerifyRequest */
    assert_int_equal(types[3], 2); /* ServerHello */
    pair_free(&p);
}

/* Drops exactly one datagram: the index-th handshake datagram in one
 * direction (application data, which DTLS never retransmits, is not
 * counted and always delivered). */
typedef struct drop_one {
    int direction;
    size_t index;
    size_t seen[2];
} drop_one;

static bool drop_one_filter(void *ref, int direction, size_t index, uint8_t *dgram, size_t *len)
{
    (void)index;
    drop_one *d = ref;
    if (*len > 0 && dgram[0] == 23)
        return true;
    size_t n = d->seen[direction]++;
    return !(direction == d->direction && n == d->index);
}

static void each_datagram_lost_once(void **state)
{
    (void)state;
    /* A loss-free handshake is 3 client and 3 server datagrams (the final
     * flights included); losing any one of them (or a later one that does
     * not exist) must still complete. */
    for (int direction = 0; direction < 2; direction++) {
        for (size_t index = 0; index < 6; index++) {
            pair p;
            drop_one d = {direction, index, {0, 0}};
            pair_init(&p, 100 + index);
            p.filter = drop_one_filter;
            p.filter_ref = &d;
            assert_int_equal(pair_start(&p), 0);
            int rc = pair_run(&p, RUN_LIMIT_MS);
            if (rc != 0)
                print_error("direction %d index %zu: %s\n", direction, index,
                            petrel_error_name(rc));
            assert_int_equal(rc, 0);
            assert_working(&p);
            pair_free(&p);
        }
    }
}

/* The server's final flight (CCS + Finished) lost: the client resends its
 * flight on its timer, and the server resends its final flight at once. */
static void last_flight_lost_is_resent(void **state)
{
    (void)state;
    pair p;
    drop_one d = {PAIR_TO_CLIENT, 2, {0, 0}};
    pair_init(&p, 7);
    p.filter = drop_one_filter;
    p.filter_ref = &d;
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    petrel_conn_stats client, server;
    petrel_get_stats(p.client, &client);
    petrel_get_stats(p.server, &server);
    assert_int_equal(client.retransmissions, 1);
    assert_int_equal(server.retransmissions, 1);
    /* The client measured the RTT on its first flights, so its timer was
     * max(3 x 50, 100) = 150 ms, not the blind 1 s. */
    assert_int_equal(client.rtt_ms, 50);
    assert_true(p.client_complete_at - 1000000 <= 150 + 150 + 50 + 50);
    assert_working(&p);
    pair_free(&p);
}

/* Every datagram either side sends fits the PMTU. */
static bool check_pmtu(void *ref, int direction, size_t index, uint8_t *dgram, size_t *len)
{
    (void)direction;
    (void)index;
    (void)dgram;
    const size_t *pmtu = ref;
    assert_true(*len <= *pmtu);
    return true;
}

static void small_pmtu_fragments_and_completes(void **state)
{
    (void)state;
    size_t pmtu = 200;
    pair p;
    pair_init(&p, 9);
    uint8_t hint[100];
    memset(hint, 'h', sizeof(hint));
    assert_int_equal(petrel_config_set_pmtu(p.client_cfg, pmtu), 0);
    assert_int_equal(petrel_config_set_pmtu(p.server_cfg, pmtu), 0);
    /* A long hint makes the server's flight exceed one 200-byte datagram. */
    assert_int_equal(petrel_config_set_psk_hint(p.server_cfg, hint, sizeof(hint)), 0);
    p.filter = check_pmtu;
    p.filter_ref = &pmtu;
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    assert_true(p.sent[PAIR_TO_CLIENT] >= 4);
    assert_working(&p);
    pair_free(&p);
}

static void wrong_key_fails_with_auth_error(void **state)
{
    (void)state;
    static const uint8_t other[16] = {0xff};
    pair p;
    pair_init(&p, 11);
    petrel_config_free(p.client_cfg);
    p.client_cfg = petrel_config_new(&p.platform);
    assert_int_equal(petrel_config_set_psk(p.client_cfg, (const uint8_t *)"client", 6, other, 16),
                     0);
    assert_int_equal(pair_start(&p), 0);
    /* Each side's Finished is encrypted under keys the other cannot
     * match, so it fails authentication and is dropped silently (RFC 6347
     * §4.1.2.7). When the retransmissions run out, the error says that
     * the records did not authenticate, not merely that time ran out. */
    pair_settle(&p, 1000000);
    /* The server saw the client's Finished fail to authenticate. The
     * client never got the server's new-epoch flight (the server never
     * sent it), so for it the handshake simply timed out. */
    assert_int_equal(petrel_conn_error(p.server), PETREL_ERR_AEAD_AUTH);
    assert_int_equal(petrel_conn_error(p.client), PETREL_ERR_HANDSHAKE_TIMEOUT);
    assert_false(petrel_handshake_complete(p.client));
    assert_false(petrel_handshake_complete(p.server));
    pair_free(&p);
}

static void unknown_identity_is_refused(void **state)
{
    (void)state;
    static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    pair p;
    pair_init(&p, 12);
    petrel_config_free(p.client_cfg);
    p.client_cfg = petrel_config_new(&p.platform);
    assert_int_equal(petrel_config_set_psk(p.client_cfg, (const uint8_t *)"stranger", 8, key, 16),
                     0);
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), PETREL_ERR_UNKNOWN_PSK_IDENTITY);
    pair_settle(&p, 10000);
    int description;
    assert_true(petrel_last_alert(p.client, NULL, &description));
    assert_int_equal(description, 115); /* unknown_psk_identity */
    pair_free(&p);
}

static int lookup_calls;

static int lookup(void *ref, const uint8_t *identity, size_t identity_len, uint8_t *psk,
                  size_t psk_cap)
{
    (void)ref;
    lookup_calls++;
    if (identity_len != 5 || memcmp(identity, "alice", 5) != 0 || psk_cap < 4)
        return 0;
    memcpy(psk, "abcd", 4);
    return 4;
}

static void psk_lookup_callback_serves_identities(void **state)
{
    (void)state;
    pair p;
    pair_init(&p, 13);
    petrel_config_free(p.client_cfg);
    p.client_cfg = petrel_config_new(&p.platform);
    assert_int_equal(petrel_config_set_psk(p.client_cfg, (const uint8_t *)"alice", 5,
                                           (const uint8_t *)"abcd", 4),
                     0);
    assert_int_equal(petrel_config_set_psk_lookup(p.server_cfg, lookup, NULL), 0);
    lookup_calls = 0;
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    assert_int_equal(lookup_calls, 1);
    assert_working(&p);
    pair_free(&p);
}

/* The server's static table holds several identities; each client finds
 * its own key. */
static void server_table_serves_several_identities(void **state)
{
    (void)state;
    static const uint8_t key_b[20] = {0xb0, 0xb1, 0xb2};
    for (int which = 0; which < 2; which++) {
        pair p;
        pair_init(&p, 30 + (uint64_t)which);
        assert_int_equal(
            petrel_config_set_psk(p.server_cfg, (const uint8_t *)"second", 6, key_b, sizeof(key_b)),
            0);
        if (which == 1) {
            petrel_config_free(p.client_cfg);
            p.client_cfg = petrel_config_new(&p.platform);
            assert_int_equal(petrel_config_set_psk(p.client_cfg, (const uint8_t *)"second", 6,
                                                   key_b, sizeof(key_b)),
                             0);
        }
        assert_int_equal(pair_start(&p), 0);
        assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
        assert_working(&p);
        pair_free(&p);
    }
}

static void no_common_suite_is_handshake_failure(void **state)
{
    (void)state;
    pair p;
    uint16_t client_suite = 0x00A8, server_suite = 0xCCAB;
    pair_init(&p, 14);
    assert_int_equal(petrel_config_set_suites(p.client_cfg, &client_suite, 1), 0);
    assert_int_equal(petrel_config_set_suites(p.server_cfg, &server_suite, 1), 0);
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), PETREL_ERR_HANDSHAKE_FAILURE);
    pair_settle(&p, 10000);
    int description;
    assert_true(petrel_last_alert(p.client, NULL, &description));
    assert_int_equal(description, 40);
    pair_free(&p);
}

static void insecure_suites_are_refused(void **state)
{
    (void)state;
    petrel_platform quiet = petrel_platform_default();
    quiet.log_level = PETREL_LOG_NONE;
    petrel_config *cfg = petrel_config_new(&quiet);
    const uint16_t rc4 = 0x0004, triple_des = 0x000A, static_rsa = 0x002F, unknown = 0x1301;
    assert_int_equal(petrel_config_set_suites(cfg, &rc4, 1), PETREL_ERR_INSECURE);
    assert_int_equal(petrel_config_set_suites(cfg, &triple_des, 1), PETREL_ERR_INSECURE);
    assert_int_equal(petrel_config_set_suites(cfg, &static_rsa, 1), PETREL_ERR_INSECURE);
    assert_int_equal(petrel_config_set_suites(cfg, &unknown, 1), PETREL_ERR_UNSUPPORTED);
    petrel_config_free(cfg);
}

static bool drop_all_to_client(void *ref, int direction, size_t index, uint8_t *dgram, size_t *len)
{
    (void)ref;
    (void)index;
    (void)dgram;
    (void)len;
    return direction != PAIR_TO_CLIENT;
}

/* Nothing comes back: the client retransmits 1, 2, 4, 8, 16, 32, 60 s
 * later (7 times) and gives up 60 s after the last. */
static void silence_ends_in_handshake_timeout(void **state)
{
    (void)state;
    pair p;
    pair_init(&p, 15);
    p.filter = drop_all_to_client;
    assert_int_equal(pair_start(&p), 0);
    uint64_t start = p.now;
    int rc = pair_run(&p, 1000000);
    assert_int_equal(rc, PETREL_ERR_HANDSHAKE_TIMEOUT);
    assert_int_equal(p.now - start, 1000 + 2000 + 4000 + 8000 + 16000 + 32000 + 60000 + 60000);
    assert_int_equal(p.sent[PAIR_TO_SERVER], 8);
    assert_int_equal(petrel_conn_error(p.client), PETREL_ERR_HANDSHAKE_TIMEOUT);
    pair_free(&p);
}

/* Garbage datagrams before every good one: random bytes, truncated
 * headers, a record with a huge length, unknown content types, a record
 * from a future epoch. The handshake still completes; the junk is counted. */
static bool inject_garbage(void *ref, int direction, size_t index, uint8_t *dgram, size_t *len)
{
    (void)ref;
    (void)direction;
    (void)index;
    (void)dgram;
    (void)len;
    return true;
}

static void feed(petrel_conn *conn, const uint8_t *data, size_t len)
{
    uint8_t *buf;
    const uint8_t *app;
    size_t app_len;
    assert_true(petrel_get_readbuf(conn, &buf) >= (int)len);
    memcpy(buf, data, len);
    int rc = petrel_received(conn, len, &app, &app_len);
    assert_true(rc == PETREL_REQUEST_RECV || rc == PETREL_REQUEST_SEND);
}

static void garbage_between_good_datagrams(void **state)
{
    (void)state;
    static const uint8_t junk[][24] = {
        {0},
        {22, 0xfe},
        {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 1, 2, 3},
        {99, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 9, 0, 2, 1, 2},
        {22, 0xfe, 0xfd, 0, 7, 0, 0, 0, 0, 0, 1, 0, 3, 1, 2, 3},
        {22, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 2, 0, 3, 1, 2, 3},
        {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 3, 0, 5, 1, 0xff, 0xff, 0xff, 0},
        {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1, 0, 4, 0xde, 0xad, 0xbe, 0xef},
    };
    pair p;
    pair_init(&p, 16);
    p.filter = inject_garbage;
    assert_int_equal(pair_start(&p), 0);
    /* Garbage into both sides before and during the handshake. */
    for (int round = 0; round < 6 && !(p.client_complete && p.server_complete); round++) {
        for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
            feed(p.server, junk[i], sizeof(junk[i]));
            feed(p.client, junk[i], sizeof(junk[i]));
        }
        (void)pair_run(&p, 30);
    }
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    petrel_conn_stats stats;
    petrel_get_stats(p.server, &stats);
    assert_true(stats.records_dropped > 0);
    assert_working(&p);
    pair_free(&p);
}

static void close_notify_both_ways(void **state)
{
    (void)state;
    pair p;
    pair_init(&p, 17);
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    assert_int_equal(petrel_close_notify(p.client), PETREL_REQUEST_SEND);
    pair_settle(&p, 1000);
    int level, description;
    /* The server saw close_notify and answered with its own. */
    assert_true(petrel_last_alert(p.server, &level, &description));
    assert_int_equal(level, 1);
    assert_int_equal(description, 0);
    assert_true(petrel_last_alert(p.client, &level, &description));
    assert_int_equal(description, 0);
    /* Nothing more may be written after close_notify. */
    assert_int_equal(petrel_encode_to_outdata(p.client, (const uint8_t *)"x", 1), PETREL_ERR_STATE);
    assert_int_equal(petrel_encode_to_outdata(p.server, (const uint8_t *)"x", 1), PETREL_ERR_STATE);
    pair_free(&p);
}

static void writebuf_flow_and_payload_limit(void **state)
{
    (void)state;
    pair p;
    pair_init(&p, 18);
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    uint8_t *buf;
    int cap = petrel_get_writebuf(p.client, &buf);
    /* 1232 - 13 header - 8 explicit nonce - 8 tag for CCM_8. */
    assert_int_equal(cap, 1232 - 13 - 8 - 8);
    assert_int_equal(petrel_max_payload(p.client), cap);
    memcpy(buf, "in place", 8);
    assert_int_equal(petrel_encode_writebuf(p.client, 8), PETREL_REQUEST_SEND);
    pair_settle(&p, 1000);
    assert_int_equal(p.app_len[1], 8);
    assert_memory_equal(p.app[1], "in place", 8);
    uint8_t big[1300] = {0};
    assert_int_equal(petrel_encode_to_outdata(p.client, big, (size_t)cap + 1),
                     PETREL_ERR_BUFFER_TOO_SMALL);
    pair_free(&p);
}

static void app_data_before_handshake_is_refused(void **state)
{
    (void)state;
    pair p;
    pair_init(&p, 19);
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(petrel_encode_to_outdata(p.client, (const uint8_t *)"early", 5),
                     PETREL_ERR_STATE);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    pair_free(&p);
}

/* Both sides reach the same state from the same seed: the virtual clock and
 * the RNG hook make a handshake exactly reproducible. */
static void same_seed_same_handshake(void **state)
{
    (void)state;
    uint8_t first[48], second[48];
    for (int run = 0; run < 2; run++) {
        pair p;
        uint16_t ecdhe = 0xCCAC;
        pair_init(&p, 4242);
        assert_int_equal(petrel_config_set_suites(p.client_cfg, &ecdhe, 1), 0);
        assert_int_equal(pair_start(&p), 0);
        assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
        assert_int_equal(petrel_export_master_secret(p.client, run ? second : first), 0);
        pair_free(&p);
    }
    assert_memory_equal(first, second, 48);
}

/* The stateless gate answers an unknown address with less than it sent
 * (amplification: at most 3x, RFC 6347 §4.2.1), and allocates nothing. */
static void hello_verify_request_is_smaller_than_the_hello(void **state)
{
    (void)state;
    pair p;
    pair_init(&p, 20);
    assert_int_equal(pair_start(&p), 0);
    const uint8_t *hello;
    int n = petrel_get_outdata(p.client, &hello);
    assert_true(n > 0);
    uint8_t reply[128];
    size_t reply_len = 0;
    static const uint8_t peer[] = {127, 0, 0, 1, 0x13, 0x88};
    assert_int_equal(petrel_server_check_hello(p.server_cfg, peer, sizeof(peer), hello, (size_t)n,
                                               reply, sizeof(reply), &reply_len),
                     0);
    assert_true(reply_len > 0);
    assert_true(reply_len < (size_t)n);
    /* Not a ClientHello: dropped, nothing to send. */
    static const uint8_t junk[] = {23, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0};
    assert_true(petrel_server_check_hello(p.server_cfg, peer, sizeof(peer), junk, sizeof(junk),
                                          reply, sizeof(reply), &reply_len) < 0);
    assert_int_equal(reply_len, 0);
    pair_free(&p);
}

static void memory_limits_are_validated_and_honoured(void **state)
{
    (void)state;
    pair p;
    pair_init(&p, 21);
    assert_int_equal(petrel_config_set_limits(p.server_cfg, 100, 0), PETREL_ERR_ARG);
    assert_int_equal(petrel_config_set_limits(p.server_cfg, 4096, 1024), PETREL_ERR_ARG);
    assert_int_equal(petrel_config_set_limits(p.server_cfg, 256, 512), 0);
    assert_int_equal(petrel_config_set_limits(p.client_cfg, 256, 512), 0);
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    assert_working(&p);
    assert_true(petrel_conn_memory(p.server) > 0);
    pair_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_suite_completes),
        cmocka_unit_test(default_suites_pick_ccm8),
        cmocka_unit_test(cookie_exchange_happens),
        cmocka_unit_test(each_datagram_lost_once),
        cmocka_unit_test(last_flight_lost_is_resent),
        cmocka_unit_test(small_pmtu_fragments_and_completes),
        cmocka_unit_test(wrong_key_fails_with_auth_error),
        cmocka_unit_test(unknown_identity_is_refused),
        cmocka_unit_test(psk_lookup_callback_serves_identities),
        cmocka_unit_test(server_table_serves_several_identities),
        cmocka_unit_test(no_common_suite_is_handshake_failure),
        cmocka_unit_test(insecure_suites_are_refused),
        cmocka_unit_test(silence_ends_in_handshake_timeout),
        cmocka_unit_test(garbage_between_good_datagrams),
        cmocka_unit_test(close_notify_both_ways),
        cmocka_unit_test(writebuf_flow_and_payload_limit),
        cmocka_unit_test(app_data_before_handshake_is_refused),
        cmocka_unit_test(same_seed_same_handshake),
        cmocka_unit_test(hello_verify_request_is_smaller_than_the_hello),
        cmocka_unit_test(memory_limits_are_validated_and_honoured),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
