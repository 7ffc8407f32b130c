/*
 * The DTLS anti-replay window (RFC 6347 §4.1.2.6): a sliding bitmap over
 * the 48-bit record sequence numbers of one epoch. A record is checked
 * before decryption and marked only after it authenticated, so forged
 * records cannot move the window.
 */
#ifndef PETREL_DTLS_REPLAY_H
#define PETREL_DTLS_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define DTLS_REPLAY_MIN_BITS     64
#define DTLS_REPLAY_MAX_BITS     1024
#define DTLS_REPLAY_DEFAULT_BITS 128

typedef struct dtls_replay {
    uint64_t top;                             /* highest sequence number accepted */
    bool started;                             /* false until the first record is accepted */
    unsigned size;                            /* window width in bits, a multiple of 64 */
    uint64_t bits[DTLS_REPLAY_MAX_BITS / 64]; /* bit i: top - i was seen */
} dtls_replay;

/* size is rounded up to a multiple of 64 and clamped to [MIN, MAX]. */
void dtls_replay_init(dtls_replay *w, unsigned size);
/* True when seq is new and not older than the window. */
bool dtls_replay_check(const dtls_replay *w, uint64_t seq);
/* Records seq as seen (call after the record authenticated). */
void dtls_replay_accept(dtls_replay *w, uint64_t seq);

#endif
