/*
 * Tests for the error table (petrel/error.h), the platform hooks
 * (petrel/platform.h) and the helpers that call them (common/util.h).
 */
#define _POSIX_C_SOURCE 200809L /* dup, dup2, fileno: to capture stderr */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

/* ---- errors ---- */

typedef struct error_entry {
    int code;      /* the enum constant */
    int map_value; /* the value column of PETREL_ERROR_MAP */
    const char *name;
    petrel_error_class cls;
    int alert;
    const char *message;
} error_entry;

static const error_entry error_entries[] = {
#define ERROR_ENTRY(name, value, cls, alert, msg) \
    {PETREL_##name, value, "PETREL_" #name, PETREL_ERRCLASS_##cls, alert, msg},
    PETREL_ERROR_MAP(ERROR_ENTRY)
#undef ERROR_ENTRY
};

static bool is_known_code(int code)
{
    for (size_t i = 0; i < PETREL_ARRAY_LEN(error_entries); i++)
        if (error_entries[i].code == code)
            return true;
    return false;
}

static void test_error_enum_matches_map(void **state)
{
    (void)state;
    assert_true(PETREL_ARRAY_LEN(error_entries) >= 2);
    for (size_t i = 0; i < PETREL_ARRAY_LEN(error_entries); i++) {
        const error_entry *e = &error_entries[i];
        assert_int_equal(e->code, e->map_value);
        /* success is 0, every error is negative */
        if (e->code != PETREL_OK)
            assert_true(e->code < 0);
    }
    assert_int_equal(PETREL_OK, 0);
}

static void test_error_names_from_map(void **state)
{
    (void)state;
    for (size_t i = 0; i < PETREL_ARRAY_LEN(error_entries); i++) {
        const error_entry *e = &error_entries[i];
        const char *name = petrel_error_name(e->code);
        assert_non_null(name);
        assert_string_equal(name, e->name);
        assert_int_equal(strncmp(name, "PETREL_", 7), 0);
        assert_true(strlen(name) > 7);
    }
}

static void test_error_names_and_codes_unique(void **state)
{
    (void)state;
    for (size_t i = 0; i < PETREL_ARRAY_LEN(error_entries); i++) {
        for (size_t j = i + 1; j < PETREL_ARRAY_LEN(error_entries); j++) {
            const error_entry *a = &error_entries[i];
            const error_entry *b = &error_entries[j];
            if (a->code == b->code)
                fail_msg("%s and %s share the code %d", a->name, b->name, a->code);
            if (strcmp(petrel_error_name(a->code), petrel_error_name(b->code)) == 0)
                fail_msg("codes %d and %d share the name %s", a->code, b->code,
                         petrel_error_name(a->code));
        }
    }
}

static void test_error_messages_from_map(void **state)
{
    (void)state;
    for (size_t i = 0; i < PETREL_ARRAY_LEN(error_entries); i++) {
        const error_entry *e = &error_entries[i];
        const char *msg = petrel_strerror(e->code);
        assert_non_null(msg);
        assert_true(msg[0] != '\0');
        assert_string_equal(msg, e->message);
        assert_string_not_equal(msg, "unknown error");
    }
}

static void test_error_class_and_alert_from_map(void **state)
{
    (void)state;
    for (size_t i = 0; i < PETREL_ARRAY_LEN(error_entries); i++) {
        const error_entry *e = &error_entries[i];
        if (petrel_error_class_of(e->code) != e->cls)
            fail_msg("%s: class %d, expected %d", e->name, (int)petrel_error_class_of(e->code),
                     (int)e->cls);
        if (petrel_error_alert(e->code) != e->alert)
            fail_msg("%s: alert %d, expected %d", e->name, petrel_error_alert(e->code), e->alert);
        /* alerts are TLS AlertDescription values (one byte) */
        assert_true(e->alert >= 0 && e->alert <= 255);
        /* only success has no class */
        if (e->code != PETREL_OK)
            assert_int_not_equal(e->cls, PETREL_ERRCLASS_NONE);
    }
}

/* Every alert the error map can send has a name; unknown values say so. */
static void test_alert_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < PETREL_ARRAY_LEN(error_entries); i++) {
        if (error_entries[i].alert)
            assert_string_not_equal(petrel_alert_name(error_entries[i].alert), "unknown_alert");
    }
    assert_string_equal(petrel_alert_name(48), "unknown_ca");
    assert_string_equal(petrel_alert_name(0), "close_notify");
    assert_string_equal(petrel_alert_name(255), "unknown_alert");
    assert_string_equal(petrel_alert_name(-1), "unknown_alert");
}

static void test_error_ok(void **state)
{
    (void)state;
    assert_string_equal(petrel_error_name(PETREL_OK), "PETREL_OK");
    assert_string_equal(petrel_strerror(PETREL_OK), "success");
    assert_int_equal(petrel_error_class_of(PETREL_OK), PETREL_ERRCLASS_NONE);
    assert_int_equal(petrel_error_alert(PETREL_OK), 0);
}

static void check_unknown_code(int code)
{
    if (strcmp(petrel_strerror(code), "unknown error") != 0)
        fail_msg("code %d: message \"%s\", expected \"unknown error\"", code,
                 petrel_strerror(code));
    if (strcmp(petrel_error_name(code), "PETREL_ERR_UNKNOWN") != 0)
        fail_msg("code %d: name %s, expected PETREL_ERR_UNKNOWN", code, petrel_error_name(code));
    if (petrel_error_class_of(code) != PETREL_ERRCLASS_INTERNAL)
        fail_msg("code %d: class %d, expected INTERNAL", code, (int)petrel_error_class_of(code));
    if (petrel_error_alert(code) != 80)
        fail_msg("code %d: alert %d, expected 80", code, petrel_error_alert(code));
}

static void test_error_unknown_negative_codes(void **state)
{
    (void)state;
    static const int far[] = {-9999, -1000, -1000000, INT_MIN, INT_MIN + 1};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(far); i++) {
        assert_false(is_known_code(far[i]));
        check_unknown_code(far[i]);
    }
    /* every gap between and just below the defined codes */
    size_t gaps = 0;
    for (int code = -1; code >= -200; code--) {
        if (is_known_code(code))
            continue;
        check_unknown_code(code);
        gaps++;
    }
    assert_true(gaps > 0);
}

static void test_error_positive_status_codes(void **state)
{
    (void)state;
    static const int positive[] = {1, 2, 5, 80, 9999, INT_MAX};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(positive); i++) {
        const int code = positive[i];
        assert_int_equal(petrel_error_class_of(code), PETREL_ERRCLASS_NONE);
        assert_int_equal(petrel_error_alert(code), 0);
        assert_non_null(petrel_strerror(code));
        assert_non_null(petrel_error_name(code));
    }
}

static void test_error_strings_are_static(void **state)
{
    (void)state;
    /* The same code gives the same text on every call (no per-call buffer
     * that a later call could overwrite). */
    const char *a = petrel_strerror(PETREL_ERR_TRUNCATED);
    const char *b = petrel_strerror(PETREL_ERR_ARG);
    assert_string_equal(a, "input ends before the field it announces");
    assert_string_equal(b, "invalid argument");
    const char *c = petrel_error_name(-9999);
    const char *d = petrel_error_name(PETREL_ERR_RNG);
    assert_string_equal(c, "PETREL_ERR_UNKNOWN");
    assert_string_equal(d, "PETREL_ERR_RNG");
}

/* ---- util.h macros ---- */

static int try_helper(int rc, int *reached)
{
    PETREL_TRY(rc);
    *reached = 1;
    return 7;
}

static void test_try_propagates_negative_only(void **state)
{
    (void)state;
    int reached = 0;
    assert_int_equal(try_helper(PETREL_ERR_LENGTH, &reached), PETREL_ERR_LENGTH);
    assert_int_equal(reached, 0);
    assert_int_equal(try_helper(INT_MIN, &reached), INT_MIN);
    assert_int_equal(reached, 0);
    assert_int_equal(try_helper(0, &reached), 7);
    assert_int_equal(reached, 1);
    reached = 0;
    assert_int_equal(try_helper(3, &reached), 7);
    assert_int_equal(reached, 1);
}

static void test_array_len(void **state)
{
    (void)state;
    uint32_t words[7];
    char bytes[3];
    (void)words;
    (void)bytes;
    assert_int_equal(PETREL_ARRAY_LEN(words), 7);
    assert_int_equal(PETREL_ARRAY_LEN(bytes), 3);
}

/* ---- platform defaults ---- */

static void test_platform_default_hooks(void **state)
{
    (void)state;
    const petrel_platform p = petrel_platform_default();
    assert_non_null(p.alloc);
    assert_non_null(p.realloc);
    assert_non_null(p.free);
    assert_non_null(p.clock_ms);
    assert_non_null(p.rng);
    assert_non_null(p.log);
    assert_int_equal(p.log_level, PETREL_LOG_WARNING);
}

static void test_platform_default_clock_monotonic(void **state)
{
    (void)state;
    const petrel_platform p = petrel_platform_default();
    uint64_t prev = platform_now_ms(&p);
    for (int i = 0; i < 1000; i++) {
        uint64_t now = platform_now_ms(&p);
        assert_true(now >= prev);
        prev = now;
    }
    uint64_t a = petrel_default_clock_ms(NULL);
    uint64_t b = petrel_default_clock_ms(NULL);
    assert_true(b >= a);
}

static bool all_zero(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != 0)
            return false;
    return true;
}

static void test_platform_default_rng(void **state)
{
    (void)state;
    const petrel_platform p = petrel_platform_default();
    uint8_t a[32], b[32];
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    assert_int_equal(platform_random(&p, a, sizeof(a)), 0);
    assert_int_equal(platform_random(&p, b, sizeof(b)), 0);
    assert_false(all_zero(a, sizeof(a)));
    assert_false(all_zero(b, sizeof(b)));
    assert_memory_not_equal(a, b, sizeof(a));

    /* the hook directly */
    assert_int_equal(petrel_default_rng(NULL, a, sizeof(a)), 0);
    assert_memory_not_equal(a, b, sizeof(a));

    /* len 0 works and writes nothing */
    uint8_t guard[4] = {0xAB, 0xAB, 0xAB, 0xAB};
    assert_int_equal(platform_random(&p, guard, 0), 0);
    assert_int_equal(petrel_default_rng(NULL, guard, 0), 0);
    assert_memory_equal(guard, "\xab\xab\xab\xab", 4);

    /* a large draw */
    uint8_t *big = malloc(65536);
    assert_non_null(big);
    memset(big, 0, 65536);
    assert_int_equal(platform_random(&p, big, 65536), 0);
    assert_false(all_zero(big + 65536 - 32, 32));
    free(big);
}

static void test_platform_default_allocator(void **state)
{
    (void)state;
    const petrel_platform p = petrel_platform_default();
    uint8_t *m = platform_alloc(&p, 16);
    assert_non_null(m);
    memset(m, 0x5A, 16);
    m = petrel_default_realloc(NULL, m, 4096);
    assert_non_null(m);
    for (size_t i = 0; i < 16; i++)
        assert_int_equal(m[i], 0x5A);
    platform_free(&p, m);

    uint8_t *z = platform_calloc(&p, 32, 4);
    assert_non_null(z);
    assert_true(all_zero(z, 128));
    platform_free(&p, z);

    void *one = petrel_default_alloc(NULL, 1);
    assert_non_null(one);
    petrel_default_free(NULL, one);
    petrel_default_free(NULL, NULL);
    platform_free(&p, NULL);
}

/* ---- custom allocator hooks ---- */

#define ALLOC_MAGIC 0xA110CA7Eu
#define JUNK        0xA5 /* what the counting allocator fills new blocks with */

typedef struct alloc_counters {
    uint32_t magic;
    size_t allocs;
    size_t reallocs;
    size_t frees;
    size_t last_size;
    void *last_freed;
    bool fail;
    /* for free_secret: the block's length, and whether it was zero when
     * the free hook saw it */
    size_t secret_len;
    bool secret_was_zero;
} alloc_counters;

static void *counting_alloc(void *ref, size_t size)
{
    alloc_counters *c = ref;
    assert_non_null(c);
    assert_int_equal(c->magic, ALLOC_MAGIC);
    c->allocs++;
    c->last_size = size;
    if (c->fail)
        return NULL;
    uint8_t *p = malloc(size);
    if (p != NULL)
        memset(p, JUNK, size);
    return p;
}

static void *counting_realloc(void *ref, void *ptr, size_t size)
{
    alloc_counters *c = ref;
    assert_int_equal(c->magic, ALLOC_MAGIC);
    c->reallocs++;
    c->last_size = size;
    if (c->fail)
        return NULL;
    return realloc(ptr, size);
}

static void counting_free(void *ref, void *ptr)
{
    alloc_counters *c = ref;
    assert_non_null(c);
    assert_int_equal(c->magic, ALLOC_MAGIC);
    c->frees++;
    c->last_freed = ptr;
    if (ptr != NULL && c->secret_len > 0)
        c->secret_was_zero = all_zero(ptr, c->secret_len);
    free(ptr);
}

static petrel_platform counting_platform(alloc_counters *c)
{
    memset(c, 0, sizeof(*c));
    c->magic = ALLOC_MAGIC;
    petrel_platform p = petrel_platform_default();
    p.alloc = counting_alloc;
    p.realloc = counting_realloc;
    p.free = counting_free;
    p.alloc_ref = c;
    return p;
}

static void test_platform_alloc_uses_hook_and_ref(void **state)
{
    (void)state;
    alloc_counters c;
    const petrel_platform p = counting_platform(&c);
    uint8_t *m = platform_alloc(&p, 24);
    assert_non_null(m);
    assert_int_equal(c.allocs, 1);
    assert_int_equal(c.last_size, 24);
    memset(m, 0, 24);
    platform_free(&p, m);
    assert_int_equal(c.frees, 1);
    assert_ptr_equal(c.last_freed, m);
}

static void test_platform_alloc_zero_is_one(void **state)
{
    (void)state;
    alloc_counters c;
    const petrel_platform p = counting_platform(&c);
    void *m = platform_alloc(&p, 0);
    assert_non_null(m);
    assert_int_equal(c.allocs, 1);
    assert_int_equal(c.last_size, 1); /* the hook never sees size 0 */
    platform_free(&p, m);

    m = platform_calloc(&p, 0, 16);
    assert_non_null(m);
    assert_int_equal(c.allocs, 2);
    assert_int_not_equal(c.last_size, 0);
    platform_free(&p, m);

    m = platform_calloc(&p, 16, 0);
    assert_non_null(m);
    assert_int_equal(c.allocs, 3);
    assert_int_not_equal(c.last_size, 0);
    platform_free(&p, m);
    assert_int_equal(c.frees, 3);
}

static void test_platform_calloc_zeroes_through_hook(void **state)
{
    (void)state;
    alloc_counters c;
    const petrel_platform p = counting_platform(&c);
    uint8_t *m = platform_calloc(&p, 6, 7);
    assert_non_null(m);
    assert_int_equal(c.allocs, 1);
    assert_int_equal(c.last_size, 42);
    /* the hook filled the block with junk; calloc must have cleared it */
    assert_true(all_zero(m, 42));
    platform_free(&p, m);
    assert_int_equal(c.frees, 1);
}

static void test_platform_calloc_overflow_skips_hook(void **state)
{
    (void)state;
    alloc_counters c;
    const petrel_platform p = counting_platform(&c);
    const size_t half = SIZE_MAX / 2 + 1;
    const size_t root = (size_t)1 << (sizeof(size_t) * 4); /* root * root == SIZE_MAX + 1 */
    const size_t cases[][2] = {
        {half, 2}, {2, half}, {SIZE_MAX, SIZE_MAX}, {SIZE_MAX, 2}, {root, root}, {3, SIZE_MAX / 2},
    };
    for (size_t i = 0; i < PETREL_ARRAY_LEN(cases); i++) {
        void *m = platform_calloc(&p, cases[i][0], cases[i][1]);
        if (m != NULL)
            fail_msg("calloc(%zu, %zu) overflows SIZE_MAX but returned memory", cases[i][0],
                     cases[i][1]);
        assert_int_equal(c.allocs, 0);
    }
}

static void test_platform_alloc_failure(void **state)
{
    (void)state;
    alloc_counters c;
    const petrel_platform p = counting_platform(&c);
    c.fail = true;
    assert_null(platform_alloc(&p, 10));
    assert_null(platform_calloc(&p, 10, 10));
    assert_int_equal(c.allocs, 2);
}

static void test_platform_free_secret_wipes_first(void **state)
{
    (void)state;
    alloc_counters c;
    const petrel_platform p = counting_platform(&c);
    uint8_t *m = platform_alloc(&p, 48);
    assert_non_null(m);
    memset(m, 0xEE, 48);
    c.secret_len = 48;
    c.secret_was_zero = false;
    platform_free_secret(&p, m, 48);
    assert_int_equal(c.frees, 1);
    assert_ptr_equal(c.last_freed, m);
    assert_true(c.secret_was_zero);

    /* NULL is accepted like free(NULL) */
    c.secret_len = 0;
    platform_free_secret(&p, NULL, 0);
    platform_free_secret(&p, NULL, 32);
    platform_free(&p, NULL);
    assert_int_equal(c.allocs, 1);
}

/* ---- clock and RNG hooks ---- */

#define CLOCK_MAGIC 0xC10CC10Cu

typedef struct fake_clock {
    uint32_t magic;
    uint64_t now;
    int calls;
} fake_clock;

static uint64_t fake_clock_ms(void *ref)
{
    fake_clock *c = ref;
    assert_non_null(c);
    assert_int_equal(c->magic, CLOCK_MAGIC);
    c->calls++;
    return c->now;
}

static void test_platform_now_uses_clock_hook(void **state)
{
    (void)state;
    fake_clock clock = {CLOCK_MAGIC, 0x123456789ABull, 0};
    petrel_platform p = petrel_platform_default();
    p.clock_ms = fake_clock_ms;
    p.clock_ref = &clock;
    assert_true(platform_now_ms(&p) == 0x123456789ABull);
    assert_int_equal(clock.calls, 1);
    clock.now = UINT64_MAX;
    assert_true(platform_now_ms(&p) == UINT64_MAX);
    assert_int_equal(clock.calls, 2);
}

#define RNG_MAGIC 0x5EED5EEDu

typedef struct fake_rng {
    uint32_t magic;
    int result;
    int calls;
    size_t last_len;
} fake_rng;

static int fake_rng_fill(void *ref, uint8_t *buf, size_t len)
{
    fake_rng *r = ref;
    assert_non_null(r);
    assert_int_equal(r->magic, RNG_MAGIC);
    r->calls++;
    r->last_len = len;
    if (r->result != 0)
        return r->result;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(0x40 + i);
    return 0;
}

static void test_platform_random_uses_hook(void **state)
{
    (void)state;
    fake_rng rng = {RNG_MAGIC, 0, 0, 0};
    petrel_platform p = petrel_platform_default();
    p.rng = fake_rng_fill;
    p.rng_ref = &rng;
    uint8_t buf[4] = {0};
    assert_int_equal(platform_random(&p, buf, sizeof(buf)), 0);
    assert_int_equal(rng.calls, 1);
    assert_int_equal(rng.last_len, 4);
    assert_memory_equal(buf, "\x40\x41\x42\x43", 4);
}

static void test_platform_random_failure_is_rng_error(void **state)
{
    (void)state;
    static const int failures[] = {-1, -1000, PETREL_ERR_INTERNAL, INT_MIN};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(failures); i++) {
        fake_rng rng = {RNG_MAGIC, failures[i], 0, 0};
        petrel_platform p = petrel_platform_default();
        p.rng = fake_rng_fill;
        p.rng_ref = &rng;
        uint8_t buf[16];
        assert_int_equal(platform_random(&p, buf, sizeof(buf)), PETREL_ERR_RNG);
        assert_int_equal(rng.calls, 1);
    }
}

/* ---- logging ---- */

#define LOG_MAGIC    0x106106u
#define LOG_CAPTURED 512

typedef struct log_capture {
    uint32_t magic;
    int calls;
    petrel_log_level level;
    size_t msg_len;
    char msg[LOG_CAPTURED];
    bool msg_all_x; /* for the long-message test */
} log_capture;

static void capture_log(void *ref, petrel_log_level level, const char *msg)
{
    log_capture *c = ref;
    assert_non_null(c);
    assert_int_equal(c->magic, LOG_MAGIC);
    assert_non_null(msg);
    c->calls++;
    c->level = level;
    /* strlen reads to the terminator: under ASan a missing one is caught */
    c->msg_len = strlen(msg);
    c->msg_all_x = true;
    for (size_t i = 0; i < c->msg_len; i++)
        if (msg[i] != 'x')
            c->msg_all_x = false;
    snprintf(c->msg, sizeof(c->msg), "%s", msg);
}

static petrel_platform capture_platform(log_capture *c, petrel_log_level threshold)
{
    memset(c, 0, sizeof(*c));
    c->magic = LOG_MAGIC;
    petrel_platform p = petrel_platform_default();
    p.log = capture_log;
    p.log_ref = c;
    p.log_level = threshold;
    return p;
}

static void test_platform_log_formats_and_delivers(void **state)
{
    (void)state;
    log_capture c;
    const petrel_platform p = capture_platform(&c, PETREL_LOG_WARNING);
    platform_log(&p, PETREL_LOG_ERROR, "value %d and %s (%zu)", 42, "text", (size_t)7);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.level, PETREL_LOG_ERROR);
    assert_string_equal(c.msg, "value 42 and text (7)");

    platform_log(&p, PETREL_LOG_WARNING, "at the threshold");
    assert_int_equal(c.calls, 2);
    assert_int_equal(c.level, PETREL_LOG_WARNING);
    assert_string_equal(c.msg, "at the threshold");

    platform_log(&p, PETREL_LOG_ERROR, "%s", "");
    assert_int_equal(c.calls, 3);
    assert_string_equal(c.msg, "");
}

static void test_platform_log_threshold(void **state)
{
    (void)state;
    static const petrel_log_level thresholds[] = {
        PETREL_LOG_NONE, PETREL_LOG_ERROR, PETREL_LOG_WARNING, PETREL_LOG_INFO, PETREL_LOG_DEBUG};
    static const petrel_log_level levels[] = {PETREL_LOG_ERROR, PETREL_LOG_WARNING, PETREL_LOG_INFO,
                                              PETREL_LOG_DEBUG};
    for (size_t t = 0; t < PETREL_ARRAY_LEN(thresholds); t++) {
        for (size_t l = 0; l < PETREL_ARRAY_LEN(levels); l++) {
            log_capture c;
            const petrel_platform p = capture_platform(&c, thresholds[t]);
            platform_log(&p, levels[l], "level %d", (int)levels[l]);
            const int expected = levels[l] <= thresholds[t] ? 1 : 0;
            if (c.calls != expected)
                fail_msg("threshold %d, level %d: %d calls, expected %d", (int)thresholds[t],
                         (int)levels[l], c.calls, expected);
            if (expected) {
                assert_int_equal(c.level, levels[l]);
                char want[32];
                snprintf(want, sizeof(want), "level %d", (int)levels[l]);
                assert_string_equal(c.msg, want);
            }
        }
    }
}

static void test_platform_log_above_threshold_not_formatted(void **state)
{
    (void)state;
    log_capture c;
    const petrel_platform p = capture_platform(&c, PETREL_LOG_ERROR);
    char long_arg[4096];
    memset(long_arg, 'y', sizeof(long_arg) - 1);
    long_arg[sizeof(long_arg) - 1] = '\0';
    platform_log(&p, PETREL_LOG_DEBUG, "%s %s %s", long_arg, long_arg, long_arg);
    platform_log(&p, PETREL_LOG_INFO, "%d", 1);
    platform_log(&p, PETREL_LOG_WARNING, "%d", 2);
    assert_int_equal(c.calls, 0);
    assert_int_equal(c.msg_len, 0);

    /* NONE as the threshold silences even errors */
    const petrel_platform silent = capture_platform(&c, PETREL_LOG_NONE);
    platform_log(&silent, PETREL_LOG_ERROR, "%s", "nothing");
    assert_int_equal(c.calls, 0);
}

static void test_platform_log_long_message_truncated(void **state)
{
    (void)state;
    enum { LONG_LEN = 20000 };
    char *text = malloc(LONG_LEN + 1);
    assert_non_null(text);
    memset(text, 'x', LONG_LEN);
    text[LONG_LEN] = '\0';

    log_capture c;
    const petrel_platform p = capture_platform(&c, PETREL_LOG_DEBUG);
    platform_log(&p, PETREL_LOG_ERROR, "%s", text);
    assert_int_equal(c.calls, 1);
    assert_true(c.msg_len > 0);
    assert_true(c.msg_len < LONG_LEN); /* truncated */
    assert_true(c.msg_all_x);          /* a prefix of the message, terminated */

    /* a long message built from several arguments */
    platform_log(&p, PETREL_LOG_INFO, "%s%s%d", text, text, 12345);
    assert_int_equal(c.calls, 2);
    assert_true(c.msg_len > 0 && c.msg_len < LONG_LEN);
    assert_true(c.msg_all_x);

    /* just over 1 KiB */
    text[1025] = '\0';
    platform_log(&p, PETREL_LOG_INFO, "%s", text);
    assert_int_equal(c.calls, 3);
    assert_true(c.msg_len > 0 && c.msg_len <= 1025);
    assert_true(c.msg_all_x);
    free(text);
}

static void test_log_level_names(void **state)
{
    (void)state;
    assert_string_equal(petrel_log_level_name(PETREL_LOG_NONE), "none");
    assert_string_equal(petrel_log_level_name(PETREL_LOG_ERROR), "error");
    assert_string_equal(petrel_log_level_name(PETREL_LOG_WARNING), "warning");
    assert_string_equal(petrel_log_level_name(PETREL_LOG_INFO), "info");
    assert_string_equal(petrel_log_level_name(PETREL_LOG_DEBUG), "debug");
}

/* Runs fn with stderr redirected to a temporary file and returns what it
 * wrote (NUL-terminated, truncated to cap - 1). */
static size_t capture_stderr(void (*fn)(void), char *out, size_t cap)
{
    fflush(stderr);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    fn();
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, cap - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    return n;
}

static void log_through_default_hook(void)
{
    petrel_default_log(NULL, PETREL_LOG_ERROR, "hook message 1");
    petrel_default_log(NULL, PETREL_LOG_WARNING, "hook message 2");
}

static void log_through_default_platform(void)
{
    const petrel_platform p = petrel_platform_default();
    platform_log(&p, PETREL_LOG_WARNING, "shown %d", 3);
    platform_log(&p, PETREL_LOG_INFO, "hidden %d", 4);
    platform_log(&p, PETREL_LOG_DEBUG, "hidden %d", 5);
}

static void test_default_log_writes_stderr_lines(void **state)
{
    (void)state;
    char out[512];
    capture_stderr(log_through_default_hook, out, sizeof(out));
    assert_string_equal(out, "petrel: error: hook message 1\npetrel: warning: hook message 2\n");
    capture_stderr(log_through_default_platform, out, sizeof(out));
    assert_string_equal(out, "petrel: warning: shown 3\n");
}

/* ---- wipe ---- */

static void test_wipe_zeroes_exact_range(void **state)
{
    (void)state;
    uint8_t buf[64];
    memset(buf, 0xAB, sizeof(buf));
    petrel_wipe(buf + 8, 32);
    for (size_t i = 0; i < sizeof(buf); i++)
        assert_int_equal(buf[i], (i >= 8 && i < 40) ? 0x00 : 0xAB);
    petrel_wipe(buf, 0);
    assert_int_equal(buf[0], 0xAB);
    petrel_wipe(buf, sizeof(buf));
    assert_true(all_zero(buf, sizeof(buf)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_enum_matches_map),
        cmocka_unit_test(test_error_names_from_map),
        cmocka_unit_test(test_error_names_and_codes_unique),
        cmocka_unit_test(test_error_messages_from_map),
        cmocka_unit_test(test_error_class_and_alert_from_map),
        cmocka_unit_test(test_alert_names),
        cmocka_unit_test(test_error_ok),
        cmocka_unit_test(test_error_unknown_negative_codes),
        cmocka_unit_test(test_error_positive_status_codes),
        cmocka_unit_test(test_error_strings_are_static),
        cmocka_unit_test(test_try_propagates_negative_only),
        cmocka_unit_test(test_array_len),
        cmocka_unit_test(test_platform_default_hooks),
        cmocka_unit_test(test_platform_default_clock_monotonic),
        cmocka_unit_test(test_platform_default_rng),
        cmocka_unit_test(test_platform_default_allocator),
        cmocka_unit_test(test_platform_alloc_uses_hook_and_ref),
        cmocka_unit_test(test_platform_alloc_zero_is_one),
        cmocka_unit_test(test_platform_calloc_zeroes_through_hook),
        cmocka_unit_test(test_platform_calloc_overflow_skips_hook),
        cmocka_unit_test(test_platform_alloc_failure),
        cmocka_unit_test(test_platform_free_secret_wipes_first),
        cmocka_unit_test(test_platform_now_uses_clock_hook),
        cmocka_unit_test(test_platform_random_uses_hook),
        cmocka_unit_test(test_platform_random_failure_is_rng_error),
        cmocka_unit_test(test_platform_log_formats_and_delivers),
        cmocka_unit_test(test_platform_log_threshold),
        cmocka_unit_test(test_platform_log_above_threshold_not_formatted),
        cmocka_unit_test(test_platform_log_long_message_truncated),
        cmocka_unit_test(test_log_level_names),
        cmocka_unit_test(test_default_log_writes_stderr_lines),
        cmocka_unit_test(test_wipe_zeroes_exact_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
