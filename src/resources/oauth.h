/* The token endpoint's parsers of client input (src/resources/oauth.c),
 * declared here so that tests and fuzz targets can drive them directly. */
#ifndef LAS_RESOURCES_OAUTH_H
#define LAS_RESOURCES_OAUTH_H

#include <stdbool.h>
#include <stddef.h>

/* What a token request says. Each field is held whole (malloc'ed,
 * NUL-terminated), NULL when not sent; start from all zeros and release
 * with oauth_params_free. */
typedef struct oauth_params {
  char *grant_type;
  char *scope;
  char *client_id;
  char *client_secret;
  char *username;
  char *password;
  /* The Basic credentials once more, form-decoded (RFC 6749 §2.3.1), when
   * that changes them and they are well formed; NULL otherwise. */
  char *client_id_decoded;
  char *client_secret_decoded;
  const char *bad; /* name of a parameter that held a NUL byte (refused) */
  bool oom;
} oauth_params;

void oauth_params_free(oauth_params *p);

/* Reads the fields of an application/x-www-form-urlencoded body of len
 * bytes into p; unknown keys are ignored, a repeated key wins last. */
void oauth_parse_form(oauth_params *p, const char *body, size_t len);

/* Reads `Authorization: Basic base64(id:secret)` (scheme case-insensitive,
 * whitespace as auth_credentials allows) into p; false when authorization
 * is NULL, another scheme, or not that shape. */
bool oauth_parse_basic(oauth_params *p, const char *authorization);

#endif
