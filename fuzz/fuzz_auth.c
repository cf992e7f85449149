/* Fuzz target: the Authorization header and the token endpoint's parsers.
 * The input is four lines and a rest: Authorization value, x-api-key value,
 * the scope a route needs, a granted scope list, then a form body. "$TOKEN"
 * in the first line stands for a valid token of a throw-away database (so
 * both the parse and the lookup are reached); an empty line means the
 * header is absent.
 *
 * It runs auth_check (without and with --no-auth), auth_scope_granted, and
 * oauth_parse_basic / oauth_parse_form. Findings, besides crashes, sanitizer
 * reports, leaks and hangs: access granted to credentials that do not hold
 * the valid token (or hold it with another api key); a scope granted that
 * the list does not contain; credentials found outside the header value. */
#include "fuzz_env.h"

#include "auth/auth.h"
#include "core/clock.h"
#include "resources/oauth.h"
#include "storage/store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fuzz_env env;

/* The next line of [*p, end) as a NEW string, "$TOKEN" replaced; NULL when
 * the line is empty or missing. */
static char *fuzz_line(const char **p, const char *end) {
  if (*p >= end)
    return NULL;
  const char *nl = memchr(*p, '\n', (size_t)(end - *p));
  const char *stop = nl ? nl : end;
  char *s = strndup(*p, (size_t)(stop - *p));
  *p = nl ? nl + 1 : end;
  char *var = strstr(s, "$TOKEN");
  if (var) {
    size_t head = (size_t)(var - s), tail = strlen(var + 6);
    char *t = malloc(head + strlen(env.token) + tail + 1);
    memcpy(t, s, head);
    strcpy(t + head, env.token);
    strcat(t, var + 6);
    free(s);
    s = t;
  }
  if (!s[0]) {
    free(s);
    return NULL;
  }
  return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool ready;
  if (!ready) {
    fuzz_env_open(&env);
    ready = true;
  }
  const char *p = (const char *)data, *end = p + size;
  char *authorization = fuzz_line(&p, end);
  char *api_key = fuzz_line(&p, end);
  char *scope = fuzz_line(&p, end);
  char *granted = fuzz_line(&p, end);

  store *s = store_thread();
  int64_t now = clock_now_us();
  for (int no_auth = 0; no_auth < 2; no_auth++) {
    api_principal who;
    auth_result r =
        auth_check(s, authorization, api_key, scope, no_auth, now, &who);
    if (r == AUTH_STORE_ERROR)
      fuzz_fail("store error");
    bool holds_token = authorization && strstr(authorization, env.token);
    bool key_ok = !api_key || strcmp(api_key, FUZZ_API_KEY) == 0;
    if (r == AUTH_OK && authorization && (!holds_token || !key_ok))
      fuzz_fail("access granted to Authorization '%s', x-api-key '%s'",
                authorization, api_key ? api_key : "(none)");
    if (r == AUTH_OK && !authorization && !no_auth)
      fuzz_fail("access granted without credentials");
  }

  const char *list = granted ? granted : "";
  if (auth_scope_granted(list, scope) && scope && list[0]) {
    char want[512];
    snprintf(want, sizeof want, AUTH_SCOPE_PREFIX "%s", scope);
    /* Route scopes are short constants, never client input. */
    if (strlen(scope) < 100 && !strstr(list, want))
      fuzz_fail("scope '%s' granted by '%s'", scope, list);
  }

  /* The credentials auth_check and the token endpoint find in the header:
   * inside the value, non-empty, without the whitespace around them. */
  static const char *const schemes[] = {"Bearer", "Basic"};
  for (size_t i = 0; authorization && i < 2; i++) {
    const char *cred = NULL;
    size_t len = 0;
    if (!auth_credentials(authorization, schemes[i], &cred, &len))
      continue;
    const char *aend = authorization + strlen(authorization);
    if (cred < authorization || len == 0 || cred + len > aend ||
        cred[0] == ' ' || cred[0] == '\t' || cred[len - 1] == ' ' ||
        cred[len - 1] == '\t')
      fuzz_fail("%s credentials of '%s' out of place", schemes[i],
                authorization);
  }

  oauth_params op = {0};
  oauth_parse_form(&op, p, (size_t)(end - p));
  oauth_parse_basic(&op, authorization);
  oauth_parse_basic(&op, authorization); /* a second call replaces the first */
  oauth_params_free(&op);

  free(authorization);
  free(api_key);
  free(scope);
  free(granted);
  return 0;
}
