/* The cipher-suite registry. */
#include "handshake/suites.h"

#define SUITE(id_, name_, kx_, aead_, hash_, key_len_, fixed_, explicit_, tag_)       \
    {                                                                                 \
        .id = id_, .name = name_, .kx = kx_, .aead = aead_, .prf_hash = hash_,        \
        .key_len = key_len_, .fixed_iv_len = fixed_, .explicit_nonce_len = explicit_, \
        .tag_len = tag_,                                                              \
    }

static const hs_suite suites[] = {
    SUITE(0xC0A8, "TLS_PSK_WITH_AES_128_CCM_8", HS_KX_PSK, CRYPTO_AEAD_AES_128_CCM_8,
          CRYPTO_HASH_SHA256, 16, 4, 8, 8),
    SUITE(0xC0A4, "TLS_PSK_WITH_AES_128_CCM", HS_KX_PSK, CRYPTO_AEAD_AES_128_CCM,
          CRYPTO_HASH_SHA256, 16, 4, 8, 16),
    SUITE(0x00A8, "TLS_PSK_WITH_AES_128_GCM_SHA256", HS_KX_PSK, CRYPTO_AEAD_AES_128_GCM,
          CRYPTO_HASH_SHA256, 16, 4, 8, 16),
    SUITE(0x00A9, "TLS_PSK_WITH_AES_256_GCM_SHA384", HS_KX_PSK, CRYPTO_AEAD_AES_256_GCM,
          CRYPTO_HASH_SHA384, 32, 4, 8, 16),
    SUITE(0xCCAB, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256", HS_KX_PSK, CRYPTO_AEAD_CHACHA20_POLY1305,
          CRYPTO_HASH_SHA256, 32, 12, 0, 16),
    SUITE(0xCCAC, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", HS_KX_ECDHE_PSK,
          CRYPTO_AEAD_CHACHA20_POLY1305, CRYPTO_HASH_SHA256, 32, 12, 0, 16),
    SUITE(0xC0AE, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", HS_KX_ECDHE_ECDSA,
          CRYPTO_AEAD_AES_128_CCM_8, CRYPTO_HASH_SHA256, 16, 4, 8, 8),
    SUITE(0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", HS_KX_ECDHE_ECDSA, CRYPTO_AEAD_AES_128_CCM,
          CRYPTO_HASH_SHA256, 16, 4, 8, 16),
    SUITE(0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", HS_KX_ECDHE_ECDSA,
          CRYPTO_AEAD_AES_128_GCM, CRYPTO_HASH_SHA256, 16, 4, 8, 16),
    SUITE(0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", HS_KX_ECDHE_ECDSA,
          CRYPTO_AEAD_AES_256_GCM, CRYPTO_HASH_SHA384, 32, 4, 8, 16),
    SUITE(0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", HS_KX_ECDHE_ECDSA,
          CRYPTO_AEAD_CHACHA20_POLY1305, CRYPTO_HASH_SHA256, 32, 12, 0, 16),
    SUITE(0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", HS_KX_ECDHE_RSA, CRYPTO_AEAD_AES_128_GCM,
          CRYPTO_HASH_SHA256, 16, 4, 8, 16),
    SUITE(0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", HS_KX_ECDHE_RSA, CRYPTO_AEAD_AES_256_GCM,
          CRYPTO_HASH_SHA384, 32, 4, 8, 16),
    SUITE(0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", HS_KX_ECDHE_RSA,
          CRYPTO_AEAD_CHACHA20_POLY1305, CRYPTO_HASH_SHA256, 32, 12, 0, 16),
};

const uint16_t hs_default_suites[] = {0xC0A8, 0x00A8, 0x00A9, 0xCCAB, 0xCCAC, 0xC0AE, 0xC02B,
                                      0xC02C, 0xCCA9, 0xC0AC, 0xC02F, 0xC030, 0xCCA8};
const size_t hs_default_suite_count = sizeof(hs_default_suites) / sizeof(hs_default_suites[0]);

const hs_suite *hs_suite_find(uint16_t id)
{
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
        if (suites[i].id == id)
            return &suites[i];
    }
    return NULL;
}

/* Suites from the seed documents (MatrixSSL 3.2, SSLRef 3.0) and their
 * era that petrel refuses, with the reason a user is told. */
static const struct {
    uint16_t id;
    const char *why;
} insecure[] = {
    {0x0000, "TLS_NULL_WITH_NULL_NULL: no encryption"},
    {0x0001, "RSA_WITH_NULL_MD5: no encryption, MD5"},
    {0x0002, "RSA_WITH_NULL_SHA: no encryption"},
    {0x0003, "RSA_EXPORT_WITH_RC4_40_MD5: export, RC4, MD5"},
    {0x0004, "RSA_WITH_RC4_128_MD5: RC4 (RFC 7465), MD5"},
    {0x0005, "RSA_WITH_RC4_128_SHA: RC4 (RFC 7465)"},
    {0x000A, "RSA_WITH_3DES_EDE_CBC_SHA: 3DES (64-bit block), static RSA"},
    {0x0016, "DHE_RSA_WITH_3DES_EDE_CBC_SHA: 3DES (64-bit block)"},
    {0x002F, "RSA_WITH_AES_128_CBC_SHA: static RSA key exchange, no forward secrecy"},
    {0x0035, "RSA_WITH_AES_256_CBC_SHA: static RSA key exchange, no forward secrecy"},
    {0x003C, "RSA_WITH_AES_128_CBC_SHA256: static RSA key exchange, no forward secrecy"},
    {0x003D, "RSA_WITH_AES_256_CBC_SHA256: static RSA key exchange, no forward secrecy"},
    {0x008A, "PSK_WITH_RC4_128_SHA: RC4 (RFC 7465)"},
    {0x008B, "PSK_WITH_3DES_EDE_CBC_SHA: 3DES (64-bit block)"},
    {0x0096, "RSA_WITH_SEED_CBC_SHA: static RSA key exchange, no forward secrecy"},
    {0x009C, "RSA_WITH_AES_128_GCM_SHA256: static RSA key exchange, no forward secrecy"},
    {0x009D, "RSA_WITH_AES_256_GCM_SHA384: static RSA key exchange, no forward secrecy"},
    {0xC011, "ECDHE_RSA_WITH_RC4_128_SHA: RC4 (RFC 7465)"},
    {0xC012, "ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: 3DES (64-bit block)"},
};

bool hs_suite_is_insecure(uint16_t id, const char **why)
{
    for (size_t i = 0; i < sizeof(insecure) / sizeof(insecure[0]); i++) {
        if (insecure[i].id == id) {
            if (why)
                *why = insecure[i].why;
            return true;
        }
    }
    return false;
}
