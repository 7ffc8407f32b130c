/*
 * The OpenSSL backend's certificate half: PEM and DER certificate input,
 * the trust store, path validation and the parsed certificate view handed
 * to the application's callback. Parsing and validation are OpenSSL's;
 * this file maps their results onto petrel's codes (crypto/provider.h).
 */
#include "crypto/openssl_internal.h"

#include <limits.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

/* OpenSSL's stack of certificates, under a name clang-format reads as a
 * type. */
typedef STACK_OF(X509) cert_stack;

/* ======================================================================
 * PEM
 * ====================================================================== */

bool crypto_openssl_is_pem(const uint8_t *data, size_t len)
{
    static const char marker[] = "-----BEGIN";
    const size_t marker_len = sizeof(marker) - 1;
    for (size_t i = 0; i + marker_len <= len; i++) {
        if (data[i] == '-' && strncmp((const char *)data + i, marker, marker_len) == 0)
            return true;
    }
    return false;
}

/* True when the last OpenSSL error says PEM_read_bio found no further
 * "-----BEGIN" line: the normal end of the input. */
static bool pem_at_end(void)
{
    unsigned long err = ERR_peek_last_error();
    return ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
}

int crypto_openssl_pem_each(const uint8_t *data, size_t len, int malformed,
                            crypto_openssl_pem_fn fn, void *ref)
{
    if (len > INT_MAX)
        return malformed;
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    if (!bio)
        return ossl_fail(PETREL_ERR_NOMEM);
    int rc = 0;
    for (;;) {
        char *name = NULL, *header = NULL;
        unsigned char *der = NULL;
        long der_len = 0;
        if (PEM_read_bio(bio, &name, &header, &der, &der_len) != 1) {
            rc = pem_at_end() ? 0 : malformed;
            ERR_clear_error();
            break;
        }
        rc = fn(ref, name, header, der, der_len);
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_clear_free(der, der_len > 0 ? (size_t)der_len : 0);
        if (rc != 0)
            break;
    }
    BIO_free(bio);
    return rc;
}

/* ======================================================================
 * Certificates
 * ====================================================================== */

/* der[0, len) as a certificate, or NULL when it is not exactly one. */
static X509 *cert_parse(const uint8_t *der, size_t len)
{
    if (!der || len == 0 || len > LONG_MAX)
        return NULL;
    const unsigned char *p = der;
    X509 *cert = d2i_X509(NULL, &p, (long)len);
    /* The input must be exactly one certificate, of version v1, v2 or v3
     * (RFC 5280 §4.1.2.1): OpenSSL parses any INTEGER there, and a view
     * reporting version 12 would break the callback's promise. */
    if (cert && (p != der + len || X509_get_version(cert) < 0 || X509_get_version(cert) > 2)) {
        X509_free(cert);
        cert = NULL;
    }
    if (!cert)
        ERR_clear_error();
    return cert;
}

/* Input is checked completely before fn sees anything, so a caller never
 * receives the first certificates of input that then turns out to be
 * malformed. fn is NULL during that first pass. */
typedef struct cert_walk {
    crypto_der_fn fn;
    void *ref;
    size_t count;
} cert_walk;

/* A CERTIFICATE block must hold exactly one certificate; other blocks
 * (keys, parameters) are skipped. */
static int pem_cert_block(void *ref, const char *name, char *header, uint8_t *der, long len)
{
    (void)header;
    cert_walk *walk = ref;
    /* "X509 CERTIFICATE" is the pre-RFC 7468 label for the same thing. */
    if (strcmp(name, PEM_STRING_X509) != 0 && strcmp(name, PEM_STRING_X509_OLD) != 0)
        return 0;
    walk->count++;
    if (walk->fn) {
        int rc = walk->fn(walk->ref, der, (size_t)len);
        return rc < 0 ? rc : 0;
    }
    X509 *cert = cert_parse(der, (size_t)len);
    if (!cert)
        return PETREL_ERR_CERT_PARSE;
    X509_free(cert);
    return 0;
}

/* Consecutive DER certificates that fill data[0, len) exactly: each
 * d2i_X509 call moves p to the end of the certificate it parsed. */
static int der_cert_walk(cert_walk *walk, const uint8_t *data, size_t len)
{
    const unsigned char *p = data;
    const unsigned char *end = data + len;
    while (p < end) {
        const unsigned char *start = p;
        size_t left = (size_t)(end - p);
        X509 *cert = left <= LONG_MAX ? d2i_X509(NULL, &p, (long)left) : NULL;
        if (!cert)
            return ossl_fail(PETREL_ERR_CERT_PARSE);
        X509_free(cert);
        /* The same checks as every other parse (cert_parse). */
        X509 *checked = cert_parse(start, (size_t)(p - start));
        if (!checked)
            return PETREL_ERR_CERT_PARSE;
        X509_free(checked);
        walk->count++;
        if (walk->fn) {
            int rc = walk->fn(walk->ref, start, (size_t)(p - start));
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

int crypto_openssl_cert_decode(const uint8_t *data, size_t len, crypto_der_fn fn, void *ref)
{
    if (!data || len == 0)
        return PETREL_ERR_CERT_PARSE;
    bool pem = crypto_openssl_is_pem(data, len);
    for (int pass = 0; pass < 2; pass++) {
        cert_walk walk = {.fn = pass == 0 ? NULL : fn, .ref = ref};
        int rc =
            pem ? crypto_openssl_pem_each(data, len, PETREL_ERR_CERT_PARSE, pem_cert_block, &walk)
                : der_cert_walk(&walk, data, len);
        if (rc < 0)
            return rc;
        if (walk.count == 0)
            return PETREL_ERR_CERT_PARSE;
    }
    return 0;
}

int crypto_openssl_cert_public_key(const uint8_t *der, size_t len, crypto_pkey **out)
{
    X509 *cert = cert_parse(der, len);
    if (!cert)
        return PETREL_ERR_CERT_PARSE;
    /* NULL when OpenSSL cannot decode the key: an algorithm or curve it
     * does not know (unsupported), or a key of a kind petrel uses whose
     * bytes are corrupt, such as an EC point off the curve (a broken
     * certificate). */
    EVP_PKEY *pkey = X509_get_pubkey(cert);
    int rc = PETREL_ERR_UNSUPPORTED;
    if (!pkey) {
        ASN1_OBJECT *alg = NULL;
        X509_ALGOR *algor = NULL;
        X509_PUBKEY *spki = X509_get_X509_PUBKEY(cert);
        if (spki && X509_PUBKEY_get0_param(&alg, NULL, NULL, &algor, spki) == 1 && alg) {
            int nid = OBJ_obj2nid(alg);
            int ptype = V_ASN1_UNDEF;
            const void *pval = NULL;
            if (algor)
                X509_ALGOR_get0(NULL, &ptype, &pval, algor);
            int curve = ptype == V_ASN1_OBJECT ? OBJ_obj2nid(pval) : NID_undef;
            if (nid == NID_rsaEncryption ||
                (nid == NID_X9_62_id_ecPublicKey &&
                 (curve == NID_X9_62_prime256v1 || curve == NID_secp384r1)))
                rc = PETREL_ERR_CERT_PARSE;
        }
    }
    X509_free(cert);
    if (!pkey)
        return ossl_fail(rc);
    return crypto_openssl_pkey_wrap(pkey, false, out);
}

/* ======================================================================
 * Trust store
 * ====================================================================== */

struct crypto_trust {
    X509_STORE *store;
    /* The anchors in the order added: an X509_STORE keeps no order, and
     * the CA names a server sends should follow the configuration. */
    cert_stack *anchors;
};

int crypto_openssl_trust_new(crypto_trust **out)
{
    crypto_trust *trust = OPENSSL_zalloc(sizeof(*trust));
    if (!trust)
        return ossl_fail(PETREL_ERR_NOMEM);
    trust->store = X509_STORE_new();
    trust->anchors = sk_X509_new_null();
    if (!trust->store || !trust->anchors) {
        crypto_openssl_trust_free(trust);
        return ossl_fail(PETREL_ERR_NOMEM);
    }
    *out = trust;
    return 0;
}

void crypto_openssl_trust_free(crypto_trust *trust)
{
    if (!trust)
        return;
    X509_STORE_free(trust->store);
    sk_X509_pop_free(trust->anchors, X509_free);
    OPENSSL_free(trust);
}

int crypto_openssl_trust_add(crypto_trust *trust, const uint8_t *der, size_t len)
{
    X509 *cert = cert_parse(der, len);
    if (!cert)
        return PETREL_ERR_CERT_PARSE;
    for (int i = 0; i < sk_X509_num(trust->anchors); i++) {
        if (X509_cmp(sk_X509_value(trust->anchors, i), cert) == 0) {
            X509_free(cert);
            return 0;
        }
    }
    /* The list keeps our reference; the store takes its own. */
    if (sk_X509_push(trust->anchors, cert) <= 0) {
        X509_free(cert);
        return ossl_fail(PETREL_ERR_NOMEM);
    }
    if (X509_STORE_add_cert(trust->store, cert) != 1) {
        X509_free(sk_X509_pop(trust->anchors));
        return ossl_fail(PETREL_ERR_NOMEM);
    }
    return 0;
}

size_t crypto_openssl_trust_count(const crypto_trust *trust)
{
    return trust ? (size_t)sk_X509_num(trust->anchors) : 0;
}

int crypto_openssl_trust_subjects(const crypto_trust *trust, crypto_der_fn fn, void *ref)
{
    int count = trust ? sk_X509_num(trust->anchors) : 0;
    for (int i = 0; i < count; i++) {
        const X509_NAME *subject = X509_get_subject_name(sk_X509_value(trust->anchors, i));
        /* Two anchors may share a subject (a re-issued root): name it once. */
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = X509_NAME_cmp(X509_get_subject_name(sk_X509_value(trust->anchors, j)),
                                 subject) == 0;
        if (seen)
            continue;
        unsigned char *der = NULL;
        int len = i2d_X509_NAME(subject, &der);
        if (len <= 0)
            return ossl_fail(PETREL_ERR_NOMEM);
        int rc = fn(ref, der, (size_t)len);
        OPENSSL_free(der);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ======================================================================
 * Path validation
 * ====================================================================== */

/* What one X509_V_ERR_* means for petrel: the certificate's status and the
 * function's error. */
static void verify_error_map(int err, petrel_cert_auth *auth, int *code)
{
    switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
        *auth = PETREL_CERT_AUTH_FAIL_DATE;
        *code = PETREL_ERR_CERT_EXPIRED;
        return;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    /* The anchor's own trust settings refuse it. */
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
        *auth = PETREL_CERT_AUTH_FAIL_DN;
        *code = PETREL_ERR_UNKNOWN_CA;
        return;
    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
        *auth = PETREL_CERT_AUTH_FAIL_OTHER;
        *code = PETREL_ERR_UNKNOWN_CA;
        return;
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
    case X509_V_ERR_INVALID_NON_CA:
    case X509_V_ERR_INVALID_EXTENSION:
        *auth = PETREL_CERT_AUTH_FAIL_BC;
        *code = PETREL_ERR_BAD_CERTIFICATE;
        return;
    case X509_V_ERR_CA_MD_TOO_WEAK:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
        *auth = PETREL_CERT_AUTH_FAIL_SIG;
        *code = PETREL_ERR_BAD_CERTIFICATE;
        return;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        *auth = PETREL_CERT_AUTH_FAIL_NAME;
        *code = PETREL_ERR_CERT_NAME_MISMATCH;
        return;
    case X509_V_ERR_INVALID_PURPOSE:
    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
    case X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE:
        *auth = PETREL_CERT_AUTH_FAIL_USAGE;
        *code = PETREL_ERR_BAD_CERTIFICATE;
        return;
    case X509_V_ERR_OUT_OF_MEM:
        *auth = PETREL_CERT_AUTH_FAIL_OTHER;
        *code = PETREL_ERR_NOMEM;
        return;
    default:
        *auth = PETREL_CERT_AUTH_FAIL_OTHER;
        *code = PETREL_ERR_BAD_CERTIFICATE;
        return;
    }
}

typedef struct verify_state {
    X509 *const *certs; /* the input, parsed, in the caller's order */
    size_t count;
    petrel_cert_auth *status;
    int first_error; /* petrel code of the first failure reported, or 0 */
} verify_state;

/* The index in the input of a certificate of the built chain, or count
 * for one that is not there (the anchor, from the store). The chain holds
 * the input's own objects; comparing encodings also finds an anchor the
 * peer happened to send. */
static size_t verify_input_index(const verify_state *state, const X509 *cert)
{
    for (size_t i = 0; i < state->count; i++) {
        if (state->certs[i] == cert)
            return i;
    }
    for (size_t i = 0; i < state->count; i++) {
        if (X509_cmp(state->certs[i], cert) == 0)
            return i;
    }
    return state->count;
}

/* Called by X509_verify_cert for each check (ok 1) and each problem
 * (ok 0). Returning 1 after a problem lets validation go on, so every
 * certificate of the chain gets a status and the first error stays the
 * one OpenSSL reported first. */
static int verify_callback(int ok, X509_STORE_CTX *ctx)
{
    verify_state *state = X509_STORE_CTX_get_app_data(ctx);
    if (ok || !state)
        return ok;
    petrel_cert_auth auth;
    int code;
    verify_error_map(X509_STORE_CTX_get_error(ctx), &auth, &code);
    if (state->first_error == 0)
        state->first_error = code;
    const X509 *cert = X509_STORE_CTX_get_current_cert(ctx);
    size_t i = cert ? verify_input_index(state, cert) : state->count;
    if (i < state->count && state->status[i] == PETREL_CERT_AUTH_UNTESTED)
        state->status[i] = auth;
    return 1;
}

/* Applies params to the context's verification parameters. */
static bool verify_set_params(X509_STORE_CTX *ctx, const crypto_verify_params *params)
{
    int purpose = params->peer_is_server ? X509_PURPOSE_SSL_SERVER : X509_PURPOSE_SSL_CLIENT;
    /* Sets the purpose and its matching trust (X509_TRUST_SSL_*). */
    if (X509_STORE_CTX_set_purpose(ctx, purpose) != 1)
        return false;
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    /* Also sets X509_V_FLAG_USE_CHECK_TIME: OpenSSL never reads the clock. */
    X509_VERIFY_PARAM_set_time(vp, (time_t)params->now);
    /* OpenSSL's depth counts the intermediates, as max_depth does. */
    X509_VERIFY_PARAM_set_depth(vp, params->max_depth > INT_MAX / 2 ? INT_MAX / 2
                                                                    : (int)params->max_depth);
    /* Security level 2 (112 bits): RSA and DSA keys of 2048 bits or more
     * on every certificate, and no signature weaker than that, so SHA-1
     * and MD5 signatures fail (a self-signed anchor's own signature is
     * not checked). The same floor as petrel's own keys. */
    X509_VERIFY_PARAM_set_auth_level(vp, 2);
    if (!params->host || params->host[0] == '\0')
        return true;
    /* An IPv4 or IPv6 literal is matched against the IP SANs; anything
     * else as a DNS name, with the CN used only when there is no DNS SAN
     * and a wildcard only as a whole leftmost label. */
    if (X509_VERIFY_PARAM_set1_ip_asc(vp, params->host) == 1)
        return true;
    ERR_clear_error();
    X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return X509_VERIFY_PARAM_set1_host(vp, params->host, 0) == 1;
}

/* Runs X509_verify_cert over the parsed input and fills in state. */
static int verify_run(X509_STORE *store, cert_stack *untrusted, const crypto_verify_params *params,
                      verify_state *state)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (!ctx)
        return PETREL_ERR_NOMEM;
    int rc = PETREL_ERR_CRYPTO;
    if (X509_STORE_CTX_init(ctx, store, state->certs[0], untrusted) != 1 ||
        !verify_set_params(ctx, params))
        goto out;
    X509_STORE_CTX_set_verify_cb(ctx, verify_callback);
    X509_STORE_CTX_set_app_data(ctx, state);
    int ok = X509_verify_cert(ctx);
    if (state->first_error != 0)
        rc = state->first_error;
    else if (ok == 1)
        rc = 0;
    else
        rc = X509_STORE_CTX_get_error(ctx) == X509_V_ERR_OUT_OF_MEM ? PETREL_ERR_NOMEM
                                                                    : PETREL_ERR_CRYPTO;
    /* Whatever made it into the chain and had no problem passed. */
    cert_stack *chain = X509_STORE_CTX_get0_chain(ctx);
    for (int i = 0; i < sk_X509_num(chain); i++) {
        size_t index = verify_input_index(state, sk_X509_value(chain, i));
        if (index < state->count && state->status[index] == PETREL_CERT_AUTH_UNTESTED)
            state->status[index] = PETREL_CERT_AUTH_PASS;
    }
out:
    X509_STORE_CTX_free(ctx);
    return rc;
}

/*
 * Statuses: every certificate OpenSSL placed in the chain it built gets
 * PASS or its first failure. Because the callback lets validation go on,
 * that is every certificate from the leaf up to the anchor, or up to where
 * the path broke off. Input certificates that are not part of that chain
 * (extra or unrelated intermediates) stay UNTESTED, as does every
 * certificate when one of them does not parse (that one gets FAIL_OTHER).
 * The anchor comes from the store and has no status; a failure on it (an
 * expired root) still decides the result.
 */
int crypto_openssl_verify_chain(const crypto_trust *trust, const uint8_t *const *chain,
                                const size_t *lens, size_t count,
                                const crypto_verify_params *params, petrel_cert_auth *status)
{
    if (!chain || !lens || !params || !status || count == 0 || count > INT_MAX)
        return PETREL_ERR_ARG;
    for (size_t i = 0; i < count; i++)
        status[i] = PETREL_CERT_AUTH_UNTESTED;
    X509 **certs = OPENSSL_zalloc(count * sizeof(*certs));
    cert_stack *untrusted = sk_X509_new_reserve(NULL, (int)count);
    /* With no trust store nothing is trusted: an empty store says so. */
    X509_STORE *empty = trust ? NULL : X509_STORE_new();
    X509_STORE *store = trust ? trust->store : empty;
    int rc = 0;
    if (!certs || !untrusted || !store) {
        rc = PETREL_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        certs[i] = cert_parse(chain[i], lens[i]);
        if (!certs[i]) {
            status[i] = PETREL_CERT_AUTH_FAIL_OTHER;
            rc = PETREL_ERR_CERT_PARSE;
            goto out;
        }
        /* The stack borrows the references certs[] holds. */
        if (i > 0 && sk_X509_push(untrusted, certs[i]) <= 0) {
            rc = PETREL_ERR_NOMEM;
            goto out;
        }
    }
    verify_state state = {.certs = certs, .count = count, .status = status};
    rc = verify_run(store, untrusted, params, &state);
out:
    sk_X509_free(untrusted);
    for (size_t i = 0; certs && i < count; i++)
        X509_free(certs[i]);
    OPENSSL_free(certs);
    X509_STORE_free(empty);
    return rc < 0 ? ossl_fail(rc) : 0;
}

/* ======================================================================
 * The parsed view (petrel_cert_info)
 * ====================================================================== */

/*
 * A view lives in one allocation: the petrel_cert_info, then its arrays,
 * then its strings and bytes, so cert_info_free is a single free. It is
 * built by running the same code twice: first with no memory, to measure,
 * then into a block of exactly that size.
 */
typedef struct info_arena {
    uint8_t *base; /* NULL while measuring */
    size_t cap;
    size_t used;
    bool failed; /* overflow, or more than measured */
} info_arena;

static void *arena_take(info_arena *arena, size_t size, size_t align)
{
    size_t offset = (arena->used + align - 1) / align * align;
    if (offset < arena->used || size > SIZE_MAX - offset ||
        (arena->base && offset + size > arena->cap)) {
        arena->failed = true;
        return NULL;
    }
    arena->used = offset + size;
    return arena->base ? arena->base + offset : NULL;
}

/* A NUL-terminated copy of s[0, len); NULL while measuring. */
static const char *arena_text(info_arena *arena, const char *s, size_t len)
{
    char *copy = arena_take(arena, len + 1, 1);
    if (copy) {
        if (len)
            memcpy(copy, s, len);
        copy[len] = '\0';
    }
    return copy;
}

static const char *arena_cstr(info_arena *arena, const char *s)
{
    return arena_text(arena, s, strlen(s));
}

static const uint8_t *arena_bytes(info_arena *arena, const uint8_t *bytes, size_t len)
{
    uint8_t *copy = arena_take(arena, len ? len : 1, 1);
    if (copy && len)
        memcpy(copy, bytes, len);
    return copy;
}

/* An object's short name ("CN", "ED25519"), or its dotted OID when
 * OpenSSL has no name for it. */
static const char *arena_object_name(info_arena *arena, const ASN1_OBJECT *obj)
{
    int nid = OBJ_obj2nid(obj);
    const char *sn = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;
    if (sn)
        return arena_cstr(arena, sn);
    int len = OBJ_obj2txt(NULL, 0, obj, 1);
    if (len < 0)
        return arena_cstr(arena, "");
    char *text = arena_take(arena, (size_t)len + 1, 1);
    if (text)
        OBJ_obj2txt(text, len + 1, obj, 1);
    return text;
}

/* An address from an IP SAN as text: dotted quad, or RFC 5952 form for
 * IPv6 (lowercase, no leading zeros, the longest run of two or more zero
 * groups, leftmost on a tie, written "::"). */
static size_t format_ip(const uint8_t *ip, size_t len, char *out, size_t cap)
{
    if (len == 4)
        return (size_t)snprintf(out, cap, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
    if (len != 16)
        return 0;
    unsigned group[8];
    for (int i = 0; i < 8; i++)
        group[i] = (unsigned)ip[2 * i] << 8 | ip[2 * i + 1];
    int best = -1, best_len = 1;
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && group[j] == 0)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j > i ? j : i + 1;
    }
    size_t n = 0;
    for (int i = 0; i < 8 && n < cap; i++) {
        if (i == best) {
            n += (size_t)snprintf(out + n, cap - n, "::");
            i += best_len - 1;
            continue;
        }
        bool after_gap = best >= 0 && i == best + best_len;
        n += (size_t)snprintf(out + n, cap - n, "%s%x", i == 0 || after_gap ? "" : ":", group[i]);
    }
    return n < cap ? n : 0;
}

static int info_name(info_arena *arena, const X509_NAME *name, petrel_dn *dn)
{
    int count = X509_NAME_entry_count(name);
    petrel_dn_attr *attrs =
        arena_take(arena, (size_t)count * sizeof(*attrs), alignof(petrel_dn_attr));
    for (int i = 0; i < count; i++) {
        const X509_NAME_ENTRY *entry = X509_NAME_get_entry(name, i);
        const char *type = arena_object_name(arena, X509_NAME_ENTRY_get_object(entry));
        unsigned char *utf8 = NULL;
        int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
        /* A value that does not convert (a malformed BMPString) shows
         * as empty rather than failing the whole view, and so does one
         * holding a NUL, which a C string would cut short into another
         * name ("good.example\0.evil.example"). */
        bool usable = len > 0 && !memchr(utf8, '\0', (size_t)len);
        const char *value =
            arena_text(arena, usable ? (const char *)utf8 : "", usable ? (size_t)len : 0);
        OPENSSL_free(utf8);
        if (attrs) {
            attrs[i].type = type;
            attrs[i].value = value;
        }
    }
    ERR_clear_error();
    dn->attrs = attrs;
    dn->count = (size_t)count;

    /* RFC 2253 order and escaping, but UTF-8 kept as is rather than
     * written as \XX escapes. */
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio)
        return PETREL_ERR_NOMEM;
    char *text = NULL;
    long text_len = 0;
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0)
        text_len = BIO_get_mem_data(bio, &text);
    dn->text = arena_text(arena, text_len > 0 ? text : "", text_len > 0 ? (size_t)text_len : 0);
    BIO_free(bio);
    return 0;
}

/* Days from 1970-01-01 to the given civil date (proleptic Gregorian;
 * H. Hinnant's days_from_civil), for any year. */
static int64_t days_from_civil(int64_t year, unsigned month, unsigned day)
{
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    unsigned year_of_era = (unsigned)(year - era * 400);
    unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + (int64_t)day_of_era - 719468;
}

static int time_to_unix(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return ossl_fail(PETREL_ERR_CERT_PARSE);
    *out =
        days_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday) *
            86400 +
        tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
    return 0;
}

/* The key fields, from a SubjectPublicKeyInfo. */
static void info_key(info_arena *arena, const X509_PUBKEY *spki, petrel_cert_info *info)
{
    EVP_PKEY *pkey = X509_PUBKEY_get0(spki);
    if (!pkey) {
        /* OpenSSL does not know the algorithm (or the key is malformed):
         * name the algorithm from its identifier. */
        ASN1_OBJECT *alg = NULL;
        ERR_clear_error();
        if (X509_PUBKEY_get0_param(&alg, NULL, NULL, NULL, spki) == 1 && alg)
            info->key_algorithm = arena_object_name(arena, alg);
        else
            info->key_algorithm = arena_cstr(arena, "");
        return;
    }
    int id = EVP_PKEY_get_base_id(pkey);
    const char *name = id == EVP_PKEY_RSA ? "RSA" : id == EVP_PKEY_EC ? "EC" : NULL;
    if (!name && id != NID_undef)
        name = OBJ_nid2sn(id);
    if (!name)
        name = EVP_PKEY_get0_type_name(pkey);
    info->key_algorithm = arena_cstr(arena, name ? name : "");
    int bits = EVP_PKEY_get_bits(pkey);
    info->key_bits = bits > 0 ? (unsigned)bits : 0;
    char group[80];
    if (id == EVP_PKEY_EC && EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL) == 1) {
        int nid = OBJ_txt2nid(group);
        const char *nist = nid != NID_undef ? EC_curve_nid2nist(nid) : NULL;
        info->key_curve = arena_cstr(arena, nist ? nist : group);
    }
    ERR_clear_error();
}

static void info_sans(info_arena *arena, X509 *cert, petrel_cert_info *info)
{
    /* A missing or undecodable extension leaves the list empty. */
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    ERR_clear_error();
    int count = names ? sk_GENERAL_NAME_num(names) : 0;
    petrel_san *sans = arena_take(arena, (size_t)count * sizeof(*sans), alignof(petrel_san));
    for (int i = 0; i < count; i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        petrel_san_type type = PETREL_SAN_OTHER;
        const ASN1_STRING *str = NULL;
        char ip[48];
        size_t ip_len = 0;
        switch (gn->type) {
        case GEN_DNS:
            type = PETREL_SAN_DNS;
            str = gn->d.dNSName;
            break;
        case GEN_EMAIL:
            type = PETREL_SAN_EMAIL;
            str = gn->d.rfc822Name;
            break;
        case GEN_URI:
            type = PETREL_SAN_URI;
            str = gn->d.uniformResourceIdentifier;
            break;
        case GEN_IPADD:
            ip_len = format_ip(ASN1_STRING_get0_data(gn->d.iPAddress),
                               (size_t)ASN1_STRING_length(gn->d.iPAddress), ip, sizeof(ip));
            if (ip_len > 0)
                type = PETREL_SAN_IP;
            break;
        default:
            break;
        }
        /* A name holding a NUL is not a valid IA5String name; as a C
         * string it would read as a different, shorter one. */
        const char *text = str ? (const char *)ASN1_STRING_get0_data(str) : NULL;
        size_t text_len = str ? (size_t)ASN1_STRING_length(str) : 0;
        if (text_len > 0 && memchr(text, '\0', text_len)) {
            type = PETREL_SAN_OTHER;
            text_len = 0;
        }
        const char *value;
        if (text_len > 0)
            value = arena_text(arena, text, text_len);
        else if (type == PETREL_SAN_IP)
            value = arena_text(arena, ip, ip_len);
        else
            value = arena_cstr(arena, "");
        if (sans) {
            sans[i].type = type;
            sans[i].value = value;
        }
    }
    info->san = sans;
    info->san_count = (size_t)count;
    GENERAL_NAMES_free(names);
}

static void info_basic_constraints(X509 *cert, petrel_cert_info *info)
{
    BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(cert, NID_basic_constraints, NULL, NULL);
    ERR_clear_error();
    info->path_len = -1;
    if (!bc)
        return;
    info->has_basic_constraints = true;
    info->is_ca = bc->ca != 0;
    if (bc->pathlen) {
        long pathlen = ASN1_INTEGER_get(bc->pathlen);
        info->path_len = pathlen < 0 ? -1 : pathlen > INT_MAX ? INT_MAX : (int)pathlen;
    }
    BASIC_CONSTRAINTS_free(bc);
}

/* Lays out the view of cert (or, with cert NULL, of the key spki alone),
 * measuring or writing as arena says. */
static int info_build(info_arena *arena, X509 *cert, const X509_PUBKEY *spki, const uint8_t *der,
                      size_t len)
{
    petrel_cert_info scratch;
    petrel_cert_info *info = arena_take(arena, sizeof(*info), alignof(petrel_cert_info));
    if (!info) {
        memset(&scratch, 0, sizeof(scratch));
        info = &scratch;
    }
    info->auth_status = PETREL_CERT_AUTH_UNTESTED;
    info_key(arena, spki, info);
    info->der = arena_bytes(arena, der, len);
    info->der_len = len;
    if (!cert) {
        info->is_raw_public_key = true;
        info->path_len = -1;
        info->subject.text = arena_cstr(arena, "");
        info->issuer.text = arena_cstr(arena, "");
        return 0;
    }
    info->version = (int)X509_get_version(cert) + 1;
    const ASN1_INTEGER *serial = X509_get0_serialNumber(cert);
    info->serial_len = (size_t)ASN1_STRING_length(serial);
    info->serial = arena_bytes(arena, ASN1_STRING_get0_data(serial), info->serial_len);
    PETREL_TRY(info_name(arena, X509_get_subject_name(cert), &info->subject));
    PETREL_TRY(info_name(arena, X509_get_issuer_name(cert), &info->issuer));
    PETREL_TRY(time_to_unix(X509_get0_notBefore(cert), &info->not_before));
    PETREL_TRY(time_to_unix(X509_get0_notAfter(cert), &info->not_after));
    int sig_nid = X509_get_signature_nid(cert);
    const char *sig_name = sig_nid != NID_undef ? OBJ_nid2ln(sig_nid) : NULL;
    if (sig_name) {
        info->signature_algorithm = arena_cstr(arena, sig_name);
    } else {
        const X509_ALGOR *alg = NULL;
        const ASN1_OBJECT *oid = NULL;
        X509_get0_signature(NULL, &alg, cert);
        X509_ALGOR_get0(&oid, NULL, NULL, alg);
        info->signature_algorithm = arena_object_name(arena, oid);
    }
    info_sans(arena, cert, info);
    info_basic_constraints(cert, info);
    return 0;
}

static int info_new(X509 *cert, const X509_PUBKEY *spki, const uint8_t *der, size_t len,
                    petrel_cert_info **out)
{
    info_arena arena = {0};
    PETREL_TRY(info_build(&arena, cert, spki, der, len));
    if (arena.failed)
        return PETREL_ERR_NOMEM;
    arena.cap = arena.used;
    arena.used = 0;
    arena.base = OPENSSL_zalloc(arena.cap);
    if (!arena.base)
        return ossl_fail(PETREL_ERR_NOMEM);
    int rc = info_build(&arena, cert, spki, der, len);
    if (rc == 0 && (arena.failed || arena.used != arena.cap))
        rc = PETREL_ERR_INTERNAL;
    if (rc < 0) {
        OPENSSL_free(arena.base);
        return rc;
    }
    *out = (petrel_cert_info *)(void *)arena.base;
    return 0;
}

int crypto_openssl_cert_info_new(const uint8_t *der, size_t len, petrel_cert_info **out)
{
    X509 *cert = cert_parse(der, len);
    if (!cert)
        return PETREL_ERR_CERT_PARSE;
    int rc = info_new(cert, X509_get_X509_PUBKEY(cert), der, len, out);
    X509_free(cert);
    return rc < 0 ? ossl_fail(rc) : 0;
}

int crypto_openssl_spki_info_new(const uint8_t *der, size_t len, petrel_cert_info **out)
{
    if (!der || len == 0 || len > LONG_MAX)
        return PETREL_ERR_KEY_PARSE;
    const unsigned char *p = der;
    X509_PUBKEY *spki = d2i_X509_PUBKEY(NULL, &p, (long)len);
    if (!spki || p != der + len) {
        X509_PUBKEY_free(spki);
        return ossl_fail(PETREL_ERR_KEY_PARSE);
    }
    int rc = info_new(NULL, spki, der, len, out);
    X509_PUBKEY_free(spki);
    return rc < 0 ? ossl_fail(rc) : 0;
}

void crypto_openssl_cert_info_free(petrel_cert_info *info)
{
    OPENSSL_free(info);
}
