/*
 * The handshake state table and what every handler shares: the transcript,
 * sending messages, the key schedule steps and the Finished messages.
 * Client handlers are in client.c, server handlers in server.c.
 */
#include "handshake/handshake.h"

#include <string.h>

#include "handshake/handshake_internal.h"

/* Guards: the conditions that tell optional messages apart. */
static bool certificate_suite(const hs_ctx *hs)
{
    return !hs_kx_is_psk(hs->suite->kx);
}

static bool psk_suite(const hs_ctx *hs)
{
    return hs_kx_is_psk(hs->suite->kx);
}

static bool certificate_requested(const hs_ctx *hs)
{
    return hs->cert_requested;
}

static bool certificate_not_requested(const hs_ctx *hs)
{
    return !hs->cert_requested;
}

static bool peer_sent_certificate(const hs_ctx *hs)
{
    return hs->peer_sent_cert;
}

static bool peer_sent_no_certificate(const hs_ctx *hs)
{
    return !hs->peer_sent_cert;
}

#define GUARD(fn) fn, #fn

/*
 * The table (RFC 5246 §7.3, RFC 6347 §4.2.1): for each state, the messages
 * that may arrive, the guard that must hold, the handler, and the state
 * after it. Anything not listed is unexpected_message. Optional messages
 * appear as alternative rows (ServerKeyExchange or ServerHelloDone); where
 * the same message leads to different states, guards tell the rows apart.
 */
const hs_transition hs_table[] = {
    {HS_CLIENT_WAIT_SERVER_HELLO, HS_HELLO_VERIFY_REQUEST, NULL, NULL,
     hs_client_on_hello_verify_request, HS_CLIENT_WAIT_SERVER_HELLO, true},
    {HS_CLIENT_WAIT_SERVER_HELLO, HS_SERVER_HELLO, NULL, NULL, hs_client_on_server_hello,
     HS_CLIENT_WAIT_CERTIFICATE_OR_KEY_EXCHANGE, false},
    {HS_CLIENT_WAIT_CERTIFICATE_OR_KEY_EXCHANGE, HS_CERTIFICATE, GUARD(certificate_suite),
     hs_client_on_certificate, HS_CLIENT_WAIT_KEY_EXCHANGE, false},
    {HS_CLIENT_WAIT_CERTIFICATE_OR_KEY_EXCHANGE, HS_SERVER_KEY_EXCHANGE, GUARD(psk_suite),
     hs_client_on_server_key_exchange, HS_CLIENT_WAIT_HELLO_DONE, false},
    {HS_CLIENT_WAIT_CERTIFICATE_OR_KEY_EXCHANGE, HS_SERVER_HELLO_DONE, GUARD(psk_suite),
     hs_client_on_server_hello_done, HS_CLIENT_WAIT_CCS, false},
    {HS_CLIENT_WAIT_KEY_EXCHANGE, HS_SERVER_KEY_EXCHANGE, NULL, NULL,
     hs_client_on_server_key_exchange, HS_CLIENT_WAIT_CERT_REQUEST_OR_DONE, false},
    {HS_CLIENT_WAIT_CERT_REQUEST_OR_DONE, HS_CERTIFICATE_REQUEST, NULL, NULL,
     hs_client_on_certificate_request, HS_CLIENT_WAIT_HELLO_DONE, false},
    {HS_CLIENT_WAIT_CERT_REQUEST_OR_DONE, HS_SERVER_HELLO_DONE, NULL, NULL,
     hs_client_on_server_hello_done, HS_CLIENT_WAIT_CCS, false},
    {HS_CLIENT_WAIT_HELLO_DONE, HS_SERVER_HELLO_DONE, NULL, NULL, hs_client_on_server_hello_done,
     HS_CLIENT_WAIT_CCS, false},
    {HS_CLIENT_WAIT_CCS, HS_MSG_CHANGE_CIPHER_SPEC, NULL, NULL, hs_on_change_cipher_spec,
     HS_CLIENT_WAIT_FINISHED, false},
    {HS_CLIENT_WAIT_FINISHED, HS_FINISHED, NULL, NULL, hs_client_on_finished, HS_DONE, false},

    {HS_SERVER_WAIT_CLIENT_HELLO, HS_CLIENT_HELLO, NULL, NULL, hs_server_on_client_hello,
     HS_SERVER_WAIT_CERTIFICATE_OR_KEY_EXCHANGE, false},
    {HS_SERVER_WAIT_CERTIFICATE_OR_KEY_EXCHANGE, HS_CERTIFICATE, GUARD(certificate_requested),
     hs_server_on_certificate, HS_SERVER_WAIT_KEY_EXCHANGE, false},
    {HS_SERVER_WAIT_CERTIFICATE_OR_KEY_EXCHANGE, HS_CLIENT_KEY_EXCHANGE,
     GUARD(certificate_not_requested), hs_server_on_client_key_exchange, HS_SERVER_WAIT_CCS, false},
    {HS_SERVER_WAIT_KEY_EXCHANGE, HS_CLIENT_KEY_EXCHANGE, GUARD(peer_sent_certificate),
     hs_server_on_client_key_exchange, HS_SERVER_WAIT_CERTIFICATE_VERIFY, false},
    {HS_SERVER_WAIT_KEY_EXCHANGE, HS_CLIENT_KEY_EXCHANGE, GUARD(peer_sent_no_certificate),
     hs_server_on_client_key_exchange, HS_SERVER_WAIT_CCS, false},
    {HS_SERVER_WAIT_CERTIFICATE_VERIFY, HS_CERTIFICATE_VERIFY, NULL, NULL,
     hs_server_on_certificate_verify, HS_SERVER_WAIT_CCS, false},
    {HS_SERVER_WAIT_CCS, HS_MSG_CHANGE_CIPHER_SPEC, NULL, NULL, hs_on_change_cipher_spec,
     HS_SERVER_WAIT_FINISHED, false},
    {HS_SERVER_WAIT_FINISHED, HS_FINISHED, NULL, NULL, hs_server_on_finished, HS_DONE, false},
};
const size_t hs_table_len = sizeof(hs_table) / sizeof(hs_table[0]);

static const char *const state_names[HS_STATE_COUNT] = {
    [HS_CLIENT_START] = "CLIENT_START",
    [HS_CLIENT_WAIT_SERVER_HELLO] = "CLIENT_WAIT_SERVER_HELLO",
    [HS_CLIENT_WAIT_CERTIFICATE_OR_KEY_EXCHANGE] = "CLIENT_WAIT_CERTIFICATE_OR_KEY_EXCHANGE",
    [HS_CLIENT_WAIT_KEY_EXCHANGE] = "CLIENT_WAIT_KEY_EXCHANGE",
    [HS_CLIENT_WAIT_CERT_REQUEST_OR_DONE] = "CLIENT_WAIT_CERT_REQUEST_OR_DONE",
    [HS_CLIENT_WAIT_HELLO_DONE] = "CLIENT_WAIT_HELLO_DONE",
    [HS_CLIENT_WAIT_CCS] = "CLIENT_WAIT_CCS",
    [HS_CLIENT_WAIT_FINISHED] = "CLIENT_WAIT_FINISHED",
    [HS_SERVER_WAIT_CLIENT_HELLO] = "SERVER_WAIT_CLIENT_HELLO",
    [HS_SERVER_WAIT_CERTIFICATE_OR_KEY_EXCHANGE] = "SERVER_WAIT_CERTIFICATE_OR_KEY_EXCHANGE",
    [HS_SERVER_WAIT_KEY_EXCHANGE] = "SERVER_WAIT_KEY_EXCHANGE",
    [HS_SERVER_WAIT_CERTIFICATE_VERIFY] = "SERVER_WAIT_CERTIFICATE_VERIFY",
    [HS_SERVER_WAIT_CCS] = "SERVER_WAIT_CCS",
    [HS_SERVER_WAIT_FINISHED] = "SERVER_WAIT_FINISHED",
    [HS_DONE] = "DONE",
};

const char *hs_state_name(hs_state state)
{
    return (unsigned)state < HS_STATE_COUNT ? state_names[state] : "?";
}

int hs_init(hs_ctx *hs, const hs_config *cfg, const petrel_platform *platform,
            const hs_record_ops *ops, void *rl, bool is_server, bool datagram)
{
    memset(hs, 0, sizeof(*hs));
    hs->cfg = cfg;
    hs->platform = platform;
    hs->ops = ops;
    hs->rl = rl;
    hs->is_server = is_server;
    hs->datagram = datagram;
    memcpy(hs->suites, cfg->suites, cfg->suite_count * sizeof(uint16_t));
    hs->suite_count = cfg->suite_count;
    hs->cert_callback = cfg->cert_callback;
    hs->cert_callback_ref = cfg->cert_callback_ref;
    hs->version = datagram ? HS_VERSION_DTLS12 : HS_VERSION_TLS12;
    hs->state = is_server ? HS_SERVER_WAIT_CLIENT_HELLO : HS_CLIENT_START;
    return hs_transcript_reset(hs);
}

void hs_free(hs_ctx *hs)
{
    for (size_t i = 0; i < CRYPTO_HASH_COUNT; i++) {
        crypto_hash_free(hs->transcript[i]);
        hs->transcript[i] = NULL;
    }
    hs_release_exchange(hs);
    petrel_wipe(hs->master, sizeof(hs->master));
    petrel_wipe(&hs->client_keys, sizeof(hs->client_keys));
    petrel_wipe(&hs->server_keys, sizeof(hs->server_keys));
}

void hs_release_exchange(hs_ctx *hs)
{
    crypto_kex_key_free(hs->kex_key);
    hs->kex_key = NULL;
    if (hs->peer_key)
        hs->cfg->prov->pkey_free(hs->peer_key);
    hs->peer_key = NULL;
    platform_free(hs->platform, hs->peer_chain_der);
    hs->peer_chain_der = NULL;
    hs->peer_chain_count = 0;
    petrel_wipe(&hs->psk, sizeof(hs->psk));
}

bool hs_is_complete(const hs_ctx *hs)
{
    return hs->state == HS_DONE;
}

bool hs_may_configure(const hs_ctx *hs)
{
    return hs->state == HS_CLIENT_START || hs->state == HS_SERVER_WAIT_CLIENT_HELLO ||
           hs->state == HS_DONE;
}

static const hs_transition *find_transition(const hs_ctx *hs, int message)
{
    for (size_t i = 0; i < hs_table_len; i++) {
        const hs_transition *t = &hs_table[i];
        if (t->state == hs->state && t->message == message && (hs->datagram || !t->datagram_only) &&
            (!t->guard || t->guard(hs)))
            return t;
    }
    return NULL;
}

bool hs_expects_change_cipher_spec(const hs_ctx *hs)
{
    return find_transition(hs, HS_MSG_CHANGE_CIPHER_SPEC) != NULL;
}

int hs_handle_message(hs_ctx *hs, uint8_t type, const uint8_t *framed, size_t framed_len,
                      const uint8_t *body, size_t body_len)
{
    const hs_transition *t = find_transition(hs, type);
    if (!t) {
        platform_log(hs->platform, PETREL_LOG_INFO, "handshake: message %u unexpected in %s", type,
                     hs_state_name(hs->state));
        return PETREL_ERR_UNEXPECTED_MESSAGE;
    }
    /* The transcript covers every message except HelloVerifyRequest and the
     * ClientHello before it (RFC 6347 §4.2.1). Finished and
     * CertificateVerify are hashed by their handlers once checked, since
     * the check needs the hash before them. */
    if (type != HS_HELLO_VERIFY_REQUEST && type != HS_FINISHED && type != HS_CERTIFICATE_VERIFY)
        PETREL_TRY(hs_transcript_add(hs, framed, framed_len));
    hs->message = framed;
    hs->message_len = framed_len;
    int rc = t->handler(hs, body, body_len);
    hs->message = NULL;
    hs->message_len = 0;
    PETREL_TRY(rc);
    hs->state = t->next;
    return 0;
}

int hs_handle_change_cipher_spec(hs_ctx *hs)
{
    const hs_transition *t = find_transition(hs, HS_MSG_CHANGE_CIPHER_SPEC);
    if (!t)
        return PETREL_ERR_UNEXPECTED_MESSAGE;
    PETREL_TRY(t->handler(hs, NULL, 0));
    hs->state = t->next;
    return 0;
}

/* ---- transcript ---- */

int hs_transcript_reset(hs_ctx *hs)
{
    for (size_t i = 0; i < CRYPTO_HASH_COUNT; i++) {
        crypto_hash_free(hs->transcript[i]);
        hs->transcript[i] = NULL;
        const crypto_hash_alg *alg = hs->cfg->prov->hash((crypto_hash_id)i);
        if (hs->suite && hs->suite->prf_hash != (crypto_hash_id)i)
            continue;
        PETREL_TRY(alg->ctx_new(alg, &hs->transcript[i]));
    }
    return 0;
}

int hs_transcript_add(hs_ctx *hs, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < CRYPTO_HASH_COUNT; i++) {
        if (hs->transcript[i])
            PETREL_TRY(hs->transcript[i]->alg->update(hs->transcript[i], data, len));
    }
    return 0;
}

void hs_transcript_select(hs_ctx *hs)
{
    /* A CertificateVerify may be signed with SHA-256 or SHA-384 whatever
     * the PRF hash is, so certificate suites keep both running. */
    if (!hs_kx_is_psk(hs->suite->kx))
        return;
    for (size_t i = 0; i < CRYPTO_HASH_COUNT; i++) {
        if ((crypto_hash_id)i != hs->suite->prf_hash) {
            crypto_hash_free(hs->transcript[i]);
            hs->transcript[i] = NULL;
        }
    }
}

int hs_transcript_hash(const hs_ctx *hs, uint8_t *out, size_t *len)
{
    const crypto_hash_ctx *ctx = hs->transcript[hs->suite->prf_hash];
    if (!ctx)
        return PETREL_ERR_INTERNAL;
    *len = ctx->alg->digest_len;
    return crypto_hash_peek(ctx, out);
}

int hs_transcript_hash_with(const hs_ctx *hs, crypto_hash_id hash, uint8_t *out, size_t *len)
{
    const crypto_hash_ctx *ctx = (unsigned)hash < CRYPTO_HASH_COUNT ? hs->transcript[hash] : NULL;
    if (!ctx)
        return PETREL_ERR_INTERNAL;
    *len = ctx->alg->digest_len;
    return crypto_hash_peek(ctx, out);
}

/* ---- sending ---- */

int hs_send(hs_ctx *hs, uint8_t type, const uint8_t *body, size_t len)
{
    const uint8_t *framed;
    size_t framed_len;
    PETREL_TRY(hs->ops->send_message(hs->rl, type, body, len, &framed, &framed_len));
    return hs_transcript_add(hs, framed, framed_len);
}

/* ---- key schedule ---- */

int hs_derive_keys(hs_ctx *hs, const uint8_t *ecdh, size_t ecdh_len)
{
    const crypto_provider *prov = hs->cfg->prov;
    uint8_t pre[HS_PREMASTER_MAX];
    size_t pre_len;
    uint8_t session_hash[CRYPTO_HASH_MAX_LEN];
    size_t hash_len = 0;
    if (hs_kx_is_psk(hs->suite->kx)) {
        PETREL_TRY(hs_psk_premaster(hs->psk.key, hs->psk.key_len, ecdh, ecdh_len, pre, &pre_len));
    } else {
        /* RFC 8422 §5.10: the premaster secret is the ECDH shared secret. */
        if (!ecdh || ecdh_len == 0 || ecdh_len > sizeof(pre))
            return PETREL_ERR_INTERNAL;
        memcpy(pre, ecdh, ecdh_len);
        pre_len = ecdh_len;
    }
    int rc = 0;
    /* RFC 7627 §3: the session hash runs up to and including
     * ClientKeyExchange, which the caller has just added. */
    if (hs->extended_master_secret)
        rc = hs_transcript_hash(hs, session_hash, &hash_len);
    if (rc == 0)
        rc = hs_master_secret(prov, hs->suite, pre, pre_len, hs->client_random, hs->server_random,
                              hs->extended_master_secret ? session_hash : NULL, hash_len,
                              hs->master);
    if (rc == 0)
        rc = hs_key_block(prov, hs->suite, hs->master, hs->client_random, hs->server_random,
                          &hs->client_keys, &hs->server_keys);
    petrel_wipe(pre, sizeof(pre));
    /* The key is in the premaster secret now; only the identity stays,
     * for petrel_psk_identity. */
    petrel_wipe(hs->psk.key, sizeof(hs->psk.key));
    hs->psk.key_len = 0;
    return rc;
}

int hs_send_ccs_and_finished(hs_ctx *hs, hs_flight_kind kind)
{
    const hs_traffic_keys *own = hs->is_server ? &hs->server_keys : &hs->client_keys;
    uint8_t *verify = hs->is_server ? hs->server_verify_data : hs->client_verify_data;
    uint8_t hash[CRYPTO_HASH_MAX_LEN];
    size_t hash_len;
    PETREL_TRY(hs->ops->send_change_cipher_spec(hs->rl));
    PETREL_TRY(hs->ops->set_write_cipher(hs->rl, hs->suite, own));
    PETREL_TRY(hs_transcript_hash(hs, hash, &hash_len));
    PETREL_TRY(hs_finished_verify_data(hs->cfg->prov, hs->suite, hs->master, !hs->is_server, hash,
                                       hash_len, verify));
    PETREL_TRY(hs_send(hs, HS_FINISHED, verify, HS_VERIFY_DATA_LEN));
    return hs->ops->flight_done(hs->rl, kind);
}

int hs_check_finished(hs_ctx *hs, const uint8_t *body, size_t len)
{
    cursor_reader r = cursor_reader_init(body, len);
    hs_finished fin;
    uint8_t hash[CRYPTO_HASH_MAX_LEN];
    size_t hash_len;
    uint8_t *expected = hs->is_server ? hs->client_verify_data : hs->server_verify_data;
    PETREL_TRY(hs_finished_read(&r, &fin));
    PETREL_TRY(hs_transcript_hash(hs, hash, &hash_len));
    PETREL_TRY(hs_finished_verify_data(hs->cfg->prov, hs->suite, hs->master, hs->is_server, hash,
                                       hash_len, expected));
    if (!hs->cfg->prov->ct_equal(expected, fin.verify_data, HS_VERIFY_DATA_LEN))
        return PETREL_ERR_DECRYPT_ERROR;
    return hs_transcript_add(hs, hs->message, hs->message_len);
}

int hs_on_change_cipher_spec(hs_ctx *hs, const uint8_t *body, size_t len)
{
    (void)body;
    (void)len;
    const hs_traffic_keys *peer = hs->is_server ? &hs->client_keys : &hs->server_keys;
    return hs->ops->set_read_cipher(hs->rl, hs->suite, peer);
}
