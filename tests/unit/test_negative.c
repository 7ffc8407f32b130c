/*
 * Negative tests: malformed, truncated, misplaced and forged records and
 * handshake messages injected into in-memory handshakes (tests/support/
 * pair.h). Each case is one row of a table: which datagram to change, how,
 * and the documented outcome:
 *   - SILENT: the record is dropped silently (the handshake still
 *     completes, by retransmission if needed, and the receiver counts a
 *     dropped record);
 *   - FATAL: the receiver fails with the code and the peer then fails with
 *     PETREL_ERR_PEER_ALERT, the last alert being (fatal, the code's alert);
 *     for some certificate cases the sender is the one that fails, when
 *     the change only shows in the peer's answer;
 *   - STALLED: the change passes every check and only alters the
 *     transcript: with extended_master_secret the two sides derive
 *     different keys, drop each other's Finished, and the handshake times
 *     out without either side completing.
 * After every case a fresh handshake on the same two configs must succeed,
 * and no case may make a side send more than DATAGRAM_BUDGET datagrams.
 * NEG_CASE=<part of a name> runs only the matching cases; NEG_DUMP=1
 * prints each changed datagram.
 *
 * The server is configured with a 32-byte PSK identity hint, so a
 * loss-free handshake's datagrams are:
 *   to server #0 ClientHello, #1 ClientHello with cookie,
 *             #2 ClientKeyExchange + ChangeCipherSpec + Finished (epoch 1);
 *   to client #0 HelloVerifyRequest,
 *             #1 ServerHello + ServerKeyExchange + ServerHelloDone,
 *             #2 ChangeCipherSpec + Finished (epoch 1).
 *
 * Certificate handshakes (ECDHE_ECDSA over x25519; the server's chain
 * tests/pki/ec-server-chain.pem, a 1038-byte Certificate; the client
 * trusting ca-all.pem) at the default PMTU of 1232:
 *   to server #0 ClientHello, #1 ClientHello with cookie,
 *             #2 ClientKeyExchange + ChangeCipherSpec + Finished (epoch 1);
 *   to client #0 HelloVerifyRequest,
 *             #1 ServerHello + Certificate + ServerKeyExchange (first fragment),
 *             #2 ServerKeyExchange (second fragment) + ServerHelloDone,
 *             #3 ChangeCipherSpec + Finished (epoch 1).
 * At PMTU 1500 the server's flight is one datagram, to client #1, and its
 * ChangeCipherSpec + Finished are #2. With client authentication (the
 * server requiring a certificate, the client holding ec-client-chain.pem)
 * a CertificateRequest comes before ServerHelloDone in to client #2, and
 *   to server #2 Certificate + ClientKeyExchange + CertificateVerify +
 *                ChangeCipherSpec,
 *             #3 Finished (epoch 1).
 * certificate_layout checks these. The certificate tables address a
 * message by its type (neg_case.hs_type) in the first datagram from an
 * index on that carries it, not by record index, and rewrite only messages
 * that are whole in one record; so the ServerKeyExchange cases run at PMTU
 * 1500, but for two that change a byte in either fragment at 1232. ECDSA
 * signatures are 70 to 72 bytes, varying with the seed: offsets into them
 * count from the end of the message. The certificates and raw keys the
 * cases cut and recombine are captured from clean handshakes first.
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

#define RUN_LIMIT_MS    300000
#define SETTLE_MS       5000
#define DATAGRAM_BUDGET 64 /* per direction and case */
#define REC_HDR         13
#define HS_HDR          12

static const uint8_t hint[32] = "petrel negative tests hint 32 by";

/* Handshake message types. */
enum {
    HT_CLIENT_HELLO = 1,
    HT_SERVER_HELLO = 2,
    HT_HELLO_VERIFY_REQUEST = 3,
    HT_CERTIFICATE = 11,
    HT_SERVER_KEY_EXCHANGE = 12,
    HT_CERTIFICATE_REQUEST = 13,
    HT_SERVER_HELLO_DONE = 14,
    HT_CERTIFICATE_VERIFY = 15,
    HT_CLIENT_KEY_EXCHANGE = 16,
};

/* Extension types. */
enum {
    EXT_SERVER_NAME = 0,
    EXT_SIGNATURE_ALGORITHMS = 13,
    EXT_CLIENT_CERTIFICATE_TYPE = 19,
    EXT_SERVER_CERTIFICATE_TYPE = 20,
};

/* ---- outcomes ---- */

enum expect {
    EXP_SILENT,       /* completes; the receiver dropped at least one record */
    EXP_COMPLETE,     /* completes; drops not checked */
    EXP_FATAL,        /* receiver fails with code; peer gets its alert */
    EXP_FATAL_DECODE, /* as EXP_FATAL, code any of TRUNCATED/LENGTH/TRAILING, alert 50 */
    EXP_TIMEOUT,      /* the receiver gives up: PETREL_ERR_HANDSHAKE_TIMEOUT */
    EXP_STALLED,      /* neither side completes; a side gives up (HANDSHAKE_TIMEOUT) */
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
    OP_HS_FLIP,         /* record rec: body[a] ^= b (a < 0: counted from the end) */
    OP_HS_ADD16,        /* record rec: body[a..a+1] += b (a length field, big-endian) */
    OP_HS_ADD24,        /* record rec: body[a..a+2] += b */
    OP_HS_REPLACE,      /* record rec: msg_type = a, body = blob, lengths fixed */
    OP_HS_INSERT,       /* before record rec: handshake message of type a, body blob,
                           with rec's message_seq; later messages and records renumbered */
    OP_REC_REMOVE,      /* record rec removed */
    OP_EXT_SET,         /* hello in record rec: extension a's data = blob (appended when
                           absent), lengths fixed */
    OP_EXT_ADD,         /* hello in record rec: extension a with data blob appended */
    OP_EXT_DEL,         /* hello in record rec: extension a removed */
    OP_DROP,            /* the datagram is lost */
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
    /* Certificate cases. setup configures the pair instead of the PSK
     * hint. hs_type > 0 addresses the record by content rather than by
     * rec: the first epoch-0 handshake record carrying a fragment of that
     * message type, in the first datagram from index on that has one.
     * every: change each such datagram (retransmissions too), not only the
     * first. at_sender: for FATAL, the side that sent the changed datagram
     * is the one that fails (it finds the change later, through the
     * peer's answer), and the receiver gets its alert. */
    void (*setup)(pair *p);
    int hs_type;
    bool every;
    bool at_sender;
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
static uint32_t get24(const uint8_t *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
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
    if (new_len)
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

/* An epoch-0 (plaintext) handshake record. */
static bool plain_handshake(const uint8_t *d, const span *r)
{
    return d[r->off] == 22 && get16(d + r->off + 3) == 0 && r->len >= REC_HDR + HS_HDR;
}

/* The record a case changes (count: the datagram has none of its type). */
static size_t target_record(const neg_case *c, const uint8_t *d, const span *recs, size_t count)
{
    if (c->hs_type == 0)
        return c->rec;
    for (size_t i = 0; i < count; i++) {
        if (plain_handshake(d, &recs[i]) && d[recs[i].off + REC_HDR] == c->hs_type)
            return i;
    }
    return count;
}

/* The record holds a whole message in one fragment: rewriting its body
 * (and fixing the lengths) is only meaningful then. */
static bool whole_message(const uint8_t *h)
{
    return get24(h + REC_HDR + 6) == 0 && get24(h + REC_HDR + 9) == get24(h + REC_HDR + 1);
}

/* The offset, in a ClientHello or ServerHello body, of the extensions
 * length field (the body's length when the hello has no extensions). */
static size_t hello_extensions_at(const uint8_t *body, size_t blen, bool client_hello)
{
    size_t off = 2 + 32;
    off += 1 + body[off]; /* session_id */
    if (client_hello) {
        off += 1 + body[off];         /* cookie */
        off += 2 + get16(body + off); /* cipher_suites */
        off += 1 + body[off];         /* compression_methods */
    } else {
        off += 3; /* cipher_suite, compression_method */
    }
    assert_true(off <= blen);
    return off;
}

/* OP_EXT_*: rewrites the extension block of the hello in body; returns the
 * new body length. */
static size_t edit_extensions(const neg_case *c, uint8_t *body, size_t blen, bool client_hello)
{
    static uint8_t out[PAIR_MAX_DATAGRAM];
    size_t at = hello_extensions_at(body, blen, client_hello);
    size_t end = at < blen ? at + 2 + get16(body + at) : at;
    size_t len = 0;
    bool found = false;
    assert_true(end <= blen);
    for (size_t off = at + 2; off + 4 <= end;) {
        size_t elen = get16(body + off + 2);
        bool match = get16(body + off) == (uint32_t)c->a;
        if (match && c->op == OP_EXT_SET) {
            put16(out + len, (uint32_t)c->a);
            put16(out + len + 2, (uint32_t)c->blob_len);
            if (c->blob_len)
                memcpy(out + len + 4, c->blob, c->blob_len);
            len += 4 + c->blob_len;
        } else if (!(match && c->op == OP_EXT_DEL)) {
            memcpy(out + len, body + off, 4 + elen);
            len += 4 + elen;
        }
        found = found || match;
        off += 4 + elen;
    }
    if (c->op == OP_EXT_ADD || (c->op == OP_EXT_SET && !found)) {
        put16(out + len, (uint32_t)c->a);
        put16(out + len + 2, (uint32_t)c->blob_len);
        if (c->blob_len)
            memcpy(out + len + 4, c->blob, c->blob_len);
        len += 4 + c->blob_len;
    }
    if (c->op == OP_EXT_DEL && !found)
        fail_msg("%s: the hello has no extension %ld", c->name, c->a);
    put16(body + at, (uint32_t)len);
    memcpy(body + at + 2, out, len);
    return at + 2 + len;
}

/* Adds one to a record's 48-bit sequence number. */
static void bump_record_seq(uint8_t *h)
{
    for (int i = 10; i >= 5; i--) {
        if (++h[i] != 0)
            break;
    }
}

static void mutate(const neg_case *c, uint8_t *d, size_t *n)
{
    span recs[32];
    size_t count = split(d, *n, recs, 32);
    size_t idx = target_record(c, d, recs, count);
    if (c->op != OP_CUT && idx > count)
        fail_msg("%s: record %zu of %zu", c->name, idx, count);
    const span *r = idx < count ? &recs[idx] : NULL;
    uint8_t *h = r ? d + r->off : NULL; /* record header */
    static uint8_t body[PAIR_MAX_DATAGRAM];
    size_t blen = r && r->len >= REC_HDR + HS_HDR ? r->len - REC_HDR - HS_HDR : 0;
    if (r)
        memcpy(body, h + REC_HDR + HS_HDR, blen);
    switch (c->op) {
    case OP_HS_TRUNC:
    case OP_HS_APPEND:
    case OP_HS_TAIL:
    case OP_HS_REPLACE:
    case OP_EXT_SET:
    case OP_EXT_ADD:
    case OP_EXT_DEL:
        if (!r || !whole_message(h))
            fail_msg("%s: record %zu is not a whole handshake message", c->name, idx);
        break;
    default:
        break;
    }
    /* Offsets below 0 count from the end of the body. */
    size_t pos = c->a < 0 ? blen - (size_t)(-c->a) : (size_t)c->a;
    switch (c->op) {
    case OP_NONE:
        break;
    case OP_HS_TRUNC:
        set_hs_body(d, n, r, body, pos);
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
    case OP_HS_FLIP:
        h[REC_HDR + HS_HDR + pos] ^= (uint8_t)c->b;
        break;
    case OP_HS_ADD16:
        put16(h + REC_HDR + HS_HDR + pos,
              (get16(h + REC_HDR + HS_HDR + pos) + (uint32_t)c->b) & 0xffff);
        break;
    case OP_HS_ADD24:
        put24(h + REC_HDR + HS_HDR + pos,
              (get24(h + REC_HDR + HS_HDR + pos) + (uint32_t)c->b) & 0xffffff);
        break;
    case OP_HS_REPLACE:
        h[REC_HDR] = (uint8_t)c->a;
        set_hs_body(d, n, r, c->blob, c->blob_len);
        break;
    case OP_HS_INSERT: {
        static uint8_t rec[PAIR_MAX_DATAGRAM];
        memcpy(rec, h, REC_HDR + HS_HDR);
        rec[REC_HDR] = (uint8_t)c->a;
        put16(rec + 11, (uint32_t)(HS_HDR + c->blob_len));
        put24(rec + REC_HDR + 1, (uint32_t)c->blob_len);
        put24(rec + REC_HDR + 6, 0);
        put24(rec + REC_HDR + 9, (uint32_t)c->blob_len);
        if (c->blob_len)
            memcpy(rec + REC_HDR + HS_HDR, c->blob, c->blob_len);
        for (size_t i = idx; i < count; i++) {
            uint8_t *later = d + recs[i].off;
            if (get16(later + 3) != 0)
                continue;
            bump_record_seq(later);
            if (plain_handshake(d, &recs[i]))
                put16(later + REC_HDR + 4, get16(later + REC_HDR + 4) + 1);
        }
        splice(d, n, r->off, 0, rec, REC_HDR + HS_HDR + c->blob_len);
        break;
    }
    case OP_REC_REMOVE:
        splice(d, n, r->off, r->len, NULL, 0);
        break;
    case OP_DROP:
        break;
    case OP_EXT_SET:
    case OP_EXT_ADD:
    case OP_EXT_DEL:
        set_hs_body(d, n, r, body, edit_extensions(c, body, blen, h[REC_HDR] == HT_CLIENT_HELLO));
        break;
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
    const neg_case *c = run->c;
    if (direction != c->dir || (run->applied && !c->every))
        return true;
    if (c->hs_type ? index < c->index : index != c->index)
        return true;
    if (c->hs_type) {
        span recs[32];
        size_t count = split(dgram, *len, recs, 32);
        if (target_record(c, dgram, recs, count) == count)
            return true;
    }
    run->applied = true;
    if (c->op == OP_DROP)
        return false;
    mutate(c, dgram, len);
    if (getenv("NEG_DUMP")) {
        printf("  mutated dir %d #%zu len %zu:", direction, index, *len);
        for (size_t i = 0; i < *len; i++)
            printf("%s%02x", i % 32 == 0 ? "\n    " : " ", dgram[i]);
        printf("\n");
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
    if (c->setup)
        c->setup(&p);
    else if (!c->no_hint && petrel_config_set_psk_hint(p.server_cfg, hint, sizeof(hint)) != 0)
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
        if (c->at_sender) {
            /* The failing side is the sender: swap the roles. */
            petrel_conn *t = recv;
            recv = other;
            other = t;
            int e = recv_err;
            recv_err = other_err;
            other_err = e;
        }
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
    case EXP_STALLED:
        CHECK(rc == PETREL_ERR_HANDSHAKE_TIMEOUT, "run ended with %s, expected a timeout",
              ename(rc));
        CHECK(!p.client_complete && !p.server_complete, "a side completed (client %d, server %d)",
              p.client_complete, p.server_complete);
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
    /* Whatever happens, each side paces its flights by its timer: a few
     * copies of each, not a flood. */
    CHECK(p.sent[0] <= DATAGRAM_BUDGET && p.sent[1] <= DATAGRAM_BUDGET,
          "%zu datagrams to the server, %zu to the client (budget %d)", p.sent[0], p.sent[1],
          DATAGRAM_BUDGET);
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
    const char *only = getenv("NEG_CASE"); /* a part of the names to run */
    for (size_t i = 0; i < count; i++) {
        if (only && !strstr(cases[i].name, only))
            continue;
        if (!run_case(&cases[i], 1000 + i))
            failures++;
    }
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

/* ---- certificate handshakes ---- */

#define PKI(name) PETREL_SOURCE_DIR "/tests/pki/" name

static void expect_ok(int rc, const char *what)
{
    if (rc != 0)
        fail_msg("setup: %s: %s", what, ename(rc));
}

static void use_suites(pair *p, const uint16_t *suites, size_t count)
{
    expect_ok(petrel_config_set_suites(p->client_cfg, suites, count), "client suites");
    expect_ok(petrel_config_set_suites(p->server_cfg, suites, count), "server suites");
}

static void use_pmtu(pair *p, size_t pmtu)
{
    expect_ok(petrel_config_set_pmtu(p->client_cfg, pmtu), "client pmtu");
    expect_ok(petrel_config_set_pmtu(p->server_cfg, pmtu), "server pmtu");
}

/* The certificate suites only, so the pair's PSK plays no part. */
static const uint16_t cert_suites[] = {0xC0AE, 0xC0AC, 0xC02B, 0xC02C,
                                       0xCCA9, 0xC02F, 0xC030, 0xCCA8};
/* The same and the PSK suites. */
static const uint16_t cert_and_psk_suites[] = {0xC0AE, 0xC02B, 0xCCA9, 0xC0A8, 0x00A8, 0xCCAC};

/* ECDSA server (ec-server-chain.pem), client trusting ca-all.pem; PMTU
 * 1232 (the default). */
static void setup_cert(pair *p)
{
    use_suites(p, cert_suites, sizeof(cert_suites) / sizeof(cert_suites[0]));
    expect_ok(petrel_config_load_cert_chain_file(p->server_cfg, PKI("ec-server-chain.pem")),
              "server chain");
    expect_ok(petrel_config_load_key_file(p->server_cfg, PKI("ec-server.key"), NULL), "server key");
    expect_ok(petrel_config_load_ca_file(p->client_cfg, PKI("ca-all.pem")), "client CAs");
}

/* As setup_cert at PMTU 1500: the server's flight is one datagram and
 * every message one unfragmented record. */
static void setup_cert_1500(pair *p)
{
    setup_cert(p);
    use_pmtu(p, 1500);
}

/* As setup_cert_1500, the client offering x25519 only. */
static void setup_cert_x25519_only(pair *p)
{
    static const uint16_t x25519 = 0x001d;
    setup_cert_1500(p);
    expect_ok(petrel_config_set_groups(p->client_cfg, &x25519, 1), "client groups");
}

/* The client checks the name "localhost" and sends it as server_name. */
static void setup_cert_sni(pair *p)
{
    setup_cert(p);
    expect_ok(petrel_config_set_server_name(p->client_cfg, "localhost"), "server name");
}

/* The client checks an IP address: no server_name is sent. */
static void setup_cert_ip_name(pair *p)
{
    setup_cert(p);
    expect_ok(petrel_config_set_server_name(p->client_cfg, "127.0.0.1"), "server name");
}

static void client_holds_cert(pair *p)
{
    expect_ok(petrel_config_load_cert_chain_file(p->client_cfg, PKI("ec-client-chain.pem")),
              "client chain");
    expect_ok(petrel_config_load_key_file(p->client_cfg, PKI("ec-client.key"), NULL), "client key");
}

/* Client authentication: the server requires a certificate (trusting
 * ca-all.pem), the client holds ec-client-chain.pem. */
static void setup_client_auth(pair *p)
{
    setup_cert(p);
    expect_ok(petrel_config_load_ca_file(p->server_cfg, PKI("ca-all.pem")), "server CAs");
    expect_ok(petrel_config_set_verify(p->server_cfg, PETREL_VERIFY_REQUIRE, 0), "verify");
    client_holds_cert(p);
}

static void setup_client_auth_optional(pair *p)
{
    setup_client_auth(p);
    expect_ok(petrel_config_set_verify(p->server_cfg, PETREL_VERIFY_OPTIONAL, 0), "verify");
}

/* The client holds a certificate the server does not ask for. */
static void setup_client_cert_unasked(pair *p)
{
    setup_cert(p);
    client_holds_cert(p);
}

/* Raw public keys (RFC 7250) both ways, each side pinning the other's key;
 * the server holds a key only, no chain, and requires the client's. */
static void setup_rpk(pair *p)
{
    use_suites(p, cert_suites, sizeof(cert_suites) / sizeof(cert_suites[0]));
    expect_ok(petrel_config_set_raw_public_keys(p->client_cfg, true), "client rpk");
    expect_ok(petrel_config_set_raw_public_keys(p->server_cfg, true), "server rpk");
    expect_ok(petrel_config_load_key_file(p->server_cfg, PKI("rpk-server.key"), NULL),
              "server key");
    expect_ok(petrel_config_load_key_file(p->client_cfg, PKI("rpk-client.key"), NULL),
              "client key");
    expect_ok(petrel_config_add_pinned_key_file(p->client_cfg, PKI("rpk-server.pub.pem")),
              "client pin");
    expect_ok(petrel_config_add_pinned_key_file(p->server_cfg, PKI("rpk-client.pub.der")),
              "server pin");
    expect_ok(petrel_config_set_verify(p->server_cfg, PETREL_VERIFY_REQUIRE, 0), "verify");
}

/* As setup_rpk, with PSK suites in common as well. */
static void setup_rpk_and_psk(pair *p)
{
    setup_rpk(p);
    use_suites(p, cert_and_psk_suites,
               sizeof(cert_and_psk_suites) / sizeof(cert_and_psk_suites[0]));
}

/* ---- reference messages ---- */

/* Certificate bodies as petrel sends them, captured from clean
 * handshakes: the cases below cut, flip and recombine them. */
typedef struct cert_body {
    uint8_t data[8192];
    size_t len;
} cert_body;

static cert_body server_certificate; /* ec-server + ec-int */
static cert_body client_certificate; /* ec-client + ec-int */
static cert_body rsa_certificate;    /* rsa-server + rsa-int2 + rsa-int1 */
static cert_body server_raw_key;     /* RFC 7250: rpk-server's SubjectPublicKeyInfo */
static cert_body client_raw_key;     /* rpk-client's */

typedef struct capture {
    cert_body *to[2]; /* per direction, NULL: not wanted */
} capture;

static bool capture_certificates(void *ref, int direction, size_t index, uint8_t *dgram,
                                 size_t *len)
{
    (void)index;
    capture *cap = ref;
    span recs[32];
    size_t count = split(dgram, *len, recs, 32);
    for (size_t i = 0; i < count; i++) {
        const uint8_t *h = dgram + recs[i].off;
        cert_body *out = cap->to[direction];
        if (out && plain_handshake(dgram, &recs[i]) && h[REC_HDR] == HT_CERTIFICATE) {
            if (!whole_message(h))
                fail_msg("capture: the Certificate is fragmented");
            out->len = recs[i].len - REC_HDR - HS_HDR;
            assert_true(out->len <= sizeof(out->data));
            memcpy(out->data, h + REC_HDR + HS_HDR, out->len);
        }
    }
    return true;
}

static void capture_run(void (*setup)(pair *), cert_body *to_client, cert_body *to_server)
{
    pair p;
    capture cap = {{to_server, to_client}};
    pair_init(&p, 1);
    setup(&p);
    use_pmtu(&p, 16384);
    p.filter = capture_certificates;
    p.filter_ref = &cap;
    assert_int_equal(pair_start(&p), 0);
    assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
    pair_free(&p);
    assert_true(!to_client || to_client->len > 0);
    assert_true(!to_server || to_server->len > 0);
}

static void setup_rsa_server(pair *p)
{
    use_suites(p, cert_suites, sizeof(cert_suites) / sizeof(cert_suites[0]));
    expect_ok(petrel_config_load_cert_chain_file(p->server_cfg, PKI("rsa-server-chain.pem")),
              "server chain");
    expect_ok(petrel_config_load_key_file(p->server_cfg, PKI("rsa-server.key"), NULL),
              "server key");
    expect_ok(petrel_config_load_ca_file(p->client_cfg, PKI("ca-all.pem")), "client CAs");
}

static void capture_references(void)
{
    if (server_certificate.len)
        return;
    capture_run(setup_client_auth, &server_certificate, &client_certificate);
    capture_run(setup_rsa_server, &rsa_certificate, NULL);
    capture_run(setup_rpk, &server_raw_key, &client_raw_key);
}

/* Offsets in a Certificate body: certificate_list<0..2^24-1> of
 * ASN.1Cert<1..2^24-1>. */
static size_t leaf_len(const cert_body *b)
{
    return get24(b->data + 3);
}

/* The first byte after the leaf: the intermediate's length field. */
static size_t second_at(const cert_body *b)
{
    return 6 + leaf_len(b);
}

/* A byte of the leaf's EC point: the SubjectPublicKeyInfo ends in the
 * BIT STRING 03 42 00 04 X Y of a P-256 key. */
static size_t leaf_point_at(const cert_body *b)
{
    static const uint8_t bit_string[] = {0x03, 0x42, 0x00, 0x04};
    for (size_t i = 6; i + 4 + 64 <= second_at(b); i++) {
        if (memcmp(b->data + i, bit_string, 4) == 0)
            return i + 4;
    }
    fail_msg("no P-256 point in the leaf");
    return 0;
}

/* A certificate_list of the given certificates (DER, lengths). */
static size_t build_list(uint8_t *out, size_t cap, const uint8_t *const *certs, const size_t *lens,
                         size_t count)
{
    size_t len = 3;
    for (size_t i = 0; i < count; i++) {
        assert_true(len + 3 + lens[i] <= cap);
        put24(out + len, (uint32_t)lens[i]);
        memcpy(out + len + 3, certs[i], lens[i]);
        len += 3 + lens[i];
    }
    put24(out, (uint32_t)(len - 3));
    return len;
}

/* The leaf followed by copies of the intermediate: count certificates. */
static size_t padded_chain(const cert_body *b, uint8_t *out, size_t cap, size_t count)
{
    const uint8_t *certs[16];
    size_t lens[16];
    assert_true(count <= 16);
    certs[0] = b->data + 6;
    lens[0] = leaf_len(b);
    for (size_t i = 1; i < count; i++) {
        certs[i] = b->data + second_at(b) + 3;
        lens[i] = get24(b->data + second_at(b));
    }
    return build_list(out, cap, certs, lens, count);
}

/* ---- the layout the tables rely on ---- */

static const char *message_name(int type)
{
    switch (type) {
    case HT_CLIENT_HELLO:
        return "ClientHello";
    case HT_SERVER_HELLO:
        return "ServerHello";
    case HT_HELLO_VERIFY_REQUEST:
        return "HelloVerifyRequest";
    case HT_CERTIFICATE:
        return "Certificate";
    case HT_SERVER_KEY_EXCHANGE:
        return "ServerKeyExchange";
    case HT_CERTIFICATE_REQUEST:
        return "CertificateRequest";
    case HT_SERVER_HELLO_DONE:
        return "ServerHelloDone";
    case HT_CERTIFICATE_VERIFY:
        return "CertificateVerify";
    case HT_CLIENT_KEY_EXCHANGE:
        return "ClientKeyExchange";
    default:
        return "?";
    }
}

typedef struct layout {
    char shape[2][8][160]; /* per direction, the first 8 datagrams */
} layout;

/* "ServerHello Certificate ServerKeyExchange(part)": one datagram's
 * records; (part) marks a fragment of a longer message. */
static bool record_layout(void *ref, int direction, size_t index, uint8_t *dgram, size_t *len)
{
    layout *l = ref;
    if (index >= 8)
        return true;
    char *out = l->shape[direction][index];
    span recs[32];
    size_t count = split(dgram, *len, recs, 32);
    out[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        const uint8_t *h = dgram + recs[i].off;
        char name[48];
        if (plain_handshake(dgram, &recs[i]))
            snprintf(name, sizeof(name), "%s%s", message_name(h[REC_HDR]),
                     whole_message(h) ? "" : "(part)");
        else if (h[0] == 20)
            snprintf(name, sizeof(name), "ChangeCipherSpec");
        else
            snprintf(name, sizeof(name), "%d(epoch %u)", h[0], (unsigned)get16(h + 3));
        size_t used = strlen(out);
        snprintf(out + used, 160 - used, "%s%s", used ? " " : "", name);
    }
    return true;
}

/* The datagrams of loss-free certificate handshakes, as the header
 * comment documents them: the case tables address records by index or by
 * type within them. */
static void certificate_layout(void **state)
{
    (void)state;
    static const struct {
        void (*setup)(pair *);
        const char *to_server[4];
        const char *to_client[4];
    } expected[] = {
        {setup_cert,
         {"ClientHello", "ClientHello", "ClientKeyExchange ChangeCipherSpec 22(epoch 1)", ""},
         {"HelloVerifyRequest", "ServerHello Certificate ServerKeyExchange(part)",
          "ServerKeyExchange(part) ServerHelloDone", "ChangeCipherSpec 22(epoch 1)"}},
        {setup_cert_1500,
         {"ClientHello", "ClientHello", "ClientKeyExchange ChangeCipherSpec 22(epoch 1)", ""},
         {"HelloVerifyRequest", "ServerHello Certificate ServerKeyExchange ServerHelloDone",
          "ChangeCipherSpec 22(epoch 1)", ""}},
        {setup_client_auth,
         {"ClientHello", "ClientHello",
          "Certificate ClientKeyExchange CertificateVerify ChangeCipherSpec", "22(epoch 1)"},
         {"HelloVerifyRequest", "ServerHello Certificate ServerKeyExchange(part)",
          "ServerKeyExchange(part) CertificateRequest ServerHelloDone",
          "ChangeCipherSpec 22(epoch 1)"}},
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            pair p;
            static layout l;
            memset(&l, 0, sizeof(l));
            pair_init(&p, seed);
            expected[i].setup(&p);
            p.filter = record_layout;
            p.filter_ref = &l;
            assert_int_equal(pair_start(&p), 0);
            assert_int_equal(pair_run(&p, RUN_LIMIT_MS), 0);
            for (size_t k = 0; k < 4; k++) {
                const char *want[2] = {expected[i].to_server[k], expected[i].to_client[k]};
                for (int dir = 0; dir < 2; dir++) {
                    if (strcmp(l.shape[dir][k], want[dir]) != 0) {
                        print_error("layout %zu seed %llu: to %s #%zu is \"%s\", expected \"%s\"\n",
                                    i, (unsigned long long)seed, dir ? "client" : "server", k,
                                    l.shape[dir][k], want[dir]);
                        failed++;
                    }
                }
            }
            pair_free(&p);
        }
    }
    assert_int_equal(failed, 0);
}

/* ---- certificate case tables ---- */

/* A case on the message of type hs_type in datagram index of dir (or the
 * first datagram after it that carries one). code 0: a decode error. */
static neg_case *on_message(neg_case *c, void (*setup)(pair *), int dir, size_t index, int hs_type,
                            enum op op, long a, long b, int code, int alert)
{
    fatal(c, dir, index, op, 0, a, b, code, alert);
    c->setup = setup;
    c->hs_type = hs_type;
    return c;
}

/* The change gets through the receiver's checks and only changes the
 * transcript: with extended_master_secret the two sides then derive
 * different keys, drop each other's Finished, and time out. */
static neg_case *stalled(neg_case *c)
{
    c->expect = EXP_STALLED;
    return c;
}

static neg_case *sender_fails(neg_case *c)
{
    c->at_sender = true;
    return c;
}

/* Certificate messages rebuilt from a captured one. */
typedef struct chain_blobs {
    cert_body eleven;       /* the leaf and ten copies of the intermediate */
    cert_body ten;          /* the leaf and nine copies: the most accepted */
    cert_body leaf_only;    /* the intermediate left out */
    cert_body reversed;     /* intermediate first, then the leaf */
    cert_body garbage_leaf; /* the leaf's DER bytes replaced by 0xa5, lengths kept */
} chain_blobs;

static chain_blobs server_blobs, client_blobs;

/* Eleven one-byte certificates: over the limit before any DER is read. */
static uint8_t eleven_tiny[3 + 11 * 4];
static const uint8_t empty_list[] = {0, 0, 0};
static const uint8_t zero_length_cert[] = {0, 0, 3, 0, 0, 0};

static void make_blobs(const cert_body *b, chain_blobs *out)
{
    put24(eleven_tiny, sizeof(eleven_tiny) - 3);
    for (size_t i = 0; i < 11; i++) {
        put24(eleven_tiny + 3 + 4 * i, 1);
        eleven_tiny[3 + 4 * i + 3] = 0x30;
    }
    out->eleven.len = padded_chain(b, out->eleven.data, sizeof(out->eleven.data), 11);
    out->ten.len = padded_chain(b, out->ten.data, sizeof(out->ten.data), 10);
    out->leaf_only.len = padded_chain(b, out->leaf_only.data, sizeof(out->leaf_only.data), 1);
    const uint8_t *certs[2] = {b->data + second_at(b) + 3, b->data + 6};
    size_t lens[2] = {get24(b->data + second_at(b)), leaf_len(b)};
    out->reversed.len = build_list(out->reversed.data, sizeof(out->reversed.data), certs, lens, 2);
    out->garbage_leaf = *b;
    memset(out->garbage_leaf.data + 6, 0xa5, leaf_len(b));
}

static neg_case *with_body(neg_case *c, const cert_body *b)
{
    return with_blob(c, b->data, b->len);
}

/* Known differences between petrel and the outcome these tables
 * document (see neg_case.known). */

/* The cases every Certificate message gets, from either side: framing,
 * limits and damage to the certificates themselves. dir/index/setup pick
 * the message. A change the receiver accepts shows later: in a client's
 * Certificate through the CertificateVerify, which the server checks
 * against its own transcript; in a server's only through the keys
 * (stalled). */
static void certificate_cases(const char *who, void (*setup)(pair *), int dir, size_t index,
                              const cert_body *b, const chain_blobs *blobs)
{
    bool from_client = dir == PAIR_TO_SERVER;
    size_t leaf = leaf_len(b), second = second_at(b);
    const int T = HT_CERTIFICATE;
    /* Framing: certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>. */
    with_blob(on_message(add("%s_certificate_zero_length_certificate", who), setup, dir, index, T,
                         OP_HS_TAIL, 0, 0, 0, 50),
              zero_length_cert, sizeof(zero_length_cert));
    static const struct {
        const char *name;
        long at, delta; /* at < 0: the second certificate's length */
    } lengths[] = {
        {"list_length_plus_1", 0, 1},
        {"list_length_minus_1", 0, -1},
        {"list_length_plus_0x10000", 0, 0x10000},
        {"leaf_length_plus_1", 3, 1},
        {"leaf_length_minus_1", 3, -1},
        {"leaf_length_minus_0x100", 3, -0x100},
        {"second_length_plus_1", -1, 1},
        {"second_length_minus_1", -1, -1},
    };
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++)
        on_message(add("%s_certificate_%s", who, lengths[i].name), setup, dir, index, T,
                   OP_HS_ADD24, lengths[i].at < 0 ? (long)second : lengths[i].at, lengths[i].delta,
                   0, 50);
    const long end = (long)(6 + leaf), last = (long)b->len - 1;
    const long cuts[] = {0, 1, 2, 3, 4, 5, 6, 7, 100, end - 1, end, end + 1, end + 3, last};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
        on_message(add("%s_certificate_truncated_to_%ld", who, cuts[i]), setup, dir, index, T,
                   OP_HS_TRUNC, cuts[i], 0, 0, 50);
    static const long extra[] = {1, 3, 7};
    for (size_t i = 0; i < 3; i++)
        on_message(add("%s_certificate_plus_%ld_bytes", who, extra[i]), setup, dir, index, T,
                   OP_HS_APPEND, extra[i], 0, 0, 50);

    /* The chain limit (HS_MAX_CHAIN, 10), checked before any DER is read:
     * a chain petrel will not take is a bad certificate. */
    with_body(on_message(add("%s_certificate_eleven_certificates", who), setup, dir, index, T,
                         OP_HS_TAIL, 0, 0, PETREL_ERR_BAD_CERTIFICATE, 42),
              &blobs->eleven);
    with_blob(on_message(add("%s_certificate_eleven_one_byte_certificates", who), setup, dir, index,
                         T, OP_HS_TAIL, 0, 0, PETREL_ERR_BAD_CERTIFICATE, 42),
              eleven_tiny, sizeof(eleven_tiny));
    /* Ten are accepted (the duplicates are harmless to path building). */
    neg_case *c = with_body(on_message(add("%s_certificate_ten_certificates", who), setup, dir,
                                       index, T, OP_HS_TAIL, 0, 0, PETREL_ERR_SIGNATURE, 51),
                            &blobs->ten);
    if (!from_client)
        stalled(c);

    /* The certificates themselves. */
    with_body(on_message(add("%s_certificate_leaf_der_garbage", who), setup, dir, index, T,
                         OP_HS_TAIL, 0, 0, PETREL_ERR_CERT_PARSE, 42),
              &blobs->garbage_leaf);
    on_message(add("%s_certificate_leaf_der_tag_ff", who), setup, dir, index, T, OP_HS_SETBYTE, 6,
               0xff, PETREL_ERR_CERT_PARSE, 42);
    on_message(add("%s_certificate_second_der_tag_ff", who), setup, dir, index, T, OP_HS_SETBYTE,
               (long)second + 3, 0xff, PETREL_ERR_CERT_PARSE, 42);
    /* The low byte of the ECDSA s in the leaf's signature (tests/pki
     * badsig.crt), a byte of its serial number, and of the intermediate's
     * signature: the chain does not verify. */
    on_message(add("%s_certificate_leaf_signature_flipped", who), setup, dir, index, T, OP_HS_FLIP,
               (long)(6 + leaf - 1), 0x01, PETREL_ERR_BAD_CERTIFICATE, 42);
    on_message(add("%s_certificate_leaf_serial_flipped", who), setup, dir, index, T, OP_HS_FLIP,
               6 + 20, 0x01, PETREL_ERR_BAD_CERTIFICATE, 42);
    on_message(add("%s_certificate_second_signature_flipped", who), setup, dir, index, T,
               OP_HS_FLIP, -1, 0x01, PETREL_ERR_BAD_CERTIFICATE, 42);
    /* A changed point is off the curve (or, 05, of no known format): the
     * key does not decode, before the chain is looked at. */
    on_message(add("%s_certificate_leaf_public_key_flipped", who), setup, dir, index, T, OP_HS_FLIP,
               (long)leaf_point_at(b) + 10, 0x01, PETREL_ERR_CERT_PARSE, 42);
    on_message(add("%s_certificate_leaf_point_format_05", who), setup, dir, index, T, OP_HS_FLIP,
               (long)leaf_point_at(b) - 1, 0x01, PETREL_ERR_CERT_PARSE, 42);
    with_body(on_message(add("%s_certificate_leaf_only", who), setup, dir, index, T, OP_HS_TAIL, 0,
                         0, PETREL_ERR_UNKNOWN_CA, 48),
              &blobs->leaf_only);
}

/* The server's Certificate (ECDSA chain, client trusting ca-all.pem). */
static void server_certificate_messages(void **state)
{
    (void)state;
    capture_references();
    make_blobs(&server_certificate, &server_blobs);
    start_table();
    const int T = HT_CERTIFICATE, C = PAIR_TO_CLIENT;
    certificate_cases("server", setup_cert, C, 1, &server_certificate, &server_blobs);
    /* Only a client may send an empty list (RFC 5246 §7.4.2, §7.4.6). */
    with_blob(on_message(add("server_certificate_empty_list"), setup_cert, C, 1, T, OP_HS_TAIL, 0,
                         0, PETREL_ERR_NO_CERTIFICATE, 40),
              empty_list, sizeof(empty_list));
    /* The intermediate first: a CA certificate (keyCertSign only) is no
     * server's own certificate. */
    with_body(on_message(add("server_certificate_reversed_chain"), setup_cert, C, 1, T, OP_HS_TAIL,
                         0, 0, PETREL_ERR_BAD_CERTIFICATE, 42),
              &server_blobs.reversed);
    /* An RSA chain for an ECDHE_ECDSA suite (RFC 8422 §5.3). */
    with_body(on_message(add("server_certificate_rsa_chain_for_ecdsa_suite"), setup_cert, C, 1, T,
                         OP_HS_TAIL, 0, 0, PETREL_ERR_UNSUPPORTED_CERTIFICATE, 43),
              &rsa_certificate);
    /* The first datagram of the flight at PMTU 1232 also holds the start
     * of ServerKeyExchange: a wrong record type drops the lot silently. */
    neg_case *c = on_message(add("server_certificate_record_type_99"), setup_cert, C, 1, T,
                             OP_REC_TYPE, 99, 0, 0, 0);
    c->expect = EXP_SILENT;
    run_table(table, ncases);
}

/* ServerKeyExchange of ECDHE_ECDSA (RFC 8422 §5.4), whole in one record at
 * PMTU 1500. With x25519 (the server's first group) its body is
 * curve_type(0) group(1) point_len(3) point(4..35) scheme(36)
 * signature_len(38) signature(40..), the signature 70 to 72 bytes. */
#define SKE_SCHEME_AT 36
#define SKE_SIG_AT    38

/* A point of 33 zero bytes, then ecdsa_secp256r1_sha256 and an empty
 * signature. */
static const uint8_t point_33[1 + 33 + 4] = {33, [34] = 0x04, [35] = 0x03};
static const uint8_t point_1[] = {1, 9, 0x04, 0x03, 0, 0};
static const uint8_t point_0[] = {0, 0x04, 0x03, 0, 0};
static const uint8_t no_signature[] = {0, 0};

static void server_key_exchange_messages(void **state)
{
    (void)state;
    start_table();
    const int T = HT_SERVER_KEY_EXCHANGE, C = PAIR_TO_CLIENT;
    void (*s)(pair *) = setup_cert_1500;
    /* RFC 8422 §5.4: named_curve(3) only. */
    static const long curve_types[] = {0, 1, 2, 4, 0xff};
    for (size_t i = 0; i < sizeof(curve_types) / sizeof(curve_types[0]); i++)
        on_message(add("server_key_exchange_curve_type_%ld", curve_types[i]), s, C, 1, T,
                   OP_HS_SETBYTE, 0, curve_types[i], PETREL_ERR_ILLEGAL_PARAMETER, 47);
    /* A group the client did not offer, or one whose point has another
     * length (secp256r1 and secp384r1 are offered, with 65- and 97-byte
     * points). */
    static const long groups[] = {0x0000, 0x0016, 0x0017, 0x0018, 0x0019, 0x001e, 0x0100, 0xffff};
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        on_message(add("server_key_exchange_group_%04lx", groups[i]), s, C, 1, T, OP_HS_SET16, 1,
                   groups[i], PETREL_ERR_ILLEGAL_PARAMETER, 47);
    on_message(add("server_key_exchange_group_0017_not_offered"), setup_cert_x25519_only, C, 1, T,
               OP_HS_SET16, 1, 0x0017, PETREL_ERR_ILLEGAL_PARAMETER, 47);
    /* Points of the wrong length for x25519 (the signature, left empty,
     * is not reached). */
    with_blob(on_message(add("server_key_exchange_point_of_33_bytes"), s, C, 1, T, OP_HS_TAIL, 3, 0,
                         PETREL_ERR_ILLEGAL_PARAMETER, 47),
              point_33, sizeof(point_33));
    with_blob(on_message(add("server_key_exchange_point_of_1_byte"), s, C, 1, T, OP_HS_TAIL, 3, 0,
                         PETREL_ERR_ILLEGAL_PARAMETER, 47),
              point_1, sizeof(point_1));
    with_blob(on_message(add("server_key_exchange_point_of_0_bytes"), s, C, 1, T, OP_HS_TAIL, 3, 0,
                         0, 50),
              point_0, sizeof(point_0));
    /* The point's length byte alone changed: the fields after it shift
     * and the message no longer decodes. */
    static const long point_lens[] = {31, 33, 0xff};
    for (size_t i = 0; i < 3; i++)
        on_message(add("server_key_exchange_point_length_%ld", point_lens[i]), s, C, 1, T,
                   OP_HS_SETBYTE, 3, point_lens[i], 0, 50);
    /* RFC 5246 §7.4.3: a scheme the client offered, fitting the key.
     * SHA-1 and MD5 (0x0101..0x0203), Ed25519, P-521 and unassigned ones
     * were not offered; RSA schemes do not fit an EC key. */
    static const long unoffered[] = {0x0000, 0x0101, 0x0201, 0x0203, 0x0603,
                                     0x0807, 0x0808, 0x0809, 0xfefe, 0xffff};
    for (size_t i = 0; i < sizeof(unoffered) / sizeof(unoffered[0]); i++)
        on_message(add("server_key_exchange_scheme_%04lx_not_offered", unoffered[i]), s, C, 1, T,
                   OP_HS_SET16, SKE_SCHEME_AT, unoffered[i], PETREL_ERR_ILLEGAL_PARAMETER, 47);
    static const long rsa_schemes[] = {0x0401, 0x0501, 0x0804, 0x0805};
    for (size_t i = 0; i < 4; i++)
        on_message(add("server_key_exchange_scheme_%04lx_for_ec_key", rsa_schemes[i]), s, C, 1, T,
                   OP_HS_SET16, SKE_SCHEME_AT, rsa_schemes[i], PETREL_ERR_ILLEGAL_PARAMETER, 47);
    /* ecdsa_secp384r1_sha384 fits a P-256 key in TLS 1.2 (the curve is not
     * bound), but the signature was made over SHA-256. */
    on_message(add("server_key_exchange_scheme_0503_other_hash"), s, C, 1, T, OP_HS_SET16,
               SKE_SCHEME_AT, 0x0503, PETREL_ERR_SIGNATURE, 51);
    /* Signature and signed parameters. */
    static const struct {
        const char *name;
        long at;
    } flips[] = {
        {"signature_last_byte", -1},           {"signature_der_tag", SKE_SIG_AT + 2},
        {"signature_r_byte", SKE_SIG_AT + 10}, {"public_key_first_byte", 4},
        {"public_key_last_byte", 35},
    };
    for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++)
        on_message(add("server_key_exchange_%s_flipped", flips[i].name), s, C, 1, T, OP_HS_FLIP,
                   flips[i].at, 0x01, PETREL_ERR_SIGNATURE, 51);
    with_blob(on_message(add("server_key_exchange_empty_signature"), s, C, 1, T, OP_HS_TAIL,
                         SKE_SIG_AT, 0, PETREL_ERR_SIGNATURE, 51),
              no_signature, sizeof(no_signature));
    on_message(add("server_key_exchange_signature_length_plus_1"), s, C, 1, T, OP_HS_ADD16,
               SKE_SIG_AT, 1, 0, 50);
    on_message(add("server_key_exchange_signature_length_minus_1"), s, C, 1, T, OP_HS_ADD16,
               SKE_SIG_AT, -1, 0, 50);
    static const long cuts[] = {0, 1, 2, 3, 4, 20, 35, 36, 37, 38, 39, 40, 41, 60, -1};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        if (cuts[i] < 0)
            on_message(add("server_key_exchange_last_byte_cut"), s, C, 1, T, OP_HS_TRUNC, cuts[i],
                       0, 0, 50);
        else
            on_message(add("server_key_exchange_truncated_to_%ld", cuts[i]), s, C, 1, T,
                       OP_HS_TRUNC, cuts[i], 0, 0, 50);
    }
    static const long extra[] = {1, 2, 16};
    for (size_t i = 0; i < 3; i++)
        on_message(add("server_key_exchange_plus_%ld_bytes", extra[i]), s, C, 1, T, OP_HS_APPEND,
                   extra[i], 0, 0, 50);
    /* At PMTU 1232 the message is split over the flight's two datagrams:
     * a flipped byte in either fragment is found once it is reassembled. */
    on_message(add("server_key_exchange_first_fragment_public_key_flipped"), setup_cert, C, 1, T,
               OP_HS_FLIP, 10, 0x01, PETREL_ERR_SIGNATURE, 51);
    on_message(add("server_key_exchange_second_fragment_signature_flipped"), setup_cert, C, 2, T,
               OP_HS_FLIP, -1, 0x01, PETREL_ERR_SIGNATURE, 51);
    run_table(table, ncases);
}

/* CertificateRequest (RFC 5246 §7.4.4) from a server requiring a client
 * certificate: certificate_types(0..2) sig_schemes_len(3) 6 schemes(5..16)
 * authorities_len(17) authorities(19..), two DistinguishedNames (ca-all). */
#define CR_AUTHORITIES_AT 17

static const uint8_t cr_no_types[] = {0, 0, 2, 4, 3, 0, 0};
static const uint8_t cr_odd_schemes[] = {1, 0x40, 0, 3, 4, 3, 5, 0, 0};
static const uint8_t cr_no_schemes[] = {1, 0x40, 0, 0, 0, 0};
static const uint8_t cr_zero_length_dn[] = {1, 0x40, 0, 2, 4, 3, 0, 2, 0, 0};
static const uint8_t cr_dn_beyond_list[] = {1, 0x40, 0, 2, 4, 3, 0, 4, 0, 5, 0x30, 0};
static const uint8_t cr_one_byte_list[] = {1, 0x40, 0, 2, 4, 3, 0, 1, 0};
static const uint8_t cr_types_beyond[] = {9, 0x40, 0, 2, 4, 3, 0, 0};
/* Well-formed ones. */
static const uint8_t cr_minimal[] = {1, 0x40, 0, 2, 4, 3, 0, 0};
static const uint8_t cr_rsa_schemes_only[] = {1, 0x40, 0, 4, 8, 4, 4, 1, 0, 0};
static const uint8_t cr_sha1_only[] = {1, 0x40, 0, 2, 2, 3, 0, 0};
static const uint8_t cr_rsa_sign_only[] = {1, 1, 0, 2, 4, 3, 0, 0};

static void certificate_request_messages(void **state)
{
    (void)state;
    start_table();
    const int T = HT_CERTIFICATE_REQUEST, C = PAIR_TO_CLIENT;
    void (*s)(pair *) = setup_client_auth;
    static const struct {
        const char *name;
        const uint8_t *body;
        size_t len;
    } malformed[] = {
        {"empty_certificate_types", cr_no_types, sizeof(cr_no_types)},
        {"certificate_types_beyond_message", cr_types_beyond, sizeof(cr_types_beyond)},
        {"odd_signature_algorithms", cr_odd_schemes, sizeof(cr_odd_schemes)},
        {"empty_signature_algorithms", cr_no_schemes, sizeof(cr_no_schemes)},
        {"zero_length_distinguished_name", cr_zero_length_dn, sizeof(cr_zero_length_dn)},
        {"distinguished_name_beyond_list", cr_dn_beyond_list, sizeof(cr_dn_beyond_list)},
        {"authorities_of_one_byte", cr_one_byte_list, sizeof(cr_one_byte_list)},
    };
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
        with_blob(on_message(add("certificate_request_%s", malformed[i].name), s, C, 1, T,
                             OP_HS_TAIL, 0, 0, 0, 50),
                  malformed[i].body, malformed[i].len);
    /* The authorities list cut short or overlong. */
    on_message(add("certificate_request_authorities_length_plus_1"), s, C, 1, T, OP_HS_ADD16,
               CR_AUTHORITIES_AT, 1, 0, 50);
    on_message(add("certificate_request_authorities_length_minus_1"), s, C, 1, T, OP_HS_ADD16,
               CR_AUTHORITIES_AT, -1, 0, 50);
    on_message(add("certificate_request_first_dn_length_plus_1"), s, C, 1, T, OP_HS_ADD16,
               CR_AUTHORITIES_AT + 2, 1, 0, 50);
    on_message(add("certificate_request_signature_algorithms_length_plus_2"), s, C, 1, T,
               OP_HS_ADD16, 3, 2, 0, 50);
    on_message(add("certificate_request_certificate_types_length_0"), s, C, 1, T, OP_HS_SETBYTE, 0,
               0, 0, 50);
    static const long cuts[] = {0, 1, 2, 3, 4, 5, 16, 17, 18, 19, 20, 40, -1};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        if (cuts[i] < 0)
            on_message(add("certificate_request_last_byte_cut"), s, C, 1, T, OP_HS_TRUNC, cuts[i],
                       0, 0, 50);
        else
            on_message(add("certificate_request_truncated_to_%ld", cuts[i]), s, C, 1, T,
                       OP_HS_TRUNC, cuts[i], 0, 0, 50);
    }
    on_message(add("certificate_request_plus_1_byte"), s, C, 1, T, OP_HS_APPEND, 1, 0, 0, 50);
    on_message(add("certificate_request_plus_2_bytes"), s, C, 1, T, OP_HS_APPEND, 2, 0, 0, 50);

    /* Well-formed requests the client can act on: it answers, and the
     * server, whose transcript holds its own request, fails on the
     * CertificateVerify signature. */
    sender_fails(with_blob(on_message(add("certificate_request_minimal_no_authorities"), s, C, 1, T,
                                      OP_HS_TAIL, 0, 0, PETREL_ERR_SIGNATURE, 51),
                           cr_minimal, sizeof(cr_minimal)));
    /* No scheme the client can sign with: it cannot send a
     * CertificateVerify and ends the handshake. */
    with_blob(on_message(add("certificate_request_rsa_schemes_only"), s, C, 1, T, OP_HS_TAIL, 0, 0,
                         PETREL_ERR_HANDSHAKE_FAILURE, 40),
              cr_rsa_schemes_only, sizeof(cr_rsa_schemes_only));
    with_blob(on_message(add("certificate_request_sha1_only"), s, C, 1, T, OP_HS_TAIL, 0, 0,
                         PETREL_ERR_HANDSHAKE_FAILURE, 40),
              cr_sha1_only, sizeof(cr_sha1_only));
    /* RFC 5246 §7.4.6: the client's certificate MUST fit certificate_types,
     * else it sends an empty list; the server requiring one then refuses
     * with handshake_failure. */
    sender_fails(with_blob(on_message(add("certificate_request_rsa_sign_only"), s, C, 1, T,
                                      OP_HS_TAIL, 0, 0, PETREL_ERR_NO_CERTIFICATE, 40),
                           cr_rsa_sign_only, sizeof(cr_rsa_sign_only)));

    /* Out of place: in a PSK handshake (RFC 4279 §2 has none), before
     * ServerKeyExchange, twice. The PSK handshake is the original
     * table's (ServerKeyExchange with the hint at record 1). */
    with_blob(fatal(add("certificate_request_in_psk_handshake_for_key_exchange"), C, 1,
                    OP_HS_REPLACE, 1, T, 0, PETREL_ERR_UNEXPECTED_MESSAGE, 10),
              cr_minimal, sizeof(cr_minimal));
    with_blob(fatal(add("certificate_request_in_psk_handshake_before_hello_done"), C, 1,
                    OP_HS_INSERT, 2, T, 0, PETREL_ERR_UNEXPECTED_MESSAGE, 10),
              cr_minimal, sizeof(cr_minimal));
    with_blob(on_message(add("certificate_request_before_server_key_exchange"), setup_cert_1500, C,
                         1, HT_SERVER_KEY_EXCHANGE, OP_HS_INSERT, T, 0,
                         PETREL_ERR_UNEXPECTED_MESSAGE, 10),
              cr_minimal, sizeof(cr_minimal));
    with_blob(on_message(add("certificate_request_twice"), s, C, 1, HT_SERVER_HELLO_DONE,
                         OP_HS_INSERT, T, 0, PETREL_ERR_UNEXPECTED_MESSAGE, 10),
              cr_minimal, sizeof(cr_minimal));
    /* A request the server never made: the client (holding a certificate)
     * answers with Certificate and CertificateVerify, which the server
     * does not expect. */
    sender_fails(with_blob(on_message(add("certificate_request_not_made_by_the_server"),
                                      setup_client_cert_unasked, C, 1, HT_SERVER_HELLO_DONE,
                                      OP_HS_INSERT, T, 0, PETREL_ERR_UNEXPECTED_MESSAGE, 10),
                           cr_minimal, sizeof(cr_minimal)));
    run_table(table, ncases);
}

/* The client's Certificate and CertificateVerify (client authentication
 * required, client holding ec-client-chain.pem). CertificateVerify body:
 * scheme(0) signature_len(2) signature(4..), 70 to 72 bytes. */
static void client_certificate_messages(void **state)
{
    (void)state;
    capture_references();
    make_blobs(&client_certificate, &client_blobs);
    start_table();
    const int T = HT_CERTIFICATE, V = HT_CERTIFICATE_VERIFY, S = PAIR_TO_SERVER;
    void (*s)(pair *) = setup_client_auth;
    certificate_cases("client", s, S, 2, &client_certificate, &client_blobs);
    /* RFC 5246 §7.4.6: no certificate; required, so handshake_failure. */
    with_blob(on_message(add("client_certificate_emptied_when_required"), s, S, 2, T, OP_HS_TAIL, 0,
                         0, PETREL_ERR_NO_CERTIFICATE, 40),
              empty_list, sizeof(empty_list));
    /* Optional: the server goes on without one and then does not expect
     * the CertificateVerify that follows. */
    with_blob(on_message(add("client_certificate_emptied_when_optional"),
                         setup_client_auth_optional, S, 2, T, OP_HS_TAIL, 0, 0,
                         PETREL_ERR_UNEXPECTED_MESSAGE, 10),
              empty_list, sizeof(empty_list));
    /* The server's own chain: valid, but for serverAuth only. */
    with_body(on_message(add("client_certificate_replaced_by_server_chain"), s, S, 2, T, OP_HS_TAIL,
                         0, 0, PETREL_ERR_BAD_CERTIFICATE, 42),
              &server_certificate);
    /* A certificate the server did not ask for (RFC 5246 §7.4.6: only in
     * answer to a CertificateRequest). */
    with_body(on_message(add("client_certificate_not_requested"), setup_client_cert_unasked, S, 2,
                         HT_CLIENT_KEY_EXCHANGE, OP_HS_INSERT, T, 0, PETREL_ERR_UNEXPECTED_MESSAGE,
                         10),
              &client_certificate);

    /* CertificateVerify (RFC 5246 §7.4.8). */
    on_message(add("certificate_verify_signature_last_byte_flipped"), s, S, 2, V, OP_HS_FLIP, -1,
               0x01, PETREL_ERR_SIGNATURE, 51);
    on_message(add("certificate_verify_signature_der_tag_flipped"), s, S, 2, V, OP_HS_FLIP, 4, 0x01,
               PETREL_ERR_SIGNATURE, 51);
    on_message(add("certificate_verify_signature_r_byte_flipped"), s, S, 2, V, OP_HS_FLIP, 12, 0x80,
               PETREL_ERR_SIGNATURE, 51);
    with_blob(on_message(add("certificate_verify_empty_signature"), s, S, 2, V, OP_HS_TAIL, 2, 0,
                         PETREL_ERR_SIGNATURE, 51),
              no_signature, sizeof(no_signature));
    static const long bad_schemes[] = {0x0000, 0x0201, 0x0203, 0x0401,
                                       0x0603, 0x0804, 0x0807, 0xffff};
    for (size_t i = 0; i < sizeof(bad_schemes) / sizeof(bad_schemes[0]); i++)
        on_message(add("certificate_verify_scheme_%04lx", bad_schemes[i]), s, S, 2, V, OP_HS_SET16,
                   0, bad_schemes[i], PETREL_ERR_ILLEGAL_PARAMETER, 47);
    on_message(add("certificate_verify_scheme_0503_other_hash"), s, S, 2, V, OP_HS_SET16, 0, 0x0503,
               PETREL_ERR_SIGNATURE, 51);
    static const long cuts[] = {0, 1, 2, 3, 4, 5, 40, -1};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        if (cuts[i] < 0)
            on_message(add("certificate_verify_last_byte_cut"), s, S, 2, V, OP_HS_TRUNC, cuts[i], 0,
                       0, 50);
        else
            on_message(add("certificate_verify_truncated_to_%ld", cuts[i]), s, S, 2, V, OP_HS_TRUNC,
                       cuts[i], 0, 0, 50);
    }
    on_message(add("certificate_verify_plus_1_byte"), s, S, 2, V, OP_HS_APPEND, 1, 0, 0, 50);
    on_message(add("certificate_verify_plus_3_bytes"), s, S, 2, V, OP_HS_APPEND, 3, 0, 0, 50);
    on_message(add("certificate_verify_signature_length_plus_1"), s, S, 2, V, OP_HS_ADD16, 2, 1, 0,
               50);
    on_message(add("certificate_verify_signature_length_minus_1"), s, S, 2, V, OP_HS_ADD16, 2, -1,
               0, 50);
    /* Lost once: the server drops the ChangeCipherSpec it does not expect
     * yet (and the Finished it cannot read); the resent flight completes. */
    neg_case *c =
        on_message(add("certificate_verify_lost_once"), s, S, 2, V, OP_REC_REMOVE, 0, 0, 0, 0);
    c->expect = EXP_SILENT;
    /* Never arrives (removed from every retransmission too): the server
     * waits for it, drops each ChangeCipherSpec and Finished, and the
     * client runs out of retransmissions. Nothing completes. */
    c = on_message(add("certificate_verify_never_sent"), s, S, 2, V, OP_REC_REMOVE, 0, 0, 0, 0);
    c->every = true;
    c->expect = EXP_STALLED;
    /* The datagram with the client's Finished lost once: the server holds
     * the rest of the flight and waits for the resent one. */
    c = fatal(add("client_finished_datagram_lost_once"), S, 3, OP_DROP, 0, 0, 0, 0, 0);
    c->setup = s;
    c->expect = EXP_COMPLETE;
    /* The same for the client's Certificate. */
    c = on_message(add("client_certificate_never_sent"), s, S, 2, T, OP_REC_REMOVE, 0, 0, 0, 0);
    c->every = true;
    c->expect = EXP_STALLED;
    /* A CertificateVerify where a ClientKeyExchange belongs. */
    on_message(add("client_key_exchange_as_certificate_verify"), s, S, 2, HT_CLIENT_KEY_EXCHANGE,
               OP_HS_TYPE, V, 0, PETREL_ERR_UNEXPECTED_MESSAGE, 10);
    run_table(table, ncases);
}

/* Certificate in its RawPublicKey form (RFC 7250 §3): one
 * SubjectPublicKeyInfo<1..2^24-1>, no list; a P-256 key is 91 bytes, its
 * point at 27..91. Both directions, each side pinning the other's key. */
static void raw_public_key_messages(void **state)
{
    (void)state;
    capture_references();
    start_table();
    static const struct {
        const char *who;
        int dir;
        size_t index;
        const cert_body *other_key; /* a well-formed key the receiver has not pinned */
    } sides[] = {
        {"server", PAIR_TO_CLIENT, 1, &client_raw_key},
        {"client", PAIR_TO_SERVER, 2, &server_raw_key},
    };
    const int T = HT_CERTIFICATE;
    for (size_t i = 0; i < 2; i++) {
        const char *who = sides[i].who;
        int dir = sides[i].dir;
        size_t index = sides[i].index;
        with_blob(on_message(add("%s_raw_key_zero_length", who), setup_rpk, dir, index, T,
                             OP_HS_TAIL, 0, 0, 0, 50),
                  empty_list, sizeof(empty_list));
        on_message(add("%s_raw_key_length_plus_1", who), setup_rpk, dir, index, T, OP_HS_ADD24, 0,
                   1, 0, 50);
        on_message(add("%s_raw_key_length_minus_1", who), setup_rpk, dir, index, T, OP_HS_ADD24, 0,
                   -1, 0, 50);
        static const long cuts[] = {0, 2, 3, 50, -1};
        for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++)
            on_message(
                add("%s_raw_key_truncated_by_%ld", who, cuts[k] < 0 ? -cuts[k] : 91 + 3 - cuts[k]),
                setup_rpk, dir, index, T, OP_HS_TRUNC, cuts[k], 0, 0, 50);
        on_message(add("%s_raw_key_plus_1_byte", who), setup_rpk, dir, index, T, OP_HS_APPEND, 1, 0,
                   0, 50);
        on_message(add("%s_raw_key_der_tag_ff", who), setup_rpk, dir, index, T, OP_HS_SETBYTE, 3,
                   0xff, PETREL_ERR_CERT_PARSE, 42);
        /* Off the curve: a parse error, as for a certificate's key. */
        on_message(add("%s_raw_key_point_flipped", who), setup_rpk, dir, index, T, OP_HS_FLIP, -5,
                   0x01, PETREL_ERR_CERT_PARSE, 42);
        /* A good key, but not the pinned one. */
        with_body(on_message(add("%s_raw_key_not_pinned", who), setup_rpk, dir, index, T,
                             OP_HS_TAIL, 0, 0, PETREL_ERR_RPK_NOT_PINNED, 42),
                  sides[i].other_key);
        /* An X.509 certificate_list where the raw key belongs: its length
         * frames it as one opaque key, which is no SubjectPublicKeyInfo. */
        with_body(on_message(add("%s_raw_key_replaced_by_x509_list", who), setup_rpk, dir, index, T,
                             OP_HS_TAIL, 0, 0, PETREL_ERR_CERT_PARSE, 42),
                  &server_certificate);
    }
    run_table(table, ncases);
}

/* ---- hello extensions of certificate handshakes ---- */

/* Extension data. server_name: ServerNameList<1..2^16-1> of name_type(1)
 * and HostName<1..2^16-1>. */
/* clang-format off */
static const uint8_t sni_empty_host[] = {0, 3, 0, 0, 0};
static const uint8_t sni_two_hosts[]  = {0, 14, 0, 0, 4, 'h', 'o', 's', 't',
                                                0, 0, 4, 'h', 'o', 's', 't'};
static const uint8_t sni_empty_list[] = {0, 0};
static const uint8_t sni_localhost[]  = {0, 12, 0, 0, 9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't'};
static const uint8_t sni_list_long[]  = {0, 13, 0, 0, 9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't'};
static const uint8_t sni_list_short[] = {0, 11, 0, 0, 9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't'};
static const uint8_t sni_host_long[]  = {0, 12, 0, 0, 10, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't'};
static const uint8_t sni_one_byte[]   = {0};
static const uint8_t sni_other_type[] = {0, 4, 1, 0, 1, 'x'};
static const uint8_t empty_sni_reply[] = {0, 0};
/* signature_algorithms: <2..2^16-2> of (hash, signature) pairs. */
static const uint8_t sigalgs_odd[]   = {0, 3, 4, 3, 5};
static const uint8_t sigalgs_empty[] = {0, 0};
static const uint8_t sigalgs_long[]  = {0, 4, 4, 3};
static const uint8_t sigalgs_sha1[]  = {0, 4, 2, 1, 2, 3};
static const uint8_t sigalgs_rsa[]   = {0, 4, 8, 4, 4, 1};
static const uint8_t sigalgs_ecdsa[] = {0, 2, 4, 3};
/* Certificate types (RFC 7250 §4.1): X.509 0, OpenPGP 1, RawPublicKey 2;
 * a list<1..2^8-1> in a ClientHello, one type in a ServerHello. */
static const uint8_t types_empty_list[] = {0};
static const uint8_t types_short[]      = {2, 2};
static const uint8_t types_long[]       = {1, 2, 0};
static const uint8_t types_x509[]       = {1, 0};
static const uint8_t types_openpgp[]    = {1, 1};
static const uint8_t type_x509[]        = {0};
static const uint8_t type_openpgp[]     = {1};
static const uint8_t type_rpk[]         = {2};
static const uint8_t type_two[]         = {2, 2};
/* clang-format on */

enum ext_outcome {
    EXT_FATAL,   /* the receiver fails with code (0: a decode error) and alert */
    EXT_STALLED, /* accepted; see stalled() */
};

typedef struct ext_case {
    const char *name;
    enum op op;
    long type;
    const uint8_t *data;
    size_t len;
    int code, alert;
    enum ext_outcome outcome;
    const char *known;
} ext_case;

static void ext_cases(const char *hello, void (*setup)(pair *), int dir, size_t index, int hs_type,
                      const ext_case *cases, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        neg_case *c =
            with_blob(on_message(add("%s_%s", hello, cases[i].name), setup, dir, index, hs_type,
                                 cases[i].op, cases[i].type, 0, cases[i].code, cases[i].alert),
                      cases[i].data, cases[i].len);
        if (cases[i].outcome == EXT_STALLED)
            stalled(c);
        c->known = cases[i].known;
    }
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define DATA(a)  a, sizeof(a)

/* The ClientHello with the cookie, from certificate clients. */
static void client_hello_extensions(void **state)
{
    (void)state;
    start_table();
    /* server_name (RFC 6066 §3), from a client naming "localhost". */
    static const ext_case sni[] = {
        {"server_name_empty_host_name", OP_EXT_SET, EXT_SERVER_NAME, DATA(sni_empty_host),
         PETREL_ERR_ILLEGAL_PARAMETER, 47, EXT_FATAL, NULL},
        {"server_name_two_host_names", OP_EXT_SET, EXT_SERVER_NAME, DATA(sni_two_hosts),
         PETREL_ERR_ILLEGAL_PARAMETER, 47, EXT_FATAL, NULL},
        {"server_name_empty_list", OP_EXT_SET, EXT_SERVER_NAME, DATA(sni_empty_list), 0, 50,
         EXT_FATAL, NULL},
        {"server_name_list_length_too_long", OP_EXT_SET, EXT_SERVER_NAME, DATA(sni_list_long), 0,
         50, EXT_FATAL, NULL},
        {"server_name_list_length_too_short", OP_EXT_SET, EXT_SERVER_NAME, DATA(sni_list_short), 0,
         50, EXT_FATAL, NULL},
        {"server_name_host_name_beyond_list", OP_EXT_SET, EXT_SERVER_NAME, DATA(sni_host_long), 0,
         50, EXT_FATAL, NULL},
        {"server_name_one_byte", OP_EXT_SET, EXT_SERVER_NAME, DATA(sni_one_byte), 0, 50, EXT_FATAL,
         NULL},
        {"server_name_empty", OP_EXT_SET, EXT_SERVER_NAME, NULL, 0, 0, 50, EXT_FATAL, NULL},
        {"server_name_twice", OP_EXT_ADD, EXT_SERVER_NAME, DATA(sni_localhost),
         PETREL_ERR_ILLEGAL_PARAMETER, 47, EXT_FATAL, NULL},
        /* Other name types are skipped (RFC 6066 §3 defines host_name only). */
        {"server_name_other_type_only", OP_EXT_SET, EXT_SERVER_NAME, DATA(sni_other_type), 0, 0,
         EXT_STALLED, NULL},
    };
    ext_cases("client_hello", setup_cert_sni, PAIR_TO_SERVER, 1, HT_CLIENT_HELLO, sni, COUNT(sni));
    /* signature_algorithms (RFC 5246 §7.4.1.4.1): <2..2^16-2> of pairs. A
     * list the server's ECDSA key cannot sign with leaves no suite. */
    static const ext_case sigalgs[] = {
        {"signature_algorithms_odd_length", OP_EXT_SET, EXT_SIGNATURE_ALGORITHMS, DATA(sigalgs_odd),
         0, 50, EXT_FATAL, NULL},
        {"signature_algorithms_empty_list", OP_EXT_SET, EXT_SIGNATURE_ALGORITHMS,
         DATA(sigalgs_empty), 0, 50, EXT_FATAL, NULL},
        {"signature_algorithms_list_length_too_long", OP_EXT_SET, EXT_SIGNATURE_ALGORITHMS,
         DATA(sigalgs_long), 0, 50, EXT_FATAL, NULL},
        {"signature_algorithms_empty", OP_EXT_SET, EXT_SIGNATURE_ALGORITHMS, NULL, 0, 0, 50,
         EXT_FATAL, NULL},
        {"signature_algorithms_sha1_only", OP_EXT_SET, EXT_SIGNATURE_ALGORITHMS, DATA(sigalgs_sha1),
         PETREL_ERR_HANDSHAKE_FAILURE, 40, EXT_FATAL, NULL},
        {"signature_algorithms_rsa_only", OP_EXT_SET, EXT_SIGNATURE_ALGORITHMS, DATA(sigalgs_rsa),
         PETREL_ERR_HANDSHAKE_FAILURE, 40, EXT_FATAL, NULL},
        {"signature_algorithms_twice", OP_EXT_ADD, EXT_SIGNATURE_ALGORITHMS, DATA(sigalgs_ecdsa),
         PETREL_ERR_ILLEGAL_PARAMETER, 47, EXT_FATAL, NULL},
    };
    ext_cases("client_hello", setup_cert, PAIR_TO_SERVER, 1, HT_CLIENT_HELLO, sigalgs,
              COUNT(sigalgs));
    /* client_certificate_type / server_certificate_type (RFC 7250 §4.1):
     * certificate_types<1..2^8-1>. Raw public keys on both sides; the
     * server holds a key and no chain. */
    static const ext_case types[] = {
        {"client_certificate_type_empty_list", OP_EXT_SET, EXT_CLIENT_CERTIFICATE_TYPE,
         DATA(types_empty_list), 0, 50, EXT_FATAL, NULL},
        {"client_certificate_type_list_length_too_long", OP_EXT_SET, EXT_CLIENT_CERTIFICATE_TYPE,
         DATA(types_short), 0, 50, EXT_FATAL, NULL},
        {"client_certificate_type_list_length_too_short", OP_EXT_SET, EXT_CLIENT_CERTIFICATE_TYPE,
         DATA(types_long), 0, 50, EXT_FATAL, NULL},
        {"client_certificate_type_empty", OP_EXT_SET, EXT_CLIENT_CERTIFICATE_TYPE, NULL, 0, 0, 50,
         EXT_FATAL, NULL},
        {"server_certificate_type_empty_list", OP_EXT_SET, EXT_SERVER_CERTIFICATE_TYPE,
         DATA(types_empty_list), 0, 50, EXT_FATAL, NULL},
        {"server_certificate_type_list_length_too_long", OP_EXT_SET, EXT_SERVER_CERTIFICATE_TYPE,
         DATA(types_short), 0, 50, EXT_FATAL, NULL},
        {"server_certificate_type_list_length_too_short", OP_EXT_SET, EXT_SERVER_CERTIFICATE_TYPE,
         DATA(types_long), 0, 50, EXT_FATAL, NULL},
        {"server_certificate_type_empty", OP_EXT_SET, EXT_SERVER_CERTIFICATE_TYPE, NULL, 0, 0, 50,
         EXT_FATAL, NULL},
        {"server_certificate_type_twice", OP_EXT_ADD, EXT_SERVER_CERTIFICATE_TYPE, DATA(types_x509),
         PETREL_ERR_ILLEGAL_PARAMETER, 47, EXT_FATAL, NULL},
        /* RFC 7250 §4.2: no type the server has: unsupported_certificate. */
        {"server_certificate_type_x509_only", OP_EXT_SET, EXT_SERVER_CERTIFICATE_TYPE,
         DATA(types_x509), PETREL_ERR_UNSUPPORTED_CERTIFICATE, 43, EXT_FATAL, NULL},
        {"server_certificate_type_openpgp_only", OP_EXT_SET, EXT_SERVER_CERTIFICATE_TYPE,
         DATA(types_openpgp), PETREL_ERR_UNSUPPORTED_CERTIFICATE, 43, EXT_FATAL, NULL},
        {"client_certificate_type_openpgp_only", OP_EXT_SET, EXT_CLIENT_CERTIFICATE_TYPE,
         DATA(types_openpgp), PETREL_ERR_UNSUPPORTED_CERTIFICATE, 43, EXT_FATAL, NULL},
        /* Without the extension the server's certificate is X.509 (RFC
         * 7250 §4.2), which this server does not have: no suite. */
        {"server_certificate_type_left_out", OP_EXT_DEL, EXT_SERVER_CERTIFICATE_TYPE, NULL, 0,
         PETREL_ERR_HANDSHAKE_FAILURE, 40, EXT_FATAL, NULL},
    };
    ext_cases("client_hello", setup_rpk, PAIR_TO_SERVER, 1, HT_CLIENT_HELLO, types, COUNT(types));
    /* With a PSK suite in common the server picks it instead (PSK suites
     * use no certificate type); the changed hello then only shows in the
     * transcript. */
    static const ext_case with_psk[] = {
        {"server_certificate_type_x509_only_psk_in_common", OP_EXT_SET, EXT_SERVER_CERTIFICATE_TYPE,
         DATA(types_x509), 0, 0, EXT_STALLED, NULL},
        {"server_certificate_type_empty_list_psk_in_common", OP_EXT_SET,
         EXT_SERVER_CERTIFICATE_TYPE, DATA(types_empty_list), 0, 50, EXT_FATAL, NULL},
    };
    ext_cases("client_hello", setup_rpk_and_psk, PAIR_TO_SERVER, 1, HT_CLIENT_HELLO, with_psk,
              COUNT(with_psk));
    run_table(table, ncases);
}

/* ServerHello extensions the client did not offer, or malformed. */
static void server_hello_extensions(void **state)
{
    (void)state;
    start_table();
    /* RFC 5246 §7.4.1.4: only extensions the client offered may come back. */
    static const ext_case unsolicited[] = {
        {"unsolicited_server_certificate_type", OP_EXT_SET, EXT_SERVER_CERTIFICATE_TYPE,
         DATA(type_rpk), PETREL_ERR_UNSUPPORTED_EXTENSION, 110, EXT_FATAL, NULL},
        {"unsolicited_client_certificate_type", OP_EXT_SET, EXT_CLIENT_CERTIFICATE_TYPE,
         DATA(type_x509), PETREL_ERR_UNSUPPORTED_EXTENSION, 110, EXT_FATAL, NULL},
        {"unsolicited_server_name_to_certificate_client", OP_EXT_SET, EXT_SERVER_NAME, NULL, 0,
         PETREL_ERR_UNSUPPORTED_EXTENSION, 110, EXT_FATAL, NULL},
    };
    ext_cases("server_hello", setup_cert, PAIR_TO_CLIENT, 1, HT_SERVER_HELLO, unsolicited,
              COUNT(unsolicited));
    /* A client checking an IP address sends no server_name (RFC 6066 §3). */
    static const ext_case ip[] = {
        {"server_name_to_ip_address_client", OP_EXT_SET, EXT_SERVER_NAME, NULL, 0,
         PETREL_ERR_UNSUPPORTED_EXTENSION, 110, EXT_FATAL, NULL},
    };
    ext_cases("server_hello", setup_cert_ip_name, PAIR_TO_CLIENT, 1, HT_SERVER_HELLO, ip,
              COUNT(ip));
    /* RFC 6066 §3: the server's server_name is empty. */
    static const ext_case sni[] = {
        {"server_name_with_body", OP_EXT_SET, EXT_SERVER_NAME, DATA(empty_sni_reply), 0, 50,
         EXT_FATAL, NULL},
        {"server_name_with_host_name", OP_EXT_SET, EXT_SERVER_NAME, DATA(sni_localhost), 0, 50,
         EXT_FATAL, NULL},
    };
    ext_cases("server_hello", setup_cert_sni, PAIR_TO_CLIENT, 1, HT_SERVER_HELLO, sni, COUNT(sni));
    /* RFC 7250 §4.2: one type, and one the client offered. This client
     * offers raw keys only (it has no CAs and no certificate). */
    static const ext_case rpk[] = {
        {"server_certificate_type_x509_not_offered", OP_EXT_SET, EXT_SERVER_CERTIFICATE_TYPE,
         DATA(type_x509), PETREL_ERR_ILLEGAL_PARAMETER, 47, EXT_FATAL, NULL},
        {"server_certificate_type_openpgp", OP_EXT_SET, EXT_SERVER_CERTIFICATE_TYPE,
         DATA(type_openpgp), PETREL_ERR_ILLEGAL_PARAMETER, 47, EXT_FATAL, NULL},
        {"server_certificate_type_two_bytes", OP_EXT_SET, EXT_SERVER_CERTIFICATE_TYPE,
         DATA(type_two), 0, 50, EXT_FATAL, NULL},
        {"server_certificate_type_empty", OP_EXT_SET, EXT_SERVER_CERTIFICATE_TYPE, NULL, 0, 0, 50,
         EXT_FATAL, NULL},
        {"server_certificate_type_twice", OP_EXT_ADD, EXT_SERVER_CERTIFICATE_TYPE, DATA(type_rpk),
         PETREL_ERR_ILLEGAL_PARAMETER, 47, EXT_FATAL, NULL},
        /* Left out: X.509, which the client did not offer. */
        {"server_certificate_type_left_out", OP_EXT_DEL, EXT_SERVER_CERTIFICATE_TYPE, NULL, 0,
         PETREL_ERR_UNSUPPORTED_CERTIFICATE, 43, EXT_FATAL, NULL},
        {"client_certificate_type_x509_not_offered", OP_EXT_SET, EXT_CLIENT_CERTIFICATE_TYPE,
         DATA(type_x509), PETREL_ERR_ILLEGAL_PARAMETER, 47, EXT_FATAL, NULL},
        {"client_certificate_type_two_bytes", OP_EXT_SET, EXT_CLIENT_CERTIFICATE_TYPE,
         DATA(type_two), 0, 50, EXT_FATAL, NULL},
    };
    ext_cases("server_hello", setup_rpk, PAIR_TO_CLIENT, 1, HT_SERVER_HELLO, rpk, COUNT(rpk));
    run_table(table, ncases);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(truncated_messages),
        cmocka_unit_test(record_header_bytes),
        cmocka_unit_test(server_hello_fields),
        cmocka_unit_test(unexpected_messages),
        cmocka_unit_test(record_layer),
        cmocka_unit_test(cut_datagrams),
        cmocka_unit_test(aead_failures),
        cmocka_unit_test(misplaced_records),
        cmocka_unit_test(bad_fragments),
        cmocka_unit_test(alert_floods),
        cmocka_unit_test(replayed_records),
        cmocka_unit_test(certificate_layout),
        cmocka_unit_test(server_certificate_messages),
        cmocka_unit_test(server_key_exchange_messages),
        cmocka_unit_test(certificate_request_messages),
        cmocka_unit_test(client_certificate_messages),
        cmocka_unit_test(raw_public_key_messages),
        cmocka_unit_test(client_hello_extensions),
        cmocka_unit_test(server_hello_extensions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
