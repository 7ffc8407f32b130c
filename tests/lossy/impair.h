/*
 * The impairment engine: what a bad network does to datagrams, one
 * direction at a time, seeded and exactly reproducible. Used in-process by
 * the lossy tests (on the virtual clock of tests/support/pair) and by
 * `petrel proxy` between real processes (on the wall clock).
 *
 * Parameter names follow netem's where they overlap (loss, delay, jitter,
 * reorder, duplicate, corrupt, rate), so that netem users feel at home:
 *
 *   loss P%              independent loss
 *   loss gemodel P R [1-H [1-K]]   Gilbert-Elliott bursty loss: P =
 *                        p(good->bad), R = p(bad->good), 1-H = loss in the
 *                        bad state (default 100%), 1-K = loss in the good
 *                        state (default 0%), all in percent
 *   delay D[ms] [J[ms]]  fixed one-way delay and uniform jitter +-J
 *   jitter J[ms]         the same jitter on its own
 *   reorder P%           P% of datagrams skip the delay (sent at once), so
 *                        they overtake the ones before them (netem's model)
 *   duplicate P%         a second copy of the datagram
 *   corrupt P%           one random bit flipped
 *   rate R[bit|kbit|mbit] serialisation at R bits per second; a queue of
 *                        more than 1 s of data drops the newcomer
 *   mtu N                datagrams larger than N bytes are dropped
 *   blackout A-B[ms]     every datagram dropped from A to B ms after start
 *                        (up to 4 windows)
 *
 * Unless reordering is asked for (reorder > 0, or jitter with
 * jitter_reorders set), delivery keeps the order of sending: a datagram is
 * never delivered before the one sent just before it.
 */
#ifndef PETREL_TESTS_IMPAIR_H
#define PETREL_TESTS_IMPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMPAIR_MAX_BLACKOUTS 4

typedef struct impair_params {
    double loss; /* 0..1 */
    bool gemodel;
    double ge_p;         /* p(good -> bad) per datagram */
    double ge_r;         /* p(bad -> good) per datagram */
    double ge_loss_bad;  /* 1 - h */
    double ge_loss_good; /* 1 - k */
    uint32_t delay_ms;
    uint32_t jitter_ms;
    bool jitter_reorders;
    double reorder;
    double duplicate;
    double corrupt;
    uint64_t rate_bps; /* 0: unlimited */
    size_t mtu;        /* 0: unlimited */
    struct {
        uint64_t start_ms, end_ms;
    } blackouts[IMPAIR_MAX_BLACKOUTS];
    size_t blackout_count;
} impair_params;

typedef struct impair_counters {
    uint64_t offered;
    uint64_t delivered; /* copies handed on, duplicates included */
    uint64_t lost;      /* random or Gilbert-Elliott loss */
    uint64_t mtu_dropped;
    uint64_t blackout_dropped;
    uint64_t rate_dropped;
    uint64_t duplicated;
    uint64_t corrupted;
    uint64_t reordered;
} impair_counters;

/* One direction of a link. */
typedef struct impair_link {
    impair_params params;
    uint64_t rng;      /* xoshiro/splitmix state, from the seed */
    uint64_t start_ms; /* blackout windows count from here */
    bool ge_bad;
    uint64_t last_delivery; /* for order keeping */
    uint64_t rate_free_at;  /* when the serialiser is idle */
    impair_counters counters;
} impair_link;

/* What to do with one datagram: deliver `copies` copies (0 = dropped), the
 * i-th at deliver_at[i] (absolute ms). The datagram may have been
 * corrupted in place. */
typedef struct impair_verdict {
    int copies;
    uint64_t deliver_at[2];
} impair_verdict;

/* All zero: a perfect link. */
void impair_params_init(impair_params *p);
/*
 * Parses one netem-style setting, e.g. ("loss", "30%"), ("delay", "25ms"),
 * ("loss", "gemodel 1% 10% 70% 0.1%"), ("blackout", "1000-3000"),
 * ("rate", "1mbit"), ("mtu", "576"). A percentage is written "30%" or
 * "30" (a bare number is a percentage); times take "ms" or "s" or no unit
 * (ms). Names: loss, delay, jitter, reorder, duplicate, corrupt, rate,
 * mtu, blackout. Returns 0, or -1 with a one-line message in err.
 */
int impair_params_set(impair_params *p, const char *name, const char *value, char *err,
                      size_t err_cap);
/* A one-line description of the settings ("loss 30% delay 25ms ..."). */
void impair_params_describe(const impair_params *p, char *out, size_t cap);

void impair_link_init(impair_link *link, const impair_params *p, uint64_t seed, uint64_t now_ms);
/* Decides the fate of one datagram sent at now_ms. */
impair_verdict impair_decide(impair_link *link, uint64_t now_ms, uint8_t *dgram, size_t len);

#endif
