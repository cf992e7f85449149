/* The contract between the HTTP layer and the resource handlers. A handler
 * gets a parsed, validated request and returns a status and a JSON body; it
 * never sees libmicrohttpd, so it can be called from a unit test directly. */
#ifndef LAS_ROUTING_API_H
#define LAS_ROUTING_API_H

#include "core/errors.h"
#include "storage/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define API_MAX_PATH_PARAMS 3

typedef struct api_param {
  const char *key;
  const char *value;
} api_param;

/* Who is calling: resolved from the access token (or --no-auth). */
typedef struct api_principal {
  char org_id[64];
  char app_client_id[64];
  char client_id[256];
  char id[64]; /* createdBy/updatedBy: the app client or the user */
} api_principal;

struct route;
struct sockaddr;

/* What a route's prepare step (router.h) left for its handler; the
 * dispatcher frees it once the handler has answered. All fields are
 * optional. */
typedef struct api_prepared {
  json_t *obj;  /* an object built ahead (owned) */
  char *text;   /* obj as stored JSON text (owned) */
  char *answer; /* the answer's JSON text, answer_len bytes (owned) */
  size_t answer_len;
  uint64_t versions[2]; /* store_obj_version of what obj was built from */
  unsigned char *bytes; /* decoded content (owned) */
  size_t bytes_len;
} api_prepared;

typedef struct api_request {
  const struct route *route;
  const char *method;
  const char *path;
  const char *path_params[API_MAX_PATH_PARAMS];
  size_t n_path_params;
  const api_param *query; /* every query argument, repeated keys included */
  size_t n_query;
  const api_param *headers; /* only what handlers need (see http layer) */
  size_t n_headers;
  json_t *body; /* parsed JSON body (borrowed), NULL when none */
  const char *raw_body;
  size_t raw_body_len;
  const char *content_type;
  const char *authorization;
  /* The client's address (IPv4 or IPv6), NULL when unknown (no socket). */
  const struct sockaddr *peer;
  api_principal principal;
  bool authenticated;
  store *db;
  int64_t now_us; /* request time from the clock module */
  api_prepared prepared;
} api_request;

typedef struct api_response {
  unsigned status;
  json_t *body; /* owned; NULL means {} */
  /* Owned, already serialised JSON; when set it is sent instead of body
   * (lists built from stored text without parsing it). */
  char *raw;
  size_t raw_len;
  char allow[128]; /* methods of the path: Allow on 405, CORS on OPTIONS */
  const char *content_type; /* NULL: application/json */
  /* An error answer whose writes still commit (a canned prediction failure
   * uses up its queue entry); otherwise an error rolls back. Never retried,
   * a 503 included. */
  bool commit_error;
} api_response;

typedef api_response (*api_handler)(api_request *req);
/* A route's prepare step: see `prepare` in router.h. */
typedef void (*api_prepare)(api_request *req);

/* Releases what a prepare step left (and zeroes it). */
void api_prepared_free(api_prepared *p);

/* 200 with an already serialised JSON text (takes ownership). */
api_response api_ok_raw(char *text, size_t len);
/* Releases what a response owns. */
void api_response_free(api_response *resp);
/* 200 with body (takes the reference). */
api_response api_ok(json_t *body);
/* 204 No Content: the HTTP layer sends no body (and no Content-Type). */
api_response api_no_content(void);
/* An error from the registry with its default message. */
api_response api_err(err_code code);
/* An error from the registry with a specific message. */
api_response api_errf(err_code code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Maps a failed store status to 404 (NONE), 503 (BUSY) or 500. */
api_response api_store_err(store_status st);

/* The value of the first query argument `key`, or NULL. */
const char *api_query(const api_request *req, const char *key);
/* All values of a (repeatable) query argument as a NEW JSON array, or NULL
 * when the argument is absent. */
json_t *api_query_all(const api_request *req, const char *key);

/* Query arguments whose values come from a fixed list (`allowed`,
 * NULL-terminated). Both answer false with *fail a 400 naming the argument
 * and the list ("status: must be one of [\"a\", \"b\"]") when a value is
 * not in it.
 * api_query_enum: the first value of `key` in *out (NULL when absent).
 * api_query_enum_all: every value of repeatable `key` as a NEW array in
 * *out (NULL when absent). */
bool api_query_enum(const api_request *req, const char *key,
                    const char *const *allowed, const char **out,
                    api_response *fail);
bool api_query_enum_all(const api_request *req, const char *key,
                        const char *const *allowed, json_t **out,
                        api_response *fail);

/* For bodies checked by their handler (the control API's): the body's one
 * field `name` (borrowed). NULL with *fail a 400 when the body is not an
 * object, has another field ("x: is not a field of this request (only
 * name)") or lacks it ("name: is required"). */
const json_t *api_body_only_field(const api_request *req, const char *name,
                                  api_response *fail);

/* Current time as an ISO 8601 JSON string (NEW reference). */
json_t *api_now_json(const api_request *req);

#endif
