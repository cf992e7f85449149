/* /models/{modelId}/dataBundles: POST makes a bundle in `processing` over
 * datasets of the caller's organization and schedules a job; the engine
 * moves it to `ready` with a summary computed from the datasets' documents,
 * or to `failed` when a dataset is empty or gone. The bundle's status is its
 * indexed group, so the status filter of the list uses an index. */
#include "resources/data_bundles.h"

#include "core/clock.h"
#include "engine/engine.h"
#include "resources/crud.h"
#include "resources/datasets.h"
#include "resources/logs.h"
#include "resources/organizations.h"
#include "resources/resources.h"

#include <stdio.h>
#include <string.h>

static const crud_kind bundle_kind = {
    .kind = "model-data-bundle",
    .id_field = "dataBundleId",
    .list_field = "dataBundles",
};
static const crud_kind model_kind = {.kind = "model", .id_field = "modelId"};

static const char *bundle_status(const json_t *bundle) {
  return json_string_value(json_object_get(bundle, "status"));
}

/* The model in the path must be the caller's. */
static store_status bundle_model(const api_request *req, json_t **model) {
  return crud_load(req, &model_kind, req->path_params[0], model);
}

/* Loads the bundle of the path, checking it belongs to the path's model. */
static store_status bundle_load(const api_request *req, json_t **bundle) {
  store_status st = crud_load(req, &bundle_kind, req->path_params[1], bundle);
  if (st == STORE_ONE &&
      strcmp(json_string_value(json_object_get(*bundle, "modelId")),
             req->path_params[0]) != 0) {
    json_decref(*bundle);
    *bundle = NULL;
    return STORE_NONE;
  }
  return st;
}

static store_status bundle_save(const api_request *req, json_t *bundle) {
  const char *id = json_string_value(json_object_get(bundle, "dataBundleId"));
  return crud_save(req, &bundle_kind, id, req->path_params[0],
                   bundle_status(bundle), bundle);
}

LAS_HANDLER(data_bundles_list) {
  json_t *model = NULL;
  store_status st = bundle_model(req, &model);
  json_decref(model);
  if (st != STORE_ONE)
    return api_store_err(st);
  static const char *const bundle_statuses[] = {"processing", "ready", "failed",
                                                NULL};
  json_t *statuses = NULL;
  api_response fail;
  if (!api_query_enum_all(req, "status", bundle_statuses, &statuses, &fail))
    return fail;
  json_t *models = json_pack("[s]", req->path_params[0]);
  api_response resp = crud_list(req, &bundle_kind, models, statuses);
  json_decref(models);
  json_decref(statuses);
  return resp;
}

LAS_HANDLER(data_bundles_create) {
  json_t *model = NULL;
  store_status st = bundle_model(req, &model);
  json_decref(model);
  if (st != STORE_ONE)
    return api_store_err(st);
  /* Snapshot each dataset as it is now: its version and document count. */
  json_t *datasets = json_array();
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(req->body, "datasetIds"), i, v) {
    json_t *ds = NULL;
    st = datasets_load(req, json_string_value(v), &ds);
    if (st == STORE_ONE)
      st = datasets_present(req, ds) ? STORE_ONE : STORE_ERROR;
    if (st != STORE_ONE) {
      json_decref(datasets);
      json_decref(ds);
      if (st == STORE_NONE)
        return api_errf(ERR_BAD_REQUEST,
                        "datasetIds[%zu]: dataset %s does not exist", i,
                        json_string_value(v));
      return api_store_err(st);
    }
    json_array_append_new(datasets, ds);
  }
  api_response used = organizations_consume(req, "dataBundles");
  if (used.status) {
    json_decref(datasets);
    return used;
  }
  char id[IDS_MAX_LEN];
  json_t *bundle = crud_new(req, &bundle_kind, id);
  json_object_set_new(bundle, "modelId", json_string(req->path_params[0]));
  json_object_set_new(bundle, "name", json_null());
  json_object_set_new(bundle, "description", json_null());
  static const char *const fields[] = {"name", "description", NULL};
  crud_copy_fields(bundle, req->body, fields);
  json_object_set_new(bundle, "datasets", datasets);
  json_object_set_new(bundle, "status", json_string("processing"));
  json_object_set_new(bundle, "summary", json_object());
  st = crud_insert(req, &bundle_kind, id, req->path_params[0], "processing",
                   bundle);
  if (st == STORE_ONE)
    st = store_job_add(req->db, "data-bundle", id, req->principal.org_id,
                       req->now_us + engine_processing_delay_us());
  if (st != STORE_ONE) {
    json_decref(bundle);
    return api_store_err(st);
  }
  return api_ok(bundle);
}

LAS_HANDLER(data_bundles_update) {
  json_t *bundle = NULL;
  store_status st = bundle_load(req, &bundle);
  if (st != STORE_ONE)
    return api_store_err(st);
  static const char *const fields[] = {"name", "description", NULL};
  crud_copy_fields(bundle, req->body, fields);
  crud_touch(bundle, req);
  st = bundle_save(req, bundle);
  if (st != STORE_ONE) {
    json_decref(bundle);
    return api_store_err(st);
  }
  return api_ok(bundle);
}

LAS_HANDLER(data_bundles_delete) {
  json_t *bundle = NULL;
  store_status st = bundle_load(req, &bundle);
  if (st == STORE_ONE) {
    store_obj_key key = {bundle_kind.kind, req->principal.org_id,
                         req->path_params[1]};
    st = store_obj_delete(req->db, &key);
  }
  if (st != STORE_ONE) {
    json_decref(bundle);
    return api_store_err(st);
  }
  return api_ok(bundle);
}

/* ---- processing ---- */

typedef struct {
  json_int_t documents;
  json_int_t with_ground_truth;
  json_t *labels; /* label -> number of documents that have it */
} bundle_counts;

static void bundle_count_document(bundle_counts *c, const json_t *doc) {
  c->documents++;
  const json_t *gt = json_object_get(doc, "groundTruth");
  if (json_array_size(gt) > 0)
    c->with_ground_truth++;
  size_t i;
  json_t *item;
  json_t *seen = json_object();
  json_array_foreach(gt, i, item) {
    const char *label = json_string_value(json_object_get(item, "label"));
    if (!label || json_object_get(seen, label))
      continue;
    json_object_set_new(seen, label, json_true());
    json_t *n = json_object_get(c->labels, label);
    json_object_set_new(c->labels, label,
                        json_integer(n ? json_integer_value(n) + 1 : 1));
  }
  json_decref(seen);
}

/* Counts a dataset's documents page by page; STORE_NONE when it is empty. */
static store_status bundle_count_dataset(api_request *req, const char *ds_id,
                                         bundle_counts *c) {
  json_t *parents = json_pack("[s]", ds_id);
  store_page_query q = {"document", req->principal.org_id, parents, NULL, 0,
                        1000};
  json_int_t before = c->documents;
  store_status st;
  bool more = true;
  while (more) {
    json_t *items = NULL;
    st = store_obj_page(req->db, &q, &items, &q.after_seq, &more);
    if (st != STORE_ONE)
      break;
    size_t i;
    json_t *doc;
    json_array_foreach(items, i, doc) bundle_count_document(c, doc);
    json_decref(items);
  }
  json_decref(parents);
  if (st == STORE_ONE && c->documents == before)
    return STORE_NONE;
  return st;
}

static json_t *bundle_summary(const bundle_counts *c, const json_t *model) {
  json_t *labels = json_object();
  const char *label;
  json_t *field;
  json_object_foreach(json_object_get(model, "fieldConfig"), label, field) {
    json_t *n = json_object_get(c->labels, label);
    json_int_t k = n ? json_integer_value(n) : 0;
    json_object_set_new(
        labels, label,
        json_pack("{s:I, s:f}", "numberOfDocuments", (json_int_t)k, "coverage",
                  c->documents ? (double)k / (double)c->documents : 0.0));
  }
  return json_pack("{s:I, s:I, s:o}", "numberOfDocuments", c->documents,
                   "numberOfDocumentsWithGroundTruth", c->with_ground_truth,
                   "labels", labels);
}

store_status data_bundles_process(store *s, const store_job *job,
                                  int64_t now_us) {
  api_request req;
  memset(&req, 0, sizeof req);
  req.db = s;
  req.now_us = now_us;
  snprintf(req.principal.org_id, sizeof req.principal.org_id, "%s",
           job->org_id);
  json_t *bundle = NULL;
  store_status st = crud_load(&req, &bundle_kind, job->target_id, &bundle);
  if (st == STORE_NONE)
    return STORE_ONE; /* deleted while processing: nothing left to do */
  if (st != STORE_ONE)
    return st;
  const char *model_id = json_string_value(json_object_get(bundle, "modelId"));
  json_t *model = NULL;
  st = crud_load(&req, &model_kind, model_id, &model);
  bundle_counts counts = {0, 0, json_object()};
  char reason[256] = "";
  if (st == STORE_NONE)
    snprintf(reason, sizeof reason, "model %s no longer exists", model_id);
  size_t i;
  json_t *ds;
  json_array_foreach(json_object_get(bundle, "datasets"), i, ds) {
    if (st != STORE_ONE || reason[0])
      break;
    const char *ds_id = json_string_value(json_object_get(ds, "datasetId"));
    json_t *live = NULL;
    st = datasets_load(&req, ds_id, &live);
    json_decref(live);
    if (st == STORE_NONE) {
      snprintf(reason, sizeof reason, "dataset %s no longer exists", ds_id);
      break;
    }
    if (st == STORE_ONE) {
      st = bundle_count_dataset(&req, ds_id, &counts);
      if (st == STORE_NONE)
        snprintf(reason, sizeof reason, "dataset %s is empty", ds_id);
    }
  }
  if (reason[0]) {
    json_object_set_new(bundle, "status", json_string("failed"));
    json_object_set_new(bundle, "summary",
                        json_pack("{s:s}", "failureReason", reason));
    st = STORE_ONE;
  } else if (st == STORE_ONE) {
    json_object_set_new(bundle, "status", json_string("ready"));
    json_object_set_new(bundle, "summary", bundle_summary(&counts, model));
  }
  json_decref(counts.labels);
  json_decref(model);
  if (st == STORE_ONE) {
    json_object_set_new(bundle, "updatedTime", api_now_json(&req));
    store_obj_key key = {bundle_kind.kind, job->org_id, job->target_id};
    st = store_obj_update(s, &key, model_id, bundle_status(bundle), bundle);
  }
  if (st == STORE_ONE) {
    char message[512];
    json_t *events = json_array();
    snprintf(message, sizeof message, "data bundle %s of model %s: processing",
             job->target_id, model_id);
    json_array_append_new(events, logs_event(job->due_us, message));
    snprintf(message, sizeof message, "data bundle %s: %s%s%s", job->target_id,
             bundle_status(bundle), reason[0] ? ": " : "", reason);
    json_array_append_new(events, logs_event(now_us, message));
    st = logs_write(s, job->org_id, LOGS_DATA_BUNDLE_TRANSITION, job->due_us,
                    events);
  }
  json_decref(bundle);
  return st;
}
