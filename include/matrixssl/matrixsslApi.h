/*
 * The MatrixSSL 3.2 API over petrel (seed: MatrixSSL 3.2 API reference and
 * its MatrixDTLS appendix), for applications written against MatrixSSL.
 * Thin wrappers over the native API in <petrel/petrel.h>; docs/matrixssl.md
 * lists every place where petrel departs from MatrixSSL (and
 * docs/socket-layer.md, for the socket layer).
 *
 * Everything the seed documents is here: the integer types, the return
 * codes and alert numbers, key management (sslKeys_t), the certificate
 * structure validators see (psX509Cert_t), the cipher-suite ids, sessions
 * (ssl_t) and their buffer flow, hello extensions, and MatrixDTLS.
 * docs/matrixssl.md maps each function to the native API and lists every
 * difference (session resumption is not implemented yet).
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

/* Statuses of the buffer-flow API (section "Sessions" below). */
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
 * Cipher suites (matrixssllib.h): the IANA ids. The first group is the
 * seed's table: none of them is offered by petrel. RC4, 3DES, SEED, MD5
 * and static-RSA suites are refused as insecure; the DHE and PSK CBC
 * suites are not implemented (petrel offers AEAD suites only). Forcing
 * any of them (matrixSslNewClientSession's cipherSuite) gives
 * PS_UNSUPPORTED_FAIL with a log line saying why. The second group is
 * what petrel negotiates.
 * ====================================================================== */

#define SSL_NULL_WITH_NULL_NULL           0x0000
#define SSL_RSA_WITH_NULL_MD5             0x0001
#define SSL_RSA_WITH_NULL_SHA             0x0002
#define SSL_RSA_WITH_RC4_128_MD5          0x0004
#define SSL_RSA_WITH_RC4_128_SHA          0x0005
#define SSL_RSA_WITH_3DES_EDE_CBC_SHA     0x000A
#define SSL_DHE_RSA_WITH_3DES_EDE_CBC_SHA 0x0016
#define TLS_RSA_WITH_AES_128_CBC_SHA      0x002F
#define TLS_DHE_RSA_WITH_AES_128_CBC_SHA  0x0033
#define TLS_RSA_WITH_AES_256_CBC_SHA      0x0035
#define TLS_DHE_RSA_WITH_AES_256_CBC_SHA  0x0039
#define TLS_PSK_WITH_AES_128_CBC_SHA      0x008C
#define TLS_PSK_WITH_AES_256_CBC_SHA      0x008D
#define TLS_DHE_PSK_WITH_AES_128_CBC_SHA  0x0090
#define TLS_DHE_PSK_WITH_AES_256_CBC_SHA  0x0091
#define TLS_RSA_WITH_SEED_CBC_SHA         0x0096
#define TLS_EMPTY_RENEGOTIATION_INFO_SCSV 0x00FF

#define TLS_PSK_WITH_AES_128_GCM_SHA256               0x00A8
#define TLS_PSK_WITH_AES_256_GCM_SHA384               0x00A9
#define TLS_PSK_WITH_AES_128_CCM                      0xC0A4
#define TLS_PSK_WITH_AES_128_CCM_8                    0xC0A8
#define TLS_PSK_WITH_CHACHA20_POLY1305_SHA256         0xCCAB
#define TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256   0xCCAC
#define TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256       0xC02B
#define TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384       0xC02C
#define TLS_ECDHE_ECDSA_WITH_AES_128_CCM              0xC0AC
#define TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8            0xC0AE
#define TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 0xCCA9
#define TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256         0xC02F
#define TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384         0xC030
#define TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256   0xCCA8

/* matrixSslSetCipherSuiteEnabledStatus: how many suites one session may
 * disable. */
#define SSL_MAX_DISABLED_CIPHERS 8

/* matrixSslEncodeRehandshake's sessionOption. */
#define SSL_OPTION_FULL_HANDSHAKE 1

/* The session id size and the master secret size (sslSessionId_t). */
#define SSL_MAX_SESSION_ID_SIZE 32
#define SSL_HS_MASTER_SIZE      48

/* ======================================================================
 * Library init and compile-time configuration
 *
 * matrixSslOpen() is a macro, as in later MatrixSSL releases: it hands
 * the library the configuration names the application was compiled with.
 * Honoured: DTLS_SEND_RECORDS_INDIVIDUALLY (each handshake message of a
 * DTLS flight in a datagram of its own, for every session opened after
 * matrixSslOpen). USE_DTLS is honoured per source file, below. Every
 * other MatrixSSL configuration name is documented in docs/matrixssl.md
 * as honoured or ignored.
 * ====================================================================== */

#define MATRIXSSL_CONFIG_RECORDS_INDIVIDUALLY 0x01u

#ifdef DTLS_SEND_RECORDS_INDIVIDUALLY
#define MATRIXSSL_CONFIG_FLAGS_ MATRIXSSL_CONFIG_RECORDS_INDIVIDUALLY
#else
#define MATRIXSSL_CONFIG_FLAGS_ 0u
#endif

/* Sets the process-wide options from config (MATRIXSSL_CONFIG_*): call it
 * through matrixSslOpen(). Always PS_SUCCESS: petrel has no global state
 * to build. */
PETREL_API int32 matrixSslOpenWithConfig(uint32 config);
#define matrixSslOpen() matrixSslOpenWithConfig(MATRIXSSL_CONFIG_FLAGS_)
/* Resets what matrixSslOpen, matrixDtlsSetPmtu and the global
 * matrixSslSetCipherSuiteEnabledStatus set to their defaults. Sessions
 * and keys still open keep working. */
PETREL_API void matrixSslClose(void);

/* ======================================================================
 * Sessions: ssl_t
 *
 * One TLS or DTLS connection, created from keys that must outlive it.
 * Nothing is sent or received by the library: the application moves the
 * bytes with the buffer calls below (the seed's event flow). Which
 * protocol a session speaks:
 *   - matrixSslNewClientSession / matrixSslNewServerSession make TLS 1.2
 *     sessions (a byte stream, e.g. TCP), unless the file is compiled
 *     with USE_DTLS defined (MatrixDTLS's configuration name): then they
 *     are the DTLS 1.2 calls below (datagrams, e.g. UDP).
 *   - matrixDtlsNewClientSession / matrixDtlsNewServerSession (petrel
 *     names) always make DTLS sessions, whatever USE_DTLS says.
 * ====================================================================== */

typedef struct ssl ssl_t;

/* Session resumption storage. petrel does not resume sessions yet: a
 * client given one always runs a full handshake and leaves it zeroed.
 * Declared whole so that programs can allocate it as MatrixSSL's. */
typedef struct sslSessionId {
    unsigned char id[SSL_MAX_SESSION_ID_SIZE];
    unsigned char masterSecret[SSL_HS_MASTER_SIZE];
    uint32 cipherId;
} sslSessionId_t;

/* Clears sid (a full handshake follows). PS_SUCCESS, PS_ARG_FAIL. */
PETREL_API int32 matrixSslInitSessionId(sslSessionId_t *sid);

/* ClientHello extensions built by the application (RFC 6066 formats). */
typedef struct tlsExtension tlsExtension_t;

/* The validator both session kinds take (see "The Certificate
 * Validation Callback Function" in the seed). alert is 0 when petrel's
 * checks passed, else the alert petrel would send: SSL_ALERT_BAD_CERTIFICATE,
 * SSL_ALERT_UNKNOWN_CA, and (petrel checks more than MatrixSSL 3.2)
 * SSL_ALERT_CERTIFICATE_EXPIRED or SSL_ALERT_UNSUPPORTED_CERTIFICATE.
 * Return 0 to go on, SSL_ALLOW_ANON_CONNECTION to go on unauthenticated,
 * 1..255 to end the handshake with that alert, < 0 to end it with
 * internal_error. */
typedef int32 (*sslCertCb_t)(ssl_t *ssl, psX509Cert_t *cert, int32 alert);
/* extensionCback: each ServerHello extension, type and data. < 0 ends
 * the handshake (handshake_failure). */
typedef int32 (*sslExtCb_t)(ssl_t *ssl, unsigned short type, unsigned short len, void *data);

/*
 * Client: a new session with its ClientHello already encoded: send it
 * (matrixSslGetOutdata / matrixDtlsGetOutdata) next.
 *   sessionId: kept for resumption; see sslSessionId_t (may be NULL).
 *   cipherSuite: 0 offers every suite the keys have credentials for;
 *     an id offers that one suite only.
 *   certValidator: sees the server's chain and decides (may be NULL:
 *     petrel's own verdict stands).
 *   extensions: ClientHello extensions, copied: delete them any time
 *     after (may be NULL).
 *   extensionCback: sees the ServerHello's extensions (may be NULL).
 * Returns MATRIXSSL_REQUEST_SEND; PS_ARG_FAIL (ssl or keys NULL, keys
 * without a PSK, CA or certificate to use); PS_MEM_FAIL;
 * PS_UNSUPPORTED_FAIL (cipherSuite insecure, unknown to petrel, or
 * disabled globally; an extension petrel cannot carry); MATRIXSSL_ERROR
 * (the ClientHello could not be built); PS_PLATFORM_FAIL (no entropy).
 * On failure *ssl is NULL.
 */
PETREL_API int32 matrixSslNewClientSession(ssl_t **ssl, sslKeys_t *keys, sslSessionId_t *sessionId,
                                           uint32 cipherSuite, sslCertCb_t certValidator,
                                           tlsExtension_t *extensions, sslExtCb_t extensionCback);

/*
 * Server: a new session waiting for a ClientHello (matrixSslGetReadbuf
 * next). certCB, when given, requests and checks a client certificate
 * (the keys must hold CAs to name, or the callback decides alone). A
 * DTLS server session answers a ClientHello without a cookie with a
 * HelloVerifyRequest, on this session. Returns PS_SUCCESS; PS_ARG_FAIL;
 * PS_FAILURE (out of memory, as the seed says).
 */
PETREL_API int32 matrixSslNewServerSession(ssl_t **ssl, sslKeys_t *keys, sslCertCb_t certCB);

/* The same, always DTLS 1.2 (petrel names; USE_DTLS maps the matrixSsl
 * names here). */
PETREL_API int32 matrixDtlsNewClientSession(ssl_t **ssl, sslKeys_t *keys, sslSessionId_t *sessionId,
                                            uint32 cipherSuite, sslCertCb_t certValidator,
                                            tlsExtension_t *extensions, sslExtCb_t extensionCback);
PETREL_API int32 matrixDtlsNewServerSession(ssl_t **ssl, sslKeys_t *keys, sslCertCb_t certCB);

#ifdef USE_DTLS
#define matrixSslNewClientSession matrixDtlsNewClientSession
#define matrixSslNewServerSession matrixDtlsNewServerSession
#endif

/* Frees the session (its keys stay). NULL is ignored. */
PETREL_API void matrixSslDeleteSession(ssl_t *ssl);

/* *anon = 1 when the certificate validator allowed the peer with
 * SSL_ALLOW_ANON_CONNECTION, else 0 (NULL arguments: nothing is set). */
PETREL_API void matrixSslGetAnonStatus(ssl_t *ssl, int32 *anon);

/* ======================================================================
 * The buffer flow
 * ====================================================================== */

/* Where to put bytes from the peer: *buf and how many fit (> 0). TLS:
 * any number of stream bytes up to that; DTLS: one whole datagram.
 * PS_ARG_FAIL. */
PETREL_API int32 matrixSslGetReadbuf(ssl_t *ssl, unsigned char **buf);

/*
 * Processes `bytes` just put into the read buffer. Returns
 * MATRIXSSL_REQUEST_RECV (read more), MATRIXSSL_REQUEST_SEND (a reply is
 * encoded: get it with GetOutdata), MATRIXSSL_HANDSHAKE_COMPLETE,
 * MATRIXSSL_APP_DATA (*ptbuf / *ptLen: the plaintext) or
 * MATRIXSSL_RECEIVED_ALERT (*ptbuf: level, description). After APP_DATA
 * and RECEIVED_ALERT, call matrixSslProcessedData. When the peer's data
 * ends the connection with an error, the fatal alert petrel encoded is
 * announced with MATRIXSSL_REQUEST_SEND (sending it gives
 * MATRIXSSL_REQUEST_CLOSE); every ReceivedData or ProcessedData after
 * that returns the error. Failures: PS_ARG_FAIL, PS_MEM_FAIL, PS_PROTOCOL_FAIL, and, closer to
 * the cause, PS_CERT_AUTH_FAIL (the peer's certificate was refused) and
 * PS_TIMEOUT_FAIL (DTLS retransmissions spent).
 */
PETREL_API int32 matrixSslReceivedData(ssl_t *ssl, uint32 bytes, unsigned char **ptbuf,
                                       uint32 *ptLen);

/* Done with the plaintext (or alert) handed out: returns the next record's
 * event (MATRIXSSL_APP_DATA, MATRIXSSL_RECEIVED_ALERT, MATRIXSSL_REQUEST_SEND,
 * MATRIXSSL_HANDSHAKE_COMPLETE), MATRIXSSL_REQUEST_RECV when a partial
 * record is held, or PS_SUCCESS when the buffer is used up. Failures as
 * matrixSslReceivedData. */
PETREL_API int32 matrixSslProcessedData(ssl_t *ssl, unsigned char **ptbuf, uint32 *ptlen);

/* Encoded bytes waiting to be sent: *buf and the count, 0 when none,
 * PS_ARG_FAIL. TLS: every byte waiting. DTLS: one datagram, never a
 * resend (see matrixDtlsGetOutdata), so polling it is harmless. */
PETREL_API int32 matrixSslGetOutdata(ssl_t *ssl, unsigned char **buf);

/* `bytes` of the outdata were sent (DTLS: the whole datagram). Returns
 * MATRIXSSL_REQUEST_SEND (more is waiting), MATRIXSSL_SUCCESS,
 * MATRIXSSL_REQUEST_CLOSE (a closure or fatal alert went out: close),
 * MATRIXSSL_HANDSHAKE_COMPLETE (this side's last handshake flight went
 * out), or PS_ARG_FAIL (bytes is 0 or more than was waiting). */
PETREL_API int32 matrixSslSentData(ssl_t *ssl, uint32 bytes);

/* Space for up to the returned number of plaintext bytes (> 0, at most
 * requestedLen: 16384 for TLS, what one datagram carries for DTLS);
 * write them, then matrixSslEncodeWritebuf. PS_ARG_FAIL (requestedLen 0),
 * PS_FAILURE (the handshake is not complete), PS_PROTOCOL_FAIL (the
 * session is closed or failed). */
PETREL_API int32 matrixSslGetWritebuf(ssl_t *ssl, unsigned char **buf, uint32 requestedLen);
/* Encrypts the len bytes written into the write buffer. Returns the
 * number of bytes encoded (> len); PS_ARG_FAIL (len 0 or beyond the
 * space given); PS_PROTOCOL_FAIL (closed or failed); PS_FAILURE (no
 * matrixSslGetWritebuf before). */
PETREL_API int32 matrixSslEncodeWritebuf(ssl_t *ssl, uint32 len);

/* Encrypts len bytes from ptBuf (left untouched) into the outdata.
 * Returns the number of bytes encoded (> len); PS_LIMIT_FAIL (len over
 * 16384, or over what one datagram carries); PS_ARG_FAIL (NULL, len 0);
 * PS_FAILURE (handshake not complete); PS_PROTOCOL_FAIL (closed or
 * failed); PS_MEM_FAIL. */
PETREL_API int32 matrixSslEncodeToOutdata(ssl_t *ssl, unsigned char *ptBuf, uint32 len);

/* Encodes a close_notify alert. MATRIXSSL_SUCCESS, also when the peer's
 * close_notify came first (petrel encoded the answer already: send what
 * GetOutdata gives); MATRIXSSL_ERROR (this side sent one already, or the
 * session failed); PS_ARG_FAIL. */
PETREL_API int32 matrixSslEncodeClosureAlert(ssl_t *ssl);

/*
 * Starts a new full handshake on an established session, RFC 5746 secure
 * renegotiation in (D)TLS 1.2: a client encodes a ClientHello, a server a
 * HelloRequest (send it with GetOutdata). The end is announced with
 * MATRIXSSL_HANDSHAKE_COMPLETE as for the first handshake; application
 * data keeps flowing meanwhile. A peer that refuses answers with a
 * no_renegotiation warning (MATRIXSSL_RECEIVED_ALERT 1, 100) and the keys
 * stay as they are.
 *   keys: NULL or the session's own (other keys: PS_UNSUPPORTED_FAIL).
 *   certCb: a new validator for the new handshake (a server's asks for a
 *     client certificate); NULL keeps the current one.
 *   sessionOption: 0 or SSL_OPTION_FULL_HANDSHAKE (every rehandshake is
 *     full: petrel does not resume sessions yet).
 *   cipherSpec: client: the one suite to offer, 0 for all.
 * Returns MATRIXSSL_SUCCESS; MATRIXSSL_ERROR (not established, a handshake
 * running, or the session failed); PS_UNSUPPORTED_FAIL (the peer did not
 * signal RFC 5746 in the first handshake, so no renegotiation is safe;
 * or a cipherSpec petrel refuses; or other keys); PS_ARG_FAIL;
 * PS_MEM_FAIL; PS_PLATFORM_FAIL. Sessions answer the peer's rehandshake
 * requests on their own (MatrixSSL's ENABLE_SECURE_REHANDSHAKES).
 */
PETREL_API int32 matrixSslEncodeRehandshake(ssl_t *ssl, sslKeys_t *keys, sslCertCb_t certCb,
                                            uint32 sessionOption, uint32 cipherSpec);

/*
 * Disables (PS_FALSE) or re-enables (PS_TRUE) cipherId, for one server
 * session (right after matrixSslNewServerSession, before its ClientHello)
 * or, with ssl NULL, for every session created after the call (clients
 * then do not offer it either). A globally disabled suite stays disabled
 * whatever a session says. Returns MATRIXSSL_SUCCESS; MATRIXSSL_ERROR
 * (cipherId is not a suite petrel implements); PS_LIMIT_FAIL (more than
 * SSL_MAX_DISABLED_CIPHERS for one session); PS_ARG_FAIL (status not
 * PS_TRUE/PS_FALSE, or the ClientHello already arrived);
 * PS_UNSUPPORTED_FAIL (a client session; or enabling an insecure suite).
 */
PETREL_API int32 matrixSslSetCipherSuiteEnabledStatus(ssl_t *ssl, uint16 cipherId, uint32 status);

/* ======================================================================
 * Hello extensions (client)
 * ====================================================================== */

/* PS_SUCCESS, PS_ARG_FAIL, PS_MEM_FAIL. */
PETREL_API int32 matrixSslNewHelloExtension(tlsExtension_t **extension);
/* Adds one extension: its type and its extension_data (extLen bytes,
 * already encoded). PS_SUCCESS, PS_ARG_FAIL (NULL, extLen over 65535 or
 * extType over 65535, the type already loaded), PS_MEM_FAIL. Types petrel
 * writes or cannot carry are refused later, by matrixSslNewClientSession. */
PETREL_API int32 matrixSslLoadHelloExtension(tlsExtension_t *extension, unsigned char *extData,
                                             uint32 extLen, uint32 extType);
PETREL_API void matrixSslDeleteHelloExtension(tlsExtension_t *extension);

/* ======================================================================
 * MatrixDTLS (the seed's Appendix A)
 * ====================================================================== */

/* The PMTU sessions start with (petrel's default: 1232 bytes, the IPv6
 * minimum MTU less IP and UDP headers; MatrixDTLS's was 1500). */
#define DTLS_PMTU 1232

/*
 * The next datagram to send (> 0), or 0. Call it in a loop, each datagram
 * followed by matrixDtlsSentData, until it returns 0. Once it has
 * returned 0, calling it again while this side waits for the peer's
 * next flight means the application's timer fired (case 7): the last
 * flight is encoded again and its first datagram returned. The resend
 * counts against petrel's retransmission limit; when that is spent the
 * return is PS_TIMEOUT_FAIL. So call it only when told to (REQUEST_SEND,
 * after SentData) and when the application's timer fires; to poll for
 * pending data use matrixSslGetOutdata, which never resends.
 * PS_ARG_FAIL. On a TLS session: as matrixSslGetOutdata.
 */
PETREL_API int32 matrixDtlsGetOutdata(ssl_t *ssl, unsigned char **buf);
/* As matrixSslSentData, for a datagram from matrixDtlsGetOutdata. */
PETREL_API int32 matrixDtlsSentData(ssl_t *ssl, uint32 bytes);

/* Sets the PMTU (the largest datagram, 200..16384) for new sessions and
 * for the next datagrams of open ones; < 0 restores DTLS_PMTU. Returns
 * the PMTU now in force, or PS_ARG_FAIL (0, or outside 200..16384: the
 * PMTU is unchanged). */
PETREL_API int32 matrixDtlsSetPmtu(int32 pmtu);
PETREL_API int32 matrixDtlsGetPmtu(void);

/* petrel extension: milliseconds until petrel's own retransmission timer
 * (RFC 6347, doubling from 1 s) says the last flight is lost, -1 when no
 * flight waits for an answer. An application without a timer policy of
 * its own waits this long for the peer, then calls matrixDtlsGetOutdata. */
PETREL_API int32 matrixDtlsGetTimeout(ssl_t *ssl);

/* ======================================================================
 * petrel extensions
 * ====================================================================== */

/* The native connection behind a session, for petrel's own queries
 * (petrel_cipher_suite_name, petrel_conn_error, petrel_get_stats, ...).
 * Do not drive the engine through it. NULL for NULL. */
struct petrel_conn;
PETREL_API struct petrel_conn *matrixSslGetPetrelConn(ssl_t *ssl);

/* Application data kept with a session (the seed's ssl->userPtr). */
PETREL_API void matrixSslSetUserPtr(ssl_t *ssl, void *ptr);
PETREL_API void *matrixSslGetUserPtr(ssl_t *ssl);

#ifdef __cplusplus
}
#endif
#endif
