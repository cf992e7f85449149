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

/* Always returns a complete response (body owned by the caller). */
api_response dispatch_request(const dispatch_input *in);

#endif
