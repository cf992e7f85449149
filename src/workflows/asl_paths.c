/* Input and output processing of a state (states-language.net, "Input and
 * Output Processing"): InputPath, Parameters, ResultSelector, ResultPath,
 * OutputPath, and the Catcher's ResultPath. Each field absent means `$`;
 * InputPath and OutputPath null mean {}, ResultPath null keeps the raw input
 * and discards the result. ResultPath applies to the state's raw input.
 *
 * Payload templates (Parameters, ResultSelector): objects and arrays are
 * walked at any depth; a member whose name ends in `.$` takes the value its
 * Path selects (in the input, or in the context object for `$$`) under the
 * name without `.$`. Intrinsic functions are not supported (asl_check
 * refuses them). A `.$` path that selects nothing fails the state with
 * States.ParameterPathFailure, in ResultSelector too. */
#include "workflows/asl_internal.h"
#include "workflows/jsonpath.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Templates come from definitions asl_check has bounded; this only keeps a
 * template that did not pass through it from exhausting the stack. */
#define ASL_TEMPLATE_MAX_DEPTH 512

/* Length of the UTF-8 sequence at p, or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p) {
  if (p[0] < 0x80)
    return 1;
  size_t n = (p[0] & 0xe0) == 0xc0   ? 2
             : (p[0] & 0xf0) == 0xe0 ? 3
             : (p[0] & 0xf8) == 0xf0 ? 4
                                     : 0;
  unsigned cp = p[0] & (n == 2 ? 0x1fu : n == 3 ? 0x0fu : 0x07u);
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80)
      return 0;
    cp = cp << 6 | (p[i] & 0x3fu);
  }
  if (!n || (n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
      (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
      (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

void asl_utf8_clean(char *text) {
  unsigned char *p = (unsigned char *)text;
  while (*p) {
    size_t n = utf8_len(p);
    if (n) {
      p += n;
    } else {
      *p++ = '?';
    }
  }
}

void asl_error_set(asl_error *err, const char *error, const char *fmt, ...) {
  if (!err)
    return;
  snprintf(err->error, sizeof err->error, "%s", error);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->cause, sizeof err->cause, fmt, ap);
  va_end(ap);
  asl_utf8_clean(err->error);
  asl_utf8_clean(err->cause);
}

const char *asl_type_name(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT:
    return "an object";
  case JSON_ARRAY:
    return "an array";
  case JSON_STRING:
    return "a string";
  case JSON_INTEGER:
  case JSON_REAL:
    return "a number";
  case JSON_TRUE:
  case JSON_FALSE:
    return "a boolean";
  case JSON_NULL:
    return "null";
  }
  return "a value";
}

static bool apply_template(const json_t *tmpl, const json_t *input,
                           const json_t *context, const char *field,
                           unsigned depth, json_t **out, asl_error *err) {
  if (depth > ASL_TEMPLATE_MAX_DEPTH) {
    asl_error_set(err, ASL_ERR_RUNTIME, "%s is nested deeper than %d", field,
                  ASL_TEMPLATE_MAX_DEPTH);
    return false;
  }
  if (json_is_array(tmpl)) {
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < json_array_size(tmpl); i++) {
      json_t *v = NULL;
      if (!apply_template(json_array_get(tmpl, i), input, context, field,
                          depth + 1, &v, err)) {
        json_decref(arr);
        return false;
      }
      json_array_append_new(arr, v);
    }
    *out = arr;
    return arr != NULL;
  }
  if (!json_is_object(tmpl)) {
    *out = json_incref((json_t *)tmpl);
    return true;
  }
  json_t *obj = json_object();
  const char *key;
  const json_t *val;
  json_object_foreach((json_t *)tmpl, key, val) {
    size_t len = strlen(key);
    json_t *v = NULL;
    if (len > 2 && strcmp(key + len - 2, ".$") == 0) {
      const char *path = json_string_value(val);
      bool ctx = path && strncmp(path, "$$", 2) == 0;
      if (!path || path[0] != '$') {
        asl_error_set(err, ASL_ERR_INTRINSIC,
                      "%s field '%.100s': only paths are supported, not "
                      "intrinsic functions",
                      field, key);
        json_decref(obj);
        return false;
      }
      char why[160];
      jsonpath_status rc =
          ctx && !context
              ? JSONPATH_NO_MATCH
              : jsonpath_get(ctx ? context : input, path, &v, why, sizeof why);
      if (rc != JSONPATH_OK) {
        asl_error_set(err, ASL_ERR_PARAMETER_PATH,
                      "%s field '%.100s': the path '%.150s' could not be "
                      "found in the %s",
                      field, key, path, ctx ? "context object" : "input");
        json_decref(obj);
        return false;
      }
      json_object_setn_new(obj, key, len - 2, v);
      continue;
    }
    if (!apply_template(val, input, context, field, depth + 1, &v, err)) {
      json_decref(obj);
      return false;
    }
    json_object_set_new(obj, key, v);
  }
  *out = obj;
  return obj != NULL;
}

/* InputPath or OutputPath: absent is `$`, null is {}. */
static bool apply_filter(const json_t *state, const char *field,
                         const json_t *doc, json_t **out, asl_error *err) {
  const json_t *path = json_object_get(state, field);
  if (!path) {
    *out = json_incref((json_t *)doc);
    return true;
  }
  if (json_is_null(path)) {
    *out = json_object();
    return true;
  }
  char why[160];
  if (!json_is_string(path) || jsonpath_get(doc, json_string_value(path), out,
                                            why, sizeof why) != JSONPATH_OK) {
    asl_error_set(err, ASL_ERR_RUNTIME,
                  "%s '%.200s' could not be applied to the state's %s", field,
                  json_is_string(path) ? json_string_value(path) : "?",
                  strcmp(field, "InputPath") == 0 ? "input" : "output");
    return false;
  }
  return true;
}

bool asl_effective_input(const json_t *state, const json_t *raw_input,
                         const json_t *context, json_t **out, asl_error *err) {
  *out = NULL;
  json_t *in = NULL;
  if (!apply_filter(state, "InputPath", raw_input, &in, err))
    return false;
  const json_t *params = json_object_get(state, "Parameters");
  if (!params) {
    *out = in;
    return true;
  }
  bool ok = apply_template(params, in, context, "Parameters", 0, out, err);
  json_decref(in);
  return ok;
}

/* Places result (borrowed) into raw_input at the ResultPath of holder. */
static bool place_result(const json_t *holder, const json_t *raw_input,
                         const json_t *result, json_t **out, asl_error *err) {
  const json_t *rp = json_object_get(holder, "ResultPath");
  if (!rp) {
    *out = json_incref((json_t *)result);
    return true;
  }
  if (json_is_null(rp)) {
    *out = json_incref((json_t *)raw_input);
    return true;
  }
  const char *path = json_string_value(rp);
  /* jsonpath_set copies what it changes when it is shared, and this
   * reference makes raw_input shared: the caller's input stays as it was. */
  json_t *doc = json_incref((json_t *)raw_input);
  char why[160];
  if (!path || jsonpath_set(&doc, path, json_incref((json_t *)result), why,
                            sizeof why) != JSONPATH_OK) {
    json_decref(doc);
    asl_error_set(err, ASL_ERR_RESULT_PATH,
                  "ResultPath '%.150s' cannot be applied to the state's "
                  "input: %.200s",
                  path ? path : "?", path ? why : "not a string");
    return false;
  }
  *out = doc;
  return true;
}

bool asl_effective_output(const json_t *state, const json_t *raw_input,
                          const json_t *result, const json_t *context,
                          json_t **out, asl_error *err) {
  *out = NULL;
  json_t *selected = NULL;
  const json_t *selector = json_object_get(state, "ResultSelector");
  if (selector) {
    if (!apply_template(selector, result, context, "ResultSelector", 0,
                        &selected, err))
      return false;
    result = selected;
  }
  json_t *placed = NULL;
  bool ok = place_result(state, raw_input, result, &placed, err);
  json_decref(selected);
  if (!ok)
    return false;
  ok = apply_filter(state, "OutputPath", placed, out, err);
  json_decref(placed);
  return ok;
}

bool asl_catch_output(const json_t *catcher, const json_t *raw_input,
                      const char *error, const char *cause, json_t **out,
                      asl_error *err) {
  *out = NULL;
  json_t *result = json_object();
  json_t *e = json_string(error ? error : "");
  json_t *c = json_string(cause ? cause : "");
  /* Texts that are not UTF-8 cannot be JSON strings: kept as "". */
  json_object_set_new(result, "Error", e ? e : json_string(""));
  json_object_set_new(result, "Cause", c ? c : json_string(""));
  bool ok = place_result(catcher, raw_input, result, out, err);
  json_decref(result);
  return ok;
}
