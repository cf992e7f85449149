#include "validation/schemas.h"

#include "validation/schema_blobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *name;
  json_t *json;
  js_schema *compiled;
} schemas_entry;

static schemas_entry *schemas_table;
static size_t schemas_count;

bool schemas_init(char *err, size_t errlen) {
  schemas_table = calloc(schema_blobs_count, sizeof *schemas_table);
  if (!schemas_table) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  for (size_t i = 0; i < schema_blobs_count; i++) {
    json_error_t jerr;
    schemas_entry *e = &schemas_table[i];
    e->name = schema_blobs[i].name;
    e->json = json_loads(schema_blobs[i].json, 0, &jerr);
    schemas_count = i + 1;
    if (!e->json) {
      snprintf(err, errlen, "schema %s: %s", e->name, jerr.text);
      return false;
    }
    char cerr[256];
    e->compiled = js_compile(e->json, JS_DRAFT7, NULL, NULL, cerr, sizeof cerr);
    if (!e->compiled) {
      snprintf(err, errlen, "schema %s: %s", e->name, cerr);
      return false;
    }
  }
  return true;
}

void schemas_free(void) {
  for (size_t i = 0; i < schemas_count; i++) {
    js_free(schemas_table[i].compiled);
    json_decref(schemas_table[i].json);
  }
  free(schemas_table);
  schemas_table = NULL;
  schemas_count = 0;
}

/* The blobs are sorted by name, so a binary search finds one. */
static const schemas_entry *schemas_find(const char *name) {
  size_t lo = 0, hi = schemas_count;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(name, schemas_table[mid].name);
    if (c == 0)
      return &schemas_table[mid];
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return NULL;
}

const js_schema *schemas_get(const char *name) {
  const schemas_entry *e = schemas_find(name);
  return e ? e->compiled : NULL;
}

const json_t *schemas_json(const char *name) {
  const schemas_entry *e = schemas_find(name);
  return e ? e->json : NULL;
}
