#include "fuzz_env.h"

#include "auth/auth.h"
#include "core/config.h"
#include "core/log.h"
#include "resources/paging.h"
#include "storage/store.h"
#include "validation/schemas.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool fuzz_env_opened;

_Noreturn void fuzz_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("fuzz: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  abort();
}

static void fuzz_env_close(void) {
  store_global_close();
  schemas_free();
}

static void fuzz_env_print_request(const dispatch_input *in) {
  fprintf(stderr, "request: %s %s\n", in->method, in->path);
  for (size_t i = 0; i < in->n_query; i++)
    fprintf(stderr, "  query %s=%s\n", in->query[i].key, in->query[i].value);
  if (in->content_type)
    fprintf(stderr, "  content-type: %s\n", in->content_type);
  if (in->authorization)
    fprintf(stderr, "  authorization: %s\n", in->authorization);
  if (in->api_key)
    fprintf(stderr, "  x-api-key: %s\n", in->api_key);
  fprintf(stderr, "  body (%zu bytes): %.*s\n", in->body_len,
          (int)(in->body_len < 2000 ? in->body_len : 2000), in->body);
}

/* The rules every answer keeps, whatever was sent: no 5xx; an error is JSON
 * with a "message" string; a pre-serialised body is valid JSON. */
static void fuzz_env_check(const dispatch_input *in, const api_response *r) {
  const char *why = NULL;
  json_t *raw = NULL;
  if (r->status < 200 || r->status > 599)
    why = "status out of range";
  else if (r->status >= 500)
    why = "server error";
  else if (r->raw && !(raw = json_loadb(r->raw, r->raw_len, 0, NULL)))
    why = "raw body is not JSON";
  else if (r->status >= 400 &&
           !json_is_string(json_object_get(r->body, "message")))
    why = "error without a message";
  json_decref(raw);
  if (!why)
    return;
  fuzz_env_print_request(in);
  char *text = r->body ? json_dumps(r->body, JSON_COMPACT) : NULL;
  fprintf(stderr, "response %u: %s\n", r->status,
          text ? text : (r->raw ? r->raw : "(none)"));
  free(text);
  fuzz_fail("%s", why);
}

api_response fuzz_env_call(const dispatch_input *in, bool no_auth) {
  dispatch_settings ds = {.no_auth = no_auth, .validate_responses = true};
  dispatch_configure(&ds);
  api_response r = dispatch_request(in);
  fuzz_env_check(in, &r);
  /* FUZZ_VERBOSE=1: one line per request, to see what seeds reach. */
  static int verbose = -1;
  if (verbose < 0)
    verbose = getenv("FUZZ_VERBOSE") != NULL;
  if (verbose) {
    char *text = r.body ? json_dumps(r.body, JSON_COMPACT) : NULL;
    fprintf(stderr, "%u %s %s %.200s\n", r.status, in->method, in->path,
            text ? text : "");
    free(text);
  }
  return r;
}

static void fuzz_env_token(fuzz_env *env) {
  static const api_param grant[] = {{"grant_type", "client_credentials"}};
  /* base64("fuzz-client:fuzz-secret") */
  dispatch_input in = {.method = "POST",
                       .path = "/oauth2/token",
                       .query = grant,
                       .n_query = 1,
                       .content_type = "application/x-www-form-urlencoded",
                       .authorization =
                           "Basic ZnV6ei1jbGllbnQ6ZnV6ei1zZWNyZXQ=",
                       .body = "",
                       .body_len = 0};
  api_response r = fuzz_env_call(&in, false);
  const char *t = json_string_value(json_object_get(r.body, "access_token"));
  if (r.status != 200 || !t)
    fuzz_fail("cannot get a token: status %u", r.status);
  snprintf(env->token, sizeof env->token, "%s", t);
  api_response_free(&r);
}

void fuzz_schemas_ready(void) {
  static bool ready;
  char err[256];
  if (!ready && !schemas_init(err, sizeof err))
    fuzz_fail("schemas: %s", err);
  ready = true;
}

void fuzz_env_open(fuzz_env *env) {
  char err[512];
  if (fuzz_env_opened) {
    store_global_close();
  } else {
    log_set_level(LOG_OFF);
    fuzz_schemas_ready();
    atexit(fuzz_env_close);
    fuzz_env_opened = true;
  }
  if (!store_global_open(":memory:", err, sizeof err))
    fuzz_fail("store: %s", err);
  config cfg;
  char *argv[] = {"fuzz",
                  "--client-id",
                  FUZZ_CLIENT_ID,
                  "--client-secret",
                  FUZZ_CLIENT_SECRET,
                  "--api-key",
                  FUZZ_API_KEY,
                  NULL};
  if (config_load(&cfg, 7, argv, err, sizeof err) != CONFIG_OK)
    fuzz_fail("config: %s", err);
  store *s = store_thread();
  /* A fixed key makes page tokens the same in every run, so seeds can hold
   * real ones. */
  if (!s || store_meta_put(s, "paging_key", FUZZ_PAGING_KEY) != STORE_ONE ||
      !paging_init(s, err, sizeof err) ||
      !bootstrap_run(&cfg, &env->boot, err, sizeof err))
    fuzz_fail("bootstrap: %s", s ? err : "no connection");
  auth_set_default_principal(&env->boot.principal);
  fuzz_env_token(env);
}
