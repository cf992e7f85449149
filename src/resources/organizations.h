/* Organizations: the tenant every object belongs to. */
#ifndef LAS_RESOURCES_ORGANIZATIONS_H
#define LAS_RESOURCES_ORGANIZATIONS_H

#include "routing/api.h"

#include <stdbool.h>
#include <stddef.h>

/* Creates an organization owned by itself; its id is written into
 * req->principal.org_id. Runs inside the caller's transaction. */
store_status organizations_create(api_request *req, const char *name);
/* The allowance `field` (e.g. "numberOfModelsAllowed") every organization
 * has: a server setting (--allowances), not stored data. */
int64_t organizations_allowance(const char *field);

/* Counts one more `usage` ("documents", "predictions", "dataBundles",
 * "transitionExecutions", "workflowExecutions") this month; status 0 when
 * done, 429 Limit Exceeded when the monthly allowance is used up. */
api_response organizations_consume(api_request *req, const char *usage);
/* Applies --allowances "field=N,field=N" over the defaults. */
bool organizations_configure(const char *spec, char *err, size_t errlen);

#endif
