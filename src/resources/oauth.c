/* POST /oauth2/token and /token: OAuth2 token endpoint.
 * - client_credentials: HTTP Basic client id and secret (what the official
 *   SDKs send, with grant_type in the query string and an empty form body);
 * - password: a public client id (Basic with empty secret, or client_id in
 *   the form), username and password of a user made by /signup.
 * Errors follow RFC 6749 §5.2 ({"error": …}) and also carry `message`. */
#include "resources/oauth.h"
#include "resources/resources.h"

#include "auth/auth.h"
#include "core/codec.h"
#include "core/ids.h"
#include "routing/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static api_response oauth_error(unsigned status, const char *error,
                                const char *description) {
  api_response r = {.status = status,
                    .body = json_pack("{s:s, s:s, s:s}", "error", error,
                                      "error_description", description,
                                      "message", description)};
  return r;
}

/* Decodes application/x-www-form-urlencoded text (n bytes) into dst. */
static void oauth_form_decode(const char *src, size_t n, char *dst,
                              size_t size) {
  size_t o = 0;
  for (size_t i = 0; i < n && o + 1 < size; i++) {
    if (src[i] == '+') {
      dst[o++] = ' ';
    } else if (src[i] == '%' && i + 2 < n && codec_hex_value(src[i + 1]) >= 0 &&
               codec_hex_value(src[i + 2]) >= 0) {
      dst[o++] = (char)(codec_hex_value(src[i + 1]) * 16 +
                        codec_hex_value(src[i + 2]));
      i += 2;
    } else {
      dst[o++] = src[i];
    }
  }
  dst[o] = '\0';
}

static void oauth_set(oauth_params *p, const char *key, const char *value,
                      size_t vlen, bool encoded) {
  static const struct {
    const char *key;
    size_t offset;
    size_t size;
  } fields[] = {
#define OAUTH_FIELD(name)                                                      \
  {#name, offsetof(oauth_params, name), sizeof(((oauth_params *)0)->name)}
      OAUTH_FIELD(grant_type),    OAUTH_FIELD(scope),    OAUTH_FIELD(client_id),
      OAUTH_FIELD(client_secret), OAUTH_FIELD(username), OAUTH_FIELD(password),
#undef OAUTH_FIELD
  };
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    if (strcmp(fields[i].key, key) != 0)
      continue;
    char *dst = (char *)p + fields[i].offset;
    if (encoded) {
      oauth_form_decode(value, vlen, dst, fields[i].size);
    } else {
      snprintf(dst, fields[i].size, "%.*s", (int)vlen, value);
    }
    if (strcmp(key, "client_secret") == 0)
      p->has_secret = true;
  }
}

void oauth_parse_form(oauth_params *p, const char *body, size_t len) {
  size_t i = 0;
  while (i < len) {
    size_t end = i;
    while (end < len && body[end] != '&')
      end++;
    const char *eq = memchr(body + i, '=', end - i);
    if (eq) {
      char key[64];
      oauth_form_decode(body + i, (size_t)(eq - body - (ptrdiff_t)i), key,
                        sizeof key);
      oauth_set(p, key, eq + 1, (size_t)(body + end - eq - 1), true);
    }
    i = end + 1;
  }
}

/* Reads `Authorization: Basic base64(id:secret)`. */
bool oauth_parse_basic(oauth_params *p, const char *authorization) {
  if (!authorization || strncasecmp(authorization, "Basic ", 6) != 0)
    return false;
  const char *b64 = authorization + 6;
  while (*b64 == ' ')
    b64++;
  size_t len = 0;
  unsigned char *raw = codec_b64_decode_alloc(b64, strlen(b64), &len);
  if (!raw)
    return false;
  char *colon = memchr(raw, ':', len);
  bool ok = colon != NULL;
  if (ok) {
    size_t id_len = (size_t)((unsigned char *)colon - raw);
    oauth_set(p, "client_id", (const char *)raw, id_len, false);
    oauth_set(p, "client_secret", colon + 1, len - id_len - 1, false);
  }
  free(raw);
  return ok;
}

/* Every requested scope must be one the API knows. */
static bool oauth_scopes_known(const char *scopes) {
  char copy[1024];
  snprintf(copy, sizeof copy, "%s", scopes);
  char *save = NULL;
  for (char *s = strtok_r(copy, " ", &save); s;
       s = strtok_r(NULL, " ", &save)) {
    bool known = false;
    size_t plen = strlen(AUTH_SCOPE_PREFIX);
    if (strncmp(s, AUTH_SCOPE_PREFIX, plen) == 0)
      for (size_t i = 0; i < routes_count && !known; i++)
        known = routes[i].scope && strcmp(routes[i].scope, s + plen) == 0;
    if (!known)
      return false;
  }
  return true;
}

LAS_HANDLER(oauth_token) {
  oauth_params p;
  memset(&p, 0, sizeof p);
  for (size_t i = 0; i < req->n_query; i++)
    oauth_set(&p, req->query[i].key, req->query[i].value,
              strlen(req->query[i].value), false);
  oauth_parse_form(&p, req->raw_body, req->raw_body_len);
  bool basic = oauth_parse_basic(&p, req->authorization);

  if (!oauth_scopes_known(p.scope))
    return oauth_error(400, "invalid_scope", "scope: unknown scope requested");

  store_client client;
  char principal[64];
  if (strcmp(p.grant_type, "client_credentials") == 0) {
    if (!basic && !p.has_secret)
      return oauth_error(401, "invalid_client",
                         "client authentication failed: send HTTP Basic "
                         "client_id:client_secret");
    store_status st =
        store_client_check(req->db, p.client_id, p.client_secret, &client);
    if (st == STORE_BUSY || st == STORE_ERROR)
      return api_store_err(st);
    if (st != STORE_ONE)
      return oauth_error(401, "invalid_client", "client authentication failed");
    snprintf(principal, sizeof principal, "%s", client.app_client_id);
  } else if (strcmp(p.grant_type, "password") == 0) {
    store_status st = store_client_check(
        req->db, p.client_id,
        p.has_secret && p.client_secret[0] ? p.client_secret : NULL, &client);
    if (st == STORE_BUSY || st == STORE_ERROR)
      return api_store_err(st);
    /* A confidential client must authenticate for every grant (RFC 6749
     * 3.2.1); only public clients may name themselves by id alone. */
    if (st != STORE_ONE || (client.has_secret && !p.client_secret[0]))
      return oauth_error(401, "invalid_client", "client authentication failed");
    char org_id[64];
    st = store_password_check(req->db, p.username, p.password, principal,
                              org_id);
    if (st == STORE_BUSY || st == STORE_ERROR)
      return api_store_err(st);
    if (st != STORE_ONE || strcmp(org_id, client.org_id) != 0)
      return oauth_error(400, "invalid_grant",
                         "username or password is incorrect");
  } else if (p.grant_type[0] == '\0') {
    return oauth_error(400, "invalid_request", "grant_type: is required");
  } else {
    return oauth_error(400, "unsupported_grant_type",
                       "grant_type: must be client_credentials or password");
  }

  char token[97];
  ids_random_hex(48, token);
  int64_t expires = req->now_us + (int64_t)AUTH_TOKEN_LIFETIME_S * 1000000;
  store_status st = store_token_put(req->db, token, client.client_id, principal,
                                    p.scope, expires);
  if (st != STORE_ONE)
    return api_store_err(st == STORE_NONE ? STORE_ERROR : st);
  return api_ok(json_pack("{s:s, s:i, s:s}", "access_token", token,
                          "expires_in", AUTH_TOKEN_LIFETIME_S, "token_type",
                          "Bearer"));
}
