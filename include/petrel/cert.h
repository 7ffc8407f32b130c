/*
 * petrel certificates: loading keys, chains and trust anchors into a
 * config, verifying the peer, the certificate validation callback, and raw
 * public keys (RFC 7250). Included by petrel.h.
 *
 * Parsing, signature checks and path validation are the crypto provider's
 * (OpenSSL libcrypto); petrel never hand-writes them. What petrel adds is
 * the policy: which checks run, which alert each failure sends, and what
 * the application sees in the callback.
 */
#ifndef PETREL_CERT_H
#define PETREL_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <petrel/export.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct petrel_config petrel_config;
typedef struct petrel_conn petrel_conn;

/* ---- loading ---- */

/*
 * The certificate chain this side presents, child to parent (leaf first,
 * then intermediates; the root may be left out). From a file or memory
 * holding PEM (one or more CERTIFICATE blocks; other blocks are skipped) or
 * one or more concatenated DER certificates. Replaces any chain loaded
 * before.
 * Errors: PETREL_ERR_FILE_NOT_FOUND, PETREL_ERR_CERT_PARSE (no certificate,
 * or a malformed one), PETREL_ERR_UNSUPPORTED (a key type petrel cannot
 * use: EC keys on P-256/P-384 and RSA >= 2048 bits are supported),
 * PETREL_ERR_INSECURE (RSA below 2048 bits), PETREL_ERR_KEY_CERT_MISMATCH
 * (a private key is already loaded and does not match the leaf),
 * PETREL_ERR_LIMIT (more than 10 certificates).
 */
PETREL_API int petrel_config_load_cert_chain_file(petrel_config *cfg, const char *path);
PETREL_API int petrel_config_load_cert_chain_mem(petrel_config *cfg, const uint8_t *data,
                                                 size_t len);

/*
 * The private key matching the leaf: PEM or DER, as PKCS#1 (RSA), SEC1
 * (EC) or PKCS#8, or encrypted PKCS#8 (PEM "ENCRYPTED PRIVATE KEY" or DER
 * EncryptedPrivateKeyInfo; also the older PEM "Proc-Type: 4,ENCRYPTED"
 * form) with `password` (NULL for an unencrypted key).
 * Errors: PETREL_ERR_FILE_NOT_FOUND, PETREL_ERR_KEY_PARSE,
 * PETREL_ERR_WRONG_PASSWORD (encrypted and the password is missing or
 * wrong), PETREL_ERR_UNSUPPORTED, PETREL_ERR_INSECURE,
 * PETREL_ERR_KEY_CERT_MISMATCH (a chain is loaded and its leaf holds a
 * different key).
 */
PETREL_API int petrel_config_load_key_file(petrel_config *cfg, const char *path,
                                           const char *password);
PETREL_API int petrel_config_load_key_mem(petrel_config *cfg, const uint8_t *data, size_t len,
                                          const char *password);

/* Chain and key together, replacing both (as matrixSslLoadRsaKeys and
 * SSL_CTX_use_certificate_chain_file + _PrivateKey_file do): the way to
 * switch a config to another identity, since loading one half alone is
 * checked against the other half already loaded. Nothing changes on
 * error. Errors as the two calls above. */
PETREL_API int petrel_config_load_credentials_file(petrel_config *cfg, const char *chain_path,
                                                   const char *key_path, const char *password);
PETREL_API int petrel_config_load_credentials_mem(petrel_config *cfg, const uint8_t *chain,
                                                  size_t chain_len, const uint8_t *key,
                                                  size_t key_len, const char *password);

/*
 * Trusted CAs, added to the config's trust store (several calls add up).
 * A file or memory holds PEM (one or more certificates) or concatenated
 * DER. A directory: every regular file in it that holds certificates
 * (such as a c_rehash'ed CA directory); files that are not certificates
 * are skipped, and a directory with no certificate at all is
 * PETREL_ERR_CERT_PARSE. The subjects of these CAs are the
 * certificate_authorities a server sends when it asks for a client
 * certificate.
 */
PETREL_API int petrel_config_load_ca_file(petrel_config *cfg, const char *path);
PETREL_API int petrel_config_load_ca_dir(petrel_config *cfg, const char *dir);
PETREL_API int petrel_config_load_ca_mem(petrel_config *cfg, const uint8_t *data, size_t len);

/* ---- verification policy ---- */

typedef enum petrel_verify_mode {
    /* Client: the server's chain is not checked (its key still signs the
     * handshake). Server: no client certificate is asked for. The peer is
     * anonymous. */
    PETREL_VERIFY_NONE,
    /* Client: as REQUIRE. Server: asks for a client certificate; a client
     * that sends none is accepted as anonymous, one that sends an invalid
     * chain is refused. */
    PETREL_VERIFY_OPTIONAL,
    /* The peer must present a chain that verifies. The default for
     * clients; a server refuses clients without a certificate
     * (PETREL_ERR_NO_CERTIFICATE, handshake_failure alert). */
    PETREL_VERIFY_REQUIRE,
} petrel_verify_mode;

/*
 * How the peer is verified. Defaults: clients REQUIRE, servers NONE;
 * max_depth 8. max_depth is the number of intermediate certificates
 * allowed between the leaf and the trust anchor (0: the leaf must be
 * issued by a trusted CA directly); 0 in this call leaves it unchanged,
 * so pass PETREL_VERIFY_DEPTH_ZERO for 0; more than 100 is
 * PETREL_ERR_ARG. A longer chain fails with PETREL_ERR_UNKNOWN_CA.
 *
 * Every certificate of the chain must also meet petrel's floor (OpenSSL
 * security level 2): no SHA-1 or MD5 signatures (a trust anchor's own
 * self-signature aside), no RSA key below 2048 bits; otherwise
 * PETREL_ERR_BAD_CERTIFICATE.
 */
#define PETREL_VERIFY_DEPTH_ZERO 0xffffffffu
PETREL_API int petrel_config_set_verify(petrel_config *cfg, petrel_verify_mode mode,
                                        unsigned max_depth);
/* One connection's own mode, over the config's (the depth stays the
 * config's): for example a server that asks only some clients for a
 * certificate. Only before a handshake starts (a client before
 * petrel_connect, a server before its first ClientHello, or between
 * handshakes for the next renegotiation); else PETREL_ERR_STATE.
 * PETREL_ERR_ARG for a bad mode. */
PETREL_API int petrel_conn_set_verify(petrel_conn *conn, petrel_verify_mode mode);

/*
 * Client: the name the server's certificate must carry, checked against
 * its subjectAltName DNS entries (wildcards in the leftmost label only) or,
 * for an IPv4/IPv6 literal, its IP entries; the subject CN is used only
 * when the certificate has no DNS entry in its SAN. Without a name the
 * chain is verified but any name is accepted, which is rarely what a
 * client wants: petrel logs a warning when it verifies a server chain
 * without one. A DNS name is also sent as server_name
 * (SNI, RFC 6066). NULL clears it (no name check: the chain is still
 * verified). Set before petrel_connect. Mismatch:
 * PETREL_ERR_CERT_NAME_MISMATCH, bad_certificate alert.
 */
PETREL_API int petrel_conn_set_server_name(petrel_conn *conn, const char *name);
/* The same for every connection made from cfg (the per-connection call
 * overrides it). */
PETREL_API int petrel_config_set_server_name(petrel_config *cfg, const char *name);

/* ---- the certificate validation callback ---- */

/* What petrel's own checks found for one certificate of the chain. */
typedef enum petrel_cert_auth {
    PETREL_CERT_AUTH_UNTESTED = 0,   /* not checked (verify none, or not reached) */
    PETREL_CERT_AUTH_PASS = 1,       /* every check on it passed */
    PETREL_CERT_AUTH_FAIL_BC = 2,    /* basic constraints / path length */
    PETREL_CERT_AUTH_FAIL_DN = 3,    /* issuer not found or not trusted */
    PETREL_CERT_AUTH_FAIL_SIG = 4,   /* its signature does not verify */
    PETREL_CERT_AUTH_FAIL_DATE = 5,  /* expired or not yet valid */
    PETREL_CERT_AUTH_FAIL_NAME = 6,  /* does not match the server name */
    PETREL_CERT_AUTH_FAIL_USAGE = 7, /* key usage / extended key usage */
    PETREL_CERT_AUTH_FAIL_OTHER = 8, /* anything else the validator reports */
} petrel_cert_auth;

/* One attribute of a distinguished name, in the order the DN holds them. */
typedef struct petrel_dn_attr {
    const char *type;  /* short name: "CN", "O", "OU", "C", "L", "ST", ...; or a dotted OID */
    const char *value; /* UTF-8 */
} petrel_dn_attr;

typedef struct petrel_dn {
    const petrel_dn_attr *attrs;
    size_t count;
    const char *text; /* one line, RFC 2253 style: "CN=host,O=Example" */
} petrel_dn;

typedef enum petrel_san_type {
    PETREL_SAN_DNS,
    PETREL_SAN_IP, /* value is the address as text ("192.0.2.1", "2001:db8::1") */
    PETREL_SAN_EMAIL,
    PETREL_SAN_URI,
    PETREL_SAN_OTHER, /* value is "" */
} petrel_san_type;

typedef struct petrel_san {
    petrel_san_type type;
    const char *value;
} petrel_san;

/* One certificate of the peer's chain, parsed. For a raw public key
 * (is_raw_public_key) only the key fields, der (the SubjectPublicKeyInfo)
 * and auth_status are set. Everything points into memory petrel owns and
 * is valid only during the callback. */
typedef struct petrel_cert_info {
    bool is_raw_public_key;
    int version; /* 1..3 */
    const uint8_t *serial;
    size_t serial_len; /* big-endian magnitude, without DER's leading 00 sign byte */
    petrel_dn subject;
    petrel_dn issuer;
    int64_t not_before; /* seconds since the Unix epoch, UTC */
    int64_t not_after;
    const char *key_algorithm; /* "RSA", "EC", or the OpenSSL name of another type */
    unsigned key_bits;
    const char *key_curve;           /* "P-256", "P-384", ... for EC keys, else NULL */
    const char *signature_algorithm; /* "ecdsa-with-SHA256", "sha256WithRSAEncryption", ... */
    const petrel_san *san;
    size_t san_count;
    bool has_basic_constraints;
    bool is_ca;
    int path_len; /* pathLenConstraint, -1 when absent */
    const uint8_t *der;
    size_t der_len;
    petrel_cert_auth auth_status;
} petrel_cert_info;

/* Returned by the callback: accept the connection, but as anonymous (the
 * value MatrixSSL calls SSL_ALLOW_ANON_CONNECTION). */
#define PETREL_CERT_ALLOW_ANON 254

/*
 * Called once per handshake with the peer's chain (chain[0] is the peer's
 * own certificate; count >= 1) and petrel's verdict: alert is 0 when every
 * check passed, else the alert petrel would send (42 bad_certificate,
 * 43 unsupported_certificate, 45 certificate_expired, 48 unknown_ca, ...).
 * With PETREL_VERIFY_NONE the checks do not run: alert is 0 and every
 * auth_status is UNTESTED.
 *
 * Return 0 to accept the peer (even when alert is not 0: the callback has
 * the last word), a value 1..255 to end the handshake with that alert
 * (PETREL_ERR_CERT_REJECTED; larger values send bad_certificate), a value
 * < 0 to end it with internal_error, or PETREL_CERT_ALLOW_ANON to go on
 * with the peer marked anonymous. petrel_conn_app_data(conn) reaches the
 * application's per-connection state.
 *
 * The callback is not reached when the peer's certificate cannot be used
 * at all: it does not parse (bad_certificate), its key type is not one
 * petrel supports or is too weak (unsupported_certificate), or it holds
 * more than 10 certificates (bad_certificate).
 */
typedef int (*petrel_cert_verify_fn)(void *ref, petrel_conn *conn, const petrel_cert_info *chain,
                                     size_t count, int alert);
PETREL_API int petrel_config_set_cert_callback(petrel_config *cfg, petrel_cert_verify_fn fn,
                                               void *ref);
/* One connection's own callback (fn NULL: none), replacing the config's,
 * for applications whose connections check peers differently. Only
 * before a handshake starts (a client before petrel_connect, a server
 * before its first ClientHello, or between handshakes for the next
 * renegotiation), since it also decides what the hellos offer;
 * PETREL_ERR_STATE while a handshake runs. */
PETREL_API int petrel_conn_set_cert_callback(petrel_conn *conn, petrel_cert_verify_fn fn,
                                             void *ref);

/* ---- raw public keys (RFC 7250) ---- */

/*
 * Use raw public keys instead of X.509 chains (CoAP's RawPublicKey mode):
 * this side sends the SubjectPublicKeyInfo of its loaded key (load a key
 * with petrel_config_load_key_*; a chain is not needed) and accepts a
 * peer key that is pinned (petrel_config_add_pinned_key) or that the
 * callback accepts. With `enable` false (the default) only X.509 is used.
 */
PETREL_API int petrel_config_set_raw_public_keys(petrel_config *cfg, bool enable);
/* A peer key to accept: a SubjectPublicKeyInfo in DER or PEM ("PUBLIC
 * KEY"), or a private key (its public half is pinned). */
PETREL_API int petrel_config_add_pinned_key(petrel_config *cfg, const uint8_t *data, size_t len);
PETREL_API int petrel_config_add_pinned_key_file(petrel_config *cfg, const char *path);

/* ---- after the handshake ---- */

/* True when the peer was not authenticated by a certificate or raw public
 * key: verify mode none (so a server that asked for no client certificate
 * says true), an optional client certificate left out, or the callback
 * returned PETREL_CERT_ALLOW_ANON. PSK peers are authenticated by
 * the key, so this is false for them. */
PETREL_API bool petrel_peer_anonymous(const petrel_conn *conn);

typedef enum petrel_cert_type {
    PETREL_CERT_TYPE_NONE,           /* PSK, or no certificate from the peer */
    PETREL_CERT_TYPE_X509,           /* a certificate chain */
    PETREL_CERT_TYPE_RAW_PUBLIC_KEY, /* RFC 7250 */
} petrel_cert_type;

/* What the peer authenticated with (whether or not it was verified). */
PETREL_API petrel_cert_type petrel_peer_certificate_type(const petrel_conn *conn);
/* The peer's certificate number index (0: its own) as DER, or its raw
 * public key (SubjectPublicKeyInfo) at index 0, valid until
 * petrel_conn_free. Returns PETREL_ERR_ARG when there is no such
 * certificate. */
PETREL_API int petrel_peer_certificate(const petrel_conn *conn, size_t index, const uint8_t **der,
                                       size_t *len);

#ifdef __cplusplus
}
#endif
#endif
