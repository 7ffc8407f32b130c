/*
 * The cipher-suite registry: every suite petrel can negotiate, as one
 * table of descriptors, and the ids petrel knows to be insecure (refused
 * with PETREL_ERR_INSECURE when a configuration asks for them).
 */
#ifndef PETREL_HANDSHAKE_SUITES_H
#define PETREL_HANDSHAKE_SUITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/provider.h"

typedef enum hs_key_exchange {
    HS_KX_PSK,         /* RFC 4279 */
    HS_KX_ECDHE_PSK,   /* RFC 5489 */
    HS_KX_ECDHE_ECDSA, /* RFC 8422: certificate with an EC key */
    HS_KX_ECDHE_RSA,   /* RFC 8422: certificate with an RSA key */
} hs_key_exchange;

/* True for the suites authenticated by a PSK, false for certificates. */
static inline bool hs_kx_is_psk(hs_key_exchange kx)
{
    return kx == HS_KX_PSK || kx == HS_KX_ECDHE_PSK;
}

/* True for the suites with an ephemeral ECDH exchange. */
static inline bool hs_kx_is_ecdhe(hs_key_exchange kx)
{
    return kx != HS_KX_PSK;
}

typedef struct hs_suite {
    uint16_t id;
    const char *name; /* IANA name */
    hs_key_exchange kx;
    crypto_aead_id aead;
    crypto_hash_id prf_hash;
    uint8_t key_len;
    /* AES-GCM/CCM (RFC 5288, 6655): a 4-byte implicit salt and an 8-byte
     * explicit nonce in each record. ChaCha20-Poly1305 (RFC 7905): a 12-byte
     * IV XORed with the sequence number, nothing explicit. */
    uint8_t fixed_iv_len;
    uint8_t explicit_nonce_len;
    uint8_t tag_len;
} hs_suite;

/* The descriptor for id, or NULL when petrel does not implement it. */
const hs_suite *hs_suite_find(uint16_t id);

/* True for suites petrel refuses on principle (RC4, 3DES, NULL, export,
 * MD5, static RSA, ...): see suites.c for the list and the reasons. */
bool hs_suite_is_insecure(uint16_t id, const char **why);

/* The default preference order: the PSK suites (RFC 7925's
 * TLS_PSK_WITH_AES_128_CCM_8 first), then the certificate suites (RFC
 * 7925's TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 first). Each side uses only
 * the suites it has credentials for. */
extern const uint16_t hs_default_suites[];
extern const size_t hs_default_suite_count;

#define HS_MAX_SUITES 24

/* Signalling suite value for secure renegotiation (RFC 5746 §3.3). */
#define HS_SCSV_RENEGOTIATION 0x00ff

#endif
