/* The emulator's control API over HTTP: GET /_emulator/clock and POST
 * /_emulator/clock/advance, which fires what became due before it answers;
 * who may call them (the admin token, or loopback clients without one). */
#include "it_client.h"

#include "ck_run.h"
#include <arpa/inet.h>
#include <check.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXPECT_STATUS(resp, code)                                              \
  do {                                                                         \
    it_response *r_ = (resp);                                                  \
    ck_assert_msg(r_->status == (code), "%s: expected %d, got %ld: %s",        \
                  r_->what, (int)(code), r_->status, r_->body);                \
  } while (0)

/* Processing takes ten minutes: nothing finishes unless the clock moves. */
static const char *const slow[] = {"--processing-delay-ms", "600000", NULL};

static it_response *control(const it_server *srv, const char *method,
                            const char *path, const char *body,
                            const char *authorization) {
  it_request rq = {.method = method,
                   .path = path,
                   .authorization = authorization,
                   .content_type = body ? "application/json" : NULL,
                   .body = body};
  return it_request_send(srv, &rq);
}

static const char *message(const it_response *r) {
  return it_str(r->json, "message");
}

START_TEST(test_clock_shape) {
  it_server srv;
  static const char *const ahead[] = {"--clock-offset-seconds", "3155760000",
                                      NULL};
  ck_assert(it_server_start(&srv, ahead));
  /* What the server reports is real time plus the offset. */
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t real_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  it_response *r = control(&srv, "GET", "/_emulator/clock", NULL, NULL);
  EXPECT_STATUS(r, 200);
  ck_assert(it_timestamp_valid(it_str(r->json, "now")));
  ck_assert(json_is_integer(json_object_get(r->json, "epochMilliseconds")));
  ck_assert(json_is_real(json_object_get(r->json, "offsetSeconds")));
  ck_assert(json_real_value(json_object_get(r->json, "offsetSeconds")) ==
            3155760000.0);
  int64_t ms =
      json_integer_value(json_object_get(r->json, "epochMilliseconds"));
  int64_t want = real_ms + 3155760000000LL;
  ck_assert_msg(ms >= want - 5000 && ms <= want + 5000, "%lld vs %lld",
                (long long)ms, (long long)want);
  /* now and epochMilliseconds are the same instant. */
  struct tm tm = {0};
  int micros = 0;
  ck_assert_int_eq(sscanf(it_str(r->json, "now"), "%d-%d-%dT%d:%d:%d.%d",
                          &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                          &tm.tm_min, &tm.tm_sec, &micros),
                   7);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  ck_assert_int_eq((int64_t)timegm(&tm) * 1000 + micros / 1000, ms);
  it_response_free(r);
  /* HEAD as GET; PUT and DELETE set and reset it (test_state.c); no
   * other method. */
  r = control(&srv, "HEAD", "/_emulator/clock", NULL, NULL);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  r = control(&srv, "PATCH", "/_emulator/clock", NULL, NULL);
  EXPECT_STATUS(r, 405);
  ck_assert_str_eq(r->allow, "DELETE, GET, HEAD, PUT");
  it_response_free(r);
  r = control(&srv, "GET", "/_emulator/clock/advance", NULL, NULL);
  EXPECT_STATUS(r, 405);
  it_response_free(r);
  /* The offset is 64-bit and bounded: 100 years at most. */
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
  static const char *const too_far[][7] = {
      {"--clock-offset-seconds", "3155760001", "--db", ":memory:", "--port",
       "0", NULL},
      {"--clock-offset-seconds", "18446744073709551616", "--db",
       ":memory:", "--port", "0", NULL},
      {"--clock-offset-seconds", "-1", "--db", ":memory:", "--port", "0", NULL},
  };
  char out[256];
  for (size_t i = 0; i < sizeof too_far / sizeof too_far[0]; i++)
    ck_assert_int_eq(it_run_to_exit(too_far[i], 5000, out, sizeof out), 1);
}
END_TEST

START_TEST(test_advance_refuses_bad_bodies) {
  it_server srv;
  ck_assert(it_server_start(&srv, NULL));
  static const struct {
    const char *body;
    const char *content_type;
    long status;
    const char *message;
  } bad[] = {
      {"{}", NULL, 400, "seconds: is required"},
      {"{\"seconds\": -1}", NULL, 400, "seconds: must be >= 0"},
      {"{\"seconds\": -0.000001}", NULL, 400, "seconds: must be >= 0"},
      {"{\"seconds\": \"10\"}", NULL, 400, "seconds: must be a number"},
      {"{\"seconds\": null}", NULL, 400, "seconds: must be a number"},
      {"{\"seconds\": true}", NULL, 400, "seconds: must be a number"},
      {"{\"seconds\": 3155760000.5}", NULL, 400,
       "seconds: must be <= 3155760000 (100 years)"},
      {"{\"seconds\": 1e300}", NULL, 400,
       "seconds: must be <= 3155760000 (100 years)"},
      {"{\"seconds\": 1, \"days\": 2}", NULL, 400,
       "days: is not a field of this request (only seconds)"},
      {"[1]", NULL, 400, "body: must be object"},
      {"10", NULL, 400, "body: must be object"},
      {"{\"seconds\": ", NULL, 400, NULL},
      {"", NULL, 400, "body: must be a JSON object"},
      {"{\"seconds\": 1}", "text/plain", 415,
       "Content-Type must be application/json"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    it_request rq = {.method = "POST",
                     .path = "/_emulator/clock/advance",
                     .content_type = bad[i].content_type ? bad[i].content_type
                                                         : "application/json",
                     .body = bad[i].body};
    it_response *r = it_request_send(&srv, &rq);
    EXPECT_STATUS(r, bad[i].status);
    ck_assert_msg(message(r) != NULL, "%s: no message", bad[i].body);
    if (bad[i].message)
      ck_assert_str_eq(message(r), bad[i].message);
    it_response_free(r);
  }
  /* Nothing moved. */
  it_response *r = control(&srv, "GET", "/_emulator/clock", NULL, NULL);
  EXPECT_STATUS(r, 200);
  ck_assert(json_real_value(json_object_get(r->json, "offsetSeconds")) == 0);
  it_response_free(r);
  /* Past year 9999 is refused too, whatever the single step. */
  for (int i = 0; i < 79; i++) {
    r = control(&srv, "POST", "/_emulator/clock/advance",
                "{\"seconds\": 3155760000}", NULL);
    EXPECT_STATUS(r, 200);
    it_response_free(r);
  }
  r = control(&srv, "POST", "/_emulator/clock/advance",
              "{\"seconds\": 3155760000}", NULL);
  EXPECT_STATUS(r, 400);
  ck_assert_str_eq(message(r),
                   "seconds: would move the clock past 9998-12-31T23:59:59Z");
  it_response_free(r);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

/* Creates a model and a dataset with one document. */
static void model_and_dataset(it_session *s, char model[64], char dataset[64]) {
  it_response *r = it_send(s, "POST",
                           json_pack("{s:i, s:i, s:{s:{s:s, s:i}}}", "width",
                                     300, "height", 300, "fieldConfig", "total",
                                     "type", "amount", "maxLength", 10),
                           "/models");
  EXPECT_STATUS(r, 200);
  snprintf(model, 64, "%s", it_str(r->json, "modelId"));
  it_response_free(r);
  r = it_send(s, "POST", json_pack("{s:s}", "name", "d"), "/datasets");
  EXPECT_STATUS(r, 200);
  snprintf(dataset, 64, "%s", it_str(r->json, "datasetId"));
  it_response_free(r);
  r = it_send(s, "POST",
              json_pack("{s:s, s:s, s:s}", "content", "JVBERi0xLjQK",
                        "contentType", "application/pdf", "datasetId", dataset),
              "/documents");
  EXPECT_STATUS(r, 200);
  it_response_free(r);
}

static size_t count_with_status(it_session *s, const char *model,
                                const char *status) {
  it_response *r = it_get(s, "/models/%s/dataBundles?status=%s", model, status);
  EXPECT_STATUS(r, 200);
  size_t n = json_array_size(json_object_get(r->json, "dataBundles"));
  it_response_free(r);
  return n;
}

typedef struct {
  const it_server *srv;
  const char *body;
  long status;
} advance_arg;

static void *advance_thread(void *p) {
  advance_arg *a = p;
  it_response *r =
      control(a->srv, "POST", "/_emulator/clock/advance", a->body, NULL);
  a->status = r->status;
  it_response_free(r);
  return NULL;
}

START_TEST(test_advance_finishes_processing_before_it_answers) {
  it_server srv;
  ck_assert(it_server_start(&srv, slow));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char model[64], dataset[64];
  model_and_dataset(&s, model, dataset);
  enum { BUNDLES = 12 };
  for (int i = 0; i < BUNDLES; i++) {
    it_response *r =
        it_send(&s, "POST",
                json_pack("{s:[s], s:s}", "datasetIds", dataset, "name", "b"),
                "/models/%s/dataBundles", model);
    EXPECT_STATUS(r, 200);
    ck_assert_str_eq(it_str(r->json, "status"), "processing");
    it_response_free(r);
  }
  /* Not yet due: nothing runs, nothing changes. */
  it_response *r = control(&srv, "POST", "/_emulator/clock/advance",
                           "{\"seconds\": 590}", NULL);
  EXPECT_STATUS(r, 200);
  ck_assert_int_eq(json_integer_value(json_object_get(r->json, "jobsRun")), 0);
  it_response_free(r);
  ck_assert_uint_eq(count_with_status(&s, model, "processing"), BUNDLES);
  /* Two advances at once, the engine thread awake too: every bundle is
   * ready when both have answered, each processed exactly once (one log
   * each). */
  advance_arg a = {&srv, "{\"seconds\": 10.5}", 0};
  advance_arg b = {&srv, "{\"seconds\": 0}", 0};
  pthread_t ta, tb;
  ck_assert_int_eq(pthread_create(&ta, NULL, advance_thread, &a), 0);
  ck_assert_int_eq(pthread_create(&tb, NULL, advance_thread, &b), 0);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  ck_assert_int_eq(a.status, 200);
  ck_assert_int_eq(b.status, 200);
  ck_assert_uint_eq(count_with_status(&s, model, "ready"), BUNDLES);
  r = it_get(&s, "/logs?transitionId=las:transition:commons-data-bundles");
  EXPECT_STATUS(r, 200);
  ck_assert_uint_eq(json_array_size(json_object_get(r->json, "logs")), BUNDLES);
  it_response_free(r);
  r = control(&srv, "GET", "/_emulator/clock", NULL, NULL);
  ck_assert(json_real_value(json_object_get(r->json, "offsetSeconds")) ==
            600.5);
  it_response_free(r);
  /* The clock stays moved across a restart only when given again; the
   * work done stays. */
  ck_assert_int_eq(it_server_stop(&srv), 0);
  ck_assert(it_server_restart(&srv));
  ck_assert(it_login_bootstrap(&srv, &s));
  ck_assert_uint_eq(count_with_status(&s, model, "ready"), BUNDLES);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

START_TEST(test_advance_fires_document_retention) {
  it_server srv;
  ck_assert(it_server_start(&srv, NULL));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char ids[2][64];
  for (int i = 0; i < 2; i++) {
    it_response *r = it_send(
        &s, "POST",
        json_pack("{s:s, s:s, s:i}", "content", "JVBERi0xLjQK", "contentType",
                  "application/pdf", "retentionInDays", i == 0 ? 1 : 3),
        "/documents");
    EXPECT_STATUS(r, 200);
    snprintf(ids[i], 64, "%s", it_str(r->json, "documentId"));
    it_response_free(r);
  }
  /* Two days on: the one-day document is gone before the answer, the
   * three-day one stays. */
  it_response *r = control(&srv, "POST", "/_emulator/clock/advance",
                           "{\"seconds\": 172800}", NULL);
  EXPECT_STATUS(r, 200);
  ck_assert_int_ge(json_integer_value(json_object_get(r->json, "jobsRun")), 1);
  it_response_free(r);
  /* Tokens last 3,600 s of real time, as clients count them: two days of
   * moved clock leave the session's token working. */
  r = it_get(&s, "/documents/%s", ids[0]);
  EXPECT_STATUS(r, 404);
  it_response_free(r);
  r = it_get(&s, "/documents/%s", ids[1]);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  /* A token issued now and not used until after the next advance: no
   * lookup has cached it, so only its row can answer for it. */
  it_session unused;
  ck_assert(it_login_bootstrap(&srv, &unused));
  r = control(&srv, "POST", "/_emulator/clock/advance", "{\"seconds\": 86401}",
              NULL);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  /* A new token for the same client prunes that client's expired tokens:
   * by real time, so the unused one (expired by the moved clock) stays. */
  ck_assert(it_login_bootstrap(&srv, &s));
  r = it_get(&s, "/documents/%s", ids[1]);
  EXPECT_STATUS(r, 404);
  it_response_free(r);
  r = it_get(&unused, "/documents/%s", ids[1]);
  EXPECT_STATUS(r, 404);
  it_response_free(r);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

START_TEST(test_admin_token_is_required_when_configured) {
  it_server srv;
  static const char *const admin[] = {"--admin-token", "s3cret-admin", NULL};
  ck_assert(it_server_start(&srv, admin));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char api_token[300];
  snprintf(api_token, sizeof api_token, "Bearer %s", s.token);
  const char *refused[] = {NULL, api_token, "Bearer s3cret-admin2",
                           "Bearer s3cret", "Basic s3cret-admin"};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    it_response *r = control(&srv, "GET", "/_emulator/clock", NULL, refused[i]);
    EXPECT_STATUS(r, 403);
    ck_assert_str_eq(message(r),
                     "the control API needs Authorization: Bearer <admin "
                     "token> (--admin-token); API tokens are not accepted");
    it_response_free(r);
    r = control(&srv, "POST", "/_emulator/clock/advance", "{\"seconds\": 5}",
                refused[i]);
    EXPECT_STATUS(r, 403);
    it_response_free(r);
  }
  it_response *r = control(&srv, "POST", "/_emulator/clock/advance",
                           "{\"seconds\": 5}", "Bearer s3cret-admin");
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  r = control(&srv, "GET", "/_emulator/clock", NULL, "Bearer s3cret-admin");
  EXPECT_STATUS(r, 200);
  ck_assert(json_real_value(json_object_get(r->json, "offsetSeconds")) == 5);
  it_response_free(r);
  /* The admin token is no API token. */
  it_request rq = {.method = "GET", .path = "/models", .token = "s3cret-admin"};
  r = it_request_send(&srv, &rq);
  EXPECT_STATUS(r, 403);
  it_response_free(r);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

/* An IPv4 address of this machine that is not loopback, or false. */
static bool outside_address(char *buf, size_t len) {
  struct ifaddrs *list = NULL;
  if (getifaddrs(&list) != 0)
    return false;
  bool found = false;
  for (struct ifaddrs *i = list; i && !found; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
      continue;
    const struct sockaddr_in *in4 = (const void *)i->ifa_addr;
    if ((ntohl(in4->sin_addr.s_addr) >> 24) == 127)
      continue;
    found = inet_ntop(AF_INET, &in4->sin_addr, buf, (socklen_t)len) != NULL;
  }
  freeifaddrs(list);
  return found;
}

/* Web pages never reach the control API: a request with an Origin header
 * is refused (CSRF; with or without an admin token), a loopback request
 * addressed to another name is refused (DNS rebinding), and no control
 * answer carries a CORS header (a page must not read a snapshot). */
START_TEST(test_web_pages_are_refused) {
  static const char *const token[] = {"--admin-token", "s3cret", NULL};
  const char *const *runs[] = {NULL, token};
  for (size_t run = 0; run < 2; run++) {
    it_server srv;
    ck_assert(it_server_start(&srv, runs[run]));
    const char *auth = run ? "Bearer s3cret" : NULL;
    it_request rq = {.method = "GET",
                     .path = "/_emulator/clock",
                     .authorization = auth,
                     .extra_header = "Origin: https://evil.example"};
    it_response *r = it_request_send(&srv, &rq);
    EXPECT_STATUS(r, 403);
    ck_assert_str_eq(message(r), "the control API refuses requests from web "
                                 "pages (an Origin header)");
    ck_assert_str_eq(r->cors_origin, "");
    it_response_free(r);
    rq.method = "POST";
    rq.path = "/_emulator/reset";
    rq.content_type = "application/x-www-form-urlencoded";
    rq.body = "a=b";
    r = it_request_send(&srv, &rq);
    EXPECT_STATUS(r, 403);
    it_response_free(r);
    it_request rebound = {.method = "GET",
                          .path = "/_emulator/clock",
                          .authorization = auth,
                          .extra_header = "Host: attacker.example:80"};
    r = it_request_send(&srv, &rebound);
    /* With the admin token the name does not matter: the token does. */
    EXPECT_STATUS(r, run ? 200 : 403);
    it_response_free(r);
    rebound.extra_header = "Host: localhost:1";
    r = it_request_send(&srv, &rebound);
    EXPECT_STATUS(r, 200);
    ck_assert_str_eq(r->cors_origin, "");
    it_response_free(r);
    /* The API proper keeps its CORS header. */
    it_request health = {.method = "GET", .path = "/health"};
    r = it_request_send(&srv, &health);
    EXPECT_STATUS(r, 200);
    ck_assert_str_eq(r->cors_origin, "*");
    it_response_free(r);
    ck_assert_int_eq(it_server_stop(&srv), 0);
    it_server_cleanup(&srv);
  }
}
END_TEST

START_TEST(test_without_admin_token_only_loopback_is_served) {
  char addr[INET_ADDRSTRLEN];
  if (!outside_address(addr, sizeof addr)) {
    /* test_units' control_api_is_loopback_or_admin_only covers the same
     * rule with made-up peers. */
    fprintf(stderr, "test_control: no non-loopback IPv4 address here; the "
                    "remote-client case is covered by the units suite\n");
    return;
  }
  it_server srv;
  static const char *const any[] = {"--host", "0.0.0.0", NULL};
  ck_assert(it_server_start(&srv, any));
  it_response *r = control(&srv, "GET", "/_emulator/clock", NULL, NULL);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  /* The same server reached through a non-loopback address. */
  it_server remote = srv;
  snprintf(remote.base_url, sizeof remote.base_url, "http://%s:%u", addr,
           srv.port);
  it_session s;
  ck_assert(it_login_bootstrap(&remote, &s));
  char api_token[300];
  snprintf(api_token, sizeof api_token, "Bearer %s", s.token);
  const char *creds[] = {NULL, api_token};
  for (size_t i = 0; i < 2; i++) {
    r = control(&remote, "GET", "/_emulator/clock", NULL, creds[i]);
    EXPECT_STATUS(r, 403);
    ck_assert_str_eq(message(r),
                     "the control API is served only to loopback clients "
                     "unless the server has an admin token (--admin-token)");
    it_response_free(r);
    r = control(&remote, "POST", "/_emulator/clock/advance", "{\"seconds\": 1}",
                creds[i]);
    EXPECT_STATUS(r, 403);
    it_response_free(r);
  }
  /* The API proper answers that client as usual. */
  r = it_get(&s, "/models");
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

static Suite *control_suite(void) {
  Suite *s = suite_create("control");
  TCase *tc = tcase_create("clock");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_clock_shape);
  tcase_add_test(tc, test_advance_refuses_bad_bodies);
  tcase_add_test(tc, test_advance_finishes_processing_before_it_answers);
  tcase_add_test(tc, test_advance_fires_document_retention);
  tcase_add_test(tc, test_admin_token_is_required_when_configured);
  tcase_add_test(tc, test_without_admin_token_only_loopback_is_served);
  tcase_add_test(tc, test_web_pages_are_refused);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return ck_run(control_suite(), CK_NORMAL);
}
