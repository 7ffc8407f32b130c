/*
 * Tests for the bounds-checked byte cursors (common/cursor.h): every read
 * and write at and past each boundary, every starting position, vectors at
 * and outside their bounds, and the rule that a failed call leaves the
 * cursor exactly as it was.
 *
 * Readers are given heap buffers of exactly the input's size, so that under
 * AddressSanitizer a read one byte past the end is reported; writers are
 * given a buffer whose tail past the capacity holds a canary that is
 * checked after every call.
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

#include "common/cursor.h"

#define CANARY    0xCC
#define GUARD_LEN 16 /* canary bytes past a writer's capacity */

/* The largest lengths each prefix width can express. */
#define U8_MAX_LEN  0xFFu
#define U16_MAX_LEN 0xFFFFu
#define U24_MAX_LEN 0xFFFFFFu

/* ---- helpers ---- */

#define EXPECT_INT(ctx, actual, expected)                                             \
    do {                                                                              \
        long long expect_actual_ = (long long)(actual);                               \
        long long expect_expected_ = (long long)(expected);                           \
        if (expect_actual_ != expect_expected_)                                       \
            fail_msg("%s: %s is %lld, expected %lld", (ctx), #actual, expect_actual_, \
                     expect_expected_);                                               \
    } while (0)

#define EXPECT_U64(ctx, actual, expected)                                                 \
    do {                                                                                  \
        unsigned long long expect_actual_ = (unsigned long long)(actual);                 \
        unsigned long long expect_expected_ = (unsigned long long)(expected);             \
        if (expect_actual_ != expect_expected_)                                           \
            fail_msg("%s: %s is 0x%llx, expected 0x%llx", (ctx), #actual, expect_actual_, \
                     expect_expected_);                                                   \
    } while (0)

#define EXPECT_TRUE(ctx, cond)                         \
    do {                                               \
        if (!(cond))                                   \
            fail_msg("%s: expected %s", (ctx), #cond); \
    } while (0)

/* A byte pattern with the top bit set everywhere, so that a decoder that
 * shifts a promoted (signed) byte is caught by UBSan or gives a wrong
 * value. */
static uint8_t pattern_byte(size_t i)
{
    return (uint8_t)(0x80u | ((i * 0x35u + 0x11u) & 0x7Fu));
}

/* A heap buffer of exactly len bytes holding the pattern; NULL for len 0
 * (a reader may only have NULL data when it is empty). */
static uint8_t *exact_pattern(size_t len, size_t seed)
{
    if (len == 0)
        return NULL;
    uint8_t *p = malloc(len);
    assert_non_null(p);
    for (size_t i = 0; i < len; i++)
        p[i] = pattern_byte(i + seed);
    return p;
}

static uint8_t *exact_copy(const uint8_t *src, size_t len)
{
    if (len == 0)
        return NULL;
    uint8_t *p = malloc(len);
    assert_non_null(p);
    memcpy(p, src, len);
    return p;
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes hex (spaces ignored) into out; returns the byte count. */
static size_t hex_decode(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int high = -1;
    for (const char *c = hex; *c != '\0'; c++) {
        if (*c == ' ')
            continue;
        int v = hex_nibble(*c);
        if (v < 0)
            fail_msg("bad hex in test table: \"%s\"", hex);
        if (high < 0) {
            high = v;
        } else {
            if (n >= cap)
                fail_msg("hex in test table too long: \"%s\"", hex);
            out[n++] = (uint8_t)(high << 4 | v);
            high = -1;
        }
    }
    if (high >= 0)
        fail_msg("odd-length hex in test table: \"%s\"", hex);
    return n;
}

static uint64_t be_value(const uint8_t *p, size_t width)
{
    uint64_t v = 0;
    for (size_t i = 0; i < width; i++)
        v = v << 8 | p[i];
    return v;
}

static void be_encode(uint64_t v, size_t width, uint8_t *out)
{
    for (size_t i = 0; i < width; i++)
        out[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
}

static bool reader_same(const cursor_reader *a, const cursor_reader *b)
{
    return a->data == b->data && a->len == b->len && a->pos == b->pos;
}

static bool writer_same(const cursor_writer *a, const cursor_writer *b)
{
    return a->data == b->data && a->cap == b->cap && a->len == b->len;
}

static void expect_reader_unchanged(const char *ctx, const cursor_reader *r,
                                    const cursor_reader *before)
{
    if (!reader_same(r, before))
        fail_msg("%s: reader changed on failure: data %p len %zu pos %zu, was %p %zu %zu", ctx,
                 (const void *)r->data, r->len, r->pos, (const void *)before->data, before->len,
                 before->pos);
    EXPECT_TRUE(ctx, cursor_reader_valid(r));
}

static void expect_writer_unchanged(const char *ctx, const cursor_writer *w,
                                    const cursor_writer *before)
{
    if (!writer_same(w, before))
        fail_msg("%s: writer changed on failure: data %p cap %zu len %zu, was %p %zu %zu", ctx,
                 (void *)w->data, w->cap, w->len, (void *)before->data, before->cap, before->len);
    EXPECT_TRUE(ctx, cursor_writer_valid(w));
}

/* Every byte of buf[from, to) is the canary. */
static void expect_canary(const char *ctx, const uint8_t *buf, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (buf[i] != CANARY)
            fail_msg("%s: byte %zu overwritten (0x%02x), expected canary", ctx, i, buf[i]);
}

/* A writer's backing store: cap usable bytes then GUARD_LEN canary bytes,
 * all initially the canary. */
static uint8_t *canary_buffer(size_t cap)
{
    uint8_t *p = malloc(cap + GUARD_LEN);
    assert_non_null(p);
    memset(p, CANARY, cap + GUARD_LEN);
    return p;
}

/* ---- integer fields: one row per width ---- */

#define OUT_SENTINEL8  0x5Au
#define OUT_SENTINEL16 0x5A5Au
#define OUT_SENTINEL32 0x5A5A5A5Au
#define OUT_SENTINEL64 0x5A5A5A5A5A5A5A5Aull

/* Each wrapper reads through the real typed API and reports whether the
 * typed output still holds its sentinel. */
static int read_u8_wrapped(cursor_reader *r, uint64_t *value, bool *untouched)
{
    uint8_t v = OUT_SENTINEL8;
    int rc = cursor_read_u8(r, &v);
    *value = v;
    *untouched = v == OUT_SENTINEL8;
    return rc;
}

static int read_u16_wrapped(cursor_reader *r, uint64_t *value, bool *untouched)
{
    uint16_t v = OUT_SENTINEL16;
    int rc = cursor_read_u16(r, &v);
    *value = v;
    *untouched = v == OUT_SENTINEL16;
    return rc;
}

static int read_u24_wrapped(cursor_reader *r, uint64_t *value, bool *untouched)
{
    uint32_t v = OUT_SENTINEL32;
    int rc = cursor_read_u24(r, &v);
    *value = v;
    *untouched = v == OUT_SENTINEL32;
    return rc;
}

static int read_u32_wrapped(cursor_reader *r, uint64_t *value, bool *untouched)
{
    uint32_t v = OUT_SENTINEL32;
    int rc = cursor_read_u32(r, &v);
    *value = v;
    *untouched = v == OUT_SENTINEL32;
    return rc;
}

static int read_u48_wrapped(cursor_reader *r, uint64_t *value, bool *untouched)
{
    uint64_t v = OUT_SENTINEL64;
    int rc = cursor_read_u48(r, &v);
    *value = v;
    *untouched = v == OUT_SENTINEL64;
    return rc;
}

static int read_u64_wrapped(cursor_reader *r, uint64_t *value, bool *untouched)
{
    uint64_t v = OUT_SENTINEL64;
    int rc = cursor_read_u64(r, &v);
    *value = v;
    *untouched = v == OUT_SENTINEL64;
    return rc;
}

static int write_u8_wrapped(cursor_writer *w, uint64_t v)
{
    return cursor_write_u8(w, (uint8_t)v);
}

static int write_u16_wrapped(cursor_writer *w, uint64_t v)
{
    return cursor_write_u16(w, (uint16_t)v);
}

static int write_u24_wrapped(cursor_writer *w, uint64_t v)
{
    return cursor_write_u24(w, (uint32_t)v);
}

static int write_u32_wrapped(cursor_writer *w, uint64_t v)
{
    return cursor_write_u32(w, (uint32_t)v);
}

static int write_u48_wrapped(cursor_writer *w, uint64_t v)
{
    return cursor_write_u48(w, v);
}

static int write_u64_wrapped(cursor_writer *w, uint64_t v)
{
    return cursor_write_u64(w, v);
}

typedef struct int_field {
    const char *name;
    size_t width;
    int (*read)(cursor_reader *r, uint64_t *value, bool *untouched);
    int (*write)(cursor_writer *w, uint64_t value);
    uint64_t largest;    /* the largest value the field holds */
    uint64_t high_value; /* a value with the top bit of every byte set */
} int_field;

static const int_field int_fields[] = {
    {"u8", 1, read_u8_wrapped, write_u8_wrapped, 0xFFu, 0xA5u},
    {"u16", 2, read_u16_wrapped, write_u16_wrapped, 0xFFFFu, 0xBEEFu},
    {"u24", 3, read_u24_wrapped, write_u24_wrapped, 0xFFFFFFu, 0xFEDCBAu},
    {"u32", 4, read_u32_wrapped, write_u32_wrapped, 0xFFFFFFFFu, 0xDEADBEEFu},
    {"u48", 6, read_u48_wrapped, write_u48_wrapped, 0xFFFFFFFFFFFFull, 0xFEDCBA987654ull},
    {"u64", 8, read_u64_wrapped, write_u64_wrapped, UINT64_MAX, 0xFEDCBA9876543210ull},
};

/* ---- reader: basics ---- */

static void test_reader_init_and_accessors(void **state)
{
    (void)state;
    static const uint8_t data[5] = {1, 2, 3, 4, 5};
    cursor_reader r = cursor_reader_init(data, sizeof(data));
    assert_ptr_equal(r.data, data);
    assert_int_equal(r.len, 5);
    assert_int_equal(r.pos, 0);
    assert_true(cursor_reader_valid(&r));
    assert_int_equal(cursor_reader_remaining(&r), 5);
    assert_ptr_equal(cursor_reader_ptr(&r), data);

    r.pos = 3;
    assert_int_equal(cursor_reader_remaining(&r), 2);
    assert_ptr_equal(cursor_reader_ptr(&r), data + 3);
    r.pos = 5;
    assert_int_equal(cursor_reader_remaining(&r), 0);
    assert_ptr_equal(cursor_reader_ptr(&r), data + 5);
    assert_true(cursor_reader_valid(&r));
}

static void test_reader_empty_null_buffer(void **state)
{
    (void)state;
    cursor_reader r = cursor_reader_init(NULL, 0);
    const cursor_reader before = r;
    assert_true(cursor_reader_valid(&r));
    assert_int_equal(cursor_reader_remaining(&r), 0);
    assert_int_equal(cursor_reader_finish(&r), 0);

    uint8_t u8 = 0x5A;
    assert_int_equal(cursor_read_u8(&r, &u8), PETREL_ERR_TRUNCATED);
    assert_int_equal(u8, 0x5A);
    uint64_t u64 = 7;
    assert_int_equal(cursor_read_u64(&r, &u64), PETREL_ERR_TRUNCATED);
    assert_int_equal(u64, 7);
    assert_true(reader_same(&r, &before));

    uint8_t dst[4] = {9, 9, 9, 9};
    assert_int_equal(cursor_read_copy(&r, dst, 0), 0);
    assert_int_equal(cursor_read_copy(&r, dst, 1), PETREL_ERR_TRUNCATED);
    assert_int_equal(dst[0], 9);
    assert_int_equal(cursor_skip(&r, 0), 0);
    assert_int_equal(cursor_skip(&r, 1), PETREL_ERR_TRUNCATED);
    const uint8_t *view = dst;
    assert_int_equal(cursor_read_view(&r, 1, &view), PETREL_ERR_TRUNCATED);
    assert_ptr_equal(view, dst);
    assert_int_equal(cursor_read_view(&r, 0, &view), 0);

    cursor_reader body;
    assert_int_equal(cursor_read_vector(&r, 1, 0, 10, &body), PETREL_ERR_TRUNCATED);
    assert_true(reader_same(&r, &before));
    assert_true(cursor_reader_valid(&r));
}

static void test_reader_valid_rejects_broken_invariants(void **state)
{
    (void)state;
    static const uint8_t data[3] = {1, 2, 3};
    const cursor_reader ok_full = {data, 3, 3};
    const cursor_reader ok_empty = {NULL, 0, 0};
    const cursor_reader pos_past_len = {data, 3, 4};
    const cursor_reader null_with_len = {NULL, 3, 0};
    const cursor_reader null_pos_past = {NULL, 0, 1};
    assert_true(cursor_reader_valid(&ok_full));
    assert_true(cursor_reader_valid(&ok_empty));
    assert_false(cursor_reader_valid(&pos_past_len));
    assert_false(cursor_reader_valid(&null_with_len));
    assert_false(cursor_reader_valid(&null_pos_past));
}

/* ---- reader: table of single operations ---- */

typedef enum reader_op {
    RD_U8,
    RD_U16,
    RD_U24,
    RD_U32,
    RD_U48,
    RD_U64,
    RD_COPY,
    RD_VIEW,
    RD_SKIP,
} reader_op;

typedef struct reader_row {
    const char *input; /* hex */
    size_t start;      /* reader position before the call */
    reader_op op;
    size_t n; /* for copy, view and skip */
    int rc;
    size_t pos;     /* reader position after the call */
    uint64_t value; /* for integer reads that succeed */
} reader_row;

#define TRUNC PETREL_ERR_TRUNCATED

static const reader_row reader_rows[] = {
    /* u8 */
    {"", 0, RD_U8, 0, TRUNC, 0, 0},
    {"7f", 0, RD_U8, 0, 0, 1, 0x7f},
    {"ff", 0, RD_U8, 0, 0, 1, 0xff},
    {"ff", 1, RD_U8, 0, TRUNC, 1, 0},
    {"0001", 1, RD_U8, 0, 0, 2, 0x01},
    /* u16 */
    {"0102", 0, RD_U16, 0, 0, 2, 0x0102},
    {"ffff", 0, RD_U16, 0, 0, 2, 0xffff},
    {"8000", 0, RD_U16, 0, 0, 2, 0x8000},
    {"01", 0, RD_U16, 0, TRUNC, 0, 0},
    {"", 0, RD_U16, 0, TRUNC, 0, 0},
    {"aa0102", 1, RD_U16, 0, 0, 3, 0x0102},
    {"aa0102", 2, RD_U16, 0, TRUNC, 2, 0},
    {"aa0102", 3, RD_U16, 0, TRUNC, 3, 0},
    /* u24 */
    {"123456", 0, RD_U24, 0, 0, 3, 0x123456},
    {"ffffff", 0, RD_U24, 0, 0, 3, 0xffffff},
    {"800000", 0, RD_U24, 0, 0, 3, 0x800000},
    {"1234", 0, RD_U24, 0, TRUNC, 0, 0},
    {"ee123456", 1, RD_U24, 0, 0, 4, 0x123456},
    {"ee1234", 1, RD_U24, 0, TRUNC, 1, 0},
    /* u32 */
    {"deadbeef", 0, RD_U32, 0, 0, 4, 0xdeadbeef},
    {"80000000", 0, RD_U32, 0, 0, 4, 0x80000000},
    {"00000001", 0, RD_U32, 0, 0, 4, 1},
    {"deadbe", 0, RD_U32, 0, TRUNC, 0, 0},
    {"00deadbeef", 1, RD_U32, 0, 0, 5, 0xdeadbeef},
    {"00deadbeef", 2, RD_U32, 0, TRUNC, 2, 0},
    /* u48 */
    {"000000000001", 0, RD_U48, 0, 0, 6, 1},
    {"ffffffffffff", 0, RD_U48, 0, 0, 6, 0xffffffffffffull},
    {"800000000000", 0, RD_U48, 0, 0, 6, 0x800000000000ull},
    {"0102030405", 0, RD_U48, 0, TRUNC, 0, 0},
    {"aa010203040506", 1, RD_U48, 0, 0, 7, 0x010203040506ull},
    /* u64 */
    {"0102030405060708", 0, RD_U64, 0, 0, 8, 0x0102030405060708ull},
    {"ffffffffffffffff", 0, RD_U64, 0, 0, 8, UINT64_MAX},
    {"8000000000000000", 0, RD_U64, 0, 0, 8, 0x8000000000000000ull},
    {"01020304050607", 0, RD_U64, 0, TRUNC, 0, 0},
    {"000102030405060708", 1, RD_U64, 0, 0, 9, 0x0102030405060708ull},
    {"000102030405060708", 2, RD_U64, 0, TRUNC, 2, 0},
    /* skip */
    {"010203", 0, RD_SKIP, 3, 0, 3, 0},
    {"010203", 0, RD_SKIP, 4, TRUNC, 0, 0},
    {"010203", 1, RD_SKIP, 2, 0, 3, 0},
    {"010203", 1, RD_SKIP, 3, TRUNC, 1, 0},
    {"010203", 3, RD_SKIP, 0, 0, 3, 0},
    {"010203", 3, RD_SKIP, 1, TRUNC, 3, 0},
    {"010203", 2, RD_SKIP, SIZE_MAX, TRUNC, 2, 0},     /* pos + n wraps to 1 */
    {"010203", 2, RD_SKIP, SIZE_MAX - 1, TRUNC, 2, 0}, /* pos + n wraps to 0 */
    {"", 0, RD_SKIP, 0, 0, 0, 0},
    {"", 0, RD_SKIP, SIZE_MAX, TRUNC, 0, 0},
    /* copy */
    {"010203", 0, RD_COPY, 3, 0, 3, 0},
    {"010203", 0, RD_COPY, 4, TRUNC, 0, 0},
    {"010203", 1, RD_COPY, 2, 0, 3, 0},
    {"010203", 1, RD_COPY, 3, TRUNC, 1, 0},
    {"010203", 3, RD_COPY, 0, 0, 3, 0},
    {"010203", 3, RD_COPY, 1, TRUNC, 3, 0},
    {"010203", 2, RD_COPY, SIZE_MAX, TRUNC, 2, 0},
    {"010203", 2, RD_COPY, SIZE_MAX - 1, TRUNC, 2, 0},
    {"", 0, RD_COPY, 0, 0, 0, 0},
    {"", 0, RD_COPY, 1, TRUNC, 0, 0},
    /* view */
    {"010203", 0, RD_VIEW, 3, 0, 3, 0},
    {"010203", 0, RD_VIEW, 4, TRUNC, 0, 0},
    {"010203", 1, RD_VIEW, 2, 0, 3, 0},
    {"010203", 1, RD_VIEW, 3, TRUNC, 1, 0},
    {"010203", 3, RD_VIEW, 0, 0, 3, 0},
    {"010203", 3, RD_VIEW, 1, TRUNC, 3, 0},
    {"010203", 2, RD_VIEW, SIZE_MAX, TRUNC, 2, 0},
    {"010203", 2, RD_VIEW, SIZE_MAX - 1, TRUNC, 2, 0},
    {"", 0, RD_VIEW, SIZE_MAX, TRUNC, 0, 0},
};

static const char *const reader_op_names[] = {"u8",  "u16",  "u24",  "u32", "u48",
                                              "u64", "copy", "view", "skip"};

static void test_reader_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < PETREL_ARRAY_LEN(reader_rows); i++) {
        const reader_row *row = &reader_rows[i];
        char ctx[128];
        snprintf(ctx, sizeof(ctx), "reader row %zu (%s of \"%s\" at %zu, n %zu)", i,
                 reader_op_names[row->op], row->input, row->start, row->n);
        uint8_t decoded[32];
        size_t len = hex_decode(row->input, decoded, sizeof(decoded));
        uint8_t *buf = exact_copy(decoded, len);
        cursor_reader r = cursor_reader_init(buf, len);
        r.pos = row->start;
        const cursor_reader before = r;

        int rc;
        uint64_t value = 0;
        bool untouched = true;
        uint8_t dst[16];
        memset(dst, CANARY, sizeof(dst));
        static const uint8_t view_sentinel = 0;
        const uint8_t *view = &view_sentinel;
        switch (row->op) {
        case RD_U8:
        case RD_U16:
        case RD_U24:
        case RD_U32:
        case RD_U48:
        case RD_U64:
            rc = int_fields[row->op].read(&r, &value, &untouched);
            break;
        case RD_COPY:
            /* A correct cursor never touches dst when the copy fails, even
             * with n far larger than dst. */
            rc = cursor_read_copy(&r, dst, row->n);
            break;
        case RD_VIEW:
            rc = cursor_read_view(&r, row->n, &view);
            break;
        case RD_SKIP:
        default:
            rc = cursor_skip(&r, row->n);
            break;
        }

        EXPECT_INT(ctx, rc, row->rc);
        EXPECT_INT(ctx, r.pos, row->pos);
        EXPECT_TRUE(ctx, cursor_reader_valid(&r));
        EXPECT_TRUE(ctx, r.data == before.data && r.len == before.len);
        if (rc != 0) {
            expect_reader_unchanged(ctx, &r, &before);
            EXPECT_TRUE(ctx, untouched);
            expect_canary(ctx, dst, 0, sizeof(dst));
            EXPECT_TRUE(ctx, view == &view_sentinel);
        } else if (row->op <= RD_U64) {
            EXPECT_U64(ctx, value, row->value);
        } else if (row->op == RD_COPY) {
            if (row->n > 0)
                EXPECT_TRUE(ctx, memcmp(dst, buf + row->start, row->n) == 0);
            expect_canary(ctx, dst, row->n, sizeof(dst));
        } else if (row->op == RD_VIEW && len > 0) {
            EXPECT_TRUE(ctx, view == buf + row->start);
        }
        free(buf);
    }
}

/* ---- reader: every width, every length, every starting position ---- */

static void test_reader_ints_every_length_and_position(void **state)
{
    (void)state;
    for (size_t f = 0; f < PETREL_ARRAY_LEN(int_fields); f++) {
        const int_field *field = &int_fields[f];
        for (size_t len = 0; len <= field->width + 2; len++) {
            uint8_t *buf = exact_pattern(len, len);
            for (size_t start = 0; start <= len; start++) {
                char ctx[96];
                snprintf(ctx, sizeof(ctx), "read %s, len %zu, start %zu", field->name, len, start);
                cursor_reader r = cursor_reader_init(buf, len);
                r.pos = start;
                const cursor_reader before = r;
                uint64_t value;
                bool untouched;
                int rc = field->read(&r, &value, &untouched);
                EXPECT_TRUE(ctx, cursor_reader_valid(&r));
                if (len - start >= field->width) {
                    EXPECT_INT(ctx, rc, 0);
                    EXPECT_U64(ctx, value, be_value(buf + start, field->width));
                    EXPECT_INT(ctx, r.pos, start + field->width);
                    EXPECT_TRUE(ctx, r.data == buf && r.len == len);
                } else {
                    EXPECT_INT(ctx, rc, PETREL_ERR_TRUNCATED);
                    expect_reader_unchanged(ctx, &r, &before);
                    EXPECT_TRUE(ctx, untouched);
                }
            }
            free(buf);
        }
    }
}

static void test_reader_ints_extreme_values(void **state)
{
    (void)state;
    static const uint8_t zeros[8] = {0};
    static const uint8_t ones[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    for (size_t f = 0; f < PETREL_ARRAY_LEN(int_fields); f++) {
        const int_field *field = &int_fields[f];
        uint64_t value;
        bool untouched;
        cursor_reader r = cursor_reader_init(zeros, field->width);
        assert_int_equal(field->read(&r, &value, &untouched), 0);
        assert_int_equal(value, 0);
        r = cursor_reader_init(ones, field->width);
        assert_int_equal(field->read(&r, &value, &untouched), 0);
        assert_true(value == field->largest);
        assert_int_equal(cursor_reader_finish(&r), 0);
    }
}

/* A run of reads that consumes a buffer exactly, then fails at the end. */
static void test_reader_sequence_consumes_exactly(void **state)
{
    (void)state;
    uint8_t decoded[32];
    size_t len = hex_decode("01 0203 040506 0708090a 0b0c0d0e0f10 1112131415161718", decoded,
                            sizeof(decoded));
    uint8_t *buf = exact_copy(decoded, len);
    cursor_reader r = cursor_reader_init(buf, len);
    uint8_t a;
    uint16_t b;
    uint32_t c, d;
    uint64_t e, f;
    assert_int_equal(cursor_read_u8(&r, &a), 0);
    assert_int_equal(cursor_read_u16(&r, &b), 0);
    assert_int_equal(cursor_read_u24(&r, &c), 0);
    assert_int_equal(cursor_read_u32(&r, &d), 0);
    assert_int_equal(cursor_read_u48(&r, &e), 0);
    assert_int_equal(cursor_reader_finish(&r), PETREL_ERR_TRAILING_DATA);
    assert_int_equal(cursor_read_u64(&r, &f), 0);
    assert_int_equal(a, 0x01);
    assert_int_equal(b, 0x0203);
    assert_int_equal(c, 0x040506);
    assert_int_equal(d, 0x0708090a);
    assert_true(e == 0x0b0c0d0e0f10ull);
    assert_true(f == 0x1112131415161718ull);
    assert_int_equal(r.pos, len);
    assert_int_equal(cursor_reader_finish(&r), 0);
    assert_int_equal(cursor_read_u8(&r, &a), PETREL_ERR_TRUNCATED);
    assert_int_equal(r.pos, len);
    free(buf);
}

/* copy, view and skip with n at the remaining length, one past it, and
 * sizes that overflow pos + n, from every starting position. */
static void test_reader_copy_view_skip_every_position(void **state)
{
    (void)state;
    for (size_t len = 0; len <= 6; len++) {
        uint8_t *buf = exact_pattern(len, 3);
        for (size_t start = 0; start <= len; start++) {
            const size_t remaining = len - start;
            const size_t sizes[] = {
                0,
                remaining,
                remaining + 1,
                SIZE_MAX,
                SIZE_MAX - start + 1,   /* start + n wraps to 0 */
                SIZE_MAX - start + len, /* start + n wraps to len - 1 */
                SIZE_MAX / 2 + 1,
            };
            for (size_t s = 0; s < PETREL_ARRAY_LEN(sizes); s++) {
                const size_t n = sizes[s];
                const bool fits = n <= remaining;
                for (int op = 0; op < 3; op++) {
                    char ctx[128];
                    snprintf(ctx, sizeof(ctx), "%s n=%zu, len %zu, start %zu",
                             op == 0   ? "copy"
                             : op == 1 ? "view"
                                       : "skip",
                             n, len, start);
                    cursor_reader r = cursor_reader_init(buf, len);
                    r.pos = start;
                    const cursor_reader before = r;
                    uint8_t dst[8];
                    memset(dst, CANARY, sizeof(dst));
                    static const uint8_t sentinel = 0;
                    const uint8_t *view = &sentinel;
                    int rc;
                    if (op == 0)
                        rc = cursor_read_copy(&r, dst, n);
                    else if (op == 1)
                        rc = cursor_read_view(&r, n, &view);
                    else
                        rc = cursor_skip(&r, n);
                    EXPECT_TRUE(ctx, cursor_reader_valid(&r));
                    if (fits) {
                        EXPECT_INT(ctx, rc, 0);
                        EXPECT_INT(ctx, r.pos, start + n);
                        EXPECT_TRUE(ctx, r.data == buf && r.len == len);
                        if (op == 0 && n > 0)
                            EXPECT_TRUE(ctx, memcmp(dst, buf + start, n) == 0);
                        if (op == 0)
                            expect_canary(ctx, dst, n, sizeof(dst));
                        if (op == 1 && len > 0)
                            EXPECT_TRUE(ctx, view == buf + start);
                    } else {
                        EXPECT_INT(ctx, rc, PETREL_ERR_TRUNCATED);
                        expect_reader_unchanged(ctx, &r, &before);
                        expect_canary(ctx, dst, 0, sizeof(dst));
                        EXPECT_TRUE(ctx, view == &sentinel);
                    }
                }
            }
        }
        free(buf);
    }
}

/* ---- reader: vectors ---- */

typedef struct read_vector_row {
    const char *desc;
    const char *hex; /* the prefix and any body bytes */
    size_t fill;     /* then this many pattern bytes */
    unsigned prefix_len;
    size_t min, max;
    int rc;
    size_t body_len; /* on success; the body follows the prefix */
} read_vector_row;

#define LEN PETREL_ERR_LENGTH
#define ARG PETREL_ERR_ARG

static const read_vector_row read_vector_rows[] = {
    /* 1-byte prefix */
    {"u8 prefix, length at min", "02 a1a2", 0, 1, 2, 5, 0, 2},
    {"u8 prefix, length at max", "05 a1a2a3a4a5", 0, 1, 2, 5, 0, 5},
    {"u8 prefix, length min-1", "01 a1", 0, 1, 2, 5, LEN, 0},
    {"u8 prefix, length max+1", "06", 6, 1, 2, 5, LEN, 0},
    {"u8 prefix, declared past the end", "04 a1a2a3", 0, 1, 2, 5, TRUNC, 0},
    {"u8 prefix, declared 1 with no body", "01", 0, 1, 0, 5, TRUNC, 0},
    {"u8 prefix missing", "", 0, 1, 0, 5, TRUNC, 0},
    {"u8 prefix, empty vector", "00", 0, 1, 0, 5, 0, 0},
    {"u8 prefix, empty vector below min", "00", 0, 1, 1, 5, LEN, 0},
    {"u8 prefix, bytes after the vector stay unread", "02 a1a2 b1b2", 0, 1, 2, 5, 0, 2},
    {"u8 prefix, min == max", "03 a1a2a3", 0, 1, 3, 3, 0, 3},
    {"u8 prefix, min == max, one short", "02 a1a2", 0, 1, 3, 3, LEN, 0},
    {"u8 prefix, high-bit length", "80", 0x80, 1, 0, 255, 0, 0x80},
    {"u8 prefix, 255 bytes (the prefix's limit)", "ff", 255, 1, 0, 255, 0, 255},
    {"u8 prefix, max beyond the prefix's range", "ff", 255, 1, 0, 1000, 0, 255},
    /* 2-byte prefix */
    {"u16 prefix, length at min", "0003 a1a2a3", 0, 2, 3, 300, 0, 3},
    {"u16 prefix, length at max", "012c", 300, 2, 3, 300, 0, 300},
    {"u16 prefix, length min-1", "0002 a1a2", 0, 2, 3, 300, LEN, 0},
    {"u16 prefix, length max+1", "012d", 301, 2, 3, 300, LEN, 0},
    {"u16 prefix, declared past the end", "0005 a1a2a3a4", 0, 2, 3, 300, TRUNC, 0},
    {"u16 prefix, declared 256 with 255 bytes", "0100", 255, 2, 0, 300, TRUNC, 0},
    {"u16 prefix truncated to 1 byte", "00", 0, 2, 0, 300, TRUNC, 0},
    {"u16 prefix missing", "", 0, 2, 0, 300, TRUNC, 0},
    {"u16 prefix, empty vector", "0000", 0, 2, 0, 10, 0, 0},
    {"u16 prefix, big-endian length", "0100", 256, 2, 0, 65535, 0, 256},
    {"u16 prefix, high-bit length", "8001", 0x8001, 2, 0, 65535, 0, 0x8001},
    {"u16 prefix, 65535 bytes (the prefix's limit)", "ffff", 65535, 2, 0, 65535, 0, 65535},
    {"u16 prefix, max beyond the prefix's range", "ffff", 65535, 2, 0, SIZE_MAX, 0, 65535},
    /* 3-byte prefix */
    {"u24 prefix, length at min", "000001 a1", 0, 3, 1, 70000, 0, 1},
    {"u24 prefix, length at max", "011170", 70000, 3, 1, 70000, 0, 70000},
    {"u24 prefix, length min-1", "000000", 0, 3, 1, 70000, LEN, 0},
    {"u24 prefix, length max+1", "011171", 70001, 3, 1, 70000, LEN, 0},
    {"u24 prefix, declared past the end", "000004 a1a2a3", 0, 3, 1, 70000, TRUNC, 0},
    {"u24 prefix truncated to 2 bytes", "0000", 0, 3, 0, 10, TRUNC, 0},
    {"u24 prefix truncated to 1 byte", "00", 0, 3, 0, 10, TRUNC, 0},
    {"u24 prefix missing", "", 0, 3, 0, 10, TRUNC, 0},
    {"u24 prefix, big-endian length", "000100", 256, 3, 0, 70000, 0, 256},
    {"u24 prefix, middle byte", "010000", 65536, 3, 0, 70000, 0, 65536},
    {"u24 prefix, 2^24-1 bytes (the prefix's limit)", "ffffff", U24_MAX_LEN, 3, 0, U24_MAX_LEN, 0,
     U24_MAX_LEN},
    {"u24 prefix, max beyond the prefix's range", "800000", 0x800000, 3, 0, SIZE_MAX, 0, 0x800000},
    /* bad arguments */
    {"prefix_len 0", "02 a1a2", 0, 0, 0, 10, ARG, 0},
    {"prefix_len 4", "00000002 a1a2", 0, 4, 0, 10, ARG, 0},
    {"prefix_len 8", "0000000000000002 a1a2", 0, 8, 0, 10, ARG, 0},
    {"u8 prefix, min > max", "05", 5, 1, 6, 5, ARG, 0},
    {"u16 prefix, min > max", "0003 a1a2a3", 0, 2, 10, 3, ARG, 0},
    {"u24 prefix, min > max", "000001 a1", 0, 3, 2, 1, ARG, 0},
};

/* Builds lead junk bytes, then the row's hex, then its fill, in a heap
 * buffer of exactly that size. */
static uint8_t *read_vector_input(const read_vector_row *row, size_t lead, size_t *len_out)
{
    uint8_t head[32];
    size_t head_len = hex_decode(row->hex, head, sizeof(head));
    size_t len = lead + head_len + row->fill;
    uint8_t *buf = exact_pattern(len, 11);
    if (buf != NULL)
        memcpy(buf + lead, head, head_len);
    *len_out = len;
    return buf;
}

static void check_read_vector_row(const read_vector_row *row, size_t lead)
{
    size_t len;
    uint8_t *buf = read_vector_input(row, lead, &len);
    char ctx[160];
    snprintf(ctx, sizeof(ctx), "read vector \"%s\" at offset %zu", row->desc, lead);

    /* as a sub-reader */
    cursor_reader r = cursor_reader_init(buf, len);
    r.pos = lead;
    const cursor_reader before = r;
    cursor_reader body;
    memset(&body, 0, sizeof(body));
    int rc = cursor_read_vector(&r, row->prefix_len, row->min, row->max, &body);
    EXPECT_INT(ctx, rc, row->rc);
    EXPECT_TRUE(ctx, cursor_reader_valid(&r));
    if (rc == 0) {
        EXPECT_INT(ctx, r.pos, lead + row->prefix_len + row->body_len);
        EXPECT_TRUE(ctx, r.data == buf && r.len == len);
        EXPECT_TRUE(ctx, cursor_reader_valid(&body));
        EXPECT_INT(ctx, cursor_reader_remaining(&body), row->body_len);
        if (row->body_len > 0)
            EXPECT_TRUE(ctx, cursor_reader_ptr(&body) == buf + lead + row->prefix_len);
        EXPECT_INT(ctx, cursor_reader_finish(&body),
                   row->body_len == 0 ? 0 : PETREL_ERR_TRAILING_DATA);
        /* The body ends at the declared length even when more input
         * follows it. */
        EXPECT_INT(ctx, cursor_skip(&body, row->body_len), 0);
        EXPECT_INT(ctx, cursor_reader_finish(&body), 0);
        uint8_t extra;
        EXPECT_INT(ctx, cursor_read_u8(&body, &extra), PETREL_ERR_TRUNCATED);
        EXPECT_INT(ctx, r.pos, lead + row->prefix_len + row->body_len);
    } else {
        expect_reader_unchanged(ctx, &r, &before);
    }

    /* as a view */
    r = before;
    static const uint8_t sentinel = 0;
    const uint8_t *view = &sentinel;
    size_t view_len = 12345;
    rc = cursor_read_vector_view(&r, row->prefix_len, row->min, row->max, &view, &view_len);
    EXPECT_INT(ctx, rc, row->rc);
    EXPECT_TRUE(ctx, cursor_reader_valid(&r));
    if (rc == 0) {
        EXPECT_INT(ctx, r.pos, lead + row->prefix_len + row->body_len);
        EXPECT_INT(ctx, view_len, row->body_len);
        if (row->body_len > 0)
            EXPECT_TRUE(ctx, view == buf + lead + row->prefix_len);
    } else {
        expect_reader_unchanged(ctx, &r, &before);
    }
    free(buf);
}

static void test_read_vector_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < PETREL_ARRAY_LEN(read_vector_rows); i++) {
        check_read_vector_row(&read_vector_rows[i], 0);
        check_read_vector_row(&read_vector_rows[i], 3);
    }
}

/* Every declared length 0..8 of a <2..5> vector against every amount of
 * input that follows the prefix. */
static void test_read_vector_every_length(void **state)
{
    (void)state;
    for (unsigned prefix_len = 1; prefix_len <= 3; prefix_len++) {
        for (size_t declared = 0; declared <= 8; declared++) {
            for (size_t avail = 0; avail <= 8; avail++) {
                size_t len = prefix_len + avail;
                uint8_t *buf = exact_pattern(len, 5);
                be_encode(declared, prefix_len, buf);
                char ctx[96];
                snprintf(ctx, sizeof(ctx), "u%u prefix, declared %zu, %zu bytes follow",
                         prefix_len * 8, declared, avail);
                cursor_reader r = cursor_reader_init(buf, len);
                const cursor_reader before = r;
                cursor_reader body;
                int rc = cursor_read_vector(&r, prefix_len, 2, 5, &body);
                const bool in_bounds = declared >= 2 && declared <= 5;
                if (in_bounds && declared <= avail)
                    EXPECT_INT(ctx, rc, 0);
                else if (in_bounds)
                    EXPECT_INT(ctx, rc, PETREL_ERR_TRUNCATED);
                else if (declared <= avail)
                    EXPECT_INT(ctx, rc, PETREL_ERR_LENGTH);
                else /* out of bounds and past the end: either error is right */
                    EXPECT_TRUE(ctx, rc == PETREL_ERR_LENGTH || rc == PETREL_ERR_TRUNCATED);
                if (rc == 0) {
                    EXPECT_INT(ctx, r.pos, prefix_len + declared);
                    EXPECT_INT(ctx, cursor_reader_remaining(&body), declared);
                } else {
                    expect_reader_unchanged(ctx, &r, &before);
                }
                free(buf);
            }
        }
    }
}

static void test_reader_finish(void **state)
{
    (void)state;
    static const uint8_t data[3] = {1, 2, 3};
    cursor_reader r = cursor_reader_init(data, sizeof(data));
    assert_int_equal(cursor_reader_finish(&r), PETREL_ERR_TRAILING_DATA);
    assert_int_equal(cursor_skip(&r, 2), 0);
    assert_int_equal(cursor_reader_finish(&r), PETREL_ERR_TRAILING_DATA);
    assert_int_equal(r.pos, 2); /* finish does not consume */
    assert_int_equal(cursor_skip(&r, 1), 0);
    assert_int_equal(cursor_reader_finish(&r), 0);

    cursor_reader empty = cursor_reader_init(NULL, 0);
    assert_int_equal(cursor_reader_finish(&empty), 0);
    empty = cursor_reader_init(data, 0);
    assert_int_equal(cursor_reader_finish(&empty), 0);
}

static void test_reader_finish_on_sub_reader(void **state)
{
    (void)state;
    uint8_t decoded[16];
    size_t len = hex_decode("03 0a0b0c ff", decoded, sizeof(decoded));
    uint8_t *buf = exact_copy(decoded, len);

    /* consumed exactly */
    cursor_reader r = cursor_reader_init(buf, len);
    cursor_reader body;
    assert_int_equal(cursor_read_vector(&r, 1, 0, 255, &body), 0);
    uint8_t b;
    uint16_t h;
    assert_int_equal(cursor_read_u16(&body, &h), 0);
    assert_int_equal(h, 0x0a0b);
    assert_int_equal(cursor_reader_finish(&body), PETREL_ERR_TRAILING_DATA);
    assert_int_equal(cursor_read_u8(&body, &b), 0);
    assert_int_equal(b, 0x0c);
    assert_int_equal(cursor_reader_finish(&body), 0);
    /* the parent still has its trailing byte */
    assert_int_equal(cursor_reader_finish(&r), PETREL_ERR_TRAILING_DATA);
    assert_int_equal(r.pos, 4);

    /* left unconsumed */
    r = cursor_reader_init(buf, len);
    assert_int_equal(cursor_read_vector(&r, 1, 0, 255, &body), 0);
    assert_int_equal(cursor_read_u8(&body, &b), 0);
    assert_int_equal(cursor_reader_finish(&body), PETREL_ERR_TRAILING_DATA);

    /* a body read past its end fails even though the parent has bytes */
    assert_int_equal(cursor_read_u16(&body, &h), 0);
    assert_int_equal(cursor_read_u8(&body, &b), PETREL_ERR_TRUNCATED);
    assert_int_equal(cursor_reader_finish(&body), 0);
    free(buf);
}

static void test_read_nested_vectors(void **state)
{
    (void)state;
    /* outer<u16> { a<u8> = {aa bb}, b<u8> = {cc dd ee}, c<u16> { d<u8> = {} } } */
    uint8_t decoded[32];
    size_t len = hex_decode("000a 02aabb 03ccddee 0001 00", decoded, sizeof(decoded));
    uint8_t *buf = exact_copy(decoded, len);
    cursor_reader r = cursor_reader_init(buf, len);
    cursor_reader outer, a, b, c, d;
    assert_int_equal(cursor_read_vector(&r, 2, 0, 65535, &outer), 0);
    assert_int_equal(cursor_reader_finish(&r), 0);
    assert_int_equal(cursor_read_vector(&outer, 1, 1, 10, &a), 0);
    assert_int_equal(cursor_read_vector(&outer, 1, 1, 10, &b), 0);
    assert_int_equal(cursor_read_vector(&outer, 2, 0, 10, &c), 0);
    assert_int_equal(cursor_reader_finish(&outer), 0);
    assert_int_equal(cursor_read_vector(&c, 1, 0, 0, &d), 0);
    assert_int_equal(cursor_reader_finish(&c), 0);
    assert_int_equal(cursor_reader_remaining(&a), 2);
    assert_memory_equal(cursor_reader_ptr(&a), "\xaa\xbb", 2);
    assert_int_equal(cursor_reader_remaining(&b), 3);
    assert_memory_equal(cursor_reader_ptr(&b), "\xcc\xdd\xee", 3);
    assert_int_equal(cursor_reader_remaining(&d), 0);
    free(buf);

    /* An inner vector that claims more than its outer vector holds is
     * truncated, even though the whole input has the bytes. */
    len = hex_decode("0003 05aabb ccddee", decoded, sizeof(decoded));
    buf = exact_copy(decoded, len);
    r = cursor_reader_init(buf, len);
    assert_int_equal(cursor_read_vector(&r, 2, 0, 65535, &outer), 0);
    const cursor_reader outer_before = outer;
    assert_int_equal(cursor_read_vector(&outer, 1, 0, 255, &a), PETREL_ERR_TRUNCATED);
    assert_true(reader_same(&outer, &outer_before));
    const uint8_t *view = NULL;
    size_t view_len = 0;
    assert_int_equal(cursor_read_vector_view(&outer, 1, 0, 255, &view, &view_len),
                     PETREL_ERR_TRUNCATED);
    assert_true(reader_same(&outer, &outer_before));
    assert_int_equal(r.pos, 5);
    free(buf);
}

/* ---- writer: basics ---- */

static void test_writer_init_and_accessors(void **state)
{
    (void)state;
    uint8_t buf[8];
    cursor_writer w = cursor_writer_init(buf, sizeof(buf));
    assert_ptr_equal(w.data, buf);
    assert_int_equal(w.cap, 8);
    assert_int_equal(w.len, 0);
    assert_true(cursor_writer_valid(&w));
    assert_int_equal(cursor_writer_space(&w), 8);
    assert_int_equal(cursor_write_u16(&w, 0x0102), 0);
    assert_int_equal(cursor_writer_space(&w), 6);
    assert_int_equal(w.len, 2);

    const cursor_writer ok_full = {buf, 8, 8};
    const cursor_writer ok_empty = {NULL, 0, 0};
    const cursor_writer len_past_cap = {buf, 8, 9};
    const cursor_writer null_with_cap = {NULL, 8, 0};
    const cursor_writer null_len_past = {NULL, 0, 1};
    assert_true(cursor_writer_valid(&ok_full));
    assert_int_equal(cursor_writer_space(&ok_full), 0);
    assert_true(cursor_writer_valid(&ok_empty));
    assert_false(cursor_writer_valid(&len_past_cap));
    assert_false(cursor_writer_valid(&null_with_cap));
    assert_false(cursor_writer_valid(&null_len_past));
}

static void test_writer_null_zero_capacity(void **state)
{
    (void)state;
    cursor_writer w = cursor_writer_init(NULL, 0);
    const cursor_writer before = w;
    assert_true(cursor_writer_valid(&w));
    assert_int_equal(cursor_writer_space(&w), 0);
    for (size_t f = 0; f < PETREL_ARRAY_LEN(int_fields); f++) {
        assert_int_equal(int_fields[f].write(&w, 1), PETREL_ERR_BUFFER_TOO_SMALL);
        assert_true(writer_same(&w, &before));
    }
    assert_int_equal(cursor_write_bytes(&w, NULL, 0), 0);
    assert_int_equal(cursor_write_bytes(&w, "x", 1), PETREL_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(cursor_write_zeros(&w, 0), 0);
    assert_int_equal(cursor_write_zeros(&w, 1), PETREL_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(cursor_write_zeros(&w, SIZE_MAX), PETREL_ERR_BUFFER_TOO_SMALL);
    uint8_t *out = NULL;
    assert_int_equal(cursor_write_reserve(&w, 0, &out), 0);
    uint8_t marker;
    out = &marker;
    assert_int_equal(cursor_write_reserve(&w, 1, &out), PETREL_ERR_BUFFER_TOO_SMALL);
    assert_ptr_equal(out, &marker);
    cursor_vector vec;
    for (unsigned p = 1; p <= 3; p++)
        assert_int_equal(cursor_vector_open(&w, p, &vec), PETREL_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(cursor_write_vector(&w, 1, 0, 10, NULL, 0), PETREL_ERR_BUFFER_TOO_SMALL);
    assert_true(writer_same(&w, &before));
    assert_true(cursor_writer_valid(&w));
}

/* ---- writer: table of single operations ---- */

typedef enum writer_op {
    WR_U8,
    WR_U16,
    WR_U24,
    WR_U32,
    WR_U48,
    WR_U64,
    WR_BYTES,
    WR_ZEROS,
    WR_RESERVE,
} writer_op;

typedef struct writer_row {
    size_t cap;
    size_t start; /* writer length before the call */
    writer_op op;
    uint64_t value; /* for integers */
    size_t n;       /* for bytes, zeros and reserve */
    int rc;
    size_t len;         /* writer length after the call */
    const char *expect; /* hex of buffer[start, len) after success; NULL: don't check */
} writer_row;

#define SMALL PETREL_ERR_BUFFER_TOO_SMALL
#define RANGE PETREL_ERR_VALUE_RANGE

static const writer_row writer_rows[] = {
    /* u8 */
    {1, 0, WR_U8, 0xab, 0, 0, 1, "ab"},
    {0, 0, WR_U8, 0xab, 0, SMALL, 0, NULL},
    {2, 1, WR_U8, 0x00, 0, 0, 2, "00"},
    {2, 2, WR_U8, 0xff, 0, SMALL, 2, NULL},
    /* u16 */
    {2, 0, WR_U16, 0xbeef, 0, 0, 2, "beef"},
    {2, 0, WR_U16, 0x0001, 0, 0, 2, "0001"},
    {1, 0, WR_U16, 0xbeef, 0, SMALL, 0, NULL},
    {3, 1, WR_U16, 0x8000, 0, 0, 3, "8000"},
    {3, 2, WR_U16, 0x8000, 0, SMALL, 2, NULL},
    /* u24 */
    {3, 0, WR_U24, 0x123456, 0, 0, 3, "123456"},
    {3, 0, WR_U24, 0xffffff, 0, 0, 3, "ffffff"},
    {3, 0, WR_U24, 0x000001, 0, 0, 3, "000001"},
    {2, 0, WR_U24, 0x123456, 0, SMALL, 0, NULL},
    {3, 0, WR_U24, 0x1000000, 0, RANGE, 0, NULL},
    {8, 0, WR_U24, 0xffffffff, 0, RANGE, 0, NULL},
    {8, 5, WR_U24, 0x1000000, 0, RANGE, 5, NULL},
    {4, 1, WR_U24, 0x800000, 0, 0, 4, "800000"},
    /* u32 */
    {4, 0, WR_U32, 0xdeadbeef, 0, 0, 4, "deadbeef"},
    {4, 0, WR_U32, 0xffffffff, 0, 0, 4, "ffffffff"},
    {3, 0, WR_U32, 0xdeadbeef, 0, SMALL, 0, NULL},
    {5, 2, WR_U32, 0xdeadbeef, 0, SMALL, 2, NULL},
    /* u48 */
    {6, 0, WR_U48, 0x0102030405ull << 8, 0, 0, 6, "010203040500"},
    {6, 0, WR_U48, 0xffffffffffffull, 0, 0, 6, "ffffffffffff"},
    {6, 0, WR_U48, 0x800000000001ull, 0, 0, 6, "800000000001"},
    {5, 0, WR_U48, 1, 0, SMALL, 0, NULL},
    {6, 0, WR_U48, 1ull << 48, 0, RANGE, 0, NULL},
    {8, 0, WR_U48, UINT64_MAX, 0, RANGE, 0, NULL},
    {8, 0, WR_U48, 0x8000000000000000ull, 0, RANGE, 0, NULL},
    /* u64 */
    {8, 0, WR_U64, 0x0102030405060708ull, 0, 0, 8, "0102030405060708"},
    {8, 0, WR_U64, UINT64_MAX, 0, 0, 8, "ffffffffffffffff"},
    {7, 0, WR_U64, 1, 0, SMALL, 0, NULL},
    {9, 1, WR_U64, 0x8000000000000000ull, 0, 0, 9, "8000000000000000"},
    {9, 2, WR_U64, 1, 0, SMALL, 2, NULL},
    /* bytes (the source is 01 02 03 ...) */
    {4, 0, WR_BYTES, 0, 4, 0, 4, "01020304"},
    {4, 0, WR_BYTES, 0, 5, SMALL, 0, NULL},
    {4, 1, WR_BYTES, 0, 3, 0, 4, "010203"},
    {4, 1, WR_BYTES, 0, 4, SMALL, 1, NULL},
    {4, 4, WR_BYTES, 0, 0, 0, 4, ""},
    {4, 4, WR_BYTES, 0, 1, SMALL, 4, NULL},
    {0, 0, WR_BYTES, 0, 0, 0, 0, ""},
    /* zeros */
    {4, 0, WR_ZEROS, 0, 4, 0, 4, "00000000"},
    {4, 0, WR_ZEROS, 0, 5, SMALL, 0, NULL},
    {4, 3, WR_ZEROS, 0, 1, 0, 4, "00"},
    {4, 3, WR_ZEROS, 0, 2, SMALL, 3, NULL},
    {4, 4, WR_ZEROS, 0, 0, 0, 4, ""},
    {4, 2, WR_ZEROS, 0, SIZE_MAX, SMALL, 2, NULL},
    {4, 2, WR_ZEROS, 0, SIZE_MAX - 1, SMALL, 2, NULL}, /* len + n wraps to 0 */
    {4, 2, WR_ZEROS, 0, SIZE_MAX - 2, SMALL, 2, NULL}, /* len + n wraps to cap - 1 */
    /* reserve */
    {4, 0, WR_RESERVE, 0, 4, 0, 4, NULL},
    {4, 0, WR_RESERVE, 0, 5, SMALL, 0, NULL},
    {4, 1, WR_RESERVE, 0, 3, 0, 4, NULL},
    {4, 1, WR_RESERVE, 0, 4, SMALL, 1, NULL},
    {4, 4, WR_RESERVE, 0, 0, 0, 4, NULL},
    {4, 4, WR_RESERVE, 0, 1, SMALL, 4, NULL},
    {4, 0, WR_RESERVE, 0, SIZE_MAX, SMALL, 0, NULL},
    {4, 3, WR_RESERVE, 0, SIZE_MAX, SMALL, 3, NULL},     /* len + n wraps to 2 */
    {4, 3, WR_RESERVE, 0, SIZE_MAX - 2, SMALL, 3, NULL}, /* len + n wraps to 0 */
};

static const char *const writer_op_names[] = {"u8",  "u16",   "u24",   "u32",    "u48",
                                              "u64", "bytes", "zeros", "reserve"};

static void test_writer_table(void **state)
{
    (void)state;
    static const uint8_t source[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(writer_rows); i++) {
        const writer_row *row = &writer_rows[i];
        char ctx[128];
        snprintf(ctx, sizeof(ctx), "writer row %zu (%s value 0x%llx n %zu, cap %zu at %zu)", i,
                 writer_op_names[row->op], (unsigned long long)row->value, row->n, row->cap,
                 row->start);
        uint8_t *buf = canary_buffer(row->cap);
        memset(buf, 0x11, row->start); /* bytes already written */
        cursor_writer w = cursor_writer_init(buf, row->cap);
        w.len = row->start;
        const cursor_writer before = w;
        uint8_t marker;
        uint8_t *reserved = &marker;
        int rc;
        switch (row->op) {
        case WR_U8:
        case WR_U16:
        case WR_U24:
        case WR_U32:
        case WR_U48:
        case WR_U64:
            rc = int_fields[row->op].write(&w, row->value);
            break;
        case WR_BYTES:
            rc = cursor_write_bytes(&w, row->n > 0 ? source : NULL, row->n);
            break;
        case WR_ZEROS:
            rc = cursor_write_zeros(&w, row->n);
            break;
        case WR_RESERVE:
        default:
            rc = cursor_write_reserve(&w, row->n, &reserved);
            break;
        }
        EXPECT_INT(ctx, rc, row->rc);
        EXPECT_INT(ctx, w.len, row->len);
        EXPECT_TRUE(ctx, cursor_writer_valid(&w));
        EXPECT_TRUE(ctx, w.data == buf && w.cap == row->cap);
        for (size_t b = 0; b < row->start; b++)
            if (buf[b] != 0x11)
                fail_msg("%s: byte %zu before the write changed", ctx, b);
        if (rc != 0) {
            expect_writer_unchanged(ctx, &w, &before);
            expect_canary(ctx, buf, row->start, row->cap + GUARD_LEN);
            EXPECT_TRUE(ctx, reserved == &marker);
        } else {
            expect_canary(ctx, buf, row->len, row->cap + GUARD_LEN);
            if (row->op == WR_RESERVE)
                EXPECT_TRUE(ctx, reserved == buf + row->start);
            if (row->expect != NULL) {
                uint8_t want[16];
                size_t want_len = hex_decode(row->expect, want, sizeof(want));
                EXPECT_INT(ctx, want_len, row->len - row->start);
                if (want_len > 0 && memcmp(buf + row->start, want, want_len) != 0)
                    fail_msg("%s: wrong bytes written", ctx);
            }
        }
        free(buf);
    }
}

/* ---- writer: every width, every capacity, every starting length ---- */

static void test_writer_ints_every_capacity_and_position(void **state)
{
    (void)state;
    for (size_t f = 0; f < PETREL_ARRAY_LEN(int_fields); f++) {
        const int_field *field = &int_fields[f];
        const uint64_t values[] = {0, 1, field->high_value, field->largest};
        for (size_t v = 0; v < PETREL_ARRAY_LEN(values); v++) {
            for (size_t cap = 0; cap <= field->width + 2; cap++) {
                for (size_t start = 0; start <= cap; start++) {
                    char ctx[128];
                    snprintf(ctx, sizeof(ctx), "write %s 0x%llx, cap %zu, start %zu", field->name,
                             (unsigned long long)values[v], cap, start);
                    uint8_t *buf = canary_buffer(cap);
                    memset(buf, 0x22, start);
                    cursor_writer w = cursor_writer_init(buf, cap);
                    w.len = start;
                    const cursor_writer before = w;
                    int rc = field->write(&w, values[v]);
                    EXPECT_TRUE(ctx, cursor_writer_valid(&w));
                    for (size_t b = 0; b < start; b++)
                        if (buf[b] != 0x22)
                            fail_msg("%s: byte %zu before the write changed", ctx, b);
                    if (cap - start >= field->width) {
                        EXPECT_INT(ctx, rc, 0);
                        EXPECT_INT(ctx, w.len, start + field->width);
                        EXPECT_TRUE(ctx, w.data == buf && w.cap == cap);
                        EXPECT_U64(ctx, be_value(buf + start, field->width), values[v]);
                        expect_canary(ctx, buf, start + field->width, cap + GUARD_LEN);
                    } else {
                        EXPECT_INT(ctx, rc, PETREL_ERR_BUFFER_TOO_SMALL);
                        expect_writer_unchanged(ctx, &w, &before);
                        expect_canary(ctx, buf, start, cap + GUARD_LEN);
                    }
                    free(buf);
                }
            }
        }
    }
}

static void test_writer_value_range(void **state)
{
    (void)state;
    uint8_t *buf = canary_buffer(16);
    cursor_writer w = cursor_writer_init(buf, 16);
    const cursor_writer before = w;
    static const uint32_t bad24[] = {0x1000000u, 0x1FFFFFFu, 0x80000000u, UINT32_MAX};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(bad24); i++) {
        assert_int_equal(cursor_write_u24(&w, bad24[i]), PETREL_ERR_VALUE_RANGE);
        assert_true(writer_same(&w, &before));
    }
    static const uint64_t bad48[] = {1ull << 48, (1ull << 48) + 1, 1ull << 63, UINT64_MAX};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(bad48); i++) {
        assert_int_equal(cursor_write_u48(&w, bad48[i]), PETREL_ERR_VALUE_RANGE);
        assert_true(writer_same(&w, &before));
    }
    expect_canary("value range", buf, 0, 16 + GUARD_LEN);
    assert_int_equal(cursor_write_u24(&w, 0xFFFFFFu), 0);
    assert_int_equal(cursor_write_u48(&w, (1ull << 48) - 1), 0);
    assert_int_equal(w.len, 9);
    assert_memory_equal(buf, "\xff\xff\xff\xff\xff\xff\xff\xff\xff", 9);
    free(buf);
}

static void test_writer_reserve_then_fill(void **state)
{
    (void)state;
    uint8_t buf[8];
    memset(buf, CANARY, sizeof(buf));
    cursor_writer w = cursor_writer_init(buf, sizeof(buf));
    uint8_t *slot = NULL;
    assert_int_equal(cursor_write_u8(&w, 0xAA), 0);
    assert_int_equal(cursor_write_reserve(&w, 2, &slot), 0);
    assert_ptr_equal(slot, buf + 1);
    assert_int_equal(cursor_write_u8(&w, 0xBB), 0);
    slot[0] = 0x12;
    slot[1] = 0x34;
    assert_int_equal(w.len, 4);
    assert_memory_equal(buf, "\xaa\x12\x34\xbb", 4);
    /* reserve 0 gives the current end */
    assert_int_equal(cursor_write_reserve(&w, 0, &slot), 0);
    assert_ptr_equal(slot, buf + 4);
    assert_int_equal(w.len, 4);
}

/* ---- writer: vectors ---- */

typedef struct vector_close_row {
    const char *desc;
    unsigned prefix_len;
    size_t min, max;
    size_t body_len;
    int rc;
} vector_close_row;

static const vector_close_row vector_close_rows[] = {
    {"u8 prefix, body at min", 1, 2, 5, 2, 0},
    {"u8 prefix, body at max", 1, 2, 5, 5, 0},
    {"u8 prefix, body min-1", 1, 2, 5, 1, LEN},
    {"u8 prefix, body max+1", 1, 2, 5, 6, LEN},
    {"u8 prefix, empty body", 1, 0, 0, 0, 0},
    {"u8 prefix, empty body below min", 1, 1, 10, 0, LEN},
    {"u8 prefix, 255 bytes (the prefix's limit)", 1, 0, 255, 255, 0},
    {"u8 prefix, 255 bytes with max beyond the prefix", 1, 0, 1000, 255, 0},
    {"u8 prefix, 256 bytes with max 1000", 1, 0, 1000, 256, LEN},
    {"u8 prefix, 256 bytes with max SIZE_MAX", 1, 0, SIZE_MAX, 256, LEN},
    {"u16 prefix, body at min", 2, 3, 300, 3, 0},
    {"u16 prefix, body at max", 2, 3, 300, 300, 0},
    {"u16 prefix, body min-1", 2, 3, 300, 2, LEN},
    {"u16 prefix, body max+1", 2, 3, 300, 301, LEN},
    {"u16 prefix, empty body", 2, 0, 10, 0, 0},
    {"u16 prefix, 65535 bytes (the prefix's limit)", 2, 0, 65535, 65535, 0},
    {"u16 prefix, 65536 bytes with max SIZE_MAX", 2, 0, SIZE_MAX, 65536, LEN},
    {"u24 prefix, body at min", 3, 1, 70000, 1, 0},
    {"u24 prefix, body at max", 3, 1, 70000, 70000, 0},
    {"u24 prefix, body min-1", 3, 1, 70000, 0, LEN},
    {"u24 prefix, body max+1", 3, 1, 70000, 70001, LEN},
    {"u24 prefix, 2^24-1 bytes (the prefix's limit)", 3, 0, U24_MAX_LEN, U24_MAX_LEN, 0},
    {"u24 prefix, 2^24 bytes with max SIZE_MAX", 3, 0, SIZE_MAX, U24_MAX_LEN + 1, LEN},
};

#define LEAD_LEN 2 /* bytes written before each vector */

static void check_vector_close_row(const vector_close_row *row)
{
    char ctx[160];
    snprintf(ctx, sizeof(ctx), "vector close \"%s\"", row->desc);
    /* Exactly enough capacity for the lead, the prefix and the body. */
    const size_t cap = LEAD_LEN + row->prefix_len + row->body_len;
    uint8_t *buf = canary_buffer(cap);
    cursor_writer w = cursor_writer_init(buf, cap);
    EXPECT_INT(ctx, cursor_write_u16(&w, 0x5051), 0);

    cursor_vector vec;
    EXPECT_INT(ctx, cursor_vector_open(&w, row->prefix_len, &vec), 0);
    EXPECT_TRUE(ctx, cursor_writer_valid(&w));
    EXPECT_INT(ctx, vec.prefix_pos, LEAD_LEN);
    EXPECT_INT(ctx, vec.prefix_len, row->prefix_len);
    EXPECT_INT(ctx, w.len, LEAD_LEN + row->prefix_len);

    uint8_t *body = NULL;
    EXPECT_INT(ctx, cursor_write_reserve(&w, row->body_len, &body), 0);
    for (size_t i = 0; i < row->body_len; i++)
        body[i] = pattern_byte(i);

    int rc = cursor_vector_close(&w, &vec, row->min, row->max);
    EXPECT_INT(ctx, rc, row->rc);
    EXPECT_TRUE(ctx, cursor_writer_valid(&w));
    EXPECT_TRUE(ctx, w.data == buf && w.cap == cap);
    EXPECT_TRUE(ctx, buf[0] == 0x50 && buf[1] == 0x51);
    expect_canary(ctx, buf, cap, cap + GUARD_LEN);
    if (rc == 0) {
        EXPECT_INT(ctx, w.len, cap);
        EXPECT_U64(ctx, be_value(buf + LEAD_LEN, row->prefix_len), row->body_len);
        for (size_t i = 0; i < row->body_len; i++)
            if (buf[LEAD_LEN + row->prefix_len + i] != pattern_byte(i))
                fail_msg("%s: body byte %zu changed by close", ctx, i);
    } else {
        /* rolled back to where the vector began, prefix included */
        EXPECT_INT(ctx, w.len, LEAD_LEN);
        /* and the writer is usable from there */
        EXPECT_INT(ctx, cursor_write_u8(&w, 0x77), 0);
        EXPECT_INT(ctx, buf[LEAD_LEN], 0x77);
    }
    free(buf);
}

static void test_vector_close_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < PETREL_ARRAY_LEN(vector_close_rows); i++)
        check_vector_close_row(&vector_close_rows[i]);
}

static void test_vector_open_bad_prefix_and_no_space(void **state)
{
    (void)state;
    for (unsigned prefix_len = 0; prefix_len <= 8; prefix_len++) {
        uint8_t *buf = canary_buffer(16);
        cursor_writer w = cursor_writer_init(buf, 16);
        const cursor_writer before = w;
        cursor_vector vec;
        int rc = cursor_vector_open(&w, prefix_len, &vec);
        if (prefix_len >= 1 && prefix_len <= 3) {
            assert_int_equal(rc, 0);
            assert_int_equal(w.len, prefix_len);
        } else {
            assert_int_equal(rc, PETREL_ERR_ARG);
            assert_true(writer_same(&w, &before));
            expect_canary("vector open bad prefix", buf, 0, 16 + GUARD_LEN);
        }
        free(buf);
    }
    for (unsigned prefix_len = 1; prefix_len <= 3; prefix_len++) {
        for (size_t cap = 0; cap <= prefix_len + 1; cap++) {
            for (size_t start = 0; start <= cap; start++) {
                char ctx[96];
                snprintf(ctx, sizeof(ctx), "vector open u%u, cap %zu, start %zu", prefix_len * 8,
                         cap, start);
                uint8_t *buf = canary_buffer(cap);
                cursor_writer w = cursor_writer_init(buf, cap);
                w.len = start;
                const cursor_writer before = w;
                cursor_vector vec;
                int rc = cursor_vector_open(&w, prefix_len, &vec);
                if (cap - start >= prefix_len) {
                    EXPECT_INT(ctx, rc, 0);
                    EXPECT_INT(ctx, w.len, start + prefix_len);
                    EXPECT_INT(ctx, vec.prefix_pos, start);
                    /* a body of 0 closes into the exact space */
                    EXPECT_INT(ctx, cursor_vector_close(&w, &vec, 0, 0), 0);
                    EXPECT_INT(ctx, w.len, start + prefix_len);
                    EXPECT_U64(ctx, be_value(buf + start, prefix_len), 0);
                } else {
                    EXPECT_INT(ctx, rc, PETREL_ERR_BUFFER_TOO_SMALL);
                    expect_writer_unchanged(ctx, &w, &before);
                }
                expect_canary(ctx, buf, cap, cap + GUARD_LEN);
                free(buf);
            }
        }
    }
}

static void test_vector_close_min_greater_than_max(void **state)
{
    (void)state;
    uint8_t buf[16];
    cursor_writer w = cursor_writer_init(buf, sizeof(buf));
    assert_int_equal(cursor_write_u8(&w, 0xEE), 0);
    cursor_vector vec;
    assert_int_equal(cursor_vector_open(&w, 2, &vec), 0);
    assert_int_equal(cursor_write_u16(&w, 0x0102), 0);
    int rc = cursor_vector_close(&w, &vec, 3, 1);
    assert_true(rc == PETREL_ERR_ARG || rc == PETREL_ERR_LENGTH);
    assert_int_equal(w.len, 1);
    assert_true(cursor_writer_valid(&w));
}

static void test_vector_close_foreign_vector(void **state)
{
    (void)state;
    uint8_t big[64], small[8];
    cursor_writer wb = cursor_writer_init(big, sizeof(big));
    cursor_writer ws = cursor_writer_init(small, sizeof(small));
    assert_int_equal(cursor_write_zeros(&wb, 20), 0);
    cursor_vector foreign;
    assert_int_equal(cursor_vector_open(&wb, 2, &foreign), 0);
    assert_int_equal(cursor_write_zeros(&ws, 4), 0);
    const cursor_writer before = ws;

    /* a vector whose prefix lies past the writer's end */
    int rc = cursor_vector_close(&ws, &foreign, 0, 100);
    assert_int_equal(rc, PETREL_ERR_ARG);
    assert_true(cursor_writer_valid(&ws));
    assert_true(ws.len <= before.len);

    /* a vector whose prefix starts inside but ends past the writer's end */
    ws = before;
    cursor_vector straddling = {3, 2};
    rc = cursor_vector_close(&ws, &straddling, 0, 100);
    assert_int_equal(rc, PETREL_ERR_ARG);
    assert_true(cursor_writer_valid(&ws));
    assert_true(ws.len <= before.len);

    /* invalid prefix widths */
    static const uint8_t bad_widths[] = {0, 4, 255};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(bad_widths); i++) {
        ws = before;
        cursor_vector bad = {1, bad_widths[i]};
        rc = cursor_vector_close(&ws, &bad, 0, 100);
        assert_int_equal(rc, PETREL_ERR_ARG);
        assert_true(cursor_writer_valid(&ws));
        assert_true(ws.len <= before.len);
    }

    /* a prefix position near SIZE_MAX must not overflow prefix_pos + width */
    ws = before;
    cursor_vector huge = {SIZE_MAX - 1, 2};
    rc = cursor_vector_close(&ws, &huge, 0, 100);
    assert_int_equal(rc, PETREL_ERR_ARG);
    assert_true(cursor_writer_valid(&ws));
    assert_true(ws.len <= before.len);
}

static void test_vector_nested_golden(void **state)
{
    (void)state;
    uint8_t *buf = canary_buffer(32);
    cursor_writer w = cursor_writer_init(buf, 32);
    cursor_vector outer, inner, innermost;
    assert_int_equal(cursor_vector_open(&w, 2, &outer), 0);
    assert_int_equal(cursor_write_u16(&w, 0x0303), 0);
    assert_int_equal(cursor_vector_open(&w, 1, &inner), 0);
    assert_int_equal(cursor_write_bytes(&w, "abc", 3), 0);
    assert_int_equal(cursor_vector_open(&w, 3, &innermost), 0);
    assert_int_equal(cursor_write_u8(&w, 0x7f), 0);
    assert_int_equal(cursor_vector_close(&w, &innermost, 1, 10), 0);
    assert_int_equal(cursor_vector_close(&w, &inner, 1, 255), 0);
    assert_int_equal(cursor_write_vector(&w, 2, 0, 10, NULL, 0), 0);
    assert_int_equal(cursor_vector_close(&w, &outer, 0, 65535), 0);

    uint8_t want[32];
    size_t want_len = hex_decode("000c 0303 07 616263 000001 7f 0000", want, sizeof(want));
    assert_int_equal(w.len, want_len);
    assert_memory_equal(buf, want, want_len);
    expect_canary("nested golden", buf, want_len, 32 + GUARD_LEN);
    free(buf);
}

static void test_vector_nested_inner_failure_rolls_back_inner_only(void **state)
{
    (void)state;
    uint8_t buf[32];
    cursor_writer w = cursor_writer_init(buf, sizeof(buf));
    cursor_vector outer, inner;
    assert_int_equal(cursor_vector_open(&w, 2, &outer), 0);
    assert_int_equal(cursor_write_u8(&w, 0x01), 0);
    assert_int_equal(cursor_vector_open(&w, 1, &inner), 0);
    assert_int_equal(cursor_write_bytes(&w, "xyz", 3), 0);
    assert_int_equal(cursor_vector_close(&w, &inner, 5, 10), PETREL_ERR_LENGTH);
    assert_int_equal(w.len, 3); /* back to where the inner vector began */
    assert_int_equal(cursor_vector_close(&w, &outer, 1, 100), 0);
    assert_int_equal(w.len, 3);
    assert_memory_equal(buf, "\x00\x01\x01", 3);
}

static void test_vector_nested_outer_failure_rolls_back_everything(void **state)
{
    (void)state;
    uint8_t buf[32];
    cursor_writer w = cursor_writer_init(buf, sizeof(buf));
    assert_int_equal(cursor_write_u8(&w, 0x99), 0);
    cursor_vector outer, inner;
    assert_int_equal(cursor_vector_open(&w, 1, &outer), 0);
    assert_int_equal(cursor_vector_open(&w, 1, &inner), 0);
    assert_int_equal(cursor_write_bytes(&w, "abcd", 4), 0);
    assert_int_equal(cursor_vector_close(&w, &inner, 0, 255), 0);
    assert_int_equal(w.len, 7);
    /* the outer body is 5 bytes, above its max of 3 */
    assert_int_equal(cursor_vector_close(&w, &outer, 0, 3), PETREL_ERR_LENGTH);
    assert_int_equal(w.len, 1);
    assert_int_equal(buf[0], 0x99);
    assert_true(cursor_writer_valid(&w));
}

typedef struct write_vector_row {
    const char *desc;
    size_t cap;
    size_t start;
    unsigned prefix_len;
    size_t min, max;
    size_t n;
    int rc;
    const char *expect; /* hex of buffer[start, len) after success */
} write_vector_row;

static const write_vector_row write_vector_rows[] = {
    {"u8 prefix", 4, 0, 1, 0, 255, 3, 0, "03 a0a1a2"},
    {"u16 prefix", 5, 0, 2, 0, 65535, 3, 0, "0003 a0a1a2"},
    {"u24 prefix", 6, 0, 3, 0, U24_MAX_LEN, 3, 0, "000003 a0a1a2"},
    {"u8 prefix, empty from NULL", 1, 0, 1, 0, 10, 0, 0, "00"},
    {"u16 prefix, empty from NULL", 2, 0, 2, 0, 10, 0, 0, "0000"},
    {"u24 prefix, empty from NULL", 3, 0, 3, 0, 10, 0, 0, "000000"},
    {"at min", 3, 0, 1, 2, 4, 2, 0, "02 a0a1"},
    {"at max", 5, 0, 1, 2, 4, 4, 0, "04 a0a1a2a3"},
    {"below min", 8, 0, 1, 2, 4, 1, LEN, NULL},
    {"above max", 8, 0, 1, 2, 4, 5, LEN, NULL},
    {"u16 below min", 8, 0, 2, 2, 4, 1, LEN, NULL},
    {"u24 above max", 16, 0, 3, 2, 4, 5, LEN, NULL},
    {"256 bytes in a u8 prefix with max 1000", 300, 0, 1, 0, 1000, 256, LEN, NULL},
    {"65536 bytes in a u16 prefix", 70000, 0, 2, 0, SIZE_MAX, 65536, LEN, NULL},
    {"exact capacity after earlier bytes", 6, 2, 1, 0, 10, 3, 0, "03 a0a1a2"},
    {"one byte short", 5, 2, 1, 0, 10, 3, SMALL, NULL},
    {"u24 prefix one byte short", 6, 1, 3, 0, 10, 3, SMALL, NULL},
    {"prefix does not fit", 3, 1, 3, 0, 10, 0, SMALL, NULL},
    {"full writer", 4, 4, 1, 0, 10, 0, SMALL, NULL},
    {"prefix_len 0", 8, 0, 0, 0, 10, 2, ARG, NULL},
    {"prefix_len 4", 8, 0, 4, 0, 10, 2, ARG, NULL},
};

static void test_write_vector_table(void **state)
{
    (void)state;
    const size_t src_len = 70000;
    uint8_t *src = malloc(src_len);
    assert_non_null(src);
    for (size_t i = 0; i < src_len; i++)
        src[i] = (uint8_t)(0xA0 + i);
    for (size_t i = 0; i < PETREL_ARRAY_LEN(write_vector_rows); i++) {
        const write_vector_row *row = &write_vector_rows[i];
        char ctx[128];
        snprintf(ctx, sizeof(ctx), "write vector \"%s\"", row->desc);
        uint8_t *buf = canary_buffer(row->cap);
        memset(buf, 0x33, row->start);
        cursor_writer w = cursor_writer_init(buf, row->cap);
        w.len = row->start;
        const cursor_writer before = w;
        int rc = cursor_write_vector(&w, row->prefix_len, row->min, row->max,
                                     row->n > 0 ? src : NULL, row->n);
        EXPECT_INT(ctx, rc, row->rc);
        EXPECT_TRUE(ctx, cursor_writer_valid(&w));
        expect_canary(ctx, buf, row->cap, row->cap + GUARD_LEN);
        for (size_t b = 0; b < row->start; b++)
            if (buf[b] != 0x33)
                fail_msg("%s: byte %zu before the vector changed", ctx, b);
        if (rc == 0) {
            uint8_t want[16];
            size_t want_len = hex_decode(row->expect, want, sizeof(want));
            EXPECT_INT(ctx, w.len, row->start + want_len);
            if (memcmp(buf + row->start, want, want_len) != 0)
                fail_msg("%s: wrong bytes written", ctx);
        } else {
            expect_writer_unchanged(ctx, &w, &before);
        }
        free(buf);
    }
    free(src);
}

static void test_write_vector_min_greater_than_max(void **state)
{
    (void)state;
    uint8_t buf[16];
    cursor_writer w = cursor_writer_init(buf, sizeof(buf));
    const cursor_writer before = w;
    int rc = cursor_write_vector(&w, 1, 5, 4, "abcd", 4);
    assert_true(rc == PETREL_ERR_ARG || rc == PETREL_ERR_LENGTH);
    assert_true(writer_same(&w, &before));
}

/* ---- writer → reader round trip ---- */

static void test_round_trip_structure(void **state)
{
    (void)state;
    static const uint8_t client_random[32] = {
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
        0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a,
        0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0,
    };
    static const uint8_t session[8] = {8, 7, 6, 5, 4, 3, 2, 1};
    static const uint16_t suites[3] = {0x1301, 0x1302, 0xc02b};
    static const uint16_t groups[2] = {0x001d, 0x0017};

    uint8_t buf[256];
    cursor_writer w = cursor_writer_init(buf, sizeof(buf));
    /* Handshake { type; uint24 length; uint16 seq; uint48 epoch_seq;
     * body<0..2^24-1> { version; random; session<0..32>; suites<2..2^16-2>;
     * compression<1..255>; extensions<0..2^16-1> } ; uint32 trailer;
     * uint64 tail } */
    assert_int_equal(cursor_write_u8(&w, 1), 0);
    uint8_t *length_field = NULL;
    assert_int_equal(cursor_write_reserve(&w, 3, &length_field), 0);
    assert_int_equal(cursor_write_u16(&w, 0x0102), 0);
    assert_int_equal(cursor_write_u48(&w, 0x0000DEADBEEF01ull), 0);
    cursor_vector body, vec, ext, ext_body, list;
    assert_int_equal(cursor_vector_open(&w, 3, &body), 0);
    const size_t body_start = w.len;
    assert_int_equal(cursor_write_u16(&w, 0xfefd), 0);
    assert_int_equal(cursor_write_bytes(&w, client_random, sizeof(client_random)), 0);
    assert_int_equal(cursor_write_vector(&w, 1, 0, 32, session, sizeof(session)), 0);
    assert_int_equal(cursor_vector_open(&w, 2, &vec), 0);
    for (size_t i = 0; i < PETREL_ARRAY_LEN(suites); i++)
        assert_int_equal(cursor_write_u16(&w, suites[i]), 0);
    assert_int_equal(cursor_vector_close(&w, &vec, 2, 65534), 0);
    assert_int_equal(cursor_write_vector(&w, 1, 1, 255, "\x00", 1), 0);
    assert_int_equal(cursor_vector_open(&w, 2, &ext), 0);
    assert_int_equal(cursor_write_u16(&w, 0x000a), 0);
    assert_int_equal(cursor_vector_open(&w, 2, &ext_body), 0);
    assert_int_equal(cursor_vector_open(&w, 2, &list), 0);
    for (size_t i = 0; i < PETREL_ARRAY_LEN(groups); i++)
        assert_int_equal(cursor_write_u16(&w, groups[i]), 0);
    assert_int_equal(cursor_vector_close(&w, &list, 2, 65534), 0);
    assert_int_equal(cursor_vector_close(&w, &ext_body, 0, 65535), 0);
    assert_int_equal(cursor_vector_close(&w, &ext, 0, 65535), 0);
    const size_t body_len = w.len - body_start;
    assert_int_equal(cursor_vector_close(&w, &body, 0, U24_MAX_LEN), 0);
    assert_int_equal(cursor_write_u32(&w, 0xCAFEBABE), 0);
    assert_int_equal(cursor_write_u64(&w, 0x8877665544332211ull), 0);
    length_field[0] = 0;
    length_field[1] = 0;
    length_field[2] = (uint8_t)(w.len - 4);
    assert_true(cursor_writer_valid(&w));

    uint8_t *wire = exact_copy(buf, w.len);
    cursor_reader r = cursor_reader_init(wire, w.len);
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    assert_int_equal(cursor_read_u8(&r, &u8), 0);
    assert_int_equal(u8, 1);
    assert_int_equal(cursor_read_u24(&r, &u32), 0);
    assert_int_equal(u32, w.len - 4);
    assert_int_equal(cursor_read_u16(&r, &u16), 0);
    assert_int_equal(u16, 0x0102);
    assert_int_equal(cursor_read_u48(&r, &u64), 0);
    assert_true(u64 == 0x0000DEADBEEF01ull);
    cursor_reader rb, rv, re, reb, rl;
    assert_int_equal(cursor_read_vector(&r, 3, 0, U24_MAX_LEN, &rb), 0);
    assert_int_equal(cursor_reader_remaining(&rb), body_len);
    assert_int_equal(cursor_read_u16(&rb, &u16), 0);
    assert_int_equal(u16, 0xfefd);
    const uint8_t *view;
    assert_int_equal(cursor_read_view(&rb, 32, &view), 0);
    assert_memory_equal(view, client_random, 32);
    size_t view_len;
    assert_int_equal(cursor_read_vector_view(&rb, 1, 0, 32, &view, &view_len), 0);
    assert_int_equal(view_len, sizeof(session));
    assert_memory_equal(view, session, sizeof(session));
    assert_int_equal(cursor_read_vector(&rb, 2, 2, 65534, &rv), 0);
    for (size_t i = 0; i < PETREL_ARRAY_LEN(suites); i++) {
        assert_int_equal(cursor_read_u16(&rv, &u16), 0);
        assert_int_equal(u16, suites[i]);
    }
    assert_int_equal(cursor_reader_finish(&rv), 0);
    uint8_t compression[1];
    assert_int_equal(cursor_read_vector(&rb, 1, 1, 255, &rv), 0);
    assert_int_equal(cursor_read_copy(&rv, compression, 1), 0);
    assert_int_equal(compression[0], 0);
    assert_int_equal(cursor_reader_finish(&rv), 0);
    assert_int_equal(cursor_read_vector(&rb, 2, 0, 65535, &re), 0);
    assert_int_equal(cursor_read_u16(&re, &u16), 0);
    assert_int_equal(u16, 0x000a);
    assert_int_equal(cursor_read_vector(&re, 2, 0, 65535, &reb), 0);
    assert_int_equal(cursor_read_vector(&reb, 2, 2, 65534, &rl), 0);
    for (size_t i = 0; i < PETREL_ARRAY_LEN(groups); i++) {
        assert_int_equal(cursor_read_u16(&rl, &u16), 0);
        assert_int_equal(u16, groups[i]);
    }
    assert_int_equal(cursor_reader_finish(&rl), 0);
    assert_int_equal(cursor_reader_finish(&reb), 0);
    assert_int_equal(cursor_reader_finish(&re), 0);
    assert_int_equal(cursor_reader_finish(&rb), 0);
    assert_int_equal(cursor_read_u32(&r, &u32), 0);
    assert_int_equal(u32, 0xCAFEBABE);
    assert_int_equal(cursor_read_u64(&r, &u64), 0);
    assert_true(u64 == 0x8877665544332211ull);
    assert_int_equal(cursor_reader_finish(&r), 0);
    free(wire);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_init_and_accessors),
        cmocka_unit_test(test_reader_empty_null_buffer),
        cmocka_unit_test(test_reader_valid_rejects_broken_invariants),
        cmocka_unit_test(test_reader_table),
        cmocka_unit_test(test_reader_ints_every_length_and_position),
        cmocka_unit_test(test_reader_ints_extreme_values),
        cmocka_unit_test(test_reader_sequence_consumes_exactly),
        cmocka_unit_test(test_reader_copy_view_skip_every_position),
        cmocka_unit_test(test_read_vector_table),
        cmocka_unit_test(test_read_vector_every_length),
        cmocka_unit_test(test_reader_finish),
        cmocka_unit_test(test_reader_finish_on_sub_reader),
        cmocka_unit_test(test_read_nested_vectors),
        cmocka_unit_test(test_writer_init_and_accessors),
        cmocka_unit_test(test_writer_null_zero_capacity),
        cmocka_unit_test(test_writer_table),
        cmocka_unit_test(test_writer_ints_every_capacity_and_position),
        cmocka_unit_test(test_writer_value_range),
        cmocka_unit_test(test_writer_reserve_then_fill),
        cmocka_unit_test(test_vector_close_table),
        cmocka_unit_test(test_vector_open_bad_prefix_and_no_space),
        cmocka_unit_test(test_vector_close_min_greater_than_max),
        cmocka_unit_test(test_vector_close_foreign_vector),
        cmocka_unit_test(test_vector_nested_golden),
        cmocka_unit_test(test_vector_nested_inner_failure_rolls_back_inner_only),
        cmocka_unit_test(test_vector_nested_outer_failure_rolls_back_everything),
        cmocka_unit_test(test_write_vector_table),
        cmocka_unit_test(test_write_vector_min_greater_than_max),
        cmocka_unit_test(test_round_trip_structure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
