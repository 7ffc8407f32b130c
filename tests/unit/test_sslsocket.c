/*
 * Tests for the MatrixSSL socket layer (matrixssl/sslSocket.h) and the key
 * calls it rests on (matrixssl/matrixsslApi.h), over real sockets on
 * loopback. The server side runs in a thread of its own ("peer"), runs
 * sslAccept and then a script (echo, close first, cut the stream, ...);
 * the client side runs in the test's thread. Scripts never assert: they
 * record what they saw in the peer structure, and the test asserts after
 * joining the thread.
 *
 * Cases: every bad argument; matrixSslLoadRsaKeys[Mem] and
 * matrixSslLoadPsk errors; TLS and DTLS PSK handshakes with echo round
 * trips; SSLSOCKET_EOF after either side's sslWriteClosureAlert; a 1 MB
 * TLS transfer each way with random write sizes and read buffers smaller
 * than a record; truncation (TCP closed without close_notify); DTLS
 * records larger than the read buffer, and writes larger than a datagram;
 * a UDP socket serving two clients in turn; the certificate validator
 * (fields it sees, refusal with its alert, anonymous acceptance), and
 * petrel's own verdict without one (an unknown CA); validators set per
 * connection on shared keys; cipherSuite forcing a suite the server would
 * not pick and leaving the keys as they were, and refusing insecure or
 * unknown ids with a log line saying why; a PSK-only client offering no
 * certificate suites to a server that prefers them; a wrong PSK;
 * non-blocking sockets and SO_RCVTIMEO; a DTLS handshake through a relay
 * that drops every third datagram (the blocking calls retransmit).
 *
 * Every wait is bounded: peers set SO_RCVTIMEO (PEER_WAIT_MS) on their
 * sockets, so a broken case fails instead of hanging.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <matrixssl/sslSocket.h>
#include <petrel/petrel.h>

#define PKI(name)    PETREL_SOURCE_DIR "/tests/pki/" name
#define PEER_WAIT_MS 10000
#define MEGABYTE     (1024 * 1024)

static unsigned char psk_key[16] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                    0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};
static unsigned char psk_id[] = "client";

/* ======================================================================
 * Helpers
 * ====================================================================== */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void set_rcvtimeo(SOCKET fd, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static sslKeys_t *new_keys(void)
{
    sslKeys_t *keys = NULL;
    assert_int_equal(matrixSslNewKeys(&keys), PS_SUCCESS);
    return keys;
}

static sslKeys_t *psk_keys_with(unsigned char *key, uint32 key_len)
{
    sslKeys_t *keys = new_keys();
    assert_int_equal(matrixSslLoadPsk(keys, key, key_len, psk_id, sizeof(psk_id) - 1), PS_SUCCESS);
    return keys;
}

static sslKeys_t *psk_keys(void)
{
    return psk_keys_with(psk_key, sizeof(psk_key));
}

static sslKeys_t *server_cert_keys(void)
{
    sslKeys_t *keys = new_keys();
    assert_int_equal(
        matrixSslLoadRsaKeys(keys, PKI("ec-server-chain.pem"), PKI("ec-server.key"), NULL, NULL),
        PS_SUCCESS);
    return keys;
}

/* A client that trusts the root in the file ca (NULL: nothing) and expects
 * "localhost". The servers here present a chain up to ec-root.crt;
 * unknown-root.crt signed nothing they present. */
static sslKeys_t *client_cert_keys(const char *ca)
{
    sslKeys_t *keys = new_keys();
    if (ca)
        assert_int_equal(matrixSslLoadRsaKeys(keys, NULL, NULL, NULL, ca), PS_SUCCESS);
    assert_int_equal(matrixSslKeysSetServerName(keys, "localhost"), PS_SUCCESS);
    return keys;
}

/*
 * What petrel logs (its default logger writes to stderr) between
 * capture_start and capture_stop; the text is written to stderr again
 * afterwards. Nothing between the two calls may assert: cmocka reports
 * failures on stderr.
 */
typedef struct stderr_capture {
    FILE *file;
    int saved_fd;
    char text[16384];
} stderr_capture;

static void capture_start(stderr_capture *c)
{
    fflush(stderr);
    c->file = tmpfile();
    assert_non_null(c->file);
    c->saved_fd = dup(STDERR_FILENO);
    assert_true(c->saved_fd >= 0);
    assert_true(dup2(fileno(c->file), STDERR_FILENO) >= 0);
}

static const char *capture_stop(stderr_capture *c)
{
    fflush(stderr);
    assert_true(dup2(c->saved_fd, STDERR_FILENO) >= 0);
    close(c->saved_fd);
    rewind(c->file);
    size_t n = fread(c->text, 1, sizeof(c->text) - 1, c->file);
    c->text[n] = '\0';
    fclose(c->file);
    fputs(c->text, stderr);
    return c->text;
}

/* A deterministic byte stream for the large transfers. */
static uint8_t stream_byte(size_t i)
{
    uint32_t x = (uint32_t)i * 2654435761u;
    return (uint8_t)(x >> 24 ^ x >> 11);
}

/* Fills buf with the stream's first len bytes. */
static void stream_fill(char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)stream_byte(i);
}

/* Whether buf holds the len stream bytes from offset off. */
static bool stream_matches(const char *buf, size_t off, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if ((uint8_t)buf[i] != stream_byte(off + i))
            return false;
    }
    return true;
}

static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* ======================================================================
 * The server side: a thread that accepts and runs a script
 * ====================================================================== */

typedef struct peer peer;
typedef int (*peer_script)(peer *p, sslConn_t *cp, SOCKET fd);

struct peer {
    pthread_t thread;
    sslKeys_t *keys;
    SOCKET listen_fd; /* TCP: listening; UDP: the server socket itself */
    bool datagram;
    int port;
    int accepts; /* connections to take in turn */
    peer_script script;
    /* results */
    int accept_rc[4];
    int script_rc[4];
    int eof_seen;
    int read_rc, read_status;
    int bytes;
    bool fd_closed; /* the script closed the connection's socket */
    /* script controls */
    atomic_bool stop;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool go;
};

static void *peer_main(void *arg)
{
    peer *p = arg;
    for (int i = 0; i < p->accepts; i++) {
        int err = 0;
        SOCKET fd = p->datagram ? p->listen_fd : socketAccept(p->listen_fd, &err);
        if (fd == INVALID_SOCKET) {
            p->accept_rc[i] = -1000 - err;
            return NULL;
        }
        set_rcvtimeo(fd, PEER_WAIT_MS);
        sslConn_t *cp = NULL;
        p->accept_rc[i] = sslAccept(&cp, fd, p->keys);
        if (p->accept_rc[i] == PS_SUCCESS && p->script)
            p->script_rc[i] = p->script(p, cp, fd);
        sslFreeConnection(&cp);
        if (!p->datagram && !p->fd_closed)
            socketShutdown(fd);
    }
    return NULL;
}

/* Opens the server's socket for `accepts` connections in turn; peer_run
 * starts the thread. */
static void peer_start(peer *p, sslKeys_t *keys, bool datagram, peer_script script, int accepts)
{
    memset(p, 0, sizeof(*p));
    p->keys = keys;
    p->datagram = datagram;
    p->script = script;
    p->accepts = accepts;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    int err = 0;
    p->listen_fd = datagram ? socketListenDgram(0, &err) : socketListen(0, &err);
    assert_int_not_equal(p->listen_fd, INVALID_SOCKET);
    p->port = socketGetPort(p->listen_fd);
    assert_true(p->port > 0);
}

static void peer_run(peer *p)
{
    assert_int_equal(pthread_create(&p->thread, NULL, peer_main, p), 0);
}

/* peer_start and peer_run together. */
static void peer_serve(peer *p, sslKeys_t *keys, bool datagram, peer_script script, int accepts)
{
    peer_start(p, keys, datagram, script, accepts);
    peer_run(p);
}

static void peer_join(peer *p)
{
    atomic_store(&p->stop, true);
    pthread_join(p->thread, NULL);
    socketShutdown(p->listen_fd);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
}

/* Joins a peer that must have accepted each of its `clients` connections
 * and seen each one's close_notify. */
static void peer_join_all_closed(peer *p, int clients)
{
    peer_join(p);
    for (int i = 0; i < clients; i++)
        assert_int_equal(p->accept_rc[i], PS_SUCCESS);
    assert_int_equal(p->eof_seen, clients);
}

static void peer_signal_go(peer *p)
{
    pthread_mutex_lock(&p->lock);
    p->go = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

static bool peer_wait_go(peer *p)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += PEER_WAIT_MS / 1000;
    pthread_mutex_lock(&p->lock);
    while (!p->go && pthread_cond_timedwait(&p->cond, &p->lock, &deadline) == 0)
        ;
    bool go = p->go;
    pthread_mutex_unlock(&p->lock);
    return go;
}

/* Writes everything (blocking socket: one call). */
static int write_all(sslConn_t *cp, const char *buf, int len)
{
    int status, rc;
    while ((rc = sslWrite(cp, (char *)buf, len, &status)) == 0)
        ;
    return rc;
}

/* Reads until n > 0 bytes, EOF or a failure; 0-returns for handshake
 * traffic are skipped. */
static int read_some(sslConn_t *cp, char *buf, int len, int *status)
{
    for (;;) {
        int rc = sslRead(cp, buf, len, status);
        if (rc != 0 || *status == SSLSOCKET_EOF)
            return rc;
    }
}

/* Writes the stream's first `total` bytes in writes of random sizes (up to
 * 40000 bytes, more than a record). */
static bool write_stream(sslConn_t *cp, size_t total, uint32_t *seed)
{
    char chunk[40000];
    for (size_t sent = 0; sent < total;) {
        int len = 1 + (int)(rng_next(seed) % sizeof(chunk));
        if ((size_t)len > total - sent)
            len = (int)(total - sent);
        for (int i = 0; i < len; i++)
            chunk[i] = (char)stream_byte(sent + (size_t)i);
        if (write_all(cp, chunk, len) != len)
            return false;
        sent += (size_t)len;
    }
    return true;
}

/* Reads `total` bytes and checks they are the stream's: with a seed in
 * reads of random sizes up to 5000 bytes (often smaller than a record),
 * without one in reads of 16384. */
static bool read_stream(sslConn_t *cp, size_t total, uint32_t *seed)
{
    char buf[16384];
    for (size_t got = 0; got < total;) {
        int want = seed ? 1 + (int)(rng_next(seed) % 5000) : (int)sizeof(buf);
        int status = 0;
        int n = read_some(cp, buf, want, &status);
        if (n <= 0 || n > want || !stream_matches(buf, got, (size_t)n))
            return false;
        got += (size_t)n;
    }
    return true;
}

/* ---- scripts ---- */

/* Echoes every read until EOF (or a failure). */
static int script_echo(peer *p, sslConn_t *cp, SOCKET fd)
{
    (void)fd;
    char buf[20000];
    for (;;) {
        int status = 0;
        int n = sslRead(cp, buf, sizeof(buf), &status);
        if (n > 0) {
            p->bytes += n;
            if (write_all(cp, buf, n) != n)
                return -2;
        } else if (n == 0 && status == SSLSOCKET_EOF) {
            p->eof_seen++;
            return 0;
        } else if (n < 0) {
            p->read_rc = n;
            p->read_status = status;
            return n;
        }
    }
}

/* Sends close_notify first, then reads until the client's answer. */
static int script_close_first(peer *p, sslConn_t *cp, SOCKET fd)
{
    (void)fd;
    char buf[64];
    int status = 0;
    sslWriteClosureAlert(cp);
    int n = read_some(cp, buf, sizeof(buf), &status);
    p->read_rc = n;
    p->read_status = status;
    if (n == 0 && status == SSLSOCKET_EOF)
        p->eof_seen++;
    return n;
}

/* Closes TCP without close_notify, after one echo. */
static int script_truncate(peer *p, sslConn_t *cp, SOCKET fd)
{
    char buf[64];
    int status = 0;
    int n = read_some(cp, buf, sizeof(buf), &status);
    if (n > 0)
        (void)write_all(cp, buf, n);
    close(fd);
    p->fd_closed = true;
    return 0;
}

/* Reads 1 MB in random-sized pieces and checks it, then writes 1 MB back
 * in random-sized writes. */
static int script_megabyte(peer *p, sslConn_t *cp, SOCKET fd)
{
    (void)fd;
    uint32_t seed = 0x12345u;
    if (!read_stream(cp, MEGABYTE, &seed))
        return -3;
    p->bytes = MEGABYTE;
    return write_stream(cp, MEGABYTE, &seed) ? 0 : -5;
}

/* Waits for the test's go, then reads 1 MB and checks it. */
static int script_slow_sink(peer *p, sslConn_t *cp, SOCKET fd)
{
    (void)fd;
    if (!peer_wait_go(p))
        return -6;
    if (!read_stream(cp, MEGABYTE, NULL))
        return -7;
    p->bytes = MEGABYTE;
    return 0;
}

/* DTLS: one write of 1000 bytes (one record), one of 5000 (several
 * records), then "abc"; then waits for EOF. */
static int script_dgram_writes(peer *p, sslConn_t *cp, SOCKET fd)
{
    (void)fd;
    static char big[5000];
    stream_fill(big, sizeof(big));
    if (write_all(cp, big, 1000) != 1000 || write_all(cp, big, 5000) != 5000 ||
        write_all(cp, "abc", 3) != 3)
        return -9;
    char buf[64];
    int status = 0;
    int n = read_some(cp, buf, sizeof(buf), &status);
    if (n == 0 && status == SSLSOCKET_EOF)
        p->eof_seen++;
    return 0;
}

/* Under loss: echoes whatever comes until the test says stop. */
static int script_lossy_echo(peer *p, sslConn_t *cp, SOCKET fd)
{
    set_rcvtimeo(fd, 100);
    char buf[2048];
    while (!atomic_load(&p->stop)) {
        int status = 0;
        int n = sslRead(cp, buf, sizeof(buf), &status);
        if (n > 0) {
            p->bytes += n;
            (void)write_all(cp, buf, n);
        } else if (n < 0 && n != PS_EAGAIN) {
            p->read_rc = n;
            return n;
        }
    }
    return 0;
}

/* ======================================================================
 * The client side, in the test's thread
 * ====================================================================== */

typedef int (*cert_validator)(sslCertInfo_t *t);

static SOCKET client_socket(bool datagram, int port)
{
    int err = 0;
    SOCKET fd = datagram ? socketConnectDgram("127.0.0.1", (short)port, &err)
                         : socketConnect("127.0.0.1", (short)port, &err);
    assert_int_not_equal(fd, INVALID_SOCKET);
    return fd;
}

/* A client socket whose every wait is bounded by PEER_WAIT_MS. */
static SOCKET bounded_client_socket(bool datagram, int port)
{
    SOCKET fd = client_socket(datagram, port);
    set_rcvtimeo(fd, PEER_WAIT_MS);
    return fd;
}

/* sslConnect on fd offering suite (0: the keys' suites), which must
 * succeed. */
static sslConn_t *connect_ok(SOCKET fd, sslKeys_t *keys, uint16_t suite, cert_validator validator)
{
    sslConn_t *cp = NULL;
    assert_int_equal(sslConnect(&cp, fd, keys, NULL, (short)suite, validator), PS_SUCCESS);
    assert_non_null(cp);
    return cp;
}

/* sslConnect on fd, which must fail with `expected` and hand out no
 * connection. */
static void connect_fails(SOCKET fd, sslKeys_t *keys, uint16_t suite, cert_validator validator,
                          int expected)
{
    sslConn_t *cp = NULL;
    assert_int_equal(sslConnect(&cp, fd, keys, NULL, (short)suite, validator), expected);
    assert_null(cp);
}

/* connect_fails without a validator, returning what petrel logged
 * meanwhile (kept in log). */
static const char *connect_fails_logging(stderr_capture *log, SOCKET fd, sslKeys_t *keys,
                                         uint16_t suite, int expected)
{
    sslConn_t *cp = NULL;
    capture_start(log);
    int rc = sslConnect(&cp, fd, keys, NULL, (short)suite, NULL);
    const char *text = capture_stop(log);
    assert_int_equal(rc, expected);
    assert_null(cp);
    return text;
}

/* Writes msg (one sslWrite takes it all on a blocking socket) and reads
 * the echo back. */
static void expect_echo(sslConn_t *cp, const char *msg)
{
    char buf[64];
    int len = (int)strlen(msg), status = 0;
    assert_true(len <= (int)sizeof(buf));
    assert_int_equal(sslWrite(cp, (char *)msg, len, &status), len);
    assert_int_equal(read_some(cp, buf, sizeof(buf), &status), len);
    assert_memory_equal(buf, msg, (size_t)len);
}

/* The next read finds the peer's close_notify. */
static void expect_eof(sslConn_t *cp)
{
    char buf[16];
    int status = 0;
    assert_int_equal(read_some(cp, buf, sizeof(buf), &status), 0);
    assert_int_equal(status, SSLSOCKET_EOF);
}

/* Sends close_notify and reads the peer's answer to it. */
static void close_expect_eof(sslConn_t *cp)
{
    sslWriteClosureAlert(cp);
    expect_eof(cp);
}

/* Frees the connection and closes its socket. */
static void client_drop(sslConn_t **cp, SOCKET fd)
{
    sslFreeConnection(cp);
    assert_null(*cp);
    socketShutdown(fd);
}

/* Sends close_notify (without waiting for the answer), then
 * client_drop. */
static void client_close(sslConn_t **cp, SOCKET fd)
{
    sslWriteClosureAlert(*cp);
    client_drop(cp, fd);
}

/* A TCP connection to a listener that never accepts it: for calls that
 * must fail before they send anything. */
typedef struct unserved {
    SOCKET listen_fd, fd;
} unserved;

static unserved unserved_open(void)
{
    unserved u;
    int err = 0;
    u.listen_fd = socketListen(0, &err);
    assert_int_not_equal(u.listen_fd, INVALID_SOCKET);
    u.fd = client_socket(false, socketGetPort(u.listen_fd));
    return u;
}

static void unserved_close(unserved *u)
{
    socketShutdown(u->fd);
    socketShutdown(u->listen_fd);
}

/* ======================================================================
 * Arguments and key loading
 * ====================================================================== */

static int accept_all(sslCertInfo_t *t)
{
    (void)t;
    return 0;
}

static void test_bad_arguments(void **state)
{
    (void)state;
    sslKeys_t *keys = psk_keys();
    sslConn_t *cp = (sslConn_t *)&cp; /* must be reset to NULL */
    int err = 0, status = 7;
    unserved u = unserved_open();
    SOCKET fd = u.fd;
    int pipe_fds[2];
    assert_int_equal(pipe(pipe_fds), 0);

    assert_int_equal(sslConnect(NULL, fd, keys, NULL, 0, NULL), PS_ARG_FAIL);
    assert_int_equal(sslConnect(&cp, fd, NULL, NULL, 0, NULL), PS_ARG_FAIL);
    assert_null(cp);
    assert_int_equal(sslConnect(&cp, INVALID_SOCKET, keys, NULL, 0, accept_all), PS_ARG_FAIL);
    assert_int_equal(sslConnect(&cp, 4000, keys, NULL, 0, NULL), PS_ARG_FAIL); /* not open */
    assert_int_equal(sslConnect(&cp, pipe_fds[0], keys, NULL, 0, NULL), PS_ARG_FAIL);
    assert_null(cp);
    assert_int_equal(sslAccept(NULL, fd, keys), PS_ARG_FAIL);
    assert_int_equal(sslAccept(&cp, fd, NULL), PS_ARG_FAIL);
    assert_int_equal(sslAccept(&cp, INVALID_SOCKET, keys), PS_ARG_FAIL);
    assert_int_equal(sslAccept(&cp, pipe_fds[1], keys), PS_ARG_FAIL);
    assert_null(cp);

    char buf[8];
    assert_int_equal(sslRead(NULL, buf, sizeof(buf), &status), PS_ARG_FAIL);
    assert_int_equal(status, 0);
    assert_int_equal(sslWrite(NULL, buf, sizeof(buf), &status), PS_ARG_FAIL);
    assert_int_equal(sslRead(NULL, buf, sizeof(buf), NULL), PS_ARG_FAIL);
    sslWriteClosureAlert(NULL);
    sslFreeConnection(NULL);
    sslFreeConnection(&cp);
    assert_int_equal(sslNextTimeout(NULL), -1);
    assert_int_equal(sslGetError(NULL), 0);
    assert_null(sslGetPetrelConn(NULL));

    assert_int_equal(socketConnect(NULL, 1, &err), INVALID_SOCKET);
    assert_int_equal(err, EINVAL);
    assert_int_equal(socketGetPort(INVALID_SOCKET), -1);
    socketShutdown(INVALID_SOCKET);
    /* Nobody listens on the port of a socket that was just closed. */
    SOCKET probe = socketListen(0, &err);
    int closed_port = socketGetPort(probe);
    socketShutdown(probe);
    assert_int_equal(socketConnect("127.0.0.1", (short)closed_port, &err), INVALID_SOCKET);
    assert_int_equal(err, ECONNREFUSED);

    assert_int_equal(matrixSslNewKeys(NULL), PS_ARG_FAIL);
    assert_int_equal(matrixSslLoadRsaKeys(NULL, NULL, NULL, NULL, PKI("ec-root.crt")), PS_ARG_FAIL);
    assert_int_equal(matrixSslLoadRsaKeysMem(NULL, NULL, 0, NULL, 0, NULL, 0), PS_ARG_FAIL);
    assert_int_equal(matrixSslLoadPsk(NULL, psk_key, 16, psk_id, 6), PS_ARG_FAIL);
    assert_int_equal(matrixSslLoadPsk(keys, NULL, 16, psk_id, 6), PS_ARG_FAIL);
    assert_int_equal(matrixSslLoadPsk(keys, psk_key, 0, psk_id, 6), PS_ARG_FAIL);
    assert_int_equal(matrixSslLoadPsk(keys, psk_key, 16, NULL, 6), PS_ARG_FAIL);
    assert_int_equal(matrixSslLoadPsk(keys, psk_key, 16, psk_id, 0), PS_ARG_FAIL);
    static unsigned char long_key[300];
    assert_int_equal(matrixSslLoadPsk(keys, long_key, sizeof(long_key), psk_id, 6), PS_ARG_FAIL);
    assert_int_equal(matrixSslKeysSetServerName(NULL, "x"), PS_ARG_FAIL);
    assert_int_equal(matrixSslKeysSetLossyLink(NULL, 0), PS_ARG_FAIL);
    matrixSslDeleteKeys(NULL);

    close(pipe_fds[0]);
    close(pipe_fds[1]);
    unserved_close(&u);
    matrixSslDeleteKeys(keys);
}

static int32 load(const char *cert, const char *key, const char *pass, const char *ca)
{
    sslKeys_t *keys = new_keys();
    int32 rc = matrixSslLoadRsaKeys(keys, cert, key, pass, ca);
    matrixSslDeleteKeys(keys);
    return rc;
}

static unsigned char *read_all(const char *path, int32 *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static unsigned char bufs[4][16384];
    static int next;
    unsigned char *buf = bufs[next++ % 4];
    *len = (int32)fread(buf, 1, sizeof(bufs[0]), f);
    fclose(f);
    return buf;
}

static int32 load_mem(const char *cert, const char *key, const char *ca)
{
    int32 cert_len = 0, key_len = 0, ca_len = 0;
    unsigned char *c = cert ? read_all(cert, &cert_len) : NULL;
    unsigned char *k = key ? read_all(key, &key_len) : NULL;
    unsigned char *a = ca ? read_all(ca, &ca_len) : NULL;
    sslKeys_t *keys = new_keys();
    int32 rc = matrixSslLoadRsaKeysMem(keys, c, cert_len, k, key_len, a, ca_len);
    matrixSslDeleteKeys(keys);
    return rc;
}

static void test_load_keys(void **state)
{
    (void)state;
    assert_int_equal(matrixSslOpen(), PS_SUCCESS);
    /* Good material: EC and RSA chains, encrypted keys, lists. */
    assert_int_equal(load(PKI("ec-server-chain.pem"), PKI("ec-server.key"), NULL, NULL),
                     PS_SUCCESS);
    assert_int_equal(
        load(PKI("rsa-server-chain.pem"), PKI("rsa-server.key"), NULL, PKI("rsa-root.crt")),
        PS_SUCCESS);
    assert_int_equal(load(PKI("ec-server.crt") ";" PKI("ec-int.crt"), PKI("ec-server.enc.pem"),
                          "petrel-test", PKI("ec-root.crt") ";" PKI("rsa-root.crt")),
                     PS_SUCCESS);
    assert_int_equal(
        load(PKI("ec-server.der") ";" PKI("ec-int.der"), PKI("ec-server.key"), NULL, NULL),
        PS_SUCCESS);
    assert_int_equal(load(NULL, NULL, NULL, PKI("ca-all.pem")), PS_SUCCESS);

    /* Missing files. */
    assert_int_equal(load(PKI("no-such.pem"), PKI("ec-server.key"), NULL, NULL), PS_PLATFORM_FAIL);
    assert_int_equal(load(PKI("ec-server.crt"), PKI("no-such.key"), NULL, NULL), PS_PLATFORM_FAIL);
    assert_int_equal(load(NULL, NULL, NULL, PKI("ec-root.crt") ";" PKI("no-such.pem")),
                     PS_PLATFORM_FAIL);
    assert_int_equal(load(NULL, NULL, NULL, PKI("cadir")), PS_PLATFORM_FAIL); /* a directory */
    /* Key and certificate that do not match. */
    assert_int_equal(load(PKI("ec-server.crt"), PKI("ec-client.key"), NULL, NULL),
                     PS_CERT_AUTH_FAIL);
    assert_int_equal(load(PKI("rsa-server.crt"), PKI("ec-server.key"), NULL, NULL),
                     PS_CERT_AUTH_FAIL);
    /* Unparsable material, wrong or missing password. */
    assert_int_equal(load(PKI("garbage.pem"), PKI("ec-server.key"), NULL, NULL), PS_PARSE_FAIL);
    assert_int_equal(load(PKI("ec-server.crt"), PKI("garbage.pem"), NULL, NULL), PS_PARSE_FAIL);
    assert_int_equal(load(NULL, NULL, NULL, PKI("notpem.txt")), PS_PARSE_FAIL);
    assert_int_equal(load(PKI("ec-server.crt"), PKI("ec-server.enc.pem"), "wrong", NULL),
                     PS_PARSE_FAIL);
    assert_int_equal(load(PKI("ec-server.crt"), PKI("ec-server.enc.pem"), NULL, NULL),
                     PS_PARSE_FAIL);
    /* Keys petrel refuses. */
    assert_int_equal(load(PKI("ed25519.crt"), PKI("ed25519.key"), NULL, NULL), PS_UNSUPPORTED_FAIL);
    assert_int_equal(load(PKI("rsa-1024.crt"), PKI("rsa-1024.key"), NULL, NULL),
                     PS_UNSUPPORTED_FAIL);
    /* Arguments: the two halves go together, something to load, once. */
    assert_int_equal(load(PKI("ec-server.crt"), NULL, NULL, PKI("ec-root.crt")), PS_ARG_FAIL);
    assert_int_equal(load(NULL, PKI("ec-server.key"), NULL, NULL), PS_ARG_FAIL);
    assert_int_equal(load(NULL, NULL, NULL, NULL), PS_ARG_FAIL);
    assert_int_equal(load(NULL, NULL, NULL, ";"), PS_ARG_FAIL);
    sslKeys_t *keys = new_keys();
    assert_int_equal(matrixSslLoadRsaKeys(keys, NULL, NULL, NULL, PKI("ec-root.crt")), PS_SUCCESS);
    assert_int_equal(matrixSslLoadRsaKeys(keys, NULL, NULL, NULL, PKI("rsa-root.crt")),
                     PS_ARG_FAIL);
    assert_int_equal(matrixSslLoadRsaKeysMem(keys, NULL, 0, NULL, 0, psk_key, 16), PS_ARG_FAIL);
    matrixSslDeleteKeys(keys);

    /* From memory. */
    assert_int_equal(load_mem(PKI("ec-server-chain.pem"), PKI("ec-server.key"), PKI("ec-root.crt")),
                     PS_SUCCESS);
    assert_int_equal(load_mem(PKI("ec-server-chain.der"), PKI("ec-server.pk8.der"), NULL),
                     PS_SUCCESS);
    assert_int_equal(load_mem(PKI("ec-server.crt"), PKI("ec-client.key"), NULL), PS_CERT_AUTH_FAIL);
    assert_int_equal(load_mem(PKI("garbage.pem"), PKI("ec-server.key"), NULL), PS_PARSE_FAIL);
    assert_int_equal(load_mem(NULL, NULL, PKI("garbage.pem")), PS_PARSE_FAIL);
    assert_int_equal(load_mem(PKI("ec-server.crt"), NULL, NULL), PS_ARG_FAIL);
    assert_int_equal(load_mem(NULL, NULL, NULL), PS_ARG_FAIL);
    keys = new_keys();
    assert_int_equal(matrixSslLoadRsaKeysMem(keys, NULL, 0, NULL, 0, psk_key, -1), PS_ARG_FAIL);
    matrixSslDeleteKeys(keys);
    matrixSslClose();
}

/* ======================================================================
 * Handshakes, round trips, closing
 * ====================================================================== */

static void round_trip(bool datagram)
{
    sslKeys_t *server_keys = psk_keys(), *client_keys = psk_keys();
    peer p;
    peer_serve(&p, server_keys, datagram, script_echo, 1);
    SOCKET fd = client_socket(datagram, p.port);
    sslConn_t *cp = connect_ok(fd, client_keys, 0, NULL);
    petrel_conn *conn = sslGetPetrelConn(cp);
    assert_true(petrel_handshake_complete(conn));
    assert_int_equal(petrel_protocol_version(conn), datagram ? 0xfefd : 0x0303);
    assert_int_equal(petrel_conn_mode(conn), datagram ? PETREL_DATAGRAM : PETREL_STREAM);
    if (!datagram)
        assert_int_equal(sslNextTimeout(cp), -1);

    char buf[64];
    int status = 9;
    assert_int_equal(sslRead(cp, NULL, 10, &status), PS_ARG_FAIL);
    assert_int_equal(sslRead(cp, buf, 0, &status), PS_ARG_FAIL);
    assert_int_equal(sslWrite(cp, NULL, 10, &status), PS_ARG_FAIL);
    assert_int_equal(sslWrite(cp, buf, -1, &status), PS_ARG_FAIL);
    for (int i = 0; i < 3; i++) {
        char msg[32];
        snprintf(msg, sizeof(msg), "hello %d over %s", i, datagram ? "DTLS" : "TLS");
        expect_echo(cp, msg);
    }
    /* Client closes: the server sees EOF, answers with close_notify, and
     * the client sees EOF too. */
    sslWriteClosureAlert(cp); /* a second time (in close_expect_eof): nothing */
    close_expect_eof(cp);
    assert_int_equal(sslRead(cp, buf, sizeof(buf), &status), 0); /* and it stays so */
    assert_int_equal(status, SSLSOCKET_EOF);
    assert_int_equal(sslWrite(cp, "late", 4, &status), PS_PROTOCOL_FAIL);
    client_drop(&cp, fd);
    peer_join_all_closed(&p, 1);
    assert_int_equal(p.script_rc[0], 0);
    matrixSslDeleteKeys(server_keys);
    matrixSslDeleteKeys(client_keys);
}

static void test_tls_round_trip(void **state)
{
    (void)state;
    round_trip(false);
}

static void test_dtls_round_trip(void **state)
{
    (void)state;
    round_trip(true);
}

/* The server closes first: the client reads EOF, and its automatic
 * close_notify answer gives the server EOF. */
static void server_closes(bool datagram)
{
    sslKeys_t *keys = psk_keys();
    peer p;
    peer_serve(&p, keys, datagram, script_close_first, 1);
    SOCKET fd = client_socket(datagram, p.port);
    sslConn_t *cp = connect_ok(fd, keys, 0, NULL);
    expect_eof(cp);
    peer_join_all_closed(&p, 1);
    assert_int_equal(p.read_rc, 0);
    client_drop(&cp, fd);
    matrixSslDeleteKeys(keys);
}

static void test_tls_server_closes(void **state)
{
    (void)state;
    server_closes(false);
}

static void test_dtls_server_closes(void **state)
{
    (void)state;
    server_closes(true);
}

/* 1 MB each way, in writes of random sizes and reads often smaller than a
 * record. */
static void test_tls_megabyte(void **state)
{
    (void)state;
    sslKeys_t *keys = psk_keys();
    peer p;
    peer_serve(&p, keys, false, script_megabyte, 1);
    SOCKET fd = bounded_client_socket(false, p.port);
    sslConn_t *cp = connect_ok(fd, keys, 0, NULL);
    uint32_t seed = 0xabcdefu;
    assert_true(write_stream(cp, MEGABYTE, &seed));
    assert_true(read_stream(cp, MEGABYTE, &seed));
    client_close(&cp, fd);
    peer_join(&p);
    assert_int_equal(p.script_rc[0], 0);
    assert_int_equal(p.bytes, MEGABYTE);
    matrixSslDeleteKeys(keys);
}

static void test_tls_truncation(void **state)
{
    (void)state;
    sslKeys_t *keys = psk_keys();
    peer p;
    peer_serve(&p, keys, false, script_truncate, 1);
    SOCKET fd = bounded_client_socket(false, p.port);
    sslConn_t *cp = connect_ok(fd, keys, 0, NULL);
    expect_echo(cp, "ping");
    char buf[16];
    int status = 0;
    int rc = read_some(cp, buf, sizeof(buf), &status);
    assert_int_equal(rc, PS_PROTOCOL_FAIL);
    assert_int_equal(status, SSLSOCKET_TRUNCATED);
    assert_int_equal(sslGetError(cp), PETREL_ERR_TRUNCATION);
    /* The failure is final. */
    assert_int_equal(sslRead(cp, buf, sizeof(buf), &status), PS_PROTOCOL_FAIL);
    assert_int_equal(status, SSLSOCKET_TRUNCATED);
    assert_int_equal(sslWrite(cp, "x", 1, &status), PS_PROTOCOL_FAIL);
    client_close(&cp, fd); /* close_notify on a failed connection: nothing */
    peer_join(&p);
    matrixSslDeleteKeys(keys);
}

/* DTLS: a record larger than the read buffer comes out over several
 * reads; a write larger than a datagram goes out as several records. */
static void test_dtls_records(void **state)
{
    (void)state;
    sslKeys_t *keys = psk_keys();
    peer p;
    peer_serve(&p, keys, true, script_dgram_writes, 1);
    SOCKET fd = bounded_client_socket(true, p.port);
    sslConn_t *cp = connect_ok(fd, keys, 0, NULL);
    int payload = petrel_max_payload(sslGetPetrelConn(cp));
    assert_true(payload > 1000 && payload < 5000);
    char buf[300];
    int status = 0;
    /* The 1000-byte record: 300, 300, 300, 100. */
    int sizes[] = {300, 300, 300, 100};
    size_t off = 0;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(read_some(cp, buf, sizeof(buf), &status), sizes[i]);
        assert_true(stream_matches(buf, off, (size_t)sizes[i]));
        off += (size_t)sizes[i];
    }
    /* The 5000-byte write: records of at most one datagram's payload. */
    static char big[5000];
    int got = 0, reads = 0;
    while (got < 5000) {
        int n = read_some(cp, big + got, (int)sizeof(big) - got, &status);
        assert_true(n > 0 && n <= payload);
        got += n;
        reads++;
    }
    assert_true(reads >= 5000 / payload);
    assert_true(stream_matches(big, 0, sizeof(big)));
    assert_int_equal(read_some(cp, buf, sizeof(buf), &status), 3);
    assert_memory_equal(buf, "abc", 3);
    client_close(&cp, fd);
    peer_join_all_closed(&p, 1);
    assert_int_equal(p.script_rc[0], 0);
    matrixSslDeleteKeys(keys);
}

/* sslAccept connects the UDP socket to its client; sslFreeConnection
 * disconnects it, so the same socket serves the next client. */
static void test_dtls_two_clients_in_turn(void **state)
{
    (void)state;
    sslKeys_t *keys = psk_keys();
    peer p;
    peer_serve(&p, keys, true, script_echo, 2);
    for (int i = 0; i < 2; i++) {
        SOCKET fd = bounded_client_socket(true, p.port);
        sslConn_t *cp = connect_ok(fd, keys, 0, NULL);
        expect_echo(cp, "next");
        close_expect_eof(cp);
        client_drop(&cp, fd);
    }
    peer_join_all_closed(&p, 2);
    matrixSslDeleteKeys(keys);
}

/* ======================================================================
 * Certificates and the validator
 * ====================================================================== */

static struct {
    int calls;
    int chain_len;
    int verdict;
    char subject_cn[64], subject_o[64], issuer_cn[64];
    short cn_len;
    int version, time_type, auth[4], ca[4], path_len[4];
    char not_before[32], not_after[32];
    int pub_alg, sig_alg, key_type, key_size;
    int san_dns_localhost, san_ip_loopback;
    int bin_len;
} seen;

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "(null)");
}

/* Records what it sees in `seen` and returns seen.verdict. */
static int record_validator(sslCertInfo_t *t)
{
    seen.calls++;
    seen.chain_len = 0;
    for (sslCertInfo_t *c = t; c && seen.chain_len < 4; c = c->next) {
        seen.auth[seen.chain_len] = c->authStatus;
        seen.ca[seen.chain_len] = c->extensions.bc.cA;
        seen.path_len[seen.chain_len] = c->extensions.bc.pathLenConstraint;
        seen.chain_len++;
    }
    copy_str(seen.subject_cn, sizeof(seen.subject_cn), t->subject.commonName);
    copy_str(seen.subject_o, sizeof(seen.subject_o), t->subject.organization);
    copy_str(seen.issuer_cn, sizeof(seen.issuer_cn), t->issuer.commonName);
    seen.cn_len = t->subject.commonNameLen;
    seen.version = t->version;
    seen.time_type = t->timeType;
    copy_str(seen.not_before, sizeof(seen.not_before), t->notBefore);
    copy_str(seen.not_after, sizeof(seen.not_after), t->notAfter);
    seen.pub_alg = t->pubKeyAlgorithm;
    seen.sig_alg = t->sigAlgorithm;
    seen.key_type = t->publicKey.type;
    seen.key_size = t->publicKey.keysize;
    seen.bin_len = t->unparsedBin ? t->binLen : 0;
    for (x509SubjectAltName_t *s = t->extensions.san; s; s = s->next) {
        if (s->id == 2 && s->dataLen == 9 && memcmp(s->data, "localhost", 9) == 0 &&
            strcmp((const char *)s->name, "DNS") == 0)
            seen.san_dns_localhost++;
        if (s->id == 7 && s->dataLen == 4 && memcmp(s->data, "\x7f\x00\x00\x01", 4) == 0)
            seen.san_ip_loopback++;
    }
    return seen.verdict;
}

/* Forgets what record_validator saw; it will return verdict. */
static void seen_reset(int verdict)
{
    memset(&seen, 0, sizeof(seen));
    seen.verdict = verdict;
}

static void validator_accepts(bool datagram)
{
    sslKeys_t *server_keys = server_cert_keys(),
              *client_keys = client_cert_keys(PKI("ec-root.crt"));
    peer p;
    peer_serve(&p, server_keys, datagram, script_echo, 1);
    SOCKET fd = bounded_client_socket(datagram, p.port);
    seen_reset(0);
    sslConn_t *cp = connect_ok(fd, client_keys, 0, record_validator);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.chain_len, 2);
    assert_string_equal(seen.subject_cn, "localhost");
    assert_int_equal(seen.cn_len, 11); /* with MatrixSSL's two NULs */
    assert_string_equal(seen.subject_o, "petrel-test");
    assert_string_equal(seen.issuer_cn, "petrel test EC intermediate");
    assert_int_equal(seen.version, 2);
    assert_int_equal(seen.time_type, ASN_GENERALIZEDTIME); /* valid until 2124 */
    assert_string_equal(seen.not_before, "20240101000000Z");
    assert_string_equal(seen.not_after, "21240101000000Z");
    assert_int_equal(seen.pub_alg, OID_ECDSA_KEY_ALG);
    assert_int_equal(seen.sig_alg, OID_SHA256_ECDSA_SIG);
    assert_int_equal(seen.key_type, PS_ECC);
    assert_int_equal(seen.key_size, 32);
    assert_int_equal(seen.san_dns_localhost, 1);
    assert_int_equal(seen.san_ip_loopback, 1);
    assert_true(seen.bin_len > 100);
    assert_int_equal(seen.auth[0], PS_CERT_AUTH_PASS);
    assert_int_equal(seen.auth[1], PS_CERT_AUTH_PASS);
    assert_int_equal(seen.ca[0], PS_FALSE);
    assert_int_equal(seen.ca[1], PS_TRUE);
    assert_int_equal(seen.path_len[1], 0);
    assert_false(petrel_peer_anonymous(sslGetPetrelConn(cp)));
    expect_echo(cp, "cert");
    client_close(&cp, fd);
    peer_join_all_closed(&p, 1);
    matrixSslDeleteKeys(server_keys);
    matrixSslDeleteKeys(client_keys);
}

static void test_tls_validator_accepts(void **state)
{
    (void)state;
    validator_accepts(false);
}

static void test_dtls_validator_accepts(void **state)
{
    (void)state;
    validator_accepts(true);
}

/* A native petrel server on TCP, so that the test sees the alert it
 * received. */
typedef struct native_server {
    pthread_t thread;
    petrel_config *cfg;
    SOCKET listen_fd;
    int port;
    int error;
    int alert_level, alert;
} native_server;

static void *native_server_main(void *arg)
{
    native_server *ns = arg;
    SOCKET fd = socketAccept(ns->listen_fd, NULL);
    set_rcvtimeo(fd, PEER_WAIT_MS);
    petrel_conn *conn = petrel_conn_new(ns->cfg, PETREL_SERVER, PETREL_STREAM, NULL, 0);
    int rc = conn ? 0 : PETREL_ERR_NOMEM;
    while (rc >= 0) {
        const uint8_t *out;
        int n;
        while ((n = petrel_get_outdata(conn, &out)) > 0) {
            ssize_t sent = send(fd, out, (size_t)n, MSG_NOSIGNAL);
            if (sent <= 0 || petrel_sent(conn, (size_t)sent) < 0)
                break;
        }
        uint8_t *buf;
        int cap = petrel_get_readbuf(conn, &buf);
        ssize_t got = recv(fd, buf, (size_t)cap, 0);
        if (got <= 0) {
            rc = got == 0 ? petrel_received_eof(conn) : PETREL_ERR_IO;
            if (rc == 0)
                rc = PETREL_ERR_CLOSED;
            break;
        }
        rc = petrel_received(conn, (size_t)got, NULL, NULL);
        while (rc == PETREL_APP_DATA || rc == PETREL_HANDSHAKE_COMPLETE ||
               rc == PETREL_RECEIVED_ALERT)
            rc = petrel_processed(conn, NULL, NULL);
    }
    ns->error = rc;
    if (conn && !petrel_last_alert(conn, &ns->alert_level, &ns->alert))
        ns->alert = -1;
    petrel_conn_free(conn);
    close(fd);
    return NULL;
}

/* A native server's configuration: the EC chain and its key. */
static petrel_config *native_server_config(void)
{
    petrel_config *cfg = petrel_config_new(NULL);
    assert_non_null(cfg);
    assert_int_equal(petrel_config_load_credentials_file(cfg, PKI("ec-server-chain.pem"),
                                                         PKI("ec-server.key"), NULL),
                     0);
    return cfg;
}

/* Serves one connection with cfg, which the server frees when joined. */
static void native_server_start(native_server *ns, petrel_config *cfg)
{
    memset(ns, 0, sizeof(*ns));
    ns->cfg = cfg;
    int err;
    ns->listen_fd = socketListen(0, &err);
    assert_int_not_equal(ns->listen_fd, INVALID_SOCKET);
    ns->port = socketGetPort(ns->listen_fd);
    assert_int_equal(pthread_create(&ns->thread, NULL, native_server_main, ns), 0);
}

static void native_server_join(native_server *ns)
{
    pthread_join(ns->thread, NULL);
    socketShutdown(ns->listen_fd);
    petrel_config_free(ns->cfg);
}

static void test_validator_refuses(void **state)
{
    (void)state;
    native_server ns;
    native_server_start(&ns, native_server_config());
    sslKeys_t *client_keys = client_cert_keys(PKI("ec-root.crt"));
    SOCKET fd = client_socket(false, ns.port);
    seen_reset(SSL_ALERT_ACCESS_DENIED);
    connect_fails(fd, client_keys, 0, record_validator, PS_CERT_AUTH_FAIL);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.auth[0], PS_CERT_AUTH_PASS); /* refused although valid */
    native_server_join(&ns);
    assert_int_equal(ns.error, PETREL_ERR_PEER_ALERT);
    assert_int_equal(ns.alert_level, SSL_ALERT_LEVEL_FATAL);
    assert_int_equal(ns.alert, SSL_ALERT_ACCESS_DENIED);
    socketShutdown(fd);
    matrixSslDeleteKeys(client_keys);
}

/* No CA: the chain's top (the intermediate) fails with FAIL_DN, the leaf
 * itself checks out; the validator lets the server through as anonymous.
 * Without a validator petrel's own verdict stands: a client that trusts
 * another root fails with unknown_ca (PETREL_ERR_UNKNOWN_CA, not the
 * callback's PETREL_ERR_CERT_REJECTED), and a client with neither CAs nor
 * a PSK nor a validator has nothing to offer and sends nothing. */
static void test_validator_anonymous(void **state)
{
    (void)state;
    sslKeys_t *server_keys = server_cert_keys(), *client_keys = client_cert_keys(NULL);
    sslKeys_t *wrong_ca_keys = client_cert_keys(PKI("unknown-root.crt"));
    peer p;
    peer_serve(&p, server_keys, false, script_echo, 2);

    SOCKET fd = bounded_client_socket(false, p.port);
    seen_reset(SSL_ALLOW_ANON_CONNECTION);
    sslConn_t *cp = connect_ok(fd, client_keys, 0, record_validator);
    assert_int_equal(seen.chain_len, 2);
    assert_int_equal(seen.auth[0], PS_CERT_AUTH_PASS);
    assert_int_equal(seen.auth[1], PS_CERT_AUTH_FAIL_DN);
    assert_true(petrel_peer_anonymous(sslGetPetrelConn(cp)));
    client_close(&cp, fd);

    fd = bounded_client_socket(false, p.port);
    stderr_capture log;
    const char *text = connect_fails_logging(&log, fd, wrong_ca_keys, 0, PS_CERT_AUTH_FAIL);
    /* Logged at warning level only when no callback decides. */
    assert_non_null(strstr(text, petrel_strerror(PETREL_ERR_UNKNOWN_CA)));
    socketShutdown(fd);
    peer_join(&p);
    assert_int_equal(p.accept_rc[0], PS_SUCCESS);
    assert_int_equal(p.accept_rc[1], PS_PROTOCOL_FAIL); /* the client's unknown_ca alert */

    unserved u = unserved_open();
    text = connect_fails_logging(&log, u.fd, client_keys, 0, PS_ARG_FAIL);
    assert_non_null(strstr(text, "sslConnect: no suite to offer"));
    unserved_close(&u);
    matrixSslDeleteKeys(server_keys);
    matrixSslDeleteKeys(client_keys);
    matrixSslDeleteKeys(wrong_ca_keys);
}

/* One sslKeys_t, three connections: a validator that refuses, none (the
 * chain is good: petrel accepts it), a validator that accepts. Each
 * connection sees only its own validator; the keys carry none. */
static void test_validators_per_connection(void **state)
{
    (void)state;
    sslKeys_t *server_keys = server_cert_keys(),
              *client_keys = client_cert_keys(PKI("ec-root.crt"));
    peer p;
    peer_serve(&p, server_keys, false, script_echo, 3);

    SOCKET fd = bounded_client_socket(false, p.port);
    seen_reset(SSL_ALERT_ACCESS_DENIED);
    connect_fails(fd, client_keys, 0, record_validator, PS_CERT_AUTH_FAIL);
    assert_int_equal(seen.calls, 1);
    socketShutdown(fd);

    fd = bounded_client_socket(false, p.port);
    sslConn_t *cp = connect_ok(fd, client_keys, 0, NULL);
    assert_int_equal(seen.calls, 1); /* the refusing validator was not asked */
    assert_false(petrel_peer_anonymous(sslGetPetrelConn(cp)));
    expect_echo(cp, "free");
    client_close(&cp, fd);

    fd = bounded_client_socket(false, p.port);
    seen.verdict = 0;
    cp = connect_ok(fd, client_keys, 0, record_validator);
    assert_int_equal(seen.calls, 2);
    assert_int_equal(seen.auth[0], PS_CERT_AUTH_PASS);
    client_close(&cp, fd);

    peer_join(&p);
    assert_int_equal(p.accept_rc[0], PS_PROTOCOL_FAIL); /* the access_denied alert */
    assert_int_equal(p.accept_rc[1], PS_SUCCESS);
    assert_int_equal(p.accept_rc[2], PS_SUCCESS);
    assert_int_equal(p.eof_seen, 2);
    matrixSslDeleteKeys(server_keys);
    matrixSslDeleteKeys(client_keys);
}

/* A server (native, on TCP) with a certificate and the PSK that prefers
 * certificate suites: a client with only the PSK offers no certificate
 * suite, so the PSK suite is chosen; a client that also trusts the CA
 * gets the certificate suite the server prefers. */
static void test_psk_client_offers_no_certificate_suites(void **state)
{
    (void)state;
    static const uint16_t server_suites[] = {0xC02B, 0x00A8};
    sslKeys_t *psk_only = psk_keys(), *psk_and_ca = client_cert_keys(PKI("ec-root.crt"));
    assert_int_equal(
        matrixSslLoadPsk(psk_and_ca, psk_key, sizeof(psk_key), psk_id, sizeof(psk_id) - 1),
        PS_SUCCESS);
    sslKeys_t *clients[2] = {psk_only, psk_and_ca};
    const uint16_t expected[2] = {0x00A8, 0xC02B};
    for (int i = 0; i < 2; i++) {
        petrel_config *cfg = native_server_config();
        assert_int_equal(
            petrel_config_set_psk(cfg, psk_id, sizeof(psk_id) - 1, psk_key, sizeof(psk_key)), 0);
        assert_int_equal(petrel_config_set_suites(cfg, server_suites, 2), 0);
        native_server ns;
        native_server_start(&ns, cfg);
        SOCKET fd = bounded_client_socket(false, ns.port);
        sslConn_t *cp = connect_ok(fd, clients[i], 0, NULL);
        assert_int_equal(petrel_cipher_suite(sslGetPetrelConn(cp)), expected[i]);
        client_close(&cp, fd);
        native_server_join(&ns);
    }
    matrixSslDeleteKeys(psk_only);
    matrixSslDeleteKeys(psk_and_ca);
}

/* ======================================================================
 * cipherSuite, a wrong PSK, non-blocking sockets
 * ====================================================================== */

static void test_cipher_suite(void **state)
{
    (void)state;
    sslKeys_t *keys = psk_keys();
    /* 0x00A8 TLS_PSK_WITH_AES_128_GCM_SHA256, and 0xC0A8
     * TLS_PSK_WITH_AES_128_CCM_8, whose id wraps in the short. */
    const uint16_t suites[] = {0x00A8, 0xC0A8};
    for (int i = 0; i < 2; i++) {
        peer p;
        peer_serve(&p, keys, i == 1, script_echo, 1);
        SOCKET fd = bounded_client_socket(i == 1, p.port);
        sslConn_t *cp = connect_ok(fd, keys, suites[i], NULL);
        assert_int_equal(petrel_cipher_suite(sslGetPetrelConn(cp)), suites[i]);
        client_close(&cp, fd);
        peer_join(&p);
        assert_int_equal(p.accept_rc[0], PS_SUCCESS);
    }
    /* Refused before anything is sent, with a log line saying why: RC4,
     * and an id nobody knows. */
    unserved u = unserved_open();
    stderr_capture log;
    const char *text = connect_fails_logging(&log, u.fd, keys, 0x0005, PS_UNSUPPORTED_FAIL);
    assert_non_null(strstr(text, "cipherSuite 0x0005"));
    assert_non_null(strstr(text, "RC4"));
    text = connect_fails_logging(&log, u.fd, keys, 0x7777, PS_UNSUPPORTED_FAIL);
    assert_non_null(strstr(text, "0x7777 is not implemented"));
    /* A certificate suite, with keys that cannot check a certificate. */
    connect_fails(u.fd, keys, 0xC02B, NULL, PS_ARG_FAIL);
    unserved_close(&u);
    matrixSslDeleteKeys(keys);
}

/* cipherSuite makes the connection offer that suite only, so the server
 * (whose own preference puts another first) has to take it; the shared
 * keys are left as they were for the next connection. PSK suites over TLS
 * and DTLS, and a certificate suite. */
static void forced_suite(sslKeys_t *server_keys, sslKeys_t *client_keys, bool datagram,
                         uint16_t forced, uint16_t server_choice)
{
    peer p;
    peer_serve(&p, server_keys, datagram, script_echo, 3);
    const uint16_t asked[3] = {0, forced, 0};
    const uint16_t expected[3] = {server_choice, forced, server_choice};
    for (int i = 0; i < 3; i++) {
        SOCKET fd = bounded_client_socket(datagram, p.port);
        sslConn_t *cp = connect_ok(fd, client_keys, asked[i], NULL);
        assert_int_equal(petrel_cipher_suite(sslGetPetrelConn(cp)), expected[i]);
        expect_echo(cp, "suite");
        close_expect_eof(cp);
        client_drop(&cp, fd);
    }
    peer_join_all_closed(&p, 3);
}

static void test_cipher_suite_forced(void **state)
{
    (void)state;
    sslKeys_t *psk_server = psk_keys(), *psk_client = psk_keys();
    /* petrel's default order starts with TLS_PSK_WITH_AES_128_CCM_8. */
    forced_suite(psk_server, psk_client, false, 0xCCAC, 0xC0A8); /* ECDHE_PSK_CHACHA20 */
    forced_suite(psk_server, psk_client, true, 0x00A9, 0xC0A8);  /* PSK_AES_256_GCM */
    sslKeys_t *cert_server = server_cert_keys(),
              *cert_client = client_cert_keys(PKI("ec-root.crt"));
    /* ...and, among the ECDSA suites, TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8. */
    forced_suite(cert_server, cert_client, false, 0xC02C, 0xC0AE); /* ECDSA_AES_256_GCM */
    forced_suite(cert_server, cert_client, true, 0xCCA9, 0xC0AE);  /* ECDSA_CHACHA20 */
    matrixSslDeleteKeys(psk_server);
    matrixSslDeleteKeys(psk_client);
    matrixSslDeleteKeys(cert_server);
    matrixSslDeleteKeys(cert_client);
}

static void test_wrong_psk(void **state)
{
    (void)state;
    static unsigned char other_key[16] = {0xff};
    sslKeys_t *server_keys = psk_keys(), *client_keys = psk_keys_with(other_key, 16);
    peer p;
    peer_serve(&p, server_keys, false, script_echo, 1);
    SOCKET fd = bounded_client_socket(false, p.port);
    connect_fails(fd, client_keys, 0, NULL, PS_PROTOCOL_FAIL);
    socketShutdown(fd);
    peer_join(&p);
    assert_int_equal(p.accept_rc[0], PS_PROTOCOL_FAIL);
    matrixSslDeleteKeys(server_keys);
    matrixSslDeleteKeys(client_keys);
}

/* What sslRead and sslWrite leave in *status when the socket would
 * block. */
static void assert_would_block(int status)
{
    assert_true(status == EAGAIN || status == EWOULDBLOCK);
}

static void test_nonblocking(void **state)
{
    (void)state;
    sslKeys_t *keys = psk_keys();
    peer p;
    peer_start(&p, keys, false, script_slow_sink, 1);
    int small = 4096;
    (void)setsockopt(p.listen_fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    peer_run(&p);
    SOCKET fd = client_socket(false, p.port);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    sslConn_t *cp = connect_ok(fd, keys, 0, NULL);

    /* A blocking read with SO_RCVTIMEO gives up with PS_EAGAIN. */
    char buf[16];
    int status = 0;
    set_rcvtimeo(fd, 100);
    uint64_t start = now_ms();
    assert_int_equal(sslRead(cp, buf, sizeof(buf), &status), PS_EAGAIN);
    assert_would_block(status);
    assert_true(now_ms() - start >= 90);

    /* Non-blocking: nothing to read now. */
    setSocketNonblock(fd);
    assert_int_equal(sslRead(cp, buf, sizeof(buf), &status), PS_EAGAIN);
    assert_would_block(status);

    /* A write the socket cannot take whole: 0 until it has all gone. */
    static char data[MEGABYTE];
    stream_fill(data, MEGABYTE);
    int rc = sslWrite(cp, data, MEGABYTE, &status);
    assert_int_equal(rc, 0);
    assert_would_block(status);
    assert_int_equal(sslWrite(cp, data, 1000, &status), PS_ARG_FAIL); /* another len */
    peer_signal_go(&p);
    int zeros = 0;
    uint64_t deadline = now_ms() + PEER_WAIT_MS;
    while ((rc = sslWrite(cp, data, MEGABYTE, &status)) == 0 && now_ms() < deadline) {
        struct pollfd pfd = {fd, POLLOUT, 0};
        (void)poll(&pfd, 1, 100);
        zeros++;
    }
    assert_int_equal(rc, MEGABYTE);
    assert_true(zeros > 0);
    peer_join(&p);
    assert_int_equal(p.script_rc[0], 0);
    assert_int_equal(p.bytes, MEGABYTE);
    client_drop(&cp, fd);
    matrixSslDeleteKeys(keys);
}

/* ======================================================================
 * DTLS through a relay that drops every third datagram
 * ====================================================================== */

typedef struct relay {
    pthread_t thread;
    SOCKET front; /* the client talks to it */
    SOCKET back;  /* connected to the server */
    struct sockaddr_storage client;
    socklen_t client_len;
    atomic_bool stop;
    unsigned count, dropped;
} relay;

static void *relay_main(void *arg)
{
    relay *r = arg;
    uint8_t buf[65536];
    while (!atomic_load(&r->stop)) {
        struct pollfd pfd[2] = {{r->front, POLLIN, 0}, {r->back, POLLIN, 0}};
        if (poll(pfd, 2, 50) <= 0)
            continue;
        for (int side = 0; side < 2; side++) {
            if (!(pfd[side].revents & POLLIN))
                continue;
            ssize_t n;
            if (side == 0) {
                r->client_len = sizeof(r->client);
                n = recvfrom(r->front, buf, sizeof(buf), 0, (struct sockaddr *)&r->client,
                             &r->client_len);
            } else {
                n = recv(r->back, buf, sizeof(buf), 0);
            }
            if (n < 0)
                continue;
            if (++r->count % 3 == 0) {
                r->dropped++;
                continue;
            }
            if (side == 0)
                (void)send(r->back, buf, (size_t)n, 0);
            else if (r->client_len)
                (void)sendto(r->front, buf, (size_t)n, 0, (struct sockaddr *)&r->client,
                             r->client_len);
        }
    }
    return NULL;
}

static void test_dtls_lossy_relay(void **state)
{
    (void)state;
    sslKeys_t *keys = psk_keys();
    peer p;
    peer_serve(&p, keys, true, script_lossy_echo, 1);
    relay r;
    memset(&r, 0, sizeof(r));
    int err;
    r.front = socketListenDgram(0, &err);
    r.back = client_socket(true, p.port);
    assert_int_equal(pthread_create(&r.thread, NULL, relay_main, &r), 0);

    SOCKET fd = client_socket(true, socketGetPort(r.front));
    uint64_t start = now_ms();
    sslConn_t *cp = connect_ok(fd, keys, 0, NULL);
    uint64_t handshake_ms = now_ms() - start;
    petrel_conn_stats stats;
    petrel_get_stats(sslGetPetrelConn(cp), &stats);
    print_message("lossy relay: handshake in %llu ms, %llu client retransmissions\n",
                  (unsigned long long)handshake_ms, (unsigned long long)stats.retransmissions);
    assert_true(stats.retransmissions > 0);

    /* Application data is not retransmitted by DTLS: the client asks again
     * when no echo comes. */
    set_rcvtimeo(fd, 300);
    char buf[64];
    int status = 0, n = -1;
    for (int attempt = 0; attempt < 20 && n != 4; attempt++) {
        assert_int_equal(sslWrite(cp, "ping", 4, &status), 4);
        do
            n = sslRead(cp, buf, sizeof(buf), &status);
        while (n == 0);
    }
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "ping", 4);
    client_drop(&cp, fd);
    peer_join(&p);
    atomic_store(&r.stop, true);
    pthread_join(r.thread, NULL);
    socketShutdown(r.front);
    socketShutdown(r.back);
    assert_int_equal(p.accept_rc[0], PS_SUCCESS);
    assert_int_equal(p.script_rc[0], 0);
    assert_true(r.dropped > 0);
    matrixSslDeleteKeys(keys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_load_keys),
        cmocka_unit_test(test_tls_round_trip),
        cmocka_unit_test(test_dtls_round_trip),
        cmocka_unit_test(test_tls_server_closes),
        cmocka_unit_test(test_dtls_server_closes),
        cmocka_unit_test(test_tls_megabyte),
        cmocka_unit_test(test_tls_truncation),
        cmocka_unit_test(test_dtls_records),
        cmocka_unit_test(test_dtls_two_clients_in_turn),
        cmocka_unit_test(test_tls_validator_accepts),
        cmocka_unit_test(test_dtls_validator_accepts),
        cmocka_unit_test(test_validator_refuses),
        cmocka_unit_test(test_validator_anonymous),
        cmocka_unit_test(test_validators_per_connection),
        cmocka_unit_test(test_psk_client_offers_no_certificate_suites),
        cmocka_unit_test(test_cipher_suite),
        cmocka_unit_test(test_cipher_suite_forced),
        cmocka_unit_test(test_wrong_psk),
        cmocka_unit_test(test_nonblocking),
        cmocka_unit_test(test_dtls_lossy_relay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
