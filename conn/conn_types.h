/* The config and connection structs, shared by the files of conn/ only. */
#ifndef PETREL_CONN_TYPES_H
#define PETREL_CONN_TYPES_H

#include <petrel/petrel.h>

#include "dtls/dtls.h"
#include "handshake/handshake.h"
#include "tls/tls.h"

struct petrel_config {
    petrel_platform platform;
    hs_config hs;
    dtls_config dtls;
    dtls_cookie_secrets cookies;
};

struct petrel_conn {
    const petrel_config *cfg;
    petrel_role role;
    petrel_mode mode;
    hs_ctx hs;
    /* The record layer the mode chose; hs_ctx talks to it through
     * dtls_record_ops or tls_record_ops. */
    union {
        dtls_layer dtls; /* PETREL_DATAGRAM */
        tls_layer tls;   /* PETREL_STREAM */
    };
    int error; /* sticky: once failed, always failed */
    bool close_sent;
    bool close_received;
    void *app_data;      /* petrel_conn_set_app_data */
    uint8_t *readbuf;    /* one datagram, or a window of the stream */
    uint8_t *hello_ext;  /* HS_APP_EXT_MAX bytes, or NULL: hs.app_ext */
    cursor_reader input; /* datagram: what is left of it */
    size_t in_len;       /* stream: bytes held in readbuf */
    size_t in_pos;       /* stream: bytes of them already processed */
};

/* Releases everything conn/cert_config.c loaded into cfg. */
void conn_config_free_certs(petrel_config *cfg);

#endif
