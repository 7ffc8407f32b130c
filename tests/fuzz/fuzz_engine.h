/*
 * The connection driver shared by fuzz_server and fuzz_client: how one
 * petrel_conn is fed datagrams, timers and output draining, with the
 * checks every engine call must pass whatever the peer sends:
 *
 *   - petrel_received / petrel_processed return a known status or a
 *     negative error; an error is the connection's sticky error
 *     (petrel_conn_error), after which the connection is drained and
 *     freed; one datagram never takes more than MAX_STATUSES calls;
 *   - HANDSHAKE_COMPLETE comes with a negotiated suite and DTLS 1.2;
 *     APP_DATA only after the handshake, with readable data (it is read
 *     and echoed back, as an echo server would); RECEIVED_ALERT with an
 *     alert petrel_last_alert reports;
 *   - every datagram from petrel_get_outdata fits the PMTU and frames into
 *     whole DTLS 1.2 records of epoch 0 or 1; petrel_sent accepts it;
 *   - petrel_handle_timeout returns SUCCESS, REQUEST_SEND or an error, and
 *     after it no timer is left due (petrel_next_timeout is -1 or > 0).
 *
 * The loops of both targets are here too, so that make_corpus.c can
 * replay the seeds it writes and check that they complete a handshake,
 * and fuzz_engine_setup, which each of them calls once at startup: it
 * reads the test PKI and makes libcrypto's own random numbers fixed (see
 * there). Everything is static (inline).
 */
#ifndef PETREL_TESTS_FUZZ_ENGINE_H
#define PETREL_TESTS_FUZZ_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include <petrel/petrel.h>

#include "dtls/record.h"
#include "tests/fuzz/fuzz_common.h"

/* A datagram holds at most len / 13 records, each worth one status, plus
 * the final REQUEST_SEND / REQUEST_RECV. */
#define MAX_STATUSES 4096

/* ---- libcrypto's random numbers, made fixed ----
 *
 * petrel draws its own randomness (randoms, ECDHE keys, cookie secrets)
 * from the platform hook, which the targets seed identically for every
 * input. Signatures are the exception: OpenSSL draws the ECDSA nonce and
 * the RSA-PSS salt from its own DRBG, so the same ServerKeyExchange or
 * CertificateVerify would come out different on every run, and with it
 * the transcript the Finished messages cover: a recorded seed would stop
 * at the peer's Finished and a crash would not reproduce. So, as
 * OpenSSL's own fuzzers do, libcrypto's DRBG is replaced by one that
 * returns the same bytes for every request. Each signature then depends
 * only on the key and the message (OpenSSL 3.0 derives the ECDSA nonce
 * from the private key, the digest and these bytes), whatever was drawn
 * before it, so it is the same in make_corpus (both sides in one
 * process) as in a target (one side). The bytes are 0x5A..: below every
 * modulus and field prime in play and never zero, so OpenSSL's
 * rejection-sampling loops (blinding values) end at once. Test keys only;
 * never do this outside a fuzzer. */

static void *fuzz_rand_newctx(void *provctx, void *parent, const OSSL_DISPATCH *parent_calls)
{
    (void)provctx;
    (void)parent;
    (void)parent_calls;
    int *state = malloc(sizeof(*state));
    if (state)
        *state = EVP_RAND_STATE_UNINITIALISED;
    return state;
}

static void fuzz_rand_freectx(void *ctx)
{
    free(ctx);
}

static int fuzz_rand_instantiate(void *ctx, unsigned int strength, int prediction_resistance,
                                 const unsigned char *pstr, size_t pstr_len,
                                 const OSSL_PARAM params[])
{
    (void)strength;
    (void)prediction_resistance;
    (void)pstr;
    (void)pstr_len;
    (void)params;
    *(int *)ctx = EVP_RAND_STATE_READY;
    return 1;
}

static int fuzz_rand_uninstantiate(void *ctx)
{
    *(int *)ctx = EVP_RAND_STATE_UNINITIALISED;
    return 1;
}

static int fuzz_rand_generate(void *ctx, unsigned char *out, size_t outlen, unsigned int strength,
                              int prediction_resistance, const unsigned char *adin, size_t adin_len)
{
    (void)ctx;
    (void)strength;
    (void)prediction_resistance;
    (void)adin;
    (void)adin_len;
    memset(out, 0x5A, outlen);
    return 1;
}

static int fuzz_rand_enable_locking(void *ctx)
{
    (void)ctx;
    return 1;
}

static int fuzz_rand_get_ctx_params(void *ctx, OSSL_PARAM params[])
{
    OSSL_PARAM *p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_STATE);
    if (p && !OSSL_PARAM_set_int(p, *(int *)ctx))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_STRENGTH);
    if (p && !OSSL_PARAM_set_uint(p, 256))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_MAX_REQUEST);
    if (p && !OSSL_PARAM_set_size_t(p, 1 << 16))
        return 0;
    return 1;
}

static const OSSL_PARAM *fuzz_rand_gettable_ctx_params(void *ctx, void *provctx)
{
    (void)ctx;
    (void)provctx;
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_int(OSSL_RAND_PARAM_STATE, NULL),
        OSSL_PARAM_uint(OSSL_RAND_PARAM_STRENGTH, NULL),
        OSSL_PARAM_size_t(OSSL_RAND_PARAM_MAX_REQUEST, NULL),
        OSSL_PARAM_END,
    };
    return gettable;
}

static const OSSL_DISPATCH fuzz_rand_functions[] = {
    {OSSL_FUNC_RAND_NEWCTX, (void (*)(void))fuzz_rand_newctx},
    {OSSL_FUNC_RAND_FREECTX, (void (*)(void))fuzz_rand_freectx},
    {OSSL_FUNC_RAND_INSTANTIATE, (void (*)(void))fuzz_rand_instantiate},
    {OSSL_FUNC_RAND_UNINSTANTIATE, (void (*)(void))fuzz_rand_uninstantiate},
    {OSSL_FUNC_RAND_GENERATE, (void (*)(void))fuzz_rand_generate},
    {OSSL_FUNC_RAND_ENABLE_LOCKING, (void (*)(void))fuzz_rand_enable_locking},
    {OSSL_FUNC_RAND_GET_CTX_PARAMS, (void (*)(void))fuzz_rand_get_ctx_params},
    {OSSL_FUNC_RAND_GETTABLE_CTX_PARAMS, (void (*)(void))fuzz_rand_gettable_ctx_params},
    {0, NULL},
};

static const OSSL_ALGORITHM fuzz_rand_algorithms[] = {
    {"petrel-fuzz-fixed", "provider=petrel-fuzz-rand", fuzz_rand_functions, NULL},
    {NULL, NULL, NULL, NULL},
};

static const OSSL_ALGORITHM *fuzz_rand_query(void *provctx, int operation_id, int *no_cache)
{
    (void)provctx;
    *no_cache = 0;
    return operation_id == OSSL_OP_RAND ? fuzz_rand_algorithms : NULL;
}

static const OSSL_DISPATCH fuzz_rand_provider[] = {
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))fuzz_rand_query},
    {0, NULL},
};

static int fuzz_rand_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                                   const OSSL_DISPATCH **out, void **provctx)
{
    (void)handle;
    (void)in;
    *out = fuzz_rand_provider;
    *provctx = NULL;
    return 1;
}

/* Once per process, before anything uses libcrypto's DRBG. */
static inline void fuzz_fixed_libcrypto_rand(void)
{
    /* Kept for the life of the process (and reachable, for LeakSanitizer). */
    static OSSL_PROVIDER *provider;
    if (provider)
        return;
    if (!OSSL_PROVIDER_add_builtin(NULL, "petrel-fuzz-rand", fuzz_rand_provider_init) ||
        !RAND_set_DRBG_type(NULL, "petrel-fuzz-fixed", "provider=petrel-fuzz-rand", NULL, NULL) ||
        !(provider = OSSL_PROVIDER_try_load(NULL, "petrel-fuzz-rand", 1))) {
        fprintf(stderr, "fuzz: cannot install the fixed libcrypto DRBG\n");
        abort();
    }
    /* It is in force: two draws give the same bytes. */
    uint8_t a[16], b[16];
    FUZZ_CHECK(RAND_priv_bytes(a, sizeof(a)) == 1 && RAND_bytes(b, sizeof(b)) == 1);
    FUZZ_CHECK(memcmp(a, b, sizeof(a)) == 0 && a[0] == 0x5A);
}

/* What the engine targets and make_corpus do once at startup. */
static inline void fuzz_engine_setup(void)
{
    fuzz_fixed_libcrypto_rand();
    fuzz_pki_load();
}

typedef struct fuzz_engine {
    fuzz_env env;
    petrel_platform platform;
    petrel_config *cfg;
    petrel_conn *conn;
    petrel_role role;
    uint8_t options;
    size_t pmtu;
    uint64_t sink; /* app data is read into this, so that it is touched */
    /* For make_corpus, which replays its seeds through this driver: */
    size_t handshakes_completed;
    size_t app_data_records;
} fuzz_engine;

static inline void fuzz_engine_init(fuzz_engine *e, uint8_t options, petrel_role role)
{
    memset(e, 0, sizeof(*e));
    e->platform = fuzz_env_platform(&e->env);
    e->role = role;
    e->options = options;
    e->pmtu = options & FUZZ_OPT_PMTU_200 ? 200 : 1232;
    e->cfg = fuzz_engine_config(&e->platform, options, role);
    FUZZ_CHECK(e->cfg != NULL);
}

/* A datagram petrel produced: whole records, DTLS 1.2, epoch 0 or 1. */
static inline void fuzz_check_own_datagram(const uint8_t *dgram, size_t len)
{
    uint8_t *copy = malloc(len);
    FUZZ_CHECK(copy != NULL);
    memcpy(copy, dgram, len);
    cursor_reader r = cursor_reader_init(copy, len);
    while (cursor_reader_remaining(&r) > 0) {
        dtls_record rec;
        FUZZ_CHECK(dtls_record_read(&r, copy, &rec) == 0);
        FUZZ_CHECK(rec.version == 0xfefd && rec.epoch <= 1);
        FUZZ_CHECK(rec.type >= DTLS_CT_CHANGE_CIPHER_SPEC && rec.type <= DTLS_CT_APPLICATION_DATA);
    }
    free(copy);
}

static inline void fuzz_engine_drain(fuzz_engine *e)
{
    const uint8_t *buf = NULL;
    int n;
    size_t count = 0;
    while ((n = petrel_get_outdata(e->conn, &buf)) > 0) {
        FUZZ_CHECK(buf != NULL && (size_t)n <= e->pmtu);
        fuzz_check_own_datagram(buf, (size_t)n);
        int rc = petrel_sent(e->conn, (size_t)n);
        FUZZ_CHECK(rc == PETREL_SUCCESS || rc == PETREL_REQUEST_SEND);
        FUZZ_CHECK(++count <= 1024);
    }
    FUZZ_CHECK(n == 0);
}

/* Ends the connection after error rc: what it queued (an alert) goes out,
 * then it is freed. */
static inline void fuzz_engine_end(fuzz_engine *e, int rc)
{
    FUZZ_CHECK(rc < 0);
    FUZZ_CHECK(petrel_conn_error(e->conn) == rc);
    FUZZ_CHECK(petrel_next_timeout(e->conn) == -1);
    fuzz_engine_drain(e);
    petrel_conn_free(e->conn);
    e->conn = NULL;
}

static inline bool fuzz_engine_open(fuzz_engine *e)
{
    const uint8_t *peer = e->role == PETREL_SERVER ? fuzz_peer_id : NULL;
    size_t peer_len = e->role == PETREL_SERVER ? sizeof(fuzz_peer_id) : 0;
    e->conn = petrel_conn_new(e->cfg, e->role, PETREL_DATAGRAM, peer, peer_len);
    FUZZ_CHECK(e->conn != NULL);
    FUZZ_CHECK(!petrel_handshake_complete(e->conn) && petrel_cipher_suite(e->conn) == 0);
    if (e->role == PETREL_CLIENT) {
        int rc = petrel_connect(e->conn);
        if (rc < 0) {
            fuzz_engine_end(e, rc);
            return false;
        }
        FUZZ_CHECK(rc == PETREL_REQUEST_SEND);
        fuzz_engine_drain(e);
    }
    return true;
}

/* Advances the virtual clock and lets the connection act on its timer. */
static inline void fuzz_engine_advance(fuzz_engine *e, uint16_t delay_ms)
{
    e->env.now += delay_ms;
    if (!e->conn)
        return;
    FUZZ_CHECK(petrel_next_timeout(e->conn) >= -1);
    int rc = petrel_handle_timeout(e->conn);
    if (rc < 0) {
        fuzz_engine_end(e, rc);
        return;
    }
    FUZZ_CHECK(rc == PETREL_SUCCESS || rc == PETREL_REQUEST_SEND);
    FUZZ_CHECK(petrel_next_timeout(e->conn) != 0);
    fuzz_engine_drain(e);
}

/* Acts on one status from received/processed; returns false when the
 * datagram is done. */
static inline bool fuzz_engine_status(fuzz_engine *e, int rc, const uint8_t *data, size_t len)
{
    switch (rc) {
    case PETREL_HANDSHAKE_COMPLETE:
        FUZZ_CHECK(petrel_handshake_complete(e->conn));
        FUZZ_CHECK(petrel_cipher_suite(e->conn) != 0 && petrel_cipher_suite_name(e->conn));
        FUZZ_CHECK(petrel_protocol_version(e->conn) == 0xfefd);
        e->handshakes_completed++;
        return true;
    case PETREL_APP_DATA: {
        FUZZ_CHECK(petrel_handshake_complete(e->conn));
        FUZZ_CHECK(data != NULL || len == 0);
        e->app_data_records++;
        for (size_t i = 0; i < len; i++)
            e->sink = e->sink * 31 + data[i];
        int max = petrel_max_payload(e->conn);
        FUZZ_CHECK(max >= 0);
        if (len <= (size_t)max) {
            int echo = petrel_encode_to_outdata(e->conn, data, len);
            FUZZ_CHECK(echo == PETREL_REQUEST_SEND || echo < 0);
        }
        fuzz_engine_drain(e);
        return true;
    }
    case PETREL_RECEIVED_ALERT: {
        int level = -1, description = -1;
        FUZZ_CHECK(petrel_last_alert(e->conn, &level, &description));
        FUZZ_CHECK(level >= 0 && level <= 255 && description >= 0 && description <= 255);
        fuzz_engine_drain(e);
        return true;
    }
    case PETREL_REQUEST_SEND:
    case PETREL_REQUEST_RECV:
    case PETREL_SUCCESS:
        return false;
    default:
        abort(); /* not a status petrel.h defines */
    }
}

/* Feeds one datagram to the connection. */
static inline void fuzz_engine_deliver(fuzz_engine *e, const uint8_t *dgram, size_t len)
{
    uint8_t *buf = NULL;
    int cap = petrel_get_readbuf(e->conn, &buf);
    FUZZ_CHECK(cap > 0 && buf != NULL);
    if (len > (size_t)cap)
        return; /* larger than any DTLS datagram: a UDP server drops it */
    if (len)
        memcpy(buf, dgram, len);
    const uint8_t *data = NULL;
    size_t data_len = 0;
    int rc = petrel_received(e->conn, len, &data, &data_len);
    for (size_t calls = 1;; calls++) {
        FUZZ_CHECK(calls <= MAX_STATUSES);
        if (rc < 0) {
            fuzz_engine_end(e, rc);
            return;
        }
        if (!fuzz_engine_status(e, rc, data, data_len))
            break;
        data = NULL;
        data_len = 0;
        rc = petrel_processed(e->conn, &data, &data_len);
    }
    fuzz_engine_drain(e);
}

static inline void fuzz_engine_free(fuzz_engine *e)
{
    if (e->conn) {
        fuzz_engine_drain(e);
        petrel_conn_free(e->conn);
    }
    petrel_config_free(e->cfg);
    memset(e, 0, sizeof(*e));
}

/* ---- the two targets' loops (make_corpus replays its seeds through
 * them too) ---- */

typedef struct fuzz_engine_summary {
    size_t handshakes_completed;
    size_t app_data_records;
} fuzz_engine_summary;

#define FUZZ_REPLY_CAP 128 /* "reply_cap of 128 is enough" (petrel.h) */

/* The stateless cookie check of a UDP server; returns its result. */
static inline int fuzz_server_check_hello(fuzz_engine *e, const uint8_t *dgram, size_t len)
{
    uint8_t reply[FUZZ_REPLY_CAP];
    size_t reply_len = 12345;
    /* check_hello needs a non-NULL datagram even when it is empty. */
    static const uint8_t empty[1];
    int rc = petrel_server_check_hello(e->cfg, fuzz_peer_id, sizeof(fuzz_peer_id),
                                       len ? dgram : empty, len, reply, sizeof(reply), &reply_len);
    FUZZ_CHECK(rc == 0 || rc == 1 || rc < 0);
    FUZZ_CHECK(rc != PETREL_ERR_BUFFER_TOO_SMALL && rc != PETREL_ERR_ARG);
    if (rc != 0) {
        FUZZ_CHECK(reply_len == 0);
        return rc;
    }
    /* One HelloVerifyRequest in one epoch-0 handshake record. */
    FUZZ_CHECK(reply_len > DTLS_RECORD_HEADER_LEN && reply_len <= sizeof(reply));
    cursor_reader r = cursor_reader_init(reply, reply_len);
    dtls_record rec;
    FUZZ_CHECK(dtls_record_read(&r, reply, &rec) == 0 && cursor_reader_remaining(&r) == 0);
    FUZZ_CHECK(rec.type == DTLS_CT_HANDSHAKE && rec.epoch == 0 && rec.version == 0xfefd);
    FUZZ_CHECK(rec.length > 0 && rec.fragment[0] == 3 /* hello_verify_request */);
    return rc;
}

static inline fuzz_engine_summary fuzz_run_server(const uint8_t *data, size_t size)
{
    fuzz_engine_summary sum = {0, 0};
    if (size == 0)
        return sum;
    fuzz_engine e;
    fuzz_engine_init(&e, data[0], PETREL_SERVER);
    fuzz_frames frames = {data, size, 1};
    uint16_t delay;
    const uint8_t *dgram;
    size_t len;
    while (fuzz_next_frame(&frames, &delay, &dgram, &len)) {
        fuzz_engine_advance(&e, delay);
        int rc = fuzz_server_check_hello(&e, dgram, len);
        if (!e.conn) {
            if (rc != 1 && !(e.options & FUZZ_OPT_NO_GATE))
                continue;
            if (!fuzz_engine_open(&e))
                continue;
        }
        fuzz_engine_deliver(&e, dgram, len);
    }
    sum.handshakes_completed = e.handshakes_completed;
    sum.app_data_records = e.app_data_records;
    fuzz_engine_free(&e);
    return sum;
}

static inline fuzz_engine_summary fuzz_run_client(const uint8_t *data, size_t size)
{
    fuzz_engine_summary sum = {0, 0};
    if (size == 0)
        return sum;
    fuzz_engine e;
    fuzz_engine_init(&e, data[0], PETREL_CLIENT);
    (void)fuzz_engine_open(&e);
    fuzz_frames frames = {data, size, 1};
    uint16_t delay;
    const uint8_t *dgram;
    size_t len;
    while (fuzz_next_frame(&frames, &delay, &dgram, &len)) {
        fuzz_engine_advance(&e, delay);
        if (!e.conn && !fuzz_engine_open(&e))
            continue;
        fuzz_engine_deliver(&e, dgram, len);
    }
    sum.handshakes_completed = e.handshakes_completed;
    sum.app_data_records = e.app_data_records;
    fuzz_engine_free(&e);
    return sum;
}

#endif
