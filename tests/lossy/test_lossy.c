/*
 * DTLS 1.2 handshakes under loss, in-process on the virtual clock: for
 * each network condition, many seeds (1000 for PSK, fewer for certificate
 * handshakes, which cost real ECDSA and RSA operations). Every handshake
 * must either complete with both sides holding the same keys and working
 * application data, or end with PETREL_ERR_HANDSHAKE_TIMEOUT within the
 * retransmission budget: never a stall, a hang, a crash, another error,
 * or mismatched keys. The datagrams a handshake costs stay under a stated
 * bound. Timing is not asserted here (that is the benchmark's job); each
 * scenario prints its numbers.
 *
 * Credentials: the pair's PSK, or certificates from tests/pki: the ECDSA
 * chain (ec-server-chain.pem, leaf and intermediate), the RSA chain
 * (rsa-server-chain.pem, three certificates), and the ECDSA chain with a
 * client certificate the server requires (ec-client-chain.pem). The
 * clients trust ca-all.pem; the certificates are valid 2024..2124 and the
 * pair's time hook says 2026.
 *
 * PETREL_LOSSY_DIVISOR=N runs every scenario with 1/N of its seeds (at
 * least 20): CI uses it for the run under AddressSanitizer, whose purpose
 * is memory safety on the same paths, not the statistics.
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

#define PKI(name) PETREL_SOURCE_DIR "/tests/pki/" name

#define SEEDS 1000 /* per PSK scenario, and the most any scenario runs */
/* Virtual time after which a run counts as hung. With the default timer (1
 * s doubling to 60 s, 7 retransmissions) one flight gives up after 183 s;
 * a handshake has at most three flights per side in a row. */
#define HANG_LIMIT_MS (3600 * 1000)
/*
 * The stated bound on datagrams per handshake (both sides together),
 * derived per flight: a flight is sent at most 1 + 7 times by its timer,
 * plus at most one early resend per transmission of the peer's previous
 * flight that arrives (a fresh record holding its tail: at most 8, as the
 * peer's timer sends it), and
 * every transmission of a flight costs as many datagrams as its first.
 * So a handshake sends at most 16 times the datagrams it sends over a
 * clean link, which run_scenario measures for the scenario's credentials
 * and PMTU. For PSK at the default PMTU that is 6 datagrams (ClientHello,
 * HelloVerifyRequest, ClientHello, and three one-datagram flights), so 96;
 * a certificate flight at PMTU 200 is 8 (ECDSA) or 19 (RSA) datagrams,
 * and the bound grows with it. It is the worst imaginable case: a
 * retransmission storm would blow far past it, ordinary loss stays far
 * below. (The lossy-link profile allows 30 retransmissions; its scenarios
 * are held to the same, stricter, bound.)
 */
#define MAX_SENDS_PER_FLIGHT 16

typedef enum credentials {
    CREDS_PSK,   /* the pair's PSK "client" / 01..10 */
    CREDS_ECDSA, /* ec-server-chain.pem + ec-server.key; the client trusts ca-all.pem */
    CREDS_RSA,   /* rsa-server-chain.pem (3 certificates) + rsa-server.key; same trust */
    /* CREDS_ECDSA, and the server requires a client certificate: the
     * client presents ec-client-chain.pem + ec-client.key, the server
     * trusts ca-all.pem. */
    CREDS_ECDSA_CLIENT_AUTH,
} credentials;

typedef struct scenario {
    const char *name;
    const char *settings[6][2]; /* name/value pairs for both directions */
    size_t pmtu;                /* 0: default */
    uint32_t lossy_hint;        /* > 0: the lossy-link profile with this RTT hint */
    credentials creds;
    int seeds; /* at most SEEDS */
} scenario;

typedef struct tally {
    int completed;
    int timed_out;
    uint64_t time_sum;
    uint64_t times[SEEDS];
    size_t datagrams[SEEDS];
    size_t max_datagrams;
    size_t datagram_sum;
    size_t max_allowed; /* the bound for this scenario */
} tally;

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int compare_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
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

/* Sets up the scenario's credentials, PMTU and timer profile on a fresh
 * pair. */
static void configure(pair *p, const scenario *sc)
{
    if (sc->creds != CREDS_PSK) {
        /* The certificate suites only, so the pair's PSK plays no part. */
        static const uint16_t suites[] = {0xC0AE, 0xC0AC, 0xC02B, 0xC02C,
                                          0xCCA9, 0xC02F, 0xC030, 0xCCA8};
        size_t n = sizeof(suites) / sizeof(suites[0]);
        bool rsa = sc->creds == CREDS_RSA;
        assert_int_equal(petrel_config_set_suites(p->client_cfg, suites, n), 0);
        assert_int_equal(petrel_config_set_suites(p->server_cfg, suites, n), 0);
        assert_int_equal(
            petrel_config_load_cert_chain_file(p->server_cfg, rsa ? PKI("rsa-server-chain.pem")
                                                                  : PKI("ec-server-chain.pem")),
            0);
        assert_int_equal(
            petrel_config_load_key_file(p->server_cfg,
                                        rsa ? PKI("rsa-server.key") : PKI("ec-server.key"), NULL),
            0);
        assert_int_equal(petrel_config_load_ca_file(p->client_cfg, PKI("ca-all.pem")), 0);
    }
    if (sc->creds == CREDS_ECDSA_CLIENT_AUTH) {
        assert_int_equal(petrel_config_load_ca_file(p->server_cfg, PKI("ca-all.pem")), 0);
        assert_int_equal(petrel_config_set_verify(p->server_cfg, PETREL_VERIFY_REQUIRE, 0), 0);
        assert_int_equal(
            petrel_config_load_cert_chain_file(p->client_cfg, PKI("ec-client-chain.pem")), 0);
        assert_int_equal(petrel_config_load_key_file(p->client_cfg, PKI("ec-client.key"), NULL), 0);
    }
    if (sc->pmtu) {
        assert_int_equal(petrel_config_set_pmtu(p->client_cfg, sc->pmtu), 0);
        assert_int_equal(petrel_config_set_pmtu(p->server_cfg, sc->pmtu), 0);
        if (sc->creds == CREDS_PSK) {
            /* A long hint makes the server's flight span several datagrams. */
            uint8_t hint[120];
            memset(hint, 'h', sizeof(hint));
            assert_int_equal(petrel_config_set_psk_hint(p->server_cfg, hint, sizeof(hint)), 0);
        }
    }
    if (sc->lossy_hint) {
        assert_int_equal(petrel_config_set_lossy_link_profile(p->client_cfg, sc->lossy_hint), 0);
        assert_int_equal(petrel_config_set_lossy_link_profile(p->server_cfg, sc->lossy_hint), 0);
    }
}

/* The datagrams of the scenario's handshake over a clean link. */
static size_t clean_datagrams(const scenario *sc)
{
    pair p;
    pair_init(&p, 1);
    configure(&p, sc);
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, HANG_LIMIT_MS), 0);
    assert_true(pair_keys_match(&p));
    size_t datagrams = p.sent[0] + p.sent[1];
    pair_free(&p);
    return datagrams;
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
    configure(&p, sc);
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
    t->datagrams[t->completed + t->timed_out - 1] = datagrams;
    t->datagram_sum += datagrams;
    if (datagrams > t->max_allowed)
        fail_msg("%s seed %llu: %zu datagrams, over the bound of %zu", sc->name,
                 (unsigned long long)seed, datagrams, t->max_allowed);
    pair_free(&p);
}

/* The seeds a scenario runs: its own count, or 1/PETREL_LOSSY_DIVISOR. */
static int seeds_for(const scenario *sc)
{
    const char *env = getenv("PETREL_LOSSY_DIVISOR");
    int divisor = env ? atoi(env) : 1;
    if (divisor <= 1)
        return sc->seeds;
    int seeds = sc->seeds / divisor;
    return seeds < 20 ? (sc->seeds < 20 ? sc->seeds : 20) : seeds;
}

static void run_scenario(const scenario *sc)
{
    int seeds = seeds_for(sc);
    assert_true(seeds > 0 && seeds <= SEEDS);
    tally *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    size_t clean = clean_datagrams(sc);
    t->max_allowed = MAX_SENDS_PER_FLIGHT * clean;
    for (uint64_t seed = 1; seed <= (uint64_t)seeds; seed++)
        run_one(sc, seed, t);
    qsort(t->times, (size_t)t->completed, sizeof(uint64_t), compare_u64);
    qsort(t->datagrams, (size_t)seeds, sizeof(size_t), compare_size);
    uint64_t median = t->completed ? t->times[t->completed / 2] : 0;
    uint64_t p90 = t->completed ? t->times[(t->completed * 9) / 10] : 0;
    uint64_t max = t->completed ? t->times[t->completed - 1] : 0;
    print_message("%-32s %4d/%-4d completed, %3d timed out; time median %5llu ms, p90 %6llu ms, "
                  "max %6llu ms; datagrams clean %2zu, median %3zu, mean %5.1f, max %3zu (bound "
                  "%zu)\n",
                  sc->name, t->completed, seeds, t->timed_out, (unsigned long long)median,
                  (unsigned long long)p90, (unsigned long long)max, clean, t->datagrams[seeds / 2],
                  (double)t->datagram_sum / seeds, t->max_datagrams, t->max_allowed);
    assert_int_equal(t->completed + t->timed_out, seeds);
    free(t);
}

#define SCENARIO_TEST(fn, ...)                  \
    static void fn(void **state)                \
    {                                           \
        (void)state;                            \
        static const scenario sc = __VA_ARGS__; \
        run_scenario(&sc);                      \
    }

SCENARIO_TEST(loss_10_percent,
              {"loss 10%", {{"loss", "10%"}, {"delay", "25ms"}}, 0, 0, CREDS_PSK, SEEDS})
SCENARIO_TEST(loss_30_percent,
              {"loss 30%", {{"loss", "30%"}, {"delay", "25ms"}}, 0, 0, CREDS_PSK, SEEDS})
SCENARIO_TEST(loss_50_percent,
              {"loss 50%", {{"loss", "50%"}, {"delay", "25ms"}}, 0, 0, CREDS_PSK, SEEDS})
SCENARIO_TEST(
    burst_loss_gilbert_elliott,
    {"gemodel 2% 20%", {{"loss", "gemodel 2% 20%"}, {"delay", "25ms"}}, 0, 0, CREDS_PSK, SEEDS})
SCENARIO_TEST(reorder_20_percent,
              {"reorder 20%", {{"delay", "25ms 10ms"}, {"reorder", "20%"}}, 0, 0, CREDS_PSK, SEEDS})
SCENARIO_TEST(duplicate_10_percent,
              {"duplicate 10%", {{"delay", "25ms"}, {"duplicate", "10%"}}, 0, 0, CREDS_PSK, SEEDS})
SCENARIO_TEST(
    pmtu_200_fragmented_with_loss,
    {"pmtu 200 + loss 10%", {{"loss", "10%"}, {"delay", "25ms"}}, 200, 0, CREDS_PSK, SEEDS})
SCENARIO_TEST(lossy_link_profile_30_percent,
              {"lossy-link 30%", {{"loss", "30%"}, {"delay", "25ms 5ms"}}, 0, 50, CREDS_PSK, SEEDS})
SCENARIO_TEST(lossy_link_profile_50_percent,
              {"lossy-link 50%", {{"loss", "50%"}, {"delay", "25ms 5ms"}}, 0, 50, CREDS_PSK, SEEDS})

/*
 * Certificate handshakes under the PSK scenarios' conditions: each chain at
 * PMTU 576 (the ECDSA server flight takes 3 datagrams, the RSA one 6) and
 * at 200 (8 and 19), and client authentication at 576 (the client's
 * flight then takes 3 too). CERT_SEEDS keeps the whole test near one
 * minute on a two-core machine in a RelWithDebInfo build (about 4 ms of
 * CPU per handshake: loading the PEM files, signing, checking chains),
 * well under three minutes on a slower or busier one.
 */
#define CERT_SEEDS 500

static const scenario cert_conditions[] = {
    {"loss 10%", {{"loss", "10%"}, {"delay", "25ms"}}, 0, 0, CREDS_PSK, CERT_SEEDS},
    {"loss 30%", {{"loss", "30%"}, {"delay", "25ms"}}, 0, 0, CREDS_PSK, CERT_SEEDS},
    {"loss 50%", {{"loss", "50%"}, {"delay", "25ms"}}, 0, 0, CREDS_PSK, CERT_SEEDS},
    {"gemodel 2% 20%",
     {{"loss", "gemodel 2% 20%"}, {"delay", "25ms"}},
     0,
     0,
     CREDS_PSK,
     CERT_SEEDS},
    {"reorder 20%", {{"delay", "25ms 10ms"}, {"reorder", "20%"}}, 0, 0, CREDS_PSK, CERT_SEEDS},
    {"duplicate 10%", {{"delay", "25ms"}, {"duplicate", "10%"}}, 0, 0, CREDS_PSK, CERT_SEEDS},
};

/* Every condition with these credentials at this PMTU. */
static void run_certificate_conditions(const char *label, size_t pmtu, credentials creds)
{
    for (size_t i = 0; i < sizeof(cert_conditions) / sizeof(cert_conditions[0]); i++) {
        scenario sc = cert_conditions[i];
        char name[64];
        snprintf(name, sizeof(name), "%s %s", label, sc.name);
        sc.name = name;
        sc.pmtu = pmtu;
        sc.creds = creds;
        run_scenario(&sc);
    }
}

static void ecdsa_chain_pmtu_576(void **state)
{
    (void)state;
    run_certificate_conditions("ecdsa 576", 576, CREDS_ECDSA);
}

static void ecdsa_chain_pmtu_200(void **state)
{
    (void)state;
    run_certificate_conditions("ecdsa 200", 200, CREDS_ECDSA);
}

static void rsa_three_cert_chain_pmtu_576(void **state)
{
    (void)state;
    run_certificate_conditions("rsa3 576", 576, CREDS_RSA);
}

static void rsa_three_cert_chain_pmtu_200(void **state)
{
    (void)state;
    run_certificate_conditions("rsa3 200", 200, CREDS_RSA);
}

static void client_certificate_pmtu_576(void **state)
{
    (void)state;
    run_certificate_conditions("ecdsa+client 576", 576, CREDS_ECDSA_CLIENT_AUTH);
}

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
        cmocka_unit_test(ecdsa_chain_pmtu_576),
        cmocka_unit_test(ecdsa_chain_pmtu_200),
        cmocka_unit_test(rsa_three_cert_chain_pmtu_576),
        cmocka_unit_test(rsa_three_cert_chain_pmtu_200),
        cmocka_unit_test(client_certificate_pmtu_576),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
