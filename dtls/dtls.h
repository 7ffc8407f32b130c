/*
 * The datagram record layer: epochs, sequence numbers, the replay window,
 * record protection, handshake fragmentation and reassembly, flights,
 * retransmission, and the stateless cookie exchange. It implements
 * hs_record_ops for the handshake core and produces datagrams that never
 * exceed the PMTU. It does no I/O: datagrams come in through
 * dtls_read_next and go out through the output queue.
 */
#ifndef PETREL_DTLS_DTLS_H
#define PETREL_DTLS_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtls/cookie.h"
#include "dtls/reassembly.h"
#include "dtls/record.h"
#include "dtls/replay.h"
#include "dtls/timer.h"
#include "handshake/handshake.h"

#define DTLS_MIN_PMTU               200
#define DTLS_MAX_PMTU               16384
#define DTLS_DEFAULT_PMTU           1232
#define DTLS_FLIGHT_MAX_ENTRIES     16
#define DTLS_OUT_MAX_DATAGRAMS      256
#define DTLS_DEFAULT_MAX_MESSAGE    16384
#define DTLS_DEFAULT_MAX_REASSEMBLY 65536
#define DTLS_TIMER_LOG              8

typedef struct dtls_config {
    size_t pmtu;
    unsigned replay_window;
    dtls_timer_config timer;
    size_t max_message_len;
    size_t max_reassembly;
} dtls_config;

typedef struct dtls_flight_entry {
    bool ccs;
    uint16_t epoch;
    size_t offset; /* of the framed message in flight_buf */
    size_t len;
} dtls_flight_entry;

/* One transmission of a flight: its epoch-0 record sequence numbers
 * [first_seq, end_seq) and when it went out. */
typedef struct dtls_transmission {
    uint64_t first_seq;
    uint64_t end_seq;
    uint64_t sent_at;
} dtls_transmission;

typedef enum dtls_event {
    DTLS_EVENT_NONE,
    DTLS_EVENT_APP_DATA,
    DTLS_EVENT_ALERT,
    DTLS_EVENT_HANDSHAKE_COMPLETE,
} dtls_event;

typedef struct dtls_stats {
    uint64_t datagrams_sent;
    uint64_t datagrams_received;
    uint64_t records_accepted; /* authenticated and processed */
    uint64_t records_dropped;
    uint64_t bytes_dropped;
    uint64_t retransmissions;
} dtls_stats;

typedef struct dtls_layer {
    const petrel_platform *platform;
    const crypto_provider *prov;
    const dtls_config *cfg;
    const dtls_cookie_secrets *cookies; /* server only */
    hs_ctx *hs;
    bool is_server;
    size_t pmtu;
    uint8_t peer_id[DTLS_PEER_ID_MAX];
    size_t peer_id_len;

    /* Writing: the epoch in force, and two cipher slots by its parity
     * (renegotiation goes on past epoch 1). */
    uint16_t write_epoch;
    uint64_t write_seq[2];
    dtls_cipher write_cipher[2];
    uint16_t next_send_seq; /* handshake message_seq */

    /* Reading. */
    uint16_t read_epoch;
    dtls_cipher read_cipher[2];
    dtls_replay replay[2];
    dtls_reassembler reassembler;

    /* The last flight, kept for retransmission. */
    uint8_t *flight_buf;
    size_t flight_len;
    size_t flight_cap;
    dtls_flight_entry entries[DTLS_FLIGHT_MAX_ENTRIES];
    size_t entry_count;
    bool flight_open; /* messages are being added */
    bool have_flight;
    hs_flight_kind flight_kind;
    dtls_timer timer;
    /* When each transmission of the flight went out and which record
     * sequence numbers (epoch 0) it used, to match a HelloVerifyRequest,
     * which echoes the ClientHello's, to the exact transmission. */
    dtls_transmission transmissions[DTLS_TIMER_LOG];
    uint64_t last_transmit_at; /* when the flight last went out */
    /* The peer message our flight answers (its message_seq), or -1: only a
     * repeat of that message, with nothing newer received, means the
     * peer lost our flight. */
    int64_t flight_answers_seq;
    bool delivering; /* inside hs_handle_message */
    size_t transmission_count;

    /* Datagrams waiting to be sent, back to back in out. */
    uint8_t *out;
    size_t out_cap;
    size_t out_len;  /* bytes queued */
    size_t out_head; /* offset of the next datagram to hand out */
    size_t dgram_len[DTLS_OUT_MAX_DATAGRAMS];
    size_t dgram_first;
    size_t dgram_count;

    /* Per epoch, one past the highest record sequence number received:
     * only a record above it may trigger an early resend. */
    uint64_t next_record_seq[2];
    bool complete_pending; /* the handshake finished: report it */
    /* Each handshake message (and ChangeCipherSpec) of a flight in
     * datagrams of its own instead of packed together. */
    bool message_per_datagram;
    /* Records of the new epoch that failed to authenticate during the
     * handshake: dropped (RFC 6347 §4.1.2.7), but a handshake that then
     * times out reports PETREL_ERR_AEAD_AUTH instead. */
    unsigned handshake_auth_failures;
    uint8_t last_alert[2];
    bool have_alert;
    dtls_stats stats;
} dtls_layer;

extern const hs_record_ops dtls_record_ops;

PETREL_MUST_CHECK int dtls_layer_init(dtls_layer *l, const petrel_platform *platform,
                                      const crypto_provider *prov, const dtls_config *cfg,
                                      const dtls_cookie_secrets *cookies, hs_ctx *hs,
                                      bool is_server, const uint8_t *peer_id, size_t peer_id_len);
void dtls_layer_free(dtls_layer *l);

/*
 * Processes records from the datagram r reads (held in the mutable buffer
 * base) until one produces an event or the datagram ends. Returns 0 with
 * *ev set (DTLS_EVENT_NONE at the end of the datagram), or a fatal error.
 * For DTLS_EVENT_APP_DATA, *data / *len point into base.
 */
PETREL_MUST_CHECK int dtls_read_next(dtls_layer *l, cursor_reader *r, uint8_t *base, dtls_event *ev,
                                     const uint8_t **data, size_t *len);

/* Retransmits the flight when the timer is due. 0, or
 * PETREL_ERR_HANDSHAKE_TIMEOUT. */
PETREL_MUST_CHECK int dtls_handle_timeout(dtls_layer *l, uint64_t now);

/* The application's own timer fired: retransmits the flight now if one
 * waits for an answer (the timer doubles and counts it as dtls_handle_timeout
 * does). 0, or PETREL_ERR_HANDSHAKE_TIMEOUT. */
PETREL_MUST_CHECK int dtls_retransmit_now(dtls_layer *l, uint64_t now);

/* Queues one record of application data (or an alert) as a datagram. */
PETREL_MUST_CHECK int dtls_write_app_data(dtls_layer *l, const uint8_t *data, size_t len);
PETREL_MUST_CHECK int dtls_write_alert(dtls_layer *l, uint8_t level, uint8_t description);
/* The write-buffer flow: space for plaintext in a new datagram, then seal. */
PETREL_MUST_CHECK int dtls_writebuf(dtls_layer *l, uint8_t **buf, size_t *cap);
PETREL_MUST_CHECK int dtls_writebuf_commit(dtls_layer *l, size_t len);
size_t dtls_max_payload(const dtls_layer *l);

/* The output queue. */
size_t dtls_out_peek(const dtls_layer *l, const uint8_t **buf);
void dtls_out_pop(dtls_layer *l);

size_t dtls_layer_memory(const dtls_layer *l);

/*
 * The stateless cookie gate for a server that has no connection for this
 * peer yet (RFC 6347 §4.2.1): returns 1 when the datagram starts with a
 * ClientHello carrying a valid cookie (create a connection and give it the
 * datagram); 0 when it holds a ClientHello without one, with the
 * HelloVerifyRequest to send back written to out (*out_len bytes); a
 * negative error when the datagram is to be dropped. Allocates nothing.
 */
PETREL_MUST_CHECK int dtls_stateless_check(const crypto_provider *prov,
                                           const dtls_cookie_secrets *cookies, const uint8_t *peer,
                                           size_t peer_len, const uint8_t *datagram, size_t len,
                                           uint8_t *out, size_t out_cap, size_t *out_len);

#endif
