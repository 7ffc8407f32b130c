/* The datagram record layer. See dtls.h. */
#include "dtls/dtls.h"

#include <string.h>

#define DTLS_MIN_FRAGMENT 64 /* below this, a fragment starts a new datagram */

static uint64_t now_ms(const dtls_layer *l)
{
    return platform_now_ms(l->platform);
}

static void drop(dtls_layer *l, size_t bytes)
{
    l->stats.records_dropped++;
    l->stats.bytes_dropped += bytes;
}

/* ======================================================================
 * The output queue
 * ====================================================================== */

/* Room for one more datagram of up to pmtu bytes at out + out_len. */
static int out_reserve(dtls_layer *l)
{
    if (l->dgram_count >= DTLS_OUT_MAX_DATAGRAMS)
        return PETREL_ERR_LIMIT;
    if (l->dgram_count == 0)
        l->out_len = l->out_head = 0;
    return platform_buffer_reserve(l->platform, &l->out, &l->out_cap, l->out_len + l->pmtu,
                                   4 * l->pmtu);
}

static cursor_writer out_begin(dtls_layer *l)
{
    return cursor_writer_init(l->out + l->out_len, l->pmtu);
}

static void out_commit(dtls_layer *l, const cursor_writer *w)
{
    if (w->len == 0)
        return;
    l->dgram_len[(l->dgram_first + l->dgram_count) % DTLS_OUT_MAX_DATAGRAMS] = w->len;
    l->dgram_count++;
    l->out_len += w->len;
}

size_t dtls_out_peek(const dtls_layer *l, const uint8_t **buf)
{
    if (l->dgram_count == 0) {
        *buf = NULL;
        return 0;
    }
    *buf = l->out + l->out_head;
    return l->dgram_len[l->dgram_first];
}

void dtls_out_pop(dtls_layer *l)
{
    if (l->dgram_count == 0)
        return;
    l->out_head += l->dgram_len[l->dgram_first];
    l->dgram_first = (l->dgram_first + 1) % DTLS_OUT_MAX_DATAGRAMS;
    l->dgram_count--;
    l->stats.datagrams_sent++;
}

/* Writes one record in the current write epoch (or `epoch`). */
static int write_record(dtls_layer *l, uint16_t epoch, uint8_t type, const uint8_t *plaintext,
                        size_t len, cursor_writer *w)
{
    size_t idx = epoch & 1;
    if (l->write_seq[idx] > DTLS_SEQ_MAX)
        return PETREL_ERR_LIMIT; /* RFC 6347 §4.1: never wrap */
    PETREL_TRY(dtls_record_write(&l->write_cipher[idx], type, HS_VERSION_DTLS12, epoch,
                                 l->write_seq[idx], plaintext, len, w));
    l->write_seq[idx]++;
    return 0;
}

/* ======================================================================
 * Flights
 * ====================================================================== */

static int flight_append(dtls_layer *l, size_t len, uint8_t **at)
{
    if (l->entry_count >= DTLS_FLIGHT_MAX_ENTRIES)
        return PETREL_ERR_LIMIT;
    PETREL_TRY(platform_buffer_reserve(l->platform, &l->flight_buf, &l->flight_cap,
                                       l->flight_len + len, 1024));
    *at = l->flight_buf + l->flight_len;
    return 0;
}

/* The first message of a new flight replaces the previous flight. */
static void flight_open(dtls_layer *l)
{
    if (l->flight_open)
        return;
    l->flight_open = true;
    l->have_flight = false;
    l->entry_count = 0;
    l->flight_len = 0;
    l->transmission_count = 0;
}

/* Cuts the flight into fragments and records and packs them into
 * datagrams of at most pmtu bytes (RFC 6347 §4.2.3). Every transmission
 * uses fresh record sequence numbers. */
static int flight_transmit(dtls_layer *l)
{
    uint8_t plain[DTLS_MAX_PMTU];
    uint64_t first_seq = l->write_seq[0];
    PETREL_TRY(out_reserve(l));
    cursor_writer w = out_begin(l);
    for (size_t i = 0; i < l->entry_count; i++) {
        const dtls_flight_entry *e = &l->entries[i];
        const dtls_cipher *c = &l->write_cipher[e->epoch & 1];
        if (l->message_per_datagram && w.len > 0) {
            out_commit(l, &w);
            PETREL_TRY(out_reserve(l));
            w = out_begin(l);
        }
        if (e->ccs) {
            static const uint8_t ccs = 1;
            if (cursor_writer_space(&w) < dtls_record_overhead(c) + 1) {
                out_commit(l, &w);
                PETREL_TRY(out_reserve(l));
                w = out_begin(l);
            }
            PETREL_TRY(write_record(l, e->epoch, DTLS_CT_CHANGE_CIPHER_SPEC, &ccs, 1, &w));
            continue;
        }
        cursor_reader msg = cursor_reader_init(l->flight_buf + e->offset, e->len);
        dtls_hs_fragment whole;
        PETREL_TRY(dtls_hs_fragment_read(&msg, &whole));
        uint32_t offset = 0;
        do {
            size_t overhead = dtls_record_overhead(c) + DTLS_HS_HEADER_LEN;
            size_t left = whole.length - offset;
            size_t space = cursor_writer_space(&w);
            size_t avail = space > overhead ? space - overhead : 0;
            if ((left > 0 && avail == 0) || (avail < left && avail < DTLS_MIN_FRAGMENT) ||
                space < overhead) {
                out_commit(l, &w);
                PETREL_TRY(out_reserve(l));
                w = out_begin(l);
                space = cursor_writer_space(&w);
                avail = space - overhead;
            }
            dtls_hs_fragment frag = whole;
            frag.fragment_offset = offset;
            frag.fragment_length = (uint32_t)(left < avail ? left : avail);
            frag.body = whole.body + offset;
            cursor_writer pw = cursor_writer_init(plain, sizeof(plain));
            PETREL_TRY(dtls_hs_fragment_write(&pw, &frag));
            PETREL_TRY(write_record(l, e->epoch, DTLS_CT_HANDSHAKE, plain, pw.len, &w));
            offset += frag.fragment_length;
        } while (offset < whole.length);
    }
    out_commit(l, &w);
    l->last_transmit_at = now_ms(l);
    if (l->transmission_count < DTLS_TIMER_LOG)
        l->transmissions[l->transmission_count++] =
            (dtls_transmission){first_seq, l->write_seq[0], now_ms(l)};
    return 0;
}

static int ops_send_message(void *rl, uint8_t type, const uint8_t *body, size_t len,
                            const uint8_t **framed, size_t *framed_len)
{
    dtls_layer *l = rl;
    uint8_t *at;
    if (len > l->cfg->max_message_len)
        return PETREL_ERR_LIMIT;
    flight_open(l);
    PETREL_TRY(flight_append(l, DTLS_HS_HEADER_LEN + len, &at));
    /* The unfragmented form: what the transcript hashes (RFC 6347 §4.2.6). */
    dtls_hs_fragment whole = {type, (uint32_t)len, l->next_send_seq, 0, (uint32_t)len, body};
    cursor_writer w = cursor_writer_init(at, DTLS_HS_HEADER_LEN + len);
    PETREL_TRY(dtls_hs_fragment_write(&w, &whole));
    l->entries[l->entry_count++] = (dtls_flight_entry){false, l->write_epoch, l->flight_len, w.len};
    l->flight_len += w.len;
    l->next_send_seq++;
    *framed = at;
    *framed_len = w.len;
    return 0;
}

static int ops_send_ccs(void *rl)
{
    dtls_layer *l = rl;
    flight_open(l);
    if (l->entry_count >= DTLS_FLIGHT_MAX_ENTRIES)
        return PETREL_ERR_LIMIT;
    l->entries[l->entry_count++] = (dtls_flight_entry){true, l->write_epoch, 0, 0};
    return 0;
}

/* Each ChangeCipherSpec starts the next epoch (1 after the first
 * handshake, 2 after a renegotiation, ...). Two cipher slots, by the
 * epoch's parity, hold the epoch in force and the one before it, which a
 * flight may still need (its ChangeCipherSpec goes out in the old epoch). */
static int ops_set_write_cipher(void *rl, const hs_suite *suite, const hs_traffic_keys *keys)
{
    dtls_layer *l = rl;
    if (l->write_epoch == UINT16_MAX)
        return PETREL_ERR_LIMIT;
    uint16_t epoch = (uint16_t)(l->write_epoch + 1);
    PETREL_TRY(hs_record_cipher_init(&l->write_cipher[epoch & 1], l->prov, suite, keys));
    l->write_epoch = epoch;
    l->write_seq[epoch & 1] = 0;
    return 0;
}

static int ops_set_read_cipher(void *rl, const hs_suite *suite, const hs_traffic_keys *keys)
{
    dtls_layer *l = rl;
    if (l->read_epoch == UINT16_MAX)
        return PETREL_ERR_LIMIT;
    uint16_t epoch = (uint16_t)(l->read_epoch + 1);
    size_t idx = epoch & 1;
    PETREL_TRY(hs_record_cipher_init(&l->read_cipher[idx], l->prov, suite, keys));
    dtls_replay_init(&l->replay[idx], l->cfg->replay_window);
    l->next_record_seq[idx] = 0;
    l->read_epoch = epoch;
    return 0;
}

static int ops_flight_done(void *rl, hs_flight_kind kind)
{
    dtls_layer *l = rl;
    l->flight_open = false;
    l->have_flight = true;
    l->flight_kind = kind;
    l->flight_answers_seq = l->delivering ? (int64_t)l->reassembler.next_seq : -1;
    PETREL_TRY(flight_transmit(l));
    if (kind == HS_FLIGHT_EXPECT_REPLY)
        dtls_timer_flight_sent(&l->timer, &l->cfg->timer, now_ms(l));
    else
        dtls_timer_stop(&l->timer);
    return 0;
}

static void ops_handshake_complete(void *rl)
{
    dtls_layer *l = rl;
    dtls_timer_stop(&l->timer);
    l->complete_pending = true;
    /* The client's last flight is answered by the server's Finished and is
     * never needed again; the server keeps its final flight to resend it
     * if the client repeats its own (RFC 6347 §4.2.4). */
    if (!l->is_server)
        l->have_flight = false;
}

/* RFC 6347 §4.2.2: every handshake numbers its messages from 0 on each
 * side. A local start expects the peer's answer at 0 too; when the peer
 * started, process_handshake has already placed the reassembler at its
 * first message. */
static void ops_new_handshake(void *rl, bool local)
{
    dtls_layer *l = rl;
    l->next_send_seq = 0;
    l->have_flight = false;
    l->flight_open = false;
    l->entry_count = 0;
    l->flight_len = 0;
    l->transmission_count = 0;
    l->handshake_auth_failures = 0;
    l->complete_pending = false;
    dtls_timer_stop(&l->timer);
    if (local)
        dtls_reassembler_reset(&l->reassembler, 0);
}

static void ops_handshake_abandoned(void *rl)
{
    dtls_layer *l = rl;
    l->have_flight = false;
    dtls_timer_stop(&l->timer);
}

const hs_record_ops dtls_record_ops = {
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

int dtls_layer_init(dtls_layer *l, const petrel_platform *platform, const crypto_provider *prov,
                    const dtls_config *cfg, const dtls_cookie_secrets *cookies, hs_ctx *hs,
                    bool is_server, const uint8_t *peer_id, size_t peer_id_len)
{
    if (peer_id_len > DTLS_PEER_ID_MAX)
        return PETREL_ERR_ARG;
    memset(l, 0, sizeof(*l));
    l->platform = platform;
    l->prov = prov;
    l->cfg = cfg;
    l->cookies = cookies;
    l->hs = hs;
    l->is_server = is_server;
    l->pmtu = cfg->pmtu;
    l->flight_answers_seq = -1;
    if (peer_id_len)
        memcpy(l->peer_id, peer_id, peer_id_len);
    l->peer_id_len = peer_id_len;
    dtls_replay_init(&l->replay[0], cfg->replay_window);
    dtls_replay_init(&l->replay[1], cfg->replay_window);
    dtls_reassembler_init(&l->reassembler, platform, cfg->max_message_len, cfg->max_reassembly);
    dtls_timer_init(&l->timer);
    return 0;
}

void dtls_layer_free(dtls_layer *l)
{
    for (size_t i = 0; i < 2; i++) {
        hs_record_cipher_clear(&l->write_cipher[i]);
        hs_record_cipher_clear(&l->read_cipher[i]);
    }
    dtls_reassembler_free(&l->reassembler);
    platform_free(l->platform, l->flight_buf);
    platform_free(l->platform, l->out);
    memset(l, 0, sizeof(*l));
}

size_t dtls_layer_memory(const dtls_layer *l)
{
    return sizeof(*l) + l->flight_cap + l->out_cap + l->reassembler.buffered;
}

/* ======================================================================
 * Writing application data and alerts
 * ====================================================================== */

size_t dtls_max_payload(const dtls_layer *l)
{
    size_t overhead = dtls_record_overhead(&l->write_cipher[l->write_epoch & 1]);
    return l->pmtu > overhead ? l->pmtu - overhead : 0;
}

static int write_single(dtls_layer *l, uint8_t type, const uint8_t *data, size_t len)
{
    if (len > dtls_max_payload(l))
        return PETREL_ERR_BUFFER_TOO_SMALL;
    PETREL_TRY(out_reserve(l));
    cursor_writer w = out_begin(l);
    PETREL_TRY(write_record(l, l->write_epoch, type, data, len, &w));
    out_commit(l, &w);
    return 0;
}

int dtls_write_app_data(dtls_layer *l, const uint8_t *data, size_t len)
{
    return write_single(l, DTLS_CT_APPLICATION_DATA, data, len);
}

int dtls_write_alert(dtls_layer *l, uint8_t level, uint8_t description)
{
    const uint8_t alert[2] = {level, description};
    return write_single(l, DTLS_CT_ALERT, alert, sizeof(alert));
}

int dtls_writebuf(dtls_layer *l, uint8_t **buf, size_t *cap)
{
    const dtls_cipher *c = &l->write_cipher[l->write_epoch & 1];
    PETREL_TRY(out_reserve(l));
    size_t explicit_len = c->suite ? c->suite->explicit_nonce_len : 0;
    *buf = l->out + l->out_len + DTLS_RECORD_HEADER_LEN + explicit_len;
    *cap = dtls_max_payload(l);
    return 0;
}

int dtls_writebuf_commit(dtls_layer *l, size_t len)
{
    if (len > dtls_max_payload(l) || l->out_len + l->pmtu > l->out_cap)
        return PETREL_ERR_ARG;
    cursor_writer w = out_begin(l);
    PETREL_TRY(write_record(l, l->write_epoch, DTLS_CT_APPLICATION_DATA, NULL, len, &w));
    out_commit(l, &w);
    return 0;
}

/* ======================================================================
 * Timers
 * ====================================================================== */

static int retransmit(dtls_layer *l)
{
    l->stats.retransmissions++;
    return flight_transmit(l);
}

/* The retransmission timer fired, or the application says it did. */
static int timer_fired(dtls_layer *l, uint64_t now)
{
    int rc = dtls_timer_expired(&l->timer, &l->cfg->timer, now);
    /* A renegotiation request that got no answer at all (a client may
     * ignore a HelloRequest) is given up; the connection goes on. */
    if (rc == PETREL_ERR_HANDSHAKE_TIMEOUT &&
        hs_renegotiation_abandon(l->hs, "the peer never answered our request"))
        return 0;
    if (rc == PETREL_ERR_HANDSHAKE_TIMEOUT && l->handshake_auth_failures > 0) {
        /* The peer kept answering, but nothing it sent under the new keys
         * authenticated: a key mismatch, not a dead network. */
        platform_log(l->platform, PETREL_LOG_ERROR,
                     "handshake failed: %u records from the peer under the negotiated keys "
                     "failed authentication; the pre-shared keys probably differ",
                     l->handshake_auth_failures);
        return PETREL_ERR_AEAD_AUTH;
    }
    PETREL_TRY(rc);
    return l->have_flight ? retransmit(l) : 0;
}

int dtls_handle_timeout(dtls_layer *l, uint64_t now)
{
    if (!l->timer.deadline || now < l->timer.deadline)
        return 0;
    return timer_fired(l, now);
}

int dtls_retransmit_now(dtls_layer *l, uint64_t now)
{
    /* Armed means a flight waits for the peer's answer. */
    if (!l->timer.deadline)
        return 0;
    return timer_fired(l, now);
}

/* ======================================================================
 * Reading
 * ====================================================================== */

/* RFC 6347 §4.2.1: the HelloVerifyRequest answering ch, in a record with
 * the ClientHello's own record sequence number, so that the server keeps
 * no state for it. */
static int write_hello_verify_request(const crypto_provider *prov, const uint8_t *secret,
                                      const uint8_t *peer, size_t peer_len,
                                      const hs_client_hello *ch, uint16_t message_seq,
                                      uint64_t record_seq, cursor_writer *w)
{
    uint8_t cookie[DTLS_COOKIE_LEN];
    uint8_t body[3 + DTLS_COOKIE_LEN];
    uint8_t plain[DTLS_HS_HEADER_LEN + sizeof(body)];
    static const dtls_cipher null_cipher;
    PETREL_TRY(dtls_cookie_make(prov, secret, peer, peer_len, ch, cookie));
    hs_hello_verify_request hvr = {HS_VERSION_DTLS10, cookie, sizeof(cookie)};
    cursor_writer bw = cursor_writer_init(body, sizeof(body));
    PETREL_TRY(hs_hello_verify_request_write(&bw, &hvr));
    dtls_hs_fragment frag = {
        HS_HELLO_VERIFY_REQUEST, (uint32_t)bw.len, message_seq, 0, (uint32_t)bw.len, body};
    cursor_writer pw = cursor_writer_init(plain, sizeof(plain));
    PETREL_TRY(dtls_hs_fragment_write(&pw, &frag));
    return dtls_record_write(&null_cipher, DTLS_CT_HANDSHAKE, HS_VERSION_DTLS12, 0, record_seq,
                             plain, pw.len, w);
}

static int send_hello_verify_request(dtls_layer *l, const hs_client_hello *ch, uint16_t message_seq,
                                     uint64_t record_seq)
{
    PETREL_TRY(out_reserve(l));
    cursor_writer w = out_begin(l);
    PETREL_TRY(write_hello_verify_request(l->prov, l->cookies->current, l->peer_id, l->peer_id_len,
                                          ch, message_seq, record_seq, &w));
    out_commit(l, &w);
    return 0;
}

int dtls_stateless_check(const crypto_provider *prov, const dtls_cookie_secrets *cookies,
                         const uint8_t *peer, size_t peer_len, const uint8_t *datagram, size_t len,
                         uint8_t *out, size_t out_cap, size_t *out_len)
{
    cursor_reader r = cursor_reader_init(datagram, len);
    uint8_t type;
    uint16_t version, epoch, record_len;
    uint64_t seq;
    const uint8_t *fragment;
    dtls_hs_fragment f;
    hs_client_hello ch;
    *out_len = 0;
    if (peer_len > DTLS_PEER_ID_MAX)
        return PETREL_ERR_ARG;
    /* The first record must be an epoch-0 handshake record holding one
     * whole ClientHello; anything else from an unknown peer is dropped. */
    PETREL_TRY(cursor_read_u8(&r, &type));
    PETREL_TRY(cursor_read_u16(&r, &version));
    PETREL_TRY(cursor_read_u16(&r, &epoch));
    PETREL_TRY(cursor_read_u48(&r, &seq));
    PETREL_TRY(cursor_read_u16(&r, &record_len));
    PETREL_TRY(cursor_read_view(&r, record_len, &fragment));
    if (type != DTLS_CT_HANDSHAKE || epoch != 0 ||
        (version != HS_VERSION_DTLS12 && version != HS_VERSION_DTLS10))
        return PETREL_ERR_UNEXPECTED_MESSAGE;
    cursor_reader fr = cursor_reader_init(fragment, record_len);
    PETREL_TRY(dtls_hs_fragment_read(&fr, &f));
    /* The first fragment is enough: it holds every field the cookie binds
     * (a ClientHello cut into several records is answered all the same). */
    if (f.msg_type != HS_CLIENT_HELLO || f.fragment_offset != 0)
        return PETREL_ERR_UNEXPECTED_MESSAGE;
    cursor_reader body = cursor_reader_init(f.body, f.fragment_length);
    PETREL_TRY(dtls_cookie_fields_read(&body, &ch));
    if (dtls_cookie_verify(prov, cookies, peer, peer_len, &ch) == 0)
        return 1;
    cursor_writer w = cursor_writer_init(out, out_cap);
    PETREL_TRY(write_hello_verify_request(prov, cookies->current, peer, peer_len, &ch,
                                          f.message_seq, seq, &w));
    *out_len = w.len;
    return 0;
}

/* Server, before the handshake starts: is this ClientHello's cookie valid?
 * 1: yes, hand it to the core; 0: answered with HelloVerifyRequest or
 * dropped as malformed. */
static int server_cookie_gate(dtls_layer *l, const uint8_t *msg, size_t len, uint64_t record_seq)
{
    cursor_reader r = cursor_reader_init(msg, len);
    dtls_hs_fragment whole;
    hs_client_hello ch;
    if (dtls_hs_fragment_read(&r, &whole) < 0)
        return 0;
    /* Only the fields up to the cookie are read here: once the cookie
     * proves the address, the core parses the whole hello and answers a
     * malformed one with its alert (decode_error, illegal_parameter)
     * instead of leaving the client to resend it until it gives up. */
    cursor_reader body = cursor_reader_init(whole.body, whole.length);
    if (dtls_cookie_fields_read(&body, &ch) < 0) {
        drop(l, len);
        return 0;
    }
    if (dtls_cookie_verify(l->prov, l->cookies, l->peer_id, l->peer_id_len, &ch) == 0) {
        /* The server keeps no count of its HelloVerifyRequests, so it
         * answers with the ClientHello's message_seq (RFC 6347 §4.2.2). */
        l->next_send_seq = whole.message_seq;
        /* Likewise for record sequence numbers: the HelloVerifyRequest
         * reused the first ClientHello's, so continue from this one's to
         * stay above it (RFC 6347 §4.2.1). */
        if (l->write_seq[0] < record_seq)
            l->write_seq[0] = record_seq;
        return 1;
    }
    PETREL_TRY(send_hello_verify_request(l, &ch, whole.message_seq, record_seq));
    return 0;
}

/* The peer repeated the end of its previous flight: ours was lost, so
 * resend it now rather than at the next timer (RFC 6347 §4.2.4). */
static int on_past_fragment(dtls_layer *l, bool fresh_record, const dtls_hs_fragment *f)
{
    /* The last message of the flight ours answers, and nothing of the
     * peer's next flight yet: a peer resending part of a flight we are
     * still receiving (say, without a message that keeps being lost) has
     * our flight and must not get it again. */
    bool tail = (int64_t)f->message_seq == l->flight_answers_seq &&
                f->message_seq + 1 == l->reassembler.next_seq &&
                f->fragment_offset + f->fragment_length == f->length;
    /* A real retransmission comes in a record with a new sequence number;
     * a copy the network duplicated (epoch 0 has no replay window) does
     * not, and must not make us resend. */
    if (!tail || !fresh_record || !l->have_flight || l->flight_open)
        return 0;
    /* Copies the peer sent before our flight reached it (it resent while
     * we were still computing, or they crossed ours) arrive right after we
     * sent: answering each would send the whole flight once per copy. A
     * real repeat comes a peer timer (at least rtt_min) after our flight. */
    uint64_t now = now_ms(l);
    if (now - l->last_transmit_at < l->cfg->timer.rtt_min_ms / 2)
        return 0;
    dtls_timer_resent_early(&l->timer);
    return retransmit(l);
}

/* RFC 6347 §4.2.1: the HelloVerifyRequest carries the record sequence
 * number of the ClientHello it answers, so the round trip is known exactly
 * even when the ClientHello had to be resent (where Karn's rule would
 * otherwise discard the sample and leave the next flight on the blind
 * initial timer). */
static void sample_hello_verify_rtt(dtls_layer *l, uint64_t record_seq)
{
    for (size_t i = 0; i < l->transmission_count; i++) {
        if (record_seq >= l->transmissions[i].first_seq &&
            record_seq < l->transmissions[i].end_seq) {
            uint64_t now = now_ms(l);
            if (now >= l->transmissions[i].sent_at)
                dtls_timer_rtt_sample(&l->timer, now - l->transmissions[i].sent_at);
            return;
        }
    }
}

static int deliver_messages(dtls_layer *l, uint64_t record_seq)
{
    const uint8_t *msg;
    size_t len;
    while (dtls_reassembler_peek(&l->reassembler, &msg, &len)) {
        int rc = 1;
        if (l->is_server && l->hs->state == HS_SERVER_WAIT_CLIENT_HELLO && !l->hs->established)
            rc = server_cookie_gate(l, msg, len, record_seq);
        if (rc == 1 && hs_is_complete(l->hs)) {
            /* A new handshake from the peer (see process_handshake). */
            rc = hs_post_handshake_message(l->hs, msg[0], len - DTLS_HS_HEADER_LEN);
            if (rc == HS_POST_REFUSE)
                rc = dtls_write_alert(l, 1, HS_ALERT_NO_RENEGOTIATION);
            else if (rc == HS_POST_HANDLED)
                rc = 0;
            else if (rc == HS_POST_DELIVER)
                rc = 1;
        }
        if (rc == 1) {
            if (!l->is_server && msg[0] == HS_HELLO_VERIFY_REQUEST)
                sample_hello_verify_rtt(l, record_seq);
            dtls_timer_peer_responded(&l->timer, now_ms(l));
            l->delivering = true;
            rc = hs_handle_message(l->hs, msg[0], msg, len, msg + DTLS_HS_HEADER_LEN,
                                   len - DTLS_HS_HEADER_LEN);
            l->delivering = false;
        }
        dtls_reassembler_advance(&l->reassembler);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int process_handshake(dtls_layer *l, const dtls_record *rec, bool fresh_record,
                             const uint8_t *plain, size_t len)
{
    cursor_reader r = cursor_reader_init(plain, len);
    if (len == 0)
        drop(l, rec->length); /* RFC 5246 §6.2.1: no empty handshake records */
    while (cursor_reader_remaining(&r) > 0) {
        dtls_hs_fragment f;
        if (dtls_hs_fragment_read(&r, &f) < 0) {
            drop(l, cursor_reader_remaining(&r));
            break;
        }
        /* Until a ClientHello is accepted the server keeps no handshake
         * state: each new ClientHello restarts reassembly at its own
         * message_seq (1 after a HelloVerifyRequest). */
        if (l->is_server && l->hs->state == HS_SERVER_WAIT_CLIENT_HELLO && !l->hs->established) {
            if (f.msg_type != HS_CLIENT_HELLO) {
                drop(l, f.fragment_length);
                continue;
            }
            if (f.message_seq != l->reassembler.next_seq)
                dtls_reassembler_reset(&l->reassembler, f.message_seq);
        }
        /* Between handshakes, the first message of a new one (a client's
         * ClientHello, a server's HelloRequest) starts again at
         * message_seq 0 (RFC 6347 §4.2.2); some stacks go on counting, so
         * the next number is taken too. A repeat of the last flight's
         * messages stays in the past and may trigger our resend. */
        bool opens = l->is_server ? f.msg_type == HS_CLIENT_HELLO : f.msg_type == HS_HELLO_REQUEST;
        if (hs_is_complete(l->hs) && opens && f.fragment_offset == 0 &&
            (f.message_seq == 0 || f.message_seq == l->reassembler.next_seq) &&
            rec->epoch == l->read_epoch && rec->epoch > 0)
            dtls_reassembler_reset(&l->reassembler, f.message_seq);
        int rc = dtls_reassembler_add(&l->reassembler, &f);
        if (rc == DTLS_REASM_PAST) {
            PETREL_TRY(on_past_fragment(l, fresh_record, &f));
            continue;
        }
        if (rc == PETREL_ERR_NOMEM)
            return rc;
        if (rc < 0 || rc == DTLS_REASM_CONFLICT || rc == DTLS_REASM_TOO_FAR) {
            drop(l, f.fragment_length);
            continue;
        }
        PETREL_TRY(deliver_messages(l, rec->seq));
    }
    return 0;
}

static int process_record(dtls_layer *l, dtls_record *rec, dtls_event *ev, const uint8_t **data,
                          size_t *data_len)
{
    uint8_t *plain;
    size_t len;
    size_t idx = rec->epoch & 1;
    bool version_ok =
        rec->version == HS_VERSION_DTLS12 || (rec->version == HS_VERSION_DTLS10 && rec->epoch == 0);
    /* RFC 6347 §4.1.2.7: invalid records are dropped silently. Records of
     * another epoch cannot be read (a future epoch's keys are not known
     * yet, a past one's records are stale retransmissions). */
    /* Epoch 0 is unauthenticated: a forged record could push the replay
     * window far ahead and make every genuine record after it look stale.
     * The window guards protected epochs only; in epoch 0 duplicates are
     * harmless (the reassembler recognises repeated fragments). */
    bool protected_epoch = rec->epoch > 0;
    if (!version_ok || rec->epoch != l->read_epoch ||
        (protected_epoch && !dtls_replay_check(&l->replay[idx], rec->seq))) {
        drop(l, rec->length);
        return 0;
    }
    if (dtls_record_open(&l->read_cipher[idx], rec, &plain, &len) < 0) {
        drop(l, rec->length);
        if (rec->epoch > 0 && !hs_is_complete(l->hs) && l->handshake_auth_failures++ == 0)
            platform_log(l->platform, PETREL_LOG_WARNING,
                         "a handshake record in epoch %u failed authentication (dropped); if "
                         "this repeats, the pre-shared keys differ",
                         (unsigned)rec->epoch);
        return 0;
    }
    if (protected_epoch)
        dtls_replay_accept(&l->replay[idx], rec->seq);
    l->stats.records_accepted++;
    /* Above every sequence number seen in this epoch so far? A forged
     * high number only makes later records look old here, which turns off
     * the early resend and leaves the timer to do the work. */
    bool fresh_record = rec->seq >= l->next_record_seq[idx];
    if (fresh_record)
        l->next_record_seq[idx] = rec->seq + 1;

    switch (rec->type) {
    case DTLS_CT_HANDSHAKE:
        PETREL_TRY(process_handshake(l, rec, fresh_record, plain, len));
        if (l->complete_pending) {
            l->complete_pending = false;
            *ev = DTLS_EVENT_HANDSHAKE_COMPLETE;
        }
        return 0;
    case DTLS_CT_CHANGE_CIPHER_SPEC:
        /* A ChangeCipherSpec the table does not expect is a repeat or one
         * that overtook its flight: drop it; the flight will be resent. */
        if (len != 1 || plain[0] != 1 || !hs_expects_change_cipher_spec(l->hs)) {
            drop(l, rec->length);
            return 0;
        }
        dtls_timer_peer_responded(&l->timer, now_ms(l));
        return hs_handle_change_cipher_spec(l->hs);
    case DTLS_CT_ALERT:
        if (len != 2) {
            drop(l, rec->length);
            return 0;
        }
        memcpy(l->last_alert, plain, 2);
        l->have_alert = true;
        if (plain[0] == 1 && plain[1] == HS_ALERT_NO_RENEGOTIATION)
            (void)hs_renegotiation_abandon(l->hs, "the peer answered no_renegotiation");
        *ev = DTLS_EVENT_ALERT;
        return plain[0] == 2 ? PETREL_ERR_PEER_ALERT : 0;
    case DTLS_CT_APPLICATION_DATA:
        /* Also while a renegotiation runs, under the keys in force. */
        if (!l->hs->established || rec->epoch == 0) {
            drop(l, rec->length);
            return 0;
        }
        *ev = DTLS_EVENT_APP_DATA;
        *data = plain;
        *data_len = len;
        return 0;
    default:
        drop(l, rec->length);
        return 0;
    }
}

int dtls_read_next(dtls_layer *l, cursor_reader *r, uint8_t *base, dtls_event *ev,
                   const uint8_t **data, size_t *len)
{
    *ev = DTLS_EVENT_NONE;
    while (cursor_reader_remaining(r) > 0) {
        dtls_record rec;
        if (dtls_record_read(r, base, &rec) < 0) {
            /* Without a valid length the rest of the datagram cannot be
             * framed: drop it all. */
            drop(l, cursor_reader_remaining(r));
            PETREL_TRY(cursor_skip(r, cursor_reader_remaining(r)));
            break;
        }
        PETREL_TRY(process_record(l, &rec, ev, data, len));
        if (*ev != DTLS_EVENT_NONE)
            return 0;
    }
    return 0;
}
