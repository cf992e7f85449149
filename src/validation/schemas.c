#include "validation/schemas.h"

#include "core/log.h"
#include "validation/schema_blobs.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A schema is parsed and compiled at its first use, not at start: compiling
 * all of them took about half of the start-up (26 M instructions), and a
 * server that is started for one test run uses a few. */
typedef struct {
  const char *name;
  const char *text;
  json_t *json;                  /* set before `compiled` is published */
  _Atomic(js_schema *) compiled; /* NULL until compiled */
  bool failed;                   /* under schemas_lock */
} schemas_entry;

static schemas_entry *schemas_table;
static size_t schemas_count;
static pthread_mutex_t schemas_lock = PTHREAD_MUTEX_INITIALIZER;

bool schemas_init(char *err, size_t errlen) {
  schemas_table = calloc(schema_blobs_count, sizeof *schemas_table);
  if (!schemas_table) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  for (size_t i = 0; i < schema_blobs_count; i++) {
    schemas_table[i].name = schema_blobs[i].name;
    schemas_table[i].text = schema_blobs[i].json;
  }
  schemas_count = schema_blobs_count;
  return true;
}

void schemas_free(void) {
  for (size_t i = 0; i < schemas_count; i++) {
    js_free(atomic_load(&schemas_table[i].compiled));
    json_decref(schemas_table[i].json);
  }
  free(schemas_table);
  schemas_table = NULL;
  schemas_count = 0;
}

/* The blobs are sorted by name, so a binary search finds one. */
static schemas_entry *schemas_find(const char *name) {
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

/* Parses and compiles e under schemas_lock; false with the reason. */
static bool schemas_compile(schemas_entry *e, char *err, size_t errlen) {
  if (atomic_load_explicit(&e->compiled, memory_order_relaxed))
    return true;
  if (!e->json) {
    json_error_t jerr;
    e->json = json_loads(e->text, 0, &jerr);
    if (!e->json) {
      snprintf(err, errlen, "schema %s: %s", e->name, jerr.text);
      return false;
    }
  }
  char cerr[256];
  js_schema *c = js_compile(e->json, JS_DRAFT7, NULL, NULL, cerr, sizeof cerr);
  if (!c) {
    snprintf(err, errlen, "schema %s: %s", e->name, cerr);
    return false;
  }
  atomic_store_explicit(&e->compiled, c, memory_order_release);
  return true;
}

/* e compiled, or NULL (logged once) when it does not compile. */
static const schemas_entry *schemas_ready(const char *name) {
  schemas_entry *e = schemas_find(name);
  if (!e || atomic_load_explicit(&e->compiled, memory_order_acquire))
    return e;
  pthread_mutex_lock(&schemas_lock);
  char err[320];
  bool ok = !e->failed && schemas_compile(e, err, sizeof err);
  if (!ok && !e->failed) {
    e->failed = true;
    log_msg(LOG_ERROR, "%s", err);
  }
  pthread_mutex_unlock(&schemas_lock);
  return ok ? e : NULL;
}

bool schemas_compile_all(char *err, size_t errlen) {
  bool ok = true;
  pthread_mutex_lock(&schemas_lock);
  for (size_t i = 0; ok && i < schemas_count; i++)
    ok = schemas_compile(&schemas_table[i], err, errlen);
  pthread_mutex_unlock(&schemas_lock);
  return ok;
}

const js_schema *schemas_get(const char *name) {
  const schemas_entry *e = schemas_ready(name);
  return e ? atomic_load_explicit(&e->compiled, memory_order_acquire) : NULL;
}

const json_t *schemas_json(const char *name) {
  const schemas_entry *e = schemas_ready(name);
  return e ? e->json : NULL;
}
