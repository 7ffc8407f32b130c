/*
 * Tests for stateless HelloVerifyRequest cookies (dtls/cookie.h, RFC 6347
 * §4.2.1): the cookie's size and determinism, acceptance of the right
 * cookie, rejection when the peer address or any bound ClientHello field
 * (version, random, session_id) differs, when the cookie is tampered with,
 * of the wrong length or absent, and secret rotation (one rotation still
 * accepts, two do not). The fields after the cookie (cipher suites,
 * compression, extensions) are deliberately not bound, so that a
 * fragmented ClientHello can be checked from its first fragment.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "dtls/cookie.h"

/* ---- fixtures ---- */

static const crypto_provider *prov(void)
{
    const crypto_provider *p = crypto_default_provider();
    assert_non_null(p);
    return p;
}

/* 192.0.2.1:5684 as the transport might identify a peer. */
static const uint8_t peer_v4[] = {0xc0, 0x00, 0x02, 0x01, 0x16, 0x34};
/* [2001:db8::1]:5684 */
static const uint8_t peer_v6[] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,    0,
                                  0,    0,    0,    0,    0, 0, 1, 0x16, 0x34};

static const uint8_t suites_bytes[] = {0xc0, 0xa8, 0x00, 0xa8, 0xcc, 0xab};
static const uint8_t null_compression[] = {0x00};

typedef struct fixture {
    dtls_cookie_secrets secrets;
    uint8_t secret_a[DTLS_COOKIE_SECRET_LEN];
    uint8_t secret_b[DTLS_COOKIE_SECRET_LEN];
    uint8_t secret_c[DTLS_COOKIE_SECRET_LEN];
    hs_client_hello ch;
    uint8_t cookie[DTLS_COOKIE_LEN];
} fixture;

static void fill(uint8_t *buf, size_t len, uint8_t start)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(start + i);
}

/* A DTLS 1.2 ClientHello as a second flight would carry it (cookie unset). */
static void hello_init(hs_client_hello *ch)
{
    memset(ch, 0, sizeof(*ch));
    ch->version = HS_VERSION_DTLS12;
    fill(ch->random, HS_RANDOM_LEN, 0x40);
    ch->session_id_len = 0;
    ch->cipher_suites.data = suites_bytes;
    ch->cipher_suites.count = sizeof(suites_bytes) / 2;
    ch->compression_methods = null_compression;
    ch->compression_methods_len = sizeof(null_compression);
}

static int setup(void **state)
{
    static fixture f;
    memset(&f, 0, sizeof(f));
    fill(f.secret_a, DTLS_COOKIE_SECRET_LEN, 0xa0);
    fill(f.secret_b, DTLS_COOKIE_SECRET_LEN, 0xb0);
    fill(f.secret_c, DTLS_COOKIE_SECRET_LEN, 0xc0);
    memcpy(f.secrets.current, f.secret_a, DTLS_COOKIE_SECRET_LEN);
    f.secrets.has_previous = false;
    hello_init(&f.ch);
    assert_int_equal(
        dtls_cookie_make(prov(), f.secret_a, peer_v4, sizeof(peer_v4), &f.ch, f.cookie), 0);
    f.ch.cookie = f.cookie;
    f.ch.cookie_len = DTLS_COOKIE_LEN;
    *state = &f;
    return 0;
}

static int verify(const fixture *f, const hs_client_hello *ch)
{
    return dtls_cookie_verify(prov(), &f->secrets, peer_v4, sizeof(peer_v4), ch);
}

/* ---- make ---- */

static void test_cookie_is_32_bytes(void **state)
{
    (void)state;
    assert_int_equal(DTLS_COOKIE_LEN, 32);
    hs_client_hello ch;
    hello_init(&ch);
    uint8_t out[DTLS_COOKIE_LEN + 16];
    memset(out, 0xee, sizeof(out));
    uint8_t secret[DTLS_COOKIE_SECRET_LEN];
    fill(secret, sizeof(secret), 1);
    assert_int_equal(dtls_cookie_make(prov(), secret, peer_v4, sizeof(peer_v4), &ch, out), 0);
    /* Nothing written past the cookie, and the cookie is not all one byte. */
    for (size_t i = DTLS_COOKIE_LEN; i < sizeof(out); i++)
        assert_int_equal(out[i], 0xee);
    size_t same = 0;
    for (size_t i = 1; i < DTLS_COOKIE_LEN; i++)
        same += out[i] == out[0];
    assert_true(same < DTLS_COOKIE_LEN - 1);
    /* It fits the HelloVerifyRequest's cookie<0..2^8-1> (DTLS 1.2). */
    assert_true(DTLS_COOKIE_LEN <= HS_COOKIE_MAX);
}

static void test_cookie_is_deterministic(void **state)
{
    fixture *f = *state;
    uint8_t again[DTLS_COOKIE_LEN];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(
            dtls_cookie_make(prov(), f->secret_a, peer_v4, sizeof(peer_v4), &f->ch, again), 0);
        assert_memory_equal(again, f->cookie, DTLS_COOKIE_LEN);
    }
    /* The cookie carried in the hello is not one of its inputs. */
    uint8_t other_cookie[DTLS_COOKIE_LEN] = {0};
    hs_client_hello ch = f->ch;
    ch.cookie = other_cookie;
    assert_int_equal(dtls_cookie_make(prov(), f->secret_a, peer_v4, sizeof(peer_v4), &ch, again),
                     0);
    assert_memory_equal(again, f->cookie, DTLS_COOKIE_LEN);
    /* A different secret gives a different cookie. */
    assert_int_equal(dtls_cookie_make(prov(), f->secret_b, peer_v4, sizeof(peer_v4), &f->ch, again),
                     0);
    assert_memory_not_equal(again, f->cookie, DTLS_COOKIE_LEN);
}

static void test_cookie_peer_id_limit(void **state)
{
    fixture *f = *state;
    uint8_t peer[DTLS_PEER_ID_MAX + 1];
    uint8_t out[DTLS_COOKIE_LEN];
    fill(peer, sizeof(peer), 0x11);
    assert_int_equal(dtls_cookie_make(prov(), f->secret_a, peer, DTLS_PEER_ID_MAX, &f->ch, out), 0);
    assert_int_equal(dtls_cookie_make(prov(), f->secret_a, peer, DTLS_PEER_ID_MAX + 1, &f->ch, out),
                     PETREL_ERR_ARG);
    /* An empty peer id is allowed (a transport with one peer). */
    assert_int_equal(dtls_cookie_make(prov(), f->secret_a, NULL, 0, &f->ch, out), 0);
    assert_memory_not_equal(out, f->cookie, DTLS_COOKIE_LEN);
}

/* ---- verify ---- */

static void test_cookie_verify_accepts(void **state)
{
    fixture *f = *state;
    assert_int_equal(verify(f, &f->ch), 0);
    /* And for another peer, its own cookie. */
    uint8_t cookie6[DTLS_COOKIE_LEN];
    hs_client_hello ch = f->ch;
    assert_int_equal(dtls_cookie_make(prov(), f->secret_a, peer_v6, sizeof(peer_v6), &ch, cookie6),
                     0);
    ch.cookie = cookie6;
    assert_int_equal(dtls_cookie_verify(prov(), &f->secrets, peer_v6, sizeof(peer_v6), &ch), 0);
}

static void test_cookie_rejects_other_peer(void **state)
{
    fixture *f = *state;
    const crypto_provider *p = prov();
    uint8_t peer[sizeof(peer_v4)];
    /* Every byte of the address and port matters. */
    for (size_t i = 0; i < sizeof(peer_v4); i++) {
        memcpy(peer, peer_v4, sizeof(peer));
        peer[i] ^= 0x01;
        assert_int_equal(dtls_cookie_verify(p, &f->secrets, peer, sizeof(peer), &f->ch),
                         PETREL_ERR_ILLEGAL_PARAMETER);
    }
    /* A prefix of the address, an extension of it, another family. */
    assert_int_equal(dtls_cookie_verify(p, &f->secrets, peer_v4, sizeof(peer_v4) - 1, &f->ch),
                     PETREL_ERR_ILLEGAL_PARAMETER);
    uint8_t longer[sizeof(peer_v4) + 1] = {0};
    memcpy(longer, peer_v4, sizeof(peer_v4));
    assert_int_equal(dtls_cookie_verify(p, &f->secrets, longer, sizeof(longer), &f->ch),
                     PETREL_ERR_ILLEGAL_PARAMETER);
    assert_int_equal(dtls_cookie_verify(p, &f->secrets, peer_v6, sizeof(peer_v6), &f->ch),
                     PETREL_ERR_ILLEGAL_PARAMETER);
    assert_int_equal(dtls_cookie_verify(p, &f->secrets, NULL, 0, &f->ch),
                     PETREL_ERR_ILLEGAL_PARAMETER);
}

static void test_cookie_rejects_other_random(void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < HS_RANDOM_LEN; i++) {
        hs_client_hello ch = f->ch;
        ch.random[i] ^= 0x80;
        assert_int_equal(verify(f, &ch), PETREL_ERR_ILLEGAL_PARAMETER);
    }
}

static void test_cookie_rejects_other_session_id(void **state)
{
    fixture *f = *state;
    hs_client_hello ch = f->ch;
    /* A session id where there was none. */
    ch.session_id_len = 1;
    ch.session_id[0] = 0;
    assert_int_equal(verify(f, &ch), PETREL_ERR_ILLEGAL_PARAMETER);
    ch.session_id_len = HS_SESSION_ID_MAX;
    fill(ch.session_id, HS_SESSION_ID_MAX, 0x33);
    assert_int_equal(verify(f, &ch), PETREL_ERR_ILLEGAL_PARAMETER);

    /* A cookie for a hello with a session id, then that id changed. */
    uint8_t cookie[DTLS_COOKIE_LEN];
    assert_int_equal(dtls_cookie_make(prov(), f->secret_a, peer_v4, sizeof(peer_v4), &ch, cookie),
                     0);
    ch.cookie = cookie;
    assert_int_equal(verify(f, &ch), 0);
    hs_client_hello changed = ch;
    changed.session_id[HS_SESSION_ID_MAX - 1] ^= 1;
    assert_int_equal(verify(f, &changed), PETREL_ERR_ILLEGAL_PARAMETER);
    changed = ch;
    changed.session_id_len = HS_SESSION_ID_MAX - 1;
    assert_int_equal(verify(f, &changed), PETREL_ERR_ILLEGAL_PARAMETER);
}

/* The fields after the cookie are not bound (cookie.h): a second
 * ClientHello that changes them still verifies, since its random ties it
 * to the first. */
static void test_cookie_ignores_fields_after_the_cookie(void **state)
{
    fixture *f = *state;
    hs_client_hello ch = f->ch;
    static const uint8_t reordered[] = {0x00, 0xa8, 0xc0, 0xa8, 0xcc, 0xab};
    ch.cipher_suites.data = reordered;
    assert_int_equal(verify(f, &ch), 0);
    static const uint8_t two[] = {0x01, 0x00};
    ch.compression_methods = two;
    ch.compression_methods_len = sizeof(two);
    assert_int_equal(verify(f, &ch), 0);
}

/* The bound fields can be read from the first fragment alone. */
static void test_cookie_fields_read_from_a_first_fragment(void **state)
{
    fixture *f = *state;
    uint8_t body[2 + HS_RANDOM_LEN + 1 + 1 + DTLS_COOKIE_LEN];
    cursor_writer w = cursor_writer_init(body, sizeof(body));
    assert_int_equal(cursor_write_u16(&w, f->ch.version), 0);
    assert_int_equal(cursor_write_bytes(&w, f->ch.random, HS_RANDOM_LEN), 0);
    assert_int_equal(cursor_write_vector(&w, 1, 0, 32, NULL, 0), 0);
    assert_int_equal(cursor_write_vector(&w, 1, 0, 255, f->cookie, DTLS_COOKIE_LEN), 0);
    hs_client_hello parsed;
    cursor_reader r = cursor_reader_init(body, w.len);
    assert_int_equal(dtls_cookie_fields_read(&r, &parsed), 0);
    assert_int_equal(verify(f, &parsed), 0);
    /* Cut anywhere before the end of the cookie: not enough to check. */
    for (size_t len = 0; len < w.len; len++) {
        r = cursor_reader_init(body, len);
        assert_true(dtls_cookie_fields_read(&r, &parsed) < 0);
    }
}

static void test_cookie_rejects_other_version(void **state)
{
    fixture *f = *state;
    static const uint16_t versions[] = {HS_VERSION_DTLS10, HS_VERSION_TLS12, 0xfefc, 0xfdfd,
                                        0x0000};
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        hs_client_hello ch = f->ch;
        ch.version = versions[i];
        assert_int_equal(verify(f, &ch), PETREL_ERR_ILLEGAL_PARAMETER);
    }
}

static void test_cookie_rejects_tampered(void **state)
{
    fixture *f = *state;
    uint8_t tampered[DTLS_COOKIE_LEN];
    hs_client_hello ch = f->ch;
    ch.cookie = tampered;
    for (size_t i = 0; i < DTLS_COOKIE_LEN; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            memcpy(tampered, f->cookie, DTLS_COOKIE_LEN);
            tampered[i] ^= (uint8_t)(1u << bit);
            assert_int_equal(verify(f, &ch), PETREL_ERR_ILLEGAL_PARAMETER);
        }
        memcpy(tampered, f->cookie, DTLS_COOKIE_LEN);
        tampered[i] ^= 0xff;
        assert_int_equal(verify(f, &ch), PETREL_ERR_ILLEGAL_PARAMETER);
    }
    memset(tampered, 0, sizeof(tampered));
    assert_int_equal(verify(f, &ch), PETREL_ERR_ILLEGAL_PARAMETER);
}

static void test_cookie_rejects_wrong_length(void **state)
{
    fixture *f = *state;
    uint8_t longer[DTLS_COOKIE_LEN + 1];
    memcpy(longer, f->cookie, DTLS_COOKIE_LEN);
    longer[DTLS_COOKIE_LEN] = 0;
    hs_client_hello ch = f->ch;
    /* The right cookie's first 31 bytes. */
    ch.cookie_len = DTLS_COOKIE_LEN - 1;
    assert_int_equal(verify(f, &ch), PETREL_ERR_ILLEGAL_PARAMETER);
    /* The right cookie with a byte appended. */
    ch.cookie = longer;
    ch.cookie_len = sizeof(longer);
    assert_int_equal(verify(f, &ch), PETREL_ERR_ILLEGAL_PARAMETER);
    ch.cookie_len = 1;
    assert_int_equal(verify(f, &ch), PETREL_ERR_ILLEGAL_PARAMETER);
}

static void test_cookie_rejects_absent(void **state)
{
    fixture *f = *state;
    hs_client_hello ch = f->ch;
    ch.cookie = NULL;
    ch.cookie_len = 0;
    assert_int_equal(verify(f, &ch), PETREL_ERR_ILLEGAL_PARAMETER);
    /* Empty but present (a first ClientHello). */
    ch.cookie = f->cookie;
    ch.cookie_len = 0;
    assert_int_equal(verify(f, &ch), PETREL_ERR_ILLEGAL_PARAMETER);
}

/* ---- rotation ---- */

static void rotate(dtls_cookie_secrets *s, const uint8_t *next)
{
    memcpy(s->previous, s->current, DTLS_COOKIE_SECRET_LEN);
    memcpy(s->current, next, DTLS_COOKIE_SECRET_LEN);
    s->has_previous = true;
}

static void test_cookie_rotation(void **state)
{
    fixture *f = *state;
    /* Made under A; the server rotates to B: still accepted. */
    rotate(&f->secrets, f->secret_b);
    assert_int_equal(verify(f, &f->ch), 0);

    /* New cookies are made under B and verify too. */
    uint8_t cookie_b[DTLS_COOKIE_LEN];
    assert_int_equal(
        dtls_cookie_make(prov(), f->secrets.current, peer_v4, sizeof(peer_v4), &f->ch, cookie_b),
        0);
    assert_memory_not_equal(cookie_b, f->cookie, DTLS_COOKIE_LEN);
    hs_client_hello ch_b = f->ch;
    ch_b.cookie = cookie_b;
    assert_int_equal(verify(f, &ch_b), 0);

    /* The previous secret still only accepts its own peer's cookie. */
    assert_int_equal(dtls_cookie_verify(prov(), &f->secrets, peer_v6, sizeof(peer_v6), &f->ch),
                     PETREL_ERR_ILLEGAL_PARAMETER);

    /* Rotated again (to C): A's cookie is stale, B's still good. */
    rotate(&f->secrets, f->secret_c);
    assert_int_equal(verify(f, &f->ch), PETREL_ERR_ILLEGAL_PARAMETER);
    assert_int_equal(verify(f, &ch_b), 0);
}

static void test_cookie_previous_ignored_unless_flagged(void **state)
{
    fixture *f = *state;
    /* previous holds A, but has_previous is false: only current counts. */
    memcpy(f->secrets.previous, f->secret_a, DTLS_COOKIE_SECRET_LEN);
    memcpy(f->secrets.current, f->secret_b, DTLS_COOKIE_SECRET_LEN);
    f->secrets.has_previous = false;
    assert_int_equal(verify(f, &f->ch), PETREL_ERR_ILLEGAL_PARAMETER);
    f->secrets.has_previous = true;
    assert_int_equal(verify(f, &f->ch), 0);
}

#define T(name) cmocka_unit_test_setup(name, setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_cookie_is_32_bytes),
        T(test_cookie_is_deterministic),
        T(test_cookie_peer_id_limit),
        T(test_cookie_verify_accepts),
        T(test_cookie_rejects_other_peer),
        T(test_cookie_rejects_other_random),
        T(test_cookie_rejects_other_session_id),
        T(test_cookie_ignores_fields_after_the_cookie),
        T(test_cookie_fields_read_from_a_first_fragment),
        T(test_cookie_rejects_other_version),
        T(test_cookie_rejects_tampered),
        T(test_cookie_rejects_wrong_length),
        T(test_cookie_rejects_absent),
        T(test_cookie_rotation),
        T(test_cookie_previous_ignored_unless_flagged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
