/* The config and connection structs, shared by the files of conn/ only. */
#ifndef PETREL_CONN_TYPES_H
#define PETREL_CONN_TYPES_H

#include <petrel/petrel.h>

#include "dtls/dtls.h"
#include "handshake/handshake.h"

struct petrel_config {
    petrel_platform platform;
    hs_config hs;
    dtls_config dtls;
    dtls_cookie_secrets cookies;
};

struct petrel_conn {
    const petrel_config *cfg;
    petrel_role role;
    hs_ctx hs;
    dtls_layer dtls;
    int error; /* sticky: once failed, always failed */
    bool close_sent;
    bool close_received;
    void *app_data;      /* petrel_conn_set_app_data */
    uint8_t *readbuf;    /* one datagram */
    cursor_reader input; /* what is left of it */
};

/* Releases everything conn/cert_config.c loaded into cfg. */
void conn_config_free_certs(petrel_config *cfg);

#endif
