/* /models: fieldConfig, preprocessConfig, width/height (limits from the
 * schema), status. numberOfDataBundles is counted from the bundles. */
#include "resources/crud.h"
#include "resources/resources.h"

static bool model_present(const api_request *req, json_t *model) {
  const char *id = json_string_value(json_object_get(model, "modelId"));
  int64_t n = store_obj_count_parent(req->db, "model-data-bundle",
                                     req->principal.org_id, id);
  if (n < 0)
    return false;
  json_object_set_new(model, "numberOfDataBundles", json_integer(n));
  return true;
}

static const crud_kind model_kind = {
    .kind = "model",
    .id_field = "modelId",
    .list_field = "models",
    .allowed_field = "numberOfModelsAllowed",
    .present = model_present,
};

static const char *const model_fields[] = {
    "name", "description", "fieldConfig", "preprocessConfig", "width",
    "height", NULL};
static const char *const model_patch_fields[] = {
    "name", "description", "fieldConfig", "preprocessConfig", "width",
    "height", "status", NULL};

LAS_HANDLER(models_list) { return crud_list(req, &model_kind, NULL, NULL); }

LAS_HANDLER(models_create) {
  api_response fail;
  if (!crud_within_limit(req, &model_kind, &fail))
    return fail;
  char id[IDS_MAX_LEN];
  json_t *model = crud_new(req, &model_kind, id);
  json_object_set_new(model, "name", json_null());
  json_object_set_new(model, "description", json_null());
  /* What the service applies when no preprocessing is asked for. */
  json_object_set_new(model, "preprocessConfig",
                      json_pack("{s:b, s:s, s:i}", "autoRotate", 0,
                                "imageQuality", "LOW", "maxPages", 1));
  json_object_set_new(model, "status", json_string("inactive"));
  crud_copy_fields(model, req->body, model_fields);
  store_status st = crud_insert(req, &model_kind, id, NULL, NULL, model);
  if (st != STORE_ONE) {
    json_decref(model);
    return api_store_err(st);
  }
  return crud_reply(req, &model_kind, api_ok(model));
}

LAS_HANDLER(models_get) { return crud_get(req, &model_kind); }

LAS_HANDLER(models_update) {
  return crud_patch(req, &model_kind, model_patch_fields);
}

LAS_HANDLER(models_delete) { return crud_delete(req, &model_kind); }
