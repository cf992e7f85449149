/* /appClients: a created client's credentials work at once; deleting it
 * revokes its tokens (they cascade with the client row); the secret is shown
 * only in the creation response and stored only as a salted hash. */
#include "resources/app_clients.h"

#include "resources/crud.h"
#include "resources/resources.h"

#include <string.h>

static const crud_kind app_client_kind = {
    .kind = "app-client",
    .id_field = "appClientId",
    .list_field = "appClients",
    .allowed_field = "numberOfAppClientsAllowed",
};

static const char *const app_client_fields[] = {
    "name", "description", "callbackUrls", "logoutUrls", "loginUrls",
    "defaultLoginUrl", NULL};
static const char *const app_client_patch_fields[] = {
    "name", "description", "loginUrls", "defaultLoginUrl", NULL};
static const char *const app_client_lists[] = {"callbackUrls", "logoutUrls",
                                               "loginUrls", NULL};

store_status app_clients_make(api_request *req, const json_t *attrs,
                              const char *client_id, const char *secret,
                              const char *api_key, bool with_secret,
                              json_t **out) {
  char id[IDS_MAX_LEN];
  char gen_client[33], gen_secret[65], gen_key[41];
  json_t *obj = crud_new(req, &app_client_kind, id);
  crud_copy_fields(obj, attrs, app_client_fields);
  crud_default_null(obj, app_client_fields);
  for (const char *const *f = app_client_lists; *f; f++)
    if (json_is_null(json_object_get(obj, *f)))
      json_object_set_new(obj, *f, json_array());
  if (!client_id) {
    ids_random_hex(13, gen_client);
    client_id = gen_client;
  }
  if (with_secret && !secret) {
    ids_random_hex(32, gen_secret);
    secret = gen_secret;
  }
  if (!api_key) {
    ids_random_hex(20, gen_key);
    api_key = gen_key;
  }
  json_object_set_new(obj, "clientId", json_string(client_id));
  json_object_set_new(obj, "apiKey", json_string(api_key));
  json_object_set_new(obj, "hasSecret", json_boolean(with_secret));
  store_status st = crud_insert(req, &app_client_kind, id, NULL, NULL, obj);
  if (st == STORE_ONE)
    st = store_client_put(req->db, client_id, id, req->principal.org_id,
                          with_secret ? secret : NULL, api_key);
  if (st != STORE_ONE) {
    json_decref(obj);
    return st;
  }
  if (with_secret)
    json_object_set_new(obj, "clientSecret", json_string(secret));
  *out = obj;
  return STORE_ONE;
}

LAS_HANDLER(app_clients_list) {
  return crud_list(req, &app_client_kind, NULL, NULL);
}

api_response app_clients_create_with(api_request *req, const char *client_id,
                                     const char *secret, const char *api_key) {
  api_response fail;
  if (!crud_within_limit(req, &app_client_kind, &fail))
    return fail;
  json_t *gen = json_object_get(req->body, "generateSecret");
  bool with_secret = !json_is_false(gen);
  if (secret && !with_secret)
    return api_errf(ERR_BAD_REQUEST,
                    "generateSecret: must not be false for a client with a "
                    "secret");
  json_t *obj = NULL;
  store_status st = app_clients_make(req, req->body, client_id, secret, api_key,
                                     with_secret, &obj);
  if (st != STORE_ONE)
    return api_store_err(st);
  return api_ok(obj);
}

LAS_HANDLER(app_clients_create) {
  return app_clients_create_with(req, NULL, NULL, NULL);
}

LAS_HANDLER(app_clients_update) {
  return crud_patch(req, &app_client_kind, app_client_patch_fields);
}

LAS_HANDLER(app_clients_delete) {
  return crud_delete(req, &app_client_kind);
}
