/* ServerHello (RFC 5246 §7.4.1.3).
 *
 *   struct {
 *       ProtocolVersion server_version;
 *       Random random;
 *       SessionID session_id;                       <0..32>
 *       CipherSuite cipher_suite;
 *       CompressionMethod compression_method;
 *       select (extensions_present) {
 *           case false: struct {};
 *           case true:  Extension extensions<0..2^16-1>;
 *       };
 *   } ServerHello;
 */
#include "handshake/messages.h"

#include <string.h>

int hs_server_hello_write(cursor_writer *w, const hs_server_hello *m)
{
    cursor_writer out = *w;
    PETREL_TRY(cursor_write_u16(&out, m->version));
    PETREL_TRY(cursor_write_bytes(&out, m->random, HS_RANDOM_LEN));
    PETREL_TRY(
        cursor_write_vector(&out, 1, 0, HS_SESSION_ID_MAX, m->session_id, m->session_id_len));
    PETREL_TRY(cursor_write_u16(&out, m->cipher_suite));
    PETREL_TRY(cursor_write_u8(&out, m->compression_method));
    if (m->has_extensions_block)
        PETREL_TRY(
            cursor_write_vector(&out, 2, 0, 0xFFFF, m->extensions_raw, m->extensions_raw_len));
    *w = out;
    return 0;
}

int hs_server_hello_read(cursor_reader *r, hs_server_hello *m)
{
    cursor_reader session_id, extensions;

    memset(m, 0, sizeof(*m));
    PETREL_TRY(cursor_read_u16(r, &m->version));
    PETREL_TRY(cursor_read_copy(r, m->random, HS_RANDOM_LEN));
    PETREL_TRY(cursor_read_vector(r, 1, 0, HS_SESSION_ID_MAX, &session_id));
    m->session_id_len = cursor_reader_remaining(&session_id);
    PETREL_TRY(cursor_read_copy(&session_id, m->session_id, m->session_id_len));
    PETREL_TRY(cursor_read_u16(r, &m->cipher_suite));
    PETREL_TRY(cursor_read_u8(r, &m->compression_method));
    /* petrel offers only null compression (RFC 5246 §7.4.1.3: the server
     * picks from the client's list). */
    if (m->compression_method != 0)
        return PETREL_ERR_ILLEGAL_PARAMETER;

    /* The extensions may be absent; nothing else may follow. */
    if (cursor_reader_remaining(r) > 0) {
        PETREL_TRY(cursor_read_vector(r, 2, 0, 0xFFFF, &extensions));
        m->has_extensions_block = true;
        m->extensions_raw = cursor_reader_ptr(&extensions);
        m->extensions_raw_len = cursor_reader_remaining(&extensions);
        PETREL_TRY(hs_extensions_read(&extensions, &m->extensions));
    }
    return cursor_reader_finish(r);
}
