/*
 * petrel client --dtls --connect HOST:PORT --psk-identity ID --psk HEX
 *               [--send TEXT] [--expect TEXT] [--no-echo] [--timeout MS] [--resend MS]
 *               [--suites LIST] [--mtu N] [--timer MS] [-v]
 *
 * Runs a DTLS handshake, prints what happened, sends TEXT, and waits until
 * the echo of TEXT (or the --expect text) comes back. Application data is
 * not retransmitted by DTLS, so while waiting for the echo the client sends
 * TEXT again every --resend MS (default 1000; 0: never), as a CoAP client
 * would. Exits 0 on success; on failure prints one line with the reason and
 * exits 1 (2 for usage).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <petrel/udp.h>

#include "tools/tool.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: petrel client --dtls --connect HOST:PORT\n"
            "                     [--psk-identity ID --psk HEX]\n"
            "                     [--ca FILE] [--capath DIR] [--verify none|optional|require]\n"
            "                     [--servername NAME] [--cert FILE --key FILE [--pass PW]]\n"
            "                     [--rpk [--peer-key FILE]...]\n"
            "                     [--send TEXT] [--expect TEXT] [--no-echo] [--timeout MS]\n"
            "                     [--resend MS]\n"
            "                     [--suites LIST] [--mtu N] [--timer MS] [--max-timer MS]\n"
            "                     [--lossy-link RTT_HINT_MS] [-v]\n"
            "The server's certificate is checked against --ca/--capath and the name\n"
            "--servername gives (default: the HOST of --connect); --verify none skips it.\n");
}

static void print_summary(petrel_conn *conn, uint64_t elapsed_ms)
{
    petrel_conn_stats st;
    petrel_get_stats(conn, &st);
    const char *peer = "PSK";
    petrel_cert_type type = petrel_peer_certificate_type(conn);
    if (type == PETREL_CERT_TYPE_RAW_PUBLIC_KEY)
        peer =
            petrel_peer_anonymous(conn) ? "raw public key not verified" : "raw public key verified";
    else if (type == PETREL_CERT_TYPE_X509)
        peer = petrel_peer_anonymous(conn) ? "certificate not verified" : "certificate verified";
    printf("handshake complete: %s, DTLS 1.2, %llu ms, %llu datagrams sent, %llu "
           "retransmissions, rtt %u ms, server: %s\n",
           petrel_cipher_suite_name(conn), (unsigned long long)elapsed_ms,
           (unsigned long long)st.datagrams_sent, (unsigned long long)st.retransmissions, st.rtt_ms,
           peer);
}

int tool_client(int argc, char **argv)
{
    tool_dtls_options o;
    tool_dtls_options_init(&o);
    char *connect = NULL;
    const char *send = NULL, *expect = NULL;
    int echo = 1;
    long timeout_ms = 30000;
    long resend_ms = 1000;
    for (int i = 0; i < argc; i++) {
        int rc = tool_parse_dtls_option("client", argc, argv, &i, &o);
        if (rc < 0)
            return 2;
        if (rc > 0)
            continue;
        if (strcmp(argv[i], "--connect") == 0 && i + 1 < argc) {
            connect = argv[++i];
        } else if (strcmp(argv[i], "--send") == 0 && i + 1 < argc) {
            send = argv[++i];
        } else if (strcmp(argv[i], "--expect") == 0 && i + 1 < argc) {
            expect = argv[++i];
        } else if (strcmp(argv[i], "--no-echo") == 0) {
            echo = 0;
        } else if (strcmp(argv[i], "--resend") == 0 && i + 1 < argc) {
            resend_ms = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            timeout_ms = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage();
            return 0;
        } else {
            fprintf(stderr, "petrel client: unknown option '%s'\n", argv[i]);
            usage();
            return 2;
        }
    }
    char *host, *port;
    if (!connect || tool_split_hostport(connect, &host, &port) < 0) {
        fprintf(stderr, "petrel client: --connect HOST:PORT is required\n");
        usage();
        return 2;
    }
    if (send && echo && !expect)
        expect = send;

    /* Check the certificate against the host connected to, unless told
     * otherwise (as curl does). */
    if (!o.servername && (o.ca || o.capath))
        o.servername = host;
    petrel_config *cfg = tool_make_config("client", &o);
    if (!cfg)
        return 1;
    int err = 0;
    petrel_udp_client *c = petrel_udp_client_new(cfg, host, port, &err);
    if (!c) {
        petrel_config_free(cfg);
        return tool_fail("client", "cannot open the socket", err);
    }
    petrel_platform clock = petrel_platform_default();
    uint64_t start = clock.clock_ms(NULL);
    int rc = petrel_udp_client_handshake(c, (int)timeout_ms);
    if (rc < 0) {
        int level, description;
        char what[96] = "handshake failed";
        if (petrel_last_alert(petrel_udp_client_conn(c), &level, &description))
            snprintf(what, sizeof(what), "handshake failed, the server sent alert %d (%s)",
                     description, petrel_alert_name(description));
        petrel_udp_client_free(c);
        petrel_config_free(cfg);
        return tool_fail("client", what, rc);
    }
    print_summary(petrel_udp_client_conn(c), clock.clock_ms(NULL) - start);
    fflush(stdout);

    if (send) {
        rc = petrel_udp_client_send(c, (const uint8_t *)send, strlen(send));
        if (rc < 0) {
            petrel_udp_client_free(c);
            petrel_config_free(cfg);
            return tool_fail("client", "send failed", rc);
        }
        printf("sent: %s\n", send);
        fflush(stdout);
    }
    int status = 0;
    if (expect) {
        /* Records may also carry other data first: wait until one holds
         * the expected text, resending ours when a reply is overdue. */
        char buf[4096];
        uint64_t last_send = clock.clock_ms(NULL);
        for (;;) {
            uint64_t now = clock.clock_ms(NULL);
            long spent = (long)(now - start);
            if (spent >= timeout_ms) {
                status = tool_fail("client", "no reply within the timeout", PETREL_ERR_TIMEOUT);
                break;
            }
            long wait = timeout_ms - spent;
            if (send && resend_ms > 0) {
                long until_resend = resend_ms - (long)(now - last_send);
                if (until_resend <= 0) {
                    rc = petrel_udp_client_send(c, (const uint8_t *)send, strlen(send));
                    if (rc < 0) {
                        status = tool_fail("client", "send failed", rc);
                        break;
                    }
                    last_send = now;
                    until_resend = resend_ms;
                }
                if (until_resend < wait)
                    wait = until_resend;
            }
            rc = petrel_udp_client_recv(c, (uint8_t *)buf, sizeof(buf) - 1, (int)wait);
            if (rc == PETREL_ERR_TIMEOUT)
                continue;
            if (rc <= 0) {
                status = tool_fail(
                    "client", rc == 0 ? "server closed the connection before replying" : "no reply",
                    rc);
                break;
            }
            buf[rc] = '\0';
            printf("received: %s\n", buf);
            fflush(stdout);
            if (strstr(buf, expect))
                break;
        }
    }
    (void)petrel_udp_client_close(c);
    petrel_udp_client_free(c);
    petrel_config_free(cfg);
    return status;
}
