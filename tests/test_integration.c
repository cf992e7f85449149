/* Integration tests: the real las-emulator binary, started as a child process
 * on a fresh database, driven over HTTP exactly as a client would.
 *
 * Most test cases share one server (an unchecked fixture starts it in the
 * runner process; tests run in forked children). Tests that need an empty
 * organization sign one up, so they never see each other's objects. Tests of
 * the process itself (kill -9, flags) start their own servers. Every shared
 * server's exit status after SIGTERM is checked by the last test case.
 *
 * Every EXPECT* also checks what all answers share: a JSON object body,
 * Access-Control-Allow-Origin: *, and a string `message` on errors. */
#include "it_client.h"

#include <check.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "ck_run.h"

#define HEX32 "0123456789abcdef0123456789abcdef"

enum { ID_LEN = 64, PATH_LEN = 1024 };

/* ------------------------------------------------------------------ */
/* the shared server of the current test case                          */

static it_server g_srv;
static it_session g_boot; /* the bootstrap organization's app client */
static int g_servers_started, g_servers_stopped;
static char g_exit_problems[2048];

static void shared_server_start(const char *const *flags) {
  ck_assert_msg(it_server_start(&g_srv, flags), "the server did not start");
  g_servers_started++;
  ck_assert_msg(it_login_bootstrap(&g_srv, &g_boot),
                "no token for the bootstrap client");
}

static void shared_setup(void) {
  shared_server_start(NULL);
}

static void shared_setup_small_bodies(void) {
  static const char *const flags[] = {"--max-body-bytes", "4096", NULL};
  shared_server_start(flags);
}

/* Runs in the runner process, where failures do not count: the exit status
 * is remembered for test_shared_servers_exit_cleanly. */
static void shared_teardown(void) {
  if (!g_srv.pid)
    return;
  int status = it_server_stop(&g_srv);
  g_servers_stopped++;
  if (status != 0) {
    size_t used = strlen(g_exit_problems);
    snprintf(g_exit_problems + used, sizeof g_exit_problems - used,
             "server on port %u exited with %d after SIGTERM; ", g_srv.port,
             status);
  }
  it_server_cleanup(&g_srv);
}

/* ------------------------------------------------------------------ */
/* assertions                                                          */

/* What every response must be: JSON, with CORS, errors with a message. */
static const char *response_problem(const it_response *r) {
  if (r->status == 0)
    return r->error[0] ? r->error : "no response";
  if (strcmp(r->cors_origin, "*") != 0)
    return "no Access-Control-Allow-Origin: *";
  if (strncmp(r->content_type, "application/json", 16) != 0)
    return "Content-Type is not application/json";
  if (!json_is_object(r->json))
    return "the body is not a JSON object";
  if (r->status >= 400 && !json_is_string(json_object_get(r->json, "message")))
    return "an error without a string `message`";
  return NULL;
}

static void expect_at(const char *file, int line, const it_response *r,
                      long status) {
  const char *problem = response_problem(r);
  ck_assert_msg(r->status == status && !problem,
                "%s:%d: %s: expected %ld, got %ld%s%s: %.800s", file, line,
                r->what, status, r->status, problem ? "; " : "",
                problem ? problem : "", r->body);
}

static void expect_free_at(const char *file, int line, it_response *r,
                           long status) {
  expect_at(file, line, r, status);
  it_response_free(r);
}

/* The body as a NEW reference. */
static json_t *expect_json_at(const char *file, int line, it_response *r,
                              long status) {
  expect_at(file, line, r, status);
  json_t *body = json_incref(r->json);
  it_response_free(r);
  return body;
}

/* message NULL: any message; otherwise exactly this one. */
static void expect_error_at(const char *file, int line, it_response *r,
                            long status, const char *message) {
  expect_at(file, line, r, status);
  const char *got = it_str(r->json, "message");
  ck_assert_msg(!message || strcmp(got, message) == 0,
                "%s:%d: %s: message \"%s\", expected \"%s\"", file, line,
                r->what, got, message);
  it_response_free(r);
}

/* Error message starting with prefix. */
static void expect_error_prefix_at(const char *file, int line, it_response *r,
                                   long status, const char *prefix) {
  expect_at(file, line, r, status);
  const char *got = it_str(r->json, "message");
  ck_assert_msg(strncmp(got, prefix, strlen(prefix)) == 0,
                "%s:%d: %s: message \"%s\" does not start with \"%s\"", file,
                line, r->what, got, prefix);
  it_response_free(r);
}

/* The body must be exactly `expected` (a JSON text). */
static void expect_body_at(const char *file, int line, it_response *r,
                           long status, const char *expected) {
  expect_at(file, line, r, status);
  json_t *want = json_loads(expected, 0, NULL);
  ck_assert_msg(want && json_equal(want, r->json),
                "%s:%d: %s: body %s, expected %s", file, line, r->what, r->body,
                expected);
  json_decref(want);
  it_response_free(r);
}

/* obj[key] is the string want, or JSON null when want is NULL. */
static void expect_str_at(const char *file, int line, const json_t *obj,
                          const char *key, const char *want) {
  json_t *v = json_object_get(obj, key);
  bool ok = want ? json_is_string(v) && strcmp(json_string_value(v), want) == 0
                 : json_is_null(v);
  if (!ok) {
    char *dump = json_dumps(obj, JSON_COMPACT);
    ck_assert_msg(ok, "%s:%d: %s should be %s%s%s in %.800s", file, line, key,
                  want ? "\"" : "", want ? want : "null", want ? "\"" : "",
                  dump);
    free(dump);
  }
}

static void expect_int_at(const char *file, int line, const json_t *obj,
                          const char *key, json_int_t want) {
  json_t *v = json_object_get(obj, key);
  if (!json_is_integer(v) || json_integer_value(v) != want) {
    char *dump = json_dumps(obj, JSON_COMPACT);
    ck_assert_msg(0, "%s:%d: %s should be %lld in %.800s", file, line, key,
                  (long long)want, dump);
    free(dump);
  }
}

#define EXPECT(r, status) expect_free_at(__FILE__, __LINE__, (r), (status))
#define EXPECT_JSON(r, status) expect_json_at(__FILE__, __LINE__, (r), (status))
#define EXPECT_ERROR(r, status, msg)                                           \
  expect_error_at(__FILE__, __LINE__, (r), (status), (msg))
#define EXPECT_ERROR_PREFIX(r, status, prefix)                                 \
  expect_error_prefix_at(__FILE__, __LINE__, (r), (status), (prefix))
#define EXPECT_BODY(r, status, text)                                           \
  expect_body_at(__FILE__, __LINE__, (r), (status), (text))
#define EXPECT_STR(obj, key, want)                                             \
  expect_str_at(__FILE__, __LINE__, (obj), (key), (want))
/* The reference makes unset optional fields absent, not null. */
#define EXPECT_ABSENT(obj, key)                                                \
  do {                                                                         \
    char *dump_ = json_dumps((obj), JSON_COMPACT);                             \
    ck_assert_msg(!json_object_get((obj), (key)),                              \
                  "%s should be absent in %.800s", (key), dump_);              \
    free(dump_);                                                               \
  } while (0)
#define EXPECT_INT(obj, key, want)                                             \
  expect_int_at(__FILE__, __LINE__, (obj), (key), (want))
#define EXPECT_FORBIDDEN(r)                                                    \
  EXPECT_BODY((r), 403, "{\"message\": \"Forbidden\"}")
#define EXPECT_NOT_FOUND(r)                                                    \
  EXPECT_BODY((r), 404, "{\"message\": \"Not Found\"}")

/* ------------------------------------------------------------------ */
/* fixtures of data                                                    */

static const char pdf_bytes[] = "%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n";
static const char png_bytes[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01";
static const char jpeg_bytes[] = "\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01";
static const char tiff_bytes[] = "II*\0\x08\0\0\0\x01\0";

#define BYTES(array) (array), (sizeof(array) - 1)

static json_t *document_body(const char *content_type, const void *bytes,
                             size_t len) {
  char *b64 = it_b64_encode(bytes, len);
  json_t *body =
      json_pack("{s:s, s:s}", "contentType", content_type, "content", b64);
  free(b64);
  return body;
}

static json_t *pdf_document(void) {
  return document_body("application/pdf", BYTES(pdf_bytes));
}

static json_t *model_body(void) {
  return json_pack("{s:i, s:i, s:{s:{s:s, s:i}}}", "width", 300, "height", 200,
                   "fieldConfig", "total", "type", "amount", "maxLength", 10);
}

static json_t *asset_body(const char *name) {
  return json_pack("{s:s, s:s}", "name", name, "content", "aGVsbG8gd29ybGQ=");
}

/* Creates an object and copies the value of id_field into id. */
static void create_id(const it_session *s, const char *path, json_t *body,
                      const char *id_field, char id[ID_LEN]) {
  json_t *obj = EXPECT_JSON(it_send(s, "POST", body, "%s", path), 200);
  const char *value = it_str(obj, id_field);
  ck_assert_msg(value, "POST %s: no %s", path, id_field);
  snprintf(id, ID_LEN, "%s", value);
  json_decref(obj);
}

/* A session in a new, empty organization. */
static void fresh_org(it_session *s, char org_id[ID_LEN]) {
  ck_assert_msg(it_signup(&g_srv, s, org_id), "signup failed");
}

/* Whether a list of objects holds one whose id_field is id. */
static bool holds(const json_t *items, const char *id_field, const char *id) {
  size_t i;
  json_t *item;
  json_array_foreach(items, i, item) {
    const char *value = it_str(item, id_field);
    if (value && strcmp(value, id) == 0)
      return true;
  }
  return false;
}

/* `base` + maxResults and, when given, nextToken. */
static void page_path(char *out, const char *base, int max, const char *token) {
  char *enc = token ? it_url_encode(token) : NULL;
  int n = snprintf(out, PATH_LEN, "%s%smaxResults=%d%s%s", base,
                   strchr(base, '?') ? "&" : "?", max, enc ? "&nextToken=" : "",
                   enc ? enc : "");
  free(enc);
  ck_assert_msg(n > 0 && n < PATH_LEN, "path too long");
}

/* Walks a list with maxResults=max and returns all its items (NEW). Every
 * page must be full but the last, whose nextToken is null. */
static json_t *list_all(const it_session *s, const char *base,
                        const char *field, int max) {
  json_t *all = json_array();
  char *token = NULL;
  for (int pages = 0;; pages++) {
    ck_assert_msg(pages < 1000, "GET %s: the list does not end", base);
    char path[PATH_LEN];
    page_path(path, base, max, token);
    json_t *page = EXPECT_JSON(it_get(s, "%s", path), 200);
    json_t *items = json_object_get(page, field);
    json_t *next = json_object_get(page, "nextToken");
    ck_assert_msg(json_is_array(items), "GET %s: no %s array", path, field);
    ck_assert_msg(next && (json_is_null(next) || json_is_string(next)),
                  "GET %s: nextToken missing or not a string/null", path);
    ck_assert_msg(json_array_size(items) <= (size_t)max,
                  "GET %s: %zu items on a page of %d", path,
                  json_array_size(items), max);
    ck_assert_msg(json_is_null(next) || json_array_size(items) == (size_t)max,
                  "GET %s: a short page that is not the last", path);
    json_array_extend(all, items);
    free(token);
    token = json_is_string(next) ? strdup(json_string_value(next)) : NULL;
    json_decref(page);
    if (!token)
      return all;
  }
}

/* ------------------------------------------------------------------ */
/* the documented operations                                           */

typedef struct {
  const char *method;
  const char *path; /* template */
  const char *body; /* JSON text, NULL for none */
  long status;      /* answer when every id in the path is well-formed but
                       names nothing; 0: not sent by the table tests */
} operation;

static const operation operations[] = {
    {"GET", "/appClients", NULL, 200},
    {"POST", "/appClients", "{}", 200},
    {"DELETE", "/appClients/{appClientId}", NULL, 404},
    {"PATCH", "/appClients/{appClientId}", "{\"name\": \"n\"}", 404},
    {"GET", "/assets", NULL, 200},
    {"POST", "/assets", "{\"content\": \"aGVsbG8=\"}", 200},
    {"DELETE", "/assets/{assetId}", NULL, 404},
    {"GET", "/assets/{assetId}", NULL, 404},
    {"PATCH", "/assets/{assetId}", "{\"name\": \"n\"}", 404},
    {"GET", "/datasets", NULL, 200},
    {"POST", "/datasets", "{}", 200},
    {"DELETE", "/datasets/{datasetId}", NULL, 404},
    {"GET", "/datasets/{datasetId}", NULL, 404},
    {"PATCH", "/datasets/{datasetId}", "{\"name\": \"n\"}", 404},
    {"DELETE", "/documents", NULL, 200},
    {"GET", "/documents", NULL, 200},
    {"POST", "/documents",
     "{\"contentType\": \"application/pdf\", \"content\": \"JVBERi0xLjQK\"}",
     200},
    {"DELETE", "/documents/{documentId}", NULL, 404},
    {"GET", "/documents/{documentId}", NULL, 404},
    {"PATCH", "/documents/{documentId}", "{\"retentionInDays\": 5}", 404},
    {"GET", "/logs", NULL, 200},
    {"GET", "/logs/{logId}", NULL, 404},
    {"GET", "/models", NULL, 200},
    {"POST", "/models",
     "{\"width\": 100, \"height\": 100, \"fieldConfig\": {}}", 200},
    {"DELETE", "/models/{modelId}", NULL, 404},
    {"GET", "/models/{modelId}", NULL, 404},
    {"PATCH", "/models/{modelId}", "{\"name\": \"n\"}", 404},
    {"GET", "/models/{modelId}/dataBundles", NULL, 404},
    {"POST", "/models/{modelId}/dataBundles",
     "{\"datasetIds\": [\"las:dataset:" HEX32 "\"]}", 404},
    {"DELETE", "/models/{modelId}/dataBundles/{dataBundleId}", NULL, 404},
    {"PATCH", "/models/{modelId}/dataBundles/{dataBundleId}",
     "{\"name\": \"n\"}", 404},
    {"OPTIONS", "/organizations", NULL, 0}, /* nothing but OPTIONS */
    {"GET", "/organizations/{organizationId}", NULL, 404},
    {"PATCH", "/organizations/{organizationId}", "{\"name\": \"n\"}", 404},
    {"GET", "/predictions", NULL, 200},
    {"POST", "/predictions",
     "{\"documentId\": \"las:document:" HEX32
     "\", \"modelId\": \"las:model:" HEX32 "\"}",
     400},
    {"GET", "/secrets", NULL, 200},
    {"POST", "/secrets", "{\"data\": {\"k\": \"v\"}}", 200},
    {"DELETE", "/secrets/{secretId}", NULL, 404},
    {"PATCH", "/secrets/{secretId}", "{\"name\": \"n\"}", 404},
    {"POST", "/signup", NULL, 0}, /* see test_signup_and_password_grant */
    {"GET", "/transitions", NULL, 200},
    {"POST", "/transitions", "{\"transitionType\": \"manual\"}", 200},
    {"DELETE", "/transitions/{transitionId}", NULL, 404},
    {"GET", "/transitions/{transitionId}", NULL, 404},
    {"PATCH", "/transitions/{transitionId}", "{\"name\": \"n\"}", 404},
    {"GET", "/transitions/{transitionId}/executions", NULL, 404},
    {"POST", "/transitions/{transitionId}/executions", "{}", 404},
    {"GET", "/transitions/{transitionId}/executions/{executionId}", NULL, 404},
    {"PATCH", "/transitions/{transitionId}/executions/{executionId}",
     "{\"status\": \"succeeded\"}", 404},
    {"POST", "/transitions/{transitionId}/executions/{executionId}/heartbeats",
     "{}", 404},
    {"GET", "/users", NULL, 200},
    {"POST", "/users", "{\"email\": \"someone@example.com\"}", 200},
    {"DELETE", "/users/{userId}", NULL, 404},
    {"GET", "/users/{userId}", NULL, 404},
    {"PATCH", "/users/{userId}", "{\"name\": \"n\"}", 404},
    {"GET", "/workflows", NULL, 200},
    {"POST", "/workflows",
     "{\"specification\": {\"definition\": {\"StartAt\": \"S\", "
     "\"States\": {\"S\": {\"Type\": \"Succeed\"}}}}}",
     200},
    {"DELETE", "/workflows/{workflowId}", NULL, 404},
    {"GET", "/workflows/{workflowId}", NULL, 404},
    {"PATCH", "/workflows/{workflowId}", "{\"name\": \"n\"}", 404},
    {"GET", "/workflows/{workflowId}/executions", NULL, 404},
    {"POST", "/workflows/{workflowId}/executions", "{\"input\": {}}", 404},
    {"DELETE", "/workflows/{workflowId}/executions/{executionId}", NULL, 404},
    {"GET", "/workflows/{workflowId}/executions/{executionId}", NULL, 404},
    {"PATCH", "/workflows/{workflowId}/executions/{executionId}",
     "{\"nextTransitionId\": \"las:transition:" HEX32 "\"}", 404},
};
#define N_OPERATIONS (sizeof operations / sizeof operations[0])

/* The id kind of a path parameter (as in the API's ID patterns). */
static const char *param_kind(const char *tpl, const char *name) {
  static const char *const kinds[][2] = {
      {"appClientId", "app-client"},
      {"assetId", "asset"},
      {"datasetId", "dataset"},
      {"documentId", "document"},
      {"logId", "log"},
      {"modelId", "model"},
      {"dataBundleId", "model-data-bundle"},
      {"organizationId", "organization"},
      {"secretId", "secret"},
      {"transitionId", "transition"},
      {"userId", "user"},
      {"workflowId", "workflow"},
  };
  if (strcmp(name, "executionId") == 0)
    return strncmp(tpl, "/transitions", 12) == 0 ? "transition-execution"
                                                 : "workflow-execution";
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (strcmp(kinds[i][0], name) == 0)
      return kinds[i][1];
  return "unknown";
}

/* Fills a template's parameters with well-formed ids; the parameter named
 * `bad` (may be NULL) gets a malformed one. */
static void expand(const char *tpl, const char *bad, char *out, size_t len) {
  size_t o = 0;
  for (const char *p = tpl; *p && o + 1 < len;) {
    if (*p != '{') {
      out[o++] = *p++;
      continue;
    }
    const char *end = strchr(p, '}');
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(end - p - 1), p + 1);
    int n = bad && strcmp(bad, name) == 0
                ? snprintf(out + o, len - o, "not-an-id")
                : snprintf(out + o, len - o, "las:%s:%s", param_kind(tpl, name),
                           HEX32);
    o += n > 0 ? (size_t)n : 0;
    p = end + 1;
  }
  out[o < len ? o : len - 1] = '\0';
}

/* The distinct path templates, in table order; returns how many. */
static size_t documented_paths(const char *paths[N_OPERATIONS]) {
  size_t n = 0;
  for (size_t i = 0; i < N_OPERATIONS; i++) {
    bool seen = false;
    for (size_t k = 0; k < n && !seen; k++)
      seen = strcmp(paths[k], operations[i].path) == 0;
    if (!seen)
      paths[n++] = operations[i].path;
  }
  return n;
}

static it_response *send_raw(const it_session *s, const char *method,
                             const char *path, const char *body) {
  it_request r = {.method = method,
                  .path = path,
                  .token = s ? s->token : NULL,
                  .api_key = s ? s->api_key : NULL,
                  .content_type = body ? "application/json" : NULL,
                  .body = body};
  return it_request_send(&g_srv, &r);
}

/* Whether a comma separated header value lists item (case-insensitive). */
static bool header_lists(const char *value, const char *item) {
  char copy[512];
  snprintf(copy, sizeof copy, "%s", value);
  char *save = NULL;
  for (char *t = strtok_r(copy, ", ", &save); t;
       t = strtok_r(NULL, ", ", &save))
    if (strcasecmp(t, item) == 0)
      return true;
  return false;
}

static size_t header_count(const char *value) {
  char copy[512];
  snprintf(copy, sizeof copy, "%s", value);
  char *save = NULL;
  size_t n = 0;
  for (char *t = strtok_r(copy, ", ", &save); t;
       t = strtok_r(NULL, ", ", &save))
    n++;
  return n;
}

static const char *const prefixes[] = {"", "/v1"};

/* ------------------------------------------------------------------ */
/* routing                                                             */

START_TEST(test_every_operation_at_both_prefixes) {
  it_session s;
  fresh_org(&s, NULL);
  for (size_t p = 0; p < 2; p++) {
    for (size_t i = 0; i < N_OPERATIONS; i++) {
      const operation *op = &operations[i];
      if (!op->status)
        continue;
      char path[PATH_LEN];
      size_t n = (size_t)snprintf(path, sizeof path, "%s", prefixes[p]);
      expand(op->path, NULL, path + n, sizeof path - n);
      it_response *r = send_raw(&s, op->method, path, op->body);
      if (op->status == 404)
        EXPECT_NOT_FOUND(r);
      else
        EXPECT(r, op->status);
    }
  }
}
END_TEST

/* Each path parameter in turn gets a malformed id (under alternating
 * prefixes): 400 naming the parameter and its pattern. */
START_TEST(test_malformed_path_ids_are_400) {
  for (size_t i = 0; i < N_OPERATIONS; i++) {
    const operation *op = &operations[i];
    for (const char *p = strchr(op->path, '{'); p; p = strchr(p + 1, '{')) {
      char name[64], path[PATH_LEN], message[256];
      snprintf(name, sizeof name, "%.*s", (int)(strchr(p, '}') - p - 1), p + 1);
      size_t n = (size_t)snprintf(path, sizeof path, "%s", prefixes[i % 2]);
      expand(op->path, name, path + n, sizeof path - n);
      snprintf(message, sizeof message,
               "%s: must match pattern ^las:%s:[a-f0-9]{32}$", name,
               param_kind(op->path, name));
      EXPECT_ERROR(send_raw(&g_boot, op->method, path, op->body), 400, message);
    }
  }
}
END_TEST

START_TEST(test_ids_of_the_wrong_kind_are_400) {
  EXPECT_ERROR(it_get(&g_boot, "/models/las:dataset:" HEX32), 400,
               "modelId: must match pattern ^las:model:[a-f0-9]{32}$");
  EXPECT_ERROR(it_get(&g_boot, "/models/las:model:" HEX32 "0"), 400,
               "modelId: must match pattern ^las:model:[a-f0-9]{32}$");
  EXPECT_ERROR(
      it_get(&g_boot, "/models/las:model:0123456789ABCDEF0123456789abcdef"),
      400, "modelId: must match pattern ^las:model:[a-f0-9]{32}$");
}
END_TEST

/* An id far longer than any valid one still gets its pattern message. */
START_TEST(test_overlong_path_ids_are_400) {
  char id[700], path[PATH_LEN];
  memset(id, 'a', sizeof id - 1);
  id[sizeof id - 1] = '\0';
  snprintf(path, sizeof path, "/models/las:model:%s", id);
  EXPECT_ERROR(it_get(&g_boot, "%s", path), 400,
               "modelId: must match pattern ^las:model:[a-f0-9]{32}$");
  snprintf(path, sizeof path, "/v1/assets/%s", id);
  EXPECT_ERROR(it_delete(&g_boot, "%s", path), 400,
               "assetId: must match pattern ^las:asset:[a-f0-9]{32}$");
}
END_TEST

/* Query parameters after the 64th are still read (a bad maxResults among
 * them is refused), not silently dropped. */
START_TEST(test_query_parameters_beyond_64_are_not_dropped) {
  char path[PATH_LEN];
  size_t n = (size_t)snprintf(path, sizeof path, "/models?");
  for (int i = 0; i < 64; i++)
    n += (size_t)snprintf(path + n, sizeof path - n, "p%d=1&", i);
  snprintf(path + n, sizeof path - n, "maxResults=abc");
  EXPECT(it_get(&g_boot, "%s", path), 400);
}
END_TEST

START_TEST(test_options_on_every_documented_path) {
  const char *paths[N_OPERATIONS];
  size_t n = documented_paths(paths);
  ck_assert_uint_eq(n, 31);
  for (size_t p = 0; p < 2; p++) {
    for (size_t i = 0; i < n; i++) {
      char path[PATH_LEN];
      size_t used = (size_t)snprintf(path, sizeof path, "%s", prefixes[p]);
      expand(paths[i], NULL, path + used, sizeof path - used);
      it_response *r = send_raw(NULL, "OPTIONS", path, NULL);
      expect_at(__FILE__, __LINE__, r, 200);
      ck_assert_msg(json_object_size(r->json) == 0, "%s: body %s", r->what,
                    r->body);
      static const char *const headers[] = {"Authorization", "Content-Type",
                                            "x-api-key"};
      for (size_t h = 0; h < sizeof headers / sizeof headers[0]; h++)
        ck_assert_msg(header_lists(r->cors_headers, headers[h]),
                      "%s: Access-Control-Allow-Headers \"%s\" lacks %s",
                      r->what, r->cors_headers, headers[h]);
      for (size_t k = 0; k < N_OPERATIONS; k++)
        if (strcmp(operations[k].path, paths[i]) == 0)
          ck_assert_msg(header_lists(r->cors_methods, operations[k].method),
                        "%s: Access-Control-Allow-Methods \"%s\" lacks %s",
                        r->what, r->cors_methods, operations[k].method);
      it_response_free(r);
    }
  }
}
END_TEST

/* An undocumented method: 405 and an Allow header naming exactly the
 * documented methods of the path (and OPTIONS, and HEAD where GET is). */
START_TEST(test_undocumented_methods_are_405_with_allow) {
  const char *paths[N_OPERATIONS];
  size_t n = documented_paths(paths);
  for (size_t i = 0; i < n; i++) {
    char path[PATH_LEN];
    expand(paths[i], NULL, path, sizeof path);
    it_response *r = send_raw(&g_boot, "PUT", path, "{}");
    expect_at(__FILE__, __LINE__, r, 405);
    size_t expected = 1;
    ck_assert_msg(header_lists(r->allow, "OPTIONS"), "%s: Allow \"%s\"",
                  r->what, r->allow);
    for (size_t k = 0; k < N_OPERATIONS; k++) {
      if (strcmp(operations[k].path, paths[i]) != 0 ||
          strcmp(operations[k].method, "OPTIONS") == 0)
        continue;
      expected += strcmp(operations[k].method, "GET") == 0 ? 2 : 1;
      ck_assert_msg(header_lists(r->allow, operations[k].method),
                    "%s: Allow \"%s\" lacks %s", r->what, r->allow,
                    operations[k].method);
    }
    ck_assert_msg(header_count(r->allow) == expected,
                  "%s: Allow \"%s\" should list %zu methods", r->what, r->allow,
                  expected);
    it_response_free(r);
  }
  /* A few undocumented methods on documented paths. */
  EXPECT(it_get(&g_boot, "/secrets/las:secret:" HEX32), 405);
  EXPECT(it_get(&g_boot, "/v1/organizations"), 405);
  EXPECT(it_send(&g_boot, "POST", json_object(), "/health"), 405);
  EXPECT(it_delete(&g_boot, "/appClients"), 405);
}
END_TEST

START_TEST(test_unknown_paths_are_404) {
  static const char *const paths[] = {
      "/nothing",      "/v1/nothing",
      "/v2/models",    "/models/las:model:" HEX32 "/x",
      "/v1/v1/models", "/Models",
      "/batches",      "/"};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    EXPECT_NOT_FOUND(it_get(&g_boot, "%s", paths[i]));
    EXPECT_NOT_FOUND(send_raw(NULL, "OPTIONS", paths[i], NULL));
  }
}
END_TEST

START_TEST(test_health_needs_no_auth) {
  it_session anon = {.srv = &g_srv};
  EXPECT(it_get(&anon, "/health"), 200);
  EXPECT(it_get(&anon, "/v1/health"), 200);
}
END_TEST

START_TEST(test_api_routes_need_auth) {
  it_session anon = {.srv = &g_srv};
  EXPECT_FORBIDDEN(it_get(&anon, "/logs"));
  EXPECT_FORBIDDEN(it_get(&anon, "/v1/workflows"));
  EXPECT_FORBIDDEN(it_send(&anon, "POST",
                           json_pack("{s:s}", "transitionType", "manual"),
                           "/transitions"));
}
END_TEST

START_TEST(test_cors_origin_on_token_and_media_errors) {
  /* EXPECT* checks Access-Control-Allow-Origin on every response; these are
   * kinds of answer the other tests of this case do not meet. */
  it_request token = {.method = "POST",
                      .path = "/oauth2/token?grant_type=client_credentials",
                      .authorization = "Basic bm9ib2R5Om5vdGhpbmc=",
                      .content_type = "application/x-www-form-urlencoded",
                      .body = ""};
  EXPECT(it_request_send(&g_srv, &token), 401);
  it_request text = {.method = "POST",
                     .path = "/models",
                     .token = g_boot.token,
                     .api_key = g_boot.api_key,
                     .content_type = "text/plain",
                     .body = "{}"};
  EXPECT(it_request_send(&g_srv, &text), 415);
}
END_TEST

/* ------------------------------------------------------------------ */
/* request bodies and validation                                       */

static it_response *post_typed(const char *path, const char *content_type,
                               const char *body, const char *method) {
  it_request r = {.method = method,
                  .path = path,
                  .token = g_boot.token,
                  .api_key = g_boot.api_key,
                  .content_type = content_type,
                  .body = body};
  return it_request_send(&g_srv, &r);
}

START_TEST(test_bodies_must_be_json) {
  const char *model = "{\"width\": 100, \"height\": 100, \"fieldConfig\": {}}";
  EXPECT(post_typed("/models", "text/plain", model, "POST"), 415);
  EXPECT(post_typed("/models", "", model, "POST"), 415);
  EXPECT(
      post_typed("/models", "application/x-www-form-urlencoded", model, "POST"),
      415);
  EXPECT(post_typed("/models", "application/jsonx", model, "POST"), 415);
  EXPECT(post_typed("/v1/datasets", "text/json", "{}", "POST"), 415);
  EXPECT(
      post_typed("/models", "application/json; charset=utf-8", model, "POST"),
      200);
  EXPECT(post_typed("/models", "Application/JSON", model, "POST"), 200);

  char id[ID_LEN], path[PATH_LEN];
  create_id(&g_boot, "/datasets", json_object(), "datasetId", id);
  snprintf(path, sizeof path, "/datasets/%s", id);
  EXPECT(post_typed(path, "text/plain", "{\"name\": \"x\"}", "PATCH"), 415);
  json_t *ds = EXPECT_JSON(it_get(&g_boot, "%s", path), 200);
  EXPECT_STR(ds, "name", NULL);
  json_decref(ds);
}
END_TEST

START_TEST(test_malformed_json_is_400) {
  static const char *const bodies[] = {"{", "{\"name\": }", "not json",
                                       "{\"name\": \"a\"} trailing"};
  for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
    EXPECT_ERROR_PREFIX(
        post_typed("/datasets", "application/json", bodies[i], "POST"), 400,
        "body: ");
  EXPECT(post_typed("/datasets", "application/json", "", "POST"), 400);
  /* Every JSON text parses; the schema then refuses what is not an
   * object. */
  static const char *const texts[] = {"[]",    "null", "1",
                                      "\"x\"", "true", " [1, 2] "};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
    EXPECT_ERROR(post_typed("/datasets", "application/json", texts[i], "POST"),
                 400, "body: must be object");
}
END_TEST

START_TEST(test_validation_names_location_and_rule) {
  json_t *body = model_body();
  json_object_set_new(
      json_object_get(json_object_get(body, "fieldConfig"), "total"),
      "maxLength", json_integer(101));
  EXPECT_ERROR(it_send(&g_boot, "POST", body, "/models"), 400,
               "fieldConfig.total.maxLength: must be <= 100");

  body = model_body();
  json_object_del(body, "height");
  EXPECT_ERROR(it_send(&g_boot, "POST", body, "/models"), 400,
               "height: is required");

  body = model_body();
  json_object_set_new(body, "colour", json_string("blue"));
  EXPECT_ERROR(it_send(&g_boot, "POST", body, "/models"), 400,
               "colour: is not allowed");

  body = model_body();
  json_object_set_new(
      json_object_get(json_object_get(body, "fieldConfig"), "total"), "type",
      json_string("money"));
  EXPECT_ERROR_PREFIX(it_send(&g_boot, "POST", body, "/models"), 400,
                      "fieldConfig.total.type: must be one of");

  EXPECT_ERROR_PREFIX(
      it_send(&g_boot, "POST", json_pack("{s:i}", "name", 5), "/datasets"), 400,
      "name: must be");
  body = pdf_document();
  json_object_set_new(
      body, "groundTruth",
      json_pack("[{s:s, s:s}]", "label", "bad label", "value", "x"));
  EXPECT_ERROR_PREFIX(it_send(&g_boot, "POST", body, "/documents"), 400,
                      "groundTruth[0].label: ");
}
END_TEST

START_TEST(test_patch_needs_a_property) {
  char id[ID_LEN];
  create_id(&g_boot, "/datasets", json_object(), "datasetId", id);
  EXPECT(it_send(&g_boot, "PATCH", json_object(), "/datasets/%s", id), 400);
}
END_TEST

START_TEST(test_unknown_well_formed_ids_are_404) {
  EXPECT_NOT_FOUND(it_get(&g_boot, "/models/las:model:" HEX32));
  EXPECT_NOT_FOUND(it_get(&g_boot, "/v1/documents/las:document:" HEX32));
  EXPECT_NOT_FOUND(it_delete(&g_boot, "/assets/las:asset:" HEX32));
  EXPECT_NOT_FOUND(it_send(&g_boot, "PATCH", json_pack("{s:s}", "name", "x"),
                           "/secrets/las:secret:" HEX32));
}
END_TEST

/* ------------------------------------------------------------------ */
/* body size limit (server started with --max-body-bytes 4096)         */

/* A POST /assets body of exactly `size` bytes. */
static char *asset_text_of_size(size_t size) {
  const char *head = "{\"content\": \"aGk=\", \"name\": \"";
  const char *tail = "\"}";
  size_t fixed = strlen(head) + strlen(tail);
  ck_assert(size > fixed);
  char *text = malloc(size + 1);
  ck_assert(text);
  memcpy(text, head, strlen(head));
  memset(text + strlen(head), 'x', size - fixed);
  memcpy(text + size - strlen(tail), tail, strlen(tail) + 1);
  return text;
}

static size_t asset_count(const it_session *s) {
  json_t *all = list_all(s, "/assets", "assets", 1000);
  size_t n = json_array_size(all);
  json_decref(all);
  return n;
}

static it_response *post_asset_text(const char *text, bool chunked) {
  it_request r = {.method = "POST",
                  .path = "/assets",
                  .token = g_boot.token,
                  .api_key = g_boot.api_key,
                  .content_type = "application/json",
                  .body = text,
                  .chunked = chunked};
  return it_request_send(&g_srv, &r);
}

START_TEST(test_body_at_the_limit_is_accepted) {
  size_t before = asset_count(&g_boot);
  char *text = asset_text_of_size(4096);
  EXPECT(post_asset_text(text, false), 200);
  EXPECT(post_asset_text(text, true), 200);
  free(text);
  ck_assert_uint_eq(asset_count(&g_boot), before + 2);
}
END_TEST

START_TEST(test_body_over_the_limit_is_413_and_not_stored) {
  size_t before = asset_count(&g_boot);
  static const size_t sizes[] = {4097, 20000};
  for (size_t i = 0; i < 2; i++) {
    char *text = asset_text_of_size(sizes[i]);
    EXPECT_ERROR(post_asset_text(text, false), 413,
                 "body: larger than the limit of 4096 bytes "
                 "(--max-body-bytes)");
    EXPECT_ERROR(post_asset_text(text, true), 413,
                 "body: larger than the limit of 4096 bytes "
                 "(--max-body-bytes)");
    free(text);
  }
  ck_assert_uint_eq(asset_count(&g_boot), before);
  /* The server still answers afterwards. */
  EXPECT(it_send(&g_boot, "POST", asset_body("small"), "/assets"), 200);
}
END_TEST

START_TEST(test_patch_over_the_limit_changes_nothing) {
  char id[ID_LEN], path[PATH_LEN];
  create_id(&g_boot, "/assets", asset_body("before"), "assetId", id);
  snprintf(path, sizeof path, "/assets/%s", id);
  char *text = asset_text_of_size(5000);
  it_request r = {.method = "PATCH",
                  .path = path,
                  .token = g_boot.token,
                  .api_key = g_boot.api_key,
                  .content_type = "application/json",
                  .body = text};
  EXPECT(it_request_send(&g_srv, &r), 413);
  free(text);
  json_t *asset = EXPECT_JSON(it_get(&g_boot, "%s", path), 200);
  EXPECT_STR(asset, "name", "before");
  json_decref(asset);
}
END_TEST

/* ------------------------------------------------------------------ */
/* storage: ids, timestamps, lists                                     */

typedef struct {
  const char *path;
  const char *list_field;
  const char *id_field;
  const char *kind;
  const char *patch; /* JSON text */
} resource_kind;

static const resource_kind resource_kinds[] = {
    {"/appClients", "appClients", "appClientId", "app-client",
     "{\"name\": \"renamed\"}"},
    {"/assets", "assets", "assetId", "asset", "{\"name\": \"renamed\"}"},
    {"/datasets", "datasets", "datasetId", "dataset",
     "{\"name\": \"renamed\"}"},
    {"/documents", "documents", "documentId", "document",
     "{\"retentionInDays\": 7}"},
    {"/models", "models", "modelId", "model", "{\"name\": \"renamed\"}"},
    {"/secrets", "secrets", "secretId", "secret", "{\"name\": \"renamed\"}"},
    {"/users", "users", "userId", "user", "{\"name\": \"renamed\"}"},
};
#define N_RESOURCE_KINDS (sizeof resource_kinds / sizeof resource_kinds[0])

static json_t *sample_body(const char *path) {
  if (strcmp(path, "/assets") == 0)
    return asset_body("sample");
  if (strcmp(path, "/documents") == 0)
    return pdf_document();
  if (strcmp(path, "/models") == 0)
    return model_body();
  if (strcmp(path, "/secrets") == 0)
    return json_pack("{s:{s:s}}", "data", "key", "value");
  if (strcmp(path, "/users") == 0)
    return json_pack("{s:s}", "email", "user@example.com");
  return json_object();
}

static void expect_timestamp(const json_t *obj, const char *key) {
  const char *t = it_str(obj, key);
  ck_assert_msg(it_timestamp_valid(t),
                "%s \"%s\" is not like "
                "2021-04-14T14:13:02.021412+0000",
                key, t ? t : "(none)");
}

START_TEST(test_ids_and_timestamps) {
  it_session s;
  fresh_org(&s, NULL);
  for (size_t i = 0; i < N_RESOURCE_KINDS; i++) {
    const resource_kind *k = &resource_kinds[i];
    json_t *obj = EXPECT_JSON(
        it_send(&s, "POST", sample_body(k->path), "%s", k->path), 200);
    const char *id = it_str(obj, k->id_field);
    ck_assert_msg(it_id_valid(k->kind, id), "%s: id %s", k->path, id);
    expect_timestamp(obj, "createdTime");
    EXPECT_STR(obj, "updatedTime", NULL);
    json_t *patched =
        EXPECT_JSON(it_send(&s, "PATCH", json_loads(k->patch, 0, NULL), "%s/%s",
                            k->path, id),
                    200);
    expect_timestamp(patched, "updatedTime");
    ck_assert_str_eq(it_str(patched, "createdTime"),
                     it_str(obj, "createdTime"));
    ck_assert_msg(
        strcmp(it_str(patched, "updatedTime"), it_str(obj, "createdTime")) >= 0,
        "%s: updatedTime before createdTime", k->path);
    json_decref(patched);
    json_decref(obj);
  }
}
END_TEST

START_TEST(test_every_list_has_next_token) {
  it_session s;
  fresh_org(&s, NULL);
  for (size_t i = 0; i < N_RESOURCE_KINDS; i++) {
    const resource_kind *k = &resource_kinds[i];
    json_t *list = EXPECT_JSON(it_get(&s, "%s", k->path), 200);
    ck_assert_msg(json_is_array(json_object_get(list, k->list_field)),
                  "GET %s: no %s array", k->path, k->list_field);
    json_t *next = json_object_get(list, "nextToken");
    ck_assert_msg(next && json_is_null(next), "GET %s: nextToken not null",
                  k->path);
    json_decref(list);
  }
}
END_TEST

START_TEST(test_max_results_bounds) {
  static const char *const bad[] = {"0", "1001", "abc", "-1",
                                    "",  "1.5",  "10x", "99999999999999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    EXPECT_ERROR(it_get(&g_boot, "/models?maxResults=%s", bad[i]), 400,
                 "maxResults: must be an integer from 1 to 1000");
    EXPECT_ERROR(it_get(&g_boot, "/documents?maxResults=%s", bad[i]), 400,
                 "maxResults: must be an integer from 1 to 1000");
  }
  EXPECT(it_get(&g_boot, "/models?maxResults=1"), 200);
  EXPECT(it_get(&g_boot, "/models?maxResults=1000"), 200);
}
END_TEST

/* Creates n assets named name0, name1, ... and writes their ids to ids. */
static void create_assets(const it_session *s, size_t n, const char *name,
                          char ids[][ID_LEN]) {
  for (size_t i = 0; i < n; i++) {
    char full[64];
    snprintf(full, sizeof full, "%s%zu", name, i);
    create_id(s, "/assets", asset_body(full), "assetId", ids[i]);
  }
}

/* The nextToken of the first page of `path` with maxResults=1 (NEW). */
static char *first_token(const it_session *s, const char *path) {
  char full[PATH_LEN];
  page_path(full, path, 1, NULL);
  json_t *page = EXPECT_JSON(it_get(s, "%s", full), 200);
  const char *token = it_str(page, "nextToken");
  ck_assert_msg(token, "GET %s: no nextToken", full);
  char *copy = strdup(token);
  json_decref(page);
  return copy;
}

START_TEST(test_tampered_next_token_is_400) {
  it_session s;
  fresh_org(&s, NULL);
  char ids[3][ID_LEN];
  create_assets(&s, 3, "a", ids);
  create_id(&s, "/models", model_body(), "modelId", ids[0]);
  create_id(&s, "/models", model_body(), "modelId", ids[1]);
  char *token = first_token(&s, "/assets");

  char path[PATH_LEN];
  page_path(path, "/assets", 1, token);
  EXPECT(it_get(&s, "%s", path), 200);

  static const char *const message =
      "nextToken: is not a token this list returned";
  for (size_t i = 0; i < strlen(token); i += 3) {
    char *bad = strdup(token);
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    page_path(path, "/assets", 1, bad);
    EXPECT_ERROR(it_get(&s, "%s", path), 400, message);
    free(bad);
  }
  page_path(path, "/assets", 1, "garbage");
  EXPECT_ERROR(it_get(&s, "%s", path), 400, message);
  /* A token continues only the list that returned it. */
  page_path(path, "/models", 1, token);
  EXPECT_ERROR(it_get(&s, "%s", path), 400, message);
  page_path(path, "/documents", 1, token);
  EXPECT_ERROR(it_get(&s, "%s", path), 400, message);
  page_path(path, "/assets", 1, token);
  EXPECT_ERROR(it_get(&g_boot, "%s", path), 400, message);
  free(token);
}
END_TEST

START_TEST(test_pagination_walks_every_item_once) {
  it_session s;
  fresh_org(&s, NULL);
  char ids[5][ID_LEN];
  create_assets(&s, 5, "p", ids);
  json_t *all = list_all(&s, "/assets", "assets", 2);
  ck_assert_uint_eq(json_array_size(all), 5);
  for (size_t i = 0; i < 5; i++)
    ck_assert_str_eq(it_str(json_array_get(all, i), "assetId"), ids[i]);
  json_decref(all);
  all = list_all(&s, "/assets", "assets", 1);
  ck_assert_uint_eq(json_array_size(all), 5);
  json_decref(all);
  all = list_all(&s, "/assets", "assets", 5);
  ck_assert_uint_eq(json_array_size(all), 5);
  json_decref(all);
}
END_TEST

START_TEST(test_last_full_page_has_null_token) {
  it_session s;
  fresh_org(&s, NULL);
  char ids[4][ID_LEN];
  create_assets(&s, 4, "q", ids);
  /* list_all requires every non-last page to be full and the page after a
   * non-null token to exist: with 4 items, pages of 2 are exactly 2. */
  char path[PATH_LEN];
  page_path(path, "/assets", 2, NULL);
  json_t *page = EXPECT_JSON(it_get(&s, "%s", path), 200);
  char *token = strdup(it_str(page, "nextToken"));
  json_decref(page);
  page_path(path, "/assets", 2, token);
  page = EXPECT_JSON(it_get(&s, "%s", path), 200);
  ck_assert_uint_eq(json_array_size(json_object_get(page, "assets")), 2);
  ck_assert_msg(json_is_null(json_object_get(page, "nextToken")),
                "the last page (exactly full) has a nextToken");
  json_decref(page);
  free(token);
}
END_TEST

START_TEST(test_pagination_is_stable_under_inserts) {
  it_session s;
  fresh_org(&s, NULL);
  char ids[6][ID_LEN];
  create_assets(&s, 4, "old", ids);

  char path[PATH_LEN];
  page_path(path, "/assets", 2, NULL);
  json_t *page = EXPECT_JSON(it_get(&s, "%s", path), 200);
  json_t *seen = json_deep_copy(json_object_get(page, "assets"));
  char *token = strdup(it_str(page, "nextToken"));
  json_decref(page);

  /* Between pages: two new items, and one already seen is deleted. */
  create_assets(&s, 2, "new", ids + 4);
  EXPECT(it_delete(&s, "/assets/%s", ids[0]), 200);

  while (token) {
    page_path(path, "/assets", 2, token);
    page = EXPECT_JSON(it_get(&s, "%s", path), 200);
    json_array_extend(seen, json_object_get(page, "assets"));
    free(token);
    const char *next = it_str(page, "nextToken");
    token = next ? strdup(next) : NULL;
    json_decref(page);
  }
  ck_assert_uint_eq(json_array_size(seen), 6);
  for (size_t i = 0; i < 6; i++)
    ck_assert_str_eq(it_str(json_array_get(seen, i), "assetId"), ids[i]);
  json_decref(seen);
}
END_TEST

/* ------------------------------------------------------------------ */
/* documents: filters and bulk delete                                  */

static void create_document(const it_session *s, const char *dataset,
                            const char *consent, char id[ID_LEN]) {
  json_t *body = pdf_document();
  if (dataset)
    json_object_set_new(body, "datasetId", json_string(dataset));
  if (consent)
    json_object_set_new(body, "consentId", json_string(consent));
  create_id(s, "/documents", body, "documentId", id);
}

static size_t count_listed(const it_session *s, const char *path) {
  json_t *all = list_all(s, path, "documents", 2);
  size_t n = json_array_size(all);
  json_decref(all);
  return n;
}

#define CONSENT_1 "las:consent:11111111111111111111111111111111"
#define CONSENT_2 "las:consent:22222222222222222222222222222222"

START_TEST(test_documents_filtered_by_dataset_and_consent) {
  it_session s;
  fresh_org(&s, NULL);
  char a[ID_LEN], b[ID_LEN], doc[ID_LEN], path[PATH_LEN];
  create_id(&s, "/datasets", json_object(), "datasetId", a);
  create_id(&s, "/datasets", json_object(), "datasetId", b);
  create_document(&s, a, CONSENT_1, doc);
  create_document(&s, a, NULL, doc);
  create_document(&s, a, CONSENT_2, doc);
  create_document(&s, b, CONSENT_1, doc);
  create_document(&s, NULL, CONSENT_1, doc);
  create_document(&s, NULL, NULL, doc);

  ck_assert_uint_eq(count_listed(&s, "/documents"), 6);
  snprintf(path, sizeof path, "/documents?datasetId=%s", a);
  ck_assert_uint_eq(count_listed(&s, path), 3);
  snprintf(path, sizeof path, "/documents?datasetId=%s&datasetId=%s", a, b);
  ck_assert_uint_eq(count_listed(&s, path), 4);
  ck_assert_uint_eq(count_listed(&s, "/documents?consentId=" CONSENT_1), 3);
  ck_assert_uint_eq(count_listed(&s, "/documents?consentId=" CONSENT_1
                                     "&consentId=" CONSENT_2),
                    4);
  snprintf(path, sizeof path, "/documents?datasetId=%s&consentId=%s", a,
           CONSENT_1);
  ck_assert_uint_eq(count_listed(&s, path), 1);

  json_t *all = list_all(&s, "/documents?consentId=" CONSENT_1, "documents", 2);
  size_t i;
  json_t *item;
  json_array_foreach(all, i, item) {
    EXPECT_STR(item, "consentId", CONSENT_1);
    EXPECT_ABSENT(item, "content");
  }
  json_decref(all);

  EXPECT_ERROR(it_get(&s, "/documents?datasetId=nope"), 400,
               "datasetId: must match pattern ^las:dataset:[a-f0-9]{32}$");
  EXPECT_ERROR(it_get(&s, "/documents?consentId=las:dataset:" HEX32), 400,
               "consentId: must match pattern ^las:consent:[a-f0-9]{32}$");
  /* A well-formed dataset that does not exist simply matches nothing. */
  ck_assert_uint_eq(count_listed(&s, "/documents?datasetId=las:dataset:" HEX32),
                    0);
}
END_TEST

START_TEST(test_delete_documents_by_filter_with_pagination) {
  it_session s;
  fresh_org(&s, NULL);
  char a[ID_LEN], b[ID_LEN], doc[ID_LEN], kept[ID_LEN], path[PATH_LEN];
  create_id(&s, "/datasets", json_object(), "datasetId", a);
  create_id(&s, "/datasets", json_object(), "datasetId", b);
  for (int i = 0; i < 3; i++)
    create_document(&s, a, NULL, doc);
  create_document(&s, b, CONSENT_1, kept);
  create_document(&s, NULL, CONSENT_2, doc);
  create_document(&s, NULL, CONSENT_2, doc);

  /* Page by page: two, then one with a null nextToken. */
  snprintf(path, sizeof path, "/documents?datasetId=%s", a);
  char first[PATH_LEN];
  page_path(first, path, 2, NULL);
  json_t *page = EXPECT_JSON(it_delete(&s, "%s", first), 200);
  ck_assert_uint_eq(json_array_size(json_object_get(page, "documents")), 2);
  char *token = strdup(it_str(page, "nextToken"));
  json_decref(page);
  ck_assert_uint_eq(count_listed(&s, path), 1);
  char next[PATH_LEN];
  page_path(next, path, 2, token);
  free(token);
  page = EXPECT_JSON(it_delete(&s, "%s", next), 200);
  ck_assert_uint_eq(json_array_size(json_object_get(page, "documents")), 1);
  ck_assert_msg(json_is_null(json_object_get(page, "nextToken")),
                "the last page of a bulk delete has a nextToken");
  json_decref(page);
  ck_assert_uint_eq(count_listed(&s, path), 0);

  page = EXPECT_JSON(it_delete(&s, "/documents?consentId=" CONSENT_2), 200);
  ck_assert_uint_eq(json_array_size(json_object_get(page, "documents")), 2);
  json_decref(page);

  /* What matched no filter is still there. */
  ck_assert_uint_eq(count_listed(&s, "/documents"), 1);
  EXPECT(it_get(&s, "/documents/%s", kept), 200);
  json_t *ds = EXPECT_JSON(it_get(&s, "/datasets/%s", a), 200);
  EXPECT_INT(ds, "numberOfDocuments", 0);
  json_decref(ds);

  /* No filter: everything of the organization (and nothing of others). */
  char other[ID_LEN];
  create_document(&g_boot, NULL, NULL, other);
  page = EXPECT_JSON(it_delete(&s, "/documents"), 200);
  ck_assert_uint_eq(json_array_size(json_object_get(page, "documents")), 1);
  json_decref(page);
  ck_assert_uint_eq(count_listed(&s, "/documents"), 0);
  EXPECT(it_get(&g_boot, "/documents/%s", other), 200);
}
END_TEST

/* ------------------------------------------------------------------ */
/* concurrency                                                         */

typedef struct {
  const it_session *s;
  int created;
} writer_arg;

static void *writer_main(void *p) {
  writer_arg *w = p;
  for (int i = 0; i < 10; i++) {
    it_response *r = it_send(w->s, "POST", asset_body("concurrent"), "/assets");
    if (r->status == 200)
      w->created++;
    else
      fprintf(stderr, "concurrent POST /assets: %ld %s\n", r->status, r->body);
    it_response_free(r);
  }
  return NULL;
}

START_TEST(test_concurrent_writes_all_land) {
  it_session s;
  fresh_org(&s, NULL);
  enum { WRITERS = 4 };
  pthread_t threads[WRITERS];
  writer_arg args[WRITERS];
  for (int i = 0; i < WRITERS; i++) {
    args[i] = (writer_arg){&s, 0};
    ck_assert_int_eq(pthread_create(&threads[i], NULL, writer_main, &args[i]),
                     0);
  }
  int created = 0;
  for (int i = 0; i < WRITERS; i++) {
    pthread_join(threads[i], NULL);
    created += args[i].created;
  }
  ck_assert_int_eq(created, 10 * WRITERS);
  ck_assert_uint_eq(asset_count(&s), 10 * WRITERS);
}
END_TEST

/* ------------------------------------------------------------------ */
/* auth                                                                */

static it_response *token_with(const char *path, const char *authorization,
                               const char *form) {
  it_request r = {.method = "POST",
                  .path = path,
                  .authorization = authorization,
                  .content_type = "application/x-www-form-urlencoded",
                  .body = form ? form : ""};
  return it_request_send(&g_srv, &r);
}

static char *basic(const char *id, const char *secret) {
  char pair[512];
  snprintf(pair, sizeof pair, "%s:%s", id, secret);
  char *b64 = it_b64_encode(pair, strlen(pair));
  char *header = malloc(strlen(b64) + 7);
  ck_assert(header);
  sprintf(header, "Basic %s", b64);
  free(b64);
  return header;
}

static void expect_token_response(it_response *r) {
  json_t *body = EXPECT_JSON(r, 200);
  ck_assert_uint_eq(json_object_size(body), 3);
  ck_assert_msg(it_str(body, "access_token") && *it_str(body, "access_token"),
                "no access_token");
  EXPECT_INT(body, "expires_in", 3600);
  EXPECT_STR(body, "token_type", "Bearer");
  json_decref(body);
}

START_TEST(test_token_endpoints) {
  char *auth = basic(IT_CLIENT_ID, IT_CLIENT_SECRET);
  expect_token_response(
      token_with("/oauth2/token?grant_type=client_credentials", auth, NULL));
  expect_token_response(
      token_with("/token?grant_type=client_credentials", auth, NULL));
  expect_token_response(
      token_with("/oauth2/token", auth, "grant_type=client_credentials"));
  expect_token_response(token_with("/token", auth,
                                   "grant_type=client_credentials&scope=api."
                                   "lucidtech.ai%2Fmodels%3Aread"));
  expect_token_response(token_with(
      "/oauth2/token?grant_type=client_credentials&scope=api.lucidtech.ai/"
      "models:read%20api.lucidtech.ai/documents:write",
      auth, NULL));
  /* Credentials in the form instead of HTTP Basic (RFC 6749 2.3.1). */
  expect_token_response(
      token_with("/oauth2/token", NULL,
                 "grant_type=client_credentials&client_id=" IT_CLIENT_ID
                 "&client_secret=" IT_CLIENT_SECRET));
  free(auth);
}
END_TEST

START_TEST(test_token_errors) {
  char *good = basic(IT_CLIENT_ID, IT_CLIENT_SECRET);
  char *wrong_secret = basic(IT_CLIENT_ID, "not-the-secret");
  char *unknown = basic("nobody", IT_CLIENT_SECRET);
  char *empty_secret = basic(IT_CLIENT_ID, "");
  EXPECT(token_with("/oauth2/token?grant_type=client_credentials", wrong_secret,
                    NULL),
         401);
  EXPECT(token_with("/token?grant_type=client_credentials", unknown, NULL),
         401);
  EXPECT(token_with("/token?grant_type=client_credentials", empty_secret, NULL),
         401);
  EXPECT(token_with("/oauth2/token?grant_type=client_credentials", NULL, NULL),
         401);
  EXPECT(token_with("/oauth2/token?grant_type=client_credentials",
                    "Basic !!!not-base64", NULL),
         401);
  EXPECT(token_with("/oauth2/token?grant_type=authorization_code", good, NULL),
         400);
  EXPECT(token_with("/oauth2/token?grant_type=refresh_token", good, NULL), 400);
  EXPECT(token_with("/oauth2/token", good, NULL), 400);
  EXPECT(token_with("/oauth2/token?grant_type=client_credentials&scope=api."
                    "lucidtech.ai/nothing:read",
                    good, NULL),
         400);
  EXPECT(token_with("/oauth2/token?grant_type=password&username=admin%40"
                    "example.com&password=wrong-password",
                    good, NULL),
         400);
  free(good);
  free(wrong_secret);
  free(unknown);
  free(empty_secret);
}
END_TEST

static it_response *get_as(const char *authorization, const char *api_key,
                           const char *path) {
  it_request r = {.method = "GET",
                  .path = path,
                  .authorization = authorization,
                  .api_key = api_key};
  return it_request_send(&g_srv, &r);
}

START_TEST(test_api_calls_need_valid_credentials) {
  char bearer[300];
  snprintf(bearer, sizeof bearer, "Bearer %s", g_boot.token);
  EXPECT(get_as(bearer, IT_API_KEY, "/models"), 200);

  EXPECT_FORBIDDEN(get_as(NULL, NULL, "/models"));
  EXPECT_FORBIDDEN(get_as(NULL, IT_API_KEY, "/models"));
  EXPECT_FORBIDDEN(get_as("Bearer garbage", IT_API_KEY, "/models"));
  EXPECT_FORBIDDEN(get_as("Bearer " HEX32 HEX32 HEX32, IT_API_KEY, "/models"));
  EXPECT_FORBIDDEN(get_as("Bearer ", IT_API_KEY, "/models"));
  EXPECT_FORBIDDEN(get_as(bearer + 7, IT_API_KEY, "/models"));
  EXPECT_FORBIDDEN(get_as(bearer, "wrong-api-key", "/models"));
  EXPECT_FORBIDDEN(get_as(bearer, "wrong-api-key", "/v1/documents"));
  char *basic_auth = basic(IT_CLIENT_ID, IT_CLIENT_SECRET);
  EXPECT_FORBIDDEN(get_as(basic_auth, IT_API_KEY, "/models"));
  free(basic_auth);
  EXPECT_FORBIDDEN(get_as(NULL, NULL, "/organizations/me"));
  it_session anon = {.srv = &g_srv};
  EXPECT_FORBIDDEN(it_send(&anon, "POST", model_body(), "/models"));
  EXPECT_FORBIDDEN(it_delete(&anon, "/documents"));
}
END_TEST

START_TEST(test_scoped_token) {
  it_response *r = it_token_request(&g_srv, IT_CLIENT_ID, IT_CLIENT_SECRET,
                                    "api.lucidtech.ai/models:read");
  json_t *body = EXPECT_JSON(r, 200);
  it_session s = {.srv = &g_srv};
  snprintf(s.token, sizeof s.token, "%s", it_str(body, "access_token"));
  snprintf(s.api_key, sizeof s.api_key, "%s", IT_API_KEY);
  json_decref(body);

  EXPECT(it_get(&s, "/models"), 200);
  EXPECT(it_get(&s, "/v1/models"), 200);
  EXPECT_FORBIDDEN(it_send(&s, "POST", model_body(), "/models"));
  EXPECT_FORBIDDEN(it_get(&s, "/documents"));
  EXPECT_FORBIDDEN(it_get(&s, "/organizations/me"));
  EXPECT_FORBIDDEN(it_send(&s, "POST", json_object(), "/datasets"));
}
END_TEST

/* ------------------------------------------------------------------ */
/* tenancy                                                             */

START_TEST(test_signup_and_password_grant) {
  it_session anon = {.srv = &g_srv};
  char email[128], form[512];
  snprintf(email, sizeof email, "signup-%d-%u@example.com", (int)getpid(),
           it_unique());
  json_t *up =
      EXPECT_JSON(it_send(&anon, "POST",
                          json_pack("{s:s, s:s, s:s, s:s}", "email", email,
                                    "password", "pass-word-1",
                                    "reCaptchaResponse", "ok", "name", "Org B"),
                          "/v1/signup"),
                  200);
  ck_assert_uint_eq(json_object_size(up), 2);
  EXPECT_STR(up, "username", email);
  const char *client_id = it_str(up, "clientId");
  ck_assert_msg(client_id && *client_id, "no clientId");

  char *user = it_url_encode(email);
  snprintf(form, sizeof form,
           "grant_type=password&username=%s&password=pass-word-1&client_id=%s",
           user, client_id);
  expect_token_response(token_with("/oauth2/token", NULL, form));
  expect_token_response(token_with("/token", NULL, form));
  /* Spaces may arrive as '+' (as HTML forms and python-requests send). */
  char email2[128], client2[ID_LEN];
  snprintf(email2, sizeof email2, "plus+%d-%u@example.com", (int)getpid(),
           it_unique());
  json_t *up2 = EXPECT_JSON(
      it_send(&anon, "POST",
              json_pack("{s:s, s:s, s:s}", "email", email2, "password",
                        "pass word+1", "reCaptchaResponse", "ok"),
              "/signup"),
      200);
  snprintf(client2, sizeof client2, "%s", it_str(up2, "clientId"));
  json_decref(up2);
  char *user2 = it_url_encode(email2);
  char form2[512];
  snprintf(
      form2, sizeof form2,
      "grant_type=password&username=%s&password=pass+word%%2B1&client_id=%s",
      user2, client2);
  free(user2);
  expect_token_response(token_with("/oauth2/token", NULL, form2));
  snprintf(form, sizeof form,
           "grant_type=password&username=%s&password=wrong-pass&client_id=%s",
           user, client_id);
  EXPECT(token_with("/oauth2/token", NULL, form), 400);
  snprintf(form, sizeof form,
           "grant_type=password&username=%s&password=pass-word-1&client_id="
           "unknown-client",
           user);
  EXPECT(token_with("/oauth2/token", NULL, form), 401);
  /* Another organization's client does not log this user in: named without
   * its secret it fails client authentication (it is confidential). */
  snprintf(form, sizeof form,
           "grant_type=password&username=%s&password=pass-word-1&client_"
           "id=" IT_CLIENT_ID,
           user);
  EXPECT(token_with("/oauth2/token", NULL, form), 401);
  free(user);

  /* The same e-mail cannot sign up twice. */
  EXPECT(it_send(&anon, "POST",
                 json_pack("{s:s, s:s, s:s}", "email", email, "password",
                           "another-pass", "reCaptchaResponse", "ok"),
                 "/signup"),
         409);
  json_decref(up);

  /* Required fields and rules of the body. */
  EXPECT_ERROR(it_send(&anon, "POST",
                       json_pack("{s:s, s:s}", "email", "x@example.com",
                                 "password", "long-enough"),
                       "/signup"),
               400, "reCaptchaResponse: is required");
  EXPECT(
      it_send(&anon, "POST",
              json_pack("{s:s, s:s, s:s}", "email", "not-an-email", "password",
                        "long-enough", "reCaptchaResponse", "ok"),
              "/signup"),
      400);
  EXPECT(it_send(&anon, "POST",
                 json_pack("{s:s, s:s, s:s}", "email", "short@example.com",
                           "password", "short", "reCaptchaResponse", "ok"),
                 "/signup"),
         400);
}
END_TEST

START_TEST(test_signed_up_organization_is_its_own) {
  it_session b;
  char b_org[ID_LEN];
  fresh_org(&b, b_org);
  ck_assert_msg(it_id_valid("organization", b_org), "org id %s", b_org);
  ck_assert_str_ne(b_org, g_srv.org_id);
  json_t *org = EXPECT_JSON(it_get(&b, "/organizations/%s", b_org), 200);
  EXPECT_STR(org, "organizationId", b_org);
  EXPECT_STR(org, "name", "Integration Test Org");
  json_decref(org);
  json_t *users = EXPECT_JSON(it_get(&b, "/users"), 200);
  ck_assert_uint_eq(json_array_size(json_object_get(users, "users")), 1);
  json_decref(users);
}
END_TEST

typedef struct {
  const char *path;
  const char *id_field;
  const char *list_field;
  bool has_get;
  const char *patch;
} owned_kind;

static const owned_kind owned_kinds[] = {
    {"/documents", "documentId", "documents", true, "{\"retentionInDays\": 3}"},
    {"/models", "modelId", "models", true, "{\"name\": \"stolen\"}"},
    {"/datasets", "datasetId", "datasets", true, "{\"name\": \"stolen\"}"},
    {"/assets", "assetId", "assets", true, "{\"name\": \"stolen\"}"},
    {"/secrets", "secretId", "secrets", false, "{\"name\": \"stolen\"}"},
    {"/users", "userId", "users", true, "{\"name\": \"stolen\"}"},
    {"/appClients", "appClientId", "appClients", false,
     "{\"name\": \"stolen\"}"},
};

START_TEST(test_organizations_are_isolated) {
  it_session a, b;
  char a_org[ID_LEN], b_org[ID_LEN];
  fresh_org(&a, a_org);
  fresh_org(&b, b_org);
  for (size_t i = 0; i < sizeof owned_kinds / sizeof owned_kinds[0]; i++) {
    const owned_kind *k = &owned_kinds[i];
    char id[ID_LEN];
    create_id(&a, k->path, sample_body(k->path), k->id_field, id);
    if (k->has_get)
      EXPECT_NOT_FOUND(it_get(&b, "%s/%s", k->path, id));
    EXPECT_NOT_FOUND(it_send(&b, "PATCH", json_loads(k->patch, 0, NULL),
                             "%s/%s", k->path, id));
    EXPECT_NOT_FOUND(it_delete(&b, "%s/%s", k->path, id));
    json_t *theirs = list_all(&b, k->path, k->list_field, 1000);
    ck_assert_msg(!holds(theirs, k->id_field, id), "%s of A listed for B",
                  k->path);
    json_decref(theirs);
    /* Still there, unchanged, for A. */
    json_t *ours = list_all(&a, k->path, k->list_field, 1000);
    ck_assert_msg(holds(ours, k->id_field, id), "%s of A gone", k->path);
    json_decref(ours);
    if (k->has_get) {
      json_t *obj = EXPECT_JSON(it_get(&a, "%s/%s", k->path, id), 200);
      ck_assert_msg(!it_str(obj, "name") ||
                        strcmp(it_str(obj, "name"), "stolen") != 0,
                    "%s of A renamed by B", k->path);
      json_decref(obj);
    }
  }
  /* Documents: filters and bulk deletes stay within the organization. */
  EXPECT(it_delete(&b, "/documents"), 200);
  json_t *docs = list_all(&a, "/documents", "documents", 10);
  ck_assert_uint_eq(json_array_size(docs), 1);
  json_decref(docs);

  EXPECT_NOT_FOUND(it_get(&b, "/organizations/%s", a_org));
  EXPECT_NOT_FOUND(it_send(&b, "PATCH", json_pack("{s:s}", "name", "stolen"),
                           "/organizations/%s", a_org));
  json_t *org = EXPECT_JSON(it_get(&a, "/organizations/me"), 200);
  EXPECT_STR(org, "organizationId", a_org);
  EXPECT_STR(org, "name", "Integration Test Org");
  json_decref(org);
  org = EXPECT_JSON(it_get(&b, "/v1/organizations/me"), 200);
  EXPECT_STR(org, "organizationId", b_org);
  json_decref(org);
  /* The bootstrap organization is not visible either. */
  EXPECT_NOT_FOUND(it_get(&b, "/organizations/%s", g_srv.org_id));
}
END_TEST

START_TEST(test_documents_cannot_use_another_orgs_dataset) {
  it_session a, b;
  fresh_org(&a, NULL);
  fresh_org(&b, NULL);
  char ds[ID_LEN], doc[ID_LEN];
  create_id(&a, "/datasets", json_object(), "datasetId", ds);
  json_t *body = pdf_document();
  json_object_set_new(body, "datasetId", json_string(ds));
  EXPECT(it_send(&b, "POST", body, "/documents"), 400);
  create_document(&b, NULL, NULL, doc);
  EXPECT(it_send(&b, "PATCH", json_pack("{s:s}", "datasetId", ds),
                 "/documents/%s", doc),
         400);
  json_t *got = EXPECT_JSON(it_get(&a, "/datasets/%s", ds), 200);
  EXPECT_INT(got, "numberOfDocuments", 0);
  json_decref(got);
}
END_TEST

/* ------------------------------------------------------------------ */
/* resources                                                           */

START_TEST(test_app_clients) {
  it_session s;
  fresh_org(&s, NULL);
  json_t *client =
      EXPECT_JSON(it_send(&s, "POST",
                          json_pack("{s:s, s:[s]}", "name", "ci",
                                    "callbackUrls", "https://example.com/cb"),
                          "/appClients"),
                  200);
  const char *app_id = it_str(client, "appClientId");
  ck_assert_msg(it_id_valid("app-client", app_id), "appClientId %s", app_id);
  ck_assert_msg(json_is_true(json_object_get(client, "hasSecret")),
                "hasSecret is not true");
  EXPECT_STR(client, "name", "ci");
  const char *client_id = it_str(client, "clientId");
  const char *secret = it_str(client, "clientSecret");
  const char *api_key = it_str(client, "apiKey");
  ck_assert_msg(client_id && secret && api_key, "credentials missing");

  /* Its credentials work at once, in the organization that made it. */
  it_session c;
  ck_assert_msg(it_login(&g_srv, client_id, secret, api_key, &c),
                "no token for the new client");
  json_t *me = EXPECT_JSON(it_get(&c, "/organizations/me"), 200);
  json_t *mine = EXPECT_JSON(it_get(&s, "/organizations/me"), 200);
  EXPECT_STR(me, "organizationId", it_str(mine, "organizationId"));
  json_decref(me);
  json_decref(mine);
  /* What it makes is created by it. */
  json_t *model =
      EXPECT_JSON(it_send(&c, "POST", model_body(), "/models"), 200);
  EXPECT_STR(model, "createdBy", app_id);
  json_decref(model);
  /* Another client's api key does not go with its token. */
  it_session mixed = c;
  snprintf(mixed.api_key, sizeof mixed.api_key, "%s", IT_API_KEY);
  EXPECT_FORBIDDEN(it_get(&mixed, "/models"));

  /* The secret is shown only on creation. */
  json_t *all = list_all(&s, "/appClients", "appClients", 1000);
  ck_assert_msg(holds(all, "appClientId", app_id), "not listed");
  size_t i;
  json_t *item;
  json_array_foreach(all, i, item) {
    ck_assert_msg(!json_object_get(item, "clientSecret"),
                  "a clientSecret in the list");
  }
  json_decref(all);

  json_t *patched =
      EXPECT_JSON(it_send(&s, "PATCH", json_pack("{s:s}", "name", "renamed"),
                          "/appClients/%s", app_id),
                  200);
  EXPECT_STR(patched, "name", "renamed");
  EXPECT_STR(patched, "clientId", client_id);
  ck_assert_msg(!json_object_get(patched, "clientSecret"),
                "PATCH shows the secret");
  json_decref(patched);

  /* Deleting it revokes its tokens and its credentials, on every server
   * thread (each connection may land on another one). */
  for (int n = 0; n < 16; n++)
    EXPECT(it_get(&c, "/models"), 200);
  json_t *deleted = EXPECT_JSON(it_delete(&s, "/appClients/%s", app_id), 200);
  ck_assert_msg(!json_object_get(deleted, "clientSecret"),
                "DELETE shows the secret");
  json_decref(deleted);
  for (int n = 0; n < 16; n++)
    EXPECT_FORBIDDEN(it_get(&c, "/models"));
  EXPECT(it_token_request(&g_srv, client_id, secret, NULL), 401);
  EXPECT_NOT_FOUND(it_delete(&s, "/appClients/%s", app_id));
  json_decref(client);
}
END_TEST

START_TEST(test_app_client_without_secret) {
  it_session s;
  fresh_org(&s, NULL);
  json_t *client =
      EXPECT_JSON(it_send(&s, "POST", json_pack("{s:b}", "generateSecret", 0),
                          "/appClients"),
                  200);
  ck_assert_msg(json_is_false(json_object_get(client, "hasSecret")),
                "hasSecret is not false");
  ck_assert_msg(!json_object_get(client, "clientSecret"),
                "a clientSecret without generateSecret");
  /* A public client cannot use client_credentials. */
  EXPECT(it_token_request(&g_srv, it_str(client, "clientId"), "", NULL), 401);
  json_decref(client);
  EXPECT(it_send(&s, "POST",
                 json_pack("{s:[s]}", "callbackUrls", "ftp://example.com"),
                 "/appClients"),
         400);
}
END_TEST

START_TEST(test_assets_round_trip_bytes) {
  it_session s;
  fresh_org(&s, NULL);
  unsigned char bytes[1000];
  for (size_t i = 0; i < sizeof bytes; i++)
    bytes[i] = (unsigned char)(i * 7 + i / 256);
  char *b64 = it_b64_encode(bytes, sizeof bytes);
  char id[ID_LEN];
  create_id(&s, "/assets",
            json_pack("{s:s, s:s, s:s}", "name", "logo", "description", "d",
                      "content", b64),
            "assetId", id);

  json_t *asset = EXPECT_JSON(it_get(&s, "/assets/%s", id), 200);
  EXPECT_STR(asset, "content", b64);
  EXPECT_STR(asset, "name", "logo");
  EXPECT_STR(asset, "description", "d");
  size_t len = 0;
  unsigned char *back = it_b64_decode(it_str(asset, "content"), &len);
  ck_assert_msg(back && len == sizeof bytes &&
                    memcmp(back, bytes, sizeof bytes) == 0,
                "content changed on the way");
  free(back);
  json_decref(asset);

  json_t *all = list_all(&s, "/assets", "assets", 1000);
  ck_assert_uint_eq(json_array_size(all), 1);
  EXPECT_ABSENT(json_array_get(all, 0), "content");
  json_decref(all);

  json_t *patched =
      EXPECT_JSON(it_send(&s, "PATCH", json_pack("{s:s}", "name", "logo-2"),
                          "/assets/%s", id),
                  200);
  EXPECT_STR(patched, "name", "logo-2");
  EXPECT_STR(patched, "content", b64);
  json_decref(patched);
  EXPECT(it_send(&s, "PATCH", json_pack("{s:s}", "content", "bmV3"),
                 "/assets/%s", id),
         200);
  asset = EXPECT_JSON(it_get(&s, "/assets/%s", id), 200);
  EXPECT_STR(asset, "content", "bmV3");
  EXPECT_STR(asset, "name", "logo-2");
  json_decref(asset);
  free(b64);

  EXPECT_ERROR(it_send(&s, "POST", json_pack("{s:s}", "content", "@@not b64@@"),
                       "/assets"),
               400, "content: must be base64 encoded");
  EXPECT(it_send(&s, "PATCH", json_pack("{s:s}", "content", "###"),
                 "/assets/%s", id),
         400);
  EXPECT(
      it_send(&s, "POST", json_pack("{s:s}", "name", "no content"), "/assets"),
      400);

  json_t *deleted = EXPECT_JSON(it_delete(&s, "/assets/%s", id), 200);
  EXPECT_STR(deleted, "assetId", id);
  json_decref(deleted);
  EXPECT_NOT_FOUND(it_get(&s, "/assets/%s", id));
  EXPECT_NOT_FOUND(it_delete(&s, "/assets/%s", id));
}
END_TEST

/* The secret value appears in no response body. */
static void expect_no_secret_data(it_response *r, long status) {
  expect_at(__FILE__, __LINE__, r, status);
  ck_assert_msg(!strstr(r->body, "hunter2") && !strstr(r->body, "swordfish"),
                "%s shows the secret: %s", r->what, r->body);
  json_t *items = json_object_get(r->json, "secrets");
  if (!items)
    ck_assert_msg(!json_object_get(r->json, "data"), "%s has data", r->what);
  size_t i;
  json_t *item;
  json_array_foreach(items, i, item) {
    ck_assert_msg(!json_object_get(item, "data"), "%s has data", r->what);
  }
  it_response_free(r);
}

START_TEST(test_secret_data_is_never_returned) {
  it_session s;
  fresh_org(&s, NULL);
  it_response *r = it_send(
      &s, "POST",
      json_pack("{s:{s:s}, s:s}", "data", "password", "hunter2", "name", "db"),
      "/secrets");
  json_t *created = json_incref(r->json);
  expect_no_secret_data(r, 200);
  const char *id = it_str(created, "secretId");
  ck_assert_msg(it_id_valid("secret", id), "secretId %s", id);
  EXPECT_STR(created, "name", "db");

  expect_no_secret_data(it_get(&s, "/secrets"), 200);
  expect_no_secret_data(
      it_send(&s, "PATCH",
              json_pack("{s:{s:s}}", "data", "password", "swordfish"),
              "/secrets/%s", id),
      200);
  expect_no_secret_data(it_send(&s, "PATCH",
                                json_pack("{s:s}", "description", "rotated"),
                                "/secrets/%s", id),
                        200);
  json_t *all = list_all(&s, "/secrets", "secrets", 1000);
  ck_assert_uint_eq(json_array_size(all), 1);
  EXPECT_STR(json_array_get(all, 0), "description", "rotated");
  EXPECT_STR(json_array_get(all, 0), "name", "db");
  json_decref(all);
  expect_no_secret_data(it_delete(&s, "/secrets/%s", id), 200);
  EXPECT_NOT_FOUND(it_delete(&s, "/secrets/%s", id));
  EXPECT_ERROR(
      it_send(&s, "POST", json_pack("{s:s}", "name", "no data"), "/secrets"),
      400, "data: is required");
  EXPECT(it_send(&s, "POST", json_pack("{s:s}", "data", "not an object"),
                 "/secrets"),
         400);
  json_decref(created);
}
END_TEST

START_TEST(test_users_crud) {
  it_session s;
  fresh_org(&s, NULL);
  json_t *user =
      EXPECT_JSON(it_send(&s, "POST",
                          json_pack("{s:s, s:s}", "email", "ada@example.com",
                                    "name", "Ada"),
                          "/users"),
                  200);
  const char *id = it_str(user, "userId");
  ck_assert_msg(it_id_valid("user", id), "userId %s", id);
  EXPECT_STR(user, "email", "ada@example.com");

  json_t *got = EXPECT_JSON(it_get(&s, "/users/%s", id), 200);
  ck_assert_msg(json_equal(got, user), "GET differs from POST");
  json_decref(got);
  json_t *all = list_all(&s, "/users", "users", 1);
  ck_assert_uint_eq(json_array_size(all), 2); /* and the signed-up user */
  ck_assert_msg(holds(all, "userId", id), "not listed");
  json_decref(all);

  json_t *patched =
      EXPECT_JSON(it_send(&s, "PATCH", json_pack("{s:s}", "name", "Ada L."),
                          "/users/%s", id),
                  200);
  EXPECT_STR(patched, "name", "Ada L.");
  EXPECT_STR(patched, "email", "ada@example.com");
  json_decref(patched);
  EXPECT(it_send(&s, "PATCH", json_pack("{s:s}", "email", "new@example.com"),
                 "/users/%s", id),
         400);
  EXPECT(it_delete(&s, "/users/%s", id), 200);
  EXPECT_NOT_FOUND(it_get(&s, "/users/%s", id));
  EXPECT_ERROR(
      it_send(&s, "POST", json_pack("{s:s}", "email", "not-an-email"),
              "/users"),
      400,
      "email: must match pattern "
      "^[A-Za-z0-9][-+._A-Za-z0-9]*@([-_.A-Za-z0-9]+\\.)+[A-Za-z]{2,}$");
  json_decref(user);
}
END_TEST

static void expect_dataset_count(const it_session *s, const char *id,
                                 json_int_t n) {
  json_t *ds = EXPECT_JSON(it_get(s, "/datasets/%s", id), 200);
  EXPECT_INT(ds, "numberOfDocuments", n);
  json_decref(ds);
}

START_TEST(test_datasets) {
  it_session s;
  fresh_org(&s, NULL);
  json_t *ds =
      EXPECT_JSON(it_send(&s, "POST",
                          json_pack("{s:s, s:s, s:b, s:i}", "name", "receipts",
                                    "description", "d",
                                    "containsPersonallyIdentifiableInformation",
                                    1, "retentionInDays", 30),
                          "/datasets"),
                  200);
  char a[ID_LEN], b[ID_LEN], d1[ID_LEN], d2[ID_LEN];
  snprintf(a, sizeof a, "%s", it_str(ds, "datasetId"));
  EXPECT_INT(ds, "numberOfDocuments", 0);
  EXPECT_INT(ds, "retentionInDays", 30);
  EXPECT_STR(ds, "name", "receipts");
  ck_assert_msg(json_is_true(json_object_get(
                    ds, "containsPersonallyIdentifiableInformation")),
                "PII flag lost");
  json_decref(ds);
  create_id(&s, "/datasets", json_object(), "datasetId", b);

  create_document(&s, a, NULL, d1);
  expect_dataset_count(&s, a, 1);
  create_document(&s, a, NULL, d2);
  expect_dataset_count(&s, a, 2);
  EXPECT(it_send(&s, "PATCH", json_pack("{s:s}", "datasetId", b),
                 "/documents/%s", d2),
         200);
  expect_dataset_count(&s, a, 1);
  expect_dataset_count(&s, b, 1);
  json_t *all = list_all(&s, "/datasets", "datasets", 1000);
  ck_assert_uint_eq(json_array_size(all), 2);
  EXPECT_INT(json_array_get(all, 0), "numberOfDocuments", 1);
  json_decref(all);

  json_t *patched = EXPECT_JSON(
      it_send(&s, "PATCH", json_pack("{s:s, s:n}", "name", "r2", "description"),
              "/datasets/%s", a),
      200);
  EXPECT_STR(patched, "name", "r2");
  EXPECT_STR(patched, "description", NULL);
  EXPECT_INT(patched, "numberOfDocuments", 1);
  json_decref(patched);

  /* A dataset that still holds documents is not deleted. */
  EXPECT(it_delete(&s, "/datasets/%s", a), 400);
  EXPECT(it_delete(&s, "/documents/%s", d1), 200);
  expect_dataset_count(&s, a, 0);
  json_t *deleted = EXPECT_JSON(it_delete(&s, "/datasets/%s", a), 200);
  EXPECT_STR(deleted, "datasetId", a);
  json_decref(deleted);
  EXPECT_NOT_FOUND(it_get(&s, "/datasets/%s", a));
  EXPECT(it_send(&s, "POST", json_pack("{s:i}", "retentionInDays", 0),
                 "/datasets"),
         400);
}
END_TEST

START_TEST(test_documents) {
  it_session s;
  fresh_org(&s, NULL);
  char ds[ID_LEN];
  create_id(&s, "/datasets", json_object(), "datasetId", ds);
  json_t *body = pdf_document();
  char *b64 = strdup(it_str(body, "content"));
  json_object_set_new(body, "consentId", json_string(CONSENT_1));
  json_object_set_new(body, "datasetId", json_string(ds));
  json_object_set_new(body, "retentionInDays", json_integer(30));
  json_object_set_new(body, "groundTruth",
                      json_pack("[{s:s, s:s}, {s:s, s:b}]", "label", "total",
                                "value", "12.50", "label", "paid", "value", 1));
  json_t *doc =
      EXPECT_JSON(it_send(&s, "POST", json_deep_copy(body), "/documents"), 200);
  const char *id = it_str(doc, "documentId");
  ck_assert_msg(it_id_valid("document", id), "documentId %s", id);
  EXPECT_STR(doc, "contentType", "application/pdf");
  EXPECT_STR(doc, "consentId", CONSENT_1);
  EXPECT_STR(doc, "datasetId", ds);
  EXPECT_INT(doc, "retentionInDays", 30);
  ck_assert_msg(json_equal(json_object_get(doc, "groundTruth"),
                           json_object_get(body, "groundTruth")),
                "groundTruth differs");

  json_t *got = EXPECT_JSON(it_get(&s, "/documents/%s", id), 200);
  EXPECT_STR(got, "content", b64);
  EXPECT_STR(got, "consentId", CONSENT_1);
  ck_assert_msg(json_equal(json_object_get(got, "groundTruth"),
                           json_object_get(body, "groundTruth")),
                "groundTruth differs on GET");
  json_decref(got);

  json_t *patched = EXPECT_JSON(
      it_send(&s, "PATCH",
              json_pack("{s:[{s:s, s:n}], s:i}", "groundTruth", "label",
                        "total", "value", "retentionInDays", 7),
              "/documents/%s", id),
      200);
  EXPECT_INT(patched, "retentionInDays", 7);
  ck_assert_uint_eq(json_array_size(json_object_get(patched, "groundTruth")),
                    1);
  EXPECT_STR(patched, "consentId", CONSENT_1);
  json_decref(patched);
  got = EXPECT_JSON(it_get(&s, "/documents/%s", id), 200);
  EXPECT_STR(got, "content", b64);
  EXPECT_INT(got, "retentionInDays", 7);
  ck_assert_uint_eq(json_array_size(json_object_get(got, "groundTruth")), 1);
  json_decref(got);

  json_t *deleted = EXPECT_JSON(it_delete(&s, "/documents/%s", id), 200);
  EXPECT_STR(deleted, "documentId", id);
  json_decref(deleted);
  EXPECT_NOT_FOUND(it_get(&s, "/documents/%s", id));
  free(b64);
  json_decref(doc);
  json_decref(body);
}
END_TEST

/* A few megabytes of content (under the documented 6250000 characters of
 * base64) come back byte for byte. */
START_TEST(test_large_document_round_trip) {
  it_session s;
  fresh_org(&s, NULL);
  enum { SIZE = 4 * 1024 * 1024 };
  unsigned char *bytes = malloc(SIZE);
  ck_assert(bytes);
  memcpy(bytes, pdf_bytes, sizeof pdf_bytes - 1);
  uint32_t x = 2463534242u;
  for (size_t i = sizeof pdf_bytes - 1; i < SIZE; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    bytes[i] = (unsigned char)x;
  }
  char id[ID_LEN];
  create_id(&s, "/documents", document_body("application/pdf", bytes, SIZE),
            "documentId", id);
  json_t *doc = EXPECT_JSON(it_get(&s, "/documents/%s", id), 200);
  size_t len = 0;
  unsigned char *back = it_b64_decode(it_str(doc, "content"), &len);
  ck_assert_msg(back && len == SIZE && memcmp(back, bytes, SIZE) == 0,
                "content changed on the way (%zu bytes back)", len);
  free(back);
  free(bytes);
  json_decref(doc);
}
END_TEST

START_TEST(test_document_defaults) {
  it_session s;
  fresh_org(&s, NULL);
  json_t *doc =
      EXPECT_JSON(it_send(&s, "POST", pdf_document(), "/documents"), 200);
  EXPECT_ABSENT(doc, "consentId");
  EXPECT_ABSENT(doc, "datasetId");
  EXPECT_ABSENT(doc, "content");
  json_t *gt = json_object_get(doc, "groundTruth");
  ck_assert_msg(json_is_array(gt) && json_array_size(gt) == 0,
                "groundTruth is not []");
  json_int_t days = json_integer_value(json_object_get(doc, "retentionInDays"));
  ck_assert_msg(days >= 1, "retentionInDays %lld", (long long)days);
  json_decref(doc);
}
END_TEST

START_TEST(test_document_content_is_checked) {
  it_session s;
  fresh_org(&s, NULL);
  EXPECT(it_send(&s, "POST", document_body("image/png", BYTES(png_bytes)),
                 "/documents"),
         200);
  EXPECT(it_send(&s, "POST", document_body("image/jpeg", BYTES(jpeg_bytes)),
                 "/documents"),
         200);
  EXPECT(it_send(&s, "POST", document_body("image/tiff", BYTES(tiff_bytes)),
                 "/documents"),
         200);
  EXPECT_ERROR_PREFIX(it_send(&s, "POST",
                              document_body("image/jpeg", BYTES(png_bytes)),
                              "/documents"),
                      400, "content: ");
  EXPECT_ERROR_PREFIX(
      it_send(&s, "POST", document_body("application/pdf", BYTES(jpeg_bytes)),
              "/documents"),
      400, "content: ");
  EXPECT_ERROR_PREFIX(it_send(&s, "POST",
                              document_body("image/png", "\x89PN", 3),
                              "/documents"),
                      400, "content: ");
  EXPECT_ERROR(it_send(&s, "POST",
                       json_pack("{s:s, s:s}", "contentType", "application/pdf",
                                 "content", "%%% not base64 %%%"),
                       "/documents"),
               400, "content: must be base64 encoded");
  EXPECT_ERROR_PREFIX(it_send(&s, "POST",
                              document_body("text/plain", BYTES(pdf_bytes)),
                              "/documents"),
                      400, "contentType: must be one of");
  EXPECT_ERROR(it_send(&s, "POST",
                       json_pack("{s:s}", "contentType", "application/pdf"),
                       "/documents"),
               400, "content: is required");
  ck_assert_uint_eq(count_listed(&s, "/documents"), 3);
}
END_TEST

START_TEST(test_document_dataset_must_exist) {
  it_session s;
  fresh_org(&s, NULL);
  json_t *body = pdf_document();
  json_object_set_new(body, "datasetId", json_string("las:dataset:" HEX32));
  EXPECT_ERROR_PREFIX(it_send(&s, "POST", body, "/documents"), 400,
                      "datasetId: ");
  char doc[ID_LEN];
  create_document(&s, NULL, NULL, doc);
  EXPECT_ERROR_PREFIX(
      it_send(&s, "PATCH",
              json_pack("{s:s}", "datasetId", "las:dataset:" HEX32),
              "/documents/%s", doc),
      400, "datasetId: ");
  EXPECT(it_send(&s, "PATCH", json_pack("{s:i}", "retentionInDays", 0),
                 "/documents/%s", doc),
         400);
  EXPECT_ERROR(it_send(&s, "PATCH", json_pack("{s:s}", "consentId", CONSENT_1),
                       "/documents/%s", doc),
               400, "consentId: is not allowed");
  ck_assert_uint_eq(count_listed(&s, "/documents"), 1);
}
END_TEST

static json_t *model_with(const char *field, int value) {
  json_t *body = model_body();
  json_object_set_new(body, field, json_integer(value));
  return body;
}

START_TEST(test_models) {
  it_session s;
  fresh_org(&s, NULL);
  json_t *body = model_body();
  json_object_set_new(body, "name", json_string("invoice"));
  json_object_set_new(body, "preprocessConfig",
                      json_pack("{s:b, s:s, s:i}", "autoRotate", 1,
                                "imageQuality", "HIGH", "maxPages", 3));
  json_t *model =
      EXPECT_JSON(it_send(&s, "POST", json_deep_copy(body), "/models"), 200);
  const char *id = it_str(model, "modelId");
  ck_assert_msg(it_id_valid("model", id), "modelId %s", id);
  EXPECT_INT(model, "width", 300);
  EXPECT_INT(model, "height", 200);
  EXPECT_INT(model, "numberOfDataBundles", 0);
  EXPECT_STR(model, "name", "invoice");
  ck_assert_msg(json_equal(json_object_get(model, "fieldConfig"),
                           json_object_get(body, "fieldConfig")),
                "fieldConfig differs");
  ck_assert_msg(json_equal(json_object_get(model, "preprocessConfig"),
                           json_object_get(body, "preprocessConfig")),
                "preprocessConfig differs");
  json_t *got = EXPECT_JSON(it_get(&s, "/models/%s", id), 200);
  ck_assert_msg(json_equal(got, model), "GET differs from POST");
  json_decref(got);

  json_t *patched = EXPECT_JSON(
      it_send(&s, "PATCH",
              json_pack("{s:s, s:i}", "status", "training", "width", 500),
              "/models/%s", id),
      200);
  EXPECT_STR(patched, "status", "training");
  EXPECT_INT(patched, "width", 500);
  EXPECT_STR(patched, "name", "invoice");
  json_decref(patched);
  EXPECT(it_send(&s, "PATCH", json_pack("{s:s}", "status", "broken"),
                 "/models/%s", id),
         400);
  EXPECT_ERROR(it_send(&s, "PATCH", json_pack("{s:i}", "height", 2000),
                       "/models/%s", id),
               400, "height: must be <= 1921");
  got = EXPECT_JSON(it_get(&s, "/models/%s", id), 200);
  EXPECT_STR(got, "status", "training");
  EXPECT_INT(got, "height", 200);
  json_decref(got);

  json_t *all = list_all(&s, "/models", "models", 1000);
  ck_assert_uint_eq(json_array_size(all), 1);
  EXPECT_INT(json_array_get(all, 0), "numberOfDataBundles", 0);
  json_decref(all);
  EXPECT(it_delete(&s, "/models/%s", id), 200);
  EXPECT_NOT_FOUND(it_get(&s, "/models/%s", id));
  json_decref(model);
  json_decref(body);
}
END_TEST

START_TEST(test_model_size_limits) {
  static const char *const fields[] = {"width", "height"};
  for (size_t i = 0; i < 2; i++) {
    char message[64];
    snprintf(message, sizeof message, "%s: must be >= 97", fields[i]);
    EXPECT_ERROR(it_send(&g_boot, "POST", model_with(fields[i], 96), "/models"),
                 400, message);
    snprintf(message, sizeof message, "%s: must be <= 1921", fields[i]);
    EXPECT_ERROR(
        it_send(&g_boot, "POST", model_with(fields[i], 1922), "/models"), 400,
        message);
    EXPECT(it_send(&g_boot, "POST", model_with(fields[i], 97), "/models"), 200);
    EXPECT(it_send(&g_boot, "POST", model_with(fields[i], 1921), "/models"),
           200);
  }
}
END_TEST

static void expect_counter(const it_session *s, const char *field,
                           json_int_t n) {
  json_t *org = EXPECT_JSON(it_get(s, "/organizations/me"), 200);
  EXPECT_INT(org, field, n);
  json_decref(org);
}

START_TEST(test_organization_counters) {
  it_session s;
  fresh_org(&s, NULL);
  json_t *org = EXPECT_JSON(it_get(&s, "/organizations/me"), 200);
  EXPECT_INT(org, "numberOfModelsCreated", 0);
  EXPECT_INT(org, "numberOfDatasetsCreated", 0);
  EXPECT_INT(org, "numberOfAssetsCreated", 0);
  EXPECT_INT(org, "numberOfSecretsCreated", 0);
  EXPECT_INT(org, "numberOfTransitionsCreated", 0);
  EXPECT_INT(org, "numberOfWorkflowsCreated", 0);
  EXPECT_INT(org, "numberOfUsersCreated", 1);      /* the signed-up user */
  EXPECT_INT(org, "numberOfAppClientsCreated", 1); /* its public client */
  json_decref(org);

  static const struct {
    const char *path, *id_field, *counter;
  } kinds[] = {
      {"/models", "modelId", "numberOfModelsCreated"},
      {"/datasets", "datasetId", "numberOfDatasetsCreated"},
      {"/assets", "assetId", "numberOfAssetsCreated"},
      {"/secrets", "secretId", "numberOfSecretsCreated"},
      {"/users", "userId", "numberOfUsersCreated"},
      {"/appClients", "appClientId", "numberOfAppClientsCreated"},
  };
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    json_t *before = EXPECT_JSON(it_get(&s, "/organizations/me"), 200);
    json_int_t n =
        json_integer_value(json_object_get(before, kinds[i].counter));
    json_decref(before);
    char first[ID_LEN], second[ID_LEN];
    create_id(&s, kinds[i].path, sample_body(kinds[i].path), kinds[i].id_field,
              first);
    create_id(&s, kinds[i].path, sample_body(kinds[i].path), kinds[i].id_field,
              second);
    expect_counter(&s, kinds[i].counter, n + 2);
    EXPECT(it_delete(&s, "%s/%s", kinds[i].path, first), 200);
    expect_counter(&s, kinds[i].counter, n + 1);
  }
}
END_TEST

START_TEST(test_organization_get_and_patch) {
  it_session s;
  char org_id[ID_LEN];
  fresh_org(&s, org_id);
  json_t *patched = EXPECT_JSON(
      it_send(&s, "PATCH",
              json_pack("{s:s, s:s}", "name", "Acme", "description", "tests"),
              "/organizations/%s", org_id),
      200);
  EXPECT_STR(patched, "name", "Acme");
  EXPECT_STR(patched, "description", "tests");
  expect_timestamp(patched, "updatedTime");
  json_decref(patched);
  json_t *org = EXPECT_JSON(it_get(&s, "/organizations/%s", org_id), 200);
  EXPECT_STR(org, "name", "Acme");
  EXPECT_STR(org, "organizationId", org_id);
  json_decref(org);
  EXPECT(it_send(&s, "PATCH", json_pack("{s:n}", "name"), "/organizations/me"),
         200);
  org = EXPECT_JSON(it_get(&s, "/organizations/me"), 200);
  EXPECT_STR(org, "name", NULL);
  json_decref(org);
  EXPECT(it_send(&s, "PATCH", json_pack("{s:i}", "numberOfModelsAllowed", 5),
                 "/organizations/me"),
         400);
}
END_TEST

/* ------------------------------------------------------------------ */
/* the process: durability, flags, shutdown (each test its own server) */

static void start_own(it_server *srv, const char *const *flags) {
  ck_assert_msg(it_server_start(srv, flags), "the server did not start");
}

static void stop_own(it_server *srv) {
  int status = it_server_stop(srv);
  ck_assert_msg(status == 0, "the server exited with %d after SIGTERM", status);
  it_server_cleanup(srv);
}

static it_session login_own(const it_server *srv) {
  it_session s;
  ck_assert_msg(it_login_bootstrap(srv, &s), "no bootstrap token");
  return s;
}

START_TEST(test_writes_survive_kill_9) {
  it_server srv;
  start_own(&srv, NULL);
  it_session s = login_own(&srv);
  char ds[ID_LEN], doc[ID_LEN], model[ID_LEN], asset[ID_LEN], gone[ID_LEN],
      secret[ID_LEN];
  create_id(&s, "/datasets", json_pack("{s:s}", "name", "kept"), "datasetId",
            ds);
  json_t *body = pdf_document();
  json_object_set_new(body, "datasetId", json_string(ds));
  create_id(&s, "/documents", body, "documentId", doc);
  create_id(&s, "/models", model_body(), "modelId", model);
  create_id(&s, "/assets", asset_body("kept"), "assetId", asset);
  create_id(&s, "/assets", asset_body("gone"), "assetId", gone);
  create_id(&s, "/secrets", json_pack("{s:{}}", "data"), "secretId", secret);
  json_t *client =
      EXPECT_JSON(it_send(&s, "POST", json_object(), "/appClients"), 200);
  EXPECT(it_send(&s, "PATCH", json_pack("{s:s}", "name", "patched"),
                 "/models/%s", model),
         200);
  char *token = first_token(&s, "/assets");
  json_t *doc_before = EXPECT_JSON(it_get(&s, "/documents/%s", doc), 200);
  json_t *model_before = EXPECT_JSON(it_get(&s, "/models/%s", model), 200);
  /* The last writes, answered just before the kill. */
  EXPECT(it_delete(&s, "/assets/%s", gone), 200);
  char user[ID_LEN];
  create_id(&s, "/users", json_pack("{s:s}", "email", "last@example.com"),
            "userId", user);

  it_server_kill9(&srv);
  ck_assert_msg(it_server_restart(&srv), "no restart on the same database");

  /* The old token still works: tokens are stored like everything else. */
  EXPECT(it_get(&s, "/models"), 200);
  it_session fresh = login_own(&srv);
  json_t *doc_after = EXPECT_JSON(it_get(&fresh, "/documents/%s", doc), 200);
  ck_assert_msg(json_equal(doc_before, doc_after), "the document changed");
  json_t *model_after = EXPECT_JSON(it_get(&fresh, "/models/%s", model), 200);
  ck_assert_msg(json_equal(model_before, model_after), "the model changed");
  EXPECT_STR(model_after, "name", "patched");
  expect_dataset_count(&fresh, ds, 1);
  EXPECT(it_get(&fresh, "/assets/%s", asset), 200);
  EXPECT_NOT_FOUND(it_get(&fresh, "/assets/%s", gone));
  EXPECT(it_get(&fresh, "/users/%s", user), 200);
  json_t *secrets = list_all(&fresh, "/secrets", "secrets", 1000);
  ck_assert_msg(holds(secrets, "secretId", secret), "the secret is gone");
  json_decref(secrets);
  /* A page token from before the restart continues the list. */
  char path[PATH_LEN];
  page_path(path, "/assets", 1, token);
  EXPECT(it_get(&fresh, "%s", path), 200);
  /* The app client made before the kill still logs in. */
  it_session c;
  ck_assert_msg(it_login(&srv, it_str(client, "clientId"),
                         it_str(client, "clientSecret"),
                         it_str(client, "apiKey"), &c),
                "the app client's credentials were lost");
  free(token);
  json_decref(client);
  json_decref(doc_before);
  json_decref(doc_after);
  json_decref(model_before);
  json_decref(model_after);
  stop_own(&srv);
}
END_TEST

static void send_text(int fd, const char *text) {
  ck_assert_msg(fd >= 0, "no connection");
  ck_assert_msg(write(fd, text, strlen(text)) == (ssize_t)strlen(text),
                "cannot write to the server");
}

/* SIGTERM does not wait for clients that keep connections open or stall in
 * the middle of a request: the server still stops soon, with status 0. */
START_TEST(test_sigterm_with_open_connections_exits_cleanly) {
  it_server srv;
  start_own(&srv, NULL);
  int idle = it_connect(&srv);
  int stalled = it_connect(&srv);
  int kept = it_connect(&srv);
  send_text(stalled, "POST /models HTTP/1.1\r\nHost: it\r\n"
                     "Content-Type: application/json\r\n"
                     "Content-Length: 100\r\n\r\n{\"wid");
  send_text(kept, "GET /health HTTP/1.1\r\nHost: it\r\n\r\n");
  char answer[512];
  ck_assert_msg(read(kept, answer, sizeof answer) > 0, "no answer on /health");
  int64_t start = it_now_ms();
  int status = it_server_stop(&srv);
  int64_t took = it_now_ms() - start;
  ck_assert_msg(status == 0, "exit status %d after SIGTERM", status);
  ck_assert_msg(took < 10000, "stopping took %lld ms", (long long)took);
  close(idle);
  close(stalled);
  close(kept);
  it_server_cleanup(&srv);
}
END_TEST

START_TEST(test_restart_keeps_bootstrap_organization) {
  it_server srv;
  start_own(&srv, NULL);
  char org[ID_LEN];
  snprintf(org, sizeof org, "%s", srv.org_id);
  ck_assert_msg(it_id_valid("organization", org), "banner org id %s", org);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  ck_assert_msg(it_server_restart(&srv), "no restart");
  ck_assert_str_eq(srv.org_id, org);
  it_session s = login_own(&srv);
  json_t *me = EXPECT_JSON(it_get(&s, "/organizations/me"), 200);
  EXPECT_STR(me, "organizationId", org);
  EXPECT_INT(me, "numberOfAppClientsCreated", 1);
  json_decref(me);
  stop_own(&srv);
}
END_TEST

/* The value of `NAME=` in the banner (out: 256 bytes). */
static void banner_value(const it_server *srv, const char *name, char *out) {
  const char *at = strstr(srv->banner, name);
  ck_assert_msg(at, "no %s in the banner:\n%s", name, srv->banner);
  at += strlen(name);
  size_t n = strcspn(at, "\n");
  ck_assert_msg(n < 256, "%s too long", name);
  memcpy(out, at, n);
  out[n] = '\0';
}

/* Issue 6: a second start on an existing database printed LAS_CLIENT_ID=
 * empty, so the README's own example failed after any restart. */
START_TEST(test_restart_prints_the_same_working_credentials) {
  static const char *const generated[] = {
      "--client-id", "", "--client-secret", "", "--api-key", "", NULL};
  it_server srv;
  start_own(&srv, generated);
  static const char *const names[] = {
      "LAS_CLIENT_ID=", "LAS_CLIENT_SECRET=", "LAS_API_KEY="};
  char first[3][256], second[3][256];
  for (int i = 0; i < 3; i++) {
    banner_value(&srv, names[i], first[i]);
    ck_assert_msg(first[i][0], "%s is empty on the first start", names[i]);
  }
  ck_assert_int_eq(it_server_stop(&srv), 0);
  for (int round = 0; round < 2; round++) {
    ck_assert_msg(it_server_restart(&srv), "no restart");
    for (int i = 0; i < 3; i++) {
      banner_value(&srv, names[i], second[i]);
      ck_assert_msg(strcmp(first[i], second[i]) == 0,
                    "%s was %s, after a restart %s", names[i], first[i],
                    second[i]);
    }
    it_session s;
    ck_assert_msg(it_login(&srv, second[0], second[1], second[2], &s),
                  "the printed credentials get no token");
    json_t *me = EXPECT_JSON(it_get(&s, "/organizations/me"), 200);
    json_decref(me);
    if (round == 0)
      ck_assert_int_eq(it_server_stop(&srv), 0);
  }
  stop_own(&srv);
}
END_TEST

/* Found by trying it: a restart with another --client-secret printed the
 * new secret while the database kept the old one (401 with what was
 * printed); a configured secret was never printed again. The configured
 * secret wins, and what is printed always works. */
START_TEST(test_restart_with_another_secret_prints_what_works) {
  static const char *flags[] = {"--client-id",
                                "qa-id",
                                "--client-secret",
                                "first-secret",
                                "--api-key",
                                "",
                                NULL};
  it_server srv;
  start_own(&srv, flags);
  char id[256], secret[256], key[256];
  banner_value(&srv, "LAS_API_KEY=", key);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  const char *const expected[] = {"second-secret", "second-secret"};
  for (int round = 0; round < 2; round++) {
    /* Round 0 configures a new secret, round 1 configures none. */
    srv.args[3] = round == 0 ? "second-secret" : "";
    ck_assert_msg(it_server_restart(&srv), "no restart");
    banner_value(&srv, "LAS_CLIENT_ID=", id);
    banner_value(&srv, "LAS_CLIENT_SECRET=", secret);
    ck_assert_str_eq(id, "qa-id");
    ck_assert_str_eq(secret, expected[round]);
    it_session s;
    ck_assert_msg(it_login(&srv, id, secret, key, &s),
                  "round %d: the printed secret gets no token", round);
    ck_assert_msg(!it_login(&srv, id, "first-secret", key, &s),
                  "round %d: the replaced secret still gets a token", round);
    if (round == 0)
      ck_assert_int_eq(it_server_stop(&srv), 0);
  }
  stop_own(&srv);
}
END_TEST

/* The banner's NAME=value lines can be pasted into a shell. */
START_TEST(test_banner_quotes_values_for_the_shell) {
  static const char *const flags[] = {"--client-secret", "p+q/r:s%t=u v'%41",
                                      NULL};
  it_server srv;
  start_own(&srv, flags);
  ck_assert_msg(
      strstr(srv.banner, "LAS_CLIENT_SECRET='p+q/r:s%t=u v'\\''%41'\n"),
      "not shell-quoted:\n%s", srv.banner);
  stop_own(&srv);
}
END_TEST

static long token_status(const it_server *srv, const char *authorization) {
  it_request r = {.method = "POST",
                  .path = "/oauth2/token?grant_type=client_credentials",
                  .authorization = authorization,
                  .content_type = "application/x-www-form-urlencoded",
                  .body = ""};
  it_response *resp = it_request_send(srv, &r);
  long status = resp->status;
  it_response_free(resp);
  return status;
}

static long basic_status(const it_server *srv, const char *id,
                         const char *secret) {
  char pair[512], header[1024];
  snprintf(pair, sizeof pair, "%s:%s", id, secret);
  char *b64 = it_b64_encode(pair, strlen(pair));
  snprintf(header, sizeof header, "Basic %s", b64);
  free(b64);
  return token_status(srv, header);
}

/* RFC 6749 §2.3.1: clients form-encode id and secret before Basic encoding
 * (and auth schemes are case-insensitive, RFC 9110 §11.1). */
START_TEST(test_oauth_accepts_form_encoded_client_credentials) {
  static const char id[] = "odd+id%=/ x";
  static const char secret[] = "s+e/c:r%e=t x";
  static const char *const flags[] = {"--client-id", id, "--client-secret",
                                      secret, NULL};
  it_server srv;
  start_own(&srv, flags);
  char *enc_id = it_url_encode(id), *enc_secret = it_url_encode(secret);
  ck_assert_int_eq(basic_status(&srv, id, secret), 200);
  ck_assert_int_eq(basic_status(&srv, enc_id, enc_secret), 200);
  ck_assert_int_eq(basic_status(&srv, id, enc_secret), 200);
  ck_assert_int_eq(
      basic_status(&srv, "odd%2Bid%25%3D%2F+x", "s%2Be%2Fc%3Ar%25e%3Dt+x"),
      200);
  ck_assert_int_eq(basic_status(&srv, enc_id, "s%2Be%2Fc%3Ar%25e%3Dt+y"), 401);
  ck_assert_int_eq(basic_status(&srv, id, "s+e/c:r%e=t"), 401);
  free(enc_id);
  free(enc_secret);

  char pair[512], header[1024];
  snprintf(pair, sizeof pair, "%s:%s", id, secret);
  char *b64 = it_b64_encode(pair, strlen(pair));
  static const char *const schemes[] = {"basic %s", "BASIC  %s", "Basic\t%s",
                                        "bAsIc %s  "};
  for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
    snprintf(header, sizeof header, schemes[i], b64);
    ck_assert_msg(token_status(&srv, header) == 200, "%s", schemes[i]);
  }
  free(b64);

  it_session s;
  ck_assert(it_login(&srv, id, secret, IT_API_KEY, &s));
  static const char *const bearers[] = {"bearer %s", "BEARER   %s",
                                        "Bearer\t%s", "BeArEr %s \t"};
  for (size_t i = 0; i < sizeof bearers / sizeof bearers[0]; i++) {
    snprintf(header, sizeof header, bearers[i], s.token);
    it_request r = {.method = "GET",
                    .path = "/organizations/me",
                    .authorization = header,
                    .api_key = IT_API_KEY};
    it_response *resp = it_request_send(&srv, &r);
    ck_assert_msg(resp->status == 200, "%s: %ld", bearers[i], resp->status);
    it_response_free(resp);
  }
  /* A token longer than any issued is refused, not cut to fit. */
  char longer[800];
  snprintf(longer, sizeof longer, "Bearer %s%s%s", s.token, s.token, s.token);
  it_request r = {
      .method = "GET", .path = "/organizations/me", .authorization = longer};
  EXPECT_FORBIDDEN(it_request_send(&srv, &r));
  stop_own(&srv);
}
END_TEST

START_TEST(test_no_auth_serves_the_bootstrap_organization) {
  static const char *const flags[] = {"--no-auth", NULL};
  it_server srv;
  start_own(&srv, flags);
  it_session anon = {.srv = &srv};
  json_t *me = EXPECT_JSON(it_get(&anon, "/organizations/me"), 200);
  EXPECT_STR(me, "organizationId", srv.org_id);
  json_decref(me);
  char id[ID_LEN];
  create_id(&anon, "/models", model_body(), "modelId", id);
  it_session s = login_own(&srv);
  EXPECT(it_get(&s, "/models/%s", id), 200);
  /* Credentials that are sent must still be right. */
  it_session bad = {.srv = &srv, .token = "garbage"};
  EXPECT_FORBIDDEN(it_get(&bad, "/models"));
  stop_own(&srv);
}
END_TEST

START_TEST(test_no_auth_refuses_remote_hosts) {
  static const char *const args[] = {"--no-auth", "--host", "0.0.0.0",
                                     "--port",    "0",      "--db",
                                     ":memory:",  NULL};
  char out[4096];
  int status = it_run_to_exit(args, 20000, out, sizeof out);
  ck_assert_msg(status > 0, "--no-auth --host 0.0.0.0 gave exit status %d",
                status);
  ck_assert_msg(!strstr(out, "listening"), "it listened: %s", out);

  static const char *const allowed[] = {"--no-auth", "--host", "0.0.0.0",
                                        "--allow-remote-no-auth", NULL};
  it_server srv;
  start_own(&srv, allowed);
  it_session anon = {.srv = &srv};
  EXPECT(it_get(&anon, "/organizations/me"), 200);
  stop_own(&srv);
}
END_TEST

START_TEST(test_bad_flags_exit_non_zero) {
  static const char *const port[] = {"--port", "abc", NULL};
  static const char *const unknown[] = {"--frobnicate", NULL};
  static const char *const body[] = {"--max-body-bytes", "0", NULL};
  char out[4096];
  ck_assert_int_ne(it_run_to_exit(port, 20000, out, sizeof out), 0);
  ck_assert_int_ne(it_run_to_exit(unknown, 20000, out, sizeof out), 0);
  ck_assert_int_ne(it_run_to_exit(body, 20000, out, sizeof out), 0);
  static const char *const help[] = {"--help", NULL};
  ck_assert_int_eq(it_run_to_exit(help, 20000, out, sizeof out), 0);
  ck_assert_msg(strstr(out, "--max-body-bytes"), "--help: %s", out);
}
END_TEST

START_TEST(test_shared_servers_exit_cleanly) {
  ck_assert_msg(g_servers_stopped == g_servers_started,
                "%d servers started, %d stopped", g_servers_started,
                g_servers_stopped);
  ck_assert_msg(g_exit_problems[0] == '\0', "%s", g_exit_problems);
}
END_TEST

/* ------------------------------------------------------------------ */

static TCase *shared_case(Suite *suite, const char *name, void (*setup)(void)) {
  TCase *tc = tcase_create(name);
  tcase_add_unchecked_fixture(tc, setup, shared_teardown);
  tcase_set_timeout(tc, 120);
  suite_add_tcase(suite, tc);
  return tc;
}

static Suite *integration_suite(void) {
  Suite *s = suite_create("integration");

  TCase *tc = shared_case(s, "routing", shared_setup);
  tcase_add_test(tc, test_every_operation_at_both_prefixes);
  tcase_add_test(tc, test_malformed_path_ids_are_400);
  tcase_add_test(tc, test_ids_of_the_wrong_kind_are_400);
  tcase_add_test(tc, test_overlong_path_ids_are_400);
  tcase_add_test(tc, test_query_parameters_beyond_64_are_not_dropped);
  tcase_add_test(tc, test_options_on_every_documented_path);
  tcase_add_test(tc, test_undocumented_methods_are_405_with_allow);
  tcase_add_test(tc, test_unknown_paths_are_404);
  tcase_add_test(tc, test_health_needs_no_auth);
  tcase_add_test(tc, test_api_routes_need_auth);
  tcase_add_test(tc, test_cors_origin_on_token_and_media_errors);

  tc = shared_case(s, "requests", shared_setup);
  tcase_add_test(tc, test_bodies_must_be_json);
  tcase_add_test(tc, test_malformed_json_is_400);
  tcase_add_test(tc, test_validation_names_location_and_rule);
  tcase_add_test(tc, test_patch_needs_a_property);
  tcase_add_test(tc, test_unknown_well_formed_ids_are_404);

  tc = shared_case(s, "body-limit", shared_setup_small_bodies);
  tcase_add_test(tc, test_body_at_the_limit_is_accepted);
  tcase_add_test(tc, test_body_over_the_limit_is_413_and_not_stored);
  tcase_add_test(tc, test_patch_over_the_limit_changes_nothing);

  tc = shared_case(s, "storage", shared_setup);
  tcase_add_test(tc, test_ids_and_timestamps);
  tcase_add_test(tc, test_every_list_has_next_token);
  tcase_add_test(tc, test_max_results_bounds);
  tcase_add_test(tc, test_tampered_next_token_is_400);
  tcase_add_test(tc, test_pagination_walks_every_item_once);
  tcase_add_test(tc, test_last_full_page_has_null_token);
  tcase_add_test(tc, test_pagination_is_stable_under_inserts);
  tcase_add_test(tc, test_documents_filtered_by_dataset_and_consent);
  tcase_add_test(tc, test_delete_documents_by_filter_with_pagination);
  tcase_add_test(tc, test_concurrent_writes_all_land);

  tc = shared_case(s, "auth", shared_setup);
  tcase_add_test(tc, test_token_endpoints);
  tcase_add_test(tc, test_token_errors);
  tcase_add_test(tc, test_api_calls_need_valid_credentials);
  tcase_add_test(tc, test_scoped_token);

  tc = shared_case(s, "tenancy", shared_setup);
  tcase_add_test(tc, test_signup_and_password_grant);
  tcase_add_test(tc, test_signed_up_organization_is_its_own);
  tcase_add_test(tc, test_organizations_are_isolated);
  tcase_add_test(tc, test_documents_cannot_use_another_orgs_dataset);

  tc = shared_case(s, "resources", shared_setup);
  tcase_add_test(tc, test_app_clients);
  tcase_add_test(tc, test_app_client_without_secret);
  tcase_add_test(tc, test_assets_round_trip_bytes);
  tcase_add_test(tc, test_secret_data_is_never_returned);
  tcase_add_test(tc, test_users_crud);
  tcase_add_test(tc, test_datasets);
  tcase_add_test(tc, test_documents);
  tcase_add_test(tc, test_large_document_round_trip);
  tcase_add_test(tc, test_document_defaults);
  tcase_add_test(tc, test_document_content_is_checked);
  tcase_add_test(tc, test_document_dataset_must_exist);
  tcase_add_test(tc, test_models);
  tcase_add_test(tc, test_model_size_limits);
  tcase_add_test(tc, test_organization_counters);
  tcase_add_test(tc, test_organization_get_and_patch);

  tc = tcase_create("process");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_writes_survive_kill_9);
  tcase_add_test(tc, test_restart_keeps_bootstrap_organization);
  tcase_add_test(tc, test_restart_prints_the_same_working_credentials);
  tcase_add_test(tc, test_restart_with_another_secret_prints_what_works);
  tcase_add_test(tc, test_banner_quotes_values_for_the_shell);
  tcase_add_test(tc, test_oauth_accepts_form_encoded_client_credentials);
  tcase_add_test(tc, test_sigterm_with_open_connections_exits_cleanly);
  tcase_add_test(tc, test_no_auth_serves_the_bootstrap_organization);
  tcase_add_test(tc, test_no_auth_refuses_remote_hosts);
  tcase_add_test(tc, test_bad_flags_exit_non_zero);
  suite_add_tcase(s, tc);

  /* Last: the shared servers above have all been stopped by now. */
  tc = tcase_create("shutdown");
  tcase_add_test(tc, test_shared_servers_exit_cleanly);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  const char *bin = getenv("LAS_EMULATOR_BIN");
  if (!bin || access(bin, X_OK) != 0) {
    fprintf(stderr, "LAS_EMULATOR_BIN must name the las-emulator binary\n");
    return 1;
  }
  /* Every server directory goes under one root, removed at the end even
   * when failed tests (which exit at once) left theirs behind. */
  const char *tmp = getenv("TMPDIR");
  char root[512];
  snprintf(root, sizeof root, "%s/las-integration-XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(root) || setenv("TMPDIR", root, 1) != 0) {
    perror("mkdtemp");
    return 1;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return 1;
  int status = ck_run(integration_suite(), CK_ENV);
  curl_global_cleanup();
  it_remove_tree(root);
  return status;
}
