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

static size_t explicit_len(const dtls_cipher *c)
{
    return c && c->suite ? c->suite->explicit_nonce_len : 0;
}

size_t dtls_record_overhead(const dtls_cipher *c)
{
    return DTLS_RECORD_HEADER_LEN +
           (c && c->suite ? c->suite->explicit_nonce_len + c->suite->tag_len : 0);
}

/* The 8-byte epoch + sequence number that the nonce and the AAD use. */
static void write_seq64(uint8_t out[8], uint16_t epoch, uint64_t seq)
{
    uint64_t v = ((uint64_t)epoch << 48) | (seq & DTLS_SEQ_MAX);
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

static void make_nonce(const dtls_cipher *c, const uint8_t seq64[8], uint8_t nonce[12])
{
    if (c->suite->explicit_nonce_len) {
        /* RFC 5288 §3 / RFC 6655 §3: salt(4) + explicit nonce (the seq). */
        memcpy(nonce, c->iv, 4);
        memcpy(nonce + 4, seq64, 8);
    } else {
        /* RFC 7905 §2: the IV XOR the left-padded sequence number. */
        memcpy(nonce, c->iv, 12);
        for (int i = 0; i < 8; i++)
            nonce[4 + i] ^= seq64[i];
    }
}

static void make_aad(const uint8_t seq64[8], uint8_t type, uint16_t version, size_t len,
                     uint8_t aad[13])
{
    memcpy(aad, seq64, 8);
    aad[8] = type;
    aad[9] = (uint8_t)(version >> 8);
    aad[10] = (uint8_t)version;
    aad[11] = (uint8_t)(len >> 8);
    aad[12] = (uint8_t)len;
}

int dtls_record_write(const dtls_cipher *c, uint8_t type, uint16_t version, uint16_t epoch,
                      uint64_t seq, const uint8_t *plaintext, size_t len, cursor_writer *w)
{
    bool protect = c && c->suite;
    size_t expl = explicit_len(c), tag = protect ? c->suite->tag_len : 0;
    size_t fragment_len = expl + len + tag;
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
    if (protect) {
        uint8_t seq64[8], nonce[12], aad[13];
        write_seq64(seq64, epoch, seq);
        make_nonce(c, seq64, nonce);
        make_aad(seq64, type, version, len, aad);
        memcpy(body, seq64, expl);
        PETREL_TRY(crypto_aead_seal(c->key, nonce, aad, sizeof(aad), body + expl, len));
    }
    *w = out;
    return 0;
}

int dtls_record_open(const dtls_cipher *c, dtls_record *rec, uint8_t **plain, size_t *plain_len)
{
    if (!c || !c->suite) {
        *plain = rec->fragment;
        *plain_len = rec->length;
        return 0;
    }
    size_t expl = c->suite->explicit_nonce_len, tag = c->suite->tag_len;
    if (rec->length < expl + tag)
        return PETREL_ERR_TRUNCATED;
    size_t len = rec->length - expl - tag;
    uint8_t seq64[8], nonce[12], aad[13];
    write_seq64(seq64, rec->epoch, rec->seq);
    if (expl) {
        /* The explicit nonce is the sender's choice (RFC 5288 §3). */
        memcpy(nonce, c->iv, 4);
        memcpy(nonce + 4, rec->fragment, 8);
    } else {
        make_nonce(c, seq64, nonce);
    }
    make_aad(seq64, rec->type, rec->version, len, aad);
    PETREL_TRY(crypto_aead_open(c->key, nonce, aad, sizeof(aad), rec->fragment + expl, len + tag));
    *plain = rec->fragment + expl;
    *plain_len = len;
    return 0;
}
