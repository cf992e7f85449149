/* Executions of transitions: POST starts one (or the workflow engine does,
 * through transition_exec_start), PATCH completes it, heartbeats keep it
 * alive. Each execution has a log from its start, and a timeout job: the
 * job reads the stored deadline when it falls due and either schedules
 * itself again at the deadline a heartbeat moved, or fails the execution as
 * timed out. Heartbeats only write the deadline; nothing scans. Docker
 * transitions then follow the server's docker mode (auto completion job,
 * nothing, or a command launch job; see transition_runtime.h). Every end
 * (PATCH, timeout, auto completion, a command's exit) goes through
 * exec_end, in the transaction that checks the execution still runs, so an
 * execution ends exactly once. */
#include "resources/transition_internal.h"
#include "resources/transitions.h"

#include "core/clock.h"
#include "core/codec.h"
#include "core/log.h"
#include "engine/engine.h"
#include "engine/runner.h"
#include "resources/logs.h"
#include "resources/organizations.h"
#include "resources/paging.h"
#include "resources/resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Timeout jobs fall due on 20 ms ticks (a deadline rounded up, never
 * down): executions whose deadlines are that close end in one engine
 * transaction instead of one each, which writes their shared pages once.
 * A timeout so fires 0..20 ms after its deadline (plus the work), never
 * before it. */
enum { EXEC_TIMEOUT_TICK_US = 20000 };

static int64_t exec_tick(int64_t deadline_us) {
  return (deadline_us + EXEC_TIMEOUT_TICK_US - 1) / EXEC_TIMEOUT_TICK_US *
         EXEC_TIMEOUT_TICK_US;
}

static const char *const exec_statuses[] = {"running",  "succeeded", "failed",
                                            "rejected", "retry",     NULL};

static transition_end_fn exec_end_hook;

void transition_exec_set_end_hook(transition_end_fn fn) {
  exec_end_hook = fn;
}

static bool exec_is(const char *status, const char *what) {
  return strcmp(status, what) == 0;
}

/* Loads an execution's body (NEW) and row. */
store_status transition_exec_load(store *s, const char *org_id, const char *id,
                                  json_t **body, store_texec *row) {
  store_obj_key key = {STORE_TEXEC_KIND, org_id, id};
  store_status st = store_obj_get(s, &key, body);
  if (st != STORE_ONE)
    return st;
  st = store_texec_get(s, org_id, id, row);
  if (st != STORE_ONE) {
    json_decref(*body);
    *body = NULL;
  }
  return st;
}

/* Text as a JSON string: invalid UTF-8 (a program's output, a sequence
 * cut by a buffer) and NUL bytes become '?', so that nothing is lost to
 * jansson refusing it. */
json_t *transition_text(const char *p, size_t n) {
  char *copy = malloc(n + 1);
  if (!copy)
    return NULL;
  size_t i = 0;
  while (i < n) {
    unsigned char c = (unsigned char)p[i];
    size_t len = c < 0x80         ? 1
                 : (c >> 5) == 6  ? 2
                 : (c >> 4) == 14 ? 3
                 : (c >> 3) == 30 ? 4
                                  : 0;
    bool ok = len > 0 && i + len <= n && c != 0;
    for (size_t k = 1; ok && k < len; k++)
      ok = ((unsigned char)p[i + k] >> 6) == 2;
    if (!ok)
      len = 1;
    for (size_t k = 0; k < len; k++)
      copy[i + k] = ok ? p[i + k] : '?';
    i += len;
  }
  json_t *s = json_stringn(copy, n);
  free(copy);
  return s ? s : json_string("?");
}

/* Messages in logs and errors are kept to this many bytes. */
enum { EXEC_MESSAGE_MAX = 4096 };

static json_t *exec_message(const char *text) {
  size_t n = strlen(text);
  return transition_text(text, n < EXEC_MESSAGE_MAX ? n : EXEC_MESSAGE_MAX);
}

json_t *transition_exec_error(const char *message) {
  return json_pack("{s:o}", "message", exec_message(message));
}

store_status transition_exec_log(store *s, const char *org_id,
                                 const json_t *body, int64_t at_us,
                                 const char *message) {
  const char *log_id = json_string_value(json_object_get(body, "logId"));
  if (!log_id)
    return STORE_ONE;
  char when[CLOCK_ISO_LEN];
  clock_format_iso(at_us, when, sizeof when);
  json_t *event = json_pack("{s:s, s:o}", "timestamp", when, "message",
                            exec_message(message));
  store_status st = logs_append(s, org_id, log_id, json_pack("[o]", event));
  return st == STORE_NONE ? STORE_ONE : st; /* a deleted log is no failure */
}

/* ---- ending ---- */

/* Stores a running execution (body and row as loaded) in its final state,
 * logs it, and tells its workflow execution. */
store_status transition_exec_end(store *s, const char *org_id, const char *id,
                                 json_t *body, store_texec *row,
                                 const transition_ending *e, int64_t now_us) {
  char when[CLOCK_ISO_LEN];
  clock_format_iso(now_us, when, sizeof when);
  json_object_set_new(body, "status", json_string(e->status));
  json_object_set_new(body, "endTime", json_string(when));
  json_object_set_new(body, "completedBy",
                      e->completed_by ? json_string(e->completed_by)
                                      : json_null());
  snprintf(row->status, sizeof row->status, "%s", e->status);
  row->end_us = now_us;
  row->deadline_us = -1;
  const json_t *result = exec_is(e->status, "succeeded") ? e->output : e->error;
  char *result_text =
      result ? json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
  store_status st = store_texec_finish(s, org_id, id, body, row, result_text);
  free(result_text);
  if (st != STORE_ONE)
    return st == STORE_NONE ? STORE_ERROR : st;
  const char *msg = json_string_value(json_object_get(e->error, "message"));
  char line[EXEC_MESSAGE_MAX + 32];
  if (exec_is(e->status, "succeeded"))
    snprintf(line, sizeof line, "succeeded%s%s",
             e->completed_by ? ", completed by " : "",
             e->completed_by ? e->completed_by : "");
  else
    snprintf(line, sizeof line, "%s%s%.*s", e->status, msg ? ": " : "",
             EXEC_MESSAGE_MAX, msg ? msg : "");
  st = transition_exec_log(s, org_id, body, now_us, line);
  if (st != STORE_ONE || !row->workflow_execution_id[0] || row->detached ||
      !exec_end_hook)
    return st;
  transition_end te = {
      .org_id = org_id,
      .transition_id = row->transition_id,
      .execution_id = id,
      .workflow_execution_id = row->workflow_execution_id,
      .status = e->status,
      .output = exec_is(e->status, "succeeded") ? e->output : NULL,
      .error = exec_is(e->status, "succeeded") ? NULL : e->error,
      .timed_out = e->timed_out,
      .completed_by = e->completed_by,
      .at_us = now_us,
  };
  return exec_end_hook(s, &te);
}

/* Ends execution id, if it still runs, as failed with `message`. */
store_status transition_exec_fail(store *s, const char *org_id, const char *id,
                                  const char *message, bool timed_out,
                                  int64_t now_us) {
  json_t *body = NULL;
  store_texec row;
  store_status st = transition_exec_load(s, org_id, id, &body, &row);
  if (st == STORE_NONE)
    return STORE_ONE;
  if (st != STORE_ONE)
    return st;
  if (exec_is(row.status, "running")) {
    json_t *error = transition_exec_error(message);
    transition_ending e = {
        .status = "failed", .error = error, .timed_out = timed_out};
    st = transition_exec_end(s, org_id, id, body, &row, &e, now_us);
    json_decref(error);
  }
  json_decref(body);
  return st;
}

store_status transition_exec_abort_all(store *s, const char *org_id,
                                       const char *transition_id,
                                       const char *message, int64_t now_us) {
  json_t *ids = NULL;
  store_status st = store_texec_running(s, org_id, transition_id, &ids);
  size_t i;
  json_t *v;
  json_array_foreach(ids, i, v) {
    if (st != STORE_ONE)
      break;
    st = transition_exec_fail(s, org_id, json_string_value(v), message, false,
                              now_us);
    runner_kill(json_string_value(v));
  }
  json_decref(ids);
  return st;
}

store_status transition_exec_detach(store *s, const char *org_id,
                                    const char *execution_id) {
  return store_texec_detach(s, org_id, execution_id);
}

/* ---- starting ---- */

typedef enum {
  START_DONE,
  START_NO_TRANSITION,
  START_BAD_INPUT,
  START_LIMIT,
  START_STORE
} start_result;

/* Validates instance against a transition's schema field; false with the
 * reason in why. */
bool transition_exec_matches(const json_t *transition, const char *field,
                             const json_t *instance, const char *root,
                             char *why, size_t whylen) {
  json_t *schema = json_object_get(transition, field);
  if (!schema)
    return true;
  char err[768];
  js_schema *compiled = transition_schema_compile(schema, err, sizeof err);
  if (!compiled) {
    snprintf(why, whylen, "the transition's %s does not compile: %s", field,
             err);
    return false;
  }
  bool ok = js_validate(compiled, instance, root, err, sizeof err);
  js_free(compiled);
  /* The validator names members from the root down ("n: …", "[0]: …");
   * the root itself by its name. */
  size_t rl = strlen(root);
  bool at_root = strncmp(err, root, rl) == 0 && err[rl] == ':';
  if (!ok)
    snprintf(why, whylen, "%s does not match the transition's %s: %s%s%s", root,
             field, at_root ? "" : root, at_root || err[0] == '[' ? "" : ".",
             err);
  return ok;
}

/* Counts the execution in this month's usage; false when that goes beyond
 * the organization's allowance. */
static store_status exec_count(store *s, const char *org_id, int64_t now_us,
                               bool *within) {
  char month[16];
  clock_format_month(now_us, month, sizeof month);
  int64_t used = 0;
  store_status st =
      store_usage_add(s, org_id, month, "transitionExecutions", &used);
  *within = used <= organizations_allowance(
                        "monthlyNumberOfTransitionExecutionsAllowed");
  return st == STORE_NONE ? STORE_ERROR : st;
}

static start_result exec_start(store *s, const transition_start *in,
                               char out_id[IDS_MAX_LEN], json_t **out_body,
                               char *why, size_t whylen, store_status *st) {
  json_t *t = NULL;
  *st = ids_valid(TRANSITION_KIND, in->transition_id)
            ? transition_load(s, in->org_id, in->transition_id, &t)
            : STORE_NONE;
  if (*st == STORE_NONE) {
    snprintf(why, whylen, "transition %s does not exist", in->transition_id);
    return START_NO_TRANSITION;
  }
  if (*st != STORE_ONE)
    return START_STORE;
  start_result r = START_DONE;
  bool within = true;
  if (!json_is_object(in->input)) {
    snprintf(why, whylen, "input: must be object");
    r = START_BAD_INPUT;
  } else if (!transition_exec_matches(t, "inputJsonSchema", in->input, "input",
                                      why, whylen)) {
    r = START_BAD_INPUT;
  } else if ((*st = exec_count(s, in->org_id, in->now_us, &within)) !=
             STORE_ONE) {
    r = START_STORE;
  } else if (!within) {
    snprintf(why, whylen,
             "monthlyNumberOfTransitionExecutionsAllowed: the "
             "organization's allowance is used up");
    r = START_LIMIT;
  }
  if (r != START_DONE) {
    json_decref(t);
    return r;
  }

  char id[IDS_MAX_LEN], log_id[IDS_MAX_LEN], when[CLOCK_ISO_LEN];
  ids_new(STORE_TEXEC_KIND, id, sizeof id);
  clock_format_iso(in->now_us, when, sizeof when);
  char line[512];
  if (in->workflow_execution_id)
    snprintf(line, sizeof line, "started by workflow execution %s",
             in->workflow_execution_id);
  else
    snprintf(line, sizeof line, "started%s%s", in->started_by ? " by " : "",
             in->started_by ? in->started_by : "");
  logs_ref ref = {in->transition_id, id, in->workflow_id,
                  in->workflow_execution_id};
  *st = logs_create(s, in->org_id, &ref, in->now_us,
                    json_pack("[o]", logs_event(in->now_us, line)), log_id);
  json_int_t timeout_s =
      json_integer_value(json_object_get(t, "timeoutInSeconds"));
  if (timeout_s <= 0)
    timeout_s = TRANSITION_DEFAULT_TIMEOUT_S;
  store_texec row = {.start_us = in->now_us,
                     .end_us = -1,
                     .timeout_us = (int64_t)timeout_s * 1000000,
                     .deadline_us = in->now_us + (int64_t)timeout_s * 1000000};
  snprintf(row.transition_id, sizeof row.transition_id, "%s",
           in->transition_id);
  snprintf(row.status, sizeof row.status, "running");
  snprintf(row.workflow_id, sizeof row.workflow_id, "%s",
           in->workflow_id ? in->workflow_id : "");
  snprintf(row.workflow_execution_id, sizeof row.workflow_execution_id, "%s",
           in->workflow_execution_id ? in->workflow_execution_id : "");
  json_t *body = json_pack(
      "{s:s, s:s, s:O, s:s, s:s, s:n, s:s, s:n}", "executionId", id,
      "transitionId", in->transition_id, "input", (json_t *)in->input, "status",
      "running", "startTime", when, "endTime", "logId", log_id, "completedBy");
  if (*st == STORE_ONE)
    *st =
        body ? store_texec_insert(s, in->org_id, id, body, &row) : STORE_ERROR;
  if (*st == STORE_ONE)
    *st = store_job_add(s, TRANSITION_JOB_TIMEOUT, id, in->org_id,
                        exec_tick(row.deadline_us));
  bool docker = exec_is(json_string_value(json_object_get(t, "transitionType")),
                        "docker");
  if (*st == STORE_ONE && docker) {
    switch (transitions_mode()) {
    case TRANSITIONS_DOCKER_AUTO:
      *st = store_job_add(s, TRANSITION_JOB_AUTO, id, in->org_id,
                          in->now_us + engine_processing_delay_us());
      break;
    case TRANSITIONS_DOCKER_COMMAND: {
      /* The credentials exist before the launch job runs, in a committed
       * transaction: a command that starts at once can log in. */
      json_t *env = NULL;
      char ignored[256];
      *st = transition_docker_env(s, in->org_id, t, id, in->now_us, &env,
                                  ignored, sizeof ignored);
      json_decref(env);
      if (*st == STORE_NONE)
        *st = STORE_ONE; /* the launch job fails it with the reason */
      if (*st == STORE_ONE)
        *st =
            store_job_add(s, TRANSITION_JOB_LAUNCH, id, in->org_id, in->now_us);
      break;
    }
    case TRANSITIONS_DOCKER_EXTERNAL:
      break;
    }
  }
  json_decref(t);
  if (*st != STORE_ONE) {
    json_decref(body);
    if (*st == STORE_NONE)
      *st = STORE_ERROR;
    return START_STORE;
  }
  memcpy(out_id, id, sizeof id);
  if (out_body)
    *out_body = body;
  else
    json_decref(body);
  return START_DONE;
}

store_status transition_exec_start(store *s, const transition_start *start,
                                   char out_id[IDS_MAX_LEN], char *why,
                                   size_t whylen) {
  store_status st = STORE_ONE;
  start_result r = exec_start(s, start, out_id, NULL, why, whylen, &st);
  if (r == START_DONE)
    return STORE_ONE;
  return r == START_STORE ? st : STORE_NONE;
}

/* ---- jobs ---- */

/* One execution's timeout job: fails it when its deadline has passed, or
 * schedules itself again at the deadline a heartbeat moved. */
static store_status exec_timeout(store *s, const store_job *job,
                                 int64_t now_us) {
  store_texec row;
  store_status st = store_texec_get(s, job->org_id, job->target_id, &row);
  if (st == STORE_NONE)
    return STORE_ONE; /* deleted with its transition */
  if (st != STORE_ONE || !exec_is(row.status, "running"))
    return st;
  if (row.deadline_us > now_us)
    return store_job_add(s, TRANSITION_JOB_TIMEOUT, job->target_id, job->org_id,
                         exec_tick(row.deadline_us));
  json_t *body = NULL;
  store_obj_key key = {STORE_TEXEC_KIND, job->org_id, job->target_id};
  st = store_obj_get(s, &key, &body);
  if (st != STORE_ONE)
    return st == STORE_NONE ? STORE_ONE : st;
  char msg[256];
  snprintf(msg, sizeof msg,
           "timed out: no heartbeat or completion within %lld seconds "
           "(timeoutInSeconds)",
           (long long)(row.timeout_us / 1000000));
  json_t *error = transition_exec_error(msg);
  transition_ending e = {.status = "failed", .error = error, .timed_out = true};
  st = transition_exec_end(s, job->org_id, job->target_id, body, &row, &e,
                           now_us);
  json_decref(error);
  json_decref(body);
  if (st == STORE_ONE)
    runner_kill(job->target_id); /* command mode: killed at the timeout */
  return st;
}

/* Timeouts come in crowds (executions started together time out
 * together), and a transaction per execution would spend most of its time
 * committing: the job takes up to EXEC_TIMEOUT_BATCH other due timeout jobs
 * along into its transaction, for at most EXEC_TIMEOUT_BATCH_US. */
enum { EXEC_TIMEOUT_BATCH = 64, EXEC_TIMEOUT_BATCH_US = 5000 };

store_status transition_timeout_job(store *s, const store_job *job,
                                    int64_t now_us) {
  int64_t began = clock_mono_us();
  store_status st = exec_timeout(s, job, now_us);
  store_job more[EXEC_TIMEOUT_BATCH];
  int n = 0;
  if (st == STORE_ONE)
    st = store_job_due_of_kind(s, TRANSITION_JOB_TIMEOUT, now_us, job->id, more,
                               EXEC_TIMEOUT_BATCH, &n);
  for (int i = 0; i < n && st == STORE_ONE; i++) {
    if (clock_mono_us() - began > EXEC_TIMEOUT_BATCH_US)
      break; /* the rest in the engine's next transaction */
    st = exec_timeout(s, &more[i], now_us);
    if (st == STORE_ONE)
      st = store_job_delete(s, more[i].id);
  }
  return st;
}

/* ---- handlers ---- */

/* The execution of the path, checked to belong to the path's transition. */
static store_status exec_of_path(const api_request *req, store_texec *row) {
  store_status st =
      store_texec_get(req->db, req->principal.org_id, req->path_params[1], row);
  if (st == STORE_ONE && strcmp(row->transition_id, req->path_params[0]) != 0)
    return STORE_NONE;
  return st;
}

LAS_HANDLER(transition_executions_create) {
  transition_start start = {
      .org_id = req->principal.org_id,
      .transition_id = req->path_params[0],
      .input = req->body,
      .started_by = req->principal.id[0] ? req->principal.id : NULL,
      .now_us = req->now_us,
  };
  char id[IDS_MAX_LEN], why[1024];
  json_t *body = NULL;
  store_status st = STORE_ONE;
  switch (exec_start(req->db, &start, id, &body, why, sizeof why, &st)) {
  case START_DONE:
    return api_ok(body);
  case START_NO_TRANSITION:
    return api_err(ERR_NOT_FOUND);
  case START_BAD_INPUT:
    return api_errf(ERR_BAD_REQUEST, "%s", why);
  case START_LIMIT:
    return api_err(ERR_LIMIT_EXCEEDED);
  case START_STORE:
    break;
  }
  return api_store_err(st);
}

LAS_HANDLER(transition_executions_get) {
  store_texec row;
  store_status st = exec_of_path(req, &row);
  char *text = NULL;
  size_t len = 0;
  if (st == STORE_ONE) {
    store_obj_key key = {STORE_TEXEC_KIND, req->principal.org_id,
                         req->path_params[1]};
    st = store_obj_get_text(req->db, &key, &text, &len);
  }
  if (st != STORE_ONE)
    return api_store_err(st);
  return api_ok_raw(text, len);
}

/* The repeatable executionId filter: NEW array in *out (NULL when
 * absent); a value that is not an execution id is a 400. */
static bool exec_id_filter(const api_request *req, json_t **out,
                           api_response *fail) {
  json_t *values = api_query_all(req, "executionId");
  size_t i;
  json_t *v;
  json_array_foreach(values, i, v) {
    if (!ids_valid(STORE_TEXEC_KIND, json_string_value(v))) {
      json_decref(values);
      *fail =
          api_errf(ERR_BAD_REQUEST, "executionId: must match pattern "
                                    "^las:transition-execution:[a-f0-9]{32}$");
      return false;
    }
  }
  *out = values;
  return true;
}

static const char *const exec_sorts[] = {"startTime", "endTime", NULL};
static const char *const exec_orders[] = {"ascending", "descending", NULL};

LAS_HANDLER(transition_executions_list) {
  const char *tid = req->path_params[0];
  store_status st = transition_exists(req->db, req->principal.org_id, tid);
  if (st != STORE_ONE)
    return api_store_err(st);
  api_response fail;
  json_t *statuses = NULL, *ids = NULL;
  const char *sort_by = NULL, *order = NULL;
  if (!api_query_enum_all(req, "status", exec_statuses, &statuses, &fail) ||
      !exec_id_filter(req, &ids, &fail) ||
      !api_query_enum(req, "sortBy", exec_sorts, &sort_by, &fail) ||
      !api_query_enum(req, "order", exec_orders, &order, &fail)) {
    json_decref(statuses);
    json_decref(ids);
    return fail;
  }
  /* The token belongs to this list: transition, filters, sort and order. */
  json_t *shape = json_pack("{s:s, s:O?, s:O?, s:s?, s:s?}", "transitionId",
                            tid, "status", statuses, "executionId", ids,
                            "sortBy", sort_by, "order", order);
  char *shape_text = json_dumps(shape, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(shape);
  char digest[65] = "", context[256];
  if (shape_text)
    codec_sha256_hex(shape_text, strlen(shape_text), digest);
  free(shape_text);
  snprintf(context, sizeof context, "transition-executions|%s|%s",
           req->principal.org_id, digest);
  paging_args page;
  int64_t key = 0;
  bool has = false;
  if (!paging_parse_at(req, context, &page, &key, &has, &fail)) {
    json_decref(statuses);
    json_decref(ids);
    return fail;
  }
  store_texec_query q = {
      .org_id = req->principal.org_id,
      .transition_id = tid,
      .sort = !sort_by                            ? STORE_TEXEC_BY_CREATION
              : strcmp(sort_by, "startTime") == 0 ? STORE_TEXEC_BY_START
                                                  : STORE_TEXEC_BY_END,
      .descending = order && strcmp(order, "descending") == 0,
      .statuses = statuses,
      .ids = ids,
      .has_after = has,
      .after_key = key,
      .after_seq = page.after_seq,
      .limit = page.limit,
  };
  char *items = NULL;
  size_t len = 0;
  int64_t last_key = 0, last_seq = 0;
  bool more = false;
  st = store_texec_page_text(req->db, &q, &items, &len, &last_key, &last_seq,
                             &more);
  json_decref(ids);
  if (st != STORE_ONE) {
    json_decref(statuses);
    return api_store_err(st);
  }
  json_t *list = json_loadb(items, len, 0, NULL);
  free(items);
  if (!list) {
    json_decref(statuses);
    return api_err(ERR_INTERNAL);
  }
  json_t *out = json_pack(
      "{s:o, s:s, s:o}", "executions", list, "transitionId", tid, "nextToken",
      paging_next_token_at(context, last_key, last_seq, more));
  if (statuses)
    json_object_set_new(out, "status", statuses);
  return api_ok(out);
}

/* The schema's date-time pattern: YYYY-?MM-?DD( |T)?HH:?MM:?SS, an
 * optional fraction of 1..6 digits after any one character, and Z or
 * +HH(:)MM. */
static bool exec_parse_time(const char *t, int64_t *out) {
  int v[6] = {0};
  static const int width[6] = {4, 2, 2, 2, 2, 2};
  static const char sep[6] = {0, '-', '-', 'T', ':', ':'};
  const char *p = t;
  for (int i = 0; i < 6; i++) {
    if (i == 3 && (*p == ' ' || *p == 'T'))
      p++;
    else if (i > 0 && i != 3 && *p == sep[i])
      p++;
    for (int k = 0; k < width[i]; k++, p++) {
      if (*p < '0' || *p > '9')
        return false;
      v[i] = v[i] * 10 + (*p - '0');
    }
  }
  long micros = 0;
  if (*p && *p != 'Z' && *p != '+' && p[1] >= '0' && p[1] <= '9') {
    p++;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 6) {
      micros = micros * 10 + (*p++ - '0');
      digits++;
    }
    for (; digits < 6; digits++)
      micros *= 10;
  }
  int offset_min = 0;
  if (*p == 'Z') {
    p++;
  } else if (*p == '+' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
             p[2] <= '9') {
    int hh = (p[1] - '0') * 10 + (p[2] - '0');
    p += 3;
    if (*p == ':')
      p++;
    if (!(p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9'))
      return false;
    offset_min = hh * 60 + (p[0] - '0') * 10 + (p[1] - '0');
    p += 2;
  } else {
    return false;
  }
  if (*p || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
      v[4] > 59 || v[5] > 60)
    return false;
  struct tm tm = {.tm_year = v[0] - 1900,
                  .tm_mon = v[1] - 1,
                  .tm_mday = v[2],
                  .tm_hour = v[3],
                  .tm_min = v[4],
                  .tm_sec = v[5]};
  *out = ((int64_t)timegm(&tm) - offset_min * 60) * 1000000 + micros;
  /* Times are kept as microseconds since 1970 and answered in the API's
   * own format, which has no room for earlier ones. */
  return *out >= 0;
}

/* The rules of a PATCH body beyond its schema: NULL when it is fine. */
static const char *exec_patch_rule(const json_t *body) {
  const char *status = json_string_value(json_object_get(body, "status"));
  bool output = json_object_get(body, "output") != NULL;
  bool error = json_object_get(body, "error") != NULL;
  if (!status && !json_object_get(body, "startTime"))
    return "status: is required (succeeded, failed, rejected or retry), "
           "unless only startTime changes";
  if (!status && (output || error))
    return output ? "status: is required with output"
                  : "status: is required with error";
  if (!status)
    return NULL;
  bool succeeded = exec_is(status, "succeeded");
  if (succeeded && !output)
    return "output: is required when status is succeeded";
  if (succeeded && error)
    return "error: is not allowed when status is succeeded";
  if (!succeeded && output)
    return "output: is only allowed when status is succeeded";
  if (exec_is(status, "failed") && !error)
    return "error: is required when status is failed";
  return NULL;
}

LAS_HANDLER(transition_executions_update) {
  const char *org = req->principal.org_id, *eid = req->path_params[1];
  store_texec row;
  store_status st = exec_of_path(req, &row);
  json_t *body = NULL;
  if (st == STORE_ONE) {
    store_obj_key key = {STORE_TEXEC_KIND, org, eid};
    st = store_obj_get(req->db, &key, &body);
  }
  if (st != STORE_ONE)
    return api_store_err(st);
  const char *status = json_string_value(json_object_get(req->body, "status"));
  json_t *output = json_object_get(req->body, "output");
  const char *start =
      json_string_value(json_object_get(req->body, "startTime"));
  int64_t start_us = 0;
  const char *rule = exec_patch_rule(req->body);
  char why[1024] = "";
  if (rule)
    snprintf(why, sizeof why, "%s", rule);
  else if (start && !exec_parse_time(start, &start_us))
    snprintf(why, sizeof why,
             "startTime: is not a valid date-time from 1970 on");
  if (why[0]) {
    json_decref(body);
    return api_errf(ERR_BAD_REQUEST, "%s", why);
  }
  if (status && !exec_is(row.status, "running")) {
    json_decref(body);
    return api_errf(ERR_CONFLICT,
                    "execution %s is %s already: only a running execution "
                    "can be completed",
                    eid, row.status);
  }
  if (status && exec_is(status, "succeeded")) {
    json_t *t = NULL;
    st = transition_load(req->db, org, row.transition_id, &t);
    bool ok = st == STORE_ONE &&
              transition_exec_matches(t, "outputJsonSchema", output, "output",
                                      why, sizeof why);
    json_decref(t);
    if (!ok) {
      json_decref(body);
      return st == STORE_ONE ? api_errf(ERR_BAD_REQUEST, "%s", why)
                             : api_store_err(st);
    }
  }
  if (start) {
    char when[CLOCK_ISO_LEN];
    clock_format_iso(start_us, when, sizeof when);
    json_object_set_new(body, "startTime", json_string(when));
    row.start_us = start_us;
    st = store_texec_set_start(req->db, org, eid, body, start_us);
  }
  if (st == STORE_ONE && status) {
    transition_ending e = {.status = status,
                           .output = output,
                           .error = json_object_get(req->body, "error"),
                           .completed_by =
                               req->principal.id[0] ? req->principal.id : NULL};
    st = transition_exec_end(req->db, org, eid, body, &row, &e, req->now_us);
  }
  if (st != STORE_ONE) {
    json_decref(body);
    return api_store_err(st == STORE_NONE ? STORE_ERROR : st);
  }
  return api_ok(body);
}

LAS_HANDLER(transition_executions_heartbeat) {
  store_texec row;
  store_status st = exec_of_path(req, &row);
  if (st != STORE_ONE)
    return api_store_err(st);
  if (!exec_is(row.status, "running"))
    return api_errf(ERR_CONFLICT,
                    "execution %s is %s: heartbeats are only taken while it "
                    "runs",
                    req->path_params[1], row.status);
  st = store_texec_heartbeat(req->db, req->principal.org_id,
                             req->path_params[1], req->now_us + row.timeout_us);
  if (st != STORE_ONE)
    return api_store_err(st == STORE_NONE ? STORE_ERROR : st);
  return api_no_content();
}
