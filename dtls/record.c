/* DTLS 1.2 record framing and AEAD protection. */
#include "dtls/record.h"

#include <string.h>

int dtls_record_read(cursor_reader *r, uint8_t *base, dtls_record *out)
{
    cursor_reader probe = *r;
    dtls_record rec;
    uint16_t len;
    const uint8_t *fragment;
    PETREL_TRY(cursor_read_u8(&probe, &rec.type));
    PETREL_TRY(cursor_read_u16(&probe, &rec.version));
    PETREL_TRY(cursor_read_u16(&probe, &rec.epoch));
    PETREL_TRY(cursor_read_u48(&probe, &rec.seq));
    PETREL_TRY(cursor_read_u16(&probe, &len));
    /* RFC 6347 §4.1 / RFC 5246 §6.2.3: at most 2^14 + 2048 bytes. */
    if (len > DTLS_MAX_PLAINTEXT + 2048)
        return PETREL_ERR_LENGTH;
    PETREL_TRY(cursor_read_view(&probe, len, &fragment));
    /* The datagram is the connection's own mutable buffer: recover the
     * writable pointer to decrypt in place. */
    rec.fragment = base + (fragment - r->data);
    rec.length = len;
    *r = probe;
    *out = rec;
    return 0;
}

size_t dtls_record_overhead(const dtls_cipher *c)
{
    return DTLS_RECORD_HEADER_LEN + hs_protect_expansion(c);
}

/* RFC 6347 §4.1.2.1: the AAD's and nonce's seq_num is epoch + sequence. */
static uint64_t seq_num(uint16_t epoch, uint64_t seq)
{
    return ((uint64_t)epoch << 48) | (seq & DTLS_SEQ_MAX);
}

int dtls_record_write(const dtls_cipher *c, uint8_t type, uint16_t version, uint16_t epoch,
                      uint64_t seq, const uint8_t *plaintext, size_t len, cursor_writer *w)
{
    size_t expl = hs_protect_explicit_len(c);
    size_t fragment_len = len + hs_protect_expansion(c);
    if (len > DTLS_MAX_PLAINTEXT || seq > DTLS_SEQ_MAX)
        return PETREL_ERR_ARG;
    if (DTLS_RECORD_HEADER_LEN + fragment_len > cursor_writer_space(w))
        return PETREL_ERR_BUFFER_TOO_SMALL;

    cursor_writer out = *w;
    uint8_t *body;
    PETREL_TRY(cursor_write_u8(&out, type));
    PETREL_TRY(cursor_write_u16(&out, version));
    PETREL_TRY(cursor_write_u16(&out, epoch));
    PETREL_TRY(cursor_write_u48(&out, seq));
    PETREL_TRY(cursor_write_u16(&out, (uint16_t)fragment_len));
    PETREL_TRY(cursor_write_reserve(&out, fragment_len, &body));
    if (plaintext && len)
        memmove(body + expl, plaintext, len);
    PETREL_TRY(hs_protect_seal(c, seq_num(epoch, seq), type, version, body, len));
    *w = out;
    return 0;
}

int dtls_record_open(const dtls_cipher *c, dtls_record *rec, uint8_t **plain, size_t *plain_len)
{
    return hs_protect_open(c, seq_num(rec->epoch, rec->seq), rec->type, rec->version, rec->fragment,
                           rec->length, plain, plain_len);
}
