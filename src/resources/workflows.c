/* /workflows: a specification (ASL 1.0.0) checked by asl_check before it is
 * stored, completedConfig and errorConfig. The specification is not part of
 * the answers (the Workflow schema has no such field): its definition is
 * kept as the workflow's blob, which the engine reads. The API has no way to
 * change it (PATCH takes no specification), so an execution always runs the
 * definition it started with. numberOfRunningExecutions is counted from the
 * executions (status running or retry) through an index, so it is always
 * true. A workflow with running executions is not deleted (400), as a
 * dataset with documents is not: stop them first (DELETE each execution);
 * deleting a workflow deletes its ended executions with it. */
#include "resources/workflows.h"

#include "resources/crud.h"
#include "resources/resources.h"
#include "resources/transitions.h"
#include "workflows/asl_check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool workflow_present(const api_request *req, json_t *wf) {
  const char *id = json_string_value(json_object_get(wf, "workflowId"));
  int64_t n = store_wfx_count_running(req->db, id);
  if (n < 0)
    return false;
  json_object_set_new(wf, "numberOfRunningExecutions", json_integer(n));
  return true;
}

static const crud_kind workflow_kind = {
    .kind = WORKFLOWS_KIND,
    .id_field = "workflowId",
    .list_field = "workflows",
    .allowed_field = "numberOfWorkflowsAllowed",
    .present = workflow_present,
};

static const char *const workflow_fields[] = {
    "name", "description", "completedConfig", "errorConfig", NULL};

store_status workflows_load(const api_request *req, const char *id,
                            json_t **out) {
  return crud_load(req, &workflow_kind, id, out);
}

/* Definitions never change (PATCH takes no specification) and ids are
 * never reused, so each thread keeps the parsed trees of the last few it
 * read: executions of the same workflow neither read nor parse it again.
 * Per thread, so that only their thread touches the trees' reference
 * counts; callers must not change them. */
enum { WF_DEF_SLOTS = 8 };
typedef struct {
  struct {
    char id[IDS_MAX_LEN];
    json_t *tree;
  } slot[WF_DEF_SLOTS];
  unsigned next;
  /* Ids come back after a reset with an id seed: the cache holds trees of
   * one generation of the data (store_state_generation) only. */
  uint64_t gen;
} wf_def_cache;

static pthread_key_t wf_def_key;
static pthread_once_t wf_def_once = PTHREAD_ONCE_INIT;

static void wf_def_free(void *p) {
  wf_def_cache *c = p;
  for (int i = 0; i < WF_DEF_SLOTS; i++)
    json_decref(c->slot[i].tree);
  free(c);
}

static void wf_def_make(void) {
  pthread_key_create(&wf_def_key, wf_def_free);
}

store_status workflows_definition(store *s, const char *workflow_id,
                                  json_t **out) {
  pthread_once(&wf_def_once, wf_def_make);
  wf_def_cache *c = pthread_getspecific(wf_def_key);
  if (!c && (c = calloc(1, sizeof *c)) != NULL &&
      pthread_setspecific(wf_def_key, c) != 0) {
    free(c);
    c = NULL;
  }
  uint64_t gen = store_state_generation();
  if (c && c->gen != gen) {
    for (int i = 0; i < WF_DEF_SLOTS; i++) {
      json_decref(c->slot[i].tree);
      c->slot[i].tree = NULL;
    }
    c->gen = gen;
  }
  for (int i = 0; c && i < WF_DEF_SLOTS; i++) {
    if (c->slot[i].tree && strcmp(c->slot[i].id, workflow_id) == 0) {
      *out = json_incref(c->slot[i].tree);
      return STORE_ONE;
    }
  }
  char *text = NULL;
  size_t len = 0;
  store_status st = store_blob_get(s, workflow_id, &text, &len);
  if (st != STORE_ONE)
    return st;
  *out = json_loadb(text, len, 0, NULL);
  free(text);
  if (!*out)
    return STORE_ERROR;
  if (c && strlen(workflow_id) < IDS_MAX_LEN) {
    unsigned i = c->next++ % WF_DEF_SLOTS;
    json_decref(c->slot[i].tree);
    snprintf(c->slot[i].id, sizeof c->slot[i].id, "%s", workflow_id);
    c->slot[i].tree = json_incref(*out);
  }
  return STORE_ONE;
}

/* The secrets a completedConfig names must be the organization's. */
static bool workflow_secrets_exist(api_request *req, api_response *fail) {
  const json_t *cc = json_object_get(req->body, "completedConfig");
  if (!cc)
    return true;
  json_t *ids = json_array();
  const json_t *one = json_object_get(cc, "secretId");
  if (one)
    json_array_append(ids, (json_t *)one);
  json_array_extend(ids, json_object_get(cc, "environmentSecrets"));
  size_t i;
  json_t *v;
  bool ok = true;
  json_array_foreach(ids, i, v) {
    store_obj_key key = {"secret", req->principal.org_id, json_string_value(v)};
    json_t *secret = NULL;
    store_status st = store_obj_get(req->db, &key, &secret);
    json_decref(secret);
    if (st == STORE_ONE)
      continue;
    if (st != STORE_NONE)
      *fail = api_store_err(st);
    else if (one && i == 0)
      *fail = api_errf(ERR_BAD_REQUEST,
                       "completedConfig.secretId: secret %s does not exist",
                       json_string_value(v));
    else
      *fail = api_errf(ERR_BAD_REQUEST,
                       "completedConfig.environmentSecrets[%zu]: secret %s "
                       "does not exist",
                       one ? i - 1 : i, json_string_value(v));
    ok = false;
    break;
  }
  json_decref(ids);
  return ok;
}

typedef struct {
  api_request *req;
  store_status failure; /* a store error met while checking */
} workflow_check_ctx;

static bool workflow_resource_exists(void *arg, const char *resource) {
  workflow_check_ctx *c = arg;
  store_status st =
      transition_exists(c->req->db, c->req->principal.org_id, resource);
  if (st != STORE_ONE && st != STORE_NONE && c->failure == STORE_ONE)
    c->failure = st;
  return st == STORE_ONE;
}

LAS_HANDLER(workflows_list) {
  return crud_list(req, &workflow_kind, NULL, NULL);
}

LAS_HANDLER(workflows_create) {
  api_response fail;
  if (!crud_within_limit(req, &workflow_kind, &fail) ||
      !workflow_secrets_exist(req, &fail))
    return fail;
  const json_t *definition = json_object_get(
      json_object_get(req->body, "specification"), "definition");
  workflow_check_ctx ctx = {req, STORE_ONE};
  char why[1024];
  if (!asl_check(definition, workflow_resource_exists, &ctx, why, sizeof why)) {
    if (ctx.failure != STORE_ONE)
      return api_store_err(ctx.failure);
    return api_errf(ERR_BAD_REQUEST, "specification.%s", why);
  }
  if (ctx.failure != STORE_ONE)
    return api_store_err(ctx.failure);
  char id[IDS_MAX_LEN];
  json_t *wf = crud_new(req, &workflow_kind, id);
  json_object_set_new(wf, "name", json_null());
  json_object_set_new(wf, "description", json_null());
  /* Both are required in answers: an empty imageUrl means no completion
   * step, and no manual retry unless asked for. */
  json_object_set_new(wf, "completedConfig",
                      json_pack("{s:s}", "imageUrl", ""));
  json_object_set_new(wf, "errorConfig", json_pack("{s:b}", "manualRetry", 0));
  crud_copy_fields(wf, req->body, workflow_fields);
  char *text = json_dumps(definition, JSON_COMPACT | JSON_PRESERVE_ORDER);
  store_status st =
      text ? crud_insert(req, &workflow_kind, id, NULL, NULL, wf) : STORE_ERROR;
  if (st == STORE_ONE)
    st = store_blob_put(req->db, id, text, strlen(text));
  free(text);
  if (st != STORE_ONE) {
    json_decref(wf);
    return api_store_err(st == STORE_NONE ? STORE_ERROR : st);
  }
  return crud_reply(req, &workflow_kind, api_ok(wf));
}

LAS_HANDLER(workflows_get) {
  return crud_get(req, &workflow_kind);
}

LAS_HANDLER(workflows_update) {
  api_response fail;
  if (!workflow_secrets_exist(req, &fail))
    return fail;
  return crud_patch(req, &workflow_kind, workflow_fields);
}

LAS_HANDLER(workflows_delete) {
  const char *id = crud_path_id(req);
  json_t *wf = NULL;
  store_status st = crud_load(req, &workflow_kind, id, &wf);
  if (st != STORE_ONE)
    return api_store_err(st);
  int64_t running = store_wfx_count_running(req->db, id);
  if (running != 0) {
    json_decref(wf);
    if (running < 0)
      return api_err(ERR_UNAVAILABLE);
    return api_errf(ERR_BAD_REQUEST,
                    "workflow %s has %lld running execution(s); stop them "
                    "first (DELETE /workflows/%s/executions/{executionId})",
                    id, (long long)running, id);
  }
  store_obj_key key = {workflow_kind.kind, req->principal.org_id, id};
  st = store_wfx_delete_workflow(req->db, id);
  if (st == STORE_ONE)
    st = store_obj_delete(req->db, &key);
  if (st != STORE_ONE) {
    json_decref(wf);
    return api_store_err(st == STORE_NONE ? STORE_ERROR : st);
  }
  json_object_set_new(wf, "numberOfRunningExecutions", json_integer(0));
  return api_ok(wf);
}
