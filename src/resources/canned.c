/* Canned prediction results (see canned.h). */
#include "resources/canned.h"

#include "core/log.h"
#include "resources/resources.h"
#include "validation/schemas.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per request and per model, so a queue stays small enough to list. */
enum { CANNED_MAX_PER_CALL = 1000, CANNED_MAX_QUEUE = 10000 };
enum { CANNED_MAX_MESSAGE = 1000 };

/* The failures a canned item may answer: what the reference documents for
 * POST /predictions (400, 403, 404, 415, 500) and what the service answers
 * besides (429 past an allowance or a rate, 503 when overloaded). */
static const struct {
  unsigned status;
  err_code code;
} canned_failures[] = {
    {400, ERR_BAD_REQUEST},    {403, ERR_FORBIDDEN},
    {404, ERR_NOT_FOUND},      {415, ERR_UNSUPPORTED_MEDIA_TYPE},
    {429, ERR_LIMIT_EXCEEDED}, {500, ERR_INTERNAL},
    {503, ERR_UNAVAILABLE},
};
#define CANNED_NFAILURES (sizeof canned_failures / sizeof canned_failures[0])
#define CANNED_STATUS_LIST "400, 403, 404, 415, 429, 500, 503"

static bool canned_failure_code(json_int_t status, err_code *code) {
  for (size_t i = 0; i < CANNED_NFAILURES; i++)
    if (canned_failures[i].status == status) {
      *code = canned_failures[i].code;
      return true;
    }
  return false;
}

/* Checks one queued item; false with a message naming it in err. */
static bool canned_item_ok(const json_t *item, const char *model_id,
                           const char *name, char *err, size_t errlen) {
  if (!json_is_object(item)) {
    snprintf(err, errlen, "%s: must be object", name);
    return false;
  }
  const json_t *preds = json_object_get(item, "predictions");
  const json_t *status = json_object_get(item, "status");
  if (!preds == !status) {
    snprintf(err, errlen,
             "%s: must have either predictions (a result) or status (a "
             "failure)",
             name);
    return false;
  }
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)item, key, v) {
    bool known =
        preds ? strcmp(key, "predictions") == 0 ||
                    strcmp(key, "inferenceTime") == 0
              : strcmp(key, "status") == 0 || strcmp(key, "message") == 0;
    if (!known) {
      snprintf(err, errlen, "%s.%.100s: is not a field of a canned %s (%s)",
               name, key, preds ? "result" : "failure",
               preds ? "predictions, inferenceTime" : "status, message");
      return false;
    }
  }
  if (status) {
    err_code code;
    if (!json_is_integer(status) ||
        !canned_failure_code(json_integer_value(status), &code)) {
      snprintf(err, errlen, "%s.status: must be one of " CANNED_STATUS_LIST,
               name);
      return false;
    }
    const json_t *msg = json_object_get(item, "message");
    if (msg && (!json_is_string(msg) || json_string_length(msg) < 1 ||
                json_string_length(msg) > CANNED_MAX_MESSAGE)) {
      snprintf(err, errlen, "%s.message: must be a string of 1 to %d bytes",
               name, CANNED_MAX_MESSAGE);
      return false;
    }
    return true;
  }
  /* A result is answered as a Prediction: check it as one now, so that a
   * queued result can never make an answer break the response schema. */
  const json_t *time = json_object_get(item, "inferenceTime");
  json_t *answer =
      json_pack("{s:s, s:s, s:s, s:O, s:i, s:o}", "predictionId",
                "las:prediction:00000000000000000000000000000000", "documentId",
                "las:document:00000000000000000000000000000000", "modelId",
                model_id, "predictions", preds, "timestamp", 1, "inferenceTime",
                time ? json_incref((json_t *)time) : json_integer(0));
  const js_schema *schema = schemas_get("Prediction");
  char why[768];
  bool ok =
      answer && schema && js_validate(schema, answer, name, why, sizeof why);
  if (!answer || !schema)
    snprintf(err, errlen, "%s: cannot be checked", name);
  else if (!ok) /* fields are named without the root */
    snprintf(err, errlen, "%s.%s", name, why);
  json_decref(answer);
  return ok;
}

/* The modelId of the path must name a model: 404 otherwise. */
static bool canned_model_ok(api_request *req, store *s, api_response *fail) {
  const char *model_id = req->path_params[0];
  store_status st = store_canned_model_exists(s, model_id);
  if (st == STORE_ONE)
    return true;
  *fail = st == STORE_NONE
              ? api_errf(ERR_NOT_FOUND, "modelId: model %s does not exist",
                         model_id)
              : api_store_err(st);
  return false;
}

typedef struct canned_tx {
  api_request *req;
  const json_t *results;
  int64_t n; /* queue length after, or results cleared */
  api_response fail;
} canned_tx;

static store_status canned_push_tx(store *s, void *arg) {
  canned_tx *t = arg;
  const char *model_id = t->req->path_params[0];
  api_response_free(&t->fail);
  if (!canned_model_ok(t->req, s, &t->fail))
    return t->fail.status == err_status(ERR_UNAVAILABLE) ? STORE_BUSY
                                                         : STORE_NONE;
  int64_t have = store_canned_count(s, model_id);
  if (have < 0)
    return STORE_BUSY;
  size_t add = json_array_size(t->results);
  if ((size_t)have + add > CANNED_MAX_QUEUE) {
    t->fail =
        api_errf(ERR_BAD_REQUEST,
                 "results: the queue of model %s would hold %lld "
                 "results, more than %d",
                 model_id, (long long)have + (long long)add, CANNED_MAX_QUEUE);
    return STORE_NONE;
  }
  size_t i;
  json_t *item;
  json_array_foreach(t->results, i, item) {
    char *text = json_dumps(item, JSON_COMPACT | JSON_PRESERVE_ORDER);
    store_status st = text ? store_canned_push(s, model_id, text) : STORE_ERROR;
    free(text);
    if (st != STORE_ONE)
      return st == STORE_NONE ? STORE_ERROR : st;
  }
  t->n = have + (int64_t)add;
  return STORE_ONE;
}

/* An answer for a failed transaction: the handler's own, or the store's. */
static api_response canned_tx_failed(canned_tx *t, store_status st) {
  if (t->fail.status && st == STORE_NONE)
    return t->fail;
  api_response_free(&t->fail);
  return api_store_err(st == STORE_NONE ? STORE_ERROR : st);
}

LAS_HANDLER(emulator_canned_post) {
  api_response fail;
  const json_t *results = api_body_only_field(req, "results", &fail);
  if (!results)
    return fail;
  if (!json_is_array(results) || json_array_size(results) < 1 ||
      json_array_size(results) > CANNED_MAX_PER_CALL)
    return api_errf(ERR_BAD_REQUEST,
                    "results: must be an array of 1 to %d items",
                    CANNED_MAX_PER_CALL);
  size_t i;
  json_t *item;
  json_array_foreach(results, i, item) {
    char name[48], err[1024];
    snprintf(name, sizeof name, "results[%zu]", i);
    if (!canned_item_ok(item, req->path_params[0], name, err, sizeof err))
      return api_errf(ERR_BAD_REQUEST, "%s", err);
  }
  canned_tx t = {req, results, 0, {0}};
  store_status st = store_write_tx(canned_push_tx, &t);
  if (st != STORE_ONE)
    return canned_tx_failed(&t, st);
  return api_ok(json_pack("{s:s, s:I, s:I}", "modelId", req->path_params[0],
                          "queued", (json_int_t)json_array_size(results),
                          "length", (json_int_t)t.n));
}

LAS_HANDLER(emulator_canned_get) {
  store_status st = store_read_begin(req->db);
  if (st != STORE_ONE)
    return api_store_err(st == STORE_NONE ? STORE_ERROR : st);
  api_response fail;
  json_t *items = NULL;
  if (!canned_model_ok(req, req->db, &fail)) {
    store_read_end(req->db);
    return fail;
  }
  st = store_canned_list(req->db, req->path_params[0], &items);
  store_read_end(req->db);
  if (st != STORE_ONE)
    return api_store_err(st == STORE_NONE ? STORE_ERROR : st);
  return api_ok(json_pack("{s:s, s:o}", "modelId", req->path_params[0],
                          "results", items));
}

static store_status canned_clear_tx(store *s, void *arg) {
  canned_tx *t = arg;
  api_response_free(&t->fail);
  if (!canned_model_ok(t->req, s, &t->fail))
    return t->fail.status == err_status(ERR_UNAVAILABLE) ? STORE_BUSY
                                                         : STORE_NONE;
  return store_canned_clear(s, t->req->path_params[0], &t->n);
}

LAS_HANDLER(emulator_canned_delete) {
  canned_tx t = {req, NULL, 0, {0}};
  store_status st = store_write_tx(canned_clear_tx, &t);
  if (st != STORE_ONE)
    return canned_tx_failed(&t, st);
  return api_ok(json_pack("{s:s, s:I}", "modelId", req->path_params[0],
                          "cleared", (json_int_t)t.n));
}

canned_outcome canned_next(api_request *req, const char *model_id,
                           json_t **predictions, double *inference_s,
                           api_response *answer) {
  char *text = NULL;
  store_status st = store_canned_take(req->db, model_id, &text);
  if (st == STORE_NONE)
    return CANNED_NONE;
  json_t *item = st == STORE_ONE ? json_loads(text, 0, NULL) : NULL;
  free(text);
  if (!item) {
    *answer = api_store_err(st == STORE_ONE ? STORE_ERROR : st);
    return CANNED_ERROR;
  }
  const json_t *status = json_object_get(item, "status");
  canned_outcome out = CANNED_RESULT;
  if (status) {
    err_code code = ERR_INTERNAL;
    canned_failure_code(json_integer_value(status), &code);
    const char *msg = json_string_value(json_object_get(item, "message"));
    *answer = msg ? api_errf(code, "%s", msg) : api_err(code);
    answer->commit_error = true;
    out = CANNED_FAILURE;
    log_msg(LOG_DEBUG, "predictions: canned failure %u for %s", answer->status,
            model_id);
  } else {
    *predictions = json_incref(json_object_get(item, "predictions"));
    const json_t *time = json_object_get(item, "inferenceTime");
    *inference_s = time ? json_number_value(time) : -1.0;
  }
  json_decref(item);
  return out;
}

bool canned_on_reset(store *s, bool restored, char *err, size_t errlen) {
  if (restored)
    return true;
  if (store_canned_clear(s, NULL, NULL) == STORE_ONE)
    return true;
  snprintf(err, errlen, "canned predictions: cannot empty the queues");
  return false;
}
