/* The retransmission timer: every decision about when to resend is here. */
#include "dtls/timer.h"

#include <string.h>

void dtls_timer_init(dtls_timer *t)
{
    memset(t, 0, sizeof(*t));
}

static uint32_t first_wait(const dtls_timer *t, const dtls_timer_config *cfg)
{
    if (!t->have_rtt)
        return cfg->initial_ms;
    uint64_t wait = (uint64_t)cfg->rtt_factor * t->rtt_ms;
    uint64_t response = 3 * (uint64_t)t->max_response_ms / 2;
    if (wait < response)
        wait = response;
    if (wait < cfg->rtt_min_ms)
        wait = cfg->rtt_min_ms;
    if (wait > cfg->max_ms)
        wait = cfg->max_ms;
    return (uint32_t)wait;
}

void dtls_timer_flight_sent(dtls_timer *t, const dtls_timer_config *cfg, uint64_t now)
{
    t->timeout_ms = first_wait(t, cfg);
    t->retransmits = 0;
    t->retransmitted = false;
    t->sampled = false;
    t->flight_sent_at = now;
    t->deadline = now + t->timeout_ms;
}

int dtls_timer_expired(dtls_timer *t, const dtls_timer_config *cfg, uint64_t now)
{
    if (t->retransmits >= cfg->max_retransmits) {
        t->deadline = 0;
        return PETREL_ERR_HANDSHAKE_TIMEOUT;
    }
    t->retransmits++;
    t->retransmitted = true;
    uint64_t doubled = (uint64_t)t->timeout_ms * 2;
    t->timeout_ms = (uint32_t)(doubled > cfg->max_ms ? cfg->max_ms : doubled);
    t->deadline = now + t->timeout_ms;
    return 0;
}

void dtls_timer_resent_early(dtls_timer *t)
{
    t->retransmitted = true;
}

void dtls_timer_rtt_sample(dtls_timer *t, uint64_t sample)
{
    if (sample > UINT32_MAX)
        sample = UINT32_MAX;
    /* RFC 6298-style smoothing with gain 1/8. */
    t->rtt_ms = t->have_rtt ? (uint32_t)((7 * (uint64_t)t->rtt_ms + sample) / 8) : (uint32_t)sample;
    t->have_rtt = true;
    t->sampled = true;
    if (sample > t->max_response_ms)
        t->max_response_ms = (uint32_t)sample;
}

void dtls_timer_peer_responded(dtls_timer *t, uint64_t now)
{
    if (!t->deadline || t->retransmitted || t->sampled || now < t->flight_sent_at)
        return;
    dtls_timer_rtt_sample(t, now - t->flight_sent_at);
}

void dtls_timer_stop(dtls_timer *t)
{
    t->deadline = 0;
}
