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

/* The same inside the caller's write transaction (reset, restore), with
 * the ids of `same` (may be NULL; each field may be empty) for the
 * organization, user and app client it makes on a database without them.
 * STORE_NONE when the configured client id or api key belongs to another
 * app client. */
typedef struct bootstrap_ids {
  char org_id[64];
  char user_id[64];
  char app_client_id[64];
} bootstrap_ids;
store_status bootstrap_in_tx(store *s, const config *cfg,
                             const bootstrap_ids *same, bootstrap_info *out);

#endif
