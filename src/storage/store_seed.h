/* Lookups of the seed fixture loader (src/resources/seed.c): whether an id
 * or a credential is in use anywhere in the database, whatever its kind or
 * organization, so that a fixture naming one gets a message instead of a
 * constraint failure. Each answers STORE_ONE (in use), STORE_NONE (free) or
 * a failure, on the connection given (the loader's write transaction). */
#ifndef LAS_STORAGE_STORE_SEED_H
#define LAS_STORAGE_STORE_SEED_H

#include "storage/store.h"

/* An object (any kind, any organization) has this id. */
store_status store_seed_id_used(store *s, const char *id);
/* An app client has this OAuth2 client id. */
store_status store_seed_client_id_used(store *s, const char *client_id);
/* An app client has this api key. */
store_status store_seed_api_key_used(store *s, const char *api_key);

#endif
