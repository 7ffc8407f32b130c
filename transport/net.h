/*
 * What the socket adapters (transport/udp.c, transport/tcp.c) share:
 * opening sockets on host:port, naming and keying peer addresses,
 * deadlines on the platform clock, and the first and last steps of their
 * constructors. Internal: not installed, nothing here is exported.
 *
 * Every socket these functions open is non-blocking and close-on-exec.
 * Functions that can fail log why through the platform at the level the
 * caller gives (PETREL_LOG_NONE: silently), with a "udp: " or "tcp: "
 * prefix chosen by the socket type.
 */
#ifndef PETREL_TRANSPORT_NET_H
#define PETREL_TRANSPORT_NET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <petrel/petrel.h>

#include "common/util.h"

/* The longest peer key net_addr_key writes (IPv6). */
#define NET_ADDR_KEY_MAX 19
/* Room for the longest name net_addr_format writes, "[ADDR]:PORT", and
 * its NUL. */
#define NET_ADDR_NAME_MAX (INET6_ADDRSTRLEN + 8)

/* ---- addresses ---- */

/* Writes the bytes that identify a peer (family, port, address: what the
 * engine takes as peer_id, and what the UDP server looks sessions up by)
 * and returns how many: 7 for IPv4, NET_ADDR_KEY_MAX for IPv6. sa MUST be
 * AF_INET or AF_INET6. */
size_t net_addr_key(const struct sockaddr_storage *sa, uint8_t key[NET_ADDR_KEY_MAX]);

/* Writes "ADDR:PORT" (IPv4) or "[ADDR]:PORT" (IPv6) into out, cut to cap
 * bytes with its NUL; cap NET_ADDR_NAME_MAX always suffices. */
void net_addr_format(const struct sockaddr_storage *sa, char *out, size_t cap);

/* The local port fd is bound to, or 0 when it cannot be had. */
int net_local_port(int fd);

/* ---- sockets ---- */

/* Opens a socket of socktype (SOCK_DGRAM or SOCK_STREAM) bound to
 * host:port, trying each address the name resolves to in turn. A NULL or
 * empty host means every local address. A stream socket also listens,
 * with SO_REUSEADDR, and an IPv6 one accepts IPv4 peers too (mapped
 * addresses). On success sets *fd_out and returns 0; otherwise leaves
 * *fd_out alone and returns PETREL_ERR_RESOLVE or PETREL_ERR_IO. */
PETREL_MUST_CHECK int net_bind(const petrel_platform *p, petrel_log_level level, const char *host,
                               const char *port, int socktype, int *fd_out);

/* Opens a socket of socktype connected to host:port, trying each address
 * the name resolves to in turn. A NULL or empty host means the loopback
 * address. A stream connection may take up to timeout_ms for all the
 * addresses together (the socket stays non-blocking: this waits in poll);
 * a datagram socket connects at once. On success sets *fd_out and
 * returns 0; otherwise leaves *fd_out alone and returns
 * PETREL_ERR_RESOLVE, PETREL_ERR_TIMEOUT (the last address tried ran out
 * of time) or PETREL_ERR_IO. */
PETREL_MUST_CHECK int net_connect(const petrel_platform *p, petrel_log_level level,
                                  const char *host, const char *port, int socktype, int timeout_ms,
                                  int *fd_out);

/* Whether errno value err says a non-blocking call had nothing to do
 * now. */
bool net_would_block(int err);

/* ---- time ---- */

/* The deadline timeout_ms from now on p's clock; UINT64_MAX (none) when
 * timeout_ms is negative. */
uint64_t net_deadline_after(const petrel_platform *p, int timeout_ms);

/* Milliseconds left before deadline on p's clock, at most INT_MAX: -1 for
 * no deadline (UINT64_MAX), 0 once it has passed. */
int net_deadline_left(const petrel_platform *p, uint64_t deadline);

/* The shorter of two waits in milliseconds, where a negative one means no
 * limit: negative only when both are. */
int64_t net_shorter_wait(int64_t a, int64_t b);

/* ---- constructors ---- */

/* The first step of an adapter's constructor: size zeroed bytes from
 * cfg's platform. Returns NULL, with *error (when error is not NULL) set
 * to PETREL_ERR_ARG when cfg or port is NULL, or PETREL_ERR_NOMEM. The
 * caller frees the block with platform_free on cfg's platform. */
void *net_object_new(const petrel_config *cfg, const char *port, size_t size, int *error);

/* The last step of a constructor that failed: sets *error to rc (when
 * error is not NULL) and returns NULL. */
void *net_fail(int *error, int rc);

#endif
