/* The server side of the TLS 1.2 / DTLS 1.2 handshake (PSK, ECDHE_PSK,
 * ECDHE with certificates or raw public keys). The DTLS cookie
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

/* RFC 7250 §4.2: the certificate types, from the client's offers (absent:
 * X.509 only). Raw keys win when both sides have them enabled. Returns 1
 * with *out chosen, 0 when there is no type in common, or a decode error
 * for a list that does not parse. */
static int choose_cert_type(const hs_ctx *hs, const hs_extensions *ext, uint16_t type,
                            bool have_x509, bool have_raw, uint8_t *out, bool *echo)
{
    const hs_extension *e = hs_extensions_find(ext, type);
    *out = HS_CERT_TYPE_X509;
    *echo = false;
    if (!e)
        return 1; /* X.509 implied; whether the server has a chain is the suites' business */
    const uint8_t *types;
    size_t count;
    /* Malformed is decode_error even when the server would ignore it. */
    PETREL_TRY(hs_ext_read_cert_type_list(e, &types, &count));
    if (!hs->cfg->raw_public_keys)
        return 1; /* ignoring the extension means X.509 */
    *echo = true;
    if (have_raw && memchr(types, HS_CERT_TYPE_RAW_PUBLIC_KEY, count)) {
        *out = HS_CERT_TYPE_RAW_PUBLIC_KEY;
        return 1;
    }
    return have_x509 && memchr(types, HS_CERT_TYPE_X509, count) ? 1 : 0;
}

/* The server can authenticate itself with a suite of this kind. */
static bool has_certificate_for(const hs_ctx *hs, hs_key_exchange kx)
{
    const hs_config *cfg = hs->cfg;
    if (!cfg->own_key)
        return false;
    if (hs->server_cert_type == HS_CERT_TYPE_X509 && cfg->own_chain_count == 0)
        return false;
    bool rsa = cfg->prov->pkey_type(cfg->own_key) == CRYPTO_KEY_RSA;
    if (rsa != (kx == HS_KX_ECDHE_RSA))
        return false;
    return hs_choose_sig_scheme(cfg->prov, cfg->own_key, hs->peer_sig_schemes,
                                hs->peer_sig_scheme_count, hs->peer_sent_sig_schemes) != 0;
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
static const hs_suite *choose_suite(hs_ctx *hs, const hs_client_hello *ch, bool certificates)
{
    for (size_t i = 0; i < hs->suite_count; i++) {
        const hs_suite *s = hs_suite_find(hs->suites[i]);
        if (!s || !hs_u16_list_contains(&ch->cipher_suites, s->id))
            continue;
        if (hs_kx_is_psk(s->kx) ? !has_psk_source(hs->cfg)
                                : !certificates || !has_certificate_for(hs, s->kx))
            continue;
        if (hs_kx_is_ecdhe(s->kx)) {
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
    uint8_t ext[96];
    uint8_t body[HS_SCRATCH_LEN];
    cursor_writer ew = cursor_writer_init(ext, sizeof(ext));
    if (hs->renegotiating) {
        /* RFC 5746 §3.7: both Finished of the last handshake. */
        uint8_t both[2 * HS_VERIFY_DATA_LEN];
        memcpy(both, hs->client_verify_data, HS_VERIFY_DATA_LEN);
        memcpy(both + HS_VERIFY_DATA_LEN, hs->server_verify_data, HS_VERIFY_DATA_LEN);
        PETREL_TRY(hs_ext_write_renegotiation_info(&ew, both, sizeof(both)));
    } else if (hs->secure_renegotiation) {
        PETREL_TRY(hs_ext_write_renegotiation_info(&ew, NULL, 0));
    }
    if (hs->extended_master_secret)
        PETREL_TRY(hs_ext_write_empty(&ew, HS_EXT_EXTENDED_MASTER_SECRET));
    if (echo_point_formats)
        PETREL_TRY(hs_ext_write_ec_point_formats(&ew));
    if (!hs_kx_is_psk(hs->suite->kx)) {
        if (hs->echo_server_cert_type)
            PETREL_TRY(hs_ext_write_cert_types(&ew, HS_EXT_SERVER_CERTIFICATE_TYPE,
                                               &hs->server_cert_type, 1, true));
        if (hs->echo_client_cert_type && hs->cert_requested)
            PETREL_TRY(hs_ext_write_cert_types(&ew, HS_EXT_CLIENT_CERTIFICATE_TYPE,
                                               &hs->client_cert_type, 1, true));
    }

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

/* RFC 8422 §5.4: the ephemeral key, signed over both randoms. */
static int send_signed_key_exchange(hs_ctx *hs)
{
    const crypto_provider *prov = hs->cfg->prov;
    const crypto_kex_alg *kex = prov->kex(hs->group);
    uint8_t own_public[CRYPTO_KEX_MAX_PUBLIC_LEN];
    uint8_t signed_data[2 * HS_RANDOM_LEN + 4 + CRYPTO_KEX_MAX_PUBLIC_LEN];
    uint8_t sig[CRYPTO_SIG_MAX_LEN];
    size_t sig_len;
    uint8_t body[4 + CRYPTO_KEX_MAX_PUBLIC_LEN + 4 + CRYPTO_SIG_MAX_LEN];
    uint16_t scheme = hs_choose_sig_scheme(prov, hs->cfg->own_key, hs->peer_sig_schemes,
                                           hs->peer_sig_scheme_count, hs->peer_sent_sig_schemes);
    PETREL_TRY(kex->generate(kex, hs->platform->rng, hs->platform->rng_ref, &hs->kex_key));
    PETREL_TRY(kex->public_key(hs->kex_key, own_public));
    memcpy(signed_data, hs->client_random, HS_RANDOM_LEN);
    memcpy(signed_data + HS_RANDOM_LEN, hs->server_random, HS_RANDOM_LEN);
    cursor_writer pw = cursor_writer_init(signed_data + 2 * HS_RANDOM_LEN,
                                          sizeof(signed_data) - 2 * HS_RANDOM_LEN);
    PETREL_TRY(hs_ecdh_params_write(&pw, hs->group, own_public, kex->public_len));
    PETREL_TRY(prov->sign(hs->cfg->own_key, (crypto_sig_scheme)scheme, signed_data,
                          2 * HS_RANDOM_LEN + pw.len, sig, sizeof(sig), &sig_len));
    hs_server_key_exchange_ecdhe ske = {
        .group = hs->group,
        .public_key = own_public,
        .public_key_len = kex->public_len,
        .sig_scheme = scheme,
        .signature = sig,
        .signature_len = sig_len,
    };
    cursor_writer w = cursor_writer_init(body, sizeof(body));
    PETREL_TRY(hs_server_key_exchange_ecdhe_write(&w, &ske));
    return hs_send(hs, HS_SERVER_KEY_EXCHANGE, body, w.len);
}

/* DistinguishedNames of the trusted CAs (RFC 5246 §7.4.4), as many as fit
 * the list. */
typedef struct dn_list {
    cursor_writer w;
} dn_list;

static int add_dn(void *ref, const uint8_t *der, size_t len)
{
    dn_list *l = ref;
    /* A list that would overflow its u16 length stops growing; the names
     * are a hint to the client, not a requirement. */
    if (hs_distinguished_name_write(&l->w, der, len) < 0)
        return 0;
    return 0;
}

/* RFC 5246 §7.4.4: ask for a client certificate. */
static int send_certificate_request(hs_ctx *hs)
{
    const hs_config *cfg = hs->cfg;
    static const uint8_t types[] = {HS_CLIENT_CERT_ECDSA_SIGN, HS_CLIENT_CERT_RSA_SIGN};
    uint8_t schemes[2 * HS_MAX_SIG_SCHEMES];
    size_t cap = 0xFFFF;
    uint8_t *names = NULL;
    dn_list dns = {cursor_writer_init(NULL, 0)};
    if (cfg->trust && hs->client_cert_type == HS_CERT_TYPE_X509) {
        names = platform_alloc(hs->platform, cap);
        if (!names)
            return PETREL_ERR_NOMEM;
        dns.w = cursor_writer_init(names, cap);
        int rc = cfg->prov->trust_subjects(cfg->trust, add_dn, &dns);
        if (rc < 0) {
            platform_free(hs->platform, names);
            return rc;
        }
    }
    for (size_t i = 0; i < hs_sig_scheme_count; i++) {
        schemes[2 * i] = (uint8_t)(hs_sig_schemes[i] >> 8);
        schemes[2 * i + 1] = (uint8_t)hs_sig_schemes[i];
    }
    hs_certificate_request cr = {
        .cert_types = types,
        .cert_types_len = sizeof(types),
        .sig_schemes = {schemes, hs_sig_scheme_count},
        .authorities = names,
        .authorities_len = dns.w.len,
    };
    size_t body_cap = 16 + sizeof(schemes) + dns.w.len;
    uint8_t *body = platform_alloc(hs->platform, body_cap);
    int rc = body ? 0 : PETREL_ERR_NOMEM;
    cursor_writer w = cursor_writer_init(body, body_cap);
    if (rc == 0)
        rc = hs_certificate_request_write(&w, &cr);
    if (rc == 0)
        rc = hs_send(hs, HS_CERTIFICATE_REQUEST, body, w.len);
    platform_free(hs->platform, body);
    platform_free(hs->platform, names);
    return rc;
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
    if (hs->renegotiating) {
        /* RFC 5746 §3.7: the client's Finished of the last handshake, and
         * no SCSV. */
        if (!ext->has_renegotiation_info || ext->renegotiation_info_len != HS_VERIFY_DATA_LEN ||
            !hs->cfg->prov->ct_equal(ext->renegotiation_info, hs->client_verify_data,
                                     HS_VERIFY_DATA_LEN) ||
            hs_u16_list_contains(&ch.cipher_suites, HS_SCSV_RENEGOTIATION)) {
            platform_log(hs->platform, PETREL_LOG_WARNING,
                         "server: renegotiation: the ClientHello's renegotiation_info does not "
                         "match the last handshake (RFC 5746 §3.7)");
            return PETREL_ERR_HANDSHAKE_FAILURE;
        }
    } else if (ext->has_renegotiation_info && ext->renegotiation_info_len != 0) {
        return PETREL_ERR_HANDSHAKE_FAILURE;
    }
    hs->secure_renegotiation = ext->has_renegotiation_info ||
                               hs_u16_list_contains(&ch.cipher_suites, HS_SCSV_RENEGOTIATION);
    hs->extended_master_secret = ext->has_extended_master_secret;

    if (hs->cfg->own_chain_count && !hs->cfg->own_key)
        platform_log(hs->platform, PETREL_LOG_WARNING,
                     "server: a certificate chain is loaded without its private key: no "
                     "certificate suite can be used");
    /* What certificate suites need to know before one is chosen. */
    if (ext->has_signature_algorithms) {
        hs->peer_sent_sig_schemes = true;
        hs->peer_sig_scheme_count =
            hs_keep_sig_schemes(&ext->signature_algorithms, hs->peer_sig_schemes);
    }
    const hs_extension *sni = hs_extensions_find(ext, HS_EXT_SERVER_NAME);
    if (sni) {
        const uint8_t *name;
        size_t name_len;
        PETREL_TRY(hs_ext_read_server_name(sni, &name, &name_len));
    }
    /* The client's certificate type matters only when the server asks for
     * a certificate (RFC 7250 §4.2). */
    int server_type = choose_cert_type(hs, ext, HS_EXT_SERVER_CERTIFICATE_TYPE,
                                       hs->cfg->own_chain_count > 0, hs->cfg->own_key != NULL,
                                       &hs->server_cert_type, &hs->echo_server_cert_type);
    PETREL_TRY(server_type);
    int client_type = choose_cert_type(hs, ext, HS_EXT_CLIENT_CERTIFICATE_TYPE, true,
                                       hs->cfg->pinned_count > 0 || hs->cert_callback != NULL,
                                       &hs->client_cert_type, &hs->echo_client_cert_type);
    PETREL_TRY(client_type);
    bool cert_types_ok =
        server_type == 1 && (hs_verify_mode(hs) == PETREL_VERIFY_NONE || client_type == 1);

    if (!cert_types_ok) {
        /* Only PSK suites are left: they use no certificate types. */
        hs->server_cert_type = HS_CERT_TYPE_X509;
        hs->echo_server_cert_type = false;
        hs->echo_client_cert_type = false;
    }
    hs->suite = choose_suite(hs, &ch, cert_types_ok);
    if (!hs->suite && !cert_types_ok) {
        platform_log(hs->platform, PETREL_LOG_WARNING,
                     "server: no certificate type in common with the client");
        return PETREL_ERR_UNSUPPORTED_CERTIFICATE;
    }
    if (!hs->suite) {
        platform_log(hs->platform, PETREL_LOG_WARNING,
                     "server: no cipher suite in common with the client (%zu offered)",
                     ch.cipher_suites.count);
        return PETREL_ERR_HANDSHAKE_FAILURE;
    }
    hs_transcript_select(hs);
    PETREL_TRY(platform_random(hs->platform, hs->server_random, HS_RANDOM_LEN));

    bool ecdhe = hs_kx_is_ecdhe(hs->suite->kx);
    bool certificates = !hs_kx_is_psk(hs->suite->kx);
    hs->cert_requested = certificates && hs_verify_mode(hs) != PETREL_VERIFY_NONE;
    /* A client not asked for a certificate stays unauthenticated. */
    hs->peer_anonymous = certificates && !hs->cert_requested;
    PETREL_TRY(send_server_hello(hs, ecdhe && ext->has_ec_point_formats));
    if (certificates) {
        bool sent;
        PETREL_TRY(hs_send_certificate(hs, hs->server_cert_type, &sent));
        PETREL_TRY(send_signed_key_exchange(hs));
        if (hs->cert_requested)
            PETREL_TRY(send_certificate_request(hs));
    } else {
        PETREL_TRY(send_server_key_exchange(hs));
    }
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

int hs_server_on_certificate(hs_ctx *hs, const uint8_t *body, size_t len)
{
    return hs_receive_certificate(hs, body, len, hs->client_cert_type);
}

/* RFC 5246 §7.4.8: the client's signature over the transcript up to (not
 * including) this message, with a scheme from our CertificateRequest. */
int hs_server_on_certificate_verify(hs_ctx *hs, const uint8_t *body, size_t len)
{
    const crypto_provider *prov = hs->cfg->prov;
    cursor_reader r = cursor_reader_init(body, len);
    hs_certificate_verify cv;
    uint8_t hash[CRYPTO_HASH_MAX_LEN];
    size_t hash_len;
    PETREL_TRY(hs_certificate_verify_read(&r, &cv));
    if (!hs_sig_scheme_fits(prov, hs->peer_key, cv.sig_scheme))
        return PETREL_ERR_ILLEGAL_PARAMETER;
    PETREL_TRY(hs_transcript_hash_with(hs, hs_sig_scheme_hash(cv.sig_scheme), hash, &hash_len));
    int rc = prov->verify_digest(hs->peer_key, (crypto_sig_scheme)cv.sig_scheme, hash, hash_len,
                                 cv.signature, cv.signature_len);
    if (rc < 0) {
        platform_log(hs->platform, PETREL_LOG_WARNING,
                     "server: client CertificateVerify does not verify");
        return rc == PETREL_ERR_KEY_MISMATCH ? PETREL_ERR_ILLEGAL_PARAMETER : rc;
    }
    return hs_transcript_add(hs, hs->message, hs->message_len);
}

int hs_server_on_client_key_exchange(hs_ctx *hs, const uint8_t *body, size_t len)
{
    cursor_reader r = cursor_reader_init(body, len);
    uint8_t shared[CRYPTO_KEX_MAX_SECRET_LEN];
    size_t shared_len = 0;
    if (!hs_kx_is_psk(hs->suite->kx)) {
        const uint8_t *peer;
        size_t peer_len;
        PETREL_TRY(hs_client_key_exchange_ecdhe_read(&r, &peer, &peer_len));
        int rc = hs->kex_key->alg->derive(hs->kex_key, peer, peer_len, shared);
        if (rc == 0)
            rc = hs_derive_keys(hs, shared, hs->kex_key->alg->secret_len);
        petrel_wipe(shared, sizeof(shared));
        return rc;
    }
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
    hs_handshake_done(hs);
    return 0;
}
