/* Fuzz target: random JSON instances against each embedded API schema (the
 * request and response schemas of schema/), as the dispatcher validates
 * bodies. The input names its schema on its first line ("PostDocuments\n"
 * then the instance), so seeds stay readable; an input whose first line is
 * no schema name picks one by its first byte and the instance is the rest.
 *
 * Findings: a crash, sanitizer report or hang; a validator whose answer
 * changes with the error buffer; a failure without a message. */
#include "fuzz_env.h"
#include "validation/schema_blobs.h"
#include "validation/schemas.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_schemas_ready();
  if (size == 0)
    return 0;
  const char *text = (const char *)data;
  const char *nl = memchr(text, '\n', size);
  const char *name = NULL;
  size_t skip = 1;
  if (nl) {
    size_t n = (size_t)(nl - text);
    for (size_t i = 0; i < schema_blobs_count && !name; i++)
      if (strlen(schema_blobs[i].name) == n &&
          memcmp(schema_blobs[i].name, text, n) == 0) {
        name = schema_blobs[i].name;
        skip = n + 1;
      }
  }
  if (!name)
    name = schema_blobs[data[0] % schema_blobs_count].name;
  const js_schema *schema = schemas_get(name);
  if (!schema)
    abort(); /* every blob was compiled by schemas_init */

  json_t *instance = json_loadb(text + skip, size - skip,
                                JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
  if (!instance)
    return 0;
  char err[512] = "";
  bool ok = js_validate(schema, instance, "body", err, sizeof err);
  char small[8] = "";
  if (js_validate(schema, instance, NULL, small, sizeof small) != ok ||
      js_validate(schema, instance, "body", NULL, 0) != ok) {
    fprintf(stderr, "fuzz: %s: answer depends on the error buffer\n", name);
    abort();
  }
  if (!ok && err[0] == '\0') {
    fprintf(stderr, "fuzz: %s: invalid without a reason\n", name);
    abort();
  }
  json_decref(instance);
  return 0;
}
