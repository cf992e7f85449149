#include "routing/dispatch.h"

#include "auth/auth.h"
#include "core/clock.h"
#include "core/log.h"
#include "routing/faults.h"
#include "routing/router.h"
#include "validation/schemas.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static dispatch_settings dispatch_cfg;

void dispatch_configure(const dispatch_settings *settings) {
  dispatch_cfg = *settings;
}

/* 127.0.0.0/8, ::1, and 127.0.0.0/8 mapped into IPv6. */
static bool dispatch_peer_is_loopback(const struct sockaddr *peer) {
  if (!peer)
    return false;
  if (peer->sa_family == AF_INET) {
    const struct sockaddr_in *in4 =
        (const struct sockaddr_in *)(const void *)peer;
    return (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
  }
  if (peer->sa_family == AF_INET6) {
    const struct in6_addr *a =
        &((const struct sockaddr_in6 *)(const void *)peer)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a) ||
           (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
  }
  return false;
}

/* Whether the credentials hold the admin token. The digests are compared,
 * in constant time, so neither the token's bytes nor its length show in the
 * time taken. */
static bool dispatch_admin_token_ok(const char *authorization) {
  const char *cred = NULL;
  size_t len = 0;
  if (!authorization || !auth_credentials(authorization, "Bearer", &cred, &len))
    return false;
  uint8_t want[SHA256_DIGEST_SIZE], got[SHA256_DIGEST_SIZE];
  struct sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, strlen(dispatch_cfg.admin_token),
                (const uint8_t *)dispatch_cfg.admin_token);
  sha256_digest(&ctx, sizeof want, want);
  sha256_init(&ctx);
  sha256_update(&ctx, len, (const uint8_t *)cred);
  sha256_digest(&ctx, sizeof got, got);
  return memeql_sec(want, got, sizeof want) != 0;
}

/* The control API's gate (ROUTE_CONTROL): an API token never opens it. */
/* Host names a loopback address: localhost (or a name under .localhost),
 * 127.0.0.0/8 or [::1], with any port. */
static bool dispatch_host_is_loopback(const char *host) {
  char name[256];
  size_t n;
  if (host[0] == '[') {
    const char *end = strchr(host, ']');
    if (!end || (end[1] != '\0' && end[1] != ':'))
      return false;
    n = (size_t)(end - host - 1);
    if (n >= sizeof name)
      return false;
    memcpy(name, host + 1, n);
    name[n] = '\0';
    struct in6_addr a6;
    return inet_pton(AF_INET6, name, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
  }
  n = strcspn(host, ":");
  if (n >= sizeof name)
    return false;
  memcpy(name, host, n);
  name[n] = '\0';
  struct in_addr a4;
  if (inet_pton(AF_INET, name, &a4) == 1)
    return (ntohl(a4.s_addr) >> 24) == 127;
  size_t suffix = strlen(".localhost");
  return strcasecmp(name, "localhost") == 0 ||
         (n > suffix && strcasecmp(name + n - suffix, ".localhost") == 0);
}

static bool dispatch_control_allowed(const dispatch_input *in,
                                     api_response *fail) {
  /* Browsers send Origin with every cross-site request (and with a page's
   * own POSTs); a test harness does not. Refusing it keeps web pages from
   * resetting or reading the emulator (CSRF). */
  if (in->origin) {
    *fail = api_errf(ERR_FORBIDDEN,
                     "the control API refuses requests from web pages (an "
                     "Origin header)");
    return false;
  }
  if (dispatch_cfg.admin_token && dispatch_cfg.admin_token[0]) {
    if (dispatch_admin_token_ok(in->authorization))
      return true;
    *fail = api_errf(ERR_FORBIDDEN,
                     "the control API needs Authorization: Bearer <admin "
                     "token> (--admin-token); API tokens are not accepted");
    return false;
  }
  if (dispatch_peer_is_loopback(in->peer)) {
    /* A page whose name was made to resolve to 127.0.0.1 (DNS rebinding)
     * reaches a loopback server with its own name in Host. */
    if (!in->host || dispatch_host_is_loopback(in->host))
      return true;
    *fail = api_errf(ERR_FORBIDDEN,
                     "the control API without an admin token (--admin-token) "
                     "answers only requests addressed to a loopback name "
                     "(Host: localhost, 127.0.0.1 or [::1])");
    return false;
  }
  *fail = api_errf(ERR_FORBIDDEN,
                   "the control API is served only to loopback clients "
                   "unless the server has an admin token (--admin-token)");
  return false;
}

static bool dispatch_is_write(const char *method) {
  return strcmp(method, "GET") != 0 && strcmp(method, "OPTIONS") != 0;
}

/* application/json, optionally with parameters such as charset. */
static bool dispatch_is_json(const char *content_type) {
  if (!content_type)
    return false;
  while (*content_type == ' ')
    content_type++;
  size_t n = strlen("application/json");
  return strncasecmp(content_type, "application/json", n) == 0 &&
         (content_type[n] == '\0' || content_type[n] == ';' ||
          content_type[n] == ' ');
}

/* Where a JSON value sits, for messages: "a.b[2].c" ("body" at the root). */
typedef struct dispatch_loc {
  const struct dispatch_loc *parent;
  const char *key; /* NULL: array element `index` */
  size_t index;
} dispatch_loc;

static void dispatch_loc_text(const dispatch_loc *loc, char *buf, size_t len,
                              size_t *used) {
  if (!loc)
    return;
  dispatch_loc_text(loc->parent, buf, len, used);
  int n = loc->key ? snprintf(buf + *used, len - *used, "%s%s",
                              loc->parent ? "." : "", loc->key)
                   : snprintf(buf + *used, len - *used, "[%zu]", loc->index);
  if (n > 0)
    *used = *used + (size_t)n < len ? *used + (size_t)n : len - 1;
}

/* Names loc as the validator does: with root NULL the root is "body" and
 * its fields are named without it; otherwise fields are named under root
 * ("documents[3].content"). */
static void dispatch_loc_name(const dispatch_loc *loc, const char *root,
                              char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  if (root) {
    const dispatch_loc *top = loc;
    while (top && top->parent)
      top = top->parent;
    int n = snprintf(buf, len, "%s%s", root, top && top->key ? "." : "");
    used = n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
  } else if (!loc || (!loc->parent && !loc->key)) {
    used = (size_t)snprintf(buf, len, "body");
  }
  dispatch_loc_text(loc, buf, len, &used);
}

/* Strings holding U+0000 are refused: handlers, SQLite lookups and
 * C string functions would otherwise see them cut short at the NUL. False,
 * with the location in *where, at the first one. */
static bool dispatch_no_nul(const json_t *v, const dispatch_loc *loc,
                            const char *root, char *where, size_t len) {
  if (json_is_string(v)) {
    if (memchr(json_string_value(v), '\0', json_string_length(v))) {
      dispatch_loc_name(loc, root, where, len);
      return false;
    }
  } else if (json_is_object(v)) {
    json_t *obj = (json_t *)v; /* iteration only reads */
    for (void *it = json_object_iter(obj); it;
         it = json_object_iter_next(obj, it)) {
      /* jansson refuses names with NUL while parsing. */
      dispatch_loc child = {loc, json_object_iter_key(it), 0};
      if (!dispatch_no_nul(json_object_iter_value(it), &child, root, where,
                           len))
        return false;
    }
  } else if (json_is_array(v)) {
    for (size_t i = 0; i < json_array_size(v); i++) {
      dispatch_loc child = {loc, NULL, i};
      if (!dispatch_no_nul(json_array_get(v, i), &child, root, where, len))
        return false;
    }
  }
  return true;
}

bool dispatch_check_json(const char *schema_name, json_t *body,
                         const char *root, char *err, size_t errlen) {
  char where[512];
  if (!dispatch_no_nul(body, NULL, root, where, sizeof where)) {
    snprintf(err, errlen, "%s: must not contain the NUL character (\\u0000)",
             where);
    return false;
  }
  const js_schema *schema = schema_name ? schemas_get(schema_name) : NULL;
  if (schema_name && !schema) {
    /* Never unchecked: a schema that does not compile refuses the body. */
    snprintf(err, errlen, "%s: cannot be checked (schema %s does not compile)",
             root ? root : "body", schema_name);
    return false;
  }
  char why[768];
  if (!schema || js_validate_normalize(schema, body, root ? root : "body", why,
                                       sizeof why))
    return true;
  /* The validator names the root only for a failure of the root itself;
   * under a root, fields are named below it. */
  size_t n = root ? strlen(root) : 0;
  if (!root || (strncmp(why, root, n) == 0 && why[n] == ':'))
    snprintf(err, errlen, "%s", why);
  else
    snprintf(err, errlen, "%s%s%s", root, why[0] == '[' ? "" : ".", why);
  return false;
}

/* Parses and validates the JSON body of routes that declare a schema.
 * - Every JSON text of RFC 8259 is parsed (JSON_DECODE_ANY): a scalar or an
 *   array is then refused by the schema, "body: must be object".
 * - Of duplicate names in an object the last one wins, as in the Python
 *   service.
 * - Strings holding U+0000 are kept whole (JSON_ALLOW_NUL) and refused
 *   naming their place; jansson cannot hold such names, refused by line
 *   and column.
 * - Numbers beyond int64 (integers) or a double (others) are refused by line
 *   and column. JSON_DECODE_INT_AS_REAL is not used: it reads every integer
 *   as a double, silently changing integers beyond 2^53.
 * - After validation, reals that the schema accepted as integers (30.0) are
 *   integers (30): handlers never see a real where the schema says
 *   integer. */
static bool dispatch_body(const route *r, const dispatch_input *in,
                          json_t **body, api_response *fail) {
  *body = NULL;
  if (r->flags & (ROUTE_FORM_BODY | ROUTE_RAW_BODY))
    return true;
  bool control_body =
      (r->flags & ROUTE_CONTROL) &&
      (strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0);
  if ((!r->request_schema && !control_body) ||
      strcmp(r->method, "OPTIONS") == 0) {
    /* Bodies sent where none is documented are ignored, as the service
     * does; but whatever is sent must at least be JSON when it says so. */
    return true;
  }
  if (!dispatch_is_json(in->content_type)) {
    *fail = api_errf(ERR_UNSUPPORTED_MEDIA_TYPE,
                     "Content-Type must be application/json");
    return false;
  }
  if (in->body_len == 0) {
    *fail = api_errf(ERR_BAD_REQUEST, "body: must be a JSON object");
    return false;
  }
  json_error_t jerr;
  *body = json_loadb(in->body, in->body_len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
                     &jerr);
  if (!*body) {
    if (json_error_code(&jerr) == json_error_numeric_overflow)
      *fail = api_errf(ERR_BAD_REQUEST,
                       "body: number out of range at line %d column %d "
                       "(integers must fit in 64 bits, other numbers in a "
                       "double)",
                       jerr.line, jerr.column);
    else if (json_error_code(&jerr) == json_error_null_byte_in_key)
      *fail = api_errf(ERR_BAD_REQUEST,
                       "body: property name at line %d column %d: must not "
                       "contain the NUL character (\\u0000)",
                       jerr.line, jerr.column);
    else
      *fail = api_errf(ERR_BAD_REQUEST,
                       "body: malformed JSON at line %d column %d: %s",
                       jerr.line, jerr.column, jerr.text);
    return false;
  }
  char err[1024];
  if (!dispatch_check_json(r->request_schema, *body, NULL, err, sizeof err)) {
    *fail = api_errf(ERR_BAD_REQUEST, "%s", err);
    json_decref(*body);
    *body = NULL;
    return false;
  }
  return true;
}

typedef struct {
  const route *r;
  api_request *req;
  api_response resp;
  uint64_t generation; /* of the data its principal was found in */
} dispatch_tx;

static store_status dispatch_tx_run(store *s, void *arg) {
  dispatch_tx *tx = arg;
  tx->req->db = s;
  api_response_free(&tx->resp);
  if (tx->req->authenticated && tx->generation != store_state_generation()) {
    /* A reset or restore replaced the data since the request's credentials
     * were checked: what it would write may belong to nothing now. */
    tx->resp = api_errf(ERR_CONFLICT,
                        "the emulator's data was reset or restored while this "
                        "request was in flight; nothing was changed (send it "
                        "again)");
    return STORE_NONE;
  }
  tx->resp = tx->r->handler(tx->req);
  if (tx->resp.status < 300 || tx->resp.commit_error)
    return STORE_ONE;
  /* A 503 from a handler means the store was busy: try again. */
  return tx->resp.status == err_status(ERR_UNAVAILABLE) ? STORE_BUSY
                                                        : STORE_NONE;
}

static api_response dispatch_run(const route *r, api_request *req,
                                 uint64_t generation) {
  /* Control handlers open their own transactions (engine jobs). */
  if (!req->db || (r->flags & ROUTE_CONTROL))
    return r->handler(req);
  if (!dispatch_is_write(r->method)) {
    store_status st = store_read_begin(req->db);
    if (st != STORE_ONE)
      return api_store_err(st == STORE_NONE ? STORE_ERROR : st);
    api_response resp = r->handler(req);
    store_read_end(req->db);
    return resp;
  }
  if (r->prepare)
    r->prepare(req);
  dispatch_tx tx = {r, req, {0}, generation};
  store_status st = store_write_tx(dispatch_tx_run, &tx);
  api_prepared_free(&req->prepared);
  /* Committed, or rolled back because the handler answered an error: the
   * handler's answer stands. Otherwise the store failed. */
  if (st == STORE_ONE || (st == STORE_NONE && tx.resp.status >= 400))
    return tx.resp;
  api_response_free(&tx.resp);
  return api_store_err(st);
}

/* Test mode: a response that does not match its schema is a server bug. */
static void dispatch_check_response(const route *r, api_response *resp) {
  if (!r->response_schema || resp->status >= 300)
    return;
  const js_schema *schema = schemas_get(r->response_schema);
  char err[512];
  if (!schema) {
    snprintf(err, sizeof err, "no schema %s", r->response_schema);
  } else {
    if (resp->raw) {
      json_error_t jerr;
      resp->body = json_loadb(resp->raw, resp->raw_len, 0, &jerr);
      free(resp->raw);
      resp->raw = NULL;
    }
    if (!resp->body)
      resp->body = json_object();
    if (js_validate(schema, resp->body, "response", err, sizeof err))
      return;
  }
  log_msg(LOG_ERROR, "response of %s %s does not match %s: %s", r->method,
          r->path, r->response_schema, err);
  api_response_free(resp);
  *resp = api_errf(ERR_INTERNAL, "response does not match schema %s: %s",
                   r->response_schema, err);
}

static void dispatch_unmatched(const dispatch_input *in, dispatch_info *info) {
  if (!info)
    return;
  info->unmatched =
      router_nearest(in->method, in->path, info->nearest, sizeof info->nearest,
                     info->reason, sizeof info->reason);
}

/* The throttle and fault rules, once the organization is known. True when
 * the fault answers instead of the handler (*resp set). */
static bool dispatch_fault(const dispatch_input *in, const api_request *req,
                           dispatch_info *info, api_response *resp) {
  if (!info || (req->route->flags & ROUTE_CONTROL))
    return false;
  if (!faults_decide(in->method, in->path,
                     req->authenticated ? req->principal.org_id : NULL,
                     clock_mono_us(), &info->fault))
    return false;
  info->faulted = true;
  if (!info->fault.status && !info->fault.drop)
    return false; /* latency only: the handler answers, later */
  if (info->fault.status) {
    *resp = api_ok_raw(info->fault.body, info->fault.body_len);
    resp->status = info->fault.status;
    info->fault.body = NULL;
  } else {
    *resp = api_no_content();
  }
  return true;
}

/* param_buf holds the path parameters: it is as long as the path, so every
 * parameter fits and even an absurdly long id gets its pattern message. */
static api_response dispatch_routed(const dispatch_input *in, char *param_buf,
                                    size_t param_len, dispatch_info *info) {
  const route *r = NULL;
  const char *params[API_MAX_PATH_PARAMS] = {0};
  size_t n_params = 0;
  char allow[128];
  router_result m = router_match(in->method, in->path, &r, params, &n_params,
                                 param_buf, param_len, allow, sizeof allow);
  if (m != ROUTER_MATCH)
    dispatch_unmatched(in, info);
  if (m == ROUTER_NO_PATH)
    return api_err(ERR_NOT_FOUND);
  if (m == ROUTER_PARAM_TOO_LONG)
    return api_errf(ERR_BAD_REQUEST, "path: parameters too long");
  if (m == ROUTER_NO_METHOD) {
    api_response resp =
        api_errf(ERR_METHOD_NOT_ALLOWED, "%s is not allowed here; allowed: %s",
                 in->method, allow);
    snprintf(resp.allow, sizeof resp.allow, "%s", allow);
    return resp;
  }

  if (info) {
    info->route_method = r->method;
    info->route_path = r->path;
    info->control = (r->flags & ROUTE_CONTROL) != 0;
  }
  api_request req = {0};
  req.route = r;
  req.method = in->method;
  req.path = in->path;
  memcpy(req.path_params, params, sizeof params);
  req.n_path_params = n_params;
  req.query = in->query;
  req.n_query = in->n_query;
  req.raw_body = in->body;
  req.raw_body_len = in->body_len;
  req.content_type = in->content_type;
  req.authorization = in->authorization;
  req.peer = in->peer;
  req.now_us = clock_now_us();

  if (strcmp(r->method, "OPTIONS") == 0) {
    /* The HTTP layer lists these in Access-Control-Allow-Methods. */
    api_response resp = r->handler(&req);
    snprintf(resp.allow, sizeof resp.allow, "%s", allow);
    return resp;
  }

  req.db = store_thread();
  if (!req.db)
    return api_err(ERR_UNAVAILABLE);
  uint64_t generation = store_state_generation();

  if (r->flags & ROUTE_CONTROL) {
    api_response denied;
    if (!dispatch_control_allowed(in, &denied))
      return denied;
  } else if (!(r->flags & ROUTE_PUBLIC)) {
    auth_result a =
        auth_check(req.db, in->authorization, in->api_key, r->scope,
                   dispatch_cfg.no_auth, clock_real_us(), &req.principal);
    if (a == AUTH_STORE_ERROR)
      return api_err(ERR_UNAVAILABLE);
    if (a != AUTH_OK)
      return api_err(ERR_FORBIDDEN);
    req.authenticated = true;
    if (info)
      snprintf(info->organization, sizeof info->organization, "%s",
               req.principal.org_id);
  }

  api_response faulted;
  if (dispatch_fault(in, &req, info, &faulted))
    return faulted;

  char err[256];
  if (!router_check_params(r, params, n_params, err, sizeof err)) {
    dispatch_unmatched(in, info);
    return api_errf(ERR_BAD_REQUEST, "%s", err);
  }

  api_response fail;
  json_t *body = NULL;
  if (!dispatch_body(r, in, &body, &fail))
    return fail;
  req.body = body;

  api_response resp = dispatch_run(r, &req, generation);
  json_decref(body);
  if (dispatch_cfg.validate_responses)
    dispatch_check_response(r, &resp);
  return resp;
}

api_response dispatch_request_info(const dispatch_input *in,
                                   dispatch_info *info) {
  if (info)
    memset(info, 0, sizeof *info);
  size_t len = strlen(in->path) + API_MAX_PATH_PARAMS;
  char *param_buf = malloc(len);
  if (!param_buf)
    return api_err(ERR_UNAVAILABLE);
  api_response resp = dispatch_routed(in, param_buf, len, info);
  free(param_buf);
  return resp;
}

api_response dispatch_request(const dispatch_input *in) {
  return dispatch_request_info(in, NULL);
}
