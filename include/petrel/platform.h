/*
 * petrel platform hooks: memory, time, randomness and logging.
 *
 * The engine reads no clock, draws no random byte, allocates no memory and
 * prints nothing except through these hooks, so that a test can run whole
 * handshakes on a virtual clock with a seeded RNG, and an embedded user can
 * bring their own heap. As in SSLRef, every hook takes a reference parameter
 * (`ref`) that petrel stores next to the function pointer and passes back
 * unchanged; petrel never dereferences it, so it need not be a pointer.
 *
 * Fill a petrel_platform with petrel_platform_default() and change only the
 * hooks you need. A platform struct is copied by value into whatever uses
 * it; hooks may be called from any thread that uses that object, so they
 * MUST be thread-safe if the object is shared between threads.
 */
#ifndef PETREL_PLATFORM_H
#define PETREL_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include <petrel/export.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum petrel_log_level {
    PETREL_LOG_NONE = 0, /* as a threshold: log nothing */
    PETREL_LOG_ERROR = 1,
    PETREL_LOG_WARNING = 2,
    PETREL_LOG_INFO = 3,
    PETREL_LOG_DEBUG = 4,
} petrel_log_level;

/* Returns `size` bytes aligned for any object, or NULL. size is never 0. */
typedef void *(*petrel_alloc_fn)(void *ref, size_t size);
/* As realloc(3); ptr may be NULL; size is never 0. On NULL, ptr is intact. */
typedef void *(*petrel_realloc_fn)(void *ref, void *ptr, size_t size);
/* Releases ptr from alloc/realloc; ptr may be NULL. */
typedef void (*petrel_free_fn)(void *ref, void *ptr);
/* Milliseconds on a monotonic clock with an arbitrary origin: it MUST NOT go
 * backwards. Wall-clock time is not suitable. */
typedef uint64_t (*petrel_clock_fn)(void *ref);
/* Fills buf with len cryptographically secure random bytes (len may be 0);
 * returns 0, or a negative value when no randomness is available. */
typedef int (*petrel_rng_fn)(void *ref, uint8_t *buf, size_t len);
/* Wall-clock time in seconds since the Unix epoch (UTC). Used only to
 * check certificate validity periods; the default is time(2). */
typedef int64_t (*petrel_time_fn)(void *ref);
/* Receives one log line without a trailing newline. `msg` is valid only
 * during the call. */
typedef void (*petrel_log_fn)(void *ref, petrel_log_level level, const char *msg);

typedef struct petrel_platform {
    petrel_alloc_fn alloc;
    petrel_realloc_fn realloc;
    petrel_free_fn free;
    void *alloc_ref;

    petrel_clock_fn clock_ms;
    void *clock_ref;

    petrel_rng_fn rng;
    void *rng_ref;

    petrel_time_fn time_s;
    void *time_ref;

    petrel_log_fn log;
    void *log_ref;
    /* Messages above this level are not formatted at all. */
    petrel_log_level log_level;
} petrel_platform;

/* The defaults: malloc/realloc/free, CLOCK_MONOTONIC, the crypto
 * provider's DRBG, time(2), and a logger that writes "petrel: <level>: <msg>" lines
 * to stderr at PETREL_LOG_WARNING and above. */
PETREL_API petrel_platform petrel_platform_default(void);

/* The default hooks, for wrapping (for example a counting allocator that
 * forwards to the default one). */
PETREL_API void *petrel_default_alloc(void *ref, size_t size);
PETREL_API void *petrel_default_realloc(void *ref, void *ptr, size_t size);
PETREL_API void petrel_default_free(void *ref, void *ptr);
PETREL_API uint64_t petrel_default_clock_ms(void *ref);
PETREL_API int64_t petrel_default_time_s(void *ref);
PETREL_API int petrel_default_rng(void *ref, uint8_t *buf, size_t len);
PETREL_API void petrel_default_log(void *ref, petrel_log_level level, const char *msg);

/* "error", "warning", "info", "debug" ("none" for PETREL_LOG_NONE). */
PETREL_API const char *petrel_log_level_name(petrel_log_level level);

#ifdef __cplusplus
}
#endif
#endif
