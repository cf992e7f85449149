/* Unit tests: IDs, codecs, routing, pagination tokens, scopes, and handlers
 * driven through the dispatcher without sockets. */
#include "auth/auth.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/config.h"
#include "core/embedded.h"
#include "core/ids.h"
#include "resources/bootstrap.h"
#include "resources/paging.h"
#include "routing/dispatch.h"
#include "routing/router.h"
#include "storage/store.h"
#include "validation/schemas.h"

#include <check.h>
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
  ck_assert(!ids_valid("document", "las:document:ABCDEF0123456789abcdef0123456789"));
  ck_assert(!ids_valid("document", "las:document:abc"));
  ck_assert(!ids_valid("document", "las:document:0123456789abcdef0123456789abcdef0"));
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
  ck_assert_ptr_null(codec_b64_decode_alloc("aGVsbG9=", 8, &len)); /* stray bits */
  char *text = codec_b64_encode_alloc("\x89PNG", 4);
  ck_assert_str_eq(text, "iVBORw==");
  free(text);
}
END_TEST

/* ---- routing ---- */

START_TEST(route_table_has_every_documented_operation) {
  size_t ops = 0, options = 0;
  for (size_t i = 0; i < routes_count; i++) {
    if (strcmp(routes[i].method, "OPTIONS") == 0)
      options++;
    else if (!(routes[i].flags & ROUTE_PUBLIC) ||
             strcmp(routes[i].path, "/signup") == 0)
      ops++;
  }
  ck_assert_uint_eq(ops, 65);
  ck_assert_uint_eq(options, 31);
  /* Every non-public route names the scope a token needs. */
  for (size_t i = 0; i < routes_count; i++)
    if (!(routes[i].flags & ROUTE_PUBLIC))
      ck_assert_ptr_nonnull(routes[i].scope);
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
                      strcmp(path, "/oauth2/token");
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
  ck_assert(auth_scope_granted("a api.lucidtech.ai/models:read b", "models:read"));
  ck_assert(!auth_scope_granted("api.lucidtech.ai/models:write", "models:read"));
  ck_assert(!auth_scope_granted("api.lucidtech.ai/models:readx", "models:read"));
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

static api_response call(const char *method, const char *path,
                         const char *body, const api_param *query,
                         size_t n_query) {
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
    api_response r = call("POST", "/assets", "{\"content\":\"aGVsbG8=\"}", NULL, 0);
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
  ck_assert_int_eq(sqlite3_exec(db, embedded_migrations[0].text, NULL, NULL,
                                NULL),
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
  sqlite3_prepare_v2(db,
                     "SELECT count(*), max(version) FROM schema_migrations",
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

static Suite *units_suite(void) {
  Suite *s = suite_create("units");
  TCase *pure = tcase_create("pure");
  tcase_add_test(pure, ids_have_the_documented_form);
  tcase_add_test(pure, timestamps_match_the_reference_format);
  tcase_add_test(pure, base64_is_strict);
  tcase_add_test(pure, route_table_has_every_documented_operation);
  tcase_add_test(pure, router_matches_paths_with_and_without_v1);
  tcase_add_test(pure, router_method_lists_follow_the_route_table);
  tcase_add_test(pure, path_ids_are_checked_against_their_kind);
  tcase_add_test(pure, scopes_match_whole_words);
  tcase_add_test(pure, old_databases_are_upgraded_in_place);
  suite_add_tcase(s, pure);
  TCase *handlers = tcase_create("handlers");
  tcase_add_checked_fixture(handlers, store_setup, store_teardown);
  tcase_set_timeout(handlers, 60);
  tcase_add_test(handlers, handlers_run_without_sockets);
  tcase_add_test(handlers, failed_writes_leave_nothing_behind);
  tcase_add_test(handlers, page_tokens_resist_tampering);
  suite_add_tcase(s, handlers);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(units_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
