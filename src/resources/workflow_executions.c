/* /workflows/{workflowId}/executions: POST starts an execution that the
 * engine runs (src/workflows/scheduler.c); GET lists them (filter `status`,
 * repeatable; `sortBy` startTime or endTime; `order` ascending or
 * descending) or reads one; DELETE stops and deletes one; PATCH with
 * nextTransitionId continues one in status error or ends it as failed.
 * Executions live in their own table (store_workflows.h). */
#include "core/clock.h"
#include "core/codec.h"
#include "resources/crud.h"
#include "resources/logs.h"
#include "resources/organizations.h"
#include "resources/paging.h"
#include "resources/resources.h"
#include "resources/workflows.h"
#include "workflows/scheduler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const wfx_statuses[] = {
    "running", "succeeded", "failed", "rejected", "retry", "error", NULL};
static const char *const wfx_sorts[] = {"startTime", "endTime", NULL};
static const char *const wfx_orders[] = {"ascending", "descending", NULL};

/* The workflow in the path must be the caller's. */
static store_status wfx_workflow(const api_request *req) {
  json_t *wf = NULL;
  store_status st = workflows_load(req, req->path_params[0], &wf);
  json_decref(wf);
  return st;
}

/* A new execution as it starts (log_id NULL: not yet known). */
static json_t *wfx_new_body(const char *id, const char *workflow_id,
                            const json_t *input, const char *now,
                            const char *log_id) {
  return json_pack("{s:s, s:s, s:O, s:{}, s:s, s:s, s:n, s:s?, s:n, s:{}, "
                   "s:[{s:s, s:s}], s:[]}",
                   "executionId", id, "workflowId", workflow_id, "input", input,
                   "output", "status", "running", "startTime", now, "endTime",
                   "logId", log_id, "completedTaskLogId",
                   "transitionExecutions", "events", "timestamp", now, "type",
                   "ExecutionStarted", "completedBy");
}

LAS_HANDLER(workflow_executions_create) {
  const char *workflow_id = req->path_params[0];
  json_t *wf = NULL, *definition = NULL;
  store_status st = workflows_load(req, workflow_id, &wf);
  if (st == STORE_ONE)
    st = workflows_definition(req->db, workflow_id, &definition);
  if (st != STORE_ONE) {
    json_decref(wf);
    return api_store_err(st);
  }
  api_response used = organizations_consume(req, "workflowExecutions");
  if (used.status) {
    json_decref(wf);
    json_decref(definition);
    return used;
  }
  char id[IDS_MAX_LEN], now[CLOCK_ISO_LEN];
  ids_new("workflow-execution", id, sizeof id);
  clock_format_iso(req->now_us, now, sizeof now);
  const json_t *input = json_object_get(req->body, "input");
  json_t *body = wfx_new_body(id, workflow_id, input, now, NULL);
  st = body ? scheduler_start(req->db, req->principal.org_id, wf, definition,
                              body, req->now_us)
            : STORE_ERROR;
  json_decref(wf);
  json_decref(definition);
  /* The answer is the execution as it started (the first states may have
   * run already, see scheduler_start): wfx_new_body's object, written
   * directly as text, since only the input needs serialising. */
  const char *log_id = json_string_value(json_object_get(body, "logId"));
  char *in = st == STORE_ONE && log_id
                 ? json_dumps(input, JSON_COMPACT | JSON_PRESERVE_ORDER)
                 : NULL;
  char *text = NULL;
  int len = in ? asprintf(&text,
                          "{\"executionId\":\"%s\",\"workflowId\":\"%s\","
                          "\"input\":%s,\"output\":{},\"status\":\"running\","
                          "\"startTime\":\"%s\",\"endTime\":null,\"logId\":"
                          "\"%s\",\"completedTaskLogId\":null,"
                          "\"transitionExecutions\":{},\"events\":[{"
                          "\"timestamp\":\"%s\",\"type\":"
                          "\"ExecutionStarted\"}],\"completedBy\":[]}",
                          id, workflow_id, in, now, log_id, now)
               : -1;
  free(in);
  json_decref(body);
  if (len < 0) {
    if (st == STORE_ONE || st == STORE_NONE)
      st = STORE_ERROR;
    return api_store_err(st);
  }
  return api_ok_raw(text, (size_t)len);
}

LAS_HANDLER(workflow_executions_list) {
  const char *workflow_id = req->path_params[0];
  store_status st = wfx_workflow(req);
  if (st != STORE_ONE)
    return api_store_err(st);
  json_t *statuses = NULL;
  const char *sort = NULL, *order = NULL;
  api_response fail;
  if (!api_query_enum_all(req, "status", wfx_statuses, &statuses, &fail))
    return fail;
  if (!api_query_enum(req, "sortBy", wfx_sorts, &sort, &fail) ||
      !api_query_enum(req, "order", wfx_orders, &order, &fail)) {
    json_decref(statuses);
    return fail;
  }
  store_wfx_query q = {
      .org_id = req->principal.org_id,
      .workflow_id = workflow_id,
      .statuses = statuses,
      .by_end = sort && strcmp(sort, "endTime") == 0,
      .descending = order && strcmp(order, "descending") == 0,
  };
  /* A token continues only this list: workflow, order and filter. */
  char *filter = statuses ? json_dumps(statuses, JSON_COMPACT) : NULL;
  char digest[65] = "";
  if (filter)
    codec_sha256_hex(filter, strlen(filter), digest);
  free(filter);
  char context[300];
  snprintf(context, sizeof context, "workflow-execution|%s|%s|%d|%d|%s",
           req->principal.org_id, workflow_id, q.by_end, q.descending, digest);
  paging_args page;
  if (!paging_parse(req, context, &page, &fail)) {
    json_decref(statuses);
    return fail;
  }
  q.after = page.after_seq;
  q.limit = page.limit;
  char *items = NULL;
  size_t items_len = 0;
  int64_t last = 0;
  bool more = false;
  st = store_wfx_page_text(req->db, &q, &items, &items_len, &last, &more);
  if (st != STORE_ONE) {
    json_decref(statuses);
    return api_store_err(st);
  }
  json_error_t jerr;
  json_t *list = json_loadb(items, items_len, 0, &jerr);
  free(items);
  if (!list) {
    json_decref(statuses);
    return api_err(ERR_INTERNAL);
  }
  json_t *out =
      json_pack("{s:s, s:o, s:o}", "workflowId", workflow_id, "executions",
                list, "nextToken", paging_next_token(context, last, more));
  if (statuses)
    json_object_set_new(out, "status", statuses);
  if (sort)
    json_object_set_new(out, "sortBy", json_string(sort));
  if (order)
    json_object_set_new(out, "order", json_string(order));
  return api_ok(out);
}

LAS_HANDLER(workflow_executions_get) {
  char workflow_id[64];
  char *text = NULL;
  size_t len = 0;
  store_status st =
      store_wfx_get_text(req->db, req->principal.org_id, req->path_params[1],
                         workflow_id, &text, &len);
  if (st == STORE_ONE && strcmp(workflow_id, req->path_params[0]) != 0)
    st = STORE_NONE;
  if (st != STORE_ONE) {
    free(text);
    return api_store_err(st);
  }
  return api_ok_raw(text, len);
}

/* The execution in the path must belong to the workflow in the path. */
static store_status wfx_of_path(const api_request *req) {
  char workflow_id[64];
  json_t *body = NULL;
  store_status st =
      store_wfx_get(req->db, req->principal.org_id, req->path_params[1],
                    workflow_id, &body, NULL);
  json_decref(body);
  if (st == STORE_ONE && strcmp(workflow_id, req->path_params[0]) != 0)
    st = STORE_NONE;
  return st;
}

LAS_HANDLER(workflow_executions_delete) {
  store_status st = wfx_of_path(req);
  json_t *body = NULL;
  if (st == STORE_ONE)
    st = scheduler_delete(req->db, req->principal.org_id, req->path_params[1],
                          &body);
  if (st != STORE_ONE)
    return api_store_err(st);
  return api_ok(body);
}

LAS_HANDLER(workflow_executions_update) {
  store_status st = wfx_of_path(req);
  if (st != STORE_ONE)
    return api_store_err(st);
  const char *next =
      json_string_value(json_object_get(req->body, "nextTransitionId"));
  json_t *body = NULL;
  char why[512];
  bool conflict = false;
  st = scheduler_continue(req->db, req->principal.org_id, req->path_params[1],
                          next, req->principal.id, clock_now_us(), &body, why,
                          sizeof why, &conflict);
  if (st == STORE_NONE && why[0])
    return api_errf(conflict ? ERR_CONFLICT : ERR_BAD_REQUEST, "%s", why);
  if (st != STORE_ONE)
    return api_store_err(st);
  return api_ok(body);
}
