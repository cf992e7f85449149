/* The route table and path matching. Every documented operation is one row
 * of `routes` (src/routing/routes.c): method, path template, handler,
 * request/response schema and the scope a token needs. */
#ifndef LAS_ROUTING_ROUTER_H
#define LAS_ROUTING_ROUTER_H

#include "routing/api.h"

#include <stddef.h>

enum {
  ROUTE_PUBLIC = 1u << 0,    /* no credentials needed */
  ROUTE_FORM_BODY = 1u << 1, /* body is a form (token endpoint), not JSON */
  /* The emulator's control API: never with an API token. With an admin
   * token configured it needs that token, otherwise it is served only to
   * loopback clients. A JSON body (no schema: the handler checks it), and
   * no enclosing transaction (the handler runs engine jobs). */
  ROUTE_CONTROL = 1u << 2,
  /* The handler reads req->raw_body itself, or no body (a control route's
   * file upload, or one that takes nothing). */
  ROUTE_RAW_BODY = 1u << 3
};

typedef struct route {
  const char *method;
  const char *path; /* template, e.g. "/models/{modelId}" */
  api_handler handler;
  const char *request_schema;  /* schema name or NULL */
  const char *response_schema; /* schema name or NULL */
  const char *scope;           /* e.g. "models:read"; NULL for public routes */
  unsigned flags;
  /* Optional, writing routes only: work done before the write transaction,
   * so that it is not done holding the write lock, which every write waits
   * for. It runs after authentication and validation, with req->db the
   * thread's read connection (outside any transaction: it opens a read
   * snapshot if it reads), and leaves its results in req->prepared. It is
   * best effort: it never answers, and the handler, which runs in the
   * transaction, works without it and re-checks there whatever the
   * prepared results rely on (the seed loader calls handlers without it). */
  api_prepare prepare;
} route;

extern const route routes[];
extern const size_t routes_count;

typedef enum {
  ROUTER_MATCH,
  ROUTER_NO_PATH,
  ROUTER_NO_METHOD,
  ROUTER_PARAM_TOO_LONG /* matched, but the parameters exceed buf */
} router_result;

/* Matches path (with or without the /v1 prefix) and method; HEAD matches
 * the path's GET row. On a match, the path parameters are copied into buf
 * and pointed to from params. On ROUTER_NO_METHOD, and on a match of an
 * OPTIONS row, `allow` receives the methods the path serves as
 * router_methods writes them (otherwise it is left empty). */
router_result router_match(const char *method, const char *path,
                           const route **out,
                           const char *params[API_MAX_PATH_PARAMS],
                           size_t *n_params, char *buf, size_t buflen,
                           char *allow, size_t allowlen);

/* The methods served on path, e.g. "DELETE, GET, HEAD, OPTIONS, PATCH":
 * the route rows' methods, plus HEAD where GET is served, in alphabetical
 * order. False (and "") when no row matches the path. */
bool router_methods(const char *path, char *out, size_t outlen);

/* Checks path parameters against their ID patterns. Returns false with a
 * message like "modelId: must match pattern ^las:model:[a-f0-9]{32}$". */
bool router_check_params(const route *r, const char *const *params,
                         size_t n_params, char *err, size_t errlen);

/* For a request that matched no route (or whose path ids are malformed):
 * the nearest documented route as "METHOD /template" into `nearest`, and
 * why the request did not match it into `reason`, e.g.
 * "method: POST is not served; allowed: GET, HEAD, OPTIONS",
 * "path: segment 1 'modles' is not 'models'",
 * "path: 3 segments; /models/{modelId} has 2",
 * "modelId: must match pattern ^las:model:[a-f0-9]{32}$".
 * False (both "") when the request matches a route with valid ids. The
 * /_emulator/ routes are candidates only for paths under /_emulator/. */
bool router_nearest(const char *method, const char *path, char *nearest,
                    size_t nearest_len, char *reason, size_t reason_len);

#endif
