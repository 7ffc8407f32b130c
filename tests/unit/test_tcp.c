/*
 * Tests for the TCP adapters (petrel/tcp.h) over real sockets on loopback:
 * a server on port 0 runs in its own thread (petrel_tcp_server_run_once
 * in a loop, or an outside poll() over its epoll descriptor) and echoes
 * every byte back; clients run in the test's thread, blocking or
 * non-blocking (timeout 0 and poll on petrel_tcp_client_fd). Where a test
 * needs a misbehaving peer, it is a plain socket: one that sends garbage,
 * one that closes without close_notify, or a hand-rolled server that runs
 * a petrel_conn itself and drops the connection.
 *
 * Cases: PSK and ECDSA-certificate echo; short reads keep the rest of a
 * record; 10 MB each way with random write sizes and random read sizes,
 * blocking (lockstep) and non-blocking (full duplex); a client that
 * writes 12 MB before reading (the server's back-pressure); a
 * non-blocking handshake and 1 MB; close from either side, and a server
 * close the client never answers; a greeting sent from on_established;
 * truncation seen by the server and by the client; a peer that vanishes
 * mid-transfer (no SIGPIPE); ten clients at once; garbage and an
 * oversized record header; half-open and idle expiry; max_sessions; IPv6
 * dual stack; bad arguments; a port with no server; an unresolvable host;
 * one outside poll loop serving a TLS and a DTLS client.
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

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <petrel/petrel.h>
#include <petrel/tcp.h>
#include <petrel/udp.h>

#include "tests/support/net_test.h"

#define MAX_CLIENTS  16
#define WAIT_MS      5000 /* bound on any wait for the other side */
#define BULK_MS      30000
#define STALL_MS     300 /* writes this long without progress: the peer stopped reading */
#define CLOSE_MARKER "please close"
#define GREETING     "welcome"
#define PKI(name)    PETREL_SOURCE_DIR "/tests/pki/" name

/* ======================================================================
 * Data: a deterministic byte stream and a checksum
 * ====================================================================== */

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

/* Bytes [pos, pos + len) of the stream named by seed. */
static void stream_fill(uint64_t seed, uint64_t pos, uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++, pos++)
        buf[i] = (uint8_t)(splitmix64(seed ^ (pos >> 3)) >> (8 * (pos & 7)));
}

static size_t random_between(uint64_t *s, size_t lo, size_t hi)
{
    return lo + (size_t)(net_test_random(s) % (hi - lo + 1));
}

/* ======================================================================
 * Harness
 * ====================================================================== */

typedef struct harness {
    net_test_harness net; /* the server thread, its record, the raw sockets */
    petrel_config *server_cfg;
    petrel_config *client_cfg;
    petrel_config *udp_cfg; /* the DTLS server's (it rotates cookie secrets) */

    petrel_tcp_server *srv;
    petrel_udp_server *udp;
    bool outer_poll; /* the thread polls the servers' descriptors itself */
    char host[64];
    char port[16];
    char udp_port[16];
    bool greet; /* set before the thread starts: on_established sends GREETING */

    /* Under net.lock, written by the server thread. */
    size_t tcp_wakeups; /* outer poll: the epoll descriptor was readable */
    size_t udp_established;
    size_t udp_records;
    bool user_mismatch; /* petrel_tcp_session_user lost what on_established set */

    /* Owned by the test thread; released by teardown whatever happens. */
    petrel_tcp_client *clients[MAX_CLIENTS];
    size_t client_count;
    petrel_udp_client *udp_client;
} harness;

static net_test_record view(harness *h)
{
    return net_test_view(&h->net);
}

static bool wait_for(harness *h, net_test_condition cond, uint64_t arg, int timeout_ms)
{
    return net_test_wait(&h->net, cond, arg, timeout_ms);
}

/* ---- the server's handlers and thread ---- */

static void on_established(void *ref, petrel_tcp_session *s)
{
    harness *h = ref;
    petrel_tcp_session_set_user(s, h);
    int rc = h->greet ? petrel_tcp_session_send(s, (const uint8_t *)GREETING, strlen(GREETING)) : 0;
    net_test_note_established(&h->net, petrel_tcp_session_peer(s), rc);
}

/* Echoes every byte, except the close marker, which makes the server
 * close the session (close_notify) from inside the handler. */
static void on_data(void *ref, petrel_tcp_session *s, const uint8_t *data, size_t len)
{
    harness *h = ref;
    bool close_request = len == strlen(CLOSE_MARKER) && memcmp(data, CLOSE_MARKER, len) == 0;
    int rc = close_request ? petrel_tcp_session_close(s) : petrel_tcp_session_send(s, data, len);
    if (petrel_tcp_session_user(s) != h) {
        net_test_lock(&h->net);
        h->user_mismatch = true;
        net_test_unlock(&h->net);
    }
    net_test_note_data(&h->net, data, len, rc);
}

static void on_closed(void *ref, petrel_tcp_session *s, int reason)
{
    harness *h = ref;
    (void)s;
    net_test_note_closed(&h->net, reason);
}

static void on_udp_established(void *ref, petrel_udp_session *s)
{
    harness *h = ref;
    (void)s;
    net_test_lock(&h->net);
    h->udp_established++;
    net_test_unlock(&h->net);
}

static void on_udp_data(void *ref, petrel_udp_session *s, const uint8_t *data, size_t len)
{
    harness *h = ref;
    int rc = petrel_udp_session_send(s, data, len);
    net_test_lock(&h->net);
    h->udp_records++;
    net_test_unlock(&h->net);
    net_test_note_send(&h->net, rc);
}

/* One pass of the outside poll loop: run_once only for a server whose
 * descriptor is readable (the UDP one also when the wait ends, for its
 * timers). */
static int outer_poll_pass(harness *h, bool *tcp_woke)
{
    struct pollfd fds[2] = {{petrel_tcp_server_fd(h->srv), POLLIN, 0}, {-1, POLLIN, 0}};
    nfds_t count = 1;
    if (h->udp) {
        fds[1].fd = petrel_udp_server_fd(h->udp);
        count = 2;
    }
    int ready = poll(fds, count, 20);
    if (ready < 0)
        return errno == EINTR ? 0 : -1;
    int rc = 0;
    *tcp_woke = fds[0].revents & POLLIN;
    if (*tcp_woke)
        rc = petrel_tcp_server_run_once(h->srv, 0);
    if (h->udp && (ready == 0 || (fds[1].revents & POLLIN))) {
        int urc = petrel_udp_server_run_once(h->udp, 0);
        if (rc == 0)
            rc = urc;
    }
    return rc;
}

static int server_step(void *ref, size_t *sessions)
{
    harness *h = ref;
    bool tcp_woke = false;
    int rc = h->outer_poll ? outer_poll_pass(h, &tcp_woke) : petrel_tcp_server_run_once(h->srv, 20);
    *sessions = petrel_tcp_server_session_count(h->srv);
    if (tcp_woke) {
        net_test_lock(&h->net);
        h->tcp_wakeups++;
        net_test_unlock(&h->net);
    }
    return rc;
}

/* Starts a server on host:0 with opt (NULL for the defaults). */
static void server_start(harness *h, const char *host, const petrel_tcp_server_options *opt)
{
    const petrel_tcp_server_handlers handlers = {on_established, on_data, on_closed};
    int error = 1;
    h->srv = petrel_tcp_server_new(h->server_cfg, host, "0", opt, &handlers, h, &error);
    assert_non_null(h->srv);
    assert_int_equal(error, 0);
    int port = petrel_tcp_server_port(h->srv);
    assert_true(port > 0 && port < 65536);
    assert_true(petrel_tcp_server_fd(h->srv) >= 0);
    snprintf(h->port, sizeof(h->port), "%d", port);
    snprintf(h->host, sizeof(h->host), "%s", strcmp(host, "::") == 0 ? "::1" : host);
    net_test_start(&h->net, server_step, h);
}

static void server_stop(harness *h)
{
    net_test_stop(&h->net);
    petrel_tcp_server_free(h->srv); /* after the join: handlers may run */
    h->srv = NULL;
    petrel_udp_server_free(h->udp);
    h->udp = NULL;
}

static void assert_server_healthy(harness *h)
{
    net_test_assert_healthy(&h->net);
    net_test_lock(&h->net);
    bool user_mismatch = h->user_mismatch;
    net_test_unlock(&h->net);
    assert_false(user_mismatch);
}

static int setup(void **state)
{
    static harness h;
    memset(&h, 0, sizeof(h));
    if (net_test_init(&h.net) != 0)
        return -1;
    h.server_cfg = net_test_psk_config(NULL);
    h.client_cfg = net_test_psk_config(NULL);
    h.udp_cfg = net_test_psk_config(NULL);
    *state = &h;
    return 0;
}

static int teardown(void **state)
{
    harness *h = *state;
    server_stop(h);
    for (size_t i = 0; i < h->client_count; i++)
        petrel_tcp_client_free(h->clients[i]);
    petrel_udp_client_free(h->udp_client);
    petrel_config_free(h->server_cfg);
    petrel_config_free(h->client_cfg);
    petrel_config_free(h->udp_cfg);
    net_test_finish(&h->net);
    return 0;
}

/* ======================================================================
 * Clients
 * ====================================================================== */

/* A client connected (TCP) to host:port, no handshake yet; freed by
 * teardown. */
static petrel_tcp_client *client_new_to(harness *h, const char *host, const char *port)
{
    assert_true(h->client_count < MAX_CLIENTS);
    int error = 1;
    petrel_tcp_client *c = petrel_tcp_client_new(h->client_cfg, host, port, &error);
    if (!c)
        print_error("client: %s\n", petrel_error_name(error));
    assert_non_null(c);
    assert_int_equal(error, 0);
    assert_true(petrel_tcp_client_fd(c) >= 0);
    h->clients[h->client_count++] = c;
    return c;
}

static petrel_tcp_client *client_connect_to(harness *h, const char *host)
{
    petrel_tcp_client *c = client_new_to(h, host, h->port);
    int rc = petrel_tcp_client_handshake(c, WAIT_MS);
    petrel_conn *conn = petrel_tcp_client_conn(c);
    net_test_assert_handshake(rc, conn);
    assert_int_equal(petrel_conn_mode(conn), PETREL_STREAM);
    assert_int_equal(petrel_protocol_version(conn), 0x0303);
    return c;
}

static petrel_tcp_client *client_connect(harness *h)
{
    return client_connect_to(h, h->host);
}

/* Forgets a client the test freed itself. */
static void client_forget(harness *h, petrel_tcp_client *c)
{
    for (size_t i = 0; i < h->client_count; i++) {
        if (h->clients[i] == c) {
            h->clients[i] = h->clients[--h->client_count];
            return;
        }
    }
}

static void client_send(petrel_tcp_client *c, const void *msg, size_t len)
{
    assert_int_equal(petrel_tcp_client_send(c, msg, len, WAIT_MS), (int)len);
}

/* Receives exactly len bytes (in as many calls as it takes) and compares
 * them with msg. */
static void client_expect(petrel_tcp_client *c, const void *msg, size_t len)
{
    uint8_t buf[1024];
    size_t got = 0;
    assert_true(len <= sizeof(buf));
    while (got < len) {
        int n = petrel_tcp_client_recv(c, buf + got, sizeof(buf) - got, WAIT_MS);
        if (n <= 0)
            print_error("recv: %d (%s)\n", n, petrel_error_name(n));
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_int_equal(got, len);
    assert_memory_equal(buf, msg, len);
}

static void client_echo(petrel_tcp_client *c, const char *msg)
{
    client_send(c, msg, strlen(msg));
    client_expect(c, msg, strlen(msg));
}

/* A plain TCP socket connected to the server (closed by teardown). */
static int raw_connect(harness *h)
{
    return net_test_connect(&h->net, SOCK_STREAM, "127.0.0.1", h->port);
}

/* Reads from a plain socket until end of stream (or reset) within
 * timeout_ms; returns the bytes read, or -1 when the stream did not end
 * in time. */
static ssize_t raw_read_to_end(int fd, int timeout_ms)
{
    uint64_t deadline = net_test_now_ms() + (uint64_t)timeout_ms;
    ssize_t total = 0;
    uint8_t buf[4096];
    for (;;) {
        ssize_t n = net_test_recv(fd, buf, sizeof(buf), deadline);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return total;
        if (n < 0)
            return -1;
        total += n;
    }
}

/* Waits for the client's socket (POLLIN, and POLLOUT while bytes are
 * queued) at most until deadline. */
static void client_wait(petrel_tcp_client *c, bool want_out, uint64_t deadline)
{
    uint64_t now = net_test_now_ms();
    assert_true(now < deadline);
    struct pollfd pfd = {petrel_tcp_client_fd(c), (short)(POLLIN | (want_out ? POLLOUT : 0)), 0};
    int ready = poll(&pfd, 1, (int)(deadline - now));
    assert_true(ready >= 0 || errno == EINTR);
}

/* The non-blocking handshake: timeout 0 calls and poll in between. (On
 * a fast loopback it may also finish without ever waiting.) */
static void client_handshake_nonblocking(petrel_tcp_client *c)
{
    uint64_t deadline = net_test_now_ms() + WAIT_MS;
    int rc;
    while ((rc = petrel_tcp_client_handshake(c, 0)) == PETREL_ERR_WOULD_BLOCK) {
        int flushed = petrel_tcp_client_flush(c, 0);
        assert_true(flushed == 0 || flushed == PETREL_ERR_WOULD_BLOCK);
        client_wait(c, flushed == PETREL_ERR_WOULD_BLOCK, deadline);
    }
    if (rc != 0)
        print_error("handshake: %s\n", petrel_error_name(rc));
    assert_int_equal(rc, 0);
}

/*
 * Full duplex, non-blocking: the client sends total bytes of the stream
 * `seed` in writes of random sizes (1..max_write), with timeout 0, while
 * it reads the echo with random capacities (1..max_read), also with
 * timeout 0, and checks every byte. Returns the FNV-1a of the bytes (the
 * same both ways when the echo is right).
 */
static uint64_t pump_nonblocking(petrel_tcp_client *c, uint64_t seed, size_t total,
                                 size_t max_write, size_t max_read, uint64_t *sizes,
                                 bool writer_first)
{
    /* writer_first: read nothing until everything is sent or the writes
     * stall (the socket stays full for STALL_MS). */
    bool reading = !writer_first;
    uint8_t *out = malloc(max_write), *in = malloc(max_read), *expect = malloc(max_read);
    assert_non_null(out);
    assert_non_null(in);
    assert_non_null(expect);
    uint64_t deadline = net_test_now_ms() + BULK_MS;
    uint64_t tx_hash = NET_TEST_FNV_OFFSET, rx_hash = NET_TEST_FNV_OFFSET;
    size_t sent = 0, received = 0, chunk_len = 0, chunk_off = 0;
    while (received < total) {
        bool progress = false;
        if (sent < total) {
            if (chunk_len == chunk_off) {
                chunk_len = random_between(sizes, 1, max_write);
                if (chunk_len > total - sent)
                    chunk_len = total - sent;
                chunk_off = 0;
                stream_fill(seed, sent, out, chunk_len);
                tx_hash = net_test_fnv1a(tx_hash, out, chunk_len);
            }
            int rc = petrel_tcp_client_send(c, out + chunk_off, chunk_len - chunk_off, 0);
            if (rc != PETREL_ERR_WOULD_BLOCK) {
                if (rc <= 0)
                    print_error("send: %d (%s)\n", rc, petrel_error_name(rc));
                assert_true(rc > 0);
                chunk_off += (size_t)rc;
                sent += (size_t)rc;
                progress = true;
            }
        }
        int flushed = petrel_tcp_client_flush(c, 0);
        assert_true(flushed == 0 || flushed == PETREL_ERR_WOULD_BLOCK);
        if (sent == total && flushed == 0)
            reading = true;
        while (reading) {
            size_t cap = random_between(sizes, 1, max_read);
            int n = petrel_tcp_client_recv(c, in, cap, 0);
            if (n == PETREL_ERR_WOULD_BLOCK)
                break;
            if (n <= 0)
                print_error("recv: %d (%s)\n", n, petrel_error_name(n));
            assert_true(n > 0);
            assert_true((size_t)n <= cap);
            assert_true(received + (size_t)n <= total);
            stream_fill(seed, received, expect, (size_t)n);
            assert_memory_equal(in, expect, (size_t)n);
            rx_hash = net_test_fnv1a(rx_hash, in, (size_t)n);
            received += (size_t)n;
            progress = true;
        }
        if (progress)
            continue;
        if (reading) {
            client_wait(c, flushed == PETREL_ERR_WOULD_BLOCK, deadline);
        } else {
            struct pollfd pfd = {petrel_tcp_client_fd(c), POLLOUT, 0};
            assert_true(net_test_now_ms() < deadline);
            if (poll(&pfd, 1, STALL_MS) == 0)
                reading = true;
        }
    }
    free(out);
    free(in);
    free(expect);
    assert_int_equal(sent, total);
    assert_int_equal(received, total);
    assert_true(tx_hash == rx_hash);
    return rx_hash;
}

/* Waits until the server has received total bytes, then checks that it
 * received exactly that many, with FNV-1a hash. */
static void expect_server_received(harness *h, uint64_t total, uint64_t hash)
{
    assert_true(wait_for(h, net_test_data_bytes_at_least, total, WAIT_MS));
    net_test_record v = view(h);
    assert_true(v.data_bytes == total);
    assert_true(v.data_hash == hash);
}

/* Ends a session from the client side: close_notify, then the server's
 * answer makes recv return 0, and the server reports reason 0. */
static void client_close_cleanly(harness *h, petrel_tcp_client *c, size_t closed_before)
{
    assert_int_equal(petrel_tcp_client_close(c), 0);
    uint8_t buf[64];
    assert_int_equal(petrel_tcp_client_recv(c, buf, sizeof(buf), WAIT_MS), 0);
    assert_int_equal(petrel_tcp_client_recv(c, buf, sizeof(buf), 0), 0); /* and stays 0 */
    assert_true(wait_for(h, net_test_closed_at_least, closed_before + 1, WAIT_MS));
    assert_int_equal(view(h).reasons[closed_before], 0);
}

/* ======================================================================
 * Tests
 * ====================================================================== */

/* PSK: handshake, echo, close_notify from the client: the server's reason
 * is 0 and the client's recv returns 0. */
static void test_psk_echo_and_client_close(void **state)
{
    harness *h = *state;
    server_start(h, "127.0.0.1", NULL);
    petrel_tcp_client *c = client_connect(h);
    assert_true(wait_for(h, net_test_established_at_least, 1, WAIT_MS));
    assert_true(wait_for(h, net_test_sessions_are, 1, WAIT_MS));
    assert_true(strncmp(view(h).last_peer, "127.0.0.1:", 10) == 0);

    client_echo(c, "hello");
    client_echo(c, "a second message");

    client_close_cleanly(h, c, 0);
    assert_true(wait_for(h, net_test_sessions_are, 0, WAIT_MS));
    net_test_record v = view(h);
    assert_int_equal(v.closed, 1);
    assert_int_equal(v.established, 1);
    /* After close, nothing more can be sent. */
    assert_true(petrel_tcp_client_send(c, (const uint8_t *)"x", 1, 0) < 0);
    assert_server_healthy(h);
}

/* ECDSA certificate (P-256 chain of two) checked against the EC root and
 * the name "localhost". */
static void test_certificate_echo(void **state)
{
    harness *h = *state;
    petrel_config_free(h->server_cfg);
    petrel_config_free(h->client_cfg);
    h->server_cfg = net_test_psk_config(NULL);
    h->client_cfg = net_test_psk_config(NULL);
    static const uint16_t ecdsa[] = {0xC02B}; /* ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 */
    assert_int_equal(petrel_config_set_suites(h->client_cfg, ecdsa, 1), 0);
    assert_int_equal(petrel_config_load_credentials_file(h->server_cfg, PKI("ec-server-chain.pem"),
                                                         PKI("ec-server.key"), NULL),
                     0);
    assert_int_equal(petrel_config_load_ca_file(h->client_cfg, PKI("ec-root.crt")), 0);
    assert_int_equal(petrel_config_set_server_name(h->client_cfg, "localhost"), 0);
    server_start(h, "127.0.0.1", NULL);

    petrel_tcp_client *c = client_connect(h);
    petrel_conn *conn = petrel_tcp_client_conn(c);
    assert_int_equal(petrel_cipher_suite(conn), 0xC02B);
    assert_false(petrel_peer_anonymous(conn));
    client_echo(c, "hello over a certificate handshake");
    client_close_cleanly(h, c, 0);
    assert_server_healthy(h);
}

/* recv with a small capacity hands out one record in pieces; the rest is
 * kept for the next call. */
static void test_short_reads_keep_the_record(void **state)
{
    harness *h = *state;
    server_start(h, "127.0.0.1", NULL);
    petrel_tcp_client *c = client_connect(h);
    uint8_t msg[1000], got[1000];
    stream_fill(7, 0, msg, sizeof(msg));
    client_send(c, msg, sizeof(msg));
    size_t n = 0;
    static const size_t caps[] = {1, 1, 2, 3, 5, 8, 13, 100, 500};
    for (size_t i = 0; n < sizeof(msg); i++) {
        size_t cap = i < sizeof(caps) / sizeof(caps[0]) ? caps[i] : 1000;
        int rc = petrel_tcp_client_recv(c, got + n, cap, WAIT_MS);
        assert_true(rc > 0 && (size_t)rc <= cap);
        n += (size_t)rc;
    }
    assert_int_equal(n, sizeof(msg));
    assert_memory_equal(got, msg, sizeof(msg));
    /* Nothing more is waiting. */
    assert_int_equal(petrel_tcp_client_recv(c, got, sizeof(got), 0), PETREL_ERR_WOULD_BLOCK);
    assert_int_equal(petrel_tcp_client_recv(c, got, sizeof(got), 50), PETREL_ERR_TIMEOUT);
    assert_server_healthy(h);
}

/* 10 MB each way with the blocking calls, in lockstep: a write of random
 * size (1..65536), then its echo read back with random capacities
 * (1..70000). The server hashes what it received; all three hashes
 * agree. */
static void test_bulk_10mb_blocking(void **state)
{
    enum { TOTAL = 10 * 1024 * 1024, MAX_WRITE = 65536, MAX_READ = 70000 };
    harness *h = *state;
    server_start(h, "127.0.0.1", NULL);
    petrel_tcp_client *c = client_connect(h);
    const uint64_t seed = 0x5eed0001u;
    uint64_t sizes = 0x243f6a8885a308d3u;
    uint8_t *out = malloc(MAX_WRITE), *in = malloc(MAX_READ), *expect = malloc(MAX_READ);
    assert_non_null(out);
    assert_non_null(in);
    assert_non_null(expect);
    uint64_t tx_hash = NET_TEST_FNV_OFFSET, rx_hash = NET_TEST_FNV_OFFSET;
    size_t sent = 0, received = 0;
    while (sent < TOTAL) {
        size_t len = random_between(&sizes, 1, MAX_WRITE);
        if (len > TOTAL - sent)
            len = TOTAL - sent;
        stream_fill(seed, sent, out, len);
        tx_hash = net_test_fnv1a(tx_hash, out, len);
        assert_int_equal(petrel_tcp_client_send(c, out, len, WAIT_MS), (int)len);
        sent += len;
        while (received < sent) {
            size_t cap = random_between(&sizes, 1, MAX_READ);
            int n = petrel_tcp_client_recv(c, in, cap, WAIT_MS);
            if (n <= 0)
                print_error("recv: %d (%s)\n", n, petrel_error_name(n));
            assert_true(n > 0 && (size_t)n <= cap);
            assert_true(received + (size_t)n <= sent);
            stream_fill(seed, received, expect, (size_t)n);
            assert_memory_equal(in, expect, (size_t)n);
            rx_hash = net_test_fnv1a(rx_hash, in, (size_t)n);
            received += (size_t)n;
        }
    }
    free(out);
    free(in);
    free(expect);
    assert_true(tx_hash == rx_hash);
    expect_server_received(h, TOTAL, tx_hash);
    client_close_cleanly(h, c, 0);
    assert_server_healthy(h);
}

/* 10 MB each way, full duplex and non-blocking: the client writes without
 * waiting for the echo, so the server's output queue fills and it must
 * stop reading that session until the client reads (its back-pressure);
 * the engine's PETREL_STREAM_OUT_MAX is never hit (no echo error). */
static void test_bulk_10mb_full_duplex(void **state)
{
    enum { TOTAL = 10 * 1024 * 1024 };
    harness *h = *state;
    server_start(h, "127.0.0.1", NULL);
    petrel_tcp_client *c = client_connect(h);
    uint64_t sizes = 0x13198a2e03707344u;
    uint64_t hash = pump_nonblocking(c, 0x5eed0002u, TOTAL, 65536, 70000, &sizes, false);
    expect_server_received(h, TOTAL, hash);
    client_close_cleanly(h, c, 0);
    assert_server_healthy(h);
}

/* A client that writes 12 MB before it reads anything: the server's
 * output queue would pass PETREL_STREAM_OUT_MAX if it kept reading, so it
 * must stop reading that session (TCP then pushes back on the client)
 * until the client reads; nothing fails and every byte comes back. */
static void test_writer_that_does_not_read(void **state)
{
    enum { TOTAL = 12 * 1024 * 1024 };
    harness *h = *state;
    server_start(h, "127.0.0.1", NULL);
    petrel_tcp_client *c = client_connect(h);
    uint64_t sizes = 0x082efa98ec4e6c89u;
    uint64_t hash = pump_nonblocking(c, 0x5eed0004u, TOTAL, 65536, 70000, &sizes, true);
    expect_server_received(h, TOTAL, hash);
    assert_int_equal(view(h).closed, 0);
    client_close_cleanly(h, c, 0);
    assert_server_healthy(h);
}

/* The non-blocking style from the start: handshake with timeout 0 and
 * poll, then 1 MB each way. */
static void test_nonblocking_handshake_and_1mb(void **state)
{
    enum { TOTAL = 1024 * 1024 };
    harness *h = *state;
    uint8_t buf[16];
    /* A peer that never answers: timeout 0 never waits, and a timeout
     * ends on time. */
    char port[16];
    /* A listener that never accepts: the kernel completes TCP connections
     * to it, and nothing ever answers. */
    (void)net_test_listen_loopback(&h->net, port, sizeof(port));
    petrel_tcp_client *mute = client_new_to(h, "127.0.0.1", port);
    assert_int_equal(petrel_tcp_client_handshake(mute, 0), PETREL_ERR_WOULD_BLOCK);
    assert_int_equal(petrel_tcp_client_handshake(mute, 0), PETREL_ERR_WOULD_BLOCK);
    assert_int_equal(petrel_tcp_client_flush(mute, 0), 0); /* the ClientHello went */
    uint64_t start = net_test_now_ms();
    assert_int_equal(petrel_tcp_client_handshake(mute, 100), PETREL_ERR_TIMEOUT);
    uint64_t elapsed = net_test_now_ms() - start;
    assert_true(elapsed >= 90 && elapsed < WAIT_MS);

    server_start(h, "127.0.0.1", NULL);
    petrel_tcp_client *c = client_new_to(h, h->host, h->port);
    /* Before the handshake: application data cannot go yet. */
    assert_int_equal(petrel_tcp_client_send(c, buf, sizeof(buf), 0), PETREL_ERR_STATE);
    client_handshake_nonblocking(c);
    assert_true(petrel_handshake_complete(petrel_tcp_client_conn(c)));
    assert_int_equal(petrel_tcp_client_recv(c, buf, sizeof(buf), 0), PETREL_ERR_WOULD_BLOCK);
    uint64_t sizes = 0xa4093822299f31d0u;
    uint64_t hash = pump_nonblocking(c, 0x5eed0003u, TOTAL, 16384, 16384, &sizes, false);
    assert_true(wait_for(h, net_test_data_bytes_at_least, TOTAL, WAIT_MS));
    assert_true(view(h).data_hash == hash);
    client_close_cleanly(h, c, 0);
    assert_server_healthy(h);
}

/* close_notify from the server (petrel_tcp_session_close inside on_data):
 * the client's recv returns 0, the client's engine answers, and the
 * server's reason is 0. */
static void test_server_close(void **state)
{
    harness *h = *state;
    server_start(h, "127.0.0.1", NULL);
    petrel_tcp_client *c = client_connect(h);
    client_echo(c, "before the close");
    client_send(c, CLOSE_MARKER, strlen(CLOSE_MARKER));
    uint8_t buf[64];
    assert_int_equal(petrel_tcp_client_recv(c, buf, sizeof(buf), WAIT_MS), 0);
    assert_true(petrel_peer_closed(petrel_tcp_client_conn(c)));
    assert_true(wait_for(h, net_test_closed_at_least, 1, WAIT_MS));
    assert_int_equal(view(h).reasons[0], 0);
    assert_true(wait_for(h, net_test_sessions_are, 0, WAIT_MS));
    /* The client's own close after the answer went: nothing to do. */
    assert_int_equal(petrel_tcp_client_close(c), 0);
    assert_int_equal(petrel_tcp_client_recv(c, buf, sizeof(buf), 0), 0);
    assert_server_healthy(h);
}

/* petrel_tcp_session_close when the peer never answers (the client does
 * not read): the session waits a bounded time (here idle_timeout_ms, which
 * is below the usual 5 s), then ends with PETREL_ERR_TIMEOUT. The
 * close_notify did go: the client's recv returns 0 when it looks. */
static void test_server_close_unanswered(void **state)
{
    harness *h = *state;
    const petrel_tcp_server_options opt = {.idle_timeout_ms = 400};
    server_start(h, "127.0.0.1", &opt);
    petrel_tcp_client *c = client_connect(h);
    uint64_t start = net_test_now_ms();
    client_send(c, CLOSE_MARKER, strlen(CLOSE_MARKER));
    assert_true(wait_for(h, net_test_closed_at_least, 1, WAIT_MS));
    uint64_t elapsed = net_test_now_ms() - start;
    assert_int_equal(view(h).reasons[0], PETREL_ERR_TIMEOUT);
    assert_true(elapsed >= 350);
    uint8_t buf[16];
    assert_int_equal(petrel_tcp_client_recv(c, buf, sizeof(buf), WAIT_MS), 0);
    assert_server_healthy(h);
}

/* A handler may send from on_established: the greeting comes right after
 * the handshake (often in the same read as the server's Finished). */
static void test_greeting_from_on_established(void **state)
{
    harness *h = *state;
    h->greet = true;
    server_start(h, "127.0.0.1", NULL);
    petrel_tcp_client *c = client_connect(h);
    client_expect(c, GREETING, strlen(GREETING));
    client_echo(c, "and then the echo");
    client_close_cleanly(h, c, 0);
    assert_server_healthy(h);
}

/* A client that shuts TCP down without close_notify, and one that is
 * freed without it: the server reports PETREL_ERR_TRUNCATION for both. */
static void test_truncation_seen_by_server(void **state)
{
    harness *h = *state;
    server_start(h, "127.0.0.1", NULL);
    petrel_tcp_client *c = client_connect(h);
    client_echo(c, "then a FIN without close_notify");
    assert_int_equal(shutdown(petrel_tcp_client_fd(c), SHUT_WR), 0);
    assert_true(wait_for(h, net_test_closed_at_least, 1, WAIT_MS));
    assert_int_equal(view(h).reasons[0], PETREL_ERR_TRUNCATION);

    c = client_connect(h);
    client_echo(c, "then freed without close_notify");
    petrel_tcp_client_free(c);
    client_forget(h, c);
    assert_true(wait_for(h, net_test_closed_at_least, 2, WAIT_MS));
    assert_int_equal(view(h).reasons[1], PETREL_ERR_TRUNCATION);
    assert_true(wait_for(h, net_test_sessions_are, 0, WAIT_MS));
    assert_server_healthy(h);
}

/* A client that vanishes in the middle of a transfer (freed with bytes
 * queued both ways, so its kernel resets the connection): the server
 * reports PETREL_ERR_TRUNCATION, its writes into the dead socket raise no
 * SIGPIPE (the test process keeps the default action, which would kill
 * it), and the next client is served. */
static void test_peer_vanishes_mid_transfer(void **state)
{
    enum { TOTAL = 1024 * 1024 };
    harness *h = *state;
    server_start(h, "127.0.0.1", NULL);
    petrel_tcp_client *c = client_connect(h);
    uint8_t *data = malloc(TOTAL);
    assert_non_null(data);
    stream_fill(11, 0, data, TOTAL);
    int rc = petrel_tcp_client_send(c, data, TOTAL, 0);
    free(data);
    assert_true(rc > 0);
    /* Some of it has reached the server and is being echoed. */
    assert_true(wait_for(h, net_test_data_bytes_at_least, 16384, WAIT_MS));
    petrel_tcp_client_free(c);
    client_forget(h, c);
    assert_true(wait_for(h, net_test_closed_at_least, 1, WAIT_MS));
    assert_int_equal(view(h).reasons[0], PETREL_ERR_TRUNCATION);
    client_echo(client_connect(h), "the next one");
    assert_server_healthy(h);
}

/* Ten clients at once: every echo comes back to its own sender. */
static void test_ten_clients(void **state)
{
    enum { N = 10 };
    harness *h = *state;
    server_start(h, "127.0.0.1", NULL);
    petrel_tcp_client *c[N];
    char msg[N][32];
    for (int i = 0; i < N; i++) {
        c[i] = client_connect(h);
        snprintf(msg[i], sizeof(msg[i]), "message from client %02d", i);
    }
    assert_true(wait_for(h, net_test_sessions_are, N, WAIT_MS));
    for (int i = 0; i < N; i++)
        client_send(c[i], msg[i], strlen(msg[i]));
    for (int i = N - 1; i >= 0; i--)
        client_expect(c[i], msg[i], strlen(msg[i]));
    for (int i = 0; i < N; i++)
        client_close_cleanly(h, c[i], (size_t)i);
    assert_true(wait_for(h, net_test_sessions_are, 0, WAIT_MS));
    assert_int_equal(view(h).max_sessions, N);
    assert_server_healthy(h);
}

/* ---- a hand-rolled server that drops the connection ---- */

typedef struct raw_server {
    petrel_config *cfg;
    int listen_fd;
    int result; /* 0, or where it failed (negative) */
} raw_server;

static bool raw_send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

static bool raw_flush(petrel_conn *conn, int fd)
{
    const uint8_t *out;
    int n;
    while ((n = petrel_get_outdata(conn, &out)) > 0) {
        if (!raw_send_all(fd, out, (size_t)n) || petrel_sent(conn, (size_t)n) < 0)
            return false;
    }
    return n == 0;
}

/* Accepts one client, completes the handshake with a petrel_conn of its
 * own, sends "bye" and closes the socket without close_notify. Runs in
 * its own thread: it records failures instead of asserting. */
static void *raw_server_main(void *arg)
{
    raw_server *rs = arg;
    uint64_t deadline = net_test_now_ms() + WAIT_MS;
    struct pollfd lp = {rs->listen_fd, POLLIN, 0};
    if (poll(&lp, 1, WAIT_MS) != 1) {
        rs->result = -1;
        return NULL;
    }
    int fd = accept(rs->listen_fd, NULL, NULL);
    petrel_conn *conn = petrel_conn_new(rs->cfg, PETREL_SERVER, PETREL_STREAM, NULL, 0);
    if (fd < 0 || !conn) {
        rs->result = -2;
        goto out;
    }
    while (!petrel_handshake_complete(conn)) {
        uint64_t now = net_test_now_ms();
        struct pollfd pfd = {fd, POLLIN, 0};
        uint8_t *buf;
        int cap = petrel_get_readbuf(conn, &buf);
        if (now >= deadline || cap <= 0 || poll(&pfd, 1, (int)(deadline - now)) != 1) {
            rs->result = -3;
            goto out;
        }
        ssize_t n = recv(fd, buf, (size_t)cap, 0);
        if (n <= 0) {
            rs->result = -4;
            goto out;
        }
        if (net_test_feed(conn, (size_t)n) < 0 || !raw_flush(conn, fd)) {
            rs->result = -5;
            goto out;
        }
    }
    if (petrel_encode_to_outdata(conn, (const uint8_t *)"bye", 3) < 0 || !raw_flush(conn, fd))
        rs->result = -6;
out:
    if (fd >= 0)
        close(fd); /* no close_notify */
    petrel_conn_free(conn);
    return NULL;
}

/* The server drops TCP without close_notify: the client's recv hands out
 * the data that came first, then PETREL_ERR_TRUNCATION, for good. */
static void test_truncation_seen_by_client(void **state)
{
    harness *h = *state;
    char port[16];
    raw_server rs = {h->server_cfg, -1, 0};
    rs.listen_fd = net_test_listen_loopback(&h->net, port, sizeof(port));
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, raw_server_main, &rs), 0);

    petrel_tcp_client *c = client_new_to(h, "127.0.0.1", port);
    int rc = petrel_tcp_client_handshake(c, WAIT_MS);
    uint8_t buf[16];
    int first = rc == 0 ? petrel_tcp_client_recv(c, buf, sizeof(buf), WAIT_MS) : rc;
    int second = rc == 0 ? petrel_tcp_client_recv(c, buf, sizeof(buf), WAIT_MS) : rc;
    int third = rc == 0 ? petrel_tcp_client_recv(c, buf, sizeof(buf), 0) : rc;
    pthread_join(thread, NULL);
    assert_int_equal(rs.result, 0);
    assert_int_equal(rc, 0);
    assert_int_equal(first, 3);
    assert_memory_equal(buf, "bye", 3);
    assert_int_equal(second, PETREL_ERR_TRUNCATION);
    assert_int_equal(third, PETREL_ERR_TRUNCATION);
    assert_false(petrel_peer_closed(petrel_tcp_client_conn(c)));
    /* Closing a failed connection sends nothing and reports the error. */
    assert_int_equal(petrel_tcp_client_close(c), PETREL_ERR_TRUNCATION);
}

/* Garbage from a plain socket ends its session with an error (not a
 * crash, not a clean close); so does a record header announcing more than
 * a record may hold; the next good client still works. */
static void test_garbage(void **state)
{
    harness *h = *state;
    server_start(h, "127.0.0.1", NULL);
    uint64_t seed = 0x9e3779b97f4a7c15u;
    uint8_t junk[100];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)net_test_random(&seed);
    int fd = raw_connect(h);
    assert_int_equal(send(fd, junk, sizeof(junk), MSG_NOSIGNAL), (ssize_t)sizeof(junk));
    /* Whatever the bytes parse as, the end of the stream settles it. */
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    assert_true(wait_for(h, net_test_closed_at_least, 1, WAIT_MS));
    assert_true(view(h).reasons[0] < 0);
    assert_true(raw_read_to_end(fd, WAIT_MS) >= 0); /* the server closed it */

    /* A handshake record header claiming 65535 bytes: refused at once
     * (record_overflow), without waiting for the bytes or the end. */
    static const uint8_t oversized[] = {22, 3, 3, 0xff, 0xff, 1, 0, 0, 0};
    fd = raw_connect(h);
    assert_int_equal(send(fd, oversized, sizeof(oversized), MSG_NOSIGNAL),
                     (ssize_t)sizeof(oversized));
    assert_true(wait_for(h, net_test_closed_at_least, 2, WAIT_MS));
    int reason = view(h).reasons[1];
    if (reason == PETREL_ERR_TRUNCATION || reason >= 0)
        print_error("oversized header: %d (%s)\n", reason, petrel_error_name(reason));
    assert_true(reason < 0 && reason != PETREL_ERR_TRUNCATION);
    assert_true(raw_read_to_end(fd, WAIT_MS) >= 0);

    petrel_tcp_client *c = client_connect(h);
    client_echo(c, "after the garbage");
    assert_int_equal(view(h).established, 1);
    assert_server_healthy(h);
}

/* A TCP peer that never says hello is dropped after handshake_timeout_ms;
 * an established one that goes silent after idle_timeout_ms, with a
 * close_notify the client sees. */
static void test_expiry(void **state)
{
    harness *h = *state;
    const petrel_tcp_server_options opt = {.handshake_timeout_ms = 300, .idle_timeout_ms = 600};
    server_start(h, "127.0.0.1", &opt);

    uint64_t start = net_test_now_ms();
    int fd = raw_connect(h);
    assert_true(wait_for(h, net_test_closed_at_least, 1, WAIT_MS));
    uint64_t elapsed = net_test_now_ms() - start;
    assert_int_equal(view(h).reasons[0], PETREL_ERR_TIMEOUT);
    assert_true(elapsed >= 250);
    assert_true(raw_read_to_end(fd, WAIT_MS) == 0);

    petrel_tcp_client *c = client_connect(h);
    start = net_test_now_ms();
    client_echo(c, "then silence");
    assert_true(wait_for(h, net_test_closed_at_least, 2, WAIT_MS));
    elapsed = net_test_now_ms() - start;
    assert_int_equal(view(h).reasons[1], PETREL_ERR_TIMEOUT);
    assert_true(elapsed >= 500);
    uint8_t buf[16];
    assert_int_equal(petrel_tcp_client_recv(c, buf, sizeof(buf), WAIT_MS), 0);
    assert_true(wait_for(h, net_test_sessions_are, 0, WAIT_MS));
    assert_server_healthy(h);
}

/* max_sessions = 2: a third connection is closed at once (its handshake
 * fails quickly, not by timeout); a close frees a place. */
static void test_max_sessions(void **state)
{
    harness *h = *state;
    const petrel_tcp_server_options opt = {.max_sessions = 2};
    server_start(h, "127.0.0.1", &opt);
    petrel_tcp_client *a = client_connect(h);
    petrel_tcp_client *b = client_connect(h);
    assert_true(wait_for(h, net_test_sessions_are, 2, WAIT_MS));

    petrel_tcp_client *third = client_new_to(h, h->host, h->port);
    uint64_t start = net_test_now_ms();
    int rc = petrel_tcp_client_handshake(third, WAIT_MS);
    if (rc != PETREL_ERR_TRUNCATION && rc != PETREL_ERR_IO)
        print_error("third handshake: %d (%s)\n", rc, petrel_error_name(rc));
    assert_true(rc == PETREL_ERR_TRUNCATION || rc == PETREL_ERR_IO);
    assert_true(net_test_now_ms() - start < WAIT_MS);
    assert_int_equal(view(h).max_sessions, 2);

    client_echo(a, "first");
    client_echo(b, "second");
    client_close_cleanly(h, a, 0);
    assert_true(wait_for(h, net_test_sessions_are, 1, WAIT_MS));
    client_echo(client_connect(h), "in the freed place");
    assert_server_healthy(h);
}

/* A server on "::" serves IPv6 and IPv4 clients. */
static void test_ipv6_dual_stack(void **state)
{
    harness *h = *state;
    if (net_test_ipv6_unavailable(SOCK_STREAM))
        return;
    server_start(h, "::", NULL);
    petrel_tcp_client *c6 = client_connect_to(h, "::1");
    assert_true(wait_for(h, net_test_established_at_least, 1, WAIT_MS));
    assert_true(strncmp(view(h).last_peer, "[::1]:", 6) == 0);
    client_echo(c6, "hello over IPv6");
    petrel_tcp_client *c4 = client_connect_to(h, "127.0.0.1");
    assert_true(wait_for(h, net_test_established_at_least, 2, WAIT_MS));
    assert_true(strstr(view(h).last_peer, "127.0.0.1") != NULL);
    client_echo(c4, "hello over IPv4");
    client_close_cleanly(h, c6, 0);
    client_close_cleanly(h, c4, 1);
    assert_server_healthy(h);
}

static void test_bad_arguments(void **state)
{
    harness *h = *state;
    int error = 0;
    uint8_t buf[8] = {0};
    assert_null(petrel_tcp_client_new(NULL, "127.0.0.1", "1", &error));
    assert_int_equal(error, PETREL_ERR_ARG);
    error = 0;
    assert_null(petrel_tcp_client_new(h->client_cfg, "127.0.0.1", NULL, &error));
    assert_int_equal(error, PETREL_ERR_ARG);
    assert_null(petrel_tcp_client_new(NULL, NULL, NULL, NULL));
    assert_int_equal(petrel_tcp_client_handshake(NULL, 0), PETREL_ERR_ARG);
    assert_int_equal(petrel_tcp_client_send(NULL, buf, 1, 0), PETREL_ERR_ARG);
    assert_int_equal(petrel_tcp_client_flush(NULL, 0), PETREL_ERR_ARG);
    assert_int_equal(petrel_tcp_client_recv(NULL, buf, 1, 0), PETREL_ERR_ARG);
    assert_int_equal(petrel_tcp_client_close(NULL), PETREL_ERR_ARG);
    assert_int_equal(petrel_tcp_client_fd(NULL), PETREL_ERR_ARG);
    assert_null(petrel_tcp_client_conn(NULL));
    petrel_tcp_client_free(NULL);

    error = 0;
    assert_null(petrel_tcp_server_new(NULL, "127.0.0.1", "0", NULL, NULL, NULL, &error));
    assert_int_equal(error, PETREL_ERR_ARG);
    error = 0;
    assert_null(petrel_tcp_server_new(h->server_cfg, "127.0.0.1", NULL, NULL, NULL, NULL, &error));
    assert_int_equal(error, PETREL_ERR_ARG);
    assert_int_equal(petrel_tcp_server_run_once(NULL, 0), PETREL_ERR_ARG);
    assert_int_equal(petrel_tcp_server_port(NULL), PETREL_ERR_ARG);
    assert_int_equal(petrel_tcp_server_fd(NULL), PETREL_ERR_ARG);
    assert_int_equal(petrel_tcp_server_session_count(NULL), 0);
    petrel_tcp_server_free(NULL);
    assert_int_equal(petrel_tcp_session_send(NULL, buf, 1), PETREL_ERR_ARG);
    assert_int_equal(petrel_tcp_session_close(NULL), PETREL_ERR_ARG);
    assert_string_equal(petrel_tcp_session_peer(NULL), "");
    assert_null(petrel_tcp_session_conn(NULL));
    assert_null(petrel_tcp_session_user(NULL));
    petrel_tcp_session_set_user(NULL, buf);

    /* With a real client: missing buffers and a zero capacity. */
    server_start(h, "127.0.0.1", NULL);
    petrel_tcp_client *c = client_connect(h);
    assert_int_equal(petrel_tcp_client_send(c, NULL, 5, 0), PETREL_ERR_ARG);
    assert_int_equal(petrel_tcp_client_send(c, buf, 0, 0), 0);
    assert_int_equal(petrel_tcp_client_recv(c, NULL, 5, 0), PETREL_ERR_ARG);
    assert_int_equal(petrel_tcp_client_recv(c, buf, 0, 0), PETREL_ERR_ARG);
    client_echo(c, "still fine");

    /* A second server on the same port: the address is taken. */
    error = 0;
    assert_null(
        petrel_tcp_server_new(h->server_cfg, "127.0.0.1", h->port, NULL, NULL, NULL, &error));
    assert_int_equal(error, PETREL_ERR_IO);
    assert_server_healthy(h);
}

/* Nobody listens: connect is refused (PETREL_ERR_IO) at once. A host that
 * does not resolve: PETREL_ERR_RESOLVE. */
static void test_connect_failures(void **state)
{
    harness *h = *state;
    char port[16];
    net_test_free_port(SOCK_STREAM, port, sizeof(port));
    int error = 0;
    uint64_t start = net_test_now_ms();
    assert_null(petrel_tcp_client_new(h->client_cfg, "127.0.0.1", port, &error));
    assert_int_equal(error, PETREL_ERR_IO);
    assert_true(net_test_now_ms() - start < WAIT_MS);
    error = 0;
    assert_null(petrel_tcp_client_new(h->client_cfg, "no-such-host.invalid", "4433", &error));
    assert_int_equal(error, PETREL_ERR_RESOLVE);
    error = 0;
    assert_null(petrel_tcp_server_new(h->server_cfg, "no-such-host.invalid", "0", NULL, NULL, NULL,
                                      &error));
    assert_int_equal(error, PETREL_ERR_RESOLVE);
}

/* One outside poll loop over petrel_tcp_server_fd and petrel_udp_server_fd
 * serves a TLS client and a DTLS client; run_once is called for the TCP
 * server only when its descriptor is readable. */
static void test_one_poll_loop_for_tls_and_dtls(void **state)
{
    harness *h = *state;
    const petrel_tcp_server_handlers handlers = {on_established, on_data, on_closed};
    const petrel_udp_server_handlers udp_handlers = {on_udp_established, on_udp_data, NULL};
    int error = 1;
    h->srv = petrel_tcp_server_new(h->server_cfg, "127.0.0.1", "0", NULL, &handlers, h, &error);
    assert_non_null(h->srv);
    h->udp = petrel_udp_server_new(h->udp_cfg, "127.0.0.1", "0", NULL, &udp_handlers, h, &error);
    assert_non_null(h->udp);
    snprintf(h->host, sizeof(h->host), "127.0.0.1");
    snprintf(h->port, sizeof(h->port), "%d", petrel_tcp_server_port(h->srv));
    snprintf(h->udp_port, sizeof(h->udp_port), "%d", petrel_udp_server_port(h->udp));
    h->outer_poll = true;
    net_test_start(&h->net, server_step, h);

    petrel_tcp_client *c = client_connect(h);
    h->udp_client = petrel_udp_client_new(h->client_cfg, "127.0.0.1", h->udp_port, &error);
    assert_non_null(h->udp_client);
    assert_int_equal(petrel_udp_client_handshake(h->udp_client, WAIT_MS), 0);
    client_echo(c, "over TLS");
    static const char dtls_msg[] = "over DTLS";
    assert_int_equal(
        petrel_udp_client_send(h->udp_client, (const uint8_t *)dtls_msg, strlen(dtls_msg)), 0);
    uint8_t buf[64];
    assert_int_equal(petrel_udp_client_recv(h->udp_client, buf, sizeof(buf), WAIT_MS),
                     (int)strlen(dtls_msg));
    assert_memory_equal(buf, dtls_msg, strlen(dtls_msg));
    client_echo(c, "TLS again");
    client_close_cleanly(h, c, 0);

    net_test_record v = view(h);
    net_test_lock(&h->net);
    size_t udp_established = h->udp_established, udp_records = h->udp_records;
    size_t tcp_wakeups = h->tcp_wakeups;
    net_test_unlock(&h->net);
    assert_int_equal(v.established, 1);
    assert_int_equal(udp_established, 1);
    assert_int_equal(udp_records, 1);
    assert_true(tcp_wakeups >= 3); /* accept, handshake, echoes */
    assert_server_healthy(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_psk_echo_and_client_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certificate_echo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_reads_keep_the_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_10mb_blocking, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_10mb_full_duplex, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_that_does_not_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nonblocking_handshake_and_1mb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_close_unanswered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_greeting_from_on_established, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation_seen_by_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation_seen_by_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_vanishes_mid_transfer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ten_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_dual_stack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_poll_loop_for_tls_and_dtls, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
