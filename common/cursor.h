/*
 * Bounds-checked byte cursors: every parse of peer data and every
 * serialisation in petrel goes through these.
 *
 * Rules (each is tested in tests/unit/test_cursor.c):
 *   - Integers are big-endian (network order), as in TLS's presentation
 *     language (RFC 8446 §3.3).
 *   - A read that would go past the end returns PETREL_ERR_TRUNCATED and
 *     leaves the reader exactly as it was; a write that would go past the
 *     capacity returns PETREL_ERR_BUFFER_TOO_SMALL and leaves the writer
 *     exactly as it was. No call reads or writes outside [data, data+len).
 *   - A length-prefixed vector (RFC 8446 §3.4, `opaque x<min..max>`) is
 *     read as a sub-reader limited to the declared length; the caller
 *     parses the sub-reader and then calls cursor_reader_finish() to
 *     require that it was consumed exactly.
 *   - A vector is written by reserving its prefix, writing the body, and
 *     closing it, which fills the prefix in. A close that fails (body out
 *     of bounds) removes the whole vector, prefix included.
 *
 * All functions returning int return 0 or a negative PETREL_ERR_* code.
 */
#ifndef PETREL_COMMON_CURSOR_H
#define PETREL_COMMON_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

typedef struct cursor_reader {
    const uint8_t *data; /* not owned; NULL only when len == 0 */
    size_t len;
    size_t pos; /* invariant: pos <= len */
} cursor_reader;

typedef struct cursor_writer {
    uint8_t *data; /* not owned; NULL only when cap == 0 */
    size_t cap;
    size_t len; /* bytes written; invariant: len <= cap */
} cursor_writer;

/* An open vector in a writer: where its prefix starts and how wide it is. */
typedef struct cursor_vector {
    size_t prefix_pos;
    uint8_t prefix_len;
} cursor_vector;

/* ---- reader ---- */

/* A NULL data gives an empty reader whatever len says. */
cursor_reader cursor_reader_init(const uint8_t *data, size_t len);
bool cursor_reader_valid(const cursor_reader *r);
size_t cursor_reader_remaining(const cursor_reader *r);
/* A view of the unread bytes (valid while the underlying buffer is). */
const uint8_t *cursor_reader_ptr(const cursor_reader *r);

PETREL_MUST_CHECK int cursor_read_u8(cursor_reader *r, uint8_t *out);
PETREL_MUST_CHECK int cursor_read_u16(cursor_reader *r, uint16_t *out);
PETREL_MUST_CHECK int cursor_read_u24(cursor_reader *r, uint32_t *out);
PETREL_MUST_CHECK int cursor_read_u32(cursor_reader *r, uint32_t *out);
PETREL_MUST_CHECK int cursor_read_u48(cursor_reader *r, uint64_t *out);
PETREL_MUST_CHECK int cursor_read_u64(cursor_reader *r, uint64_t *out);

/* Copies n bytes out. */
PETREL_MUST_CHECK int cursor_read_copy(cursor_reader *r, void *dst, size_t n);
/* Points *out at the next n bytes without copying and consumes them. */
PETREL_MUST_CHECK int cursor_read_view(cursor_reader *r, size_t n, const uint8_t **out);
PETREL_MUST_CHECK int cursor_skip(cursor_reader *r, size_t n);

/*
 * Reads a vector with a prefix_len-byte (1, 2 or 3) length prefix whose
 * value must lie in [min, max] and fit in the remaining input. On success
 * *body reads exactly the vector's bytes and r has moved past it. Errors:
 * PETREL_ERR_TRUNCATED (prefix or body past the end), PETREL_ERR_LENGTH
 * (outside [min, max]), PETREL_ERR_ARG (bad prefix_len or min > max).
 */
PETREL_MUST_CHECK int cursor_read_vector(cursor_reader *r, unsigned prefix_len, size_t min,
                                         size_t max, cursor_reader *body);
/* As cursor_read_vector, giving the body as a pointer and length. */
PETREL_MUST_CHECK int cursor_read_vector_view(cursor_reader *r, unsigned prefix_len, size_t min,
                                              size_t max, const uint8_t **out, size_t *out_len);

/* PETREL_ERR_TRAILING_DATA unless r has been consumed exactly. */
PETREL_MUST_CHECK int cursor_reader_finish(const cursor_reader *r);

/* ---- writer ---- */

/* A NULL data gives a writer of capacity 0 whatever cap says. */
cursor_writer cursor_writer_init(uint8_t *data, size_t cap);
bool cursor_writer_valid(const cursor_writer *w);
size_t cursor_writer_space(const cursor_writer *w);

/* Values above the field's width (u24 > 0xFFFFFF, u48 > 2^48-1) give
 * PETREL_ERR_VALUE_RANGE. */
PETREL_MUST_CHECK int cursor_write_u8(cursor_writer *w, uint8_t v);
PETREL_MUST_CHECK int cursor_write_u16(cursor_writer *w, uint16_t v);
PETREL_MUST_CHECK int cursor_write_u24(cursor_writer *w, uint32_t v);
PETREL_MUST_CHECK int cursor_write_u32(cursor_writer *w, uint32_t v);
PETREL_MUST_CHECK int cursor_write_u48(cursor_writer *w, uint64_t v);
PETREL_MUST_CHECK int cursor_write_u64(cursor_writer *w, uint64_t v);
/* src may be NULL when n == 0. src MUST NOT overlap the unwritten space. */
PETREL_MUST_CHECK int cursor_write_bytes(cursor_writer *w, const void *src, size_t n);
/* Writes n zero bytes. */
PETREL_MUST_CHECK int cursor_write_zeros(cursor_writer *w, size_t n);
/* Claims the next n bytes for the caller to fill (in-place encryption,
 * a field computed later); *out points at them. */
PETREL_MUST_CHECK int cursor_write_reserve(cursor_writer *w, size_t n, uint8_t **out);

/* Opens a vector with a prefix_len-byte (1, 2 or 3) length prefix. */
PETREL_MUST_CHECK int cursor_vector_open(cursor_writer *w, unsigned prefix_len, cursor_vector *vec);
/*
 * Closes vec: the bytes written since cursor_vector_open become its body,
 * whose length must lie in [min, max] and fit the prefix. When it does not
 * (PETREL_ERR_LENGTH), or min > max (PETREL_ERR_ARG), the writer is rolled
 * back to where the vector began. A vec that cannot belong to w (its prefix
 * lies beyond w's length) gives PETREL_ERR_ARG and leaves w unchanged.
 */
PETREL_MUST_CHECK int cursor_vector_close(cursor_writer *w, const cursor_vector *vec, size_t min,
                                          size_t max);
/* Writes a complete vector from src in one call. */
PETREL_MUST_CHECK int cursor_write_vector(cursor_writer *w, unsigned prefix_len, size_t min,
                                          size_t max, const void *src, size_t n);

#endif
