/* ClientHello (RFC 5246 §7.4.1.2; RFC 6347 §4.2.1 adds the DTLS cookie).
 *
 *   struct {
 *       ProtocolVersion client_version;
 *       Random random;
 *       SessionID session_id;                       <0..32>
 *       opaque cookie<0..2^8-1>;                    DTLS only
 *       CipherSuite cipher_suites<2..2^16-2>;
 *       CompressionMethod compression_methods<1..2^8-1>;
 *       select (extensions_present) {
 *           case false: struct {};
 *           case true:  Extension extensions<0..2^16-1>;
 *       };
 *   } ClientHello;
 */
#include "handshake/messages.h"

#include <string.h>

#define CIPHER_SUITES_MAX_BYTES 0xFFFE

int hs_client_hello_write(cursor_writer *w, const hs_client_hello *m, bool dtls)
{
    if (m->cipher_suites.count > CIPHER_SUITES_MAX_BYTES / 2)
        return PETREL_ERR_LENGTH;
    cursor_writer out = *w;
    PETREL_TRY(cursor_write_u16(&out, m->version));
    PETREL_TRY(cursor_write_bytes(&out, m->random, HS_RANDOM_LEN));
    PETREL_TRY(
        cursor_write_vector(&out, 1, 0, HS_SESSION_ID_MAX, m->session_id, m->session_id_len));
    if (dtls)
        PETREL_TRY(cursor_write_vector(&out, 1, 0, HS_COOKIE_MAX, m->cookie, m->cookie_len));
    PETREL_TRY(cursor_write_vector(&out, 2, 2, CIPHER_SUITES_MAX_BYTES, m->cipher_suites.data,
                                   2 * m->cipher_suites.count));
    PETREL_TRY(
        cursor_write_vector(&out, 1, 1, 0xFF, m->compression_methods, m->compression_methods_len));
    if (m->has_extensions_block)
        PETREL_TRY(
            cursor_write_vector(&out, 2, 0, 0xFFFF, m->extensions_raw, m->extensions_raw_len));
    *w = out;
    return 0;
}

int hs_client_hello_read(cursor_reader *r, hs_client_hello *m, bool dtls)
{
    cursor_reader session_id, extensions;
    const uint8_t *suites;
    size_t suites_len;

    memset(m, 0, sizeof(*m));
    PETREL_TRY(cursor_read_u16(r, &m->version));
    PETREL_TRY(cursor_read_copy(r, m->random, HS_RANDOM_LEN));
    PETREL_TRY(cursor_read_vector(r, 1, 0, HS_SESSION_ID_MAX, &session_id));
    m->session_id_len = cursor_reader_remaining(&session_id);
    PETREL_TRY(cursor_read_copy(&session_id, m->session_id, m->session_id_len));
    if (dtls)
        PETREL_TRY(cursor_read_vector_view(r, 1, 0, HS_COOKIE_MAX, &m->cookie, &m->cookie_len));

    PETREL_TRY(cursor_read_vector_view(r, 2, 2, CIPHER_SUITES_MAX_BYTES, &suites, &suites_len));
    if (suites_len % 2 != 0)
        return PETREL_ERR_LENGTH; /* a CipherSuite is two bytes */
    m->cipher_suites.data = suites;
    m->cipher_suites.count = suites_len / 2;

    PETREL_TRY(cursor_read_vector_view(r, 1, 1, 0xFF, &m->compression_methods,
                                       &m->compression_methods_len));
    /* §7.4.1.2: the list MUST include null compression. */
    if (memchr(m->compression_methods, 0, m->compression_methods_len) == NULL)
        return PETREL_ERR_ILLEGAL_PARAMETER;

    /* §7.4.1.2: the extensions may be absent; nothing else may follow. */
    if (cursor_reader_remaining(r) > 0) {
        PETREL_TRY(cursor_read_vector(r, 2, 0, 0xFFFF, &extensions));
        m->has_extensions_block = true;
        m->extensions_raw = cursor_reader_ptr(&extensions);
        m->extensions_raw_len = cursor_reader_remaining(&extensions);
        PETREL_TRY(hs_extensions_read(&extensions, &m->extensions));
    }
    return cursor_reader_finish(r);
}
