/* TLS 1.2 / DTLS 1.2 AEAD record protection (see protect.h). */
#include "handshake/protect.h"

#include <string.h>

int hs_record_cipher_init(hs_record_cipher *c, const crypto_provider *prov, const hs_suite *suite,
                          const hs_traffic_keys *keys)
{
    const crypto_aead_alg *aead = prov->aead(suite->aead);
    if (!aead)
        return PETREL_ERR_UNSUPPORTED;
    crypto_aead_key *key;
    PETREL_TRY(aead->key_new(aead, keys->key, &key));
    hs_record_cipher_clear(c);
    c->key = key;
    c->suite = suite;
    memcpy(c->iv, keys->iv, sizeof(c->iv));
    return 0;
}

void hs_record_cipher_clear(hs_record_cipher *c)
{
    crypto_aead_key_free(c->key);
    petrel_wipe(c, sizeof(*c));
}

size_t hs_protect_explicit_len(const hs_record_cipher *c)
{
    return c && c->suite ? c->suite->explicit_nonce_len : 0;
}

size_t hs_protect_expansion(const hs_record_cipher *c)
{
    return c && c->suite ? (size_t)c->suite->explicit_nonce_len + c->suite->tag_len : 0;
}

static void write_u64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

/* The nonce for a record whose explicit part (if the suite has one) is
 * explicit[0, 8). */
static void make_nonce(const hs_record_cipher *c, const uint8_t seq[8], const uint8_t *explicit,
                       uint8_t nonce[CRYPTO_AEAD_NONCE_LEN])
{
    if (c->suite->explicit_nonce_len) {
        /* RFC 5288 §3 / RFC 6655 §3: salt(4) + explicit nonce(8). */
        memcpy(nonce, c->iv, 4);
        memcpy(nonce + 4, explicit, 8);
    } else {
        /* RFC 7905 §2: the IV XOR the left-padded sequence number. */
        memcpy(nonce, c->iv, CRYPTO_AEAD_NONCE_LEN);
        for (int i = 0; i < 8; i++)
            nonce[4 + i] ^= seq[i];
    }
}

static void make_aad(const uint8_t seq[8], uint8_t type, uint16_t version, size_t len,
                     uint8_t aad[13])
{
    memcpy(aad, seq, 8);
    aad[8] = type;
    aad[9] = (uint8_t)(version >> 8);
    aad[10] = (uint8_t)version;
    aad[11] = (uint8_t)(len >> 8);
    aad[12] = (uint8_t)len;
}

int hs_protect_seal(const hs_record_cipher *c, uint64_t seq_num, uint8_t type, uint16_t version,
                    uint8_t *fragment, size_t len)
{
    if (!c || !c->suite)
        return 0;
    uint8_t seq[8], nonce[CRYPTO_AEAD_NONCE_LEN], aad[13];
    size_t expl = c->suite->explicit_nonce_len;
    write_u64(seq, seq_num);
    /* The explicit nonce is the sequence number: unique per key. */
    memcpy(fragment, seq, expl);
    make_nonce(c, seq, seq, nonce);
    make_aad(seq, type, version, len, aad);
    return crypto_aead_seal(c->key, nonce, aad, sizeof(aad), fragment + expl, len);
}

int hs_protect_open(const hs_record_cipher *c, uint64_t seq_num, uint8_t type, uint16_t version,
                    uint8_t *fragment, size_t frag_len, uint8_t **plain, size_t *plain_len)
{
    if (!c || !c->suite) {
        *plain = fragment;
        *plain_len = frag_len;
        return 0;
    }
    size_t expl = c->suite->explicit_nonce_len, tag = c->suite->tag_len;
    if (frag_len < expl + tag)
        return PETREL_ERR_TRUNCATED;
    size_t len = frag_len - expl - tag;
    uint8_t seq[8], nonce[CRYPTO_AEAD_NONCE_LEN], aad[13];
    write_u64(seq, seq_num);
    make_nonce(c, seq, fragment, nonce);
    make_aad(seq, type, version, len, aad);
    PETREL_TRY(crypto_aead_open(c->key, nonce, aad, sizeof(aad), fragment + expl, len + tag));
    *plain = fragment + expl;
    *plain_len = len;
    return 0;
}
