/*
 * libFuzzer target: a whole DTLS 1.2 server (the petrel_conn engine) fed
 * datagrams from the input: PSK, ECDHE_PSK, and ECDHE with X.509 chains
 * or raw public keys.
 *
 * Input (fuzz_common.h): an options byte (credentials, suites, PMTU, PSK
 * hint, cookie gate), then datagrams, each as uint16 delay_ms, uint16
 * length, bytes. The options pick the server's config: the PSK "client" /
 * 01..10; or the ECDSA chain (RSA: three certificates) with the signed
 * ServerKeyExchange, asking for no client certificate or requiring one
 * from ca-all.pem's CAs (CertificateRequest, the client's Certificate, its
 * chain check and CertificateVerify); or raw public keys, requiring the
 * client's pinned key (the certificate type extensions). A ClientHello's
 * server_name is parsed in every mode. The test PKI is read from
 * tests/pki once, in LLVMFuzzerInitialize. The platform has a virtual
 * clock, a splitmix64 RNG seeded with a fixed value and a wall-clock time
 * fixed at 2026-01-01 (inside the test certificates' validity), and
 * libcrypto's DRBG is made fixed too (it feeds the signatures: see
 * fuzz_engine.h), so a run is reproducible; the clock and the RNG are
 * reset for every input.
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
 * exactly as it did when they were recorded (the same randoms, keys and
 * signatures), so the fuzzer starts from complete handshakes.
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
    (void)fuzz_run_server(data, size);
    return 0;
}
