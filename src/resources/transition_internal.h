/* What the transition files share (transitions.c: the transitions;
 * transition_executions.c: executions, their timeouts and the end hook;
 * transition_docker.c: the docker modes, their jobs, the commands'
 * environment, output and exit). Nothing else includes this. */
#ifndef LAS_RESOURCES_TRANSITION_INTERNAL_H
#define LAS_RESOURCES_TRANSITION_INTERNAL_H

#include "core/ids.h"
#include "resources/transition_runtime.h"
#include "storage/store.h"
#include "storage/store_transitions.h"
#include "validation/jsonschema.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRANSITION_KIND "transition"
/* timeoutInSeconds when none is given: the reference's example value and
 * the official SDK's "heartbeat at least once every 60 seconds". */
#define TRANSITION_DEFAULT_TIMEOUT_S 60

/* Loads a transition of org_id: *out is a NEW reference on STORE_ONE. */
store_status transition_load(store *s, const char *org_id, const char *id,
                             json_t **out);

/* Compiles a JSON Schema a transition carries (draft 4 when its $schema
 * names draft-04, otherwise draft 7); NULL with the reason in err. */
js_schema *transition_schema_compile(const json_t *schema, char *err,
                                     size_t errlen);

/* ---- executions (transition_executions.c) ---- */

/* The engine jobs of executions: the heartbeat timeout (one per running
 * execution), the auto completion and the command launch of docker
 * transitions. */
#define TRANSITION_JOB_TIMEOUT "transition-timeout"
#define TRANSITION_JOB_AUTO "transition-auto"
#define TRANSITION_JOB_LAUNCH "transition-launch"
#define TRANSITION_JOB_COMPLETED "workflow-completed-command"

/* Fails every running execution of a transition with `message` (as a
 * PATCH failed would, with the end hook; commands are killed). */
store_status transition_exec_abort_all(store *s, const char *org_id,
                                       const char *transition_id,
                                       const char *message, int64_t now_us);

/* Loads an execution's body (NEW) and its row. */
store_status transition_exec_load(store *s, const char *org_id, const char *id,
                                  json_t **body, store_texec *row);

/* How an execution ends. */
typedef struct transition_ending {
  const char *status;       /* succeeded, failed, rejected, retry */
  const json_t *output;     /* succeeded */
  const json_t *error;      /* otherwise; may be NULL */
  const char *completed_by; /* NULL: the emulator itself */
  bool timed_out;
} transition_ending;

/* Stores a running execution (body and row as loaded, both updated) in its
 * final state, logs it, and calls the end hook for a workflow's execution;
 * only call it for one that runs. */
store_status transition_exec_end(store *s, const char *org_id, const char *id,
                                 json_t *body, store_texec *row,
                                 const transition_ending *e, int64_t now_us);
/* Ends execution id as failed with `message`, if it still runs. */
store_status transition_exec_fail(store *s, const char *org_id, const char *id,
                                  const char *message, bool timed_out,
                                  int64_t now_us);
/* Appends an event with `message` to the execution's log. */
store_status transition_exec_log(store *s, const char *org_id,
                                 const json_t *body, int64_t at_us,
                                 const char *message);
/* Validates instance against the transition's schema `field`
 * (inputJsonSchema/outputJsonSchema; none: valid), the root named `root`;
 * false with the reason in why. */
bool transition_exec_matches(const json_t *transition, const char *field,
                             const json_t *instance, const char *root,
                             char *why, size_t whylen);
/* Text as a JSON string: invalid UTF-8 and NUL bytes become '?'. */
json_t *transition_text(const char *p, size_t n);
/* {"message": message}, kept to 4 KiB of valid UTF-8 (NEW). */
json_t *transition_exec_error(const char *message);
/* The job TRANSITION_JOB_TIMEOUT. */
store_status transition_timeout_job(store *s, const store_job *job,
                                    int64_t now_us);

/* ---- docker modes (transition_docker.c) ---- */

/* The jobs TRANSITION_JOB_AUTO and TRANSITION_JOB_LAUNCH. */
store_status transition_auto_job(store *s, const store_job *job,
                                 int64_t now_us);
store_status transition_launch_job(store *s, const store_job *job,
                                   int64_t now_us);
/* The job TRANSITION_JOB_COMPLETED (transition_completed.c): runs the
 * command of a workflow execution's completion step. */
store_status transition_completed_job(store *s, const store_job *job,
                                      int64_t now_us);
/* The command line mapped to an image (or by "*"), or NULL. */
const char *transition_docker_command(const char *image);
/* Starts `/bin/sh -c command` on the runner as child `id` with env (an
 * array of "NAME=value" strings, borrowed); its output and end go to
 * log_id of org_id, unless a reset or restore replaced the data meanwhile.
 * false when it could not be queued. */
bool transition_command_spawn(const char *id, const char *org_id,
                              const char *log_id, const char *command,
                              const json_t *env);
/* Whether the API endpoint is known yet (transitions_set_endpoints). */
bool transition_docker_ready(void);
/* The environment of the command run for execution exec_id of
 * `transition`: a NEW array of "NAME=value" strings (see the README). On
 * STORE_NONE `why` says what is wrong (a secret gone, a bad variable
 * name); other statuses are store failures. May create the organization's
 * transition credentials (an app client) in the caller's transaction. */
store_status transition_docker_env(store *s, const char *org_id,
                                   const json_t *transition,
                                   const char *exec_id, int64_t now_us,
                                   json_t **env, char *why, size_t whylen);

#endif
