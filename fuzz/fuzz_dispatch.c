/* Fuzz target: whole requests through the dispatcher, without sockets, on a
 * throw-away database. Any 5xx, an error
 * without a JSON message, a response that breaks its schema, a crash, a
 * sanitizer report or a request over the time limit is a finding.
 *
 * An input is up to FUZZ_MAX_REQUESTS requests separated by a line "%%",
 * each written like HTTP/1.1:
 *
 *   METHOD SP PATH[?QUERY] LF
 *   Name: value LF          (Content-Type, Authorization, x-api-key; others
 *   ...                      are ignored, as the dispatcher never sees them)
 *   LF
 *   body: every remaining byte
 *
 * Query arguments are split and percent-decoded as the HTTP layer does.
 * Placeholders in the path, query, header values and body are replaced:
 * $TOKEN (a valid bearer token), $ORG and the ids of objects created with the
 * database ($MODEL, $DATASET, $DOCUMENT, ..., $TRANSITION (manual, with
 * schemas), $DOCKER, $EXECUTION (of $TRANSITION)), and $LAST, the id made by
 * the input's previous successful POST, $CLIENT the clientId it answered (app
 * clients, sign-up), and $NEXT, the nextToken of its previous list. A request
 * with neither Authorization nor x-api-key runs as under --no-auth; any other
 * is authenticated for real. */
#include "fuzz_env.h"

#include "core/codec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum {
  FUZZ_MAX_REQUESTS = 4,
  /* A fresh database this often keeps it small over long runs. */
  FUZZ_RESET_EVERY = 2000
};

typedef struct {
  const char *name;
  char value[128];
} fuzz_var;

static fuzz_var fuzz_vars[] = {
    {"$TOKEN", ""},      {"$ORG", ""},        {"$APPCLIENT", ""},
    {"$MODEL", ""},      {"$DATASET", ""},    {"$DOCUMENT", ""},
    {"$ASSET", ""},      {"$SECRET", ""},     {"$USER", ""},
    {"$DATABUNDLE", ""}, {"$PREDICTION", ""}, {"$LAST", ""},
    {"$NEXT", ""},       {"$CLIENT", ""},     {"$TRANSITION", ""},
    {"$DOCKER", ""},     {"$EXECUTION", ""},
};
enum { FUZZ_N_VARS = sizeof fuzz_vars / sizeof fuzz_vars[0] };

static fuzz_env env;

static char *fuzz_var_get(const char *name) {
  for (size_t i = 0; i < FUZZ_N_VARS; i++)
    if (strcmp(fuzz_vars[i].name, name) == 0)
      return fuzz_vars[i].value;
  fuzz_fail("no variable %s", name);
}

/* A NEW NUL-terminated copy of n bytes with the placeholders replaced; its
 * length (which may include NUL bytes) in *out_len when not NULL. */
static char *fuzz_subst(const char *src, size_t n, size_t *out_len) {
  size_t cap = n + 1, len = 0;
  char *out = malloc(cap);
  for (size_t i = 0; i < n;) {
    const char *add = src + i;
    size_t add_len = 1;
    if (src[i] == '$') {
      for (size_t v = 0; v < FUZZ_N_VARS; v++) {
        size_t vl = strlen(fuzz_vars[v].name);
        if (vl <= n - i && memcmp(src + i, fuzz_vars[v].name, vl) == 0) {
          add = fuzz_vars[v].value;
          add_len = strlen(add);
          i += vl - 1;
          break;
        }
      }
    }
    i++;
    if (len + add_len + 1 > cap) {
      cap = 2 * (len + add_len + 1);
      out = realloc(out, cap);
    }
    memcpy(out + len, add, add_len);
    len += add_len;
  }
  out[len] = '\0';
  if (out_len)
    *out_len = len;
  return out;
}

/* Percent-decoding in place, '+' as space, as libmicrohttpd does for query
 * arguments. */
static void fuzz_unescape(char *s) {
  char *o = s;
  for (char *p = s; *p; p++) {
    int hi, lo;
    if (*p == '+') {
      *o++ = ' ';
    } else if (*p == '%' && (hi = codec_hex_value(p[1])) >= 0 &&
               (lo = codec_hex_value(p[2])) >= 0) {
      *o++ = (char)(hi * 16 + lo);
      p += 2;
    } else {
      *o++ = *p;
    }
  }
  *o = '\0';
}

/* The key of the id a POST to `path` answers with: /models -> modelId,
 * /models/x/dataBundles -> dataBundleId. */
static void fuzz_id_key(const char *path, char *key, size_t size) {
  const char *seg = strrchr(path, '/');
  seg = seg ? seg + 1 : path;
  size_t n = strlen(seg);
  if (n > 0 && seg[n - 1] == 's')
    n--;
  snprintf(key, size, "%.*sId", (int)n, seg);
}

typedef struct {
  char *method, *path, *query_text, *content_type, *authorization, *api_key;
  char *body;
  size_t body_len;
  api_param *query;
  size_t n_query;
} fuzz_request;

static void fuzz_request_free(fuzz_request *r) {
  free(r->method);
  free(r->path);
  free(r->query_text);
  free(r->content_type);
  free(r->authorization);
  free(r->api_key);
  free(r->body);
  free(r->query);
}

static void fuzz_parse_query(fuzz_request *r) {
  if (!r->query_text)
    return;
  size_t n = 1;
  for (const char *p = r->query_text; *p; p++)
    n += *p == '&';
  r->query = calloc(n, sizeof *r->query);
  char *save = NULL;
  for (char *arg = strtok_r(r->query_text, "&", &save); arg;
       arg = strtok_r(NULL, "&", &save)) {
    char *eq = strchr(arg, '=');
    if (eq)
      *eq = '\0';
    fuzz_unescape(arg);
    if (eq)
      fuzz_unescape(eq + 1);
    r->query[r->n_query].key = arg;
    r->query[r->n_query].value = eq ? eq + 1 : "";
    r->n_query++;
  }
}

/* Parses one request of n bytes. */
static void fuzz_parse(const char *src, size_t n, fuzz_request *r) {
  memset(r, 0, sizeof *r);
  const char *end = src + n;
  const char *nl = memchr(src, '\n', n);
  const char *line_end = nl ? nl : end;
  const char *sp = memchr(src, ' ', (size_t)(line_end - src));
  const char *target = sp ? sp + 1 : line_end;
  r->method = fuzz_subst(src, (size_t)((sp ? sp : line_end) - src), NULL);
  const char *q = memchr(target, '?', (size_t)(line_end - target));
  r->path = fuzz_subst(target, (size_t)((q ? q : line_end) - target), NULL);
  if (q)
    r->query_text = fuzz_subst(q + 1, (size_t)(line_end - q - 1), NULL);
  fuzz_parse_query(r);

  const char *p = nl ? nl + 1 : end;
  while (p < end && *p != '\n') {
    nl = memchr(p, '\n', (size_t)(end - p));
    line_end = nl ? nl : end;
    const char *colon = memchr(p, ':', (size_t)(line_end - p));
    if (colon) {
      const char *v = colon + 1, *ve = line_end;
      while (v < ve && (*v == ' ' || *v == '\t'))
        v++;
      while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
        ve--;
      size_t name_len = (size_t)(colon - p);
      char **dst = NULL;
      if (name_len == 12 && strncasecmp(p, "content-type", 12) == 0)
        dst = &r->content_type;
      else if (name_len == 13 && strncasecmp(p, "authorization", 13) == 0)
        dst = &r->authorization;
      else if (name_len == 9 && strncasecmp(p, "x-api-key", 9) == 0)
        dst = &r->api_key;
      if (dst) {
        free(*dst);
        *dst = fuzz_subst(v, (size_t)(ve - v), NULL);
      }
    }
    p = nl ? nl + 1 : end;
  }
  if (p < end)
    p++; /* the empty line */
  r->body = fuzz_subst(p, (size_t)(end - p), &r->body_len);
}

/* Runs one request; remembers the id a successful POST made as $LAST. */
static api_response fuzz_run(const char *text, size_t n) {
  fuzz_request r;
  fuzz_parse(text, n, &r);
  dispatch_input in = {.method = r.method,
                       .path = r.path,
                       .query = r.query,
                       .n_query = r.n_query,
                       .content_type = r.content_type,
                       .authorization = r.authorization,
                       .api_key = r.api_key,
                       .body = r.body,
                       .body_len = r.body_len};
  api_response resp = fuzz_env_call(&in, !r.authorization && !r.api_key);
  if (resp.status < 300 && strcmp(r.method, "POST") == 0 && resp.body) {
    char key[64];
    fuzz_id_key(r.path, key, sizeof key);
    const char *id = json_string_value(json_object_get(resp.body, key));
    if (id)
      snprintf(fuzz_var_get("$LAST"), sizeof fuzz_vars[0].value, "%s", id);
    const char *client =
        json_string_value(json_object_get(resp.body, "clientId"));
    if (client)
      snprintf(fuzz_var_get("$CLIENT"), sizeof fuzz_vars[0].value, "%s",
               client);
  }
  const char *next = json_string_value(json_object_get(resp.body, "nextToken"));
  if (next)
    snprintf(fuzz_var_get("$NEXT"), sizeof fuzz_vars[0].value, "%s", next);
  fuzz_request_free(&r);
  return resp;
}

/* Creates one object of each kind, so paths with ids reach the handlers. */
static void fuzz_fixture(const char *var, const char *request) {
  api_response resp = fuzz_run(request, strlen(request));
  if (resp.status != 200)
    fuzz_fail("fixture %s: status %u", var, resp.status);
  snprintf(fuzz_var_get(var), sizeof fuzz_vars[0].value, "%s",
           fuzz_var_get("$LAST"));
  api_response_free(&resp);
}

static void fuzz_setup(void) {
  fuzz_env_open(&env);
  snprintf(fuzz_var_get("$TOKEN"), sizeof fuzz_vars[0].value, "%s", env.token);
  snprintf(fuzz_var_get("$ORG"), sizeof fuzz_vars[0].value, "%s",
           env.boot.principal.org_id);
  snprintf(fuzz_var_get("$APPCLIENT"), sizeof fuzz_vars[0].value, "%s",
           env.boot.principal.app_client_id);
  fuzz_fixture("$MODEL", "POST /models\ncontent-type: application/json\n\n"
                         "{\"width\":300,\"height\":300,\"fieldConfig\":"
                         "{\"total\":{\"type\":\"amount\",\"maxLength\":10}}}");
  fuzz_fixture("$DATASET", "POST /datasets\ncontent-type: application/json\n\n"
                           "{\"name\":\"fuzz\"}");
  fuzz_fixture("$DOCUMENT",
               "POST /documents\ncontent-type: application/json\n\n"
               "{\"content\":\"JVBERi0xLjQK\",\"contentType\":"
               "\"application/pdf\",\"datasetId\":\"$DATASET\"}");
  fuzz_fixture("$ASSET", "POST /assets\ncontent-type: application/json\n\n"
                         "{\"content\":\"aGVsbG8=\"}");
  fuzz_fixture("$SECRET", "POST /secrets\ncontent-type: application/json\n\n"
                          "{\"data\":{\"user\":\"u\"}}");
  fuzz_fixture("$USER", "POST /users\ncontent-type: application/json\n\n"
                        "{\"email\":\"fuzz@example.com\"}");
  fuzz_fixture("$DATABUNDLE", "POST /models/$MODEL/dataBundles\n"
                              "content-type: application/json\n\n"
                              "{\"datasetIds\":[\"$DATASET\"]}");
  fuzz_fixture("$PREDICTION",
               "POST /predictions\ncontent-type: application/json\n\n"
               "{\"documentId\":\"$DOCUMENT\",\"modelId\":\"$MODEL\"}");
  fuzz_fixture("$TRANSITION",
               "POST /transitions\ncontent-type: application/json\n\n"
               "{\"transitionType\":\"manual\",\"inputJsonSchema\":"
               "{\"properties\":{\"n\":{\"type\":\"integer\"}}},"
               "\"outputJsonSchema\":{\"required\":[\"ok\"]},"
               "\"parameters\":{\"assets\":{\"ui\":\"$ASSET\"}}}");
  fuzz_fixture("$DOCKER",
               "POST /transitions\ncontent-type: application/json\n\n"
               "{\"transitionType\":\"docker\",\"parameters\":"
               "{\"imageUrl\":\"i\",\"environmentSecrets\":[\"$SECRET\"]}}");
  fuzz_fixture("$EXECUTION", "POST /transitions/$TRANSITION/executions\n"
                             "content-type: application/json\n\n"
                             "{\"n\":1}");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static unsigned long runs;
  if (runs++ % FUZZ_RESET_EVERY == 0) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fuzz_setup();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (getenv("FUZZ_VERBOSE"))
      fprintf(stderr, "fresh database in %.0f ms\n",
              (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
  }
  fuzz_var_get("$LAST")[0] = '\0';
  fuzz_var_get("$NEXT")[0] = '\0';
  fuzz_var_get("$CLIENT")[0] = '\0';
  const char *p = (const char *)data, *end = p + size;
  for (int i = 0; i < FUZZ_MAX_REQUESTS && p <= end; i++) {
    const char *sep = memmem(p, (size_t)(end - p), "\n%%\n", 4);
    const char *stop = sep ? sep : end;
    api_response resp = fuzz_run(p, (size_t)(stop - p));
    api_response_free(&resp);
    p = sep ? sep + 4 : end + 1;
  }
  return 0;
}
