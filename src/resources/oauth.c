/* POST /oauth2/token and /token: OAuth2 token endpoint.
 * - client_credentials: HTTP Basic client id and secret (what the official
 *   SDKs send, with grant_type in the query string and an empty form body);
 * - password: a public client id (Basic with empty secret, or client_id in
 *   the form), username and password of a user made by /signup.
 * Errors follow RFC 6749 §5.2 ({"error": …}) and also carry `message`. */
#include "resources/oauth.h"
#include "resources/resources.h"

#include "auth/auth.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/ids.h"
#include "routing/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void oauth_params_free(oauth_params *p) {
  free(p->grant_type);
  free(p->scope);
  free(p->client_id);
  free(p->client_secret);
  free(p->username);
  free(p->password);
  free(p->client_id_decoded);
  free(p->client_secret_decoded);
}

static api_response oauth_error(unsigned status, const char *error,
                                const char *description) {
  api_response r = {.status = status,
                    .body = json_pack("{s:s, s:s, s:s}", "error", error,
                                      "error_description", description,
                                      "message", description)};
  return r;
}

/* Decodes application/x-www-form-urlencoded text (n bytes): a NEW string,
 * its length in *out_len. A '%' not followed by two hex digits is kept as
 * it is, and *strict (when not NULL) is cleared. */
static char *oauth_form_decode(const char *src, size_t n, size_t *out_len,
                               bool *strict) {
  char *dst = malloc(n + 1);
  if (dst)
    *out_len = codec_percent_decode(src, n, true, dst, strict);
  return dst;
}

/* The field of p named key, or NULL when the token endpoint ignores it;
 * *name is the parameter's name (static). */
static char **oauth_field(oauth_params *p, const char *key, const char **name) {
  static const struct {
    const char *key;
    size_t offset;
  } fields[] = {
#define OAUTH_FIELD(name) {#name, offsetof(oauth_params, name)}
      OAUTH_FIELD(grant_type),    OAUTH_FIELD(scope),    OAUTH_FIELD(client_id),
      OAUTH_FIELD(client_secret), OAUTH_FIELD(username), OAUTH_FIELD(password),
#undef OAUTH_FIELD
  };
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    if (strcmp(fields[i].key, key) == 0) {
      *name = fields[i].key;
      return (char **)((char *)p + fields[i].offset);
    }
  }
  return NULL;
}

/* Sets a parameter from value (vlen bytes, form-decoded first when
 * `encoded`). A later occurrence replaces an earlier one. */
static void oauth_set(oauth_params *p, const char *key, const char *value,
                      size_t vlen, bool encoded) {
  const char *name = NULL;
  char **dst = oauth_field(p, key, &name);
  if (!dst)
    return;
  size_t len = vlen;
  char *v = encoded ? oauth_form_decode(value, vlen, &len, NULL)
                    : strndup(value, vlen);
  if (!v) {
    p->oom = true;
    return;
  }
  if (strlen(v) != len && !p->bad)
    p->bad = name;
  free(*dst);
  *dst = v;
}

void oauth_parse_form(oauth_params *p, const char *body, size_t len) {
  size_t i = 0;
  while (i < len) {
    size_t end = i;
    while (end < len && body[end] != '&')
      end++;
    const char *eq = memchr(body + i, '=', end - i);
    if (eq) {
      size_t key_len = 0;
      char *key = oauth_form_decode(body + i, (size_t)(eq - (body + i)),
                                    &key_len, NULL);
      if (!key)
        p->oom = true;
      else if (strlen(key) == key_len)
        oauth_set(p, key, eq + 1, (size_t)(body + end - eq - 1), true);
      free(key);
    }
    i = end + 1;
  }
}

/* The form-decoded text of s when decoding changes it and is well formed,
 * else NULL. */
static char *oauth_decoded_variant(const char *s, oauth_params *p) {
  if (!s || (!strchr(s, '%') && !strchr(s, '+')))
    return NULL;
  size_t len = 0;
  bool strict = true;
  char *d = oauth_form_decode(s, strlen(s), &len, &strict);
  if (!d) {
    p->oom = true;
    return NULL;
  }
  if (!strict || strlen(d) != len) {
    free(d);
    return NULL;
  }
  return d;
}

bool oauth_parse_basic(oauth_params *p, const char *authorization) {
  const char *b64 = NULL;
  size_t b64_len = 0;
  if (!auth_credentials(authorization, "Basic", &b64, &b64_len))
    return false;
  size_t len = 0;
  unsigned char *raw = codec_b64_decode_alloc(b64, b64_len, &len);
  if (!raw)
    return false;
  char *colon = memchr(raw, ':', len);
  bool ok = colon != NULL;
  if (ok) {
    size_t id_len = (size_t)((unsigned char *)colon - raw);
    oauth_set(p, "client_id", (const char *)raw, id_len, false);
    oauth_set(p, "client_secret", colon + 1, len - id_len - 1, false);
    /* RFC 6749 §2.3.1: clients form-encode both before Basic encoding;
     * many do not. Both readings are tried, the raw one first. */
    free(p->client_id_decoded);
    free(p->client_secret_decoded);
    p->client_id_decoded = oauth_decoded_variant(p->client_id, p);
    p->client_secret_decoded = oauth_decoded_variant(p->client_secret, p);
  }
  free(raw);
  return ok;
}

/* Every requested scope must be one the API knows. */
static bool oauth_scopes_known(const char *scopes, bool *oom) {
  char *copy = strdup(scopes ? scopes : "");
  if (!copy) {
    *oom = true;
    return false;
  }
  bool all = true;
  char *save = NULL;
  for (char *s = strtok_r(copy, " ", &save); s && all;
       s = strtok_r(NULL, " ", &save)) {
    bool known = false;
    size_t plen = strlen(AUTH_SCOPE_PREFIX);
    if (strncmp(s, AUTH_SCOPE_PREFIX, plen) == 0)
      for (size_t i = 0; i < routes_count && !known; i++)
        known = routes[i].scope && strcmp(routes[i].scope, s + plen) == 0;
    all = known;
  }
  free(copy);
  return all;
}

/* Checks the client's credentials as sent and, failing that, as they read
 * once form-decoded. On success *id is the client id that matched. */
static store_status oauth_client_check(store *db, const oauth_params *p,
                                       const char *secret,
                                       const char *decoded_secret,
                                       store_client *out, const char **id) {
  *id = p->client_id ? p->client_id : "";
  store_status st = store_client_check(db, *id, secret, out);
  if (st != STORE_NONE || (!p->client_id_decoded && !decoded_secret))
    return st;
  *id = p->client_id_decoded ? p->client_id_decoded : *id;
  return store_client_check(db, *id, decoded_secret ? decoded_secret : secret,
                            out);
}

static api_response oauth_grant(api_request *req, oauth_params *p, bool basic) {
  if (p->oom)
    return api_err(ERR_UNAVAILABLE);
  if (p->bad) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s: must not contain a NUL byte", p->bad);
    return oauth_error(400, "invalid_request", msg);
  }
  bool oom = false;
  if (!oauth_scopes_known(p->scope, &oom))
    return oom ? api_err(ERR_UNAVAILABLE)
               : oauth_error(400, "invalid_scope",
                             "scope: unknown scope requested");
  /* A token keeps its scopes in a fixed field: refuse what it cannot hold
   * rather than grant a cut list. */
  if (p->scope && strlen(p->scope) >= sizeof(((store_token_info *)0)->scopes))
    return oauth_error(400, "invalid_scope", "scope: too long");
  const char *grant = p->grant_type ? p->grant_type : "";

  store_client client;
  const char *client_id = NULL;
  char principal[64];
  if (strcmp(grant, "client_credentials") == 0) {
    if (!basic && !p->client_secret)
      return oauth_error(401, "invalid_client",
                         "client authentication failed: send HTTP Basic "
                         "client_id:client_secret");
    store_status st =
        oauth_client_check(req->db, p, p->client_secret ? p->client_secret : "",
                           p->client_secret_decoded, &client, &client_id);
    if (st == STORE_BUSY || st == STORE_ERROR)
      return api_store_err(st);
    if (st != STORE_ONE)
      return oauth_error(401, "invalid_client", "client authentication failed");
    snprintf(principal, sizeof principal, "%s", client.app_client_id);
  } else if (strcmp(grant, "password") == 0) {
    bool has_secret = p->client_secret && p->client_secret[0];
    store_status st = oauth_client_check(
        req->db, p, has_secret ? p->client_secret : NULL,
        has_secret ? p->client_secret_decoded : NULL, &client, &client_id);
    if (st == STORE_BUSY || st == STORE_ERROR)
      return api_store_err(st);
    /* A confidential client must authenticate for every grant (RFC 6749
     * 3.2.1); only public clients may name themselves by id alone. */
    if (st != STORE_ONE || (client.has_secret && !has_secret))
      return oauth_error(401, "invalid_client", "client authentication failed");
    char org_id[64];
    st =
        store_password_check(req->db, p->username ? p->username : "",
                             p->password ? p->password : "", principal, org_id);
    if (st == STORE_BUSY || st == STORE_ERROR)
      return api_store_err(st);
    if (st != STORE_ONE || strcmp(org_id, client.org_id) != 0)
      return oauth_error(400, "invalid_grant",
                         "username or password is incorrect");
  } else if (grant[0] == '\0') {
    return oauth_error(400, "invalid_request", "grant_type: is required");
  } else {
    return oauth_error(400, "unsupported_grant_type",
                       "grant_type: must be client_credentials or password");
  }

  char token[97];
  ids_random_hex(48, token);
  /* Real time, as the client counts expires_in (see clock_real_us). */
  int64_t expires = clock_real_us() + (int64_t)AUTH_TOKEN_LIFETIME_S * 1000000;
  /* The id as it matched, whole (client.client_id is a fixed-size copy). */
  store_status st = store_token_put(req->db, token, client_id, principal,
                                    p->scope ? p->scope : "", expires);
  if (st != STORE_ONE)
    return api_store_err(st == STORE_NONE ? STORE_ERROR : st);
  return api_ok(json_pack("{s:s, s:i, s:s}", "access_token", token,
                          "expires_in", AUTH_TOKEN_LIFETIME_S, "token_type",
                          "Bearer"));
}

LAS_HANDLER(oauth_token) {
  oauth_params p;
  memset(&p, 0, sizeof p);
  for (size_t i = 0; i < req->n_query; i++)
    oauth_set(&p, req->query[i].key, req->query[i].value,
              strlen(req->query[i].value), false);
  oauth_parse_form(&p, req->raw_body, req->raw_body_len);
  bool basic = oauth_parse_basic(&p, req->authorization);
  api_response resp = oauth_grant(req, &p, basic);
  oauth_params_free(&p);
  return resp;
}
