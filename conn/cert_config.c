/*
 * Certificates in a config (petrel/cert.h): reading files, handing their
 * contents to the crypto provider, and keeping the results in hs_config.
 * The provider parses; this file only moves bytes and checks that the
 * pieces fit together (the key matches the leaf).
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "conn/conn_types.h"

/* Certificate files, keys and CA bundles larger than this are refused. */
#define CERT_FILE_MAX (16u * 1024 * 1024)
#define PATH_MAX_LEN  4096

static const crypto_provider *prov(const petrel_config *cfg)
{
    return cfg->hs.prov;
}

/* Reads a whole file into memory from the platform allocator. */
static int read_file(const petrel_platform *p, const char *path, uint8_t **out, size_t *len)
{
    if (!path)
        return PETREL_ERR_ARG;
    struct stat st;
    FILE *f = stat(path, &st) == 0 && S_ISREG(st.st_mode) ? fopen(path, "rb") : NULL;
    if (!f) {
        platform_log(p, PETREL_LOG_ERROR, "cannot open %s", path);
        return PETREL_ERR_FILE_NOT_FOUND;
    }
    int rc = 0;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        rc = PETREL_ERR_FILE_NOT_FOUND; /* a directory or an unreadable stream */
    } else if ((unsigned long)size > CERT_FILE_MAX) {
        rc = PETREL_ERR_LIMIT;
    } else {
        /* One spare byte, so an empty file still gets a buffer. */
        uint8_t *buf = platform_alloc(p, (size_t)size + 1);
        if (!buf)
            rc = PETREL_ERR_NOMEM;
        else if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
            platform_free(p, buf);
            rc = PETREL_ERR_FILE_NOT_FOUND;
        } else {
            *out = buf;
            *len = (size_t)size;
        }
    }
    fclose(f);
    if (rc == PETREL_ERR_FILE_NOT_FOUND)
        platform_log(p, PETREL_LOG_ERROR, "cannot read %s", path);
    return rc;
}

/* A loader of file contents (one of the _mem calls, adapted). */
typedef int (*mem_loader)(petrel_config *cfg, const uint8_t *data, size_t len, const void *arg);

/* Reads path and hands its bytes to load; an empty file is empty_error.
 * The buffer is wiped before it is freed (it may hold a private key), and
 * a failure is logged with the file's name. */
static int load_file(petrel_config *cfg, const char *path, mem_loader load, const void *arg,
                     int empty_error)
{
    if (!cfg)
        return PETREL_ERR_ARG;
    uint8_t *data = NULL;
    size_t len = 0;
    PETREL_TRY(read_file(&cfg->platform, path, &data, &len));
    int rc = len ? load(cfg, data, len, arg) : empty_error;
    platform_free_secret(&cfg->platform, data, len);
    if (rc < 0)
        platform_log(&cfg->platform, PETREL_LOG_ERROR, "%s: %s", path, petrel_strerror(rc));
    return rc;
}

/* ---- the own chain ---- */

/* Collects the certificates cert_decode hands out into one buffer. */
typedef struct chain_collector {
    const petrel_platform *platform;
    uint8_t *buf;
    size_t len;
    size_t offsets[HS_MAX_CHAIN + 1];
    size_t count;
} chain_collector;

static int collect_cert(void *ref, const uint8_t *der, size_t len)
{
    chain_collector *c = ref;
    if (c->count == HS_MAX_CHAIN)
        return PETREL_ERR_LIMIT;
    uint8_t *grown = platform_realloc(c->platform, c->buf, c->len + len);
    if (!grown)
        return PETREL_ERR_NOMEM;
    c->buf = grown;
    memcpy(c->buf + c->len, der, len);
    c->offsets[c->count] = c->len;
    c->len += len;
    c->count++;
    c->offsets[c->count] = c->len;
    return 0;
}

/* PETREL_ERR_KEY_CERT_MISMATCH unless key is the public key of leaf. */
static int check_key_matches(const petrel_config *cfg, const uint8_t *leaf, size_t leaf_len,
                             const crypto_pkey *key)
{
    crypto_pkey *leaf_key = NULL;
    PETREL_TRY(prov(cfg)->cert_public_key(leaf, leaf_len, &leaf_key));
    bool same = prov(cfg)->pkey_public_equal(leaf_key, key);
    prov(cfg)->pkey_free(leaf_key);
    if (!same) {
        platform_log(&cfg->platform, PETREL_LOG_ERROR,
                     "the private key does not match the certificate");
        return PETREL_ERR_KEY_CERT_MISMATCH;
    }
    return 0;
}

int petrel_config_load_cert_chain_mem(petrel_config *cfg, const uint8_t *data, size_t len)
{
    if (!cfg || !data || len == 0)
        return PETREL_ERR_ARG;
    chain_collector c = {.platform = &cfg->platform};
    int rc = prov(cfg)->cert_decode(data, len, collect_cert, &c);
    crypto_pkey *leaf_key = NULL;
    /* The leaf's key must be one petrel can sign with. */
    if (rc == 0)
        rc = prov(cfg)->cert_public_key(c.buf, c.offsets[1], &leaf_key);
    if (rc == 0 && cfg->hs.own_key)
        rc = check_key_matches(cfg, c.buf, c.offsets[1], cfg->hs.own_key);
    if (leaf_key)
        prov(cfg)->pkey_free(leaf_key);
    if (rc < 0) {
        if (rc == PETREL_ERR_LIMIT)
            platform_log(&cfg->platform, PETREL_LOG_ERROR,
                         "certificate chain: more than %d certificates", HS_MAX_CHAIN);
        platform_free(&cfg->platform, c.buf);
        return rc;
    }
    platform_free(&cfg->platform, cfg->hs.chain_der);
    cfg->hs.chain_der = c.buf;
    for (size_t i = 0; i < c.count; i++) {
        cfg->hs.own_chain[i] = c.buf + c.offsets[i];
        cfg->hs.own_chain_lens[i] = c.offsets[i + 1] - c.offsets[i];
    }
    cfg->hs.own_chain_count = c.count;
    return 0;
}

static int chain_loader(petrel_config *cfg, const uint8_t *data, size_t len, const void *arg)
{
    (void)arg;
    return petrel_config_load_cert_chain_mem(cfg, data, len);
}

int petrel_config_load_cert_chain_file(petrel_config *cfg, const char *path)
{
    return load_file(cfg, path, chain_loader, NULL, PETREL_ERR_CERT_PARSE);
}

/* ---- the private key ---- */

int petrel_config_load_key_mem(petrel_config *cfg, const uint8_t *data, size_t len,
                               const char *password)
{
    if (!cfg || !data || len == 0)
        return PETREL_ERR_ARG;
    crypto_pkey *key = NULL;
    PETREL_TRY(prov(cfg)->pkey_load_private(data, len, password, &key));
    if (cfg->hs.own_chain_count) {
        int rc = check_key_matches(cfg, cfg->hs.own_chain[0], cfg->hs.own_chain_lens[0], key);
        if (rc < 0) {
            prov(cfg)->pkey_free(key);
            return rc;
        }
    }
    if (cfg->hs.own_key)
        prov(cfg)->pkey_free(cfg->hs.own_key);
    cfg->hs.own_key = key;
    return 0;
}

static int key_loader(petrel_config *cfg, const uint8_t *data, size_t len, const void *password)
{
    return petrel_config_load_key_mem(cfg, data, len, password);
}

int petrel_config_load_key_file(petrel_config *cfg, const char *path, const char *password)
{
    return load_file(cfg, path, key_loader, password, PETREL_ERR_KEY_PARSE);
}

int petrel_config_load_credentials_mem(petrel_config *cfg, const uint8_t *chain, size_t chain_len,
                                       const uint8_t *key, size_t key_len, const char *password)
{
    if (!cfg || !chain || !chain_len || !key || !key_len)
        return PETREL_ERR_ARG;
    /* Load both into an empty slot, then swap them in together. */
    hs_config saved = cfg->hs;
    cfg->hs.chain_der = NULL;
    cfg->hs.own_chain_count = 0;
    cfg->hs.own_key = NULL;
    int rc = petrel_config_load_cert_chain_mem(cfg, chain, chain_len);
    if (rc == 0)
        rc = petrel_config_load_key_mem(cfg, key, key_len, password);
    if (rc < 0) {
        platform_free(&cfg->platform, cfg->hs.chain_der);
        if (cfg->hs.own_key)
            prov(cfg)->pkey_free(cfg->hs.own_key);
        cfg->hs = saved;
        return rc;
    }
    platform_free(&cfg->platform, saved.chain_der);
    if (saved.own_key)
        prov(cfg)->pkey_free(saved.own_key);
    return 0;
}

int petrel_config_load_credentials_file(petrel_config *cfg, const char *chain_path,
                                        const char *key_path, const char *password)
{
    if (!cfg)
        return PETREL_ERR_ARG;
    uint8_t *chain = NULL, *key = NULL;
    size_t chain_len = 0, key_len = 0;
    PETREL_TRY(read_file(&cfg->platform, chain_path, &chain, &chain_len));
    int rc = read_file(&cfg->platform, key_path, &key, &key_len);
    if (rc == 0)
        rc = chain_len && key_len
                 ? petrel_config_load_credentials_mem(cfg, chain, chain_len, key, key_len, password)
                 : PETREL_ERR_CERT_PARSE;
    platform_free(&cfg->platform, chain);
    platform_free_secret(&cfg->platform, key, key_len);
    if (rc < 0)
        platform_log(&cfg->platform, PETREL_LOG_ERROR, "%s / %s: %s", chain_path, key_path,
                     petrel_strerror(rc));
    return rc;
}

/* ---- trusted CAs ---- */

static int add_anchor(void *ref, const uint8_t *der, size_t len)
{
    petrel_config *cfg = ref;
    return prov(cfg)->trust_add(cfg->hs.trust, der, len);
}

static int ensure_trust(petrel_config *cfg)
{
    if (cfg->hs.trust)
        return 0;
    return prov(cfg)->trust_new(&cfg->hs.trust);
}

int petrel_config_load_ca_mem(petrel_config *cfg, const uint8_t *data, size_t len)
{
    if (!cfg || !data || len == 0)
        return PETREL_ERR_ARG;
    PETREL_TRY(ensure_trust(cfg));
    return prov(cfg)->cert_decode(data, len, add_anchor, cfg);
}

static int ca_loader(petrel_config *cfg, const uint8_t *data, size_t len, const void *arg)
{
    (void)arg;
    return petrel_config_load_ca_mem(cfg, data, len);
}

int petrel_config_load_ca_file(petrel_config *cfg, const char *path)
{
    return load_file(cfg, path, ca_loader, NULL, PETREL_ERR_CERT_PARSE);
}

int petrel_config_load_ca_dir(petrel_config *cfg, const char *dir)
{
    if (!cfg || !dir)
        return PETREL_ERR_ARG;
    DIR *d = opendir(dir);
    if (!d) {
        platform_log(&cfg->platform, PETREL_LOG_ERROR, "cannot open CA directory %s", dir);
        return PETREL_ERR_FILE_NOT_FOUND;
    }
    int rc = ensure_trust(cfg);
    size_t loaded = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char path[PATH_MAX_LEN];
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        int n = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof(path) || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        uint8_t *data = NULL;
        size_t len = 0;
        if (read_file(&cfg->platform, path, &data, &len) < 0)
            continue;
        int one = len ? prov(cfg)->cert_decode(data, len, add_anchor, cfg) : PETREL_ERR_CERT_PARSE;
        platform_free(&cfg->platform, data);
        if (one == 0)
            loaded++;
        else if (one == PETREL_ERR_CERT_PARSE)
            platform_log(&cfg->platform, PETREL_LOG_DEBUG, "CA directory: skipped %s", path);
        else
            rc = one;
    }
    closedir(d);
    PETREL_TRY(rc);
    if (loaded == 0) {
        platform_log(&cfg->platform, PETREL_LOG_ERROR, "CA directory %s holds no certificate", dir);
        return PETREL_ERR_CERT_PARSE;
    }
    return 0;
}

/* ---- policy ---- */

int petrel_config_set_verify(petrel_config *cfg, petrel_verify_mode mode, unsigned max_depth)
{
    if (!cfg || (mode != PETREL_VERIFY_NONE && mode != PETREL_VERIFY_OPTIONAL &&
                 mode != PETREL_VERIFY_REQUIRE))
        return PETREL_ERR_ARG;
    if (max_depth == PETREL_VERIFY_DEPTH_ZERO)
        cfg->hs.max_depth = 0;
    else if (max_depth > 100)
        return PETREL_ERR_ARG;
    else if (max_depth)
        cfg->hs.max_depth = max_depth;
    cfg->hs.verify_mode = mode;
    cfg->hs.verify_mode_set = true;
    return 0;
}

int petrel_conn_set_verify(petrel_conn *conn, petrel_verify_mode mode)
{
    if (!conn || (mode != PETREL_VERIFY_NONE && mode != PETREL_VERIFY_OPTIONAL &&
                  mode != PETREL_VERIFY_REQUIRE))
        return PETREL_ERR_ARG;
    /* It decides what the server's first flight holds (CertificateRequest). */
    if (!hs_may_configure(&conn->hs))
        return PETREL_ERR_STATE;
    conn->hs.conn_verify = mode;
    conn->hs.conn_verify_set = true;
    return 0;
}

static int copy_server_name(char *dst, const char *name)
{
    if (!name) {
        dst[0] = '\0';
        return 0;
    }
    size_t n = strlen(name);
    if (n == 0 || n > HS_HOST_NAME_MAX)
        return PETREL_ERR_ARG;
    memcpy(dst, name, n + 1);
    return 0;
}

int petrel_config_set_server_name(petrel_config *cfg, const char *name)
{
    if (!cfg)
        return PETREL_ERR_ARG;
    return copy_server_name(cfg->hs.server_name, name);
}

int petrel_conn_set_server_name(petrel_conn *conn, const char *name)
{
    if (!conn || conn->role != PETREL_CLIENT)
        return PETREL_ERR_ARG;
    if (conn->hs.state != HS_CLIENT_START)
        return PETREL_ERR_STATE;
    return copy_server_name(conn->hs.server_name, name);
}

int petrel_config_set_cert_callback(petrel_config *cfg, petrel_cert_verify_fn fn, void *ref)
{
    if (!cfg)
        return PETREL_ERR_ARG;
    cfg->hs.cert_callback = fn;
    cfg->hs.cert_callback_ref = ref;
    return 0;
}

/* ---- raw public keys ---- */

int petrel_config_set_raw_public_keys(petrel_config *cfg, bool enable)
{
    if (!cfg)
        return PETREL_ERR_ARG;
    cfg->hs.raw_public_keys = enable;
    return 0;
}

int petrel_config_add_pinned_key(petrel_config *cfg, const uint8_t *data, size_t len)
{
    if (!cfg || !data || len == 0)
        return PETREL_ERR_ARG;
    if (cfg->hs.pinned_count == HS_MAX_PINNED_KEYS)
        return PETREL_ERR_LIMIT;
    crypto_pkey *key = NULL;
    PETREL_TRY(prov(cfg)->pkey_load_public(data, len, &key));
    cfg->hs.pinned[cfg->hs.pinned_count++] = key;
    return 0;
}

static int pin_loader(petrel_config *cfg, const uint8_t *data, size_t len, const void *arg)
{
    (void)arg;
    return petrel_config_add_pinned_key(cfg, data, len);
}

int petrel_config_add_pinned_key_file(petrel_config *cfg, const char *path)
{
    return load_file(cfg, path, pin_loader, NULL, PETREL_ERR_KEY_PARSE);
}

void conn_config_free_certs(petrel_config *cfg)
{
    const crypto_provider *pr = prov(cfg);
    platform_free(&cfg->platform, cfg->hs.chain_der);
    cfg->hs.chain_der = NULL;
    cfg->hs.own_chain_count = 0;
    if (cfg->hs.own_key)
        pr->pkey_free(cfg->hs.own_key);
    cfg->hs.own_key = NULL;
    if (cfg->hs.trust)
        pr->trust_free(cfg->hs.trust);
    cfg->hs.trust = NULL;
    for (size_t i = 0; i < cfg->hs.pinned_count; i++)
        pr->pkey_free(cfg->hs.pinned[i]);
    cfg->hs.pinned_count = 0;
}

/* ---- after the handshake ---- */

bool petrel_peer_anonymous(const petrel_conn *conn)
{
    return conn && conn->hs.peer_anonymous;
}

petrel_cert_type petrel_peer_certificate_type(const petrel_conn *conn)
{
    if (!conn || conn->hs.peer_chain_count == 0)
        return PETREL_CERT_TYPE_NONE;
    uint8_t type =
        conn->role == PETREL_CLIENT ? conn->hs.server_cert_type : conn->hs.client_cert_type;
    return type == HS_CERT_TYPE_RAW_PUBLIC_KEY ? PETREL_CERT_TYPE_RAW_PUBLIC_KEY
                                               : PETREL_CERT_TYPE_X509;
}

int petrel_peer_certificate(const petrel_conn *conn, size_t index, const uint8_t **der, size_t *len)
{
    if (!conn || !der || !len || index >= conn->hs.peer_chain_count)
        return PETREL_ERR_ARG;
    const size_t *off = conn->hs.peer_chain_offsets;
    *der = conn->hs.peer_chain_der + off[index];
    *len = off[index + 1] - off[index];
    return 0;
}
