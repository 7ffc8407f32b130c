/* HelloVerifyRequest (RFC 6347 §4.2.1).
 *
 *   struct {
 *       ProtocolVersion server_version;
 *       opaque cookie<0..2^8-1>;
 *   } HelloVerifyRequest;
 */
#include "handshake/messages.h"

int hs_hello_verify_request_write(cursor_writer *w, const hs_hello_verify_request *m)
{
    cursor_writer out = *w;
    PETREL_TRY(cursor_write_u16(&out, m->version));
    PETREL_TRY(cursor_write_vector(&out, 1, 0, HS_COOKIE_MAX, m->cookie, m->cookie_len));
    *w = out;
    return 0;
}

int hs_hello_verify_request_read(cursor_reader *r, hs_hello_verify_request *m)
{
    PETREL_TRY(cursor_read_u16(r, &m->version));
    PETREL_TRY(cursor_read_vector_view(r, 1, 0, HS_COOKIE_MAX, &m->cookie, &m->cookie_len));
    return cursor_reader_finish(r);
}
