/* Shared between the handshake core's files; not for other modules. */
#ifndef PETREL_HANDSHAKE_INTERNAL_H
#define PETREL_HANDSHAKE_INTERNAL_H

#include "handshake/handshake.h"

/* Largest message body the core writes on the stack (hellos with every
 * extension, key exchanges with an RSA-4096 signature). Certificate and
 * CertificateRequest bodies are allocated. */
#define HS_SCRATCH_LEN 1536

/* Frees what one handshake's key exchange holds: the ECDHE key, the
 * peer's key and chain, the PSK (wiped). hs_free and a renegotiation's
 * fresh start share it. */
void hs_release_exchange(hs_ctx *hs);

PETREL_MUST_CHECK int hs_transcript_reset(hs_ctx *hs);
PETREL_MUST_CHECK int hs_transcript_add(hs_ctx *hs, const uint8_t *data, size_t len);
/* Drops the transcript hashes the chosen suite does not use. */
void hs_transcript_select(hs_ctx *hs);
PETREL_MUST_CHECK int hs_transcript_hash(const hs_ctx *hs, uint8_t *out, size_t *len);
/* The transcript so far under a given hash (certificate suites keep both). */
PETREL_MUST_CHECK int hs_transcript_hash_with(const hs_ctx *hs, crypto_hash_id hash, uint8_t *out,
                                              size_t *len);

/* Sends one message through the record layer and hashes it. */
PETREL_MUST_CHECK int hs_send(hs_ctx *hs, uint8_t type, const uint8_t *body, size_t len);
/* The premaster, master secret and key block from hs->psk (and ecdh). */
PETREL_MUST_CHECK int hs_derive_keys(hs_ctx *hs, const uint8_t *ecdh, size_t ecdh_len);
/* ChangeCipherSpec, the switch to the new write keys, Finished, and the
 * end of the flight. */
PETREL_MUST_CHECK int hs_send_ccs_and_finished(hs_ctx *hs, hs_flight_kind kind);
/* Checks the peer's Finished against the transcript so far, then adds it
 * to the transcript. */
PETREL_MUST_CHECK int hs_check_finished(hs_ctx *hs, const uint8_t *body, size_t len);

/* ---- certificates (handshake/cert_auth.c) ---- */

/* The signature schemes petrel offers and accepts, in preference order. */
extern const uint16_t hs_sig_schemes[];
extern const size_t hs_sig_scheme_count;

/* The verify mode in force: the configured one, else REQUIRE for clients
 * and NONE for servers. */
petrel_verify_mode hs_verify_mode(const hs_ctx *hs);
/* True when the key can sign with scheme (TLS 1.2: ECDSA schemes with any
 * supported curve, RSA schemes with RSA keys). */
bool hs_sig_scheme_fits(const crypto_provider *prov, const crypto_pkey *key, uint16_t scheme);
/* The first of our schemes for key (ordered by key type) that the peer
 * listed; without a list from the peer, the SHA-256 scheme of the key's
 * type. 0 when there is none. */
uint16_t hs_choose_sig_scheme(const crypto_provider *prov, const crypto_pkey *key,
                              const uint16_t *peer, size_t peer_count, bool peer_sent);
/* The hash a scheme signs with. */
crypto_hash_id hs_sig_scheme_hash(uint16_t scheme);
/* Copies a scheme list from the wire, keeping up to HS_MAX_SIG_SCHEMES of
 * the ones petrel knows. */
size_t hs_keep_sig_schemes(const hs_u16_list *list, uint16_t *out);

/* Sends this side's Certificate: its chain, its raw public key when type
 * is HS_CERT_TYPE_RAW_PUBLIC_KEY, or an empty list when it has neither.
 * *sent tells whether a key went out (a CertificateVerify must follow). */
PETREL_MUST_CHECK int hs_send_certificate(hs_ctx *hs, uint8_t type, bool *sent);
/* Handles the peer's Certificate of the given type: keeps its chain and
 * key, runs the checks the verify mode asks for and the callback. */
PETREL_MUST_CHECK int hs_receive_certificate(hs_ctx *hs, const uint8_t *body, size_t len,
                                             uint8_t type);

/* Handlers named in the table. */
int hs_client_on_certificate(hs_ctx *hs, const uint8_t *body, size_t len);
int hs_client_on_certificate_request(hs_ctx *hs, const uint8_t *body, size_t len);
int hs_server_on_certificate(hs_ctx *hs, const uint8_t *body, size_t len);
int hs_server_on_certificate_verify(hs_ctx *hs, const uint8_t *body, size_t len);
int hs_client_on_hello_verify_request(hs_ctx *hs, const uint8_t *body, size_t len);
int hs_client_on_server_hello(hs_ctx *hs, const uint8_t *body, size_t len);
int hs_client_on_server_key_exchange(hs_ctx *hs, const uint8_t *body, size_t len);
int hs_client_on_server_hello_done(hs_ctx *hs, const uint8_t *body, size_t len);
int hs_client_on_finished(hs_ctx *hs, const uint8_t *body, size_t len);
int hs_server_on_client_hello(hs_ctx *hs, const uint8_t *body, size_t len);
int hs_server_on_client_key_exchange(hs_ctx *hs, const uint8_t *body, size_t len);
int hs_server_on_finished(hs_ctx *hs, const uint8_t *body, size_t len);
int hs_on_change_cipher_spec(hs_ctx *hs, const uint8_t *body, size_t len);

#endif
