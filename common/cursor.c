/* Bounds-checked byte cursors. See cursor.h for the rules. Every check is
 * written as "n > remaining" so that no addition can overflow. */
#include "common/cursor.h"

#include <string.h>

/* ---- reader ---- */

cursor_reader cursor_reader_init(const uint8_t *data, size_t len)
{
    cursor_reader r = {data, data ? len : 0, 0};
    return r;
}

bool cursor_reader_valid(const cursor_reader *r)
{
    return r && r->pos <= r->len && (r->data || r->len == 0);
}

size_t cursor_reader_remaining(const cursor_reader *r)
{
    return r->len - r->pos;
}

const uint8_t *cursor_reader_ptr(const cursor_reader *r)
{
    return r->data ? r->data + r->pos : NULL;
}

/* Reads an n-byte (n <= 8) big-endian integer. */
static int read_uint(cursor_reader *r, size_t n, uint64_t *out)
{
    if (n > cursor_reader_remaining(r))
        return PETREL_ERR_TRUNCATED;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | r->data[r->pos + i];
    r->pos += n;
    *out = v;
    return 0;
}

int cursor_read_u8(cursor_reader *r, uint8_t *out)
{
    uint64_t v;
    PETREL_TRY(read_uint(r, 1, &v));
    *out = (uint8_t)v;
    return 0;
}

int cursor_read_u16(cursor_reader *r, uint16_t *out)
{
    uint64_t v;
    PETREL_TRY(read_uint(r, 2, &v));
    *out = (uint16_t)v;
    return 0;
}

int cursor_read_u24(cursor_reader *r, uint32_t *out)
{
    uint64_t v;
    PETREL_TRY(read_uint(r, 3, &v));
    *out = (uint32_t)v;
    return 0;
}

int cursor_read_u32(cursor_reader *r, uint32_t *out)
{
    uint64_t v;
    PETREL_TRY(read_uint(r, 4, &v));
    *out = (uint32_t)v;
    return 0;
}

int cursor_read_u48(cursor_reader *r, uint64_t *out)
{
    return read_uint(r, 6, out);
}

int cursor_read_u64(cursor_reader *r, uint64_t *out)
{
    return read_uint(r, 8, out);
}

int cursor_read_view(cursor_reader *r, size_t n, const uint8_t **out)
{
    if (n > cursor_reader_remaining(r))
        return PETREL_ERR_TRUNCATED;
    *out = cursor_reader_ptr(r);
    r->pos += n;
    return 0;
}

int cursor_read_copy(cursor_reader *r, void *dst, size_t n)
{
    const uint8_t *src;
    PETREL_TRY(cursor_read_view(r, n, &src));
    if (n)
        memcpy(dst, src, n);
    return 0;
}

int cursor_skip(cursor_reader *r, size_t n)
{
    const uint8_t *ignored;
    return cursor_read_view(r, n, &ignored);
}

static bool prefix_len_ok(unsigned prefix_len)
{
    return prefix_len >= 1 && prefix_len <= 3;
}

int cursor_read_vector_view(cursor_reader *r, unsigned prefix_len, size_t min, size_t max,
                            const uint8_t **out, size_t *out_len)
{
    if (!prefix_len_ok(prefix_len) || min > max)
        return PETREL_ERR_ARG;
    cursor_reader probe = *r;
    uint64_t len;
    PETREL_TRY(read_uint(&probe, prefix_len, &len));
    if (len < min || len > max)
        return PETREL_ERR_LENGTH;
    if (len > cursor_reader_remaining(&probe))
        return PETREL_ERR_TRUNCATED;
    PETREL_TRY(cursor_read_view(&probe, (size_t)len, out));
    *out_len = (size_t)len;
    *r = probe;
    return 0;
}

int cursor_read_vector(cursor_reader *r, unsigned prefix_len, size_t min, size_t max,
                       cursor_reader *body)
{
    const uint8_t *data;
    size_t len;
    PETREL_TRY(cursor_read_vector_view(r, prefix_len, min, max, &data, &len));
    *body = cursor_reader_init(data, len);
    return 0;
}

int cursor_reader_finish(const cursor_reader *r)
{
    return cursor_reader_remaining(r) == 0 ? 0 : PETREL_ERR_TRAILING_DATA;
}

/* ---- writer ---- */

cursor_writer cursor_writer_init(uint8_t *data, size_t cap)
{
    cursor_writer w = {data, data ? cap : 0, 0};
    return w;
}

bool cursor_writer_valid(const cursor_writer *w)
{
    return w && w->len <= w->cap && (w->data || w->cap == 0);
}

size_t cursor_writer_space(const cursor_writer *w)
{
    return w->cap - w->len;
}

int cursor_write_reserve(cursor_writer *w, size_t n, uint8_t **out)
{
    if (n > cursor_writer_space(w))
        return PETREL_ERR_BUFFER_TOO_SMALL;
    *out = w->data ? w->data + w->len : NULL;
    w->len += n;
    return 0;
}

/* Writes the low n bytes (n <= 8) of v big-endian; v must fit. */
static int write_uint(cursor_writer *w, size_t n, uint64_t v)
{
    if (n < 8 && v >> (8 * n))
        return PETREL_ERR_VALUE_RANGE;
    uint8_t *p;
    PETREL_TRY(cursor_write_reserve(w, n, &p));
    for (size_t i = n; i-- > 0; v >>= 8)
        p[i] = (uint8_t)v;
    return 0;
}

int cursor_write_u8(cursor_writer *w, uint8_t v)
{
    return write_uint(w, 1, v);
}

int cursor_write_u16(cursor_writer *w, uint16_t v)
{
    return write_uint(w, 2, v);
}

int cursor_write_u24(cursor_writer *w, uint32_t v)
{
    return write_uint(w, 3, v);
}

int cursor_write_u32(cursor_writer *w, uint32_t v)
{
    return write_uint(w, 4, v);
}

int cursor_write_u48(cursor_writer *w, uint64_t v)
{
    return write_uint(w, 6, v);
}

int cursor_write_u64(cursor_writer *w, uint64_t v)
{
    return write_uint(w, 8, v);
}

int cursor_write_bytes(cursor_writer *w, const void *src, size_t n)
{
    uint8_t *p;
    PETREL_TRY(cursor_write_reserve(w, n, &p));
    if (n)
        memcpy(p, src, n);
    return 0;
}

int cursor_write_zeros(cursor_writer *w, size_t n)
{
    uint8_t *p;
    PETREL_TRY(cursor_write_reserve(w, n, &p));
    if (n)
        memset(p, 0, n);
    return 0;
}

int cursor_vector_open(cursor_writer *w, unsigned prefix_len, cursor_vector *vec)
{
    if (!prefix_len_ok(prefix_len))
        return PETREL_ERR_ARG;
    size_t at = w->len;
    PETREL_TRY(cursor_write_zeros(w, prefix_len));
    vec->prefix_pos = at;
    vec->prefix_len = (uint8_t)prefix_len;
    return 0;
}

int cursor_vector_close(cursor_writer *w, const cursor_vector *vec, size_t min, size_t max)
{
    if (!prefix_len_ok(vec->prefix_len) || vec->prefix_pos > w->len ||
        w->len - vec->prefix_pos < vec->prefix_len)
        return PETREL_ERR_ARG;
    size_t body_len = w->len - vec->prefix_pos - vec->prefix_len;
    uint64_t prefix_max = (UINT64_C(1) << (8 * vec->prefix_len)) - 1;
    if (min > max || body_len < min || body_len > max || body_len > prefix_max) {
        w->len = vec->prefix_pos;
        return min > max ? PETREL_ERR_ARG : PETREL_ERR_LENGTH;
    }
    cursor_writer prefix = cursor_writer_init(w->data + vec->prefix_pos, vec->prefix_len);
    return write_uint(&prefix, vec->prefix_len, body_len);
}

int cursor_write_vector(cursor_writer *w, unsigned prefix_len, size_t min, size_t max,
                        const void *src, size_t n)
{
    cursor_vector vec;
    if (min > max)
        return PETREL_ERR_ARG;
    if (n < min || n > max)
        return PETREL_ERR_LENGTH;
    size_t start = w->len;
    PETREL_TRY(cursor_vector_open(w, prefix_len, &vec));
    int rc = cursor_write_bytes(w, src, n);
    if (rc < 0) {
        w->len = start;
        return rc;
    }
    return cursor_vector_close(w, &vec, min, max);
}
