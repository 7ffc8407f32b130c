/*
 * libFuzzer target for dtls/record.h.
 *
 * The input is one datagram. It is copied into a mutable buffer of exactly
 * its size (the connection's read buffer in real use) and read record by
 * record with dtls_record_read until the first error. Checks:
 *
 *   - reading: a failed read leaves the cursor where it was and fails only
 *     with _TRUNCATED or _LENGTH, each exactly when it should; a record's
 *     header fields are the bytes on the wire, its fragment lies inside
 *     the buffer right after the header, the cursor moves by header +
 *     fragment, and the records read add up to the bytes consumed;
 *   - opening every record with the NULL cipher (the fragment as it is),
 *     TLS_PSK_WITH_AES_128_CCM_8 and TLS_PSK_WITH_CHACHA20_POLY1305_SHA256
 *     under fixed keys (fuzz_common.h), each on its own copy of the
 *     fragment: _TRUNCATED exactly when the fragment cannot hold the
 *     explicit nonce and the tag, otherwise success or _AEAD_AUTH with
 *     the bytes wiped; a plaintext lies inside the fragment and has the
 *     right length; a record that opens is sealed back to the same bytes
 *     (for CCM_8 when its explicit nonce is the sequence number, which is
 *     what petrel sends);
 *   - writing: the NULL cipher writes a record back byte for byte; each
 *     AEAD seals the fragment taken as plaintext into a record that reads
 *     back with the same header and opens to the same plaintext; a buffer
 *     one byte short fails with _BUFFER_TOO_SMALL and stays unchanged;
 *     plaintext over 2^14 bytes is refused with _ARG.
 *
 * The seeds (tests/fuzz/corpus/record/) are datagrams of real handshakes
 * and datagrams whose records make_corpus.c sealed under the fixed keys.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dtls/record.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FRAGMENT (DTLS_MAX_PLAINTEXT + 2048)

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint64_t get_u48(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 6; i++)
        v = v << 8 | p[i];
    return v;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i])
            return false;
    }
    return true;
}

/* A heap copy of exactly n bytes (at least one byte allocated so that a
 * pointer exists), so that AddressSanitizer sees any access past it. */
static uint8_t *copy_exact(const uint8_t *src, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    FUZZ_CHECK(p != NULL);
    if (n)
        memcpy(p, src, n);
    return p;
}

static crypto_aead_key *make_key(const hs_suite *suite)
{
    const crypto_aead_alg *alg = crypto_default_provider()->aead(suite->aead);
    FUZZ_CHECK(alg != NULL && alg->key_len <= sizeof(fuzz_record_key));
    crypto_aead_key *key = NULL;
    FUZZ_CHECK(alg->key_new(alg, fuzz_record_key, &key) == 0 && key != NULL);
    return key;
}

/* Opens rec (whose bytes are `wire`, header included) with c on a copy of
 * the fragment and checks the outcome. */
static void check_open(const dtls_cipher *c, const dtls_record *rec, const uint8_t *wire)
{
    uint8_t *frag = copy_exact(rec->fragment, rec->length);
    dtls_record copy = *rec;
    copy.fragment = frag;
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    int rc = dtls_record_open(c, &copy, &plain, &plain_len);
    FUZZ_CHECK(copy.type == rec->type && copy.version == rec->version && copy.epoch == rec->epoch &&
               copy.seq == rec->seq && copy.fragment == frag && copy.length == rec->length);

    if (!c || !c->suite) {
        FUZZ_CHECK(rc == 0 && plain == frag && plain_len == rec->length);
        FUZZ_CHECK(rec->length == 0 || memcmp(frag, rec->fragment, rec->length) == 0);
        free(frag);
        return;
    }

    size_t expl = c->suite->explicit_nonce_len, tag = c->suite->tag_len;
    if (rec->length < expl + tag) {
        FUZZ_CHECK(rc == PETREL_ERR_TRUNCATED);
        free(frag);
        return;
    }
    if (rc < 0) {
        FUZZ_CHECK(rc == PETREL_ERR_AEAD_AUTH);
        /* No unauthenticated plaintext escapes (crypto/provider.h). */
        FUZZ_CHECK(all_zero(frag + expl, rec->length - expl));
        free(frag);
        return;
    }
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(plain == frag + expl && plain_len == rec->length - expl - tag);

    /* Seal it back. CCM_8 writes the sequence number as explicit nonce;
     * a record that carried another one seals to other bytes. */
    uint64_t seq64 = (uint64_t)rec->epoch << 48 | rec->seq;
    uint8_t nonce_bytes[8];
    for (int i = 0; i < 8; i++)
        nonce_bytes[i] = (uint8_t)(seq64 >> (56 - 8 * i));
    bool canonical = expl == 0 || (expl == 8 && memcmp(rec->fragment, nonce_bytes, 8) == 0);
    size_t total = DTLS_RECORD_HEADER_LEN + rec->length;
    uint8_t *out = malloc(total);
    FUZZ_CHECK(out != NULL);
    cursor_writer w = cursor_writer_init(out, total);
    FUZZ_CHECK(dtls_record_write(c, rec->type, rec->version, rec->epoch, rec->seq, plain, plain_len,
                                 &w) == 0);
    FUZZ_CHECK(w.len == total);
    if (canonical)
        FUZZ_CHECK(memcmp(out, wire, total) == 0);
    else
        FUZZ_CHECK(memcmp(out, wire, DTLS_RECORD_HEADER_LEN) == 0);
    free(out);
    free(frag);
}

/* Seals rec's fragment as plaintext with c and reads and opens it back. */
static void check_seal_round_trip(const dtls_cipher *c, const dtls_record *rec)
{
    size_t len = rec->length;
    size_t overhead = dtls_record_overhead(c);
    size_t expl = c && c->suite ? c->suite->explicit_nonce_len : 0;
    size_t tag = c && c->suite ? c->suite->tag_len : 0;
    FUZZ_CHECK(overhead == DTLS_RECORD_HEADER_LEN + expl + tag);

    if (len > DTLS_MAX_PLAINTEXT) {
        uint8_t small[1];
        cursor_writer w = cursor_writer_init(small, sizeof(small));
        FUZZ_CHECK(dtls_record_write(c, rec->type, rec->version, rec->epoch, rec->seq,
                                     rec->fragment, len, &w) == PETREL_ERR_ARG);
        FUZZ_CHECK(w.len == 0);
        return;
    }

    /* One byte short: refused, nothing written. */
    uint8_t *out = malloc(overhead + len);
    FUZZ_CHECK(out != NULL);
    cursor_writer w = cursor_writer_init(out, overhead + len - 1);
    FUZZ_CHECK(dtls_record_write(c, rec->type, rec->version, rec->epoch, rec->seq, rec->fragment,
                                 len, &w) == PETREL_ERR_BUFFER_TOO_SMALL);
    FUZZ_CHECK(cursor_writer_valid(&w) && w.len == 0);

    w = cursor_writer_init(out, overhead + len);
    FUZZ_CHECK(dtls_record_write(c, rec->type, rec->version, rec->epoch, rec->seq, rec->fragment,
                                 len, &w) == 0);
    FUZZ_CHECK(cursor_writer_valid(&w) && w.len == overhead + len);

    cursor_reader r = cursor_reader_init(out, w.len);
    dtls_record back;
    FUZZ_CHECK(dtls_record_read(&r, out, &back) == 0);
    FUZZ_CHECK(cursor_reader_remaining(&r) == 0);
    FUZZ_CHECK(back.type == rec->type && back.version == rec->version && back.epoch == rec->epoch &&
               back.seq == rec->seq && back.length == len + expl + tag &&
               back.fragment == out + DTLS_RECORD_HEADER_LEN);
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    FUZZ_CHECK(dtls_record_open(c, &back, &plain, &plain_len) == 0);
    FUZZ_CHECK(plain == back.fragment + expl && plain_len == len);
    FUZZ_CHECK(len == 0 || memcmp(plain, rec->fragment, len) == 0);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = copy_exact(data, size);

    const hs_suite *ccm8 = hs_suite_find(FUZZ_SUITE_CCM_8);
    const hs_suite *chacha = hs_suite_find(FUZZ_SUITE_CHACHA);
    FUZZ_CHECK(ccm8 && chacha);
    dtls_cipher ciphers[4];
    memset(ciphers, 0, sizeof(ciphers));
    ciphers[0].suite = ccm8;
    ciphers[0].key = make_key(ccm8);
    memcpy(ciphers[0].iv, fuzz_record_iv, sizeof(ciphers[0].iv));
    ciphers[1].suite = chacha;
    ciphers[1].key = make_key(chacha);
    memcpy(ciphers[1].iv, fuzz_record_iv, sizeof(ciphers[1].iv));
    /* ciphers[2]: suite NULL, the NULL cipher of epoch 0; [3] passed as
     * a NULL pointer below. */

    cursor_reader r = cursor_reader_init(buf, size);
    size_t consumed = 0;
    for (;;) {
        FUZZ_CHECK(cursor_reader_valid(&r) && r.data == buf && r.len == size);
        FUZZ_CHECK(r.pos == consumed);
        if (cursor_reader_remaining(&r) == 0)
            break;

        const cursor_reader before = r;
        const uint8_t *wire = buf + before.pos;
        size_t left = size - before.pos;
        dtls_record rec;
        memset(&rec, 0xA5, sizeof(rec));
        int rc = dtls_record_read(&r, buf, &rec);
        if (rc < 0) {
            FUZZ_CHECK(r.data == before.data && r.len == before.len && r.pos == before.pos);
            if (left < DTLS_RECORD_HEADER_LEN)
                FUZZ_CHECK(rc == PETREL_ERR_TRUNCATED);
            else if (get_u16(wire + 11) > MAX_FRAGMENT)
                FUZZ_CHECK(rc == PETREL_ERR_LENGTH);
            else
                FUZZ_CHECK(rc == PETREL_ERR_TRUNCATED &&
                           get_u16(wire + 11) > left - DTLS_RECORD_HEADER_LEN);
            break;
        }
        FUZZ_CHECK(rc == 0);

        /* The header is what the wire says; the fragment follows it. */
        FUZZ_CHECK(left >= DTLS_RECORD_HEADER_LEN);
        FUZZ_CHECK(rec.type == wire[0] && rec.version == get_u16(wire + 1) &&
                   rec.epoch == get_u16(wire + 3) && rec.seq == get_u48(wire + 5) &&
                   rec.length == get_u16(wire + 11));
        FUZZ_CHECK(rec.seq <= DTLS_SEQ_MAX && rec.length <= MAX_FRAGMENT);
        FUZZ_CHECK(rec.length <= left - DTLS_RECORD_HEADER_LEN);
        FUZZ_CHECK(rec.fragment == buf + before.pos + DTLS_RECORD_HEADER_LEN);
        FUZZ_CHECK(rec.fragment + rec.length <= buf + size);
        FUZZ_CHECK(r.pos == before.pos + DTLS_RECORD_HEADER_LEN + rec.length);
        consumed += DTLS_RECORD_HEADER_LEN + rec.length;

        for (size_t i = 0; i < 3; i++)
            check_open(&ciphers[i], &rec, wire);
        check_open(NULL, &rec, wire);
        /* The buffer itself is untouched: every open worked on a copy. */
        FUZZ_CHECK(
            memcmp(buf + before.pos, data + before.pos, DTLS_RECORD_HEADER_LEN + rec.length) == 0);

        /* The NULL cipher writes the record back byte for byte. */
        if (rec.length <= DTLS_MAX_PLAINTEXT) {
            size_t total = DTLS_RECORD_HEADER_LEN + rec.length;
            uint8_t *out = malloc(total);
            FUZZ_CHECK(out != NULL);
            cursor_writer w = cursor_writer_init(out, total);
            FUZZ_CHECK(dtls_record_write(NULL, rec.type, rec.version, rec.epoch, rec.seq,
                                         rec.fragment, rec.length, &w) == 0);
            FUZZ_CHECK(w.len == total && memcmp(out, wire, total) == 0);
            free(out);
        }
        for (size_t i = 0; i < 3; i++)
            check_seal_round_trip(&ciphers[i], &rec);
    }

    crypto_aead_key_free(ciphers[0].key);
    crypto_aead_key_free(ciphers[1].key);
    free(buf);
    return 0;
}
