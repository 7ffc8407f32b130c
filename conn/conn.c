/*
 * The public engine API: petrel_config and petrel_conn. A connection owns
 * one handshake (handshake/) and one record layer (dtls/ for datagrams,
 * tls/ for streams), wires them through hs_record_ops, and turns their
 * events into the MatrixSSL-style buffer flow of petrel.h.
 */
#include <string.h>

#include <petrel/petrel.h>

#include "conn/conn_internal.h"
#include "conn/conn_types.h"

#define CONN_READBUF_LEN (DTLS_MAX_PLAINTEXT + 2048 + DTLS_RECORD_HEADER_LEN)

/* The lossy-link profile (petrel_config_set_lossy_link_profile), chosen
 * from in-process runs at 10-50 % loss: waiting 2 x RTT with the back-off
 * capped at 2 x the first wait gave the best p90 without spurious
 * retransmissions under jitter. */
#define LOSSY_FIRST_FACTOR 2
#define LOSSY_CAP_FACTOR   2
#define LOSSY_RTT_FACTOR   2
#define LOSSY_MIN_MS       50
#define LOSSY_RETRANSMITS  30

/* ======================================================================
 * Configuration
 * ====================================================================== */

petrel_config *petrel_config_new(const petrel_platform *platform)
{
    petrel_platform p = platform ? *platform : petrel_platform_default();
    petrel_config *cfg = platform_calloc(&p, 1, sizeof(*cfg));
    if (!cfg)
        return NULL;
    cfg->platform = p;
    cfg->hs.prov = crypto_default_provider();
    memcpy(cfg->hs.suites, hs_default_suites, hs_default_suite_count * sizeof(uint16_t));
    cfg->hs.suite_count = hs_default_suite_count;
    cfg->hs.groups[0] = CRYPTO_GROUP_X25519;
    cfg->hs.groups[1] = CRYPTO_GROUP_SECP256R1;
    cfg->hs.groups[2] = CRYPTO_GROUP_SECP384R1;
    cfg->hs.group_count = 3;
    cfg->hs.max_depth = HS_DEFAULT_VERIFY_DEPTH;
    cfg->dtls.pmtu = DTLS_DEFAULT_PMTU;
    cfg->dtls.replay_window = DTLS_REPLAY_DEFAULT_BITS;
    cfg->dtls.timer =
        (dtls_timer_config){DTLS_TIMER_DEFAULT_INITIAL_MS, DTLS_TIMER_DEFAULT_MAX_MS,
                            DTLS_TIMER_DEFAULT_MAX_RETRANSMITS, DTLS_TIMER_DEFAULT_RTT_MIN_MS,
                            DTLS_TIMER_DEFAULT_RTT_FACTOR};
    cfg->dtls.max_message_len = DTLS_DEFAULT_MAX_MESSAGE;
    cfg->dtls.max_reassembly = DTLS_DEFAULT_MAX_REASSEMBLY;
    if (platform_random(&cfg->platform, cfg->cookies.current, DTLS_COOKIE_SECRET_LEN) < 0) {
        platform_free(&p, cfg);
        return NULL;
    }
    return cfg;
}

void petrel_config_free(petrel_config *cfg)
{
    if (!cfg)
        return;
    petrel_platform p = cfg->platform;
    conn_config_free_certs(cfg);
    platform_free_secret(&p, cfg->hs.psk_table, cfg->hs.psk_table_count * sizeof(hs_psk_entry));
    platform_free_secret(&p, cfg, sizeof(*cfg));
}

static int psk_entry_set(hs_psk_entry *e, const uint8_t *identity, size_t identity_len,
                         const uint8_t *key, size_t key_len)
{
    if (!identity || identity_len == 0 || identity_len > HS_PSK_IDENTITY_STORE_MAX || !key ||
        key_len == 0 || key_len > HS_PSK_MAX)
        return PETREL_ERR_ARG;
    memcpy(e->identity, identity, identity_len);
    e->identity_len = identity_len;
    memcpy(e->key, key, key_len);
    e->key_len = key_len;
    return 0;
}

int petrel_config_set_psk(petrel_config *cfg, const uint8_t *identity, size_t identity_len,
                          const uint8_t *key, size_t key_len)
{
    if (!cfg)
        return PETREL_ERR_ARG;
    hs_psk_entry entry;
    PETREL_TRY(psk_entry_set(&entry, identity, identity_len, key, key_len));
    /* The same pair serves as the client's PSK and as a server table
     * entry: a config is used for one role or the other. */
    cfg->hs.client_psk = entry;
    cfg->hs.has_client_psk = true;
    size_t n = cfg->hs.psk_table_count;
    /* A new table rather than realloc, so that the old one's keys are
     * wiped before its memory is released. */
    hs_psk_entry *table = platform_calloc(&cfg->platform, n + 1, sizeof(*table));
    petrel_wipe(&entry, sizeof(entry));
    if (!table)
        return PETREL_ERR_NOMEM;
    if (n)
        memcpy(table, cfg->hs.psk_table, n * sizeof(*table));
    table[n] = cfg->hs.client_psk;
    platform_free_secret(&cfg->platform, cfg->hs.psk_table, n * sizeof(*table));
    cfg->hs.psk_table = table;
    cfg->hs.psk_table_count = n + 1;
    return 0;
}

int petrel_config_set_psk_lookup(petrel_config *cfg, petrel_psk_lookup_fn fn, void *ref)
{
    if (!cfg)
        return PETREL_ERR_ARG;
    cfg->hs.psk_lookup = fn;
    cfg->hs.psk_lookup_ref = ref;
    return 0;
}

int petrel_config_set_psk_hint(petrel_config *cfg, const uint8_t *hint, size_t len)
{
    if (!cfg || len > HS_PSK_IDENTITY_STORE_MAX || (len && !hint))
        return PETREL_ERR_ARG;
    if (len)
        memcpy(cfg->hs.psk_hint, hint, len);
    cfg->hs.psk_hint_len = len;
    return 0;
}

/* A suite list from the application: every entry known and allowed. */
static int check_suites(const petrel_platform *platform, const uint16_t *suites, size_t count)
{
    if (!suites || count == 0 || count > HS_MAX_SUITES)
        return PETREL_ERR_ARG;
    for (size_t i = 0; i < count; i++) {
        const char *why;
        if (hs_suite_is_insecure(suites[i], &why)) {
            platform_log(platform, PETREL_LOG_ERROR, "cipher suite 0x%04x refused: %s", suites[i],
                         why);
            return PETREL_ERR_INSECURE;
        }
        if (!hs_suite_find(suites[i])) {
            platform_log(platform, PETREL_LOG_ERROR,
                         "cipher suite 0x%04x is not implemented by petrel", suites[i]);
            return PETREL_ERR_UNSUPPORTED;
        }
    }
    return 0;
}

int petrel_config_set_suites(petrel_config *cfg, const uint16_t *suites, size_t count)
{
    if (!cfg)
        return PETREL_ERR_ARG;
    PETREL_TRY(check_suites(&cfg->platform, suites, count));
    memcpy(cfg->hs.suites, suites, count * sizeof(uint16_t));
    cfg->hs.suite_count = count;
    return 0;
}

int petrel_config_set_groups(petrel_config *cfg, const uint16_t *groups, size_t count)
{
    if (!cfg || !groups || count == 0 || count > HS_MAX_GROUPS)
        return PETREL_ERR_ARG;
    for (size_t i = 0; i < count; i++) {
        if (!cfg->hs.prov->kex((crypto_group_id)groups[i])) {
            platform_log(&cfg->platform, PETREL_LOG_ERROR, "group 0x%04x is not supported",
                         groups[i]);
            return PETREL_ERR_UNSUPPORTED;
        }
    }
    memcpy(cfg->hs.groups, groups, count * sizeof(uint16_t));
    cfg->hs.group_count = count;
    return 0;
}

int petrel_config_set_pmtu(petrel_config *cfg, size_t pmtu)
{
    if (!cfg || pmtu < DTLS_MIN_PMTU || pmtu > DTLS_MAX_PMTU)
        return PETREL_ERR_ARG;
    cfg->dtls.pmtu = pmtu;
    return 0;
}

int petrel_config_set_timers(petrel_config *cfg, uint32_t initial_ms, uint32_t max_ms,
                             uint32_t max_retransmits, uint32_t rtt_min_ms)
{
    if (!cfg)
        return PETREL_ERR_ARG;
    dtls_timer_config t = cfg->dtls.timer;
    if (initial_ms)
        t.initial_ms = initial_ms;
    if (max_ms)
        t.max_ms = max_ms;
    if (max_retransmits)
        t.max_retransmits = max_retransmits;
    if (rtt_min_ms)
        t.rtt_min_ms = rtt_min_ms;
    if (t.max_ms < t.initial_ms)
        return PETREL_ERR_ARG;
    cfg->dtls.timer = t;
    return 0;
}

int petrel_config_set_lossy_link_profile(petrel_config *cfg, uint32_t rtt_hint_ms)
{
    if (!cfg || rtt_hint_ms > 60000)
        return PETREL_ERR_ARG;
    uint32_t hint = rtt_hint_ms ? rtt_hint_ms : 100;
    uint32_t first = LOSSY_FIRST_FACTOR * hint;
    if (first < LOSSY_MIN_MS)
        first = LOSSY_MIN_MS;
    cfg->dtls.timer = (dtls_timer_config){first, LOSSY_CAP_FACTOR * first, LOSSY_RETRANSMITS,
                                          LOSSY_MIN_MS, LOSSY_RTT_FACTOR};
    return 0;
}

int petrel_config_set_limits(petrel_config *cfg, size_t max_message, size_t max_reassembly)
{
    if (!cfg)
        return PETREL_ERR_ARG;
    size_t message = max_message ? max_message : cfg->dtls.max_message_len;
    size_t reassembly = max_reassembly ? max_reassembly : cfg->dtls.max_reassembly;
    if (message < 256 || message > (1u << 24) - 1 || reassembly < message)
        return PETREL_ERR_ARG;
    cfg->dtls.max_message_len = message;
    cfg->dtls.max_reassembly = reassembly;
    return 0;
}

int petrel_config_set_renegotiation(petrel_config *cfg, bool accept)
{
    if (!cfg)
        return PETREL_ERR_ARG;
    cfg->hs.accept_renegotiation = accept;
    return 0;
}

int petrel_config_set_replay_window(petrel_config *cfg, unsigned records)
{
    if (!cfg || records < DTLS_REPLAY_MIN_BITS || records > DTLS_REPLAY_MAX_BITS)
        return PETREL_ERR_ARG;
    cfg->dtls.replay_window = records;
    return 0;
}

int petrel_config_rotate_cookie_secret(petrel_config *cfg)
{
    if (!cfg)
        return PETREL_ERR_ARG;
    uint8_t fresh[DTLS_COOKIE_SECRET_LEN];
    PETREL_TRY(platform_random(&cfg->platform, fresh, sizeof(fresh)));
    memcpy(cfg->cookies.previous, cfg->cookies.current, DTLS_COOKIE_SECRET_LEN);
    memcpy(cfg->cookies.current, fresh, DTLS_COOKIE_SECRET_LEN);
    cfg->cookies.has_previous = true;
    petrel_wipe(fresh, sizeof(fresh));
    return 0;
}

const petrel_platform *conn_config_platform(const petrel_config *cfg)
{
    return &cfg->platform;
}

int petrel_server_check_hello(const petrel_config *cfg, const uint8_t *peer_id, size_t peer_id_len,
                              const uint8_t *datagram, size_t len, uint8_t *reply, size_t reply_cap,
                              size_t *reply_len)
{
    if (!cfg || !datagram || !reply || !reply_len || (peer_id_len && !peer_id))
        return PETREL_ERR_ARG;
    int rc = dtls_stateless_check(cfg->hs.prov, &cfg->cookies, peer_id, peer_id_len, datagram, len,
                                  reply, reply_cap, reply_len);
    /* Never send an unvalidated address more than 3 x what it sent
     * (amplification limit; a HelloVerifyRequest is smaller than any
     * ClientHello it can answer, so this only guards the invariant). */
    if (rc == 0 && *reply_len > 3 * len) {
        *reply_len = 0;
        return PETREL_ERR_LIMIT;
    }
    return rc;
}

/* ======================================================================
 * Connections
 * ====================================================================== */

petrel_conn *petrel_conn_new(const petrel_config *cfg, petrel_role role, petrel_mode mode,
                             const uint8_t *peer_id, size_t peer_id_len)
{
    if (!cfg || (mode != PETREL_DATAGRAM && mode != PETREL_STREAM) ||
        (role != PETREL_CLIENT && role != PETREL_SERVER) || peer_id_len > DTLS_PEER_ID_MAX ||
        (peer_id_len && !peer_id))
        return NULL;
    petrel_conn *conn = platform_calloc(&cfg->platform, 1, sizeof(*conn));
    if (!conn)
        return NULL;
    conn->cfg = cfg;
    conn->role = role;
    conn->mode = mode;
    bool server = role == PETREL_SERVER;
    bool datagram = mode == PETREL_DATAGRAM;
    conn->readbuf = platform_alloc(&cfg->platform, CONN_READBUF_LEN);
    int rc = conn->readbuf ? 0 : PETREL_ERR_NOMEM;
    if (rc == 0 && datagram)
        rc = dtls_layer_init(&conn->dtls, &cfg->platform, cfg->hs.prov, &cfg->dtls, &cfg->cookies,
                             &conn->hs, server, peer_id, peer_id_len);
    else if (rc == 0)
        rc = tls_layer_init(&conn->tls, &cfg->platform, cfg->hs.prov, cfg->dtls.max_message_len,
                            &conn->hs, server);
    if (rc == 0)
        rc = hs_init(&conn->hs, &cfg->hs, &cfg->platform,
                     datagram ? &dtls_record_ops : &tls_record_ops,
                     datagram ? (void *)&conn->dtls : (void *)&conn->tls, server, datagram);
    if (rc < 0) {
        petrel_conn_free(conn);
        return NULL;
    }
    conn->hs.conn = conn;
    memcpy(conn->hs.server_name, cfg->hs.server_name, sizeof(conn->hs.server_name));
    return conn;
}

void petrel_conn_free(petrel_conn *conn)
{
    if (!conn)
        return;
    const petrel_platform *p = &conn->cfg->platform;
    hs_free(&conn->hs);
    if (conn->mode == PETREL_STREAM)
        tls_layer_free(&conn->tls);
    else
        dtls_layer_free(&conn->dtls);
    platform_free(p, conn->readbuf);
    platform_free(p, conn->hello_ext);
    platform_free_secret(p, conn, sizeof(*conn));
}

static bool is_stream(const petrel_conn *conn)
{
    return conn->mode == PETREL_STREAM;
}

static bool output_pending(const petrel_conn *conn)
{
    return is_stream(conn) ? tls_out_pending(&conn->tls) > 0 : conn->dtls.dgram_count > 0;
}

static int pending_status(const petrel_conn *conn)
{
    return output_pending(conn) ? PETREL_REQUEST_SEND : PETREL_REQUEST_RECV;
}

static int write_alert(petrel_conn *conn, uint8_t level, uint8_t description)
{
    return is_stream(conn) ? tls_write_alert(&conn->tls, level, description)
                           : dtls_write_alert(&conn->dtls, level, description);
}

/* Records a fatal error: the alert it calls for goes out (best effort), and
 * the connection stays failed. */
static int fail(petrel_conn *conn, int error)
{
    if (conn->error)
        return conn->error;
    conn->error = error;
    /* The certificate callback may have chosen the alert itself. */
    int alert = conn->hs.alert ? conn->hs.alert : petrel_error_alert(error);
    if (alert && !conn->close_sent && petrel_error_class_of(error) != PETREL_ERRCLASS_PEER &&
        write_alert(conn, 2, (uint8_t)alert) == 0)
        conn->close_sent = true;
    platform_log(&conn->cfg->platform, PETREL_LOG_INFO, "connection failed: %s (%s)",
                 petrel_strerror(error), petrel_error_name(error));
    return error;
}

int petrel_conn_set_suites(petrel_conn *conn, const uint16_t *suites, size_t count)
{
    if (!conn)
        return PETREL_ERR_ARG;
    /* Before the suite list is used: the client's hello, the server's
     * first ClientHello. */
    if (!hs_may_configure(&conn->hs))
        return PETREL_ERR_STATE;
    PETREL_TRY(check_suites(&conn->cfg->platform, suites, count));
    memcpy(conn->hs.suites, suites, count * sizeof(uint16_t));
    conn->hs.suite_count = count;
    return 0;
}

int petrel_conn_set_cert_callback(petrel_conn *conn, petrel_cert_verify_fn fn, void *ref)
{
    if (!conn)
        return PETREL_ERR_ARG;
    /* The callback also decides what the hellos offer (certificate
     * suites and types), so it is fixed before they are written. */
    if (!hs_may_configure(&conn->hs))
        return PETREL_ERR_STATE;
    conn->hs.cert_callback = fn;
    conn->hs.cert_callback_ref = ref;
    return 0;
}

/* The hello extension calls: a client's, before petrel_connect. */
static int check_hello_ext_call(const petrel_conn *conn)
{
    if (!conn || conn->role != PETREL_CLIENT)
        return PETREL_ERR_ARG;
    return conn->hs.state == HS_CLIENT_START ? 0 : PETREL_ERR_STATE;
}

int petrel_conn_add_hello_extension(petrel_conn *conn, uint16_t type, const uint8_t *data,
                                    size_t len)
{
    PETREL_TRY(check_hello_ext_call(conn));
    if ((len && !data) || len > 0xFFFF)
        return PETREL_ERR_ARG;
    PETREL_TRY(hs_client_check_app_extension(&conn->hs, type, len));
    /* One buffer of the most the extensions may take, on first use:
     * connections without extensions pay nothing. */
    if (!conn->hello_ext) {
        conn->hello_ext = platform_alloc(&conn->cfg->platform, HS_APP_EXT_MAX);
        if (!conn->hello_ext)
            return PETREL_ERR_NOMEM;
        conn->hs.app_ext = conn->hello_ext;
    }
    size_t used = conn->hs.app_ext_len;
    cursor_writer w = cursor_writer_init(conn->hello_ext + used, HS_APP_EXT_MAX - used);
    PETREL_TRY(cursor_write_u16(&w, type));
    PETREL_TRY(cursor_write_vector(&w, 2, 0, 0xFFFF, data, len));
    conn->hs.app_ext_len = used + w.len;
    return 0;
}

int petrel_conn_set_hello_ext_callback(petrel_conn *conn, petrel_hello_ext_fn fn, void *ref)
{
    PETREL_TRY(check_hello_ext_call(conn));
    conn->hs.hello_ext_callback = fn;
    conn->hs.hello_ext_callback_ref = ref;
    return 0;
}

int petrel_connect(petrel_conn *conn)
{
    if (!conn || conn->role != PETREL_CLIENT)
        return PETREL_ERR_ARG;
    if (conn->error)
        return conn->error;
    int rc = hs_start(&conn->hs);
    if (rc < 0)
        return rc == PETREL_ERR_STATE ? rc : fail(conn, rc);
    return PETREL_REQUEST_SEND;
}

int petrel_get_readbuf(petrel_conn *conn, uint8_t **buf)
{
    if (!conn || !buf)
        return PETREL_ERR_ARG;
    if (!is_stream(conn)) {
        *buf = conn->readbuf;
        return CONN_READBUF_LEN;
    }
    /* Keep only the unprocessed tail (a partial record) at the front, so
     * that a whole record always fits after it. */
    if (conn->in_pos) {
        memmove(conn->readbuf, conn->readbuf + conn->in_pos, conn->in_len - conn->in_pos);
        conn->in_len -= conn->in_pos;
        conn->in_pos = 0;
    }
    *buf = conn->readbuf + conn->in_len;
    return (int)(CONN_READBUF_LEN - conn->in_len);
}

/* One event from the record layer: the datagram mode's rest of the
 * datagram, or the stream mode's whole records held in readbuf. */
static int next_event(petrel_conn *conn, int *event, const uint8_t **d, size_t *n)
{
    if (!is_stream(conn)) {
        dtls_event ev;
        int rc = dtls_read_next(&conn->dtls, &conn->input, conn->readbuf, &ev, d, n);
        *event = ev == DTLS_EVENT_APP_DATA             ? PETREL_APP_DATA
                 : ev == DTLS_EVENT_HANDSHAKE_COMPLETE ? PETREL_HANDSHAKE_COMPLETE
                 : ev == DTLS_EVENT_ALERT              ? PETREL_RECEIVED_ALERT
                                                       : PETREL_SUCCESS;
        return rc;
    }
    tls_event ev;
    size_t used;
    int rc = tls_read_next(&conn->tls, conn->readbuf + conn->in_pos, conn->in_len - conn->in_pos,
                           &used, &ev, d, n);
    conn->in_pos += used;
    *event = ev == TLS_EVENT_APP_DATA             ? PETREL_APP_DATA
             : ev == TLS_EVENT_HANDSHAKE_COMPLETE ? PETREL_HANDSHAKE_COMPLETE
             : ev == TLS_EVENT_ALERT              ? PETREL_RECEIVED_ALERT
                                                  : PETREL_SUCCESS;
    return rc;
}

static const uint8_t *last_alert(const petrel_conn *conn)
{
    if (is_stream(conn))
        return conn->tls.have_alert ? conn->tls.last_alert : NULL;
    return conn->dtls.have_alert ? conn->dtls.last_alert : NULL;
}

/* Runs the record layer over the input until it has something to report. */
static int process(petrel_conn *conn, const uint8_t **data, size_t *len)
{
    const uint8_t *d = NULL;
    size_t n = 0;
    int event;
    if (conn->error)
        return conn->error;
    int rc = next_event(conn, &event, &d, &n);
    if (rc < 0)
        return fail(conn, rc);
    if (data)
        *data = d;
    if (len)
        *len = n;
    if (event == PETREL_RECEIVED_ALERT) {
        /* RFC 5246 §7.2.1: answer close_notify with close_notify. */
        if (last_alert(conn)[1] == 0 && !conn->close_received) {
            conn->close_received = true;
            if (!conn->close_sent && write_alert(conn, 1, 0) == 0)
                conn->close_sent = true;
        }
    }
    if (event != PETREL_SUCCESS)
        return event;
    return pending_status(conn);
}

int petrel_received(petrel_conn *conn, size_t n, const uint8_t **data, size_t *len)
{
    if (!conn)
        return PETREL_ERR_ARG;
    if (conn->error)
        return conn->error;
    if (is_stream(conn)) {
        if (n > CONN_READBUF_LEN - conn->in_len)
            return PETREL_ERR_ARG;
        conn->in_len += n;
    } else {
        if (n > CONN_READBUF_LEN)
            return PETREL_ERR_ARG;
        conn->dtls.stats.datagrams_received++;
        conn->input = cursor_reader_init(conn->readbuf, n);
    }
    return process(conn, data, len);
}

int petrel_processed(petrel_conn *conn, const uint8_t **data, size_t *len)
{
    if (!conn)
        return PETREL_ERR_ARG;
    return process(conn, data, len);
}

int petrel_received_eof(petrel_conn *conn)
{
    if (!conn)
        return PETREL_ERR_ARG;
    if (!is_stream(conn))
        return PETREL_ERR_STATE;
    if (conn->close_received)
        return 0;
    if (conn->error)
        return conn->error;
    /* INFO, not WARNING: clients that just drop the connection are common,
     * and the application gets the error to act on. */
    platform_log(&conn->cfg->platform, PETREL_LOG_INFO, "the stream ended without close_notify%s",
                 conn->in_len > conn->in_pos ? ", inside a record" : "");
    return fail(conn, PETREL_ERR_TRUNCATION);
}

int petrel_get_outdata(petrel_conn *conn, const uint8_t **buf)
{
    if (!conn || !buf)
        return PETREL_ERR_ARG;
    size_t n = is_stream(conn) ? tls_out_peek(&conn->tls, buf) : dtls_out_peek(&conn->dtls, buf);
    return (int)n;
}

int petrel_sent(petrel_conn *conn, size_t n)
{
    const uint8_t *buf;
    if (!conn)
        return PETREL_ERR_ARG;
    if (is_stream(conn)) {
        if (n == 0 || n > tls_out_pending(&conn->tls))
            return PETREL_ERR_ARG;
        tls_out_consume(&conn->tls, n);
        return output_pending(conn) ? PETREL_REQUEST_SEND : PETREL_SUCCESS;
    }
    size_t pending = dtls_out_peek(&conn->dtls, &buf);
    /* A datagram goes out whole or not at all. */
    if (pending == 0 || n != pending)
        return PETREL_ERR_ARG;
    dtls_out_pop(&conn->dtls);
    return output_pending(conn) ? PETREL_REQUEST_SEND : PETREL_SUCCESS;
}

static int ready_for_app_data(const petrel_conn *conn)
{
    if (conn->error)
        return conn->error;
    if (!conn->hs.established || conn->close_sent)
        return PETREL_ERR_STATE;
    return 0;
}

int petrel_encode_to_outdata(petrel_conn *conn, const uint8_t *data, size_t len)
{
    if (!conn || (len && !data))
        return PETREL_ERR_ARG;
    PETREL_TRY(ready_for_app_data(conn));
    if (!is_stream(conn)) {
        PETREL_TRY(dtls_write_app_data(&conn->dtls, data, len));
        return PETREL_REQUEST_SEND;
    }
    /* On a stream, nothing is nothing: no empty record is sent. */
    PETREL_TRY(tls_write_app_data(&conn->tls, data, len));
    return output_pending(conn) ? PETREL_REQUEST_SEND : PETREL_SUCCESS;
}

int petrel_get_writebuf(petrel_conn *conn, uint8_t **buf)
{
    size_t cap;
    if (!conn || !buf)
        return PETREL_ERR_ARG;
    PETREL_TRY(ready_for_app_data(conn));
    if (is_stream(conn))
        PETREL_TRY(tls_writebuf(&conn->tls, buf, &cap));
    else
        PETREL_TRY(dtls_writebuf(&conn->dtls, buf, &cap));
    return (int)cap;
}

int petrel_encode_writebuf(petrel_conn *conn, size_t len)
{
    if (!conn)
        return PETREL_ERR_ARG;
    PETREL_TRY(ready_for_app_data(conn));
    if (is_stream(conn))
        PETREL_TRY(tls_writebuf_commit(&conn->tls, len));
    else
        PETREL_TRY(dtls_writebuf_commit(&conn->dtls, len));
    return PETREL_REQUEST_SEND;
}

int petrel_max_payload(const petrel_conn *conn)
{
    if (!conn)
        return PETREL_ERR_ARG;
    return is_stream(conn) ? TLS_MAX_PLAINTEXT : (int)dtls_max_payload(&conn->dtls);
}

int petrel_close_notify(petrel_conn *conn)
{
    if (!conn)
        return PETREL_ERR_ARG;
    if (conn->error)
        return conn->error;
    if (conn->close_sent)
        return PETREL_ERR_STATE;
    PETREL_TRY(write_alert(conn, 1, 0));
    conn->close_sent = true;
    return PETREL_REQUEST_SEND;
}

int64_t petrel_next_timeout(const petrel_conn *conn)
{
    if (!conn || conn->error || is_stream(conn) || !conn->dtls.timer.deadline)
        return -1;
    uint64_t now = platform_now_ms(&conn->cfg->platform);
    uint64_t deadline = conn->dtls.timer.deadline;
    return deadline > now ? (int64_t)(deadline - now) : 0;
}

int petrel_handle_timeout(petrel_conn *conn)
{
    if (!conn)
        return PETREL_ERR_ARG;
    if (conn->error)
        return conn->error;
    if (is_stream(conn))
        return PETREL_SUCCESS; /* a stream has no timers */
    int rc = dtls_handle_timeout(&conn->dtls, platform_now_ms(&conn->cfg->platform));
    if (rc < 0)
        return fail(conn, rc);
    return output_pending(conn) ? PETREL_REQUEST_SEND : PETREL_SUCCESS;
}

int petrel_retransmit(petrel_conn *conn)
{
    if (!conn)
        return PETREL_ERR_ARG;
    if (conn->error)
        return conn->error;
    if (is_stream(conn))
        return PETREL_ERR_STATE;
    size_t before = conn->dtls.dgram_count;
    int rc = dtls_retransmit_now(&conn->dtls, platform_now_ms(&conn->cfg->platform));
    if (rc < 0)
        return fail(conn, rc);
    return conn->dtls.dgram_count > before ? PETREL_REQUEST_SEND : PETREL_SUCCESS;
}

int petrel_set_message_per_datagram(petrel_conn *conn, bool on)
{
    if (!conn)
        return PETREL_ERR_ARG;
    if (is_stream(conn))
        return PETREL_ERR_STATE;
    conn->dtls.message_per_datagram = on;
    return 0;
}

int petrel_set_pmtu(petrel_conn *conn, size_t pmtu)
{
    if (!conn || pmtu < DTLS_MIN_PMTU || pmtu > DTLS_MAX_PMTU)
        return PETREL_ERR_ARG;
    /* Queued datagrams were cut for the old size; only later ones change.
     * A stream has no PMTU. */
    if (is_stream(conn) || conn->dtls.dgram_count)
        return PETREL_ERR_STATE;
    conn->dtls.pmtu = pmtu;
    return 0;
}

bool petrel_handshake_complete(const petrel_conn *conn)
{
    return conn && conn->hs.established;
}

bool petrel_renegotiating(const petrel_conn *conn)
{
    return conn && conn->hs.established && !hs_is_complete(&conn->hs);
}

int petrel_renegotiate(petrel_conn *conn)
{
    if (!conn)
        return PETREL_ERR_ARG;
    if (conn->error)
        return conn->error;
    if (conn->close_sent || conn->close_received)
        return PETREL_ERR_STATE;
    int rc = hs_renegotiate(&conn->hs);
    if (rc == PETREL_ERR_STATE || rc == PETREL_ERR_UNSUPPORTED)
        return rc; /* nothing was sent: the connection goes on */
    if (rc < 0)
        return fail(conn, rc);
    return PETREL_REQUEST_SEND;
}

petrel_mode petrel_conn_mode(const petrel_conn *conn)
{
    return conn ? conn->mode : PETREL_DATAGRAM;
}

bool petrel_peer_closed(const petrel_conn *conn)
{
    return conn && conn->close_received;
}

/* The suite in force; before the first handshake completes, the one
 * the ServerHello chose. */
static const hs_suite *current_suite(const petrel_conn *conn)
{
    if (!conn)
        return NULL;
    return conn->hs.established ? conn->hs.established_suite : conn->hs.suite;
}

uint16_t petrel_cipher_suite(const petrel_conn *conn)
{
    const hs_suite *suite = current_suite(conn);
    return suite ? suite->id : 0;
}

const char *petrel_cipher_suite_name(const petrel_conn *conn)
{
    const hs_suite *suite = current_suite(conn);
    return suite ? suite->name : NULL;
}

uint16_t petrel_protocol_version(const petrel_conn *conn)
{
    return conn && conn->hs.suite ? conn->hs.version : 0;
}

size_t petrel_psk_identity(const petrel_conn *conn, const uint8_t **identity)
{
    if (identity)
        *identity = NULL;
    if (!conn || !conn->hs.suite || !hs_kx_is_psk(conn->hs.suite->kx) ||
        conn->hs.psk.identity_len == 0)
        return 0;
    if (identity)
        *identity = conn->hs.psk.identity;
    return conn->hs.psk.identity_len;
}

void petrel_get_stats(const petrel_conn *conn, petrel_conn_stats *stats)
{
    if (!conn || !stats)
        return;
    memset(stats, 0, sizeof(*stats));
    if (is_stream(conn)) {
        stats->records_accepted = conn->tls.stats.records_received;
        return;
    }
    const dtls_stats *s = &conn->dtls.stats;
    stats->datagrams_sent = s->datagrams_sent;
    stats->datagrams_received = s->datagrams_received;
    stats->records_accepted = s->records_accepted;
    stats->records_dropped = s->records_dropped;
    stats->bytes_dropped = s->bytes_dropped;
    stats->retransmissions = s->retransmissions;
    stats->rtt_ms = conn->dtls.timer.have_rtt ? conn->dtls.timer.rtt_ms : 0;
}

int petrel_conn_error(const petrel_conn *conn)
{
    return conn ? conn->error : PETREL_ERR_ARG;
}

bool petrel_last_alert(const petrel_conn *conn, int *level, int *description)
{
    const uint8_t *alert = conn ? last_alert(conn) : NULL;
    if (!alert)
        return false;
    if (level)
        *level = alert[0];
    if (description)
        *description = alert[1];
    return true;
}

void petrel_conn_set_app_data(petrel_conn *conn, void *data)
{
    if (conn)
        conn->app_data = data;
}

void *petrel_conn_app_data(const petrel_conn *conn)
{
    return conn ? conn->app_data : NULL;
}

size_t petrel_conn_memory(const petrel_conn *conn)
{
    if (!conn)
        return 0;
    /* The peer's certificates are kept for petrel_peer_certificate. */
    size_t chain = conn->hs.peer_chain_offsets[conn->hs.peer_chain_count];
    size_t layer = is_stream(conn) ? tls_layer_memory(&conn->tls) - sizeof(conn->tls)
                                   : dtls_layer_memory(&conn->dtls) - sizeof(conn->dtls);
    size_t hello_ext = conn->hello_ext ? HS_APP_EXT_MAX : 0;
    return sizeof(*conn) + CONN_READBUF_LEN + layer + chain + hello_ext;
}

int petrel_export_master_secret(const petrel_conn *conn, uint8_t out[48])
{
    if (!conn || !out)
        return PETREL_ERR_ARG;
    if (conn->hs.state != HS_DONE && conn->hs.state != HS_CLIENT_WAIT_CCS &&
        conn->hs.state != HS_CLIENT_WAIT_FINISHED && conn->hs.state != HS_SERVER_WAIT_CCS &&
        conn->hs.state != HS_SERVER_WAIT_FINISHED)
        return PETREL_ERR_STATE;
    memcpy(out, conn->hs.master, HS_MASTER_SECRET_LEN);
    return 0;
}
