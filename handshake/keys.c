/* The TLS 1.2 key schedule. */
#include "handshake/keys.h"

#include <string.h>

#include "common/cursor.h"
#include "handshake/messages.h"

int hs_psk_premaster(const uint8_t *psk, size_t psk_len, const uint8_t *ecdh, size_t ecdh_len,
                     uint8_t *out, size_t *out_len)
{
    cursor_writer w = cursor_writer_init(out, HS_PREMASTER_MAX);
    if (psk_len == 0 || psk_len > HS_PSK_MAX || ecdh_len > CRYPTO_KEX_MAX_SECRET_LEN)
        return PETREL_ERR_ARG;
    if (ecdh) {
        PETREL_TRY(cursor_write_vector(&w, 2, 1, CRYPTO_KEX_MAX_SECRET_LEN, ecdh, ecdh_len));
    } else {
        PETREL_TRY(cursor_write_u16(&w, (uint16_t)psk_len));
        PETREL_TRY(cursor_write_zeros(&w, psk_len));
    }
    PETREL_TRY(cursor_write_vector(&w, 2, 1, HS_PSK_MAX, psk, psk_len));
    *out_len = w.len;
    return 0;
}

int hs_master_secret(const crypto_provider *prov, const hs_suite *suite, const uint8_t *pre,
                     size_t pre_len, const uint8_t *client_random, const uint8_t *server_random,
                     const uint8_t *session_hash, size_t session_hash_len, uint8_t *master)
{
    if (session_hash)
        return prov->tls12_prf(suite->prf_hash, pre, pre_len, "extended master secret",
                               session_hash, session_hash_len, master, HS_MASTER_SECRET_LEN);
    uint8_t seed[2 * HS_RANDOM_LEN];
    memcpy(seed, client_random, HS_RANDOM_LEN);
    memcpy(seed + HS_RANDOM_LEN, server_random, HS_RANDOM_LEN);
    return prov->tls12_prf(suite->prf_hash, pre, pre_len, "master secret", seed, sizeof(seed),
                           master, HS_MASTER_SECRET_LEN);
}

int hs_key_block(const crypto_provider *prov, const hs_suite *suite, const uint8_t *master,
                 const uint8_t *client_random, const uint8_t *server_random,
                 hs_traffic_keys *client, hs_traffic_keys *server)
{
    uint8_t seed[2 * HS_RANDOM_LEN];
    uint8_t block[2 * (CRYPTO_AEAD_MAX_KEY_LEN + CRYPTO_AEAD_NONCE_LEN)];
    size_t need = 2u * suite->key_len + 2u * suite->fixed_iv_len;
    memcpy(seed, server_random, HS_RANDOM_LEN);
    memcpy(seed + HS_RANDOM_LEN, client_random, HS_RANDOM_LEN);
    PETREL_TRY(prov->tls12_prf(suite->prf_hash, master, HS_MASTER_SECRET_LEN, "key expansion", seed,
                               sizeof(seed), block, need));
    /* RFC 5246 §6.3: client key, server key, client IV, server IV. */
    cursor_reader r = cursor_reader_init(block, need);
    memset(client, 0, sizeof(*client));
    memset(server, 0, sizeof(*server));
    int rc = cursor_read_copy(&r, client->key, suite->key_len);
    if (rc == 0)
        rc = cursor_read_copy(&r, server->key, suite->key_len);
    if (rc == 0)
        rc = cursor_read_copy(&r, client->iv, suite->fixed_iv_len);
    if (rc == 0)
        rc = cursor_read_copy(&r, server->iv, suite->fixed_iv_len);
    petrel_wipe(block, sizeof(block));
    return rc;
}

int hs_finished_verify_data(const crypto_provider *prov, const hs_suite *suite,
                            const uint8_t *master, int from_client, const uint8_t *transcript_hash,
                            size_t hash_len, uint8_t *out)
{
    return prov->tls12_prf(suite->prf_hash, master, HS_MASTER_SECRET_LEN,
                           from_client ? "client finished" : "server finished", transcript_hash,
                           hash_len, out, HS_VERIFY_DATA_LEN);
}
