/* Tests for the JSON Schema validator: the official JSON Schema Test Suite
 * (required tests of drafts 4 and 7) plus the project's own expectations on
 * error messages, OpenAPI `nullable`, UTF-8 lengths and thread safety.
 *
 * Environment:
 *   JSON_SCHEMA_SUITE_DIR  checkout of json-schema-org/JSON-Schema-Test-Suite
 *                          (needs tests/draft4, tests/draft7 and remotes/)
 *   JSON_SCHEMA_SKIPS      optional file of suite tests to skip, one per line:
 *                          draftN/file.json|case description|test description|reason
 */
#define _POSIX_C_SOURCE 200809L

#include "validation/jsonschema.h"

#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ck_run.h"

/* The suite refers to the draft metaschemas by their canonical URIs but does
 * not ship them; these are the published documents, so those tests can run
 * without network access. */
static const char t_metaschema_draft4[] =
    "{\"$schema\":\"http://json-schema.org/draft-04/schema#\",\"default\":{},\"definitions\":{\"positiveIntege"
    "r\":{\"minimum\":0,\"type\":\"integer\"},\"positiveIntegerDefault0\":{\"allOf\":[{\"$ref\":\"#/definitions/pos"
    "itiveInteger\"},{\"default\":0}]},\"schemaArray\":{\"items\":{\"$ref\":\"#\"},\"minItems\":1,\"type\":\"array\"},"
    "\"simpleTypes\":{\"enum\":[\"array\",\"boolean\",\"integer\",\"null\",\"number\",\"object\",\"string\"]},\"stringAr"
    "ray\":{\"items\":{\"type\":\"string\"},\"minItems\":1,\"type\":\"array\",\"uniqueItems\":true}},\"dependencies\":"
    "{\"exclusiveMaximum\":[\"maximum\"],\"exclusiveMinimum\":[\"minimum\"]},\"description\":\"Core schema meta-"
    "schema\",\"id\":\"http://json-schema.org/draft-04/schema#\",\"properties\":{\"$schema\":{\"format\":\"uri\",\""
    "type\":\"string\"},\"additionalItems\":{\"anyOf\":[{\"type\":\"boolean\"},{\"$ref\":\"#\"}],\"default\":{}},\"addi"
    "tionalProperties\":{\"anyOf\":[{\"type\":\"boolean\"},{\"$ref\":\"#\"}],\"default\":{}},\"allOf\":{\"$ref\":\"#/de"
    "finitions/schemaArray\"},\"anyOf\":{\"$ref\":\"#/definitions/schemaArray\"},\"default\":{},\"definitions\":"
    "{\"additionalProperties\":{\"$ref\":\"#\"},\"default\":{},\"type\":\"object\"},\"dependencies\":{\"additionalPr"
    "operties\":{\"anyOf\":[{\"$ref\":\"#\"},{\"$ref\":\"#/definitions/stringArray\"}]},\"type\":\"object\"},\"descri"
    "ption\":{\"type\":\"string\"},\"enum\":{\"minItems\":1,\"type\":\"array\",\"uniqueItems\":true},\"exclusiveMaxim"
    "um\":{\"default\":false,\"type\":\"boolean\"},\"exclusiveMinimum\":{\"default\":false,\"type\":\"boolean\"},\"fo"
    "rmat\":{\"type\":\"string\"},\"id\":{\"format\":\"uri\",\"type\":\"string\"},\"items\":{\"anyOf\":[{\"$ref\":\"#\"},{\"$"
    "ref\":\"#/definitions/schemaArray\"}],\"default\":{}},\"maxItems\":{\"$ref\":\"#/definitions/positiveInteg"
    "er\"},\"maxLength\":{\"$ref\":\"#/definitions/positiveInteger\"},\"maxProperties\":{\"$ref\":\"#/definitions"
    "/positiveInteger\"},\"maximum\":{\"type\":\"number\"},\"minItems\":{\"$ref\":\"#/definitions/positiveInteger"
    "Default0\"},\"minLength\":{\"$ref\":\"#/definitions/positiveIntegerDefault0\"},\"minProperties\":{\"$ref\":"
    "\"#/definitions/positiveIntegerDefault0\"},\"minimum\":{\"type\":\"number\"},\"multipleOf\":{\"exclusiveMin"
    "imum\":true,\"minimum\":0,\"type\":\"number\"},\"not\":{\"$ref\":\"#\"},\"oneOf\":{\"$ref\":\"#/definitions/schema"
    "Array\"},\"pattern\":{\"format\":\"regex\",\"type\":\"string\"},\"patternProperties\":{\"additionalProperties\""
    ":{\"$ref\":\"#\"},\"default\":{},\"type\":\"object\"},\"properties\":{\"additionalProperties\":{\"$ref\":\"#\"},\"d"
    "efault\":{},\"type\":\"object\"},\"required\":{\"$ref\":\"#/definitions/stringArray\"},\"title\":{\"type\":\"str"
    "ing\"},\"type\":{\"anyOf\":[{\"$ref\":\"#/definitions/simpleTypes\"},{\"items\":{\"$ref\":\"#/definitions/simp"
    "leTypes\"},\"minItems\":1,\"type\":\"array\",\"uniqueItems\":true}]},\"uniqueItems\":{\"default\":false,\"type"
    "\":\"boolean\"}},\"type\":\"object\"}";

static const char t_metaschema_draft7[] =
    "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"$id\":\"http://json-schema.org/draft-07/sche"
    "ma#\",\"title\":\"Core schema meta-schema\",\"definitions\":{\"schemaArray\":{\"type\":\"array\",\"minItems\":1"
    ",\"items\":{\"$ref\":\"#\"}},\"nonNegativeInteger\":{\"type\":\"integer\",\"minimum\":0},\"nonNegativeIntegerDe"
    "fault0\":{\"allOf\":[{\"$ref\":\"#/definitions/nonNegativeInteger\"},{\"default\":0}]},\"simpleTypes\":{\"en"
    "um\":[\"array\",\"boolean\",\"integer\",\"null\",\"number\",\"object\",\"string\"]},\"stringArray\":{\"type\":\"arra"
    "y\",\"items\":{\"type\":\"string\"},\"uniqueItems\":true,\"default\":[]}},\"type\":[\"object\",\"boolean\"],\"prop"
    "erties\":{\"$id\":{\"type\":\"string\",\"format\":\"uri-reference\"},\"$schema\":{\"type\":\"string\",\"format\":\"u"
    "ri\"},\"$ref\":{\"type\":\"string\",\"format\":\"uri-reference\"},\"$comment\":{\"type\":\"string\"},\"title\":{\"ty"
    "pe\":\"string\"},\"description\":{\"type\":\"string\"},\"default\":true,\"readOnly\":{\"type\":\"boolean\",\"defau"
    "lt\":false},\"writeOnly\":{\"type\":\"boolean\",\"default\":false},\"examples\":{\"type\":\"array\",\"items\":tru"
    "e},\"multipleOf\":{\"type\":\"number\",\"exclusiveMinimum\":0},\"maximum\":{\"type\":\"number\"},\"exclusiveMax"
    "imum\":{\"type\":\"number\"},\"minimum\":{\"type\":\"number\"},\"exclusiveMinimum\":{\"type\":\"number\"},\"maxLen"
    "gth\":{\"$ref\":\"#/definitions/nonNegativeInteger\"},\"minLength\":{\"$ref\":\"#/definitions/nonNegativeI"
    "ntegerDefault0\"},\"pattern\":{\"type\":\"string\",\"format\":\"regex\"},\"additionalItems\":{\"$ref\":\"#\"},\"it"
    "ems\":{\"anyOf\":[{\"$ref\":\"#\"},{\"$ref\":\"#/definitions/schemaArray\"}],\"default\":true},\"maxItems\":{\"$"
    "ref\":\"#/definitions/nonNegativeInteger\"},\"minItems\":{\"$ref\":\"#/definitions/nonNegativeIntegerDef"
    "ault0\"},\"uniqueItems\":{\"type\":\"boolean\",\"default\":false},\"contains\":{\"$ref\":\"#\"},\"maxProperties\""
    ":{\"$ref\":\"#/definitions/nonNegativeInteger\"},\"minProperties\":{\"$ref\":\"#/definitions/nonNegativeI"
    "ntegerDefault0\"},\"required\":{\"$ref\":\"#/definitions/stringArray\"},\"additionalProperties\":{\"$ref\":"
    "\"#\"},\"definitions\":{\"type\":\"object\",\"additionalProperties\":{\"$ref\":\"#\"},\"default\":{}},\"propertie"
    "s\":{\"type\":\"object\",\"additionalProperties\":{\"$ref\":\"#\"},\"default\":{}},\"patternProperties\":{\"type"
    "\":\"object\",\"additionalProperties\":{\"$ref\":\"#\"},\"propertyNames\":{\"format\":\"regex\"},\"default\":{}},"
    "\"dependencies\":{\"type\":\"object\",\"additionalProperties\":{\"anyOf\":[{\"$ref\":\"#\"},{\"$ref\":\"#/definit"
    "ions/stringArray\"}]}},\"propertyNames\":{\"$ref\":\"#\"},\"const\":true,\"enum\":{\"type\":\"array\",\"items\":t"
    "rue},\"type\":{\"anyOf\":[{\"$ref\":\"#/definitions/simpleTypes\"},{\"type\":\"array\",\"items\":{\"$ref\":\"#/de"
    "finitions/simpleTypes\"},\"minItems\":1,\"uniqueItems\":true}]},\"format\":{\"type\":\"string\"},\"contentMe"
    "diaType\":{\"type\":\"string\"},\"contentEncoding\":{\"type\":\"string\"},\"if\":{\"$ref\":\"#\"},\"then\":{\"$ref\":"
    "\"#\"},\"else\":{\"$ref\":\"#\"},\"allOf\":{\"$ref\":\"#/definitions/schemaArray\"},\"anyOf\":{\"$ref\":\"#/definit"
    "ions/schemaArray\"},\"oneOf\":{\"$ref\":\"#/definitions/schemaArray\"},\"not\":{\"$ref\":\"#\"}},\"default\":tr"
    "ue}";

/* ------------------------------------------------------------------------ */
/* Official test suite runner                                               */
/* ------------------------------------------------------------------------ */

typedef struct {
    char *file, *cas, *test, *reason;
    int used;
} t_skip;

typedef struct {
    t_skip *v;
    size_t n;
} t_skips;

typedef struct {
    int passed, failed, skipped;
} t_counts;

typedef struct {
    char *p;
    size_t len, cap;
} t_text;

static void t_text_add(t_text *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *p = realloc(t->p, cap);
        ck_assert_ptr_nonnull(p);
        t->p = p;
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n + 1);
    t->len += n;
}

static char *t_strdup(const char *s)
{
    char *p = strdup(s);
    ck_assert_ptr_nonnull(p);
    return p;
}

static void t_load_skips(t_skips *sk)
{
    sk->v = NULL;
    sk->n = 0;
    const char *path = getenv("JSON_SCHEMA_SKIPS");
    if (!path || !*path)
        return;
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open JSON_SCHEMA_SKIPS=%s", path);
    char line[2048];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || line[0] == '#')
            continue;
        char *fields[4] = {0};
        char *p = line;
        for (int i = 0; i < 4 && p; i++) {
            fields[i] = p;
            p = i < 3 ? strchr(p, '|') : NULL;
            if (p)
                *p++ = '\0';
        }
        ck_assert_msg(fields[3] != NULL, "malformed skip line (need file|case|test|reason): %s", line);
        t_skip *v = realloc(sk->v, (sk->n + 1) * sizeof *v);
        ck_assert_ptr_nonnull(v);
        sk->v = v;
        sk->v[sk->n++] = (t_skip){t_strdup(fields[0]), t_strdup(fields[1]), t_strdup(fields[2]),
                                  t_strdup(fields[3]), 0};
    }
    fclose(f);
}

static void t_free_skips(t_skips *sk)
{
    for (size_t i = 0; i < sk->n; i++) {
        free(sk->v[i].file);
        free(sk->v[i].cas);
        free(sk->v[i].test);
        free(sk->v[i].reason);
    }
    free(sk->v);
}

static t_skip *t_find_skip(t_skips *sk, const char *file, const char *cas, const char *test)
{
    for (size_t i = 0; i < sk->n; i++)
        if (!strcmp(sk->v[i].file, file) && !strcmp(sk->v[i].cas, cas) && !strcmp(sk->v[i].test, test))
            return &sk->v[i];
    return NULL;
}

/* Serves the suite's remotes/ directory for http://localhost:1234/ and the
 * embedded metaschemas for their canonical URIs. */
static json_t *t_suite_loader(const char *uri, void *ctx)
{
    static const char local[] = "http://localhost:1234/";
    const char *suite = ctx;
    if (!strncmp(uri, local, sizeof local - 1)) {
        const char *rest = uri + sizeof local - 1;
        if (strstr(rest, ".."))
            return NULL;
        size_t n = strlen(suite) + strlen(rest) + 16;
        char *path = malloc(n);
        if (!path)
            return NULL;
        snprintf(path, n, "%s/remotes/%s", suite, rest);
        json_t *doc = json_load_file(path, 0, NULL);
        free(path);
        return doc;
    }
    if (!strcmp(uri, "http://json-schema.org/draft-04/schema"))
        return json_loads(t_metaschema_draft4, 0, NULL);
    if (!strcmp(uri, "http://json-schema.org/draft-07/schema"))
        return json_loads(t_metaschema_draft7, 0, NULL);
    return NULL;
}

static int t_json_file(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 5 && !strcmp(e->d_name + n - 5, ".json");
}

static void t_run_file(const char *suite, const char *draft_dir, const char *fname, js_draft draft,
                       t_skips *sk, t_counts *cnt, t_text *failures)
{
    char path[4096], id[512], line[4096], err[512];
    snprintf(path, sizeof path, "%s/tests/%s/%s", suite, draft_dir, fname);
    snprintf(id, sizeof id, "%s/%s", draft_dir, fname);
    json_error_t jerr;
    json_t *cases = json_load_file(path, JSON_ALLOW_NUL, &jerr);
    if (!json_is_array(cases)) {
        snprintf(line, sizeof line, "%s: cannot load: %s\n", id, jerr.text);
        t_text_add(failures, line);
        cnt->failed++;
        json_decref(cases);
        return;
    }
    size_t ci;
    json_t *c;
    json_array_foreach(cases, ci, c)
    {
        const char *cdesc = json_string_value(json_object_get(c, "description"));
        err[0] = '\0';
        js_schema *s = js_compile(json_object_get(c, "schema"), draft, t_suite_loader, (void *)suite, err,
                                  sizeof err);
        size_t ti;
        json_t *t;
        json_array_foreach(json_object_get(c, "tests"), ti, t)
        {
            const char *tdesc = json_string_value(json_object_get(t, "description"));
            t_skip *skip = t_find_skip(sk, id, cdesc, tdesc);
            if (skip) {
                skip->used++;
                cnt->skipped++;
                continue;
            }
            bool expect = json_is_true(json_object_get(t, "valid"));
            if (!s) {
                snprintf(line, sizeof line, "%s: %s / %s (schema did not compile: %s)\n", id, cdesc, tdesc,
                         err);
                t_text_add(failures, line);
                cnt->failed++;
                continue;
            }
            char verr[256];
            bool got = js_validate(s, json_object_get(t, "data"), NULL, verr, sizeof verr);
            if (got == expect) {
                cnt->passed++;
            } else {
                snprintf(line, sizeof line, "%s: %s / %s (expected %s%s%s)\n", id, cdesc, tdesc,
                         expect ? "valid" : "invalid", got ? "" : ", got: ", got ? "" : verr);
                t_text_add(failures, line);
                cnt->failed++;
            }
        }
        js_free(s);
    }
    json_decref(cases);
}

static void t_run_draft(const char *suite, const char *draft_dir, js_draft draft, t_skips *sk, t_counts *cnt,
                        t_text *failures)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/%s", suite, draft_dir);
    struct dirent **names = NULL;
    int n = scandir(dir, &names, t_json_file, alphasort);
    ck_assert_msg(n > 0, "no test files in %s", dir);
    for (int i = 0; i < n; i++) {
        t_run_file(suite, draft_dir, names[i]->d_name, draft, sk, cnt, failures);
        free(names[i]);
    }
    free(names);
}

START_TEST(test_official_suite)
{
    const char *suite = getenv("JSON_SCHEMA_SUITE_DIR");
    ck_assert_msg(suite && *suite, "JSON_SCHEMA_SUITE_DIR is not set");
    t_skips sk;
    t_load_skips(&sk);
    t_counts d4 = {0}, d7 = {0};
    t_text failures = {0};
    t_text_add(&failures, "");
    t_run_draft(suite, "draft4", JS_DRAFT4, &sk, &d4, &failures);
    t_run_draft(suite, "draft7", JS_DRAFT7, &sk, &d7, &failures);

    int stale = 0;
    for (size_t i = 0; i < sk.n; i++) {
        if (!sk.v[i].used) {
            fprintf(stderr, "skip entry matched no test: %s|%s|%s\n", sk.v[i].file, sk.v[i].cas, sk.v[i].test);
            stale++;
        }
    }
    printf("draft4: %d passed, %d skipped; draft7: %d passed, %d skipped; %d failed\n", d4.passed, d4.skipped,
           d7.passed, d7.skipped, d4.failed + d7.failed);
    if (failures.len)
        fprintf(stderr, "failing suite tests:\n%s", failures.p);
    fflush(stdout);
    fflush(stderr);
    int failed = d4.failed + d7.failed;
    free(failures.p);
    t_free_skips(&sk);
    ck_assert_msg(failed == 0, "%d official suite tests failed (listed on stderr)", failed);
    ck_assert_msg(stale == 0, "%d skip entries matched no test", stale);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Project-specific unit tests                                              */
/* ------------------------------------------------------------------------ */

static js_schema *t_compile(const char *text, js_draft draft)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    ck_assert_msg(j != NULL, "bad test schema JSON: %s", jerr.text);
    char err[256];
    js_schema *s = js_compile(j, draft, NULL, NULL, err, sizeof err);
    json_decref(j);
    ck_assert_msg(s != NULL, "compile failed: %s", err);
    return s;
}

/* Validates `inst` (JSON text) and returns the error message ("" if valid). */
static bool t_check(const js_schema *s, const char *inst, const char *root, char *err, size_t errlen)
{
    json_t *j = json_loads(inst, JSON_DECODE_ANY, NULL);
    ck_assert_msg(j != NULL, "bad test instance JSON: %s", inst);
    bool ok = js_validate(s, j, root, err, errlen);
    json_decref(j);
    if (ok)
        ck_assert_str_eq(err, "");
    return ok;
}

static void t_expect_error(const char *schema, js_draft draft, const char *inst, const char *expected)
{
    js_schema *s = t_compile(schema, draft);
    char err[512];
    ck_assert_msg(!t_check(s, inst, NULL, err, sizeof err), "expected %s to be invalid", inst);
    ck_assert_str_eq(err, expected);
    js_free(s);
}

static void t_expect_valid(const char *schema, js_draft draft, const char *inst)
{
    js_schema *s = t_compile(schema, draft);
    char err[512];
    ck_assert_msg(t_check(s, inst, NULL, err, sizeof err), "expected %s to be valid, got: %s", inst, err);
    js_free(s);
}

START_TEST(test_nullable)
{
    static const char schema[] = "{\"type\":\"string\",\"nullable\":true}";
    for (int d = 0; d < 2; d++) {
        js_draft draft = d ? JS_DRAFT7 : JS_DRAFT4;
        t_expect_valid(schema, draft, "null");
        t_expect_valid(schema, draft, "\"x\"");
        t_expect_error(schema, draft, "1", "body: must be string or null");
    }
    /* without nullable, null is an ordinary type error */
    t_expect_error("{\"type\":\"string\"}", JS_DRAFT7, "null", "body: must be string");
    t_expect_error("{\"type\":\"string\",\"nullable\":false}", JS_DRAFT7, "null", "body: must be string");
    /* a nullable enum or reference accepts null too */
    t_expect_valid("{\"type\":\"string\",\"enum\":[\"A\"],\"nullable\":true}", JS_DRAFT7, "null");
    t_expect_valid("{\"definitions\":{\"x\":{\"type\":\"object\"}},"
                   "\"nullable\":true,\"allOf\":[{\"$ref\":\"#/definitions/x\"}]}",
                   JS_DRAFT7, "null");
    t_expect_error("{\"type\":[\"string\",\"integer\"],\"nullable\":true}", JS_DRAFT7, "true",
                   "body: must be string or integer or null");
}
END_TEST


/* js_validate_normalize: `inst` validated against `schema` becomes `want`
 * (both JSON texts), or fails with `error` when that is not NULL. */
static void t_normalize(const char *schema, js_draft draft, const char *inst, const char *want,
                        const char *error)
{
    js_schema *s = t_compile(schema, draft);
    json_t *j = json_loads(inst, JSON_DECODE_ANY, NULL);
    ck_assert_msg(j != NULL, "bad test instance JSON: %s", inst);
    char err[512];
    bool ok = js_validate_normalize(s, j, NULL, err, sizeof err);
    if (error) {
        ck_assert_msg(!ok, "expected %s to be invalid", inst);
        ck_assert_str_eq(err, error);
    } else {
        ck_assert_msg(ok, "expected %s to be valid, got: %s", inst, err);
        char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        ck_assert_str_eq(text, want);
        free(text);
    }
    json_decref(j);
    js_free(s);
}

START_TEST(test_normalize_integers)
{
    static const char obj[] = "{\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"number\"},"
                              "\"c\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"}},"
                              "\"d\":{\"type\":[\"integer\",\"string\"]}}}";
    t_normalize(obj, JS_DRAFT7, "{\"a\":30.0,\"b\":2.0,\"c\":[1.0,2,3e1],\"d\":4.0,\"e\":5.0}",
                "{\"a\":30,\"b\":2.0,\"c\":[1,2,30],\"d\":4,\"e\":5.0}", NULL);
    t_normalize(obj, JS_DRAFT7, "{\"a\":-9223372036854775808.0}", "{\"a\":-9223372036854775808}", NULL);
    t_normalize(obj, JS_DRAFT7, "{\"a\":9223372036854775808.0}", NULL,
                "a: must be an integer from -9223372036854775808 to 9223372036854775807");
    t_normalize(obj, JS_DRAFT7, "{\"c\":[1,1e300]}", NULL,
                "c[1]: must be an integer from -9223372036854775808 to 9223372036854775807");
    t_normalize(obj, JS_DRAFT7, "{\"a\":30.5}", NULL, "a: must be integer");
    /* An integer branch that failed accepted nothing: the value stays the
     * number the other branch took. */
    t_normalize("{\"properties\":{\"a\":{\"anyOf\":[{\"type\":\"integer\",\"minimum\":10},"
                "{\"type\":\"number\"}]}}}",
                JS_DRAFT7, "{\"a\":5.0}", "{\"a\":5.0}", NULL);
    t_normalize("{\"properties\":{\"a\":{\"anyOf\":[{\"type\":\"integer\",\"minimum\":10},"
                "{\"type\":\"number\"}]}}}",
                JS_DRAFT7, "{\"a\":50.0}", "{\"a\":50}", NULL);
    /* Draft 4 has no whole reals as integers: nothing to normalise. */
    t_normalize(obj, JS_DRAFT4, "{\"a\":30.0}", NULL, "a: must be integer");
    /* js_validate leaves the instance alone. */
    js_schema *s = t_compile(obj, JS_DRAFT7);
    json_t *j = json_loads("{\"a\":30.0}", 0, NULL);
    ck_assert(js_validate(s, j, NULL, NULL, 0));
    ck_assert(json_is_real(json_object_get(j, "a")));
    json_decref(j);
    js_free(s);
}
END_TEST

START_TEST(test_error_messages)
{
    t_expect_error("{\"type\":\"object\",\"properties\":{\"fieldConfig\":{\"type\":\"object\",\"properties\":"
                   "{\"total\":{\"type\":\"object\",\"properties\":{\"maxLength\":{\"type\":\"integer\","
                   "\"maximum\":100}}}}}}}",
                   JS_DRAFT7, "{\"fieldConfig\":{\"total\":{\"maxLength\":101}}}",
                   "fieldConfig.total.maxLength: must be <= 100");
    t_expect_error("{\"type\":\"object\",\"required\":[\"name\"]}", JS_DRAFT7, "{}", "name: is required");
    t_expect_error("{\"properties\":{\"a\":{\"required\":[\"b\"]}}}", JS_DRAFT7, "{\"a\":{}}", "a.b: is required");
    t_expect_error("{\"type\":\"object\",\"properties\":{\"name\":{}},\"additionalProperties\":false}", JS_DRAFT4,
                   "{\"name\":1,\"foo\":2}", "foo: is not allowed");
    t_expect_error("{\"properties\":{\"logoutUrls\":{\"type\":\"array\",\"items\":{\"type\":\"string\","
                   "\"pattern\":\"^http://localhost.*|^https://.*\"}}}}",
                   JS_DRAFT7, "{\"logoutUrls\":[\"ftp://x\"]}",
                   "logoutUrls[0]: must match pattern ^http://localhost.*|^https://.*");
    t_expect_valid("{\"properties\":{\"logoutUrls\":{\"type\":\"array\",\"items\":{\"type\":\"string\","
                   "\"pattern\":\"^http://localhost.*|^https://.*\"}}}}",
                   JS_DRAFT7, "{\"logoutUrls\":[\"https://a\",\"http://localhost:3000/x\"]}");
    t_expect_error("{\"type\":\"object\"}", JS_DRAFT7, "[]", "body: must be object");
    t_expect_error("{\"enum\":[\"LOW\",\"HIGH\"]}", JS_DRAFT7, "\"MID\"", "body: must be one of [\"LOW\", \"HIGH\"]");
    t_expect_error("{\"exclusiveMaximum\":5}", JS_DRAFT7, "5", "body: must be < 5");
    t_expect_error("{\"maximum\":5,\"exclusiveMaximum\":true}", JS_DRAFT4, "5", "body: must be < 5");
    t_expect_error("{\"minimum\":0.5}", JS_DRAFT7, "0.25", "body: must be >= 0.5");
    {
        js_schema *ml = t_compile("{\"maxLength\":4096}", JS_DRAFT7);
        char text[4098], err[128];
        memset(text, 'a', sizeof text - 1);
        text[sizeof text - 1] = '\0';
        json_t *str = json_string(text);
        ck_assert(!js_validate(ml, str, NULL, err, sizeof err));
        ck_assert_str_eq(err, "body: must have at most 4096 characters");
        json_decref(str);
        text[4096] = '\0';
        str = json_string(text);
        ck_assert(js_validate(ml, str, NULL, err, sizeof err));
        json_decref(str);
        js_free(ml);
    }
    t_expect_error("{\"minItems\":1}", JS_DRAFT7, "[]", "body: must have at least 1 item");
    t_expect_error("{\"maxItems\":2}", JS_DRAFT7, "[1,2,3]", "body: must have at most 2 items");
    t_expect_error("{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":0}]}", JS_DRAFT7, "3",
                   "body: must match exactly one schema (matched 2)");
    t_expect_error("{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":0}]}", JS_DRAFT7, "-1.5",
                   "body: must match exactly one schema (matched 0): (1) body: must be integer; (2) body: must be >= 0");
    t_expect_error("{\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"boolean\"}]}", JS_DRAFT7, "\"x\"",
                   "body: must match at least one schema: (1) body: must be integer; (2) body: must be boolean");
    t_expect_error("{\"anyOf\":[{\"type\":\"string\",\"pattern\":\"^a\"},{\"type\":\"string\",\"pattern\":\"^b\"}]}",
                   JS_DRAFT7, "5", "body: must match at least one schema: body: must be string");
    /* Each failing branch says why, naming the field (QA: a PATCH with a
     * bad status only said the body matched no schema). */
    t_expect_error("{\"anyOf\":[{\"properties\":{\"status\":{\"enum\":[\"succeeded\"]}}},"
                   "{\"properties\":{\"status\":{\"enum\":[\"failed\"]}}}]}",
                   JS_DRAFT7, "{\"status\":\"bogus\"}",
                   "body: must match at least one schema: (1) status: must be one of [\"succeeded\"]; (2) status: must "
                   "be one of [\"failed\"]");
    t_expect_error("{\"items\":{\"properties\":{\"id\":{\"type\":\"string\"}}}}", JS_DRAFT7, "[{\"id\":\"a\"},{\"id\":3}]",
                   "body[1].id: must be string");
    t_expect_error("{\"properties\":{\"a\":{\"items\":[{},{\"const\":7}]}}}", JS_DRAFT7, "{\"a\":[0,8]}",
                   "a[1]: must be equal to 7");
    t_expect_error("{\"properties\":{\"a\":{\"items\":[{}],\"additionalItems\":false}}}", JS_DRAFT7, "{\"a\":[0,8]}",
                   "a[1]: is not allowed");
    t_expect_error("{\"dependencies\":{\"a\":[\"b\"]}}", JS_DRAFT7, "{\"a\":1}", "b: is required when a is present");
    t_expect_error("{\"multipleOf\":0.5}", JS_DRAFT7, "0.7", "body: must be a multiple of 0.5");
    t_expect_error("{\"uniqueItems\":true}", JS_DRAFT7, "[1,2,1.0]",
                   "body: must have unique items (items 0 and 2 are equal)");
    t_expect_error("{\"allOf\":[{\"$ref\":\"#/definitions/p\"}],\"definitions\":{\"p\":{\"required\":[\"x\"]}}}",
                   JS_DRAFT7, "{}", "x: is required");

    /* root_name names the root, and error text is truncated to errlen */
    js_schema *s = t_compile("{\"type\":\"object\"}", JS_DRAFT7);
    char err[64];
    ck_assert(!t_check(s, "1", "query", err, sizeof err));
    ck_assert_str_eq(err, "query: must be object");
    char small[8];
    memset(small, 'X', sizeof small);
    ck_assert(!t_check(s, "1", NULL, small, sizeof small));
    ck_assert_str_eq(small, "body: m");
    ck_assert(!t_check(s, "1", NULL, NULL, 0)); /* no error buffer at all */
    char one[1] = {'X'};
    ck_assert(!t_check(s, "1", NULL, one, 0)); /* errlen 0: buffer untouched */
    ck_assert_int_eq(one[0], 'X');
    js_free(s);
}
END_TEST

START_TEST(test_utf8_length)
{
    /* "héé" is 3 code points in 5 bytes; emoji are 4-byte sequences */
    t_expect_valid("{\"maxLength\":3}", JS_DRAFT7, "\"h\\u00e9\\u00e9\"");
    t_expect_valid("{\"maxLength\":3}", JS_DRAFT7, "\"\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80\"");
    t_expect_error("{\"maxLength\":3}", JS_DRAFT7, "\"\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E" "x\"",
                   "body: must have at most 3 characters");
    t_expect_valid("{\"minLength\":2}", JS_DRAFT4, "\"\xE6\x97\xA5\xE6\x9C\xAC\"");
    t_expect_error("{\"minLength\":2}", JS_DRAFT4, "\"\xE6\x97\xA5\"", "body: must have at least 2 characters");
    /* patterns see code points, not bytes */
    t_expect_valid("{\"pattern\":\"^.{2}$\"}", JS_DRAFT7, "\"\xE6\x97\xA5\xE6\x9C\xAC\"");
    /* $ does not match before a trailing newline (ECMA-262 semantics) */
    t_expect_error("{\"pattern\":\"^abc$\"}", JS_DRAFT7, "\"abc\\n\"", "body: must match pattern ^abc$");
    /* ECMA-262 \u escapes */
    t_expect_valid("{\"pattern\":\"^\\\\u00e9+$\"}", JS_DRAFT7, "\"\\u00e9\\u00e9\"");
}
END_TEST

typedef struct {
    const js_schema *schema;
    int mismatches;
} t_thread_arg;

static void *t_thread_main(void *p)
{
    t_thread_arg *a = p;
    json_t *good = json_loads("{\"name\":\"ok\",\"urls\":[\"https://a\",\"http://localhost\"],"
                              "\"tree\":{\"value\":1,\"next\":{\"value\":2}}}",
                              0, NULL);
    json_t *bad = json_loads("{\"name\":\"ok\",\"urls\":[\"https://a\",\"ftp://b\"]}", 0, NULL);
    json_t *bad2 = json_loads("{\"name\":\"ok\",\"tree\":{\"value\":1,\"next\":{\"value\":\"x\"}}}", 0, NULL);
    if (!good || !bad || !bad2)
        a->mismatches++;
    for (int i = 0; good && bad && bad2 && i < 2000; i++) {
        char err[128];
        if (!js_validate(a->schema, good, NULL, err, sizeof err))
            a->mismatches++;
        if (js_validate(a->schema, bad, NULL, err, sizeof err) ||
            strcmp(err, "urls[1]: must match pattern ^http://localhost.*|^https://.*") != 0)
            a->mismatches++;
        if (js_validate(a->schema, bad2, NULL, err, sizeof err) || strcmp(err, "tree.next.value: must be number") != 0)
            a->mismatches++;
    }
    json_decref(good);
    json_decref(bad);
    json_decref(bad2);
    return NULL;
}

START_TEST(test_thread_safety)
{
    js_schema *s = t_compile(
        "{\"type\":\"object\",\"required\":[\"name\"],\"properties\":{"
        "\"name\":{\"type\":\"string\",\"pattern\":\"^[a-z]+$\",\"maxLength\":10},"
        "\"urls\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"pattern\":\"^http://localhost.*|^https://.*\"}},"
        "\"tree\":{\"$ref\":\"#/definitions/node\"}},"
        "\"patternProperties\":{\"^x-\":{\"type\":\"string\"}},"
        "\"definitions\":{\"node\":{\"type\":\"object\",\"required\":[\"value\"],"
        "\"properties\":{\"value\":{\"type\":\"number\"},\"next\":{\"$ref\":\"#/definitions/node\"}}}}}",
        JS_DRAFT7);
    pthread_t th[4];
    t_thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (t_thread_arg){s, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, t_thread_main, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_int_eq(args[i].mismatches, 0);
    }
    js_free(s);
}
END_TEST

static void t_expect_compile_error(const char *schema, js_draft draft, const char *fragment)
{
    json_t *j = json_loads(schema, JSON_DECODE_ANY, NULL);
    ck_assert_ptr_nonnull(j);
    char err[256] = "untouched";
    js_schema *s = js_compile(j, draft, NULL, NULL, err, sizeof err);
    json_decref(j);
    ck_assert_msg(s == NULL, "expected %s not to compile", schema);
    ck_assert_msg(strstr(err, fragment) != NULL, "error \"%s\" does not mention \"%s\"", err, fragment);
}

START_TEST(test_compile_errors)
{
    t_expect_compile_error("{\"pattern\":\"(abc\"}", JS_DRAFT7, "pattern");
    t_expect_compile_error("{\"properties\":{\"a\":{\"pattern\":\"[z-a]\"}}}", JS_DRAFT4, "pattern");
    t_expect_compile_error("{\"patternProperties\":{\"(\":{}}}", JS_DRAFT7, "pattern");
    t_expect_compile_error("{\"$ref\":\"#/definitions/missing\"}", JS_DRAFT7, "$ref");
    t_expect_compile_error("{\"$ref\":\"http://example.com/x.json\"}", JS_DRAFT7, "$ref");
    t_expect_compile_error("{\"$ref\":\"#\"}", JS_DRAFT7, "cycle");
    t_expect_compile_error("{\"type\":\"text\"}", JS_DRAFT7, "type");
    t_expect_compile_error("{\"maxLength\":-1}", JS_DRAFT7, "maxLength");
    t_expect_compile_error("{\"multipleOf\":0}", JS_DRAFT7, "multipleOf");
    t_expect_compile_error("{\"properties\":{\"a\":3}}", JS_DRAFT7, "schema");
    t_expect_compile_error("[]", JS_DRAFT7, "schema");
    /* a NULL error buffer is allowed */
    json_t *j = json_loads("{\"pattern\":\"(\"}", 0, NULL);
    ck_assert_ptr_null(js_compile(j, JS_DRAFT7, NULL, NULL, NULL, 0));
    json_decref(j);
    js_free(NULL);
}
END_TEST

static json_t *t_memory_loader(const char *uri, void *ctx)
{
    (void)ctx;
    if (!strcmp(uri, "https://las.example/defs.json"))
        return json_loads("{\"definitions\":{\"id\":{\"type\":\"string\",\"minLength\":3}}}", 0, NULL);
    return NULL;
}

START_TEST(test_recursion_and_remote)
{
    /* a schema that recurses without consuming the instance fails cleanly */
    js_schema *s = t_compile("{\"allOf\":[{\"$ref\":\"#\"}]}", JS_DRAFT7);
    char err[128];
    ck_assert(!t_check(s, "1", NULL, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "too deep"));
    js_free(s);

    /* an instance deeper than jansson would ever parse does not overflow */
    s = t_compile("{\"items\":{\"$ref\":\"#\"}}", JS_DRAFT7);
    json_t *deep = json_array();
    for (int i = 0; i < 10000; i++) {
        json_t *outer = json_array();
        json_array_append_new(outer, deep);
        deep = outer;
    }
    static char big[32768]; /* the location alone is "body[0][0]..." thousands of levels deep */
    ck_assert(!js_validate(s, deep, NULL, big, sizeof big));
    ck_assert_msg(strstr(big, "]: schema recursion too deep") != NULL, "%.80s", big);
    ck_assert(!js_validate(s, deep, NULL, err, sizeof err));
    ck_assert_uint_eq(strlen(err), sizeof err - 1);
    json_decref(deep);
    js_free(s);

    /* remote references go through the loader callback */
    json_t *j = json_loads("{\"properties\":{\"id\":{\"$ref\":\"https://las.example/defs.json#/definitions/id\"}}}",
                           0, NULL);
    char cerr[128];
    s = js_compile(j, JS_DRAFT7, t_memory_loader, NULL, cerr, sizeof cerr);
    json_decref(j);
    ck_assert_msg(s != NULL, "%s", cerr);
    ck_assert(t_check(s, "{\"id\":\"abcd\"}", NULL, err, sizeof err));
    ck_assert(!t_check(s, "{\"id\":\"ab\"}", NULL, err, sizeof err));
    ck_assert_str_eq(err, "id: must have at least 3 characters");
    js_free(s);

    /* the compiled schema does not depend on the caller's document */
    j = json_loads("{\"properties\":{\"a\":{\"type\":\"integer\"}}}", 0, NULL);
    s = js_compile(j, JS_DRAFT4, NULL, NULL, NULL, 0);
    json_object_clear(j);
    json_decref(j);
    ck_assert(!t_check(s, "{\"a\":1.5}", NULL, err, sizeof err));
    ck_assert_str_eq(err, "a: must be integer");
    js_free(s);
}
END_TEST

/* Patterns with nested repeats are exponential on some strings (the API's
 * e-mail pattern among them): a match gives up after a bounded number of
 * steps, far below PCRE2's default of ten million, and says so. Both strings
 * below take about a million steps, which the default limit still allowed
 * (about 150 ms per e-mail field, an unauthenticated POST /signup). */
START_TEST(test_backtracking_bounded)
{
    static const char email[] =
        "{\"pattern\":\"^[A-Za-z0-9][-+._A-Za-z0-9]*@([-_.A-Za-z0-9]+\\\\.)+[A-Za-z]{2,}$\"}";
    t_expect_error("{\"pattern\":\"^(a+)+$\"}", JS_DRAFT7, "\"aaaaaaaaaaaaaaaaaaaa!\"",
                   "body: could not be matched against pattern ^(a+)+$");
    t_expect_error(email, JS_DRAFT7, "\"a@a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.1\"",
                   "body: could not be matched against pattern "
                   "^[A-Za-z0-9][-+._A-Za-z0-9]*@([-_.A-Za-z0-9]+\\.)+[A-Za-z]{2,}$");
    /* Real addresses, even long ones, stay far inside the limit. */
    t_expect_valid(email, JS_DRAFT7,
                   "\"first.last+tag@a1.b2.c3.d4.e5.f6.g7.h8.i9.j10.k11.l12.m13.n14.o15.p16.q17."
                   "r18.s19.t20.u21.v22.w23.x24.y25.z26.example.co.uk\"");
    t_expect_valid(email, JS_DRAFT7, "\"a@b.co\"");
}
END_TEST

static Suite *t_suite(void)
{
    Suite *s = suite_create("jsonschema");
    TCase *unit = tcase_create("unit");
    tcase_add_test(unit, test_nullable);
    tcase_add_test(unit, test_normalize_integers);
    tcase_add_test(unit, test_error_messages);
    tcase_add_test(unit, test_utf8_length);
    tcase_add_test(unit, test_thread_safety);
    tcase_add_test(unit, test_compile_errors);
    tcase_add_test(unit, test_recursion_and_remote);
    tcase_add_test(unit, test_backtracking_bounded);
    tcase_set_timeout(unit, 120);
    suite_add_tcase(s, unit);
    TCase *official = tcase_create("official");
    tcase_add_test(official, test_official_suite);
    tcase_set_timeout(official, 300);
    suite_add_tcase(s, official);
    return s;
}

int main(void)
{
    return ck_run(t_suite(), CK_NORMAL);
}
