#include "auth/auth.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Replaced by a reset or a restore while requests are served. */
static api_principal auth_default;
static pthread_mutex_t auth_default_lock = PTHREAD_MUTEX_INITIALIZER;

/* Each server thread remembers recent token lookups, so a request usually
 * checks its token without touching SQLite. An entry is trusted only while
 * the store's credentials epoch is unchanged (no app client deleted since)
 * and the token has not expired. */
enum { AUTH_CACHE_SLOTS = 64, AUTH_TOKEN_MAX = 128 };
typedef struct {
  char token[AUTH_TOKEN_MAX + 1];
  uint64_t epoch;
  store_token_info info;
} auth_cache_entry;
/* On the heap, allocated at a thread's first lookup, not in thread-local
 * storage: every thread (the engine's and the log's too) gets a zeroed copy
 * of the static TLS block when it starts, and the cache is 100 KiB. */
static _Thread_local auth_cache_entry *auth_cache;
static pthread_key_t auth_cache_key; /* frees a thread's cache at its end */
static pthread_once_t auth_cache_once = PTHREAD_ONCE_INIT;
static bool auth_cache_keyed;

static void auth_cache_key_make(void) {
  auth_cache_keyed = pthread_key_create(&auth_cache_key, free) == 0;
}

/* This thread's cache; NULL when out of memory (lookups then go to the
 * store). */
static auth_cache_entry *auth_cache_mine(void) {
  if (!auth_cache) {
    pthread_once(&auth_cache_once, auth_cache_key_make);
    auth_cache = calloc(AUTH_CACHE_SLOTS, sizeof *auth_cache);
    if (auth_cache && auth_cache_keyed)
      pthread_setspecific(auth_cache_key, auth_cache);
  }
  return auth_cache;
}

static size_t auth_slot(const char *token) {
  uint64_t h = 1469598103934665603ull;
  for (const char *p = token; *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ull;
  return (size_t)(h % AUTH_CACHE_SLOTS);
}

static store_status auth_lookup(store *s, const char *token,
                                store_token_info *info) {
  auth_cache_entry *cache = auth_cache_mine();
  if (!cache)
    return store_token_get(s, token, info);
  auth_cache_entry *e = &cache[auth_slot(token)];
  uint64_t epoch = store_credentials_epoch();
  if (e->epoch == epoch && strcmp(e->token, token) == 0) {
    *info = e->info;
    return STORE_ONE;
  }
  store_status st = store_token_get(s, token, info);
  if (st == STORE_ONE) {
    snprintf(e->token, sizeof e->token, "%s", token);
    e->info = *info;
    e->epoch = epoch;
  }
  return st;
}

/* snprintf(dst, cap, "%s", src) without the formatting machinery (every
 * request copies its principal). */
static void auth_copy(char *dst, size_t cap, const char *src) {
  size_t n = strnlen(src, cap - 1);
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static bool auth_ows(char c) {
  return c == ' ' || c == '\t';
}

bool auth_credentials(const char *header, const char *scheme, const char **cred,
                      size_t *len) {
  if (!header)
    return false;
  while (auth_ows(*header))
    header++;
  size_t n = strlen(scheme);
  if (strncasecmp(header, scheme, n) != 0 || !auth_ows(header[n]))
    return false;
  const char *start = header + n;
  while (auth_ows(*start))
    start++;
  const char *end = start + strlen(start);
  while (end > start && auth_ows(end[-1]))
    end--;
  *cred = start;
  *len = (size_t)(end - start);
  return *len > 0;
}

void auth_set_default_principal(const api_principal *principal) {
  pthread_mutex_lock(&auth_default_lock);
  auth_default = *principal;
  pthread_mutex_unlock(&auth_default_lock);
}

bool auth_scope_granted(const char *granted, const char *scope) {
  if (!scope || granted[0] == '\0')
    return true;
  char want[256];
  snprintf(want, sizeof want, AUTH_SCOPE_PREFIX "%s", scope);
  size_t n = strlen(want);
  for (const char *p = granted; (p = strstr(p, want)) != NULL; p += n) {
    bool starts = p == granted || p[-1] == ' ';
    bool ends = p[n] == '\0' || p[n] == ' ';
    if (starts && ends)
      return true;
  }
  return false;
}

auth_result auth_check(store *s, const char *authorization, const char *api_key,
                       const char *scope, bool no_auth, int64_t real_us,
                       api_principal *out) {
  if (!authorization || !*authorization) {
    if (!no_auth)
      return AUTH_DENIED;
    pthread_mutex_lock(&auth_default_lock);
    *out = auth_default;
    pthread_mutex_unlock(&auth_default_lock);
    return AUTH_OK;
  }
  const char *cred = NULL;
  size_t len = 0;
  /* A token longer than any we issue is refused, never cut to fit. */
  if (!auth_credentials(authorization, "Bearer", &cred, &len) ||
      len > AUTH_TOKEN_MAX)
    return AUTH_DENIED;
  char token[AUTH_TOKEN_MAX + 1];
  memcpy(token, cred, len);
  token[len] = '\0';
  store_token_info info;
  store_status st = auth_lookup(s, token, &info);
  if (st == STORE_NONE)
    return AUTH_DENIED;
  if (st != STORE_ONE)
    return AUTH_STORE_ERROR;
  if (info.expires_us <= real_us)
    return AUTH_DENIED;
  if (api_key && strcmp(api_key, info.api_key) != 0)
    return AUTH_DENIED;
  if (!auth_scope_granted(info.scopes, scope))
    return AUTH_DENIED;
  auth_copy(out->org_id, sizeof out->org_id, info.org_id);
  auth_copy(out->app_client_id, sizeof out->app_client_id, info.app_client_id);
  auth_copy(out->client_id, sizeof out->client_id, info.client_id);
  auth_copy(out->id, sizeof out->id, info.principal);
  return AUTH_OK;
}
