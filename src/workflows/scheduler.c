/* Durable execution of workflow machines: see scheduler.h.
 *
 * The engine state of an execution (the `state` column) is a JSON object:
 *   steps     states entered so far (SCHEDULER_MAX_STEPS bounds it)
 *   nextRun   the id the next run gets
 *   wakeAt    due time of the last timed job scheduled (no duplicates)
 *   runs      the live runs: {id, parent (-1: the root), branch, machine
 *             (path from the definition to the run's machine: [Parallel
 *             state name, branch index, …]), state, input, attempts, phase,
 *             …}; phase is one of
 *               enter     about to enter `state` with `input`
 *               task      waiting for transition execution
 *                         `transitionExecutionId` (started with taskInput)
 *               parallel  waiting for its branches (`results`, `pending`)
 *               result    its Task or Parallel work came back (`outcome`:
 *                         {status, output | error, cause})
 *               wait      a Wait: at `until` go to `next` (null: end) with
 *                         `data`
 *               retry     a Retrier fired: at `until` enter `state` again
 *   taskInputs  per transition id, the top-level Task state that last ran it
 *             and its raw input (for PATCH nextTransitionId)
 *   failure   where the root run failed: {state, input}
 * The API object (`body`) is kept next to it and changed in the same
 * transactions. */
#include "workflows/scheduler.h"

#include "core/clock.h"
#include "core/ids.h"
#include "core/log.h"
#include "resources/logs.h"
#include "resources/workflows.h"
#include "workflows/asl_eval.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct wfx {
  store *s;
  char org_id[64];
  char id[64];
  char workflow_id[64];
  json_t *body;
  json_t *state;
  json_t *definition; /* loaded when first needed */
  json_t *workflow;   /* loaded when first needed */
  json_t *log;        /* events for the execution's log, this transaction */
  json_t *context;    /* the `$$` object, built when first needed */
  int64_t now_us;
  char now_iso[CLOCK_ISO_LEN];
  bool ended;
  bool fresh;       /* not stored yet: saving inserts it */
  store_status err; /* the first store failure */
} wfx;

static const char *jstr(const json_t *o, const char *k) {
  return json_string_value(json_object_get(o, k));
}

static json_int_t jint(const json_t *o, const char *k, json_int_t dflt) {
  const json_t *v = json_object_get(o, k);
  return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static bool phase_is(const json_t *run, const char *phase) {
  const char *p = jstr(run, "phase");
  return p && strcmp(p, phase) == 0;
}

static void set_phase(json_t *run, const char *phase) {
  json_object_set_new(run, "phase", json_string(phase));
}

static bool status_ended(const char *status) {
  return strcmp(status, "running") != 0 && strcmp(status, "retry") != 0;
}

/* ---- loading and saving ---- */

static store_status wfx_load(wfx *x, store *s, const char *org_id,
                             const char *id, int64_t now_us) {
  memset(x, 0, sizeof *x);
  x->s = s;
  x->now_us = now_us;
  clock_format_iso(now_us, x->now_iso, sizeof x->now_iso);
  x->err = STORE_ONE;
  snprintf(x->org_id, sizeof x->org_id, "%s", org_id);
  snprintf(x->id, sizeof x->id, "%s", id);
  x->log = json_array();
  store_status st =
      store_wfx_get(s, org_id, id, x->workflow_id, &x->body, &x->state);
  if (st == STORE_ONE) {
    const char *status = jstr(x->body, "status");
    x->ended = !status || status_ended(status);
    if (!json_is_array(json_object_get(x->state, "runs")))
      json_object_set_new(x->state, "runs", json_array());
    if (!json_is_array(json_object_get(x->body, "events")))
      json_object_set_new(x->body, "events", json_array());
  }
  return st;
}

static void wfx_free(wfx *x) {
  json_decref(x->body);
  json_decref(x->state);
  json_decref(x->definition);
  json_decref(x->workflow);
  json_decref(x->log);
  json_decref(x->context);
}

static const json_t *wfx_definition(wfx *x) {
  if (x->definition)
    return x->definition;
  store_status st = workflows_definition(x->s, x->workflow_id, &x->definition);
  if (st != STORE_ONE && st != STORE_NONE)
    x->err = st;
  return x->definition;
}

static const json_t *wfx_workflow(wfx *x) {
  if (x->workflow)
    return x->workflow;
  store_obj_key key = {"workflow", x->org_id, x->workflow_id};
  store_status st = store_obj_get(x->s, &key, &x->workflow);
  if (st != STORE_ONE && st != STORE_NONE)
    x->err = st;
  return x->workflow;
}

static json_t *wfx_runs(wfx *x) {
  return json_object_get(x->state, "runs");
}

__attribute__((format(printf, 2, 3))) static void
wfx_log(wfx *x, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  json_array_append_new(
      x->log, json_pack("{s:s, s:s}", "timestamp", x->now_iso, "message", msg));
}

/* Appends an event {timestamp, type} to the execution's events and returns
 * it (borrowed) for the caller to add details. */
static json_t *wfx_event(wfx *x, const char *type) {
  json_t *ev = json_pack("{s:s, s:s}", "timestamp", x->now_iso, "type", type);
  json_array_append_new(json_object_get(x->body, "events"), ev);
  return ev;
}

static void set_str(json_t *o, const char *k, const char *v) {
  json_object_set_new(o, k, v ? json_string(v) : json_null());
}

/* Where a run is, for events: the branch path ("P[0].Q[1]"), empty at the
 * top level. */
static void run_where(const json_t *run, char *buf, size_t len) {
  const json_t *path = json_object_get(run, "machine");
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i + 1 < json_array_size(path) && used < len; i += 2) {
    int n =
        snprintf(buf + used, len - used, "%s%s[%lld]", used ? "." : "",
                 json_string_value(json_array_get(path, i)),
                 (long long)json_integer_value(json_array_get(path, i + 1)));
    if (n < 0)
      break;
    used += (size_t)n;
  }
}

static json_t *run_event(wfx *x, const json_t *run, const char *type) {
  json_t *ev = wfx_event(x, type);
  set_str(ev, "state", jstr(run, "state"));
  char where[256];
  run_where(run, where, sizeof where);
  if (where[0])
    set_str(ev, "branch", where);
  return ev;
}

/* The machine a run runs: the definition, or a branch of a Parallel. */
static const json_t *run_machine(wfx *x, const json_t *run) {
  const json_t *m = wfx_definition(x);
  const json_t *path = json_object_get(run, "machine");
  for (size_t i = 0; m && i + 1 < json_array_size(path); i += 2) {
    const json_t *st = asl_state(m, json_string_value(json_array_get(path, i)));
    m = json_array_get(json_object_get(st, "Branches"),
                       (size_t)json_integer_value(json_array_get(path, i + 1)));
  }
  return m;
}

static json_t *run_find(wfx *x, json_int_t id, size_t *index) {
  size_t i;
  json_t *run;
  json_array_foreach(wfx_runs(x), i, run) {
    if (jint(run, "id", -2) == id) {
      if (index)
        *index = i;
      return run;
    }
  }
  return NULL;
}

static bool run_is_root(const json_t *run) {
  return jint(run, "parent", -1) < 0;
}

/* The `$$` context object of a run's current state (borrowed): built once
 * per transaction, its State part set for each state. */
static const json_t *run_context(wfx *x, const json_t *run,
                                 const json_t *state) {
  /* `$$` is read only by the `.$` fields of Parameters and ResultSelector
   * (asl_check refuses it elsewhere): other states need no context. */
  if (!json_object_get(state, "Parameters") &&
      !json_object_get(state, "ResultSelector"))
    return NULL;
  if (!x->context)
    x->context =
        json_pack("{s:{s:s, s:O, s:O}, s:{s:s}, s:{}}", "Execution", "Id",
                  x->id, "Input", json_object_get(x->body, "input"),
                  "StartTime", json_object_get(x->body, "startTime"),
                  "StateMachine", "Id", x->workflow_id, "State");
  json_int_t retries = 0;
  size_t i;
  json_t *n;
  json_array_foreach(json_object_get(run, "attempts"), i, n) retries +=
      json_integer_value(n);
  json_t *now = json_object_get(x->context, "State");
  set_str(now, "Name", jstr(run, "state"));
  set_str(now, "EnteredTime", x->now_iso);
  json_object_set_new(now, "RetryCount", json_integer(retries));
  return x->context;
}

/* ---- stopping ---- */

static void run_detach(wfx *x, const json_t *run) {
  if (!phase_is(run, "task"))
    return;
  const char *tx = jstr(run, "transitionExecutionId");
  store_status st =
      tx ? transition_exec_detach(x->s, x->org_id, tx) : STORE_NONE;
  if (st != STORE_ONE && st != STORE_NONE)
    x->err = st;
}

/* Removes every run below run `parent_id`, detaching their transition
 * executions. */
static void runs_stop_below(wfx *x, json_int_t parent_id) {
  json_t *runs = wfx_runs(x);
  for (size_t i = 0; i < json_array_size(runs);) {
    json_t *run = json_array_get(runs, i);
    if (jint(run, "parent", -1) != parent_id) {
      i++;
      continue;
    }
    runs_stop_below(x, jint(run, "id", -2));
    /* The recursion removed only runs below this one, which come after
     * it: its index is unchanged. */
    run_detach(x, run);
    json_array_remove(runs, i);
  }
}

static void runs_stop_all(wfx *x) {
  size_t i;
  json_t *run;
  json_array_foreach(wfx_runs(x), i, run) run_detach(x, run);
  json_array_clear(wfx_runs(x));
}

/* ---- ending ---- */

static void wfx_completion_step(wfx *x, const char *status) {
  const json_t *cc = json_object_get(wfx_workflow(x), "completedConfig");
  const char *image = jstr(cc, "imageUrl");
  /* The default completedConfig, {"imageUrl": ""}, has no step. */
  if (!image || !*image)
    return;
  char msg[1024];
  json_t *events = json_array();
  snprintf(msg, sizeof msg,
           "completion step of workflow execution %s (status %s): image %s",
           x->id, status, image ? image : "");
  json_array_append_new(events, logs_event(x->now_us, msg));
  size_t nenv = json_object_size(json_object_get(cc, "environment"));
  size_t nsec = json_array_size(json_object_get(cc, "environmentSecrets"));
  snprintf(msg, sizeof msg,
           "environment: %zu variable(s), %zu secret(s)%s; input: the "
           "execution",
           nenv, nsec, jstr(cc, "secretId") ? ", registry secret set" : "");
  json_array_append_new(events, logs_event(x->now_us, msg));
  bool runs = transition_completion_runs(image);
  json_array_append_new(
      events,
      logs_event(x->now_us,
                 runs ? "docker mode command: the command mapped to the image "
                        "runs; its output follows"
                      : "succeeded (the emulator records the completion step; "
                        "it runs no image outside docker mode command)"));
  logs_ref ref = {SCHEDULER_COMPLETED_TRANSITION, NULL, x->workflow_id, x->id};
  char log_id[IDS_MAX_LEN];
  store_status st =
      logs_create(x->s, x->org_id, &ref, x->now_us, events, log_id);
  if (st != STORE_ONE) {
    x->err = st == STORE_NONE ? STORE_ERROR : st;
    return;
  }
  set_str(x->body, "completedTaskLogId", log_id);
  if (runs && (st = transition_completion_start(x->s, x->org_id, x->id,
                                                x->now_us)) != STORE_ONE) {
    x->err = st == STORE_NONE ? STORE_ERROR : st;
    return;
  }
  json_t *ev = wfx_event(x, "CompletionStep");
  set_str(ev, "imageUrl", image);
  set_str(ev, "logId", log_id);
  wfx_log(x, "completion step: log %s", log_id);
}

/* Ends the execution with status (succeeded, failed, rejected, error). */
static void wfx_finish(wfx *x, const char *status, const json_t *output) {
  runs_stop_all(x);
  set_str(x->body, "status", status);
  set_str(x->body, "endTime", x->now_iso);
  /* The API's output is an object: a machine output of another type is
   * answered as {"output": value}. */
  if (json_is_object(output))
    json_object_set(x->body, "output", (json_t *)output);
  else if (output)
    json_object_set_new(x->body, "output",
                        json_pack("{s:O}", "output", (json_t *)output));
  x->ended = true;
  wfx_log(x, "execution %s", status);
  if (strcmp(status, "error") != 0)
    wfx_completion_step(x, status);
}

/* The root machine failed with err: failed, or `error` (waiting for PATCH
 * nextTransitionId) when the workflow allows a manual retry. */
static void wfx_root_failed(wfx *x, const json_t *run, const asl_error *err) {
  json_object_set_new(x->state, "failure",
                      json_pack("{s:s?, s:O?}", "state", jstr(run, "state"),
                                "input", json_object_get(run, "input")));
  const json_t *wf = wfx_workflow(x);
  const json_t *ec = json_object_get(wf, "errorConfig");
  bool manual = json_is_true(json_object_get(ec, "manualRetry"));
  json_t *ev = wfx_event(x, "ExecutionFailed");
  set_str(ev, "state", jstr(run, "state"));
  /* A Fail state may leave out Error and Cause: so does its event. */
  if (err->error[0])
    set_str(ev, "error", err->error);
  if (err->cause[0])
    set_str(ev, "cause", err->cause);
  if (manual)
    json_object_set_new(ev, "awaitingManualRetry", json_true());
  wfx_log(x, "failed in state %s: %s: %s", jstr(run, "state"), err->error,
          err->cause);
  const char *email = jstr(ec, "email");
  if (email) {
    json_t *note = wfx_event(x, "ErrorNotification");
    set_str(note, "email", email);
    char msg[900];
    snprintf(msg, sizeof msg, "workflow execution %s failed: %s: %s", x->id,
             err->error, err->cause);
    set_str(note, "message", msg);
    wfx_log(x,
            "error notification for %s recorded (the emulator sends no "
            "e-mail)",
            email);
  }
  wfx_finish(x, manual ? "error" : "failed", NULL);
}

/* ---- moving runs ---- */

static void run_fail(wfx *x, json_t *run, const asl_error *err);

static void run_end(wfx *x, json_t *run, json_t *output) {
  if (run_is_root(run)) {
    wfx_event(x, "ExecutionSucceeded");
    wfx_finish(x, "succeeded", output);
    return;
  }
  size_t index = 0;
  if (run_find(x, jint(run, "id", -2), &index))
    json_array_remove(wfx_runs(x), index);
  json_t *parent = run_find(x, jint(run, "parent", -1), NULL);
  if (!parent)
    return;
  json_t *results = json_object_get(parent, "results");
  json_array_set(results, (size_t)jint(run, "branch", 0), output);
  json_int_t pending = jint(parent, "pending", 1) - 1;
  json_object_set_new(parent, "pending", json_integer(pending));
  if (pending > 0)
    return;
  json_object_set_new(
      parent, "outcome",
      json_pack("{s:s, s:O}", "status", "succeeded", "output", results));
  json_object_del(parent, "results");
  json_object_del(parent, "pending");
  set_phase(parent, "result");
}

static void run_fail(wfx *x, json_t *run, const asl_error *err) {
  if (run_is_root(run)) {
    wfx_root_failed(x, run, err);
    return;
  }
  /* States.Runtime means the machine cannot go on: no Parallel above can
   * handle it, the execution fails (as in AWS Step Functions). */
  if (strcmp(err->error, ASL_ERR_RUNTIME) == 0) {
    json_t *root = run;
    while (root && !run_is_root(root))
      root = run_find(x, jint(root, "parent", -1), NULL);
    wfx_root_failed(x, root ? root : run, err);
    return;
  }
  json_t *parent = run_find(x, jint(run, "parent", -1), NULL);
  json_t *ev = run_event(x, run, "BranchFailed");
  set_str(ev, "error", err->error);
  set_str(ev, "cause", err->cause);
  if (!parent)
    return;

  /* The other branches stop: their transition executions are detached.
   * The Parallel fails with the branch's own error and cause (its Retry
   * and Catch also know it as States.BranchFailed: asl_eval). */
  runs_stop_below(x, jint(parent, "id", -2));
  json_object_set_new(parent, "outcome",
                      json_pack("{s:s, s:s, s:s}", "status", "failed", "error",
                                err->error, "cause", err->cause));
  json_object_del(parent, "results");
  json_object_del(parent, "pending");
  set_phase(parent, "result");
}

/* Starts (or starts again) the transition of a Task run with its
 * taskInput. */
static void run_start_transition(wfx *x, json_t *run) {
  const char *resource = jstr(run, "transitionId");
  transition_start ts = {
      .org_id = x->org_id,
      .transition_id = resource,
      .input = json_object_get(run, "taskInput"),
      .workflow_id = x->workflow_id,
      .workflow_execution_id = x->id,
      .started_by = NULL,
      .now_us = x->now_us,
  };
  char tid[IDS_MAX_LEN] = "";
  char why[512] = "";
  store_status st = transition_exec_start(x->s, &ts, tid, why, sizeof why);
  if (st == STORE_NONE) {
    /* Gone, or its inputJsonSchema refuses the input: the step fails. */
    char cause[700];
    snprintf(cause, sizeof cause, "transition %s: %s", resource,
             why[0] ? why : "does not exist");
    json_object_set_new(run, "outcome",
                        json_pack("{s:s, s:s, s:s}", "status", "failed",
                                  "error", ASL_ERR_TASK_FAILED, "cause",
                                  cause));
    set_phase(run, "result");
    return;
  }
  if (st != STORE_ONE) {
    x->err = st;
    return;
  }
  set_phase(run, "task");
  set_str(run, "transitionExecutionId", tid);
  json_t *map = json_object_get(x->body, "transitionExecutions");
  if (!json_is_object(map)) {
    map = json_object();
    json_object_set_new(x->body, "transitionExecutions", map);
  }
  json_t *list = json_object_get(map, resource);
  if (!json_is_array(list)) {
    list = json_array();
    json_object_set_new(map, resource, list);
  }
  json_array_append_new(list, json_string(tid));
  json_t *ev = run_event(x, run, "TaskStarted");
  set_str(ev, "transitionId", resource);
  set_str(ev, "transitionExecutionId", tid);
  wfx_log(x, "state %s: transition %s, execution %s started",
          jstr(run, "state"), resource, tid);
}

static void run_task(wfx *x, json_t *run, const char *resource, json_t *input) {
  set_str(run, "transitionId", resource);
  json_object_set(run, "taskInput", input);
  json_object_set_new(run, "taskRetries", json_integer(0));
  if (run_is_root(run)) {
    json_t *inputs = json_object_get(x->state, "taskInputs");
    if (!json_is_object(inputs)) {
      inputs = json_object();
      json_object_set_new(x->state, "taskInputs", inputs);
    }
    json_object_set_new(inputs, resource,
                        json_pack("{s:s, s:O}", "state", jstr(run, "state"),
                                  "input", json_object_get(run, "input")));
  }
  run_start_transition(x, run);
}

static void run_parallel(wfx *x, json_t *run, json_t *input) {
  const json_t *machine = run_machine(x, run);
  const json_t *state = asl_state(machine, jstr(run, "state"));
  const json_t *branches = json_object_get(state, "Branches");
  size_t n = json_array_size(branches);
  json_t *results = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(results, json_null());
  json_object_set_new(run, "results", results);
  json_object_set_new(run, "pending", json_integer((json_int_t)n));
  set_phase(run, "parallel");
  json_t *ev = run_event(x, run, "ParallelStarted");
  json_object_set_new(ev, "branches", json_integer((json_int_t)n));
  json_int_t next_id = jint(x->state, "nextRun", 1);
  for (size_t i = 0; i < n; i++) {
    json_t *path = json_deep_copy(json_object_get(run, "machine"));
    if (!json_is_array(path)) {
      json_decref(path);
      path = json_array();
    }
    json_array_append_new(path, json_string(jstr(run, "state")));
    json_array_append_new(path, json_integer((json_int_t)i));
    const char *start = jstr(json_array_get(branches, i), "StartAt");
    json_array_append_new(
        wfx_runs(x),
        json_pack("{s:I, s:I, s:I, s:o, s:s?, s:O, s:s, s:[]}", "id", next_id++,
                  "parent", jint(run, "id", 0), "branch", (json_int_t)i,
                  "machine", path, "state", start, "input", input, "phase",
                  "enter", "attempts"));
  }
  json_object_set_new(x->state, "nextRun", json_integer(next_id));
  if (n == 0) {
    json_object_set_new(
        run, "outcome",
        json_pack("{s:s, s:o}", "status", "succeeded", "output", json_array()));
    set_phase(run, "result");
  }
}

static void run_apply(wfx *x, json_t *run, asl_outcome *o) {
  char when[CLOCK_ISO_LEN];
  json_t *ev;
  switch (o->go) {
  case ASL_GO_NEXT:
    if (o->caught) {
      ev = run_event(x, run, "ErrorCaught");
      set_str(ev, "error", o->err.error);
      set_str(ev, "cause", o->err.cause);
      set_str(ev, "next", o->next);
      wfx_log(x, "state %s: %s caught, next %s", jstr(run, "state"),
              o->err.error, o->next ? o->next : "");
    }
    set_str(run, "state", o->next);
    json_object_set(run, "input", o->data);
    json_object_set_new(run, "attempts", json_array());
    json_object_del(run, "retrying");
    set_phase(run, "enter");
    break;
  case ASL_GO_END:
    run_end(x, run, o->data);
    break;
  case ASL_GO_FAIL:
    run_fail(x, run, &o->err);
    break;
  case ASL_GO_WAIT:
    clock_format_iso(o->until_us, when, sizeof when);
    ev = run_event(x, run, "WaitStarted");
    set_str(ev, "until", when);
    wfx_log(x, "state %s: waiting until %s", jstr(run, "state"), when);
    set_phase(run, "wait");
    json_object_set_new(run, "until", json_integer(o->until_us));
    set_str(run, "next", o->next);
    json_object_set(run, "data", o->data);
    break;
  case ASL_GO_TASK:
    run_task(x, run, o->resource, o->data);
    break;
  case ASL_GO_PARALLEL:
    run_parallel(x, run, o->data);
    break;
  case ASL_GO_RETRY:
    clock_format_iso(o->until_us, when, sizeof when);
    ev = run_event(x, run, "RetryScheduled");
    set_str(ev, "error", o->err.error);
    set_str(ev, "cause", o->err.cause);
    set_str(ev, "at", when);
    wfx_log(x, "state %s: %s; retry at %s", jstr(run, "state"), o->err.error,
            when);
    set_phase(run, "retry");
    json_object_set_new(run, "until", json_integer(o->until_us));
    json_object_set_new(run, "retrying", json_true());
    break;
  }
}

static void run_enter(wfx *x, json_t *run) {
  json_int_t steps = jint(x->state, "steps", 0) + 1;
  json_object_set_new(x->state, "steps", json_integer(steps));
  asl_error err;
  memset(&err, 0, sizeof err);
  const json_t *machine = run_machine(x, run);
  if (x->err != STORE_ONE)
    return;
  if (steps > SCHEDULER_MAX_STEPS || !machine) {
    snprintf(err.error, sizeof err.error, "%s", ASL_ERR_RUNTIME);
    if (machine)
      snprintf(err.cause, sizeof err.cause,
               "the execution entered more than %d states (a loop without "
               "end?); the emulator stops executions there",
               SCHEDULER_MAX_STEPS);
    else
      snprintf(err.cause, sizeof err.cause,
               "the workflow's definition is no longer there");
    /* A limit of the whole execution: no branch or Catcher handles it. */
    wfx_root_failed(x, run, &err);
    return;
  }
  const json_t *state = asl_state(machine, jstr(run, "state"));
  json_t *ev = run_event(x, run, "StateEntered");
  set_str(ev, "stateType", jstr(state, "Type"));
  json_t *attempts = json_object_get(run, "attempts");
  if (!json_is_array(attempts)) {
    attempts = json_array();
    json_object_set_new(run, "attempts", attempts);
  }
  const json_t *ctx = run_context(x, run, state);
  asl_outcome o;
  asl_eval_enter(machine, jstr(run, "state"), json_object_get(run, "input"),
                 ctx, x->now_us, attempts, &o);
  run_apply(x, run, &o);
  asl_outcome_clear(&o);
}

/* A Task's or Parallel's outcome came back. */
static void run_result(wfx *x, json_t *run) {
  json_t *oc = json_incref(json_object_get(run, "outcome"));
  json_object_del(run, "outcome");
  const char *status = jstr(oc, "status");
  if (!status)
    status = "failed";
  const json_t *machine = run_machine(x, run);
  const json_t *state = asl_state(machine, jstr(run, "state"));
  bool task = jstr(state, "Type") && strcmp(jstr(state, "Type"), "Task") == 0;
  const char *error = jstr(oc, "error");
  const char *cause = jstr(oc, "cause");
  char retry_cause[256];
  json_t *ev;
  if (task && strcmp(status, "rejected") == 0) {
    ev = run_event(x, run, "TaskRejected");
    set_str(ev, "transitionExecutionId", jstr(run, "transitionExecutionId"));
    set_str(ev, "cause", cause);
    wfx_log(x, "state %s: transition execution %s rejected", jstr(run, "state"),
            jstr(run, "transitionExecutionId"));
    wfx_event(x, "ExecutionRejected");
    wfx_finish(x, "rejected", NULL);
    json_decref(oc);
    return;
  }
  if (task && strcmp(status, "retry") == 0) {
    json_int_t n = jint(run, "taskRetries", 0) + 1;
    if (n <= SCHEDULER_MAX_TASK_RETRIES) {
      ev = run_event(x, run, "TaskRetried");
      set_str(ev, "transitionExecutionId", jstr(run, "transitionExecutionId"));
      json_object_set_new(run, "taskRetries", json_integer(n));
      json_object_set_new(run, "retrying", json_true());
      run_start_transition(x, run);
      json_decref(oc);
      return;
    }
    snprintf(retry_cause, sizeof retry_cause,
             "the transition asked for a retry %d times in a row",
             SCHEDULER_MAX_TASK_RETRIES);
    error = ASL_ERR_TASK_FAILED;
    cause = retry_cause;
    status = "failed";
  }
  bool ok = strcmp(status, "succeeded") == 0;
  const char *kind = task ? (ok ? "TaskSucceeded" : "TaskFailed")
                          : (ok ? "ParallelSucceeded" : "ParallelFailed");
  ev = run_event(x, run, kind);
  if (task)
    set_str(ev, "transitionExecutionId", jstr(run, "transitionExecutionId"));
  if (!ok) {
    set_str(ev, "error", error ? error : ASL_ERR_TASK_FAILED);
    set_str(ev, "cause", cause ? cause : "");
    wfx_log(x, "state %s: %s: %s", jstr(run, "state"),
            error ? error : ASL_ERR_TASK_FAILED, cause ? cause : "");
  } else if (task) {
    wfx_log(x, "state %s: transition execution %s succeeded",
            jstr(run, "state"), jstr(run, "transitionExecutionId"));
  }
  json_object_del(run, "transitionExecutionId");
  json_object_del(run, "taskInput");
  const json_t *ctx = run_context(x, run, state);
  asl_outcome o;
  asl_eval_result(machine, jstr(run, "state"), json_object_get(run, "input"),
                  ok ? json_object_get(oc, "output") : NULL,
                  error ? error : ASL_ERR_TASK_FAILED, cause ? cause : "", ctx,
                  x->now_us, json_object_get(run, "attempts"), &o);
  if (ok && o.go != ASL_GO_RETRY)
    json_object_del(run, "retrying");
  json_decref(oc);
  run_apply(x, run, &o);
  asl_outcome_clear(&o);
}

static bool run_due(const json_t *run, int64_t now_us) {
  if (phase_is(run, "enter") || phase_is(run, "result"))
    return true;
  if (phase_is(run, "wait") || phase_is(run, "retry"))
    return jint(run, "until", 0) <= now_us;
  return false;
}

static void run_step(wfx *x, json_t *run) {
  if (phase_is(run, "enter")) {
    run_enter(x, run);
  } else if (phase_is(run, "result")) {
    run_result(x, run);
  } else if (phase_is(run, "retry")) {
    set_phase(run, "enter");
  } else if (phase_is(run, "wait")) {
    const char *next = jstr(run, "next");
    json_t *data = json_incref(json_object_get(run, "data"));
    json_object_del(run, "until");
    json_object_del(run, "data");
    if (next) {
      set_str(run, "state", next);
      json_object_del(run, "next");
      json_object_set_new(run, "input", data ? data : json_object());
      json_object_set_new(run, "attempts", json_array());
      set_phase(run, "enter");
    } else {
      json_object_del(run, "next");
      run_end(x, run, data ? data : json_null());
      json_decref(data);
    }
  }
}

static json_t *runs_first_due(wfx *x) {
  size_t i;
  json_t *run;
  json_array_foreach(wfx_runs(x), i, run) {
    if (run_due(run, x->now_us))
      return run;
  }
  return NULL;
}

static const char *wfx_status(wfx *x) {
  if (x->ended)
    return jstr(x->body, "status");
  size_t i;
  json_t *run;
  json_array_foreach(wfx_runs(x), i, run) {
    if (json_is_true(json_object_get(run, "retrying")))
      return "retry";
  }
  return "running";
}

/* Writes the execution back, appends this transaction's log events and
 * schedules what comes next: a job now when runs are still due (the step
 * budget ran out), else one at the earliest Wait or Retry. */
static store_status wfx_save(wfx *x) {
  if (x->err != STORE_ONE)
    return x->err;
  char status[16];
  snprintf(status, sizeof status, "%s", wfx_status(x));
  json_object_set_new(x->body, "status", json_string(status));
  if (!x->ended)
    json_object_set_new(x->body, "endTime", json_null());
  int64_t job_at = -1;
  if (!x->ended && runs_first_due(x)) {
    job_at = x->now_us;
  } else if (!x->ended) {
    bool any = false;
    int64_t due = 0;
    size_t i;
    json_t *run;
    json_array_foreach(wfx_runs(x), i, run) {
      if (!phase_is(run, "wait") && !phase_is(run, "retry"))
        continue;
      int64_t until = jint(run, "until", 0);
      if (!any || until < due)
        due = until;
      any = true;
    }
    /* A job already due at or before `due` looks again when it runs. */
    int64_t wake = jint(x->state, "wakeAt", 0);
    if (any && !(wake > x->now_us && wake <= due)) {
      json_object_set_new(x->state, "wakeAt", json_integer(due));
      job_at = due;
    }
  }
  if (x->ended && strcmp(status, "error") != 0) {
    /* Nothing can move a finished execution again: only the count stays. */
    json_t *done = json_pack("{s:I}", "steps", jint(x->state, "steps", 0));
    json_decref(x->state);
    x->state = done;
  }
  store_status st = STORE_ONE;
  if (x->fresh) {
    /* The execution's log is written once, with what this first
     * transaction did. */
    logs_ref ref = {SCHEDULER_LOG_TRANSITION, NULL, x->workflow_id, x->id};
    char log_id[IDS_MAX_LEN];
    st = logs_create(x->s, x->org_id, &ref, x->now_us, json_incref(x->log),
                     log_id);
    json_array_clear(x->log);
    if (st == STORE_ONE)
      set_str(x->body, "logId", log_id);
    else if (st == STORE_NONE)
      st = STORE_ERROR;
  }
  if (st == STORE_ONE)
    st = x->fresh ? store_wfx_insert(x->s, x->org_id, x->workflow_id, x->id,
                                     status, x->ended, x->body, x->state)
                  : store_wfx_update(x->s, x->id, status, x->ended, x->body,
                                     x->state);
  const char *log_id = jstr(x->body, "logId");
  if (st == STORE_ONE && log_id && json_array_size(x->log)) {
    st = logs_append(x->s, x->org_id, log_id, json_incref(x->log));
    if (st == STORE_NONE)
      st = STORE_ONE;
  }
  if (st == STORE_ONE && job_at >= 0)
    st = store_job_add(x->s, SCHEDULER_JOB, x->id, x->org_id, job_at);
  return st;
}

/* ---- the interface ---- */

/* Evaluates due runs until none is due, the execution ends, or budget
 * states were evaluated. */
static void wfx_advance(wfx *x, int budget) {
  for (; budget > 0 && !x->ended && x->err == STORE_ONE; budget--) {
    json_t *run = runs_first_due(x);
    if (!run)
      break;
    /* Held: ending a run removes it from the list. */
    json_incref(run);
    run_step(x, run);
    json_decref(run);
  }
}

store_status scheduler_start(store *s, const char *org_id,
                             const json_t *workflow, const json_t *definition,
                             json_t *body, int64_t now_us) {
  const char *id = jstr(body, "executionId");
  const char *workflow_id = jstr(workflow, "workflowId");
  if (!id || !workflow_id || !json_is_array(json_object_get(body, "events")))
    return STORE_ERROR;
  wfx x;
  memset(&x, 0, sizeof x);
  x.s = s;
  x.now_us = now_us;
  clock_format_iso(now_us, x.now_iso, sizeof x.now_iso);
  x.err = STORE_ONE;
  x.fresh = true;
  snprintf(x.org_id, sizeof x.org_id, "%s", org_id);
  snprintf(x.workflow_id, sizeof x.workflow_id, "%s", workflow_id);
  snprintf(x.id, sizeof x.id, "%s", id);
  x.body = json_incref(body);
  x.workflow = json_incref((json_t *)workflow);
  x.definition = json_incref((json_t *)definition);
  x.log = json_array();
  wfx_log(&x, "execution started");
  x.state = json_pack(
      "{s:i, s:i, s:[{s:i, s:i, s:i, s:[], s:s?, s:O, s:s, s:[]}]}", "steps", 0,
      "nextRun", 1, "runs", "id", 0, "parent", -1, "branch", 0, "machine",
      "state", jstr(definition, "StartAt"), "input",
      json_object_get(body, "input"), "phase", "enter", "attempts");
  store_status st = STORE_ERROR;
  if (x.state) {
    wfx_advance(&x, SCHEDULER_STEPS_INLINE);
    st = wfx_save(&x);
  }
  wfx_free(&x);
  return st;
}

store_status scheduler_step(store *s, const store_job *job, int64_t now_us) {
  wfx x;
  store_status st = wfx_load(&x, s, job->org_id, job->target_id, now_us);
  if (st != STORE_ONE || x.ended) {
    wfx_free(&x);
    /* Gone (deleted) or ended: nothing left to do. */
    return st == STORE_NONE ? STORE_ONE : st;
  }
  wfx_advance(&x, SCHEDULER_STEPS_PER_JOB);
  st = wfx_save(&x);
  wfx_free(&x);
  return st;
}

/* Adds who to the execution's completedBy, once, in order; completedBy
 * admits users and app clients only. */
static void wfx_completed_by(wfx *x, const char *who) {
  if (!who || !(ids_valid("user", who) || ids_valid("app-client", who)))
    return;
  json_t *by = json_object_get(x->body, "completedBy");
  if (!json_is_array(by)) {
    by = json_array();
    json_object_set_new(x->body, "completedBy", by);
  }
  size_t i;
  json_t *v;
  json_array_foreach(by, i, v) {
    if (json_is_string(v) && strcmp(json_string_value(v), who) == 0)
      return;
  }
  json_array_append_new(by, json_string(who));
}

store_status scheduler_transition_ended(store *s, const transition_end *e) {
  if (!e->workflow_execution_id)
    return STORE_ONE;
  wfx x;
  store_status st =
      wfx_load(&x, s, e->org_id, e->workflow_execution_id, e->at_us);
  if (st != STORE_ONE || x.ended) {
    wfx_free(&x);
    return st == STORE_NONE ? STORE_ONE : st;
  }
  size_t i;
  json_t *run, *found = NULL;
  json_array_foreach(wfx_runs(&x), i, run) {
    const char *tx = jstr(run, "transitionExecutionId");
    if (phase_is(run, "task") && tx && strcmp(tx, e->execution_id) == 0)
      found = run;
  }
  if (!found) {
    wfx_free(&x);
    return STORE_ONE;
  }
  json_t *oc = json_pack("{s:s}", "status", e->status);
  if (strcmp(e->status, "succeeded") == 0) {
    json_object_set_new(oc, "output",
                        e->output ? json_deep_copy(e->output) : json_object());
  } else {
    const char *message = jstr(e->error, "message");
    char *dumped = NULL;
    if (!message && e->error)
      message = dumped = json_dumps(e->error, JSON_COMPACT | JSON_ENCODE_ANY);
    set_str(oc, "error", e->timed_out ? ASL_ERR_TIMEOUT : ASL_ERR_TASK_FAILED);
    set_str(oc, "cause", message ? message : e->status);
    free(dumped);
  }
  json_object_set_new(found, "outcome", oc);
  set_phase(found, "result");
  /* Whoever completed a step (a person approving or rejecting a manual
   * one, a worker finishing a docker one) completed part of the
   * execution. */
  wfx_completed_by(&x, e->completed_by);
  st =
      store_wfx_update(s, x.id, jstr(x.body, "status"), false, x.body, x.state);
  if (st == STORE_ONE)
    st = store_job_add(s, SCHEDULER_JOB, x.id, x.org_id, e->at_us);
  wfx_free(&x);
  return st;
}

store_status scheduler_delete(store *s, const char *org_id,
                              const char *execution_id, json_t **body) {
  wfx x;
  store_status st = wfx_load(&x, s, org_id, execution_id, 0);
  if (st == STORE_ONE) {
    runs_stop_all(&x);
    st = x.err;
  }
  if (st == STORE_ONE)
    st = store_wfx_delete(s, execution_id);
  if (st == STORE_ONE)
    *body = json_incref(x.body);
  wfx_free(&x);
  return st;
}

/* The top-level Task state that runs transition `resource`: the one that
 * last ran it, else the first in the definition. */
static const char *wfx_task_state(wfx *x, const char *resource) {
  const char *last =
      jstr(json_object_get(json_object_get(x->state, "taskInputs"), resource),
           "state");
  if (last)
    return last;
  const char *name;
  json_t *st;
  json_object_foreach(json_object_get(wfx_definition(x), "States"), name, st) {
    const char *r = jstr(st, "Resource");
    if (r && strcmp(r, resource) == 0 && jstr(st, "Type") &&
        strcmp(jstr(st, "Type"), "Task") == 0)
      return name;
  }
  return NULL;
}

store_status scheduler_continue(store *s, const char *org_id,
                                const char *execution_id,
                                const char *next_transition_id,
                                const char *principal, int64_t now_us,
                                json_t **body, char *why, size_t whylen,
                                bool *conflict) {
  why[0] = '\0';
  *conflict = false;
  wfx x;
  store_status st = wfx_load(&x, s, org_id, execution_id, now_us);
  if (st != STORE_ONE) {
    wfx_free(&x);
    return st;
  }
  const char *status = jstr(x.body, "status");
  if (strcmp(next_transition_id, SCHEDULER_FAILED_TRANSITION) == 0) {
    if (x.ended && strcmp(status, "error") != 0) {
      snprintf(why, whylen,
               "nextTransitionId: the execution has already ended (status "
               "%s)",
               status);
      *conflict = true;
      st = STORE_NONE;
    } else {
      json_t *ev = wfx_event(&x, "ExecutionFailed");
      set_str(ev, "nextTransitionId", next_transition_id);
      set_str(ev, "by", principal);
      wfx_completed_by(&x, principal);
      wfx_log(&x, "ended as failed by %s (nextTransitionId %s)",
              principal && *principal ? principal : "a client",
              next_transition_id);
      x.ended = false;
      wfx_finish(&x, "failed", NULL);
      st = x.err;
    }
  } else if (strncmp(next_transition_id, "las:transition:commons-", 23) == 0) {
    snprintf(why, whylen,
             "nextTransitionId: %s is not supported; use %s to end the "
             "execution or a transition of the workflow to continue it",
             next_transition_id, SCHEDULER_FAILED_TRANSITION);
    st = STORE_NONE;
  } else {
    const json_t *wf = wfx_workflow(&x);
    bool manual = json_is_true(
        json_object_get(json_object_get(wf, "errorConfig"), "manualRetry"));
    const char *state =
        x.err == STORE_ONE ? wfx_task_state(&x, next_transition_id) : NULL;
    if (x.err != STORE_ONE) {
      st = x.err;
    } else if (!manual) {
      snprintf(why, whylen,
               "nextTransitionId: errorConfig.manualRetry of workflow %s is "
               "not enabled",
               x.workflow_id);
      st = STORE_NONE;
    } else if (strcmp(status, "error") != 0) {
      snprintf(why, whylen,
               "nextTransitionId: only an execution in status error can "
               "continue; this one is %s",
               status);
      *conflict = true;
      st = STORE_NONE;
    } else if (!state) {
      snprintf(why, whylen,
               "nextTransitionId: no top-level Task state of workflow %s runs "
               "transition %s",
               x.workflow_id, next_transition_id);
      st = STORE_NONE;
    } else {
      const json_t *last = json_object_get(
          json_object_get(x.state, "taskInputs"), next_transition_id);
      const json_t *input = json_object_get(last, "input");
      if (!input)
        input = json_object_get(json_object_get(x.state, "failure"), "input");
      json_int_t id = jint(x.state, "nextRun", 1);
      json_object_set_new(x.state, "nextRun", json_integer(id + 1));
      json_array_append_new(
          wfx_runs(&x),
          json_pack("{s:I, s:i, s:i, s:[], s:s, s:O, s:s, s:[], s:b}", "id", id,
                    "parent", -1, "branch", 0, "machine", "state", state,
                    "input", input ? input : json_null(), "phase", "enter",
                    "attempts", "retrying", 1));
      json_t *ev = wfx_event(&x, "ExecutionResumed");
      set_str(ev, "nextTransitionId", next_transition_id);
      set_str(ev, "state", state);
      set_str(ev, "by", principal);
      wfx_log(&x, "continued at state %s by %s", state,
              principal && *principal ? principal : "a client");
      x.ended = false;
      json_object_set_new(x.body, "endTime", json_null());
      /* As at the start: the first states run in this transaction. */
      wfx_advance(&x, SCHEDULER_STEPS_INLINE);
      st = x.err;
    }
  }
  if (st == STORE_ONE)
    st = wfx_save(&x);
  if (st == STORE_ONE)
    *body = json_incref(x.body);
  wfx_free(&x);
  return st;
}
