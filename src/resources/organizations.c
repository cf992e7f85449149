/* GET/PATCH /organizations/{organizationId}: only the caller's own, also as
 * /organizations/me. The numberOf…Created counters are counted from what
 * exists, so they can never drift. */
#include "resources/organizations.h"

#include "resources/crud.h"
#include "resources/resources.h"

#include <string.h>

static const crud_kind org_kind = {
    .kind = "organization",
    .id_field = "organizationId",
};

/* Allowances of a new organization: generous, so that tests and demos never
 * meet them unless they lower them. */
static const struct {
  const char *field;
  json_int_t value;
} org_allowances[] = {
    {"numberOfAppClientsAllowed", 1000},
    {"numberOfAssetsAllowed", 10000},
    {"numberOfDatasetsAllowed", 10000},
    {"numberOfModelsAllowed", 1000},
    {"numberOfSecretsAllowed", 1000},
    {"numberOfTransitionsAllowed", 1000},
    {"numberOfUsersAllowed", 1000},
    {"numberOfWorkflowsAllowed", 1000},
    {"monthlyNumberOfDataBundlesAllowed", 10000},
    {"monthlyNumberOfDocumentsAllowed", 10000000},
    {"monthlyNumberOfPredictionsAllowed", 10000000},
    {"monthlyNumberOfTransitionExecutionsAllowed", 10000000},
    {"monthlyNumberOfWorkflowExecutionsAllowed", 10000000},
};

/* Counted from the objects that exist: field, object kind. */
static const struct {
  const char *field;
  const char *kind;
} org_counters[] = {
    {"numberOfAppClientsCreated", "app-client"},
    {"numberOfAssetsCreated", "asset"},
    {"numberOfDatasetsCreated", "dataset"},
    {"numberOfModelsCreated", "model"},
    {"numberOfSecretsCreated", "secret"},
    {"numberOfTransitionsCreated", "transition"},
    {"numberOfUsersCreated", "user"},
    {"numberOfWorkflowsCreated", "workflow"},
};

/* Monthly usage counters arrive with the background engine (issue 3); until
 * then nothing of those kinds is created, except documents. */
static const char *const org_monthly[] = {
    "monthlyNumberOfDataBundlesCreated",
    "monthlyNumberOfDocumentsCreated",
    "monthlyNumberOfPredictionsCreated",
    "monthlyNumberOfTransitionExecutionsCreated",
    "monthlyNumberOfWorkflowExecutionsCreated",
};

store_status organizations_create(api_request *req, const char *name) {
  char id[IDS_MAX_LEN];
  json_t *org = crud_new(req, &org_kind, id);
  /* Organizations carry no created fields in the API. */
  json_object_del(org, "createdTime");
  json_object_del(org, "createdBy");
  json_object_set_new(org, "name", name ? json_string(name) : json_null());
  json_object_set_new(org, "description", json_null());
  for (size_t i = 0; i < sizeof org_allowances / sizeof org_allowances[0]; i++)
    json_object_set_new(org, org_allowances[i].field,
                        json_integer(org_allowances[i].value));
  memcpy(req->principal.org_id, id, sizeof req->principal.org_id);
  store_obj_key key = {org_kind.kind, id, id};
  store_status st = store_obj_insert(req->db, &key, NULL, NULL, org);
  json_decref(org);
  return st;
}

int64_t organizations_allowance(const api_request *req, const char *field) {
  json_t *org = NULL;
  store_status st =
      crud_load(req, &org_kind, req->principal.org_id, &org);
  if (st != STORE_ONE)
    return -1;
  json_t *v = json_object_get(org, field);
  int64_t n = json_is_integer(v) ? (int64_t)json_integer_value(v) : INT64_MAX;
  json_decref(org);
  return n;
}

/* The organization named in the path, if it is the caller's. */
static store_status org_load_own(api_request *req, json_t **out) {
  const char *id = crud_path_id(req);
  if (strcmp(id, "me") != 0 && strcmp(id, req->principal.org_id) != 0)
    return STORE_NONE;
  return crud_load(req, &org_kind, req->principal.org_id, out);
}

static api_response org_present(api_request *req, json_t *org) {
  for (size_t i = 0; i < sizeof org_counters / sizeof org_counters[0]; i++) {
    int64_t n = store_obj_count(req->db, org_counters[i].kind,
                                req->principal.org_id);
    if (n < 0) {
      json_decref(org);
      return api_err(ERR_UNAVAILABLE);
    }
    json_object_set_new(org, org_counters[i].field, json_integer(n));
  }
  for (size_t i = 0; i < sizeof org_monthly / sizeof org_monthly[0]; i++)
    if (!json_object_get(org, org_monthly[i]))
      json_object_set_new(org, org_monthly[i], json_integer(0));
  if (!json_object_get(org, "monthlyUsageSummary"))
    json_object_set_new(org, "monthlyUsageSummary", json_object());
  return api_ok(org);
}

LAS_HANDLER(organizations_get) {
  json_t *org = NULL;
  store_status st = org_load_own(req, &org);
  if (st != STORE_ONE)
    return api_store_err(st);
  return org_present(req, org);
}

LAS_HANDLER(organizations_update) {
  static const char *const fields[] = {"name", "description", NULL};
  json_t *org = NULL;
  store_status st = org_load_own(req, &org);
  if (st != STORE_ONE)
    return api_store_err(st);
  crud_copy_fields(org, req->body, fields);
  crud_touch(org, req);
  store_obj_key key = {org_kind.kind, req->principal.org_id,
                       req->principal.org_id};
  st = store_obj_update(req->db, &key, NULL, NULL, org);
  if (st != STORE_ONE) {
    json_decref(org);
    return api_store_err(st);
  }
  return org_present(req, org);
}
