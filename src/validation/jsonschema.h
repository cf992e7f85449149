/* JSON Schema validator (drafts 4 and 7, plus OpenAPI 3.0 `nullable`) on jansson.
 *
 * A schema is compiled once (regexes compiled with PCRE2, $refs resolved) and
 * can then be used from any number of threads at once: js_validate() does not
 * mutate the compiled schema. */
#ifndef LAS_VALIDATION_JSONSCHEMA_H
#define LAS_VALIDATION_JSONSCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum { JS_DRAFT4 = 4, JS_DRAFT7 = 7 } js_draft;

typedef struct js_schema js_schema;

/* Resolves an absolute URI (without fragment) that a $ref points to outside the
 * schema being compiled. Returns a NEW reference, or NULL when unknown. */
typedef json_t *(*js_remote_loader)(const char *uri, void *ctx);

/* Compiles `schema` (borrowed; the compiled form keeps its own reference).
 * `loader` may be NULL. On failure returns NULL and, when err is not NULL,
 * writes a one-line reason into err (size errlen). Free with js_free(). */
js_schema *js_compile(json_t *schema, js_draft draft, js_remote_loader loader,
                      void *loader_ctx, char *err, size_t errlen);

void js_free(js_schema *schema);

/* true when `instance` is valid. Otherwise false and, when err is not NULL,
 * the first failure as "<location>: <rule>", e.g.
 *   "fieldConfig.total.maxLength: must be <= 100"
 *   "name: is required"            (location of the missing property)
 *   "foo: is not allowed"          (additionalProperties: false)
 *   "logoutUrls[0]: must match pattern ^https://.*"
 *   "body: must be object"         (the root is called `root_name`)
 * `root_name` names the instance root (e.g. "body"); NULL means "body". */
bool js_validate(const js_schema *schema, const json_t *instance,
                 const char *root_name, char *err, size_t errlen);

/* js_validate, and then, when `instance` is valid, every number the schema
 * accepted as `integer` although it is a JSON real with no fraction (30.0;
 * draft 6 and later count it as an integer) is replaced in `instance` by the
 * equal JSON integer, so that readers of the instance see what the schema
 * saw. A whole real outside the int64 range fails there as
 *   "<location>: must be an integer from -9223372036854775808 to
 * 9223372036854775807". Only values below the root are replaced (a root that is
 * itself such a real stays as it is). */
bool js_validate_normalize(const js_schema *schema, json_t *instance,
                           const char *root_name, char *err, size_t errlen);

#endif
