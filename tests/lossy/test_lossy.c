/*
 * DTLS 1.2 PSK handshakes under loss, in-process on the virtual clock: for
 * each network condition, 1000 seeds. Every handshake must either complete
 * with both sides holding the same keys and working application data, or
 * end with PETREL_ERR_HANDSHAKE_TIMEOUT within the retransmission budget:
 * never a stall, a hang, a crash, another error, or mismatched keys. The
 * datagrams a handshake costs stay under a stated bound. Timing is not
 * asserted here (that is the benchmark's job); each scenario prints its
 * numbers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lossy/impair.h"
#include "tests/support/pair.h"

#define SEEDS 1000
/* Virtual time after which a run counts as hung. With the default timer (1
 * s doubling to 60 s, 7 retransmissions) one flight gives up after 183 s;
 * a handshake has at most three flights per side in a row. */
#define HANG_LIMIT_MS (3600 * 1000)
/*
 * The stated bound on datagrams per handshake (both sides together). Each
 * side has at most 3 flights, each sent at most 1 + 7 times by its timer,
 * plus at most one early resend per retransmission it receives from the
 * peer; datagrams per flight are 1 here (2 at PMTU 200 with a long hint).
 * (3 * 8 + 3 * 8) * 2 per side would be 96 in the worst imaginable case;
 * a retransmission storm would blow far past it.
 */
#define MAX_DATAGRAMS_PER_HANDSHAKE 96

typedef struct scenario {
    const char *name;
    const char *settings[6][2]; /* name/value pairs for both directions */
    size_t pmtu;                /* 0: default */
    uint32_t lossy_hint;        /* > 0: the lossy-link profile with this RTT hint */
} scenario;

typedef struct tally {
    int completed;
    int timed_out;
    uint64_t time_sum;
    uint64_t times[SEEDS];
    size_t max_datagrams;
    size_t datagram_sum;
} tally;

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void apply(impair_params *params, const scenario *sc)
{
    char err[128];
    impair_params_init(params);
    for (size_t i = 0; i < 6 && sc->settings[i][0]; i++) {
        if (impair_params_set(params, sc->settings[i][0], sc->settings[i][1], err, sizeof(err)) < 0)
            fail_msg("%s: bad setting %s %s: %s", sc->name, sc->settings[i][0], sc->settings[i][1],
                     err);
    }
}

static void run_one(const scenario *sc, uint64_t seed, tally *t)
{
    pair p;
    impair_params params;
    impair_link links[2];
    apply(&params, sc);
    pair_init(&p, seed * 7919 + 1);
    uint64_t start = p.now;
    impair_link_init(&links[0], &params, seed * 2 + 1, start);
    impair_link_init(&links[1], &params, seed * 2 + 2, start);
    p.links[PAIR_TO_SERVER] = &links[0];
    p.links[PAIR_TO_CLIENT] = &links[1];
    if (sc->pmtu) {
        uint8_t hint[120];
        memset(hint, 'h', sizeof(hint));
        assert_int_equal(petrel_config_set_pmtu(p.client_cfg, sc->pmtu), 0);
        assert_int_equal(petrel_config_set_pmtu(p.server_cfg, sc->pmtu), 0);
        /* A long hint makes the server's flight span several datagrams. */
        assert_int_equal(petrel_config_set_psk_hint(p.server_cfg, hint, sizeof(hint)), 0);
    }
    if (sc->lossy_hint) {
        assert_int_equal(petrel_config_set_lossy_link_profile(p.client_cfg, sc->lossy_hint), 0);
        assert_int_equal(petrel_config_set_lossy_link_profile(p.server_cfg, sc->lossy_hint), 0);
    }
    assert_int_equal(pair_start(&p), 0);
    int rc = pair_run(&p, HANG_LIMIT_MS);
    if (rc != 0 && rc != PETREL_ERR_HANDSHAKE_TIMEOUT)
        fail_msg("%s seed %llu: %s (client %s, server %s) at %llu ms", sc->name,
                 (unsigned long long)seed, petrel_error_name(rc), petrel_error_name(p.client_error),
                 petrel_error_name(p.server_error), (unsigned long long)(p.now - start));
    size_t datagrams = p.sent[0] + p.sent[1];
    if (rc == 0) {
        uint64_t done = (p.client_complete_at > p.server_complete_at ? p.client_complete_at
                                                                     : p.server_complete_at) -
                        start;
        t->times[t->completed++] = done;
        t->time_sum += done;
        assert_true(pair_keys_match(&p));
        /* Application data over a clean link after completion decrypts. */
        p.links[0] = p.links[1] = NULL;
        static const uint8_t msg[] = "after the handshake";
        assert_int_equal(pair_send_app(&p, true, msg, sizeof(msg), 10000), 0);
        assert_int_equal(pair_send_app(&p, false, msg, sizeof(msg), 10000), 0);
    } else {
        /* The side that did not give up must also come to an end: let it
         * run out its own timer, and it must not fail in another way. */
        t->timed_out++;
        pair_settle(&p, HANG_LIMIT_MS);
        int other =
            p.client_error == PETREL_ERR_HANDSHAKE_TIMEOUT ? p.server_error : p.client_error;
        bool other_done =
            p.client_error == PETREL_ERR_HANDSHAKE_TIMEOUT ? p.server_complete : p.client_complete;
        if (!(other_done || other == PETREL_ERR_HANDSHAKE_TIMEOUT || other == 0))
            fail_msg("%s seed %llu: the other side ended with %s", sc->name,
                     (unsigned long long)seed, petrel_error_name(other));
        assert_true(petrel_next_timeout(p.client) < 0 || p.client_complete);
    }
    if (datagrams > t->max_datagrams)
        t->max_datagrams = datagrams;
    t->datagram_sum += datagrams;
    assert_true(datagrams <= MAX_DATAGRAMS_PER_HANDSHAKE);
    pair_free(&p);
}

static void run_scenario(const scenario *sc)
{
    tally *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    for (uint64_t seed = 1; seed <= SEEDS; seed++)
        run_one(sc, seed, t);
    qsort(t->times, (size_t)t->completed, sizeof(uint64_t), compare_u64);
    uint64_t median = t->completed ? t->times[t->completed / 2] : 0;
    uint64_t p90 = t->completed ? t->times[(t->completed * 9) / 10] : 0;
    print_message("%-22s %4d/%d completed, %3d timed out; time median %5llu ms, p90 %6llu "
                  "ms; datagrams mean %.1f, max %zu\n",
                  sc->name, t->completed, SEEDS, t->timed_out, (unsigned long long)median,
                  (unsigned long long)p90, (double)t->datagram_sum / SEEDS, t->max_datagrams);
    assert_int_equal(t->completed + t->timed_out, SEEDS);
    free(t);
}

#define SCENARIO_TEST(fn, ...)                  \
    static void fn(void **state)                \
    {                                           \
        (void)state;                            \
        static const scenario sc = __VA_ARGS__; \
        run_scenario(&sc);                      \
    }

SCENARIO_TEST(loss_10_percent, {"loss 10%", {{"loss", "10%"}, {"delay", "25ms"}}, 0, 0})
SCENARIO_TEST(loss_30_percent, {"loss 30%", {{"loss", "30%"}, {"delay", "25ms"}}, 0, 0})
SCENARIO_TEST(loss_50_percent, {"loss 50%", {{"loss", "50%"}, {"delay", "25ms"}}, 0, 0})
SCENARIO_TEST(burst_loss_gilbert_elliott,
              {"gemodel 2% 20%", {{"loss", "gemodel 2% 20%"}, {"delay", "25ms"}}, 0, 0})
SCENARIO_TEST(reorder_20_percent,
              {"reorder 20%", {{"delay", "25ms 10ms"}, {"reorder", "20%"}}, 0, 0})
SCENARIO_TEST(duplicate_10_percent,
              {"duplicate 10%", {{"delay", "25ms"}, {"duplicate", "10%"}}, 0, 0})
SCENARIO_TEST(pmtu_200_fragmented_with_loss,
              {"pmtu 200 + loss 10%", {{"loss", "10%"}, {"delay", "25ms"}}, 200, 0})
SCENARIO_TEST(lossy_link_profile_30_percent,
              {"lossy-link 30%", {{"loss", "30%"}, {"delay", "25ms 5ms"}}, 0, 50})
SCENARIO_TEST(lossy_link_profile_50_percent,
              {"lossy-link 50%", {{"loss", "50%"}, {"delay", "25ms 5ms"}}, 0, 50})

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loss_10_percent),
        cmocka_unit_test(loss_30_percent),
        cmocka_unit_test(loss_50_percent),
        cmocka_unit_test(burst_loss_gilbert_elliott),
        cmocka_unit_test(reorder_20_percent),
        cmocka_unit_test(duplicate_10_percent),
        cmocka_unit_test(pmtu_200_fragmented_with_loss),
        cmocka_unit_test(lossy_link_profile_30_percent),
        cmocka_unit_test(lossy_link_profile_50_percent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
