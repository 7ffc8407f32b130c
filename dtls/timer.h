/*
 * The DTLS retransmission timer (RFC 6347 §4.2.4), driven by named events.
 * Protocol code says "flight sent", "timer fired", "peer's flight arrived";
 * this file alone decides what to arm. All times are platform-clock ms.
 *
 * Policy: the first flight waits initial_ms (RFC 6347 recommends 1 s).
 * Each expiry doubles the wait up to max_ms and retransmits, at most
 * max_retransmits times; the next expiry is PETREL_ERR_HANDSHAKE_TIMEOUT.
 * Once a round trip has been measured on a flight that was not
 * retransmitted (Karn's rule), new flights wait max(rtt_factor * RTT,
 * 3/2 * the longest response seen, rtt_min_ms) instead of initial_ms
 * (longer than initial_ms too, on slow links), and still double. The
 * longest response covers a peer that takes time to compute its answer
 * (a device signing or verifying a certificate flight): the smoothed RTT
 * follows the network, and a flight that makes the peer work must not be
 * resent while it is still working.
 */
#ifndef PETREL_DTLS_TIMER_H
#define PETREL_DTLS_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/util.h"

typedef struct dtls_timer_config {
    uint32_t initial_ms;
    uint32_t max_ms;
    uint32_t max_retransmits;
    uint32_t rtt_min_ms;
    uint32_t rtt_factor;
} dtls_timer_config;

#define DTLS_TIMER_DEFAULT_INITIAL_MS      1000
#define DTLS_TIMER_DEFAULT_MAX_MS          60000
#define DTLS_TIMER_DEFAULT_MAX_RETRANSMITS 7
#define DTLS_TIMER_DEFAULT_RTT_MIN_MS      100
#define DTLS_TIMER_DEFAULT_RTT_FACTOR      3

typedef struct dtls_timer {
    uint64_t deadline;    /* 0: not armed */
    uint32_t timeout_ms;  /* the wait now in force */
    uint32_t retransmits; /* of the current flight */
    uint64_t flight_sent_at;
    bool retransmitted; /* the current flight was sent more than once */
    bool sampled;       /* an RTT sample was taken for the current flight */
    bool have_rtt;
    uint32_t rtt_ms;          /* smoothed */
    uint32_t max_response_ms; /* the longest sample */
} dtls_timer;

void dtls_timer_init(dtls_timer *t);
/* A new flight went out for the first time: arm. */
void dtls_timer_flight_sent(dtls_timer *t, const dtls_timer_config *cfg, uint64_t now);
/* The deadline passed: returns 0 and re-arms with the doubled wait (the
 * caller retransmits), or PETREL_ERR_HANDSHAKE_TIMEOUT when the tries are
 * spent. */
PETREL_MUST_CHECK int dtls_timer_expired(dtls_timer *t, const dtls_timer_config *cfg, uint64_t now);
/* The flight was resent early (the peer repeated its flight): counts for
 * Karn's rule, leaves the deadline alone. */
void dtls_timer_resent_early(dtls_timer *t);
/* A message of the peer's next flight arrived: take an RTT sample (once
 * per flight, and only if the flight was not resent). The timer stays
 * armed until our next flight replaces it or the handshake ends, since
 * the rest of the peer's flight may still be lost. */
void dtls_timer_peer_responded(dtls_timer *t, uint64_t now);
/* An RTT sample known to be exact even though the flight was resent (the
 * peer's answer names the transmission it answers, as HelloVerifyRequest
 * does by echoing the record sequence number). */
void dtls_timer_rtt_sample(dtls_timer *t, uint64_t sample_ms);
void dtls_timer_stop(dtls_timer *t);

#endif
