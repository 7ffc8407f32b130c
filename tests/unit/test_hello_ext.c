/*
 * Application-supplied ClientHello extensions and the ServerHello
 * extension callback (petrel_conn_add_hello_extension,
 * petrel_conn_set_hello_ext_callback): what goes on the wire, in both
 * ClientHellos of a cookie exchange and in stream mode; what the callback
 * sees and what its refusal does; which types and sizes are refused; and
 * an application server_name replacing petrel's own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/pair.h"

#define PKI(name)    PETREL_SOURCE_DIR "/tests/pki/" name
#define RUN_LIMIT_MS 300000

static const uint8_t test_ext_data[] = {0xaa, 0xbb, 0xcc};

/* ---- parsing what the client sent ---- */

#define MAX_EXTS 40

typedef struct parsed_hello {
    size_t count;
    uint16_t types[MAX_EXTS];
    const uint8_t *data[MAX_EXTS];
    size_t lens[MAX_EXTS];
} parsed_hello;

static uint32_t be(const uint8_t *p, size_t n)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Reads an extensions block of len bytes at p into out. */
static void parse_extensions(const uint8_t *p, size_t len, parsed_hello *out)
{
    size_t pos = 0;
    out->count = 0;
    while (pos < len) {
        assert_true(pos + 4 <= len);
        assert_true(out->count < MAX_EXTS);
        size_t n = be(p + pos + 2, 2);
        assert_true(pos + 4 + n <= len);
        out->types[out->count] = (uint16_t)be(p + pos, 2);
        out->data[out->count] = p + pos + 4;
        out->lens[out->count] = n;
        out->count++;
        pos += 4 + n;
    }
}

/* A hello body: ClientHello (with the DTLS cookie when dtls) or
 * ServerHello, up to and including its extensions, which must end the
 * body exactly. */
static void parse_hello_body(const uint8_t *b, size_t len, bool client, bool dtls,
                             parsed_hello *out)
{
    size_t pos = 2 + 32;
    assert_true(pos < len);
    pos += 1 + b[pos]; /* session_id */
    if (client) {
        if (dtls) {
            assert_true(pos < len);
            pos += 1 + b[pos]; /* cookie */
        }
        assert_true(pos + 2 <= len);
        pos += 2 + be(b + pos, 2); /* cipher_suites */
        assert_true(pos < len);
        pos += 1 + b[pos]; /* compression_methods */
    } else {
        pos += 2 + 1; /* cipher_suite, compression_method */
    }
    assert_true(pos + 2 <= len);
    size_t ext_len = be(b + pos, 2);
    assert_int_equal(pos + 2 + ext_len, len);
    parse_extensions(b + pos + 2, ext_len, out);
}

/* A datagram that starts with an unfragmented hello: DTLS record header
 * (13 bytes), handshake header (12 bytes), body. */
static void parse_hello_datagram(const uint8_t *d, size_t len, parsed_hello *out)
{
    assert_true(len > 25);
    assert_int_equal(d[0], 22);
    uint8_t type = d[13];
    size_t body_len = be(d + 14, 3);
    assert_int_equal(be(d + 19, 3), 0);        /* fragment_offset */
    assert_int_equal(be(d + 22, 3), body_len); /* fragment_length */
    assert_true(25 + body_len <= len);
    parse_hello_body(d + 25, body_len, type == 1, true, out);
}

static size_t count_type(const parsed_hello *h, uint16_t type)
{
    size_t n = 0;
    for (size_t i = 0; i < h->count; i++)
        n += h->types[i] == type;
    return n;
}

static size_t index_of(const parsed_hello *h, uint16_t type)
{
    for (size_t i = 0; i < h->count; i++) {
        if (h->types[i] == type)
            return i;
    }
    fail_msg("extension %u not found", type);
    return 0;
}

/* ---- capturing hellos from the pair ---- */

typedef struct captured {
    uint8_t dgram[4][PAIR_MAX_DATAGRAM];
    size_t len[4];
    size_t count;
} captured;

typedef struct capture {
    captured client_hellos; /* datagrams to the server starting a ClientHello */
    captured server_hellos; /* datagrams to the client starting a ServerHello */
} capture;

static bool capture_hellos(void *ref, int direction, size_t index, uint8_t *dgram, size_t *len)
{
    (void)index;
    capture *c = ref;
    if (*len > 13 && dgram[0] == 22) {
        captured *into = NULL;
        if (direction == PAIR_TO_SERVER && dgram[13] == 1)
            into = &c->client_hellos;
        else if (direction == PAIR_TO_CLIENT && dgram[13] == 2)
            into = &c->server_hellos;
        if (into && into->count < 4) {
            memcpy(into->dgram[into->count], dgram, *len);
            into->len[into->count++] = *len;
        }
    }
    return true;
}

/* The connections of pair_start, without starting the client: the test
 * sets the client up, then calls petrel_connect. */
static void pair_create(pair *p)
{
    static const uint8_t peer[] = {127, 0, 0, 1, 0x13, 0x88};
    p->client = petrel_conn_new(p->client_cfg, PETREL_CLIENT, PETREL_DATAGRAM, NULL, 0);
    p->server = petrel_conn_new(p->server_cfg, PETREL_SERVER, PETREL_DATAGRAM, peer, sizeof(peer));
    assert_non_null(p->client);
    assert_non_null(p->server);
}

static void assert_working(pair *p)
{
    assert_true(petrel_handshake_complete(p->client));
    assert_true(petrel_handshake_complete(p->server));
    assert_true(pair_keys_match(p));
    static const uint8_t ping[] = "ping";
    assert_int_equal(pair_send_app(p, true, ping, sizeof(ping), 10000), 0);
}

/* A well-formed ServerNameList (RFC 6066 §3) for a name. */
static size_t make_sni(uint8_t *out, const char *name)
{
    size_t n = strlen(name);
    out[0] = (uint8_t)((n + 3) >> 8);
    out[1] = (uint8_t)(n + 3);
    out[2] = 0; /* host_name */
    out[3] = (uint8_t)(n >> 8);
    out[4] = (uint8_t)n;
    memcpy(out + 5, name, n);
    return n + 5;
}

/* An ECDSA server; the client checks its certificate against
 * checked_name. */
static void ec_server_pair(pair *p, uint64_t seed, const char *checked_name)
{
    static const uint16_t suites[] = {0xC02B, 0xC0AE};
    pair_init(p, seed);
    assert_int_equal(petrel_config_set_suites(p->client_cfg, suites, 2), 0);
    assert_int_equal(petrel_config_set_suites(p->server_cfg, suites, 2), 0);
    assert_int_equal(petrel_config_load_cert_chain_file(p->server_cfg, PKI("ec-server-chain.pem")),
                     0);
    assert_int_equal(petrel_config_load_key_file(p->server_cfg, PKI("ec-server.key"), NULL), 0);
    assert_int_equal(petrel_config_load_ca_file(p->client_cfg, PKI("ca-all.pem")), 0);
    assert_int_equal(petrel_config_set_server_name(p->client_cfg, checked_name), 0);
}

/* ---- the callback's record ---- */

typedef struct seen_ext {
    petrel_conn *expected_conn;
    int refuse_at; /* the call (from 1) that returns -1; 0 for none */
    size_t calls;
    uint16_t types[MAX_EXTS];
    size_t lens[MAX_EXTS];
    uint8_t first_byte[MAX_EXTS];
    bool suite_known; /* petrel_cipher_suite was set at every call */
} seen_ext;

static int record_ext(void *ref, petrel_conn *conn, uint16_t type, const uint8_t *data, size_t len)
{
    seen_ext *s = ref;
    assert_ptr_equal(conn, s->expected_conn);
    assert_true(len == 0 || data != NULL);
    if (s->calls < MAX_EXTS) {
        s->types[s->calls] = type;
        s->lens[s->calls] = len;
        s->first_byte[s->calls] = len ? data[0] : 0xff;
    }
    if (petrel_cipher_suite(conn) == 0)
        s->suite_known = false;
    s->calls++;
    if (s->refuse_at && s->calls == (size_t)s->refuse_at)
        return -1;
    return (int)s->calls; /* any value >= 0 goes on */
}

/* ---- 1. the extension on the wire, ignored by a petrel server ---- */

static void added_extension_in_both_client_hellos(void **state)
{
    (void)state;
    pair p;
    capture cap;
    memset(&cap, 0, sizeof(cap));
    pair_init(&p, 1);
    p.filter = capture_hellos;
    p.filter_ref = &cap;
    pair_create(&p);
    assert_int_equal(
        petrel_conn_add_hello_extension(p.client, 0xfe00, test_ext_data, sizeof(test_ext_data)), 0);
    /* An empty one, data NULL. */
    assert_int_equal(petrel_conn_add_hello_extension(p.client, 0xfe01, NULL, 0), 0);
    assert_int_equal(petrel_connect(p.client), PETREL_REQUEST_SEND);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    assert_working(&p);

    /* The first ClientHello and the one with the cookie. */
    assert_int_equal(cap.client_hellos.count, 2);
    for (size_t i = 0; i < 2; i++) {
        parsed_hello h;
        parse_hello_datagram(cap.client_hellos.dgram[i], cap.client_hellos.len[i], &h);
        assert_true(h.count >= 4);
        /* petrel's own first, then the application's in the order added. */
        assert_int_equal(h.types[0], 0xff01);
        assert_int_equal(h.types[h.count - 2], 0xfe00);
        assert_int_equal(h.lens[h.count - 2], 3);
        assert_memory_equal(h.data[h.count - 2], test_ext_data, 3);
        assert_int_equal(h.types[h.count - 1], 0xfe01);
        assert_int_equal(h.lens[h.count - 1], 0);
        /* The raw bytes, exactly as the application gave them. */
        static const uint8_t raw[] = {0xfe, 0x00, 0x00, 0x03, 0xaa, 0xbb, 0xcc};
        assert_ptr_equal(h.data[h.count - 2] - 4 + sizeof(raw), h.data[h.count - 1] - 4);
        assert_memory_equal(h.data[h.count - 2] - 4, raw, sizeof(raw));
    }
    /* The server did not echo what it does not know. */
    assert_int_equal(cap.server_hellos.count, 1);
    parsed_hello sh;
    parse_hello_datagram(cap.server_hellos.dgram[0], cap.server_hellos.len[0], &sh);
    assert_int_equal(count_type(&sh, 0xfe00), 0);
    pair_free(&p);
}

/* The full 2048 bytes: a ClientHello larger than the PMTU, fragmented,
 * still completes (PSK and certificate suites, the latter with petrel's
 * largest own extensions). */
static void full_size_extensions_complete(void **state)
{
    (void)state;
    static uint8_t big[PETREL_HELLO_EXT_MAX - 4];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)i;
    for (int certs = 0; certs < 2; certs++) {
        pair p;
        pair_init(&p, 2 + (uint64_t)certs);
        if (certs) {
            static const uint16_t suites[] = {0xC02B};
            assert_int_equal(petrel_config_set_suites(p.client_cfg, suites, 1), 0);
            assert_int_equal(petrel_config_set_suites(p.server_cfg, suites, 1), 0);
            assert_int_equal(
                petrel_config_load_cert_chain_file(p.server_cfg, PKI("ec-server-chain.pem")), 0);
            assert_int_equal(petrel_config_load_key_file(p.server_cfg, PKI("ec-server.key"), NULL),
                             0);
            assert_int_equal(petrel_config_load_ca_file(p.client_cfg, PKI("ca-all.pem")), 0);
            assert_int_equal(petrel_config_set_server_name(p.client_cfg, "localhost"), 0);
        }
        pair_create(&p);
        assert_int_equal(petrel_conn_add_hello_extension(p.client, 0xfe00, big, sizeof(big)), 0);
        assert_int_equal(petrel_connect(p.client), PETREL_REQUEST_SEND);
        assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
        assert_working(&p);
        pair_free(&p);
    }
}

/* ---- 2. the callback sees the ServerHello's extensions ---- */

static void callback_sees_server_extensions(void **state)
{
    (void)state;
    pair p;
    capture cap;
    seen_ext seen;
    memset(&cap, 0, sizeof(cap));
    memset(&seen, 0, sizeof(seen));
    pair_init(&p, 3);
    p.filter = capture_hellos;
    p.filter_ref = &cap;
    pair_create(&p);
    seen.expected_conn = p.client;
    seen.suite_known = true;
    assert_int_equal(petrel_conn_set_hello_ext_callback(p.client, record_ext, &seen), 0);
    assert_int_equal(petrel_connect(p.client), PETREL_REQUEST_SEND);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    assert_working(&p);

    /* Exactly the ServerHello's extensions, in its order. */
    assert_int_equal(cap.server_hellos.count, 1);
    parsed_hello sh;
    parse_hello_datagram(cap.server_hellos.dgram[0], cap.server_hellos.len[0], &sh);
    assert_int_equal(seen.calls, sh.count);
    for (size_t i = 0; i < sh.count; i++) {
        assert_int_equal(seen.types[i], sh.types[i]);
        assert_int_equal(seen.lens[i], sh.lens[i]);
    }
    /* renegotiation_info: an empty renegotiated_connection (one byte, 0);
     * extended_master_secret: empty. */
    size_t ri = index_of(&sh, 0xff01);
    assert_int_equal(seen.lens[ri], 1);
    assert_int_equal(seen.first_byte[ri], 0);
    size_t ems = index_of(&sh, 23);
    assert_int_equal(seen.lens[ems], 0);
    /* The suite was chosen before the callback ran. */
    assert_true(seen.suite_known);
    pair_free(&p);
}

/* ---- 3. a refusing callback fails the handshake ---- */

static void callback_refusal_fails_handshake(void **state)
{
    (void)state;
    pair p;
    seen_ext seen;
    memset(&seen, 0, sizeof(seen));
    pair_init(&p, 4);
    pair_create(&p);
    seen.expected_conn = p.client;
    seen.refuse_at = 2;
    assert_int_equal(petrel_conn_set_hello_ext_callback(p.client, record_ext, &seen), 0);
    assert_int_equal(petrel_connect(p.client), PETREL_REQUEST_SEND);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), PETREL_ERR_HANDSHAKE_FAILURE);
    assert_int_equal(p.client_error, PETREL_ERR_HANDSHAKE_FAILURE);
    assert_int_equal(petrel_conn_error(p.client), PETREL_ERR_HANDSHAKE_FAILURE);
    /* No call after the refusal. */
    assert_int_equal(seen.calls, 2);
    pair_settle(&p, 10000);
    int level = 0, description = 0;
    assert_true(petrel_last_alert(p.server, &level, &description));
    assert_int_equal(level, 2);
    assert_int_equal(description, 40); /* handshake_failure */
    assert_false(petrel_handshake_complete(p.server));
    assert_false(petrel_handshake_complete(p.client));
    pair_free(&p);
}

/* ---- answers to the application's extensions ---- */

static void put_be(uint8_t *p, size_t n, size_t v)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* Appends one extension to the ServerHello in the first datagram to the
 * client, as a server that answers it would (the Finished that follows
 * then no longer matches: only the ServerHello's handling is tested). */
typedef struct inject {
    uint16_t type;
    const uint8_t *data;
    size_t len;
    bool done;
} inject;

static bool inject_into_server_hello(void *ref, int direction, size_t index, uint8_t *dgram,
                                     size_t *len)
{
    (void)index;
    inject *in = ref;
    if (in->done || direction != PAIR_TO_CLIENT || *len <= 25 || dgram[0] != 22 || dgram[13] != 2)
        return true;
    size_t record_len = be(dgram + 11, 2);
    size_t body_len = be(dgram + 14, 3);
    assert_int_equal(be(dgram + 22, 3), body_len); /* one fragment */
    parsed_hello sh;
    parse_hello_body(dgram + 25, body_len, false, true, &sh);
    size_t ext_len_at = 25 + 2 + 32 + 1 + dgram[25 + 34] + 3;
    size_t end = 25 + body_len;
    size_t add = 4 + in->len;
    assert_true(*len + add <= PAIR_MAX_DATAGRAM);
    memmove(dgram + end + add, dgram + end, *len - end);
    put_be(dgram + end, 2, in->type);
    put_be(dgram + end + 2, 2, in->len);
    memcpy(dgram + end + 4, in->data, in->len);
    put_be(dgram + ext_len_at, 2, be(dgram + ext_len_at, 2) + add);
    put_be(dgram + 14, 3, body_len + add);
    put_be(dgram + 22, 3, body_len + add);
    put_be(dgram + 11, 2, record_len + add);
    *len += add;
    in->done = true;
    return true;
}

/* An answer to an extension the application added is accepted whatever
 * its body and reaches the callback. Not added, the same answer is
 * unsupported_extension, or for petrel's own server_name (whose answer
 * must be empty) a decode error. */
static void answers_to_added_extensions_reach_the_callback(void **state)
{
    (void)state;
    static const uint8_t answer[] = {1, 2, 3, 4, 5};
    static const uint16_t types[] = {0xfe00, 0};
    for (size_t t = 0; t < 2; t++) {
        for (int added = 0; added < 2; added++) {
            pair p;
            seen_ext seen;
            inject in = {types[t], answer, sizeof(answer), false};
            memset(&seen, 0, sizeof(seen));
            if (types[t] == 0)
                ec_server_pair(&p, 20 + t * 2 + (uint64_t)added, "localhost");
            else
                pair_init(&p, 20 + t * 2 + (uint64_t)added);
            p.filter = inject_into_server_hello;
            p.filter_ref = &in;
            pair_create(&p);
            seen.expected_conn = p.client;
            /* A petrel server reads a server_name: it must be well formed. */
            uint8_t offer[64];
            size_t offer_len = types[t] == 0 ? make_sni(offer, "localhost") : 3;
            if (types[t] != 0)
                memcpy(offer, test_ext_data, 3);
            if (added)
                assert_int_equal(
                    petrel_conn_add_hello_extension(p.client, types[t], offer, offer_len), 0);
            assert_int_equal(petrel_conn_set_hello_ext_callback(p.client, record_ext, &seen), 0);
            assert_int_equal(petrel_connect(p.client), PETREL_REQUEST_SEND);
            assert_true(pair_run(&p, RUN_LIMIT_MS) < 0);
            assert_true(in.done);
            if (!added) {
                assert_int_equal(p.client_error, types[t] == 0 ? PETREL_ERR_LENGTH
                                                               : PETREL_ERR_UNSUPPORTED_EXTENSION);
                assert_int_equal(seen.calls, 0);
            } else {
                /* Past the ServerHello: it fails later, on the Finished
                 * that the altered ServerHello no longer matches. */
                assert_int_not_equal(p.client_error, PETREL_ERR_UNSUPPORTED_EXTENSION);
                assert_int_not_equal(p.client_error, PETREL_ERR_LENGTH);
                assert_true(seen.calls >= 1);
                assert_int_equal(seen.types[seen.calls - 1], types[t]);
                assert_int_equal(seen.lens[seen.calls - 1], sizeof(answer));
                assert_int_equal(seen.first_byte[seen.calls - 1], 1);
            }
            pair_free(&p);
        }
    }
}

/* ---- 4. refusals ---- */

typedef struct log_capture {
    char last[256];
    size_t warnings;
} log_capture;

static void capture_log(void *ref, petrel_log_level level, const char *msg)
{
    log_capture *c = ref;
    if (level == PETREL_LOG_WARNING) {
        c->warnings++;
        snprintf(c->last, sizeof(c->last), "%s", msg);
    }
}

static void refusals(void **state)
{
    (void)state;
    pair p;
    log_capture logs;
    memset(&logs, 0, sizeof(logs));
    pair_init(&p, 5);
    /* The configs copied the platform: a fresh client config logs here. */
    petrel_config_free(p.client_cfg);
    p.platform.log = capture_log;
    p.platform.log_ref = &logs;
    p.platform.log_level = PETREL_LOG_WARNING;
    p.client_cfg = petrel_config_new(&p.platform);
    static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    assert_int_equal(petrel_config_set_psk(p.client_cfg, (const uint8_t *)"client", 6, key, 16), 0);
    pair_create(&p);
    petrel_conn *c = p.client;
    const uint8_t *d = test_ext_data;

    /* Written by petrel itself. */
    static const uint16_t own[] = {0xff01, 23, 10, 11, 13, 19, 20};
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
        size_t before = logs.warnings;
        assert_int_equal(petrel_conn_add_hello_extension(c, own[i], d, 3), PETREL_ERR_ARG);
        assert_int_equal(logs.warnings, before + 1);
        char expect[64];
        snprintf(expect, sizeof(expect), "petrel writes extension %u itself", own[i]);
        assert_non_null(strstr(logs.last, expect));
    }
    /* Answers petrel cannot handle, and TLS 1.3. */
    static const uint16_t unsupported[] = {1, 5, 35, 41, 42, 43, 44, 45, 51};
    for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
        size_t before = logs.warnings;
        assert_int_equal(petrel_conn_add_hello_extension(c, unsupported[i], d, 3),
                         PETREL_ERR_UNSUPPORTED);
        assert_int_equal(logs.warnings, before + 1);
    }
    assert_non_null(strstr(logs.last, "TLS 1.3"));

    /* Arguments. */
    assert_int_equal(petrel_conn_add_hello_extension(NULL, 0xfe00, d, 3), PETREL_ERR_ARG);
    assert_int_equal(petrel_conn_set_hello_ext_callback(NULL, record_ext, NULL), PETREL_ERR_ARG);
    assert_int_equal(petrel_conn_add_hello_extension(c, 0xfe00, NULL, 3), PETREL_ERR_ARG);
    assert_int_equal(petrel_conn_add_hello_extension(c, 0xfe00, d, 0x10000), PETREL_ERR_ARG);
    assert_int_equal(petrel_conn_add_hello_extension(p.server, 0xfe00, d, 3), PETREL_ERR_ARG);
    assert_int_equal(petrel_conn_set_hello_ext_callback(p.server, record_ext, NULL),
                     PETREL_ERR_ARG);

    /* Nothing refused so far was kept: the first real one fits. */
    assert_int_equal(petrel_conn_add_hello_extension(c, 0xfe00, d, 3), 0);
    assert_int_equal(petrel_conn_add_hello_extension(c, 0xfe00, d, 3), PETREL_ERR_ARG);
    assert_int_equal(petrel_conn_add_hello_extension(c, 0xfe00, NULL, 0), PETREL_ERR_ARG);
    assert_non_null(strstr(logs.last, "added already"));
    /* server_name is the application's to send. */
    static const uint8_t sni[] = {0x00, 0x06, 0x00, 0x00, 0x03, 'a', '.', 'b'};
    assert_int_equal(petrel_conn_add_hello_extension(c, 0, sni, sizeof(sni)), 0);

    /* The 2048-byte total: 7 + 12 bytes used; the next may take the rest
     * exactly, then not one byte more. */
    static uint8_t big[PETREL_HELLO_EXT_MAX];
    size_t rest = PETREL_HELLO_EXT_MAX - (4 + 3) - (4 + sizeof(sni)) - 4;
    assert_int_equal(petrel_conn_add_hello_extension(c, 0xfe10, big, rest + 1), PETREL_ERR_LIMIT);
    assert_int_equal(petrel_conn_add_hello_extension(c, 0xfe10, big, rest), 0);
    assert_int_equal(petrel_conn_add_hello_extension(c, 0xfe11, NULL, 0), PETREL_ERR_LIMIT);
    assert_int_equal(petrel_conn_set_hello_ext_callback(c, record_ext, NULL), 0);
    assert_int_equal(petrel_conn_set_hello_ext_callback(c, NULL, NULL), 0);

    /* After petrel_connect. */
    assert_int_equal(petrel_connect(c), PETREL_REQUEST_SEND);
    assert_int_equal(petrel_conn_add_hello_extension(c, 0xfe20, d, 3), PETREL_ERR_STATE);
    assert_int_equal(petrel_conn_set_hello_ext_callback(c, record_ext, NULL), PETREL_ERR_STATE);
    /* A server stays refused whatever its state. */
    assert_int_equal(petrel_conn_add_hello_extension(p.server, 0xfe20, d, 3), PETREL_ERR_ARG);

    /* And the limit on a fresh connection: one extension of 2045 bytes. */
    petrel_conn *fresh = petrel_conn_new(p.client_cfg, PETREL_CLIENT, PETREL_DATAGRAM, NULL, 0);
    assert_non_null(fresh);
    size_t mem = petrel_conn_memory(fresh);
    assert_int_equal(petrel_conn_add_hello_extension(fresh, 0xfe00, big, PETREL_HELLO_EXT_MAX - 3),
                     PETREL_ERR_LIMIT);
    assert_int_equal(petrel_conn_memory(fresh), mem);
    assert_int_equal(petrel_conn_add_hello_extension(fresh, 0xfe00, big, PETREL_HELLO_EXT_MAX - 4),
                     0);
    assert_int_equal(petrel_conn_memory(fresh), mem + PETREL_HELLO_EXT_MAX);
    petrel_conn_free(fresh);
    pair_free(&p);
}

/* ---- 5. an application server_name replaces petrel's ---- */

static void app_server_name_replaces_petrels(void **state)
{
    (void)state;
    uint8_t sni[64];
    size_t sni_len = make_sni(sni, "app.petrel.test");

    /* Without one, petrel sends the configured name. */
    pair p;
    capture cap;
    memset(&cap, 0, sizeof(cap));
    ec_server_pair(&p, 6, "localhost");
    p.filter = capture_hellos;
    p.filter_ref = &cap;
    pair_create(&p);
    assert_int_equal(petrel_connect(p.client), PETREL_REQUEST_SEND);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    parsed_hello h;
    parse_hello_datagram(cap.client_hellos.dgram[0], cap.client_hellos.len[0], &h);
    assert_int_equal(count_type(&h, 0), 1);
    size_t i = index_of(&h, 0);
    assert_int_equal(h.lens[i], 5 + strlen("localhost"));
    assert_memory_equal(h.data[i] + 5, "localhost", strlen("localhost"));
    pair_free(&p);

    /* With one: exactly one server_name, the application's bytes, in
     * both ClientHellos; the certificate is still checked against
     * "localhost", and the handshake completes. */
    memset(&cap, 0, sizeof(cap));
    seen_ext seen;
    memset(&seen, 0, sizeof(seen));
    ec_server_pair(&p, 7, "localhost");
    p.filter = capture_hellos;
    p.filter_ref = &cap;
    pair_create(&p);
    seen.expected_conn = p.client;
    assert_int_equal(petrel_conn_add_hello_extension(p.client, 0, sni, sni_len), 0);
    assert_int_equal(petrel_conn_set_hello_ext_callback(p.client, record_ext, &seen), 0);
    assert_int_equal(petrel_connect(p.client), PETREL_REQUEST_SEND);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    assert_working(&p);
    assert_int_equal(cap.client_hellos.count, 2);
    for (size_t k = 0; k < 2; k++) {
        parse_hello_datagram(cap.client_hellos.dgram[k], cap.client_hellos.len[k], &h);
        assert_int_equal(count_type(&h, 0), 1);
        i = index_of(&h, 0);
        assert_int_equal(i, h.count - 1); /* where the application's go */
        assert_int_equal(h.lens[i], sni_len);
        assert_memory_equal(h.data[i], sni, sni_len);
    }
    assert_true(seen.calls > 0);
    pair_free(&p);

    /* The name check is petrel's own: a certificate without the
     * configured name fails even though the application's SNI names it. */
    ec_server_pair(&p, 8, "other.petrel.test");
    pair_create(&p);
    sni_len = make_sni(sni, "localhost");
    assert_int_equal(petrel_conn_add_hello_extension(p.client, 0, sni, sni_len), 0);
    assert_int_equal(petrel_connect(p.client), PETREL_REQUEST_SEND);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), PETREL_ERR_CERT_NAME_MISMATCH);
    pair_free(&p);
}

/* ---- 6. stream mode ---- */

/* Moves everything `from` has queued into `to`; records the first
 * bytes the client sends. */
static int stream_move(petrel_conn *from, petrel_conn *to, bool *complete, uint8_t *first,
                       size_t *first_len)
{
    const uint8_t *out;
    int n;
    while ((n = petrel_get_outdata(from, &out)) > 0) {
        if (first && *first_len == 0) {
            size_t k = (size_t)n < 4096 ? (size_t)n : 4096;
            memcpy(first, out, k);
            *first_len = k;
        }
        size_t left = (size_t)n;
        const uint8_t *at = out;
        while (left > 0) {
            uint8_t *buf;
            int cap = petrel_get_readbuf(to, &buf);
            if (cap <= 0)
                return PETREL_ERR_INTERNAL;
            size_t k = left < (size_t)cap ? left : (size_t)cap;
            memcpy(buf, at, k);
            at += k;
            left -= k;
            const uint8_t *data;
            size_t len;
            int rc = petrel_received(to, k, &data, &len);
            while (rc == PETREL_HANDSHAKE_COMPLETE || rc == PETREL_APP_DATA ||
                   rc == PETREL_RECEIVED_ALERT) {
                if (rc == PETREL_HANDSHAKE_COMPLETE)
                    *complete = true;
                rc = petrel_processed(to, &data, &len);
            }
            if (rc < 0)
                return rc;
        }
        int rc = petrel_sent(from, (size_t)n);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void stream_mode_extension(void **state)
{
    (void)state;
    pair p;
    seen_ext seen;
    memset(&seen, 0, sizeof(seen));
    pair_init(&p, 9);
    petrel_conn *client = petrel_conn_new(p.client_cfg, PETREL_CLIENT, PETREL_STREAM, NULL, 0);
    petrel_conn *server = petrel_conn_new(p.server_cfg, PETREL_SERVER, PETREL_STREAM, NULL, 0);
    assert_non_null(client);
    assert_non_null(server);
    seen.expected_conn = client;
    assert_int_equal(
        petrel_conn_add_hello_extension(client, 0xfe00, test_ext_data, sizeof(test_ext_data)), 0);
    assert_int_equal(petrel_conn_set_hello_ext_callback(client, record_ext, &seen), 0);
    assert_int_equal(petrel_connect(client), PETREL_REQUEST_SEND);

    static uint8_t first[4096];
    size_t first_len = 0;
    bool client_done = false, server_done = false;
    for (int round = 0; round < 10 && !(client_done && server_done); round++) {
        assert_int_equal(stream_move(client, server, &server_done, first, &first_len), 0);
        assert_int_equal(stream_move(server, client, &client_done, NULL, NULL), 0);
    }
    assert_true(client_done);
    assert_true(server_done);
    assert_true(petrel_handshake_complete(client));
    assert_true(petrel_handshake_complete(server));

    /* TLS record header (5 bytes), handshake header (4), ClientHello. */
    assert_true(first_len > 9);
    assert_int_equal(first[0], 22);
    assert_int_equal(first[5], 1);
    size_t body_len = be(first + 6, 3);
    assert_true(9 + body_len <= first_len);
    parsed_hello h;
    parse_hello_body(first + 9, body_len, true, false, &h);
    assert_int_equal(h.types[h.count - 1], 0xfe00);
    assert_int_equal(h.lens[h.count - 1], 3);
    assert_memory_equal(h.data[h.count - 1], test_ext_data, 3);

    /* The callback ran in stream mode too. */
    assert_true(seen.calls >= 2);
    bool saw_ri = false, saw_ems = false;
    for (size_t i = 0; i < seen.calls && i < MAX_EXTS; i++) {
        saw_ri = saw_ri || (seen.types[i] == 0xff01 && seen.lens[i] == 1);
        saw_ems = saw_ems || (seen.types[i] == 23 && seen.lens[i] == 0);
    }
    assert_true(saw_ri);
    assert_true(saw_ems);
    petrel_conn_free(client);
    petrel_conn_free(server);
    pair_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(added_extension_in_both_client_hellos),
        cmocka_unit_test(full_size_extensions_complete),
        cmocka_unit_test(callback_sees_server_extensions),
        cmocka_unit_test(callback_refusal_fails_handshake),
        cmocka_unit_test(answers_to_added_extensions_reach_the_callback),
        cmocka_unit_test(refusals),
        cmocka_unit_test(app_server_name_replaces_petrels),
        cmocka_unit_test(stream_mode_extension),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
