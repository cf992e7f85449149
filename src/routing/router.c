#include "routing/router.h"

#include "core/ids.h"

#include <stdio.h>
#include <string.h>

/* Compares one template segment with one path segment; a `{name}` segment
 * matches any non-empty text. */
static bool router_segment_matches(const char *tpl, size_t tlen,
                                   const char *seg, size_t slen) {
  if (tlen > 1 && tpl[0] == '{')
    return slen > 0;
  return tlen == slen && memcmp(tpl, seg, slen) == 0;
}

/* Walks template and path together; collects parameters when `buf` given. */
static bool router_path_matches(const char *tpl, const char *path,
                                const char *params[], size_t *n_params,
                                char *buf, size_t buflen) {
  size_t used = 0, n = 0;
  while (*tpl == '/' && *path == '/') {
    tpl++;
    path++;
    size_t tlen = strcspn(tpl, "/");
    size_t slen = strcspn(path, "/");
    if (!router_segment_matches(tpl, tlen, path, slen))
      return false;
    if (tpl[0] == '{' && buf) {
      if (n == API_MAX_PATH_PARAMS || used + slen + 1 > buflen)
        return false;
      memcpy(buf + used, path, slen);
      buf[used + slen] = '\0';
      params[n++] = buf + used;
      used += slen + 1;
    }
    tpl += tlen;
    path += slen;
  }
  /* A trailing slash names the same resource. */
  if (*tpl == '\0' && path[0] == '/' && path[1] == '\0')
    path++;
  if (*tpl != '\0' || *path != '\0')
    return false;
  if (n_params)
    *n_params = n;
  return true;
}

/* Every method a route row may name, in the order lists are written. */
static const char *const router_method_names[] = {
    "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"};
enum { ROUTER_N_METHODS = 7, ROUTER_HEAD = 2 };

static unsigned router_method_bit(const char *method) {
  for (unsigned i = 0; i < ROUTER_N_METHODS; i++)
    if (strcmp(router_method_names[i], method) == 0)
      return 1u << i;
  return 0;
}

/* HEAD is served wherever GET is (RFC 9110 section 9.3.2). */
static void router_format_methods(unsigned mask, char *out, size_t outlen) {
  if (mask & router_method_bit("GET"))
    mask |= 1u << ROUTER_HEAD;
  size_t used = 0;
  out[0] = '\0';
  for (unsigned i = 0; i < ROUTER_N_METHODS; i++) {
    if (!(mask & (1u << i)))
      continue;
    int n = snprintf(out + used, outlen - used, "%s%s", used ? ", " : "",
                     router_method_names[i]);
    if (n < 0 || (size_t)n >= outlen - used)
      return;
    used += (size_t)n;
  }
}

static const char *router_strip_v1(const char *path) {
  return strncmp(path, "/v1/", 4) == 0 ? path + 3 : path;
}

bool router_methods(const char *path, char *out, size_t outlen) {
  path = router_strip_v1(path);
  unsigned mask = 0;
  for (size_t i = 0; i < routes_count; i++)
    if (router_path_matches(routes[i].path, path, NULL, NULL, NULL, 0))
      mask |= router_method_bit(routes[i].method);
  router_format_methods(mask, out, outlen);
  return mask != 0;
}

router_result router_match(const char *method, const char *path,
                           const route **out,
                           const char *params[API_MAX_PATH_PARAMS],
                           size_t *n_params, char *buf, size_t buflen,
                           char *allow, size_t allowlen) {
  path = router_strip_v1(path);
  /* A HEAD is answered by the GET row of the path, without the body. */
  const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
  bool path_known = false;
  if (allowlen)
    allow[0] = '\0';
  for (size_t i = 0; i < routes_count; i++) {
    const route *r = &routes[i];
    if (!router_path_matches(r->path, path, NULL, NULL, NULL, 0))
      continue;
    path_known = true;
    if (strcmp(r->method, want) != 0)
      continue;
    *out = r;
    /* The method list costs a walk of the table: only where it is sent. */
    if (strcmp(r->method, "OPTIONS") == 0)
      router_methods(path, allow, allowlen);
    return router_path_matches(r->path, path, params, n_params, buf, buflen)
               ? ROUTER_MATCH
               : ROUTER_PARAM_TOO_LONG;
  }
  if (!path_known)
    return ROUTER_NO_PATH;
  router_methods(path, allow, allowlen);
  return ROUTER_NO_METHOD;
}

/* Which ID kind each path parameter carries. */
static const char *router_param_kind(const route *r, const char *name) {
  static const struct {
    const char *param;
    const char *kind;
  } kinds[] = {
      {"appClientId", "app-client"},
      {"assetId", "asset"},
      {"datasetId", "dataset"},
      {"documentId", "document"},
      {"logId", "log"},
      {"modelId", "model"},
      {"dataBundleId", "model-data-bundle"},
      {"organizationId", "organization"},
      {"secretId", "secret"},
      {"transitionId", "transition"},
      {"userId", "user"},
      {"workflowId", "workflow"},
  };
  if (strcmp(name, "executionId") == 0)
    return strncmp(r->path, "/transitions", 12) == 0 ? "transition-execution"
                                                     : "workflow-execution";
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (strcmp(kinds[i].param, name) == 0)
      return kinds[i].kind;
  return NULL;
}

/* Built-in transitions are named, not numbered (las:transition:commons-…). */
static bool router_commons_transition(const char *id) {
  const char *prefix = "las:transition:commons-";
  size_t n = strlen(prefix);
  if (strncmp(id, prefix, n) != 0 || id[n] == '\0')
    return false;
  for (const char *p = id + n; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
          (*p >= 'A' && *p <= 'Z') || *p == '-'))
      return false;
  return true;
}

bool router_check_params(const route *r, const char *const *params,
                         size_t n_params, char *err, size_t errlen) {
  const char *tpl = r->path;
  size_t i = 0;
  while ((tpl = strchr(tpl, '{')) != NULL && i < n_params) {
    const char *end = strchr(tpl, '}');
    char name[64];
    size_t len = (size_t)(end - tpl - 1);
    if (len >= sizeof name)
      len = sizeof name - 1;
    memcpy(name, tpl + 1, len);
    name[len] = '\0';
    tpl = end;
    const char *value = params[i++];
    const char *kind = router_param_kind(r, name);
    if (!kind || ids_valid(kind, value))
      continue;
    if (strcmp(name, "organizationId") == 0 && strcmp(value, "me") == 0)
      continue;
    if (strcmp(name, "transitionId") == 0 && router_commons_transition(value))
      continue;
    snprintf(err, errlen, "%s: must match pattern ^las:%s:[a-f0-9]{32}$", name,
             kind);
    return false;
  }
  return true;
}
