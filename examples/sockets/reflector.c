/*
 * A reflector on the MatrixSSL socket layer (matrixssl/sslSocket.h): it
 * serves TLS on a TCP port and DTLS on a UDP port, one connection at a
 * time, and writes back whatever each client sends until the client sends
 * close_notify (or stays silent for the idle time). Written only against
 * sslSocket.h and matrixsslApi.h, as a MatrixSSL program would be.
 * docs/socket-layer.md walks through it.
 *
 * Usage: sslsocket_reflector [--tls-port N] [--dtls-port N]
 *            [--port-file FILE] [--cert PKI_DIR] [--lossy-link RTT_MS]
 *            [--idle-ms MS] [--count N]
 *   --tls-port, --dtls-port: default 4433 both; 0 picks free ports, which
 *     are printed and written to --port-file as "TLS_PORT DTLS_PORT".
 *   PSK (identity "client", key 0102030405060708090a0b0c0d0e0f10) by
 *     default; --cert serves PKI_DIR/ec-server-chain.pem with its key.
 *   --lossy-link: petrel's short DTLS retransmission timers.
 *   --idle-ms: how long a client may stay silent (default 10000).
 *   --count: stop after N connections (default: run until killed).
 */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <matrixssl/sslSocket.h>

static unsigned char psk_key[16] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                    0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};
static unsigned char psk_id[] = "client";

typedef struct options {
    int tls_port, dtls_port;
    const char *port_file;
    const char *pki;
    long lossy_rtt_ms; /* < 0: off */
    int idle_ms;
    long count;
} options;

static void set_idle_timeout(SOCKET fd, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* sslWrite returns 0 while the socket has not taken everything. */
static int write_all(sslConn_t *cp, char *buf, int len)
{
    int status, rc;
    while ((rc = sslWrite(cp, buf, len, &status)) == 0)
        ;
    return rc;
}

/* Echoes until the client closes, goes silent or fails. */
static void reflect(sslConn_t *cp, const char *proto)
{
    static char buf[16384];
    long bytes = 0;
    for (;;) {
        int status = 0;
        int n = sslRead(cp, buf, sizeof(buf), &status);
        if (n > 0) {
            bytes += n;
            if (write_all(cp, buf, n) != n) {
                printf("reflector: %s: write failed\n", proto);
                return;
            }
        } else if (n == 0 && status == SSLSOCKET_EOF) {
            /* The layer has already answered with its own close_notify. */
            printf("reflector: %s: client closed after %ld bytes\n", proto, bytes);
            return;
        } else if (n == PS_EAGAIN) {
            printf("reflector: %s: client silent, dropped after %ld bytes\n", proto, bytes);
            return;
        } else if (n < 0) {
            printf("reflector: %s: read failed (%d, status %d)\n", proto, n, status);
            return;
        }
        /* n == 0 otherwise: only handshake traffic (a retransmission). */
    }
}

/* Runs the server's handshake on fd, then reflects. fd's idle timeout
 * bounds every silence of the client, the handshake's too. */
static void serve(SOCKET fd, sslKeys_t *keys, int idle_ms, const char *proto)
{
    set_idle_timeout(fd, idle_ms);
    sslConn_t *cp = NULL;
    int rc = sslAccept(&cp, fd, keys);
    if (rc == PS_SUCCESS) {
        printf("reflector: %s: handshake complete\n", proto);
        reflect(cp, proto);
        sslFreeConnection(&cp);
    } else {
        printf("reflector: %s: handshake failed (%d)\n", proto, rc);
    }
}

/* TCP: a socket of its own for each client. */
static void serve_tls(SOCKET listen_fd, sslKeys_t *keys, int idle_ms)
{
    int err;
    SOCKET fd = socketAccept(listen_fd, &err);
    if (fd == INVALID_SOCKET) {
        printf("reflector: accept failed (errno %d)\n", err);
        return;
    }
    serve(fd, keys, idle_ms, "TLS");
    socketShutdown(fd);
}

/* UDP: the one server socket, where a datagram is waiting (poll said
 * so). sslAccept answers cookieless ClientHellos statelessly, connects fd
 * to the first client whose cookie checks out and runs the handshake;
 * sslFreeConnection disconnects fd for the next client. The idle timeout
 * means a stray datagram does not hold the reflector. */
static void serve_dtls(SOCKET fd, sslKeys_t *keys, int idle_ms)
{
    serve(fd, keys, idle_ms, "DTLS");
}

static int usage(void)
{
    fprintf(stderr,
            "usage: sslsocket_reflector [--tls-port N] [--dtls-port N] [--port-file FILE]\n"
            "           [--cert PKI_DIR] [--lossy-link RTT_MS] [--idle-ms MS] [--count N]\n");
    return 2;
}

static int parse(int argc, char **argv, options *o)
{
    *o = (options){4433, 4433, NULL, NULL, -1, 10000, 0};
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return -1;
        i++;
        if (strcmp(opt, "--tls-port") == 0)
            o->tls_port = atoi(v);
        else if (strcmp(opt, "--dtls-port") == 0)
            o->dtls_port = atoi(v);
        else if (strcmp(opt, "--port-file") == 0)
            o->port_file = v;
        else if (strcmp(opt, "--cert") == 0)
            o->pki = v;
        else if (strcmp(opt, "--lossy-link") == 0)
            o->lossy_rtt_ms = atol(v);
        else if (strcmp(opt, "--idle-ms") == 0)
            o->idle_ms = atoi(v);
        else if (strcmp(opt, "--count") == 0)
            o->count = atol(v);
        else
            return -1;
    }
    return 0;
}

static sslKeys_t *load_keys(const options *o)
{
    sslKeys_t *keys = NULL;
    if (matrixSslNewKeys(&keys) != PS_SUCCESS)
        return NULL;
    int rc;
    if (o->pki) {
        char chain[1024], key[1024];
        snprintf(chain, sizeof(chain), "%s/ec-server-chain.pem", o->pki);
        snprintf(key, sizeof(key), "%s/ec-server.key", o->pki);
        rc = matrixSslLoadRsaKeys(keys, chain, key, NULL, NULL);
    } else {
        rc = matrixSslLoadPsk(keys, psk_key, sizeof(psk_key), psk_id, sizeof(psk_id) - 1);
    }
    if (rc == PS_SUCCESS && o->lossy_rtt_ms >= 0)
        rc = matrixSslKeysSetLossyLink(keys, (uint32)o->lossy_rtt_ms);
    if (rc != PS_SUCCESS) {
        fprintf(stderr, "reflector: loading keys failed (%d)\n", rc);
        matrixSslDeleteKeys(keys);
        return NULL;
    }
    return keys;
}

int main(int argc, char **argv)
{
    options o;
    if (parse(argc, argv, &o) < 0)
        return usage();
    if (matrixSslOpen() != PS_SUCCESS)
        return 1;
    sslKeys_t *keys = load_keys(&o);
    int err = 0;
    SOCKET tls_fd = keys ? socketListen((short)o.tls_port, &err) : INVALID_SOCKET;
    SOCKET dtls_fd =
        tls_fd != INVALID_SOCKET ? socketListenDgram((short)o.dtls_port, &err) : INVALID_SOCKET;
    if (dtls_fd == INVALID_SOCKET) {
        if (keys)
            fprintf(stderr, "reflector: cannot listen (errno %d)\n", err);
        socketShutdown(tls_fd);
        matrixSslDeleteKeys(keys);
        return 1;
    }
    printf("reflector: listening: TLS on port %d, DTLS on port %d, %s\n", socketGetPort(tls_fd),
           socketGetPort(dtls_fd), o.pki ? "certificate" : "PSK");
    fflush(stdout);
    if (o.port_file) {
        FILE *f = fopen(o.port_file, "w");
        if (f) {
            fprintf(f, "%d %d\n", socketGetPort(tls_fd), socketGetPort(dtls_fd));
            fclose(f);
        }
    }
    for (long served = 0; o.count == 0 || served < o.count; served++) {
        struct pollfd pfd[2] = {{tls_fd, POLLIN, 0}, {dtls_fd, POLLIN, 0}};
        if (poll(pfd, 2, -1) < 0)
            break;
        if (pfd[0].revents & POLLIN)
            serve_tls(tls_fd, keys, o.idle_ms);
        else
            serve_dtls(dtls_fd, keys, o.idle_ms);
        fflush(stdout);
    }
    printf("reflector: done\n");
    socketShutdown(tls_fd);
    socketShutdown(dtls_fd);
    matrixSslDeleteKeys(keys);
    matrixSslClose();
    return 0;
}
