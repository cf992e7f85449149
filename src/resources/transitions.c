/* /transitions: manual and docker transitions. A docker transition's
 * parameters name its image (imageUrl), the secret with the registry
 * credentials (secretId), its environment, the secrets whose data become
 * environment variables (environmentSecrets), cpu and memory; a manual
 * one's name its assets (the UI's jsRemoteComponent and others). Every
 * secret and asset named must exist in the caller's organization, and
 * inputJsonSchema/outputJsonSchema must compile as JSON Schemas. The type
 * is the indexed group, so the transitionType filter uses an index. */
#include "resources/transitions.h"
#include "resources/transition_internal.h"

#include "resources/crud.h"
#include "resources/resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const crud_kind transition_kind = {
    .kind = TRANSITION_KIND,
    .id_field = "transitionId",
    .list_field = "transitions",
    .allowed_field = "numberOfTransitionsAllowed",
};

static const char *const docker_params[] = {
    "imageUrl", "secretId", "environment", "environmentSecrets",
    "cpu",      "memory",   NULL};

store_status transition_load(store *s, const char *org_id, const char *id,
                             json_t **out) {
  store_obj_key key = {TRANSITION_KIND, org_id, id};
  return store_obj_get(s, &key, out);
}

store_status transition_exists(store *s, const char *org_id,
                               const char *transition_id) {
  if (!ids_valid(TRANSITION_KIND, transition_id))
    return STORE_NONE;
  store_obj_key key = {TRANSITION_KIND, org_id, transition_id};
  char *text = NULL;
  size_t len = 0;
  store_status st = store_obj_get_text(s, &key, &text, &len);
  free(text);
  return st;
}

js_schema *transition_schema_compile(const json_t *schema, char *err,
                                     size_t errlen) {
  const char *uri = json_string_value(json_object_get(schema, "$schema"));
  js_draft draft = uri && strstr(uri, "draft-04") ? JS_DRAFT4 : JS_DRAFT7;
  return js_compile((json_t *)schema, draft, NULL, NULL, err, errlen);
}

/* ---- checks of a body ---- */

/* The object `kind` named `id` must exist in the caller's organization. */
static bool transition_ref_ok(const api_request *req, const char *kind,
                              const char *id, const char *where,
                              api_response *fail) {
  store_obj_key key = {kind, req->principal.org_id, id};
  char *text = NULL;
  size_t len = 0;
  store_status st = store_obj_get_text(req->db, &key, &text, &len);
  free(text);
  if (st == STORE_ONE)
    return true;
  *fail = st == STORE_NONE
              ? api_errf(ERR_BAD_REQUEST,
                         "%s: %s %s does not exist in this organization", where,
                         kind, id)
              : api_store_err(st);
  return false;
}

static bool transition_secrets_ok(const api_request *req, const json_t *list,
                                  const char *where, api_response *fail) {
  size_t i;
  json_t *v;
  json_array_foreach(list, i, v) {
    char at[96];
    snprintf(at, sizeof at, "%s[%zu]", where, i);
    if (!transition_ref_ok(req, "secret", json_string_value(v), at, fail))
      return false;
  }
  return true;
}

static bool transition_assets_ok(const api_request *req, const json_t *assets,
                                 const char *where, api_response *fail) {
  const char *name;
  json_t *v;
  json_object_foreach((json_t *)assets, name, v) {
    char at[256];
    snprintf(at, sizeof at, "%s.%s", where, name);
    if (!transition_ref_ok(req, "asset", json_string_value(v), at, fail))
      return false;
  }
  return true;
}

/* inputJsonSchema / outputJsonSchema, when present, must compile. */
static bool transition_schemas_ok(const json_t *body, api_response *fail) {
  static const char *const fields[] = {"inputJsonSchema", "outputJsonSchema",
                                       NULL};
  for (const char *const *f = fields; *f; f++) {
    json_t *schema = json_object_get(body, *f);
    if (!schema)
      continue;
    char err[512];
    js_schema *compiled = transition_schema_compile(schema, err, sizeof err);
    if (!compiled) {
      *fail = api_errf(ERR_BAD_REQUEST, "%s: is not a valid JSON Schema: %s",
                       *f, err);
      return false;
    }
    js_free(compiled);
  }
  return true;
}

/* The schema accepts either shape of parameters for either type; the type
 * decides which one applies. */
static bool transition_params_ok(const api_request *req, const char *type,
                                 const json_t *params, api_response *fail) {
  bool docker = strcmp(type, "docker") == 0;
  if (docker) {
    const char *image = json_string_value(json_object_get(params, "imageUrl"));
    if (!image) {
      *fail = api_errf(ERR_BAD_REQUEST,
                       "parameters.imageUrl: is required for docker "
                       "transitions");
      return false;
    }
    if (!*image) {
      *fail =
          api_errf(ERR_BAD_REQUEST, "parameters.imageUrl: must not be empty");
      return false;
    }
    if (json_object_get(params, "assets")) {
      *fail = api_errf(ERR_BAD_REQUEST,
                       "parameters.assets: is not allowed for docker "
                       "transitions");
      return false;
    }
    const char *secret = json_string_value(json_object_get(params, "secretId"));
    return (!secret || transition_ref_ok(req, "secret", secret,
                                         "parameters.secretId", fail)) &&
           transition_secrets_ok(req,
                                 json_object_get(params, "environmentSecrets"),
                                 "parameters.environmentSecrets", fail);
  }
  for (const char *const *p = docker_params; *p; p++) {
    if (json_object_get(params, *p)) {
      *fail =
          api_errf(ERR_BAD_REQUEST,
                   "parameters.%s: is not allowed for manual transitions", *p);
      return false;
    }
  }
  return transition_assets_ok(req, json_object_get(params, "assets"),
                              "parameters.assets", fail);
}

/* ---- handlers ---- */

LAS_HANDLER(transitions_create) {
  api_response fail;
  const char *type =
      json_string_value(json_object_get(req->body, "transitionType"));
  json_t *params = json_object_get(req->body, "parameters");
  if (!transition_params_ok(req, type, params, &fail) ||
      !transition_schemas_ok(req->body, &fail) ||
      !crud_within_limit(req, &transition_kind, &fail))
    return fail;
  char id[IDS_MAX_LEN];
  json_t *t = crud_new(req, &transition_kind, id);
  static const char *const fields[] = {"name", "description", NULL};
  crud_copy_fields(t, req->body, fields);
  crud_default_null(t, fields);
  json_object_set_new(t, "transitionType", json_string(type));
  json_object_set_new(t, "parameters",
                      params ? json_deep_copy(params) : json_object());
  json_t *timeout = json_object_get(req->body, "timeoutInSeconds");
  json_object_set_new(t, "timeoutInSeconds",
                      timeout ? json_incref(timeout)
                              : json_integer(TRANSITION_DEFAULT_TIMEOUT_S));
  static const char *const schemas[] = {"inputJsonSchema", "outputJsonSchema",
                                        NULL};
  crud_copy_fields(t, req->body, schemas);
  /* The reference's Transition shows a manual transition's assets at the
   * top level too. */
  json_t *assets = json_object_get(params, "assets");
  if (assets)
    json_object_set(t, "assets", assets);
  store_status st = crud_insert(req, &transition_kind, id, NULL, type, t);
  if (st != STORE_ONE) {
    json_decref(t);
    return api_store_err(st);
  }
  return api_ok(t);
}

LAS_HANDLER(transitions_list) {
  static const char *const types_allowed[] = {"docker", "manual", NULL};
  json_t *types = NULL;
  api_response fail;
  if (!api_query_enum_all(req, "transitionType", types_allowed, &types, &fail))
    return fail;
  api_response resp = crud_list(req, &transition_kind, NULL, types);
  if (resp.status == 200 && types) {
    /* The answer names the filter, as the reference's example does. */
    json_t *body = json_loadb(resp.raw, resp.raw_len, 0, NULL);
    api_response_free(&resp);
    if (!body) {
      json_decref(types);
      return api_err(ERR_INTERNAL);
    }
    json_object_set(body, "transitionType", types);
    resp = api_ok(body);
  }
  json_decref(types);
  return resp;
}

LAS_HANDLER(transitions_get) {
  return crud_get(req, &transition_kind);
}

LAS_HANDLER(transitions_update) {
  const char *id = crud_path_id(req);
  json_t *t = NULL;
  store_status st = crud_load(req, &transition_kind, id, &t);
  if (st != STORE_ONE)
    return api_store_err(st);
  const char *type = json_string_value(json_object_get(t, "transitionType"));
  bool docker = strcmp(type, "docker") == 0;
  api_response fail;
  json_t *env = json_object_get(req->body, "environment");
  json_t *secrets = json_object_get(req->body, "environmentSecrets");
  json_t *assets = json_object_get(req->body, "assets");
  const char *wrong = docker ? (assets ? "assets" : NULL)
                             : (env       ? "environment"
                                : secrets ? "environmentSecrets"
                                          : NULL);
  if (wrong) {
    json_decref(t);
    return api_errf(ERR_BAD_REQUEST, "%s: is not allowed for %s transitions",
                    wrong, docker ? "docker" : "manual");
  }
  if (!transition_schemas_ok(req->body, &fail) ||
      !transition_secrets_ok(req, secrets, "environmentSecrets", &fail) ||
      !transition_assets_ok(req, assets, "assets", &fail)) {
    json_decref(t);
    return fail;
  }
  static const char *const fields[] = {"name", "description", "inputJsonSchema",
                                       "outputJsonSchema", NULL};
  crud_copy_fields(t, req->body, fields);
  json_t *params = json_object_get(t, "parameters");
  if (!json_is_object(params)) {
    params = json_object();
    json_object_set_new(t, "parameters", params);
  }
  static const char *const param_fields[] = {
      "environment", "environmentSecrets", "assets", NULL};
  crud_copy_fields(params, req->body, param_fields);
  if (assets)
    json_object_set(t, "assets", assets);
  crud_touch(t, req);
  st = crud_save(req, &transition_kind, id, NULL, type, t);
  if (st != STORE_ONE) {
    json_decref(t);
    return api_store_err(st);
  }
  return api_ok(t);
}

LAS_HANDLER(transitions_delete) {
  const char *id = crud_path_id(req);
  json_t *t = NULL;
  store_status st = crud_load(req, &transition_kind, id, &t);
  /* Running executions end (failed) before they go: a workflow waiting for
   * one hears of it through the end hook instead of waiting forever. */
  if (st == STORE_ONE)
    st = transition_exec_abort_all(req->db, req->principal.org_id, id,
                                   "the transition was deleted", req->now_us);
  if (st == STORE_ONE)
    st = store_texec_delete_all(req->db, req->principal.org_id, id);
  if (st == STORE_ONE) {
    store_obj_key key = {TRANSITION_KIND, req->principal.org_id, id};
    st = store_obj_delete(req->db, &key);
  }
  if (st != STORE_ONE) {
    json_decref(t);
    return api_store_err(st);
  }
  return api_ok(t);
}
