/* Users of an organization. */
#ifndef LAS_RESOURCES_USERS_H
#define LAS_RESOURCES_USERS_H

#include "routing/api.h"

/* Creates a user in req->principal.org_id from attrs (PostUsers fields,
 * borrowed). *out is the NEW user object; its id is in userId. */
store_status users_make(api_request *req, const json_t *attrs, json_t **out);

#endif
