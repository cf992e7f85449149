/* Transitions over HTTP: CRUD and its refusals, executions (start, list
 * filters and sorts, get, PATCH, a second completion, heartbeats), timeouts
 * by missing heartbeats (several at once, and one kept alive), the three
 * docker modes (auto, external, command with small shell scripts as the
 * commands), and what the workflow engine uses (the end hook, detach).
 *
 * Most tests drive the real binary and move its clock by restarting it
 * with --clock-offset-seconds (the timeouts also survive the restart). The
 * tests that must move time while something runs (a command killed at its
 * timeout; the end hook) run the server inside the test process, where the
 * clock can be shifted (clock_shift_us) and the engine woken; Check runs
 * each test in a child process of its own, so their globals never meet. */
#include "it_client.h"

#include "auth/auth.h"
#include "core/clock.h"
#include "core/config.h"
#include "engine/engine.h"
#include "http/server.h"
#include "resources/bootstrap.h"
#include "resources/paging.h"
#include "resources/transition_runtime.h"
#include "resources/transitions.h"
#include "routing/dispatch.h"
#include "storage/store.h"
#include "validation/schemas.h"

#include <check.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ck_run.h"

#define HEX32 "0123456789abcdef0123456789abcdef"
#define NO_SECRET "las:secret:" HEX32
#define NO_ASSET "las:asset:" HEX32

/* ---- helpers ---- */

/* Asserts the status and returns the parsed body (NEW; NULL when none). */
static json_t *expect(it_response *r, long status) {
  ck_assert_msg(r->status == status, "%s: expected %ld, got %ld: %s", r->what,
                status, r->status, r->body);
  json_t *body = json_incref(r->json);
  it_response_free(r);
  return body;
}

static void expect_ok(it_response *r) {
  json_decref(expect(r, 200));
}

/* Asserts an error status whose message contains `part`. */
static void expect_error(it_response *r, long status, const char *part) {
  ck_assert_msg(r->status == status, "%s: expected %ld, got %ld: %s", r->what,
                status, r->status, r->body);
  const char *msg = it_str(r->json, "message");
  ck_assert_msg(msg && strstr(msg, part), "%s: message '%s' lacks '%s'",
                r->what, msg ? msg : "(none)", part);
  it_response_free(r);
}

static char *transition(it_session *s, json_t *body) {
  json_t *t = expect(it_send(s, "POST", body, "/transitions"), 200);
  char *id = strdup(it_str(t, "transitionId"));
  json_decref(t);
  return id;
}

static json_t *start(it_session *s, const char *tid, json_t *input) {
  return expect(it_send(s, "POST", input, "/transitions/%s/executions", tid),
                200);
}

static json_t *get_exec(it_session *s, const char *tid, const char *eid) {
  return expect(it_get(s, "/transitions/%s/executions/%s", tid, eid), 200);
}

/* Polls an execution until its status is `want`. */
static json_t *wait_status(it_session *s, const char *tid, const char *eid,
                           const char *want, int timeout_ms) {
  int64_t until = it_now_ms() + timeout_ms;
  for (;;) {
    json_t *e = get_exec(s, tid, eid);
    if (strcmp(it_str(e, "status"), want) == 0)
      return e;
    ck_assert_msg(it_now_ms() < until, "%s still %s after %d ms (want %s)", eid,
                  it_str(e, "status"), timeout_ms, want);
    json_decref(e);
    usleep(20 * 1000);
  }
}

static json_t *log_events(it_session *s, const json_t *exec) {
  json_t *log = expect(it_get(s, "/logs/%s", it_str(exec, "logId")), 200);
  json_t *events = json_incref(json_object_get(log, "events"));
  json_decref(log);
  return events;
}

/* How many events' messages contain `part`. */
static int events_with(const json_t *events, const char *part) {
  int n = 0;
  size_t i;
  json_t *e;
  json_array_foreach(events, i, e) {
    const char *m = it_str(e, "message");
    n += m && strstr(m, part) ? 1 : 0;
  }
  return n;
}

/* How many events' messages are exactly `text`. */
static int events_equal(const json_t *events, const char *text) {
  int n = 0;
  size_t i;
  json_t *e;
  json_array_foreach(events, i, e) {
    const char *m = it_str(e, "message");
    n += m && strcmp(m, text) == 0 ? 1 : 0;
  }
  return n;
}

/* Polls the log until an event contains `part` (is `part`, when exact). */
static void wait_event_how(it_session *s, const json_t *exec, const char *part,
                           bool exact, int timeout_ms) {
  int64_t until = it_now_ms() + timeout_ms;
  for (;;) {
    json_t *events = log_events(s, exec);
    int n = exact ? events_equal(events, part) : events_with(events, part);
    char *dump = json_dumps(events, JSON_COMPACT);
    json_decref(events);
    if (n) {
      free(dump);
      return;
    }
    ck_assert_msg(it_now_ms() < until, "no event '%s' after %d ms: %s", part,
                  timeout_ms, dump);
    free(dump);
    usleep(20 * 1000);
  }
}

static void wait_event(it_session *s, const json_t *exec, const char *part,
                       int timeout_ms) {
  wait_event_how(s, exec, part, false, timeout_ms);
}

/* Polls the log until an event is exactly `text` (a program's line). */
static void wait_line(it_session *s, const json_t *exec, const char *text,
                      int timeout_ms) {
  wait_event_how(s, exec, text, true, timeout_ms);
}

static int64_t org_counter(it_session *s, const char *field) {
  json_t *org = expect(it_get(s, "/organizations/me"), 200);
  int64_t n = json_integer_value(json_object_get(org, field));
  json_decref(org);
  return n;
}

/* The ids of a list answer's executions, in order, joined by spaces. */
static void exec_ids(const json_t *list, char *out, size_t len) {
  out[0] = '\0';
  size_t used = 0, i;
  json_t *e;
  json_array_foreach(json_object_get(list, "executions"), i, e) {
    int n = snprintf(out + used, len - used, "%s%s", i ? " " : "",
                     it_str(e, "executionId"));
    used += n > 0 ? (size_t)n : 0;
  }
}

static void write_script(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
  ck_assert_int_eq(chmod(path, 0755), 0);
}

/* ---- transitions ---- */

START_TEST(test_transition_crud) {
  it_server srv;
  ck_assert(it_server_start(&srv, NULL));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  json_t *secret =
      expect(it_send(&s, "POST", json_pack("{s:{s:s}}", "data", "FOO", "bar"),
                     "/secrets"),
             200);
  json_t *asset = expect(
      it_send(&s, "POST", json_pack("{s:s}", "content", "aGVsbG8="), "/assets"),
      200);
  const char *secret_id = it_str(secret, "secretId");
  const char *asset_id = it_str(asset, "assetId");
  int64_t before = org_counter(&s, "numberOfTransitionsCreated");

  /* Manual, with defaults. */
  json_t *m =
      expect(it_send(&s, "POST",
                     json_pack("{s:s, s:s, s:{s:{s:s}}}", "transitionType",
                               "manual", "name", "approve", "parameters",
                               "assets", "jsRemoteComponent", asset_id),
                     "/transitions"),
             200);
  ck_assert(it_id_valid("transition", it_str(m, "transitionId")));
  ck_assert_str_eq(it_str(m, "transitionType"), "manual");
  ck_assert_int_eq(json_integer_value(json_object_get(m, "timeoutInSeconds")),
                   60);
  ck_assert(json_is_null(json_object_get(m, "description")));
  ck_assert(json_is_null(json_object_get(m, "updatedTime")));
  ck_assert(it_timestamp_valid(it_str(m, "createdTime")));
  ck_assert_str_eq(it_str(json_object_get(m, "assets"), "jsRemoteComponent"),
                   asset_id);
  ck_assert_ptr_null(json_object_get(m, "inputJsonSchema"));

  /* Docker, with everything. */
  json_t *d = expect(
      it_send(&s, "POST",
              json_pack("{s:s, s:s, s:i, s:{s:s}, s:{s:s}, "
                        "s:{s:s, s:s, s:{s:s}, s:[s], s:i, s:i}}",
                        "transitionType", "docker", "description", "predict",
                        "timeoutInSeconds", 1800, "inputJsonSchema", "type",
                        "object", "outputJsonSchema", "type", "object",
                        "parameters", "imageUrl", "example/image:1", "secretId",
                        secret_id, "environment", "A", "1",
                        "environmentSecrets", secret_id, "cpu", 256, "memory",
                        1024),
              "/transitions"),
      200);
  const char *mid = it_str(m, "transitionId"), *did = it_str(d, "transitionId");
  ck_assert_int_eq(json_integer_value(json_object_get(d, "timeoutInSeconds")),
                   1800);
  json_t *params = json_object_get(d, "parameters");
  ck_assert_str_eq(it_str(params, "imageUrl"), "example/image:1");
  ck_assert_int_eq(json_integer_value(json_object_get(params, "memory")), 1024);
  ck_assert_int_eq(org_counter(&s, "numberOfTransitionsCreated"), before + 2);

  /* GET answers what POST did. */
  json_t *got = expect(it_get(&s, "/transitions/%s", did), 200);
  ck_assert(json_equal(got, d));
  json_decref(got);

  /* Lists: filter (repeatable, echoed), paging. */
  json_t *list = expect(it_get(&s, "/transitions?transitionType=docker"), 200);
  ck_assert_int_eq(json_array_size(json_object_get(list, "transitions")), 1);
  ck_assert_str_eq(
      it_str(json_array_get(json_object_get(list, "transitions"), 0),
             "transitionId"),
      did);
  ck_assert_str_eq(json_string_value(json_array_get(
                       json_object_get(list, "transitionType"), 0)),
                   "docker");
  json_decref(list);
  list = expect(
      it_get(&s, "/transitions?transitionType=docker&transitionType=manual"),
      200);
  ck_assert_int_eq(json_array_size(json_object_get(list, "transitions")), 2);
  json_decref(list);
  list = expect(it_get(&s, "/transitions?maxResults=1"), 200);
  ck_assert_int_eq(json_array_size(json_object_get(list, "transitions")), 1);
  char *token = it_url_encode(it_str(list, "nextToken"));
  json_decref(list);
  list =
      expect(it_get(&s, "/transitions?maxResults=1&nextToken=%s", token), 200);
  free(token);
  ck_assert_str_eq(
      it_str(json_array_get(json_object_get(list, "transitions"), 0),
             "transitionId"),
      did);
  ck_assert(json_is_null(json_object_get(list, "nextToken")));
  json_decref(list);

  /* PATCH: names, schemas, the type's own parameters. */
  json_t *p =
      expect(it_send(&s, "PATCH",
                     json_pack("{s:s, s:{s:s}, s:{s:s}, s:[]}", "name",
                               "renamed", "inputJsonSchema", "type", "object",
                               "environment", "B", "2", "environmentSecrets"),
                     "/transitions/%s", did),
             200);
  ck_assert_str_eq(it_str(p, "name"), "renamed");
  ck_assert(it_timestamp_valid(it_str(p, "updatedTime")));
  params = json_object_get(p, "parameters");
  ck_assert_str_eq(it_str(json_object_get(params, "environment"), "B"), "2");
  ck_assert_ptr_null(
      json_object_get(json_object_get(params, "environment"), "A"));
  ck_assert_int_eq(
      json_array_size(json_object_get(params, "environmentSecrets")), 0);
  ck_assert_str_eq(it_str(params, "imageUrl"), "example/image:1");
  json_decref(p);
  p = expect(it_send(&s, "PATCH",
                     json_pack("{s:{s:s}}", "assets", "other", asset_id),
                     "/transitions/%s", mid),
             200);
  ck_assert_str_eq(it_str(json_object_get(p, "assets"), "other"), asset_id);
  ck_assert_str_eq(
      it_str(json_object_get(json_object_get(p, "parameters"), "assets"),
             "other"),
      asset_id);
  json_decref(p);

  /* Other organizations see nothing. */
  it_session other;
  ck_assert(it_signup(&srv, &other, NULL));
  expect_error(it_get(&other, "/transitions/%s", did), 404, "Not Found");
  list = expect(it_get(&other, "/transitions"), 200);
  ck_assert_int_eq(json_array_size(json_object_get(list, "transitions")), 0);
  json_decref(list);
  expect_error(
      it_send(&other, "POST", json_object(), "/transitions/%s/executions", did),
      404, "Not Found");

  /* DELETE answers the transition, then it is gone. */
  json_t *del = expect(it_delete(&s, "/transitions/%s", mid), 200);
  ck_assert_str_eq(it_str(del, "transitionId"), mid);
  json_decref(del);
  expect_error(it_get(&s, "/transitions/%s", mid), 404, "Not Found");
  ck_assert_int_eq(org_counter(&s, "numberOfTransitionsCreated"), before + 1);

  json_decref(m);
  json_decref(d);
  json_decref(secret);
  json_decref(asset);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

START_TEST(test_transition_refusals) {
  static const char *const args[] = {"--allowances",
                                     "numberOfTransitionsAllowed=3", NULL};
  it_server srv;
  ck_assert(it_server_start(&srv, args));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  json_t *secret = expect(
      it_send(&s, "POST", json_pack("{s:{s:s}}", "data", "K", "v"), "/secrets"),
      200);
  const char *sid = it_str(secret, "secretId");

  /* Schemas that are not JSON Schemas, named with the reason. */
  expect_error(it_send(&s, "POST",
                       json_pack("{s:s, s:{s:i}}", "transitionType", "manual",
                                 "inputJsonSchema", "type", 5),
                       "/transitions"),
               400,
               "inputJsonSchema: is not a valid JSON Schema: type must be");
  expect_error(it_send(&s, "POST",
                       json_pack("{s:s, s:{s:s}}", "transitionType", "manual",
                                 "outputJsonSchema", "pattern", "(unclosed"),
                       "/transitions"),
               400,
               "outputJsonSchema: is not a valid JSON Schema: invalid "
               "pattern");
  expect_error(it_send(&s, "POST",
                       json_pack("{s:s, s:{s:i}}", "transitionType", "manual",
                                 "inputJsonSchema", "minLength", -1),
                       "/transitions"),
               400, "inputJsonSchema: is not a valid JSON Schema: minLength");
  /* Secrets and assets of the organization only. */
  expect_error(
      it_send(&s, "POST",
              json_pack("{s:s, s:{s:s, s:s}}", "transitionType", "docker",
                        "parameters", "imageUrl", "i", "secretId", NO_SECRET),
              "/transitions"),
      400,
      "parameters.secretId: secret " NO_SECRET " does not exist in this "
      "organization");
  expect_error(it_send(&s, "POST",
                       json_pack("{s:s, s:{s:s, s:[s, s]}}", "transitionType",
                                 "docker", "parameters", "imageUrl", "i",
                                 "environmentSecrets", sid, NO_SECRET),
                       "/transitions"),
               400, "parameters.environmentSecrets[1]: secret " NO_SECRET);
  expect_error(
      it_send(&s, "POST",
              json_pack("{s:s, s:{s:{s:s}}}", "transitionType", "manual",
                        "parameters", "assets", "jsRemoteComponent", NO_ASSET),
              "/transitions"),
      400, "parameters.assets.jsRemoteComponent: asset " NO_ASSET);
  /* The type decides which parameters apply. */
  expect_error(it_send(&s, "POST",
                       json_pack("{s:s}", "transitionType", "docker"),
                       "/transitions"),
               400, "parameters.imageUrl: is required for docker transitions");
  expect_error(it_send(&s, "POST",
                       json_pack("{s:s, s:{s:s}}", "transitionType", "manual",
                                 "parameters", "imageUrl", "i"),
                       "/transitions"),
               400, "parameters.imageUrl: is not allowed for manual");
  expect_error(it_send(&s, "POST",
                       json_pack("{s:s, s:i}", "transitionType", "manual",
                                 "timeoutInSeconds", 59),
                       "/transitions"),
               400, "timeoutInSeconds");
  expect_error(it_get(&s, "/transitions?transitionType=robot"), 400,
               "transitionType: must be one of");
  char *mid = transition(&s, json_pack("{s:s}", "transitionType", "manual"));
  expect_error(it_send(&s, "PATCH",
                       json_pack("{s:{s:s}}", "environment", "A", "1"),
                       "/transitions/%s", mid),
               400, "environment: is not allowed for manual transitions");
  expect_error(
      it_send(&s, "PATCH",
              json_pack("{s:{s:s}}", "outputJsonSchema", "type", "thing"),
              "/transitions/%s", mid),
      400, "outputJsonSchema: is not a valid JSON Schema");
  expect_error(it_send(&s, "PATCH",
                       json_pack("{s:{s:s}}", "assets", "x", NO_ASSET),
                       "/transitions/%s", mid),
               400, "assets.x: asset " NO_ASSET);
  /* Nothing refused was made. */
  json_t *list = expect(it_get(&s, "/transitions"), 200);
  ck_assert_int_eq(json_array_size(json_object_get(list, "transitions")), 1);
  json_decref(list);
  /* numberOfTransitionsAllowed. */
  free(transition(&s, json_pack("{s:s}", "transitionType", "manual")));
  free(transition(&s, json_pack("{s:s}", "transitionType", "manual")));
  expect_error(it_send(&s, "POST",
                       json_pack("{s:s}", "transitionType", "manual"),
                       "/transitions"),
               429, "Limit Exceeded");
  free(mid);
  json_decref(secret);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

/* ---- executions ---- */

START_TEST(test_executions) {
  static const char *const args[] = {
      "--allowances", "monthlyNumberOfTransitionExecutionsAllowed=8", NULL};
  it_server srv;
  ck_assert(it_server_start(&srv, args));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char *tid = transition(
      &s, json_pack("{s:s, s:{s:s, s:{s:{s:s}}, s:[s]}, s:{s:s, s:{s:{s:s}}, "
                    "s:[s]}}",
                    "transitionType", "manual", "inputJsonSchema", "type",
                    "object", "properties", "n", "type", "integer", "required",
                    "n", "outputJsonSchema", "type", "object", "properties",
                    "ok", "type", "boolean", "required", "ok"));

  /* Input is checked against inputJsonSchema, naming the rule. */
  expect_error(it_send(&s, "POST", json_pack("{s:s}", "n", "x"),
                       "/transitions/%s/executions", tid),
               400,
               "input does not match the transition's inputJsonSchema: "
               "input.n: must be integer");
  expect_error(
      it_send(&s, "POST", json_object(), "/transitions/%s/executions", tid),
      400, "input.n: is required");

  json_t *e[4];
  for (int i = 0; i < 4; i++)
    e[i] = start(&s, tid, json_pack("{s:i}", "n", i));
  const char *id0 = it_str(e[0], "executionId");
  ck_assert(it_id_valid("transition-execution", id0));
  ck_assert_str_eq(it_str(e[0], "status"), "running");
  ck_assert_str_eq(it_str(e[0], "transitionId"), tid);
  ck_assert_int_eq(
      json_integer_value(json_object_get(json_object_get(e[0], "input"), "n")),
      0);
  ck_assert(it_timestamp_valid(it_str(e[0], "startTime")));
  ck_assert(json_is_null(json_object_get(e[0], "endTime")));
  ck_assert(json_is_null(json_object_get(e[0], "completedBy")));
  ck_assert(it_id_valid("log", it_str(e[0], "logId")));
  json_t *got = get_exec(&s, tid, id0);
  ck_assert(json_equal(got, e[0]));
  json_decref(got);
  ck_assert_int_eq(
      org_counter(&s, "monthlyNumberOfTransitionExecutionsCreated"), 4);

  /* Heartbeat: exactly 204, nothing in the body. */
  char path[300];
  snprintf(path, sizeof path, "/transitions/%s/executions/%s/heartbeats", tid,
           id0);
  it_request hb = {.method = "POST",
                   .path = path,
                   .token = s.token,
                   .api_key = s.api_key,
                   .content_type = "application/json",
                   .body = "{}"};
  it_response *r = it_request_send(&srv, &hb);
  ck_assert_int_eq(r->status, 204);
  ck_assert_uint_eq(r->body_len, 0);
  /* No body, so nothing claims to be JSON. */
  ck_assert_str_eq(r->content_type, "");
  ck_assert_str_eq(r->cors_origin, "*");
  it_response_free(r);

  /* PATCH: the rules of each status, output against outputJsonSchema. */
  expect_error(it_send(&s, "PATCH", json_pack("{s:s}", "status", "succeeded"),
                       "/transitions/%s/executions/%s", tid, id0),
               400, "output: is required when status is succeeded");
  expect_error(it_send(&s, "PATCH",
                       json_pack("{s:s, s:{s:i}}", "status", "succeeded",
                                 "output", "ok", 1),
                       "/transitions/%s/executions/%s", tid, id0),
               400,
               "output does not match the transition's outputJsonSchema: "
               "output.ok: must be boolean");
  expect_error(it_send(&s, "PATCH", json_pack("{s:s}", "status", "failed"),
                       "/transitions/%s/executions/%s", tid, id0),
               400, "error: is required when status is failed");
  /* (the schema's anyOf refuses it, without naming the member) */
  expect_error(it_send(&s, "PATCH", json_pack("{s:s}", "status", "running"),
                       "/transitions/%s/executions/%s", tid, id0),
               400, "must match at least one schema");
  expect_error(it_send(&s, "PATCH", json_object(),
                       "/transitions/%s/executions/%s", tid, id0),
               400, "status: is required");
  json_t *done = expect(it_send(&s, "PATCH",
                                json_pack("{s:s, s:{s:b}}", "status",
                                          "succeeded", "output", "ok", 1),
                                "/transitions/%s/executions/%s", tid, id0),
                        200);
  ck_assert_str_eq(it_str(done, "status"), "succeeded");
  ck_assert(it_timestamp_valid(it_str(done, "endTime")));
  ck_assert(it_id_valid("app-client", it_str(done, "completedBy")));
  json_decref(done);
  /* A second completion is refused and changes nothing. */
  expect_error(it_send(&s, "PATCH",
                       json_pack("{s:s, s:{s:s}}", "status", "failed", "error",
                                 "message", "late"),
                       "/transitions/%s/executions/%s", tid, id0),
               409, "only a running execution can be completed");
  expect_error(it_send(&s, "PATCH",
                       json_pack("{s:s, s:{s:b}}", "status", "succeeded",
                                 "output", "ok", 0),
                       "/transitions/%s/executions/%s", tid, id0),
               409, "is succeeded already");
  got = get_exec(&s, tid, id0);
  ck_assert_str_eq(it_str(got, "status"), "succeeded");
  json_decref(got);
  r = it_request_send(&srv, &hb);
  ck_assert_int_eq(r->status, 409);
  it_response_free(r);

  /* A long message (the SDK sends up to 4 KiB of traceback), of two-byte
   * characters: the log keeps 4 KiB of it, cut between characters. */
  char long_msg[8000] = "broken ";
  for (size_t i = strlen(long_msg); i + 3 < sizeof long_msg; i += 2)
    memcpy(long_msg + i, "\xc3\xa9", 3);
  expect_ok(it_send(&s, "PATCH",
                    json_pack("{s:s, s:{s:s}}", "status", "failed", "error",
                              "message", long_msg),
                    "/transitions/%s/executions/%s", tid,
                    it_str(e[1], "executionId")));
  expect_ok(it_send(&s, "PATCH", json_pack("{s:s}", "status", "rejected"),
                    "/transitions/%s/executions/%s", tid,
                    it_str(e[2], "executionId")));
  /* startTime alone moves the start. */
  json_t *moved = expect(
      it_send(&s, "PATCH",
              json_pack("{s:s}", "startTime", "2020-01-02T03:04:05.5+01:00"),
              "/transitions/%s/executions/%s", tid,
              it_str(e[3], "executionId")),
      200);
  ck_assert_str_eq(it_str(moved, "startTime"),
                   "2020-01-02T02:04:05.500000+0000");
  ck_assert_str_eq(it_str(moved, "status"), "running");
  json_decref(moved);
  expect_error(it_send(&s, "PATCH",
                       json_pack("{s:s}", "startTime",
                                 "1010-04-14T14:13:02.021412+02:00"),
                       "/transitions/%s/executions/%s", tid,
                       it_str(e[3], "executionId")),
               400, "startTime: is not a valid date-time from 1970 on");
  expect_error(it_send(&s, "PATCH", json_pack("{s:s}", "startTime", "2020"),
                       "/transitions/%s/executions/%s", tid,
                       it_str(e[3], "executionId")),
               400, "startTime");

  /* The log: started, then the end, filterable by the execution. */
  json_t *events = log_events(&s, e[1]);
  ck_assert_int_eq(events_with(events, "started by"), 1);
  ck_assert_int_eq(events_with(events, "failed: broken \xc3\xa9"), 1);
  const char *kept = it_str(json_array_get(events, 1), "message");
  ck_assert_uint_le(strlen(kept), 4096);
  ck_assert_uint_ge(strlen(kept), 4000);
  json_decref(events);
  json_t *logs = expect(
      it_get(&s, "/logs?transitionExecutionId=%s", it_str(e[1], "executionId")),
      200);
  ck_assert_int_eq(json_array_size(json_object_get(logs, "logs")), 1);
  ck_assert_str_eq(
      it_str(json_array_get(json_object_get(logs, "logs"), 0), "logId"),
      it_str(e[1], "logId"));
  json_decref(logs);
  logs = expect(it_get(&s, "/logs?transitionId=%s&transitionExecutionId=%s",
                       tid, it_str(e[2], "executionId")),
                200);
  ck_assert_int_eq(json_array_size(json_object_get(logs, "logs")), 1);
  json_decref(logs);
  logs = expect(it_get(&s, "/logs?transitionId=%s", tid), 200);
  ck_assert_int_eq(json_array_size(json_object_get(logs, "logs")), 4);
  json_decref(logs);
  /* A built-in transition's name only has the characters of its pattern
   * (the filter is echoed in the answer, checked against its schema). */
  expect_error(it_get(&s, "/logs?transitionId=las:transition:commons-a%%3Db"),
               400, "transitionId: must match pattern");
  logs =
      expect(it_get(&s, "/logs?transitionId=las:transition:commons-a-1"), 200);
  ck_assert_int_eq(json_array_size(json_object_get(logs, "logs")), 0);
  json_decref(logs);

  /* Lists: filters, sorts, paging. */
  char ids[1200], want[1200];
  json_t *list = expect(it_get(&s, "/transitions/%s/executions", tid), 200);
  ck_assert_str_eq(it_str(list, "transitionId"), tid);
  exec_ids(list, ids, sizeof ids);
  snprintf(want, sizeof want, "%s %s %s %s", id0, it_str(e[1], "executionId"),
           it_str(e[2], "executionId"), it_str(e[3], "executionId"));
  ck_assert_str_eq(ids, want);
  json_decref(list);
  list = expect(it_get(&s,
                       "/transitions/%s/executions?status=failed&status="
                       "rejected",
                       tid),
                200);
  exec_ids(list, ids, sizeof ids);
  snprintf(want, sizeof want, "%s %s", it_str(e[1], "executionId"),
           it_str(e[2], "executionId"));
  ck_assert_str_eq(ids, want);
  ck_assert_int_eq(json_array_size(json_object_get(list, "status")), 2);
  json_decref(list);
  list = expect(it_get(&s,
                       "/transitions/%s/executions?executionId=%s&"
                       "executionId=%s&order=descending",
                       tid, id0, it_str(e[3], "executionId")),
                200);
  exec_ids(list, ids, sizeof ids);
  snprintf(want, sizeof want, "%s %s", it_str(e[3], "executionId"), id0);
  ck_assert_str_eq(ids, want);
  json_decref(list);
  list = expect(it_get(&s,
                       "/transitions/%s/executions?status=running&"
                       "executionId=%s",
                       tid, id0),
                200);
  ck_assert_int_eq(json_array_size(json_object_get(list, "executions")), 0);
  json_decref(list);
  /* startTime: e[3] was moved to 2020, so it comes first. */
  list = expect(it_get(&s, "/transitions/%s/executions?sortBy=startTime", tid),
                200);
  exec_ids(list, ids, sizeof ids);
  const char *first = it_str(e[3], "executionId");
  ck_assert_msg(strncmp(ids, first, strlen(first)) == 0, "%s", ids);
  json_decref(list);
  /* endTime descending: the running one (no end) first, then the newest
   * end; page by page with the same order. */
  snprintf(want, sizeof want, "%s %s %s %s", it_str(e[3], "executionId"),
           it_str(e[2], "executionId"), it_str(e[1], "executionId"), id0);
  char paged[1200] = "";
  char *token = NULL;
  for (int page = 0; page < 5; page++) {
    list = token ? expect(it_get(&s,
                                 "/transitions/%s/executions?sortBy=endTime&"
                                 "order=descending&maxResults=1&nextToken=%s",
                                 tid, token),
                          200)
                 : expect(it_get(&s,
                                 "/transitions/%s/executions?sortBy=endTime&"
                                 "order=descending&maxResults=1",
                                 tid),
                          200);
    free(token);
    token = NULL;
    exec_ids(list, ids, sizeof ids);
    if (ids[0]) {
      if (paged[0])
        strncat(paged, " ", sizeof paged - strlen(paged) - 1);
      strncat(paged, ids, sizeof paged - strlen(paged) - 1);
    }
    if (json_is_string(json_object_get(list, "nextToken")))
      token = it_url_encode(it_str(list, "nextToken"));
    json_decref(list);
    if (!token)
      break;
  }
  ck_assert_str_eq(paged, want);
  /* A token only continues its own list. */
  list =
      expect(it_get(&s, "/transitions/%s/executions?maxResults=1", tid), 200);
  token = it_url_encode(it_str(list, "nextToken"));
  json_decref(list);
  expect_error(it_get(&s,
                      "/transitions/%s/executions?maxResults=1&sortBy="
                      "startTime&nextToken=%s",
                      tid, token),
               400, "nextToken");
  free(token);
  expect_error(it_get(&s, "/transitions/%s/executions?sortBy=name", tid), 400,
               "sortBy: must be one of [\"startTime\", \"endTime\"]");
  expect_error(it_get(&s, "/transitions/%s/executions?order=up", tid), 400,
               "order: must be one of");
  /* (with the other filters already read: under the sanitizers, a leak of
   * them fails the server's exit status below) */
  expect_error(it_get(&s,
                      "/transitions/%s/executions?status=running&executionId="
                      "%s&order=up",
                      tid, id0),
               400, "order: must be one of");
  expect_error(it_get(&s, "/transitions/%s/executions?status=done", tid), 400,
               "status: must be one of");
  expect_error(it_get(&s, "/transitions/%s/executions?executionId=x", tid), 400,
               "executionId: must match pattern");
  /* An execution is only found under its own transition. */
  char *other = transition(&s, json_pack("{s:s}", "transitionType", "manual"));
  expect_error(it_get(&s, "/transitions/%s/executions/%s", other, id0), 404,
               "Not Found");
  expect_error(it_send(&s, "PATCH",
                       json_pack("{s:s, s:{s:b}}", "status", "succeeded",
                                 "output", "ok", 1),
                       "/transitions/%s/executions/%s", other,
                       it_str(e[3], "executionId")),
               404, "Not Found");

  /* monthlyNumberOfTransitionExecutionsAllowed (8): 4 made, 4 more fit. */
  for (int i = 0; i < 4; i++)
    json_decref(start(&s, other, json_object()));
  expect_error(
      it_send(&s, "POST", json_object(), "/transitions/%s/executions", other),
      429, "Limit Exceeded");
  ck_assert_int_eq(
      org_counter(&s, "monthlyNumberOfTransitionExecutionsCreated"), 8);

  /* Deleting the transition ends its running execution and removes all. */
  expect_ok(it_delete(&s, "/transitions/%s", tid));
  json_t *ended = log_events(&s, e[3]);
  ck_assert_int_eq(events_with(ended, "the transition was deleted"), 1);
  json_decref(ended);
  expect_error(it_get(&s, "/transitions/%s/executions/%s", tid, id0), 404,
               "Not Found");

  for (int i = 0; i < 4; i++)
    json_decref(e[i]);
  free(tid);
  free(other);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

/* Time moves by restarting with a later --clock-offset-seconds: 20
 * executions time out together, exactly once each, while one kept alive by
 * a heartbeat runs on until its own deadline. */
START_TEST(test_timeouts_across_restarts) {
  enum { N = 20 };
  char offset[16] = "0";
  const char *args[] = {"--clock-offset-seconds", offset, NULL};
  it_server srv;
  ck_assert(it_server_start(&srv, args));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char *tid = transition(&s, json_pack("{s:s, s:i}", "transitionType", "manual",
                                       "timeoutInSeconds", 60));
  json_t *e[N];
  for (int i = 0; i < N; i++)
    e[i] = start(&s, tid, json_object());
  json_t *kept = start(&s, tid, json_object());
  const char *kid = it_str(kept, "executionId");

  /* +40 s: nothing is due; a heartbeat moves the kept one's deadline to
   * +100 s. */
  ck_assert_int_eq(it_server_stop(&srv), 0);
  snprintf(offset, sizeof offset, "40");
  ck_assert(it_server_restart(&srv));
  ck_assert(it_login_bootstrap(&srv, &s));
  json_t *list = expect(
      it_get(&s, "/transitions/%s/executions?status=running&maxResults=100",
             tid),
      200);
  ck_assert_int_eq(json_array_size(json_object_get(list, "executions")), N + 1);
  json_decref(list);
  json_decref(
      expect(it_send(&s, "POST", json_object(),
                     "/transitions/%s/executions/%s/heartbeats", tid, kid),
             204));

  /* +75 s: the 20 are past their deadline, the kept one is not. */
  ck_assert_int_eq(it_server_stop(&srv), 0);
  snprintf(offset, sizeof offset, "75");
  ck_assert(it_server_restart(&srv));
  ck_assert(it_login_bootstrap(&srv, &s));
  for (int i = 0; i < N; i++) {
    json_t *f =
        wait_status(&s, tid, it_str(e[i], "executionId"), "failed", 20000);
    ck_assert(it_timestamp_valid(it_str(f, "endTime")));
    ck_assert(json_is_null(json_object_get(f, "completedBy")));
    json_t *events = log_events(&s, f);
    ck_assert_int_eq(events_with(events, "timed out: no heartbeat or "
                                         "completion within 60 seconds"),
                     1);
    ck_assert_int_eq(events_with(events, "failed"), 1);
    json_decref(events);
    json_decref(f);
  }
  json_t *k = get_exec(&s, tid, kid);
  ck_assert_str_eq(it_str(k, "status"), "running");
  json_decref(k);
  /* Completing a timed-out execution is refused. */
  expect_error(
      it_send(&s, "PATCH",
              json_pack("{s:s, s:{}}", "status", "succeeded", "output"),
              "/transitions/%s/executions/%s", tid,
              it_str(e[0], "executionId")),
      409, "is failed already");

  /* +130 s: past the moved deadline. */
  ck_assert_int_eq(it_server_stop(&srv), 0);
  snprintf(offset, sizeof offset, "130");
  ck_assert(it_server_restart(&srv));
  ck_assert(it_login_bootstrap(&srv, &s));
  k = wait_status(&s, tid, kid, "failed", 20000);
  json_t *events = log_events(&s, k);
  ck_assert_int_eq(events_with(events, "timed out"), 1);
  json_decref(events);
  json_decref(k);
  /* Still exactly once each, after another look. */
  for (int i = 0; i < N; i++) {
    events = log_events(&s, e[i]);
    ck_assert_int_eq(events_with(events, "timed out"), 1);
    json_decref(events);
    json_decref(e[i]);
  }
  json_decref(kept);
  free(tid);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

/* The control API moves the clock and runs what fell due before it
 * answers: every timeout has fired by then, and a command that was still
 * running is killed at its timeout. */
START_TEST(test_clock_advance_fires_timeouts) {
  enum { N = 30 };
  static const char *const args[] = {
      "--docker-mode", "command", "--docker-command",
      "example/sleeper=echo sleeping; exec sleep 300", NULL};
  it_server srv;
  ck_assert(it_server_start(&srv, args));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char *tid = transition(&s, json_pack("{s:s}", "transitionType", "manual"));
  char *sleeper =
      transition(&s, json_pack("{s:s, s:{s:s}}", "transitionType", "docker",
                               "parameters", "imageUrl", "example/sleeper"));
  json_t *e[N];
  for (int i = 0; i < N; i++)
    e[i] = start(&s, tid, json_object());
  json_t *cmd = start(&s, sleeper, json_object());
  wait_line(&s, cmd, "sleeping", 20000);
  it_request adv = {.method = "POST",
                    .path = "/_emulator/clock/advance",
                    .content_type = "application/json",
                    .body = "{\"seconds\": 45}"};
  json_decref(expect(it_request_send(&srv, &adv), 200));
  json_t *list =
      expect(it_get(&s, "/transitions/%s/executions?status=running", tid), 200);
  ck_assert_int_eq(json_array_size(json_object_get(list, "executions")), N);
  json_decref(list);
  adv.body = "{\"seconds\": 16}";
  json_decref(expect(it_request_send(&srv, &adv), 200));
  /* No waiting: they ended before the answer. */
  list =
      expect(it_get(&s, "/transitions/%s/executions?status=failed", tid), 200);
  ck_assert_int_eq(json_array_size(json_object_get(list, "executions")), N);
  json_decref(list);
  json_t *c = get_exec(&s, sleeper, it_str(cmd, "executionId"));
  ck_assert_str_eq(it_str(c, "status"), "failed");
  json_decref(c);
  wait_event(&s, cmd, "the command was killed by signal 9", 20000);
  json_t *events = log_events(&s, cmd);
  ck_assert_int_eq(events_with(events, "timed out"), 1);
  json_decref(events);
  for (int i = 0; i < N; i++)
    json_decref(e[i]);
  json_decref(cmd);
  free(tid);
  free(sleeper);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

/* ---- docker modes ---- */

START_TEST(test_docker_auto) {
  static const char *const args[] = {"--processing-delay-ms", "200", NULL};
  it_server srv;
  ck_assert(it_server_start(&srv, args));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char *tid =
      transition(&s, json_pack("{s:s, s:{s:s}}", "transitionType", "docker",
                               "parameters", "imageUrl", "example/image"));
  json_t *e = start(&s, tid, json_pack("{s:i}", "a", 1));
  ck_assert_str_eq(it_str(e, "status"), "running");
  json_t *done =
      wait_status(&s, tid, it_str(e, "executionId"), "succeeded", 20000);
  ck_assert(json_is_null(json_object_get(done, "completedBy")));
  ck_assert(it_timestamp_valid(it_str(done, "endTime")));
  json_decref(done);
  json_decref(e);
  /* Output = input, so an outputJsonSchema the input does not meet fails
   * it, saying why. */
  char *strict = transition(
      &s, json_pack("{s:s, s:{s:s}, s:{s:[s]}}", "transitionType", "docker",
                    "parameters", "imageUrl", "example/image",
                    "outputJsonSchema", "required", "result"));
  e = start(&s, strict, json_pack("{s:i}", "a", 1));
  done = wait_status(&s, strict, it_str(e, "executionId"), "failed", 20000);
  json_t *events = log_events(&s, done);
  ck_assert_int_eq(events_with(events, "output.result: is required"), 1);
  json_decref(events);
  json_decref(done);
  json_decref(e);
  /* Manual transitions are not docker: they wait. */
  char *manual = transition(&s, json_pack("{s:s}", "transitionType", "manual"));
  e = start(&s, manual, json_object());
  usleep(600 * 1000);
  json_t *still = get_exec(&s, manual, it_str(e, "executionId"));
  ck_assert_str_eq(it_str(still, "status"), "running");
  json_decref(still);
  json_decref(e);
  free(tid);
  free(strict);
  free(manual);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

START_TEST(test_docker_external) {
  static const char *const args[] = {"--processing-delay-ms", "100",
                                     "--docker-mode", "external", NULL};
  it_server srv;
  ck_assert(it_server_start(&srv, args));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char *tid =
      transition(&s, json_pack("{s:s, s:{s:s}}", "transitionType", "docker",
                               "parameters", "imageUrl", "example/image"));
  json_t *e = start(&s, tid, json_pack("{s:s}", "documentId", "d"));
  usleep(600 * 1000);
  /* A worker polls for running executions and completes them. */
  json_t *list =
      expect(it_get(&s, "/transitions/%s/executions?status=running", tid), 200);
  ck_assert_int_eq(json_array_size(json_object_get(list, "executions")), 1);
  json_t *found = json_array_get(json_object_get(list, "executions"), 0);
  ck_assert_str_eq(it_str(found, "executionId"), it_str(e, "executionId"));
  ck_assert_str_eq(it_str(json_object_get(found, "input"), "documentId"), "d");
  json_decref(list);
  json_t *done = expect(it_send(&s, "PATCH",
                                json_pack("{s:s, s:{s:s}}", "status",
                                          "succeeded", "output", "r", "x"),
                                "/transitions/%s/executions/%s", tid,
                                it_str(e, "executionId")),
                        200);
  ck_assert_str_eq(it_str(done, "status"), "succeeded");
  json_decref(done);
  json_decref(e);
  free(tid);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

/* A transition's code as the service runs it: reads its ids and
 * credentials from the environment, gets a token, reads its execution and
 * completes it. */
static const char worker_script[] =
    "#!/bin/sh\n"
    "echo \"start $EXECUTION_ID of $TRANSITION_ID FOO=$FOO X=$X\"\n"
    "tok=$(curl -sS -X POST -u \"$LAS_CLIENT_ID:$LAS_CLIENT_SECRET\" "
    "\"$LAS_AUTH_ENDPOINT?grant_type=client_credentials\" | "
    "sed 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')\n"
    "url=\"$LAS_API_ENDPOINT/transitions/$TRANSITION_ID/executions/"
    "$EXECUTION_ID\"\n"
    "got=$(curl -sS -o /dev/null -w '%{http_code}' \"$url\" "
    "-H \"Authorization: Bearer $tok\" -H \"x-api-key: $LAS_API_KEY\")\n"
    "echo \"read $got\"\n"
    "code=$(curl -sS -o /dev/null -w '%{http_code}' -X PATCH \"$url\" "
    "-H \"Authorization: Bearer $tok\" -H \"x-api-key: $LAS_API_KEY\" "
    "-H 'Content-Type: application/json' "
    "-d \"{\\\"status\\\": \\\"succeeded\\\", \\\"output\\\": "
    "{\\\"foo\\\": \\\"$FOO\\\"}}\")\n"
    "echo \"patched $code\" >&2\n";

START_TEST(test_docker_command) {
  char dir[256];
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/las-cmd-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char worker[320], file[320], map_worker[400];
  snprintf(worker, sizeof worker, "%s/worker.sh", dir);
  write_script(worker, worker_script);
  snprintf(map_worker, sizeof map_worker, "example/worker:1=%s", worker);
  /* The file maps another image, and one the flag maps differently (the
   * flag wins). */
  snprintf(file, sizeof file, "%s/commands.json", dir);
  write_script(file, "{\"example/quitter\": \"echo bye; exit 3\", "
                     "\"example/worker:1\": \"exit 99\"}");
  const char *args[] = {"--docker-mode",
                        "command",
                        "--docker-command",
                        map_worker,
                        "--docker-commands",
                        file,
                        NULL};
  it_server srv;
  ck_assert(it_server_start(&srv, args));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  json_t *secret = expect(
      it_send(&s, "POST", json_pack("{s:{s:s}}", "data", "FOO", "from-secret"),
              "/secrets"),
      200);
  char *tid = transition(
      &s, json_pack("{s:s, s:{s:s, s:{s:s, s:s}, s:[s]}}", "transitionType",
                    "docker", "parameters", "imageUrl", "example/worker:1",
                    "environment", "X", "x1", "FOO", "overridden",
                    "environmentSecrets", it_str(secret, "secretId")));
  json_t *e = start(&s, tid, json_pack("{s:i}", "a", 1));
  const char *eid = it_str(e, "executionId");
  json_t *done = wait_status(&s, tid, eid, "succeeded", 30000);
  /* It acted as the organization's transition client. */
  const char *by = it_str(done, "completedBy");
  ck_assert(it_id_valid("app-client", by));
  json_t *clients = expect(it_get(&s, "/appClients"), 200);
  bool found = false;
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(clients, "appClients"), i, c) {
    if (strcmp(it_str(c, "appClientId"), by) == 0)
      found = strcmp(it_str(c, "name"), "las-emulator transitions") == 0;
  }
  ck_assert_msg(found, "completedBy %s is not the transitions client", by);
  json_decref(clients);
  /* Its output is the log, with the environment it was given (a secret's
   * value over the transition's environment). */
  wait_event(&s, done, "the command exited with status 0", 10000);
  json_t *events = log_events(&s, done);
  char line[400];
  snprintf(line, sizeof line, "start %s of %s FOO=from-secret X=x1", eid, tid);
  ck_assert_int_eq(events_with(events, line), 1);
  ck_assert_int_eq(events_with(events, "read 200"), 1);
  ck_assert_int_eq(events_with(events, "patched 200"), 1);
  json_decref(events);
  json_decref(done);
  json_decref(e);

  /* A command that exits without completing its execution fails it. */
  char *quit =
      transition(&s, json_pack("{s:s, s:{s:s}}", "transitionType", "docker",
                               "parameters", "imageUrl", "example/quitter"));
  e = start(&s, quit, json_object());
  done = wait_status(&s, quit, it_str(e, "executionId"), "failed", 30000);
  ck_assert(json_is_null(json_object_get(done, "completedBy")));
  events = log_events(&s, done);
  ck_assert_int_eq(events_equal(events, "bye"), 1);
  ck_assert_int_eq(events_with(events, "failed: the command exited with "
                                       "status 3 without completing"),
                   1);
  json_decref(events);
  json_decref(done);
  json_decref(e);

  /* An image nothing maps fails at once, naming the flags. */
  char *unmapped =
      transition(&s, json_pack("{s:s, s:{s:s}}", "transitionType", "docker",
                               "parameters", "imageUrl", "example/unknown"));
  e = start(&s, unmapped, json_object());
  done = wait_status(&s, unmapped, it_str(e, "executionId"), "failed", 30000);
  events = log_events(&s, done);
  ck_assert_int_eq(events_with(events, "no command is mapped to image "
                                       "example/unknown"),
                   1);
  json_decref(events);
  json_decref(done);
  json_decref(e);

  free(tid);
  free(quit);
  free(unmapped);
  json_decref(secret);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
  it_remove_tree(dir);
}
END_TEST

START_TEST(test_docker_flags_refused) {
  char out[16384];
  static const char *const mode[] = {"--docker-mode", "kubernetes", NULL};
  ck_assert_int_eq(it_run_to_exit(mode, 30000, out, sizeof out), 1);
  static const char *const line[] = {"--docker-command", "no-equals-sign",
                                     NULL};
  ck_assert_int_eq(it_run_to_exit(line, 30000, out, sizeof out), 1);
  static const char *const file[] = {"--docker-commands", "/nonexistent.json",
                                     NULL};
  ck_assert_int_eq(it_run_to_exit(file, 30000, out, sizeof out), 1);
  static const char *const help[] = {"--help", NULL};
  ck_assert_int_eq(it_run_to_exit(help, 30000, out, sizeof out), 0);
  ck_assert_ptr_nonnull(strstr(out, "--docker-mode"));
}
END_TEST

/* ---- in process: moving the clock while things run ---- */

typedef struct inproc {
  char dir[256];
  http_server *http;
  it_server srv; /* only port and base_url: for the HTTP helpers */
} inproc;

static void inproc_start(inproc *p, const char *mode, const char *commands) {
  const char *tmp = getenv("TMPDIR");
  snprintf(p->dir, sizeof p->dir, "%s/las-inproc-XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  ck_assert_ptr_nonnull(mkdtemp(p->dir));
  char db[320], err[512];
  snprintf(db, sizeof db, "%s/t.db", p->dir);
  char *argv[] = {
      "test",           "--client-id", IT_CLIENT_ID, "--client-secret",
      IT_CLIENT_SECRET, "--api-key",   IT_API_KEY,   NULL};
  config cfg;
  ck_assert_int_eq(config_load(&cfg, 7, argv, err, sizeof err), CONFIG_OK);
  ck_assert_msg(schemas_init(err, sizeof err), "%s", err);
  ck_assert_msg(store_global_open(db, err, sizeof err), "%s", err);
  store *s = store_thread();
  ck_assert_ptr_nonnull(s);
  ck_assert_msg(paging_init(s, err, sizeof err), "%s", err);
  bootstrap_info boot;
  ck_assert_msg(bootstrap_run(&cfg, &boot, err, sizeof err), "%s", err);
  auth_set_default_principal(&boot.principal);
  dispatch_settings ds = {.validate_responses = true};
  dispatch_configure(&ds);
  engine_set_processing_delay_ms(100);
  ck_assert_msg(transitions_configure(mode, commands, "", err, sizeof err),
                "%s", err);
  store_set_job_hook(engine_wake);
  ck_assert_msg(transitions_start(err, sizeof err), "%s", err);
  ck_assert_msg(engine_start(err, sizeof err), "%s", err);
  http_settings hs = {.host = "127.0.0.1",
                      .port = 0,
                      .threads = 2,
                      .max_body_bytes = cfg.max_body_bytes,
                      .max_uri_bytes = cfg.max_uri_bytes,
                      .max_query_params = cfg.max_query_params,
                      .max_header_bytes = cfg.max_header_bytes,
                      .max_headers = cfg.max_headers,
                      .header_timeout_ms = cfg.header_timeout_ms,
                      .body_timeout_ms = cfg.body_timeout_ms,
                      .idle_timeout_s = cfg.idle_timeout_s,
                      .max_connections = 64,
                      .max_connections_per_address = 0};
  p->http = http_start(&hs, err, sizeof err);
  ck_assert_msg(p->http, "%s", err);
  memset(&p->srv, 0, sizeof p->srv);
  p->srv.port = http_port(p->http);
  snprintf(p->srv.base_url, sizeof p->srv.base_url, "http://127.0.0.1:%u",
           p->srv.port);
  char api[128], auth[128];
  snprintf(api, sizeof api, "%s/v1", p->srv.base_url);
  snprintf(auth, sizeof auth, "%s/oauth2/token", p->srv.base_url);
  transitions_set_endpoints(api, auth);
}

static void inproc_stop(inproc *p) {
  http_stop(p->http);
  engine_stop();
  transitions_stop();
  store_thread_release();
  store_global_close();
  schemas_free();
  it_remove_tree(p->dir);
}

/* Moves the emulator's clock and lets the engine see it. */
static void inproc_advance(int64_t seconds) {
  clock_shift_us(seconds * 1000000);
  engine_wake();
}

START_TEST(test_command_killed_at_timeout) {
  inproc p;
  inproc_start(&p, "command", "example/sleeper=echo sleeping; exec sleep 300");
  it_session s;
  ck_assert(it_login_bootstrap(&p.srv, &s));
  char *tid =
      transition(&s, json_pack("{s:s, s:i, s:{s:s}}", "transitionType",
                               "docker", "timeoutInSeconds", 60, "parameters",
                               "imageUrl", "example/sleeper"));
  json_t *e = start(&s, tid, json_object());
  wait_line(&s, e, "sleeping", 20000);
  json_t *still = get_exec(&s, tid, it_str(e, "executionId"));
  ck_assert_str_eq(it_str(still, "status"), "running");
  json_decref(still);
  inproc_advance(61);
  json_t *done =
      wait_status(&s, tid, it_str(e, "executionId"), "failed", 20000);
  wait_event(&s, done, "the command was killed by signal 9", 20000);
  json_t *events = log_events(&s, done);
  ck_assert_int_eq(events_with(events, "timed out"), 1);
  ck_assert_int_eq(events_with(events, "failed"), 1);
  json_decref(events);
  json_decref(done);
  json_decref(e);
  free(tid);
  inproc_stop(&p);
}
END_TEST

/* The end hook as the workflow engine sees it. */
static _Atomic int hook_calls;
static _Atomic int hook_timeouts;
static _Atomic int hook_malformed;
static char hook_last_status[16]; /* read after the PATCH that set it */
static store_status count_hook(store *s, const transition_end *e) {
  (void)s;
  hook_calls++;
  hook_timeouts += e->timed_out ? 1 : 0;
  snprintf(hook_last_status, sizeof hook_last_status, "%s", e->status);
  bool failed = strcmp(e->status, "failed") == 0;
  if (!e->workflow_execution_id || !e->execution_id || e->output ||
      (failed && !json_is_string(json_object_get(e->error, "message"))) ||
      (e->timed_out && !failed))
    hook_malformed++;
  return STORE_ONE;
}

typedef struct {
  const char *org;
  const char *tid;
  char ids[64][IDS_MAX_LEN];
  int n;
  char why[512];
} start_args;

static store_status start_for_workflow(store *s, void *arg) {
  start_args *a = arg;
  json_t *input = json_pack("{s:i}", "n", a->n);
  transition_start ts = {.org_id = a->org,
                         .transition_id = a->tid,
                         .input = input,
                         .workflow_id = "las:workflow:" HEX32,
                         .workflow_execution_id =
                             "las:workflow-execution:" HEX32,
                         .now_us = clock_now_us()};
  store_status st =
      transition_exec_start(s, &ts, a->ids[a->n], a->why, sizeof a->why);
  json_decref(input);
  if (st == STORE_ONE)
    a->n++;
  return st;
}

static store_status detach_one(store *s, void *arg) {
  start_args *a = arg;
  return transition_exec_detach(s, a->org, a->ids[0]);
}

START_TEST(test_end_hook_and_many_timeouts) {
  enum { N = 60 };
  inproc p;
  inproc_start(&p, "external", "");
  transition_exec_set_end_hook(count_hook);
  it_session s;
  ck_assert(it_login_bootstrap(&p.srv, &s));
  json_t *org = expect(it_get(&s, "/organizations/me"), 200);
  char org_id[64];
  snprintf(org_id, sizeof org_id, "%s", it_str(org, "organizationId"));
  json_decref(org);
  char *tid = transition(
      &s, json_pack("{s:s, s:{s:{s:{s:s}}}}", "transitionType", "manual",
                    "inputJsonSchema", "properties", "n", "type", "integer"));

  /* The contract: unknown transitions and bad input are STORE_NONE with a
   * reason; transition_exists answers. */
  start_args a = {.org = org_id, .tid = "las:transition:" HEX32};
  ck_assert_int_eq(store_write_tx(start_for_workflow, &a), STORE_NONE);
  ck_assert_ptr_nonnull(strstr(a.why, "does not exist"));
  ck_assert_int_eq(transition_exists(store_thread(), org_id, tid), STORE_ONE);
  ck_assert_int_eq(transition_exists(store_thread(), org_id, a.tid),
                   STORE_NONE);
  a.tid = tid;
  for (int i = 0; i < N; i++)
    ck_assert_int_eq(store_write_tx(start_for_workflow, &a), STORE_ONE);
  ck_assert_int_eq(a.n, N);
  /* Each has its log, linked to the workflow. */
  json_t *logs = expect(
      it_get(&s, "/logs?workflowExecutionId=las:workflow-execution:" HEX32
                 "&maxResults=1000"),
      200);
  ck_assert_int_eq(json_array_size(json_object_get(logs, "logs")), N);
  json_decref(logs);
  logs = expect(it_get(&s,
                       "/logs?workflowId=las:workflow:" HEX32
                       "&transitionExecutionId=%s",
                       a.ids[5]),
                200);
  ck_assert_int_eq(json_array_size(json_object_get(logs, "logs")), 1);
  json_decref(logs);

  /* A PATCH tells the hook; a detached execution does not. */
  ck_assert_int_eq(store_write_tx(detach_one, &a), STORE_ONE);
  expect_ok(it_send(&s, "PATCH", json_pack("{s:s}", "status", "rejected"),
                    "/transitions/%s/executions/%s", tid, a.ids[0]));
  ck_assert_int_eq(hook_calls, 0);
  expect_ok(it_send(&s, "PATCH", json_pack("{s:s}", "status", "rejected"),
                    "/transitions/%s/executions/%s", tid, a.ids[1]));
  ck_assert_int_eq(hook_calls, 1);
  ck_assert_str_eq(hook_last_status, "rejected");

  /* Heartbeats keep one alive across two deadlines. */
  inproc_advance(45);
  json_decref(
      expect(it_send(&s, "POST", json_object(),
                     "/transitions/%s/executions/%s/heartbeats", tid, a.ids[2]),
             204));
  /* +61: the other N-3 time out together, each exactly once. */
  inproc_advance(16);
  int64_t until = it_now_ms() + 30000;
  for (;;) {
    json_t *list = expect(it_get(&s,
                                 "/transitions/%s/executions?status=running&"
                                 "maxResults=1000",
                                 tid),
                          200);
    size_t running = json_array_size(json_object_get(list, "executions"));
    json_decref(list);
    if (running == 1)
      break;
    ck_assert_msg(it_now_ms() < until, "%zu still running", running);
    usleep(20 * 1000);
  }
  ck_assert_int_eq(hook_calls, 1 + (N - 3));
  ck_assert_int_eq(hook_timeouts, N - 3);
  json_t *kept = get_exec(&s, tid, a.ids[2]);
  ck_assert_str_eq(it_str(kept, "status"), "running");
  json_decref(kept);
  /* Nothing more happens when the clock moves on, but the kept one. */
  inproc_advance(60);
  kept = wait_status(&s, tid, a.ids[2], "failed", 20000);
  json_decref(kept);
  usleep(200 * 1000);
  ck_assert_int_eq(hook_calls, 1 + (N - 2));
  ck_assert_int_eq(hook_timeouts, N - 2);
  ck_assert_int_eq(hook_malformed, 0);
  for (int i = 2; i < N; i++) {
    json_t *e = get_exec(&s, tid, a.ids[i]);
    json_t *events = log_events(&s, e);
    ck_assert_int_eq(events_with(events, "timed out"), 1);
    json_decref(events);
    json_decref(e);
  }
  free(tid);
  inproc_stop(&p);
}
END_TEST

/* Logs and execution lists are served from indexes, never by scanning. */
START_TEST(test_query_plans_use_indexes) {
  inproc p;
  inproc_start(&p, "auto", "");
  store *s = store_thread();
  char plan[2048];
  for (int desc = 0; desc < 2; desc++) {
    ck_assert_int_eq(store_log_page_plan(s, desc, plan, sizeof plan),
                     STORE_ONE);
    ck_assert_msg(strstr(plan, "SEARCH r USING PRIMARY KEY (org_id=? AND "
                               "ref=? AND seq"),
                  "%s", plan);
    ck_assert_msg(!strstr(plan, "SCAN"), "%s", plan);
  }
  json_t *statuses = json_pack("[s]", "running");
  json_t *ids = json_pack("[s]", "las:transition-execution:" HEX32);
  for (int sort = 0; sort < 3; sort++) {
    for (int desc = 0; desc < 2; desc++) {
      for (int filter = 0; filter < 3; filter++) {
        store_texec_query q = {.sort = (store_texec_sort)sort,
                               .descending = desc,
                               .statuses = filter == 1 ? statuses : NULL,
                               .ids = filter == 2 ? ids : NULL};
        ck_assert_int_eq(store_texec_page_plan(s, &q, plan, sizeof plan),
                         STORE_ONE);
        /* Only the id list itself is walked. */
        ck_assert_msg(!strstr(plan, "SCAN t") && !strstr(plan, "SCAN o"),
                      "sort %d desc %d filter %d:\n%s", sort, desc, filter,
                      plan);
        ck_assert_msg(strstr(plan, "USING INDEX") ||
                          strstr(plan, "USING INTEGER PRIMARY KEY") ||
                          strstr(plan, "USING COVERING INDEX"),
                      "%s", plan);
        if (filter == 0 && sort != 0)
          ck_assert_msg(!strstr(plan, "TEMP B-TREE"), "sorted: %s", plan);
      }
    }
  }
  json_decref(statuses);
  json_decref(ids);
  inproc_stop(&p);
}
END_TEST

static Suite *transitions_suite(void) {
  Suite *s = suite_create("transitions");
  TCase *tc = tcase_create("transitions");
  tcase_set_timeout(tc, 240);
  tcase_add_test(tc, test_transition_crud);
  tcase_add_test(tc, test_transition_refusals);
  tcase_add_test(tc, test_executions);
  tcase_add_test(tc, test_timeouts_across_restarts);
  tcase_add_test(tc, test_clock_advance_fires_timeouts);
  tcase_add_test(tc, test_docker_auto);
  tcase_add_test(tc, test_docker_external);
  tcase_add_test(tc, test_docker_command);
  tcase_add_test(tc, test_docker_flags_refused);
  tcase_add_test(tc, test_command_killed_at_timeout);
  tcase_add_test(tc, test_end_hook_and_many_timeouts);
  tcase_add_test(tc, test_query_plans_use_indexes);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return ck_run(transitions_suite(), CK_NORMAL);
}
