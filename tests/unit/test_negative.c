/*
 * Negative tests: malformed, truncated, misplaced and forged records and
 * handshake messages injected into in-memory handshakes (tests/support/
 * pair.h). Each case is one row of a table: which datagram to change, how,
 * and the documented outcome:
 *   - SILENT: the record is dropped silently (the handshake still
 *     completes, by retransmission if needed, and the receiver counts a
 *     dropped record);
 *   - FATAL: the receiver fails with the code and the peer then fails with
 *     PETREL_ERR_PEER_ALERT, the last alert being (fatal, the code's alert).
 * After every case a fresh handshake on the same two configs must succeed.
 *
 * The server is configured with a 32-byte PSK identity hint, so a
 * loss-free handshake's datagrams are:
 *   to server #0 ClientHello, #1 ClientHello with cookie,
 *             #2 ClientKeyExchange + ChangeCipherSpec + Finished (epoch 1);
 *   to client #0 HelloVerifyRequest,
 *             #1 ServerHello + ServerKeyExchange + ServerHelloDone,
 *             #2 ChangeCipherSpec + Finished (epoch 1).
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

#define RUN_LIMIT_MS 300000
#define SETTLE_MS    5000
#define REC_HDR      13
#define HS_HDR       12

static const uint8_t hint[32] = "petrel negative tests hint 32 by";

/* ---- outcomes ---- */

enum expect {
    EXP_SILENT,       /* completes; the receiver dropped at least one record */
    EXP_COMPLETE,     /* completes; drops not checked */
    EXP_FATAL,        /* receiver fails with code; peer gets its alert */
    EXP_FATAL_DECODE, /* as EXP_FATAL, code any of TRUNCATED/LENGTH/TRAILING, alert 50 */
    EXP_TIMEOUT,      /* the receiver gives up: PETREL_ERR_HANDSHAKE_TIMEOUT */
};

/* ---- mutations ---- */

enum op {
    OP_NONE,
    OP_HS_TRUNC,        /* record rec: handshake body cut to a bytes, lengths fixed */
    OP_HS_APPEND,       /* record rec: a bytes of value b appended, lengths fixed */
    OP_HS_SETBYTE,      /* record rec: body[a] = b */
    OP_HS_SET16,        /* record rec: body[a..a+1] = b (big-endian) */
    OP_HS_TYPE,         /* record rec: msg_type = a */
    OP_HS_TAIL,         /* record rec: body from offset a replaced by blob, lengths fixed */
    OP_HS_FIELD,        /* record rec: fragment header field a (0 length, 1 seq, 2 offset,
                           3 fragment_length) = b, nothing else fixed */
    OP_REC_BYTE,        /* record rec: header byte a = b */
    OP_REC_VERSION,     /* record rec: version = a */
    OP_REC_TYPE,        /* record rec: content type = a */
    OP_REC_EPOCH,       /* record rec: epoch = a */
    OP_REC_LEN,         /* record rec: length field = its length + a (mod 2^16) */
    OP_REC_CONTENT_CUT, /* record rec: content cut to a bytes, later records removed */
    OP_CUT,             /* datagram cut to a bytes */
    OP_FLIP,            /* record rec: payload byte a ^= b */
    OP_INSERT,          /* before record rec: record of type a, epoch 0, seq b, content blob */
    OP_SET_PAYLOAD,     /* record rec: payload replaced by blob, length fixed */
    OP_OVERLAP,         /* record rec: split into [0,a) and [a-b, len) with a byte of the
                           overlap changed in the second fragment */
    OP_ALERTS,          /* before record rec: a warning alerts (level 1, description b),
                           epoch 0, seq 10.. */
};

typedef struct neg_case {
    char name[96];
    int dir;
    size_t index;
    enum op op;
    size_t rec;
    long a, b;
    const uint8_t *blob;
    size_t blob_len;
    enum expect expect;
    int code;
    int alert;
    bool no_hint;
    /* A known difference between the documented outcome (still checked)
     * and petrel's behaviour: the case passes when the check fails, and
     * fails (so that this note goes) when the check passes. */
    const char *known;
    long expect_alerts; /* > 0: the receiver reports this many warning alerts */
} neg_case;

typedef struct span {
    size_t off, len; /* len includes the 13-byte header */
} span;

static uint32_t get16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}
static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void put24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
}

/* The well-formed records of a datagram, in order. */
static size_t split(const uint8_t *d, size_t n, span *out, size_t max)
{
    size_t count = 0, off = 0;
    while (off + REC_HDR <= n && count < max) {
        size_t rl = get16(d + off + 11);
        if (off + REC_HDR + rl > n)
            break;
        out[count].off = off;
        out[count].len = REC_HDR + rl;
        count++;
        off += REC_HDR + rl;
    }
    return count;
}

/* Replaces bytes [off, off+old_len) of the datagram with new_len bytes. */
static void splice(uint8_t *d, size_t *n, size_t off, size_t old_len, const uint8_t *repl,
                   size_t new_len)
{
    memmove(d + off + new_len, d + off + old_len, *n - off - old_len);
    memcpy(d + off, repl, new_len);
    *n = *n - old_len + new_len;
}

/* Rebuilds handshake record r (a single full fragment) with a new body. */
static void set_hs_body(uint8_t *d, size_t *n, const span *r, const uint8_t *body, size_t blen)
{
    static uint8_t rec[PAIR_MAX_DATAGRAM];
    memcpy(rec, d + r->off, REC_HDR + HS_HDR);
    put16(rec + 11, (uint32_t)(HS_HDR + blen));
    put24(rec + REC_HDR + 1, (uint32_t)blen);
    put24(rec + REC_HDR + 6, 0);
    put24(rec + REC_HDR + 9, (uint32_t)blen);
    memcpy(rec + REC_HDR + HS_HDR, body, blen);
    splice(d, n, r->off, r->len, rec, REC_HDR + HS_HDR + blen);
}

static size_t make_record(uint8_t *out, int type, uint16_t epoch, uint64_t seq,
                          const uint8_t *content, size_t clen)
{
    out[0] = (uint8_t)type;
    out[1] = 0xfe;
    out[2] = 0xfd;
    put16(out + 3, epoch);
    for (int i = 0; i < 6; i++)
        out[5 + i] = (uint8_t)(seq >> (8 * (5 - i)));
    put16(out + 11, (uint32_t)clen);
    if (clen)
        if (clen)
            memcpy(out + REC_HDR, content, clen);
    return REC_HDR + clen;
}

static void mutate(const neg_case *c, uint8_t *d, size_t *n)
{
    span recs[32];
    size_t count = split(d, *n, recs, 32);
    if (c->op != OP_CUT && c->rec > count)
        fail_msg("%s: record %zu of %zu", c->name, c->rec, count);
    const span *r = c->rec < count ? &recs[c->rec] : NULL;
    uint8_t *h = r ? d + r->off : NULL; /* record header */
    static uint8_t body[PAIR_MAX_DATAGRAM];
    size_t blen = r && r->len >= REC_HDR + HS_HDR ? r->len - REC_HDR - HS_HDR : 0;
    if (r)
        memcpy(body, h + REC_HDR + HS_HDR, blen);
    switch (c->op) {
    case OP_NONE:
        break;
    case OP_HS_TRUNC:
        set_hs_body(d, n, r, body, (size_t)c->a);
        break;
    case OP_HS_APPEND:
        memset(body + blen, (int)c->b, (size_t)c->a);
        set_hs_body(d, n, r, body, blen + (size_t)c->a);
        break;
    case OP_HS_SETBYTE:
        h[REC_HDR + HS_HDR + c->a] = (uint8_t)c->b;
        break;
    case OP_HS_SET16:
        put16(h + REC_HDR + HS_HDR + c->a, (uint32_t)c->b);
        break;
    case OP_HS_TYPE:
        h[REC_HDR] = (uint8_t)c->a;
        break;
    case OP_HS_TAIL:
        if (c->blob_len)
            memcpy(body + c->a, c->blob, c->blob_len);
        set_hs_body(d, n, r, body, (size_t)c->a + c->blob_len);
        break;
    case OP_HS_FIELD: {
        static const size_t at[4] = {1, 4, 6, 9};
        if (c->a == 1)
            put16(h + REC_HDR + at[c->a], (uint32_t)c->b);
        else
            put24(h + REC_HDR + at[c->a], (uint32_t)c->b);
        break;
    }
    case OP_REC_BYTE:
        h[c->a] = (uint8_t)c->b;
        break;
    case OP_REC_VERSION:
        put16(h + 1, (uint32_t)c->a);
        break;
    case OP_REC_TYPE:
        h[0] = (uint8_t)c->a;
        break;
    case OP_REC_EPOCH:
        put16(h + 3, (uint32_t)c->a);
        break;
    case OP_REC_LEN:
        put16(h + 11, (uint32_t)(get16(h + 11) + c->a) & 0xffff);
        break;
    case OP_REC_CONTENT_CUT:
        put16(h + 11, (uint32_t)c->a);
        *n = r->off + REC_HDR + (size_t)c->a;
        break;
    case OP_CUT:
        *n = (size_t)c->a;
        break;
    case OP_FLIP:
        h[REC_HDR + c->a] ^= (uint8_t)c->b;
        break;
    case OP_INSERT: {
        uint8_t rec[2048];
        size_t rl = make_record(rec, (int)c->a, 0, (uint64_t)c->b, c->blob, c->blob_len);
        splice(d, n, r ? r->off : *n, 0, rec, rl);
        break;
    }
    case OP_SET_PAYLOAD: {
        uint8_t rec[2048];
        memcpy(rec, h, REC_HDR);
        put16(rec + 11, (uint32_t)c->blob_len);
        if (c->blob_len)
            memcpy(rec + REC_HDR, c->blob, c->blob_len);
        splice(d, n, r->off, r->len, rec, REC_HDR + c->blob_len);
        break;
    }
    case OP_OVERLAP: {
        /* First fragment [0, a), second [a - b, blen) with its first
         * overlapping byte changed. */
        uint8_t two[2 * (REC_HDR + HS_HDR) + 2048];
        size_t first = (size_t)c->a, start = (size_t)(c->a - c->b);
        memcpy(two, h, REC_HDR + HS_HDR);
        put16(two + 11, (uint32_t)(HS_HDR + first));
        put24(two + REC_HDR + 9, (uint32_t)first);
        memcpy(two + REC_HDR + HS_HDR, body, first);
        uint8_t *s = two + REC_HDR + HS_HDR + first;
        memcpy(s, h, REC_HDR + HS_HDR);
        s[10] = (uint8_t)(s[10] + 20); /* a fresh record sequence number */
        put16(s + 11, (uint32_t)(HS_HDR + blen - start));
        put24(s + REC_HDR + 6, (uint32_t)start);
        put24(s + REC_HDR + 9, (uint32_t)(blen - start));
        memcpy(s + REC_HDR + HS_HDR, body + start, blen - start);
        s[REC_HDR + HS_HDR] ^= 0x5a;
        size_t total = 2 * (REC_HDR + HS_HDR) + first + blen - start;
        splice(d, n, r->off, r->len, two, total);
        break;
    }
    case OP_ALERTS: {
        static uint8_t many[PAIR_MAX_DATAGRAM];
        size_t len = 0;
        const uint8_t alert[2] = {1, (uint8_t)c->b};
        for (long i = 0; i < c->a; i++)
            len += make_record(many + len, 21, 0, 10 + (uint64_t)i, alert, 2);
        splice(d, n, r ? r->off : *n, 0, many, len);
        break;
    }
    }
}

typedef struct runner {
    const neg_case *c;
    bool applied;
} runner;

static bool case_filter(void *ref, int direction, size_t index, uint8_t *dgram, size_t *len)
{
    runner *run = ref;
    if (direction == run->c->dir && index == run->c->index && !run->applied) {
        run->applied = true;
        mutate(run->c, dgram, len);
        if (getenv("NEG_DUMP")) {
            printf("  mutated dir %d #%zu len %zu:", direction, index, *len);
            for (size_t i = 0; i < *len; i++)
                printf("%s%02x", i % 32 == 0 ? "\n    " : " ", dgram[i]);
            printf("\n");
        }
    }
    return true;
}

static bool is_decode(int code)
{
    return code == PETREL_ERR_TRUNCATED || code == PETREL_ERR_LENGTH ||
           code == PETREL_ERR_TRAILING_DATA;
}

static int failures;

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            print_error("%s %s: ", c->known ? "mismatch" : "FAIL", c->name); \
            print_error(__VA_ARGS__);                                        \
            print_error("\n");                                               \
            ok = false;                                                      \
        }                                                                    \
    } while (0)

/* Handshake done, application data both ways. */
static bool working(pair *p)
{
    static const uint8_t ping[] = "ping from the client";
    static const uint8_t pong[] = "pong from the server";
    return petrel_handshake_complete(p->client) && petrel_handshake_complete(p->server) &&
           pair_keys_match(p) && pair_send_app(p, true, ping, sizeof(ping), 10000) == 0 &&
           pair_send_app(p, false, pong, sizeof(pong), 10000) == 0;
}

/* New connections on the same configs, no filter: must complete. */
static bool fresh_handshake(pair *p)
{
    petrel_conn_free(p->client);
    petrel_conn_free(p->server);
    p->client = p->server = NULL;
    p->filter = NULL;
    p->filter_ref = NULL;
    p->queued = 0;
    p->sent[0] = p->sent[1] = 0;
    p->delivered[0] = p->delivered[1] = 0;
    p->client_error = p->server_error = 0;
    p->client_complete = p->server_complete = false;
    p->alerts[0] = p->alerts[1] = 0;
    if (pair_start(p) != 0)
        return false;
    return pair_run(p, RUN_LIMIT_MS) == 0 && working(p);
}

static const char *ename(int code)
{
    return petrel_error_name(code);
}

/* Runs one case; returns true when it behaved as documented. */
static bool run_case(const neg_case *c, uint64_t seed)
{
    bool ok = true;
    pair p;
    runner run = {c, false};
    print_message("case %s\n", c->name);
    pair_init(&p, seed);
    if (!c->no_hint && petrel_config_set_psk_hint(p.server_cfg, hint, sizeof(hint)) != 0)
        fail_msg("%s: set_psk_hint", c->name);
    p.filter = case_filter;
    p.filter_ref = &run;
    assert_int_equal(pair_start(&p), 0);
    int rc = pair_run(&p, RUN_LIMIT_MS);
    CHECK(run.applied, "the datagram to change was never sent");
    bool to_client = c->dir == PAIR_TO_CLIENT;
    petrel_conn *recv = to_client ? p.client : p.server;
    petrel_conn *other = to_client ? p.server : p.client;
    int recv_err = to_client ? p.client_error : p.server_error;
    int other_err = to_client ? p.server_error : p.client_error;
    petrel_conn_stats st;
    petrel_get_stats(recv, &st);
    switch (c->expect) {
    case EXP_SILENT:
    case EXP_COMPLETE:
        CHECK(rc == 0, "handshake did not complete: %s (client %s, server %s)", ename(rc),
              ename(p.client_error), ename(p.server_error));
        if (rc == 0)
            CHECK(working(&p), "no application data after the handshake");
        if (c->expect == EXP_SILENT)
            CHECK(st.records_dropped > 0, "no dropped record counted");
        break;
    case EXP_FATAL:
    case EXP_FATAL_DECODE: {
        pair_settle(&p, SETTLE_MS);
        recv_err = to_client ? p.client_error : p.server_error;
        other_err = to_client ? p.server_error : p.client_error;
        if (c->expect == EXP_FATAL)
            CHECK(recv_err == c->code, "receiver error %s, expected %s (rc %s)", ename(recv_err),
                  ename(c->code), ename(rc));
        else
            CHECK(is_decode(recv_err), "receiver error %s, expected a decode error (rc %s)",
                  ename(recv_err), ename(rc));
        CHECK(petrel_conn_error(recv) == recv_err, "conn_error %s", ename(petrel_conn_error(recv)));
        CHECK(other_err == PETREL_ERR_PEER_ALERT, "peer error %s, expected PEER_ALERT",
              ename(other_err));
        int level = 0, desc = 0;
        bool got = petrel_last_alert(other, &level, &desc);
        CHECK(got && level == 2 && desc == c->alert, "peer's last alert %d/%d (%s), expected 2/%d",
              level, desc, got ? "present" : "none", c->alert);
        break;
    }
    case EXP_TIMEOUT:
        CHECK(recv_err == PETREL_ERR_HANDSHAKE_TIMEOUT, "receiver error %s, expected a timeout",
              ename(recv_err));
        break;
    }
    if (c->expect_alerts > 0) {
        size_t got = p.alerts[to_client ? 0 : 1];
        int level = 0, desc = 0;
        CHECK(got == (size_t)c->expect_alerts, "%zu alerts reported, expected %ld", got,
              c->expect_alerts);
        CHECK(petrel_last_alert(recv, &level, &desc) && level == 1 && desc == (int)c->b,
              "last alert %d/%d", level, desc);
    }
    if (c->known) {
        if (ok) {
            print_error("FAIL %s: behaves as documented now; drop the note \"%s\"\n", c->name,
                        c->known);
            ok = false;
        } else {
            print_message("KNOWN DISCREPANCY %s: %s\n", c->name, c->known);
            ok = true;
        }
    }
    bool fresh = fresh_handshake(&p);
    CHECK(fresh, "fresh handshake on the same configs failed");
    if (!fresh)
        ok = false;
    pair_free(&p);
    return ok;
}

static void run_table(const neg_case *cases, size_t count)
{
    int before = failures;
    for (size_t i = 0; i < count; i++)
        if (!run_case(&cases[i], 1000 + i))
            failures++;
    print_message("%zu cases, %d failed\n", count, failures - before);
    assert_int_equal(failures - before, 0);
}

/* ---- case tables ---- */

#define MAX_CASES 512
static neg_case table[MAX_CASES];
static size_t ncases;

static neg_case *add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static neg_case *add(const char *fmt, ...)
{
    assert_true(ncases < MAX_CASES);
    neg_case *c = &table[ncases++];
    memset(c, 0, sizeof(*c));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->name, sizeof(c->name), fmt, ap);
    va_end(ap);
    return c;
}

static void start_table(void)
{
    ncases = 0;
}

/* Server #1 records (with the hint): 0 ServerHello, 1 ServerKeyExchange,
 * 2 ServerHelloDone. ServerHello body: version(2) random(32) sid_len(1)
 * suite(2) compression(1) extensions_len(2) renegotiation_info(5)
 * extended_master_secret(4) = 49 bytes. */
#define SH_LEN    49
#define SH_EXT_AT 38
#define SKE_LEN   (2 + sizeof(hint))
#define CKE_LEN   8 /* identity "client" */
#define HVR_LEN   35

static neg_case *fatal(neg_case *c, int dir, size_t index, enum op op, size_t rec, long a, long b,
                       int code, int alert)
{
    c->dir = dir;
    c->index = index;
    c->op = op;
    c->rec = rec;
    c->a = a;
    c->b = b;
    c->expect = code ? EXP_FATAL : EXP_FATAL_DECODE;
    c->code = code;
    c->alert = alert;
    return c;
}

static neg_case *silent(neg_case *c, int dir, size_t index, enum op op, size_t rec, long a, long b)
{
    c->dir = dir;
    c->index = index;
    c->op = op;
    c->rec = rec;
    c->a = a;
    c->b = b;
    c->expect = EXP_SILENT;
    return c;
}

static void truncated_messages(void **state)
{
    (void)state;
    start_table();
    for (long n = 0; n < SH_LEN; n++) {
        neg_case *c = fatal(add("server_hello_truncated_to_%ld", n), PAIR_TO_CLIENT, 1, OP_HS_TRUNC,
                            0, n, 0, 0, 50);
        /* 38 bytes is a well-formed ServerHello without extensions: the
         * client goes on without extended_master_secret, the keys differ,
         * each side drops the other's Finished and the client times out. */
        if (n == SH_EXT_AT)
            c->expect = EXP_TIMEOUT;
    }
    for (long n = 0; n < HVR_LEN; n++)
        fatal(add("hello_verify_request_truncated_to_%ld", n), PAIR_TO_CLIENT, 0, OP_HS_TRUNC, 0, n,
              0, 0, 50);
    static const long extra[] = {1, 2, 3, 16};
    for (size_t i = 0; i < 4; i++) {
        fatal(add("server_hello_done_plus_%ld_bytes", extra[i]), PAIR_TO_CLIENT, 1, OP_HS_APPEND, 2,
              extra[i], 0, 0, 50);
        fatal(add("server_hello_plus_%ld_bytes", extra[i]), PAIR_TO_CLIENT, 1, OP_HS_APPEND, 0,
              extra[i], 0, 0, 50);
        fatal(add("server_key_exchange_plus_%ld_bytes", extra[i]), PAIR_TO_CLIENT, 1, OP_HS_APPEND,
              1, extra[i], 0, 0, 50);
        fatal(add("client_key_exchange_plus_%ld_bytes", extra[i]), PAIR_TO_SERVER, 2, OP_HS_APPEND,
              0, extra[i], 0, 0, 50);
    }
    for (long n = 0; n < (long)SKE_LEN; n++)
        fatal(add("server_key_exchange_truncated_to_%ld", n), PAIR_TO_CLIENT, 1, OP_HS_TRUNC, 1, n,
              0, 0, 50);
    for (long n = 0; n < CKE_LEN; n++)
        fatal(add("client_key_exchange_truncated_to_%ld", n), PAIR_TO_SERVER, 2, OP_HS_TRUNC, 0, n,
              0, 0, 50);
    run_table(table, ncases);
}

static void record_header_bytes(void **state)
{
    (void)state;
    start_table();
    /* Every byte of server #1's first record header set to 0xff: a bad
     * type, version, epoch or a length beyond the datagram drops the
     * record; a changed sequence number is harmless. */
    for (long i = 0; i < REC_HDR; i++) {
        neg_case *c = silent(add("server_flight_record_header_byte_%ld_ff", i), PAIR_TO_CLIENT, 1,
                             OP_REC_BYTE, 0, i, 0xff);
        /* Epoch 0 accepts record version 0xfeff (DTLS 1.0 ClientHellos use it),
         * and its sequence numbers are not replay-checked: an
         * unauthenticated record must not move the window (dtls.c). */
        if (i == 2 || (i >= 5 && i <= 10))
            c->expect = EXP_COMPLETE;
    }
    run_table(table, ncases);
}

static void server_hello_fields(void **state)
{
    (void)state;
    start_table();
    static const long versions[] = {0xfeff, 0xfefc, 0xfefe, 0x0303, 0x0302, 0x0000, 0xffff};
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
        fatal(add("server_hello_version_%04lx", versions[i]), PAIR_TO_CLIENT, 1, OP_HS_SET16, 0, 0,
              versions[i], PETREL_ERR_PROTOCOL_VERSION, 70);
    static const long suites[] = {0x0000, 0xffff, 0x002f, 0xc0a4, 0x00ff, 0xc02b};
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
        fatal(add("server_hello_suite_%04lx_not_offered", suites[i]), PAIR_TO_CLIENT, 1,
              OP_HS_SET16, 0, 35, suites[i], PETREL_ERR_ILLEGAL_PARAMETER, 47);
    static const long compressions[] = {1, 0x40, 0xff};
    for (size_t i = 0; i < sizeof(compressions) / sizeof(compressions[0]); i++)
        fatal(add("server_hello_compression_%ld", compressions[i]), PAIR_TO_CLIENT, 1,
              OP_HS_SETBYTE, 0, 37, compressions[i], PETREL_ERR_ILLEGAL_PARAMETER, 47);
    fatal(add("server_hello_session_id_length_33"), PAIR_TO_CLIENT, 1, OP_HS_SETBYTE, 0, 34, 33, 0,
          50);
    fatal(add("server_hello_session_id_length_32_overruns"), PAIR_TO_CLIENT, 1, OP_HS_SETBYTE, 0,
          34, 32, 0, 50);

    /* The extension block, from body offset 38. */
    static const struct {
        const char *name;
        uint8_t bytes[32];
        size_t len;
        int code, alert;
    } exts[] = {
        {"duplicate_renegotiation_info",
         {0, 10, 0xff, 1, 0, 1, 0, 0xff, 1, 0, 1, 0},
         12,
         PETREL_ERR_ILLEGAL_PARAMETER,
         47},
        {"duplicate_extended_master_secret",
         {0, 13, 0xff, 1, 0, 1, 0, 0, 0x17, 0, 0, 0, 0x17, 0, 0},
         15,
         PETREL_ERR_ILLEGAL_PARAMETER,
         47},
        {"unsolicited_server_name",
         {0, 13, 0xff, 1, 0, 1, 0, 0, 0x17, 0, 0, 0, 0, 0, 0},
         15,
         PETREL_ERR_UNSUPPORTED_EXTENSION,
         110},
        {"unsolicited_session_ticket",
         {0, 13, 0xff, 1, 0, 1, 0, 0, 0x17, 0, 0, 0, 0x23, 0, 0},
         15,
         PETREL_ERR_UNSUPPORTED_EXTENSION,
         110},
        {"unsolicited_alpn",
         {0, 17, 0xff, 1, 0, 1, 0, 0, 0x17, 0, 0, 0, 0x10, 0, 4, 0, 2, 1, 'x'},
         19,
         PETREL_ERR_UNSUPPORTED_EXTENSION,
         110},
        {"unsolicited_unknown_abcd",
         {0, 14, 0xff, 1, 0, 1, 0, 0, 0x17, 0, 0, 0xab, 0xcd, 0, 1, 0},
         16,
         PETREL_ERR_UNSUPPORTED_EXTENSION,
         110},
        {"unsolicited_supported_versions",
         {0, 15, 0xff, 1, 0, 1, 0, 0, 0x17, 0, 0, 0, 0x2b, 0, 2, 0xfe, 0xfd},
         17,
         PETREL_ERR_UNSUPPORTED_EXTENSION,
         110},
        {"unsolicited_heartbeat",
         {0, 14, 0xff, 1, 0, 1, 0, 0, 0x17, 0, 0, 0, 0x0f, 0, 1, 1},
         16,
         PETREL_ERR_UNSUPPORTED_EXTENSION,
         110},
        {"non_empty_renegotiation_info",
         {0, 11, 0xff, 1, 0, 3, 2, 0xab, 0xcd, 0, 0x17, 0, 0},
         13,
         PETREL_ERR_HANDSHAKE_FAILURE,
         40},
        {"renegotiation_info_one_zero_byte_missing",
         {0, 8, 0xff, 1, 0, 0, 0, 0x17, 0, 0},
         10,
         0,
         50},
        {"extensions_length_too_long", {0, 10, 0xff, 1, 0, 1, 0, 0, 0x17, 0, 0}, 11, 0, 50},
        {"extensions_length_too_short", {0, 8, 0xff, 1, 0, 1, 0, 0, 0x17, 0, 0}, 11, 0, 50},
        {"extension_length_beyond_block", {0, 9, 0xff, 1, 0, 1, 0, 0, 0x17, 0, 9}, 11, 0, 50},
        {"extensions_length_odd_byte", {0, 1, 0}, 3, 0, 50},
        {"extensions_length_only_one_byte", {0}, 1, 0, 50},
    };
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        neg_case *c = fatal(add("server_hello_%s", exts[i].name), PAIR_TO_CLIENT, 1, OP_HS_TAIL, 0,
                            SH_EXT_AT, 0, exts[i].code, exts[i].alert);
        c->blob = exts[i].bytes;
        c->blob_len = exts[i].len;
    }
    run_table(table, ncases);
}

static void unexpected_messages(void **state)
{
    (void)state;
    start_table();
    /* A second HelloVerifyRequest is allowed after the ClientHello with
     * the cookie: the ServerHello body then fails to decode as one. */
    fatal(add("server_hello_as_type_3_hello_verify_request"), PAIR_TO_CLIENT, 1, OP_HS_TYPE, 0, 3,
          0, 0, 50);
    static const long sh_types[] = {1, 4, 11, 12, 13, 14, 15, 16, 20, 99, 255};
    for (size_t i = 0; i < sizeof(sh_types) / sizeof(sh_types[0]); i++)
        fatal(add("server_hello_as_type_%ld", sh_types[i]), PAIR_TO_CLIENT, 1, OP_HS_TYPE, 0,
              sh_types[i], 0, PETREL_ERR_UNEXPECTED_MESSAGE, 10);
    static const long ske_types[] = {1, 2, 11, 13, 16, 20};
    for (size_t i = 0; i < sizeof(ske_types) / sizeof(ske_types[0]); i++)
        fatal(add("server_key_exchange_as_type_%ld", ske_types[i]), PAIR_TO_CLIENT, 1, OP_HS_TYPE,
              1, ske_types[i], 0, PETREL_ERR_UNEXPECTED_MESSAGE, 10);
    static const long cke_types[] = {1, 2, 11, 15, 20};
    for (size_t i = 0; i < sizeof(cke_types) / sizeof(cke_types[0]); i++)
        fatal(add("client_key_exchange_as_type_%ld", cke_types[i]), PAIR_TO_SERVER, 2, OP_HS_TYPE,
              0, cke_types[i], 0, PETREL_ERR_UNEXPECTED_MESSAGE, 10);
    run_table(table, ncases);
}

static void record_layer(void **state)
{
    (void)state;
    start_table();
    static const long versions[] = {0x0303, 0x0302, 0x0301, 0xfeff, 0xfefc,
                                    0xfefe, 0x0000, 0xffff, 0xfdfd, 0x0100};
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        neg_case *c = silent(add("server_hello_record_version_%04lx", versions[i]), PAIR_TO_CLIENT,
                             1, OP_REC_VERSION, 0, versions[i], 0);
        if (versions[i] == 0xfeff) /* accepted in epoch 0, as documented */
            c->expect = EXP_COMPLETE;
        c = silent(add("client_key_exchange_record_version_%04lx", versions[i]), PAIR_TO_SERVER, 2,
                   OP_REC_VERSION, 0, versions[i], 0);
        if (versions[i] == 0xfeff)
            c->expect = EXP_COMPLETE;
    }
    static const long types[] = {0, 1, 19, 20, 21, 23, 24, 25, 99, 255};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        silent(add("server_hello_record_type_%ld", types[i]), PAIR_TO_CLIENT, 1, OP_REC_TYPE, 0,
               types[i], 0);
        silent(add("client_key_exchange_record_type_%ld", types[i]), PAIR_TO_SERVER, 2, OP_REC_TYPE,
               0, types[i], 0);
    }
    static const long epochs[] = {1, 2, 0x8000, 0xffff};
    for (size_t i = 0; i < sizeof(epochs) / sizeof(epochs[0]); i++) {
        silent(add("server_hello_record_epoch_%ld", epochs[i]), PAIR_TO_CLIENT, 1, OP_REC_EPOCH, 0,
               epochs[i], 0);
        silent(add("client_key_exchange_record_epoch_%ld", epochs[i]), PAIR_TO_SERVER, 2,
               OP_REC_EPOCH, 0, epochs[i], 0);
        if (epochs[i] != 1) {
            silent(add("server_finished_record_epoch_%ld", epochs[i]), PAIR_TO_CLIENT, 2,
                   OP_REC_EPOCH, 1, epochs[i], 0);
            silent(add("client_finished_record_epoch_%ld", epochs[i]), PAIR_TO_SERVER, 2,
                   OP_REC_EPOCH, 2, epochs[i], 0);
        }
    }
    /* Length fields beyond the datagram. */
    static const long more[] = {1, 2, 12, 13, 100, 0x1000};
    for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
        silent(add("server_hello_done_record_length_plus_%ld", more[i]), PAIR_TO_CLIENT, 1,
               OP_REC_LEN, 2, more[i], 0);
        silent(add("server_finished_record_length_plus_%ld", more[i]), PAIR_TO_CLIENT, 2,
               OP_REC_LEN, 1, more[i], 0);
        silent(add("client_finished_record_length_plus_%ld", more[i]), PAIR_TO_SERVER, 2,
               OP_REC_LEN, 2, more[i], 0);
    }
    run_table(table, ncases);
}

/* Datagrams cut inside a record: the partial record is dropped. A cut at
 * a record boundary leaves well-formed records (nothing to drop). */
static void cut_datagrams(void **state)
{
    (void)state;
    start_table();
    static const struct {
        const char *name;
        int dir;
        size_t index, len;
        size_t bounds[3];
    } flights[] = {
        {"server_hello_flight", PAIR_TO_CLIENT, 1, 74 + 59 + 25, {74, 74 + 59, 0}},
        {"server_finished_flight", PAIR_TO_CLIENT, 2, 67, {14, 0, 0}},
        {"client_finished_flight", PAIR_TO_SERVER, 2, 100, {33, 47, 0}},
    };
    for (size_t f = 0; f < 3; f++) {
        for (size_t n = 1; n < flights[f].len; n += 2) {
            neg_case *c = silent(add("%s_cut_to_%zu", flights[f].name, n), flights[f].dir,
                                 flights[f].index, OP_CUT, 0, (long)n, 0);
            for (size_t b = 0; b < 3; b++)
                if (n == flights[f].bounds[b])
                    c->expect = EXP_COMPLETE;
        }
    }
    run_table(table, ncases);
}

/* A flipped bit anywhere in an epoch-1 record's payload (explicit nonce,
 * ciphertext, tag) fails authentication: dropped, and the retransmitted
 * flight completes the handshake. */
static void aead_failures(void **state)
{
    (void)state;
    start_table();
    for (long i = 0; i < 40; i++) {
        silent(add("server_finished_payload_byte_%ld_flipped", i), PAIR_TO_CLIENT, 2, OP_FLIP, 1, i,
               0x01);
        silent(add("client_finished_payload_byte_%ld_flipped", i), PAIR_TO_SERVER, 2, OP_FLIP, 2, i,
               0x80);
    }
    /* The sequence number is authenticated too. */
    silent(add("server_finished_sequence_changed"), PAIR_TO_CLIENT, 2, OP_REC_BYTE, 1, 10, 0x07);
    silent(add("client_finished_sequence_changed"), PAIR_TO_SERVER, 2, OP_REC_BYTE, 2, 10, 0x07);
    run_table(table, ncases);
}

static const uint8_t ccs_0[] = {0}, ccs_2[] = {2}, ccs_ff[] = {0xff}, ccs_11[] = {1, 1};
static const uint8_t one[] = {1};
static const uint8_t app[] = "early application data";
static const uint8_t alert_0[1], alert_1[] = {2}, alert_3[] = {2, 40, 0},
                                 alert_4[] = {1, 90, 1, 90};

static neg_case *with_blob(neg_case *c, const uint8_t *blob, size_t len)
{
    c->blob = blob;
    c->blob_len = len;
    return c;
}

/* Records of a known type at the wrong time or of the wrong shape. */
static void misplaced_records(void **state)
{
    (void)state;
    start_table();
    static const struct {
        const char *name;
        const uint8_t *b;
        size_t len;
    } ccs[] = {{"0", ccs_0, 1},
               {"2", ccs_2, 1},
               {"ff", ccs_ff, 1},
               {"0101", ccs_11, 2},
               {"empty", NULL, 0}};
    for (size_t i = 0; i < 5; i++) {
        with_blob(silent(add("server_change_cipher_spec_content_%s", ccs[i].name), PAIR_TO_CLIENT,
                         2, OP_SET_PAYLOAD, 0, 0, 0),
                  ccs[i].b, ccs[i].len);
        with_blob(silent(add("client_change_cipher_spec_content_%s", ccs[i].name), PAIR_TO_SERVER,
                         2, OP_SET_PAYLOAD, 1, 0, 0),
                  ccs[i].b, ccs[i].len);
    }
    with_blob(silent(add("change_cipher_spec_before_server_hello"), PAIR_TO_CLIENT, 1, OP_INSERT, 0,
                     20, 20),
              one, 1);
    with_blob(silent(add("change_cipher_spec_after_server_hello_done"), PAIR_TO_CLIENT, 1,
                     OP_INSERT, 3, 20, 20),
              one, 1);
    with_blob(silent(add("change_cipher_spec_with_hello_verify_request"), PAIR_TO_CLIENT, 0,
                     OP_INSERT, 1, 20, 20),
              one, 1);
    with_blob(silent(add("change_cipher_spec_before_client_hello"), PAIR_TO_SERVER, 1, OP_INSERT, 0,
                     20, 20),
              one, 1);
    with_blob(silent(add("change_cipher_spec_before_client_key_exchange"), PAIR_TO_SERVER, 2,
                     OP_INSERT, 0, 20, 20),
              one, 1);
    with_blob(silent(add("application_data_before_server_hello"), PAIR_TO_CLIENT, 1, OP_INSERT, 0,
                     23, 20),
              app, sizeof(app));
    with_blob(silent(add("application_data_before_server_finished"), PAIR_TO_CLIENT, 2, OP_INSERT,
                     0, 23, 20),
              app, sizeof(app));
    with_blob(silent(add("application_data_before_client_hello"), PAIR_TO_SERVER, 1, OP_INSERT, 0,
                     23, 20),
              app, sizeof(app));
    with_blob(silent(add("application_data_before_client_key_exchange"), PAIR_TO_SERVER, 2,
                     OP_INSERT, 0, 23, 20),
              app, sizeof(app));
    static const struct {
        const char *name;
        const uint8_t *b;
        size_t len;
    } alerts[] = {{"0", NULL, 0}, {"1", alert_1, 1}, {"3", alert_3, 3}, {"4", alert_4, 4}};
    (void)alert_0;
    for (size_t i = 0; i < 4; i++) {
        with_blob(silent(add("server_alert_record_length_%s", alerts[i].name), PAIR_TO_CLIENT, 1,
                         OP_INSERT, 0, 21, 20),
                  alerts[i].b, alerts[i].len);
        with_blob(silent(add("client_alert_record_length_%s", alerts[i].name), PAIR_TO_SERVER, 1,
                         OP_INSERT, 0, 21, 20),
                  alerts[i].b, alerts[i].len);
    }
    run_table(table, ncases);
}

/* Handshake fragments whose header is inconsistent. */
static void bad_fragments(void **state)
{
    (void)state;
    start_table();
    /* offset + fragment_length > message length */
    silent(add("server_hello_fragment_offset_1"), PAIR_TO_CLIENT, 1, OP_HS_FIELD, 0, 2, 1);
    silent(add("server_hello_fragment_offset_49"), PAIR_TO_CLIENT, 1, OP_HS_FIELD, 0, 2, 49);
    silent(add("server_hello_fragment_offset_ffffff"), PAIR_TO_CLIENT, 1, OP_HS_FIELD, 0, 2,
           0xffffff);
    silent(add("server_hello_message_length_48"), PAIR_TO_CLIENT, 1, OP_HS_FIELD, 0, 0, 48);
    silent(add("server_hello_message_length_0"), PAIR_TO_CLIENT, 1, OP_HS_FIELD, 0, 0, 0);
    silent(add("client_key_exchange_message_length_7"), PAIR_TO_SERVER, 2, OP_HS_FIELD, 0, 0, 7);
    silent(add("client_key_exchange_fragment_offset_1"), PAIR_TO_SERVER, 2, OP_HS_FIELD, 0, 2, 1);
    /* fragment_length beyond the record */
    silent(add("server_hello_fragment_length_50"), PAIR_TO_CLIENT, 1, OP_HS_FIELD, 0, 3, 50);
    silent(add("server_hello_done_fragment_length_1"), PAIR_TO_CLIENT, 1, OP_HS_FIELD, 2, 3, 1);
    /* message length beyond the limit */
    static const long big[] = {16385, 20000, 65536, 0xffffff};
    for (size_t i = 0; i < 4; i++) {
        silent(add("server_hello_message_length_%ld", big[i]), PAIR_TO_CLIENT, 1, OP_HS_FIELD, 0, 0,
               big[i]);
        silent(add("client_key_exchange_message_length_%ld", big[i]), PAIR_TO_SERVER, 2,
               OP_HS_FIELD, 0, 0, big[i]);
    }
    /* fragment header truncated */
    for (long n = 0; n < HS_HDR; n++) {
        silent(add("server_hello_done_record_of_%ld_bytes", n), PAIR_TO_CLIENT, 1,
               OP_REC_CONTENT_CUT, 2, n, 0);
        silent(add("server_hello_record_of_%ld_bytes", n), PAIR_TO_CLIENT, 1, OP_REC_CONTENT_CUT, 0,
               n, 0);
    }
    /* conflicting overlapping fragments */
    static const long overlap[][2] = {{20, 5}, {30, 10}, {40, 1}, {10, 10}};
    for (size_t i = 0; i < 4; i++)
        silent(add("server_hello_conflicting_overlap_%ld_%ld", overlap[i][0], overlap[i][1]),
               PAIR_TO_CLIENT, 1, OP_OVERLAP, 0, overlap[i][0], overlap[i][1]);
    run_table(table, ncases);
}

/* Many warning alerts: each reported, nothing breaks. */
static void alert_floods(void **state)
{
    (void)state;
    start_table();
    static const long counts[] = {1, 2, 5, 20, 50, 100};
    for (size_t i = 0; i < 6; i++) {
        neg_case *c = add("server_sends_%ld_warning_alerts", counts[i]);
        c->dir = PAIR_TO_CLIENT;
        c->index = 1;
        c->op = OP_ALERTS;
        c->a = counts[i];
        c->b = 90;
        c->expect = EXP_COMPLETE;
        c->expect_alerts = counts[i];
        c = add("client_sends_%ld_warning_alerts", counts[i]);
        c->dir = PAIR_TO_SERVER;
        c->index = 1;
        c->op = OP_ALERTS;
        c->a = counts[i];
        c->b = 90;
        c->expect = EXP_COMPLETE;
        c->expect_alerts = counts[i];
    }
    run_table(table, ncases);
}

/* Remembers the last application data datagram in each direction. */
typedef struct last_app {
    uint8_t data[2][PAIR_MAX_DATAGRAM];
    size_t len[2];
} last_app;

static bool keep_app(void *ref, int direction, size_t index, uint8_t *dgram, size_t *len)
{
    (void)index;
    last_app *l = ref;
    if (*len > 0 && dgram[0] == 23) {
        memcpy(l->data[direction], dgram, *len);
        l->len[direction] = *len;
    }
    return true;
}

/* The same epoch-1 datagram delivered again: dropped and counted, the
 * data not delivered twice. */
static void replayed_records(void **state)
{
    (void)state;
    int failed = 0;
    for (int dir = 0; dir < 2; dir++) {
        static const size_t times[] = {1, 2, 5};
        for (size_t t = 0; t < 3; t++) {
            neg_case named;
            neg_case *c = &named;
            memset(c, 0, sizeof(*c));
            snprintf(c->name, sizeof(c->name), "application_data_to_%s_replayed_%zu_times",
                     dir == PAIR_TO_CLIENT ? "client" : "server", times[t]);
            print_message("case %s\n", c->name);
            bool ok = true;
            pair p;
            static last_app l;
            memset(&l, 0, sizeof(l));
            pair_init(&p, 77 + t);
            assert_int_equal(petrel_config_set_psk_hint(p.server_cfg, hint, sizeof(hint)), 0);
            p.filter = keep_app;
            p.filter_ref = &l;
            assert_int_equal(pair_start(&p), 0);
            CHECK(pair_run(&p, RUN_LIMIT_MS) == 0 && working(&p), "handshake");
            petrel_conn *recv = dir == PAIR_TO_CLIENT ? p.client : p.server;
            int side = dir == PAIR_TO_CLIENT ? 0 : 1;
            petrel_conn_stats before, after;
            petrel_get_stats(recv, &before);
            CHECK(l.len[dir] > 0, "no application data seen");
            for (size_t k = 0; k < times[t] && l.len[dir] > 0; k++) {
                pair_datagram *d = &p.queue[p.queued++];
                memcpy(d->data, l.data[dir], l.len[dir]);
                d->len = l.len[dir];
                d->direction = dir;
                d->deliver_at = p.now + 1;
            }
            p.app_len[side] = 0;
            pair_settle(&p, 1000);
            petrel_get_stats(recv, &after);
            CHECK(p.app_len[side] == 0, "replayed data delivered again");
            CHECK(after.records_dropped == before.records_dropped + times[t],
                  "%llu records dropped, expected %zu",
                  (unsigned long long)(after.records_dropped - before.records_dropped), times[t]);
            CHECK(p.client_error == 0 && p.server_error == 0, "errors %s / %s",
                  ename(p.client_error), ename(p.server_error));
            CHECK(working(&p), "no application data after the replay");
            CHECK(fresh_handshake(&p), "fresh handshake on the same configs failed");
            pair_free(&p);
            if (!ok)
                failed++;
        }
    }
    print_message("6 cases, %d failed\n", failed);
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(truncated_messages),  cmocka_unit_test(record_header_bytes),
        cmocka_unit_test(server_hello_fields), cmocka_unit_test(unexpected_messages),
        cmocka_unit_test(record_layer),        cmocka_unit_test(cut_datagrams),
        cmocka_unit_test(aead_failures),       cmocka_unit_test(misplaced_records),
        cmocka_unit_test(bad_fragments),       cmocka_unit_test(alert_floods),
        cmocka_unit_test(replayed_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
