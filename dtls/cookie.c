/* Stateless cookies. */
#include "dtls/cookie.h"

#include <string.h>

#include "common/cursor.h"

int dtls_cookie_make(const crypto_provider *prov, const uint8_t *secret, const uint8_t *peer,
                     size_t peer_len, const hs_client_hello *ch, uint8_t out[DTLS_COOKIE_LEN])
{
    uint8_t input[1 + DTLS_PEER_ID_MAX + 2 + HS_RANDOM_LEN + 1 + HS_SESSION_ID_MAX];
    cursor_writer w = cursor_writer_init(input, sizeof(input));
    if (peer_len > DTLS_PEER_ID_MAX || ch->session_id_len > HS_SESSION_ID_MAX)
        return PETREL_ERR_ARG;
    /* Each field with its length, so that no two different inputs give
     * the same bytes. Only the fields before the cookie are bound: they
     * sit in the first fragment of any ClientHello, so a ClientHello cut
     * into several records can still be answered without keeping state. */
    PETREL_TRY(cursor_write_vector(&w, 1, 0, DTLS_PEER_ID_MAX, peer, peer_len));
    PETREL_TRY(cursor_write_u16(&w, ch->version));
    PETREL_TRY(cursor_write_bytes(&w, ch->random, HS_RANDOM_LEN));
    PETREL_TRY(
        cursor_write_vector(&w, 1, 0, HS_SESSION_ID_MAX, ch->session_id, ch->session_id_len));
    return prov->hmac(CRYPTO_HASH_SHA256, secret, DTLS_COOKIE_SECRET_LEN, input, w.len, out);
}

int dtls_cookie_fields_read(cursor_reader *r, hs_client_hello *ch)
{
    const uint8_t *sid;
    size_t sid_len;
    memset(ch, 0, sizeof(*ch));
    PETREL_TRY(cursor_read_u16(r, &ch->version));
    PETREL_TRY(cursor_read_copy(r, ch->random, HS_RANDOM_LEN));
    PETREL_TRY(cursor_read_vector_view(r, 1, 0, HS_SESSION_ID_MAX, &sid, &sid_len));
    if (sid_len)
        memcpy(ch->session_id, sid, sid_len);
    ch->session_id_len = sid_len;
    return cursor_read_vector_view(r, 1, 0, HS_COOKIE_MAX, &ch->cookie, &ch->cookie_len);
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
