/*
 * Handshake message codecs (TLS 1.2 / DTLS 1.2): the bodies of handshake
 * messages, without the 4-byte (TLS) or 12-byte (DTLS) handshake header,
 * which the record layer owns.
 *
 * One file per message, _write and _read side by side, reading like the
 * RFC's struct. Readers take a cursor limited to exactly the message body
 * and require it to be consumed exactly (PETREL_ERR_TRAILING_DATA
 * otherwise). Parsed messages point into the input (views): they are valid
 * only while the input buffer is. Writers are all-or-nothing: on failure
 * (PETREL_ERR_BUFFER_TOO_SMALL, or PETREL_ERR_LENGTH for a field outside its
 * bounds) the writer is unchanged.
 *
 * All functions return 0 or a negative PETREL_ERR_* code; decode errors are
 * PETREL_ERR_TRUNCATED / _LENGTH / _TRAILING_DATA (decode_error) or
 * PETREL_ERR_ILLEGAL_PARAMETER (a well-formed field with a forbidden value).
 */
#ifndef PETREL_HANDSHAKE_MESSAGES_H
#define PETREL_HANDSHAKE_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cursor.h"

/* HandshakeType (RFC 5246 §7.4, RFC 6347 §4.3.2). */
enum {
    HS_HELLO_REQUEST = 0,
    HS_CLIENT_HELLO = 1,
    HS_SERVER_HELLO = 2,
    HS_HELLO_VERIFY_REQUEST = 3,
    HS_NEW_SESSION_TICKET = 4,
    HS_CERTIFICATE = 11,
    HS_SERVER_KEY_EXCHANGE = 12,
    HS_CERTIFICATE_REQUEST = 13,
    HS_SERVER_HELLO_DONE = 14,
    HS_CERTIFICATE_VERIFY = 15,
    HS_CLIENT_KEY_EXCHANGE = 16,
    HS_FINISHED = 20,
};

/* ExtensionType values petrel understands. */
enum {
    HS_EXT_SERVER_NAME = 0,
    HS_EXT_SUPPORTED_GROUPS = 10,
    HS_EXT_EC_POINT_FORMATS = 11,
    HS_EXT_SIGNATURE_ALGORITHMS = 13,
    HS_EXT_CLIENT_CERTIFICATE_TYPE = 19, /* RFC 7250 */
    HS_EXT_SERVER_CERTIFICATE_TYPE = 20, /* RFC 7250 */
    HS_EXT_ENCRYPT_THEN_MAC = 22,
    HS_EXT_EXTENDED_MASTER_SECRET = 23,
    HS_EXT_SESSION_TICKET = 35,
    HS_EXT_RENEGOTIATION_INFO = 0xff01,
};

/* ProtocolVersion wire values. */
enum {
    HS_VERSION_TLS12 = 0x0303,
    HS_VERSION_DTLS10 = 0xfeff,
    HS_VERSION_DTLS12 = 0xfefd,
};

#define HS_RANDOM_LEN       32
#define HS_SESSION_ID_MAX   32
#define HS_COOKIE_MAX       255
#define HS_VERIFY_DATA_LEN  12
#define HS_PSK_IDENTITY_MAX 65535 /* RFC 4279 §2: psk_identity<0..2^16-1> */
#define HS_MAX_EXTENSIONS   32    /* more in one hello: PETREL_ERR_LIMIT */

/* A list of 16-bit values as it sits on the wire (big-endian pairs). */
typedef struct hs_u16_list {
    const uint8_t *data; /* 2 * count bytes */
    size_t count;
} hs_u16_list;

/* The i-th value of a list; i < list->count. */
uint16_t hs_u16_list_get(const hs_u16_list *list, size_t i);
bool hs_u16_list_contains(const hs_u16_list *list, uint16_t value);

/* One raw extension as it appears in a hello. */
typedef struct hs_extension {
    uint16_t type;
    const uint8_t *data;
    size_t len;
} hs_extension;

/*
 * The extensions block of a hello, parsed: every extension is kept raw (in
 * order, at most HS_MAX_EXTENSIONS), and the ones petrel understands are
 * decoded as well. A type that appears twice is PETREL_ERR_ILLEGAL_PARAMETER
 * (RFC 5246 §7.4.1.4: "There MUST NOT be more than one extension of the
 * same type"). A known extension whose body is malformed is a decode error.
 */
typedef struct hs_extensions {
    hs_extension list[HS_MAX_EXTENSIONS];
    size_t count;

    bool has_renegotiation_info;
    const uint8_t *renegotiation_info; /* renegotiated_connection<0..255> */
    size_t renegotiation_info_len;

    bool has_extended_master_secret; /* body must be empty (RFC 7627 §5.1), else
                                        PETREL_ERR_LENGTH */

    bool has_supported_groups;
    hs_u16_list supported_groups; /* named_group_list<2..2^16-1> */

    bool has_ec_point_formats;
    /* ec_point_format_list<1..2^8-1>; whether it holds uncompressed(0) is
     * the handshake's check (RFC 8422 §5.1.2) */
    const uint8_t *ec_point_formats;
    size_t ec_point_formats_len;

    bool has_signature_algorithms;
    hs_u16_list signature_algorithms; /* supported_signature_algorithms<2..2^16-2> */
} hs_extensions;

/* Parses an extensions block body (the bytes inside the u16 prefix). */
PETREL_MUST_CHECK int hs_extensions_read(cursor_reader *r, hs_extensions *out);

/* ClientHello (RFC 5246 §7.4.1.2; RFC 6347 §4.2.1 adds the cookie). */
typedef struct hs_client_hello {
    uint16_t version;
    uint8_t random[HS_RANDOM_LEN];
    uint8_t session_id[HS_SESSION_ID_MAX];
    size_t session_id_len;
    const uint8_t *cookie; /* DTLS only; NULL/0 in TLS */
    size_t cookie_len;
    hs_u16_list cipher_suites;          /* <2..2^16-2> */
    const uint8_t *compression_methods; /* <1..2^8-1>; must contain 0 (null) */
    size_t compression_methods_len;
    /* Writing: the extensions block body to send (already encoded), may be
     * empty. Reading: the block's raw bytes; `extensions` has it parsed. */
    const uint8_t *extensions_raw;
    size_t extensions_raw_len;
    bool has_extensions_block; /* absent entirely vs. present and empty */
    hs_extensions extensions;  /* reading only */
} hs_client_hello;

/* dtls selects the DTLS layout (with the cookie). The reader checks that
 * compression_methods contains null (0), else PETREL_ERR_ILLEGAL_PARAMETER. */
PETREL_MUST_CHECK int hs_client_hello_write(cursor_writer *w, const hs_client_hello *m, bool dtls);
PETREL_MUST_CHECK int hs_client_hello_read(cursor_reader *r, hs_client_hello *m, bool dtls);

/* HelloVerifyRequest (RFC 6347 §4.2.1). */
typedef struct hs_hello_verify_request {
    uint16_t version;
    const uint8_t *cookie; /* <0..2^8-1> */
    size_t cookie_len;
} hs_hello_verify_request;

PETREL_MUST_CHECK int hs_hello_verify_request_write(cursor_writer *w,
                                                    const hs_hello_verify_request *m);
PETREL_MUST_CHECK int hs_hello_verify_request_read(cursor_reader *r, hs_hello_verify_request *m);

/* ServerHello (RFC 5246 §7.4.1.3). */
typedef struct hs_server_hello {
    uint16_t version;
    uint8_t random[HS_RANDOM_LEN];
    uint8_t session_id[HS_SESSION_ID_MAX];
    size_t session_id_len;
    uint16_t cipher_suite;
    uint8_t compression_method; /* reader requires 0 (PETREL_ERR_ILLEGAL_PARAMETER) */
    const uint8_t *extensions_raw;
    size_t extensions_raw_len;
    bool has_extensions_block;
    hs_extensions extensions; /* reading only */
} hs_server_hello;

PETREL_MUST_CHECK int hs_server_hello_write(cursor_writer *w, const hs_server_hello *m);
PETREL_MUST_CHECK int hs_server_hello_read(cursor_reader *r, hs_server_hello *m);

/*
 * ServerKeyExchange for PSK suites (RFC 4279 §2: psk_identity_hint<0..2^16-1>)
 * and ECDHE_PSK suites (RFC 5489 §2: the hint, then ServerECDHParams:
 * curve_type named_curve(3), NamedCurve, ECPoint point<1..2^8-1>).
 */
typedef struct hs_server_key_exchange_psk {
    const uint8_t *identity_hint;
    size_t identity_hint_len;
    bool ecdhe; /* set by the caller before reading or writing */
    uint16_t group;
    const uint8_t *public_key;
    size_t public_key_len;
} hs_server_key_exchange_psk;

PETREL_MUST_CHECK int hs_server_key_exchange_psk_write(cursor_writer *w,
                                                       const hs_server_key_exchange_psk *m);
/* m->ecdhe must be set; a curve_type other than named_curve(3) is
 * PETREL_ERR_ILLEGAL_PARAMETER. */
PETREL_MUST_CHECK int hs_server_key_exchange_psk_read(cursor_reader *r,
                                                      hs_server_key_exchange_psk *m);

/* ClientKeyExchange for PSK (RFC 4279 §2: psk_identity<0..2^16-1>) and
 * ECDHE_PSK (RFC 5489 §2: the identity, then ECPoint<1..2^8-1>). */
typedef struct hs_client_key_exchange_psk {
    const uint8_t *identity;
    size_t identity_len;
    bool ecdhe; /* set by the caller before reading or writing */
    const uint8_t *public_key;
    size_t public_key_len;
} hs_client_key_exchange_psk;

PETREL_MUST_CHECK int hs_client_key_exchange_psk_write(cursor_writer *w,
                                                       const hs_client_key_exchange_psk *m);
PETREL_MUST_CHECK int hs_client_key_exchange_psk_read(cursor_reader *r,
                                                      hs_client_key_exchange_psk *m);

/* Finished (RFC 5246 §7.4.9): verify_data, exactly 12 bytes in TLS 1.2. */
typedef struct hs_finished {
    uint8_t verify_data[HS_VERIFY_DATA_LEN];
} hs_finished;

PETREL_MUST_CHECK int hs_finished_write(cursor_writer *w, const hs_finished *m);
PETREL_MUST_CHECK int hs_finished_read(cursor_reader *r, hs_finished *m);

/* ServerHelloDone: an empty body; the reader rejects any byte. */
PETREL_MUST_CHECK int hs_server_hello_done_read(cursor_reader *r);

/* ---- certificate handshakes (RFC 5246 §7.4.2-7.4.8, RFC 8422, RFC 7250) ---- */

/* CertificateType (RFC 7250 §3; IANA TLS Certificate Types). */
enum {
    HS_CERT_TYPE_X509 = 0,
    HS_CERT_TYPE_RAW_PUBLIC_KEY = 2,
};

/* ClientCertificateType in CertificateRequest (RFC 5246 §7.4.4, RFC 8422 §5.5). */
enum {
    HS_CLIENT_CERT_RSA_SIGN = 1,
    HS_CLIENT_CERT_ECDSA_SIGN = 64,
};

#define HS_MAX_CHAIN     10       /* certificates in one Certificate message */
#define HS_CERT_MAX      0xFFFFFF /* ASN.1Cert opaque<1..2^24-1> */
#define HS_SIGNATURE_MAX 0xFFFF   /* digitally-signed: opaque signature<0..2^16-1> */
#define HS_NAMED_CURVE   3        /* ECCurveType named_curve (RFC 8422 §5.4) */
#define HS_HOST_NAME_MAX 255      /* petrel's limit for a server_name HostName */
#define HS_SNI_HOST_NAME 0        /* NameType host_name (RFC 6066 §3) */

/*
 * Certificate (RFC 5246 §7.4.2):
 *   opaque ASN.1Cert<1..2^24-1>;
 *   struct { ASN.1Cert certificate_list<0..2^24-1>; } Certificate;
 * With the RawPublicKey type (RFC 7250 §3) the body is instead one
 *   opaque ASN.1_subjectPublicKeyInfo<1..2^24-1>;
 * Reading: more than HS_MAX_CHAIN certificates is PETREL_ERR_LIMIT; an
 * empty list is valid (a client without a certificate) and gives count 0;
 * with raw_public_key the result is count 1. The reader does not parse
 * the DER: that is the crypto provider's job.
 */
typedef struct hs_certificate {
    bool raw_public_key; /* set by the caller before reading or writing */
    const uint8_t *certs[HS_MAX_CHAIN];
    size_t lens[HS_MAX_CHAIN];
    size_t count; /* writing raw_public_key: must be 1 */
} hs_certificate;

PETREL_MUST_CHECK int hs_certificate_write(cursor_writer *w, const hs_certificate *m);
PETREL_MUST_CHECK int hs_certificate_read(cursor_reader *r, hs_certificate *m);

/*
 * ServerKeyExchange for ECDHE_ECDSA / ECDHE_RSA (RFC 8422 §5.4, RFC 5246
 * §7.4.3 with §4.7 digitally-signed):
 *   struct {
 *       ServerECDHParams params;   curve_type named_curve(3), NamedCurve,
 *                                  ECPoint point<1..2^8-1>
 *       digitally-signed struct {  SignatureAndHashAlgorithm (2 bytes),
 *           opaque client_random[32];        opaque signature<0..2^16-1>
 *           opaque server_random[32];
 *           ServerECDHParams params;
 *       } signed_params;
 *   } ServerKeyExchange;
 * Reading also returns params / params_len: the ServerECDHParams bytes
 * exactly as received, for the signature check. A curve_type other than
 * named_curve is PETREL_ERR_ILLEGAL_PARAMETER.
 */
typedef struct hs_server_key_exchange_ecdhe {
    uint16_t group;
    const uint8_t *public_key;
    size_t public_key_len;
    uint16_t sig_scheme;
    const uint8_t *signature;
    size_t signature_len;
    const uint8_t *params; /* reading only */
    size_t params_len;
} hs_server_key_exchange_ecdhe;

/* Appends ServerECDHParams (what the server signs after the randoms). */
PETREL_MUST_CHECK int hs_ecdh_params_write(cursor_writer *w, uint16_t group,
                                           const uint8_t *public_key, size_t public_key_len);
PETREL_MUST_CHECK int hs_server_key_exchange_ecdhe_write(cursor_writer *w,
                                                         const hs_server_key_exchange_ecdhe *m);
PETREL_MUST_CHECK int hs_server_key_exchange_ecdhe_read(cursor_reader *r,
                                                        hs_server_key_exchange_ecdhe *m);

/* ClientKeyExchange for ECDHE_ECDSA / ECDHE_RSA (RFC 8422 §5.7):
 * ClientECDiffieHellmanPublic, an ECPoint ecdh_Yc<1..2^8-1>. */
PETREL_MUST_CHECK int hs_client_key_exchange_ecdhe_write(cursor_writer *w,
                                                         const uint8_t *public_key,
                                                         size_t public_key_len);
PETREL_MUST_CHECK int hs_client_key_exchange_ecdhe_read(cursor_reader *r,
                                                        const uint8_t **public_key,
                                                        size_t *public_key_len);

/*
 * CertificateRequest (RFC 5246 §7.4.4):
 *   struct {
 *       ClientCertificateType certificate_types<1..2^8-1>;
 *       SignatureAndHashAlgorithm supported_signature_algorithms<2..2^16-2>;
 *       DistinguishedName certificate_authorities<0..2^16-1>;
 *   } CertificateRequest;
 *   opaque DistinguishedName<1..2^16-1>;
 * Writing: authorities is the list body, already encoded (each Name with
 * its u16 prefix). Reading: authorities is the list body as received; the
 * reader checks that it splits exactly into DistinguishedNames of 1 or
 * more bytes (PETREL_ERR_LENGTH otherwise) and counts them.
 */
typedef struct hs_certificate_request {
    const uint8_t *cert_types;
    size_t cert_types_len;
    hs_u16_list sig_schemes;
    const uint8_t *authorities;
    size_t authorities_len;
    size_t authority_count; /* reading only */
} hs_certificate_request;

PETREL_MUST_CHECK int hs_certificate_request_write(cursor_writer *w,
                                                   const hs_certificate_request *m);
PETREL_MUST_CHECK int hs_certificate_request_read(cursor_reader *r, hs_certificate_request *m);
/* Appends one DistinguishedName (u16 length, then the DER Name; 1..2^16-1
 * bytes) to an authorities list being built. */
PETREL_MUST_CHECK int hs_distinguished_name_write(cursor_writer *w, const uint8_t *der, size_t len);

/* CertificateVerify (RFC 5246 §7.4.8): digitally-signed over the
 * handshake messages so far: SignatureAndHashAlgorithm (2 bytes), then
 * opaque signature<0..2^16-1>. */
typedef struct hs_certificate_verify {
    uint16_t sig_scheme;
    const uint8_t *signature;
    size_t signature_len;
} hs_certificate_verify;

PETREL_MUST_CHECK int hs_certificate_verify_write(cursor_writer *w, const hs_certificate_verify *m);
PETREL_MUST_CHECK int hs_certificate_verify_read(cursor_reader *r, hs_certificate_verify *m);

/* Extension writers used by hellos: each appends one complete extension
 * (type, u16 length, body) to w. */
PETREL_MUST_CHECK int hs_ext_write_renegotiation_info(cursor_writer *w, const uint8_t *data,
                                                      size_t len);
PETREL_MUST_CHECK int hs_ext_write_empty(cursor_writer *w, uint16_t type);
PETREL_MUST_CHECK int hs_ext_write_u16_list(cursor_writer *w, uint16_t type, const uint16_t *values,
                                            size_t count);
PETREL_MUST_CHECK int hs_ext_write_ec_point_formats(cursor_writer *w);
/* server_name (RFC 6066 §3) with one host_name of 1..HS_HOST_NAME_MAX
 * bytes; or, with name NULL and len 0, the empty extension a server
 * returns when it used the name. */
PETREL_MUST_CHECK int hs_ext_write_server_name(cursor_writer *w, const char *name, size_t len);
/* client/server_certificate_type (RFC 7250 §4): in a ClientHello the list
 * CertificateType <1..2^8-1>; in a ServerHello the one type chosen
 * (write_cert_type with count 1 and `single`). */
PETREL_MUST_CHECK int hs_ext_write_cert_types(cursor_writer *w, uint16_t ext_type,
                                              const uint8_t *types, size_t count, bool single);

/*
 * Decoders for extensions whose layout depends on the message: they read
 * one extension's body (hs_extension.data/len, as hs_extensions_read kept
 * it) and require it to be consumed exactly.
 *   server_name in a ClientHello: a ServerNameList<1..2^16-1>; the first
 *     host_name entry is returned (NULL/0 when the list has none); a
 *     host_name of 0 or more than HS_HOST_NAME_MAX bytes is
 *     PETREL_ERR_ILLEGAL_PARAMETER. In a ServerHello the body must be
 *     empty (use hs_ext_read_empty).
 *   certificate types in a ClientHello: CertificateType <1..2^8-1>.
 *   certificate type in a ServerHello: exactly one byte.
 */
PETREL_MUST_CHECK int hs_ext_read_server_name(const hs_extension *ext, const uint8_t **name,
                                              size_t *len);
PETREL_MUST_CHECK int hs_ext_read_empty(const hs_extension *ext);
PETREL_MUST_CHECK int hs_ext_read_cert_type_list(const hs_extension *ext, const uint8_t **types,
                                                 size_t *count);
PETREL_MUST_CHECK int hs_ext_read_cert_type(const hs_extension *ext, uint8_t *type);
/* The raw extension of a type in a parsed block, or NULL. */
const hs_extension *hs_extensions_find(const hs_extensions *ext, uint16_t type);

#endif
