/* Unit tests: IDs, codecs, routing, pagination tokens, scopes, and handlers
 * driven through the dispatcher without sockets. */
#include "auth/auth.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/config.h"
#include "core/embedded.h"
#include "core/ids.h"
#include "engine/engine.h"
#include "resources/bootstrap.h"
#include "resources/documents.h"
#include "resources/oauth.h"
#include "resources/organizations.h"
#include "resources/paging.h"
#include "resources/resources.h"
#include "routing/dispatch.h"
#include "routing/router.h"
#include "storage/store.h"
#include "validation/schemas.h"

#include "ck_run.h"
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- ids ---- */

START_TEST(ids_have_the_documented_form) {
  char id[IDS_MAX_LEN];
  ids_new("document", id, sizeof id);
  ck_assert_uint_eq(strlen(id), strlen("las:document:") + 32);
  ck_assert(ids_valid("document", id));
  ck_assert(!ids_valid("model", id));
  char other[IDS_MAX_LEN];
  ids_new("document", other, sizeof other);
  ck_assert_str_ne(id, other);
  ck_assert(
      !ids_valid("document", "las:document:ABCDEF0123456789abcdef0123456789"));
  ck_assert(!ids_valid("document", "las:document:abc"));
  ck_assert(
      !ids_valid("document", "las:document:0123456789abcdef0123456789abcdef0"));
}
END_TEST

/* The same seed gives the same ids and secrets; another seed others; a
 * forced id is used once, for its kind only. */
START_TEST(seeded_ids_repeat_and_forced_ids_are_used_once) {
  char a1[IDS_MAX_LEN], a2[IDS_MAX_LEN], b1[IDS_MAX_LEN], b2[IDS_MAX_LEN];
  char ha[33], hb[33];
  ids_set_seed(42);
  ids_new("document", a1, sizeof a1);
  ids_new("document", a2, sizeof a2);
  ids_random_hex(16, ha);
  ids_set_seed(42);
  ids_new("document", b1, sizeof b1);
  ids_new("document", b2, sizeof b2);
  ids_random_hex(16, hb);
  ck_assert_str_eq(a1, b1);
  ck_assert_str_eq(a2, b2);
  ck_assert_str_eq(ha, hb);
  ck_assert_str_ne(a1, a2);
  ck_assert(ids_valid("document", a1));
  uint64_t seed = 0;
  ck_assert(ids_get_seed(&seed));
  ck_assert_uint_eq(seed, 42);
  ids_set_seed(43);
  ids_new("document", b1, sizeof b1);
  ck_assert_str_ne(a1, b1);
  ids_clear_seed();
  ck_assert(!ids_get_seed(NULL));
  ids_set_seed(42);
  ids_clear_seed();
  ids_new("document", b1, sizeof b1);
  ck_assert_str_ne(a1, b1);

  const char *fixed = "las:model:0123456789abcdef0123456789abcdef";
  ids_force_next("model", fixed);
  ids_new("document", a1, sizeof a1);
  ck_assert_str_ne(a1, fixed);
  ids_new("model", a1, sizeof a1);
  ck_assert_str_eq(a1, fixed);
  ids_new("model", a2, sizeof a2);
  ck_assert_str_ne(a2, fixed);
  ids_force_next("model", fixed);
  ids_force_clear();
  ids_new("model", a2, sizeof a2);
  ck_assert_str_ne(a2, fixed);
}
END_TEST

START_TEST(timestamps_match_the_reference_format) {
  char buf[CLOCK_ISO_LEN];
  clock_format_iso(1618409582021412, buf, sizeof buf);
  ck_assert_str_eq(buf, "2021-04-14T14:13:02.021412+0000");
}
END_TEST

/* ---- codecs ---- */

START_TEST(base64_is_strict) {
  size_t len = 0;
  unsigned char *raw = codec_b64_decode_alloc("aGVsbG8=", 8, &len);
  ck_assert_ptr_nonnull(raw);
  ck_assert_uint_eq(len, 5);
  ck_assert(memcmp(raw, "hello", 5) == 0);
  free(raw);
  ck_assert_ptr_null(codec_b64_decode_alloc("aGVsbG8", 7, &len));
  ck_assert_ptr_null(codec_b64_decode_alloc("aGV sbG8=", 9, &len));
  ck_assert_ptr_null(
      codec_b64_decode_alloc("aGVsbG9=", 8, &len)); /* stray bits */
  char *text = codec_b64_encode_alloc("\x89PNG", 4);
  ck_assert_str_eq(text, "iVBORw==");
  free(text);
  /* What nettle's decoder alone would let through. */
  static const char *const refused[] = {
      "A===", "AA=A", "=AAA", "AAA=AAAA", "YQ==YQ==", "YWJ\nZGV", "YW\r\nJj",
      " YWJ", "YWJ\t", "YQ=\n", "aGVs bG8=", "YW-_", "YW\0A",
      /* whole groups of whitespace: symbols enough for fewer bytes */
      "aGVs    bG8gd29y", "\n\n\n\naGVs", "aGVsbG8g\r\n\r\n"};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    size_t n = strlen(refused[i]) + (i == 12 ? 2 : 0);
    raw = codec_b64_decode_alloc(refused[i], n, &len);
    ck_assert_msg(raw == NULL, "accepted \"%s\"", refused[i]);
  }
  raw = codec_b64_decode_alloc("", 0, &len);
  ck_assert_ptr_nonnull(raw);
  ck_assert_uint_eq(len, 0);
  free(raw);
  /* Every length round-trips, in both alphabets. */
  unsigned char bytes[64];
  for (size_t i = 0; i < sizeof bytes; i++)
    bytes[i] = (unsigned char)(i * 37 + 250);
  for (size_t n = 0; n <= sizeof bytes; n++) {
    text = codec_b64_encode_alloc(bytes, n);
    ck_assert_uint_eq(strlen(text), (n + 2) / 3 * 4);
    raw = codec_b64_decode_alloc(text, strlen(text), &len);
    ck_assert(raw && len == n && memcmp(raw, bytes, n) == 0);
    free(raw);
    free(text);
    text = codec_b64url_encode_alloc(bytes, n);
    ck_assert(!strchr(text, '=') && !strchr(text, '+') && !strchr(text, '/'));
    raw = codec_b64url_decode_alloc(text, &len);
    ck_assert(raw && len == n && memcmp(raw, bytes, n) == 0);
    free(raw);
    free(text);
  }
  static const char *const url_refused[] = {"A",    "AQ==", "AR",   "+/8",
                                            "AQ I", "AQ\n", "AAAAA"};
  for (size_t i = 0; i < sizeof url_refused / sizeof url_refused[0]; i++) {
    raw = codec_b64url_decode_alloc(url_refused[i], &len);
    ck_assert_msg(raw == NULL, "url accepted \"%s\"", url_refused[i]);
  }
  raw = codec_b64url_decode_alloc("-_8", &len);
  ck_assert(raw && len == 2 && raw[0] == 0xfb && raw[1] == 0xff);
  free(raw);
}
END_TEST

/* ---- routing ---- */

START_TEST(route_table_has_every_documented_operation) {
  size_t ops = 0, options = 0;
  for (size_t i = 0; i < routes_count; i++) {
    if (strcmp(routes[i].method, "OPTIONS") == 0)
      options++;
    else if (!(routes[i].flags & (ROUTE_PUBLIC | ROUTE_CONTROL)) ||
             strcmp(routes[i].path, "/signup") == 0)
      ops++;
  }
  ck_assert_uint_eq(ops, 65);
  ck_assert_uint_eq(options, 31);
  /* Every route of the API proper names the scope a token needs; the
   * control API takes no API token at all. */
  for (size_t i = 0; i < routes_count; i++) {
    if (routes[i].flags & ROUTE_CONTROL)
      ck_assert_ptr_null(routes[i].scope);
    else if (!(routes[i].flags & ROUTE_PUBLIC))
      ck_assert_ptr_nonnull(routes[i].scope);
  }
}
END_TEST

/* Issue 6: Allow and Access-Control-Allow-Methods list exactly what a path
 * serves; HEAD is answered wherever GET is. */
START_TEST(router_method_lists_follow_the_route_table) {
  static const struct {
    const char *path;
    const char *methods;
  } want[] = {
      {"/models", "GET, HEAD, OPTIONS, POST"},
      {"/v1/models/m", "DELETE, GET, HEAD, OPTIONS, PATCH"},
      {"/models/m/dataBundles/b", "DELETE, OPTIONS, PATCH"},
      {"/logs", "GET, HEAD, OPTIONS"},
      {"/documents", "DELETE, GET, HEAD, OPTIONS, POST"},
      {"/signup", "OPTIONS, POST"},
      {"/organizations", "OPTIONS"},
      {"/organizations/me", "GET, HEAD, OPTIONS, PATCH"},
      {"/secrets/s", "DELETE, OPTIONS, PATCH"},
      {"/health", "GET, HEAD"},
      {"/oauth2/token", "POST"},
  };
  char got[128];
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    ck_assert(router_methods(want[i].path, got, sizeof got));
    ck_assert_msg(strcmp(got, want[i].methods) == 0, "%s: %s, want %s",
                  want[i].path, got, want[i].methods);
  }
  ck_assert(!router_methods("/nothing", got, sizeof got));
  ck_assert_str_eq(got, "");

  /* Every row's method is in its path's list, HEAD exactly where GET is. */
  for (size_t i = 0; i < routes_count; i++) {
    char path[256];
    size_t o = 0;
    for (const char *t = routes[i].path; *t && o + 2 < sizeof path; t++) {
      if (*t == '{') {
        path[o++] = 'x';
        t = strchr(t, '}');
      } else {
        path[o++] = *t;
      }
    }
    path[o] = '\0';
    ck_assert(router_methods(path, got, sizeof got));
    char needle[16];
    snprintf(needle, sizeof needle, "%s", routes[i].method);
    ck_assert_msg(strstr(got, needle), "%s: %s lacks %s", path, got, needle);
    bool has_get = strstr(got, "GET") != NULL;
    ck_assert_msg(has_get == (strstr(got, "HEAD") != NULL), "%s: %s", path,
                  got);
    bool documented = strcmp(path, "/health") && strcmp(path, "/token") &&
                      strcmp(path, "/oauth2/token") &&
                      strncmp(path, "/_emulator/", 11) != 0;
    ck_assert_msg(!documented || strstr(got, "OPTIONS"), "%s: %s", path, got);
  }

  const route *r = NULL;
  const char *params[API_MAX_PATH_PARAMS];
  size_t n = 0;
  char buf[256], allow[128];
  ck_assert_int_eq(router_match("HEAD", "/models/m", &r, params, &n, buf,
                                sizeof buf, allow, sizeof allow),
                   ROUTER_MATCH);
  ck_assert_str_eq(r->method, "GET");
  ck_assert_int_eq(router_match("OPTIONS", "/models/m", &r, params, &n, buf,
                                sizeof buf, allow, sizeof allow),
                   ROUTER_MATCH);
  ck_assert_str_eq(allow, "DELETE, GET, HEAD, OPTIONS, PATCH");
  ck_assert_int_eq(router_match("HEAD", "/signup", &r, params, &n, buf,
                                sizeof buf, allow, sizeof allow),
                   ROUTER_NO_METHOD);
  ck_assert_str_eq(allow, "OPTIONS, POST");
}
END_TEST

START_TEST(router_matches_paths_with_and_without_v1) {
  const route *r = NULL;
  const char *params[API_MAX_PATH_PARAMS];
  size_t n = 0;
  char buf[256], allow[128];
  ck_assert_int_eq(router_match("GET", "/v1/models/las:model:1", &r, params, &n,
                                buf, sizeof buf, allow, sizeof allow),
                   ROUTER_MATCH);
  ck_assert_str_eq(r->path, "/models/{modelId}");
  ck_assert_uint_eq(n, 1);
  ck_assert_str_eq(params[0], "las:model:1");
  ck_assert_int_eq(router_match("PATCH", "/models/m/dataBundles/b", &r, params,
                                &n, buf, sizeof buf, allow, sizeof allow),
                   ROUTER_MATCH);
  ck_assert_uint_eq(n, 2);
  ck_assert_str_eq(params[1], "b");
  ck_assert_int_eq(router_match("PUT", "/models", &r, params, &n, buf,
                                sizeof buf, allow, sizeof allow),
                   ROUTER_NO_METHOD);
  ck_assert_str_eq(allow, "GET, HEAD, OPTIONS, POST");
  ck_assert_int_eq(router_match("GET", "/nothing", &r, params, &n, buf,
                                sizeof buf, allow, sizeof allow),
                   ROUTER_NO_PATH);
  ck_assert_int_eq(router_match("GET", "/models/a/b", &r, params, &n, buf,
                                sizeof buf, allow, sizeof allow),
                   ROUTER_NO_PATH);
}
END_TEST

START_TEST(path_ids_are_checked_against_their_kind) {
  const route *r = NULL;
  const char *params[API_MAX_PATH_PARAMS];
  size_t n = 0;
  char buf[256], allow[128], err[256];
  router_match("GET", "/models/las:dataset:0123456789abcdef0123456789abcdef",
               &r, params, &n, buf, sizeof buf, allow, sizeof allow);
  ck_assert(!router_check_params(r, params, n, err, sizeof err));
  ck_assert_str_eq(err, "modelId: must match pattern ^las:model:[a-f0-9]{32}$");
  router_match("GET", "/organizations/me", &r, params, &n, buf, sizeof buf,
               allow, sizeof allow);
  ck_assert(router_check_params(r, params, n, err, sizeof err));
  router_match("GET", "/transitions/las:transition:commons-postprocess", &r,
               params, &n, buf, sizeof buf, allow, sizeof allow);
  ck_assert(router_check_params(r, params, n, err, sizeof err));
}
END_TEST

START_TEST(scopes_match_whole_words) {
  ck_assert(auth_scope_granted("", "models:read"));
  ck_assert(auth_scope_granted("api.lucidtech.ai/models:read", "models:read"));
  ck_assert(
      auth_scope_granted("a api.lucidtech.ai/models:read b", "models:read"));
  ck_assert(
      !auth_scope_granted("api.lucidtech.ai/models:write", "models:read"));
  ck_assert(
      !auth_scope_granted("api.lucidtech.ai/models:readx", "models:read"));
}
END_TEST

/* ---- handlers through the dispatcher, no sockets ---- */

static char db_dir[64];
static bootstrap_info boot;

static void store_setup(void) {
  strcpy(db_dir, "/tmp/las-units-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(db_dir));
  char path[128], err[256];
  snprintf(path, sizeof path, "%s/t.db", db_dir);
  ck_assert_msg(schemas_init(err, sizeof err), "%s", err);
  ck_assert_msg(store_global_open(path, err, sizeof err), "%s", err);
  config cfg;
  char *argv[] = {"test", NULL};
  ck_assert_int_eq(config_load(&cfg, 1, argv, err, sizeof err), CONFIG_OK);
  store *s = store_thread();
  ck_assert_ptr_nonnull(s);
  ck_assert_msg(paging_init(s, err, sizeof err), "%s", err);
  ck_assert_msg(bootstrap_run(&cfg, &boot, err, sizeof err), "%s", err);
  auth_set_default_principal(&boot.principal);
  dispatch_settings ds = {.no_auth = true, .validate_responses = true};
  dispatch_configure(&ds);
}

static void store_teardown(void) {
  store_global_close();
  schemas_free();
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", db_dir);
  ck_assert_int_eq(system(cmd), 0);
}

static api_response call(const char *method, const char *path, const char *body,
                         const api_param *query, size_t n_query) {
  dispatch_input in = {.method = method,
                       .path = path,
                       .query = query,
                       .n_query = n_query,
                       .content_type = body ? "application/json" : NULL,
                       .body = body ? body : "",
                       .body_len = body ? strlen(body) : 0};
  return dispatch_request(&in);
}

START_TEST(handlers_run_without_sockets) {
  api_response r = call("POST", "/models",
                        "{\"width\":300,\"height\":300,\"fieldConfig\":"
                        "{\"total\":{\"type\":\"amount\",\"maxLength\":10}}}",
                        NULL, 0);
  ck_assert_uint_eq(r.status, 200);
  const char *id = json_string_value(json_object_get(r.body, "modelId"));
  ck_assert(ids_valid("model", id));
  char path[128];
  snprintf(path, sizeof path, "/v1/models/%s", id);
  json_decref(r.body);
  r = call("GET", path, NULL, NULL, 0);
  ck_assert_uint_eq(r.status, 200);
  ck_assert_int_eq(json_integer_value(json_object_get(r.body, "width")), 300);
  json_decref(r.body);

  r = call("POST", "/models",
           "{\"width\":300,\"height\":300,\"fieldConfig\":"
           "{\"total\":{\"type\":\"amount\",\"maxLength\":101}}}",
           NULL, 0);
  ck_assert_uint_eq(r.status, 400);
  ck_assert_str_eq(json_string_value(json_object_get(r.body, "message")),
                   "fieldConfig.total.maxLength: must be <= 100");
  json_decref(r.body);
}
END_TEST

/* store_obj_get_shared hands out the cached tree itself (no copy):
 * store_obj_get's trees must stay the caller's own, so that a handler that
 * edits one never changes what a later shared load sees. */
static store_status shared_loads_check(store *s, void *arg) {
  store_obj_key key = {"model", boot.principal.org_id, arg};
  json_t *a = NULL, *b = NULL, *own = NULL, *again = NULL;
  ck_assert_int_eq(store_obj_get_shared(s, &key, &a, NULL), STORE_ONE);
  ck_assert_int_eq(store_obj_get_shared(s, &key, &b, NULL), STORE_ONE);
  ck_assert_ptr_eq(a, b); /* the same tree: nothing was copied */
  ck_assert_int_eq(store_obj_get(s, &key, &own), STORE_ONE);
  ck_assert_ptr_ne(own, a);
  json_object_set_new(own, "width", json_integer(1));
  ck_assert_int_eq(store_obj_get_shared(s, &key, &again, NULL), STORE_ONE);
  ck_assert_int_eq(json_integer_value(json_object_get(again, "width")), 300);
  json_decref(a);
  json_decref(b);
  json_decref(own);
  json_decref(again);
  store_obj_key none = {"model", boot.principal.org_id,
                        "las:model:0123456789abcdef0123456789abcdef"};
  json_t *missing = NULL;
  ck_assert_int_eq(store_obj_get_shared(s, &none, &missing, NULL), STORE_NONE);
  ck_assert_ptr_null(missing);
  return STORE_NONE;
}

START_TEST(shared_loads_are_not_copies_and_copies_stay_own) {
  api_response r = call("POST", "/models",
                        "{\"width\":300,\"height\":300,\"fieldConfig\":"
                        "{\"total\":{\"type\":\"amount\",\"maxLength\":10}}}",
                        NULL, 0);
  ck_assert_uint_eq(r.status, 200);
  char *id = strdup(json_string_value(json_object_get(r.body, "modelId")));
  json_decref(r.body);
  ck_assert_int_eq(store_write_tx(shared_loads_check, id), STORE_NONE);
  free(id);
}
END_TEST

/* POST /predictions is prepared before its write transaction (route
 * `prepare`): the prepared answer stands only if the document and the model
 * are still what it was made from. */
typedef struct {
  api_request req;
  api_response resp;
} pred_call;

static store_status pred_create_in_tx(store *s, void *arg) {
  pred_call *c = arg;
  c->req.db = s;
  api_response_free(&c->resp);
  c->resp = predictions_create(&c->req);
  if (c->resp.raw) { /* an answer made ahead, as text */
    c->resp.body = json_loadb(c->resp.raw, c->resp.raw_len, 0, NULL);
    ck_assert_ptr_nonnull(c->resp.body);
    free(c->resp.raw);
    c->resp.raw = NULL;
  }
  return c->resp.status < 300 ? STORE_ONE : STORE_NONE;
}

static char *created_id(api_response r, const char *field) {
  ck_assert_uint_eq(r.status, 200);
  char *id = strdup(json_string_value(json_object_get(r.body, field)));
  api_response_free(&r);
  return id;
}

/* Prepares a prediction of doc by model (as the dispatcher does before the
 * transaction); the caller runs it with pred_run. */
static void pred_prepare(pred_call *c, json_t *body) {
  memset(c, 0, sizeof *c);
  c->req.method = "POST";
  c->req.path = "/predictions";
  c->req.body = body;
  c->req.principal = boot.principal;
  c->req.db = store_thread();
  c->req.now_us = clock_now_us();
  predictions_prepare(&c->req);
  ck_assert_ptr_nonnull(c->req.prepared.obj);
  ck_assert_ptr_nonnull(c->req.prepared.text);
}

static const char *pred_value(const api_response *r) {
  json_t *first = json_array_get(json_object_get(r->body, "predictions"), 0);
  return json_string_value(json_object_get(first, "value"));
}

START_TEST(prepared_predictions_stand_only_on_unchanged_inputs) {
  char *model =
      created_id(call("POST", "/models",
                      "{\"width\":300,\"height\":300,\"fieldConfig\":"
                      "{\"total\":{\"type\":\"amount\",\"maxLength\":10}}}",
                      NULL, 0),
                 "modelId");
  char *doc = created_id(call("POST", "/documents",
                              "{\"content\":\"JVBERi0xLjQ=\",\"contentType\":"
                              "\"application/pdf\"}",
                              NULL, 0),
                         "documentId");
  json_t *body = json_pack("{s:s, s:s}", "documentId", doc, "modelId", model);

  /* Unchanged: the prepared prediction is the answer, as prepared. */
  pred_call c;
  pred_prepare(&c, body);
  json_t *prepared = json_incref(c.req.prepared.obj);
  ck_assert_int_eq(store_write_tx(pred_create_in_tx, &c), STORE_ONE);
  ck_assert_str_eq(
      json_string_value(json_object_get(c.resp.body, "predictionId")),
      json_string_value(json_object_get(prepared, "predictionId")));
  ck_assert(json_equal(json_object_get(c.resp.body, "predictions"),
                       json_object_get(prepared, "predictions")));
  ck_assert_ptr_null(json_object_get(c.resp.body, "createdBy"));
  json_decref(prepared);
  api_response_free(&c.resp);
  api_prepared_free(&c.req.prepared);

  /* The document changed in between: the transaction generates again (the
   * ground truth is the prediction), under the prepared id. */
  pred_prepare(&c, body);
  char *prepared_id = strdup(
      json_string_value(json_object_get(c.req.prepared.obj, "predictionId")));
  char path[128];
  snprintf(path, sizeof path, "/documents/%s", doc);
  api_response r = call("PATCH", path,
                        "{\"groundTruth\":[{\"label\":\"total\","
                        "\"value\":\"123.45\"}]}",
                        NULL, 0);
  ck_assert_uint_eq(r.status, 200);
  api_response_free(&r);
  ck_assert_int_eq(store_write_tx(pred_create_in_tx, &c), STORE_ONE);
  ck_assert_str_eq(pred_value(&c.resp), "123.45");
  ck_assert_str_eq(
      json_string_value(json_object_get(c.resp.body, "predictionId")),
      prepared_id);
  free(prepared_id);
  api_response_free(&c.resp);
  api_prepared_free(&c.req.prepared);

  /* The document is gone: the body's fault, and nothing is stored. */
  pred_prepare(&c, body);
  r = call("DELETE", path, NULL, NULL, 0);
  ck_assert_uint_eq(r.status, 200);
  api_response_free(&r);
  ck_assert_int_eq(store_write_tx(pred_create_in_tx, &c), STORE_NONE);
  ck_assert_uint_eq(c.resp.status, 400);
  api_response_free(&c.resp);
  api_prepared_free(&c.req.prepared);
  r = call("GET", "/predictions", NULL, NULL, 0);
  ck_assert_uint_eq(json_array_size(json_object_get(r.body, "predictions")), 2);
  api_response_free(&r);
  json_decref(body);
  free(model);
  free(doc);
}
END_TEST

/* Schemas are compiled at first use (schemas.h): this is where a schema
 * that would not compile is found, not by the request that first needs it. */
START_TEST(every_embedded_schema_compiles) {
  char err[320] = "";
  ck_assert_msg(schemas_compile_all(err, sizeof err), "%s", err);
  ck_assert_ptr_nonnull(schemas_get("PostDocuments"));
  ck_assert_ptr_nonnull(schemas_json("Prediction"));
  ck_assert_ptr_null(schemas_get("NoSuchSchema"));
}
END_TEST

START_TEST(failed_writes_leave_nothing_behind) {
  /* A document naming a missing dataset is refused and nothing is stored. */
  api_response r = call("POST", "/documents",
                        "{\"content\":\"JVBERi0xLjQ=\",\"contentType\":"
                        "\"application/pdf\",\"datasetId\":"
                        "\"las:dataset:0123456789abcdef0123456789abcdef\"}",
                        NULL, 0);
  ck_assert_uint_eq(r.status, 400);
  json_decref(r.body);
  r = call("GET", "/documents", NULL, NULL, 0);
  ck_assert_uint_eq(r.status, 200);
  ck_assert_uint_eq(json_array_size(json_object_get(r.body, "documents")), 0);
  json_decref(r.body);
}
END_TEST

START_TEST(page_tokens_resist_tampering) {
  for (int i = 0; i < 3; i++) {
    api_response r =
        call("POST", "/assets", "{\"content\":\"aGVsbG8=\"}", NULL, 0);
    ck_assert_uint_eq(r.status, 200);
    json_decref(r.body);
  }
  api_param q[2] = {{"maxResults", "2"}, {"nextToken", NULL}};
  api_response r = call("GET", "/assets", NULL, q, 1);
  ck_assert_uint_eq(r.status, 200);
  ck_assert_uint_eq(json_array_size(json_object_get(r.body, "assets")), 2);
  char token[256];
  snprintf(token, sizeof token, "%s",
           json_string_value(json_object_get(r.body, "nextToken")));
  json_decref(r.body);
  q[1].value = token;
  r = call("GET", "/assets", NULL, q, 2);
  ck_assert_uint_eq(r.status, 200);
  ck_assert_uint_eq(json_array_size(json_object_get(r.body, "assets")), 1);
  ck_assert(json_is_null(json_object_get(r.body, "nextToken")));
  json_decref(r.body);
  /* One changed character, or the token of another list, is refused. */
  token[3] = token[3] == 'A' ? 'B' : 'A';
  r = call("GET", "/assets", NULL, q, 2);
  ck_assert_uint_eq(r.status, 400);
  json_decref(r.body);
  token[3] = token[3] == 'A' ? 'B' : 'A';
  r = call("GET", "/secrets", NULL, q, 2);
  ck_assert_uint_eq(r.status, 400);
  json_decref(r.body);
  api_param bad[] = {{"maxResults", "0"}};
  r = call("GET", "/assets", NULL, bad, 1);
  ck_assert_uint_eq(r.status, 400);
  json_decref(r.body);
  bad[0].value = "1001";
  r = call("GET", "/assets", NULL, bad, 1);
  ck_assert_uint_eq(r.status, 400);
  json_decref(r.body);
}
END_TEST

/* A database made by an older build (only the first migration) is brought up
 * to date in place, keeping its rows. */
START_TEST(old_databases_are_upgraded_in_place) {
  char dir[] = "/tmp/las-upgrade-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[128];
  snprintf(path, sizeof path, "%s/old.db", dir);
  sqlite3 *db = NULL;
  ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
  ck_assert_int_eq(
      sqlite3_exec(db,
                   "CREATE TABLE schema_migrations (version INTEGER PRIMARY "
                   "KEY, name TEXT NOT NULL, applied_us INTEGER NOT NULL);"
                   "INSERT INTO schema_migrations VALUES (1, 'first', 0);",
                   NULL, NULL, NULL),
      SQLITE_OK);
  ck_assert_int_eq(
      sqlite3_exec(db, embedded_migrations[0].text, NULL, NULL, NULL),
      SQLITE_OK);
  ck_assert_int_eq(
      sqlite3_exec(db,
                   "INSERT INTO objects (kind, id, org_id, body) VALUES "
                   "('model', 'las:model:1', 'las:organization:1', '{}')",
                   NULL, NULL, NULL),
      SQLITE_OK);
  sqlite3_close(db);

  char err[256];
  ck_assert_msg(store_global_open(path, err, sizeof err), "%s", err);
  store_global_close();

  ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
  sqlite3_stmt *st = NULL;
  sqlite3_prepare_v2(db, "SELECT count(*), max(version) FROM schema_migrations",
                     -1, &st, NULL);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
  ck_assert_int_eq(sqlite3_column_int(st, 0), (int)embedded_migrations_count);
  ck_assert_int_eq(sqlite3_column_int(st, 1), (int)embedded_migrations_count);
  sqlite3_finalize(st);
  sqlite3_prepare_v2(db, "SELECT count(*) FROM objects", -1, &st, NULL);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
  ck_assert_int_eq(sqlite3_column_int(st, 0), 1);
  sqlite3_finalize(st);
  sqlite3_close(db);
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* ---- issue 6: numbers, unset fields, JSON texts, credentials ---- */

/* Rows stored by earlier builds (unset fields as null, integers as whole
 * reals) are rewritten by migration 005: lists answer from stored text. */
START_TEST(stored_nulls_and_whole_reals_are_migrated) {
  char dir[] = "/tmp/las-nulls-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[128];
  snprintf(path, sizeof path, "%s/old.db", dir);
  sqlite3 *db = NULL;
  ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
  ck_assert_int_eq(
      sqlite3_exec(db,
                   "CREATE TABLE schema_migrations (version INTEGER PRIMARY "
                   "KEY, name TEXT NOT NULL, applied_us INTEGER NOT NULL);",
                   NULL, NULL, NULL),
      SQLITE_OK);
  for (size_t i = 0; i < 4; i++) {
    ck_assert_int_eq(
        sqlite3_exec(db, embedded_migrations[i].text, NULL, NULL, NULL),
        SQLITE_OK);
    char sql[160];
    snprintf(sql, sizeof sql,
             "INSERT INTO schema_migrations VALUES (%zu, 'old', 0)", i + 1);
    ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  }
  ck_assert_int_eq(
      sqlite3_exec(
          db,
          "INSERT INTO objects (kind, id, org_id, body) VALUES "
          "('document', 'las:document:1', 'las:organization:1', "
          "'{\"documentId\":\"las:document:1\",\"consentId\":null,"
          "\"datasetId\":null,\"content\":null,\"retentionInDays\":30.0}'),"
          "('document', 'las:document:2', 'las:organization:1', "
          "'{\"documentId\":\"las:document:2\",\"consentId\":\"c\","
          "\"datasetId\":\"d\",\"retentionInDays\":7}'),"
          "('asset', 'las:asset:1', 'las:organization:1', "
          "'{\"assetId\":\"las:asset:1\",\"name\":null,\"content\":null}'),"
          "('model', 'las:model:1', 'las:organization:1', "
          "'{\"modelId\":\"las:model:1\",\"width\":300.0,\"height\":200,"
          "\"name\":null}')",
          NULL, NULL, NULL),
      SQLITE_OK);
  sqlite3_close(db);

  char err[256];
  ck_assert_msg(store_global_open(path, err, sizeof err), "%s", err);
  store_global_close();

  ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
  sqlite3_stmt *st = NULL;
  sqlite3_prepare_v2(db, "SELECT body FROM objects ORDER BY seq", -1, &st,
                     NULL);
  static const char *const want[] = {
      "{\"documentId\":\"las:document:1\",\"retentionInDays\":30}",
      "{\"documentId\":\"las:document:2\",\"consentId\":\"c\","
      "\"datasetId\":\"d\",\"retentionInDays\":7}",
      /* nullable fields keep their null */
      "{\"assetId\":\"las:asset:1\",\"name\":null}",
      "{\"modelId\":\"las:model:1\",\"width\":300,\"height\":200,"
      "\"name\":null}"};
  for (size_t i = 0; i < 4; i++) {
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), want[i]);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static const char *msg_of(const api_response *r) {
  return json_string_value(json_object_get(r->body, "message"));
}

static void expect_error(api_response r, unsigned status, const char *msg) {
  ck_assert_uint_eq(r.status, status);
  ck_assert_msg(msg_of(&r) && strcmp(msg_of(&r), msg) == 0,
                "message \"%s\", wanted \"%s\"", msg_of(&r), msg);
  api_response_free(&r);
}

static store_status expire_at(store *s, void *arg) {
  return documents_expire(s, NULL, *(int64_t *)arg);
}

/* Runs the engine's retention job as if `now` had come. */
static void retention_pass(int64_t now) {
  ck_assert_int_eq(store_write_tx(expire_at, &now), STORE_ONE);
}

static const int64_t day_us = 86400LL * 1000000;

START_TEST(whole_reals_count_as_the_integers_they_are) {
  api_response r = call("POST", "/documents",
                        "{\"content\":\"JVBERi0xLjQ=\",\"contentType\":"
                        "\"application/pdf\",\"retentionInDays\":30.0}",
                        NULL, 0);
  ck_assert_uint_eq(r.status, 200);
  json_t *days = json_object_get(r.body, "retentionInDays");
  ck_assert_msg(json_is_integer(days) && json_integer_value(days) == 30,
                "retentionInDays not echoed as the integer 30");
  char path[128];
  snprintf(path, sizeof path, "/documents/%s",
           json_string_value(json_object_get(r.body, "documentId")));
  api_response_free(&r);

  /* The engine keeps it for 30 days, not 0. */
  retention_pass(clock_now_us() + day_us);
  r = call("GET", path, NULL, NULL, 0);
  ck_assert_uint_eq(r.status, 200);
  days = json_object_get(r.body, "retentionInDays");
  ck_assert(json_is_integer(days) && json_integer_value(days) == 30);
  api_response_free(&r);
  /* Stored as text too, lists show 30. */
  r = call("GET", "/documents", NULL, NULL, 0);
  ck_assert_uint_eq(r.status, 200);
  days =
      json_object_get(json_array_get(json_object_get(r.body, "documents"), 0),
                      "retentionInDays");
  ck_assert(json_is_integer(days) && json_integer_value(days) == 30);
  api_response_free(&r);

  /* PATCH likewise. */
  r = call("PATCH", path, "{\"retentionInDays\":7.0}", NULL, 0);
  ck_assert_uint_eq(r.status, 200);
  days = json_object_get(r.body, "retentionInDays");
  ck_assert(json_is_integer(days) && json_integer_value(days) == 7);
  api_response_free(&r);
  retention_pass(clock_now_us() + 6 * day_us);
  r = call("GET", path, NULL, NULL, 0);
  ck_assert_uint_eq(r.status, 200);
  api_response_free(&r);
  retention_pass(clock_now_us() + 8 * day_us);
  r = call("GET", path, NULL, NULL, 0);
  ck_assert_uint_eq(r.status, 404);
  api_response_free(&r);

  /* Every integer field, not only documents'. */
  r = call("POST", "/models",
           "{\"width\":300.0,\"height\":3e2,\"fieldConfig\":"
           "{\"total\":{\"type\":\"amount\",\"maxLength\":10.0}},"
           "\"preprocessConfig\":{\"maxPages\":2.0,\"autoRotate\":false,"
           "\"imageQuality\":\"LOW\"}}",
           NULL, 0);
  ck_assert_uint_eq(r.status, 200);
  char *text = json_dumps(r.body, JSON_COMPACT);
  ck_assert_ptr_nonnull(strstr(text, "\"width\":300,"));
  ck_assert_ptr_nonnull(strstr(text, "\"height\":300"));
  ck_assert_ptr_nonnull(strstr(text, "\"maxLength\":10}"));
  ck_assert_ptr_nonnull(strstr(text, "\"maxPages\":2,"));
  free(text);
  api_response_free(&r);
  r = call("POST", "/datasets", "{\"retentionInDays\":5.0}", NULL, 0);
  ck_assert_uint_eq(r.status, 200);
  ck_assert(json_is_integer(json_object_get(r.body, "retentionInDays")));
  api_response_free(&r);
  /* What the answer (Dataset: at most 1825) cannot carry is refused. */
  r = call("POST", "/datasets", "{\"retentionInDays\":1825.0}", NULL, 0);
  ck_assert_uint_eq(r.status, 200);
  api_response_free(&r);
  expect_error(call("POST", "/datasets", "{\"retentionInDays\":1826}", NULL, 0),
               400, "retentionInDays: must be <= 1825");
  /* A fraction is still not an integer. */
  expect_error(call("POST", "/datasets", "{\"retentionInDays\":5.5}", NULL, 0),
               400, "retentionInDays: must be integer");
}
END_TEST

START_TEST(user_numbers_never_overflow) {
  static const char *const doc =
      "{\"content\":\"JVBERi0xLjQ=\",\"contentType\":\"application/pdf\","
      "\"retentionInDays\":%s}";
  static const char *const huge[] = {"1000001", "9223372036854775807", "1e18",
                                     "1000001.0"};
  char body[256];
  for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
    snprintf(body, sizeof body, doc, huge[i]);
    expect_error(call("POST", "/documents", body, NULL, 0), 400,
                 "retentionInDays: must be <= 1000000");
  }
  /* The largest documented value works and the document stays. */
  snprintf(body, sizeof body, doc, "1000000");
  api_response r = call("POST", "/documents", body, NULL, 0);
  ck_assert_uint_eq(r.status, 200);
  char path[128];
  snprintf(path, sizeof path, "/documents/%s",
           json_string_value(json_object_get(r.body, "documentId")));
  api_response_free(&r);
  retention_pass(clock_now_us() + 1000 * day_us);
  r = call("GET", path, NULL, NULL, 0);
  ck_assert_uint_eq(r.status, 200);
  api_response_free(&r);
  expect_error(
      call("PATCH", path, "{\"retentionInDays\":9223372036854775807}", NULL, 0),
      400, "retentionInDays: must be <= 1000000");
  expect_error(call("PATCH", path, "{\"retentionInDays\":1e300}", NULL, 0), 400,
               "retentionInDays: must be an integer from "
               "-9223372036854775808 to 9223372036854775807");
  /* Beyond what a JSON number may hold here: refused where it is. */
  expect_error(
      call("POST", "/datasets", "{\"retentionInDays\": 1e400}", NULL, 0), 400,
      "body: number out of range at line 1 column 25 (integers must "
      "fit in 64 bits, other numbers in a double)");
  expect_error(call("POST", "/datasets",
                    "{\"retentionInDays\": 99999999999999999999}", NULL, 0),
               400,
               "body: number out of range at line 1 column 40 (integers must "
               "fit in 64 bits, other numbers in a double)");
  expect_error(
      call("POST", "/datasets", "{\"retentionInDays\": 1e19}", NULL, 0), 400,
      "retentionInDays: must be an integer from "
      "-9223372036854775808 to 9223372036854775807");
  /* Repeatable filters keep every value, UTF-8 or not. */
  api_param bad_filter[] = {{"datasetId", "\xff"}};
  expect_error(call("GET", "/documents", NULL, bad_filter, 1), 400,
               "datasetId: must match pattern ^las:dataset:[a-f0-9]{32}$");
  /* Query numbers: maxResults beyond long. */
  api_param q[] = {{"maxResults", "99999999999999999999999"}};
  expect_error(call("GET", "/documents", NULL, q, 1), 400,
               "maxResults: must be an integer from 1 to 1000");
}
END_TEST

START_TEST(unset_optional_fields_are_omitted) {
  api_response r = call("POST", "/documents",
                        "{\"content\":\"JVBERi0xLjQ=\",\"contentType\":"
                        "\"application/pdf\"}",
                        NULL, 0);
  ck_assert_uint_eq(r.status, 200);
  ck_assert_ptr_null(json_object_get(r.body, "consentId"));
  ck_assert_ptr_null(json_object_get(r.body, "datasetId"));
  ck_assert_ptr_null(json_object_get(r.body, "content"));
  char path[128];
  snprintf(path, sizeof path, "/documents/%s",
           json_string_value(json_object_get(r.body, "documentId")));
  api_response_free(&r);
  r = call("GET", path, NULL, NULL, 0);
  ck_assert_str_eq(json_string_value(json_object_get(r.body, "content")),
                   "JVBERi0xLjQ=");
  ck_assert_ptr_null(json_object_get(r.body, "consentId"));
  api_response_free(&r);
  r = call("POST", "/assets", "{\"content\":\"aGVsbG8=\"}", NULL, 0);
  ck_assert_uint_eq(r.status, 200);
  api_response_free(&r);
  static const char *const lists[] = {"/documents", "/assets"};
  for (size_t i = 0; i < 2; i++) {
    r = call("GET", lists[i], NULL, NULL, 0);
    ck_assert_uint_eq(r.status, 200);
    char *text = r.raw ? strdup(r.raw) : json_dumps(r.body, JSON_COMPACT);
    ck_assert_msg(!strstr(text, "\"content\":null") &&
                      !strstr(text, "\"consentId\":null") &&
                      !strstr(text, "\"datasetId\":null"),
                  "%s answers unset fields as null: %s", lists[i], text);
    free(text);
    api_response_free(&r);
  }
}
END_TEST

START_TEST(every_json_text_is_parsed) {
  static const char *const texts[] = {"[]",    "null",  "0",
                                      "\"x\"", "false", "[{}]"};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
    expect_error(call("POST", "/datasets", texts[i], NULL, 0), 400,
                 "body: must be object");
  /* Duplicate names: the last one wins, as in the Python service. */
  api_response r =
      call("POST", "/datasets", "{\"name\":\"a\",\"name\":\"b\"}", NULL, 0);
  ck_assert_uint_eq(r.status, 200);
  ck_assert_str_eq(json_string_value(json_object_get(r.body, "name")), "b");
  api_response_free(&r);
  /* A message cut to fit its buffer inside a multi-byte name keeps its
   * message. */
  for (int odd = 0; odd < 2; odd++) {
    char body[1400];
    strcpy(body, odd ? "{\"x" : "{\"");
    for (int i = 0; i < 600; i++)
      strcat(body, "\xc3\xa9");
    strcat(body, "\":1}");
    r = call("POST", "/datasets", body, NULL, 0);
    ck_assert_uint_eq(r.status, 400);
    ck_assert_msg(msg_of(&r) && strncmp(msg_of(&r) + odd, "\xc3\xa9", 2) == 0,
                  "no message");
    api_response_free(&r);
  }
  /* U+0000 is refused where it is, never cut off. */
  expect_error(call("POST", "/datasets", "{\"name\":\"a\\u0000b\"}", NULL, 0),
               400, "name: must not contain the NUL character (\\u0000)");
  expect_error(call("POST", "/documents",
                    "{\"content\":\"JVBERi0xLjQ=\",\"contentType\":"
                    "\"application/pdf\",\"groundTruth\":[{\"label\":\"a\","
                    "\"value\":\"x\\u0000\"}]}",
                    NULL, 0),
               400,
               "groundTruth[0].value: must not contain the NUL character "
               "(\\u0000)");
  expect_error(call("POST", "/datasets", "{\"na\\u0000me\":\"a\"}", NULL, 0),
               400,
               "body: property name at line 1 column 13: must not contain the "
               "NUL character (\\u0000)");
}
END_TEST

START_TEST(allowances_beyond_64_bits_are_refused) {
  char err[256];
  ck_assert(!organizations_configure(
      "monthlyNumberOfDocumentsAllowed=99999999999999999999", err, sizeof err));
  ck_assert_str_eq(err, "--allowances: 'monthlyNumberOfDocumentsAllowed="
                        "99999999999999999999' is not FIELD=NUMBER");
}
END_TEST

START_TEST(bootstrap_refuses_credentials_the_store_would_cut) {
  config cfg;
  memset(&cfg, 0, sizeof cfg);
  memset(cfg.api_key, 'k', 200);
  bootstrap_info info;
  char err[256];
  ck_assert(!bootstrap_run(&cfg, &info, err, sizeof err));
  ck_assert_str_eq(err, "bootstrap: --client-id and --api-key may have at "
                        "most 127 and 127 characters");
}
END_TEST

START_TEST(token_parameters_are_held_whole) {
  char *form = malloc(16000);
  strcpy(form, "username=");
  for (int i = 0; i < 3000; i++)
    strcat(form, "%41");
  strcat(form, "&password=p+w%2B&grant_type=password&scope=");
  for (int i = 0; i < 100; i++)
    strcat(form, "api.lucidtech.ai%2Fmodels%3Aread+");
  oauth_params p;
  memset(&p, 0, sizeof p);
  oauth_parse_form(&p, form, strlen(form));
  ck_assert_uint_eq(strlen(p.username), 3000);
  ck_assert_str_eq(p.password, "p w+");
  ck_assert_str_eq(p.grant_type, "password");
  ck_assert_uint_eq(strlen(p.scope),
                    100 * strlen("api.lucidtech.ai/models:read "));
  ck_assert_ptr_null(p.bad);
  /* A key that only starts like a known one is not that key. */
  char longkey[200];
  snprintf(longkey, sizeof longkey, "grant_type%0100d=x", 0);
  oauth_parse_form(&p, longkey, strlen(longkey));
  ck_assert_str_eq(p.grant_type, "password");
  oauth_params_free(&p);
  free(form);
}
END_TEST

START_TEST(auth_schemes_are_case_insensitive_with_ows) {
  const char *cred = NULL;
  size_t len = 0;
  static const char *const ok[] = {"Bearer abc",   "bearer abc",
                                   "BEARER  abc",  "\tBeArEr\tabc \t",
                                   " Bearer abc ", "bEARER abc\t"};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    ck_assert_msg(auth_credentials(ok[i], "Bearer", &cred, &len), "%s", ok[i]);
    ck_assert_uint_eq(len, 3);
    ck_assert_int_eq(strncmp(cred, "abc", 3), 0);
  }
  static const char *const bad[] = {"Bearerabc", "Bearer",   "Bearer   ",
                                    "Basic abc", "Bear abc", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_msg(!auth_credentials(bad[i], "Bearer", &cred, &len), "%s",
                  bad[i]);
  ck_assert(!auth_credentials(NULL, "Basic", &cred, &len));
}
END_TEST

static api_response token_call(const char *authorization, const char *form) {
  api_param q[] = {{"grant_type", "client_credentials"}};
  dispatch_input in = {.method = "POST",
                       .path = "/oauth2/token",
                       .query = form ? NULL : q,
                       .n_query = form ? 0 : 1,
                       .content_type = "application/x-www-form-urlencoded",
                       .authorization = authorization,
                       .body = form ? form : "",
                       .body_len = form ? strlen(form) : 0};
  return dispatch_request(&in);
}

static char *basic_header(const char *id, const char *secret) {
  char pair[512];
  snprintf(pair, sizeof pair, "%s:%s", id, secret);
  char *b64 = codec_b64_encode_alloc(pair, strlen(pair));
  char *h = malloc(strlen(b64) + 16);
  sprintf(h, "Basic %s", b64);
  free(b64);
  return h;
}

typedef struct {
  const char *id;
} odd_client;

static store_status odd_client_put(store *s, void *arg) {
  odd_client *odd = arg;
  store_client c;
  store_status st = store_client_check(s, odd->id, NULL, &c);
  if (st != STORE_ONE)
    return st;
  return store_client_put(s, "odd-client+/:%= x", c.app_client_id, c.org_id,
                          "a+b/c:d%e=f g", "odd-client-api-key");
}

START_TEST(oauth_clients_may_form_encode_their_credentials) {
  /* An app client whose secret has every character §2.3.1 encodes. */
  api_response r = call("POST", "/appClients", "{\"name\":\"odd\"}", NULL, 0);
  ck_assert_uint_eq(r.status, 200);
  char id[128];
  snprintf(id, sizeof id, "%s",
           json_string_value(json_object_get(r.body, "clientId")));
  api_response_free(&r);
  /* Secrets are generated; add credentials with the characters in
   * question to that app client. */
  static const char secret[] = "a+b/c:d%e=f g";
  odd_client odd = {.id = id};
  ck_assert_int_eq(store_write_tx(odd_client_put, &odd), STORE_ONE);
  struct {
    const char *id, *secret;
    unsigned status;
  } cases[] = {
      {"odd-client+/:%= x", secret, 401}, /* raw: ':' in the id splits */
      {"odd-client%2B%2F%3A%25%3D+x", "a%2Bb%2Fc%3Ad%25e%3Df+g", 200},
      {"odd-client%2B%2F%3A%25%3D%20x", "a%2Bb%2Fc%3Ad%25e%3Df%20g", 200},
      {"odd-client%2B%2F%3A%25%3D+x", "a+b/c:d%e=f g", 200}, /* raw secret */
      {"odd-client%2B%2F%3A%25%3D+x", "a%2Bb%2Fc%3Ad%25e%3Df+h", 401},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *h = basic_header(cases[i].id, cases[i].secret);
    r = token_call(h, NULL);
    ck_assert_msg(r.status == cases[i].status, "case %zu: %u", i, r.status);
    api_response_free(&r);
    free(h);
  }
  /* The raw form still works for a plain client, whatever the case and
   * spacing of the scheme. */
  char *h = basic_header(boot.client_id, boot.client_secret);
  char *lower = malloc(strlen(h) + 8);
  sprintf(lower, " bASIC \t%s ", h + 6);
  r = token_call(lower, NULL);
  ck_assert_uint_eq(r.status, 200);
  api_response_free(&r);
  free(lower);
  free(h);
  /* Form parameters are held whole: a NUL is refused, not cut. */
  char form[512];
  snprintf(form, sizeof form,
           "grant_type=client_credentials&client_id=%s&client_secret=x%%00y",
           boot.client_id);
  r = token_call(NULL, form);
  ck_assert_uint_eq(r.status, 400);
  ck_assert_str_eq(msg_of(&r), "client_secret: must not contain a NUL byte");
  api_response_free(&r);
  /* A scope list longer than a token can hold is refused. */
  char *scope = malloc(3000);
  strcpy(scope, "grant_type=client_credentials&scope=");
  while (strlen(scope) < 2900)
    strcat(scope, "api.lucidtech.ai%2Fmodels%3Aread+");
  h = basic_header(boot.client_id, boot.client_secret);
  r = token_call(h, scope);
  ck_assert_uint_eq(r.status, 400);
  ck_assert_str_eq(msg_of(&r), "scope: too long");
  api_response_free(&r);
  free(h);
  free(scope);
}
END_TEST

/* ---- the control API's gate (ROUTE_CONTROL) ---- */

static api_response control_call(const char *method, const char *path,
                                 const char *body, const char *authorization,
                                 const char *peer) {
  struct sockaddr_storage ss = {0};
  const struct sockaddr *sa = NULL;
  if (peer && strchr(peer, ':')) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    in6->sin6_family = AF_INET6;
    ck_assert_int_eq(inet_pton(AF_INET6, peer, &in6->sin6_addr), 1);
    sa = (const struct sockaddr *)&ss;
  } else if (peer) {
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    in4->sin_family = AF_INET;
    ck_assert_int_eq(inet_pton(AF_INET, peer, &in4->sin_addr), 1);
    sa = (const struct sockaddr *)&ss;
  }
  dispatch_input in = {.method = method,
                       .path = path,
                       .content_type = body ? "application/json" : NULL,
                       .authorization = authorization,
                       .body = body ? body : "",
                       .body_len = body ? strlen(body) : 0,
                       .peer = sa};
  return dispatch_request(&in);
}

static const char *msg_text(const api_response *r) {
  return json_string_value(json_object_get(r->body, "message"));
}

START_TEST(control_api_is_loopback_or_admin_only) {
  /* Without an admin token: loopback peers only, whatever the credentials
   * (and --no-auth, on in this fixture, does not open it). */
  static const struct {
    const char *peer;
    unsigned status;
  } peers[] = {
      {NULL, 403},
      {"10.0.0.1", 403},
      {"192.0.2.7", 403},
      {"2001:db8::1", 403},
      {"::ffff:10.0.0.1", 403},
      {"::", 403},
      {"127.0.0.1", 200},
      {"127.9.8.7", 200},
      {"::1", 200},
      {"::ffff:127.0.0.1", 200},
  };
  for (size_t i = 0; i < sizeof peers / sizeof peers[0]; i++) {
    api_response r =
        control_call("GET", "/_emulator/clock", NULL, NULL, peers[i].peer);
    ck_assert_msg(r.status == peers[i].status, "%s: %u",
                  peers[i].peer ? peers[i].peer : "(none)", r.status);
    if (r.status == 403)
      ck_assert_str_eq(msg_text(&r),
                       "the control API is served only to loopback clients "
                       "unless the server has an admin token (--admin-token)");
    api_response_free(&r);
  }
  /* With one: its bearer token, from anywhere; nothing else. */
  dispatch_settings ds = {
      .no_auth = true, .validate_responses = true, .admin_token = "adm-token"};
  dispatch_configure(&ds);
  static const struct {
    const char *authorization;
    const char *peer;
    unsigned status;
  } creds[] = {
      {NULL, "127.0.0.1", 403},
      {"Bearer adm-token", "127.0.0.1", 200},
      {"Bearer adm-token", "10.0.0.1", 200},
      {"bearer   adm-token ", "2001:db8::1", 200},
      {"Bearer adm-token2", "127.0.0.1", 403},
      {"Bearer adm-toke", "127.0.0.1", 403},
      {"Bearer ", "127.0.0.1", 403},
      {"Basic adm-token", "127.0.0.1", 403},
      {"adm-token", "127.0.0.1", 403},
  };
  for (size_t i = 0; i < sizeof creds / sizeof creds[0]; i++) {
    api_response r = control_call("GET", "/_emulator/clock", NULL,
                                  creds[i].authorization, creds[i].peer);
    ck_assert_msg(r.status == creds[i].status, "%s from %s: %u",
                  creds[i].authorization ? creds[i].authorization : "(none)",
                  creds[i].peer, r.status);
    if (r.status == 403)
      ck_assert_str_eq(msg_text(&r),
                       "the control API needs Authorization: Bearer <admin "
                       "token> (--admin-token); API tokens are not accepted");
    api_response_free(&r);
  }
  /* An API token (valid for every scope) is not the admin token. */
  char *basic = basic_header(boot.client_id, boot.client_secret);
  api_response t = token_call(basic, NULL);
  free(basic);
  ck_assert_uint_eq(t.status, 200);
  char header[2048];
  snprintf(header, sizeof header, "Bearer %s",
           json_string_value(json_object_get(t.body, "access_token")));
  api_response_free(&t);
  api_response r = control_call("POST", "/_emulator/clock/advance",
                                "{\"seconds\": 0}", header, "127.0.0.1");
  ck_assert_uint_eq(r.status, 403);
  api_response_free(&r);
  /* The API proper is not affected by the peer. */
  r = control_call("GET", "/models", NULL, NULL, "10.0.0.1");
  ck_assert_uint_eq(r.status, 200);
  api_response_free(&r);
}
END_TEST

START_TEST(control_api_advance_runs_due_jobs_before_it_answers) {
  engine_register("retention", documents_expire);
  /* A document kept one day; its retention job is due a day from now. */
  api_response r = call("POST", "/documents",
                        "{\"content\":\"JVBERi0xLjQ=\",\"contentType\":"
                        "\"application/pdf\",\"retentionInDays\":1}",
                        NULL, 0);
  ck_assert_uint_eq(r.status, 200);
  char path[128];
  snprintf(path, sizeof path, "/documents/%s",
           json_string_value(json_object_get(r.body, "documentId")));
  api_response_free(&r);
  int64_t before = clock_now_us();
  r = control_call("POST", "/_emulator/clock/advance", "{\"seconds\": 3600}",
                   NULL, "127.0.0.1");
  ck_assert_uint_eq(r.status, 200);
  ck_assert_int_eq(json_integer_value(json_object_get(r.body, "jobsRun")), 0);
  api_response_free(&r);
  r = call("GET", path, NULL, NULL, 0);
  ck_assert_uint_eq(r.status, 200);
  api_response_free(&r);
  /* A fraction, kept to the microsecond. */
  r = control_call("POST", "/_emulator/clock/advance", "{\"seconds\": 86400.5}",
                   NULL, "::1");
  ck_assert_uint_eq(r.status, 200);
  ck_assert(json_real_value(json_object_get(r.body, "advancedSeconds")) ==
            86400.5);
  ck_assert_int_ge(json_integer_value(json_object_get(r.body, "jobsRun")), 1);
  ck_assert(json_is_false(json_object_get(r.body, "moreDue")));
  double offset = json_real_value(json_object_get(r.body, "offsetSeconds"));
  ck_assert_msg(offset == 90000.5, "offset %f", offset);
  int64_t ms = json_integer_value(json_object_get(r.body, "epochMilliseconds"));
  ck_assert_int_ge(ms, before / 1000 + 90000500);
  api_response_free(&r);
  /* Gone before the answer came: nothing waited for the engine thread
   * (which this process does not even run). */
  r = call("GET", path, NULL, NULL, 0);
  ck_assert_uint_eq(r.status, 404);
  api_response_free(&r);
  clock_shift_us(-clock_offset_us());
}
END_TEST

/* A job kind that schedules the next link of a chain: links 1..5 are due at
 * once, link 6 an hour later. */
static int chain_runs;
static store_status chain_step(store *s, const store_job *job, int64_t now_us) {
  chain_runs++;
  int n = atoi(job->target_id);
  if (n >= 6)
    return STORE_ONE;
  char next[16];
  snprintf(next, sizeof next, "%d", n + 1);
  return store_job_add(s, "chain", next, "",
                       n + 1 == 6 ? now_us + 3600000000LL : now_us);
}

static store_status chain_start(store *s, void *arg) {
  (void)arg;
  return store_job_add(s, "chain", "1", "", clock_now_us() + 60000000);
}

START_TEST(run_due_now_runs_what_jobs_make_due) {
  engine_register("chain", chain_step);
  ck_assert_int_eq(store_write_tx(chain_start, NULL), STORE_ONE);
  bool more = true;
  ck_assert_int_eq(engine_run_due_now(0, &more), 0);
  ck_assert(!more);
  clock_shift_us(60000000);
  /* Link 1 is due; it makes 2 due at once, and so on to 5; 6 is not. */
  ck_assert_int_eq(engine_run_due_now(0, &more), 5);
  ck_assert_int_eq(chain_runs, 5);
  ck_assert(!more);
  ck_assert_int_eq(engine_run_due_now(0, &more), 0);
  /* An hour on, link 6 is due; with a new chain's first link, two jobs
   * are due: a limit of one stops after link 6 and says more are due. */
  clock_shift_us(3600000000LL);
  ck_assert_int_eq(store_write_tx(chain_start, NULL), STORE_ONE);
  clock_shift_us(60000000);
  ck_assert_int_eq(engine_run_due_now(1, &more), 1);
  ck_assert(more);
  ck_assert_int_eq(engine_run_due_now(0, &more), 5);
  ck_assert(!more);
  ck_assert_int_eq(chain_runs, 11);
  clock_shift_us(-clock_offset_us());
}
END_TEST

static Suite *units_suite(void) {
  Suite *s = suite_create("units");
  TCase *pure = tcase_create("pure");
  tcase_add_test(pure, ids_have_the_documented_form);
  tcase_add_test(pure, seeded_ids_repeat_and_forced_ids_are_used_once);
  tcase_add_test(pure, timestamps_match_the_reference_format);
  tcase_add_test(pure, base64_is_strict);
  tcase_add_test(pure, route_table_has_every_documented_operation);
  tcase_add_test(pure, router_matches_paths_with_and_without_v1);
  tcase_add_test(pure, router_method_lists_follow_the_route_table);
  tcase_add_test(pure, path_ids_are_checked_against_their_kind);
  tcase_add_test(pure, scopes_match_whole_words);
  tcase_add_test(pure, old_databases_are_upgraded_in_place);
  tcase_add_test(pure, auth_schemes_are_case_insensitive_with_ows);
  tcase_add_test(pure, token_parameters_are_held_whole);
  tcase_add_test(pure, allowances_beyond_64_bits_are_refused);
  tcase_add_test(pure, bootstrap_refuses_credentials_the_store_would_cut);
  tcase_add_test(pure, stored_nulls_and_whole_reals_are_migrated);
  suite_add_tcase(s, pure);
  TCase *handlers = tcase_create("handlers");
  tcase_add_checked_fixture(handlers, store_setup, store_teardown);
  tcase_set_timeout(handlers, 60);
  tcase_add_test(handlers, handlers_run_without_sockets);
  tcase_add_test(handlers, control_api_is_loopback_or_admin_only);
  tcase_add_test(handlers, control_api_advance_runs_due_jobs_before_it_answers);
  tcase_add_test(handlers, run_due_now_runs_what_jobs_make_due);
  tcase_add_test(handlers, failed_writes_leave_nothing_behind);
  tcase_add_test(handlers, every_embedded_schema_compiles);
  tcase_add_test(handlers, shared_loads_are_not_copies_and_copies_stay_own);
  tcase_add_test(handlers, prepared_predictions_stand_only_on_unchanged_inputs);
  tcase_add_test(handlers, page_tokens_resist_tampering);
  tcase_add_test(handlers, whole_reals_count_as_the_integers_they_are);
  tcase_add_test(handlers, user_numbers_never_overflow);
  tcase_add_test(handlers, unset_optional_fields_are_omitted);
  tcase_add_test(handlers, every_json_text_is_parsed);
  tcase_add_test(handlers, oauth_clients_may_form_encode_their_credentials);
  suite_add_tcase(s, handlers);
  return s;
}

int main(void) {
  return ck_run(units_suite(), CK_NORMAL);
}
