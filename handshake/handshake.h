/*
 * The shared handshake core: one state table for TLS 1.2 and DTLS 1.2,
 * client and server. It knows nothing of datagrams or streams beyond what
 * the record-layer interface (hs_record_ops) tells it: the record layer
 * frames and sends messages, switches epochs, and hands complete messages
 * back in order.
 */
#ifndef PETREL_HANDSHAKE_HANDSHAKE_H
#define PETREL_HANDSHAKE_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <petrel/petrel.h>

#include "crypto/provider.h"
#include "handshake/keys.h"
#include "handshake/messages.h"
#include "handshake/suites.h"

#define HS_PSK_IDENTITY_STORE_MAX 128
#define HS_MAX_GROUPS             4
#define HS_MAX_SIG_SCHEMES        16 /* kept from the peer's list */
#define HS_MAX_PINNED_KEYS        16
#define HS_DEFAULT_VERIFY_DEPTH   8
/* Client: the bytes of the application's own ClientHello extensions
 * (petrel_conn_add_hello_extension), 4-byte headers included. */
#define HS_APP_EXT_MAX PETREL_HELLO_EXT_MAX

typedef struct hs_psk_entry {
    uint8_t identity[HS_PSK_IDENTITY_STORE_MAX];
    size_t identity_len;
    uint8_t key[HS_PSK_MAX];
    size_t key_len;
} hs_psk_entry;

/* The handshake's part of a petrel_config (read-only during handshakes). */
typedef struct hs_config {
    const crypto_provider *prov;
    uint16_t suites[HS_MAX_SUITES];
    size_t suite_count;
    uint16_t groups[HS_MAX_GROUPS];
    size_t group_count;

    /* Client: the identity and key it offers. */
    hs_psk_entry client_psk;
    bool has_client_psk;

    /* Server: a static table, then the callback. */
    hs_psk_entry *psk_table;
    size_t psk_table_count;
    petrel_psk_lookup_fn psk_lookup;
    void *psk_lookup_ref;
    uint8_t psk_hint[HS_PSK_IDENTITY_STORE_MAX];
    size_t psk_hint_len;

    /* Certificates (conn/cert_config.c loads them). own_chain[0] is the
     * leaf; the DER lives in one allocation, chain_der. */
    uint8_t *chain_der;
    const uint8_t *own_chain[HS_MAX_CHAIN];
    size_t own_chain_lens[HS_MAX_CHAIN];
    size_t own_chain_count;
    crypto_pkey *own_key; /* the private key */
    crypto_trust *trust;  /* trusted CAs, or NULL */
    petrel_verify_mode verify_mode;
    bool verify_mode_set; /* else the role's default */
    unsigned max_depth;
    petrel_cert_verify_fn cert_callback;
    void *cert_callback_ref;
    char server_name[HS_HOST_NAME_MAX + 1]; /* "" for none */

    /* Renegotiations the peer asks for (RFC 5746 only) are accepted;
     * else refused with a no_renegotiation warning. */
    bool accept_renegotiation;

    /* Raw public keys (RFC 7250). */
    bool raw_public_keys;
    crypto_pkey *pinned[HS_MAX_PINNED_KEYS];
    size_t pinned_count;
} hs_config;

typedef enum hs_flight_kind {
    HS_FLIGHT_EXPECT_REPLY, /* retransmit on timer until the peer answers */
    HS_FLIGHT_FINAL,        /* no timer; resend when the peer repeats itself */
} hs_flight_kind;

/* What the core needs from a record layer (dtls/ or tls/). */
typedef struct hs_record_ops {
    /* Frames a handshake message (in DTLS: assigns message_seq) and adds it
     * to the flight being built. *framed / *framed_len receive the message
     * as the transcript hashes it (valid until the next call). */
    int (*send_message)(void *rl, uint8_t type, const uint8_t *body, size_t len,
                        const uint8_t **framed, size_t *framed_len);
    /* Adds ChangeCipherSpec to the flight; the messages after it use the
     * keys given next to set_write_cipher. */
    int (*send_change_cipher_spec)(void *rl);
    int (*set_write_cipher)(void *rl, const hs_suite *suite, const hs_traffic_keys *keys);
    /* The peer's ChangeCipherSpec has been accepted: read the next epoch
     * with these keys. */
    int (*set_read_cipher)(void *rl, const hs_suite *suite, const hs_traffic_keys *keys);
    /* The flight is complete: send it. */
    int (*flight_done)(void *rl, hs_flight_kind kind);
    /* The handshake finished (stop retransmitting). */
    void (*handshake_complete)(void *rl);
    /* A renegotiation starts (RFC 5746): forget the last handshake's
     * flight. local: this side starts it (it sends the first message, and
     * the peer's next message is the first of its new handshake); else the
     * record layer has just handed over the peer's first message. */
    void (*new_handshake)(void *rl, bool local);
    /* The peer refused the renegotiation this side asked for: stop
     * waiting for its answer. */
    void (*handshake_abandoned)(void *rl);
} hs_record_ops;

typedef enum hs_state {
    HS_CLIENT_START,
    HS_CLIENT_WAIT_SERVER_HELLO,
    HS_CLIENT_WAIT_CERTIFICATE_OR_KEY_EXCHANGE,
    HS_CLIENT_WAIT_KEY_EXCHANGE,
    HS_CLIENT_WAIT_CERT_REQUEST_OR_DONE,
    HS_CLIENT_WAIT_HELLO_DONE,
    HS_CLIENT_WAIT_CCS,
    HS_CLIENT_WAIT_FINISHED,
    HS_SERVER_WAIT_CLIENT_HELLO,
    HS_SERVER_WAIT_CERTIFICATE_OR_KEY_EXCHANGE,
    HS_SERVER_WAIT_KEY_EXCHANGE,
    HS_SERVER_WAIT_CERTIFICATE_VERIFY,
    HS_SERVER_WAIT_CCS,
    HS_SERVER_WAIT_FINISHED,
    HS_DONE,
    HS_STATE_COUNT
} hs_state;

/* RFC 5246 §7.2.2: the warning that refuses a renegotiation. */
#define HS_ALERT_NO_RENEGOTIATION 100

/* The pseudo message type the table uses for ChangeCipherSpec. */
#define HS_MSG_CHANGE_CIPHER_SPEC 256

typedef struct hs_ctx {
    const hs_config *cfg;
    const petrel_platform *platform;
    const hs_record_ops *ops;
    void *rl;
    bool is_server;
    bool datagram;
    uint16_t version; /* the wire version: DTLS 1.2 or TLS 1.2 */
    hs_state state;
    /* The suites this connection offers or accepts, in preference order:
     * the config's, unless petrel_conn_set_suites narrowed them. */
    uint16_t suites[HS_MAX_SUITES];
    size_t suite_count;
    /* The certificate callback: the config's, unless
     * petrel_conn_set_cert_callback replaced it. */
    petrel_cert_verify_fn cert_callback;
    void *cert_callback_ref;
    /* Client: the application's ClientHello extensions, encoded as on the
     * wire (type, u16 length, data) and sent after petrel's own; the
     * buffer (HS_APP_EXT_MAX bytes) belongs to the connection. NULL/0
     * when there are none. */
    const uint8_t *app_ext;
    size_t app_ext_len;
    /* Client: sees every ServerHello extension
     * (petrel_conn_set_hello_ext_callback); NULL for none. */
    petrel_hello_ext_fn hello_ext_callback;
    void *hello_ext_callback_ref;

    const hs_suite *suite;
    /* A handshake has completed: application data may flow, also while a
     * renegotiation runs. */
    bool established;
    bool renegotiating; /* a handshake after the first is running */
    /* The suite of the keys in force (hs->suite is the new handshake's). */
    const hs_suite *established_suite;
    uint8_t client_random[HS_RANDOM_LEN];
    uint8_t server_random[HS_RANDOM_LEN];
    crypto_hash_ctx *transcript[CRYPTO_HASH_COUNT]; /* both until the suite is known */
    bool extended_master_secret;
    bool secure_renegotiation;
    uint8_t master[HS_MASTER_SECRET_LEN];
    hs_traffic_keys client_keys;
    hs_traffic_keys server_keys;

    hs_psk_entry psk; /* the identity and key in use */
    uint16_t group;   /* the ECDHE group */
    crypto_kex_key *kex_key;
    uint8_t peer_public[CRYPTO_KEX_MAX_PUBLIC_LEN];
    size_t peer_public_len;
    bool have_server_key_exchange;

    uint8_t cookie[HS_COOKIE_MAX]; /* client: from HelloVerifyRequest */
    size_t cookie_len;
    unsigned hello_verify_count;
    uint8_t client_verify_data[HS_VERIFY_DATA_LEN];
    uint8_t server_verify_data[HS_VERIFY_DATA_LEN];

    /* Certificates. */
    char server_name[HS_HOST_NAME_MAX + 1];        /* client: the name to check and send */
    uint16_t peer_sig_schemes[HS_MAX_SIG_SCHEMES]; /* server: from signature_algorithms */
    size_t peer_sig_scheme_count;
    bool peer_sent_sig_schemes;
    uint8_t server_cert_type; /* HS_CERT_TYPE_X509 or _RAW_PUBLIC_KEY */
    uint8_t client_cert_type;
    bool echo_server_cert_type; /* server: answer the extension */
    bool echo_client_cert_type;
    bool cert_requested; /* server: sent CertificateRequest; client: got one */
    /* petrel_conn_set_verify: this connection's mode, over the config's. */
    bool conn_verify_set;
    petrel_verify_mode conn_verify;
    uint16_t cr_sig_schemes[HS_MAX_SIG_SCHEMES]; /* client: from CertificateRequest */
    size_t cr_sig_scheme_count;
    bool cr_key_type_ok; /* client: certificate_types names our key's kind */
    bool peer_sent_cert; /* a non-empty Certificate arrived */
    bool peer_anonymous;
    crypto_pkey *peer_key;   /* the peer's leaf (or raw) public key */
    uint8_t *peer_chain_der; /* copies of the peer's certificates */
    size_t peer_chain_offsets[HS_MAX_CHAIN + 1];
    size_t peer_chain_count;
    petrel_conn *conn; /* handed to the certificate callback */
    /* The alert the certificate callback chose (sent instead of the
     * error's own), 0 for none. */
    int alert;

    /* The message being handled, framed (for handlers that hash it late). */
    const uint8_t *message;
    size_t message_len;
} hs_ctx;

PETREL_MUST_CHECK int hs_init(hs_ctx *hs, const hs_config *cfg, const petrel_platform *platform,
                              const hs_record_ops *ops, void *rl, bool is_server, bool datagram);
void hs_free(hs_ctx *hs);

/* Client: sends the first ClientHello. */
PETREL_MUST_CHECK int hs_start(hs_ctx *hs);

/* Client: whether the application may add extension `type` with len
 * bytes of data to hs->app_ext: PETREL_ERR_ARG for a type petrel writes
 * itself or one added already, PETREL_ERR_UNSUPPORTED for one whose
 * answer petrel cannot handle, PETREL_ERR_LIMIT when the total would pass
 * HS_APP_EXT_MAX. Logs the reason at warning level. */
PETREL_MUST_CHECK int hs_client_check_app_extension(const hs_ctx *hs, uint16_t type, size_t len);

/*
 * One complete handshake message, in order: framed is the message as the
 * transcript hashes it (header included), body its body. Returns 0 or a
 * negative error whose alert (petrel_error_alert) ends the handshake.
 */
PETREL_MUST_CHECK int hs_handle_message(hs_ctx *hs, uint8_t type, const uint8_t *framed,
                                        size_t framed_len, const uint8_t *body, size_t body_len);
/* The peer's ChangeCipherSpec. */
PETREL_MUST_CHECK int hs_handle_change_cipher_spec(hs_ctx *hs);

/* No handshake is running (the first one completed, and no
 * renegotiation is in progress). */
bool hs_is_complete(const hs_ctx *hs);

/* No hello of the coming handshake has been written or read yet (before
 * the first, or between two): per-connection settings for it may change. */
bool hs_may_configure(const hs_ctx *hs);

/* RFC 5746 secure renegotiation (handshake/renegotiation.c). */

/* This side starts a new handshake on an established connection: a
 * client sends a ClientHello, a server a HelloRequest. PETREL_ERR_STATE
 * while a handshake runs or before the first completed;
 * PETREL_ERR_UNSUPPORTED when the peer did not signal RFC 5746. */
PETREL_MUST_CHECK int hs_renegotiate(hs_ctx *hs);

/* What to do with a handshake message that arrived while no handshake
 * runs (hs_is_complete): */
enum {
    HS_POST_REFUSE = 0,  /* answer with a no_renegotiation warning; drop it */
    HS_POST_HANDLED = 1, /* a HelloRequest: the client's new ClientHello is queued */
    HS_POST_DELIVER = 2, /* a ClientHello starting a renegotiation: hs_handle_message it */
};
/* Returns one of those, or PETREL_ERR_UNEXPECTED_MESSAGE / _LENGTH. */
PETREL_MUST_CHECK int hs_post_handshake_message(hs_ctx *hs, uint8_t type, size_t body_len);

/* The renegotiation this side asked for got no answer: the peer refused
 * (no_renegotiation), or a client ignored our HelloRequest (RFC 5246
 * §7.4.1.1 lets it). While this side still waits for the peer's first
 * message, goes back to the established state with the keys unchanged,
 * logs why and returns true; else false (nothing changes). */
bool hs_renegotiation_abandon(hs_ctx *hs, const char *why);

/* Called by the Finished handlers: the handshake completed. */
void hs_handshake_done(hs_ctx *hs);
/* True while the state table would accept a ChangeCipherSpec now. */
bool hs_expects_change_cipher_spec(const hs_ctx *hs);
const char *hs_state_name(hs_state state);

/* The table, for tests and for generating docs. */
typedef int (*hs_handler_fn)(hs_ctx *hs, const uint8_t *body, size_t len);
/* A row applies only when its guard (if any) holds: optional messages
 * whose presence depends on the suite or on an earlier message. */
typedef bool (*hs_guard_fn)(const hs_ctx *hs);
typedef struct hs_transition {
    hs_state state;
    int message; /* HandshakeType, or HS_MSG_CHANGE_CIPHER_SPEC */
    hs_guard_fn guard;
    const char *guard_name; /* for docs; NULL with guard */
    hs_handler_fn handler;
    hs_state next;
    bool datagram_only;
} hs_transition;

extern const hs_transition hs_table[];
extern const size_t hs_table_len;

#endif
