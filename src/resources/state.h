/* The emulator's whole state, for the control API and the command line:
 * reset to the bootstrap, snapshots out and in, with what the program keeps
 * in memory about the data brought in line (paging key, token caches, the
 * --no-auth principal, running commands, the engine's sleep, the control
 * hooks of control.h).
 *
 * What a reset keeps: the settings (clock offset, id seed, docker mode,
 * allowances, the admin token) and the bootstrap's credentials. Without an
 * id seed the bootstrap organization, user and app client come back with
 * the same ids, client id, secret and api key, and the tokens issued to
 * that client stay valid (a client that cached one keeps working). With an
 * id seed the sequence restarts at the seed and the bootstrap is made as a
 * fresh start with that seed makes it (same ids and, when generated, the
 * same credentials when the seed was set at start), so a test that resets
 * gets the same ids each time; tokens go too (the sequence would make
 * them again: a client that logs in again gets the same token as after
 * the previous reset). Everything else is deleted. */
#ifndef LAS_RESOURCES_STATE_H
#define LAS_RESOURCES_STATE_H

#include "core/config.h"
#include "resources/bootstrap.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Remembers the settings a reset bootstraps with and the bootstrap as the
 * start made it; call from main before requests are served. */
void state_configure(const config *cfg, const bootstrap_info *boot);
/* The current bootstrap (copied into out). */
void state_bootstrap(bootstrap_info *out);

typedef enum {
  STATE_OK,
  STATE_BAD_REQUEST, /* err names the field and the rule */
  STATE_FAILED       /* err says what failed; nothing changed */
} state_result;

/* POST /_emulator/reset: one write transaction (wipe, bootstrap, in-tx
 * hooks), then the in-memory state and the after hooks. One reset or
 * restore at a time. */
state_result state_reset(bootstrap_info *out, char *err, size_t errlen);
/* Restores the snapshot file at path (`what` names it in messages: the
 * request's field). Hooks are called with restored=true. */
state_result state_restore(const char *path, const char *what,
                           bootstrap_info *out, char *err, size_t errlen);
/* Writes a snapshot to path (*bytes: its size). */
state_result state_export(const char *path, int64_t *bytes, char *err,
                          size_t errlen);

#endif
