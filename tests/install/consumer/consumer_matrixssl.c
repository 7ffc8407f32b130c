/* An outside program written against the MatrixSSL API, built against an
 * installed petrel: it includes "matrixsslApi.h" as MatrixSSL programs
 * do, found through petrel::matrixssl or pkg-config's petrel-matrixssl. */
#include <stdio.h>

#include "matrixsslApi.h"

int main(void)
{
    sslKeys_t *keys = NULL;
    unsigned char key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    unsigned char id[] = "consumer";
    if (matrixSslOpen() != PS_SUCCESS || matrixSslNewKeys(&keys) != PS_SUCCESS) {
        printf("consumer_matrixssl: matrixSslOpen/matrixSslNewKeys failed\n");
        return 1;
    }
    int32 rc = matrixSslLoadPsk(keys, key, sizeof(key), id, sizeof(id) - 1);
    int32 bad = matrixSslLoadPsk(NULL, key, sizeof(key), id, sizeof(id) - 1);
    matrixSslDeleteKeys(keys);
    matrixSslClose();
    printf("consumer_matrixssl: matrixSslLoadPsk %d, with no keys %d\n", (int)rc, (int)bad);
    return rc == PS_SUCCESS && bad == PS_ARG_FAIL ? 0 : 1;
}
