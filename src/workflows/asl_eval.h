/* Evaluating one state of an Amazon States Language machine: what happens
 * when an execution enters a state with an input, and what happens when a
 * Task or Parallel state's work comes back with a result or an error. Pure
 * functions of (machine, state, input, context, now): no I/O and no clock,
 * so the scheduler (scheduler.c) can run them inside its transactions and
 * tests can drive them from a table. The data side (paths, Choice rules,
 * Wait deadlines, Retry/Catch matching) is asl_data.h's. A machine is the
 * object holding StartAt and States: a definition, or a Parallel branch. */
#ifndef LAS_WORKFLOWS_ASL_EVAL_H
#define LAS_WORKFLOWS_ASL_EVAL_H

#include "workflows/asl_data.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum {
  ASL_GO_NEXT,     /* continue in state `next` with `data` as its input */
  ASL_GO_END,      /* the machine ends successfully with `data` as output */
  ASL_GO_FAIL,     /* the machine fails with err (a Fail state, or an error no
                      Retrier or Catcher handled) */
  ASL_GO_WAIT,     /* a Wait: at until_us continue in `next` (NULL: end) with
                      `data` */
  ASL_GO_TASK,     /* run transition `resource` with `data` (the effective
                      input, verbatim); its outcome goes to asl_eval_result */
  ASL_GO_PARALLEL, /* run every branch of the state with `data` as input;
                      the array of their outputs, in branch order, or the
                      first branch failure goes to asl_eval_result */
  ASL_GO_RETRY     /* run the state again (from its raw input) at until_us */
} asl_go;

typedef struct asl_outcome {
  asl_go go;
  const char *next;     /* NEXT, WAIT: borrowed from the machine */
  const char *resource; /* TASK: borrowed from the machine */
  json_t *data;         /* NEW (NULL for FAIL and RETRY); see asl_go */
  int64_t until_us;     /* WAIT, RETRY */
  asl_error err;        /* FAIL; for RETRY and a caught error, the error */
  bool caught;          /* NEXT after a Catcher matched err */
} asl_outcome;

/* Releases what an outcome owns. */
void asl_outcome_clear(asl_outcome *out);

/* The state named `name` of machine, or NULL. */
const json_t *asl_state(const json_t *machine, const char *name);

/* Enters state `name` of machine with raw_input (borrowed). context is the
 * `$$` object (may be NULL); attempts is the state's Retrier counts (a JSON
 * array owned by the caller, [] when the state is entered by a transition,
 * kept across retries). Always fills *out; errors a Task or Parallel state
 * meets before its work starts (a Parameters path, …) go through its Retry
 * and Catch like errors of the work. States.Runtime is never retried or
 * caught (as in AWS Step Functions: it means the machine itself cannot go
 * on). */
void asl_eval_enter(const json_t *machine, const char *name,
                    const json_t *raw_input, const json_t *context,
                    int64_t now_us, json_t *attempts, asl_outcome *out);

/* A Task's or Parallel's work came back: result (borrowed) when it
 * succeeded, otherwise error and cause (NULL result). raw_input is the
 * state's raw input, as it was passed to asl_eval_enter. Gives NEXT or END
 * with the state's output, RETRY (at now_us + the Retrier's interval),
 * NEXT with `caught` set (the Catcher's Next, input = raw input with the
 * error at its ResultPath), or FAIL. */
void asl_eval_result(const json_t *machine, const char *name,
                     const json_t *raw_input, const json_t *result,
                     const char *error, const char *cause,
                     const json_t *context, int64_t now_us, json_t *attempts,
                     asl_outcome *out);

#endif
