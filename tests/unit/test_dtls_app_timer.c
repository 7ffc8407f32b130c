/*
 * The native calls behind MatrixDTLS's application-driven flow:
 * petrel_retransmit (the application's own timer fired),
 * petrel_set_message_per_datagram (DTLS_SEND_RECORDS_INDIVIDUALLY) and
 * petrel_conn_set_verify (a server that asks one connection for a client
 * certificate). On the in-memory pair (tests/support/pair.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <petrel/cert.h>
#include <petrel/petrel.h>

#include "tests/support/pair.h"

/* Lets only the HelloVerifyRequest reach the client: the server's flight
 * never arrives. */
static bool drop_server_flight(void *ref, int direction, size_t index, uint8_t *dgram, size_t *len)
{
    (void)ref;
    (void)dgram;
    (void)len;
    return direction != PAIR_TO_CLIENT || index == 0;
}

static void test_retransmit_resends_waiting_flight(void **state)
{
    (void)state;
    pair p;
    pair_init(&p, 1);
    assert_int_equal(pair_start(&p), 0);
    const uint8_t *out;
    int first = petrel_get_outdata(p.client, &out);
    assert_true(first > 0);
    assert_int_equal(petrel_sent(p.client, (size_t)first), PETREL_SUCCESS);
    int64_t wait = petrel_next_timeout(p.client);
    assert_true(wait > 0);

    /* Well before petrel's own timer: the application says it fired. */
    assert_int_equal(petrel_retransmit(p.client), PETREL_REQUEST_SEND);
    int again = petrel_get_outdata(p.client, &out);
    assert_int_equal(again, first);
    petrel_conn_stats st;
    petrel_get_stats(p.client, &st);
    assert_int_equal(st.retransmissions, 1);
    /* The next wait doubled. */
    assert_true(petrel_next_timeout(p.client) >= 2 * wait - 1);
    assert_int_equal(petrel_sent(p.client, (size_t)again), PETREL_SUCCESS);

    /* The limit counts these resends: 7 by default, then the timeout. */
    for (int i = 0; i < 6; i++) {
        assert_int_equal(petrel_retransmit(p.client), PETREL_REQUEST_SEND);
        assert_int_equal(petrel_sent(p.client, (size_t)petrel_get_outdata(p.client, &out)),
                         PETREL_SUCCESS);
    }
    assert_int_equal(petrel_retransmit(p.client), PETREL_ERR_HANDSHAKE_TIMEOUT);
    assert_int_equal(petrel_conn_error(p.client), PETREL_ERR_HANDSHAKE_TIMEOUT);
    pair_free(&p);
}

static void test_retransmit_without_waiting_flight(void **state)
{
    (void)state;
    assert_int_equal(petrel_retransmit(NULL), PETREL_ERR_ARG);
    pair p;
    pair_init(&p, 2);
    petrel_conn *idle = petrel_conn_new(p.client_cfg, PETREL_CLIENT, PETREL_DATAGRAM, NULL, 0);
    assert_non_null(idle);
    assert_int_equal(petrel_retransmit(idle), PETREL_SUCCESS); /* nothing sent yet */
    petrel_conn_free(idle);
    petrel_conn *stream = petrel_conn_new(p.client_cfg, PETREL_CLIENT, PETREL_STREAM, NULL, 0);
    assert_non_null(stream);
    assert_int_equal(petrel_retransmit(stream), PETREL_ERR_STATE);
    assert_int_equal(petrel_set_message_per_datagram(stream, true), PETREL_ERR_STATE);
    petrel_conn_free(stream);

    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, 10000), 0);
    assert_int_equal(pair_settle(&p, 10000), 0);
    /* Done: the client waits for nothing, and the server sent the last
     * flight, which goes out again only when the client repeats its own. */
    assert_int_equal(petrel_retransmit(p.client), PETREL_SUCCESS);
    assert_int_equal(petrel_retransmit(p.server), PETREL_SUCCESS);
    const uint8_t *out;
    assert_int_equal(petrel_get_outdata(p.client, &out), 0);
    assert_int_equal(petrel_get_outdata(p.server, &out), 0);
    pair_free(&p);
}

/* What the server sends in its first 120 ms: the HelloVerifyRequest, then
 * ServerHello and ServerHelloDone (PSK) in one datagram, or in two with
 * one message per datagram. */
static size_t server_flight_datagrams(bool individually)
{
    pair p;
    pair_init(&p, 3);
    p.filter = drop_server_flight;
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(petrel_set_message_per_datagram(p.server, individually), 0);
    (void)pair_run(&p, 120); /* before any resend (100 ms at the earliest) */
    size_t n = p.sent[PAIR_TO_CLIENT];
    pair_free(&p);
    return n;
}

static void test_message_per_datagram(void **state)
{
    (void)state;
    assert_int_equal(petrel_set_message_per_datagram(NULL, true), PETREL_ERR_ARG);
    size_t packed = server_flight_datagrams(false);
    size_t single = server_flight_datagrams(true);
    assert_int_equal(packed, 2);
    assert_int_equal(single, 3);
}

static void test_conn_set_verify(void **state)
{
    (void)state;
    assert_int_equal(petrel_conn_set_verify(NULL, PETREL_VERIFY_REQUIRE), PETREL_ERR_ARG);
    pair p;
    pair_init(&p, 4);
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(petrel_conn_set_verify(p.server, (petrel_verify_mode)7), PETREL_ERR_ARG);
    assert_int_equal(petrel_conn_set_verify(p.client, PETREL_VERIFY_NONE), PETREL_ERR_STATE);
    assert_int_equal(petrel_conn_set_verify(p.server, PETREL_VERIFY_NONE), 0);
    /* Once the ClientHello is in, not for this handshake. */
    p.filter = drop_server_flight;
    (void)pair_run(&p, 120);
    assert_int_equal(petrel_conn_set_verify(p.server, PETREL_VERIFY_NONE), PETREL_ERR_STATE);
    pair_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retransmit_resends_waiting_flight),
        cmocka_unit_test(test_retransmit_without_waiting_flight),
        cmocka_unit_test(test_message_per_datagram),
        cmocka_unit_test(test_conn_set_verify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
