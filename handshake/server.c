/* The server side of the TLS 1.2 / DTLS 1.2 PSK handshake. The DTLS cookie
 * exchange happens before this, in dtls/: a ClientHello reaches the core
 * only with a valid cookie. */
#include <string.h>

#include "handshake/handshake_internal.h"

/* RFC 6347 §4.1: DTLS versions count down (1.0 = 0xfeff, 1.2 = 0xfefd). A
 * client offering 1.2 or later gets 1.2; 1.0 alone is refused. */
static bool client_version_ok(const hs_ctx *hs, uint16_t offered)
{
    if (hs->datagram)
        return offered <= HS_VERSION_DTLS12 && offered >= 0xfe00;
    return offered >= HS_VERSION_TLS12 && offered < 0x0400;
}

static bool has_psk_source(const hs_config *cfg)
{
    return cfg->psk_table_count > 0 || cfg->psk_lookup != NULL;
}

/* The first of our groups the client supports. Without supported_groups
 * the client supports any curve (RFC 8422 §4); secp256r1 is then the safe
 * choice. */
static uint16_t choose_group(const hs_ctx *hs, const hs_client_hello *ch)
{
    const hs_extensions *ext = &ch->extensions;
    if (ext->has_ec_point_formats && !memchr(ext->ec_point_formats, 0, ext->ec_point_formats_len))
        return 0; /* the client cannot take uncompressed points */
    for (size_t i = 0; i < hs->cfg->group_count; i++) {
        uint16_t g = hs->cfg->groups[i];
        if (ext->has_supported_groups ? hs_u16_list_contains(&ext->supported_groups, g)
                                      : g == CRYPTO_GROUP_SECP256R1)
            return g;
    }
    return 0;
}

/* Server preference order over the suites the client offers. */
static const hs_suite *choose_suite(hs_ctx *hs, const hs_client_hello *ch)
{
    for (size_t i = 0; i < hs->cfg->suite_count; i++) {
        const hs_suite *s = hs_suite_find(hs->cfg->suites[i]);
        if (!s || !hs_u16_list_contains(&ch->cipher_suites, s->id) || !has_psk_source(hs->cfg))
            continue;
        if (s->kx == HS_KX_ECDHE_PSK) {
            hs->group = choose_group(hs, ch);
            if (!hs->group)
                continue;
        }
        return s;
    }
    return NULL;
}

static int send_server_hello(hs_ctx *hs, bool echo_point_formats)
{
    uint8_t ext[64];
    uint8_t body[HS_SCRATCH_LEN];
    cursor_writer ew = cursor_writer_init(ext, sizeof(ext));
    if (hs->secure_renegotiation)
        PETREL_TRY(hs_ext_write_renegotiation_info(&ew, NULL, 0));
    if (hs->extended_master_secret)
        PETREL_TRY(hs_ext_write_empty(&ew, HS_EXT_EXTENDED_MASTER_SECRET));
    if (echo_point_formats)
        PETREL_TRY(hs_ext_write_ec_point_formats(&ew));

    hs_server_hello sh;
    memset(&sh, 0, sizeof(sh));
    sh.version = hs->version;
    memcpy(sh.random, hs->server_random, HS_RANDOM_LEN);
    sh.cipher_suite = hs->suite->id;
    sh.extensions_raw = ext;
    sh.extensions_raw_len = ew.len;
    sh.has_extensions_block = ew.len > 0;
    cursor_writer w = cursor_writer_init(body, sizeof(body));
    PETREL_TRY(hs_server_hello_write(&w, &sh));
    return hs_send(hs, HS_SERVER_HELLO, body, w.len);
}

/* RFC 4279 §2 / RFC 5489 §2: sent for a hint, and always for ECDHE_PSK. */
static int send_server_key_exchange(hs_ctx *hs)
{
    uint8_t own_public[CRYPTO_KEX_MAX_PUBLIC_LEN];
    uint8_t body[2 + HS_PSK_IDENTITY_STORE_MAX + 4 + CRYPTO_KEX_MAX_PUBLIC_LEN];
    hs_server_key_exchange_psk ske;
    memset(&ske, 0, sizeof(ske));
    ske.identity_hint = hs->cfg->psk_hint;
    ske.identity_hint_len = hs->cfg->psk_hint_len;
    if (hs->suite->kx == HS_KX_ECDHE_PSK) {
        const crypto_kex_alg *kex = hs->cfg->prov->kex(hs->group);
        PETREL_TRY(kex->generate(kex, hs->platform->rng, hs->platform->rng_ref, &hs->kex_key));
        PETREL_TRY(kex->public_key(hs->kex_key, own_public));
        ske.ecdhe = true;
        ske.group = hs->group;
        ske.public_key = own_public;
        ske.public_key_len = kex->public_len;
    } else if (hs->cfg->psk_hint_len == 0) {
        return 0;
    }
    cursor_writer w = cursor_writer_init(body, sizeof(body));
    PETREL_TRY(hs_server_key_exchange_psk_write(&w, &ske));
    return hs_send(hs, HS_SERVER_KEY_EXCHANGE, body, w.len);
}

int hs_server_on_client_hello(hs_ctx *hs, const uint8_t *body, size_t len)
{
    cursor_reader r = cursor_reader_init(body, len);
    hs_client_hello ch;
    PETREL_TRY(hs_client_hello_read(&r, &ch, hs->datagram));
    if (!client_version_ok(hs, ch.version)) {
        platform_log(hs->platform, PETREL_LOG_WARNING,
                     "server: refused client version 0x%04x (petrel speaks %s 1.2 only)",
                     ch.version, hs->datagram ? "DTLS" : "TLS");
        return PETREL_ERR_PROTOCOL_VERSION;
    }
    memcpy(hs->client_random, ch.random, HS_RANDOM_LEN);

    /* RFC 5746 §3.6: the extension (empty on an initial handshake) or the
     * SCSV marks a client that supports secure renegotiation. */
    const hs_extensions *ext = &ch.extensions;
    if (ext->has_renegotiation_info && ext->renegotiation_info_len != 0)
        return PETREL_ERR_HANDSHAKE_FAILURE;
    hs->secure_renegotiation = ext->has_renegotiation_info ||
                               hs_u16_list_contains(&ch.cipher_suites, HS_SCSV_RENEGOTIATION);
    hs->extended_master_secret = ext->has_extended_master_secret;

    hs->suite = choose_suite(hs, &ch);
    if (!hs->suite) {
        platform_log(hs->platform, PETREL_LOG_WARNING,
                     "server: no cipher suite in common with the client (%zu offered)",
                     ch.cipher_suites.count);
        return PETREL_ERR_HANDSHAKE_FAILURE;
    }
    hs_transcript_select(hs);
    PETREL_TRY(platform_random(hs->platform, hs->server_random, HS_RANDOM_LEN));

    bool ecdhe = hs->suite->kx == HS_KX_ECDHE_PSK;
    PETREL_TRY(send_server_hello(hs, ecdhe && ext->has_ec_point_formats));
    PETREL_TRY(send_server_key_exchange(hs));
    PETREL_TRY(hs_send(hs, HS_SERVER_HELLO_DONE, NULL, 0));
    return hs->ops->flight_done(hs->rl, HS_FLIGHT_EXPECT_REPLY);
}

/* The key for identity from the table, then the callback. */
static int find_psk(hs_ctx *hs, const uint8_t *identity, size_t identity_len)
{
    const hs_config *cfg = hs->cfg;
    if (identity_len == 0 || identity_len > HS_PSK_IDENTITY_STORE_MAX)
        return PETREL_ERR_UNKNOWN_PSK_IDENTITY;
    for (size_t i = 0; i < cfg->psk_table_count; i++) {
        const hs_psk_entry *e = &cfg->psk_table[i];
        if (e->identity_len == identity_len &&
            cfg->prov->ct_equal(e->identity, identity, identity_len)) {
            hs->psk = *e;
            return 0;
        }
    }
    if (cfg->psk_lookup) {
        int n = cfg->psk_lookup(cfg->psk_lookup_ref, identity, identity_len, hs->psk.key,
                                sizeof(hs->psk.key));
        if (n > 0 && (size_t)n <= sizeof(hs->psk.key)) {
            memcpy(hs->psk.identity, identity, identity_len);
            hs->psk.identity_len = identity_len;
            hs->psk.key_len = (size_t)n;
            return 0;
        }
    }
    platform_log(hs->platform, PETREL_LOG_INFO, "server: unknown PSK identity (%zu bytes)",
                 identity_len);
    return PETREL_ERR_UNKNOWN_PSK_IDENTITY;
}

int hs_server_on_client_key_exchange(hs_ctx *hs, const uint8_t *body, size_t len)
{
    cursor_reader r = cursor_reader_init(body, len);
    uint8_t shared[CRYPTO_KEX_MAX_SECRET_LEN];
    size_t shared_len = 0;
    hs_client_key_exchange_psk cke;
    memset(&cke, 0, sizeof(cke));
    cke.ecdhe = hs->suite->kx == HS_KX_ECDHE_PSK;
    PETREL_TRY(hs_client_key_exchange_psk_read(&r, &cke));
    PETREL_TRY(find_psk(hs, cke.identity, cke.identity_len));
    if (cke.ecdhe) {
        PETREL_TRY(
            hs->kex_key->alg->derive(hs->kex_key, cke.public_key, cke.public_key_len, shared));
        shared_len = hs->kex_key->alg->secret_len;
    }
    int rc = hs_derive_keys(hs, shared_len ? shared : NULL, shared_len);
    petrel_wipe(shared, sizeof(shared));
    return rc;
}

int hs_server_on_finished(hs_ctx *hs, const uint8_t *body, size_t len)
{
    PETREL_TRY(hs_check_finished(hs, body, len));
    PETREL_TRY(hs_send_ccs_and_finished(hs, HS_FLIGHT_FINAL));
    hs->ops->handshake_complete(hs->rl);
    return 0;
}
