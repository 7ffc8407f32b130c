/* Shared between the handshake core's files; not for other modules. */
#ifndef PETREL_HANDSHAKE_INTERNAL_H
#define PETREL_HANDSHAKE_INTERNAL_H

#include "handshake/handshake.h"

/* Largest message body the core writes (hellos with every extension). */
#define HS_SCRATCH_LEN 1024

PETREL_MUST_CHECK int hs_transcript_reset(hs_ctx *hs);
PETREL_MUST_CHECK int hs_transcript_add(hs_ctx *hs, const uint8_t *data, size_t len);
/* Drops the transcript hashes the chosen suite does not use. */
void hs_transcript_select(hs_ctx *hs);
PETREL_MUST_CHECK int hs_transcript_hash(const hs_ctx *hs, uint8_t *out, size_t *len);

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

/* Handlers named in the table. */
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
