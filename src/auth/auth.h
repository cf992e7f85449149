/* Bearer-token checks for API calls. Issuing tokens is the oauth resource
 * (src/resources/oauth.c). */
#ifndef LAS_AUTH_AUTH_H
#define LAS_AUTH_AUTH_H

#include "routing/api.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum { AUTH_OK, AUTH_DENIED, AUTH_STORE_ERROR } auth_result;

#define AUTH_SCOPE_PREFIX "api.lucidtech.ai/"
#define AUTH_TOKEN_LIFETIME_S 3600

/* The identity used for requests without credentials under --no-auth. */
void auth_set_default_principal(const api_principal *principal);

/* Checks `Authorization: Bearer <token>` (unexpired, scope granted; the
 * field read as auth_credentials says) and,
 * when sent, that x-api-key belongs to the token's app client. With no_auth,
 * a request without Authorization runs as the default principal. real_us is
 * clock_real_us(): token lifetimes run on real time, not the moved clock. */
auth_result auth_check(store *s, const char *authorization, const char *api_key,
                       const char *scope, bool no_auth, int64_t real_us,
                       api_principal *out);

/* Finds the credentials in an Authorization field value:
 *   [OWS] scheme 1*(SP / HTAB) credentials [OWS]
 * with the scheme compared case-insensitively (RFC 9110 §11.1, §11.6.2).
 * true with *cred / *len (pointing into header, without the surrounding
 * whitespace) when header uses `scheme` and has non-empty credentials. */
bool auth_credentials(const char *header, const char *scheme, const char **cred,
                      size_t *len);

/* true when the space-separated `granted` list (empty: everything) contains
 * api.lucidtech.ai/<scope>. */
bool auth_scope_granted(const char *granted, const char *scope);

#endif
