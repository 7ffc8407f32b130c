/*
 * What the OpenSSL backend's two files share: crypto/openssl.c (the
 * primitives and signature keys) and crypto/openssl_x509.c (PEM,
 * certificates, the trust store and path validation). Nothing outside
 * those two files includes this header.
 */
#ifndef PETREL_CRYPTO_OPENSSL_INTERNAL_H
#define PETREL_CRYPTO_OPENSSL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/provider.h"

struct crypto_pkey {
    EVP_PKEY *pkey;
    crypto_key_type type;
    bool has_private; /* false: only the public half was loaded */
};

/* Maps an OpenSSL failure to a petrel code and drops OpenSSL's queue, so
 * that petrel never leaves errors behind for the application. */
static inline int ossl_fail(int code)
{
    ERR_clear_error();
    return code;
}

/* ---- crypto/openssl.c ---- */

/* Wraps pkey (taking ownership, also on failure) after checking that it is
 * a supported type: PETREL_ERR_UNSUPPORTED for other key types and curves,
 * PETREL_ERR_INSECURE for RSA below CRYPTO_RSA_MIN_BITS. */
PETREL_MUST_CHECK int crypto_openssl_pkey_wrap(EVP_PKEY *pkey, bool has_private, crypto_pkey **out);

/* ---- crypto/openssl_x509.c ---- */

/* True when data[0, len) contains a PEM begin marker ("-----BEGIN"). */
bool crypto_openssl_is_pem(const uint8_t *data, size_t len);

/* Receives one PEM block: its type name ("CERTIFICATE"), its header lines
 * (empty unless the block is legacy-encrypted) and its decoded content,
 * which the callee may change in place (to decrypt it). Returns 0 to go
 * on to the next block, anything else to stop the walk. */
typedef int (*crypto_openssl_pem_fn)(void *ref, const char *name, char *header, uint8_t *der,
                                     long len);

/* Calls fn for each PEM block of data[0, len) in order (text between
 * blocks is ignored). Returns fn's first non-zero result, 0 after the last
 * block, `malformed` when a block is cut short or its base64 is invalid,
 * PETREL_ERR_NOMEM. Block contents are wiped when released (they may hold
 * private keys). */
PETREL_MUST_CHECK int crypto_openssl_pem_each(const uint8_t *data, size_t len, int malformed,
                                              crypto_openssl_pem_fn fn, void *ref);

/* The provider members implemented in crypto/openssl_x509.c; the contracts
 * are in crypto/provider.h. */
PETREL_MUST_CHECK int crypto_openssl_cert_decode(const uint8_t *data, size_t len, crypto_der_fn fn,
                                                 void *ref);
PETREL_MUST_CHECK int crypto_openssl_cert_public_key(const uint8_t *der, size_t len,
                                                     crypto_pkey **out);
PETREL_MUST_CHECK int crypto_openssl_trust_new(crypto_trust **out);
void crypto_openssl_trust_free(crypto_trust *trust);
PETREL_MUST_CHECK int crypto_openssl_trust_add(crypto_trust *trust, const uint8_t *der, size_t len);
size_t crypto_openssl_trust_count(const crypto_trust *trust);
PETREL_MUST_CHECK int crypto_openssl_trust_subjects(const crypto_trust *trust, crypto_der_fn fn,
                                                    void *ref);
PETREL_MUST_CHECK int crypto_openssl_verify_chain(const crypto_trust *trust,
                                                  const uint8_t *const *chain, const size_t *lens,
                                                  size_t count, const crypto_verify_params *params,
                                                  petrel_cert_auth *status);
PETREL_MUST_CHECK int crypto_openssl_cert_info_new(const uint8_t *der, size_t len,
                                                   petrel_cert_info **out);
PETREL_MUST_CHECK int crypto_openssl_spki_info_new(const uint8_t *der, size_t len,
                                                   petrel_cert_info **out);
void crypto_openssl_cert_info_free(petrel_cert_info *info);

#endif
