/*
 * Conformance tests for the provider's key exchange: published X25519 and
 * NIST-curve ECDH vectors, reproducible generation from the RNG hook, and
 * refusal of invalid peer keys and private scalars.
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

static void assert_bytes_hex(const uint8_t *got, size_t len, const char *hex)
{
    uint8_t want[256];
    size_t want_len = unhex(hex, want, sizeof(want));
    assert_int_equal(len, want_len);
    assert_memory_equal(got, want, want_len);
}

static const crypto_kex_alg *kex_alg(crypto_group_id id)
{
    const crypto_kex_alg *alg = prov()->kex(id);
    assert_non_null(alg);
    assert_int_equal(alg->id, id);
    return alg;
}

static crypto_kex_key *from_private_hex(crypto_group_id id, const char *priv_hex)
{
    const crypto_kex_alg *alg = kex_alg(id);
    uint8_t priv[64];
    size_t len = unhex(priv_hex, priv, sizeof(priv));
    crypto_kex_key *key = NULL;
    assert_int_equal(alg->from_private(alg, priv, len, &key), 0);
    assert_non_null(key);
    assert_ptr_equal(key->alg, alg);
    return key;
}

/* Writes the public key and checks that exactly public_len bytes changed. */
static size_t public_key(const crypto_kex_key *key, uint8_t *out, size_t cap)
{
    size_t len = key->alg->public_len;
    assert_true(len < cap);
    memset(out, 0xa5, cap);
    assert_int_equal(key->alg->public_key(key, out), 0);
    for (size_t i = len; i < cap; i++)
        assert_int_equal(out[i], 0xa5);
    return len;
}

static void assert_public_hex(const crypto_kex_key *key, const char *hex)
{
    uint8_t pub[CRYPTO_KEX_MAX_PUBLIC_LEN + 8];
    assert_bytes_hex(pub, public_key(key, pub, sizeof(pub)), hex);
}

/* Derives with a peer key given in hex and compares with the expected
 * shared secret; checks exactly secret_len bytes are written. */
static void assert_derive_hex(const crypto_kex_key *key, const char *peer_hex,
                              const char *secret_hex)
{
    uint8_t peer[CRYPTO_KEX_MAX_PUBLIC_LEN + 8], out[CRYPTO_KEX_MAX_SECRET_LEN + 8];
    size_t peer_len = unhex(peer_hex, peer, sizeof(peer));
    memset(out, 0xa5, sizeof(out));
    assert_int_equal(key->alg->derive(key, peer, peer_len, out), 0);
    assert_bytes_hex(out, key->alg->secret_len, secret_hex);
    for (size_t i = key->alg->secret_len; i < sizeof(out); i++)
        assert_int_equal(out[i], 0xa5);
}

static void expect_bad_peer(const crypto_kex_key *key, const uint8_t *peer, size_t len)
{
    uint8_t out[CRYPTO_KEX_MAX_SECRET_LEN];
    assert_int_equal(key->alg->derive(key, peer, len, out), PETREL_ERR_BAD_PEER_KEY);
}

/* A deterministic RNG for the platform hook (splitmix64). */
typedef struct seeded_rng {
    uint64_t state;
    size_t calls;
} seeded_rng;

static int seeded_rng_fill(void *ref, uint8_t *buf, size_t len)
{
    seeded_rng *rng = ref;
    rng->calls++;
    for (size_t i = 0; i < len; i++) {
        uint64_t z = (rng->state += 0x9e3779b97f4a7c15u);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        buf[i] = (uint8_t)(z ^ (z >> 31));
    }
    return 0;
}

static int failing_rng(void *ref, uint8_t *buf, size_t len)
{
    (void)ref;
    (void)buf;
    (void)len;
    return -1;
}

static crypto_kex_key *generate_seeded(crypto_group_id id, uint64_t seed)
{
    const crypto_kex_alg *alg = kex_alg(id);
    seeded_rng rng = {seed, 0};
    crypto_kex_key *key = NULL;
    assert_int_equal(alg->generate(alg, seeded_rng_fill, &rng, &key), 0);
    assert_non_null(key);
    assert_ptr_equal(key->alg, alg);
    /* The private scalar came from the hook. */
    assert_true(rng.calls > 0);
    return key;
}

/* ---- parameters ---- */

static void test_kex_parameters(void **state)
{
    (void)state;
    static const struct {
        crypto_group_id id;
        size_t public_len, secret_len;
    } want[] = {
        {CRYPTO_GROUP_X25519, 32, 32},
        {CRYPTO_GROUP_SECP256R1, 65, 32},
        {CRYPTO_GROUP_SECP384R1, 97, 48},
    };
    for (size_t i = 0; i < PETREL_ARRAY_LEN(want); i++) {
        const crypto_kex_alg *alg = kex_alg(want[i].id);
        assert_non_null(alg->name);
        assert_int_equal(alg->public_len, want[i].public_len);
        assert_int_equal(alg->secret_len, want[i].secret_len);
        assert_true(alg->public_len <= CRYPTO_KEX_MAX_PUBLIC_LEN);
        assert_true(alg->secret_len <= CRYPTO_KEX_MAX_SECRET_LEN);
    }
    /* The TLS NamedGroup code points. */
    assert_int_equal(CRYPTO_GROUP_SECP256R1, 23);
    assert_int_equal(CRYPTO_GROUP_SECP384R1, 24);
    assert_int_equal(CRYPTO_GROUP_X25519, 29);
}

/* ---- X25519: RFC 7748 ---- */

/* Section 5.2: the two single scalar multiplications. The second
 * u-coordinate has its top bit set, which X25519 must mask. */
static void test_x25519_rfc7748_5_2_vector_1(void **state)
{
    (void)state;
    crypto_kex_key *key = from_private_hex(
        CRYPTO_GROUP_X25519, "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
    assert_derive_hex(key, "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
                      "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
    crypto_kex_key_free(key);
}

static void test_x25519_rfc7748_5_2_vector_2(void **state)
{
    (void)state;
    crypto_kex_key *key = from_private_hex(
        CRYPTO_GROUP_X25519, "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d");
    assert_derive_hex(key, "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
                      "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
    crypto_kex_key_free(key);
}

/* Section 6.1: Alice and Bob. */
#define X25519_ALICE_PRIV "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define X25519_ALICE_PUB  "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define X25519_BOB_PRIV   "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
#define X25519_BOB_PUB    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
#define X25519_SHARED     "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"

static void test_x25519_rfc7748_6_1_alice_and_bob(void **state)
{
    (void)state;
    crypto_kex_key *alice = from_private_hex(CRYPTO_GROUP_X25519, X25519_ALICE_PRIV);
    crypto_kex_key *bob = from_private_hex(CRYPTO_GROUP_X25519, X25519_BOB_PRIV);
    assert_public_hex(alice, X25519_ALICE_PUB);
    assert_public_hex(bob, X25519_BOB_PUB);
    assert_derive_hex(alice, X25519_BOB_PUB, X25519_SHARED);
    assert_derive_hex(bob, X25519_ALICE_PUB, X25519_SHARED);
    crypto_kex_key_free(alice);
    crypto_kex_key_free(bob);
}

/* u-coordinates of small order: every private key gives an all-zero shared
 * secret with them (the list libsodium refuses, after Bernstein's
 * cr.yp.to/ecdh.html "How do I validate Curve25519 public keys?"). */
static const char *const x25519_low_order[] = {
    /* 0 */
    "0000000000000000000000000000000000000000000000000000000000000000",
    /* 1 */
    "0100000000000000000000000000000000000000000000000000000000000000",
    /* order 8 */
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    /* order 8 */
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    /* p - 1 */
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    /* p, which is 0 */
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    /* p + 1, which is 1 */
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    /* 0 with the top bit set, which X25519 masks off */
    "0000000000000000000000000000000000000000000000000000000000000080",
};

static void test_x25519_rejects_low_order_points(void **state)
{
    (void)state;
    crypto_kex_key *alice = from_private_hex(CRYPTO_GROUP_X25519, X25519_ALICE_PRIV);
    crypto_kex_key *gen = generate_seeded(CRYPTO_GROUP_X25519, 1);
    for (size_t i = 0; i < PETREL_ARRAY_LEN(x25519_low_order); i++) {
        uint8_t peer[32];
        assert_int_equal(unhex(x25519_low_order[i], peer, sizeof(peer)), 32);
        expect_bad_peer(alice, peer, sizeof(peer));
        expect_bad_peer(gen, peer, sizeof(peer));
    }
    crypto_kex_key_free(alice);
    crypto_kex_key_free(gen);
}

static void test_x25519_rejects_wrong_length_peer(void **state)
{
    (void)state;
    crypto_kex_key *alice = from_private_hex(CRYPTO_GROUP_X25519, X25519_ALICE_PRIV);
    uint8_t peer[33];
    unhex(X25519_BOB_PUB, peer, sizeof(peer));
    peer[32] = 0;
    expect_bad_peer(alice, peer, 31);
    expect_bad_peer(alice, peer, 33);
    expect_bad_peer(alice, peer, 0);
    expect_bad_peer(alice, peer, 65);
    crypto_kex_key_free(alice);
}

static void test_x25519_from_private_rejects_wrong_size(void **state)
{
    (void)state;
    const crypto_kex_alg *alg = kex_alg(CRYPTO_GROUP_X25519);
    uint8_t priv[33] = {1};
    crypto_kex_key *key = NULL;
    assert_int_equal(alg->from_private(alg, priv, 31, &key), PETREL_ERR_KEY_PARSE);
    assert_int_equal(alg->from_private(alg, priv, 33, &key), PETREL_ERR_KEY_PARSE);
    assert_int_equal(alg->from_private(alg, priv, 0, &key), PETREL_ERR_KEY_PARSE);
}

/* ---- NIST curves: RFC 5903 section 8 ---- */

/* Section 8.1, 256-bit random ECP group. Public keys are 04 || x || y; the
 * shared secret is the x-coordinate of i * gr. */
#define P256_I "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433"
#define P256_GI                                                        \
    "04"                                                               \
    "dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180" \
    "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3"
#define P256_R "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53"
#define P256_GR                                                        \
    "04"                                                               \
    "d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63" \
    "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab"
#define P256_GIR "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de"

static void test_p256_ecdh_rfc5903_8_1(void **state)
{
    (void)state;
    crypto_kex_key *i = from_private_hex(CRYPTO_GROUP_SECP256R1, P256_I);
    crypto_kex_key *r = from_private_hex(CRYPTO_GROUP_SECP256R1, P256_R);
    assert_public_hex(i, P256_GI);
    assert_public_hex(r, P256_GR);
    assert_derive_hex(i, P256_GR, P256_GIR);
    assert_derive_hex(r, P256_GI, P256_GIR);
    crypto_kex_key_free(i);
    crypto_kex_key_free(r);
}

/* Section 8.2, 384-bit random ECP group. */
#define P384_I                                                         \
    "099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655" \
    "e35b538041e649ee3faef896783ab194"
#define P384_GI                                                        \
    "04"                                                               \
    "667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6" \
    "de3ac808acb4bdb4c88732aee95f41aa"                                 \
    "9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38e" \
    "eb9fcff3c2c947dae69b4c634573a81c"
#define P384_R                                                         \
    "41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942" \
    "e0308312916b8ed2960e4bd55a7448fc"
#define P384_GR                                                        \
    "04"                                                               \
    "e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d" \
    "0d1ac43a0336def96fda41d0774a3571"                                 \
    "dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1ff" \
    "f83fa40142209dff5eaad96db9e6386c"
#define P384_GIR                                                       \
    "11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4" \
    "d603135569b9e9d09cf5d4a270f59746"

static void test_p384_ecdh_rfc5903_8_2(void **state)
{
    (void)state;
    crypto_kex_key *i = from_private_hex(CRYPTO_GROUP_SECP384R1, P384_I);
    crypto_kex_key *r = from_private_hex(CRYPTO_GROUP_SECP384R1, P384_R);
    assert_public_hex(i, P384_GI);
    assert_public_hex(r, P384_GR);
    assert_derive_hex(i, P384_GR, P384_GIR);
    assert_derive_hex(r, P384_GI, P384_GIR);
    crypto_kex_key_free(i);
    crypto_kex_key_free(r);
}

/* The base points of SEC 2 v2 section 2.4.2 / 2.5.1: the private scalar 1
 * gives G, and n - 1 (the largest valid scalar) gives -G, same x. */
#define P256_N         "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"
#define P256_N_MINUS_1 "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632550"
#define P256_N_PLUS_1  "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632552"
#define P256_G                                                         \
    "04"                                                               \
    "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296" \
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"
#define P384_N                                                         \
    "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf" \
    "581a0db248b0a77aecec196accc52973"
#define P384_G                                                         \
    "04"                                                               \
    "aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a38" \
    "5502f25dbf55296c3a545e3872760ab7"                                 \
    "3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c0" \
    "0a60b1ce1d7e819d7a431d7c90ea0e5f"

static void test_p256_from_private_scalar_range_ends(void **state)
{
    (void)state;
    crypto_kex_key *one = from_private_hex(
        CRYPTO_GROUP_SECP256R1, "0000000000000000000000000000000000000000000000000000000000000001");
    assert_public_hex(one, P256_G);
    crypto_kex_key *last = from_private_hex(CRYPTO_GROUP_SECP256R1, P256_N_MINUS_1);
    uint8_t g[65], neg_g[CRYPTO_KEX_MAX_PUBLIC_LEN + 8];
    unhex(P256_G, g, sizeof(g));
    public_key(last, neg_g, sizeof(neg_g));
    assert_memory_equal(neg_g, g, 33); /* 04 || x */
    assert_memory_not_equal(neg_g + 33, g + 33, 32);
    crypto_kex_key_free(one);
    crypto_kex_key_free(last);
}

static void test_p384_from_private_scalar_one_is_generator(void **state)
{
    (void)state;
    const crypto_kex_alg *alg = kex_alg(CRYPTO_GROUP_SECP384R1);
    uint8_t priv[48] = {0};
    priv[47] = 1;
    crypto_kex_key *one = NULL;
    assert_int_equal(alg->from_private(alg, priv, sizeof(priv), &one), 0);
    assert_public_hex(one, P384_G);
    crypto_kex_key_free(one);
}

static void expect_key_parse(crypto_group_id id, const uint8_t *priv, size_t len)
{
    const crypto_kex_alg *alg = kex_alg(id);
    crypto_kex_key *key = NULL;
    assert_int_equal(alg->from_private(alg, priv, len, &key), PETREL_ERR_KEY_PARSE);
}

static void test_p256_from_private_rejects_out_of_range_scalars(void **state)
{
    (void)state;
    uint8_t priv[33];
    memset(priv, 0, sizeof(priv));
    expect_key_parse(CRYPTO_GROUP_SECP256R1, priv, 32); /* 0 */
    unhex(P256_N, priv, sizeof(priv));
    expect_key_parse(CRYPTO_GROUP_SECP256R1, priv, 32); /* n */
    unhex(P256_N_PLUS_1, priv, sizeof(priv));
    expect_key_parse(CRYPTO_GROUP_SECP256R1, priv, 32); /* n + 1 */
    memset(priv, 0xff, sizeof(priv));
    expect_key_parse(CRYPTO_GROUP_SECP256R1, priv, 32); /* 2^256 - 1 */
    /* Wrong sizes, even for a value that would be in range. */
    unhex(P256_I, priv, sizeof(priv));
    expect_key_parse(CRYPTO_GROUP_SECP256R1, priv, 31);
    expect_key_parse(CRYPTO_GROUP_SECP256R1, priv, 0);
}

static void test_p384_from_private_rejects_out_of_range_scalars(void **state)
{
    (void)state;
    uint8_t priv[48];
    memset(priv, 0, sizeof(priv));
    expect_key_parse(CRYPTO_GROUP_SECP384R1, priv, 48); /* 0 */
    unhex(P384_N, priv, sizeof(priv));
    expect_key_parse(CRYPTO_GROUP_SECP384R1, priv, 48); /* n */
    unhex(P384_I, priv, sizeof(priv));
    expect_key_parse(CRYPTO_GROUP_SECP384R1, priv, 32); /* a P-256-sized scalar */
}

/* Invalid encodings of a peer point, built from a valid one. */
static void check_nist_bad_peers(crypto_group_id id, const char *own_priv, const char *peer_hex)
{
    crypto_kex_key *key = from_private_hex(id, own_priv);
    size_t n = kex_alg(id)->public_len;
    size_t coord = (n - 1) / 2;
    uint8_t good[CRYPTO_KEX_MAX_PUBLIC_LEN + 1], bad[CRYPTO_KEX_MAX_PUBLIC_LEN + 1];
    assert_int_equal(unhex(peer_hex, good, sizeof(good)), n);

    /* Not on the curve: one byte of y changed. */
    memcpy(bad, good, n);
    bad[n - 1] ^= 0x01;
    expect_bad_peer(key, bad, n);
    memcpy(bad, good, n);
    bad[1 + coord] ^= 0x80;
    expect_bad_peer(key, bad, n);

    /* Wrong lengths: truncated, one byte more, the bare x, nothing. */
    memcpy(bad, good, n);
    bad[n] = 0;
    expect_bad_peer(key, bad, n - 1);
    expect_bad_peer(key, bad, n + 1);
    expect_bad_peer(key, bad, 1 + coord);
    expect_bad_peer(key, bad, 0);

    /* The compressed form 02/03 || x, which TLS 1.3 does not allow. */
    memcpy(bad, good, 1 + coord);
    bad[0] = (uint8_t)(0x02 | (good[n - 1] & 1));
    expect_bad_peer(key, bad, 1 + coord);
    /* Other prefix bytes on an otherwise valid point. */
    static const uint8_t prefixes[] = {0x00, 0x02, 0x03, 0x05, 0x06, 0x07};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(prefixes); i++) {
        memcpy(bad, good, n);
        bad[0] = prefixes[i];
        expect_bad_peer(key, bad, n);
    }

    /* All zeros, and 04 followed by zeros (the point at infinity has no
     * uncompressed encoding). */
    memset(bad, 0, n);
    expect_bad_peer(key, bad, n);
    bad[0] = 0x04;
    expect_bad_peer(key, bad, n);
    /* Coordinates that are not field elements. */
    memset(bad, 0xff, n);
    bad[0] = 0x04;
    expect_bad_peer(key, bad, n);

    /* The valid point still works after all that. */
    uint8_t out[CRYPTO_KEX_MAX_SECRET_LEN];
    assert_int_equal(key->alg->derive(key, good, n, out), 0);
    crypto_kex_key_free(key);
}

static void test_p256_rejects_invalid_peer_keys(void **state)
{
    (void)state;
    check_nist_bad_peers(CRYPTO_GROUP_SECP256R1, P256_I, P256_GR);
}

static void test_p384_rejects_invalid_peer_keys(void **state)
{
    (void)state;
    check_nist_bad_peers(CRYPTO_GROUP_SECP384R1, P384_I, P384_GR);
}

/* ---- generation ---- */

static void check_generate(crypto_group_id id)
{
    uint8_t pub_a1[CRYPTO_KEX_MAX_PUBLIC_LEN + 8], pub_a2[CRYPTO_KEX_MAX_PUBLIC_LEN + 8],
        pub_b[CRYPTO_KEX_MAX_PUBLIC_LEN + 8];
    crypto_kex_key *a1 = generate_seeded(id, 0x0123456789abcdefu);
    crypto_kex_key *a2 = generate_seeded(id, 0x0123456789abcdefu);
    crypto_kex_key *b = generate_seeded(id, 0xfedcba9876543210u);
    size_t n = public_key(a1, pub_a1, sizeof(pub_a1));
    public_key(a2, pub_a2, sizeof(pub_a2));
    public_key(b, pub_b, sizeof(pub_b));

    /* Same seed, same key; another seed, another key. */
    assert_memory_equal(pub_a1, pub_a2, n);
    assert_memory_not_equal(pub_a1, pub_b, n);
    if (id != CRYPTO_GROUP_X25519)
        assert_int_equal(pub_a1[0], 0x04);

    /* Both directions agree, and the secret is not all zero. */
    uint8_t s_ab[CRYPTO_KEX_MAX_SECRET_LEN], s_ba[CRYPTO_KEX_MAX_SECRET_LEN];
    size_t secret_len = a1->alg->secret_len;
    assert_int_equal(a1->alg->derive(a1, pub_b, n, s_ab), 0);
    assert_int_equal(b->alg->derive(b, pub_a1, n, s_ba), 0);
    assert_memory_equal(s_ab, s_ba, secret_len);
    bool zero = true;
    for (size_t i = 0; i < secret_len; i++)
        zero = zero && s_ab[i] == 0;
    assert_false(zero);

    crypto_kex_key_free(a1);
    crypto_kex_key_free(a2);
    crypto_kex_key_free(b);
}

static void test_x25519_generate_is_reproducible_from_rng(void **state)
{
    (void)state;
    check_generate(CRYPTO_GROUP_X25519);
}

static void test_p256_generate_is_reproducible_from_rng(void **state)
{
    (void)state;
    check_generate(CRYPTO_GROUP_SECP256R1);
}

static void test_p384_generate_is_reproducible_from_rng(void **state)
{
    (void)state;
    check_generate(CRYPTO_GROUP_SECP384R1);
}

static void test_generate_fails_when_rng_fails(void **state)
{
    (void)state;
    static const crypto_group_id ids[] = {CRYPTO_GROUP_X25519, CRYPTO_GROUP_SECP256R1,
                                          CRYPTO_GROUP_SECP384R1};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(ids); i++) {
        const crypto_kex_alg *alg = kex_alg(ids[i]);
        crypto_kex_key *key = NULL;
        assert_true(alg->generate(alg, failing_rng, NULL, &key) < 0);
    }
}

static void test_kex_key_free_accepts_null(void **state)
{
    (void)state;
    crypto_kex_key_free(NULL);
    kex_alg(CRYPTO_GROUP_X25519)->key_free(NULL);
    kex_alg(CRYPTO_GROUP_SECP256R1)->key_free(NULL);
    kex_alg(CRYPTO_GROUP_SECP384R1)->key_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kex_parameters),
        cmocka_unit_test(test_x25519_rfc7748_5_2_vector_1),
        cmocka_unit_test(test_x25519_rfc7748_5_2_vector_2),
        cmocka_unit_test(test_x25519_rfc7748_6_1_alice_and_bob),
        cmocka_unit_test(test_x25519_rejects_low_order_points),
        cmocka_unit_test(test_x25519_rejects_wrong_length_peer),
        cmocka_unit_test(test_x25519_from_private_rejects_wrong_size),
        cmocka_unit_test(test_p256_ecdh_rfc5903_8_1),
        cmocka_unit_test(test_p384_ecdh_rfc5903_8_2),
        cmocka_unit_test(test_p256_from_private_scalar_range_ends),
        cmocka_unit_test(test_p384_from_private_scalar_one_is_generator),
        cmocka_unit_test(test_p256_from_private_rejects_out_of_range_scalars),
        cmocka_unit_test(test_p384_from_private_rejects_out_of_range_scalars),
        cmocka_unit_test(test_p256_rejects_invalid_peer_keys),
        cmocka_unit_test(test_p384_rejects_invalid_peer_keys),
        cmocka_unit_test(test_x25519_generate_is_reproducible_from_rng),
        cmocka_unit_test(test_p256_generate_is_reproducible_from_rng),
        cmocka_unit_test(test_p384_generate_is_reproducible_from_rng),
        cmocka_unit_test(test_generate_fails_when_rng_fails),
        cmocka_unit_test(test_kex_key_free_accepts_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
