/*
 * Invariants of the handshake state table (handshake/handshake.c), and
 * the state diagram in docs/handshake.md, which is generated from the
 * table: this test regenerates it and fails if the committed copy differs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handshake/handshake.h"

static const char *message_name(int message)
{
    switch (message) {
    case HS_CLIENT_HELLO:
        return "ClientHello";
    case HS_SERVER_HELLO:
        return "ServerHello";
    case HS_HELLO_VERIFY_REQUEST:
        return "HelloVerifyRequest";
    case HS_SERVER_KEY_EXCHANGE:
        return "ServerKeyExchange";
    case HS_CERTIFICATE:
        return "Certificate";
    case HS_CERTIFICATE_REQUEST:
        return "CertificateRequest";
    case HS_CERTIFICATE_VERIFY:
        return "CertificateVerify";
    case HS_SERVER_HELLO_DONE:
        return "ServerHelloDone";
    case HS_CLIENT_KEY_EXCHANGE:
        return "ClientKeyExchange";
    case HS_FINISHED:
        return "Finished";
    case HS_MSG_CHANGE_CIPHER_SPEC:
        return "ChangeCipherSpec";
    default:
        return NULL;
    }
}

/* Rows for the same state and message are told apart by guards: both have
 * one, and they differ. The guards used for such pairs are complementary
 * (certificate_requested / certificate_not_requested, ...), which
 * guards_are_exclusive checks on sample contexts. */
static void rows_are_unique(void **state)
{
    (void)state;
    for (size_t i = 0; i < hs_table_len; i++)
        for (size_t j = i + 1; j < hs_table_len; j++) {
            if (hs_table[i].state != hs_table[j].state ||
                hs_table[i].message != hs_table[j].message)
                continue;
            assert_non_null(hs_table[i].guard);
            assert_non_null(hs_table[j].guard);
            assert_ptr_not_equal(hs_table[i].guard, hs_table[j].guard);
        }
}

/* For every context the flags can describe, at most one row matches each
 * (state, message): the table stays a function. */
static void guards_are_exclusive(void **state)
{
    (void)state;
    static const hs_suite psk_suite = {.kx = HS_KX_PSK};
    static const hs_suite cert_suite = {.kx = HS_KX_ECDHE_ECDSA};
    for (int bits = 0; bits < 8; bits++) {
        hs_ctx hs;
        memset(&hs, 0, sizeof(hs));
        hs.suite = (bits & 1) ? &cert_suite : &psk_suite;
        hs.cert_requested = (bits & 2) != 0;
        hs.peer_sent_cert = (bits & 4) != 0;
        for (size_t i = 0; i < hs_table_len; i++) {
            const hs_transition *a = &hs_table[i];
            if (a->guard)
                assert_non_null(a->guard_name);
            for (size_t j = i + 1; j < hs_table_len; j++) {
                const hs_transition *b = &hs_table[j];
                if (a->state != b->state || a->message != b->message)
                    continue;
                assert_false(a->guard(&hs) && b->guard(&hs));
            }
        }
    }
}

/* Every row names a known message, a handler, and valid states; DONE has
 * no way out; only HelloVerifyRequest is datagram-only. */
static void rows_are_well_formed(void **state)
{
    (void)state;
    for (size_t i = 0; i < hs_table_len; i++) {
        const hs_transition *t = &hs_table[i];
        assert_non_null(message_name(t->message));
        assert_non_null(t->handler);
        assert_true(t->state < HS_STATE_COUNT && t->next < HS_STATE_COUNT);
        assert_true(t->state != HS_DONE);
        assert_int_equal(t->datagram_only, t->message == HS_HELLO_VERIFY_REQUEST);
    }
}

/* From each side's first waiting state, DONE is reachable, and every state
 * of that side except DONE has a way forward. */
static void every_state_leads_to_done(void **state)
{
    (void)state;
    for (int s = 0; s < HS_STATE_COUNT; s++) {
        if (s == HS_DONE || s == HS_CLIENT_START)
            continue;
        bool reach[HS_STATE_COUNT] = {false};
        reach[s] = true;
        for (int round = 0; round < HS_STATE_COUNT; round++)
            for (size_t i = 0; i < hs_table_len; i++)
                if (reach[hs_table[i].state])
                    reach[hs_table[i].next] = true;
        if (!reach[HS_DONE])
            fail_msg("state %s cannot reach DONE", hs_state_name((hs_state)s));
    }
}

/* Writes the Mermaid state diagram for the table. */
static void write_diagram(FILE *out)
{
    fprintf(out, "# The handshake state table\n\n"
                 "Generated from `hs_table` in `handshake/handshake.c` by\n"
                 "`tests/unit/test_hs_table.c`, which fails when this file no longer\n"
                 "matches the table (regenerate it with `PETREL_WRITE_DOCS=1\n"
                 "build/tests/unit/test_hs_table`).\n"
                 "Every message not listed for a state is `unexpected_message`.\n"
                 "ChangeCipherSpec is not a handshake message but moves the table too;\n"
                 "HelloVerifyRequest exists in DTLS only. The server's cookie exchange\n"
                 "happens before a ClientHello reaches the table (`dtls/`).\n\n"
                 "```mermaid\nstateDiagram-v2\n");
    fprintf(out, "    [*] --> CLIENT_WAIT_SERVER_HELLO: send ClientHello\n");
    fprintf(out, "    [*] --> SERVER_WAIT_CLIENT_HELLO\n");
    for (size_t i = 0; i < hs_table_len; i++) {
        const hs_transition *t = &hs_table[i];
        fprintf(out, "    %s --> %s: %s%s%s%s\n", hs_state_name(t->state), hs_state_name(t->next),
                message_name(t->message), t->datagram_only ? " (DTLS)" : "", t->guard ? " if " : "",
                t->guard ? t->guard_name : "");
    }
    fprintf(out, "    DONE --> [*]\n```\n");
}

static void docs_diagram_matches_the_table(void **state)
{
    (void)state;
    const char *path = PETREL_SOURCE_DIR "/docs/handshake.md";
    char *generated = NULL;
    size_t generated_len = 0;
    FILE *mem = open_memstream(&generated, &generated_len);
    assert_non_null(mem);
    write_diagram(mem);
    fclose(mem);
    if (getenv("PETREL_WRITE_DOCS")) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fwrite(generated, 1, generated_len, f);
        fclose(f);
    }
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("%s is missing: run with PETREL_WRITE_DOCS=1", path);
    char *committed = calloc(1, generated_len + 2);
    assert_non_null(committed);
    size_t got = fread(committed, 1, generated_len + 1, f);
    fclose(f);
    if (got != generated_len || memcmp(committed, generated, generated_len) != 0)
        fail_msg("docs/handshake.md does not match hs_table: run with PETREL_WRITE_DOCS=1");
    free(committed);
    free(generated);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_are_unique),
        cmocka_unit_test(guards_are_exclusive),
        cmocka_unit_test(rows_are_well_formed),
        cmocka_unit_test(every_state_leads_to_done),
        cmocka_unit_test(docs_diagram_matches_the_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
