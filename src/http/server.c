#include "http/server.h"

#include "core/clock.h"
#include "core/log.h"
#include "routing/dispatch.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct http_server {
  struct MHD_Daemon *daemon;
  unsigned port;
  size_t max_body_bytes;
};

/* More query arguments than any documented list takes, with repeated
 * filters; a request with more is refused rather than cut short. */
enum { HTTP_MAX_QUERY = 1024 };

/* One request in flight; freed by http_completed. */
typedef struct http_req {
  int64_t start_us;
  char *body;
  size_t body_len;
  size_t body_cap;
  bool too_large;
  bool answered_early;
  unsigned status;
  char method[16];
  char path[256];
} http_req;

static const char http_cors_headers[] =
    "Authorization, Content-Type, x-api-key, X-Amz-Date, X-Amz-Security-Token";

static void http_add_common_headers(struct MHD_Response *r) {
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
}

static enum MHD_Result http_send(struct MHD_Connection *c, http_req *hr,
                                 const char *method, api_response *resp) {
  char *text = resp->raw;
  size_t len = resp->raw_len;
  resp->raw = NULL;
  if (!text && resp->body) {
    text = json_dumps(resp->body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    len = text ? strlen(text) : 0;
  }
  api_response_free(resp);
  if (!text) {
    text = strdup("{}");
    len = 2;
  }
  if (!text)
    return MHD_NO;
  struct MHD_Response *r =
      MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
  if (!r) {
    free(text);
    return MHD_NO;
  }
  http_add_common_headers(r);
  if (resp->allow[0])
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
  if (strcmp(method, "OPTIONS") == 0) {
    MHD_add_response_header(r, "Access-Control-Allow-Methods",
                            "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT");
    MHD_add_response_header(r, "Access-Control-Allow-Headers",
                            http_cors_headers);
  }
  hr->status = resp->status;
  enum MHD_Result ret = MHD_queue_response(c, resp->status, r);
  MHD_destroy_response(r);
  return ret;
}

typedef struct {
  api_param *items;
  size_t n;
  size_t cap;
  bool too_many;
} http_query;

static enum MHD_Result http_collect_arg(void *cls, enum MHD_ValueKind kind,
                                        const char *key, const char *value) {
  (void)kind;
  http_query *q = cls;
  if (q->n == HTTP_MAX_QUERY) {
    q->too_many = true;
    return MHD_NO;
  }
  if (q->n == q->cap) {
    size_t cap = q->cap ? q->cap * 2 : 16;
    api_param *grown = realloc(q->items, cap * sizeof *grown);
    if (!grown) {
      q->too_many = true;
      return MHD_NO;
    }
    q->items = grown;
    q->cap = cap;
  }
  q->items[q->n].key = key;
  q->items[q->n].value = value ? value : "";
  q->n++;
  return MHD_YES;
}

static bool http_append(http_req *hr, const char *data, size_t len,
                        size_t limit) {
  if (hr->too_large || hr->body_len + len > limit) {
    hr->too_large = true;
    return true;
  }
  if (hr->body_len + len + 1 > hr->body_cap) {
    size_t cap = hr->body_cap ? hr->body_cap : 1024;
    while (cap < hr->body_len + len + 1)
      cap *= 2;
    char *grown = realloc(hr->body, cap);
    if (!grown)
      return false;
    hr->body = grown;
    hr->body_cap = cap;
  }
  memcpy(hr->body + hr->body_len, data, len);
  hr->body_len += len;
  hr->body[hr->body_len] = '\0';
  return true;
}

static enum MHD_Result http_on_request(void *cls, struct MHD_Connection *c,
                                       const char *url, const char *method,
                                       const char *version,
                                       const char *upload_data,
                                       size_t *upload_data_size,
                                       void **con_cls) {
  (void)version;
  http_server *srv = cls;
  http_req *hr = *con_cls;
  if (!hr) {
    hr = calloc(1, sizeof *hr);
    if (!hr)
      return MHD_NO;
    hr->start_us = clock_mono_us();
    snprintf(hr->method, sizeof hr->method, "%s", method);
    snprintf(hr->path, sizeof hr->path, "%s", url);
    *con_cls = hr;
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > srv->max_body_bytes) {
      /* Refuse before reading a byte; the connection is closed after. */
      api_response resp = api_errf(ERR_PAYLOAD_TOO_LARGE,
                                   "body: larger than the limit of %zu bytes",
                                   srv->max_body_bytes);
      hr->answered_early = true;
      return http_send(c, hr, method, &resp);
    }
    /* Answering on a later call keeps the connection alive. */
    return MHD_YES;
  }
  if (hr->answered_early) {
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    if (!http_append(hr, upload_data, *upload_data_size, srv->max_body_bytes))
      return MHD_NO;
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (hr->too_large) {
    api_response resp = api_errf(ERR_PAYLOAD_TOO_LARGE,
                                 "body: larger than the limit of %zu bytes",
                                 srv->max_body_bytes);
    return http_send(c, hr, method, &resp);
  }

  http_query q = {0};
  MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, http_collect_arg, &q);
  if (q.too_many) {
    free(q.items);
    api_response resp = api_errf(ERR_BAD_REQUEST,
                                 "query: more than %d parameters",
                                 HTTP_MAX_QUERY);
    return http_send(c, hr, method, &resp);
  }
  dispatch_input in = {
      .method = method,
      .path = url,
      .query = q.items,
      .n_query = q.n,
      .content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_CONTENT_TYPE),
      .authorization = MHD_lookup_connection_value(
          c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
      .api_key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-api-key"),
      .body = hr->body ? hr->body : "",
      .body_len = hr->body_len,
  };
  api_response resp = dispatch_request(&in);
  free(q.items);
  return http_send(c, hr, method, &resp);
}

static void http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                           enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)toe;
  http_req *hr = *con_cls;
  if (!hr)
    return;
  (void)c;
  if (hr->status)
    log_msg(LOG_INFO, "%s %s %u %.3fms", hr->method, hr->path, hr->status,
            (double)(clock_mono_us() - hr->start_us) / 1000.0);
  free(hr->body);
  free(hr);
  *con_cls = NULL;
}

http_server *http_start(const http_settings *settings, char *err,
                        size_t errlen) {
  http_server *srv = calloc(1, sizeof *srv);
  if (!srv) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  srv->max_body_bytes = settings->max_body_bytes;

  struct sockaddr_storage addr;
  memset(&addr, 0, sizeof addr);
  struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_PASSIVE,
                           .ai_socktype = SOCK_STREAM};
  struct addrinfo *res = NULL;
  if (getaddrinfo(settings->host, NULL, &hints, &res) != 0 || !res) {
    snprintf(err, errlen, "--host %s is not a numeric IPv4/IPv6 address",
             settings->host);
    free(srv);
    return NULL;
  }
  memcpy(&addr, res->ai_addr, res->ai_addrlen);
  bool v6 = res->ai_family == AF_INET6;
  freeaddrinfo(res);
  if (v6)
    ((struct sockaddr_in6 *)&addr)->sin6_port = htons((uint16_t)settings->port);
  else
    ((struct sockaddr_in *)&addr)->sin_port = htons((uint16_t)settings->port);

  unsigned threads = settings->threads;
  if (threads == 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    threads = n > 0 ? (unsigned)n : 1;
  }
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
                   (v6 ? MHD_USE_IPv6 : 0);
  flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES
               ? MHD_USE_EPOLL
               : MHD_USE_POLL;
  srv->daemon = MHD_start_daemon(
      flags, (uint16_t)settings->port, NULL, NULL, http_on_request, srv,
      MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
      MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT,
      (unsigned)60, MHD_OPTION_NOTIFY_COMPLETED, http_completed, srv,
      MHD_OPTION_END);
  if (!srv->daemon) {
    snprintf(err, errlen, "cannot listen on %s:%u (in use or not allowed)",
             settings->host, settings->port);
    free(srv);
    return NULL;
  }
  const union MHD_DaemonInfo *info =
      MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
  srv->port = info ? info->port : settings->port;
  return srv;
}

unsigned http_port(const http_server *server) { return server->port; }

void http_stop(http_server *server) {
  if (!server)
    return;
  MHD_stop_daemon(server->daemon);
  free(server);
}
