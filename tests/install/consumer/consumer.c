/* An outside program built against an installed petrel: it sees only the
 * public header and the library. */
#include <stdio.h>
#include <string.h>

#include <petrel/petrel.h>

static void report(void *ref, const char *check, int result)
{
    int *checks = ref;
    (*checks)++;
    if (result != 0)
        printf("self-test check failed: %s: %s\n", check, petrel_strerror(result));
}

int main(void)
{
    if (strcmp(petrel_version(), PETREL_VERSION) != 0) {
        printf("header version %s, library version %s\n", PETREL_VERSION, petrel_version());
        return 1;
    }
    petrel_platform platform = petrel_platform_default();
    if (!platform.alloc || !platform.rng || strcmp(petrel_strerror(PETREL_ERR_ARG), "") == 0)
        return 1;
    int checks = 0;
    int rc = petrel_crypto_selftest(report, &checks);
    printf("consumer: petrel %s, %d self-test checks, result %s\n", petrel_version(), checks,
           petrel_error_name(rc));
    return rc == 0 && checks > 0 ? 0 : 1;
}
