/*
 * DTLS handshake fragments and their reassembly (RFC 6347 §4.2.2, §4.2.3).
 *
 * Every DTLS handshake message travels as one or more fragments, each with
 * the 12-byte header
 *     HandshakeType msg_type; uint24 length; uint16 message_seq;
 *     uint24 fragment_offset; uint24 fragment_length; opaque body[fragment_length]
 * The reassembler collects fragments of the message the handshake expects
 * next (next_seq) and of a bounded number of later ones, in any order,
 * duplicated or overlapping, and hands out each message complete and in
 * order, in the unfragmented form the transcript hashes: the 12-byte header
 * with fragment_offset 0 and fragment_length = length, then the body.
 *
 * Memory is bounded: a message longer than max_message_len is refused, and
 * the bytes held across all slots never exceed max_buffered.
 */
#ifndef PETREL_DTLS_REASSEMBLY_H
#define PETREL_DTLS_REASSEMBLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cursor.h"

#define DTLS_HS_HEADER_LEN 12
/* Messages buffered ahead of next_seq, next_seq included. */
#define DTLS_REASSEMBLY_SLOTS 8

typedef struct dtls_hs_fragment {
    uint8_t msg_type;
    uint32_t length; /* of the whole message body */
    uint16_t message_seq;
    uint32_t fragment_offset;
    uint32_t fragment_length;
    const uint8_t *body; /* fragment_length bytes, a view into the record */
} dtls_hs_fragment;

/*
 * Reads one fragment (header and body) from r. Errors (r unchanged):
 * PETREL_ERR_TRUNCATED when the header or the body runs past the end of r;
 * PETREL_ERR_LENGTH when fragment_offset + fragment_length > length.
 * A record may hold several fragments: call repeatedly until r is empty.
 */
PETREL_MUST_CHECK int dtls_hs_fragment_read(cursor_reader *r, dtls_hs_fragment *out);
/* Writes the header and body of frag. */
PETREL_MUST_CHECK int dtls_hs_fragment_write(cursor_writer *w, const dtls_hs_fragment *frag);

/* Outcomes of dtls_reassembler_add that are not errors. */
typedef enum dtls_reassembly_result {
    DTLS_REASM_BUFFERED = 0,  /* stored (possibly completing a message) */
    DTLS_REASM_DUPLICATE = 1, /* every byte was already held: nothing new */
    DTLS_REASM_PAST = 2,      /* message_seq < next_seq: a retransmission */
    DTLS_REASM_TOO_FAR = 3,   /* message_seq >= next_seq + SLOTS: dropped */
    DTLS_REASM_CONFLICT = 4,  /* disagrees with what is held (type, length,
                                 or overlapping bytes): dropped, first kept */
} dtls_reassembly_result;

typedef struct dtls_reassembly_slot {
    bool in_use;
    uint16_t message_seq;
    uint8_t msg_type;
    uint32_t length;
    uint32_t bytes_held; /* distinct body bytes received so far */
    uint8_t *message;    /* DTLS_HS_HEADER_LEN + length bytes */
    uint8_t *received;   /* bitmap, one bit per body byte */
} dtls_reassembly_slot;

typedef struct dtls_reassembler {
    const petrel_platform *platform; /* allocator; not owned */
    uint16_t next_seq;
    size_t max_message_len; /* longest message body accepted */
    size_t max_buffered;    /* cap on allocated bytes across all slots */
    size_t buffered;        /* bytes allocated now */
    dtls_reassembly_slot slots[DTLS_REASSEMBLY_SLOTS];
} dtls_reassembler;

void dtls_reassembler_init(dtls_reassembler *r, const petrel_platform *platform,
                           size_t max_message_len, size_t max_buffered);
/* Frees every slot. The reassembler may be reused after init. */
void dtls_reassembler_free(dtls_reassembler *r);

/*
 * Adds one fragment. Returns a dtls_reassembly_result (>= 0), or:
 * PETREL_ERR_LIMIT when the message is longer than max_message_len or would
 * push the buffered bytes over max_buffered (the fragment is dropped, the
 * reassembler unchanged); PETREL_ERR_NOMEM. A fragment with length 0 is a
 * complete empty message (ServerHelloDone).
 */
PETREL_MUST_CHECK int dtls_reassembler_add(dtls_reassembler *r, const dtls_hs_fragment *frag);

/*
 * When the message for next_seq is complete, points *msg at it (header +
 * body, unfragmented form), sets *len and returns true. The pointer stays
 * valid until dtls_reassembler_advance or _free.
 */
bool dtls_reassembler_peek(const dtls_reassembler *r, const uint8_t **msg, size_t *len);

/* Releases the message for next_seq (complete or not) and moves on to
 * next_seq + 1. */
void dtls_reassembler_advance(dtls_reassembler *r);

/* Drops everything held and expects next_seq from now on. */
void dtls_reassembler_reset(dtls_reassembler *r, uint16_t next_seq);

#endif
