/* The subcommands of the petrel tool and what they share. */
#ifndef PETREL_TOOLS_TOOL_H
#define PETREL_TOOLS_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <petrel/petrel.h>

int tool_client(int argc, char **argv);
int tool_server(int argc, char **argv);
int tool_proxy(int argc, char **argv);

/* Options both sides of a session take, DTLS (the default) or TLS. */
typedef struct tool_tls_options {
    bool tls; /* --tls: TLS 1.2 over TCP instead of DTLS 1.2 over UDP */
    /* The first option given that only DTLS has (--mtu, --timer, ...), for
     * the usage error with --tls; NULL when none. */
    const char *datagram_only;
    const char *psk_identity;
    uint8_t psk[256];
    size_t psk_len;
    const char *psk_hint;
    uint16_t suites[16];
    size_t suite_count;
    size_t mtu;
    int verbose;
    uint32_t initial_timer_ms;
    uint32_t max_timer_ms;
    bool lossy_link; /* --lossy-link RTT_HINT_MS */
    uint32_t rtt_hint_ms;
    /* Certificates (issue 6). */
    const char *cert;     /* --cert FILE: chain, leaf first */
    const char *key;      /* --key FILE */
    const char *password; /* --pass PASSWORD for an encrypted key */
    const char *ca;       /* --ca FILE */
    const char *capath;   /* --capath DIR */
    int verify;           /* --verify: -1 unset, else a petrel_verify_mode */
    const char *servername;
    bool rpk;                 /* --rpk: raw public keys (RFC 7250) */
    const char *peer_keys[8]; /* --peer-key FILE: pinned raw public keys */
    size_t peer_key_count;
} tool_tls_options;

/* The options' defaults (DTLS, verify unset). */
void tool_tls_options_init(tool_tls_options *o);

/* Parses one shared option at argv[*i] (advancing *i past its value).
 * Returns 1 when consumed, 0 when not a shared option, -1 on error (after
 * printing why). */
int tool_parse_tls_option(const char *cmd, int argc, char **argv, int *i, tool_tls_options *o);
/* After parsing: 0 when the options fit the transport, else prints why
 * (a DTLS-only option with --tls) and returns -1 (a usage error). */
int tool_check_transport(const char *cmd, const tool_tls_options *o);
/* A config from the options; prints the reason and returns NULL on error. */
petrel_config *tool_make_config(const char *cmd, const tool_tls_options *o);
/* "TLS 1.2" or "DTLS 1.2": the connection's negotiated version. */
const char *tool_protocol_name(const petrel_conn *conn);
/* Reads a whole file (at most max bytes) into memory the caller frees;
 * prints the reason and returns -1 on error. */
int tool_read_file(const char *cmd, const char *path, size_t max, uint8_t **data, size_t *len);
/* Splits "HOST:PORT" or "[V6]:PORT" into host and port (in place). */
int tool_split_hostport(char *spec, char **host, char **port);
/* Prints a failure in one line and returns the exit code 1. */
int tool_fail(const char *cmd, const char *what, int error);
/* The platform hooks the tool uses (log level from -v). */
petrel_platform tool_platform(int verbose);

#endif
