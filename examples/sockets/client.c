/*
 * A client on the MatrixSSL socket layer (matrixssl/sslSocket.h): it
 * connects over TLS or DTLS, writes a message, reads the echo back from
 * the reflector (reflector.c), checks it and sends close_notify. Written
 * only against sslSocket.h and matrixsslApi.h. docs/socket-layer.md walks
 * through it.
 *
 * Usage: sslsocket_client (--tls | --dtls) [--host HOST] [--port N]
 *            [--message TEXT] [--cert PKI_DIR] [--suite HEX]
 *            [--lossy-link RTT_MS] [--retry-ms MS] [--timeout-ms MS]
 *   --port: default 4433. PSK by default (identity "client"); --cert
 *     trusts PKI_DIR/ec-root.crt, expects the name "localhost" and prints
 *     what the certificate validator sees.
 *   --suite: the one cipher suite to offer (IANA id in hex, e.g. 00a8).
 *   --retry-ms (DTLS, default 1000): DTLS does not retransmit application
 *     data, so the message is sent again when no echo came in this time.
 *   --timeout-ms (default 20000): the most any wait for the server lasts.
 * Exit status 0 when the echo matched.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <matrixssl/sslSocket.h>

static unsigned char psk_key[16] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                    0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};
static unsigned char psk_id[] = "client";

typedef struct options {
    int dtls; /* -1 until --tls or --dtls */
    const char *host;
    int port;
    const char *message;
    const char *pki;
    unsigned suite;
    long lossy_rtt_ms;
    int retry_ms, timeout_ms;
} options;

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_read_timeout(SOCKET fd, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static const char *auth_name(int32 status)
{
    switch (status) {
    case PS_CERT_AUTH_PASS:
        return "PASS";
    case PS_FALSE:
        return "untested";
    case PS_CERT_AUTH_FAIL_BC:
        return "FAIL_BC";
    case PS_CERT_AUTH_FAIL_DN:
        return "FAIL_DN";
    case PS_CERT_AUTH_FAIL_SIG:
        return "FAIL_SIG";
    case PS_CERT_AUTH_FAIL_EXTENSION:
        return "FAIL_EXTENSION";
    default:
        return "FAIL";
    }
}

/* The certificate validator: sees the server's chain, leaf first, with
 * petrel's verdict on each certificate; accepts only a fully verified
 * chain (returning 0 would accept anything: the validator has the last
 * word). */
static int validator(sslCertInfo_t *cert)
{
    int verdict = 0;
    for (sslCertInfo_t *c = cert; c; c = c->next) {
        printf("client: certificate: subject CN=%s, issuer CN=%s, valid %s..%s, %s\n",
               c->subject.commonName ? c->subject.commonName : "-",
               c->issuer.commonName ? c->issuer.commonName : "-", c->notBefore, c->notAfter,
               auth_name(c->authStatus));
        if (c->authStatus != PS_CERT_AUTH_PASS)
            verdict = SSL_ALERT_BAD_CERTIFICATE;
    }
    return verdict;
}

/* Reads until len bytes came (a TLS echo may come in pieces). Returns the
 * count, or what stopped it (PS_EAGAIN: nothing within the read timeout). */
static int read_echo(sslConn_t *cp, char *buf, int len)
{
    int got = 0;
    while (got < len) {
        int status = 0;
        int n = sslRead(cp, buf + got, len - got, &status);
        if (n > 0)
            got += n;
        else if (n == 0 && status == SSLSOCKET_EOF)
            return got;
        else if (n < 0)
            return got ? got : n;
    }
    return got;
}

static int run(const options *o, sslKeys_t *keys)
{
    int err = 0;
    SOCKET fd = o->dtls ? socketConnectDgram(o->host, (short)o->port, &err)
                        : socketConnect(o->host, (short)o->port, &err);
    if (fd == INVALID_SOCKET) {
        printf("client: cannot connect to %s:%d (errno %d)\n", o->host, o->port, err);
        return 1;
    }
    const char *proto = o->dtls ? "DTLS" : "TLS";
    /* Bounds every silence of the server, the handshake included. */
    set_read_timeout(fd, o->timeout_ms);
    long start = now_ms();
    sslConn_t *cp = NULL;
    int rc = sslConnect(&cp, fd, keys, NULL, (short)o->suite, o->pki ? validator : NULL);
    if (rc != PS_SUCCESS) {
        printf("client: %s handshake failed (%d)\n", proto, rc);
        socketShutdown(fd);
        return 1;
    }
    printf("client: %s handshake complete in %ld ms\n", proto, now_ms() - start);

    int len = (int)strlen(o->message), status = 0, got = 0;
    char *echo = malloc((size_t)len + 1);
    if (o->dtls)
        set_read_timeout(fd, o->retry_ms);
    long deadline = now_ms() + o->timeout_ms;
    while (echo && got != len && now_ms() < deadline) {
        while ((rc = sslWrite(cp, (char *)o->message, len, &status)) == 0)
            ;
        if (rc != len)
            break;
        got = read_echo(cp, echo, len);
        /* Over DTLS the message or its echo may have been lost: ask again. */
        if (got != PS_EAGAIN || !o->dtls)
            break;
    }
    int ok = echo && got == len && memcmp(echo, o->message, (size_t)len) == 0;
    if (ok)
        printf("client: echo ok: \"%s\" over %s in %ld ms\n", o->message, proto, now_ms() - start);
    else
        printf("client: echo failed (%d)\n", got);
    free(echo);

    /* close_notify, then the server's answer to it (over DTLS either may
     * be lost: wait one retry time at most). */
    sslWriteClosureAlert(cp);
    char buf[64];
    int n;
    do
        n = sslRead(cp, buf, sizeof(buf), &status);
    while (n > 0 || (n == 0 && status != SSLSOCKET_EOF));
    printf("client: %s\n", n == 0 ? "closed: the server's close_notify came"
                                  : "closed: no close_notify from the server");
    sslFreeConnection(&cp);
    socketShutdown(fd);
    return ok ? 0 : 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: sslsocket_client (--tls | --dtls) [--host HOST] [--port N]\n"
                    "           [--message TEXT] [--cert PKI_DIR] [--suite HEX]\n"
                    "           [--lossy-link RTT_MS] [--retry-ms MS] [--timeout-ms MS]\n");
    return 2;
}

static int parse(int argc, char **argv, options *o)
{
    *o = (options){-1, "127.0.0.1", 4433, "hello, reflector", NULL, 0, -1, 1000, 20000};
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "--tls") == 0 || strcmp(opt, "--dtls") == 0) {
            o->dtls = strcmp(opt, "--dtls") == 0;
            continue;
        }
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (!v)
            return -1;
        if (strcmp(opt, "--host") == 0)
            o->host = v;
        else if (strcmp(opt, "--port") == 0)
            o->port = atoi(v);
        else if (strcmp(opt, "--message") == 0)
            o->message = v;
        else if (strcmp(opt, "--cert") == 0)
            o->pki = v;
        else if (strcmp(opt, "--suite") == 0)
            o->suite = (unsigned)strtoul(v, NULL, 16);
        else if (strcmp(opt, "--lossy-link") == 0)
            o->lossy_rtt_ms = atol(v);
        else if (strcmp(opt, "--retry-ms") == 0)
            o->retry_ms = atoi(v);
        else if (strcmp(opt, "--timeout-ms") == 0)
            o->timeout_ms = atoi(v);
        else
            return -1;
    }
    return o->dtls < 0 || o->message[0] == '\0' ? -1 : 0;
}

int main(int argc, char **argv)
{
    options o;
    if (parse(argc, argv, &o) < 0)
        return usage();
    if (matrixSslOpen() != PS_SUCCESS)
        return 1;
    sslKeys_t *keys = NULL;
    int rc = matrixSslNewKeys(&keys);
    if (rc == PS_SUCCESS && o.pki) {
        char ca[1024];
        snprintf(ca, sizeof(ca), "%s/ec-root.crt", o.pki);
        rc = matrixSslLoadRsaKeys(keys, NULL, NULL, NULL, ca);
        if (rc == PS_SUCCESS)
            rc = matrixSslKeysSetServerName(keys, "localhost");
    } else if (rc == PS_SUCCESS) {
        rc = matrixSslLoadPsk(keys, psk_key, sizeof(psk_key), psk_id, sizeof(psk_id) - 1);
    }
    if (rc == PS_SUCCESS && o.lossy_rtt_ms >= 0)
        rc = matrixSslKeysSetLossyLink(keys, (uint32)o.lossy_rtt_ms);
    if (rc != PS_SUCCESS) {
        fprintf(stderr, "client: loading keys failed (%d)\n", rc);
        matrixSslDeleteKeys(keys);
        return 1;
    }
    int status = run(&o, keys);
    matrixSslDeleteKeys(keys);
    matrixSslClose();
    return status;
}
