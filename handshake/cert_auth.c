/*
 * Certificate authentication shared by client and server: signature
 * scheme choice, sending this side's Certificate, and receiving the
 * peer's: keeping its chain, checking it as the verify mode asks (the
 * crypto provider does the path validation), and the application's
 * callback, which has the last word.
 */
#include <string.h>

#include "handshake/handshake_internal.h"

/* RFC 8446 §4.2.3 code points, used as TLS 1.2 SignatureAndHashAlgorithm
 * (RFC 5246 §7.4.1.4.1; RFC 8446 §4.2.3 and RFC 8422 give the TLS 1.2
 * meaning of the PSS and ECDSA ones). SHA-1 and MD5 schemes are not
 * offered or accepted. */
const uint16_t hs_sig_schemes[] = {
    CRYPTO_SIG_ECDSA_SECP256R1_SHA256, CRYPTO_SIG_ECDSA_SECP384R1_SHA384,
    CRYPTO_SIG_RSA_PSS_RSAE_SHA256,    CRYPTO_SIG_RSA_PSS_RSAE_SHA384,
    CRYPTO_SIG_RSA_PKCS1_SHA256,       CRYPTO_SIG_RSA_PKCS1_SHA384,
};
const size_t hs_sig_scheme_count = sizeof(hs_sig_schemes) / sizeof(hs_sig_schemes[0]);

/* What each key type prefers to sign with. */
static const uint16_t prefer_p256[] = {CRYPTO_SIG_ECDSA_SECP256R1_SHA256,
                                       CRYPTO_SIG_ECDSA_SECP384R1_SHA384};
static const uint16_t prefer_p384[] = {CRYPTO_SIG_ECDSA_SECP384R1_SHA384,
                                       CRYPTO_SIG_ECDSA_SECP256R1_SHA256};
static const uint16_t prefer_rsa[] = {CRYPTO_SIG_RSA_PSS_RSAE_SHA256,
                                      CRYPTO_SIG_RSA_PSS_RSAE_SHA384, CRYPTO_SIG_RSA_PKCS1_SHA256,
                                      CRYPTO_SIG_RSA_PKCS1_SHA384};

petrel_verify_mode hs_verify_mode(const hs_ctx *hs)
{
    if (hs->conn_verify_set)
        return hs->conn_verify;
    if (hs->cfg->verify_mode_set)
        return hs->cfg->verify_mode;
    return hs->is_server ? PETREL_VERIFY_NONE : PETREL_VERIFY_REQUIRE;
}

static bool is_ecdsa(uint16_t scheme)
{
    return scheme == CRYPTO_SIG_ECDSA_SECP256R1_SHA256 ||
           scheme == CRYPTO_SIG_ECDSA_SECP384R1_SHA384;
}

static bool known_scheme(uint16_t scheme)
{
    for (size_t i = 0; i < hs_sig_scheme_count; i++) {
        if (hs_sig_schemes[i] == scheme)
            return true;
    }
    return false;
}

bool hs_sig_scheme_fits(const crypto_provider *prov, const crypto_pkey *key, uint16_t scheme)
{
    if (!known_scheme(scheme))
        return false;
    bool rsa = prov->pkey_type(key) == CRYPTO_KEY_RSA;
    return rsa != is_ecdsa(scheme);
}

crypto_hash_id hs_sig_scheme_hash(uint16_t scheme)
{
    switch (scheme) {
    case CRYPTO_SIG_ECDSA_SECP384R1_SHA384:
    case CRYPTO_SIG_RSA_PSS_RSAE_SHA384:
    case CRYPTO_SIG_RSA_PKCS1_SHA384:
        return CRYPTO_HASH_SHA384;
    default:
        return CRYPTO_HASH_SHA256;
    }
}

uint16_t hs_choose_sig_scheme(const crypto_provider *prov, const crypto_pkey *key,
                              const uint16_t *peer, size_t peer_count, bool peer_sent)
{
    const uint16_t *mine;
    size_t n;
    switch (prov->pkey_type(key)) {
    case CRYPTO_KEY_EC_P256:
        mine = prefer_p256;
        n = sizeof(prefer_p256) / sizeof(prefer_p256[0]);
        break;
    case CRYPTO_KEY_EC_P384:
        mine = prefer_p384;
        n = sizeof(prefer_p384) / sizeof(prefer_p384[0]);
        break;
    default:
        mine = prefer_rsa;
        n = sizeof(prefer_rsa) / sizeof(prefer_rsa[0]);
        break;
    }
    /* RFC 5246 §7.4.1.4.1: a peer that sends no list accepts SHA-1 only,
     * which petrel refuses to sign with; every TLS 1.2 stack sends a list,
     * so SHA-256 is the pragmatic answer for the rest. */
    if (!peer_sent)
        return mine[prov->pkey_type(key) == CRYPTO_KEY_RSA ? 2 : 0];
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < peer_count; j++) {
            if (peer[j] == mine[i])
                return mine[i];
        }
    }
    return 0;
}

size_t hs_keep_sig_schemes(const hs_u16_list *list, uint16_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < list->count && n < HS_MAX_SIG_SCHEMES; i++) {
        uint16_t scheme = hs_u16_list_get(list, i);
        if (known_scheme(scheme))
            out[n++] = scheme;
    }
    return n;
}

/* ---- this side's Certificate ---- */

int hs_send_certificate(hs_ctx *hs, uint8_t type, bool *sent)
{
    const hs_config *cfg = hs->cfg;
    hs_certificate m;
    memset(&m, 0, sizeof(m));
    uint8_t spki[HS_SCRATCH_LEN];
    size_t spki_len = 0;
    size_t total = 3;
    *sent = false;
    /* A client whose key is of a kind the server did not list sends an
     * empty list (RFC 5246 §7.4.6). */
    bool usable = hs->is_server || hs->cr_key_type_ok;
    if (!usable) {
        platform_log(hs->platform, PETREL_LOG_INFO,
                     "client: the server asks for a certificate of another key type");
    } else if (type == HS_CERT_TYPE_RAW_PUBLIC_KEY) {
        if (!cfg->own_key)
            return PETREL_ERR_INTERNAL; /* never negotiated without a key */
        PETREL_TRY(cfg->prov->pkey_spki(cfg->own_key, spki, sizeof(spki), &spki_len));
        m.raw_public_key = true;
        m.certs[0] = spki;
        m.lens[0] = spki_len;
        m.count = 1;
        total += spki_len;
        *sent = true;
    } else if (cfg->own_chain_count && cfg->own_key) {
        for (size_t i = 0; i < cfg->own_chain_count; i++) {
            m.certs[i] = cfg->own_chain[i];
            m.lens[i] = cfg->own_chain_lens[i];
            total += 3 + m.lens[i];
        }
        m.count = cfg->own_chain_count;
        *sent = true;
    }
    /* else an empty certificate_list: a client without a certificate
     * (RFC 5246 §7.4.6). */
    uint8_t *body = platform_alloc(hs->platform, total);
    if (!body)
        return PETREL_ERR_NOMEM;
    cursor_writer w = cursor_writer_init(body, total);
    int rc = hs_certificate_write(&w, &m);
    if (rc == 0)
        rc = hs_send(hs, HS_CERTIFICATE, body, w.len);
    platform_free(hs->platform, body);
    return rc;
}

/* ---- the peer's Certificate ---- */

/* Copies the peer's certificates, so they outlive the message. */
static int keep_chain(hs_ctx *hs, const hs_certificate *m)
{
    size_t total = 0;
    for (size_t i = 0; i < m->count; i++)
        total += m->lens[i];
    uint8_t *buf = platform_alloc(hs->platform, total ? total : 1);
    if (!buf)
        return PETREL_ERR_NOMEM;
    size_t off = 0;
    for (size_t i = 0; i < m->count; i++) {
        hs->peer_chain_offsets[i] = off;
        memcpy(buf + off, m->certs[i], m->lens[i]);
        off += m->lens[i];
    }
    hs->peer_chain_offsets[m->count] = off;
    platform_free(hs->platform, hs->peer_chain_der);
    hs->peer_chain_der = buf;
    hs->peer_chain_count = m->count;
    return 0;
}

static const uint8_t *peer_cert(const hs_ctx *hs, size_t i, size_t *len)
{
    *len = hs->peer_chain_offsets[i + 1] - hs->peer_chain_offsets[i];
    return hs->peer_chain_der + hs->peer_chain_offsets[i];
}

/* The peer's key, and whether it fits the negotiated suite. */
static int load_peer_key(hs_ctx *hs, bool raw)
{
    const crypto_provider *prov = hs->cfg->prov;
    size_t len;
    const uint8_t *der = peer_cert(hs, 0, &len);
    int rc = raw ? prov->pkey_load_public(der, len, &hs->peer_key)
                 : prov->cert_public_key(der, len, &hs->peer_key);
    if (rc == PETREL_ERR_UNSUPPORTED || rc == PETREL_ERR_INSECURE || rc == PETREL_ERR_KEY_PARSE) {
        platform_log(hs->platform, PETREL_LOG_WARNING, "peer certificate: %s key (%s)",
                     rc == PETREL_ERR_INSECURE ? "too weak a" : "unsupported",
                     petrel_error_name(rc));
        return rc == PETREL_ERR_KEY_PARSE ? PETREL_ERR_CERT_PARSE
                                          : PETREL_ERR_UNSUPPORTED_CERTIFICATE;
    }
    PETREL_TRY(rc);
    /* A server's key must be the kind its suite signs with (RFC 8422
     * §5.3); a client's may be either. */
    if (!hs->is_server) {
        bool rsa = prov->pkey_type(hs->peer_key) == CRYPTO_KEY_RSA;
        if (rsa != (hs->suite->kx == HS_KX_ECDHE_RSA))
            return PETREL_ERR_UNSUPPORTED_CERTIFICATE;
    }
    return 0;
}

/* Raw public keys: the key must be one of the pinned ones. */
static int check_pinned(const hs_ctx *hs, petrel_cert_auth *status)
{
    const hs_config *cfg = hs->cfg;
    for (size_t i = 0; i < cfg->pinned_count; i++) {
        if (cfg->prov->pkey_public_equal(cfg->pinned[i], hs->peer_key)) {
            *status = PETREL_CERT_AUTH_PASS;
            return 0;
        }
    }
    *status = PETREL_CERT_AUTH_FAIL_OTHER;
    return PETREL_ERR_RPK_NOT_PINNED;
}

static int check_chain(const hs_ctx *hs, petrel_cert_auth *status)
{
    if (!hs->is_server && !hs->server_name[0])
        platform_log(hs->platform, PETREL_LOG_WARNING,
                     "client: no server name set (petrel_conn_set_server_name): the server's "
                     "certificate is verified but not checked against any name");
    const uint8_t *certs[HS_MAX_CHAIN];
    size_t lens[HS_MAX_CHAIN];
    for (size_t i = 0; i < hs->peer_chain_count; i++)
        certs[i] = peer_cert(hs, i, &lens[i]);
    crypto_verify_params params = {
        .now = platform_time_s(hs->platform),
        .max_depth = hs->cfg->max_depth,
        .host = !hs->is_server && hs->server_name[0] ? hs->server_name : NULL,
        .peer_is_server = !hs->is_server,
    };
    return hs->cfg->prov->verify_chain(hs->cfg->trust, certs, lens, hs->peer_chain_count, &params,
                                       status);
}

/* Hands the chain to the application's callback; returns its verdict. */
static int run_callback(hs_ctx *hs, const petrel_cert_auth *status, bool raw, int result)
{
    const hs_config *cfg = hs->cfg;
    const crypto_provider *prov = cfg->prov;
    petrel_cert_info *infos[HS_MAX_CHAIN] = {NULL};
    petrel_cert_info views[HS_MAX_CHAIN];
    int rc = 0;
    for (size_t i = 0; i < hs->peer_chain_count && rc == 0; i++) {
        size_t len;
        const uint8_t *der = peer_cert(hs, i, &len);
        rc = raw ? prov->spki_info_new(der, len, &infos[i])
                 : prov->cert_info_new(der, len, &infos[i]);
        if (rc == 0) {
            views[i] = *infos[i];
            views[i].auth_status = status[i];
        }
    }
    int verdict = 0;
    if (rc == 0) {
        int alert = result < 0 ? petrel_error_alert(result) : 0;
        verdict =
            hs->cert_callback(hs->cert_callback_ref, hs->conn, views, hs->peer_chain_count, alert);
    }
    for (size_t i = 0; i < hs->peer_chain_count; i++) {
        if (infos[i])
            prov->cert_info_free(infos[i]);
    }
    PETREL_TRY(rc);
    if (verdict == PETREL_CERT_ALLOW_ANON) {
        hs->peer_anonymous = true;
        return 0;
    }
    if (verdict == 0) {
        hs->peer_anonymous = false;
        return 0;
    }
    platform_log(hs->platform, PETREL_LOG_INFO, "certificate callback refused the peer (%d)",
                 verdict);
    if (verdict < 0)
        return PETREL_ERR_INTERNAL;
    hs->alert = verdict <= 255 ? verdict : 0;
    return PETREL_ERR_CERT_REJECTED;
}

int hs_receive_certificate(hs_ctx *hs, const uint8_t *body, size_t len, uint8_t type)
{
    cursor_reader r = cursor_reader_init(body, len);
    hs_certificate m;
    memset(&m, 0, sizeof(m));
    bool raw = type == HS_CERT_TYPE_RAW_PUBLIC_KEY;
    m.raw_public_key = raw;
    int rc = hs_certificate_read(&r, &m);
    if (rc == PETREL_ERR_LIMIT) {
        platform_log(hs->platform, PETREL_LOG_WARNING,
                     "peer certificate chain longer than %d certificates", HS_MAX_CHAIN);
        return PETREL_ERR_BAD_CERTIFICATE;
    }
    PETREL_TRY(rc);
    petrel_verify_mode mode = hs_verify_mode(hs);

    if (m.count == 0) {
        /* Only a client may send an empty list (RFC 5246 §7.4.6). */
        if (!hs->is_server || mode == PETREL_VERIFY_REQUIRE) {
            platform_log(hs->platform, PETREL_LOG_INFO, "peer sent no certificate");
            return PETREL_ERR_NO_CERTIFICATE;
        }
        hs->peer_sent_cert = false;
        hs->peer_anonymous = true;
        return 0;
    }
    PETREL_TRY(keep_chain(hs, &m));
    PETREL_TRY(load_peer_key(hs, raw));
    hs->peer_sent_cert = true;

    petrel_cert_auth status[HS_MAX_CHAIN];
    for (size_t i = 0; i < HS_MAX_CHAIN; i++)
        status[i] = PETREL_CERT_AUTH_UNTESTED;
    int result = 0;
    if (mode != PETREL_VERIFY_NONE)
        result = raw ? check_pinned(hs, &status[0]) : check_chain(hs, status);
    if (result < 0 && petrel_error_class_of(result) != PETREL_ERRCLASS_CRYPTO &&
        result != PETREL_ERR_CERT_PARSE)
        return result; /* a local failure, not a verdict on the peer */

    if (hs->cert_callback)
        return run_callback(hs, status, raw, result);
    if (result < 0) {
        platform_log(hs->platform, PETREL_LOG_WARNING, "peer certificate refused: %s",
                     petrel_strerror(result));
        return result;
    }
    hs->peer_anonymous = mode == PETREL_VERIFY_NONE;
    return 0;
}
