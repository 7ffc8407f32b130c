/*
 * Stateless HelloVerifyRequest cookies (RFC 6347 §4.2.1):
 *     Cookie = HMAC(Secret, Client-IP, Client-Parameters)
 * Client-Parameters are the ClientHello's version, random, session_id,
 * cipher_suites and compression_methods, hashed first so that the HMAC
 * input has a fixed size. Two secrets are kept so that a rotation does not
 * reject cookies handed out just before it.
 */
#ifndef PETREL_DTLS_COOKIE_H
#define PETREL_DTLS_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/provider.h"
#include "handshake/messages.h"

#define DTLS_COOKIE_LEN        32
#define DTLS_COOKIE_SECRET_LEN 32
#define DTLS_PEER_ID_MAX       64 /* bytes identifying the peer (its address) */

typedef struct dtls_cookie_secrets {
    uint8_t current[DTLS_COOKIE_SECRET_LEN];
    uint8_t previous[DTLS_COOKIE_SECRET_LEN];
    bool has_previous;
} dtls_cookie_secrets;

/* The cookie for this peer and ClientHello under secret. */
PETREL_MUST_CHECK int dtls_cookie_make(const crypto_provider *prov, const uint8_t *secret,
                                       const uint8_t *peer, size_t peer_len,
                                       const hs_client_hello *ch, uint8_t out[DTLS_COOKIE_LEN]);

/* 0 when ch carries a cookie made for this peer and ClientHello under the
 * current or the previous secret (compared in constant time);
 * PETREL_ERR_ILLEGAL_PARAMETER otherwise (PETREL_ERR_ARG for a peer id
 * longer than DTLS_PEER_ID_MAX). */
PETREL_MUST_CHECK int dtls_cookie_verify(const crypto_provider *prov,
                                         const dtls_cookie_secrets *secrets, const uint8_t *peer,
                                         size_t peer_len, const hs_client_hello *ch);

#endif
