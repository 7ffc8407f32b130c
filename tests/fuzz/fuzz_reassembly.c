/*
 * libFuzzer target for dtls/reassembly.h.
 *
 * One reassembler (max_message_len 4096, max_buffered 16384) on a counting
 * allocator takes a sequence of operations from the input:
 *
 *   uint8 fail_at;        0: allocations never fail; k: the k-th one fails
 *   repeated until the input ends:
 *     uint8 op;
 *     op 0x00..0xEF: a fragment. op & 1 clear: offset and fragment_length
 *                    are clamped into the message and to the input left,
 *                    so the fragment is valid; set: they are taken as
 *                    they are.
 *         uint8  msg_type;
 *         uint16 length;            big-endian, like all fields here
 *         uint16 message_seq;
 *         uint16 fragment_offset;
 *         uint16 fragment_length;
 *         opaque body[...];         fragment_length bytes, or what is left
 *     op 0xF0..0xF7: dtls_reassembler_advance (complete or not)
 *     op 0xF8..0xFF: uint16 seq: dtls_reassembler_reset(seq)
 *
 * Each fragment is laid out in the 12-byte wire format and read with
 * dtls_hs_fragment_read, which must succeed or fail (_LENGTH, _TRUNCATED)
 * exactly as the fields say, and whose result must write back byte for
 * byte with dtls_hs_fragment_write. An invalid range is also handed to
 * dtls_reassembler_add as a hand-built fragment: _ARG, nothing changes.
 *
 * A shadow model keeps, per message in the window, the first bytes
 * accepted at each offset. It predicts every result of dtls_reassembler_add
 * (PAST, TOO_FAR, CONFLICT, DUPLICATE, BUFFERED, LIMIT, and NOMEM when the
 * injected allocation failure hit), and after every operation the
 * reassembler must agree with it: the slots hold exactly the shadow's
 * messages, bytes, bitmaps and counts, every slot lies in [next_seq,
 * next_seq + SLOTS), `buffered` is the sum of the slots' costs and never
 * exceeds max_buffered, and the allocator holds two blocks per slot. After
 * each add, while peek gives a complete message, its header says offset 0,
 * fragment_length == length and message_seq == next_seq, its body is the
 * shadow's, and it is advanced past. After dtls_reassembler_free no
 * allocation is live.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dtls/reassembly.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MESSAGE  4096
#define MAX_BUFFERED 16384

/* ---- the counting allocator ---- */

typedef struct counting_heap {
    size_t live;    /* blocks allocated and not yet freed */
    size_t calls;   /* allocations attempted so far */
    size_t fail_at; /* this attempt (1-based) fails; 0: none */
    bool failed;    /* the failure has happened */
} counting_heap;

static bool heap_should_fail(counting_heap *h)
{
    h->calls++;
    if (h->fail_at && h->calls == h->fail_at) {
        h->failed = true;
        return true;
    }
    return false;
}

static void *heap_alloc(void *ref, size_t size)
{
    counting_heap *h = ref;
    FUZZ_CHECK(size > 0);
    if (heap_should_fail(h))
        return NULL;
    void *p = malloc(size);
    FUZZ_CHECK(p != NULL);
    h->live++;
    return p;
}

static void *heap_realloc(void *ref, void *ptr, size_t size)
{
    counting_heap *h = ref;
    FUZZ_CHECK(size > 0);
    if (heap_should_fail(h))
        return NULL;
    void *p = realloc(ptr, size);
    FUZZ_CHECK(p != NULL);
    if (!ptr)
        h->live++;
    return p;
}

static void heap_free(void *ref, void *ptr)
{
    counting_heap *h = ref;
    if (!ptr)
        return;
    FUZZ_CHECK(h->live > 0);
    h->live--;
    free(ptr);
}

/* ---- the shadow model ---- */

typedef struct shadow_message {
    bool in_use;
    uint16_t seq;
    uint8_t msg_type;
    uint32_t length;
    uint32_t held;  /* distinct bytes known */
    uint8_t *bytes; /* length bytes (at least 1 allocated) */
    bool *known;    /* length flags */
} shadow_message;

typedef struct shadow {
    uint16_t next_seq;
    shadow_message msgs[DTLS_REASSEMBLY_SLOTS];
} shadow;

static shadow_message *shadow_find(shadow *s, uint16_t seq)
{
    for (size_t i = 0; i < DTLS_REASSEMBLY_SLOTS; i++) {
        if (s->msgs[i].in_use && s->msgs[i].seq == seq)
            return &s->msgs[i];
    }
    return NULL;
}

static void shadow_drop(shadow_message *m)
{
    if (!m)
        return;
    free(m->bytes);
    free(m->known);
    memset(m, 0, sizeof(*m));
}

static void shadow_reset(shadow *s, uint16_t next_seq)
{
    for (size_t i = 0; i < DTLS_REASSEMBLY_SLOTS; i++)
        shadow_drop(&s->msgs[i]);
    s->next_seq = next_seq;
}

static shadow_message *shadow_create(shadow *s, const dtls_hs_fragment *f)
{
    for (size_t i = 0; i < DTLS_REASSEMBLY_SLOTS; i++) {
        shadow_message *m = &s->msgs[i];
        if (m->in_use)
            continue;
        m->in_use = true;
        m->seq = f->message_seq;
        m->msg_type = f->msg_type;
        m->length = f->length;
        m->held = 0;
        m->bytes = calloc(f->length ? f->length : 1, 1);
        m->known = calloc(f->length ? f->length : 1, sizeof(bool));
        FUZZ_CHECK(m->bytes && m->known);
        return m;
    }
    abort(); /* the window has as many seqs as slots */
}

static size_t slot_cost(uint32_t length)
{
    return DTLS_HS_HEADER_LEN + (size_t)length + ((size_t)length + 7) / 8;
}

static bool fragment_valid(const dtls_hs_fragment *f)
{
    return f->length <= 0xFFFFFF && f->fragment_offset <= f->length &&
           f->fragment_length <= f->length - f->fragment_offset &&
           (f->body || f->fragment_length == 0);
}

/* What dtls_reassembler_add must return for f, given the shadow and the
 * bytes buffered; NOMEM is decided by the caller. */
static int predict_add(const shadow *s, size_t buffered, const dtls_hs_fragment *f)
{
    if (!fragment_valid(f))
        return PETREL_ERR_ARG;
    if (f->message_seq < s->next_seq)
        return DTLS_REASM_PAST;
    if (f->message_seq - s->next_seq >= DTLS_REASSEMBLY_SLOTS)
        return DTLS_REASM_TOO_FAR;
    const shadow_message *m = shadow_find((shadow *)s, f->message_seq);
    if (m && (m->msg_type != f->msg_type || m->length != f->length))
        return DTLS_REASM_CONFLICT;
    if (f->fragment_length == 0 && f->length > 0)
        return DTLS_REASM_DUPLICATE;
    if (!m) {
        if (f->length > MAX_MESSAGE || slot_cost(f->length) > MAX_BUFFERED - buffered)
            return PETREL_ERR_LIMIT;
        return DTLS_REASM_BUFFERED;
    }
    size_t new_bytes = 0;
    for (size_t i = 0; i < f->fragment_length; i++) {
        size_t at = f->fragment_offset + i;
        if (!m->known[at])
            new_bytes++;
        else if (m->bytes[at] != f->body[i])
            return DTLS_REASM_CONFLICT;
    }
    return new_bytes ? DTLS_REASM_BUFFERED : DTLS_REASM_DUPLICATE;
}

static void shadow_store(shadow *s, const dtls_hs_fragment *f)
{
    shadow_message *m = shadow_find(s, f->message_seq);
    if (!m)
        m = shadow_create(s, f);
    for (size_t i = 0; i < f->fragment_length; i++) {
        size_t at = f->fragment_offset + i;
        if (!m->known[at]) {
            m->known[at] = true;
            m->bytes[at] = f->body[i];
            m->held++;
        }
    }
}

/* ---- checks ---- */

static uint32_t get_u24(const uint8_t *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static void check_header(const uint8_t *h, uint8_t msg_type, uint32_t length, uint16_t seq)
{
    FUZZ_CHECK(h[0] == msg_type && get_u24(h + 1) == length);
    FUZZ_CHECK((uint16_t)(h[4] << 8 | h[5]) == seq);
    FUZZ_CHECK(get_u24(h + 6) == 0 && get_u24(h + 9) == length);
}

/* The bytes and bitmap of one slot agree with the shadow. */
static void check_slot_bytes(const dtls_reassembly_slot *slot, const shadow_message *m)
{
    check_header(slot->message, slot->msg_type, slot->length, slot->message_seq);
    for (size_t k = 0; k < slot->length; k++) {
        bool bit = (slot->received[k / 8] >> (k % 8)) & 1u;
        FUZZ_CHECK(bit == m->known[k]);
        if (bit)
            FUZZ_CHECK(slot->message[DTLS_HS_HEADER_LEN + k] == m->bytes[k]);
    }
}

#define CHECK_ALL_BYTES (-1)
#define CHECK_NO_BYTES  (-2)

/* The reassembler agrees with the shadow and with the allocator. Walking
 * every byte after every operation would make the target slow, so the
 * bytes are compared for the message `bytes_of` only (a message_seq), for
 * all of them (CHECK_ALL_BYTES) or for none (CHECK_NO_BYTES). */
static void check_state(const dtls_reassembler *r, shadow *s, const counting_heap *heap,
                        long bytes_of)
{
    FUZZ_CHECK(r->next_seq == s->next_seq);
    FUZZ_CHECK(r->max_message_len == MAX_MESSAGE && r->max_buffered == MAX_BUFFERED);
    FUZZ_CHECK(r->buffered <= r->max_buffered);
    size_t slots = 0, cost = 0;
    for (size_t i = 0; i < DTLS_REASSEMBLY_SLOTS; i++) {
        const dtls_reassembly_slot *slot = &r->slots[i];
        if (!slot->in_use)
            continue;
        slots++;
        cost += slot_cost(slot->length);
        FUZZ_CHECK(slot->message_seq >= r->next_seq &&
                   slot->message_seq - r->next_seq < DTLS_REASSEMBLY_SLOTS);
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(!r->slots[j].in_use || r->slots[j].message_seq != slot->message_seq);
        const shadow_message *m = shadow_find(s, slot->message_seq);
        FUZZ_CHECK(m != NULL);
        FUZZ_CHECK(slot->msg_type == m->msg_type && slot->length == m->length);
        FUZZ_CHECK(slot->bytes_held == m->held && slot->bytes_held <= slot->length);
        FUZZ_CHECK(slot->message != NULL && slot->received != NULL);
        if (bytes_of == CHECK_ALL_BYTES || bytes_of == slot->message_seq)
            check_slot_bytes(slot, m);
    }
    size_t shadows = 0;
    for (size_t i = 0; i < DTLS_REASSEMBLY_SLOTS; i++)
        shadows += s->msgs[i].in_use;
    FUZZ_CHECK(slots == shadows);
    FUZZ_CHECK(r->buffered == cost);
    FUZZ_CHECK(heap->live == 2 * slots);
}

/* Hands out every complete message in order. */
static void drain(dtls_reassembler *r, shadow *s, const counting_heap *heap)
{
    for (;;) {
        const uint8_t *msg = NULL;
        size_t len = 0;
        bool ready = dtls_reassembler_peek(r, &msg, &len);
        shadow_message *m = shadow_find(s, s->next_seq);
        FUZZ_CHECK(ready == (m != NULL && m->held == m->length));
        if (!ready)
            return;
        FUZZ_CHECK(msg != NULL && len == DTLS_HS_HEADER_LEN + (size_t)m->length);
        check_header(msg, m->msg_type, m->length, s->next_seq);
        FUZZ_CHECK(m->length == 0 || memcmp(msg + DTLS_HS_HEADER_LEN, m->bytes, m->length) == 0);
        dtls_reassembler_advance(r);
        shadow_drop(m);
        s->next_seq++;
        check_state(r, s, heap, CHECK_NO_BYTES);
    }
}

/* ---- one fragment ---- */

typedef struct input {
    const uint8_t *data;
    size_t len;
    size_t pos;
} input;

static bool take(input *in, size_t n, const uint8_t **out)
{
    if (in->len - in->pos < n)
        return false;
    *out = in->data + in->pos;
    in->pos += n;
    return true;
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Returns false at the end of the input. */
static bool do_fragment(dtls_reassembler *r, shadow *s, counting_heap *heap, input *in, bool raw)
{
    const uint8_t *h;
    if (!take(in, 9, &h))
        return false;
    uint8_t msg_type = h[0];
    uint32_t length = get_u16(h + 1);
    uint16_t seq = get_u16(h + 3);
    uint32_t offset = get_u16(h + 5);
    uint32_t frag_len = get_u16(h + 7);
    size_t left = in->len - in->pos;
    if (!raw) {
        offset = length ? offset % (length + 1) : 0;
        if (frag_len > length - offset)
            frag_len = length - offset;
        if (frag_len > left)
            frag_len = (uint32_t)left;
    }
    size_t avail = frag_len < left ? frag_len : left;

    /* The wire form, in a buffer of exactly its size. */
    size_t wire_len = DTLS_HS_HEADER_LEN + avail;
    uint8_t *wire = malloc(wire_len);
    FUZZ_CHECK(wire != NULL);
    cursor_writer hw = cursor_writer_init(wire, DTLS_HS_HEADER_LEN);
    FUZZ_CHECK(cursor_write_u8(&hw, msg_type) == 0 && cursor_write_u24(&hw, length) == 0 &&
               cursor_write_u16(&hw, seq) == 0 && cursor_write_u24(&hw, offset) == 0 &&
               cursor_write_u24(&hw, frag_len) == 0);
    if (avail)
        memcpy(wire + DTLS_HS_HEADER_LEN, in->data + in->pos, avail);
    in->pos += avail;

    cursor_reader fr = cursor_reader_init(wire, wire_len);
    dtls_hs_fragment f;
    memset(&f, 0, sizeof(f));
    int rc = dtls_hs_fragment_read(&fr, &f);
    if (offset + frag_len > length) {
        FUZZ_CHECK(rc == PETREL_ERR_LENGTH && fr.pos == 0);
        /* The same range built by hand is refused and changes nothing. */
        dtls_hs_fragment bad = {msg_type, length, seq, offset, frag_len, wire + DTLS_HS_HEADER_LEN};
        size_t live = heap->live;
        FUZZ_CHECK(dtls_reassembler_add(r, &bad) == PETREL_ERR_ARG);
        FUZZ_CHECK(heap->live == live);
        check_state(r, s, heap, CHECK_NO_BYTES);
        free(wire);
        return true;
    }
    if (frag_len > avail) {
        FUZZ_CHECK(rc == PETREL_ERR_TRUNCATED && fr.pos == 0);
        free(wire);
        return false; /* the input ran out */
    }
    FUZZ_CHECK(rc == 0 && cursor_reader_remaining(&fr) == 0);
    FUZZ_CHECK(f.msg_type == msg_type && f.length == length && f.message_seq == seq &&
               f.fragment_offset == offset && f.fragment_length == frag_len);
    FUZZ_CHECK(frag_len == 0 || f.body == wire + DTLS_HS_HEADER_LEN);

    /* It writes back byte for byte; one byte short, not at all. */
    uint8_t *back = malloc(wire_len);
    FUZZ_CHECK(back != NULL);
    cursor_writer bw = cursor_writer_init(back, wire_len - 1);
    FUZZ_CHECK(dtls_hs_fragment_write(&bw, &f) == PETREL_ERR_BUFFER_TOO_SMALL && bw.len == 0);
    bw = cursor_writer_init(back, wire_len);
    FUZZ_CHECK(dtls_hs_fragment_write(&bw, &f) == 0 && bw.len == wire_len);
    FUZZ_CHECK(memcmp(back, wire, wire_len) == 0);
    free(back);

    int expected = predict_add(s, r->buffered, &f);
    size_t live = heap->live, buffered = r->buffered;
    bool failed_before = heap->failed;
    rc = dtls_reassembler_add(r, &f);
    if (rc == PETREL_ERR_NOMEM) {
        /* Only a new slot allocates, and only the injected failure fails. */
        FUZZ_CHECK(expected == DTLS_REASM_BUFFERED && shadow_find(s, seq) == NULL);
        FUZZ_CHECK(heap->failed && !failed_before);
        FUZZ_CHECK(heap->live == live && r->buffered == buffered);
    } else {
        FUZZ_CHECK(rc == expected);
        if (rc == DTLS_REASM_BUFFERED)
            shadow_store(s, &f);
        else
            FUZZ_CHECK(heap->live == live && r->buffered == buffered);
    }
    check_state(r, s, heap, seq);
    drain(r, s, heap);
    free(wire);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    counting_heap heap = {.fail_at = data[0]};
    petrel_platform platform = petrel_platform_default();
    platform.alloc = heap_alloc;
    platform.realloc = heap_realloc;
    platform.free = heap_free;
    platform.alloc_ref = &heap;
    platform.log_level = PETREL_LOG_NONE;

    dtls_reassembler r;
    dtls_reassembler_init(&r, &platform, MAX_MESSAGE, MAX_BUFFERED);
    shadow s;
    memset(&s, 0, sizeof(s));
    check_state(&r, &s, &heap, CHECK_ALL_BYTES);

    input in = {data, size, 1};
    for (;;) {
        const uint8_t *op;
        if (!take(&in, 1, &op))
            break;
        if (*op >= 0xF8) {
            const uint8_t *seq;
            if (!take(&in, 2, &seq))
                break;
            dtls_reassembler_reset(&r, get_u16(seq));
            shadow_reset(&s, get_u16(seq));
            FUZZ_CHECK(heap.live == 0 && r.buffered == 0);
            check_state(&r, &s, &heap, CHECK_NO_BYTES);
            drain(&r, &s, &heap); /* nothing: every slot is empty */
        } else if (*op >= 0xF0) {
            dtls_reassembler_advance(&r);
            shadow_drop(shadow_find(&s, s.next_seq));
            s.next_seq++;
            check_state(&r, &s, &heap, CHECK_NO_BYTES);
            drain(&r, &s, &heap);
        } else if (!do_fragment(&r, &s, &heap, &in, *op & 1)) {
            break;
        }
    }

    check_state(&r, &s, &heap, CHECK_ALL_BYTES);
    dtls_reassembler_free(&r);
    FUZZ_CHECK(heap.live == 0 && r.buffered == 0);
    for (size_t i = 0; i < DTLS_REASSEMBLY_SLOTS; i++)
        FUZZ_CHECK(!r.slots[i].in_use);
    shadow_reset(&s, 0);
    return 0;
}
