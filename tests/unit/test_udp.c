/*
 * Tests for the UDP adapters (petrel/udp.h) over real sockets on loopback:
 * a server on port 0 runs in its own thread (petrel_udp_server_run_once in
 * a loop) and echoes every record back; clients run in the test's thread,
 * either as petrel_udp_client or, where a test needs every datagram in
 * hand, as a raw socket driving a petrel_conn through the buffer flow.
 *
 * Cases: one client's echo and close_notify; 20 clients demultiplexed by
 * address; the stateless cookie gate (a flood of cookieless hellos gets
 * HelloVerifyRequests and allocates nothing); garbage from unknown
 * addresses; half-open and idle expiry; max_sessions; IPv6; a port with no
 * server; an unresolvable host.
 *
 * The server thread is the only one that touches the server: after each
 * run_once it copies petrel_udp_server_session_count into the harness under
 * the mutex, and the handlers record what they see there too. The test
 * thread only reads those copies, and waits on a condition variable with a
 * deadline: no sleep stands in for synchronisation.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <petrel/petrel.h>
#include <petrel/udp.h>

#define MAX_CLIENTS     32
#define MAX_RAW_SOCKETS 32
#define MAX_CONNS       4
#define MAX_REASONS     64
#define WAIT_MS         3000 /* bound on any wait for the server */
#define HANDSHAKE_MS    5000
#define DGRAM_MAX       2048
#define REC_HEADER_LEN  13 /* DTLS record header: type, version, epoch, sequence, length */
#define CT_HANDSHAKE    22
#define HT_CLIENT_HELLO 1
#define HT_HELLO_VERIFY 3

static const uint8_t psk_identity[] = {'i', 'd'};
static const uint8_t psk_key[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};

/* ======================================================================
 * Harness
 * ====================================================================== */

typedef struct harness {
    petrel_config *server_cfg;
    petrel_config *client_cfg;
    atomic_size_t server_allocations; /* alloc/realloc calls through server_cfg */

    petrel_udp_server *srv;
    int family;    /* of the server's socket */
    char host[64]; /* the server's address, as the clients use it */
    char port[16]; /* the server's bound port */
    pthread_t thread;
    bool thread_running;
    atomic_bool stop;

    pthread_mutex_t lock;
    pthread_cond_t changed;
    /* Under lock, written by the server thread. */
    uint64_t loops;      /* run_once calls completed */
    size_t sessions;     /* petrel_udp_server_session_count after the last run_once */
    size_t max_sessions; /* the largest value sessions took */
    int run_error;       /* first negative return of run_once */
    size_t established;  /* on_established calls */
    size_t records;      /* on_data calls */
    int echo_error;      /* first negative return of petrel_udp_session_send */
    size_t closed;       /* on_closed calls */
    int reasons[MAX_REASONS];
    char last_peer[80]; /* petrel_udp_session_peer in the last on_established */

    /* Owned by the test thread; released by teardown whatever happens. */
    petrel_udp_client *clients[MAX_CLIENTS];
    size_t client_count;
    int raw[MAX_RAW_SOCKETS];
    size_t raw_count;
    petrel_conn *conns[MAX_CONNS];
    size_t conn_count;
} harness;

/* What the test thread reads: a copy taken under the lock, so that no
 * assertion fails (and longjmps) while the lock is held. */
typedef struct server_view {
    uint64_t loops;
    size_t sessions, max_sessions, established, records, closed;
    int run_error, echo_error;
    int reasons[MAX_REASONS];
    char last_peer[80];
} server_view;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void *counting_alloc(void *ref, size_t size)
{
    harness *h = ref;
    atomic_fetch_add(&h->server_allocations, 1);
    return petrel_default_alloc(NULL, size);
}

static void *counting_realloc(void *ref, void *ptr, size_t size)
{
    harness *h = ref;
    atomic_fetch_add(&h->server_allocations, 1);
    return petrel_default_realloc(NULL, ptr, size);
}

static void counting_free(void *ref, void *ptr)
{
    (void)ref;
    petrel_default_free(NULL, ptr);
}

static petrel_config *make_config(harness *h, bool count_allocations)
{
    petrel_platform p = petrel_platform_default();
    p.log_level = PETREL_LOG_NONE;
    if (count_allocations) {
        p.alloc = counting_alloc;
        p.realloc = counting_realloc;
        p.free = counting_free;
        p.alloc_ref = h;
    }
    petrel_config *cfg = petrel_config_new(&p);
    assert_non_null(cfg);
    assert_int_equal(
        petrel_config_set_psk(cfg, psk_identity, sizeof(psk_identity), psk_key, sizeof(psk_key)),
        0);
    return cfg;
}

static server_view view(harness *h)
{
    server_view v;
    pthread_mutex_lock(&h->lock);
    v.loops = h->loops;
    v.sessions = h->sessions;
    v.max_sessions = h->max_sessions;
    v.established = h->established;
    v.records = h->records;
    v.closed = h->closed;
    v.run_error = h->run_error;
    v.echo_error = h->echo_error;
    memcpy(v.reasons, h->reasons, sizeof(v.reasons));
    memcpy(v.last_peer, h->last_peer, sizeof(v.last_peer));
    pthread_mutex_unlock(&h->lock);
    return v;
}

/* ---- conditions the test thread waits for (called under the lock) ---- */

typedef bool (*condition_fn)(const harness *h, uint64_t arg);

static bool sessions_are(const harness *h, uint64_t n)
{
    return h->sessions == n;
}

static bool established_at_least(const harness *h, uint64_t n)
{
    return h->established >= n;
}

static bool closed_at_least(const harness *h, uint64_t n)
{
    return h->closed >= n;
}

static bool loops_at_least(const harness *h, uint64_t n)
{
    return h->loops >= n;
}

/* Waits at most timeout_ms for cond; returns whether it holds. */
static bool wait_for(harness *h, condition_fn cond, uint64_t arg, int timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&h->lock);
    bool ok = cond(h, arg);
    while (!ok) {
        int rc = pthread_cond_timedwait(&h->changed, &h->lock, &deadline);
        ok = cond(h, arg);
        if (rc == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&h->lock);
    return ok;
}

/* Returns once the server has finished the run_once that was under way
 * (so every datagram it answered has been fully handled and counted). */
static void server_sync(harness *h)
{
    uint64_t loops = view(h).loops;
    assert_true(wait_for(h, loops_at_least, loops + 2, WAIT_MS));
}

/* ---- the server's handlers and thread ---- */

static void on_established(void *ref, petrel_udp_session *s)
{
    harness *h = ref;
    pthread_mutex_lock(&h->lock);
    h->established++;
    snprintf(h->last_peer, sizeof(h->last_peer), "%s", petrel_udp_session_peer(s));
    pthread_cond_broadcast(&h->changed);
    pthread_mutex_unlock(&h->lock);
}

static void on_data(void *ref, petrel_udp_session *s, const uint8_t *data, size_t len)
{
    harness *h = ref;
    int rc = petrel_udp_session_send(s, data, len);
    pthread_mutex_lock(&h->lock);
    h->records++;
    if (rc < 0 && h->echo_error == 0)
        h->echo_error = rc;
    pthread_cond_broadcast(&h->changed);
    pthread_mutex_unlock(&h->lock);
}

static void on_closed(void *ref, petrel_udp_session *s, int reason)
{
    harness *h = ref;
    (void)s;
    pthread_mutex_lock(&h->lock);
    if (h->closed < MAX_REASONS)
        h->reasons[h->closed] = reason;
    h->closed++;
    pthread_cond_broadcast(&h->changed);
    pthread_mutex_unlock(&h->lock);
}

static void *server_main(void *arg)
{
    harness *h = arg;
    while (!atomic_load(&h->stop)) {
        int rc = petrel_udp_server_run_once(h->srv, 20);
        size_t n = petrel_udp_server_session_count(h->srv);
        pthread_mutex_lock(&h->lock);
        if (rc < 0 && h->run_error == 0)
            h->run_error = rc;
        h->sessions = n;
        if (n > h->max_sessions)
            h->max_sessions = n;
        h->loops++;
        pthread_cond_broadcast(&h->changed);
        pthread_mutex_unlock(&h->lock);
    }
    return NULL;
}

/* Starts a server on host:0 (family AF_INET or AF_INET6) with opt. */
static void server_start(harness *h, const char *host, int family,
                         const petrel_udp_server_options *opt)
{
    const petrel_udp_server_handlers handlers = {on_established, on_data, on_closed};
    int error = 0;
    h->srv = petrel_udp_server_new(h->server_cfg, host, "0", opt, &handlers, h, &error);
    assert_non_null(h->srv);
    int port = petrel_udp_server_port(h->srv);
    assert_true(port > 0 && port < 65536);
    assert_true(petrel_udp_server_fd(h->srv) >= 0);
    snprintf(h->port, sizeof(h->port), "%d", port);
    snprintf(h->host, sizeof(h->host), "%s", host);
    h->family = family;
    atomic_store(&h->stop, false);
    assert_int_equal(pthread_create(&h->thread, NULL, server_main, h), 0);
    h->thread_running = true;
    /* Wait for the first loop, so that the thread is known to run. */
    assert_true(wait_for(h, loops_at_least, 1, WAIT_MS));
}

static void server_stop(harness *h)
{
    if (h->thread_running) {
        atomic_store(&h->stop, true);
        pthread_join(h->thread, NULL);
        h->thread_running = false;
    }
    petrel_udp_server_free(h->srv); /* after the join: handlers may run */
    h->srv = NULL;
}

/* After a test's own checks: the server loop never failed. */
static void assert_server_healthy(harness *h)
{
    server_view v = view(h);
    assert_int_equal(v.run_error, 0);
    assert_int_equal(v.echo_error, 0);
}

static int setup(void **state)
{
    static harness h;
    memset(&h, 0, sizeof(h));
    atomic_init(&h.server_allocations, 0);
    atomic_init(&h.stop, false);
    pthread_condattr_t attr;
    if (pthread_mutex_init(&h.lock, NULL) != 0 || pthread_condattr_init(&attr) != 0 ||
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&h.changed, &attr) != 0)
        return -1;
    pthread_condattr_destroy(&attr);
    h.server_cfg = make_config(&h, true);
    h.client_cfg = make_config(&h, false);
    *state = &h;
    return 0;
}

static int teardown(void **state)
{
    harness *h = *state;
    server_stop(h);
    for (size_t i = 0; i < h->client_count; i++)
        petrel_udp_client_free(h->clients[i]);
    for (size_t i = 0; i < h->raw_count; i++)
        close(h->raw[i]);
    for (size_t i = 0; i < h->conn_count; i++)
        petrel_conn_free(h->conns[i]);
    petrel_config_free(h->server_cfg);
    petrel_config_free(h->client_cfg);
    pthread_cond_destroy(&h->changed);
    pthread_mutex_destroy(&h->lock);
    return 0;
}

/* ======================================================================
 * Clients
 * ====================================================================== */

/* A client of the harness's server, not yet connected (freed by teardown). */
static petrel_udp_client *client_new(harness *h)
{
    assert_true(h->client_count < MAX_CLIENTS);
    int error = 0;
    petrel_udp_client *c = petrel_udp_client_new(h->client_cfg, h->host, h->port, &error);
    assert_int_equal(error, 0);
    assert_non_null(c);
    h->clients[h->client_count++] = c;
    return c;
}

static petrel_udp_client *client_connect(harness *h)
{
    petrel_udp_client *c = client_new(h);
    int rc = petrel_udp_client_handshake(c, HANDSHAKE_MS);
    if (rc != 0)
        print_error("handshake: %s\n", petrel_error_name(rc));
    assert_int_equal(rc, 0);
    assert_true(petrel_handshake_complete(petrel_udp_client_conn(c)));
    return c;
}

static void client_send(petrel_udp_client *c, const char *msg)
{
    assert_int_equal(petrel_udp_client_send(c, (const uint8_t *)msg, strlen(msg)), 0);
}

static void client_expect(petrel_udp_client *c, const char *msg)
{
    uint8_t buf[256];
    int n = petrel_udp_client_recv(c, buf, sizeof(buf), WAIT_MS);
    assert_int_equal(n, (int)strlen(msg));
    assert_memory_equal(buf, msg, strlen(msg));
}

static void client_echo(petrel_udp_client *c, const char *msg)
{
    client_send(c, msg);
    client_expect(c, msg);
}

/* The server's address, for raw sockets. */
static void server_sockaddr(const harness *h, struct sockaddr_storage *sa, socklen_t *len)
{
    memset(sa, 0, sizeof(*sa));
    if (h->family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)atoi(h->port));
        assert_int_equal(inet_pton(AF_INET6, h->host, &in6->sin6_addr), 1);
        *len = sizeof(*in6);
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)sa;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)atoi(h->port));
        assert_int_equal(inet_pton(AF_INET, h->host, &in->sin_addr), 1);
        *len = sizeof(*in);
    }
}

/* A UDP socket connected to the server: a fresh source address (port). */
static int raw_socket(harness *h)
{
    assert_true(h->raw_count < MAX_RAW_SOCKETS);
    struct sockaddr_storage sa;
    socklen_t len;
    server_sockaddr(h, &sa, &len);
    int fd = socket(h->family, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    h->raw[h->raw_count++] = fd;
    assert_int_equal(connect(fd, (const struct sockaddr *)&sa, len), 0);
    return fd;
}

static void raw_send(int fd, const uint8_t *buf, size_t len)
{
    assert_int_equal(send(fd, buf, len, 0), (ssize_t)len);
}

/* Receives one datagram within timeout_ms; returns its length, or -1. */
static ssize_t raw_recv(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
    uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        uint64_t now = now_ms();
        if (now >= deadline)
            return -1;
        struct pollfd pfd = {fd, POLLIN, 0};
        int ready = poll(&pfd, 1, (int)(deadline - now));
        if (ready < 0 && errno != EINTR)
            return -1;
        if (ready > 0) {
            ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
            if (n >= 0)
                return n;
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                return -1;
        }
    }
}

static bool is_hello_verify_request(const uint8_t *buf, ssize_t n)
{
    return n > REC_HEADER_LEN && buf[0] == CT_HANDSHAKE && buf[REC_HEADER_LEN] == HT_HELLO_VERIFY;
}

static void expect_hello_verify_request(int fd)
{
    uint8_t buf[DGRAM_MAX];
    ssize_t n = raw_recv(fd, buf, sizeof(buf), WAIT_MS);
    assert_true(n > REC_HEADER_LEN);
    assert_int_equal(buf[0], CT_HANDSHAKE);
    assert_int_equal(buf[REC_HEADER_LEN], HT_HELLO_VERIFY);
}

/* A client engine for a raw socket (freed by teardown). */
static petrel_conn *raw_conn(harness *h)
{
    assert_true(h->conn_count < MAX_CONNS);
    petrel_conn *conn = petrel_conn_new(h->client_cfg, PETREL_CLIENT, PETREL_DATAGRAM, NULL, 0);
    assert_non_null(conn);
    h->conns[h->conn_count++] = conn;
    return conn;
}

/* Sends every datagram conn has queued; returns how many, and copies the
 * first to first / *first_len when given. */
static int drain(petrel_conn *conn, int fd, uint8_t *first, size_t *first_len)
{
    const uint8_t *out;
    int n, count = 0;
    while ((n = petrel_get_outdata(conn, &out)) > 0) {
        if (count == 0 && first) {
            assert_true((size_t)n <= DGRAM_MAX);
            memcpy(first, out, (size_t)n);
            *first_len = (size_t)n;
        }
        if (fd >= 0)
            raw_send(fd, out, (size_t)n);
        assert_true(petrel_sent(conn, (size_t)n) >= 0);
        count++;
    }
    assert_int_equal(n, 0);
    return count;
}

/* A first ClientHello (no cookie) as a real client writes it. */
static size_t capture_client_hello(harness *h, uint8_t *buf)
{
    petrel_conn *conn = raw_conn(h);
    size_t len = 0;
    assert_int_equal(petrel_connect(conn), PETREL_REQUEST_SEND);
    assert_int_equal(drain(conn, -1, buf, &len), 1);
    assert_true(len > REC_HEADER_LEN);
    assert_int_equal(buf[0], CT_HANDSHAKE);
    assert_int_equal(buf[REC_HEADER_LEN], HT_CLIENT_HELLO);
    return len;
}

/* Feeds the datagram in conn's read buffer (n bytes) and steps through
 * every status; returns the last one. */
static int feed(petrel_conn *conn, size_t n)
{
    int rc = petrel_received(conn, n, NULL, NULL);
    while (rc == PETREL_HANDSHAKE_COMPLETE || rc == PETREL_APP_DATA || rc == PETREL_RECEIVED_ALERT)
        rc = petrel_processed(conn, NULL, NULL);
    return rc;
}

/* Runs conn's first round trip over fd: ClientHello, HelloVerifyRequest,
 * second ClientHello (with the cookie), which is copied to ch2 and sent
 * when send_second says so. Returns its length. */
static size_t raw_cookie_exchange(petrel_conn *conn, int fd, uint8_t *ch2, bool send_second)
{
    size_t len = 0;
    assert_int_equal(petrel_connect(conn), PETREL_REQUEST_SEND);
    assert_int_equal(drain(conn, fd, NULL, NULL), 1);
    uint8_t *readbuf;
    int cap = petrel_get_readbuf(conn, &readbuf);
    assert_true(cap > 0);
    ssize_t n = raw_recv(fd, readbuf, (size_t)cap, WAIT_MS);
    assert_true(is_hello_verify_request(readbuf, n));
    assert_int_equal(feed(conn, (size_t)n), PETREL_REQUEST_SEND);
    assert_int_equal(drain(conn, send_second ? fd : -1, ch2, &len), 1);
    assert_int_equal(ch2[0], CT_HANDSHAKE);
    assert_int_equal(ch2[REC_HEADER_LEN], HT_CLIENT_HELLO);
    return len;
}

/* A deterministic generator for the garbage test (xorshift64). */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void fill_random(uint64_t *s, uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)next_random(s);
}

/* ======================================================================
 * Tests
 * ====================================================================== */

/* One client: handshake, echo, close_notify ends the session with reason
 * 0 and the count goes back to 0. */
static void test_one_client_echo_and_close(void **state)
{
    harness *h = *state;
    server_start(h, "127.0.0.1", AF_INET, NULL);

    petrel_udp_client *c = client_connect(h);
    assert_true(wait_for(h, established_at_least, 1, WAIT_MS));
    assert_true(wait_for(h, sessions_are, 1, WAIT_MS));
    assert_true(strncmp(view(h).last_peer, "127.0.0.1:", 10) == 0);

    client_echo(c, "hello");

    assert_int_equal(petrel_udp_client_close(c), 0);
    assert_true(wait_for(h, closed_at_least, 1, WAIT_MS));
    assert_true(wait_for(h, sessions_are, 0, WAIT_MS));
    server_view v = view(h);
    assert_int_equal(v.closed, 1);
    assert_int_equal(v.reasons[0], 0);
    assert_int_equal(v.established, 1);
    assert_int_equal(v.records, 1);
    assert_server_healthy(h);
}

/* 20 clients alive at once: every echo comes back to its own sender. */
static void test_twenty_clients_demultiplexed(void **state)
{
    enum { N = 20 };
    harness *h = *state;
    server_start(h, "127.0.0.1", AF_INET, NULL);

    petrel_udp_client *c[N];
    char msg[N][32];
    for (int i = 0; i < N; i++) {
        c[i] = client_connect(h);
        snprintf(msg[i], sizeof(msg[i]), "message from client %02d", i);
    }
    assert_true(wait_for(h, established_at_least, N, WAIT_MS));
    assert_true(wait_for(h, sessions_are, N, WAIT_MS));

    /* All requests in flight before any reply is read. */
    for (int i = 0; i < N; i++)
        client_send(c[i], msg[i]);
    for (int i = N - 1; i >= 0; i--)
        client_expect(c[i], msg[i]);

    for (int i = 0; i < N; i++)
        assert_int_equal(petrel_udp_client_close(c[i]), 0);
    assert_true(wait_for(h, closed_at_least, N, WAIT_MS));
    assert_true(wait_for(h, sessions_are, 0, WAIT_MS));
    server_view v = view(h);
    assert_int_equal(v.closed, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(v.reasons[i], 0);
    assert_int_equal(v.max_sessions, N);
    assert_int_equal(v.records, N);
    assert_server_healthy(h);
}

/* ClientHellos without a cookie get a HelloVerifyRequest and leave nothing
 * behind: no session, and not one allocation through the server's
 * platform. */
static void test_cookie_gate_is_stateless(void **state)
{
    harness *h = *state;
    server_start(h, "127.0.0.1", AF_INET, NULL);
    uint8_t hello[DGRAM_MAX];
    size_t len = capture_client_hello(h, hello);
    size_t allocations = atomic_load(&h->server_allocations);
    assert_true(allocations > 0); /* the counter sees the server's own */

    int fd = raw_socket(h);
    raw_send(fd, hello, len);
    expect_hello_verify_request(fd);
    server_sync(h);
    assert_int_equal(view(h).sessions, 0);

    for (int i = 0; i < 100; i++) {
        raw_send(fd, hello, len);
        expect_hello_verify_request(fd);
    }
    for (int s = 0; s < 10; s++) {
        int other = raw_socket(h);
        for (int i = 0; i < 10; i++) {
            raw_send(other, hello, len);
            expect_hello_verify_request(other);
        }
    }
    server_sync(h);

    server_view v = view(h);
    assert_int_equal(v.sessions, 0);
    assert_int_equal(v.max_sessions, 0);
    assert_int_equal(v.established, 0);
    assert_int_equal(v.closed, 0);
    assert_int_equal(atomic_load(&h->server_allocations), allocations);
    assert_server_healthy(h);
}

/* Sends the cookieless hello from the sentinel socket and waits for its
 * HelloVerifyRequest: everything sent to the server before it has been
 * read by then (one socket, one queue). */
static void garbage_checkpoint(harness *h, int sentinel, const uint8_t *hello, size_t len)
{
    raw_send(sentinel, hello, len);
    expect_hello_verify_request(sentinel);
    server_sync(h);
    server_view v = view(h);
    assert_int_equal(v.max_sessions, 0);
    assert_int_equal(v.closed, 0);
}

/* Garbage from addresses the server does not know creates no session and
 * does not stop a real client afterwards. */
static void test_garbage_from_unknown_peers(void **state)
{
    enum { SOURCES = 8, BATCH = 32 };
    harness *h = *state;
    server_start(h, "127.0.0.1", AF_INET, NULL);
    uint8_t hello[DGRAM_MAX], buf[DGRAM_MAX];
    size_t hello_len = capture_client_hello(h, hello);
    int sentinel = raw_socket(h);
    int src[SOURCES];
    for (int i = 0; i < SOURCES; i++)
        src[i] = raw_socket(h);
    uint64_t seed = 0x9e3779b97f4a7c15u;
    int sent = 0;

    /* Random bytes of sizes 0..1500: the edges, then random sizes; some
     * with a plausible handshake or application-data record header. */
    static const size_t edges[] = {0, 1, 2, 12, 13, 14, 25, 26, 1232, 1499, 1500};
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        fill_random(&seed, buf, edges[i]);
        raw_send(src[sent++ % SOURCES], buf, edges[i]);
    }
    for (int i = 0; i < 300; i++) {
        size_t len = (size_t)(next_random(&seed) % 1501);
        fill_random(&seed, buf, len);
        if (len >= 3 && i % 3 == 1) {
            buf[0] = (i % 2) ? CT_HANDSHAKE : 23;
            buf[1] = 0xfe;
            buf[2] = 0xfd;
        }
        raw_send(src[sent++ % SOURCES], buf, len);
        if (sent % BATCH == 0)
            garbage_checkpoint(h, sentinel, hello, hello_len);
    }
    garbage_checkpoint(h, sentinel, hello, hello_len);

    /* Truncated records: every proper prefix of a ClientHello. */
    for (size_t len = 1; len < hello_len; len++) {
        raw_send(src[sent++ % SOURCES], hello, len);
        if (sent % BATCH == 0)
            garbage_checkpoint(h, sentinel, hello, hello_len);
    }
    garbage_checkpoint(h, sentinel, hello, hello_len);

    /* An application-data record (epoch 1) and one in epoch 0, an alert
     * and a ChangeCipherSpec, from addresses with no session. */
    static const uint8_t types[] = {23, 23, 21, 20};
    for (size_t t = 0; t < sizeof(types); t++) {
        uint8_t rec[REC_HEADER_LEN + 40];
        size_t body = t < 2 ? 40 : (types[t] == 21 ? 2 : 1);
        memset(rec, 0, sizeof(rec));
        rec[0] = types[t];
        rec[1] = 0xfe;
        rec[2] = 0xfd;
        rec[4] = t == 0 ? 1 : 0; /* epoch */
        rec[10] = 1;             /* sequence number */
        rec[11] = 0;
        rec[12] = (uint8_t)body;
        fill_random(&seed, rec + REC_HEADER_LEN, body);
        raw_send(src[t % SOURCES], rec, REC_HEADER_LEN + body);
    }
    garbage_checkpoint(h, sentinel, hello, hello_len);

    server_view v = view(h);
    assert_int_equal(v.sessions, 0);
    assert_int_equal(v.max_sessions, 0);
    assert_int_equal(v.established, 0);
    assert_server_healthy(h);

    /* Every proper prefix of a second ClientHello whose cookie is valid
     * for the address it comes from: none may open a session. The whole
     * one, sent last, does: so the cookie was good and only the
     * truncation stopped the others. */
    int fd = raw_socket(h);
    petrel_conn *conn = raw_conn(h);
    uint8_t ch2[DGRAM_MAX];
    size_t ch2_len = raw_cookie_exchange(conn, fd, ch2, false);
    for (size_t len = 1; len < ch2_len; len++)
        raw_send(fd, ch2, len);
    garbage_checkpoint(h, sentinel, hello, hello_len);
    v = view(h);
    assert_int_equal(v.sessions, 0);
    assert_int_equal(v.max_sessions, 0);
    raw_send(fd, ch2, ch2_len);
    ssize_t n = raw_recv(fd, buf, sizeof(buf), WAIT_MS);
    assert_true(n > REC_HEADER_LEN);
    assert_int_equal(buf[0], CT_HANDSHAKE);
    assert_true(wait_for(h, sessions_are, 1, WAIT_MS));

    /* A real client still gets through. */
    petrel_udp_client *c = client_connect(h);
    client_echo(c, "after the garbage");
    assert_true(wait_for(h, sessions_are, 2, WAIT_MS));
    assert_int_equal(view(h).closed, 0);
    assert_server_healthy(h);
}

/* A peer that passes the cookie check and goes silent: the half-open
 * session expires after handshake_timeout_ms. */
static void test_half_open_session_expires(void **state)
{
    harness *h = *state;
    const petrel_udp_server_options opt = {.handshake_timeout_ms = 300};
    server_start(h, "127.0.0.1", AF_INET, &opt);
    int fd = raw_socket(h);
    petrel_conn *conn = raw_conn(h);
    uint8_t ch2[DGRAM_MAX];

    uint64_t start = now_ms();
    (void)raw_cookie_exchange(conn, fd, ch2, true);
    /* The server answers the second hello with its flight: the session
     * exists. */
    uint8_t buf[DGRAM_MAX];
    ssize_t n = raw_recv(fd, buf, sizeof(buf), WAIT_MS);
    assert_true(n > REC_HEADER_LEN);
    assert_int_equal(buf[0], CT_HANDSHAKE);
    server_sync(h);
    server_view v = view(h);
    assert_int_equal(v.max_sessions, 1);
    assert_int_equal(v.established, 0);

    assert_true(wait_for(h, closed_at_least, 1, 2000));
    uint64_t elapsed = now_ms() - start;
    assert_true(wait_for(h, sessions_are, 0, WAIT_MS));
    v = view(h);
    assert_int_equal(v.closed, 1);
    assert_int_equal(v.reasons[0], PETREL_ERR_TIMEOUT);
    assert_true(elapsed >= 250);
    assert_int_equal(v.max_sessions, 1);
    assert_server_healthy(h);
}

/* An established session with nothing to say expires after
 * idle_timeout_ms. */
static void test_idle_session_expires(void **state)
{
    harness *h = *state;
    const petrel_udp_server_options opt = {.idle_timeout_ms = 300};
    server_start(h, "127.0.0.1", AF_INET, &opt);

    (void)client_connect(h);
    uint64_t start = now_ms();
    assert_true(wait_for(h, established_at_least, 1, WAIT_MS));
    assert_true(wait_for(h, closed_at_least, 1, 2000));
    uint64_t elapsed = now_ms() - start;
    assert_true(wait_for(h, sessions_are, 0, WAIT_MS));
    server_view v = view(h);
    assert_int_equal(v.closed, 1);
    assert_int_equal(v.reasons[0], PETREL_ERR_TIMEOUT);
    assert_true(elapsed >= 200);
    assert_server_healthy(h);
}

/* max_half_open = 2: two peers that pass the cookie check and go silent
 * fill the half-open places; a third peer's second ClientHello gets no
 * session (no answer), while the two expire and then a normal client
 * gets in. */
static void test_max_half_open(void **state)
{
    harness *h = *state;
    const petrel_udp_server_options opt = {.max_half_open = 2, .handshake_timeout_ms = 400};
    server_start(h, "127.0.0.1", AF_INET, &opt);
    uint8_t ch2[DGRAM_MAX], buf[DGRAM_MAX];
    for (int i = 0; i < 2; i++) {
        int fd = raw_socket(h);
        (void)raw_cookie_exchange(raw_conn(h), fd, ch2, true);
        assert_true(raw_recv(fd, buf, sizeof(buf), WAIT_MS) > REC_HEADER_LEN);
    }
    assert_true(wait_for(h, sessions_are, 2, WAIT_MS));
    int third = raw_socket(h);
    (void)raw_cookie_exchange(raw_conn(h), third, ch2, true);
    /* No server flight comes back within well under the half-open
     * lifetime: the hello was refused. */
    assert_true(raw_recv(third, buf, sizeof(buf), 200) < 0);
    server_sync(h);
    server_view v = view(h);
    assert_int_equal(v.max_sessions, 2);
    assert_true(wait_for(h, closed_at_least, 2, 3000));
    assert_true(wait_for(h, sessions_are, 0, WAIT_MS));
    client_echo(client_connect(h), "after the half-open ones expired");
    assert_server_healthy(h);
}

/* max_sessions = 3: a fourth peer cannot get in while three are alive;
 * the three keep working, and a place freed by a close can be taken. */
static void test_max_sessions(void **state)
{
    harness *h = *state;
    const petrel_udp_server_options opt = {.max_sessions = 3};
    server_start(h, "127.0.0.1", AF_INET, &opt);

    petrel_udp_client *c[3];
    for (int i = 0; i < 3; i++)
        c[i] = client_connect(h);
    assert_true(wait_for(h, sessions_are, 3, WAIT_MS));

    petrel_udp_client *fourth = client_new(h);
    uint64_t start = now_ms();
    int rc = petrel_udp_client_handshake(fourth, 1500);
    uint64_t elapsed = now_ms() - start;
    if (rc != PETREL_ERR_TIMEOUT && rc != PETREL_ERR_HANDSHAKE_TIMEOUT)
        print_error("fourth handshake: %d (%s)\n", rc, petrel_error_name(rc));
    assert_true(rc == PETREL_ERR_TIMEOUT || rc == PETREL_ERR_HANDSHAKE_TIMEOUT);
    assert_true(elapsed < 3000);
    server_view v = view(h);
    assert_int_equal(v.max_sessions, 3);
    assert_int_equal(v.established, 3);

    client_echo(c[0], "first");
    client_echo(c[1], "second");
    client_echo(c[2], "third");

    /* A close frees a place. */
    assert_int_equal(petrel_udp_client_close(c[0]), 0);
    assert_true(wait_for(h, sessions_are, 2, WAIT_MS));
    petrel_udp_client *late = client_connect(h);
    client_echo(late, "late");
    assert_true(wait_for(h, sessions_are, 3, WAIT_MS));
    assert_server_healthy(h);
}

/* Whether this host can bind a UDP socket to ::1. */
static bool ipv6_loopback_available(void)
{
    int fd = socket(AF_INET6, SOCK_DGRAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in6 sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin6_family = AF_INET6;
    sa.sin6_addr = in6addr_loopback;
    bool ok = bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

static void test_ipv6_loopback(void **state)
{
    harness *h = *state;
    if (!ipv6_loopback_available()) {
        print_message("IPv6 is unavailable here (cannot bind ::1): case passes untested\n");
        return;
    }
    server_start(h, "::1", AF_INET6, NULL);
    petrel_udp_client *c = client_connect(h);
    assert_true(wait_for(h, established_at_least, 1, WAIT_MS));
    client_echo(c, "hello over IPv6");
    server_view v = view(h);
    assert_true(strncmp(v.last_peer, "[::1]:", 6) == 0);
    assert_int_equal(petrel_udp_client_close(c), 0);
    assert_true(wait_for(h, closed_at_least, 1, WAIT_MS));
    assert_int_equal(view(h).reasons[0], 0);
    assert_server_healthy(h);
}

/* A port nobody listens on: the handshake gives up on time. */
static void test_client_without_server(void **state)
{
    harness *h = *state;
    /* A port that was free a moment ago. */
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (const struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    snprintf(h->host, sizeof(h->host), "127.0.0.1");
    snprintf(h->port, sizeof(h->port), "%u", (unsigned)ntohs(sa.sin_port));

    petrel_udp_client *c = client_new(h);
    uint64_t start = now_ms();
    int rc = petrel_udp_client_handshake(c, 1500);
    uint64_t elapsed = now_ms() - start;
    if (rc != PETREL_ERR_TIMEOUT && rc != PETREL_ERR_IO)
        print_error("handshake: %d (%s)\n", rc, petrel_error_name(rc));
    assert_true(rc == PETREL_ERR_TIMEOUT || rc == PETREL_ERR_IO);
    assert_true(elapsed < 3000);
}

static void test_client_unresolvable_host(void **state)
{
    harness *h = *state;
    int error = 0;
    petrel_udp_client *c =
        petrel_udp_client_new(h->client_cfg, "no-such-host.invalid", "4433", &error);
    assert_null(c);
    assert_int_equal(error, PETREL_ERR_RESOLVE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_client_echo_and_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_twenty_clients_demultiplexed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cookie_gate_is_stateless, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_from_unknown_peers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_half_open_session_expires, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_session_expires, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_half_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_loopback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_without_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_unresolvable_host, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
