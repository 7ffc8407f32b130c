/*
 * DTLS 1.2 records (RFC 6347 §4.1) and their AEAD protection, which
 * handshake/protect.c does for DTLS and TLS alike with seq_num = epoch +
 * sequence_number.
 *
 *   struct { ContentType type; ProtocolVersion version; uint16 epoch;
 *            uint48 sequence_number; uint16 length; opaque fragment[length]; }
 *
 * AAD = epoch + sequence_number + type + version + plaintext length.
 */
#ifndef PETREL_DTLS_RECORD_H
#define PETREL_DTLS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "common/cursor.h"
#include "handshake/protect.h"
#include "handshake/suites.h"

#define DTLS_RECORD_HEADER_LEN 13
#define DTLS_MAX_PLAINTEXT     16384 /* 2^14, RFC 5246 §6.2.1 */
#define DTLS_SEQ_MAX           ((UINT64_C(1) << 48) - 1)

enum {
    DTLS_CT_CHANGE_CIPHER_SPEC = 20,
    DTLS_CT_ALERT = 21,
    DTLS_CT_HANDSHAKE = 22,
    DTLS_CT_APPLICATION_DATA = 23,
};

/* One record as parsed from a datagram. fragment points into the datagram,
 * which is the connection's own read buffer and may be decrypted in place. */
typedef struct dtls_record {
    uint8_t type;
    uint16_t version;
    uint16_t epoch;
    uint64_t seq;
    uint8_t *fragment;
    size_t length;
} dtls_record;

/* The protection state of one epoch in one direction (shared with TLS:
 * handshake/protect.h); suite NULL means the NULL cipher of epoch 0. */
typedef hs_record_cipher dtls_cipher;

/*
 * Reads one record header and its fragment view from r, which reads the
 * datagram held in the mutable buffer `base` (r->data == base). Errors:
 * PETREL_ERR_TRUNCATED (header or fragment past the datagram's end),
 * PETREL_ERR_LENGTH (fragment longer than any valid record).
 */
PETREL_MUST_CHECK int dtls_record_read(cursor_reader *r, uint8_t *base, dtls_record *out);

/* Bytes a record adds around its plaintext: header, explicit nonce, tag. */
size_t dtls_record_overhead(const dtls_cipher *c);

/*
 * Writes one complete record (header + protected fragment) for plaintext
 * into w. With plaintext == NULL the plaintext is assumed to be in place
 * already, at w's position + DTLS_RECORD_HEADER_LEN + explicit nonce
 * length (the write-buffer flow). PETREL_ERR_BUFFER_TOO_SMALL leaves w
 * unchanged.
 */
PETREL_MUST_CHECK int dtls_record_write(const dtls_cipher *c, uint8_t type, uint16_t version,
                                        uint16_t epoch, uint64_t seq, const uint8_t *plaintext,
                                        size_t len, cursor_writer *w);

/*
 * Decrypts rec in place. On success *plain / *plain_len give the
 * plaintext. PETREL_ERR_AEAD_AUTH (or _TRUNCATED when the fragment cannot
 * even hold the nonce and tag) means: drop the record silently.
 */
PETREL_MUST_CHECK int dtls_record_open(const dtls_cipher *c, dtls_record *rec, uint8_t **plain,
                                       size_t *plain_len);

#endif
