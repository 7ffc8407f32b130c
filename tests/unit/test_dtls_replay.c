/*
 * Tests for the DTLS anti-replay window (dtls/replay.h, RFC 6347
 * §4.1.2.6).
 *
 * Table-driven, after WireGuard's counter self-test: a script of rows, each
 * a sequence number and whether dtls_replay_check must accept it, run in
 * order against one window; a row that is accepted is then marked with
 * dtls_replay_accept, as the record layer does once the record
 * authenticated. The same script runs for every window size, with its
 * sequence numbers written relative to the size. A randomized model check
 * then compares the window with a plain reference model (the set of
 * accepted sequence numbers and the highest one) over 100k operations.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dtls/record.h"
#include "dtls/replay.h"

#define SEQ_MAX   DTLS_SEQ_MAX
#define HUGE_JUMP (UINT64_C(1) << 47)
#define BASE      UINT64_C(5000) /* above every window size, so base - size >= 0 */

/* ---- the table ---- */

typedef enum row_kind {
    ROW_ACCEPT, /* check must say true; the row is then accepted */
    ROW_REJECT, /* check must say false */
    ROW_RESET,  /* re-initialise the window */
} row_kind;

typedef struct replay_row {
    uint64_t seq;
    row_kind kind;
    int line; /* where the row was written, for failure messages */
} replay_row;

#define MAX_ROWS 256

#define A(s)                      \
    rows[n++] = (replay_row)      \
    {                             \
        (s), ROW_ACCEPT, __LINE__ \
    }
#define R(s)                      \
    rows[n++] = (replay_row)      \
    {                             \
        (s), ROW_REJECT, __LINE__ \
    }
#define RESET()                \
    rows[n++] = (replay_row)   \
    {                          \
        0, ROW_RESET, __LINE__ \
    }

/* The script for a window of W bits. Each block starts from a fresh window
 * and states the property it checks. */
static size_t replay_script(uint64_t W, replay_row *rows)
{
    size_t n = 0;

    /* The first record may carry any sequence number, and what lies below
     * it inside the window has not been seen. */
    RESET();
    A(BASE);
    R(BASE);
    A(BASE - 1);
    A(BASE - W + 1);
    R(BASE - W);
    RESET();
    A(SEQ_MAX);
    R(SEQ_MAX);
    A(SEQ_MAX - 1);
    RESET();
    A(0);
    R(0);

    /* In order, duplicates, out of order within the window (once). */
    A(1);
    A(2);
    A(3);
    R(2);
    R(1);
    R(3);
    R(0);
    A(10);
    A(7);
    R(7);
    A(5);
    A(4);
    A(6);
    A(8);
    A(9);
    R(10);
    R(4);
    R(9);
    A(11);
    R(11);

    /* The trailing edge: top - W + 1 is inside, top - W is not. */
    RESET();
    A(BASE);
    R(BASE - W);
    R(BASE - W - 1);
    A(BASE - W + 1);
    R(BASE - W + 1);
    A(BASE - W + 2);
    /* Moving the top by one pushes the old edge out. */
    A(BASE + 1);
    R(BASE - W + 1);
    A(BASE - W + 3);
    R(BASE - W + 2);

    /* A jump of W - 1: the old top is now exactly at the trailing edge and
     * still remembered; everything below it has fallen out. */
    RESET();
    A(BASE);
    A(BASE - 2);
    A(BASE + W - 1);
    R(BASE);
    R(BASE - 1);
    R(BASE - 2);
    A(BASE + 1);
    A(BASE + W - 2);
    R(BASE + W - 1);

    /* A jump of W: the old top falls out; the window holds no stale bit. */
    RESET();
    A(BASE);
    A(BASE - 1);
    A(BASE - W + 1);
    A(BASE + W);
    R(BASE);
    R(BASE - 1);
    A(BASE + 1);
    A(BASE + W - 1);
    A(BASE + W / 2);
    R(BASE + W / 2);
    R(BASE + W);

    /* A jump of W + 1. */
    RESET();
    A(BASE);
    A(BASE - 1);
    A(BASE + W + 1);
    R(BASE);
    R(BASE + 1);
    A(BASE + 2);
    A(BASE + W);
    R(BASE + W + 1);

    /* Jumps by less than a word, by a word, by a word and a bit: bits must
     * move across word boundaries intact. */
    RESET();
    A(BASE);
    A(BASE - 1);
    A(BASE - 63);
    A(BASE + 1);
    R(BASE);
    R(BASE - 1);
    A(BASE - 2);
    A(BASE + 64);
    R(BASE + 1);
    R(BASE);
    A(BASE + 2);
    A(BASE + 129);
    R(BASE + 64);
    R(BASE + 2);
    R(BASE + 1);
    R(BASE - 63);
    A(BASE + 128);
    A(BASE + 66);
    R(BASE + 66);

    /* A huge jump (2^47) clears the window. */
    RESET();
    A(BASE);
    A(BASE + 1);
    A(BASE + HUGE_JUMP);
    R(BASE);
    R(BASE + 1);
    R(BASE + HUGE_JUMP);
    A(BASE + HUGE_JUMP - 1);
    A(BASE + HUGE_JUMP - W + 1);
    R(BASE + HUGE_JUMP - W);

    /* Sequence number 0 after a jump: inside the window until the top
     * passes W - 1, then too old. */
    RESET();
    A(1);
    A(W - 1);
    A(0);
    R(0);
    RESET();
    A(1);
    A(W - 1);
    A(W);
    R(0);
    RESET();
    A(5);
    A(HUGE_JUMP);
    R(0);

    /* The 48-bit maximum. */
    RESET();
    A(SEQ_MAX - W);
    A(SEQ_MAX);
    R(SEQ_MAX);
    R(SEQ_MAX - W);
    A(SEQ_MAX - 1);
    R(SEQ_MAX - 1);
    A(SEQ_MAX - W + 1);
    R(SEQ_MAX - W + 1);
    R(0);
    R(BASE);

    assert_true(n <= MAX_ROWS);
    return n;
}

#undef A
#undef R
#undef RESET

static void run_script(unsigned init_size, unsigned effective_size)
{
    replay_row rows[MAX_ROWS];
    size_t count = replay_script(effective_size, rows);
    dtls_replay w;
    dtls_replay_init(&w, init_size);
    assert_int_equal(w.size, effective_size);

    for (size_t i = 0; i < count; i++) {
        const replay_row *row = &rows[i];
        if (row->kind == ROW_RESET) {
            dtls_replay_init(&w, init_size);
            continue;
        }
        bool want = row->kind == ROW_ACCEPT;
        bool got = dtls_replay_check(&w, row->seq);
        if (got != want)
            fail_msg("window %u (init %u), row at line %d: seq %llu: check gave %d, expected %d",
                     effective_size, init_size, row->line, (unsigned long long)row->seq, got, want);
        if (got)
            dtls_replay_accept(&w, row->seq);
    }
}

static void test_replay_table_64(void **state)
{
    (void)state;
    run_script(64, 64);
}

static void test_replay_table_128(void **state)
{
    (void)state;
    run_script(128, 128);
}

static void test_replay_table_1000_rounds_to_1024(void **state)
{
    (void)state;
    run_script(1000, 1024);
}

static void test_replay_table_10_clamps_to_64(void **state)
{
    (void)state;
    run_script(10, 64);
}

static void test_replay_table_5000_clamps_to_1024(void **state)
{
    (void)state;
    run_script(5000, 1024);
}

static void test_replay_init_sizes(void **state)
{
    (void)state;
    static const struct {
        unsigned asked, got;
    } sizes[] = {
        {0, 64},      {1, 64},      {63, 64},     {64, 64},           {65, 128},
        {100, 128},   {128, 128},   {129, 192},   {1000, 1024},       {1023, 1024},
        {1024, 1024}, {1025, 1024}, {5000, 1024}, {UINT32_MAX, 1024},
    };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        dtls_replay w;
        memset(&w, 0xa5, sizeof(w));
        dtls_replay_init(&w, sizes[i].asked);
        assert_int_equal(w.size, sizes[i].got);
        assert_false(w.started);
        for (size_t j = 0; j < DTLS_REPLAY_MAX_BITS / 64; j++)
            assert_true(w.bits[j] == 0);
    }
}

/* check only looks: nothing is marked until accept (a forged record that
 * fails authentication must not move the window). */
static void test_replay_check_does_not_mark(void **state)
{
    (void)state;
    dtls_replay w;
    dtls_replay_init(&w, DTLS_REPLAY_DEFAULT_BITS);
    assert_true(dtls_replay_check(&w, 7));
    assert_true(dtls_replay_check(&w, 7));
    assert_false(w.started);
    dtls_replay_accept(&w, 7);
    assert_false(dtls_replay_check(&w, 7));
    assert_true(dtls_replay_check(&w, 1000));
    assert_true(dtls_replay_check(&w, 1000));
    /* The window did not move: 7 is still remembered, 6 still fresh. */
    assert_false(dtls_replay_check(&w, 7));
    assert_true(dtls_replay_check(&w, 6));
}

/* ---- randomized model check ---- */

#define MODEL_OPS       100000
#define MODEL_SEED      UINT64_C(0x5eed0f9e7ae1c0de)
#define MODEL_SET_SLOTS (1u << 18) /* > 2 * MODEL_OPS: the set never fills */
#define MODEL_EMPTY     UINT64_MAX /* no sequence number is this large */

/* The reference model: the set of every accepted sequence number and the
 * highest. A seq is fresh when it is new and above top - size. */
typedef struct replay_model {
    uint64_t *slots;
    size_t count;
    bool started;
    uint64_t top;
    uint64_t size;
} replay_model;

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void model_reset(replay_model *m, uint64_t size)
{
    for (size_t i = 0; i < MODEL_SET_SLOTS; i++)
        m->slots[i] = MODEL_EMPTY;
    m->count = 0;
    m->started = false;
    m->top = 0;
    m->size = size;
}

static size_t model_slot(const replay_model *m, uint64_t seq)
{
    uint64_t h = seq;
    size_t i = (size_t)(splitmix64(&h) & (MODEL_SET_SLOTS - 1));
    while (m->slots[i] != MODEL_EMPTY && m->slots[i] != seq)
        i = (i + 1) & (MODEL_SET_SLOTS - 1);
    return i;
}

static bool model_seen(const replay_model *m, uint64_t seq)
{
    return m->slots[model_slot(m, seq)] == seq;
}

static bool model_check(const replay_model *m, uint64_t seq)
{
    if (!m->started || seq > m->top)
        return true;
    return m->top - seq < m->size && !model_seen(m, seq);
}

static void model_accept(replay_model *m, uint64_t seq)
{
    size_t i = model_slot(m, seq);
    if (m->slots[i] != seq) {
        assert_true(m->count < MODEL_SET_SLOTS / 2);
        m->slots[i] = seq;
        m->count++;
    }
    if (!m->started || seq > m->top)
        m->top = seq;
    m->started = true;
}

/* The next sequence number to try: mostly near the top (ahead, behind,
 * around the trailing edge), sometimes a jump of about the window size, a
 * large jump or anything at all. */
static uint64_t model_next_seq(const replay_model *m, uint64_t *rng)
{
    uint64_t r = splitmix64(rng), W = m->size, top = m->top, seq;
    unsigned pick = (unsigned)(r % 1000);
    r = splitmix64(rng);
    if (pick < 350) {
        seq = top + 1 + r % 4;
    } else if (pick < 750) {
        uint64_t back = r % (W + 8);
        seq = back > top ? 0 : top - back;
    } else if (pick < 850) {
        uint64_t back = W - 2 + r % 4; /* top - W - 1 .. top - W + 2 */
        seq = back > top ? r % 4 : top - back;
    } else if (pick < 950) {
        static const int64_t near[] = {-1, 0, 1};
        seq = top + W + (uint64_t)near[r % 3];
    } else if (pick < 990) {
        seq = top + r % (4 * W);
    } else if (pick < 999) {
        seq = top + (r % (UINT64_C(1) << 32));
    } else {
        seq = r & SEQ_MAX;
    }
    return seq > SEQ_MAX ? SEQ_MAX : seq;
}

/* Every sequence number around the window must get the model's answer. */
static void model_compare_window(const replay_model *m, const dtls_replay *w, size_t op)
{
    uint64_t lo = m->top > m->size + 2 ? m->top - m->size - 2 : 0;
    for (uint64_t s = lo; s <= m->top + 2 && s <= SEQ_MAX; s++) {
        if (dtls_replay_check(w, s) != model_check(m, s))
            fail_msg("window %llu, op %zu: full scan at seq %llu (top %llu): window %d, model %d",
                     (unsigned long long)m->size, op, (unsigned long long)s,
                     (unsigned long long)m->top, dtls_replay_check(w, s), model_check(m, s));
    }
}

static void run_model(unsigned size)
{
    replay_model m;
    m.slots = malloc(MODEL_SET_SLOTS * sizeof(*m.slots));
    assert_non_null(m.slots);
    dtls_replay w;
    dtls_replay_init(&w, size);
    model_reset(&m, w.size);
    uint64_t rng = MODEL_SEED ^ size;

    for (size_t op = 0; op < MODEL_OPS; op++) {
        /* A new epoch now and then, and whenever the top nears the end of
         * the sequence space, so that the run keeps exercising the window. */
        if (m.top > (UINT64_C(1) << 47) || splitmix64(&rng) % 20000 == 0) {
            dtls_replay_init(&w, size);
            model_reset(&m, w.size);
        }
        uint64_t seq = model_next_seq(&m, &rng);
        bool want = model_check(&m, seq), got = dtls_replay_check(&w, seq);
        if (got != want)
            fail_msg("window %u, op %zu: seq %llu (top %llu): window %d, model %d", w.size, op,
                     (unsigned long long)seq, (unsigned long long)m.top, got, want);
        /* Mostly accept only what check allowed, as the record layer does;
         * sometimes accept regardless, which must be harmless. */
        if (got || splitmix64(&rng) % 10 == 0) {
            dtls_replay_accept(&w, seq);
            model_accept(&m, seq);
        }
        if (op % 997 == 0)
            model_compare_window(&m, &w, op);
    }
    model_compare_window(&m, &w, MODEL_OPS);
    free(m.slots);
}

static void test_replay_model_64(void **state)
{
    (void)state;
    run_model(64);
}

static void test_replay_model_128(void **state)
{
    (void)state;
    run_model(128);
}

static void test_replay_model_192(void **state)
{
    (void)state;
    run_model(192);
}

static void test_replay_model_1024(void **state)
{
    (void)state;
    run_model(1024);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_table_64),
        cmocka_unit_test(test_replay_table_128),
        cmocka_unit_test(test_replay_table_1000_rounds_to_1024),
        cmocka_unit_test(test_replay_table_10_clamps_to_64),
        cmocka_unit_test(test_replay_table_5000_clamps_to_1024),
        cmocka_unit_test(test_replay_init_sizes),
        cmocka_unit_test(test_replay_check_does_not_mark),
        cmocka_unit_test(test_replay_model_64),
        cmocka_unit_test(test_replay_model_128),
        cmocka_unit_test(test_replay_model_192),
        cmocka_unit_test(test_replay_model_1024),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
