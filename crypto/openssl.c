/*
 * The crypto provider over OpenSSL libcrypto 3.x: the primitives and
 * signature keys (certificates and path validation are in
 * crypto/openssl_x509.c).
 *
 * Every primitive here is OpenSSL's; this file only adapts calling
 * conventions to crypto/provider.h. Objects are allocated with OpenSSL's
 * allocator (OPENSSL_zalloc), which an application can redirect with
 * CRYPTO_set_mem_functions(). OpenSSL's error queue is cleared after every
 * failure so that petrel never leaves errors behind for the application.
 */
#include "crypto/openssl_internal.h"

#include <limits.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

static const char *hash_name(crypto_hash_id id)
{
    return id == CRYPTO_HASH_SHA384 ? "SHA384" : "SHA256";
}

static const EVP_MD *hash_md(crypto_hash_id id)
{
    switch (id) {
    case CRYPTO_HASH_SHA256:
        return EVP_sha256();
    case CRYPTO_HASH_SHA384:
        return EVP_sha384();
    default:
        return NULL;
    }
}

/* ======================================================================
 * AEAD
 * ====================================================================== */

typedef struct ossl_aead_key {
    crypto_aead_key base;
    /* One context per direction, keyed once: seal and open then only set
     * the nonce, which allocates nothing. */
    EVP_CIPHER_CTX *enc;
    EVP_CIPHER_CTX *dec;
} ossl_aead_key;

static bool aead_is_ccm(const crypto_aead_alg *alg)
{
    return alg->id == CRYPTO_AEAD_AES_128_CCM || alg->id == CRYPTO_AEAD_AES_128_CCM_8;
}

static const char *aead_cipher_name(crypto_aead_id id)
{
    switch (id) {
    case CRYPTO_AEAD_AES_128_CCM:
    case CRYPTO_AEAD_AES_128_CCM_8:
        return "AES-128-CCM";
    case CRYPTO_AEAD_AES_128_GCM:
        return "AES-128-GCM";
    case CRYPTO_AEAD_AES_256_GCM:
        return "AES-256-GCM";
    case CRYPTO_AEAD_CHACHA20_POLY1305:
        return "ChaCha20-Poly1305";
    default:
        return NULL;
    }
}

static void aead_key_free(crypto_aead_key *key)
{
    ossl_aead_key *k = (ossl_aead_key *)key;
    if (!k)
        return;
    EVP_CIPHER_CTX_free(k->enc); /* clears the key schedule */
    EVP_CIPHER_CTX_free(k->dec);
    OPENSSL_clear_free(k, sizeof(*k));
}

static EVP_CIPHER_CTX *aead_ctx_new(const crypto_aead_alg *alg, EVP_CIPHER *cipher,
                                    const uint8_t *key, int enc)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx)
        return NULL;
    /* Nonce and (for CCM) tag length must be fixed before the key. */
    if (EVP_CipherInit_ex2(ctx, cipher, NULL, NULL, enc, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, (int)alg->nonce_len, NULL) != 1 ||
        (aead_is_ccm(alg) &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, (int)alg->tag_len, NULL) != 1) ||
        EVP_CipherInit_ex2(ctx, NULL, key, NULL, enc, NULL) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static int aead_key_new(const crypto_aead_alg *alg, const uint8_t *key, crypto_aead_key **out)
{
    EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, aead_cipher_name(alg->id), NULL);
    if (!cipher)
        return ossl_fail(PETREL_ERR_UNSUPPORTED);
    ossl_aead_key *k = OPENSSL_zalloc(sizeof(*k));
    if (!k) {
        EVP_CIPHER_free(cipher);
        return ossl_fail(PETREL_ERR_NOMEM);
    }
    k->base.alg = alg;
    k->enc = aead_ctx_new(alg, cipher, key, 1);
    k->dec = aead_ctx_new(alg, cipher, key, 0);
    EVP_CIPHER_free(cipher); /* the contexts hold their own references */
    if (!k->enc || !k->dec) {
        aead_key_free(&k->base);
        return ossl_fail(PETREL_ERR_CRYPTO);
    }
    *out = &k->base;
    return 0;
}

/* Sets the nonce, the CCM message length and the AAD on ctx. */
static bool aead_begin(const crypto_aead_alg *alg, EVP_CIPHER_CTX *ctx, int enc,
                       const uint8_t *nonce, const uint8_t *aad, size_t aad_len, size_t len)
{
    int outl;
    if (EVP_CipherInit_ex2(ctx, NULL, NULL, nonce, enc, NULL) != 1)
        return false;
    if (aead_is_ccm(alg) && EVP_CipherUpdate(ctx, NULL, &outl, NULL, (int)len) != 1)
        return false;
    if (aad_len && EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1)
        return false;
    return true;
}

static int aead_seal(crypto_aead_key *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                     uint8_t *buf, size_t len)
{
    ossl_aead_key *k = (ossl_aead_key *)key;
    const crypto_aead_alg *alg = key->alg;
    int outl;
    if (len > INT_MAX - CRYPTO_AEAD_MAX_TAG_LEN || aad_len > INT_MAX)
        return PETREL_ERR_ARG;
    if (!aead_begin(alg, k->enc, 1, nonce, aad, aad_len, len) ||
        EVP_CipherUpdate(k->enc, buf, &outl, buf, (int)len) != 1 ||
        EVP_CipherFinal_ex(k->enc, buf + len, &outl) != 1 ||
        EVP_CIPHER_CTX_ctrl(k->enc, EVP_CTRL_AEAD_GET_TAG, (int)alg->tag_len, buf + len) != 1)
        return ossl_fail(PETREL_ERR_CRYPTO);
    return 0;
}

static int aead_open(crypto_aead_key *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                     uint8_t *buf, size_t len)
{
    ossl_aead_key *k = (ossl_aead_key *)key;
    const crypto_aead_alg *alg = key->alg;
    int outl;
    if (len < alg->tag_len) {
        petrel_wipe(buf, len);
        return PETREL_ERR_TRUNCATED;
    }
    if (len > INT_MAX || aad_len > INT_MAX)
        return PETREL_ERR_ARG;
    size_t ct_len = len - alg->tag_len;
    uint8_t *tag = buf + ct_len;
    /* CCM checks the tag inside the update call and has no final step;
     * GCM and ChaCha20-Poly1305 check it in the final call. */
    bool ok = EVP_CIPHER_CTX_ctrl(k->dec, EVP_CTRL_AEAD_SET_TAG, (int)alg->tag_len, tag) == 1 &&
              aead_begin(alg, k->dec, 0, nonce, aad, aad_len, ct_len) &&
              EVP_CipherUpdate(k->dec, buf, &outl, buf, (int)ct_len) == 1 &&
              (aead_is_ccm(alg) || EVP_CipherFinal_ex(k->dec, buf + ct_len, &outl) == 1);
    if (!ok) {
        petrel_wipe(buf, len);
        return ossl_fail(PETREL_ERR_AEAD_AUTH);
    }
    petrel_wipe(tag, alg->tag_len);
    return 0;
}

#define AEAD_ALG(id_, name_, key_len_, tag_len_)                                           \
    {                                                                                      \
        .id = id_, .name = name_, .key_len = key_len_, .nonce_len = CRYPTO_AEAD_NONCE_LEN, \
        .tag_len = tag_len_, .key_new = aead_key_new, .key_free = aead_key_free,           \
        .seal = aead_seal, .open = aead_open,                                              \
    }

static const crypto_aead_alg aead_algs[CRYPTO_AEAD_COUNT] = {
    [CRYPTO_AEAD_AES_128_CCM] = AEAD_ALG(CRYPTO_AEAD_AES_128_CCM, "AES-128-CCM", 16, 16),
    [CRYPTO_AEAD_AES_128_CCM_8] = AEAD_ALG(CRYPTO_AEAD_AES_128_CCM_8, "AES-128-CCM-8", 16, 8),
    [CRYPTO_AEAD_AES_128_GCM] = AEAD_ALG(CRYPTO_AEAD_AES_128_GCM, "AES-128-GCM", 16, 16),
    [CRYPTO_AEAD_AES_256_GCM] = AEAD_ALG(CRYPTO_AEAD_AES_256_GCM, "AES-256-GCM", 32, 16),
    [CRYPTO_AEAD_CHACHA20_POLY1305] =
        AEAD_ALG(CRYPTO_AEAD_CHACHA20_POLY1305, "ChaCha20-Poly1305", 32, 16),
};

static const crypto_aead_alg *ossl_aead(crypto_aead_id id)
{
    return (unsigned)id < CRYPTO_AEAD_COUNT ? &aead_algs[id] : NULL;
}

/* ======================================================================
 * Hashes
 * ====================================================================== */

typedef struct ossl_hash_ctx {
    crypto_hash_ctx base;
    EVP_MD_CTX *md;
} ossl_hash_ctx;

static void hash_ctx_free(crypto_hash_ctx *ctx)
{
    ossl_hash_ctx *h = (ossl_hash_ctx *)ctx;
    if (!h)
        return;
    EVP_MD_CTX_free(h->md);
    OPENSSL_free(h);
}

static int hash_ctx_alloc(const crypto_hash_alg *alg, ossl_hash_ctx **out)
{
    ossl_hash_ctx *h = OPENSSL_zalloc(sizeof(*h));
    if (!h)
        return ossl_fail(PETREL_ERR_NOMEM);
    h->base.alg = alg;
    h->md = EVP_MD_CTX_new();
    if (!h->md) {
        OPENSSL_free(h);
        return ossl_fail(PETREL_ERR_NOMEM);
    }
    *out = h;
    return 0;
}

static int hash_ctx_new(const crypto_hash_alg *alg, crypto_hash_ctx **out)
{
    ossl_hash_ctx *h;
    PETREL_TRY(hash_ctx_alloc(alg, &h));
    if (EVP_DigestInit_ex2(h->md, hash_md(alg->id), NULL) != 1) {
        hash_ctx_free(&h->base);
        return ossl_fail(PETREL_ERR_CRYPTO);
    }
    *out = &h->base;
    return 0;
}

static int hash_update(crypto_hash_ctx *ctx, const uint8_t *data, size_t len)
{
    if (len && EVP_DigestUpdate(((ossl_hash_ctx *)ctx)->md, data, len) != 1)
        return ossl_fail(PETREL_ERR_CRYPTO);
    return 0;
}

static int hash_copy(const crypto_hash_ctx *src, crypto_hash_ctx **out)
{
    ossl_hash_ctx *h;
    PETREL_TRY(hash_ctx_alloc(src->alg, &h));
    if (EVP_MD_CTX_copy_ex(h->md, ((const ossl_hash_ctx *)src)->md) != 1) {
        hash_ctx_free(&h->base);
        return ossl_fail(PETREL_ERR_CRYPTO);
    }
    *out = &h->base;
    return 0;
}

static int hash_final(crypto_hash_ctx *ctx, uint8_t *out)
{
    if (EVP_DigestFinal_ex(((ossl_hash_ctx *)ctx)->md, out, NULL) != 1)
        return ossl_fail(PETREL_ERR_CRYPTO);
    return 0;
}

#define HASH_ALG(id_, name_, digest_len_, block_len_)                                           \
    {                                                                                           \
        .id = id_, .name = name_, .digest_len = digest_len_, .block_len = block_len_,           \
        .ctx_new = hash_ctx_new, .update = hash_update, .copy = hash_copy, .final = hash_final, \
        .ctx_free = hash_ctx_free,                                                              \
    }

static const crypto_hash_alg hash_algs[CRYPTO_HASH_COUNT] = {
    [CRYPTO_HASH_SHA256] = HASH_ALG(CRYPTO_HASH_SHA256, "SHA-256", 32, 64),
    [CRYPTO_HASH_SHA384] = HASH_ALG(CRYPTO_HASH_SHA384, "SHA-384", 48, 128),
};

static const crypto_hash_alg *ossl_hash(crypto_hash_id id)
{
    return (unsigned)id < CRYPTO_HASH_COUNT ? &hash_algs[id] : NULL;
}

/* ======================================================================
 * HMAC, the TLS 1.2 PRF, HKDF
 * ====================================================================== */

static int ossl_hmac(crypto_hash_id hash, const uint8_t *key, size_t key_len, const uint8_t *data,
                     size_t len, uint8_t *out)
{
    const EVP_MD *md = hash_md(hash);
    unsigned int out_len = 0;
    if (!md || key_len > INT_MAX)
        return PETREL_ERR_ARG;
    /* HMAC() wants a non-NULL key even when it is empty. */
    static const uint8_t empty;
    if (!HMAC(md, key_len ? key : &empty, (int)key_len, len ? data : &empty, len, out, &out_len))
        return ossl_fail(PETREL_ERR_CRYPTO);
    return 0;
}

/* Runs the named EVP_KDF with params, writing out_len bytes. */
static int kdf_derive(const char *kdf_name, const OSSL_PARAM *params, uint8_t *out, size_t out_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, kdf_name, NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    int ok = ctx && EVP_KDF_derive(ctx, out, out_len, params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return ok ? 0 : ossl_fail(PETREL_ERR_CRYPTO);
}

static int ossl_tls12_prf(crypto_hash_id hash, const uint8_t *secret, size_t secret_len,
                          const char *label, const uint8_t *seed, size_t seed_len, uint8_t *out,
                          size_t out_len)
{
    if (!hash_md(hash) || out_len == 0)
        return PETREL_ERR_ARG;
    /* OpenSSL concatenates repeated seed parameters: label then seed. */
    OSSL_PARAM params[5];
    size_t n = 0;
    params[n++] =
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)hash_name(hash), 0);
    params[n++] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, secret_len);
    params[n++] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)label, strlen(label));
    if (seed_len)
        params[n++] =
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)seed, seed_len);
    params[n] = OSSL_PARAM_construct_end();
    return kdf_derive(OSSL_KDF_NAME_TLS1_PRF, params, out, out_len);
}

static int ossl_hkdf_extract(crypto_hash_id hash, const uint8_t *salt, size_t salt_len,
                             const uint8_t *ikm, size_t ikm_len, uint8_t *prk)
{
    /* RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM); an absent salt is HashLen
     * zero bytes, which HMAC pads to the same key as an empty one. */
    return ossl_hmac(hash, salt, salt_len, ikm, ikm_len, prk);
}

static int ossl_hkdf_expand(crypto_hash_id hash, const uint8_t *prk, size_t prk_len,
                            const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
    const crypto_hash_alg *alg = ossl_hash(hash);
    if (!alg || out_len == 0 || out_len > 255 * alg->digest_len)
        return PETREL_ERR_ARG;
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM params[5];
    size_t n = 0;
    params[n++] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    params[n++] =
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)hash_name(hash), 0);
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)prk, prk_len);
    if (info_len)
        params[n++] =
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    params[n] = OSSL_PARAM_construct_end();
    return kdf_derive(OSSL_KDF_NAME_HKDF, params, out, out_len);
}

/* ======================================================================
 * Randomness and comparison
 * ====================================================================== */

static int ossl_random(uint8_t *buf, size_t len)
{
    while (len > 0) {
        int chunk = len > INT_MAX ? INT_MAX : (int)len;
        if (RAND_bytes(buf, chunk) != 1)
            return ossl_fail(PETREL_ERR_RNG);
        buf += chunk;
        len -= (size_t)chunk;
    }
    return 0;
}

static bool ossl_ct_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

/* ======================================================================
 * Key exchange
 * ====================================================================== */

typedef struct ossl_kex_key {
    crypto_kex_key base;
    EVP_PKEY *pkey;
    uint8_t pub[CRYPTO_KEX_MAX_PUBLIC_LEN];
} ossl_kex_key;

static bool kex_is_x25519(const crypto_kex_alg *alg)
{
    return alg->id == CRYPTO_GROUP_X25519;
}

static int kex_curve_nid(const crypto_kex_alg *alg)
{
    return alg->id == CRYPTO_GROUP_SECP384R1 ? NID_secp384r1 : NID_X9_62_prime256v1;
}

static const char *kex_curve_name(const crypto_kex_alg *alg)
{
    return alg->id == CRYPTO_GROUP_SECP384R1 ? "secp384r1" : "prime256v1";
}

static void kex_key_free(crypto_kex_key *key)
{
    ossl_kex_key *k = (ossl_kex_key *)key;
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    OPENSSL_clear_free(k, sizeof(*k));
}

/* An EC EVP_PKEY from its encoded public point and, optionally, private
 * scalar. */
static EVP_PKEY *ec_pkey_from_parts(const crypto_kex_alg *alg, const uint8_t *pub, size_t pub_len,
                                    const BIGNUM *priv)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    if (bld &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, kex_curve_name(alg), 0) ==
            1 &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, pub_len) == 1 &&
        (!priv || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) == 1) &&
        (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
        (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) != NULL &&
        EVP_PKEY_fromdata_init(ctx) == 1) {
        if (EVP_PKEY_fromdata(ctx, &pkey, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) !=
            1)
            pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

/* Computes the public point of scalar priv (checked to be in [1, n-1])
 * and builds the key pair. */
static int ec_key_from_private(const crypto_kex_alg *alg, const uint8_t *priv, size_t len,
                               ossl_kex_key *k)
{
    int rc = PETREL_ERR_CRYPTO;
    EC_GROUP *group = EC_GROUP_new_by_curve_name(kex_curve_nid(alg));
    BN_CTX *bn_ctx = BN_CTX_new();
    BIGNUM *d = BN_bin2bn(priv, (int)len, NULL);
    EC_POINT *pub = group ? EC_POINT_new(group) : NULL;
    if (!group || !bn_ctx || !d || !pub)
        goto out;
    if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(group)) >= 0) {
        rc = PETREL_ERR_KEY_PARSE;
        goto out;
    }
    if (EC_POINT_mul(group, pub, d, NULL, NULL, bn_ctx) != 1 ||
        EC_POINT_point2oct(group, pub, POINT_CONVERSION_UNCOMPRESSED, k->pub, alg->public_len,
                           bn_ctx) != alg->public_len)
        goto out;
    k->pkey = ec_pkey_from_parts(alg, k->pub, alg->public_len, d);
    rc = k->pkey ? 0 : PETREL_ERR_CRYPTO;
out:
    EC_POINT_free(pub);
    BN_clear_free(d);
    BN_CTX_free(bn_ctx);
    EC_GROUP_free(group);
    return rc < 0 ? ossl_fail(rc) : 0;
}

static int kex_from_private(const crypto_kex_alg *alg, const uint8_t *priv, size_t len,
                            crypto_kex_key **out)
{
    size_t want = kex_is_x25519(alg) ? 32 : alg->secret_len;
    if (len != want)
        return PETREL_ERR_KEY_PARSE;
    ossl_kex_key *k = OPENSSL_zalloc(sizeof(*k));
    if (!k)
        return ossl_fail(PETREL_ERR_NOMEM);
    k->base.alg = alg;
    int rc = 0;
    if (kex_is_x25519(alg)) {
        size_t pub_len = alg->public_len;
        k->pkey = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, priv, len);
        if (!k->pkey || EVP_PKEY_get_raw_public_key(k->pkey, k->pub, &pub_len) != 1)
            rc = ossl_fail(PETREL_ERR_CRYPTO);
    } else {
        rc = ec_key_from_private(alg, priv, len, k);
    }
    if (rc < 0) {
        kex_key_free(&k->base);
        return rc;
    }
    *out = &k->base;
    return 0;
}

static int kex_generate(const crypto_kex_alg *alg, petrel_rng_fn rng, void *rng_ref,
                        crypto_kex_key **out)
{
    uint8_t priv[CRYPTO_KEX_MAX_SECRET_LEN];
    size_t len = kex_is_x25519(alg) ? 32 : alg->secret_len;
    /* An EC scalar drawn at random is out of range with probability below
     * 2^-32 (P-256) or 2^-190 (P-384); a few redraws make failure
     * impossible in practice without biasing the accepted values. */
    for (int attempt = 0; attempt < 8; attempt++) {
        if (rng(rng_ref, priv, len) < 0) {
            petrel_wipe(priv, sizeof(priv));
            return PETREL_ERR_RNG;
        }
        int rc = kex_from_private(alg, priv, len, out);
        if (rc != PETREL_ERR_KEY_PARSE) {
            petrel_wipe(priv, sizeof(priv));
            return rc;
        }
    }
    petrel_wipe(priv, sizeof(priv));
    return PETREL_ERR_RNG;
}

static int kex_public_key(const crypto_kex_key *key, uint8_t *out)
{
    memcpy(out, ((const ossl_kex_key *)key)->pub, key->alg->public_len);
    return 0;
}

/* The peer's public key as an EVP_PKEY, or NULL when it is not a valid
 * point of the group. */
static EVP_PKEY *kex_peer_pkey(const crypto_kex_alg *alg, const uint8_t *peer, size_t peer_len)
{
    if (peer_len != alg->public_len)
        return NULL;
    if (kex_is_x25519(alg))
        return EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer, peer_len);
    /* Uncompressed points only (RFC 8422 §5.1.2, RFC 8446 §4.2.8.2). */
    if (peer[0] != POINT_CONVERSION_UNCOMPRESSED)
        return NULL;
    EC_GROUP *group = EC_GROUP_new_by_curve_name(kex_curve_nid(alg));
    EC_POINT *point = group ? EC_POINT_new(group) : NULL;
    /* oct2point rejects points that are not on the curve. */
    bool on_curve = point && EC_POINT_oct2point(group, point, peer, peer_len, NULL) == 1 &&
                    !EC_POINT_is_at_infinity(group, point);
    EC_POINT_free(point);
    EC_GROUP_free(group);
    return on_curve ? ec_pkey_from_parts(alg, peer, peer_len, NULL) : NULL;
}

static int kex_derive(const crypto_kex_key *key, const uint8_t *peer, size_t peer_len, uint8_t *out)
{
    const crypto_kex_alg *alg = key->alg;
    static const uint8_t zeros[CRYPTO_KEX_MAX_SECRET_LEN];
    EVP_PKEY *peer_key = kex_peer_pkey(alg, peer, peer_len);
    if (!peer_key)
        return ossl_fail(PETREL_ERR_BAD_PEER_KEY);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ((const ossl_kex_key *)key)->pkey, NULL);
    size_t out_len = alg->secret_len;
    int rc = PETREL_ERR_CRYPTO;
    if (ctx && EVP_PKEY_derive_init(ctx) == 1) {
        if (EVP_PKEY_derive_set_peer_ex(ctx, peer_key, 1) != 1)
            rc = PETREL_ERR_BAD_PEER_KEY;
        else if (EVP_PKEY_derive(ctx, out, &out_len) != 1)
            rc = kex_is_x25519(alg) ? PETREL_ERR_BAD_PEER_KEY : PETREL_ERR_CRYPTO;
        else if (out_len != alg->secret_len)
            rc = PETREL_ERR_CRYPTO;
        /* RFC 7748 §6.1: an all-zero X25519 output means a low-order peer
         * point; RFC 8446 §7.4.2 requires aborting. */
        else if (CRYPTO_memcmp(out, zeros, alg->secret_len) == 0)
            rc = PETREL_ERR_BAD_PEER_KEY;
        else
            rc = 0;
    }
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer_key);
    if (rc < 0) {
        petrel_wipe(out, alg->secret_len);
        return ossl_fail(rc);
    }
    return 0;
}

#define KEX_ALG(id_, name_, public_len_, secret_len_)                                             \
    {                                                                                             \
        .id = id_, .name = name_, .public_len = public_len_, .secret_len = secret_len_,           \
        .generate = kex_generate, .from_private = kex_from_private, .public_key = kex_public_key, \
        .derive = kex_derive, .key_free = kex_key_free,                                           \
    }

static const crypto_kex_alg kex_x25519 = KEX_ALG(CRYPTO_GROUP_X25519, "x25519", 32, 32);
static const crypto_kex_alg kex_p256 = KEX_ALG(CRYPTO_GROUP_SECP256R1, "secp256r1", 65, 32);
static const crypto_kex_alg kex_p384 = KEX_ALG(CRYPTO_GROUP_SECP384R1, "secp384r1", 97, 48);

static const crypto_kex_alg *ossl_kex(crypto_group_id id)
{
    switch (id) {
    case CRYPTO_GROUP_X25519:
        return &kex_x25519;
    case CRYPTO_GROUP_SECP256R1:
        return &kex_p256;
    case CRYPTO_GROUP_SECP384R1:
        return &kex_p384;
    }
    return NULL;
}

/* ======================================================================
 * Signature keys
 * ====================================================================== */

static void ossl_pkey_free(crypto_pkey *key)
{
    if (!key)
        return;
    EVP_PKEY_free(key->pkey);
    OPENSSL_free(key);
}

int crypto_openssl_pkey_wrap(EVP_PKEY *pkey, bool has_private, crypto_pkey **out)
{
    crypto_key_type type;
    char group[32];
    int rc = 0;
    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_EC:
        if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL) != 1)
            rc = PETREL_ERR_UNSUPPORTED;
        else if (strcmp(group, "prime256v1") == 0)
            type = CRYPTO_KEY_EC_P256;
        else if (strcmp(group, "secp384r1") == 0)
            type = CRYPTO_KEY_EC_P384;
        else
            rc = PETREL_ERR_UNSUPPORTED;
        break;
    case EVP_PKEY_RSA:
        type = CRYPTO_KEY_RSA;
        if (EVP_PKEY_get_bits(pkey) < CRYPTO_RSA_MIN_BITS)
            rc = PETREL_ERR_INSECURE;
        break;
    default:
        rc = PETREL_ERR_UNSUPPORTED;
    }
    crypto_pkey *key = rc == 0 ? OPENSSL_zalloc(sizeof(*key)) : NULL;
    if (!key) {
        EVP_PKEY_free(pkey);
        return ossl_fail(rc < 0 ? rc : PETREL_ERR_NOMEM);
    }
    key->pkey = pkey;
    key->type = type;
    key->has_private = has_private;
    *out = key;
    return 0;
}

static int ossl_pkey_from_der(const uint8_t *der, size_t len, crypto_pkey **out)
{
    if (!der || len == 0 || len > LONG_MAX)
        return PETREL_ERR_KEY_PARSE;
    /* A private key in PKCS#8, SEC1 or PKCS#1 first, then a public
     * SubjectPublicKeyInfo; either must consume the input exactly. */
    const unsigned char *p = der;
    EVP_PKEY *pkey = d2i_AutoPrivateKey_ex(NULL, &p, (long)len, NULL, NULL);
    if (pkey && p == der + len)
        return crypto_openssl_pkey_wrap(pkey, true, out);
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    p = der;
    pkey = d2i_PUBKEY_ex(NULL, &p, (long)len, NULL, NULL);
    if (pkey && p == der + len)
        return crypto_openssl_pkey_wrap(pkey, false, out);
    EVP_PKEY_free(pkey);
    return ossl_fail(PETREL_ERR_KEY_PARSE);
}

static int ossl_pkey_generate(crypto_key_type type, unsigned rsa_bits, crypto_pkey **out)
{
    EVP_PKEY *pkey;
    switch (type) {
    case CRYPTO_KEY_EC_P256:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    case CRYPTO_KEY_EC_P384:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        break;
    case CRYPTO_KEY_RSA:
        if (rsa_bits < CRYPTO_RSA_MIN_BITS)
            return PETREL_ERR_INSECURE;
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)rsa_bits);
        break;
    default:
        return PETREL_ERR_UNSUPPORTED;
    }
    if (!pkey)
        return ossl_fail(PETREL_ERR_CRYPTO);
    return crypto_openssl_pkey_wrap(pkey, true, out);
}

/* The hash and padding a scheme asks for, if it fits the key. */
static int sig_params(const crypto_pkey *key, crypto_sig_scheme scheme, crypto_hash_id *hash,
                      int *padding)
{
    bool ec = key->type != CRYPTO_KEY_RSA;
    *padding = 0;
    switch (scheme) {
    case CRYPTO_SIG_ECDSA_SECP256R1_SHA256:
        *hash = CRYPTO_HASH_SHA256;
        return ec ? 0 : PETREL_ERR_KEY_MISMATCH;
    case CRYPTO_SIG_ECDSA_SECP384R1_SHA384:
        *hash = CRYPTO_HASH_SHA384;
        return ec ? 0 : PETREL_ERR_KEY_MISMATCH;
    case CRYPTO_SIG_RSA_PKCS1_SHA256:
    case CRYPTO_SIG_RSA_PKCS1_SHA384:
        *hash = scheme == CRYPTO_SIG_RSA_PKCS1_SHA256 ? CRYPTO_HASH_SHA256 : CRYPTO_HASH_SHA384;
        *padding = RSA_PKCS1_PADDING;
        return ec ? PETREL_ERR_KEY_MISMATCH : 0;
    case CRYPTO_SIG_RSA_PSS_RSAE_SHA256:
    case CRYPTO_SIG_RSA_PSS_RSAE_SHA384:
        *hash = scheme == CRYPTO_SIG_RSA_PSS_RSAE_SHA256 ? CRYPTO_HASH_SHA256 : CRYPTO_HASH_SHA384;
        *padding = RSA_PKCS1_PSS_PADDING;
        return ec ? PETREL_ERR_KEY_MISMATCH : 0;
    }
    return PETREL_ERR_UNSUPPORTED;
}

/* Sets RSA padding; PSS uses a salt as long as the digest (RFC 8446
 * §4.2.3) and MGF1 with the same digest. */
static bool sig_set_padding(EVP_PKEY_CTX *pctx, int padding)
{
    if (!padding)
        return true;
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, padding) != 1)
        return false;
    return padding != RSA_PKCS1_PSS_PADDING ||
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
}

static int ossl_sign(const crypto_pkey *key, crypto_sig_scheme scheme, const uint8_t *msg,
                     size_t msg_len, uint8_t *sig, size_t sig_cap, size_t *sig_len)
{
    crypto_hash_id hash;
    int padding;
    PETREL_TRY(sig_params(key, scheme, &hash, &padding));
    const char *md = hash_name(hash);
    if (!key->has_private)
        return PETREL_ERR_KEY_MISMATCH;
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    size_t max_len = 0;
    int rc = PETREL_ERR_CRYPTO;
    if (mctx && EVP_DigestSignInit_ex(mctx, &pctx, md, NULL, NULL, key->pkey, NULL) == 1 &&
        sig_set_padding(pctx, padding) && EVP_DigestSign(mctx, NULL, &max_len, msg, msg_len) == 1) {
        if (max_len > sig_cap) {
            rc = PETREL_ERR_BUFFER_TOO_SMALL;
        } else {
            *sig_len = sig_cap;
            if (EVP_DigestSign(mctx, sig, sig_len, msg, msg_len) == 1)
                rc = 0;
        }
    }
    EVP_MD_CTX_free(mctx);
    return rc < 0 ? ossl_fail(rc) : 0;
}

static int ossl_verify(const crypto_pkey *key, crypto_sig_scheme scheme, const uint8_t *msg,
                       size_t msg_len, const uint8_t *sig, size_t sig_len)
{
    crypto_hash_id hash;
    int padding;
    PETREL_TRY(sig_params(key, scheme, &hash, &padding));
    const char *md = hash_name(hash);
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int rc = PETREL_ERR_CRYPTO;
    if (mctx && EVP_DigestVerifyInit_ex(mctx, &pctx, md, NULL, NULL, key->pkey, NULL) == 1 &&
        sig_set_padding(pctx, padding)) {
        /* 0 is a bad signature, < 0 a malformed one: both are invalid. */
        rc = EVP_DigestVerify(mctx, sig, sig_len, msg, msg_len) == 1 ? 0 : PETREL_ERR_SIGNATURE;
    }
    EVP_MD_CTX_free(mctx);
    return rc < 0 ? ossl_fail(rc) : 0;
}

/* An EVP_PKEY_CTX set up to sign or verify a digest made with the scheme's
 * hash. Checks the scheme against the key and the digest length. */
static int digest_ctx_new(const crypto_pkey *key, crypto_sig_scheme scheme, size_t digest_len,
                          bool sign, EVP_PKEY_CTX **out)
{
    crypto_hash_id hash;
    int padding;
    PETREL_TRY(sig_params(key, scheme, &hash, &padding));
    const EVP_MD *md = hash_md(hash);
    if (!md || digest_len != (size_t)EVP_MD_get_size(md))
        return PETREL_ERR_ARG;
    if (sign && !key->has_private)
        return PETREL_ERR_KEY_MISMATCH;
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
    if (!pctx)
        return ossl_fail(PETREL_ERR_NOMEM);
    /* The padding first: the PSS salt length is checked against it. */
    if ((sign ? EVP_PKEY_sign_init(pctx) : EVP_PKEY_verify_init(pctx)) != 1 ||
        !sig_set_padding(pctx, padding) || EVP_PKEY_CTX_set_signature_md(pctx, md) != 1) {
        EVP_PKEY_CTX_free(pctx);
        return ossl_fail(PETREL_ERR_CRYPTO);
    }
    *out = pctx;
    return 0;
}

static int ossl_sign_digest(const crypto_pkey *key, crypto_sig_scheme scheme, const uint8_t *digest,
                            size_t digest_len, uint8_t *sig, size_t sig_cap, size_t *sig_len)
{
    EVP_PKEY_CTX *pctx;
    PETREL_TRY(digest_ctx_new(key, scheme, digest_len, true, &pctx));
    size_t max_len = 0;
    int rc = PETREL_ERR_CRYPTO;
    if (EVP_PKEY_sign(pctx, NULL, &max_len, digest, digest_len) == 1) {
        if (max_len > sig_cap) {
            rc = PETREL_ERR_BUFFER_TOO_SMALL;
        } else {
            *sig_len = sig_cap;
            if (EVP_PKEY_sign(pctx, sig, sig_len, digest, digest_len) == 1)
                rc = 0;
        }
    }
    EVP_PKEY_CTX_free(pctx);
    return rc < 0 ? ossl_fail(rc) : 0;
}

static int ossl_verify_digest(const crypto_pkey *key, crypto_sig_scheme scheme,
                              const uint8_t *digest, size_t digest_len, const uint8_t *sig,
                              size_t sig_len)
{
    EVP_PKEY_CTX *pctx;
    PETREL_TRY(digest_ctx_new(key, scheme, digest_len, false, &pctx));
    /* 0 is a bad signature, < 0 a malformed one: both are invalid. */
    int rc =
        EVP_PKEY_verify(pctx, sig, sig_len, digest, digest_len) == 1 ? 0 : PETREL_ERR_SIGNATURE;
    EVP_PKEY_CTX_free(pctx);
    return rc < 0 ? ossl_fail(rc) : 0;
}

/* ======================================================================
 * Keys from PEM or DER
 * ====================================================================== */

/* A private key from DER: EncryptedPrivateKeyInfo (decrypted with
 * password), else PKCS#8, SEC1 or PKCS#1. */
static int private_from_der(const uint8_t *der, size_t len, const char *password, crypto_pkey **out)
{
    if (len == 0 || len > LONG_MAX)
        return PETREL_ERR_KEY_PARSE;
    /* An EncryptedPrivateKeyInfo is SEQUENCE { AlgorithmIdentifier, OCTET
     * STRING }; none of the plain encodings parses as one, since they all
     * start with an INTEGER. */
    const unsigned char *p = der;
    X509_SIG *encrypted = d2i_X509_SIG(NULL, &p, (long)len);
    if (encrypted && p == der + len) {
        PKCS8_PRIV_KEY_INFO *p8 = NULL;
        size_t pass_len = password ? strlen(password) : 0;
        /* A wrong password fails the padding check or, when the padding
         * happens to come out right, the parse of the decrypted bytes:
         * PKCS8_decrypt_ex returns NULL for both. */
        if (password && pass_len <= INT_MAX)
            p8 = PKCS8_decrypt_ex(encrypted, password, (int)pass_len, NULL, NULL);
        X509_SIG_free(encrypted);
        if (!p8)
            return ossl_fail(PETREL_ERR_WRONG_PASSWORD);
        EVP_PKEY *pkey = EVP_PKCS82PKEY_ex(p8, NULL, NULL);
        PKCS8_PRIV_KEY_INFO_free(p8); /* wipes the key octets */
        if (!pkey)
            return ossl_fail(PETREL_ERR_KEY_PARSE);
        return crypto_openssl_pkey_wrap(pkey, true, out);
    }
    X509_SIG_free(encrypted);
    ERR_clear_error();
    p = der;
    EVP_PKEY *pkey = d2i_AutoPrivateKey_ex(NULL, &p, (long)len, NULL, NULL);
    if (pkey && p == der + len)
        return crypto_openssl_pkey_wrap(pkey, true, out);
    EVP_PKEY_free(pkey);
    return ossl_fail(PETREL_ERR_KEY_PARSE);
}

/* Hands OpenSSL the password given to pkey_load_private, and never reads a
 * terminal: without a password, decryption simply fails. */
static int pem_password(char *buf, int size, int rwflag, void *ref)
{
    (void)rwflag;
    const char *password = ref;
    size_t len = password ? strlen(password) : 0;
    if (!password || size < 0 || len > (size_t)size)
        return -1;
    memcpy(buf, password, len);
    return (int)len;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t len = strlen(s), suffix_len = strlen(suffix);
    return len >= suffix_len && strcmp(s + len - suffix_len, suffix) == 0;
}

typedef struct pem_key_search {
    const char *password;
    bool want_public; /* also accept "PUBLIC KEY" blocks */
    crypto_pkey *key;
} pem_key_search;

/* Takes the first block holding a key ("PRIVATE KEY", "EC PRIVATE KEY",
 * "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY", ...; with want_public also
 * "PUBLIC KEY") and skips everything else. */
static int pem_key_block(void *ref, const char *name, char *header, uint8_t *der, long len)
{
    pem_key_search *search = ref;
    if (search->want_public && strcmp(name, "PUBLIC KEY") == 0) {
        const unsigned char *p = der;
        EVP_PKEY *pkey = d2i_PUBKEY_ex(NULL, &p, len, NULL, NULL);
        if (!pkey || p != der + len) {
            EVP_PKEY_free(pkey);
            return ossl_fail(PETREL_ERR_KEY_PARSE);
        }
        PETREL_TRY(crypto_openssl_pkey_wrap(pkey, false, &search->key));
        return 1;
    }
    if (!ends_with(name, "PRIVATE KEY"))
        return 0;
    /* Legacy encryption of PKCS#1 / SEC1 blocks (RFC 1421 headers:
     * "Proc-Type: 4,ENCRYPTED" and "DEK-Info"). */
    EVP_CIPHER_INFO cipher;
    if (PEM_get_EVP_CIPHER_INFO(header, &cipher) != 1)
        return ossl_fail(PETREL_ERR_KEY_PARSE);
    bool encrypted = cipher.cipher != NULL;
    if (encrypted) {
        if (!search->password ||
            PEM_do_header(&cipher, der, &len, pem_password, (void *)search->password) != 1)
            return ossl_fail(PETREL_ERR_WRONG_PASSWORD);
    }
    int rc = private_from_der(der, (size_t)len, search->password, &search->key);
    /* Decrypted with a wrong password, the block holds garbage. */
    if (rc == PETREL_ERR_KEY_PARSE && encrypted)
        rc = PETREL_ERR_WRONG_PASSWORD;
    return rc < 0 ? rc : 1;
}

static int load_pem_key(const uint8_t *data, size_t len, pem_key_search *search)
{
    int rc = crypto_openssl_pem_each(data, len, PETREL_ERR_KEY_PARSE, pem_key_block, search);
    if (rc < 0)
        return rc;
    return search->key ? 0 : PETREL_ERR_KEY_PARSE;
}

static int ossl_pkey_load_private(const uint8_t *data, size_t len, const char *password,
                                  crypto_pkey **out)
{
    if (!data || len == 0)
        return PETREL_ERR_KEY_PARSE;
    if (!crypto_openssl_is_pem(data, len))
        return private_from_der(data, len, password, out);
    pem_key_search search = {.password = password};
    PETREL_TRY(load_pem_key(data, len, &search));
    *out = search.key;
    return 0;
}

/* A key holding only the public half of key (which is freed). */
static int public_half(crypto_pkey *key, crypto_pkey **out)
{
    unsigned char *spki = NULL;
    int spki_len = i2d_PUBKEY(key->pkey, &spki);
    ossl_pkey_free(key);
    if (spki_len <= 0)
        return ossl_fail(PETREL_ERR_CRYPTO);
    const unsigned char *p = spki;
    EVP_PKEY *pkey = d2i_PUBKEY_ex(NULL, &p, spki_len, NULL, NULL);
    OPENSSL_free(spki);
    if (!pkey)
        return ossl_fail(PETREL_ERR_CRYPTO);
    return crypto_openssl_pkey_wrap(pkey, false, out);
}

static int ossl_pkey_load_public(const uint8_t *data, size_t len, crypto_pkey **out)
{
    if (!data || len == 0)
        return PETREL_ERR_KEY_PARSE;
    crypto_pkey *key = NULL;
    if (crypto_openssl_is_pem(data, len)) {
        pem_key_search search = {.want_public = true};
        PETREL_TRY(load_pem_key(data, len, &search));
        key = search.key;
    } else if (len <= LONG_MAX) {
        const unsigned char *p = data;
        EVP_PKEY *pkey = d2i_PUBKEY_ex(NULL, &p, (long)len, NULL, NULL);
        if (pkey && p == data + len)
            return crypto_openssl_pkey_wrap(pkey, false, out);
        EVP_PKEY_free(pkey);
        ERR_clear_error();
        PETREL_TRY(private_from_der(data, len, NULL, &key));
    } else {
        return PETREL_ERR_KEY_PARSE;
    }
    if (!key->has_private) {
        *out = key;
        return 0;
    }
    return public_half(key, out);
}

static crypto_key_type ossl_pkey_type(const crypto_pkey *key)
{
    return key->type;
}

static int ossl_pkey_spki(const crypto_pkey *key, uint8_t *out, size_t cap, size_t *len)
{
    int need = i2d_PUBKEY(key->pkey, NULL);
    if (need <= 0)
        return ossl_fail(PETREL_ERR_CRYPTO);
    if ((size_t)need > cap)
        return PETREL_ERR_BUFFER_TOO_SMALL;
    unsigned char *p = out;
    if (i2d_PUBKEY(key->pkey, &p) != need)
        return ossl_fail(PETREL_ERR_CRYPTO);
    *len = (size_t)need;
    return 0;
}

static bool ossl_pkey_public_equal(const crypto_pkey *a, const crypto_pkey *b)
{
    /* EVP_PKEY_eq compares the public components (and parameters) only. */
    if (EVP_PKEY_eq(a->pkey, b->pkey) == 1)
        return true;
    ERR_clear_error();
    return false;
}

/* ====================================================================== */

static const char *ossl_describe(void)
{
    return OpenSSL_version(OPENSSL_VERSION);
}

const crypto_provider crypto_provider_openssl = {
    .name = "openssl",
    .describe = ossl_describe,
    .aead = ossl_aead,
    .hash = ossl_hash,
    .kex = ossl_kex,
    .hmac = ossl_hmac,
    .tls12_prf = ossl_tls12_prf,
    .hkdf_extract = ossl_hkdf_extract,
    .hkdf_expand = ossl_hkdf_expand,
    .random = ossl_random,
    .ct_equal = ossl_ct_equal,
    .pkey_from_der = ossl_pkey_from_der,
    .pkey_generate = ossl_pkey_generate,
    .pkey_free = ossl_pkey_free,
    .sign = ossl_sign,
    .verify = ossl_verify,
    .sign_digest = ossl_sign_digest,
    .verify_digest = ossl_verify_digest,
    .pkey_load_private = ossl_pkey_load_private,
    .pkey_load_public = ossl_pkey_load_public,
    .pkey_type = ossl_pkey_type,
    .pkey_spki = ossl_pkey_spki,
    .pkey_public_equal = ossl_pkey_public_equal,
    .cert_decode = crypto_openssl_cert_decode,
    .cert_public_key = crypto_openssl_cert_public_key,
    .trust_new = crypto_openssl_trust_new,
    .trust_free = crypto_openssl_trust_free,
    .trust_add = crypto_openssl_trust_add,
    .trust_count = crypto_openssl_trust_count,
    .trust_subjects = crypto_openssl_trust_subjects,
    .verify_chain = crypto_openssl_verify_chain,
    .cert_info_new = crypto_openssl_cert_info_new,
    .spki_info_new = crypto_openssl_spki_info_new,
    .cert_info_free = crypto_openssl_cert_info_free,
};
