/* Workflow executions in the store: the API object (body) and the engine's
 * state of the machine (state) of each execution, listed per workflow by
 * start or end and filtered by status. Implemented in store_workflows.c.
 * All JSON arguments are borrowed. */
#ifndef LAS_STORAGE_STORE_WORKFLOWS_H
#define LAS_STORAGE_STORE_WORKFLOWS_H

#include "storage/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Inserts a new execution (status is body's; ended as in
 * store_wfx_update). */
store_status store_wfx_insert(store *s, const char *org_id,
                              const char *workflow_id, const char *id,
                              const char *status, bool ended,
                              const json_t *body, const json_t *state);

/* Loads an execution of org_id: *body and, when state is not NULL, *state
 * are NEW references; workflow_id (64 bytes, may be NULL) receives its
 * workflow. STORE_NONE when there is no such execution. */
store_status store_wfx_get(store *s, const char *org_id, const char *id,
                           char *workflow_id, json_t **body, json_t **state);
/* The body as stored (malloc'ed text, caller frees), for answers built
 * without parsing it. */
store_status store_wfx_get_text(store *s, const char *org_id, const char *id,
                                char workflow_id[64], char **text, size_t *len);

/* Replaces body and state (state NULL: kept) and the status. `ended` says
 * whether the execution has ended (it then takes its place in the endTime
 * order, once; otherwise it sorts with the running ones). */
store_status store_wfx_update(store *s, const char *id, const char *status,
                              bool ended, const json_t *body,
                              const json_t *state);
store_status store_wfx_delete(store *s, const char *id);
/* Deletes every execution of a workflow. */
store_status store_wfx_delete_workflow(store *s, const char *workflow_id);

/* Executions of a workflow with status running or retry, or -1. */
int64_t store_wfx_count_running(store *s, const char *workflow_id);

/* A page of a workflow's executions as JSON text "[{…},…]" (malloc'ed),
 * ordered by start (creation) or end (see 007_workflow_executions.sql),
 * ascending or descending, after position `after` (0: from the start), at
 * most limit; statuses (JSON array, may be NULL) filters. *last receives the
 * position of the last item and *more whether another page exists. */
typedef struct store_wfx_query {
  const char *org_id;
  const char *workflow_id;
  const json_t *statuses;
  bool by_end;
  bool descending;
  int64_t after;
  int limit;
} store_wfx_query;
store_status store_wfx_page_text(store *s, const store_wfx_query *q,
                                 char **text, size_t *len, int64_t *last,
                                 bool *more);

#endif
