#include "resources/bootstrap.h"

#include "core/clock.h"
#include "core/ids.h"
#include "core/log.h"
#include "resources/app_clients.h"
#include "resources/organizations.h"
#include "resources/users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const config *cfg;
  const bootstrap_ids *same; /* may be NULL */
  bootstrap_info *info;
} bootstrap_ctx;

/* The next id of `kind` is `id` when one is given. */
static void bootstrap_force(const char *kind, const char *id) {
  if (id && ids_valid(kind, id))
    ids_force_next(kind, id);
}

static void bootstrap_copy_meta(store *s, const char *key, char *dst,
                                size_t size) {
  char *v = NULL;
  if (store_meta_get(s, key, &v) == STORE_ONE)
    snprintf(dst, size, "%s", v);
  free(v);
}

/* Adds an app client with the configured credentials to the bootstrap
 * organization, so a new LAS_CLIENT_ID works against an old database. */
static store_status bootstrap_client(api_request *req, const config *cfg,
                                     bootstrap_info *info) {
  const char *cid = cfg->client_id[0] ? cfg->client_id : NULL;
  const char *secret = cfg->client_secret[0] ? cfg->client_secret : NULL;
  const char *key = cfg->api_key[0] ? cfg->api_key : NULL;
  json_t *attrs = json_pack("{s:s, s:s}", "name", "bootstrap", "description",
                            "created at startup by las-emulator");
  json_t *client = NULL;
  store_status st =
      app_clients_make(req, attrs, cid, secret, key, true, &client);
  json_decref(attrs);
  if (st != STORE_ONE)
    return st;
  snprintf(info->client_id, sizeof info->client_id, "%s",
           json_string_value(json_object_get(client, "clientId")));
  snprintf(info->client_secret, sizeof info->client_secret, "%s",
           json_string_value(json_object_get(client, "clientSecret")));
  snprintf(info->api_key, sizeof info->api_key, "%s",
           json_string_value(json_object_get(client, "apiKey")));
  char app_id[IDS_MAX_LEN];
  snprintf(app_id, sizeof app_id, "%s",
           json_string_value(json_object_get(client, "appClientId")));
  snprintf(info->principal.app_client_id, sizeof info->principal.app_client_id,
           "%s", app_id);
  snprintf(info->principal.id, sizeof info->principal.id, "%s", app_id);
  snprintf(info->principal.client_id, sizeof info->principal.client_id, "%s",
           info->client_id);
  json_decref(client);
  if ((st = store_meta_put(req->db, "bootstrap_client_id", info->client_id)) !=
          STORE_ONE ||
      (st = store_meta_put(req->db, "bootstrap_app_client_id", app_id)) !=
          STORE_ONE)
    return st;
  /* The secret is kept so that every start can print it: this is a local
   * emulator, and the credentials are its front door. */
  return store_meta_put(req->db, "bootstrap_client_secret",
                        info->client_secret);
}

static store_status bootstrap_tx(store *s, void *arg) {
  const bootstrap_ctx *ctx = arg;
  bootstrap_info *info = ctx->info;
  api_request req;
  memset(&req, 0, sizeof req);
  req.db = s;
  req.now_us = clock_now_us();
  memset(info, 0, sizeof *info);

  char *org = NULL;
  store_status st = store_meta_get(s, "bootstrap_org_id", &org);
  if (st == STORE_NONE) {
    const bootstrap_ids *same = ctx->same;
    bootstrap_force("organization", same ? same->org_id : NULL);
    st = organizations_create(&req, "Default organization");
    if (st == STORE_ONE)
      st = store_meta_put(s, "bootstrap_org_id", req.principal.org_id);
    json_t *user = NULL;
    json_t *attrs = json_pack("{s:s, s:s}", "email", "admin@example.com",
                              "name", "Administrator");
    bootstrap_force("user", same ? same->user_id : NULL);
    if (st == STORE_ONE)
      st = users_make(&req, attrs, &user);
    json_decref(attrs);
    json_decref(user);
    bootstrap_force("app-client", same ? same->app_client_id : NULL);
    if (st == STORE_ONE)
      st = bootstrap_client(&req, ctx->cfg, info);
    ids_force_clear();
  } else if (st == STORE_ONE) {
    snprintf(req.principal.org_id, sizeof req.principal.org_id, "%s", org);
    free(org);
    bootstrap_copy_meta(s, "bootstrap_client_id", info->client_id,
                        sizeof info->client_id);
    bootstrap_copy_meta(s, "bootstrap_client_secret", info->client_secret,
                        sizeof info->client_secret);
    bootstrap_copy_meta(s, "bootstrap_app_client_id",
                        info->principal.app_client_id,
                        sizeof info->principal.app_client_id);
    store_client known;
    const char *wanted = ctx->cfg->client_id[0] ? ctx->cfg->client_id
                                                : info->client_id;
    bool is_boot = strcmp(wanted, info->client_id) == 0;
    st = store_client_check(s, wanted, NULL, &known);
    if (st == STORE_NONE) {
      st = bootstrap_client(&req, ctx->cfg, info);
    } else if (st == STORE_ONE) {
      /* wanted may be info->client_id itself: copying a string onto itself
       * with snprintf is undefined (and in practice empties it). */
      if (wanted != info->client_id)
        snprintf(info->client_id, sizeof info->client_id, "%s", wanted);
      snprintf(info->api_key, sizeof info->api_key, "%s", known.api_key);
      snprintf(info->principal.app_client_id,
               sizeof info->principal.app_client_id, "%s", known.app_client_id);
      snprintf(info->principal.id, sizeof info->principal.id, "%s",
               known.app_client_id);
      snprintf(info->principal.client_id, sizeof info->principal.client_id,
               "%s", wanted);
      const char *cfg_secret = ctx->cfg->client_secret;
      if (cfg_secret[0]) {
        /* The configured secret wins over the stored one, so that what is
         * printed (and what the user's environment holds) works. */
        st = store_client_set_secret(s, wanted, cfg_secret);
        if (st == STORE_ONE && is_boot)
          st = store_meta_put(s, "bootstrap_client_secret", cfg_secret);
        snprintf(info->client_secret, sizeof info->client_secret, "%s",
                 cfg_secret);
      } else if (!is_boot) {
        info->client_secret[0] = '\0'; /* stored hashed only: unknown */
      }
      if (ctx->cfg->api_key[0] && strcmp(ctx->cfg->api_key, known.api_key))
        log_msg(LOG_WARN,
                "bootstrap: --api-key differs from the api key of client %s "
                "in this database; that one is kept (printed below)",
                wanted);
    }
  }
  memcpy(info->principal.org_id, req.principal.org_id,
         sizeof info->principal.org_id);
  return st;
}

bool bootstrap_run(const config *cfg, bootstrap_info *out,
                   char *err, size_t errlen) {
  /* The store reads ids and keys back into fixed fields: longer ones would
   * come back cut (and an x-api-key would then never match). */
  size_t id_max = sizeof(((store_token_info *)0)->client_id) - 1;
  size_t key_max = sizeof(((store_token_info *)0)->api_key) - 1;
  if (strlen(cfg->client_id) > id_max || strlen(cfg->api_key) > key_max) {
    snprintf(err, errlen,
             "bootstrap: --client-id and --api-key may have at most %zu and "
             "%zu characters",
             id_max, key_max);
    return false;
  }
  bootstrap_ctx ctx = {cfg, NULL, out};
  store_status st = store_write_tx(bootstrap_tx, &ctx);
  if (st != STORE_ONE) {
    snprintf(err, errlen,
             st == STORE_NONE ? "bootstrap: the configured client id or api "
                                "key is already used by another app client"
                              : "bootstrap: cannot write the database");
    return false;
  }
  return true;
}

store_status bootstrap_in_tx(store *s, const config *cfg,
                             const bootstrap_ids *same, bootstrap_info *out) {
  bootstrap_ctx ctx = {cfg, same, out};
  return bootstrap_tx(s, &ctx);
}
