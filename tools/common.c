#define _POSIX_C_SOURCE 200809L
/* What the petrel tool's subcommands share: option parsing and setup. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handshake/suites.h"
#include "tools/tool.h"

static void log_to_stderr(void *ref, petrel_log_level level, const char *msg)
{
    (void)ref;
    fprintf(stderr, "petrel: %s: %s\n", petrel_log_level_name(level), msg);
}

petrel_platform tool_platform(int verbose)
{
    petrel_platform p = petrel_platform_default();
    p.log = log_to_stderr;
    p.log_level = verbose >= 2 ? PETREL_LOG_DEBUG : verbose ? PETREL_LOG_INFO : PETREL_LOG_WARNING;
    return p;
}

int tool_fail(const char *cmd, const char *what, int error)
{
    if (error)
        fprintf(stderr, "petrel %s: %s: %s (%s)\n", cmd, what, petrel_strerror(error),
                petrel_error_name(error));
    else
        fprintf(stderr, "petrel %s: %s\n", cmd, what);
    return 1;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int parse_hex(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(hex);
    if (n >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) {
        hex += 2;
        n -= 2;
    }
    if (n == 0 || n % 2 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = n / 2;
    return 0;
}

/* A suite by IANA name ("TLS_PSK_WITH_AES_128_CCM_8") or hex id
 * ("0xC0A8"). */
static int parse_suite(const char *text, uint16_t *out)
{
    static const uint16_t known[] = {0xC0A8, 0xC0A4, 0x00A8, 0x00A9, 0xCCAB, 0xCCAC, 0xC0AE,
                                     0xC0AC, 0xC02B, 0xC02C, 0xCCA9, 0xC02F, 0xC030, 0xCCA8};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        const hs_suite *s = hs_suite_find(known[i]);
        if (s && strcmp(s->name, text) == 0) {
            *out = s->id;
            return 0;
        }
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 16);
    if (errno || *end || end == text || v > 0xffff)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

static const char *need_value(const char *cmd, int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "petrel %s: %s needs a value\n", cmd, argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

static int parse_uint(const char *cmd, const char *opt, const char *text, unsigned long max,
                      unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || *end || end == text || v > max) {
        fprintf(stderr, "petrel %s: %s: '%s' is not a number up to %lu\n", cmd, opt, text, max);
        return -1;
    }
    *out = v;
    return 0;
}

void tool_tls_options_init(tool_tls_options *o)
{
    memset(o, 0, sizeof(*o));
    o->verify = -1;
}

/* An option that only means something for datagrams: remembered for the
 * usage error tool_check_transport gives with --tls. */
static void note_datagram_only(tool_tls_options *o, const char *opt)
{
    if (!o->datagram_only)
        o->datagram_only = opt;
}

/* Options that take a file or a word and store it as given. */
static int parse_cert_option(const char *cmd, int argc, char **argv, int *i, tool_tls_options *o)
{
    const char *opt = argv[*i];
    const char **slot = NULL;
    if (strcmp(opt, "--cert") == 0)
        slot = &o->cert;
    else if (strcmp(opt, "--key") == 0)
        slot = &o->key;
    else if (strcmp(opt, "--pass") == 0)
        slot = &o->password;
    else if (strcmp(opt, "--ca") == 0)
        slot = &o->ca;
    else if (strcmp(opt, "--capath") == 0)
        slot = &o->capath;
    else if (strcmp(opt, "--servername") == 0)
        slot = &o->servername;
    if (slot) {
        const char *v = need_value(cmd, argc, argv, i);
        if (!v)
            return -1;
        *slot = v;
        return 1;
    }
    if (strcmp(opt, "--rpk") == 0) {
        o->rpk = true;
        return 1;
    }
    if (strcmp(opt, "--peer-key") == 0) {
        const char *v = need_value(cmd, argc, argv, i);
        if (!v)
            return -1;
        if (o->peer_key_count == sizeof(o->peer_keys) / sizeof(o->peer_keys[0])) {
            fprintf(stderr, "petrel %s: at most 8 --peer-key files\n", cmd);
            return -1;
        }
        o->peer_keys[o->peer_key_count++] = v;
        return 1;
    }
    if (strcmp(opt, "--verify") == 0) {
        const char *v = need_value(cmd, argc, argv, i);
        if (!v)
            return -1;
        if (strcmp(v, "none") == 0)
            o->verify = PETREL_VERIFY_NONE;
        else if (strcmp(v, "optional") == 0)
            o->verify = PETREL_VERIFY_OPTIONAL;
        else if (strcmp(v, "require") == 0)
            o->verify = PETREL_VERIFY_REQUIRE;
        else {
            fprintf(stderr, "petrel %s: --verify takes none, optional or require, not '%s'\n", cmd,
                    v);
            return -1;
        }
        return 1;
    }
    return 0;
}

int tool_parse_tls_option(const char *cmd, int argc, char **argv, int *i, tool_tls_options *o)
{
    const char *opt = argv[*i];
    const char *v;
    unsigned long n;
    if (strcmp(opt, "--dtls") == 0) {
        o->tls = false;
        return 1;
    }
    if (strcmp(opt, "--tls") == 0) {
        o->tls = true;
        return 1;
    }
    int cert = parse_cert_option(cmd, argc, argv, i, o);
    if (cert != 0)
        return cert;
    if (strcmp(opt, "-v") == 0 || strcmp(opt, "--verbose") == 0) {
        o->verbose++;
        return 1;
    }
    if (strcmp(opt, "-vv") == 0) {
        o->verbose += 2;
        return 1;
    }
    if (strcmp(opt, "--psk-identity") == 0) {
        if (!(v = need_value(cmd, argc, argv, i)))
            return -1;
        o->psk_identity = v;
        return 1;
    }
    if (strcmp(opt, "--psk") == 0) {
        if (!(v = need_value(cmd, argc, argv, i)))
            return -1;
        if (parse_hex(v, o->psk, sizeof(o->psk), &o->psk_len) < 0) {
            fprintf(stderr, "petrel %s: --psk takes 1 to 256 bytes in hex, not '%s'\n", cmd, v);
            return -1;
        }
        return 1;
    }
    if (strcmp(opt, "--psk-hint") == 0) {
        if (!(v = need_value(cmd, argc, argv, i)))
            return -1;
        o->psk_hint = v;
        return 1;
    }
    if (strcmp(opt, "--suites") == 0 || strcmp(opt, "--cipher") == 0) {
        if (!(v = need_value(cmd, argc, argv, i)))
            return -1;
        char list[512];
        snprintf(list, sizeof(list), "%s", v);
        o->suite_count = 0;
        for (char *save = NULL, *t = strtok_r(list, ",:", &save); t;
             t = strtok_r(NULL, ",:", &save)) {
            if (o->suite_count == 16 || parse_suite(t, &o->suites[o->suite_count]) < 0) {
                fprintf(stderr, "petrel %s: unknown cipher suite '%s'\n", cmd, t);
                return -1;
            }
            o->suite_count++;
        }
        return 1;
    }
    if (strcmp(opt, "--mtu") == 0) {
        if (!(v = need_value(cmd, argc, argv, i)) || parse_uint(cmd, opt, v, 65535, &n) < 0)
            return -1;
        o->mtu = n;
        note_datagram_only(o, opt);
        return 1;
    }
    if (strcmp(opt, "--lossy-link") == 0) {
        if (!(v = need_value(cmd, argc, argv, i)) || parse_uint(cmd, opt, v, 60000, &n) < 0)
            return -1;
        o->lossy_link = true;
        o->rtt_hint_ms = (uint32_t)n;
        note_datagram_only(o, opt);
        return 1;
    }
    if (strcmp(opt, "--timer") == 0) {
        if (!(v = need_value(cmd, argc, argv, i)) || parse_uint(cmd, opt, v, 600000, &n) < 0)
            return -1;
        o->initial_timer_ms = (uint32_t)n;
        note_datagram_only(o, opt);
        return 1;
    }
    if (strcmp(opt, "--max-timer") == 0) {
        if (!(v = need_value(cmd, argc, argv, i)) || parse_uint(cmd, opt, v, 600000, &n) < 0)
            return -1;
        o->max_timer_ms = (uint32_t)n;
        note_datagram_only(o, opt);
        return 1;
    }
    return 0;
}

int tool_check_transport(const char *cmd, const tool_tls_options *o)
{
    if (o->tls && o->datagram_only) {
        fprintf(stderr,
                "petrel %s: %s is a DTLS option: TLS over TCP has no datagrams to size and "
                "no retransmission timers (drop it, or use --dtls)\n",
                cmd, o->datagram_only);
        return -1;
    }
    return 0;
}

const char *tool_protocol_name(const petrel_conn *conn)
{
    switch (petrel_protocol_version(conn)) {
    case 0x0303:
        return "TLS 1.2";
    case 0xfefd:
        return "DTLS 1.2";
    default:
        return petrel_conn_mode(conn) == PETREL_STREAM ? "TLS" : "DTLS";
    }
}

int tool_read_file(const char *cmd, const char *path, size_t max, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    bool failed = false;
    if (!f) {
        fprintf(stderr, "petrel %s: cannot open '%s': %s\n", cmd, path, strerror(errno));
        return -1;
    }
    /* One byte of room beyond max tells a file of max bytes from a larger
     * one. */
    while (n <= max) {
        if (n == cap) {
            size_t grow = cap ? cap * 2 : 65536;
            if (grow > max + 1)
                grow = max + 1;
            uint8_t *bigger = realloc(buf, grow);
            if (!bigger) {
                failed = true;
                break;
            }
            buf = bigger;
            cap = grow;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    failed = failed || ferror(f);
    fclose(f);
    if (failed || n > max) {
        if (n > max)
            fprintf(stderr, "petrel %s: '%s' is larger than %zu bytes\n", cmd, path, max);
        else
            fprintf(stderr, "petrel %s: cannot read '%s'\n", cmd, path);
        free(buf);
        return -1;
    }
    *data = buf;
    *len = n;
    return 0;
}

petrel_config *tool_make_config(const char *cmd, const tool_tls_options *o)
{
    petrel_platform platform = tool_platform(o->verbose);
    petrel_config *cfg = petrel_config_new(&platform);
    int rc = 0;
    if (!cfg) {
        tool_fail(cmd, "cannot create a configuration", PETREL_ERR_NOMEM);
        return NULL;
    }
    bool certs = o->cert || o->key || o->ca || o->capath || o->verify >= 0 || o->rpk;
    if ((!o->psk_identity || !o->psk_len) && !certs) {
        tool_fail(cmd,
                  "credentials needed: --psk-identity ID and --psk HEX, or certificates "
                  "(--cert/--key, --ca/--capath, --verify none, --rpk)",
                  0);
        petrel_config_free(cfg);
        return NULL;
    }
    if ((o->psk_identity != NULL) != (o->psk_len != 0)) {
        tool_fail(cmd, "--psk-identity and --psk go together", 0);
        petrel_config_free(cfg);
        return NULL;
    }
    /* petrel keeps identities and hints of up to 128 bytes (RFC 4279
     * allows more; RFC 7925 devices use far less). */
    if ((o->psk_identity && strlen(o->psk_identity) > 128) ||
        (o->psk_hint && strlen(o->psk_hint) > 128)) {
        tool_fail(cmd, "--psk-identity and --psk-hint take at most 128 bytes", 0);
        petrel_config_free(cfg);
        return NULL;
    }
    const char *what = "invalid configuration";
    if (o->psk_identity)
        rc = petrel_config_set_psk(cfg, (const uint8_t *)o->psk_identity, strlen(o->psk_identity),
                                   o->psk, o->psk_len);
    if (rc == 0 && o->cert && (rc = petrel_config_load_cert_chain_file(cfg, o->cert)) < 0)
        what = "--cert";
    if (rc == 0 && o->key && (rc = petrel_config_load_key_file(cfg, o->key, o->password)) < 0)
        what = "--key";
    if (rc == 0 && o->ca && (rc = petrel_config_load_ca_file(cfg, o->ca)) < 0)
        what = "--ca";
    if (rc == 0 && o->capath && (rc = petrel_config_load_ca_dir(cfg, o->capath)) < 0)
        what = "--capath";
    if (rc == 0 && o->verify >= 0 &&
        (rc = petrel_config_set_verify(cfg, (petrel_verify_mode)o->verify, 0)) < 0)
        what = "--verify";
    if (rc == 0 && o->rpk)
        rc = petrel_config_set_raw_public_keys(cfg, true);
    for (size_t k = 0; rc == 0 && k < o->peer_key_count; k++) {
        if ((rc = petrel_config_add_pinned_key_file(cfg, o->peer_keys[k])) < 0)
            what = "--peer-key";
    }
    if (rc == 0 && o->servername && (rc = petrel_config_set_server_name(cfg, o->servername)) < 0)
        what = "--servername";
    if (rc == 0 && o->psk_hint)
        rc = petrel_config_set_psk_hint(cfg, (const uint8_t *)o->psk_hint, strlen(o->psk_hint));
    if (rc == 0 && o->suite_count)
        rc = petrel_config_set_suites(cfg, o->suites, o->suite_count);
    if (rc == 0 && !o->tls && o->mtu)
        rc = petrel_config_set_pmtu(cfg, o->mtu);
    if (rc == 0 && !o->tls && o->lossy_link)
        rc = petrel_config_set_lossy_link_profile(cfg, o->rtt_hint_ms);
    if (rc == 0 && !o->tls && (o->initial_timer_ms || o->max_timer_ms))
        rc = petrel_config_set_timers(cfg, o->initial_timer_ms, o->max_timer_ms, 0, 0);
    if (rc < 0) {
        tool_fail(cmd, what, rc);
        petrel_config_free(cfg);
        return NULL;
    }
    return cfg;
}

int tool_split_hostport(char *spec, char **host, char **port)
{
    char *colon;
    if (spec[0] == '[') {
        char *close = strchr(spec, ']');
        if (!close || close[1] != ':')
            return -1;
        *close = '\0';
        *host = spec + 1;
        *port = close + 2;
        return **port ? 0 : -1;
    }
    colon = strrchr(spec, ':');
    if (!colon)
        return -1;
    *colon = '\0';
    *host = spec;
    *port = colon + 1;
    return **port ? 0 : -1;
}
