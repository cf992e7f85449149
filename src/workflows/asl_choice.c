/* Choice rules and timestamps (states-language.net, "Choice State").
 *
 * A rule's Variable (and a …Path operand) is a Reference Path into the
 * state's effective input. A Variable that selects nothing makes IsPresent
 * false and every other operator a States.Runtime error naming the path; a
 * …Path operand that selects nothing is the same error. A value of another
 * type than the operator compares (a number for StringEquals, a string that
 * is not a timestamp for TimestampEquals, …) makes the comparison false.
 * Strings compare by code point (UTF-8 bytes), numbers as numbers (1 equals
 * 1.0), timestamps as instants. StringMatches: `*` matches any run of
 * characters, `\*` is a literal `*` and `\\` a literal `\`. */
#include "workflows/asl_internal.h"
#include "workflows/jsonpath.h"

#include <stdlib.h>
#include <string.h>

static const asl_operator operators[] = {
    {"StringEquals", ASL_CMP_STRING, ASL_REL_EQ, false},
    {"StringEqualsPath", ASL_CMP_STRING, ASL_REL_EQ, true},
    {"StringLessThan", ASL_CMP_STRING, ASL_REL_LT, false},
    {"StringLessThanPath", ASL_CMP_STRING, ASL_REL_LT, true},
    {"StringGreaterThan", ASL_CMP_STRING, ASL_REL_GT, false},
    {"StringGreaterThanPath", ASL_CMP_STRING, ASL_REL_GT, true},
    {"StringLessThanEquals", ASL_CMP_STRING, ASL_REL_LE, false},
    {"StringLessThanEqualsPath", ASL_CMP_STRING, ASL_REL_LE, true},
    {"StringGreaterThanEquals", ASL_CMP_STRING, ASL_REL_GE, false},
    {"StringGreaterThanEqualsPath", ASL_CMP_STRING, ASL_REL_GE, true},
    {"StringMatches", ASL_CMP_MATCHES, ASL_REL_EQ, false},
    {"NumericEquals", ASL_CMP_NUMERIC, ASL_REL_EQ, false},
    {"NumericEqualsPath", ASL_CMP_NUMERIC, ASL_REL_EQ, true},
    {"NumericLessThan", ASL_CMP_NUMERIC, ASL_REL_LT, false},
    {"NumericLessThanPath", ASL_CMP_NUMERIC, ASL_REL_LT, true},
    {"NumericGreaterThan", ASL_CMP_NUMERIC, ASL_REL_GT, false},
    {"NumericGreaterThanPath", ASL_CMP_NUMERIC, ASL_REL_GT, true},
    {"NumericLessThanEquals", ASL_CMP_NUMERIC, ASL_REL_LE, false},
    {"NumericLessThanEqualsPath", ASL_CMP_NUMERIC, ASL_REL_LE, true},
    {"NumericGreaterThanEquals", ASL_CMP_NUMERIC, ASL_REL_GE, false},
    {"NumericGreaterThanEqualsPath", ASL_CMP_NUMERIC, ASL_REL_GE, true},
    {"BooleanEquals", ASL_CMP_BOOLEAN, ASL_REL_EQ, false},
    {"BooleanEqualsPath", ASL_CMP_BOOLEAN, ASL_REL_EQ, true},
    {"TimestampEquals", ASL_CMP_TIMESTAMP, ASL_REL_EQ, false},
    {"TimestampEqualsPath", ASL_CMP_TIMESTAMP, ASL_REL_EQ, true},
    {"TimestampLessThan", ASL_CMP_TIMESTAMP, ASL_REL_LT, false},
    {"TimestampLessThanPath", ASL_CMP_TIMESTAMP, ASL_REL_LT, true},
    {"TimestampGreaterThan", ASL_CMP_TIMESTAMP, ASL_REL_GT, false},
    {"TimestampGreaterThanPath", ASL_CMP_TIMESTAMP, ASL_REL_GT, true},
    {"TimestampLessThanEquals", ASL_CMP_TIMESTAMP, ASL_REL_LE, false},
    {"TimestampLessThanEqualsPath", ASL_CMP_TIMESTAMP, ASL_REL_LE, true},
    {"TimestampGreaterThanEquals", ASL_CMP_TIMESTAMP, ASL_REL_GE, false},
    {"TimestampGreaterThanEqualsPath", ASL_CMP_TIMESTAMP, ASL_REL_GE, true},
    {"IsNull", ASL_CMP_IS_NULL, ASL_REL_EQ, false},
    {"IsPresent", ASL_CMP_IS_PRESENT, ASL_REL_EQ, false},
    {"IsNumeric", ASL_CMP_IS_NUMERIC, ASL_REL_EQ, false},
    {"IsString", ASL_CMP_IS_STRING, ASL_REL_EQ, false},
    {"IsBoolean", ASL_CMP_IS_BOOLEAN, ASL_REL_EQ, false},
    {"IsTimestamp", ASL_CMP_IS_TIMESTAMP, ASL_REL_EQ, false},
};

const asl_operator *asl_operator_find(const char *name) {
  for (size_t i = 0; i < sizeof operators / sizeof operators[0]; i++)
    if (strcmp(operators[i].name, name) == 0)
      return &operators[i];
  return NULL;
}

/* ---- timestamps ---- */

static bool digits(const char *p, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9')
      return false;
    v = v * 10 + (p[i] - '0');
  }
  *out = v;
  return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[m - 1];
}

/* RFC 3339 date-time with an upper-case T and Z (as the spec's Timestamp
 * fields demand): YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM). Also
 * +HHMM, the form this API writes its own timestamps in. The fraction may
 * have any number of digits; instants are kept to the microsecond. A
 * seconds value of 60 (a leap second) counts as the next minute's 00. */
bool asl_parse_timestamp(const char *text, int64_t *epoch_us) {
  if (!text)
    return false;
  int y, mo, d, h, mi, s;
  const char *p = text;
  if (!digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &mo) ||
      p[7] != '-' || !digits(p + 8, 2, &d) || p[10] != 'T' ||
      !digits(p + 11, 2, &h) || p[13] != ':' || !digits(p + 14, 2, &mi) ||
      p[16] != ':' || !digits(p + 17, 2, &s))
    return false;
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
      mi > 59 || s > 60)
    return false;
  p += 19;
  int64_t micros = 0;
  if (*p == '.') {
    p++;
    if (*p < '0' || *p > '9')
      return false;
    int n = 0;
    while (*p >= '0' && *p <= '9') {
      if (n < 6)
        micros = micros * 10 + (*p - '0');
      n++;
      p++;
    }
    for (; n < 6; n++)
      micros *= 10;
  }
  int64_t offset_s = 0;
  if (*p == 'Z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int sign = *p == '-' ? -1 : 1;
    int oh, om;
    if (!digits(p + 1, 2, &oh))
      return false;
    if (p[3] == ':') {
      if (!digits(p + 4, 2, &om))
        return false;
      p += 6;
    } else {
      if (!digits(p + 3, 2, &om))
        return false;
      p += 5;
    }
    if (oh > 23 || om > 59)
      return false;
    offset_s = sign * (oh * 3600 + om * 60);
  } else {
    return false;
  }
  if (*p)
    return false;
  int64_t secs =
      days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset_s;
  *epoch_us = secs * 1000000 + micros;
  return true;
}

/* ---- StringMatches ---- */

bool asl_pattern_valid(const char *pattern) {
  for (const char *p = pattern; *p; p++)
    if (*p == '\\') {
      if (p[1] != '*' && p[1] != '\\')
        return false;
      p++;
    }
  return true;
}

/* Glob match in O(length of text + length of pattern): the pattern is split
 * at its stars into literal pieces; the first must be a prefix, the last a
 * suffix, and the others are found left to right (the leftmost occurrence
 * never loses a match). */
static bool string_matches(const char *text, size_t n, const char *pattern) {
  size_t plen = strlen(pattern);
  char *buf = malloc(plen + 1);
  size_t *starts = malloc((plen + 2) * sizeof *starts);
  size_t *lens = malloc((plen + 2) * sizeof *lens);
  bool ok = false;
  if (!buf || !starts || !lens)
    goto out;
  size_t pieces = 0, w = 0;
  starts[0] = 0;
  for (const char *p = pattern;; p++) {
    if (!*p || *p == '*') {
      lens[pieces] = w - starts[pieces];
      pieces++;
      if (!*p)
        break;
      starts[pieces] = w;
      continue;
    }
    if (*p == '\\' && p[1])
      p++;
    buf[w++] = *p;
  }
  if (pieces == 1) {
    ok = n == lens[0] && memcmp(text, buf, n) == 0;
    goto out;
  }
  size_t first = lens[0], last = lens[pieces - 1];
  if (n < first + last || memcmp(text, buf, first) != 0 ||
      memcmp(text + n - last, buf + starts[pieces - 1], last) != 0)
    goto out;
  size_t pos = first, limit = n - last;
  for (size_t i = 1; i + 1 < pieces; i++) {
    if (lens[i] == 0)
      continue;
    const char *hit = memmem(text + pos, limit - pos, buf + starts[i], lens[i]);
    if (!hit)
      goto out;
    pos = (size_t)(hit - text) + lens[i];
  }
  ok = true;
out:
  free(buf);
  free(starts);
  free(lens);
  return ok;
}

/* ---- rules ---- */

static int cmp_long_double(long double a, long double b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

static int cmp_bytes(const json_t *a, const json_t *b) {
  size_t la = json_string_length(a), lb = json_string_length(b);
  int c = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);
  if (c)
    return c < 0 ? -1 : 1;
  return la < lb ? -1 : la > lb ? 1 : 0;
}

static long double as_long_double(const json_t *v) {
  return json_is_integer(v) ? (long double)json_integer_value(v)
                            : (long double)json_real_value(v);
}

static bool holds(asl_rel rel, int c) {
  switch (rel) {
  case ASL_REL_EQ:
    return c == 0;
  case ASL_REL_LT:
    return c < 0;
  case ASL_REL_GT:
    return c > 0;
  case ASL_REL_LE:
    return c <= 0;
  case ASL_REL_GE:
    return c >= 0;
  }
  return false;
}

static bool is_timestamp(const json_t *v, int64_t *us) {
  return json_is_string(v) && asl_parse_timestamp(json_string_value(v), us);
}

/* The comparison of value (the Variable's) with operand. */
static bool compare(const asl_operator *op, const json_t *value,
                    const json_t *operand) {
  int64_t a, b;
  switch (op->type) {
  case ASL_CMP_STRING:
    return json_is_string(value) && json_is_string(operand) &&
           holds(op->rel, cmp_bytes(value, operand));
  case ASL_CMP_NUMERIC:
    return json_is_number(value) && json_is_number(operand) &&
           holds(op->rel, cmp_long_double(as_long_double(value),
                                          as_long_double(operand)));
  case ASL_CMP_BOOLEAN:
    return json_is_boolean(value) && json_is_boolean(operand) &&
           json_is_true(value) == json_is_true(operand);
  case ASL_CMP_TIMESTAMP:
    return is_timestamp(value, &a) && is_timestamp(operand, &b) &&
           holds(op->rel, a < b   ? -1
                          : a > b ? 1
                                  : 0);
  case ASL_CMP_MATCHES:
    return json_is_string(value) && json_is_string(operand) &&
           string_matches(json_string_value(value), json_string_length(value),
                          json_string_value(operand));
  case ASL_CMP_IS_NULL:
    return json_is_null(value) == json_is_true(operand);
  case ASL_CMP_IS_PRESENT:
    return json_is_true(operand);
  case ASL_CMP_IS_NUMERIC:
    return json_is_number(value) == json_is_true(operand);
  case ASL_CMP_IS_STRING:
    return json_is_string(value) == json_is_true(operand);
  case ASL_CMP_IS_BOOLEAN:
    return json_is_boolean(value) == json_is_true(operand);
  case ASL_CMP_IS_TIMESTAMP:
    return is_timestamp(value, &a) == json_is_true(operand);
  }
  return false;
}

#define ASL_RULE_MAX_DEPTH 256

static bool evaluate(const json_t *rule, const json_t *input, unsigned depth,
                     bool *match, asl_error *err) {
  if (!json_is_object(rule)) {
    asl_error_set(err, ASL_ERR_RUNTIME, "a Choice rule is not an object");
    return false;
  }
  if (depth > ASL_RULE_MAX_DEPTH) {
    asl_error_set(err, ASL_ERR_RUNTIME, "Choice rules nest deeper than %d",
                  ASL_RULE_MAX_DEPTH);
    return false;
  }
  const json_t *list;
  bool is_and = (list = json_object_get(rule, "And")) != NULL;
  if (is_and || (list = json_object_get(rule, "Or")) != NULL) {
    if (!json_is_array(list) || json_array_size(list) == 0) {
      asl_error_set(err, ASL_ERR_RUNTIME, "%s is not a non-empty array",
                    is_and ? "And" : "Or");
      return false;
    }
    for (size_t i = 0; i < json_array_size(list); i++) {
      bool m = false;
      if (!evaluate(json_array_get(list, i), input, depth + 1, &m, err))
        return false;
      if (m != is_and) { /* a false under And, a true under Or decides */
        *match = m;
        return true;
      }
    }
    *match = is_and;
    return true;
  }
  const json_t *not_rule = json_object_get(rule, "Not");
  if (not_rule) {
    bool m = false;
    if (!evaluate(not_rule, input, depth + 1, &m, err))
      return false;
    *match = !m;
    return true;
  }
  const asl_operator *op = NULL;
  const json_t *operand = NULL;
  const char *key;
  const json_t *val;
  json_object_foreach((json_t *)rule, key, val) {
    if ((op = asl_operator_find(key)) != NULL) {
      operand = val;
      break;
    }
  }
  const char *variable = json_string_value(json_object_get(rule, "Variable"));
  if (!op || !variable) {
    asl_error_set(err, ASL_ERR_RUNTIME,
                  "a Choice rule has no Variable or no comparison operator");
    return false;
  }
  json_t *value = NULL;
  char why[160];
  if (jsonpath_get(input, variable, &value, why, sizeof why) != JSONPATH_OK) {
    if (op->type == ASL_CMP_IS_PRESENT) {
      *match = !json_is_true(operand);
      return true;
    }
    asl_error_set(err, ASL_ERR_RUNTIME,
                  "Invalid path '%.200s': the Choice rule's Variable selects "
                  "nothing in the input",
                  variable);
    return false;
  }
  json_t *resolved = NULL;
  if (op->path) {
    const char *path = json_string_value(operand);
    if (!path ||
        jsonpath_get(input, path, &resolved, why, sizeof why) != JSONPATH_OK) {
      asl_error_set(err, ASL_ERR_RUNTIME,
                    "Invalid path '%.200s': the Choice rule's %s selects "
                    "nothing in the input",
                    path ? path : "?", op->name);
      json_decref(value);
      return false;
    }
    operand = resolved;
  }
  *match = compare(op, value, operand);
  json_decref(value);
  json_decref(resolved);
  return true;
}

bool asl_choose(const json_t *state, const json_t *input, const char **next,
                asl_error *err) {
  *next = NULL;
  const json_t *choices = json_object_get(state, "Choices");
  for (size_t i = 0; i < json_array_size(choices); i++) {
    const json_t *rule = json_array_get(choices, i);
    bool m = false;
    if (!evaluate(rule, input, 0, &m, err))
      return false;
    if (m) {
      *next = json_string_value(json_object_get(rule, "Next"));
      if (!*next) {
        asl_error_set(err, ASL_ERR_RUNTIME, "Choices[%zu] has no Next", i);
        return false;
      }
      return true;
    }
  }
  const char *def = json_string_value(json_object_get(state, "Default"));
  if (def) {
    *next = def;
    return true;
  }
  asl_error_set(err, ASL_ERR_NO_CHOICE,
                "no Choice rule matched and there is no Default");
  return false;
}
