/*
 * petrel: a DTLS-first datagram security library.
 *
 * This is the one public header of the native API. It includes the topic
 * headers (errors, platform hooks) and declares the library-wide calls.
 * Every function that returns int follows petrel/error.h: 0 or a positive
 * status on success, a negative PETREL_ERR_* code on failure.
 */
#ifndef PETREL_PETREL_H
#define PETREL_PETREL_H

#include <petrel/cert.h>
#include <petrel/error.h>
#include <petrel/platform.h>
#include <petrel/version.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <petrel/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version string ("0.1.0"), which may differ from the
 * PETREL_VERSION the caller was compiled against. */
PETREL_API const char *petrel_version(void);

/* A one-line description of the crypto backend petrel was built with,
 * including the backend library's own version ("OpenSSL 3.0.19 ..."). */
PETREL_API const char *petrel_crypto_backend(void);

/* Called once per self-test check with the check's name ("HMAC-SHA256
 * RFC 4231 #2") and its result (0 or a negative PETREL_ERR_* code). */
typedef void (*petrel_selftest_report_fn)(void *ref, const char *check, int result);

/*
 * Runs the crypto backend's known-answer self-test: one published vector
 * for every primitive petrel uses (AEADs, hashes, HMAC, the TLS 1.2 PRF,
 * HKDF, X25519, P-256 ECDH), plus a sign/verify round trip for ECDSA.
 * `report` may be NULL. Returns 0 when every check passes, otherwise the
 * error of the first check that failed (all checks still run).
 */
PETREL_API int petrel_crypto_selftest(petrel_selftest_report_fn report, void *ref);

/* ======================================================================
 * Configuration: shared by many connections (like SSL_CTX or an SSLRef
 * template). Set it up, then create connections from it; a config MUST NOT
 * be changed while connections use it, and MUST outlive them.
 * ====================================================================== */

typedef struct petrel_config petrel_config;
typedef struct petrel_conn petrel_conn;

typedef enum petrel_role {
    PETREL_CLIENT,
    PETREL_SERVER,
} petrel_role;

/*
 * The connection's transport, chosen at petrel_conn_new and fixed for its
 * life; it is the only difference the application sees between DTLS and
 * TLS. The handshake, suites, credentials and calls are the same.
 */
typedef enum petrel_mode {
    PETREL_DATAGRAM, /* DTLS 1.2 over UDP-like datagrams */
    PETREL_STREAM,   /* TLS 1.2 over a reliable byte stream (TCP) */
} petrel_mode;

/*
 * Server PSK lookup: copy the key for `identity` into psk (at most psk_cap
 * bytes) and return its length (1..psk_cap); return 0 (or a negative
 * value) when the identity is unknown, which ends the handshake with
 * unknown_psk_identity.
 */
typedef int (*petrel_psk_lookup_fn)(void *ref, const uint8_t *identity, size_t identity_len,
                                    uint8_t *psk, size_t psk_cap);

/* A new config with the defaults: the suites TLS_PSK_WITH_AES_128_CCM_8,
 * _AES_128_GCM_SHA256, _AES_256_GCM_SHA384, _CHACHA20_POLY1305_SHA256,
 * TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256, then
 * TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, _AES_128_GCM_SHA256,
 * _AES_256_GCM_SHA384, _CHACHA20_POLY1305_SHA256, _AES_128_CCM and
 * TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, _AES_256_GCM_SHA384,
 * _CHACHA20_POLY1305_SHA256 (each side uses only those it has credentials
 * for: petrel/cert.h); groups x25519, secp256r1, secp384r1; PMTU 1232;
 * retransmission timer 1 s doubling to 60 s, 7 retransmissions; replay
 * window 128.
 * platform may be NULL (petrel_platform_default()); it is copied. Returns
 * NULL when out of memory. */
PETREL_API petrel_config *petrel_config_new(const petrel_platform *platform);
PETREL_API void petrel_config_free(petrel_config *cfg);

/* Client: the PSK identity and key to offer (key 1..256 bytes, identity
 * 1..128 bytes). Server: adds the pair to the static table. */
PETREL_API int petrel_config_set_psk(petrel_config *cfg, const uint8_t *identity,
                                     size_t identity_len, const uint8_t *key, size_t key_len);
/* Server: looks identities up through fn when the table has no match. */
PETREL_API int petrel_config_set_psk_lookup(petrel_config *cfg, petrel_psk_lookup_fn fn, void *ref);
/* Server: the identity hint sent in ServerKeyExchange (none by default). */
PETREL_API int petrel_config_set_psk_hint(petrel_config *cfg, const uint8_t *hint, size_t len);

/* The cipher suites to offer or accept, by IANA id, in preference order.
 * PETREL_ERR_INSECURE for a suite petrel refuses (RC4, 3DES, NULL, export,
 * static RSA, ...), PETREL_ERR_UNSUPPORTED for one it does not implement. */
PETREL_API int petrel_config_set_suites(petrel_config *cfg, const uint16_t *suites, size_t count);

/* The ECDHE groups to offer or accept (TLS NamedGroup ids), in preference
 * order: x25519 (0x001d), secp256r1 (0x0017), secp384r1 (0x0018), which is
 * also the default. PETREL_ERR_UNSUPPORTED for any other. */
PETREL_API int petrel_config_set_groups(petrel_config *cfg, const uint16_t *groups, size_t count);

/* Datagram payload limit: every datagram petrel produces fits it. 200 ..
 * 16384; default 1232. */
PETREL_API int petrel_config_set_pmtu(petrel_config *cfg, size_t pmtu);

/*
 * Retransmission timer: the first wait (default 1000 ms, as RFC 6347
 * recommends), its cap (60000 ms) and the number of retransmissions of one
 * flight before PETREL_ERR_HANDSHAKE_TIMEOUT (7). rtt_min_ms (100): once a
 * round trip has been measured, a new flight waits max(3 x RTT,
 * rtt_min_ms). 0 leaves a value unchanged.
 */
PETREL_API int petrel_config_set_timers(petrel_config *cfg, uint32_t initial_ms, uint32_t max_ms,
                                        uint32_t max_retransmits, uint32_t rtt_min_ms);

/*
 * The lossy-link profile, for deployments that know their links drop many
 * datagrams (radio, satellite, congested tunnels). With the RFC defaults a
 * lost datagram costs 1 s, then 2, 4, 8 s...; this profile trades a few
 * more retransmitted datagrams for handshakes that finish in a few round
 * trips. rtt_hint_ms is the expected round trip (0: 100 ms). It sets the
 * first wait to 2 x the hint (at least 50 ms), caps the back-off at 2 x
 * the first wait, waits 2 x the measured RTT once known, and allows 30
 * retransmissions per flight. It departs from RFC 6347's recommended 1 s
 * initial timer on purpose; the defaults keep it.
 */
PETREL_API int petrel_config_set_lossy_link_profile(petrel_config *cfg, uint32_t rtt_hint_ms);

/*
 * Memory limits per connection, against peers that announce huge messages
 * or scatter fragments: the longest handshake message accepted
 * (max_message, default 16384 bytes, at least 256) and the bytes held for
 * reassembly at once (max_reassembly, default 65536, at least
 * max_message). Fragments beyond them are dropped. 0 leaves a value
 * unchanged.
 */
PETREL_API int petrel_config_set_limits(petrel_config *cfg, size_t max_message,
                                        size_t max_reassembly);

/* Anti-replay window width in records (64 .. 1024, default 128). */
PETREL_API int petrel_config_set_replay_window(petrel_config *cfg, unsigned records);

/* Renegotiations the peer asks for (a client's new ClientHello, a
 * server's HelloRequest): accept (true) those of peers that signalled
 * RFC 5746 secure renegotiation, or refuse them all with a
 * no_renegotiation warning (false, the default), after which the
 * connection goes on with its keys. Legacy (insecure) renegotiation is
 * never done. Each renegotiation is a full handshake: a peer that asks
 * often costs CPU, so servers facing untrusted clients leave this off. */
PETREL_API int petrel_config_set_renegotiation(petrel_config *cfg, bool accept);

/* Server: replaces the cookie secret; cookies under the previous secret
 * stay valid until the next rotation. Call it periodically (the UDP server
 * adapter does, every minute). */
PETREL_API int petrel_config_rotate_cookie_secret(petrel_config *cfg);

/*
 * Server, before any connection exists for a peer: the stateless cookie
 * check of RFC 6347 §4.2.1. peer_id identifies the peer (its address bytes,
 * up to 64) exactly as it will be given to petrel_conn_new. Returns 1 when
 * the datagram starts with a ClientHello carrying a valid cookie: create a
 * connection and give it this datagram. Returns 0 when it is a ClientHello
 * without a valid cookie: send the HelloVerifyRequest petrel wrote to
 * reply (*reply_len bytes; reply_cap of 128 is enough) and keep nothing.
 * Returns a negative error for anything else: drop the datagram. It
 * allocates nothing, so a flood of forged hellos costs no memory.
 */
PETREL_API int petrel_server_check_hello(const petrel_config *cfg, const uint8_t *peer_id,
                                         size_t peer_id_len, const uint8_t *datagram, size_t len,
                                         uint8_t *reply, size_t reply_cap, size_t *reply_len);

/* ======================================================================
 * Connections: the sans-I/O engine. petrel never reads or writes a socket;
 * the application (or petrel's transport adapters) moves the bytes:
 *
 *   receive: petrel_get_readbuf -> copy one datagram in -> petrel_received
 *            -> act on the status -> petrel_processed while it says more
 *   send:    while petrel_get_outdata gives a datagram: send it, petrel_sent
 *   time:    wait at most petrel_next_timeout ms; then petrel_handle_timeout
 *
 * In PETREL_STREAM mode the same calls carry a byte stream instead:
 *
 *   receive: copy any number of stream bytes (1 .. what get_readbuf
 *            offers) in; records split across reads are kept until they
 *            are whole, and several records in one read are handed out one
 *            event at a time (petrel_processed). When the stream ends
 *            (recv returned 0), call petrel_received_eof.
 *   send:    get_outdata gives every byte waiting; send what the socket
 *            takes and report that count to petrel_sent (a partial send is
 *            fine; the rest stays queued).
 *   time:    no timers: petrel_next_timeout is -1.
 * ====================================================================== */

/* Stream mode: the most outdata that may wait unsent (4 MiB). */
#define PETREL_STREAM_OUT_MAX (4u * 1024 * 1024)

/* Status codes (>= 0) returned by the engine calls. */
typedef enum petrel_status {
    PETREL_SUCCESS = 0,            /* nothing to report */
    PETREL_REQUEST_SEND = 1,       /* outdata is waiting: get_outdata / sent */
    PETREL_REQUEST_RECV = 2,       /* need more data from the peer */
    PETREL_HANDSHAKE_COMPLETE = 3, /* the handshake just finished */
    PETREL_APP_DATA = 4,           /* application data is available */
    PETREL_RECEIVED_ALERT = 5,     /* an alert arrived (see petrel_last_alert) */
} petrel_status;

/* A connection from cfg. For a server, peer_id identifies the peer (its
 * address as bytes, up to 64) and binds the cookie to it; a client passes
 * NULL/0. Returns NULL when out of memory or on bad arguments. */
PETREL_API petrel_conn *petrel_conn_new(const petrel_config *cfg, petrel_role role,
                                        petrel_mode mode, const uint8_t *peer_id,
                                        size_t peer_id_len);
PETREL_API void petrel_conn_free(petrel_conn *conn);

/* This connection's own suite list, replacing the config's (same rules as
 * petrel_config_set_suites), for example to force one suite as
 * MatrixSSL's cipherSuite argument does. Only before a handshake starts:
 * a client before petrel_connect, a server before its first ClientHello,
 * or between handshakes for the next renegotiation (else
 * PETREL_ERR_STATE). */
PETREL_API int petrel_conn_set_suites(petrel_conn *conn, const uint16_t *suites, size_t count);

/* The most bytes petrel_conn_add_hello_extension takes per connection,
 * counting 4 header bytes (type and length) per extension. */
#define PETREL_HELLO_EXT_MAX 2048

/*
 * Client: adds an extension to this connection's ClientHello: type and its
 * extension_data (len bytes, may be 0; data MAY be NULL only then). petrel
 * copies the bytes. It MUST be called before petrel_connect; every
 * ClientHello (also the one resent after a HelloVerifyRequest) carries the
 * added extensions, in the order added, after petrel's own. petrel does not
 * interpret them; the server's answer to one is accepted in any form, and
 * petrel_conn_set_hello_ext_callback shows it to the application.
 *
 * server_name (0) may be added: petrel then sends the application's
 * instead of its own (the certificate name check still uses the name set
 * with petrel_config_set_server_name or petrel_conn_set_server_name). A
 * DTLS ClientHello longer than the PMTU goes out in fragments, which some
 * servers do not reassemble; a petrel server takes at most 32 extensions
 * in a hello. Refused, with a warning logged:
 * PETREL_ERR_ARG for the extensions petrel writes itself
 * (renegotiation_info 0xff01, extended_master_secret 23, supported_groups
 * 10, ec_point_formats 11, signature_algorithms 13,
 * client_certificate_type 19, server_certificate_type 20);
 * PETREL_ERR_UNSUPPORTED for those whose answers petrel cannot handle
 * (max_fragment_length 1, status_request 5, session_ticket 35, and the
 * TLS 1.3 ones 41 to 45 and 51).
 *
 * Returns 0; PETREL_ERR_ARG when conn is NULL or a server, when data is
 * NULL with len > 0, when len > 65535, or when type was added already;
 * PETREL_ERR_STATE after petrel_connect; PETREL_ERR_LIMIT when the added
 * extensions would exceed PETREL_HELLO_EXT_MAX bytes; PETREL_ERR_NOMEM.
 * A refused call changes nothing.
 */
PETREL_API int petrel_conn_add_hello_extension(petrel_conn *conn, uint16_t type,
                                               const uint8_t *data, size_t len);

/*
 * Called for one extension of the ServerHello: its type and extension_data
 * (len bytes; data is valid only during the call). Return >= 0 to go on; a
 * negative value fails the handshake with PETREL_ERR_HANDSHAKE_FAILURE
 * (alert handshake_failure). It MAY call the query functions on conn
 * (petrel_cipher_suite, petrel_conn_app_data ...) and MUST NOT call any
 * function that drives or frees it.
 */
typedef int (*petrel_hello_ext_fn)(void *ref, petrel_conn *conn, uint16_t type, const uint8_t *data,
                                   size_t len);

/*
 * Client: fn is called for every extension of the ServerHello, once each,
 * in the order the server sent them, petrel's own included
 * (renegotiation_info, extended_master_secret ...), after petrel's own
 * checks of the ServerHello have passed. fn NULL removes the callback.
 * Same preconditions and errors as petrel_conn_add_hello_extension:
 * PETREL_ERR_ARG for a NULL or server conn, PETREL_ERR_STATE after
 * petrel_connect.
 */
PETREL_API int petrel_conn_set_hello_ext_callback(petrel_conn *conn, petrel_hello_ext_fn fn,
                                                  void *ref);

/* Client: starts the handshake (queues the ClientHello). Returns
 * PETREL_REQUEST_SEND. */
PETREL_API int petrel_connect(petrel_conn *conn);

/* Points *buf at the connection's read buffer and returns its capacity.
 * Datagram mode: copy exactly one datagram into it, then call
 * petrel_received. Stream mode: *buf is the free space after the bytes of
 * an incomplete record already held (always room for at least the rest
 * of that record, and for a whole record when none is held); copy up to
 * the returned count of stream bytes there. */
PETREL_API int petrel_get_readbuf(petrel_conn *conn, uint8_t **buf);

/*
 * Processes the datagram of n bytes now in the read buffer. Returns a
 * status or a negative error (the connection has then failed, for good;
 * an alert to send may be waiting in outdata):
 *   PETREL_APP_DATA: *data / *len give the plaintext, valid until the next
 *     call on conn; call petrel_processed to go on with the datagram.
 *   PETREL_HANDSHAKE_COMPLETE, PETREL_RECEIVED_ALERT: likewise, then
 *     petrel_processed.
 *   PETREL_REQUEST_SEND: the datagram made petrel answer: send outdata.
 *   PETREL_REQUEST_RECV: nothing more in this datagram; wait for the next.
 * Datagram mode: records that fail to parse or decrypt are dropped
 * silently and counted (RFC 6347 §4.1.2.7). Stream mode: such a record is
 * fatal (bad_record_mac, record_overflow, unexpected_message ...), as TLS
 * requires; REQUEST_RECV also means the bytes end inside a record.
 * data and len may be NULL.
 */
PETREL_API int petrel_received(petrel_conn *conn, size_t n, const uint8_t **data, size_t *len);
/* Continues with the rest of the datagram; same returns as received. */
PETREL_API int petrel_processed(petrel_conn *conn, const uint8_t **data, size_t *len);

/*
 * Stream mode: the transport reached the end of the stream (recv returned
 * 0). Returns 0 when the peer had sent close_notify first (a clean end),
 * else PETREL_ERR_TRUNCATION: the peer, or an attacker, closed the stream
 * without close_notify, so the data received may be cut short; the
 * connection has then failed. Datagram mode has no end of stream:
 * PETREL_ERR_STATE.
 */
PETREL_API int petrel_received_eof(petrel_conn *conn);

/* The next datagram to send: *buf points at it (valid until petrel_sent
 * or another call that queues output), the return is its length, 0 when
 * nothing is waiting. Every datagram fits the PMTU. Stream mode: every
 * byte waiting, as one contiguous buffer. */
PETREL_API int petrel_get_outdata(petrel_conn *conn, const uint8_t **buf);
/* The datagram from get_outdata was sent (n is its length). Stream mode:
 * n bytes from the start of outdata were sent, 1 .. its length; the rest
 * stays queued. Returns PETREL_REQUEST_SEND while more are waiting, else
 * PETREL_SUCCESS. */
PETREL_API int petrel_sent(petrel_conn *conn, size_t n);

/* Encrypts len bytes of application data into one record (one datagram).
 * len may be at most petrel_max_payload(conn). Stream mode: any len; it
 * is cut into records of up to 16384 bytes, and PETREL_ERR_LIMIT says
 * more than PETREL_STREAM_OUT_MAX bytes would wait unsent (send first);
 * len 0 queues nothing there. Returns PETREL_REQUEST_SEND (stream mode:
 * PETREL_SUCCESS when nothing is waiting). */
PETREL_API int petrel_encode_to_outdata(petrel_conn *conn, const uint8_t *data, size_t len);
/* Write-buffer flow: *buf receives space for up to the returned number of
 * plaintext bytes; write them there, then petrel_encode_writebuf(len).
 * No other call on conn may come between the two (the space is the next
 * datagram's, and anything queued meanwhile would take it). */
PETREL_API int petrel_get_writebuf(petrel_conn *conn, uint8_t **buf);
PETREL_API int petrel_encode_writebuf(petrel_conn *conn, size_t len);
/* The largest application payload one datagram can carry now (stream
 * mode: one record, 16384). */
PETREL_API int petrel_max_payload(const petrel_conn *conn);

/* Queues a close_notify alert; after it the connection sends nothing.
 * PETREL_ERR_STATE when one was sent already; the sticky error on a
 * failed connection. */
PETREL_API int petrel_close_notify(petrel_conn *conn);

/* Milliseconds until petrel_handle_timeout must be called, or -1 when no
 * timer is armed. */
PETREL_API int64_t petrel_next_timeout(const petrel_conn *conn);
/* Acts on an expired timer (retransmits the last flight). Returns
 * PETREL_REQUEST_SEND, PETREL_SUCCESS when nothing was due, or
 * PETREL_ERR_HANDSHAKE_TIMEOUT when the retransmissions are spent. */
PETREL_API int petrel_handle_timeout(petrel_conn *conn);

/* Starts a renegotiation (RFC 5746): a new full handshake under the
 * current keys. A client sends a ClientHello, a server a HelloRequest
 * (the client answers with one). Application data keeps flowing both ways
 * meanwhile; the end is reported as PETREL_HANDSHAKE_COMPLETE, as for the
 * first handshake. A peer that refuses answers with a no_renegotiation
 * warning (PETREL_RECEIVED_ALERT, description 100) and the keys stay as
 * they are; a DTLS request never answered is given up once its
 * retransmissions are spent (a client may ignore a HelloRequest), and the
 * connection goes on. Returns PETREL_REQUEST_SEND; PETREL_ERR_STATE before the
 * first handshake completed, while one runs, or after close_notify;
 * PETREL_ERR_UNSUPPORTED when the peer did not signal RFC 5746 (nothing
 * is sent; the connection goes on). The suites, certificate callback and
 * verify mode set on the connection since apply to it. */
PETREL_API int petrel_renegotiate(petrel_conn *conn);

/* DTLS: the application's own timer says the peer lost our last flight
 * (MatrixDTLS applications decide this themselves): resends it now, as if
 * petrel's retransmission timer had fired. The next wait doubles, and the
 * resend counts against the retransmission limit. Returns
 * PETREL_REQUEST_SEND; PETREL_SUCCESS when no flight waits for an answer
 * (before the handshake, after it, or on the side that sent the last
 * flight, which resends only when the peer repeats its own);
 * PETREL_ERR_HANDSHAKE_TIMEOUT when the retransmissions are spent;
 * PETREL_ERR_STATE in stream mode. */
PETREL_API int petrel_retransmit(petrel_conn *conn);

/* DTLS: false (the default) packs as many handshake messages of a flight
 * into each datagram as the PMTU allows; true sends each message, and
 * ChangeCipherSpec, in datagrams of its own (MatrixDTLS's
 * DTLS_SEND_RECORDS_INDIVIDUALLY), for peers or middleboxes that handle
 * one record per datagram only. Takes effect from the next flight sent.
 * PETREL_ERR_STATE in stream mode. */
PETREL_API int petrel_set_message_per_datagram(petrel_conn *conn, bool on);

/* Changes this connection's PMTU (200 .. 16384). Datagram mode only:
 * PETREL_ERR_STATE on a stream. */
PETREL_API int petrel_set_pmtu(petrel_conn *conn, size_t pmtu);

/* ---- queries ---- */

typedef struct petrel_conn_stats {
    uint64_t datagrams_sent;
    uint64_t datagrams_received;
    uint64_t records_accepted; /* authenticated (or, in epoch 0, well-formed) */
    uint64_t records_dropped;  /* failed to parse, decrypt, or replayed */
    uint64_t bytes_dropped;
    uint64_t retransmissions; /* flights resent */
    uint32_t rtt_ms;          /* 0 until measured */
} petrel_conn_stats;

/* The first handshake completed: application data may flow (it stays
 * true while a renegotiation runs). */
PETREL_API bool petrel_handshake_complete(const petrel_conn *conn);
/* A renegotiation is running. */
PETREL_API bool petrel_renegotiating(const petrel_conn *conn);
PETREL_API petrel_mode petrel_conn_mode(const petrel_conn *conn);
/* True once the peer's close_notify arrived: it will send nothing more. */
PETREL_API bool petrel_peer_closed(const petrel_conn *conn);
/* The negotiated suite's IANA id and name, 0 / NULL before ServerHello. */
PETREL_API uint16_t petrel_cipher_suite(const petrel_conn *conn);
PETREL_API const char *petrel_cipher_suite_name(const petrel_conn *conn);
/* The wire version (0xfefd for DTLS 1.2, 0x0303 for TLS 1.2), 0 before
 * ServerHello. */
PETREL_API uint16_t petrel_protocol_version(const petrel_conn *conn);
/* The PSK identity a PSK suite's handshake used (a server learns it from
 * the client's ClientKeyExchange), valid until petrel_conn_free. Returns
 * its length and sets *identity, or 0 when there is none (a certificate
 * suite, or before the server has read it). The key itself is
 * wiped once the session keys are derived. */
PETREL_API size_t petrel_psk_identity(const petrel_conn *conn, const uint8_t **identity);
PETREL_API void petrel_get_stats(const petrel_conn *conn, petrel_conn_stats *stats);
/* The connection's sticky error (0 while it is healthy). */
PETREL_API int petrel_conn_error(const petrel_conn *conn);
/* The last alert received: level (1 warning, 2 fatal) and description;
 * returns false when none arrived. */
PETREL_API bool petrel_last_alert(const petrel_conn *conn, int *level, int *description);
/* An application pointer kept with the connection (for example to find
 * per-connection state from the certificate callback); NULL at first. */
PETREL_API void petrel_conn_set_app_data(petrel_conn *conn, void *data);
PETREL_API void *petrel_conn_app_data(const petrel_conn *conn);
/* Bytes of memory this connection holds now. */
PETREL_API size_t petrel_conn_memory(const petrel_conn *conn);
/* For tests and key logs: the TLS 1.2 master secret (48 bytes) once the
 * key exchange is done. Returns PETREL_ERR_STATE before. */
PETREL_API int petrel_export_master_secret(const petrel_conn *conn, uint8_t out[48]);

#ifdef __cplusplus
}
#endif
#endif
