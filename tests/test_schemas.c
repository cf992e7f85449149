/* The schemas in schema/ against the reference's: every request and response
 * schema that the route table names is compared, keyword by keyword, with
 * the one the JSON-schema reference (las-docs/rest-api-json-schemas.md)
 * gives for the same operation. Each difference is one line
 *   <Name> <place>: <what>
 * and the set of lines must equal the list in schema/README.md (section
 * "Differences from the reference, as checked"): a difference that is not
 * recorded there, or a recorded one that no longer exists, fails. */
#include "routing/router.h"
#include "validation/schema_blobs.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ck_run.h"

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  if (buf)
    buf[n] = '\0';
  fclose(f);
  return buf;
}

/* {"GET /path": {"request": schema, "response": schema}} from the reference
 * text: "#### METHOD /path" headings, each followed by "Request body" and
 * "Response body" JSON Schema code blocks. */
static json_t *reference_operations(const char *text) {
  json_t *ops = json_object();
  json_t *cur = NULL;
  const char *which = NULL;
  for (const char *line = text; line && *line;) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    if (strncmp(line, "#### ", 5) == 0) {
      char key[256];
      snprintf(key, sizeof key, "%.*s", (int)(len - 5), line + 5);
      cur = json_object();
      json_object_set_new(ops, key, cur);
      which = NULL;
    } else if (strncmp(line, "##### Request body JSON Schema", 30) == 0) {
      which = "request";
    } else if (strncmp(line, "##### Response body JSON Schema", 31) == 0) {
      which = "response";
    } else if (which && cur && strncmp(line, "```json", 7) == 0 && end) {
      const char *close = strstr(end + 1, "\n```");
      ck_assert_ptr_nonnull(close);
      json_error_t jerr;
      json_t *schema = json_loadb(end + 1, (size_t)(close - end), 0, &jerr);
      ck_assert_msg(schema, "reference schema does not parse: %s", jerr.text);
      json_object_set_new(cur, which, schema);
      which = NULL;
      end = close + 1;
    }
    line = end ? end + 1 : NULL;
  }
  return ops;
}

static void add_line(json_t *lines, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_line(json_t *lines, const char *fmt, ...) {
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  json_object_set_new(lines, buf, json_true());
}

static char *compact(const json_t *v) {
  return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

/* Records how `ours` differs from `ref` below `place`. */
static void compare(json_t *lines, const char *name, const char *place,
                    json_t *ours, json_t *ref) {
  if (json_is_object(ours) && json_is_object(ref)) {
    json_t *keys = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(ours, k, v) json_object_set(keys, k, json_true());
    json_object_foreach(ref, k, v) json_object_set(keys, k, json_true());
    json_object_foreach(keys, k, v) {
      char sub[1024];
      snprintf(sub, sizeof sub, "%s%s%s", place, place[0] ? "." : "", k);
      json_t *a = json_object_get(ours, k), *b = json_object_get(ref, k);
      if (a && b) {
        compare(lines, name, sub, a, b);
        continue;
      }
      char *text = compact(a ? a : b);
      add_line(lines, "%s %s: %s %s", name, sub, a ? "added" : "removed", text);
      free(text);
    }
    json_decref(keys);
    return;
  }
  if (json_is_array(ours) && json_is_array(ref) &&
      json_array_size(ours) == json_array_size(ref) &&
      json_is_object(json_array_get(ours, 0))) {
    for (size_t i = 0; i < json_array_size(ours); i++) {
      char sub[1024];
      snprintf(sub, sizeof sub, "%s[%zu]", place, i);
      compare(lines, name, sub, json_array_get(ours, i),
              json_array_get(ref, i));
    }
    return;
  }
  if (json_equal(ours, ref))
    return;
  if (json_is_array(ours) && json_is_array(ref)) {
    /* Lists of names or values (required, enum): item by item. */
    size_t n = 0;
    for (int side = 0; side < 2; side++) {
      json_t *from = side ? ref : ours, *other = side ? ours : ref;
      size_t i, j;
      json_t *v, *w;
      json_array_foreach(from, i, v) {
        bool in_other = false;
        json_array_foreach(other, j, w) in_other = in_other || json_equal(v, w);
        if (in_other)
          continue;
        char *text = compact(v);
        add_line(lines, "%s %s: %s item %s", name, place,
                 side ? "removed" : "added", text);
        free(text);
        n++;
      }
    }
    if (n == 0)
      add_line(lines, "%s %s: same items in another order", name, place);
    return;
  }
  char *a = compact(ours), *b = compact(ref);
  add_line(lines, "%s %s: %s instead of %s", name, place, a, b);
  free(a);
  free(b);
}

static json_t *our_schema(const char *name) {
  for (size_t i = 0; i < schema_blobs_count; i++)
    if (strcmp(schema_blobs[i].name, name) == 0)
      return json_loads(schema_blobs[i].json, 0, NULL);
  return NULL;
}

/* The lines of the fenced block after the heading in schema/README.md. */
static json_t *recorded_lines(const char *readme) {
  static const char heading[] = "## Differences from the reference, as checked";
  const char *at = strstr(readme, heading);
  ck_assert_msg(at, "schema/README.md has no section \"%s\"", heading);
  const char *open = strstr(at, "\n```");
  ck_assert_ptr_nonnull(open);
  const char *body = strchr(open + 1, '\n');
  const char *close = strstr(body, "\n```");
  ck_assert_ptr_nonnull(close);
  json_t *lines = json_object();
  for (const char *line = body + 1; line < close;) {
    const char *end = strchr(line, '\n');
    char buf[2048];
    snprintf(buf, sizeof buf, "%.*s", (int)(end - line), line);
    if (buf[0])
      json_object_set_new(lines, buf, json_true());
    line = end + 1;
  }
  return lines;
}

START_TEST(schemas_match_the_reference_or_say_why_not) {
  const char *ref_dir = getenv("REFERENCE_DIR");
  const char *readme_path = getenv("SCHEMA_README");
  ck_assert_msg(ref_dir && readme_path, "REFERENCE_DIR and SCHEMA_README");
  char path[1024];
  snprintf(path, sizeof path, "%s/las-docs/rest-api-json-schemas.md", ref_dir);
  char *text = read_text(path);
  ck_assert_msg(text, "cannot read %s", path);
  json_t *ops = reference_operations(text);
  free(text);
  ck_assert_int_gt((int)json_object_size(ops), 60);

  json_t *found = json_object();
  json_t *done = json_object();
  for (size_t i = 0; i < routes_count; i++) {
    const route *r = &routes[i];
    const char *names[2] = {r->request_schema, r->response_schema};
    const char *which[2] = {"request", "response"};
    if (strcmp(r->method, "OPTIONS") == 0)
      continue;
    char op[256];
    snprintf(op, sizeof op, "%s %s", r->method, r->path);
    json_t *ref_op = json_object_get(ops, op);
    for (int w = 0; w < 2; w++) {
      if (!names[w])
        continue;
      char key[300];
      snprintf(key, sizeof key, "%s|%s", names[w], op);
      if (json_object_get(done, key))
        continue;
      json_object_set_new(done, key, json_true());
      json_t *ours = our_schema(names[w]);
      ck_assert_msg(ours, "no schema/%s.json", names[w]);
      json_t *ref = json_object_get(ref_op, which[w]);
      if (!ref)
        add_line(found, "%s: not in the reference", names[w]);
      else
        compare(found, names[w], "", ours, ref);
      json_decref(ours);
    }
  }
  json_decref(done);
  json_decref(ops);

  char *readme = read_text(readme_path);
  ck_assert_msg(readme, "cannot read %s", readme_path);
  json_t *recorded = recorded_lines(readme);
  free(readme);
  int bad = 0;
  const char *line;
  json_t *v;
  json_object_foreach(found, line, v) {
    if (!json_object_get(recorded, line)) {
      fprintf(stderr, "not recorded in schema/README.md: %s\n", line);
      bad++;
    }
  }
  json_object_foreach(recorded, line, v) {
    if (!json_object_get(found, line)) {
      fprintf(stderr, "recorded but no longer a difference: %s\n", line);
      bad++;
    }
  }
  json_decref(found);
  json_decref(recorded);
  ck_assert_msg(bad == 0, "%d schema differences do not match the record", bad);
}
END_TEST

int main(void) {
  Suite *s = suite_create("schemas");
  TCase *tc = tcase_create("reference");
  tcase_add_test(tc, schemas_match_the_reference_or_say_why_not);
  suite_add_tcase(s, tc);
  return ck_run(s, CK_NORMAL);
}
