#include "http/endpoints.h"

#include <stdio.h>
#include <string.h>

void http_endpoints_make(const char *public_url, bool tls, const char *host,
                         unsigned port, http_endpoints *out) {
  memset(out, 0, sizeof *out);
  if (public_url && *public_url) {
    snprintf(out->base, sizeof out->base, "%s", public_url);
  } else {
    const char *shown = strcmp(host, "0.0.0.0") == 0 ? "127.0.0.1"
                        : strcmp(host, "::") == 0    ? "::1"
                                                     : host;
    bool v6 = strchr(shown, ':') != NULL;
    snprintf(out->base, sizeof out->base, "%s://%s%s%s:%u",
             tls ? "https" : "http", v6 ? "[" : "", shown, v6 ? "]" : "", port);
  }
  out->https = strncmp(out->base, "https://", 8) == 0;
  snprintf(out->api, sizeof out->api, "%s/v1", out->base);
  if (out->https) {
    /* What the SDK puts between https:// and /token. */
    snprintf(out->auth, sizeof out->auth, "%s", out->base + 8);
    snprintf(out->token_url, sizeof out->token_url, "%s/token", out->base);
  } else {
    snprintf(out->auth, sizeof out->auth, "%s/oauth2/token", out->base);
    snprintf(out->token_url, sizeof out->token_url, "%s", out->auth);
  }
}
