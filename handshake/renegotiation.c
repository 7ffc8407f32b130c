/*
 * RFC 5746 secure renegotiation for TLS 1.2 and DTLS 1.2: a new full
 * handshake on an established connection, under its current keys, bound
 * to the last one by renegotiation_info (each side's last Finished). Only
 * peers that signalled RFC 5746 in the first handshake renegotiate; the
 * legacy kind is never done. Either side may start one: a client with a
 * new ClientHello, a server with a HelloRequest. What the peer starts is
 * accepted only when the configuration says so
 * (petrel_config_set_renegotiation); else it is refused with a
 * no_renegotiation warning, and the connection goes on.
 */
#include "handshake/handshake.h"

#include <string.h>

#include "handshake/handshake_internal.h"

/* Forgets what the last handshake negotiated, keeping what binds the next
 * one to it (the verify_data, secure_renegotiation) and the keys in force
 * (held by the record layer, and established_suite for queries). */
static int forget_last_handshake(hs_ctx *hs)
{
    /* The master secret stays until the new key exchange replaces it
     * (petrel_export_master_secret reports the keys in force). */
    hs_release_exchange(hs);
    hs->suite = NULL;
    memset(hs->client_random, 0, sizeof(hs->client_random));
    memset(hs->server_random, 0, sizeof(hs->server_random));
    hs->extended_master_secret = false;
    hs->group = 0;
    hs->peer_public_len = 0;
    hs->have_server_key_exchange = false;
    /* A DTLS client keeps the first handshake's cookie for the new
     * ClientHello: OpenSSL 3.0 servers that do cookie exchange answer a
     * renegotiation ClientHello without one with a ServerHello built on
     * the last handshake's randoms, which cannot complete. A server that
     * does not want it ignores it (petrel does). */
    hs->hello_verify_count = 0;
    hs->peer_sig_scheme_count = 0;
    hs->peer_sent_sig_schemes = false;
    hs->server_cert_type = HS_CERT_TYPE_X509;
    hs->client_cert_type = HS_CERT_TYPE_X509;
    hs->echo_server_cert_type = false;
    hs->echo_client_cert_type = false;
    hs->cert_requested = false;
    hs->cr_sig_scheme_count = 0;
    hs->cr_key_type_ok = false;
    hs->peer_sent_cert = false;
    hs->peer_anonymous = false;
    hs->alert = 0;
    /* With no suite chosen, both transcript hashes run again. */
    return hs_transcript_reset(hs);
}

static int begin(hs_ctx *hs, bool local)
{
    hs->renegotiating = true;
    hs->ops->new_handshake(hs->rl, local);
    return forget_last_handshake(hs);
}

/* RFC 5246 §7.4.1.1: an empty HelloRequest, outside the transcript. */
static int send_hello_request(hs_ctx *hs)
{
    const uint8_t *framed;
    size_t framed_len;
    PETREL_TRY(hs->ops->send_message(hs->rl, HS_HELLO_REQUEST, NULL, 0, &framed, &framed_len));
    return hs->ops->flight_done(hs->rl, HS_FLIGHT_EXPECT_REPLY);
}

int hs_renegotiate(hs_ctx *hs)
{
    if (!hs->established || hs->state != HS_DONE)
        return PETREL_ERR_STATE;
    if (!hs->secure_renegotiation) {
        platform_log(hs->platform, PETREL_LOG_WARNING,
                     "renegotiation refused: the peer did not signal RFC 5746 secure "
                     "renegotiation in the first handshake");
        return PETREL_ERR_UNSUPPORTED;
    }
    PETREL_TRY(begin(hs, true));
    if (hs->is_server) {
        /* The client answers with a ClientHello, which the table takes. */
        hs->state = HS_SERVER_WAIT_CLIENT_HELLO;
        return send_hello_request(hs);
    }
    hs->state = HS_CLIENT_START;
    return hs_start(hs);
}

int hs_post_handshake_message(hs_ctx *hs, uint8_t type, size_t body_len)
{
    bool starts = hs->is_server ? type == HS_CLIENT_HELLO : type == HS_HELLO_REQUEST;
    if (!starts || !hs->established || hs->state != HS_DONE) {
        platform_log(hs->platform, PETREL_LOG_INFO,
                     "handshake message %u after the handshake: unexpected", type);
        return PETREL_ERR_UNEXPECTED_MESSAGE;
    }
    if (type == HS_HELLO_REQUEST && body_len != 0)
        return PETREL_ERR_LENGTH;
    if (!hs->secure_renegotiation || !hs->cfg->accept_renegotiation) {
        platform_log(hs->platform, PETREL_LOG_INFO,
                     "peer asked for renegotiation: refused with no_renegotiation (%s)",
                     hs->secure_renegotiation ? "petrel_config_set_renegotiation is off"
                                              : "the peer does not support RFC 5746");
        return HS_POST_REFUSE;
    }
    platform_log(hs->platform, PETREL_LOG_INFO, "peer started a renegotiation");
    PETREL_TRY(begin(hs, false));
    if (hs->is_server) {
        hs->state = HS_SERVER_WAIT_CLIENT_HELLO;
        return HS_POST_DELIVER;
    }
    hs->state = HS_CLIENT_START;
    PETREL_TRY(hs_start(hs));
    return HS_POST_HANDLED;
}

bool hs_renegotiation_abandon(hs_ctx *hs, const char *why)
{
    /* Only while this side still waits for the peer's first answer. */
    bool waiting = hs->is_server ? hs->state == HS_SERVER_WAIT_CLIENT_HELLO
                                 : hs->state == HS_CLIENT_WAIT_SERVER_HELLO;
    if (!hs->renegotiating || !waiting)
        return false;
    platform_log(hs->platform, PETREL_LOG_INFO, "renegotiation abandoned (%s): keys unchanged",
                 why);
    hs->renegotiating = false;
    hs->suite = hs->established_suite;
    hs->state = HS_DONE;
    hs->ops->handshake_abandoned(hs->rl);
    return true;
}

void hs_handshake_done(hs_ctx *hs)
{
    hs->established = true;
    hs->renegotiating = false;
    hs->established_suite = hs->suite;
    hs->ops->handshake_complete(hs->rl);
}
