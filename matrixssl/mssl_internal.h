/*
 * What the MatrixSSL compatibility files share: the key structure behind
 * sslKeys_t, the certificate-callback trampoline, the psX509Cert_t builder
 * and the petrel-to-PS_* error mapping. Not installed.
 */
#ifndef PETREL_MATRIXSSL_MSSL_INTERNAL_H
#define PETREL_MATRIXSSL_MSSL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <matrixssl/matrixsslApi.h>
#include <petrel/petrel.h>

/*
 * sslKeys_t: one petrel_config, shared read-only by every connection made
 * from the keys. Nothing loaded into it is kept here: per-connection
 * choices (sslConnect's cipherSuite and certValidator) are set on the
 * connection itself (petrel_conn_set_suites, petrel_conn_set_cert_callback).
 */
struct sslKeys {
    petrel_config *cfg;
    const petrel_platform *platform; /* cfg's */
    bool credentials_loaded;         /* matrixSslLoadRsaKeys[Mem] succeeded once: MatrixSSL
                                        allows one call per keys */
};

/*
 * What a connection with a MatrixSSL validator passes as the ref of its
 * own certificate callback (mssl_cert_trampoline). The socket layer's
 * sslConn_t starts with one (and the session API's ssl_t will), each kind
 * plugging in the call that reaches its own validator's signature.
 */
typedef struct mssl_conn_base {
    /* Returns the verdict for petrel: 0, an alert, < 0, or
     * PETREL_CERT_ALLOW_ANON. */
    int (*verify)(struct mssl_conn_base *self, const petrel_cert_info *chain, size_t count,
                  int alert);
} mssl_conn_base;

/* A petrel_cert_verify_fn whose ref is an mssl_conn_base: install it with
 * petrel_conn_set_cert_callback on connections that have a validator, and
 * on no others, so that petrel's own verdict stands for them (and a
 * client offers certificate suites only when it has CAs or pinned keys). */
int mssl_cert_trampoline(void *ref, petrel_conn *conn, const petrel_cert_info *chain, size_t count,
                         int alert);

/* A petrel error as MatrixSSL's PS_* code. */
int mssl_ps_error(int err);

/* psX509Cert_t views of a peer's chain, in memory of their own. */
typedef struct mssl_certs {
    const petrel_platform *platform;
    psX509Cert_t *head;
    struct mssl_block *blocks;
} mssl_certs;

/* Builds the chain; returns a PS_* code (PS_MEM_FAIL). On failure nothing
 * is left to free. */
int mssl_certs_build(mssl_certs *out, const petrel_platform *p, const petrel_cert_info *chain,
                     size_t count);
void mssl_certs_free(mssl_certs *certs);

#endif
