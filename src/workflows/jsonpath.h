/* The JSONPath subset of the Amazon States Language (states-language.net,
 * "Paths" and "Reference Paths"). A path starts with `$` (or `$$` for the
 * context object, which callers resolve by passing the context as doc).
 * Supported steps: `.name`, `['name']`, `[index]`; Paths (not Reference
 * Paths) also allow `[*]`, `[start:end]`, `..name` and filters the
 * implementation documents in jsonpath.c. A Reference Path must identify a
 * single node. Pure functions: no I/O, no clock. */
#ifndef LAS_WORKFLOWS_JSONPATH_H
#define LAS_WORKFLOWS_JSONPATH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum {
  JSONPATH_OK = 0,
  JSONPATH_NO_MATCH, /* well formed, but nothing in doc is there */
  JSONPATH_INVALID   /* not a path of the supported syntax */
} jsonpath_status;

/* Checks the syntax: reference true for a Reference Path (ResultPath,
 * Choice Variable, …Path fields). why receives the reason on
 * JSONPATH_INVALID, e.g. "unexpected ']' at 4". */
jsonpath_status jsonpath_check(const char *path, bool reference, char *why,
                               size_t whylen);

/* Selects path in doc: *out is a NEW reference (the node for a Reference
 * Path or a single-node path; an array of the matches for a path with
 * wildcards, slices or descent). */
jsonpath_status jsonpath_get(const json_t *doc, const char *path,
                             json_t **out, char *why, size_t whylen);

/* Sets the node at Reference Path `path` in *doc to value (stolen),
 * creating objects on the way; `$` replaces *doc (the old one is released).
 * JSONPATH_NO_MATCH when the path runs through a value that is not an
 * object (or an array index that does not exist). *doc is owned by the
 * caller before and after. */
jsonpath_status jsonpath_set(json_t **doc, const char *path, json_t *value,
                             char *why, size_t whylen);

#endif
