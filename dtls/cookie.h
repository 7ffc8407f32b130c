/*
 * Stateless HelloVerifyRequest cookies (RFC 6347 §4.2.1):
 *     Cookie = HMAC(Secret, Client-IP, Client-Parameters)
 * Client-Parameters are the ClientHello's version, random and session_id:
 * the fields before the cookie, which the first fragment of any ClientHello
 * carries, so that a ClientHello cut into several records (small PMTU, many
 * suites) can be answered, and its cookie checked, from the first fragment
 * alone, without state. The random ties the cookie to one hello. Two
 * secrets are kept so that a rotation does not reject cookies handed out
 * just before it.
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

/* Reads the fields the cookie binds, and the cookie, from the start of a
 * DTLS ClientHello body (which may be only its first fragment). Fills
 * version, random, session_id and cookie of ch; the rest is zeroed. */
PETREL_MUST_CHECK int dtls_cookie_fields_read(cursor_reader *r, hs_client_hello *ch);

/* 0 when ch carries a cookie made for this peer and ClientHello under the
 * current or the previous secret (compared in constant time);
 * PETREL_ERR_ILLEGAL_PARAMETER otherwise (PETREL_ERR_ARG for a peer id
 * longer than DTLS_PEER_ID_MAX). */
PETREL_MUST_CHECK int dtls_cookie_verify(const crypto_provider *prov,
                                         const dtls_cookie_secrets *secrets, const uint8_t *peer,
                                         size_t peer_len, const hs_client_hello *ch);

#endif
