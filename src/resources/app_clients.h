/* App clients: OAuth2 clients of an organization. */
#ifndef LAS_RESOURCES_APP_CLIENTS_H
#define LAS_RESOURCES_APP_CLIENTS_H

#include "routing/api.h"

#include <stdbool.h>

/* Creates an app client in req->principal.org_id from `attrs` (borrowed;
 * PostAppClients fields). client_id/secret/api_key are used when not NULL,
 * else generated; with_secret false makes a public client. *out is the NEW
 * response object, including clientSecret when there is one. */
store_status app_clients_make(api_request *req, const json_t *attrs,
                              const char *client_id, const char *secret,
                              const char *api_key, bool with_secret,
                              json_t **out);

/* POST /appClients with given credentials (each NULL: generated): the
 * handler's rules (allowance, generateSecret) on req->body, a PostAppClients
 * body already validated. A secret with generateSecret false is a 400. For
 * seed fixtures; the handler passes NULLs. */
api_response app_clients_create_with(api_request *req, const char *client_id,
                                     const char *secret, const char *api_key);

#endif
