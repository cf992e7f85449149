/* Integration tests of predictions: one entry per field of the model,
 * deterministic per (document, model), ground truth read back with high
 * confidence and checked against the field types, values that fit their
 * type and maxLength, errors that name what is wrong, and the paginated
 * list. The server validates every response against its schema. */
#include "it_client.h"

#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ck_run.h"

#define EXPECT_STATUS(resp, code)                                              \
  do {                                                                         \
    it_response *r_ = (resp);                                                  \
    ck_assert_msg(r_->status == (code), "%s: expected %d, got %ld: %s",        \
                  r_->what, (int)(code), r_->status, r_->body);                \
  } while (0)

/* A 400 whose message contains `part`. */
#define EXPECT_400_NAMING(resp, part)                                          \
  do {                                                                         \
    it_response *e_ = (resp);                                                  \
    EXPECT_STATUS(e_, 400);                                                    \
    const char *m_ = it_str(e_->json, "message");                              \
    ck_assert_msg(m_ != NULL && strstr(m_, (part)) != NULL,                    \
                  "%s: message %s lacks \"%s\"", e_->what, e_->body, (part));  \
    it_response_free(e_);                                                      \
  } while (0)

static const char *const pdf_b64 = "JVBERi0xLjQK";

/* Every field type, some with a maxLength too short for a full value, and
 * one longer than a prediction's value may be (64). */
static const struct {
  const char *label;
  const char *type;
  int max_length;
} fields[] = {
    {"due_date", "date", 10},
    {"short_date", "date", 5},
    {"total", "amount", 10},
    {"tiny_amount", "amount", 3},
    {"quantity", "number", 8},
    {"one_number", "number", 1},
    {"name", "letter", 20},
    {"initial", "letter", 1},
    {"phone", "phone", 20},
    {"short_phone", "phone", 6},
    {"customer_id", "alphanum", 12},
    {"code", "alphanum", 2},
    {"reference", "alphanumext", 16},
    {"ref_short", "alphanumext", 4},
    {"notes", "all", 40},
    {"long_text", "string", 100},
    {"text1", "string", 1},
    {"account", "digits", 11},
    {"digit", "digits", 1},
};
enum { N_FIELDS = sizeof fields / sizeof fields[0] };

static json_t *field_config(void) {
  json_t *fc = json_object();
  for (size_t i = 0; i < N_FIELDS; i++)
    json_object_set_new(fc, fields[i].label,
                        json_pack("{s:s, s:i}", "type", fields[i].type,
                                  "maxLength", fields[i].max_length));
  return fc;
}

static void create_model(const it_session *s, json_t *fc, char id[64]) {
  it_response *r = it_send(s, "POST",
                           json_pack("{s:i, s:i, s:o}", "width", 300, "height",
                                     300, "fieldConfig", fc),
                           "/models");
  EXPECT_STATUS(r, 200);
  snprintf(id, 64, "%s", it_str(r->json, "modelId"));
  it_response_free(r);
}

/* A document, with groundTruth when gt is not NULL (stolen). */
static void create_document(const it_session *s, json_t *gt, char id[64]) {
  json_t *body = json_pack("{s:s, s:s}", "content", pdf_b64, "contentType",
                           "application/pdf");
  if (gt)
    json_object_set_new(body, "groundTruth", gt);
  it_response *r = it_send(s, "POST", body, "/documents");
  EXPECT_STATUS(r, 200);
  snprintf(id, 64, "%s", it_str(r->json, "documentId"));
  it_response_free(r);
}

static it_response *predict(const it_session *s, const char *doc,
                            const char *model) {
  return it_send(s, "POST",
                 json_pack("{s:s, s:s}", "documentId", doc, "modelId", model),
                 "/predictions");
}

/* POST /predictions that must succeed: the prediction (NEW). */
static json_t *predict_ok(const it_session *s, const char *doc,
                          const char *model) {
  it_response *r = predict(s, doc, model);
  EXPECT_STATUS(r, 200);
  json_t *p = json_incref(r->json);
  it_response_free(r);
  return p;
}

static json_t *entry(const json_t *prediction, const char *label) {
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(prediction, "predictions"), i, e) {
    if (strcmp(it_str(e, "label"), label) == 0)
      return e;
  }
  return NULL;
}

static double confidence(const json_t *e) {
  return json_number_value(json_object_get(e, "confidence"));
}

/* ---- the field types, written independently of the server's ---- */

static bool all_of(const char *v, const char *extra, bool letters,
                   bool digits) {
  if (!*v)
    return false;
  for (const unsigned char *p = (const unsigned char *)v; *p; p++)
    if (!((letters && (isalpha(*p) || *p >= 0x80)) || (digits && isdigit(*p)) ||
          (extra && strchr(extra, *p))))
      return false;
  return true;
}

static bool is_date(const char *v) {
  int y, m, d;
  char tail;
  if (strlen(v) != 10 || v[4] != '-' || v[7] != '-' ||
      sscanf(v, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
    return false;
  static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m >= 1 && m <= 12 && d >= 1 && d <= days[m - 1];
}

static bool is_amount(const char *v) {
  const char *dot = strchr(v, '.');
  if (!dot)
    return all_of(v, NULL, false, true);
  char whole[80];
  snprintf(whole, sizeof whole, "%.*s", (int)(dot - v), v);
  return all_of(whole, NULL, false, true) && all_of(dot + 1, NULL, false, true);
}

static bool fits_type(const char *type, const char *v) {
  if (strcmp(type, "date") == 0)
    return is_date(v);
  if (strcmp(type, "amount") == 0)
    return is_amount(v);
  if (strcmp(type, "number") == 0 || strcmp(type, "digits") == 0)
    return all_of(v, NULL, false, true);
  if (strcmp(type, "letter") == 0)
    return all_of(v, " ", true, false);
  if (strcmp(type, "phone") == 0)
    return all_of(v[0] == '+' ? v + 1 : v, " -()", false, true);
  if (strcmp(type, "alphanum") == 0)
    return all_of(v, NULL, true, true);
  if (strcmp(type, "alphanumext") == 0)
    return all_of(v, "-./ ", true, true);
  return *v != '\0'; /* all, string */
}

/* One entry per field, each fitting its type and length; null only where
 * nothing fits or, when nulls_ok, where ground truth may say so. */
static void check_shape(const json_t *p, const char *doc, const char *model,
                        bool nulls_ok) {
  ck_assert(it_id_valid("prediction", it_str(p, "predictionId")));
  ck_assert_str_eq(it_str(p, "documentId"), doc);
  ck_assert_str_eq(it_str(p, "modelId"), model);
  json_t *ts = json_object_get(p, "timestamp");
  ck_assert(json_is_integer(ts));
  long long now = (long long)time(NULL);
  ck_assert_msg(llabs(json_integer_value(ts) - now) <= 60,
                "timestamp %lld is not now (%lld)",
                (long long)json_integer_value(ts), now);
  json_t *inference = json_object_get(p, "inferenceTime");
  ck_assert(json_is_number(inference));
  ck_assert(json_number_value(inference) >= 0);
  ck_assert(json_number_value(inference) < 10);
  ck_assert_uint_eq(json_array_size(json_object_get(p, "predictions")),
                    N_FIELDS);
  for (size_t i = 0; i < N_FIELDS; i++) {
    json_t *e = entry(p, fields[i].label);
    ck_assert_msg(e, "no prediction for %s", fields[i].label);
    double c = confidence(e);
    ck_assert(c >= 0 && c <= 1);
    json_t *v = json_object_get(e, "value");
    if (json_is_null(v)) {
      /* Only where no value of the type fits maxLength. */
      ck_assert_msg(nulls_ok || (strcmp(fields[i].type, "date") == 0 &&
                                 fields[i].max_length < 10),
                    "%s: null value", fields[i].label);
      continue;
    }
    const char *s = json_string_value(v);
    ck_assert_msg(s, "%s: value is not a string", fields[i].label);
    size_t max = fields[i].max_length < 64 ? (size_t)fields[i].max_length : 64;
    ck_assert_msg(strlen(s) >= 1 && strlen(s) <= max,
                  "%s: \"%s\" longer than %zu", fields[i].label, s, max);
    ck_assert_msg(fits_type(fields[i].type, s), "%s: \"%s\" is not a %s",
                  fields[i].label, s, fields[i].type);
  }
}

START_TEST(test_one_entry_per_field_deterministic) {
  it_server srv;
  ck_assert(it_server_start(&srv, NULL));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char model[64], doc1[64], doc2[64];
  create_model(&s, field_config(), model);
  create_document(&s, NULL, doc1);
  create_document(&s, NULL, doc2);

  json_t *a = predict_ok(&s, doc1, model);
  json_t *b = predict_ok(&s, doc1, model);
  json_t *c = predict_ok(&s, doc2, model);
  check_shape(a, doc1, model, false);
  check_shape(b, doc1, model, false);
  check_shape(c, doc2, model, false);
  ck_assert_str_ne(it_str(a, "predictionId"), it_str(b, "predictionId"));
  ck_assert(json_equal(json_object_get(a, "predictions"),
                       json_object_get(b, "predictions")));
  ck_assert(!json_equal(json_object_get(a, "predictions"),
                        json_object_get(c, "predictions")));
  /* Made up values come with a spread of confidences, not a constant. */
  size_t differing = 0;
  for (size_t i = 0; i < N_FIELDS; i++)
    differing += confidence(entry(a, fields[i].label)) !=
                 confidence(entry(c, fields[i].label));
  ck_assert_uint_ge(differing, N_FIELDS - 1);
  json_decref(a);
  json_decref(b);
  json_decref(c);

  /* Many documents: every generated value fits its field (the server also
   * refuses to answer one that does not fit its own checker). */
  for (int i = 0; i < 40; i++) {
    char doc[64];
    create_document(&s, NULL, doc);
    json_t *p = predict_ok(&s, doc, model);
    check_shape(p, doc, model, false);
    json_decref(p);
  }
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

START_TEST(test_ground_truth_is_predicted_with_high_confidence) {
  it_server srv;
  ck_assert(it_server_start(&srv, NULL));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char model[64], doc[64];
  create_model(&s, field_config(), model);
  create_document(&s,
                  json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:n}, {s:s, s:b}, "
                            "{s:s, s:s}, {s:s, s:s}]",
                            "label", "total", "value", "439.00", "label",
                            "due_date", "value", "2020-02-29", "label", "phone",
                            "value", "label", "name", "value", 1, "label",
                            "not_in_model", "value", "31/12/2020", "label",
                            "reference", "value", "KID 12-3/4.5"),
                  doc);
  json_t *p = predict_ok(&s, doc, model);
  check_shape(p, doc, model, true);
  static const struct {
    const char *label, *value;
  } expected[] = {{"total", "439.00"},
                  {"due_date", "2020-02-29"},
                  {"phone", NULL},
                  {"name", "true"},
                  {"reference", "KID 12-3/4.5"}};
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
    json_t *e = entry(p, expected[i].label);
    ck_assert_ptr_nonnull(e);
    if (expected[i].value)
      ck_assert_str_eq(it_str(e, "value"), expected[i].value);
    else
      ck_assert(json_is_null(json_object_get(e, "value")));
    ck_assert_msg(confidence(e) >= 0.95 && confidence(e) < 1,
                  "%s: confidence %f", expected[i].label, confidence(e));
  }
  ck_assert_ptr_null(entry(p, "not_in_model"));
  json_decref(p);

  /* What the server makes up is ground truth it accepts: planted on another
   * document, it comes back as it was, now with high confidence. */
  char plain[64], planted[64];
  create_document(&s, NULL, plain);
  p = predict_ok(&s, plain, model);
  json_t *gt = json_array();
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(p, "predictions"), i, e) {
    json_array_append_new(gt, json_pack("{s:O, s:O}", "label",
                                        json_object_get(e, "label"), "value",
                                        json_object_get(e, "value")));
  }
  create_document(&s, json_incref(gt), planted);
  json_t *q = predict_ok(&s, planted, model);
  json_array_foreach(gt, i, e) {
    json_t *got = entry(q, it_str(e, "label"));
    ck_assert(
        json_equal(json_object_get(got, "value"), json_object_get(e, "value")));
    ck_assert(confidence(got) >= 0.95);
  }
  json_decref(gt);
  json_decref(p);
  json_decref(q);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

/* Ground truth `value` for `label` must be refused, naming the label. */
static void expect_refused(const it_session *s, const char *model,
                           const char *label, const char *value,
                           const char *part) {
  char doc[64];
  create_document(s, json_pack("[{s:s, s:s}]", "label", label, "value", value),
                  doc);
  char want[160];
  snprintf(want, sizeof want, "groundTruth.%s: ", label);
  it_response *r = predict(s, doc, model);
  const char *m = it_str(r->json, "message");
  ck_assert_msg(m && strstr(m, part), "%s: message %s lacks \"%s\"", r->what,
                r->body, part);
  EXPECT_400_NAMING(r, want);
}

START_TEST(test_ground_truth_that_does_not_fit_is_400) {
  it_server srv;
  ck_assert(it_server_start(&srv, NULL));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char model[64];
  create_model(&s, field_config(), model);
  expect_refused(&s, model, "due_date", "31/12/2020", "date");
  expect_refused(&s, model, "due_date", "2021-02-29", "date");
  expect_refused(&s, model, "due_date", "2020-13-01", "date");
  expect_refused(&s, model, "total", "abc", "amount");
  expect_refused(&s, model, "total", "1,5", "amount");
  expect_refused(&s, model, "total", "12345678.90", "maxLength 10");
  expect_refused(&s, model, "quantity", "12a", "number");
  expect_refused(&s, model, "account", "1234 5678", "digits");
  expect_refused(&s, model, "name", "R2D2", "letter");
  expect_refused(&s, model, "phone", "call me", "phone");
  expect_refused(&s, model, "customer_id", "AB-12", "alphanum");
  expect_refused(&s, model, "reference", "A#1", "alphanumext");
  expect_refused(&s, model, "text1", "ab", "maxLength 1");

  /* Nothing was stored for the refused requests. */
  it_response *r = it_get(&s, "/predictions");
  EXPECT_STATUS(r, 200);
  ck_assert_uint_eq(json_array_size(json_object_get(r->json, "predictions")),
                    0);
  it_response_free(r);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

START_TEST(test_unknown_foreign_and_invalid_requests) {
  it_server srv;
  ck_assert(it_server_start(&srv, NULL));
  it_session s, other;
  ck_assert(it_login_bootstrap(&srv, &s));
  ck_assert(it_signup(&srv, &other, NULL));
  char model[64], doc[64], their_model[64], their_doc[64];
  create_model(&s, field_config(), model);
  create_document(&s, NULL, doc);
  create_model(&other, field_config(), their_model);
  create_document(&other, NULL, their_doc);
  const char *nodoc = "las:document:0123456789abcdef0123456789abcdef";
  const char *nomodel = "las:model:0123456789abcdef0123456789abcdef";

  EXPECT_400_NAMING(predict(&s, nodoc, model), "documentId: document");
  EXPECT_400_NAMING(predict(&s, doc, nomodel), "modelId: model");
  EXPECT_400_NAMING(predict(&s, their_doc, model), "documentId: document");
  EXPECT_400_NAMING(predict(&s, doc, their_model), "modelId: model");
  EXPECT_400_NAMING(predict(&s, "las:model:0123", model), "documentId");

  EXPECT_400_NAMING(it_send(&s, "POST",
                            json_pack("{s:s, s:s, s:i}", "documentId", doc,
                                      "modelId", model, "maxPages", 4),
                            "/predictions"),
                    "maxPages");
  EXPECT_400_NAMING(it_send(&s, "POST",
                            json_pack("{s:s, s:s, s:s}", "documentId", doc,
                                      "modelId", model, "imageQuality", "MID"),
                            "/predictions"),
                    "imageQuality");
  EXPECT_400_NAMING(it_send(&s, "POST", json_pack("{s:s}", "documentId", doc),
                            "/predictions"),
                    "modelId");

  /* Preprocessing options are accepted; the answer keeps to the schema. */
  it_response *r = it_send(&s, "POST",
                           json_pack("{s:s, s:s, s:i, s:b, s:s}", "documentId",
                                     doc, "modelId", model, "maxPages", 3,
                                     "autoRotate", 1, "imageQuality", "HIGH"),
                           "/predictions");
  EXPECT_STATUS(r, 200);
  ck_assert_ptr_null(json_object_get(r->json, "maxPages"));
  ck_assert_ptr_null(json_object_get(r->json, "createdTime"));
  it_response_free(r);

  /* The other organization's document still works for its owner. */
  json_t *p = predict_ok(&other, their_doc, their_model);
  check_shape(p, their_doc, their_model, false);
  json_decref(p);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

START_TEST(test_list_walks_every_prediction) {
  it_server srv;
  ck_assert(it_server_start(&srv, NULL));
  it_session s, other;
  ck_assert(it_login_bootstrap(&srv, &s));
  ck_assert(it_signup(&srv, &other, NULL));
  char model[64], doc[64];
  create_model(
      &s,
      json_pack("{s:{s:s, s:i}}", "total", "type", "amount", "maxLength", 10),
      model);
  create_document(&s, NULL, doc);
  enum { N = 5 };
  char ids[N][64];
  for (int i = 0; i < N; i++) {
    json_t *p = predict_ok(&s, doc, model);
    snprintf(ids[i], 64, "%s", it_str(p, "predictionId"));
    json_decref(p);
  }

  char *token = NULL;
  int seen = 0;
  for (int page = 0; page <= N; page++) {
    char *enc = token ? it_url_encode(token) : NULL;
    it_response *r = it_get(&s, "/predictions?maxResults=1%s%s",
                            enc ? "&nextToken=" : "", enc ? enc : "");
    free(enc);
    free(token);
    token = NULL;
    EXPECT_STATUS(r, 200);
    json_t *items = json_object_get(r->json, "predictions");
    ck_assert_uint_le(json_array_size(items), 1);
    if (json_array_size(items) == 1) {
      json_t *p = json_array_get(items, 0);
      ck_assert_int_lt(seen, N);
      ck_assert_str_eq(it_str(p, "predictionId"), ids[seen]);
      ck_assert_uint_eq(json_array_size(json_object_get(p, "predictions")), 1);
      seen++;
    }
    const char *next = it_str(r->json, "nextToken");
    token = next ? strdup(next) : NULL;
    it_response_free(r);
    if (!token)
      break;
  }
  ck_assert_ptr_null(token);
  ck_assert_int_eq(seen, N);

  it_response *r = it_get(&other, "/predictions");
  EXPECT_STATUS(r, 200);
  ck_assert_uint_eq(json_array_size(json_object_get(r->json, "predictions")),
                    0);
  it_response_free(r);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

static Suite *predictions_suite(void) {
  Suite *s = suite_create("predictions");
  TCase *tc = tcase_create("predictions");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_one_entry_per_field_deterministic);
  tcase_add_test(tc, test_ground_truth_is_predicted_with_high_confidence);
  tcase_add_test(tc, test_ground_truth_that_does_not_fit_is_400);
  tcase_add_test(tc, test_unknown_foreign_and_invalid_requests);
  tcase_add_test(tc, test_list_walks_every_prediction);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return ck_run(predictions_suite(), CK_NORMAL);
}
