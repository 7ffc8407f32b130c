/*
 * petrel's UDP adapters: the engine bound to datagram sockets, IPv4 and
 * IPv6. They are optional conveniences over the sans-I/O API in petrel.h.
 *
 * Client: one connected socket, blocking calls with timeouts; the
 * retransmission timer runs inside them, so a blocking handshake survives
 * loss.
 *
 * Server: one socket serving many peers, demultiplexed by address. A
 * datagram from an unknown address gets the stateless cookie check first
 * (petrel_server_check_hello): nothing is allocated for a peer before its
 * cookie is valid. Idle and half-open sessions expire; the cookie secret
 * rotates. Driven by petrel_udp_server_run_once from the application's
 * loop (or its own fd in a poll set).
 *
 * All calls return 0 / a positive count, or a negative PETREL_ERR_*.
 */
#ifndef PETREL_UDP_H
#define PETREL_UDP_H

#include <stddef.h>
#include <stdint.h>

#include <petrel/petrel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- client ---- */

typedef struct petrel_udp_client petrel_udp_client;

/* Resolves host:port, creates and connects a socket. cfg must outlive the
 * client. *error (may be NULL) receives the reason on NULL. */
PETREL_API petrel_udp_client *petrel_udp_client_new(const petrel_config *cfg, const char *host,
                                                    const char *port, int *error);
PETREL_API void petrel_udp_client_free(petrel_udp_client *c);
/* Runs the handshake, retransmitting as the timer says, for at most
 * timeout_ms (< 0: as long as the engine's retransmissions last). */
PETREL_API int petrel_udp_client_handshake(petrel_udp_client *c, int timeout_ms);
/* Sends len bytes as one record (len <= petrel_max_payload). */
PETREL_API int petrel_udp_client_send(petrel_udp_client *c, const uint8_t *data, size_t len);
/* Waits up to timeout_ms for application data and copies at most cap
 * bytes of one record to buf. Returns the length, 0 when the peer closed
 * (close_notify), PETREL_ERR_TIMEOUT when nothing came. */
PETREL_API int petrel_udp_client_recv(petrel_udp_client *c, uint8_t *buf, size_t cap,
                                      int timeout_ms);
/* Sends close_notify. */
PETREL_API int petrel_udp_client_close(petrel_udp_client *c);
PETREL_API petrel_conn *petrel_udp_client_conn(petrel_udp_client *c);

/* ---- server ---- */

typedef struct petrel_udp_server petrel_udp_server;
typedef struct petrel_udp_session petrel_udp_session;

typedef struct petrel_udp_server_handlers {
    /* The handshake with a new peer completed. */
    void (*on_established)(void *ref, petrel_udp_session *s);
    /* One record of application data arrived. */
    void (*on_data)(void *ref, petrel_udp_session *s, const uint8_t *data, size_t len);
    /* The session ends: reason 0 for close_notify, else the error
     * (PETREL_ERR_TIMEOUT for expiry). The session is freed after this. */
    void (*on_closed)(void *ref, petrel_udp_session *s, int reason);
} petrel_udp_server_handlers;

typedef struct petrel_udp_server_options {
    size_t max_sessions; /* default 1024 */
    /* Sessions whose handshake has not completed (a valid cookie proves
     * the address, not the intent): default 256. */
    size_t max_half_open;
    uint32_t idle_timeout_ms;      /* established, silent: default 300000 */
    uint32_t handshake_timeout_ms; /* half-open: default 60000 */
    uint32_t cookie_rotation_ms;   /* default 60000 */
} petrel_udp_server_options;

/* Binds host:port (port "0" picks a free one). cfg is used by every
 * session and its cookie secret is rotated: it must outlive the server and
 * not be shared with another thread. options and handlers may be NULL. */
PETREL_API petrel_udp_server *petrel_udp_server_new(petrel_config *cfg, const char *host,
                                                    const char *port,
                                                    const petrel_udp_server_options *options,
                                                    const petrel_udp_server_handlers *handlers,
                                                    void *ref, int *error);
PETREL_API void petrel_udp_server_free(petrel_udp_server *srv);
/* Waits up to max_wait_ms (or less, when a timer is due) for datagrams,
 * processes them, fires due timers and expires old sessions. */
PETREL_API int petrel_udp_server_run_once(petrel_udp_server *srv, int max_wait_ms);
/* Milliseconds until the server has timer work (a retransmission, an
 * expiry, a cookie rotation, a closed session to free): an outside poll
 * loop waits at most this long on petrel_udp_server_fd, then calls
 * petrel_udp_server_run_once(srv, 0). 0 when something is due now. Ask
 * again after each run_once or session call: they arm and disarm timers. */
PETREL_API int petrel_udp_server_next_timeout(const petrel_udp_server *srv);
/* The bound port, and the socket (for an outside poll set). */
PETREL_API int petrel_udp_server_port(const petrel_udp_server *srv);
PETREL_API int petrel_udp_server_fd(const petrel_udp_server *srv);
PETREL_API size_t petrel_udp_server_session_count(const petrel_udp_server *srv);
/* Sessions whose handshake is still under way. */
PETREL_API size_t petrel_udp_server_half_open_count(const petrel_udp_server *srv);

PETREL_API int petrel_udp_session_send(petrel_udp_session *s, const uint8_t *data, size_t len);
PETREL_API int petrel_udp_session_close(petrel_udp_session *s);
/* "ADDR:PORT" ("[ADDR]:PORT" for IPv6) of the peer. */
PETREL_API const char *petrel_udp_session_peer(const petrel_udp_session *s);
PETREL_API petrel_conn *petrel_udp_session_conn(petrel_udp_session *s);
PETREL_API void petrel_udp_session_set_user(petrel_udp_session *s, void *user);
PETREL_API void *petrel_udp_session_user(const petrel_udp_session *s);

#ifdef __cplusplus
}
#endif
#endif
