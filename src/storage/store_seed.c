/* The seed loader's lookups (see store_seed.h). */
#include "storage/store_seed.h"
#include "storage/store_internal.h"

static const char seed_id_sql[] = "SELECT 1 FROM objects WHERE id = ?1";
static const char seed_client_sql[] =
    "SELECT 1 FROM clients WHERE client_id = ?1";
static const char seed_api_key_sql[] =
    "SELECT 1 FROM clients WHERE api_key = ?1";

store_status store_seed_id_used(store *s, const char *id) {
  return store_row_exists(s, seed_id_sql, id, "seed: id lookup");
}

store_status store_seed_client_id_used(store *s, const char *client_id) {
  return store_row_exists(s, seed_client_sql, client_id,
                          "seed: client id lookup");
}

store_status store_seed_api_key_used(store *s, const char *api_key) {
  return store_row_exists(s, seed_api_key_sql, api_key, "seed: api key lookup");
}
