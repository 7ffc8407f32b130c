/*
 * The MatrixSSL socket layer over petrel (seed: "MatrixSSL Sockets API"):
 * blocking TLS and DTLS on plain socket descriptors.
 *
 *   SOCKET fd = socketConnect("127.0.0.1", 4433, &err);   (or socketConnectDgram)
 *   sslConn_t *cp = NULL;
 *   if (sslConnect(&cp, fd, keys, NULL, 0, NULL) == 0) {
 *       sslWrite(cp, "hello", 5, &status);
 *       n = sslRead(cp, buf, sizeof(buf), &status);
 *       sslWriteClosureAlert(cp);
 *       sslFreeConnection(&cp);
 *   }
 *   socketShutdown(fd);
 *
 * The socket's type picks the protocol: SOCK_STREAM runs TLS 1.2,
 * SOCK_DGRAM runs DTLS 1.2. Everything else is the same.
 *
 * Blocking: sslConnect and sslAccept run the whole handshake before they
 * return, whatever the socket's O_NONBLOCK flag says. sslRead and sslWrite
 * block on a blocking socket and return PS_EAGAIN (status EAGAIN /
 * EWOULDBLOCK) on a non-blocking one, keeping their state so that the call
 * can be repeated. On a blocking socket, SO_RCVTIMEO bounds every wait for
 * input (and SO_SNDTIMEO every wait for the socket to take output) just as
 * it bounds recv(2): when it passes, the call fails with PS_EAGAIN.
 *
 * DTLS: every blocking call runs petrel's retransmission timer while it
 * waits, so a blocking handshake survives lost datagrams. A UDP socket
 * carries one DTLS connection: the client's socket MUST be connected
 * (socketConnectDgram); sslAccept connects a server's socket to the first
 * client whose cookie checks out, and sslFreeConnection disconnects it
 * again, so the same socket can accept the next client. Application data
 * keeps datagram semantics as far as it can: sslWrite sends len bytes as
 * one record when they fit one datagram (petrel_max_payload, about 1200
 * bytes with the default PMTU), else as several; sslRead returns at most
 * one record.
 *
 * Threads: one connection belongs to one thread at a time; connections
 * made from the same sslKeys_t may run in different threads.
 *
 * Return values follow the seed; the negative ones are PS_* codes from
 * matrixsslApi.h, and *status says more where the seed says it does.
 */
#ifndef PETREL_MATRIXSSL_SSLSOCKET_H
#define PETREL_MATRIXSSL_SSLSOCKET_H

#include <matrixssl/matrixsslApi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A socket descriptor (POSIX: an int). Not declared again when the
 * application already has SOCKET and INVALID_SOCKET. */
#ifndef INVALID_SOCKET
typedef int SOCKET;
#define INVALID_SOCKET (-1)
#endif

/* sslRead status values for a 0 return. */
#define SSLSOCKET_EOF 0x1 /* the peer sent close_notify: it will send nothing more */
/* Source compatibility only: petrel reports close_notify as SSLSOCKET_EOF
 * and never sets this value. */
#define SSLSOCKET_CLOSE_NOTIFY 0x2
/* petrel extension, with a PS_PROTOCOL_FAIL return: the TCP stream ended
 * without close_notify, so what was received may have been cut short
 * (truncation attack or a crashed peer). Not an errno value. */
#define SSLSOCKET_TRUNCATED 0x1000

/* The certificate a validator receives: the peer's own certificate,
 * linked through next to the rest of its chain. */
typedef psX509Cert_t sslCertInfo_t;

/* One secure connection: opaque (petrel keeps the descriptor, the engine
 * and the buffered plaintext in it). */
typedef struct sslConn sslConn_t;

/* ======================================================================
 * Raw socket functions. IPv4, except socketConnect and socketConnectDgram,
 * which also take IPv6 literals and host names. Each returns the new
 * descriptor, or INVALID_SOCKET with the errno in *err (err may be NULL).
 * Ports above 32767 are passed as the same 16 bits in the short.
 * ====================================================================== */

/* A TCP socket listening on INADDR_ANY:port (SO_REUSEADDR set; port 0
 * picks a free port: socketGetPort tells which). */
PETREL_API SOCKET socketListen(short port, int *err);
/* The next TCP connection on a listening socket (blocks until one comes).
 * TCP_NODELAY is set on it. */
PETREL_API SOCKET socketAccept(SOCKET listenfd, int *err);
/* A TCP connection to ip:port (blocking; TCP_NODELAY set). */
PETREL_API SOCKET socketConnect(const char *ip, short port, int *err);
/* Datagram variants (petrel extensions): a UDP socket bound to
 * INADDR_ANY:port, ready for sslAccept... */
PETREL_API SOCKET socketListenDgram(short port, int *err);
/* ...and a UDP socket connected to ip:port, ready for sslConnect. */
PETREL_API SOCKET socketConnectDgram(const char *ip, short port, int *err);
/* The local port of a bound socket (petrel extension), or -1. */
PETREL_API int socketGetPort(SOCKET fd);
/* Closes the socket. A TCP socket is shut down for writing first and what
 * the peer still sends is read and dropped, so that the peer sees a clean
 * end of stream (the seed's behaviour). INVALID_SOCKET is ignored. */
PETREL_API void socketShutdown(SOCKET fd);
/* Clear / set O_NONBLOCK. */
PETREL_API void setSocketBlock(SOCKET fd);
PETREL_API void setSocketNonblock(SOCKET fd);
/* Sets TCP_NODELAY (no effect on other sockets). */
PETREL_API void setSocketNodelay(SOCKET fd);

/* ======================================================================
 * Secure socket functions
 * ====================================================================== */

/*
 * Client: runs the TLS handshake on a connected TCP socket, or the DTLS
 * handshake on a connected UDP socket, and returns the connection in *cp.
 *   cp: output; set to NULL first, then to the new connection on success.
 *     Free it with sslFreeConnection.
 *   fd: from socketConnect / socketConnectDgram (any connected stream or
 *     datagram socket). sslConnect does not close it.
 *   keys: the client's key material (CAs to verify the server, a PSK, a
 *     certificate for client authentication). MUST outlive the connection.
 *     The client offers certificate suites only when it can check a
 *     server's certificate (the keys hold CAs, or certValidator is given),
 *     and PSK suites only when the keys hold a PSK.
 *   id: session resumption is not implemented: pass NULL (ignored).
 *   cipherSuite: 0 for the keys' suites, else the one IANA suite id this
 *     connection offers (e.g. 0x00A8 TLS_PSK_WITH_AES_128_GCM_SHA256; ids
 *     above 0x7fff wrap into the short and are read back as 16 bits). It
 *     applies to this connection only (petrel_conn_set_suites); the keys
 *     are not changed. An insecure id (RC4, 3DES, static RSA, ...) or one
 *     petrel does not implement is refused before anything is sent, with a
 *     log line saying why.
 *   certValidator: NULL, or called once during the handshake with the
 *     server's chain (sslCertInfo_t: leaf first, each authStatus set by
 *     petrel's checks against the keys' CAs). Return 0 to accept the
 *     server even when a check failed (the validator has the last word),
 *     SSL_ALLOW_ANON_CONNECTION to go on unauthenticated, an alert number
 *     (1..255, e.g. SSL_ALERT_BAD_CERTIFICATE) to refuse it with that
 *     alert, or < 0 to refuse it with internal_error. It applies to this
 *     connection only (petrel_conn_set_cert_callback): other connections
 *     from the same keys keep their own. Without a validator petrel's
 *     checks decide, with their own alert (unknown_ca, certificate_expired,
 *     ...). PSK suites send no certificate: the validator is not called.
 * Returns 0 (PS_SUCCESS) when the handshake is complete. Failures:
 * PS_ARG_FAIL (cp or keys NULL, fd not a stream or datagram socket; no
 * suite can be offered: the keys' suites, or the cipherSuite given, need a
 * PSK, or CAs or a certValidator, that are not there; nothing is sent);
 * PS_UNSUPPORTED_FAIL (cipherSuite refused or unknown); PS_MEM_FAIL;
 * PS_PLATFORM_FAIL (a socket error, or the peer closed the stream);
 * PS_EAGAIN (SO_RCVTIMEO / SO_SNDTIMEO passed); PS_CERT_AUTH_FAIL (the
 * server's certificate was refused); PS_TIMEOUT_FAIL (DTLS: no answer
 * after every retransmission); PS_PROTOCOL_FAIL (anything else: the
 * peer's alert, no suite in common, a bad PSK, ...).
 */
PETREL_API int sslConnect(sslConn_t **cp, SOCKET fd, sslKeys_t *keys, sslSessionId_t *id,
                          short cipherSuite, int (*certValidator)(sslCertInfo_t *t));

/*
 * Server: runs the handshake with the client on fd and returns the
 * connection in *cp (set to NULL first).
 *   TCP: fd comes from socketAccept.
 *   UDP: fd comes from socketListenDgram. sslAccept waits for a
 *   ClientHello from any address, answers those without a valid cookie
 *   with a stateless HelloVerifyRequest (nothing is kept for them), then
 *   connects fd to the first client that returns a valid cookie and runs
 *   the handshake with it. Datagrams from other addresses are dropped
 *   until sslFreeConnection disconnects fd. A socket that is already
 *   connected serves only its peer and stays connected.
 * Client certificates are not asked for (petrel's server default), so no
 * validator is taken. Returns as sslConnect.
 */
PETREL_API int sslAccept(sslConn_t **cp, SOCKET fd, sslKeys_t *keys);

/*
 * Frees the connection and sets *cp to NULL (NULL or *cp NULL: nothing
 * happens). It sends nothing (call sslWriteClosureAlert first for a clean
 * close) and does not close the socket; a UDP socket that sslAccept
 * connected is disconnected.
 */
PETREL_API void sslFreeConnection(sslConn_t **cp);

/*
 * Reads decrypted application data into buf (len bytes of room).
 * Returns:
 *   > 0: that many bytes, from one record. A record larger than len is
 *     handed out over several calls.
 *   0: nothing for the application. *status is SSLSOCKET_EOF when the peer
 *     sent close_notify (petrel has answered it with its own); every later
 *     call returns 0 with SSLSOCKET_EOF again. Otherwise (*status 0) only
 *     handshake or alert traffic was handled (a DTLS peer's retransmitted
 *     flight, a warning alert): call again.
 *   < 0: PS_ARG_FAIL (cp or buf NULL, len <= 0; status 0); PS_EAGAIN (a
 *     non-blocking socket has nothing now, or SO_RCVTIMEO passed: status
 *     is EAGAIN/EWOULDBLOCK; call again later, nothing is lost);
 *     PS_PLATFORM_FAIL (socket error: status holds the errno);
 *     PS_PROTOCOL_FAIL (the peer's fatal alert, a bad record; status 0, or
 *     SSLSOCKET_TRUNCATED when the TCP stream ended without close_notify).
 *     Failures other than PS_EAGAIN are final: every later call returns
 *     the same.
 * Blocking DTLS sockets: retransmissions the engine still owes (the
 * client's last flight until the server's Finished comes) are sent while
 * sslRead waits. Non-blocking ones: see sslNextTimeout.
 * status may be NULL.
 */
PETREL_API int sslRead(sslConn_t *cp, char *buf, int len, int *status);

/*
 * Encrypts len bytes from buf and sends them.
 * Returns len when everything was sent. 0 when the socket did not take it
 * all (non-blocking socket, or SO_SNDTIMEO passed; *status is
 * EAGAIN/EWOULDBLOCK): what was encrypted stays queued, and the caller
 * MUST call sslWrite again with the same buf and len until it returns len
 * (nothing is encrypted twice; another len is PS_ARG_FAIL). < 0 on
 * failure: PS_ARG_FAIL (cp or buf NULL, len <= 0, a different len while a
 * write is pending), PS_PLATFORM_FAIL (socket error, errno in *status),
 * PS_PROTOCOL_FAIL (the connection is closed: after sslWriteClosureAlert,
 * or once the peer's close_notify came). A connection that has failed
 * returns its failure again, with its status. status may be NULL.
 */
PETREL_API int sslWrite(sslConn_t *cp, char *buf, int len, int *status);

/*
 * Sends close_notify: this side will send nothing more. On a blocking
 * socket it waits until the socket took it (bounded by SO_SNDTIMEO); on a
 * non-blocking one what the socket does not take now goes out with the
 * next sslRead or sslWrite. Over DTLS the alert is one datagram that may
 * be lost like any other. Calling it again, or on a failed connection,
 * does nothing.
 */
PETREL_API void sslWriteClosureAlert(sslConn_t *cp);

/* ---- petrel extensions ---- */

/* DTLS on a non-blocking socket: milliseconds until sslRead (or sslWrite)
 * must be called again even if nothing arrives, so that petrel can
 * retransmit; -1 when no timer runs (always for TLS). Add it to poll's
 * timeout. */
PETREL_API int sslNextTimeout(const sslConn_t *cp);

/* The petrel error behind the last failure (a negative PETREL_ERR_* code
 * from <petrel/error.h>, for petrel_error_name), 0 when none. */
PETREL_API int sslGetError(const sslConn_t *cp);

/* The native connection (petrel_conn from <petrel/petrel.h>) for queries:
 * the negotiated suite, the peer's certificate, statistics. The caller
 * MUST NOT drive it (no received/sent/encode calls). */
PETREL_API struct petrel_conn *sslGetPetrelConn(sslConn_t *cp);

#ifdef __cplusplus
}
#endif
#endif
