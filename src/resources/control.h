/* What the control API's state operations (POST /_emulator/reset, snapshot
 * restore) ask of the modules that keep configured or in-memory state.
 *
 * A reset or restore runs in one write transaction: it wipes (or replaces)
 * the data, bootstraps the configured credentials again, then calls every
 * `in_tx` hook with the writer connection, so that configured state (the
 * --seed fixtures) is back in the same transaction; a hook that fails rolls
 * the whole operation back. After the commit it calls every `after` hook, for
 * state kept in memory (canned results, caches, running commands). */
#ifndef LAS_RESOURCES_CONTROL_H
#define LAS_RESOURCES_CONTROL_H

#include "storage/store.h"

#include <stdbool.h>
#include <stddef.h>

/* Writes a reason into err and returns false to roll back. `restored` is
 * true for a snapshot restore (the data came from the snapshot, so
 * fixtures must not be applied again), false for a reset. */
typedef bool (*control_in_tx_hook)(store *s, bool restored, char *err,
                                   size_t errlen);
typedef void (*control_after_hook)(bool restored);

/* Registers hooks; call from main before the server starts (no lock: the
 * list is read-only once requests are served). Either may be NULL. False
 * past CONTROL_MAX_HOOKS registrations. */
#define CONTROL_MAX_HOOKS 16
bool control_on_reset(control_in_tx_hook in_tx, control_after_hook after);

/* Called by the reset/restore implementation. */
bool control_run_in_tx_hooks(store *s, bool restored, char *err, size_t errlen);
void control_run_after_hooks(bool restored);

#endif
