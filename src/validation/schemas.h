/* The API's request and response schemas (the JSON files of schema/,
 * embedded at build time), each parsed and compiled once, at its first use
 * (thread-safe). */
#ifndef LAS_VALIDATION_SCHEMAS_H
#define LAS_VALIDATION_SCHEMAS_H

#include "validation/jsonschema.h"

#include <stdbool.h>
#include <stddef.h>

/* Makes the table of embedded schemas (none is compiled yet); false with a
 * reason when out of memory. */
bool schemas_init(char *err, size_t errlen);
/* Compiles every schema now; false with the first that does not compile
 * (the tests call it: a build whose schemas compile never meets the NULL
 * below). */
bool schemas_compile_all(char *err, size_t errlen);
void schemas_free(void);
/* The compiled schema called `name` (e.g. "PostModels"), or NULL when there
 * is none or it does not compile (logged). */
const js_schema *schemas_get(const char *name);
/* The parsed JSON of schema `name` (borrowed), or NULL as schemas_get. */
const json_t *schemas_json(const char *name);

#endif
