/*
 * Tests for the TLS 1.2 key schedule (handshake/keys.h; RFC 5246 §5, §6.3,
 * §7.4.9, §8.1; RFC 4279 §2; RFC 5489 §2; RFC 7627 §4) and the cipher-suite
 * registry (handshake/suites.h).
 *
 * The PRF outputs are checked against a TLS 1.2 PRF written here from RFC
 * 5246 §5 on top of OpenSSL's one-shot HMAC, itself checked against the
 * published PRF test vectors, so that the library's PRF (OpenSSL's
 * TLS1-PRF KDF) is not checked against itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "handshake/keys.h"
#include "handshake/messages.h"
#include "handshake/suites.h"

static const uint16_t suite_ids[] = {0xC0A8, 0xC0A4, 0x00A8, 0x00A9, 0xCCAB, 0xCCAC, 0xC0AE,
                                     0xC0AC, 0xC02B, 0xC02C, 0xCCA9, 0xC02F, 0xC030, 0xCCA8};
#define SUITE_COUNT (sizeof(suite_ids) / sizeof(suite_ids[0]))

/* ---- helpers ---- */

static const crypto_provider *prov(void)
{
    const crypto_provider *p = crypto_default_provider();
    assert_non_null(p);
    return p;
}

static void fill(uint8_t *buf, size_t len, uint8_t start)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(start + i);
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (; hex[0] != '\0'; hex += 2) {
        int hi = hex_nibble(hex[0]), lo = hex[1] ? hex_nibble(hex[1]) : -1;
        assert_true(hi >= 0 && lo >= 0);
        assert_true(n < cap);
        out[n++] = (uint8_t)(hi << 4 | lo);
    }
    return n;
}

static const hs_suite *suite(uint16_t id)
{
    const hs_suite *s = hs_suite_find(id);
    if (!s)
        fail_msg("suite 0x%04x missing from the registry", id);
    return s;
}

/* ---- the reference PRF (RFC 5246 §5) ---- */

static const EVP_MD *ref_md(crypto_hash_id hash)
{
    return hash == CRYPTO_HASH_SHA384 ? EVP_sha384() : EVP_sha256();
}

static void ref_hmac(crypto_hash_id hash, const uint8_t *key, size_t key_len, const uint8_t *a,
                     size_t a_len, const uint8_t *b, size_t b_len, uint8_t *out, size_t *out_len)
{
    uint8_t *msg = malloc(a_len + b_len + 1);
    unsigned int len = 0;
    static const uint8_t empty_key;
    assert_non_null(msg);
    memcpy(msg, a, a_len);
    if (b_len)
        memcpy(msg + a_len, b, b_len);
    assert_non_null(HMAC(ref_md(hash), key_len ? key : &empty_key, (int)key_len, msg, a_len + b_len,
                         out, &len));
    *out_len = len;
    free(msg);
}

/*
 * PRF(secret, label, seed) = P_hash(secret, label + seed), where
 *   P_hash(secret, seed) = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + ...
 *   A(0) = seed, A(i) = HMAC(secret, A(i-1)).
 */
static void ref_prf(crypto_hash_id hash, const uint8_t *secret, size_t secret_len,
                    const char *label, const uint8_t *seed, size_t seed_len, uint8_t *out,
                    size_t out_len)
{
    size_t label_len = strlen(label), ls_len = label_len + seed_len;
    uint8_t *label_seed = malloc(ls_len);
    assert_non_null(label_seed);
    memcpy(label_seed, label, label_len);
    memcpy(label_seed + label_len, seed, seed_len);

    uint8_t a[EVP_MAX_MD_SIZE], block[EVP_MAX_MD_SIZE];
    size_t a_len, block_len;
    ref_hmac(hash, secret, secret_len, label_seed, ls_len, NULL, 0, a, &a_len); /* A(1) */
    for (size_t done = 0; done < out_len;) {
        ref_hmac(hash, secret, secret_len, a, a_len, label_seed, ls_len, block, &block_len);
        size_t take = out_len - done < block_len ? out_len - done : block_len;
        memcpy(out + done, block, take);
        done += take;
        ref_hmac(hash, secret, secret_len, a, a_len, NULL, 0, a, &a_len); /* A(i+1) */
    }
    free(label_seed);
}

/* The reference PRF against the published TLS 1.2 PRF test vectors
 * (IETF TLS WG list, "TLS 1.2 PRF test vectors"). */
static void test_reference_prf_vectors(void **state)
{
    (void)state;
    uint8_t secret[16], seed[16], expected[100], out[100];
    unhex("9bbe436ba940f017b17652849a71db35", secret, sizeof(secret));
    unhex("a0ba9f936cda311827a6f796ffd5198c", seed, sizeof(seed));
    size_t n = unhex("e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
                     "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
                     "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
                     "87347b66",
                     expected, sizeof(expected));
    assert_int_equal(n, 100);
    ref_prf(CRYPTO_HASH_SHA256, secret, 16, "test label", seed, 16, out, 100);
    assert_memory_equal(out, expected, 100);

    /* SHA-384: the first 48 bytes of the published vector. */
    unhex("b80b733d6ceefcdc71566ea48e5567df", secret, sizeof(secret));
    unhex("cd665cf6a8447dd6ff8b27555edb7465", seed, sizeof(seed));
    n = unhex("7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd"
              "e9ca0faa60be9fe34f82b1233c9146a0",
              expected, sizeof(expected));
    assert_int_equal(n, 48);
    ref_prf(CRYPTO_HASH_SHA384, secret, 16, "test label", seed, 16, out, 48);
    assert_memory_equal(out, expected, 48);

    /* The provider's PRF agrees, at lengths around the hash block size. */
    static const size_t lens[] = {1, 12, 31, 32, 33, 48, 49, 88, 100};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        for (crypto_hash_id h = CRYPTO_HASH_SHA256; h <= CRYPTO_HASH_SHA384; h++) {
            uint8_t mine[100], theirs[100];
            ref_prf(h, secret, 16, "test label", seed, 16, mine, lens[i]);
            assert_int_equal(
                prov()->tls12_prf(h, secret, 16, "test label", seed, 16, theirs, lens[i]), 0);
            assert_memory_equal(mine, theirs, lens[i]);
        }
    }
}

/* ---- premaster secrets ---- */

static void test_psk_premaster_plain(void **state)
{
    (void)state;
    static const size_t lens[] = {1, 16, 32, 255, HS_PSK_MAX};
    uint8_t psk[HS_PSK_MAX];
    fill(psk, sizeof(psk), 0x01);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t n = lens[i], out_len = 0;
        /* Exactly HS_PREMASTER_MAX on the heap: the sanitizer catches any
         * write past it. */
        uint8_t *out = malloc(HS_PREMASTER_MAX);
        assert_non_null(out);
        memset(out, 0xee, HS_PREMASTER_MAX);
        assert_int_equal(hs_psk_premaster(psk, n, NULL, 0, out, &out_len), 0);
        /* RFC 4279 §2: uint16 N, N zero bytes, uint16 N, the PSK. */
        assert_int_equal(out_len, 2 + n + 2 + n);
        assert_int_equal(out[0], (uint8_t)(n >> 8));
        assert_int_equal(out[1], (uint8_t)n);
        for (size_t k = 0; k < n; k++)
            assert_int_equal(out[2 + k], 0);
        assert_int_equal(out[2 + n], (uint8_t)(n >> 8));
        assert_int_equal(out[3 + n], (uint8_t)n);
        assert_memory_equal(out + 4 + n, psk, n);
        free(out);
    }
}

static void test_psk_premaster_ecdhe(void **state)
{
    (void)state;
    static const size_t z_lens[] = {1, 32, 48};
    static const size_t psk_lens[] = {1, 16, HS_PSK_MAX};
    uint8_t psk[HS_PSK_MAX], z[CRYPTO_KEX_MAX_SECRET_LEN];
    fill(psk, sizeof(psk), 0x80);
    fill(z, sizeof(z), 0x20);
    for (size_t i = 0; i < sizeof(z_lens) / sizeof(z_lens[0]); i++) {
        for (size_t j = 0; j < sizeof(psk_lens) / sizeof(psk_lens[0]); j++) {
            size_t zl = z_lens[i], n = psk_lens[j], out_len = 0;
            uint8_t *out = malloc(HS_PREMASTER_MAX);
            assert_non_null(out);
            assert_int_equal(hs_psk_premaster(psk, n, z, zl, out, &out_len), 0);
            /* RFC 5489 §2: uint16 len(Z), Z, uint16 N, the PSK. */
            assert_int_equal(out_len, 2 + zl + 2 + n);
            assert_int_equal(out[0], (uint8_t)(zl >> 8));
            assert_int_equal(out[1], (uint8_t)zl);
            assert_memory_equal(out + 2, z, zl);
            assert_int_equal(out[2 + zl], (uint8_t)(n >> 8));
            assert_int_equal(out[3 + zl], (uint8_t)n);
            assert_memory_equal(out + 4 + zl, psk, n);
            free(out);
        }
    }
}

static void test_psk_premaster_errors(void **state)
{
    (void)state;
    uint8_t psk[HS_PSK_MAX + 1], z[CRYPTO_KEX_MAX_SECRET_LEN + 1];
    uint8_t out[HS_PREMASTER_MAX];
    size_t out_len = 12345;
    fill(psk, sizeof(psk), 1);
    fill(z, sizeof(z), 2);
    assert_int_equal(hs_psk_premaster(psk, 0, NULL, 0, out, &out_len), PETREL_ERR_ARG);
    assert_int_equal(hs_psk_premaster(psk, HS_PSK_MAX + 1, NULL, 0, out, &out_len), PETREL_ERR_ARG);
    assert_int_equal(hs_psk_premaster(psk, 0, z, 32, out, &out_len), PETREL_ERR_ARG);
    assert_int_equal(hs_psk_premaster(psk, HS_PSK_MAX + 1, z, 32, out, &out_len), PETREL_ERR_ARG);
    /* An ECDH secret longer than any group's. */
    assert_int_equal(hs_psk_premaster(psk, 16, z, CRYPTO_KEX_MAX_SECRET_LEN + 1, out, &out_len),
                     PETREL_ERR_ARG);
    /* An empty ECDH secret. */
    assert_true(hs_psk_premaster(psk, 16, z, 0, out, &out_len) < 0);
    assert_int_equal(out_len, 12345);
}

/* ---- master secret, key block, Finished ---- */

typedef struct schedule_inputs {
    uint8_t pre[HS_PREMASTER_MAX];
    size_t pre_len;
    uint8_t client_random[HS_RANDOM_LEN];
    uint8_t server_random[HS_RANDOM_LEN];
    uint8_t session_hash[CRYPTO_HASH_MAX_LEN];
} schedule_inputs;

static void inputs_init(schedule_inputs *in)
{
    uint8_t psk[20];
    fill(psk, sizeof(psk), 0x0a);
    assert_int_equal(hs_psk_premaster(psk, sizeof(psk), NULL, 0, in->pre, &in->pre_len), 0);
    fill(in->client_random, HS_RANDOM_LEN, 0x40);
    fill(in->server_random, HS_RANDOM_LEN, 0x90);
    fill(in->session_hash, sizeof(in->session_hash), 0xd0);
}

static size_t hash_len(const hs_suite *s)
{
    return s->prf_hash == CRYPTO_HASH_SHA384 ? 48 : 32;
}

static void check_master_secret(uint16_t id)
{
    const hs_suite *s = suite(id);
    schedule_inputs in;
    inputs_init(&in);
    uint8_t seed[2 * HS_RANDOM_LEN];
    memcpy(seed, in.client_random, HS_RANDOM_LEN);
    memcpy(seed + HS_RANDOM_LEN, in.server_random, HS_RANDOM_LEN);

    /* RFC 5246 §8.1: PRF(pre, "master secret", client_random + server_random)[0..47]. */
    uint8_t expected[HS_MASTER_SECRET_LEN], master[HS_MASTER_SECRET_LEN + 8];
    ref_prf(s->prf_hash, in.pre, in.pre_len, "master secret", seed, sizeof(seed), expected,
            sizeof(expected));
    memset(master, 0xee, sizeof(master));
    assert_int_equal(hs_master_secret(prov(), s, in.pre, in.pre_len, in.client_random,
                                      in.server_random, NULL, 0, master),
                     0);
    assert_memory_equal(master, expected, HS_MASTER_SECRET_LEN);
    for (size_t i = HS_MASTER_SECRET_LEN; i < sizeof(master); i++)
        assert_int_equal(master[i], 0xee);

    /* The randoms are not interchangeable. */
    uint8_t swapped[HS_MASTER_SECRET_LEN];
    assert_int_equal(hs_master_secret(prov(), s, in.pre, in.pre_len, in.server_random,
                                      in.client_random, NULL, 0, swapped),
                     0);
    assert_memory_not_equal(swapped, expected, HS_MASTER_SECRET_LEN);

    /* RFC 7627 §4: PRF(pre, "extended master secret", session_hash). */
    size_t hl = hash_len(s);
    uint8_t expected_ems[HS_MASTER_SECRET_LEN], ems[HS_MASTER_SECRET_LEN];
    ref_prf(s->prf_hash, in.pre, in.pre_len, "extended master secret", in.session_hash, hl,
            expected_ems, sizeof(expected_ems));
    assert_int_equal(hs_master_secret(prov(), s, in.pre, in.pre_len, in.client_random,
                                      in.server_random, in.session_hash, hl, ems),
                     0);
    assert_memory_equal(ems, expected_ems, HS_MASTER_SECRET_LEN);
    assert_memory_not_equal(ems, expected, HS_MASTER_SECRET_LEN);
    /* The randoms play no part in the extended form. */
    uint8_t other_random[HS_RANDOM_LEN] = {0};
    assert_int_equal(hs_master_secret(prov(), s, in.pre, in.pre_len, other_random, other_random,
                                      in.session_hash, hl, ems),
                     0);
    assert_memory_equal(ems, expected_ems, HS_MASTER_SECRET_LEN);
}

static void test_master_secret_sha256(void **state)
{
    (void)state;
    assert_int_equal(suite(0x00A8)->prf_hash, CRYPTO_HASH_SHA256);
    check_master_secret(0x00A8);
    check_master_secret(0xCCAC);
}

static void test_master_secret_sha384(void **state)
{
    (void)state;
    assert_int_equal(suite(0x00A9)->prf_hash, CRYPTO_HASH_SHA384);
    check_master_secret(0x00A9);
}

static void check_key_block(uint16_t id)
{
    const hs_suite *s = suite(id);
    uint8_t master[HS_MASTER_SECRET_LEN], cr[HS_RANDOM_LEN], sr[HS_RANDOM_LEN];
    fill(master, sizeof(master), 0x5a);
    fill(cr, sizeof(cr), 0x01);
    fill(sr, sizeof(sr), 0xf1);

    /* RFC 5246 §6.3: PRF(master, "key expansion", server_random +
     * client_random), cut into client key, server key, client IV, server
     * IV (no MAC keys for AEAD suites). */
    size_t k = s->key_len, v = s->fixed_iv_len, need = 2 * k + 2 * v;
    uint8_t seed[2 * HS_RANDOM_LEN], block[2 * (CRYPTO_AEAD_MAX_KEY_LEN + CRYPTO_AEAD_NONCE_LEN)];
    memcpy(seed, sr, HS_RANDOM_LEN);
    memcpy(seed + HS_RANDOM_LEN, cr, HS_RANDOM_LEN);
    assert_true(need <= sizeof(block));
    ref_prf(s->prf_hash, master, sizeof(master), "key expansion", seed, sizeof(seed), block, need);

    hs_traffic_keys client, server;
    memset(&client, 0xee, sizeof(client));
    memset(&server, 0xee, sizeof(server));
    assert_int_equal(hs_key_block(prov(), s, master, cr, sr, &client, &server), 0);
    assert_memory_equal(client.key, block, k);
    assert_memory_equal(server.key, block + k, k);
    assert_memory_equal(client.iv, block + 2 * k, v);
    assert_memory_equal(server.iv, block + 2 * k + v, v);
    /* The unused tails are cleared, not left over. */
    for (size_t i = k; i < sizeof(client.key); i++) {
        assert_int_equal(client.key[i], 0);
        assert_int_equal(server.key[i], 0);
    }
    for (size_t i = v; i < sizeof(client.iv); i++) {
        assert_int_equal(client.iv[i], 0);
        assert_int_equal(server.iv[i], 0);
    }
}

static void test_key_block_every_suite(void **state)
{
    (void)state;
    for (size_t i = 0; i < SUITE_COUNT; i++) {
        const hs_suite *s = suite(suite_ids[i]);
        bool chacha = s->aead == CRYPTO_AEAD_CHACHA20_POLY1305;
        assert_int_equal(s->fixed_iv_len, chacha ? 12 : 4);
        assert_int_equal(s->key_len, prov()->aead(s->aead)->key_len);
        check_key_block(suite_ids[i]);
    }
}

static void check_finished(uint16_t id)
{
    const hs_suite *s = suite(id);
    uint8_t master[HS_MASTER_SECRET_LEN], transcript[CRYPTO_HASH_MAX_LEN];
    fill(master, sizeof(master), 0x33);
    fill(transcript, sizeof(transcript), 0x77);
    size_t hl = hash_len(s);

    /* RFC 5246 §7.4.9: PRF(master, finished_label, Hash(handshake))[0..11]. */
    uint8_t expected_c[HS_VERIFY_DATA_LEN], expected_s[HS_VERIFY_DATA_LEN];
    ref_prf(s->prf_hash, master, sizeof(master), "client finished", transcript, hl, expected_c,
            HS_VERIFY_DATA_LEN);
    ref_prf(s->prf_hash, master, sizeof(master), "server finished", transcript, hl, expected_s,
            HS_VERIFY_DATA_LEN);

    uint8_t out[HS_VERIFY_DATA_LEN + 4];
    memset(out, 0xee, sizeof(out));
    assert_int_equal(hs_finished_verify_data(prov(), s, master, 1, transcript, hl, out), 0);
    assert_memory_equal(out, expected_c, HS_VERIFY_DATA_LEN);
    for (size_t i = HS_VERIFY_DATA_LEN; i < sizeof(out); i++)
        assert_int_equal(out[i], 0xee);
    assert_int_equal(hs_finished_verify_data(prov(), s, master, 0, transcript, hl, out), 0);
    assert_memory_equal(out, expected_s, HS_VERIFY_DATA_LEN);
    assert_memory_not_equal(expected_c, expected_s, HS_VERIFY_DATA_LEN);
}

static void test_finished_verify_data(void **state)
{
    (void)state;
    assert_int_equal(HS_VERIFY_DATA_LEN, 12);
    check_finished(0x00A8); /* SHA-256 */
    check_finished(0x00A9); /* SHA-384 */
    check_finished(0xCCAB);
}

/* ---- the registry ---- */

static void test_suite_find(void **state)
{
    (void)state;
    for (size_t i = 0; i < SUITE_COUNT; i++) {
        const hs_suite *s = hs_suite_find(suite_ids[i]);
        assert_non_null(s);
        assert_int_equal(s->id, suite_ids[i]);
        assert_non_null(s->name);
        assert_true(strncmp(s->name, "TLS_", 4) == 0);
        assert_non_null(prov()->aead(s->aead));
        assert_non_null(prov()->hash(s->prf_hash));
        assert_false(hs_suite_is_insecure(s->id, NULL));
    }
    assert_int_equal(suite(0xC0A8)->kx, HS_KX_PSK);
    assert_int_equal(suite(0xC0A8)->aead, CRYPTO_AEAD_AES_128_CCM_8);
    assert_int_equal(suite(0xC0A4)->aead, CRYPTO_AEAD_AES_128_CCM);
    assert_int_equal(suite(0x00A8)->aead, CRYPTO_AEAD_AES_128_GCM);
    assert_int_equal(suite(0x00A9)->aead, CRYPTO_AEAD_AES_256_GCM);
    assert_int_equal(suite(0xCCAB)->kx, HS_KX_PSK);
    assert_int_equal(suite(0xCCAC)->kx, HS_KX_ECDHE_PSK);
    assert_int_equal(suite(0xCCAC)->aead, CRYPTO_AEAD_CHACHA20_POLY1305);
    /* The certificate suites of issue 6 (RFC 8422, 7251, 7905). */
    assert_int_equal(suite(0xC0AE)->kx, HS_KX_ECDHE_ECDSA);
    assert_int_equal(suite(0xC0AE)->aead, CRYPTO_AEAD_AES_128_CCM_8);
    assert_int_equal(suite(0xC02B)->aead, CRYPTO_AEAD_AES_128_GCM);
    assert_int_equal(suite(0xC02C)->prf_hash, CRYPTO_HASH_SHA384);
    assert_int_equal(suite(0xCCA9)->kx, HS_KX_ECDHE_ECDSA);
    assert_int_equal(suite(0xC02F)->kx, HS_KX_ECDHE_RSA);
    assert_int_equal(suite(0xC030)->aead, CRYPTO_AEAD_AES_256_GCM);
    assert_int_equal(suite(0xCCA8)->aead, CRYPTO_AEAD_CHACHA20_POLY1305);

    static const uint16_t unknown[] = {0x0000, 0x0004, 0x002F, 0x00FF,
                                       0xC027, 0xC0A9, 0x1301, 0xFFFF};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        assert_null(hs_suite_find(unknown[i]));

    /* The default preferences name only registered suites. */
    assert_true(hs_default_suite_count > 0);
    assert_true(hs_default_suite_count <= HS_MAX_SUITES);
    for (size_t i = 0; i < hs_default_suite_count; i++)
        assert_non_null(hs_suite_find(hs_default_suites[i]));
}

static void test_suite_is_insecure(void **state)
{
    (void)state;
    static const uint16_t insecure[] = {0x0004, 0x000A, 0x002F};
    for (size_t i = 0; i < sizeof(insecure) / sizeof(insecure[0]); i++) {
        const char *why = NULL;
        assert_true(hs_suite_is_insecure(insecure[i], &why));
        assert_non_null(why);
        assert_true(strlen(why) > 0);
        assert_true(hs_suite_is_insecure(insecure[i], NULL));
    }
    const char *why = "untouched";
    assert_false(hs_suite_is_insecure(0xC0A8, &why));
    assert_string_equal(why, "untouched");
    assert_false(hs_suite_is_insecure(0x00A8, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_prf_vectors),
        cmocka_unit_test(test_psk_premaster_plain),
        cmocka_unit_test(test_psk_premaster_ecdhe),
        cmocka_unit_test(test_psk_premaster_errors),
        cmocka_unit_test(test_master_secret_sha256),
        cmocka_unit_test(test_master_secret_sha384),
        cmocka_unit_test(test_key_block_every_suite),
        cmocka_unit_test(test_finished_verify_data),
        cmocka_unit_test(test_suite_find),
        cmocka_unit_test(test_suite_is_insecure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
