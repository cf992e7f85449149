/* What transitions offer the rest of the program (the workflow engine): start
 * an execution of a transition inside the caller's write transaction, learn
 * when one ends, and stop one. The HTTP handlers of /transitions and
 * /transitions/{id}/executions are in resources.h like every handler.
 * Implemented in src/resources/transitions.c and transition_executions.c. */
#ifndef LAS_RESOURCES_TRANSITIONS_H
#define LAS_RESOURCES_TRANSITIONS_H

#include "core/ids.h"
#include "storage/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Who starts an execution, for the execution's log and its workflow links.
 * workflow_id / workflow_execution_id are NULL for a direct start
 * (POST /transitions/{id}/executions). */
typedef struct transition_start {
  const char *org_id;
  const char *transition_id;
  const json_t *input; /* borrowed; the execution's input, verbatim */
  const char *workflow_id;
  const char *workflow_execution_id;
  const char *started_by; /* app client or user id, or NULL (the engine) */
  int64_t now_us;
} transition_start;

/* Starts an execution on the write connection s (the caller's transaction):
 * stores it `running` with a fresh log, schedules its heartbeat timeout and,
 * for docker transitions, what the server's docker mode does (auto
 * completion, nothing, or running the mapped command after commit).
 * STORE_ONE with out_id set; STORE_NONE when the transition does not exist
 * in the organization, the input fails its inputJsonSchema (why then
 * names the rule, e.g. "input.name: must be string"), or the organization's
 * monthlyNumberOfTransitionExecutionsAllowed is used up (the start counts
 * in monthlyNumberOfTransitionExecutionsCreated); other statuses are store
 * failures. */
store_status transition_exec_start(store *s, const transition_start *start,
                                   char out_id[IDS_MAX_LEN], char *why,
                                   size_t whylen);

/* An execution that has just ended, as told to the end hook. */
typedef struct transition_end {
  const char *org_id;
  const char *transition_id;
  const char *execution_id;
  const char *workflow_execution_id; /* NULL for a direct start */
  const char *status;   /* "succeeded", "failed", "rejected" or "retry" */
  const json_t *output; /* succeeded: the output; otherwise NULL */
  const json_t *error;  /* otherwise: {"message": …} (a timeout says so) */
  bool timed_out;       /* failed by the engine for a missing heartbeat */
  /* Who completed it (a user or app client id; NULL when the engine
   * did), for the workflow execution's completedBy. */
  const char *completed_by;
  int64_t at_us;
} transition_end;

/* Called inside the transaction that ends an execution started for a
 * workflow execution (a PATCH, a timeout, a docker completion), after the
 * execution is stored in its final state. A status other than STORE_ONE
 * rolls the whole transaction back. One hook; set before the server
 * starts. */
typedef store_status (*transition_end_fn)(store *s, const transition_end *e);
void transition_exec_set_end_hook(transition_end_fn fn);

/* Marks a running execution as no longer able to move its workflow
 * execution (the workflow execution was stopped): later PATCHes still
 * complete it, but the end hook is not called. STORE_NONE when unknown. */
store_status transition_exec_detach(store *s, const char *org_id,
                                    const char *execution_id);

/* A workflow's completedConfig (transition_completed.c): whether the
 * completion step of `image` runs a command (docker mode command with a
 * command mapped to the image), and scheduling that command for workflow
 * execution wfx_id in the caller's transaction; the execution's
 * completedTaskLogId receives its output and exit. */
bool transition_completion_runs(const char *image);
store_status transition_completion_start(store *s, const char *org_id,
                                         const char *wfx_id, int64_t now_us);

/* Whether a transition exists in the organization (for the workflow
 * definition checker): STORE_ONE, STORE_NONE, or a store failure. */
store_status transition_exists(store *s, const char *org_id,
                               const char *transition_id);

#endif
