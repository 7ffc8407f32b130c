/* Certificate (RFC 5246 §7.4.2), and its RawPublicKey form (RFC 7250 §3).
 *
 *   opaque ASN.1Cert<1..2^24-1>;
 *   struct {
 *       ASN.1Cert certificate_list<0..2^24-1>;
 *   } Certificate;
 *
 * With the RawPublicKey certificate type negotiated the body is instead
 *
 *   opaque ASN.1_subjectPublicKeyInfo<1..2^24-1>;
 *
 * with no list around it. Neither form's DER is parsed here: the crypto
 * provider does that.
 */
#include "handshake/messages.h"

#define CERT_LIST_MAX 0xFFFFFF /* certificate_list<0..2^24-1> */

int hs_certificate_write(cursor_writer *w, const hs_certificate *m)
{
    cursor_writer out = *w;
    if (m->raw_public_key) {
        if (m->count != 1)
            return PETREL_ERR_LENGTH; /* RFC 7250 §3: exactly one key */
        PETREL_TRY(cursor_write_vector(&out, 3, 1, HS_CERT_MAX, m->certs[0], m->lens[0]));
    } else {
        if (m->count > HS_MAX_CHAIN)
            return PETREL_ERR_LENGTH; /* also keeps certs[] / lens[] in bounds */
        cursor_vector list;
        PETREL_TRY(cursor_vector_open(&out, 3, &list));
        for (size_t i = 0; i < m->count; i++)
            PETREL_TRY(cursor_write_vector(&out, 3, 1, HS_CERT_MAX, m->certs[i], m->lens[i]));
        PETREL_TRY(cursor_vector_close(&out, &list, 0, CERT_LIST_MAX));
    }
    *w = out;
    return 0;
}

int hs_certificate_read(cursor_reader *r, hs_certificate *m)
{
    m->count = 0;
    if (m->raw_public_key) {
        PETREL_TRY(cursor_read_vector_view(r, 3, 1, HS_CERT_MAX, &m->certs[0], &m->lens[0]));
        m->count = 1;
        return cursor_reader_finish(r);
    }

    cursor_reader list;
    PETREL_TRY(cursor_read_vector(r, 3, 0, CERT_LIST_MAX, &list));
    while (cursor_reader_remaining(&list) > 0) {
        /* Stop at the limit before parsing further: a longer chain is
         * refused whatever follows. */
        if (m->count == HS_MAX_CHAIN)
            return PETREL_ERR_LIMIT;
        PETREL_TRY(cursor_read_vector_view(&list, 3, 1, HS_CERT_MAX, &m->certs[m->count],
                                           &m->lens[m->count]));
        m->count++;
    }
    return cursor_reader_finish(r);
}
