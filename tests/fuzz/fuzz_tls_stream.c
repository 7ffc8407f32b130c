/*
 * libFuzzer target: a whole TLS 1.2 connection in stream mode
 * (PETREL_STREAM), client or server, fed the peer's byte stream.
 *
 * Input: an options byte (the same credentials and suites as fuzz_server
 * and fuzz_client: fuzz_common.h), a role byte (bit 0: 1 = client), then
 * chunks framed as fuzz_server's datagrams (uint16 delay_ms, ignored;
 * uint16 length; bytes). Each chunk is one read from the stream, so the
 * fuzzer also chooses where records are cut. The platform is the fixed
 * one of fuzz_common.h, so a recorded stream replays exactly.
 *
 * Checked whatever arrives: every status is a known one or the sticky
 * error; APP_DATA only after the handshake (and echoed back, as an echo
 * server would); the bytes petrel sends always frame into TLS 1.2 records
 * (types 20..23, version 0x0303, length within 2^14 + 2048); the read
 * buffer always offers room for the rest of the record being assembled; after the input ends,
 * petrel_received_eof says 0 only when close_notify arrived.
 *
 * Seeds: run the target with PETREL_FUZZ_WRITE_SEEDS=DIR to write, for
 * each role and credential mode, the peer's stream of a complete
 * handshake plus application data and close_notify, recorded from a pair
 * on the same fixed platform (then it exits). tests/fuzz/corpus/tls_stream
 * holds them; PETREL_FUZZ_REPORT=1 prints each input's outcome, which for
 * every seed is "handshake complete, eof 0".
 */
#include <stddef.h>
#include <stdint.h>

#include "tests/fuzz/fuzz_engine.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STREAM_MAX_STATUSES 100000

/* Follows the bytes petrel sends, record by record. */
typedef struct out_framer {
    uint8_t header[5];
    size_t have; /* header bytes seen of the current record */
    size_t body_left;
} out_framer;

static void frame_output(out_framer *f, const uint8_t *p, size_t n)
{
    while (n > 0) {
        if (f->body_left) {
            size_t k = n < f->body_left ? n : f->body_left;
            f->body_left -= k;
            p += k;
            n -= k;
            continue;
        }
        f->header[f->have++] = *p++;
        n--;
        if (f->have == 5) {
            FUZZ_CHECK(f->header[0] >= 20 && f->header[0] <= 23);
            FUZZ_CHECK(f->header[1] == 3 && f->header[2] == 3);
            size_t len = (size_t)(f->header[3] << 8 | f->header[4]);
            FUZZ_CHECK(len > 0 && len <= 16384 + 2048);
            f->body_left = len;
            f->have = 0;
        }
    }
}

typedef struct stream_side {
    petrel_conn *conn;
    out_framer framer;
    bool peer_closed;
    /* What the side sent (seed writing only). */
    uint8_t *sent;
    size_t sent_len;
    size_t sent_cap;
    bool record;
} stream_side;

static void drain(stream_side *s)
{
    const uint8_t *buf;
    int n;
    while ((n = petrel_get_outdata(s->conn, &buf)) > 0) {
        frame_output(&s->framer, buf, (size_t)n);
        if (s->record) {
            if (s->sent_len + (size_t)n > s->sent_cap) {
                s->sent_cap = 2 * (s->sent_len + (size_t)n);
                s->sent = realloc(s->sent, s->sent_cap);
                FUZZ_CHECK(s->sent);
            }
            memcpy(s->sent + s->sent_len, buf, (size_t)n);
            s->sent_len += (size_t)n;
        }
        int rc = petrel_sent(s->conn, (size_t)n);
        FUZZ_CHECK(rc == PETREL_SUCCESS);
    }
    FUZZ_CHECK(n == 0);
}

/* Feeds one read; returns false once the connection has failed. */
static bool feed(stream_side *s, const uint8_t *p, size_t n)
{
    while (n > 0) {
        uint8_t *buf;
        int cap = petrel_get_readbuf(s->conn, &buf);
        /* Room for at least the rest of the record being assembled. */
        FUZZ_CHECK(cap > 0);
        size_t k = n < (size_t)cap ? n : (size_t)cap;
        memcpy(buf, p, k);
        p += k;
        n -= k;
        const uint8_t *data = NULL;
        size_t len = 0;
        int rc = petrel_received(s->conn, k, &data, &len);
        for (int i = 0; i < STREAM_MAX_STATUSES; i++) {
            if (rc == PETREL_APP_DATA) {
                FUZZ_CHECK(petrel_handshake_complete(s->conn));
                FUZZ_CHECK(len > 0 && len <= 16384 && data);
                /* An echo server; refused only once closing. */
                int w = petrel_encode_to_outdata(s->conn, data, len);
                FUZZ_CHECK(w == PETREL_REQUEST_SEND || w == PETREL_ERR_STATE);
            } else if (rc == PETREL_HANDSHAKE_COMPLETE) {
                FUZZ_CHECK(petrel_cipher_suite(s->conn) != 0);
                FUZZ_CHECK(petrel_protocol_version(s->conn) == 0x0303);
            } else if (rc == PETREL_RECEIVED_ALERT) {
                int level, desc;
                FUZZ_CHECK(petrel_last_alert(s->conn, &level, &desc));
                FUZZ_CHECK(level == 1);
                if (desc == 0)
                    s->peer_closed = true;
            } else {
                break;
            }
            rc = petrel_processed(s->conn, &data, &len);
        }
        drain(s);
        if (rc < 0) {
            FUZZ_CHECK(petrel_conn_error(s->conn) == rc);
            return false;
        }
        FUZZ_CHECK(rc == PETREL_REQUEST_RECV || rc == PETREL_REQUEST_SEND);
    }
    return true;
}

static petrel_conn *new_side(fuzz_env *env, petrel_config **cfg, uint8_t options, bool client)
{
    petrel_platform platform = fuzz_env_platform(env);
    *cfg = fuzz_engine_config(&platform, options, client ? PETREL_CLIENT : PETREL_SERVER);
    if (!*cfg)
        return NULL;
    petrel_conn *conn =
        petrel_conn_new(*cfg, client ? PETREL_CLIENT : PETREL_SERVER, PETREL_STREAM, NULL, 0);
    if (conn && client)
        FUZZ_CHECK(petrel_connect(conn) == PETREL_REQUEST_SEND);
    return conn;
}

static void run(const uint8_t *data, size_t size)
{
    if (size < 2)
        return;
    uint8_t options = data[0];
    bool client = data[1] & 1;
    fuzz_env env;
    petrel_config *cfg;
    stream_side s = {0};
    s.conn = new_side(&env, &cfg, options, client);
    if (!s.conn) {
        petrel_config_free(cfg);
        return;
    }
    drain(&s);
    fuzz_frames f = {data, size, 2};
    uint16_t delay;
    const uint8_t *chunk;
    size_t len;
    bool alive = true;
    while (alive && fuzz_next_frame(&f, &delay, &chunk, &len))
        alive = feed(&s, chunk, len);
    int eof = petrel_received_eof(s.conn);
    if (getenv("PETREL_FUZZ_REPORT"))
        fprintf(stderr, "handshake %s, eof %d\n",
                petrel_handshake_complete(s.conn) ? "complete" : "incomplete", eof);
    FUZZ_CHECK(eof <= 0);
    FUZZ_CHECK(eof < 0 || s.peer_closed);
    drain(&s);
    petrel_conn_free(s.conn);
    petrel_config_free(cfg);
}

/* ---- seed writing ---- */

static void append_frame(uint8_t **buf, size_t *len, const uint8_t *p, size_t n)
{
    *buf = realloc(*buf, *len + 4 + n);
    FUZZ_CHECK(*buf);
    uint8_t *at = *buf + *len;
    at[0] = at[1] = 0;
    at[2] = (uint8_t)(n >> 8);
    at[3] = (uint8_t)n;
    memcpy(at + 4, p, n);
    *len += 4 + n;
}

/* One pair on the fixed platform; the recorded side's peer stream becomes
 * the seed, one chunk per flight. */
static void write_seed(const char *dir, uint8_t options, bool record_client)
{
    fuzz_env env[2];
    petrel_config *cfg[2];
    stream_side s[2] = {{0}, {0}};
    s[0].conn = new_side(&env[0], &cfg[0], options, true);
    s[1].conn = new_side(&env[1], &cfg[1], options, false);
    FUZZ_CHECK(s[0].conn && s[1].conn);
    /* The seed is what the fuzzed side receives: the other side's bytes. */
    int peer = record_client ? 1 : 0;
    s[0].record = s[1].record = true;
    uint8_t *seed = malloc(2);
    FUZZ_CHECK(seed);
    seed[0] = options;
    seed[1] = record_client ? 1 : 0;
    size_t seed_len = 2;
    bool sent_data = false, closed = false;
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 2; i++) {
            /* What i sent (also from inside feed) goes to the other side. */
            drain(&s[i]);
            size_t n = s[i].sent_len;
            s[i].sent_len = 0;
            if (i == peer && n)
                append_frame(&seed, &seed_len, s[i].sent, n);
            if (n)
                FUZZ_CHECK(feed(&s[1 - i], s[i].sent, n));
        }
        if (petrel_handshake_complete(s[peer].conn) && !sent_data) {
            FUZZ_CHECK(petrel_encode_to_outdata(s[peer].conn, (const uint8_t *)"seed data", 9) ==
                       PETREL_REQUEST_SEND);
            sent_data = true;
        } else if (sent_data && !closed) {
            FUZZ_CHECK(petrel_close_notify(s[peer].conn) == PETREL_REQUEST_SEND);
            closed = true;
        }
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s-%02x", dir, record_client ? "client" : "server", options);
    FILE *out = fopen(path, "wb");
    FUZZ_CHECK(out && fwrite(seed, 1, seed_len, out) == seed_len && fclose(out) == 0);
    free(seed);
    for (int i = 0; i < 2; i++) {
        free(s[i].sent);
        petrel_conn_free(s[i].conn);
        petrel_config_free(cfg[i]);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_engine_setup();
    const char *dir = getenv("PETREL_FUZZ_WRITE_SEEDS");
    if (dir) {
        /* PSK (each suite), ECDHE_PSK, ECDSA, RSA, client auth, raw
         * public keys: see the FUZZ_OPT_* bits in fuzz_common.h. */
        static const uint8_t modes[] = {
            FUZZ_OPT_CREDS_PSK,         FUZZ_OPT_CREDS_PSK | 5,
            FUZZ_OPT_CREDS_CERT,        FUZZ_OPT_CREDS_CERT | FUZZ_OPT_RSA,
            FUZZ_OPT_CREDS_CLIENT_AUTH, FUZZ_OPT_CREDS_RPK,
        };
        for (size_t i = 0; i < sizeof(modes); i++) {
            write_seed(dir, modes[i], false);
            write_seed(dir, modes[i], true);
        }
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size);
    return 0;
}
