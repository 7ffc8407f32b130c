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

/* Extension writers used by hellos: each appends one complete extension
 * (type, u16 length, body) to w. */
PETREL_MUST_CHECK int hs_ext_write_renegotiation_info(cursor_writer *w, const uint8_t *data,
                                                      size_t len);
PETREL_MUST_CHECK int hs_ext_write_empty(cursor_writer *w, uint16_t type);
PETREL_MUST_CHECK int hs_ext_write_u16_list(cursor_writer *w, uint16_t type, const uint16_t *values,
                                            size_t count);
PETREL_MUST_CHECK int hs_ext_write_ec_point_formats(cursor_writer *w);

#endif
