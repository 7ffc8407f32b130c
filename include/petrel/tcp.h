/*
 * petrel's TCP adapters: the engine in PETREL_STREAM mode (TLS 1.2) bound
 * to stream sockets, IPv4 and IPv6. They mirror the UDP adapters in
 * petrel/udp.h call for call, so an application serves TLS and DTLS the
 * same way, and the two servers run in one poll loop: each server gives
 * one descriptor (petrel_tcp_server_fd, petrel_udp_server_fd) to poll;
 * when it is readable, call that server's run_once with a wait of 0.
 *
 * Client: one connected socket. Blocking calls take a timeout in
 * milliseconds (< 0: no limit); with a timeout of 0 they never wait and
 * return PETREL_ERR_WOULD_BLOCK when the socket is not ready (the
 * non-blocking style: poll petrel_tcp_client_fd, then call again). In
 * that style, poll for POLLIN, and also for POLLOUT while
 * petrel_tcp_client_flush(c, 0) returns PETREL_ERR_WOULD_BLOCK (bytes are
 * queued that the socket has not taken). A timeout 0 call still does all
 * the work that needs no waiting: on a fast peer a whole handshake may
 * finish in one call.
 *
 * The client's calls do not read while they send: a peer that will not
 * read until it may write (an echo server, say) fills the socket buffers
 * when more than they hold is sent before reading the answers, and a
 * blocking send then times out. Interleave, or use the non-blocking style
 * and read whenever POLLIN says so.
 *
 * Server: a listening socket and its accepted connections, all
 * non-blocking, watched by one epoll descriptor. Driven by
 * petrel_tcp_server_run_once from the application's loop. A session whose
 * queued output passes 256 KiB is not read until the peer takes some, so
 * a peer that sends without reading is held back by TCP rather than by an
 * ever longer queue.
 *
 * Threads: a client, and a server with all its sessions, belong to one
 * thread at a time; handlers run inside run_once, on its thread.
 *
 * The end of a stream is checked: a peer that closes TCP without
 * close_notify is reported as PETREL_ERR_TRUNCATION, never as a clean end.
 *
 * All calls return 0 / a positive count, or a negative PETREL_ERR_*.
 */
#ifndef PETREL_TCP_H
#define PETREL_TCP_H

#include <stddef.h>
#include <stdint.h>

#include <petrel/petrel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- client ---- */

typedef struct petrel_tcp_client petrel_tcp_client;

/* Resolves host:port (IPv4 or IPv6; host NULL or "" is the loopback) and
 * connects, trying each address in turn, waiting at most 10 s in all.
 * cfg must outlive the client. *error (may be NULL) receives 0, or the
 * reason on NULL: PETREL_ERR_ARG, PETREL_ERR_RESOLVE, PETREL_ERR_IO
 * (refused, unreachable), PETREL_ERR_TIMEOUT, PETREL_ERR_NOMEM. */
PETREL_API petrel_tcp_client *petrel_tcp_client_new(const petrel_config *cfg, const char *host,
                                                    const char *port, int *error);
/* Closes the socket (without close_notify: call petrel_tcp_client_close
 * first for a clean end) and frees the client. */
PETREL_API void petrel_tcp_client_free(petrel_tcp_client *c);
/* Runs the handshake for at most timeout_ms; 0 once it is complete and
 * the client's last flight has been taken by the socket (calling it again
 * then returns 0 at once). PETREL_ERR_TIMEOUT / PETREL_ERR_WOULD_BLOCK:
 * call again to go on. PETREL_ERR_CLOSED: the server sent close_notify;
 * PETREL_ERR_TRUNCATION: it closed or reset TCP (a server at its
 * max_sessions does); other errors are the engine's (alerts, verification). */
PETREL_API int petrel_tcp_client_handshake(petrel_tcp_client *c, int timeout_ms);
/* Sends len bytes (any length up to INT_MAX; cut into records as
 * needed), waiting at most timeout_ms for the socket to take them.
 * Returns len once every byte is queued in the engine; the timed call
 * also waits (within timeout_ms) until the socket has taken the queue.
 * With timeout 0 the bytes are queued and as many sent as the socket
 * takes now; call petrel_tcp_client_flush until it returns 0 to send the
 * rest. At most PETREL_STREAM_OUT_MAX bytes wait in the queue: when len
 * does not fit before the deadline, the count that did (1 .. len - 1) is
 * returned, as send(2) does, and the caller sends the rest later; when
 * none did, PETREL_ERR_TIMEOUT (PETREL_ERR_WOULD_BLOCK for timeout 0).
 * Bytes counted as sent are never to be sent again. PETREL_ERR_STATE
 * before the handshake or after close; PETREL_ERR_IO when the socket
 * failed (or the engine's error, when the peer's alert explains it). */
PETREL_API int petrel_tcp_client_send(petrel_tcp_client *c, const uint8_t *data, size_t len,
                                      int timeout_ms);
/* Sends queued bytes: 0 when none are left; when the socket took only
 * part of them within timeout_ms, PETREL_ERR_WOULD_BLOCK for timeout 0
 * and PETREL_ERR_TIMEOUT otherwise (as for recv). */
PETREL_API int petrel_tcp_client_flush(petrel_tcp_client *c, int timeout_ms);
/* Waits up to timeout_ms for application data and copies at most cap
 * bytes (cap >= 1) to buf (the rest of a record is kept for the next
 * call). Returns the length; 0 when the peer closed with close_notify
 * (our answering close_notify goes out by itself); PETREL_ERR_TRUNCATION
 * when TCP ended (or was reset) without it; PETREL_ERR_TIMEOUT
 * (PETREL_ERR_WOULD_BLOCK for timeout 0) when nothing came. Data that
 * arrived before an end is handed out first; the end, clean or not, is
 * then returned by every later call. While it waits it also sends bytes
 * an earlier non-blocking send left queued. */
PETREL_API int petrel_tcp_client_recv(petrel_tcp_client *c, uint8_t *buf, size_t cap,
                                      int timeout_ms);
/* Sends close_notify and shuts down the write side, waiting at most 10 s
 * for the socket to take what is queued (PETREL_ERR_TIMEOUT: the rest
 * stays queued, and petrel_tcp_client_flush shuts the write side once it
 * has sent it). Returns 0 after the peer's close_notify too (ours went
 * already). On a connection that failed (recv returned an error) it only
 * shuts the write side and returns that error.
 * The peer's answer can still be read: petrel_tcp_client_recv returns 0
 * when it comes. */
PETREL_API int petrel_tcp_client_close(petrel_tcp_client *c);
PETREL_API petrel_conn *petrel_tcp_client_conn(petrel_tcp_client *c);
PETREL_API int petrel_tcp_client_fd(const petrel_tcp_client *c);

/* ---- server ---- */

typedef struct petrel_tcp_server petrel_tcp_server;
typedef struct petrel_tcp_session petrel_tcp_session;

typedef struct petrel_tcp_server_handlers {
    /* The handshake with a new peer completed. */
    void (*on_established)(void *ref, petrel_tcp_session *s);
    /* Application data arrived (one record's worth, or part of one).
     * data is valid during the call only. */
    void (*on_data)(void *ref, petrel_tcp_session *s, const uint8_t *data, size_t len);
    /* The session ends: reason 0 for close_notify (the peer's, or its
     * answer or end of TCP after petrel_tcp_session_close), else the error
     * (PETREL_ERR_TRUNCATION when TCP closed or was reset without
     * close_notify, PETREL_ERR_TIMEOUT for expiry or an unanswered
     * petrel_tcp_session_close, PETREL_ERR_CLOSED from
     * petrel_tcp_server_free, the engine's error for a failed handshake or
     * a bad record). The session is freed after this. */
    void (*on_closed)(void *ref, petrel_tcp_session *s, int reason);
} petrel_tcp_server_handlers;

typedef struct petrel_tcp_server_options {
    size_t max_sessions;           /* default 1024 */
    uint32_t idle_timeout_ms;      /* established, silent: default 300000 */
    uint32_t handshake_timeout_ms; /* accepted, handshake unfinished: default 30000 */
} petrel_tcp_server_options;

/* Binds host:port (port "0" picks a free one; host NULL or "" is every
 * address; "::" also takes IPv4, as mapped addresses) with SO_REUSEADDR,
 * and listens. cfg must outlive the server. options and handlers may be
 * NULL; a 0 in options keeps the default. *error (may be NULL) receives 0,
 * or the reason on NULL: PETREL_ERR_ARG, PETREL_ERR_RESOLVE, PETREL_ERR_IO
 * (the address is taken, for one), PETREL_ERR_NOMEM. */
PETREL_API petrel_tcp_server *petrel_tcp_server_new(const petrel_config *cfg, const char *host,
                                                    const char *port,
                                                    const petrel_tcp_server_options *options,
                                                    const petrel_tcp_server_handlers *handlers,
                                                    void *ref, int *error);
/* Closes every session: sends close_notify where the socket takes it,
 * without waiting for answers; on_closed gets PETREL_ERR_CLOSED (or the
 * reason of a session that had already ended). MUST NOT be called from a
 * handler. */
PETREL_API void petrel_tcp_server_free(petrel_tcp_server *srv);
/* Waits up to max_wait_ms (< 0: no limit; or less, when a session
 * expires sooner) for activity, accepts, reads, writes what is queued,
 * expires old sessions. Connections beyond max_sessions are closed as
 * soon as they are accepted. Returns 0, or PETREL_ERR_IO when epoll
 * itself failed; a session's failure ends that session only. MUST NOT be
 * called from a handler. */
PETREL_API int petrel_tcp_server_run_once(petrel_tcp_server *srv, int max_wait_ms);
PETREL_API int petrel_tcp_server_port(const petrel_tcp_server *srv);
/* One descriptor (epoll) that is readable when run_once has work (a new
 * connection, input, or room for queued output); it stays readable until
 * run_once does it. Session expiry makes it readable at no time: an
 * outside loop also calls run_once every so often (or waits no longer
 * than the shortest timeout it configured). */
PETREL_API int petrel_tcp_server_fd(const petrel_tcp_server *srv);
PETREL_API size_t petrel_tcp_server_session_count(const petrel_tcp_server *srv);

/* Queues len bytes (any length) for the peer; run_once sends them as the
 * socket takes them. Returns 0; PETREL_ERR_LIMIT when more than
 * PETREL_STREAM_OUT_MAX bytes would wait (nothing is queued then);
 * PETREL_ERR_STATE before the handshake or after petrel_tcp_session_close;
 * PETREL_ERR_CLOSED once the session has ended. May be called from any
 * handler, for any session of the server, and between run_once calls. */
PETREL_API int petrel_tcp_session_send(petrel_tcp_session *s, const uint8_t *data, size_t len);
/* Sends close_notify; the session ends (on_closed 0) when the peer
 * answers or closes TCP, or with PETREL_ERR_TIMEOUT when it does neither
 * within 5 s (or idle_timeout_ms when that is shorter). Data arriving
 * meanwhile still reaches on_data. Returns 0 (also when already
 * closing), PETREL_ERR_CLOSED once the session has ended. */
PETREL_API int petrel_tcp_session_close(petrel_tcp_session *s);
/* "ADDR:PORT" ("[ADDR]:PORT" for IPv6) of the peer. */
PETREL_API const char *petrel_tcp_session_peer(const petrel_tcp_session *s);
PETREL_API petrel_conn *petrel_tcp_session_conn(petrel_tcp_session *s);
PETREL_API void petrel_tcp_session_set_user(petrel_tcp_session *s, void *user);
PETREL_API void *petrel_tcp_session_user(const petrel_tcp_session *s);

#ifdef __cplusplus
}
#endif
#endif
