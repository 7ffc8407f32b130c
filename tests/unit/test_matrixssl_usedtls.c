/*
 * Part of test_matrixssl: a file compiled with USE_DTLS, MatrixDTLS's
 * configuration name, so that its matrixSslNew*Session calls make DTLS
 * sessions.
 */
#define USE_DTLS
#include <matrixssl/matrixsslApi.h>

int32 usedtls_new_client(ssl_t **ssl, sslKeys_t *keys);
int32 usedtls_new_server(ssl_t **ssl, sslKeys_t *keys);

int32 usedtls_new_client(ssl_t **ssl, sslKeys_t *keys)
{
    return matrixSslNewClientSession(ssl, keys, NULL, 0, NULL, NULL, NULL);
}

int32 usedtls_new_server(ssl_t **ssl, sslKeys_t *keys)
{
    return matrixSslNewServerSession(ssl, keys, NULL);
}
