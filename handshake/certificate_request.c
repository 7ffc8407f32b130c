/* CertificateRequest (RFC 5246 §7.4.4; RFC 8422 §5.5 adds ecdsa_sign).
 *
 *   struct {
 *       ClientCertificateType certificate_types<1..2^8-1>;
 *       SignatureAndHashAlgorithm
 *           supported_signature_algorithms<2..2^16-2>;
 *       DistinguishedName certificate_authorities<0..2^16-1>;
 *   } CertificateRequest;
 *
 *   opaque DistinguishedName<1..2^16-1>;
 */
#include "handshake/messages.h"

#include <string.h>

#define SIG_SCHEMES_MAX_BYTES 0xFFFE
#define AUTHORITIES_MAX       0xFFFF
#define DN_MAX                0xFFFF

/* Counts the DistinguishedNames in an authorities list body; the body must
 * split into them exactly. Any failure to do so is PETREL_ERR_LENGTH: the
 * list's own length disagrees with its entries. */
static int count_distinguished_names(const uint8_t *data, size_t len, size_t *count)
{
    cursor_reader r = cursor_reader_init(data, len);
    *count = 0;
    while (cursor_reader_remaining(&r) > 0) {
        const uint8_t *name;
        size_t name_len;
        if (cursor_read_vector_view(&r, 2, 1, DN_MAX, &name, &name_len) < 0)
            return PETREL_ERR_LENGTH;
        (*count)++;
    }
    return 0;
}

int hs_certificate_request_write(cursor_writer *w, const hs_certificate_request *m)
{
    size_t authority_count;
    if (m->sig_schemes.count > SIG_SCHEMES_MAX_BYTES / 2 || m->authorities_len > AUTHORITIES_MAX)
        return PETREL_ERR_LENGTH;
    /* Send only what a reader accepts. */
    PETREL_TRY(count_distinguished_names(m->authorities, m->authorities_len, &authority_count));

    cursor_writer out = *w;
    PETREL_TRY(cursor_write_vector(&out, 1, 1, 0xFF, m->cert_types, m->cert_types_len));
    PETREL_TRY(cursor_write_vector(&out, 2, 2, SIG_SCHEMES_MAX_BYTES, m->sig_schemes.data,
                                   2 * m->sig_schemes.count));
    PETREL_TRY(
        cursor_write_vector(&out, 2, 0, AUTHORITIES_MAX, m->authorities, m->authorities_len));
    *w = out;
    return 0;
}

int hs_certificate_request_read(cursor_reader *r, hs_certificate_request *m)
{
    const uint8_t *schemes;
    size_t schemes_len;

    memset(m, 0, sizeof(*m));
    PETREL_TRY(cursor_read_vector_view(r, 1, 1, 0xFF, &m->cert_types, &m->cert_types_len));
    PETREL_TRY(cursor_read_vector_view(r, 2, 2, SIG_SCHEMES_MAX_BYTES, &schemes, &schemes_len));
    if (schemes_len % 2 != 0)
        return PETREL_ERR_LENGTH; /* a SignatureAndHashAlgorithm is two bytes */
    m->sig_schemes.data = schemes;
    m->sig_schemes.count = schemes_len / 2;
    PETREL_TRY(
        cursor_read_vector_view(r, 2, 0, AUTHORITIES_MAX, &m->authorities, &m->authorities_len));
    PETREL_TRY(count_distinguished_names(m->authorities, m->authorities_len, &m->authority_count));
    return cursor_reader_finish(r);
}

int hs_distinguished_name_write(cursor_writer *w, const uint8_t *der, size_t len)
{
    return cursor_write_vector(w, 2, 1, DN_MAX, der, len);
}
