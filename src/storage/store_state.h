/* The whole state at once, for the control API: wiping it (POST
 * /_emulator/reset) and copying it to and from a file with SQLite's online
 * backup API (snapshots). */
#ifndef LAS_STORAGE_STORE_STATE_H
#define LAS_STORAGE_STORE_STATE_H

#include "storage/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Changes whenever a reset or a restore replaces the data: after its
 * commit, before the write lock is released. So a value read before a
 * request authenticated is still current inside its write transaction
 * only if the request authenticated against the data it writes to (else
 * its principal may belong to data that is gone), and whoever reads the
 * new value sees the new data. Caches of data whose ids may come back
 * (deterministic ids make that possible after a reset) compare it too.
 * Starts at 1. */
uint64_t store_state_generation(void);

/* Inside the caller's write transaction: deletes every row of every table
 * but schema_migrations (objects, blobs, credentials, tokens, passwords,
 * jobs, usage, logs' refs, executions, meta). Before that, when
 * keep_client_id is not NULL, its client credentials and every client's
 * tokens are set aside for store_state_put_back. Token caches are dropped
 * after the commit. */
store_status store_state_wipe(store *s, const char *keep_client_id);
/* Puts back the tokens set aside by store_state_wipe whose client exists
 * again (the same client id, app client and organization), and, when
 * with_secret, keep_client_id's secret (salt and hash) instead of whatever
 * it has now. May be called again (after the --seed fixtures made their
 * clients): a token is put back once. */
store_status store_state_put_back(store *s, bool with_secret);
/* The oldest user of org_id (the bootstrap's in its organization): STORE_ONE
 * with its id in out (64 bytes), or STORE_NONE. */
store_status store_state_first_user(store *s, const char *org_id, char *out);

typedef enum {
  STORE_STATE_OK,
  STORE_STATE_BAD_FILE, /* the caller's fault: err names the rule */
  STORE_STATE_FAILED    /* the server's: err says what failed */
} store_state_result;

/* A new empty file named `path.tag-XXXXXX` (out, len bytes), beside path
 * on its file system so that a rename replaces path in one step; false
 * with errno set when it cannot be made (ENAMETOOLONG when out is too
 * short). */
bool store_temp_beside(const char *path, const char *tag, char *out,
                       size_t len);

/* Writes the whole database to `path` (a temporary file beside it, renamed
 * over it when complete), as one backup step from one read snapshot, so the
 * file is consistent while requests are being served. The file is a plain
 * SQLite database (rollback journal, not WAL): one file to copy. *bytes
 * (may be NULL) receives its size. BAD_FILE when path cannot be written. */
store_state_result store_state_export(const char *path, int64_t *bytes,
                                      char *err, size_t errlen);

/* Replaces the live database with the snapshot at `path`: copies it into a
 * temporary database, checks that it is one of ours (an SQLite database
 * with this program's tables and no migration newer than this program's;
 * otherwise BAD_FILE, with `what` naming it in err), applies the pending
 * migrations, runs fixup (may be NULL) in a write transaction on that copy
 * (STORE_NONE from it: BAD_FILE, with its reason in err; other failures:
 * FAILED),
 * then copies it into the live database in one backup step under the write
 * lock: every connection sees the old state or the restored one, never a
 * mixture. The generation changes and token caches are dropped. */
typedef store_status (*store_state_fixup)(store *s, void *arg);
store_state_result store_state_restore(const char *path, const char *what,
                                       store_state_fixup fixup, void *arg,
                                       char *err, size_t errlen);

#endif
