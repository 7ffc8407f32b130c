/*
 * The stream record layer: TLS 1.2 records (RFC 5246 §6.2) over a
 * reliable byte stream. It implements hs_record_ops for the shared
 * handshake core, exactly as dtls/ does for datagrams, and differs only
 * where the transport does:
 *
 *   - records carry no epoch or sequence number: each direction counts
 *     its records from 0 after every ChangeCipherSpec (the implicit
 *     seq_num of the AEAD nonce and AAD, handshake/protect.h);
 *   - handshake messages have a 4-byte header and may span records, or
 *     several may share one; they are never fragmented by the sender
 *     beyond the 2^14-byte record limit and never retransmitted;
 *   - a bad record is fatal (bad_record_mac, record_overflow,
 *     unexpected_message ...): a stream cannot lose or reorder, so
 *     anything wrong is an attack or a bug, not the network;
 *   - the end of the stream is a security event: without close_notify it
 *     means truncation (conn/ reports it).
 *
 * It does no I/O. Input arrives as a window of stream bytes that the
 * caller (conn/) buffers; tls_read_next consumes whole records only.
 * Output is one contiguous byte queue taken partially.
 */
#ifndef PETREL_TLS_TLS_H
#define PETREL_TLS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handshake/handshake.h"
#include "handshake/protect.h"

#define TLS_RECORD_HEADER_LEN 5
#define TLS_MAX_PLAINTEXT     16384          /* 2^14, RFC 5246 §6.2.1 */
#define TLS_MAX_CIPHERTEXT    (16384 + 2048) /* RFC 5246 §6.2.3 */
/* Empty application-data records in a row before the peer is cut off:
 * each costs us a decryption and yields nothing. */
#define TLS_MAX_EMPTY_RECORDS 32

enum {
    TLS_CT_CHANGE_CIPHER_SPEC = 20,
    TLS_CT_ALERT = 21,
    TLS_CT_HANDSHAKE = 22,
    TLS_CT_APPLICATION_DATA = 23,
};

typedef enum tls_event {
    TLS_EVENT_NONE,
    TLS_EVENT_APP_DATA,
    TLS_EVENT_ALERT,
    TLS_EVENT_HANDSHAKE_COMPLETE,
} tls_event;

typedef struct tls_stats {
    uint64_t records_received; /* authenticated and processed */
    uint64_t records_sent;
} tls_stats;

typedef struct tls_layer {
    const petrel_platform *platform;
    const crypto_provider *prov;
    hs_ctx *hs;
    bool is_server;
    size_t max_message_len;

    hs_record_cipher write_cipher;
    uint64_t write_seq;
    hs_record_cipher read_cipher;
    uint64_t read_seq;
    bool first_record_seen;

    /* Handshake messages being sent: framed, waiting to be cut into
     * records at the next ChangeCipherSpec or at the end of the flight. */
    uint8_t *hs_out;
    size_t hs_out_len;
    size_t hs_out_cap;

    /* Handshake bytes received: messages may span records. */
    uint8_t *hs_in;
    size_t hs_in_len;
    size_t hs_in_cap;

    /* Bytes waiting to be sent: [out_head, out_len) of out. */
    uint8_t *out;
    size_t out_cap;
    size_t out_len;
    size_t out_head;

    unsigned empty_records; /* in a row */
    bool complete_pending;
    bool close_received;
    uint8_t last_alert[2];
    bool have_alert;
    tls_stats stats;
} tls_layer;

extern const hs_record_ops tls_record_ops;

PETREL_MUST_CHECK int tls_layer_init(tls_layer *l, const petrel_platform *platform,
                                     const crypto_provider *prov, size_t max_message_len,
                                     hs_ctx *hs, bool is_server);
void tls_layer_free(tls_layer *l);

/*
 * Processes whole records from the len stream bytes at buf (decrypting in
 * place) until one produces an event or no whole record is left. *used
 * receives the bytes consumed (whole records only; the rest is a partial
 * record to be completed by more input). Returns 0 with *ev set, or a
 * fatal error. For TLS_EVENT_APP_DATA, *data / *data_len point into buf.
 */
PETREL_MUST_CHECK int tls_read_next(tls_layer *l, uint8_t *buf, size_t len, size_t *used,
                                    tls_event *ev, const uint8_t **data, size_t *data_len);

/* Queues application data, cut into records of up to TLS_MAX_PLAINTEXT. */
PETREL_MUST_CHECK int tls_write_app_data(tls_layer *l, const uint8_t *data, size_t len);
PETREL_MUST_CHECK int tls_write_alert(tls_layer *l, uint8_t level, uint8_t description);
/* The write-buffer flow: room for TLS_MAX_PLAINTEXT bytes of plaintext in
 * the next record, then seal len of them. */
PETREL_MUST_CHECK int tls_writebuf(tls_layer *l, uint8_t **buf, size_t *cap);
PETREL_MUST_CHECK int tls_writebuf_commit(tls_layer *l, size_t len);

/* The output queue: every byte waiting, then n of them were sent. */
size_t tls_out_peek(const tls_layer *l, const uint8_t **buf);
void tls_out_consume(tls_layer *l, size_t n);
size_t tls_out_pending(const tls_layer *l);

size_t tls_layer_memory(const tls_layer *l);

#endif
