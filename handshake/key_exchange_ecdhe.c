/* Key exchange messages of the ECDHE_ECDSA and ECDHE_RSA suites (RFC 8422
 * §5.4 and §5.7; RFC 5246 §7.4.3 and §4.7 for the signature).
 *
 *   struct {
 *       ECCurveType curve_type;                     named_curve(3) only
 *       NamedCurve namedcurve;
 *       ECPoint point;                              opaque point<1..2^8-1>
 *   } ServerECDHParams;
 *
 *   struct {
 *       ServerECDHParams params;
 *       digitally-signed struct {                   the algorithm (2 bytes),
 *           opaque client_random[32];               then opaque
 *           opaque server_random[32];               signature<0..2^16-1>
 *           ServerECDHParams params;
 *       } signed_params;
 *   } ServerKeyExchange;
 *
 *   struct {
 *       ECPoint ecdh_Yc;                            opaque<1..2^8-1>
 *   } ClientECDiffieHellmanPublic;
 *
 * Only the algorithm and the signature bytes travel; what was signed is
 * rebuilt by the handshake from the randoms and the params as received.
 */
#include "handshake/messages.h"

#include <string.h>

#define EC_POINT_MAX 0xFF

int hs_ecdh_params_write(cursor_writer *w, uint16_t group, const uint8_t *public_key,
                         size_t public_key_len)
{
    cursor_writer out = *w;
    PETREL_TRY(cursor_write_u8(&out, HS_NAMED_CURVE));
    PETREL_TRY(cursor_write_u16(&out, group));
    PETREL_TRY(cursor_write_vector(&out, 1, 1, EC_POINT_MAX, public_key, public_key_len));
    *w = out;
    return 0;
}

int hs_server_key_exchange_ecdhe_write(cursor_writer *w, const hs_server_key_exchange_ecdhe *m)
{
    cursor_writer out = *w;
    PETREL_TRY(hs_ecdh_params_write(&out, m->group, m->public_key, m->public_key_len));
    PETREL_TRY(cursor_write_u16(&out, m->sig_scheme));
    PETREL_TRY(cursor_write_vector(&out, 2, 0, HS_SIGNATURE_MAX, m->signature, m->signature_len));
    *w = out;
    return 0;
}

int hs_server_key_exchange_ecdhe_read(cursor_reader *r, hs_server_key_exchange_ecdhe *m)
{
    uint8_t curve_type;
    memset(m, 0, sizeof(*m));

    /* The params are signed as they were sent: keep a view of them. */
    const uint8_t *params = cursor_reader_ptr(r);
    size_t before = cursor_reader_remaining(r);
    PETREL_TRY(cursor_read_u8(r, &curve_type));
    /* RFC 8422 §5.4: explicit_prime(1) and explicit_char2(2) are deprecated
     * and petrel offers neither. */
    if (curve_type != HS_NAMED_CURVE)
        return PETREL_ERR_ILLEGAL_PARAMETER;
    PETREL_TRY(cursor_read_u16(r, &m->group));
    PETREL_TRY(cursor_read_vector_view(r, 1, 1, EC_POINT_MAX, &m->public_key, &m->public_key_len));
    m->params = params;
    m->params_len = before - cursor_reader_remaining(r);

    PETREL_TRY(cursor_read_u16(r, &m->sig_scheme));
    PETREL_TRY(
        cursor_read_vector_view(r, 2, 0, HS_SIGNATURE_MAX, &m->signature, &m->signature_len));
    return cursor_reader_finish(r);
}

int hs_client_key_exchange_ecdhe_write(cursor_writer *w, const uint8_t *public_key,
                                       size_t public_key_len)
{
    return cursor_write_vector(w, 1, 1, EC_POINT_MAX, public_key, public_key_len);
}

int hs_client_key_exchange_ecdhe_read(cursor_reader *r, const uint8_t **public_key,
                                      size_t *public_key_len)
{
    PETREL_TRY(cursor_read_vector_view(r, 1, 1, EC_POINT_MAX, public_key, public_key_len));
    return cursor_reader_finish(r);
}
