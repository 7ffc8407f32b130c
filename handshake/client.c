/* The client side of the TLS 1.2 / DTLS 1.2 handshake: PSK, ECDHE_PSK and
 * ECDHE with certificates or raw public keys. */
#include <string.h>

#include "handshake/handshake_internal.h"

/* The client can check a server's certificate: it has CAs, pinned raw
 * keys or a callback, or was told not to check. */
static bool can_authenticate_server(const hs_ctx *hs)
{
    const hs_config *cfg = hs->cfg;
    if (hs->cert_callback || (cfg->verify_mode_set && cfg->verify_mode == PETREL_VERIFY_NONE))
        return true;
    if (cfg->raw_public_keys && cfg->pinned_count)
        return true;
    return cfg->trust && cfg->prov->trust_count(cfg->trust) > 0;
}

/* A suite this client has the credentials to use. */
static bool usable_suite(const hs_ctx *hs, const hs_suite *s)
{
    if (!s)
        return false;
    if (hs_kx_is_psk(s->kx))
        return hs->cfg->has_client_psk;
    return can_authenticate_server(hs);
}

static bool offers(const hs_ctx *hs, bool (*pred)(hs_key_exchange))
{
    for (size_t i = 0; i < hs->suite_count; i++) {
        const hs_suite *s = hs_suite_find(hs->suites[i]);
        if (usable_suite(hs, s) && pred(s->kx))
            return true;
    }
    return false;
}

static bool kx_is_certificate(hs_key_exchange kx)
{
    return !hs_kx_is_psk(kx);
}

static bool offered_suite(const hs_ctx *hs, uint16_t id)
{
    for (size_t i = 0; i < hs->suite_count; i++) {
        if (hs->suites[i] == id)
            return usable_suite(hs, hs_suite_find(id));
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

/* A name that is an IPv4 or IPv6 literal goes into no SNI (RFC 6066 §3). */
static bool is_ip_literal(const char *name)
{
    bool dots_digits = true;
    for (const char *c = name; *c; c++) {
        if (*c == ':')
            return true;
        if (*c != '.' && (*c < '0' || *c > '9'))
            dots_digits = false;
    }
    return dots_digits;
}

/* The certificate types offered (RFC 7250 §4.1): raw keys first when
 * enabled, X.509 too when the means to use it are there. */
static size_t server_cert_types(const hs_ctx *hs, uint8_t *types)
{
    const hs_config *cfg = hs->cfg;
    size_t n = 0;
    types[n++] = HS_CERT_TYPE_RAW_PUBLIC_KEY;
    if (cfg->trust || hs->cert_callback ||
        (cfg->verify_mode_set && cfg->verify_mode == PETREL_VERIFY_NONE))
        types[n++] = HS_CERT_TYPE_X509;
    return n;
}

static size_t client_cert_types(const hs_config *cfg, uint8_t *types)
{
    size_t n = 0;
    if (cfg->own_key)
        types[n++] = HS_CERT_TYPE_RAW_PUBLIC_KEY;
    if (cfg->own_chain_count)
        types[n++] = HS_CERT_TYPE_X509;
    return n;
}

/* ExtensionTypes an application may not add, beyond those in messages.h
 * (RFC 6066 §4, §8; RFC 8446 §4.2). */
enum {
    EXT_MAX_FRAGMENT_LENGTH = 1,
    EXT_STATUS_REQUEST = 5,
    EXT_PRE_SHARED_KEY = 41,
    EXT_EARLY_DATA = 42,
    EXT_SUPPORTED_VERSIONS = 43,
    EXT_COOKIE = 44,
    EXT_PSK_KEY_EXCHANGE_MODES = 45,
    EXT_KEY_SHARE = 51,
};

#define TLS13_ONLY "it is a TLS 1.3 extension; petrel speaks (D)TLS 1.2"

/* What petrel_conn_add_hello_extension refuses: the extensions petrel
 * writes itself (why NULL), and those whose answers it cannot handle. */
static const struct refused_extension {
    uint16_t type;
    int error;
    const char *why;
} refused_extensions[] = {
    {HS_EXT_RENEGOTIATION_INFO, PETREL_ERR_ARG, NULL},
    {HS_EXT_EXTENDED_MASTER_SECRET, PETREL_ERR_ARG, NULL},
    {HS_EXT_SUPPORTED_GROUPS, PETREL_ERR_ARG, NULL},
    {HS_EXT_EC_POINT_FORMATS, PETREL_ERR_ARG, NULL},
    {HS_EXT_SIGNATURE_ALGORITHMS, PETREL_ERR_ARG, NULL},
    {HS_EXT_CLIENT_CERTIFICATE_TYPE, PETREL_ERR_ARG, NULL},
    {HS_EXT_SERVER_CERTIFICATE_TYPE, PETREL_ERR_ARG, NULL},
    {EXT_MAX_FRAGMENT_LENGTH, PETREL_ERR_UNSUPPORTED,
     "a server that accepts it expects records petrel does not limit"},
    {EXT_STATUS_REQUEST, PETREL_ERR_UNSUPPORTED,
     "a server that accepts it sends CertificateStatus, which petrel does not read"},
    {HS_EXT_SESSION_TICKET, PETREL_ERR_UNSUPPORTED,
     "a server that accepts it sends NewSessionTicket, which petrel does not read"},
    {EXT_PRE_SHARED_KEY, PETREL_ERR_UNSUPPORTED, TLS13_ONLY},
    {EXT_EARLY_DATA, PETREL_ERR_UNSUPPORTED, TLS13_ONLY},
    {EXT_SUPPORTED_VERSIONS, PETREL_ERR_UNSUPPORTED, TLS13_ONLY},
    {EXT_COOKIE, PETREL_ERR_UNSUPPORTED, TLS13_ONLY},
    {EXT_PSK_KEY_EXCHANGE_MODES, PETREL_ERR_UNSUPPORTED, TLS13_ONLY},
    {EXT_KEY_SHARE, PETREL_ERR_UNSUPPORTED, TLS13_ONLY},
};

/* Whether the application added extension `type` (hs->app_ext). */
static bool app_extension_added(const hs_ctx *hs, uint16_t type)
{
    cursor_reader r = cursor_reader_init(hs->app_ext, hs->app_ext_len);
    while (cursor_reader_remaining(&r) > 0) {
        uint16_t t;
        cursor_reader body;
        if (cursor_read_u16(&r, &t) < 0 || cursor_read_vector(&r, 2, 0, 0xFFFF, &body) < 0)
            return false; /* not reached: conn/ wrote whole extensions */
        if (t == type)
            return true;
    }
    return false;
}

int hs_client_check_app_extension(const hs_ctx *hs, uint16_t type, size_t len)
{
    for (size_t i = 0; i < sizeof(refused_extensions) / sizeof(refused_extensions[0]); i++) {
        const struct refused_extension *x = &refused_extensions[i];
        if (x->type != type)
            continue;
        if (x->why)
            platform_log(hs->platform, PETREL_LOG_WARNING, "client: hello extension %u refused: %s",
                         type, x->why);
        else
            platform_log(hs->platform, PETREL_LOG_WARNING,
                         "client: hello extension %u refused: petrel writes extension %u itself",
                         type, type);
        return x->error;
    }
    if (app_extension_added(hs, type)) {
        platform_log(hs->platform, PETREL_LOG_WARNING,
                     "client: hello extension %u refused: it was added already", type);
        return PETREL_ERR_ARG;
    }
    if (len > HS_APP_EXT_MAX || hs->app_ext_len + 4 + len > HS_APP_EXT_MAX) {
        platform_log(hs->platform, PETREL_LOG_WARNING,
                     "client: hello extension %u refused: the added extensions would pass %u "
                     "bytes",
                     type, (unsigned)HS_APP_EXT_MAX);
        return PETREL_ERR_LIMIT;
    }
    return 0;
}

/* The most petrel's own ClientHello extensions take (a 255-byte server
 * name, every signature scheme, the groups, the certificate types). */
#define OWN_EXTENSIONS_MAX 768
/* The ClientHello body: the fixed fields (a full cookie, every suite) and
 * both sets of extensions. */
#define CLIENT_HELLO_MAX (HS_SCRATCH_LEN + HS_APP_EXT_MAX)
_Static_assert(2 + HS_RANDOM_LEN + 1 + 1 + HS_COOKIE_MAX + 2 + 2 * HS_MAX_SUITES + 2 + 2 +
                       OWN_EXTENSIONS_MAX + HS_APP_EXT_MAX <=
                   CLIENT_HELLO_MAX,
               "the largest ClientHello fits its buffer");

/* petrel's own server_name (RFC 6066 §3): a DNS name, when certificate
 * suites are offered and the application sends no server_name of its
 * own. */
static bool sends_server_name(const hs_ctx *hs)
{
    return offers(hs, kx_is_certificate) && hs->server_name[0] && !is_ip_literal(hs->server_name) &&
           !app_extension_added(hs, HS_EXT_SERVER_NAME);
}

/* Not reached with the sizes above; a limit rather than an overflow. */
static int too_long_hello(const hs_ctx *hs)
{
    platform_log(hs->platform, PETREL_LOG_WARNING, "client: the ClientHello passes %u bytes",
                 (unsigned)CLIENT_HELLO_MAX);
    return PETREL_ERR_LIMIT;
}

/* RFC 5246 §7.4.1.2, RFC 6347 §4.2.1: the same ClientHello each time, with
 * the server's cookie once it sent one. */
static int send_client_hello(hs_ctx *hs)
{
    const hs_config *cfg = hs->cfg;
    uint8_t suites[2 * HS_MAX_SUITES];
    size_t suite_count = 0;
    uint8_t ext[OWN_EXTENSIONS_MAX + HS_APP_EXT_MAX];
    uint8_t body[CLIENT_HELLO_MAX];
    static const uint8_t null_compression = 0;

    for (size_t i = 0; i < hs->suite_count; i++) {
        if (!usable_suite(hs, hs_suite_find(hs->suites[i])))
            continue;
        suites[2 * suite_count] = (uint8_t)(hs->suites[i] >> 8);
        suites[2 * suite_count + 1] = (uint8_t)hs->suites[i];
        suite_count++;
    }
    /* RFC 5746 §3.4: an empty renegotiation_info on the initial hello;
     * RFC 7627 §5.1: extended_master_secret; RFC 8422 §5.1: the groups and
     * point formats when ECDHE suites are offered; RFC 5246 §7.4.1.4.1:
     * signature_algorithms with certificate suites; RFC 6066 §3: the
     * server's name, unless the application sends its own; RFC 7250
     * §4.1: the certificate types. Then the application's extensions. */
    cursor_writer ew = cursor_writer_init(ext, sizeof(ext));
    if (hs->renegotiating) /* RFC 5746 §3.5: the last handshake's client Finished */
        PETREL_TRY(
            hs_ext_write_renegotiation_info(&ew, hs->client_verify_data, HS_VERIFY_DATA_LEN));
    else
        PETREL_TRY(hs_ext_write_renegotiation_info(&ew, NULL, 0));
    PETREL_TRY(hs_ext_write_empty(&ew, HS_EXT_EXTENDED_MASTER_SECRET));
    if (offers(hs, hs_kx_is_ecdhe)) {
        PETREL_TRY(
            hs_ext_write_u16_list(&ew, HS_EXT_SUPPORTED_GROUPS, cfg->groups, cfg->group_count));
        PETREL_TRY(hs_ext_write_ec_point_formats(&ew));
    }
    if (offers(hs, kx_is_certificate)) {
        PETREL_TRY(hs_ext_write_u16_list(&ew, HS_EXT_SIGNATURE_ALGORITHMS, hs_sig_schemes,
                                         hs_sig_scheme_count));
        if (sends_server_name(hs))
            PETREL_TRY(hs_ext_write_server_name(&ew, hs->server_name, strlen(hs->server_name)));
        if (cfg->raw_public_keys) {
            uint8_t types[2];
            size_t n = client_cert_types(cfg, types);
            if (n)
                PETREL_TRY(
                    hs_ext_write_cert_types(&ew, HS_EXT_CLIENT_CERTIFICATE_TYPE, types, n, false));
            n = server_cert_types(hs, types);
            PETREL_TRY(
                hs_ext_write_cert_types(&ew, HS_EXT_SERVER_CERTIFICATE_TYPE, types, n, false));
        }
    }
    if (hs->app_ext_len && cursor_write_bytes(&ew, hs->app_ext, hs->app_ext_len) < 0)
        return too_long_hello(hs);

    hs_client_hello ch;
    memset(&ch, 0, sizeof(ch));
    ch.version = hs->version;
    memcpy(ch.random, hs->client_random, HS_RANDOM_LEN);
    ch.cookie = hs->cookie_len ? hs->cookie : NULL;
    ch.cookie_len = hs->cookie_len;
    ch.cipher_suites.data = suites;
    ch.cipher_suites.count = suite_count;
    ch.compression_methods = &null_compression;
    ch.compression_methods_len = 1;
    ch.extensions_raw = ext;
    ch.extensions_raw_len = ew.len;
    ch.has_extensions_block = true;

    cursor_writer w = cursor_writer_init(body, sizeof(body));
    int rc = hs_client_hello_write(&w, &ch, hs->datagram);
    if (rc == PETREL_ERR_BUFFER_TOO_SMALL)
        return too_long_hello(hs);
    PETREL_TRY(rc);
    PETREL_TRY(hs_send(hs, HS_CLIENT_HELLO, body, w.len));
    return hs->ops->flight_done(hs->rl, HS_FLIGHT_EXPECT_REPLY);
}

int hs_start(hs_ctx *hs)
{
    if (hs->is_server || hs->state != HS_CLIENT_START)
        return PETREL_ERR_STATE;
    if (hs->cfg->own_chain_count && !hs->cfg->own_key) {
        platform_log(hs->platform, PETREL_LOG_ERROR,
                     "client: a certificate chain is loaded without its private key "
                     "(petrel_config_load_key_*)");
        return PETREL_ERR_NO_CREDENTIALS;
    }
    bool any = false;
    for (size_t i = 0; i < hs->suite_count; i++)
        any = any || usable_suite(hs, hs_suite_find(hs->suites[i]));
    if (!any) {
        platform_log(hs->platform, PETREL_LOG_ERROR,
                     "client: no credentials for any configured suite: set a PSK "
                     "(petrel_config_set_psk) or CAs (petrel_config_load_ca_*)");
        return PETREL_ERR_NO_CREDENTIALS;
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

/* Shows the application every ServerHello extension, in order, once
 * petrel has accepted the ServerHello (the suite is already set, for the
 * callback's queries). */
static int report_server_extensions(hs_ctx *hs, const hs_extensions *exts)
{
    if (!hs->hello_ext_callback)
        return 0;
    for (size_t i = 0; i < exts->count; i++) {
        const hs_extension *e = &exts->list[i];
        int verdict =
            hs->hello_ext_callback(hs->hello_ext_callback_ref, hs->conn, e->type, e->data, e->len);
        if (verdict < 0) {
            platform_log(hs->platform, PETREL_LOG_WARNING,
                         "client: the hello extension callback refused extension %u", e->type);
            return PETREL_ERR_HANDSHAKE_FAILURE;
        }
    }
    return 0;
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
    if (!suite || !offered_suite(hs, sh.cipher_suite))
        return PETREL_ERR_ILLEGAL_PARAMETER;

    /* RFC 5246 §7.4.1.4: only extensions the client offered may come back. */
    const hs_config *cfg = hs->cfg;
    bool cert_offered = offers(hs, kx_is_certificate);
    hs->server_cert_type = HS_CERT_TYPE_X509;
    hs->client_cert_type = HS_CERT_TYPE_X509;
    for (size_t i = 0; i < sh.extensions.count; i++) {
        const hs_extension *e = &sh.extensions.list[i];
        uint8_t types[2];
        bool offered = false;
        /* The application's own: its callback judges the answer. */
        if (app_extension_added(hs, e->type))
            continue;
        switch (e->type) {
        case HS_EXT_RENEGOTIATION_INFO:
        case HS_EXT_EXTENDED_MASTER_SECRET:
            offered = true;
            break;
        case HS_EXT_EC_POINT_FORMATS:
            offered = offers(hs, hs_kx_is_ecdhe);
            break;
        case HS_EXT_SERVER_NAME: /* RFC 6066 §3: empty in a ServerHello */
            offered = sends_server_name(hs);
            if (offered)
                PETREL_TRY(hs_ext_read_empty(e));
            break;
        case HS_EXT_SERVER_CERTIFICATE_TYPE: /* RFC 7250 §4.2: one of ours */
            offered = cert_offered && cfg->raw_public_keys;
            if (offered) {
                PETREL_TRY(hs_ext_read_cert_type(e, &hs->server_cert_type));
                if (!memchr(types, hs->server_cert_type, server_cert_types(hs, types)))
                    return PETREL_ERR_ILLEGAL_PARAMETER;
            }
            break;
        case HS_EXT_CLIENT_CERTIFICATE_TYPE:
            offered = cert_offered && cfg->raw_public_keys && client_cert_types(cfg, types);
            if (offered) {
                PETREL_TRY(hs_ext_read_cert_type(e, &hs->client_cert_type));
                if (!memchr(types, hs->client_cert_type, client_cert_types(cfg, types)))
                    return PETREL_ERR_ILLEGAL_PARAMETER;
            }
            break;
        default:
            break;
        }
        if (!offered)
            return PETREL_ERR_UNSUPPORTED_EXTENSION;
    }
    /* Without the extension the server uses X.509 (RFC 7250 §4.2), which
     * this client may not have offered. */
    if (cfg->raw_public_keys && cert_offered && !hs_kx_is_psk(suite->kx) &&
        hs->server_cert_type == HS_CERT_TYPE_X509) {
        uint8_t types[2];
        if (!memchr(types, HS_CERT_TYPE_X509, server_cert_types(hs, types)))
            return PETREL_ERR_UNSUPPORTED_CERTIFICATE;
    }
    if (hs->renegotiating) {
        /* RFC 5746 §3.5: both Finished of the last handshake, client's
         * first; anything else is an attack or a broken server. */
        const uint8_t *ri = sh.extensions.renegotiation_info;
        const crypto_provider *prov = hs->cfg->prov;
        if (!sh.extensions.has_renegotiation_info ||
            sh.extensions.renegotiation_info_len != 2 * HS_VERIFY_DATA_LEN ||
            !prov->ct_equal(ri, hs->client_verify_data, HS_VERIFY_DATA_LEN) ||
            !prov->ct_equal(ri + HS_VERIFY_DATA_LEN, hs->server_verify_data, HS_VERIFY_DATA_LEN)) {
            platform_log(hs->platform, PETREL_LOG_WARNING,
                         "client: renegotiation: the ServerHello's renegotiation_info does not "
                         "match the last handshake (RFC 5746 §3.5)");
            return PETREL_ERR_HANDSHAKE_FAILURE;
        }
    } else if (sh.extensions.has_renegotiation_info && sh.extensions.renegotiation_info_len != 0) {
        /* RFC 5746 §3.4: on the initial handshake the server's
         * renegotiated_connection must be empty. */
        return PETREL_ERR_HANDSHAKE_FAILURE;
    }
    hs->secure_renegotiation = sh.extensions.has_renegotiation_info;
    hs->extended_master_secret = sh.extensions.has_extended_master_secret;

    memcpy(hs->server_random, sh.random, HS_RANDOM_LEN);
    hs->suite = suite;
    hs_transcript_select(hs);
    return report_server_extensions(hs, &sh.extensions);
}

int hs_client_on_certificate(hs_ctx *hs, const uint8_t *body, size_t len)
{
    return hs_receive_certificate(hs, body, len, hs->server_cert_type);
}

/* RFC 8422 §5.4: ECDHE parameters signed with the certificate's key over
 * client_random + server_random + params. */
static int on_signed_key_exchange(hs_ctx *hs, const uint8_t *body, size_t len)
{
    const crypto_provider *prov = hs->cfg->prov;
    cursor_reader r = cursor_reader_init(body, len);
    hs_server_key_exchange_ecdhe ske;
    uint8_t signed_data[2 * HS_RANDOM_LEN + 4 + CRYPTO_KEX_MAX_PUBLIC_LEN];
    PETREL_TRY(hs_server_key_exchange_ecdhe_read(&r, &ske));
    const crypto_kex_alg *kex = prov->kex(ske.group);
    if (!kex || !offered_group(hs->cfg, ske.group) || ske.public_key_len != kex->public_len ||
        ske.params_len > sizeof(signed_data) - 2 * HS_RANDOM_LEN)
        return PETREL_ERR_ILLEGAL_PARAMETER;
    /* RFC 5246 §7.4.3: a scheme the client offered, fitting the key. */
    if (!hs_sig_scheme_fits(prov, hs->peer_key, ske.sig_scheme))
        return PETREL_ERR_ILLEGAL_PARAMETER;
    memcpy(signed_data, hs->client_random, HS_RANDOM_LEN);
    memcpy(signed_data + HS_RANDOM_LEN, hs->server_random, HS_RANDOM_LEN);
    memcpy(signed_data + 2 * HS_RANDOM_LEN, ske.params, ske.params_len);
    int rc = prov->verify(hs->peer_key, (crypto_sig_scheme)ske.sig_scheme, signed_data,
                          2 * HS_RANDOM_LEN + ske.params_len, ske.signature, ske.signature_len);
    if (rc < 0) {
        platform_log(hs->platform, PETREL_LOG_WARNING,
                     "client: ServerKeyExchange signature does not verify");
        return rc == PETREL_ERR_KEY_MISMATCH ? PETREL_ERR_ILLEGAL_PARAMETER : rc;
    }
    hs->group = ske.group;
    memcpy(hs->peer_public, ske.public_key, ske.public_key_len);
    hs->peer_public_len = ske.public_key_len;
    hs->have_server_key_exchange = true;
    return 0;
}

int hs_client_on_server_key_exchange(hs_ctx *hs, const uint8_t *body, size_t len)
{
    if (!hs_kx_is_psk(hs->suite->kx))
        return on_signed_key_exchange(hs, body, len);
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

int hs_client_on_certificate_request(hs_ctx *hs, const uint8_t *body, size_t len)
{
    cursor_reader r = cursor_reader_init(body, len);
    hs_certificate_request cr;
    PETREL_TRY(hs_certificate_request_read(&r, &cr));
    hs->cr_sig_scheme_count = hs_keep_sig_schemes(&cr.sig_schemes, hs->cr_sig_schemes);
    hs->cert_requested = true;
    /* RFC 5246 §7.4.6 / RFC 8422 §5.5: the client's certificate must be of
     * a type the server listed; otherwise it sends none. */
    const hs_config *cfg = hs->cfg;
    if (cfg->own_key) {
        uint8_t wanted = cfg->prov->pkey_type(cfg->own_key) == CRYPTO_KEY_RSA
                             ? HS_CLIENT_CERT_RSA_SIGN
                             : HS_CLIENT_CERT_ECDSA_SIGN;
        hs->cr_key_type_ok = memchr(cr.cert_types, wanted, cr.cert_types_len) != NULL;
    }
    return 0;
}

/* The PSK suites' ClientKeyExchange: the identity, and for ECDHE_PSK the
 * client's share. */
static int send_psk_key_exchange(hs_ctx *hs, uint8_t *shared, size_t *shared_len)
{
    uint8_t cke_body[2 + HS_PSK_IDENTITY_STORE_MAX + 1 + CRYPTO_KEX_MAX_PUBLIC_LEN];
    uint8_t own_public[CRYPTO_KEX_MAX_PUBLIC_LEN];
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
        *shared_len = kex->secret_len;
        cke.ecdhe = true;
        cke.public_key = own_public;
        cke.public_key_len = kex->public_len;
    }
    cursor_writer w = cursor_writer_init(cke_body, sizeof(cke_body));
    PETREL_TRY(hs_client_key_exchange_psk_write(&w, &cke));
    return hs_send(hs, HS_CLIENT_KEY_EXCHANGE, cke_body, w.len);
}

/* The certificate suites' ClientKeyExchange: the client's ECDH share. */
static int send_ecdhe_key_exchange(hs_ctx *hs, uint8_t *shared, size_t *shared_len)
{
    uint8_t own_public[CRYPTO_KEX_MAX_PUBLIC_LEN];
    uint8_t cke_body[1 + CRYPTO_KEX_MAX_PUBLIC_LEN];
    const crypto_kex_alg *kex = hs->cfg->prov->kex(hs->group);
    PETREL_TRY(kex->generate(kex, hs->platform->rng, hs->platform->rng_ref, &hs->kex_key));
    PETREL_TRY(kex->public_key(hs->kex_key, own_public));
    PETREL_TRY(kex->derive(hs->kex_key, hs->peer_public, hs->peer_public_len, shared));
    *shared_len = kex->secret_len;
    cursor_writer w = cursor_writer_init(cke_body, sizeof(cke_body));
    PETREL_TRY(hs_client_key_exchange_ecdhe_write(&w, own_public, kex->public_len));
    return hs_send(hs, HS_CLIENT_KEY_EXCHANGE, cke_body, w.len);
}

/* RFC 5246 §7.4.8: a signature over every handshake message so far, with
 * a scheme from the server's CertificateRequest. */
static int send_certificate_verify(hs_ctx *hs)
{
    const crypto_provider *prov = hs->cfg->prov;
    uint16_t scheme = hs_choose_sig_scheme(prov, hs->cfg->own_key, hs->cr_sig_schemes,
                                           hs->cr_sig_scheme_count, true);
    if (!scheme) {
        platform_log(hs->platform, PETREL_LOG_WARNING,
                     "client: no signature scheme in common for CertificateVerify");
        return PETREL_ERR_HANDSHAKE_FAILURE;
    }
    uint8_t hash[CRYPTO_HASH_MAX_LEN];
    size_t hash_len;
    uint8_t sig[CRYPTO_SIG_MAX_LEN];
    size_t sig_len;
    uint8_t body[4 + CRYPTO_SIG_MAX_LEN];
    PETREL_TRY(hs_transcript_hash_with(hs, hs_sig_scheme_hash(scheme), hash, &hash_len));
    PETREL_TRY(prov->sign_digest(hs->cfg->own_key, (crypto_sig_scheme)scheme, hash, hash_len, sig,
                                 sizeof(sig), &sig_len));
    hs_certificate_verify cv = {.sig_scheme = scheme, .signature = sig, .signature_len = sig_len};
    cursor_writer w = cursor_writer_init(body, sizeof(body));
    PETREL_TRY(hs_certificate_verify_write(&w, &cv));
    return hs_send(hs, HS_CERTIFICATE_VERIFY, body, w.len);
}

int hs_client_on_server_hello_done(hs_ctx *hs, const uint8_t *body, size_t len)
{
    cursor_reader r = cursor_reader_init(body, len);
    uint8_t shared[CRYPTO_KEX_MAX_SECRET_LEN];
    size_t shared_len = 0;
    bool sent_key = false;
    PETREL_TRY(hs_server_hello_done_read(&r));

    /* RFC 5246 §7.4.6: answer a CertificateRequest with a Certificate,
     * empty when the client has none of the kind asked for. */
    int rc = 0;
    if (hs->cert_requested)
        rc = hs_send_certificate(hs, hs->client_cert_type, &sent_key);
    if (rc == 0)
        rc = hs_kx_is_psk(hs->suite->kx) ? send_psk_key_exchange(hs, shared, &shared_len)
                                         : send_ecdhe_key_exchange(hs, shared, &shared_len);
    if (rc == 0)
        rc = hs_derive_keys(hs, shared_len ? shared : NULL, shared_len);
    petrel_wipe(shared, sizeof(shared));
    PETREL_TRY(rc);
    if (sent_key)
        PETREL_TRY(send_certificate_verify(hs));
    return hs_send_ccs_and_finished(hs, HS_FLIGHT_EXPECT_REPLY);
}

int hs_client_on_finished(hs_ctx *hs, const uint8_t *body, size_t len)
{
    PETREL_TRY(hs_check_finished(hs, body, len));
    hs_handshake_done(hs);
    return 0;
}
