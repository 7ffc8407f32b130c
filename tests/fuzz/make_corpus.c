/*
 * Seed generator for the fuzz targets in tests/fuzz. Not part of the build:
 * build and run it by hand when a seed format or the handshake changes,
 * then commit what it writes.
 *
 *   # from the source root, after building the fuzz targets into BUILD
 *   # (cmake -DCMAKE_C_COMPILER=clang -DPETREL_FUZZ=ON ..., as scripts/fuzz.sh):
 *   clang -std=c11 -fsanitize=address,undefined -I. -Iinclude -IBUILD/include \
 *       tests/fuzz/make_corpus.c tests/support/pair.c tests/lossy/impair.c \
 *       BUILD/libpetrel.a -lcrypto -lm -o /tmp/make_corpus
 *   find tests/fuzz/corpus/{record,handshake_messages,reassembly,server,client} \
 *       -type f ! -name 'peer-*' -delete
 *   /tmp/make_corpus tests/fuzz/corpus
 *
 * (With a build made without PETREL_FUZZ, drop the -fsanitize flag. Run it
 * from the source root: it reads tests/pki, or compile it with
 * -DPETREL_SOURCE_DIR='"/path/to/source"'.)
 *
 * It runs real in-process handshakes with tests/support/pair.c, one per
 * scenario (credentials: PSK, X.509 chains with and without a client
 * certificate, raw public keys; a suite, PMTU 1232 or 200, a PSK hint, a
 * lost flight), recording every datagram through the pair's filter
 * callback, and writes:
 *
 *   corpus/server/   the client's datagrams of each handshake, in the
 *                    framing of fuzz_server (fuzz_common.h);
 *   corpus/client/   the server's datagrams, framed for fuzz_client;
 *   corpus/record/   single datagrams of those handshakes, and datagrams
 *                    whose records are sealed under fuzz_record's fixed keys;
 *   corpus/handshake_messages/  the epoch-0 handshake messages of those
 *                    handshakes (the certificate messages and the
 *                    server_name and certificate type extensions too), and
 *                    messages built with the _write codecs;
 *   corpus/reassembly/  the handshake fragments of the PMTU-200 handshakes
 *                    and hand-made fragment sequences, in fuzz_reassembly's
 *                    format.
 *
 * The configs of both sides come from fuzz_engine_config() with their own
 * fuzz_env RNG, exactly as the targets build them, so that the recorded
 * server datagrams answer the ClientHellos fuzz_client sends, and the
 * recorded client datagrams carry cookies and Finished messages that
 * fuzz_server accepts. Signatures come out the same too: fuzz_engine_setup
 * makes libcrypto's DRBG fixed here as in the targets, so the recorded
 * ServerKeyExchange and CertificateVerify are the ones the replaying side
 * makes itself, and the Finished messages, which cover them, verify.
 * Every engine seed is replayed through the targets' own loops
 * (fuzz_engine.h) and must complete the handshake and carry application
 * data; the generator fails otherwise.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dtls/reassembly.h"
#include "dtls/record.h"
#include "handshake/messages.h"
#include "tests/fuzz/fuzz_engine.h"
#include "tests/support/pair.h"

#define MAX_RECORDED 64
#define MAX_SEED     16384

static const char *corpus_root;
static size_t files_written[5];
enum { OUT_RECORD, OUT_MESSAGES, OUT_REASSEMBLY, OUT_SERVER, OUT_CLIENT };
static const char *const out_dirs[5] = {"record", "handshake_messages", "reassembly", "server",
                                        "client"};

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "make_corpus: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static void make_dir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        die("cannot create %s: %s", path, strerror(errno));
}

static void write_seed(int out, const char *name, const uint8_t *data, size_t len)
{
    if (len > MAX_SEED)
        die("seed %s/%s is %zu bytes, over %d", out_dirs[out], name, len, MAX_SEED);
    char path[512];
    snprintf(path, sizeof(path), "%s/%s/%s", corpus_root, out_dirs[out], name);
    FILE *f = fopen(path, "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0)
        die("cannot write %s", path);
    files_written[out]++;
}

/* A growing byte buffer for building seeds. */
typedef struct bytes {
    uint8_t data[MAX_SEED];
    size_t len;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
    if (n > sizeof(b->data) - b->len)
        die("seed over %d bytes", MAX_SEED);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_u8(bytes *b, unsigned v)
{
    uint8_t x = (uint8_t)v;
    put(b, &x, 1);
}

static void put_u16(bytes *b, unsigned v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 2);
}

/* ======================================================================
 * Recording handshakes
 * ====================================================================== */

typedef struct recorded {
    uint64_t deliver_at;
    bool delivered; /* false: the scenario dropped it */
    size_t len;
    uint8_t data[PAIR_MAX_DATAGRAM];
} recorded;

typedef struct recording {
    pair *p;
    size_t drop_index[2]; /* per direction: this datagram is lost; SIZE_MAX: none */
    size_t count[2];
    recorded dgrams[2][MAX_RECORDED];
} recording;

static bool record_filter(void *ref, int direction, size_t index, uint8_t *dgram, size_t *len)
{
    recording *rec = ref;
    bool pass = index != rec->drop_index[direction];
    if (rec->count[direction] == MAX_RECORDED)
        die("more than %d datagrams in one direction", MAX_RECORDED);
    recorded *d = &rec->dgrams[direction][rec->count[direction]++];
    d->deliver_at = rec->p->now + rec->p->latency;
    d->delivered = pass;
    d->len = *len;
    memcpy(d->data, dgram, *len);
    return pass;
}

static uint64_t pair_now(void *ref)
{
    return ((pair *)ref)->now;
}

typedef struct scenario {
    const char *name;
    uint8_t options;
    size_t drop_to_server; /* index of a client datagram that is lost */
    size_t drop_to_client;
} scenario;

#define NO_DROP SIZE_MAX

static const scenario scenarios[] = {
    {"psk_ccm8", 0x01, NO_DROP, NO_DROP},
    {"psk_ccm", 0x02, NO_DROP, NO_DROP},
    {"psk_gcm128", 0x03, NO_DROP, NO_DROP},
    {"psk_gcm256", 0x04, NO_DROP, NO_DROP},
    {"psk_chacha", 0x05, NO_DROP, NO_DROP},
    {"ecdhe_chacha", 0x06, NO_DROP, NO_DROP},
    {"default_suites", 0x00, NO_DROP, NO_DROP},
    {"default_suites_hint", FUZZ_OPT_PSK_HINT, NO_DROP, NO_DROP},
    {"psk_ccm8_pmtu200", 0x01 | FUZZ_OPT_PMTU_200, NO_DROP, NO_DROP},
    {"ecdhe_chacha_pmtu200", 0x06 | FUZZ_OPT_PMTU_200, NO_DROP, NO_DROP},
    /* The client's flight 3 is lost once: it is resent on the timer. The
     * server's flight 2 is lost once: the client resends its ClientHello,
     * which makes the server resend the flight. */
    {"psk_ccm8_lost_flight3", 0x01, 2, NO_DROP},
    {"ecdhe_chacha_lost_flight2", 0x06, NO_DROP, 1},
    /* Certificates (fuzz_common.h): the ECDSA chain with the default
     * certificate suites (CCM_8), GCM and ChaCha20; the RSA chain of three
     * certificates (RSA-PSS signatures); both at PMTU 200, where the
     * Certificate message comes in many fragments. */
    {"cert_ecdsa", FUZZ_OPT_CREDS_CERT, NO_DROP, NO_DROP},
    {"cert_ecdsa_gcm", FUZZ_OPT_CREDS_CERT | 0x03, NO_DROP, NO_DROP},
    {"cert_ecdsa_chacha", FUZZ_OPT_CREDS_CERT | 0x04, NO_DROP, NO_DROP},
    {"cert_ecdsa_pmtu200", FUZZ_OPT_CREDS_CERT | FUZZ_OPT_PMTU_200, NO_DROP, NO_DROP},
    {"cert_rsa", FUZZ_OPT_CREDS_CERT | FUZZ_OPT_RSA, NO_DROP, NO_DROP},
    {"cert_rsa_pmtu200", FUZZ_OPT_CREDS_CERT | FUZZ_OPT_RSA | FUZZ_OPT_PMTU_200, NO_DROP, NO_DROP},
    /* Client authentication: CertificateRequest, the client's Certificate
     * and CertificateVerify. */
    {"cert_client_auth", FUZZ_OPT_CREDS_CLIENT_AUTH, NO_DROP, NO_DROP},
    {"cert_client_auth_rsa", FUZZ_OPT_CREDS_CLIENT_AUTH | FUZZ_OPT_RSA, NO_DROP, NO_DROP},
    {"cert_client_auth_pmtu200", FUZZ_OPT_CREDS_CLIENT_AUTH | FUZZ_OPT_PMTU_200, NO_DROP, NO_DROP},
    /* Both sides with the validation callback (it sees the chains as
     * petrel parsed them). */
    {"cert_client_auth_callback", FUZZ_OPT_CREDS_CLIENT_AUTH | FUZZ_OPT_CERT_CALLBACK, NO_DROP,
     NO_DROP},
    /* Raw public keys both ways: the certificate type extensions. */
    {"rpk", FUZZ_OPT_CREDS_RPK, NO_DROP, NO_DROP},
    {"rpk_rsa", FUZZ_OPT_CREDS_RPK | FUZZ_OPT_RSA, NO_DROP, NO_DROP},
    /* The server's certificate flight loses its second datagram once; the
     * client's flight with its certificate is lost once. */
    {"cert_ecdsa_pmtu200_lost_flight4", FUZZ_OPT_CREDS_CERT | FUZZ_OPT_PMTU_200, NO_DROP, 2},
    {"cert_client_auth_lost_flight5", FUZZ_OPT_CREDS_CLIENT_AUTH, 2, NO_DROP},
};

/* Runs one handshake, then application data both ways and a close_notify
 * from the client. */
static void run_scenario(const scenario *sc, recording *rec)
{
    pair *p = calloc(1, sizeof(*p));
    if (!p)
        die("out of memory");
    pair_init(p, 1);
    petrel_config_free(p->client_cfg);
    petrel_config_free(p->server_cfg);

    /* Each side on its own RNG, seeded as in the targets, on the pair's
     * clock. */
    fuzz_env client_env, server_env;
    petrel_platform client_platform = fuzz_env_platform(&client_env);
    petrel_platform server_platform = fuzz_env_platform(&server_env);
    client_platform.clock_ms = server_platform.clock_ms = pair_now;
    client_platform.clock_ref = server_platform.clock_ref = p;
    p->client_cfg = fuzz_engine_config(&client_platform, sc->options, PETREL_CLIENT);
    p->server_cfg = fuzz_engine_config(&server_platform, sc->options, PETREL_SERVER);
    if (!p->client_cfg || !p->server_cfg)
        die("%s: config", sc->name);
    if (p->now != FUZZ_START_MS)
        die("the pair starts at %llu ms, the targets at %llu", (unsigned long long)p->now,
            (unsigned long long)FUZZ_START_MS);

    memset(rec, 0, sizeof(*rec));
    rec->p = p;
    rec->drop_index[PAIR_TO_SERVER] = sc->drop_to_server;
    rec->drop_index[PAIR_TO_CLIENT] = sc->drop_to_client;
    p->filter = record_filter;
    p->filter_ref = rec;

    int rc = pair_start(p);
    if (rc == 0)
        rc = pair_run(p, 60000);
    if (rc != 0)
        die("%s: handshake failed: %s", sc->name, petrel_error_name(rc));
    static const uint8_t ping[] = "ping from the client";
    static const uint8_t pong[] = "pong from the server";
    if (pair_send_app(p, true, ping, sizeof(ping), 5000) != 0 ||
        pair_send_app(p, false, pong, sizeof(pong), 5000) != 0)
        die("%s: application data", sc->name);
    if (petrel_close_notify(p->client) < 0)
        die("%s: close_notify", sc->name);
    (void)pair_settle(p, 5000);
    pair_free(p);
    free(p);
}

/* The datagrams delivered in one direction, framed for the engine targets:
 * the delay of each is its delivery time minus the previous one's. */
static void frame_seed(const recording *rec, int direction, uint8_t options, bytes *out)
{
    out->len = 0;
    put_u8(out, options);
    uint64_t last = FUZZ_START_MS;
    for (size_t i = 0; i < rec->count[direction]; i++) {
        const recorded *d = &rec->dgrams[direction][i];
        if (!d->delivered)
            continue;
        uint64_t delay = d->deliver_at - last;
        if (d->deliver_at < last || delay > 0xFFFF || d->len > 0xFFFF)
            die("datagram %zu does not fit the framing", i);
        put_u16(out, (unsigned)delay);
        put_u16(out, (unsigned)d->len);
        put(out, d->data, d->len);
        last = d->deliver_at;
    }
}

static void write_engine_seeds(const scenario *sc, const recording *rec)
{
    bytes *b = malloc(sizeof(*b));
    if (!b)
        die("out of memory");

    frame_seed(rec, PAIR_TO_SERVER, sc->options, b);
    fuzz_engine_summary s = fuzz_run_server(b->data, b->len);
    if (s.handshakes_completed != 1 || s.app_data_records < 1)
        die("%s: the server seed does not replay (%zu handshakes, %zu app records)", sc->name,
            s.handshakes_completed, s.app_data_records);
    write_seed(OUT_SERVER, sc->name, b->data, b->len);
    if (sc->options == 0x05) {
        /* The same datagrams with the server's connection created for the
         * first, cookieless ClientHello: its own cookie exchange. */
        b->data[0] |= FUZZ_OPT_NO_GATE;
        s = fuzz_run_server(b->data, b->len);
        if (s.handshakes_completed != 1 || s.app_data_records < 1)
            die("%s: the no-gate server seed does not replay", sc->name);
        write_seed(OUT_SERVER, "psk_chacha_no_gate", b->data, b->len);
    }

    frame_seed(rec, PAIR_TO_CLIENT, sc->options, b);
    s = fuzz_run_client(b->data, b->len);
    if (s.handshakes_completed != 1 || s.app_data_records < 1)
        die("%s: the client seed does not replay (%zu handshakes, %zu app records)", sc->name,
            s.handshakes_completed, s.app_data_records);
    write_seed(OUT_CLIENT, sc->name, b->data, b->len);
    free(b);
}

/* ======================================================================
 * fuzz_record
 * ====================================================================== */

/* The datagrams of a few handshakes as they are, both directions. */
static void write_record_seeds_from(const scenario *sc, const recording *rec)
{
    for (int dir = 0; dir < 2; dir++) {
        for (size_t i = 0; i < rec->count[dir]; i++) {
            char name[128];
            snprintf(name, sizeof(name), "%s_%s_%02zu", sc->name,
                     dir == PAIR_TO_SERVER ? "c2s" : "s2c", i);
            write_seed(OUT_RECORD, name, rec->dgrams[dir][i].data, rec->dgrams[dir][i].len);
        }
    }
}

static crypto_aead_key *fixed_key(const hs_suite *suite)
{
    const crypto_aead_alg *alg = crypto_default_provider()->aead(suite->aead);
    crypto_aead_key *key = NULL;
    if (!alg || alg->key_new(alg, fuzz_record_key, &key) != 0)
        die("aead key");
    return key;
}

static void seal(const dtls_cipher *c, uint8_t type, uint16_t epoch, uint64_t seq,
                 const uint8_t *plain, size_t len, bytes *out)
{
    cursor_writer w = cursor_writer_init(out->data + out->len, sizeof(out->data) - out->len);
    if (dtls_record_write(c, type, 0xfefd, epoch, seq, plain, len, &w) != 0)
        die("record write");
    out->len += w.len;
}

static void write_sealed_record_seeds(void)
{
    dtls_cipher ccm8 = {hs_suite_find(FUZZ_SUITE_CCM_8), NULL, {0}};
    dtls_cipher chacha = {hs_suite_find(FUZZ_SUITE_CHACHA), NULL, {0}};
    ccm8.key = fixed_key(ccm8.suite);
    chacha.key = fixed_key(chacha.suite);
    memcpy(ccm8.iv, fuzz_record_iv, sizeof(ccm8.iv));
    memcpy(chacha.iv, fuzz_record_iv, sizeof(chacha.iv));
    static const dtls_cipher null_cipher;
    static const uint8_t text[] = "application data sealed under fuzz_record's fixed keys";
    static const uint8_t alert[2] = {1, 0};
    static const uint8_t ccs[1] = {1};
    uint8_t big[1000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7);
    bytes *b = malloc(sizeof(*b));
    if (!b)
        die("out of memory");

    b->len = 0;
    seal(&ccm8, DTLS_CT_APPLICATION_DATA, 1, 5, text, sizeof(text), b);
    write_seed(OUT_RECORD, "sealed_ccm8_app_data", b->data, b->len);

    b->len = 0;
    seal(&chacha, DTLS_CT_APPLICATION_DATA, 1, 7, text, sizeof(text), b);
    write_seed(OUT_RECORD, "sealed_chacha_app_data", b->data, b->len);

    b->len = 0;
    seal(&null_cipher, DTLS_CT_CHANGE_CIPHER_SPEC, 0, 3, ccs, sizeof(ccs), b);
    seal(&ccm8, DTLS_CT_ALERT, 1, 0, alert, sizeof(alert), b);
    seal(&chacha, DTLS_CT_ALERT, 1, 1, alert, sizeof(alert), b);
    seal(&chacha, DTLS_CT_APPLICATION_DATA, 1, 2, NULL, 0, b);
    seal(&ccm8, DTLS_CT_APPLICATION_DATA, 1, 3, NULL, 0, b);
    write_seed(OUT_RECORD, "sealed_mixed_records", b->data, b->len);

    b->len = 0;
    seal(&chacha, DTLS_CT_APPLICATION_DATA, 0xFFFF, DTLS_SEQ_MAX, big, sizeof(big), b);
    seal(&ccm8, DTLS_CT_HANDSHAKE, 2, 0x123456789ab, big, 300, b);
    write_seed(OUT_RECORD, "sealed_large_and_extreme_seq", b->data, b->len);

    /* A length over 2^14 + 2048, and a record cut short. */
    static const uint8_t too_long[13] = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0x48, 0x01};
    write_seed(OUT_RECORD, "length_over_limit", too_long, sizeof(too_long));
    b->len = 0;
    seal(&ccm8, DTLS_CT_APPLICATION_DATA, 1, 9, text, sizeof(text), b);
    write_seed(OUT_RECORD, "sealed_ccm8_truncated", b->data, b->len - 5);

    crypto_aead_key_free(ccm8.key);
    crypto_aead_key_free(chacha.key);
    free(b);
}

/* ======================================================================
 * fuzz_handshake_messages
 * ====================================================================== */

enum {
    CODEC_CLIENT_HELLO_TLS = 0,
    CODEC_CLIENT_HELLO_DTLS = 1,
    CODEC_SERVER_HELLO = 2,
    CODEC_HELLO_VERIFY_REQUEST = 3,
    CODEC_SKE_PSK = 4,
    CODEC_SKE_ECDHE = 5,
    CODEC_CKE_PSK = 6,
    CODEC_CKE_ECDHE = 7,
    CODEC_FINISHED = 8,
    CODEC_SERVER_HELLO_DONE = 9,
    CODEC_EXTENSIONS = 10,
    CODEC_CERTIFICATE = 11,
    CODEC_CERTIFICATE_RPK = 12,
    CODEC_SKE_SIGNED = 13,
    CODEC_CKE_EC = 14,
    CODEC_CERTIFICATE_REQUEST = 15,
    CODEC_CERTIFICATE_VERIFY = 16,
    CODEC_EXT_SERVER_NAME = 17,
    CODEC_EXT_CERT_TYPE_LIST = 18,
    CODEC_EXT_CERT_TYPE = 19,
};

/* One extension's body, if the block holds it, as a seed of codec. */
static void write_extension_seed(const char *scenario_name, const hs_extensions *ext, uint16_t type,
                                 int codec, const char *what);

static void write_message_seed(const char *name, int codec, const uint8_t *body, size_t len)
{
    bytes *b = malloc(sizeof(*b));
    if (!b)
        die("out of memory");
    b->len = 0;
    put_u8(b, (unsigned)codec);
    put(b, body, len);
    write_seed(OUT_MESSAGES, name, b->data, b->len);
    free(b);
}

static void write_extension_seed(const char *scenario_name, const hs_extensions *ext, uint16_t type,
                                 int codec, const char *what)
{
    const hs_extension *e = hs_extensions_find(ext, type);
    if (!e)
        return;
    char name[128];
    snprintf(name, sizeof(name), "%s_%s", scenario_name, what);
    write_message_seed(name, codec, e->data, e->len);
}

/* The epoch-0, unfragmented handshake messages of one handshake. */
static void write_captured_messages(const scenario *sc, const recording *rec)
{
    unsigned creds = sc->options & FUZZ_OPT_CREDS_MASK;
    bool certificates = creds != FUZZ_OPT_CREDS_PSK;
    bool ecdhe_psk = !certificates && (sc->options & FUZZ_OPT_SUITE_MASK) == 6;
    for (int dir = 0; dir < 2; dir++) {
        for (size_t i = 0; i < rec->count[dir]; i++) {
            const recorded *d = &rec->dgrams[dir][i];
            uint8_t copy[PAIR_MAX_DATAGRAM];
            memcpy(copy, d->data, d->len);
            cursor_reader r = cursor_reader_init(copy, d->len);
            dtls_record record;
            while (dtls_record_read(&r, copy, &record) == 0) {
                if (record.type != DTLS_CT_HANDSHAKE || record.epoch != 0)
                    continue;
                cursor_reader fr = cursor_reader_init(record.fragment, record.length);
                dtls_hs_fragment f;
                while (dtls_hs_fragment_read(&fr, &f) == 0) {
                    if (f.fragment_offset != 0 || f.fragment_length != f.length)
                        continue;
                    int codec;
                    switch (f.msg_type) {
                    case HS_CLIENT_HELLO:
                        codec = CODEC_CLIENT_HELLO_DTLS;
                        break;
                    case HS_SERVER_HELLO:
                        codec = CODEC_SERVER_HELLO;
                        break;
                    case HS_HELLO_VERIFY_REQUEST:
                        codec = CODEC_HELLO_VERIFY_REQUEST;
                        break;
                    case HS_SERVER_KEY_EXCHANGE:
                        codec = certificates ? CODEC_SKE_SIGNED
                                : ecdhe_psk  ? CODEC_SKE_ECDHE
                                             : CODEC_SKE_PSK;
                        break;
                    case HS_CLIENT_KEY_EXCHANGE:
                        codec = certificates ? CODEC_CKE_EC
                                : ecdhe_psk  ? CODEC_CKE_ECDHE
                                             : CODEC_CKE_PSK;
                        break;
                    case HS_SERVER_HELLO_DONE:
                        codec = CODEC_SERVER_HELLO_DONE;
                        break;
                    case HS_CERTIFICATE:
                        codec =
                            creds == FUZZ_OPT_CREDS_RPK ? CODEC_CERTIFICATE_RPK : CODEC_CERTIFICATE;
                        break;
                    case HS_CERTIFICATE_REQUEST:
                        codec = CODEC_CERTIFICATE_REQUEST;
                        break;
                    case HS_CERTIFICATE_VERIFY:
                        codec = CODEC_CERTIFICATE_VERIFY;
                        break;
                    default:
                        continue;
                    }
                    /* Both sides send a Certificate, with the same
                     * message_seq: the direction tells them apart. */
                    char name[128];
                    snprintf(name, sizeof(name), "%s_%smsg%u_seq%u", sc->name,
                             f.msg_type != HS_CERTIFICATE ? ""
                             : dir == PAIR_TO_SERVER      ? "client_"
                                                          : "server_",
                             f.msg_type, f.message_seq);
                    write_message_seed(name, codec, f.body, f.length);
                    if (f.msg_type == HS_CLIENT_HELLO && f.message_seq == 1) {
                        /* Its extensions block on its own, the server_name
                         * and certificate type lists in it, and the same
                         * hello in the TLS layout (no cookie). */
                        hs_client_hello ch;
                        cursor_reader br = cursor_reader_init(f.body, f.length);
                        if (hs_client_hello_read(&br, &ch, true) != 0)
                            die("captured ClientHello does not parse");
                        snprintf(name, sizeof(name), "%s_client_extensions", sc->name);
                        write_message_seed(name, CODEC_EXTENSIONS, ch.extensions_raw,
                                           ch.extensions_raw_len);
                        write_extension_seed(sc->name, &ch.extensions, HS_EXT_SERVER_NAME,
                                             CODEC_EXT_SERVER_NAME, "ext_server_name");
                        write_extension_seed(sc->name, &ch.extensions,
                                             HS_EXT_CLIENT_CERTIFICATE_TYPE,
                                             CODEC_EXT_CERT_TYPE_LIST, "ext_client_cert_types");
                        write_extension_seed(sc->name, &ch.extensions,
                                             HS_EXT_SERVER_CERTIFICATE_TYPE,
                                             CODEC_EXT_CERT_TYPE_LIST, "ext_server_cert_types");
                        uint8_t tls[1024];
                        cursor_writer w = cursor_writer_init(tls, sizeof(tls));
                        if (hs_client_hello_write(&w, &ch, false) != 0)
                            die("ClientHello write");
                        snprintf(name, sizeof(name), "%s_client_hello_tls", sc->name);
                        write_message_seed(name, CODEC_CLIENT_HELLO_TLS, tls, w.len);
                    } else if (f.msg_type == HS_SERVER_HELLO) {
                        /* The certificate types the server chose. */
                        hs_server_hello sh;
                        cursor_reader br = cursor_reader_init(f.body, f.length);
                        if (hs_server_hello_read(&br, &sh) != 0)
                            die("captured ServerHello does not parse");
                        write_extension_seed(sc->name, &sh.extensions,
                                             HS_EXT_CLIENT_CERTIFICATE_TYPE, CODEC_EXT_CERT_TYPE,
                                             "ext_client_cert_type");
                        write_extension_seed(sc->name, &sh.extensions,
                                             HS_EXT_SERVER_CERTIFICATE_TYPE, CODEC_EXT_CERT_TYPE,
                                             "ext_server_cert_type");
                    }
                }
            }
        }
    }
}

/* Messages the handshakes never send, built with the codecs' writers. */
static void write_built_messages(void)
{
    uint8_t ext[512], body[2048];
    cursor_writer ew = cursor_writer_init(ext, sizeof(ext));
    static const uint16_t groups[] = {0x001d, 0x0017, 0x0018};
    static const uint16_t sigalgs[] = {0x0403, 0x0503, 0x0804};
    static const uint8_t renegotiated[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    static const uint8_t server_name[] = {0,   12,  0,   0,   9,   'l', 'o',
                                          'c', 'a', 'l', 'h', 'o', 's', 't'};
    if (hs_ext_write_renegotiation_info(&ew, renegotiated, sizeof(renegotiated)) != 0 ||
        hs_ext_write_empty(&ew, HS_EXT_EXTENDED_MASTER_SECRET) != 0 ||
        hs_ext_write_u16_list(&ew, HS_EXT_SUPPORTED_GROUPS, groups, 3) != 0 ||
        hs_ext_write_ec_point_formats(&ew) != 0 ||
        hs_ext_write_u16_list(&ew, HS_EXT_SIGNATURE_ALGORITHMS, sigalgs, 3) != 0 ||
        cursor_write_u16(&ew, HS_EXT_SERVER_NAME) != 0 ||
        cursor_write_vector(&ew, 2, 0, 0xFFFF, server_name, sizeof(server_name)) != 0 ||
        cursor_write_u16(&ew, 0x1234) != 0 || cursor_write_vector(&ew, 2, 0, 0xFFFF, NULL, 0) != 0)
        die("extensions");
    write_message_seed("built_extensions_all_known", CODEC_EXTENSIONS, ext, ew.len);

    /* ec_point_formats with three formats (petrel writes only one). */
    static const uint8_t ecpf[] = {0, 11, 0, 4, 3, 0, 1, 2};
    write_message_seed("built_extensions_point_formats", CODEC_EXTENSIONS, ecpf, sizeof(ecpf));

    /* HS_MAX_EXTENSIONS empty extensions of distinct types. */
    cursor_writer mw = cursor_writer_init(body, sizeof(body));
    for (unsigned t = 0; t < HS_MAX_EXTENSIONS; t++) {
        if (hs_ext_write_empty(&mw, (uint16_t)(0x2000 + t)) != 0)
            die("extensions");
    }
    write_message_seed("built_extensions_max_count", CODEC_EXTENSIONS, body, mw.len);

    /* The five default suites, TLS_PSK_WITH_AES_128_CCM and the
     * renegotiation SCSV, big-endian. */
    static const uint8_t suites[] = {0xC0, 0xA8, 0xC0, 0xA4, 0x00, 0xA8, 0x00,
                                     0xA9, 0xCC, 0xAB, 0xCC, 0xAC, 0x00, 0xFF};
    static const uint8_t compression[] = {1, 0};
    uint8_t cookie[32];
    memset(cookie, 0xC0, sizeof(cookie));
    hs_client_hello ch;
    memset(&ch, 0, sizeof(ch));
    ch.version = HS_VERSION_DTLS12;
    memset(ch.random, 0x52, HS_RANDOM_LEN);
    memset(ch.session_id, 0x51, HS_SESSION_ID_MAX);
    ch.session_id_len = HS_SESSION_ID_MAX;
    ch.cookie = cookie;
    ch.cookie_len = sizeof(cookie);
    ch.cipher_suites.data = suites;
    ch.cipher_suites.count = sizeof(suites) / 2;
    ch.compression_methods = compression;
    ch.compression_methods_len = sizeof(compression);
    ch.extensions_raw = ext;
    ch.extensions_raw_len = ew.len;
    ch.has_extensions_block = true;
    cursor_writer w = cursor_writer_init(body, sizeof(body));
    if (hs_client_hello_write(&w, &ch, true) != 0)
        die("ClientHello");
    write_message_seed("built_client_hello_dtls_full", CODEC_CLIENT_HELLO_DTLS, body, w.len);
    ch.has_extensions_block = false;
    ch.session_id_len = 0;
    ch.version = HS_VERSION_TLS12;
    w = cursor_writer_init(body, sizeof(body));
    if (hs_client_hello_write(&w, &ch, false) != 0)
        die("ClientHello");
    write_message_seed("built_client_hello_tls_no_extensions", CODEC_CLIENT_HELLO_TLS, body, w.len);

    hs_server_hello sh;
    memset(&sh, 0, sizeof(sh));
    sh.version = HS_VERSION_DTLS12;
    memset(sh.random, 0x53, HS_RANDOM_LEN);
    sh.session_id_len = 8;
    memset(sh.session_id, 0x54, 8);
    sh.cipher_suite = 0xCCAC;
    sh.has_extensions_block = true; /* present and empty */
    w = cursor_writer_init(body, sizeof(body));
    if (hs_server_hello_write(&w, &sh) != 0)
        die("ServerHello");
    write_message_seed("built_server_hello_empty_extensions", CODEC_SERVER_HELLO, body, w.len);

    hs_hello_verify_request hvr = {HS_VERSION_DTLS10, NULL, 0};
    w = cursor_writer_init(body, sizeof(body));
    if (hs_hello_verify_request_write(&w, &hvr) != 0)
        die("HelloVerifyRequest");
    write_message_seed("built_hello_verify_request_empty_cookie", CODEC_HELLO_VERIFY_REQUEST, body,
                       w.len);

    uint8_t point[65];
    memset(point, 0x04, sizeof(point));
    hs_server_key_exchange_psk ske = {(const uint8_t *)"a hint", 6, false, 0, NULL, 0};
    w = cursor_writer_init(body, sizeof(body));
    if (hs_server_key_exchange_psk_write(&w, &ske) != 0)
        die("ServerKeyExchange");
    write_message_seed("built_ske_psk_hint", CODEC_SKE_PSK, body, w.len);
    ske = (hs_server_key_exchange_psk){NULL, 0, true, 0x0017, point, sizeof(point)};
    w = cursor_writer_init(body, sizeof(body));
    if (hs_server_key_exchange_psk_write(&w, &ske) != 0)
        die("ServerKeyExchange");
    write_message_seed("built_ske_ecdhe_p256", CODEC_SKE_ECDHE, body, w.len);

    hs_client_key_exchange_psk cke = {(const uint8_t *)"client", 6, true, point, sizeof(point)};
    w = cursor_writer_init(body, sizeof(body));
    if (hs_client_key_exchange_psk_write(&w, &cke) != 0)
        die("ClientKeyExchange");
    write_message_seed("built_cke_ecdhe_p256", CODEC_CKE_ECDHE, body, w.len);

    hs_finished fin;
    for (int i = 0; i < HS_VERIFY_DATA_LEN; i++)
        fin.verify_data[i] = (uint8_t)(0xF0 + i);
    w = cursor_writer_init(body, sizeof(body));
    if (hs_finished_write(&w, &fin) != 0)
        die("Finished");
    write_message_seed("built_finished", CODEC_FINISHED, body, w.len);
    write_message_seed("built_server_hello_done", CODEC_SERVER_HELLO_DONE, NULL, 0);
}

/* ======================================================================
 * fuzz_reassembly
 * ====================================================================== */

/* One fragment op: op 0x00 (clamped) or 0x01 (raw). */
static void put_fragment(bytes *b, bool raw, uint8_t type, unsigned length, unsigned seq,
                         unsigned offset, unsigned frag_len, const uint8_t *body)
{
    put_u8(b, raw ? 0x01 : 0x00);
    put_u8(b, type);
    put_u16(b, length);
    put_u16(b, seq);
    put_u16(b, offset);
    put_u16(b, frag_len);
    put(b, body, frag_len);
}

/* The epoch-0 handshake fragments of one direction of a handshake, in
 * the order they arrived. */
static void write_captured_fragments(const scenario *sc, const recording *rec, int dir)
{
    bytes *b = malloc(sizeof(*b));
    if (!b)
        die("out of memory");
    b->len = 0;
    put_u8(b, 0); /* no allocation fails */
    for (size_t i = 0; i < rec->count[dir]; i++) {
        const recorded *d = &rec->dgrams[dir][i];
        if (!d->delivered)
            continue;
        uint8_t copy[PAIR_MAX_DATAGRAM];
        memcpy(copy, d->data, d->len);
        cursor_reader r = cursor_reader_init(copy, d->len);
        dtls_record record;
        while (dtls_record_read(&r, copy, &record) == 0) {
            if (record.type != DTLS_CT_HANDSHAKE || record.epoch != 0)
                continue;
            cursor_reader fr = cursor_reader_init(record.fragment, record.length);
            dtls_hs_fragment f;
            while (dtls_hs_fragment_read(&fr, &f) == 0)
                put_fragment(b, false, f.msg_type, f.length, f.message_seq, f.fragment_offset,
                             f.fragment_length, f.body);
        }
    }
    char name[128];
    snprintf(name, sizeof(name), "%s_%s_fragments", sc->name,
             dir == PAIR_TO_SERVER ? "c2s" : "s2c");
    write_seed(OUT_REASSEMBLY, name, b->data, b->len);
    free(b);
}

static void write_built_fragments(void)
{
    uint8_t msg[4096];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 13 + 1);
    uint8_t other[100];
    memset(other, 0xEE, sizeof(other));
    bytes *b = malloc(sizeof(*b));
    if (!b)
        die("out of memory");

    /* Three overlapping fragments in reverse order, then a duplicate. */
    b->len = 0;
    put_u8(b, 0);
    put_fragment(b, false, 1, 100, 0, 60, 40, msg + 60);
    put_fragment(b, false, 1, 100, 0, 20, 50, msg + 20);
    put_fragment(b, false, 1, 100, 0, 0, 30, msg);
    put_fragment(b, false, 1, 100, 0, 0, 100, msg);
    write_seed(OUT_REASSEMBLY, "built_reverse_overlap", b->data, b->len);

    /* Messages ahead of next_seq, a conflict (other bytes, another type,
     * another length), an empty message, a past and a too-far one. */
    b->len = 0;
    put_u8(b, 0);
    put_fragment(b, false, 2, 50, 2, 0, 25, msg);
    put_fragment(b, false, 2, 50, 2, 10, 20, other);
    put_fragment(b, false, 3, 50, 2, 25, 25, msg + 25);
    put_fragment(b, false, 2, 51, 2, 25, 25, msg + 25);
    put_fragment(b, false, 2, 50, 2, 25, 25, msg + 25);
    put_fragment(b, false, 14, 0, 1, 0, 0, NULL);
    put_fragment(b, false, 11, 10, 0, 0, 10, msg);
    put_fragment(b, false, 11, 10, 0, 0, 10, msg);
    put_fragment(b, false, 12, 10, 11, 0, 10, msg);
    put_fragment(b, false, 20, 0, 2, 0, 0, NULL);
    write_seed(OUT_REASSEMBLY, "built_window_conflicts", b->data, b->len);

    /* The limits: a message over max_message_len, then messages that fill
     * max_buffered until one is refused. */
    b->len = 0;
    put_u8(b, 0);
    put_fragment(b, false, 11, 4097, 0, 0, 1, msg);
    put_fragment(b, false, 11, 4096, 1, 0, 1, msg);
    put_fragment(b, false, 11, 4096, 2, 0, 1, msg);
    put_fragment(b, false, 11, 4096, 3, 0, 1, msg);
    put_fragment(b, false, 11, 4096, 4, 0, 1, msg);
    put_fragment(b, false, 11, 4096, 0, 4095, 1, msg + 4095);
    write_seed(OUT_REASSEMBLY, "built_limits", b->data, b->len);

    /* One whole 1000-byte message, with the first and then the second
     * allocation failing. */
    for (unsigned fail_at = 1; fail_at <= 2; fail_at++) {
        b->len = 0;
        put_u8(b, fail_at);
        put_fragment(b, false, 1, 1000, 0, 0, 1000, msg);
        put_fragment(b, false, 1, 1000, 0, 0, 1000, msg);
        char name[64];
        snprintf(name, sizeof(name), "built_allocation_%u_fails", fail_at);
        write_seed(OUT_REASSEMBLY, name, b->data, b->len);
    }

    /* advance over an incomplete message, reset near the top of the
     * 16-bit sequence space, and a raw fragment whose range is invalid. */
    b->len = 0;
    put_u8(b, 0);
    put_fragment(b, false, 1, 20, 0, 0, 10, msg);
    put_u8(b, 0xF0);
    put_fragment(b, false, 2, 20, 1, 0, 20, msg);
    put_u8(b, 0xF8);
    put_u16(b, 0xFFFE);
    put_fragment(b, false, 2, 5, 0xFFFF, 0, 5, msg);
    put_fragment(b, false, 2, 5, 0xFFFE, 0, 5, msg);
    put_fragment(b, true, 2, 10, 0xFFFF, 8, 4, msg);
    put_u8(b, 0xF0);
    put_fragment(b, false, 2, 5, 0, 0, 5, msg);
    write_seed(OUT_REASSEMBLY, "built_advance_reset_wrap", b->data, b->len);
    free(b);
}

/* ====================================================================== */

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR (tests/fuzz/corpus)\n", argv[0]);
        return 2;
    }
    corpus_root = argv[1];
    /* The targets' fixed libcrypto DRBG and test PKI, before any config
     * exists: the signatures in the recorded flights must be the ones the
     * targets make. */
    fuzz_engine_setup();
    make_dir(corpus_root);
    for (int i = 0; i < 5; i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", corpus_root, out_dirs[i]);
        make_dir(path);
    }

    recording *rec = malloc(sizeof(*rec));
    if (!rec)
        die("out of memory");
    for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
        const scenario *sc = &scenarios[i];
        run_scenario(sc, rec);
        write_engine_seeds(sc, rec);
        bool pmtu200 = sc->options & FUZZ_OPT_PMTU_200;
        bool psk = (sc->options & FUZZ_OPT_CREDS_MASK) == FUZZ_OPT_CREDS_PSK;
        /* fuzz_record gains nothing from more handshake records. */
        if (i == 0 || (pmtu200 && psk))
            write_record_seeds_from(sc, rec);
        if (!pmtu200 && sc->drop_to_server == NO_DROP && sc->drop_to_client == NO_DROP &&
            (sc->options == 0x01 || sc->options == 0x06 || sc->options == FUZZ_OPT_PSK_HINT ||
             sc->options == FUZZ_OPT_CREDS_CERT || sc->options == FUZZ_OPT_CREDS_CLIENT_AUTH ||
             sc->options == FUZZ_OPT_CREDS_RPK))
            write_captured_messages(sc, rec);
        if (pmtu200) {
            write_captured_fragments(sc, rec, PAIR_TO_SERVER);
            write_captured_fragments(sc, rec, PAIR_TO_CLIENT);
        }
    }
    free(rec);
    write_sealed_record_seeds();
    write_built_messages();
    write_built_fragments();

    for (int i = 0; i < 5; i++)
        printf("%-20s %zu files\n", out_dirs[i], files_written[i]);
    return 0;
}
