/*
 * The petrel buffer flow, complete: a DTLS 1.2 PSK client and server in one
 * process, with a plain array standing in for the network. Everything an
 * application does with a real socket is here: copy a datagram into the
 * read buffer, act on each status, drain outdata, and drive the timer.
 * docs/buffer-flow.md walks through it.
 *
 * Build: cc buffer_flow.c $(pkg-config --cflags --libs petrel)
 */
#include <stdio.h>
#include <string.h>

#include <petrel/petrel.h>

/* The "network": datagrams in flight to one side. */
typedef struct wire {
    unsigned char data[8][2048];
    size_t len[8];
    int count;
} wire;

/* Send path: every datagram petrel has queued goes onto the wire. */
static int drain_outdata(petrel_conn *conn, wire *to)
{
    const uint8_t *buf;
    int n;
    while ((n = petrel_get_outdata(conn, &buf)) > 0) {
        if (to->count < 8) {
            memcpy(to->data[to->count], buf, (size_t)n);
            to->len[to->count++] = (size_t)n;
        }
        /* A datagram is sent whole: tell petrel it went out. */
        if (petrel_sent(conn, (size_t)n) < 0)
            return -1;
    }
    return n; /* 0, or a negative error */
}

/* Receive path: one datagram in, then every status it produces. */
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
            printf("%s: handshake complete, %s\n", name, petrel_cipher_suite_name(conn));
            break;
        case PETREL_APP_DATA:
            printf("%s: received \"%.*s\"\n", name, (int)data_len, (const char *)data);
            break;
        case PETREL_RECEIVED_ALERT: {
            int level, description;
            petrel_last_alert(conn, &level, &description);
            printf("%s: alert %d/%d\n", name, level, description);
            break;
        }
        case PETREL_REQUEST_SEND: /* an answer is queued: drain_outdata */
        case PETREL_REQUEST_RECV: /* the datagram is used up */
            return 0;
        default:
            if (rc < 0) {
                printf("%s: failed: %s\n", name, petrel_strerror(rc));
                return rc;
            }
        }
        /* The datagram may hold more records: go on with it. */
        rc = petrel_processed(conn, &data, &data_len);
    }
}

/* Delivers everything on the wire to conn. */
static int deliver(wire *w, petrel_conn *conn, const char *name)
{
    for (int i = 0; i < w->count; i++)
        if (receive_datagram(conn, name, w->data[i], w->len[i]) < 0)
            return -1;
    w->count = 0;
    return 0;
}

int main(void)
{
    static const uint8_t key[16] = "0123456789abcdef";
    static const uint8_t peer_address[] = {127, 0, 0, 1, 0x16, 0x34}; /* what a socket gives */
    wire to_server = {0}, to_client = {0};

    petrel_config *client_cfg = petrel_config_new(NULL);
    petrel_config *server_cfg = petrel_config_new(NULL);
    if (!client_cfg || !server_cfg ||
        petrel_config_set_psk(client_cfg, (const uint8_t *)"device-1", 8, key, sizeof(key)) < 0 ||
        petrel_config_set_psk(server_cfg, (const uint8_t *)"device-1", 8, key, sizeof(key)) < 0)
        return 1;
    petrel_conn *client = petrel_conn_new(client_cfg, PETREL_CLIENT, PETREL_DATAGRAM, NULL, 0);
    petrel_conn *server = petrel_conn_new(server_cfg, PETREL_SERVER, PETREL_DATAGRAM, peer_address,
                                          sizeof(peer_address));
    if (!client || !server)
        return 1;

    /* The client starts; then datagrams go back and forth until both
     * sides are done. With a real network, a loop like this would also
     * wait at most petrel_next_timeout(conn) ms for input and then call
     * petrel_handle_timeout(conn), which resends a lost flight. */
    if (petrel_connect(client) < 0)
        return 1;
    for (int round = 0; round < 10; round++) {
        if (drain_outdata(client, &to_server) < 0 || deliver(&to_server, server, "server") < 0 ||
            drain_outdata(server, &to_client) < 0 || deliver(&to_client, client, "client") < 0)
            return 1;
        if (petrel_handshake_complete(client) && petrel_handshake_complete(server) &&
            to_server.count == 0 && to_client.count == 0)
            break;
    }
    if (!petrel_handshake_complete(client) || !petrel_handshake_complete(server))
        return 1;

    /* Application data: encode from our buffer ... */
    const char *hello = "hello, server";
    if (petrel_encode_to_outdata(client, (const uint8_t *)hello, strlen(hello)) < 0)
        return 1;
    /* ... or write straight into petrel's buffer and encrypt in place. */
    uint8_t *writebuf;
    int room = petrel_get_writebuf(server, &writebuf);
    int n = snprintf((char *)writebuf, (size_t)room, "hello, client");
    if (room < 0 || petrel_encode_writebuf(server, (size_t)n) < 0)
        return 1;
    /* close_notify ends the session; the server answers with its own. */
    if (petrel_close_notify(client) < 0)
        return 1;
    if (drain_outdata(client, &to_server) < 0 || drain_outdata(server, &to_client) < 0 ||
        deliver(&to_server, server, "server") < 0 || deliver(&to_client, client, "client") < 0 ||
        drain_outdata(server, &to_client) < 0 || deliver(&to_client, client, "client") < 0)
        return 1;

    petrel_conn_free(client);
    petrel_conn_free(server);
    petrel_config_free(client_cfg);
    petrel_config_free(server_cfg);
    return 0;
}
