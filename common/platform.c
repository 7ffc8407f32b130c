/* Default platform hooks and the calls every module makes through them.
 * This is the one file in petrel that calls malloc, reads the system clock
 * or writes to stderr. The default RNG hook, petrel_default_rng, lives in
 * crypto/crypto.c because it is the crypto provider's DRBG and common/
 * depends on nothing. */
#define _POSIX_C_SOURCE 200809L
#include "common/util.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void *petrel_default_alloc(void *ref, size_t size)
{
    (void)ref;
    return malloc(size);
}

void *petrel_default_realloc(void *ref, void *ptr, size_t size)
{
    (void)ref;
    return realloc(ptr, size);
}

void petrel_default_free(void *ref, void *ptr)
{
    (void)ref;
    free(ptr);
}

uint64_t petrel_default_clock_ms(void *ref)
{
    (void)ref;
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t petrel_default_time_s(void *ref)
{
    (void)ref;
    return (int64_t)time(NULL);
}

const char *petrel_log_level_name(petrel_log_level level)
{
    switch (level) {
    case PETREL_LOG_NONE:
        return "none";
    case PETREL_LOG_ERROR:
        return "error";
    case PETREL_LOG_WARNING:
        return "warning";
    case PETREL_LOG_INFO:
        return "info";
    case PETREL_LOG_DEBUG:
        return "debug";
    }
    return "unknown";
}

void petrel_default_log(void *ref, petrel_log_level level, const char *msg)
{
    (void)ref;
    fprintf(stderr, "petrel: %s: %s\n", petrel_log_level_name(level), msg);
}

petrel_platform petrel_platform_default(void)
{
    petrel_platform p = {
        .alloc = petrel_default_alloc,
        .realloc = petrel_default_realloc,
        .free = petrel_default_free,
        .clock_ms = petrel_default_clock_ms,
        .rng = petrel_default_rng,
        .time_s = petrel_default_time_s,
        .log = petrel_default_log,
        .log_level = PETREL_LOG_WARNING,
    };
    return p;
}

void *platform_alloc(const petrel_platform *p, size_t size)
{
    return p->alloc(p->alloc_ref, size ? size : 1);
}

void *platform_calloc(const petrel_platform *p, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    size_t total = count * size;
    void *ptr = platform_alloc(p, total);
    if (ptr)
        memset(ptr, 0, total ? total : 1);
    return ptr;
}

void *platform_realloc(const petrel_platform *p, void *ptr, size_t size)
{
    return p->realloc(p->alloc_ref, ptr, size ? size : 1);
}

int platform_buffer_reserve(const petrel_platform *p, uint8_t **buf, size_t *cap, size_t need,
                            size_t first)
{
    if (need <= *cap)
        return 0;
    size_t grown_cap = *cap ? *cap : first;
    while (grown_cap < need)
        grown_cap *= 2;
    uint8_t *grown = platform_realloc(p, *buf, grown_cap);
    if (!grown)
        return PETREL_ERR_NOMEM;
    *buf = grown;
    *cap = grown_cap;
    return 0;
}

void platform_free(const petrel_platform *p, void *ptr)
{
    if (ptr)
        p->free(p->alloc_ref, ptr);
}

void platform_free_secret(const petrel_platform *p, void *ptr, size_t len)
{
    if (!ptr)
        return;
    petrel_wipe(ptr, len);
    p->free(p->alloc_ref, ptr);
}

uint64_t platform_now_ms(const petrel_platform *p)
{
    return p->clock_ms(p->clock_ref);
}

int64_t platform_time_s(const petrel_platform *p)
{
    /* A platform filled in by hand before the hook existed has NULL here. */
    return p->time_s ? p->time_s(p->time_ref) : petrel_default_time_s(NULL);
}

int platform_random(const petrel_platform *p, void *buf, size_t len)
{
    if (len == 0)
        return 0;
    return p->rng(p->rng_ref, buf, len) < 0 ? PETREL_ERR_RNG : 0;
}

void platform_log(const petrel_platform *p, petrel_log_level level, const char *fmt, ...)
{
    if (!p->log || level == PETREL_LOG_NONE || level > p->log_level)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    p->log(p->log_ref, level, line);
}

void petrel_wipe(void *ptr, size_t len)
{
    /* A volatile function pointer keeps the compiler from proving the
     * stores dead and removing them. */
    static void *(*const volatile wipe_memset)(void *, int, size_t) = memset;
    if (ptr && len)
        wipe_memset(ptr, 0, len);
}
