/*
 * Shared by the libFuzzer targets in tests/fuzz and by the seed generator
 * tests/fuzz/make_corpus.c, so that the seeds it writes are read exactly
 * the way it wrote them:
 *
 *   - FUZZ_CHECK, an abort() that holds in release builds too;
 *   - the fixed AEAD keys fuzz_record opens records with;
 *   - the platform of the engine targets (fuzz_server, fuzz_client): a
 *     virtual clock, a seeded splitmix64 RNG, reset for every input, and
 *     a time hook fixed at 2026-01-01 (inside the test certificates'
 *     validity);
 *   - the test PKI (tests/pki) those targets' certificate configs use,
 *     read once at startup (fuzz_pki_load);
 *   - the options byte and the datagram framing of those targets.
 *
 * Engine target input (fuzz_server, fuzz_client):
 *
 *   uint8  options;          FUZZ_OPT_* bits, see fuzz_engine_config()
 *   repeated until the input ends {
 *       uint16 delay_ms;     big-endian: the virtual clock advances by this
 *                            much, then petrel_handle_timeout runs
 *       uint16 length;       big-endian; a last datagram cut short by the
 *                            end of the input keeps the bytes that remain
 *       opaque datagram[length];
 *   }
 *
 * Everything here is static inline: each target includes what it uses.
 */
#ifndef PETREL_TESTS_FUZZ_COMMON_H
#define PETREL_TESTS_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <petrel/petrel.h>

/* Not assert(): this must hold in release builds too. */
#define FUZZ_CHECK(cond) \
    do {                 \
        if (!(cond))     \
            abort();     \
    } while (0)

/* ---- fuzz_record: fixed keys ---- */

#define FUZZ_SUITE_CCM_8  0xC0A8 /* TLS_PSK_WITH_AES_128_CCM_8 */
#define FUZZ_SUITE_CHACHA 0xCCAB /* TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 */

/* Key and IV bytes for both ciphers; each takes the prefix it needs
 * (CCM_8: 16-byte key, 4-byte salt; ChaCha: 32-byte key, 12-byte IV). */
static const uint8_t fuzz_record_key[32] = {
    0x70, 0x65, 0x74, 0x72, 0x65, 0x6c, 0x2d, 0x66, 0x75, 0x7a, 0x7a, 0x2d, 0x6b, 0x65, 0x79, 0x31,
    0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
static const uint8_t fuzz_record_iv[12] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5,
                                           0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab};

/* ---- engine targets: platform ---- */

/* The same start, seed, peer and PSK as tests/support/pair.c, so that the
 * seeds recorded from a pair replay exactly. */
#define FUZZ_START_MS UINT64_C(1000000)
#define FUZZ_RNG_SEED UINT64_C(0x70657472656c2146) /* "petrel!F" */

static const uint8_t fuzz_peer_id[6] = {127, 0, 0, 1, 0x13, 0x88};
static const uint8_t fuzz_psk_identity[6] = {'c', 'l', 'i', 'e', 'n', 't'};
static const uint8_t fuzz_psk_key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

/* 2026-01-01T00:00:00Z, what the time hook always says: inside the
 * validity (2024..2124) of every good certificate in tests/pki, as
 * PAIR_WALL_TIME in tests/support/pair.h, so that chain checks give the
 * same answer on every run. */
#define FUZZ_WALL_TIME INT64_C(1767225600)

/* One input's world: the virtual clock and the RNG state. */
typedef struct fuzz_env {
    uint64_t now;
    uint64_t rng;
} fuzz_env;

static inline uint64_t fuzz_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static inline uint64_t fuzz_env_clock(void *ref)
{
    return ((fuzz_env *)ref)->now;
}

static inline int fuzz_env_rng(void *ref, uint8_t *buf, size_t len)
{
    fuzz_env *env = ref;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t v = fuzz_splitmix64(&env->rng);
        size_t n = len - i < 8 ? len - i : 8;
        memcpy(buf + i, &v, n);
    }
    return 0;
}

static inline int64_t fuzz_env_time(void *ref)
{
    (void)ref;
    return FUZZ_WALL_TIME;
}

/* A platform on env's clock and RNG (both reset to the fixed start), the
 * fixed wall-clock time, the default allocator, and no logging. */
static inline petrel_platform fuzz_env_platform(fuzz_env *env)
{
    env->now = FUZZ_START_MS;
    env->rng = FUZZ_RNG_SEED;
    petrel_platform p = petrel_platform_default();
    p.clock_ms = fuzz_env_clock;
    p.clock_ref = env;
    p.rng = fuzz_env_rng;
    p.rng_ref = env;
    p.time_s = fuzz_env_time;
    p.time_ref = NULL;
    p.log_level = PETREL_LOG_NONE;
    return p;
}

/* ---- engine targets: the test PKI ---- */

/* The fuzz targets get PETREL_SOURCE_DIR from CMake; make_corpus runs
 * from the source root. */
#ifndef PETREL_SOURCE_DIR
#define PETREL_SOURCE_DIR "."
#endif

/* The tests/pki files the certificate configs load (test-only keys, public
 * by design: see tests/pki/README.md). */
typedef enum fuzz_pki_file {
    FUZZ_PKI_CA_ALL,           /* ca-all.pem: the EC and RSA roots */
    FUZZ_PKI_EC_SERVER_CHAIN,  /* leaf + intermediate */
    FUZZ_PKI_EC_SERVER_KEY,    /* SEC1 PEM */
    FUZZ_PKI_EC_CLIENT_CHAIN,  /* leaf + intermediate, EKU clientAuth */
    FUZZ_PKI_EC_CLIENT_KEY,    /* SEC1 PEM */
    FUZZ_PKI_RSA_SERVER_CHAIN, /* leaf + two intermediates */
    FUZZ_PKI_RSA_SERVER_KEY,   /* PKCS#1 PEM */
    FUZZ_PKI_RSA_CLIENT_CHAIN, /* leaf + two intermediates, EKU clientAuth */
    FUZZ_PKI_RSA_CLIENT_KEY,   /* PKCS#1 PEM */
    FUZZ_PKI_RPK_SERVER_KEY,   /* a P-256 key with no certificate */
    FUZZ_PKI_RPK_SERVER_PUB,   /* its SubjectPublicKeyInfo, DER */
    FUZZ_PKI_RPK_CLIENT_KEY,
    FUZZ_PKI_RPK_CLIENT_PUB,
    FUZZ_PKI_COUNT
} fuzz_pki_file;

static const char *const fuzz_pki_names[FUZZ_PKI_COUNT] = {
    "ca-all.pem",         "ec-server-chain.pem",  "ec-server.key",      "ec-client-chain.pem",
    "ec-client.key",      "rsa-server-chain.pem", "rsa-server.key",     "rsa-client-chain.pem",
    "rsa-client.key",     "rpk-server.key",       "rpk-server.pub.der", "rpk-client.key",
    "rpk-client.pub.der",
};

typedef struct fuzz_blob {
    uint8_t *data;
    size_t len;
} fuzz_blob;

/* The files' contents (empty until fuzz_pki_load). */
static inline fuzz_blob *fuzz_pki(void)
{
    static fuzz_blob files[FUZZ_PKI_COUNT];
    return files;
}

/* Reads every file once; a missing one ends the process with a message
 * (the targets run from a build of the source tree). The buffers live
 * until the process exits. */
static inline void fuzz_pki_load(void)
{
    fuzz_blob *files = fuzz_pki();
    for (int i = 0; i < FUZZ_PKI_COUNT; i++) {
        if (files[i].data)
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/tests/pki/%s", PETREL_SOURCE_DIR, fuzz_pki_names[i]);
        FILE *f = fopen(path, "rb");
        long size = -1;
        if (f && fseek(f, 0, SEEK_END) == 0)
            size = ftell(f);
        uint8_t *data = size > 0 ? malloc((size_t)size) : NULL;
        if (!data || fseek(f, 0, SEEK_SET) != 0 ||
            fread(data, 1, (size_t)size, f) != (size_t)size) {
            fprintf(stderr, "fuzz: cannot read %s\n", path);
            abort();
        }
        fclose(f);
        files[i].data = data;
        files[i].len = (size_t)size;
    }
}

/* ---- engine targets: the options byte ---- */

#define FUZZ_OPT_SUITE_MASK 0x07 /* 0 and 7: the default list; 1..6: one suite */
#define FUZZ_OPT_PMTU_200   0x08 /* PMTU 200 instead of the default 1232 */
/* PSK: the server sends the identity hint "hint". Certificates and raw
 * public keys: RSA keys (and chains) instead of EC ones. */
#define FUZZ_OPT_PSK_HINT 0x10
#define FUZZ_OPT_RSA      0x10
/* fuzz_server: create the connection on the first datagram, whatever
 * petrel_server_check_hello says. */
#define FUZZ_OPT_NO_GATE 0x20
/* The credentials, bits 6-7: */
#define FUZZ_OPT_CREDS_MASK 0xC0
/* The PSK "client" / 01..10 on both sides. */
#define FUZZ_OPT_CREDS_PSK 0x00
/* X.509: the server presents ec-server-chain.pem (with FUZZ_OPT_RSA the
 * three-certificate rsa-server-chain.pem) and asks for no certificate;
 * the client trusts ca-all.pem and expects the name "localhost" (sent as
 * server_name). */
#define FUZZ_OPT_CREDS_CERT 0x40
/* As FUZZ_OPT_CREDS_CERT, and the server requires a client certificate
 * from ca-all.pem's CAs: the client presents ec-client-chain.pem
 * (rsa-client-chain.pem). */
#define FUZZ_OPT_CREDS_CLIENT_AUTH 0x80
/* Raw public keys (RFC 7250) both ways: rpk-server.key and rpk-client.key
 * (rsa-server.key and rsa-client.key), each side pinning the other's; the
 * server requires the client's key. */
#define FUZZ_OPT_CREDS_RPK 0xC0

static const uint16_t fuzz_option_suites[6] = {0xC0A8, 0xC0A4, 0x00A8, 0x00A9, 0xCCAB, 0xCCAC};

/* Certificates and raw public keys with suites 7: the default certificate
 * suites, and fuzz_cert_callback as the validation callback on both
 * sides. */
#define FUZZ_OPT_CERT_CALLBACK 0x07
/* The certificate suites: the default list of the certificate configs
 * (options 0 and 7), and 1..6 of the options pick one of the first six
 * (1..4 are ECDSA suites, 5 and 6 RSA ones: they need FUZZ_OPT_RSA). */
static const uint16_t fuzz_option_cert_suites[8] = {0xC0AE, 0xC0AC, 0xC02B, 0xCCA9,
                                                    0xC02F, 0xCCA8, 0xC02C, 0xC030};

static inline void fuzz_check_string(const char *s)
{
    FUZZ_CHECK(s != NULL);
    FUZZ_CHECK(strlen(s) < 1u << 20); /* reads every byte, for ASan */
}

static inline void fuzz_check_dn(const petrel_dn *dn)
{
    fuzz_check_string(dn->text);
    FUZZ_CHECK(dn->attrs != NULL || dn->count == 0);
    for (size_t i = 0; i < dn->count; i++) {
        fuzz_check_string(dn->attrs[i].type);
        fuzz_check_string(dn->attrs[i].value);
    }
}

/* The validation callback (FUZZ_OPT_CERT_CALLBACK): checks and reads
 * every field of what petrel parsed out of the peer's chain, then gives
 * petrel's own verdict back (0 accepts, an alert refuses with it), so the
 * handshake goes as it would without a callback. */
static inline int fuzz_cert_callback(void *ref, petrel_conn *conn, const petrel_cert_info *chain,
                                     size_t count, int alert)
{
    (void)ref;
    FUZZ_CHECK(conn != NULL && chain != NULL && count >= 1);
    FUZZ_CHECK(alert >= 0 && alert <= 255);
    volatile uint8_t sum = 0; /* every byte is read, for ASan */
    for (size_t i = 0; i < count; i++) {
        const petrel_cert_info *c = &chain[i];
        FUZZ_CHECK(c->der != NULL && c->der_len > 0);
        for (size_t j = 0; j < c->der_len; j++)
            sum ^= c->der[j];
        FUZZ_CHECK(c->auth_status >= PETREL_CERT_AUTH_UNTESTED &&
                   c->auth_status <= PETREL_CERT_AUTH_FAIL_OTHER);
        fuzz_check_string(c->key_algorithm);
        if (c->key_curve)
            fuzz_check_string(c->key_curve);
        if (c->is_raw_public_key) {
            FUZZ_CHECK(count == 1);
            continue;
        }
        FUZZ_CHECK(c->version >= 1 && c->version <= 3);
        FUZZ_CHECK(c->serial != NULL || c->serial_len == 0);
        for (size_t j = 0; j < c->serial_len; j++)
            sum ^= c->serial[j];
        fuzz_check_dn(&c->subject);
        fuzz_check_dn(&c->issuer);
        fuzz_check_string(c->signature_algorithm);
        FUZZ_CHECK(c->san != NULL || c->san_count == 0);
        for (size_t j = 0; j < c->san_count; j++) {
            FUZZ_CHECK(c->san[j].type >= PETREL_SAN_DNS && c->san[j].type <= PETREL_SAN_OTHER);
            fuzz_check_string(c->san[j].value);
        }
        FUZZ_CHECK(c->path_len >= -1);
        FUZZ_CHECK(c->is_ca ? c->has_basic_constraints : true);
    }
    (void)sum;
    return alert;
}

/* This side's certificate configuration as the options byte asks. */
static inline bool fuzz_cert_config(petrel_config *cfg, uint8_t options, petrel_role role)
{
    const fuzz_blob *pki = fuzz_pki();
    unsigned creds = options & FUZZ_OPT_CREDS_MASK;
    unsigned suite = options & FUZZ_OPT_SUITE_MASK;
    bool rsa = options & FUZZ_OPT_RSA;
    bool server = role == PETREL_SERVER;
    const fuzz_blob *chain, *key, *peer_key;
    if (server) {
        chain = &pki[rsa ? FUZZ_PKI_RSA_SERVER_CHAIN : FUZZ_PKI_EC_SERVER_CHAIN];
        key = &pki[rsa                           ? FUZZ_PKI_RSA_SERVER_KEY
                   : creds == FUZZ_OPT_CREDS_RPK ? FUZZ_PKI_RPK_SERVER_KEY
                                                 : FUZZ_PKI_EC_SERVER_KEY];
        /* A private key pins its public half. */
        peer_key = &pki[rsa ? FUZZ_PKI_RSA_CLIENT_KEY : FUZZ_PKI_RPK_CLIENT_PUB];
    } else {
        chain = &pki[rsa ? FUZZ_PKI_RSA_CLIENT_CHAIN : FUZZ_PKI_EC_CLIENT_CHAIN];
        key = &pki[rsa                           ? FUZZ_PKI_RSA_CLIENT_KEY
                   : creds == FUZZ_OPT_CREDS_RPK ? FUZZ_PKI_RPK_CLIENT_KEY
                                                 : FUZZ_PKI_EC_CLIENT_KEY];
        peer_key = &pki[rsa ? FUZZ_PKI_RSA_SERVER_KEY : FUZZ_PKI_RPK_SERVER_PUB];
    }
    bool ok = suite >= 1 && suite <= 6
                  ? petrel_config_set_suites(cfg, &fuzz_option_cert_suites[suite - 1], 1) == 0
                  : petrel_config_set_suites(cfg, fuzz_option_cert_suites, 8) == 0;
    if (!server)
        ok = ok && petrel_config_set_server_name(cfg, "localhost") == 0;
    if (suite == FUZZ_OPT_CERT_CALLBACK)
        ok = ok && petrel_config_set_cert_callback(cfg, fuzz_cert_callback, NULL) == 0;
    if (creds == FUZZ_OPT_CREDS_RPK) {
        ok = ok && petrel_config_set_raw_public_keys(cfg, true) == 0 &&
             petrel_config_load_key_mem(cfg, key->data, key->len, NULL) == 0 &&
             petrel_config_add_pinned_key(cfg, peer_key->data, peer_key->len) == 0;
        if (server)
            ok = ok && petrel_config_set_verify(cfg, PETREL_VERIFY_REQUIRE, 0) == 0;
        return ok;
    }
    const fuzz_blob *ca = &pki[FUZZ_PKI_CA_ALL];
    bool own_chain = server || creds == FUZZ_OPT_CREDS_CLIENT_AUTH;
    if (own_chain)
        ok = ok && petrel_config_load_cert_chain_mem(cfg, chain->data, chain->len) == 0 &&
             petrel_config_load_key_mem(cfg, key->data, key->len, NULL) == 0;
    if (!server || creds == FUZZ_OPT_CREDS_CLIENT_AUTH)
        ok = ok && petrel_config_load_ca_mem(cfg, ca->data, ca->len) == 0;
    if (server && creds == FUZZ_OPT_CREDS_CLIENT_AUTH)
        ok = ok && petrel_config_set_verify(cfg, PETREL_VERIFY_REQUIRE, 0) == 0;
    return ok;
}

/* The config for one role as the options byte asks. The RNG draws (the
 * cookie secret) happen in petrel_config_new, in the same order for the
 * target and for make_corpus. The certificate configs need fuzz_pki_load
 * first. Returns NULL only when out of memory. */
static inline petrel_config *fuzz_engine_config(const petrel_platform *platform, uint8_t options,
                                                petrel_role role)
{
    petrel_config *cfg = petrel_config_new(platform);
    if (!cfg)
        return NULL;
    unsigned suite = options & FUZZ_OPT_SUITE_MASK;
    bool ok;
    if ((options & FUZZ_OPT_CREDS_MASK) == FUZZ_OPT_CREDS_PSK) {
        ok = petrel_config_set_psk(cfg, fuzz_psk_identity, sizeof(fuzz_psk_identity), fuzz_psk_key,
                                   sizeof(fuzz_psk_key)) == 0;
        if (ok && suite >= 1 && suite <= 6)
            ok = petrel_config_set_suites(cfg, &fuzz_option_suites[suite - 1], 1) == 0;
        if (ok && role == PETREL_SERVER && (options & FUZZ_OPT_PSK_HINT))
            ok = petrel_config_set_psk_hint(cfg, (const uint8_t *)"hint", 4) == 0;
    } else {
        ok = fuzz_cert_config(cfg, options, role);
    }
    if (ok && (options & FUZZ_OPT_PMTU_200))
        ok = petrel_config_set_pmtu(cfg, 200) == 0;
    /* Every call above takes valid arguments: only memory can fail. */
    if (!ok) {
        petrel_config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* ---- engine targets: datagram framing ---- */

typedef struct fuzz_frames {
    const uint8_t *data;
    size_t len;
    size_t pos;
} fuzz_frames;

/* The next datagram; false at the end of the input. A header cut short
 * ends the input; a body cut short keeps what there is. */
static inline bool fuzz_next_frame(fuzz_frames *f, uint16_t *delay_ms, const uint8_t **dgram,
                                   size_t *dgram_len)
{
    if (f->len - f->pos < 4)
        return false;
    const uint8_t *h = f->data + f->pos;
    *delay_ms = (uint16_t)(h[0] << 8 | h[1]);
    size_t n = (size_t)(h[2] << 8 | h[3]);
    f->pos += 4;
    if (n > f->len - f->pos)
        n = f->len - f->pos;
    *dgram = f->data + f->pos;
    *dgram_len = n;
    f->pos += n;
    return true;
}

#endif
