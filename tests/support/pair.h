/*
 * An in-memory client/server pair on a virtual clock with a seeded RNG:
 * whole DTLS handshakes run in-process, in microseconds, reproducibly.
 * Datagrams travel through a queue with a fixed one-way latency; a filter
 * callback may drop, or let pass, each datagram (the lossy tests put their
 * impairment engine there).
 */
#ifndef PETREL_TESTS_PAIR_H
#define PETREL_TESTS_PAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <petrel/petrel.h>

#include "tests/lossy/impair.h"

#define PAIR_MAX_QUEUED   512
#define PAIR_MAX_DATAGRAM 16384

enum { PAIR_TO_SERVER = 0, PAIR_TO_CLIENT = 1 };

/* Returns true to deliver the datagram, false to drop it. index counts the
 * datagrams sent in that direction, from 0. The filter may modify the
 * datagram in place (corruption tests). */
typedef bool (*pair_filter_fn)(void *ref, int direction, size_t index, uint8_t *dgram, size_t *len);

typedef struct pair_datagram {
    int direction;
    uint64_t deliver_at;
    size_t len;
    uint8_t data[PAIR_MAX_DATAGRAM];
} pair_datagram;

/* 2026-01-01T00:00:00Z: inside the validity of every good test
 * certificate (tests/pki), whatever the machine's clock says. */
#define PAIR_WALL_TIME 1767225600

typedef struct pair {
    uint64_t now;      /* the virtual clock, ms */
    int64_t wall_time; /* the time hook's answer at the start, Unix s */
    uint64_t rng;      /* splitmix64 state */
    uint32_t latency;  /* one-way, ms */
    petrel_platform platform;
    petrel_config *client_cfg;
    petrel_config *server_cfg;
    petrel_conn *client;
    petrel_conn *server;
    pair_filter_fn filter;
    void *filter_ref;
    /* Optional impairment per direction (PAIR_TO_SERVER, PAIR_TO_CLIENT);
     * when set, it decides loss, delay, duplication and corruption and the
     * fixed latency is not added. */
    impair_link *links[2];
    pair_datagram *queue; /* PAIR_MAX_QUEUED slots */
    size_t queued;
    size_t sent[2];      /* datagrams sent per direction */
    size_t delivered[2]; /* datagrams delivered per direction */
    int client_error;
    int server_error;
    bool client_complete;
    bool server_complete;
    uint64_t client_complete_at;
    uint64_t server_complete_at;
    /* The last application data each side received. */
    uint8_t app[2][2048];
    size_t app_len[2];
    size_t alerts[2];
} pair;

/* Sets up configs (PSK "client"/"0102...10" on both, unless the test
 * changes them before pair_start) with the virtual clock and the seeded
 * RNG. */
void pair_init(pair *p, uint64_t seed);
/* Creates the connections and starts the client. */
int pair_start(pair *p);
/* Runs until both sides completed (0), a side failed (its error), nothing
 * can happen any more (PETREL_ERR_STATE), or the clock passes
 * max_time_ms (PETREL_ERR_LIMIT). */
int pair_run(pair *p, uint64_t max_time_ms);
/* Sends len bytes of application data from one side and runs until the
 * other side has it (0) or time runs out. */
int pair_send_app(pair *p, bool from_client, const uint8_t *data, size_t len, uint64_t max_time_ms);
/* Runs the loop until nothing is queued and no timer is due within
 * max_time_ms. */
int pair_settle(pair *p, uint64_t max_time_ms);
void pair_free(pair *p);

/* Both sides hold the same master secret. */
bool pair_keys_match(const pair *p);

#endif
