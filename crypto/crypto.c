/* Provider selection and the helpers built on any provider. */
#include "crypto/provider.h"

#include <string.h>

#include "common/cursor.h"

#ifdef PETREL_CRYPTO_BACKEND_OPENSSL
extern const crypto_provider crypto_provider_openssl;
#endif

const crypto_provider *crypto_default_provider(void)
{
#ifdef PETREL_CRYPTO_BACKEND_OPENSSL
    return &crypto_provider_openssl;
#else
#error "no crypto backend selected"
#endif
}

/* The default RNG platform hook is the provider's DRBG (petrel/platform.h). */
int petrel_default_rng(void *ref, uint8_t *buf, size_t len)
{
    (void)ref;
    if (len == 0)
        return 0;
    return crypto_default_provider()->random(buf, len);
}

int crypto_hash_digest(const crypto_hash_alg *alg, const uint8_t *data, size_t len, uint8_t *out)
{
    crypto_hash_ctx *ctx;
    PETREL_TRY(alg->ctx_new(alg, &ctx));
    int rc = alg->update(ctx, data, len);
    if (rc == 0)
        rc = alg->final(ctx, out);
    alg->ctx_free(ctx);
    return rc;
}

int crypto_hash_peek(const crypto_hash_ctx *ctx, uint8_t *out)
{
    crypto_hash_ctx *copy;
    PETREL_TRY(ctx->alg->copy(ctx, &copy));
    int rc = copy->alg->final(copy, out);
    copy->alg->ctx_free(copy);
    return rc;
}

int crypto_hkdf_expand_label(const crypto_provider *prov, crypto_hash_id hash,
                             const uint8_t *secret, size_t secret_len, const char *prefix,
                             const char *label, const uint8_t *context, size_t context_len,
                             uint8_t *out, size_t out_len)
{
    /* HkdfLabel is at most 2 + 1 + 255 + 1 + 255 bytes. */
    uint8_t info[2 + 1 + 255 + 1 + 255];
    cursor_writer w = cursor_writer_init(info, sizeof(info));
    cursor_vector vec;
    size_t prefix_len = strlen(prefix), label_len = strlen(label);

    if (out_len > UINT16_MAX)
        return PETREL_ERR_ARG;
    PETREL_TRY(cursor_write_u16(&w, (uint16_t)out_len));
    PETREL_TRY(cursor_vector_open(&w, 1, &vec));
    PETREL_TRY(cursor_write_bytes(&w, prefix, prefix_len));
    PETREL_TRY(cursor_write_bytes(&w, label, label_len));
    PETREL_TRY(cursor_vector_close(&w, &vec, 7, 255));
    PETREL_TRY(cursor_write_vector(&w, 1, 0, 255, context, context_len));
    return prov->hkdf_expand(hash, secret, secret_len, info, w.len, out, out_len);
}
