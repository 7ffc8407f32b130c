/*
 * Tests for the impairment engine (tests/lossy/impair.h): a perfect link,
 * exact reproducibility from the seed, each impairment on its own against
 * its expected statistics or exact timings, and the netem-style parser with
 * its describe() inverse.
 *
 * The statistical bounds are several standard deviations wide, and every
 * run uses a fixed seed, so the tests are deterministic as well.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tests/lossy/impair.h"

#define N_DGRAMS   100000
#define START      UINT64_C(1000000) /* links start at a non-zero time */
#define SEED       UINT64_C(0x5EED)
#define DGRAM_SIZE 1500

/* ---- helpers ---- */

static void set_ok(impair_params *p, const char *name, const char *value)
{
    char err[160] = "";
    int rc = impair_params_set(p, name, value, err, sizeof err);
    if (rc != 0) {
        fail_msg("'%s' '%s' rejected: %s", name, value, err);
    }
}

static impair_link make_link(const impair_params *p, uint64_t seed)
{
    impair_link link;
    impair_link_init(&link, p, seed, START);
    return link;
}

/* A test-side generator, independent of the engine's. */
static uint64_t test_rand(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static void fill(uint8_t *buf, size_t len, uint64_t *state)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)test_rand(state);
    }
}

static void assert_counters_add_up(const impair_counters *c)
{
    assert_int_equal(c->offered, c->delivered - c->duplicated + c->lost + c->mtu_dropped +
                                     c->blackout_dropped + c->rate_dropped);
}

static void assert_fraction_near(uint64_t count, uint64_t total, double expected, double within)
{
    double observed = (double)count / (double)total;
    if (observed < expected - within || observed > expected + within) {
        fail_msg("observed %.4f (%llu of %llu), expected %.4f +- %.4f", observed,
                 (unsigned long long)count, (unsigned long long)total, expected, within);
    }
}

static impair_verdict decide_len(impair_link *link, uint64_t now, size_t len)
{
    uint8_t buf[DGRAM_SIZE + 1] = {0};
    assert_true(len <= sizeof buf);
    return impair_decide(link, now, buf, len);
}

/* ---- the engine ---- */

static void test_perfect_link(void **state)
{
    (void)state;
    impair_params p;
    impair_params_init(&p);
    impair_link link = make_link(&p, SEED);
    uint64_t rng = 1;
    uint8_t buf[200], copy[200];
    for (uint64_t i = 0; i < 3000; i++) {
        uint64_t now = START + i / 3; /* three datagrams per ms */
        size_t len = 1 + (size_t)(i % sizeof buf);
        fill(buf, len, &rng);
        memcpy(copy, buf, len);
        impair_verdict v = impair_decide(&link, now, buf, len);
        assert_int_equal(v.copies, 1);
        assert_int_equal(v.deliver_at[0], now);
        assert_memory_equal(buf, copy, len);
    }
    assert_int_equal(link.counters.offered, 3000);
    assert_int_equal(link.counters.delivered, 3000);
    assert_int_equal(link.counters.lost + link.counters.mtu_dropped +
                         link.counters.blackout_dropped + link.counters.rate_dropped +
                         link.counters.duplicated + link.counters.corrupted +
                         link.counters.reordered,
                     0);
}

/* Every setting on at once. */
static impair_params all_on(bool gemodel)
{
    impair_params p;
    impair_params_init(&p);
    set_ok(&p, "loss", gemodel ? "gemodel 1% 10% 70% 0.1%" : "5%");
    set_ok(&p, "delay", "20ms 10ms");
    set_ok(&p, "reorder", "10%");
    set_ok(&p, "duplicate", "5%");
    set_ok(&p, "corrupt", "5%");
    set_ok(&p, "rate", "1mbit");
    set_ok(&p, "mtu", "1200");
    set_ok(&p, "blackout", "50000-60000");
    set_ok(&p, "blackout", "70s-71s");
    return p;
}

/* Runs two links side by side over the same traffic; returns how many
 * verdicts differed. Datagrams go out one per ms, 1 to 1400 bytes, which
 * is more than 1 mbit/s can carry, so the rate queue overflows too. */
static uint64_t run_side_by_side(const impair_params *p, uint64_t seed_a, uint64_t seed_b,
                                 impair_link *a, impair_link *b)
{
    *a = make_link(p, seed_a);
    *b = make_link(p, seed_b);
    uint64_t rng = 7, differ = 0;
    uint8_t buf_a[1400], buf_b[1400];
    for (uint64_t i = 0; i < N_DGRAMS; i++) {
        size_t len = 1 + (size_t)(test_rand(&rng) % sizeof buf_a);
        fill(buf_a, len, &rng);
        memcpy(buf_b, buf_a, len);
        impair_verdict va = impair_decide(a, START + i, buf_a, len);
        impair_verdict vb = impair_decide(b, START + i, buf_b, len);
        if (va.copies != vb.copies || va.deliver_at[0] != vb.deliver_at[0] ||
            va.deliver_at[1] != vb.deliver_at[1] || memcmp(buf_a, buf_b, len) != 0) {
            differ++;
        }
    }
    return differ;
}

static void test_same_seed_reproduces(void **state)
{
    (void)state;
    for (int gemodel = 0; gemodel <= 1; gemodel++) {
        impair_params p = all_on(gemodel);
        p.jitter_reorders = gemodel;
        impair_link a, b;
        assert_int_equal(run_side_by_side(&p, SEED, SEED, &a, &b), 0);
        assert_memory_equal(&a.counters, &b.counters, sizeof a.counters);
        /* Every impairment actually happened. */
        const impair_counters *c = &a.counters;
        assert_true(c->lost > 0 && c->mtu_dropped > 0 && c->blackout_dropped > 0);
        assert_true(c->rate_dropped > 0 && c->duplicated > 0 && c->corrupted > 0);
        assert_true(c->reordered > 0);
        assert_int_equal(c->offered, N_DGRAMS);
        assert_counters_add_up(c);
    }
}

static void test_different_seeds_differ(void **state)
{
    (void)state;
    impair_params p = all_on(false);
    impair_link a, b;
    assert_true(run_side_by_side(&p, 1, 2, &a, &b) > N_DGRAMS / 10);
    assert_true(run_side_by_side(&p, 0, 1, &a, &b) > N_DGRAMS / 10);
}

static void test_random_loss(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        double expected;
    } cases[] = {{"10%", 0.10}, {"30%", 0.30}, {"50%", 0.50}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        impair_params p;
        impair_params_init(&p);
        set_ok(&p, "loss", cases[k].value);
        impair_link link = make_link(&p, SEED + k);
        uint64_t dropped = 0;
        for (uint64_t i = 0; i < N_DGRAMS; i++) {
            impair_verdict v = decide_len(&link, START + i, 100);
            dropped += v.copies == 0;
        }
        assert_fraction_near(dropped, N_DGRAMS, cases[k].expected, 0.01);
        assert_int_equal(link.counters.lost, dropped);
        assert_int_equal(link.counters.offered, N_DGRAMS);
        assert_counters_add_up(&link.counters);
    }
}

static void test_gemodel_bursts(void **state)
{
    (void)state;
    /* The defaults (1-H = 100%, 1-K = 0%) and the same written out. */
    static const char *const values[] = {"gemodel 1% 10%", "gemodel 1% 10% 100% 0%"};
    const uint64_t n = 10 * N_DGRAMS; /* bursts need more datagrams to settle */
    for (size_t k = 0; k < 2; k++) {
        impair_params p;
        impair_params_init(&p);
        set_ok(&p, "loss", values[k]);
        impair_link link = make_link(&p, SEED + k);
        uint64_t lost = 0, bursts = 0, run = 0, burst_total = 0;
        for (uint64_t i = 0; i < n; i++) {
            impair_verdict v = decide_len(&link, START + i, 100);
            if (v.copies == 0) {
                lost++;
                run++;
            } else if (run > 0) {
                bursts++;
                burst_total += run;
                run = 0;
            }
        }
        /* stationary bad-state share p / (p + r) */
        assert_fraction_near(lost, n, 0.01 / (0.01 + 0.10), 0.01);
        assert_int_equal(link.counters.lost, lost);
        assert_true(bursts > 0);
        double mean_burst = (double)burst_total / (double)bursts;
        if (mean_burst < 10.0 - 1.5 || mean_burst > 10.0 + 1.5) {
            fail_msg("mean burst %.2f, expected 1/r = 10 +- 1.5", mean_burst);
        }
        assert_counters_add_up(&link.counters);
    }
}

static void test_fixed_delay(void **state)
{
    (void)state;
    impair_params p;
    impair_params_init(&p);
    set_ok(&p, "delay", "25ms");
    impair_link link = make_link(&p, SEED);
    for (uint64_t i = 0; i < 1000; i++) {
        uint64_t now = START + i / 2;
        impair_verdict v = decide_len(&link, now, 100);
        assert_int_equal(v.copies, 1);
        assert_int_equal(v.deliver_at[0], now + 25);
    }
}

/* Sends N_DGRAMS datagrams 1 ms apart through delay 25ms jitter 5ms and
 * checks the window; returns how many were delivered before the one sent
 * just before them. */
static uint64_t run_jitter(bool jitter_reorders)
{
    impair_params p;
    impair_params_init(&p);
    set_ok(&p, "delay", "25ms 5ms");
    p.jitter_reorders = jitter_reorders;
    impair_link link = make_link(&p, SEED);
    uint64_t backwards = 0, previous = 0;
    bool seen[11] = {false};
    for (uint64_t i = 0; i < N_DGRAMS; i++) {
        uint64_t now = START + i;
        impair_verdict v = decide_len(&link, now, 100);
        assert_int_equal(v.copies, 1);
        uint64_t at = v.deliver_at[0];
        assert_true(at >= now + 20 && at <= now + 30);
        seen[at - (now + 20)] = true;
        backwards += at < previous;
        previous = at;
    }
    for (size_t k = 0; k < 11; k++) {
        assert_true(seen[k]); /* the whole window is used */
    }
    return backwards;
}

static void test_jitter_keeps_order(void **state)
{
    (void)state;
    assert_int_equal(run_jitter(false), 0);
}

static void test_jitter_reorders(void **state)
{
    (void)state;
    assert_true(run_jitter(true) > 0);
}

static void test_reorder(void **state)
{
    (void)state;
    impair_params p;
    impair_params_init(&p);
    set_ok(&p, "delay", "25ms");
    set_ok(&p, "reorder", "20%");
    impair_link link = make_link(&p, SEED);
    uint64_t skipped = 0, overtakes = 0, previous = 0;
    for (uint64_t i = 0; i < N_DGRAMS; i++) {
        uint64_t now = START + i;
        impair_verdict v = decide_len(&link, now, 100);
        assert_int_equal(v.copies, 1);
        if (v.deliver_at[0] == now) {
            skipped++;
        } else {
            assert_int_equal(v.deliver_at[0], now + 25);
        }
        overtakes += v.deliver_at[0] < previous;
        previous = v.deliver_at[0];
    }
    assert_fraction_near(skipped, N_DGRAMS, 0.20, 0.015);
    assert_int_equal(link.counters.reordered, skipped);
    assert_true(overtakes > 0);
}

static void test_duplicate(void **state)
{
    (void)state;
    impair_params p;
    impair_params_init(&p);
    set_ok(&p, "duplicate", "10%");
    impair_link link = make_link(&p, SEED);
    uint64_t twice = 0;
    for (uint64_t i = 0; i < N_DGRAMS; i++) {
        uint64_t now = START + i;
        impair_verdict v = decide_len(&link, now, 100);
        assert_int_equal(v.deliver_at[0], now);
        if (v.copies == 2) {
            twice++;
            assert_true(v.deliver_at[1] == now || v.deliver_at[1] == now + 1);
        } else {
            assert_int_equal(v.copies, 1);
        }
    }
    assert_fraction_near(twice, N_DGRAMS, 0.10, 0.01);
    assert_int_equal(link.counters.duplicated, twice);
    assert_int_equal(link.counters.delivered, N_DGRAMS + twice);
    assert_counters_add_up(&link.counters);
}

static unsigned popcount8(uint8_t x)
{
    unsigned n = 0;
    for (; x != 0; x &= (uint8_t)(x - 1)) {
        n++;
    }
    return n;
}

static void test_corrupt_all(void **state)
{
    (void)state;
    impair_params p;
    impair_params_init(&p);
    set_ok(&p, "corrupt", "100%");
    impair_link link = make_link(&p, SEED);
    uint64_t rng = 3;
    uint8_t buf[300], copy[300];
    bool bit_seen[8] = {false};
    uint64_t first_byte = 0, last_byte = 0;
    for (uint64_t i = 0; i < 2000; i++) {
        size_t len = 1 + (size_t)(test_rand(&rng) % sizeof buf);
        fill(buf, len, &rng);
        memcpy(copy, buf, len);
        impair_verdict v = impair_decide(&link, START + i, buf, len);
        assert_int_equal(v.copies, 1);
        unsigned flipped = 0;
        for (size_t k = 0; k < len; k++) {
            uint8_t diff = (uint8_t)(buf[k] ^ copy[k]);
            flipped += popcount8(diff);
            for (unsigned b = 0; b < 8; b++) {
                bit_seen[b] = bit_seen[b] || ((diff >> b) & 1u) != 0;
            }
            first_byte += diff != 0 && k == 0;
            last_byte += diff != 0 && k == len - 1 && len > 1;
        }
        assert_int_equal(flipped, 1);
    }
    assert_int_equal(link.counters.corrupted, 2000);
    for (unsigned b = 0; b < 8; b++) {
        assert_true(bit_seen[b]);
    }
    assert_true(first_byte > 0 && last_byte > 0);
}

static void test_corrupt_none(void **state)
{
    (void)state;
    impair_params p;
    impair_params_init(&p);
    set_ok(&p, "corrupt", "0%");
    set_ok(&p, "loss", "10%"); /* other draws going on do not corrupt */
    impair_link link = make_link(&p, SEED);
    uint64_t rng = 4;
    uint8_t buf[300], copy[300];
    for (uint64_t i = 0; i < 2000; i++) {
        fill(buf, sizeof buf, &rng);
        memcpy(copy, buf, sizeof buf);
        (void)impair_decide(&link, START + i, buf, sizeof buf);
        assert_memory_equal(buf, copy, sizeof buf);
    }
    assert_int_equal(link.counters.corrupted, 0);
}

static void test_mtu(void **state)
{
    (void)state;
    impair_params p;
    impair_params_init(&p);
    set_ok(&p, "mtu", "576");
    impair_link link = make_link(&p, SEED);
    assert_int_equal(decide_len(&link, START, 577).copies, 0);
    assert_int_equal(decide_len(&link, START, 576).copies, 1);
    assert_int_equal(decide_len(&link, START, 0).copies, 1);
    assert_int_equal(decide_len(&link, START, DGRAM_SIZE).copies, 0);
    assert_int_equal(link.counters.mtu_dropped, 2);
    assert_int_equal(link.counters.delivered, 2);
    assert_counters_add_up(&link.counters);
}

static void test_blackout(void **state)
{
    (void)state;
    impair_params p;
    impair_params_init(&p);
    set_ok(&p, "blackout", "1000-3000");
    impair_link link = make_link(&p, SEED);
    assert_int_equal(decide_len(&link, START + 999, 100).copies, 1);
    assert_int_equal(decide_len(&link, START + 1000, 100).copies, 0);
    assert_int_equal(decide_len(&link, START + 2999, 100).copies, 0);
    assert_int_equal(decide_len(&link, START + 3000, 100).copies, 1);
    assert_int_equal(link.counters.blackout_dropped, 2);
    assert_counters_add_up(&link.counters);
}

static void test_blackout_two_windows(void **state)
{
    (void)state;
    impair_params p;
    impair_params_init(&p);
    set_ok(&p, "blackout", "1000-3000");
    set_ok(&p, "blackout", "5s-6s");
    assert_int_equal(p.blackout_count, 2);
    impair_link link = make_link(&p, SEED);
    static const struct {
        uint64_t at;
        int copies;
    } script[] = {{0, 1},    {999, 1},  {1000, 0}, {2000, 0}, {2999, 0}, {3000, 1},
                  {4999, 1}, {5000, 0}, {5500, 0}, {5999, 0}, {6000, 1}, {9000, 1}};
    for (size_t k = 0; k < sizeof script / sizeof script[0]; k++) {
        impair_verdict v = decide_len(&link, START + script[k].at, 100);
        if (v.copies != script[k].copies) {
            fail_msg("at start+%llu: %d copies, expected %d", (unsigned long long)script[k].at,
                     v.copies, script[k].copies);
        }
    }
    assert_int_equal(link.counters.blackout_dropped, 6);
}

static void test_rate_spacing(void **state)
{
    (void)state;
    impair_params p;
    impair_params_init(&p);
    set_ok(&p, "rate", "8000bit"); /* 1000 bytes/s: 100 bytes take 100 ms */
    impair_link link = make_link(&p, SEED);
    for (uint64_t k = 1; k <= 10; k++) {
        impair_verdict v = decide_len(&link, START, 100);
        assert_int_equal(v.copies, 1);
        assert_int_equal(v.deliver_at[0], START + 100 * k);
    }
    /* Once the queue has drained, a datagram takes just its own time. */
    impair_verdict v = decide_len(&link, START + 5000, 100);
    assert_int_equal(v.deliver_at[0], START + 5100);
    assert_int_equal(link.counters.rate_dropped, 0);
}

static void test_rate_backlog_drops(void **state)
{
    (void)state;
    impair_params p;
    impair_params_init(&p);
    set_ok(&p, "rate", "8000");
    impair_link link = make_link(&p, SEED);
    for (uint64_t k = 1; k <= 11; k++) {
        /* The 11th waits exactly 1 s for the serialiser: still accepted. */
        impair_verdict v = decide_len(&link, START, 100);
        assert_int_equal(v.copies, 1);
        assert_int_equal(v.deliver_at[0], START + 100 * k);
    }
    /* More than 1 s of data queued: newcomers are dropped... */
    assert_int_equal(decide_len(&link, START, 100).copies, 0);
    assert_int_equal(decide_len(&link, START + 99, 100).copies, 0);
    assert_int_equal(link.counters.rate_dropped, 2);
    /* ...until the queue has drained below 1 s again. */
    impair_verdict v = decide_len(&link, START + 100, 100);
    assert_int_equal(v.copies, 1);
    assert_int_equal(v.deliver_at[0], START + 1200);
    assert_counters_add_up(&link.counters);
}

/* ---- the parser ---- */

static void test_parse_accepts(void **state)
{
    (void)state;
    impair_params p;
    impair_params_init(&p);

    static const struct {
        const char *value;
        double expected;
    } losses[] = {{"30%", 0.30},  {"30", 0.30},      {"0.5%", 0.005},  {"random 2%", 0.02},
                  {"100%", 1.0},  {"0", 0.0},        {"  7%  ", 0.07}, {"12.25%", 0.1225},
                  {".5%", 0.005}, {"random 1", 0.01}};
    for (size_t k = 0; k < sizeof losses / sizeof losses[0]; k++) {
        set_ok(&p, "loss", losses[k].value);
        assert_true(p.loss == losses[k].expected);
        assert_false(p.gemodel);
    }

    set_ok(&p, "loss", "gemodel 1% 10%");
    assert_true(p.gemodel);
    assert_true(p.ge_p == 0.01 && p.ge_r == 0.10);
    assert_true(p.ge_loss_bad == 1.0 && p.ge_loss_good == 0.0);
    set_ok(&p, "loss", "gemodel 1% 10% 70% 0.1%");
    assert_true(p.ge_p == 0.01 && p.ge_r == 0.10);
    assert_true(p.ge_loss_bad == 0.70 && p.ge_loss_good == 0.001);
    set_ok(&p, "loss", "gemodel 2 20 70");
    assert_true(p.ge_p == 0.02 && p.ge_r == 0.20);
    assert_true(p.ge_loss_bad == 0.70 && p.ge_loss_good == 0.0);
    set_ok(&p, "loss", "5%"); /* plain loss replaces the model */
    assert_false(p.gemodel);
    assert_true(p.loss == 0.05 && p.ge_p == 0.0 && p.ge_r == 0.0);

    set_ok(&p, "delay", "25ms");
    assert_int_equal(p.delay_ms, 25);
    assert_int_equal(p.jitter_ms, 0);
    set_ok(&p, "delay", "25ms 5ms");
    assert_int_equal(p.delay_ms, 25);
    assert_int_equal(p.jitter_ms, 5);
    set_ok(&p, "delay", "40"); /* the delay alone leaves the jitter */
    assert_int_equal(p.delay_ms, 40);
    assert_int_equal(p.jitter_ms, 5);
    set_ok(&p, "delay", "2s 0");
    assert_int_equal(p.delay_ms, 2000);
    assert_int_equal(p.jitter_ms, 0);
    set_ok(&p, "delay", "1.5s");
    assert_int_equal(p.delay_ms, 1500);
    set_ok(&p, "jitter", "5ms");
    assert_int_equal(p.jitter_ms, 5);
    set_ok(&p, "jitter", "7");
    assert_int_equal(p.jitter_ms, 7);

    set_ok(&p, "reorder", "20%");
    assert_true(p.reorder == 0.20);
    set_ok(&p, "duplicate", "10%");
    assert_true(p.duplicate == 0.10);
    set_ok(&p, "corrupt", "1%");
    assert_true(p.corrupt == 0.01);

    static const struct {
        const char *value;
        uint64_t bps;
    } rates[] = {{"1mbit", 1000000}, {"500kbit", 500000},  {"64000bit", 64000},
                 {"64000", 64000},   {"1.5mbit", 1500000}, {"2gbit", 2000000000}};
    for (size_t k = 0; k < sizeof rates / sizeof rates[0]; k++) {
        set_ok(&p, "rate", rates[k].value);
        assert_int_equal(p.rate_bps, rates[k].bps);
    }

    set_ok(&p, "mtu", "576");
    assert_int_equal(p.mtu, 576);

    static const struct {
        const char *value;
        uint64_t start, end;
    } windows[] = {{"1000-3000", 1000, 3000},
                   {"1s-3s", 1000, 3000},
                   {"1-3s", 1000, 3000},
                   {"500ms-1s", 500, 1000}};
    for (size_t k = 0; k < sizeof windows / sizeof windows[0]; k++) {
        set_ok(&p, "blackout", windows[k].value);
        assert_int_equal(p.blackout_count, k + 1);
        assert_int_equal(p.blackouts[k].start_ms, windows[k].start);
        assert_int_equal(p.blackouts[k].end_ms, windows[k].end);
    }
}

static void test_parse_rejects(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        {"loss", "150%"},
        {"loss", "101"},
        {"loss", "100.5%"},
        {"loss", "-5%"},
        {"loss", ""},
        {"loss", "abc"},
        {"loss", "30%%"},
        {"loss", "30 %"},
        {"loss", "%"},
        {"loss", "12.%"},
        {"loss", "1.2.3"},
        {"loss", "1e5"},
        {"loss", "nan"},
        {"loss", "inf"},
        {"loss", "0x10"},
        {"loss", "30% 25%"},
        {"loss", "random"},
        {"loss", "gemodel"},
        {"loss", "gemodel 1%"},
        {"loss", "gemodel 1% 10% 70% 0.1% 5%"},
        {"loss", "gemodel 1% 200%"},
        {"loss", "gemodel 1% -10%"},
        {"loss", "state 1%"},
        {"loss", "0.0000000000000001%"},
        {"delay", ""},
        {"delay", "ms"},
        {"delay", "25xs"},
        {"delay", "-25ms"},
        {"delay", "25ms 5ms 25%"},
        {"delay", "25ms -5ms"},
        {"delay", "4294967296ms"},
        {"delay", "5000000s"},
        {"delay", "1.5ms"},
        {"jitter", "5 ms"},
        {"jitter", "-1"},
        {"jitter", "5us"},
        {"reorder", "120%"},
        {"reorder", "20% 50%"},
        {"duplicate", "x"},
        {"duplicate", "-1%"},
        {"corrupt", "1e5"},
        {"corrupt", "101%"},
        {"rate", "1mbps"},
        {"rate", "fast"},
        {"rate", "0"},
        {"rate", "0kbit"},
        {"rate", "-1mbit"},
        {"rate", "1.5bit"},
        {"rate", "kbit"},
        {"rate", "1 mbit"},
        {"mtu", "576.5"},
        {"mtu", "-1"},
        {"mtu", "0"},
        {"mtu", "576b"},
        {"mtu", ""},
        {"blackout", "3000-1000"},
        {"blackout", "1000-1000"},
        {"blackout", "1000"},
        {"blackout", "1000-"},
        {"blackout", "-1000"},
        {"blackout", "a-b"},
        {"blackout", "1000-3000xs"},
        {"blackout", "1xs-3000"},
        {"blackout", "1-2-3"},
        {"blackout", "1000 - 3000"},
        {"bogus", "1"},
        {"Loss", "1%"},
        {"", ""},
    };
    impair_params p, before;
    impair_params_init(&p);
    set_ok(&p, "loss", "3%");
    set_ok(&p, "delay", "10ms 2ms");
    set_ok(&p, "blackout", "1-2s");
    memcpy(&before, &p, sizeof p);
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char err[160];
        memset(err, 0, sizeof err);
        if (impair_params_set(&p, bad[k][0], bad[k][1], err, sizeof err) != -1) {
            fail_msg("'%s' '%s' was accepted", bad[k][0], bad[k][1]);
        }
        if (err[0] == '\0' || strchr(err, '\n') != NULL) {
            fail_msg("'%s' '%s': no one-line message", bad[k][0], bad[k][1]);
        }
        /* A rejected setting leaves the parameters as they were. */
        assert_memory_equal(&p, &before, sizeof p);
    }

    char err[160] = "";
    assert_int_equal(impair_params_set(&p, NULL, "1%", err, sizeof err), -1);
    assert_true(err[0] != '\0');
    err[0] = '\0';
    assert_int_equal(impair_params_set(&p, "loss", NULL, err, sizeof err), -1);
    assert_true(err[0] != '\0');
    /* No room for a message, or a tiny one: still refused, still safe. */
    assert_int_equal(impair_params_set(&p, "loss", "200%", NULL, 0), -1);
    char tiny[8];
    memset(tiny, 'x', sizeof tiny);
    assert_int_equal(impair_params_set(&p, "loss", "200%", tiny, sizeof tiny), -1);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
}

static void test_parse_too_many_blackouts(void **state)
{
    (void)state;
    impair_params p;
    impair_params_init(&p);
    static const char *const windows[] = {"0-1", "2-3", "4-5", "6-7"};
    for (size_t k = 0; k < IMPAIR_MAX_BLACKOUTS; k++) {
        set_ok(&p, "blackout", windows[k]);
    }
    char err[160] = "";
    assert_int_equal(impair_params_set(&p, "blackout", "8-9", err, sizeof err), -1);
    assert_true(strstr(err, "blackout") != NULL);
    assert_int_equal(p.blackout_count, IMPAIR_MAX_BLACKOUTS);
}

static void expect_description(const impair_params *p, const char *expected)
{
    char out[256];
    impair_params_describe(p, out, sizeof out);
    assert_string_equal(out, expected);
}

static void test_describe(void **state)
{
    (void)state;
    impair_params p;
    impair_params_init(&p);
    expect_description(&p, "none");

    set_ok(&p, "loss", "30%");
    set_ok(&p, "delay", "25ms 5ms");
    set_ok(&p, "rate", "1mbit");
    set_ok(&p, "mtu", "576");
    set_ok(&p, "blackout", "1000-3000");
    expect_description(&p, "loss 30% delay 25ms 5ms rate 1mbit mtu 576 blackout 1000-3000ms");

    impair_params_init(&p);
    set_ok(&p, "loss", "gemodel 1% 10%");
    expect_description(&p, "loss gemodel 1% 10%");
    set_ok(&p, "loss", "gemodel 1% 10% 70%");
    expect_description(&p, "loss gemodel 1% 10% 70%");
    set_ok(&p, "loss", "gemodel 1% 10% 100% 0.1%");
    expect_description(&p, "loss gemodel 1% 10% 100% 0.1%");

    impair_params_init(&p);
    set_ok(&p, "jitter", "5ms");
    set_ok(&p, "reorder", "20%");
    set_ok(&p, "duplicate", "10%");
    set_ok(&p, "corrupt", "0.01%");
    set_ok(&p, "rate", "64000");
    expect_description(&p, "jitter 5ms reorder 20% duplicate 10% corrupt 0.01% rate 64kbit");
    set_ok(&p, "rate", "1500bit");
    set_ok(&p, "loss", "33.333%");
    expect_description(&p, "loss 33.333% jitter 5ms reorder 20% duplicate 10% corrupt 0.01% "
                           "rate 1500bit");

    /* A buffer too small still holds a terminated prefix. */
    char small[12];
    impair_params_describe(&p, small, sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_memory_equal(small, "loss 33.333", sizeof small - 1);
}

static bool is_setting_name(const char *word)
{
    static const char *const names[] = {"loss",    "delay", "jitter", "reorder", "duplicate",
                                        "corrupt", "rate",  "mtu",    "blackout"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        if (strcmp(word, names[k]) == 0) {
            return true;
        }
    }
    return false;
}

/* Parses a whole description back: each setting name starts a setting and
 * the words up to the next name are its value. */
static void parse_description(const char *text, impair_params *p)
{
    impair_params_init(p);
    if (strcmp(text, "none") == 0) {
        return;
    }
    char copy[256];
    assert_true(strlen(text) < sizeof copy);
    strcpy(copy, text);
    char name[32] = "", value[128] = "";
    for (char *word = strtok(copy, " "); word != NULL; word = strtok(NULL, " ")) {
        if (is_setting_name(word)) {
            if (name[0] != '\0') {
                set_ok(p, name, value);
            }
            snprintf(name, sizeof name, "%s", word);
            value[0] = '\0';
        } else {
            size_t used = strlen(value);
            snprintf(value + used, sizeof value - used, "%s%s", used > 0 ? " " : "", word);
        }
    }
    assert_true(name[0] != '\0');
    set_ok(p, name, value);
}

static void assert_params_equal(const impair_params *a, const impair_params *b)
{
    assert_true(a->loss == b->loss);
    assert_int_equal(a->gemodel, b->gemodel);
    assert_true(a->ge_p == b->ge_p && a->ge_r == b->ge_r);
    assert_true(a->ge_loss_bad == b->ge_loss_bad && a->ge_loss_good == b->ge_loss_good);
    assert_int_equal(a->delay_ms, b->delay_ms);
    assert_int_equal(a->jitter_ms, b->jitter_ms);
    assert_int_equal(a->jitter_reorders, b->jitter_reorders);
    assert_true(a->reorder == b->reorder);
    assert_true(a->duplicate == b->duplicate);
    assert_true(a->corrupt == b->corrupt);
    assert_int_equal(a->rate_bps, b->rate_bps);
    assert_int_equal(a->mtu, b->mtu);
    assert_int_equal(a->blackout_count, b->blackout_count);
    for (size_t k = 0; k < a->blackout_count; k++) {
        assert_int_equal(a->blackouts[k].start_ms, b->blackouts[k].start_ms);
        assert_int_equal(a->blackouts[k].end_ms, b->blackouts[k].end_ms);
    }
}

static void test_describe_round_trip(void **state)
{
    (void)state;
    static const char *const settings[][2][2] = {
        {{"loss", "30%"}, {NULL, NULL}},
        {{"loss", "gemodel 1% 10% 70% 0.1%"}, {"delay", "25ms 5ms"}},
        {{"loss", "0.123456%"}, {"rate", "1500bit"}},
        {{"jitter", "3"}, {"corrupt", "99.99%"}},
        {{"reorder", "20%"}, {NULL, NULL}},
        {{"duplicate", "12.5"}, {"mtu", "1280"}},
        {{"blackout", "1s-3s"}, {"blackout", "10000-10001"}},
        {{"rate", "2.5mbit"}, {"loss", "gemodel 0.5% 25%"}},
    };
    for (size_t k = 0; k < sizeof settings / sizeof settings[0]; k++) {
        impair_params p;
        impair_params_init(&p);
        for (size_t j = 0; j < 2 && settings[k][j][0] != NULL; j++) {
            set_ok(&p, settings[k][j][0], settings[k][j][1]);
        }
        char text[256], again[256];
        impair_params_describe(&p, text, sizeof text);
        impair_params back;
        parse_description(text, &back);
        assert_params_equal(&p, &back);
        impair_params_describe(&back, again, sizeof again);
        assert_string_equal(text, again);
    }

    /* Everything at once, including four windows. */
    impair_params p = all_on(true);
    set_ok(&p, "blackout", "80000-90000");
    set_ok(&p, "blackout", "2-4s");
    char text[256];
    impair_params_describe(&p, text, sizeof text);
    impair_params back;
    parse_description(text, &back);
    back.jitter_reorders = p.jitter_reorders; /* has no text form */
    assert_params_equal(&p, &back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_perfect_link),
        cmocka_unit_test(test_same_seed_reproduces),
        cmocka_unit_test(test_different_seeds_differ),
        cmocka_unit_test(test_random_loss),
        cmocka_unit_test(test_gemodel_bursts),
        cmocka_unit_test(test_fixed_delay),
        cmocka_unit_test(test_jitter_keeps_order),
        cmocka_unit_test(test_jitter_reorders),
        cmocka_unit_test(test_reorder),
        cmocka_unit_test(test_duplicate),
        cmocka_unit_test(test_corrupt_all),
        cmocka_unit_test(test_corrupt_none),
        cmocka_unit_test(test_mtu),
        cmocka_unit_test(test_blackout),
        cmocka_unit_test(test_blackout_two_windows),
        cmocka_unit_test(test_rate_spacing),
        cmocka_unit_test(test_rate_backlog_drops),
        cmocka_unit_test(test_parse_accepts),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_parse_too_many_blackouts),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_describe_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
