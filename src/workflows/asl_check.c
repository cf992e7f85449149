/* The definition checker. What it accepts is exactly what the engine runs:
 *
 *   machine   StartAt, States; Comment; Version "1.0"; QueryLanguage
 *             "JSONPath". TimeoutSeconds is refused (no execution timeout).
 *   states    Pass, Task, Choice, Wait, Succeed, Fail, Parallel with the
 *             spec's fields for each (Map is refused). A Task's Resource is a
 *             transition id the callback knows; its TimeoutSeconds and
 *             HeartbeatSeconds (and …Path, Credentials) are refused: the
 *             transition's own timeoutInSeconds and heartbeats govern it.
 *             Fail: Error and Cause (optional strings; ErrorPath/CausePath
 *             are refused).
 *   paths     InputPath/OutputPath: null or a Path; ResultPath: null or a
 *             Reference Path; Choice Variable and …Path operands,
 *             SecondsPath, TimestampPath: Reference Paths. `$$` (the context
 *             object) only in the `.$` members of Parameters and
 *             ResultSelector, which must be objects. Intrinsic functions are
 *             refused.
 *   flow      Next xor End (End only true) where the spec demands one; every
 *             Next, Default and Catch Next names a state of the same machine;
 *             every state is reachable from StartAt; each machine has a
 *             terminal state (Succeed, Fail or End). State names are 1 to 80
 *             characters without control characters, and unique in the whole
 *             definition, branches included.
 *   errors    Retry/Catch: ErrorEquals a non-empty array of error names
 *             (those starting "States." must be the spec's); States.ALL alone
 *             and in the last Retrier/Catcher; IntervalSeconds 1..99999999,
 *             MaxAttempts 0..99999999, BackoffRate >= 1.
 *
 * Bounds, so that a definition cannot make the checker (or the engine)
 * slow: JSON nesting at most ASL_MAX_DEPTH levels and ASL_MAX_NODES values
 * in all; at most ASL_MAX_STATES states in all; Parallel nested at most
 * ASL_MAX_PARALLEL deep; Choice rules nested at most ASL_MAX_RULE_DEPTH
 * deep. Unknown fields are refused everywhere. */
#include "workflows/asl_check.h"
#include "workflows/asl_data.h"
#include "workflows/asl_internal.h"
#include "workflows/jsonpath.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ASL_MAX_DEPTH 64
#define ASL_MAX_NODES 100000
#define ASL_MAX_STATES 1000
#define ASL_MAX_PARALLEL 8
#define ASL_MAX_RULE_DEPTH 16
#define ASL_MAX_NAME 80
#define ASL_MAX_SECONDS 99999999

typedef struct {
  char loc[8192]; /* the place being checked, e.g. definition.States.X */
  size_t len;
  char *why;
  size_t whylen;
  asl_resource_fn resource_exists;
  void *ctx;
  json_t *names; /* every state name seen -> where */
  size_t states;
  unsigned parallel; /* how deep in Parallel branches the check is */
} checker;

static size_t push(checker *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static size_t push(checker *c, const char *fmt, ...) {
  size_t old = c->len;
  if (c->len < sizeof c->loc - 1) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->loc + c->len, sizeof c->loc - c->len, fmt, ap);
    va_end(ap);
    if (n > 0)
      c->len += (size_t)n;
    if (c->len >= sizeof c->loc)
      c->len = sizeof c->loc - 1;
  }
  return old;
}

/* Appends prefix and a member name cut to ASL_MAX_SHOWN bytes (at a
 * character boundary, marked with "…"): names are the definition's own and
 * may be long. */
#define ASL_MAX_SHOWN 100
static size_t push_name(checker *c, const char *prefix, const char *name) {
  size_t n = strlen(name);
  if (n <= ASL_MAX_SHOWN)
    return push(c, "%s%s", prefix, name);
  n = ASL_MAX_SHOWN;
  while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
    n--;
  return push(c, "%s%.*s\u2026", prefix, (int)n, name);
}

/* The place for a message: long places keep their start and end. */
static const char *place(const checker *c, char *buf, size_t len) {
  if (c->len <= 360)
    return c->loc;
  size_t head = 150, tail = c->len - 200;
  while (head > 0 && ((unsigned char)c->loc[head] & 0xc0) == 0x80)
    head--;
  while (tail < c->len && ((unsigned char)c->loc[tail] & 0xc0) == 0x80)
    tail++;
  snprintf(buf, len, "%.*s\u2026%s", (int)head, c->loc, c->loc + tail);
  return buf;
}

static void pop(checker *c, size_t len) {
  c->len = len;
  c->loc[len] = '\0';
}

/* Writes "<place>: <message>" and answers false. */
static bool fail(checker *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static bool fail(checker *c, const char *fmt, ...) {
  if (!c->why || c->whylen == 0)
    return false;
  char buf[400];
  int n = snprintf(c->why, c->whylen, "%s: ", place(c, buf, sizeof buf));
  if (n >= 0 && (size_t)n < c->whylen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why + n, c->whylen - (size_t)n, fmt, ap);
    va_end(ap);
  }
  asl_utf8_clean(c->why);
  return false;
}

/* A field's check, with the field's name added to the place. */
static bool fail_at(checker *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail_at(checker *c, const char *field, const char *fmt, ...) {
  push_name(c, ".", field);
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return fail(c, "%s", msg);
}

/* ---- size ---- */

static bool measure(const json_t *v, unsigned depth, size_t *nodes) {
  if (++*nodes > ASL_MAX_NODES || depth > ASL_MAX_DEPTH)
    return false;
  if (json_is_object(v)) {
    const char *k;
    const json_t *m;
    json_object_foreach((json_t *)v, k, m) {
      if (!measure(m, depth + 1, nodes))
        return false;
    }
  } else if (json_is_array(v)) {
    for (size_t i = 0; i < json_array_size(v); i++)
      if (!measure(json_array_get(v, i), depth + 1, nodes))
        return false;
  }
  return true;
}

/* ---- values ---- */

static bool is_whole(const json_t *v, double lo, double hi) {
  double d;
  if (json_is_integer(v))
    d = (double)json_integer_value(v);
  else if (json_is_real(v))
    d = json_real_value(v);
  else
    return false;
  return d == floor(d) && d >= lo && d <= hi;
}

static const char *type_name(const json_t *v) {
  return asl_type_name(v);
}

/* A path field: null allowed when nullable; reference for Reference Paths;
 * `$$` never (only payload templates may read the context object). */
static bool check_path(checker *c, const char *field, const json_t *v,
                       bool reference, bool nullable) {
  if (json_is_null(v) && nullable)
    return true;
  if (!json_is_string(v))
    return fail_at(c, field, "must be %s%s, not %s",
                   reference ? "a Reference Path" : "a Path",
                   nullable ? " or null" : "", type_name(v));
  const char *path = json_string_value(v);
  char why[200];
  if (jsonpath_check(path, reference, why, sizeof why) != JSONPATH_OK)
    return fail_at(c, field, "\"%.200s\" is not a valid %s: %s", path,
                   reference ? "Reference Path" : "Path", why);
  if (strncmp(path, "$$", 2) == 0)
    return fail_at(c, field,
                   "the context object ($$) can only be read by the \".$\" "
                   "fields of Parameters and ResultSelector");
  return true;
}

/* Parameters and ResultSelector: `.$` members hold Paths (into the input
 * or, with `$$`, the context object). */
static bool check_template(checker *c, const json_t *v) {
  if (json_is_array(v)) {
    for (size_t i = 0; i < json_array_size(v); i++) {
      size_t mark = push(c, "[%zu]", i);
      if (!check_template(c, json_array_get(v, i)))
        return false;
      pop(c, mark);
    }
    return true;
  }
  if (!json_is_object(v))
    return true;
  const char *key;
  const json_t *m;
  json_object_foreach((json_t *)v, key, m) {
    size_t len = strlen(key);
    size_t mark = push_name(c, ".", key);
    if (len > 2 && strcmp(key + len - 2, ".$") == 0) {
      if (!json_is_string(m))
        return fail(c,
                    "a field whose name ends in \".$\" must be a Path "
                    "string, not %s",
                    type_name(m));
      const char *path = json_string_value(m);
      if (path[0] != '$')
        return fail(c,
                    "\"%.100s\": intrinsic functions are not supported; the "
                    "value must be a Path starting with $ (or $$ for the "
                    "context object)",
                    path);
      char why[200];
      if (jsonpath_check(path, false, why, sizeof why) != JSONPATH_OK)
        return fail(c, "\"%.200s\" is not a valid Path: %s", path, why);
      /* The result's member is the name without ".$": two members that
       * would get the same name are refused. */
      char plain[512];
      if (len - 2 < sizeof plain) {
        memcpy(plain, key, len - 2);
        plain[len - 2] = '\0';
        if (json_object_get(v, plain))
          return fail(c, "both \"%s\" and \"%s\" are given", plain, key);
      }
    } else if (!check_template(c, m)) {
      return false;
    }
    pop(c, mark);
  }
  return true;
}

static bool check_payload(checker *c, const char *field, const json_t *v) {
  if (!json_is_object(v))
    return fail_at(c, field, "must be an object, not %s", type_name(v));
  size_t mark = push(c, ".%s", field);
  if (!check_template(c, v))
    return false;
  pop(c, mark);
  return true;
}

/* ---- state names ---- */

static size_t utf8_chars(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    if (((unsigned char)*s & 0xc0) != 0x80)
      n++;
  return n;
}

static bool check_name(checker *c, const char *name) {
  size_t chars = utf8_chars(name);
  if (chars == 0)
    return fail(c, "a state name must not be empty");
  if (chars > ASL_MAX_NAME)
    return fail(c, "a state name has at most %d characters, this one %zu",
                ASL_MAX_NAME, chars);
  for (const char *p = name; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return fail(c, "a state name must not contain control characters");
  const json_t *seen = json_object_get(c->names, name);
  if (seen)
    return fail(c,
                "state name \"%s\" is used twice (also %s); names are "
                "unique in the whole definition",
                name, json_string_value(seen));
  char buf[400];
  json_object_set_new(c->names, name, json_string(place(c, buf, sizeof buf)));
  return true;
}

/* A Next/Default target. */
static bool check_target(checker *c, const char *field, const json_t *v,
                         const json_t *states) {
  if (!json_is_string(v))
    return fail_at(c, field, "must be a state name, not %s", type_name(v));
  if (!json_object_get(states, json_string_value(v)))
    return fail_at(c, field, "state \"%.100s\" does not exist%s",
                   json_string_value(v), c->parallel ? " in this branch" : "");
  return true;
}

/* ---- errors: Retry and Catch ---- */

static const char *const predefined_errors[] = {
    ASL_ERR_ALL,
    "States.HeartbeatTimeout",
    ASL_ERR_TIMEOUT,
    ASL_ERR_TASK_FAILED,
    ASL_ERR_PERMISSIONS,
    ASL_ERR_RESULT_PATH,
    ASL_ERR_PARAMETER_PATH,
    ASL_ERR_BRANCH_FAILED,
    ASL_ERR_NO_CHOICE,
    ASL_ERR_INTRINSIC,
    ASL_ERR_RUNTIME,
    "States.ExceedToleratedFailureThreshold",
    "States.ItemReaderFailed",
    "States.ResultWriterFailed",
    "States.DataLimitExceeded",
};

static bool check_error_equals(checker *c, const json_t *v, bool last) {
  if (!v)
    return fail(c, "ErrorEquals is required");
  if (!json_is_array(v) || json_array_size(v) == 0)
    return fail_at(c, "ErrorEquals",
                   "must be a non-empty array of error "
                   "names");
  for (size_t i = 0; i < json_array_size(v); i++) {
    const json_t *e = json_array_get(v, i);
    size_t mark = push(c, ".ErrorEquals[%zu]", i);
    if (!json_is_string(e) || json_string_length(e) == 0)
      return fail(c, "must be an error name (a non-empty string)");
    const char *name = json_string_value(e);
    if (strncmp(name, "States.", 7) == 0) {
      bool known = false;
      for (size_t k = 0;
           k < sizeof predefined_errors / sizeof *predefined_errors; k++)
        known = known || strcmp(name, predefined_errors[k]) == 0;
      if (!known)
        return fail(c,
                    "\"%.100s\" is not one of the spec's error names "
                    "(names starting \"States.\" are reserved)",
                    name);
    }
    if (strcmp(name, ASL_ERR_ALL) == 0) {
      if (json_array_size(v) != 1)
        return fail(c, "States.ALL must appear alone in ErrorEquals");
      if (!last)
        return fail(c, "States.ALL must appear in the last element");
    }
    pop(c, mark);
  }
  return true;
}

static bool check_retry(checker *c, const json_t *retry) {
  if (!json_is_array(retry))
    return fail_at(c, "Retry", "must be an array of Retriers");
  for (size_t i = 0; i < json_array_size(retry); i++) {
    const json_t *r = json_array_get(retry, i);
    size_t mark = push(c, ".Retry[%zu]", i);
    if (!json_is_object(r))
      return fail(c, "must be an object, not %s", type_name(r));
    const char *key;
    const json_t *m;
    json_object_foreach((json_t *)r, key, m) {
      if (strcmp(key, "ErrorEquals") == 0 || strcmp(key, "Comment") == 0)
        continue;
      if (strcmp(key, "IntervalSeconds") == 0) {
        if (!is_whole(m, 1, ASL_MAX_SECONDS))
          return fail_at(c, key, "must be an integer from 1 to %d",
                         ASL_MAX_SECONDS);
      } else if (strcmp(key, "MaxAttempts") == 0) {
        if (!is_whole(m, 0, ASL_MAX_SECONDS))
          return fail_at(c, key, "must be an integer from 0 to %d",
                         ASL_MAX_SECONDS);
      } else if (strcmp(key, "BackoffRate") == 0) {
        if (!json_is_number(m) || !(json_number_value(m) >= 1.0))
          return fail_at(c, key, "must be a number of at least 1.0");
      } else if (strcmp(key, "MaxDelaySeconds") == 0 ||
                 strcmp(key, "JitterStrategy") == 0) {
        return fail_at(c, key, "is not supported");
      } else {
        return fail_at(c, key, "is not a field of a Retrier");
      }
    }
    const json_t *comment = json_object_get(r, "Comment");
    if (comment && !json_is_string(comment))
      return fail_at(c, "Comment", "must be a string");
    if (!check_error_equals(c, json_object_get(r, "ErrorEquals"),
                            i + 1 == json_array_size(retry)))
      return false;
    pop(c, mark);
  }
  return true;
}

static bool check_catch(checker *c, const json_t *catch_,
                        const json_t *states) {
  if (!json_is_array(catch_))
    return fail_at(c, "Catch", "must be an array of Catchers");
  for (size_t i = 0; i < json_array_size(catch_); i++) {
    const json_t *r = json_array_get(catch_, i);
    size_t mark = push(c, ".Catch[%zu]", i);
    if (!json_is_object(r))
      return fail(c, "must be an object, not %s", type_name(r));
    const char *key;
    const json_t *m;
    json_object_foreach((json_t *)r, key, m) {
      if (strcmp(key, "ErrorEquals") == 0)
        continue;
      if (strcmp(key, "Next") == 0) {
        if (!check_target(c, key, m, states))
          return false;
      } else if (strcmp(key, "ResultPath") == 0) {
        if (!check_path(c, key, m, true, true))
          return false;
      } else if (strcmp(key, "Comment") == 0) {
        if (!json_is_string(m))
          return fail_at(c, key, "must be a string");
      } else if (strcmp(key, "Output") == 0 || strcmp(key, "Assign") == 0) {
        return fail_at(c, key, "is not supported");
      } else {
        return fail_at(c, key, "is not a field of a Catcher");
      }
    }
    if (!json_object_get(r, "Next"))
      return fail(c, "Next is required");
    if (!check_error_equals(c, json_object_get(r, "ErrorEquals"),
                            i + 1 == json_array_size(catch_)))
      return false;
    pop(c, mark);
  }
  return true;
}

/* ---- Choice rules ---- */

static bool check_rule(checker *c, const json_t *rule, bool top,
                       const json_t *states, unsigned depth);

static bool check_operand(checker *c, const asl_operator *op, const char *key,
                          const json_t *v) {
  if (op->path)
    return check_path(c, key, v, true, false);
  int64_t us;
  switch (op->type) {
  case ASL_CMP_STRING:
    if (!json_is_string(v))
      return fail_at(c, key, "must be a string, not %s", type_name(v));
    return true;
  case ASL_CMP_MATCHES:
    if (!json_is_string(v))
      return fail_at(c, key, "must be a string, not %s", type_name(v));
    if (!asl_pattern_valid(json_string_value(v)))
      return fail_at(c, key,
                     "a backslash may only escape '*' or another backslash");
    return true;
  case ASL_CMP_NUMERIC:
    if (!json_is_number(v))
      return fail_at(c, key, "must be a number, not %s", type_name(v));
    return true;
  case ASL_CMP_TIMESTAMP:
    if (!json_is_string(v) || !asl_parse_timestamp(json_string_value(v), &us))
      return fail_at(c, key,
                     "must be an RFC 3339 timestamp such as "
                     "\"2016-03-14T01:59:00Z\"");
    return true;
  default: /* BooleanEquals and the Is… tests */
    if (!json_is_boolean(v))
      return fail_at(c, key, "must be true or false, not %s", type_name(v));
    return true;
  }
}

static bool check_rule(checker *c, const json_t *rule, bool top,
                       const json_t *states, unsigned depth) {
  if (!json_is_object(rule))
    return fail(c, "a Choice rule must be an object, not %s", type_name(rule));
  if (depth > ASL_MAX_RULE_DEPTH)
    return fail(c, "Choice rules nest at most %d deep", ASL_MAX_RULE_DEPTH);
  const json_t *next = json_object_get(rule, "Next");
  if (top && !next)
    return fail(c, "Next is required in a top-level Choice rule");
  if (!top && next)
    return fail_at(c, "Next",
                   "only top-level Choice rules have Next, not the rules "
                   "inside And, Or and Not");
  const char *logic = NULL;
  const asl_operator *op = NULL;
  const char *op_key = NULL;
  const char *key;
  const json_t *m;
  json_object_foreach((json_t *)rule, key, m) {
    if (strcmp(key, "Next") == 0 || strcmp(key, "Comment") == 0 ||
        strcmp(key, "Variable") == 0)
      continue;
    if (strcmp(key, "And") == 0 || strcmp(key, "Or") == 0 ||
        strcmp(key, "Not") == 0) {
      if (logic || op)
        return fail_at(c, key,
                       "a Choice rule has exactly one operator; it also has "
                       "%s",
                       logic ? logic : op_key);
      logic = key;
      continue;
    }
    const asl_operator *found = asl_operator_find(key);
    if (!found) {
      if (strcmp(key, "Condition") == 0 || strcmp(key, "Assign") == 0)
        return fail_at(c, key, "is not supported");
      return fail_at(c, key,
                     "is not a comparison operator or field of a "
                     "Choice rule");
    }
    if (logic || op)
      return fail_at(c, key,
                     "a Choice rule has exactly one operator; it also has %s",
                     logic ? logic : op_key);
    op = found;
    op_key = key;
  }
  if (next && !check_target(c, "Next", next, states))
    return false;
  const json_t *comment = json_object_get(rule, "Comment");
  if (comment && !json_is_string(comment))
    return fail_at(c, "Comment", "must be a string");
  const json_t *variable = json_object_get(rule, "Variable");
  if (logic) {
    if (variable)
      return fail_at(c, "Variable", "And, Or and Not rules have no Variable");
    const json_t *v = json_object_get(rule, logic);
    if (strcmp(logic, "Not") == 0) {
      size_t mark = push(c, ".Not");
      if (!check_rule(c, v, false, states, depth + 1))
        return false;
      pop(c, mark);
      return true;
    }
    if (!json_is_array(v) || json_array_size(v) == 0)
      return fail_at(c, logic, "must be a non-empty array of Choice rules");
    for (size_t i = 0; i < json_array_size(v); i++) {
      size_t mark = push(c, ".%s[%zu]", logic, i);
      if (!check_rule(c, json_array_get(v, i), false, states, depth + 1))
        return false;
      pop(c, mark);
    }
    return true;
  }
  if (!op)
    return fail(c, "a Choice rule needs a comparison operator (StringEquals, "
                   "NumericLessThan, IsPresent, …) or And, Or, Not");
  if (!variable)
    return fail(c, "Variable is required with %s", op_key);
  if (!check_path(c, "Variable", variable, true, false))
    return false;
  return check_operand(c, op, op_key, json_object_get(rule, op_key));
}

/* ---- states ---- */

enum {
  F_COMMENT = 1 << 0,
  F_IO = 1 << 1, /* InputPath, OutputPath */
  F_PARAMETERS = 1 << 2,
  F_RESULT_SELECTOR = 1 << 3,
  F_RESULT_PATH = 1 << 4,
  F_FLOW = 1 << 5,   /* Next xor End */
  F_ERRORS = 1 << 6, /* Retry, Catch */
};

typedef struct {
  const char *type;
  unsigned fields;
  const char *const own[6]; /* fields of this type only */
} state_type;

static const state_type state_types[] = {
    {"Pass",
     F_COMMENT | F_IO | F_PARAMETERS | F_RESULT_PATH | F_FLOW,
     {"Result"}},
    {"Task",
     F_COMMENT | F_IO | F_PARAMETERS | F_RESULT_SELECTOR | F_RESULT_PATH |
         F_FLOW | F_ERRORS,
     {"Resource"}},
    {"Choice", F_COMMENT | F_IO, {"Choices", "Default"}},
    {"Wait",
     F_COMMENT | F_IO | F_FLOW,
     {"Seconds", "Timestamp", "SecondsPath", "TimestampPath"}},
    {"Succeed", F_COMMENT | F_IO, {NULL}},
    {"Fail", F_COMMENT, {"Error", "Cause"}},
    {"Parallel",
     F_COMMENT | F_IO | F_PARAMETERS | F_RESULT_SELECTOR | F_RESULT_PATH |
         F_FLOW | F_ERRORS,
     {"Branches"}},
};

/* Fields of the spec (or of Step Functions) this engine does not run. */
static const char *const unsupported[] = {"TimeoutSeconds",
                                          "TimeoutSecondsPath",
                                          "HeartbeatSeconds",
                                          "HeartbeatSecondsPath",
                                          "Credentials",
                                          "ErrorPath",
                                          "CausePath",
                                          "Arguments",
                                          "Output",
                                          "Assign",
                                          "QueryLanguage",
                                          "Items",
                                          "ItemsPath",
                                          "ItemProcessor",
                                          "ItemSelector",
                                          "Iterator",
                                          "MaxConcurrency",
                                          "ItemReader",
                                          "ItemBatcher",
                                          "ResultWriter",
                                          "ToleratedFailureCount",
                                          "ToleratedFailurePercentage",
                                          "Label"};

static bool field_allowed(const state_type *t, const char *key) {
  if (strcmp(key, "Type") == 0)
    return true;
  if (strcmp(key, "Comment") == 0)
    return t->fields & F_COMMENT;
  if (strcmp(key, "InputPath") == 0 || strcmp(key, "OutputPath") == 0)
    return t->fields & F_IO;
  if (strcmp(key, "Parameters") == 0)
    return t->fields & F_PARAMETERS;
  if (strcmp(key, "ResultSelector") == 0)
    return t->fields & F_RESULT_SELECTOR;
  if (strcmp(key, "ResultPath") == 0)
    return t->fields & F_RESULT_PATH;
  if (strcmp(key, "Next") == 0 || strcmp(key, "End") == 0)
    return t->fields & F_FLOW;
  if (strcmp(key, "Retry") == 0 || strcmp(key, "Catch") == 0)
    return t->fields & F_ERRORS;
  for (size_t i = 0; i < 6 && t->own[i]; i++)
    if (strcmp(key, t->own[i]) == 0)
      return true;
  return false;
}

static bool check_machine(checker *c, const json_t *machine, bool top,
                          unsigned parallel_depth);

static bool check_wait(checker *c, const json_t *state) {
  static const char *const kinds[] = {"Seconds", "Timestamp", "SecondsPath",
                                      "TimestampPath"};
  const char *which = NULL;
  for (size_t i = 0; i < 4; i++) {
    if (!json_object_get(state, kinds[i]))
      continue;
    if (which)
      return fail(c,
                  "a Wait state has exactly one of Seconds, Timestamp, "
                  "SecondsPath and TimestampPath; this one has %s and %s",
                  which, kinds[i]);
    which = kinds[i];
  }
  if (!which)
    return fail(c, "a Wait state needs one of Seconds, Timestamp, "
                   "SecondsPath and TimestampPath");
  const json_t *v = json_object_get(state, which);
  int64_t us;
  if (strcmp(which, "Seconds") == 0 && !is_whole(v, 0, ASL_MAX_SECONDS))
    return fail_at(c, which, "must be an integer from 0 to %d",
                   ASL_MAX_SECONDS);
  if (strcmp(which, "Timestamp") == 0 &&
      (!json_is_string(v) || !asl_parse_timestamp(json_string_value(v), &us)))
    return fail_at(c, which,
                   "must be an RFC 3339 timestamp such as "
                   "\"2016-03-14T01:59:00Z\"");
  if (strstr(which, "Path") && !check_path(c, which, v, true, false))
    return false;
  return true;
}

static bool check_state(checker *c, const json_t *state, const json_t *states,
                        unsigned parallel_depth) {
  if (!json_is_object(state))
    return fail(c, "a state must be an object, not %s", type_name(state));
  const json_t *type = json_object_get(state, "Type");
  if (!type)
    return fail(c, "Type is required");
  if (!json_is_string(type))
    return fail_at(c, "Type", "must be a string, not %s", type_name(type));
  const char *tname = json_string_value(type);
  const state_type *t = NULL;
  for (size_t i = 0; i < sizeof state_types / sizeof *state_types; i++)
    if (strcmp(state_types[i].type, tname) == 0)
      t = &state_types[i];
  if (!t) {
    if (strcmp(tname, "Map") == 0)
      return fail_at(c, "Type", "Map states are not supported");
    return fail_at(c, "Type",
                   "\"%.50s\" is not a state type (Pass, Task, Choice, Wait, "
                   "Succeed, Fail, Parallel)",
                   tname);
  }
  const char *key;
  const json_t *m;
  json_object_foreach((json_t *)state, key, m) {
    if (field_allowed(t, key))
      continue;
    for (size_t i = 0; i < sizeof unsupported / sizeof *unsupported; i++)
      if (strcmp(key, unsupported[i]) == 0)
        return fail_at(c, key,
                       strcmp(key, "TimeoutSeconds") == 0 ||
                               strcmp(key, "HeartbeatSeconds") == 0
                           ? "is not supported: a transition's own "
                             "timeoutInSeconds and heartbeats govern it"
                           : "is not supported");
    return fail_at(c, key, "is not a field of a %s state", tname);
  }
  /* Fields every type may have. */
  const json_t *v;
  if ((v = json_object_get(state, "Comment")) && !json_is_string(v))
    return fail_at(c, "Comment", "must be a string");
  if ((v = json_object_get(state, "InputPath")) &&
      !check_path(c, "InputPath", v, false, true))
    return false;
  if ((v = json_object_get(state, "OutputPath")) &&
      !check_path(c, "OutputPath", v, false, true))
    return false;
  if ((v = json_object_get(state, "ResultPath")) &&
      !check_path(c, "ResultPath", v, true, true))
    return false;
  if ((v = json_object_get(state, "Parameters")) &&
      !check_payload(c, "Parameters", v))
    return false;
  if ((v = json_object_get(state, "ResultSelector")) &&
      !check_payload(c, "ResultSelector", v))
    return false;
  if (t->fields & F_FLOW) {
    const json_t *next = json_object_get(state, "Next");
    const json_t *end = json_object_get(state, "End");
    if (next && end)
      return fail(c, "a %s state has Next or End, not both", tname);
    if (!next && !end)
      return fail(c, "a %s state needs Next or \"End\": true", tname);
    if (end && !json_is_true(end))
      return fail_at(c, "End",
                     "must be true (leave it out and give Next instead)");
    if (next && !check_target(c, "Next", next, states))
      return false;
  }
  if ((v = json_object_get(state, "Retry")) && !check_retry(c, v))
    return false;
  if ((v = json_object_get(state, "Catch")) && !check_catch(c, v, states))
    return false;
  /* Fields of one type. */
  if (strcmp(tname, "Task") == 0) {
    v = json_object_get(state, "Resource");
    if (!v)
      return fail(c, "Resource is required in a Task state");
    if (!json_is_string(v) || json_string_length(v) == 0)
      return fail_at(c, "Resource", "must be a transition id, not %s",
                     type_name(v));
    if (c->resource_exists && !c->resource_exists(c->ctx, json_string_value(v)))
      return fail_at(c, "Resource",
                     "\"%.100s\" is not a transition of the organization",
                     json_string_value(v));
  } else if (strcmp(tname, "Choice") == 0) {
    const json_t *choices = json_object_get(state, "Choices");
    if (!choices)
      return fail(c, "Choices is required in a Choice state");
    if (!json_is_array(choices) || json_array_size(choices) == 0)
      return fail_at(c, "Choices",
                     "must be a non-empty array of Choice "
                     "rules");
    for (size_t i = 0; i < json_array_size(choices); i++) {
      size_t mark = push(c, ".Choices[%zu]", i);
      if (!check_rule(c, json_array_get(choices, i), true, states, 0))
        return false;
      pop(c, mark);
    }
    if ((v = json_object_get(state, "Default")) &&
        !check_target(c, "Default", v, states))
      return false;
  } else if (strcmp(tname, "Wait") == 0) {
    return check_wait(c, state);
  } else if (strcmp(tname, "Fail") == 0) {
    if ((v = json_object_get(state, "Error")) && !json_is_string(v))
      return fail_at(c, "Error", "must be a string");
    if ((v = json_object_get(state, "Cause")) && !json_is_string(v))
      return fail_at(c, "Cause", "must be a string");
  } else if (strcmp(tname, "Parallel") == 0) {
    const json_t *branches = json_object_get(state, "Branches");
    if (!branches)
      return fail(c, "Branches is required in a Parallel state");
    if (!json_is_array(branches) || json_array_size(branches) == 0)
      return fail_at(c, "Branches",
                     "must be a non-empty array of state "
                     "machines");
    if (parallel_depth + 1 > ASL_MAX_PARALLEL)
      return fail_at(c, "Branches", "Parallel states nest at most %d deep",
                     ASL_MAX_PARALLEL);
    for (size_t i = 0; i < json_array_size(branches); i++) {
      size_t mark = push(c, ".Branches[%zu]", i);
      if (!check_machine(c, json_array_get(branches, i), false,
                         parallel_depth + 1))
        return false;
      c->parallel = parallel_depth;
      pop(c, mark);
    }
  }
  return true;
}

typedef struct {
  const char **queue;
  size_t tail, cap;
  json_t *seen;
} walk;

static void reach(walk *w, const char *name) {
  if (name && !json_object_get(w->seen, name) && w->tail < w->cap) {
    json_object_set_new(w->seen, name, json_true());
    w->queue[w->tail++] = name;
  }
}

/* Every state must be reachable from StartAt through Next, Default, the
 * Choice rules' Next and the Catchers' Next. */
static bool check_reachable(checker *c, const json_t *states,
                            const char *start) {
  walk w = {malloc(json_object_size(states) * sizeof(char *)), 0,
            json_object_size(states), json_object()};
  if (!w.queue || !w.seen) {
    free(w.queue);
    json_decref(w.seen);
    return fail(c, "out of memory");
  }
  reach(&w, start);
  for (size_t head = 0; head < w.tail; head++) {
    const json_t *state = json_object_get(states, w.queue[head]);
    reach(&w, json_string_value(json_object_get(state, "Next")));
    reach(&w, json_string_value(json_object_get(state, "Default")));
    const json_t *lists[2] = {json_object_get(state, "Choices"),
                              json_object_get(state, "Catch")};
    for (size_t k = 0; k < 2; k++)
      for (size_t i = 0; i < json_array_size(lists[k]); i++)
        reach(&w, json_string_value(
                      json_object_get(json_array_get(lists[k], i), "Next")));
  }
  bool ok = true;
  const char *name;
  const json_t *state;
  json_object_foreach((json_t *)states, name, state) {
    if (!json_object_get(w.seen, name)) {
      push_name(c, ".States.", name);
      ok = fail(c, "state \"%s\" cannot be reached from StartAt \"%s\"", name,
                start);
      break;
    }
  }
  free(w.queue);
  json_decref(w.seen);
  return ok;
}

static bool check_machine(checker *c, const json_t *machine, bool top,
                          unsigned parallel_depth) {
  if (!json_is_object(machine))
    return fail(c, "a state machine must be an object, not %s",
                type_name(machine));
  const char *key;
  const json_t *m;
  json_object_foreach((json_t *)machine, key, m) {
    if (strcmp(key, "StartAt") == 0 || strcmp(key, "States") == 0)
      continue;
    if (strcmp(key, "Comment") == 0) {
      if (!json_is_string(m))
        return fail_at(c, key, "must be a string");
    } else if (top && strcmp(key, "Version") == 0) {
      if (!json_is_string(m) || strcmp(json_string_value(m), "1.0") != 0)
        return fail_at(c, key, "must be \"1.0\"");
    } else if (top && strcmp(key, "QueryLanguage") == 0) {
      if (!json_is_string(m) || strcmp(json_string_value(m), "JSONPath") != 0)
        return fail_at(c, key, "only \"JSONPath\" is supported");
    } else if (top && strcmp(key, "TimeoutSeconds") == 0) {
      return fail_at(c, key,
                     "is not supported: executions have no overall "
                     "timeout");
    } else {
      return fail_at(c, key, "is not a field of a state machine%s",
                     top ? "" : " branch");
    }
  }
  const json_t *start = json_object_get(machine, "StartAt");
  const json_t *states = json_object_get(machine, "States");
  if (!start)
    return fail(c, "StartAt is required");
  if (!states)
    return fail(c, "States is required");
  if (!json_is_object(states) || json_object_size(states) == 0)
    return fail_at(c, "States", "must be a non-empty object of states");
  if (!json_is_string(start))
    return fail_at(c, "StartAt", "must be a state name, not %s",
                   type_name(start));
  if (!json_object_get(states, json_string_value(start)))
    return fail_at(c, "StartAt", "state \"%.100s\" does not exist",
                   json_string_value(start));
  c->parallel = parallel_depth;
  c->states += json_object_size(states);
  if (c->states > ASL_MAX_STATES)
    return fail_at(c, "States", "a definition has at most %d states in all",
                   ASL_MAX_STATES);
  bool terminal = false;
  const char *name;
  const json_t *state;
  json_object_foreach((json_t *)states, name, state) {
    size_t mark = push_name(c, ".States.", name);
    if (!check_name(c, name) || !check_state(c, state, states, parallel_depth))
      return false;
    const char *type = json_string_value(json_object_get(state, "Type"));
    if (strcmp(type, "Succeed") == 0 || strcmp(type, "Fail") == 0 ||
        json_is_true(json_object_get(state, "End")))
      terminal = true;
    pop(c, mark);
  }
  if (!terminal)
    return fail_at(c, "States",
                   "no state ends the machine (a Succeed or "
                   "Fail state, or \"End\": true)");
  return check_reachable(c, states, json_string_value(start));
}

bool asl_check(const json_t *definition, asl_resource_fn resource_exists,
               void *ctx, char *why, size_t whylen) {
  checker c = {.why = why,
               .whylen = whylen,
               .resource_exists = resource_exists,
               .ctx = ctx};
  push(&c, "definition");
  size_t nodes = 0;
  if (!measure(definition, 0, &nodes))
    return fail(&c,
                "a definition has at most %d JSON values and %d levels of "
                "nesting",
                ASL_MAX_NODES, ASL_MAX_DEPTH);
  c.names = json_object();
  if (!c.names)
    return fail(&c, "out of memory");
  bool ok = check_machine(&c, definition, true, 0);
  json_decref(c.names);
  return ok;
}
