/*
 * Certificates with petrel: a DTLS 1.2 client and server in one process,
 * authenticated by X.509 chains, with an array standing in for the
 * network (the buffer flow of examples/buffer_flow.c). It shows loading
 * chains, keys and CAs and what each loader error says, verification of
 * both sides (the server asks for a client certificate, the client checks
 * the server's name), a certificate callback that prints everything petrel
 * parsed, and what the application can ask once the handshake is done.
 * docs/certificates.md walks through it.
 *
 * Two runs: "trusted", where the server's chain leads to a CA the client
 * trusts, and "unknown-ca", where it does not and the callback lets the
 * connection go on with the server marked anonymous.
 *
 * Usage: example_certificates PKI_DIR [trusted|unknown-ca]
 * PKI_DIR is the test PKI, tests/pki (built by ctest, the example defaults
 * to the source tree's). Without a run named, both run.
 * Build: cc certificates.c $(pkg-config --cflags --libs petrel)
 */
#define _POSIX_C_SOURCE 200809L /* gmtime_r, chdir */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <petrel/petrel.h>

/* ---- loading ---- */

/* Every loader returns 0 or a negative PETREL_ERR_* code. */
static int check(const char *what, int rc)
{
    if (rc < 0)
        printf("%s: %s (%s)\n", what, petrel_error_name(rc), petrel_strerror(rc));
    return rc;
}

/* The server's chain (leaf, then intermediates) from a PEM file, then the
 * private key, which petrel checks against the leaf. */
static int load_server_credentials(petrel_config *cfg, const char *chain, const char *key,
                                   const char *password)
{
    if (check(chain, petrel_config_load_cert_chain_file(cfg, chain)) < 0 ||
        check(key, petrel_config_load_key_file(cfg, key, password)) < 0)
        return -1;
    return 0;
}

/* The server asks every client for a certificate and checks it against
 * the CAs of a hashed CA directory (what OpenSSL calls -CApath). */
static int require_client_certificate(petrel_config *cfg)
{
    if (check("cadir", petrel_config_load_ca_dir(cfg, "cadir")) < 0 ||
        check("verify", petrel_config_set_verify(cfg, PETREL_VERIFY_REQUIRE, 0)) < 0)
        return -1;
    return 0;
}

/* The policy of this example's callback, chosen per run. */
typedef struct cert_policy {
    bool accept_unverified; /* let an unverified server in, as anonymous */
} cert_policy;

static int print_chain(void *ref, petrel_conn *conn, const petrel_cert_info *chain, size_t count,
                       int alert);

/* The client: the CAs it trusts for servers, its own chain and key for
 * the server's CertificateRequest, and the callback. */
static int load_client_credentials(petrel_config *cfg, cert_policy *policy)
{
    if (check("ca-all.pem", petrel_config_load_ca_file(cfg, "ca-all.pem")) < 0 ||
        check("ec-client-chain.pem",
              petrel_config_load_cert_chain_file(cfg, "ec-client-chain.pem")) < 0 ||
        check("ec-client.key", petrel_config_load_key_file(cfg, "ec-client.key", NULL)) < 0 ||
        check("callback", petrel_config_set_cert_callback(cfg, print_chain, policy)) < 0)
        return -1;
    return 0;
}

/* A whole file in memory (the caller frees it), as an application would
 * have it from a secure store, a firmware image or a configuration blob. */
static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    long size = -1;
    if (f && fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size > 0 && fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)size)) != NULL &&
        fread(data, 1, (size_t)size, f) != (size_t)size) {
        free(data);
        data = NULL;
    }
    if (f)
        fclose(f);
    *len = data ? (size_t)size : 0;
    return data;
}

/* The same loaders work from memory: PEM, or DER certificates back to
 * back. Here an RSA server's three-certificate chain and its PKCS#1 key. */
static int load_from_memory(void)
{
    petrel_config *cfg = petrel_config_new(NULL);
    size_t chain_len, key_len;
    uint8_t *chain = read_file("rsa-server-chain.pem", &chain_len);
    uint8_t *key = read_file("rsa-server.key", &key_len);
    int rc = -1;
    if (cfg && chain && key &&
        check("chain in memory", petrel_config_load_cert_chain_mem(cfg, chain, chain_len)) == 0 &&
        check("key in memory", petrel_config_load_key_mem(cfg, key, key_len, NULL)) == 0) {
        printf("loaded rsa-server-chain.pem (%zu bytes) and its key from memory\n", chain_len);
        rc = 0;
    }
    free(chain);
    free(key); /* a real application would wipe the key first */
    petrel_config_free(cfg);
    return rc;
}

/* Two mistakes on purpose, each caught by the loader with its own code. */
static int show_loader_errors(void)
{
    petrel_config *cfg = petrel_config_new(NULL);
    if (!cfg || petrel_config_load_cert_chain_file(cfg, "ec-server-chain.pem") < 0)
        return -1;
    /* A key that is not the leaf's. */
    int mismatch = check("ec-client.key", petrel_config_load_key_file(cfg, "ec-client.key", NULL));
    /* The right key with the wrong password. */
    int password = check("ec-server.enc.pem",
                         petrel_config_load_key_file(cfg, "ec-server.enc.pem", "not-the-password"));
    petrel_config_free(cfg);
    return mismatch == PETREL_ERR_KEY_CERT_MISMATCH && password == PETREL_ERR_WRONG_PASSWORD ? 0
                                                                                             : -1;
}

/* ---- the certificate callback ---- */

static const char *auth_name(petrel_cert_auth status)
{
    switch (status) {
    case PETREL_CERT_AUTH_UNTESTED:
        return "UNTESTED";
    case PETREL_CERT_AUTH_PASS:
        return "PASS";
    case PETREL_CERT_AUTH_FAIL_BC:
        return "FAIL_BC";
    case PETREL_CERT_AUTH_FAIL_DN:
        return "FAIL_DN";
    case PETREL_CERT_AUTH_FAIL_SIG:
        return "FAIL_SIG";
    case PETREL_CERT_AUTH_FAIL_DATE:
        return "FAIL_DATE";
    case PETREL_CERT_AUTH_FAIL_NAME:
        return "FAIL_NAME";
    case PETREL_CERT_AUTH_FAIL_USAGE:
        return "FAIL_USAGE";
    case PETREL_CERT_AUTH_FAIL_OTHER:
        return "FAIL_OTHER";
    }
    return "?";
}

static const char *san_type_name(petrel_san_type type)
{
    switch (type) {
    case PETREL_SAN_DNS:
        return "DNS";
    case PETREL_SAN_IP:
        return "IP";
    case PETREL_SAN_EMAIL:
        return "email";
    case PETREL_SAN_URI:
        return "URI";
    case PETREL_SAN_OTHER:
        break;
    }
    return "other";
}

/* One attribute of a name, by its short type ("CN", "O", ...). */
static const char *dn_find(const petrel_dn *dn, const char *type)
{
    for (size_t i = 0; i < dn->count; i++) {
        if (strcmp(dn->attrs[i].type, type) == 0)
            return dn->attrs[i].value;
    }
    return "(none)";
}

/* Seconds since the epoch as a UTC date. */
static const char *utc(int64_t t, char *buf, size_t cap)
{
    time_t when = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&when, &tm) || strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(buf, cap, "%lld", (long long)t);
    return buf;
}

static void print_cert(size_t i, const petrel_cert_info *c)
{
    char from[32], to[32];
    printf("  [%zu] subject: %s (CN %s)\n", i, c->subject.text, dn_find(&c->subject, "CN"));
    printf("      issuer:  %s (CN %s)\n", c->issuer.text, dn_find(&c->issuer, "CN"));
    printf("      serial:  ");
    for (size_t k = 0; k < c->serial_len; k++)
        printf("%02X", c->serial[k]);
    printf("\n      valid:   %s .. %s\n", utc(c->not_before, from, sizeof(from)),
           utc(c->not_after, to, sizeof(to)));
    printf("      key:     %s %u bits%s%s, signed with %s\n", c->key_algorithm, c->key_bits,
           c->key_curve ? " " : "", c->key_curve ? c->key_curve : "", c->signature_algorithm);
    printf("      SAN:    ");
    for (size_t k = 0; k < c->san_count; k++)
        printf(" %s:%s", san_type_name(c->san[k].type), c->san[k].value);
    printf("%s\n", c->san_count ? "" : " (none)");
    if (!c->has_basic_constraints)
        printf("      basic constraints: none\n");
    else if (c->is_ca && c->path_len >= 0)
        printf("      basic constraints: CA:TRUE, pathlen:%d\n", c->path_len);
    else
        printf("      basic constraints: CA:%s\n", c->is_ca ? "TRUE" : "FALSE");
    printf("      status:  %s\n", auth_name(c->auth_status));
}

/* Called once per handshake with the peer's chain (chain[0] is the peer's
 * own certificate) and petrel's verdict: alert 0 when every check passed,
 * else the alert petrel would send. The return value decides. */
static int print_chain(void *ref, petrel_conn *conn, const petrel_cert_info *chain, size_t count,
                       int alert)
{
    const cert_policy *policy = ref;
    (void)conn;
    printf("client: certificate callback: chain of %zu, alert %d\n", count, alert);
    for (size_t i = 0; i < count; i++)
        print_cert(i, &chain[i]);
    if (alert == 0)
        return 0; /* petrel's checks passed: accept */
    if (policy->accept_unverified)
        return PETREL_CERT_ALLOW_ANON; /* go on, with the peer marked anonymous */
    return alert;                      /* refuse, with the alert petrel chose */
}

/* ---- the network: the buffer flow, as in buffer_flow.c ---- */

/* Application messages delivered so far, for the final check. */
static int messages_received;

typedef struct wire {
    unsigned char data[16][2048];
    size_t len[16];
    int count;
} wire;

static int drain_outdata(petrel_conn *conn, wire *to)
{
    const uint8_t *buf;
    int n;
    while ((n = petrel_get_outdata(conn, &buf)) > 0) {
        if (to->count == 16 || (size_t)n > sizeof(to->data[0]))
            return -1;
        memcpy(to->data[to->count], buf, (size_t)n);
        to->len[to->count++] = (size_t)n;
        if (petrel_sent(conn, (size_t)n) < 0)
            return -1;
    }
    return n;
}

static int receive_datagram(petrel_conn *conn, const char *name, const unsigned char *dgram,
                            size_t len)
{
    uint8_t *readbuf;
    const uint8_t *data;
    size_t data_len;
    int cap = petrel_get_readbuf(conn, &readbuf);
    if (cap < 0 || len > (size_t)cap)
        return -1;
    memcpy(readbuf, dgram, len);
    int rc = petrel_received(conn, len, &data, &data_len);
    for (;;) {
        switch (rc) {
        case PETREL_HANDSHAKE_COMPLETE:
            printf("%s: handshake complete\n", name);
            break;
        case PETREL_APP_DATA:
            printf("%s: received \"%.*s\"\n", name, (int)data_len, (const char *)data);
            messages_received++;
            break;
        case PETREL_RECEIVED_ALERT: {
            int level, description;
            petrel_last_alert(conn, &level, &description);
            printf("%s: alert %d/%d\n", name, level, description);
            break;
        }
        case PETREL_REQUEST_SEND:
        case PETREL_REQUEST_RECV:
            return 0;
        default:
            if (rc < 0) {
                printf("%s: failed: %s (%s)\n", name, petrel_error_name(rc), petrel_strerror(rc));
                return rc;
            }
        }
        rc = petrel_processed(conn, &data, &data_len);
    }
}

static int deliver(wire *w, petrel_conn *conn, const char *name)
{
    for (int i = 0; i < w->count; i++)
        if (receive_datagram(conn, name, w->data[i], w->len[i]) < 0)
            return -1;
    w->count = 0;
    return 0;
}

/* One exchange in each direction. A timer that has run out (a flight
 * lost on a real network) resends; on this lossless wire it never does. */
static int pump(petrel_conn *client, petrel_conn *server, wire *to_server, wire *to_client)
{
    petrel_conn *both[2] = {client, server};
    for (int i = 0; i < 2; i++) {
        if (petrel_next_timeout(both[i]) == 0 && petrel_handle_timeout(both[i]) < 0)
            return -1;
    }
    if (drain_outdata(client, to_server) < 0 || deliver(to_server, server, "server") < 0 ||
        drain_outdata(server, to_client) < 0 || deliver(to_client, client, "client") < 0)
        return -1;
    return 0;
}

/* ---- after the handshake ---- */

/* Who the peer is: its certificates stay available as DER. */
static void report_peer(const char *name, const petrel_conn *conn)
{
    const uint8_t *der;
    size_t len, leaf_len = 0, count = 0;
    while (petrel_peer_certificate(conn, count, &der, &len) == 0) {
        if (count == 0)
            leaf_len = len;
        count++;
    }
    printf("%s: suite %s\n", name, petrel_cipher_suite_name(conn));
    printf("%s: peer anonymous: %s\n", name, petrel_peer_anonymous(conn) ? "yes" : "no");
    printf("%s: peer certificates: %zu (leaf: %zu bytes of DER)\n", name, count, leaf_len);
}

/* ---- one run ---- */

/* The client names the server it expects: checked against the SANs of the
 * server's certificate and sent as SNI. Before petrel_connect. */
static petrel_conn *connect_client(const petrel_config *cfg, const char *server_name)
{
    petrel_conn *conn = petrel_conn_new(cfg, PETREL_CLIENT, PETREL_DATAGRAM, NULL, 0);
    if (!conn || check("server name", petrel_conn_set_server_name(conn, server_name)) < 0 ||
        check("connect", petrel_connect(conn)) < 0) {
        petrel_conn_free(conn);
        return NULL;
    }
    return conn;
}

static int run(const char *title, const char *chain, const char *key, const char *password,
               bool accept_unverified, bool expect_anonymous)
{
    static const uint8_t peer_address[] = {127, 0, 0, 1, 0x16, 0x34};
    static wire to_server, to_client;
    cert_policy policy = {.accept_unverified = accept_unverified};
    petrel_conn *client = NULL, *server = NULL;
    int rc = -1, level, description;
    printf("== %s\n", title);
    to_server.count = to_client.count = 0;

    petrel_config *server_cfg = petrel_config_new(NULL);
    petrel_config *client_cfg = petrel_config_new(NULL);
    if (!server_cfg || !client_cfg ||
        load_server_credentials(server_cfg, chain, key, password) < 0 ||
        require_client_certificate(server_cfg) < 0 ||
        load_client_credentials(client_cfg, &policy) < 0)
        goto out;
    server = petrel_conn_new(server_cfg, PETREL_SERVER, PETREL_DATAGRAM, peer_address,
                             sizeof(peer_address));
    client = connect_client(client_cfg, "localhost");
    if (!server || !client)
        goto out;

    for (int round = 0; round < 10; round++) {
        if (pump(client, server, &to_server, &to_client) < 0)
            goto out;
        if (petrel_handshake_complete(client) && petrel_handshake_complete(server))
            break;
    }
    if (!petrel_handshake_complete(client) || !petrel_handshake_complete(server))
        goto out;
    report_peer("client", client);
    report_peer("server", server);
    if (petrel_peer_anonymous(client) != expect_anonymous || petrel_peer_anonymous(server))
        goto out;

    /* One message each way, then close_notify from the client, which the
     * server answers with its own. */
    messages_received = 0;
    if (petrel_encode_to_outdata(client, (const uint8_t *)"hello, server", 13) < 0 ||
        petrel_encode_to_outdata(server, (const uint8_t *)"hello, client", 13) < 0 ||
        pump(client, server, &to_server, &to_client) < 0 || petrel_close_notify(client) < 0 ||
        pump(client, server, &to_server, &to_client) < 0 ||
        pump(client, server, &to_server, &to_client) < 0)
        goto out;
    if (messages_received == 2 && petrel_last_alert(server, &level, &description) &&
        description == 0)
        rc = 0;
out:
    petrel_conn_free(client);
    petrel_conn_free(server);
    petrel_config_free(client_cfg);
    petrel_config_free(server_cfg);
    return rc;
}

int main(int argc, char **argv)
{
#ifdef EXAMPLE_PKI_DIR
    const char *pki = argc > 1 ? argv[1] : EXAMPLE_PKI_DIR;
#else
    const char *pki = argc > 1 ? argv[1] : NULL;
#endif
    const char *which = argc > 2 ? argv[2] : "all";
    bool all = strcmp(which, "all") == 0;
    if (!pki || chdir(pki) != 0 ||
        !(all || strcmp(which, "trusted") == 0 || strcmp(which, "unknown-ca") == 0)) {
        fprintf(stderr, "usage: %s PKI_DIR [trusted|unknown-ca]\n", argv[0]);
        return 2;
    }
    if (load_from_memory() < 0 || show_loader_errors() < 0)
        return 1;
    if ((all || strcmp(which, "trusted") == 0) &&
        run("run 1: a server the client trusts", "ec-server-chain.pem", "ec-server.enc.pem",
            "petrel-test", false, false) < 0)
        return 1;
    if ((all || strcmp(which, "unknown-ca") == 0) &&
        run("run 2: a server from an unknown CA", "unknown-chain.pem", "unknown-server.key", NULL,
            true, true) < 0)
        return 1;
    printf("certificates: all as expected\n");
    return 0;
}
