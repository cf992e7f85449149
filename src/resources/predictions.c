/* /predictions: an emulated model run. There is no model to run, so each
 * field of the model's fieldConfig gets a value that is a pure function of
 * (documentId, modelId, label): a client sees the same answer for the same
 * question, as it would from a trained model. Where the document has ground
 * truth for a label the prediction is that value, with high confidence, so
 * tests can plant what they expect to read back.
 *
 * Ground truth is checked against the model's field types here, at
 * prediction time: documents do not name a model (the documented API has no
 * modelId on them), so this is the first moment a document's ground truth
 * meets a fieldConfig. One table of field types both validates values and
 * generates them, and every generated value is put through its own checker
 * before it leaves. */
#include "resources/canned.h"
#include "resources/crud.h"
#include "resources/organizations.h"
#include "resources/resources.h"

#include "core/clock.h"
#include "core/ids.h"
#include "storage/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The response schema's limit on a prediction's value. */
enum { PRED_VALUE_MAX = 64, PRED_LABEL_MAX = 36 };

/* ---- deterministic randomness ---- */

typedef struct pred_rng {
  uint64_t state;
} pred_rng;

/* FNV-1a over s including its terminator, so "ab"+"c" and "a"+"bc" differ. */
static uint64_t pred_fnv1a(uint64_t h, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  do {
    h ^= *p;
    h *= 0x100000001b3ULL;
  } while (*p++);
  return h;
}

static pred_rng pred_seed(const char *doc_id, const char *model_id,
                          const char *label) {
  uint64_t h = 0xcbf29ce484222325ULL;
  h = pred_fnv1a(h, doc_id);
  h = pred_fnv1a(h, model_id);
  h = pred_fnv1a(h, label);
  pred_rng r = {h};
  return r;
}

/* splitmix64: FNV alone mixes the last bytes poorly, and the stream needs
 * more than one draw per label. */
static uint64_t pred_next(pred_rng *r) {
  uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double pred_unit(pred_rng *r) {
  return (double)(pred_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n), n > 0. */
static size_t pred_below(pred_rng *r, size_t n) {
  return (size_t)(pred_next(r) % n);
}

static size_t pred_min(size_t a, size_t b) {
  return a < b ? a : b;
}

/* ---- character classes ---- */

static bool pred_is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}

static bool pred_is_ascii_letter(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Any non-ASCII byte counts as part of a letter: ground truth is full of
 * names like "Ørsta" and "Åse", and a Unicode table is not worth carrying
 * for an emulator. */
static bool pred_is_letter(unsigned char c) {
  return pred_is_ascii_letter(c) || c >= 0x80;
}

static bool pred_is_alnum(unsigned char c) {
  return pred_is_letter(c) || pred_is_digit(c);
}

/* Length in characters (UTF-8 code points), as maxLength counts. */
static size_t pred_chars(const char *s) {
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    n += (*p & 0xC0) != 0x80;
  return n;
}

/* ---- checkers ---- */

static bool pred_all_digits(const char *s) {
  if (!*s)
    return false;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (!pred_is_digit(*p))
      return false;
  return true;
}

static int pred_days_in_month(int year, int month) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : days[month - 1];
}

static int pred_num(const char *s, size_t n) {
  int v = 0;
  for (size_t i = 0; i < n; i++)
    v = v * 10 + (s[i] - '0');
  return v;
}

/* YYYY-MM-DD naming a real calendar day. */
static bool pred_fits_date(const char *s) {
  if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
    return false;
  for (size_t i = 0; i < 10; i++)
    if (i != 4 && i != 7 && !pred_is_digit((unsigned char)s[i]))
      return false;
  int year = pred_num(s, 4), month = pred_num(s + 5, 2),
      day = pred_num(s + 8, 2);
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 &&
         day <= pred_days_in_month(year, month);
}

/* A decimal number: -?digits(.digits)? */
static bool pred_fits_amount(const char *s) {
  if (*s == '-')
    s++;
  size_t int_digits = 0;
  while (pred_is_digit((unsigned char)*s)) {
    s++;
    int_digits++;
  }
  if (!int_digits)
    return false;
  if (*s == '.') {
    s++;
    if (!pred_is_digit((unsigned char)*s))
      return false;
    while (pred_is_digit((unsigned char)*s))
      s++;
  }
  return *s == '\0';
}

/* Letters, words separated by spaces. */
static bool pred_fits_letter(const char *s) {
  bool letter = false;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (pred_is_letter(*p))
      letter = true;
    else if (*p != ' ')
      return false;
  }
  return letter;
}

/* +47 12 34 56 78, (555) 123-4567, 22334455 */
static bool pred_fits_phone(const char *s) {
  if (*s == '+')
    s++;
  bool digit = false;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (pred_is_digit(*p))
      digit = true;
    else if (!strchr(" -()", *p))
      return false;
  }
  return digit;
}

static bool pred_fits_alphanum(const char *s) {
  if (!*s)
    return false;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (!pred_is_alnum(*p))
      return false;
  return true;
}

/* Alphanumerics plus the separators of reference numbers: - . / space. */
static bool pred_fits_alphanumext(const char *s) {
  bool alnum = false;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (pred_is_alnum(*p))
      alnum = true;
    else if (!strchr("-./ ", *p))
      return false;
  }
  return alnum;
}

static bool pred_fits_text(const char *s) {
  return *s != '\0';
}

/* ---- generators: write at most max (1..PRED_VALUE_MAX) characters into
 * out, which holds PRED_VALUE_MAX + 1 bytes, and return how many; 0 means
 * nothing of the type fits in max, and the prediction is then null. ---- */

static size_t pred_put_digits(pred_rng *r, char *out, size_t n,
                              bool leading_zero) {
  for (size_t i = 0; i < n; i++) {
    size_t lo = i == 0 && !leading_zero && n > 1 ? 1 : 0;
    out[i] = (char)('0' + lo + pred_below(r, 10 - lo));
  }
  return n;
}

static size_t pred_make_date(pred_rng *r, size_t max, char *out) {
  if (max < 10)
    return 0;
  int year = 2015 + (int)pred_below(r, 10);
  int month = 1 + (int)pred_below(r, 12);
  int day = 1 + (int)pred_below(r, (size_t)pred_days_in_month(year, month));
  snprintf(out, PRED_VALUE_MAX + 1, "%04d-%02d-%02d", year, month, day);
  return 10;
}

static size_t pred_make_amount(pred_rng *r, size_t max, char *out) {
  if (max < 4) /* no room for the decimals: a whole amount */
    return pred_put_digits(r, out, max, false);
  size_t n =
      pred_put_digits(r, out, 1 + pred_below(r, pred_min(max - 3, 5)), false);
  out[n++] = '.';
  return n + pred_put_digits(r, out + n, 2, true);
}

static size_t pred_make_number(pred_rng *r, size_t max, char *out) {
  return pred_put_digits(r, out, 1 + pred_below(r, pred_min(max, 7)), false);
}

static size_t pred_make_digits(pred_rng *r, size_t max, char *out) {
  return pred_put_digits(r, out, pred_min(max, 4 + pred_below(r, 9)), true);
}

static size_t pred_make_phone(pred_rng *r, size_t max, char *out) {
  if (max < 12)
    return pred_put_digits(r, out, pred_min(max, 8), false);
  /* A Norwegian number: mobiles start with 4 or 9. */
  memcpy(out, "+47 ", 4);
  out[4] = pred_below(r, 2) ? '9' : '4';
  return 5 + pred_put_digits(r, out + 5, 7, true);
}

static size_t pred_make_alphanum(pred_rng *r, size_t max, char *out) {
  static const char chars[] = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
  size_t n = pred_min(max, 6 + pred_below(r, 10));
  for (size_t i = 0; i < n; i++)
    out[i] = chars[pred_below(r, sizeof chars - 1)];
  return n;
}

/* Cuts text to max characters (all ASCII here) without a trailing
 * separator. */
static size_t pred_fit(const char *text, size_t max, char *out) {
  size_t n = pred_min(strlen(text), max);
  while (n > 1 && strchr(" -./", text[n - 1]))
    n--;
  memcpy(out, text, n);
  return n;
}

static size_t pred_make_alphanumext(pred_rng *r, size_t max, char *out) {
  static const char *const prefixes[] = {"INV", "KID", "REF", "PO", "ORD"};
  char text[PRED_VALUE_MAX + 1];
  snprintf(text, sizeof text, "%s-%d/%05u",
           prefixes[pred_below(r, sizeof prefixes / sizeof prefixes[0])],
           2015 + (int)pred_below(r, 10), (unsigned)pred_below(r, 100000));
  return pred_fit(text, max, out);
}

static const char *const pred_words[] = {
    "Nordmann", "Hansen", "Olsen", "Berg",  "Lunde",  "Haugen",
    "Bergen",   "Oslo",   "Acme",  "Fjord", "Kontor", "Invoice"};
enum { PRED_N_WORDS = sizeof pred_words / sizeof pred_words[0] };

static size_t pred_make_letter(pred_rng *r, size_t max, char *out) {
  return pred_fit(pred_words[pred_below(r, PRED_N_WORDS)], max, out);
}

static size_t pred_make_text(pred_rng *r, size_t max, char *out) {
  char text[PRED_VALUE_MAX + 1];
  snprintf(
      text, sizeof text, "%s %s %u", pred_words[pred_below(r, PRED_N_WORDS)],
      pred_words[pred_below(r, PRED_N_WORDS)], 1 + (unsigned)pred_below(r, 99));
  return pred_fit(text, max, out);
}

/* ---- the field types ---- */

typedef struct pred_type {
  const char *name;     /* fieldConfig type */
  const char *expected; /* "is not <expected>" in messages */
  bool (*fits)(const char *value);
  size_t (*make)(pred_rng *r, size_t max, char *out);
} pred_type;

static const pred_type pred_types[] = {
    {"date", "a date YYYY-MM-DD", pred_fits_date, pred_make_date},
    {"amount", "an amount", pred_fits_amount, pred_make_amount},
    {"number", "a number (digits only)", pred_all_digits, pred_make_number},
    {"letter", "letters", pred_fits_letter, pred_make_letter},
    {"phone", "a phone number", pred_fits_phone, pred_make_phone},
    {"alphanum", "alphanumeric", pred_fits_alphanum, pred_make_alphanum},
    {"alphanumext", "alphanumeric (with - . / and space)",
     pred_fits_alphanumext, pred_make_alphanumext},
    {"all", "text", pred_fits_text, pred_make_text},
    {"string", "text", pred_fits_text, pred_make_text},
    {"digits", "digits", pred_all_digits, pred_make_digits},
};

/* The schema admits only the names above; a model stored some other way
 * gets the most permissive type rather than a failure. */
static const pred_type *pred_type_named(const char *name) {
  const pred_type *all = NULL;
  for (size_t i = 0; i < sizeof pred_types / sizeof pred_types[0]; i++) {
    if (name && strcmp(pred_types[i].name, name) == 0)
      return &pred_types[i];
    if (strcmp(pred_types[i].name, "all") == 0)
      all = &pred_types[i];
  }
  return all;
}

/* A fieldConfig entry, made usable whatever was stored. */
typedef struct pred_field {
  const char *label;
  const pred_type *type;
  size_t max_length;
} pred_field;

static pred_field pred_field_of(const char *label, const json_t *config) {
  pred_field f = {
      label,
      pred_type_named(json_string_value(json_object_get(config, "type"))),
      PRED_VALUE_MAX};
  /* A number, not only an integer: models stored before whole reals were
   * normalised (issue 6) may hold maxLength as 10.0. */
  double max = json_number_value(json_object_get(config, "maxLength"));
  if (max >= 1 && max < PRED_VALUE_MAX && max == (double)(size_t)max)
    f.max_length = (size_t)max;
  return f;
}

/* A label the response schema can carry (^[0-9A-Za-z_]+$, 1..36). */
static bool pred_label_valid(const char *label) {
  size_t n = strlen(label);
  if (n == 0 || n > PRED_LABEL_MAX)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!pred_is_digit((unsigned char)label[i]) &&
        !pred_is_ascii_letter((unsigned char)label[i]) && label[i] != '_')
      return false;
  return true;
}

/* ---- ground truth ---- */

/* The document's ground truth for label: *value is a string, or NULL for a
 * null value (the field is absent from the document). false when the
 * document has none for label. Booleans (checkboxes) read as "true" and
 * "false", the closest a string-or-null value comes. */
static bool pred_ground_truth(const json_t *doc, const char *label,
                              const char **value) {
  size_t i;
  json_t *item;
  json_array_foreach(json_object_get(doc, "groundTruth"), i, item) {
    const char *l = json_string_value(json_object_get(item, "label"));
    if (!l || strcmp(l, label) != 0)
      continue;
    json_t *v = json_object_get(item, "value");
    *value = json_is_boolean(v) ? (json_is_true(v) ? "true" : "false")
                                : json_string_value(v);
    return true;
  }
  return false;
}

/* 400 naming the label when value does not fit field; status 0 when it
 * does. */
static api_response pred_check_value(const pred_field *f, const char *value) {
  api_response ok = {.status = 0};
  if (!value)
    return ok;
  json_t *quoted_json = json_string(value);
  char *quoted = json_dumps(quoted_json, JSON_ENCODE_ANY);
  json_decref(quoted_json);
  api_response resp = ok;
  if (!quoted)
    resp = api_err(ERR_INTERNAL);
  else if (!f->type->fits(value))
    resp = api_errf(ERR_BAD_REQUEST,
                    "groundTruth.%s: %s is not %s (model field type %s)",
                    f->label, quoted, f->type->expected, f->type->name);
  else if (pred_chars(value) > f->max_length)
    resp = api_errf(ERR_BAD_REQUEST,
                    "groundTruth.%s: %s is longer than %zu characters (model "
                    "field maxLength %zu)",
                    f->label, quoted, f->max_length, f->max_length);
  free(quoted);
  return resp;
}

/* ---- predicting ---- */

/* One {label, value, confidence}; NULL with *fail set when the document's
 * ground truth for the label does not fit the field. */
static json_t *pred_field_predict(const pred_field *f, const json_t *doc,
                                  const char *doc_id, const char *model_id,
                                  api_response *fail) {
  pred_rng rng = pred_seed(doc_id, model_id, f->label);
  double u = pred_unit(&rng);
  const char *truth = NULL;
  if (pred_ground_truth(doc, f->label, &truth)) {
    *fail = pred_check_value(f, truth);
    if (fail->status)
      return NULL;
    return json_pack("{s:s, s:s?, s:f}", "label", f->label, "value", truth,
                     "confidence", 0.95 + 0.049 * u);
  }
  char value[PRED_VALUE_MAX + 1];
  size_t n = f->type->make(&rng, f->max_length, value);
  value[n] = '\0';
  /* The generators and checkers are one table so they cannot drift apart;
   * this keeps it that way. */
  if (n && (!f->type->fits(value) || pred_chars(value) > f->max_length)) {
    *fail = api_errf(ERR_INTERNAL,
                     "predictions: generated %s value \"%s\" "
                     "does not fit its own type",
                     f->type->name, value);
    return NULL;
  }
  return json_pack("{s:s, s:s?, s:f}", "label", f->label, "value",
                   n ? value : NULL, "confidence", u);
}

/* The predictions array for every field of the model. */
static json_t *pred_predict(const json_t *model, const json_t *doc,
                            const char *doc_id, const char *model_id,
                            api_response *fail) {
  json_t *out = json_array();
  const char *label;
  json_t *config;
  json_object_foreach(json_object_get(model, "fieldConfig"), label, config) {
    /* The model schema does not restrict label names, but a prediction's
     * label must match ^[0-9A-Za-z_]+$: such fields are left out rather
     * than making the whole model unusable. */
    if (!pred_label_valid(label))
      continue;
    pred_field f = pred_field_of(label, config);
    json_t *item = pred_field_predict(&f, doc, doc_id, model_id, fail);
    if (!item) {
      json_decref(out);
      return NULL;
    }
    json_array_append_new(out, item);
  }
  return out;
}

/* The stored prediction keeps createdTime/createdBy (from crud_new) and the
 * preprocessing asked for; the Prediction schema admits none of them, so
 * responses carry only its own attributes. */
static const char *const pred_shown[] = {
    "predictionId", "documentId",    "modelId", "predictions",
    "timestamp",    "inferenceTime", NULL};

static bool pred_is_shown(const char *key) {
  const char *const *s = pred_shown;
  while (*s && strcmp(*s, key) != 0)
    s++;
  return *s != NULL;
}

static bool pred_present(const api_request *req, json_t *obj) {
  (void)req;
  const char *key;
  json_t *value;
  void *tmp;
  json_object_foreach_safe(obj, tmp, key, value) {
    (void)value;
    if (!pred_is_shown(key))
      json_object_del(obj, key);
  }
  return true;
}

/* One serialisation for both texts of a new prediction: the answer (what
 * pred_present leaves; malloc'ed, *answer_len bytes) and the stored text
 * (malloc'ed), which is the answer with the hidden attributes after it. */
static bool pred_texts(const json_t *obj, char **stored, char **answer,
                       size_t *answer_len) {
  json_t *shown = json_object(), *hidden = json_object();
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)obj, key, value)
      json_object_set(pred_is_shown(key) ? shown : hidden, key, value);
  char *a = store_dump(shown);
  char *h = store_dump(hidden);
  json_decref(shown);
  json_decref(hidden);
  size_t alen = a ? strlen(a) : 0, hlen = h ? strlen(h) : 0;
  /* {shown…} and {hidden…} make {shown…,hidden…}. */
  char *t = a && h && alen >= 2 && hlen >= 2 ? malloc(alen + hlen) : NULL;
  if (t) {
    memcpy(t, a, alen - 1);
    size_t n = alen - 1;
    if (hlen > 2 && alen > 2)
      t[n++] = ',';
    memcpy(t + n, h + 1, hlen - 1);
    t[n + hlen - 1] = '\0';
  }
  free(h);
  if (!t) {
    free(a);
    return false;
  }
  *stored = t;
  *answer = a;
  *answer_len = alen;
  return true;
}

static const crud_kind prediction_kind = {
    .kind = "prediction",
    .id_field = "predictionId",
    .list_field = "predictions",
    .present = pred_present,
};

/* Loads an object the body names: a missing one is the body's fault (400,
 * as documents.c answers for a missing datasetId), and another
 * organization's object is missing. *version (when not NULL) is its
 * store_obj_version; without `out` only that is read. */
static api_response pred_load(const api_request *req, const char *field,
                              const char *kind, json_t **out,
                              uint64_t *version) {
  api_response ok = {.status = 0};
  const char *id = json_string_value(json_object_get(req->body, field));
  store_obj_key key = {kind, req->principal.org_id, id ? id : ""};
  /* Only read (the generator's input): no copy of the cached tree. */
  store_status st = out ? store_obj_get_shared(req->db, &key, out, version)
                        : store_obj_version(req->db, &key, version);
  if (st == STORE_NONE)
    return api_errf(ERR_BAD_REQUEST, "%s: %s %s does not exist", field, kind,
                    id ? id : "");
  return st == STORE_ONE ? ok : api_store_err(st);
}

LAS_HANDLER(predictions_list) {
  return crud_list(req, &prediction_kind, NULL, NULL);
}

/* The stored prediction: a NEW object with `predictions` (taken) and the
 * inference time in seconds. Its id is the prepared object's when there is
 * one (a request draws one id, whichever way it is answered), else new. */
static json_t *pred_object(const api_request *req, json_t *predictions,
                           double inference_s) {
  char id[IDS_MAX_LEN];
  const char *prepared_id = json_string_value(
      json_object_get(req->prepared.obj, prediction_kind.id_field));
  if (prepared_id)
    ids_force_next(prediction_kind.kind, prepared_id);
  json_t *obj = crud_new(req, &prediction_kind, id);
  json_object_set_new(obj, "documentId",
                      json_copy(json_object_get(req->body, "documentId")));
  json_object_set_new(obj, "modelId",
                      json_copy(json_object_get(req->body, "modelId")));
  json_object_set_new(obj, "predictions", predictions);
  json_object_set_new(obj, "timestamp", json_integer(req->now_us / 1000000));
  json_object_set_new(obj, "inferenceTime",
                      json_real(inference_s > 0 ? inference_s : 0.0));
  /* Kept on the stored object only (pred_present hides them); the emulated
   * model reads no pages. */
  static const char *const preprocess[] = {"maxPages", "autoRotate",
                                           "imageQuality", NULL};
  crud_copy_fields(obj, req->body, preprocess);
  return obj;
}

/* Generates the prediction of a loaded document and model: NULL with *fail
 * set when the generator refuses them. */
static json_t *pred_generate(const api_request *req, const json_t *doc,
                             const json_t *model, api_response *fail) {
  int64_t started_us = clock_mono_us();
  json_t *predictions = pred_predict(
      model, doc, json_string_value(json_object_get(req->body, "documentId")),
      json_string_value(json_object_get(req->body, "modelId")), fail);
  if (!predictions)
    return NULL;
  return pred_object(req, predictions,
                     (double)(clock_mono_us() - started_us) / 1e6);
}

/* Before the write transaction, from a read snapshot: the generated
 * prediction and its stored text, with the versions of the document and
 * the model it was made from (the transaction checks that they are still
 * those, so the answer is the one it would have made itself). */
LAS_PREPARE(predictions_prepare) {
  if (store_read_begin(req->db) != STORE_ONE)
    return;
  json_t *doc = NULL, *model = NULL;
  uint64_t versions[2] = {0, 0};
  api_response fail =
      pred_load(req, "documentId", "document", &doc, &versions[0]);
  if (!fail.status)
    fail = pred_load(req, "modelId", "model", &model, &versions[1]);
  store_read_end(req->db);
  json_t *obj = fail.status ? NULL : pred_generate(req, doc, model, &fail);
  json_decref(doc);
  json_decref(model);
  api_response_free(&fail);
  char *text = NULL, *answer = NULL;
  size_t answer_len = 0;
  if (!obj || !pred_texts(obj, &text, &answer, &answer_len)) {
    json_decref(obj);
    return;
  }
  req->prepared.obj = obj;
  req->prepared.text = text;
  req->prepared.answer = answer;
  req->prepared.answer_len = answer_len;
  memcpy(req->prepared.versions, versions, sizeof versions);
}

LAS_HANDLER(predictions_create) {
  int64_t started_us = clock_mono_us();
  /* What was prepared stands when the document and the model are as they
   * were; otherwise (or when nothing was) the transaction generates. */
  json_t *doc = NULL, *model = NULL;
  uint64_t versions[2] = {0, 0};
  bool prepared = req->prepared.obj != NULL;
  api_response fail = pred_load(req, "documentId", "document",
                                prepared ? NULL : &doc, &versions[0]);
  if (!fail.status)
    fail = pred_load(req, "modelId", "model", prepared ? NULL : &model,
                     &versions[1]);
  if (!fail.status && prepared &&
      memcmp(versions, req->prepared.versions, sizeof versions) != 0) {
    prepared = false;
    fail = pred_load(req, "documentId", "document", &doc, NULL);
    if (!fail.status)
      fail = pred_load(req, "modelId", "model", &model, NULL);
  }
  /* A result queued through the control API answers before the generator
   * (canned.h); a queued failure is the answer. */
  json_t *predictions = NULL;
  double inference_s = -1.0;
  canned_outcome canned = CANNED_NONE;
  if (!fail.status)
    canned = canned_next(
        req, json_string_value(json_object_get(req->body, "modelId")),
        &predictions, &inference_s, &fail);
  json_t *obj = NULL;
  const char *text = NULL;
  if (!fail.status && canned == CANNED_RESULT) {
    obj = pred_object(req, predictions,
                      inference_s >= 0
                          ? inference_s
                          : (double)(clock_mono_us() - started_us) / 1e6);
  } else if (!fail.status && prepared) {
    obj = json_incref(req->prepared.obj);
    text = req->prepared.text;
  } else if (!fail.status) {
    obj = pred_generate(req, doc, model, &fail);
  }
  json_decref(doc);
  json_decref(model);
  if (fail.status)
    return fail;
  fail = organizations_consume(req, "predictions");
  if (fail.status) {
    json_decref(obj);
    return fail;
  }
  /* No parent or group: predictions are listed unfiltered (GET
   * /predictions takes only paging), and each indexed id costs the commit
   * an index page. */
  store_obj_key key = {
      prediction_kind.kind, req->principal.org_id,
      json_string_value(json_object_get(obj, prediction_kind.id_field))};
  store_status st = text
                        ? store_obj_insert_text(req->db, &key, NULL, NULL, text)
                        : store_obj_insert(req->db, &key, NULL, NULL, obj);
  if (st != STORE_ONE) {
    json_decref(obj);
    return api_store_err(st);
  }
  /* The prepared answer is copied: a retried transaction uses it again. */
  if (text) {
    json_decref(obj);
    char *answer = malloc(req->prepared.answer_len + 1);
    if (!answer)
      return api_err(ERR_INTERNAL);
    memcpy(answer, req->prepared.answer, req->prepared.answer_len + 1);
    return api_ok_raw(answer, req->prepared.answer_len);
  }
  /* Not crud_reply: it takes any object with a "predictions" array for a
   * list page, and a prediction has one of its own. (Without a prepared
   * text, obj is this request's own.) */
  pred_present(req, obj);
  return api_ok(obj);
}
