/* Hello extensions (RFC 5246 §7.4.1.4): the block reader, the decoders of
 * the extensions petrel understands, and their writers.
 *
 *   struct {
 *       ExtensionType extension_type;
 *       opaque extension_data<0..2^16-1>;
 *   } Extension;
 */
#include "handshake/messages.h"

#include <string.h>

uint16_t hs_u16_list_get(const hs_u16_list *list, size_t i)
{
    cursor_reader r = cursor_reader_init(list->data, 2 * list->count);
    uint16_t value = 0;
    if (i >= list->count || cursor_skip(&r, 2 * i) < 0 || cursor_read_u16(&r, &value) < 0)
        return 0; /* precondition broken: i < count */
    return value;
}

bool hs_u16_list_contains(const hs_u16_list *list, uint16_t value)
{
    for (size_t i = 0; i < list->count; i++) {
        if (hs_u16_list_get(list, i) == value)
            return true;
    }
    return false;
}

/* A vector of 16-bit values with a u16 length prefix in [min, max]; its
 * length must be even (a whole number of values). */
static int read_u16_list(cursor_reader *r, size_t min, size_t max, hs_u16_list *out)
{
    const uint8_t *data;
    size_t len;
    PETREL_TRY(cursor_read_vector_view(r, 2, min, max, &data, &len));
    if (len % 2 != 0)
        return PETREL_ERR_LENGTH;
    out->data = data;
    out->count = len / 2;
    return 0;
}

/* Decodes the body of one known extension into out; body must be consumed
 * exactly. Unknown types are left raw. */
static int decode_extension(uint16_t type, cursor_reader *body, hs_extensions *out)
{
    switch (type) {
    case HS_EXT_RENEGOTIATION_INFO: /* RFC 5746 §3.2 */
        PETREL_TRY(cursor_read_vector_view(body, 1, 0, 255, &out->renegotiation_info,
                                           &out->renegotiation_info_len));
        out->has_renegotiation_info = true;
        break;
    case HS_EXT_EXTENDED_MASTER_SECRET: /* RFC 7627 §5.1: extension_data is empty */
        if (cursor_reader_remaining(body) != 0)
            return PETREL_ERR_LENGTH;
        out->has_extended_master_secret = true;
        break;
    case HS_EXT_SUPPORTED_GROUPS: /* RFC 8422 §5.1.1: named_curve_list<2..2^16-1> */
        PETREL_TRY(read_u16_list(body, 2, 0xFFFF, &out->supported_groups));
        out->has_supported_groups = true;
        break;
    case HS_EXT_EC_POINT_FORMATS: /* RFC 8422 §5.1.2: ec_point_format_list<1..2^8-1> */
        PETREL_TRY(cursor_read_vector_view(body, 1, 1, 0xFF, &out->ec_point_formats,
                                           &out->ec_point_formats_len));
        out->has_ec_point_formats = true;
        break;
    case HS_EXT_SIGNATURE_ALGORITHMS: /* RFC 5246 §7.4.1.4.1: <2..2^16-2> */
        PETREL_TRY(read_u16_list(body, 2, 0xFFFE, &out->signature_algorithms));
        out->has_signature_algorithms = true;
        break;
    default:
        return 0;
    }
    return cursor_reader_finish(body);
}

int hs_extensions_read(cursor_reader *r, hs_extensions *out)
{
    memset(out, 0, sizeof(*out));
    while (cursor_reader_remaining(r) > 0) {
        hs_extension ext;
        cursor_reader body;
        PETREL_TRY(cursor_read_u16(r, &ext.type));
        PETREL_TRY(cursor_read_vector(r, 2, 0, 0xFFFF, &body));
        ext.data = cursor_reader_ptr(&body);
        ext.len = cursor_reader_remaining(&body);

        if (out->count == HS_MAX_EXTENSIONS)
            return PETREL_ERR_LIMIT;
        /* RFC 5246 §7.4.1.4: no more than one extension of the same type. */
        for (size_t i = 0; i < out->count; i++) {
            if (out->list[i].type == ext.type)
                return PETREL_ERR_ILLEGAL_PARAMETER;
        }
        PETREL_TRY(decode_extension(ext.type, &body, out));
        out->list[out->count++] = ext;
    }
    return 0;
}

/* ---- writers: each appends type, u16 length and body, or nothing ---- */

int hs_ext_write_renegotiation_info(cursor_writer *w, const uint8_t *data, size_t len)
{
    cursor_writer out = *w;
    cursor_vector body;
    PETREL_TRY(cursor_write_u16(&out, HS_EXT_RENEGOTIATION_INFO));
    PETREL_TRY(cursor_vector_open(&out, 2, &body));
    PETREL_TRY(cursor_write_vector(&out, 1, 0, 255, data, len)); /* RFC 5746 §3.2 */
    PETREL_TRY(cursor_vector_close(&out, &body, 0, 0xFFFF));
    *w = out;
    return 0;
}

int hs_ext_write_empty(cursor_writer *w, uint16_t type)
{
    cursor_writer out = *w;
    PETREL_TRY(cursor_write_u16(&out, type));
    PETREL_TRY(cursor_write_u16(&out, 0));
    *w = out;
    return 0;
}

int hs_ext_write_u16_list(cursor_writer *w, uint16_t type, const uint16_t *values, size_t count)
{
    /* supported_groups <2..2^16-1>, signature_algorithms <2..2^16-2>; the
     * list must also leave room for its own prefix in extension_data. */
    if (count == 0 || count > (0xFFFF - 2) / 2)
        return PETREL_ERR_LENGTH;
    cursor_writer out = *w;
    cursor_vector body, list;
    PETREL_TRY(cursor_write_u16(&out, type));
    PETREL_TRY(cursor_vector_open(&out, 2, &body));
    PETREL_TRY(cursor_vector_open(&out, 2, &list));
    for (size_t i = 0; i < count; i++)
        PETREL_TRY(cursor_write_u16(&out, values[i]));
    PETREL_TRY(cursor_vector_close(&out, &list, 2, 0xFFFE));
    PETREL_TRY(cursor_vector_close(&out, &body, 0, 0xFFFF));
    *w = out;
    return 0;
}

int hs_ext_write_ec_point_formats(cursor_writer *w)
{
    /* RFC 8422 §5.1.2: uncompressed(0) is the only format. */
    static const uint8_t uncompressed_only[] = {0};
    cursor_writer out = *w;
    cursor_vector body;
    PETREL_TRY(cursor_write_u16(&out, HS_EXT_EC_POINT_FORMATS));
    PETREL_TRY(cursor_vector_open(&out, 2, &body));
    PETREL_TRY(cursor_write_vector(&out, 1, 1, 0xFF, uncompressed_only, sizeof(uncompressed_only)));
    PETREL_TRY(cursor_vector_close(&out, &body, 0, 0xFFFF));
    *w = out;
    return 0;
}

/*
 * server_name (RFC 6066 §3):
 *
 *   struct {
 *       NameType name_type;                         host_name(0)
 *       select (name_type) {
 *           case host_name: HostName;               opaque<1..2^16-1>
 *       } name;
 *   } ServerName;
 *
 *   struct {
 *       ServerName server_name_list<1..2^16-1>
 *   } ServerNameList;
 */
#define SERVER_NAME_LIST_MAX 0xFFFF
#define SERVER_NAME_MAX      0xFFFF

int hs_ext_write_server_name(cursor_writer *w, const char *name, size_t len)
{
    /* RFC 6066 §3: a server that used the name answers with an empty
     * extension_data. */
    if (name == NULL && len == 0)
        return hs_ext_write_empty(w, HS_EXT_SERVER_NAME);
    if (len == 0 || len > HS_HOST_NAME_MAX)
        return PETREL_ERR_LENGTH;
    if (name == NULL)
        return PETREL_ERR_ARG;
    cursor_writer out = *w;
    cursor_vector body, list;
    PETREL_TRY(cursor_write_u16(&out, HS_EXT_SERVER_NAME));
    PETREL_TRY(cursor_vector_open(&out, 2, &body));
    PETREL_TRY(cursor_vector_open(&out, 2, &list));
    PETREL_TRY(cursor_write_u8(&out, HS_SNI_HOST_NAME));
    PETREL_TRY(cursor_write_vector(&out, 2, 1, SERVER_NAME_MAX, name, len));
    PETREL_TRY(cursor_vector_close(&out, &list, 1, SERVER_NAME_LIST_MAX));
    PETREL_TRY(cursor_vector_close(&out, &body, 0, 0xFFFF));
    *w = out;
    return 0;
}

int hs_ext_read_server_name(const hs_extension *ext, const uint8_t **name, size_t *len)
{
    cursor_reader body = cursor_reader_init(ext->data, ext->len);
    cursor_reader list;
    const uint8_t *host = NULL;
    size_t host_len = 0;
    bool found = false;

    *name = NULL;
    *len = 0;
    PETREL_TRY(cursor_read_vector(&body, 2, 1, SERVER_NAME_LIST_MAX, &list));
    while (cursor_reader_remaining(&list) > 0) {
        uint8_t type;
        const uint8_t *data;
        size_t data_len;
        PETREL_TRY(cursor_read_u8(&list, &type));
        if (type != HS_SNI_HOST_NAME) {
            /* Other name types are skipped; their bodies are opaque
             * <1..2^16-1> like HostName. */
            PETREL_TRY(cursor_read_vector_view(&list, 2, 1, SERVER_NAME_MAX, &data, &data_len));
            continue;
        }
        /* An empty HostName is a well-formed vector with a forbidden
         * value here: read it with no minimum and refuse it below. */
        PETREL_TRY(cursor_read_vector_view(&list, 2, 0, SERVER_NAME_MAX, &data, &data_len));
        /* RFC 6066 §3: no more than one name of the same name_type. */
        if (found || data_len == 0 || data_len > HS_HOST_NAME_MAX)
            return PETREL_ERR_ILLEGAL_PARAMETER;
        found = true;
        host = data;
        host_len = data_len;
    }
    PETREL_TRY(cursor_reader_finish(&body));
    *name = host;
    *len = host_len;
    return 0;
}

int hs_ext_read_empty(const hs_extension *ext)
{
    /* As for extended_master_secret: the extension_data length is outside
     * its only allowed value, 0. */
    return ext->len == 0 ? 0 : PETREL_ERR_LENGTH;
}

/*
 * client_certificate_type / server_certificate_type (RFC 7250 §4):
 *
 *   struct {
 *       select(ClientOrServerExtension) {
 *           case client:
 *               CertificateType certificate_types<1..2^8-1>;
 *           case server:
 *               CertificateType certificate_type;
 *       }
 *   } ClientOrServerCertType;
 */
int hs_ext_write_cert_types(cursor_writer *w, uint16_t ext_type, const uint8_t *types, size_t count,
                            bool single)
{
    bool count_ok = single ? count == 1 : count >= 1 && count <= 0xFF;
    if (!count_ok)
        return PETREL_ERR_LENGTH;
    cursor_writer out = *w;
    cursor_vector body;
    PETREL_TRY(cursor_write_u16(&out, ext_type));
    PETREL_TRY(cursor_vector_open(&out, 2, &body));
    if (single)
        PETREL_TRY(cursor_write_u8(&out, types[0]));
    else
        PETREL_TRY(cursor_write_vector(&out, 1, 1, 0xFF, types, count));
    PETREL_TRY(cursor_vector_close(&out, &body, 0, 0xFFFF));
    *w = out;
    return 0;
}

int hs_ext_read_cert_type_list(const hs_extension *ext, const uint8_t **types, size_t *count)
{
    cursor_reader body = cursor_reader_init(ext->data, ext->len);
    const uint8_t *list;
    size_t list_len;
    *types = NULL;
    *count = 0;
    PETREL_TRY(cursor_read_vector_view(&body, 1, 1, 0xFF, &list, &list_len));
    PETREL_TRY(cursor_reader_finish(&body));
    *types = list;
    *count = list_len;
    return 0;
}

int hs_ext_read_cert_type(const hs_extension *ext, uint8_t *type)
{
    cursor_reader body = cursor_reader_init(ext->data, ext->len);
    uint8_t value;
    PETREL_TRY(cursor_read_u8(&body, &value));
    PETREL_TRY(cursor_reader_finish(&body));
    *type = value;
    return 0;
}

const hs_extension *hs_extensions_find(const hs_extensions *ext, uint16_t type)
{
    for (size_t i = 0; i < ext->count; i++) {
        if (ext->list[i].type == type)
            return &ext->list[i];
    }
    return NULL;
}
