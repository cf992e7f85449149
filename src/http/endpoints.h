/* The endpoints a client is told at start (and a docker transition's
 * command in its environment): addresses a client can use, not the bind
 * address, in the form the official SDKs read.
 *
 * The official Python SDK (las-sdk-python 5.0.0, las/credentials.py) takes
 * LAS_AUTH_ENDPOINT as `host[:port][/path]` without a scheme and always
 * requests `https://<auth endpoint>/token`; LAS_API_ENDPOINT is a whole URL
 * it puts the paths after. So over HTTPS the auth endpoint is that bare
 * form, and over plain HTTP (which that SDK cannot use) the whole URL of
 * the token endpoint, as curl and other clients take it. */
#ifndef LAS_HTTP_ENDPOINTS_H
#define LAS_HTTP_ENDPOINTS_H

#include <stdbool.h>

typedef struct http_endpoints {
  char base[600];      /* http(s)://host:port, or the public URL */
  char api[640];       /* LAS_API_ENDPOINT: base + "/v1" */
  char auth[640];      /* LAS_AUTH_ENDPOINT (see above) */
  char token_url[640]; /* the token endpoint as a whole URL */
  bool https;
} http_endpoints;

/* From a public base URL (http:// or https://, no trailing slash; NULL or
 * "" for none) or else from the listening address: a wildcard host
 * (0.0.0.0, ::) becomes the loopback address of its family (127.0.0.1,
 * [::1]), an IPv6 address gets brackets. tls: the listener serves HTTPS. */
void http_endpoints_make(const char *public_url, bool tls, const char *host,
                         unsigned port, http_endpoints *out);

#endif
