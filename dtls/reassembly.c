/*
 * DTLS handshake fragments and their reassembly. See reassembly.h.
 *
 * message_seq is compared as a plain 16-bit number, without wraparound:
 * RFC 6347 §4.2.2 starts it at 0 for each handshake, which sends a handful
 * of messages, so a seq below next_seq is always a retransmission and
 * next_seq never gets near 0xFFFF (where it would wrap to 0).
 *
 * Every slot in use holds a message in [next_seq, next_seq + SLOTS): add
 * refuses anything else, advance frees next_seq's slot before moving on, and
 * reset frees them all. With SLOTS slots and SLOTS sequence numbers in the
 * window, a new message always finds a free slot.
 */
#include "dtls/reassembly.h"

#include <string.h>

#define U24_MAX 0xFFFFFFu

/* ---- fragments ---- */

int dtls_hs_fragment_read(cursor_reader *r, dtls_hs_fragment *out)
{
    /* Parse into copies so that a failure leaves r and *out as they were. */
    cursor_reader probe = *r;
    dtls_hs_fragment f;
    PETREL_TRY(cursor_read_u8(&probe, &f.msg_type));
    PETREL_TRY(cursor_read_u24(&probe, &f.length));
    PETREL_TRY(cursor_read_u16(&probe, &f.message_seq));
    PETREL_TRY(cursor_read_u24(&probe, &f.fragment_offset));
    PETREL_TRY(cursor_read_u24(&probe, &f.fragment_length));
    /* Each value is at most 2^24 - 1, so the sum cannot overflow. The header
     * is checked before the body: a range that cannot be right is a length
     * error however many bytes follow. */
    if (f.fragment_offset + f.fragment_length > f.length)
        return PETREL_ERR_LENGTH;
    PETREL_TRY(cursor_read_view(&probe, f.fragment_length, &f.body));
    *r = probe;
    *out = f;
    return 0;
}

/* A fragment whose fields fit the wire format and describe a range inside
 * its message. */
static bool fragment_valid(const dtls_hs_fragment *f)
{
    return f->length <= U24_MAX && f->fragment_offset <= f->length &&
           f->fragment_length <= f->length - f->fragment_offset &&
           (f->body || f->fragment_length == 0);
}

int dtls_hs_fragment_write(cursor_writer *w, const dtls_hs_fragment *frag)
{
    if (!fragment_valid(frag))
        return PETREL_ERR_ARG;
    /* Reserve the whole fragment first so that a short buffer leaves w
     * unchanged, then fill the reserved bytes through a writer of their own. */
    size_t total = DTLS_HS_HEADER_LEN + (size_t)frag->fragment_length;
    uint8_t *out;
    PETREL_TRY(cursor_write_reserve(w, total, &out));
    cursor_writer fw = cursor_writer_init(out, total);
    PETREL_TRY(cursor_write_u8(&fw, frag->msg_type));
    PETREL_TRY(cursor_write_u24(&fw, frag->length));
    PETREL_TRY(cursor_write_u16(&fw, frag->message_seq));
    PETREL_TRY(cursor_write_u24(&fw, frag->fragment_offset));
    PETREL_TRY(cursor_write_u24(&fw, frag->fragment_length));
    return cursor_write_bytes(&fw, frag->body, frag->fragment_length);
}

/* ---- reassembler ---- */

static size_t bitmap_len(uint32_t length)
{
    return ((size_t)length + 7) / 8;
}

/* What a message counts against max_buffered: its buffer and its bitmap. */
static size_t slot_cost(uint32_t length)
{
    return DTLS_HS_HEADER_LEN + (size_t)length + bitmap_len(length);
}

static bool bit_get(const uint8_t *bitmap, size_t i)
{
    return (bitmap[i / 8] >> (i % 8)) & 1u;
}

static void bit_set(uint8_t *bitmap, size_t i)
{
    bitmap[i / 8] = (uint8_t)(bitmap[i / 8] | (1u << (i % 8)));
}

static void slot_release(dtls_reassembler *r, dtls_reassembly_slot *s)
{
    if (!s->in_use)
        return;
    platform_free(r->platform, s->message);
    platform_free(r->platform, s->received);
    r->buffered -= slot_cost(s->length);
    memset(s, 0, sizeof(*s));
}

/* The index of the slot holding seq, or DTLS_REASSEMBLY_SLOTS for none. */
static size_t slot_index(const dtls_reassembler *r, uint16_t seq)
{
    size_t i = 0;
    while (i < DTLS_REASSEMBLY_SLOTS && !(r->slots[i].in_use && r->slots[i].message_seq == seq))
        i++;
    return i;
}

/* The header of the message in its unfragmented form (offset 0, one
 * fragment), which is what the transcript hashes (RFC 6347 §4.2.6). */
static int write_unfragmented_header(uint8_t *message, const dtls_hs_fragment *f)
{
    cursor_writer w = cursor_writer_init(message, DTLS_HS_HEADER_LEN);
    PETREL_TRY(cursor_write_u8(&w, f->msg_type));
    PETREL_TRY(cursor_write_u24(&w, f->length));
    PETREL_TRY(cursor_write_u16(&w, f->message_seq));
    PETREL_TRY(cursor_write_u24(&w, 0));
    return cursor_write_u24(&w, f->length);
}

/* Takes a free slot for f's message, within the configured limits. On
 * failure nothing is allocated and r is unchanged. */
static int slot_create(dtls_reassembler *r, const dtls_hs_fragment *f, dtls_reassembly_slot **out)
{
    size_t cost = slot_cost(f->length);
    /* buffered > max_buffered only if the caller lowered the cap since. */
    if (f->length > r->max_message_len || r->buffered > r->max_buffered ||
        cost > r->max_buffered - r->buffered)
        return PETREL_ERR_LIMIT;
    size_t at = 0;
    while (at < DTLS_REASSEMBLY_SLOTS && r->slots[at].in_use)
        at++;
    if (at == DTLS_REASSEMBLY_SLOTS)
        return PETREL_ERR_INTERNAL; /* the window invariant makes this impossible */
    uint8_t *message = platform_alloc(r->platform, DTLS_HS_HEADER_LEN + (size_t)f->length);
    uint8_t *received = platform_calloc(r->platform, bitmap_len(f->length), 1);
    int rc = message && received ? write_unfragmented_header(message, f) : PETREL_ERR_NOMEM;
    if (rc < 0) {
        platform_free(r->platform, message);
        platform_free(r->platform, received);
        return rc;
    }
    dtls_reassembly_slot *s = &r->slots[at];
    *s = (dtls_reassembly_slot){.in_use = true,
                                .message_seq = f->message_seq,
                                .msg_type = f->msg_type,
                                .length = f->length,
                                .message = message,
                                .received = received};
    r->buffered += cost;
    *out = s;
    return 0;
}

void dtls_reassembler_init(dtls_reassembler *r, const petrel_platform *platform,
                           size_t max_message_len, size_t max_buffered)
{
    memset(r, 0, sizeof(*r));
    r->platform = platform;
    r->max_message_len = max_message_len;
    r->max_buffered = max_buffered;
}

void dtls_reassembler_free(dtls_reassembler *r)
{
    for (size_t i = 0; i < DTLS_REASSEMBLY_SLOTS; i++)
        slot_release(r, &r->slots[i]);
    r->buffered = 0;
}

int dtls_reassembler_add(dtls_reassembler *r, const dtls_hs_fragment *frag)
{
    /* dtls_hs_fragment_read never produces an invalid fragment; one built by
     * hand is a caller bug that must not index past the slot's buffers. */
    if (!fragment_valid(frag))
        return PETREL_ERR_ARG;
    if (frag->message_seq < r->next_seq)
        return DTLS_REASM_PAST;
    if (frag->message_seq - r->next_seq >= DTLS_REASSEMBLY_SLOTS)
        return DTLS_REASM_TOO_FAR;

    size_t at = slot_index(r, frag->message_seq);
    dtls_reassembly_slot *s = at < DTLS_REASSEMBLY_SLOTS ? &r->slots[at] : NULL;
    if (s && (s->msg_type != frag->msg_type || s->length != frag->length))
        return DTLS_REASM_CONFLICT;
    /* An empty fragment of a non-empty message carries nothing: no reason to
     * spend memory on a slot for it. */
    if (frag->fragment_length == 0 && frag->length > 0)
        return DTLS_REASM_DUPLICATE;
    bool created = false;
    if (!s) {
        PETREL_TRY(slot_create(r, frag, &s));
        created = true;
    }

    /* First pass, before anything is stored: a byte we already hold that
     * differs means the peer (or an attacker) sent two versions of the
     * message; keep the first and drop the whole fragment. */
    size_t start = frag->fragment_offset;
    size_t n = frag->fragment_length;
    cursor_reader in = cursor_reader_init(frag->body, n);
    size_t new_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t b;
        PETREL_TRY(cursor_read_u8(&in, &b));
        if (!bit_get(s->received, start + i))
            new_bytes++;
        else if (s->message[DTLS_HS_HEADER_LEN + start + i] != b)
            return DTLS_REASM_CONFLICT;
    }
    if (new_bytes == 0 && !created)
        return DTLS_REASM_DUPLICATE;

    /* Held bytes are equal to the incoming ones, so copying the whole
     * fragment over them changes nothing but fills the gaps. */
    cursor_writer out = cursor_writer_init(&s->message[DTLS_HS_HEADER_LEN + start], n);
    PETREL_TRY(cursor_write_bytes(&out, frag->body, n));
    for (size_t i = 0; i < n; i++)
        bit_set(s->received, start + i);
    s->bytes_held += (uint32_t)new_bytes;
    return DTLS_REASM_BUFFERED;
}

bool dtls_reassembler_peek(const dtls_reassembler *r, const uint8_t **msg, size_t *len)
{
    size_t at = slot_index(r, r->next_seq);
    if (at == DTLS_REASSEMBLY_SLOTS || r->slots[at].bytes_held != r->slots[at].length)
        return false;
    *msg = r->slots[at].message;
    *len = DTLS_HS_HEADER_LEN + (size_t)r->slots[at].length;
    return true;
}

void dtls_reassembler_advance(dtls_reassembler *r)
{
    size_t at = slot_index(r, r->next_seq);
    if (at < DTLS_REASSEMBLY_SLOTS)
        slot_release(r, &r->slots[at]);
    r->next_seq++; /* wraps at 0xFFFF; see the note at the top */
}

void dtls_reassembler_reset(dtls_reassembler *r, uint16_t next_seq)
{
    dtls_reassembler_free(r);
    r->next_seq = next_seq;
}
