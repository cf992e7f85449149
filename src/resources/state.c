#include "resources/state.h"

#include "auth/auth.h"
#include "core/ids.h"
#include "core/log.h"
#include "engine/engine.h"
#include "engine/runner.h"
#include "resources/control.h"
#include "resources/paging.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* One reset or restore at a time; guards the copies below. */
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static config state_cfg;
static bootstrap_info state_boot;

void state_configure(const config *cfg, const bootstrap_info *boot) {
  pthread_mutex_lock(&state_lock);
  state_cfg = *cfg;
  state_boot = *boot;
  pthread_mutex_unlock(&state_lock);
}

void state_bootstrap(bootstrap_info *out) {
  pthread_mutex_lock(&state_lock);
  *out = state_boot;
  pthread_mutex_unlock(&state_lock);
}

typedef struct {
  const config *cfg;
  const bootstrap_info *old;
  bootstrap_info info;
  char *err;
  size_t errlen;
  bool hook_failed; /* a control hook refused: the server's fault */
} state_ctx;

static bool state_same_client(const bootstrap_info *a,
                              const bootstrap_info *b) {
  return a->client_id[0] && strcmp(a->client_id, b->client_id) == 0 &&
         strcmp(a->principal.app_client_id, b->principal.app_client_id) == 0 &&
         strcmp(a->principal.org_id, b->principal.org_id) == 0;
}

static store_status state_reset_tx(store *s, void *arg) {
  state_ctx *ctx = arg;
  const bootstrap_info *old = ctx->old;
  uint64_t seed = 0;
  bool seeded = ids_get_seed(&seed);
  /* Run again from the top when the transaction is retried, so that the
   * sequence is the same either way. */
  if (seeded)
    ids_set_seed(seed);
  bootstrap_ids same;
  memset(&same, 0, sizeof same);
  config cfg = *ctx->cfg;
  bool unknown_secret = false;
  if (!seeded) {
    /* The same bootstrap as before, credentials included. */
    snprintf(same.org_id, sizeof same.org_id, "%s", old->principal.org_id);
    snprintf(same.app_client_id, sizeof same.app_client_id, "%s",
             old->principal.app_client_id);
    if (old->principal.org_id[0] &&
        store_state_first_user(s, old->principal.org_id, same.user_id) ==
            STORE_ERROR)
      return STORE_ERROR;
    if (!cfg.client_id[0])
      snprintf(cfg.client_id, sizeof cfg.client_id, "%s", old->client_id);
    if (!cfg.client_secret[0])
      snprintf(cfg.client_secret, sizeof cfg.client_secret, "%s",
               old->client_secret);
    if (!cfg.api_key[0])
      snprintf(cfg.api_key, sizeof cfg.api_key, "%s", old->api_key);
    unknown_secret = !cfg.client_secret[0] && old->client_id[0];
  }
  /* With a seed the sequence repeats what it made since the last start
   * over, tokens included: kept tokens would collide with the ones it
   * makes again (a client logging in again gets the same token back). */
  store_status st =
      store_state_wipe(s, !seeded && old->client_id[0] ? old->client_id : NULL);
  if (st != STORE_ONE)
    return st;
  /* A new paging key: positions of the old data mean nothing now, and its
   * nextTokens are refused instead of skipping into the new data. */
  if (!paging_init(s, ctx->err, ctx->errlen))
    return STORE_ERROR;
  st = bootstrap_in_tx(s, &cfg, seeded ? NULL : &same, &ctx->info);
  if (st == STORE_NONE)
    snprintf(ctx->err, ctx->errlen,
             "the configured client id or api key is used by another app "
             "client");
  if (st != STORE_ONE)
    return st;
  if (!seeded && state_same_client(&ctx->info, old)) {
    st = store_state_put_back(s, unknown_secret);
    if (st == STORE_ONE && unknown_secret) {
      /* The secret was stored hashed only: it stays as it was, unknown. */
      ctx->info.client_secret[0] = '\0';
      st = store_meta_put(s, "bootstrap_client_secret", "");
    }
    if (st != STORE_ONE)
      return st;
  }
  if (!control_run_in_tx_hooks(s, false, ctx->err, ctx->errlen)) {
    ctx->hook_failed = true;
    return STORE_NONE;
  }
  /* The fixtures' clients exist again now: their tokens too. */
  if (!seeded && old->client_id[0])
    st = store_state_put_back(s, false);
  return st;
}

/* What follows a replaced state in memory. */
static void state_after(const bootstrap_info *boot, bool restored) {
  state_boot = *boot;
  auth_set_default_principal(&boot->principal);
  /* Their executions are gone; their ends are ignored (see the tag of
   * transition_docker.c). */
  runner_kill_every();
  control_run_after_hooks(restored);
}

state_result state_reset(bootstrap_info *out, char *err, size_t errlen) {
  err[0] = '\0';
  pthread_mutex_lock(&state_lock);
  bootstrap_info old = state_boot;
  state_ctx ctx = {
      .cfg = &state_cfg, .old = &old, .err = err, .errlen = errlen};
  engine_hold();
  store_status st = store_write_tx(state_reset_tx, &ctx);
  engine_release();
  state_result res = STATE_OK;
  if (st == STORE_ONE) {
    state_after(&ctx.info, false);
    *out = ctx.info;
  } else {
    /* Rolled back: the key paging_init made is gone with it. */
    char ignored[128];
    store *mine = store_thread();
    if (mine)
      paging_init(mine, ignored, sizeof ignored);
    if (!err[0])
      snprintf(err, errlen, "the reset failed (%s); nothing was changed",
               st == STORE_BUSY ? "the database stayed busy"
                                : "the database could not be written");
    res = ctx.hook_failed    ? STATE_CONFLICT
          : st == STORE_NONE ? STATE_BAD_REQUEST
                             : STATE_FAILED;
  }
  pthread_mutex_unlock(&state_lock);
  return res;
}

static store_status state_restore_fixup(store *s, void *arg) {
  state_ctx *ctx = arg;
  /* The snapshot's bootstrap stays; credentials configured now that it
   * does not have are added to it, as a start on an older database does. */
  store_status st = bootstrap_in_tx(s, ctx->cfg, NULL, &ctx->info);
  if (st == STORE_NONE)
    snprintf(ctx->err, ctx->errlen,
             "the configured client id or api key is used by another app "
             "client in the snapshot");
  if (st != STORE_ONE)
    return st;
  /* A hook that fails is the server's fault, not the file's. */
  return control_run_in_tx_hooks(s, true, ctx->err, ctx->errlen) ? STORE_ONE
                                                                 : STORE_ERROR;
}

state_result state_restore(const char *path, const char *what,
                           bootstrap_info *out, char *err, size_t errlen) {
  err[0] = '\0';
  pthread_mutex_lock(&state_lock);
  state_ctx ctx = {
      .cfg = &state_cfg, .old = &state_boot, .err = err, .errlen = errlen};
  engine_hold();
  store_state_result r =
      store_state_restore(path, what, state_restore_fixup, &ctx, err, errlen);
  engine_release();
  state_result res = r == STORE_STATE_OK         ? STATE_OK
                     : r == STORE_STATE_BAD_FILE ? STATE_BAD_REQUEST
                                                 : STATE_FAILED;
  if (res == STATE_OK) {
    char why[128];
    store *mine = store_thread();
    if (!mine || !paging_init(mine, why, sizeof why))
      log_msg(LOG_ERROR, "restore: the paging key: %s",
              mine ? why : "no connection");
    state_after(&ctx.info, true);
    *out = ctx.info;
  }
  pthread_mutex_unlock(&state_lock);
  return res;
}

state_result state_export(const char *path, int64_t *bytes, char *err,
                          size_t errlen) {
  store_state_result r = store_state_export(path, bytes, err, errlen);
  return r == STORE_STATE_OK         ? STATE_OK
         : r == STORE_STATE_BAD_FILE ? STATE_BAD_REQUEST
                                     : STATE_FAILED;
}
