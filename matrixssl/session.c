/*
 * MatrixSSL 3.2 sessions (ssl_t) and the buffer flow of the seed, with
 * MatrixDTLS's appendix, over one petrel_conn each. The native engine
 * already works in MatrixSSL's shape (get_readbuf / received / processed,
 * get_outdata / sent); what this file adds is MatrixSSL's event
 * vocabulary: when HANDSHAKE_COMPLETE is announced, REQUEST_CLOSE after
 * an alert went out, PS_SUCCESS at the end of a multi-record buffer, the
 * DTLS resend when the application's own timer fires, and the
 * process-wide PMTU and cipher-suite switches.
 */
#include <matrixssl/matrixsslApi.h>

#include <stdatomic.h>
#include <string.h>

#include "common/util.h"
#include "conn/conn_internal.h"
#include "conn/conn_types.h"
#include "handshake/suites.h"
#include "matrixssl/mssl_internal.h"

/* ======================================================================
 * Process-wide settings (matrixSslOpen, matrixDtlsSetPmtu, the global
 * matrixSslSetCipherSuiteEnabledStatus). Atomics: sessions in several
 * threads read them when they are created.
 * ====================================================================== */

static atomic_uint g_config;
static atomic_int g_pmtu = DTLS_PMTU;
/* Bit i: hs_default_suites[i] is disabled for new sessions. */
static atomic_uint g_disabled;

_Static_assert(HS_MAX_SUITES <= 32, "the global disabled set is a 32-bit mask");

int32 matrixSslOpenWithConfig(uint32 config)
{
    atomic_store(&g_config, config);
    return PS_SUCCESS;
}

void matrixSslClose(void)
{
    atomic_store(&g_config, 0);
    atomic_store(&g_pmtu, DTLS_PMTU);
    atomic_store(&g_disabled, 0);
}

/* The index of a suite petrel implements in hs_default_suites, or -1. */
static int suite_index(uint16_t id)
{
    for (size_t i = 0; i < hs_default_suite_count; i++) {
        if (hs_default_suites[i] == id)
            return (int)i;
    }
    return -1;
}

/* ======================================================================
 * The session
 * ====================================================================== */

struct tlsExtension {
    struct tlsExtension *next; /* the list head is a sentinel */
    uint16_t type;
    size_t len;
    uint8_t data[];
};

struct ssl {
    mssl_conn_base base; /* the certificate trampoline's ref */
    const petrel_platform *platform;
    sslKeys_t *keys;
    petrel_conn *conn;
    bool datagram;
    bool server;
    sslCertCb_t cert_cb;
    sslExtCb_t ext_cb;
    sslSessionId_t *session_id;
    void *user;

    /* matrixSslSetCipherSuiteEnabledStatus on this session. */
    uint16_t disabled[SSL_MAX_DISABLED_CIPHERS];
    size_t disabled_count;

    int pmtu;              /* the PMTU last applied to conn */
    bool complete_on_sent; /* this side sends the last flight: announce then */
    bool resend_armed;     /* matrixDtlsGetOutdata returned 0: the next call is a timeout */
    size_t writebuf_cap;   /* matrixSslGetWritebuf gave this much (0: none open) */
    int error;             /* the petrel error that ended the session */
    bool error_announced;  /* its alert was offered with REQUEST_SEND */
    uint8_t alert[2];      /* the alert handed out by RECEIVED_ALERT */
};

static bool out_pending(const ssl_t *s)
{
    const uint8_t *b;
    return petrel_get_outdata(s->conn, &b) > 0;
}

/* Every encoded byte waiting to be sent. */
static size_t out_bytes(const ssl_t *s)
{
    const petrel_conn *c = s->conn;
    return s->datagram ? c->dtls.out_len - c->dtls.out_head : tls_out_pending(&c->tls);
}

/* Open sessions follow matrixDtlsSetPmtu as soon as nothing cut for the
 * old size waits to be sent. */
static void sync_pmtu(ssl_t *s)
{
    int pmtu = atomic_load(&g_pmtu);
    if (s->datagram && pmtu != s->pmtu && petrel_set_pmtu(s->conn, (size_t)pmtu) == 0)
        s->pmtu = pmtu;
}

/* The session failed with err: the first time, and when petrel encoded
 * an alert for the peer, the caller is told to send it
 * (MATRIXSSL_REQUEST_SEND; sending it gives MATRIXSSL_REQUEST_CLOSE);
 * from then on the PS_* code. */
static int32 session_fail(ssl_t *s, int err)
{
    if (!s->error) {
        s->error = err;
        platform_log(s->platform, PETREL_LOG_INFO, "matrixssl session failed: %s (%s)",
                     petrel_strerror(err), petrel_error_name(err));
    }
    if (!s->error_announced && out_pending(s)) {
        s->error_announced = true;
        return MATRIXSSL_REQUEST_SEND;
    }
    s->error_announced = true;
    return mssl_ps_error(s->error);
}

static int session_verify(mssl_conn_base *self, const petrel_cert_info *chain, size_t count,
                          int alert)
{
    ssl_t *s = (ssl_t *)self;
    mssl_certs certs;
    if (mssl_certs_build(&certs, s->platform, chain, count) != PS_SUCCESS)
        return -1; /* internal_error */
    int32 verdict = s->cert_cb(s, certs.head, alert);
    mssl_certs_free(&certs);
    return verdict;
}

static int session_ext(void *ref, petrel_conn *conn, uint16_t type, const uint8_t *data, size_t len)
{
    (void)conn;
    ssl_t *s = ref;
    return s->ext_cb(s, type, (unsigned short)len, (void *)data) < 0 ? -1 : 0;
}

/* The suites a new session may use: petrel's, less the globally disabled
 * and this session's own. Applied only when something is disabled. */
static int apply_suites(ssl_t *s)
{
    unsigned mask = atomic_load(&g_disabled);
    if (!mask && !s->disabled_count)
        return 0;
    uint16_t suites[HS_MAX_SUITES];
    size_t n = 0;
    for (size_t i = 0; i < hs_default_suite_count; i++) {
        bool off = (mask >> i) & 1u;
        for (size_t j = 0; j < s->disabled_count; j++)
            off = off || s->disabled[j] == hs_default_suites[i];
        if (!off)
            suites[n++] = hs_default_suites[i];
    }
    if (n == 0) {
        platform_log(
            s->platform, PETREL_LOG_WARNING,
            "matrixssl: every cipher suite is disabled (matrixSslSetCipherSuiteEnabledStatus)");
        return PETREL_ERR_HANDSHAKE_FAILURE;
    }
    return petrel_conn_set_suites(s->conn, suites, n);
}

static void session_free(ssl_t *s)
{
    petrel_conn_free(s->conn);
    platform_free(s->platform, s);
}

static int32 session_new(ssl_t **out, sslKeys_t *keys, bool server, bool datagram,
                         sslCertCb_t cert_cb)
{
    ssl_t *s = platform_calloc(keys->platform, 1, sizeof(*s));
    if (!s)
        return PS_MEM_FAIL;
    s->platform = keys->platform;
    s->keys = keys;
    s->server = server;
    s->datagram = datagram;
    s->cert_cb = cert_cb;
    s->conn = petrel_conn_new(keys->cfg, server ? PETREL_SERVER : PETREL_CLIENT,
                              datagram ? PETREL_DATAGRAM : PETREL_STREAM, NULL, 0);
    if (!s->conn) {
        platform_free(s->platform, s);
        return PS_MEM_FAIL;
    }
    petrel_conn_set_app_data(s->conn, s);
    int rc = 0;
    if (datagram) {
        s->pmtu = atomic_load(&g_pmtu);
        rc = petrel_set_pmtu(s->conn, (size_t)s->pmtu);
        if (rc == 0 && (atomic_load(&g_config) & MATRIXSSL_CONFIG_RECORDS_INDIVIDUALLY))
            rc = petrel_set_message_per_datagram(s->conn, true);
    }
    if (rc == 0)
        rc = apply_suites(s);
    if (rc == 0 && cert_cb) {
        s->base.verify = session_verify;
        rc = petrel_conn_set_cert_callback(s->conn, mssl_cert_trampoline, &s->base);
        /* MatrixSSL: a server's callback means client authentication. */
        if (rc == 0 && server)
            rc = petrel_conn_set_verify(s->conn, PETREL_VERIFY_REQUIRE);
    }
    if (rc < 0) {
        session_free(s);
        return mssl_ps_error(rc);
    }
    *out = s;
    return PS_SUCCESS;
}

static int32 new_client(ssl_t **ssl, sslKeys_t *keys, sslSessionId_t *sessionId, uint32 cipherSuite,
                        sslCertCb_t certValidator, tlsExtension_t *extensions,
                        sslExtCb_t extensionCback, bool datagram)
{
    if (!ssl)
        return PS_ARG_FAIL;
    *ssl = NULL;
    if (!keys || cipherSuite > 0xFFFF)
        return PS_ARG_FAIL;
    ssl_t *s;
    int32 ps = session_new(&s, keys, false, datagram, certValidator);
    if (ps != PS_SUCCESS)
        return ps;
    s->session_id = sessionId;
    if (sessionId)
        memset(sessionId, 0, sizeof(*sessionId)); /* no resumption: a full handshake */
    int rc = 0;
    if (cipherSuite) {
        int idx = suite_index((uint16_t)cipherSuite);
        uint16_t suite = (uint16_t)cipherSuite;
        if (idx >= 0 && ((atomic_load(&g_disabled) >> idx) & 1u)) {
            platform_log(s->platform, PETREL_LOG_WARNING,
                         "matrixSslNewClientSession: cipherSuite 0x%04x is disabled "
                         "(matrixSslSetCipherSuiteEnabledStatus)",
                         suite);
            rc = PETREL_ERR_UNSUPPORTED;
        } else {
            /* petrel's log line names an insecure suite's weakness. */
            rc = petrel_conn_set_suites(s->conn, &suite, 1);
        }
    }
    for (tlsExtension_t *e = extensions ? extensions->next : NULL; rc == 0 && e; e = e->next)
        rc = petrel_conn_add_hello_extension(s->conn, e->type, e->data, e->len);
    if (rc == 0 && extensionCback) {
        s->ext_cb = extensionCback;
        rc = petrel_conn_set_hello_ext_callback(s->conn, session_ext, s);
    }
    if (rc == 0)
        rc = petrel_connect(s->conn);
    if (rc < 0) {
        session_free(s);
        if (rc == PETREL_ERR_RNG)
            return PS_PLATFORM_FAIL;
        if (rc == PETREL_ERR_ARG && extensions)
            return PS_UNSUPPORTED_FAIL; /* an extension petrel writes itself */
        int32 mapped = mssl_ps_error(rc);
        return mapped == PS_PROTOCOL_FAIL || mapped == PS_FAILURE ? MATRIXSSL_ERROR : mapped;
    }
    *ssl = s;
    return MATRIXSSL_REQUEST_SEND;
}

int32 matrixSslNewClientSession(ssl_t **ssl, sslKeys_t *keys, sslSessionId_t *sessionId,
                                uint32 cipherSuite, sslCertCb_t certValidator,
                                tlsExtension_t *extensions, sslExtCb_t extensionCback)
{
    return new_client(ssl, keys, sessionId, cipherSuite, certValidator, extensions, extensionCback,
                      false);
}

int32 matrixDtlsNewClientSession(ssl_t **ssl, sslKeys_t *keys, sslSessionId_t *sessionId,
                                 uint32 cipherSuite, sslCertCb_t certValidator,
                                 tlsExtension_t *extensions, sslExtCb_t extensionCback)
{
    return new_client(ssl, keys, sessionId, cipherSuite, certValidator, extensions, extensionCback,
                      true);
}

static int32 new_server(ssl_t **ssl, sslKeys_t *keys, sslCertCb_t certCB, bool datagram)
{
    if (!ssl)
        return PS_ARG_FAIL;
    *ssl = NULL;
    if (!keys)
        return PS_ARG_FAIL;
    int32 ps = session_new(ssl, keys, true, datagram, certCB);
    /* The seed names PS_FAILURE for a failed allocation here. */
    return ps == PS_MEM_FAIL ? PS_FAILURE : ps;
}

int32 matrixSslNewServerSession(ssl_t **ssl, sslKeys_t *keys, sslCertCb_t certCB)
{
    return new_server(ssl, keys, certCB, false);
}

int32 matrixDtlsNewServerSession(ssl_t **ssl, sslKeys_t *keys, sslCertCb_t certCB)
{
    return new_server(ssl, keys, certCB, true);
}

void matrixSslDeleteSession(ssl_t *ssl)
{
    if (ssl)
        session_free(ssl);
}

int32 matrixSslInitSessionId(sslSessionId_t *sid)
{
    if (!sid)
        return PS_ARG_FAIL;
    memset(sid, 0, sizeof(*sid));
    return PS_SUCCESS;
}

void matrixSslGetAnonStatus(ssl_t *ssl, int32 *anon)
{
    if (ssl && anon)
        *anon = petrel_peer_anonymous(ssl->conn) ? 1 : 0;
}

/* ======================================================================
 * Receiving
 * ====================================================================== */

/* A stream session holds the start of a record it cannot process yet. */
static bool partial_record(const ssl_t *s)
{
    return !s->datagram && s->conn->in_len > s->conn->in_pos;
}

/* Turns the engine's status into MatrixSSL's event. processed: the call
 * is matrixSslProcessedData, which says PS_SUCCESS where ReceivedData says
 * REQUEST_RECV. */
static int32 to_event(ssl_t *s, int rc, const uint8_t *data, size_t len, unsigned char **ptbuf,
                      uint32 *ptlen, bool processed)
{
    for (;;) {
        if (rc == PETREL_ERR_PEER_ALERT && !s->error) {
            /* The peer's fatal alert ended the session: MatrixSSL hands it
             * out like any alert, and ProcessedData then says PS_SUCCESS. */
            s->error = rc;
            s->error_announced = true;
            rc = PETREL_RECEIVED_ALERT;
        }
        if (rc < 0)
            return session_fail(s, rc);
        switch (rc) {
        case PETREL_APP_DATA:
            *ptbuf = (unsigned char *)data;
            *ptlen = (uint32)len;
            return MATRIXSSL_APP_DATA;
        case PETREL_RECEIVED_ALERT: {
            int level = 0, description = 0;
            (void)petrel_last_alert(s->conn, &level, &description);
            s->alert[0] = (uint8_t)level;
            s->alert[1] = (uint8_t)description;
            *ptbuf = s->alert;
            *ptlen = 2;
            return MATRIXSSL_RECEIVED_ALERT;
        }
        case PETREL_HANDSHAKE_COMPLETE:
            if (out_pending(s)) {
                /* This side's Finished is still to go out: MatrixSSL
                 * announces the end when it has been sent. */
                s->complete_on_sent = true;
                rc = petrel_processed(s->conn, &data, &len);
                continue;
            }
            /* Application data or an alert right behind the Finished is
             * reported instead: it implies the handshake is complete. */
            rc = petrel_processed(s->conn, &data, &len);
            if (rc == PETREL_APP_DATA || rc == PETREL_RECEIVED_ALERT || rc < 0)
                continue;
            return MATRIXSSL_HANDSHAKE_COMPLETE;
        case PETREL_REQUEST_SEND:
            return MATRIXSSL_REQUEST_SEND;
        default: /* PETREL_REQUEST_RECV */
            if (processed && !partial_record(s))
                return PS_SUCCESS;
            return MATRIXSSL_REQUEST_RECV;
        }
    }
}

int32 matrixSslGetReadbuf(ssl_t *ssl, unsigned char **buf)
{
    if (!ssl || !buf)
        return PS_ARG_FAIL;
    uint8_t *b;
    int n = petrel_get_readbuf(ssl->conn, &b);
    if (n <= 0)
        return PS_ARG_FAIL;
    *buf = b;
    return n;
}

int32 matrixSslReceivedData(ssl_t *ssl, uint32 bytes, unsigned char **ptbuf, uint32 *ptLen)
{
    if (!ssl || !ptbuf || !ptLen)
        return PS_ARG_FAIL;
    *ptbuf = NULL;
    *ptLen = 0;
    if (ssl->error)
        return session_fail(ssl, ssl->error);
    if (bytes == 0)
        return PS_ARG_FAIL;
    sync_pmtu(ssl);
    const uint8_t *data = NULL;
    size_t len = 0;
    int rc = petrel_received(ssl->conn, bytes, &data, &len);
    if (rc == PETREL_ERR_ARG)
        return PS_ARG_FAIL; /* more bytes than matrixSslGetReadbuf offered */
    return to_event(ssl, rc, data, len, ptbuf, ptLen, false);
}

int32 matrixSslProcessedData(ssl_t *ssl, unsigned char **ptbuf, uint32 *ptlen)
{
    if (!ssl || !ptbuf || !ptlen)
        return PS_ARG_FAIL;
    *ptbuf = NULL;
    *ptlen = 0;
    if (ssl->error) {
        /* The peer's alert that ended the session has been handed out:
         * nothing more is in the buffer. */
        if (ssl->error == PETREL_ERR_PEER_ALERT || ssl->error == PETREL_ERR_CLOSED)
            return PS_SUCCESS;
        return session_fail(ssl, ssl->error);
    }
    const uint8_t *data = NULL;
    size_t len = 0;
    int rc = petrel_processed(ssl->conn, &data, &len);
    if (rc == PETREL_ERR_PEER_ALERT || rc == PETREL_ERR_CLOSED) {
        ssl->error = rc;
        ssl->error_announced = true;
        return PS_SUCCESS;
    }
    return to_event(ssl, rc, data, len, ptbuf, ptlen, true);
}

/* ======================================================================
 * Sending
 * ====================================================================== */

int32 matrixSslGetOutdata(ssl_t *ssl, unsigned char **buf)
{
    if (!ssl || !buf)
        return PS_ARG_FAIL;
    const uint8_t *b = NULL;
    int n = petrel_get_outdata(ssl->conn, &b);
    *buf = (unsigned char *)b;
    return n > 0 ? n : 0;
}

int32 matrixSslSentData(ssl_t *ssl, uint32 bytes)
{
    if (!ssl || bytes == 0)
        return PS_ARG_FAIL;
    int rc = petrel_sent(ssl->conn, bytes);
    if (rc < 0)
        return PS_ARG_FAIL;
    if (rc == PETREL_REQUEST_SEND)
        return MATRIXSSL_REQUEST_SEND;
    /* After an alert (close_notify or fatal) petrel sends nothing more. */
    if (ssl->conn->close_sent || ssl->error || petrel_conn_error(ssl->conn))
        return MATRIXSSL_REQUEST_CLOSE;
    if (ssl->complete_on_sent) {
        ssl->complete_on_sent = false;
        return MATRIXSSL_HANDSHAKE_COMPLETE;
    }
    return MATRIXSSL_SUCCESS;
}

/* Application data may be encoded now: PS_SUCCESS, PS_PROTOCOL_FAIL
 * (closed or failed), PS_FAILURE (handshake not complete). */
static int32 ready_to_write(ssl_t *ssl, const char *who)
{
    if (ssl->error || petrel_conn_error(ssl->conn) || ssl->conn->close_sent) {
        platform_log(ssl->platform, PETREL_LOG_WARNING, "%s: the session is closed or failed", who);
        return PS_PROTOCOL_FAIL;
    }
    if (!petrel_handshake_complete(ssl->conn)) {
        platform_log(ssl->platform, PETREL_LOG_WARNING, "%s: the handshake is not complete", who);
        return PS_FAILURE;
    }
    return PS_SUCCESS;
}

int32 matrixSslGetWritebuf(ssl_t *ssl, unsigned char **buf, uint32 requestedLen)
{
    if (!ssl || !buf || requestedLen == 0)
        return PS_ARG_FAIL;
    ssl->writebuf_cap = 0;
    int32 ps = ready_to_write(ssl, "matrixSslGetWritebuf");
    if (ps != PS_SUCCESS)
        return ps;
    sync_pmtu(ssl);
    uint8_t *b;
    int cap = petrel_get_writebuf(ssl->conn, &b);
    if (cap <= 0)
        return cap == PETREL_ERR_NOMEM ? PS_MEM_FAIL : PS_FAILURE;
    if ((uint32)cap > requestedLen)
        cap = (int)requestedLen;
    *buf = b;
    ssl->writebuf_cap = (size_t)cap;
    return cap;
}

int32 matrixSslEncodeWritebuf(ssl_t *ssl, uint32 len)
{
    if (!ssl || len == 0)
        return PS_ARG_FAIL;
    int32 ps = ready_to_write(ssl, "matrixSslEncodeWritebuf");
    if (ps != PS_SUCCESS)
        return ps;
    if (!ssl->writebuf_cap) {
        platform_log(ssl->platform, PETREL_LOG_WARNING,
                     "matrixSslEncodeWritebuf: no matrixSslGetWritebuf before it");
        return PS_FAILURE;
    }
    if (len > ssl->writebuf_cap)
        return PS_ARG_FAIL;
    size_t before = out_bytes(ssl);
    int rc = petrel_encode_writebuf(ssl->conn, len);
    ssl->writebuf_cap = 0;
    if (rc < 0)
        return mssl_ps_error(rc);
    return (int32)(out_bytes(ssl) - before);
}

int32 matrixSslEncodeToOutdata(ssl_t *ssl, unsigned char *ptBuf, uint32 len)
{
    if (!ssl || !ptBuf || len == 0)
        return PS_ARG_FAIL;
    int32 ps = ready_to_write(ssl, "matrixSslEncodeToOutdata");
    if (ps != PS_SUCCESS)
        return ps;
    sync_pmtu(ssl);
    ssl->writebuf_cap = 0;
    if (len > 16384 || (ssl->datagram && len > (uint32)petrel_max_payload(ssl->conn)))
        return PS_LIMIT_FAIL;
    size_t before = out_bytes(ssl);
    int rc = petrel_encode_to_outdata(ssl->conn, ptBuf, len);
    if (rc < 0)
        return mssl_ps_error(rc);
    return (int32)(out_bytes(ssl) - before);
}

int32 matrixSslEncodeClosureAlert(ssl_t *ssl)
{
    if (!ssl)
        return PS_ARG_FAIL;
    /* petrel answered the peer's close_notify with its own already: the
     * alert is encoded (or sent); nothing more to do. */
    if (ssl->conn->close_received && ssl->conn->close_sent && !ssl->error)
        return MATRIXSSL_SUCCESS;
    sync_pmtu(ssl);
    ssl->writebuf_cap = 0;
    int rc = petrel_close_notify(ssl->conn);
    if (rc == PETREL_ERR_NOMEM)
        return PS_MEM_FAIL;
    return rc < 0 ? MATRIXSSL_ERROR : MATRIXSSL_SUCCESS;
}

int32 matrixSslEncodeRehandshake(ssl_t *ssl, sslKeys_t *keys, sslCertCb_t certCb,
                                 uint32 sessionOption, uint32 cipherSpec)
{
    if (!ssl || (sessionOption != 0 && sessionOption != SSL_OPTION_FULL_HANDSHAKE) ||
        cipherSpec > 0xFFFF)
        return PS_ARG_FAIL;
    if (keys && keys != ssl->keys) {
        platform_log(ssl->platform, PETREL_LOG_WARNING,
                     "matrixSslEncodeRehandshake: other keys for the new handshake are not "
                     "supported (pass NULL or the session's own)");
        return PS_UNSUPPORTED_FAIL;
    }
    if (ssl->error || petrel_conn_error(ssl->conn) || !petrel_handshake_complete(ssl->conn) ||
        petrel_renegotiating(ssl->conn)) {
        platform_log(ssl->platform, PETREL_LOG_WARNING,
                     "matrixSslEncodeRehandshake: the session is not established, or a "
                     "handshake is running");
        return MATRIXSSL_ERROR;
    }
    int rc = 0;
    /* Every rehandshake is a full one (no resumption yet): cipherSpec
     * applies whatever sessionOption says. */
    if (cipherSpec && !ssl->server) {
        uint16_t suite = (uint16_t)cipherSpec;
        rc = petrel_conn_set_suites(ssl->conn, &suite, 1);
        if (rc < 0)
            return rc == PETREL_ERR_NOMEM ? PS_MEM_FAIL : PS_UNSUPPORTED_FAIL;
    }
    if (certCb) {
        ssl->cert_cb = certCb;
        ssl->base.verify = session_verify;
        rc = petrel_conn_set_cert_callback(ssl->conn, mssl_cert_trampoline, &ssl->base);
        if (rc == 0 && ssl->server)
            rc = petrel_conn_set_verify(ssl->conn, PETREL_VERIFY_REQUIRE);
        if (rc < 0)
            return MATRIXSSL_ERROR;
    }
    sync_pmtu(ssl);
    ssl->writebuf_cap = 0;
    ssl->resend_armed = false;
    rc = petrel_renegotiate(ssl->conn);
    if (rc == PETREL_ERR_UNSUPPORTED)
        return PS_UNSUPPORTED_FAIL; /* the peer lacks RFC 5746; petrel logged it */
    if (rc == PETREL_ERR_NOMEM)
        return PS_MEM_FAIL;
    if (rc == PETREL_ERR_RNG)
        return PS_PLATFORM_FAIL;
    if (rc < 0)
        return MATRIXSSL_ERROR;
    return MATRIXSSL_SUCCESS;
}

/* ======================================================================
 * Cipher suites
 * ====================================================================== */

int32 matrixSslSetCipherSuiteEnabledStatus(ssl_t *ssl, uint16 cipherId, uint32 status)
{
    if (status != PS_TRUE && status != PS_FALSE)
        return PS_ARG_FAIL;
    petrel_platform fallback = petrel_platform_default();
    const petrel_platform *p = ssl ? ssl->platform : &fallback;
    int idx = suite_index(cipherId);
    if (idx < 0) {
        const char *why = NULL;
        if (hs_suite_is_insecure(cipherId, &why)) {
            if (status == PS_FALSE)
                return MATRIXSSL_SUCCESS; /* never enabled */
            platform_log(p, PETREL_LOG_ERROR, "cipher suite 0x%04x refused: %s", cipherId, why);
            return PS_UNSUPPORTED_FAIL;
        }
        platform_log(p, PETREL_LOG_WARNING,
                     "matrixSslSetCipherSuiteEnabledStatus: cipher suite 0x%04x is not one of the "
                     "suites petrel enables",
                     cipherId);
        return MATRIXSSL_ERROR;
    }
    if (!ssl) {
        if (status == PS_FALSE)
            atomic_fetch_or(&g_disabled, 1u << idx);
        else
            atomic_fetch_and(&g_disabled, ~(1u << idx));
        return MATRIXSSL_SUCCESS;
    }
    if (!ssl->server) {
        platform_log(p, PETREL_LOG_WARNING,
                     "matrixSslSetCipherSuiteEnabledStatus: a server call (a client session "
                     "offers what cipherSuite says)");
        return PS_UNSUPPORTED_FAIL;
    }
    size_t at = ssl->disabled_count;
    for (size_t i = 0; i < ssl->disabled_count; i++) {
        if (ssl->disabled[i] == cipherId)
            at = i;
    }
    size_t saved_count = ssl->disabled_count;
    if (status == PS_FALSE && at == ssl->disabled_count) {
        if (ssl->disabled_count == SSL_MAX_DISABLED_CIPHERS)
            return PS_LIMIT_FAIL;
        ssl->disabled[ssl->disabled_count++] = cipherId;
    } else if (status == PS_TRUE && at < ssl->disabled_count) {
        ssl->disabled[at] = ssl->disabled[--ssl->disabled_count];
    } else {
        return MATRIXSSL_SUCCESS; /* already so */
    }
    int rc = apply_suites(ssl);
    if (rc == 0 && !atomic_load(&g_disabled) && !ssl->disabled_count)
        rc = petrel_conn_set_suites(ssl->conn, hs_default_suites, hs_default_suite_count);
    if (rc < 0) {
        /* Too late (the ClientHello came) or nothing left: undo. */
        if (status == PS_FALSE)
            ssl->disabled_count = saved_count;
        else
            ssl->disabled[ssl->disabled_count++] = cipherId;
        return rc == PETREL_ERR_STATE ? PS_ARG_FAIL : mssl_ps_error(rc);
    }
    return MATRIXSSL_SUCCESS;
}

/* ======================================================================
 * Hello extensions. They belong to no keys, so their memory comes from
 * petrel's default platform hooks.
 * ====================================================================== */

static petrel_platform ext_platform(void)
{
    return petrel_platform_default();
}

int32 matrixSslNewHelloExtension(tlsExtension_t **extension)
{
    if (!extension)
        return PS_ARG_FAIL;
    petrel_platform p = ext_platform();
    *extension = platform_calloc(&p, 1, sizeof(**extension));
    return *extension ? PS_SUCCESS : PS_MEM_FAIL;
}

int32 matrixSslLoadHelloExtension(tlsExtension_t *extension, unsigned char *extData, uint32 extLen,
                                  uint32 extType)
{
    if (!extension || (extLen && !extData) || extLen > 0xFFFF || extType > 0xFFFF)
        return PS_ARG_FAIL;
    tlsExtension_t **tail = &extension->next;
    for (; *tail; tail = &(*tail)->next) {
        if ((*tail)->type == extType)
            return PS_ARG_FAIL;
    }
    petrel_platform p = ext_platform();
    tlsExtension_t *e = platform_alloc(&p, sizeof(*e) + extLen);
    if (!e)
        return PS_MEM_FAIL;
    e->next = NULL;
    e->type = (uint16_t)extType;
    e->len = extLen;
    if (extLen)
        memcpy(e->data, extData, extLen);
    *tail = e;
    return PS_SUCCESS;
}

void matrixSslDeleteHelloExtension(tlsExtension_t *extension)
{
    petrel_platform p = ext_platform();
    while (extension) {
        tlsExtension_t *next = extension->next;
        platform_free(&p, extension);
        extension = next;
    }
}

/* ======================================================================
 * MatrixDTLS
 * ====================================================================== */

int32 matrixDtlsGetOutdata(ssl_t *ssl, unsigned char **buf)
{
    if (!ssl || !buf)
        return PS_ARG_FAIL;
    if (!ssl->datagram)
        return matrixSslGetOutdata(ssl, buf);
    sync_pmtu(ssl);
    int32 n = matrixSslGetOutdata(ssl, buf);
    if (n > 0) {
        ssl->resend_armed = false;
        return n;
    }
    if (!ssl->resend_armed) {
        /* The flight is out: from now on an empty call is a timeout. */
        ssl->resend_armed = true;
        return 0;
    }
    /* Case 7: the application's timer fired while we wait for the peer. */
    int rc = petrel_retransmit(ssl->conn);
    if (rc < 0) {
        ssl->error = ssl->error ? ssl->error : rc;
        ssl->error_announced = true;
        return mssl_ps_error(rc);
    }
    n = matrixSslGetOutdata(ssl, buf);
    if (n > 0)
        ssl->resend_armed = false;
    return n;
}

int32 matrixDtlsSentData(ssl_t *ssl, uint32 bytes)
{
    return matrixSslSentData(ssl, bytes);
}

int32 matrixDtlsSetPmtu(int32 pmtu)
{
    if (pmtu < 0)
        pmtu = DTLS_PMTU;
    else if (pmtu < 200 || pmtu > 16384)
        return PS_ARG_FAIL;
    atomic_store(&g_pmtu, pmtu);
    return pmtu;
}

int32 matrixDtlsGetPmtu(void)
{
    return atomic_load(&g_pmtu);
}

int32 matrixDtlsGetTimeout(ssl_t *ssl)
{
    if (!ssl)
        return -1;
    int64_t ms = petrel_next_timeout(ssl->conn);
    return ms > INT32_MAX ? INT32_MAX : (int32)ms;
}

/* ======================================================================
 * petrel extensions
 * ====================================================================== */

petrel_conn *matrixSslGetPetrelConn(ssl_t *ssl)
{
    return ssl ? ssl->conn : NULL;
}

void matrixSslSetUserPtr(ssl_t *ssl, void *ptr)
{
    if (ssl)
        ssl->user = ptr;
}

void *matrixSslGetUserPtr(ssl_t *ssl)
{
    return ssl ? ssl->user : NULL;
}
