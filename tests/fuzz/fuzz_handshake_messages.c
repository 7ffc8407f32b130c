/*
 * libFuzzer target for the handshake message codecs (handshake/messages.h).
 *
 * The first input byte (modulo CODEC_COUNT) picks the codec; the rest is
 * the message body it reads:
 *
 *    0 ClientHello (TLS layout)       11 Certificate (X.509 chain)
 *    1 ClientHello (DTLS, cookie)     12 Certificate (RawPublicKey)
 *    2 ServerHello                    13 ServerKeyExchange, ECDHE (signed)
 *    3 HelloVerifyRequest             14 ClientKeyExchange, ECDHE
 *    4 ServerKeyExchange, PSK         15 CertificateRequest
 *    5 ServerKeyExchange, ECDHE_PSK   16 CertificateVerify
 *    6 ClientKeyExchange, PSK         17 server_name extension_data
 *    7 ClientKeyExchange, ECDHE_PSK   18 certificate type list extension_data
 *    8 Finished                       19 single certificate type extension_data
 *    9 ServerHelloDone                20 empty extension_data
 *   10 an extensions block body
 *
 * Checks: a reader fails only with a decode error (_TRUNCATED, _LENGTH,
 * _TRAILING_DATA, _ILLEGAL_PARAMETER, and _LIMIT for too many
 * extensions or certificates); on success it consumed the body exactly,
 * every view points inside the input, and the fields keep their bounds
 * (session id <= 32, compression methods include null, the has_* flags of
 * the extensions match the raw list, no extension type twice, at most
 * HS_MAX_CHAIN certificates, the ServerECDHParams view is the input's
 * first bytes, the DistinguishedName count matches the list, ...). The
 * parsed message is then written back with the matching _write: the
 * codecs are canonical, so the output must equal the input byte for byte,
 * and reading the output again must give the same fields. A writer given
 * one byte less than it needs fails with _BUFFER_TOO_SMALL and leaves the
 * writer unchanged. The extensions block has no writer of its own: it is
 * rebuilt from the hs_ext_write_* writers (raw type + body for the others)
 * and compared; hs_extensions_find finds each of its extensions, and the
 * server_name and certificate type extensions in it also go through the
 * checks of codecs 17-19. Those decoders return a view (the host name, the
 * type list) or a value: where the body holds nothing else (one host_name
 * entry; any type list; one type), writing the result back with
 * hs_ext_write_server_name / hs_ext_write_cert_types gives the extension
 * with exactly that body.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handshake/messages.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
    CODEC_CLIENT_HELLO_TLS,
    CODEC_CLIENT_HELLO_DTLS,
    CODEC_SERVER_HELLO,
    CODEC_HELLO_VERIFY_REQUEST,
    CODEC_SERVER_KEY_EXCHANGE_PSK,
    CODEC_SERVER_KEY_EXCHANGE_ECDHE,
    CODEC_CLIENT_KEY_EXCHANGE_PSK,
    CODEC_CLIENT_KEY_EXCHANGE_ECDHE,
    CODEC_FINISHED,
    CODEC_SERVER_HELLO_DONE,
    CODEC_EXTENSIONS,
    CODEC_CERTIFICATE,
    CODEC_CERTIFICATE_RPK,
    CODEC_SERVER_KEY_EXCHANGE_SIGNED,
    CODEC_CLIENT_KEY_EXCHANGE_EC,
    CODEC_CERTIFICATE_REQUEST,
    CODEC_CERTIFICATE_VERIFY,
    CODEC_EXT_SERVER_NAME,
    CODEC_EXT_CERT_TYPE_LIST,
    CODEC_EXT_CERT_TYPE,
    CODEC_EXT_EMPTY,
    CODEC_COUNT
};

/* ---- helpers ---- */

/* [p, p + n) lies inside [base, base + len). */
static bool inside(const uint8_t *p, size_t n, const uint8_t *base, size_t len)
{
    if (n == 0)
        return true;
    return p != NULL && p >= base && n <= len && (size_t)(p - base) <= len - n;
}

static bool same_bytes(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    return a_len == b_len && (a_len == 0 || memcmp(a, b, a_len) == 0);
}

static bool same_list(const hs_u16_list *a, const hs_u16_list *b)
{
    return same_bytes(a->data, 2 * a->count, b->data, 2 * b->count);
}

static void check_read_error(int rc)
{
    FUZZ_CHECK(rc == PETREL_ERR_TRUNCATED || rc == PETREL_ERR_LENGTH ||
               rc == PETREL_ERR_TRAILING_DATA || rc == PETREL_ERR_ILLEGAL_PARAMETER ||
               rc == PETREL_ERR_LIMIT);
}

/* ---- extensions whose layout depends on the message ---- */

/* What an extension decoder returned, to be written back. */
typedef struct decoded_extension {
    uint16_t type;
    const uint8_t *data; /* the host name (NULL: the empty form) or the types */
    size_t len;
    bool single; /* certificate type: a ServerHello's one type */
} decoded_extension;

static int write_decoded(cursor_writer *w, const decoded_extension *d)
{
    if (d->type == HS_EXT_SERVER_NAME)
        return hs_ext_write_server_name(w, (const char *)d->data, d->len);
    return hs_ext_write_cert_types(w, d->type, d->data, d->len, d->single);
}

/* Writing d back into exactly 4 + len bytes gives type, len, then body;
 * one byte less fails and writes nothing. */
static void check_rewrite(const decoded_extension *d, const uint8_t *body, size_t len)
{
    size_t want = 4 + len;
    uint8_t *out = malloc(want);
    FUZZ_CHECK(out != NULL);
    cursor_writer w = cursor_writer_init(out, want);
    FUZZ_CHECK(write_decoded(&w, d) == 0 && w.len == want);
    FUZZ_CHECK(out[0] == (uint8_t)(d->type >> 8) && out[1] == (uint8_t)d->type);
    FUZZ_CHECK(out[2] == (uint8_t)(len >> 8) && out[3] == (uint8_t)len);
    FUZZ_CHECK(len == 0 || memcmp(out + 4, body, len) == 0);
    w = cursor_writer_init(out, want - 1);
    FUZZ_CHECK(write_decoded(&w, d) == PETREL_ERR_BUFFER_TOO_SMALL && w.len == 0);
    free(out);
}

/* One extension_data body through the decoder codec picks. */
static void check_extension_decoder(int codec, const uint8_t *body, size_t len)
{
    hs_extension ext = {0, body, len};
    switch (codec) {
    case CODEC_EXT_SERVER_NAME: {
        ext.type = HS_EXT_SERVER_NAME;
        const uint8_t *name = body;
        size_t name_len = 1;
        int rc = hs_ext_read_server_name(&ext, &name, &name_len);
        if (rc < 0) {
            check_read_error(rc);
            FUZZ_CHECK(rc != PETREL_ERR_LIMIT && name == NULL && name_len == 0);
            return;
        }
        FUZZ_CHECK(rc == 0 && len >= 2 + 3);
        if (name == NULL) {
            FUZZ_CHECK(name_len == 0);
            return;
        }
        FUZZ_CHECK(name_len >= 1 && name_len <= HS_HOST_NAME_MAX &&
                   inside(name, name_len, body, len));
        if (len == 2 + 3 + name_len) {
            /* The one entry: our writer gives this very body. */
            FUZZ_CHECK(name == body + 5);
            decoded_extension d = {HS_EXT_SERVER_NAME, name, name_len, false};
            check_rewrite(&d, body, len);
        }
        return;
    }
    case CODEC_EXT_CERT_TYPE_LIST: {
        ext.type = HS_EXT_CLIENT_CERTIFICATE_TYPE;
        const uint8_t *types = body;
        size_t count = 1;
        int rc = hs_ext_read_cert_type_list(&ext, &types, &count);
        if (rc < 0) {
            check_read_error(rc);
            FUZZ_CHECK(rc != PETREL_ERR_LIMIT && rc != PETREL_ERR_ILLEGAL_PARAMETER);
            FUZZ_CHECK(types == NULL && count == 0);
            return;
        }
        FUZZ_CHECK(rc == 0 && count >= 1 && count <= 255 && len == 1 + count);
        FUZZ_CHECK(types == body + 1);
        decoded_extension d = {HS_EXT_CLIENT_CERTIFICATE_TYPE, types, count, false};
        check_rewrite(&d, body, len);
        return;
    }
    case CODEC_EXT_CERT_TYPE: {
        ext.type = HS_EXT_SERVER_CERTIFICATE_TYPE;
        uint8_t type = 0;
        int rc = hs_ext_read_cert_type(&ext, &type);
        if (rc < 0) {
            FUZZ_CHECK(rc == (len == 0 ? PETREL_ERR_TRUNCATED : PETREL_ERR_TRAILING_DATA));
            FUZZ_CHECK(len != 1 && type == 0);
            return;
        }
        FUZZ_CHECK(rc == 0 && len == 1 && type == body[0]);
        decoded_extension d = {HS_EXT_SERVER_CERTIFICATE_TYPE, &type, 1, true};
        check_rewrite(&d, body, len);
        return;
    }
    case CODEC_EXT_EMPTY: {
        ext.type = HS_EXT_SERVER_NAME;
        FUZZ_CHECK(hs_ext_read_empty(&ext) == (len == 0 ? 0 : PETREL_ERR_LENGTH));
        decoded_extension d = {HS_EXT_SERVER_NAME, NULL, 0, false};
        if (len == 0)
            check_rewrite(&d, body, len);
        return;
    }
    }
    abort();
}

/* ---- extensions ---- */

static bool list_has(const hs_extensions *e, uint16_t type, const hs_extension **found)
{
    for (size_t i = 0; i < e->count; i++) {
        if (e->list[i].type == type) {
            *found = &e->list[i];
            return true;
        }
    }
    return false;
}

/* The invariants of an extensions block parsed from [base, base + len). */
static void check_extensions(const hs_extensions *e, const uint8_t *base, size_t len)
{
    FUZZ_CHECK(e->count <= HS_MAX_EXTENSIONS);
    size_t total = 0;
    for (size_t i = 0; i < e->count; i++) {
        FUZZ_CHECK(inside(e->list[i].data, e->list[i].len, base, len));
        FUZZ_CHECK(e->list[i].len <= 0xFFFF);
        total += 4 + e->list[i].len;
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(e->list[j].type != e->list[i].type);
    }
    FUZZ_CHECK(total == len);
    for (size_t i = 0; i < e->count; i++)
        FUZZ_CHECK(hs_extensions_find(e, e->list[i].type) == &e->list[i]);

    const hs_extension *x = NULL;
    FUZZ_CHECK(e->has_renegotiation_info == list_has(e, HS_EXT_RENEGOTIATION_INFO, &x));
    if (e->has_renegotiation_info) {
        FUZZ_CHECK(x->len == 1 + e->renegotiation_info_len && x->data[0] == x->len - 1);
        FUZZ_CHECK(e->renegotiation_info_len == 0 || e->renegotiation_info == x->data + 1);
    }
    FUZZ_CHECK(e->has_extended_master_secret == list_has(e, HS_EXT_EXTENDED_MASTER_SECRET, &x));
    if (e->has_extended_master_secret)
        FUZZ_CHECK(x->len == 0);
    FUZZ_CHECK(e->has_supported_groups == list_has(e, HS_EXT_SUPPORTED_GROUPS, &x));
    if (e->has_supported_groups) {
        FUZZ_CHECK(e->supported_groups.count >= 1);
        FUZZ_CHECK(x->len == 2 + 2 * e->supported_groups.count);
        FUZZ_CHECK(e->supported_groups.data == x->data + 2);
    }
    FUZZ_CHECK(e->has_ec_point_formats == list_has(e, HS_EXT_EC_POINT_FORMATS, &x));
    if (e->has_ec_point_formats) {
        FUZZ_CHECK(e->ec_point_formats_len >= 1 && x->len == 1 + e->ec_point_formats_len);
        FUZZ_CHECK(e->ec_point_formats == x->data + 1);
    }
    FUZZ_CHECK(e->has_signature_algorithms == list_has(e, HS_EXT_SIGNATURE_ALGORITHMS, &x));
    if (e->has_signature_algorithms) {
        FUZZ_CHECK(e->signature_algorithms.count >= 1);
        FUZZ_CHECK(x->len == 2 + 2 * e->signature_algorithms.count);
        FUZZ_CHECK(e->signature_algorithms.data == x->data + 2);
    }
    /* hs_u16_list_get reads the wire pairs. */
    if (e->has_supported_groups) {
        const hs_u16_list *l = &e->supported_groups;
        size_t last = l->count - 1;
        uint16_t v = (uint16_t)(l->data[2 * last] << 8 | l->data[2 * last + 1]);
        FUZZ_CHECK(hs_u16_list_get(l, last) == v && hs_u16_list_contains(l, v));
    }
}

static bool same_extensions(const hs_extensions *a, const hs_extensions *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        if (a->list[i].type != b->list[i].type ||
            !same_bytes(a->list[i].data, a->list[i].len, b->list[i].data, b->list[i].len))
            return false;
    }
    return a->has_renegotiation_info == b->has_renegotiation_info &&
           same_bytes(a->renegotiation_info, a->renegotiation_info_len, b->renegotiation_info,
                      b->renegotiation_info_len) &&
           a->has_extended_master_secret == b->has_extended_master_secret &&
           a->has_supported_groups == b->has_supported_groups &&
           same_list(&a->supported_groups, &b->supported_groups) &&
           a->has_ec_point_formats == b->has_ec_point_formats &&
           same_bytes(a->ec_point_formats, a->ec_point_formats_len, b->ec_point_formats,
                      b->ec_point_formats_len) &&
           a->has_signature_algorithms == b->has_signature_algorithms &&
           same_list(&a->signature_algorithms, &b->signature_algorithms);
}

/* Writes one parsed extension with petrel's own writer where there is one
 * (ec_point_formats only for the one list petrel writes, {0}); others as
 * type + opaque body. */
static int write_extension(cursor_writer *w, const hs_extensions *e, const hs_extension *x)
{
    switch (x->type) {
    case HS_EXT_RENEGOTIATION_INFO:
        return hs_ext_write_renegotiation_info(w, e->renegotiation_info, e->renegotiation_info_len);
    case HS_EXT_EXTENDED_MASTER_SECRET:
        return hs_ext_write_empty(w, x->type);
    case HS_EXT_SUPPORTED_GROUPS:
    case HS_EXT_SIGNATURE_ALGORITHMS: {
        const hs_u16_list *l =
            x->type == HS_EXT_SUPPORTED_GROUPS ? &e->supported_groups : &e->signature_algorithms;
        uint16_t *values = malloc(l->count * sizeof(uint16_t));
        FUZZ_CHECK(values != NULL);
        for (size_t i = 0; i < l->count; i++)
            values[i] = hs_u16_list_get(l, i);
        int rc = hs_ext_write_u16_list(w, x->type, values, l->count);
        free(values);
        return rc;
    }
    case HS_EXT_EC_POINT_FORMATS:
        if (e->ec_point_formats_len == 1 && e->ec_point_formats[0] == 0)
            return hs_ext_write_ec_point_formats(w);
        break;
    default:
        break;
    }
    cursor_writer out = *w;
    PETREL_TRY(cursor_write_u16(&out, x->type));
    PETREL_TRY(cursor_write_vector(&out, 2, 0, 0xFFFF, x->data, x->len));
    *w = out;
    return 0;
}

static void fuzz_extensions(const uint8_t *body, size_t len)
{
    cursor_reader r = cursor_reader_init(body, len);
    hs_extensions *e = malloc(sizeof(*e));
    FUZZ_CHECK(e != NULL);
    int rc = hs_extensions_read(&r, e);
    if (rc < 0) {
        check_read_error(rc);
        free(e);
        return;
    }
    FUZZ_CHECK(rc == 0 && cursor_reader_remaining(&r) == 0);
    check_extensions(e, body, len);
    /* The message-dependent ones: each form a hello may carry. */
    for (size_t i = 0; i < e->count; i++) {
        const hs_extension *x = &e->list[i];
        if (x->type == HS_EXT_SERVER_NAME) {
            check_extension_decoder(CODEC_EXT_SERVER_NAME, x->data, x->len);
            check_extension_decoder(CODEC_EXT_EMPTY, x->data, x->len);
        } else if (x->type == HS_EXT_CLIENT_CERTIFICATE_TYPE ||
                   x->type == HS_EXT_SERVER_CERTIFICATE_TYPE) {
            check_extension_decoder(CODEC_EXT_CERT_TYPE_LIST, x->data, x->len);
            check_extension_decoder(CODEC_EXT_CERT_TYPE, x->data, x->len);
        }
    }

    uint8_t *out = malloc(len ? len : 1);
    FUZZ_CHECK(out != NULL);
    cursor_writer w = cursor_writer_init(out, len);
    for (size_t i = 0; i < e->count; i++) {
        cursor_writer before = w;
        FUZZ_CHECK(write_extension(&w, e, &e->list[i]) == 0);
        FUZZ_CHECK(w.len == before.len + 4 + e->list[i].len);
    }
    FUZZ_CHECK(w.len == len);
    FUZZ_CHECK(len == 0 || memcmp(out, body, len) == 0);

    hs_extensions *again = malloc(sizeof(*again));
    FUZZ_CHECK(again != NULL);
    cursor_reader r2 = cursor_reader_init(out, len);
    FUZZ_CHECK(hs_extensions_read(&r2, again) == 0);
    FUZZ_CHECK(same_extensions(e, again));
    free(again);
    free(out);
    free(e);
}

/* ---- messages: one reader, one writer, one comparison each ---- */

typedef union message {
    hs_client_hello client_hello;
    hs_server_hello server_hello;
    hs_hello_verify_request hello_verify_request;
    hs_server_key_exchange_psk server_key_exchange;
    hs_client_key_exchange_psk client_key_exchange;
    hs_finished finished;
    hs_certificate certificate;
    hs_server_key_exchange_ecdhe server_key_exchange_ecdhe;
    struct {
        const uint8_t *public_key;
        size_t public_key_len;
    } client_key_exchange_ecdhe;
    hs_certificate_request certificate_request;
    hs_certificate_verify certificate_verify;
} message;

static void prepare(int codec, message *m)
{
    memset(m, 0, sizeof(*m));
    if (codec == CODEC_SERVER_KEY_EXCHANGE_ECDHE)
        m->server_key_exchange.ecdhe = true;
    if (codec == CODEC_CLIENT_KEY_EXCHANGE_ECDHE)
        m->client_key_exchange.ecdhe = true;
    if (codec == CODEC_CERTIFICATE_RPK)
        m->certificate.raw_public_key = true;
}

static int read_message(int codec, cursor_reader *r, message *m)
{
    switch (codec) {
    case CODEC_CLIENT_HELLO_TLS:
        return hs_client_hello_read(r, &m->client_hello, false);
    case CODEC_CLIENT_HELLO_DTLS:
        return hs_client_hello_read(r, &m->client_hello, true);
    case CODEC_SERVER_HELLO:
        return hs_server_hello_read(r, &m->server_hello);
    case CODEC_HELLO_VERIFY_REQUEST:
        return hs_hello_verify_request_read(r, &m->hello_verify_request);
    case CODEC_SERVER_KEY_EXCHANGE_PSK:
    case CODEC_SERVER_KEY_EXCHANGE_ECDHE:
        return hs_server_key_exchange_psk_read(r, &m->server_key_exchange);
    case CODEC_CLIENT_KEY_EXCHANGE_PSK:
    case CODEC_CLIENT_KEY_EXCHANGE_ECDHE:
        return hs_client_key_exchange_psk_read(r, &m->client_key_exchange);
    case CODEC_FINISHED:
        return hs_finished_read(r, &m->finished);
    case CODEC_CERTIFICATE:
    case CODEC_CERTIFICATE_RPK:
        return hs_certificate_read(r, &m->certificate);
    case CODEC_SERVER_KEY_EXCHANGE_SIGNED:
        return hs_server_key_exchange_ecdhe_read(r, &m->server_key_exchange_ecdhe);
    case CODEC_CLIENT_KEY_EXCHANGE_EC:
        return hs_client_key_exchange_ecdhe_read(r, &m->client_key_exchange_ecdhe.public_key,
                                                 &m->client_key_exchange_ecdhe.public_key_len);
    case CODEC_CERTIFICATE_REQUEST:
        return hs_certificate_request_read(r, &m->certificate_request);
    case CODEC_CERTIFICATE_VERIFY:
        return hs_certificate_verify_read(r, &m->certificate_verify);
    }
    abort();
}

static int write_message(int codec, cursor_writer *w, const message *m)
{
    switch (codec) {
    case CODEC_CLIENT_HELLO_TLS:
        return hs_client_hello_write(w, &m->client_hello, false);
    case CODEC_CLIENT_HELLO_DTLS:
        return hs_client_hello_write(w, &m->client_hello, true);
    case CODEC_SERVER_HELLO:
        return hs_server_hello_write(w, &m->server_hello);
    case CODEC_HELLO_VERIFY_REQUEST:
        return hs_hello_verify_request_write(w, &m->hello_verify_request);
    case CODEC_SERVER_KEY_EXCHANGE_PSK:
    case CODEC_SERVER_KEY_EXCHANGE_ECDHE:
        return hs_server_key_exchange_psk_write(w, &m->server_key_exchange);
    case CODEC_CLIENT_KEY_EXCHANGE_PSK:
    case CODEC_CLIENT_KEY_EXCHANGE_ECDHE:
        return hs_client_key_exchange_psk_write(w, &m->client_key_exchange);
    case CODEC_FINISHED:
        return hs_finished_write(w, &m->finished);
    case CODEC_CERTIFICATE:
    case CODEC_CERTIFICATE_RPK:
        return hs_certificate_write(w, &m->certificate);
    case CODEC_SERVER_KEY_EXCHANGE_SIGNED:
        return hs_server_key_exchange_ecdhe_write(w, &m->server_key_exchange_ecdhe);
    case CODEC_CLIENT_KEY_EXCHANGE_EC:
        return hs_client_key_exchange_ecdhe_write(w, m->client_key_exchange_ecdhe.public_key,
                                                  m->client_key_exchange_ecdhe.public_key_len);
    case CODEC_CERTIFICATE_REQUEST:
        return hs_certificate_request_write(w, &m->certificate_request);
    case CODEC_CERTIFICATE_VERIFY:
        return hs_certificate_verify_write(w, &m->certificate_verify);
    }
    abort();
}

/* The field invariants of a message read from [in, in + len). */
static void check_fields(int codec, const message *m, const uint8_t *in, size_t len)
{
    switch (codec) {
    case CODEC_CLIENT_HELLO_TLS:
    case CODEC_CLIENT_HELLO_DTLS: {
        const hs_client_hello *ch = &m->client_hello;
        FUZZ_CHECK(ch->session_id_len <= HS_SESSION_ID_MAX);
        if (codec == CODEC_CLIENT_HELLO_TLS)
            FUZZ_CHECK(ch->cookie == NULL && ch->cookie_len == 0);
        FUZZ_CHECK(ch->cookie_len <= HS_COOKIE_MAX && inside(ch->cookie, ch->cookie_len, in, len));
        FUZZ_CHECK(ch->cipher_suites.count >= 1 && ch->cipher_suites.count <= 0x7FFF);
        FUZZ_CHECK(inside(ch->cipher_suites.data, 2 * ch->cipher_suites.count, in, len));
        FUZZ_CHECK(ch->compression_methods_len >= 1 && ch->compression_methods_len <= 255);
        FUZZ_CHECK(inside(ch->compression_methods, ch->compression_methods_len, in, len));
        FUZZ_CHECK(memchr(ch->compression_methods, 0, ch->compression_methods_len) != NULL);
        FUZZ_CHECK(inside(ch->extensions_raw, ch->extensions_raw_len, in, len));
        if (ch->has_extensions_block)
            check_extensions(&ch->extensions, ch->extensions_raw, ch->extensions_raw_len);
        else
            FUZZ_CHECK(ch->extensions_raw_len == 0 && ch->extensions.count == 0);
        return;
    }
    case CODEC_SERVER_HELLO: {
        const hs_server_hello *sh = &m->server_hello;
        FUZZ_CHECK(sh->session_id_len <= HS_SESSION_ID_MAX && sh->compression_method == 0);
        FUZZ_CHECK(inside(sh->extensions_raw, sh->extensions_raw_len, in, len));
        if (sh->has_extensions_block)
            check_extensions(&sh->extensions, sh->extensions_raw, sh->extensions_raw_len);
        else
            FUZZ_CHECK(sh->extensions_raw_len == 0 && sh->extensions.count == 0);
        return;
    }
    case CODEC_HELLO_VERIFY_REQUEST: {
        const hs_hello_verify_request *hvr = &m->hello_verify_request;
        FUZZ_CHECK(len == 3 + hvr->cookie_len && inside(hvr->cookie, hvr->cookie_len, in, len));
        return;
    }
    case CODEC_SERVER_KEY_EXCHANGE_PSK:
    case CODEC_SERVER_KEY_EXCHANGE_ECDHE: {
        const hs_server_key_exchange_psk *ske = &m->server_key_exchange;
        FUZZ_CHECK(ske->ecdhe == (codec == CODEC_SERVER_KEY_EXCHANGE_ECDHE));
        FUZZ_CHECK(inside(ske->identity_hint, ske->identity_hint_len, in, len));
        FUZZ_CHECK(inside(ske->public_key, ske->public_key_len, in, len));
        if (ske->ecdhe)
            FUZZ_CHECK(ske->public_key_len >= 1 && ske->public_key_len <= 255 &&
                       len == 2 + ske->identity_hint_len + 4 + ske->public_key_len);
        else
            FUZZ_CHECK(ske->public_key == NULL && ske->public_key_len == 0 && ske->group == 0 &&
                       len == 2 + ske->identity_hint_len);
        return;
    }
    case CODEC_CLIENT_KEY_EXCHANGE_PSK:
    case CODEC_CLIENT_KEY_EXCHANGE_ECDHE: {
        const hs_client_key_exchange_psk *cke = &m->client_key_exchange;
        FUZZ_CHECK(cke->ecdhe == (codec == CODEC_CLIENT_KEY_EXCHANGE_ECDHE));
        FUZZ_CHECK(inside(cke->identity, cke->identity_len, in, len));
        FUZZ_CHECK(inside(cke->public_key, cke->public_key_len, in, len));
        if (cke->ecdhe)
            FUZZ_CHECK(cke->public_key_len >= 1 && cke->public_key_len <= 255 &&
                       len == 2 + cke->identity_len + 1 + cke->public_key_len);
        else
            FUZZ_CHECK(cke->public_key == NULL && cke->public_key_len == 0 &&
                       len == 2 + cke->identity_len);
        return;
    }
    case CODEC_FINISHED:
        FUZZ_CHECK(len == HS_VERIFY_DATA_LEN &&
                   memcmp(m->finished.verify_data, in, HS_VERIFY_DATA_LEN) == 0);
        return;
    case CODEC_CERTIFICATE:
    case CODEC_CERTIFICATE_RPK: {
        const hs_certificate *c = &m->certificate;
        FUZZ_CHECK(c->raw_public_key == (codec == CODEC_CERTIFICATE_RPK));
        FUZZ_CHECK(c->count <= HS_MAX_CHAIN && (!c->raw_public_key || c->count == 1));
        size_t total = c->raw_public_key ? 0 : 3;
        for (size_t i = 0; i < c->count; i++) {
            FUZZ_CHECK(c->lens[i] >= 1 && c->lens[i] <= HS_CERT_MAX);
            FUZZ_CHECK(inside(c->certs[i], c->lens[i], in, len));
            FUZZ_CHECK(c->certs[i] == in + total + 3);
            total += 3 + c->lens[i];
        }
        FUZZ_CHECK(total == len);
        return;
    }
    case CODEC_SERVER_KEY_EXCHANGE_SIGNED: {
        const hs_server_key_exchange_ecdhe *ske = &m->server_key_exchange_ecdhe;
        FUZZ_CHECK(ske->params == in && ske->params_len == 4 + ske->public_key_len);
        FUZZ_CHECK(in[0] == HS_NAMED_CURVE && ske->group == (uint16_t)(in[1] << 8 | in[2]));
        FUZZ_CHECK(ske->public_key_len >= 1 && ske->public_key_len <= 255 &&
                   ske->public_key == in + 4);
        FUZZ_CHECK(inside(ske->signature, ske->signature_len, in, len));
        FUZZ_CHECK(ske->signature_len == 0 || ske->signature == in + ske->params_len + 4);
        FUZZ_CHECK(len == ske->params_len + 4 + ske->signature_len);
        return;
    }
    case CODEC_CLIENT_KEY_EXCHANGE_EC: {
        size_t n = m->client_key_exchange_ecdhe.public_key_len;
        FUZZ_CHECK(n >= 1 && n <= 255 && len == 1 + n &&
                   m->client_key_exchange_ecdhe.public_key == in + 1);
        return;
    }
    case CODEC_CERTIFICATE_REQUEST: {
        const hs_certificate_request *cr = &m->certificate_request;
        FUZZ_CHECK(cr->cert_types_len >= 1 && cr->cert_types_len <= 255 &&
                   cr->cert_types == in + 1);
        FUZZ_CHECK(cr->sig_schemes.count >= 1 && cr->sig_schemes.count <= 0x7FFF);
        FUZZ_CHECK(inside(cr->sig_schemes.data, 2 * cr->sig_schemes.count, in, len));
        FUZZ_CHECK(inside(cr->authorities, cr->authorities_len, in, len));
        FUZZ_CHECK(len == 1 + cr->cert_types_len + 2 + 2 * cr->sig_schemes.count + 2 +
                              cr->authorities_len);
        /* Walk the DistinguishedNames independently of the reader. */
        size_t at = 0, names = 0;
        while (at < cr->authorities_len) {
            FUZZ_CHECK(cr->authorities_len - at >= 2);
            size_t n = (size_t)cr->authorities[at] << 8 | cr->authorities[at + 1];
            FUZZ_CHECK(n >= 1 && n <= cr->authorities_len - at - 2);
            at += 2 + n;
            names++;
        }
        FUZZ_CHECK(names == cr->authority_count);
        return;
    }
    case CODEC_CERTIFICATE_VERIFY: {
        const hs_certificate_verify *cv = &m->certificate_verify;
        FUZZ_CHECK(cv->sig_scheme == (uint16_t)(in[0] << 8 | in[1]));
        FUZZ_CHECK(len == 4 + cv->signature_len &&
                   inside(cv->signature, cv->signature_len, in, len));
        return;
    }
    }
    abort();
}

static bool same_message(int codec, const message *a, const message *b)
{
    switch (codec) {
    case CODEC_CLIENT_HELLO_TLS:
    case CODEC_CLIENT_HELLO_DTLS: {
        const hs_client_hello *x = &a->client_hello, *y = &b->client_hello;
        return x->version == y->version && memcmp(x->random, y->random, HS_RANDOM_LEN) == 0 &&
               same_bytes(x->session_id, x->session_id_len, y->session_id, y->session_id_len) &&
               same_bytes(x->cookie, x->cookie_len, y->cookie, y->cookie_len) &&
               same_list(&x->cipher_suites, &y->cipher_suites) &&
               same_bytes(x->compression_methods, x->compression_methods_len,
                          y->compression_methods, y->compression_methods_len) &&
               x->has_extensions_block == y->has_extensions_block &&
               same_bytes(x->extensions_raw, x->extensions_raw_len, y->extensions_raw,
                          y->extensions_raw_len) &&
               same_extensions(&x->extensions, &y->extensions);
    }
    case CODEC_SERVER_HELLO: {
        const hs_server_hello *x = &a->server_hello, *y = &b->server_hello;
        return x->version == y->version && memcmp(x->random, y->random, HS_RANDOM_LEN) == 0 &&
               same_bytes(x->session_id, x->session_id_len, y->session_id, y->session_id_len) &&
               x->cipher_suite == y->cipher_suite &&
               x->compression_method == y->compression_method &&
               x->has_extensions_block == y->has_extensions_block &&
               same_bytes(x->extensions_raw, x->extensions_raw_len, y->extensions_raw,
                          y->extensions_raw_len) &&
               same_extensions(&x->extensions, &y->extensions);
    }
    case CODEC_HELLO_VERIFY_REQUEST: {
        const hs_hello_verify_request *x = &a->hello_verify_request, *y = &b->hello_verify_request;
        return x->version == y->version &&
               same_bytes(x->cookie, x->cookie_len, y->cookie, y->cookie_len);
    }
    case CODEC_SERVER_KEY_EXCHANGE_PSK:
    case CODEC_SERVER_KEY_EXCHANGE_ECDHE: {
        const hs_server_key_exchange_psk *x = &a->server_key_exchange, *y = &b->server_key_exchange;
        return x->ecdhe == y->ecdhe && x->group == y->group &&
               same_bytes(x->identity_hint, x->identity_hint_len, y->identity_hint,
                          y->identity_hint_len) &&
               same_bytes(x->public_key, x->public_key_len, y->public_key, y->public_key_len);
    }
    case CODEC_CLIENT_KEY_EXCHANGE_PSK:
    case CODEC_CLIENT_KEY_EXCHANGE_ECDHE: {
        const hs_client_key_exchange_psk *x = &a->client_key_exchange, *y = &b->client_key_exchange;
        return x->ecdhe == y->ecdhe &&
               same_bytes(x->identity, x->identity_len, y->identity, y->identity_len) &&
               same_bytes(x->public_key, x->public_key_len, y->public_key, y->public_key_len);
    }
    case CODEC_FINISHED:
        return memcmp(a->finished.verify_data, b->finished.verify_data, HS_VERIFY_DATA_LEN) == 0;
    case CODEC_CERTIFICATE:
    case CODEC_CERTIFICATE_RPK: {
        const hs_certificate *x = &a->certificate, *y = &b->certificate;
        if (x->raw_public_key != y->raw_public_key || x->count != y->count)
            return false;
        for (size_t i = 0; i < x->count; i++) {
            if (!same_bytes(x->certs[i], x->lens[i], y->certs[i], y->lens[i]))
                return false;
        }
        return true;
    }
    case CODEC_SERVER_KEY_EXCHANGE_SIGNED: {
        const hs_server_key_exchange_ecdhe *x = &a->server_key_exchange_ecdhe,
                                           *y = &b->server_key_exchange_ecdhe;
        return x->group == y->group && x->sig_scheme == y->sig_scheme &&
               same_bytes(x->public_key, x->public_key_len, y->public_key, y->public_key_len) &&
               same_bytes(x->signature, x->signature_len, y->signature, y->signature_len) &&
               same_bytes(x->params, x->params_len, y->params, y->params_len);
    }
    case CODEC_CLIENT_KEY_EXCHANGE_EC:
        return same_bytes(
            a->client_key_exchange_ecdhe.public_key, a->client_key_exchange_ecdhe.public_key_len,
            b->client_key_exchange_ecdhe.public_key, b->client_key_exchange_ecdhe.public_key_len);
    case CODEC_CERTIFICATE_REQUEST: {
        const hs_certificate_request *x = &a->certificate_request, *y = &b->certificate_request;
        return same_bytes(x->cert_types, x->cert_types_len, y->cert_types, y->cert_types_len) &&
               same_list(&x->sig_schemes, &y->sig_schemes) &&
               same_bytes(x->authorities, x->authorities_len, y->authorities, y->authorities_len) &&
               x->authority_count == y->authority_count;
    }
    case CODEC_CERTIFICATE_VERIFY: {
        const hs_certificate_verify *x = &a->certificate_verify, *y = &b->certificate_verify;
        return x->sig_scheme == y->sig_scheme &&
               same_bytes(x->signature, x->signature_len, y->signature, y->signature_len);
    }
    }
    abort();
}

/* Writes m (read from body) back and reads it again. */
static void check_round_trip(int codec, const message *m, const uint8_t *body, size_t len)
{
    /* Canonical: writing the parsed message gives back the input, in a
     * buffer of exactly its size. */
    uint8_t *out = malloc(len ? len : 1);
    FUZZ_CHECK(out != NULL);
    cursor_writer w = cursor_writer_init(out, len);
    FUZZ_CHECK(write_message(codec, &w, m) == 0);
    FUZZ_CHECK(cursor_writer_valid(&w) && w.len == len);
    FUZZ_CHECK(len == 0 || memcmp(out, body, len) == 0);

    /* Reading the output again gives the same fields. */
    message *again = malloc(sizeof(*again));
    FUZZ_CHECK(again != NULL);
    prepare(codec, again);
    cursor_reader r = cursor_reader_init(out, len);
    FUZZ_CHECK(read_message(codec, &r, again) == 0);
    FUZZ_CHECK(cursor_reader_remaining(&r) == 0);
    FUZZ_CHECK(same_message(codec, m, again));
    free(again);

    /* All or nothing: one byte short fails and writes nothing. Every
     * message that parses is at least two bytes long. */
    FUZZ_CHECK(len >= 2);
    uint8_t *short_out = malloc(len - 1);
    FUZZ_CHECK(short_out != NULL);
    w = cursor_writer_init(short_out, len - 1);
    FUZZ_CHECK(write_message(codec, &w, m) == PETREL_ERR_BUFFER_TOO_SMALL);
    FUZZ_CHECK(cursor_writer_valid(&w) && w.len == 0);
    free(short_out);
    free(out);
}

static void fuzz_message(int codec, const uint8_t *body, size_t len)
{
    /* The union holds an hs_extensions (CH, SH): keep it off the stack. */
    message *m = malloc(sizeof(*m));
    FUZZ_CHECK(m != NULL);
    prepare(codec, m);
    cursor_reader r = cursor_reader_init(body, len);
    int rc = read_message(codec, &r, m);
    if (rc < 0) {
        check_read_error(rc);
        /* The lists with a count limit: the hellos' extensions and the
         * certificate chain. */
        FUZZ_CHECK(rc != PETREL_ERR_LIMIT || codec <= CODEC_SERVER_HELLO ||
                   codec == CODEC_CERTIFICATE);
    } else {
        FUZZ_CHECK(rc == 0);
        /* Readers consume the body exactly. */
        FUZZ_CHECK(cursor_reader_valid(&r) && cursor_reader_remaining(&r) == 0);
        check_fields(codec, m, body, len);
        check_round_trip(codec, m, body, len);
    }
    free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int codec = data[0] % CODEC_COUNT;
    /* A copy of exactly the body, so that a read past it is caught. */
    size_t len = size - 1;
    uint8_t *body = malloc(len ? len : 1);
    FUZZ_CHECK(body != NULL);
    if (len)
        memcpy(body, data + 1, len);

    if (codec == CODEC_EXTENSIONS) {
        fuzz_extensions(body, len);
    } else if (codec >= CODEC_EXT_SERVER_NAME) {
        check_extension_decoder(codec, body, len);
    } else if (codec == CODEC_SERVER_HELLO_DONE) {
        cursor_reader r = cursor_reader_init(body, len);
        int rc = hs_server_hello_done_read(&r);
        FUZZ_CHECK(rc == (len == 0 ? 0 : PETREL_ERR_TRAILING_DATA));
    } else {
        fuzz_message(codec, body, len);
    }
    free(body);
    return 0;
}
