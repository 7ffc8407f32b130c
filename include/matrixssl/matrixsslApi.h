/*
 * The MatrixSSL 3.2 API over petrel (seed: MatrixSSL 3.2 API reference and
 * its MatrixDTLS appendix), for applications written against MatrixSSL.
 * Thin wrappers over the native API in <petrel/petrel.h>; docs/socket-layer.md
 * lists every place where petrel departs from MatrixSSL.
 *
 * What is here now: the integer types, the return codes, the alert
 * numbers, key management (sslKeys_t: matrixSslOpen/Close,
 * matrixSslNewKeys/DeleteKeys, matrixSslLoadRsaKeys[Mem], matrixSslLoadPsk)
 * and the certificate structure handed to validation callbacks
 * (psX509Cert_t). The session and buffer-flow calls
 * (matrixSslNewClientSession, matrixSslReceivedData, ...) and the MatrixDTLS
 * calls join this header in their own sections below.
 *
 * Return convention (MatrixSSL's): PS_SUCCESS (0) or a positive status on
 * success, a negative PS_* code on failure. Failures also log the petrel
 * error behind them (its name, e.g. PETREL_ERR_KEY_CERT_MISMATCH) through
 * the platform log at warning level.
 */
#ifndef PETREL_MATRIXSSL_API_H
#define PETREL_MATRIXSSL_API_H

#include <stddef.h>
#include <stdint.h>

#include <petrel/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * Integer types (MatrixSSL's core/osdep.h). Define MATRIXSSL_NO_INT_TYPES
 * before including this header when the application already has typedefs
 * with these names; they must then be the same widths.
 * ====================================================================== */
#if !defined(MATRIXSSL_NO_INT_TYPES) && !defined(MATRIXSSL_INT_TYPES_DEFINED)
#define MATRIXSSL_INT_TYPES_DEFINED
typedef int8_t int8;
typedef uint8_t uint8;
typedef int16_t int16;
typedef uint16_t uint16;
typedef int32_t int32;
typedef uint32_t uint32;
typedef int64_t int64;
typedef uint64_t uint64;
#endif

#define PS_TRUE  1
#define PS_FALSE 0

/* ======================================================================
 * Return codes. The values are MatrixSSL 3.x's (core/coreApi.h,
 * crypto/cryptoApi.h, matrixssl/matrixsslApi.h); the seed names them
 * without numbers.
 * ====================================================================== */

#define PS_SUCCESS               0
#define PS_FAILURE               (-1)
#define PS_FAIL                  PS_FAILURE
#define PS_ARG_FAIL              (-6)  /* bad function parameter */
#define PS_PLATFORM_FAIL         (-7)  /* a system call failed (file, socket) */
#define PS_MEM_FAIL              (-8)  /* out of memory */
#define PS_LIMIT_FAIL            (-9)  /* a size or count limit was exceeded */
#define PS_UNSUPPORTED_FAIL      (-10) /* algorithm, suite or feature not supported */
#define PS_DISABLED_FEATURE_FAIL (-11)
#define PS_PROTOCOL_FAIL         (-12) /* a TLS/DTLS protocol error */
#define PS_TIMEOUT_FAIL          (-13) /* DTLS: the handshake's retransmissions ran out */
#define PS_INTERRUPT_FAIL        (-14)
#define PS_PENDING               (-15)
#define PS_EAGAIN                (-16) /* try again later: the socket would block */

#define PS_PARSE_FAIL (-31) /* a certificate or key did not parse */

/* Certificate authentication results: psX509Cert_t.authStatus, and
 * PS_CERT_AUTH_FAIL as a return code. */
#define PS_CERT_AUTH_PASS           PS_TRUE
#define PS_CERT_AUTH_FAIL_BC        (-32) /* issuer is not a CA / path length exceeded */
#define PS_CERT_AUTH_FAIL_DN        (-33) /* issuer not found, not trusted */
#define PS_CERT_AUTH_FAIL_SIG       (-34) /* signature does not verify */
#define PS_CERT_AUTH_FAIL_REVOKED   (-35) /* (never set by petrel: no CRLs) */
#define PS_CERT_AUTH_FAIL           (-36) /* any other failure */
#define PS_CERT_AUTH_FAIL_EXTENSION (-37) /* see authFailFlags */
#define PS_CERT_AUTH_FAIL_PATH_LEN  (-38) /* (petrel reports path length as _BC) */
#define PS_CERT_AUTH_FAIL_AUTHKEY   (-39) /* (never set by petrel) */

/* psX509Cert_t.authFailFlags when authStatus is PS_CERT_AUTH_FAIL_EXTENSION
 * (MatrixSSL 3.4 and later; petrel adds the field to 3.2's structure). */
#define PS_CERT_AUTH_FAIL_KEY_USAGE_FLAG 0x01 /* key usage or extended key usage */
#define PS_CERT_AUTH_FAIL_EKU_FLAG       0x02
#define PS_CERT_AUTH_FAIL_SUBJECT_FLAG   0x04 /* does not match the expected server name */
#define PS_CERT_AUTH_FAIL_DATE_FLAG      0x08 /* expired or not yet valid */

/* Statuses of the buffer-flow API (section "Sessions" below, to come). */
#define MATRIXSSL_SUCCESS            PS_SUCCESS
#define MATRIXSSL_ERROR              PS_PROTOCOL_FAIL
#define MATRIXSSL_REQUEST_SEND       1
#define MATRIXSSL_REQUEST_RECV       2
#define MATRIXSSL_REQUEST_CLOSE      3
#define MATRIXSSL_APP_DATA           4
#define MATRIXSSL_HANDSHAKE_COMPLETE 5
#define MATRIXSSL_RECEIVED_ALERT     6

/* ======================================================================
 * Alerts (RFC 5246 §7.2), as certificate validators return them.
 * ====================================================================== */

#define SSL_ALERT_LEVEL_WARNING 1
#define SSL_ALERT_LEVEL_FATAL   2

#define SSL_ALERT_CLOSE_NOTIFY            0
#define SSL_ALERT_UNEXPECTED_MESSAGE      10
#define SSL_ALERT_BAD_RECORD_MAC          20
#define SSL_ALERT_RECORD_OVERFLOW         22
#define SSL_ALERT_HANDSHAKE_FAILURE       40
#define SSL_ALERT_BAD_CERTIFICATE         42
#define SSL_ALERT_UNSUPPORTED_CERTIFICATE 43
#define SSL_ALERT_CERTIFICATE_REVOKED     44
#define SSL_ALERT_CERTIFICATE_EXPIRED     45
#define SSL_ALERT_CERTIFICATE_UNKNOWN     46
#define SSL_ALERT_ILLEGAL_PARAMETER       47
#define SSL_ALERT_UNKNOWN_CA              48
#define SSL_ALERT_ACCESS_DENIED           49
#define SSL_ALERT_DECODE_ERROR            50
#define SSL_ALERT_DECRYPT_ERROR           51
#define SSL_ALERT_PROTOCOL_VERSION        70
#define SSL_ALERT_INSUFFICIENT_SECURITY   71
#define SSL_ALERT_INTERNAL_ERROR          80
#define SSL_ALERT_NO_RENEGOTIATION        100
#define SSL_ALERT_UNSUPPORTED_EXTENSION   110
#define SSL_ALERT_UNKNOWN_PSK_IDENTITY    115

/* Returned by a certificate validator: go on with the peer unauthenticated
 * (the same value as petrel's PETREL_CERT_ALLOW_ANON). */
#define SSL_ALLOW_ANON_CONNECTION 254

/* ======================================================================
 * Library init and close
 * ====================================================================== */

/* Initialises the library: call once before any other call. petrel needs
 * no global state, so this always returns PS_SUCCESS; it exists for
 * MatrixSSL programs. */
PETREL_API int32 matrixSslOpen(void);
/* The counterpart of matrixSslOpen; frees nothing (there is nothing). */
PETREL_API void matrixSslClose(void);

/* ======================================================================
 * Key material: sslKeys_t
 *
 * An sslKeys_t holds everything a side authenticates with and trusts: a
 * certificate chain and its private key, trusted CAs, PSKs. It wraps one
 * petrel_config, used by every connection made from these keys, in either
 * role: the same keys may serve clients and servers. Load everything
 * first; after the first connection uses the keys they MUST NOT change,
 * and they MUST outlive every connection made from them. Connections in
 * several threads may share one sslKeys_t: what differs per connection
 * (sslConnect's cipherSuite and certValidator) is set on the connection,
 * never on the keys. The keys keep no copy of the material loaded into
 * them beyond what petrel's configuration holds.
 * ====================================================================== */

typedef struct sslKeys sslKeys_t;

/* *keys receives a new, empty key structure (NULL on failure).
 * PS_SUCCESS, PS_ARG_FAIL (keys is NULL), PS_MEM_FAIL. */
PETREL_API int32 matrixSslNewKeys(sslKeys_t **keys);

/* Frees keys and all the material loaded into it (secrets are wiped).
 * NULL is ignored. */
PETREL_API void matrixSslDeleteKeys(sslKeys_t *keys);

/*
 * Loads this side's certificate chain and private key, and trusted CAs,
 * from PEM (or DER) files. Any argument but keys may be NULL, but certFile
 * and privFile go together: both or neither.
 *   certFile: the chain, child to parent (leaf first); several files may
 *     be given separated by ';', or several certificates in one file.
 *   privFile: the leaf's private key: RSA (PKCS#1 or PKCS#8) as in
 *     MatrixSSL, and, as a petrel extension, EC (P-256/P-384: SEC1 or
 *     PKCS#8). privPass decrypts an encrypted PKCS#8 (or legacy PEM) key;
 *     NULL for a plain key.
 *   trustedCAFiles: CA certificates to trust, ';'-separated files, each
 *     holding one or more certificates.
 * MAY be called once per keys (with either this function or the Mem
 * variant); a second call is PS_ARG_FAIL.
 * Returns PS_SUCCESS; PS_ARG_FAIL (keys NULL, only one of certFile and
 * privFile, nothing to load, second call); PS_PLATFORM_FAIL (a file could
 * not be read); PS_PARSE_FAIL (a certificate or key did not parse, or the
 * key is encrypted and privPass is missing or wrong); PS_CERT_AUTH_FAIL
 * (the private key does not match the leaf certificate);
 * PS_UNSUPPORTED_FAIL (a key type or size petrel refuses: RSA below 2048
 * bits, Ed25519, ...); PS_LIMIT_FAIL (more than 10 certificates in the
 * chain); PS_MEM_FAIL. After a failure, part of the material may have been
 * loaded: delete the keys.
 */
PETREL_API int32 matrixSslLoadRsaKeys(sslKeys_t *keys, const char *certFile, const char *privFile,
                                      const char *privPass, const char *trustedCAFiles);

/*
 * The same from memory: certBuf/certLen (the chain), privBuf/privLen (the
 * unencrypted private key: this call has no password, as in MatrixSSL),
 * trustedCABuf/trustedCALen (one or more CA certificates). A NULL buffer
 * (or a length of 0) leaves that part out; certBuf and privBuf go
 * together. The buffers are not kept: petrel holds what it parsed from
 * them, and the caller may free them on return. Returns as
 * matrixSslLoadRsaKeys (PS_ARG_FAIL also for a negative length), without
 * PS_PLATFORM_FAIL.
 */
PETREL_API int32 matrixSslLoadRsaKeysMem(sslKeys_t *keys, unsigned char *certBuf, int32 certLen,
                                         unsigned char *privBuf, int32 privLen,
                                         unsigned char *trustedCABuf, int32 trustedCALen);

/*
 * Adds a pre-shared key (keyLen 1..256 bytes) with its identity (idLen
 * 1..128 bytes). May be called several times: a server accepts every
 * identity loaded; a client offers the one loaded last. Returns
 * PS_SUCCESS, PS_ARG_FAIL (NULL or lengths out of range), PS_MEM_FAIL.
 */
PETREL_API int32 matrixSslLoadPsk(sslKeys_t *keys, unsigned char *key, uint32 keyLen,
                                  unsigned char *id, uint32 idLen);

/* ---- petrel extensions to the key structure ---- */

/*
 * Client: the name the server's certificate must carry (checked against
 * its subjectAltName DNS/IP entries, and sent as SNI when it is a DNS
 * name). MatrixSSL 3.2 leaves the name check to the certificate
 * validator; without a name petrel verifies the chain but accepts any
 * name (and logs a warning). NULL clears it. PS_SUCCESS, PS_ARG_FAIL.
 */
PETREL_API int32 matrixSslKeysSetServerName(sslKeys_t *keys, const char *name);

/*
 * DTLS: petrel's lossy-link retransmission profile
 * (petrel_config_set_lossy_link_profile) for links that lose many
 * datagrams: short retransmission timers around rttHintMs (0: 100 ms)
 * instead of RFC 6347's 1 s doubling up to 60 s. PS_SUCCESS, PS_ARG_FAIL.
 */
PETREL_API int32 matrixSslKeysSetLossyLink(sslKeys_t *keys, uint32 rttHintMs);

/* ======================================================================
 * Certificates as validators see them: psX509Cert_t (crypto/x509.h)
 *
 * Built by petrel from the peer's chain for the duration of a validation
 * callback; everything is read-only and valid only during the call. Fields
 * petrel's parsed view does not carry are zero / NULL (marked "not filled").
 * ====================================================================== */

#define SHA1_HASH_SIZE 20

/* ASN.1 string and time types. */
#define ASN_UTF8STRING      12
#define ASN_PRINTABLESTRING 19
#define ASN_IA5STRING       22
#define ASN_UTCTIME         23
#define ASN_GENERALIZEDTIME 24
#define ASN_BMPSTRING       30

/* Algorithm identifiers: MatrixSSL's sums of the OID's bytes. */
#define OID_RSA_KEY_ALG      645
#define OID_ECDSA_KEY_ALG    518
#define OID_SHA1_RSA_SIG     649
#define OID_RSASSA_PSS       654
#define OID_SHA256_RSA_SIG   655
#define OID_SHA384_RSA_SIG   656
#define OID_SHA512_RSA_SIG   657
#define OID_SHA1_ECDSA_SIG   520
#define OID_SHA224_ECDSA_SIG 523
#define OID_SHA256_ECDSA_SIG 524
#define OID_SHA384_ECDSA_SIG 525
#define OID_SHA512_ECDSA_SIG 526

/* psPubKey_t.type */
#define PS_NOKEY 0
#define PS_RSA   1
#define PS_ECC   3

typedef struct {
    int32 type;    /* PS_RSA, PS_ECC, or PS_NOKEY for another type */
    int32 keysize; /* bytes: the RSA modulus, or the EC field size */
    /* petrel extensions */
    uint32 bits;           /* key size in bits */
    const char *algorithm; /* "RSA", "EC", or OpenSSL's name of another type */
    const char *curve;     /* "P-256", "P-384" for EC keys, else NULL */
} psPubKey_t;

/* A distinguished name. Each string ends with two NUL bytes; its Len
 * counts them (MatrixSSL's convention); NULL / 0 when absent. Where the
 * name holds an attribute more than once, the first one is given. */
typedef struct {
    char *country;
    char *state;
    char *locality;
    char *organization;
    char *orgUnit;
    char *commonName;
    char hash[SHA1_HASH_SIZE]; /* not filled */
    char *dnenc;               /* not filled (NULL) */
    int32 dnencLen;
    /* The ASN.1 type of each string: petrel hands out UTF-8 text, so always
     * ASN_UTF8STRING. */
    short countryType;
    short countryLen;
    short stateType;
    short stateLen;
    short localityType;
    short localityLen;
    short organizationType;
    short organizationLen;
    short orgUnitType;
    short orgUnitLen;
    short commonNameType;
    short commonNameLen;
    /* petrel extension: the whole name on one line, RFC 2253 style
     * ("CN=localhost,O=petrel-test"). */
    const char *text;
} x509DNattributes_t;

typedef struct {
    int32 cA;                /* PS_TRUE for a CA certificate */
    int32 pathLenConstraint; /* -1 when absent */
} x509extBasicConstraints_t;

/* One subjectAltName entry. id: 0 other, 1 email, 2 DNS, 6 URI,
 * 7 iPAddress; name: "other", "email", "DNS", "URI", "iPAddress". data is
 * the name's bytes (for iPAddress: 4 or 16 bytes of address, as in the
 * certificate), followed by a NUL not counted in dataLen. */
typedef struct psSubjectAltNameEntry {
    int32 id;
    unsigned char name[16];
    unsigned char *data;
    int32 dataLen;
    struct psSubjectAltNameEntry *next;
} x509SubjectAltName_t;

typedef struct {
    x509extBasicConstraints_t bc;
    x509SubjectAltName_t *san; /* NULL when the certificate has none */
} x509v3extensions_t;

typedef struct psCert {
    int32 version;               /* 0 = v1, 1 = v2, 2 = v3 */
    unsigned char *serialNumber; /* big-endian, without a leading 00 sign byte */
    int32 serialNumberLen;
    x509DNattributes_t issuer;
    x509DNattributes_t subject;
    int32 timeType;  /* ASN_UTCTIME for dates in 1950..2049, else ASN_GENERALIZEDTIME */
    char *notBefore; /* "YYMMDDHHMMSSZ" (UTCTime) or "YYYYMMDDHHMMSSZ" */
    char *notAfter;
    psPubKey_t publicKey;
    int32 pubKeyAlgorithm;    /* OID_RSA_KEY_ALG, OID_ECDSA_KEY_ALG, 0 */
    int32 certAlgorithm;      /* OID_*_SIG, 0 when unknown */
    int32 sigAlgorithm;       /* the same as certAlgorithm */
    unsigned char *signature; /* not filled */
    int32 signatureLen;
    unsigned char sigHash[SHA1_HASH_SIZE]; /* not filled */
    unsigned char *uniqueIssuerId;         /* not filled */
    int32 uniqueIssuerIdLen;
    unsigned char *uniqueSubjectId; /* not filled */
    int32 uniqueSubjectIdLen;
    x509v3extensions_t extensions;
    /* PS_CERT_AUTH_PASS, PS_FALSE (untested: verification off, or not
     * reached), PS_CERT_AUTH_FAIL_BC, _DN, _SIG, _EXTENSION (with
     * authFailFlags) or PS_CERT_AUTH_FAIL. */
    int32 authStatus;
    int32 authFailFlags;        /* petrel extension, as in MatrixSSL 3.4 */
    unsigned char *unparsedBin; /* the certificate's DER */
    int32 binLen;
    struct psCert *next; /* the issuer's certificate, NULL at the end */
    /* petrel extensions */
    int64 notBeforeTime; /* seconds since the Unix epoch, UTC */
    int64 notAfterTime;
    const char *sigAlgorithmName; /* "ecdsa-with-SHA256", "sha256WithRSAEncryption" ... */
    int32 isRawPublicKey;         /* PS_TRUE for an RFC 7250 raw key: only publicKey,
                                     unparsedBin (the SubjectPublicKeyInfo) and
                                     authStatus are set */
} psX509Cert_t;

/* ======================================================================
 * Sessions (sslSessionId_t). Session resumption does not exist in petrel
 * yet: the type is declared so that the socket layer's sslConnect keeps
 * its seed signature; callers pass NULL (anything else is ignored).
 * ====================================================================== */

typedef struct sslSessionId sslSessionId_t;

#ifdef __cplusplus
}
#endif
#endif
