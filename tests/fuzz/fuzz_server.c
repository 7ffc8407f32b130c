/*
 * libFuzzer target: a whole DTLS 1.2 PSK server (the petrel_conn engine)
 * fed datagrams from the input.
 *
 * Input (fuzz_common.h): an options byte (suites, PMTU, PSK hint, cookie
 * gate), then datagrams, each as uint16 delay_ms, uint16 length, bytes.
 * The server's config has the PSK "client" / 01..10, its platform a
 * virtual clock and a splitmix64 RNG seeded with a fixed value, so a run
 * is reproducible; both are reset for every input.
 *
 * Per datagram: the virtual clock advances by delay_ms and the connection
 * (if any) handles its timer; the datagram goes through
 * petrel_server_check_hello as a UDP server would (for every datagram,
 * with the 128-byte reply buffer the header says is enough; a
 * HelloVerifyRequest reply must be one well-formed epoch-0 handshake
 * record); then into the one server connection (peer id 127.0.0.1:5000).
 * The connection is created for the first datagram that check_hello
 * accepts (a valid cookie), as the UDP server does, or, with
 * FUZZ_OPT_NO_GATE, for the first datagram whatever check_hello said, so
 * that the connection's own cookie exchange is reached too. A connection
 * that fails is drained and freed; the next datagram may create another.
 * The loop is fuzz_run_server and the engine checks are in fuzz_engine.h
 * (make_corpus.c replays its seeds through the same code).
 *
 * The seeds (tests/fuzz/corpus/server/) are the client's datagrams of
 * real handshakes recorded by make_corpus.c, which the server here answers
 * exactly as it did when they were recorded, so the fuzzer starts from
 * complete handshakes.
 */
#include <stddef.h>
#include <stdint.h>

#include "tests/fuzz/fuzz_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fuzz_run_server(data, size);
    return 0;
}
