/*
 * The AEAD path allocates nothing: crypto/provider.h promises that seal and
 * open only use state created by key_new, so the record layer never touches
 * the heap per record. This test counts every allocation libcrypto makes
 * (CRYPTO_set_mem_functions, installed before anything else runs) and
 * checks that sealing and opening records, including records that fail to
 * authenticate, add none.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto/provider.h"

static size_t ossl_allocations;

static void *counting_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    ossl_allocations++;
    return malloc(n);
}

static void *counting_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    ossl_allocations++;
    return realloc(p, n);
}

static void counting_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    free(p);
}

typedef struct alloc_counts {
    size_t good_records;   /* allocations while sealing and opening */
    size_t forged_records; /* allocations while rejecting forgeries */
    size_t forgeries;
} alloc_counts;

/* Seals and opens records of many sizes under one key, and feeds open
 * tampered records, counting the allocations each part took. */
static alloc_counts allocations_for_records(crypto_aead_id id)
{
    alloc_counts counts = {0, 0, 0};
    const crypto_aead_alg *alg = crypto_default_provider()->aead(id);
    assert_non_null(alg);
    uint8_t key_bytes[CRYPTO_AEAD_MAX_KEY_LEN] = {1, 2, 3, 4};
    crypto_aead_key *key;
    assert_int_equal(alg->key_new(alg, key_bytes, &key), 0);

    uint8_t nonce[CRYPTO_AEAD_NONCE_LEN] = {0};
    uint8_t aad[13] = {23, 0xfe, 0xfd};
    static uint8_t record[1500 + CRYPTO_AEAD_MAX_TAG_LEN];

    /* One warm-up record, so that anything OpenSSL sets up lazily on first
     * use is not counted against the steady state. */
    assert_int_equal(crypto_aead_seal(key, nonce, aad, sizeof(aad), record, 16), 0);
    assert_int_equal(crypto_aead_open(key, nonce, aad, sizeof(aad), record, 16 + alg->tag_len), 0);

    for (size_t len = 0; len <= 1500; len += 97) {
        nonce[11] = (uint8_t)len;
        nonce[10] = (uint8_t)(len >> 8);
        memset(record, (int)len, len);
        size_t before = ossl_allocations;
        assert_int_equal(crypto_aead_seal(key, nonce, aad, sizeof(aad), record, len), 0);
        assert_int_equal(crypto_aead_open(key, nonce, aad, sizeof(aad), record, len + alg->tag_len),
                         0);
        assert_int_equal(crypto_aead_seal(key, nonce, aad, sizeof(aad), record, len), 0);
        counts.good_records += ossl_allocations - before;

        record[len] ^= 1; /* tag */
        before = ossl_allocations;
        assert_int_equal(crypto_aead_open(key, nonce, aad, sizeof(aad), record, len + alg->tag_len),
                         PETREL_ERR_AEAD_AUTH);
        counts.forged_records += ossl_allocations - before;
        counts.forgeries++;
    }
    crypto_aead_key_free(key);
    return counts;
}

/*
 * max_per_forgery: OpenSSL 3.0's CCM decrypt reports a tag mismatch on its
 * error queue, and ERR_set_debug strdup()s the file and function names (2
 * small allocations, freed when the backend clears the queue). That is
 * libcrypto's own behaviour, not petrel's; GCM and ChaCha20-Poly1305
 * reject forgeries without allocating.
 */
#define NOALLOC_TEST(name, id, max_per_forgery)                                   \
    static void name(void **state)                                                \
    {                                                                             \
        (void)state;                                                              \
        alloc_counts counts = allocations_for_records(id);                        \
        assert_int_equal(counts.good_records, 0);                                 \
        assert_true(counts.forged_records <= (max_per_forgery)*counts.forgeries); \
    }

NOALLOC_TEST(aes_128_ccm_records_do_not_allocate, CRYPTO_AEAD_AES_128_CCM, 2)
NOALLOC_TEST(aes_128_ccm_8_records_do_not_allocate, CRYPTO_AEAD_AES_128_CCM_8, 2)
NOALLOC_TEST(aes_128_gcm_records_do_not_allocate, CRYPTO_AEAD_AES_128_GCM, 0)
NOALLOC_TEST(aes_256_gcm_records_do_not_allocate, CRYPTO_AEAD_AES_256_GCM, 0)
NOALLOC_TEST(chacha20_poly1305_records_do_not_allocate, CRYPTO_AEAD_CHACHA20_POLY1305, 0)

/* The counter itself works: creating a key does allocate. */
static void key_creation_is_counted(void **state)
{
    (void)state;
    const crypto_aead_alg *alg = crypto_default_provider()->aead(CRYPTO_AEAD_AES_128_GCM);
    uint8_t key_bytes[16] = {0};
    crypto_aead_key *key;
    size_t before = ossl_allocations;
    assert_int_equal(alg->key_new(alg, key_bytes, &key), 0);
    assert_true(ossl_allocations > before);
    crypto_aead_key_free(key);
}

int main(void)
{
    /* Must precede every other libcrypto call, or OpenSSL refuses it. */
    if (!CRYPTO_set_mem_functions(counting_malloc, counting_realloc, counting_free)) {
        fprintf(stderr, "CRYPTO_set_mem_functions refused: libcrypto already allocated\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_creation_is_counted),
        cmocka_unit_test(aes_128_ccm_records_do_not_allocate),
        cmocka_unit_test(aes_128_ccm_8_records_do_not_allocate),
        cmocka_unit_test(aes_128_gcm_records_do_not_allocate),
        cmocka_unit_test(aes_256_gcm_records_do_not_allocate),
        cmocka_unit_test(chacha20_poly1305_records_do_not_allocate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
