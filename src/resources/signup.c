/* POST /signup (no auth): a new organization with its user and a public app
 * client. The user then gets tokens with grant_type=password. */
#include "resources/app_clients.h"
#include "resources/organizations.h"
#include "resources/resources.h"
#include "resources/users.h"

#include <string.h>

LAS_HANDLER(signup_create) {
  const char *email = json_string_value(json_object_get(req->body, "email"));
  const char *password =
      json_string_value(json_object_get(req->body, "password"));
  const char *name = json_string_value(json_object_get(req->body, "name"));

  store_status st = organizations_create(req, name ? name : email);
  json_t *user = NULL, *client = NULL;
  if (st == STORE_ONE) {
    json_t *attrs = json_pack("{s:s}", "email", email);
    if (name)
      json_object_set_new(attrs, "name", json_string(name));
    st = users_make(req, attrs, &user);
    json_decref(attrs);
  }
  if (st == STORE_ONE) {
    const char *user_id = json_string_value(json_object_get(user, "userId"));
    st = store_password_put(req->db, email, user_id, req->principal.org_id,
                            password);
    if (st == STORE_NONE) {
      json_decref(user);
      return api_errf(ERR_CONFLICT, "email: %s is already signed up", email);
    }
  }
  if (st == STORE_ONE) {
    json_t *attrs = json_pack("{s:s}", "name", "signup");
    st = app_clients_make(req, attrs, NULL, NULL, NULL, false, &client);
    json_decref(attrs);
  }
  json_decref(user);
  if (st != STORE_ONE)
    return api_store_err(st == STORE_NONE ? STORE_ERROR : st);
  json_t *out = json_pack("{s:O, s:s}", "clientId",
                          json_object_get(client, "clientId"), "username",
                          email);
  json_decref(client);
  return api_ok(out);
}
