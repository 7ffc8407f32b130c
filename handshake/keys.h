/*
 * The TLS 1.2 key schedule (RFC 5246 §6.3, §7.4.9, §8.1), with the PSK
 * premaster secrets of RFC 4279 §2 and RFC 5489 §2 and the extended master
 * secret of RFC 7627. Shared by DTLS and TLS.
 */
#ifndef PETREL_HANDSHAKE_KEYS_H
#define PETREL_HANDSHAKE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "handshake/suites.h"

#define HS_MASTER_SECRET_LEN 48
#define HS_PSK_MAX           256 /* longest pre-shared key accepted */
/* other_secret is the PSK length in zeros or the ECDH secret (<= PSK max). */
#define HS_PREMASTER_MAX (2 + HS_PSK_MAX + 2 + HS_PSK_MAX)

/* The record keys of one direction. */
typedef struct hs_traffic_keys {
    uint8_t key[CRYPTO_AEAD_MAX_KEY_LEN];
    uint8_t iv[CRYPTO_AEAD_NONCE_LEN]; /* fixed_iv_len bytes used */
} hs_traffic_keys;

/*
 * The premaster secret: uint16 len(other) + other + uint16 len(psk) + psk,
 * where other is len(psk) zero bytes for plain PSK (RFC 4279 §2) and the
 * ECDH shared secret for ECDHE_PSK (RFC 5489 §2; ecdh NULL for plain PSK).
 */
PETREL_MUST_CHECK int hs_psk_premaster(const uint8_t *psk, size_t psk_len, const uint8_t *ecdh,
                                       size_t ecdh_len, uint8_t *out, size_t *out_len);

/* master_secret = PRF(pre, "master secret", client_random + server_random)
 * or, with session_hash (RFC 7627 §4), PRF(pre, "extended master secret",
 * session_hash). session_hash NULL selects the former. */
PETREL_MUST_CHECK int hs_master_secret(const crypto_provider *prov, const hs_suite *suite,
                                       const uint8_t *pre, size_t pre_len,
                                       const uint8_t *client_random, const uint8_t *server_random,
                                       const uint8_t *session_hash, size_t session_hash_len,
                                       uint8_t *master);

/* key_block = PRF(master, "key expansion", server_random + client_random),
 * cut into client and server write keys and IVs (AEAD suites have no MAC
 * keys). */
PETREL_MUST_CHECK int hs_key_block(const crypto_provider *prov, const hs_suite *suite,
                                   const uint8_t *master, const uint8_t *client_random,
                                   const uint8_t *server_random, hs_traffic_keys *client,
                                   hs_traffic_keys *server);

/* verify_data = PRF(master, "client finished" | "server finished",
 * transcript_hash)[0..12). */
PETREL_MUST_CHECK int hs_finished_verify_data(const crypto_provider *prov, const hs_suite *suite,
                                              const uint8_t *master, int from_client,
                                              const uint8_t *transcript_hash, size_t hash_len,
                                              uint8_t *out);

#endif
