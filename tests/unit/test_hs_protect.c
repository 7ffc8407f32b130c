/*
 * The record protection both record layers share (handshake/protect.c):
 * round trips with TLS-style 64-bit sequence numbers for every suite; the
 * nonce and AAD rebuilt independently from the RFCs and checked against a
 * raw AEAD open; every binding (sequence number, type, version, length,
 * each byte) failing to authenticate when changed; the NULL cipher; and
 * DTLS records being exactly this protection with seq_num = epoch +
 * sequence number.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "dtls/record.h"
#include "handshake/protect.h"

static const uint16_t aead_suites[] = {0xC0A8, 0xC0A4, 0x00A8, 0x00A9,
                                       0xCCAB, 0xC0AE, 0xC02C, 0xCCA8};
#define SUITE_COUNT (sizeof(aead_suites) / sizeof(aead_suites[0]))

static hs_record_cipher make_cipher(const hs_suite *s)
{
    hs_record_cipher c;
    uint8_t key[CRYPTO_AEAD_MAX_KEY_LEN];
    memset(&c, 0, sizeof(c));
    c.suite = s;
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(0x30 + i);
    for (size_t i = 0; i < sizeof(c.iv); i++)
        c.iv[i] = (uint8_t)(0xa0 + i);
    const crypto_aead_alg *alg = crypto_default_provider()->aead(s->aead);
    assert_non_null(alg);
    assert_int_equal(alg->key_new(alg, key, &c.key), 0);
    return c;
}

/* A TLS 1.2 record's seq_num: a plain 64-bit counter, here one with every
 * byte different so that a misplaced byte shows. */
#define SEQ UINT64_C(0x0102030405060708)

static size_t seal(const hs_record_cipher *c, uint64_t seq, uint8_t *frag, const char *text)
{
    size_t len = strlen(text);
    memcpy(frag + hs_protect_explicit_len(c), text, len);
    assert_int_equal(hs_protect_seal(c, seq, 23, 0x0303, frag, len), 0);
    return len + hs_protect_expansion(c);
}

static void round_trip_every_suite(void **state)
{
    (void)state;
    for (size_t i = 0; i < SUITE_COUNT; i++) {
        const hs_suite *s = hs_suite_find(aead_suites[i]);
        assert_non_null(s);
        hs_record_cipher c = make_cipher(s);
        uint8_t frag[128];
        size_t n = seal(&c, SEQ, frag, "application data");
        assert_int_equal(n, 16 + s->explicit_nonce_len + s->tag_len);
        uint8_t *plain;
        size_t plain_len;
        assert_int_equal(hs_protect_open(&c, SEQ, 23, 0x0303, frag, n, &plain, &plain_len), 0);
        assert_int_equal(plain_len, 16);
        assert_memory_equal(plain, "application data", 16);
        crypto_aead_key_free(c.key);
    }
}

/* RFC 5288 §3 / RFC 6655 §3 and RFC 7905 §2, rebuilt here without the
 * module: the explicit nonce is the sequence number; the AAD is seq_num +
 * type + version + length. */
static void nonce_and_aad_follow_the_rfcs(void **state)
{
    (void)state;
    static const uint8_t seq_bytes[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    for (size_t i = 0; i < SUITE_COUNT; i++) {
        const hs_suite *s = hs_suite_find(aead_suites[i]);
        hs_record_cipher c = make_cipher(s);
        uint8_t frag[128];
        size_t n = seal(&c, SEQ, frag, "0123456789");
        uint8_t nonce[12];
        size_t expl = s->explicit_nonce_len;
        if (expl) {
            assert_int_equal(expl, 8);
            assert_memory_equal(frag, seq_bytes, 8);
            memcpy(nonce, c.iv, 4);
            memcpy(nonce + 4, seq_bytes, 8);
        } else {
            memcpy(nonce, c.iv, 12);
            for (int k = 0; k < 8; k++)
                nonce[4 + k] ^= seq_bytes[k];
        }
        uint8_t aad[13];
        memcpy(aad, seq_bytes, 8);
        aad[8] = 23;
        aad[9] = 0x03;
        aad[10] = 0x03;
        aad[11] = 0;
        aad[12] = 10;
        assert_int_equal(crypto_aead_open(c.key, nonce, aad, sizeof(aad), frag + expl, n - expl),
                         0);
        assert_memory_equal(frag + expl, "0123456789", 10);
        crypto_aead_key_free(c.key);
    }
}

static void every_binding_authenticates(void **state)
{
    (void)state;
    for (size_t i = 0; i < SUITE_COUNT; i++) {
        const hs_suite *s = hs_suite_find(aead_suites[i]);
        hs_record_cipher c = make_cipher(s);
        uint8_t frag[128], copy[128];
        uint8_t *plain;
        size_t plain_len;
        size_t n = seal(&c, SEQ, frag, "bound to its record");
        memcpy(copy, frag, n);
        assert_int_equal(hs_protect_open(&c, SEQ + 1, 23, 0x0303, copy, n, &plain, &plain_len),
                         PETREL_ERR_AEAD_AUTH);
        memcpy(copy, frag, n);
        assert_int_equal(hs_protect_open(&c, SEQ, 22, 0x0303, copy, n, &plain, &plain_len),
                         PETREL_ERR_AEAD_AUTH);
        memcpy(copy, frag, n);
        assert_int_equal(hs_protect_open(&c, SEQ, 23, 0xfefd, copy, n, &plain, &plain_len),
                         PETREL_ERR_AEAD_AUTH);
        for (size_t b = 0; b < n; b++) {
            memcpy(copy, frag, n);
            copy[b] ^= 0x01;
            assert_int_equal(hs_protect_open(&c, SEQ, 23, 0x0303, copy, n, &plain, &plain_len),
                             PETREL_ERR_AEAD_AUTH);
        }
        memcpy(copy, frag, n);
        assert_int_equal(hs_protect_open(&c, SEQ, 23, 0x0303, copy, n - 1, &plain, &plain_len),
                         PETREL_ERR_AEAD_AUTH);
        assert_int_equal(hs_protect_open(&c, SEQ, 23, 0x0303, copy, hs_protect_expansion(&c) - 1,
                                         &plain, &plain_len),
                         PETREL_ERR_TRUNCATED);
        crypto_aead_key_free(c.key);
    }
}

static void null_cipher_is_the_clear(void **state)
{
    (void)state;
    hs_record_cipher c = {.suite = NULL};
    uint8_t frag[16] = "in the clear";
    uint8_t *plain;
    size_t plain_len;
    assert_int_equal(hs_protect_expansion(&c), 0);
    assert_int_equal(hs_protect_explicit_len(NULL), 0);
    assert_int_equal(hs_protect_seal(&c, SEQ, 22, 0x0303, frag, 12), 0);
    assert_memory_equal(frag, "in the clear", 12);
    assert_int_equal(hs_protect_open(&c, SEQ, 22, 0x0303, frag, 12, &plain, &plain_len), 0);
    assert_ptr_equal(plain, frag);
    assert_int_equal(plain_len, 12);
}

/* A DTLS record's fragment is this protection with seq_num = epoch(2) +
 * sequence_number(6) (RFC 6347 §4.1.2.1). */
static void dtls_is_seq_num_epoch_and_sequence(void **state)
{
    (void)state;
    for (size_t i = 0; i < SUITE_COUNT; i++) {
        const hs_suite *s = hs_suite_find(aead_suites[i]);
        hs_record_cipher c = make_cipher(s);
        uint8_t rec[128], frag[128];
        cursor_writer w = cursor_writer_init(rec, sizeof(rec));
        assert_int_equal(
            dtls_record_write(&c, 23, 0xfefd, 3, 0x0000aabbccdd, (const uint8_t *)"dtls", 4, &w),
            0);
        memcpy(frag + hs_protect_explicit_len(&c), "dtls", 4);
        assert_int_equal(hs_protect_seal(&c, (UINT64_C(3) << 48) | 0xaabbccdd, 23, 0xfefd, frag, 4),
                         0);
        assert_int_equal(w.len, DTLS_RECORD_HEADER_LEN + 4 + hs_protect_expansion(&c));
        assert_memory_equal(rec + DTLS_RECORD_HEADER_LEN, frag, 4 + hs_protect_expansion(&c));
        crypto_aead_key_free(c.key);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_every_suite),
        cmocka_unit_test(nonce_and_aad_follow_the_rfcs),
        cmocka_unit_test(every_binding_authenticates),
        cmocka_unit_test(null_cipher_is_the_clear),
        cmocka_unit_test(dtls_is_seq_num_epoch_and_sequence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
