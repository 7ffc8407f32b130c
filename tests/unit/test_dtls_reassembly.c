/*
 * Tests for DTLS handshake fragments and their reassembly
 * (dtls/reassembly.h, RFC 6347 §4.2.2-4.2.3): the fragment codec and its
 * errors, messages split every way (in order, reversed, shuffled,
 * duplicated, overlapping), conflicting copies, the message_seq window, the
 * memory limits, allocation failure and reset.
 *
 * Every test allocates through a counting platform and ends by checking
 * that everything it allocated was freed. After every fragment the split
 * tests check the result (BUFFERED when the fragment covered a byte not
 * covered before, DUPLICATE otherwise) and that peek reports the message
 * exactly when every byte has arrived.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtls/reassembly.h"

#define MSG_TYPE     11 /* certificate */
#define BIG_LEN      3000
#define NO_LIMIT     ((size_t)1 << 30)
#define SHUFFLE_SEED 200

/* ---- counting allocator ---- */

typedef struct alloc_counter {
    size_t live;  /* allocations not yet freed */
    size_t total; /* successful allocations */
    long fail_in; /* this many allocations succeed, then one fails; -1: none */
    bool fail_all;
} alloc_counter;

static void *counting_alloc(void *ref, size_t size)
{
    alloc_counter *c = ref;
    if (c->fail_all)
        return NULL;
    if (c->fail_in >= 0 && c->fail_in-- == 0)
        return NULL;
    void *p = petrel_default_alloc(NULL, size);
    if (p) {
        c->live++;
        c->total++;
    }
    return p;
}

static void counting_free(void *ref, void *ptr)
{
    alloc_counter *c = ref;
    if (ptr) {
        assert_true(c->live > 0);
        c->live--;
    }
    petrel_default_free(NULL, ptr);
}

/* One test's allocator, platform and reassembler. */
typedef struct env {
    alloc_counter counter;
    petrel_platform platform;
    dtls_reassembler reasm;
} env;

static void env_init(env *e, size_t max_message_len, size_t max_buffered)
{
    memset(e, 0, sizeof(*e));
    e->counter.fail_in = -1;
    e->platform = petrel_platform_default();
    e->platform.alloc = counting_alloc;
    e->platform.free = counting_free;
    e->platform.alloc_ref = &e->counter;
    dtls_reassembler_init(&e->reasm, &e->platform, max_message_len, max_buffered);
}

/* Frees the reassembler and requires that nothing is left allocated. */
static void env_finish(env *e)
{
    dtls_reassembler_free(&e->reasm);
    assert_int_equal(e->reasm.buffered, 0);
    assert_int_equal(e->counter.live, 0);
}

/* ---- messages and fragments ---- */

static uint8_t body_byte(size_t i, unsigned seed)
{
    return (uint8_t)(0x80u | ((i * 0x3Bu + seed * 0x17u + 5u) & 0x7Fu));
}

static uint8_t *make_body(size_t len, unsigned seed)
{
    uint8_t *b = malloc(len ? len : 1);
    assert_non_null(b);
    for (size_t i = 0; i < len; i++)
        b[i] = body_byte(i, seed);
    return b;
}

/* The unfragmented form: header with offset 0 and fragment_length = length,
 * written out by hand (not through the code under test). */
static uint8_t *make_expected(uint8_t type, uint16_t seq, const uint8_t *body, size_t len)
{
    uint8_t *m = malloc(DTLS_HS_HEADER_LEN + len);
    assert_non_null(m);
    const uint8_t header[DTLS_HS_HEADER_LEN] = {type,
                                                (uint8_t)(len >> 16),
                                                (uint8_t)(len >> 8),
                                                (uint8_t)len,
                                                (uint8_t)(seq >> 8),
                                                (uint8_t)seq,
                                                0,
                                                0,
                                                0,
                                                (uint8_t)(len >> 16),
                                                (uint8_t)(len >> 8),
                                                (uint8_t)len};
    memcpy(m, header, sizeof(header));
    if (len)
        memcpy(m + DTLS_HS_HEADER_LEN, body, len);
    return m;
}

static dtls_hs_fragment frag_of(uint8_t type, uint16_t seq, const uint8_t *body, uint32_t len,
                                uint32_t off, uint32_t flen)
{
    dtls_hs_fragment f = {type, len, seq, off, flen, body + off};
    return f;
}

static int add(dtls_reassembler *r, uint8_t type, uint16_t seq, const uint8_t *body, uint32_t len,
               uint32_t off, uint32_t flen)
{
    dtls_hs_fragment f = frag_of(type, seq, body, len, off, flen);
    return dtls_reassembler_add(r, &f);
}

static void expect_complete(const dtls_reassembler *r, const uint8_t *expected, size_t len)
{
    const uint8_t *msg = NULL;
    size_t msg_len = 0;
    assert_true(dtls_reassembler_peek(r, &msg, &msg_len));
    assert_int_equal(msg_len, DTLS_HS_HEADER_LEN + len);
    assert_memory_equal(msg, expected, msg_len);
}

static void expect_incomplete(const dtls_reassembler *r)
{
    const uint8_t *msg = NULL;
    size_t msg_len = 0;
    assert_false(dtls_reassembler_peek(r, &msg, &msg_len));
}

static size_t held_total(const dtls_reassembler *r)
{
    size_t total = 0;
    for (size_t i = 0; i < DTLS_REASSEMBLY_SLOTS; i++)
        total += r->slots[i].in_use ? r->slots[i].bytes_held : 0;
    return total;
}

typedef struct range {
    uint32_t off, len;
} range;

/* Cuts [0, total) into pieces of `size` (the last may be shorter). */
static size_t split(uint32_t total, uint32_t size, range *out, size_t cap)
{
    size_t n = 0;
    for (uint32_t off = 0; off < total; off += size) {
        assert_true(n < cap);
        out[n].off = off;
        out[n].len = total - off < size ? total - off : size;
        n++;
    }
    return n;
}

static uint32_t prng_next(uint32_t *state)
{
    /* xorshift32: a fixed, portable sequence per seed. */
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

static void shuffle(range *ranges, size_t n, uint32_t seed)
{
    uint32_t state = seed * 2654435761u + 1u;
    for (size_t i = n; i > 1; i--) {
        size_t j = prng_next(&state) % i;
        range t = ranges[i - 1];
        ranges[i - 1] = ranges[j];
        ranges[j] = t;
    }
}

/*
 * Delivers the ranges of a BIG_LEN-byte message with seq 0 to a fresh
 * reassembler, checking every result and peek after every fragment, and
 * that the final message equals the expected unfragmented form.
 */
static void deliver_and_check(const range *ranges, size_t n)
{
    env e;
    env_init(&e, NO_LIMIT, NO_LIMIT);
    uint8_t *body = make_body(BIG_LEN, 1);
    uint8_t *expected = make_expected(MSG_TYPE, 0, body, BIG_LEN);
    bool covered[BIG_LEN] = {false};
    size_t covered_count = 0;

    for (size_t i = 0; i < n; i++) {
        bool adds_new = false;
        for (uint32_t b = ranges[i].off; b < ranges[i].off + ranges[i].len; b++) {
            if (!covered[b]) {
                covered[b] = true;
                covered_count++;
                adds_new = true;
            }
        }
        int rc = add(&e.reasm, MSG_TYPE, 0, body, BIG_LEN, ranges[i].off, ranges[i].len);
        assert_int_equal(rc, adds_new ? DTLS_REASM_BUFFERED : DTLS_REASM_DUPLICATE);
        assert_int_equal(held_total(&e.reasm), covered_count);
        if (covered_count == BIG_LEN)
            expect_complete(&e.reasm, expected, BIG_LEN);
        else
            expect_incomplete(&e.reasm);
    }
    assert_int_equal(covered_count, BIG_LEN);
    dtls_reassembler_advance(&e.reasm);
    assert_int_equal(e.reasm.buffered, 0);
    assert_int_equal(e.counter.live, 0);
    expect_incomplete(&e.reasm);

    free(body);
    free(expected);
    env_finish(&e);
}

static const uint32_t split_sizes[] = {1, 7, 100, 1000};

/* ---- fragment codec ---- */

static void test_fragment_round_trip(void **state)
{
    (void)state;
    uint8_t *body = make_body(300, 2);
    dtls_hs_fragment frags[2] = {
        {MSG_TYPE, 300, 0x1234, 0, 120, body},
        {MSG_TYPE, 300, 0x1234, 120, 180, body + 120},
    };
    uint8_t record[2 * DTLS_HS_HEADER_LEN + 300];
    cursor_writer w = cursor_writer_init(record, sizeof(record));
    assert_int_equal(dtls_hs_fragment_write(&w, &frags[0]), 0);
    assert_int_equal(dtls_hs_fragment_write(&w, &frags[1]), 0);
    assert_int_equal(w.len, sizeof(record));
    const uint8_t header0[DTLS_HS_HEADER_LEN] = {MSG_TYPE, 0, 0x01, 0x2C, 0x12, 0x34,
                                                 0,        0, 0,    0,    0,    120};
    assert_memory_equal(record, header0, sizeof(header0));

    /* A full writer refuses and stays as it was. */
    cursor_writer full = cursor_writer_init(record, DTLS_HS_HEADER_LEN + 119);
    assert_int_equal(dtls_hs_fragment_write(&full, &frags[0]), PETREL_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(full.len, 0);
    /* A range outside the message is a caller bug. */
    dtls_hs_fragment bad = {MSG_TYPE, 100, 0, 50, 51, body};
    cursor_writer w2 = cursor_writer_init(record, sizeof(record));
    assert_int_equal(dtls_hs_fragment_write(&w2, &bad), PETREL_ERR_ARG);
    assert_int_equal(w2.len, 0);

    /* Read back until the record is empty. */
    cursor_reader r = cursor_reader_init(record, sizeof(record));
    for (size_t i = 0; i < 2; i++) {
        dtls_hs_fragment f;
        assert_int_equal(dtls_hs_fragment_read(&r, &f), 0);
        assert_int_equal(f.msg_type, MSG_TYPE);
        assert_int_equal(f.length, 300);
        assert_int_equal(f.message_seq, 0x1234);
        assert_int_equal(f.fragment_offset, frags[i].fragment_offset);
        assert_int_equal(f.fragment_length, frags[i].fragment_length);
        assert_memory_equal(f.body, frags[i].body, f.fragment_length);
    }
    assert_int_equal(cursor_reader_remaining(&r), 0);
    free(body);
}

/* Reads from a heap copy of exactly len bytes (so ASan sees an overread)
 * and checks that the read fails with want, leaving r and out unchanged. */
static void expect_read_error(const uint8_t *data, size_t len, int want)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, data, len);
    cursor_reader r = cursor_reader_init(copy, len);
    dtls_hs_fragment f;
    memset(&f, 0xA5, sizeof(f));
    dtls_hs_fragment before = f;
    assert_int_equal(dtls_hs_fragment_read(&r, &f), want);
    assert_ptr_equal(r.data, copy);
    assert_int_equal(r.len, len);
    assert_int_equal(r.pos, 0);
    assert_memory_equal(&f, &before, sizeof(f));
    free(copy);
}

static void test_fragment_read_errors(void **state)
{
    (void)state;
    /* length 5, offset 1, fragment_length 3, three body bytes. */
    const uint8_t good[] = {1, 0, 0, 5, 0, 7, 0, 0, 1, 0, 0, 3, 0xAA, 0xBB, 0xCC};
    for (size_t n = 0; n < DTLS_HS_HEADER_LEN; n++)
        expect_read_error(good, n, PETREL_ERR_TRUNCATED);
    for (size_t n = DTLS_HS_HEADER_LEN; n < sizeof(good); n++)
        expect_read_error(good, n, PETREL_ERR_TRUNCATED);

    /* offset + fragment_length > length, with the body present. */
    const uint8_t past_end[] = {1, 0, 0, 5, 0, 7, 0, 0, 3, 0, 0, 3, 0xAA, 0xBB, 0xCC};
    expect_read_error(past_end, sizeof(past_end), PETREL_ERR_LENGTH);
    const uint8_t offset_past[] = {1, 0, 0, 5, 0, 7, 0, 0, 6, 0, 0, 0};
    expect_read_error(offset_past, sizeof(offset_past), PETREL_ERR_LENGTH);
    /* Largest fields: the sum must not wrap. */
    const uint8_t huge[] = {1, 0xFF, 0xFF, 0xFF, 0, 7, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    expect_read_error(huge, sizeof(huge), PETREL_ERR_LENGTH);

    /* The good fragment itself reads, and a trailing byte is left unread. */
    uint8_t with_tail[sizeof(good) + 1];
    memcpy(with_tail, good, sizeof(good));
    with_tail[sizeof(good)] = 0x42;
    cursor_reader r = cursor_reader_init(with_tail, sizeof(with_tail));
    dtls_hs_fragment f;
    assert_int_equal(dtls_hs_fragment_read(&r, &f), 0);
    assert_int_equal(f.fragment_offset, 1);
    assert_int_equal(f.fragment_length, 3);
    assert_int_equal(cursor_reader_remaining(&r), 1);
}

/* ---- reassembly ---- */

static void test_single_fragment_message(void **state)
{
    (void)state;
    env e;
    env_init(&e, NO_LIMIT, NO_LIMIT);
    uint8_t *body = make_body(200, 3);
    uint8_t *expected = make_expected(2, 0, body, 200);
    expect_incomplete(&e.reasm);
    assert_int_equal(add(&e.reasm, 2, 0, body, 200, 0, 200), DTLS_REASM_BUFFERED);
    expect_complete(&e.reasm, expected, 200);
    assert_int_equal(e.reasm.buffered, DTLS_HS_HEADER_LEN + 200 + 25);
    assert_int_equal(add(&e.reasm, 2, 0, body, 200, 0, 200), DTLS_REASM_DUPLICATE);
    dtls_reassembler_advance(&e.reasm);
    assert_int_equal(e.reasm.next_seq, 1);
    expect_incomplete(&e.reasm);
    free(body);
    free(expected);
    env_finish(&e);
}

static void test_split_in_order(void **state)
{
    (void)state;
    range ranges[BIG_LEN];
    for (size_t s = 0; s < PETREL_ARRAY_LEN(split_sizes); s++) {
        size_t n = split(BIG_LEN, split_sizes[s], ranges, BIG_LEN);
        deliver_and_check(ranges, n);
    }
}

static void test_split_reversed(void **state)
{
    (void)state;
    range ranges[BIG_LEN];
    for (size_t s = 0; s < PETREL_ARRAY_LEN(split_sizes); s++) {
        size_t n = split(BIG_LEN, split_sizes[s], ranges, BIG_LEN);
        for (size_t i = 0; i < n / 2; i++) {
            range t = ranges[i];
            ranges[i] = ranges[n - 1 - i];
            ranges[n - 1 - i] = t;
        }
        deliver_and_check(ranges, n);
    }
}

static void test_split_shuffled(void **state)
{
    (void)state;
    range ranges[BIG_LEN];
    for (size_t s = 0; s < PETREL_ARRAY_LEN(split_sizes); s++) {
        for (uint32_t seed = 0; seed < SHUFFLE_SEED; seed++) {
            size_t n = split(BIG_LEN, split_sizes[s], ranges, BIG_LEN);
            shuffle(ranges, n, seed);
            deliver_and_check(ranges, n);
        }
    }
}

static void test_split_duplicated(void **state)
{
    (void)state;
    range ranges[2 * BIG_LEN];
    for (size_t s = 0; s < PETREL_ARRAY_LEN(split_sizes); s++) {
        size_t n = split(BIG_LEN, split_sizes[s], ranges, BIG_LEN);
        /* Each fragment twice in a row, then the whole set again shuffled. */
        range doubled[2 * BIG_LEN];
        for (size_t i = 0; i < n; i++) {
            doubled[2 * i] = ranges[i];
            doubled[2 * i + 1] = ranges[i];
        }
        deliver_and_check(doubled, 2 * n);
        memcpy(&ranges[n], ranges, n * sizeof(range));
        shuffle(ranges, 2 * n, (uint32_t)s + 7);
        deliver_and_check(ranges, 2 * n);
    }
}

static void test_overlapping_fragments(void **state)
{
    (void)state;
    const range three[] = {{0, 600}, {500, 1000}, {1400, 1600}};
    const size_t orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (size_t o = 0; o < 6; o++) {
        range ranges[3];
        for (size_t i = 0; i < 3; i++)
            ranges[i] = three[orders[o][i]];
        deliver_and_check(ranges, 3);
    }
    /* A fragment spanning several held ones adds new bytes only in the gap;
     * one lying wholly inside held bytes adds none. */
    const range gaps[] = {{0, 100}, {200, 100}, {50, 200}, {60, 230}, {0, 2999}, {2999, 1}};
    deliver_and_check(gaps, PETREL_ARRAY_LEN(gaps));
    const range whole_then_parts[] = {{0, 3000}, {1, 2998}, {1500, 1}, {0, 1}};
    deliver_and_check(whole_then_parts, PETREL_ARRAY_LEN(whole_then_parts));
}

static void test_large_message_byte_fragments(void **state)
{
    (void)state;
    /* 16 KiB in 1-byte fragments, back to front: the per-fragment cost must
     * not depend on the message size. */
    const uint32_t len = 16384;
    env e;
    env_init(&e, len, NO_LIMIT);
    uint8_t *body = make_body(len, 4);
    uint8_t *expected = make_expected(MSG_TYPE, 0, body, len);
    for (uint32_t i = len; i-- > 0;) {
        assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, len, i, 1), DTLS_REASM_BUFFERED);
        if (i)
            expect_incomplete(&e.reasm);
    }
    expect_complete(&e.reasm, expected, len);
    free(body);
    free(expected);
    env_finish(&e);
}

static void test_zero_length_message(void **state)
{
    (void)state;
    env e;
    env_init(&e, NO_LIMIT, NO_LIMIT);
    const uint8_t *none = NULL;
    dtls_hs_fragment f = {14 /* server_hello_done */, 0, 0, 0, 0, none};
    assert_int_equal(dtls_reassembler_add(&e.reasm, &f), DTLS_REASM_BUFFERED);
    const uint8_t expected[DTLS_HS_HEADER_LEN] = {14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    expect_complete(&e.reasm, expected, 0);
    assert_int_equal(dtls_reassembler_add(&e.reasm, &f), DTLS_REASM_DUPLICATE);
    expect_complete(&e.reasm, expected, 0);
    dtls_reassembler_advance(&e.reasm);
    assert_int_equal(e.counter.live, 0);
    env_finish(&e);
}

static void test_conflicting_overlap(void **state)
{
    (void)state;
    env e;
    env_init(&e, NO_LIMIT, NO_LIMIT);
    uint8_t *body = make_body(BIG_LEN, 5);
    uint8_t *expected = make_expected(MSG_TYPE, 0, body, BIG_LEN);
    uint8_t *forged = make_body(BIG_LEN, 5);
    forged[550] ^= 0x01; /* inside [500, 600), held after the first fragment */

    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, BIG_LEN, 0, 600), DTLS_REASM_BUFFERED);
    const dtls_reassembly_slot *s = &e.reasm.slots[0];
    assert_true(s->in_use);
    uint8_t held[DTLS_HS_HEADER_LEN + BIG_LEN];
    uint8_t bitmap[(BIG_LEN + 7) / 8];
    memcpy(held, s->message, sizeof(held));
    memcpy(bitmap, s->received, sizeof(bitmap));

    /* [500, 1500) differs at 550: nothing of it is stored, not even the new
     * bytes in [600, 1500). */
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, forged, BIG_LEN, 500, 1000), DTLS_REASM_CONFLICT);
    assert_int_equal(s->bytes_held, 600);
    assert_memory_equal(s->received, bitmap, sizeof(bitmap));
    assert_memory_equal(s->message, held, DTLS_HS_HEADER_LEN + 600);
    expect_incomplete(&e.reasm);

    /* A conflict at the last byte of a fragment is caught too. */
    forged[550] = body[550];
    forged[599] ^= 0x80;
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, forged, BIG_LEN, 599, 2401), DTLS_REASM_CONFLICT);
    assert_int_equal(s->bytes_held, 600);

    /* The genuine rest completes the message with the first copy's bytes. */
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, BIG_LEN, 500, 1000), DTLS_REASM_BUFFERED);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, BIG_LEN, 1400, 1600), DTLS_REASM_BUFFERED);
    expect_complete(&e.reasm, expected, BIG_LEN);
    /* Once complete, a different copy is still a conflict and changes nothing. */
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, forged, BIG_LEN, 0, BIG_LEN), DTLS_REASM_CONFLICT);
    expect_complete(&e.reasm, expected, BIG_LEN);

    free(body);
    free(forged);
    free(expected);
    env_finish(&e);
}

static void test_type_length_mismatch(void **state)
{
    (void)state;
    env e;
    env_init(&e, NO_LIMIT, NO_LIMIT);
    uint8_t *body = make_body(400, 6);
    uint8_t *expected = make_expected(MSG_TYPE, 0, body, 400);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, 400, 0, 100), DTLS_REASM_BUFFERED);
    size_t buffered = e.reasm.buffered;
    /* Same seq, another type; same seq, another length (bytes that would
     * otherwise be new). */
    assert_int_equal(add(&e.reasm, MSG_TYPE + 1, 0, body, 400, 100, 100), DTLS_REASM_CONFLICT);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, 399, 100, 100), DTLS_REASM_CONFLICT);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, 401, 100, 100), DTLS_REASM_CONFLICT);
    /* An empty fragment with the wrong length is a conflict as well. */
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, 10, 0, 0), DTLS_REASM_CONFLICT);
    assert_int_equal(e.reasm.slots[0].bytes_held, 100);
    assert_int_equal(e.reasm.buffered, buffered);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, 400, 100, 300), DTLS_REASM_BUFFERED);
    expect_complete(&e.reasm, expected, 400);
    free(body);
    free(expected);
    env_finish(&e);
}

static void test_past_and_too_far(void **state)
{
    (void)state;
    env e;
    env_init(&e, NO_LIMIT, NO_LIMIT);
    uint8_t *body = make_body(10, 7);

    assert_int_equal(add(&e.reasm, 1, DTLS_REASSEMBLY_SLOTS, body, 10, 0, 10), DTLS_REASM_TOO_FAR);
    assert_int_equal(add(&e.reasm, 1, 0xFFFF, body, 10, 0, 10), DTLS_REASM_TOO_FAR);
    assert_int_equal(add(&e.reasm, 1, DTLS_REASSEMBLY_SLOTS - 1, body, 10, 0, 10),
                     DTLS_REASM_BUFFERED);

    dtls_reassembler_reset(&e.reasm, 5);
    assert_int_equal(e.counter.live, 0);
    assert_int_equal(add(&e.reasm, 1, 4, body, 10, 0, 10), DTLS_REASM_PAST);
    assert_int_equal(add(&e.reasm, 1, 0, body, 10, 0, 10), DTLS_REASM_PAST);
    assert_int_equal(add(&e.reasm, 1, 5 + DTLS_REASSEMBLY_SLOTS, body, 10, 0, 10),
                     DTLS_REASM_TOO_FAR);
    assert_int_equal(add(&e.reasm, 1, 5, body, 10, 0, 10), DTLS_REASM_BUFFERED);
    dtls_reassembler_advance(&e.reasm);
    /* The message just released is now a retransmission. */
    assert_int_equal(add(&e.reasm, 1, 5, body, 10, 0, 10), DTLS_REASM_PAST);
    assert_int_equal(e.counter.live, 0);

    /* No wraparound: near the top of the range, seq 0 is in the past. */
    dtls_reassembler_reset(&e.reasm, 0xFFFC);
    assert_int_equal(add(&e.reasm, 1, 0xFFFF, body, 10, 0, 10), DTLS_REASM_BUFFERED);
    assert_int_equal(add(&e.reasm, 1, 0, body, 10, 0, 10), DTLS_REASM_PAST);
    free(body);
    env_finish(&e);
}

static void test_future_message_buffered(void **state)
{
    (void)state;
    env e;
    env_init(&e, NO_LIMIT, NO_LIMIT);
    uint8_t *bodies[3];
    uint8_t *expected[3];
    for (unsigned i = 0; i < 3; i++) {
        bodies[i] = make_body(100 + i, 10 + i);
        expected[i] = make_expected((uint8_t)(MSG_TYPE + i), (uint16_t)i, bodies[i], 100 + i);
    }
    /* Messages 2 and 1 complete before 0 starts; 0 arrives in two halves. */
    assert_int_equal(add(&e.reasm, MSG_TYPE + 2, 2, bodies[2], 102, 0, 102), DTLS_REASM_BUFFERED);
    assert_int_equal(add(&e.reasm, MSG_TYPE + 1, 1, bodies[1], 101, 50, 51), DTLS_REASM_BUFFERED);
    assert_int_equal(add(&e.reasm, MSG_TYPE + 1, 1, bodies[1], 101, 0, 50), DTLS_REASM_BUFFERED);
    expect_incomplete(&e.reasm);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, bodies[0], 100, 0, 60), DTLS_REASM_BUFFERED);
    expect_incomplete(&e.reasm);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, bodies[0], 100, 60, 40), DTLS_REASM_BUFFERED);
    for (unsigned i = 0; i < 3; i++) {
        expect_complete(&e.reasm, expected[i], 100 + i);
        dtls_reassembler_advance(&e.reasm);
    }
    expect_incomplete(&e.reasm);
    assert_int_equal(e.reasm.next_seq, 3);
    assert_int_equal(e.reasm.buffered, 0);
    assert_int_equal(e.counter.live, 0);
    for (unsigned i = 0; i < 3; i++) {
        free(bodies[i]);
        free(expected[i]);
    }
    env_finish(&e);
}

static void test_peek_false_until_complete(void **state)
{
    (void)state;
    env e;
    env_init(&e, NO_LIMIT, NO_LIMIT);
    uint8_t *body = make_body(64, 8);
    uint8_t *expected = make_expected(MSG_TYPE, 0, body, 64);
    const uint8_t *msg = (const uint8_t *)"untouched";
    size_t len = 12345;
    /* Nothing held, then everything but the last byte. */
    assert_false(dtls_reassembler_peek(&e.reasm, &msg, &len));
    for (uint32_t i = 0; i < 63; i++) {
        assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, 64, i, 1), DTLS_REASM_BUFFERED);
        assert_false(dtls_reassembler_peek(&e.reasm, &msg, &len));
    }
    /* A complete later message does not make next_seq's visible. */
    assert_int_equal(add(&e.reasm, MSG_TYPE, 1, body, 64, 0, 64), DTLS_REASM_BUFFERED);
    assert_false(dtls_reassembler_peek(&e.reasm, &msg, &len));
    assert_string_equal((const char *)msg, "untouched");
    assert_int_equal(len, 12345);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, 64, 63, 1), DTLS_REASM_BUFFERED);
    expect_complete(&e.reasm, expected, 64);
    /* Advancing past an incomplete message drops it. */
    dtls_reassembler_advance(&e.reasm);
    dtls_reassembler_advance(&e.reasm);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 2, body, 64, 0, 10), DTLS_REASM_BUFFERED);
    dtls_reassembler_advance(&e.reasm);
    assert_int_equal(e.reasm.buffered, 0);
    assert_int_equal(e.counter.live, 0);
    free(body);
    free(expected);
    env_finish(&e);
}

static void test_max_message_len(void **state)
{
    (void)state;
    env e;
    env_init(&e, 1000, NO_LIMIT);
    uint8_t *body = make_body(1001, 9);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, 1001, 0, 100), PETREL_ERR_LIMIT);
    assert_int_equal(e.reasm.buffered, 0);
    assert_int_equal(e.counter.total, 0);
    assert_false(e.reasm.slots[0].in_use);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, 1000, 0, 100), DTLS_REASM_BUFFERED);
    free(body);
    env_finish(&e);
}

static void test_max_buffered(void **state)
{
    (void)state;
    /* Room for two 100-byte messages (12 + 100 + 13 bytes each) and one
     * byte short of a third. */
    const size_t cost = DTLS_HS_HEADER_LEN + 100 + 13;
    env e;
    env_init(&e, NO_LIMIT, 2 * cost + cost - 1);
    uint8_t *body = make_body(100, 10);
    uint8_t *expected = make_expected(MSG_TYPE, 3, body, 100);

    assert_int_equal(add(&e.reasm, MSG_TYPE, 1, body, 100, 0, 10), DTLS_REASM_BUFFERED);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 2, body, 100, 0, 10), DTLS_REASM_BUFFERED);
    assert_int_equal(e.reasm.buffered, 2 * cost);
    dtls_reassembler snapshot;
    memcpy(&snapshot, &e.reasm, sizeof(snapshot));
    size_t allocations = e.counter.total;
    assert_int_equal(add(&e.reasm, MSG_TYPE, 3, body, 100, 0, 100), PETREL_ERR_LIMIT);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, 100, 0, 100), PETREL_ERR_LIMIT);
    assert_memory_equal(&e.reasm, &snapshot, sizeof(snapshot));
    assert_int_equal(e.counter.total, allocations);
    /* A message that fills the room exactly (12 + 99 + 13 = cost - 1) still
     * fits; then nothing new does, but fragments of held messages need no
     * more memory. */
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, 99, 0, 99), DTLS_REASM_BUFFERED);
    assert_int_equal(e.reasm.buffered, e.reasm.max_buffered);
    dtls_hs_fragment empty = {14, 0, 3, 0, 0, NULL};
    assert_int_equal(dtls_reassembler_add(&e.reasm, &empty), PETREL_ERR_LIMIT);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 1, body, 100, 10, 90), DTLS_REASM_BUFFERED);

    /* Releasing 0 and 1 frees the space for 3. */
    dtls_reassembler_advance(&e.reasm);
    dtls_reassembler_advance(&e.reasm);
    assert_int_equal(e.reasm.buffered, cost);
    assert_int_equal(e.counter.live, 2);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 3, body, 100, 0, 100), DTLS_REASM_BUFFERED);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 2, body, 100, 10, 90), DTLS_REASM_BUFFERED);
    dtls_reassembler_advance(&e.reasm);
    expect_complete(&e.reasm, expected, 100);
    free(body);
    free(expected);
    env_finish(&e);
}

static void test_alloc_failure(void **state)
{
    (void)state;
    env e;
    env_init(&e, NO_LIMIT, NO_LIMIT);
    uint8_t *body = make_body(500, 11);
    uint8_t *expected = make_expected(MSG_TYPE, 0, body, 500);
    /* A new message takes two allocations: fail each alone, then both. */
    for (int mode = 0; mode < 3; mode++) {
        dtls_reassembler snapshot;
        memcpy(&snapshot, &e.reasm, sizeof(snapshot));
        e.counter.fail_in = mode < 2 ? mode : -1;
        e.counter.fail_all = mode == 2;
        assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, 500, 0, 200), PETREL_ERR_NOMEM);
        assert_int_equal(e.counter.live, 0);
        assert_memory_equal(&e.reasm, &snapshot, sizeof(snapshot));
    }
    e.counter.fail_in = -1;
    e.counter.fail_all = false;
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, 500, 0, 200), DTLS_REASM_BUFFERED);
    /* With the slot held, further fragments allocate nothing. */
    e.counter.fail_all = true;
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, 500, 200, 300), DTLS_REASM_BUFFERED);
    expect_complete(&e.reasm, expected, 500);
    free(body);
    free(expected);
    env_finish(&e);
}

static void test_reset(void **state)
{
    (void)state;
    env e;
    env_init(&e, NO_LIMIT, NO_LIMIT);
    uint8_t *body = make_body(100, 12);
    uint8_t *expected = make_expected(MSG_TYPE, 9, body, 100);
    for (uint16_t seq = 0; seq < DTLS_REASSEMBLY_SLOTS; seq++)
        assert_int_equal(add(&e.reasm, MSG_TYPE, seq, body, 100, 0, 100), DTLS_REASM_BUFFERED);
    assert_true(e.counter.live > 0);
    dtls_reassembler_reset(&e.reasm, 9);
    assert_int_equal(e.counter.live, 0);
    assert_int_equal(e.reasm.buffered, 0);
    assert_int_equal(e.reasm.next_seq, 9);
    for (size_t i = 0; i < DTLS_REASSEMBLY_SLOTS; i++)
        assert_false(e.reasm.slots[i].in_use);
    expect_incomplete(&e.reasm);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 8, body, 100, 0, 100), DTLS_REASM_PAST);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 9, body, 100, 0, 100), DTLS_REASM_BUFFERED);
    expect_complete(&e.reasm, expected, 100);
    /* free, then init again: the reassembler is reusable. */
    dtls_reassembler_free(&e.reasm);
    assert_int_equal(e.counter.live, 0);
    dtls_reassembler_init(&e.reasm, &e.platform, NO_LIMIT, NO_LIMIT);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, 100, 0, 100), DTLS_REASM_BUFFERED);
    free(body);
    free(expected);
    env_finish(&e);
}

static void test_empty_fragment_at_end(void **state)
{
    (void)state;
    env e;
    env_init(&e, NO_LIMIT, NO_LIMIT);
    uint8_t *body = make_body(50, 13);
    uint8_t *expected = make_expected(MSG_TYPE, 0, body, 50);
    /* Before anything is held it needs no slot... */
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, 50, 50, 0), DTLS_REASM_DUPLICATE);
    assert_int_equal(e.counter.total, 0);
    expect_incomplete(&e.reasm);
    /* ...and after, it changes nothing. */
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, 50, 0, 20), DTLS_REASM_BUFFERED);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, 50, 50, 0), DTLS_REASM_DUPLICATE);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, 50, 30, 0), DTLS_REASM_DUPLICATE);
    assert_int_equal(e.reasm.slots[0].bytes_held, 20);
    expect_incomplete(&e.reasm);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, 50, 20, 30), DTLS_REASM_BUFFERED);
    expect_complete(&e.reasm, expected, 50);
    assert_int_equal(add(&e.reasm, MSG_TYPE, 0, body, 50, 50, 0), DTLS_REASM_DUPLICATE);
    expect_complete(&e.reasm, expected, 50);
    free(body);
    free(expected);
    env_finish(&e);
}

static void test_invalid_fragment_refused(void **state)
{
    (void)state;
    env e;
    env_init(&e, NO_LIMIT, NO_LIMIT);
    uint8_t body[16] = {0};
    /* Built by hand, not by dtls_hs_fragment_read: a range past the message,
     * a length past 2^24 - 1, a missing body. */
    dtls_hs_fragment past = {MSG_TYPE, 10, 0, 8, 3, body};
    dtls_hs_fragment huge = {MSG_TYPE, 0x1000000u, 0, 0, 1, body};
    dtls_hs_fragment no_body = {MSG_TYPE, 10, 0, 0, 3, NULL};
    assert_int_equal(dtls_reassembler_add(&e.reasm, &past), PETREL_ERR_ARG);
    assert_int_equal(dtls_reassembler_add(&e.reasm, &huge), PETREL_ERR_ARG);
    assert_int_equal(dtls_reassembler_add(&e.reasm, &no_body), PETREL_ERR_ARG);
    assert_int_equal(e.counter.total, 0);
    env_finish(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fragment_round_trip),
        cmocka_unit_test(test_fragment_read_errors),
        cmocka_unit_test(test_single_fragment_message),
        cmocka_unit_test(test_split_in_order),
        cmocka_unit_test(test_split_reversed),
        cmocka_unit_test(test_split_shuffled),
        cmocka_unit_test(test_split_duplicated),
        cmocka_unit_test(test_overlapping_fragments),
        cmocka_unit_test(test_large_message_byte_fragments),
        cmocka_unit_test(test_zero_length_message),
        cmocka_unit_test(test_conflicting_overlap),
        cmocka_unit_test(test_type_length_mismatch),
        cmocka_unit_test(test_past_and_too_far),
        cmocka_unit_test(test_future_message_buffered),
        cmocka_unit_test(test_peek_false_until_complete),
        cmocka_unit_test(test_max_message_len),
        cmocka_unit_test(test_max_buffered),
        cmocka_unit_test(test_alloc_failure),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_empty_fragment_at_end),
        cmocka_unit_test(test_invalid_fragment_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
