/* The HTTP layer: libmicrohttpd in its internal thread pool with epoll. It
 * reads requests, hands them to the dispatcher and writes the responses;
 * nothing else in the project sees libmicrohttpd. */
#ifndef LAS_HTTP_SERVER_H
#define LAS_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct http_settings {
  const char *host;
  unsigned port; /* 0: any free port */
  unsigned threads;
  size_t max_body_bytes;
} http_settings;

typedef struct http_server http_server;

/* Starts listening; NULL with a reason in err on failure. */
http_server *http_start(const http_settings *settings, char *err,
                        size_t errlen);
/* The port actually bound. */
unsigned http_port(const http_server *server);
/* Stops accepting, lets in-flight requests finish, joins the threads. */
void http_stop(http_server *server);

#endif
