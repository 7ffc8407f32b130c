/*
 * MatrixSSL key management over petrel_config (matrixsslApi.h), and what
 * validation callbacks see of certificates (psX509Cert_t).
 */
#define _POSIX_C_SOURCE 200809L
#include <matrixssl/matrixsslApi.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "conn/conn_internal.h"
#include "matrixssl/mssl_internal.h"

/* Files larger than this are not key material. */
#define MSSL_MAX_FILE (16u * 1024 * 1024)

/* ======================================================================
 * Errors
 * ====================================================================== */

int mssl_ps_error(int err)
{
    switch (err) {
    case PETREL_OK:
        return PS_SUCCESS;
    case PETREL_ERR_ARG:
    case PETREL_ERR_STATE:
    case PETREL_ERR_NO_CREDENTIALS:
        return PS_ARG_FAIL;
    case PETREL_ERR_NOMEM:
        return PS_MEM_FAIL;
    case PETREL_ERR_UNSUPPORTED:
    case PETREL_ERR_INSECURE:
        return PS_UNSUPPORTED_FAIL;
    case PETREL_ERR_FILE_NOT_FOUND:
    case PETREL_ERR_IO:
        return PS_PLATFORM_FAIL;
    case PETREL_ERR_CERT_PARSE:
    case PETREL_ERR_KEY_PARSE:
    case PETREL_ERR_WRONG_PASSWORD:
        return PS_PARSE_FAIL;
    case PETREL_ERR_KEY_CERT_MISMATCH:
    case PETREL_ERR_BAD_CERTIFICATE:
    case PETREL_ERR_UNKNOWN_CA:
    case PETREL_ERR_CERT_EXPIRED:
    case PETREL_ERR_CERT_NAME_MISMATCH:
    case PETREL_ERR_NO_CERTIFICATE:
    case PETREL_ERR_CERT_REJECTED:
    case PETREL_ERR_UNSUPPORTED_CERTIFICATE:
    case PETREL_ERR_RPK_NOT_PINNED:
        return PS_CERT_AUTH_FAIL;
    case PETREL_ERR_HANDSHAKE_TIMEOUT:
    case PETREL_ERR_TIMEOUT:
        return PS_TIMEOUT_FAIL;
    default:
        break;
    }
    switch (petrel_error_class_of(err)) {
    case PETREL_ERRCLASS_USAGE:
        return PS_ARG_FAIL;
    case PETREL_ERRCLASS_RESOURCE:
        return PS_LIMIT_FAIL;
    case PETREL_ERRCLASS_DECODE:
    case PETREL_ERRCLASS_CRYPTO:
    case PETREL_ERRCLASS_PEER:
        return PS_PROTOCOL_FAIL;
    default:
        return PS_FAILURE;
    }
}

/* Logs a failed petrel call with the error's name, returns its PS_* code. */
static int keys_fail(const sslKeys_t *keys, const char *what, const char *detail, int rc)
{
    platform_log(keys->platform, PETREL_LOG_WARNING, "%s%s%s: %s (%s)", what, detail ? ": " : "",
                 detail ? detail : "", petrel_strerror(rc), petrel_error_name(rc));
    return mssl_ps_error(rc);
}

/* ======================================================================
 * The key structure
 * ====================================================================== */

int32 matrixSslNewKeys(sslKeys_t **keys)
{
    if (!keys)
        return PS_ARG_FAIL;
    *keys = NULL;
    petrel_config *cfg = petrel_config_new(NULL);
    if (!cfg)
        return PS_MEM_FAIL;
    const petrel_platform *p = conn_config_platform(cfg);
    sslKeys_t *k = platform_calloc(p, 1, sizeof(*k));
    if (!k) {
        petrel_config_free(cfg);
        return PS_MEM_FAIL;
    }
    k->cfg = cfg;
    k->platform = p;
    /* MatrixSSL (ENABLE_SECURE_REHANDSHAKES) answers a peer's RFC 5746
     * rehandshake: a client honours HelloRequest, a server a new
     * ClientHello. */
    int rc = petrel_config_set_renegotiation(cfg, true);
    if (rc < 0) {
        platform_free(p, k);
        petrel_config_free(cfg);
        return PS_FAILURE;
    }
    *keys = k;
    return PS_SUCCESS;
}

void matrixSslDeleteKeys(sslKeys_t *keys)
{
    if (!keys)
        return;
    petrel_config *cfg = keys->cfg;
    platform_free(keys->platform, keys);
    /* Last: the platform lives in cfg. */
    petrel_config_free(cfg);
}

/* ======================================================================
 * Loading
 * ====================================================================== */

/* A file's contents while they are being loaded. */
typedef struct mssl_blob {
    uint8_t *data;
    size_t len;
} mssl_blob;

/* Key files hold secrets: wiped before they are freed. */
static void blob_free(const petrel_platform *p, mssl_blob *b)
{
    platform_free_secret(p, b->data, b->len);
    b->data = NULL;
    b->len = 0;
}

/* Reads a whole file into b. Returns a PS_* code (logged). */
static int read_file(const sslKeys_t *keys, const char *path, mssl_blob *b)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        platform_log(keys->platform, PETREL_LOG_WARNING, "matrixSslLoadRsaKeys: %s: %s (%s)", path,
                     strerror(errno), petrel_error_name(PETREL_ERR_FILE_NOT_FOUND));
        return PS_PLATFORM_FAIL;
    }
    size_t cap = 4096, len = 0;
    uint8_t *data = platform_alloc(keys->platform, cap);
    int rc = data ? PS_SUCCESS : PS_MEM_FAIL;
    while (rc == PS_SUCCESS) {
        if (len == cap) {
            uint8_t *bigger = cap < MSSL_MAX_FILE ? platform_alloc(keys->platform, cap * 2) : NULL;
            if (!bigger) {
                rc = cap < MSSL_MAX_FILE ? PS_MEM_FAIL : PS_LIMIT_FAIL;
                break;
            }
            memcpy(bigger, data, len);
            platform_free_secret(keys->platform, data, len);
            data = bigger;
            cap *= 2;
        }
        size_t n = fread(data + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) {
                platform_log(keys->platform, PETREL_LOG_WARNING,
                             "matrixSslLoadRsaKeys: %s: read error (%s)", path,
                             petrel_error_name(PETREL_ERR_IO));
                rc = PS_PLATFORM_FAIL;
            }
            break;
        }
    }
    fclose(f);
    if (rc != PS_SUCCESS) {
        if (data)
            platform_free_secret(keys->platform, data, cap);
        return rc;
    }
    b->data = data;
    b->len = len;
    return PS_SUCCESS;
}

/* Whether b holds a PEM block. The marker is text; strncmp stops at the
 * first byte that differs (a NUL in DER data among them) and reads no
 * further than the marker's length, which the loop keeps inside b. */
static bool looks_like_pem(const mssl_blob *b)
{
    static const char marker[] = "-----BEGIN";
    const size_t marker_len = sizeof(marker) - 1;
    for (size_t i = 0; i + marker_len <= b->len; i++) {
        if (b->data[i] == '-' && strncmp((const char *)b->data + i, marker, marker_len) == 0)
            return true;
    }
    return false;
}

/* Appends src to dst; PEM pieces are kept on separate lines, DER pieces
 * are concatenated as they are. */
static int blob_append(const petrel_platform *p, mssl_blob *dst, const mssl_blob *src)
{
    bool newline = dst->len && dst->data[dst->len - 1] != '\n' && looks_like_pem(src);
    size_t len = dst->len + (newline ? 1 : 0) + src->len;
    uint8_t *data = platform_alloc(p, len ? len : 1);
    if (!data)
        return PS_MEM_FAIL;
    if (dst->len)
        memcpy(data, dst->data, dst->len);
    if (newline)
        data[dst->len] = '\n';
    memcpy(data + len - src->len, src->data, src->len);
    blob_free(p, dst);
    dst->data = data;
    dst->len = len;
    return PS_SUCCESS;
}

/* Splits a ';'-separated list of file names and calls fn on each file's
 * contents. */
static int for_each_file(sslKeys_t *keys, const char *list,
                         int (*fn)(sslKeys_t *keys, const mssl_blob *contents, void *ctx),
                         void *ctx)
{
    const char *start = list;
    int files = 0;
    for (;;) {
        const char *end = strchr(start, ';');
        size_t n = end ? (size_t)(end - start) : strlen(start);
        if (n > 0) {
            char *path = platform_alloc(keys->platform, n + 1);
            if (!path)
                return PS_MEM_FAIL;
            memcpy(path, start, n);
            path[n] = '\0';
            mssl_blob contents = {NULL, 0};
            int rc = read_file(keys, path, &contents);
            platform_free(keys->platform, path);
            if (rc == PS_SUCCESS) {
                rc = fn(keys, &contents, ctx);
                blob_free(keys->platform, &contents);
            }
            if (rc != PS_SUCCESS)
                return rc;
            files++;
        }
        if (!end)
            break;
        start = end + 1;
    }
    return files ? PS_SUCCESS : PS_ARG_FAIL;
}

static int collect_into(sslKeys_t *keys, const mssl_blob *contents, void *ctx)
{
    return blob_append(keys->platform, (mssl_blob *)ctx, contents);
}

/* Trusted CA certificates into the config (which keeps its own copy). */
static int add_ca(sslKeys_t *keys, const mssl_blob *contents, void *ctx)
{
    (void)ctx;
    int rc = petrel_config_load_ca_mem(keys->cfg, contents->data, contents->len);
    return rc < 0 ? keys_fail(keys, "matrixSslLoadRsaKeys", "trusted CA", rc) : PS_SUCCESS;
}

/* Chain and key together into the config (which keeps its own copy). */
static int set_credentials(sslKeys_t *keys, const uint8_t *chain, size_t chain_len,
                           const uint8_t *key, size_t key_len, const char *password)
{
    int rc =
        petrel_config_load_credentials_mem(keys->cfg, chain, chain_len, key, key_len, password);
    return rc < 0 ? keys_fail(keys, "matrixSslLoadRsaKeys", "certificate and private key", rc)
                  : PS_SUCCESS;
}

int32 matrixSslLoadRsaKeys(sslKeys_t *keys, const char *certFile, const char *privFile,
                           const char *privPass, const char *trustedCAFiles)
{
    if (!keys || keys->credentials_loaded || (!certFile != !privFile) ||
        (!certFile && !trustedCAFiles))
        return PS_ARG_FAIL;
    if (certFile) {
        mssl_blob chain = {NULL, 0}, key = {NULL, 0};
        int rc = for_each_file(keys, certFile, collect_into, &chain);
        if (rc == PS_SUCCESS)
            rc = read_file(keys, privFile, &key);
        if (rc == PS_SUCCESS)
            rc = set_credentials(keys, chain.data, chain.len, key.data, key.len, privPass);
        blob_free(keys->platform, &chain);
        blob_free(keys->platform, &key);
        if (rc != PS_SUCCESS)
            return rc;
    }
    if (trustedCAFiles) {
        int rc = for_each_file(keys, trustedCAFiles, add_ca, NULL);
        if (rc != PS_SUCCESS)
            return rc;
    }
    keys->credentials_loaded = true;
    return PS_SUCCESS;
}

int32 matrixSslLoadRsaKeysMem(sslKeys_t *keys, unsigned char *certBuf, int32 certLen,
                              unsigned char *privBuf, int32 privLen, unsigned char *trustedCABuf,
                              int32 trustedCALen)
{
    if (!keys || keys->credentials_loaded || certLen < 0 || privLen < 0 || trustedCALen < 0)
        return PS_ARG_FAIL;
    bool have_cert = certBuf && certLen > 0, have_key = privBuf && privLen > 0;
    bool have_ca = trustedCABuf && trustedCALen > 0;
    if (have_cert != have_key || (!have_cert && !have_ca))
        return PS_ARG_FAIL;
    if (have_cert) {
        int rc = set_credentials(keys, certBuf, (size_t)certLen, privBuf, (size_t)privLen, NULL);
        if (rc != PS_SUCCESS)
            return rc;
    }
    if (have_ca) {
        mssl_blob contents = {trustedCABuf, (size_t)trustedCALen};
        int rc = add_ca(keys, &contents, NULL);
        if (rc != PS_SUCCESS)
            return rc;
    }
    keys->credentials_loaded = true;
    return PS_SUCCESS;
}

int32 matrixSslLoadPsk(sslKeys_t *keys, unsigned char *key, uint32 keyLen, unsigned char *id,
                       uint32 idLen)
{
    if (!keys || !key || !id || keyLen == 0 || idLen == 0)
        return PS_ARG_FAIL;
    int rc = petrel_config_set_psk(keys->cfg, id, idLen, key, keyLen);
    return rc < 0 ? keys_fail(keys, "matrixSslLoadPsk", NULL, rc) : PS_SUCCESS;
}

int32 matrixSslKeysSetServerName(sslKeys_t *keys, const char *name)
{
    if (!keys)
        return PS_ARG_FAIL;
    int rc = petrel_config_set_server_name(keys->cfg, name);
    return rc < 0 ? keys_fail(keys, "matrixSslKeysSetServerName", name, rc) : PS_SUCCESS;
}

int32 matrixSslKeysSetLossyLink(sslKeys_t *keys, uint32 rttHintMs)
{
    if (!keys)
        return PS_ARG_FAIL;
    int rc = petrel_config_set_lossy_link_profile(keys->cfg, rttHintMs);
    return rc < 0 ? keys_fail(keys, "matrixSslKeysSetLossyLink", NULL, rc) : PS_SUCCESS;
}

/* ======================================================================
 * Certificate validation callbacks
 * ====================================================================== */

int mssl_cert_trampoline(void *ref, petrel_conn *conn, const petrel_cert_info *chain, size_t count,
                         int alert)
{
    (void)conn;
    mssl_conn_base *base = ref;
    return base->verify(base, chain, count, alert);
}

/* The psX509Cert_t views live in blocks that are all freed together. */
struct mssl_block {
    struct mssl_block *next;
    max_align_t data[];
};

static void *certs_alloc(mssl_certs *c, size_t size)
{
    struct mssl_block *b = platform_calloc(c->platform, 1, sizeof(*b) + size);
    if (!b)
        return NULL;
    b->next = c->blocks;
    c->blocks = b;
    return b->data;
}

/* A copy of len bytes followed by `nuls` NUL bytes. */
static void *certs_copy(mssl_certs *c, const void *data, size_t len, size_t nuls)
{
    uint8_t *copy = certs_alloc(c, len + nuls);
    if (copy && len)
        memcpy(copy, data, len);
    return copy;
}

void mssl_certs_free(mssl_certs *certs)
{
    while (certs->blocks) {
        struct mssl_block *next = certs->blocks->next;
        platform_free(certs->platform, certs->blocks);
        certs->blocks = next;
    }
    certs->head = NULL;
}

/* One DN attribute into a MatrixSSL string (two trailing NULs, counted). */
static int dn_attr(mssl_certs *c, const petrel_dn *dn, const char *type, char **value, short *len,
                   short *asn_type)
{
    for (size_t i = 0; i < dn->count; i++) {
        if (strcmp(dn->attrs[i].type, type) != 0)
            continue;
        size_t n = strlen(dn->attrs[i].value);
        if (n > 0x7ffd)
            n = 0x7ffd;
        *value = certs_copy(c, dn->attrs[i].value, n, 2);
        if (!*value)
            return PS_MEM_FAIL;
        *len = (short)(n + 2);
        *asn_type = ASN_UTF8STRING;
        return PS_SUCCESS;
    }
    return PS_SUCCESS;
}

static int dn_fill(mssl_certs *c, const petrel_dn *dn, x509DNattributes_t *out)
{
    int rc = dn_attr(c, dn, "C", &out->country, &out->countryLen, &out->countryType);
    if (rc == PS_SUCCESS)
        rc = dn_attr(c, dn, "ST", &out->state, &out->stateLen, &out->stateType);
    if (rc == PS_SUCCESS)
        rc = dn_attr(c, dn, "L", &out->locality, &out->localityLen, &out->localityType);
    if (rc == PS_SUCCESS)
        rc = dn_attr(c, dn, "O", &out->organization, &out->organizationLen, &out->organizationType);
    if (rc == PS_SUCCESS)
        rc = dn_attr(c, dn, "OU", &out->orgUnit, &out->orgUnitLen, &out->orgUnitType);
    if (rc == PS_SUCCESS)
        rc = dn_attr(c, dn, "CN", &out->commonName, &out->commonNameLen, &out->commonNameType);
    if (rc == PS_SUCCESS && dn->text && !(out->text = certs_copy(c, dn->text, strlen(dn->text), 1)))
        rc = PS_MEM_FAIL;
    return rc;
}

/* RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime after. */
static bool utctime_range(int64_t t)
{
    return t >= -631152000 /* 1950-01-01 */ && t < 2524608000 /* 2050-01-01 */;
}

static char *format_time(mssl_certs *c, int64_t t, bool utc)
{
    char text[32];
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        memset(&tm, 0, sizeof(tm));
    long year = (long)tm.tm_year + 1900;
    if (utc)
        snprintf(text, sizeof(text), "%02ld%02d%02d%02d%02d%02dZ", year % 100, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    else
        snprintf(text, sizeof(text), "%04ld%02d%02d%02d%02d%02dZ", year, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
    return certs_copy(c, text, strlen(text), 1);
}

static int32 signature_oid(const char *name)
{
    static const struct {
        const char *name;
        int32 oid;
    } table[] = {
        {"sha256WithRSAEncryption", OID_SHA256_RSA_SIG},
        {"sha384WithRSAEncryption", OID_SHA384_RSA_SIG},
        {"sha512WithRSAEncryption", OID_SHA512_RSA_SIG},
        {"sha1WithRSAEncryption", OID_SHA1_RSA_SIG},
        {"rsassaPss", OID_RSASSA_PSS},
        {"RSASSA-PSS", OID_RSASSA_PSS},
        {"ecdsa-with-SHA1", OID_SHA1_ECDSA_SIG},
        {"ecdsa-with-SHA224", OID_SHA224_ECDSA_SIG},
        {"ecdsa-with-SHA256", OID_SHA256_ECDSA_SIG},
        {"ecdsa-with-SHA384", OID_SHA384_ECDSA_SIG},
        {"ecdsa-with-SHA512", OID_SHA512_ECDSA_SIG},
    };
    for (size_t i = 0; name && i < PETREL_ARRAY_LEN(table); i++) {
        if (strcmp(name, table[i].name) == 0)
            return table[i].oid;
    }
    return 0;
}

static void auth_status(petrel_cert_auth status, int32 *out, int32 *flags)
{
    *flags = 0;
    switch (status) {
    case PETREL_CERT_AUTH_UNTESTED:
        *out = PS_FALSE;
        break;
    case PETREL_CERT_AUTH_PASS:
        *out = PS_CERT_AUTH_PASS;
        break;
    case PETREL_CERT_AUTH_FAIL_BC:
        *out = PS_CERT_AUTH_FAIL_BC;
        break;
    case PETREL_CERT_AUTH_FAIL_DN:
        *out = PS_CERT_AUTH_FAIL_DN;
        break;
    case PETREL_CERT_AUTH_FAIL_SIG:
        *out = PS_CERT_AUTH_FAIL_SIG;
        break;
    case PETREL_CERT_AUTH_FAIL_DATE:
        *out = PS_CERT_AUTH_FAIL_EXTENSION;
        *flags = PS_CERT_AUTH_FAIL_DATE_FLAG;
        break;
    case PETREL_CERT_AUTH_FAIL_NAME:
        *out = PS_CERT_AUTH_FAIL_EXTENSION;
        *flags = PS_CERT_AUTH_FAIL_SUBJECT_FLAG;
        break;
    case PETREL_CERT_AUTH_FAIL_USAGE:
        *out = PS_CERT_AUTH_FAIL_EXTENSION;
        *flags = PS_CERT_AUTH_FAIL_KEY_USAGE_FLAG;
        break;
    default:
        *out = PS_CERT_AUTH_FAIL;
        break;
    }
}

/* A subjectAltName's GeneralName tag (RFC 5280 §4.2.1.6) and the name
 * MatrixSSL gives it; any other type is id 0, "other". */
static const struct {
    petrel_san_type type;
    int32 id;
    const char *name;
} san_kinds[] = {
    {PETREL_SAN_EMAIL, 1, "email"},
    {PETREL_SAN_DNS, 2, "DNS"},
    {PETREL_SAN_URI, 6, "URI"},
    {PETREL_SAN_IP, 7, "iPAddress"},
};

static int san_fill(mssl_certs *c, const petrel_cert_info *in, x509SubjectAltName_t **out)
{
    x509SubjectAltName_t **link = out;
    for (size_t i = 0; i < in->san_count; i++) {
        const petrel_san *s = &in->san[i];
        x509SubjectAltName_t *e = certs_alloc(c, sizeof(*e));
        if (!e)
            return PS_MEM_FAIL;
        const char *name = "other";
        e->id = 0;
        for (size_t k = 0; k < PETREL_ARRAY_LEN(san_kinds); k++) {
            if (san_kinds[k].type == s->type) {
                e->id = san_kinds[k].id;
                name = san_kinds[k].name;
                break;
            }
        }
        uint8_t addr[16];
        const void *data = s->value;
        size_t len = strlen(s->value);
        /* MatrixSSL hands out an iPAddress as the address bytes the
         * certificate holds. */
        if (s->type == PETREL_SAN_IP) {
            if (inet_pton(AF_INET, s->value, addr) == 1) {
                data = addr;
                len = 4;
            } else if (inet_pton(AF_INET6, s->value, addr) == 1) {
                data = addr;
                len = 16;
            }
        }
        snprintf((char *)e->name, sizeof(e->name), "%s", name);
        if (!(e->data = certs_copy(c, data, len, 1)))
            return PS_MEM_FAIL;
        e->dataLen = (int32)len;
        *link = e;
        link = &e->next;
    }
    return PS_SUCCESS;
}

static int cert_fill(mssl_certs *c, const petrel_cert_info *in, psX509Cert_t *out)
{
    out->isRawPublicKey = in->is_raw_public_key ? PS_TRUE : PS_FALSE;
    auth_status(in->auth_status, &out->authStatus, &out->authFailFlags);
    if (in->der && !(out->unparsedBin = certs_copy(c, in->der, in->der_len, 0)))
        return PS_MEM_FAIL;
    out->binLen = (int32)in->der_len;
    psPubKey_t *key = &out->publicKey;
    key->bits = in->key_bits;
    key->keysize = (int32)((in->key_bits + 7) / 8);
    key->type = PS_NOKEY;
    if (in->key_algorithm && strcmp(in->key_algorithm, "RSA") == 0) {
        key->type = PS_RSA;
        out->pubKeyAlgorithm = OID_RSA_KEY_ALG;
    } else if (in->key_algorithm && strcmp(in->key_algorithm, "EC") == 0) {
        key->type = PS_ECC;
        out->pubKeyAlgorithm = OID_ECDSA_KEY_ALG;
    }
    if (in->key_algorithm &&
        !(key->algorithm = certs_copy(c, in->key_algorithm, strlen(in->key_algorithm), 1)))
        return PS_MEM_FAIL;
    if (in->key_curve && !(key->curve = certs_copy(c, in->key_curve, strlen(in->key_curve), 1)))
        return PS_MEM_FAIL;
    if (in->is_raw_public_key)
        return PS_SUCCESS;

    out->version = in->version > 0 ? in->version - 1 : 0;
    if (in->serial_len && !(out->serialNumber = certs_copy(c, in->serial, in->serial_len, 0)))
        return PS_MEM_FAIL;
    out->serialNumberLen = (int32)in->serial_len;
    int rc = dn_fill(c, &in->subject, &out->subject);
    if (rc == PS_SUCCESS)
        rc = dn_fill(c, &in->issuer, &out->issuer);
    if (rc != PS_SUCCESS)
        return rc;
    bool utc = utctime_range(in->not_before) && utctime_range(in->not_after);
    out->timeType = utc ? ASN_UTCTIME : ASN_GENERALIZEDTIME;
    out->notBefore = format_time(c, in->not_before, utc);
    out->notAfter = format_time(c, in->not_after, utc);
    if (!out->notBefore || !out->notAfter)
        return PS_MEM_FAIL;
    out->notBeforeTime = in->not_before;
    out->notAfterTime = in->not_after;
    out->certAlgorithm = out->sigAlgorithm = signature_oid(in->signature_algorithm);
    if (in->signature_algorithm &&
        !(out->sigAlgorithmName =
              certs_copy(c, in->signature_algorithm, strlen(in->signature_algorithm), 1)))
        return PS_MEM_FAIL;
    out->extensions.bc.cA = in->has_basic_constraints && in->is_ca ? PS_TRUE : PS_FALSE;
    out->extensions.bc.pathLenConstraint = in->path_len;
    return san_fill(c, in, &out->extensions.san);
}

int mssl_certs_build(mssl_certs *out, const petrel_platform *p, const petrel_cert_info *chain,
                     size_t count)
{
    memset(out, 0, sizeof(*out));
    out->platform = p;
    psX509Cert_t **link = &out->head;
    for (size_t i = 0; i < count; i++) {
        psX509Cert_t *cert = certs_alloc(out, sizeof(*cert));
        int rc = cert ? cert_fill(out, &chain[i], cert) : PS_MEM_FAIL;
        if (rc != PS_SUCCESS) {
            mssl_certs_free(out);
            return rc;
        }
        *link = cert;
        link = &cert->next;
    }
    return PS_SUCCESS;
}
