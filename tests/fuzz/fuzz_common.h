/*
 * Shared by the libFuzzer targets in tests/fuzz and by the seed generator
 * tests/fuzz/make_corpus.c, so that the seeds it writes are read exactly
 * the way it wrote them:
 *
 *   - FUZZ_CHECK, an abort() that holds in release builds too;
 *   - the fixed AEAD keys fuzz_record opens records with;
 *   - the platform of the engine targets (fuzz_server, fuzz_client): a
 *     virtual clock and a seeded splitmix64 RNG, reset for every input;
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

/* A platform on env's clock and RNG (both reset to the fixed start), the
 * default allocator, and no logging. */
static inline petrel_platform fuzz_env_platform(fuzz_env *env)
{
    env->now = FUZZ_START_MS;
    env->rng = FUZZ_RNG_SEED;
    petrel_platform p = petrel_platform_default();
    p.clock_ms = fuzz_env_clock;
    p.clock_ref = env;
    p.rng = fuzz_env_rng;
    p.rng_ref = env;
    p.log_level = PETREL_LOG_NONE;
    return p;
}

/* ---- engine targets: the options byte ---- */

#define FUZZ_OPT_SUITE_MASK 0x07 /* 0 and 7: the default list; 1..6: one suite */
#define FUZZ_OPT_PMTU_200   0x08 /* PMTU 200 instead of the default 1232 */
#define FUZZ_OPT_PSK_HINT   0x10 /* server: send the identity hint "hint" */
#define FUZZ_OPT_NO_GATE                              \
    0x20 /* fuzz_server: create the connection on the \
            first datagram, whatever                  \
            petrel_server_check_hello says */

static const uint16_t fuzz_option_suites[6] = {0xC0A8, 0xC0A4, 0x00A8, 0x00A9, 0xCCAB, 0xCCAC};

/* The config for one role as the options byte asks. The RNG draws (the
 * cookie secret) happen in petrel_config_new, in the same order for the
 * target and for make_corpus. Returns NULL only when out of memory. */
static inline petrel_config *fuzz_engine_config(const petrel_platform *platform, uint8_t options,
                                                petrel_role role)
{
    petrel_config *cfg = petrel_config_new(platform);
    if (!cfg)
        return NULL;
    unsigned suite = options & FUZZ_OPT_SUITE_MASK;
    bool ok = petrel_config_set_psk(cfg, fuzz_psk_identity, sizeof(fuzz_psk_identity), fuzz_psk_key,
                                    sizeof(fuzz_psk_key)) == 0;
    if (ok && suite >= 1 && suite <= 6)
        ok = petrel_config_set_suites(cfg, &fuzz_option_suites[suite - 1], 1) == 0;
    if (ok && (options & FUZZ_OPT_PMTU_200))
        ok = petrel_config_set_pmtu(cfg, 200) == 0;
    if (ok && role == PETREL_SERVER && (options & FUZZ_OPT_PSK_HINT))
        ok = petrel_config_set_psk_hint(cfg, (const uint8_t *)"hint", 4) == 0;
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
