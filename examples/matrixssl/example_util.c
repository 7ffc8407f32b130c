/* Helpers the MatrixSSL example client and server share. */
#define _POSIX_C_SOURCE 200809L
#include "example_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *cn_of(const x509DNattributes_t *dn)
{
    return dn->commonName ? dn->commonName : "(none)";
}

long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int parse_hex(const char *hex, unsigned char *out, size_t max, size_t *len)
{
    size_t n = strlen(hex);
    if (n == 0 || n % 2 || n / 2 > max)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        char pair[3] = {hex[2 * i], hex[2 * i + 1], 0};
        char *end;
        unsigned long v = strtoul(pair, &end, 16);
        if (*end)
            return -1;
        out[i] = (unsigned char)v;
    }
    *len = n / 2;
    return 0;
}

/* Prints bytes as a C string literal's contents. */
void print_text(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n')
            fputs("\\n", stdout);
        else if (p[i] == '\r')
            fputs("\\r", stdout);
        else if (p[i] == '"' || p[i] == '\\')
            printf("\\%c", p[i]);
        else if (p[i] >= 0x20 && p[i] < 0x7f)
            putchar(p[i]);
        else
            printf("\\x%02x", p[i]);
    }
}

const char *ps_name(int32 rc)
{
    switch (rc) {
    case PS_SUCCESS:
        return "PS_SUCCESS";
    case PS_FAILURE:
        return "PS_FAILURE";
    case PS_ARG_FAIL:
        return "PS_ARG_FAIL";
    case PS_PLATFORM_FAIL:
        return "PS_PLATFORM_FAIL";
    case PS_MEM_FAIL:
        return "PS_MEM_FAIL";
    case PS_LIMIT_FAIL:
        return "PS_LIMIT_FAIL";
    case PS_UNSUPPORTED_FAIL:
        return "PS_UNSUPPORTED_FAIL";
    case PS_DISABLED_FEATURE_FAIL:
        return "PS_DISABLED_FEATURE_FAIL";
    case PS_PROTOCOL_FAIL:
        return "PS_PROTOCOL_FAIL";
    case PS_TIMEOUT_FAIL:
        return "PS_TIMEOUT_FAIL";
    case PS_INTERRUPT_FAIL:
        return "PS_INTERRUPT_FAIL";
    case PS_PENDING:
        return "PS_PENDING";
    case PS_EAGAIN:
        return "PS_EAGAIN";
    case PS_PARSE_FAIL:
        return "PS_PARSE_FAIL";
    case PS_CERT_AUTH_FAIL_BC:
        return "PS_CERT_AUTH_FAIL_BC";
    case PS_CERT_AUTH_FAIL_DN:
        return "PS_CERT_AUTH_FAIL_DN";
    case PS_CERT_AUTH_FAIL_SIG:
        return "PS_CERT_AUTH_FAIL_SIG";
    case PS_CERT_AUTH_FAIL:
        return "PS_CERT_AUTH_FAIL";
    case PS_CERT_AUTH_FAIL_EXTENSION:
        return "PS_CERT_AUTH_FAIL_EXTENSION";
    default:
        return "unknown code";
    }
}
