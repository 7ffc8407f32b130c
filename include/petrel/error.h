/*
 * petrel error codes.
 *
 * Every fallible petrel function returns an int: 0 (PETREL_OK) or a
 * positive status on success, a negative PETREL_ERR_* code on failure. The
 * codes are defined once, in PETREL_ERROR_MAP below; names, messages and
 * the TLS alert each code maps to all come from that one list.
 *
 * A code also says what to do about it (its class):
 *   - PETREL_ERRCLASS_USAGE: the caller passed something wrong; fix the call.
 *   - PETREL_ERRCLASS_RESOURCE: memory, buffer space or a configured limit.
 *   - PETREL_ERRCLASS_DECODE: peer data is malformed. Inside a handshake
 *     this ends the connection with the alert the code names; a DTLS
 *     record that fails to parse or decrypt is dropped silently instead.
 *   - PETREL_ERRCLASS_CRYPTO: a cryptographic check failed (tag, signature,
 *     invalid peer key).
 *   - PETREL_ERRCLASS_INTERNAL: the crypto backend or the platform failed.
 *   - PETREL_ERRCLASS_PEER: the peer ended the connection (an alert or
 *     close_notify); nothing is sent back beyond what the protocol asks.
 */
#ifndef PETREL_ERROR_H
#define PETREL_ERROR_H

#include <petrel/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, value, class, alert, message). alert is the TLS AlertDescription
 * sent when the code ends a handshake (0: none, the code is local). */
#define PETREL_ERROR_MAP(X)                                                                       \
    X(OK, 0, NONE, 0, "success")                                                                  \
    X(ERR_ARG, -1, USAGE, 0, "invalid argument")                                                  \
    X(ERR_STATE, -2, USAGE, 0, "call not valid in the current state")                             \
    X(ERR_NOMEM, -3, RESOURCE, 80, "out of memory")                                               \
    X(ERR_BUFFER_TOO_SMALL, -4, RESOURCE, 80, "output buffer too small")                          \
    X(ERR_LIMIT, -5, RESOURCE, 80, "configured limit exceeded")                                   \
    X(ERR_TRUNCATED, -10, DECODE, 50, "input ends before the field it announces")                 \
    X(ERR_LENGTH, -11, DECODE, 50, "length field outside its allowed bounds")                     \
    X(ERR_TRAILING_DATA, -12, DECODE, 50, "unexpected bytes after the end of a structure")        \
    X(ERR_VALUE_RANGE, -13, USAGE, 0, "value does not fit its field")                             \
    X(ERR_ILLEGAL_PARAMETER, -14, DECODE, 47, "field has a value the protocol forbids")           \
    X(ERR_UNEXPECTED_MESSAGE, -15, DECODE, 10, "message not allowed at this point")               \
    X(ERR_UNSUPPORTED_EXTENSION, -16, DECODE, 110, "peer sent an extension that was not offered") \
    X(ERR_UNSUPPORTED, -20, USAGE, 40, "algorithm or feature not supported")                      \
    X(ERR_INSECURE, -21, USAGE, 40, "refused: insecure protocol version or algorithm")            \
    X(ERR_HANDSHAKE_FAILURE, -22, DECODE, 40,                                                     \
      "no acceptable cipher suite or parameters in common")                                       \
    X(ERR_PROTOCOL_VERSION, -23, DECODE, 70, "peer offers no protocol version petrel accepts")    \
    X(ERR_UNKNOWN_PSK_IDENTITY, -24, CRYPTO, 115, "no pre-shared key for the peer's identity")    \
    X(ERR_DECRYPT_ERROR, -25, CRYPTO, 51, "Finished verify_data does not match the handshake")    \
    X(ERR_PEER_ALERT, -26, PEER, 0, "peer sent a fatal alert")                                    \
    X(ERR_CLOSED, -27, PEER, 0, "connection closed (close_notify)")                               \
    X(ERR_HANDSHAKE_TIMEOUT, -28, RESOURCE, 0, "handshake timed out: retransmissions exhausted")  \
    X(ERR_TRUNCATION, -29, PEER, 0,                                                               \
      "stream ended without close_notify: the data may have been truncated")                      \
    X(ERR_RECORD_OVERFLOW, -17, DECODE, 22, "record longer than the protocol allows")             \
    X(ERR_IO, -50, INTERNAL, 0, "socket error")                                                   \
    X(ERR_TIMEOUT, -51, RESOURCE, 0, "timed out waiting for the peer")                            \
    X(ERR_RESOLVE, -52, USAGE, 0, "cannot resolve host or port")                                  \
    X(ERR_WOULD_BLOCK, -53, RESOURCE, 0, "operation would block: retry when the socket is ready") \
    X(ERR_AEAD_AUTH, -30, CRYPTO, 20, "record authentication failed (bad tag)")                   \
    X(ERR_SIGNATURE, -31, CRYPTO, 51, "signature verification failed")                            \
    X(ERR_BAD_PEER_KEY, -32, CRYPTO, 47, "invalid peer public key")                               \
    X(ERR_KEY_PARSE, -33, DECODE, 42, "key could not be parsed")                                  \
    X(ERR_KEY_MISMATCH, -34, USAGE, 0, "key does not fit the requested algorithm")                \
    X(ERR_CRYPTO, -40, INTERNAL, 80, "crypto backend failure")                                    \
    X(ERR_RNG, -41, INTERNAL, 80, "random number generator failure")                              \
    X(ERR_INTERNAL, -42, INTERNAL, 80, "internal error")                                          \
    X(ERR_FILE_NOT_FOUND, -60, USAGE, 0, "file or directory missing or unreadable")               \
    X(ERR_CERT_PARSE, -61, DECODE, 42, "certificate could not be parsed")                         \
    X(ERR_KEY_CERT_MISMATCH, -62, USAGE, 0, "private key does not match the certificate")         \
    X(ERR_WRONG_PASSWORD, -63, USAGE, 0, "encrypted key: password missing or wrong")              \
    X(ERR_BAD_CERTIFICATE, -64, CRYPTO, 42,                                                       \
      "peer certificate invalid (signature, basic constraints or key usage)")                     \
    X(ERR_UNKNOWN_CA, -65, CRYPTO, 48, "peer certificate chain does not lead to a trusted CA")    \
    X(ERR_CERT_EXPIRED, -66, CRYPTO, 45, "peer certificate expired or not yet valid")             \
    X(ERR_CERT_NAME_MISMATCH, -67, CRYPTO, 42,                                                    \
      "peer certificate does not match the expected server name")                                 \
    X(ERR_NO_CERTIFICATE, -68, CRYPTO, 40, "peer sent no certificate but one is required")        \
    X(ERR_CERT_REJECTED, -69, CRYPTO, 42, "the certificate callback rejected the peer")           \
    X(ERR_UNSUPPORTED_CERTIFICATE, -70, CRYPTO, 43, "peer certificate or key type not supported") \
    X(ERR_RPK_NOT_PINNED, -71, CRYPTO, 42, "peer raw public key is not among the pinned keys")    \
    X(ERR_NO_CREDENTIALS, -72, USAGE, 0,                                                          \
      "no credentials for any configured cipher suite (PSK, certificate or CA)")

typedef enum petrel_error_class {
    PETREL_ERRCLASS_NONE,
    PETREL_ERRCLASS_USAGE,
    PETREL_ERRCLASS_RESOURCE,
    PETREL_ERRCLASS_DECODE,
    PETREL_ERRCLASS_CRYPTO,
    PETREL_ERRCLASS_INTERNAL,
    PETREL_ERRCLASS_PEER,
} petrel_error_class;

typedef enum petrel_error {
#define PETREL_ERROR_ENUM_(name, value, cls, alert, msg) PETREL_##name = value,
    PETREL_ERROR_MAP(PETREL_ERROR_ENUM_)
#undef PETREL_ERROR_ENUM_
} petrel_error;

/* A one-line human message for `code` ("invalid argument"). Never NULL:
 * unknown codes give "unknown error". The string is static. */
PETREL_API const char *petrel_strerror(int code);

/* The symbolic name of `code` ("PETREL_ERR_ARG"). Never NULL: unknown codes
 * give "PETREL_ERR_UNKNOWN". The string is static. */
PETREL_API const char *petrel_error_name(int code);

/* What kind of failure `code` is; PETREL_ERRCLASS_NONE for success and
 * non-negative statuses, PETREL_ERRCLASS_INTERNAL for unknown codes. */
PETREL_API petrel_error_class petrel_error_class_of(int code);

/* The TLS AlertDescription that ends a handshake failing with `code`, or 0
 * when the code is local (usage errors, success). Unknown negative codes
 * map to internal_error (80). */
PETREL_API int petrel_error_alert(int code);

/* The name of a TLS AlertDescription ("unknown_ca" for 48); never NULL:
 * "unknown_alert" for values petrel does not know. */
PETREL_API const char *petrel_alert_name(int description);

#ifdef __cplusplus
}
#endif
#endif
