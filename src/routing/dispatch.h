/* From a raw request to a response: route, authenticate, check the path and
 * body, run the handler (writes in one transaction), check the response in
 * test mode. Independent of libmicrohttpd. */
#ifndef LAS_ROUTING_DISPATCH_H
#define LAS_ROUTING_DISPATCH_H

#include "routing/api.h"

#include <stdbool.h>

struct sockaddr;

typedef struct dispatch_settings {
  bool no_auth;
  bool validate_responses;
  /* The control API's bearer token (must outlive the server); NULL or ""
   * serves that API to loopback clients only. */
  const char *admin_token;
} dispatch_settings;

void dispatch_configure(const dispatch_settings *settings);

typedef struct dispatch_input {
  const char *method;
  const char *path;
  const api_param *query;
  size_t n_query;
  const char *content_type;  /* NULL when absent */
  const char *authorization; /* NULL when absent */
  const char *api_key;       /* NULL when absent */
  const char *body;
  size_t body_len;
  const struct sockaddr *peer; /* the client's address; NULL when unknown */
} dispatch_input;

/* The checks a parsed JSON request body passes before its handler runs:
 * no string holding U+0000, then the request schema `schema_name` (none
 * when NULL), reals the schema reads as integers made integers (30.0 ->
 * 30). False with a message naming the place and the rule in err. With
 * root NULL the body's fields are named bare ("name: must be string"), as
 * in API answers; otherwise under root ("datasets[2].name: …"). */
bool dispatch_check_json(const char *schema_name, json_t *body,
                         const char *root, char *err, size_t errlen);

/* Always returns a complete response (body owned by the caller). */
api_response dispatch_request(const dispatch_input *in);

#endif
