/* Running workflow executions durably. An execution's machine state (where
 * each of its runs is: the root machine, and one run per branch of a
 * Parallel state in progress) is kept with the execution in the store and
 * changed only inside write transactions, together with the jobs that will
 * move it on (engine job kind SCHEDULER_JOB): after a kill -9 the engine
 * resumes exactly where the last commit left it. Each job evaluates states
 * (asl_eval.h) until every run waits (for a transition execution, a Wait, a
 * Retry interval or its Parallel branches) or the execution ends, at most
 * SCHEDULER_STEPS_PER_JOB states per job (then it continues in a new job),
 * and at most SCHEDULER_MAX_STEPS states per execution (then it fails with
 * States.Runtime), so that a machine of Pass and Choice states that loops
 * forever can neither hold the engine nor run without end. Time comes from
 * the engine's `now` (the clock module), never from the system. */
#ifndef LAS_WORKFLOWS_SCHEDULER_H
#define LAS_WORKFLOWS_SCHEDULER_H

#include "resources/transitions.h"
#include "storage/store.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define SCHEDULER_JOB "workflow-step"
#define SCHEDULER_STEPS_PER_JOB 1000
#define SCHEDULER_STEPS_INLINE 100
#define SCHEDULER_MAX_STEPS 25000
/* Transition executions that end with status `retry` are started again with
 * the same input, this many times in a row at most; then the step fails
 * with States.TaskFailed. */
#define SCHEDULER_MAX_TASK_RETRIES 10
/* The transition ids of the logs the engine writes for an execution (its
 * logId) and for its completion step (completedTaskLogId). */
#define SCHEDULER_LOG_TRANSITION "las:transition:commons-workflow-execution"
#define SCHEDULER_COMPLETED_TRANSITION "las:transition:commons-completed"
#define SCHEDULER_FAILED_TRANSITION "las:transition:commons-failed"

/* Stores a new execution of workflow (its object; borrowed, like
 * definition): body is the API object as the handler built it
 * (executionId, workflowId, input, status running, events, …; borrowed and
 * changed: it becomes the stored execution, with its logId), and the
 * machine starts at definition's StartAt with body's input. The first
 * states are evaluated at once, in the caller's transaction (at most
 * SCHEDULER_STEPS_INLINE, up to the first wait): a machine of Pass and
 * Choice states has ended when the request commits, as if the engine had
 * been very quick; the caller answers the execution as it started. What
 * remains is the engine's. */
store_status scheduler_start(store *s, const char *org_id,
                             const json_t *workflow, const json_t *definition,
                             json_t *body, int64_t now_us);

/* The engine job: moves the execution job->target_id on. */
store_status scheduler_step(store *s, const store_job *job, int64_t now_us);

/* The end hook of transition executions (transition_exec_set_end_hook):
 * hands the outcome to the run that waits for it and schedules a job. An
 * execution that is gone or no longer waits for it is left alone. */
store_status scheduler_transition_ended(store *s, const transition_end *e);

/* DELETE: detaches every transition execution the execution waits for and
 * deletes it; *body (NEW) is the execution as it was. STORE_NONE when it
 * does not exist in org_id. */
store_status scheduler_delete(store *s, const char *org_id,
                              const char *execution_id, json_t **body);

/* PATCH nextTransitionId: SCHEDULER_FAILED_TRANSITION ends an execution that
 * has not ended (running, retry, error) as failed; a transition of the
 * workflow continues an execution in status `error` (a step failed and
 * errorConfig.manualRetry is on) at the top-level Task state running that
 * transition, with the input that state last had (or, when it never ran,
 * the input of the state that failed); its first states run in the
 * caller's transaction, as in scheduler_start. On STORE_ONE *body is the
 * execution (NEW). STORE_NONE: why empty means no such execution (404),
 * otherwise the request is refused for that reason: *conflict true when the
 * execution's status does not allow it (409: already ended, or not in
 * status error), false for a request that is wrong whatever the status
 * (400). principal is recorded in completedBy when it ends the execution. */
store_status scheduler_continue(store *s, const char *org_id,
                                const char *execution_id,
                                const char *next_transition_id,
                                const char *principal, int64_t now_us,
                                json_t **body, char *why, size_t whylen,
                                bool *conflict);

#endif
