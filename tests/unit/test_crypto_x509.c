/*
 * Conformance tests for the provider's key loading, certificate decoding,
 * trust store, path validation and parsed certificate view, over the test
 * PKI in tests/pki (see tests/pki/README.md for what each file is).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/provider.h"

#define PKI_DIR PETREL_SOURCE_DIR "/tests/pki/"

/* Times inside and outside the fixtures' validity (Unix seconds, UTC). */
#define T_2024_01_01 1704067200 /* notBefore of every good certificate */
#define T_2124_01_01 4859740800 /* notAfter of every good certificate */
#define T_2020_01_01 1577836800 /* expired.crt: 2020-01-01 .. 2021-01-01 */
#define T_2021_01_01 1609459200
#define T_2090_01_01 3786912000 /* notyet.crt: 2090-01-01 .. 2100-01-01 */
#define T_2100_01_01 4102444800
#define T_2030_06_01 1906502400 /* a time every good certificate covers */

/* ---- helpers ---- */

static const crypto_provider *prov(void)
{
    const crypto_provider *p = crypto_default_provider();
    assert_non_null(p);
    return p;
}

typedef struct blob {
    uint8_t *data;
    size_t len;
} blob;

static blob read_pki(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s%s", PKI_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    blob b = {NULL, 0};
    size_t cap = 0;
    for (;;) {
        if (b.len == cap) {
            cap = cap ? cap * 2 : 4096;
            b.data = realloc(b.data, cap);
            assert_non_null(b.data);
        }
        size_t n = fread(b.data + b.len, 1, cap - b.len, f);
        if (n == 0)
            break;
        b.len += n;
    }
    fclose(f);
    return b;
}

static void blob_free(blob *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

/* Certificates collected by cert_decode. */
#define MAX_CERTS 10
typedef struct cert_list {
    uint8_t *der[MAX_CERTS];
    size_t len[MAX_CERTS];
    size_t count;
    int stop_at; /* return an error on this call (1-based), 0: never */
} cert_list;

static int collect_cert(void *ref, const uint8_t *der, size_t len)
{
    cert_list *list = ref;
    if (list->stop_at != 0 && list->count + 1 == (size_t)list->stop_at)
        return -123;
    assert_true(list->count < MAX_CERTS);
    list->der[list->count] = malloc(len);
    assert_non_null(list->der[list->count]);
    memcpy(list->der[list->count], der, len);
    list->len[list->count] = len;
    list->count++;
    return 0;
}

static void cert_list_free(cert_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->der[i]);
    memset(list, 0, sizeof(*list));
}

static int decode_mem(const uint8_t *data, size_t len, cert_list *list)
{
    return prov()->cert_decode(data, len, collect_cert, list);
}

/* Decodes a fixture that must hold at least one certificate. */
static void decode_pki(const char *name, cert_list *list)
{
    blob b = read_pki(name);
    assert_int_equal(decode_mem(b.data, b.len, list), 0);
    assert_true(list->count > 0);
    blob_free(&b);
}

static int load_private_pki(const char *name, const char *password, crypto_pkey **key)
{
    blob b = read_pki(name);
    *key = NULL;
    int rc = prov()->pkey_load_private(b.data, b.len, password, key);
    blob_free(&b);
    if (rc == 0)
        assert_non_null(*key);
    return rc;
}

static int load_public_pki(const char *name, crypto_pkey **key)
{
    blob b = read_pki(name);
    *key = NULL;
    int rc = prov()->pkey_load_public(b.data, b.len, key);
    blob_free(&b);
    if (rc == 0)
        assert_non_null(*key);
    return rc;
}

/* The public key of the first certificate in a fixture. */
static int cert_key_pki(const char *name, crypto_pkey **key)
{
    cert_list list = {0};
    decode_pki(name, &list);
    *key = NULL;
    int rc = prov()->cert_public_key(list.der[0], list.len[0], key);
    cert_list_free(&list);
    return rc;
}

static crypto_pkey *cert_key(const char *name)
{
    crypto_pkey *key;
    assert_int_equal(cert_key_pki(name, &key), 0);
    assert_non_null(key);
    return key;
}

static const char sign_message[] = "petrel x509 test message";

/* priv signs and pub verifies, under scheme. */
static void check_sign_verify(const crypto_pkey *priv, const crypto_pkey *pub,
                              crypto_sig_scheme scheme)
{
    uint8_t sig[CRYPTO_SIG_MAX_LEN];
    size_t sig_len = 0;
    assert_int_equal(prov()->sign(priv, scheme, (const uint8_t *)sign_message, strlen(sign_message),
                                  sig, sizeof(sig), &sig_len),
                     0);
    assert_int_equal(prov()->verify(pub, scheme, (const uint8_t *)sign_message,
                                    strlen(sign_message), sig, sig_len),
                     0);
}

static bool contains(const uint8_t *hay, size_t hay_len, const uint8_t *needle, size_t needle_len)
{
    for (size_t i = 0; i + needle_len <= hay_len; i++) {
        if (memcmp(hay + i, needle, needle_len) == 0)
            return true;
    }
    return false;
}

/* ---- private keys: every encoding ---- */

typedef struct key_case {
    const char *file;
    const char *password;
    const char *cert;
    crypto_key_type type;
    crypto_sig_scheme scheme;
} key_case;

static void test_private_key_encodings_load_and_match_their_certificate(void **state)
{
    (void)state;
    static const key_case cases[] = {
        {"ec-server.key", NULL, "ec-server.crt", CRYPTO_KEY_EC_P256,
         CRYPTO_SIG_ECDSA_SECP256R1_SHA256},
        {"ec-server.sec1.der", NULL, "ec-server.crt", CRYPTO_KEY_EC_P256,
         CRYPTO_SIG_ECDSA_SECP256R1_SHA256},
        {"ec-server.pk8.pem", NULL, "ec-server.crt", CRYPTO_KEY_EC_P256,
         CRYPTO_SIG_ECDSA_SECP256R1_SHA256},
        {"ec-server.pk8.der", NULL, "ec-server.crt", CRYPTO_KEY_EC_P256,
         CRYPTO_SIG_ECDSA_SECP256R1_SHA256},
        {"ec-server.enc.pem", "petrel-test", "ec-server.crt", CRYPTO_KEY_EC_P256,
         CRYPTO_SIG_ECDSA_SECP256R1_SHA256},
        {"ec-server.enc.der", "petrel-test", "ec-server.crt", CRYPTO_KEY_EC_P256,
         CRYPTO_SIG_ECDSA_SECP256R1_SHA256},
        /* A password given for an unencrypted key is not used. */
        {"ec-server.key", "unused", "ec-server.crt", CRYPTO_KEY_EC_P256,
         CRYPTO_SIG_ECDSA_SECP256R1_SHA256},
        {"ec-client.key", NULL, "ec-client.crt", CRYPTO_KEY_EC_P256,
         CRYPTO_SIG_ECDSA_SECP256R1_SHA256},
        {"ec-server-p384.key", NULL, "ec-server-p384.crt", CRYPTO_KEY_EC_P384,
         CRYPTO_SIG_ECDSA_SECP384R1_SHA384},
        {"rsa-server.key", NULL, "rsa-server.crt", CRYPTO_KEY_RSA, CRYPTO_SIG_RSA_PSS_RSAE_SHA256},
        {"rsa-server.pk1.der", NULL, "rsa-server.crt", CRYPTO_KEY_RSA, CRYPTO_SIG_RSA_PKCS1_SHA256},
        {"rsa-server.pk8.pem", NULL, "rsa-server.crt", CRYPTO_KEY_RSA,
         CRYPTO_SIG_RSA_PSS_RSAE_SHA384},
    };
    for (size_t i = 0; i < PETREL_ARRAY_LEN(cases); i++) {
        crypto_pkey *priv, *pub = cert_key(cases[i].cert);
        print_message("%s\n", cases[i].file);
        assert_int_equal(load_private_pki(cases[i].file, cases[i].password, &priv), 0);
        assert_int_equal(prov()->pkey_type(priv), cases[i].type);
        assert_int_equal(prov()->pkey_type(pub), cases[i].type);
        assert_true(prov()->pkey_public_equal(priv, pub));
        assert_true(prov()->pkey_public_equal(pub, priv));
        check_sign_verify(priv, pub, cases[i].scheme);
        prov()->pkey_free(priv);
        prov()->pkey_free(pub);
    }
}

static void test_key_of_another_certificate_is_not_equal(void **state)
{
    (void)state;
    crypto_pkey *priv, *server = cert_key("ec-server.crt"), *rsa = cert_key("rsa-server.crt");
    assert_int_equal(load_private_pki("ec-client.key", NULL, &priv), 0);
    assert_false(prov()->pkey_public_equal(priv, server));
    assert_false(prov()->pkey_public_equal(server, priv));
    /* Different key types compare unequal too. */
    assert_false(prov()->pkey_public_equal(server, rsa));
    assert_true(prov()->pkey_public_equal(server, server));
    prov()->pkey_free(priv);
    prov()->pkey_free(server);
    prov()->pkey_free(rsa);
}

static void test_encrypted_key_with_missing_or_wrong_password(void **state)
{
    (void)state;
    static const char *const files[] = {"ec-server.enc.pem", "ec-server.enc.der"};
    static const char *const passwords[] = {NULL, "", "wrong", "petrel-tesT", "petrel-test "};
    for (size_t f = 0; f < PETREL_ARRAY_LEN(files); f++) {
        for (size_t p = 0; p < PETREL_ARRAY_LEN(passwords); p++) {
            crypto_pkey *key;
            assert_int_equal(load_private_pki(files[f], passwords[p], &key),
                             PETREL_ERR_WRONG_PASSWORD);
            assert_null(key);
        }
        /* The public half of an encrypted key needs the password too. */
        crypto_pkey *key;
        assert_int_equal(load_public_pki(files[f], &key), PETREL_ERR_WRONG_PASSWORD);
    }
}

/* A PKCS#1/SEC1 key with RFC 1421 encryption headers ("Proc-Type: 4,
 * ENCRYPTED"), as `openssl ec -aes128` writes it; password petrel-test. */
static const char legacy_encrypted_key[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "Proc-Type: 4,ENCRYPTED\n"
    "DEK-Info: AES-128-CBC,281F01B8C6238A86B4E890F0ABB7237A\n"
    "\n"
    "tLj4KOvHquPzkcd9XgWPZQc2yKJSfmqpSWtGjYsPiHPMIMnBYpPFEn74iKlDVyV5\n"
    "0ZfUjFX2adDE/TR26+EJkxCVlP0Quz2Bry7RteASy4FyFS//H4uvz0GPCnbs/TiY\n"
    "heSzq02fc+8BcMckWlSjgcZF71okSlO9PVwCOp3M7ZQ=\n"
    "-----END EC PRIVATE KEY-----\n";
static const char legacy_encrypted_key_public[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAExsSoxm+rGmvkDjRp7DgpMqkTUjyq\n"
    "nY/scKev5L055rH+/yRXWqhGiTi8rRjFqEZMwPRMPHOlX5oqVwwJ/8I0+w==\n"
    "-----END PUBLIC KEY-----\n";

static void test_legacy_encrypted_pem_key(void **state)
{
    (void)state;
    const uint8_t *data = (const uint8_t *)legacy_encrypted_key;
    size_t len = strlen(legacy_encrypted_key);
    crypto_pkey *priv = NULL, *pub = NULL;
    assert_int_equal(prov()->pkey_load_private(data, len, NULL, &priv), PETREL_ERR_WRONG_PASSWORD);
    assert_int_equal(prov()->pkey_load_private(data, len, "wrong", &priv),
                     PETREL_ERR_WRONG_PASSWORD);
    assert_int_equal(prov()->pkey_load_private(data, len, "petrel-test", &priv), 0);
    assert_int_equal(prov()->pkey_load_public((const uint8_t *)legacy_encrypted_key_public,
                                              strlen(legacy_encrypted_key_public), &pub),
                     0);
    assert_true(prov()->pkey_public_equal(priv, pub));
    check_sign_verify(priv, pub, CRYPTO_SIG_ECDSA_SECP256R1_SHA256);
    prov()->pkey_free(priv);
    prov()->pkey_free(pub);
}

static void test_data_that_is_not_a_private_key(void **state)
{
    (void)state;
    /* Not PEM, PEM without a key, a public key, truncated DER. */
    static const char *const files[] = {"garbage.pem",   "notpem.txt",        "ec-server.crt",
                                        "ec-server.der", "ec-server.pub.pem", "ec-server.pub.der",
                                        "truncated.der", "ca-all.pem"};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(files); i++) {
        crypto_pkey *key;
        print_message("%s\n", files[i]);
        assert_int_equal(load_private_pki(files[i], NULL, &key), PETREL_ERR_KEY_PARSE);
        assert_int_equal(load_private_pki(files[i], "petrel-test", &key), PETREL_ERR_KEY_PARSE);
    }
    crypto_pkey *key = NULL;
    static const uint8_t one = 0x30;
    assert_int_equal(prov()->pkey_load_private(&one, 0, NULL, &key), PETREL_ERR_KEY_PARSE);
    assert_int_equal(prov()->pkey_load_private(&one, 1, NULL, &key), PETREL_ERR_KEY_PARSE);

    /* Truncated and corrupted key data. */
    blob b = read_pki("ec-server.pk8.der");
    assert_int_equal(prov()->pkey_load_private(b.data, b.len - 1, NULL, &key),
                     PETREL_ERR_KEY_PARSE);
    blob_free(&b);
    b = read_pki("ec-server.key");
    assert_int_equal(prov()->pkey_load_private(b.data, b.len / 2, NULL, &key),
                     PETREL_ERR_KEY_PARSE);
    blob_free(&b);
    static const char bad_base64[] = "-----BEGIN PRIVATE KEY-----\n"
                                     "!!!! not base64 !!!!\n"
                                     "-----END PRIVATE KEY-----\n";
    assert_int_equal(
        prov()->pkey_load_private((const uint8_t *)bad_base64, strlen(bad_base64), NULL, &key),
        PETREL_ERR_KEY_PARSE);
    assert_null(key);
}

static void test_unsupported_and_insecure_keys(void **state)
{
    (void)state;
    crypto_pkey *key;
    assert_int_equal(load_private_pki("ed25519.key", NULL, &key), PETREL_ERR_UNSUPPORTED);
    assert_int_equal(load_public_pki("ed25519.key", &key), PETREL_ERR_UNSUPPORTED);
    assert_int_equal(cert_key_pki("ed25519.crt", &key), PETREL_ERR_UNSUPPORTED);
    assert_int_equal(load_private_pki("rsa-1024.key", NULL, &key), PETREL_ERR_INSECURE);
    assert_int_equal(load_public_pki("rsa-1024.key", &key), PETREL_ERR_INSECURE);
    assert_int_equal(cert_key_pki("rsa-1024.crt", &key), PETREL_ERR_INSECURE);
}

/* ---- public keys ---- */

static void test_public_key_inputs(void **state)
{
    (void)state;
    /* SPKI PEM and DER, and private keys giving their public half. */
    static const char *const ec_files[] = {"ec-server.pub.pem", "ec-server.pub.der",
                                           "ec-server.key",     "ec-server.sec1.der",
                                           "ec-server.pk8.pem", "ec-server.pk8.der"};
    crypto_pkey *server = cert_key("ec-server.crt");
    for (size_t i = 0; i < PETREL_ARRAY_LEN(ec_files); i++) {
        crypto_pkey *pub;
        print_message("%s\n", ec_files[i]);
        assert_int_equal(load_public_pki(ec_files[i], &pub), 0);
        assert_int_equal(prov()->pkey_type(pub), CRYPTO_KEY_EC_P256);
        assert_true(prov()->pkey_public_equal(pub, server));
        /* Only the public half was kept. */
        uint8_t sig[CRYPTO_SIG_MAX_LEN];
        size_t sig_len;
        assert_int_equal(prov()->sign(pub, CRYPTO_SIG_ECDSA_SECP256R1_SHA256, (const uint8_t *)"m",
                                      1, sig, sizeof(sig), &sig_len),
                         PETREL_ERR_KEY_MISMATCH);
        prov()->pkey_free(pub);
    }
    prov()->pkey_free(server);

    crypto_pkey *rsa = cert_key("rsa-server.crt"), *pub;
    assert_int_equal(load_public_pki("rsa-server.key", &pub), 0);
    assert_int_equal(prov()->pkey_type(pub), CRYPTO_KEY_RSA);
    assert_true(prov()->pkey_public_equal(pub, rsa));
    prov()->pkey_free(pub);
    prov()->pkey_free(rsa);

    static const char *const not_keys[] = {"garbage.pem", "notpem.txt", "ec-server.crt",
                                           "truncated.der"};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(not_keys); i++)
        assert_int_equal(load_public_pki(not_keys[i], &pub), PETREL_ERR_KEY_PARSE);
}

static void test_pkey_spki_round_trips(void **state)
{
    (void)state;
    blob spki = read_pki("ec-server.pub.der");
    crypto_pkey *priv;
    assert_int_equal(load_private_pki("ec-server.key", NULL, &priv), 0);
    uint8_t out[600];
    size_t len = 0;
    assert_int_equal(prov()->pkey_spki(priv, out, sizeof(out), &len), 0);
    assert_int_equal(len, spki.len);
    assert_memory_equal(out, spki.data, len);
    assert_int_equal(prov()->pkey_spki(priv, out, spki.len - 1, &len), PETREL_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(prov()->pkey_spki(priv, out, spki.len, &len), 0);

    /* What pkey_spki writes loads back as the same key. */
    crypto_pkey *pub;
    assert_int_equal(prov()->pkey_load_public(out, len, &pub), 0);
    assert_true(prov()->pkey_public_equal(pub, priv));
    prov()->pkey_free(pub);
    prov()->pkey_free(priv);
    blob_free(&spki);

    crypto_pkey *rsa = cert_key("rsa-server.crt");
    assert_int_equal(prov()->pkey_spki(rsa, out, sizeof(out), &len), 0);
    assert_true(len > 256 && len < 300);
    prov()->pkey_free(rsa);
}

/* ---- cert_decode ---- */

static void expect_same_der(const cert_list *list, size_t index, const char *der_file)
{
    blob b = read_pki(der_file);
    assert_int_equal(list->len[index], b.len);
    assert_memory_equal(list->der[index], b.data, b.len);
    blob_free(&b);
}

static void test_cert_decode_pem_and_der(void **state)
{
    (void)state;
    static const char *const two_cert_inputs[] = {"ec-server-chain.pem", "ec-server-chain.der"};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(two_cert_inputs); i++) {
        cert_list list = {0};
        decode_pki(two_cert_inputs[i], &list);
        assert_int_equal(list.count, 2);
        expect_same_der(&list, 0, "ec-server.der");
        expect_same_der(&list, 1, "ec-int.der");
        cert_list_free(&list);
    }
    static const struct {
        const char *file;
        size_t count;
    } counts[] = {{"ec-server.der", 1}, {"ec-server.crt", 1},    {"rsa-server-chain.pem", 3},
                  {"ca-all.pem", 2},    {"deep-chain.pem", 6},   {"ec-int.der", 1},
                  {"badsig.crt", 1},    {"badsig-chain.pem", 2}, {"ed25519.crt", 1},
                  {"rsa-1024.crt", 1},  {"cadir/ec-root.pem", 1}};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(counts); i++) {
        cert_list list = {0};
        decode_pki(counts[i].file, &list);
        assert_int_equal(list.count, counts[i].count);
        cert_list_free(&list);
    }
}

static void test_cert_decode_skips_other_pem_blocks(void **state)
{
    (void)state;
    /* A key, text, a certificate, a public key, another certificate. */
    blob key = read_pki("ec-server.key"), chain = read_pki("ec-server-chain.pem");
    blob pub = read_pki("ec-server.pub.pem");
    size_t len = key.len + chain.len + pub.len + 64;
    uint8_t *mixed = malloc(len);
    assert_non_null(mixed);
    size_t pos = 0;
    memcpy(mixed + pos, key.data, key.len);
    pos += key.len;
    static const char text[] = "some words between blocks\n";
    memcpy(mixed + pos, text, strlen(text));
    pos += strlen(text);
    /* Split the chain: first block, the public key, then the rest. */
    const char *end_marker = "-----END CERTIFICATE-----\n";
    uint8_t *first_end = NULL;
    for (size_t i = 0; i + strlen(end_marker) <= chain.len; i++) {
        if (memcmp(chain.data + i, end_marker, strlen(end_marker)) == 0) {
            first_end = chain.data + i + strlen(end_marker);
            break;
        }
    }
    assert_non_null(first_end);
    size_t first_len = (size_t)(first_end - chain.data);
    memcpy(mixed + pos, chain.data, first_len);
    pos += first_len;
    memcpy(mixed + pos, pub.data, pub.len);
    pos += pub.len;
    memcpy(mixed + pos, first_end, chain.len - first_len);
    pos += chain.len - first_len;

    cert_list list = {0};
    assert_int_equal(decode_mem(mixed, pos, &list), 0);
    assert_int_equal(list.count, 2);
    expect_same_der(&list, 0, "ec-server.der");
    expect_same_der(&list, 1, "ec-int.der");
    cert_list_free(&list);
    free(mixed);
    blob_free(&key);
    blob_free(&chain);
    blob_free(&pub);
}

static void test_cert_decode_rejects_malformed_input(void **state)
{
    (void)state;
    /* Not a certificate: random bytes in a CERTIFICATE block, plain text,
     * truncated DER, PEM with no CERTIFICATE block. */
    static const char *const files[] = {
        "garbage.pem",       "notpem.txt",        "truncated.der",    "ec-server.key",
        "ec-server.pub.pem", "ec-server.pub.der", "ec-server.pk8.der"};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(files); i++) {
        blob b = read_pki(files[i]);
        cert_list list = {0};
        print_message("%s\n", files[i]);
        assert_int_equal(decode_mem(b.data, b.len, &list), PETREL_ERR_CERT_PARSE);
        assert_int_equal(list.count, 0);
        blob_free(&b);
    }
    cert_list list = {0};
    static const uint8_t empty = 0;
    assert_int_equal(decode_mem(&empty, 0, &list), PETREL_ERR_CERT_PARSE);

    /* A good certificate followed by one bad byte, or by a truncated
     * one: nothing is handed out, not even the good first certificate. */
    blob chain = read_pki("ec-server-chain.der");
    uint8_t *longer = malloc(chain.len + 1);
    assert_non_null(longer);
    memcpy(longer, chain.data, chain.len);
    longer[chain.len] = 0x30;
    assert_int_equal(decode_mem(longer, chain.len + 1, &list), PETREL_ERR_CERT_PARSE);
    assert_int_equal(decode_mem(chain.data, chain.len - 1, &list), PETREL_ERR_CERT_PARSE);
    assert_int_equal(list.count, 0);
    free(longer);
    blob_free(&chain);

    /* A good PEM certificate and then the garbage block. */
    blob good = read_pki("ec-server.crt"), bad = read_pki("garbage.pem");
    uint8_t *both = malloc(good.len + bad.len);
    assert_non_null(both);
    memcpy(both, good.data, good.len);
    memcpy(both + good.len, bad.data, bad.len);
    assert_int_equal(decode_mem(both, good.len + bad.len, &list), PETREL_ERR_CERT_PARSE);
    /* A CERTIFICATE block cut off before its END line. */
    assert_int_equal(decode_mem(both, good.len - 30, &list), PETREL_ERR_CERT_PARSE);
    assert_int_equal(list.count, 0);
    free(both);
    blob_free(&good);
    blob_free(&bad);
}

static void test_cert_decode_stops_at_callback_error(void **state)
{
    (void)state;
    static const char *const files[] = {"rsa-server-chain.pem", "ec-server-chain.der"};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(files); i++) {
        blob b = read_pki(files[i]);
        cert_list list = {.stop_at = 2};
        assert_int_equal(decode_mem(b.data, b.len, &list), -123);
        assert_int_equal(list.count, 1);
        cert_list_free(&list);
        blob_free(&b);
    }
}

/* ---- trust store ---- */

static crypto_trust *trust_from(const char *const *files, size_t n)
{
    crypto_trust *trust = NULL;
    assert_int_equal(prov()->trust_new(&trust), 0);
    assert_non_null(trust);
    for (size_t i = 0; i < n; i++) {
        cert_list list = {0};
        decode_pki(files[i], &list);
        for (size_t j = 0; j < list.count; j++)
            assert_int_equal(prov()->trust_add(trust, list.der[j], list.len[j]), 0);
        cert_list_free(&list);
    }
    return trust;
}

static crypto_trust *trust_all(void)
{
    static const char *const files[] = {"ca-all.pem"};
    return trust_from(files, 1);
}

static void test_trust_subjects_in_order_added(void **state)
{
    (void)state;
    static const char *const files[] = {"rsa-root.crt", "ec-root.crt", "rsa-root.crt",
                                        "ca-all.pem"};
    crypto_trust *trust = trust_from(files, PETREL_ARRAY_LEN(files));
    /* Duplicates are accepted and ignored. */
    assert_int_equal(prov()->trust_count(trust), 2);
    cert_list subjects = {0};
    assert_int_equal(prov()->trust_subjects(trust, collect_cert, &subjects), 0);
    assert_int_equal(subjects.count, 2);
    /* Each subject Name is the one inside that root's certificate. */
    cert_list rsa = {0}, ec = {0};
    decode_pki("rsa-root.crt", &rsa);
    decode_pki("ec-root.crt", &ec);
    assert_int_equal(subjects.der[0][0], 0x30);
    assert_true(contains(rsa.der[0], rsa.len[0], subjects.der[0], subjects.len[0]));
    assert_false(contains(ec.der[0], ec.len[0], subjects.der[0], subjects.len[0]));
    assert_true(contains(ec.der[0], ec.len[0], subjects.der[1], subjects.len[1]));
    assert_false(contains(rsa.der[0], rsa.len[0], subjects.der[1], subjects.len[1]));
    cert_list_free(&subjects);

    /* A callback error stops the walk. */
    cert_list stop = {.stop_at = 2};
    assert_int_equal(prov()->trust_subjects(trust, collect_cert, &stop), -123);
    assert_int_equal(stop.count, 1);
    cert_list_free(&stop);

    /* Not a certificate. */
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    assert_int_equal(prov()->trust_add(trust, junk, sizeof(junk)), PETREL_ERR_CERT_PARSE);
    assert_int_equal(prov()->trust_add(trust, rsa.der[0], rsa.len[0] - 1), PETREL_ERR_CERT_PARSE);
    assert_int_equal(prov()->trust_count(trust), 2);
    cert_list_free(&rsa);
    cert_list_free(&ec);
    prov()->trust_free(trust);
    prov()->trust_free(NULL);

    assert_int_equal(prov()->trust_new(&trust), 0);
    assert_int_equal(prov()->trust_count(trust), 0);
    assert_int_equal(prov()->trust_subjects(trust, collect_cert, &subjects), 0);
    assert_int_equal(subjects.count, 0);
    prov()->trust_free(trust);
}

/* ---- verify_chain ---- */

typedef struct verify_case {
    const char *chain_file;
    int64_t now;
    const char *host;
    unsigned max_depth;
    bool peer_is_server;
} verify_case;

static petrel_cert_auth statuses[MAX_CERTS];

/* Verifies the certificates of list against trust; statuses[] gets the
 * per-certificate result. */
static int verify_list(const crypto_trust *trust, const cert_list *list, int64_t now,
                       const char *host, unsigned max_depth, bool peer_is_server)
{
    const uint8_t *chain[MAX_CERTS];
    for (size_t i = 0; i < list->count; i++)
        chain[i] = list->der[i];
    crypto_verify_params params = {
        .now = now, .max_depth = max_depth, .host = host, .peer_is_server = peer_is_server};
    for (size_t i = 0; i < MAX_CERTS; i++)
        statuses[i] = (petrel_cert_auth)99;
    int rc = prov()->verify_chain(trust, chain, list->len, list->count, &params, statuses);
    for (size_t i = 0; i < list->count; i++)
        assert_true(statuses[i] <= PETREL_CERT_AUTH_FAIL_OTHER);
    /* Nothing past count is written. */
    for (size_t i = list->count; i < MAX_CERTS; i++)
        assert_int_equal(statuses[i], 99);
    return rc;
}

static int verify_file(const crypto_trust *trust, const char *file, int64_t now, const char *host,
                       unsigned max_depth, bool peer_is_server, size_t *count)
{
    cert_list list = {0};
    decode_pki(file, &list);
    int rc = verify_list(trust, &list, now, host, max_depth, peer_is_server);
    if (count)
        *count = list.count;
    cert_list_free(&list);
    return rc;
}

static void expect_all_pass(size_t count)
{
    for (size_t i = 0; i < count; i++)
        assert_int_equal(statuses[i], PETREL_CERT_AUTH_PASS);
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static void test_verify_good_chains(void **state)
{
    (void)state;
    crypto_trust *trust = trust_all();
    const int64_t times[] = {T_2030_06_01, now_s(), T_2024_01_01, T_2124_01_01 - 1};
    static const char *const hosts[] = {NULL,  "localhost", "server.petrel.test", "127.0.0.1",
                                        "::1", "LOCALHOST", "0:0:0:0:0:0:0:1"};
    static const char *const server_chains[] = {"ec-server-chain.pem", "ec-server-chain.der",
                                                "rsa-server-chain.pem", "ec-server-p384-chain.pem"};
    for (size_t t = 0; t < PETREL_ARRAY_LEN(times); t++) {
        for (size_t c = 0; c < PETREL_ARRAY_LEN(server_chains); c++) {
            for (size_t h = 0; h < PETREL_ARRAY_LEN(hosts); h++) {
                size_t count;
                assert_int_equal(
                    verify_file(trust, server_chains[c], times[t], hosts[h], 8, true, &count), 0);
                expect_all_pass(count);
            }
        }
        static const char *const client_chains[] = {"ec-client-chain.pem", "rsa-client-chain.pem"};
        for (size_t c = 0; c < PETREL_ARRAY_LEN(client_chains); c++) {
            size_t count;
            assert_int_equal(verify_file(trust, client_chains[c], times[t], NULL, 8, false, &count),
                             0);
            expect_all_pass(count);
        }
    }
    prov()->trust_free(trust);
}

static void test_verify_intermediates_in_any_order(void **state)
{
    (void)state;
    crypto_trust *trust = trust_all();
    cert_list list = {0};
    decode_pki("rsa-server-chain.pem", &list);
    assert_int_equal(list.count, 3);
    /* leaf, int1, int2 instead of leaf, int2, int1. */
    uint8_t *der = list.der[1];
    size_t len = list.len[1];
    list.der[1] = list.der[2];
    list.len[1] = list.len[2];
    list.der[2] = der;
    list.len[2] = len;
    assert_int_equal(verify_list(trust, &list, T_2030_06_01, "localhost", 8, true), 0);
    expect_all_pass(3);
    assert_int_equal(verify_list(trust, &list, now_s(), "localhost", 8, true), 0);
    expect_all_pass(3);
    cert_list_free(&list);

    /* deep-chain reversed after the leaf. */
    decode_pki("deep-chain.pem", &list);
    assert_int_equal(list.count, 6);
    for (size_t i = 1, j = 5; i < j; i++, j--) {
        der = list.der[i];
        len = list.len[i];
        list.der[i] = list.der[j];
        list.len[i] = list.len[j];
        list.der[j] = der;
        list.len[j] = len;
    }
    assert_int_equal(verify_list(trust, &list, T_2030_06_01, "localhost", 5, true), 0);
    expect_all_pass(6);
    cert_list_free(&list);
    prov()->trust_free(trust);
}

static void test_verify_extra_and_root_certificates(void **state)
{
    (void)state;
    crypto_trust *trust = trust_all();
    /* The peer also sends the root, and an unrelated intermediate. */
    cert_list list = {0};
    decode_pki("ec-server-chain.pem", &list);
    decode_pki("ec-root.crt", &list);
    decode_pki("rsa-int1.crt", &list);
    assert_int_equal(list.count, 4);
    assert_int_equal(verify_list(trust, &list, T_2030_06_01, "localhost", 8, true), 0);
    assert_int_equal(statuses[0], PETREL_CERT_AUTH_PASS);
    assert_int_equal(statuses[1], PETREL_CERT_AUTH_PASS);
    assert_int_equal(statuses[2], PETREL_CERT_AUTH_PASS);
    /* Not part of the path: not looked at. */
    assert_int_equal(statuses[3], PETREL_CERT_AUTH_UNTESTED);
    cert_list_free(&list);
    prov()->trust_free(trust);
}

static void test_verify_without_trust_or_with_wrong_anchor(void **state)
{
    (void)state;
    size_t count;
    /* NULL: nothing is trusted. */
    assert_int_equal(
        verify_file(NULL, "ec-server-chain.pem", T_2030_06_01, "localhost", 8, true, &count),
        PETREL_ERR_UNKNOWN_CA);
    assert_int_equal(statuses[0], PETREL_CERT_AUTH_PASS);
    assert_int_equal(statuses[1], PETREL_CERT_AUTH_FAIL_DN);

    /* An empty store. */
    crypto_trust *trust;
    assert_int_equal(prov()->trust_new(&trust), 0);
    assert_int_equal(
        verify_file(trust, "ec-server-chain.pem", T_2030_06_01, "localhost", 8, true, &count),
        PETREL_ERR_UNKNOWN_CA);
    prov()->trust_free(trust);

    /* Only the RSA root: the EC chain does not lead there. */
    static const char *const rsa_root[] = {"rsa-root.crt"};
    trust = trust_from(rsa_root, 1);
    assert_int_equal(
        verify_file(trust, "ec-server-chain.pem", T_2030_06_01, "localhost", 8, true, &count),
        PETREL_ERR_UNKNOWN_CA);
    assert_int_equal(statuses[1], PETREL_CERT_AUTH_FAIL_DN);
    prov()->trust_free(trust);

    /* An intermediate as the only anchor: chains must end at a
     * self-signed root (no partial chains). */
    static const char *const ec_int[] = {"ec-int.crt"};
    trust = trust_from(ec_int, 1);
    assert_int_equal(verify_file(trust, "ec-server.crt", T_2030_06_01, "localhost", 8, true, NULL),
                     PETREL_ERR_UNKNOWN_CA);
    prov()->trust_free(trust);
}

static void test_verify_dates(void **state)
{
    (void)state;
    crypto_trust *trust = trust_all();
    const int64_t times[] = {T_2030_06_01, now_s()};
    for (size_t t = 0; t < PETREL_ARRAY_LEN(times); t++) {
        static const char *const files[] = {"expired-chain.pem", "notyet-chain.pem"};
        for (size_t f = 0; f < PETREL_ARRAY_LEN(files); f++) {
            assert_int_equal(verify_file(trust, files[f], times[t], "localhost", 8, true, NULL),
                             PETREL_ERR_CERT_EXPIRED);
            assert_int_equal(statuses[0], PETREL_CERT_AUTH_FAIL_DATE);
            assert_int_equal(statuses[1], PETREL_CERT_AUTH_PASS);
        }
    }
    /* Every good certificate: one second before its validity, its first
     * and last full seconds, and one second after. (The exact notAfter
     * second is left out: RFC 5280 counts it as valid, OpenSSL does not.) */
    assert_int_equal(
        verify_file(trust, "ec-server-chain.pem", T_2024_01_01 - 1, NULL, 8, true, NULL),
        PETREL_ERR_CERT_EXPIRED);
    assert_int_equal(statuses[0], PETREL_CERT_AUTH_FAIL_DATE);
    assert_int_equal(statuses[1], PETREL_CERT_AUTH_FAIL_DATE);
    assert_int_equal(verify_file(trust, "ec-server-chain.pem", T_2024_01_01, NULL, 8, true, NULL),
                     0);
    assert_int_equal(
        verify_file(trust, "ec-server-chain.pem", T_2124_01_01 - 1, NULL, 8, true, NULL), 0);
    assert_int_equal(
        verify_file(trust, "ec-server-chain.pem", T_2124_01_01 + 1, NULL, 8, true, NULL),
        PETREL_ERR_CERT_EXPIRED);
    /* The expired leaf during its own validity: the CAs are not valid yet. */
    assert_int_equal(
        verify_file(trust, "expired-chain.pem", T_2020_01_01 + 86400, NULL, 8, true, NULL),
        PETREL_ERR_CERT_EXPIRED);
    assert_int_equal(statuses[0], PETREL_CERT_AUTH_PASS);
    assert_int_equal(statuses[1], PETREL_CERT_AUTH_FAIL_DATE);
    prov()->trust_free(trust);
}

static void test_verify_host_names(void **state)
{
    (void)state;
    crypto_trust *trust = trust_all();
    static const struct {
        const char *file;
        const char *host;
        int want;
    } cases[] = {
        {"ec-server-chain.pem", "localhost", 0},
        {"ec-server-chain.pem", "server.petrel.test", 0},
        {"ec-server-chain.pem", "127.0.0.1", 0},
        {"ec-server-chain.pem", "::1", 0},
        {"ec-server-chain.pem", "127.0.0.2", PETREL_ERR_CERT_NAME_MISMATCH},
        {"ec-server-chain.pem", "::2", PETREL_ERR_CERT_NAME_MISMATCH},
        {"ec-server-chain.pem", "other", PETREL_ERR_CERT_NAME_MISMATCH},
        {"ec-server-chain.pem", "petrel.test", PETREL_ERR_CERT_NAME_MISMATCH},
        {"ec-server-chain.pem", "x.server.petrel.test", PETREL_ERR_CERT_NAME_MISMATCH},
        {"wronghost-chain.pem", "localhost", PETREL_ERR_CERT_NAME_MISMATCH},
        {"wronghost-chain.pem", "127.0.0.1", PETREL_ERR_CERT_NAME_MISMATCH},
        {"wronghost-chain.pem", "wrong.example", 0},
        {"wronghost-chain.pem", "10.9.9.9", 0},
        /* No SAN at all: the CN is used. */
        {"cn-only-chain.pem", "localhost", 0},
        {"cn-only-chain.pem", "other", PETREL_ERR_CERT_NAME_MISMATCH},
        {"cn-only-chain.pem", "127.0.0.1", PETREL_ERR_CERT_NAME_MISMATCH},
        /* The CN is not used when there is a DNS SAN. */
        {"wronghost-chain.pem", "localhost", PETREL_ERR_CERT_NAME_MISMATCH},
    };
    for (size_t i = 0; i < PETREL_ARRAY_LEN(cases); i++) {
        print_message("%s %s\n", cases[i].file, cases[i].host);
        assert_int_equal(
            verify_file(trust, cases[i].file, T_2030_06_01, cases[i].host, 8, true, NULL),
            cases[i].want);
        assert_int_equal(statuses[0],
                         cases[i].want ? PETREL_CERT_AUTH_FAIL_NAME : PETREL_CERT_AUTH_PASS);
        assert_int_equal(statuses[1], PETREL_CERT_AUTH_PASS);
    }
    prov()->trust_free(trust);
}

static void test_verify_unknown_issuer_and_self_signed(void **state)
{
    (void)state;
    crypto_trust *trust = trust_all();
    static const char *const files[] = {"unknown-chain.pem", "selfsigned.crt", "unknown-root.crt",
                                        "ed25519.crt"};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(files); i++) {
        print_message("%s\n", files[i]);
        assert_int_equal(verify_file(trust, files[i], T_2030_06_01, "localhost", 8, true, NULL),
                         PETREL_ERR_UNKNOWN_CA);
        assert_int_equal(statuses[0], PETREL_CERT_AUTH_FAIL_DN);
    }
    /* A self-signed RSA-1024 certificate: its weak key is reported first. */
    assert_int_equal(verify_file(trust, "rsa-1024.crt", T_2030_06_01, "localhost", 8, true, NULL),
                     PETREL_ERR_BAD_CERTIFICATE);
    /* The unknown root sent along does not help. */
    cert_list list = {0};
    decode_pki("unknown-server.crt", &list);
    decode_pki("unknown-root.crt", &list);
    assert_int_equal(verify_list(trust, &list, T_2030_06_01, "localhost", 8, true),
                     PETREL_ERR_UNKNOWN_CA);
    assert_int_equal(statuses[0], PETREL_CERT_AUTH_PASS);
    assert_int_equal(statuses[1], PETREL_CERT_AUTH_FAIL_DN);
    cert_list_free(&list);
    prov()->trust_free(trust);
}

static void test_verify_basic_constraints(void **state)
{
    (void)state;
    crypto_trust *trust = trust_all();
    /* notca-int has CA:FALSE. */
    assert_int_equal(
        verify_file(trust, "notca-chain.pem", T_2030_06_01, "localhost", 8, true, NULL),
        PETREL_ERR_BAD_CERTIFICATE);
    assert_int_equal(statuses[0], PETREL_CERT_AUTH_PASS);
    assert_int_equal(statuses[1], PETREL_CERT_AUTH_FAIL_BC);

    /* pathlen-leaf <- pathlen-int2 <- ec-int (pathlen:0): the violated
     * constraint is ec-int's. */
    assert_int_equal(
        verify_file(trust, "pathlen-chain.pem", T_2030_06_01, "localhost", 8, true, NULL),
        PETREL_ERR_BAD_CERTIFICATE);
    assert_int_equal(statuses[0], PETREL_CERT_AUTH_PASS);
    assert_int_equal(statuses[1], PETREL_CERT_AUTH_PASS);
    assert_int_equal(statuses[2], PETREL_CERT_AUTH_FAIL_BC);
    prov()->trust_free(trust);
}

static void test_verify_max_depth(void **state)
{
    (void)state;
    crypto_trust *trust = trust_all();
    /* Five intermediates. */
    assert_int_equal(verify_file(trust, "deep-chain.pem", T_2030_06_01, "localhost", 5, true, NULL),
                     0);
    expect_all_pass(6);
    assert_int_equal(
        verify_file(trust, "deep-chain.pem", T_2030_06_01, "localhost", 100, true, NULL), 0);
    for (unsigned depth = 0; depth < 5; depth++) {
        print_message("depth %u\n", depth);
        assert_int_equal(
            verify_file(trust, "deep-chain.pem", T_2030_06_01, "localhost", depth, true, NULL),
            PETREL_ERR_UNKNOWN_CA);
        /* Somewhere along the path the limit was hit. */
        bool hit = false;
        for (size_t i = 0; i < 6; i++)
            hit |= statuses[i] == PETREL_CERT_AUTH_FAIL_OTHER;
        assert_true(hit);
    }
    /* One intermediate. */
    assert_int_equal(
        verify_file(trust, "ec-server-chain.pem", T_2030_06_01, "localhost", 1, true, NULL), 0);
    assert_int_equal(
        verify_file(trust, "ec-server-chain.pem", T_2030_06_01, "localhost", 0, true, NULL),
        PETREL_ERR_UNKNOWN_CA);
    prov()->trust_free(trust);
}

static void test_verify_bad_signature(void **state)
{
    (void)state;
    crypto_trust *trust = trust_all();
    assert_int_equal(
        verify_file(trust, "badsig-chain.pem", T_2030_06_01, "localhost", 8, true, NULL),
        PETREL_ERR_BAD_CERTIFICATE);
    assert_int_equal(statuses[0], PETREL_CERT_AUTH_FAIL_SIG);
    assert_int_equal(statuses[1], PETREL_CERT_AUTH_PASS);
    prov()->trust_free(trust);
}

/* Issued by ec-int (so the path itself is good) and weak on purpose:
 * signed with ecdsa-with-SHA1, and an RSA-1024 leaf key. Made with
 * `openssl x509 -req -CA ec-int.crt -CAkey ec-int.key -sha1 ...`. */
static const char sha1_signed_leaf[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBvzCCAWWgAwIBAgIUBX5fcRUodm+O2IOoJ2Z0QR9mg/swCQYHKoZIzj0EATA8\n"
    "MRQwEgYDVQQKDAtwZXRyZWwtdGVzdDEkMCIGA1UEAwwbcGV0cmVsIHRlc3QgRUMg\n"
    "aW50ZXJtZWRpYXRlMCAXDTI2MTEyMzE4NDEyMVoYDzIxMjYxMDMwMTg0MTIxWjAU\n"
    "MRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASM\n"
    "6+aIQLiP4727h6Oy07cD+YjwwKYY4bK0Pm3q0N+gLPE84plV36dv609e0R1+ArCt\n"
    "sUWOpjn68P2mqi4/iAcuo2wwajAMBgNVHRMBAf8EAjAAMBoGA1UdEQQTMBGCCWxv\n"
    "Y2FsaG9zdIcEfwAAATAdBgNVHQ4EFgQUYy2+EN/xKLrSr3y/8ng42LnA6MkwHwYD\n"
    "VR0jBBgwFoAUZAiA1ReQN5T9v741Elsb3fB9IBwwCQYHKoZIzj0EAQNJADBGAiEA\n"
    "iJ4Eu9zu97pStSrzSrba4U05adpv0XKO80qseS3Iq28CIQDT7TkdFvE+oYqY8ja+\n"
    "Ito3CEx8QA8BPzgPhX0ZkJd9IA==\n"
    "-----END CERTIFICATE-----\n";
static const char rsa1024_leaf[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIICCDCCAa2gAwIBAgIUBX5fcRUodm+O2IOoJ2Z0QR9mg/wwCgYIKoZIzj0EAwIw\n"
    "PDEUMBIGA1UECgwLcGV0cmVsLXRlc3QxJDAiBgNVBAMMG3BldHJlbCB0ZXN0IEVD\n"
    "IGludGVybWVkaWF0ZTAgFw0yNjExMjMxODQxMjJaGA8yMTI2MTAzMDE4NDEyMlow\n"
    "FDESMBAGA1UEAwwJbG9jYWxob3N0MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKB\n"
    "gQClqkR5bVL+95WVLviuG9kSr9LgpEGZXJKh26ouzu1IANHCjSqaxI8Gky2iUrUF\n"
    "BeQ5cBT+AYLpd2KehePjLJq8RAZ9i2pLOrm8MOmQ80qHTEkx42PKVUhYt029YCNh\n"
    "BP9s9Tbm7PCazuUkkrVazXfSWAY7gvuDp80r8pw9UX7iBwIDAQABo2wwajAMBgNV\n"
    "HRMBAf8EAjAAMBoGA1UdEQQTMBGCCWxvY2FsaG9zdIcEfwAAATAdBgNVHQ4EFgQU\n"
    "gRkmexGrNSydyKeOWS4AjAib3SUwHwYDVR0jBBgwFoAUZAiA1ReQN5T9v741Elsb\n"
    "3fB9IBwwCgYIKoZIzj0EAwIDSQAwRgIhAO/lP79ygxDWcC/Z9pt9LqbxOsmfDGIp\n"
    "b8v2aJZduD0aAiEAj5VUPQL9lmJ2Sox0DOx22yTzEo0yTojY4RJkhOvvFk8=\n"
    "-----END CERTIFICATE-----\n";

/* Security level 2: no SHA-1 signature and no RSA key below 2048 bits
 * anywhere in the chain, as for petrel's own keys. */
static void test_verify_refuses_weak_certificates(void **state)
{
    (void)state;
    static const char *const weak[] = {sha1_signed_leaf, rsa1024_leaf};
    crypto_trust *trust = trust_all();
    for (size_t i = 0; i < 2; i++) {
        cert_list list = {0};
        blob inter = read_pki("ec-int.der");
        assert_int_equal(decode_mem((const uint8_t *)weak[i], strlen(weak[i]), &list), 0);
        assert_int_equal(decode_mem(inter.data, inter.len, &list), 0);
        assert_int_equal(list.count, 2);
        assert_int_equal(verify_list(trust, &list, T_2030_06_01, "localhost", 8, true),
                         PETREL_ERR_BAD_CERTIFICATE);
        assert_int_equal(statuses[0],
                         i == 0 ? PETREL_CERT_AUTH_FAIL_SIG : PETREL_CERT_AUTH_FAIL_OTHER);
        cert_list_free(&list);
        blob_free(&inter);
    }
    prov()->trust_free(trust);
}

static void test_verify_purpose(void **state)
{
    (void)state;
    crypto_trust *trust = trust_all();
    /* EKU serverAuth only, presented by a client; and the other way. */
    static const char *const servers[] = {"ec-server-chain.pem", "rsa-server-chain.pem"};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(servers); i++) {
        assert_int_equal(verify_file(trust, servers[i], T_2030_06_01, NULL, 8, false, NULL),
                         PETREL_ERR_BAD_CERTIFICATE);
        assert_int_equal(statuses[0], PETREL_CERT_AUTH_FAIL_USAGE);
        assert_int_equal(statuses[1], PETREL_CERT_AUTH_PASS);
    }
    static const char *const clients[] = {"ec-client-chain.pem", "rsa-client-chain.pem"};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(clients); i++) {
        assert_int_equal(verify_file(trust, clients[i], T_2030_06_01, NULL, 8, true, NULL),
                         PETREL_ERR_BAD_CERTIFICATE);
        assert_int_equal(statuses[0], PETREL_CERT_AUTH_FAIL_USAGE);
    }
    prov()->trust_free(trust);
}

static void test_verify_first_failure_decides(void **state)
{
    (void)state;
    crypto_trust *trust = trust_all();
    /* Expired and the wrong name: OpenSSL checks the name before dates
     * and signatures, and both failures are on the leaf. */
    assert_int_equal(verify_file(trust, "expired-chain.pem", T_2030_06_01, "other", 8, true, NULL),
                     PETREL_ERR_CERT_NAME_MISMATCH);
    assert_int_equal(statuses[0], PETREL_CERT_AUTH_FAIL_NAME);
    /* Unknown issuer and expired: the path comes first. */
    assert_int_equal(verify_file(NULL, "expired-chain.pem", T_2030_06_01, NULL, 8, true, NULL),
                     PETREL_ERR_UNKNOWN_CA);
    assert_int_equal(statuses[0], PETREL_CERT_AUTH_FAIL_DATE);
    assert_int_equal(statuses[1], PETREL_CERT_AUTH_FAIL_DN);
    prov()->trust_free(trust);
}

static void test_verify_unparsable_certificate(void **state)
{
    (void)state;
    crypto_trust *trust = trust_all();
    cert_list list = {0};
    decode_pki("ec-server-chain.pem", &list);
    list.len[1]--; /* the intermediate, cut short */
    assert_int_equal(verify_list(trust, &list, T_2030_06_01, "localhost", 8, true),
                     PETREL_ERR_CERT_PARSE);
    assert_int_equal(statuses[0], PETREL_CERT_AUTH_UNTESTED);
    assert_int_equal(statuses[1], PETREL_CERT_AUTH_FAIL_OTHER);
    list.len[1]++;
    assert_int_equal(verify_list(trust, &list, T_2030_06_01, "localhost", 8, true), 0);
    cert_list_free(&list);

    /* No certificate at all is a usage error. */
    crypto_verify_params params = {.now = T_2030_06_01, .max_depth = 8, .peer_is_server = true};
    const uint8_t *none[1] = {NULL};
    size_t lens[1] = {0};
    assert_int_equal(prov()->verify_chain(trust, none, lens, 0, &params, statuses), PETREL_ERR_ARG);
    prov()->trust_free(trust);
}

/* ---- cert_info ---- */

static petrel_cert_info *info_of(const char *file)
{
    cert_list list = {0};
    decode_pki(file, &list);
    petrel_cert_info *info = NULL;
    assert_int_equal(prov()->cert_info_new(list.der[0], list.len[0], &info), 0);
    assert_non_null(info);
    assert_int_equal(info->der_len, list.len[0]);
    assert_memory_equal(info->der, list.der[0], list.len[0]);
    assert_ptr_not_equal(info->der, list.der[0]);
    cert_list_free(&list);
    return info;
}

static void expect_attr(const petrel_dn *dn, size_t i, const char *type, const char *value)
{
    assert_true(i < dn->count);
    assert_string_equal(dn->attrs[i].type, type);
    assert_string_equal(dn->attrs[i].value, value);
}

static void expect_san(const petrel_cert_info *info, size_t i, petrel_san_type type,
                       const char *value)
{
    assert_true(i < info->san_count);
    assert_int_equal(info->san[i].type, type);
    assert_string_equal(info->san[i].value, value);
}

static void test_cert_info_of_ec_server(void **state)
{
    (void)state;
    petrel_cert_info *info = info_of("ec-server.crt");
    assert_false(info->is_raw_public_key);
    assert_int_equal(info->version, 3);
    /* The serial is a positive magnitude as the DER carries it (20 random
     * bytes from openssl ca, possibly after a 00 sign byte). */
    assert_true(info->serial_len >= 1 && info->serial_len <= 20);
    assert_int_not_equal(info->serial[0], 0);
    assert_true(contains(info->der, info->der_len, info->serial, info->serial_len));

    assert_int_equal(info->subject.count, 2);
    expect_attr(&info->subject, 0, "O", "petrel-test");
    expect_attr(&info->subject, 1, "CN", "localhost");
    assert_string_equal(info->subject.text, "CN=localhost,O=petrel-test");
    assert_int_equal(info->issuer.count, 2);
    expect_attr(&info->issuer, 0, "O", "petrel-test");
    expect_attr(&info->issuer, 1, "CN", "petrel test EC intermediate");
    assert_string_equal(info->issuer.text, "CN=petrel test EC intermediate,O=petrel-test");

    assert_int_equal(info->not_before, T_2024_01_01);
    assert_int_equal(info->not_after, T_2124_01_01);
    assert_string_equal(info->key_algorithm, "EC");
    assert_int_equal(info->key_bits, 256);
    assert_string_equal(info->key_curve, "P-256");
    assert_string_equal(info->signature_algorithm, "ecdsa-with-SHA256");

    assert_int_equal(info->san_count, 4);
    expect_san(info, 0, PETREL_SAN_DNS, "localhost");
    expect_san(info, 1, PETREL_SAN_DNS, "server.petrel.test");
    expect_san(info, 2, PETREL_SAN_IP, "127.0.0.1");
    expect_san(info, 3, PETREL_SAN_IP, "::1");

    assert_true(info->has_basic_constraints);
    assert_false(info->is_ca);
    assert_int_equal(info->path_len, -1);
    assert_int_equal(info->auth_status, PETREL_CERT_AUTH_UNTESTED);
    prov()->cert_info_free(info);
}

static void test_cert_info_of_cas_and_other_keys(void **state)
{
    (void)state;
    petrel_cert_info *info = info_of("rsa-int1.crt");
    assert_true(info->has_basic_constraints);
    assert_true(info->is_ca);
    assert_int_equal(info->path_len, 1);
    assert_string_equal(info->key_algorithm, "RSA");
    assert_int_equal(info->key_bits, 2048);
    assert_null(info->key_curve);
    assert_string_equal(info->signature_algorithm, "sha256WithRSAEncryption");
    expect_attr(&info->subject, 1, "CN", "petrel test RSA intermediate 1");
    expect_attr(&info->issuer, 1, "CN", "petrel test RSA root");
    assert_int_equal(info->san_count, 0);
    prov()->cert_info_free(info);

    info = info_of("rsa-int2.crt");
    assert_true(info->is_ca);
    assert_int_equal(info->path_len, 0);
    prov()->cert_info_free(info);

    info = info_of("ec-root.crt");
    assert_true(info->is_ca);
    assert_int_equal(info->path_len, -1);
    assert_string_equal(info->subject.text, info->issuer.text);
    prov()->cert_info_free(info);

    info = info_of("ec-server-p384.crt");
    assert_string_equal(info->key_curve, "P-384");
    assert_int_equal(info->key_bits, 384);
    assert_string_equal(info->signature_algorithm, "ecdsa-with-SHA256");
    prov()->cert_info_free(info);

    /* Key types petrel does not use are still described. */
    info = info_of("ed25519.crt");
    assert_string_equal(info->key_algorithm, "ED25519");
    assert_null(info->key_curve);
    assert_string_equal(info->signature_algorithm, "ED25519");
    prov()->cert_info_free(info);
    info = info_of("rsa-1024.crt");
    assert_int_equal(info->key_bits, 1024);
    prov()->cert_info_free(info);

    info = info_of("cn-only.crt");
    assert_int_equal(info->san_count, 0);
    expect_attr(&info->subject, 1, "CN", "localhost");
    prov()->cert_info_free(info);

    info = info_of("wronghost.crt");
    assert_int_equal(info->san_count, 2);
    expect_san(info, 0, PETREL_SAN_DNS, "wrong.example");
    expect_san(info, 1, PETREL_SAN_IP, "10.9.9.9");
    prov()->cert_info_free(info);
}

/* A self-signed P-384 CA made with `openssl req -x509` to cover what the
 * test PKI does not: a serial with its top bit set (DER adds a 00 byte),
 * a UTF-8 subject value, an attribute type OpenSSL has no name for
 * (1.2.3.4), RFC 2253 escaping, every SAN type, pathlen 7. Valid for one
 * day from 2026-11-23 18:36:34Z. */
static const char unusual_cert[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIC1zCCAlygAwIBAgIJAIAAAAAAAAABMAoGCCqGSM49BAMCME8xCzAJBgNVBAYT\n"
    "AkRFMRUwEwYDVQQKDAxCw7xjaGVyIEdtYkgxETAPBgMqAwQMCG9pZC1hdHRyMRYw\n"
    "FAYDVQQDDA1vZGQsICJxdW90ZWQiMB4XDTI2MTEyMzE4MzYzNFoXDTI2MTEyNDE4\n"
    "MzYzNFowTzELMAkGA1UEBhMCREUxFTATBgNVBAoMDELDvGNoZXIgR21iSDERMA8G\n"
    "AyoDBAwIb2lkLWF0dHIxFjAUBgNVBAMMDW9kZCwgInF1b3RlZCIwdjAQBgcqhkjO\n"
    "PQIBBgUrgQQAIgNiAAQtLcHYMR2RQQ8WacGSY04q/hkrJThN5z4vRdECduXZYFI6\n"
    "nJIq6W7xY7Dkyx7J+SEzAbRdMh0hjWCnjhPuikJOQoXW8C87jBHhiWKTSUmy5RHB\n"
    "QBVXnepEZ+jja2n8QIajggECMIH/MB0GA1UdDgQWBBQdctxsNkCUi9kP2LAbDRdK\n"
    "VIpGRTAfBgNVHSMEGDAWgBQdctxsNkCUi9kP2LAbDRdKVIpGRTCBqAYDVR0RBIGg\n"
    "MIGdggtvZGQuZXhhbXBsZYcQIAENuAAAAAAAAAAAAAAAAYcQIAENuAAAAAEAAAAA\n"
    "AAAAAYcQAAEAAAAAAAIAAAAAAAAAA4cQAAAAAAAAAAAAAAAAAAAAAIETc29tZW9u\n"
    "ZUBleGFtcGxlLm9yZ4YVaHR0cHM6Ly9leGFtcGxlLm9yZy94pBQwEjEQMA4GA1UE\n"
    "AwwHZGlybmFtZYcEwAAC/zASBgNVHRMBAf8ECDAGAQH/AgEHMAoGCCqGSM49BAMC\n"
    "A2kAMGYCMQDMflZCfJfXulw9UryqJvgV/WJsKOS5sUuRozmxe8edHL3nmoCAILJR\n"
    "Dge84/hBdhgCMQCBN2odJWTq1G0UZbCfs/5z65dhYX4E4B0PZQJnKKjXdMw1K8/p\n"
    "YcEK/1TaU0pNjgE=\n"
    "-----END CERTIFICATE-----\n";

static void test_cert_info_of_unusual_certificate(void **state)
{
    (void)state;
    cert_list list = {0};
    assert_int_equal(decode_mem((const uint8_t *)unusual_cert, strlen(unusual_cert), &list), 0);
    assert_int_equal(list.count, 1);
    petrel_cert_info *info = NULL;
    assert_int_equal(prov()->cert_info_new(list.der[0], list.len[0], &info), 0);

    assert_int_equal(info->version, 3);
    /* Serial 0x8000000000000001: the magnitude, without the sign byte. */
    static const uint8_t serial[] = {0x80, 0, 0, 0, 0, 0, 0, 0x01};
    assert_int_equal(info->serial_len, sizeof(serial));
    assert_memory_equal(info->serial, serial, sizeof(serial));

    assert_int_equal(info->subject.count, 4);
    expect_attr(&info->subject, 0, "C", "DE");
    expect_attr(&info->subject, 1, "O",
                "B\xc3\xbc"
                "cher GmbH");
    expect_attr(&info->subject, 2, "1.2.3.4", "oid-attr");
    expect_attr(&info->subject, 3, "CN", "odd, \"quoted\"");
    /* RFC 2253: reversed, escaped, an unknown type's value as #hex DER. */
    assert_string_equal(info->subject.text, "CN=odd\\, \\\"quoted\\\","
                                            "1.2.3.4=#0C086F69642D61747472,"
                                            "O=B\xc3\xbc"
                                            "cher GmbH,C=DE");
    assert_string_equal(info->issuer.text, info->subject.text);

    assert_int_equal(info->not_before, 1795458994);
    assert_int_equal(info->not_after, 1795458994 + 86400);
    assert_string_equal(info->key_algorithm, "EC");
    assert_string_equal(info->key_curve, "P-384");
    assert_int_equal(info->key_bits, 384);
    assert_string_equal(info->signature_algorithm, "ecdsa-with-SHA256");

    assert_int_equal(info->san_count, 9);
    expect_san(info, 0, PETREL_SAN_DNS, "odd.example");
    /* IPv6 in RFC 5952 form. */
    expect_san(info, 1, PETREL_SAN_IP, "2001:db8::1");
    expect_san(info, 2, PETREL_SAN_IP, "2001:db8:0:1::1");
    expect_san(info, 3, PETREL_SAN_IP, "1:0:0:2::3");
    expect_san(info, 4, PETREL_SAN_IP, "::");
    expect_san(info, 5, PETREL_SAN_EMAIL, "someone@example.org");
    expect_san(info, 6, PETREL_SAN_URI, "https://example.org/x");
    expect_san(info, 7, PETREL_SAN_OTHER, ""); /* a directoryName */
    expect_san(info, 8, PETREL_SAN_IP, "192.0.2.255");

    assert_true(info->has_basic_constraints);
    assert_true(info->is_ca);
    assert_int_equal(info->path_len, 7);
    prov()->cert_info_free(info);
    cert_list_free(&list);
}

/* unusual_cert with two bytes changed to NUL (so its signature no longer
 * verifies): in the DNS SAN "odd.example" and in the subject CN. */
static const char nul_cert[] = "-----BEGIN CERTIFICATE-----\n"
                               "MIIC1zCCAlygAwIBAgIJAIAAAAAAAAABMAoGCCqGSM49BAMCME8xCzAJBgNVBAYT\n"
                               "AkRFMRUwEwYDVQQKDAxCw7xjaGVyIEdtYkgxETAPBgMqAwQMCG9pZC1hdHRyMRYw\n"
                               "FAYDVQQDDA1vZGQsICJxdW90ZWQiMB4XDTI2MTEyMzE4MzYzNFoXDTI2MTEyNDE4\n"
                               "MzYzNFowTzELMAkGA1UEBhMCREUxFTATBgNVBAoMDELDvGNoZXIgR21iSDERMA8G\n"
                               "AyoDBAwIb2lkLWF0dHIxFjAUBgNVBAMMDW9kZAAgInF1b3RlZCIwdjAQBgcqhkjO\n"
                               "PQIBBgUrgQQAIgNiAAQtLcHYMR2RQQ8WacGSY04q/hkrJThN5z4vRdECduXZYFI6\n"
                               "nJIq6W7xY7Dkyx7J+SEzAbRdMh0hjWCnjhPuikJOQoXW8C87jBHhiWKTSUmy5RHB\n"
                               "QBVXnepEZ+jja2n8QIajggECMIH/MB0GA1UdDgQWBBQdctxsNkCUi9kP2LAbDRdK\n"
                               "VIpGRTAfBgNVHSMEGDAWgBQdctxsNkCUi9kP2LAbDRdKVIpGRTCBqAYDVR0RBIGg\n"
                               "MIGdggtvZGQAZXhhbXBsZYcQIAENuAAAAAAAAAAAAAAAAYcQIAENuAAAAAEAAAAA\n"
                               "AAAAAYcQAAEAAAAAAAIAAAAAAAAAA4cQAAAAAAAAAAAAAAAAAAAAAIETc29tZW9u\n"
                               "ZUBleGFtcGxlLm9yZ4YVaHR0cHM6Ly9leGFtcGxlLm9yZy94pBQwEjEQMA4GA1UE\n"
                               "AwwHZGlybmFtZYcEwAAC/zASBgNVHRMBAf8ECDAGAQH/AgEHMAoGCCqGSM49BAMC\n"
                               "A2kAMGYCMQDMflZCfJfXulw9UryqJvgV/WJsKOS5sUuRozmxe8edHL3nmoCAILJR\n"
                               "Dge84/hBdhgCMQCBN2odJWTq1G0UZbCfs/5z65dhYX4E4B0PZQJnKKjXdMw1K8/p\n"
                               "YcEK/1TaU0pNjgE=\n"
                               "-----END CERTIFICATE-----\n";

static void test_cert_info_names_holding_nul(void **state)
{
    (void)state;
    cert_list list = {0};
    assert_int_equal(decode_mem((const uint8_t *)nul_cert, strlen(nul_cert), &list), 0);
    petrel_cert_info *info = NULL;
    assert_int_equal(prov()->cert_info_new(list.der[0], list.len[0], &info), 0);
    /* As C strings they would read "odd": they are not shown at all. */
    expect_san(info, 0, PETREL_SAN_OTHER, "");
    expect_san(info, 1, PETREL_SAN_IP, "2001:db8::1");
    expect_attr(&info->subject, 3, "CN", "");
    expect_attr(&info->issuer, 3, "CN", "odd, \"quoted\"");
    /* The one-line text escapes it. */
    assert_non_null(strstr(info->subject.text, "CN=odd\\00 \\\"quoted"));
    prov()->cert_info_free(info);
    cert_list_free(&list);
}

static void test_cert_info_dates(void **state)
{
    (void)state;
    petrel_cert_info *info = info_of("expired.crt");
    assert_int_equal(info->not_before, T_2020_01_01);
    assert_int_equal(info->not_after, T_2021_01_01);
    prov()->cert_info_free(info);
    info = info_of("notyet.crt");
    assert_int_equal(info->not_before, T_2090_01_01);
    assert_int_equal(info->not_after, T_2100_01_01);
    prov()->cert_info_free(info);
}

static void test_spki_info(void **state)
{
    (void)state;
    blob spki = read_pki("ec-server.pub.der");
    petrel_cert_info *info = NULL;
    assert_int_equal(prov()->spki_info_new(spki.data, spki.len, &info), 0);
    assert_true(info->is_raw_public_key);
    assert_string_equal(info->key_algorithm, "EC");
    assert_int_equal(info->key_bits, 256);
    assert_string_equal(info->key_curve, "P-256");
    assert_int_equal(info->der_len, spki.len);
    assert_memory_equal(info->der, spki.data, spki.len);
    assert_int_equal(info->version, 0);
    assert_int_equal(info->serial_len, 0);
    assert_int_equal(info->subject.count, 0);
    assert_string_equal(info->subject.text, "");
    assert_int_equal(info->issuer.count, 0);
    assert_string_equal(info->issuer.text, "");
    assert_int_equal(info->san_count, 0);
    assert_null(info->signature_algorithm);
    assert_false(info->has_basic_constraints);
    assert_int_equal(info->auth_status, PETREL_CERT_AUTH_UNTESTED);
    prov()->cert_info_free(info);

    /* Not an SPKI: a certificate, truncated, empty. */
    blob cert = read_pki("ec-server.der");
    assert_int_equal(prov()->spki_info_new(cert.data, cert.len, &info), PETREL_ERR_KEY_PARSE);
    assert_int_equal(prov()->spki_info_new(spki.data, spki.len - 1, &info), PETREL_ERR_KEY_PARSE);
    assert_int_equal(prov()->spki_info_new(spki.data, 0, &info), PETREL_ERR_KEY_PARSE);
    /* And an SPKI is not a certificate. */
    assert_int_equal(prov()->cert_info_new(spki.data, spki.len, &info), PETREL_ERR_CERT_PARSE);
    assert_int_equal(prov()->cert_info_new(cert.data, cert.len - 1, &info), PETREL_ERR_CERT_PARSE);
    blob_free(&cert);
    blob_free(&spki);
    prov()->cert_info_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_private_key_encodings_load_and_match_their_certificate),
        cmocka_unit_test(test_key_of_another_certificate_is_not_equal),
        cmocka_unit_test(test_encrypted_key_with_missing_or_wrong_password),
        cmocka_unit_test(test_legacy_encrypted_pem_key),
        cmocka_unit_test(test_data_that_is_not_a_private_key),
        cmocka_unit_test(test_unsupported_and_insecure_keys),
        cmocka_unit_test(test_public_key_inputs),
        cmocka_unit_test(test_pkey_spki_round_trips),
        cmocka_unit_test(test_cert_decode_pem_and_der),
        cmocka_unit_test(test_cert_decode_skips_other_pem_blocks),
        cmocka_unit_test(test_cert_decode_rejects_malformed_input),
        cmocka_unit_test(test_cert_decode_stops_at_callback_error),
        cmocka_unit_test(test_trust_subjects_in_order_added),
        cmocka_unit_test(test_verify_good_chains),
        cmocka_unit_test(test_verify_intermediates_in_any_order),
        cmocka_unit_test(test_verify_extra_and_root_certificates),
        cmocka_unit_test(test_verify_without_trust_or_with_wrong_anchor),
        cmocka_unit_test(test_verify_dates),
        cmocka_unit_test(test_verify_host_names),
        cmocka_unit_test(test_verify_unknown_issuer_and_self_signed),
        cmocka_unit_test(test_verify_basic_constraints),
        cmocka_unit_test(test_verify_max_depth),
        cmocka_unit_test(test_verify_bad_signature),
        cmocka_unit_test(test_verify_refuses_weak_certificates),
        cmocka_unit_test(test_verify_purpose),
        cmocka_unit_test(test_verify_first_failure_decides),
        cmocka_unit_test(test_verify_unparsable_certificate),
        cmocka_unit_test(test_cert_info_of_ec_server),
        cmocka_unit_test(test_cert_info_of_cas_and_other_keys),
        cmocka_unit_test(test_cert_info_of_unusual_certificate),
        cmocka_unit_test(test_cert_info_names_holding_nul),
        cmocka_unit_test(test_cert_info_dates),
        cmocka_unit_test(test_spki_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
