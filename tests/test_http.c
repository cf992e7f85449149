/* Tests of the HTTP layer over real sockets: HEAD and the method lists, the
 * limits and their JSON answers, NUL refusals, header whitespace, and the
 * connection guard (slow, stalled and idle clients, per-address limit).
 * Servers run with short deadlines so the suite stays fast. */
#include "it_client.h"

#include "ck_run.h"
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- raw exchanges ---- */

typedef struct raw_resp {
  int status;      /* 0: no response */
  char head[4096]; /* status line and headers */
  char *body;
  size_t body_len;
  json_t *json;
  bool closed;           /* the server closed the connection */
  unsigned status_lines; /* "HTTP/1.x NNN " anywhere in what came */
} raw_resp;

static void raw_free(raw_resp *r) {
  free(r->body);
  json_decref(r->json);
  memset(r, 0, sizeof *r);
}

static bool send_all(int fd, const char *data, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    data += n;
    len -= (size_t)n;
  }
  return true;
}

/* Reads until the server closes or timeout_ms pass; parses what came. */
static void raw_read(int fd, int timeout_ms, raw_resp *r) {
  size_t cap = 65536, len = 0;
  char *buf = malloc(cap);
  ck_assert_ptr_nonnull(buf);
  int64_t end = it_now_ms() + timeout_ms;
  for (;;) {
    int64_t left = end - it_now_ms();
    if (left <= 0)
      break;
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, (int)left) <= 0)
      break;
    if (len + 4096 > cap) {
      cap *= 2;
      buf = realloc(buf, cap);
      ck_assert_ptr_nonnull(buf);
    }
    ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      r->closed = true;
      break;
    }
    len += (size_t)n;
  }
  buf[len] = '\0';
  for (size_t i = 0; i + 13 <= len; i++)
    r->status_lines +=
        memcmp(buf + i, "HTTP/1.", 7) == 0 &&
        (buf[i + 7] == '0' || buf[i + 7] == '1') && buf[i + 8] == ' ' &&
        isdigit((unsigned char)buf[i + 9]) &&
        isdigit((unsigned char)buf[i + 10]) &&
        isdigit((unsigned char)buf[i + 11]) && buf[i + 12] == ' ';
  char *sep = strstr(buf, "\r\n\r\n");
  if (sep && strncmp(buf, "HTTP/1.1 ", 9) == 0) {
    r->status = atoi(buf + 9);
    size_t hl = (size_t)(sep - buf);
    snprintf(r->head, sizeof r->head, "%.*s", (int)hl, buf);
    r->body_len = len - hl - 4;
    r->body = malloc(r->body_len + 1);
    memcpy(r->body, sep + 4, r->body_len + 1);
    r->json = json_loadb(r->body, r->body_len, 0, NULL);
  }
  free(buf);
}

/* One request on a new connection (it should say Connection: close);
 * shut_wr: the client then closes its sending side, as `printf | nc` does. */
static raw_resp raw_exchange_shut(const it_server *s, const char *req,
                                  size_t len, int timeout_ms, bool shut_wr) {
  raw_resp r;
  memset(&r, 0, sizeof r);
  int fd = it_connect(s);
  ck_assert_int_ge(fd, 0);
  if (send_all(fd, req, len)) {
    if (shut_wr)
      shutdown(fd, SHUT_WR);
    raw_read(fd, timeout_ms, &r);
  }
  close(fd);
  return r;
}

static raw_resp raw_exchange(const it_server *s, const char *req, size_t len,
                             int timeout_ms) {
  return raw_exchange_shut(s, req, len, timeout_ms, false);
}

static raw_resp raw_get(const it_server *s, const char *target,
                        const char *extra_headers, int timeout_ms) {
  size_t len = strlen(target) + strlen(extra_headers) + 128;
  char *req = malloc(len);
  int n = snprintf(req, len,
                   "GET %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n",
                   target, extra_headers);
  raw_resp r = raw_exchange(s, req, (size_t)n, timeout_ms);
  free(req);
  return r;
}

/* The value of a response header (case-insensitive name), "" if absent. */
static const char *raw_header(const raw_resp *r, const char *name, char *out,
                              size_t outlen) {
  out[0] = '\0';
  size_t nl = strlen(name);
  for (const char *p = strstr(r->head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
    if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
      const char *v = p + 3 + nl;
      while (*v == ' ')
        v++;
      size_t vl = strcspn(v, "\r");
      snprintf(out, outlen, "%.*s", (int)vl, v);
      break;
    }
  }
  return out;
}

static const char *raw_message(const raw_resp *r) {
  const char *m = r->json ? it_str(r->json, "message") : NULL;
  return m ? m : "";
}

#define EXPECT_REFUSAL(r, code, needle)                                        \
  do {                                                                         \
    char ct_[128];                                                             \
    ck_assert_msg((r).status == (code), "expected %d, got %d: %s", (code),     \
                  (r).status, (r).body ? (r).body : "(nothing)");              \
    ck_assert_str_eq(raw_header(&(r), "Content-Type", ct_, sizeof ct_),        \
                     "application/json");                                      \
    ck_assert_msg(strstr(raw_message(&(r)), (needle)),                         \
                  "message '%s' lacks %s", raw_message(&(r)), (needle));       \
  } while (0)

static void start(it_server *srv, const char *const *flags) {
  ck_assert(it_server_start(srv, flags));
}

static void stop(it_server *srv) {
  ck_assert_int_eq(it_server_stop(srv), 0);
  it_server_cleanup(srv);
}

static void auth_headers(const it_session *s, char *out, size_t len) {
  snprintf(out, len, "Authorization: Bearer %s\r\nx-api-key: %s\r\n", s->token,
           s->api_key);
}

/* ---- HEAD and method lists ---- */

START_TEST(test_head_answers_as_get_without_body) {
  it_server srv;
  start(&srv, NULL);
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char auth[1024], cl[64];
  auth_headers(&s, auth, sizeof auth);
  const char *paths[] = {"/v1/models", "/datasets", "/organizations/me",
                         "/health"};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    raw_resp get = raw_get(&srv, paths[i], auth, 5000);
    ck_assert_int_eq(get.status, 200);
    char req[2048];
    int n =
        snprintf(req, sizeof req,
                 "HEAD %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n",
                 paths[i], auth);
    raw_resp head = raw_exchange(&srv, req, (size_t)n, 5000);
    ck_assert_msg(head.status == 200, "HEAD %s: %d", paths[i], head.status);
    ck_assert(head.closed);
    ck_assert_uint_eq(head.body_len, 0);
    ck_assert_uint_eq(
        strtoul(raw_header(&head, "Content-Length", cl, sizeof cl), NULL, 10),
        get.body_len);
    raw_free(&get);
    raw_free(&head);
  }
  /* Where GET is not served, neither is HEAD. */
  it_request r = {.method = "HEAD", .path = "/signup"};
  it_response *resp = it_request_send(&srv, &r);
  ck_assert_int_eq(resp->status, 405);
  ck_assert_str_eq(resp->allow, "OPTIONS, POST");
  it_response_free(resp);
  stop(&srv);
}
END_TEST

START_TEST(test_allow_and_cors_methods_are_exact) {
  it_server srv;
  start(&srv, NULL);
  static const struct {
    const char *path;
    const char *methods;
  } want[] = {
      {"/logs", "GET, HEAD, OPTIONS"},
      {"/v1/models/x", "DELETE, GET, HEAD, OPTIONS, PATCH"},
      {"/signup", "OPTIONS, POST"},
      {"/secrets/x", "DELETE, OPTIONS, PATCH"},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    it_request put = {.method = "PUT",
                      .path = want[i].path,
                      .body = "{}",
                      .content_type = "application/json"};
    it_response *r = it_request_send(&srv, &put);
    ck_assert_int_eq(r->status, 405);
    ck_assert_str_eq(r->allow, want[i].methods);
    it_response_free(r);
    it_request opt = {.method = "OPTIONS", .path = want[i].path};
    r = it_request_send(&srv, &opt);
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(r->cors_methods, want[i].methods);
    it_response_free(r);
  }
  stop(&srv);
}
END_TEST

/* ---- limits ---- */

static char *repeat(const char *piece, size_t n, const char *sep) {
  size_t pl = strlen(piece), sl = strlen(sep);
  char *out = malloc(n * (pl + sl) + 1);
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (i) {
      memcpy(out + o, sep, sl);
      o += sl;
    }
    memcpy(out + o, piece, pl);
    o += pl;
  }
  out[o] = '\0';
  return out;
}

START_TEST(test_each_limit_answers_at_once_in_json) {
  static const char *const flags[] = {"--max-uri-bytes",
                                      "2048",
                                      "--max-query-params",
                                      "10",
                                      "--max-header-bytes",
                                      "1024",
                                      "--max-headers",
                                      "12",
                                      "--max-body-bytes",
                                      "1000",
                                      NULL};
  it_server srv;
  start(&srv, flags);
  int64_t t0 = it_now_ms();

  char target[4096];
  char *x = repeat("x", 2100, "");
  snprintf(target, sizeof target, "/health?a=%s", x);
  free(x);
  raw_resp r = raw_get(&srv, target, "", 5000);
  EXPECT_REFUSAL(r, 414, "--max-uri-bytes");
  raw_free(&r);

  char *q = repeat("a=1", 11, "&");
  snprintf(target, sizeof target, "/health?%s", q);
  free(q);
  r = raw_get(&srv, target, "", 5000);
  EXPECT_REFUSAL(r, 400, "--max-query-params");
  raw_free(&r);
  /* Ten are fine, with values or without, and empty pieces do not count. */
  static const char *const fine[] = {"a=1", "a", "%41+"};
  for (size_t i = 0; i < 3; i++) {
    q = repeat(fine[i], 10, "&&");
    snprintf(target, sizeof target, "/health?&%s&", q);
    free(q);
    r = raw_get(&srv, target, "", 5000);
    ck_assert_int_eq(r.status, 200);
    raw_free(&r);
  }

  char hdr[2048];
  x = repeat("y", 1100, "");
  snprintf(hdr, sizeof hdr, "X-Big: %s\r\n", x);
  free(x);
  r = raw_get(&srv, "/health", hdr, 5000);
  EXPECT_REFUSAL(r, 431, "--max-header-bytes");
  raw_free(&r);

  hdr[0] = '\0';
  for (int i = 0; i < 14; i++)
    snprintf(hdr + strlen(hdr), sizeof hdr - strlen(hdr), "X-H%d: 1\r\n", i);
  r = raw_get(&srv, "/health", hdr, 5000);
  EXPECT_REFUSAL(r, 431, "--max-headers");
  raw_free(&r);

  /* A body over the limit, declared and chunked. */
  char req[4096];
  char *body = repeat("z", 2000, "");
  int n = snprintf(req, sizeof req,
                   "POST /datasets HTTP/1.1\r\nHost: x\r\nContent-Type: "
                   "application/json\r\nContent-Length: 2000\r\nConnection: "
                   "close\r\n\r\n%s",
                   body);
  r = raw_exchange(&srv, req, (size_t)n, 5000);
  EXPECT_REFUSAL(r, 413, "--max-body-bytes");
  raw_free(&r);
  n = snprintf(req, sizeof req,
               "POST /datasets HTTP/1.1\r\nHost: x\r\nContent-Type: "
               "application/json\r\nTransfer-Encoding: chunked\r\nConnection: "
               "close\r\n\r\n7d0\r\n%s\r\n0\r\n\r\n",
               body);
  r = raw_exchange(&srv, req, (size_t)n, 5000);
  EXPECT_REFUSAL(r, 413, "--max-body-bytes");
  raw_free(&r);
  /* Chunked and still arriving (no last chunk): refused as soon as it is
   * over the limit, not when it ends or the body timeout (30 s) runs out. */
  n = snprintf(req, sizeof req,
               "POST /datasets HTTP/1.1\r\nHost: x\r\nContent-Type: "
               "application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
               "7d0\r\n%s\r\n",
               body);
  free(body);
  r = raw_exchange(&srv, req, (size_t)n, 5000);
  EXPECT_REFUSAL(r, 413, "--max-body-bytes");
  raw_free(&r);

  /* "At once": all of the above well inside a single idle timeout. */
  ck_assert_int_lt(it_now_ms() - t0, 5000);
  stop(&srv);
}
END_TEST

START_TEST(test_a_filter_repeated_1000_times_works) {
  it_server srv;
  start(&srv, NULL);
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  it_response *r =
      it_send(&s, "POST", json_pack("{s:s}", "name", "many"), "/datasets");
  ck_assert_int_eq(r->status, 200);
  char dataset[64];
  snprintf(dataset, sizeof dataset, "%s", it_str(r->json, "datasetId"));
  it_response_free(r);
  r = it_send(&s, "POST",
              json_pack("{s:s, s:s, s:s}", "content", "JVBERi0xLjQK",
                        "contentType", "application/pdf", "datasetId", dataset),
              "/documents");
  ck_assert_int_eq(r->status, 200);
  it_response_free(r);

  char auth[1024];
  auth_headers(&s, auth, sizeof auth);
  const size_t counts[] = {300, 1000};
  for (size_t c = 0; c < 2; c++) {
    /* As an SDK sends it: colons percent-encoded, the real id last. */
    size_t cap = counts[c] * 64 + 128;
    char *target = malloc(cap);
    size_t o = (size_t)snprintf(target, cap, "/documents?maxResults=1000");
    for (size_t i = 1; i < counts[c]; i++)
      o += (size_t)snprintf(target + o, cap - o,
                            "&datasetId=las%%3Adataset%%3A%032zx", i);
    const char *id = dataset + strlen("las:dataset:");
    o += (size_t)snprintf(target + o, cap - o,
                          "&datasetId=las%%3Adataset%%3A%s", id);
    int64_t t0 = it_now_ms();
    raw_resp got = raw_get(&srv, target, auth, 10000);
    ck_assert_msg(got.status == 200, "%zu filters (%zu bytes): %d %s",
                  counts[c], o, got.status, got.body ? got.body : "");
    ck_assert_int_lt(it_now_ms() - t0, 5000);
    json_t *docs = json_object_get(got.json, "documents");
    ck_assert_uint_eq(json_array_size(docs), 1);
    raw_free(&got);
    free(target);
  }
  stop(&srv);
}
END_TEST

/* ---- NUL and whitespace ---- */

START_TEST(test_nul_is_refused_never_cut_short) {
  it_server srv;
  start(&srv, NULL);
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char auth[1024];
  auth_headers(&s, auth, sizeof auth);
  raw_resp r = raw_get(&srv, "/datasets/%00", auth, 5000);
  EXPECT_REFUSAL(r, 400, "path");
  raw_free(&r);
  r = raw_get(&srv, "/v1/datasets%00/x", auth, 5000);
  EXPECT_REFUSAL(r, 400, "path");
  raw_free(&r);
  r = raw_get(&srv, "/documents?datasetId=las%3Adataset%3A%00", auth, 5000);
  EXPECT_REFUSAL(r, 400, "datasetId");
  raw_free(&r);
  r = raw_get(&srv, "/documents?maxResults%00x=1", auth, 5000);
  EXPECT_REFUSAL(r, 400, "name of parameter 1");
  raw_free(&r);

  /* A raw NUL in the request target. */
  static const char nul_line[] = "GET /datasets\0/x HTTP/1.1\r\nHost: "
                                 "x\r\nConnection: close\r\n\r\n";
  r = raw_exchange(&srv, nul_line, sizeof nul_line - 1, 5000);
  EXPECT_REFUSAL(r, 400, "request target: contains a NUL byte");
  raw_free(&r);

  /* Header values: a raw NUL inside, or at the end of the last field. */
  static const char *const cut[] = {"X-Test: ab", "X-Test: ab", "X-Test: "};
  static const char *const rest[] = {"cd\r\nX-More: 1\r\n", "\r\n",
                                     "\r\nX-More: 1\r\n"};
  for (size_t i = 0; i < 3; i++) {
    char req[2048];
    int n =
        snprintf(req, sizeof req,
                 "GET /models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s%s",
                 auth, cut[i]);
    req[n++] = '\0';
    n += snprintf(req + n, sizeof req - (size_t)n, "%s\r\n", rest[i]);
    r = raw_exchange(&srv, req, (size_t)n, 5000);
    EXPECT_REFUSAL(r, 400, "header X-Test: value contains a NUL byte");
    raw_free(&r);
  }
  r = raw_get(&srv, "/models", "X-Folded: a\r\n b\r\n", 5000);
  EXPECT_REFUSAL(r, 400, "line folding");
  raw_free(&r);
  r = raw_get(&srv, "/models", auth, 5000);
  ck_assert_int_eq(r.status, 200);
  raw_free(&r);
  stop(&srv);
}
END_TEST

START_TEST(test_header_values_lose_surrounding_whitespace) {
  it_server srv;
  start(&srv, NULL);
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char hdr[1024];
  snprintf(hdr, sizeof hdr,
           "Authorization: \t Bearer %s \t \r\nx-api-key:   %s  \r\n", s.token,
           s.api_key);
  raw_resp r = raw_get(&srv, "/models", hdr, 5000);
  ck_assert_msg(r.status == 200, "%d %s", r.status, r.body ? r.body : "");
  raw_free(&r);
  stop(&srv);
}
END_TEST

/* ---- what libmicrohttpd refuses before our callbacks ---- */

/* A refusal as every other (status, JSON, message) in a single header block
 * whose Content-Length is the body's, and then the connection is closed. */
#define EXPECT_CLOSING_REFUSAL(r, code, needle)                                \
  do {                                                                         \
    char cl_[32], conn_[32];                                                   \
    EXPECT_REFUSAL(r, code, needle);                                           \
    ck_assert_msg((r).status_lines == 1, "%u status lines", (r).status_lines); \
    ck_assert_uint_eq(                                                         \
        strtoul(raw_header(&(r), "Content-Length", cl_, sizeof cl_), NULL,     \
                10),                                                           \
        (r).body_len);                                                         \
    ck_assert_str_eq(raw_header(&(r), "Connection", conn_, sizeof conn_),      \
                     "close");                                                 \
    ck_assert((r).closed);                                                     \
  } while (0)

static raw_resp raw_text(const it_server *s, const char *req, bool shut_wr) {
  return raw_exchange_shut(s, req, strlen(req), 5000, shut_wr);
}

/* A request head larger than libmicrohttpd's per-connection pool: its own
 * 414/431, now naming our limits. */
START_TEST(test_a_head_beyond_the_pool_names_the_limit) {
  it_server srv;
  start(&srv, NULL);
  size_t cap = 300 * 1024;
  char *req = malloc(cap);
  char *x = repeat("a", 200 * 1024, "");
  int n = snprintf(req, cap, "GET /health?q=%s HTTP/1.1\r\nHost: x\r\n\r\n", x);
  raw_resp r = raw_exchange(&srv, req, (size_t)n, 5000);
  EXPECT_CLOSING_REFUSAL(r, 414, "limit of 65536 bytes (--max-uri-bytes)");
  raw_free(&r);

  /* 120 fields of 1 KB, and 3,000 empty ones. */
  n = snprintf(req, cap, "GET /health HTTP/1.1\r\nHost: x\r\n");
  for (int i = 0; i < 120; i++)
    n += snprintf(req + n, cap - (size_t)n, "X-%d: %.1000s\r\n", i, x);
  n += snprintf(req + n, cap - (size_t)n, "\r\n");
  r = raw_exchange(&srv, req, (size_t)n, 5000);
  EXPECT_CLOSING_REFUSAL(r, 431, "limit of 8192 bytes (--max-header-bytes)");
  raw_free(&r);
  n = snprintf(req, cap, "GET /health HTTP/1.1\r\nHost: x\r\n");
  for (int i = 0; i < 3000; i++)
    n += snprintf(req + n, cap - (size_t)n, "a%d:\r\n", i);
  n += snprintf(req + n, cap - (size_t)n, "\r\n");
  r = raw_exchange(&srv, req, (size_t)n, 5000);
  EXPECT_CLOSING_REFUSAL(r, 431, "limit of 100 (--max-headers)");
  raw_free(&r);

  /* A target over our limit that fits the pool, with fields that do not:
   * the first limit met is the one named, as when everything fits. */
  n = snprintf(req, cap, "GET /health?q=%.70000s HTTP/1.1\r\nHost: x\r\n", x);
  for (int i = 0; i < 120; i++)
    n += snprintf(req + n, cap - (size_t)n, "X-%d: %.1000s\r\n", i, x);
  n += snprintf(req + n, cap - (size_t)n, "\r\n");
  r = raw_exchange(&srv, req, (size_t)n, 5000);
  EXPECT_CLOSING_REFUSAL(r, 414, "70010 bytes, longer than the limit of 65536");
  raw_free(&r);
  free(x);
  free(req);

  /* A Cookie header of many short pairs, within the limits, is an ordinary
   * header (libmicrohttpd split it into a 64-byte record per pair). */
  char *pairs = repeat("a", 3000, ";");
  char hdr[8192];
  snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", pairs);
  free(pairs);
  r = raw_get(&srv, "/health", hdr, 5000);
  ck_assert_int_eq(r.status, 200);
  raw_free(&r);
  stop(&srv);
}
END_TEST

START_TEST(test_malformed_lines_are_answered_in_json) {
  it_server srv;
  start(&srv, NULL);
  static const struct {
    const char *req;
    int status;
    const char *needle;
  } cases[] = {
      /* Silence before: the connection was closed without an answer. */
      {"GARBAGE\r\n\r\n", 400, "request line: not method, target"},
      {" GET /health HTTP/1.1\r\nHost: x\r\n\r\n", 400, "request line: not"},
      {"\x16\x03\x01\x02\x01\x01\xfc\x03\x03\r\n\r\n", 400,
       "request line: not"},
      /* An HTML page before. */
      {"GET /health\r\n\r\n", 400, "request line: not method"},
      {"GET /health HTTP/x.y\r\nHost: x\r\n\r\n", 400, "request line: not"},
      {"GET /health HTTP/2.0\r\nHost: x\r\n\r\n", 505,
       "HTTP version not supported"},
      {"GET /health HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", 400,
       "header line: not name: value"},
      {"GET /health HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nNoColon\r\n\r\n", 400,
       "header line: not name: value"},
      /* Before: the line ended the head, X-B became the next request. */
      {"GET /health HTTP/1.1\r\nHost: x\r\n: x\r\nX-B: 1\r\n\r\n", 400,
       "header line: not name: value"},
      {"POST /datasets HTTP/1.1\r\nHost: x\r\nContent-Type: "
       "application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n"
       "badtrailer\r\n\r\n",
       400, "trailer line: not name: value"},
      {"POST /datasets HTTP/1.1\r\nHost: x\r\nContent-Type: "
       "application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
       400, "body: malformed chunked encoding"},
      {"POST /datasets HTTP/1.1\r\nHost: x\r\nContent-Type: "
       "application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
       "FFFFFFFFFFFFFFFFFFFF\r\n",
       413, "--max-body-bytes"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    for (int shut = 0; shut < 2; shut++) {
      raw_resp r = raw_text(&srv, cases[i].req, shut);
      ck_assert_msg(r.status == cases[i].status, "case %zu%s: %d %s", i,
                    shut ? " (half-closed)" : "", r.status,
                    r.body ? r.body : "(nothing)");
      EXPECT_CLOSING_REFUSAL(r, cases[i].status, cases[i].needle);
      raw_free(&r);
    }
  }
  stop(&srv);
}
END_TEST

/* RFC 9112 section 3.2 (QA: an HTTP/1.1 request without Host got 200). */
START_TEST(test_http11_needs_one_host) {
  it_server srv;
  start(&srv, NULL);
  raw_resp r = raw_text(&srv, "GET /health HTTP/1.1\r\n\r\n", 0);
  ck_assert_msg(r.status == 400, "%d", r.status);
  ck_assert_ptr_nonnull(strstr(r.body, "header Host: is required"));
  raw_free(&r);
  r = raw_text(&srv, "GET /health HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 0);
  ck_assert_msg(r.status == 400, "%d", r.status);
  ck_assert_ptr_nonnull(strstr(r.body, "given more than once"));
  raw_free(&r);
  r = raw_text(&srv, "GET /health HTTP/1.0\r\n\r\n", 0);
  ck_assert_msg(r.status == 200, "%d", r.status);
  raw_free(&r);
  stop(&srv);
}
END_TEST

/* libmicrohttpd sent the status line and headers twice for these. */
START_TEST(test_a_bad_content_length_gets_one_answer) {
  it_server srv;
  start(&srv, NULL);
  static const struct {
    const char *value;
    int status;
    const char *needle;
  } cases[] = {
      {"abc", 400, "header Content-Length: 'abc' is not a decimal number"},
      {"-1", 400, "'-1' is not a decimal number"},
      {"1 2", 400, "'1 2' is not a decimal number"},
      {"", 400, "'' is not a decimal number"},
      {"99999999999999999999999", 413,
       "limit of 10485760 bytes "
       "(--max-body-bytes)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char req[512];
    snprintf(req, sizeof req,
             "POST /datasets HTTP/1.1\r\nHost: x\r\nContent-Type: "
             "application/json\r\nContent-Length: %s\r\n\r\n{}",
             cases[i].value);
    raw_resp r = raw_text(&srv, req, false);
    EXPECT_CLOSING_REFUSAL(r, cases[i].status, cases[i].needle);
    raw_free(&r);
  }
  stop(&srv);
}
END_TEST

/* A Transfer-Encoding libmicrohttpd does not decode made it wait for the
 * body until the client closed: the request hung until the body deadline. */
START_TEST(test_an_unsupported_transfer_encoding_is_refused_at_once) {
  it_server srv;
  start(&srv, NULL);
  static const char *const codings[] = {"gzip", "gzip, chunked",
                                        "chunked, gzip"};
  for (size_t i = 0; i < 3; i++) {
    char req[512];
    snprintf(req, sizeof req,
             "POST /datasets HTTP/1.1\r\nHost: x\r\nContent-Type: "
             "application/json\r\nTransfer-Encoding: %s\r\n\r\n{}",
             codings[i]);
    int64_t t0 = it_now_ms();
    raw_resp r = raw_text(&srv, req, false);
    EXPECT_CLOSING_REFUSAL(r, 400, "Transfer-Encoding");
    ck_assert_msg(strstr(raw_message(&r), codings[i]), "%s", raw_message(&r));
    ck_assert_int_lt(it_now_ms() - t0, 2000);
    raw_free(&r);
  }
  stop(&srv);
}
END_TEST

/* libmicrohttpd took "Content-Length : 5" for an unknown field and the
 * first of two differing Content-Length fields: framing a proxy in front
 * could read otherwise. */
START_TEST(test_ambiguous_framing_is_refused) {
  it_server srv;
  start(&srv, NULL);
  static const struct {
    const char *fields;
    const char *needle;
  } cases[] = {
      {"Content-Length : 2\r\n", "header 'Content-Length ': the name is not a "
                                 "token"},
      {"Host : x\r\n", "header 'Host ': the name is not a token"},
      {"X\x01Y: x\r\n", "header 'X?Y': the name is not a token"},
      {"Content-Length: 2\r\nContent-Length: 5\r\n",
       "given more than once with different values"},
      {"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n",
       "not allowed with Transfer-Encoding"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char req[512];
    snprintf(req, sizeof req,
             "POST /datasets HTTP/1.1\r\nHost: x\r\nContent-Type: "
             "application/json\r\nConnection: close\r\n%s\r\n{}",
             cases[i].fields);
    raw_resp r = raw_text(&srv, req, false);
    EXPECT_REFUSAL(r, 400, cases[i].needle);
    ck_assert_uint_eq(r.status_lines, 1);
    raw_free(&r);
  }
  /* The same length twice is one length. */
  raw_resp r = raw_text(&srv,
                        "POST /datasets HTTP/1.1\r\nHost: x\r\nContent-Type: "
                        "application/json\r\nContent-Length: 2\r\n"
                        "Content-Length: 2\r\nConnection: close\r\n\r\n{}",
                        false);
  EXPECT_REFUSAL(r, 403, "Forbidden");
  raw_free(&r);
  stop(&srv);
}
END_TEST

/* A kept-alive connection serves its requests up to a refused one, whose
 * answer comes in order and ends it. */
START_TEST(test_a_refusal_after_kept_alive_requests_ends_the_connection) {
  it_server srv;
  start(&srv, NULL);
  static const char reqs[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                             "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                             "GET /health HTTP/1.1\r\nBroken\r\n\r\n"
                             "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  raw_resp r = raw_text(&srv, reqs, false);
  ck_assert_uint_eq(r.status_lines, 3);
  ck_assert_int_eq(r.status, 200);
  ck_assert(r.closed);
  ck_assert_ptr_nonnull(r.body);
  const char *third = strstr(r.body, "HTTP/1.1 400 ");
  ck_assert_ptr_nonnull(third);
  third = strstr(third, "\r\n\r\n");
  ck_assert_ptr_nonnull(third);
  ck_assert_str_eq(third + 4, "{\"message\":\"header line: not name: value (no "
                              "colon, or no name; RFC 9112 section 5)\"}");
  raw_free(&r);
  stop(&srv);
}
END_TEST

/* ---- slow and idle clients ---- */

/* Raises this process's open-files limit to its hard limit (the server
 * raises its own) and returns how many connections a test may hold open:
 * `wanted`, or fewer where the limit is lower than this machine's, as the
 * server (which keeps a quarter more plus a reserve, see
 * http_fit_connections) can take them all. */
static int connections_that_fit(int wanted) {
  struct rlimit rl;
  ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
  rl.rlim_cur = rl.rlim_max;
  ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_cur == RLIM_INFINITY)
    return wanted;
  long room = ((long)rl.rlim_cur - 160) * 4 / 5 - 32;
  int n = room < wanted ? (int)room : wanted;
  if (n < wanted)
    fprintf(stderr, "open-files limit %llu: %d connections instead of %d\n",
            (unsigned long long)rl.rlim_cur, n, wanted);
  ck_assert_msg(n >= wanted / 4 && n >= 100,
                "open-files limit %llu is below what the test needs",
                (unsigned long long)rl.rlim_cur);
  return n;
}

/* True when the server has ended fd (end of stream or reset), reading and
 * dropping whatever it said before. */
static bool ended(int fd) {
  char buf[512];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0)
      continue;
    if (n == 0)
      return true;
    return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  }
}

START_TEST(test_trickling_clients_are_cut_off_others_answered) {
  enum { MAX_N = 300 };
  const int N = connections_that_fit(MAX_N);
  static const char *const flags[] = {"--header-timeout-ms", "1000", NULL};
  it_server srv;
  start(&srv, flags);
  static const char trickle[] =
      "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: "
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  int fds[MAX_N];
  size_t sent[MAX_N];
  bool closed[MAX_N];
  for (int i = 0; i < N; i++) {
    fds[i] = it_connect(&srv);
    ck_assert_int_ge(fds[i], 0);
    sent[i] = 0;
    closed[i] = false;
  }
  int64_t t0 = it_now_ms(), last_tick = 0, slowest = 0;
  int open = N, asked = 0, over_100ms = 0;
  while (open > 0 && it_now_ms() - t0 < 8000) {
    int64_t now = it_now_ms();
    if (now - last_tick >= 250) {
      /* One byte on each connection every 250 ms: each byte would restart
       * an idle timeout. */
      last_tick = now;
      for (int i = 0; i < N; i++) {
        if (closed[i])
          continue;
        if (ended(fds[i]) ||
            send(fds[i], trickle + sent[i] % (sizeof trickle - 1), 1,
                 MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
          closed[i] = true;
          open--;
          close(fds[i]);
          continue;
        }
        sent[i]++;
      }
    }
    int64_t q0 = it_now_ms();
    raw_resp r = raw_get(&srv, "/health", "", 2000);
    int64_t took = it_now_ms() - q0;
    ck_assert_msg(r.status == 200, "ordinary request: %d", r.status);
    raw_free(&r);
    if (took > slowest)
      slowest = took;
    over_100ms += took >= 100;
    asked++;
    usleep(50 * 1000);
  }
  int64_t all_closed = it_now_ms() - t0;
  for (int i = 0; i < N; i++)
    if (!closed[i])
      close(fds[i]);
  fprintf(stderr,
          "trickling: %d of %d closed after %lld ms; %d ordinary requests, "
          "slowest %lld ms, %d over 100 ms\n",
          N - open, N, (long long)all_closed, asked, (long long)slowest,
          over_100ms);
  ck_assert_int_eq(open, 0);
  /* Cut off between one and two header timeouts after the first byte (plus
   * the sweeper's slack and this loop's 250 ms ticks; slower under ASan). */
  ck_assert_int_ge(all_closed, 1000);
  ck_assert_int_lt(all_closed, 5000);
  /* Ordinary requests answer in under 100 ms. A slowed server slows them
   * all; one late answer in twenty is the shared 2-core machine's
   * scheduling (suites run in parallel), not the server. */
  ck_assert_int_le(over_100ms * 20, asked);
  ck_assert_int_lt(slowest, 1000);
  stop(&srv);
}
END_TEST

/* 2,000 idle connections from one address, with the default settings (the
 * address's oldest idle connections make room) and with no per-address
 * limit (the server holds them all). */
START_TEST(test_idle_connections_do_not_lock_out_new_clients) {
  enum { MAX_N = 2000 };
  const int N = connections_that_fit(MAX_N);
  static const char *const unlimited[] = {"--max-connections-per-address", "0",
                                          NULL};
  const char *const *runs[] = {NULL, unlimited};
  static int fds[MAX_N];
  for (size_t run = 0; run < 2; run++) {
    it_server srv;
    start(&srv, runs[run]);
    for (int i = 0; i < N; i++) {
      fds[i] = it_connect(&srv);
      ck_assert_int_ge(fds[i], 0);
    }
    usleep(200 * 1000);
    for (int k = 0; k < 3; k++) {
      int64_t t0 = it_now_ms();
      /* Liveness, not speed (bench/ measures that): a lock-out never
       * answers; a loaded CI machine may take a second to. */
      raw_resp r = raw_get(&srv, "/health", "", 3000);
      ck_assert_msg(r.status == 200, "new client with %d idle: %d", N,
                    r.status);
      ck_assert_int_lt(it_now_ms() - t0, 3000);
      raw_free(&r);
    }
    if (runs[run]) {
      /* Every idle connection is still open. */
      int open = 0;
      for (int i = 0; i < N; i++) {
        struct pollfd p = {fds[i], POLLIN, 0};
        open += poll(&p, 1, 0) == 0;
      }
      ck_assert_int_eq(open, N);
    }
    for (int i = 0; i < N; i++)
      close(fds[i]);
    stop(&srv);
  }
}
END_TEST

static long server_rss_kib(const it_server *srv) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)srv->pid);
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  long kib = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
      break;
  fclose(f);
  ck_assert_int_gt(kib, 0);
  return kib;
}

/* libmicrohttpd cleared a connection's whole memory pool (83 KiB, sized
 * for 64 KiB request targets) for every kept-alive request, so each such
 * connection held all of it: 2,000 of them took ~170 MB. Now a connection
 * holds what its requests used. */
START_TEST(test_kept_alive_connections_hold_only_what_they_used) {
  enum { MAX_N = 2000 };
  const int N = connections_that_fit(MAX_N);
  static const char *const flags[] = {"--max-connections-per-address", "0",
                                      NULL};
  it_server srv;
  start(&srv, flags);
  static int fds[MAX_N];
  static const char req[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  long before = server_rss_kib(&srv);
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < N; i++) {
      if (round == 0) {
        fds[i] = it_connect(&srv);
        ck_assert_int_ge(fds[i], 0);
      }
      ck_assert(send_all(fds[i], req, sizeof req - 1));
    }
    for (int i = 0; i < N; i++) {
      /* Each answer ends with the JSON body's closing brace. */
      char buf[1024];
      size_t got = 0;
      while (got == 0 || buf[got - 1] != '}') {
        struct pollfd p = {fds[i], POLLIN, 0};
        /* Generous: a slow or loaded machine still answers well within. */
        ck_assert_int_eq(poll(&p, 1, 20000), 1);
        ssize_t n = recv(fds[i], buf + got, sizeof buf - got, 0);
        ck_assert_int_gt(n, 0);
        got += (size_t)n;
        ck_assert_uint_lt(got, sizeof buf);
      }
      ck_assert_int_eq(strncmp(buf, "HTTP/1.1 200 ", 13), 0);
    }
  }
  long after = server_rss_kib(&srv);
  double per = (double)(after - before) / N;
  fprintf(stderr,
          "kept-alive: RSS %ld KiB idle, %ld KiB with %d connections after "
          "two requests each: %.1f KiB per connection\n",
          before, after, N, per);
  /* ~9 KiB here, ~85 KiB before (more under AddressSanitizer). */
  ck_assert_double_lt(per, 40.0);
  for (int i = 0; i < N; i++)
    close(fds[i]);
  stop(&srv);
}
END_TEST

/* A full server drops its oldest idle connection for a new one, and
 * answers 503 when none is idle. */
START_TEST(test_a_full_server_drops_idle_connections_first) {
  static const char *const flags[] = {"--max-connections",
                                      "20",
                                      "--max-connections-per-address",
                                      "0",
                                      "--body-timeout-ms",
                                      "20000",
                                      NULL};
  it_server srv;
  start(&srv, flags);
  enum { N = 20 };
  int fds[N];
  for (int i = 0; i < N; i++) {
    fds[i] = it_connect(&srv);
    ck_assert_int_ge(fds[i], 0);
    usleep(5 * 1000);
  }
  usleep(100 * 1000);
  raw_resp r = raw_get(&srv, "/health", "", 2000);
  ck_assert_int_eq(r.status, 200);
  raw_free(&r);
  struct pollfd p = {fds[0], POLLIN, 0};
  ck_assert_int_eq(poll(&p, 1, 1000), 1);
  ck_assert(ended(fds[0]));
  p.fd = fds[N - 1];
  ck_assert_int_eq(poll(&p, 1, 0), 0);
  for (int i = 0; i < N; i++)
    close(fds[i]);
  usleep(200 * 1000);

  static const char pending[] =
      "POST /datasets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 10\r\n\r\n{";
  for (int i = 0; i < N; i++) {
    fds[i] = it_connect(&srv);
    ck_assert_int_ge(fds[i], 0);
    ck_assert(send_all(fds[i], pending, sizeof pending - 1));
  }
  usleep(200 * 1000);
  r = raw_get(&srv, "/health", "", 2000);
  EXPECT_REFUSAL(r, 503, "the server");
  raw_free(&r);
  for (int i = 0; i < N; i++)
    close(fds[i]);
  stop(&srv);
}
END_TEST

START_TEST(test_a_stalled_body_is_dropped_at_its_deadline) {
  static const char *const flags[] = {"--body-timeout-ms", "500", NULL};
  it_server srv;
  start(&srv, flags);
  int fd = it_connect(&srv);
  ck_assert_int_ge(fd, 0);
  static const char req[] =
      "POST /datasets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 100\r\n\r\n{\"name\":";
  int64_t t0 = it_now_ms();
  ck_assert(send_all(fd, req, sizeof req - 1));
  raw_resp r;
  memset(&r, 0, sizeof r);
  raw_read(fd, 5000, &r);
  int64_t took = it_now_ms() - t0;
  close(fd);
  EXPECT_REFUSAL(r, 408, "body timeout");
  ck_assert(r.closed);
  ck_assert_int_ge(took, 450);
  ck_assert_int_lt(took, 2000);
  raw_free(&r);
  stop(&srv);
}
END_TEST

START_TEST(test_per_address_limit) {
  static const char *const flags[] = {"--max-connections-per-address", "4",
                                      "--body-timeout-ms", "20000", NULL};
  it_server srv;
  start(&srv, flags);
  /* Four connections busy sending bodies: a fifth is refused. */
  static const char pending[] =
      "POST /datasets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 10\r\n\r\n{";
  int fds[4];
  for (int i = 0; i < 4; i++) {
    fds[i] = it_connect(&srv);
    ck_assert_int_ge(fds[i], 0);
    ck_assert(send_all(fds[i], pending, sizeof pending - 1));
  }
  usleep(200 * 1000);
  raw_resp r = raw_get(&srv, "/health", "", 2000);
  EXPECT_REFUSAL(r, 503, "this address");
  ck_assert(r.closed);
  raw_free(&r);
  for (int i = 0; i < 4; i++)
    close(fds[i]);
  usleep(200 * 1000);

  /* Four idle connections: a fifth is served and the oldest idle one goes. */
  for (int i = 0; i < 4; i++) {
    fds[i] = it_connect(&srv);
    ck_assert_int_ge(fds[i], 0);
    usleep(10 * 1000);
  }
  usleep(100 * 1000);
  r = raw_get(&srv, "/health", "", 2000);
  ck_assert_int_eq(r.status, 200);
  raw_free(&r);
  struct pollfd p = {fds[0], POLLIN, 0};
  ck_assert_int_eq(poll(&p, 1, 1000), 1);
  ck_assert(ended(fds[0]));
  p.fd = fds[3];
  ck_assert_int_eq(poll(&p, 1, 0), 0); /* the newest idle one stays */
  for (int i = 0; i < 4; i++)
    close(fds[i]);
  stop(&srv);
}
END_TEST

/* --host :: is every address, as 0.0.0.0 is for IPv4: IPv4 clients are
 * served too (the socket was IPv6-only). */
START_TEST(test_ipv6_wildcard_serves_ipv4_too) {
  it_server srv;
  start(&srv, (const char *const[]){"--host", "::", NULL});
  raw_resp r = raw_get(&srv, "/health", "", 2000);
  ck_assert_int_eq(r.status, 200);
  raw_free(&r);
  stop(&srv);
}
END_TEST

/* A database that cannot be opened says why (a missing folder; an
 * unwritable one names the uid, as a container's bind mount needs). */
START_TEST(test_database_open_failure_says_why) {
  char out[2048];
  const char *args[] = {"--port", "0", "--db", "/nonexistent-las/x.db", NULL};
  ck_assert_int_eq(it_run_to_exit(args, 10000, out, sizeof out), 1);
  ck_assert_msg(strstr(out, "its folder /nonexistent-las does not exist"), "%s",
                out);
}
END_TEST

static Suite *http_suite(void) {
  Suite *s = suite_create("http");
  TCase *tc = tcase_create("http");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_head_answers_as_get_without_body);
  tcase_add_test(tc, test_allow_and_cors_methods_are_exact);
  tcase_add_test(tc, test_each_limit_answers_at_once_in_json);
  tcase_add_test(tc, test_a_filter_repeated_1000_times_works);
  tcase_add_test(tc, test_nul_is_refused_never_cut_short);
  tcase_add_test(tc, test_header_values_lose_surrounding_whitespace);
  tcase_add_test(tc, test_a_head_beyond_the_pool_names_the_limit);
  tcase_add_test(tc, test_malformed_lines_are_answered_in_json);
  tcase_add_test(tc, test_a_bad_content_length_gets_one_answer);
  tcase_add_test(tc, test_http11_needs_one_host);
  tcase_add_test(tc, test_an_unsupported_transfer_encoding_is_refused_at_once);
  tcase_add_test(tc, test_ambiguous_framing_is_refused);
  tcase_add_test(tc,
                 test_a_refusal_after_kept_alive_requests_ends_the_connection);
  tcase_add_test(tc, test_trickling_clients_are_cut_off_others_answered);
  tcase_add_test(tc, test_idle_connections_do_not_lock_out_new_clients);
  tcase_add_test(tc, test_a_full_server_drops_idle_connections_first);
  tcase_add_test(tc, test_kept_alive_connections_hold_only_what_they_used);
  tcase_add_test(tc, test_a_stalled_body_is_dropped_at_its_deadline);
  tcase_add_test(tc, test_per_address_limit);
  tcase_add_test(tc, test_ipv6_wildcard_serves_ipv4_too);
  tcase_add_test(tc, test_database_open_failure_says_why);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return ck_run(http_suite(), CK_NORMAL);
}
