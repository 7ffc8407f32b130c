/*
 * petrel: a DTLS-first datagram security library.
 *
 * This is the one public header of the native API. It includes the topic
 * headers (errors, platform hooks) and declares the library-wide calls.
 * Every function that returns int follows petrel/error.h: 0 or a positive
 * status on success, a negative PETREL_ERR_* code on failure.
 */
#ifndef PETREL_PETREL_H
#define PETREL_PETREL_H

#include <petrel/error.h>
#include <petrel/platform.h>
#include <petrel/version.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <petrel/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version string ("0.1.0"), which may differ from the
 * PETREL_VERSION the caller was compiled against. */
PETREL_API const char *petrel_version(void);

/* A one-line description of the crypto backend petrel was built with,
 * including the backend library's own version ("OpenSSL 3.0.19 ..."). */
PETREL_API const char *petrel_crypto_backend(void);

/* Called once per self-test check with the check's name ("HMAC-SHA256
 * RFC 4231 #2") and its result (0 or a negative PETREL_ERR_* code). */
typedef void (*petrel_selftest_report_fn)(void *ref, const char *check, int result);

/*
 * Runs the crypto backend's known-answer self-test: one published vector
 * for every primitive petrel uses (AEADs, hashes, HMAC, the TLS 1.2 PRF,
 * HKDF, X25519, P-256 ECDH), plus a sign/verify round trip for ECDSA.
 * `report` may be NULL. Returns 0 when every check passes, otherwise the
 * error of the first check that failed (all checks still run).
 */
PETREL_API int petrel_crypto_selftest(petrel_selftest_report_fn report, void *ref);

#ifdef __cplusplus
}
#endif
#endif
