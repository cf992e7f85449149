/* The token endpoint's parsers of client input (src/resources/oauth.c),
 * declared here so the fuzz targets can drive them directly. */
#ifndef LAS_RESOURCES_OAUTH_H
#define LAS_RESOURCES_OAUTH_H

#include <stdbool.h>
#include <stddef.h>

enum { OAUTH_FIELD_MAX = 512 };

/* What a token request says, each field NUL-terminated and truncated to its
 * buffer; empty when not sent. */
typedef struct oauth_params {
  char grant_type[64];
  char scope[1024];
  char client_id[OAUTH_FIELD_MAX];
  char client_secret[OAUTH_FIELD_MAX];
  char username[OAUTH_FIELD_MAX];
  char password[OAUTH_FIELD_MAX];
  bool has_secret;
} oauth_params;

/* Reads the fields of an application/x-www-form-urlencoded body of len
 * bytes into p; unknown keys are ignored, a repeated key wins last. */
void oauth_parse_form(oauth_params *p, const char *body, size_t len);

/* Reads `Authorization: Basic base64(id:secret)` into p; false (p unchanged)
 * when authorization is NULL, another scheme, or not that shape. */
bool oauth_parse_basic(oauth_params *p, const char *authorization);

#endif
