/*
 * The crypto backend's known-answer self-test (petrel_crypto_selftest): one
 * published vector per primitive, run through the provider interface, so a
 * build against a broken or misconfigured crypto library is caught before
 * it carries traffic. The same vectors, and many more, are in
 * tests/unit/test_crypto_*.c.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <petrel/petrel.h>

#include "crypto/provider.h"

/* Large enough for the longest vector (RFC 8439's 114-byte plaintext plus
 * its tag). */
#define SELFTEST_MAX_BYTES 160

typedef struct selftest_check {
    const char *name;
    int (*run)(const crypto_provider *prov, const void *arg);
    const void *arg;
} selftest_check;

static int selftest_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decodes a lower-case hex constant into out[0, cap) and stores its length
 * in *len. The constants are ours, so a bad one is an internal error. */
static int selftest_unhex(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = 0;
    for (; hex[0] != '\0'; hex += 2) {
        int hi = selftest_nibble(hex[0]);
        int lo = hi < 0 ? -1 : selftest_nibble(hex[1]);
        if (lo < 0 || n == cap)
            return PETREL_ERR_INTERNAL;
        out[n++] = (uint8_t)(hi << 4 | lo);
    }
    *len = n;
    return 0;
}

/* 0 when got[0, len) is exactly the bytes spelled by hex, otherwise
 * PETREL_ERR_CRYPTO: the backend computed a wrong answer. */
static int selftest_expect(const crypto_provider *prov, const uint8_t *got, size_t len,
                           const char *hex)
{
    uint8_t want[SELFTEST_MAX_BYTES];
    size_t want_len;
    PETREL_TRY(selftest_unhex(hex, want, sizeof(want), &want_len));
    if (want_len != len || !prov->ct_equal(got, want, len))
        return PETREL_ERR_CRYPTO;
    return 0;
}

/* ---- hashes and key derivation ---- */

typedef struct selftest_hash_vector {
    crypto_hash_id hash;
    const char *digest;
} selftest_hash_vector;

/* FIPS 180-2 appendix B: SHA-256 and SHA-384 of "abc". */
static const selftest_hash_vector selftest_sha256 = {
    CRYPTO_HASH_SHA256,
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
};
static const selftest_hash_vector selftest_sha384 = {
    CRYPTO_HASH_SHA384,
    "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
    "8086072ba1e7cc2358baeca134c825a7",
};

static int selftest_hash(const crypto_provider *prov, const void *arg)
{
    const selftest_hash_vector *v = arg;
    const crypto_hash_alg *alg = prov->hash(v->hash);
    if (!alg)
        return PETREL_ERR_UNSUPPORTED;
    uint8_t out[CRYPTO_HASH_MAX_LEN];
    PETREL_TRY(crypto_hash_digest(alg, (const uint8_t *)"abc", 3, out));
    return selftest_expect(prov, out, alg->digest_len, v->digest);
}

/* RFC 4231 section 4.3, test case 2. */
static int selftest_hmac(const crypto_provider *prov, const void *arg)
{
    (void)arg;
    static const char data[] = "what do ya want for nothing?";
    uint8_t out[32];
    PETREL_TRY(prov->hmac(CRYPTO_HASH_SHA256, (const uint8_t *)"Jefe", 4, (const uint8_t *)data,
                          sizeof(data) - 1, out));
    return selftest_expect(prov, out, sizeof(out),
                           "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

/* The P_SHA256 vector Joseph Birr-Pixton posted to the IETF TLS list
 * ("TLS 1.2 PRF test vectors"). */
static int selftest_tls12_prf(const crypto_provider *prov, const void *arg)
{
    (void)arg;
    uint8_t secret[16], seed[16], out[100];
    size_t secret_len, seed_len;
    PETREL_TRY(
        selftest_unhex("9bbe436ba940f017b17652849a71db35", secret, sizeof(secret), &secret_len));
    PETREL_TRY(selftest_unhex("a0ba9f936cda311827a6f796ffd5198c", seed, sizeof(seed), &seed_len));
    PETREL_TRY(prov->tls12_prf(CRYPTO_HASH_SHA256, secret, secret_len, "test label", seed, seed_len,
                               out, sizeof(out)));
    return selftest_expect(prov, out, sizeof(out),
                           "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
                           "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
                           "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
                           "87347b66");
}

/* RFC 5869 appendix A.1, test case 1. */
static int selftest_hkdf(const crypto_provider *prov, const void *arg)
{
    (void)arg;
    uint8_t ikm[22], salt[13], info[10], prk[32], okm[42];
    size_t ikm_len, salt_len, info_len;
    PETREL_TRY(
        selftest_unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", ikm, sizeof(ikm), &ikm_len));
    PETREL_TRY(selftest_unhex("000102030405060708090a0b0c", salt, sizeof(salt), &salt_len));
    PETREL_TRY(selftest_unhex("f0f1f2f3f4f5f6f7f8f9", info, sizeof(info), &info_len));
    PETREL_TRY(prov->hkdf_extract(CRYPTO_HASH_SHA256, salt, salt_len, ikm, ikm_len, prk));
    PETREL_TRY(selftest_expect(prov, prk, sizeof(prk),
                               "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"));
    PETREL_TRY(
        prov->hkdf_expand(CRYPTO_HASH_SHA256, prk, sizeof(prk), info, info_len, okm, sizeof(okm)));
    return selftest_expect(prov, okm, sizeof(okm),
                           "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                           "34007208d5b887185865");
}

/* ---- AEADs ---- */

typedef struct selftest_aead_vector {
    crypto_aead_id id;
    const char *key;
    const char *nonce;
    const char *aad;
    const char *plaintext;
    const char *sealed; /* ciphertext || tag */
} selftest_aead_vector;

/* McGrew & Viega, "The Galois/Counter Mode of Operation", test case 4. */
static const selftest_aead_vector selftest_aes_128_gcm = {
    CRYPTO_AEAD_AES_128_GCM,
    "feffe9928665731c6d6a8f9467308308",
    "cafebabefacedbaddecaf888",
    "feedfacedeadbeeffeedfacedeadbeefabaddad2",
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
    "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
    "5bc94fbc3221a5db94fae95ae7121a47",
};

/* The same document, test case 16. */
static const selftest_aead_vector selftest_aes_256_gcm = {
    CRYPTO_AEAD_AES_256_GCM,
    "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
    "cafebabefacedbaddecaf888",
    "feedfacedeadbeeffeedfacedeadbeefabaddad2",
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
    "76fc6ece0f4e1768cddf8853bb2d551b",
};

/* Project Wycheproof aes_ccm_test.json, tcId 34 (96-bit nonce, 128-bit
 * tag). */
static const selftest_aead_vector selftest_aes_128_ccm = {
    CRYPTO_AEAD_AES_128_CCM,
    "875b0b4a84150524eb1f50f9d8de1388",
    "fdc5014ed1ad706129d57322",
    "35a6d9829c8449c4402e385cc5c6fe98",
    "2f575dfb2dbe9d238de576fc63e4ac32",
    "3469c3ff738aa32aacc1ac48d89b1d75fa68720a3171a54c4b3690bffde7b610",
};

/* NIST SP 800-38C appendix C, example 3 (96-bit nonce, 64-bit tag). */
static const selftest_aead_vector selftest_aes_128_ccm_8 = {
    CRYPTO_AEAD_AES_128_CCM_8,
    "404142434445464748494a4b4c4d4e4f",
    "101112131415161718191a1b",
    "000102030405060708090a0b0c0d0e0f10111213",
    "202122232425262728292a2b2c2d2e2f3031323334353637",
    "e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5484392fbc1b09951",
};

/* RFC 8439 section 2.8.2. */
static const selftest_aead_vector selftest_chacha20_poly1305 = {
    CRYPTO_AEAD_CHACHA20_POLY1305,
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
    "070000004041424344454647",
    "50515253c0c1c2c3c4c5c6c7",
    "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
    "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
    "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
    "637265656e20776f756c642062652069742e",
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
    "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
    "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
    "3ff4def08e4b7a9de576d26586cec64b6116"
    "1ae10b594f09e26a7e902ecbd0600691",
};

/* Seal gives the published bytes, open gives the plaintext back, and a
 * record with one tag bit flipped is refused. */
static int selftest_aead_with_key(const crypto_provider *prov, crypto_aead_key *key,
                                  const selftest_aead_vector *v)
{
    uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], aad[32], plaintext[SELFTEST_MAX_BYTES];
    uint8_t buf[SELFTEST_MAX_BYTES + CRYPTO_AEAD_MAX_TAG_LEN];
    size_t nonce_len, aad_len, len;
    size_t tag_len = key->alg->tag_len;
    PETREL_TRY(selftest_unhex(v->nonce, nonce, sizeof(nonce), &nonce_len));
    PETREL_TRY(selftest_unhex(v->aad, aad, sizeof(aad), &aad_len));
    PETREL_TRY(selftest_unhex(v->plaintext, plaintext, sizeof(plaintext), &len));
    if (nonce_len != CRYPTO_AEAD_NONCE_LEN)
        return PETREL_ERR_INTERNAL;

    memcpy(buf, plaintext, len);
    PETREL_TRY(crypto_aead_seal(key, nonce, aad, aad_len, buf, len));
    PETREL_TRY(selftest_expect(prov, buf, len + tag_len, v->sealed));

    int rc = crypto_aead_open(key, nonce, aad, aad_len, buf, len + tag_len);
    if (rc != 0)
        return rc == PETREL_ERR_AEAD_AUTH ? PETREL_ERR_CRYPTO : rc;
    if (!prov->ct_equal(buf, plaintext, len))
        return PETREL_ERR_CRYPTO;

    PETREL_TRY(crypto_aead_seal(key, nonce, aad, aad_len, buf, len));
    buf[len + tag_len - 1] ^= 0x01;
    rc = crypto_aead_open(key, nonce, aad, aad_len, buf, len + tag_len);
    return rc == PETREL_ERR_AEAD_AUTH ? 0 : PETREL_ERR_CRYPTO;
}

static int selftest_aead(const crypto_provider *prov, const void *arg)
{
    const selftest_aead_vector *v = arg;
    const crypto_aead_alg *alg = prov->aead(v->id);
    if (!alg)
        return PETREL_ERR_UNSUPPORTED;
    uint8_t key_bytes[CRYPTO_AEAD_MAX_KEY_LEN];
    size_t key_len;
    PETREL_TRY(selftest_unhex(v->key, key_bytes, sizeof(key_bytes), &key_len));
    if (key_len != alg->key_len)
        return PETREL_ERR_INTERNAL;
    crypto_aead_key *key = NULL;
    PETREL_TRY(alg->key_new(alg, key_bytes, &key));
    int rc = selftest_aead_with_key(prov, key, v);
    crypto_aead_key_free(key);
    return rc;
}

/* ---- key exchange ---- */

typedef struct selftest_kex_vector {
    crypto_group_id group;
    const char *priv;
    const char *pub;
    const char *peer;
    const char *shared;
} selftest_kex_vector;

/* RFC 7748 section 6.1: Alice's key pair, Bob's public key, and K. */
static const selftest_kex_vector selftest_x25519 = {
    CRYPTO_GROUP_X25519,
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
};

/* RFC 5903 section 8.1: i, g^i, g^r and the x-coordinate of g^ir. */
static const selftest_kex_vector selftest_p256 = {
    CRYPTO_GROUP_SECP256R1,
    "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433",
    "04dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180"
    "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3",
    "04d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63"
    "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
    "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de",
};

static int selftest_kex_with_key(const crypto_provider *prov, const crypto_kex_key *key,
                                 const selftest_kex_vector *v)
{
    uint8_t pub[CRYPTO_KEX_MAX_PUBLIC_LEN], peer[CRYPTO_KEX_MAX_PUBLIC_LEN];
    uint8_t shared[CRYPTO_KEX_MAX_SECRET_LEN];
    size_t peer_len;
    PETREL_TRY(key->alg->public_key(key, pub));
    PETREL_TRY(selftest_expect(prov, pub, key->alg->public_len, v->pub));
    PETREL_TRY(selftest_unhex(v->peer, peer, sizeof(peer), &peer_len));
    int rc = key->alg->derive(key, peer, peer_len, shared);
    if (rc != 0)
        return rc == PETREL_ERR_BAD_PEER_KEY ? PETREL_ERR_CRYPTO : rc;
    return selftest_expect(prov, shared, key->alg->secret_len, v->shared);
}

static int selftest_kex(const crypto_provider *prov, const void *arg)
{
    const selftest_kex_vector *v = arg;
    const crypto_kex_alg *alg = prov->kex(v->group);
    if (!alg)
        return PETREL_ERR_UNSUPPORTED;
    uint8_t priv[CRYPTO_KEX_MAX_SECRET_LEN];
    size_t priv_len;
    PETREL_TRY(selftest_unhex(v->priv, priv, sizeof(priv), &priv_len));
    crypto_kex_key *key = NULL;
    PETREL_TRY(alg->from_private(alg, priv, priv_len, &key));
    int rc = selftest_kex_with_key(prov, key, v);
    crypto_kex_key_free(key);
    return rc;
}

/* ---- signatures ---- */

static int selftest_ecdsa_with_key(const crypto_provider *prov, const crypto_pkey *key)
{
    static const char msg[] = "petrel ECDSA self-test";
    uint8_t sig[CRYPTO_SIG_MAX_LEN];
    size_t sig_len = 0;
    PETREL_TRY(prov->sign(key, CRYPTO_SIG_ECDSA_SECP256R1_SHA256, (const uint8_t *)msg,
                          sizeof(msg) - 1, sig, sizeof(sig), &sig_len));
    int rc = prov->verify(key, CRYPTO_SIG_ECDSA_SECP256R1_SHA256, (const uint8_t *)msg,
                          sizeof(msg) - 1, sig, sig_len);
    if (rc != 0)
        return rc == PETREL_ERR_SIGNATURE ? PETREL_ERR_CRYPTO : rc;
    /* The signature must not cover a different message. */
    rc = prov->verify(key, CRYPTO_SIG_ECDSA_SECP256R1_SHA256, (const uint8_t *)msg, sizeof(msg) - 2,
                      sig, sig_len);
    return rc == PETREL_ERR_SIGNATURE ? 0 : PETREL_ERR_CRYPTO;
}

static int selftest_ecdsa(const crypto_provider *prov, const void *arg)
{
    (void)arg;
    crypto_pkey *key = NULL;
    PETREL_TRY(prov->pkey_generate(CRYPTO_KEY_EC_P256, 0, &key));
    int rc = selftest_ecdsa_with_key(prov, key);
    prov->pkey_free(key);
    return rc;
}

static const selftest_check selftest_checks[] = {
    {"SHA-256 FIPS 180-2 \"abc\"", selftest_hash, &selftest_sha256},
    {"SHA-384 FIPS 180-2 \"abc\"", selftest_hash, &selftest_sha384},
    {"HMAC-SHA256 RFC 4231 #2", selftest_hmac, NULL},
    {"TLS 1.2 PRF SHA-256 (IETF TLS list vector)", selftest_tls12_prf, NULL},
    {"HKDF-SHA256 RFC 5869 #1", selftest_hkdf, NULL},
    {"AES-128-GCM McGrew-Viega #4", selftest_aead, &selftest_aes_128_gcm},
    {"AES-256-GCM McGrew-Viega #16", selftest_aead, &selftest_aes_256_gcm},
    {"AES-128-CCM Wycheproof #34", selftest_aead, &selftest_aes_128_ccm},
    {"AES-128-CCM-8 SP 800-38C C.3", selftest_aead, &selftest_aes_128_ccm_8},
    {"ChaCha20-Poly1305 RFC 8439 2.8.2", selftest_aead, &selftest_chacha20_poly1305},
    {"X25519 RFC 7748 6.1", selftest_kex, &selftest_x25519},
    {"P-256 ECDH RFC 5903 8.1", selftest_kex, &selftest_p256},
    {"ECDSA P-256 SHA-256 sign/verify", selftest_ecdsa, NULL},
};

int petrel_crypto_selftest(petrel_selftest_report_fn report, void *ref)
{
    const crypto_provider *prov = crypto_default_provider();
    int first_error = 0;
    for (size_t i = 0; i < PETREL_ARRAY_LEN(selftest_checks); i++) {
        const selftest_check *check = &selftest_checks[i];
        int rc = prov ? check->run(prov, check->arg) : PETREL_ERR_INTERNAL;
        if (rc > 0)
            rc = PETREL_ERR_INTERNAL; /* the provider returns 0 or a negative code */
        if (report)
            report(ref, check->name, rc);
        if (rc != 0 && first_error == 0)
            first_error = rc;
    }
    return first_error;
}

const char *petrel_crypto_backend(void)
{
    return crypto_default_provider()->describe();
}
