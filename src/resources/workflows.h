/* Workflows: what the execution handlers and the engine need of them. */
#ifndef LAS_RESOURCES_WORKFLOWS_H
#define LAS_RESOURCES_WORKFLOWS_H

#include "routing/api.h"

/* The object kind workflows are stored as. */
#define WORKFLOWS_KIND "workflow"

/* Loads a workflow of the caller's organization (*out NEW on STORE_ONE). */
store_status workflows_load(const api_request *req, const char *id,
                            json_t **out);
/* Its specification's definition (*out on STORE_ONE: a reference the
 * caller releases, to a tree it must not change): stored apart from the
 * workflow object, which the API answers without it. */
store_status workflows_definition(store *s, const char *workflow_id,
                                  json_t **out);

#endif
