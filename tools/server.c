#define _POSIX_C_SOURCE 200809L
/*
 * petrel server [--dtls | --tls] --listen HOST:PORT [--psk-identity ID --psk HEX]
 *               [--cert FILE --key FILE] [--ca FILE] [--verify MODE]
 *               [--echo] [--once] [--quiet] [--port-file FILE] [--suites LIST]
 *               [--mtu N] [--timer MS] [-v]
 *
 * Serves DTLS on a UDP port (default) or, with --tls, TLS on a TCP port,
 * one session per peer, printing each handshake, record and close. --echo
 * sends every record back; --once exits after the first session ends;
 * --port-file writes the bound port (useful with port 0); --quiet leaves
 * the data out (TLS: prints byte counts at the end). TLS only: --send-file sends a file to
 * every client after the handshake, --close then closes the session with
 * close_notify. SIGINT/SIGTERM stop it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <petrel/tcp.h>
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
    int quiet;
    int sessions_done;
    /* TLS: the reason the last session ended (0: close_notify). */
    int last_reason;
    const uint8_t *send_data; /* --send-file */
    size_t send_len;
    int close_after_send; /* --close */
} server_state;

/* A TLS session's byte counts (the session's user pointer). */
typedef struct session_tally {
    unsigned long long received;
    unsigned long long sent;
} session_tally;

static const char *client_description(petrel_conn *conn)
{
    petrel_cert_type type = petrel_peer_certificate_type(conn);
    bool anonymous = petrel_peer_anonymous(conn);
    if (type == PETREL_CERT_TYPE_RAW_PUBLIC_KEY)
        return anonymous ? "raw public key not verified" : "raw public key verified";
    if (type == PETREL_CERT_TYPE_X509)
        return anonymous ? "certificate not verified" : "certificate verified";
    return anonymous ? "anonymous" : "PSK";
}

static void print_established(const char *peer, petrel_conn *conn)
{
    printf("%s: handshake complete: %s, client: %s\n", peer, petrel_cipher_suite_name(conn),
           client_description(conn));
    fflush(stdout);
}

static void print_data(const server_state *st, const char *peer, const uint8_t *data, size_t len)
{
    if (st->quiet)
        return;
    printf("%s: received %zu bytes: %.*s\n", peer, len, (int)len, (const char *)data);
    fflush(stdout);
}

/* ---- DTLS ---- */

static void on_udp_established(void *ref, petrel_udp_session *s)
{
    (void)ref;
    print_established(petrel_udp_session_peer(s), petrel_udp_session_conn(s));
}

static void on_udp_data(void *ref, petrel_udp_session *s, const uint8_t *data, size_t len)
{
    server_state *st = ref;
    print_data(st, petrel_udp_session_peer(s), data, len);
    if (st->echo) {
        int rc = petrel_udp_session_send(s, data, len);
        if (rc < 0)
            fprintf(stderr, "petrel server: echo to %s failed: %s\n", petrel_udp_session_peer(s),
                    petrel_strerror(rc));
    }
}

static void on_udp_closed(void *ref, petrel_udp_session *s, int reason)
{
    server_state *st = ref;
    printf("%s: closed: %s\n", petrel_udp_session_peer(s),
           reason == 0 ? "close_notify" : petrel_strerror(reason));
    fflush(stdout);
    st->sessions_done++;
}

/* ---- TLS ---- */

static void on_tcp_established(void *ref, petrel_tcp_session *s)
{
    server_state *st = ref;
    const char *peer = petrel_tcp_session_peer(s);
    session_tally *tally = calloc(1, sizeof(*tally));
    petrel_tcp_session_set_user(s, tally);
    print_established(peer, petrel_tcp_session_conn(s));
    if (st->send_data) {
        int rc = petrel_tcp_session_send(s, st->send_data, st->send_len);
        if (rc < 0) {
            fprintf(stderr, "petrel server: --send-file to %s failed: %s (%s)\n", peer,
                    petrel_strerror(rc), petrel_error_name(rc));
        } else {
            if (tally)
                tally->sent += st->send_len;
            printf("%s: sending %zu bytes (--send-file)\n", peer, st->send_len);
        }
    }
    if (st->close_after_send) {
        int rc = petrel_tcp_session_close(s);
        if (rc < 0)
            fprintf(stderr, "petrel server: close to %s failed: %s (%s)\n", peer,
                    petrel_strerror(rc), petrel_error_name(rc));
        else
            printf("%s: close_notify queued (--close)\n", peer);
    }
    fflush(stdout);
}

static void on_tcp_data(void *ref, petrel_tcp_session *s, const uint8_t *data, size_t len)
{
    server_state *st = ref;
    session_tally *tally = petrel_tcp_session_user(s);
    if (tally)
        tally->received += len;
    print_data(st, petrel_tcp_session_peer(s), data, len);
    if (st->echo) {
        int rc = petrel_tcp_session_send(s, data, len);
        if (rc < 0)
            fprintf(stderr, "petrel server: echo to %s failed: %s (%s)\n",
                    petrel_tcp_session_peer(s), petrel_strerror(rc), petrel_error_name(rc));
        else if (tally)
            tally->sent += len;
    }
}

static void on_tcp_closed(void *ref, petrel_tcp_session *s, int reason)
{
    server_state *st = ref;
    const char *peer = petrel_tcp_session_peer(s);
    session_tally *tally = petrel_tcp_session_user(s);
    if (tally && st->quiet)
        printf("%s: %llu bytes received, %llu bytes sent\n", peer, tally->received, tally->sent);
    int level, description;
    if (reason == 0)
        printf("%s: closed: close_notify\n", peer);
    else if (reason == PETREL_ERR_PEER_ALERT &&
             petrel_last_alert(petrel_tcp_session_conn(s), &level, &description))
        printf("%s: closed: the client sent alert %d (%s): %s (%s)\n", peer, description,
               petrel_alert_name(description), petrel_strerror(reason), petrel_error_name(reason));
    else
        printf("%s: closed: %s (%s)\n", peer, petrel_strerror(reason), petrel_error_name(reason));
    fflush(stdout);
    free(tally);
    petrel_tcp_session_set_user(s, NULL);
    st->last_reason = reason;
    st->sessions_done++;
}

static void usage(void)
{
    fprintf(
        stderr,
        "usage: petrel server [--dtls | --tls] --listen HOST:PORT\n"
        "                     [--psk-identity ID --psk HEX [--psk-hint TEXT]]\n"
        "                     [--cert FILE --key FILE [--pass PW]] [--rpk [--peer-key FILE]...]\n"
        "                     [--ca FILE] [--capath DIR] [--verify none|optional|require]\n"
        "                     [--echo] [--once] [--quiet] [--port-file FILE] [--suites LIST] [-v]\n"
        "  DTLS only:         [--mtu N] [--timer MS] [--max-timer MS] [--lossy-link RTT_HINT_MS]\n"
        "  TLS only:          [--send-file FILE] [--close]\n"
        "--dtls (the default) serves DTLS 1.2 on UDP, --tls TLS 1.2 on TCP.\n"
        "--verify optional/require asks clients for a certificate checked against --ca.\n"
        "--echo sends every record back; --once exits after the first session (with --tls,\n"
        "exit status 1 when it did not end with close_notify); --quiet does not print the\n"
        "data (with --tls: byte counts when a session ends). --send-file FILE (up to\n"
        "2 MiB) is sent to every client after the handshake; --close then ends the\n"
        "session with close_notify.\n");
}

/* SIGINT and SIGTERM end the serving loop. */
static void catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int write_port_file(const char *path, int port)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int bad = fprintf(f, "%d\n", port) < 0;
    return fclose(f) != 0 || bad ? -1 : 0;
}

static int run_dtls(server_state *st, const tool_tls_options *o, petrel_config *cfg,
                    const char *host, const char *port, const char *port_file)
{
    petrel_udp_server_handlers handlers = {on_udp_established, on_udp_data, on_udp_closed};
    int err = 0;
    petrel_udp_server *srv = petrel_udp_server_new(cfg, host, port, NULL, &handlers, st, &err);
    if (!srv)
        return tool_fail("server", "cannot listen", err);
    printf("listening on %s:%d (DTLS 1.2%s%s%s%s)\n", host, petrel_udp_server_port(srv),
           o->psk_identity ? ", PSK identity '" : "", o->psk_identity ? o->psk_identity : "",
           o->psk_identity ? "'" : "",
           o->cert ? ", certificate" : (o->rpk ? ", raw public key" : ""));
    fflush(stdout);
    if (port_file && write_port_file(port_file, petrel_udp_server_port(srv)) < 0) {
        petrel_udp_server_free(srv);
        return tool_fail("server", "cannot write --port-file", 0);
    }
    catch_stop_signals();
    int rc = 0;
    while (!stop_requested && !(st->once && st->sessions_done > 0)) {
        rc = petrel_udp_server_run_once(srv, 200);
        if (rc < 0)
            break;
    }
    petrel_udp_server_free(srv);
    return rc < 0 ? tool_fail("server", "stopped", rc) : 0;
}

static int run_tls(server_state *st, const tool_tls_options *o, const petrel_config *cfg,
                   const char *host, const char *port, const char *port_file)
{
    petrel_tcp_server_handlers handlers = {on_tcp_established, on_tcp_data, on_tcp_closed};
    int err = 0;
    petrel_tcp_server *srv = petrel_tcp_server_new(cfg, host, port, NULL, &handlers, st, &err);
    if (!srv)
        return tool_fail("server", "cannot listen", err);
    printf("listening on %s:%d (TLS 1.2%s%s%s%s)\n", host, petrel_tcp_server_port(srv),
           o->psk_identity ? ", PSK identity '" : "", o->psk_identity ? o->psk_identity : "",
           o->psk_identity ? "'" : "",
           o->cert ? ", certificate" : (o->rpk ? ", raw public key" : ""));
    fflush(stdout);
    if (port_file && write_port_file(port_file, petrel_tcp_server_port(srv)) < 0) {
        petrel_tcp_server_free(srv);
        return tool_fail("server", "cannot write --port-file", 0);
    }
    catch_stop_signals();
    int rc = 0;
    while (!stop_requested && !(st->once && st->sessions_done > 0)) {
        rc = petrel_tcp_server_run_once(srv, 200);
        if (rc < 0)
            break;
    }
    petrel_tcp_server_free(srv);
    if (rc < 0)
        return tool_fail("server", "stopped", rc);
    /* --once: the session's end is the exit status. */
    return st->once && st->sessions_done > 0 && st->last_reason != 0 ? 1 : 0;
}

/* The most --send-file may hold: the engine queues at most
 * PETREL_STREAM_OUT_MAX bytes per session, echoes included. */
#define SERVER_SEND_FILE_MAX (2u * 1024 * 1024)

int tool_server(int argc, char **argv)
{
    tool_tls_options o;
    tool_tls_options_init(&o);
    server_state st;
    memset(&st, 0, sizeof(st));
    char *listen = NULL;
    const char *port_file = NULL, *send_file = NULL, *tls_only = NULL;
    for (int i = 0; i < argc; i++) {
        int rc = tool_parse_tls_option("server", argc, argv, &i, &o);
        if (rc < 0)
            return 2;
        if (rc > 0)
            continue;
        const char *opt = argv[i];
        if (strcmp(opt, "--listen") == 0 && i + 1 < argc) {
            listen = argv[++i];
        } else if (strcmp(opt, "--echo") == 0) {
            st.echo = 1;
        } else if (strcmp(opt, "--once") == 0) {
            st.once = 1;
        } else if (strcmp(opt, "--quiet") == 0 || strcmp(opt, "-q") == 0) {
            st.quiet = 1;
        } else if (strcmp(opt, "--port-file") == 0 && i + 1 < argc) {
            port_file = argv[++i];
        } else if (strcmp(opt, "--send-file") == 0 && i + 1 < argc) {
            tls_only = tls_only ? tls_only : opt;
            send_file = argv[++i];
        } else if (strcmp(opt, "--close") == 0) {
            tls_only = tls_only ? tls_only : opt;
            st.close_after_send = 1;
        } else if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
            usage();
            return 0;
        } else {
            fprintf(stderr, "petrel server: unknown option '%s'\n", opt);
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
    if (tool_check_transport("server", &o) < 0) {
        usage();
        return 2;
    }
    if (!o.tls && tls_only) {
        fprintf(stderr, "petrel server: %s needs --tls\n", tls_only);
        usage();
        return 2;
    }
    uint8_t *send_data = NULL;
    if (send_file) {
        if (tool_read_file("server", send_file, SERVER_SEND_FILE_MAX, &send_data, &st.send_len) < 0)
            return 1;
        st.send_data = send_data;
    }
    petrel_config *cfg = tool_make_config("server", &o);
    int status = 1;
    if (cfg)
        status = o.tls ? run_tls(&st, &o, cfg, host, port, port_file)
                       : run_dtls(&st, &o, cfg, host, port, port_file);
    petrel_config_free(cfg);
    free(send_data);
    return status;
}
