/* /secrets: the data is write-only. It is kept as a blob and never put into
 * a response: the secret kind has no blob field, so nothing attaches it. */
#include "resources/crud.h"
#include "resources/resources.h"

#include <stdlib.h>
#include <string.h>

static const crud_kind secret_kind = {
    .kind = "secret",
    .id_field = "secretId",
    .list_field = "secrets",
    .allowed_field = "numberOfSecretsAllowed",
};

static const char *const secret_fields[] = {"name", "description", NULL};

static store_status secret_store_data(api_request *req, const char *id) {
  json_t *data = json_object_get(req->body, "data");
  if (!data)
    return STORE_ONE;
  char *text = json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (!text)
    return STORE_ERROR;
  store_status st = store_blob_put(req->db, id, text, strlen(text));
  free(text);
  return st;
}

LAS_HANDLER(secrets_list) { return crud_list(req, &secret_kind, NULL, NULL); }

LAS_HANDLER(secrets_create) {
  api_response resp = crud_create(req, &secret_kind, secret_fields);
  if (resp.status != 200)
    return resp;
  store_status st = secret_store_data(
      req, json_string_value(json_object_get(resp.body, "secretId")));
  if (st != STORE_ONE) {
    json_decref(resp.body);
    return api_store_err(st == STORE_NONE ? STORE_ERROR : st);
  }
  return resp;
}

LAS_HANDLER(secrets_update) {
  api_response resp = crud_patch(req, &secret_kind, secret_fields);
  if (resp.status != 200)
    return resp;
  store_status st = secret_store_data(req, crud_path_id(req));
  if (st != STORE_ONE) {
    json_decref(resp.body);
    return api_store_err(st == STORE_NONE ? STORE_ERROR : st);
  }
  return resp;
}

LAS_HANDLER(secrets_delete) { return crud_delete(req, &secret_kind); }
