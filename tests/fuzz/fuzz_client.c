/*
 * libFuzzer target: a whole DTLS 1.2 client (the petrel_conn engine) fed
 * the server's datagrams from the input: PSK, ECDHE_PSK, and ECDHE with
 * X.509 chains or raw public keys.
 *
 * Input (fuzz_common.h): an options byte (credentials, suites offered,
 * PMTU), then datagrams, each as uint16 delay_ms, uint16 length, bytes.
 * The options pick the client's config: the PSK "client" / 01..10; or
 * trust in ca-all.pem and the server name "localhost" (so the server's
 * Certificate, its chain check and name check, the signed
 * ServerKeyExchange and the server_name extension run), with or without
 * a client certificate of its own (CertificateRequest, the client's
 * Certificate and CertificateVerify); or raw public keys with the
 * server's key pinned (the certificate type extensions). EC or RSA keys.
 * The test PKI is read from tests/pki once, in LLVMFuzzerInitialize. The
 * platform has a virtual clock, a splitmix64 RNG seeded with a fixed
 * value and a wall-clock time fixed at 2026-01-01 (inside the test
 * certificates' validity), and libcrypto's DRBG is made fixed too (it
 * feeds the signatures: see fuzz_engine.h), so a run is reproducible;
 * the clock and the RNG are reset for every input.
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
 * same ClientHellos (and the same signatures) as when they were recorded,
 * so they complete the handshake.
 */
#include <stddef.h>
#include <stdint.h>

#include "tests/fuzz/fuzz_engine.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The test PKI and the fixed libcrypto DRBG, once (fuzz_engine_setup). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_engine_setup();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fuzz_run_client(data, size);
    return 0;
}
