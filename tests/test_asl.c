/* The pure ASL data side (JSONPath, input/output processing, Choice, Wait,
 * Retry/Catch, timestamps) and the definition checker, table-driven. JSON in
 * the tables is written with ` for " so that the paths' own quotes stay
 * readable. */
#include "workflows/asl_check.h"
#include "workflows/asl_data.h"
#include "workflows/jsonpath.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ck_run.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Parses JSON written with ` for ". NULL stays NULL. */
static json_t *J(const char *text) {
  if (!text)
    return NULL;
  char *copy = strdup(text);
  for (char *p = copy; *p; p++)
    if (*p == '`')
      *p = '"';
  json_error_t e;
  json_t *v = json_loads(copy, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
  ck_assert_msg(v != NULL, "bad test JSON %s: %s", text, e.text);
  free(copy);
  return v;
}

static void assert_json(const json_t *got, const char *want, const char *what) {
  json_t *w = J(want);
  char *g = got ? json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
  ck_assert_msg(got && json_equal(got, w), "%s: got %s, want %s", what,
                g ? g : "(null)", want);
  free(g);
  json_decref(w);
}

/* ---- JSONPath ---- */

typedef struct {
  const char *path;
  bool reference;
  jsonpath_status want;
  const char *why; /* substring of the reason, for JSONPATH_INVALID */
} check_case;

static const check_case path_checks[] = {
    {"$", true, JSONPATH_OK, NULL},
    {"$$", true, JSONPATH_OK, NULL},
    {"$.a", true, JSONPATH_OK, NULL},
    {"$.a.b.c", true, JSONPATH_OK, NULL},
    {"$.a-b_c$d", true, JSONPATH_OK, NULL},
    {"$.0", true, JSONPATH_OK, NULL},
    {"$['a b']", true, JSONPATH_OK, NULL},
    {"$[\"a.b\"]", true, JSONPATH_OK, NULL},
    {"$['it\\'s']", true, JSONPATH_OK, NULL},
    {"$['']", true, JSONPATH_OK, NULL},
    {"$.a[0]", true, JSONPATH_OK, NULL},
    {"$.a[-1]", true, JSONPATH_OK, NULL},
    {"$[0][1].x", true, JSONPATH_OK, NULL},
    {"$$.Execution.Id", true, JSONPATH_OK, NULL},
    {"$.\xc3\xa6\xc3\xb8", true, JSONPATH_OK, NULL},
    {"$.a[*]", false, JSONPATH_OK, NULL},
    {"$.*", false, JSONPATH_OK, NULL},
    {"$.a[1:3]", false, JSONPATH_OK, NULL},
    {"$.a[:3]", false, JSONPATH_OK, NULL},
    {"$.a[-2:]", false, JSONPATH_OK, NULL},
    {"$.a[:]", false, JSONPATH_OK, NULL},
    {"$..a", false, JSONPATH_OK, NULL},
    {"$..*", false, JSONPATH_OK, NULL},
    {"$..['a']", false, JSONPATH_OK, NULL},
    {"$..[0]", false, JSONPATH_OK, NULL},
    {"$.a[*].b", false, JSONPATH_OK, NULL},
    {"$.a[*]", true, JSONPATH_INVALID, "Reference Path"},
    {"$..a", true, JSONPATH_INVALID, "Reference Path"},
    {"$.a[0:1]", true, JSONPATH_INVALID, "Reference Path"},
    {"$.*", true, JSONPATH_INVALID, "Reference Path"},
    {"", true, JSONPATH_INVALID, "must start with '$'"},
    {"a.b", true, JSONPATH_INVALID, "must start with '$'"},
    {"$a", true, JSONPATH_INVALID, "expected '.' or '['"},
    {"$.", true, JSONPATH_INVALID, "expected a name"},
    {"$..", false, JSONPATH_INVALID, "expected a name"},
    {"$.a.", true, JSONPATH_INVALID, "at 4"},
    {"$.a b", true, JSONPATH_INVALID, "expected '.' or '['"},
    {"$[", true, JSONPATH_INVALID, "expected a quoted name"},
    {"$[]", true, JSONPATH_INVALID, "expected a quoted name"},
    {"$['a'", true, JSONPATH_INVALID, "expected ']'"},
    {"$['a", true, JSONPATH_INVALID, "unterminated"},
    {"$['a\\n']", true, JSONPATH_INVALID, "escapes"},
    {"$[0", true, JSONPATH_INVALID, "expected ']' after an index"},
    {"$[0:", false, JSONPATH_INVALID, "expected ']' to end the slice"},
    {"$[0,1]", false, JSONPATH_INVALID, "unions"},
    {"$['a','b']", false, JSONPATH_INVALID, "unions"},
    {"$[?(@.a)]", false, JSONPATH_INVALID, "filter"},
    {"$[(@.length-1)]", false, JSONPATH_INVALID, "script"},
    {"$[0:4:2]", false, JSONPATH_INVALID, "slice steps"},
    {"$[99999999999]", true, JSONPATH_INVALID, "at most 10 digits"},
    {"$[*x]", false, JSONPATH_INVALID, "expected ']' after '*'"},
    {"$.a)", true, JSONPATH_INVALID, "expected '.' or '['"},
    {"$.a[0]]", true, JSONPATH_INVALID, "expected '.' or '['"},
    {"$.@", true, JSONPATH_INVALID, "expected a name"},
    {"$.a\x01", true, JSONPATH_INVALID, "byte 0x01"},
    /* names become JSON member names: UTF-8 only */
    {"$.new.d\xfa\xfa", true, JSONPATH_INVALID, "UTF-8 text at 7"},
    {"$['\xc0\x80']", true, JSONPATH_INVALID, "UTF-8"},
    {"$.\xed\xa0\x80", true, JSONPATH_INVALID, "UTF-8"},
    {"$.\xf4\x90\x80\x80", true, JSONPATH_INVALID, "UTF-8"},
    {"$.\xe2\x82", true, JSONPATH_INVALID, "UTF-8"},
    {"$.\xf0\x9f\x98\x80", true, JSONPATH_OK, NULL},
    {"$.length()", true, JSONPATH_INVALID, "expected '.' or '['"},
};

START_TEST(jsonpath_syntax) {
  for (size_t i = 0; i < N(path_checks); i++) {
    const check_case *c = &path_checks[i];
    char why[200] = "";
    jsonpath_status rc = jsonpath_check(c->path, c->reference, why, sizeof why);
    ck_assert_msg(rc == c->want, "%s (reference %d): status %d, want %d (%s)",
                  c->path, c->reference, rc, c->want, why);
    if (c->why)
      ck_assert_msg(strstr(why, c->why), "%s: reason \"%s\" lacks \"%s\"",
                    c->path, why, c->why);
  }
  /* 128 steps at most. */
  char path[1024] = "$";
  for (int i = 0; i < 128; i++)
    strcat(path, ".a");
  ck_assert_int_eq(jsonpath_check(path, true, NULL, 0), JSONPATH_OK);
  strcat(path, ".a");
  char why[200];
  ck_assert_int_eq(jsonpath_check(path, true, why, sizeof why),
                   JSONPATH_INVALID);
  ck_assert_ptr_nonnull(strstr(why, "at most 128 steps"));
  ck_assert_int_eq(jsonpath_check(NULL, true, NULL, 0), JSONPATH_INVALID);
}
END_TEST

typedef struct {
  const char *doc;
  const char *path;
  jsonpath_status want;
  const char *result;
} get_case;

#define DOC                                                                    \
  "{`a`: {`b`: [10, 20, {`c`: `x`}], `n`: null}, `s`: `str`, `a b`: 1, "       \
  "`it's`: 2, ``: 3, `list`: [{`id`: 1, `t`: [1]}, {`id`: 2}, {`k`: {`id`: "   \
  "3}}]}"

static const get_case path_gets[] = {
    {DOC, "$", JSONPATH_OK, DOC},
    {DOC, "$$", JSONPATH_OK, DOC},
    {DOC, "$.s", JSONPATH_OK, "`str`"},
    {DOC, "$.a.b", JSONPATH_OK, "[10, 20, {`c`: `x`}]"},
    {DOC, "$.a.b[0]", JSONPATH_OK, "10"},
    {DOC, "$.a.b[2].c", JSONPATH_OK, "`x`"},
    {DOC, "$.a.b[-1].c", JSONPATH_OK, "`x`"},
    {DOC, "$.a.b[-3]", JSONPATH_OK, "10"},
    {DOC, "$.a.b[-4]", JSONPATH_NO_MATCH, NULL},
    {DOC, "$.a.b[3]", JSONPATH_NO_MATCH, NULL},
    {DOC, "$.a.n", JSONPATH_OK, "null"},
    {DOC, "$['a b']", JSONPATH_OK, "1"},
    {DOC, "$['it\\'s']", JSONPATH_OK, "2"},
    {DOC, "$[\"it's\"]", JSONPATH_OK, "2"},
    {DOC, "$['']", JSONPATH_OK, "3"},
    {DOC, "$['a']['b'][1]", JSONPATH_OK, "20"},
    {DOC, "$.missing", JSONPATH_NO_MATCH, NULL},
    {DOC, "$.s.x", JSONPATH_NO_MATCH, NULL},
    {DOC, "$.s[0]", JSONPATH_NO_MATCH, NULL},
    {DOC, "$.a[0]", JSONPATH_NO_MATCH, NULL},
    {DOC, "$.a.b.c", JSONPATH_NO_MATCH, NULL},
    {DOC, "$.a.b[*]", JSONPATH_OK, "[10, 20, {`c`: `x`}]"},
    {DOC, "$.a.*", JSONPATH_OK, "[[10, 20, {`c`: `x`}], null]"},
    {DOC, "$.a.b[1:]", JSONPATH_OK, "[20, {`c`: `x`}]"},
    {DOC, "$.a.b[:1]", JSONPATH_OK, "[10]"},
    {DOC, "$.a.b[-2:]", JSONPATH_OK, "[20, {`c`: `x`}]"},
    {DOC, "$.a.b[:-2]", JSONPATH_OK, "[10]"},
    {DOC, "$.a.b[1:1]", JSONPATH_OK, "[]"},
    {DOC, "$.a.b[5:9]", JSONPATH_OK, "[]"},
    {DOC, "$.a.b[-9:9]", JSONPATH_OK, "[10, 20, {`c`: `x`}]"},
    {DOC, "$.list[*].id", JSONPATH_OK, "[1, 2]"},
    {DOC, "$..id", JSONPATH_OK, "[1, 2, 3]"},
    {DOC, "$..['id']", JSONPATH_OK, "[1, 2, 3]"},
    {DOC, "$.list..id", JSONPATH_OK, "[1, 2, 3]"},
    {DOC, "$..c", JSONPATH_OK, "[`x`]"},
    {DOC, "$..nothing", JSONPATH_OK, "[]"},
    {DOC, "$..[0]", JSONPATH_OK, "[10, {`id`: 1, `t`: [1]}, 1]"},
    {DOC, "$.s[*]", JSONPATH_OK, "[]"},
    {"[1, [2, 3]]", "$..*", JSONPATH_OK, "[1, [2, 3], 2, 3]"},
    {"[1, 2, 3, 4]", "$[1:3]", JSONPATH_OK, "[2, 3]"},
    {"`text`", "$", JSONPATH_OK, "`text`"},
    {"`text`", "$.a", JSONPATH_NO_MATCH, NULL},
    {"{}", "$[", JSONPATH_INVALID, NULL},
};

START_TEST(jsonpath_selects) {
  for (size_t i = 0; i < N(path_gets); i++) {
    const get_case *c = &path_gets[i];
    json_t *doc = J(c->doc);
    json_t *out = (json_t *)1;
    char why[200] = "";
    jsonpath_status rc = jsonpath_get(doc, c->path, &out, why, sizeof why);
    ck_assert_msg(rc == c->want, "%s: status %d, want %d (%s)", c->path, rc,
                  c->want, why);
    if (c->result)
      assert_json(out, c->result, c->path);
    else
      ck_assert_ptr_null(out);
    if (rc != JSONPATH_OK)
      ck_assert_msg(why[0], "%s: no reason", c->path);
    json_decref(out);
    json_decref(doc);
  }
}
END_TEST

START_TEST(jsonpath_bounds_its_work) {
  /* A chain 1,500 deep of {"x": {...}}: `$..x..x` would visit over a
   * million nodes and select that many. */
  json_t *doc = json_object();
  json_t *cur = doc;
  for (int i = 0; i < 1500; i++) {
    json_t *next = json_object();
    json_object_set_new(cur, "x", next);
    cur = next;
  }
  json_t *out = NULL;
  char why[200] = "";
  ck_assert_int_eq(jsonpath_get(doc, "$..x", &out, why, sizeof why),
                   JSONPATH_OK);
  ck_assert_uint_eq(json_array_size(out), 1500);
  json_decref(out);
  out = NULL;
  ck_assert_int_eq(jsonpath_get(doc, "$..x..x..x", &out, why, sizeof why),
                   JSONPATH_NO_MATCH);
  ck_assert_ptr_null(out);
  ck_assert_msg(strstr(why, "more than"), "%s", why);
  json_decref(doc);
  /* 200,000 elements: more than a path may select. */
  json_t *big = json_array();
  for (int i = 0; i < 200000; i++)
    json_array_append_new(big, json_true());
  ck_assert_int_eq(jsonpath_get(big, "$[*]", &out, why, sizeof why),
                   JSONPATH_NO_MATCH);
  ck_assert_ptr_nonnull(strstr(why, "more than 100000 nodes"));
  ck_assert_int_eq(jsonpath_get(big, "$[5:10]", &out, why, sizeof why),
                   JSONPATH_OK);
  ck_assert_uint_eq(json_array_size(out), 5);
  json_decref(out);
  json_decref(big);
}
END_TEST

typedef struct {
  const char *doc;
  const char *path;
  const char *value;
  jsonpath_status want;
  const char *result; /* the document after (unchanged on failure) */
} set_case;

static const set_case path_sets[] = {
    {"{`a`: 1}", "$", "[1]", JSONPATH_OK, "[1]"},
    {"{`a`: 1}", "$.a", "2", JSONPATH_OK, "{`a`: 2}"},
    {"{`a`: 1}", "$.b", "2", JSONPATH_OK, "{`a`: 1, `b`: 2}"},
    {"{`a`: 1}", "$.b.c.d", "2", JSONPATH_OK, "{`a`: 1, `b`: {`c`: {`d`: 2}}}"},
    {"{`a`: {`x`: 1}}", "$.a.y", "2", JSONPATH_OK, "{`a`: {`x`: 1, `y`: 2}}"},
    {"{`a`: [1, 2, 3]}", "$.a[1]", "`two`", JSONPATH_OK,
     "{`a`: [1, `two`, 3]}"},
    {"{`a`: [1, 2, 3]}", "$.a[-1]", "`three`", JSONPATH_OK,
     "{`a`: [1, 2, `three`]}"},
    {"{`a`: [{`b`: 1}]}", "$.a[0].c", "2", JSONPATH_OK,
     "{`a`: [{`b`: 1, `c`: 2}]}"},
    {"{`a`: 1}", "$['x y']", "{}", JSONPATH_OK, "{`a`: 1, `x y`: {}}"},
    {"{`a`: [1]}", "$.a[1]", "2", JSONPATH_NO_MATCH, "{`a`: [1]}"},
    {"{`a`: 1}", "$.a.b", "2", JSONPATH_NO_MATCH, "{`a`: 1}"},
    {"{`a`: 1}", "$.b.c[0]", "2", JSONPATH_NO_MATCH, "{`a`: 1}"},
    {"{`a`: {}}", "$.a[0]", "2", JSONPATH_NO_MATCH, "{`a`: {}}"},
    {"`text`", "$.a", "2", JSONPATH_NO_MATCH, "`text`"},
    {"[1]", "$.a", "2", JSONPATH_NO_MATCH, "[1]"},
    {"[1]", "$[0]", "2", JSONPATH_OK, "[2]"},
    {"{`a`: 1}", "$.a[*]", "2", JSONPATH_INVALID, "{`a`: 1}"},
    {"{`a`: 1}", "$..a", "2", JSONPATH_INVALID, "{`a`: 1}"},
    {"{`a`: 1}", "a", "2", JSONPATH_INVALID, "{`a`: 1}"},
    /* found by fuzz_asl: a name jansson refuses, after objects were made */
    {"{`a`: 1}", "$.new.d\xfa", "2", JSONPATH_INVALID, "{`a`: 1}"},
};

START_TEST(jsonpath_sets) {
  for (size_t i = 0; i < N(path_sets); i++) {
    const set_case *c = &path_sets[i];
    json_t *doc = J(c->doc);
    char why[200] = "";
    jsonpath_status rc =
        jsonpath_set(&doc, c->path, J(c->value), why, sizeof why);
    ck_assert_msg(rc == c->want, "%s on %s: status %d, want %d (%s)", c->path,
                  c->doc, rc, c->want, why);
    assert_json(doc, c->result, c->path);
    json_decref(doc);
  }
}
END_TEST

START_TEST(jsonpath_set_leaves_shared_documents_alone) {
  /* Another holder of the document (or of a part on the path) sees no
   * change; a value set into its own document makes no cycle. */
  json_t *doc = J("{`a`: {`b`: {`c`: 1}}, `keep`: [1]}");
  json_t *other = json_incref(doc);
  json_t *inner = json_incref(json_object_get(doc, "a"));
  ck_assert_int_eq(jsonpath_set(&doc, "$.a.b.d", json_integer(2), NULL, 0),
                   JSONPATH_OK);
  assert_json(doc, "{`a`: {`b`: {`c`: 1, `d`: 2}}, `keep`: [1]}", "doc");
  assert_json(other, "{`a`: {`b`: {`c`: 1}}, `keep`: [1]}", "other");
  assert_json(inner, "{`b`: {`c`: 1}}", "inner");
  ck_assert_ptr_eq(json_object_get(doc, "keep"),
                   json_object_get(other, "keep"));
  json_decref(other);
  json_decref(inner);
  ck_assert_int_eq(jsonpath_set(&doc, "$.a.self", json_incref(doc), NULL, 0),
                   JSONPATH_OK);
  char *text = json_dumps(doc, JSON_COMPACT);
  ck_assert_str_eq(text,
                   "{\"a\":{\"b\":{\"c\":1,\"d\":2},\"self\":{\"a\":{"
                   "\"b\":{\"c\":1,\"d\":2}},\"keep\":[1]}},\"keep\":[1]}");
  free(text);
  json_decref(doc);
  /* An unshared document is changed in place. */
  doc = J("{`a`: {}}");
  json_t *a = json_object_get(doc, "a");
  ck_assert_int_eq(jsonpath_set(&doc, "$.a.x", json_true(), NULL, 0),
                   JSONPATH_OK);
  ck_assert_ptr_eq(json_object_get(doc, "a"), a);
  json_decref(doc);
}
END_TEST

/* ---- input and output processing ---- */

typedef struct {
  const char *state;
  const char *input;
  const char *context;
  const char *want;  /* effective input, or NULL for a failure */
  const char *error; /* the failure's error name */
  const char *cause; /* substring of its cause */
} input_case;

#define CTX                                                                    \
  "{`Execution`: {`Id`: `exec-1`, `Input`: {`x`: 1}}, `State`: {`Name`: `S`}}"

static const input_case inputs[] = {
    {"{}", "{`a`: 1}", NULL, "{`a`: 1}", NULL, NULL},
    {"{`InputPath`: `$`}", "{`a`: 1}", NULL, "{`a`: 1}", NULL, NULL},
    {"{`InputPath`: `$.a`}", "{`a`: {`b`: 2}}", NULL, "{`b`: 2}", NULL, NULL},
    {"{`InputPath`: null}", "{`a`: 1}", NULL, "{}", NULL, NULL},
    {"{`InputPath`: `$.list[*].id`}", "{`list`: [{`id`: 1}, {`id`: 2}]}", NULL,
     "[1, 2]", NULL, NULL},
    {"{`InputPath`: `$.nope`}", "{`a`: 1}", NULL, NULL, "States.Runtime",
     "InputPath '$.nope'"},
    {"{`Parameters`: {`fixed`: `v`, `n`: [1, {`x`: null}]}}", "{`a`: 1}", NULL,
     "{`fixed`: `v`, `n`: [1, {`x`: null}]}", NULL, NULL},
    {"{`Parameters`: {`b.$`: `$.a`, `c`: 3}}", "{`a`: [1]}", NULL,
     "{`b`: [1], `c`: 3}", NULL, NULL},
    {"{`Parameters`: {`deep`: {`in`: [{`v.$`: `$.a`}]}}}", "{`a`: 7}", NULL,
     "{`deep`: {`in`: [{`v`: 7}]}}", NULL, NULL},
    {"{`Parameters`: {`all.$`: `$`}}", "{`a`: 7}", NULL, "{`all`: {`a`: 7}}",
     NULL, NULL},
    {"{`Parameters`: {`ids.$`: `$..id`}}", "{`x`: {`id`: 1}, `y`: [{`id`: 2}]}",
     NULL, "{`ids`: [1, 2]}", NULL, NULL},
    {"{`Parameters`: {`id.$`: `$$.Execution.Id`, `in.$`: "
     "`$$.Execution.Input`}}",
     "{}", CTX, "{`id`: `exec-1`, `in`: {`x`: 1}}", NULL, NULL},
    {"{`Parameters`: {`id.$`: `$$.Execution.Id`}}", "{}", NULL, NULL,
     "States.ParameterPathFailure", "context object"},
    {"{`Parameters`: {`id.$`: `$$.Nope`}}", "{}", CTX, NULL,
     "States.ParameterPathFailure", "'$$.Nope'"},
    {"{`Parameters`: {`b.$`: `$.missing`}}", "{`a`: 1}", NULL, NULL,
     "States.ParameterPathFailure", "field 'b.$': the path '$.missing'"},
    {"{`Parameters`: {`b.$`: `States.Format('x')`}}", "{`a`: 1}", NULL, NULL,
     "States.IntrinsicFailure", "intrinsic"},
    {"{`Parameters`: {`.$`: `$.a`, `x.$y`: `$.a`}}", "{`a`: 1}", NULL,
     "{`.$`: `$.a`, `x.$y`: `$.a`}", NULL, NULL},
    {"{`InputPath`: `$.a`, `Parameters`: {`v.$`: `$.b`}}",
     "{`a`: {`b`: 5}, `b`: 6}", NULL, "{`v`: 5}", NULL, NULL},
    {"{`Parameters`: `scalar`}", "{`a`: 1}", NULL, "`scalar`", NULL, NULL},
    {"{`InputPath`: null, `Parameters`: {`v.$`: `$`}}", "{`a`: 1}", NULL,
     "{`v`: {}}", NULL, NULL},
};

START_TEST(effective_input) {
  for (size_t i = 0; i < N(inputs); i++) {
    const input_case *c = &inputs[i];
    json_t *state = J(c->state), *input = J(c->input), *ctx = J(c->context);
    json_t *copy = json_deep_copy(input);
    json_t *out = NULL;
    asl_error err = {"", ""};
    bool ok = asl_effective_input(state, input, ctx, &out, &err);
    ck_assert_msg(ok == (c->want != NULL), "case %zu %s: ok %d (%s: %s)", i,
                  c->state, ok, err.error, err.cause);
    if (ok) {
      assert_json(out, c->want, c->state);
    } else {
      ck_assert_ptr_null(out);
      ck_assert_str_eq(err.error, c->error);
      ck_assert_msg(strstr(err.cause, c->cause),
                    "%s: cause \"%s\" lacks \"%s\"", c->state, err.cause,
                    c->cause);
    }
    ck_assert_msg(json_equal(input, copy), "case %zu changed its input", i);
    json_decref(out);
    json_decref(copy);
    json_decref(state);
    json_decref(input);
    json_decref(ctx);
  }
}
END_TEST

typedef struct {
  const char *state;
  const char *raw;
  const char *result;
  const char *want;
  const char *error;
  const char *cause;
} output_case;

static const output_case outputs[] = {
    {"{}", "{`in`: 1}", "{`r`: 2}", "{`r`: 2}", NULL, NULL},
    {"{`ResultPath`: `$`}", "{`in`: 1}", "`r`", "`r`", NULL, NULL},
    {"{`ResultPath`: null}", "{`in`: 1}", "{`r`: 2}", "{`in`: 1}", NULL, NULL},
    {"{`ResultPath`: `$.res`}", "{`in`: 1}", "{`r`: 2}",
     "{`in`: 1, `res`: {`r`: 2}}", NULL, NULL},
    {"{`ResultPath`: `$.in`}", "{`in`: 1}", "2", "{`in`: 2}", NULL, NULL},
    {"{`ResultPath`: `$.a.b.c`}", "{`in`: 1}", "true",
     "{`in`: 1, `a`: {`b`: {`c`: true}}}", NULL, NULL},
    {"{`ResultPath`: `$.list[1]`}", "{`list`: [1, 2]}", "`x`",
     "{`list`: [1, `x`]}", NULL, NULL},
    {"{`ResultPath`: `$.list[2]`}", "{`list`: [1, 2]}", "`x`", NULL,
     "States.ResultPathMatchFailure", "'$.list[2]'"},
    {"{`ResultPath`: `$.x`}", "`a string`", "1", NULL,
     "States.ResultPathMatchFailure", "ResultPath '$.x'"},
    {"{`ResultPath`: `$.in.x`}", "{`in`: 5}", "1", NULL,
     "States.ResultPathMatchFailure", "not an object"},
    {"{`OutputPath`: `$.r`}", "{}", "{`r`: 2, `s`: 3}", "2", NULL, NULL},
    {"{`OutputPath`: null}", "{}", "{`r`: 2}", "{}", NULL, NULL},
    {"{`OutputPath`: `$.nope`}", "{}", "{`r`: 2}", NULL, "States.Runtime",
     "OutputPath '$.nope'"},
    {"{`ResultPath`: `$.res`, `OutputPath`: `$.res`}", "{`in`: 1}", "`r`",
     "`r`", NULL, NULL},
    {"{`ResultPath`: null, `OutputPath`: `$.in`}", "{`in`: 1}", "`r`", "1",
     NULL, NULL},
    {"{`ResultSelector`: {`v.$`: `$.r`, `k`: 1}}", "{`in`: 1}",
     "{`r`: 2, `junk`: 3}", "{`v`: 2, `k`: 1}", NULL, NULL},
    {"{`ResultSelector`: {`v.$`: `$.r`}, `ResultPath`: `$.sel`}", "{`in`: 1}",
     "{`r`: 2}", "{`in`: 1, `sel`: {`v`: 2}}", NULL, NULL},
    {"{`ResultSelector`: {`v.$`: `$.nope`}}", "{}", "{`r`: 2}", NULL,
     "States.ParameterPathFailure", "ResultSelector field 'v.$'"},
    {"{`ResultSelector`: {`id.$`: `$$.Execution.Id`}}", "{}", "{}",
     "{`id`: `exec-1`}", NULL, NULL},
    {"{`ResultPath`: `$.out`, `OutputPath`: `$.out[*]`}", "{}", "[1, 2]",
     "[1, 2]", NULL, NULL},
};

START_TEST(effective_output) {
  json_t *ctx = J(CTX);
  for (size_t i = 0; i < N(outputs); i++) {
    const output_case *c = &outputs[i];
    json_t *state = J(c->state), *raw = J(c->raw), *result = J(c->result);
    json_t *raw_copy = json_deep_copy(raw),
           *result_copy = json_deep_copy(result);
    json_t *out = NULL;
    asl_error err = {"", ""};
    bool ok = asl_effective_output(state, raw, result, ctx, &out, &err);
    ck_assert_msg(ok == (c->want != NULL), "case %zu %s: ok %d (%s: %s)", i,
                  c->state, ok, err.error, err.cause);
    if (ok) {
      assert_json(out, c->want, c->state);
    } else {
      ck_assert_ptr_null(out);
      ck_assert_str_eq(err.error, c->error);
      ck_assert_msg(strstr(err.cause, c->cause),
                    "%s: cause \"%s\" lacks \"%s\"", c->state, err.cause,
                    c->cause);
    }
    ck_assert_msg(json_equal(raw, raw_copy) && json_equal(result, result_copy),
                  "case %zu changed its input or result", i);
    json_decref(out);
    json_decref(raw_copy);
    json_decref(result_copy);
    json_decref(state);
    json_decref(raw);
    json_decref(result);
  }
  json_decref(ctx);
}
END_TEST

START_TEST(pass_state_result_path_on_its_own_input) {
  /* A Pass state without Result passes its effective input as result; a
   * ResultPath into the raw input that holds it makes no cycle. */
  json_t *state = J("{`Type`: `Pass`, `ResultPath`: `$.copy`}");
  json_t *raw = J("{`a`: {`b`: 1}}");
  json_t *eff = NULL, *out = NULL;
  asl_error err;
  ck_assert(asl_effective_input(state, raw, NULL, &eff, &err));
  ck_assert(asl_effective_output(state, raw, eff, NULL, &out, &err));
  assert_json(out, "{`a`: {`b`: 1}, `copy`: {`a`: {`b`: 1}}}", "pass");
  assert_json(raw, "{`a`: {`b`: 1}}", "raw");
  json_decref(out);
  json_decref(state);
  state = J("{`ResultPath`: `$.a.c`, `InputPath`: `$.a`}");
  json_decref(eff);
  ck_assert(asl_effective_input(state, raw, NULL, &eff, &err));
  ck_assert(asl_effective_output(state, raw, eff, NULL, &out, &err));
  assert_json(out, "{`a`: {`b`: 1, `c`: {`b`: 1}}}", "pass into own part");
  assert_json(raw, "{`a`: {`b`: 1}}", "raw");
  json_decref(out);
  json_decref(eff);
  json_decref(state);
  json_decref(raw);
}
END_TEST

/* ---- Choice ---- */

typedef struct {
  const char *rule; /* one rule, with Next "Yes"; Default is "No" */
  const char *input;
  const char *want;  /* "Yes", "No", or NULL for a failure */
  const char *cause; /* substring of the States.Runtime cause */
} choice_case;

#define V(path, rest) "{`Variable`: `" path "`, " rest ", `Next`: `Yes`}"

static const choice_case
    choices
        [] =
            {
                /* strings */
                {V("$.s", "`StringEquals`: `abc`"), "{`s`: `abc`}", "Yes",
                 NULL},
                {V("$.s", "`StringEquals`: `abc`"), "{`s`: `abd`}", "No", NULL},
                {V("$.s", "`StringEquals`: `1`"), "{`s`: 1}", "No", NULL},
                {V("$.s", "`StringEquals`: `a`"), "{`s`: `a\\u0000b`}", "No",
                 NULL},
                {V("$.s", "`StringLessThan`: `b`"), "{`s`: `abc`}", "Yes",
                 NULL},
                {V("$.s", "`StringLessThan`: `abc`"), "{`s`: `abc`}", "No",
                 NULL},
                {V("$.s", "`StringLessThan`: `abcd`"), "{`s`: `abc`}", "Yes",
                 NULL},
                {V("$.s", "`StringLessThan`: `\\u00e6`"), "{`s`: `z`}", "Yes",
                 NULL},
                {V("$.s", "`StringGreaterThan`: `abc`"), "{`s`: `abd`}", "Yes",
                 NULL},
                {V("$.s", "`StringGreaterThan`: `abc`"), "{`s`: `abc`}", "No",
                 NULL},
                {V("$.s", "`StringLessThanEquals`: `abc`"), "{`s`: `abc`}",
                 "Yes", NULL},
                {V("$.s", "`StringLessThanEquals`: `abb`"), "{`s`: `abc`}",
                 "No", NULL},
                {V("$.s", "`StringGreaterThanEquals`: `abc`"), "{`s`: `abc`}",
                 "Yes", NULL},
                {V("$.s", "`StringGreaterThanEquals`: `abd`"), "{`s`: `abc`}",
                 "No", NULL},
                {V("$.s", "`StringEqualsPath`: `$.t`"), "{`s`: `x`, `t`: `x`}",
                 "Yes", NULL},
                {V("$.s", "`StringEqualsPath`: `$.t`"), "{`s`: `x`, `t`: 1}",
                 "No", NULL},
                {V("$.s", "`StringEqualsPath`: `$.t`"), "{`s`: `x`}", NULL,
                 "StringEqualsPath"},
                {V("$.s", "`StringLessThanPath`: `$.t`"),
                 "{`s`: `a`, `t`: `b`}", "Yes", NULL},
                {V("$.s", "`StringGreaterThanPath`: `$.t`"),
                 "{`s`: `a`, `t`: `b`}", "No", NULL},
                {V("$.s", "`StringLessThanEqualsPath`: `$.t`"),
                 "{`s`: `b`, `t`: `b`}", "Yes", NULL},
                {V("$.s", "`StringGreaterThanEqualsPath`: `$.t`"),
                 "{`s`: `a`, `t`: `b`}", "No", NULL},
                /* StringMatches */
                {V("$.s", "`StringMatches`: `log-*.txt`"),
                 "{`s`: `log-2024.txt`}", "Yes", NULL},
                {V("$.s", "`StringMatches`: `log-*.txt`"), "{`s`: `log-.txt`}",
                 "Yes", NULL},
                {V("$.s", "`StringMatches`: `log-*.txt`"),
                 "{`s`: `log-2024.txt.gz`}", "No", NULL},
                {V("$.s", "`StringMatches`: `*`"), "{`s`: ``}", "Yes", NULL},
                {V("$.s", "`StringMatches`: ``"), "{`s`: ``}", "Yes", NULL},
                {V("$.s", "`StringMatches`: ``"), "{`s`: `a`}", "No", NULL},
                {V("$.s", "`StringMatches`: `a*b*c`"), "{`s`: `aXbYbZc`}",
                 "Yes", NULL},
                {V("$.s", "`StringMatches`: `a*b*c`"), "{`s`: `abc`}", "Yes",
                 NULL},
                {V("$.s", "`StringMatches`: `a*b*c`"), "{`s`: `acb`}", "No",
                 NULL},
                {V("$.s", "`StringMatches`: `*aa*aa`"), "{`s`: `aaa`}", "No",
                 NULL},
                {V("$.s", "`StringMatches`: `*aa*aa`"), "{`s`: `aaaa`}", "Yes",
                 NULL},
                {V("$.s", "`StringMatches`: `**x`"), "{`s`: `abx`}", "Yes",
                 NULL},
                {V("$.s", "`StringMatches`: `a\\\\*b`"), "{`s`: `a*b`}", "Yes",
                 NULL},
                {V("$.s", "`StringMatches`: `a\\\\*b`"), "{`s`: `aXb`}", "No",
                 NULL},
                {V("$.s", "`StringMatches`: `a\\\\\\\\*`"), "{`s`: `a\\\\xyz`}",
                 "Yes", NULL},
                {V("$.s", "`StringMatches`: `a\\\\\\\\*`"), "{`s`: `axyz`}",
                 "No", NULL},
                {V("$.s", "`StringMatches`: `*`"), "{`s`: 5}", "No", NULL},
                /* numbers */
                {V("$.n", "`NumericEquals`: 1"), "{`n`: 1}", "Yes", NULL},
                {V("$.n", "`NumericEquals`: 1"), "{`n`: 1.0}", "Yes", NULL},
                {V("$.n", "`NumericEquals`: 1.5"), "{`n`: 1.5}", "Yes", NULL},
                {V("$.n", "`NumericEquals`: 1"), "{`n`: `1`}", "No", NULL},
                {V("$.n", "`NumericEquals`: 9007199254740993"),
                 "{`n`: 9007199254740992}", "No", NULL},
                {V("$.n", "`NumericLessThan`: 2"), "{`n`: 1.999}", "Yes", NULL},
                {V("$.n", "`NumericLessThan`: 2"), "{`n`: 2}", "No", NULL},
                {V("$.n", "`NumericGreaterThan`: -1"), "{`n`: 0}", "Yes", NULL},
                {V("$.n", "`NumericGreaterThan`: 0"), "{`n`: 0}", "No", NULL},
                {V("$.n", "`NumericLessThanEquals`: 0"), "{`n`: 0}", "Yes",
                 NULL},
                {V("$.n", "`NumericGreaterThanEquals`: 0.5"), "{`n`: 0.25}",
                 "No", NULL},
                {V("$.n", "`NumericEqualsPath`: `$.m`"), "{`n`: 3, `m`: 3.0}",
                 "Yes", NULL},
                {V("$.n", "`NumericLessThanPath`: `$.m`"), "{`n`: 3, `m`: 4}",
                 "Yes", NULL},
                {V("$.n", "`NumericGreaterThanPath`: `$.m`"),
                 "{`n`: 3, `m`: 4}", "No", NULL},
                {V("$.n", "`NumericLessThanEqualsPath`: `$.m`"),
                 "{`n`: 4, `m`: 4}", "Yes", NULL},
                {V("$.n", "`NumericGreaterThanEqualsPath`: `$.m`"),
                 "{`n`: 4, `m`: `4`}", "No", NULL},
                {V("$.n", "`NumericGreaterThanEqualsPath`: `$.m`"), "{`n`: 4}",
                 NULL, "'$.m'"},
                /* booleans */
                {V("$.b", "`BooleanEquals`: true"), "{`b`: true}", "Yes", NULL},
                {V("$.b", "`BooleanEquals`: true"), "{`b`: false}", "No", NULL},
                {V("$.b", "`BooleanEquals`: false"), "{`b`: false}", "Yes",
                 NULL},
                {V("$.b", "`BooleanEquals`: true"), "{`b`: `true`}", "No",
                 NULL},
                {V("$.b", "`BooleanEquals`: false"), "{`b`: 0}", "No", NULL},
                {V("$.b", "`BooleanEqualsPath`: `$.c`"),
                 "{`b`: true, `c`: true}", "Yes", NULL},
                {V("$.b", "`BooleanEqualsPath`: `$.c`"),
                 "{`b`: true, `c`: false}", "No", NULL},
                /* timestamps: instants, whatever the offset */
                {V("$.t", "`TimestampEquals`: `2024-01-01T00:00:00Z`"),
                 "{`t`: `2024-01-01T01:00:00+01:00`}", "Yes", NULL},
                {V("$.t", "`TimestampEquals`: `2024-01-01T00:00:00Z`"),
                 "{`t`: `2023-12-31T19:00:00.000-05:00`}", "Yes", NULL},
                {V("$.t", "`TimestampEquals`: `2024-01-01T00:00:00Z`"),
                 "{`t`: `2024-01-01T00:00:00.000001Z`}", "No", NULL},
                {V("$.t", "`TimestampLessThan`: `2024-01-01T00:00:00Z`"),
                 "{`t`: `2024-01-01T00:30:00+01:00`}", "Yes", NULL},
                {V("$.t", "`TimestampLessThan`: `2024-01-01T00:00:00Z`"),
                 "{`t`: `2024-01-01T00:00:00Z`}", "No", NULL},
                {V("$.t", "`TimestampGreaterThan`: `2024-01-01T00:00:00Z`"),
                 "{`t`: `2024-01-01T00:00:00.5Z`}", "Yes", NULL},
                {V("$.t", "`TimestampLessThanEquals`: `2024-01-01T00:00:00Z`"),
                 "{`t`: `2024-01-01T00:00:00Z`}", "Yes", NULL},
                {V("$.t",
                   "`TimestampGreaterThanEquals`: `2024-01-01T00:00:00Z`"),
                 "{`t`: `2023-12-31T23:59:59.999999Z`}", "No", NULL},
                {V("$.t", "`TimestampEquals`: `2024-01-01T00:00:00Z`"),
                 "{`t`: `not a time`}", "No", NULL},
                {V("$.t", "`TimestampEquals`: `2024-01-01T00:00:00Z`"),
                 "{`t`: 17}", "No", NULL},
                {V("$.t", "`TimestampEqualsPath`: `$.u`"),
                 "{`t`: `2024-01-01T00:00:00Z`, `u`: "
                 "`2024-01-01T02:00:00+02:00`}",
                 "Yes", NULL},
                {V("$.t", "`TimestampLessThanPath`: `$.u`"),
                 "{`t`: `2024-01-01T00:00:00Z`, `u`: "
                 "`2024-01-01T02:00:00+02:00`}",
                 "No", NULL},
                {V("$.t", "`TimestampGreaterThanPath`: `$.u`"),
                 "{`t`: `2024-01-02T00:00:00Z`, `u`: `2024-01-01T00:00:00Z`}",
                 "Yes", NULL},
                {V("$.t", "`TimestampLessThanEqualsPath`: `$.u`"),
                 "{`t`: `2024-01-01T00:00:00Z`, `u`: `2024-01-01T00:00:00Z`}",
                 "Yes", NULL},
                {V("$.t", "`TimestampGreaterThanEqualsPath`: `$.u`"),
                 "{`t`: `2024-01-01T00:00:00Z`, `u`: `junk`}", "No", NULL},
                /* type tests */
                {V("$.x", "`IsNull`: true"), "{`x`: null}", "Yes", NULL},
                {V("$.x", "`IsNull`: true"), "{`x`: 0}", "No", NULL},
                {V("$.x", "`IsNull`: false"), "{`x`: 0}", "Yes", NULL},
                {V("$.x", "`IsNull`: true"), "{}", NULL, "Invalid path '$.x'"},
                {V("$.x", "`IsPresent`: true"), "{`x`: null}", "Yes", NULL},
                {V("$.x", "`IsPresent`: true"), "{}", "No", NULL},
                {V("$.x", "`IsPresent`: false"), "{}", "Yes", NULL},
                {V("$.x.y[3]", "`IsPresent`: false"), "{`x`: 1}", "Yes", NULL},
                {V("$.x", "`IsNumeric`: true"), "{`x`: 1.5}", "Yes", NULL},
                {V("$.x", "`IsNumeric`: true"), "{`x`: `1.5`}", "No", NULL},
                {V("$.x", "`IsNumeric`: false"), "{`x`: `1.5`}", "Yes", NULL},
                {V("$.x", "`IsString`: true"), "{`x`: ``}", "Yes", NULL},
                {V("$.x", "`IsString`: true"), "{`x`: null}", "No", NULL},
                {V("$.x", "`IsBoolean`: true"), "{`x`: false}", "Yes", NULL},
                {V("$.x", "`IsBoolean`: false"), "{`x`: `false`}", "Yes", NULL},
                {V("$.x", "`IsTimestamp`: true"),
                 "{`x`: `2024-02-29T12:00:00Z`}", "Yes", NULL},
                {V("$.x", "`IsTimestamp`: true"),
                 "{`x`: `2023-02-29T12:00:00Z`}", "No", NULL},
                {V("$.x", "`IsTimestamp`: false"), "{`x`: 1700000000}", "Yes",
                 NULL},
                /* missing Variables */
                {V("$.nope", "`StringEquals`: `a`"), "{}", NULL,
                 "Invalid path '$.nope'"},
                {V("$.a.b", "`NumericEquals`: 1"), "{`a`: 1}", NULL,
                 "Variable"},
                {V("$", "`IsString`: true"), "`whole`", "Yes", NULL},
                /* And, Or, Not */
                {"{`And`: [" V("$.a", "`NumericGreaterThan`: 1") ", " V(
                     "$.a", "`NumericLessThan`: 3") "], `Next`: `Yes`}",
                 "{`a`: 2}", "Yes", NULL},
                {"{`And`: [" V("$.a", "`NumericGreaterThan`: 1") ", " V(
                     "$.a", "`NumericLessThan`: 3") "], `Next`: `Yes`}",
                 "{`a`: 3}", "No", NULL},
                {"{`Or`: [" V("$.a", "`NumericEquals`: 1") ", " V(
                     "$.a", "`NumericEquals`: 3") "], `Next`: `Yes`}",
                 "{`a`: 3}", "Yes", NULL},
                {"{`Or`: [" V("$.a", "`NumericEquals`: 1") ", " V(
                     "$.a", "`NumericEquals`: 3") "], `Next`: `Yes`}",
                 "{`a`: 2}", "No", NULL},
                {"{`Not`: " V("$.a", "`StringEquals`: `x`") ", `Next`: `Yes`}",
                 "{`a`: `y`}", "Yes", NULL},
                {"{`Not`: " V("$.a", "`StringEquals`: `x`") ", `Next`: `Yes`}",
                 "{`a`: `x`}", "No", NULL},
                /* And stops at the first false, Or at the first true: a missing
                 * Variable after them is never looked at. */
                {"{`And`: [" V("$.a", "`IsPresent`: true") ", " V(
                     "$.a", "`StringEquals`: `x`") "], `Next`: `Yes`}",
                 "{}", "No", NULL},
                {"{`Or`: [" V("$.a", "`IsPresent`: false") ", " V(
                     "$.a", "`StringEquals`: `x`") "], `Next`: `Yes`}",
                 "{}", "Yes", NULL},
                {"{`And`: [" V("$.a", "`IsPresent`: false") ", " V(
                     "$.a", "`StringEquals`: `x`") "], `Next`: `Yes`}",
                 "{}", NULL, "Invalid path '$.a'"},
                {"{`Not`: {`Or`: [{`And`: [" V("$.a", "`BooleanEquals`: true") ", {`Not`: " V(
                     "$.b", "`IsNull`: true") "}]}, " V("$.c", "`NumericEquals`"
                                                               ": 0") "]}, "
                                                                      "`Next`: "
                                                                      "`Yes`}",
                 "{`a`: true, `b`: 1, `c`: 5}", "No", NULL},
                {"{`Not`: {`Or`: [{`And`: [" V("$.a", "`BooleanEquals`: true") ", {`Not`: " V(
                     "$.b", "`IsNull`: true") "}]}, " V("$.c", "`NumericEquals`"
                                                               ": 0") "]}, "
                                                                      "`Next`: "
                                                                      "`Yes`}",
                 "{`a`: true, `b`: null, `c`: 5}", "Yes", NULL},
};

START_TEST(choice_rules) {
  for (size_t i = 0; i < N(choices); i++) {
    const choice_case *c = &choices[i];
    char text[4096];
    snprintf(text, sizeof text,
             "{`Type`: `Choice`, `Choices`: [%s], `Default`: `No`}", c->rule);
    json_t *state = J(text), *input = J(c->input);
    const char *next = NULL;
    asl_error err = {"", ""};
    bool ok = asl_choose(state, input, &next, &err);
    ck_assert_msg(ok == (c->want != NULL), "case %zu %s on %s: ok %d (%s)", i,
                  c->rule, c->input, ok, err.cause);
    if (ok) {
      ck_assert_msg(strcmp(next, c->want) == 0,
                    "case %zu %s on %s: %s, want %s", i, c->rule, c->input,
                    next, c->want);
    } else {
      ck_assert_str_eq(err.error, "States.Runtime");
      ck_assert_msg(strstr(err.cause, c->cause),
                    "case %zu: \"%s\" lacks \"%s\"", i, err.cause, c->cause);
    }
    json_decref(state);
    json_decref(input);
  }
}
END_TEST

START_TEST(choice_order_default_and_no_match) {
  json_t *state =
      J("{`Type`: `Choice`, `Choices`: ["
        "{`Variable`: `$.n`, `NumericGreaterThan`: 10, `Next`: `Big`},"
        "{`Variable`: `$.n`, `NumericGreaterThan`: 5, `Next`: `Mid`}]}");
  const char *next = NULL;
  asl_error err;
  json_t *in = J("{`n`: 20}");
  ck_assert(asl_choose(state, in, &next, &err));
  ck_assert_str_eq(next, "Big");
  json_decref(in);
  in = J("{`n`: 7}");
  ck_assert(asl_choose(state, in, &next, &err));
  ck_assert_str_eq(next, "Mid");
  json_decref(in);
  in = J("{`n`: 1}");
  ck_assert(!asl_choose(state, in, &next, &err));
  ck_assert_ptr_null(next);
  ck_assert_str_eq(err.error, ASL_ERR_NO_CHOICE);
  json_decref(in);
  json_decref(state);
}
END_TEST

START_TEST(string_matches_is_linear) {
  /* A text of 1 MB of 'a' against a pattern of many stars that cannot
   * match: backtracking would take forever. */
  size_t n = 1 << 20;
  char *text = malloc(n + 1);
  memset(text, 'a', n);
  text[n] = '\0';
  char pattern[2100] = "";
  for (int i = 0; i < 1000; i++)
    strcat(pattern, "*a");
  strcat(pattern, "*b*");
  json_t *state =
      json_pack("{s:[{s:s, s:s, s:s}], s:s}", "Choices", "Variable", "$.s",
                "StringMatches", pattern, "Next", "Yes", "Default", "No");
  json_t *input = json_pack("{s:s}", "s", text);
  const char *next = NULL;
  asl_error err;
  ck_assert(asl_choose(state, input, &next, &err));
  ck_assert_str_eq(next, "No");
  json_decref(state);
  json_decref(input);
  free(text);
}
END_TEST

/* ---- timestamps ---- */

typedef struct {
  const char *text;
  bool ok;
  int64_t us;
} ts_case;

static const ts_case timestamps[] = {
    {"1970-01-01T00:00:00Z", true, 0},
    {"2016-03-14T01:59:00Z", true, 1457920740000000},
    {"2016-03-14T01:59:00.123Z", true, 1457920740123000},
    {"2016-03-14T01:59:00.123456789Z", true, 1457920740123456},
    {"2016-03-14T01:59:00.1Z", true, 1457920740100000},
    {"2016-03-14T02:59:00+01:00", true, 1457920740000000},
    {"2016-03-13T20:29:00-05:30", true, 1457920740000000},
    {"2016-03-14T01:59:00+00:00", true, 1457920740000000},
    {"2016-03-14T01:59:00-00:00", true, 1457920740000000},
    {"2016-03-14T01:59:00.000000+0000", true, 1457920740000000},
    {"1969-12-31T23:59:59Z", true, -1000000},
    {"0000-03-01T00:00:00Z", true, -62162035200000000},
    {"9999-12-31T23:59:59.999999Z", true, 253402300799999999},
    {"2024-02-29T00:00:00Z", true, 1709164800000000},
    {"2016-12-31T23:59:60Z", true, 1483228800000000},
    {"2023-02-29T00:00:00Z", false, 0},
    {"1900-02-29T00:00:00Z", false, 0},
    {"2024-04-31T00:00:00Z", false, 0},
    {"2024-13-01T00:00:00Z", false, 0},
    {"2024-00-01T00:00:00Z", false, 0},
    {"2024-01-00T00:00:00Z", false, 0},
    {"2024-01-01T24:00:00Z", false, 0},
    {"2024-01-01T00:60:00Z", false, 0},
    {"2024-01-01T00:00:61Z", false, 0},
    {"2024-01-01t00:00:00Z", false, 0},
    {"2024-01-01T00:00:00z", false, 0},
    {"2024-01-01 00:00:00Z", false, 0},
    {"2024-01-01T00:00:00", false, 0},
    {"2024-01-01T00:00Z", false, 0},
    {"2024-01-01", false, 0},
    {"2024-01-01T00:00:00.Z", false, 0},
    {"2024-01-01T00:00:00+24:00", false, 0},
    {"2024-01-01T00:00:00+01:60", false, 0},
    {"2024-01-01T00:00:00+1:00", false, 0},
    {"2024-01-01T00:00:00+01:0", false, 0},
    {"2024-01-01T00:00:00Z ", false, 0},
    {" 2024-01-01T00:00:00Z", false, 0},
    {"24-01-01T00:00:00Z", false, 0},
    {"+2024-01-01T00:00:00Z", false, 0},
    {"", false, 0},
};

START_TEST(timestamps_are_instants) {
  for (size_t i = 0; i < N(timestamps); i++) {
    int64_t us = 42;
    bool ok = asl_parse_timestamp(timestamps[i].text, &us);
    ck_assert_msg(ok == timestamps[i].ok, "%s: %d", timestamps[i].text, ok);
    if (ok)
      ck_assert_msg(us == timestamps[i].us, "%s: %lld, want %lld",
                    timestamps[i].text, (long long)us,
                    (long long)timestamps[i].us);
  }
  ck_assert(!asl_parse_timestamp(NULL, NULL));
}
END_TEST

/* ---- Wait ---- */

typedef struct {
  const char *state;
  const char *input;
  int64_t until; /* seconds after NOW, or an absolute instant when abs */
  bool abs;
  const char *cause; /* NULL: succeeds */
} wait_case;

#define NOW 1700000000000000LL /* 2023-11-14T22:13:20Z */

static const wait_case waits[] = {
    {"{`Seconds`: 30}", "{}", 30, false, NULL},
    {"{`Seconds`: 0}", "{}", 0, false, NULL},
    {"{`Seconds`: 10.0}", "{}", 10, false, NULL},
    {"{`Timestamp`: `2023-11-14T23:13:20+01:00`}", "{}", NOW, true, NULL},
    {"{`Timestamp`: `2023-11-14T22:14:20.5Z`}", "{}", NOW + 60500000, true,
     NULL},
    {"{`Timestamp`: `2020-01-01T00:00:00Z`}", "{}", NOW, true, NULL},
    {"{`SecondsPath`: `$.wait`}", "{`wait`: 45}", 45, false, NULL},
    {"{`SecondsPath`: `$.w[1]`}", "{`w`: [1, 2]}", 2, false, NULL},
    {"{`SecondsPath`: `$.wait`}", "{`wait`: `45`}", 0, false,
     "SecondsPath '$.wait' is a string"},
    {"{`SecondsPath`: `$.wait`}", "{`wait`: null}", 0, false,
     "SecondsPath '$.wait' is null"},
    {"{`SecondsPath`: `$.wait`}", "{`wait`: -1}", 0, false,
     "SecondsPath '$.wait' is the number -1"},
    {"{`SecondsPath`: `$.wait`}", "{`wait`: 1.5}", 0, false,
     "is the number 1.5"},
    {"{`SecondsPath`: `$.wait`}", "{`wait`: 100000000}", 0, false,
     "not an integer from 0 to 99999999"},
    {"{`SecondsPath`: `$.wait`}", "{}", 0, false,
     "SecondsPath '$.wait' selects nothing"},
    {"{`TimestampPath`: `$.at`}", "{`at`: `2023-11-14T22:13:30Z`}",
     NOW + 10000000, true, NULL},
    {"{`TimestampPath`: `$.at`}", "{`at`: `1999-01-01T00:00:00Z`}", NOW, true,
     NULL},
    {"{`TimestampPath`: `$.at`}", "{`at`: 1700000000}", 0, false,
     "TimestampPath '$.at' is a number"},
    {"{`TimestampPath`: `$.at`}", "{`at`: {`t`: 1}}", 0, false,
     "TimestampPath '$.at' is an object"},
    {"{`TimestampPath`: `$.at`}", "{`at`: `tomorrow`}", 0, false,
     "the string \"tomorrow\""},
    {"{`TimestampPath`: `$.at`}", "{`at`: [`2023-11-14T22:13:30Z`]}", 0, false,
     "is an array"},
    {"{`TimestampPath`: `$.at`}", "{`x`: 1}", 0, false, "selects nothing"},
    {"{}", "{}", 0, false, "none of Seconds"},
};

START_TEST(wait_deadlines) {
  for (size_t i = 0; i < N(waits); i++) {
    const wait_case *c = &waits[i];
    json_t *state = J(c->state), *input = J(c->input);
    int64_t until = 0;
    asl_error err = {"", ""};
    bool ok = asl_wait_until(state, input, NOW, &until, &err);
    ck_assert_msg(ok == (c->cause == NULL), "case %zu %s: ok %d (%s)", i,
                  c->state, ok, err.cause);
    if (ok) {
      int64_t want = c->abs ? c->until : NOW + c->until * 1000000;
      ck_assert_msg(until == want, "case %zu: %lld, want %lld", i,
                    (long long)until, (long long)want);
    } else {
      ck_assert_str_eq(err.error, "States.Runtime");
      ck_assert_msg(strstr(err.cause, c->cause),
                    "case %zu: \"%s\" lacks \"%s\"", i, err.cause, c->cause);
    }
    json_decref(state);
    json_decref(input);
  }
}
END_TEST

/* ---- errors, Retry, Catch ---- */

typedef struct {
  const char *equals;
  const char *error;
  bool want;
} match_case;

static const match_case matches[] = {
    {"[`States.ALL`]", "States.Timeout", true},
    {"[`States.ALL`]", "MyError", true},
    {"[`States.ALL`]", "States.Runtime", true},
    {"[`States.TaskFailed`]", "MyError", true},
    {"[`States.TaskFailed`]", "States.TaskFailed", true},
    {"[`States.TaskFailed`]", "States.Timeout", false},
    {"[`States.Timeout`]", "States.Timeout", true},
    {"[`States.Timeout`]", "States.TaskFailed", false},
    {"[`MyError`, `Other`]", "Other", true},
    {"[`MyError`]", "myerror", false},
    {"[`MyError`]", "MyError.Sub", false},
    {"[]", "MyError", false},
    {"null", "MyError", false},
};

START_TEST(error_names_match) {
  for (size_t i = 0; i < N(matches); i++) {
    json_t *eq = J(matches[i].equals);
    ck_assert_msg(asl_error_matches(eq, matches[i].error) == matches[i].want,
                  "%s vs %s", matches[i].equals, matches[i].error);
    json_decref(eq);
  }
  json_t *eq = J("[`States.ALL`]");
  ck_assert(!asl_error_matches(eq, NULL));
  json_decref(eq);
}
END_TEST

typedef struct {
  const char *retry;  /* the Retry array */
  const char *errors; /* errors in order, one per attempt, space separated */
  const char *delays; /* expected delay in ms per error, -1 = no retry */
} retry_case;

static const retry_case retries[] = {
    /* defaults: 1 s, 3 attempts, backoff 2 */
    {"[{`ErrorEquals`: [`States.ALL`]}]", "E E E E", "1000 2000 4000 -1"},
    {"[{`ErrorEquals`: [`E`], `IntervalSeconds`: 3, `MaxAttempts`: 2, "
     "`BackoffRate`: 1.5}]",
     "E E E", "3000 4500 -1"},
    {"[{`ErrorEquals`: [`E`], `MaxAttempts`: 0}]", "E", "-1"},
    {"[{`ErrorEquals`: [`E`]}]", "F", "-1"},
    /* per-Retrier counts: each error type has its own */
    {"[{`ErrorEquals`: [`A`], `MaxAttempts`: 1}, {`ErrorEquals`: [`B`], "
     "`IntervalSeconds`: 5, `BackoffRate`: 1}]",
     "B A B A B B", "5000 1000 5000 -1 5000 -1"},
    /* the first matching Retrier decides, even when it is spent */
    {"[{`ErrorEquals`: [`A`], `MaxAttempts`: 1}, {`ErrorEquals`: "
     "[`States.ALL`], `MaxAttempts`: 5}]",
     "A A X", "1000 -1 1000"},
    {"[{`ErrorEquals`: [`States.TaskFailed`]}]", "States.Timeout", "-1"},
    /* a delay that would grow beyond the bound is cut to it */
    {"[{`ErrorEquals`: [`E`], `IntervalSeconds`: 99999999, `MaxAttempts`: "
     "3, `BackoffRate`: 1000}]",
     "E E", "99999999000 99999999000"},
};

START_TEST(retry_counts_per_retrier) {
  for (size_t i = 0; i < N(retries); i++) {
    const retry_case *c = &retries[i];
    char text[1024];
    snprintf(text, sizeof text, "{`Type`: `Task`, `Retry`: %s}", c->retry);
    json_t *state = J(text);
    json_t *attempts = json_array();
    char errors[256], delays[256];
    snprintf(errors, sizeof errors, "%s", c->errors);
    snprintf(delays, sizeof delays, "%s", c->delays);
    char *es = NULL, *ds = NULL;
    char *e = strtok_r(errors, " ", &es), *d = strtok_r(delays, " ", &ds);
    for (int step = 0; e && d; step++) {
      int64_t delay = 77;
      bool again = asl_retry(state, e, attempts, &delay);
      long long want = atoll(d);
      ck_assert_msg(again == (want >= 0), "case %zu step %d (%s): %d", i, step,
                    e, again);
      if (again)
        ck_assert_msg(delay == want * 1000,
                      "case %zu step %d: %lld us, want %lld ms", i, step,
                      (long long)delay, want);
      e = strtok_r(NULL, " ", &es);
      d = strtok_r(NULL, " ", &ds);
    }
    json_decref(attempts);
    json_decref(state);
  }
  /* No Retry field, or attempts that are not an array. */
  json_t *state = J("{`Type`: `Task`}"), *attempts = json_array();
  int64_t delay;
  ck_assert(!asl_retry(state, "E", attempts, &delay));
  json_decref(state);
  state = J("{`Retry`: [{`ErrorEquals`: [`States.ALL`]}]}");
  ck_assert(!asl_retry(state, "E", NULL, &delay));
  ck_assert(asl_retry(state, "E", attempts, &delay));
  assert_json(attempts, "[1]", "attempts");
  json_decref(attempts);
  json_decref(state);
}
END_TEST

START_TEST(catchers_and_their_output) {
  json_t *state =
      J("{`Catch`: ["
        "{`ErrorEquals`: [`A`], `Next`: `OnA`, `ResultPath`: `$.err`},"
        "{`ErrorEquals`: [`States.TaskFailed`], `Next`: `OnFail`, "
        "`ResultPath`: null},"
        "{`ErrorEquals`: [`States.ALL`], `Next`: `OnAll`}]}");
  json_t *raw = J("{`in`: 1}");
  const json_t *c = asl_catcher(state, "A");
  ck_assert_str_eq(json_string_value(json_object_get(c, "Next")), "OnA");
  json_t *out = NULL;
  asl_error err;
  ck_assert(asl_catch_output(c, raw, "A", "it broke", &out, &err));
  assert_json(out, "{`in`: 1, `err`: {`Error`: `A`, `Cause`: `it broke`}}",
              "catch A");
  json_decref(out);
  c = asl_catcher(state, "B");
  ck_assert_str_eq(json_string_value(json_object_get(c, "Next")), "OnFail");
  ck_assert(asl_catch_output(c, raw, "B", "x", &out, &err));
  assert_json(out, "{`in`: 1}", "catch B");
  json_decref(out);
  c = asl_catcher(state, "States.Timeout");
  ck_assert_str_eq(json_string_value(json_object_get(c, "Next")), "OnAll");
  ck_assert(asl_catch_output(c, raw, "States.Timeout", NULL, &out, &err));
  assert_json(out, "{`Error`: `States.Timeout`, `Cause`: ``}", "catch all");
  json_decref(out);
  json_t *none = J("{`Catch`: [{`ErrorEquals`: [`A`], `Next`: `X`}]}");
  ck_assert_ptr_null(asl_catcher(none, "B"));
  json_decref(none);
  none = J("{}");
  ck_assert_ptr_null(asl_catcher(none, "B"));
  json_decref(none);
  /* A ResultPath that cannot be applied to the raw input. */
  json_t *bad =
      J("{`ErrorEquals`: [`A`], `Next`: `X`, `ResultPath`: `$.in.x`}");
  ck_assert(!asl_catch_output(bad, raw, "A", "c", &out, &err));
  ck_assert_ptr_null(out);
  ck_assert_str_eq(err.error, ASL_ERR_RESULT_PATH);
  json_decref(bad);
  json_decref(raw);
  json_decref(state);
}
END_TEST

/* ---- the definition checker ---- */

#define T1 "las:transition:00000000000000000000000000000001"
#define T2 "las:transition:00000000000000000000000000000002"

static bool known_transition(void *ctx, const char *resource) {
  int *calls = ctx;
  (*calls)++;
  return strcmp(resource, T1) == 0 || strcmp(resource, T2) == 0;
}

/* A machine around one state S (End or Next as the state says). */
#define ONE(state) "{`StartAt`: `S`, `States`: {`S`: " state "}}"
/* S then a Succeed state Done. */
#define TWO(state)                                                             \
  "{`StartAt`: `S`, `States`: {`S`: " state ", `Done`: {`Type`: `Succeed`}}}"

static const char *const good_definitions[] = {
    ONE("{`Type`: `Succeed`}"),
    ONE("{`Type`: `Fail`}"),
    ONE("{`Type`: `Fail`, `Error`: `E`, `Cause`: `why`, `Comment`: `c`}"),
    ONE("{`Type`: `Pass`, `End`: true}"),
    "{`Comment`: `x`, `Version`: `1.0`, `QueryLanguage`: `JSONPath`, "
    "`StartAt`: `S`, `States`: {`S`: {`Type`: `Succeed`}}}",
    TWO("{`Type`: `Pass`, `Result`: {`a`: [1, {`b.$`: `not a path`}]}, "
        "`ResultPath`: `$.r`, `InputPath`: `$.in`, `OutputPath`: `$.out[*]`, "
        "`Parameters`: {`x.$`: `$.a`, `y`: {`z.$`: `$$.Execution.Id`}, "
        "`l`: [{`q.$`: `$..id`}]}, `Next`: `Done`}"),
    ONE("{`Type`: `Pass`, `InputPath`: null, `OutputPath`: null, "
        "`ResultPath`: null, `End`: true}"),
    ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true}"),
    TWO("{`Type`: `Task`, `Resource`: `" T2 "`, `Next`: `Done`, "
        "`Parameters`: {`in.$`: `$`}, `ResultSelector`: {`out.$`: `$.x`}, "
        "`ResultPath`: `$.result`, "
        "`Retry`: [{`ErrorEquals`: [`States.Timeout`], `MaxAttempts`: 0}, "
        "{`ErrorEquals`: [`MyError`, `States.TaskFailed`], "
        "`IntervalSeconds`: 2, `MaxAttempts`: 5, `BackoffRate`: 1.5, "
        "`Comment`: `c`}, {`ErrorEquals`: [`States.ALL`]}], "
        "`Catch`: [{`ErrorEquals`: [`MyError`], `Next`: `Done`, "
        "`ResultPath`: `$.err`}, {`ErrorEquals`: [`States.ALL`], "
        "`Next`: `Done`, `ResultPath`: null}]}"),
    "{`StartAt`: `C`, `States`: {`C`: {`Type`: `Choice`, `Choices`: ["
    "{`Variable`: `$.s`, `StringEquals`: `a`, `Next`: `A`},"
    "{`Variable`: `$.s`, `StringMatches`: `log-*\\\\*\\\\\\\\`, `Next`: `A`},"
    "{`Variable`: `$.n`, `NumericLessThanEqualsPath`: `$.m`, `Next`: `A`},"
    "{`Variable`: `$.t`, `TimestampGreaterThan`: `2016-03-14T01:59:00Z`, "
    "`Next`: `A`},"
    "{`Variable`: `$.b`, `BooleanEquals`: false, `Next`: `A`},"
    "{`Variable`: `$.x`, `IsPresent`: false, `Next`: `A`, `Comment`: `c`},"
    "{`And`: [{`Variable`: `$.a`, `IsNull`: false}, {`Or`: [{`Variable`: "
    "`$.b`, `IsNumeric`: true}, {`Not`: {`Variable`: `$.c[0]`, "
    "`IsTimestamp`: true}}]}], `Next`: `B`}], `Default`: `B`, "
    "`InputPath`: `$.in`, `OutputPath`: `$.out`},"
    "`A`: {`Type`: `Succeed`}, `B`: {`Type`: `Fail`}}}",
    TWO("{`Type`: `Wait`, `Seconds`: 0, `Next`: `Done`}"),
    TWO("{`Type`: `Wait`, `Timestamp`: `2030-01-01T00:00:00+02:00`, "
        "`Next`: `Done`}"),
    TWO("{`Type`: `Wait`, `SecondsPath`: `$.w`, `Next`: `Done`}"),
    TWO("{`Type`: `Wait`, `TimestampPath`: `$.t[0]`, `Next`: `Done`}"),
    TWO("{`Type`: `Parallel`, `Next`: `Done`, `ResultPath`: `$.p`, "
        "`Branches`: [{`StartAt`: `B1`, `States`: {`B1`: {`Type`: `Task`, "
        "`Resource`: `" T1 "`, `End`: true}}}, {`Comment`: `two`, "
        "`StartAt`: `B2`, `States`: {`B2`: {`Type`: `Parallel`, `End`: "
        "true, `Branches`: [{`StartAt`: `B3`, `States`: {`B3`: {`Type`: "
        "`Pass`, `End`: true}}}]}}}], `Catch`: [{`ErrorEquals`: "
        "[`States.BranchFailed`], `Next`: `Done`}]}"),
    /* a loop is fine while some state ends the machine */
    "{`StartAt`: `W`, `States`: {`W`: {`Type`: `Wait`, `Seconds`: 5, "
    "`Next`: `C`}, `C`: {`Type`: `Choice`, `Choices`: [{`Variable`: "
    "`$.done`, `BooleanEquals`: true, `Next`: `End`}], `Default`: `W`}, "
    "`End`: {`Type`: `Succeed`}}}",
    /* a name of 80 characters (here two bytes each) */
    "{`StartAt`: `"
    "\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6"
    "\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6"
    "\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6"
    "\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6"
    "\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6"
    "\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6"
    "\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6"
    "\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6"
    "\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6`, "
    "`States`: {`"
    "\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6"
    "\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6"
    "\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6"
    "\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6"
    "\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6"
    "\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6"
    "\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6"
    "\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6"
    "\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6\xc3\xa6`: "
    "{`Type`: `Succeed`}}}",
};

START_TEST(checker_accepts_what_the_engine_runs) {
  for (size_t i = 0; i < N(good_definitions); i++) {
    json_t *def = J(good_definitions[i]);
    char why[1024] = "";
    int calls = 0;
    ck_assert_msg(asl_check(def, known_transition, &calls, why, sizeof why),
                  "case %zu refused: %s", i, why);
    json_decref(def);
  }
}
END_TEST

typedef struct {
  const char *definition;
  const char *why; /* the whole message */
} bad_case;

static const bad_case bad_definitions[] = {
    /* the machine */
    {"[]", "definition: a state machine must be an object, not an array"},
    {"{`States`: {`S`: {`Type`: `Succeed`}}}",
     "definition: StartAt is required"},
    {"{`StartAt`: `S`}", "definition: States is required"},
    {"{`StartAt`: `S`, `States`: {}}",
     "definition.States: must be a non-empty object of states"},
    {"{`StartAt`: `S`, `States`: []}",
     "definition.States: must be a non-empty object of states"},
    {"{`StartAt`: 1, `States`: {`S`: {`Type`: `Succeed`}}}",
     "definition.StartAt: must be a state name, not a number"},
    {"{`StartAt`: `X`, `States`: {`S`: {`Type`: `Succeed`}}}",
     "definition.StartAt: state \"X\" does not exist"},
    {"{`StartAt`: `S`, `States`: {`S`: {`Type`: `Succeed`}}, `Version`: "
     "`2.0`}",
     "definition.Version: must be \"1.0\""},
    {"{`StartAt`: `S`, `States`: {`S`: {`Type`: `Succeed`}}, "
     "`TimeoutSeconds`: 5}",
     "definition.TimeoutSeconds: is not supported: executions have no "
     "overall timeout"},
    {"{`StartAt`: `S`, `States`: {`S`: {`Type`: `Succeed`}}, "
     "`QueryLanguage`: `JSONata`}",
     "definition.QueryLanguage: only \"JSONPath\" is supported"},
    {"{`StartAt`: `S`, `States`: {`S`: {`Type`: `Succeed`}}, `Extra`: 1}",
     "definition.Extra: is not a field of a state machine"},
    {"{`StartAt`: `S`, `States`: {`S`: {`Type`: `Succeed`}}, `Comment`: 1}",
     "definition.Comment: must be a string"},
    /* states and their types */
    {ONE("`x`"), "definition.States.S: a state must be an object, not a "
                 "string"},
    {ONE("{}"), "definition.States.S: Type is required"},
    {ONE("{`Type`: 1}"), "definition.States.S.Type: must be a string, not a "
                         "number"},
    {ONE("{`Type`: `Map`, `End`: true}"),
     "definition.States.S.Type: Map states are not supported"},
    {ONE("{`Type`: `Lambda`}"),
     "definition.States.S.Type: \"Lambda\" is not a state type (Pass, Task, "
     "Choice, Wait, Succeed, Fail, Parallel)"},
    {ONE("{`Type`: `Succeed`, `Next`: `S`}"),
     "definition.States.S.Next: is not a field of a Succeed state"},
    {ONE("{`Type`: `Succeed`, `End`: true}"),
     "definition.States.S.End: is not a field of a Succeed state"},
    {ONE("{`Type`: `Fail`, `InputPath`: `$`}"),
     "definition.States.S.InputPath: is not a field of a Fail state"},
    {ONE("{`Type`: `Fail`, `Error`: 5}"),
     "definition.States.S.Error: must be a string"},
    {ONE("{`Type`: `Fail`, `ErrorPath`: `$.e`}"),
     "definition.States.S.ErrorPath: is not supported"},
    {ONE("{`Type`: `Pass`, `End`: true, `ResultSelector`: {}}"),
     "definition.States.S.ResultSelector: is not a field of a Pass state"},
    {ONE("{`Type`: `Pass`, `End`: true, `Retry`: []}"),
     "definition.States.S.Retry: is not a field of a Pass state"},
    {ONE("{`Type`: `Succeed`, `Comment`: 1}"),
     "definition.States.S.Comment: must be a string"},
    {ONE("{`Type`: `Pass`, `End`: true, `Bogus`: 1}"),
     "definition.States.S.Bogus: is not a field of a Pass state"},
    {ONE("{`Type`: `Pass`, `End`: true, `Assign`: {}}"),
     "definition.States.S.Assign: is not supported"},
    /* Next and End */
    {ONE("{`Type`: `Pass`}"),
     "definition.States.S: a Pass state needs Next or \"End\": true"},
    {ONE("{`Type`: `Pass`, `End`: false}"),
     "definition.States.S.End: must be true (leave it out and give Next "
     "instead)"},
    {TWO("{`Type`: `Pass`, `End`: true, `Next`: `Done`}"),
     "definition.States.S: a Pass state has Next or End, not both"},
    {ONE("{`Type`: `Pass`, `Next`: `Nowhere`}"),
     "definition.States.S.Next: state \"Nowhere\" does not exist"},
    {ONE("{`Type`: `Pass`, `Next`: 3}"),
     "definition.States.S.Next: must be a state name, not a number"},
    {"{`StartAt`: `S`, `States`: {`S`: {`Type`: `Succeed`}, `Orphan`: "
     "{`Type`: `Succeed`}}}",
     "definition.States.Orphan: state \"Orphan\" cannot be reached from "
     "StartAt \"S\""},
    {"{`StartAt`: `A`, `States`: {`A`: {`Type`: `Pass`, `Next`: `B`}, `B`: "
     "{`Type`: `Pass`, `Next`: `A`}}}",
     "definition.States: no state ends the machine (a Succeed or Fail state, "
     "or \"End\": true)"},
    /* names */
    {"{`StartAt`: ``, `States`: {``: {`Type`: `Succeed`}}}",
     "definition.States.: a state name must not be empty"},
    {"{`StartAt`: `a\\tb`, `States`: {`a\\tb`: {`Type`: `Succeed`}}}",
     "definition.States.a\tb: a state name must not contain control "
     "characters"},
    {"{`StartAt`: "
     "`123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012`, `States`: "
     "{`123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012`: {`Type`: `Succeed`}}}",
     "definition.States."
     "1234567890123456789012345678901234567890123456789012345678901234567890"
     "123456789012: a state name has at most 80 characters, this one 82"},
    {TWO("{`Type`: `Parallel`, `Next`: `Done`, `Branches`: [{`StartAt`: "
         "`Done`, `States`: {`Done`: {`Type`: `Succeed`}}}]}"),
     "definition.States.Done: state name \"Done\" is used twice (also "
     "definition.States.S.Branches[0].States.Done); names are unique in the "
     "whole definition"},
    /* paths */
    {ONE("{`Type`: `Pass`, `End`: true, `InputPath`: `$.a[`}"),
     "definition.States.S.InputPath: \"$.a[\" is not a valid Path: expected "
     "a quoted name, an index, '*' or a slice at 4 (found end of path)"},
    {ONE("{`Type`: `Pass`, `End`: true, `InputPath`: 5}"),
     "definition.States.S.InputPath: must be a Path or null, not a number"},
    {ONE("{`Type`: `Pass`, `End`: true, `ResultPath`: `$.a[*]`}"),
     "definition.States.S.ResultPath: \"$.a[*]\" is not a valid Reference "
     "Path: a Reference Path selects one node: no '*', slices or '..' (step "
     "2)"},
    {ONE("{`Type`: `Pass`, `End`: true, `OutputPath`: `out`}"),
     "definition.States.S.OutputPath: \"out\" is not a valid Path: a path "
     "must start with '$' at 0 (found 'o')"},
    {ONE("{`Type`: `Pass`, `End`: true, `InputPath`: `$$.Execution`}"),
     "definition.States.S.InputPath: the context object ($$) can only be "
     "read by the \".$\" fields of Parameters and ResultSelector"},
    {ONE("{`Type`: `Pass`, `End`: true, `Parameters`: [1]}"),
     "definition.States.S.Parameters: must be an object, not an array"},
    {ONE("{`Type`: `Pass`, `End`: true, `Parameters`: {`a`: {`b.$`: 1}}}"),
     "definition.States.S.Parameters.a.b.$: a field whose name ends in "
     "\".$\" must be a Path string, not a number"},
    {ONE("{`Type`: `Pass`, `End`: true, `Parameters`: {`a`: [{`b.$`: "
         "`$[`}]}}"),
     "definition.States.S.Parameters.a[0].b.$: \"$[\" is not a valid Path: "
     "expected a quoted name, an index, '*' or a slice at 2 (found end of "
     "path)"},
    {ONE("{`Type`: `Pass`, `End`: true, `Parameters`: {`m.$`: "
         "`States.Format('{}', $.a)`}}"),
     "definition.States.S.Parameters.m.$: \"States.Format('{}', $.a)\": "
     "intrinsic functions are not supported; the value must be a Path "
     "starting with $ (or $$ for the context object)"},
    {ONE("{`Type`: `Pass`, `End`: true, `Parameters`: {`m.$`: `$.a`, `m`: "
         "1}}"),
     "definition.States.S.Parameters.m.$: both \"m\" and \"m.$\" are given"},
    {ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true, "
         "`ResultSelector`: `x`}"),
     "definition.States.S.ResultSelector: must be an object, not a string"},
    /* Task */
    {ONE("{`Type`: `Task`, `End`: true}"),
     "definition.States.S: Resource is required in a Task state"},
    {ONE("{`Type`: `Task`, `Resource`: 7, `End`: true}"),
     "definition.States.S.Resource: must be a transition id, not a number"},
    {ONE("{`Type`: `Task`, `Resource`: `las:transition:nope`, `End`: true}"),
     "definition.States.S.Resource: \"las:transition:nope\" is not a "
     "transition of the organization"},
    {ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true, "
         "`TimeoutSeconds`: 30}"),
     "definition.States.S.TimeoutSeconds: is not supported: a transition's "
     "own timeoutInSeconds and heartbeats govern it"},
    {ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true, "
         "`HeartbeatSeconds`: 30}"),
     "definition.States.S.HeartbeatSeconds: is not supported: a "
     "transition's own timeoutInSeconds and heartbeats govern it"},
    {ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true, "
         "`Credentials`: {}}"),
     "definition.States.S.Credentials: is not supported"},
    /* Retry and Catch */
    {ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true, `Retry`: {}}"),
     "definition.States.S.Retry: must be an array of Retriers"},
    {ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true, `Retry`: "
         "[{}]}"),
     "definition.States.S.Retry[0]: ErrorEquals is required"},
    {ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true, `Retry`: "
         "[{`ErrorEquals`: []}]}"),
     "definition.States.S.Retry[0].ErrorEquals: must be a non-empty array of "
     "error names"},
    {ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true, `Retry`: "
         "[{`ErrorEquals`: [`A`, 1]}]}"),
     "definition.States.S.Retry[0].ErrorEquals[1]: must be an error name (a "
     "non-empty string)"},
    {ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true, `Retry`: "
         "[{`ErrorEquals`: [`States.Bogus`]}]}"),
     "definition.States.S.Retry[0].ErrorEquals[0]: \"States.Bogus\" is not "
     "one of the spec's error names (names starting \"States.\" are "
     "reserved)"},
    {ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true, `Retry`: "
         "[{`ErrorEquals`: [`States.ALL`, `A`]}]}"),
     "definition.States.S.Retry[0].ErrorEquals[0]: States.ALL must appear "
     "alone in ErrorEquals"},
    {ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true, `Retry`: "
         "[{`ErrorEquals`: [`States.ALL`]}, {`ErrorEquals`: [`A`]}]}"),
     "definition.States.S.Retry[0].ErrorEquals[0]: States.ALL must appear in "
     "the last element"},
    {ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true, `Retry`: "
         "[{`ErrorEquals`: [`A`], `IntervalSeconds`: 0}]}"),
     "definition.States.S.Retry[0].IntervalSeconds: must be an integer from "
     "1 to 99999999"},
    {ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true, `Retry`: "
         "[{`ErrorEquals`: [`A`], `IntervalSeconds`: 1.5}]}"),
     "definition.States.S.Retry[0].IntervalSeconds: must be an integer from "
     "1 to 99999999"},
    {ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true, `Retry`: "
         "[{`ErrorEquals`: [`A`], `MaxAttempts`: -1}]}"),
     "definition.States.S.Retry[0].MaxAttempts: must be an integer from 0 to "
     "99999999"},
    {ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true, `Retry`: "
         "[{`ErrorEquals`: [`A`], `BackoffRate`: 0.5}]}"),
     "definition.States.S.Retry[0].BackoffRate: must be a number of at least "
     "1.0"},
    {ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true, `Retry`: "
         "[{`ErrorEquals`: [`A`], `MaxDelaySeconds`: 5}]}"),
     "definition.States.S.Retry[0].MaxDelaySeconds: is not supported"},
    {ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true, `Retry`: "
         "[{`ErrorEquals`: [`A`], `Next`: `S`}]}"),
     "definition.States.S.Retry[0].Next: is not a field of a Retrier"},
    {ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true, `Catch`: "
         "[{`ErrorEquals`: [`A`]}]}"),
     "definition.States.S.Catch[0]: Next is required"},
    {ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true, `Catch`: "
         "[{`ErrorEquals`: [`A`], `Next`: `Gone`}]}"),
     "definition.States.S.Catch[0].Next: state \"Gone\" does not exist"},
    {ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true, `Catch`: "
         "[{`ErrorEquals`: [`A`], `Next`: `S`, `ResultPath`: `$..x`}]}"),
     "definition.States.S.Catch[0].ResultPath: \"$..x\" is not a valid "
     "Reference Path: a Reference Path selects one node: no '*', slices or "
     "'..' (step 1)"},
    {ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true, `Catch`: "
         "[{`ErrorEquals`: [`States.ALL`], `Next`: `S`}, {`ErrorEquals`: "
         "[`A`], `Next`: `S`}]}"),
     "definition.States.S.Catch[0].ErrorEquals[0]: States.ALL must appear in "
     "the last element"},
    {ONE("{`Type`: `Task`, `Resource`: `" T1 "`, `End`: true, `Catch`: "
         "[{`ErrorEquals`: [`A`], `Next`: `S`, `Retry`: 1}]}"),
     "definition.States.S.Catch[0].Retry: is not a field of a Catcher"},
    /* Choice */
    {ONE("{`Type`: `Choice`}"),
     "definition.States.S: Choices is required in a Choice state"},
    {ONE("{`Type`: `Choice`, `Choices`: []}"),
     "definition.States.S.Choices: must be a non-empty array of Choice "
     "rules"},
    {ONE("{`Type`: `Choice`, `Choices`: [{`Variable`: `$.a`, "
         "`StringEquals`: `x`, `Next`: `S`}], `End`: true}"),
     "definition.States.S.End: is not a field of a Choice state"},
    {ONE("{`Type`: `Choice`, `Choices`: [{`Variable`: `$.a`, "
         "`StringEquals`: `x`}]}"),
     "definition.States.S.Choices[0]: Next is required in a top-level "
     "Choice rule"},
    {ONE("{`Type`: `Choice`, `Choices`: [{`Variable`: `$.a`, "
         "`StringEquals`: `x`, `Next`: `T`}]}"),
     "definition.States.S.Choices[0].Next: state \"T\" does not exist"},
    {TWO("{`Type`: `Choice`, `Choices`: [{`Variable`: `$.a`, "
         "`StringEquals`: `x`, `Next`: `Done`}], `Default`: `Z`}"),
     "definition.States.S.Default: state \"Z\" does not exist"},
    {TWO("{`Type`: `Choice`, `Choices`: [{`Variable`: `$.a`, "
         "`Next`: `Done`}]}"),
     "definition.States.S.Choices[0]: a Choice rule needs a comparison "
     "operator (StringEquals, NumericLessThan, IsPresent, …) or And, Or, Not"},
    {TWO("{`Type`: `Choice`, `Choices`: [{`StringEquals`: `x`, "
         "`Next`: `Done`}]}"),
     "definition.States.S.Choices[0]: Variable is required with StringEquals"},
    {TWO("{`Type`: `Choice`, `Choices`: [{`Variable`: `$.a`, "
         "`StringEquals`: `x`, `StringLessThan`: `y`, `Next`: `Done`}]}"),
     "definition.States.S.Choices[0].StringLessThan: a Choice rule has "
     "exactly one operator; it also has StringEquals"},
    {TWO("{`Type`: `Choice`, `Choices`: [{`Variable`: `$.a`, "
         "`StringEqual`: `x`, `Next`: `Done`}]}"),
     "definition.States.S.Choices[0].StringEqual: is not a comparison "
     "operator or field of a Choice rule"},
    {TWO("{`Type`: `Choice`, `Choices`: [{`Variable`: `$.a`, "
         "`StringEquals`: 1, `Next`: `Done`}]}"),
     "definition.States.S.Choices[0].StringEquals: must be a string, not a "
     "number"},
    {TWO("{`Type`: `Choice`, `Choices`: [{`Variable`: `$.a`, "
         "`NumericEquals`: `1`, `Next`: `Done`}]}"),
     "definition.States.S.Choices[0].NumericEquals: must be a number, not a "
     "string"},
    {TWO("{`Type`: `Choice`, `Choices`: [{`Variable`: `$.a`, "
         "`BooleanEquals`: `true`, `Next`: `Done`}]}"),
     "definition.States.S.Choices[0].BooleanEquals: must be true or false, "
     "not a string"},
    {TWO("{`Type`: `Choice`, `Choices`: [{`Variable`: `$.a`, "
         "`IsPresent`: 1, `Next`: `Done`}]}"),
     "definition.States.S.Choices[0].IsPresent: must be true or false, not a "
     "number"},
    {TWO("{`Type`: `Choice`, `Choices`: [{`Variable`: `$.a`, "
         "`TimestampEquals`: `2016-03-14 01:59:00Z`, `Next`: `Done`}]}"),
     "definition.States.S.Choices[0].TimestampEquals: must be an RFC 3339 "
     "timestamp such as \"2016-03-14T01:59:00Z\""},
    {TWO("{`Type`: `Choice`, `Choices`: [{`Variable`: `$.a`, "
         "`StringMatches`: `a\\\\b`, `Next`: `Done`}]}"),
     "definition.States.S.Choices[0].StringMatches: a backslash may only "
     "escape '*' or another backslash"},
    {TWO("{`Type`: `Choice`, `Choices`: [{`Variable`: `$.a`, "
         "`StringEqualsPath`: `$.b[*]`, `Next`: `Done`}]}"),
     "definition.States.S.Choices[0].StringEqualsPath: \"$.b[*]\" is not a "
     "valid Reference Path: a Reference Path selects one node: no '*', "
     "slices or '..' (step 2)"},
    {TWO("{`Type`: `Choice`, `Choices`: [{`Variable`: `$..a`, "
         "`IsNull`: true, `Next`: `Done`}]}"),
     "definition.States.S.Choices[0].Variable: \"$..a\" is not a valid "
     "Reference Path: a Reference Path selects one node: no '*', slices or "
     "'..' (step 1)"},
    {TWO("{`Type`: `Choice`, `Choices`: [{`Variable`: `$$.Execution.Id`, "
         "`IsNull`: true, `Next`: `Done`}]}"),
     "definition.States.S.Choices[0].Variable: the context object ($$) can "
     "only be read by the \".$\" fields of Parameters and ResultSelector"},
    {TWO("{`Type`: `Choice`, `Choices`: [{`And`: [], `Next`: `Done`}]}"),
     "definition.States.S.Choices[0].And: must be a non-empty array of "
     "Choice rules"},
    {TWO("{`Type`: `Choice`, `Choices`: [{`Or`: [{`Variable`: `$.a`, "
         "`IsNull`: true, `Next`: `Done`}], `Next`: `Done`}]}"),
     "definition.States.S.Choices[0].Or[0].Next: only top-level Choice rules "
     "have Next, not the rules inside And, Or and Not"},
    {TWO("{`Type`: `Choice`, `Choices`: [{`Not`: [], `Next`: `Done`}]}"),
     "definition.States.S.Choices[0].Not: a Choice rule must be an object, "
     "not an array"},
    {TWO("{`Type`: `Choice`, `Choices`: [{`Not`: {`Variable`: `$.a`, "
         "`IsNull`: true}, `And`: [{`Variable`: `$.a`, `IsNull`: true}], "
         "`Next`: `Done`}]}"),
     "definition.States.S.Choices[0].And: a Choice rule has exactly one "
     "operator; it also has Not"},
    {TWO("{`Type`: `Choice`, `Choices`: [{`Not`: {`Variable`: `$.a`, "
         "`IsNull`: true}, `Variable`: `$.a`, `Next`: `Done`}]}"),
     "definition.States.S.Choices[0].Variable: And, Or and Not rules have no "
     "Variable"},
    {TWO("{`Type`: `Choice`, `Choices`: [{`Not`: {`Not`: {`Not`: {`Not`: "
         "{`Not`: {`Not`: {`Not`: {`Not`: {`Not`: {`Not`: {`Not`: {`Not`: "
         "{`Not`: {`Not`: {`Not`: {`Not`: {`Not`: {`Variable`: `$.a`, "
         "`IsNull`: true}}}}}}}}}}}}}}}}}, `Next`: `Done`}]}"),
     "definition.States.S.Choices[0].Not.Not.Not.Not.Not.Not.Not.Not.Not.Not."
     "Not.Not.Not.Not.Not.Not.Not: Choice rules nest at most 16 deep"},
    /* Wait */
    {TWO("{`Type`: `Wait`, `Next`: `Done`}"),
     "definition.States.S: a Wait state needs one of Seconds, Timestamp, "
     "SecondsPath and TimestampPath"},
    {TWO("{`Type`: `Wait`, `Seconds`: 1, `SecondsPath`: `$.s`, "
         "`Next`: `Done`}"),
     "definition.States.S: a Wait state has exactly one of Seconds, "
     "Timestamp, SecondsPath and TimestampPath; this one has Seconds and "
     "SecondsPath"},
    {TWO("{`Type`: `Wait`, `Seconds`: -1, `Next`: `Done`}"),
     "definition.States.S.Seconds: must be an integer from 0 to 99999999"},
    {TWO("{`Type`: `Wait`, `Seconds`: `10`, `Next`: `Done`}"),
     "definition.States.S.Seconds: must be an integer from 0 to 99999999"},
    {TWO("{`Type`: `Wait`, `Timestamp`: `tomorrow`, `Next`: `Done`}"),
     "definition.States.S.Timestamp: must be an RFC 3339 timestamp such as "
     "\"2016-03-14T01:59:00Z\""},
    {TWO("{`Type`: `Wait`, `TimestampPath`: `$.t[0:1]`, `Next`: `Done`}"),
     "definition.States.S.TimestampPath: \"$.t[0:1]\" is not a valid "
     "Reference Path: a Reference Path selects one node: no '*', slices or "
     "'..' (step 2)"},
    {TWO("{`Type`: `Wait`, `SecondsPath`: 5, `Next`: `Done`}"),
     "definition.States.S.SecondsPath: must be a Reference Path, not a "
     "number"},
    /* Parallel */
    {TWO("{`Type`: `Parallel`, `Next`: `Done`}"),
     "definition.States.S: Branches is required in a Parallel state"},
    {TWO("{`Type`: `Parallel`, `Next`: `Done`, `Branches`: []}"),
     "definition.States.S.Branches: must be a non-empty array of state "
     "machines"},
    {TWO("{`Type`: `Parallel`, `Next`: `Done`, `Branches`: [1]}"),
     "definition.States.S.Branches[0]: a state machine must be an object, "
     "not a number"},
    {TWO("{`Type`: `Parallel`, `Next`: `Done`, `Branches`: [{`StartAt`: "
         "`B`, `States`: {`B`: {`Type`: `Pass`, `Next`: `Done`}}}]}"),
     "definition.States.S.Branches[0].States.B.Next: state \"Done\" does not "
     "exist in this branch"},
    {TWO("{`Type`: `Parallel`, `Next`: `Done`, `Branches`: [{`StartAt`: "
         "`B`, `States`: {`B`: {`Type`: `Succeed`}}, `Version`: `1.0`}]}"),
     "definition.States.S.Branches[0].Version: is not a field of a state "
     "machine branch"},
    {TWO("{`Type`: `Parallel`, `Next`: `Done`, `Branches`: [{`StartAt`: "
         "`B`, `States`: {`B`: {`Type`: `Task`, `Resource`: `x`, `End`: "
         "true}}}]}"),
     "definition.States.S.Branches[0].States.B.Resource: \"x\" is not a "
     "transition of the organization"},
    {TWO("{`Type`: `Parallel`, `Next`: `Nope`, `Branches`: [{`StartAt`: "
         "`B`, `States`: {`B`: {`Type`: `Succeed`}}}]}"),
     "definition.States.S.Next: state \"Nope\" does not exist"},
};

START_TEST(checker_refuses_with_the_place_and_the_rule) {
  for (size_t i = 0; i < N(bad_definitions); i++) {
    const bad_case *c = &bad_definitions[i];
    json_t *def = J(c->definition);
    char why[1024] = "";
    int calls = 0;
    ck_assert_msg(!asl_check(def, known_transition, &calls, why, sizeof why),
                  "case %zu accepted: %s", i, c->definition);
    ck_assert_msg(strcmp(why, c->why) == 0, "case %zu:\n got  %s\n want %s", i,
                  why, c->why);
    json_decref(def);
  }
}
END_TEST

START_TEST(checker_bounds_what_it_accepts) {
  char why[1024];
  int calls = 0;
  /* Parallel nested 9 deep. */
  json_t *inner = J("{`StartAt`: `L`, `States`: {`L`: {`Type`: `Succeed`}}}");
  for (int i = 0; i < 9; i++) {
    char name[16];
    snprintf(name, sizeof name, "P%d", i);
    json_t *outer =
        json_pack("{s:s, s:{s:{s:s, s:b, s:[o]}}}", "StartAt", name, "States",
                  name, "Type", "Parallel", "End", 1, "Branches", inner);
    inner = outer;
  }
  ck_assert(!asl_check(inner, NULL, NULL, why, sizeof why));
  ck_assert_msg(strstr(why, "Parallel states nest at most 8 deep"), "%s", why);
  json_decref(inner);
  /* More than 1,000 states, in a chain. */
  json_t *states = json_object();
  for (int i = 0; i < 1001; i++) {
    char name[16], next[16];
    snprintf(name, sizeof name, "S%d", i);
    snprintf(next, sizeof next, "S%d", i + 1);
    json_object_set_new(
        states, name,
        i == 1000 ? json_pack("{s:s}", "Type", "Succeed")
                  : json_pack("{s:s, s:s}", "Type", "Pass", "Next", next));
  }
  json_t *def = json_pack("{s:s, s:o}", "StartAt", "S0", "States", states);
  ck_assert(!asl_check(def, NULL, NULL, why, sizeof why));
  ck_assert_str_eq(why, "definition.States: a definition has at most 1000 "
                        "states in all");
  /* 1,000 is fine. */
  json_object_del(states, "S1000");
  json_object_set_new(states, "S999", json_pack("{s:s}", "Type", "Succeed"));
  ck_assert_msg(asl_check(def, NULL, NULL, why, sizeof why), "%s", why);
  json_decref(def);
  /* Too deep, and too many values. */
  json_t *deep = json_string("x");
  for (int i = 0; i < 70; i++)
    deep = json_pack("[o]", deep);
  def = json_pack("{s:s, s:{s:{s:s, s:b, s:o}}}", "StartAt", "S", "States", "S",
                  "Type", "Pass", "End", 1, "Result", deep);
  ck_assert(!asl_check(def, NULL, NULL, why, sizeof why));
  ck_assert_str_eq(why, "definition: a definition has at most 100000 JSON "
                        "values and 64 levels of nesting");
  json_decref(def);
  json_t *wide = json_array();
  for (int i = 0; i < 100001; i++)
    json_array_append_new(wide, json_true());
  def = json_pack("{s:s, s:{s:{s:s, s:b, s:o}}}", "StartAt", "S", "States", "S",
                  "Type", "Pass", "End", 1, "Result", wide);
  ck_assert(!asl_check(def, NULL, NULL, why, sizeof why));
  ck_assert_ptr_nonnull(strstr(why, "at most 100000 JSON values"));
  json_decref(def);
  /* Without a callback, Resources are not looked up; with one, each Task's
   * is. */
  def = J(TWO("{`Type`: `Task`, `Resource`: `anything`, `Next`: `Done`}"));
  ck_assert(asl_check(def, NULL, NULL, why, sizeof why));
  ck_assert(!asl_check(def, known_transition, &calls, why, sizeof why));
  ck_assert_int_eq(calls, 1);
  json_decref(def);
  /* Long names are cut in the place, at a character boundary; a deep place
   * keeps its start and its end, so the rule is always there. */
  char name[700] = "";
  for (int i = 0; i < 300; i++)
    strcat(name, "\xc3\xa6");
  def = json_pack("{s:s, s:{s:{s:s}}}", "StartAt", name, "States", name, "Type",
                  "Succeed");
  ck_assert(!asl_check(def, NULL, NULL, why, sizeof why));
  char want[400] = "definition.States.";
  memcpy(want + strlen(want), name, 100);
  want[18 + 100] = '\0';
  strcat(want, "\xe2\x80\xa6: a state name has at most 80 characters, this "
               "one 300");
  ck_assert_str_eq(why, want);
  json_decref(def);
  json_t *params = json_pack("{s:s}", "bad.$", "nope");
  char key[120];
  memset(key, 'k', 110);
  key[110] = '\0';
  for (int i = 0; i < 50; i++)
    params = json_pack("{s:o}", key, params);
  def = json_pack("{s:s, s:{s:{s:s, s:b, s:o}}}", "StartAt", "S", "States", "S",
                  "Type", "Pass", "End", 1, "Parameters", params);
  ck_assert(!asl_check(def, NULL, NULL, why, sizeof why));
  ck_assert_msg(strncmp(why, "definition.States.S.Parameters.kkkk", 35) == 0 &&
                    strstr(why, "\xe2\x80\xa6.bad.$: \"nope\": intrinsic "
                                "functions are not supported") &&
                    strlen(why) < 600,
                "%s", why);
  json_t *valid = json_string(why);
  ck_assert_ptr_nonnull(valid);
  json_decref(valid);
  json_decref(def);
  /* A short buffer gets the message cut, never overrun. */
  def = J(ONE("{`Type`: `Pass`}"));
  char tiny[12];
  ck_assert(!asl_check(def, NULL, NULL, tiny, sizeof tiny));
  ck_assert_str_eq(tiny, "definition.");
  ck_assert(!asl_check(def, NULL, NULL, NULL, 0));
  json_decref(def);
}
END_TEST

static Suite *asl_suite(void) {
  Suite *s = suite_create("asl");
  TCase *paths = tcase_create("jsonpath");
  tcase_add_test(paths, jsonpath_syntax);
  tcase_add_test(paths, jsonpath_selects);
  tcase_add_test(paths, jsonpath_bounds_its_work);
  tcase_add_test(paths, jsonpath_sets);
  tcase_add_test(paths, jsonpath_set_leaves_shared_documents_alone);
  suite_add_tcase(s, paths);
  TCase *data = tcase_create("data");
  tcase_set_timeout(data, 60);
  tcase_add_test(data, effective_input);
  tcase_add_test(data, effective_output);
  tcase_add_test(data, pass_state_result_path_on_its_own_input);
  tcase_add_test(data, choice_rules);
  tcase_add_test(data, choice_order_default_and_no_match);
  tcase_add_test(data, string_matches_is_linear);
  tcase_add_test(data, timestamps_are_instants);
  tcase_add_test(data, wait_deadlines);
  tcase_add_test(data, error_names_match);
  tcase_add_test(data, retry_counts_per_retrier);
  tcase_add_test(data, catchers_and_their_output);
  suite_add_tcase(s, data);
  TCase *check = tcase_create("check");
  tcase_set_timeout(check, 60);
  tcase_add_test(check, checker_accepts_what_the_engine_runs);
  tcase_add_test(check, checker_refuses_with_the_place_and_the_rule);
  tcase_add_test(check, checker_bounds_what_it_accepts);
  suite_add_tcase(s, check);
  return s;
}

int main(void) {
  return ck_run(asl_suite(), CK_NORMAL);
}
