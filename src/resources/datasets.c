/* /datasets: numberOfDocuments is counted from the documents that name the
 * dataset, so it is always true. */
#include "resources/datasets.h"

#include "resources/crud.h"
#include "resources/resources.h"

#include <string.h>

static const char *const dataset_fields[] = {
    "name", "description", "containsPersonallyIdentifiableInformation",
    "retentionInDays", NULL};
static const char *const dataset_patch_fields[] = {"name", "description",
                                                   NULL};

enum { DATASET_DEFAULT_RETENTION_DAYS = 1825 };

/* numberOfDocuments is derived, not stored. */
bool datasets_present(const api_request *req, json_t *ds) {
  const char *id = json_string_value(json_object_get(ds, "datasetId"));
  int64_t n =
      store_obj_count_parent(req->db, "document", req->principal.org_id, id);
  if (n < 0)
    return false;
  json_object_set_new(ds, "numberOfDocuments", json_integer(n));
  return true;
}

static const crud_kind dataset_kind = {
    .kind = "dataset",
    .id_field = "datasetId",
    .list_field = "datasets",
    .allowed_field = "numberOfDatasetsAllowed",
    .present = datasets_present,
};

store_status datasets_load(const api_request *req, const char *id,
                           json_t **out) {
  return crud_load(req, &dataset_kind, id, out);
}

store_status datasets_bump_version(const api_request *req, const char *ds_id) {
  if (!ds_id)
    return STORE_ONE;
  json_t *ds = NULL;
  store_status st = crud_load(req, &dataset_kind, ds_id, &ds);
  if (st == STORE_NONE)
    return STORE_ONE; /* a document may outlive its dataset's deletion */
  if (st != STORE_ONE)
    return st;
  json_int_t v = json_integer_value(json_object_get(ds, "version"));
  json_object_set_new(ds, "version", json_integer(v + 1));
  st = crud_save(req, &dataset_kind, ds_id, NULL, NULL, ds);
  json_decref(ds);
  return st;
}

LAS_HANDLER(datasets_list) {
  return crud_list(req, &dataset_kind, NULL, NULL);
}

LAS_HANDLER(datasets_create) {
  api_response fail;
  if (!crud_within_limit(req, &dataset_kind, &fail))
    return fail;
  char id[IDS_MAX_LEN];
  json_t *ds = crud_new(req, &dataset_kind, id);
  json_object_set_new(ds, "name", json_null());
  json_object_set_new(ds, "description", json_null());
  json_object_set_new(ds, "containsPersonallyIdentifiableInformation",
                      json_false());
  json_object_set_new(ds, "retentionInDays",
                      json_integer(DATASET_DEFAULT_RETENTION_DAYS));
  json_object_set_new(ds, "storageLocation", json_string("EU"));
  json_object_set_new(ds, "version", json_integer(0));
  json_object_set_new(ds, "groundTruthSummary", json_object());
  crud_copy_fields(ds, req->body, dataset_fields);
  store_status st = crud_insert(req, &dataset_kind, id, NULL, NULL, ds);
  if (st != STORE_ONE) {
    json_decref(ds);
    return api_store_err(st);
  }
  return crud_reply(req, &dataset_kind, api_ok(ds));
}

LAS_HANDLER(datasets_get) { return crud_get(req, &dataset_kind); }

LAS_HANDLER(datasets_update) {
  return crud_patch(req, &dataset_kind, dataset_patch_fields);
}

/* A dataset with documents is not deleted: the documents would be left
 * pointing at nothing. Delete them first (DELETE /documents?datasetId=…). */
LAS_HANDLER(datasets_delete) {
  const char *id = crud_path_id(req);
  json_t *ds = NULL;
  store_status st = datasets_load(req, id, &ds);
  if (st != STORE_ONE)
    return api_store_err(st);
  if (!datasets_present(req, ds)) {
    json_decref(ds);
    return api_err(ERR_UNAVAILABLE);
  }
  json_int_t n = json_integer_value(json_object_get(ds, "numberOfDocuments"));
  if (n > 0) {
    json_decref(ds);
    return api_errf(ERR_BAD_REQUEST,
                    "datasetId: dataset still holds %lld documents; delete "
                    "them first (DELETE /documents?datasetId=%s)",
                    (long long)n, id);
  }
  store_obj_key key = {dataset_kind.kind, req->principal.org_id, id};
  st = store_obj_delete(req->db, &key);
  if (st != STORE_ONE) {
    json_decref(ds);
    return api_store_err(st);
  }
  return api_ok(ds);
}
