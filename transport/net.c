/*
 * Socket helpers shared by the UDP and TCP adapters. See transport/net.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "transport/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conn/conn_internal.h"

/* ======================================================================
 * Addresses
 * ====================================================================== */

size_t net_addr_key(const struct sockaddr_storage *sa, uint8_t key[NET_ADDR_KEY_MAX])
{
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        key[0] = 4;
        memcpy(key + 1, &in->sin_port, 2);
        memcpy(key + 3, &in->sin_addr, 4);
        return 7;
    }
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    key[0] = 6;
    memcpy(key + 1, &in6->sin6_port, 2);
    memcpy(key + 3, &in6->sin6_addr, 16);
    return NET_ADDR_KEY_MAX;
}

void net_addr_format(const struct sockaddr_storage *sa, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        snprintf(out, cap, "%s:%u", host, (unsigned)ntohs(in->sin_port));
    } else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(out, cap, "[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
    }
}

int net_local_port(int fd)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        return 0;
    return ntohs(sa.ss_family == AF_INET ? ((struct sockaddr_in *)&sa)->sin_port
                                         : ((struct sockaddr_in6 *)&sa)->sin6_port);
}

/* ======================================================================
 * Sockets
 * ====================================================================== */

/* The prefix of the log lines about a socket of socktype. */
static const char *log_tag(int socktype)
{
    return socktype == SOCK_STREAM ? "tcp" : "udp";
}

/* The addresses host:port names for socktype; the caller frees *res. */
PETREL_MUST_CHECK static int resolve(const petrel_platform *p, petrel_log_level level,
                                     const char *host, const char *port, int socktype, bool passive,
                                     struct addrinfo **res)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = socktype;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    *res = NULL;
    int gai = getaddrinfo(host && *host ? host : NULL, port, &hints, res);
    if (gai != 0 || !*res) {
        platform_log(p, level, "%s: cannot resolve %s:%s: %s", log_tag(socktype), host ? host : "",
                     port, gai_strerror(gai));
        return PETREL_ERR_RESOLVE;
    }
    return 0;
}

static int open_socket(const struct addrinfo *ai)
{
    return socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
}

int net_bind(const petrel_platform *p, petrel_log_level level, const char *host, const char *port,
             int socktype, int *fd_out)
{
    struct addrinfo *res;
    PETREL_TRY(resolve(p, level, host, port, socktype, true, &res));
    int rc = PETREL_ERR_IO;
    for (struct addrinfo *ai = res; ai && rc < 0; ai = ai->ai_next) {
        int fd = open_socket(ai);
        if (fd < 0)
            continue;
        bool ok;
        if (socktype == SOCK_STREAM) {
            /* A restarted server gets its port back while connections of
             * the old one linger in TIME_WAIT; "::" serves IPv4 too. */
            int one = 1, zero = 0;
            (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            if (ai->ai_family == AF_INET6)
                (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
            ok = bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0;
        } else {
            ok = bind(fd, ai->ai_addr, ai->ai_addrlen) == 0;
        }
        if (ok) {
            *fd_out = fd;
            rc = 0;
        } else {
            platform_log(p, level, "%s: cannot listen on %s:%s: %s", log_tag(socktype),
                         host ? host : "", port, strerror(errno));
            close(fd);
        }
    }
    freeaddrinfo(res);
    return rc;
}

/* Waits for the connection under way on fd; returns its errno value: 0
 * once connected, ETIMEDOUT at the deadline. */
static int connect_wait(const petrel_platform *p, int fd, uint64_t deadline)
{
    int err = errno;
    /* EINTR: the connection goes on in the background, like
     * EINPROGRESS. */
    while (err == EINPROGRESS || err == EINTR) {
        struct pollfd pfd = {fd, POLLOUT, 0};
        int left = net_deadline_left(p, deadline);
        if (left == 0)
            return ETIMEDOUT;
        int ready = poll(&pfd, 1, left);
        if (ready < 0 && errno != EINTR) {
            err = errno;
        } else if (ready > 0) {
            socklen_t len = sizeof(err);
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        }
    }
    return err;
}

int net_connect(const petrel_platform *p, petrel_log_level level, const char *host,
                const char *port, int socktype, int timeout_ms, int *fd_out)
{
    struct addrinfo *res;
    PETREL_TRY(resolve(p, level, host, port, socktype, false, &res));
    uint64_t deadline = net_deadline_after(p, timeout_ms);
    int rc = PETREL_ERR_IO;
    for (struct addrinfo *ai = res; ai && rc < 0; ai = ai->ai_next) {
        int fd = open_socket(ai);
        if (fd < 0)
            continue;
        int err = connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 ? connect_wait(p, fd, deadline) : 0;
        if (err == 0) {
            *fd_out = fd;
            rc = 0;
        } else {
            platform_log(p, level, "%s: connect to %s:%s: %s", log_tag(socktype), host ? host : "",
                         port, strerror(err));
            close(fd);
            rc = err == ETIMEDOUT ? PETREL_ERR_TIMEOUT : PETREL_ERR_IO;
        }
    }
    freeaddrinfo(res);
    return rc;
}

bool net_would_block(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK;
}

/* ======================================================================
 * Time
 * ====================================================================== */

uint64_t net_deadline_after(const petrel_platform *p, int timeout_ms)
{
    return timeout_ms < 0 ? UINT64_MAX : platform_now_ms(p) + (uint64_t)timeout_ms;
}

int net_deadline_left(const petrel_platform *p, uint64_t deadline)
{
    if (deadline == UINT64_MAX)
        return -1;
    uint64_t now = platform_now_ms(p);
    if (now >= deadline)
        return 0;
    return deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
}

int64_t net_shorter_wait(int64_t a, int64_t b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

/* ======================================================================
 * Constructors
 * ====================================================================== */

void *net_object_new(const petrel_config *cfg, const char *port, size_t size, int *error)
{
    if (!cfg || !port)
        return net_fail(error, PETREL_ERR_ARG);
    void *object = platform_calloc(conn_config_platform(cfg), 1, size);
    if (!object)
        return net_fail(error, PETREL_ERR_NOMEM);
    return object;
}

void *net_fail(int *error, int rc)
{
    if (error)
        *error = rc;
    return NULL;
}
