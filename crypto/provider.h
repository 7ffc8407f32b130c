/*
 * The crypto provider interface: everything cryptographic petrel does goes
 * through this header, and nothing above crypto/ includes a crypto
 * library's headers.
 *
 * A backend is one .c file that defines a `const crypto_provider` and the
 * algorithm descriptors it hands out (see crypto/openssl.c). To add one
 * (for example for a small device): implement every function pointer below
 * with the semantics stated here, export the provider, and select it in
 * crypto/crypto.c. tests/unit/test_crypto_*.c are the conformance suite:
 * they run against crypto_default_provider() and must pass unchanged.
 *
 * Conventions:
 *   - Every int result is 0 or a negative PETREL_ERR_* code.
 *   - Objects (AEAD keys, hash contexts, key-exchange keys, signature keys)
 *     are allocated by the backend and released with their free function,
 *     which wipes secret material. Free functions accept NULL.
 *   - AEAD seal/open MUST NOT allocate: all per-key state is created by
 *     key_new. This keeps the record path allocation-free.
 *   - Algorithms are identified by their TLS code points where TLS has one
 *     (NamedGroup, SignatureScheme), so the handshake needs no mapping.
 *   - Buffers never alias unless a function says "in place".
 */
#ifndef PETREL_CRYPTO_PROVIDER_H
#define PETREL_CRYPTO_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <petrel/cert.h>

#include "common/util.h"

/* ---- identifiers and sizes ---- */

typedef enum crypto_aead_id {
    CRYPTO_AEAD_AES_128_CCM,   /* RFC 6655, 16-byte tag */
    CRYPTO_AEAD_AES_128_CCM_8, /* RFC 6655, 8-byte tag */
    CRYPTO_AEAD_AES_128_GCM,
    CRYPTO_AEAD_AES_256_GCM,
    CRYPTO_AEAD_CHACHA20_POLY1305, /* RFC 8439 */
    CRYPTO_AEAD_COUNT
} crypto_aead_id;

typedef enum crypto_hash_id {
    CRYPTO_HASH_SHA256,
    CRYPTO_HASH_SHA384,
    CRYPTO_HASH_COUNT
} crypto_hash_id;

/* TLS NamedGroup values (RFC 8446 §4.2.7). */
typedef enum crypto_group_id {
    CRYPTO_GROUP_SECP256R1 = 0x0017,
    CRYPTO_GROUP_SECP384R1 = 0x0018,
    CRYPTO_GROUP_X25519 = 0x001d,
} crypto_group_id;

/* TLS SignatureScheme values (RFC 8446 §4.2.3). In TLS 1.2 the ECDSA
 * schemes name the hash only; the curve is the key's. */
typedef enum crypto_sig_scheme {
    CRYPTO_SIG_RSA_PKCS1_SHA256 = 0x0401,
    CRYPTO_SIG_RSA_PKCS1_SHA384 = 0x0501,
    CRYPTO_SIG_ECDSA_SECP256R1_SHA256 = 0x0403,
    CRYPTO_SIG_ECDSA_SECP384R1_SHA384 = 0x0503,
    CRYPTO_SIG_RSA_PSS_RSAE_SHA256 = 0x0804,
    CRYPTO_SIG_RSA_PSS_RSAE_SHA384 = 0x0805,
} crypto_sig_scheme;

typedef enum crypto_key_type {
    CRYPTO_KEY_EC_P256,
    CRYPTO_KEY_EC_P384,
    CRYPTO_KEY_RSA,
} crypto_key_type;

#define CRYPTO_AEAD_NONCE_LEN     12
#define CRYPTO_AEAD_MAX_KEY_LEN   32
#define CRYPTO_AEAD_MAX_TAG_LEN   16
#define CRYPTO_HASH_MAX_LEN       48
#define CRYPTO_KEX_MAX_PUBLIC_LEN 97 /* P-384 uncompressed point */
#define CRYPTO_KEX_MAX_SECRET_LEN 48
#define CRYPTO_SIG_MAX_LEN        512 /* RSA-4096 */
#define CRYPTO_RSA_MIN_BITS       2048

/* ---- AEAD ---- */

typedef struct crypto_aead_alg crypto_aead_alg;

/* A keyed AEAD context. Backends embed this as the first member of their
 * own key struct. */
typedef struct crypto_aead_key {
    const crypto_aead_alg *alg;
} crypto_aead_key;

struct crypto_aead_alg {
    crypto_aead_id id;
    const char *name;
    size_t key_len;
    size_t nonce_len; /* always CRYPTO_AEAD_NONCE_LEN */
    size_t tag_len;
    /* key holds key_len bytes; the backend keeps its own copy. */
    PETREL_MUST_CHECK int (*key_new)(const crypto_aead_alg *alg, const uint8_t *key,
                                     crypto_aead_key **out);
    void (*key_free)(crypto_aead_key *key);
    /* Encrypts buf[0, len) in place and writes the tag at buf[len, len +
     * tag_len): buf MUST have room for len + tag_len bytes. aad may be NULL
     * when aad_len is 0. Does not allocate. */
    PETREL_MUST_CHECK int (*seal)(crypto_aead_key *key, const uint8_t *nonce, const uint8_t *aad,
                                  size_t aad_len, uint8_t *buf, size_t len);
    /* buf[0, len) is ciphertext followed by the tag. On success the
     * plaintext (len - tag_len bytes) replaces it in place. On failure
     * returns PETREL_ERR_AEAD_AUTH (PETREL_ERR_TRUNCATED if len < tag_len)
     * and zeroes buf[0, len), so unauthenticated plaintext never escapes.
     * Does not allocate. */
    PETREL_MUST_CHECK int (*open)(crypto_aead_key *key, const uint8_t *nonce, const uint8_t *aad,
                                  size_t aad_len, uint8_t *buf, size_t len);
};

/* ---- hashes ---- */

typedef struct crypto_hash_alg crypto_hash_alg;

/* A running hash. Backends embed this as the first member. */
typedef struct crypto_hash_ctx {
    const crypto_hash_alg *alg;
} crypto_hash_ctx;

struct crypto_hash_alg {
    crypto_hash_id id;
    const char *name;
    size_t digest_len;
    size_t block_len;
    PETREL_MUST_CHECK int (*ctx_new)(const crypto_hash_alg *alg, crypto_hash_ctx **out);
    PETREL_MUST_CHECK int (*update)(crypto_hash_ctx *ctx, const uint8_t *data, size_t len);
    /* A new context in the same state as src (for handshake transcripts,
     * which need the hash so far and then keep going). */
    PETREL_MUST_CHECK int (*copy)(const crypto_hash_ctx *src, crypto_hash_ctx **out);
    /* Writes digest_len bytes. Afterwards ctx may only be freed. */
    PETREL_MUST_CHECK int (*final)(crypto_hash_ctx *ctx, uint8_t *out);
    void (*ctx_free)(crypto_hash_ctx *ctx);
};

/* ---- key exchange (ECDHE) ---- */

typedef struct crypto_kex_alg crypto_kex_alg;

/* A private key for one group. Backends embed this as the first member. */
typedef struct crypto_kex_key {
    const crypto_kex_alg *alg;
} crypto_kex_key;

struct crypto_kex_alg {
    crypto_group_id id;
    const char *name;
    size_t public_len; /* X25519: 32; P-256: 65, P-384: 97 (uncompressed) */
    size_t secret_len; /* X25519 and P-256: 32; P-384: 48 */
    /* A fresh key pair whose private scalar is drawn from rng (the
     * platform hook), so a seeded RNG gives reproducible handshakes. */
    PETREL_MUST_CHECK int (*generate)(const crypto_kex_alg *alg, petrel_rng_fn rng, void *rng_ref,
                                      crypto_kex_key **out);
    /* A key pair from a known private scalar (X25519: 32 bytes, clamped by
     * the function; P-256/384: big-endian, in [1, n-1]). Errors:
     * PETREL_ERR_KEY_PARSE for a scalar out of range or of the wrong size. */
    PETREL_MUST_CHECK int (*from_private)(const crypto_kex_alg *alg, const uint8_t *priv,
                                          size_t len, crypto_kex_key **out);
    /* Writes public_len bytes: the TLS encoding of the public key. */
    PETREL_MUST_CHECK int (*public_key)(const crypto_kex_key *key, uint8_t *out);
    /* The shared secret with the peer's public key (TLS encoding) into
     * out[0, secret_len). A peer key of the wrong length, not on the curve,
     * or giving an all-zero X25519 result is PETREL_ERR_BAD_PEER_KEY. */
    PETREL_MUST_CHECK int (*derive)(const crypto_kex_key *key, const uint8_t *peer, size_t peer_len,
                                    uint8_t *out);
    void (*key_free)(crypto_kex_key *key);
};

/* ---- signature keys ---- */

/* A public or private signature key; backend-defined. */
typedef struct crypto_pkey crypto_pkey;

/* ---- X.509 ---- */

/* A set of trusted CA certificates; backend-defined. */
typedef struct crypto_trust crypto_trust;

/* Receives one DER object (a certificate, or a Name); a negative return
 * stops the walk and is passed back. */
typedef int (*crypto_der_fn)(void *ref, const uint8_t *der, size_t len);

/* What verify_chain checks against. */
typedef struct crypto_verify_params {
    int64_t now;         /* Unix seconds, from the platform's time hook */
    unsigned max_depth;  /* intermediates allowed between leaf and anchor */
    const char *host;    /* DNS name or IP literal the leaf must match, or NULL */
    bool peer_is_server; /* purpose: TLS server auth (true) or client auth */
} crypto_verify_params;

/* ---- the provider ---- */

typedef struct crypto_provider {
    const char *name;
    /* One line naming the backend and its library version. */
    const char *(*describe)(void);

    /* NULL when the backend does not implement that algorithm. */
    const crypto_aead_alg *(*aead)(crypto_aead_id id);
    const crypto_hash_alg *(*hash)(crypto_hash_id id);
    const crypto_kex_alg *(*kex)(crypto_group_id id);

    /* HMAC (RFC 2104) with the given hash; writes digest_len bytes. */
    PETREL_MUST_CHECK int (*hmac)(crypto_hash_id hash, const uint8_t *key, size_t key_len,
                                  const uint8_t *data, size_t len, uint8_t *out);
    /* The TLS 1.2 PRF (RFC 5246 §5): P_hash(secret, label + seed). label is
     * the ASCII label without a terminator. */
    PETREL_MUST_CHECK int (*tls12_prf)(crypto_hash_id hash, const uint8_t *secret,
                                       size_t secret_len, const char *label, const uint8_t *seed,
                                       size_t seed_len, uint8_t *out, size_t out_len);
    /* HKDF-Extract (RFC 5869 §2.2); writes digest_len bytes. salt may be
     * NULL with salt_len 0 (a string of zeros, as the RFC says). */
    PETREL_MUST_CHECK int (*hkdf_extract)(crypto_hash_id hash, const uint8_t *salt, size_t salt_len,
                                          const uint8_t *ikm, size_t ikm_len, uint8_t *prk);
    /* HKDF-Expand (RFC 5869 §2.3); out_len at most 255 * digest_len. */
    PETREL_MUST_CHECK int (*hkdf_expand)(crypto_hash_id hash, const uint8_t *prk, size_t prk_len,
                                         const uint8_t *info, size_t info_len, uint8_t *out,
                                         size_t out_len);

    /* The backend's DRBG (the default RNG platform hook). */
    PETREL_MUST_CHECK int (*random)(uint8_t *buf, size_t len);
    /* Constant-time equality of a[0, len) and b[0, len). */
    bool (*ct_equal)(const void *a, const void *b, size_t len);

    /* Signature keys. from_der takes a private key (PKCS#8, SEC1 or PKCS#1
     * DER) or a public key (SubjectPublicKeyInfo DER); PETREL_ERR_KEY_PARSE
     * when it is neither, PETREL_ERR_UNSUPPORTED for other key types or
     * curves, PETREL_ERR_INSECURE for RSA below CRYPTO_RSA_MIN_BITS. */
    PETREL_MUST_CHECK int (*pkey_from_der)(const uint8_t *der, size_t len, crypto_pkey **out);
    /* A fresh key; rsa_bits is used for CRYPTO_KEY_RSA only. */
    PETREL_MUST_CHECK int (*pkey_generate)(crypto_key_type type, unsigned rsa_bits,
                                           crypto_pkey **out);
    void (*pkey_free)(crypto_pkey *key);
    /* Signs msg (hashed inside). ECDSA signatures are DER ECDSA-Sig-Value,
     * as TLS carries them. PETREL_ERR_KEY_MISMATCH when the scheme does not
     * fit the key or the key has no private part; PETREL_ERR_BUFFER_TOO_SMALL
     * when sig_cap is too small. */
    PETREL_MUST_CHECK int (*sign)(const crypto_pkey *key, crypto_sig_scheme scheme,
                                  const uint8_t *msg, size_t msg_len, uint8_t *sig, size_t sig_cap,
                                  size_t *sig_len);
    /* 0 for a valid signature, PETREL_ERR_SIGNATURE for an invalid or
     * malformed one, PETREL_ERR_KEY_MISMATCH when the scheme does not fit
     * the key. */
    PETREL_MUST_CHECK int (*verify)(const crypto_pkey *key, crypto_sig_scheme scheme,
                                    const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                                    size_t sig_len);
    /* As sign / verify, over a digest already computed with the scheme's
     * hash (digest_len must be that hash's length, else PETREL_ERR_ARG):
     * TLS 1.2 CertificateVerify signs the running transcript hash. */
    PETREL_MUST_CHECK int (*sign_digest)(const crypto_pkey *key, crypto_sig_scheme scheme,
                                         const uint8_t *digest, size_t digest_len, uint8_t *sig,
                                         size_t sig_cap, size_t *sig_len);
    PETREL_MUST_CHECK int (*verify_digest)(const crypto_pkey *key, crypto_sig_scheme scheme,
                                           const uint8_t *digest, size_t digest_len,
                                           const uint8_t *sig, size_t sig_len);

    /* ---- keys and certificates from files' contents ---- */

    /* A private key from PEM or DER: PKCS#1 (RSA), SEC1 (EC), PKCS#8, or
     * encrypted PKCS#8 decrypted with password (NULL: none given). Errors:
     * PETREL_ERR_KEY_PARSE (not a key), PETREL_ERR_WRONG_PASSWORD (encrypted
     * and the password is missing or wrong), PETREL_ERR_UNSUPPORTED,
     * PETREL_ERR_INSECURE (as pkey_from_der). */
    PETREL_MUST_CHECK int (*pkey_load_private)(const uint8_t *data, size_t len,
                                               const char *password, crypto_pkey **out);
    /* A public key from PEM ("PUBLIC KEY") or SubjectPublicKeyInfo DER; a
     * private key (PEM or DER, unencrypted) gives its public half. Errors
     * as pkey_load_private. */
    PETREL_MUST_CHECK int (*pkey_load_public)(const uint8_t *data, size_t len, crypto_pkey **out);
    crypto_key_type (*pkey_type)(const crypto_pkey *key);
    /* The SubjectPublicKeyInfo DER of key's public part into out[0, cap);
     * PETREL_ERR_BUFFER_TOO_SMALL when it does not fit. */
    PETREL_MUST_CHECK int (*pkey_spki)(const crypto_pkey *key, uint8_t *out, size_t cap,
                                       size_t *len);
    /* True when a and b hold the same public key (either may be private). */
    bool (*pkey_public_equal)(const crypto_pkey *a, const crypto_pkey *b);

    /* Decodes certificate input: PEM with one or more CERTIFICATE blocks
     * (other PEM blocks are skipped), or one or more concatenated DER
     * certificates. Calls fn with each certificate's DER in order and
     * stops at its first negative return (passed back). Every DER handed
     * out parses as a certificate. PETREL_ERR_CERT_PARSE when the input
     * holds no certificate, or a malformed one. */
    PETREL_MUST_CHECK int (*cert_decode)(const uint8_t *data, size_t len, crypto_der_fn fn,
                                         void *ref);
    /* The subject public key of a DER certificate. Errors:
     * PETREL_ERR_CERT_PARSE, PETREL_ERR_UNSUPPORTED (key type or curve),
     * PETREL_ERR_INSECURE (RSA below CRYPTO_RSA_MIN_BITS). */
    PETREL_MUST_CHECK int (*cert_public_key)(const uint8_t *der, size_t len, crypto_pkey **out);

    /* ---- trust store and path validation ---- */

    PETREL_MUST_CHECK int (*trust_new)(crypto_trust **out);
    void (*trust_free)(crypto_trust *trust);
    /* Adds one DER certificate as a trust anchor (PETREL_ERR_CERT_PARSE if
     * it is not one). A duplicate is accepted and ignored. */
    PETREL_MUST_CHECK int (*trust_add)(crypto_trust *trust, const uint8_t *der, size_t len);
    size_t (*trust_count)(const crypto_trust *trust);
    /* Calls fn with the DER-encoded subject Name of each anchor, in the
     * order added (duplicates once). */
    PETREL_MUST_CHECK int (*trust_subjects)(const crypto_trust *trust, crypto_der_fn fn, void *ref);
    /*
     * Verifies chain[0, count) (leaf first as the peer sent it; the others
     * are untrusted intermediates, in any order) against the anchors in
     * trust (which may be NULL: nothing is trusted) under params: path to
     * an anchor, signatures, validity at params->now, basic constraints
     * and path length, key usage and extended key usage for the purpose,
     * max_depth, and the host name. status[i] receives what was found for
     * chain[i] (PETREL_CERT_AUTH_PASS when nothing failed on it). Returns 0
     * when the chain verifies, else the error of the first failure:
     *   PETREL_ERR_CERT_EXPIRED        expired or not yet valid
     *   PETREL_ERR_UNKNOWN_CA          no path to an anchor: unknown
     *                                  issuer, self-signed leaf, or a path
     *                                  longer than max_depth
     *   PETREL_ERR_BAD_CERTIFICATE     bad signature, CA:FALSE (or no
     *                                  basic constraints) on an issuer,
     *                                  path length or key usage violated
     *   PETREL_ERR_CERT_NAME_MISMATCH  host does not match the leaf
     *   PETREL_ERR_CERT_PARSE          a certificate does not parse
     * and PETREL_ERR_NOMEM / PETREL_ERR_CRYPTO for local failures.
     */
    PETREL_MUST_CHECK int (*verify_chain)(const crypto_trust *trust, const uint8_t *const *chain,
                                          const size_t *lens, size_t count,
                                          const crypto_verify_params *params,
                                          petrel_cert_auth *status);
    /* A parsed view of a DER certificate (every field of petrel_cert_info
     * except auth_status, which is left UNTESTED), or with spki_info_new
     * of a SubjectPublicKeyInfo (is_raw_public_key; key fields and der
     * only). The view owns copies of everything it points to, der
     * included, and is released with cert_info_free. Errors:
     * PETREL_ERR_CERT_PARSE / PETREL_ERR_KEY_PARSE, PETREL_ERR_NOMEM. */
    PETREL_MUST_CHECK int (*cert_info_new)(const uint8_t *der, size_t len, petrel_cert_info **out);
    PETREL_MUST_CHECK int (*spki_info_new)(const uint8_t *der, size_t len, petrel_cert_info **out);
    void (*cert_info_free)(petrel_cert_info *info);
} crypto_provider;

/* The provider petrel was built with (CMake option PETREL_CRYPTO_BACKEND). */
const crypto_provider *crypto_default_provider(void);

/* ---- helpers over any provider (crypto/crypto.c) ---- */

static inline int crypto_aead_seal(crypto_aead_key *key, const uint8_t *nonce, const uint8_t *aad,
                                   size_t aad_len, uint8_t *buf, size_t len)
{
    return key->alg->seal(key, nonce, aad, aad_len, buf, len);
}

static inline int crypto_aead_open(crypto_aead_key *key, const uint8_t *nonce, const uint8_t *aad,
                                   size_t aad_len, uint8_t *buf, size_t len)
{
    return key->alg->open(key, nonce, aad, aad_len, buf, len);
}

static inline void crypto_aead_key_free(crypto_aead_key *key)
{
    if (key)
        key->alg->key_free(key);
}

static inline void crypto_hash_free(crypto_hash_ctx *ctx)
{
    if (ctx)
        ctx->alg->ctx_free(ctx);
}

static inline void crypto_kex_key_free(crypto_kex_key *key)
{
    if (key)
        key->alg->key_free(key);
}

/* One-shot digest of data into out (digest_len bytes). */
PETREL_MUST_CHECK int crypto_hash_digest(const crypto_hash_alg *alg, const uint8_t *data,
                                         size_t len, uint8_t *out);
/* The digest of everything hashed into ctx so far; ctx keeps running. */
PETREL_MUST_CHECK int crypto_hash_peek(const crypto_hash_ctx *ctx, uint8_t *out);

/*
 * HKDF-Expand-Label (RFC 8446 §7.1; RFC 9147 §5.9 for DTLS 1.3):
 * HKDF-Expand(secret, HkdfLabel, out_len), where HkdfLabel is
 * { uint16 out_len; opaque label<7..255> = prefix + label;
 *   opaque context<0..255>; }. prefix is "tls13 " or "dtls13".
 */
PETREL_MUST_CHECK int crypto_hkdf_expand_label(const crypto_provider *prov, crypto_hash_id hash,
                                               const uint8_t *secret, size_t secret_len,
                                               const char *prefix, const char *label,
                                               const uint8_t *context, size_t context_len,
                                               uint8_t *out, size_t out_len);

#endif
