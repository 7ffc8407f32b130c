/* The client side of the TLS 1.2 / DTLS 1.2 PSK handshake. */
#include <string.h>

#include "handshake/handshake_internal.h"

static bool offers_ecdhe(const hs_config *cfg)
{
    for (size_t i = 0; i < cfg->suite_count; i++) {
        const hs_suite *s = hs_suite_find(cfg->suites[i]);
        if (s && s->kx == HS_KX_ECDHE_PSK)
            return true;
    }
    return false;
}

static bool offered_suite(const hs_config *cfg, uint16_t id)
{
    for (size_t i = 0; i < cfg->suite_count; i++) {
        if (cfg->suites[i] == id)
            return true;
    }
    return false;
}

static bool offered_group(const hs_config *cfg, uint16_t group)
{
    for (size_t i = 0; i < cfg->group_count; i++) {
        if (cfg->groups[i] == group)
            return true;
    }
    return false;
}

/* RFC 5246 §7.4.1.2, RFC 6347 §4.2.1: the same ClientHello each time, with
 * the server's cookie once it sent one. */
static int send_client_hello(hs_ctx *hs)
{
    const hs_config *cfg = hs->cfg;
    uint8_t suites[2 * HS_MAX_SUITES];
    uint8_t ext[256];
    uint8_t body[HS_SCRATCH_LEN];
    static const uint8_t null_compression = 0;

    for (size_t i = 0; i < cfg->suite_count; i++) {
        suites[2 * i] = (uint8_t)(cfg->suites[i] >> 8);
        suites[2 * i + 1] = (uint8_t)cfg->suites[i];
    }
    /* RFC 5746 §3.4: an empty renegotiation_info on the initial hello;
     * RFC 7627 §5.1: extended_master_secret; RFC 8422 §5.1: the groups and
     * point formats when ECDHE suites are offered. */
    cursor_writer ew = cursor_writer_init(ext, sizeof(ext));
    PETREL_TRY(hs_ext_write_renegotiation_info(&ew, NULL, 0));
    PETREL_TRY(hs_ext_write_empty(&ew, HS_EXT_EXTENDED_MASTER_SECRET));
    if (offers_ecdhe(cfg)) {
        PETREL_TRY(
            hs_ext_write_u16_list(&ew, HS_EXT_SUPPORTED_GROUPS, cfg->groups, cfg->group_count));
        PETREL_TRY(hs_ext_write_ec_point_formats(&ew));
    }

    hs_client_hello ch;
    memset(&ch, 0, sizeof(ch));
    ch.version = hs->version;
    memcpy(ch.random, hs->client_random, HS_RANDOM_LEN);
    ch.cookie = hs->cookie_len ? hs->cookie : NULL;
    ch.cookie_len = hs->cookie_len;
    ch.cipher_suites.data = suites;
    ch.cipher_suites.count = cfg->suite_count;
    ch.compression_methods = &null_compression;
    ch.compression_methods_len = 1;
    ch.extensions_raw = ext;
    ch.extensions_raw_len = ew.len;
    ch.has_extensions_block = true;

    cursor_writer w = cursor_writer_init(body, sizeof(body));
    PETREL_TRY(hs_client_hello_write(&w, &ch, hs->datagram));
    PETREL_TRY(hs_send(hs, HS_CLIENT_HELLO, body, w.len));
    return hs->ops->flight_done(hs->rl, HS_FLIGHT_EXPECT_REPLY);
}

int hs_start(hs_ctx *hs)
{
    if (hs->is_server || hs->state != HS_CLIENT_START)
        return PETREL_ERR_STATE;
    if (!hs->cfg->has_client_psk) {
        platform_log(hs->platform, PETREL_LOG_ERROR,
                     "client: no PSK configured (petrel_config_set_psk)");
        return PETREL_ERR_STATE;
    }
    PETREL_TRY(platform_random(hs->platform, hs->client_random, HS_RANDOM_LEN));
    hs->psk = hs->cfg->client_psk;
    PETREL_TRY(send_client_hello(hs));
    hs->state = HS_CLIENT_WAIT_SERVER_HELLO;
    return 0;
}

int hs_client_on_hello_verify_request(hs_ctx *hs, const uint8_t *body, size_t len)
{
    cursor_reader r = cursor_reader_init(body, len);
    hs_hello_verify_request hvr;
    PETREL_TRY(hs_hello_verify_request_read(&r, &hvr));
    /* RFC 6347 §4.2.1: servers SHOULD send DTLS 1.0 here whatever they
     * negotiate later; anything else is not DTLS. */
    if (hvr.version != HS_VERSION_DTLS10 && hvr.version != HS_VERSION_DTLS12)
        return PETREL_ERR_PROTOCOL_VERSION;
    /* A server that keeps asking is broken or hostile: stop the loop. */
    if (++hs->hello_verify_count > 4)
        return PETREL_ERR_UNEXPECTED_MESSAGE;
    memcpy(hs->cookie, hvr.cookie, hvr.cookie_len);
    hs->cookie_len = hvr.cookie_len;
    /* The first ClientHello and the HelloVerifyRequest stay out of the
     * transcript (RFC 6347 §4.2.1). */
    PETREL_TRY(hs_transcript_reset(hs));
    return send_client_hello(hs);
}

int hs_client_on_server_hello(hs_ctx *hs, const uint8_t *body, size_t len)
{
    cursor_reader r = cursor_reader_init(body, len);
    hs_server_hello sh;
    PETREL_TRY(hs_server_hello_read(&r, &sh));
    if (sh.version != hs->version) {
        platform_log(hs->platform, PETREL_LOG_WARNING,
                     "client: server chose version 0x%04x; only 0x%04x is accepted", sh.version,
                     hs->version);
        return PETREL_ERR_PROTOCOL_VERSION;
    }
    const hs_suite *suite = hs_suite_find(sh.cipher_suite);
    if (!suite || !offered_suite(hs->cfg, sh.cipher_suite))
        return PETREL_ERR_ILLEGAL_PARAMETER;

    /* RFC 5246 §7.4.1.4: only extensions the client offered may come back. */
    for (size_t i = 0; i < sh.extensions.count; i++) {
        uint16_t type = sh.extensions.list[i].type;
        bool offered = type == HS_EXT_RENEGOTIATION_INFO || type == HS_EXT_EXTENDED_MASTER_SECRET ||
                       (type == HS_EXT_EC_POINT_FORMATS && offers_ecdhe(hs->cfg));
        if (!offered)
            return PETREL_ERR_UNSUPPORTED_EXTENSION;
    }
    /* RFC 5746 §3.4: on the initial handshake the server's
     * renegotiated_connection must be empty. */
    if (sh.extensions.has_renegotiation_info && sh.extensions.renegotiation_info_len != 0)
        return PETREL_ERR_HANDSHAKE_FAILURE;
    hs->secure_renegotiation = sh.extensions.has_renegotiation_info;
    hs->extended_master_secret = sh.extensions.has_extended_master_secret;

    memcpy(hs->server_random, sh.random, HS_RANDOM_LEN);
    hs->suite = suite;
    hs_transcript_select(hs);
    return 0;
}

int hs_client_on_server_key_exchange(hs_ctx *hs, const uint8_t *body, size_t len)
{
    cursor_reader r = cursor_reader_init(body, len);
    hs_server_key_exchange_psk ske;
    memset(&ske, 0, sizeof(ske));
    ske.ecdhe = hs->suite->kx == HS_KX_ECDHE_PSK;
    PETREL_TRY(hs_server_key_exchange_psk_read(&r, &ske));
    if (ske.ecdhe) {
        const crypto_kex_alg *kex = hs->cfg->prov->kex(ske.group);
        if (!kex || !offered_group(hs->cfg, ske.group) || ske.public_key_len != kex->public_len)
            return PETREL_ERR_ILLEGAL_PARAMETER;
        hs->group = ske.group;
        memcpy(hs->peer_public, ske.public_key, ske.public_key_len);
        hs->peer_public_len = ske.public_key_len;
    }
    /* The identity hint (RFC 4279 §2) is advisory; the configured identity
     * is sent regardless. */
    hs->have_server_key_exchange = true;
    return 0;
}

int hs_client_on_server_hello_done(hs_ctx *hs, const uint8_t *body, size_t len)
{
    cursor_reader r = cursor_reader_init(body, len);
    uint8_t cke_body[2 + HS_PSK_IDENTITY_STORE_MAX + 1 + CRYPTO_KEX_MAX_PUBLIC_LEN];
    uint8_t own_public[CRYPTO_KEX_MAX_PUBLIC_LEN];
    uint8_t shared[CRYPTO_KEX_MAX_SECRET_LEN];
    size_t shared_len = 0;
    PETREL_TRY(hs_server_hello_done_read(&r));

    hs_client_key_exchange_psk cke;
    memset(&cke, 0, sizeof(cke));
    cke.identity = hs->psk.identity;
    cke.identity_len = hs->psk.identity_len;
    if (hs->suite->kx == HS_KX_ECDHE_PSK) {
        /* RFC 5489 §2: ECDHE_PSK always has a ServerKeyExchange. */
        if (!hs->have_server_key_exchange)
            return PETREL_ERR_UNEXPECTED_MESSAGE;
        const crypto_kex_alg *kex = hs->cfg->prov->kex(hs->group);
        PETREL_TRY(kex->generate(kex, hs->platform->rng, hs->platform->rng_ref, &hs->kex_key));
        PETREL_TRY(kex->public_key(hs->kex_key, own_public));
        PETREL_TRY(kex->derive(hs->kex_key, hs->peer_public, hs->peer_public_len, shared));
        shared_len = kex->secret_len;
        cke.ecdhe = true;
        cke.public_key = own_public;
        cke.public_key_len = kex->public_len;
    }
    cursor_writer w = cursor_writer_init(cke_body, sizeof(cke_body));
    int rc = hs_client_key_exchange_psk_write(&w, &cke);
    if (rc == 0)
        rc = hs_send(hs, HS_CLIENT_KEY_EXCHANGE, cke_body, w.len);
    if (rc == 0)
        rc = hs_derive_keys(hs, shared_len ? shared : NULL, shared_len);
    petrel_wipe(shared, sizeof(shared));
    PETREL_TRY(rc);
    return hs_send_ccs_and_finished(hs, HS_FLIGHT_EXPECT_REPLY);
}

int hs_client_on_finished(hs_ctx *hs, const uint8_t *body, size_t len)
{
    PETREL_TRY(hs_check_finished(hs, body, len));
    hs->ops->handshake_complete(hs->rl);
    return 0;
}
