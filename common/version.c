#include <petrel/petrel.h>

const char *petrel_version(void)
{
    return PETREL_VERSION;
}
