/* The API's request and response schemas (the JSON files of schema/,
 * embedded at build time), compiled once at startup. */
#ifndef LAS_VALIDATION_SCHEMAS_H
#define LAS_VALIDATION_SCHEMAS_H

#include "validation/jsonschema.h"

#include <stdbool.h>
#include <stddef.h>

/* Compiles every embedded schema; false with a reason on failure. */
bool schemas_init(char *err, size_t errlen);
void schemas_free(void);
/* The compiled schema called `name` (e.g. "PostModels"), or NULL. */
const js_schema *schemas_get(const char *name);
/* The raw JSON of schema `name` (borrowed), or NULL. */
const json_t *schemas_json(const char *name);

#endif
