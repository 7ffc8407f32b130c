/*
 * libFuzzer target for common/cursor.h.
 *
 * Parses the input as a TLS-ClientHello-like structure with the reader:
 *
 *   uint16 version;
 *   opaque random[32];
 *   opaque session_id<0..32>;
 *   uint16 cipher_suites<2..2^16-2>;
 *   opaque compression_methods<1..2^8-1>;
 *   optional: Extension extensions<0..2^16-1>;
 *       struct { uint16 type; opaque body<0..2^16-1>; } Extension;
 *
 * then writes what it parsed back out with the writer and aborts unless the
 * result equals the input prefix the parse consumed. After every cursor
 * call it checks the cursor's invariant, that a failed call left the cursor
 * unchanged and that a successful one moved it by exactly what it should.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cursor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Not assert(): this must hold in release builds too. */
#define FUZZ_CHECK(cond) \
    do {                 \
        if (!(cond))     \
            abort();     \
    } while (0)

#define HELLO_RANDOM_LEN     32
#define HELLO_MAX_SUITES     (65534 / 2)
#define HELLO_MAX_EXTENSIONS (65535 / 4) /* each takes at least 4 bytes */

typedef struct hello_extension {
    uint16_t type;
    const uint8_t *body;
    size_t body_len;
} hello_extension;

typedef struct hello {
    uint16_t version;
    const uint8_t *random;
    const uint8_t *session_id;
    size_t session_id_len;
    uint16_t suites[HELLO_MAX_SUITES];
    size_t suite_count;
    const uint8_t *compression;
    size_t compression_len;
    bool has_extensions;
    hello_extension extensions[HELLO_MAX_EXTENSIONS];
    size_t extension_count;
} hello;

/* Too big for the stack; libFuzzer runs one input at a time. */
static hello parsed;

/* ---- reader checks ---- */

/* Checks one reader call: rc is 0 or negative; on failure the reader is
 * exactly as before; on success it moved forward by `advance` bytes over
 * the same buffer. Returns whether the call succeeded. */
static bool reader_step(const cursor_reader *r, const cursor_reader *before, int rc, size_t advance)
{
    FUZZ_CHECK(cursor_reader_valid(r));
    FUZZ_CHECK(rc <= 0);
    FUZZ_CHECK(r->data == before->data && r->len == before->len);
    if (rc < 0) {
        FUZZ_CHECK(r->pos == before->pos);
        /* the only errors a well-formed call can give */
        FUZZ_CHECK(rc == PETREL_ERR_TRUNCATED || rc == PETREL_ERR_LENGTH);
        return false;
    }
    FUZZ_CHECK(advance <= before->len - before->pos);
    FUZZ_CHECK(r->pos == before->pos + advance);
    return true;
}

/* Checks a vector body handed out by the reader: valid, unread, and lying
 * inside the parent's input right after the prefix. */
static void check_body(const cursor_reader *body, const cursor_reader *before, unsigned prefix_len)
{
    FUZZ_CHECK(cursor_reader_valid(body));
    size_t body_len = cursor_reader_remaining(body);
    FUZZ_CHECK(body_len <= before->len - before->pos - prefix_len);
    if (body_len > 0)
        FUZZ_CHECK(cursor_reader_ptr(body) == before->data + before->pos + prefix_len);
}

static bool parse_suites(cursor_reader *r, hello *h)
{
    cursor_reader before = *r;
    cursor_reader suites;
    int rc = cursor_read_vector(r, 2, 2, 65534, &suites);
    if (!reader_step(r, &before, rc, rc == 0 ? 2 + cursor_reader_remaining(&suites) : 0))
        return false;
    check_body(&suites, &before, 2);

    h->suite_count = 0;
    while (cursor_reader_remaining(&suites) > 0) {
        FUZZ_CHECK(cursor_reader_finish(&suites) == PETREL_ERR_TRAILING_DATA);
        FUZZ_CHECK(h->suite_count < HELLO_MAX_SUITES);
        cursor_reader suites_before = suites;
        uint16_t suite = 0;
        rc = cursor_read_u16(&suites, &suite);
        if (!reader_step(&suites, &suites_before, rc, 2)) {
            /* an odd-length list: exactly one byte is left */
            FUZZ_CHECK(rc == PETREL_ERR_TRUNCATED);
            FUZZ_CHECK(cursor_reader_remaining(&suites) == 1);
            return false;
        }
        h->suites[h->suite_count++] = suite;
    }
    FUZZ_CHECK(cursor_reader_finish(&suites) == 0);
    return true;
}

static bool parse_extensions(cursor_reader *r, hello *h)
{
    cursor_reader before = *r;
    cursor_reader block;
    int rc = cursor_read_vector(r, 2, 0, 65535, &block);
    if (!reader_step(r, &before, rc, rc == 0 ? 2 + cursor_reader_remaining(&block) : 0))
        return false;
    check_body(&block, &before, 2);

    h->extension_count = 0;
    while (cursor_reader_remaining(&block) > 0) {
        FUZZ_CHECK(h->extension_count < HELLO_MAX_EXTENSIONS);
        hello_extension *ext = &h->extensions[h->extension_count];

        cursor_reader block_before = block;
        rc = cursor_read_u16(&block, &ext->type);
        if (!reader_step(&block, &block_before, rc, 2))
            return false;

        block_before = block;
        cursor_reader body;
        rc = cursor_read_vector(&block, 2, 0, 65535, &body);
        if (!reader_step(&block, &block_before, rc,
                         rc == 0 ? 2 + cursor_reader_remaining(&body) : 0))
            return false;
        check_body(&body, &block_before, 2);

        /* take the whole body as a view; the sub-reader is then done */
        ext->body_len = cursor_reader_remaining(&body);
        cursor_reader body_before = body;
        rc = cursor_read_view(&body, ext->body_len, &ext->body);
        FUZZ_CHECK(reader_step(&body, &body_before, rc, ext->body_len));
        FUZZ_CHECK(cursor_reader_finish(&body) == 0);
        if (ext->body_len > 0)
            FUZZ_CHECK(ext->body == cursor_reader_ptr(&body_before));

        /* one more byte than the body holds is truncated */
        body_before = body;
        uint8_t extra = 0xA5;
        rc = cursor_read_u8(&body, &extra);
        FUZZ_CHECK(!reader_step(&body, &body_before, rc, 1));
        FUZZ_CHECK(rc == PETREL_ERR_TRUNCATED && extra == 0xA5);

        h->extension_count++;
    }
    FUZZ_CHECK(cursor_reader_finish(&block) == 0);
    return true;
}

/* Parses a hello from r; on success r has moved past it. */
static bool parse_hello(cursor_reader *r, hello *h)
{
    cursor_reader before = *r;
    int rc = cursor_read_u16(r, &h->version);
    if (!reader_step(r, &before, rc, 2))
        return false;

    before = *r;
    rc = cursor_read_view(r, HELLO_RANDOM_LEN, &h->random);
    if (!reader_step(r, &before, rc, HELLO_RANDOM_LEN))
        return false;
    FUZZ_CHECK(h->random == before.data + before.pos);

    before = *r;
    rc = cursor_read_vector_view(r, 1, 0, 32, &h->session_id, &h->session_id_len);
    if (!reader_step(r, &before, rc, rc == 0 ? 1 + h->session_id_len : 0))
        return false;
    FUZZ_CHECK(h->session_id_len <= 32);

    if (!parse_suites(r, h))
        return false;

    before = *r;
    rc = cursor_read_vector_view(r, 1, 1, 255, &h->compression, &h->compression_len);
    if (!reader_step(r, &before, rc, rc == 0 ? 1 + h->compression_len : 0))
        return false;
    FUZZ_CHECK(h->compression_len >= 1 && h->compression_len <= 255);

    h->has_extensions = cursor_reader_remaining(r) > 0;
    if (h->has_extensions && !parse_extensions(r, h))
        return false;
    return true;
}

/* ---- writer checks ---- */

/* Checks one writer call like reader_step. The only error expected while
 * re-serialising is running out of space. */
static bool writer_step(const cursor_writer *w, const cursor_writer *before, int rc, size_t advance)
{
    FUZZ_CHECK(cursor_writer_valid(w));
    FUZZ_CHECK(rc <= 0);
    FUZZ_CHECK(w->data == before->data && w->cap == before->cap);
    if (rc < 0) {
        FUZZ_CHECK(rc == PETREL_ERR_BUFFER_TOO_SMALL);
        FUZZ_CHECK(w->len == before->len);
        return false;
    }
    FUZZ_CHECK(w->len == before->len + advance);
    return true;
}

static int write_opaque_vector(cursor_writer *w, unsigned prefix_len, size_t min, size_t max,
                               const uint8_t *src, size_t n)
{
    cursor_writer before = *w;
    cursor_vector vec;
    int rc = cursor_vector_open(w, prefix_len, &vec);
    if (!writer_step(w, &before, rc, prefix_len))
        return rc;
    FUZZ_CHECK(vec.prefix_pos == before.len && vec.prefix_len == prefix_len);

    cursor_writer body_before = *w;
    rc = cursor_write_bytes(w, src, n);
    if (!writer_step(w, &body_before, rc, n))
        return rc; /* the open vector is simply abandoned */

    body_before = *w;
    rc = cursor_vector_close(w, &vec, min, max);
    FUZZ_CHECK(writer_step(w, &body_before, rc, 0)); /* the parser checked the bounds */
    return 0;
}

/* Writes h; returns 0 or the first error. */
static int write_hello(cursor_writer *w, const hello *h)
{
    cursor_writer before = *w;
    int rc = cursor_write_u16(w, h->version);
    if (!writer_step(w, &before, rc, 2))
        return rc;

    before = *w;
    rc = cursor_write_bytes(w, h->random, HELLO_RANDOM_LEN);
    if (!writer_step(w, &before, rc, HELLO_RANDOM_LEN))
        return rc;

    rc = write_opaque_vector(w, 1, 0, 32, h->session_id, h->session_id_len);
    if (rc < 0)
        return rc;

    before = *w;
    cursor_vector suites;
    rc = cursor_vector_open(w, 2, &suites);
    if (!writer_step(w, &before, rc, 2))
        return rc;
    for (size_t i = 0; i < h->suite_count; i++) {
        before = *w;
        rc = cursor_write_u16(w, h->suites[i]);
        if (!writer_step(w, &before, rc, 2))
            return rc;
    }
    before = *w;
    rc = cursor_vector_close(w, &suites, 2, 65534);
    FUZZ_CHECK(writer_step(w, &before, rc, 0));

    rc = write_opaque_vector(w, 1, 1, 255, h->compression, h->compression_len);
    if (rc < 0)
        return rc;

    if (!h->has_extensions)
        return 0;
    before = *w;
    cursor_vector block;
    rc = cursor_vector_open(w, 2, &block);
    if (!writer_step(w, &before, rc, 2))
        return rc;
    for (size_t i = 0; i < h->extension_count; i++) {
        const hello_extension *ext = &h->extensions[i];
        before = *w;
        rc = cursor_write_u16(w, ext->type);
        if (!writer_step(w, &before, rc, 2))
            return rc;
        rc = write_opaque_vector(w, 2, 0, 65535, ext->body, ext->body_len);
        if (rc < 0)
            return rc;
    }
    before = *w;
    rc = cursor_vector_close(w, &block, 0, 65535);
    FUZZ_CHECK(writer_step(w, &before, rc, 0));
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cursor_reader r = cursor_reader_init(data, size);
    FUZZ_CHECK(cursor_reader_valid(&r));
    FUZZ_CHECK(r.data == data && r.len == size && r.pos == 0);

    if (!parse_hello(&r, &parsed))
        return 0;

    const size_t consumed = r.pos;
    FUZZ_CHECK(consumed <= size);
    FUZZ_CHECK(cursor_reader_finish(&r) == (consumed == size ? 0 : PETREL_ERR_TRAILING_DATA));

    /* Exact capacity: the writer must fill it to the byte. Heap-allocated
     * so that AddressSanitizer sees any write past it. */
    uint8_t *out = malloc(consumed);
    FUZZ_CHECK(out != NULL);
    cursor_writer w = cursor_writer_init(out, consumed);
    FUZZ_CHECK(cursor_writer_valid(&w));
    FUZZ_CHECK(write_hello(&w, &parsed) == 0);
    FUZZ_CHECK(w.len == consumed);
    FUZZ_CHECK(cursor_writer_space(&w) == 0);
    FUZZ_CHECK(memcmp(out, data, consumed) == 0);

    free(out);

    /* One byte short (a parsed hello is at least 41 bytes): some write must
     * fail cleanly with PETREL_ERR_BUFFER_TOO_SMALL, and nothing may be
     * written past the capacity, which is again the allocation's end. */
    FUZZ_CHECK(consumed > 0);
    uint8_t *short_out = malloc(consumed - 1);
    FUZZ_CHECK(short_out != NULL);
    w = cursor_writer_init(short_out, consumed - 1);
    FUZZ_CHECK(write_hello(&w, &parsed) == PETREL_ERR_BUFFER_TOO_SMALL);
    FUZZ_CHECK(cursor_writer_valid(&w));
    FUZZ_CHECK(w.len < consumed);
    free(short_out);
    return 0;
}
