/* The socket tests' shared harness. See net_test.h. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/support/net_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const uint8_t psk_identity[] = {'c', 'l', 'i', 'e', 'n', 't'};
static const uint8_t psk_key[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};

/* ======================================================================
 * Life cycle
 * ====================================================================== */

int net_test_init(net_test_harness *t)
{
    atomic_init(&t->stop, false);
    t->record.data_hash = NET_TEST_FNV_OFFSET;
    /* The waits' deadlines are on the monotonic clock. */
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return -1;
    bool ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
              pthread_mutex_init(&t->lock, NULL) == 0;
    if (ok && pthread_cond_init(&t->changed, &attr) != 0) {
        pthread_mutex_destroy(&t->lock);
        ok = false;
    }
    pthread_condattr_destroy(&attr);
    return ok ? 0 : -1;
}

static void *server_main(void *arg)
{
    net_test_harness *t = arg;
    while (!atomic_load(&t->stop)) {
        size_t sessions = 0;
        int rc = t->step(t->step_ref, &sessions);
        pthread_mutex_lock(&t->lock);
        if (rc < 0 && t->record.run_error == 0)
            t->record.run_error = rc;
        t->record.sessions = sessions;
        if (sessions > t->record.max_sessions)
            t->record.max_sessions = sessions;
        t->record.loops++;
        pthread_cond_broadcast(&t->changed);
        pthread_mutex_unlock(&t->lock);
    }
    return NULL;
}

void net_test_start(net_test_harness *t, net_test_step_fn step, void *ref)
{
    assert_false(t->thread_running);
    t->step = step;
    t->step_ref = ref;
    atomic_store(&t->stop, false);
    assert_int_equal(pthread_create(&t->thread, NULL, server_main, t), 0);
    t->thread_running = true;
    assert_true(net_test_wait(t, net_test_loops_at_least, 1, NET_TEST_START_MS));
}

void net_test_stop(net_test_harness *t)
{
    if (!t->thread_running)
        return;
    atomic_store(&t->stop, true);
    pthread_join(t->thread, NULL);
    t->thread_running = false;
}

void net_test_finish(net_test_harness *t)
{
    net_test_stop(t);
    for (size_t i = 0; i < t->fd_count; i++)
        close(t->fds[i]);
    t->fd_count = 0;
    pthread_cond_destroy(&t->changed);
    pthread_mutex_destroy(&t->lock);
}

/* ======================================================================
 * The record
 * ====================================================================== */

void net_test_lock(net_test_harness *t)
{
    pthread_mutex_lock(&t->lock);
}

void net_test_unlock(net_test_harness *t)
{
    pthread_cond_broadcast(&t->changed);
    pthread_mutex_unlock(&t->lock);
}

/* Under the lock. */
static void note_send(net_test_record *r, int send_rc)
{
    if (send_rc < 0 && r->echo_error == 0)
        r->echo_error = send_rc;
}

void net_test_note_established(net_test_harness *t, const char *peer, int send_rc)
{
    net_test_lock(t);
    note_send(&t->record, send_rc);
    t->record.established++;
    snprintf(t->record.last_peer, sizeof(t->record.last_peer), "%s", peer);
    net_test_unlock(t);
}

void net_test_note_data(net_test_harness *t, const uint8_t *data, size_t len, int send_rc)
{
    net_test_lock(t);
    t->record.records++;
    t->record.data_bytes += len;
    t->record.data_hash = net_test_fnv1a(t->record.data_hash, data, len);
    note_send(&t->record, send_rc);
    net_test_unlock(t);
}

void net_test_note_send(net_test_harness *t, int send_rc)
{
    net_test_lock(t);
    note_send(&t->record, send_rc);
    net_test_unlock(t);
}

void net_test_note_closed(net_test_harness *t, int reason)
{
    net_test_lock(t);
    if (t->record.closed < NET_TEST_MAX_REASONS)
        t->record.reasons[t->record.closed] = reason;
    t->record.closed++;
    net_test_unlock(t);
}

net_test_record net_test_view(net_test_harness *t)
{
    pthread_mutex_lock(&t->lock);
    net_test_record r = t->record;
    pthread_mutex_unlock(&t->lock);
    return r;
}

bool net_test_sessions_are(const net_test_record *r, uint64_t n)
{
    return r->sessions == n;
}

bool net_test_established_at_least(const net_test_record *r, uint64_t n)
{
    return r->established >= n;
}

bool net_test_closed_at_least(const net_test_record *r, uint64_t n)
{
    return r->closed >= n;
}

bool net_test_loops_at_least(const net_test_record *r, uint64_t n)
{
    return r->loops >= n;
}

bool net_test_data_bytes_at_least(const net_test_record *r, uint64_t n)
{
    return r->data_bytes >= n;
}

bool net_test_wait(net_test_harness *t, net_test_condition cond, uint64_t arg, int timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&t->lock);
    bool ok = cond(&t->record, arg);
    while (!ok) {
        int rc = pthread_cond_timedwait(&t->changed, &t->lock, &deadline);
        ok = cond(&t->record, arg);
        if (rc == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&t->lock);
    return ok;
}

void net_test_assert_healthy(net_test_harness *t)
{
    net_test_record r = net_test_view(t);
    assert_int_equal(r.run_error, 0);
    assert_int_equal(r.echo_error, 0);
}

/* ======================================================================
 * Configurations and clients
 * ====================================================================== */

petrel_platform net_test_platform(void)
{
    petrel_platform p = petrel_platform_default();
    p.log_level = PETREL_LOG_NONE;
    return p;
}

petrel_config *net_test_psk_config(const petrel_platform *platform)
{
    petrel_platform p = platform ? *platform : net_test_platform();
    petrel_config *cfg = petrel_config_new(&p);
    assert_non_null(cfg);
    assert_int_equal(
        petrel_config_set_psk(cfg, psk_identity, sizeof(psk_identity), psk_key, sizeof(psk_key)),
        0);
    return cfg;
}

void net_test_assert_handshake(int rc, petrel_conn *conn)
{
    if (rc != 0)
        print_error("handshake: %s\n", petrel_error_name(rc));
    assert_int_equal(rc, 0);
    assert_true(petrel_handshake_complete(conn));
}

int net_test_feed(petrel_conn *conn, size_t n)
{
    int rc = petrel_received(conn, n, NULL, NULL);
    while (rc == PETREL_HANDSHAKE_COMPLETE || rc == PETREL_APP_DATA || rc == PETREL_RECEIVED_ALERT)
        rc = petrel_processed(conn, NULL, NULL);
    return rc;
}

/* ======================================================================
 * Plain sockets
 * ====================================================================== */

static void keep_fd(net_test_harness *t, int fd)
{
    assert_true(fd >= 0);
    if (t->fd_count == NET_TEST_MAX_FDS)
        close(fd);
    assert_true(t->fd_count < NET_TEST_MAX_FDS);
    t->fds[t->fd_count++] = fd;
}

int net_test_connect(net_test_harness *t, int socktype, const char *host, const char *port)
{
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = socktype;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    assert_int_equal(getaddrinfo(host, port, &hints, &ai), 0);
    int fd = socket(ai->ai_family, socktype, 0);
    int rc = fd >= 0 ? connect(fd, ai->ai_addr, ai->ai_addrlen) : -1;
    freeaddrinfo(ai);
    keep_fd(t, fd);
    assert_int_equal(rc, 0);
    return fd;
}

/* A socket of socktype bound to 127.0.0.1 on a port the system chose,
 * written to port. */
static int bind_loopback(int socktype, char *port, size_t cap)
{
    int fd = socket(AF_INET, socktype, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        close(fd);
        fail_msg("cannot bind to 127.0.0.1: %s", strerror(errno));
    }
    snprintf(port, cap, "%u", (unsigned)ntohs(sa.sin_port));
    return fd;
}

int net_test_listen_loopback(net_test_harness *t, char *port, size_t cap)
{
    int fd = bind_loopback(SOCK_STREAM, port, cap);
    keep_fd(t, fd);
    assert_int_equal(listen(fd, 4), 0);
    return fd;
}

void net_test_free_port(int socktype, char *port, size_t cap)
{
    close(bind_loopback(socktype, port, cap));
}

bool net_test_ipv6_unavailable(int socktype)
{
    bool ok = false;
    int fd = socket(AF_INET6, socktype, 0);
    if (fd >= 0) {
        struct sockaddr_in6 sa;
        memset(&sa, 0, sizeof(sa));
        sa.sin6_family = AF_INET6;
        sa.sin6_addr = in6addr_loopback;
        ok = bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0;
        close(fd);
    }
    if (!ok)
        print_message("IPv6 is unavailable here (cannot bind ::1): case passes untested\n");
    return !ok;
}

ssize_t net_test_recv(int fd, void *buf, size_t cap, uint64_t deadline)
{
    for (;;) {
        uint64_t now = net_test_now_ms();
        if (now >= deadline) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd pfd = {fd, POLLIN, 0};
        int ready = poll(&pfd, 1, (int)(deadline - now));
        if (ready < 0 && errno != EINTR)
            return -1;
        if (ready <= 0)
            continue;
        ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
        if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            return n;
    }
}

/* ======================================================================
 * Time and data
 * ====================================================================== */

uint64_t net_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t net_test_fnv1a(uint64_t h, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        h = (h ^ data[i]) * 0x100000001b3u;
    return h;
}

uint64_t net_test_random(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}
