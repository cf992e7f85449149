/* Organizations: the tenant every object belongs to. */
#ifndef LAS_RESOURCES_ORGANIZATIONS_H
#define LAS_RESOURCES_ORGANIZATIONS_H

#include "routing/api.h"

/* Creates an organization owned by itself; its id is written into
 * req->principal.org_id. Runs inside the caller's transaction. */
store_status organizations_create(api_request *req, const char *name);
/* The organization's allowance `field` (e.g. "numberOfModelsAllowed"), or
 * -1 on a store error. */
int64_t organizations_allowance(const api_request *req, const char *field);

#endif
