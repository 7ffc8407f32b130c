/*
 * What the MatrixSSL example client and server share (examples/matrixssl):
 * a monotonic clock, PS_* names, hex parsing and printing. Plain C and the
 * seed API only.
 */
#ifndef MSSL_EXAMPLE_UTIL_H
#define MSSL_EXAMPLE_UTIL_H

#include <stddef.h>

#include "matrixsslApi.h"

/* Monotonic milliseconds. */
long now_ms(void);
/* The name of a PS_* code ("PS_ARG_FAIL"), or "unknown code". */
const char *ps_name(int32 rc);
/* Parses an even number of hex digits into out (at most max bytes);
 * 0, or -1 for anything else. */
int parse_hex(const char *hex, unsigned char *out, size_t max, size_t *len);
/* Prints bytes as the contents of a C string literal. */
void print_text(const unsigned char *p, size_t n);
/* A distinguished name's common name, or "(none)". */
const char *cn_of(const x509DNattributes_t *dn);

#endif
