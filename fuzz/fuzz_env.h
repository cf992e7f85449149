/* A throw-away emulator for the fuzz targets: schemas compiled, a temporary
 * SQLite database (removed at exit) holding the bootstrap tenant with fixed
 * credentials, a bearer token for it, and the dispatcher configured to check
 * every response against its schema. Failures to set this up abort: a fuzz
 * target has no other way to say so. */
#ifndef LAS_FUZZ_ENV_H
#define LAS_FUZZ_ENV_H

#include "resources/bootstrap.h"
#include "routing/dispatch.h"

#include <stdbool.h>
#include <stddef.h>

/* The bootstrap app client's credentials; corpus entries use them
 * literally (e.g. Basic ZnV6ei1jbGllbnQ6ZnV6ei1zZWNyZXQ= on /oauth2/token). */
#define FUZZ_CLIENT_ID "fuzz-client"
#define FUZZ_CLIENT_SECRET "fuzz-secret"
#define FUZZ_API_KEY "fuzz-api-key"

/* The key page tokens are signed with (hex of 32 bytes). */
#define FUZZ_PAGING_KEY                                                        \
  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

typedef struct fuzz_env {
  bootstrap_info boot;
  char token[128]; /* access token of the bootstrap client, all scopes */
} fuzz_env;

/* Compiles the embedded schemas, once. */
void fuzz_schemas_ready(void);

/* Opens the database (first call) or replaces it with a fresh one (later
 * calls), so a long run does not grow it without bound. */
void fuzz_env_open(fuzz_env *env);

/* dispatch_request() with the given settings; aborts with the request on a
 * response that breaks the API's rules (see fuzz_env.c). */
api_response fuzz_env_call(const dispatch_input *in, bool no_auth);

/* Aborts with a message: the fuzzer reports it as a crash with the input. */
_Noreturn void fuzz_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
