/* Stateless cookies. */
#include "dtls/cookie.h"

#include <string.h>

int dtls_cookie_make(const crypto_provider *prov, const uint8_t *secret, const uint8_t *peer,
                     size_t peer_len, const hs_client_hello *ch, uint8_t out[DTLS_COOKIE_LEN])
{
    const crypto_hash_alg *sha256 = prov->hash(CRYPTO_HASH_SHA256);
    crypto_hash_ctx *h;
    uint8_t input[1 + DTLS_PEER_ID_MAX + 32];
    uint8_t version[2] = {(uint8_t)(ch->version >> 8), (uint8_t)ch->version};
    uint8_t sid_len = (uint8_t)ch->session_id_len;
    uint8_t comp_len = (uint8_t)ch->compression_methods_len;
    if (peer_len > DTLS_PEER_ID_MAX)
        return PETREL_ERR_ARG;

    /* Client-Parameters: each field with its length, so that no two
     * different hellos hash the same. */
    PETREL_TRY(sha256->ctx_new(sha256, &h));
    int rc = sha256->update(h, version, 2);
    if (rc == 0)
        rc = sha256->update(h, ch->random, HS_RANDOM_LEN);
    if (rc == 0)
        rc = sha256->update(h, &sid_len, 1);
    if (rc == 0)
        rc = sha256->update(h, ch->session_id, ch->session_id_len);
    uint8_t suites_len[2] = {(uint8_t)(2 * ch->cipher_suites.count >> 8),
                             (uint8_t)(2 * ch->cipher_suites.count)};
    if (rc == 0)
        rc = sha256->update(h, suites_len, 2);
    if (rc == 0)
        rc = sha256->update(h, ch->cipher_suites.data, 2 * ch->cipher_suites.count);
    if (rc == 0)
        rc = sha256->update(h, &comp_len, 1);
    if (rc == 0)
        rc = sha256->update(h, ch->compression_methods, ch->compression_methods_len);
    if (rc == 0)
        rc = sha256->final(h, input + 1 + peer_len);
    crypto_hash_free(h);
    PETREL_TRY(rc);

    input[0] = (uint8_t)peer_len;
    if (peer_len)
        memcpy(input + 1, peer, peer_len);
    return prov->hmac(CRYPTO_HASH_SHA256, secret, DTLS_COOKIE_SECRET_LEN, input, 1 + peer_len + 32,
                      out);
}

int dtls_cookie_verify(const crypto_provider *prov, const dtls_cookie_secrets *secrets,
                       const uint8_t *peer, size_t peer_len, const hs_client_hello *ch)
{
    uint8_t expected[DTLS_COOKIE_LEN];
    if (ch->cookie_len != DTLS_COOKIE_LEN)
        return PETREL_ERR_ILLEGAL_PARAMETER;
    PETREL_TRY(dtls_cookie_make(prov, secrets->current, peer, peer_len, ch, expected));
    if (prov->ct_equal(expected, ch->cookie, DTLS_COOKIE_LEN))
        return 0;
    if (secrets->has_previous) {
        PETREL_TRY(dtls_cookie_make(prov, secrets->previous, peer, peer_len, ch, expected));
        if (prov->ct_equal(expected, ch->cookie, DTLS_COOKIE_LEN))
            return 0;
    }
    return PETREL_ERR_ILLEGAL_PARAMETER;
}
