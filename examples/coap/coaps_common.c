/*
 * Helpers shared by coaps-server and coaps-client (see coaps_common.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "coaps_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *log_program = "coaps";
static int log_verbosity = COAPS_LOG_WARNING;

/* petrel's log lines go through the same prefix as ours. */
static void petrel_log_line(void *ref, petrel_log_level level, const char *msg)
{
    (void)ref;
    fprintf(stderr, "%s: petrel %s: %s\n", log_program, petrel_log_level_name(level), msg);
}

petrel_platform coaps_log_setup(const char *program, int verbosity)
{
    log_program = program;
    log_verbosity = verbosity;
    coap_set_log_level(verbosity < 0                 ? 0
                       : verbosity > COAPS_LOG_DEBUG ? COAPS_LOG_DEBUG
                                                     : verbosity);
    petrel_platform platform = petrel_platform_default();
    platform.log = petrel_log_line;
    if (verbosity >= COAPS_LOG_DEBUG)
        platform.log_level = PETREL_LOG_DEBUG;
    else if (verbosity >= COAPS_LOG_INFO)
        platform.log_level = PETREL_LOG_INFO;
    else if (verbosity >= COAPS_LOG_WARNING)
        platform.log_level = PETREL_LOG_WARNING;
    else if (verbosity >= COAPS_LOG_ERR)
        platform.log_level = PETREL_LOG_ERROR;
    else
        platform.log_level = PETREL_LOG_NONE;
    return platform;
}

static void log_line(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static void log_line(const char *fmt, va_list ap)
{
    char line[1024];
    vsnprintf(line, sizeof(line), fmt, ap);
    fprintf(stderr, "%s: %s\n", log_program, line);
}

void coaps_log(int level, const char *fmt, ...)
{
    if (level > log_verbosity)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_line(fmt, ap);
    va_end(ap);
}

void coaps_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(fmt, ap);
    va_end(ap);
}

uint64_t coaps_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void coaps_loopback_address(coap_address_t *addr, uint16_t port)
{
    coap_address_init(addr);
    addr->addr.sin.sin_family = AF_INET;
    addr->addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr->addr.sin.sin_port = htons(port);
    addr->size = sizeof(addr->addr.sin);
}

int coaps_bridge_socket(const coap_address_t *peer, uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    int flags = fcntl(fd, F_GETFL);
    struct sockaddr_in local;
    memset(&local, 0, sizeof(local));
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(local);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
        bind(fd, (const struct sockaddr *)&local, sizeof(local)) < 0 ||
        (peer && connect(fd, &peer->addr.sa, peer->size) < 0) ||
        getsockname(fd, (struct sockaddr *)&local, &len) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    *port = ntohs(local.sin_port);
    return fd;
}

void coaps_big_fill(uint8_t out[COAPS_BIG_SIZE])
{
    static const char text[] = " petrel coaps /big, RFC 7959 block-wise transfer test line.";
    _Static_assert(4 + sizeof(text) - 1 + 1 == 64, "each /big line is 64 bytes");
    for (unsigned line = 0; line < COAPS_BIG_SIZE / 64; line++) {
        char buf[65];
        snprintf(buf, sizeof(buf), "%04u%s\n", line, text);
        memcpy(out + (size_t)line * 64, buf, 64);
    }
}

uint64_t coaps_fnv1a64(const uint8_t *data, size_t len)
{
    uint64_t h = 14695981039346656037u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ data[i]) * 1099511628211u;
    return h;
}

int coaps_parse_transmission(coaps_transmission *t, int option, const char *value)
{
    /* libcoap 4.3.1 ignores an ACK_TIMEOUT below 1 s. */
    static const struct {
        int option;
        const char *name;
        unsigned long lo, hi;
        const char *unit;
    } ranges[] = {
        {'T', "ack-timeout", 1000, 60000, " ms"},
        {'R', "max-retransmit", 1, 20, ""},
        {'L', "lossy-link", 0, 10000, " ms (a round trip; 0: 100 ms)"},
    };
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        if (ranges[i].option != option)
            continue;
        char *end;
        errno = 0;
        unsigned long n = strtoul(value, &end, 10);
        if (errno || end == value || *end != '\0' || value[0] == '-' || n < ranges[i].lo ||
            n > ranges[i].hi) {
            coaps_fail("--%s takes %lu to %lu%s, not '%s'", ranges[i].name, ranges[i].lo,
                       ranges[i].hi, ranges[i].unit, value);
            return -1;
        }
        if (option == 'T')
            t->ack_timeout_ms = (unsigned)n;
        else if (option == 'R')
            t->max_retransmit = (unsigned)n;
        else
            t->lossy_link_ms = (int)n;
        return 0;
    }
    return -1;
}

int coaps_apply_lossy_link(petrel_config *cfg, const coaps_transmission *t)
{
    if (t->lossy_link_ms < 0)
        return 0;
    return petrel_config_set_lossy_link_profile(cfg, (uint32_t)t->lossy_link_ms);
}

void coaps_apply_transmission(coap_session_t *session, const coaps_transmission *t)
{
    if (t->ack_timeout_ms) {
        coap_fixed_point_t value = {(uint16_t)(t->ack_timeout_ms / 1000),
                                    (uint16_t)(t->ack_timeout_ms % 1000)};
        coap_session_set_ack_timeout(session, value);
    }
    if (t->max_retransmit)
        coap_session_set_max_retransmit(session, t->max_retransmit);
}
