/* What the transition files share (transitions.c: the transitions;
 * transition_executions.c: executions, their jobs and the end hook;
 * transition_docker.c: the docker modes and command environments). Nothing
 * else includes this. */
#ifndef LAS_RESOURCES_TRANSITION_INTERNAL_H
#define LAS_RESOURCES_TRANSITION_INTERNAL_H

#include "core/ids.h"
#include "resources/transition_runtime.h"
#include "storage/store.h"
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

/* Fails every running execution of a transition with `message` (as a
 * PATCH failed would, with the end hook; commands are killed). */
store_status transition_exec_abort_all(store *s, const char *org_id,
                                       const char *transition_id,
                                       const char *message, int64_t now_us);

/* ---- docker modes (transition_docker.c) ---- */

/* The command line mapped to an image (or by "*"), or NULL. */
const char *transition_docker_command(const char *image);
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
