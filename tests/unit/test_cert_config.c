/*
 * Loading certificates, keys and CAs into a config through the public API
 * (petrel/cert.h): every loader succeeds on every supported encoding and
 * fails with its own named error for each documented failure, leaving the
 * config as it was. The test PKI is tests/pki.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <petrel/petrel.h>

#define PKI(name) PETREL_SOURCE_DIR "/tests/pki/" name

static petrel_config *quiet_config(void)
{
    petrel_platform p = petrel_platform_default();
    p.log_level = PETREL_LOG_NONE;
    petrel_config *cfg = petrel_config_new(&p);
    assert_non_null(cfg);
    return cfg;
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    uint8_t *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void chain_loads(void **state)
{
    (void)state;
    static const char *const good[] = {PKI("ec-server-chain.pem"), PKI("ec-server.crt"),
                                       PKI("ec-server.der"), PKI("ec-server-chain.der"),
                                       PKI("rsa-server-chain.pem")};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        petrel_config *cfg = quiet_config();
        assert_int_equal(petrel_config_load_cert_chain_file(cfg, good[i]), 0);
        petrel_config_free(cfg);
    }
}

static void chain_errors(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        int error;
    } cases[] = {
        {PKI("no-such-file.pem"), PETREL_ERR_FILE_NOT_FOUND},
        {PKI("cadir"), PETREL_ERR_FILE_NOT_FOUND}, /* a directory */
        {PKI("garbage.pem"), PETREL_ERR_CERT_PARSE},
        {PKI("notpem.txt"), PETREL_ERR_CERT_PARSE},
        {PKI("truncated.der"), PETREL_ERR_CERT_PARSE},
        {PKI("ec-server.key"), PETREL_ERR_CERT_PARSE}, /* a key, not a certificate */
        {PKI("ed25519.crt"), PETREL_ERR_UNSUPPORTED},
        {PKI("rsa-1024.crt"), PETREL_ERR_INSECURE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        petrel_config *cfg = quiet_config();
        print_message("%s\n", cases[i].path);
        assert_int_equal(petrel_config_load_cert_chain_file(cfg, cases[i].path), cases[i].error);
        petrel_config_free(cfg);
    }
    petrel_config *cfg = quiet_config();
    assert_int_equal(petrel_config_load_cert_chain_file(NULL, PKI("ec-server.crt")),
                     PETREL_ERR_ARG);
    assert_int_equal(petrel_config_load_cert_chain_file(cfg, NULL), PETREL_ERR_ARG);
    assert_int_equal(petrel_config_load_cert_chain_mem(cfg, NULL, 10), PETREL_ERR_ARG);
    assert_int_equal(petrel_config_load_cert_chain_mem(cfg, (const uint8_t *)"x", 0),
                     PETREL_ERR_ARG);
    petrel_config_free(cfg);
}

/* Eleven certificates: more than a Certificate message may carry. */
static void chain_too_long(void **state)
{
    (void)state;
    size_t len;
    uint8_t *one = read_all(PKI("ec-server.crt"), &len);
    uint8_t *eleven = malloc(11 * len);
    assert_non_null(eleven);
    for (size_t i = 0; i < 11; i++)
        memcpy(eleven + i * len, one, len);
    petrel_config *cfg = quiet_config();
    assert_int_equal(petrel_config_load_cert_chain_mem(cfg, eleven, 10 * len), 0);
    assert_int_equal(petrel_config_load_cert_chain_mem(cfg, eleven, 11 * len), PETREL_ERR_LIMIT);
    petrel_config_free(cfg);
    free(eleven);
    free(one);
}

static void every_key_encoding_loads(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        const char *password;
        const char *chain;
    } cases[] = {
        {PKI("ec-server.key"), NULL, PKI("ec-server.crt")},
        {PKI("ec-server.sec1.der"), NULL, PKI("ec-server.crt")},
        {PKI("ec-server.pk8.pem"), NULL, PKI("ec-server.crt")},
        {PKI("ec-server.pk8.der"), NULL, PKI("ec-server.crt")},
        {PKI("ec-server.enc.pem"), "petrel-test", PKI("ec-server.crt")},
        {PKI("ec-server.enc.der"), "petrel-test", PKI("ec-server.crt")},
        {PKI("rsa-server.key"), NULL, PKI("rsa-server-chain.pem")},
        {PKI("rsa-server.pk1.der"), NULL, PKI("rsa-server-chain.pem")},
        {PKI("rsa-server.pk8.pem"), NULL, PKI("rsa-server-chain.pem")},
        {PKI("ec-server-p384.key"), NULL, PKI("ec-server-p384.crt")},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("%s\n", cases[i].key);
        /* Key first, then the chain; and the other way round. */
        petrel_config *cfg = quiet_config();
        assert_int_equal(petrel_config_load_key_file(cfg, cases[i].key, cases[i].password), 0);
        assert_int_equal(petrel_config_load_cert_chain_file(cfg, cases[i].chain), 0);
        petrel_config_free(cfg);
        cfg = quiet_config();
        assert_int_equal(petrel_config_load_cert_chain_file(cfg, cases[i].chain), 0);
        assert_int_equal(petrel_config_load_key_file(cfg, cases[i].key, cases[i].password), 0);
        petrel_config_free(cfg);
    }
}

static void key_errors(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        const char *password;
        int error;
    } cases[] = {
        {PKI("no-such.key"), NULL, PETREL_ERR_FILE_NOT_FOUND},
        {PKI("ec-server.enc.pem"), NULL, PETREL_ERR_WRONG_PASSWORD},
        {PKI("ec-server.enc.pem"), "not the password", PETREL_ERR_WRONG_PASSWORD},
        {PKI("ec-server.enc.der"), "petrel", PETREL_ERR_WRONG_PASSWORD},
        {PKI("garbage.pem"), NULL, PETREL_ERR_KEY_PARSE},
        {PKI("ec-server.crt"), NULL, PETREL_ERR_KEY_PARSE},
        {PKI("notpem.txt"), NULL, PETREL_ERR_KEY_PARSE},
        {PKI("ed25519.key"), NULL, PETREL_ERR_UNSUPPORTED},
        {PKI("rsa-1024.key"), NULL, PETREL_ERR_INSECURE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        petrel_config *cfg = quiet_config();
        print_message("%s\n", cases[i].path);
        assert_int_equal(petrel_config_load_key_file(cfg, cases[i].path, cases[i].password),
                         cases[i].error);
        petrel_config_free(cfg);
    }
}

/* A key that is not the leaf's is refused whichever half came first, and
 * the config keeps what it had. */
static void key_and_certificate_must_match(void **state)
{
    (void)state;
    petrel_config *cfg = quiet_config();
    assert_int_equal(petrel_config_load_cert_chain_file(cfg, PKI("ec-server-chain.pem")), 0);
    assert_int_equal(petrel_config_load_key_file(cfg, PKI("ec-client.key"), NULL),
                     PETREL_ERR_KEY_CERT_MISMATCH);
    assert_int_equal(petrel_config_load_key_file(cfg, PKI("ec-server.key"), NULL), 0);
    assert_int_equal(petrel_config_load_cert_chain_file(cfg, PKI("rsa-server-chain.pem")),
                     PETREL_ERR_KEY_CERT_MISMATCH);
    /* Switching identity: both halves at once. */
    assert_int_equal(petrel_config_load_credentials_file(cfg, PKI("rsa-server-chain.pem"),
                                                         PKI("ec-client.key"), NULL),
                     PETREL_ERR_KEY_CERT_MISMATCH);
    assert_int_equal(petrel_config_load_credentials_file(cfg, PKI("rsa-server-chain.pem"),
                                                         PKI("rsa-server.key"), NULL),
                     0);
    /* Now the RSA identity is the one in place. */
    assert_int_equal(petrel_config_load_key_file(cfg, PKI("ec-server.key"), NULL),
                     PETREL_ERR_KEY_CERT_MISMATCH);
    assert_int_equal(petrel_config_load_key_file(cfg, PKI("rsa-server.pk8.pem"), NULL), 0);
    assert_int_equal(
        petrel_config_load_credentials_file(cfg, PKI("no-such.pem"), PKI("rsa-server.key"), NULL),
        PETREL_ERR_FILE_NOT_FOUND);
    assert_int_equal(petrel_config_load_credentials_file(cfg, PKI("ec-server-chain.pem"),
                                                         PKI("ec-server.enc.pem"), "wrong"),
                     PETREL_ERR_WRONG_PASSWORD);
    assert_int_equal(petrel_config_load_credentials_file(cfg, PKI("ec-server-chain.pem"),
                                                         PKI("ec-server.enc.pem"), "petrel-test"),
                     0);
    petrel_config_free(cfg);
}

static void ca_loading(void **state)
{
    (void)state;
    petrel_config *cfg = quiet_config();
    assert_int_equal(petrel_config_load_ca_file(cfg, PKI("ca-all.pem")), 0);
    assert_int_equal(petrel_config_load_ca_file(cfg, PKI("ec-root.crt")), 0); /* again: fine */
    assert_int_equal(petrel_config_load_ca_dir(cfg, PKI("cadir")), 0);
    size_t len;
    uint8_t *der = read_all(PKI("ec-int.der"), &len);
    assert_int_equal(petrel_config_load_ca_mem(cfg, der, len), 0);
    free(der);

    assert_int_equal(petrel_config_load_ca_file(cfg, PKI("missing.pem")),
                     PETREL_ERR_FILE_NOT_FOUND);
    assert_int_equal(petrel_config_load_ca_file(cfg, PKI("cadir")), PETREL_ERR_FILE_NOT_FOUND);
    assert_int_equal(petrel_config_load_ca_file(cfg, PKI("garbage.pem")), PETREL_ERR_CERT_PARSE);
    assert_int_equal(petrel_config_load_ca_file(cfg, PKI("notpem.txt")), PETREL_ERR_CERT_PARSE);
    assert_int_equal(petrel_config_load_ca_dir(cfg, PKI("missing-dir")), PETREL_ERR_FILE_NOT_FOUND);
    assert_int_equal(petrel_config_load_ca_dir(cfg, PKI("ca-all.pem")), PETREL_ERR_FILE_NOT_FOUND);

    /* A directory without a single certificate. */
    char dir[] = "/tmp/petrel-cadir-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/readme.txt", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("no certificates here\n", f);
    fclose(f);
    assert_int_equal(petrel_config_load_ca_dir(cfg, dir), PETREL_ERR_CERT_PARSE);
    unlink(path);
    rmdir(dir);
    petrel_config_free(cfg);
}

static void pinned_keys(void **state)
{
    (void)state;
    petrel_config *cfg = quiet_config();
    assert_int_equal(petrel_config_add_pinned_key_file(cfg, PKI("rpk-server.pub.pem")), 0);
    assert_int_equal(petrel_config_add_pinned_key_file(cfg, PKI("rpk-server.pub.der")), 0);
    assert_int_equal(petrel_config_add_pinned_key_file(cfg, PKI("rpk-client.key")), 0);
    assert_int_equal(petrel_config_add_pinned_key_file(cfg, PKI("missing.pem")),
                     PETREL_ERR_FILE_NOT_FOUND);
    assert_int_equal(petrel_config_add_pinned_key_file(cfg, PKI("garbage.pem")),
                     PETREL_ERR_KEY_PARSE);
    for (int i = 3; i < 16; i++)
        assert_int_equal(petrel_config_add_pinned_key_file(cfg, PKI("rpk-server.pub.pem")), 0);
    assert_int_equal(petrel_config_add_pinned_key_file(cfg, PKI("rpk-server.pub.pem")),
                     PETREL_ERR_LIMIT);
    petrel_config_free(cfg);
}

static void policy_arguments(void **state)
{
    (void)state;
    petrel_config *cfg = quiet_config();
    assert_int_equal(petrel_config_set_verify(cfg, PETREL_VERIFY_OPTIONAL, 0), 0);
    assert_int_equal(petrel_config_set_verify(cfg, PETREL_VERIFY_REQUIRE, 100), 0);
    assert_int_equal(petrel_config_set_verify(cfg, PETREL_VERIFY_REQUIRE, 101), PETREL_ERR_ARG);
    assert_int_equal(petrel_config_set_verify(cfg, PETREL_VERIFY_NONE, PETREL_VERIFY_DEPTH_ZERO),
                     0);
    assert_int_equal(petrel_config_set_verify(cfg, (petrel_verify_mode)7, 0), PETREL_ERR_ARG);
    char long_name[300];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    assert_int_equal(petrel_config_set_server_name(cfg, long_name), PETREL_ERR_ARG);
    assert_int_equal(petrel_config_set_server_name(cfg, ""), PETREL_ERR_ARG);
    assert_int_equal(petrel_config_set_server_name(cfg, "coap.example"), 0);
    assert_int_equal(petrel_config_set_server_name(cfg, NULL), 0);
    static const uint16_t groups[] = {0x001d, 0x0018};
    static const uint16_t bad_group[] = {0x0019}; /* secp521r1: not offered */
    assert_int_equal(petrel_config_set_groups(cfg, groups, 2), 0);
    assert_int_equal(petrel_config_set_groups(cfg, bad_group, 1), PETREL_ERR_UNSUPPORTED);

    /* A server connection cannot take a server name; app data round trips. */
    static const uint8_t peer[] = {127, 0, 0, 1, 0, 1};
    petrel_conn *server = petrel_conn_new(cfg, PETREL_SERVER, PETREL_DATAGRAM, peer, 6);
    assert_non_null(server);
    assert_int_equal(petrel_conn_set_server_name(server, "x"), PETREL_ERR_ARG);
    assert_null(petrel_conn_app_data(server));
    petrel_conn_set_app_data(server, cfg);
    assert_ptr_equal(petrel_conn_app_data(server), cfg);
    assert_int_equal(petrel_peer_certificate_type(server), PETREL_CERT_TYPE_NONE);
    petrel_conn_free(server);
    petrel_config_free(cfg);
}

/* A client holding a chain but no key is told so before it sends. */
static void chain_without_key(void **state)
{
    (void)state;
    petrel_config *cfg = quiet_config();
    assert_int_equal(petrel_config_load_ca_file(cfg, PKI("ca-all.pem")), 0);
    assert_int_equal(petrel_config_load_cert_chain_file(cfg, PKI("ec-client-chain.pem")), 0);
    petrel_conn *client = petrel_conn_new(cfg, PETREL_CLIENT, PETREL_DATAGRAM, NULL, 0);
    assert_non_null(client);
    assert_int_equal(petrel_connect(client), PETREL_ERR_NO_CREDENTIALS);
    petrel_conn_free(client);
    petrel_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chain_loads),      cmocka_unit_test(chain_errors),
        cmocka_unit_test(chain_too_long),   cmocka_unit_test(every_key_encoding_loads),
        cmocka_unit_test(key_errors),       cmocka_unit_test(key_and_certificate_must_match),
        cmocka_unit_test(ca_loading),       cmocka_unit_test(pinned_keys),
        cmocka_unit_test(policy_arguments), cmocka_unit_test(chain_without_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
