#define _POSIX_C_SOURCE 200809L
/*
 * petrel server --dtls --listen HOST:PORT [--psk-identity ID --psk HEX]
 *               [--cert FILE --key FILE] [--ca FILE] [--verify MODE]
 *               [--echo] [--once] [--port-file FILE] [--suites LIST]
 *               [--mtu N] [--timer MS] [-v]
 *
 * Serves DTLS on a UDP port, one session per peer address, printing each
 * handshake, record and close. --echo sends every record back; --once
 * exits after the first session ends; --port-file writes the bound port
 * (useful with port 0). SIGINT/SIGTERM stop it.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <petrel/udp.h>

#include "tools/tool.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct server_state {
    int echo;
    int once;
    int sessions_done;
} server_state;

static void on_established(void *ref, petrel_udp_session *s)
{
    (void)ref;
    petrel_conn *conn = petrel_udp_session_conn(s);
    petrel_cert_type type = petrel_peer_certificate_type(conn);
    bool anonymous = petrel_peer_anonymous(conn);
    const char *client = anonymous ? "anonymous" : "PSK";
    if (type == PETREL_CERT_TYPE_RAW_PUBLIC_KEY)
        client = anonymous ? "raw public key not verified" : "raw public key verified";
    else if (type == PETREL_CERT_TYPE_X509)
        client = anonymous ? "certificate not verified" : "certificate verified";
    printf("%s: handshake complete: %s, client: %s\n", petrel_udp_session_peer(s),
           petrel_cipher_suite_name(conn), client);
    fflush(stdout);
}

static void on_data(void *ref, petrel_udp_session *s, const uint8_t *data, size_t len)
{
    server_state *st = ref;
    printf("%s: received %zu bytes: %.*s\n", petrel_udp_session_peer(s), len, (int)len,
           (const char *)data);
    fflush(stdout);
    if (st->echo) {
        int rc = petrel_udp_session_send(s, data, len);
        if (rc < 0)
            fprintf(stderr, "petrel server: echo to %s failed: %s\n", petrel_udp_session_peer(s),
                    petrel_strerror(rc));
    }
}

static void on_closed(void *ref, petrel_udp_session *s, int reason)
{
    server_state *st = ref;
    printf("%s: closed: %s\n", petrel_udp_session_peer(s),
           reason == 0 ? "close_notify" : petrel_strerror(reason));
    fflush(stdout);
    st->sessions_done++;
}

static void usage(void)
{
    fprintf(
        stderr,
        "usage: petrel server --dtls --listen HOST:PORT\n"
        "                     [--psk-identity ID --psk HEX [--psk-hint TEXT]]\n"
        "                     [--cert FILE --key FILE [--pass PW]] [--rpk [--peer-key FILE]...]\n"
        "                     [--ca FILE] [--capath DIR] [--verify none|optional|require]\n"
        "                     [--echo] [--once] [--port-file FILE]\n"
        "                     [--suites LIST] [--mtu N] [--timer MS] [--max-timer MS]\n"
        "                     [--lossy-link RTT_HINT_MS] [-v]\n"
        "--verify optional/require asks clients for a certificate checked against --ca.\n");
}

int tool_server(int argc, char **argv)
{
    tool_dtls_options o;
    tool_dtls_options_init(&o);
    server_state st = {0, 0, 0};
    char *listen = NULL;
    const char *port_file = NULL;
    for (int i = 0; i < argc; i++) {
        int rc = tool_parse_dtls_option("server", argc, argv, &i, &o);
        if (rc < 0)
            return 2;
        if (rc > 0)
            continue;
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
            listen = argv[++i];
        } else if (strcmp(argv[i], "--echo") == 0) {
            st.echo = 1;
        } else if (strcmp(argv[i], "--once") == 0) {
            st.once = 1;
        } else if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc) {
            port_file = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage();
            return 0;
        } else {
            fprintf(stderr, "petrel server: unknown option '%s'\n", argv[i]);
            usage();
            return 2;
        }
    }
    char *host, *port;
    if (!listen || tool_split_hostport(listen, &host, &port) < 0) {
        fprintf(stderr, "petrel server: --listen HOST:PORT is required\n");
        usage();
        return 2;
    }
    petrel_config *cfg = tool_make_config("server", &o);
    if (!cfg)
        return 1;
    petrel_udp_server_handlers handlers = {on_established, on_data, on_closed};
    int err = 0;
    petrel_udp_server *srv = petrel_udp_server_new(cfg, host, port, NULL, &handlers, &st, &err);
    if (!srv) {
        petrel_config_free(cfg);
        return tool_fail("server", "cannot listen", err);
    }
    printf("listening on %s:%d (DTLS 1.2%s%s%s%s)\n", host, petrel_udp_server_port(srv),
           o.psk_identity ? ", PSK identity '" : "", o.psk_identity ? o.psk_identity : "",
           o.psk_identity ? "'" : "", o.cert ? ", certificate" : (o.rpk ? ", raw public key" : ""));
    fflush(stdout);
    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (!f || fprintf(f, "%d\n", petrel_udp_server_port(srv)) < 0 || fclose(f) != 0) {
            petrel_udp_server_free(srv);
            petrel_config_free(cfg);
            return tool_fail("server", "cannot write --port-file", 0);
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int rc = 0;
    while (!stop_requested && !(st.once && st.sessions_done > 0)) {
        rc = petrel_udp_server_run_once(srv, 200);
        if (rc < 0)
            break;
    }
    petrel_udp_server_free(srv);
    petrel_config_free(cfg);
    return rc < 0 ? tool_fail("server", "stopped", rc) : 0;
}
