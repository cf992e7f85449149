/* A workflow's completedConfig in docker mode command. When an execution
 * ends, its completion step (src/workflows/scheduler.c) runs the command
 * mapped to completedConfig.imageUrl the way a docker transition's
 * execution runs: the same environment (completedConfig.environment, the
 * values of environmentSecrets, LAS_* credentials and endpoints), plus
 * WORKFLOW_ID, WORKFLOW_EXECUTION_ID and EXECUTION_ID (both the workflow
 * execution's id) and TRANSITION_ID las:transition:commons-completed. Its
 * output and how it ended go to the completion step's log
 * (completedTaskLogId); the execution has ended already, so nothing else
 * changes. */
#include "core/log.h"
#include "engine/engine.h"
#include "resources/logs.h"
#include "resources/transition_internal.h"
#include "resources/transition_runtime.h"
#include "resources/transitions.h"
#include "storage/store_workflows.h"
#include "workflows/scheduler.h"

#include <stdio.h>
#include <string.h>

/* While the HTTP server is not listening yet, a launch waits this long. */
#define COMPLETED_RETRY_US 200000

bool transition_completion_runs(const char *image) {
  return transitions_mode() == TRANSITIONS_DOCKER_COMMAND && image && *image &&
         transition_docker_command(image) != NULL;
}

store_status transition_completion_start(store *s, const char *org_id,
                                         const char *wfx_id, int64_t now_us) {
  return store_job_add(s, TRANSITION_JOB_COMPLETED, wfx_id, org_id, now_us);
}

static store_status completed_log(store *s, const char *org_id,
                                  const char *log_id, int64_t now_us,
                                  const char *line) {
  store_status st = logs_append(s, org_id, log_id,
                                json_pack("[o]", logs_event(now_us, line)));
  return st == STORE_NONE ? STORE_ONE : st;
}

/* Adds NAME=value to an environment array (a later entry wins in execve's
 * reading only by order, so callers add names the environment lacks). */
static void completed_env_add(json_t *env, const char *name,
                              const char *value) {
  char entry[512];
  snprintf(entry, sizeof entry, "%s=%s", name, value);
  json_array_append_new(env, json_string(entry));
}

store_status transition_completed_job(store *s, const store_job *job,
                                      int64_t now_us) {
  json_t *body = NULL, *wf = NULL, *env = NULL;
  char workflow_id[64] = "";
  store_status st =
      store_wfx_get(s, job->org_id, job->target_id, workflow_id, &body, NULL);
  if (st != STORE_ONE)
    return st == STORE_NONE ? STORE_ONE : st;
  const char *log_id =
      json_string_value(json_object_get(body, "completedTaskLogId"));
  store_obj_key key = {"workflow", job->org_id, workflow_id};
  if (!log_id || (st = store_obj_get(s, &key, &wf)) != STORE_ONE) {
    json_decref(body);
    return st == STORE_NONE || !log_id ? STORE_ONE : st;
  }
  if (!transition_docker_ready()) {
    json_decref(wf);
    json_decref(body);
    return store_job_add(s, TRANSITION_JOB_COMPLETED, job->target_id,
                         job->org_id, now_us + COMPLETED_RETRY_US);
  }
  const json_t *cc = json_object_get(wf, "completedConfig");
  const char *image = json_string_value(json_object_get(cc, "imageUrl"));
  const char *command = transition_docker_command(image);
  char line[1200], why[1024] = "";
  if (!command) {
    snprintf(line, sizeof line,
             "not run: no command is mapped to image %s any more",
             image ? image : "");
    st = completed_log(s, job->org_id, log_id, now_us, line);
    goto done;
  }
  json_t *as_transition =
      json_pack("{s:s, s:O}", "transitionId", SCHEDULER_COMPLETED_TRANSITION,
                "parameters", (json_t *)cc);
  st = transition_docker_env(s, job->org_id, as_transition, job->target_id,
                             now_us, &env, why, sizeof why);
  json_decref(as_transition);
  if (st == STORE_NONE) {
    snprintf(line, sizeof line, "not run: %s", why);
    st = completed_log(s, job->org_id, log_id, now_us, line);
    goto done;
  }
  if (st != STORE_ONE)
    goto done;
  completed_env_add(env, "WORKFLOW_ID", workflow_id);
  completed_env_add(env, "WORKFLOW_EXECUTION_ID", job->target_id);
  snprintf(line, sizeof line, "running /bin/sh -c '%s' for image %s", command,
           image);
  st = completed_log(s, job->org_id, log_id, now_us, line);
  if (st != STORE_ONE)
    goto done;
  if (!transition_command_spawn(job->target_id, job->org_id, log_id, command,
                                env)) {
    log_msg(LOG_WARN,
            "transitions: the completion command of %s could not "
            "be started",
            job->target_id);
    st = completed_log(s, job->org_id, log_id, now_us,
                       "the command could not be started");
  }
done:
  json_decref(env);
  json_decref(wf);
  json_decref(body);
  return st;
}
