/*
 * petrel: the command-line tool.
 *
 *   petrel client --dtls --connect HOST:PORT --psk-identity ID --psk HEX ...
 *   petrel server --dtls --listen HOST:PORT --psk-identity ID --psk HEX ...
 *   (--tls instead of --dtls: TLS 1.2 over TCP)
 *   petrel selftest [-q]   run the crypto backend's known-answer self-test
 *   petrel version         print the library and backend versions
 *
 *   petrel proxy --listen HOST:PORT --forward HOST:PORT --loss 30% ...
 *
 * Later subcommands (bench) join the table below.
 */
#include <stdio.h>
#include <string.h>

#include <petrel/petrel.h>

#include "tools/tool.h"

typedef struct selftest_tally {
    int passed;
    int failed;
    int quiet;
} selftest_tally;

static void selftest_report(void *ref, const char *check, int result)
{
    selftest_tally *tally = ref;
    if (result == 0)
        tally->passed++;
    else
        tally->failed++;
    if (result != 0)
        printf("  %-44s FAILED: %s\n", check, petrel_error_name(result));
    else if (!tally->quiet)
        printf("  %-44s ok\n", check);
}

static int cmd_selftest(int argc, char **argv)
{
    selftest_tally tally = {0, 0, 0};
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-q") == 0) {
            tally.quiet = 1;
        } else {
            fprintf(stderr, "petrel selftest: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    printf("petrel %s crypto self-test, backend: %s\n", petrel_version(), petrel_crypto_backend());
    int rc = petrel_crypto_selftest(selftest_report, &tally);
    printf("%d passed, %d failed\n", tally.passed, tally.failed);
    if (rc != 0) {
        fprintf(stderr, "petrel selftest: %s (%s)\n", petrel_strerror(rc), petrel_error_name(rc));
        return 1;
    }
    return 0;
}

static int cmd_version(int argc, char **argv)
{
    (void)argv;
    if (argc != 0) {
        fprintf(stderr, "petrel version: takes no arguments\n");
        return 2;
    }
    printf("petrel %s (built against %s), crypto: %s\n", petrel_version(), PETREL_VERSION,
           petrel_crypto_backend());
    return 0;
}

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"client", tool_client,
     "connect to a DTLS (or --tls: TLS) server, send, print what comes back"},
    {"server", tool_server, "serve DTLS on a UDP port, or --tls: TLS on TCP (--echo to echo)"},
    {"proxy", tool_proxy, "relay UDP with netem-style loss, delay, reordering, ..."},
    {"selftest", cmd_selftest, "run the crypto known-answer self-test [-q: failures only]"},
    {"version", cmd_version, "print the library and crypto backend versions"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: petrel <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    }
    fprintf(stderr, "petrel: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
