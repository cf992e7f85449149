/* Wait deadlines, error matching, Retry and Catch (states-language.net,
 * "Wait State" and "Errors"). Input and output processing is in
 * asl_paths.c, Choice rules and timestamps in asl_choice.c. */
#include "workflows/asl_internal.h"
#include "workflows/jsonpath.h"

#include <math.h>
#include <string.h>

/* The largest wait or retry interval in seconds (about three years), as
 * Step Functions bounds Seconds; a retry delay that would grow past it is
 * cut to it. */
#define ASL_MAX_SECONDS 99999999LL

/* SecondsPath (and asl_check's Seconds): a non-negative integer, or a real
 * with no fraction (JSON has one number type). */
static bool whole_seconds(const json_t *v, int64_t *out) {
  if (json_is_integer(v)) {
    *out = json_integer_value(v);
    return true;
  }
  if (json_is_real(v)) {
    double d = json_real_value(v);
    if (d != floor(d) || d < -1e15 || d > 1e15)
      return false;
    *out = (int64_t)d;
    return true;
  }
  return false;
}

bool asl_wait_until(const json_t *state, const json_t *input, int64_t now_us,
                    int64_t *until_us, asl_error *err) {
  const json_t *v;
  int64_t secs = 0;
  if ((v = json_object_get(state, "Seconds")) != NULL) {
    if (!whole_seconds(v, &secs) || secs < 0 || secs > ASL_MAX_SECONDS) {
      asl_error_set(err, ASL_ERR_RUNTIME,
                    "Seconds is not an integer from 0 to %lld",
                    ASL_MAX_SECONDS);
      return false;
    }
    *until_us = now_us + secs * 1000000;
    return true;
  }
  int64_t at = 0;
  if ((v = json_object_get(state, "Timestamp")) != NULL) {
    if (!json_is_string(v) || !asl_parse_timestamp(json_string_value(v), &at)) {
      asl_error_set(err, ASL_ERR_RUNTIME,
                    "Timestamp is not an RFC 3339 "
                    "timestamp");
      return false;
    }
    *until_us = at > now_us ? at : now_us;
    return true;
  }
  bool by_seconds = (v = json_object_get(state, "SecondsPath")) != NULL;
  if (!by_seconds && (v = json_object_get(state, "TimestampPath")) == NULL) {
    asl_error_set(err, ASL_ERR_RUNTIME,
                  "the Wait state has none of Seconds, Timestamp, SecondsPath "
                  "and TimestampPath");
    return false;
  }
  const char *field = by_seconds ? "SecondsPath" : "TimestampPath";
  const char *path = json_string_value(v);
  json_t *value = NULL;
  char why[160];
  if (!path ||
      jsonpath_get(input, path, &value, why, sizeof why) != JSONPATH_OK) {
    asl_error_set(err, ASL_ERR_RUNTIME,
                  "%s '%.200s' selects nothing in the input", field,
                  path ? path : "?");
    return false;
  }
  bool ok;
  if (by_seconds) {
    ok = whole_seconds(value, &secs) && secs >= 0 && secs <= ASL_MAX_SECONDS;
    if (ok)
      *until_us = now_us + secs * 1000000;
    else if (json_is_number(value))
      asl_error_set(err, ASL_ERR_RUNTIME,
                    "SecondsPath '%.200s' is the number %.17g, not an "
                    "integer from 0 to %lld",
                    path,
                    json_is_integer(value) ? (double)json_integer_value(value)
                                           : json_real_value(value),
                    ASL_MAX_SECONDS);
    else
      asl_error_set(err, ASL_ERR_RUNTIME,
                    "SecondsPath '%.200s' is %s, not an integer number of "
                    "seconds",
                    path, asl_type_name(value));
  } else {
    ok = json_is_string(value) &&
         asl_parse_timestamp(json_string_value(value), &at);
    if (ok)
      *until_us = at > now_us ? at : now_us;
    else if (json_is_string(value))
      asl_error_set(err, ASL_ERR_RUNTIME,
                    "TimestampPath '%.200s' is the string \"%.100s\", not an "
                    "RFC 3339 timestamp",
                    path, json_string_value(value));
    else
      asl_error_set(err, ASL_ERR_RUNTIME,
                    "TimestampPath '%.200s' is %s, not an RFC 3339 "
                    "timestamp string",
                    path, asl_type_name(value));
  }
  json_decref(value);
  return ok;
}

bool asl_error_matches(const json_t *error_equals, const char *error) {
  if (!error)
    return false;
  for (size_t i = 0; i < json_array_size(error_equals); i++) {
    const char *name = json_string_value(json_array_get(error_equals, i));
    if (!name)
      continue;
    if (strcmp(name, ASL_ERR_ALL) == 0 || strcmp(name, error) == 0)
      return true;
    if (strcmp(name, ASL_ERR_TASK_FAILED) == 0 &&
        strcmp(error, ASL_ERR_TIMEOUT) != 0)
      return true;
  }
  return false;
}

/* A field's number, or def when absent. */
static double number_or(const json_t *obj, const char *field, double def) {
  const json_t *v = json_object_get(obj, field);
  return json_is_number(v) ? json_number_value(v) : def;
}

bool asl_retry(const json_t *state, const char *error, json_t *attempts,
               int64_t *delay_us) {
  *delay_us = 0;
  const json_t *retriers = json_object_get(state, "Retry");
  if (!json_is_array(attempts))
    return false;
  for (size_t i = 0; i < json_array_size(retriers); i++) {
    const json_t *r = json_array_get(retriers, i);
    if (!asl_error_matches(json_object_get(r, "ErrorEquals"), error))
      continue;
    /* Only the first Retrier that matches counts, spent or not. */
    while (json_array_size(attempts) <= i)
      if (json_array_append_new(attempts, json_integer(0)) != 0)
        return false;
    json_int_t done = json_integer_value(json_array_get(attempts, i));
    double max = number_or(r, "MaxAttempts", 3);
    if ((double)done >= max)
      return false;
    done++;
    json_array_set_new(attempts, i, json_integer(done));
    double interval = number_or(r, "IntervalSeconds", 1);
    double rate = number_or(r, "BackoffRate", 2.0);
    double secs = interval * pow(rate, (double)(done - 1));
    if (!(secs >= 0)) /* NaN from a definition asl_check refuses */
      secs = 0;
    if (secs > (double)ASL_MAX_SECONDS)
      secs = (double)ASL_MAX_SECONDS;
    *delay_us = (int64_t)llround(secs * 1e6);
    return true;
  }
  return false;
}

const json_t *asl_catcher(const json_t *state, const char *error) {
  const json_t *catchers = json_object_get(state, "Catch");
  for (size_t i = 0; i < json_array_size(catchers); i++) {
    const json_t *c = json_array_get(catchers, i);
    if (asl_error_matches(json_object_get(c, "ErrorEquals"), error))
      return c;
  }
  return NULL;
}
