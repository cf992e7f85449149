#include "routing/router.h"

#include "core/ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Walks template and path together; collects parameters when `buf` given.
 * A `{name}` segment matches any non-empty text; a literal one is compared
 * as it is walked, so that most rows of the table are refused at their
 * first character. */
static bool router_path_matches(const char *tpl, const char *path,
                                const char *params[], size_t *n_params,
                                char *buf, size_t buflen) {
  size_t used = 0, n = 0;
  while (*tpl == '/' && *path == '/') {
    tpl++;
    path++;
    if (tpl[0] != '{' || tpl[1] == '\0' || tpl[1] == '/') {
      while (*tpl && *tpl != '/' && *tpl == *path) {
        tpl++;
        path++;
      }
      if ((*tpl && *tpl != '/') || (*path && *path != '/'))
        return false;
      continue;
    }
    size_t tlen = strcspn(tpl, "/");
    size_t slen = strcspn(path, "/");
    if (slen == 0)
      return false;
    if (buf) {
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

/* Segments of a path, for the nearest-route search. */
static size_t router_count_segments(const char *p) {
  size_t n = 0;
  for (; *p; p++)
    if (*p == '/' && p[1] != '\0')
      n++;
  return n;
}

/* Levenshtein distance of two short texts (longer ones count as far). */
static size_t router_distance(const char *a, size_t al, const char *b,
                              size_t bl) {
  enum { MAX = 64 };
  if (al > MAX || bl > MAX)
    return MAX;
  size_t row[MAX + 1];
  for (size_t j = 0; j <= bl; j++)
    row[j] = j;
  for (size_t i = 1; i <= al; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= bl; j++) {
      size_t up = row[j];
      size_t best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best)
        best = up + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[bl];
}

/* How close path is to template tpl: per segment, 3 for an equal literal,
 * 2 for a parameter, 2 for a literal within a typo or two (at most a third
 * of its length), 1 for a literal of the same length; the first differing
 * literal segment (1-based) in *first_diff. */
static int router_similarity(const char *tpl, const char *path,
                             size_t *first_diff) {
  int score = 0;
  size_t i = 0;
  *first_diff = 0;
  while (*tpl == '/' && *path == '/') {
    tpl++;
    path++;
    i++;
    size_t tlen = strcspn(tpl, "/");
    size_t slen = strcspn(path, "/");
    if (tlen > 1 && tpl[0] == '{')
      score += slen > 0 ? 2 : 0;
    else if (tlen == slen && memcmp(tpl, path, slen) == 0)
      score += 3;
    else {
      size_t d = router_distance(tpl, tlen, path, slen);
      if (d <= 2 && d * 3 <= tlen)
        score += 2;
      else if (tlen == slen)
        score += 1;
      if (!*first_diff)
        *first_diff = i;
    }
    tpl += tlen;
    path += slen;
  }
  return score;
}

/* Segment i (1-based) of p: its start and length. */
static const char *router_segment(const char *p, size_t i, size_t *len) {
  for (size_t k = 0; k < i && p; k++) {
    p = strchr(p, '/');
    if (p)
      p++;
  }
  if (!p) {
    *len = 0;
    return "";
  }
  *len = strcspn(p, "/");
  return p;
}

bool router_nearest(const char *method, const char *path, char *nearest,
                    size_t nearest_len, char *reason, size_t reason_len) {
  nearest[0] = '\0';
  reason[0] = '\0';
  const char *p = router_strip_v1(path);
  const route *r = NULL;
  const char *params[API_MAX_PATH_PARAMS] = {0};
  size_t n_params = 0;
  char allow[128];
  /* As long as the path, like the dispatcher's: every parameter fits. */
  size_t buflen = strlen(p) + API_MAX_PATH_PARAMS;
  char *buf = malloc(buflen);
  if (!buf)
    return false;
  router_result m = router_match(method, p, &r, params, &n_params, buf, buflen,
                                 allow, sizeof allow);
  if (m == ROUTER_MATCH || m == ROUTER_PARAM_TOO_LONG) {
    char err[256] = "path: parameters too long";
    bool ok = m == ROUTER_MATCH &&
              router_check_params(r, params, n_params, err, sizeof err);
    free(buf);
    if (ok)
      return false;
    snprintf(nearest, nearest_len, "%s %s", r->method, r->path);
    snprintf(reason, reason_len, "%s", err);
    return true;
  }
  free(buf);
  if (m == ROUTER_NO_METHOD) {
    /* The path's GET row, else its first row. */
    const route *best = NULL;
    for (size_t i = 0; i < routes_count; i++) {
      if (!router_path_matches(routes[i].path, p, NULL, NULL, NULL, 0) ||
          strcmp(routes[i].method, "OPTIONS") == 0)
        continue;
      if (!best || strcmp(routes[i].method, "GET") == 0)
        best = &routes[i];
      if (strcmp(best->method, "GET") == 0)
        break;
    }
    if (best)
      snprintf(nearest, nearest_len, "%s %s", best->method, best->path);
    snprintf(reason, reason_len, "method: %.32s is not served; allowed: %s",
             method, allow);
    return true;
  }
  /* No path: the template most like it, preferring the same number of
   * segments, then the request's method. */
  size_t want = router_count_segments(p);
  bool control = strncmp(p, "/_emulator/", 11) == 0;
  const route *best = NULL;
  long best_score = -1;
  size_t best_diff = 0;
  for (size_t i = 0; i < routes_count; i++) {
    const route *c = &routes[i];
    if (strcmp(c->method, "OPTIONS") == 0 ||
        ((c->flags & ROUTE_CONTROL) != 0) != control)
      continue;
    size_t diff = 0;
    long score = router_similarity(c->path, p, &diff) * 4;
    size_t have = router_count_segments(c->path);
    if (have != want)
      score -= 6 * (long)(have > want ? have - want : want - have);
    if (strcmp(c->method, method) == 0 ||
        (strcmp(method, "HEAD") == 0 && strcmp(c->method, "GET") == 0))
      score += 1;
    if (score > best_score) {
      best = c;
      best_score = score;
      best_diff = diff;
    }
  }
  if (!best)
    return false;
  snprintf(nearest, nearest_len, "%s %s", best->method, best->path);
  size_t have = router_count_segments(best->path);
  if (have != want) {
    snprintf(reason, reason_len, "path: %zu segments; %s has %zu", want,
             best->path, have);
  } else if (best_diff == 0) {
    snprintf(reason, reason_len, "path: does not match %s (an empty segment)",
             best->path);
  } else {
    size_t tl = 0, sl = 0;
    const char *t = router_segment(best->path, best_diff, &tl);
    const char *s = router_segment(p, best_diff, &sl);
    snprintf(reason, reason_len, "path: segment %zu '%.*s' is not '%.*s'",
             best_diff, (int)(sl > 64 ? 64 : sl), s, (int)tl, t);
  }
  return true;
}
