/* Integration tests of the background engine and what it drives: data
 * bundles move from processing to ready or failed, pending work survives a
 * restart, and the engine thread sleeps (no CPU) when nothing is due. */
#include "it_client.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ck_run.h"

#define EXPECT_STATUS(resp, code)                                              \
  do {                                                                         \
    it_response *r_ = (resp);                                                  \
    ck_assert_msg(r_->status == (code), "%s: expected %d, got %ld: %s",        \
                  r_->what, (int)(code), r_->status, r_->body);                \
  } while (0)

static const char *const fast[] = {"--processing-delay-ms", "200", NULL};

/* Creates a model and a dataset holding `docs` documents, `with_gt` of them
 * with ground truth for the label "total". */
static void make_model_and_dataset(it_session *s, int docs, int with_gt,
                                   char model[64], char dataset[64]) {
  it_response *r = it_send(
      s, "POST",
      json_pack("{s:i, s:i, s:{s:{s:s, s:i}, s:{s:s, s:i}}}", "width", 300,
                "height", 300, "fieldConfig", "total", "type", "amount",
                "maxLength", 10, "date", "type", "date", "maxLength", 10),
      "/models");
  EXPECT_STATUS(r, 200);
  snprintf(model, 64, "%s", it_str(r->json, "modelId"));
  it_response_free(r);
  r = it_send(s, "POST", json_pack("{s:s}", "name", "training"), "/datasets");
  EXPECT_STATUS(r, 200);
  snprintf(dataset, 64, "%s", it_str(r->json, "datasetId"));
  it_response_free(r);
  for (int i = 0; i < docs; i++) {
    json_t *doc = json_pack("{s:s, s:s, s:s}", "content", "JVBERi0xLjQK",
                            "contentType", "application/pdf", "datasetId",
                            dataset);
    if (i < with_gt)
      json_object_set_new(doc, "groundTruth",
                          json_pack("[{s:s, s:s}]", "label", "total", "value",
                                    "10.00"));
    r = it_send(s, "POST", doc, "/documents");
    EXPECT_STATUS(r, 200);
    it_response_free(r);
  }
}

static json_t *create_bundle(it_session *s, const char *model,
                             const char *dataset) {
  it_response *r =
      it_send(s, "POST", json_pack("{s:[s], s:s}", "datasetIds", dataset,
                                   "name", "bundle"),
              "/models/%s/dataBundles", model);
  EXPECT_STATUS(r, 200);
  json_t *bundle = json_incref(r->json);
  it_response_free(r);
  return bundle;
}

/* Polls the bundle list until the bundle leaves `processing`. */
static json_t *wait_for_bundle(it_session *s, const char *model,
                               const char *bundle_id, int timeout_ms) {
  int64_t until = it_now_ms() + timeout_ms;
  while (it_now_ms() < until) {
    it_response *r = it_get(s, "/models/%s/dataBundles", model);
    EXPECT_STATUS(r, 200);
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(r->json, "dataBundles"), i, b) {
      if (strcmp(it_str(b, "dataBundleId"), bundle_id) == 0 &&
          strcmp(it_str(b, "status"), "processing") != 0) {
        json_t *found = json_incref(b);
        it_response_free(r);
        return found;
      }
    }
    it_response_free(r);
    usleep(50 * 1000);
  }
  ck_abort_msg("bundle %s still processing after %d ms", bundle_id,
               timeout_ms);
  return NULL;
}

START_TEST(test_bundle_becomes_ready_with_summary) {
  it_server srv;
  ck_assert(it_server_start(&srv, fast));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char model[64], dataset[64];
  make_model_and_dataset(&s, 4, 3, model, dataset);

  json_t *bundle = create_bundle(&s, model, dataset);
  ck_assert_str_eq(it_str(bundle, "status"), "processing");
  ck_assert(it_id_valid("model-data-bundle", it_str(bundle, "dataBundleId")));
  json_t *ds = json_array_get(json_object_get(bundle, "datasets"), 0);
  ck_assert_int_eq(json_integer_value(json_object_get(ds, "numberOfDocuments")),
                   4);
  /* Each document added changed the dataset: version 4 in the snapshot. */
  ck_assert_int_eq(json_integer_value(json_object_get(ds, "version")), 4);

  json_t *done =
      wait_for_bundle(&s, model, it_str(bundle, "dataBundleId"), 20000);
  ck_assert_str_eq(it_str(done, "status"), "ready");
  json_t *summary = json_object_get(done, "summary");
  ck_assert_int_eq(
      json_integer_value(json_object_get(summary, "numberOfDocuments")), 4);
  ck_assert_int_eq(json_integer_value(json_object_get(
                       summary, "numberOfDocumentsWithGroundTruth")),
                   3);
  json_t *total = json_object_get(json_object_get(summary, "labels"), "total");
  ck_assert_int_eq(
      json_integer_value(json_object_get(total, "numberOfDocuments")), 3);
  ck_assert_double_eq_tol(json_real_value(json_object_get(total, "coverage")),
                          0.75, 1e-9);
  json_t *date = json_object_get(json_object_get(summary, "labels"), "date");
  ck_assert_int_eq(
      json_integer_value(json_object_get(date, "numberOfDocuments")), 0);

  /* The dataset moves on; the bundle keeps the version it was made from. */
  it_response *added = it_send(
      &s, "POST",
      json_pack("{s:s, s:s, s:s}", "content", "JVBERi0xLjQK", "contentType",
                "application/pdf", "datasetId", dataset),
      "/documents");
  EXPECT_STATUS(added, 200);
  it_response_free(added);
  it_response *live = it_get(&s, "/datasets/%s", dataset);
  ck_assert_int_eq(json_integer_value(json_object_get(live->json, "version")),
                   5);
  it_response_free(live);
  ck_assert_int_eq(
      json_integer_value(json_object_get(
          json_array_get(json_object_get(done, "datasets"), 0), "version")),
      4);

  /* The model counts its bundles; status filters the list. */
  it_response *r = it_get(&s, "/models/%s", model);
  ck_assert_int_eq(
      json_integer_value(json_object_get(r->json, "numberOfDataBundles")), 1);
  it_response_free(r);
  r = it_get(&s, "/models/%s/dataBundles?status=processing", model);
  EXPECT_STATUS(r, 200);
  ck_assert_uint_eq(json_array_size(json_object_get(r->json, "dataBundles")),
                    0);
  it_response_free(r);
  r = it_get(&s, "/models/%s/dataBundles?status=ready&status=failed", model);
  ck_assert_uint_eq(json_array_size(json_object_get(r->json, "dataBundles")),
                    1);
  it_response_free(r);
  r = it_get(&s, "/models/%s/dataBundles?status=done", model);
  EXPECT_STATUS(r, 400);
  it_response_free(r);

  /* PATCH name/description; DELETE; the count follows. */
  r = it_send(&s, "PATCH", json_pack("{s:s, s:s}", "name", "renamed",
                                     "description", "d"),
              "/models/%s/dataBundles/%s", model,
              it_str(bundle, "dataBundleId"));
  EXPECT_STATUS(r, 200);
  ck_assert_str_eq(it_str(r->json, "name"), "renamed");
  ck_assert_str_eq(it_str(r->json, "status"), "ready");
  it_response_free(r);
  r = it_delete(&s, "/models/%s/dataBundles/%s", model,
                it_str(bundle, "dataBundleId"));
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  r = it_get(&s, "/models/%s", model);
  ck_assert_int_eq(
      json_integer_value(json_object_get(r->json, "numberOfDataBundles")), 0);
  it_response_free(r);
  json_decref(done);
  json_decref(bundle);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

START_TEST(test_bundle_of_empty_or_deleted_dataset_fails) {
  it_server srv;
  ck_assert(it_server_start(&srv, fast));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char model[64], empty[64], full[64], ignored[64];
  make_model_and_dataset(&s, 0, 0, model, empty);
  make_model_and_dataset(&s, 1, 0, ignored, full);

  json_t *b1 = create_bundle(&s, model, empty);
  json_t *b2 = create_bundle(&s, model, full);
  /* Emptied and deleted before the engine gets to it. */
  it_response *r = it_delete(&s, "/documents?datasetId=%s", full);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  r = it_delete(&s, "/datasets/%s", full);
  EXPECT_STATUS(r, 200);
  it_response_free(r);

  json_t *d1 = wait_for_bundle(&s, model, it_str(b1, "dataBundleId"), 20000);
  ck_assert_str_eq(it_str(d1, "status"), "failed");
  ck_assert_ptr_nonnull(
      strstr(it_str(json_object_get(d1, "summary"), "failureReason"), "empty"));
  json_t *d2 = wait_for_bundle(&s, model, it_str(b2, "dataBundleId"), 20000);
  ck_assert_str_eq(it_str(d2, "status"), "failed");
  ck_assert_ptr_nonnull(strstr(
      it_str(json_object_get(d2, "summary"), "failureReason"), "no longer"));

  /* Unknown datasets and models are refused up front. */
  r = it_send(&s, "POST",
              json_pack("{s:[s]}", "datasetIds",
                        "las:dataset:0123456789abcdef0123456789abcdef"),
              "/models/%s/dataBundles", model);
  EXPECT_STATUS(r, 400);
  it_response_free(r);
  r = it_send(&s, "POST", json_pack("{s:[s]}", "datasetIds", empty),
              "/models/las:model:0123456789abcdef0123456789abcdef/dataBundles");
  EXPECT_STATUS(r, 404);
  it_response_free(r);
  json_decref(b1);
  json_decref(b2);
  json_decref(d1);
  json_decref(d2);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

START_TEST(test_processing_resumes_after_restart) {
  static const char *const slow[] = {"--processing-delay-ms", "1500", NULL};
  it_server srv;
  ck_assert(it_server_start(&srv, slow));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char model[64], dataset[64];
  make_model_and_dataset(&s, 2, 1, model, dataset);
  json_t *bundle = create_bundle(&s, model, dataset);
  it_server_kill9(&srv);

  ck_assert(it_server_restart(&srv));
  ck_assert(it_login_bootstrap(&srv, &s));
  json_t *done =
      wait_for_bundle(&s, model, it_str(bundle, "dataBundleId"), 8000);
  ck_assert_str_eq(it_str(done, "status"), "ready");
  json_decref(done);
  json_decref(bundle);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

/* utime + stime of the server's thread named las-engine, in clock ticks. */
static long engine_cpu_ticks(pid_t pid) {
  char dir[64];
  snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
  DIR *d = opendir(dir);
  if (!d)
    return -1;
  long ticks = -1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && ticks < 0) {
    if (e->d_name[0] == '.')
      continue;
    char path[400], comm[64] = "";
    snprintf(path, sizeof path, "%s/%s/comm", dir, e->d_name);
    FILE *f = fopen(path, "r");
    if (!f)
      continue;
    if (!fgets(comm, sizeof comm, f))
      comm[0] = '\0';
    fclose(f);
    if (strncmp(comm, "las-engine", 10) != 0)
      continue;
    snprintf(path, sizeof path, "%s/%s/stat", dir, e->d_name);
    f = fopen(path, "r");
    char stat[1024] = "";
    if (f) {
      if (!fgets(stat, sizeof stat, f))
        stat[0] = '\0';
      fclose(f);
    }
    /* Fields after the parenthesised name: state is 3rd, utime 14th. */
    const char *p = strrchr(stat, ')');
    long utime = 0, stime = 0;
    if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld",
                    &utime, &stime) == 2)
      ticks = utime + stime;
  }
  closedir(d);
  return ticks;
}

START_TEST(test_engine_is_idle_when_nothing_is_due) {
  it_server srv;
  ck_assert(it_server_start(&srv, fast));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char model[64], dataset[64];
  make_model_and_dataset(&s, 1, 1, model, dataset);
  json_t *bundle = create_bundle(&s, model, dataset);
  json_t *done =
      wait_for_bundle(&s, model, it_str(bundle, "dataBundleId"), 20000);
  json_decref(done);
  json_decref(bundle);

  long before = engine_cpu_ticks(srv.pid);
  ck_assert_msg(before >= 0, "no thread named las-engine in the server");
  usleep(1500 * 1000);
  long after = engine_cpu_ticks(srv.pid);
  /* A thread that sleeps until woken uses no CPU; a polling loop would. */
  ck_assert_msg(after == before, "engine used %ld ticks while idle",
                after - before);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

START_TEST(test_monthly_counters_and_allowances) {
  static const char *const limited[] = {
      "--allowances",
      "monthlyNumberOfDocumentsAllowed=2,numberOfModelsAllowed=1", NULL};
  it_server srv;
  ck_assert(it_server_start(&srv, limited));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char id[64] = "";
  for (int i = 0; i < 3; i++) {
    it_response *r = it_send(&s, "POST",
                             json_pack("{s:s, s:s}", "content", "JVBERi0xLjQK",
                                       "contentType", "application/pdf"),
                             "/documents");
    if (i < 2) {
      EXPECT_STATUS(r, 200);
      snprintf(id, sizeof id, "%s", it_str(r->json, "documentId"));
    } else {
      EXPECT_STATUS(r, 429);
      ck_assert_str_eq(it_str(r->json, "message"), "Limit Exceeded");
    }
    it_response_free(r);
  }
  /* Deleting does not give the monthly allowance back. */
  it_response *r = it_delete(&s, "/documents/%s", id);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  r = it_send(&s, "POST",
              json_pack("{s:s, s:s}", "content", "JVBERi0xLjQK", "contentType",
                        "application/pdf"),
              "/documents");
  EXPECT_STATUS(r, 429);
  it_response_free(r);
  r = it_get(&s, "/organizations/me");
  EXPECT_STATUS(r, 200);
  ck_assert_int_eq(json_integer_value(json_object_get(
                       r->json, "monthlyNumberOfDocumentsCreated")),
                   2);
  ck_assert_int_eq(json_integer_value(json_object_get(
                       r->json, "monthlyNumberOfDocumentsAllowed")),
                   2);
  it_response_free(r);

  /* Standing allowances: the second model is refused. */
  json_t *model = json_pack("{s:i, s:i, s:{}}", "width", 100, "height", 100,
                            "fieldConfig");
  r = it_send(&s, "POST", json_deep_copy(model), "/models");
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  r = it_send(&s, "POST", model, "/models");
  EXPECT_STATUS(r, 429);
  it_response_free(r);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);

  static const char *const wrong[] = {"--allowances", "nonsense=1", NULL};
  char out[256];
  /* it_run_to_exit puts the binary first itself. */
  const char *args[] = {
      wrong[0], wrong[1], "--db", ":memory:", "--port", "0", NULL};
  ck_assert_int_ne(it_run_to_exit(args, 5000, out, sizeof out), 0);
}
END_TEST

START_TEST(test_documents_expire_after_retention) {
  it_server srv;
  ck_assert(it_server_start(&srv, fast));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char short_lived[64], long_lived[64];
  it_response *r = it_send(
      &s, "POST",
      json_pack("{s:s, s:s, s:i}", "content", "JVBERi0xLjQK", "contentType",
                "application/pdf", "retentionInDays", 1),
      "/documents");
  EXPECT_STATUS(r, 200);
  snprintf(short_lived, sizeof short_lived, "%s", it_str(r->json, "documentId"));
  it_response_free(r);
  r = it_send(&s, "POST",
              json_pack("{s:s, s:s, s:i}", "content", "JVBERi0xLjQK",
                        "contentType", "application/pdf", "retentionInDays", 3),
              "/documents");
  EXPECT_STATUS(r, 200);
  snprintf(long_lived, sizeof long_lived, "%s", it_str(r->json, "documentId"));
  it_response_free(r);
  ck_assert_int_eq(it_server_stop(&srv), 0);

  /* Two days later by the emulator's clock: one document is past its
   * retention, the other is not. */
  static const char *const later[] = {"--clock-offset-seconds", "172800",
                                      NULL};
  memcpy(srv.args, later, sizeof later);
  srv.n_args = 2;
  ck_assert(it_server_restart(&srv));
  ck_assert(it_login_bootstrap(&srv, &s));
  int64_t until = it_now_ms() + 20000;
  long status = 200;
  while (status == 200 && it_now_ms() < until) {
    r = it_get(&s, "/documents/%s", short_lived);
    status = r->status;
    it_response_free(r);
    if (status == 200)
      usleep(50 * 1000);
  }
  ck_assert_int_eq(status, 404);
  r = it_get(&s, "/documents/%s", long_lived);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

START_TEST(test_engine_writes_logs) {
  it_server srv;
  ck_assert(it_server_start(&srv, fast));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char model[64], dataset[64];
  make_model_and_dataset(&s, 1, 1, model, dataset);
  const char *ids[2];
  json_t *bundles[2];
  for (int i = 0; i < 2; i++) {
    bundles[i] = create_bundle(&s, model, dataset);
    ids[i] = it_str(bundles[i], "dataBundleId");
    json_decref(wait_for_bundle(&s, model, ids[i], 20000));
  }

  it_response *r = it_get(&s, "/logs");
  EXPECT_STATUS(r, 200);
  json_t *logs = json_object_get(r->json, "logs");
  ck_assert_uint_eq(json_array_size(logs), 2);
  json_t *first = json_array_get(logs, 0);
  ck_assert(it_id_valid("log", it_str(first, "logId")));
  ck_assert_str_eq(it_str(first, "transitionId"),
                   "las:transition:commons-data-bundles");
  json_t *events = json_object_get(first, "events");
  ck_assert_uint_ge(json_array_size(events), 2);
  const char *last_message =
      it_str(json_array_get(events, json_array_size(events) - 1), "message");
  ck_assert_ptr_nonnull(strstr(last_message, ids[0]));
  ck_assert_ptr_nonnull(strstr(last_message, "ready"));
  char log_id[64];
  snprintf(log_id, sizeof log_id, "%s", it_str(first, "logId"));
  it_response_free(r);

  r = it_get(&s, "/logs/%s", log_id);
  EXPECT_STATUS(r, 200);
  ck_assert_str_eq(it_str(r->json, "logId"), log_id);
  it_response_free(r);
  r = it_get(&s, "/logs/las:log:0123456789abcdef0123456789abcdef");
  EXPECT_STATUS(r, 404);
  it_response_free(r);

  /* Newest first, filters, paging. */
  r = it_get(&s, "/logs?order=descending&maxResults=1");
  EXPECT_STATUS(r, 200);
  ck_assert_str_eq(it_str(r->json, "order"), "descending");
  json_t *newest = json_array_get(json_object_get(r->json, "logs"), 0);
  ck_assert_str_ne(it_str(newest, "logId"), log_id);
  char token[512];
  snprintf(token, sizeof token, "%s", it_str(r->json, "nextToken"));
  it_response_free(r);
  char *enc = it_url_encode(token);
  r = it_get(&s, "/logs?order=descending&maxResults=1&nextToken=%s", enc);
  EXPECT_STATUS(r, 200);
  ck_assert_str_eq(
      it_str(json_array_get(json_object_get(r->json, "logs"), 0), "logId"),
      log_id);
  ck_assert(json_is_null(json_object_get(r->json, "nextToken")));
  it_response_free(r);
  /* The token of a descending walk does not continue an ascending one. */
  r = it_get(&s, "/logs?maxResults=1&nextToken=%s", enc);
  EXPECT_STATUS(r, 400);
  it_response_free(r);
  free(enc);
  r = it_get(&s, "/logs?transitionId=las:transition:commons-data-bundles");
  ck_assert_uint_eq(json_array_size(json_object_get(r->json, "logs")), 2);
  it_response_free(r);
  r = it_get(&s, "/logs?workflowId=las:workflow:0123456789abcdef0123456789abcdef");
  EXPECT_STATUS(r, 200);
  ck_assert_uint_eq(json_array_size(json_object_get(r->json, "logs")), 0);
  it_response_free(r);
  r = it_get(&s, "/logs?order=sideways");
  EXPECT_STATUS(r, 400);
  it_response_free(r);
  r = it_get(&s, "/logs?workflowId=nope");
  EXPECT_STATUS(r, 400);
  it_response_free(r);

  /* Another organization sees none of them. */
  it_session other;
  ck_assert(it_signup(&srv, &other, NULL));
  r = it_get(&other, "/logs");
  ck_assert_uint_eq(json_array_size(json_object_get(r->json, "logs")), 0);
  it_response_free(r);
  r = it_get(&other, "/logs/%s", log_id);
  EXPECT_STATUS(r, 404);
  it_response_free(r);
  json_decref(bundles[0]);
  json_decref(bundles[1]);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

static Suite *engine_suite(void) {
  Suite *s = suite_create("engine");
  TCase *tc = tcase_create("data-bundles");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_bundle_becomes_ready_with_summary);
  tcase_add_test(tc, test_bundle_of_empty_or_deleted_dataset_fails);
  tcase_add_test(tc, test_processing_resumes_after_restart);
  tcase_add_test(tc, test_engine_is_idle_when_nothing_is_due);
  tcase_add_test(tc, test_monthly_counters_and_allowances);
  tcase_add_test(tc, test_documents_expire_after_retention);
  tcase_add_test(tc, test_engine_writes_logs);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return ck_run(engine_suite(), CK_NORMAL);
}
