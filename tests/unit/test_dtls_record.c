/*
 * Tests for DTLS 1.2 record framing and AEAD protection (dtls/record.h;
 * RFC 6347 §4.1, RFC 5246 §6.2.3.3, RFC 5288 §3, RFC 6655 §3, RFC 7905 §2).
 *
 * dtls_record_read: header fields, every truncation, length limits, several
 * records in one datagram. dtls_record_write / dtls_record_open: a round
 * trip for every suite in the registry, the record layout (explicit nonce,
 * length), a bit flipped anywhere the receiver authenticates, fragments too
 * short to hold nonce and tag, the epoch-0 NULL cipher, a writer too small,
 * and the in-place write form. The sealed bytes of every suite are also
 * recomputed here with OpenSSL's EVP API directly, from nonce and AAD
 * built by the test from the RFCs, including one fully written-out
 * known-answer case.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dtls/record.h"

#define MAX_FRAGMENT (DTLS_MAX_PLAINTEXT + 2048)
#define MAX_RECORD   (DTLS_RECORD_HEADER_LEN + MAX_FRAGMENT)
#define VERSION      0xfefd /* DTLS 1.2 */

/* Every suite in the registry. */
static const uint16_t suite_ids[] = {0xC0A8, 0xC0A4, 0x00A8, 0x00A9, 0xCCAB, 0xCCAC};
#define SUITE_COUNT (sizeof(suite_ids) / sizeof(suite_ids[0]))

/* Plaintext lengths every round trip covers. */
static const size_t plain_lens[] = {0, 1, 5, 16, 17, 255, 1000, DTLS_MAX_PLAINTEXT};
#define PLAIN_LEN_COUNT (sizeof(plain_lens) / sizeof(plain_lens[0]))

/* ---- helpers ---- */

static const crypto_provider *prov(void)
{
    const crypto_provider *p = crypto_default_provider();
    assert_non_null(p);
    return p;
}

static void fill(uint8_t *buf, size_t len, uint8_t start)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(start + i);
}

static const hs_suite *suite(uint16_t id)
{
    const hs_suite *s = hs_suite_find(id);
    if (!s)
        fail_msg("suite 0x%04x missing from the registry", id);
    return s;
}

/* A cipher for s with key bytes key_start.. and IV bytes iv_start... */
static dtls_cipher make_cipher(const hs_suite *s, uint8_t key_start, uint8_t iv_start)
{
    dtls_cipher c;
    uint8_t key[CRYPTO_AEAD_MAX_KEY_LEN];
    memset(&c, 0, sizeof(c));
    c.suite = s;
    fill(key, s->key_len, key_start);
    /* The registry never has more than 12; the bound also tells GCC so. */
    assert_true(s->fixed_iv_len <= sizeof(c.iv));
    fill(c.iv, s->fixed_iv_len < sizeof(c.iv) ? s->fixed_iv_len : sizeof(c.iv), iv_start);
    const crypto_aead_alg *alg = prov()->aead(s->aead);
    assert_non_null(alg);
    assert_int_equal(alg->key_len, s->key_len);
    assert_int_equal(alg->tag_len, s->tag_len);
    assert_int_equal(alg->key_new(alg, key, &c.key), 0);
    return c;
}

static void free_cipher(dtls_cipher *c)
{
    crypto_aead_key_free(c->key);
    c->key = NULL;
}

static size_t suite_explicit(const hs_suite *s)
{
    return s ? s->explicit_nonce_len : 0;
}

static size_t suite_tag(const hs_suite *s)
{
    return s ? s->tag_len : 0;
}

/* A heap buffer, so that the sanitizer sees reads past the record. */
static uint8_t *alloc_buf(size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    assert_non_null(p);
    return p;
}

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_u48(uint8_t *p, uint64_t v)
{
    for (int i = 5; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* Writes a header (and no fragment) at p. */
static void put_header(uint8_t *p, uint8_t type, uint16_t version, uint16_t epoch, uint64_t seq,
                       uint16_t length)
{
    p[0] = type;
    put_u16(p + 1, version);
    put_u16(p + 3, epoch);
    put_u48(p + 5, seq);
    put_u16(p + 11, length);
}

/* Writes one record with c into a fresh buffer; returns its length. */
static size_t seal_record(const dtls_cipher *c, uint8_t type, uint16_t epoch, uint64_t seq,
                          const uint8_t *plain, size_t len, uint8_t *out, size_t cap)
{
    cursor_writer w = cursor_writer_init(out, cap);
    assert_int_equal(dtls_record_write(c, type, VERSION, epoch, seq, plain, len, &w), 0);
    return w.len;
}

/* Parses the single record in dgram[0, len). */
static void read_one(uint8_t *dgram, size_t len, dtls_record *rec)
{
    cursor_reader r = cursor_reader_init(dgram, len);
    assert_int_equal(dtls_record_read(&r, dgram, rec), 0);
    assert_int_equal(r.pos, len);
}

/* ---- an independent AEAD: OpenSSL EVP directly ---- */

static const char *evp_name(crypto_aead_id id)
{
    switch (id) {
    case CRYPTO_AEAD_AES_128_CCM:
    case CRYPTO_AEAD_AES_128_CCM_8:
        return "AES-128-CCM";
    case CRYPTO_AEAD_AES_128_GCM:
        return "AES-128-GCM";
    case CRYPTO_AEAD_AES_256_GCM:
        return "AES-256-GCM";
    case CRYPTO_AEAD_CHACHA20_POLY1305:
        return "ChaCha20-Poly1305";
    default:
        fail_msg("unknown AEAD %d", (int)id);
        return NULL;
    }
}

/* Encrypts pt into ct and writes tag_len bytes of tag. */
static void evp_seal(crypto_aead_id id, size_t tag_len, const uint8_t *key, const uint8_t nonce[12],
                     const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t len, uint8_t *ct,
                     uint8_t *tag)
{
    bool ccm = id == CRYPTO_AEAD_AES_128_CCM || id == CRYPTO_AEAD_AES_128_CCM_8;
    EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, evp_name(id), NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int outl = 0;
    assert_non_null(cipher);
    assert_non_null(ctx);
    assert_int_equal(EVP_EncryptInit_ex(ctx, cipher, NULL, NULL, NULL), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL), 1);
    if (ccm)
        assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, (int)tag_len, NULL), 1);
    assert_int_equal(EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce), 1);
    if (ccm)
        assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &outl, NULL, (int)len), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &outl, aad, (int)aad_len), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, ct, &outl, pt, (int)len), 1);
    assert_int_equal((size_t)outl, len);
    uint8_t final_block[32];
    assert_int_equal(EVP_EncryptFinal_ex(ctx, final_block, &outl), 1);
    assert_int_equal(outl, 0);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, (int)tag_len, tag), 1);
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(cipher);
}

/* ---- dtls_record_read ---- */

static void test_record_read_header_fields(void **state)
{
    (void)state;
    uint8_t dgram[] = {0x17, 0xfe, 0xfd, 0x12, 0x34, 0x56, 0x78, 0x9a,
                       0xbc, 0xde, 0xf0, 0x00, 0x03, 0xaa, 0xbb, 0xcc};
    cursor_reader r = cursor_reader_init(dgram, sizeof(dgram));
    dtls_record rec;
    assert_int_equal(dtls_record_read(&r, dgram, &rec), 0);
    assert_int_equal(rec.type, 0x17);
    assert_int_equal(rec.version, 0xfefd);
    assert_int_equal(rec.epoch, 0x1234);
    assert_true(rec.seq == UINT64_C(0x56789abcdef0));
    assert_int_equal(rec.length, 3);
    assert_ptr_equal(rec.fragment, dgram + DTLS_RECORD_HEADER_LEN);
    assert_int_equal(r.pos, sizeof(dgram));

    /* All ones: nothing sign-extends, the seq is 48 bits wide. */
    uint8_t ones[DTLS_RECORD_HEADER_LEN + 1];
    memset(ones, 0xff, sizeof(ones));
    put_u16(ones + 11, 1);
    r = cursor_reader_init(ones, sizeof(ones));
    assert_int_equal(dtls_record_read(&r, ones, &rec), 0);
    assert_int_equal(rec.type, 0xff);
    assert_int_equal(rec.version, 0xffff);
    assert_int_equal(rec.epoch, 0xffff);
    assert_true(rec.seq == DTLS_SEQ_MAX);
    assert_int_equal(rec.length, 1);

    /* An empty fragment. */
    uint8_t empty[DTLS_RECORD_HEADER_LEN];
    put_header(empty, DTLS_CT_ALERT, 0xfeff, 0, 7, 0);
    r = cursor_reader_init(empty, sizeof(empty));
    assert_int_equal(dtls_record_read(&r, empty, &rec), 0);
    assert_int_equal(rec.type, DTLS_CT_ALERT);
    assert_int_equal(rec.version, 0xfeff);
    assert_int_equal(rec.length, 0);
    assert_int_equal(r.pos, sizeof(empty));
}

/* The fragment pointer is into base (the writable buffer), not r->data. */
static void test_record_read_fragment_in_base(void **state)
{
    (void)state;
    uint8_t dgram[DTLS_RECORD_HEADER_LEN + 4];
    put_header(dgram, DTLS_CT_HANDSHAKE, VERSION, 0, 1, 4);
    fill(dgram + DTLS_RECORD_HEADER_LEN, 4, 1);
    cursor_reader r = cursor_reader_init(dgram, sizeof(dgram));
    dtls_record rec;
    assert_int_equal(dtls_record_read(&r, dgram, &rec), 0);
    rec.fragment[0] = 0x99; /* writable */
    assert_int_equal(dgram[DTLS_RECORD_HEADER_LEN], 0x99);
}

static void test_record_read_truncated_header(void **state)
{
    (void)state;
    uint8_t full[DTLS_RECORD_HEADER_LEN + 2];
    put_header(full, DTLS_CT_HANDSHAKE, VERSION, 1, 2, 2);
    for (size_t len = 0; len < DTLS_RECORD_HEADER_LEN; len++) {
        uint8_t *dgram = alloc_buf(len);
        memcpy(dgram, full, len);
        cursor_reader r = cursor_reader_init(dgram, len);
        cursor_reader before = r;
        dtls_record rec;
        memset(&rec, 0x5a, sizeof(rec));
        dtls_record rec_before;
        memcpy(&rec_before, &rec, sizeof(rec)); /* padding included */
        assert_int_equal(dtls_record_read(&r, dgram, &rec), PETREL_ERR_TRUNCATED);
        assert_memory_equal(&r, &before, sizeof(r));
        assert_memory_equal(&rec, &rec_before, sizeof(rec));
        free(dgram);
    }
    /* The same after a first record: the reader stays after it. */
    uint8_t two[DTLS_RECORD_HEADER_LEN + 2 + DTLS_RECORD_HEADER_LEN];
    memcpy(two, full, DTLS_RECORD_HEADER_LEN + 2);
    memcpy(two + DTLS_RECORD_HEADER_LEN + 2, full, DTLS_RECORD_HEADER_LEN);
    for (size_t len = 0; len < DTLS_RECORD_HEADER_LEN; len++) {
        cursor_reader r = cursor_reader_init(two, DTLS_RECORD_HEADER_LEN + 2 + len);
        dtls_record rec;
        assert_int_equal(dtls_record_read(&r, two, &rec), 0);
        cursor_reader before = r;
        assert_int_equal(dtls_record_read(&r, two, &rec), PETREL_ERR_TRUNCATED);
        assert_memory_equal(&r, &before, sizeof(r));
    }
}

static void test_record_read_truncated_fragment(void **state)
{
    (void)state;
    static const uint16_t lengths[] = {1, 2, 100, 16384, MAX_FRAGMENT};
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        /* Datagrams that end before the fragment does: nothing of it, half
         * of it, all but its last byte. */
        const size_t haves[] = {0, lengths[i] / 2, lengths[i] - 1u};
        for (size_t j = 0; j < sizeof(haves) / sizeof(haves[0]); j++) {
            size_t len = DTLS_RECORD_HEADER_LEN + haves[j];
            uint8_t *dgram = alloc_buf(len);
            memset(dgram, 0x42, len);
            put_header(dgram, DTLS_CT_APPLICATION_DATA, VERSION, 1, 9, lengths[i]);
            cursor_reader r = cursor_reader_init(dgram, len);
            cursor_reader before = r;
            dtls_record rec;
            assert_int_equal(dtls_record_read(&r, dgram, &rec), PETREL_ERR_TRUNCATED);
            assert_memory_equal(&r, &before, sizeof(r));
            free(dgram);
        }
    }
}

static void test_record_read_length_limit(void **state)
{
    (void)state;
    /* 2^14 + 2048 is the largest fragment (RFC 6347 §4.1 / RFC 5246
     * §6.2.3): accepted when present, one more is PETREL_ERR_LENGTH even
     * when the datagram holds every byte. */
    size_t len = DTLS_RECORD_HEADER_LEN + MAX_FRAGMENT + 1;
    uint8_t *dgram = alloc_buf(len);
    memset(dgram, 0, len);
    put_header(dgram, DTLS_CT_APPLICATION_DATA, VERSION, 1, 1, MAX_FRAGMENT);
    cursor_reader r = cursor_reader_init(dgram, DTLS_RECORD_HEADER_LEN + MAX_FRAGMENT);
    dtls_record rec;
    assert_int_equal(dtls_record_read(&r, dgram, &rec), 0);
    assert_int_equal(rec.length, MAX_FRAGMENT);

    static const uint16_t too_long[] = {MAX_FRAGMENT + 1, 0x8000, 0xffff};
    for (size_t i = 0; i < sizeof(too_long) / sizeof(too_long[0]); i++) {
        put_header(dgram, DTLS_CT_APPLICATION_DATA, VERSION, 1, 1, too_long[i]);
        r = cursor_reader_init(dgram, len);
        cursor_reader before = r;
        assert_int_equal(dtls_record_read(&r, dgram, &rec), PETREL_ERR_LENGTH);
        assert_memory_equal(&r, &before, sizeof(r));
        /* Also with only the header present. */
        r = cursor_reader_init(dgram, DTLS_RECORD_HEADER_LEN);
        assert_int_equal(dtls_record_read(&r, dgram, &rec), PETREL_ERR_LENGTH);
        assert_int_equal(r.pos, 0);
    }
    free(dgram);
}

static void test_record_read_two_records(void **state)
{
    (void)state;
    uint8_t dgram[2 * DTLS_RECORD_HEADER_LEN + 3 + 2];
    put_header(dgram, DTLS_CT_HANDSHAKE, VERSION, 0, 4, 3);
    fill(dgram + DTLS_RECORD_HEADER_LEN, 3, 0xa0);
    put_header(dgram + DTLS_RECORD_HEADER_LEN + 3, DTLS_CT_CHANGE_CIPHER_SPEC, VERSION, 0, 5, 2);
    fill(dgram + 2 * DTLS_RECORD_HEADER_LEN + 3, 2, 0xb0);

    cursor_reader r = cursor_reader_init(dgram, sizeof(dgram));
    dtls_record a, b;
    assert_int_equal(dtls_record_read(&r, dgram, &a), 0);
    assert_int_equal(r.pos, DTLS_RECORD_HEADER_LEN + 3);
    assert_int_equal(dtls_record_read(&r, dgram, &b), 0);
    assert_int_equal(r.pos, sizeof(dgram));

    assert_int_equal(a.type, DTLS_CT_HANDSHAKE);
    assert_true(a.seq == 4);
    assert_int_equal(a.length, 3);
    assert_ptr_equal(a.fragment, dgram + DTLS_RECORD_HEADER_LEN);
    assert_int_equal(a.fragment[0], 0xa0);
    assert_int_equal(b.type, DTLS_CT_CHANGE_CIPHER_SPEC);
    assert_true(b.seq == 5);
    assert_int_equal(b.length, 2);
    assert_ptr_equal(b.fragment, dgram + 2 * DTLS_RECORD_HEADER_LEN + 3);
    assert_int_equal(b.fragment[1], 0xb1);

    /* Nothing left: the next read is truncated. */
    dtls_record c;
    assert_int_equal(dtls_record_read(&r, dgram, &c), PETREL_ERR_TRUNCATED);
    assert_int_equal(r.pos, sizeof(dgram));
}

/* ---- write / open ---- */

/* The layout of one record written with c, checked against the RFCs. */
static void check_layout(const dtls_cipher *c, const uint8_t *rec, size_t rec_len, uint8_t type,
                         uint16_t epoch, uint64_t seq, size_t plain_len)
{
    size_t expl = suite_explicit(c->suite), tag = suite_tag(c->suite);
    assert_int_equal(rec_len, DTLS_RECORD_HEADER_LEN + expl + plain_len + tag);
    uint8_t header[DTLS_RECORD_HEADER_LEN];
    put_header(header, type, VERSION, epoch, seq, (uint16_t)(expl + plain_len + tag));
    assert_memory_equal(rec, header, DTLS_RECORD_HEADER_LEN);
    if (expl) {
        /* RFC 5288 §3 / RFC 6655 §3: the explicit nonce is the 64-bit
         * epoch + sequence number. */
        assert_int_equal(expl, 8);
        uint8_t seq64[8];
        put_u16(seq64, epoch);
        put_u48(seq64 + 2, seq);
        assert_memory_equal(rec + DTLS_RECORD_HEADER_LEN, seq64, 8);
    }
}

static void test_record_suites_registered(void **state)
{
    (void)state;
    for (size_t i = 0; i < SUITE_COUNT; i++) {
        const hs_suite *s = suite(suite_ids[i]);
        assert_int_equal(s->id, suite_ids[i]);
        bool chacha = s->aead == CRYPTO_AEAD_CHACHA20_POLY1305;
        assert_int_equal(s->explicit_nonce_len, chacha ? 0 : 8);
        assert_int_equal(s->fixed_iv_len, chacha ? 12 : 4);
        assert_int_equal(s->tag_len, s->aead == CRYPTO_AEAD_AES_128_CCM_8 ? 8 : 16);
        dtls_cipher c = {.suite = s};
        assert_int_equal(dtls_record_overhead(&c),
                         DTLS_RECORD_HEADER_LEN + s->explicit_nonce_len + s->tag_len);
    }
    dtls_cipher null_cipher = {.suite = NULL};
    assert_int_equal(dtls_record_overhead(&null_cipher), DTLS_RECORD_HEADER_LEN);
    assert_int_equal(dtls_record_overhead(NULL), DTLS_RECORD_HEADER_LEN);
}

static void test_record_round_trip_every_suite(void **state)
{
    (void)state;
    uint8_t *plain = alloc_buf(DTLS_MAX_PLAINTEXT);
    fill(plain, DTLS_MAX_PLAINTEXT, 0x30);
    for (size_t i = 0; i < SUITE_COUNT; i++) {
        const hs_suite *s = suite(suite_ids[i]);
        dtls_cipher c = make_cipher(s, 0x00, 0x80);
        for (size_t j = 0; j < PLAIN_LEN_COUNT; j++) {
            size_t len = plain_lens[j];
            uint16_t epoch = (uint16_t)(1 + j);
            uint64_t seq = UINT64_C(0x0000a1b2c3d4) + j;
            size_t cap = DTLS_RECORD_HEADER_LEN + s->explicit_nonce_len + len + s->tag_len;
            uint8_t *rec = alloc_buf(cap);
            size_t rec_len =
                seal_record(&c, DTLS_CT_APPLICATION_DATA, epoch, seq, plain, len, rec, cap);
            check_layout(&c, rec, rec_len, DTLS_CT_APPLICATION_DATA, epoch, seq, len);
            if (len >= 5)
                assert_memory_not_equal(rec + DTLS_RECORD_HEADER_LEN + s->explicit_nonce_len, plain,
                                        len);

            dtls_record parsed;
            read_one(rec, rec_len, &parsed);
            uint8_t *out = NULL;
            size_t out_len = 0;
            assert_int_equal(dtls_record_open(&c, &parsed, &out, &out_len), 0);
            assert_int_equal(out_len, len);
            assert_ptr_equal(out, rec + DTLS_RECORD_HEADER_LEN + s->explicit_nonce_len);
            if (len)
                assert_memory_equal(out, plain, len);
            free(rec);
        }
        free_cipher(&c);
    }
    free(plain);
}

/* Two records with the same cipher but another seq or epoch differ (the
 * nonce is never reused). */
static void test_record_nonce_changes(void **state)
{
    (void)state;
    uint8_t plain[32];
    fill(plain, sizeof(plain), 0);
    for (size_t i = 0; i < SUITE_COUNT; i++) {
        const hs_suite *s = suite(suite_ids[i]);
        dtls_cipher c = make_cipher(s, 0x20, 0x40);
        size_t body = s->explicit_nonce_len;
        uint8_t a[128], b[128], d[128];
        size_t la = seal_record(&c, DTLS_CT_APPLICATION_DATA, 1, 1, plain, 32, a, sizeof(a));
        size_t lb = seal_record(&c, DTLS_CT_APPLICATION_DATA, 1, 2, plain, 32, b, sizeof(b));
        size_t ld = seal_record(&c, DTLS_CT_APPLICATION_DATA, 2, 1, plain, 32, d, sizeof(d));
        assert_int_equal(la, lb);
        assert_int_equal(la, ld);
        assert_memory_not_equal(a + DTLS_RECORD_HEADER_LEN + body,
                                b + DTLS_RECORD_HEADER_LEN + body, 32);
        assert_memory_not_equal(a + DTLS_RECORD_HEADER_LEN + body,
                                d + DTLS_RECORD_HEADER_LEN + body, 32);
        free_cipher(&c);
    }
}

/* Every bit the receiver authenticates, flipped one at a time, makes open
 * fail with PETREL_ERR_AEAD_AUTH and leaves no plaintext behind. */
static void test_record_open_rejects_flipped_bits(void **state)
{
    (void)state;
    uint8_t plain[24];
    fill(plain, sizeof(plain), 0x61);
    for (size_t i = 0; i < SUITE_COUNT; i++) {
        const hs_suite *s = suite(suite_ids[i]);
        dtls_cipher c = make_cipher(s, 0x07, 0x70);
        uint8_t rec[128], copy[128];
        size_t rec_len = seal_record(&c, DTLS_CT_APPLICATION_DATA, 3, UINT64_C(0x010203040506),
                                     plain, sizeof(plain), rec, sizeof(rec));
        /* Bytes 0..10: type, version, epoch, seq (11 and 12 are the
         * length, which decides the framing instead); then the explicit
         * nonce, the ciphertext, the tag. */
        for (size_t byte = 0; byte < rec_len; byte++) {
            if (byte == 11 || byte == 12)
                continue;
            for (unsigned bit = 0; bit < 8; bit++) {
                memcpy(copy, rec, rec_len);
                copy[byte] ^= (uint8_t)(1u << bit);
                dtls_record parsed;
                read_one(copy, rec_len, &parsed);
                uint8_t *out = NULL;
                size_t out_len = 0;
                int rc = dtls_record_open(&c, &parsed, &out, &out_len);
                if (rc != PETREL_ERR_AEAD_AUTH)
                    fail_msg("suite 0x%04x: bit %u of byte %zu flipped: open gave %d", s->id, bit,
                             byte, rc);
                /* The provider wipes what it could not authenticate. */
                const uint8_t *body = copy + DTLS_RECORD_HEADER_LEN + s->explicit_nonce_len;
                for (size_t k = 0; k < sizeof(plain) + s->tag_len; k++)
                    assert_int_equal(body[k], 0);
            }
        }
        /* A length one short (the last tag byte left outside the record). */
        memcpy(copy, rec, rec_len);
        put_u16(copy + 11, (uint16_t)(rec_len - DTLS_RECORD_HEADER_LEN - 1));
        cursor_reader r = cursor_reader_init(copy, rec_len);
        dtls_record parsed;
        uint8_t *out;
        size_t out_len;
        assert_int_equal(dtls_record_read(&r, copy, &parsed), 0);
        assert_int_equal(dtls_record_open(&c, &parsed, &out, &out_len), PETREL_ERR_AEAD_AUTH);
        /* The untouched record still opens. */
        memcpy(copy, rec, rec_len);
        read_one(copy, rec_len, &parsed);
        assert_int_equal(dtls_record_open(&c, &parsed, &out, &out_len), 0);
        /* And not with another key or IV. */
        dtls_cipher other_key = make_cipher(s, 0x08, 0x70);
        dtls_cipher other_iv = make_cipher(s, 0x07, 0x71);
        memcpy(copy, rec, rec_len);
        read_one(copy, rec_len, &parsed);
        assert_int_equal(dtls_record_open(&other_key, &parsed, &out, &out_len),
                         PETREL_ERR_AEAD_AUTH);
        memcpy(copy, rec, rec_len);
        read_one(copy, rec_len, &parsed);
        assert_int_equal(dtls_record_open(&other_iv, &parsed, &out, &out_len),
                         PETREL_ERR_AEAD_AUTH);
        free_cipher(&other_key);
        free_cipher(&other_iv);
        free_cipher(&c);
    }
}

static void test_record_open_short_fragment(void **state)
{
    (void)state;
    for (size_t i = 0; i < SUITE_COUNT; i++) {
        const hs_suite *s = suite(suite_ids[i]);
        dtls_cipher c = make_cipher(s, 0x01, 0x02);
        size_t min = s->explicit_nonce_len + s->tag_len;
        for (size_t len = 0; len < min; len++) {
            size_t total = DTLS_RECORD_HEADER_LEN + len;
            uint8_t *dgram = alloc_buf(total);
            memset(dgram, 0x3c, total);
            put_header(dgram, DTLS_CT_APPLICATION_DATA, VERSION, 1, 1, (uint16_t)len);
            dtls_record parsed;
            read_one(dgram, total, &parsed);
            uint8_t *out = NULL;
            size_t out_len = 0;
            assert_int_equal(dtls_record_open(&c, &parsed, &out, &out_len), PETREL_ERR_TRUNCATED);
            free(dgram);
        }
        /* Exactly nonce + tag: an empty plaintext, which must still
         * authenticate (here it cannot: the bytes are not a real tag). */
        size_t total = DTLS_RECORD_HEADER_LEN + min;
        uint8_t *dgram = alloc_buf(total);
        memset(dgram, 0x3c, total);
        put_header(dgram, DTLS_CT_APPLICATION_DATA, VERSION, 1, 1, (uint16_t)min);
        dtls_record parsed;
        read_one(dgram, total, &parsed);
        uint8_t *out;
        size_t out_len;
        assert_int_equal(dtls_record_open(&c, &parsed, &out, &out_len), PETREL_ERR_AEAD_AUTH);
        free(dgram);
        free_cipher(&c);
    }
}

/* Epoch 0 has the NULL cipher: write and open are the identity. */
static void test_record_epoch0_identity(void **state)
{
    (void)state;
    static const uint8_t hello[] = {0x01, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00};
    dtls_cipher null_cipher = {.suite = NULL};
    const dtls_cipher *ciphers[] = {&null_cipher, NULL};
    for (size_t i = 0; i < 2; i++) {
        uint8_t rec[64];
        size_t rec_len = seal_record(ciphers[i], DTLS_CT_HANDSHAKE, 0, 3, hello, sizeof(hello), rec,
                                     sizeof(rec));
        assert_int_equal(rec_len, DTLS_RECORD_HEADER_LEN + sizeof(hello));
        uint8_t header[DTLS_RECORD_HEADER_LEN];
        put_header(header, DTLS_CT_HANDSHAKE, VERSION, 0, 3, sizeof(hello));
        assert_memory_equal(rec, header, sizeof(header));
        assert_memory_equal(rec + DTLS_RECORD_HEADER_LEN, hello, sizeof(hello));

        dtls_record parsed;
        read_one(rec, rec_len, &parsed);
        uint8_t *out = NULL;
        size_t out_len = 0;
        assert_int_equal(dtls_record_open(ciphers[i], &parsed, &out, &out_len), 0);
        assert_ptr_equal(out, rec + DTLS_RECORD_HEADER_LEN);
        assert_int_equal(out_len, sizeof(hello));
        assert_memory_equal(out, hello, sizeof(hello));

        /* An empty record too. */
        rec_len = seal_record(ciphers[i], DTLS_CT_HANDSHAKE, 0, 4, NULL, 0, rec, sizeof(rec));
        assert_int_equal(rec_len, DTLS_RECORD_HEADER_LEN);
        read_one(rec, rec_len, &parsed);
        assert_int_equal(dtls_record_open(ciphers[i], &parsed, &out, &out_len), 0);
        assert_int_equal(out_len, 0);
    }
}

/* A writer one byte too small: PETREL_ERR_BUFFER_TOO_SMALL, the writer and
 * its buffer untouched. Exactly enough: success. */
static void test_record_write_too_small(void **state)
{
    (void)state;
    static const size_t lens[] = {0, 1, 100};
    static const size_t prior[] = {0, 7}; /* bytes already in the writer */
    uint8_t plain[100];
    fill(plain, sizeof(plain), 0x11);
    for (size_t i = 0; i <= SUITE_COUNT; i++) {
        const hs_suite *s = i < SUITE_COUNT ? suite(suite_ids[i]) : NULL; /* last: epoch 0 */
        dtls_cipher c = s ? make_cipher(s, 0x50, 0x60) : (dtls_cipher){.suite = NULL};
        for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
            for (size_t k = 0; k < 2; k++) {
                size_t need = DTLS_RECORD_HEADER_LEN + suite_explicit(s) + lens[j] + suite_tag(s);
                uint8_t buf[256], snapshot[256];
                memset(buf, 0xcd, sizeof(buf));
                memcpy(snapshot, buf, sizeof(buf));
                for (size_t cap = prior[k]; cap < prior[k] + need; cap++) {
                    cursor_writer w = cursor_writer_init(buf, cap);
                    w.len = prior[k];
                    cursor_writer before = w;
                    assert_int_equal(dtls_record_write(&c, DTLS_CT_APPLICATION_DATA, VERSION, 1, 1,
                                                       plain, lens[j], &w),
                                     PETREL_ERR_BUFFER_TOO_SMALL);
                    assert_memory_equal(&w, &before, sizeof(w));
                    assert_memory_equal(buf, snapshot, sizeof(buf));
                }
                cursor_writer w = cursor_writer_init(buf, prior[k] + need);
                w.len = prior[k];
                assert_int_equal(dtls_record_write(&c, DTLS_CT_APPLICATION_DATA, VERSION, 1, 1,
                                                   plain, lens[j], &w),
                                 0);
                assert_int_equal(w.len, prior[k] + need);
                assert_memory_equal(buf, snapshot, prior[k]);
                assert_memory_equal(buf + prior[k] + need, snapshot + prior[k] + need,
                                    sizeof(buf) - prior[k] - need);
            }
        }
        if (s)
            free_cipher(&c);
    }
}

static void test_record_write_bad_args(void **state)
{
    (void)state;
    const hs_suite *s = suite(0x00A8);
    dtls_cipher c = make_cipher(s, 0, 0);
    uint8_t *buf = alloc_buf(MAX_RECORD);
    uint8_t *plain = alloc_buf(DTLS_MAX_PLAINTEXT + 1);
    memset(plain, 0, DTLS_MAX_PLAINTEXT + 1);
    cursor_writer w = cursor_writer_init(buf, MAX_RECORD);
    assert_int_equal(dtls_record_write(&c, DTLS_CT_APPLICATION_DATA, VERSION, 1, 0, plain,
                                       DTLS_MAX_PLAINTEXT + 1, &w),
                     PETREL_ERR_ARG);
    assert_int_equal(w.len, 0);
    assert_int_equal(
        dtls_record_write(&c, DTLS_CT_APPLICATION_DATA, VERSION, 1, DTLS_SEQ_MAX + 1, plain, 1, &w),
        PETREL_ERR_ARG);
    assert_int_equal(w.len, 0);
    /* The last sequence number is fine. */
    assert_int_equal(
        dtls_record_write(&c, DTLS_CT_APPLICATION_DATA, VERSION, 1, DTLS_SEQ_MAX, plain, 1, &w), 0);
    free(plain);
    free(buf);
    free_cipher(&c);
}

/* The write-buffer flow: plaintext already at header + explicit nonce,
 * plaintext == NULL. Same bytes as the copying form, at any writer offset. */
static void test_record_write_in_place(void **state)
{
    (void)state;
    static const size_t lens[] = {0, 1, 33, 1200};
    uint8_t plain[1200];
    fill(plain, sizeof(plain), 0x77);
    for (size_t i = 0; i <= SUITE_COUNT; i++) {
        const hs_suite *s = i < SUITE_COUNT ? suite(suite_ids[i]) : NULL; /* last: epoch 0 */
        dtls_cipher c = s ? make_cipher(s, 0x90, 0xa0) : (dtls_cipher){.suite = NULL};
        size_t expl = suite_explicit(s);
        for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
            size_t len = lens[j];
            size_t need = DTLS_RECORD_HEADER_LEN + expl + len + suite_tag(s);
            const size_t offset = 5;
            uint8_t *copying = alloc_buf(offset + need);
            uint8_t *in_place = alloc_buf(offset + need);
            memset(copying, 0xee, offset + need);
            memset(in_place, 0xee, offset + need);

            cursor_writer w1 = cursor_writer_init(copying, offset + need);
            w1.len = offset;
            assert_int_equal(
                dtls_record_write(&c, DTLS_CT_APPLICATION_DATA, VERSION, 2, 77, plain, len, &w1),
                0);

            cursor_writer w2 = cursor_writer_init(in_place, offset + need);
            w2.len = offset;
            memcpy(in_place + offset + DTLS_RECORD_HEADER_LEN + expl, plain, len);
            assert_int_equal(
                dtls_record_write(&c, DTLS_CT_APPLICATION_DATA, VERSION, 2, 77, NULL, len, &w2), 0);

            assert_int_equal(w1.len, offset + need);
            assert_int_equal(w2.len, offset + need);
            assert_memory_equal(copying, in_place, offset + need);
            free(copying);
            free(in_place);
        }
        if (s)
            free_cipher(&c);
    }
}

/* Every suite's record, recomputed with OpenSSL EVP from the nonce and
 * AAD the RFCs define. */
static void test_record_matches_independent_aead(void **state)
{
    (void)state;
    uint8_t plain[100];
    fill(plain, sizeof(plain), 0xc3);
    for (size_t i = 0; i < SUITE_COUNT; i++) {
        const hs_suite *s = suite(suite_ids[i]);
        uint8_t key[CRYPTO_AEAD_MAX_KEY_LEN], iv[12] = {0};
        fill(key, s->key_len, 0x0b);
        fill(iv, s->fixed_iv_len < sizeof(iv) ? s->fixed_iv_len : sizeof(iv), 0xe0);
        dtls_cipher c = make_cipher(s, 0x0b, 0xe0);
        const uint16_t epoch = 0x0102;
        const uint64_t seq = UINT64_C(0xa0b0c0d0e0f0);
        uint8_t rec[256];
        size_t rec_len = seal_record(&c, DTLS_CT_APPLICATION_DATA, epoch, seq, plain, sizeof(plain),
                                     rec, sizeof(rec));

        /* seq_num for DTLS is epoch(2) || sequence_number(6). */
        uint8_t seq64[8];
        put_u16(seq64, epoch);
        put_u48(seq64 + 2, seq);
        uint8_t nonce[12];
        if (s->aead == CRYPTO_AEAD_CHACHA20_POLY1305) {
            /* RFC 7905 §2: the padded sequence number XOR the 12-byte IV. */
            memcpy(nonce, iv, 12);
            for (int k = 0; k < 8; k++)
                nonce[4 + k] ^= seq64[k];
        } else {
            /* RFC 5288 §3 / RFC 6655 §3: salt || explicit nonce. */
            memcpy(nonce, iv, 4);
            memcpy(nonce + 4, seq64, 8);
        }
        /* RFC 5246 §6.2.3.3: seq_num + type + version + length. */
        uint8_t aad[13];
        memcpy(aad, seq64, 8);
        aad[8] = DTLS_CT_APPLICATION_DATA;
        put_u16(aad + 9, VERSION);
        put_u16(aad + 11, sizeof(plain));

        uint8_t ct[sizeof(plain)], tag[16];
        evp_seal(s->aead, s->tag_len, key, nonce, aad, sizeof(aad), plain, sizeof(plain), ct, tag);
        const uint8_t *frag = rec + DTLS_RECORD_HEADER_LEN;
        assert_int_equal(rec_len, DTLS_RECORD_HEADER_LEN + s->explicit_nonce_len + sizeof(plain) +
                                      s->tag_len);
        assert_memory_equal(frag + s->explicit_nonce_len, ct, sizeof(ct));
        assert_memory_equal(frag + s->explicit_nonce_len + sizeof(ct), tag, s->tag_len);
        free_cipher(&c);
    }
}

/* TLS_PSK_WITH_AES_128_GCM_SHA256, key 00..0f, salt 10 11 12 13, epoch 1,
 * seq 5, application data, DTLS 1.2, "hello": every byte written out. */
static void test_record_known_answer_aes128gcm(void **state)
{
    (void)state;
    static const uint8_t key[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
    static const uint8_t nonce[12] = {0x10, 0x11, 0x12, 0x13, 0x00, 0x01,
                                      0x00, 0x00, 0x00, 0x00, 0x00, 0x05};
    static const uint8_t aad[13] = {0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
                                    0x05, 0x17, 0xfe, 0xfd, 0x00, 0x05};
    static const uint8_t hello[5] = {'h', 'e', 'l', 'l', 'o'};

    /* The expected ciphertext and tag, straight from EVP. */
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    uint8_t ct[5], tag[16], final_block[16];
    int outl;
    assert_non_null(ctx);
    assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, NULL, NULL), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL), 1);
    assert_int_equal(EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &outl, aad, sizeof(aad)), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, ct, &outl, hello, sizeof(hello)), 1);
    assert_int_equal(outl, 5);
    assert_int_equal(EVP_EncryptFinal_ex(ctx, final_block, &outl), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag), 1);
    EVP_CIPHER_CTX_free(ctx);

    static const uint8_t header[13] = {0x17, 0xfe, 0xfd, 0x00, 0x01, 0x00, 0x00,
                                       0x00, 0x00, 0x00, 0x05, 0x00, 0x1d};
    static const uint8_t explicit_nonce[8] = {0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05};

    const hs_suite *s = suite(0x00A8);
    assert_string_equal(s->name, "TLS_PSK_WITH_AES_128_GCM_SHA256");
    dtls_cipher c;
    memset(&c, 0, sizeof(c));
    c.suite = s;
    c.iv[0] = 0x10;
    c.iv[1] = 0x11;
    c.iv[2] = 0x12;
    c.iv[3] = 0x13;
    const crypto_aead_alg *alg = prov()->aead(s->aead);
    assert_int_equal(alg->key_new(alg, key, &c.key), 0);

    uint8_t rec[64];
    cursor_writer w = cursor_writer_init(rec, sizeof(rec));
    assert_int_equal(dtls_record_write(&c, 23, 0xfefd, 1, 5, hello, sizeof(hello), &w), 0);
    assert_int_equal(w.len, 13 + 8 + 5 + 16);
    assert_memory_equal(rec, header, sizeof(header));
    assert_memory_equal(rec + 13, explicit_nonce, 8);
    assert_memory_equal(rec + 21, ct, sizeof(ct));
    assert_memory_equal(rec + 26, tag, sizeof(tag));

    dtls_record parsed;
    read_one(rec, w.len, &parsed);
    uint8_t *out;
    size_t out_len;
    assert_int_equal(dtls_record_open(&c, &parsed, &out, &out_len), 0);
    assert_int_equal(out_len, 5);
    assert_memory_equal(out, hello, 5);
    free_cipher(&c);
}

/* For GCM/CCM the receiver takes the nonce from the record (RFC 5288 §3:
 * the explicit nonce is the sender's choice), so a record whose explicit
 * nonce is not its own epoch and seq still opens when it authenticates. */
static void test_record_explicit_nonce_from_record(void **state)
{
    (void)state;
    static const uint8_t plain[] = "abc";
    const hs_suite *s = suite(0x00A8);
    uint8_t key[16], iv[12] = {0};
    fill(key, sizeof(key), 0x21);
    fill(iv, 4, 0x31);
    dtls_cipher c = make_cipher(s, 0x21, 0x31);

    uint8_t rec[64];
    uint8_t chosen[8] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22, 0x33};
    const uint16_t epoch = 1;
    const uint64_t seq = 9;
    uint8_t nonce[12], aad[13];
    memcpy(nonce, iv, 4);
    memcpy(nonce + 4, chosen, 8);
    put_u16(aad, epoch);
    put_u48(aad + 2, seq);
    aad[8] = DTLS_CT_APPLICATION_DATA;
    put_u16(aad + 9, VERSION);
    put_u16(aad + 11, 3);
    size_t frag_len = 8 + 3 + 16;
    put_header(rec, DTLS_CT_APPLICATION_DATA, VERSION, epoch, seq, (uint16_t)frag_len);
    memcpy(rec + 13, chosen, 8);
    evp_seal(s->aead, 16, key, nonce, aad, sizeof(aad), plain, 3, rec + 21, rec + 24);

    dtls_record parsed;
    read_one(rec, 13 + frag_len, &parsed);
    uint8_t *out;
    size_t out_len;
    assert_int_equal(dtls_record_open(&c, &parsed, &out, &out_len), 0);
    assert_int_equal(out_len, 3);
    assert_memory_equal(out, plain, 3);
    free_cipher(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_read_header_fields),
        cmocka_unit_test(test_record_read_fragment_in_base),
        cmocka_unit_test(test_record_read_truncated_header),
        cmocka_unit_test(test_record_read_truncated_fragment),
        cmocka_unit_test(test_record_read_length_limit),
        cmocka_unit_test(test_record_read_two_records),
        cmocka_unit_test(test_record_suites_registered),
        cmocka_unit_test(test_record_round_trip_every_suite),
        cmocka_unit_test(test_record_nonce_changes),
        cmocka_unit_test(test_record_open_rejects_flipped_bits),
        cmocka_unit_test(test_record_open_short_fragment),
        cmocka_unit_test(test_record_epoch0_identity),
        cmocka_unit_test(test_record_write_too_small),
        cmocka_unit_test(test_record_write_bad_args),
        cmocka_unit_test(test_record_write_in_place),
        cmocka_unit_test(test_record_matches_independent_aead),
        cmocka_unit_test(test_record_known_answer_aes128gcm),
        cmocka_unit_test(test_record_explicit_nonce_from_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
