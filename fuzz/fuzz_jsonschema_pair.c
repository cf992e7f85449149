/* Fuzz target: random schema and instance pairs. The input is a schema, a
 * line "%%", then an instance, both JSON texts; the schema is compiled
 * (draft 4 when its $schema says so, draft 7 otherwise) and, when it
 * compiles, the instance validated. $refs to other documents are resolved
 * to the embedded API schemas by name (e.g. "PostModels.json").
 *
 * Findings: a crash, sanitizer report or hang; a compile failure without a
 * reason; an invalid instance without a message; an answer that changes with
 * the error buffer. */
#include "fuzz_env.h"
#include "validation/schemas.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *fuzz_loader(const char *uri, void *ctx) {
  (void)ctx;
  const char *slash = strrchr(uri, '/');
  char name[128];
  snprintf(name, sizeof name, "%s", slash ? slash + 1 : uri);
  char *dot = strstr(name, ".json");
  if (dot)
    *dot = '\0';
  const json_t *doc = schemas_json(name);
  return doc ? json_deep_copy(doc) : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_schemas_ready();
  const char *text = (const char *)data;
  const char *sep = memmem(text, size, "\n%%\n", 4);
  if (!sep)
    return 0;
  const int flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;
  json_t *schema_json = json_loadb(text, (size_t)(sep - text), flags, NULL);
  if (!schema_json)
    return 0;
  const char *uri = json_string_value(json_object_get(schema_json, "$schema"));
  js_draft draft = uri && strstr(uri, "draft-04") ? JS_DRAFT4 : JS_DRAFT7;
  char err[512] = "";
  js_schema *schema =
      js_compile(schema_json, draft, fuzz_loader, NULL, err, sizeof err);
  if (!schema) {
    if (err[0] == '\0') {
      fprintf(stderr, "fuzz: compile failed without a reason\n");
      abort();
    }
    json_decref(schema_json);
    return 0;
  }
  const char *inst_text = sep + 4;
  json_t *instance =
      json_loadb(inst_text, (size_t)(text + size - inst_text), flags, NULL);
  if (instance) {
    bool ok = js_validate(schema, instance, "body", err, sizeof err);
    char small[8] = "";
    if (js_validate(schema, instance, NULL, small, sizeof small) != ok ||
        js_validate(schema, instance, "body", NULL, 0) != ok) {
      fprintf(stderr, "fuzz: answer depends on the error buffer\n");
      abort();
    }
    if (!ok && err[0] == '\0') {
      fprintf(stderr, "fuzz: invalid without a reason\n");
      abort();
    }
    json_decref(instance);
  }
  js_free(schema);
  json_decref(schema_json);
  return 0;
}
