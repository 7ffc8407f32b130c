/* Small helpers shared by every module: result checking, array sizes, and
 * calls through the platform hooks. */
#ifndef PETREL_COMMON_UTIL_H
#define PETREL_COMMON_UTIL_H

#include <stddef.h>

#include <petrel/error.h>
#include <petrel/platform.h>

/* A result that must not be ignored: an unchecked error is a compile error
 * under -Werror. */
#if defined(__GNUC__) || defined(__clang__)
#define PETREL_MUST_CHECK        __attribute__((warn_unused_result))
#define PETREL_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define PETREL_MUST_CHECK
#define PETREL_PRINTF(fmt, args)
#endif

#define PETREL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Propagates a negative result. Only for plain `return` paths: no hidden
 * cleanup, no labels. */
#define PETREL_TRY(expr)             \
    do {                             \
        int petrel_try_rc_ = (expr); \
        if (petrel_try_rc_ < 0)      \
            return petrel_try_rc_;   \
    } while (0)

/* Allocation through the platform hooks. size 0 is treated as 1. */
void *platform_alloc(const petrel_platform *p, size_t size);
void *platform_calloc(const petrel_platform *p, size_t count, size_t size);
/* Like the C library realloc, through the hook; on NULL, ptr is intact. */
void *platform_realloc(const petrel_platform *p, void *ptr, size_t size);
void platform_free(const petrel_platform *p, void *ptr);
/* Grows *buf (capacity *cap) to hold at least need bytes, doubling from
 * first (or the current capacity); the contents are kept. On failure
 * (PETREL_ERR_NOMEM) *buf and *cap are untouched. */
PETREL_MUST_CHECK int platform_buffer_reserve(const petrel_platform *p, uint8_t **buf, size_t *cap,
                                              size_t need, size_t first);
/* Zeroes len bytes at ptr before freeing (for secrets). */
void platform_free_secret(const petrel_platform *p, void *ptr, size_t len);
uint64_t platform_now_ms(const petrel_platform *p);
/* Wall-clock seconds since the Unix epoch (certificate validity only). */
int64_t platform_time_s(const petrel_platform *p);
PETREL_MUST_CHECK int platform_random(const petrel_platform *p, void *buf, size_t len);

/* Formats and passes one line to the log hook when level is at or below
 * the platform's threshold; nothing is formatted otherwise. Lines longer
 * than 511 bytes are cut. */
void platform_log(const petrel_platform *p, petrel_log_level level, const char *fmt, ...)
    PETREL_PRINTF(3, 4);

/* Zeroes memory in a way the compiler may not remove. */
void petrel_wipe(void *ptr, size_t len);

#endif
