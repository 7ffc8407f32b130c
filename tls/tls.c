/* The stream record layer. See tls.h. */
#include "tls/tls.h"

#include <string.h>

#include <petrel/petrel.h>

#define TLS_HS_HEADER_LEN 4
/* No renegotiation (RFC 5746 §4.4 / §4.5 allow refusing it this way). */
#define TLS_ALERT_NO_RENEGOTIATION HS_ALERT_NO_RENEGOTIATION

/* ======================================================================
 * The output queue
 * ====================================================================== */

size_t tls_out_pending(const tls_layer *l)
{
    return l->out_len - l->out_head;
}

/* Room for need more bytes at out + out_len. Bytes already sent are
 * dropped from the front first, so the queue never grows past what is
 * really pending (plus one record). */
static int out_reserve(tls_layer *l, size_t need)
{
    if (tls_out_pending(l) + need >
        PETREL_STREAM_OUT_MAX + TLS_RECORD_HEADER_LEN + TLS_MAX_CIPHERTEXT)
        return PETREL_ERR_LIMIT;
    if (l->out_head && l->out_len + need > l->out_cap) {
        memmove(l->out, l->out + l->out_head, tls_out_pending(l));
        l->out_len -= l->out_head;
        l->out_head = 0;
    }
    return platform_buffer_reserve(l->platform, &l->out, &l->out_cap, l->out_len + need,
                                   2 * (TLS_RECORD_HEADER_LEN + TLS_MAX_CIPHERTEXT));
}

size_t tls_out_peek(const tls_layer *l, const uint8_t **buf)
{
    *buf = tls_out_pending(l) ? l->out + l->out_head : NULL;
    return tls_out_pending(l);
}

void tls_out_consume(tls_layer *l, size_t n)
{
    if (n > tls_out_pending(l))
        n = tls_out_pending(l);
    l->out_head += n;
    if (l->out_head == l->out_len)
        l->out_head = l->out_len = 0;
}

/* Seals the record whose plaintext (len bytes) is already in place after
 * the header and explicit nonce at out + out_len, and queues it. */
static int seal_in_place(tls_layer *l, uint8_t type, size_t len)
{
    if (l->write_seq == UINT64_MAX)
        return PETREL_ERR_LIMIT; /* RFC 5246 §6.1: never wrap */
    uint8_t *rec = l->out + l->out_len;
    size_t frag_len = len + hs_protect_expansion(&l->write_cipher);
    cursor_writer w = cursor_writer_init(rec, TLS_RECORD_HEADER_LEN);
    PETREL_TRY(cursor_write_u8(&w, type));
    PETREL_TRY(cursor_write_u16(&w, HS_VERSION_TLS12));
    PETREL_TRY(cursor_write_u16(&w, (uint16_t)frag_len));
    PETREL_TRY(hs_protect_seal(&l->write_cipher, l->write_seq, type, HS_VERSION_TLS12,
                               rec + TLS_RECORD_HEADER_LEN, len));
    l->write_seq++;
    l->out_len += TLS_RECORD_HEADER_LEN + frag_len;
    l->stats.records_sent++;
    return 0;
}

/* Queues one record of at most TLS_MAX_PLAINTEXT bytes. */
static int write_record(tls_layer *l, uint8_t type, const uint8_t *data, size_t len)
{
    if (len > TLS_MAX_PLAINTEXT)
        return PETREL_ERR_INTERNAL;
    PETREL_TRY(
        out_reserve(l, TLS_RECORD_HEADER_LEN + len + hs_protect_expansion(&l->write_cipher)));
    if (len)
        memcpy(l->out + l->out_len + TLS_RECORD_HEADER_LEN +
                   hs_protect_explicit_len(&l->write_cipher),
               data, len);
    return seal_in_place(l, type, len);
}

static int write_fragmented(tls_layer *l, uint8_t type, const uint8_t *data, size_t len)
{
    size_t expansion = hs_protect_expansion(&l->write_cipher);
    size_t records = (len + TLS_MAX_PLAINTEXT - 1) / TLS_MAX_PLAINTEXT;
    /* All or nothing: a write the queue cannot take leaves no part of it
     * behind. */
    if (tls_out_pending(l) + len + records * (TLS_RECORD_HEADER_LEN + expansion) >
        PETREL_STREAM_OUT_MAX)
        return PETREL_ERR_LIMIT;
    for (size_t off = 0; off < len; off += TLS_MAX_PLAINTEXT) {
        size_t n = len - off < TLS_MAX_PLAINTEXT ? len - off : TLS_MAX_PLAINTEXT;
        PETREL_TRY(write_record(l, type, data + off, n));
    }
    return 0;
}

int tls_write_app_data(tls_layer *l, const uint8_t *data, size_t len)
{
    if (len == 0)
        return 0; /* an empty record would carry nothing */
    return write_fragmented(l, TLS_CT_APPLICATION_DATA, data, len);
}

int tls_write_alert(tls_layer *l, uint8_t level, uint8_t description)
{
    const uint8_t alert[2] = {level, description};
    return write_record(l, TLS_CT_ALERT, alert, sizeof(alert));
}

int tls_writebuf(tls_layer *l, uint8_t **buf, size_t *cap)
{
    PETREL_TRY(out_reserve(l, TLS_RECORD_HEADER_LEN + TLS_MAX_PLAINTEXT +
                                  hs_protect_expansion(&l->write_cipher)));
    *buf = l->out + l->out_len + TLS_RECORD_HEADER_LEN + hs_protect_explicit_len(&l->write_cipher);
    *cap = TLS_MAX_PLAINTEXT;
    return 0;
}

int tls_writebuf_commit(tls_layer *l, size_t len)
{
    size_t need = TLS_RECORD_HEADER_LEN + len + hs_protect_expansion(&l->write_cipher);
    if (len == 0 || len > TLS_MAX_PLAINTEXT || l->out_len + need > l->out_cap)
        return PETREL_ERR_ARG;
    return seal_in_place(l, TLS_CT_APPLICATION_DATA, len);
}

/* ======================================================================
 * hs_record_ops
 * ====================================================================== */

/* Cuts the framed handshake messages waiting in hs_out into records. */
static int flush_handshake(tls_layer *l)
{
    int rc = write_fragmented(l, TLS_CT_HANDSHAKE, l->hs_out, l->hs_out_len);
    l->hs_out_len = 0;
    return rc;
}

static int ops_send_message(void *rl, uint8_t type, const uint8_t *body, size_t len,
                            const uint8_t **framed, size_t *framed_len)
{
    tls_layer *l = rl;
    if (len > l->max_message_len)
        return PETREL_ERR_LIMIT;
    PETREL_TRY(platform_buffer_reserve(l->platform, &l->hs_out, &l->hs_out_cap,
                                       l->hs_out_len + TLS_HS_HEADER_LEN + len, 1024));
    uint8_t *at = l->hs_out + l->hs_out_len;
    cursor_writer w = cursor_writer_init(at, TLS_HS_HEADER_LEN + len);
    PETREL_TRY(cursor_write_u8(&w, type));
    PETREL_TRY(cursor_write_u24(&w, (uint32_t)len));
    PETREL_TRY(cursor_write_bytes(&w, body, len));
    l->hs_out_len += w.len;
    *framed = at;
    *framed_len = w.len;
    return 0;
}

static int ops_send_ccs(void *rl)
{
    tls_layer *l = rl;
    static const uint8_t ccs = 1;
    PETREL_TRY(flush_handshake(l));
    return write_record(l, TLS_CT_CHANGE_CIPHER_SPEC, &ccs, 1);
}

/* Each ChangeCipherSpec replaces the keys in force (a renegotiation's
 * too) and restarts the sequence numbers (RFC 5246 §6.1). */
static int ops_set_write_cipher(void *rl, const hs_suite *suite, const hs_traffic_keys *keys)
{
    tls_layer *l = rl;
    PETREL_TRY(hs_record_cipher_init(&l->write_cipher, l->prov, suite, keys));
    l->write_seq = 0;
    return 0;
}

static int ops_set_read_cipher(void *rl, const hs_suite *suite, const hs_traffic_keys *keys)
{
    tls_layer *l = rl;
    PETREL_TRY(hs_record_cipher_init(&l->read_cipher, l->prov, suite, keys));
    l->read_seq = 0;
    return 0;
}

static int ops_flight_done(void *rl, hs_flight_kind kind)
{
    (void)kind; /* a stream never loses a flight: nothing to resend */
    return flush_handshake(rl);
}

static void ops_handshake_complete(void *rl)
{
    tls_layer *l = rl;
    l->complete_pending = true;
}

static void ops_new_handshake(void *rl, bool local)
{
    (void)local; /* a stream has no message numbers or flights to forget */
    tls_layer *l = rl;
    l->complete_pending = false;
}

static void ops_handshake_abandoned(void *rl)
{
    (void)rl;
}

const hs_record_ops tls_record_ops = {
    .send_message = ops_send_message,
    .send_change_cipher_spec = ops_send_ccs,
    .set_write_cipher = ops_set_write_cipher,
    .set_read_cipher = ops_set_read_cipher,
    .flight_done = ops_flight_done,
    .handshake_complete = ops_handshake_complete,
    .new_handshake = ops_new_handshake,
    .handshake_abandoned = ops_handshake_abandoned,
};

/* ======================================================================
 * Setup
 * ====================================================================== */

int tls_layer_init(tls_layer *l, const petrel_platform *platform, const crypto_provider *prov,
                   size_t max_message_len, hs_ctx *hs, bool is_server)
{
    memset(l, 0, sizeof(*l));
    l->platform = platform;
    l->prov = prov;
    l->hs = hs;
    l->is_server = is_server;
    l->max_message_len = max_message_len;
    return 0;
}

void tls_layer_free(tls_layer *l)
{
    hs_record_cipher_clear(&l->write_cipher);
    hs_record_cipher_clear(&l->read_cipher);
    platform_free(l->platform, l->hs_out);
    platform_free(l->platform, l->hs_in);
    platform_free(l->platform, l->out);
    memset(l, 0, sizeof(*l));
}

size_t tls_layer_memory(const tls_layer *l)
{
    return sizeof(*l) + l->hs_out_cap + l->hs_in_cap + l->out_cap;
}

/* ======================================================================
 * Reading
 * ====================================================================== */

/* Between handshakes: a HelloRequest (client) or ClientHello (server) asks
 * for renegotiation. The core decides (handshake/renegotiation.c); a
 * refusal is a no_renegotiation warning (RFC 5246 §7.4.1.1, RFC 5746
 * §4.4 / §4.5). Returns 1 when the message is to go to the core. */
static int on_post_handshake_message(tls_layer *l, uint8_t type, size_t len)
{
    int rc = hs_post_handshake_message(l->hs, type, len);
    if (rc == HS_POST_REFUSE)
        return tls_write_alert(l, 1, TLS_ALERT_NO_RENEGOTIATION);
    if (rc == HS_POST_DELIVER)
        return 1;
    return rc == HS_POST_HANDLED ? 0 : rc;
}

/* Hands every complete message in hs_in to the core, in order. */
static int deliver_messages(tls_layer *l)
{
    size_t pos = 0;
    int rc = 0;
    while (rc == 0 && l->hs_in_len - pos >= TLS_HS_HEADER_LEN) {
        cursor_reader r = cursor_reader_init(l->hs_in + pos, l->hs_in_len - pos);
        uint8_t type;
        uint32_t len;
        if (cursor_read_u8(&r, &type) < 0 || cursor_read_u24(&r, &len) < 0)
            return PETREL_ERR_INTERNAL;
        if (len > l->max_message_len) {
            platform_log(l->platform, PETREL_LOG_INFO,
                         "handshake message %u of %u bytes: above the limit of %zu", type,
                         (unsigned)len, l->max_message_len);
            return PETREL_ERR_LENGTH;
        }
        if (cursor_reader_remaining(&r) < len)
            break; /* the rest comes in the next record */
        const uint8_t *framed = l->hs_in + pos;
        size_t framed_len = TLS_HS_HEADER_LEN + len;
        rc = 1;
        if (hs_is_complete(l->hs))
            rc = on_post_handshake_message(l, type, len);
        else if (type == HS_HELLO_REQUEST && !l->is_server && len == 0)
            rc = 0; /* RFC 5246 §7.4.1.1: ignored while negotiating, not hashed */
        if (rc == 1)
            rc =
                hs_handle_message(l->hs, type, framed, framed_len, framed + TLS_HS_HEADER_LEN, len);
        pos += framed_len;
    }
    memmove(l->hs_in, l->hs_in + pos, l->hs_in_len - pos);
    l->hs_in_len -= pos;
    return rc;
}

static int process_handshake(tls_layer *l, const uint8_t *plain, size_t len)
{
    /* RFC 5246 §6.2.1: no zero-length handshake fragments. */
    if (len == 0)
        return PETREL_ERR_UNEXPECTED_MESSAGE;
    /* At most one message's worth may wait: a peer cannot make us hold
     * more than the largest message it may send. */
    if (l->hs_in_len + len > TLS_HS_HEADER_LEN + l->max_message_len + TLS_MAX_PLAINTEXT)
        return PETREL_ERR_LENGTH;
    PETREL_TRY(
        platform_buffer_reserve(l->platform, &l->hs_in, &l->hs_in_cap, l->hs_in_len + len, 2048));
    memcpy(l->hs_in + l->hs_in_len, plain, len);
    l->hs_in_len += len;
    return deliver_messages(l);
}

/* An SSL 2.0-format ClientHello (RFC 6101 Appendix E.2: a 2-byte length
 * with the top bit set, then msg_type 1): refused by name rather than
 * read as a garbled record. */
static bool looks_like_sslv2_hello(const uint8_t *buf, size_t len)
{
    return len >= 3 && (buf[0] & 0x80) && buf[2] == 1;
}

static int process_record(tls_layer *l, uint8_t type, uint16_t version, uint8_t *fragment,
                          size_t frag_len, tls_event *ev, const uint8_t **data, size_t *data_len)
{
    uint8_t *plain;
    size_t len;
    if (hs_protect_open(&l->read_cipher, l->read_seq, type, version, fragment, frag_len, &plain,
                        &len) < 0) {
        platform_log(l->platform, PETREL_LOG_INFO, "record %llu failed authentication",
                     (unsigned long long)l->read_seq);
        return PETREL_ERR_AEAD_AUTH; /* bad_record_mac */
    }
    l->read_seq++;
    if (len > TLS_MAX_PLAINTEXT)
        return PETREL_ERR_RECORD_OVERFLOW;
    l->stats.records_received++;
    /* RFC 5246 §6.2.1: a handshake message split over records has no
     * other record between its parts (an alert may still end it all). */
    if (l->hs_in_len && type != TLS_CT_HANDSHAKE && type != TLS_CT_ALERT)
        return PETREL_ERR_UNEXPECTED_MESSAGE;
    if (type != TLS_CT_APPLICATION_DATA)
        l->empty_records = 0;

    switch (type) {
    case TLS_CT_HANDSHAKE:
        PETREL_TRY(process_handshake(l, plain, len));
        if (l->complete_pending) {
            l->complete_pending = false;
            *ev = TLS_EVENT_HANDSHAKE_COMPLETE;
        }
        return 0;
    case TLS_CT_CHANGE_CIPHER_SPEC:
        if (len != 1 || plain[0] != 1)
            return PETREL_ERR_ILLEGAL_PARAMETER;
        if (!hs_expects_change_cipher_spec(l->hs))
            return PETREL_ERR_UNEXPECTED_MESSAGE;
        return hs_handle_change_cipher_spec(l->hs);
    case TLS_CT_ALERT:
        if (len != 2)
            return PETREL_ERR_TRUNCATED; /* decode_error */
        if (plain[0] != 1 && plain[0] != 2)
            return PETREL_ERR_ILLEGAL_PARAMETER;
        memcpy(l->last_alert, plain, 2);
        l->have_alert = true;
        *ev = TLS_EVENT_ALERT;
        if (plain[0] == 2)
            return PETREL_ERR_PEER_ALERT;
        if (plain[1] == 0)
            l->close_received = true;
        if (plain[1] == TLS_ALERT_NO_RENEGOTIATION)
            (void)hs_renegotiation_abandon(l->hs, "the peer answered no_renegotiation");
        return 0;
    case TLS_CT_APPLICATION_DATA:
        /* Also while a renegotiation runs (RFC 5246 §7.4.1.1). */
        if (!l->hs->established)
            return PETREL_ERR_UNEXPECTED_MESSAGE;
        if (len == 0) {
            if (++l->empty_records > TLS_MAX_EMPTY_RECORDS)
                return PETREL_ERR_UNEXPECTED_MESSAGE;
            return 0;
        }
        l->empty_records = 0;
        *ev = TLS_EVENT_APP_DATA;
        *data = plain;
        *data_len = len;
        return 0;
    default:
        return PETREL_ERR_UNEXPECTED_MESSAGE;
    }
}

int tls_read_next(tls_layer *l, uint8_t *buf, size_t len, size_t *used, tls_event *ev,
                  const uint8_t **data, size_t *data_len)
{
    *ev = TLS_EVENT_NONE;
    *used = 0;
    while (*used < len) {
        uint8_t *rec = buf + *used;
        size_t avail = len - *used;
        /* RFC 5246 §7.2.1: nothing after close_notify counts. */
        if (l->close_received) {
            *used = len;
            return 0;
        }
        if (!l->first_record_seen && l->is_server && looks_like_sslv2_hello(rec, avail)) {
            platform_log(l->platform, PETREL_LOG_ERROR,
                         "refused an SSL 2.0-format ClientHello: SSL 2.0 is insecure");
            return PETREL_ERR_INSECURE;
        }
        if (avail < TLS_RECORD_HEADER_LEN)
            return 0;
        cursor_reader r = cursor_reader_init(rec, TLS_RECORD_HEADER_LEN);
        uint8_t type;
        uint16_t version, frag_len;
        PETREL_TRY(cursor_read_u8(&r, &type));
        PETREL_TRY(cursor_read_u16(&r, &version));
        PETREL_TRY(cursor_read_u16(&r, &frag_len));
        /* Checked on the header alone, before waiting for the body: a
         * garbage header must not make us wait for 64 KiB that never
         * come. */
        if (type < TLS_CT_CHANGE_CIPHER_SPEC || type > TLS_CT_APPLICATION_DATA)
            return PETREL_ERR_UNEXPECTED_MESSAGE;
        if ((version >> 8) != 3)
            return PETREL_ERR_PROTOCOL_VERSION;
        /* Once keys are in use the version is the negotiated one. Before,
         * RFC 5246 Appendix E.1 lets a client's first records say
         * {03,00}..{03,03}. */
        if (l->read_cipher.suite && version != HS_VERSION_TLS12)
            return PETREL_ERR_PROTOCOL_VERSION;
        size_t max = l->read_cipher.suite ? TLS_MAX_CIPHERTEXT : TLS_MAX_PLAINTEXT;
        if (frag_len > max)
            return PETREL_ERR_RECORD_OVERFLOW;
        l->first_record_seen = true;
        if (avail < TLS_RECORD_HEADER_LEN + (size_t)frag_len)
            return 0;
        *used += TLS_RECORD_HEADER_LEN + frag_len;
        PETREL_TRY(process_record(l, type, version, rec + TLS_RECORD_HEADER_LEN, frag_len, ev, data,
                                  data_len));
        if (*ev != TLS_EVENT_NONE)
            return 0;
    }
    return 0;
}
