/*
 * Tests for the handshake message codecs (handshake/messages.h).
 *
 * Every message has one canonical encoding, assembled by hand from its
 * fields ("parts", hex). The round-trip tests write a struct, compare the
 * bytes with that encoding, read them back, compare the fields, and write
 * again. The negative tables replace one part of the canonical encoding and
 * name the error the reader must give; every prefix of every canonical
 * encoding must fail as truncated. Readers get heap buffers of exactly the
 * input's size so that AddressSanitizer reports any read past the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handshake/messages.h"

#define BUF_CAP 4096

/* ---- helpers ---- */

#define EXPECT_RC(ctx, actual, expected)                                                  \
    do {                                                                                  \
        int expect_actual_ = (actual);                                                    \
        int expect_expected_ = (expected);                                                \
        if (expect_actual_ != expect_expected_)                                           \
            fail_msg("%s: got %s, expected %s", (ctx), petrel_error_name(expect_actual_), \
                     petrel_error_name(expect_expected_));                                \
    } while (0)

#define EXPECT_EQ(ctx, actual, expected)                                              \
    do {                                                                              \
        unsigned long long expect_actual_ = (unsigned long long)(actual);             \
        unsigned long long expect_expected_ = (unsigned long long)(expected);         \
        if (expect_actual_ != expect_expected_)                                       \
            fail_msg("%s: %s is %llu, expected %llu", (ctx), #actual, expect_actual_, \
                     expect_expected_);                                               \
    } while (0)

static void expect_bytes(const char *ctx, const uint8_t *a, size_t a_len, const uint8_t *b,
                         size_t b_len)
{
    if (a_len != b_len)
        fail_msg("%s: length %zu, expected %zu", ctx, a_len, b_len);
    for (size_t i = 0; i < a_len; i++) {
        if (a[i] != b[i])
            fail_msg("%s: byte %zu is 0x%02x, expected 0x%02x", ctx, i, a[i], b[i]);
    }
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes hex (spaces ignored) into out; returns the byte count. */
static size_t hex_decode(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int high = -1;
    for (const char *c = hex; *c != '\0'; c++) {
        if (*c == ' ')
            continue;
        int v = hex_nibble(*c);
        if (v < 0)
            fail_msg("bad hex in test table: \"%s\"", hex);
        if (high < 0) {
            high = v;
            continue;
        }
        if (n >= cap)
            fail_msg("hex in test table too long: \"%s\"", hex);
        out[n++] = (uint8_t)(high << 4 | v);
        high = -1;
    }
    if (high >= 0)
        fail_msg("odd-length hex in test table: \"%s\"", hex);
    return n;
}

/* A heap copy of exactly len bytes (NULL for 0: an empty reader). */
static uint8_t *exact_copy(const uint8_t *src, size_t len)
{
    if (len == 0)
        return NULL;
    uint8_t *p = malloc(len);
    assert_non_null(p);
    memcpy(p, src, len);
    return p;
}

/* ---- canonical encodings, field by field ---- */

#define HEX_RANDOM  "000102030405060708090a0b0c0d0e0f 101112131415161718191a1b1c1d1e1f"
#define HEX_SID32   "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf b0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
#define HEX_POINT32 "4142434445464748494a4b4c4d4e4f50 5152535455565758595a5b5c5d5e5f60"
/* ECPoint point<1..2^8-1> holding HEX_POINT32 (one literal: clang flags
 * concatenation inside a list of strings). */
#define HEX_ECPOINT  "20 4142434445464748494a4b4c4d4e4f50 5152535455565758595a5b5c5d5e5f60"
#define HEX_VERIFY12 "f0f1f2f3f4f5f6f7f8f9fafb"

/* The ClientHello's extensions: all the known ones and two kept raw. */
#define HEX_CH_EXTENSIONS                                                \
    "ff01 0001 00"             /* renegotiation_info, empty */           \
    "0017 0000"                /* extended_master_secret */              \
    "000a 0006 0004 001d 0017" /* supported_groups: x25519, secp256r1 */ \
    "000b 0002 01 00"          /* ec_point_formats: uncompressed */      \
    "000d 0006 0004 0403 0804" /* signature_algorithms */                \
    "0016 0000"                /* encrypt_then_mac: kept raw */          \
    "1234 0002 beef"           /* unknown: kept raw */
#define HEX_CH_EXTENSIONS_LEN "002d"
#define HEX_SH_EXTENSIONS     "ff01 0001 00 0017 0000 000b 0002 01 00"
#define HEX_SH_EXTENSIONS_LEN "000f"

enum {
    CH_VERSION,
    CH_RANDOM,
    CH_SESSION_ID,
    CH_COOKIE,
    CH_CIPHER_SUITES,
    CH_COMPRESSION,
    CH_EXTENSIONS,
    CH_TRAILING,
    CH_PARTS
};
#define CH_COMMON_PARTS                                        \
    [CH_RANDOM] = HEX_RANDOM, [CH_SESSION_ID] = "04 a0a1a2a3", \
    [CH_CIPHER_SUITES] = "0004 c0a8 00ff", [CH_COMPRESSION] = "01 00", [CH_TRAILING] = ""

static const char *const ch_dtls_parts[CH_PARTS] = {
    CH_COMMON_PARTS, [CH_VERSION] = "fefd", [CH_COOKIE] = "03 c0c1c2",
    [CH_EXTENSIONS] = HEX_CH_EXTENSIONS_LEN HEX_CH_EXTENSIONS};
static const char *const ch_dtls_no_ext_parts[CH_PARTS] = {
    CH_COMMON_PARTS, [CH_VERSION] = "fefd", [CH_COOKIE] = "03 c0c1c2", [CH_EXTENSIONS] = ""};
static const char *const ch_dtls_empty_ext_parts[CH_PARTS] = {
    CH_COMMON_PARTS, [CH_VERSION] = "fefd", [CH_COOKIE] = "03 c0c1c2", [CH_EXTENSIONS] = "0000"};
static const char *const ch_tls_parts[CH_PARTS] = {
    CH_COMMON_PARTS, [CH_VERSION] = "0303", [CH_COOKIE] = "",
    [CH_EXTENSIONS] = HEX_CH_EXTENSIONS_LEN HEX_CH_EXTENSIONS};
static const char *const ch_tls_no_ext_parts[CH_PARTS] = {
    CH_COMMON_PARTS, [CH_VERSION] = "0303", [CH_COOKIE] = "", [CH_EXTENSIONS] = ""};

enum {
    SH_VERSION,
    SH_RANDOM,
    SH_SESSION_ID,
    SH_CIPHER_SUITE,
    SH_COMPRESSION,
    SH_EXTENSIONS,
    SH_TRAILING,
    SH_PARTS
};
#define SH_COMMON_PARTS                                                                \
    [SH_VERSION] = "fefd", [SH_RANDOM] = HEX_RANDOM, [SH_SESSION_ID] = "20" HEX_SID32, \
    [SH_CIPHER_SUITE] = "c0a8", [SH_COMPRESSION] = "00", [SH_TRAILING] = ""

static const char *const sh_parts[SH_PARTS] = {
    SH_COMMON_PARTS, [SH_EXTENSIONS] = HEX_SH_EXTENSIONS_LEN HEX_SH_EXTENSIONS};
static const char *const sh_no_ext_parts[SH_PARTS] = {SH_COMMON_PARTS, [SH_EXTENSIONS] = ""};

enum { HVR_VERSION, HVR_COOKIE, HVR_TRAILING, HVR_PARTS };
static const char *const hvr_parts[HVR_PARTS] = {
    [HVR_VERSION] = "fefd", [HVR_COOKIE] = "08 0001020304050607", [HVR_TRAILING] = ""};

enum { SKE_HINT, SKE_CURVE_TYPE, SKE_GROUP, SKE_POINT, SKE_TRAILING, SKE_PARTS };
static const char *const ske_psk_parts[SKE_PARTS] = {[SKE_HINT] = "0004 68696e74",
                                                     [SKE_CURVE_TYPE] = "",
                                                     [SKE_GROUP] = "",
                                                     [SKE_POINT] = "",
                                                     [SKE_TRAILING] = ""};
static const char *const ske_ecdhe_parts[SKE_PARTS] = {[SKE_HINT] = "0004 68696e74",
                                                       [SKE_CURVE_TYPE] = "03",
                                                       [SKE_GROUP] = "001d",
                                                       [SKE_POINT] = HEX_ECPOINT,
                                                       [SKE_TRAILING] = ""};

enum { CKE_IDENTITY, CKE_POINT, CKE_TRAILING, CKE_PARTS };
static const char *const cke_psk_parts[CKE_PARTS] = {
    [CKE_IDENTITY] = "0008 636c69656e745f31", [CKE_POINT] = "", [CKE_TRAILING] = ""};
static const char *const cke_ecdhe_parts[CKE_PARTS] = {
    [CKE_IDENTITY] = "0008 636c69656e745f31", [CKE_POINT] = HEX_ECPOINT, [CKE_TRAILING] = ""};

enum { FIN_VERIFY_DATA, FIN_TRAILING, FIN_PARTS };
static const char *const finished_parts[FIN_PARTS] = {
    [FIN_VERIFY_DATA] = HEX_VERIFY12, [FIN_TRAILING] = ""};

enum { SHD_TRAILING, SHD_PARTS };
static const char *const shd_parts[SHD_PARTS] = {[SHD_TRAILING] = ""};

/* Certificate: a chain of two (fake DER: the codec does not parse it). */
enum { CERT_LIST, CERT_FIRST, CERT_SECOND, CERT_TRAILING, CERT_PARTS };
static const char *const cert_parts[CERT_PARTS] = {[CERT_LIST] = "00000f",
                                                   [CERT_FIRST] = "000005 3003020101",
                                                   [CERT_SECOND] = "000004 30020500",
                                                   [CERT_TRAILING] = ""};
static const char *const cert_empty_parts[CERT_PARTS] = {
    [CERT_LIST] = "000000", [CERT_FIRST] = "", [CERT_SECOND] = "", [CERT_TRAILING] = ""};

/* Certificate with RawPublicKey: one SubjectPublicKeyInfo, no list. */
#define HEX_SPKI8 "30063004060203ff"
enum { RPK_SPKI, RPK_TRAILING, RPK_PARTS };
static const char *const cert_rpk_parts[RPK_PARTS] = {
    [RPK_SPKI] = "000008 30063004060203ff", [RPK_TRAILING] = ""};

/* A digitally-signed signature: ecdsa_secp256r1_sha256 over 8 fake bytes. */
#define HEX_SIG8           "3006020101020102"
#define HEX_SIGNATURE8     "0008 3006020101020102"
#define HEX_AUTHORITIES    "000b 0005 3003310100 0002 3000"
#define HEX_EXAMPLE_COM    "6578616d706c652e636f6d"
#define HEX_SERVER_NAME_EX "000e 00 000b 6578616d706c652e636f6d"

enum {
    SKS_CURVE_TYPE,
    SKS_GROUP,
    SKS_POINT,
    SKS_SIG_SCHEME,
    SKS_SIGNATURE,
    SKS_TRAILING,
    SKS_PARTS
};
static const char *const ske_signed_parts[SKS_PARTS] = {
    [SKS_CURVE_TYPE] = "03",          [SKS_GROUP] = "001d",
    [SKS_POINT] = HEX_ECPOINT,        [SKS_SIG_SCHEME] = "0403",
    [SKS_SIGNATURE] = HEX_SIGNATURE8, [SKS_TRAILING] = ""};

enum { CKP_POINT, CKP_TRAILING, CKP_PARTS };
static const char *const cke_plain_parts[CKP_PARTS] = {
    [CKP_POINT] = HEX_ECPOINT, [CKP_TRAILING] = ""};

/* CertificateRequest: ecdsa_sign(64), rsa_sign(1); two schemes; two DNs. */
enum { CR_TYPES, CR_SIG_SCHEMES, CR_AUTHORITIES, CR_TRAILING, CR_PARTS };
static const char *const cr_parts[CR_PARTS] = {[CR_TYPES] = "02 4001",
                                               [CR_SIG_SCHEMES] = "0004 0403 0804",
                                               [CR_AUTHORITIES] = HEX_AUTHORITIES,
                                               [CR_TRAILING] = ""};
static const char *const cr_no_ca_parts[CR_PARTS] = {[CR_TYPES] = "01 40",
                                                     [CR_SIG_SCHEMES] = "0002 0403",
                                                     [CR_AUTHORITIES] = "0000",
                                                     [CR_TRAILING] = ""};

enum { CV_SIG_SCHEME, CV_SIGNATURE, CV_TRAILING, CV_PARTS };
static const char *const cv_parts[CV_PARTS] = {
    [CV_SIG_SCHEME] = "0403", [CV_SIGNATURE] = HEX_SIGNATURE8, [CV_TRAILING] = ""};

/* Extension bodies (extension_data) for the message-dependent decoders. */
enum { EXT_BODY, EXT_TRAILING, EXT_PARTS };
static const char *const sni_body_parts[EXT_PARTS] = {
    [EXT_BODY] = HEX_SERVER_NAME_EX, [EXT_TRAILING] = ""};
static const char *const cert_type_list_parts[EXT_PARTS] = {
    [EXT_BODY] = "02 0200", [EXT_TRAILING] = ""};
static const char *const cert_type_parts[EXT_PARTS] = {[EXT_BODY] = "02", [EXT_TRAILING] = ""};

/* ---- readers behind one signature ---- */

typedef int (*read_fn)(const uint8_t *data, size_t len);

static int read_ch(const uint8_t *data, size_t len, bool dtls)
{
    cursor_reader r = cursor_reader_init(data, len);
    hs_client_hello m;
    return hs_client_hello_read(&r, &m, dtls);
}

static int read_ch_dtls(const uint8_t *data, size_t len)
{
    return read_ch(data, len, true);
}

static int read_ch_tls(const uint8_t *data, size_t len)
{
    return read_ch(data, len, false);
}

static int read_sh(const uint8_t *data, size_t len)
{
    cursor_reader r = cursor_reader_init(data, len);
    hs_server_hello m;
    return hs_server_hello_read(&r, &m);
}

static int read_hvr(const uint8_t *data, size_t len)
{
    cursor_reader r = cursor_reader_init(data, len);
    hs_hello_verify_request m;
    return hs_hello_verify_request_read(&r, &m);
}

static int read_ske(const uint8_t *data, size_t len, bool ecdhe)
{
    cursor_reader r = cursor_reader_init(data, len);
    hs_server_key_exchange_psk m = {.ecdhe = ecdhe};
    return hs_server_key_exchange_psk_read(&r, &m);
}

static int read_ske_psk(const uint8_t *data, size_t len)
{
    return read_ske(data, len, false);
}

static int read_ske_ecdhe(const uint8_t *data, size_t len)
{
    return read_ske(data, len, true);
}

static int read_cke(const uint8_t *data, size_t len, bool ecdhe)
{
    cursor_reader r = cursor_reader_init(data, len);
    hs_client_key_exchange_psk m = {.ecdhe = ecdhe};
    return hs_client_key_exchange_psk_read(&r, &m);
}

static int read_cke_psk(const uint8_t *data, size_t len)
{
    return read_cke(data, len, false);
}

static int read_cke_ecdhe(const uint8_t *data, size_t len)
{
    return read_cke(data, len, true);
}

static int read_finished(const uint8_t *data, size_t len)
{
    cursor_reader r = cursor_reader_init(data, len);
    hs_finished m;
    return hs_finished_read(&r, &m);
}

static int read_shd(const uint8_t *data, size_t len)
{
    cursor_reader r = cursor_reader_init(data, len);
    return hs_server_hello_done_read(&r);
}

static int read_extensions(const uint8_t *data, size_t len)
{
    cursor_reader r = cursor_reader_init(data, len);
    hs_extensions ext;
    return hs_extensions_read(&r, &ext);
}

static int read_cert(const uint8_t *data, size_t len, bool raw_public_key)
{
    cursor_reader r = cursor_reader_init(data, len);
    hs_certificate m = {.raw_public_key = raw_public_key};
    int rc = hs_certificate_read(&r, &m);
    assert_true(m.count <= HS_MAX_CHAIN);
    return rc;
}

static int read_cert_x509(const uint8_t *data, size_t len)
{
    return read_cert(data, len, false);
}

static int read_cert_rpk(const uint8_t *data, size_t len)
{
    return read_cert(data, len, true);
}

static int read_ske_signed(const uint8_t *data, size_t len)
{
    cursor_reader r = cursor_reader_init(data, len);
    hs_server_key_exchange_ecdhe m;
    return hs_server_key_exchange_ecdhe_read(&r, &m);
}

static int read_cke_plain(const uint8_t *data, size_t len)
{
    cursor_reader r = cursor_reader_init(data, len);
    const uint8_t *public_key;
    size_t public_key_len;
    return hs_client_key_exchange_ecdhe_read(&r, &public_key, &public_key_len);
}

static int read_cr(const uint8_t *data, size_t len)
{
    cursor_reader r = cursor_reader_init(data, len);
    hs_certificate_request m;
    return hs_certificate_request_read(&r, &m);
}

static int read_cv(const uint8_t *data, size_t len)
{
    cursor_reader r = cursor_reader_init(data, len);
    hs_certificate_verify m;
    return hs_certificate_verify_read(&r, &m);
}

static int read_ext_server_name(const uint8_t *data, size_t len)
{
    hs_extension ext = {HS_EXT_SERVER_NAME, data, len};
    const uint8_t *name;
    size_t name_len;
    return hs_ext_read_server_name(&ext, &name, &name_len);
}

static int read_ext_cert_type_list(const uint8_t *data, size_t len)
{
    hs_extension ext = {HS_EXT_CLIENT_CERTIFICATE_TYPE, data, len};
    const uint8_t *types;
    size_t count;
    return hs_ext_read_cert_type_list(&ext, &types, &count);
}

static int read_ext_cert_type(const uint8_t *data, size_t len)
{
    hs_extension ext = {HS_EXT_SERVER_CERTIFICATE_TYPE, data, len};
    uint8_t type;
    return hs_ext_read_cert_type(&ext, &type);
}

static int read_ext_empty(const uint8_t *data, size_t len)
{
    hs_extension ext = {HS_EXT_SERVER_NAME, data, len};
    return hs_ext_read_empty(&ext);
}

/* ---- message kinds ---- */

typedef struct message_kind {
    const char *name;
    const char *const *parts;
    size_t part_count;
    read_fn read;
    /* The hellos' extensions block may be absent (RFC 5246 §7.4.1.2), so
     * the prefix ending right before it is itself a valid message. -1: no
     * such part. */
    int optional_part;
} message_kind;

#define KIND(name, parts, read, optional)                    \
    {                                                        \
        name, parts, PETREL_ARRAY_LEN(parts), read, optional \
    }

static const message_kind ch_dtls =
    KIND("ClientHello/DTLS", ch_dtls_parts, read_ch_dtls, CH_EXTENSIONS);
static const message_kind ch_dtls_no_ext =
    KIND("ClientHello/DTLS without extensions", ch_dtls_no_ext_parts, read_ch_dtls, -1);
static const message_kind ch_dtls_empty_ext =
    KIND("ClientHello/DTLS empty extensions", ch_dtls_empty_ext_parts, read_ch_dtls, CH_EXTENSIONS);
static const message_kind ch_tls =
    KIND("ClientHello/TLS", ch_tls_parts, read_ch_tls, CH_EXTENSIONS);
static const message_kind ch_tls_no_ext =
    KIND("ClientHello/TLS without extensions", ch_tls_no_ext_parts, read_ch_tls, -1);
static const message_kind sh = KIND("ServerHello", sh_parts, read_sh, SH_EXTENSIONS);
static const message_kind sh_no_ext =
    KIND("ServerHello without extensions", sh_no_ext_parts, read_sh, -1);
static const message_kind hvr = KIND("HelloVerifyRequest", hvr_parts, read_hvr, -1);
static const message_kind ske_psk = KIND("ServerKeyExchange/PSK", ske_psk_parts, read_ske_psk, -1);
static const message_kind ske_ecdhe =
    KIND("ServerKeyExchange/ECDHE_PSK", ske_ecdhe_parts, read_ske_ecdhe, -1);
static const message_kind cke_psk = KIND("ClientKeyExchange/PSK", cke_psk_parts, read_cke_psk, -1);
static const message_kind cke_ecdhe =
    KIND("ClientKeyExchange/ECDHE_PSK", cke_ecdhe_parts, read_cke_ecdhe, -1);
static const message_kind finished = KIND("Finished", finished_parts, read_finished, -1);
static const message_kind shd = KIND("ServerHelloDone", shd_parts, read_shd, -1);
static const message_kind cert = KIND("Certificate", cert_parts, read_cert_x509, -1);
static const message_kind cert_empty =
    KIND("Certificate with an empty list", cert_empty_parts, read_cert_x509, -1);
static const message_kind cert_rpk =
    KIND("Certificate/RawPublicKey", cert_rpk_parts, read_cert_rpk, -1);
static const message_kind ske_signed =
    KIND("ServerKeyExchange/ECDHE signed", ske_signed_parts, read_ske_signed, -1);
static const message_kind cke_plain =
    KIND("ClientKeyExchange/ECDHE", cke_plain_parts, read_cke_plain, -1);
static const message_kind cert_request = KIND("CertificateRequest", cr_parts, read_cr, -1);
static const message_kind cert_request_no_ca =
    KIND("CertificateRequest without authorities", cr_no_ca_parts, read_cr, -1);
static const message_kind cert_verify = KIND("CertificateVerify", cv_parts, read_cv, -1);
static const message_kind sni_body =
    KIND("server_name extension_data", sni_body_parts, read_ext_server_name, -1);
static const message_kind cert_type_list_body =
    KIND("certificate type list extension_data", cert_type_list_parts, read_ext_cert_type_list, -1);
static const message_kind cert_type_body =
    KIND("certificate type extension_data", cert_type_parts, read_ext_cert_type, -1);

static const message_kind *const all_kinds[] = {
    &ch_dtls,
    &ch_dtls_no_ext,
    &ch_dtls_empty_ext,
    &ch_tls,
    &ch_tls_no_ext,
    &sh,
    &sh_no_ext,
    &hvr,
    &ske_psk,
    &ske_ecdhe,
    &cke_psk,
    &cke_ecdhe,
    &finished,
    &shd,
    &cert,
    &cert_empty,
    &cert_rpk,
    &ske_signed,
    &cke_plain,
    &cert_request,
    &cert_request_no_ca,
    &cert_verify,
    &sni_body,
    &cert_type_list_body,
    &cert_type_body,
};

/* The encoding of kind k with part `part` replaced by `hex` (part -1:
 * the canonical encoding). */
static size_t build(const message_kind *k, int part, const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < k->part_count; i++)
        n += hex_decode((int)i == part ? hex : k->parts[i], out + n, cap - n);
    return n;
}

static size_t canonical(const message_kind *k, uint8_t *out, size_t cap)
{
    return build(k, -1, NULL, out, cap);
}

/* Where the kind's optional part begins. */
static size_t optional_offset(const message_kind *k)
{
    uint8_t scratch[BUF_CAP];
    size_t n = 0;
    for (int i = 0; i < k->optional_part; i++)
        n += hex_decode(k->parts[i], scratch + n, sizeof(scratch) - n);
    return n;
}

static int read_exact(read_fn read, const uint8_t *data, size_t len)
{
    uint8_t *copy = exact_copy(data, len);
    int rc = read(copy, len);
    free(copy);
    return rc;
}

/* ---- canonical structs (the same messages as the parts above) ---- */

static const uint8_t session_id4[] = {0xa0, 0xa1, 0xa2, 0xa3};
static const uint8_t cookie3[] = {0xc0, 0xc1, 0xc2};
static const uint8_t suites[] = {0xc0, 0xa8, 0x00, 0xff};
static const uint8_t null_compression[] = {0};
static const uint8_t hvr_cookie[] = {0, 1, 2, 3, 4, 5, 6, 7};
static const uint8_t hint[] = {'h', 'i', 'n', 't'};
static const uint8_t identity[] = {'c', 'l', 'i', 'e', 'n', 't', '_', '1'};

static void fill_sequence(uint8_t *out, size_t len, uint8_t first)
{
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(first + i);
}

static const uint8_t *point32(void)
{
    static uint8_t point[32];
    fill_sequence(point, sizeof(point), 0x41);
    return point;
}

/* Writes HEX_CH_EXTENSIONS with the extension writers. */
static size_t write_ch_extensions(uint8_t *buf, size_t cap)
{
    static const uint16_t groups[] = {0x001d, 0x0017};
    static const uint16_t sigalgs[] = {0x0403, 0x0804};
    static const uint8_t unknown_body[] = {0xbe, 0xef};
    cursor_writer w = cursor_writer_init(buf, cap);
    assert_int_equal(hs_ext_write_renegotiation_info(&w, NULL, 0), 0);
    assert_int_equal(hs_ext_write_empty(&w, HS_EXT_EXTENDED_MASTER_SECRET), 0);
    assert_int_equal(hs_ext_write_u16_list(&w, HS_EXT_SUPPORTED_GROUPS, groups, 2), 0);
    assert_int_equal(hs_ext_write_ec_point_formats(&w), 0);
    assert_int_equal(hs_ext_write_u16_list(&w, HS_EXT_SIGNATURE_ALGORITHMS, sigalgs, 2), 0);
    assert_int_equal(hs_ext_write_empty(&w, HS_EXT_ENCRYPT_THEN_MAC), 0);
    assert_int_equal(cursor_write_u16(&w, 0x1234), 0);
    assert_int_equal(cursor_write_vector(&w, 2, 0, 0xFFFF, unknown_body, 2), 0);
    return w.len;
}

static size_t write_sh_extensions(uint8_t *buf, size_t cap)
{
    cursor_writer w = cursor_writer_init(buf, cap);
    assert_int_equal(hs_ext_write_renegotiation_info(&w, NULL, 0), 0);
    assert_int_equal(hs_ext_write_empty(&w, HS_EXT_EXTENDED_MASTER_SECRET), 0);
    assert_int_equal(hs_ext_write_ec_point_formats(&w), 0);
    return w.len;
}

typedef enum { NO_BLOCK, EMPTY_BLOCK, WITH_EXTENSIONS } ext_mode;

/* ext_buf holds the extensions block body when mode is WITH_EXTENSIONS. */
static void make_client_hello(hs_client_hello *m, bool dtls, ext_mode mode, uint8_t *ext_buf,
                              size_t ext_cap)
{
    memset(m, 0, sizeof(*m));
    m->version = dtls ? HS_VERSION_DTLS12 : HS_VERSION_TLS12;
    fill_sequence(m->random, HS_RANDOM_LEN, 0);
    memcpy(m->session_id, session_id4, sizeof(session_id4));
    m->session_id_len = sizeof(session_id4);
    if (dtls) {
        m->cookie = cookie3;
        m->cookie_len = sizeof(cookie3);
    }
    m->cipher_suites.data = suites;
    m->cipher_suites.count = sizeof(suites) / 2;
    m->compression_methods = null_compression;
    m->compression_methods_len = sizeof(null_compression);
    m->has_extensions_block = mode != NO_BLOCK;
    if (mode == WITH_EXTENSIONS) {
        m->extensions_raw = ext_buf;
        m->extensions_raw_len = write_ch_extensions(ext_buf, ext_cap);
    }
}

static void make_server_hello(hs_server_hello *m, bool with_extensions, uint8_t *ext_buf,
                              size_t ext_cap)
{
    memset(m, 0, sizeof(*m));
    m->version = HS_VERSION_DTLS12;
    fill_sequence(m->random, HS_RANDOM_LEN, 0);
    fill_sequence(m->session_id, HS_SESSION_ID_MAX, 0xa0);
    m->session_id_len = HS_SESSION_ID_MAX;
    m->cipher_suite = 0xc0a8;
    m->compression_method = 0;
    m->has_extensions_block = with_extensions;
    if (with_extensions) {
        m->extensions_raw = ext_buf;
        m->extensions_raw_len = write_sh_extensions(ext_buf, ext_cap);
    }
}

static hs_hello_verify_request make_hvr(void)
{
    hs_hello_verify_request m = {HS_VERSION_DTLS12, hvr_cookie, sizeof(hvr_cookie)};
    return m;
}

static hs_server_key_exchange_psk make_ske(bool ecdhe)
{
    hs_server_key_exchange_psk m = {hint, sizeof(hint), ecdhe, 0, NULL, 0};
    if (ecdhe) {
        m.group = 0x001d;
        m.public_key = point32();
        m.public_key_len = 32;
    }
    return m;
}

static hs_client_key_exchange_psk make_cke(bool ecdhe)
{
    hs_client_key_exchange_psk m = {identity, sizeof(identity), ecdhe, NULL, 0};
    if (ecdhe) {
        m.public_key = point32();
        m.public_key_len = 32;
    }
    return m;
}

static hs_finished make_finished(void)
{
    hs_finished m;
    fill_sequence(m.verify_data, HS_VERIFY_DATA_LEN, 0xf0);
    return m;
}

static const uint8_t cert_a[] = {0x30, 0x03, 0x02, 0x01, 0x01};
static const uint8_t cert_b[] = {0x30, 0x02, 0x05, 0x00};
static const uint8_t spki8[] = {0x30, 0x06, 0x30, 0x04, 0x06, 0x02, 0x03, 0xff};
static const uint8_t sig8[] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02};
static const uint8_t cr_types[] = {HS_CLIENT_CERT_ECDSA_SIGN, HS_CLIENT_CERT_RSA_SIGN};
static const uint8_t cr_schemes[] = {0x04, 0x03, 0x08, 0x04};
static const uint8_t dn_a[] = {0x30, 0x03, 0x31, 0x01, 0x00};
static const uint8_t dn_b[] = {0x30, 0x00};
static const char example_com[] = "example.com";

static hs_certificate make_cert_chain(void)
{
    hs_certificate m = {.raw_public_key = false, .count = 2};
    m.certs[0] = cert_a;
    m.lens[0] = sizeof(cert_a);
    m.certs[1] = cert_b;
    m.lens[1] = sizeof(cert_b);
    return m;
}

static hs_certificate make_cert_rpk(void)
{
    hs_certificate m = {.raw_public_key = true, .count = 1};
    m.certs[0] = spki8;
    m.lens[0] = sizeof(spki8);
    return m;
}

static hs_server_key_exchange_ecdhe make_ske_signed(void)
{
    hs_server_key_exchange_ecdhe m = {0x001d, point32(), 32, 0x0403, sig8, sizeof(sig8), NULL, 0};
    return m;
}

/* Builds the authorities list body of HEX_AUTHORITIES (without its own
 * length prefix) with the DistinguishedName writer. */
static size_t write_authorities(uint8_t *buf, size_t cap)
{
    cursor_writer w = cursor_writer_init(buf, cap);
    assert_int_equal(hs_distinguished_name_write(&w, dn_a, sizeof(dn_a)), 0);
    assert_int_equal(hs_distinguished_name_write(&w, dn_b, sizeof(dn_b)), 0);
    return w.len;
}

static hs_certificate_request make_cr(uint8_t *authorities, size_t cap)
{
    hs_certificate_request m = {cr_types, sizeof(cr_types), {cr_schemes, 2}, NULL, 0, 0};
    if (authorities) {
        m.authorities = authorities;
        m.authorities_len = write_authorities(authorities, cap);
    }
    return m;
}

static hs_certificate_verify make_cv(void)
{
    hs_certificate_verify m = {0x0403, sig8, sizeof(sig8)};
    return m;
}

/* ---- round trips: write == canonical bytes, read gives the fields back,
 * writing what was read gives the same bytes ---- */

static void expect_client_hello_equal(const char *ctx, const hs_client_hello *a,
                                      const hs_client_hello *b)
{
    EXPECT_EQ(ctx, a->version, b->version);
    expect_bytes(ctx, a->random, HS_RANDOM_LEN, b->random, HS_RANDOM_LEN);
    expect_bytes(ctx, a->session_id, a->session_id_len, b->session_id, b->session_id_len);
    expect_bytes(ctx, a->cookie, a->cookie_len, b->cookie, b->cookie_len);
    expect_bytes(ctx, a->cipher_suites.data, 2 * a->cipher_suites.count, b->cipher_suites.data,
                 2 * b->cipher_suites.count);
    expect_bytes(ctx, a->compression_methods, a->compression_methods_len, b->compression_methods,
                 b->compression_methods_len);
    EXPECT_EQ(ctx, a->has_extensions_block, b->has_extensions_block);
    expect_bytes(ctx, a->extensions_raw, a->extensions_raw_len, b->extensions_raw,
                 b->extensions_raw_len);
}

static void client_hello_roundtrip(const message_kind *k, bool dtls, ext_mode mode)
{
    uint8_t expected[BUF_CAP], first[BUF_CAP], second[BUF_CAP], ext[256];
    size_t expected_len = canonical(k, expected, sizeof(expected));
    hs_client_hello m, parsed;
    make_client_hello(&m, dtls, mode, ext, sizeof(ext));

    cursor_writer w = cursor_writer_init(first, sizeof(first));
    EXPECT_RC(k->name, hs_client_hello_write(&w, &m, dtls), 0);
    expect_bytes(k->name, first, w.len, expected, expected_len);

    cursor_reader r = cursor_reader_init(first, w.len);
    EXPECT_RC(k->name, hs_client_hello_read(&r, &parsed, dtls), 0);
    expect_client_hello_equal(k->name, &parsed, &m);
    if (!dtls)
        assert_null(parsed.cookie);

    cursor_writer again = cursor_writer_init(second, sizeof(second));
    EXPECT_RC(k->name, hs_client_hello_write(&again, &parsed, dtls), 0);
    expect_bytes(k->name, second, again.len, first, w.len);
}

static void test_client_hello_dtls_roundtrip(void **state)
{
    (void)state;
    client_hello_roundtrip(&ch_dtls, true, WITH_EXTENSIONS);
}

static void test_client_hello_dtls_no_extensions_roundtrip(void **state)
{
    (void)state;
    client_hello_roundtrip(&ch_dtls_no_ext, true, NO_BLOCK);
}

static void test_client_hello_dtls_empty_extensions_roundtrip(void **state)
{
    (void)state;
    client_hello_roundtrip(&ch_dtls_empty_ext, true, EMPTY_BLOCK);
}

static void test_client_hello_tls_roundtrip(void **state)
{
    (void)state;
    client_hello_roundtrip(&ch_tls, false, WITH_EXTENSIONS);
}

static void test_client_hello_tls_no_extensions_roundtrip(void **state)
{
    (void)state;
    client_hello_roundtrip(&ch_tls_no_ext, false, NO_BLOCK);
}

/* The DTLS ClientHello laid out byte by byte, independent of the parts
 * tables: this checks the layout itself, not only write/read symmetry. */
static void test_client_hello_dtls_exact_bytes(void **state)
{
    (void)state;
    static const uint8_t expected[] = {
        0xfe, 0xfd,                                     /* client_version DTLS 1.2 */
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, /* random */
        0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, /* */
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, /* */
        0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, /* */
        0x04, 0xa0, 0xa1, 0xa2, 0xa3,                   /* session_id<0..32> */
        0x03, 0xc0, 0xc1, 0xc2,                         /* cookie<0..2^8-1> */
        0x00, 0x04, 0xc0, 0xa8, 0x00, 0xff,             /* cipher_suites<2..2^16-2> */
        0x01, 0x00,                                     /* compression_methods: null */
        0x00, 0x2d,                                     /* extensions<0..2^16-1> */
        0xff, 0x01, 0x00, 0x01, 0x00,                   /* renegotiation_info: <0..255> empty */
        0x00, 0x17, 0x00, 0x00,                         /* extended_master_secret */
        0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17, /* supported_groups */
        0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,                         /* ec_point_formats */
        0x00, 0x0d, 0x00, 0x06, 0x00, 0x04, 0x04, 0x03, 0x08, 0x04, /* signature_algorithms */
        0x00, 0x16, 0x00, 0x00,                                     /* encrypt_then_mac */
        0x12, 0x34, 0x00, 0x02, 0xbe, 0xef,                         /* unknown type 0x1234 */
    };
    uint8_t out[BUF_CAP], ext[256];
    hs_client_hello m;
    make_client_hello(&m, true, WITH_EXTENSIONS, ext, sizeof(ext));
    cursor_writer w = cursor_writer_init(out, sizeof(out));
    EXPECT_RC("write", hs_client_hello_write(&w, &m, true), 0);
    expect_bytes("ClientHello/DTLS layout", out, w.len, expected, sizeof(expected));
}

/* The TLS layout is the DTLS one without the cookie. */
static void test_client_hello_tls_exact_bytes(void **state)
{
    (void)state;
    uint8_t expected[BUF_CAP], out[BUF_CAP];
    size_t len = 0;
    len += hex_decode("0303" HEX_RANDOM "04 a0a1a2a3", expected, sizeof(expected));
    len += hex_decode("0004 c0a8 00ff 01 00", expected + len, sizeof(expected) - len);
    hs_client_hello m;
    make_client_hello(&m, false, NO_BLOCK, NULL, 0);
    cursor_writer w = cursor_writer_init(out, sizeof(out));
    EXPECT_RC("write", hs_client_hello_write(&w, &m, false), 0);
    expect_bytes("ClientHello/TLS layout", out, w.len, expected, len);
}

static void test_client_hello_known_extensions_decoded(void **state)
{
    (void)state;
    uint8_t in[BUF_CAP];
    size_t len = canonical(&ch_dtls, in, sizeof(in));
    hs_client_hello m;
    cursor_reader r = cursor_reader_init(in, len);
    assert_int_equal(hs_client_hello_read(&r, &m, true), 0);
    const hs_extensions *e = &m.extensions;

    assert_true(m.has_extensions_block);
    assert_int_equal(e->count, 7);
    assert_true(e->has_renegotiation_info);
    assert_int_equal(e->renegotiation_info_len, 0);
    assert_true(e->has_extended_master_secret);
    assert_true(e->has_supported_groups);
    assert_int_equal(e->supported_groups.count, 2);
    assert_int_equal(hs_u16_list_get(&e->supported_groups, 0), 0x001d);
    assert_int_equal(hs_u16_list_get(&e->supported_groups, 1), 0x0017);
    assert_true(e->has_ec_point_formats);
    assert_int_equal(e->ec_point_formats_len, 1);
    assert_int_equal(e->ec_point_formats[0], 0);
    assert_true(e->has_signature_algorithms);
    assert_int_equal(e->signature_algorithms.count, 2);
    assert_int_equal(hs_u16_list_get(&e->signature_algorithms, 0), 0x0403);
    assert_int_equal(hs_u16_list_get(&e->signature_algorithms, 1), 0x0804);

    /* Every extension is kept raw, in order; the unknown ones only raw. */
    static const uint16_t types[] = {0xff01, 0x0017, 0x000a, 0x000b, 0x000d, 0x0016, 0x1234};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(types); i++)
        assert_int_equal(e->list[i].type, types[i]);
    static const uint8_t unknown_body[] = {0xbe, 0xef};
    expect_bytes("unknown extension", e->list[6].data, e->list[6].len, unknown_body, 2);
    assert_int_equal(e->list[5].len, 0);
}

static void test_client_hello_without_extensions_has_none(void **state)
{
    (void)state;
    uint8_t in[BUF_CAP];
    size_t len = canonical(&ch_tls_no_ext, in, sizeof(in));
    hs_client_hello m;
    cursor_reader r = cursor_reader_init(in, len);
    assert_int_equal(hs_client_hello_read(&r, &m, false), 0);
    assert_false(m.has_extensions_block);
    assert_null(m.extensions_raw);
    assert_int_equal(m.extensions.count, 0);
    assert_false(m.extensions.has_renegotiation_info);
    assert_false(m.extensions.has_extended_master_secret);
}

static void test_server_hello_roundtrip(void **state)
{
    (void)state;
    for (int with_ext = 0; with_ext <= 1; with_ext++) {
        const message_kind *k = with_ext ? &sh : &sh_no_ext;
        uint8_t expected[BUF_CAP], first[BUF_CAP], second[BUF_CAP], ext[256];
        size_t expected_len = canonical(k, expected, sizeof(expected));
        hs_server_hello m, parsed;
        make_server_hello(&m, with_ext, ext, sizeof(ext));

        cursor_writer w = cursor_writer_init(first, sizeof(first));
        EXPECT_RC(k->name, hs_server_hello_write(&w, &m), 0);
        expect_bytes(k->name, first, w.len, expected, expected_len);

        cursor_reader r = cursor_reader_init(first, w.len);
        EXPECT_RC(k->name, hs_server_hello_read(&r, &parsed), 0);
        EXPECT_EQ(k->name, parsed.version, m.version);
        expect_bytes(k->name, parsed.random, HS_RANDOM_LEN, m.random, HS_RANDOM_LEN);
        expect_bytes(k->name, parsed.session_id, parsed.session_id_len, m.session_id,
                     m.session_id_len);
        EXPECT_EQ(k->name, parsed.cipher_suite, m.cipher_suite);
        EXPECT_EQ(k->name, parsed.compression_method, 0);
        EXPECT_EQ(k->name, parsed.has_extensions_block, m.has_extensions_block);
        expect_bytes(k->name, parsed.extensions_raw, parsed.extensions_raw_len, m.extensions_raw,
                     m.extensions_raw_len);
        EXPECT_EQ(k->name, parsed.extensions.has_extended_master_secret, with_ext);
        EXPECT_EQ(k->name, parsed.extensions.has_renegotiation_info, with_ext);
        EXPECT_EQ(k->name, parsed.extensions.has_ec_point_formats, with_ext);

        cursor_writer again = cursor_writer_init(second, sizeof(second));
        EXPECT_RC(k->name, hs_server_hello_write(&again, &parsed), 0);
        expect_bytes(k->name, second, again.len, first, w.len);
    }
}

static void test_hello_verify_request_roundtrip(void **state)
{
    (void)state;
    uint8_t expected[BUF_CAP], first[BUF_CAP], second[BUF_CAP];
    size_t expected_len = canonical(&hvr, expected, sizeof(expected));
    hs_hello_verify_request m = make_hvr(), parsed;

    cursor_writer w = cursor_writer_init(first, sizeof(first));
    assert_int_equal(hs_hello_verify_request_write(&w, &m), 0);
    expect_bytes(hvr.name, first, w.len, expected, expected_len);
    cursor_reader r = cursor_reader_init(first, w.len);
    assert_int_equal(hs_hello_verify_request_read(&r, &parsed), 0);
    assert_int_equal(parsed.version, m.version);
    expect_bytes(hvr.name, parsed.cookie, parsed.cookie_len, m.cookie, m.cookie_len);
    cursor_writer again = cursor_writer_init(second, sizeof(second));
    assert_int_equal(hs_hello_verify_request_write(&again, &parsed), 0);
    expect_bytes(hvr.name, second, again.len, first, w.len);
}

static void test_hello_verify_request_max_cookie_roundtrip(void **state)
{
    (void)state;
    uint8_t cookie[HS_COOKIE_MAX], buf[BUF_CAP];
    fill_sequence(cookie, sizeof(cookie), 0);
    hs_hello_verify_request m = {HS_VERSION_DTLS10, cookie, sizeof(cookie)}, parsed;
    cursor_writer w = cursor_writer_init(buf, sizeof(buf));
    assert_int_equal(hs_hello_verify_request_write(&w, &m), 0);
    assert_int_equal(w.len, 2 + 1 + HS_COOKIE_MAX);
    cursor_reader r = cursor_reader_init(buf, w.len);
    assert_int_equal(hs_hello_verify_request_read(&r, &parsed), 0);
    expect_bytes("max cookie", parsed.cookie, parsed.cookie_len, cookie, sizeof(cookie));
}

static void test_server_key_exchange_psk_roundtrip(void **state)
{
    (void)state;
    for (int ecdhe = 0; ecdhe <= 1; ecdhe++) {
        const message_kind *k = ecdhe ? &ske_ecdhe : &ske_psk;
        uint8_t expected[BUF_CAP], first[BUF_CAP], second[BUF_CAP];
        size_t expected_len = canonical(k, expected, sizeof(expected));
        hs_server_key_exchange_psk m = make_ske(ecdhe);
        hs_server_key_exchange_psk parsed = {.ecdhe = ecdhe};

        cursor_writer w = cursor_writer_init(first, sizeof(first));
        EXPECT_RC(k->name, hs_server_key_exchange_psk_write(&w, &m), 0);
        expect_bytes(k->name, first, w.len, expected, expected_len);
        cursor_reader r = cursor_reader_init(first, w.len);
        EXPECT_RC(k->name, hs_server_key_exchange_psk_read(&r, &parsed), 0);
        expect_bytes(k->name, parsed.identity_hint, parsed.identity_hint_len, m.identity_hint,
                     m.identity_hint_len);
        EXPECT_EQ(k->name, parsed.group, m.group);
        expect_bytes(k->name, parsed.public_key, parsed.public_key_len, m.public_key,
                     m.public_key_len);
        cursor_writer again = cursor_writer_init(second, sizeof(second));
        EXPECT_RC(k->name, hs_server_key_exchange_psk_write(&again, &parsed), 0);
        expect_bytes(k->name, second, again.len, first, w.len);
    }
}

static void test_client_key_exchange_psk_roundtrip(void **state)
{
    (void)state;
    for (int ecdhe = 0; ecdhe <= 1; ecdhe++) {
        const message_kind *k = ecdhe ? &cke_ecdhe : &cke_psk;
        uint8_t expected[BUF_CAP], first[BUF_CAP], second[BUF_CAP];
        size_t expected_len = canonical(k, expected, sizeof(expected));
        hs_client_key_exchange_psk m = make_cke(ecdhe);
        hs_client_key_exchange_psk parsed = {.ecdhe = ecdhe};

        cursor_writer w = cursor_writer_init(first, sizeof(first));
        EXPECT_RC(k->name, hs_client_key_exchange_psk_write(&w, &m), 0);
        expect_bytes(k->name, first, w.len, expected, expected_len);
        cursor_reader r = cursor_reader_init(first, w.len);
        EXPECT_RC(k->name, hs_client_key_exchange_psk_read(&r, &parsed), 0);
        expect_bytes(k->name, parsed.identity, parsed.identity_len, m.identity, m.identity_len);
        expect_bytes(k->name, parsed.public_key, parsed.public_key_len, m.public_key,
                     m.public_key_len);
        cursor_writer again = cursor_writer_init(second, sizeof(second));
        EXPECT_RC(k->name, hs_client_key_exchange_psk_write(&again, &parsed), 0);
        expect_bytes(k->name, second, again.len, first, w.len);
    }
}

static void test_finished_roundtrip(void **state)
{
    (void)state;
    uint8_t expected[BUF_CAP], first[BUF_CAP], second[BUF_CAP];
    size_t expected_len = canonical(&finished, expected, sizeof(expected));
    hs_finished m = make_finished(), parsed;

    cursor_writer w = cursor_writer_init(first, sizeof(first));
    assert_int_equal(hs_finished_write(&w, &m), 0);
    expect_bytes(finished.name, first, w.len, expected, expected_len);
    cursor_reader r = cursor_reader_init(first, w.len);
    assert_int_equal(hs_finished_read(&r, &parsed), 0);
    expect_bytes(finished.name, parsed.verify_data, HS_VERIFY_DATA_LEN, m.verify_data,
                 HS_VERIFY_DATA_LEN);
    cursor_writer again = cursor_writer_init(second, sizeof(second));
    assert_int_equal(hs_finished_write(&again, &parsed), 0);
    expect_bytes(finished.name, second, again.len, first, w.len);
}

static void test_server_hello_done_empty(void **state)
{
    (void)state;
    assert_int_equal(read_exact(read_shd, NULL, 0), 0);
}

static void test_u16_list(void **state)
{
    (void)state;
    static const uint8_t data[] = {0x00, 0x1d, 0xff, 0x01};
    hs_u16_list list = {data, 2}, empty = {NULL, 0};
    assert_int_equal(hs_u16_list_get(&list, 0), 0x001d);
    assert_int_equal(hs_u16_list_get(&list, 1), 0xff01);
    assert_true(hs_u16_list_contains(&list, 0xff01));
    assert_false(hs_u16_list_contains(&list, 0x1dff)); /* straddles two values */
    assert_false(hs_u16_list_contains(&empty, 0));
}

static void test_extension_writers_layout(void **state)
{
    (void)state;
    static const uint8_t verify[] = {1, 2, 3};
    static const uint16_t one_group[] = {0x0017};
    uint8_t out[64], expected[64];
    cursor_writer w = cursor_writer_init(out, sizeof(out));
    assert_int_equal(hs_ext_write_renegotiation_info(&w, verify, sizeof(verify)), 0);
    assert_int_equal(hs_ext_write_u16_list(&w, HS_EXT_SUPPORTED_GROUPS, one_group, 1), 0);
    assert_int_equal(hs_ext_write_empty(&w, HS_EXT_SESSION_TICKET), 0);
    assert_int_equal(hs_ext_write_ec_point_formats(&w), 0);
    size_t len = hex_decode("ff01 0004 03 010203"
                            "000a 0004 0002 0017"
                            "0023 0000"
                            "000b 0002 01 00",
                            expected, sizeof(expected));
    expect_bytes("extension writers", out, w.len, expected, len);

    hs_extensions e;
    cursor_reader r = cursor_reader_init(out, w.len);
    assert_int_equal(hs_extensions_read(&r, &e), 0);
    expect_bytes("renegotiated_connection", e.renegotiation_info, e.renegotiation_info_len, verify,
                 sizeof(verify));
    assert_int_equal(e.count, 4);
}

/* renegotiated_connection<0..255> (RFC 5746 §3.2) at its upper bound. */
static void test_renegotiation_info_max_length(void **state)
{
    (void)state;
    uint8_t data[255], out[BUF_CAP];
    fill_sequence(data, sizeof(data), 1);
    cursor_writer w = cursor_writer_init(out, sizeof(out));
    assert_int_equal(hs_ext_write_renegotiation_info(&w, data, sizeof(data)), 0);
    assert_int_equal(w.len, 2 + 2 + 1 + 255);

    hs_extensions e;
    cursor_reader r = cursor_reader_init(out, w.len);
    assert_int_equal(hs_extensions_read(&r, &e), 0);
    assert_true(e.has_renegotiation_info);
    expect_bytes("renegotiated_connection", e.renegotiation_info, e.renegotiation_info_len, data,
                 sizeof(data));
}

/* ---- certificate handshakes: round trips ---- */

static void expect_certificate_equal(const char *ctx, const hs_certificate *a,
                                     const hs_certificate *b)
{
    EXPECT_EQ(ctx, a->raw_public_key, b->raw_public_key);
    EXPECT_EQ(ctx, a->count, b->count);
    for (size_t i = 0; i < a->count; i++)
        expect_bytes(ctx, a->certs[i], a->lens[i], b->certs[i], b->lens[i]);
}

static void certificate_roundtrip(const message_kind *k, const hs_certificate *m)
{
    uint8_t expected[BUF_CAP], first[BUF_CAP], second[BUF_CAP];
    size_t expected_len = canonical(k, expected, sizeof(expected));
    hs_certificate parsed = {.raw_public_key = m->raw_public_key};

    cursor_writer w = cursor_writer_init(first, sizeof(first));
    EXPECT_RC(k->name, hs_certificate_write(&w, m), 0);
    expect_bytes(k->name, first, w.len, expected, expected_len);
    cursor_reader r = cursor_reader_init(first, w.len);
    EXPECT_RC(k->name, hs_certificate_read(&r, &parsed), 0);
    expect_certificate_equal(k->name, &parsed, m);
    cursor_writer again = cursor_writer_init(second, sizeof(second));
    EXPECT_RC(k->name, hs_certificate_write(&again, &parsed), 0);
    expect_bytes(k->name, second, again.len, first, w.len);
}

static void test_certificate_roundtrip(void **state)
{
    (void)state;
    hs_certificate chain = make_cert_chain(), rpk = make_cert_rpk();
    hs_certificate empty = {.raw_public_key = false, .count = 0};
    certificate_roundtrip(&cert, &chain);
    certificate_roundtrip(&cert_empty, &empty);
    certificate_roundtrip(&cert_rpk, &rpk);

    /* The parsed certificates are views into the input. */
    uint8_t in[BUF_CAP];
    size_t len = canonical(&cert, in, sizeof(in));
    hs_certificate parsed = {.raw_public_key = false};
    cursor_reader r = cursor_reader_init(in, len);
    assert_int_equal(hs_certificate_read(&r, &parsed), 0);
    assert_ptr_equal(parsed.certs[0], in + 6);
    assert_ptr_equal(parsed.certs[1], in + 14);
}

/* HS_MAX_CHAIN certificates, each of a different length. */
static void test_certificate_max_chain_roundtrip(void **state)
{
    (void)state;
    uint8_t der[HS_MAX_CHAIN + 1], buf[BUF_CAP];
    fill_sequence(der, sizeof(der), 0x30);
    hs_certificate m = {.raw_public_key = false, .count = HS_MAX_CHAIN}, parsed = {0};
    for (size_t i = 0; i < HS_MAX_CHAIN; i++) {
        m.certs[i] = der;
        m.lens[i] = i + 1;
    }
    cursor_writer w = cursor_writer_init(buf, sizeof(buf));
    assert_int_equal(hs_certificate_write(&w, &m), 0);
    assert_int_equal(w.len, 3 + 3 * HS_MAX_CHAIN + HS_MAX_CHAIN * (HS_MAX_CHAIN + 1) / 2);
    cursor_reader r = cursor_reader_init(buf, w.len);
    assert_int_equal(hs_certificate_read(&r, &parsed), 0);
    expect_certificate_equal("10 certificates", &parsed, &m);
}

static void test_server_key_exchange_ecdhe_roundtrip(void **state)
{
    (void)state;
    uint8_t expected[BUF_CAP], first[BUF_CAP], second[BUF_CAP], params[BUF_CAP];
    size_t expected_len = canonical(&ske_signed, expected, sizeof(expected));
    hs_server_key_exchange_ecdhe m = make_ske_signed(), parsed;
    const char *ctx = ske_signed.name;

    cursor_writer w = cursor_writer_init(first, sizeof(first));
    EXPECT_RC(ctx, hs_server_key_exchange_ecdhe_write(&w, &m), 0);
    expect_bytes(ctx, first, w.len, expected, expected_len);
    cursor_reader r = cursor_reader_init(first, w.len);
    EXPECT_RC(ctx, hs_server_key_exchange_ecdhe_read(&r, &parsed), 0);
    EXPECT_EQ(ctx, parsed.group, m.group);
    expect_bytes(ctx, parsed.public_key, parsed.public_key_len, m.public_key, m.public_key_len);
    EXPECT_EQ(ctx, parsed.sig_scheme, m.sig_scheme);
    expect_bytes(ctx, parsed.signature, parsed.signature_len, m.signature, m.signature_len);

    /* params: exactly the ServerECDHParams bytes of the input, which
     * hs_ecdh_params_write produces on its own. */
    assert_ptr_equal(parsed.params, first);
    assert_int_equal(parsed.params_len, 1 + 2 + 1 + 32);
    cursor_writer pw = cursor_writer_init(params, sizeof(params));
    EXPECT_RC(ctx, hs_ecdh_params_write(&pw, m.group, m.public_key, m.public_key_len), 0);
    expect_bytes("ServerECDHParams", parsed.params, parsed.params_len, params, pw.len);

    cursor_writer again = cursor_writer_init(second, sizeof(second));
    EXPECT_RC(ctx, hs_server_key_exchange_ecdhe_write(&again, &parsed), 0);
    expect_bytes(ctx, second, again.len, first, w.len);
}

static void test_client_key_exchange_ecdhe_roundtrip(void **state)
{
    (void)state;
    uint8_t expected[BUF_CAP], first[BUF_CAP], second[BUF_CAP];
    size_t expected_len = canonical(&cke_plain, expected, sizeof(expected));
    const uint8_t *point;
    size_t point_len;

    cursor_writer w = cursor_writer_init(first, sizeof(first));
    assert_int_equal(hs_client_key_exchange_ecdhe_write(&w, point32(), 32), 0);
    expect_bytes(cke_plain.name, first, w.len, expected, expected_len);
    cursor_reader r = cursor_reader_init(first, w.len);
    assert_int_equal(hs_client_key_exchange_ecdhe_read(&r, &point, &point_len), 0);
    expect_bytes(cke_plain.name, point, point_len, point32(), 32);
    assert_ptr_equal(point, first + 1);
    cursor_writer again = cursor_writer_init(second, sizeof(second));
    assert_int_equal(hs_client_key_exchange_ecdhe_write(&again, point, point_len), 0);
    expect_bytes(cke_plain.name, second, again.len, first, w.len);
}

static void test_certificate_request_roundtrip(void **state)
{
    (void)state;
    for (int with_ca = 0; with_ca <= 1; with_ca++) {
        const message_kind *k = with_ca ? &cert_request : &cert_request_no_ca;
        uint8_t expected[BUF_CAP], first[BUF_CAP], second[BUF_CAP], authorities[64];
        size_t expected_len = canonical(k, expected, sizeof(expected));
        hs_certificate_request m = make_cr(with_ca ? authorities : NULL, sizeof(authorities));
        hs_certificate_request parsed;
        if (!with_ca) {
            m.cert_types_len = 1; /* ecdsa_sign only */
            m.sig_schemes.count = 1;
        }

        cursor_writer w = cursor_writer_init(first, sizeof(first));
        EXPECT_RC(k->name, hs_certificate_request_write(&w, &m), 0);
        expect_bytes(k->name, first, w.len, expected, expected_len);
        cursor_reader r = cursor_reader_init(first, w.len);
        EXPECT_RC(k->name, hs_certificate_request_read(&r, &parsed), 0);
        expect_bytes(k->name, parsed.cert_types, parsed.cert_types_len, m.cert_types,
                     m.cert_types_len);
        expect_bytes(k->name, parsed.sig_schemes.data, 2 * parsed.sig_schemes.count,
                     m.sig_schemes.data, 2 * m.sig_schemes.count);
        expect_bytes(k->name, parsed.authorities, parsed.authorities_len, m.authorities,
                     m.authorities_len);
        EXPECT_EQ(k->name, parsed.authority_count, with_ca ? 2 : 0);
        cursor_writer again = cursor_writer_init(second, sizeof(second));
        EXPECT_RC(k->name, hs_certificate_request_write(&again, &parsed), 0);
        expect_bytes(k->name, second, again.len, first, w.len);
    }
}

static void test_certificate_verify_roundtrip(void **state)
{
    (void)state;
    uint8_t expected[BUF_CAP], first[BUF_CAP], second[BUF_CAP];
    size_t expected_len = canonical(&cert_verify, expected, sizeof(expected));
    hs_certificate_verify m = make_cv(), parsed;

    cursor_writer w = cursor_writer_init(first, sizeof(first));
    assert_int_equal(hs_certificate_verify_write(&w, &m), 0);
    expect_bytes(cert_verify.name, first, w.len, expected, expected_len);
    cursor_reader r = cursor_reader_init(first, w.len);
    assert_int_equal(hs_certificate_verify_read(&r, &parsed), 0);
    assert_int_equal(parsed.sig_scheme, 0x0403);
    expect_bytes(cert_verify.name, parsed.signature, parsed.signature_len, sig8, sizeof(sig8));
    cursor_writer again = cursor_writer_init(second, sizeof(second));
    assert_int_equal(hs_certificate_verify_write(&again, &parsed), 0);
    expect_bytes(cert_verify.name, second, again.len, first, w.len);
}

/* Fields at their upper bounds: ECPoint of 255, signature and DN of
 * 2^16-1, host name of HS_HOST_NAME_MAX, certificate type list of 255. */
static void test_certificate_messages_at_upper_bounds(void **state)
{
    (void)state;
    size_t cap = 0x10000 + 512;
    uint8_t *big = calloc(1, 0x10000), *buf = malloc(cap);
    assert_non_null(big);
    assert_non_null(buf);
    fill_sequence(big, 0x10000, 7);

    hs_server_key_exchange_ecdhe ske = {0x0017, big, 255, 0x0804, big, 0xFFFF, NULL, 0}, ske_in;
    cursor_writer w = cursor_writer_init(buf, cap);
    assert_int_equal(hs_server_key_exchange_ecdhe_write(&w, &ske), 0);
    assert_int_equal(w.len, 4 + 255 + 4 + 0xFFFF);
    cursor_reader r = cursor_reader_init(buf, w.len);
    assert_int_equal(hs_server_key_exchange_ecdhe_read(&r, &ske_in), 0);
    expect_bytes("ECPoint of 255", ske_in.public_key, ske_in.public_key_len, big, 255);
    expect_bytes("signature of 2^16-1", ske_in.signature, ske_in.signature_len, big, 0xFFFF);

    hs_certificate_verify cv = {0x0804, big, 0xFFFF}, cv_in;
    w = cursor_writer_init(buf, cap);
    assert_int_equal(hs_certificate_verify_write(&w, &cv), 0);
    r = cursor_reader_init(buf, w.len);
    assert_int_equal(hs_certificate_verify_read(&r, &cv_in), 0);
    expect_bytes("CertificateVerify of 2^16-1", cv_in.signature, cv_in.signature_len, big, 0xFFFF);

    /* One DN of 2^16-3 bytes fills authorities<0..2^16-1> exactly. */
    uint8_t dn_list[0xFFFF];
    cursor_writer dw = cursor_writer_init(dn_list, sizeof(dn_list));
    assert_int_equal(hs_distinguished_name_write(&dw, big, 0xFFFD), 0);
    assert_int_equal(dw.len, 0xFFFF);
    hs_certificate_request cr = make_cr(NULL, 0), cr_in;
    cr.authorities = dn_list;
    cr.authorities_len = dw.len;
    w = cursor_writer_init(buf, cap);
    assert_int_equal(hs_certificate_request_write(&w, &cr), 0);
    r = cursor_reader_init(buf, w.len);
    assert_int_equal(hs_certificate_request_read(&r, &cr_in), 0);
    assert_int_equal(cr_in.authority_count, 1);
    assert_int_equal(cr_in.authorities_len, 0xFFFF);
    /* A DN of 2^16-1 is a valid DistinguishedName, but with its prefix it
     * no longer fits the authorities list. */
    w = cursor_writer_init(buf, cap);
    assert_int_equal(hs_distinguished_name_write(&w, big, 0xFFFF), 0);
    assert_int_equal(w.len, 2 + 0xFFFF);
    cr.authorities = buf;
    cr.authorities_len = w.len;
    uint8_t small[16];
    cursor_writer sw = cursor_writer_init(small, sizeof(small));
    EXPECT_RC("authorities of 2^16+1", hs_certificate_request_write(&sw, &cr), PETREL_ERR_LENGTH);

    char host[HS_HOST_NAME_MAX];
    memset(host, 'a', sizeof(host));
    w = cursor_writer_init(buf, cap);
    assert_int_equal(hs_ext_write_server_name(&w, host, sizeof(host)), 0);
    hs_extensions e;
    r = cursor_reader_init(buf, w.len);
    assert_int_equal(hs_extensions_read(&r, &e), 0);
    const uint8_t *name;
    size_t name_len;
    assert_int_equal(
        hs_ext_read_server_name(hs_extensions_find(&e, HS_EXT_SERVER_NAME), &name, &name_len), 0);
    expect_bytes("host name of 255", name, name_len, (const uint8_t *)host, sizeof(host));

    w = cursor_writer_init(buf, cap);
    assert_int_equal(hs_ext_write_cert_types(&w, HS_EXT_CLIENT_CERTIFICATE_TYPE, big, 255, false),
                     0);
    assert_int_equal(w.len, 4 + 1 + 255);
    r = cursor_reader_init(buf, w.len);
    assert_int_equal(hs_extensions_read(&r, &e), 0);
    const uint8_t *types;
    size_t count;
    assert_int_equal(hs_ext_read_cert_type_list(&e.list[0], &types, &count), 0);
    expect_bytes("255 certificate types", types, count, big, 255);
    free(buf);
    free(big);
}

/* The layouts byte by byte, derived by hand from the RFC structs. */
static void test_certificate_messages_exact_bytes(void **state)
{
    (void)state;
    uint8_t out[BUF_CAP];
    cursor_writer w;

    static const uint8_t certificate[] = {
        0x00, 0x00, 0x0f,                         /* certificate_list<0..2^24-1> */
        0x00, 0x00, 0x05,                         /* ASN.1Cert<1..2^24-1> */
        0x30, 0x03, 0x02, 0x01, 0x01,             /* */
        0x00, 0x00, 0x04, 0x30, 0x02, 0x05, 0x00, /* ASN.1Cert */
    };
    hs_certificate chain = make_cert_chain();
    w = cursor_writer_init(out, sizeof(out));
    assert_int_equal(hs_certificate_write(&w, &chain), 0);
    expect_bytes("Certificate layout", out, w.len, certificate, sizeof(certificate));

    static const uint8_t certificate_rpk[] = {
        0x00, 0x00, 0x08,                               /* ASN.1_subjectPublicKeyInfo */
        0x30, 0x06, 0x30, 0x04, 0x06, 0x02, 0x03, 0xff, /* (no list around it) */
    };
    hs_certificate rpk = make_cert_rpk();
    w = cursor_writer_init(out, sizeof(out));
    assert_int_equal(hs_certificate_write(&w, &rpk), 0);
    expect_bytes("Certificate/RawPublicKey layout", out, w.len, certificate_rpk,
                 sizeof(certificate_rpk));

    static const uint8_t server_key_exchange[] = {
        0x03,                                           /* curve_type named_curve */
        0x00, 0x1d,                                     /* NamedCurve x25519 */
        0x20,                                           /* ECPoint point<1..2^8-1> */
        0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, /* */
        0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, /* */
        0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, /* */
        0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, /* */
        0x04, 0x03,                                     /* ecdsa_secp256r1_sha256 */
        0x00, 0x08,                                     /* signature<0..2^16-1> */
        0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, /* */
    };
    hs_server_key_exchange_ecdhe ske = make_ske_signed();
    w = cursor_writer_init(out, sizeof(out));
    assert_int_equal(hs_server_key_exchange_ecdhe_write(&w, &ske), 0);
    expect_bytes("ServerKeyExchange/ECDHE layout", out, w.len, server_key_exchange,
                 sizeof(server_key_exchange));
    w = cursor_writer_init(out, sizeof(out));
    assert_int_equal(hs_ecdh_params_write(&w, ske.group, ske.public_key, ske.public_key_len), 0);
    expect_bytes("ServerECDHParams layout", out, w.len, server_key_exchange, 36);

    static const uint8_t client_key_exchange[] = {
        0x20,                                           /* ECPoint ecdh_Yc<1..2^8-1> */
        0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, /* */
        0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, /* */
        0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, /* */
        0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, /* */
    };
    w = cursor_writer_init(out, sizeof(out));
    assert_int_equal(hs_client_key_exchange_ecdhe_write(&w, point32(), 32), 0);
    expect_bytes("ClientKeyExchange/ECDHE layout", out, w.len, client_key_exchange,
                 sizeof(client_key_exchange));

    static const uint8_t certificate_request[] = {
        0x02, 0x40, 0x01,             /* certificate_types: ecdsa_sign, rsa_sign */
        0x00, 0x04, 0x04, 0x03, 0x08, /* supported_signature_algorithms */
        0x04,                         /* */
        0x00, 0x0b,                   /* certificate_authorities<0..2^16-1> */
        0x00, 0x05, 0x30, 0x03, 0x31, /* DistinguishedName<1..2^16-1> */
        0x01, 0x00,                   /* */
        0x00, 0x02, 0x30, 0x00,       /* DistinguishedName */
    };
    uint8_t authorities[64];
    hs_certificate_request cr = make_cr(authorities, sizeof(authorities));
    w = cursor_writer_init(out, sizeof(out));
    assert_int_equal(hs_certificate_request_write(&w, &cr), 0);
    expect_bytes("CertificateRequest layout", out, w.len, certificate_request,
                 sizeof(certificate_request));

    static const uint8_t certificate_verify[] = {
        0x04, 0x03,                                     /* ecdsa_secp256r1_sha256 */
        0x00, 0x08,                                     /* signature<0..2^16-1> */
        0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, /* */
    };
    hs_certificate_verify cv = make_cv();
    w = cursor_writer_init(out, sizeof(out));
    assert_int_equal(hs_certificate_verify_write(&w, &cv), 0);
    expect_bytes("CertificateVerify layout", out, w.len, certificate_verify,
                 sizeof(certificate_verify));
}

static void test_certificate_extension_writers_exact_bytes(void **state)
{
    (void)state;
    static const uint8_t expected[] = {
        0x00, 0x00,                                                /* server_name */
        0x00, 0x10,                                                /* extension_data<0..2^16-1> */
        0x00, 0x0e,                                                /* server_name_list<1..2^16-1> */
        0x00,                                                      /* NameType host_name */
        0x00, 0x0b,                                                /* HostName<1..2^16-1> */
        'e',  'x',  'a',  'm',  'p', 'l', 'e', '.', 'c', 'o', 'm', /* */
        0x00, 0x00, 0x00, 0x00,                                    /* server_name, empty */
        0x00, 0x13, 0x00, 0x03,                                    /* client_certificate_type */
        0x02, 0x02, 0x00,       /* CertificateType<1..2^8-1>: RawPublicKey, X.509 */
        0x00, 0x14, 0x00, 0x01, /* server_certificate_type */
        0x02,                   /* the one type chosen: RawPublicKey */
    };
    static const uint8_t offered[] = {HS_CERT_TYPE_RAW_PUBLIC_KEY, HS_CERT_TYPE_X509};
    uint8_t out[BUF_CAP];
    cursor_writer w = cursor_writer_init(out, sizeof(out));
    assert_int_equal(hs_ext_write_server_name(&w, example_com, strlen(example_com)), 0);
    assert_int_equal(hs_ext_write_server_name(&w, NULL, 0), 0);
    assert_int_equal(hs_ext_write_cert_types(&w, HS_EXT_CLIENT_CERTIFICATE_TYPE, offered, 2, false),
                     0);
    assert_int_equal(hs_ext_write_cert_types(&w, HS_EXT_SERVER_CERTIFICATE_TYPE, offered, 1, true),
                     0);
    expect_bytes("certificate extensions layout", out, w.len, expected, sizeof(expected));
}

/* The message-dependent extensions, found in a parsed block and decoded. */
static void test_extensions_find_and_decode(void **state)
{
    (void)state;
    static const uint8_t offered[] = {HS_CERT_TYPE_RAW_PUBLIC_KEY, HS_CERT_TYPE_X509};
    static const uint8_t chosen[] = {HS_CERT_TYPE_X509};
    uint8_t block[BUF_CAP];
    cursor_writer w = cursor_writer_init(block, sizeof(block));
    assert_int_equal(hs_ext_write_server_name(&w, example_com, strlen(example_com)), 0);
    assert_int_equal(hs_ext_write_empty(&w, HS_EXT_EXTENDED_MASTER_SECRET), 0);
    assert_int_equal(hs_ext_write_cert_types(&w, HS_EXT_CLIENT_CERTIFICATE_TYPE, offered, 2, false),
                     0);
    assert_int_equal(hs_ext_write_cert_types(&w, HS_EXT_SERVER_CERTIFICATE_TYPE, chosen, 1, true),
                     0);
    hs_extensions e;
    cursor_reader r = cursor_reader_init(block, w.len);
    assert_int_equal(hs_extensions_read(&r, &e), 0);
    assert_int_equal(e.count, 4);

    const hs_extension *sni = hs_extensions_find(&e, HS_EXT_SERVER_NAME);
    assert_ptr_equal(sni, &e.list[0]);
    const uint8_t *name;
    size_t name_len;
    assert_int_equal(hs_ext_read_server_name(sni, &name, &name_len), 0);
    expect_bytes("host name", name, name_len, (const uint8_t *)example_com, strlen(example_com));
    assert_ptr_equal(name, block + 9);

    const hs_extension *client_types = hs_extensions_find(&e, HS_EXT_CLIENT_CERTIFICATE_TYPE);
    assert_ptr_equal(client_types, &e.list[2]);
    const uint8_t *types;
    size_t count;
    assert_int_equal(hs_ext_read_cert_type_list(client_types, &types, &count), 0);
    expect_bytes("client certificate types", types, count, offered, sizeof(offered));

    uint8_t type = 0xff;
    assert_int_equal(hs_ext_read_cert_type(&e.list[3], &type), 0);
    assert_int_equal(type, HS_CERT_TYPE_X509);
    assert_int_equal(hs_ext_read_empty(hs_extensions_find(&e, HS_EXT_EXTENDED_MASTER_SECRET)), 0);

    assert_null(hs_extensions_find(&e, HS_EXT_RENEGOTIATION_INFO));
    hs_extensions none;
    memset(&none, 0, sizeof(none));
    assert_null(hs_extensions_find(&none, HS_EXT_SERVER_NAME));
}

/* ---- truncation: every proper prefix of every canonical encoding ---- */

static void test_truncation_at_every_offset(void **state)
{
    (void)state;
    for (size_t i = 0; i < PETREL_ARRAY_LEN(all_kinds); i++) {
        const message_kind *k = all_kinds[i];
        uint8_t full[BUF_CAP];
        size_t len = canonical(k, full, sizeof(full));
        assert_int_equal(read_exact(k->read, full, len), 0);
        for (size_t n = 0; n < len; n++) {
            char ctx[160];
            snprintf(ctx, sizeof(ctx), "%s cut to %zu of %zu bytes", k->name, n, len);
            /* Cut just before the optional extensions block: a valid hello. */
            bool valid_prefix = k->optional_part >= 0 && n == optional_offset(k);
            EXPECT_RC(ctx, read_exact(k->read, full, n), valid_prefix ? 0 : PETREL_ERR_TRUNCATED);
        }
    }
}

/* ---- negative tables: one part replaced, the error the reader gives ---- */

typedef struct negative_case {
    const char *name;
    int part;
    const char *hex;
    int expected;
} negative_case;

static void run_cases(const message_kind *k, const negative_case *cases, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const negative_case *c = &cases[i];
        uint8_t in[BUF_CAP];
        size_t len = build(k, c->part, c->hex, in, sizeof(in));
        char ctx[200];
        snprintf(ctx, sizeof(ctx), "%s: %s", k->name, c->name);
        EXPECT_RC(ctx, read_exact(k->read, in, len), c->expected);
    }
}

#define RUN_CASES(kind, cases) run_cases(&(kind), cases, PETREL_ARRAY_LEN(cases))

static void test_client_hello_dtls_negative(void **state)
{
    (void)state;
    static const negative_case cases[] = {
        {"session_id of 33 bytes (over <0..32>)", CH_SESSION_ID, "21" HEX_SID32 "ff",
         PETREL_ERR_LENGTH},
        {"session_id length 255, past the input", CH_SESSION_ID, "ff a0a1a2a3", PETREL_ERR_LENGTH},
        {"cookie length past the input", CH_COOKIE, "ff c0c1c2", PETREL_ERR_TRUNCATED},
        {"cookie empty is accepted", CH_COOKIE, "00", 0},
        {"cipher_suites empty", CH_CIPHER_SUITES, "0000", PETREL_ERR_LENGTH},
        {"cipher_suites odd length", CH_CIPHER_SUITES, "0003 c0a800", PETREL_ERR_LENGTH},
        {"cipher_suites length 2^16-1 (over 2^16-2)", CH_CIPHER_SUITES, "ffff c0a800ff",
         PETREL_ERR_LENGTH},
        {"cipher_suites length past the input", CH_CIPHER_SUITES, "fffe c0a800ff",
         PETREL_ERR_TRUNCATED},
        {"compression_methods empty", CH_COMPRESSION, "00", PETREL_ERR_LENGTH},
        {"compression_methods length past the input", CH_COMPRESSION, "ff 00",
         PETREL_ERR_TRUNCATED},
        {"compression_methods without null", CH_COMPRESSION, "01 01", PETREL_ERR_ILLEGAL_PARAMETER},
        {"null compression after another method is accepted", CH_COMPRESSION, "02 0100", 0},
        {"extensions length past the input", CH_EXTENSIONS, "ffff" HEX_CH_EXTENSIONS,
         PETREL_ERR_TRUNCATED},
        {"extensions length one short (last extension cut)", CH_EXTENSIONS,
         "002c" HEX_CH_EXTENSIONS, PETREL_ERR_TRUNCATED},
        {"extensions length one long (stray byte inside)", CH_EXTENSIONS,
         "002e" HEX_CH_EXTENSIONS "00", PETREL_ERR_TRUNCATED},
        {"extensions block of one byte", CH_EXTENSIONS, "00", PETREL_ERR_TRUNCATED},
        {"trailing byte after the extensions", CH_TRAILING, "00", PETREL_ERR_TRAILING_DATA},
        {"duplicate extension", CH_EXTENSIONS, "0008 0017 0000 0017 0000",
         PETREL_ERR_ILLEGAL_PARAMETER},
        {"duplicate extension, not adjacent", CH_EXTENSIONS, "000e ff01000100 00170000 ff01000100",
         PETREL_ERR_ILLEGAL_PARAMETER},
        {"extended_master_secret with a body", CH_EXTENSIONS, "0005 0017 0001 00",
         PETREL_ERR_LENGTH},
        {"renegotiation_info inner length past its body", CH_EXTENSIONS, "0005 ff01 0001 01",
         PETREL_ERR_TRUNCATED},
        {"renegotiation_info body longer than its inner length", CH_EXTENSIONS,
         "0006 ff01 0002 00 aa", PETREL_ERR_TRAILING_DATA},
        {"extension data length past the block", CH_EXTENSIONS, "0004 0017 0001",
         PETREL_ERR_TRUNCATED},
        {"supported_groups odd length", CH_EXTENSIONS, "0009 000a 0005 0003 001d00",
         PETREL_ERR_LENGTH},
    };
    RUN_CASES(ch_dtls, cases);
}

static void test_client_hello_other_layouts_negative(void **state)
{
    (void)state;
    static const negative_case no_ext_cases[] = {
        {"one stray byte where the extensions would be", CH_TRAILING, "00", PETREL_ERR_TRUNCATED},
        {"compression_methods without null", CH_COMPRESSION, "01 40", PETREL_ERR_ILLEGAL_PARAMETER},
    };
    static const negative_case tls_cases[] = {
        {"cipher_suites empty", CH_CIPHER_SUITES, "0000", PETREL_ERR_LENGTH},
        {"cipher_suites odd length", CH_CIPHER_SUITES, "0005 c0a800ff00", PETREL_ERR_LENGTH},
        {"compression_methods empty", CH_COMPRESSION, "00", PETREL_ERR_LENGTH},
        {"trailing byte after the extensions", CH_TRAILING, "00", PETREL_ERR_TRAILING_DATA},
        /* A DTLS cookie is not part of the TLS layout: 03 c0 read as the
         * cipher_suites length. */
        {"a cookie in a TLS ClientHello", CH_COOKIE, "03 c0c1c2", PETREL_ERR_TRUNCATED},
    };
    static const negative_case empty_ext_cases[] = {
        {"trailing byte after an empty extensions block", CH_TRAILING, "00",
         PETREL_ERR_TRAILING_DATA},
    };
    RUN_CASES(ch_dtls_no_ext, no_ext_cases);
    RUN_CASES(ch_tls_no_ext, no_ext_cases);
    RUN_CASES(ch_tls, tls_cases);
    RUN_CASES(ch_dtls_empty_ext, empty_ext_cases);
}

static void test_server_hello_negative(void **state)
{
    (void)state;
    static const negative_case cases[] = {
        {"session_id of 33 bytes (over <0..32>)", SH_SESSION_ID, "21" HEX_SID32 "ff",
         PETREL_ERR_LENGTH},
        {"session_id empty is accepted", SH_SESSION_ID, "00", 0},
        {"compression_method deflate(1)", SH_COMPRESSION, "01", PETREL_ERR_ILLEGAL_PARAMETER},
        {"compression_method 255", SH_COMPRESSION, "ff", PETREL_ERR_ILLEGAL_PARAMETER},
        {"extensions length past the input", SH_EXTENSIONS, "ffff" HEX_SH_EXTENSIONS,
         PETREL_ERR_TRUNCATED},
        {"extensions block of one byte", SH_EXTENSIONS, "00", PETREL_ERR_TRUNCATED},
        {"empty extensions block is accepted", SH_EXTENSIONS, "0000", 0},
        {"trailing byte after the extensions", SH_TRAILING, "00", PETREL_ERR_TRAILING_DATA},
        {"duplicate extension", SH_EXTENSIONS, "000a ff01000100 ff01000100",
         PETREL_ERR_ILLEGAL_PARAMETER},
        {"extended_master_secret with a body", SH_EXTENSIONS, "0006 0017 0002 0000",
         PETREL_ERR_LENGTH},
        {"renegotiation_info inner length past its body", SH_EXTENSIONS, "0006 ff01 0002 02 00",
         PETREL_ERR_TRUNCATED},
        {"renegotiation_info body longer than its inner length", SH_EXTENSIONS,
         "0006 ff01 0002 00 00", PETREL_ERR_TRAILING_DATA},
    };
    static const negative_case no_ext_cases[] = {
        {"compression_method deflate(1)", SH_COMPRESSION, "01", PETREL_ERR_ILLEGAL_PARAMETER},
        {"one stray byte where the extensions would be", SH_TRAILING, "00", PETREL_ERR_TRUNCATED},
    };
    RUN_CASES(sh, cases);
    RUN_CASES(sh_no_ext, no_ext_cases);
}

static void test_hello_verify_request_negative(void **state)
{
    (void)state;
    static const negative_case cases[] = {
        {"cookie length past the input", HVR_COOKIE, "ff 0001020304050607", PETREL_ERR_TRUNCATED},
        {"cookie length one past the input", HVR_COOKIE, "09 0001020304050607",
         PETREL_ERR_TRUNCATED},
        {"empty cookie is accepted", HVR_COOKIE, "00", 0},
        {"trailing byte", HVR_TRAILING, "00", PETREL_ERR_TRAILING_DATA},
    };
    RUN_CASES(hvr, cases);
}

static void test_server_key_exchange_psk_negative(void **state)
{
    (void)state;
    static const negative_case psk_cases[] = {
        {"identity_hint length past the input", SKE_HINT, "ffff 68696e74", PETREL_ERR_TRUNCATED},
        {"empty identity_hint is accepted", SKE_HINT, "0000", 0},
        {"trailing byte", SKE_TRAILING, "00", PETREL_ERR_TRAILING_DATA},
    };
    static const negative_case ecdhe_cases[] = {
        {"identity_hint length past the input", SKE_HINT, "ffff 68696e74", PETREL_ERR_TRUNCATED},
        {"curve_type explicit_prime(1)", SKE_CURVE_TYPE, "01", PETREL_ERR_ILLEGAL_PARAMETER},
        {"curve_type explicit_char2(2)", SKE_CURVE_TYPE, "02", PETREL_ERR_ILLEGAL_PARAMETER},
        {"curve_type 0", SKE_CURVE_TYPE, "00", PETREL_ERR_ILLEGAL_PARAMETER},
        {"ECPoint empty", SKE_POINT, "00", PETREL_ERR_LENGTH},
        {"ECPoint length past the input", SKE_POINT, "ff" HEX_POINT32, PETREL_ERR_TRUNCATED},
        {"ECPoint length one past the input", SKE_POINT, "21" HEX_POINT32, PETREL_ERR_TRUNCATED},
        {"trailing byte", SKE_TRAILING, "00", PETREL_ERR_TRAILING_DATA},
    };
    RUN_CASES(ske_psk, psk_cases);
    RUN_CASES(ske_ecdhe, ecdhe_cases);
}

static void test_client_key_exchange_psk_negative(void **state)
{
    (void)state;
    static const negative_case psk_cases[] = {
        {"identity length past the input", CKE_IDENTITY, "ffff 636c69656e745f31",
         PETREL_ERR_TRUNCATED},
        {"empty identity is accepted", CKE_IDENTITY, "0000", 0},
        {"trailing byte", CKE_TRAILING, "00", PETREL_ERR_TRAILING_DATA},
    };
    static const negative_case ecdhe_cases[] = {
        {"identity length past the input", CKE_IDENTITY, "0100 636c69656e745f31",
         PETREL_ERR_TRUNCATED},
        {"ECPoint empty", CKE_POINT, "00", PETREL_ERR_LENGTH},
        {"ECPoint missing", CKE_POINT, "", PETREL_ERR_TRUNCATED},
        {"ECPoint length past the input", CKE_POINT, "ff" HEX_POINT32, PETREL_ERR_TRUNCATED},
        {"trailing byte", CKE_TRAILING, "00", PETREL_ERR_TRAILING_DATA},
    };
    RUN_CASES(cke_psk, psk_cases);
    RUN_CASES(cke_ecdhe, ecdhe_cases);
}

static void test_finished_negative(void **state)
{
    (void)state;
    static const negative_case cases[] = {
        {"11 bytes", FIN_VERIFY_DATA, "f0f1f2f3f4f5f6f7f8f9fa", PETREL_ERR_TRUNCATED},
        {"13 bytes", FIN_TRAILING, "00", PETREL_ERR_TRAILING_DATA},
        {"empty", FIN_VERIFY_DATA, "", PETREL_ERR_TRUNCATED},
    };
    RUN_CASES(finished, cases);
}

static void test_server_hello_done_negative(void **state)
{
    (void)state;
    static const negative_case cases[] = {
        {"1 byte", SHD_TRAILING, "00", PETREL_ERR_TRAILING_DATA},
        {"4 bytes", SHD_TRAILING, "0e000000", PETREL_ERR_TRAILING_DATA},
    };
    RUN_CASES(shd, cases);
}

/* Reader cases given as whole inputs (hex), for shapes that no single
 * part replacement gives. */
typedef struct hex_case {
    const char *name;
    const char *hex;
    int expected;
} hex_case;

static void run_hex_cases(const char *what, read_fn read, const hex_case *cases, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        uint8_t in[BUF_CAP];
        size_t len = hex_decode(cases[i].hex, in, sizeof(in));
        char ctx[200];
        snprintf(ctx, sizeof(ctx), "%s: %s", what, cases[i].name);
        EXPECT_RC(ctx, read_exact(read, in, len), cases[i].expected);
    }
}

#define RUN_HEX_CASES(what, read, cases) run_hex_cases(what, read, cases, PETREL_ARRAY_LEN(cases))

static void test_certificate_negative(void **state)
{
    (void)state;
    static const negative_case chain_cases[] = {
        {"list length past the input", CERT_LIST, "000010", PETREL_ERR_TRUNCATED},
        {"list length one short: the second certificate cut", CERT_LIST, "00000e",
         PETREL_ERR_TRUNCATED},
        {"list length 0, certificates after it", CERT_LIST, "000000", PETREL_ERR_TRAILING_DATA},
        {"list length 2^24-1, past the input", CERT_LIST, "ffffff", PETREL_ERR_TRUNCATED},
        {"first certificate's length past the list", CERT_FIRST, "000010 3003020101",
         PETREL_ERR_TRUNCATED},
        /* 4 bytes, then 01 00 00 read as the next length: 65536. */
        {"first certificate's length one short", CERT_FIRST, "000004 3003020101",
         PETREL_ERR_TRUNCATED},
        {"empty first certificate (list length kept)", CERT_FIRST, "000000 000002 3003",
         PETREL_ERR_LENGTH},
        {"empty second certificate (list length kept)", CERT_SECOND, "000000 000001 ff",
         PETREL_ERR_LENGTH},
        {"trailing byte", CERT_TRAILING, "00", PETREL_ERR_TRAILING_DATA},
    };
    RUN_CASES(cert, chain_cases);

    static const hex_case chain_hex[] = {
        {"empty list is accepted", "000000", 0},
        {"one certificate of one byte", "000004 000001 ff", 0},
        {"a list holding one empty certificate", "000003 000000", PETREL_ERR_LENGTH},
        {"an empty certificate after a good one", "00000b 000005 3003020101 000000",
         PETREL_ERR_LENGTH},
        {"a stray byte inside the list", "000005 000001 ff 00", PETREL_ERR_TRUNCATED},
        {"two stray bytes inside the list", "000006 000001 ff 0000", PETREL_ERR_TRUNCATED},
        {"a stray byte after the list", "000004 000001 ff 00", PETREL_ERR_TRAILING_DATA},
        {"certificate length 2^24-1 inside a short list", "000004 ffffff ff", PETREL_ERR_TRUNCATED},
        {"list length cut short", "0000", PETREL_ERR_TRUNCATED},
        {"nothing at all", "", PETREL_ERR_TRUNCATED},
    };
    RUN_HEX_CASES("Certificate", read_cert_x509, chain_hex);

    static const negative_case rpk_cases[] = {
        {"empty SubjectPublicKeyInfo", RPK_SPKI, "000000", PETREL_ERR_LENGTH},
        {"length past the input", RPK_SPKI, "000009 30063004060203ff", PETREL_ERR_TRUNCATED},
        {"length one short", RPK_SPKI, "000007 30063004060203ff", PETREL_ERR_TRAILING_DATA},
        {"trailing byte", RPK_TRAILING, "00", PETREL_ERR_TRAILING_DATA},
    };
    RUN_CASES(cert_rpk, rpk_cases);

    static const negative_case empty_cases[] = {
        {"trailing byte after the empty list", CERT_TRAILING, "00", PETREL_ERR_TRAILING_DATA},
    };
    RUN_CASES(cert_empty, empty_cases);
}

/* n certificates of one byte each, as a Certificate body. */
static size_t chain_of(size_t n, uint8_t *buf, size_t cap)
{
    cursor_writer w = cursor_writer_init(buf, cap);
    cursor_vector list;
    assert_int_equal(cursor_vector_open(&w, 3, &list), 0);
    for (size_t i = 0; i < n; i++) {
        uint8_t der = (uint8_t)i;
        assert_int_equal(cursor_write_vector(&w, 3, 1, HS_CERT_MAX, &der, 1), 0);
    }
    assert_int_equal(cursor_vector_close(&w, &list, 0, 0xFFFFFF), 0);
    return w.len;
}

static void test_certificate_chain_limit(void **state)
{
    (void)state;
    uint8_t in[BUF_CAP];
    size_t len = chain_of(HS_MAX_CHAIN, in, sizeof(in));
    EXPECT_RC("10 certificates", read_exact(read_cert_x509, in, len), 0);
    len = chain_of(HS_MAX_CHAIN + 1, in, sizeof(in));
    EXPECT_RC("11 certificates", read_exact(read_cert_x509, in, len), PETREL_ERR_LIMIT);
    len = chain_of(40, in, sizeof(in));
    EXPECT_RC("40 certificates", read_exact(read_cert_x509, in, len), PETREL_ERR_LIMIT);

    /* The reader stops at the limit: count stays within certs[]. */
    len = chain_of(HS_MAX_CHAIN + 1, in, sizeof(in));
    hs_certificate m = {.raw_public_key = false};
    cursor_reader r = cursor_reader_init(in, len);
    assert_int_equal(hs_certificate_read(&r, &m), PETREL_ERR_LIMIT);
    assert_int_equal(m.count, HS_MAX_CHAIN);
}

static void test_server_key_exchange_ecdhe_negative(void **state)
{
    (void)state;
    static const negative_case cases[] = {
        {"curve_type explicit_prime(1)", SKS_CURVE_TYPE, "01", PETREL_ERR_ILLEGAL_PARAMETER},
        {"curve_type explicit_char2(2)", SKS_CURVE_TYPE, "02", PETREL_ERR_ILLEGAL_PARAMETER},
        {"curve_type 0", SKS_CURVE_TYPE, "00", PETREL_ERR_ILLEGAL_PARAMETER},
        {"curve_type 255", SKS_CURVE_TYPE, "ff", PETREL_ERR_ILLEGAL_PARAMETER},
        {"ECPoint empty", SKS_POINT, "00", PETREL_ERR_LENGTH},
        {"ECPoint length past the input", SKS_POINT, "ff" HEX_POINT32, PETREL_ERR_TRUNCATED},
        /* 33 bytes taken: the signature length is then 0x0830. */
        {"ECPoint length one long", SKS_POINT, "21" HEX_POINT32, PETREL_ERR_TRUNCATED},
        /* 31 bytes taken: the signature length is then 0x0300. */
        {"ECPoint length one short", SKS_POINT, "1f" HEX_POINT32, PETREL_ERR_TRUNCATED},
        {"unknown signature scheme is the handshake's business", SKS_SIG_SCHEME, "ffff", 0},
        {"signature length past the input", SKS_SIGNATURE, "0009 " HEX_SIG8, PETREL_ERR_TRUNCATED},
        {"signature length one short", SKS_SIGNATURE, "0007 " HEX_SIG8, PETREL_ERR_TRAILING_DATA},
        {"signature length cut", SKS_SIGNATURE, "00", PETREL_ERR_TRUNCATED},
        {"signature missing", SKS_SIGNATURE, "", PETREL_ERR_TRUNCATED},
        {"empty signature is accepted", SKS_SIGNATURE, "0000", 0},
        {"trailing byte", SKS_TRAILING, "00", PETREL_ERR_TRAILING_DATA},
    };
    RUN_CASES(ske_signed, cases);
}

static void test_client_key_exchange_ecdhe_negative(void **state)
{
    (void)state;
    static const negative_case cases[] = {
        {"ECPoint empty", CKP_POINT, "00", PETREL_ERR_LENGTH},
        {"ECPoint missing", CKP_POINT, "", PETREL_ERR_TRUNCATED},
        {"ECPoint length past the input", CKP_POINT, "ff" HEX_POINT32, PETREL_ERR_TRUNCATED},
        {"ECPoint length one long", CKP_POINT, "21" HEX_POINT32, PETREL_ERR_TRUNCATED},
        {"ECPoint length one short", CKP_POINT, "1f" HEX_POINT32, PETREL_ERR_TRAILING_DATA},
        {"trailing byte", CKP_TRAILING, "00", PETREL_ERR_TRAILING_DATA},
    };
    RUN_CASES(cke_plain, cases);
}

static void test_certificate_request_negative(void **state)
{
    (void)state;
    static const negative_case cases[] = {
        {"certificate_types empty", CR_TYPES, "00", PETREL_ERR_LENGTH},
        {"certificate_types length past the input", CR_TYPES, "ff 4001", PETREL_ERR_TRUNCATED},
        {"unknown certificate type is accepted", CR_TYPES, "01 07", 0},
        {"signature algorithms empty", CR_SIG_SCHEMES, "0000", PETREL_ERR_LENGTH},
        {"signature algorithms odd length", CR_SIG_SCHEMES, "0003 040308", PETREL_ERR_LENGTH},
        {"signature algorithms of one byte", CR_SIG_SCHEMES, "0001 04", PETREL_ERR_LENGTH},
        {"signature algorithms length 2^16-1 (over 2^16-2)", CR_SIG_SCHEMES, "ffff 04030804",
         PETREL_ERR_LENGTH},
        {"signature algorithms length past the input", CR_SIG_SCHEMES, "fffe 04030804",
         PETREL_ERR_TRUNCATED},
        {"no authorities is accepted", CR_AUTHORITIES, "0000", 0},
        {"authorities missing", CR_AUTHORITIES, "", PETREL_ERR_TRUNCATED},
        {"authorities length past the input", CR_AUTHORITIES, "000c 0005 3003310100 0002 3000",
         PETREL_ERR_TRUNCATED},
        {"last DN cut short", CR_AUTHORITIES, "000a 0005 3003310100 0002 30", PETREL_ERR_LENGTH},
        {"last DN's length cut", CR_AUTHORITIES, "0008 0005 3003310100 00", PETREL_ERR_LENGTH},
        {"zero-length DN", CR_AUTHORITIES, "0002 0000", PETREL_ERR_LENGTH},
        {"zero-length DN after a good one", CR_AUTHORITIES, "0009 0005 3003310100 0000",
         PETREL_ERR_LENGTH},
        {"DN longer than the list", CR_AUTHORITIES, "0004 0005 3003", PETREL_ERR_LENGTH},
        {"authorities of one byte", CR_AUTHORITIES, "0001 00", PETREL_ERR_LENGTH},
        {"trailing byte", CR_TRAILING, "00", PETREL_ERR_TRAILING_DATA},
    };
    RUN_CASES(cert_request, cases);
}

static void test_certificate_verify_negative(void **state)
{
    (void)state;
    static const negative_case cases[] = {
        {"signature length past the input", CV_SIGNATURE, "0009 " HEX_SIG8, PETREL_ERR_TRUNCATED},
        {"signature length one short", CV_SIGNATURE, "0007 " HEX_SIG8, PETREL_ERR_TRAILING_DATA},
        {"signature missing", CV_SIGNATURE, "", PETREL_ERR_TRUNCATED},
        {"empty signature is accepted", CV_SIGNATURE, "0000", 0},
        {"trailing byte", CV_TRAILING, "00", PETREL_ERR_TRAILING_DATA},
    };
    RUN_CASES(cert_verify, cases);
}

/* hs_ext_read_server_name on an extension_data body, one row per rule. */
static void test_server_name_reader_table(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *hex;
        int expected;
        const char *host; /* on success: the host name returned, NULL for none */
    } cases[] = {
        {"one host_name", HEX_SERVER_NAME_EX, 0, "example.com"},
        {"a name of another type, then host_name", "000a 01 0002 6162 00 0002 6364", 0, "cd"},
        {"host_name, then a name of another type", "000a 00 0002 6364 07 0002 6162", 0, "cd"},
        {"only a name of another type: no host name", "0005 01 0002 6162", 0, NULL},
        {"two names of another type", "0009 01 0001 61 01 0002 6162", 0, NULL},
        {"empty body (a ServerHello's form)", "", PETREL_ERR_TRUNCATED, NULL},
        {"empty list", "0000", PETREL_ERR_LENGTH, NULL},
        {"empty host name", "0003 00 0000", PETREL_ERR_ILLEGAL_PARAMETER, NULL},
        {"duplicate host_name", "000a 00 0002 6162 00 0002 6364", PETREL_ERR_ILLEGAL_PARAMETER,
         NULL},
        {"same host_name twice", "000a 00 0002 6162 00 0002 6162", PETREL_ERR_ILLEGAL_PARAMETER,
         NULL},
        {"another type with an empty name", "0003 01 0000", PETREL_ERR_LENGTH, NULL},
        {"list length past the body", "000f 00 000b " HEX_EXAMPLE_COM, PETREL_ERR_TRUNCATED, NULL},
        {"list length one short", "000d 00 000b " HEX_EXAMPLE_COM, PETREL_ERR_TRUNCATED, NULL},
        {"host name length past the list", "0005 00 0003 6162", PETREL_ERR_TRUNCATED, NULL},
        {"host name length cut", "0002 00 00", PETREL_ERR_TRUNCATED, NULL},
        {"name type alone", "0001 00", PETREL_ERR_TRUNCATED, NULL},
        {"a stray byte after the entry, inside the list", "0006 00 0002 6162 00",
         PETREL_ERR_TRUNCATED, NULL},
        {"a stray byte after the list", HEX_SERVER_NAME_EX "00", PETREL_ERR_TRAILING_DATA, NULL},
    };
    for (size_t i = 0; i < PETREL_ARRAY_LEN(cases); i++) {
        uint8_t in[BUF_CAP];
        size_t len = hex_decode(cases[i].hex, in, sizeof(in));
        uint8_t *copy = exact_copy(in, len);
        hs_extension ext = {HS_EXT_SERVER_NAME, copy, len};
        const uint8_t *name = (const uint8_t *)"x";
        size_t name_len = 99;
        EXPECT_RC(cases[i].name, hs_ext_read_server_name(&ext, &name, &name_len),
                  cases[i].expected);
        if (cases[i].expected == 0 && cases[i].host) {
            expect_bytes(cases[i].name, name, name_len, (const uint8_t *)cases[i].host,
                         strlen(cases[i].host));
        } else {
            /* No host name: NULL/0, on success and on failure alike. */
            assert_null(name);
            assert_int_equal(name_len, 0);
        }
        free(copy);
    }

    /* petrel's limit on the HostName: 255 bytes. */
    uint8_t body[5 + HS_HOST_NAME_MAX + 1];
    cursor_writer w = cursor_writer_init(body, sizeof(body));
    assert_int_equal(cursor_write_u16(&w, 3 + HS_HOST_NAME_MAX + 1), 0);
    assert_int_equal(cursor_write_u8(&w, HS_SNI_HOST_NAME), 0);
    assert_int_equal(cursor_write_u16(&w, HS_HOST_NAME_MAX + 1), 0);
    assert_int_equal(cursor_write_zeros(&w, HS_HOST_NAME_MAX + 1), 0);
    memset(body + 5, 'a', HS_HOST_NAME_MAX + 1);
    EXPECT_RC("host name of 256", read_exact(read_ext_server_name, body, w.len),
              PETREL_ERR_ILLEGAL_PARAMETER);
}

static void test_certificate_type_extensions_negative(void **state)
{
    (void)state;
    static const hex_case list_cases[] = {
        {"one type", "01 02", 0},
        {"unknown types are accepted", "03 02 00 ff", 0},
        {"empty list", "00", PETREL_ERR_LENGTH},
        {"empty body", "", PETREL_ERR_TRUNCATED},
        {"list length past the body", "02 02", PETREL_ERR_TRUNCATED},
        {"list length one short", "01 0200", PETREL_ERR_TRAILING_DATA},
        {"a ServerHello's single type", "02", PETREL_ERR_TRUNCATED},
    };
    RUN_HEX_CASES("certificate type list", read_ext_cert_type_list, list_cases);

    static const hex_case single_cases[] = {
        {"one byte", "02", 0},
        {"body of 0 bytes", "", PETREL_ERR_TRUNCATED},
        {"body of 2 bytes", "0200", PETREL_ERR_TRAILING_DATA},
        {"a ClientHello's list", "01 02", PETREL_ERR_TRAILING_DATA},
    };
    RUN_HEX_CASES("certificate type", read_ext_cert_type, single_cases);

    static const hex_case empty_cases[] = {
        {"empty", "", 0},
        {"one byte", "00", PETREL_ERR_LENGTH},
        {"a ClientHello's server_name", HEX_SERVER_NAME_EX, PETREL_ERR_LENGTH},
    };
    RUN_HEX_CASES("empty extension", read_ext_empty, empty_cases);

    /* On failure the single type is left alone; the list reader gives
     * NULL/0. */
    static const uint8_t two[] = {0x02, 0x00};
    hs_extension ext = {HS_EXT_SERVER_CERTIFICATE_TYPE, two, sizeof(two)};
    uint8_t type = 0x77;
    assert_int_equal(hs_ext_read_cert_type(&ext, &type), PETREL_ERR_TRAILING_DATA);
    assert_int_equal(type, 0x77);
    const uint8_t *types = two;
    size_t count = 5;
    ext.len = 1; /* "02": a list length past the body */
    assert_int_equal(hs_ext_read_cert_type_list(&ext, &types, &count), PETREL_ERR_TRUNCATED);
    assert_null(types);
    assert_int_equal(count, 0);
}

/* hs_extensions_read on a block body, one row per rule. */
static void test_extensions_table(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *hex;
        int expected;
    } cases[] = {
        {"empty block", "", 0},
        {"unknown type, arbitrary body, kept raw", "abcd 0003 ffffff", 0},
        {"renegotiation_info with content", "ff01 0004 03 010203", 0},
        {"type cut short", "00", PETREL_ERR_TRUNCATED},
        {"length cut short", "0017 00", PETREL_ERR_TRUNCATED},
        {"data length past the block", "0017 0005 00", PETREL_ERR_TRUNCATED},
        {"duplicate known type", "0017 0000 0017 0000", PETREL_ERR_ILLEGAL_PARAMETER},
        {"duplicate unknown type", "abcd 0000 abcd 0001 00", PETREL_ERR_ILLEGAL_PARAMETER},
        {"extended_master_secret with one byte", "0017 0001 00", PETREL_ERR_LENGTH},
        {"renegotiation_info without its inner length", "ff01 0000", PETREL_ERR_TRUNCATED},
        {"renegotiation_info inner length past the body", "ff01 0002 05 00", PETREL_ERR_TRUNCATED},
        {"renegotiation_info body past the inner length", "ff01 0003 01 aabb",
         PETREL_ERR_TRAILING_DATA},
        {"supported_groups body empty", "000a 0000", PETREL_ERR_TRUNCATED},
        {"supported_groups list empty", "000a 0002 0000", PETREL_ERR_LENGTH},
        {"supported_groups list of one byte", "000a 0003 0001 1d", PETREL_ERR_LENGTH},
        {"supported_groups odd length", "000a 0005 0003 001d17", PETREL_ERR_LENGTH},
        {"supported_groups list past the body", "000a 0004 0004 001d", PETREL_ERR_TRUNCATED},
        {"supported_groups body past the list", "000a 0005 0002 001d 00", PETREL_ERR_TRAILING_DATA},
        {"ec_point_formats body empty", "000b 0000", PETREL_ERR_TRUNCATED},
        {"ec_point_formats list empty", "000b 0001 00", PETREL_ERR_LENGTH},
        {"ec_point_formats list past the body", "000b 0002 05 00", PETREL_ERR_TRUNCATED},
        {"ec_point_formats body past the list", "000b 0003 01 00 00", PETREL_ERR_TRAILING_DATA},
        {"signature_algorithms list empty", "000d 0002 0000", PETREL_ERR_LENGTH},
        {"signature_algorithms odd length", "000d 0005 0003 040308", PETREL_ERR_LENGTH},
        {"signature_algorithms length 2^16-1 (over 2^16-2)", "000d 0004 ffff 0403",
         PETREL_ERR_LENGTH},
        {"signature_algorithms list past the body", "000d 0004 0006 0403", PETREL_ERR_TRUNCATED},
        {"signature_algorithms body past the list", "000d 0005 0002 0403 00",
         PETREL_ERR_TRAILING_DATA},
        {"a bad extension after a good one", "0016 0000 0017 0001 00", PETREL_ERR_LENGTH},
    };
    for (size_t i = 0; i < PETREL_ARRAY_LEN(cases); i++) {
        uint8_t in[BUF_CAP];
        size_t len = hex_decode(cases[i].hex, in, sizeof(in));
        EXPECT_RC(cases[i].name, read_exact(read_extensions, in, len), cases[i].expected);
    }
}

/* Writes n distinct empty extensions (types 0x1000 + i) as a block body. */
static size_t many_extensions(size_t n, uint8_t *buf, size_t cap)
{
    cursor_writer w = cursor_writer_init(buf, cap);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(hs_ext_write_empty(&w, (uint16_t)(0x1000 + i)), 0);
    return w.len;
}

static void test_extensions_limit(void **state)
{
    (void)state;
    uint8_t block[BUF_CAP];
    size_t len = many_extensions(HS_MAX_EXTENSIONS, block, sizeof(block));
    assert_int_equal(read_exact(read_extensions, block, len), 0);
    len = many_extensions(HS_MAX_EXTENSIONS + 1, block, sizeof(block));
    EXPECT_RC("33 extensions", read_exact(read_extensions, block, len), PETREL_ERR_LIMIT);

    /* The same through a ClientHello. */
    uint8_t hello[BUF_CAP], ext[BUF_CAP];
    hs_client_hello m;
    make_client_hello(&m, true, EMPTY_BLOCK, NULL, 0);
    m.extensions_raw = ext;
    m.extensions_raw_len = many_extensions(HS_MAX_EXTENSIONS + 1, ext, sizeof(ext));
    cursor_writer w = cursor_writer_init(hello, sizeof(hello));
    assert_int_equal(hs_client_hello_write(&w, &m, true), 0);
    EXPECT_RC("ClientHello with 33 extensions", read_exact(read_ch_dtls, hello, w.len),
              PETREL_ERR_LIMIT);
}

/* ---- writers: too small a buffer, and fields outside their bounds ---- */

typedef int (*write_fn)(cursor_writer *w);

static int write_ch_dtls(cursor_writer *w)
{
    uint8_t ext[256];
    hs_client_hello m;
    make_client_hello(&m, true, WITH_EXTENSIONS, ext, sizeof(ext));
    return hs_client_hello_write(w, &m, true);
}

static int write_ch_tls(cursor_writer *w)
{
    hs_client_hello m;
    make_client_hello(&m, false, NO_BLOCK, NULL, 0);
    return hs_client_hello_write(w, &m, false);
}

static int write_sh(cursor_writer *w)
{
    uint8_t ext[256];
    hs_server_hello m;
    make_server_hello(&m, true, ext, sizeof(ext));
    return hs_server_hello_write(w, &m);
}

static int write_hvr(cursor_writer *w)
{
    hs_hello_verify_request m = make_hvr();
    return hs_hello_verify_request_write(w, &m);
}

static int write_ske_psk(cursor_writer *w)
{
    hs_server_key_exchange_psk m = make_ske(false);
    return hs_server_key_exchange_psk_write(w, &m);
}

static int write_ske_ecdhe(cursor_writer *w)
{
    hs_server_key_exchange_psk m = make_ske(true);
    return hs_server_key_exchange_psk_write(w, &m);
}

static int write_cke_psk(cursor_writer *w)
{
    hs_client_key_exchange_psk m = make_cke(false);
    return hs_client_key_exchange_psk_write(w, &m);
}

static int write_cke_ecdhe(cursor_writer *w)
{
    hs_client_key_exchange_psk m = make_cke(true);
    return hs_client_key_exchange_psk_write(w, &m);
}

static int write_finished(cursor_writer *w)
{
    hs_finished m = make_finished();
    return hs_finished_write(w, &m);
}

static int write_ext_renegotiation_info(cursor_writer *w)
{
    static const uint8_t verify[] = {1, 2, 3};
    return hs_ext_write_renegotiation_info(w, verify, sizeof(verify));
}

static int write_ext_empty(cursor_writer *w)
{
    return hs_ext_write_empty(w, HS_EXT_EXTENDED_MASTER_SECRET);
}

static int write_ext_u16_list(cursor_writer *w)
{
    static const uint16_t groups[] = {0x001d, 0x0017, 0x0018};
    return hs_ext_write_u16_list(w, HS_EXT_SUPPORTED_GROUPS, groups, 3);
}

static int write_ext_ec_point_formats(cursor_writer *w)
{
    return hs_ext_write_ec_point_formats(w);
}

static int write_cert_chain(cursor_writer *w)
{
    hs_certificate m = make_cert_chain();
    return hs_certificate_write(w, &m);
}

static int write_cert_empty(cursor_writer *w)
{
    hs_certificate m = {.raw_public_key = false, .count = 0};
    return hs_certificate_write(w, &m);
}

static int write_cert_rpk(cursor_writer *w)
{
    hs_certificate m = make_cert_rpk();
    return hs_certificate_write(w, &m);
}

static int write_ecdh_params(cursor_writer *w)
{
    return hs_ecdh_params_write(w, 0x0017, point32(), 32);
}

static int write_ske_signed(cursor_writer *w)
{
    hs_server_key_exchange_ecdhe m = make_ske_signed();
    return hs_server_key_exchange_ecdhe_write(w, &m);
}

static int write_cke_plain(cursor_writer *w)
{
    return hs_client_key_exchange_ecdhe_write(w, point32(), 32);
}

static int write_cr(cursor_writer *w)
{
    uint8_t authorities[64];
    hs_certificate_request m = make_cr(authorities, sizeof(authorities));
    return hs_certificate_request_write(w, &m);
}

static int write_dn(cursor_writer *w)
{
    return hs_distinguished_name_write(w, dn_a, sizeof(dn_a));
}

static int write_cv(cursor_writer *w)
{
    hs_certificate_verify m = make_cv();
    return hs_certificate_verify_write(w, &m);
}

static int write_ext_server_name(cursor_writer *w)
{
    return hs_ext_write_server_name(w, example_com, strlen(example_com));
}

static int write_ext_server_name_empty(cursor_writer *w)
{
    return hs_ext_write_server_name(w, NULL, 0);
}

static int write_ext_cert_type_list(cursor_writer *w)
{
    static const uint8_t types[] = {HS_CERT_TYPE_RAW_PUBLIC_KEY, HS_CERT_TYPE_X509};
    return hs_ext_write_cert_types(w, HS_EXT_CLIENT_CERTIFICATE_TYPE, types, 2, false);
}

static int write_ext_cert_type_single(cursor_writer *w)
{
    static const uint8_t types[] = {HS_CERT_TYPE_RAW_PUBLIC_KEY};
    return hs_ext_write_cert_types(w, HS_EXT_SERVER_CERTIFICATE_TYPE, types, 1, true);
}

static void test_writers_buffer_too_small(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        write_fn write;
    } writers[] = {
        {"ClientHello/DTLS", write_ch_dtls},
        {"ClientHello/TLS", write_ch_tls},
        {"ServerHello", write_sh},
        {"HelloVerifyRequest", write_hvr},
        {"ServerKeyExchange/PSK", write_ske_psk},
        {"ServerKeyExchange/ECDHE_PSK", write_ske_ecdhe},
        {"ClientKeyExchange/PSK", write_cke_psk},
        {"ClientKeyExchange/ECDHE_PSK", write_cke_ecdhe},
        {"Finished", write_finished},
        {"renegotiation_info", write_ext_renegotiation_info},
        {"empty extension", write_ext_empty},
        {"u16 list extension", write_ext_u16_list},
        {"ec_point_formats", write_ext_ec_point_formats},
        {"Certificate", write_cert_chain},
        {"Certificate, empty list", write_cert_empty},
        {"Certificate/RawPublicKey", write_cert_rpk},
        {"ServerECDHParams", write_ecdh_params},
        {"ServerKeyExchange/ECDHE", write_ske_signed},
        {"ClientKeyExchange/ECDHE", write_cke_plain},
        {"CertificateRequest", write_cr},
        {"DistinguishedName", write_dn},
        {"CertificateVerify", write_cv},
        {"server_name", write_ext_server_name},
        {"server_name, empty", write_ext_server_name_empty},
        {"certificate type list", write_ext_cert_type_list},
        {"certificate type, single", write_ext_cert_type_single},
    };
    for (size_t i = 0; i < PETREL_ARRAY_LEN(writers); i++) {
        uint8_t big[BUF_CAP];
        cursor_writer w = cursor_writer_init(big, sizeof(big));
        EXPECT_RC(writers[i].name, writers[i].write(&w), 0);
        size_t needed = w.len;
        for (size_t cap = 0; cap < needed; cap++) {
            char ctx[120];
            snprintf(ctx, sizeof(ctx), "%s into %zu of %zu bytes", writers[i].name, cap, needed);
            uint8_t *buf = cap ? malloc(cap) : NULL; /* exact size: ASan sees any overflow */
            assert_true(cap == 0 || buf != NULL);
            cursor_writer small = cursor_writer_init(buf, cap);
            EXPECT_RC(ctx, writers[i].write(&small), PETREL_ERR_BUFFER_TOO_SMALL);
            EXPECT_EQ(ctx, small.len, 0); /* these writers are all-or-nothing */
            free(buf);
        }
        uint8_t *buf = malloc(needed);
        assert_non_null(buf);
        cursor_writer exact = cursor_writer_init(buf, needed);
        EXPECT_RC(writers[i].name, writers[i].write(&exact), 0);
        expect_bytes(writers[i].name, buf, exact.len, big, needed);
        free(buf);
    }
}

static void test_writers_refuse_fields_out_of_bounds(void **state)
{
    (void)state;
    uint8_t buf[BUF_CAP], big[HS_COOKIE_MAX + 1] = {0};
    cursor_writer w = cursor_writer_init(buf, sizeof(buf));
    hs_client_hello ch;

    make_client_hello(&ch, true, NO_BLOCK, NULL, 0);
    ch.session_id_len = HS_SESSION_ID_MAX + 1;
    EXPECT_RC("session_id of 33", hs_client_hello_write(&w, &ch, true), PETREL_ERR_LENGTH);
    make_client_hello(&ch, true, NO_BLOCK, NULL, 0);
    ch.cookie = big;
    ch.cookie_len = sizeof(big);
    EXPECT_RC("cookie of 256", hs_client_hello_write(&w, &ch, true), PETREL_ERR_LENGTH);
    make_client_hello(&ch, true, NO_BLOCK, NULL, 0);
    ch.cipher_suites.count = 0;
    EXPECT_RC("no cipher_suites", hs_client_hello_write(&w, &ch, true), PETREL_ERR_LENGTH);
    make_client_hello(&ch, true, NO_BLOCK, NULL, 0);
    ch.compression_methods_len = 0;
    EXPECT_RC("no compression_methods", hs_client_hello_write(&w, &ch, true), PETREL_ERR_LENGTH);

    hs_hello_verify_request hv = {HS_VERSION_DTLS12, big, sizeof(big)};
    EXPECT_RC("HelloVerifyRequest cookie of 256", hs_hello_verify_request_write(&w, &hv),
              PETREL_ERR_LENGTH);
    hs_server_key_exchange_psk ske = make_ske(true);
    ske.public_key_len = 0;
    EXPECT_RC("SKE empty ECPoint", hs_server_key_exchange_psk_write(&w, &ske), PETREL_ERR_LENGTH);
    hs_client_key_exchange_psk cke = make_cke(true);
    cke.public_key_len = 0;
    EXPECT_RC("CKE empty ECPoint", hs_client_key_exchange_psk_write(&w, &cke), PETREL_ERR_LENGTH);
    EXPECT_RC("renegotiation_info of 256", hs_ext_write_renegotiation_info(&w, big, sizeof(big)),
              PETREL_ERR_LENGTH);
    EXPECT_RC("empty u16 list", hs_ext_write_u16_list(&w, HS_EXT_SUPPORTED_GROUPS, NULL, 0),
              PETREL_ERR_LENGTH);
    EXPECT_EQ("after refusals", w.len, 0);
}

/* Each refused write leaves the writer as it was, even after part of the
 * message has been written. The writer starts with one byte in it. */
static void test_certificate_writers_refuse_fields_out_of_bounds(void **state)
{
    (void)state;
    uint8_t buf[BUF_CAP];
    uint8_t *huge = calloc(1, HS_CERT_MAX + 1); /* readable, so only the rule can refuse */
    assert_non_null(huge);
    cursor_writer w = cursor_writer_init(buf, sizeof(buf));
    assert_int_equal(cursor_write_u8(&w, 0xaa), 0);

    hs_certificate c = make_cert_rpk();
    c.count = 2;
    EXPECT_RC("RPK with two keys", hs_certificate_write(&w, &c), PETREL_ERR_LENGTH);
    c.count = 0;
    EXPECT_RC("RPK with no key", hs_certificate_write(&w, &c), PETREL_ERR_LENGTH);
    c = make_cert_rpk();
    c.lens[0] = 0;
    EXPECT_RC("empty RPK", hs_certificate_write(&w, &c), PETREL_ERR_LENGTH);
    c.certs[0] = huge;
    c.lens[0] = HS_CERT_MAX + 1;
    EXPECT_RC("RPK of 2^24", hs_certificate_write(&w, &c), PETREL_ERR_LENGTH);
    c = make_cert_chain();
    c.lens[1] = 0;
    EXPECT_RC("empty second certificate", hs_certificate_write(&w, &c), PETREL_ERR_LENGTH);
    c = make_cert_chain();
    c.certs[1] = huge;
    c.lens[1] = HS_CERT_MAX + 1;
    EXPECT_RC("second certificate of 2^24", hs_certificate_write(&w, &c), PETREL_ERR_LENGTH);
    c = make_cert_chain();
    c.count = HS_MAX_CHAIN + 1;
    EXPECT_RC("11 certificates", hs_certificate_write(&w, &c), PETREL_ERR_LENGTH);

    EXPECT_RC("ServerECDHParams empty ECPoint", hs_ecdh_params_write(&w, 0x17, huge, 0),
              PETREL_ERR_LENGTH);
    EXPECT_RC("ServerECDHParams ECPoint of 256", hs_ecdh_params_write(&w, 0x17, huge, 256),
              PETREL_ERR_LENGTH);
    hs_server_key_exchange_ecdhe ske = make_ske_signed();
    ske.public_key_len = 0;
    EXPECT_RC("SKE empty ECPoint", hs_server_key_exchange_ecdhe_write(&w, &ske), PETREL_ERR_LENGTH);
    ske = make_ske_signed();
    ske.signature = huge;
    ske.signature_len = HS_SIGNATURE_MAX + 1;
    EXPECT_RC("SKE signature of 2^16", hs_server_key_exchange_ecdhe_write(&w, &ske),
              PETREL_ERR_LENGTH);
    EXPECT_RC("CKE empty ECPoint", hs_client_key_exchange_ecdhe_write(&w, huge, 0),
              PETREL_ERR_LENGTH);
    EXPECT_RC("CKE ECPoint of 256", hs_client_key_exchange_ecdhe_write(&w, huge, 256),
              PETREL_ERR_LENGTH);

    uint8_t authorities[64];
    hs_certificate_request cr = make_cr(authorities, sizeof(authorities));
    cr.cert_types_len = 0;
    EXPECT_RC("no certificate types", hs_certificate_request_write(&w, &cr), PETREL_ERR_LENGTH);
    cr = make_cr(authorities, sizeof(authorities));
    cr.cert_types = huge;
    cr.cert_types_len = 256;
    EXPECT_RC("256 certificate types", hs_certificate_request_write(&w, &cr), PETREL_ERR_LENGTH);
    cr = make_cr(authorities, sizeof(authorities));
    cr.sig_schemes.count = 0;
    EXPECT_RC("no signature algorithms", hs_certificate_request_write(&w, &cr), PETREL_ERR_LENGTH);
    cr.sig_schemes.data = huge;
    cr.sig_schemes.count = 0x7FFF + 1;
    EXPECT_RC("2^15 signature algorithms", hs_certificate_request_write(&w, &cr),
              PETREL_ERR_LENGTH);
    cr = make_cr(authorities, sizeof(authorities));
    cr.authorities_len -= 1; /* the last DN cut short */
    EXPECT_RC("authorities not made of DNs", hs_certificate_request_write(&w, &cr),
              PETREL_ERR_LENGTH);
    cr.authorities = huge; /* zeros: a zero-length DN */
    cr.authorities_len = 2;
    EXPECT_RC("authorities with an empty DN", hs_certificate_request_write(&w, &cr),
              PETREL_ERR_LENGTH);
    cr.authorities_len = 0x10000;
    EXPECT_RC("authorities of 2^16", hs_certificate_request_write(&w, &cr), PETREL_ERR_LENGTH);
    EXPECT_RC("empty DN", hs_distinguished_name_write(&w, huge, 0), PETREL_ERR_LENGTH);
    EXPECT_RC("DN of 2^16", hs_distinguished_name_write(&w, huge, 0x10000), PETREL_ERR_LENGTH);

    hs_certificate_verify cv = {0x0403, huge, HS_SIGNATURE_MAX + 1};
    EXPECT_RC("CertificateVerify signature of 2^16", hs_certificate_verify_write(&w, &cv),
              PETREL_ERR_LENGTH);

    char host[HS_HOST_NAME_MAX + 1];
    memset(host, 'a', sizeof(host));
    EXPECT_RC("empty host name", hs_ext_write_server_name(&w, host, 0), PETREL_ERR_LENGTH);
    EXPECT_RC("host name of 256", hs_ext_write_server_name(&w, host, sizeof(host)),
              PETREL_ERR_LENGTH);
    EXPECT_RC("host name NULL with a length", hs_ext_write_server_name(&w, NULL, 3),
              PETREL_ERR_ARG);
    static const uint8_t types[] = {0, 2};
    EXPECT_RC("empty type list",
              hs_ext_write_cert_types(&w, HS_EXT_CLIENT_CERTIFICATE_TYPE, types, 0, false),
              PETREL_ERR_LENGTH);
    EXPECT_RC("type list of 256",
              hs_ext_write_cert_types(&w, HS_EXT_CLIENT_CERTIFICATE_TYPE, huge, 256, false),
              PETREL_ERR_LENGTH);
    EXPECT_RC("single type, count 0",
              hs_ext_write_cert_types(&w, HS_EXT_SERVER_CERTIFICATE_TYPE, types, 0, true),
              PETREL_ERR_LENGTH);
    EXPECT_RC("single type, count 2",
              hs_ext_write_cert_types(&w, HS_EXT_SERVER_CERTIFICATE_TYPE, types, 2, true),
              PETREL_ERR_LENGTH);

    EXPECT_EQ("after refusals", w.len, 1);
    assert_int_equal(buf[0], 0xaa);
    free(huge);
}

/* All or nothing when the writer already holds data: every too-small
 * capacity past a 3-byte prefix leaves the prefix and the length as they
 * were. */
static void test_certificate_writers_keep_earlier_content(void **state)
{
    (void)state;
    static const write_fn writers[] = {
        write_cert_chain, write_ske_signed,      write_cr,
        write_cv,         write_ext_server_name, write_ext_cert_type_list};
    for (size_t i = 0; i < PETREL_ARRAY_LEN(writers); i++) {
        uint8_t big[BUF_CAP];
        cursor_writer w = cursor_writer_init(big, sizeof(big));
        assert_int_equal(writers[i](&w), 0);
        size_t needed = w.len;
        for (size_t cap = 3; cap < 3 + needed; cap++) {
            uint8_t *buf = malloc(cap);
            assert_non_null(buf);
            memset(buf, 0x5c, cap);
            cursor_writer small = cursor_writer_init(buf, cap);
            assert_int_equal(cursor_write_bytes(&small, "abc", 3), 0);
            assert_int_equal(writers[i](&small), PETREL_ERR_BUFFER_TOO_SMALL);
            assert_int_equal(small.len, 3);
            assert_memory_equal(buf, "abc", 3);
            free(buf);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_hello_dtls_roundtrip),
        cmocka_unit_test(test_client_hello_dtls_no_extensions_roundtrip),
        cmocka_unit_test(test_client_hello_dtls_empty_extensions_roundtrip),
        cmocka_unit_test(test_client_hello_tls_roundtrip),
        cmocka_unit_test(test_client_hello_tls_no_extensions_roundtrip),
        cmocka_unit_test(test_client_hello_dtls_exact_bytes),
        cmocka_unit_test(test_client_hello_tls_exact_bytes),
        cmocka_unit_test(test_client_hello_known_extensions_decoded),
        cmocka_unit_test(test_client_hello_without_extensions_has_none),
        cmocka_unit_test(test_server_hello_roundtrip),
        cmocka_unit_test(test_hello_verify_request_roundtrip),
        cmocka_unit_test(test_hello_verify_request_max_cookie_roundtrip),
        cmocka_unit_test(test_server_key_exchange_psk_roundtrip),
        cmocka_unit_test(test_client_key_exchange_psk_roundtrip),
        cmocka_unit_test(test_finished_roundtrip),
        cmocka_unit_test(test_server_hello_done_empty),
        cmocka_unit_test(test_u16_list),
        cmocka_unit_test(test_extension_writers_layout),
        cmocka_unit_test(test_renegotiation_info_max_length),
        cmocka_unit_test(test_truncation_at_every_offset),
        cmocka_unit_test(test_client_hello_dtls_negative),
        cmocka_unit_test(test_client_hello_other_layouts_negative),
        cmocka_unit_test(test_server_hello_negative),
        cmocka_unit_test(test_hello_verify_request_negative),
        cmocka_unit_test(test_server_key_exchange_psk_negative),
        cmocka_unit_test(test_client_key_exchange_psk_negative),
        cmocka_unit_test(test_finished_negative),
        cmocka_unit_test(test_server_hello_done_negative),
        cmocka_unit_test(test_extensions_table),
        cmocka_unit_test(test_extensions_limit),
        cmocka_unit_test(test_writers_buffer_too_small),
        cmocka_unit_test(test_writers_refuse_fields_out_of_bounds),
        cmocka_unit_test(test_certificate_roundtrip),
        cmocka_unit_test(test_certificate_max_chain_roundtrip),
        cmocka_unit_test(test_server_key_exchange_ecdhe_roundtrip),
        cmocka_unit_test(test_client_key_exchange_ecdhe_roundtrip),
        cmocka_unit_test(test_certificate_request_roundtrip),
        cmocka_unit_test(test_certificate_verify_roundtrip),
        cmocka_unit_test(test_certificate_messages_at_upper_bounds),
        cmocka_unit_test(test_certificate_messages_exact_bytes),
        cmocka_unit_test(test_certificate_extension_writers_exact_bytes),
        cmocka_unit_test(test_extensions_find_and_decode),
        cmocka_unit_test(test_certificate_negative),
        cmocka_unit_test(test_certificate_chain_limit),
        cmocka_unit_test(test_server_key_exchange_ecdhe_negative),
        cmocka_unit_test(test_client_key_exchange_ecdhe_negative),
        cmocka_unit_test(test_certificate_request_negative),
        cmocka_unit_test(test_certificate_verify_negative),
        cmocka_unit_test(test_server_name_reader_table),
        cmocka_unit_test(test_certificate_type_extensions_negative),
        cmocka_unit_test(test_certificate_writers_refuse_fields_out_of_bounds),
        cmocka_unit_test(test_certificate_writers_keep_earlier_content),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
