/*
 * libFuzzer target: a whole DTLS 1.2 PSK client (the petrel_conn engine)
 * fed the server's datagrams from the input.
 *
 * Input (fuzz_common.h): an options byte (suites offered, PMTU), then
 * datagrams, each as uint16 delay_ms, uint16 length, bytes. The client's
 * config has the PSK "client" / 01..10, its platform a virtual clock and
 * a splitmix64 RNG seeded with a fixed value, so a run is reproducible;
 * both are reset for every input.
 *
 * The client connection is created and petrel_connect called before the
 * first datagram (its ClientHello is drained). Per datagram: the virtual
 * clock advances by delay_ms and the connection handles its timer, then
 * the datagram is fed to it. A connection that fails is drained and
 * freed, and a new one connects for the next datagram. The loop is
 * fuzz_run_client and the engine checks are in fuzz_engine.h (make_corpus.c
 * replays its seeds through the same code).
 *
 * The seeds (tests/fuzz/corpus/client/) are the server's datagrams of
 * real handshakes recorded by make_corpus.c; the client here sends the
 * same ClientHellos as when they were recorded, so they complete the
 * handshake.
 */
#include <stddef.h>
#include <stdint.h>

#include "tests/fuzz/fuzz_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fuzz_run_client(data, size);
    return 0;
}
