/* Key exchange messages of the PSK (RFC 4279 §2) and ECDHE_PSK (RFC 5489
 * §2) suites. Neither is signed: the PSK authenticates the handshake.
 *
 *   struct {
 *       opaque psk_identity_hint<0..2^16-1>;
 *       ServerECDHParams params;                    ECDHE_PSK only
 *   } ServerKeyExchange;
 *
 *   struct {
 *       opaque psk_identity<0..2^16-1>;
 *       ClientECDiffieHellmanPublic public;         ECDHE_PSK only
 *   } ClientKeyExchange;
 *
 * ServerECDHParams (RFC 8422 §5.4) is curve_type named_curve(3), a
 * NamedCurve, and ECPoint point<1..2^8-1>; the client's public value is an
 * ECPoint too.
 */
#include "handshake/messages.h"

#define CURVE_TYPE_NAMED_CURVE 3 /* RFC 8422 §5.4; 1 and 2 are deprecated */
#define EC_POINT_MAX           0xFF

int hs_server_key_exchange_psk_write(cursor_writer *w, const hs_server_key_exchange_psk *m)
{
    cursor_writer out = *w;
    PETREL_TRY(cursor_write_vector(&out, 2, 0, HS_PSK_IDENTITY_MAX, m->identity_hint,
                                   m->identity_hint_len));
    if (m->ecdhe) {
        PETREL_TRY(cursor_write_u8(&out, CURVE_TYPE_NAMED_CURVE));
        PETREL_TRY(cursor_write_u16(&out, m->group));
        PETREL_TRY(cursor_write_vector(&out, 1, 1, EC_POINT_MAX, m->public_key, m->public_key_len));
    }
    *w = out;
    return 0;
}

int hs_server_key_exchange_psk_read(cursor_reader *r, hs_server_key_exchange_psk *m)
{
    PETREL_TRY(cursor_read_vector_view(r, 2, 0, HS_PSK_IDENTITY_MAX, &m->identity_hint,
                                       &m->identity_hint_len));
    m->group = 0;
    m->public_key = NULL;
    m->public_key_len = 0;
    if (m->ecdhe) {
        uint8_t curve_type;
        PETREL_TRY(cursor_read_u8(r, &curve_type));
        if (curve_type != CURVE_TYPE_NAMED_CURVE)
            return PETREL_ERR_ILLEGAL_PARAMETER;
        PETREL_TRY(cursor_read_u16(r, &m->group));
        PETREL_TRY(
            cursor_read_vector_view(r, 1, 1, EC_POINT_MAX, &m->public_key, &m->public_key_len));
    }
    return cursor_reader_finish(r);
}

int hs_client_key_exchange_psk_write(cursor_writer *w, const hs_client_key_exchange_psk *m)
{
    cursor_writer out = *w;
    PETREL_TRY(cursor_write_vector(&out, 2, 0, HS_PSK_IDENTITY_MAX, m->identity, m->identity_len));
    if (m->ecdhe)
        PETREL_TRY(cursor_write_vector(&out, 1, 1, EC_POINT_MAX, m->public_key, m->public_key_len));
    *w = out;
    return 0;
}

int hs_client_key_exchange_psk_read(cursor_reader *r, hs_client_key_exchange_psk *m)
{
    PETREL_TRY(
        cursor_read_vector_view(r, 2, 0, HS_PSK_IDENTITY_MAX, &m->identity, &m->identity_len));
    m->public_key = NULL;
    m->public_key_len = 0;
    if (m->ecdhe)
        PETREL_TRY(
            cursor_read_vector_view(r, 1, 1, EC_POINT_MAX, &m->public_key, &m->public_key_len));
    return cursor_reader_finish(r);
}
