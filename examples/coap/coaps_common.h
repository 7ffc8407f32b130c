/*
 * What the CoAPs example server and client share: logging at a libcoap-style
 * verbosity, the clock, the loopback "bridge" sockets that carry plain CoAP
 * between libcoap and petrel, the /big test body and its checksum.
 * docs/coaps.md explains the design.
 */
#ifndef COAPS_COMMON_H
#define COAPS_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <coap3/coap.h>
#include <petrel/petrel.h>

/* Verbosity as libcoap's -v takes it (syslog levels 0..7, more is more):
 * 3 errors, 4 warnings (the default), 6 info, 7 debug. */
#define COAPS_LOG_ERR     3
#define COAPS_LOG_WARNING 4
#define COAPS_LOG_NOTICE  5
#define COAPS_LOG_INFO    6
#define COAPS_LOG_DEBUG   7

/* Sets the program name used as the log prefix and the verbosity of this
 * program, of libcoap (coap_set_log_level) and of petrel (the returned
 * platform's log level). */
petrel_platform coaps_log_setup(const char *program, int verbosity);
/* One line to stderr, "program: message", when level <= the verbosity. */
void coaps_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "program: message" to stderr regardless of the verbosity. */
void coaps_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t coaps_now_ms(void);

/* A non-blocking UDP socket bound to 127.0.0.1:0 (the kernel picks the
 * port), connected to `peer` when it is not NULL. Returns the fd and
 * stores the bound port in *port, or -1 (errno set). */
int coaps_bridge_socket(const coap_address_t *peer, uint16_t *port);
/* Fills a coap_address_t with 127.0.0.1:port. */
void coaps_loopback_address(coap_address_t *addr, uint16_t port);

/* The /big resource: 1024 lines of 64 bytes, "0000 petrel coaps /big,
 * ...\n" to "1023 ...", so that a shell loop can rebuild it (see
 * examples/coap/run_coaps_test.sh). */
#define COAPS_BIG_SIZE 65536
void coaps_big_fill(uint8_t out[COAPS_BIG_SIZE]);

/* 64-bit FNV-1a, printed by the client and the server so that a test can
 * compare bodies without a hash library. */
uint64_t coaps_fnv1a64(const uint8_t *data, size_t len);

/* CoAP's transmission parameters (RFC 7252 §4.8) for a session: how long
 * libcoap waits for the ACK of a confirmable message before the first
 * retransmission (then doubling), and how many retransmissions it makes.
 * 0 leaves libcoap's default (2000 ms and 4, as the RFC says). On a lossy
 * link with a short round trip, a shorter ACK_TIMEOUT and more
 * retransmissions recover much sooner; both sides take --ack-timeout and
 * --max-retransmit. */
typedef struct coaps_transmission {
    unsigned ack_timeout_ms; /* 1000 .. 60000 (libcoap's floor), or 0 */
    unsigned max_retransmit; /* 1 .. 20, or 0 */
    /* --lossy-link RTT: petrel's lossy-link DTLS retransmission profile
     * (petrel_config_set_lossy_link_profile) for this round trip; -1 off. */
    int lossy_link_ms;
} coaps_transmission;

#define COAPS_TRANSMISSION_DEFAULT ((coaps_transmission){0, 0, -1})

/* The long options both programs take for these, as getopt_long entries
 * whose values are the `option` codes coaps_parse_transmission takes. */
#define COAPS_TRANSMISSION_LONG_OPTIONS                   \
    {"ack-timeout", required_argument, NULL, 'T'},        \
        {"max-retransmit", required_argument, NULL, 'R'}, \
    {                                                     \
        "lossy-link", required_argument, NULL, 'L'        \
    }

/* Parses the value of --ack-timeout ('T'), --max-retransmit ('R') or
 * --lossy-link ('L') into *t; prints the reason and returns -1 when it is
 * out of range. */
int coaps_parse_transmission(coaps_transmission *t, int option, const char *value);
/* Applies the CoAP parameters that are set to the session. */
void coaps_apply_transmission(coap_session_t *session, const coaps_transmission *t);
/* Applies --lossy-link, when given, to the petrel configuration. */
int coaps_apply_lossy_link(petrel_config *cfg, const coaps_transmission *t);

/* The largest datagram either side reads from a socket. */
#define COAPS_MAX_DATAGRAM 65536

/* libcoap's default MTU (COAP_DEFAULT_MTU): the largest CoAP message libcoap
 * builds. A DTLS record must carry it whole, so petrel's payload limit per
 * record (petrel_max_payload: 1203 bytes with the default PMTU of 1232 and
 * a CCM_8 suite) must not be smaller. */
#define COAPS_COAP_MTU 1152

#endif
