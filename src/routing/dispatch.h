/* From a raw request to a response: route, authenticate, check the path and
 * body, run the handler (writes in one transaction), check the response in
 * test mode. Independent of libmicrohttpd. */
#ifndef LAS_ROUTING_DISPATCH_H
#define LAS_ROUTING_DISPATCH_H

#include "routing/api.h"
#include "routing/faults.h"

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
  /* Origin and Host, for the control API's gate (NULL when absent). */
  const char *origin;
  const char *host;
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

/* What the HTTP layer needs besides the response: for the journal, and the
 * fault to carry out. */
typedef struct dispatch_info {
  const char *route_method; /* the matched row; NULL when none */
  const char *route_path;
  bool control;          /* a control API route (never journaled or faulted) */
  char organization[64]; /* as authenticated; "" when not */
  /* The request matched no route, or its path ids are malformed: the
   * nearest route and why (router_nearest). */
  bool unmatched;
  char nearest[160];
  char reason[256];
  bool faulted; /* fault applies (faults_decide); fault.body is moved into
                   the response when it answers */
  fault_action fault;
} dispatch_info;

/* dispatch_request that also applies fault rules and the throttle (after
 * authentication; see routing/faults.h) and fills *info. When
 * info->fault.drop is set the response is not to be sent; with
 * info->fault.latency_ms it is to be sent that much later. */
api_response dispatch_request_info(const dispatch_input *in,
                                   dispatch_info *info);

#endif
