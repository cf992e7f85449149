/* GET/PATCH /organizations/{organizationId}: only the caller's own, also as
 * /organizations/me. The numberOf…Created counters are counted from what
 * exists, so they can never drift. */
#include "resources/organizations.h"

#include "resources/crud.h"
#include "resources/resources.h"

#include "core/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const crud_kind org_kind = {
    .kind = "organization",
    .id_field = "organizationId",
};

/* Allowances: generous defaults, so that tests and demos never meet them
 * unless they lower them (--allowances). A configured value applies to
 * every organization, old and new, so a test can lower it on any database. */
static struct {
  const char *field;
  json_int_t value;
  bool configured;
} org_allowances[] = {
    {"numberOfAppClientsAllowed", 1000, false},
    {"numberOfAssetsAllowed", 10000, false},
    {"numberOfDatasetsAllowed", 10000, false},
    {"numberOfModelsAllowed", 1000, false},
    {"numberOfSecretsAllowed", 1000, false},
    {"numberOfTransitionsAllowed", 1000, false},
    {"numberOfUsersAllowed", 1000, false},
    {"numberOfWorkflowsAllowed", 1000, false},
    {"monthlyNumberOfDataBundlesAllowed", 10000, false},
    {"monthlyNumberOfDocumentsAllowed", 10000000, false},
    {"monthlyNumberOfPredictionsAllowed", 10000000, false},
    {"monthlyNumberOfTransitionExecutionsAllowed", 10000000, false},
    {"monthlyNumberOfWorkflowExecutionsAllowed", 10000000, false},
};
#define ORG_NALLOWANCES (sizeof org_allowances / sizeof org_allowances[0])

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

/* Counted as they are made, per calendar month: usage kind, fields. */
static const struct {
  const char *usage;
  const char *created;
  const char *allowed;
} org_monthly[] = {
    {"dataBundles", "monthlyNumberOfDataBundlesCreated",
     "monthlyNumberOfDataBundlesAllowed"},
    {"documents", "monthlyNumberOfDocumentsCreated",
     "monthlyNumberOfDocumentsAllowed"},
    {"predictions", "monthlyNumberOfPredictionsCreated",
     "monthlyNumberOfPredictionsAllowed"},
    {"transitionExecutions", "monthlyNumberOfTransitionExecutionsCreated",
     "monthlyNumberOfTransitionExecutionsAllowed"},
    {"workflowExecutions", "monthlyNumberOfWorkflowExecutionsCreated",
     "monthlyNumberOfWorkflowExecutionsAllowed"},
};

bool organizations_configure(const char *spec, char *err, size_t errlen) {
  char *copy = strdup(spec ? spec : "");
  if (!copy) {
    snprintf(err, errlen, "--allowances: out of memory");
    return false;
  }
  bool ok = true;
  char *save = NULL;
  for (char *item = strtok_r(copy, ",", &save); item;
       item = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(item, '=');
    char *end = NULL;
    errno = 0;
    long long v = eq ? strtoll(eq + 1, &end, 10) : -1;
    /* ERANGE: a number beyond 64 bits is refused, not capped. */
    if (!eq || !end || *end || eq[1] < '0' || eq[1] > '9' || v < 0 ||
        errno == ERANGE) {
      snprintf(err, errlen, "--allowances: '%s' is not FIELD=NUMBER", item);
      ok = false;
      break;
    }
    *eq = '\0';
    size_t i = 0;
    while (i < ORG_NALLOWANCES && strcmp(org_allowances[i].field, item) != 0)
      i++;
    if (i == ORG_NALLOWANCES) {
      snprintf(err, errlen, "--allowances: unknown field '%s'", item);
      ok = false;
      break;
    }
    org_allowances[i].value = (json_int_t)v;
    org_allowances[i].configured = true;
  }
  free(copy);
  return ok;
}

/* Allowances are a setting of the server, not stored per organization:
 * checking one costs no read, and a changed setting applies everywhere. */
static void org_put_allowances(json_t *org) {
  for (size_t i = 0; i < ORG_NALLOWANCES; i++)
    json_object_set_new(org, org_allowances[i].field,
                        json_integer(org_allowances[i].value));
}

store_status organizations_create(api_request *req, const char *name) {
  char id[IDS_MAX_LEN];
  json_t *org = crud_new(req, &org_kind, id);
  /* Organizations carry no created fields in the API. */
  json_object_del(org, "createdTime");
  json_object_del(org, "createdBy");
  json_object_set_new(org, "name", name ? json_string(name) : json_null());
  json_object_set_new(org, "description", json_null());
  memcpy(req->principal.org_id, id, sizeof req->principal.org_id);
  store_obj_key key = {org_kind.kind, id, id};
  store_status st = store_obj_insert(req->db, &key, NULL, NULL, org);
  json_decref(org);
  return st;
}

int64_t organizations_allowance(const char *field) {
  for (size_t i = 0; i < ORG_NALLOWANCES; i++)
    if (strcmp(org_allowances[i].field, field) == 0)
      return (int64_t)org_allowances[i].value;
  return INT64_MAX;
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
  char month[16];
  clock_format_month(req->now_us, month, sizeof month);
  json_t *summary = json_object();
  for (size_t i = 0; i < sizeof org_monthly / sizeof org_monthly[0]; i++) {
    int64_t n = store_usage_get(req->db, req->principal.org_id, month,
                                org_monthly[i].usage);
    if (n < 0) {
      json_decref(summary);
      json_decref(org);
      return api_err(ERR_UNAVAILABLE);
    }
    json_object_set_new(org, org_monthly[i].created, json_integer(n));
    json_object_set_new(summary, org_monthly[i].usage, json_integer(n));
  }
  json_object_set_new(org, "monthlyUsageSummary",
                      json_pack("{s:o}", month, summary));
  org_put_allowances(org);
  return api_ok(org);
}

api_response organizations_consume(api_request *req, const char *usage) {
  api_response ok = {.status = 0};
  size_t i = 0;
  while (i < sizeof org_monthly / sizeof org_monthly[0] &&
         strcmp(org_monthly[i].usage, usage) != 0)
    i++;
  if (i == sizeof org_monthly / sizeof org_monthly[0])
    return api_err(ERR_INTERNAL);
  char month[16];
  clock_format_month(req->now_us, month, sizeof month);
  /* Counted first and checked after: over the allowance the request fails,
   * and its transaction, the count included, is rolled back. */
  int64_t used = 0;
  store_status st =
      store_usage_add(req->db, req->principal.org_id, month, usage, &used);
  if (st != STORE_ONE)
    return api_store_err(st == STORE_NONE ? STORE_ERROR : st);
  if (used > organizations_allowance(org_monthly[i].allowed))
    return api_err(ERR_LIMIT_EXCEEDED);
  return ok;
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
