/*
 * Conformance tests for the provider's hashes, HMAC, TLS 1.2 PRF, HKDF and
 * HKDF-Expand-Label, plus the library self-test. Every expected value is a
 * published vector; the source is named next to it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <petrel/petrel.h>

#include "crypto/provider.h"

/* ---- helpers ---- */

static const crypto_provider *prov(void)
{
    const crypto_provider *p = crypto_default_provider();
    assert_non_null(p);
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

/* Decodes hex (spaces allowed between bytes) into out; returns the length. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (*hex != '\0') {
        if (*hex == ' ') {
            hex++;
            continue;
        }
        int hi = hex_nibble(hex[0]);
        int lo = hex[1] != '\0' ? hex_nibble(hex[1]) : -1;
        assert_true(hi >= 0 && lo >= 0);
        assert_true(n < cap);
        out[n++] = (uint8_t)(hi << 4 | lo);
        hex += 2;
    }
    return n;
}

/* Asserts that got[0, len) is exactly the bytes spelled by hex. */
static void assert_bytes_hex(const uint8_t *got, size_t len, const char *hex)
{
    uint8_t want[1024];
    size_t want_len = unhex(hex, want, sizeof(want));
    assert_int_equal(len, want_len);
    assert_memory_equal(got, want, want_len);
}

static const crypto_hash_alg *hash_alg(crypto_hash_id id)
{
    const crypto_hash_alg *alg = prov()->hash(id);
    assert_non_null(alg);
    assert_int_equal(alg->id, id);
    return alg;
}

static crypto_hash_ctx *hash_new(crypto_hash_id id)
{
    const crypto_hash_alg *alg = hash_alg(id);
    crypto_hash_ctx *ctx = NULL;
    assert_int_equal(alg->ctx_new(alg, &ctx), 0);
    assert_non_null(ctx);
    assert_ptr_equal(ctx->alg, alg);
    return ctx;
}

static void hash_update(crypto_hash_ctx *ctx, const void *data, size_t len)
{
    assert_int_equal(ctx->alg->update(ctx, data, len), 0);
}

/* Finalises and frees ctx, returning the digest length. */
static size_t hash_final(crypto_hash_ctx *ctx, uint8_t *out)
{
    size_t len = ctx->alg->digest_len;
    assert_int_equal(ctx->alg->final(ctx, out), 0);
    crypto_hash_free(ctx);
    return len;
}

/* Checks msg against a published digest three ways: ctx_new/update/final,
 * byte-at-a-time updates, and crypto_hash_digest. */
static void check_digest(crypto_hash_id id, const void *msg, size_t len, const char *hex)
{
    uint8_t out[CRYPTO_HASH_MAX_LEN];

    crypto_hash_ctx *ctx = hash_new(id);
    hash_update(ctx, msg, len);
    assert_bytes_hex(out, hash_final(ctx, out), hex);

    ctx = hash_new(id);
    for (size_t i = 0; i < len; i++)
        hash_update(ctx, (const uint8_t *)msg + i, 1);
    assert_bytes_hex(out, hash_final(ctx, out), hex);

    memset(out, 0, sizeof(out));
    const crypto_hash_alg *alg = hash_alg(id);
    assert_int_equal(crypto_hash_digest(alg, msg, len, out), 0);
    assert_bytes_hex(out, alg->digest_len, hex);
}

/* ---- vectors ---- */

/* FIPS 180-2 appendix B / NIST "Cryptographic Standards and Guidelines:
 * Examples with Intermediate Values" for SHA-256 and SHA-384. */
static const char msg_abc[] = "abc";
static const char msg_448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char msg_896[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                              "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

#define SHA256_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA256_448 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
#define SHA384_ABC                                     \
    "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163" \
    "1a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"
/* SHA-384 of the 448-bit message: the value NIST's SHA-2 example set and
 * the widely reproduced di-mgt.com.au SHA test-vector table give. */
#define SHA384_448                                     \
    "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05ab" \
    "fe8f450de5f36bc6b0455a8520bc4e6f5fe95b1fe3c8452b"
#define SHA384_896                                     \
    "09330c33f71147e83d192fc782cd1b4753111b173b3b05d2" \
    "2fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039"
/* SHA-256 of the empty string: RFC 8448 section 3, the "hash" input of
 * "derive secret for handshake". */
#define SHA256_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---- hashes ---- */

static void test_hash_parameters(void **state)
{
    (void)state;
    const crypto_hash_alg *sha256 = hash_alg(CRYPTO_HASH_SHA256);
    assert_non_null(sha256->name);
    assert_int_equal(sha256->digest_len, 32);
    assert_int_equal(sha256->block_len, 64);

    const crypto_hash_alg *sha384 = hash_alg(CRYPTO_HASH_SHA384);
    assert_non_null(sha384->name);
    assert_int_equal(sha384->digest_len, 48);
    assert_int_equal(sha384->block_len, 128);
    assert_true(sha384->digest_len <= CRYPTO_HASH_MAX_LEN);
}

static void test_sha256_fips180_abc(void **state)
{
    (void)state;
    check_digest(CRYPTO_HASH_SHA256, msg_abc, strlen(msg_abc), SHA256_ABC);
}

static void test_sha256_fips180_448_bit_message(void **state)
{
    (void)state;
    assert_int_equal(strlen(msg_448), 56);
    check_digest(CRYPTO_HASH_SHA256, msg_448, strlen(msg_448), SHA256_448);
}

static void test_sha256_empty_message_rfc8448(void **state)
{
    (void)state;
    check_digest(CRYPTO_HASH_SHA256, "", 0, SHA256_EMPTY);
}

static void test_sha384_fips180_abc(void **state)
{
    (void)state;
    check_digest(CRYPTO_HASH_SHA384, msg_abc, strlen(msg_abc), SHA384_ABC);
}

static void test_sha384_448_bit_message(void **state)
{
    (void)state;
    check_digest(CRYPTO_HASH_SHA384, msg_448, strlen(msg_448), SHA384_448);
}

static void test_sha384_fips180_896_bit_message(void **state)
{
    (void)state;
    assert_int_equal(strlen(msg_896), 112);
    check_digest(CRYPTO_HASH_SHA384, msg_896, strlen(msg_896), SHA384_896);
}

/* Splits the 448-bit message into uneven pieces, including an empty one and
 * pieces that straddle the block boundary. */
static void check_incremental(crypto_hash_id id, const char *expected)
{
    static const size_t pieces[] = {1, 3, 0, 17, 2, 25, 0, 8};
    const uint8_t *msg = (const uint8_t *)msg_448;
    size_t total = 0;
    crypto_hash_ctx *ctx = hash_new(id);
    for (size_t i = 0; i < PETREL_ARRAY_LEN(pieces); i++) {
        hash_update(ctx, msg + total, pieces[i]);
        total += pieces[i];
    }
    assert_int_equal(total, strlen(msg_448));
    uint8_t out[CRYPTO_HASH_MAX_LEN];
    assert_bytes_hex(out, hash_final(ctx, out), expected);
}

static void test_hash_incremental_updates_equal_one_shot(void **state)
{
    (void)state;
    check_incremental(CRYPTO_HASH_SHA256, SHA256_448);
    check_incremental(CRYPTO_HASH_SHA384, SHA384_448);
}

/* The 448-bit message starts with "abc": a copy taken after "abc" finalises
 * to the "abc" digest while the original goes on to the 448-bit digest. */
static void check_copy_mid_stream(crypto_hash_id id, const char *abc, const char *full)
{
    const uint8_t *msg = (const uint8_t *)msg_448;
    uint8_t out[CRYPTO_HASH_MAX_LEN];

    crypto_hash_ctx *ctx = hash_new(id);
    hash_update(ctx, msg, 3);
    crypto_hash_ctx *copy = NULL;
    assert_int_equal(ctx->alg->copy(ctx, &copy), 0);
    assert_non_null(copy);
    assert_ptr_not_equal(copy, ctx);
    assert_ptr_equal(copy->alg, ctx->alg);

    /* The original keeps going before the copy is finalised: the two must
     * not share state. */
    hash_update(ctx, msg + 3, 10);
    assert_bytes_hex(out, hash_final(copy, out), abc);
    hash_update(ctx, msg + 13, strlen(msg_448) - 13);
    assert_bytes_hex(out, hash_final(ctx, out), full);

    /* And the other way round: finalising the original first leaves a
     * copy that can continue. */
    ctx = hash_new(id);
    hash_update(ctx, msg, 3);
    copy = NULL;
    assert_int_equal(ctx->alg->copy(ctx, &copy), 0);
    assert_bytes_hex(out, hash_final(ctx, out), abc);
    hash_update(copy, msg + 3, strlen(msg_448) - 3);
    assert_bytes_hex(out, hash_final(copy, out), full);
}

static void test_hash_copy_mid_stream(void **state)
{
    (void)state;
    check_copy_mid_stream(CRYPTO_HASH_SHA256, SHA256_ABC, SHA256_448);
    check_copy_mid_stream(CRYPTO_HASH_SHA384, SHA384_ABC, SHA384_448);
}

static void check_peek(crypto_hash_id id, const char *abc, const char *full)
{
    const uint8_t *msg = (const uint8_t *)msg_448;
    uint8_t out[CRYPTO_HASH_MAX_LEN];
    crypto_hash_ctx *ctx = hash_new(id);
    hash_update(ctx, msg, 3);
    assert_int_equal(crypto_hash_peek(ctx, out), 0);
    assert_bytes_hex(out, ctx->alg->digest_len, abc);
    /* Peeking twice gives the same answer. */
    memset(out, 0, sizeof(out));
    assert_int_equal(crypto_hash_peek(ctx, out), 0);
    assert_bytes_hex(out, ctx->alg->digest_len, abc);
    hash_update(ctx, msg + 3, strlen(msg_448) - 3);
    assert_int_equal(crypto_hash_peek(ctx, out), 0);
    assert_bytes_hex(out, ctx->alg->digest_len, full);
    assert_bytes_hex(out, hash_final(ctx, out), full);
}

static void test_hash_peek_keeps_context_running(void **state)
{
    (void)state;
    check_peek(CRYPTO_HASH_SHA256, SHA256_ABC, SHA256_448);
    check_peek(CRYPTO_HASH_SHA384, SHA384_ABC, SHA384_448);
}

static void test_hash_digest_helper_writes_digest_len_bytes(void **state)
{
    (void)state;
    uint8_t out[CRYPTO_HASH_MAX_LEN + 8];
    memset(out, 0xa5, sizeof(out));
    const crypto_hash_alg *alg = hash_alg(CRYPTO_HASH_SHA256);
    assert_int_equal(crypto_hash_digest(alg, (const uint8_t *)msg_abc, 3, out), 0);
    assert_bytes_hex(out, 32, SHA256_ABC);
    for (size_t i = 32; i < sizeof(out); i++)
        assert_int_equal(out[i], 0xa5);
}

static void test_hash_free_accepts_null(void **state)
{
    (void)state;
    crypto_hash_free(NULL);
    hash_alg(CRYPTO_HASH_SHA256)->ctx_free(NULL);
    hash_alg(CRYPTO_HASH_SHA384)->ctx_free(NULL);
}

/* ---- HMAC: RFC 4231 section 4 ---- */

typedef struct hmac_case {
    /* The key is key_hex when set, else key_len copies of key_fill. */
    const char *key_hex;
    uint8_t key_fill;
    size_t key_len;
    /* The data is data_ascii when set, else data_len copies of data_fill. */
    const char *data_ascii;
    uint8_t data_fill;
    size_t data_len;
    const char *sha256;
    const char *sha384;
    /* Test case 5 publishes only the first 128 bits. */
    size_t compare_len;
} hmac_case;

static hmac_case rfc4231_case1 = {
    .key_fill = 0x0b,
    .key_len = 20,
    .data_ascii = "Hi There",
    .sha256 = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    .sha384 = "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
              "faea9ea9076ede7f4af152e8b2fa9cb6",
};

static hmac_case rfc4231_case2 = {
    .key_hex = "4a656665", /* "Jefe" */
    .data_ascii = "what do ya want for nothing?",
    .sha256 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    .sha384 = "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
              "8e2240ca5e69e2c78b3239ecfab21649",
};

static hmac_case rfc4231_case3 = {
    .key_fill = 0xaa,
    .key_len = 20,
    .data_fill = 0xdd,
    .data_len = 50,
    .sha256 = "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    .sha384 = "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b"
              "2a5ab39dc13814b94e3ab6e101a34f27",
};

static hmac_case rfc4231_case4 = {
    .key_hex = "0102030405060708090a0b0c0d0e0f10111213141516171819",
    .data_fill = 0xcd,
    .data_len = 50,
    .sha256 = "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
    .sha384 = "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e"
              "6801dd23c4a7d679ccf8a386c674cffb",
};

static hmac_case rfc4231_case5 = {
    .key_fill = 0x0c,
    .key_len = 20,
    .data_ascii = "Test With Truncation",
    .sha256 = "a3b6167473100ee06e0c796c2955552b",
    .sha384 = "3abf34c3503b2a23a46efc619baef897",
    .compare_len = 16,
};

static hmac_case rfc4231_case6 = {
    .key_fill = 0xaa,
    .key_len = 131,
    .data_ascii = "Test Using Larger Than Block-Size Key - Hash Key First",
    .sha256 = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    .sha384 = "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
              "0c2ef6ab4030fe8296248df163f44952",
};

static hmac_case rfc4231_case7 = {
    .key_fill = 0xaa,
    .key_len = 131,
    .data_ascii = "This is a test using a larger than block-size key and a larger than "
                  "block-size data. The key needs to be hashed before being used by the "
                  "HMAC algorithm.",
    .sha256 = "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    .sha384 = "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5"
              "a678cc31e799176d3860e6110c46523e",
};

static void check_hmac(crypto_hash_id id, const uint8_t *key, size_t key_len, const uint8_t *data,
                       size_t data_len, const char *expected, size_t compare_len)
{
    uint8_t out[CRYPTO_HASH_MAX_LEN + 8];
    memset(out, 0xa5, sizeof(out));
    size_t digest_len = hash_alg(id)->digest_len;
    assert_int_equal(prov()->hmac(id, key, key_len, data, data_len, out), 0);
    assert_bytes_hex(out, compare_len ? compare_len : digest_len, expected);
    for (size_t i = digest_len; i < sizeof(out); i++)
        assert_int_equal(out[i], 0xa5);
}

static void test_hmac_rfc4231(void **state)
{
    const hmac_case *c = *state;
    uint8_t key[256], data[256];
    size_t key_len, data_len;
    if (c->key_hex) {
        key_len = unhex(c->key_hex, key, sizeof(key));
    } else {
        key_len = c->key_len;
        memset(key, c->key_fill, key_len);
    }
    if (c->data_ascii) {
        data_len = strlen(c->data_ascii);
        memcpy(data, c->data_ascii, data_len);
    } else {
        data_len = c->data_len;
        memset(data, c->data_fill, data_len);
    }
    check_hmac(CRYPTO_HASH_SHA256, key, key_len, data, data_len, c->sha256, c->compare_len);
    check_hmac(CRYPTO_HASH_SHA384, key, key_len, data, data_len, c->sha384, c->compare_len);
}

/* ---- TLS 1.2 PRF ---- */

/* The P_SHA256 / P_SHA384 vectors posted by Joseph Birr-Pixton to the IETF
 * TLS list ("TLS 1.2 PRF test vectors", tls mail archive msg03416), label
 * "test label". */
#define PRF_SHA256_SECRET "9bbe436ba940f017b17652849a71db35"
#define PRF_SHA256_SEED   "a0ba9f936cda311827a6f796ffd5198c"
#define PRF_SHA256_OUT                                                 \
    "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a" \
    "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab" \
    "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701" \
    "87347b66"
#define PRF_SHA384_SECRET "b80b733d6ceefcdc71566ea48e5567df"
#define PRF_SHA384_SEED   "cd665cf6a8447dd6ff8b27555edb7465"
#define PRF_SHA384_OUT                                                 \
    "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd" \
    "e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd" \
    "8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425" \
    "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6" \
    "91c8f3a26854308d5eaa3be85e0990703d73e56f"

static void check_prf(crypto_hash_id id, const char *secret_hex, const char *seed_hex,
                      const char *out_hex, size_t out_len)
{
    uint8_t secret[64], seed[64], out[256];
    size_t secret_len = unhex(secret_hex, secret, sizeof(secret));
    size_t seed_len = unhex(seed_hex, seed, sizeof(seed));
    memset(out, 0xa5, sizeof(out));
    assert_int_equal(
        prov()->tls12_prf(id, secret, secret_len, "test label", seed, seed_len, out, out_len), 0);
    assert_bytes_hex(out, out_len, out_hex);
    for (size_t i = out_len; i < sizeof(out); i++)
        assert_int_equal(out[i], 0xa5);
}

static void test_tls12_prf_sha256_published_vector(void **state)
{
    (void)state;
    check_prf(CRYPTO_HASH_SHA256, PRF_SHA256_SECRET, PRF_SHA256_SEED, PRF_SHA256_OUT, 100);
}

static void test_tls12_prf_sha384_published_vector(void **state)
{
    (void)state;
    check_prf(CRYPTO_HASH_SHA384, PRF_SHA384_SECRET, PRF_SHA384_SEED, PRF_SHA384_OUT, 148);
}

/* P_hash output is a stream: asking for fewer bytes gives a prefix (the
 * 12-byte Finished verify_data is such a request). */
static void test_tls12_prf_short_output_is_prefix(void **state)
{
    (void)state;
    uint8_t secret[16], seed[16], full[100], out[100];
    unhex(PRF_SHA256_SECRET, secret, sizeof(secret));
    unhex(PRF_SHA256_SEED, seed, sizeof(seed));
    unhex(PRF_SHA256_OUT, full, sizeof(full));
    static const size_t lens[] = {1, 12, 31, 32, 33, 64, 99};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(lens); i++) {
        memset(out, 0, sizeof(out));
        assert_int_equal(prov()->tls12_prf(CRYPTO_HASH_SHA256, secret, sizeof(secret), "test label",
                                           seed, sizeof(seed), out, lens[i]),
                         0);
        assert_memory_equal(out, full, lens[i]);
    }
}

/* ---- HKDF: RFC 5869 appendix A ---- */

typedef struct hkdf_case {
    const char *ikm;
    const char *salt; /* NULL: pass NULL with salt_len 0 */
    const char *info;
    size_t okm_len;
    const char *prk;
    const char *okm;
} hkdf_case;

static hkdf_case rfc5869_case1 = {
    .ikm = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
    .salt = "000102030405060708090a0b0c",
    .info = "f0f1f2f3f4f5f6f7f8f9",
    .okm_len = 42,
    .prk = "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
    .okm = "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
           "34007208d5b887185865",
};

static hkdf_case rfc5869_case2 = {
    .ikm = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
           "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
           "404142434445464748494a4b4c4d4e4f",
    .salt = "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
            "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
            "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
    .info = "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
            "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
            "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
    .okm_len = 82,
    .prk = "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
    .okm = "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
           "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
           "cc30c58179ec3e87c14c01d5c1f3434f1d87",
};

/* Zero-length salt and info. */
static hkdf_case rfc5869_case3 = {
    .ikm = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
    .salt = NULL,
    .info = "",
    .okm_len = 42,
    .prk = "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
    .okm = "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
           "9d201395faa4b61a96c8",
};

static void test_hkdf_rfc5869(void **state)
{
    const hkdf_case *c = *state;
    uint8_t ikm[128], salt[128], info[128], prk[CRYPTO_HASH_MAX_LEN], okm[128];
    size_t ikm_len = unhex(c->ikm, ikm, sizeof(ikm));
    size_t salt_len = c->salt ? unhex(c->salt, salt, sizeof(salt)) : 0;
    size_t info_len = unhex(c->info, info, sizeof(info));

    assert_int_equal(prov()->hkdf_extract(CRYPTO_HASH_SHA256, c->salt ? salt : NULL, salt_len, ikm,
                                          ikm_len, prk),
                     0);
    assert_bytes_hex(prk, 32, c->prk);

    memset(okm, 0xa5, sizeof(okm));
    assert_int_equal(
        prov()->hkdf_expand(CRYPTO_HASH_SHA256, prk, 32, info, info_len, okm, c->okm_len), 0);
    assert_bytes_hex(okm, c->okm_len, c->okm);
    for (size_t i = c->okm_len; i < sizeof(okm); i++)
        assert_int_equal(okm[i], 0xa5);
}

/* RFC 8448 section 3, {server} extract secret "early": salt 0 (no PSK, so a
 * zero-length salt) and 32 zero octets of IKM. */
static void test_hkdf_extract_rfc8448_early_secret(void **state)
{
    (void)state;
    uint8_t ikm[32] = {0}, prk[32];
    assert_int_equal(prov()->hkdf_extract(CRYPTO_HASH_SHA256, NULL, 0, ikm, sizeof(ikm), prk), 0);
    assert_bytes_hex(prk, sizeof(prk),
                     "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a");

    /* A salt of HashLen zero octets is the same thing (RFC 5869 2.2). */
    uint8_t zero_salt[32] = {0};
    assert_int_equal(prov()->hkdf_extract(CRYPTO_HASH_SHA256, zero_salt, sizeof(zero_salt), ikm,
                                          sizeof(ikm), prk),
                     0);
    assert_bytes_hex(prk, sizeof(prk),
                     "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a");
}

static void test_hkdf_expand_accepts_255_blocks_and_rejects_more(void **state)
{
    (void)state;
    static uint8_t out[255 * CRYPTO_HASH_MAX_LEN + 1];
    uint8_t prk[CRYPTO_HASH_MAX_LEN];
    memset(prk, 0x42, sizeof(prk));
    static const crypto_hash_id ids[] = {CRYPTO_HASH_SHA256, CRYPTO_HASH_SHA384};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(ids); i++) {
        size_t digest_len = hash_alg(ids[i])->digest_len;
        size_t max = 255 * digest_len;
        assert_int_equal(
            prov()->hkdf_expand(ids[i], prk, digest_len, (const uint8_t *)"x", 1, out, max), 0);
        assert_true(prov()->hkdf_expand(ids[i], prk, digest_len, (const uint8_t *)"x", 1, out,
                                        max + 1) < 0);
    }
}

/* ---- HKDF-Expand-Label ---- */

/* RFC 8448 section 3, {server} derive secret for handshake "tls13 derived":
 * PRK is the early secret, the context is the SHA-256 of the empty string. */
static void test_hkdf_expand_label_rfc8448_derived_secret(void **state)
{
    (void)state;
    uint8_t secret[32], context[32], out[32];
    unhex("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a", secret,
          sizeof(secret));
    unhex(SHA256_EMPTY, context, sizeof(context));
    assert_int_equal(crypto_hkdf_expand_label(prov(), CRYPTO_HASH_SHA256, secret, sizeof(secret),
                                              "tls13 ", "derived", context, sizeof(context), out,
                                              sizeof(out)),
                     0);
    assert_bytes_hex(out, sizeof(out),
                     "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba");
}

/* RFC 8448 section 3, {server} derive write traffic keys for handshake
 * data: key and iv from the server handshake traffic secret. */
#define RFC8448_SERVER_HS_SECRET "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38"

static void test_hkdf_expand_label_rfc8448_server_handshake_key_and_iv(void **state)
{
    (void)state;
    uint8_t secret[32], key[16], iv[12];
    unhex(RFC8448_SERVER_HS_SECRET, secret, sizeof(secret));
    assert_int_equal(crypto_hkdf_expand_label(prov(), CRYPTO_HASH_SHA256, secret, sizeof(secret),
                                              "tls13 ", "key", (const uint8_t *)"", 0, key,
                                              sizeof(key)),
                     0);
    assert_bytes_hex(key, sizeof(key), "3fce516009c21727d0f2e4e86ee403bc");
    assert_int_equal(crypto_hkdf_expand_label(prov(), CRYPTO_HASH_SHA256, secret, sizeof(secret),
                                              "tls13 ", "iv", (const uint8_t *)"", 0, iv,
                                              sizeof(iv)),
                     0);
    assert_bytes_hex(iv, sizeof(iv), "5d313eb2671276ee13000b30");
}

/* The HkdfLabel encoding itself: RFC 8448 prints the "key info" bytes, and
 * the DTLS 1.3 prefix "dtls13" (RFC 9147 section 5.9) is spliced in the
 * same way, without a space. */
static void test_hkdf_expand_label_encodes_hkdf_label(void **state)
{
    (void)state;
    uint8_t secret[32], info[32], want[16], got[16];
    unhex(RFC8448_SERVER_HS_SECRET, secret, sizeof(secret));

    size_t info_len = unhex("00 10 09 74 6c 73 31 33 20 6b 65 79 00", info, sizeof(info));
    assert_int_equal(prov()->hkdf_expand(CRYPTO_HASH_SHA256, secret, sizeof(secret), info, info_len,
                                         want, sizeof(want)),
                     0);
    assert_bytes_hex(want, sizeof(want), "3fce516009c21727d0f2e4e86ee403bc");

    /* uint16 16, label<9> "dtls13key", context<0>. */
    info_len = unhex("00 10 09 64 74 6c 73 31 33 6b 65 79 00", info, sizeof(info));
    assert_int_equal(prov()->hkdf_expand(CRYPTO_HASH_SHA256, secret, sizeof(secret), info, info_len,
                                         want, sizeof(want)),
                     0);
    assert_int_equal(crypto_hkdf_expand_label(prov(), CRYPTO_HASH_SHA256, secret, sizeof(secret),
                                              "dtls13", "key", (const uint8_t *)"", 0, got,
                                              sizeof(got)),
                     0);
    assert_memory_equal(got, want, sizeof(want));

    /* A non-empty context is length-prefixed after the label. */
    uint8_t context[3] = {0xc0, 0xc1, 0xc2};
    info_len = unhex("00 10 09 64 74 6c 73 31 33 6b 65 79 03 c0 c1 c2", info, sizeof(info));
    assert_int_equal(prov()->hkdf_expand(CRYPTO_HASH_SHA256, secret, sizeof(secret), info, info_len,
                                         want, sizeof(want)),
                     0);
    assert_int_equal(crypto_hkdf_expand_label(prov(), CRYPTO_HASH_SHA256, secret, sizeof(secret),
                                              "dtls13", "key", context, sizeof(context), got,
                                              sizeof(got)),
                     0);
    assert_memory_equal(got, want, sizeof(want));
}

/* ---- self-test and backend description ---- */

typedef struct selftest_tally {
    int checks;
    int failures;
} selftest_tally;

static void count_check(void *ref, const char *check, int result)
{
    selftest_tally *tally = ref;
    assert_non_null(check);
    assert_true(check[0] != '\0');
    tally->checks++;
    if (result != 0) {
        print_error("self-test check \"%s\" failed: %d\n", check, result);
        tally->failures++;
    }
}

static void test_selftest_passes_and_reports_every_check(void **state)
{
    (void)state;
    selftest_tally tally = {0, 0};
    assert_int_equal(petrel_crypto_selftest(count_check, &tally), 0);
    assert_true(tally.checks >= 11);
    assert_int_equal(tally.failures, 0);
}

static void test_selftest_accepts_null_report(void **state)
{
    (void)state;
    assert_int_equal(petrel_crypto_selftest(NULL, NULL), 0);
}

static void test_crypto_backend_is_the_provider_description(void **state)
{
    (void)state;
    const char *desc = petrel_crypto_backend();
    assert_non_null(desc);
    assert_true(desc[0] != '\0');
    assert_string_equal(desc, prov()->describe());
    assert_non_null(prov()->name);
}

/* A test named name that runs fn with one row of a vector table as its
 * state. */
/* clang-format off */
#define VECTOR_TEST(name, fn, row) {name, fn, NULL, NULL, &(row)}
/* clang-format on */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_parameters),
        cmocka_unit_test(test_sha256_fips180_abc),
        cmocka_unit_test(test_sha256_fips180_448_bit_message),
        cmocka_unit_test(test_sha256_empty_message_rfc8448),
        cmocka_unit_test(test_sha384_fips180_abc),
        cmocka_unit_test(test_sha384_448_bit_message),
        cmocka_unit_test(test_sha384_fips180_896_bit_message),
        cmocka_unit_test(test_hash_incremental_updates_equal_one_shot),
        cmocka_unit_test(test_hash_copy_mid_stream),
        cmocka_unit_test(test_hash_peek_keeps_context_running),
        cmocka_unit_test(test_hash_digest_helper_writes_digest_len_bytes),
        cmocka_unit_test(test_hash_free_accepts_null),
        VECTOR_TEST("test_hmac_sha256_sha384_rfc4231_case_1", test_hmac_rfc4231, rfc4231_case1),
        VECTOR_TEST("test_hmac_sha256_sha384_rfc4231_case_2", test_hmac_rfc4231, rfc4231_case2),
        VECTOR_TEST("test_hmac_sha256_sha384_rfc4231_case_3", test_hmac_rfc4231, rfc4231_case3),
        VECTOR_TEST("test_hmac_sha256_sha384_rfc4231_case_4", test_hmac_rfc4231, rfc4231_case4),
        VECTOR_TEST("test_hmac_sha256_sha384_rfc4231_case_5_truncated", test_hmac_rfc4231,
                    rfc4231_case5),
        VECTOR_TEST("test_hmac_sha256_sha384_rfc4231_case_6", test_hmac_rfc4231, rfc4231_case6),
        VECTOR_TEST("test_hmac_sha256_sha384_rfc4231_case_7", test_hmac_rfc4231, rfc4231_case7),
        cmocka_unit_test(test_tls12_prf_sha256_published_vector),
        cmocka_unit_test(test_tls12_prf_sha384_published_vector),
        cmocka_unit_test(test_tls12_prf_short_output_is_prefix),
        VECTOR_TEST("test_hkdf_sha256_rfc5869_case_1", test_hkdf_rfc5869, rfc5869_case1),
        VECTOR_TEST("test_hkdf_sha256_rfc5869_case_2", test_hkdf_rfc5869, rfc5869_case2),
        VECTOR_TEST("test_hkdf_sha256_rfc5869_case_3_empty_salt_and_info", test_hkdf_rfc5869,
                    rfc5869_case3),
        cmocka_unit_test(test_hkdf_extract_rfc8448_early_secret),
        cmocka_unit_test(test_hkdf_expand_accepts_255_blocks_and_rejects_more),
        cmocka_unit_test(test_hkdf_expand_label_rfc8448_derived_secret),
        cmocka_unit_test(test_hkdf_expand_label_rfc8448_server_handshake_key_and_iv),
        cmocka_unit_test(test_hkdf_expand_label_encodes_hkdf_label),
        cmocka_unit_test(test_selftest_passes_and_reports_every_check),
        cmocka_unit_test(test_selftest_accepts_null_report),
        cmocka_unit_test(test_crypto_backend_is_the_provider_description),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
