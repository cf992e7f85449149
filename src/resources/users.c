/* /users */
#include "resources/users.h"

#include "resources/crud.h"
#include "resources/resources.h"

static const crud_kind user_kind = {
    .kind = "user",
    .id_field = "userId",
    .list_field = "users",
    .allowed_field = "numberOfUsersAllowed",
};

static const char *const user_fields[] = {"email", "name", "avatar", NULL};
static const char *const user_patch_fields[] = {"name", "avatar", NULL};

store_status users_make(api_request *req, const json_t *attrs, json_t **out) {
  char id[IDS_MAX_LEN];
  json_t *obj = crud_new(req, &user_kind, id);
  crud_copy_fields(obj, attrs, user_fields);
  crud_default_null(obj, user_fields);
  store_status st = crud_insert(req, &user_kind, id, NULL, NULL, obj);
  if (st != STORE_ONE) {
    json_decref(obj);
    return st;
  }
  *out = obj;
  return STORE_ONE;
}

LAS_HANDLER(users_list) { return crud_list(req, &user_kind, NULL, NULL); }

LAS_HANDLER(users_create) {
  api_response fail;
  if (!crud_within_limit(req, &user_kind, &fail))
    return fail;
  json_t *obj = NULL;
  store_status st = users_make(req, req->body, &obj);
  if (st != STORE_ONE)
    return api_store_err(st);
  return api_ok(obj);
}

LAS_HANDLER(users_get) { return crud_get(req, &user_kind); }

LAS_HANDLER(users_update) {
  return crud_patch(req, &user_kind, user_patch_fields);
}

LAS_HANDLER(users_delete) { return crud_delete(req, &user_kind); }
