/*
 * The MatrixSSL 3.2 session API (matrixsslApi.h) driven exactly as the
 * seed's event loop drives it: every byte moves through GetOutdata /
 * SentData and GetReadbuf / ReceivedData / ProcessedData, in memory, over
 * TLS and DTLS.
 *
 * One test per documented flow: client and server handshakes with
 * application data both ways; multi-record buffers (two application
 * records and an alert in one read) and partial records; fatal alerts;
 * the closure alert; rehandshakes from either side; the DTLS
 * resend when the application's timer fires, up to the retransmission
 * limit; PMTU changes between handshakes; DTLS_SEND_RECORDS_INDIVIDUALLY;
 * cipher-suite switches; hello extensions; the certificate validator and
 * anonymous connections; every documented error return for bad
 * arguments.
 */
#define DTLS_SEND_RECORDS_INDIVIDUALLY /* for the matrixSslOpen() macro test */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <matrixssl/matrixsslApi.h>
#include <petrel/petrel.h>

#ifndef PETREL_SOURCE_DIR
#error "PETREL_SOURCE_DIR must be defined"
#endif
#define PKI(name) PETREL_SOURCE_DIR "/tests/pki/" name

/* In test_matrixssl_usedtls.c, compiled with USE_DTLS. */
int32 usedtls_new_client(ssl_t **ssl, sslKeys_t *keys);
int32 usedtls_new_server(ssl_t **ssl, sslKeys_t *keys);

static unsigned char psk_key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static unsigned char psk_id[] = "mssl-client";

/* ======================================================================
 * Keys
 * ====================================================================== */

static sslKeys_t *psk_keys(void)
{
    sslKeys_t *keys = NULL;
    assert_int_equal(matrixSslNewKeys(&keys), PS_SUCCESS);
    assert_int_equal(matrixSslLoadPsk(keys, psk_key, sizeof(psk_key), psk_id, sizeof(psk_id) - 1),
                     PS_SUCCESS);
    return keys;
}

static sslKeys_t *server_cert_keys(void)
{
    sslKeys_t *keys = NULL;
    assert_int_equal(matrixSslNewKeys(&keys), PS_SUCCESS);
    assert_int_equal(
        matrixSslLoadRsaKeys(keys, PKI("ec-server-chain.pem"), PKI("ec-server.key"), NULL, NULL),
        PS_SUCCESS);
    return keys;
}

static sslKeys_t *client_cert_keys(const char *ca)
{
    sslKeys_t *keys = NULL;
    assert_int_equal(matrixSslNewKeys(&keys), PS_SUCCESS);
    assert_int_equal(matrixSslLoadRsaKeys(keys, NULL, NULL, NULL, ca), PS_SUCCESS);
    assert_int_equal(matrixSslKeysSetServerName(keys, "localhost"), PS_SUCCESS);
    return keys;
}

/* ======================================================================
 * The event loop, in memory
 * ====================================================================== */

#define MAX_EVENTS 64

typedef struct side {
    ssl_t *ssl;
    bool want_send; /* ReceivedData/ProcessedData said MATRIXSSL_REQUEST_SEND */
    bool complete;  /* HANDSHAKE_COMPLETE came (from ReceivedData or SentData) */
    bool complete_from_sent;
    bool closed; /* SentData said MATRIXSSL_REQUEST_CLOSE */
    int32 error; /* the first negative return */
    uint8_t app[70000];
    size_t app_len;
    size_t app_records;
    int alerts;
    uint8_t alert[2];
    size_t datagrams_sent;
    size_t max_datagram;
} side;

/* Returns true to drop the datagram (DTLS) from this side. */
typedef bool (*drop_fn)(void *ref, bool from_client, size_t index, const uint8_t *d, size_t n);

typedef struct link {
    side c, s;
    bool dtls;
    size_t chunk; /* TLS: deliver the stream in pieces of this size (0: whole) */
    drop_fn drop;
    void *drop_ref;
} link;

static void handle(side *to, int32 rc, unsigned char *pt, uint32 pt_len)
{
    for (;;) {
        switch (rc) {
        case MATRIXSSL_REQUEST_SEND:
            to->want_send = true;
            return;
        case MATRIXSSL_REQUEST_RECV:
        case PS_SUCCESS:
            return;
        case MATRIXSSL_HANDSHAKE_COMPLETE:
            to->complete = true;
            return;
        case MATRIXSSL_APP_DATA:
            to->complete = true; /* implied */
            assert_true(to->app_len + pt_len <= sizeof(to->app));
            memcpy(to->app + to->app_len, pt, pt_len);
            to->app_len += pt_len;
            to->app_records++;
            break;
        case MATRIXSSL_RECEIVED_ALERT:
            assert_int_equal(pt_len, 2);
            to->alert[0] = pt[0];
            to->alert[1] = pt[1];
            to->alerts++;
            break;
        default:
            assert_true(rc < 0);
            if (!to->error)
                to->error = rc;
            return;
        }
        rc = matrixSslProcessedData(to->ssl, &pt, &pt_len);
    }
}

/* Puts n bytes into to's read buffer (in pieces for TLS) and handles
 * what ReceivedData says. */
static void deliver(link *l, side *to, const uint8_t *data, size_t n)
{
    size_t off = 0;
    while (off < n && !to->error) {
        unsigned char *buf;
        int32 cap = matrixSslGetReadbuf(to->ssl, &buf);
        assert_true(cap > 0);
        size_t take = n - off;
        if (!l->dtls && l->chunk && take > l->chunk)
            take = l->chunk;
        assert_true(take <= (size_t)cap);
        memcpy(buf, data + off, take);
        off += take;
        unsigned char *pt = NULL;
        uint32 pt_len = 0;
        int32 rc = matrixSslReceivedData(to->ssl, (uint32)take, &pt, &pt_len);
        handle(to, rc, pt, pt_len);
    }
}

/* The send loop: GetOutdata until it returns 0, each piece followed by
 * SentData, and delivered to the peer unless dropped. */
static void flush(link *l, side *from)
{
    side *to = from == &l->c ? &l->s : &l->c;
    for (int guard = 0; guard < 1000; guard++) {
        unsigned char *buf;
        int32 n =
            l->dtls ? matrixDtlsGetOutdata(from->ssl, &buf) : matrixSslGetOutdata(from->ssl, &buf);
        if (n <= 0) {
            if (n < 0 && !from->error)
                from->error = n;
            return;
        }
        uint8_t copy[20000];
        assert_true((size_t)n <= sizeof(copy));
        memcpy(copy, buf, (size_t)n);
        int32 rc = l->dtls ? matrixDtlsSentData(from->ssl, (uint32)n)
                           : matrixSslSentData(from->ssl, (uint32)n);
        assert_true(rc == MATRIXSSL_REQUEST_SEND || rc == MATRIXSSL_SUCCESS ||
                    rc == MATRIXSSL_REQUEST_CLOSE || rc == MATRIXSSL_HANDSHAKE_COMPLETE);
        if (rc == MATRIXSSL_HANDSHAKE_COMPLETE) {
            from->complete = true;
            from->complete_from_sent = true;
        }
        if (rc == MATRIXSSL_REQUEST_CLOSE)
            from->closed = true;
        from->datagrams_sent++;
        if ((size_t)n > from->max_datagram)
            from->max_datagram = (size_t)n;
        bool dropped = l->drop && l->drop(l->drop_ref, from == &l->c, from->datagrams_sent - 1,
                                          copy, (size_t)n);
        if (!dropped)
            deliver(l, to, copy, (size_t)n);
    }
    fail_msg("the send loop did not end");
}

/* Runs the loop until neither side has anything to send. */
static void pump(link *l)
{
    for (int round = 0; round < 100; round++) {
        if (l->c.want_send) {
            l->c.want_send = false;
            flush(l, &l->c);
        } else if (l->s.want_send) {
            l->s.want_send = false;
            flush(l, &l->s);
        } else {
            return;
        }
    }
    fail_msg("the exchange did not settle");
}

static void link_init(link *l, bool dtls)
{
    memset(l, 0, sizeof(*l));
    l->dtls = dtls;
}

static int32 new_client(link *l, sslKeys_t *keys, uint32 suite, sslCertCb_t cb)
{
    sslSessionId_t sid;
    memset(&sid, 0xAA, sizeof(sid));
    int32 rc = l->dtls ? matrixDtlsNewClientSession(&l->c.ssl, keys, &sid, suite, cb, NULL, NULL)
                       : matrixSslNewClientSession(&l->c.ssl, keys, &sid, suite, cb, NULL, NULL);
    if (rc == MATRIXSSL_REQUEST_SEND) {
        sslSessionId_t zero;
        memset(&zero, 0, sizeof(zero));
        assert_memory_equal(&sid, &zero, sizeof(sid)); /* no resumption: cleared */
        l->c.want_send = true;
    }
    return rc;
}

static void new_server(link *l, sslKeys_t *keys, sslCertCb_t cb)
{
    int32 rc = l->dtls ? matrixDtlsNewServerSession(&l->s.ssl, keys, cb)
                       : matrixSslNewServerSession(&l->s.ssl, keys, cb);
    assert_int_equal(rc, PS_SUCCESS);
}

static void link_free(link *l)
{
    matrixSslDeleteSession(l->c.ssl);
    matrixSslDeleteSession(l->s.ssl);
}

/* Sends text from one side with matrixSslEncodeToOutdata. */
static void send_text(link *l, side *from, const char *text)
{
    int32 n = matrixSslEncodeToOutdata(from->ssl, (unsigned char *)text, (uint32)strlen(text));
    assert_true(n > (int32)strlen(text));
    flush(l, from);
    pump(l);
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(matrixSslOpenWithConfig(0), PS_SUCCESS);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    matrixSslClose();
    return 0;
}

/* ======================================================================
 * Handshakes and application data
 * ====================================================================== */

static void handshake_and_echo(bool dtls, bool certs, size_t chunk)
{
    sslKeys_t *ck = certs ? client_cert_keys(PKI("ec-root.crt")) : psk_keys();
    sslKeys_t *sk = certs ? server_cert_keys() : psk_keys();
    link l;
    link_init(&l, dtls);
    l.chunk = chunk;
    assert_int_equal(new_client(&l, ck, 0, NULL), MATRIXSSL_REQUEST_SEND);
    new_server(&l, sk, NULL);
    pump(&l);
    assert_int_equal(l.c.error, 0);
    assert_int_equal(l.s.error, 0);
    /* The client learns from the server's Finished (ReceivedData); the
     * server when its own Finished has been sent (SentData). */
    assert_true(l.c.complete);
    assert_false(l.c.complete_from_sent);
    assert_true(l.s.complete);
    assert_true(l.s.complete_from_sent);
    int32 anon = -1;
    matrixSslGetAnonStatus(l.c.ssl, &anon);
    assert_int_equal(anon, 0);

    /* Client to server with EncodeToOutdata; server to client with the
     * write buffer. */
    send_text(&l, &l.c, "GET /hello");
    assert_int_equal(l.s.app_len, 10);
    assert_memory_equal(l.s.app, "GET /hello", 10);

    unsigned char *wb;
    int32 cap = matrixSslGetWritebuf(l.s.ssl, &wb, 5);
    assert_int_equal(cap, 5);
    memcpy(wb, "hello", 5);
    int32 enc = matrixSslEncodeWritebuf(l.s.ssl, 5);
    assert_true(enc > 5);
    unsigned char *out;
    assert_int_equal(
        dtls ? matrixDtlsGetOutdata(l.s.ssl, &out) : matrixSslGetOutdata(l.s.ssl, &out), enc);
    flush(&l, &l.s);
    assert_int_equal(l.c.app_len, 5);
    assert_memory_equal(l.c.app, "hello", 5);

    /* A large request: the write buffer gives at most one record. */
    cap = matrixSslGetWritebuf(l.c.ssl, &wb, 100000);
    assert_true(cap > 0);
    assert_true(cap <= (dtls ? 1232 : 16384));
    memset(wb, 'x', (size_t)cap);
    assert_true(matrixSslEncodeWritebuf(l.c.ssl, (uint32)cap) > cap);
    flush(&l, &l.c);
    assert_int_equal(l.s.app_len, 10 + (size_t)cap);

    link_free(&l);
    matrixSslDeleteKeys(ck);
    matrixSslDeleteKeys(sk);
}

static void test_tls_psk(void **state)
{
    (void)state;
    handshake_and_echo(false, false, 0);
}

static void test_tls_psk_byte_by_byte(void **state)
{
    (void)state;
    handshake_and_echo(false, false, 1);
}

static void test_tls_certificates(void **state)
{
    (void)state;
    handshake_and_echo(false, true, 700);
}

static void test_dtls_psk(void **state)
{
    (void)state;
    handshake_and_echo(true, false, 0);
}

static void test_dtls_certificates(void **state)
{
    (void)state;
    handshake_and_echo(true, true, 0);
}

/* A connected pair, PSK. */
static void connect_pair(link *l, bool dtls, sslKeys_t *ck, sslKeys_t *sk)
{
    link_init(l, dtls);
    assert_int_equal(new_client(l, ck, 0, NULL), MATRIXSSL_REQUEST_SEND);
    new_server(l, sk, NULL);
    pump(l);
    assert_true(l->c.complete && l->s.complete);
}

/* USE_DTLS (MatrixDTLS's configuration name) makes the matrixSsl session
 * calls of a file create DTLS sessions. */
static void test_use_dtls_maps_session_calls(void **state)
{
    (void)state;
    sslKeys_t *ck = psk_keys(), *sk = psk_keys();
    link l;
    link_init(&l, true);
    assert_int_equal(usedtls_new_client(&l.c.ssl, ck), MATRIXSSL_REQUEST_SEND);
    assert_int_equal(usedtls_new_server(&l.s.ssl, sk), PS_SUCCESS);
    assert_int_equal(petrel_conn_mode(matrixSslGetPetrelConn(l.c.ssl)), PETREL_DATAGRAM);
    assert_int_equal(petrel_conn_mode(matrixSslGetPetrelConn(l.s.ssl)), PETREL_DATAGRAM);
    l.c.want_send = true;
    pump(&l);
    assert_true(l.c.complete && l.s.complete);
    assert_int_equal(petrel_protocol_version(matrixSslGetPetrelConn(l.c.ssl)), 0xfefd);
    link_free(&l);

    /* Without it, the same calls make TLS sessions. */
    connect_pair(&l, false, ck, sk);
    assert_int_equal(petrel_protocol_version(matrixSslGetPetrelConn(l.c.ssl)), 0x0303);
    link_free(&l);
    matrixSslDeleteKeys(ck);
    matrixSslDeleteKeys(sk);
}

/* ======================================================================
 * Multi-record buffers
 * ====================================================================== */

/* Two application records and a closure alert in one read: ReceivedData
 * gives the first record, each ProcessedData the next, then the answer
 * to the close_notify is to be sent. */
static void multi_record(bool dtls)
{
    sslKeys_t *ck = psk_keys(), *sk = psk_keys();
    link l;
    connect_pair(&l, dtls, ck, sk);

    uint8_t wire[4096];
    size_t wire_len = 0;
    assert_true(matrixSslEncodeToOutdata(l.c.ssl, (unsigned char *)"first", 5) > 5);
    assert_true(matrixSslEncodeToOutdata(l.c.ssl, (unsigned char *)"second", 6) > 6);
    assert_int_equal(matrixSslEncodeClosureAlert(l.c.ssl), MATRIXSSL_SUCCESS);
    unsigned char *out;
    int32 n;
    int32 last = 0;
    while ((n = matrixSslGetOutdata(l.c.ssl, &out)) > 0) {
        memcpy(wire + wire_len, out, (size_t)n);
        wire_len += (size_t)n;
        last = matrixSslSentData(l.c.ssl, (uint32)n);
    }
    assert_int_equal(last, MATRIXSSL_REQUEST_CLOSE);

    unsigned char *buf, *pt;
    uint32 pt_len;
    assert_true(matrixSslGetReadbuf(l.s.ssl, &buf) >= (int32)wire_len);
    memcpy(buf, wire, wire_len); /* DTLS: one datagram holding all three */
    assert_int_equal(matrixSslReceivedData(l.s.ssl, (uint32)wire_len, &pt, &pt_len),
                     MATRIXSSL_APP_DATA);
    assert_int_equal(pt_len, 5);
    assert_memory_equal(pt, "first", 5);
    assert_int_equal(matrixSslProcessedData(l.s.ssl, &pt, &pt_len), MATRIXSSL_APP_DATA);
    assert_int_equal(pt_len, 6);
    assert_memory_equal(pt, "second", 6);
    assert_int_equal(matrixSslProcessedData(l.s.ssl, &pt, &pt_len), MATRIXSSL_RECEIVED_ALERT);
    assert_int_equal(pt_len, 2);
    assert_int_equal(pt[0], SSL_ALERT_LEVEL_WARNING);
    assert_int_equal(pt[1], SSL_ALERT_CLOSE_NOTIFY);
    /* petrel answers close_notify with its own. */
    assert_int_equal(matrixSslProcessedData(l.s.ssl, &pt, &pt_len), MATRIXSSL_REQUEST_SEND);
    n = matrixSslGetOutdata(l.s.ssl, &out);
    assert_true(n > 0);
    assert_int_equal(matrixSslSentData(l.s.ssl, (uint32)n), MATRIXSSL_REQUEST_CLOSE);
    assert_int_equal(matrixSslEncodeToOutdata(l.s.ssl, (unsigned char *)"x", 1), PS_PROTOCOL_FAIL);

    link_free(&l);
    matrixSslDeleteKeys(ck);
    matrixSslDeleteKeys(sk);
}

static void test_tls_multi_record_buffer(void **state)
{
    (void)state;
    multi_record(false);
}

static void test_dtls_multi_record_datagram(void **state)
{
    (void)state;
    multi_record(true);
}

/* TLS: a record split across reads, and a whole record followed by part
 * of the next: ProcessedData says MATRIXSSL_REQUEST_RECV. */
static void test_tls_partial_records(void **state)
{
    (void)state;
    sslKeys_t *ck = psk_keys(), *sk = psk_keys();
    link l;
    connect_pair(&l, false, ck, sk);
    assert_true(matrixSslEncodeToOutdata(l.c.ssl, (unsigned char *)"alpha", 5) > 0);
    assert_true(matrixSslEncodeToOutdata(l.c.ssl, (unsigned char *)"beta", 4) > 0);
    unsigned char *out, *buf, *pt;
    uint32 pt_len;
    int32 n = matrixSslGetOutdata(l.c.ssl, &out);
    uint8_t wire[256];
    assert_true(n > 0 && (size_t)n < sizeof(wire));
    memcpy(wire, out, (size_t)n);
    assert_int_equal(matrixSslSentData(l.c.ssl, (uint32)n), MATRIXSSL_SUCCESS);
    size_t first = (size_t)n / 2; /* the whole first record is shorter than half */

    assert_true(matrixSslGetReadbuf(l.s.ssl, &buf) > 3);
    memcpy(buf, wire, 3);
    assert_int_equal(matrixSslReceivedData(l.s.ssl, 3, &pt, &pt_len), MATRIXSSL_REQUEST_RECV);
    assert_null(pt);
    assert_true(matrixSslGetReadbuf(l.s.ssl, &buf) > 0);
    memcpy(buf, wire + 3, first + 4 - 3);
    assert_int_equal(matrixSslReceivedData(l.s.ssl, (uint32)(first + 4 - 3), &pt, &pt_len),
                     MATRIXSSL_APP_DATA);
    assert_memory_equal(pt, "alpha", 5);
    assert_int_equal(matrixSslProcessedData(l.s.ssl, &pt, &pt_len), MATRIXSSL_REQUEST_RECV);
    assert_true(matrixSslGetReadbuf(l.s.ssl, &buf) > 0);
    memcpy(buf, wire + first + 4, (size_t)n - first - 4);
    assert_int_equal(matrixSslReceivedData(l.s.ssl, (uint32)((size_t)n - first - 4), &pt, &pt_len),
                     MATRIXSSL_APP_DATA);
    assert_memory_equal(pt, "beta", 4);
    assert_int_equal(matrixSslProcessedData(l.s.ssl, &pt, &pt_len), PS_SUCCESS);
    link_free(&l);
    matrixSslDeleteKeys(ck);
    matrixSslDeleteKeys(sk);
}

/* ======================================================================
 * Alerts and closure
 * ====================================================================== */

static int validator_calls;
static int32 validator_alert;
static char validator_cn[64];
static int32 validator_return;

static int32 validator(ssl_t *ssl, psX509Cert_t *cert, int32 alert)
{
    assert_non_null(ssl);
    assert_non_null(cert);
    validator_calls++;
    validator_alert = alert;
    snprintf(validator_cn, sizeof(validator_cn), "%s",
             cert->subject.commonName ? cert->subject.commonName : "");
    assert_non_null(cert->next); /* the chain: leaf, then its issuer */
    return validator_return;
}

/* The validator refuses the server: the client encodes a fatal alert,
 * announced with REQUEST_SEND; sending it says REQUEST_CLOSE; the server
 * receives it as MATRIXSSL_RECEIVED_ALERT, then nothing more. */
static void fatal_alert(bool dtls)
{
    sslKeys_t *ck = client_cert_keys(PKI("ec-root.crt")), *sk = server_cert_keys();
    link l;
    link_init(&l, dtls);
    validator_calls = 0;
    validator_return = SSL_ALERT_ACCESS_DENIED;
    assert_int_equal(new_client(&l, ck, 0, validator), MATRIXSSL_REQUEST_SEND);
    new_server(&l, sk, NULL);
    pump(&l);
    assert_int_equal(validator_calls, 1);
    assert_int_equal(validator_alert, 0); /* the chain checked out */
    assert_string_equal(validator_cn, "localhost");
    assert_true(l.c.closed); /* the alert went out: REQUEST_CLOSE */
    assert_false(l.c.complete);
    assert_int_equal(l.s.alerts, 1);
    assert_int_equal(l.s.alert[0], SSL_ALERT_LEVEL_FATAL);
    assert_int_equal(l.s.alert[1], SSL_ALERT_ACCESS_DENIED);
    assert_false(l.s.complete);

    /* Afterwards both sides report the failure. */
    unsigned char *buf, *pt;
    uint32 pt_len;
    assert_true(matrixSslGetReadbuf(l.c.ssl, &buf) > 0);
    assert_int_equal(matrixSslReceivedData(l.c.ssl, 1, &pt, &pt_len), PS_CERT_AUTH_FAIL);
    assert_true(matrixSslGetReadbuf(l.s.ssl, &buf) > 0);
    assert_int_equal(matrixSslReceivedData(l.s.ssl, 1, &pt, &pt_len), PS_PROTOCOL_FAIL);
    assert_int_equal(matrixSslEncodeToOutdata(l.c.ssl, (unsigned char *)"x", 1), PS_PROTOCOL_FAIL);
    link_free(&l);
    matrixSslDeleteKeys(ck);
    matrixSslDeleteKeys(sk);
}

static void test_tls_fatal_alert(void **state)
{
    (void)state;
    fatal_alert(false);
}

static void test_dtls_fatal_alert(void **state)
{
    (void)state;
    fatal_alert(true);
}

/* An unknown CA: the validator sees SSL_ALERT_UNKNOWN_CA and lets the
 * server in anonymously. */
static void test_validator_allows_anonymous(void **state)
{
    (void)state;
    sslKeys_t *ck = client_cert_keys(PKI("unknown-root.crt")), *sk = server_cert_keys();
    link l;
    link_init(&l, false);
    validator_calls = 0;
    validator_return = SSL_ALLOW_ANON_CONNECTION;
    assert_int_equal(new_client(&l, ck, 0, validator), MATRIXSSL_REQUEST_SEND);
    new_server(&l, sk, NULL);
    pump(&l);
    assert_int_equal(validator_calls, 1);
    assert_int_equal(validator_alert, SSL_ALERT_UNKNOWN_CA);
    assert_true(l.c.complete && l.s.complete);
    int32 anon = 0;
    matrixSslGetAnonStatus(l.c.ssl, &anon);
    assert_int_equal(anon, 1);
    link_free(&l);
    matrixSslDeleteKeys(ck);
    matrixSslDeleteKeys(sk);
}

/* A server validator asks for a client certificate. */
static void test_server_validator_requests_client_certificate(void **state)
{
    (void)state;
    sslKeys_t *ck = client_cert_keys(PKI("ec-root.crt"));
    sslKeys_t *sk = NULL;
    assert_int_equal(matrixSslNewKeys(&sk), PS_SUCCESS);
    assert_int_equal(matrixSslLoadRsaKeys(sk, PKI("ec-server-chain.pem"), PKI("ec-server.key"),
                                          NULL, PKI("ec-root.crt")),
                     PS_SUCCESS);
    sslKeys_t *ck2 = NULL;
    assert_int_equal(matrixSslNewKeys(&ck2), PS_SUCCESS);
    assert_int_equal(matrixSslLoadRsaKeys(ck2, PKI("ec-client-chain.pem"), PKI("ec-client.key"),
                                          NULL, PKI("ec-root.crt")),
                     PS_SUCCESS);
    assert_int_equal(matrixSslKeysSetServerName(ck2, "localhost"), PS_SUCCESS);
    link l;
    link_init(&l, true);
    validator_calls = 0;
    validator_return = 0;
    assert_int_equal(new_client(&l, ck2, 0, NULL), MATRIXSSL_REQUEST_SEND);
    new_server(&l, sk, validator);
    pump(&l);
    assert_int_equal(validator_calls, 1);
    assert_int_equal(validator_alert, 0);
    assert_true(l.c.complete && l.s.complete);
    int32 anon = 1;
    matrixSslGetAnonStatus(l.s.ssl, &anon);
    assert_int_equal(anon, 0);
    link_free(&l);

    /* A client without a certificate is refused. */
    link_init(&l, true);
    assert_int_equal(new_client(&l, ck, 0, NULL), MATRIXSSL_REQUEST_SEND);
    new_server(&l, sk, validator);
    pump(&l);
    assert_false(l.s.complete);
    assert_true(l.s.closed);
    assert_int_equal(l.c.alerts, 1);
    assert_int_equal(l.c.alert[1], SSL_ALERT_HANDSHAKE_FAILURE);
    link_free(&l);
    matrixSslDeleteKeys(ck);
    matrixSslDeleteKeys(ck2);
    matrixSslDeleteKeys(sk);
}

static void closure(bool dtls)
{
    sslKeys_t *ck = psk_keys(), *sk = psk_keys();
    link l;
    connect_pair(&l, dtls, ck, sk);
    assert_int_equal(matrixSslEncodeClosureAlert(l.c.ssl), MATRIXSSL_SUCCESS);
    assert_int_equal(matrixSslEncodeClosureAlert(l.c.ssl), MATRIXSSL_ERROR); /* once */
    flush(&l, &l.c);
    assert_true(l.c.closed);
    assert_int_equal(l.s.alerts, 1);
    assert_int_equal(l.s.alert[0], SSL_ALERT_LEVEL_WARNING);
    assert_int_equal(l.s.alert[1], SSL_ALERT_CLOSE_NOTIFY);
    /* The server's answering close_notify closes it too. petrel encoded
     * it already; a server that encodes its own as the seed shows is
     * told MATRIXSSL_SUCCESS, and nothing is sent twice. */
    assert_true(l.s.want_send);
    assert_int_equal(matrixSslEncodeClosureAlert(l.s.ssl), MATRIXSSL_SUCCESS);
    pump(&l);
    assert_true(l.s.closed);
    assert_int_equal(l.c.alerts, 1);
    assert_int_equal(l.c.alert[1], SSL_ALERT_CLOSE_NOTIFY);
    unsigned char *wb;
    assert_int_equal(matrixSslGetWritebuf(l.c.ssl, &wb, 10), PS_PROTOCOL_FAIL);
    assert_int_equal(matrixSslEncodeToOutdata(l.s.ssl, (unsigned char *)"x", 1), PS_PROTOCOL_FAIL);
    link_free(&l);
    matrixSslDeleteKeys(ck);
    matrixSslDeleteKeys(sk);
}

static void test_tls_closure_alert(void **state)
{
    (void)state;
    closure(false);
}

static void test_dtls_closure_alert(void **state)
{
    (void)state;
    closure(true);
}

/* matrixSslEncodeRehandshake from either side, TLS and DTLS: the new
 * handshake ends with HANDSHAKE_COMPLETE, data crosses it, and the keys
 * change. */
static void rehandshake(bool dtls, bool from_server)
{
    sslKeys_t *ck = psk_keys(), *sk = psk_keys();
    link l;
    connect_pair(&l, dtls, ck, sk);
    uint8_t before[48], after[48];
    assert_int_equal(petrel_export_master_secret(matrixSslGetPetrelConn(l.c.ssl), before), 0);
    side *starter = from_server ? &l.s : &l.c;
    l.c.complete = l.s.complete = false;
    l.c.complete_from_sent = l.s.complete_from_sent = false;
    assert_int_equal(matrixSslEncodeRehandshake(starter->ssl, NULL, NULL, 0, 0), MATRIXSSL_SUCCESS);
    /* One at a time. */
    assert_int_equal(matrixSslEncodeRehandshake(starter->ssl, NULL, NULL, 0, 0), MATRIXSSL_ERROR);
    /* Application data queued while it starts. */
    assert_true(matrixSslEncodeToOutdata(l.c.ssl, (unsigned char *)"during", 6) > 6);
    starter->want_send = true;
    l.c.want_send = true;
    pump(&l);
    assert_int_equal(l.c.error, 0);
    assert_int_equal(l.s.error, 0);
    assert_true(l.c.complete && l.s.complete);
    assert_true(l.s.complete_from_sent); /* the server sends the last Finished */
    assert_int_equal(l.s.app_len, 6);
    assert_int_equal(petrel_export_master_secret(matrixSslGetPetrelConn(l.c.ssl), after), 0);
    assert_memory_not_equal(before, after, 48);
    send_text(&l, &l.s, "after");
    assert_int_equal(l.c.app_len, 5);
    link_free(&l);
    matrixSslDeleteKeys(ck);
    matrixSslDeleteKeys(sk);
}

static void test_tls_rehandshake_from_client(void **state)
{
    (void)state;
    rehandshake(false, false);
}

static void test_tls_rehandshake_from_server(void **state)
{
    (void)state;
    rehandshake(false, true);
}

static void test_dtls_rehandshake_from_client(void **state)
{
    (void)state;
    rehandshake(true, false);
}

static void test_dtls_rehandshake_from_server(void **state)
{
    (void)state;
    rehandshake(true, true);
}

/* A server rehandshake with a certCB asks the client for a certificate
 * it did not need at first; a client cipherSpec narrows the new suite. */
static void test_rehandshake_parameters(void **state)
{
    (void)state;
    sslKeys_t *sk = NULL, *ck = NULL, *other = psk_keys();
    assert_int_equal(matrixSslNewKeys(&sk), PS_SUCCESS);
    assert_int_equal(matrixSslLoadRsaKeys(sk, PKI("ec-server-chain.pem"), PKI("ec-server.key"),
                                          NULL, PKI("ec-root.crt")),
                     PS_SUCCESS);
    assert_int_equal(matrixSslNewKeys(&ck), PS_SUCCESS);
    assert_int_equal(matrixSslLoadRsaKeys(ck, PKI("ec-client-chain.pem"), PKI("ec-client.key"),
                                          NULL, PKI("ec-root.crt")),
                     PS_SUCCESS);
    assert_int_equal(matrixSslKeysSetServerName(ck, "localhost"), PS_SUCCESS);
    link l;
    link_init(&l, true);
    assert_int_equal(new_client(&l, ck, 0, NULL), MATRIXSSL_REQUEST_SEND);
    new_server(&l, sk, NULL);
    /* Not yet established. */
    assert_int_equal(matrixSslEncodeRehandshake(l.c.ssl, NULL, NULL, 0, 0), MATRIXSSL_ERROR);
    pump(&l);
    assert_true(l.c.complete && l.s.complete);
    assert_int_equal(matrixSslEncodeRehandshake(l.c.ssl, other, NULL, 0, 0), PS_UNSUPPORTED_FAIL);
    assert_int_equal(matrixSslEncodeRehandshake(l.c.ssl, NULL, NULL, 0, SSL_RSA_WITH_RC4_128_SHA),
                     PS_UNSUPPORTED_FAIL);
    assert_int_equal(matrixSslEncodeRehandshake(l.c.ssl, NULL, NULL, 7, 0), PS_ARG_FAIL);
    assert_int_equal(matrixSslEncodeRehandshake(NULL, NULL, NULL, 0, 0), PS_ARG_FAIL);

    validator_calls = 0;
    validator_return = 0;
    assert_int_equal(
        matrixSslEncodeRehandshake(l.s.ssl, sk, validator, SSL_OPTION_FULL_HANDSHAKE, 0),
        MATRIXSSL_SUCCESS);
    l.s.want_send = true;
    pump(&l);
    assert_int_equal(l.c.error, 0);
    assert_int_equal(l.s.error, 0);
    assert_int_equal(validator_calls, 1); /* the client's certificate */
    assert_string_equal(validator_cn, "petrel test client");

    assert_int_equal(matrixSslEncodeRehandshake(l.c.ssl, NULL, NULL, SSL_OPTION_FULL_HANDSHAKE,
                                                TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384),
                     MATRIXSSL_SUCCESS);
    l.c.want_send = true;
    pump(&l);
    assert_int_equal(l.c.error, 0);
    assert_int_equal(petrel_cipher_suite(matrixSslGetPetrelConn(l.s.ssl)),
                     TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384);
    link_free(&l);
    matrixSslDeleteKeys(ck);
    matrixSslDeleteKeys(sk);
    matrixSslDeleteKeys(other);
}

/* ======================================================================
 * MatrixDTLS: resend on the application's timeout, PMTU, packing
 * ====================================================================== */

typedef struct drops {
    bool client[64];
    bool server[64];
} drops;

static bool drop_listed(void *ref, bool from_client, size_t index, const uint8_t *d, size_t n)
{
    (void)d;
    (void)n;
    drops *dr = ref;
    return index < 64 && (from_client ? dr->client[index] : dr->server[index]);
}

static void test_dtls_resend_on_application_timeout(void **state)
{
    (void)state;
    sslKeys_t *ck = psk_keys(), *sk = psk_keys();
    link l;
    link_init(&l, true);
    drops dr;
    memset(&dr, 0, sizeof(dr));
    dr.client[0] = true; /* the first ClientHello */
    dr.server[1] = true; /* the server's second datagram: its first ServerHello flight */
    l.drop = drop_listed;
    l.drop_ref = &dr;
    assert_int_equal(new_client(&l, ck, 0, NULL), MATRIXSSL_REQUEST_SEND);
    new_server(&l, sk, NULL);

    unsigned char *out;
    uint8_t first_hello[512];
    int32 n = matrixDtlsGetOutdata(l.c.ssl, &out);
    assert_true(n > 0 && (size_t)n < sizeof(first_hello));
    memcpy(first_hello, out, (size_t)n);
    l.c.want_send = false;
    /* flush: sends (drops) it and reads 0: the flight is out. */
    assert_int_equal(matrixDtlsSentData(l.c.ssl, (uint32)n), MATRIXSSL_SUCCESS);
    l.c.datagrams_sent++;
    assert_int_equal(matrixDtlsGetOutdata(l.c.ssl, &out), 0);
    assert_true(matrixDtlsGetTimeout(l.c.ssl) > 0);

    /* Nothing arrives; the application's timer fires: GetOutdata again
     * rebuilds the ClientHello (same message, a new record number). */
    int32 again = matrixDtlsGetOutdata(l.c.ssl, &out);
    assert_int_equal(again, n);
    assert_memory_equal(out + 13, first_hello + 13, (size_t)n - 13);
    assert_memory_not_equal(out + 3, first_hello + 3, 8);
    assert_int_equal(matrixDtlsSentData(l.c.ssl, (uint32)again), MATRIXSSL_SUCCESS);
    l.c.datagrams_sent++;
    deliver(&l, &l.s, out, (size_t)again);
    assert_int_equal(matrixDtlsGetOutdata(l.c.ssl, &out), 0);

    /* HelloVerifyRequest, ClientHello with the cookie, then the server's
     * flight is lost. This time the server's timer fires first. */
    pump(&l);
    assert_false(l.c.complete);
    assert_false(l.s.want_send);
    /* The send loop ended with GetOutdata returning 0, so the next call
     * is the timeout: the server's flight goes out again. */
    flush(&l, &l.s);
    pump(&l);
    assert_true(l.c.complete && l.s.complete);

    petrel_conn_stats st;
    petrel_get_stats(matrixSslGetPetrelConn(l.c.ssl), &st);
    assert_int_equal(st.retransmissions, 1);
    petrel_get_stats(matrixSslGetPetrelConn(l.s.ssl), &st);
    assert_int_equal(st.retransmissions, 1);
    /* After the handshake an empty call stays empty. */
    assert_int_equal(matrixDtlsGetOutdata(l.c.ssl, &out), 0);
    assert_int_equal(matrixDtlsGetOutdata(l.c.ssl, &out), 0);
    assert_int_equal(matrixDtlsGetTimeout(l.c.ssl), -1);
    link_free(&l);
    matrixSslDeleteKeys(ck);
    matrixSslDeleteKeys(sk);
}

/* A peer that never answers: the resends stop at petrel's limit. */
static void test_dtls_resend_limit(void **state)
{
    (void)state;
    sslKeys_t *ck = psk_keys();
    ssl_t *ssl;
    assert_int_equal(matrixDtlsNewClientSession(&ssl, ck, NULL, 0, NULL, NULL, NULL),
                     MATRIXSSL_REQUEST_SEND);
    unsigned char *out;
    int resends = -1;
    int32 n = 0;
    for (int i = 0; i < 40; i++) {
        n = matrixDtlsGetOutdata(ssl, &out);
        if (n < 0)
            break;
        if (n > 0) {
            resends++;
            assert_int_equal(matrixDtlsSentData(ssl, (uint32)n), MATRIXSSL_SUCCESS);
        }
    }
    assert_int_equal(n, PS_TIMEOUT_FAIL);
    assert_int_equal(resends, 7); /* RFC 6347's default tries */
    unsigned char *buf, *pt;
    uint32 pt_len;
    assert_true(matrixSslGetReadbuf(ssl, &buf) > 0);
    assert_int_equal(matrixSslReceivedData(ssl, 1, &pt, &pt_len), PS_TIMEOUT_FAIL);
    matrixSslDeleteSession(ssl);
    matrixSslDeleteKeys(ck);
}

static void test_dtls_pmtu_between_handshakes(void **state)
{
    (void)state;
    assert_int_equal(matrixDtlsGetPmtu(), DTLS_PMTU);
    assert_int_equal(matrixDtlsSetPmtu(0), PS_ARG_FAIL);
    assert_int_equal(matrixDtlsSetPmtu(199), PS_ARG_FAIL);
    assert_int_equal(matrixDtlsSetPmtu(16385), PS_ARG_FAIL);
    assert_int_equal(matrixDtlsGetPmtu(), DTLS_PMTU);

    sslKeys_t *ck = client_cert_keys(PKI("ec-root.crt")), *sk = server_cert_keys();
    link l;
    link_init(&l, true);
    assert_int_equal(new_client(&l, ck, 0, NULL), MATRIXSSL_REQUEST_SEND);
    new_server(&l, sk, NULL);
    pump(&l);
    assert_true(l.c.complete && l.s.complete);
    size_t big = l.s.max_datagram;
    assert_true(big > 400 && big <= DTLS_PMTU);
    link_free(&l);

    assert_int_equal(matrixDtlsSetPmtu(400), 400);
    assert_int_equal(matrixDtlsGetPmtu(), 400);
    link_init(&l, true);
    assert_int_equal(new_client(&l, ck, 0, NULL), MATRIXSSL_REQUEST_SEND);
    new_server(&l, sk, NULL);
    pump(&l);
    assert_true(l.c.complete && l.s.complete);
    assert_true(l.s.max_datagram <= 400);
    assert_true(l.c.max_datagram <= 400);
    /* Application data follows the PMTU too. */
    unsigned char *wb;
    assert_true(matrixSslGetWritebuf(l.c.ssl, &wb, 1000) < 400);
    assert_int_equal(matrixSslEncodeToOutdata(l.c.ssl, wb, 1000), PS_LIMIT_FAIL);

    /* An open session follows a change once its queue is empty. */
    assert_int_equal(matrixDtlsSetPmtu(1000), 1000);
    int32 cap = matrixSslGetWritebuf(l.c.ssl, &wb, 1000);
    assert_true(cap > 400 && cap < 1000);
    link_free(&l);

    assert_int_equal(matrixDtlsSetPmtu(-1), DTLS_PMTU);
    assert_int_equal(matrixDtlsGetPmtu(), DTLS_PMTU);
    matrixSslDeleteKeys(ck);
    matrixSslDeleteKeys(sk);
}

/* Counts the server's datagrams in a certificate handshake. */
static size_t server_datagrams(void)
{
    sslKeys_t *ck = client_cert_keys(PKI("ec-root.crt")), *sk = server_cert_keys();
    link l;
    link_init(&l, true);
    assert_int_equal(new_client(&l, ck, 0, NULL), MATRIXSSL_REQUEST_SEND);
    new_server(&l, sk, NULL);
    pump(&l);
    assert_true(l.c.complete && l.s.complete);
    size_t n = l.s.datagrams_sent;
    link_free(&l);
    matrixSslDeleteKeys(ck);
    matrixSslDeleteKeys(sk);
    return n;
}

/* This file defines DTLS_SEND_RECORDS_INDIVIDUALLY, so matrixSslOpen()
 * turns it on: each handshake message travels alone. */
static void test_dtls_send_records_individually(void **state)
{
    (void)state;
    size_t packed = server_datagrams();
    assert_int_equal(matrixSslOpen(), PS_SUCCESS);
    size_t single = server_datagrams();
    /* HelloVerifyRequest; ServerHello, Certificate, ServerKeyExchange,
     * ServerHelloDone; ChangeCipherSpec, Finished. */
    assert_int_equal(single, 7);
    assert_true(packed < single);
    matrixSslClose(); /* back to packing */
    assert_int_equal(server_datagrams(), packed);
}

/* ======================================================================
 * Cipher suites
 * ====================================================================== */

static void test_cipher_suite_forcing(void **state)
{
    (void)state;
    sslKeys_t *ck = psk_keys(), *sk = psk_keys();
    link l;
    link_init(&l, false);
    assert_int_equal(new_client(&l, ck, TLS_PSK_WITH_AES_256_GCM_SHA384, NULL),
                     MATRIXSSL_REQUEST_SEND);
    new_server(&l, sk, NULL);
    pump(&l);
    assert_true(l.c.complete);
    assert_int_equal(petrel_cipher_suite(matrixSslGetPetrelConn(l.c.ssl)),
                     TLS_PSK_WITH_AES_256_GCM_SHA384);
    link_free(&l);

    /* The seed's suites: insecure or not implemented. */
    static const uint32 refused[] = {
        SSL_RSA_WITH_RC4_128_SHA,      SSL_RSA_WITH_RC4_128_MD5,
        SSL_RSA_WITH_3DES_EDE_CBC_SHA, TLS_RSA_WITH_AES_128_CBC_SHA,
        TLS_RSA_WITH_SEED_CBC_SHA,     TLS_DHE_RSA_WITH_AES_256_CBC_SHA,
        TLS_PSK_WITH_AES_128_CBC_SHA,  0x1234};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        ssl_t *ssl = (ssl_t *)&l; /* must be reset to NULL */
        assert_int_equal(matrixSslNewClientSession(&ssl, ck, NULL, refused[i], NULL, NULL, NULL),
                         PS_UNSUPPORTED_FAIL);
        assert_null(ssl);
    }
    ssl_t *ssl;
    assert_int_equal(matrixSslNewClientSession(&ssl, ck, NULL, 0x10000, NULL, NULL, NULL),
                     PS_ARG_FAIL);
    matrixSslDeleteKeys(ck);
    matrixSslDeleteKeys(sk);
}

static void test_cipher_suite_enabled_status(void **state)
{
    (void)state;
    sslKeys_t *ck = psk_keys(), *sk = psk_keys();
    link l;

    /* Per server session: the client's first choice is disabled, so the
     * server picks another. */
    link_init(&l, false);
    assert_int_equal(new_client(&l, ck, 0, NULL), MATRIXSSL_REQUEST_SEND);
    new_server(&l, sk, NULL);
    assert_int_equal(
        matrixSslSetCipherSuiteEnabledStatus(l.s.ssl, TLS_PSK_WITH_AES_128_CCM_8, PS_FALSE),
        MATRIXSSL_SUCCESS);
    /* The ClientHello reaches the server: too late for this handshake. */
    l.c.want_send = false;
    flush(&l, &l.c);
    assert_true(l.s.want_send);
    assert_int_equal(
        matrixSslSetCipherSuiteEnabledStatus(l.s.ssl, TLS_PSK_WITH_AES_128_GCM_SHA256, PS_FALSE),
        PS_ARG_FAIL);
    pump(&l);
    assert_true(l.c.complete);
    uint16_t chosen = petrel_cipher_suite(matrixSslGetPetrelConn(l.c.ssl));
    assert_int_not_equal(chosen, TLS_PSK_WITH_AES_128_CCM_8);
    assert_int_not_equal(chosen, 0);
    /* A client session: a server-only call. */
    assert_int_equal(matrixSslSetCipherSuiteEnabledStatus(l.c.ssl, chosen, PS_FALSE),
                     PS_UNSUPPORTED_FAIL);
    link_free(&l);

    /* Re-enabling on the session undoes it. */
    link_init(&l, false);
    assert_int_equal(new_client(&l, ck, 0, NULL), MATRIXSSL_REQUEST_SEND);
    new_server(&l, sk, NULL);
    assert_int_equal(
        matrixSslSetCipherSuiteEnabledStatus(l.s.ssl, TLS_PSK_WITH_AES_128_CCM_8, PS_FALSE),
        MATRIXSSL_SUCCESS);
    assert_int_equal(
        matrixSslSetCipherSuiteEnabledStatus(l.s.ssl, TLS_PSK_WITH_AES_128_CCM_8, PS_TRUE),
        MATRIXSSL_SUCCESS);
    pump(&l);
    assert_int_equal(petrel_cipher_suite(matrixSslGetPetrelConn(l.c.ssl)),
                     TLS_PSK_WITH_AES_128_CCM_8);
    link_free(&l);

    /* SSL_MAX_DISABLED_CIPHERS per session. */
    static const uint16 ids[] = {TLS_PSK_WITH_AES_128_CCM_8,
                                 TLS_PSK_WITH_AES_128_GCM_SHA256,
                                 TLS_PSK_WITH_AES_256_GCM_SHA384,
                                 TLS_PSK_WITH_CHACHA20_POLY1305_SHA256,
                                 TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
                                 TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8,
                                 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                                 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                                 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384};
    ssl_t *srv;
    assert_int_equal(matrixSslNewServerSession(&srv, sk, NULL), PS_SUCCESS);
    for (size_t i = 0; i < SSL_MAX_DISABLED_CIPHERS; i++)
        assert_int_equal(matrixSslSetCipherSuiteEnabledStatus(srv, ids[i], PS_FALSE),
                         MATRIXSSL_SUCCESS);
    assert_int_equal(matrixSslSetCipherSuiteEnabledStatus(srv, ids[8], PS_FALSE), PS_LIMIT_FAIL);
    assert_int_equal(matrixSslSetCipherSuiteEnabledStatus(srv, ids[0], PS_FALSE),
                     MATRIXSSL_SUCCESS); /* already */
    /* Bad arguments and unknown suites. */
    assert_int_equal(matrixSslSetCipherSuiteEnabledStatus(srv, ids[0], 2), PS_ARG_FAIL);
    assert_int_equal(matrixSslSetCipherSuiteEnabledStatus(srv, 0x1234, PS_FALSE), MATRIXSSL_ERROR);
    assert_int_equal(matrixSslSetCipherSuiteEnabledStatus(NULL, SSL_RSA_WITH_RC4_128_SHA, PS_TRUE),
                     PS_UNSUPPORTED_FAIL);
    assert_int_equal(matrixSslSetCipherSuiteEnabledStatus(NULL, SSL_RSA_WITH_RC4_128_SHA, PS_FALSE),
                     MATRIXSSL_SUCCESS);
    matrixSslDeleteSession(srv);

    /* Globally: new sessions of both kinds leave it out; a client that
     * forces it is refused; re-enabling restores it. */
    assert_int_equal(
        matrixSslSetCipherSuiteEnabledStatus(NULL, TLS_PSK_WITH_AES_128_CCM_8, PS_FALSE),
        MATRIXSSL_SUCCESS);
    ssl_t *cl;
    assert_int_equal(
        matrixSslNewClientSession(&cl, ck, NULL, TLS_PSK_WITH_AES_128_CCM_8, NULL, NULL, NULL),
        PS_UNSUPPORTED_FAIL);
    connect_pair(&l, true, ck, sk);
    assert_int_not_equal(petrel_cipher_suite(matrixSslGetPetrelConn(l.c.ssl)),
                         TLS_PSK_WITH_AES_128_CCM_8);
    link_free(&l);
    /* A session cannot re-enable what is disabled globally. */
    link_init(&l, false);
    assert_int_equal(new_client(&l, ck, 0, NULL), MATRIXSSL_REQUEST_SEND);
    new_server(&l, sk, NULL);
    assert_int_equal(
        matrixSslSetCipherSuiteEnabledStatus(l.s.ssl, TLS_PSK_WITH_AES_128_CCM_8, PS_TRUE),
        MATRIXSSL_SUCCESS);
    pump(&l);
    assert_int_not_equal(petrel_cipher_suite(matrixSslGetPetrelConn(l.c.ssl)),
                         TLS_PSK_WITH_AES_128_CCM_8);
    link_free(&l);
    assert_int_equal(
        matrixSslSetCipherSuiteEnabledStatus(NULL, TLS_PSK_WITH_AES_128_CCM_8, PS_TRUE),
        MATRIXSSL_SUCCESS);
    connect_pair(&l, false, ck, sk);
    assert_int_equal(petrel_cipher_suite(matrixSslGetPetrelConn(l.c.ssl)),
                     TLS_PSK_WITH_AES_128_CCM_8);
    link_free(&l);
    matrixSslDeleteKeys(ck);
    matrixSslDeleteKeys(sk);
}

/* ======================================================================
 * Hello extensions
 * ====================================================================== */

static int ext_calls;
static bool ext_saw_renegotiation_info;
static int32 ext_return;

static int32 ext_cb(ssl_t *ssl, unsigned short type, unsigned short len, void *data)
{
    assert_non_null(ssl);
    ext_calls++;
    if (type == 0xff01) {
        ext_saw_renegotiation_info = true;
        assert_int_equal(len, 1); /* renegotiated_connection<0..255>, empty */
        assert_int_equal(((unsigned char *)data)[0], 0);
    }
    return ext_return;
}

static void test_hello_extensions(void **state)
{
    (void)state;
    sslKeys_t *ck = psk_keys(), *sk = psk_keys();
    tlsExtension_t *ext = NULL;
    assert_int_equal(matrixSslNewHelloExtension(&ext), PS_SUCCESS);
    /* The seed's example: a ServerNameList. */
    static unsigned char sni[] = {0,   14,  0,   0,   11,  'e', 'x', 'a',
                                  'm', 'p', 'l', 'e', '.', 'c', 'o', 'm'};
    assert_int_equal(matrixSslLoadHelloExtension(ext, sni, sizeof(sni), 0), PS_SUCCESS);
    static unsigned char priv[] = {0xCA, 0xFE};
    assert_int_equal(matrixSslLoadHelloExtension(ext, priv, sizeof(priv), 0xFE00), PS_SUCCESS);
    assert_int_equal(matrixSslLoadHelloExtension(ext, priv, sizeof(priv), 0xFE00), PS_ARG_FAIL);
    assert_int_equal(matrixSslLoadHelloExtension(ext, NULL, 2, 0xFE01), PS_ARG_FAIL);
    assert_int_equal(matrixSslLoadHelloExtension(ext, priv, 2, 0x10000), PS_ARG_FAIL);
    assert_int_equal(matrixSslLoadHelloExtension(NULL, priv, 2, 0xFE01), PS_ARG_FAIL);

    link l;
    link_init(&l, true);
    ext_calls = 0;
    ext_saw_renegotiation_info = false;
    ext_return = 0;
    assert_int_equal(matrixDtlsNewClientSession(&l.c.ssl, ck, NULL, 0, NULL, ext, ext_cb),
                     MATRIXSSL_REQUEST_SEND);
    matrixSslDeleteHelloExtension(ext); /* copied: may go right away */
    unsigned char *out;
    int32 n = matrixDtlsGetOutdata(l.c.ssl, &out);
    assert_true(n > 0);
    static const unsigned char priv_wire[] = {0xFE, 0x00, 0x00, 0x02, 0xCA, 0xFE};
    assert_non_null(memmem(out, (size_t)n, priv_wire, sizeof(priv_wire)));
    assert_non_null(memmem(out, (size_t)n, sni, sizeof(sni)));
    l.c.want_send = true;
    new_server(&l, sk, NULL);
    pump(&l);
    assert_true(l.c.complete && l.s.complete);
    assert_true(ext_calls >= 2);
    assert_true(ext_saw_renegotiation_info);
    link_free(&l);

    /* A callback that refuses ends the handshake. */
    link_init(&l, false);
    ext_return = -1;
    assert_int_equal(matrixSslNewClientSession(&l.c.ssl, ck, NULL, 0, NULL, NULL, ext_cb),
                     MATRIXSSL_REQUEST_SEND);
    l.c.want_send = true;
    new_server(&l, sk, NULL);
    pump(&l);
    assert_false(l.c.complete);
    assert_true(l.c.closed);
    assert_int_equal(l.s.alerts, 1);
    assert_int_equal(l.s.alert[1], SSL_ALERT_HANDSHAKE_FAILURE);
    link_free(&l);

    /* An extension petrel writes itself, or cannot carry. */
    static const uint32 refused[] = {0xff01, 13, 43, 5, 35};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        assert_int_equal(matrixSslNewHelloExtension(&ext), PS_SUCCESS);
        assert_int_equal(matrixSslLoadHelloExtension(ext, priv, sizeof(priv), refused[i]),
                         PS_SUCCESS);
        ssl_t *ssl;
        assert_int_equal(matrixSslNewClientSession(&ssl, ck, NULL, 0, NULL, ext, NULL),
                         PS_UNSUPPORTED_FAIL);
        matrixSslDeleteHelloExtension(ext);
    }
    assert_int_equal(matrixSslNewHelloExtension(NULL), PS_ARG_FAIL);
    matrixSslDeleteHelloExtension(NULL);
    matrixSslDeleteKeys(ck);
    matrixSslDeleteKeys(sk);
}

/* ======================================================================
 * Bad arguments: every documented error return
 * ====================================================================== */

static void test_bad_arguments(void **state)
{
    (void)state;
    sslKeys_t *keys = psk_keys();
    sslKeys_t *empty = NULL;
    assert_int_equal(matrixSslNewKeys(&empty), PS_SUCCESS);
    ssl_t *ssl = (ssl_t *)keys;
    unsigned char *buf = NULL, *pt = NULL;
    uint32 pt_len = 0;

    /* Session creation. */
    assert_int_equal(matrixSslNewClientSession(NULL, keys, NULL, 0, NULL, NULL, NULL), PS_ARG_FAIL);
    assert_int_equal(matrixSslNewClientSession(&ssl, NULL, NULL, 0, NULL, NULL, NULL), PS_ARG_FAIL);
    assert_null(ssl);
    assert_int_equal(matrixDtlsNewClientSession(NULL, keys, NULL, 0, NULL, NULL, NULL),
                     PS_ARG_FAIL);
    /* Keys with nothing to authenticate with. */
    assert_int_equal(matrixSslNewClientSession(&ssl, empty, NULL, 0, NULL, NULL, NULL),
                     PS_ARG_FAIL);
    assert_null(ssl);
    assert_int_equal(matrixSslNewServerSession(NULL, keys, NULL), PS_ARG_FAIL);
    assert_int_equal(matrixSslNewServerSession(&ssl, NULL, NULL), PS_ARG_FAIL);
    assert_int_equal(matrixDtlsNewServerSession(&ssl, NULL, NULL), PS_ARG_FAIL);
    assert_int_equal(matrixSslInitSessionId(NULL), PS_ARG_FAIL);

    /* The buffer flow with a NULL session or outputs. */
    assert_int_equal(matrixSslGetReadbuf(NULL, &buf), PS_ARG_FAIL);
    assert_int_equal(matrixSslReceivedData(NULL, 1, &pt, &pt_len), PS_ARG_FAIL);
    assert_int_equal(matrixSslProcessedData(NULL, &pt, &pt_len), PS_ARG_FAIL);
    assert_int_equal(matrixSslGetOutdata(NULL, &buf), PS_ARG_FAIL);
    assert_int_equal(matrixSslSentData(NULL, 1), PS_ARG_FAIL);
    assert_int_equal(matrixSslGetWritebuf(NULL, &buf, 1), PS_ARG_FAIL);
    assert_int_equal(matrixSslEncodeWritebuf(NULL, 1), PS_ARG_FAIL);
    assert_int_equal(matrixSslEncodeToOutdata(NULL, (unsigned char *)"x", 1), PS_ARG_FAIL);
    assert_int_equal(matrixSslEncodeClosureAlert(NULL), PS_ARG_FAIL);
    assert_int_equal(matrixDtlsGetOutdata(NULL, &buf), PS_ARG_FAIL);
    assert_int_equal(matrixDtlsSentData(NULL, 1), PS_ARG_FAIL);
    assert_int_equal(matrixSslSetCipherSuiteEnabledStatus(NULL, TLS_PSK_WITH_AES_128_CCM_8, 5),
                     PS_ARG_FAIL);
    assert_int_equal(matrixDtlsGetTimeout(NULL), -1);
    assert_null(matrixSslGetPetrelConn(NULL));
    matrixSslGetAnonStatus(NULL, NULL);
    matrixSslDeleteSession(NULL);

    /* With a session. */
    assert_int_equal(matrixSslNewClientSession(&ssl, keys, NULL, 0, NULL, NULL, NULL),
                     MATRIXSSL_REQUEST_SEND);
    assert_int_equal(matrixSslGetReadbuf(ssl, NULL), PS_ARG_FAIL);
    assert_int_equal(matrixSslReceivedData(ssl, 1, NULL, &pt_len), PS_ARG_FAIL);
    assert_int_equal(matrixSslReceivedData(ssl, 1, &pt, NULL), PS_ARG_FAIL);
    assert_int_equal(matrixSslReceivedData(ssl, 0, &pt, &pt_len), PS_ARG_FAIL);
    int32 cap = matrixSslGetReadbuf(ssl, &buf);
    assert_true(cap > 0);
    assert_int_equal(matrixSslReceivedData(ssl, (uint32)cap + 1, &pt, &pt_len), PS_ARG_FAIL);
    assert_int_equal(matrixSslProcessedData(ssl, NULL, &pt_len), PS_ARG_FAIL);
    assert_int_equal(matrixSslGetOutdata(ssl, NULL), PS_ARG_FAIL);
    int32 n = matrixSslGetOutdata(ssl, &buf);
    assert_true(n > 0);
    assert_int_equal(matrixSslSentData(ssl, 0), PS_ARG_FAIL);
    assert_int_equal(matrixSslSentData(ssl, (uint32)n + 1), PS_ARG_FAIL);
    /* Application data before the handshake completes. */
    assert_int_equal(matrixSslGetWritebuf(ssl, &buf, 0), PS_ARG_FAIL);
    assert_int_equal(matrixSslGetWritebuf(ssl, &buf, 10), PS_FAILURE);
    assert_int_equal(matrixSslEncodeWritebuf(ssl, 10), PS_FAILURE);
    assert_int_equal(matrixSslEncodeToOutdata(ssl, NULL, 1), PS_ARG_FAIL);
    assert_int_equal(matrixSslEncodeToOutdata(ssl, (unsigned char *)"x", 0), PS_ARG_FAIL);
    assert_int_equal(matrixSslEncodeToOutdata(ssl, (unsigned char *)"x", 1), PS_FAILURE);
    matrixSslDeleteSession(ssl);

    /* The write buffer: its size, and EncodeWritebuf without it. */
    sslKeys_t *ck = psk_keys(), *sk = psk_keys();
    link l;
    connect_pair(&l, false, ck, sk);
    assert_int_equal(matrixSslEncodeWritebuf(l.c.ssl, 4), PS_FAILURE);
    assert_int_equal(matrixSslGetWritebuf(l.c.ssl, &buf, 4), 4);
    assert_int_equal(matrixSslEncodeWritebuf(l.c.ssl, 5), PS_ARG_FAIL);
    assert_int_equal(matrixSslEncodeWritebuf(l.c.ssl, 0), PS_ARG_FAIL);
    static unsigned char big[16385];
    assert_int_equal(matrixSslEncodeToOutdata(l.c.ssl, big, sizeof(big)), PS_LIMIT_FAIL);
    assert_true(matrixSslEncodeToOutdata(l.c.ssl, big, sizeof(big) - 1) > 16384);
    link_free(&l);
    matrixSslDeleteKeys(ck);
    matrixSslDeleteKeys(sk);
    matrixSslDeleteKeys(keys);
    matrixSslDeleteKeys(empty);
}

/* Garbage from the network ends a TLS session with an alert to send and
 * a clean error; the next good session is unaffected. */
static void test_garbage_input(void **state)
{
    (void)state;
    sslKeys_t *sk = psk_keys(), *ck = psk_keys();
    ssl_t *srv;
    assert_int_equal(matrixSslNewServerSession(&srv, sk, NULL), PS_SUCCESS);
    unsigned char *buf, *pt;
    uint32 pt_len;
    assert_true(matrixSslGetReadbuf(srv, &buf) > 16);
    memcpy(buf, "\x16\x03\x03\x00\x05garbage", 12);
    int32 rc = matrixSslReceivedData(srv, 12, &pt, &pt_len);
    assert_int_equal(rc, MATRIXSSL_REQUEST_SEND); /* the fatal alert */
    unsigned char *out;
    int32 n = matrixSslGetOutdata(srv, &out);
    assert_int_equal(n, 7);
    assert_int_equal(out[0], 21); /* alert record */
    assert_int_equal(matrixSslSentData(srv, (uint32)n), MATRIXSSL_REQUEST_CLOSE);
    assert_true(matrixSslGetReadbuf(srv, &buf) > 0);
    assert_int_equal(matrixSslReceivedData(srv, 1, &pt, &pt_len), PS_PROTOCOL_FAIL);
    matrixSslDeleteSession(srv);

    /* DTLS drops garbage silently: the session still completes. */
    link l;
    link_init(&l, true);
    assert_int_equal(new_client(&l, ck, 0, NULL), MATRIXSSL_REQUEST_SEND);
    new_server(&l, sk, NULL);
    assert_true(matrixSslGetReadbuf(l.s.ssl, &buf) > 16);
    memcpy(buf, "\x16\xfe\xfd\x00\x00garbage", 12);
    assert_int_equal(matrixSslReceivedData(l.s.ssl, 12, &pt, &pt_len), MATRIXSSL_REQUEST_RECV);
    pump(&l);
    assert_true(l.c.complete && l.s.complete);
    link_free(&l);
    matrixSslDeleteKeys(ck);
    matrixSslDeleteKeys(sk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tls_psk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_psk_byte_by_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_certificates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dtls_psk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dtls_certificates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_use_dtls_maps_session_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_multi_record_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dtls_multi_record_datagram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_partial_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_fatal_alert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dtls_fatal_alert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validator_allows_anonymous, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_validator_requests_client_certificate, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tls_closure_alert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dtls_closure_alert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_rehandshake_from_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_rehandshake_from_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dtls_rehandshake_from_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dtls_rehandshake_from_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rehandshake_parameters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dtls_resend_on_application_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dtls_resend_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dtls_pmtu_between_handshakes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dtls_send_records_individually, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cipher_suite_forcing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cipher_suite_enabled_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hello_extensions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_input, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
