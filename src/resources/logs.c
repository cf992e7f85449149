/* GET /logs (filters: transitionId, transitionExecutionId, workflowId,
 * workflowExecutionId, order) and GET /logs/{logId}. Logs are written by the
 * engine for the work it does. */
#include "resources/logs.h"

#include "core/clock.h"
#include "core/codec.h"
#include "core/ids.h"
#include "resources/crud.h"
#include "resources/paging.h"
#include "resources/resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const crud_kind log_kind = {
    .kind = "log",
    .id_field = "logId",
    .list_field = "logs",
};

json_t *logs_event(int64_t at_us, const char *message) {
  char when[CLOCK_ISO_LEN];
  clock_format_iso(at_us, when, sizeof when);
  return json_pack("{s:s, s:s}", "timestamp", when, "message", message);
}

store_status logs_create(store *s, const char *org_id, const logs_ref *ref,
                         int64_t start_us, json_t *events,
                         char id_out[IDS_MAX_LEN]) {
  char id[IDS_MAX_LEN], start[CLOCK_ISO_LEN];
  ids_new(log_kind.kind, id, sizeof id);
  clock_format_iso(start_us, start, sizeof start);
  json_t *log =
      json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s, s:o}", "logId", id,
                "transitionId", ref->transition_id, "transitionExecutionId",
                ref->transition_execution_id, "workflowId", ref->workflow_id,
                "workflowExecutionId", ref->workflow_execution_id, "startTime",
                start, "events", events ? events : json_array());
  if (!log)
    return STORE_ERROR;
  store_obj_key key = {log_kind.kind, org_id, id};
  store_status st = store_obj_insert(s, &key, NULL, NULL, log);
  json_decref(log);
  if (st == STORE_ONE && id_out)
    memcpy(id_out, id, sizeof id);
  return st;
}

store_status logs_append(store *s, const char *org_id, const char *log_id,
                         json_t *events) {
  store_obj_key key = {log_kind.kind, org_id, log_id};
  json_t *log = NULL;
  store_status st = store_obj_get(s, &key, &log);
  if (st != STORE_ONE) {
    json_decref(events);
    return st;
  }
  json_t *list = json_object_get(log, "events");
  if (!json_is_array(list)) {
    list = json_array();
    json_object_set_new(log, "events", list);
  }
  json_array_extend(list, events);
  json_decref(events);
  st = store_obj_update(s, &key, NULL, NULL, log);
  json_decref(log);
  return st;
}

store_status logs_write(store *s, const char *org_id, const char *transition_id,
                        int64_t start_us, json_t *events) {
  logs_ref ref = {.transition_id = transition_id};
  return logs_create(s, org_id, &ref, start_us, events, NULL);
}

/* One optional filter: its query name, the id kind it must be, and where
 * it goes in the store's filter. */
typedef struct {
  const char *name;
  const char *kind;
  size_t offset;
} log_filter_spec;

static const log_filter_spec log_filters[] = {
    {"transitionId", "transition", offsetof(store_log_filter, transition_id)},
    {"transitionExecutionId", "transition-execution",
     offsetof(store_log_filter, transition_execution_id)},
    {"workflowId", "workflow", offsetof(store_log_filter, workflow_id)},
    {"workflowExecutionId", "workflow-execution",
     offsetof(store_log_filter, workflow_execution_id)},
};

static bool log_id_ok(const log_filter_spec *f, const char *v) {
  if (ids_valid(f->kind, v))
    return true;
  /* Built-in transitions are named, e.g. las:transition:commons-…, with
   * the characters the Log schema's pattern allows (the filter is echoed
   * in the answer). */
  const char *commons = "las:transition:commons-";
  size_t n = strlen(commons);
  if (strcmp(f->kind, "transition") != 0 || strncmp(v, commons, n) != 0 ||
      !v[n])
    return false;
  for (const char *p = v + n; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
          (*p >= 'A' && *p <= 'Z') || *p == '-'))
      return false;
  return true;
}

LAS_HANDLER(logs_list) {
  store_log_filter filter = {0};
  json_t *echo = json_object();
  char context[512];
  size_t used = (size_t)snprintf(context, sizeof context, "log|%s",
                                 req->principal.org_id);
  for (size_t i = 0; i < sizeof log_filters / sizeof log_filters[0]; i++) {
    const char *v = api_query(req, log_filters[i].name);
    if (!v)
      continue;
    if (!log_id_ok(&log_filters[i], v)) {
      json_decref(echo);
      return api_errf(ERR_BAD_REQUEST,
                      "%s: must match pattern ^las:%s:[a-f0-9]{32}$",
                      log_filters[i].name, log_filters[i].kind);
    }
    *(const char **)(void *)((char *)&filter + log_filters[i].offset) = v;
    json_object_set_new(echo, log_filters[i].name, json_string(v));
  }
  static const char *const orders[] = {"ascending", "descending", NULL};
  const char *order = NULL;
  api_response bad;
  if (!api_query_enum(req, "order", orders, &order, &bad)) {
    json_decref(echo);
    return bad;
  }
  filter.descending = order && strcmp(order, "descending") == 0;
  if (order)
    json_object_set_new(echo, "order", json_string(order));

  /* The token belongs to this list: these filters, this order. */
  char *text = json_dumps(echo, JSON_COMPACT | JSON_SORT_KEYS);
  char digest[65] = "";
  if (text)
    codec_sha256_hex(text, strlen(text), digest);
  free(text);
  snprintf(context + used, sizeof context - used, "|%s", digest);

  paging_args page;
  api_response fail;
  if (!paging_parse(req, context, &page, &fail)) {
    json_decref(echo);
    return fail;
  }
  json_t *items = NULL;
  int64_t last = 0;
  bool more = false;
  store_status st =
      store_log_page(req->db, req->principal.org_id, &filter, page.after_seq,
                     page.limit, &items, &last, &more);
  if (st != STORE_ONE) {
    json_decref(echo);
    return api_store_err(st);
  }
  json_object_set_new(echo, "logs", items);
  json_object_set_new(echo, "nextToken",
                      paging_next_token(context, last, more));
  return api_ok(echo);
}

LAS_HANDLER(logs_get) {
  return crud_get(req, &log_kind);
}
