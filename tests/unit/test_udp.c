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
 * addresses; half-open and idle expiry; next_timeout driving an outside
 * poll loop; max_sessions; IPv6; a port with no
 * server; an unresolvable host.
 *
 * The server thread and what it records are the shared harness of
 * tests/support/net_test.h: the test thread only reads copies of the
 * record, and waits on it with a deadline.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <petrel/petrel.h>
#include <petrel/udp.h>

#include "tests/support/net_test.h"

#define MAX_CLIENTS     32
#define MAX_CONNS       4
#define WAIT_MS         3000 /* bound on any wait for the server */
#define HANDSHAKE_MS    5000
#define DGRAM_MAX       2048
#define REC_HEADER_LEN  13 /* DTLS record header: type, version, epoch, sequence, length */
#define CT_HANDSHAKE    22
#define HT_CLIENT_HELLO 1
#define HT_HELLO_VERIFY 3

/* ======================================================================
 * Harness
 * ====================================================================== */

typedef struct harness {
    net_test_harness net; /* the server thread, its record, the raw sockets */
    petrel_config *server_cfg;
    petrel_config *client_cfg;
    atomic_size_t server_allocations; /* alloc/realloc calls through server_cfg */

    petrel_udp_server *srv;
    char host[64]; /* the server's address, as the clients use it */
    char port[16]; /* the server's bound port */

    /* Owned by the test thread; released by teardown whatever happens. */
    petrel_udp_client *clients[MAX_CLIENTS];
    size_t client_count;
    petrel_conn *conns[MAX_CONNS];
    size_t conn_count;
} harness;

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
    petrel_platform p = net_test_platform();
    if (count_allocations) {
        p.alloc = counting_alloc;
        p.realloc = counting_realloc;
        p.free = counting_free;
        p.alloc_ref = h;
    }
    return net_test_psk_config(&p);
}

static net_test_record view(harness *h)
{
    return net_test_view(&h->net);
}

static bool wait_for(harness *h, net_test_condition cond, uint64_t arg, int timeout_ms)
{
    return net_test_wait(&h->net, cond, arg, timeout_ms);
}

/* Returns once the server has finished the run_once that was under way
 * (so every datagram it answered has been fully handled and counted). */
static void server_sync(harness *h)
{
    uint64_t loops = view(h).loops;
    assert_true(wait_for(h, net_test_loops_at_least, loops + 2, WAIT_MS));
}

/* ---- the server's handlers and thread ---- */

static void on_established(void *ref, petrel_udp_session *s)
{
    harness *h = ref;
    net_test_note_established(&h->net, petrel_udp_session_peer(s), 0);
}

static void on_data(void *ref, petrel_udp_session *s, const uint8_t *data, size_t len)
{
    harness *h = ref;
    int rc = petrel_udp_session_send(s, data, len);
    net_test_note_data(&h->net, data, len, rc);
}

static void on_closed(void *ref, petrel_udp_session *s, int reason)
{
    harness *h = ref;
    (void)s;
    net_test_note_closed(&h->net, reason);
}

static int server_step(void *ref, size_t *sessions)
{
    harness *h = ref;
    int rc = petrel_udp_server_run_once(h->srv, 20);
    *sessions = petrel_udp_server_session_count(h->srv);
    return rc;
}

/* Starts a server on host:0 with opt. */
static void server_start(harness *h, const char *host, const petrel_udp_server_options *opt)
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
    net_test_start(&h->net, server_step, h);
}

static void server_stop(harness *h)
{
    net_test_stop(&h->net);
    petrel_udp_server_free(h->srv); /* after the join: handlers may run */
    h->srv = NULL;
}

/* After a test's own checks: the server loop never failed. */
static void assert_server_healthy(harness *h)
{
    net_test_assert_healthy(&h->net);
}

static int setup(void **state)
{
    static harness h;
    memset(&h, 0, sizeof(h));
    atomic_init(&h.server_allocations, 0);
    if (net_test_init(&h.net) != 0)
        return -1;
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
    for (size_t i = 0; i < h->conn_count; i++)
        petrel_conn_free(h->conns[i]);
    petrel_config_free(h->server_cfg);
    petrel_config_free(h->client_cfg);
    net_test_finish(&h->net);
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
    net_test_assert_handshake(rc, petrel_udp_client_conn(c));
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

/* A UDP socket connected to the server: a fresh source address (port). */
static int raw_socket(harness *h)
{
    return net_test_connect(&h->net, SOCK_DGRAM, h->host, h->port);
}

static void raw_send(int fd, const uint8_t *buf, size_t len)
{
    assert_int_equal(send(fd, buf, len, 0), (ssize_t)len);
}

/* Receives one datagram within timeout_ms; returns its length, or -1. */
static ssize_t raw_recv(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
    return net_test_recv(fd, buf, cap, net_test_now_ms() + (uint64_t)timeout_ms);
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
    assert_int_equal(net_test_feed(conn, (size_t)n), PETREL_REQUEST_SEND);
    assert_int_equal(drain(conn, send_second ? fd : -1, ch2, &len), 1);
    assert_int_equal(ch2[0], CT_HANDSHAKE);
    assert_int_equal(ch2[REC_HEADER_LEN], HT_CLIENT_HELLO);
    return len;
}

/* Deterministic garbage. */
static void fill_random(uint64_t *s, uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)net_test_random(s);
}

/* ======================================================================
 * Tests
 * ====================================================================== */

/* One client: handshake, echo, close_notify ends the session with reason
 * 0 and the count goes back to 0. */
static void test_one_client_echo_and_close(void **state)
{
    harness *h = *state;
    server_start(h, "127.0.0.1", NULL);

    petrel_udp_client *c = client_connect(h);
    assert_true(wait_for(h, net_test_established_at_least, 1, WAIT_MS));
    assert_true(wait_for(h, net_test_sessions_are, 1, WAIT_MS));
    assert_true(strncmp(view(h).last_peer, "127.0.0.1:", 10) == 0);

    client_echo(c, "hello");

    assert_int_equal(petrel_udp_client_close(c), 0);
    assert_true(wait_for(h, net_test_closed_at_least, 1, WAIT_MS));
    assert_true(wait_for(h, net_test_sessions_are, 0, WAIT_MS));
    net_test_record v = view(h);
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
    server_start(h, "127.0.0.1", NULL);

    petrel_udp_client *c[N];
    char msg[N][32];
    for (int i = 0; i < N; i++) {
        c[i] = client_connect(h);
        snprintf(msg[i], sizeof(msg[i]), "message from client %02d", i);
    }
    assert_true(wait_for(h, net_test_established_at_least, N, WAIT_MS));
    assert_true(wait_for(h, net_test_sessions_are, N, WAIT_MS));

    /* All requests in flight before any reply is read. */
    for (int i = 0; i < N; i++)
        client_send(c[i], msg[i]);
    for (int i = N - 1; i >= 0; i--)
        client_expect(c[i], msg[i]);

    for (int i = 0; i < N; i++)
        assert_int_equal(petrel_udp_client_close(c[i]), 0);
    assert_true(wait_for(h, net_test_closed_at_least, N, WAIT_MS));
    assert_true(wait_for(h, net_test_sessions_are, 0, WAIT_MS));
    net_test_record v = view(h);
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
    server_start(h, "127.0.0.1", NULL);
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

    net_test_record v = view(h);
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
    net_test_record v = view(h);
    assert_int_equal(v.max_sessions, 0);
    assert_int_equal(v.closed, 0);
}

/* Garbage from addresses the server does not know creates no session and
 * does not stop a real client afterwards. */
static void test_garbage_from_unknown_peers(void **state)
{
    enum { SOURCES = 8, BATCH = 32 };
    harness *h = *state;
    server_start(h, "127.0.0.1", NULL);
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
        size_t len = (size_t)(net_test_random(&seed) % 1501);
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

    net_test_record v = view(h);
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
    assert_true(wait_for(h, net_test_sessions_are, 1, WAIT_MS));

    /* A real client still gets through. */
    petrel_udp_client *c = client_connect(h);
    client_echo(c, "after the garbage");
    assert_true(wait_for(h, net_test_sessions_are, 2, WAIT_MS));
    assert_int_equal(view(h).closed, 0);
    assert_server_healthy(h);
}

/* A peer that passes the cookie check and goes silent: the half-open
 * session expires after handshake_timeout_ms. */
static void test_half_open_session_expires(void **state)
{
    harness *h = *state;
    const petrel_udp_server_options opt = {.handshake_timeout_ms = 300};
    server_start(h, "127.0.0.1", &opt);
    int fd = raw_socket(h);
    petrel_conn *conn = raw_conn(h);
    uint8_t ch2[DGRAM_MAX];

    uint64_t start = net_test_now_ms();
    (void)raw_cookie_exchange(conn, fd, ch2, true);
    /* The server answers the second hello with its flight: the session
     * exists. */
    uint8_t buf[DGRAM_MAX];
    ssize_t n = raw_recv(fd, buf, sizeof(buf), WAIT_MS);
    assert_true(n > REC_HEADER_LEN);
    assert_int_equal(buf[0], CT_HANDSHAKE);
    server_sync(h);
    net_test_record v = view(h);
    assert_int_equal(v.max_sessions, 1);
    assert_int_equal(v.established, 0);

    assert_true(wait_for(h, net_test_closed_at_least, 1, 2000));
    uint64_t elapsed = net_test_now_ms() - start;
    assert_true(wait_for(h, net_test_sessions_are, 0, WAIT_MS));
    v = view(h);
    assert_int_equal(v.closed, 1);
    assert_int_equal(v.reasons[0], PETREL_ERR_TIMEOUT);
    assert_true(elapsed >= 250);
    assert_int_equal(v.max_sessions, 1);
    assert_server_healthy(h);
}

/* petrel_udp_server_next_timeout, with the server driven from this thread
 * as an outside poll loop drives it: poll the server's fd for at most the
 * wait it publishes, then run_once(srv, 0). The wait covers the cookie
 * rotation, then a half-open session's retransmission and expiry; the
 * loop wakes a handful of times, not every few milliseconds, and the
 * session expires on time. */
static void test_next_timeout_drives_an_outside_loop(void **state)
{
    harness *h = *state;
    const petrel_udp_server_options opt = {.handshake_timeout_ms = 400, .cookie_rotation_ms = 5000};
    const petrel_udp_server_handlers handlers = {on_established, on_data, on_closed};
    int error = 0;
    h->srv = petrel_udp_server_new(h->server_cfg, "127.0.0.1", "0", &opt, &handlers, h, &error);
    assert_non_null(h->srv);
    snprintf(h->port, sizeof(h->port), "%d", petrel_udp_server_port(h->srv));
    snprintf(h->host, sizeof(h->host), "127.0.0.1");
    assert_int_equal(petrel_udp_server_next_timeout(NULL), PETREL_ERR_ARG);
    int wait = petrel_udp_server_next_timeout(h->srv);
    assert_true(wait > 3000 && wait <= 5000); /* only the cookie rotation */

    /* A client that passes the cookie check and goes silent. */
    int fd = raw_socket(h);
    petrel_conn *conn = raw_conn(h);
    assert_int_equal(petrel_connect(conn), PETREL_REQUEST_SEND);
    assert_int_equal(drain(conn, fd, NULL, NULL), 1);
    assert_int_equal(petrel_udp_server_run_once(h->srv, WAIT_MS), 0);
    uint8_t *readbuf;
    int cap = petrel_get_readbuf(conn, &readbuf);
    assert_true(cap > 0);
    ssize_t n = raw_recv(fd, readbuf, (size_t)cap, WAIT_MS);
    assert_true(is_hello_verify_request(readbuf, n));
    assert_int_equal(net_test_feed(conn, (size_t)n), PETREL_REQUEST_SEND);
    assert_int_equal(drain(conn, fd, NULL, NULL), 1);
    uint64_t start = net_test_now_ms();
    for (int i = 0; i < 100 && petrel_udp_server_half_open_count(h->srv) == 0; i++)
        assert_int_equal(petrel_udp_server_run_once(h->srv, 50), 0);
    assert_int_equal(petrel_udp_server_half_open_count(h->srv), 1);
    wait = petrel_udp_server_next_timeout(h->srv);
    assert_true(wait >= 0 && wait <= 400); /* retransmission or expiry */

    int wakeups = 0;
    while (petrel_udp_server_session_count(h->srv) > 0 && net_test_now_ms() - start < WAIT_MS) {
        wait = petrel_udp_server_next_timeout(h->srv);
        assert_true(wait >= 0);
        struct pollfd pfd = {petrel_udp_server_fd(h->srv), POLLIN, 0};
        (void)poll(&pfd, 1, wait);
        assert_int_equal(petrel_udp_server_run_once(h->srv, 0), 0);
        wakeups++;
    }
    uint64_t elapsed = net_test_now_ms() - start;
    assert_int_equal(petrel_udp_server_session_count(h->srv), 0);
    net_test_record v = view(h);
    assert_int_equal(v.closed, 1);
    assert_int_equal(v.reasons[0], PETREL_ERR_TIMEOUT);
    assert_true(elapsed >= 350);
    /* Retransmissions and the expiry, not a busy loop. */
    assert_true(wakeups <= 12);
    wait = petrel_udp_server_next_timeout(h->srv);
    assert_true(wait > 3000 && wait <= 5000);
}

/* An established session with nothing to say expires after
 * idle_timeout_ms. */
static void test_idle_session_expires(void **state)
{
    harness *h = *state;
    const petrel_udp_server_options opt = {.idle_timeout_ms = 300};
    server_start(h, "127.0.0.1", &opt);

    (void)client_connect(h);
    uint64_t start = net_test_now_ms();
    assert_true(wait_for(h, net_test_established_at_least, 1, WAIT_MS));
    assert_true(wait_for(h, net_test_closed_at_least, 1, 2000));
    uint64_t elapsed = net_test_now_ms() - start;
    assert_true(wait_for(h, net_test_sessions_are, 0, WAIT_MS));
    net_test_record v = view(h);
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
    server_start(h, "127.0.0.1", &opt);
    uint8_t ch2[DGRAM_MAX], buf[DGRAM_MAX];
    for (int i = 0; i < 2; i++) {
        int fd = raw_socket(h);
        (void)raw_cookie_exchange(raw_conn(h), fd, ch2, true);
        assert_true(raw_recv(fd, buf, sizeof(buf), WAIT_MS) > REC_HEADER_LEN);
    }
    assert_true(wait_for(h, net_test_sessions_are, 2, WAIT_MS));
    int third = raw_socket(h);
    (void)raw_cookie_exchange(raw_conn(h), third, ch2, true);
    /* No server flight comes back within well under the half-open
     * lifetime: the hello was refused. */
    assert_true(raw_recv(third, buf, sizeof(buf), 200) < 0);
    server_sync(h);
    net_test_record v = view(h);
    assert_int_equal(v.max_sessions, 2);
    assert_true(wait_for(h, net_test_closed_at_least, 2, 3000));
    assert_true(wait_for(h, net_test_sessions_are, 0, WAIT_MS));
    client_echo(client_connect(h), "after the half-open ones expired");
    assert_server_healthy(h);
}

/* max_sessions = 3: a fourth peer cannot get in while three are alive;
 * the three keep working, and a place freed by a close can be taken. */
static void test_max_sessions(void **state)
{
    harness *h = *state;
    const petrel_udp_server_options opt = {.max_sessions = 3};
    server_start(h, "127.0.0.1", &opt);

    petrel_udp_client *c[3];
    for (int i = 0; i < 3; i++)
        c[i] = client_connect(h);
    assert_true(wait_for(h, net_test_sessions_are, 3, WAIT_MS));

    petrel_udp_client *fourth = client_new(h);
    uint64_t start = net_test_now_ms();
    int rc = petrel_udp_client_handshake(fourth, 1500);
    uint64_t elapsed = net_test_now_ms() - start;
    if (rc != PETREL_ERR_TIMEOUT && rc != PETREL_ERR_HANDSHAKE_TIMEOUT)
        print_error("fourth handshake: %d (%s)\n", rc, petrel_error_name(rc));
    assert_true(rc == PETREL_ERR_TIMEOUT || rc == PETREL_ERR_HANDSHAKE_TIMEOUT);
    assert_true(elapsed < 3000);
    net_test_record v = view(h);
    assert_int_equal(v.max_sessions, 3);
    assert_int_equal(v.established, 3);

    client_echo(c[0], "first");
    client_echo(c[1], "second");
    client_echo(c[2], "third");

    /* A close frees a place. */
    assert_int_equal(petrel_udp_client_close(c[0]), 0);
    assert_true(wait_for(h, net_test_sessions_are, 2, WAIT_MS));
    petrel_udp_client *late = client_connect(h);
    client_echo(late, "late");
    assert_true(wait_for(h, net_test_sessions_are, 3, WAIT_MS));
    assert_server_healthy(h);
}

static void test_ipv6_loopback(void **state)
{
    harness *h = *state;
    if (net_test_ipv6_unavailable(SOCK_DGRAM))
        return;
    server_start(h, "::1", NULL);
    petrel_udp_client *c = client_connect(h);
    assert_true(wait_for(h, net_test_established_at_least, 1, WAIT_MS));
    client_echo(c, "hello over IPv6");
    net_test_record v = view(h);
    assert_true(strncmp(v.last_peer, "[::1]:", 6) == 0);
    assert_int_equal(petrel_udp_client_close(c), 0);
    assert_true(wait_for(h, net_test_closed_at_least, 1, WAIT_MS));
    assert_int_equal(view(h).reasons[0], 0);
    assert_server_healthy(h);
}

/* A port nobody listens on: the handshake gives up on time. */
static void test_client_without_server(void **state)
{
    harness *h = *state;
    /* A port that was free a moment ago. */
    net_test_free_port(SOCK_DGRAM, h->port, sizeof(h->port));
    snprintf(h->host, sizeof(h->host), "127.0.0.1");

    petrel_udp_client *c = client_new(h);
    uint64_t start = net_test_now_ms();
    int rc = petrel_udp_client_handshake(c, 1500);
    uint64_t elapsed = net_test_now_ms() - start;
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
        cmocka_unit_test_setup_teardown(test_next_timeout_drives_an_outside_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_half_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_loopback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_without_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_unresolvable_host, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
