/* The anti-replay window. */
#include "dtls/replay.h"

#include <string.h>

#define WORDS(w) ((w)->size / 64)

void dtls_replay_init(dtls_replay *w, unsigned size)
{
    if (size < DTLS_REPLAY_MIN_BITS)
        size = DTLS_REPLAY_MIN_BITS;
    if (size > DTLS_REPLAY_MAX_BITS)
        size = DTLS_REPLAY_MAX_BITS;
    memset(w, 0, sizeof(*w));
    w->size = (size + 63) / 64 * 64;
}

static bool bit_get(const dtls_replay *w, uint64_t i)
{
    return (w->bits[i / 64] >> (i % 64)) & 1;
}

static void bit_set(dtls_replay *w, uint64_t i)
{
    w->bits[i / 64] |= UINT64_C(1) << (i % 64);
}

/* Moves every bit i to i + n (older), dropping what falls off the end. */
static void shift(dtls_replay *w, uint64_t n)
{
    unsigned words = WORDS(w);
    if (n >= w->size) {
        memset(w->bits, 0, sizeof(w->bits));
        return;
    }
    unsigned ws = (unsigned)(n / 64), bs = (unsigned)(n % 64);
    for (unsigned i = words; i-- > 0;) {
        uint64_t v = i >= ws ? w->bits[i - ws] << bs : 0;
        if (bs && i >= ws + 1)
            v |= w->bits[i - ws - 1] >> (64 - bs);
        w->bits[i] = v;
    }
}

bool dtls_replay_check(const dtls_replay *w, uint64_t seq)
{
    if (!w->started || seq > w->top)
        return true;
    uint64_t age = w->top - seq;
    return age < w->size && !bit_get(w, age);
}

void dtls_replay_accept(dtls_replay *w, uint64_t seq)
{
    if (!w->started) {
        w->started = true;
        w->top = seq;
        bit_set(w, 0);
    } else if (seq > w->top) {
        shift(w, seq - w->top);
        w->top = seq;
        bit_set(w, 0);
    } else if (w->top - seq < w->size) {
        bit_set(w, w->top - seq);
    }
}
