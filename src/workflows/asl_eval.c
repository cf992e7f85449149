/* One state of an ASL machine at a time: see asl_eval.h. The checker
 * (asl_check.c) has made sure every state has a known Type and the fields
 * that Type needs, so missing fields here are defended against, not
 * expected. */
#include "workflows/asl_eval.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void asl_outcome_clear(asl_outcome *out) {
  json_decref(out->data);
  memset(out, 0, sizeof *out);
}

const json_t *asl_state(const json_t *machine, const char *name) {
  return name ? json_object_get(json_object_get(machine, "States"), name)
              : NULL;
}

static const char *asl_str(const json_t *state, const char *key) {
  return json_string_value(json_object_get(state, key));
}

static bool asl_is(const json_t *state, const char *type) {
  const char *t = asl_str(state, "Type");
  return t && strcmp(t, type) == 0;
}

__attribute__((format(printf, 3, 4))) static void
asl_set_error(asl_error *e, const char *error, const char *fmt, ...) {
  snprintf(e->error, sizeof e->error, "%s", error);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->cause, sizeof e->cause, fmt, ap);
  va_end(ap);
}

static void asl_fail(asl_outcome *out, const asl_error *err) {
  json_decref(out->data);
  out->data = NULL;
  out->go = ASL_GO_FAIL;
  out->err = *err;
}

/* The state's Next, or the end of the machine. data is stolen. */
static void asl_go_on(const json_t *state, json_t *data, asl_outcome *out) {
  const char *next = asl_str(state, "Next");
  out->go = next ? ASL_GO_NEXT : ASL_GO_END;
  out->next = next;
  out->data = data;
}

/* The state `name` of machine, or NULL with out failed (States.Runtime).
 * A checked definition names no missing state; this keeps a stored
 * execution that disagrees with its definition from going on blindly. */
static const json_t *asl_state_or_fail(const json_t *machine, const char *name,
                                       asl_outcome *out) {
  const json_t *state = asl_state(machine, name);
  if (!state) {
    asl_error err;
    memset(&err, 0, sizeof err);
    asl_set_error(&err, ASL_ERR_RUNTIME, "state \"%s\" does not exist",
                  name ? name : "");
    asl_fail(out, &err);
  }
  return state;
}

/* The error name a Task's or Parallel's Retry or Catch field (`field`)
 * sees. A Parallel fails with its failed branch's own error (as AWS Step
 * Functions does, so a handler of that name matches); when no handler in
 * the field names it, it is the spec's States.BranchFailed, the name of any
 * branch failure. */
static const char *asl_handled_as(const json_t *state, const char *field,
                                  const char *error) {
  if (!asl_is(state, "Parallel"))
    return error;
  size_t i;
  const json_t *h;
  json_array_foreach(json_object_get(state, field), i, h) {
    if (asl_error_matches(json_object_get(h, "ErrorEquals"), error))
      return error;
  }
  return ASL_ERR_BRANCH_FAILED;
}

/* An error of a Task or Parallel state: its Retriers, then its Catchers,
 * else the machine fails. Other states have neither. */
static void asl_on_error(const json_t *state, const json_t *raw_input,
                         const asl_error *err, int64_t now_us, json_t *attempts,
                         asl_outcome *out) {
  bool handled = (asl_is(state, "Task") || asl_is(state, "Parallel")) &&
                 strcmp(err->error, ASL_ERR_RUNTIME) != 0;
  int64_t delay_us = 0;
  if (handled && attempts &&
      asl_retry(state, asl_handled_as(state, "Retry", err->error), attempts,
                &delay_us)) {
    out->go = ASL_GO_RETRY;
    out->until_us = now_us + (delay_us > 0 ? delay_us : 0);
    out->err = *err;
    return;
  }
  const json_t *catcher =
      handled ? asl_catcher(state, asl_handled_as(state, "Catch", err->error))
              : NULL;
  if (!catcher) {
    asl_fail(out, err);
    return;
  }
  json_t *data = NULL;
  asl_error why;
  memset(&why, 0, sizeof why);
  if (!asl_catch_output(catcher, raw_input, err->error, err->cause, &data,
                        &why)) {
    json_decref(data);
    asl_fail(out, &why);
    return;
  }
  out->go = ASL_GO_NEXT;
  out->next = asl_str(catcher, "Next");
  out->data = data;
  out->caught = true;
  out->err = *err;
}

void asl_eval_enter(const json_t *machine, const char *name,
                    const json_t *raw_input, const json_t *context,
                    int64_t now_us, json_t *attempts, asl_outcome *out) {
  memset(out, 0, sizeof *out);
  asl_error err;
  memset(&err, 0, sizeof err);
  const json_t *state = asl_state_or_fail(machine, name, out);
  if (!state)
    return;
  if (asl_is(state, "Fail")) {
    /* Error and Cause are optional: an empty name then. */
    const char *e = asl_str(state, "Error"), *c = asl_str(state, "Cause");
    asl_set_error(&err, e ? e : "", "%s", c ? c : "");
    asl_fail(out, &err);
    return;
  }
  json_t *input = NULL;
  if (!asl_effective_input(state, raw_input, context, &input, &err)) {
    json_decref(input);
    asl_on_error(state, raw_input, &err, now_us, attempts, out);
    return;
  }
  if (asl_is(state, "Task") || asl_is(state, "Parallel")) {
    out->go = asl_is(state, "Task") ? ASL_GO_TASK : ASL_GO_PARALLEL;
    out->resource = asl_str(state, "Resource");
    out->data = input;
    return;
  }
  /* The states without work: their result is Pass's Result or their
   * effective input, which ResultPath and OutputPath make the output. */
  json_t *data = NULL;
  bool ok = true;
  if (asl_is(state, "Pass")) {
    const json_t *result = json_object_get(state, "Result");
    ok = asl_effective_output(state, raw_input, result ? result : input,
                              context, &data, &err);
    if (ok)
      asl_go_on(state, data, out);
  } else if (asl_is(state, "Succeed")) {
    ok = asl_effective_output(state, raw_input, input, context, &data, &err);
    if (ok) {
      out->go = ASL_GO_END;
      out->data = data;
    }
  } else if (asl_is(state, "Choice")) {
    const char *next = NULL;
    ok = asl_choose(state, input, &next, &err) &&
         asl_effective_output(state, raw_input, input, context, &data, &err);
    if (ok) {
      out->go = ASL_GO_NEXT;
      out->next = next;
      out->data = data;
    }
  } else if (asl_is(state, "Wait")) {
    int64_t until = 0;
    ok = asl_wait_until(state, input, now_us, &until, &err) &&
         asl_effective_output(state, raw_input, input, context, &data, &err);
    if (ok) {
      out->go = ASL_GO_WAIT;
      out->next = asl_str(state, "Next");
      out->until_us = until;
      out->data = data;
    }
  } else {
    const char *type = asl_str(state, "Type");
    asl_set_error(&err, ASL_ERR_RUNTIME,
                  "state \"%s\": Type \"%s\" is not supported", name,
                  type ? type : "");
    ok = false;
  }
  json_decref(input);
  if (!ok) {
    json_decref(data);
    asl_fail(out, &err);
  }
}

void asl_eval_result(const json_t *machine, const char *name,
                     const json_t *raw_input, const json_t *result,
                     const char *error, const char *cause,
                     const json_t *context, int64_t now_us, json_t *attempts,
                     asl_outcome *out) {
  memset(out, 0, sizeof *out);
  asl_error err;
  memset(&err, 0, sizeof err);
  const json_t *state = asl_state_or_fail(machine, name, out);
  if (!state)
    return;
  if (!result) {
    asl_set_error(&err, error ? error : ASL_ERR_TASK_FAILED, "%s",
                  cause ? cause : "");
    asl_on_error(state, raw_input, &err, now_us, attempts, out);
    return;
  }
  json_t *data = NULL;
  if (!asl_effective_output(state, raw_input, result, context, &data, &err)) {
    json_decref(data);
    asl_on_error(state, raw_input, &err, now_us, attempts, out);
    return;
  }
  asl_go_on(state, data, out);
}
