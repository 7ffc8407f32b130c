/*
 * The harness the socket adapter tests (tests/unit/test_udp.c,
 * tests/unit/test_tcp.c) share.
 *
 * A server runs in its own thread: net_test_start calls the test's step
 * function (one run_once) in a loop until net_test_stop. That thread is
 * the only one that touches the server. After each step it records the
 * server's session count and the step's result, and the server's handlers
 * record what they see through net_test_note_*; all of it under the
 * harness's mutex, each change broadcast on its condition variable. The
 * test thread reads copies (net_test_view) and waits for a condition with
 * a deadline (net_test_wait): no sleep stands in for synchronisation.
 *
 * Also here: the PSK configuration both sides use, plain sockets on
 * loopback (closed by net_test_finish), bounded receives, and small
 * deterministic generators.
 *
 * Functions that assert use cmocka: call them from a test, or from its
 * setup, never from the server thread.
 */
#ifndef PETREL_TESTS_NET_TEST_H
#define PETREL_TESTS_NET_TEST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <petrel/petrel.h>

#define NET_TEST_MAX_REASONS 64
#define NET_TEST_MAX_FDS     32
#define NET_TEST_FNV_OFFSET  0xcbf29ce484222325u
#define NET_TEST_START_MS    5000 /* bound on net_test_start's wait for the first step */

/* What the server thread records about its server. */
typedef struct net_test_record {
    uint64_t loops;                    /* steps completed */
    size_t sessions;                   /* the session count after the last step */
    size_t max_sessions;               /* the largest value sessions took */
    int run_error;                     /* the first negative result of a step */
    size_t established;                /* on_established calls */
    size_t records;                    /* on_data calls */
    uint64_t data_bytes;               /* application bytes on_data received */
    uint64_t data_hash;                /* their FNV-1a (see net_test_fnv1a) */
    int echo_error;                    /* the first negative result of a handler's send */
    size_t closed;                     /* on_closed calls */
    int reasons[NET_TEST_MAX_REASONS]; /* their reasons, in order */
    char last_peer[80];                /* the peer's name in the last on_established */
} net_test_record;

/* One step of the server loop, in the server thread (a run_once):
 * returns its result and sets *sessions to the server's session count.
 * ref is the one given to net_test_start. */
typedef int (*net_test_step_fn)(void *ref, size_t *sessions);

typedef struct net_test_harness {
    pthread_mutex_t lock;
    pthread_cond_t changed; /* broadcast on every change made under lock */
    net_test_record record; /* under lock */
    pthread_t thread;
    bool thread_running;
    atomic_bool stop;
    net_test_step_fn step;
    void *step_ref;
    /* Plain sockets of the test thread, closed by net_test_finish. */
    int fds[NET_TEST_MAX_FDS];
    size_t fd_count;
} net_test_harness;

/* ---- life cycle ---- */

/* Prepares a zeroed harness (from a test's setup). Returns 0, or -1 when
 * the mutex or the condition variable cannot be made. */
int net_test_init(net_test_harness *t);

/* Starts the server thread: step(ref, ...) in a loop. Returns once the
 * first step has completed, so that the thread is known to run. The
 * harness MUST NOT have a thread running already. */
void net_test_start(net_test_harness *t, net_test_step_fn step, void *ref);

/* Stops the server thread and waits for it (nothing when none runs).
 * Free the server only after this: its handlers may run until then. */
void net_test_stop(net_test_harness *t);

/* Stops the server thread, closes the kept sockets and releases the
 * harness (from a test's teardown). */
void net_test_finish(net_test_harness *t);

/* ---- the record ---- */

/* Takes the harness's mutex, for the test's own fields that live under
 * it; net_test_unlock broadcasts the change and releases it. Neither may
 * be held across an assertion (it longjmps). */
void net_test_lock(net_test_harness *t);
void net_test_unlock(net_test_harness *t);

/* What the server's handlers call, in the server thread: an established
 * session named peer (send_rc: the result of anything the handler sent,
 * 0 if nothing); application data handed to on_data (send_rc: the result
 * of the echo); a handler's send failing elsewhere; a session closed for
 * reason. */
void net_test_note_established(net_test_harness *t, const char *peer, int send_rc);
void net_test_note_data(net_test_harness *t, const uint8_t *data, size_t len, int send_rc);
void net_test_note_send(net_test_harness *t, int send_rc);
void net_test_note_closed(net_test_harness *t, int reason);

/* A copy of the record, taken under the lock, so that no assertion fails
 * (and longjmps) while the lock is held. */
net_test_record net_test_view(net_test_harness *t);

/* A condition on the record, checked under the lock. */
typedef bool (*net_test_condition)(const net_test_record *r, uint64_t arg);

bool net_test_sessions_are(const net_test_record *r, uint64_t n);
bool net_test_established_at_least(const net_test_record *r, uint64_t n);
bool net_test_closed_at_least(const net_test_record *r, uint64_t n);
bool net_test_loops_at_least(const net_test_record *r, uint64_t n);
bool net_test_data_bytes_at_least(const net_test_record *r, uint64_t n);

/* Waits at most timeout_ms for cond(record, arg); returns whether it
 * holds. */
bool net_test_wait(net_test_harness *t, net_test_condition cond, uint64_t arg, int timeout_ms);

/* Asserts that no step failed and no handler's send did. */
void net_test_assert_healthy(net_test_harness *t);

/* ---- configurations and clients ---- */

/* The default platform with logging off. */
petrel_platform net_test_platform(void);

/* A configuration on platform (NULL: net_test_platform()) with the PSK
 * every socket test's clients and servers share. Asserts it could be
 * made; the caller frees it. */
petrel_config *net_test_psk_config(const petrel_platform *platform);

/* Asserts that a client's handshake returned 0 (printing the error
 * otherwise) and that conn agrees it is complete. */
void net_test_assert_handshake(int rc, petrel_conn *conn);

/* Feeds the n bytes in conn's read buffer to the engine and steps through
 * every status (petrel_received, then petrel_processed while there are
 * events); returns the last status. */
int net_test_feed(petrel_conn *conn, size_t n);

/* ---- plain sockets ---- */

/* A socket of socktype connected to the numeric host:port; kept by the
 * harness. */
int net_test_connect(net_test_harness *t, int socktype, const char *host, const char *port);

/* A stream socket on 127.0.0.1 that listens (backlog 4) and never
 * accepts unless the test does; writes its port to port. Kept by the
 * harness. */
int net_test_listen_loopback(net_test_harness *t, char *port, size_t cap);

/* Writes to port a port on 127.0.0.1 that a socket of socktype was bound
 * to a moment ago and is free again: nobody listens there. */
void net_test_free_port(int socktype, char *port, size_t cap);

/* Whether this host cannot bind a socket of socktype to ::1; if so, says
 * that the case passes untested. */
bool net_test_ipv6_unavailable(int socktype);

/* Waits for fd to be readable, then receives (MSG_DONTWAIT) at most cap
 * bytes. Returns recv's result (0: the stream ended), or -1 on an error
 * or, with errno ETIMEDOUT, once net_test_now_ms() reaches deadline. */
ssize_t net_test_recv(int fd, void *buf, size_t cap, uint64_t deadline);

/* ---- time and data ---- */

/* The monotonic clock in milliseconds. */
uint64_t net_test_now_ms(void);

/* FNV-1a of data, continuing from h (NET_TEST_FNV_OFFSET to start). */
uint64_t net_test_fnv1a(uint64_t h, const uint8_t *data, size_t len);

/* The next value of a small seeded generator (xorshift64; the state MUST
 * NOT be 0). */
uint64_t net_test_random(uint64_t *state);

#endif
