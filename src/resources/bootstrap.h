/* The first tenant: on an empty database, one organization, one user and one
 * app client, with credentials from LAS_CLIENT_ID / LAS_CLIENT_SECRET /
 * LAS_API_KEY when given, generated otherwise. */
#ifndef LAS_RESOURCES_BOOTSTRAP_H
#define LAS_RESOURCES_BOOTSTRAP_H

#include "core/config.h"
#include "routing/api.h"

typedef struct bootstrap_info {
  api_principal principal; /* the bootstrap app client, for --no-auth */
  char client_id[256];
  char client_secret[256]; /* empty when not known (set elsewhere) */
  char api_key[256];
} bootstrap_info;

/* Creates what is missing; false with a reason on failure. */
bool bootstrap_run(const config *cfg, bootstrap_info *out,
                   char *err, size_t errlen);

#endif
