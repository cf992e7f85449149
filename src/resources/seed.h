/* Seed fixtures: a JSON document of objects to create, given with --seed
 * FILE (applied at start), posted to POST /_emulator/seed at run time, and
 * applied again by every POST /_emulator/reset. The format is described in
 * the README ("Seed fixtures"): an object of sections (organizations, users,
 * appClients, secrets, assets, datasets, documents, models, transitions,
 * workflows), each an array of entries.
 *
 * Every entry is the body of the API operation that creates its kind, plus
 * a few fixture fields (a fixed id, organizationId, an app client's
 * credentials, a document's contentFile). It goes through that operation's
 * request schema and handler, so the API's rules apply unchanged. Sections
 * are applied in the fixed order above, entries in file order, so an entry
 * may refer to anything before it. A refused entry fails the whole document
 * with a message naming the entry and the rule ("documents[3].datasetId:
 * dataset las:dataset:… does not exist"). */
#ifndef LAS_RESOURCES_SEED_H
#define LAS_RESOURCES_SEED_H

#include "routing/api.h"
#include "storage/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Parses fixture JSON text as the API parses bodies (a string holding
 * \u0000 is kept, to be refused by name). NULL with "malformed JSON at line
 * L column C: …" in err. */
json_t *seed_parse(const char *text, size_t len, char *err, size_t errlen);

/* Applies fixture document `doc` (borrowed, not changed) on the writer
 * connection s inside the caller's write transaction: nothing is committed
 * or rolled back here, and the caller must roll back unless STORE_ONE.
 * - STORE_ONE: every entry was created; *count (may be NULL) receives how
 *   many, and `created` (may be NULL) an array per section of the objects
 *   as the API answered their creation (an app client's secret included).
 * - STORE_NONE: the document is refused; err names the entry and the rule.
 * - STORE_BUSY / STORE_ERROR: the store failed (err says where).
 * Relative contentFile paths resolve against base_dir (NULL: the working
 * directory). Ids and tokens come from src/core/ids (fixed ids through
 * ids_force_next, on this thread). */
store_status seed_apply(store *s, const json_t *doc, const char *base_dir,
                        size_t *count, json_t *created, char *err,
                        size_t errlen);

/* --seed FILE: reads and parses the file and keeps it (for seed_startup
 * and resets). False with "seed FILE: …" in err. */
bool seed_configure(const char *path, char *err, size_t errlen);
/* Applies the configured file in a write transaction of its own, unless
 * this database has had a file of the same content (SHA-256) applied
 * already (a restart on a kept database): *skipped then. *count receives
 * how many objects were created. True without a configured file. */
bool seed_startup(size_t *count, bool *skipped, char *err, size_t errlen);
/* A control_in_tx_hook (resources/control.h): a reset applies the
 * configured fixtures again; a snapshot restore (restored) does not. */
bool seed_on_reset(store *s, bool restored, char *err, size_t errlen);
/* Releases what seed_configure kept. */
void seed_free(void);

#endif
