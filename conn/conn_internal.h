/* What transport/ may see of a config beyond the public API. */
#ifndef PETREL_CONN_INTERNAL_H
#define PETREL_CONN_INTERNAL_H

#include <petrel/petrel.h>

/* The platform hooks the config was created with. */
const petrel_platform *conn_config_platform(const petrel_config *cfg);

#endif
