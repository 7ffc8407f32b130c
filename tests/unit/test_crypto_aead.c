/*
 * Conformance tests for the provider's AEADs: published known answers for
 * every algorithm in crypto_aead_id, round trips at the edges, and the
 * failure contract of open (tag, ciphertext, nonce or AAD changed: the
 * buffer is wiped and PETREL_ERR_AEAD_AUTH returned).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "crypto/provider.h"

/* ---- helpers ---- */

static const crypto_provider *prov(void)
{
    const crypto_provider *p = crypto_default_provider();
    assert_non_null(p);
    return p;
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes hex (spaces allowed between bytes) into out; returns the length. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (*hex != '\0') {
        if (*hex == ' ') {
            hex++;
            continue;
        }
        int hi = hex_nibble(hex[0]);
        int lo = hex[1] != '\0' ? hex_nibble(hex[1]) : -1;
        assert_true(hi >= 0 && lo >= 0);
        assert_true(n < cap);
        out[n++] = (uint8_t)(hi << 4 | lo);
        hex += 2;
    }
    return n;
}

static const crypto_aead_alg *aead_alg(crypto_aead_id id)
{
    const crypto_aead_alg *alg = prov()->aead(id);
    assert_non_null(alg);
    assert_int_equal(alg->id, id);
    return alg;
}

static crypto_aead_key *aead_key(crypto_aead_id id, const uint8_t *key)
{
    const crypto_aead_alg *alg = aead_alg(id);
    crypto_aead_key *k = NULL;
    assert_int_equal(alg->key_new(alg, key, &k), 0);
    assert_non_null(k);
    assert_ptr_equal(k->alg, alg);
    return k;
}

static bool all_zero(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i] != 0)
            return false;
    return true;
}

#define CANARY  0xa5
#define MAX_MSG 160

/* ---- algorithm parameters ---- */

static void test_aead_parameters(void **state)
{
    (void)state;
    static const struct {
        crypto_aead_id id;
        size_t key_len, tag_len;
    } want[] = {
        {CRYPTO_AEAD_AES_128_CCM, 16, 16},       {CRYPTO_AEAD_AES_128_CCM_8, 16, 8},
        {CRYPTO_AEAD_AES_128_GCM, 16, 16},       {CRYPTO_AEAD_AES_256_GCM, 32, 16},
        {CRYPTO_AEAD_CHACHA20_POLY1305, 32, 16},
    };
    assert_int_equal(PETREL_ARRAY_LEN(want), CRYPTO_AEAD_COUNT);
    for (size_t i = 0; i < PETREL_ARRAY_LEN(want); i++) {
        const crypto_aead_alg *alg = aead_alg(want[i].id);
        assert_non_null(alg->name);
        assert_int_equal(alg->key_len, want[i].key_len);
        assert_int_equal(alg->tag_len, want[i].tag_len);
        assert_int_equal(alg->nonce_len, CRYPTO_AEAD_NONCE_LEN);
        assert_int_equal(alg->nonce_len, 12);
        assert_true(alg->key_len <= CRYPTO_AEAD_MAX_KEY_LEN);
        assert_true(alg->tag_len <= CRYPTO_AEAD_MAX_TAG_LEN);
        assert_non_null(alg->key_new);
        assert_non_null(alg->key_free);
        assert_non_null(alg->seal);
        assert_non_null(alg->open);
    }
}

/* ---- known answers ---- */

typedef struct aead_vector {
    crypto_aead_id id;
    const char *key;
    const char *nonce;
    const char *aad;
    const char *plaintext;
    const char *ciphertext;
    const char *tag;
} aead_vector;

/* McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", revised
 * (the test cases NIST publishes with SP 800-38D): 96-bit IVs, 128-bit
 * tags. Cases 3 and 15 have no AAD, cases 4 and 16 do. */
#define GCM_PLAINTEXT_64                                               \
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
#define GCM_PLAINTEXT_60                                               \
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define GCM_AAD "feedfacedeadbeeffeedfacedeadbeefabaddad2"
#define GCM_IV  "cafebabefacedbaddecaf888"

static aead_vector gcm_case3 = {
    .id = CRYPTO_AEAD_AES_128_GCM,
    .key = "feffe9928665731c6d6a8f9467308308",
    .nonce = GCM_IV,
    .aad = "",
    .plaintext = GCM_PLAINTEXT_64,
    .ciphertext = "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
                  "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
    .tag = "4d5c2af327cd64a62cf35abd2ba6fab4",
};

static aead_vector gcm_case4 = {
    .id = CRYPTO_AEAD_AES_128_GCM,
    .key = "feffe9928665731c6d6a8f9467308308",
    .nonce = GCM_IV,
    .aad = GCM_AAD,
    .plaintext = GCM_PLAINTEXT_60,
    .ciphertext = "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
                  "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
    .tag = "5bc94fbc3221a5db94fae95ae7121a47",
};

static aead_vector gcm_case15 = {
    .id = CRYPTO_AEAD_AES_256_GCM,
    .key = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
    .nonce = GCM_IV,
    .aad = "",
    .plaintext = GCM_PLAINTEXT_64,
    .ciphertext = "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
    .tag = "b094dac5d93471bdec1a502270e3cc6c",
};

static aead_vector gcm_case16 = {
    .id = CRYPTO_AEAD_AES_256_GCM,
    .key = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
    .nonce = GCM_IV,
    .aad = GCM_AAD,
    .plaintext = GCM_PLAINTEXT_60,
    .ciphertext = "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
    .tag = "76fc6ece0f4e1768cddf8853bb2d551b",
};

/* RFC 8439 section 2.8.2. The plaintext is "Ladies and Gentlemen of the
 * class of '99: If I could offer you only one tip for the future,
 * sunscreen would be it." */
static aead_vector chacha_rfc8439 = {
    .id = CRYPTO_AEAD_CHACHA20_POLY1305,
    .key = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
    .nonce = "070000004041424344454647",
    .aad = "50515253c0c1c2c3c4c5c6c7",
    .plaintext = "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
                 "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
                 "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
                 "637265656e20776f756c642062652069742e",
    .ciphertext = "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
                  "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
                  "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
                  "3ff4def08e4b7a9de576d26586cec64b6116",
    .tag = "1ae10b594f09e26a7e902ecbd0600691",
};

/* NIST SP 800-38C appendix C, example 3: Nlen 96, Alen 160, Plen 192,
 * Tlen 64 (the output C is the ciphertext followed by the 8-byte tag). */
static aead_vector ccm8_sp800_38c_example3 = {
    .id = CRYPTO_AEAD_AES_128_CCM_8,
    .key = "404142434445464748494a4b4c4d4e4f",
    .nonce = "101112131415161718191a1b",
    .aad = "000102030405060708090a0b0c0d0e0f10111213",
    .plaintext = "202122232425262728292a2b2c2d2e2f3031323334353637",
    .ciphertext = "e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5",
    .tag = "484392fbc1b09951",
};

/* Project Wycheproof aes_ccm_test.json, group ivSize 96 / keySize 128 /
 * tagSize 128: tcId 34 (one block) and tcId 36 (a partial second block). */
static aead_vector ccm_wycheproof_34 = {
    .id = CRYPTO_AEAD_AES_128_CCM,
    .key = "875b0b4a84150524eb1f50f9d8de1388",
    .nonce = "fdc5014ed1ad706129d57322",
    .aad = "35a6d9829c8449c4402e385cc5c6fe98",
    .plaintext = "2f575dfb2dbe9d238de576fc63e4ac32",
    .ciphertext = "3469c3ff738aa32aacc1ac48d89b1d75",
    .tag = "fa68720a3171a54c4b3690bffde7b610",
};

static aead_vector ccm_wycheproof_36 = {
    .id = CRYPTO_AEAD_AES_128_CCM,
    .key = "e3d3ec41f28eb35fb53f5fa91804e051",
    .nonce = "89d270fc8b583bc631cefd39",
    .aad = "3d2f458c67c5b6c794b1f12dad409e0f",
    .plaintext = "847acf521995b33f8bc474c8befbca3bb2",
    .ciphertext = "28aaec53493cd6252cf6410ed141bdafb7",
    .tag = "47bf3e16c227ca11fd68a16d407c2cc3",
};

/* Seals the vector's plaintext and checks ciphertext || tag byte for byte;
 * then opens the published ciphertext || tag and checks the plaintext. */
static void test_aead_known_answer(void **state)
{
    const aead_vector *v = *state;
    const crypto_aead_alg *alg = aead_alg(v->id);
    uint8_t key[CRYPTO_AEAD_MAX_KEY_LEN], nonce[16], aad[64], pt[MAX_MSG], ct[MAX_MSG],
        tag[CRYPTO_AEAD_MAX_TAG_LEN], buf[MAX_MSG + CRYPTO_AEAD_MAX_TAG_LEN + 4];
    assert_int_equal(unhex(v->key, key, sizeof(key)), alg->key_len);
    assert_int_equal(unhex(v->nonce, nonce, sizeof(nonce)), alg->nonce_len);
    size_t aad_len = unhex(v->aad, aad, sizeof(aad));
    size_t pt_len = unhex(v->plaintext, pt, sizeof(pt));
    assert_int_equal(unhex(v->ciphertext, ct, sizeof(ct)), pt_len);
    assert_int_equal(unhex(v->tag, tag, sizeof(tag)), alg->tag_len);

    crypto_aead_key *k = aead_key(v->id, key);

    memset(buf, CANARY, sizeof(buf));
    memcpy(buf, pt, pt_len);
    assert_int_equal(crypto_aead_seal(k, nonce, aad_len ? aad : NULL, aad_len, buf, pt_len), 0);
    assert_memory_equal(buf, ct, pt_len);
    assert_memory_equal(buf + pt_len, tag, alg->tag_len);
    for (size_t i = pt_len + alg->tag_len; i < sizeof(buf); i++)
        assert_int_equal(buf[i], CANARY);

    memset(buf, CANARY, sizeof(buf));
    memcpy(buf, ct, pt_len);
    memcpy(buf + pt_len, tag, alg->tag_len);
    assert_int_equal(
        crypto_aead_open(k, nonce, aad_len ? aad : NULL, aad_len, buf, pt_len + alg->tag_len), 0);
    assert_memory_equal(buf, pt, pt_len);
    for (size_t i = pt_len + alg->tag_len; i < sizeof(buf); i++)
        assert_int_equal(buf[i], CANARY);

    crypto_aead_key_free(k);
}

/* ---- per-algorithm behaviour ---- */

/* A message sealed under a fixed key, nonce and AAD, kept in the test state
 * so each negative test starts from a valid record. */
typedef struct sealed_record {
    crypto_aead_key *key;
    uint8_t nonce[CRYPTO_AEAD_NONCE_LEN];
    uint8_t aad[13];
    uint8_t buf[64 + CRYPTO_AEAD_MAX_TAG_LEN];
    size_t len; /* ciphertext plus tag */
    size_t tag_len;
} sealed_record;

static const uint8_t record_plaintext[37] = "record plaintext, 37 bytes long.....!";

static void seal_record(crypto_aead_id id, sealed_record *r)
{
    uint8_t key[CRYPTO_AEAD_MAX_KEY_LEN];
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(0x10 + i);
    for (size_t i = 0; i < sizeof(r->nonce); i++)
        r->nonce[i] = (uint8_t)(0xb0 + i);
    /* A DTLS 1.2 additional_data shape: epoch, sequence, type, version,
     * length. */
    static const uint8_t aad[13] = {0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
                                    0x07, 0x17, 0xfe, 0xfd, 0x00, 0x25};
    memcpy(r->aad, aad, sizeof(aad));
    r->key = aead_key(id, key);
    r->tag_len = r->key->alg->tag_len;
    memcpy(r->buf, record_plaintext, sizeof(record_plaintext));
    assert_int_equal(crypto_aead_seal(r->key, r->nonce, r->aad, sizeof(r->aad), r->buf,
                                      sizeof(record_plaintext)),
                     0);
    r->len = sizeof(record_plaintext) + r->tag_len;
    /* Sanity: the record opens as sealed. */
    uint8_t copy[sizeof(r->buf)];
    memcpy(copy, r->buf, r->len);
    assert_int_equal(crypto_aead_open(r->key, r->nonce, r->aad, sizeof(r->aad), copy, r->len), 0);
    assert_memory_equal(copy, record_plaintext, sizeof(record_plaintext));
}

/* Opens a record that must be refused: checks the error and that
 * buf[0, len) was wiped. */
static void expect_open_fails(sealed_record *r, const uint8_t *nonce, const uint8_t *aad,
                              size_t len, int want)
{
    assert_int_equal(crypto_aead_open(r->key, nonce, aad, sizeof(r->aad), r->buf, len), want);
    assert_true(all_zero(r->buf, len));
    crypto_aead_key_free(r->key);
}

static crypto_aead_id state_id(void **state)
{
    return *(const crypto_aead_id *)*state;
}

static void test_open_rejects_flipped_ciphertext_bit(void **state)
{
    sealed_record r;
    seal_record(state_id(state), &r);
    r.buf[5] ^= 0x01;
    expect_open_fails(&r, r.nonce, r.aad, r.len, PETREL_ERR_AEAD_AUTH);
}

static void test_open_rejects_flipped_tag_bit(void **state)
{
    sealed_record r;
    seal_record(state_id(state), &r);
    r.buf[r.len - 1] ^= 0x80;
    expect_open_fails(&r, r.nonce, r.aad, r.len, PETREL_ERR_AEAD_AUTH);
}

static void test_open_rejects_flipped_nonce_bit(void **state)
{
    sealed_record r;
    seal_record(state_id(state), &r);
    uint8_t nonce[CRYPTO_AEAD_NONCE_LEN];
    memcpy(nonce, r.nonce, sizeof(nonce));
    nonce[11] ^= 0x01;
    expect_open_fails(&r, nonce, r.aad, r.len, PETREL_ERR_AEAD_AUTH);
}

static void test_open_rejects_flipped_aad_bit(void **state)
{
    sealed_record r;
    seal_record(state_id(state), &r);
    uint8_t aad[sizeof(r.aad)];
    memcpy(aad, r.aad, sizeof(aad));
    aad[7] ^= 0x01; /* the sequence number */
    expect_open_fails(&r, r.nonce, aad, r.len, PETREL_ERR_AEAD_AUTH);
}

static void test_open_rejects_input_shorter_than_tag(void **state)
{
    sealed_record r;
    seal_record(state_id(state), &r);
    crypto_aead_key *key = r.key;
    /* One byte short of a bare tag. */
    assert_int_equal(crypto_aead_open(key, r.nonce, r.aad, sizeof(r.aad), r.buf, r.tag_len - 1),
                     PETREL_ERR_TRUNCATED);
    assert_true(all_zero(r.buf, r.tag_len - 1));
    /* Nothing at all. */
    assert_int_equal(crypto_aead_open(key, r.nonce, r.aad, sizeof(r.aad), r.buf, 0),
                     PETREL_ERR_TRUNCATED);
    crypto_aead_key_free(key);
}

static void test_round_trip_empty_plaintext(void **state)
{
    crypto_aead_id id = state_id(state);
    const crypto_aead_alg *alg = aead_alg(id);
    uint8_t key[CRYPTO_AEAD_MAX_KEY_LEN], nonce[CRYPTO_AEAD_NONCE_LEN];
    uint8_t buf[CRYPTO_AEAD_MAX_TAG_LEN + 4];
    memset(key, 0x3c, sizeof(key));
    memset(nonce, 0x5a, sizeof(nonce));
    static const uint8_t aad[] = "header";
    crypto_aead_key *k = aead_key(id, key);

    memset(buf, CANARY, sizeof(buf));
    assert_int_equal(crypto_aead_seal(k, nonce, aad, sizeof(aad), buf, 0), 0);
    /* Only a tag was written, and it is not left as the input. */
    for (size_t i = alg->tag_len; i < sizeof(buf); i++)
        assert_int_equal(buf[i], CANARY);
    bool all_canary = true;
    for (size_t i = 0; i < alg->tag_len; i++)
        all_canary = all_canary && buf[i] == CANARY;
    assert_false(all_canary);

    assert_int_equal(crypto_aead_open(k, nonce, aad, sizeof(aad), buf, alg->tag_len), 0);

    /* The tag still authenticates the AAD. */
    uint8_t other_aad[sizeof(aad)];
    memcpy(other_aad, aad, sizeof(aad));
    other_aad[0] ^= 0x20;
    assert_int_equal(crypto_aead_open(k, nonce, other_aad, sizeof(other_aad), buf, alg->tag_len),
                     PETREL_ERR_AEAD_AUTH);
    assert_true(all_zero(buf, alg->tag_len));
    crypto_aead_key_free(k);
}

static void test_round_trip_empty_aad(void **state)
{
    crypto_aead_id id = state_id(state);
    const crypto_aead_alg *alg = aead_alg(id);
    uint8_t key[CRYPTO_AEAD_MAX_KEY_LEN], nonce[CRYPTO_AEAD_NONCE_LEN];
    uint8_t buf[100 + CRYPTO_AEAD_MAX_TAG_LEN], msg[100];
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(0xff - i);
    memset(nonce, 0x07, sizeof(nonce));
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 7);
    crypto_aead_key *k = aead_key(id, key);

    memcpy(buf, msg, sizeof(msg));
    assert_int_equal(crypto_aead_seal(k, nonce, NULL, 0, buf, sizeof(msg)), 0);
    assert_memory_not_equal(buf, msg, sizeof(msg));
    assert_int_equal(crypto_aead_open(k, nonce, NULL, 0, buf, sizeof(msg) + alg->tag_len), 0);
    assert_memory_equal(buf, msg, sizeof(msg));

    /* Sealed with no AAD, the record does not open with some. */
    assert_int_equal(crypto_aead_seal(k, nonce, NULL, 0, buf, sizeof(msg)), 0);
    static const uint8_t aad[1] = {0};
    assert_int_equal(crypto_aead_open(k, nonce, aad, sizeof(aad), buf, sizeof(msg) + alg->tag_len),
                     PETREL_ERR_AEAD_AUTH);
    assert_true(all_zero(buf, sizeof(msg) + alg->tag_len));
    crypto_aead_key_free(k);
}

/* The backend keeps its own copy of the key: wiping the caller's buffer
 * after key_new changes nothing. */
static void test_key_new_copies_key(void **state)
{
    crypto_aead_id id = state_id(state);
    const crypto_aead_alg *alg = aead_alg(id);
    uint8_t key[CRYPTO_AEAD_MAX_KEY_LEN], nonce[CRYPTO_AEAD_NONCE_LEN] = {0};
    uint8_t a[16 + CRYPTO_AEAD_MAX_TAG_LEN] = {0}, b[16 + CRYPTO_AEAD_MAX_TAG_LEN] = {0};
    memset(key, 0x77, sizeof(key));
    crypto_aead_key *k1 = aead_key(id, key);
    assert_int_equal(crypto_aead_seal(k1, nonce, NULL, 0, a, 16), 0);
    crypto_aead_key *k2 = aead_key(id, key);
    memset(key, 0, sizeof(key));
    assert_int_equal(crypto_aead_seal(k2, nonce, NULL, 0, b, 16), 0);
    assert_memory_equal(a, b, 16 + alg->tag_len);
    crypto_aead_key_free(k1);
    crypto_aead_key_free(k2);
}

static void test_aead_key_free_accepts_null(void **state)
{
    (void)state;
    crypto_aead_key_free(NULL);
    for (int id = 0; id < CRYPTO_AEAD_COUNT; id++)
        aead_alg((crypto_aead_id)id)->key_free(NULL);
}

/* ---- the test table ---- */

static crypto_aead_id id_ccm = CRYPTO_AEAD_AES_128_CCM;
static crypto_aead_id id_ccm8 = CRYPTO_AEAD_AES_128_CCM_8;
static crypto_aead_id id_gcm128 = CRYPTO_AEAD_AES_128_GCM;
static crypto_aead_id id_gcm256 = CRYPTO_AEAD_AES_256_GCM;
static crypto_aead_id id_chacha = CRYPTO_AEAD_CHACHA20_POLY1305;

/* A test named after fn and the algorithm, run with the algorithm's id as
 * its state. */
/* clang-format off */
#define AEAD_CASE(fn, suffix, id) {#fn suffix, fn, NULL, NULL, &(id)}
#define PER_AEAD(fn)                                                                               \
    AEAD_CASE(fn, "_aes_128_ccm", id_ccm), AEAD_CASE(fn, "_aes_128_ccm_8", id_ccm8),               \
    AEAD_CASE(fn, "_aes_128_gcm", id_gcm128), AEAD_CASE(fn, "_aes_256_gcm", id_gcm256),            \
    AEAD_CASE(fn, "_chacha20_poly1305", id_chacha)

/* A known-answer test named name, run with one vector as its state. */
#define VECTOR_TEST(name, row) {name, test_aead_known_answer, NULL, NULL, &(row)}
/* clang-format on */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aead_parameters),
        VECTOR_TEST("test_aes_128_gcm_mcgrew_viega_case_3", gcm_case3),
        VECTOR_TEST("test_aes_128_gcm_mcgrew_viega_case_4_with_aad", gcm_case4),
        VECTOR_TEST("test_aes_256_gcm_mcgrew_viega_case_15", gcm_case15),
        VECTOR_TEST("test_aes_256_gcm_mcgrew_viega_case_16_with_aad", gcm_case16),
        VECTOR_TEST("test_chacha20_poly1305_rfc8439_2_8_2", chacha_rfc8439),
        VECTOR_TEST("test_aes_128_ccm_8_sp800_38c_example_3", ccm8_sp800_38c_example3),
        VECTOR_TEST("test_aes_128_ccm_wycheproof_tc34", ccm_wycheproof_34),
        VECTOR_TEST("test_aes_128_ccm_wycheproof_tc36_partial_block", ccm_wycheproof_36),
        PER_AEAD(test_round_trip_empty_plaintext),
        PER_AEAD(test_round_trip_empty_aad),
        PER_AEAD(test_key_new_copies_key),
        PER_AEAD(test_open_rejects_flipped_ciphertext_bit),
        PER_AEAD(test_open_rejects_flipped_tag_bit),
        PER_AEAD(test_open_rejects_flipped_nonce_bit),
        PER_AEAD(test_open_rejects_flipped_aad_bit),
        PER_AEAD(test_open_rejects_input_shorter_than_tag),
        cmocka_unit_test(test_aead_key_free_accepts_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
