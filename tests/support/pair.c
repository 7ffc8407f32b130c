/* The in-memory client/server pair. */
#include "tests/support/pair.h"

#include <stdlib.h>
#include <string.h>

static uint64_t pair_clock(void *ref)
{
    return ((pair *)ref)->now;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static int pair_rng(void *ref, uint8_t *buf, size_t len)
{
    pair *p = ref;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t v = splitmix64(&p->rng);
        size_t n = len - i < 8 ? len - i : 8;
        memcpy(buf + i, &v, n);
    }
    return 0;
}

/* Wall-clock time follows the virtual clock from p->wall_time. */
static int64_t pair_time(void *ref)
{
    const pair *p = ref;
    return p->wall_time + (int64_t)((p->now - 1000000) / 1000);
}

void pair_init(pair *p, uint64_t seed)
{
    static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    memset(p, 0, sizeof(*p));
    p->rng = seed;
    p->latency = 25;
    p->now = 1000000;
    p->platform = petrel_platform_default();
    p->platform.clock_ms = pair_clock;
    p->platform.clock_ref = p;
    p->platform.rng = pair_rng;
    p->platform.rng_ref = p;
    p->platform.time_s = pair_time;
    p->platform.time_ref = p;
    p->wall_time = PAIR_WALL_TIME;
    p->platform.log_level = getenv("PETREL_TEST_LOG") ? PETREL_LOG_DEBUG : PETREL_LOG_NONE;
    p->client_cfg = petrel_config_new(&p->platform);
    p->server_cfg = petrel_config_new(&p->platform);
    p->queue = calloc(PAIR_MAX_QUEUED, sizeof(pair_datagram));
    if (petrel_config_set_psk(p->client_cfg, (const uint8_t *)"client", 6, key, sizeof(key)) < 0 ||
        petrel_config_set_psk(p->server_cfg, (const uint8_t *)"client", 6, key, sizeof(key)) < 0)
        abort();
}

int pair_start(pair *p)
{
    static const uint8_t peer[] = {127, 0, 0, 1, 0x13, 0x88};
    p->client = petrel_conn_new(p->client_cfg, PETREL_CLIENT, PETREL_DATAGRAM, NULL, 0);
    p->server = petrel_conn_new(p->server_cfg, PETREL_SERVER, PETREL_DATAGRAM, peer, sizeof(peer));
    if (!p->client || !p->server)
        return PETREL_ERR_NOMEM;
    int rc = petrel_connect(p->client);
    return rc < 0 ? rc : 0;
}

void pair_free(pair *p)
{
    petrel_conn_free(p->client);
    petrel_conn_free(p->server);
    petrel_config_free(p->client_cfg);
    petrel_config_free(p->server_cfg);
    free(p->queue);
    memset(p, 0, sizeof(*p));
}

/* Moves one side's outdata into the queue, through the filter. */
static void collect(pair *p, petrel_conn *conn, int direction)
{
    const uint8_t *buf;
    int n;
    while ((n = petrel_get_outdata(conn, &buf)) > 0) {
        size_t len = (size_t)n;
        size_t index = p->sent[direction]++;
        if (p->queued + 2 <= PAIR_MAX_QUEUED && len <= PAIR_MAX_DATAGRAM) {
            pair_datagram *d = &p->queue[p->queued];
            memcpy(d->data, buf, len);
            d->len = len;
            d->direction = direction;
            d->deliver_at = p->now + p->latency;
            bool pass = !p->filter || p->filter(p->filter_ref, direction, index, d->data, &d->len);
            impair_link *link = p->links[direction];
            if (pass && link) {
                impair_verdict v = impair_decide(link, p->now, d->data, d->len);
                if (v.copies > 0)
                    d->deliver_at = v.deliver_at[0];
                if (v.copies > 1) {
                    p->queue[p->queued + 1] = *d;
                    p->queue[p->queued + 1].deliver_at = v.deliver_at[1];
                }
                p->queued += (size_t)v.copies;
            } else if (pass) {
                p->queued++;
            }
        }
        if (petrel_sent(conn, len) < 0)
            abort();
    }
}

static void deliver(pair *p, const pair_datagram *d)
{
    bool to_client = d->direction == PAIR_TO_CLIENT;
    petrel_conn *conn = to_client ? p->client : p->server;
    int *error = to_client ? &p->client_error : &p->server_error;
    int side = to_client ? 0 : 1;
    uint8_t *buf;
    const uint8_t *data;
    size_t len;
    if (*error)
        return;
    int cap = petrel_get_readbuf(conn, &buf);
    if (cap < 0 || d->len > (size_t)cap)
        return;
    memcpy(buf, d->data, d->len);
    p->delivered[d->direction]++;
    int rc = petrel_received(conn, d->len, &data, &len);
    for (;;) {
        if (rc < 0) {
            *error = rc;
            return;
        }
        if (rc == PETREL_HANDSHAKE_COMPLETE) {
            if (to_client) {
                p->client_complete = true;
                p->client_complete_at = p->now;
            } else {
                p->server_complete = true;
                p->server_complete_at = p->now;
            }
        } else if (rc == PETREL_APP_DATA) {
            size_t n = len < sizeof(p->app[side]) ? len : sizeof(p->app[side]);
            memcpy(p->app[side], data, n);
            p->app_len[side] = n;
        } else if (rc == PETREL_RECEIVED_ALERT) {
            p->alerts[side]++;
        } else {
            return; /* SEND or RECV: the datagram is done */
        }
        rc = petrel_processed(conn, &data, &len);
    }
}

/* One step: deliver what is due, fire due timers, collect output. Returns
 * false when nothing is pending at all. */
static bool step(pair *p, uint64_t limit)
{
    collect(p, p->client, PAIR_TO_SERVER);
    collect(p, p->server, PAIR_TO_CLIENT);

    uint64_t next = UINT64_MAX;
    for (size_t i = 0; i < p->queued; i++)
        if (p->queue[i].deliver_at < next)
            next = p->queue[i].deliver_at;
    petrel_conn *conns[2] = {p->client, p->server};
    int *errors[2] = {&p->client_error, &p->server_error};
    for (int i = 0; i < 2; i++) {
        int64_t t = *errors[i] ? -1 : petrel_next_timeout(conns[i]);
        if (t >= 0 && p->now + (uint64_t)t < next)
            next = p->now + (uint64_t)t;
    }
    if (next == UINT64_MAX || next > limit)
        return false;
    if (next > p->now)
        p->now = next;

    /* Deliver in send order everything due now. */
    for (size_t i = 0; i < p->queued;) {
        if (p->queue[i].deliver_at <= p->now) {
            pair_datagram *d = malloc(sizeof(*d));
            if (!d)
                abort();
            memcpy(d, &p->queue[i], sizeof(*d));
            memmove(&p->queue[i], &p->queue[i + 1], (p->queued - i - 1) * sizeof(*d));
            p->queued--;
            deliver(p, d);
            free(d);
        } else {
            i++;
        }
    }
    for (int i = 0; i < 2; i++) {
        if (!*errors[i] && petrel_next_timeout(conns[i]) == 0) {
            int rc = petrel_handle_timeout(conns[i]);
            if (rc < 0)
                *errors[i] = rc;
        }
    }
    collect(p, p->client, PAIR_TO_SERVER);
    collect(p, p->server, PAIR_TO_CLIENT);
    return true;
}

int pair_run(pair *p, uint64_t max_time_ms)
{
    uint64_t limit = p->now + max_time_ms;
    while (!(p->client_complete && p->server_complete)) {
        if (p->client_error)
            return p->client_error;
        if (p->server_error)
            return p->server_error;
        if (!step(p, limit))
            return p->now >= limit ? PETREL_ERR_LIMIT : PETREL_ERR_STATE;
    }
    return 0;
}

int pair_settle(pair *p, uint64_t max_time_ms)
{
    uint64_t limit = p->now + max_time_ms;
    while (step(p, limit)) {
    }
    return 0;
}

int pair_send_app(pair *p, bool from_client, const uint8_t *data, size_t len, uint64_t max_time_ms)
{
    petrel_conn *conn = from_client ? p->client : p->server;
    int side = from_client ? 1 : 0;
    int rc = petrel_encode_to_outdata(conn, data, len);
    if (rc < 0)
        return rc;
    p->app_len[side] = 0;
    uint64_t limit = p->now + max_time_ms;
    while (p->app_len[side] == 0) {
        if (!step(p, limit))
            return PETREL_ERR_LIMIT;
    }
    return p->app_len[side] == len && memcmp(p->app[side], data, len) == 0 ? 0
                                                                           : PETREL_ERR_INTERNAL;
}

bool pair_keys_match(const pair *p)
{
    uint8_t a[48], b[48];
    return petrel_export_master_secret(p->client, a) == 0 &&
           petrel_export_master_secret(p->server, b) == 0 && memcmp(a, b, 48) == 0;
}
