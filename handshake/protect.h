/*
 * TLS 1.2 / DTLS 1.2 AEAD record protection (RFC 5246 §6.2.3.3), shared by
 * both record layers: nonces per RFC 5288 §3 / RFC 6655 §3 (AES-GCM/CCM:
 * a 4-byte implicit salt and an 8-byte explicit nonce carried in the
 * record) and RFC 7905 §2 (ChaCha20-Poly1305: the 12-byte IV XOR the
 * left-padded sequence number, nothing explicit), and
 *
 *   AAD = seq_num(8) + type + version + plaintext length.
 *
 * The two protocols differ only in seq_num: TLS uses its implicit 64-bit
 * record counter, DTLS epoch(2) + sequence_number(6) (RFC 6347 §4.1.2.1).
 * The caller passes that 64-bit value.
 */
#ifndef PETREL_HANDSHAKE_PROTECT_H
#define PETREL_HANDSHAKE_PROTECT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/provider.h"
#include "handshake/keys.h"
#include "handshake/suites.h"

/* The protection state of one direction; suite NULL is the NULL cipher of
 * the initial epoch (records travel in the clear). */
typedef struct hs_record_cipher {
    const hs_suite *suite;
    crypto_aead_key *key;
    uint8_t iv[CRYPTO_AEAD_NONCE_LEN];
} hs_record_cipher;

/* Sets c up for suite with the traffic keys (replacing any key it held);
 * on failure c is unchanged. hs_record_cipher_clear frees the key. */
PETREL_MUST_CHECK int hs_record_cipher_init(hs_record_cipher *c, const crypto_provider *prov,
                                            const hs_suite *suite, const hs_traffic_keys *keys);
void hs_record_cipher_clear(hs_record_cipher *c);

/* Bytes the protected fragment carries before the plaintext (the explicit
 * nonce) and in all (explicit nonce + tag); 0 for the NULL cipher. */
size_t hs_protect_explicit_len(const hs_record_cipher *c);
size_t hs_protect_expansion(const hs_record_cipher *c);

/*
 * Protects a record in place: fragment holds room for the explicit nonce,
 * then the len bytes of plaintext (at fragment + hs_protect_explicit_len),
 * then room for the tag. Writes the explicit nonce (seq_num, as RFC 5288
 * suggests) and the tag. The NULL cipher leaves everything as it is.
 */
PETREL_MUST_CHECK int hs_protect_seal(const hs_record_cipher *c, uint64_t seq_num, uint8_t type,
                                      uint16_t version, uint8_t *fragment, size_t len);

/*
 * Checks and decrypts a protected fragment of frag_len bytes in place; on
 * success *plain / *plain_len give the plaintext inside fragment. The
 * explicit nonce is taken from the record, as the sender chose it.
 * PETREL_ERR_TRUNCATED when the fragment cannot hold nonce and tag,
 * PETREL_ERR_AEAD_AUTH when it does not authenticate.
 */
PETREL_MUST_CHECK int hs_protect_open(const hs_record_cipher *c, uint64_t seq_num, uint8_t type,
                                      uint16_t version, uint8_t *fragment, size_t frag_len,
                                      uint8_t **plain, size_t *plain_len);

#endif
