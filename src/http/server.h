/* The HTTP layer: libmicrohttpd in its internal thread pool with epoll. It
 * reads requests, checks the limits of the HTTP layer, hands requests to the
 * dispatcher and writes the responses; nothing else in the project sees
 * libmicrohttpd. Slow and idle clients are kept in check by http/guard.h. */
#ifndef LAS_HTTP_SERVER_H
#define LAS_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct http_settings {
  const char *host;
  unsigned port; /* 0: any free port */
  unsigned threads;
  /* Limits; each answers at once with a JSON {"message"} naming it. */
  size_t max_body_bytes;     /* 413 */
  size_t max_uri_bytes;      /* request target, path and query: 414 */
  unsigned max_query_params; /* 400 */
  size_t max_header_bytes;   /* names + values + 4 per field: 431 */
  unsigned max_headers;      /* header fields: 431 */
  /* Deadlines and connections (see http/guard.h). */
  unsigned header_timeout_ms;
  unsigned body_timeout_ms;
  unsigned idle_timeout_s; /* an idle kept-alive connection is closed */
  unsigned max_connections;
  unsigned max_connections_per_address; /* 0: no limit */
  /* HTTPS: a certificate chain and its key, PEM text checked by
   * http/tls.h (they must outlive the server). NULL: plain HTTP. */
  const char *tls_cert_pem;
  const char *tls_key_pem;
} http_settings;

typedef struct http_server http_server;

/* Starts listening; NULL with a reason in err on failure. Raises the soft
 * open-files limit towards the hard one when max_connections needs it, and
 * lowers max_connections (with a warning) when even that is not enough. */
http_server *http_start(const http_settings *settings, char *err,
                        size_t errlen);
/* The port actually bound. */
unsigned http_port(const http_server *server);
/* Stops accepting, lets in-flight requests finish, joins the threads. */
void http_stop(http_server *server);

#endif
