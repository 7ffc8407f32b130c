/*
 * TLS 1.2 over a byte stream (PETREL_STREAM): the same handshake core as
 * DTLS, driven through the buffer flow with the stream cut at random
 * places, partial sends, many records per read, close_notify from either
 * side, truncation, and every fatal record error with its alert.
 *
 * Two in-memory byte pipes stand in for TCP. The configs come from
 * tests/support/pair (virtual clock, seeded RNG, PSK "client").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <petrel/petrel.h>

#include "conn/conn_types.h"
#include "tests/support/pair.h"

#define PKI(name) PETREL_SOURCE_DIR "/tests/pki/" name

/* ---- a byte pipe ---- */

typedef struct pipe_buf {
    uint8_t *data;
    size_t len;
    size_t pos;
    size_t cap;
} pipe_buf;

static void pipe_append(pipe_buf *p, const uint8_t *data, size_t len)
{
    if (p->len + len > p->cap) {
        size_t cap = p->cap ? p->cap : 4096;
        while (cap < p->len + len)
            cap *= 2;
        p->data = realloc(p->data, cap);
        assert_non_null(p->data);
        p->cap = cap;
    }
    memcpy(p->data + p->len, data, len);
    p->len += len;
}

static size_t pipe_left(const pipe_buf *p)
{
    return p->len - p->pos;
}

/* ---- the stream pair ---- */

typedef struct side {
    petrel_conn *conn;
    int error;
    bool complete;
    bool peer_closed;
    size_t alerts;
    int last_alert;
    uint64_t received; /* application bytes */
    uint64_t hash;     /* FNV-1a of them */
    size_t events_in_last_read;
} side;

typedef struct spair {
    pair p;         /* configs, clock, RNG */
    side s[2];      /* 0 client, 1 server */
    pipe_buf to[2]; /* to[0]: bytes for the client; to[1]: for the server */
    uint64_t rng;
    size_t max_chunk;   /* largest read (0: as large as the engine allows) */
    bool partial_sends; /* send a random part of outdata each time */
} spair;

enum { CLIENT = 0, SERVER = 1 };

static uint64_t next_rand(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint64_t fnv1a(uint64_t h, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= d[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

#define FNV_INIT UINT64_C(0xcbf29ce484222325)

static void spair_init(spair *sp, uint64_t seed)
{
    memset(sp, 0, sizeof(*sp));
    pair_init(&sp->p, seed);
    sp->rng = seed ^ 0x5eed;
    sp->s[0].hash = sp->s[1].hash = FNV_INIT;
}

static void spair_start(spair *sp)
{
    sp->s[CLIENT].conn = petrel_conn_new(sp->p.client_cfg, PETREL_CLIENT, PETREL_STREAM, NULL, 0);
    sp->s[SERVER].conn = petrel_conn_new(sp->p.server_cfg, PETREL_SERVER, PETREL_STREAM, NULL, 0);
    assert_non_null(sp->s[CLIENT].conn);
    assert_non_null(sp->s[SERVER].conn);
    assert_int_equal(petrel_connect(sp->s[CLIENT].conn), PETREL_REQUEST_SEND);
}

static void spair_free(spair *sp)
{
    for (int i = 0; i < 2; i++) {
        petrel_conn_free(sp->s[i].conn);
        free(sp->to[i].data);
    }
    pair_free(&sp->p);
}

/* Moves what `from` has queued into the pipe to the other side. */
static void flush_side(spair *sp, int from)
{
    petrel_conn *c = sp->s[from].conn;
    const uint8_t *buf;
    int n;
    while ((n = petrel_get_outdata(c, &buf)) > 0) {
        size_t k = (size_t)n;
        if (sp->partial_sends)
            k = 1 + next_rand(&sp->rng) % (size_t)n;
        pipe_append(&sp->to[1 - from], buf, k);
        int rc = petrel_sent(c, k);
        assert_true(rc == PETREL_SUCCESS || rc == PETREL_REQUEST_SEND);
        assert_int_equal(rc == PETREL_REQUEST_SEND, k < (size_t)n);
    }
}

/* Acts on one status from received/processed; returns the next one. */
static int handle_status(side *sd, int rc, const uint8_t *data, size_t len)
{
    petrel_conn *c = sd->conn;
    for (;;) {
        switch (rc) {
        case PETREL_APP_DATA:
            sd->received += len;
            sd->hash = fnv1a(sd->hash, data, len);
            break;
        case PETREL_HANDSHAKE_COMPLETE:
            sd->complete = true;
            break;
        case PETREL_RECEIVED_ALERT: {
            int level, desc;
            assert_true(petrel_last_alert(c, &level, &desc));
            sd->alerts++;
            sd->last_alert = desc;
            if (desc == 0)
                sd->peer_closed = true;
            break;
        }
        default:
            return rc;
        }
        sd->events_in_last_read++;
        rc = petrel_processed(c, &data, &len);
    }
}

/* Feeds the pipe to `to` into its connection in reads of random size. */
static int feed_side(spair *sp, int to)
{
    side *sd = &sp->s[to];
    pipe_buf *p = &sp->to[to];
    while (pipe_left(p) > 0 && !sd->error) {
        uint8_t *buf;
        int cap = petrel_get_readbuf(sd->conn, &buf);
        assert_true(cap > 0);
        size_t k = pipe_left(p) < (size_t)cap ? pipe_left(p) : (size_t)cap;
        if (sp->max_chunk) {
            size_t limit = 1 + next_rand(&sp->rng) % sp->max_chunk;
            if (k > limit)
                k = limit;
        }
        memcpy(buf, p->data + p->pos, k);
        p->pos += k;
        const uint8_t *data = NULL;
        size_t len = 0;
        sd->events_in_last_read = 0;
        int rc = petrel_received(sd->conn, k, &data, &len);
        rc = handle_status(sd, rc, data, len);
        if (rc < 0) {
            sd->error = rc;
            int level;
            if (rc == PETREL_ERR_PEER_ALERT)
                assert_true(petrel_last_alert(sd->conn, &level, &sd->last_alert));
        }
    }
    if (p->pos == p->len)
        p->pos = p->len = 0;
    return sd->error;
}

/* Moves bytes both ways until nothing is left to move. */
static void spair_run(spair *sp)
{
    for (int round = 0; round < 10000; round++) {
        flush_side(sp, CLIENT);
        flush_side(sp, SERVER);
        if (pipe_left(&sp->to[CLIENT]) == 0 && pipe_left(&sp->to[SERVER]) == 0)
            return;
        feed_side(sp, SERVER);
        feed_side(sp, CLIENT);
    }
    fail_msg("the pair never settled");
}

static void handshake_ok(spair *sp)
{
    spair_start(sp);
    spair_run(sp);
    assert_int_equal(sp->s[CLIENT].error, 0);
    assert_int_equal(sp->s[SERVER].error, 0);
    assert_true(sp->s[CLIENT].complete);
    assert_true(sp->s[SERVER].complete);
    uint8_t m1[48], m2[48];
    assert_int_equal(petrel_export_master_secret(sp->s[CLIENT].conn, m1), 0);
    assert_int_equal(petrel_export_master_secret(sp->s[SERVER].conn, m2), 0);
    assert_memory_equal(m1, m2, 48);
    assert_int_equal(petrel_protocol_version(sp->s[CLIENT].conn), 0x0303);
    assert_int_equal(petrel_conn_mode(sp->s[CLIENT].conn), PETREL_STREAM);
}

static void send_text(spair *sp, int from, const char *text)
{
    assert_int_equal(
        petrel_encode_to_outdata(sp->s[from].conn, (const uint8_t *)text, strlen(text)),
        PETREL_REQUEST_SEND);
}

/* ---- handshakes ---- */

static void use_suite(spair *sp, uint16_t suite)
{
    assert_int_equal(petrel_config_set_suites(sp->p.client_cfg, &suite, 1), 0);
    assert_int_equal(petrel_config_set_suites(sp->p.server_cfg, &suite, 1), 0);
}

static void test_psk_every_suite(void **state)
{
    (void)state;
    static const uint16_t suites[] = {0xC0A8, 0x00A8, 0x00A9, 0xCCAB, 0xCCAC};
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
        spair sp;
        spair_init(&sp, 100 + i);
        use_suite(&sp, suites[i]);
        handshake_ok(&sp);
        assert_int_equal(petrel_cipher_suite(sp.s[CLIENT].conn), suites[i]);
        send_text(&sp, CLIENT, "ping");
        send_text(&sp, SERVER, "pong!");
        spair_run(&sp);
        assert_int_equal(sp.s[SERVER].received, 4);
        assert_int_equal(sp.s[CLIENT].received, 5);
        spair_free(&sp);
    }
}

static void cert_creds(spair *sp, const char *chain, const char *key, const char *ca)
{
    static const uint16_t all[] = {0xC0AE, 0xC0AC, 0xC02B, 0xC02C, 0xCCA9, 0xC02F, 0xC030, 0xCCA8};
    assert_int_equal(petrel_config_set_suites(sp->p.client_cfg, all, 8), 0);
    assert_int_equal(petrel_config_set_suites(sp->p.server_cfg, all, 8), 0);
    assert_int_equal(petrel_config_load_cert_chain_file(sp->p.server_cfg, chain), 0);
    assert_int_equal(petrel_config_load_key_file(sp->p.server_cfg, key, NULL), 0);
    assert_int_equal(petrel_config_load_ca_file(sp->p.client_cfg, ca), 0);
}

static void test_certificates(void **state)
{
    (void)state;
    struct {
        const char *chain, *key, *ca;
        uint16_t expect;
    } cases[] = {
        {PKI("ec-server-chain.pem"), PKI("ec-server.key"), PKI("ca-all.pem"), 0xC0AE},
        {PKI("rsa-server-chain.pem"), PKI("rsa-server.key"), PKI("rsa-root.crt"), 0xC02F},
    };
    for (size_t i = 0; i < 2; i++) {
        spair sp;
        spair_init(&sp, 200 + i);
        cert_creds(&sp, cases[i].chain, cases[i].key, cases[i].ca);
        sp.max_chunk = 7; /* the chain arrives in tiny pieces */
        handshake_ok(&sp);
        assert_int_equal(petrel_cipher_suite(sp.s[CLIENT].conn), cases[i].expect);
        assert_false(petrel_peer_anonymous(sp.s[CLIENT].conn));
        spair_free(&sp);
    }
}

static void test_client_auth(void **state)
{
    (void)state;
    spair sp;
    spair_init(&sp, 300);
    cert_creds(&sp, PKI("ec-server-chain.pem"), PKI("ec-server.key"), PKI("ca-all.pem"));
    assert_int_equal(
        petrel_config_load_cert_chain_file(sp.p.client_cfg, PKI("ec-client-chain.pem")), 0);
    assert_int_equal(petrel_config_load_key_file(sp.p.client_cfg, PKI("ec-client.key"), NULL), 0);
    assert_int_equal(petrel_config_load_ca_file(sp.p.server_cfg, PKI("ca-all.pem")), 0);
    assert_int_equal(petrel_config_set_verify(sp.p.server_cfg, PETREL_VERIFY_REQUIRE, 0), 0);
    handshake_ok(&sp);
    assert_false(petrel_peer_anonymous(sp.s[SERVER].conn));
    spair_free(&sp);
}

static void test_unknown_ca_alert(void **state)
{
    (void)state;
    spair sp;
    spair_init(&sp, 301);
    cert_creds(&sp, PKI("unknown-chain.pem"), PKI("unknown-server.key"), PKI("ca-all.pem"));
    spair_start(&sp);
    spair_run(&sp);
    assert_int_equal(sp.s[CLIENT].error, PETREL_ERR_UNKNOWN_CA);
    assert_int_equal(sp.s[SERVER].error, PETREL_ERR_PEER_ALERT);
    assert_int_equal(sp.s[SERVER].last_alert, 48);
    spair_free(&sp);
}

/* The handshake one byte at a time, with one-byte sends. */
static void test_byte_by_byte(void **state)
{
    (void)state;
    spair sp;
    spair_init(&sp, 400);
    sp.max_chunk = 1;
    sp.partial_sends = true;
    handshake_ok(&sp);
    send_text(&sp, CLIENT, "one byte at a time");
    spair_run(&sp);
    assert_int_equal(sp.s[SERVER].received, 18);
    spair_free(&sp);
}

/* ---- bulk data ---- */

/* 10 MB each way: random write sizes (encode_to_outdata and the
 * write-buffer flow), random partial sends, random read sizes; both
 * sides check the FNV-1a of everything against what was sent. */
static void test_ten_megabytes_each_way(void **state)
{
    (void)state;
    spair sp;
    spair_init(&sp, 500);
    handshake_ok(&sp);
    sp.partial_sends = true;
    sp.max_chunk = 40000;
    const size_t total = 10u * 1000 * 1000;
    uint8_t *chunk = malloc(100000);
    assert_non_null(chunk);
    uint64_t sent_hash[2] = {FNV_INIT, FNV_INIT};
    size_t sent[2] = {0, 0};
    uint64_t fill = 1;
    while (sent[0] < total || sent[1] < total) {
        for (int from = 0; from < 2; from++) {
            if (sent[from] >= total)
                continue;
            size_t n = 1 + next_rand(&sp.rng) % 100000;
            if (n > total - sent[from])
                n = total - sent[from];
            bool writebuf = next_rand(&sp.rng) % 4 == 0;
            if (writebuf) {
                uint8_t *buf;
                int cap = petrel_get_writebuf(sp.s[from].conn, &buf);
                assert_int_equal(cap, 16384);
                if (n > (size_t)cap)
                    n = (size_t)cap;
                for (size_t i = 0; i < n; i++)
                    buf[i] = (uint8_t)next_rand(&fill);
                sent_hash[from] = fnv1a(sent_hash[from], buf, n);
                assert_int_equal(petrel_encode_writebuf(sp.s[from].conn, n), PETREL_REQUEST_SEND);
            } else {
                for (size_t i = 0; i < n; i++)
                    chunk[i] = (uint8_t)next_rand(&fill);
                sent_hash[from] = fnv1a(sent_hash[from], chunk, n);
                assert_int_equal(petrel_encode_to_outdata(sp.s[from].conn, chunk, n),
                                 PETREL_REQUEST_SEND);
            }
            sent[from] += n;
        }
        spair_run(&sp);
    }
    free(chunk);
    assert_int_equal(sp.s[CLIENT].error, 0);
    assert_int_equal(sp.s[SERVER].error, 0);
    assert_int_equal(sp.s[SERVER].received, total);
    assert_int_equal(sp.s[CLIENT].received, total);
    assert_true(sp.s[SERVER].hash == sent_hash[CLIENT]);
    assert_true(sp.s[CLIENT].hash == sent_hash[SERVER]);
    /* Memory stays bounded by a few records whatever the volume. */
    assert_true(petrel_conn_memory(sp.s[CLIENT].conn) < 256 * 1024);
    spair_free(&sp);
}

/* Two application records and a close_notify in one read: three events
 * from one petrel_received (the MatrixSSL multi-record buffer). */
static void test_many_records_one_read(void **state)
{
    (void)state;
    spair sp;
    spair_init(&sp, 600);
    handshake_ok(&sp);
    send_text(&sp, CLIENT, "first");
    send_text(&sp, CLIENT, "second");
    assert_int_equal(petrel_close_notify(sp.s[CLIENT].conn), PETREL_REQUEST_SEND);
    flush_side(&sp, CLIENT);
    feed_side(&sp, SERVER);
    assert_int_equal(sp.s[SERVER].events_in_last_read, 3);
    assert_int_equal(sp.s[SERVER].received, 11);
    assert_true(sp.s[SERVER].peer_closed);
    assert_true(petrel_peer_closed(sp.s[SERVER].conn));
    spair_free(&sp);
}

/* A write larger than the queue may hold is refused whole. */
static void test_out_limit(void **state)
{
    (void)state;
    spair sp;
    spair_init(&sp, 700);
    handshake_ok(&sp);
    size_t big = PETREL_STREAM_OUT_MAX;
    uint8_t *data = calloc(1, big);
    assert_non_null(data);
    assert_int_equal(petrel_encode_to_outdata(sp.s[CLIENT].conn, data, big), PETREL_ERR_LIMIT);
    const uint8_t *out;
    assert_int_equal(petrel_get_outdata(sp.s[CLIENT].conn, &out), 0);
    assert_int_equal(petrel_encode_to_outdata(sp.s[CLIENT].conn, data, big / 2),
                     PETREL_REQUEST_SEND);
    assert_int_equal(petrel_encode_to_outdata(sp.s[CLIENT].conn, data, big / 2), PETREL_ERR_LIMIT);
    free(data);
    spair_run(&sp);
    assert_int_equal(sp.s[SERVER].received, big / 2);
    spair_free(&sp);
}

/* ---- closing ---- */

static void test_close_from_client(void **state)
{
    (void)state;
    spair sp;
    spair_init(&sp, 800);
    handshake_ok(&sp);
    assert_int_equal(petrel_close_notify(sp.s[CLIENT].conn), PETREL_REQUEST_SEND);
    assert_int_equal(petrel_close_notify(sp.s[CLIENT].conn), PETREL_ERR_STATE);
    assert_int_equal(petrel_encode_to_outdata(sp.s[CLIENT].conn, (const uint8_t *)"x", 1),
                     PETREL_ERR_STATE);
    spair_run(&sp);
    /* The server answered on its own; both ends are clean. */
    assert_true(sp.s[SERVER].peer_closed);
    assert_true(sp.s[CLIENT].peer_closed);
    assert_int_equal(petrel_received_eof(sp.s[SERVER].conn), 0);
    assert_int_equal(petrel_received_eof(sp.s[CLIENT].conn), 0);
    spair_free(&sp);
}

/* Two-step shutdown from the server: after its close_notify it still
 * reads what the client sends before the client's answer. */
static void test_close_from_server_two_step(void **state)
{
    (void)state;
    spair sp;
    spair_init(&sp, 801);
    handshake_ok(&sp);
    assert_int_equal(petrel_close_notify(sp.s[SERVER].conn), PETREL_REQUEST_SEND);
    flush_side(&sp, SERVER);
    /* The client sends data before it reads the server's close_notify. */
    send_text(&sp, CLIENT, "last words");
    spair_run(&sp);
    assert_int_equal(sp.s[SERVER].received, 10);
    assert_true(sp.s[SERVER].peer_closed);
    assert_true(sp.s[CLIENT].peer_closed);
    assert_int_equal(sp.s[SERVER].error, 0);
    spair_free(&sp);
}

static void test_truncation(void **state)
{
    (void)state;
    /* At a record boundary. */
    spair sp;
    spair_init(&sp, 900);
    handshake_ok(&sp);
    send_text(&sp, CLIENT, "data");
    spair_run(&sp);
    assert_int_equal(petrel_received_eof(sp.s[SERVER].conn), PETREL_ERR_TRUNCATION);
    assert_int_equal(petrel_conn_error(sp.s[SERVER].conn), PETREL_ERR_TRUNCATION);
    /* No alert is sent for it, not even a close_notify: the stream is
     * gone and the connection failed. */
    const uint8_t *out;
    assert_int_equal(petrel_close_notify(sp.s[SERVER].conn), PETREL_ERR_TRUNCATION);
    assert_int_equal(petrel_get_outdata(sp.s[SERVER].conn, &out), 0);
    spair_free(&sp);

    /* Inside a record. */
    spair_init(&sp, 901);
    handshake_ok(&sp);
    send_text(&sp, CLIENT, "cut short");
    flush_side(&sp, CLIENT);
    sp.to[SERVER].len -= 3;
    feed_side(&sp, SERVER);
    assert_int_equal(sp.s[SERVER].received, 0);
    assert_int_equal(petrel_received_eof(sp.s[SERVER].conn), PETREL_ERR_TRUNCATION);
    spair_free(&sp);

    /* During the handshake. */
    spair_init(&sp, 902);
    spair_start(&sp);
    assert_int_equal(petrel_received_eof(sp.s[CLIENT].conn), PETREL_ERR_TRUNCATION);
    spair_free(&sp);
}

/* ---- bad input: each fatal, with its alert, and never a crash ---- */

/* Sends raw bytes to a fresh server (or, after the handshake, to an
 * established one) and checks the error and the alert it queues. */
static void expect_server_error(const uint8_t *bytes, size_t len, bool after_handshake, int error,
                                int alert)
{
    spair sp;
    spair_init(&sp, 1000);
    if (after_handshake)
        handshake_ok(&sp);
    else {
        sp.s[SERVER].conn = petrel_conn_new(sp.p.server_cfg, PETREL_SERVER, PETREL_STREAM, NULL, 0);
        sp.s[CLIENT].conn = petrel_conn_new(sp.p.client_cfg, PETREL_CLIENT, PETREL_STREAM, NULL, 0);
    }
    pipe_append(&sp.to[SERVER], bytes, len);
    feed_side(&sp, SERVER);
    assert_int_equal(sp.s[SERVER].error, error);
    const uint8_t *out;
    int n = petrel_get_outdata(sp.s[SERVER].conn, &out);
    if (alert < 0) {
        assert_int_equal(n, 0);
    } else {
        /* The alert record: after the handshake it is encrypted, so check
         * it through the client. */
        assert_true(n >= 7);
        assert_int_equal(out[0], 21);
        if (!after_handshake) {
            assert_int_equal(out[5], 2);
            assert_int_equal(out[6], alert);
        } else {
            flush_side(&sp, SERVER);
            feed_side(&sp, CLIENT);
            assert_int_equal(sp.s[CLIENT].error, PETREL_ERR_PEER_ALERT);
            assert_int_equal(sp.s[CLIENT].last_alert, alert);
        }
    }
    /* Once failed, always failed. */
    uint8_t *buf;
    assert_true(petrel_get_readbuf(sp.s[SERVER].conn, &buf) > 0);
    assert_int_equal(petrel_received(sp.s[SERVER].conn, 0, NULL, NULL), error);
    spair_free(&sp);
}

static void test_bad_records_before_handshake(void **state)
{
    (void)state;
    /* Unknown content type. */
    expect_server_error((const uint8_t *)"\x19\x03\x03\x00\x01\x00", 6, false,
                        PETREL_ERR_UNEXPECTED_MESSAGE, 10);
    /* Not TLS at all: major version 4 (checked from the header alone). */
    expect_server_error((const uint8_t *)"\x16\x04\x03\x00\x01", 5, false,
                        PETREL_ERR_PROTOCOL_VERSION, 70);
    /* A plaintext record above 2^14. */
    expect_server_error((const uint8_t *)"\x16\x03\x03\x40\x01", 5, false,
                        PETREL_ERR_RECORD_OVERFLOW, 22);
    /* A zero-length handshake record. */
    expect_server_error((const uint8_t *)"\x16\x03\x03\x00\x00", 5, false,
                        PETREL_ERR_UNEXPECTED_MESSAGE, 10);
    /* Application data before any handshake. */
    expect_server_error((const uint8_t *)"\x17\x03\x03\x00\x01x", 6, false,
                        PETREL_ERR_UNEXPECTED_MESSAGE, 10);
    /* ChangeCipherSpec before any handshake. */
    expect_server_error((const uint8_t *)"\x14\x03\x03\x00\x01\x01", 6, false,
                        PETREL_ERR_UNEXPECTED_MESSAGE, 10);
    /* A malformed ChangeCipherSpec. */
    expect_server_error((const uint8_t *)"\x14\x03\x03\x00\x01\x02", 6, false,
                        PETREL_ERR_ILLEGAL_PARAMETER, 47);
    /* An alert of 3 bytes. */
    expect_server_error((const uint8_t *)"\x15\x03\x03\x00\x03\x01\x00\x00", 8, false,
                        PETREL_ERR_TRUNCATED, 50);
    /* An SSL 2.0 ClientHello: refused by name. */
    expect_server_error((const uint8_t *)"\x80\x2e\x01\x03\x01\x00\x15", 7, false,
                        PETREL_ERR_INSECURE, 40);
    /* A handshake message announcing more than the limit. */
    expect_server_error((const uint8_t *)"\x16\x03\x03\x00\x04\x01\xff\xff\xff", 9, false,
                        PETREL_ERR_LENGTH, 50);
    /* A peer's fatal alert: no answer. */
    expect_server_error((const uint8_t *)"\x15\x03\x03\x00\x02\x02\x28", 7, false,
                        PETREL_ERR_PEER_ALERT, -1);
}

/* A TLS 1.0-only ClientHello is refused with protocol_version. */
static void test_old_version_refused(void **state)
{
    (void)state;
    spair sp;
    spair_init(&sp, 1100);
    spair_start(&sp);
    flush_side(&sp, CLIENT);
    /* record: 16 03 03 len(2) | hs: 01 len(3) | client_version(2) */
    pipe_buf *p = &sp.to[SERVER];
    assert_true(p->len > 11);
    p->data[9] = 3;
    p->data[10] = 1;
    feed_side(&sp, SERVER);
    assert_int_equal(sp.s[SERVER].error, PETREL_ERR_PROTOCOL_VERSION);
    spair_free(&sp);
}

static void test_bad_records_after_handshake(void **state)
{
    (void)state;
    spair sp;
    /* Every bit of an application record's header and body, flipped
     * in turn: always fatal, never accepted. */
    for (size_t bit = 0; bit < 8 * 26; bit += 3) {
        spair_init(&sp, 1200 + bit);
        handshake_ok(&sp);
        send_text(&sp, CLIENT, "hello");
        flush_side(&sp, CLIENT);
        pipe_buf *p = &sp.to[SERVER];
        assert_int_equal(p->len, 5 + 8 + 5 + 8); /* CCM_8: nonce and an 8-byte tag */
        p->data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        feed_side(&sp, SERVER);
        /* A flip in the length may leave the record incomplete: then it
         * is truncation at the end of the stream. */
        if (sp.s[SERVER].error == 0)
            assert_int_equal(petrel_received_eof(sp.s[SERVER].conn), PETREL_ERR_TRUNCATION);
        else
            assert_true(sp.s[SERVER].error == PETREL_ERR_AEAD_AUTH ||
                        sp.s[SERVER].error == PETREL_ERR_UNEXPECTED_MESSAGE ||
                        sp.s[SERVER].error == PETREL_ERR_PROTOCOL_VERSION ||
                        sp.s[SERVER].error == PETREL_ERR_RECORD_OVERFLOW);
        assert_int_equal(sp.s[SERVER].received, 0);
        spair_free(&sp);
    }
    /* bad_record_mac is the alert for a forged record. */
    spair_init(&sp, 1300);
    handshake_ok(&sp);
    send_text(&sp, CLIENT, "hello");
    flush_side(&sp, CLIENT);
    sp.to[SERVER].data[sp.to[SERVER].len - 1] ^= 1;
    feed_side(&sp, SERVER);
    assert_int_equal(sp.s[SERVER].error, PETREL_ERR_AEAD_AUTH);
    flush_side(&sp, SERVER);
    feed_side(&sp, CLIENT);
    assert_int_equal(sp.s[CLIENT].last_alert, 20);
    spair_free(&sp);
    /* A replayed record (the same bytes twice) fails: the implicit
     * sequence number has moved on. */
    spair_init(&sp, 1301);
    handshake_ok(&sp);
    send_text(&sp, CLIENT, "once");
    flush_side(&sp, CLIENT);
    pipe_buf *p = &sp.to[SERVER];
    size_t n = p->len;
    pipe_append(p, p->data, n);
    feed_side(&sp, SERVER);
    assert_int_equal(sp.s[SERVER].received, 4);
    assert_int_equal(sp.s[SERVER].error, PETREL_ERR_AEAD_AUTH);
    spair_free(&sp);
}

/* Renegotiation is refused with a no_renegotiation warning and the
 * connection goes on. The API has no call that asks for one, so the
 * request is written through the record layer's own interface. */
static void ask_renegotiation(spair *sp, int from, uint8_t type, const uint8_t *body, size_t len)
{
    petrel_conn *c = sp->s[from].conn;
    const uint8_t *framed;
    size_t framed_len;
    assert_int_equal(tls_record_ops.send_message(&c->tls, type, body, len, &framed, &framed_len),
                     0);
    assert_int_equal(tls_record_ops.flight_done(&c->tls, HS_FLIGHT_FINAL), 0);
}

static void test_renegotiation_refused(void **state)
{
    (void)state;
    static const uint8_t hello_body[40] = {3, 3};
    for (int from = 0; from < 2; from++) {
        spair sp;
        spair_init(&sp, 1400 + (uint64_t)from);
        handshake_ok(&sp);
        int to = 1 - from;
        if (from == SERVER)
            ask_renegotiation(&sp, SERVER, HS_HELLO_REQUEST, NULL, 0);
        else
            ask_renegotiation(&sp, CLIENT, HS_CLIENT_HELLO, hello_body, sizeof(hello_body));
        spair_run(&sp);
        assert_int_equal(sp.s[to].error, 0);
        assert_int_equal(sp.s[from].error, 0);
        assert_int_equal(sp.s[from].last_alert, 100); /* no_renegotiation, warning */
        send_text(&sp, to, "still here");
        spair_run(&sp);
        assert_int_equal(sp.s[from].received, 10);
        spair_free(&sp);
    }
    /* Any other handshake message after the handshake is fatal. */
    spair sp;
    spair_init(&sp, 1402);
    handshake_ok(&sp);
    ask_renegotiation(&sp, SERVER, HS_SERVER_HELLO_DONE, NULL, 0);
    spair_run(&sp);
    assert_int_equal(sp.s[CLIENT].error, PETREL_ERR_UNEXPECTED_MESSAGE);
    assert_int_equal(sp.s[SERVER].last_alert, 10);
    spair_free(&sp);
}

/* Random garbage, and random mutations of a real client stream, fed to a
 * server: errors, never a crash (run under ASan). */
static void test_garbage_never_crashes(void **state)
{
    (void)state;
    spair ref;
    spair_init(&ref, 1500);
    spair_start(&ref);
    flush_side(&ref, CLIENT);
    size_t hello_len = ref.to[SERVER].len;
    uint8_t hello[4096];
    assert_true(hello_len <= sizeof(hello));
    memcpy(hello, ref.to[SERVER].data, hello_len);
    spair_free(&ref);
    uint64_t rng = 77;
    for (int i = 0; i < 2000; i++) {
        spair sp;
        spair_init(&sp, 1500);
        sp.s[SERVER].conn = petrel_conn_new(sp.p.server_cfg, PETREL_SERVER, PETREL_STREAM, NULL, 0);
        uint8_t buf[4096];
        size_t len;
        if (i % 2) {
            len = 1 + next_rand(&rng) % 300;
            for (size_t k = 0; k < len; k++)
                buf[k] = (uint8_t)next_rand(&rng);
            if (i % 4 == 1)
                buf[0] = (uint8_t)(20 + next_rand(&rng) % 4); /* a plausible type */
        } else {
            len = hello_len;
            memcpy(buf, hello, len);
            for (int flips = 1 + (int)(next_rand(&rng) % 4); flips > 0; flips--)
                buf[next_rand(&rng) % len] ^= (uint8_t)(1 + next_rand(&rng) % 255);
        }
        sp.max_chunk = 1 + next_rand(&rng) % 64;
        pipe_append(&sp.to[SERVER], buf, len);
        feed_side(&sp, SERVER);
        /* Whatever happened, the connection is usable or failed for good:
         * EOF now is truncation or its sticky error. */
        int eof = petrel_received_eof(sp.s[SERVER].conn);
        assert_true(eof < 0);
        spair_free(&sp);
    }
}

/* A connection can narrow the config's suites before its handshake. */
static void test_conn_suites(void **state)
{
    (void)state;
    static const uint16_t chacha = 0xCCAB, gcm = 0x00A8, rc4 = 0x008A;
    spair sp;
    spair_init(&sp, 1700);
    sp.s[CLIENT].conn = petrel_conn_new(sp.p.client_cfg, PETREL_CLIENT, PETREL_STREAM, NULL, 0);
    sp.s[SERVER].conn = petrel_conn_new(sp.p.server_cfg, PETREL_SERVER, PETREL_STREAM, NULL, 0);
    assert_int_equal(petrel_conn_set_suites(sp.s[CLIENT].conn, &chacha, 1), 0);
    assert_int_equal(petrel_conn_set_suites(sp.s[CLIENT].conn, &rc4, 1), PETREL_ERR_INSECURE);
    assert_int_equal(petrel_conn_set_suites(sp.s[CLIENT].conn, NULL, 1), PETREL_ERR_ARG);
    assert_int_equal(petrel_connect(sp.s[CLIENT].conn), PETREL_REQUEST_SEND);
    assert_int_equal(petrel_conn_set_suites(sp.s[CLIENT].conn, &gcm, 1), PETREL_ERR_STATE);
    spair_run(&sp);
    assert_true(sp.s[SERVER].complete);
    assert_int_equal(petrel_cipher_suite(sp.s[SERVER].conn), chacha);
    spair_free(&sp);

    /* The server insists on a suite the client does not offer. */
    spair_init(&sp, 1701);
    sp.s[CLIENT].conn = petrel_conn_new(sp.p.client_cfg, PETREL_CLIENT, PETREL_STREAM, NULL, 0);
    sp.s[SERVER].conn = petrel_conn_new(sp.p.server_cfg, PETREL_SERVER, PETREL_STREAM, NULL, 0);
    assert_int_equal(petrel_conn_set_suites(sp.s[CLIENT].conn, &chacha, 1), 0);
    assert_int_equal(petrel_conn_set_suites(sp.s[SERVER].conn, &gcm, 1), 0);
    assert_int_equal(petrel_connect(sp.s[CLIENT].conn), PETREL_REQUEST_SEND);
    spair_run(&sp);
    assert_int_equal(sp.s[SERVER].error, PETREL_ERR_HANDSHAKE_FAILURE);
    assert_int_equal(sp.s[CLIENT].last_alert, 40);
    spair_free(&sp);
}

static int accept_all(void *ref, petrel_conn *conn, const petrel_cert_info *chain, size_t count,
                      int alert)
{
    (void)conn;
    (void)chain;
    *(int *)ref = alert; /* petrel's own verdict: unknown_ca, no CAs */
    return count == 2 ? 0 : 80;
}

/* A connection can bring its own certificate callback: here the config
 * has no CAs at all, so only the connection's callback can accept. */
static void test_conn_cert_callback(void **state)
{
    (void)state;
    static const uint16_t ecdsa = 0xC02B;
    spair sp;
    spair_init(&sp, 1800);
    use_suite(&sp, ecdsa);
    assert_int_equal(
        petrel_config_load_cert_chain_file(sp.p.server_cfg, PKI("ec-server-chain.pem")), 0);
    assert_int_equal(petrel_config_load_key_file(sp.p.server_cfg, PKI("ec-server.key"), NULL), 0);
    sp.s[CLIENT].conn = petrel_conn_new(sp.p.client_cfg, PETREL_CLIENT, PETREL_STREAM, NULL, 0);
    sp.s[SERVER].conn = petrel_conn_new(sp.p.server_cfg, PETREL_SERVER, PETREL_STREAM, NULL, 0);
    /* Without it the client has nothing to check a server with. */
    assert_int_equal(petrel_connect(sp.s[CLIENT].conn), PETREL_ERR_NO_CREDENTIALS);
    petrel_conn_free(sp.s[CLIENT].conn);
    sp.s[CLIENT].conn = petrel_conn_new(sp.p.client_cfg, PETREL_CLIENT, PETREL_STREAM, NULL, 0);
    int seen_alert = -1;
    assert_int_equal(petrel_conn_set_cert_callback(sp.s[CLIENT].conn, accept_all, &seen_alert), 0);
    assert_int_equal(petrel_connect(sp.s[CLIENT].conn), PETREL_REQUEST_SEND);
    assert_int_equal(petrel_conn_set_cert_callback(sp.s[CLIENT].conn, NULL, NULL),
                     PETREL_ERR_STATE);
    spair_run(&sp);
    assert_true(sp.s[CLIENT].complete);
    assert_int_equal(seen_alert, 48);
    assert_int_equal(petrel_cipher_suite(sp.s[CLIENT].conn), ecdsa);
    spair_free(&sp);
}

/* ---- calls that belong to datagrams only, and argument checks ---- */

static void test_mode_specific_calls(void **state)
{
    (void)state;
    spair sp;
    spair_init(&sp, 1600);
    handshake_ok(&sp);
    petrel_conn *c = sp.s[CLIENT].conn;
    assert_int_equal(petrel_next_timeout(c), -1);
    assert_int_equal(petrel_handle_timeout(c), PETREL_SUCCESS);
    assert_int_equal(petrel_set_pmtu(c, 1000), PETREL_ERR_STATE);
    assert_int_equal(petrel_max_payload(c), 16384);
    assert_int_equal(petrel_encode_to_outdata(c, (const uint8_t *)"", 0), PETREL_SUCCESS);
    /* Partial sends: more than pending, or nothing, is refused. */
    send_text(&sp, CLIENT, "abc");
    const uint8_t *out;
    int n = petrel_get_outdata(c, &out);
    assert_true(n > 0);
    assert_int_equal(petrel_sent(c, (size_t)n + 1), PETREL_ERR_ARG);
    assert_int_equal(petrel_sent(c, 0), PETREL_ERR_ARG);
    assert_int_equal(petrel_sent(c, 1), PETREL_REQUEST_SEND);
    assert_int_equal(petrel_get_outdata(c, &out), n - 1);
    /* More bytes than the read buffer offers. */
    uint8_t *buf;
    int cap = petrel_get_readbuf(sp.s[SERVER].conn, &buf);
    assert_int_equal(petrel_received(sp.s[SERVER].conn, (size_t)cap + 1, NULL, NULL),
                     PETREL_ERR_ARG);
    spair_free(&sp);

    /* A datagram connection has no end of stream. */
    pair p;
    pair_init(&p, 1);
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(petrel_received_eof(p.client), PETREL_ERR_STATE);
    assert_int_equal(petrel_conn_mode(p.client), PETREL_DATAGRAM);
    pair_free(&p);
    assert_int_equal(petrel_received_eof(NULL), PETREL_ERR_ARG);
    assert_null(petrel_conn_new(sp.p.client_cfg, PETREL_CLIENT, (petrel_mode)7, NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_psk_every_suite),
        cmocka_unit_test(test_certificates),
        cmocka_unit_test(test_client_auth),
        cmocka_unit_test(test_unknown_ca_alert),
        cmocka_unit_test(test_byte_by_byte),
        cmocka_unit_test(test_ten_megabytes_each_way),
        cmocka_unit_test(test_many_records_one_read),
        cmocka_unit_test(test_out_limit),
        cmocka_unit_test(test_close_from_client),
        cmocka_unit_test(test_close_from_server_two_step),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_bad_records_before_handshake),
        cmocka_unit_test(test_old_version_refused),
        cmocka_unit_test(test_bad_records_after_handshake),
        cmocka_unit_test(test_renegotiation_refused),
        cmocka_unit_test(test_garbage_never_crashes),
        cmocka_unit_test(test_conn_suites),
        cmocka_unit_test(test_conn_cert_callback),
        cmocka_unit_test(test_mode_specific_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
