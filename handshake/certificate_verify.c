/* CertificateVerify (RFC 5246 §7.4.8, with §4.7 digitally-signed).
 *
 *   struct {
 *       digitally-signed struct {                   the algorithm (2 bytes),
 *           opaque handshake_messages[handshake_messages_length];
 *       };                                          then opaque
 *   } CertificateVerify;                            signature<0..2^16-1>
 */
#include "handshake/messages.h"

#include <string.h>

int hs_certificate_verify_write(cursor_writer *w, const hs_certificate_verify *m)
{
    cursor_writer out = *w;
    PETREL_TRY(cursor_write_u16(&out, m->sig_scheme));
    PETREL_TRY(cursor_write_vector(&out, 2, 0, HS_SIGNATURE_MAX, m->signature, m->signature_len));
    *w = out;
    return 0;
}

int hs_certificate_verify_read(cursor_reader *r, hs_certificate_verify *m)
{
    memset(m, 0, sizeof(*m));
    PETREL_TRY(cursor_read_u16(r, &m->sig_scheme));
    PETREL_TRY(
        cursor_read_vector_view(r, 2, 0, HS_SIGNATURE_MAX, &m->signature, &m->signature_len));
    return cursor_reader_finish(r);
}
