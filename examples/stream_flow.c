/*
 * The petrel buffer flow over a byte stream: a TLS 1.2 PSK client and
 * server in one process, talking over a real socket pair (a stand-in for
 * TCP) with non-blocking sockets and small socket buffers, so that sends
 * go out in parts and records arrive split and merged. It shows every
 * step an application takes with a stream: read whatever the socket has
 * into petrel's read buffer, act on each status, send outdata as far as
 * the socket takes it (petrel_sent with the count sent), close with
 * close_notify, and tell a clean end from a truncated one at EOF.
 * docs/stream.md walks through it.
 *
 * Build: cc stream_flow.c $(pkg-config --cflags --libs petrel)
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <petrel/petrel.h>

#define PAYLOAD (1024 * 1024)

typedef struct endpoint {
    const char *name;
    petrel_conn *conn;
    int fd;
    size_t received;   /* application bytes */
    unsigned checksum; /* a running sum of them */
    int partial_sends; /* sends the socket took only in part */
    int reads;
    bool peer_closed;
    bool eof;
} endpoint;

/* Send path: as much outdata as the socket takes now. A partial send is
 * normal on a stream: report what went, the rest stays queued. */
static int flush_outdata(endpoint *e)
{
    const uint8_t *buf;
    int n;
    while ((n = petrel_get_outdata(e->conn, &buf)) > 0) {
        ssize_t sent = send(e->fd, buf, (size_t)n, MSG_NOSIGNAL);
        if (sent < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        if (sent < n)
            e->partial_sends++;
        if (petrel_sent(e->conn, (size_t)sent) < 0)
            return -1;
    }
    return n;
}

/* Receive path: whatever the socket has, then every status it yields. */
static int read_stream(endpoint *e)
{
    uint8_t *readbuf;
    int cap = petrel_get_readbuf(e->conn, &readbuf);
    if (cap < 0)
        return cap;
    ssize_t got = recv(e->fd, readbuf, (size_t)cap, 0);
    if (got < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    if (got == 0) {
        /* The end of the stream: clean only after close_notify. */
        e->eof = true;
        int rc = petrel_received_eof(e->conn);
        printf("%s: end of stream: %s\n", e->name,
               rc == 0 ? "clean (close_notify came first)" : petrel_strerror(rc));
        return rc;
    }
    e->reads++;
    const uint8_t *data;
    size_t len;
    int rc = petrel_received(e->conn, (size_t)got, &data, &len);
    for (;;) {
        switch (rc) {
        case PETREL_HANDSHAKE_COMPLETE:
            printf("%s: handshake complete, TLS 1.2, %s\n", e->name,
                   petrel_cipher_suite_name(e->conn));
            break;
        case PETREL_APP_DATA:
            /* One record's plaintext at a time; data is valid until the
             * next call on the connection. */
            e->received += len;
            for (size_t i = 0; i < len; i++)
                e->checksum += data[i];
            break;
        case PETREL_RECEIVED_ALERT:
            if (petrel_peer_closed(e->conn)) {
                /* petrel answered with its own close_notify. */
                e->peer_closed = true;
                printf("%s: peer sent close_notify\n", e->name);
            }
            break;
        case PETREL_REQUEST_SEND: /* an answer is queued: flush_outdata */
        case PETREL_REQUEST_RECV: /* the bytes are used up (maybe mid-record) */
            return 0;
        default:
            printf("%s: failed: %s\n", e->name, petrel_strerror(rc));
            return rc;
        }
        /* More whole records may be in what was read: go on. */
        rc = petrel_processed(e->conn, &data, &len);
    }
}

/* Reads until the end of the stream (each wait bounded). */
static void read_until_eof(endpoint *e)
{
    struct pollfd p = {e->fd, POLLIN, 0};
    while (!e->eof && poll(&p, 1, 5000) > 0 && read_stream(e) == 0)
        ;
}

static int make_nonblocking_pair(int fds[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        int small = 4096; /* so that sends are taken in parts */
        if (setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) < 0 ||
            fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK) < 0)
            return -1;
    }
    return 0;
}

/* One poll loop for both ends until done() or an error. */
static int run(endpoint *ends, bool (*done)(const endpoint *))
{
    for (int round = 0; round < 100000 && !done(ends); round++) {
        struct pollfd p[2];
        for (int i = 0; i < 2; i++) {
            const uint8_t *buf;
            p[i].fd = ends[i].eof ? -1 : ends[i].fd;
            p[i].events = POLLIN | (petrel_get_outdata(ends[i].conn, &buf) > 0 ? POLLOUT : 0);
        }
        if (poll(p, 2, 5000) <= 0)
            return -1;
        for (int i = 0; i < 2; i++) {
            if ((p[i].revents & POLLOUT) && flush_outdata(&ends[i]) < 0)
                return -1;
            if ((p[i].revents & (POLLIN | POLLHUP)) && read_stream(&ends[i]) < 0)
                return -1;
            if (flush_outdata(&ends[i]) < 0)
                return -1;
        }
    }
    return done(ends) ? 0 : -1;
}

static bool handshakes_done(const endpoint *e)
{
    return petrel_handshake_complete(e[0].conn) && petrel_handshake_complete(e[1].conn);
}

static bool transfer_done(const endpoint *e)
{
    return e[1].received == PAYLOAD;
}

static bool both_closed(const endpoint *e)
{
    return e[0].peer_closed && e[1].peer_closed;
}

int main(void)
{
    static const uint8_t key[16] = "0123456789abcdef";
    static uint8_t payload[PAYLOAD];
    int fds[2];
    petrel_config *cfg = petrel_config_new(NULL);
    if (!cfg || petrel_config_set_psk(cfg, (const uint8_t *)"device-1", 8, key, 16) < 0 ||
        make_nonblocking_pair(fds) < 0)
        return 1;
    /* The mode is the only difference from DTLS: PETREL_STREAM. */
    endpoint ends[2] = {
        {.name = "client",
         .conn = petrel_conn_new(cfg, PETREL_CLIENT, PETREL_STREAM, NULL, 0),
         .fd = fds[0]},
        {.name = "server",
         .conn = petrel_conn_new(cfg, PETREL_SERVER, PETREL_STREAM, NULL, 0),
         .fd = fds[1]},
    };
    if (!ends[0].conn || !ends[1].conn || petrel_connect(ends[0].conn) < 0 ||
        run(ends, handshakes_done) < 0)
        return 1;

    /* 1 MiB in one call: petrel cuts it into 16 KiB records. */
    unsigned sum = 0;
    for (size_t i = 0; i < PAYLOAD; i++)
        sum += payload[i] = (uint8_t)(i * 7 + 3);
    if (petrel_encode_to_outdata(ends[0].conn, payload, PAYLOAD) < 0 ||
        run(ends, transfer_done) < 0)
        return 1;
    printf("server: received %zu bytes in %d reads, checksum %s; client sends taken in part: %d\n",
           ends[1].received, ends[1].reads, ends[1].checksum == sum ? "matches" : "DIFFERS",
           ends[0].partial_sends);

    /* A clean end: the client's close_notify, the server's answer. */
    if (petrel_close_notify(ends[0].conn) < 0 || run(ends, both_closed) < 0)
        return 1;
    shutdown(fds[0], SHUT_WR); /* as a TCP FIN would */
    read_until_eof(&ends[1]);
    int clean = petrel_conn_error(ends[1].conn) == 0;

    /* A truncated one: a fresh connection whose peer just closes the
     * socket after the handshake, with no close_notify. */
    int fds2[2];
    if (make_nonblocking_pair(fds2) < 0)
        return 1;
    endpoint cut[2] = {
        {.name = "client",
         .conn = petrel_conn_new(cfg, PETREL_CLIENT, PETREL_STREAM, NULL, 0),
         .fd = fds2[0]},
        {.name = "server",
         .conn = petrel_conn_new(cfg, PETREL_SERVER, PETREL_STREAM, NULL, 0),
         .fd = fds2[1]},
    };
    if (!cut[0].conn || !cut[1].conn || petrel_connect(cut[0].conn) < 0 ||
        run(cut, handshakes_done) < 0)
        return 1;
    close(fds2[0]);
    read_until_eof(&cut[1]);
    int truncated = petrel_conn_error(cut[1].conn) == PETREL_ERR_TRUNCATION;

    printf("stream flow: %s\n",
           clean && truncated && ends[1].checksum == sum ? "all as expected" : "UNEXPECTED RESULT");
    for (int i = 0; i < 2; i++) {
        petrel_conn_free(ends[i].conn);
        petrel_conn_free(cut[i].conn);
    }
    close(fds[0]);
    close(fds[1]);
    close(fds2[1]);
    petrel_config_free(cfg);
    return clean && truncated ? 0 : 1;
}
