/*
 * Tests for the DTLS retransmission timer policy (dtls/timer.h, RFC 6347
 * §4.2.4): the doubling back-off and its cap, the retransmission limit,
 * the RTT-based first wait, Karn's rule (no sample from a flight that was
 * sent twice), one sample per flight, smoothing, and stop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "dtls/timer.h"

static dtls_timer_config default_config(void)
{
    dtls_timer_config cfg = {
        .initial_ms = DTLS_TIMER_DEFAULT_INITIAL_MS,
        .max_ms = DTLS_TIMER_DEFAULT_MAX_MS,
        .max_retransmits = DTLS_TIMER_DEFAULT_MAX_RETRANSMITS,
        .rtt_min_ms = DTLS_TIMER_DEFAULT_RTT_MIN_MS,
        .rtt_factor = DTLS_TIMER_DEFAULT_RTT_FACTOR,
    };
    return cfg;
}

/* Sends a flight at now, expects its first wait, and returns the deadline. */
static uint64_t send_flight(dtls_timer *t, const dtls_timer_config *cfg, uint64_t now,
                            uint32_t expected_wait)
{
    dtls_timer_flight_sent(t, cfg, now);
    assert_int_equal(t->deadline, now + expected_wait);
    assert_int_equal(t->timeout_ms, expected_wait);
    return t->deadline;
}

static void test_timer_defaults(void **state)
{
    (void)state;
    assert_int_equal(DTLS_TIMER_DEFAULT_INITIAL_MS, 1000);
    assert_int_equal(DTLS_TIMER_DEFAULT_MAX_MS, 60000);
    assert_int_equal(DTLS_TIMER_DEFAULT_MAX_RETRANSMITS, 7);
    assert_int_equal(DTLS_TIMER_DEFAULT_RTT_MIN_MS, 100);
    assert_int_equal(DTLS_TIMER_DEFAULT_RTT_FACTOR, 3);
    dtls_timer t;
    memset(&t, 0xa5, sizeof(t));
    dtls_timer_init(&t);
    assert_int_equal(t.deadline, 0);
    assert_false(t.have_rtt);
}

static void test_timer_backoff_and_timeout(void **state)
{
    (void)state;
    dtls_timer_config cfg = default_config();
    static const uint32_t waits[] = {2000, 4000, 8000, 16000, 32000, 60000, 60000};
    dtls_timer t;
    dtls_timer_init(&t);
    const uint64_t start = 123456;
    uint64_t deadline = send_flight(&t, &cfg, start, 1000);
    assert_int_equal(deadline, start + 1000);

    for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
        uint64_t now = deadline;
        assert_int_equal(dtls_timer_expired(&t, &cfg, now), 0);
        assert_int_equal(t.timeout_ms, waits[i]);
        assert_int_equal(t.deadline, now + waits[i]);
        assert_int_equal(t.retransmits, i + 1);
        deadline = t.deadline;
    }
    /* The 8th expiry: seven retransmissions spent. */
    assert_int_equal(dtls_timer_expired(&t, &cfg, deadline), PETREL_ERR_HANDSHAKE_TIMEOUT);
    assert_int_equal(t.deadline, 0);
}

/* A late call (the caller was slow to notice the deadline) arms from the
 * time of the call. */
static void test_timer_expiry_arms_from_now(void **state)
{
    (void)state;
    dtls_timer_config cfg = default_config();
    dtls_timer t;
    dtls_timer_init(&t);
    send_flight(&t, &cfg, 0, 1000);
    assert_int_equal(dtls_timer_expired(&t, &cfg, 1500), 0);
    assert_int_equal(t.deadline, 1500 + 2000);
}

static void test_timer_custom_cap(void **state)
{
    (void)state;
    dtls_timer_config cfg = default_config();
    cfg.max_ms = 3000;
    static const uint32_t waits[] = {2000, 3000, 3000, 3000, 3000, 3000, 3000};
    dtls_timer t;
    dtls_timer_init(&t);
    uint64_t deadline = send_flight(&t, &cfg, 0, 1000);
    for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
        assert_int_equal(dtls_timer_expired(&t, &cfg, deadline), 0);
        assert_int_equal(t.timeout_ms, waits[i]);
        deadline = t.deadline;
    }
    assert_int_equal(dtls_timer_expired(&t, &cfg, deadline), PETREL_ERR_HANDSHAKE_TIMEOUT);
}

static void test_timer_custom_retransmit_limit(void **state)
{
    (void)state;
    dtls_timer_config cfg = default_config();
    cfg.max_retransmits = 2;
    dtls_timer t;
    dtls_timer_init(&t);
    uint64_t deadline = send_flight(&t, &cfg, 0, 1000);
    assert_int_equal(dtls_timer_expired(&t, &cfg, deadline), 0);
    assert_int_equal(dtls_timer_expired(&t, &cfg, t.deadline), 0);
    assert_int_equal(dtls_timer_expired(&t, &cfg, t.deadline), PETREL_ERR_HANDSHAKE_TIMEOUT);
}

/* Each new flight starts its own count and its own back-off. */
static void test_timer_new_flight_resets_backoff(void **state)
{
    (void)state;
    dtls_timer_config cfg = default_config();
    dtls_timer t;
    dtls_timer_init(&t);
    uint64_t deadline = send_flight(&t, &cfg, 0, 1000);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(dtls_timer_expired(&t, &cfg, deadline), 0);
        deadline = t.deadline;
    }
    /* The peer answered at last (no sample: retransmitted); next flight. */
    dtls_timer_peer_responded(&t, deadline - 1);
    assert_false(t.have_rtt);
    deadline = send_flight(&t, &cfg, deadline, 1000);
    assert_int_equal(t.retransmits, 0);
    assert_int_equal(dtls_timer_expired(&t, &cfg, deadline), 0);
    assert_int_equal(t.timeout_ms, 2000);
}

static void test_timer_rtt_sample(void **state)
{
    (void)state;
    dtls_timer_config cfg = default_config();
    dtls_timer t;
    dtls_timer_init(&t);
    send_flight(&t, &cfg, 0, 1000);
    dtls_timer_peer_responded(&t, 40);
    assert_true(t.have_rtt);
    assert_int_equal(t.rtt_ms, 40);
    /* max(3 * 40, 100) = 120 */
    uint64_t deadline = send_flight(&t, &cfg, 50, 120);
    /* and it still doubles */
    assert_int_equal(dtls_timer_expired(&t, &cfg, deadline), 0);
    assert_int_equal(t.timeout_ms, 240);
}

static void test_timer_rtt_floor(void **state)
{
    (void)state;
    dtls_timer_config cfg = default_config();
    dtls_timer t;
    dtls_timer_init(&t);
    send_flight(&t, &cfg, 1000, 1000);
    dtls_timer_peer_responded(&t, 1010);
    assert_int_equal(t.rtt_ms, 10);
    /* max(3 * 10, 100) = 100 */
    send_flight(&t, &cfg, 2000, 100);
}

static void test_timer_rtt_200(void **state)
{
    (void)state;
    dtls_timer_config cfg = default_config();
    dtls_timer t;
    dtls_timer_init(&t);
    send_flight(&t, &cfg, 5000, 1000);
    dtls_timer_peer_responded(&t, 5200);
    assert_int_equal(t.rtt_ms, 200);
    send_flight(&t, &cfg, 6000, 600);
}

/* On a slow link the measured wait exceeds initial_ms, and max_ms still
 * caps it. */
static void test_timer_rtt_slow_link(void **state)
{
    (void)state;
    dtls_timer_config cfg = default_config();
    dtls_timer t;
    dtls_timer_init(&t);
    send_flight(&t, &cfg, 0, 1000);
    dtls_timer_peer_responded(&t, 900);
    send_flight(&t, &cfg, 1000, 2700);

    cfg.max_ms = 2000;
    dtls_timer_init(&t);
    send_flight(&t, &cfg, 0, 1000);
    dtls_timer_peer_responded(&t, 900);
    send_flight(&t, &cfg, 1000, 2000);
}

static void test_timer_karn_after_expiry(void **state)
{
    (void)state;
    dtls_timer_config cfg = default_config();
    dtls_timer t;
    dtls_timer_init(&t);
    uint64_t deadline = send_flight(&t, &cfg, 0, 1000);
    assert_int_equal(dtls_timer_expired(&t, &cfg, deadline), 0);
    assert_true(t.retransmitted);
    /* The answer may be to either copy: no sample. */
    dtls_timer_peer_responded(&t, 1100);
    assert_false(t.have_rtt);
    send_flight(&t, &cfg, 1200, 1000);
}

static void test_timer_karn_after_early_resend(void **state)
{
    (void)state;
    dtls_timer_config cfg = default_config();
    dtls_timer t;
    dtls_timer_init(&t);
    uint64_t deadline = send_flight(&t, &cfg, 0, 1000);
    dtls_timer_resent_early(&t);
    /* Resending early leaves the deadline alone. */
    assert_int_equal(t.deadline, deadline);
    assert_int_equal(t.retransmits, 0);
    dtls_timer_peer_responded(&t, 300);
    assert_false(t.have_rtt);

    /* With an RTT known, an early resend still blocks the next sample. */
    send_flight(&t, &cfg, 400, 1000);
    dtls_timer_peer_responded(&t, 440);
    assert_int_equal(t.rtt_ms, 40);
    send_flight(&t, &cfg, 500, 120);
    dtls_timer_resent_early(&t);
    dtls_timer_peer_responded(&t, 1500);
    assert_int_equal(t.rtt_ms, 40);
    send_flight(&t, &cfg, 2000, 120);
}

static void test_timer_one_sample_per_flight(void **state)
{
    (void)state;
    dtls_timer_config cfg = default_config();
    dtls_timer t;
    dtls_timer_init(&t);
    send_flight(&t, &cfg, 0, 1000);
    dtls_timer_peer_responded(&t, 40);
    /* The rest of the peer's flight arrives later: no second sample. */
    dtls_timer_peer_responded(&t, 400);
    dtls_timer_peer_responded(&t, 900);
    assert_int_equal(t.rtt_ms, 40);
    send_flight(&t, &cfg, 1000, 120);
}

static void test_timer_smoothing(void **state)
{
    (void)state;
    dtls_timer_config cfg = default_config();
    dtls_timer t;
    dtls_timer_init(&t);
    uint64_t now = 0;
    /* Samples, the smoothed value after each ((7 * old + new) / 8) and
     * the next flight's wait: max(3 x smoothed, 3/2 x the longest sample
     * so far, 100). */
    static const struct {
        uint32_t sample, rtt, next_wait;
    } steps[] = {
        {40, 40, 120},     /* the first sample is taken as is */
        {200, 60, 300},    /* (280 + 200) / 8; 3/2 x 200 */
        {60, 60, 300},     /* (420 + 60) / 8 */
        {0, 52, 300},      /* 420 / 8 = 52.5, rounded down */
        {1000, 170, 1500}, /* (364 + 1000) / 8 = 170.5; 3/2 x 1000 */
    };
    uint32_t wait = 1000;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        send_flight(&t, &cfg, now, wait);
        dtls_timer_peer_responded(&t, now + steps[i].sample);
        assert_int_equal(t.rtt_ms, steps[i].rtt);
        wait = steps[i].next_wait;
        now += 10000;
    }
    send_flight(&t, &cfg, now, 1500);
}

static void test_timer_stop(void **state)
{
    (void)state;
    dtls_timer_config cfg = default_config();
    dtls_timer t;
    dtls_timer_init(&t);
    send_flight(&t, &cfg, 0, 1000);
    dtls_timer_stop(&t);
    assert_int_equal(t.deadline, 0);
    /* A disarmed timer takes no sample. */
    dtls_timer_peer_responded(&t, 40);
    assert_false(t.have_rtt);
    assert_int_equal(t.deadline, 0);
    /* Stopping twice is harmless; a new flight arms again. */
    dtls_timer_stop(&t);
    send_flight(&t, &cfg, 100, 1000);
    dtls_timer_peer_responded(&t, 140);
    assert_int_equal(t.rtt_ms, 40);

    /* A never-armed timer takes no sample either. */
    dtls_timer_init(&t);
    dtls_timer_peer_responded(&t, 40);
    assert_false(t.have_rtt);
}

static void test_timer_peer_responded_keeps_armed(void **state)
{
    (void)state;
    dtls_timer_config cfg = default_config();
    dtls_timer t;
    dtls_timer_init(&t);
    uint64_t deadline = send_flight(&t, &cfg, 0, 1000);
    dtls_timer_peer_responded(&t, 40);
    assert_int_equal(t.deadline, deadline);
    /* The rest of the peer's flight was lost: the timer still fires. */
    assert_int_equal(dtls_timer_expired(&t, &cfg, deadline), 0);
    assert_int_equal(t.deadline, deadline + 2000);
}

/* A response stamped before the flight went out (a clock step) is no
 * sample. */
static void test_timer_ignores_time_before_send(void **state)
{
    (void)state;
    dtls_timer_config cfg = default_config();
    dtls_timer t;
    dtls_timer_init(&t);
    send_flight(&t, &cfg, 1000, 1000);
    dtls_timer_peer_responded(&t, 999);
    assert_false(t.have_rtt);
    dtls_timer_peer_responded(&t, 1030);
    assert_int_equal(t.rtt_ms, 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timer_defaults),
        cmocka_unit_test(test_timer_backoff_and_timeout),
        cmocka_unit_test(test_timer_expiry_arms_from_now),
        cmocka_unit_test(test_timer_custom_cap),
        cmocka_unit_test(test_timer_custom_retransmit_limit),
        cmocka_unit_test(test_timer_new_flight_resets_backoff),
        cmocka_unit_test(test_timer_rtt_sample),
        cmocka_unit_test(test_timer_rtt_floor),
        cmocka_unit_test(test_timer_rtt_200),
        cmocka_unit_test(test_timer_rtt_slow_link),
        cmocka_unit_test(test_timer_karn_after_expiry),
        cmocka_unit_test(test_timer_karn_after_early_resend),
        cmocka_unit_test(test_timer_one_sample_per_flight),
        cmocka_unit_test(test_timer_smoothing),
        cmocka_unit_test(test_timer_stop),
        cmocka_unit_test(test_timer_peer_responded_keeps_armed),
        cmocka_unit_test(test_timer_ignores_time_before_send),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
